/* Convolution backward data (dA_prev), atomic-free: each work-item owns
 * TILE_PIXELS input pixels times a VECTOR of input channels of one group
 * and gathers over the output windows that cover them.
 *
 * The pixels of a tile lie in one input row at columns r + stride_w * j for
 * consecutive j, so they share one residue r modulo stride_w: the taps kw
 * that reach them are the same (an arithmetic progression, first_tap in
 * common.h), and the covering output columns of pixel j+1 are those of
 * pixel j shifted by one. Rows likewise take the taps kh of their residue.
 * Taps are computed directly, never found by testing every tap.
 * The reduction over the group's output channels streams rows of W
 * transposed to (f_h, f_w, n_C, n_C_prev / groups) (kernel
 * transpose_weights, run per call).
 * Grid: dim 0 = (image, row, residue, tile), dim 1 = (group, channel vector
 * of the group). */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

#ifndef TILE_PIXELS
#define TILE_PIXELS 8
#endif
#ifndef VECTOR
#define VECTOR 16
#endif

DEFINE_VECTOR_HELPERS()

/* wt[tap][c][cp] = w[tap][cp][c], with in_group input channels per tap. */
__kernel void transpose_weights(const __global real *w, __global real *wt, int taps,
                                int in_group, int n_C)
{
    int cp = get_global_id(0);
    int c = get_global_id(1);
    int tap = get_global_id(2);
    if (cp >= in_group || c >= n_C || tap >= taps)
        return;
    idx_t base = (idx_t)tap * in_group * n_C;
    wt[base + (idx_t)c * in_group + cp] = w[base + (idx_t)cp * n_C + c];
}

/* Dim 0 of the grid as (image i, input row hp, residue r, first index j0
 * of the tile on the residue's chain of columns r, r + stride_w, ...). */
void decode_tile(int q, int tiles_per_residue, int residues, int n_H_prev, int *i, int *hp,
                 int *r, int *j0)
{
    *j0 = (q % tiles_per_residue) * TILE_PIXELS;
    q /= tiles_per_residue;
    *r = q % residues;
    q /= residues;
    *hp = q % n_H_prev;
    *i = q / n_H_prev;
}

/* acc[t] += dZ[pixel t's window, c] * W^T[kh][kw][c][cp0 : cp0 + VECTOR] over
 * the group's c; with MASKED, only for the pixels whose window exists (a
 * skipped term, not a term times 0, so that an Inf elsewhere cannot turn
 * into NaN). */
#define ACCUMULATE(LOAD_W, MASKED)                                                   \
    for (int c = 0; c < out_group; c++) {                                            \
        vreal wv = LOAD_W(wrow + (idx_t)c * in_group, lanes);                        \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            if (!(MASKED) || valid[t])                                               \
                acc[t] += dz[off[t] + c] * wv;                                       \
    }

