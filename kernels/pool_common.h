/* What pool_forward.cl and pool_backward.cl share. Items take VECTOR
 * channels per load and TILE_W units along w; the host may pass the window
 * and strides as constants. */
#ifndef CLCNN_POOL_COMMON_H
#define CLCNN_POOL_COMMON_H

#include "common.h"
#include "shape_params.h"

/* Every pooling kernel takes the layer's shape as these arguments
 * (CLCNN_POOL_SHAPE in shape_params.h, which the host's list expands too). */
#define POOL_SHAPE_PARAMS CLCNN_POOL_SHAPE(CLCNN_SHAPE_PARAM, CLCNN_COMMA, , )
/* A kernel's shape arguments, passed on to a helper that takes them. */
#define POOL_SHAPE CLCNN_POOL_SHAPE(CLCNN_SHAPE_NAME, CLCNN_COMMA, , )

#ifndef VECTOR
#define VECTOR 4
#endif
#ifndef TILE_W
#define TILE_W 4
#endif
/* Vectors of channels an average pool's tap reads at once (pool_forward.cl);
 * the host passes more only where every item's channels are a multiple of
 * CHANNEL_BLOCK * VECTOR and no vector is a tail. */
#ifndef CHANNEL_BLOCK
#define CHANNEL_BLOCK 1
#endif
/* The host passes POOL_F_H, POOL_F_W, POOL_STRIDE_H and POOL_STRIDE_W
 * together, or none of them. Loops over a window's taps (or over the
 * windows that cover a pixel) then run to the constant most there can be
 * and unroll, a guard inside skipping what does not exist; with sizes
 * known only at run time they run to the count itself, so that a large
 * window with few taps in the image, or few windows over a pixel, costs
 * only those (global pooling would otherwise test a window's worth of
 * guards per pixel). */
#ifdef POOL_F_H
#define WINDOW_H POOL_F_H
#define WINDOW_W POOL_F_W
#define STEP_H POOL_STRIDE_H
#define STEP_W POOL_STRIDE_W
#define UNROLL_WINDOW _Pragma("unroll")
#define LOOP_BOUND(most, count) (most)
#else
#define WINDOW_H f_h
#define WINDOW_W f_w
#define STEP_H stride_h
#define STEP_W stride_w
#define UNROLL_WINDOW
#define LOOP_BOUND(most, count) (count)
#endif
/* POOL_PADDED=0 (the host's choice when every pad is 0): every window lies
 * inside the image, and the clipping below compiles away. */
#ifndef POOL_PADDED
#define POOL_PADDED 1
#endif
#if POOL_PADDED
#define PAD_TOP pad_top
#define PAD_LEFT pad_left
#else
#define PAD_TOP 0
#define PAD_LEFT 0
#endif

/* The in-image taps of one axis of a window whose first tap is at input
 * position `start` (negative in the padding), of f taps, over an axis of
 * n: the first of them and their number. Each pad is less than the window,
 * so at least one tap is in the image. */
int2 in_image(int start, int f, int n)
{
#if POOL_PADDED
    const int first = max(0, -start);
    return (int2)(first, min(f, n - start) - first);
#else
    return (int2)(0, f);
#endif
}

/* What an average over a window with rows x cols taps in the image divides
 * by (the host refuses windows whose taps overflow an int). */
#if POOL_PADDED
#define DIVISOR(rows, cols) ((real)(count_include_pad ? WINDOW_H * WINDOW_W : (rows) * (cols)))
#else
#define DIVISOR(rows, cols) ((real)(WINDOW_H * WINDOW_W))
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
#define STORE(v, p) STORE_OUTPUT(v, p)
#endif

/* The maximum per lane of a window's in-image taps, taps_h.y rows of
 * taps_w.y from win, rows row_pitch apart, taken in row-major order as
 * the reference takes it: the first maximum (strict >, so that ties and -0
 * give the same element and the same bits), except that a NaN beats every
 * value and a later NaN an earlier one, PyTorch's (v > best || isnan(v)):
 * any NaN in a window gives NaN, its last one, and takes the gradient.
 * *where = its position kh * WINDOW_W + kw in the whole window, whose
 * first in-image tap is (taps_h.x, taps_w.x); once inlined, a caller that
 * ignores it pays nothing. f_h and f_w: the window, as WINDOW_H and
 * WINDOW_W read it where the host does not pass it as constants. */
CLCNN_INLINE vreal window_max(const __global real *win, int2 taps_h, int2 taps_w, idx_t row_pitch, int n_C,
                              int f_h, int f_w, vmask *where)
{
    vreal best = LOAD(win);
    *where = (vmask)(taps_h.x * WINDOW_W + taps_w.x);
    UNROLL_WINDOW for (int kh = 0; kh < LOOP_BOUND(WINDOW_H, taps_h.y); kh++)
    {
        /* (0, 0) is already in best. */
        UNROLL_WINDOW for (int kw = kh == 0; kw < LOOP_BOUND(WINDOW_W, taps_w.y); kw++)
        {
            if (kh >= taps_h.y || kw >= taps_w.y)
                continue;
            const vreal v = LOAD(win + kh * row_pitch + kw * n_C);
            /* v != v, not isnan(v): POCL's isnan is integer arithmetic,
             * three instructions per vector where the unordered compare
             * is one. */
            const vmask take = (v > best) | (v != v);
            best = select(best, v, take);
            *where = select(*where, (vmask)((taps_h.x + kh) * WINDOW_W + taps_w.x + kw), take);
        }
    }
    return best;
}

/* First output index whose window (start o*stride - pad, length f) covers
 * input position x, and the last; empty when lo > hi. Clamped before the
 * division because C division truncates toward zero. */
int cover_lo(int x, int pad, int f, int stride)
{
    int t = x + pad - f + 1;
    return t <= 0 ? 0 : (t + stride - 1) / stride;
}
int cover_hi(int x, int pad, int stride, int n_out)
{
    int t = (x + pad) / stride;
    return min(t, n_out - 1);
}

#endif
