/* Depthwise convolution: groups = n_C_prev, one input channel per group,
 * w (f_h, f_w, 1, n_C) with n_C = n_C_prev * MULTIPLIER, and output
 * channel c reading input channel c / MULTIPLIER. Nothing is reduced over
 * channels: each output is an f_h x f_w stencil over one channel, so the op
 * is memory-bound, like pooling, and vectorised the same way, along the
 * channels (contiguous in NHWC) with realN loads. The GEMM kernels would
 * run it as a reduction of length 1 per tap.
 *
 * Forward and dA: a work-item takes TILE pixels along a row (output pixels;
 * input pixels of one stride residue) for `channels` channels from
 * get_global_id(0) * channels, VECTOR at a time. The host picks `channels`:
 * on CPUs all of them, so that an item reads and writes whole pixels in
 * address order (fewer where that leaves too few items to share among the
 * cores), on GPUs one vector. Where the host passes the window along w as
 * constants (FILTER_W, STRIDE_W, DILATION_W), a tile's taps share their
 * input loads through registers.
 * dA of a layer with stride 1 and one output channel per input channel is
 * depthwise_forward itself, run by the host over dZ with the window turned
 * by 180 degrees (FLIP_WINDOW) and the pads that make the output dA's
 * size; depthwise_backward_data takes every other layer.
 * dW: a work-item takes KH_BLOCK kernel rows x all FILTER_W (= f_w) taps
 * for VECTOR channels over a chunk of output rows, so that each dZ load
 * feeds every tap it has; the chunks' partial sums are then added in chunk
 * order by depthwise_filter_sum_chunks. Deterministic, no atomics.
 * Every kernel takes the shape as CONV_SHAPE_PARAMS (conv_common.h). */
#include "conv_common.h"

#ifndef TILE
#define TILE 4
#endif
#ifndef VECTOR
#define VECTOR 8
#endif
/* Output channels per input channel (n_C / n_C_prev), a constant so that
 * c / MULTIPLIER compiles to a shift or a multiply. */
#ifndef MULTIPLIER
#ifdef CLCNN_COMPILE_ALONE
#define MULTIPLIER 1
#else
#error "MULTIPLIER must be passed with -D"
#endif
#endif
/* f_w as a constant: dW's accumulators, and forward's and dA's window
 * where the host passes STRIDE_W, DILATION_W and FILTER_H with it (a
 * tile's input columns fit in registers). */
#ifndef FILTER_W
#ifdef CLCNN_COMPILE_ALONE
#define FILTER_W 3
#else
#error "FILTER_W must be passed with -D"
#endif
#endif
#if defined(STRIDE_W) && !(defined(FILTER_H) && defined(DILATION_W))
#error "STRIDE_W must be passed with FILTER_H and DILATION_W"
#endif
#ifndef KH_BLOCK
#define KH_BLOCK 3
#endif

DEFINE_VECTOR_HELPERS()

/* The input vector that output channels c .. c + VECTOR - 1 read from the
 * pixel at `pixel`: input channels (c + l) / MULTIPLIER; INPUT_TAIL reads
 * only the first `lanes` and leaves zeros in the rest. With MULTIPLIER 1
 * these are plain vector loads. */
#if MULTIPLIER == 1
#define INPUT_FULL(pixel, c, lanes) LOAD_FULL((pixel) + (c), lanes)
#define INPUT_TAIL(pixel, c, lanes) LOAD_TAIL((pixel) + (c), lanes)
#else
vreal input_lanes(const __global real *pixel, int c, int lanes)
{
    union { vreal v; real s[VECTOR]; } u;
#if VECTOR % MULTIPLIER == 0
    /* c is a multiple of VECTOR, hence of MULTIPLIER: constant offsets. */
    const __global real *first = pixel + c / MULTIPLIER;
    _Pragma("unroll") for (int l = 0; l < VECTOR; l++)
        u.s[l] = l < lanes ? first[l / MULTIPLIER] : (real)0;
#else
    _Pragma("unroll") for (int l = 0; l < VECTOR; l++)
        u.s[l] = l < lanes ? pixel[(c + l) / MULTIPLIER] : (real)0;
#endif
    return u.v;
}
#define INPUT_FULL(pixel, c, lanes) input_lanes(pixel, c, VECTOR)
#define INPUT_TAIL(pixel, c, lanes) input_lanes(pixel, c, lanes)
#endif

