/* Pooling backward over f x f windows (no padding), atomic-free: every
 * element of dA_prev is written once, by a gather over the windows that
 * cover it. Average gives each window's dA / (f * f) to all its elements;
 * max gives it to the window's first maximum in row-major order, so ties
 * (e.g. whole windows of 0 after ReLU) keep the gradient's sum. Sums run
 * over the covering windows in (h, w) order from +0, the reference's order,
 * so float64 results match it bit for bit.
 *
 * A work-item handles TILE_W neighbouring units along w of one row for
 * `channels` neighbouring channels, VECTOR at a time (NHWC: contiguous, so
 * realN loads are the SIMD). The host picks VECTOR and `channels` as
 * pool_forward.cl explains (all of n_C on CPUs, with an overlapping last
 * vector where VECTOR does not divide n_C; VECTOR on GPUs), and may pass
 * the window and stride as constants (POOL_F, POOL_STRIDE) so that loops
 * unroll and divisions become shifts.
 *
 * Overlapping windows (f > stride) take two passes for max: pool_argmax
 * writes each window's first-maximum position (kh * f + kw) per channel
 * into a workspace, then pool_backward_max gathers, per input pixel, dA of
 * the covering windows whose argmax is that pixel: reading one byte per
 * window and channel instead of rescanning the window. Average needs one
 * pass, pool_backward_average.
 *
 * Windows that do not overlap (f <= stride) cover each input pixel at most
 * once: input block (bh, bw) = rows [bh * stride, +stride) x columns
 * [bw * stride, +stride) can only be covered by window (bh, bw).
 * pool_backward_blocks writes whole blocks, so the block's pixels share
 * their one covering window, whose argmax is found once, in registers. */
#ifndef CLCNN_COMMON_H
#define CLCNN_POOL 1
#include "common.h"
#endif

/* Most windows that cover one input row (or column). */
#define COVER ((WINDOW + STEP - 1) / STEP)
/* Element type of the argmax workspace: uchar holds the positions of
 * windows up to 16 x 16; the host passes int for larger ones. */
#ifndef ARGMAX_TYPE
#define ARGMAX_TYPE uchar
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

/* Position kh * f + kw of the first maximum of the window at `win`, per
 * lane: strict > in row-major order, like pool_forward_max. */
vmask first_max_position(const __global real *win, idx_t row_pitch, int n_C, int f)
{
    vreal best = LOAD(win);
    vmask where = 0;
    UNROLL_WINDOW for (int kh = 0; kh < WINDOW; kh++)
    {
        /* (0, 0) is already in best. */
        UNROLL_WINDOW for (int kw = kh == 0; kw < WINDOW; kw++)
        {
            const vreal v = LOAD(win + kh * row_pitch + kw * n_C);
            const vmask greater = v > best;
            best = select(best, v, greater);
            where = select(where, (vmask)(kh * WINDOW + kw), greater);
        }
    }
    return where;
}

/* Pass 1 of max with overlapping windows; the units are output pixels and
 * the rows output rows. */
__kernel void pool_argmax(const __global real *a_prev, __global ARGMAX_TYPE *argmax, int rows,
                          int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W, int f, int stride,
                          int channels)
{
    int c0, c_end, w0, row;
    const int pixels = locate(rows, n_C, n_W, channels, &c0, &c_end, &w0, &row);
    if (pixels == 0)
        return;
    const int i = row / n_H, h = row - i * n_H;
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    const __global real *corner =
        a_prev + ((idx_t)i * n_H_prev + h * STEP) * row_pitch + (idx_t)w0 * STEP * n_C + c0;
    __global ARGMAX_TYPE *out = argmax + ((idx_t)row * n_W + w0) * n_C + c0;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        for (int step = 0; step < c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c_end);
            const vmask where = first_max_position(corner + (idx_t)u * STEP * n_C + c, row_pitch, n_C, f);
            STORE_ARGMAX(CONVERT_VARGMAX(where), out + u * n_C + c);
        }
    }
}

/* Pass 2 of max with overlapping windows; the units are input pixels and
 * the rows input rows. Input pixel (y, x) is covered by the windows of
 * rows cover_lo(y)..cover_hi(y) and columns cover_lo(x)..cover_hi(x), at
 * most COVER of each. Built with RECOMPUTE_ARGMAX there is no pass 1 and
 * `argmax` is not read: each covering window's argmax is found here from
 * a_prev, which costs f * f loads per window but saves a launch on tiny
 * tensors. (A runtime switch would cost the common path dearly: both
 * paths inlined at every unrolled window site crowd out its registers.) */
