/* Convolution backward filter (dW) as a GEMM whose reduction runs over the
 * m * n_H * n_W output pixels: dW[kh][kw][cp][c] = sum_p a(p, kh, kw,
 * g * in_group + cp) * dZ[p][c] for the output channels c of group g. The
 * reduction is split into a fixed number of chunks of output rows (dim 2);
 * each work-item keeps TILE_ROWS input channels of its group (at one tap)
 * times a VECTOR of the group's output channels and writes its chunk's
 * partial sums; sum_chunks then adds the chunks in order. Deterministic,
 * no atomics.
 * Grid: dim 0 = (tap, row tile), dim 1 = (group, channel vector of the
 * group), dim 2 = chunks. */
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
                                   __global real *part, CONV_SHAPE_PARAMS, int chunk_rows)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int row_tiles = (in_group + TILE_ROWS - 1) / TILE_ROWS;
    const int tap = get_global_id(0) / row_tiles;
    const int cp0 = (get_global_id(0) - tap * row_tiles) * TILE_ROWS; /* within the group */
    const int group_vectors = (out_group + VECTOR - 1) / VECTOR;
    const int g = get_global_id(1) / group_vectors;
    const int c_in_group = (get_global_id(1) - g * group_vectors) * VECTOR;
    const int c0 = g * out_group + c_in_group;
    const int chunk = get_global_id(2);
    if (tap >= f_h * f_w || g >= groups)
        return;
    const int kh = tap / f_w, kw = tap - kh * f_w;
    const int lanes = min(out_group - c_in_group, VECTOR);
    const int rows = min(in_group - cp0, TILE_ROWS);
    const int out_rows = m * n_H;
    const int r_begin = min(chunk * chunk_rows, out_rows);
    const int r_end = min(r_begin + chunk_rows, out_rows);
    /* Output columns wo with 0 <= wo * stride_w - pad_left + kw * dilation_w < n_W_prev. */
    const int left = pad_left - kw * dilation_w;
    const int wo_lo = left <= 0 ? 0 : (left + stride_w - 1) / stride_w;
    const int right = n_W_prev - 1 + left;
    const int wo_hi = right < 0 ? -1 : min(n_W - 1, right / stride_w);
    const int a_step = stride_w * n_C_prev;

    vreal acc[TILE_ROWS];
    _Pragma("unroll") for (int t = 0; t < TILE_ROWS; t++)
        acc[t] = (vreal)0;
    for (int r = r_begin; r < r_end; r++) {
        const int i = r / n_H, h = r - i * n_H;
        const int ih = h * stride_h - pad_top + kh * dilation_h;
        if (ih < 0 || ih >= n_H_prev || wo_lo > wo_hi)
            continue;
        const __global real *ap = a_prev + (((idx_t)i * n_H_prev + ih) * n_W_prev + wo_lo * stride_w - left) * n_C_prev +
                                  (idx_t)g * in_group + cp0;
        const __global real *gp = dz + ((idx_t)r * n_W + wo_lo) * n_C + c0;
        if (lanes == VECTOR && rows == TILE_ROWS)
            ACCUMULATE_ROW(LOAD_FULL, TILE_ROWS)
        else
            ACCUMULATE_ROW(LOAD_TAIL, rows)
    }

    const idx_t k_rows = (idx_t)f_h * f_w * in_group;
    __global real *out = part + ((idx_t)chunk * k_rows + (idx_t)tap * in_group + cp0) * n_C + c0;
    for (int t = 0; t < rows; t++) {
        if (lanes == VECTOR)
            STORE_FULL(acc[t], out + (idx_t)t * n_C, lanes);
        else
            STORE_TAIL(acc[t], out + (idx_t)t * n_C, lanes);
    }
}

/* ---- Few input channels (grey or RGB images), no groups, no dilation along w ----
 * With n_C_prev <= 4 a tile of input channels at one tap holds 1 to 4 rows,
 * so each dZ vector load feeds that many FMAs. Here a work-item takes a
 * whole kernel row kh instead: its ROW_LEN = f_w * n_C_prev values (kw, cp),
 * which for one output pixel are a contiguous run of a_prev, so each dZ
 * load feeds ROW_LEN FMAs. Output columns whose window row lies inside the
 * input for every kw run with no test; the few at the left and right edges
 * skip the terms whose tap falls outside. The same chunks and the same
 * order over pixels as conv_backward_filter.
 * Grid: dim 0 = kh, dim 1 = channel vectors, dim 2 = chunks. */
