/* Pooling backward over f_h x f_w windows with strides and padding,
 * atomic-free: every element of dA_prev is written once, by a gather over
 * the windows that cover it. Average gives each window's dA / divisor to
 * its in-image taps (the divisor is f_h * f_w, or the number of those taps
 * with count_include_pad 0); max gives it to the window's first maximum
 * in row-major order among its in-image taps (its last NaN where it holds
 * one: window_max in pool_common.h), so ties (e.g. whole windows of 0
 * after ReLU) keep the gradient's sum and padding never takes any.
 * Sums run over the covering windows in (h, w) order from +0, the
 * reference's order, so float64 results match it bit for bit.
 *
 * A work-item handles TILE_W neighbouring units along w of one row for
 * `channels` neighbouring channels, VECTOR at a time (NHWC: contiguous, so
 * realN loads are the SIMD). The host picks VECTOR and `channels` as
 * pool_forward.cl explains, and may pass the window and strides as
 * constants (POOL_F_H, ...) so that loops unroll and divisions become
 * shifts.
 *
 * Max with overlapping or padded windows takes two passes: pool_argmax
 * writes each window's first-maximum position (kh * f_w + kw, counted
 * from the window's first tap, padding included) per channel into a
 * workspace, then pool_backward_max gathers, per input pixel, dA of the
 * covering windows whose argmax is that pixel: reading one byte per window
 * and channel instead of rescanning the window. Average needs one pass,
 * pool_backward_average.
 *
 * Windows that neither overlap (f_h <= stride_h, f_w <= stride_w) nor
 * reach into padding cover each input pixel at most once: input block
 * (bh, bw) = rows [bh * stride_h, +stride_h) x columns
 * [bw * stride_w, +stride_w) can only be covered by window (bh, bw).
 * pool_backward_blocks writes whole blocks, so the block's pixels share
 * their one covering window, whose argmax is found once, in registers.
 *
 * Global pooling (one window over the whole padded input) takes
 * pool_backward_global_max or pool_backward_global_average, one pass that
 * writes whole images (at the end of this file). */
#include "pool_common.h"

/* Most windows that cover one input row (or column). */
#define COVER_H ((WINDOW_H + STEP_H - 1) / STEP_H)
#define COVER_W ((WINDOW_W + STEP_W - 1) / STEP_W)
/* Element type of the argmax workspace: uchar holds the positions of
 * windows of up to 256 taps; the host passes int for larger ones. */
#ifndef ARGMAX_TYPE
#ifdef CLCNN_COMPILE_ALONE
#define ARGMAX_TYPE uchar
#else
#error "ARGMAX_TYPE must be passed with -D"
#endif
#endif
typedef CLCNN_CAT(ARGMAX_TYPE, VSUFFIX) vargmax;

#ifdef CHANNEL_TAIL
#define LOAD_ARGMAX(p) CLCNN_CAT(vload, VECTOR)(0, p)
#define STORE_ARGMAX(v, p) CLCNN_CAT(vstore, VECTOR)(v, 0, p)
#else
#define LOAD_ARGMAX(p) (*(const __global vargmax *)(p))
#define STORE_ARGMAX(v, p) (*(__global vargmax *)(p) = (v))
#endif
#define CONVERT_VMASK CLCNN_CAT(convert_, CLCNN_CAT(MASK_BASE, VSUFFIX))
#define CONVERT_VARGMAX CLCNN_CAT(convert_, CLCNN_CAT(ARGMAX_TYPE, VSUFFIX))

/* Item (g, t, r) covers row r, units t * TILE_W onwards (how many of the
 * TILE_W exist is returned, 0 for the padding items of the rounded-up
 * global size) and channels c0 = g * channels onwards, c_end of them,
 * VECTOR at a time. */
int locate(int rows, int n_C, int n_units, int channels, int *c0, int *c_end, int *u0, int *row)
{
    *c0 = (int)get_global_id(0) * channels;
    *u0 = (int)get_global_id(1) * TILE_W;
    *row = (int)get_global_id(2);
    if (*c0 >= n_C || *u0 >= n_units || *row >= rows)
        return 0;
    *c_end = min(channels, n_C - *c0);
    return min(TILE_W, n_units - *u0);
}