/* ---- forward ---- */

/* CHANNELS (n_C, passed by the host for the forward): the pixel pitches
 * as constants, so that a tile's column, tap and output offsets are
 * immediates: as run-time values they take a register each, more than a
 * CPU with 16 vector registers has to spare next to the window's columns,
 * and are reloaded from the stack in the inner loop. */
#ifdef CHANNELS
#define PITCH_OUT CHANNELS
#define PITCH_IN (CHANNELS / MULTIPLIER)
#else
#define PITCH_OUT n_C
#define PITCH_IN n_C_prev
#endif

/* Kernel row kh's weights for the item's channels from c on, and tap kw's
 * offset in that row, in a window of f_h x f_w (as constants where the
 * host passes them). FLIP_WINDOW: the window turned by 180 degrees, tap
 * (kh, kw) reading W[f_h - 1 - kh][f_w - 1 - kw], for dA. */
CLCNN_INLINE const __global real *w_row(const __global real *w, int c, int kh, int f_h, int f_w, int pitch)
{
#ifdef FLIP_WINDOW
    kh = f_h - 1 - kh;
#endif
    return w + (idx_t)kh * f_w * pitch + c;
}
CLCNN_INLINE idx_t w_tap(int kw, int f_w, int pitch)
{
#ifdef FLIP_WINDOW
    kw = f_w - 1 - kw;
#endif
    return (idx_t)kw * pitch;
}

/* A whole vector (full) or the first `lanes` of one, zeros in the rest: of
 * the item's input (input_vector) or of any other tensor (load_vector).
 * `full` is a constant at every call, so each compiles to one load. */
CLCNN_INLINE vreal input_vector(const __global real *pixel, int c, int lanes, int full)
{
    return full ? INPUT_FULL(pixel, c, lanes) : INPUT_TAIL(pixel, c, lanes);
}
CLCNN_INLINE vreal load_vector(const __global real *p, int lanes, int full)
{
    return full ? LOAD_FULL(p, lanes) : LOAD_TAIL(p, lanes);
}

/* Which input columns of a tile's window a tap may read, a constant at
 * every call: all of them (NO_MASK), those in_row[] says are inside the
 * input row (RUN_TIME_MASK), or, where the host passes the row along w
 * (OUT_W, IN_W, PAD_W), those of the row's first or last tile, known at
 * compile time (FIRST_TILE_MASK, LAST_TILE_MASK), with no test left in
 * their loops. Those two are the only tiles the padding and the row's end
 * reach in most layers. */
#define NO_MASK 0
#define RUN_TIME_MASK 1
#define FIRST_TILE_MASK 2
#define LAST_TILE_MASK 3
#ifdef OUT_W
#define LAST_W0 ((OUT_W - 1) / TILE * TILE)
#define COLUMN_IN_ROW(w0, j) ((w0) * STRIDE_W - PAD_W + (j) >= 0 && (w0) * STRIDE_W - PAD_W + (j) < IN_W)
#endif

/* A tile's window, as the functions below take it: its first input row
 * row0 (kernel row 0's, as a row index of a_prev, image i's row ih0, which
 * may lie in the padding) and column iw0, the kernel rows [kh_lo, kh_hi)
 * inside the input, and the tile's n_pix pixels. */

/* acc[t] += input(pixel t, tap) * W[tap] over the taps of kernel rows
 * [kh_lo, kh_hi), with sizes known at run time. masked: also test each
 * pixel's column, and skip the term (not add a term times 0, so that an
 * Inf in W cannot turn padding into NaN) where it falls in the padding or
 * past the row's last pixel. */