#ifndef CHANNELS_PREV
#define CHANNELS_PREV 1
#endif
#ifndef ROW_LEN
#define ROW_LEN (5 * CHANNELS_PREV)
#endif

/* acc[t] += a[pixel wo, tap t] * dZ[pixel wo, c0 : c0 + VECTOR] for the
 * columns wo in [lo, hi); with MASKED, only the taps inside the input. */
#define ACCUMULATE_COLUMNS(LOAD_DZ, MASKED, lo, hi)                                  \
    for (int wo = (lo); wo < (hi); wo++) {                                           \
        const vreal g = LOAD_DZ(gp + (idx_t)wo * n_C, lanes);                        \
        const int iw0 = wo * stride_w - pad_left;                                    \
        const idx_t a0 = a_row + (idx_t)iw0 * CHANNELS_PREV;                         \
        _Pragma("unroll") for (int t = 0; t < ROW_LEN; t++) {                        \
            const int iw = iw0 + t / CHANNELS_PREV;                                  \
            if (!(MASKED) || (iw >= 0 && iw < n_W_prev))                             \
                acc[t] += a_prev[a0 + t] * g;                                        \
        }                                                                            \
    }

__kernel void conv_backward_filter_rows(const __global real *a_prev, const __global real *dz,
                                        __global real *part, CONV_SHAPE_PARAMS, int chunk_rows)
{
    const int kh = get_global_id(0);
    const int c0 = get_global_id(1) * VECTOR;
    const int chunk = get_global_id(2);
    if (kh >= f_h || c0 >= n_C)
        return;
    const int lanes = min(n_C - c0, VECTOR);
    const int out_rows = m * n_H;
    const int r_begin = min(chunk * chunk_rows, out_rows);
    const int r_end = min(r_begin + chunk_rows, out_rows);
    /* Columns [full_lo, full_hi) have all their taps inside the input:
     * wo * stride_w - pad_left >= 0 and wo * stride_w - pad_left + f_w - 1 < n_W_prev. */
    const int full_lo = min(n_W, (pad_left + stride_w - 1) / stride_w);
    const int right = n_W_prev - f_w + pad_left;
    const int full_hi = max(full_lo, right < 0 ? 0 : min(n_W, right / stride_w + 1));

    vreal acc[ROW_LEN];
    _Pragma("unroll") for (int t = 0; t < ROW_LEN; t++)
        acc[t] = (vreal)0;
    for (int r = r_begin; r < r_end; r++) {
        const int i = r / n_H, h = r - i * n_H;
        const int ih = h * stride_h - pad_top + kh * dilation_h;
        if (ih < 0 || ih >= n_H_prev)
            continue;
        const idx_t a_row = ((idx_t)i * n_H_prev + ih) * n_W_prev * CHANNELS_PREV;
        const __global real *gp = dz + (idx_t)r * n_W * n_C + c0;
        if (lanes == VECTOR) {
            ACCUMULATE_COLUMNS(LOAD_FULL, 1, 0, full_lo)
            ACCUMULATE_COLUMNS(LOAD_FULL, 0, full_lo, full_hi)
            ACCUMULATE_COLUMNS(LOAD_FULL, 1, full_hi, n_W)
        } else {
            ACCUMULATE_COLUMNS(LOAD_TAIL, 1, 0, n_W)
        }
    }

    __global real *out = part + ((idx_t)chunk * f_h + kh) * ROW_LEN * n_C + c0;
    _Pragma("unroll") for (int t = 0; t < ROW_LEN; t++) {
        if (lanes == VECTOR)
            STORE_FULL(acc[t], out + (idx_t)t * n_C, lanes);
        else
            STORE_TAIL(acc[t], out + (idx_t)t * n_C, lanes);
    }
}

DEFINE_SUM_CHUNKS(filter_sum_chunks)