__kernel void pool_backward_max(const __global real *da, const __global ARGMAX_TYPE *argmax,
                                const __global real *a_prev, __global real *da_prev,
                                int rows, int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W,
                                int f, int stride, int channels)
{
    int c0, c_end, x0, row;
    const int pixels = locate(rows, n_C, n_W_prev, channels, &c0, &c_end, &x0, &row);
    if (pixels == 0)
        return;
    const int i = row / n_H_prev, y = row - i * n_H_prev;
    const int h_lo = cover_lo(y, 0, WINDOW, STEP), h_hi = cover_hi(y, 0, STEP, n_H);
    const idx_t image = (idx_t)i * n_H * n_W;
    __global real *out = da_prev + ((idx_t)row * n_W_prev + x0) * n_C + c0;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        const int x = x0 + u;
        const int w_lo = cover_lo(x, 0, WINDOW, STEP), w_hi = cover_hi(x, 0, STEP, n_W);
        for (int step = c0; step < c0 + c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c0 + c_end);
            vreal sum = 0;
            UNROLL_WINDOW for (int j = 0; j < COVER; j++)
            {
                const int h = h_lo + j;
                UNROLL_WINDOW for (int k = 0; k < COVER; k++)
                {
                    const int w = w_lo + k;
                    if (h > h_hi || w > w_hi)
                        continue;
                    const idx_t at = (image + (idx_t)h * n_W + w) * n_C + c;
#ifdef RECOMPUTE_ARGMAX
                    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
                    const vmask where = first_max_position(
                        a_prev + ((idx_t)i * n_H_prev + h * STEP) * row_pitch + (idx_t)w * STEP * n_C + c,
                        row_pitch, n_C, f);
#else
                    const vmask where = CONVERT_VMASK(LOAD_ARGMAX(argmax + at));
#endif
                    const vmask mine = where == (vmask)((y - h * STEP) * WINDOW + x - w * STEP);
                    sum += select((vreal)0, LOAD(da + at), mine);
                }
            }
            STORE(sum, out + u * n_C + c - c0);
        }
    }
}

/* Average with overlapping windows; the units are input pixels and the
 * rows input rows, covered as in pool_backward_max. */
__kernel void pool_backward_average(const __global real *da, __global real *da_prev, int rows,
                                    int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W, int f,
                                    int stride, int channels)
{
    int c0, c_end, x0, row;
    const int pixels = locate(rows, n_C, n_W_prev, channels, &c0, &c_end, &x0, &row);
    if (pixels == 0)
        return;
    const int i = row / n_H_prev, y = row - i * n_H_prev;
    const int h_lo = cover_lo(y, 0, WINDOW, STEP), h_hi = cover_hi(y, 0, STEP, n_H);
    const idx_t image = (idx_t)i * n_H * n_W;
    const real area = (real)(WINDOW * WINDOW);
    __global real *out = da_prev + ((idx_t)row * n_W_prev + x0) * n_C + c0;
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= pixels)
            continue;
        const int x = x0 + u;
        const int w_lo = cover_lo(x, 0, WINDOW, STEP), w_hi = cover_hi(x, 0, STEP, n_W);
        for (int step = c0; step < c0 + c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c0 + c_end);
            vreal sum = 0;
            UNROLL_WINDOW for (int j = 0; j < COVER; j++)
            {
                const int h = h_lo + j;
                UNROLL_WINDOW for (int k = 0; k < COVER; k++)
                {
                    const int w = w_lo + k;
                    if (h <= h_hi && w <= w_hi)
                        sum += LOAD(da + (image + (idx_t)h * n_W + w) * n_C + c) / area;
                }
            }
            STORE(sum, out + u * n_C + c - c0);
        }
    }
}

/* Non-overlapping windows (f <= stride), max or average; the units are
 * stride x stride blocks and the rows block rows (i, bh), which span input
 * rows bh * stride onwards (fewer at the bottom edge). Blocks without a
 * window (the uncovered right and bottom edges) and block pixels outside
 * the window get 0. */
__kernel void pool_backward_blocks(const __global real *da, const __global real *a_prev,
                                   __global real *da_prev, int rows, int n_H_prev, int n_W_prev,
                                   int n_C, int n_H, int n_W, int f, int stride, int channels,
                                   int use_max)
{
    const int n_bh = (n_H_prev + STEP - 1) / STEP, n_bw = (n_W_prev + STEP - 1) / STEP;
    int c0, c_end, bw0, row;
    const int blocks = locate(rows, n_C, n_bw, channels, &c0, &c_end, &bw0, &row);
    if (blocks == 0)
        return;
    const int i = row / n_bh, bh = row - i * n_bh, y0 = bh * STEP;
    const int block_rows = min(STEP, n_H_prev - y0);
    const idx_t row_pitch = (idx_t)n_W_prev * n_C;
    const idx_t top = ((idx_t)i * n_H_prev + y0) * row_pitch;
    const real area = (real)(WINDOW * WINDOW);
    _Pragma("unroll") for (int u = 0; u < TILE_W; u++)
    {
        if (u >= blocks)
            continue;
        const int bw = bw0 + u;
        const int x0 = bw * STEP, block_cols = min(STEP, n_W_prev - x0);
        const bool windowed = bh < n_H && bw < n_W;
        for (int step = c0; step < c0 + c_end; step += VECTOR) {
            const int c = VECTOR_AT(step, c0 + c_end);
            const idx_t corner = top + (idx_t)x0 * n_C + c;
            vreal share = 0;
            vmask where = -1; /* average: every position of the window */
            if (windowed) {
                share = LOAD(da + (((idx_t)i * n_H + bh) * n_W + bw) * n_C + c);
                if (use_max)
                    where = first_max_position(a_prev + corner, row_pitch, n_C, f);
                else
                    share = share / area;
            }
            /* + 0 turns a -0 share into the +0 that the reference's 0 + share
             * gives, so results match bit for bit. */
            share += (real)0;
            UNROLL_WINDOW for (int dy = 0; dy < STEP; dy++)
            {
                UNROLL_WINDOW for (int dx = 0; dx < STEP; dx++)
                {
                    if (dy >= block_rows || dx >= block_cols)
                        continue;
                    vreal v = 0;
                    if (windowed && dy < WINDOW && dx < WINDOW) {
                        vmask mine = where;
                        if (use_max)
                            mine = where == (vmask)(dy * WINDOW + dx);
                        v = select((vreal)0, share, mine);
                    }
                    STORE(v, da_prev + corner + dy * row_pitch + dx * n_C);
                }
            }
        }
    }
}
