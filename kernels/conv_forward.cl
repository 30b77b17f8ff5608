/* Convolution forward as an implicit GEMM: rows are output pixels
 * (m * n_H * n_W), columns are output channels, the reduction runs over
 * (kh, kw, c_prev) within the output channel's group. Each work-item keeps
 * a register tile of TILE_PIXELS output pixels times a VECTOR of output
 * channels of one group; the weight row W[kh][kw][c][:] is contiguous
 * (NHWC, weights (f_h, f_w, n_C_prev / groups, n_C)), so it streams with
 * one vector load per (kh, kw, c). Padding is implicit (out-of-range input
 * reads as zero, never materialised). The epilogue adds the bias
 * (HAS_BIAS) and applies a ReLU (RELU) before the one store of z.
 * Grid: dim 0 = (image, output row, tile of the row), dim 1 = (group,
 * channel vector of the group). */
#include "conv_common.h"

/* The host builds the local-memory kernels below in programs of their own
 * (-DCLCNN_LOCAL_TILES=1 -DCLCNN_LOCAL_TILES_ONLY=1): nothing else of this
 * file is compiled there, counted against their local memory or warned
 * about in their builds; and they are compiled only there, the other
 * programs never launching them. */
#ifndef CLCNN_LOCAL_TILES_ONLY

#ifndef TILE_PIXELS
#define TILE_PIXELS 8
#endif
#ifndef VECTOR
#define VECTOR 16
#endif
/* 0: the host knows the layer has neither groups nor dilation along w, so
 * the per-tap runs below are not compiled: the code they add slows the
 * one-run path of layers with few input channels. */
#ifndef DILATED_OR_GROUPED
#define DILATED_OR_GROUPED 1
#endif

DEFINE_VECTOR_HELPERS()

/* acc[t] += a[a0 + t * pix_step + j] * W[wk + j * n_C, VECTOR lanes] over
 * the run j in [j_begin, j_end): a window row's (kw, c) pairs that are
 * contiguous in a_prev and in W. */
#define ACCUMULATE_RUN(LOAD_W, a0, wk, j_begin, j_end)                               \
    for (int j = (j_begin); j < (j_end); j++) {                                      \
        vreal wv = LOAD_W((wk) + (idx_t)j * n_C, lanes);                             \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            acc[t] += a_prev[(a0) + t * pix_step + j] * wv;                          \
    }
/* The same for one tap kw, for the pixels whose tap is inside the input
 * (valid[]): a skipped term, not a term times 0, so that an Inf in W cannot
 * turn padding into NaN. */
#define ACCUMULATE_TAP(LOAD_W)                                                       \
    for (int c = 0; c < in_group; c++) {                                             \
        vreal wv = LOAD_W(wrow + (idx_t)c * n_C, lanes);                             \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            if (valid[t])                                                            \
                acc[t] += a_prev[off[t] + c] * wv;                                   \
    }

/* A tile is TILE_PIXELS neighbouring output pixels of one output row. The
 * last tile of a row, when partial, moves left to end at the row's end and
 * computes a whole tile, storing only the pixels it owns (from `owned` on):
 * the pixels it recomputes get the same sums in the same order from the
 * tile before, and a whole tile runs the bounds-free path, where a partial
 * one would take the masked path for every tap.
 * Taps kw in [kw_lo, kw_hi] are inside the input for every pixel of a full
 * tile: over them a window row is bounds-free. Without dilation or groups,
 * their (kw, c) pairs are one contiguous run of a_prev and of W; otherwise
 * each tap is a run of its group's channels. The few taps outside (at the
 * image's left and right edges) and partial tiles (the end of a row) take
 * the masked path. */