CLCNN_INLINE void forward_taps(vreal acc[TILE], const __global real *a_prev, idx_t row0, int iw0, int kh_lo, int kh_hi,
                               int n_pix, const __global real *w, int c, int lanes, int full, int masked,
                               CONV_SHAPE_PARAMS)
{
    for (int kh = kh_lo; kh < kh_hi; kh++) {
        const __global real *a_row = a_prev + (row0 + kh * dilation_h) * n_W_prev * PITCH_IN;
        const __global real *wk = w_row(w, c, kh, f_h, f_w, PITCH_OUT);
        for (int kw = 0; kw < f_w; kw++) {
            const vreal wv = load_vector(wk + w_tap(kw, f_w, PITCH_OUT), lanes, full);
            _Pragma("unroll") for (int t = 0; t < TILE; t++) {
                const int iw = iw0 + t * stride_w + kw * dilation_w;
                if (!masked || (t < n_pix && iw >= 0 && iw < n_W_prev))
                    acc[t] += input_vector(a_row + (idx_t)iw * PITCH_IN, c, lanes, full) * wv;
            }
        }
    }
}

#ifdef STRIDE_W
/* The host passed the window's size, its stride and dilation along w as
 * constants: the taps of one kernel row over the tile then read COLUMNS
 * input columns, known at compile time, each loaded once and kept in a
 * register for every tap that reads it (10 loads for the 3 x 8 taps of a
 * 3-wide window at stride 1). A tap on a column that `mask` rules out is
 * skipped, as above.
 * The kernel rows unroll too, each under a test of whether it lies in the
 * input: a loop from kh_lo to kh_hi walked each column's load through
 * three rows, and the loads of the channel loop, one per register, then
 * no longer advanced by a constant step, which the hardware prefetchers
 * of CPUs follow. A row's columns are immediate offsets from its first
 * one: as one pointer each, held across the channel loop, they left the
 * registers and were reloaded from the stack for every load. */
#define COLUMNS ((TILE - 1) * STRIDE_W + (FILTER_W - 1) * DILATION_W + 1)

/* Whether column j of the tile's window is read, for a constant mask. */
CLCNN_INLINE int column_read(int mask, int j, const int in_row[COLUMNS])
{
#ifdef OUT_W
    if (mask == FIRST_TILE_MASK)
        return COLUMN_IN_ROW(0, j);
    if (mask == LAST_TILE_MASK)
        return COLUMN_IN_ROW(LAST_W0, j);
#endif
    return mask == NO_MASK || in_row[j];
}

CLCNN_INLINE void forward_window(vreal acc[TILE], const __global real *a_prev, idx_t row0, int iw0, int kh_lo,
                                 int kh_hi, const __global real *w, int c, int lanes, int full, int mask,
                                 const int in_row[COLUMNS], CONV_SHAPE_PARAMS)
{
    _Pragma("unroll") for (int kh = 0; kh < FILTER_H; kh++) {
        if (kh < kh_lo || kh >= kh_hi)
            continue;
        const __global real *a_col =
            a_prev + ((row0 + kh * dilation_h) * n_W_prev + iw0) * PITCH_IN;
        const __global real *wk = w_row(w, c, kh, FILTER_H, FILTER_W, PITCH_OUT);
        vreal column[COLUMNS];
        _Pragma("unroll") for (int j = 0; j < COLUMNS; j++)
            column[j] = column_read(mask, j, in_row) ? input_vector(a_col + j * PITCH_IN, c, lanes, full)
                                                     : (vreal)0;
        _Pragma("unroll") for (int kw = 0; kw < FILTER_W; kw++) {
            const vreal wv = load_vector(wk + w_tap(kw, FILTER_W, PITCH_OUT), lanes, full);
            _Pragma("unroll") for (int t = 0; t < TILE; t++) {
                const int j = t * STRIDE_W + kw * DILATION_W;
                if (column_read(mask, j, in_row))
                    acc[t] += column[j] * wv;
            }
        }
    }
}
#endif

