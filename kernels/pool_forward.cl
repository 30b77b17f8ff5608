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
#include "common.h"
#endif

#ifndef VECTOR
#define VECTOR 4
#endif
#ifndef TILE_W
#define TILE_W 4
#endif
/* The host passes POOL_F and POOL_STRIDE together, or neither. */
#ifdef POOL_F
#define WINDOW POOL_F
#define STEP POOL_STRIDE
#define UNROLL_WINDOW _Pragma("unroll")
#else
#define WINDOW f
#define STEP stride
#define UNROLL_WINDOW
#endif

#if VECTOR == 1
#define VSUFFIX
#else
#define VSUFFIX VECTOR
#endif
typedef VREAL(VECTOR) vreal;
#ifdef CLCNN_FP64
#define MASK_BASE long
#else
#define MASK_BASE int
#endif
/* Integer vector whose lanes match vreal's in size: what comparisons of
 * vreal give and what select() takes. (select(), not the equivalent
 * vector ?:, which Oclgrind runs wrongly on long vectors.) */
typedef CLCNN_CAT(MASK_BASE, VSUFFIX) vmask;

/* CHANNEL_TAIL unset: VECTOR divides n_C, so every vector an item touches
 * starts at an element offset that is a multiple of VECTOR, and buffers
 * are aligned to at least 128 bytes (CL_DEVICE_MEM_BASE_ADDR_ALIGN is at
 * least the size of long16): realN accesses through vector pointers are
 * aligned.
 * CHANNEL_TAIL set (CPUs, where an item owns all n_C channels of its
 * pixels, when VECTOR does not divide n_C): the last vector of a pixel
 * starts at n_C - VECTOR and overlaps the one before it, so that the tail
 * runs at full width instead of every channel taking the scalar path. The
 * lanes are independent, so the overlap is written twice with the same
 * bits, by the same item. Accesses are then unaligned: vloadN / vstoreN. */
#ifdef CHANNEL_TAIL
#define VECTOR_AT(c, end) min(c, (end) - VECTOR)
#define LOAD(p) VLOAD(VECTOR)(0, p)
#define STORE(v, p) VSTORE(VECTOR)(v, 0, p)
#else
#define VECTOR_AT(c, end) (c)
#define LOAD(p) (*(const __global vreal *)(p))
#endif
/* STREAM_STORES (never with CHANNEL_TAIL: non-temporal vector stores must
 * be aligned): the host asks for non-temporal stores when the call moves
 * more data than the cache holds, so that the output would not stay cached
 * anyway; they save reading each output line before overwriting it. */
#if defined(STREAM_STORES) && !defined(CHANNEL_TAIL)
#ifdef __has_builtin
#if __has_builtin(__builtin_nontemporal_store)
#define STORE(v, p) __builtin_nontemporal_store((vreal)(v), (__global vreal *)(p))
#endif
#endif
#endif
#ifndef STORE
#define STORE(v, p) (*(__global vreal *)(p) = (v))
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