__kernel void conv_forward(const __global real *a_prev, const __global real *w,
                           const __global real *b, __global real *z, CONV_SHAPE_PARAMS)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int w_tiles = (n_W + TILE_PIXELS - 1) / TILE_PIXELS;
    int q = get_global_id(0);
    int w0 = (q % w_tiles) * TILE_PIXELS;
    q /= w_tiles;
    const int h = q % n_H, i = q / n_H;
    const int group_vectors = (out_group + VECTOR - 1) / VECTOR;
    const int g = get_global_id(1) / group_vectors;
    const int c_in_group = (get_global_id(1) - g * group_vectors) * VECTOR;
    if (i >= m || g >= groups)
        return;
    const int c0 = g * out_group + c_in_group;
    const int lanes = min(out_group - c_in_group, VECTOR);
    const int owned = n_W >= TILE_PIXELS ? max(0, w0 + TILE_PIXELS - n_W) : 0;
    w0 -= owned;
    const int n_pix = min(TILE_PIXELS, n_W - w0);
    const int iw_first = w0 * stride_w - pad_left; /* pixel 0's window, tap 0 */
    const int pix_step = stride_w * n_C_prev;       /* between neighbouring pixels' windows */
    const int right = n_W_prev - 1 - (iw_first + (TILE_PIXELS - 1) * stride_w);
    const int kw_lo = n_pix < TILE_PIXELS ? f_w : iw_first >= 0 ? 0 : (dilation_w - 1 - iw_first) / dilation_w;
    const int kw_hi = right < 0 ? -1 : min(f_w - 1, right / dilation_w);

    VECTOR_TILE_ZERO(acc, TILE_PIXELS);

    for (int kh = 0; kh < f_h; kh++) {
        const int ih = h * stride_h - pad_top + kh * dilation_h;
        if (ih < 0 || ih >= n_H_prev)
            continue;
        const idx_t row = ((idx_t)i * n_H_prev + ih) * n_W_prev * n_C_prev + (idx_t)g * in_group;
        const __global real *wk = w + (idx_t)kh * f_w * in_group * n_C + c0;
#if DILATED_OR_GROUPED
        if (kw_lo <= kw_hi && dilation_w == 1 && groups == 1) {
#else
        if (kw_lo <= kw_hi) {
#endif
            const idx_t a0 = row + (idx_t)iw_first * n_C_prev; /* + j >= 0 */
            if (lanes == VECTOR)
                ACCUMULATE_RUN(LOAD_FULL, a0, wk, kw_lo * n_C_prev, (kw_hi + 1) * n_C_prev)
            else
                ACCUMULATE_RUN(LOAD_TAIL, a0, wk, kw_lo * n_C_prev, (kw_hi + 1) * n_C_prev)
        }
#if DILATED_OR_GROUPED
        else {
            for (int kw = kw_lo; kw <= kw_hi; kw++) {
                const idx_t a0 = row + (idx_t)(iw_first + kw * dilation_w) * n_C_prev;
                const __global real *wt = wk + (idx_t)kw * in_group * n_C;
                if (lanes == VECTOR)
                    ACCUMULATE_RUN(LOAD_FULL, a0, wt, 0, in_group)
                else
                    ACCUMULATE_RUN(LOAD_TAIL, a0, wt, 0, in_group)
            }
        }
#endif
        for (int kw = 0; kw < f_w; kw++) {
            if (kw == kw_lo && kw_lo <= kw_hi)
                kw = kw_hi + 1; /* done above */
            if (kw >= f_w)
                break;
            idx_t off[TILE_PIXELS];
            int valid[TILE_PIXELS];
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int iw = iw_first + t * stride_w + kw * dilation_w;
                valid[t] = t < n_pix && iw >= 0 && iw < n_W_prev;
                off[t] = valid[t] ? row + (idx_t)iw * n_C_prev : 0;
            }
            const __global real *wrow = wk + (idx_t)kw * in_group * n_C;
            if (lanes == VECTOR)
                ACCUMULATE_TAP(LOAD_FULL)
            else
                ACCUMULATE_TAP(LOAD_TAIL)
        }
    }

    DECLARE_BIAS(bias, b + c0, lanes);
    __global real *out = z + (((idx_t)i * n_H + h) * n_W + w0) * n_C + c0;
    /* A guard, not a break: a loop with an early exit is not unrolled, and
     * then acc[] is indexed at run time and lives in memory, not registers. */
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        if (t >= owned && t < n_pix) {
            vreal v = acc[t];
            EPILOGUE(v, bias);
            if (lanes == VECTOR)
                STORE_FULL(v, out + (idx_t)t * n_C, lanes);
            else
                STORE_TAIL(v, out + (idx_t)t * n_C, lanes);
        }
    }
}

#endif /* CLCNN_LOCAL_TILES_ONLY */

#ifdef CLCNN_LOCAL_TILES
#include "local_gemm.h"
/* ---- GPU variant: work-group tiles staged in local memory ----
 * The same implicit GEMM, blocked the way GPU GEMMs are (CLBlast's xgemm;
 * the blocking is local_gemm.h's): blocks of GROUP_M pixels x GROUP_N
 * channels of one group of z, A the gathered input (zero where the window
 * leaves the padded image), B the weights. Every value is a sum over
 * k = (kh, kw, c_prev) in increasing order whatever the blocking, so
 * every tiling the host picks gives the same bits. The host decides the blocking (-D), checks that the device can
 * run it, and passes the tiles as __local arguments of TILE_K rows of
 * A_STRIDE and B_STRIDE reals: local memory is then counted for this
 * kernel alone, and only at the size this blocking needs.
 * Grid: dim 0 = channel blocks x THREADS_N, dim 1 = pixel blocks x
 * THREADS_M, dim 2 = groups. */