__kernel void conv_backward_data(const __global real *dz, const __global real *wt,
                                 __global real *da_prev, CONV_SHAPE_PARAMS, int residues,
                                 int tiles_per_residue)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int group_vectors = (in_group + VECTOR - 1) / VECTOR;
    const int g = get_global_id(1) / group_vectors;
    const int cp_in_group = (get_global_id(1) - g * group_vectors) * VECTOR;
    int i, hp, r, j0;
    decode_tile(get_global_id(0), tiles_per_residue, residues, n_H_prev, &i, &hp, &r, &j0);
    const int wp0 = r + stride_w * j0; /* column of the tile's first pixel */
    if (i >= m || g >= groups || wp0 >= n_W_prev)
        return;
    const int lanes = min(in_group - cp_in_group, VECTOR);

    vreal acc[TILE_PIXELS];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        acc[t] = (vreal)0;

    int kh_step, kw_step;
    const int kh_first = first_tap(hp, pad_top, f_h, stride_h, dilation_h, &kh_step);
    const int kw_first = first_tap(r, pad_left, f_w, stride_w, dilation_w, &kw_step);
    for (int kh = kh_first; kh < f_h; kh += kh_step) {
        const int h = (hp + pad_top - kh * dilation_h) / stride_h;
        if (h < 0 || h >= n_H)
            continue;
        const idx_t dz_row = ((idx_t)i * n_H + h) * n_W;
        for (int kw = kw_first; kw < f_w; kw += kw_step) {
            /* Output column covering pixel t through tap kw; exact division. */
            const int w_first = (r + pad_left - kw * dilation_w) / stride_w + j0;
            idx_t off[TILE_PIXELS];
            int valid[TILE_PIXELS];
            int n_valid = 0;
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int wo = w_first + t;
                valid[t] = wo >= 0 && wo < n_W;
                off[t] = valid[t] ? (dz_row + wo) * n_C + (idx_t)g * out_group : 0;
                n_valid += valid[t];
            }
            if (n_valid == 0)
                continue;
            const __global real *wrow =
                wt + ((idx_t)(kh * f_w + kw) * n_C + (idx_t)g * out_group) * in_group + cp_in_group;
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
    const idx_t out0 = (((idx_t)i * n_H_prev + hp) * n_W_prev + wp0) * n_C_prev + (idx_t)g * in_group + cp_in_group;
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        if (wp0 + stride_w * t < n_W_prev) {
            __global real *out = da_prev + out0 + (idx_t)t * stride_w * n_C_prev;
            if (lanes == VECTOR)
                STORE_FULL(acc[t], out, lanes);
            else
                STORE_TAIL(acc[t], out, lanes);
        }
    }
}

/* ---- few input channels (an RGB or grey image), no groups ----
 * With n_C_prev <= 4 a vector across input channels would be mostly empty.
 * This variant vectorises the reduction instead: over output channels c,
 * along which both dZ[pixel][c] and W[kh][kw][cp][c] are contiguous, keeping
 * TILE_PIXELS x CHANNELS_PREV vector partial sums that are added up lane by
 * lane (in a fixed order) at the end. W is read as it is, not transposed. */
#ifndef CHANNELS_PREV
#define CHANNELS_PREV 1
#endif

real sum_lanes(vreal v)
{
    union { vreal v; real s[VECTOR]; } u;
    u.v = v;
    real total = 0;
    for (int l = 0; l < VECTOR; l++)
        total += u.s[l];
    return total;
}

#define ACCUMULATE_DOT(LOAD, C_BEGIN, C_END)                                         \
    for (int c = C_BEGIN; c < C_END; c += VECTOR) {                                  \
        vreal wv[CHANNELS_PREV];                                                     \
        _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)                 \
            wv[cp] = LOAD(wrow + (idx_t)cp * n_C + c, n_C - c);                      \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {                    \
            if (!valid[t])                                                           \
                continue;                                                            \
            vreal g = LOAD(dz + off[t] + c, n_C - c);                                \
            _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)             \
                acc[t][cp] += g * wv[cp];                                            \
        }                                                                            \
    }