/* One tile for the item's channels [c_begin, c_end), VECTOR at a time:
 * acc = the window's sum (`mask` as in column_read; channel tails always
 * test at run time), then the epilogue, and the first `pixels` of the tile
 * stored at out. Without the window's constants a mask only says whether
 * to test. */
CLCNN_INLINE void forward_tile(const __global real *a_prev, idx_t row0, int iw0, int kh_lo, int kh_hi, int n_pix,
                               const __global real *w, const __global real *b, __global real *out, int c_begin,
                               int c_end, int mask, int pixels, const int *in_row, CONV_SHAPE_PARAMS)
{
    for (int c = c_begin; c < c_end; c += VECTOR) {
        const int lanes = min(VECTOR, c_end - c);
        const int full = lanes == VECTOR;
        VECTOR_TILE_ZERO(acc, TILE);
#ifdef STRIDE_W
        if (full)
            forward_window(acc, a_prev, row0, iw0, kh_lo, kh_hi, w, c, lanes, 1, mask, in_row, CONV_SHAPE);
        else
            forward_window(acc, a_prev, row0, iw0, kh_lo, kh_hi, w, c, lanes, 0, RUN_TIME_MASK, in_row,
                           CONV_SHAPE);
#else
        if (full)
            forward_taps(acc, a_prev, row0, iw0, kh_lo, kh_hi, n_pix, w, c, lanes, 1, mask != NO_MASK,
                         CONV_SHAPE);
        else
            forward_taps(acc, a_prev, row0, iw0, kh_lo, kh_hi, n_pix, w, c, lanes, 0, 1, CONV_SHAPE);
#endif
        DECLARE_BIAS(bias, b + c, lanes);
        /* A guard, not a break, so that the loop unrolls and acc[] stays in
         * registers. */
        _Pragma("unroll") for (int t = 0; t < TILE; t++) {
            if (t < pixels) {
                vreal v = acc[t];
                EPILOGUE(v, bias);
                if (full)
                    STORE_OUTPUT(v, out + (idx_t)t * PITCH_OUT + c);
                else
                    STORE_TAIL(v, out + (idx_t)t * PITCH_OUT + c, lanes);
            }
        }
    }
}

/* z = act(conv(a_prev, w) + b). Grid: dim 0 = channel groups, dim 1 =
 * tiles along the output row, dim 2 = output rows (m * n_H). */
