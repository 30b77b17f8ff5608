/* Convolution backward filter (dW) as a GEMM whose reduction runs over the
 * m * n_H * n_W output pixels: dW[kh][kw][cp][c] = sum_p a(p, kh, kw, cp) *
 * dZ[p][c]. The reduction is split into a fixed number of chunks (dim 2);
 * each work-item keeps TILE_ROWS input channels (at one tap) times a VECTOR
 * of output channels and writes its chunk's partial sums; sum_chunks then
 * adds the chunks in order. Deterministic, no atomics.
 * Grid: dim 0 = (tap, row tile), dim 1 = channel vectors, dim 2 = chunks. */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

#ifndef TILE_ROWS
#define TILE_ROWS 8
#endif
#ifndef VECTOR
#define VECTOR 16
#endif

typedef VREAL(VECTOR) vreal;
DEFINE_LOAD_PARTIAL(VECTOR)
DEFINE_STORE_PARTIAL(VECTOR)

#define ACCUMULATE(LOAD_DZ, ROWS)                                                    \
    for (int p = p_begin; p < p_end; p++) {                                          \
        int ih = h * stride - pad + kh, iw = wo * stride - pad + kw;                 \
        if (ih >= 0 && ih < n_H_prev && iw >= 0 && iw < n_W_prev) {                  \
            vreal g = LOAD_DZ;                                                       \
            const __global real *arow =                                              \
                a_prev + ((image + ih) * n_W_prev + iw) * n_C_prev + cp0;            \
            for (int t = 0; t < ROWS; t++)                                           \
                acc[t] += arow[t] * g;                                               \
        }                                                                            \
        if (++wo == n_W) {                                                           \
            wo = 0;                                                                  \
            if (++h == n_H) {                                                        \
                h = 0;                                                               \
                image += n_H_prev;                                                   \
            }                                                                        \
        }                                                                            \
    }

__kernel void conv_backward_filter(const __global real *a_prev, const __global real *dz,
                                   __global real *part, int n_H_prev, int n_W_prev,
                                   int n_C_prev, int f_h, int f_w, int n_C, int n_H, int n_W,
                                   int stride, int pad, int n_pixels, int chunk_size)
{
    const int row_tiles = (n_C_prev + TILE_ROWS - 1) / TILE_ROWS;
    const int tap = get_global_id(0) / row_tiles;
    const int cp0 = (get_global_id(0) - tap * row_tiles) * TILE_ROWS;
    const int c0 = get_global_id(1) * VECTOR;
    const int chunk = get_global_id(2);
    if (tap >= f_h * f_w || c0 >= n_C)
        return;
    const int kh = tap / f_w, kw = tap - kh * f_w;
    const int lanes = min(n_C - c0, VECTOR);
    const int rows = min(n_C_prev - cp0, TILE_ROWS);
    const int p_begin = min(chunk * chunk_size, n_pixels);
    const int p_end = min(p_begin + chunk_size, n_pixels);

    int i = p_begin / (n_H * n_W);
    int rem = p_begin - i * (n_H * n_W);
    int h = rem / n_W, wo = rem - (rem / n_W) * n_W;
    idx_t image = (idx_t)i * n_H_prev;

    vreal acc[TILE_ROWS];
    for (int t = 0; t < TILE_ROWS; t++)
        acc[t] = (vreal)0;
    const __global real *dzp = dz + c0;
    if (lanes == VECTOR && rows == TILE_ROWS)
        ACCUMULATE(VLOAD(VECTOR)(0, dzp + (idx_t)p * n_C), TILE_ROWS)
    else
        ACCUMULATE(CLCNN_CAT(load_partial, VECTOR)(dzp + (idx_t)p * n_C, lanes), rows)

    const idx_t k_rows = (idx_t)f_h * f_w * n_C_prev;
    __global real *out = part + ((idx_t)chunk * k_rows + (idx_t)tap * n_C_prev + cp0) * n_C + c0;
    for (int t = 0; t < rows; t++) {
        if (lanes == VECTOR)
            VSTORE(VECTOR)(acc[t], 0, out + (idx_t)t * n_C);
        else
            CLCNN_CAT(store_partial, VECTOR)(acc[t], out + (idx_t)t * n_C, lanes);
    }
}

DEFINE_SUM_CHUNKS(filter_sum_chunks)