/* Odd, so that the K-major stores of the A tile (consecutive items,
 * consecutive k) fall into different banks. */
#ifndef A_STRIDE
#define A_STRIDE (GROUP_M + 1)
#endif
/* Each item loads A_LOADS rows of A at one k per K step. */
#define A_ROWS_PER_PASS (THREADS / TILE_K)
#define A_LOADS (GROUP_M / A_ROWS_PER_PASS)
#if THREADS % TILE_K || GROUP_M % A_ROWS_PER_PASS
#error "conv_forward_local: this blocking does not divide into whole loads per work-item"
#endif

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1))) void
conv_forward_local(const __global real *a_prev, const __global real *w, const __global real *b,
                   __global real *z, CONV_SHAPE_PARAMS, __local real *a_tile, __local real *w_tile)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * THREADS_N + tx;
    const int n0 = get_group_id(0) * GROUP_N, m0 = get_group_id(1) * GROUP_M, g = get_group_id(2);
    const int n_pixels = m * n_H * n_W, K = f_h * f_w * in_group;

    /* A: TILE_K consecutive items read consecutive k of one pixel, which
     * are consecutive channels (contiguous in NHWC) while they stay in one
     * tap. An item's pixels are fixed, its k advances by TILE_K per step. */
    const int a_k = tid % TILE_K, a_row0 = tid / TILE_K;
    int a_ih0[A_LOADS], a_iw0[A_LOADS], a_valid[A_LOADS];
    idx_t a_image[A_LOADS];
    _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
        const int p = m0 + a_row0 + j * A_ROWS_PER_PASS;
        a_valid[j] = p < n_pixels;
        const int q = a_valid[j] ? p : 0;
        const int i = q / (n_H * n_W), r = q - i * (n_H * n_W), h = r / n_W;
        a_image[j] = (idx_t)i * n_H_prev;
        a_ih0[j] = h * stride_h - pad_top;
        a_iw0[j] = (r - h * n_W) * stride_w - pad_left;
    }
    int cp = a_k % in_group, tap = a_k / in_group;
    int kh = tap / f_w, kw = tap - kh * f_w;
    const idx_t a_channel0 = (idx_t)g * in_group;
    /* B: consecutive items read consecutive channels of a row of W. */
    const int b_n = tid % GROUP_N, b_k0 = tid / GROUP_N;
    const int b_valid = n0 + b_n < out_group;
    const __global real *w_col = w + (idx_t)g * out_group + n0 + b_n;

    MICRO_TILE_ZERO(acc);

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
            const int ih = a_ih0[j] + kh * dilation_h, iw = a_iw0[j] + kw * dilation_w;
            const int inside = a_valid[j] && kh < f_h && ih >= 0 && ih < n_H_prev && iw >= 0 && iw < n_W_prev;
            a_tile[a_k * A_STRIDE + a_row0 + j * A_ROWS_PER_PASS] =
                inside ? a_prev[((a_image[j] + ih) * n_W_prev + iw) * n_C_prev + a_channel0 + cp] : (real)0;
        }
        stage_b(w_tile, w_col, n_C, k0, K, b_valid, b_n, b_k0);
        ADVANCE_K(cp, kw, kh, in_group, f_w);
        multiply_staged(acc, a_tile, A_STRIDE, w_tile, tx, ty);
    }

    /* Guards, not breaks: loops with an early exit are not unrolled, and
     * acc would then be indexed at run time, in memory. */
    _Pragma("unroll") for (int r = 0; r < MICRO_M; r++) {
        const int p = m0 + ty + r * THREADS_M;
        _Pragma("unroll") for (int c = 0; c < MICRO_N; c++) {
            const int n = n0 + tx + c * THREADS_N;
            if (p < n_pixels && n < out_group) {
                const int channel = g * out_group + n;
                real v = acc[r][c];
#ifdef HAS_BIAS
                v += b[channel];
#endif
#ifdef RELU
                v = v < (real)0 ? (real)0 : v;
#endif
                z[(idx_t)p * n_C + channel] = v;
            }
        }
    }
}

#endif /* CLCNN_LOCAL_TILES */
