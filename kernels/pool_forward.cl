/* Pooling forward, max or average, over f_h x f_w windows with strides
 * (stride_h, stride_w) and padding. Padding never wins a max and adds
 * nothing to a sum: each window is reduced over its in-image taps only, a
 * rectangle that is the whole window unless the host built this file with
 * POOL_PADDED=1 (pool_common.h).
 *
 * A work-item computes TILE_W neighbouring output pixels of one output row
 * for `channels` neighbouring channels, VECTOR at a time. NHWC keeps
 * channels contiguous, so each realN load is one contiguous read and the
 * SIMD width comes from the type rather than from the compiler vectorising
 * across work-items. The host picks VECTOR and `channels`: on CPUs all of
 * n_C, so that an item reads whole pixels in address order, which the
 * prefetchers follow far better than items that each take a slice of every
 * pixel, with an overlapping last vector where VECTOR does not divide n_C
 * (CHANNEL_TAIL); on GPUs, and on CPUs when the output has one pixel per
 * image (global pooling, where items with all of n_C would be too few to
 * share out), a VECTOR that divides n_C. It may pass the window and
 * strides as constants (POOL_F_H, ...) so that the window loops unroll. */
#include "pool_common.h"

/* Item (g, t, r) covers output row r = i * n_H + h, pixels w0 = t * TILE_W
 * onwards (how many of the TILE_W exist is returned, 0 for the padding
 * items of the rounded-up global size) and channels c0 = g * channels
 * onwards, c_end of them. `out` is the offset of its first element in `a`;
 * `top` that of the first in-image row of its windows in `a_prev` (channel
 * c0 of column 0), and taps_h the in-image rows of its windows. */
int locate_output(int rows, POOL_SHAPE_PARAMS, idx_t *out, idx_t *top, int2 *taps_h, int *w0,
                  int *c_end)
{
    const int c0 = (int)get_global_id(0) * channels;
    *w0 = (int)get_global_id(1) * TILE_W;
    const int row = (int)get_global_id(2);
    if (c0 >= n_C || *w0 >= n_W || row >= rows)
        return 0;
    const int i = row / n_H, h = row - i * n_H;
    const int y0 = h * STEP_H - PAD_TOP;
    *taps_h = in_image(y0, WINDOW_H, n_H_prev);
    *out = ((idx_t)row * n_W + *w0) * n_C + c0;
    *top = ((idx_t)i * n_H_prev + y0 + taps_h->x) * n_W_prev * n_C + c0;
    *c_end = min(channels, n_C - c0);
    return min(TILE_W, n_W - *w0);
}

/* Both forward kernels: each output pixel of the item's tile, the max
 * (is_max, a constant at each call) or the average of its window. */
CLCNN_INLINE void forward_tile(int is_max, const __global real *a_prev, __global real *a, int rows,
                               POOL_SHAPE_PARAMS)
{
    idx_t out, top;
    int2 taps_h;
    int w0, c_end;
    const int pixels = locate_output(rows, POOL_SHAPE, &out, &top, &taps_h, &w0, &c_end);
    if (pixels == 0)
        return;
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        const int x0 = (w0 + u) * STEP_W - PAD_LEFT;
        const int2 taps_w = in_image(x0, WINDOW_W, n_W_prev);
        if (is_max) {
            for (int step = 0; step < c_end; step += VECTOR) {
                const int c = VECTOR_AT(step, c_end);
                const __global real *win = a_prev + top + (idx_t)(x0 + taps_w.x) * n_C + c;
                vmask unused;
                STORE(window_max(win, taps_h, taps_w, row_pitch, n_C, f_h, f_w, &unused), a + out + u * n_C + c);
            }
            continue;
        }
        const real divisor = DIVISOR(taps_h.y, taps_w.y);
        /* CHANNEL_BLOCK vectors at a time (the host's choice for global
         * pooling on CPUs, where an item takes a run of channels): each
         * tap then reads CHANNEL_BLOCK neighbouring vectors of a pixel, a
         * contiguous run, instead of one vector of each of the window's
         * pixels per pass. */
        for (int step = 0; step < c_end; step += VECTOR * CHANNEL_BLOCK) {
            const int c = VECTOR_AT(step, c_end);
            const __global real *win = a_prev + top + (idx_t)(x0 + taps_w.x) * n_C + c;
            /* Each row's own sum, then the rows', then one division (the
             * reference's order, so float64 matches it bit for bit): a long
             * sum of values of one sign (after a ReLU, over a global
             * window) would otherwise grow its rounding error with the
             * window's area rather than its sides. */
            vreal sum[CHANNEL_BLOCK];
            _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++) sum[v] = 0;
            UNROLL_WINDOW for (int kh = 0; kh < LOOP_BOUND(WINDOW_H, taps_h.y); kh++)
            {
                vreal row_sum[CHANNEL_BLOCK];
                _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++) row_sum[v] = 0;
                UNROLL_WINDOW for (int kw = 0; kw < LOOP_BOUND(WINDOW_W, taps_w.y); kw++)
                {
                    if (kh < taps_h.y && kw < taps_w.y)
                        _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++)
                            row_sum[v] += LOAD(win + kh * row_pitch + kw * n_C + v * VECTOR);
                }
                _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++) sum[v] += row_sum[v];
            }
            _Pragma("unroll") for (int v = 0; v < CHANNEL_BLOCK; v++)
                STORE(sum[v] / divisor, a + out + u * n_C + c + v * VECTOR);
        }
    }
}

__kernel void pool_forward_max(const __global real *a_prev, __global real *a, int rows,
                               POOL_SHAPE_PARAMS)
{
    forward_tile(1, a_prev, a, rows, POOL_SHAPE);
}

__kernel void pool_forward_average(const __global real *a_prev, __global real *a, int rows,
                                   POOL_SHAPE_PARAMS)
{
    forward_tile(0, a_prev, a, rows, POOL_SHAPE);
}