/* The windows that cover input position x of an axis: the first, and how
 * many (0 or less when none does). */
int2 covering(int x, int pad, int f, int stride, int n_out)
{
    const int first = cover_lo(x, pad, f, stride);
    return (int2)(first, cover_hi(x, pad, stride, n_out) - first + 1);
}

/* Position kh * f_w + kw of the first maximum of the window whose first tap
 * is input pixel (y0, x0) (negative in the padding) of the image at
 * `image` (its channel offset included), per lane: strict > in row-major
 * order over the in-image taps, like pool_forward_max. */
vmask first_max_position(const __global real *image, int y0, int x0, int n_H_prev, int n_W_prev,
                         int n_C, int f_h, int f_w)
{
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    const int2 taps_h = in_image(y0, WINDOW_H, n_H_prev), taps_w = in_image(x0, WINDOW_W, n_W_prev);
    const __global real *win = image + (y0 + taps_h.x) * row_pitch + (idx_t)(x0 + taps_w.x) * n_C;
    vmask where;
    window_max(win, taps_h, taps_w, row_pitch, n_C, f_h, f_w, &where);
    return where;
}

/* Pass 1 of max with overlapping or padded windows; the units are output
 * pixels and the rows output rows. */
__kernel void pool_argmax(const __global real *a_prev, __global ARGMAX_TYPE *argmax, int rows,
                          POOL_SHAPE_PARAMS)
{
    int c0, c_end, w0, row;
    const int pixels = locate(rows, n_C, n_W, channels, &c0, &c_end, &w0, &row);
    if (pixels == 0)
        return;
    const int i = row / n_H, h = row - i * n_H;
    const __global real *image = a_prev + (idx_t)i * n_H_prev * n_W_prev * n_C + c0;
    __global ARGMAX_TYPE *out = argmax + ((idx_t)row * n_W + w0) * n_C + c0;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        for (int step = 0; step < c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c_end);
            const vmask where = first_max_position(image + c, h * STEP_H - PAD_TOP,
                                                   (w0 + u) * STEP_W - PAD_LEFT, n_H_prev, n_W_prev,
                                                   n_C, f_h, f_w);
            STORE_ARGMAX(CONVERT_VARGMAX(where), out + u * n_C + c);
        }
    }
}

/* What window (h, w), which covers input pixel (y, x), gives to that
 * pixel's gradient at channels c: max (is_max, a constant at each call)
 * gives its dA to the window's first maximum, found in argmax or, with
 * RECOMPUTE_ARGMAX, from a_prev; average gives every in-image tap its
 * share. */
CLCNN_INLINE vreal covering_term(int is_max, const __global real *da, const __global ARGMAX_TYPE *argmax,
                                 const __global real *a_prev, int i, int y, int x, int h, int w, int c,
                                 POOL_SHAPE_PARAMS)
{
    const idx_t at = (((idx_t)i * n_H + h) * n_W + w) * n_C + c;
    const int top = h * STEP_H - PAD_TOP, left = w * STEP_W - PAD_LEFT;
    if (!is_max)
        return LOAD(da + at) /
               DIVISOR(in_image(top, WINDOW_H, n_H_prev).y, in_image(left, WINDOW_W, n_W_prev).y);
#ifdef RECOMPUTE_ARGMAX
    const vmask where = first_max_position(a_prev + (idx_t)i * n_H_prev * n_W_prev * n_C + c, top, left,
                                           n_H_prev, n_W_prev, n_C, f_h, f_w);
#else
    const vmask where = CONVERT_VMASK(LOAD_ARGMAX(argmax + at));
#endif
    const vmask mine = where == (vmask)((y - top) * WINDOW_W + x - left);
    return select((vreal)0, LOAD(da + at), mine);
}

/* Both backward kernels with overlapping or padded windows: dA_prev at
 * each input pixel, the sum of covering_term over the windows that cover
 * it; the units are input pixels and the rows input rows. */