__kernel void conv_backward_data_dot(const __global real *dz, const __global real *w,
                                     __global real *da_prev, CONV_SHAPE_PARAMS, int residues,
                                     int tiles_per_residue)
{
    int i, hp, r, j0;
    decode_tile(get_global_id(0), tiles_per_residue, residues, n_H_prev, &i, &hp, &r, &j0);
    const int wp0 = r + stride_w * j0;
    if (i >= m || wp0 >= n_W_prev)
        return;
    const int c_full = n_C - n_C % VECTOR;

    vreal acc[TILE_PIXELS][CHANNELS_PREV];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)
            acc[t][cp] = (vreal)0;

    int kh_step, kw_step;
    const int kh_first = first_tap(hp, pad_top, f_h, stride_h, dilation_h, &kh_step);
    const int kw_first = first_tap(r, pad_left, f_w, stride_w, dilation_w, &kw_step);
    for (int kh = kh_first; kh < f_h; kh += kh_step) {
        const int h = (hp + pad_top - kh * dilation_h) / stride_h;
        if (h < 0 || h >= n_H)
            continue;
        const idx_t dz_row = ((idx_t)i * n_H + h) * n_W;
        for (int kw = kw_first; kw < f_w; kw += kw_step) {
            const int w_first = (r + pad_left - kw * dilation_w) / stride_w + j0;
            idx_t off[TILE_PIXELS];
            int valid[TILE_PIXELS];
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int wo = w_first + t;
                valid[t] = wo >= 0 && wo < n_W;
                off[t] = valid[t] ? (dz_row + wo) * n_C : 0;
            }
            const __global real *wrow = w + (idx_t)(kh * f_w + kw) * CHANNELS_PREV * n_C;
            ACCUMULATE_DOT(LOAD_FULL, 0, c_full)
            ACCUMULATE_DOT(LOAD_TAIL, c_full, n_C)
        }
    }

    const idx_t out0 = (((idx_t)i * n_H_prev + hp) * n_W_prev + wp0) * CHANNELS_PREV;
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        if (wp0 + stride_w * t < n_W_prev) {
            __global real *out = da_prev + out0 + (idx_t)t * stride_w * CHANNELS_PREV;
            _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)
                out[cp] = sum_lanes(acc[t][cp]);
        }
    }
}

/* ---- the GEMM view (fully connected, pointwise 1x1; host/conv.c) ----
 * There dA is a matrix product, dA (rows x k_count) = dZ (rows x n) times
 * W^T with W (k_count x n) as it is: a row of W holds one input channel's
 * weights over the output channels, contiguous like a row of dZ, so each
 * value of dA is a dot product over n, vectorised along n and its lanes
 * added at the end. A work-item takes TILE_PIXELS rows times K_TILE input
 * channels, so each load feeds several products, and W is never
 * transposed (a fully connected layer's W is as large as it gets).
 * Grid: dim 0 = row tiles, dim 1 = channel tiles. */
#ifndef K_TILE
#define K_TILE 4
#endif

#define ACCUMULATE_GEMM(LOAD, c, lanes)                                              \
    {                                                                                \
        vreal g[TILE_PIXELS];                                                        \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            g[t] = LOAD(dz + dz_row[t] + (c), lanes);                                \
        _Pragma("unroll") for (int k = 0; k < K_TILE; k++) {                         \
            const vreal wv = LOAD(w + w_row[k] + (c), lanes);                        \
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                  \
                acc[t][k] += g[t] * wv;                                              \
        }                                                                            \
    }

__kernel void conv_backward_data_matrix(const __global real *dz, const __global real *w,
                                        __global real *da, int rows, int k_count, int n)
{
    const int p0 = get_global_id(0) * TILE_PIXELS, k0 = get_global_id(1) * K_TILE;
    if (p0 >= rows || k0 >= k_count)
        return;
    /* Rows and channels past the end repeat the last one: computed, never
     * stored, and the inner loop needs no test. */
    idx_t dz_row[TILE_PIXELS], w_row[K_TILE];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        dz_row[t] = (idx_t)min(p0 + t, rows - 1) * n;
    _Pragma("unroll") for (int k = 0; k < K_TILE; k++)
        w_row[k] = (idx_t)min(k0 + k, k_count - 1) * n;
    vreal acc[TILE_PIXELS][K_TILE];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        _Pragma("unroll") for (int k = 0; k < K_TILE; k++)
            acc[t][k] = (vreal)0;
    const int n_full = n - n % VECTOR;
    for (int c = 0; c < n_full; c += VECTOR)
        ACCUMULATE_GEMM(LOAD_FULL, c, VECTOR)
    if (n_full < n)
        ACCUMULATE_GEMM(LOAD_TAIL, n_full, n - n_full)
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        _Pragma("unroll") for (int k = 0; k < K_TILE; k++)
            if (p0 + t < rows && k0 + k < k_count)
                da[(idx_t)(p0 + t) * k_count + k0 + k] = sum_lanes(acc[t][k]);
}
