/* Convolution backward filter (dW) as a GEMM whose reduction runs over the
 * m * n_H * n_W output pixels: dW[kh][kw][cp][c] = sum_p a(p, kh, kw, cp) *
 * dZ[p][c]. The reduction is split into a fixed number of chunks of output
 * rows (dim 2);
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

DEFINE_VECTOR_HELPERS()

/* acc[t] += a[pixel, cp0 + t] * dZ[pixel, c0 : c0 + VECTOR] along one output
 * row, over the columns whose tap lands inside the input (a range computed
 * once per row, so the inner loop has no bounds test). */
#define ACCUMULATE_ROW(LOAD_DZ, ROWS)                                                \
    for (int wo = wo_lo; wo <= wo_hi; wo++) {                                        \
        vreal g = LOAD_DZ(gp, lanes);                                                       \
        _Pragma("unroll") for (int t = 0; t < ROWS; t++) acc[t] += ap[t] * g;        \
        ap += a_step;                                                                \
        gp += n_C;                                                                   \
    }

__kernel void conv_backward_filter(const __global real *a_prev, const __global real *dz,
                                   __global real *part, int m, int n_H_prev, int n_W_prev,
                                   int n_C_prev, int f_h, int f_w, int n_C, int n_H, int n_W,
                                   int stride, int pad, int chunk_rows)
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
    const int out_rows = m * n_H;
    const int r_begin = min(chunk * chunk_rows, out_rows);
    const int r_end = min(r_begin + chunk_rows, out_rows);
    /* Output columns wo with 0 <= wo * stride - pad + kw < n_W_prev. */
    const int wo_lo = kw >= pad ? 0 : (pad - kw + stride - 1) / stride;
    const int right = n_W_prev - 1 + pad - kw;
    const int wo_hi = right < 0 ? -1 : min(n_W - 1, right / stride);
    const int a_step = stride * n_C_prev;

    vreal acc[TILE_ROWS];
    _Pragma("unroll") for (int t = 0; t < TILE_ROWS; t++)
        acc[t] = (vreal)0;
    for (int r = r_begin; r < r_end; r++) {
        const int i = r / n_H, h = r - i * n_H;
        const int ih = h * stride - pad + kh;
        if (ih < 0 || ih >= n_H_prev || wo_lo > wo_hi)
            continue;
        const __global real *ap =
            a_prev + (((idx_t)i * n_H_prev + ih) * n_W_prev + wo_lo * stride - pad + kw) * n_C_prev + cp0;
        const __global real *gp = dz + ((idx_t)r * n_W + wo_lo) * n_C + c0;
        if (lanes == VECTOR && rows == TILE_ROWS)
            ACCUMULATE_ROW(LOAD_FULL, TILE_ROWS)
        else
            ACCUMULATE_ROW(LOAD_TAIL, rows)
    }

    const idx_t k_rows = (idx_t)f_h * f_w * n_C_prev;
    __global real *out = part + ((idx_t)chunk * k_rows + (idx_t)tap * n_C_prev + cp0) * n_C + c0;
    for (int t = 0; t < rows; t++) {
        if (lanes == VECTOR)
            STORE_FULL(acc[t], out + (idx_t)t * n_C, lanes);
        else
            STORE_TAIL(acc[t], out + (idx_t)t * n_C, lanes);
    }
}

DEFINE_SUM_CHUNKS(filter_sum_chunks)