CLCNN_INLINE void backward_covered(int is_max, const __global real *da, const __global ARGMAX_TYPE *argmax,
                                   const __global real *a_prev, __global real *da_prev, int rows,
                                   POOL_SHAPE_PARAMS)
{
    int c0, c_end, x0, row;
    const int pixels = locate(rows, n_C, n_W_prev, channels, &c0, &c_end, &x0, &row);
    if (pixels == 0)
        return;
    const int i = row / n_H_prev, y = row - i * n_H_prev;
    const int2 cover_h = covering(y, PAD_TOP, WINDOW_H, STEP_H, n_H);
    __global real *out = da_prev + ((idx_t)row * n_W_prev + x0) * n_C + c0;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        const int x = x0 + u;
        const int2 cover_w = covering(x, PAD_LEFT, WINDOW_W, STEP_W, n_W);
        for (int step = c0; step < c0 + c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c0 + c_end);
            vreal sum = 0;
            UNROLL_WINDOW for (int j = 0; j < LOOP_BOUND(COVER_H, cover_h.y); j++)
            {
                UNROLL_WINDOW for (int k = 0; k < LOOP_BOUND(COVER_W, cover_w.y); k++)
                {
                    if (j >= cover_h.y || k >= cover_w.y)
                        continue;
                    sum += covering_term(is_max, da, argmax, a_prev, i, y, x, cover_h.x + j, cover_w.x + k, c,
                                         POOL_SHAPE);
                }
            }
            STORE(sum, out + u * n_C + c - c0);
        }
    }
}

/* Pass 2 of max with overlapping or padded windows: input pixel (y, x) is
 * covered by the windows of rows covering(y)
 * and columns covering(x), at most COVER_H x COVER_W of them. Built with
 * RECOMPUTE_ARGMAX there is no pass 1 and `argmax` is not read: each
 * covering window's argmax is found here from a_prev, which costs a window
 * of loads per covering window but saves a launch on tiny tensors. (A
 * runtime switch would cost the common path dearly: both paths inlined at
 * every unrolled window site crowd out its registers.) */
__kernel void pool_backward_max(const __global real *da, const __global ARGMAX_TYPE *argmax,
                                const __global real *a_prev, __global real *da_prev, int rows,
                                POOL_SHAPE_PARAMS)
{
    backward_covered(1, da, argmax, a_prev, da_prev, rows, POOL_SHAPE);
}

/* Average with overlapping or padded windows, covered as in
 * pool_backward_max. */
__kernel void pool_backward_average(const __global real *da, __global real *da_prev, int rows,
                                    POOL_SHAPE_PARAMS)
{
    backward_covered(0, da, 0, da, da_prev, rows, POOL_SHAPE);
}

/* Non-overlapping windows without padding, max or average; the units are
 * stride_h x stride_w blocks and the rows block rows (i, bh), which span
 * input rows bh * stride_h onwards (fewer at the bottom edge). Blocks
 * without a window (the uncovered right and bottom edges) and block pixels
 * outside the window get 0. */
__kernel void pool_backward_blocks(const __global real *da, const __global real *a_prev,
                                   __global real *da_prev, int rows, POOL_SHAPE_PARAMS, int use_max)
{
    const int n_bh = (n_H_prev + STEP_H - 1) / STEP_H, n_bw = (n_W_prev + STEP_W - 1) / STEP_W;
    int c0, c_end, bw0, row;
    const int blocks = locate(rows, n_C, n_bw, channels, &c0, &c_end, &bw0, &row);
    if (blocks == 0)
        return;
    const int i = row / n_bh, bh = row - i * n_bh, y0 = bh * STEP_H;
    const int block_rows = min(STEP_H, n_H_prev - y0);
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    const __global real *image = a_prev + (idx_t)i * n_H_prev * row_pitch;
    const idx_t top = ((idx_t)i * n_H_prev + y0) * row_pitch;
    const real area = (real)(WINDOW_H * WINDOW_W);
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= blocks)
            continue;
        const int bw = bw0 + u;
        const int x0 = bw * STEP_W, block_cols = min(STEP_W, n_W_prev - x0);
        const bool windowed = bh < n_H && bw < n_W;
        for (int step = c0; step < c0 + c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c0 + c_end);
            const idx_t corner = top + (idx_t)x0 * n_C + c;
            vreal share = 0;
            vmask where = -1; /* average: every position of the window */
            if (windowed) {
                share = LOAD(da + (((idx_t)i * n_H + bh) * n_W + bw) * n_C + c);
                if (use_max)
                    where = first_max_position(image + c, y0, x0, n_H_prev, n_W_prev, n_C, f_h, f_w);
                else
                    share = share / area;
            }
            /* + 0 turns a -0 share into the +0 that the reference's 0 + share
             * gives, so results match bit for bit. */
            share += (real)0;
            UNROLL_WINDOW for (int dy = 0; dy < LOOP_BOUND(STEP_H, block_rows); dy++)
            {
                UNROLL_WINDOW for (int dx = 0; dx < LOOP_BOUND(STEP_W, block_cols); dx++)
                {
                    if (dy >= block_rows || dx >= block_cols)
                        continue;
                    vreal v = 0;
                    if (windowed && dy < WINDOW_H && dx < WINDOW_W) {
                        vmask mine = where;
                        if (use_max)
                            mine = where == (vmask)(dy * WINDOW_W + dx);
                        v = select((vreal)0, share, mine);
                    }
                    STORE(v, da_prev + corner + dy * row_pitch + dx * n_C);
                }
            }
        }
    }
}

