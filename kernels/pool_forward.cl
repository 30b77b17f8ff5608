/* Pooling forward over f x f windows (no padding), max or average.
 *
 * A work-item computes TILE_W neighbouring output pixels of one output row
 * for `channels` neighbouring channels, VECTOR at a time. NHWC keeps
 * channels contiguous, so each realN load is one contiguous read and the
 * SIMD width comes from the type rather than from the compiler vectorising
 * across work-items. The host picks VECTOR and `channels`: on CPUs all of
 * n_C, so that an item reads whole pixels in address order, which the
 * prefetchers follow far better than items that each take a slice of every
 * pixel, with an overlapping last vector where VECTOR does not divide n_C
 * (CHANNEL_TAIL); on GPUs a VECTOR that divides n_C, for parallelism and
 * coalescing. It may pass the window and stride as constants (POOL_F,
 * POOL_STRIDE) so that the window loops unroll. */
#ifndef CLCNN_COMMON_H
#define CLCNN_POOL 1
#include "common.h"
#endif

/* Item (g, t, r) covers output row r = i * n_H + h, pixels t * TILE_W
 * onwards (how many of the TILE_W exist is returned, 0 for the padding
 * items of the rounded-up global size) and channels g * channels onwards,
 * VECTOR at a time. `out` is the offset of its first element in `a`,
 * `corner` that of its first window in `a_prev`. */
int locate_output(int rows, int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W, int stride,
                  int channels, idx_t *out, idx_t *corner, int *c_end)
{
    const int c = (int)get_global_id(0) * channels, w0 = (int)get_global_id(1) * TILE_W;
    const int row = (int)get_global_id(2);
    if (c >= n_C || w0 >= n_W || row >= rows)
        return 0;
    const int i = row / n_H, h = row - i * n_H;
    *out = ((idx_t)row * n_W + w0) * n_C + c;
    *corner = (((idx_t)i * n_H_prev + h * STEP) * n_W_prev + w0 * STEP) * n_C + c;
    *c_end = min(channels, n_C - c);
    return min(TILE_W, n_W - w0);
}

__kernel void pool_forward_max(const __global real *a_prev, __global real *a, int rows,
                               int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W, int f,
                               int stride, int channels)
{
    idx_t out, corner;
    int c_end;
    const int pixels =
        locate_output(rows, n_H_prev, n_W_prev, n_C, n_H, n_W, stride, channels, &out, &corner, &c_end);
    if (pixels == 0)
        return;
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        for (int step = 0; step < c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c_end);
            const __global real *win = a_prev + corner + (idx_t)u * STEP * n_C + c;
            /* Strict > in row-major order keeps the first maximum, like the
             * reference: the same element, so the same bits for ties and -0. */
            vreal best = LOAD(win);
            UNROLL_WINDOW for (int kh = 0; kh < WINDOW; kh++)
            {
                /* (0, 0) is already in best. */
                UNROLL_WINDOW for (int kw = kh == 0; kw < WINDOW; kw++)
                {
                    const vreal v = LOAD(win + kh * row_pitch + kw * n_C);
                    const vmask greater = v > best;
                    best = select(best, v, greater);
                }
            }
            STORE(best, a + out + u * n_C + c);
        }
    }
}

__kernel void pool_forward_average(const __global real *a_prev, __global real *a, int rows,
                                   int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W, int f,
                                   int stride, int channels)
{
    idx_t out, corner;
    int c_end;
    const int pixels =
        locate_output(rows, n_H_prev, n_W_prev, n_C, n_H, n_W, stride, channels, &out, &corner, &c_end);
    if (pixels == 0)
        return;
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    const real area = (real)(WINDOW * WINDOW);
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        for (int step = 0; step < c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c_end);
            const __global real *win = a_prev + corner + (idx_t)u * STEP * n_C + c;
            /* Row-major sum from 0, then one division: the reference's order. */
            vreal sum = 0;
            UNROLL_WINDOW for (int kh = 0; kh < WINDOW; kh++)
            {
                UNROLL_WINDOW for (int kw = 0; kw < WINDOW; kw++)
                    sum += LOAD(win + kh * row_pitch + kw * n_C);
            }
            STORE(sum / area, a + out + u * n_C + c);
        }
    }
}