__kernel void depthwise_forward(const __global real *a_prev, const __global real *w,
                                const __global real *b, __global real *z, CONV_SHAPE_PARAMS,
                                int channels)
{
    const int c_begin = (int)get_global_id(0) * channels;
    const int w0 = (int)get_global_id(1) * TILE;
    const int row = (int)get_global_id(2);
    if (c_begin >= n_C || w0 >= n_W || row >= m * n_H)
        return;
    const int i = row / n_H, h = row - i * n_H;
    const int c_end = min(n_C, c_begin + channels);
    const int n_pix = min(TILE, n_W - w0);
    /* Kernel rows whose input row is inside the image; a window may lie
     * wholly in the padding (pad >= the window), and then there are none. */
    const int ih0 = h * stride_h - pad_top;
    const int kh_lo = ih0 >= 0 ? 0 : (dilation_h - 1 - ih0) / dilation_h;
    const int below = n_H_prev - 1 - ih0;
    const int kh_hi = below < 0 ? 0 : min(f_h, below / dilation_h + 1);
    const idx_t row0 = (idx_t)i * n_H_prev + ih0;
    /* Every tap of every pixel of the tile inside the row: no tests. */
    const int iw0 = w0 * stride_w - pad_left;
    const int inside = n_pix == TILE && iw0 >= 0 &&
                       iw0 + (TILE - 1) * stride_w + (f_w - 1) * dilation_w < n_W_prev;
    __global real *out = z + ((idx_t)row * n_W + w0) * PITCH_OUT;
#ifdef STRIDE_W
    int in_row[COLUMNS];
    _Pragma("unroll") for (int j = 0; j < COLUMNS; j++)
        in_row[j] = iw0 + j >= 0 && iw0 + j < n_W_prev;
#else
    const int *in_row = 0;
#endif
    /* One call per mask, each with constants, so that each compiles to its
     * own unrolled tile. */
#ifdef OUT_W
    if (w0 == 0)
        forward_tile(a_prev, row0, iw0, kh_lo, kh_hi, n_pix, w, b, out, c_begin, c_end,
                     FIRST_TILE_MASK, min(TILE, OUT_W), in_row, CONV_SHAPE);
    else if (w0 == LAST_W0)
        forward_tile(a_prev, row0, iw0, kh_lo, kh_hi, n_pix, w, b, out, c_begin, c_end,
                     LAST_TILE_MASK, OUT_W - LAST_W0, in_row, CONV_SHAPE);
    else
#endif
    if (inside)
        forward_tile(a_prev, row0, iw0, kh_lo, kh_hi, n_pix, w, b, out, c_begin, c_end,
                     NO_MASK, TILE, in_row, CONV_SHAPE);
    else
        forward_tile(a_prev, row0, iw0, kh_lo, kh_hi, n_pix, w, b, out, c_begin, c_end,
                     RUN_TIME_MASK, n_pix, in_row, CONV_SHAPE);
}

/* ---- backward data (dA) ----
 * An item's VECTOR input channels c .. c + VECTOR - 1 own the MULTIPLIER *
 * VECTOR output channels from c * MULTIPLIER on, contiguous in dZ and in
 * W. It accumulates in that layout, MULTIPLIER full vectors per pixel
 * loaded as they lie, and adds each input channel's MULTIPLIER lanes
 * together once, at the end (fold_multiplier), rather than gathering
 * strided lanes at every tap. */

/* How many lanes of output vector k exist (the channel tail); LOAD_TAIL
 * reads only those, LOAD_FULL ignores it. */
#define OUT_LANES(k) clamp(lanes * MULTIPLIER - (k) * VECTOR, 0, VECTOR)

/* acc[t][k] += dZ[the output pixel that reaches pixel t through tap
 * (kh, kw)] * W[kh][kw] for output vector k. MASKED: only for the pixels
 * that exist and have such an output pixel (a skipped term, as in the
 * forward). */
#define DATA_TAP(LOAD, MASKED)                                                       \
    _Pragma("unroll") for (int k = 0; k < MULTIPLIER; k++) {                         \
        const vreal wv = LOAD(w_row + (idx_t)kw * n_C + k * VECTOR, OUT_LANES(k));   \
        _Pragma("unroll") for (int t = 0; t < TILE; t++) {                           \
            const int wo = wo0 + t;                                                  \
            if (!(MASKED) || (t < n_pix && wo >= 0 && wo < n_W))                     \
                acc[t][k] += LOAD(dz_row + (idx_t)wo * n_C + k * VECTOR, OUT_LANES(k)) * wv; \
        }                                                                            \
    }

#if defined(STRIDE_W) && STRIDE_W == 1
/* With stride 1 along w (the host passes the window then), every tap
 * reaches every pixel of the tile, from output column wp + pad_left -
 * kw * DILATION_W: the tile's taps of one kernel row read COLUMNS output
 * columns from wo_first on, each loaded once (a correlation with the
 * flipped window). MASKED: out_col[j] says whether column j exists. */
