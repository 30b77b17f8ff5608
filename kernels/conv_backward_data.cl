/* Convolution backward data (dA_prev), atomic-free: each work-item owns
 * TILE_PIXELS input pixels times a VECTOR of input channels and gathers
 * over the output windows that cover them.
 *
 * The pixels of a tile lie in one input row at columns r + stride * j for
 * consecutive j, so they share one residue r modulo stride: the taps kw that
 * reach them are the same (kw = (r + pad) mod stride, then every stride-th),
 * and the covering output columns of pixel j+1 are those of pixel j shifted
 * by one. Taps are computed directly, never found by testing every tap.
 * The reduction over output channels streams rows of W transposed to
 * (f_h, f_w, n_C, n_C_prev) (kernel transpose_weights, run per call).
 * Grid: dim 0 = (image, row, residue, tile), dim 1 = channel vectors. */
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

/* wt[kh][kw][c][cp] = w[kh][kw][cp][c] */
__kernel void transpose_weights(const __global real *w, __global real *wt, int taps,
                                int n_C_prev, int n_C)
{
    int cp = get_global_id(0);
    int c = get_global_id(1);
    int tap = get_global_id(2);
    if (cp >= n_C_prev || c >= n_C || tap >= taps)
        return;
    idx_t base = (idx_t)tap * n_C_prev * n_C;
    wt[base + (idx_t)c * n_C_prev + cp] = w[base + (idx_t)cp * n_C + c];
}

#define ACCUMULATE(LOAD_W, MASKED)                                                   \
    for (int c = 0; c < n_C; c++) {                                                  \
        vreal wv = LOAD_W(wrow + (idx_t)c * n_C_prev, lanes);                        \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {                                      \
            real g = dz[off[t] + c];                                                 \
            acc[t] += (MASKED ? g * mask[t] : g) * wv;                               \
        }                                                                            \
    }

__kernel void conv_backward_data(const __global real *dz, const __global real *wt,
                                 __global real *da_prev, int m, int n_H_prev, int n_W_prev,
                                 int n_C_prev, int f_h, int f_w, int n_C, int n_H, int n_W,
                                 int stride, int pad, int residues, int tiles_per_residue)
{
    const int cp0 = get_global_id(1) * VECTOR;
    int q = get_global_id(0);
    const int tile = q % tiles_per_residue;
    q /= tiles_per_residue;
    const int r = q % residues;
    q /= residues;
    const int hp = q % n_H_prev;
    const int i = q / n_H_prev;
    if (i >= m || cp0 >= n_C_prev)
        return;
    const int j0 = tile * TILE_PIXELS;
    const int wp0 = r + stride * j0; /* column of the tile's first pixel */
    if (wp0 >= n_W_prev)
        return;
    const int lanes = min(n_C_prev - cp0, VECTOR);

    vreal acc[TILE_PIXELS];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        acc[t] = (vreal)0;

    const int h_lo = cover_lo(hp, pad, f_h, stride);
    const int h_hi = cover_hi(hp, pad, stride, n_H);
    for (int h = h_lo; h <= h_hi; h++) {
        const int kh = hp + pad - h * stride;
        const idx_t dz_row = ((idx_t)i * n_H + h) * n_W;
        for (int kw = (r + pad) % stride; kw < f_w; kw += stride) {
            /* Output column covering pixel t through tap kw; exact division. */
            const int w_first = (r + pad - kw) / stride + j0;
            idx_t off[TILE_PIXELS];
            real mask[TILE_PIXELS];
            int n_valid = 0;
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int wo = w_first + t;
                int valid = wo >= 0 && wo < n_W;
                off[t] = valid ? (dz_row + wo) * n_C : 0;
                mask[t] = valid ? (real)1 : (real)0;
                n_valid += valid;
            }
            if (n_valid == 0)
                continue;
            const __global real *wrow = wt + (idx_t)(kh * f_w + kw) * n_C * n_C_prev + cp0;
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

    /* Pixels no window covers keep acc = 0 and are written as 0. */
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        int wp = wp0 + stride * t;
        if (wp >= n_W_prev)
            break;
        __global real *out = da_prev + (((idx_t)i * n_H_prev + hp) * n_W_prev + wp) * n_C_prev + cp0;
        if (lanes == VECTOR)
            VSTORE(VECTOR)(acc[t], 0, out);
        else
            CLCNN_CAT(store_partial, VECTOR)(acc[t], out, lanes);
    }
}