/* Global pooling (the one window covers the whole padded input, the host's
 * test): every input pixel gets its share of the image's one dA, so an
 * item takes a run of channels of one image and computes their shares
 * once, CHANNEL_BLOCK vectors at a time (a division per vector, not per
 * pixel), then stores them to every pixel of the image in address order:
 * plain vector stores, no guard in the loop. Max gives dA to the first
 * maximum of the window (found once per channel vector, as in
 * pool_backward_blocks) and 0 elsewhere. The rows are the images. */
CLCNN_INLINE void backward_global(int is_max, const __global real *da, const __global real *a_prev,
                                  __global real *da_prev, int rows, POOL_SHAPE_PARAMS)
{
    const int c0 = (int)get_global_id(0) * channels, i = (int)get_global_id(2);
    if (c0 >= n_C || i >= rows)
        return;
    const int c_end = min(channels, n_C - c0);
    const idx_t pixels = (idx_t)n_H_prev * n_W_prev;
    const __global real *image = a_prev + (idx_t)i * pixels * n_C;
    __global real *out = da_prev + (idx_t)i * pixels * n_C;
    for (int step = 0; step < c_end; step += VECTOR * CHANNEL_BLOCK) {
        const int c = c0 + VECTOR_AT(step, c_end);
        vreal share[CHANNEL_BLOCK];
        vmask where[CHANNEL_BLOCK];
        _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++)
        {
            share[v] = LOAD(da + (idx_t)i * n_C + c + v * VECTOR);
            if (is_max)
                where[v] = first_max_position(image + c + v * VECTOR, -PAD_TOP, -PAD_LEFT, n_H_prev, n_W_prev,
                                              n_C, f_h, f_w);
            else
                share[v] = share[v] / DIVISOR(n_H_prev, n_W_prev);
            /* +0: the reference's 0 + share, so a -0 share stores +0. */
            share[v] += (real)0;
        }
        __global real *pixel = out + c;
        for (int y = 0; y < n_H_prev; y++) {
            for (int x = 0; x < n_W_prev; x++, pixel += n_C) {
                const vmask here = (vmask)((y + PAD_TOP) * WINDOW_W + x + PAD_LEFT);
                _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++)
                {
                    const vmask mine = where[v] == here;
                    STORE(is_max ? select((vreal)0, share[v], mine) : share[v], pixel + v * VECTOR);
                }
            }
        }
    }
}

__kernel void pool_backward_global_max(const __global real *da, const __global real *a_prev,
                                       __global real *da_prev, int rows, POOL_SHAPE_PARAMS)
{
    backward_global(1, da, a_prev, da_prev, rows, POOL_SHAPE);
}

__kernel void pool_backward_global_average(const __global real *da, __global real *da_prev, int rows,
                                           POOL_SHAPE_PARAMS)
{
    backward_global(0, da, da, da_prev, rows, POOL_SHAPE);
}