#define DATA_WINDOW(LOAD, MASKED)                                                    \
    _Pragma("unroll") for (int k = 0; k < MULTIPLIER; k++) {                         \
        vreal column[COLUMNS];                                                       \
        _Pragma("unroll") for (int j = 0; j < COLUMNS; j++)                          \
            column[j] = !(MASKED) || out_col[j]                                      \
                            ? LOAD(dz_row + (idx_t)(wo_first + j) * n_C + k * VECTOR, OUT_LANES(k)) \
                            : (vreal)0;                                              \
        _Pragma("unroll") for (int kw = 0; kw < FILTER_W; kw++) {                    \
            const vreal wv = LOAD(w_row + (idx_t)kw * n_C + k * VECTOR, OUT_LANES(k)); \
            _Pragma("unroll") for (int t = 0; t < TILE; t++) {                       \
                const int j = t + (FILTER_W - 1 - kw) * DILATION_W;                  \
                if (!(MASKED) || out_col[j])                                         \
                    acc[t][k] += column[j] * wv;                                     \
            }                                                                        \
        }                                                                            \
    }
#define DATA_BY_COLUMNS 1
#else
#define DATA_BY_COLUMNS 0
#endif

/* Input channel c + l's gradient: the sum of lanes l * MULTIPLIER + k of
 * its output vectors, k in order. */
#if MULTIPLIER == 1
#define FOLD(acc_t) ((acc_t)[0])
#else
vreal fold_multiplier(const vreal acc_t[MULTIPLIER])
{
    union { vreal v[MULTIPLIER]; real s[MULTIPLIER * VECTOR]; } in;
    union { vreal v; real s[VECTOR]; } out;
    _Pragma("unroll") for (int k = 0; k < MULTIPLIER; k++)
        in.v[k] = acc_t[k];
    _Pragma("unroll") for (int l = 0; l < VECTOR; l++) {
        real sum = in.s[l * MULTIPLIER];
        _Pragma("unroll") for (int k = 1; k < MULTIPLIER; k++)
            sum += in.s[l * MULTIPLIER + k];
        out.s[l] = sum;
    }
    return out.v;
}
#define FOLD(acc_t) fold_multiplier(acc_t)
#endif

/* dA_prev, gathered per input pixel: the pixels of a tile lie in one input
 * row at columns r + stride_w * j for consecutive j, so they share one
 * residue r modulo stride_w and with it the taps kw that reach them
 * (first_tap, conv_common.h); the output columns those taps come from are
 * consecutive, one per pixel. Rows likewise take their residue's taps kh.
 * So no tap is ever tested with %, and pixels that no window covers sum
 * nothing and are written as 0.
 * Grid: dim 0 = channel groups (input channels), dim 1 = (tile, residue),
 * residue fastest so that neighbouring items write neighbouring pixels,
 * dim 2 = input rows (m * n_H_prev). */
