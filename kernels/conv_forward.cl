/* Convolution forward as an implicit GEMM: rows are output pixels
 * (m * n_H * n_W), columns are output channels, the reduction runs over
 * (kh, kw, c_prev). Each work-item keeps a register tile of TILE_PIXELS
 * output pixels times a VECTOR of output channels; the weight row
 * W[kh][kw][c][:] is contiguous (NHWC, weights (f_h, f_w, n_C_prev, n_C)),
 * so it streams with one vector load per (kh, kw, c). Padding is implicit:
 * the bounds test is hoisted out of the channel loop as a safe offset and a
 * 0/1 mask per pixel and (kh, kw).
 * Grid: dim 0 = pixel tiles, dim 1 = channel vectors. */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

#ifndef TILE_PIXELS
#define TILE_PIXELS 8
#endif
#ifndef VECTOR
#define VECTOR 16
#endif

typedef VREAL(VECTOR) vreal;
DEFINE_LOAD_PARTIAL(VECTOR)
DEFINE_STORE_PARTIAL(VECTOR)
#define LOAD_FULL(p, n) VLOAD(VECTOR)(0, p)
#define LOAD_TAIL(p, n) CLCNN_CAT(load_partial, VECTOR)(p, n)

/* acc[t] += a[pixel t, c] * W[kh][kw][c][c0 : c0 + VECTOR] over c. */
#define ACCUMULATE(LOAD_W, MASKED)                                                   \
    for (int c = 0; c < n_C_prev; c++) {                                             \
        vreal wv = LOAD_W(wrow + (idx_t)c * n_C, lanes);                             \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {                                      \
            real a = a_prev[off[t] + c];                                             \
            acc[t] += (MASKED ? a * mask[t] : a) * wv;                               \
        }                                                                            \
    }

__kernel void conv_forward(const __global real *a_prev, const __global real *w,
                           const __global real *b, __global real *z, int n_H_prev,
                           int n_W_prev, int n_C_prev, int f_h, int f_w, int n_C, int n_H,
                           int n_W, int stride, int pad, int n_pixels)
{
    const int p0 = get_global_id(0) * TILE_PIXELS;
    const int c0 = get_global_id(1) * VECTOR;
    if (p0 >= n_pixels || c0 >= n_C)
        return;
    const int lanes = min(n_C - c0, VECTOR);

    int ih0[TILE_PIXELS], iw0[TILE_PIXELS];
    idx_t image[TILE_PIXELS];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        /* Pixels past the end repeat the last one and are not stored. */
        int p = min(p0 + t, n_pixels - 1);
        int i = p / (n_H * n_W);
        int r = p - i * (n_H * n_W);
        int h = r / n_W;
        ih0[t] = h * stride - pad;
        iw0[t] = (r - h * n_W) * stride - pad;
        image[t] = (idx_t)i * n_H_prev * n_W_prev;
    }

    vreal acc[TILE_PIXELS];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        acc[t] = (vreal)0;

    for (int kh = 0; kh < f_h; kh++) {
        for (int kw = 0; kw < f_w; kw++) {
            idx_t off[TILE_PIXELS];
            real mask[TILE_PIXELS];
            int n_valid = 0;
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int ih = ih0[t] + kh, iw = iw0[t] + kw;
                int valid = ih >= 0 && ih < n_H_prev && iw >= 0 && iw < n_W_prev;
                off[t] = valid ? (image[t] + (idx_t)ih * n_W_prev + iw) * n_C_prev : 0;
                mask[t] = valid ? (real)1 : (real)0;
                n_valid += valid;
            }
            if (n_valid == 0)
                continue;
            const __global real *wrow = w + (idx_t)(kh * f_w + kw) * n_C_prev * n_C + c0;
            if (lanes == VECTOR) {
                if (n_valid == TILE_PIXELS)
                    ACCUMULATE(LOAD_FULL, 0)
                else
                    ACCUMULATE(LOAD_FULL, 1)
            } else {
                ACCUMULATE(LOAD_TAIL, 1)
            }
        }
    }

    vreal bias = lanes == VECTOR ? LOAD_FULL(b + c0, lanes) : LOAD_TAIL(b + c0, lanes);
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS && p0 + t < n_pixels; t++) {
        __global real *out = z + (idx_t)(p0 + t) * n_C + c0;
        if (lanes == VECTOR)
            VSTORE(VECTOR)(acc[t] + bias, 0, out);
        else
            CLCNN_CAT(store_partial, VECTOR)(acc[t] + bias, out, lanes);
    }
}
