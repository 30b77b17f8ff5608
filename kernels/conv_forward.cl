/* Convolution forward as an implicit GEMM: rows are output pixels
 * (m * n_H * n_W), columns are output channels, the reduction runs over
 * (kh, kw, c_prev). Each work-item keeps a register tile of TILE_PIXELS
 * output pixels times a VECTOR of output channels; the weight row
 * W[kh][kw][c][:] is contiguous (NHWC, weights (f_h, f_w, n_C_prev, n_C)),
 * so it streams with one vector load per (kh, kw, c). Padding is implicit
 * (out-of-range input reads as zero, never materialised).
 * Grid: dim 0 = (image, output row, tile of the row), dim 1 = channel vectors. */
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

/* acc[t] += a[pixel t, c] * W[kh][kw][c][c0 : c0 + VECTOR] over c, for one
 * (kh, kw) whose validity per pixel is in mask[] (MASKED) or known. */
#define ACCUMULATE_TAP(LOAD_W, MASKED)                                               \
    for (int c = 0; c < n_C_prev; c++) {                                             \
        vreal wv = LOAD_W(wrow + (idx_t)c * n_C, lanes);                             \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {                    \
            real a = a_prev[off[t] + c];                                             \
            acc[t] += (MASKED ? a * mask[t] : a) * wv;                               \
        }                                                                            \
    }

__kernel void conv_forward(const __global real *a_prev, const __global real *w,
                           const __global real *b, __global real *z, int m, int n_H_prev,
                           int n_W_prev, int n_C_prev, int f_h, int f_w, int n_C, int n_H,
                           int n_W, int stride, int pad)
{
    /* A tile is TILE_PIXELS neighbouring output pixels of one output row. */
    const int w_tiles = (n_W + TILE_PIXELS - 1) / TILE_PIXELS;
    int q = get_global_id(0);
    const int w0 = (q % w_tiles) * TILE_PIXELS;
    q /= w_tiles;
    const int h = q % n_H, i = q / n_H;
    const int c0 = get_global_id(1) * VECTOR;
    if (i >= m || c0 >= n_C)
        return;
    const int lanes = min(n_C - c0, VECTOR);
    const int n_pix = min(TILE_PIXELS, n_W - w0);
    const int iw_first = w0 * stride - pad; /* first input column of pixel 0's window */
    const int pix_step = stride * n_C_prev;  /* between neighbouring pixels' windows */
    /* Whether every pixel's window row lies inside the input: then a window
     * row (kw, c) is one contiguous run of f_w * n_C_prev values, and so is
     * the matching block of W, and the reduction needs no bounds tests. */
    const int rows_inside = n_pix == TILE_PIXELS && lanes == VECTOR && iw_first >= 0 &&
                            iw_first + (TILE_PIXELS - 1) * stride + f_w <= n_W_prev;

    vreal acc[TILE_PIXELS];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        acc[t] = (vreal)0;

    for (int kh = 0; kh < f_h; kh++) {
        const int ih = h * stride - pad + kh;
        if (ih < 0 || ih >= n_H_prev)
            continue;
        const idx_t row = ((idx_t)i * n_H_prev + ih) * n_W_prev * n_C_prev;
        const __global real *wk = w + (idx_t)kh * f_w * n_C_prev * n_C + c0;
        if (rows_inside) {
            const __global real *ap = a_prev + row + (idx_t)iw_first * n_C_prev;
            const int run = f_w * n_C_prev;
            for (int j = 0; j < run; j++) {
                vreal wv = VLOAD(VECTOR)(0, wk + (idx_t)j * n_C);
                _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
                    acc[t] += ap[t * pix_step + j] * wv;
            }
            continue;
        }
        /* Edges, partial tiles and the channel tail: tap by tap, with the
         * bounds test hoisted out of the channel loop as a safe offset and a
         * 0/1 mask per pixel. */
        for (int kw = 0; kw < f_w; kw++) {
            idx_t off[TILE_PIXELS];
            real mask[TILE_PIXELS];
            int n_valid = 0;
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int iw = iw_first + t * stride + kw;
                int valid = t < n_pix && iw >= 0 && iw < n_W_prev;
                off[t] = valid ? row + (idx_t)iw * n_C_prev : 0;
                mask[t] = valid ? (real)1 : (real)0;
                n_valid += valid;
            }
            if (n_valid == 0)
                continue;
            const __global real *wrow = wk + (idx_t)kw * n_C_prev * n_C;
            if (lanes == VECTOR)
                ACCUMULATE_TAP(LOAD_FULL, 1)
            else
                ACCUMULATE_TAP(LOAD_TAIL, 1)
        }
    }

    vreal bias = lanes == VECTOR ? LOAD_FULL(b + c0, lanes) : LOAD_TAIL(b + c0, lanes);
    __global real *out = z + (((idx_t)i * n_H + h) * n_W + w0) * n_C + c0;
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        if (t >= n_pix)
            break;
        if (lanes == VECTOR)
            VSTORE(VECTOR)(acc[t] + bias, 0, out + (idx_t)t * n_C);
        else
            CLCNN_CAT(store_partial, VECTOR)(acc[t] + bias, out + (idx_t)t * n_C, lanes);
    }
}