__kernel void depthwise_backward_data(const __global real *dz, const __global real *w,
                                      __global real *da_prev, CONV_SHAPE_PARAMS, int channels,
                                      int residues)
{
    const int c_begin = (int)get_global_id(0) * channels;
    const int q = (int)get_global_id(1);
    const int j0 = q / residues * TILE, r = q - q / residues * residues;
    const int row = (int)get_global_id(2);
    const int wp0 = r + stride_w * j0;
    if (c_begin >= n_C_prev || wp0 >= n_W_prev || row >= m * n_H_prev)
        return;
    const int i = row / n_H_prev, hp = row - i * n_H_prev;
    const int c_end = min(n_C_prev, c_begin + channels);
    const int n_pix = min(TILE, (n_W_prev - 1 - wp0) / stride_w + 1);
    int kh_step;
    const int kh_first = first_tap(hp, pad_top, f_h, stride_h, dilation_h, &kh_step);
#if DATA_BY_COLUMNS
    const int wo_first = wp0 + pad_left - (FILTER_W - 1) * DILATION_W;
    const int inside = n_pix == TILE && wo_first >= 0 && wo_first + COLUMNS <= n_W;
    int out_col[COLUMNS];
    _Pragma("unroll") for (int j = 0; j < COLUMNS; j++)
        out_col[j] = wo_first + j >= 0 && wo_first + j < n_W;
#else
    int kw_step;
    const int kw_first = first_tap(r, pad_left, f_w, stride_w, dilation_w, &kw_step);
#endif
    __global real *out = da_prev + ((idx_t)row * n_W_prev + wp0) * n_C_prev;

    for (int c = c_begin; c < c_end; c += VECTOR) {
        const int lanes = min(VECTOR, c_end - c);
        vreal acc[TILE][MULTIPLIER];
        _Pragma("unroll") for (int t = 0; t < TILE; t++)
            _Pragma("unroll") for (int k = 0; k < MULTIPLIER; k++)
                acc[t][k] = (vreal)0;
        for (int kh = kh_first; kh < f_h; kh += kh_step) {
            const int h = (hp + pad_top - kh * dilation_h) / stride_h; /* exact */
            if (h < 0 || h >= n_H)
                continue;
            const __global real *dz_row = dz + ((idx_t)i * n_H + h) * n_W * n_C + (idx_t)c * MULTIPLIER;
            const __global real *w_row = w + (idx_t)kh * f_w * n_C + (idx_t)c * MULTIPLIER;
#if DATA_BY_COLUMNS
            if (lanes < VECTOR)
                DATA_WINDOW(LOAD_TAIL, 1)
            else if (inside)
                DATA_WINDOW(LOAD_FULL, 0)
            else
                DATA_WINDOW(LOAD_FULL, 1)
#else
            for (int kw = kw_first; kw < f_w; kw += kw_step) {
                /* The output column of pixel 0 through tap kw; exact. */
                const int wo0 = (r + pad_left - kw * dilation_w) / stride_w + j0;
                if (lanes < VECTOR)
                    DATA_TAP(LOAD_TAIL, 1)
                else if (n_pix == TILE && wo0 >= 0 && wo0 + TILE <= n_W)
                    DATA_TAP(LOAD_FULL, 0)
                else
                    DATA_TAP(LOAD_FULL, 1)
            }
#endif
        }
        _Pragma("unroll") for (int t = 0; t < TILE; t++) {
            if (t < n_pix) {
                const vreal v = FOLD(acc[t]);
                __global real *pixel = out + (idx_t)t * stride_w * n_C_prev + c;
                if (lanes == VECTOR)
                    STORE_OUTPUT(v, pixel);
                else
                    STORE_TAIL(v, pixel, lanes);
            }
        }
    }
}

/* ---- backward filter (dW) ---- */

/* acc[b][kw] += input(pixel wo's tap (kh0 + b, kw)) * dZ[pixel wo] over the
 * output columns [lo, hi) of the row; rows[b] says whether kernel row
 * kh0 + b exists and lies inside the input for this output row. MASKED:
 * also test each tap's column. */
#define FILTER_COLUMNS(INPUT, LOAD_DZ, MASKED, lo, hi)                               \
    for (int wo = (lo); wo < (hi); wo++) {                                           \
        const vreal g = LOAD_DZ(dz_row + (idx_t)wo * PITCH_OUT, lanes);              \
        const int iw0 = wo * stride_w - pad_left;                                    \
        _Pragma("unroll") for (int b = 0; b < KH_BLOCK; b++) {                       \
            if (!rows[b])                                                            \
                continue;                                                            \
            const __global real *a_col = a_rows[b] + (idx_t)iw0 * PITCH_IN;          \
            _Pragma("unroll") for (int kw = 0; kw < FILTER_W; kw++) {                \
                const int iw = iw0 + kw * FILTER_DILATION_W;                         \
                if (!(MASKED) || (iw >= 0 && iw < n_W_prev))                         \
                    acc[b][kw] +=                                                    \
                        INPUT(a_col + kw * FILTER_DILATION_W * PITCH_IN, c, lanes) * g; \
            }                                                                        \
        }                                                                            \
    }

/* dW's dilation along w, a constant where the host passes it, so that with
 * the pitches (CHANNELS) a pixel's taps are immediate offsets from its
 * first one. */
#ifndef FILTER_DILATION_W
#define FILTER_DILATION_W dilation_w
#endif

/* part[chunk][kh][kw][c] = the chunk's sum over its output pixels of
 * input(pixel's tap (kh, kw), c / MULTIPLIER) * dZ[pixel][c], for the kernel
 * rows kh0 .. kh0 + KH_BLOCK - 1 (those < f_h) and VECTOR output channels.
 * Chunks are chunk_rows whole output rows.
 * Grid: dim 0 = channel vectors, dim 1 = kernel-row blocks, dim 2 = chunks. */
__kernel void depthwise_backward_filter(const __global real *a_prev, const __global real *dz,
                                        __global real *part, CONV_SHAPE_PARAMS, int chunk_rows)
{
    const int c = (int)get_global_id(0) * VECTOR;
    const int kh0 = (int)get_global_id(1) * KH_BLOCK;
    const int chunk = (int)get_global_id(2);
    const int out_rows = m * n_H;
    if (c >= n_C || kh0 >= f_h || chunk * chunk_rows >= out_rows)
        return;
    const int lanes = min(VECTOR, n_C - c);
    const int r_begin = chunk * chunk_rows, r_end = min(r_begin + chunk_rows, out_rows);
    /* Columns [full_lo, full_hi) have every tap inside the input row. */
    const int full_lo = min(n_W, (pad_left + stride_w - 1) / stride_w);
    const int right = n_W_prev - 1 - (f_w - 1) * dilation_w + pad_left;
    const int full_hi = right < 0 ? full_lo : max(full_lo, min(n_W, right / stride_w + 1));

    vreal acc[KH_BLOCK][FILTER_W];
    _Pragma("unroll") for (int b = 0; b < KH_BLOCK; b++)
        _Pragma("unroll") for (int kw = 0; kw < FILTER_W; kw++)
            acc[b][kw] = (vreal)0;
    for (int r = r_begin; r < r_end; r++) {
        const int i = r / n_H, h = r - i * n_H;
        const int ih0 = h * stride_h - pad_top + kh0 * dilation_h;
        int rows[KH_BLOCK];
        const __global real *a_rows[KH_BLOCK];
        _Pragma("unroll") for (int b = 0; b < KH_BLOCK; b++) {
            const int ih = ih0 + b * dilation_h;
            rows[b] = kh0 + b < f_h && ih >= 0 && ih < n_H_prev;
            a_rows[b] = a_prev + ((idx_t)i * n_H_prev + (rows[b] ? ih : 0)) * n_W_prev * n_C_prev;
        }
        const __global real *dz_row = dz + (idx_t)r * n_W * n_C + c;
        if (lanes == VECTOR) {
            FILTER_COLUMNS(INPUT_FULL, LOAD_FULL, 1, 0, full_lo)
            FILTER_COLUMNS(INPUT_FULL, LOAD_FULL, 0, full_lo, full_hi)
            FILTER_COLUMNS(INPUT_FULL, LOAD_FULL, 1, full_hi, n_W)
        } else {
            FILTER_COLUMNS(INPUT_TAIL, LOAD_TAIL, 1, 0, n_W)
        }
    }

    __global real *out = part + ((idx_t)chunk * f_h * f_w + (idx_t)kh0 * f_w) * n_C + c;
    _Pragma("unroll") for (int b = 0; b < KH_BLOCK; b++) {
        if (kh0 + b < f_h) {
            _Pragma("unroll") for (int kw = 0; kw < FILTER_W; kw++) {
                __global real *tap = out + (idx_t)(b * f_w + kw) * n_C;
                if (lanes == VECTOR)
                    STORE_FULL(acc[b][kw], tap, lanes);
                else
                    STORE_TAIL(acc[b][kw], tap, lanes);
            }
        }
    }
}

DEFINE_SUM_CHUNKS(depthwise_filter_sum_chunks)
