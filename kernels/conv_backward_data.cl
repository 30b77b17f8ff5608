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

DEFINE_VECTOR_HELPERS()

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

/* Dim 0 of the grid as (image i, input row hp, residue r, first index j0
 * of the tile on the residue's chain of columns r, r + stride, ...). */
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
 * c; with MASKED, only for the pixels whose window exists (a skipped term,
 * not a term times 0, so that an Inf elsewhere cannot turn into NaN). */
#define ACCUMULATE(LOAD_W, MASKED)                                                   \
    for (int c = 0; c < n_C; c++) {                                                  \
        vreal wv = LOAD_W(wrow + (idx_t)c * n_C_prev, lanes);                        \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            if (!(MASKED) || valid[t])                                               \
                acc[t] += dz[off[t] + c] * wv;                                       \
    }

__kernel void conv_backward_data(const __global real *dz, const __global real *wt,
                                 __global real *da_prev, int m, int n_H_prev, int n_W_prev,
                                 int n_C_prev, int f_h, int f_w, int n_C, int n_H, int n_W,
                                 int stride, int pad, int residues, int tiles_per_residue)
{
    const int cp0 = get_global_id(1) * VECTOR;
    int i, hp, r, j0;
    decode_tile(get_global_id(0), tiles_per_residue, residues, n_H_prev, &i, &hp, &r, &j0);
    const int wp0 = r + stride * j0; /* column of the tile's first pixel */
    if (i >= m || cp0 >= n_C_prev || wp0 >= n_W_prev)
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
            int valid[TILE_PIXELS];
            int n_valid = 0;
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int wo = w_first + t;
                valid[t] = wo >= 0 && wo < n_W;
                off[t] = valid[t] ? (dz_row + wo) * n_C : 0;
                n_valid += valid[t];
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
            STORE_FULL(acc[t], out, lanes);
        else
            STORE_TAIL(acc[t], out, lanes);
    }
}

/* ---- few input channels (an RGB or grey image) ----
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
                                     __global real *da_prev, int m, int n_H_prev,
                                     int n_W_prev, int f_h, int f_w, int n_C, int n_H, int n_W,
                                     int stride, int pad, int residues, int tiles_per_residue)
{
    int i, hp, r, j0;
    decode_tile(get_global_id(0), tiles_per_residue, residues, n_H_prev, &i, &hp, &r, &j0);
    const int wp0 = r + stride * j0;
    if (i >= m || wp0 >= n_W_prev)
        return;
    const int c_full = n_C - n_C % VECTOR;

    vreal acc[TILE_PIXELS][CHANNELS_PREV];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)
            acc[t][cp] = (vreal)0;

    const int h_lo = cover_lo(hp, pad, f_h, stride);
    const int h_hi = cover_hi(hp, pad, stride, n_H);
    for (int h = h_lo; h <= h_hi; h++) {
        const int kh = hp + pad - h * stride;
        const idx_t dz_row = ((idx_t)i * n_H + h) * n_W;
        for (int kw = (r + pad) % stride; kw < f_w; kw += stride) {
            const int w_first = (r + pad - kw) / stride + j0;
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

    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        int wp = wp0 + stride * t;
        if (wp >= n_W_prev)
            break;
        __global real *out = da_prev + (((idx_t)i * n_H_prev + hp) * n_W_prev + wp) * CHANNELS_PREV;
        _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)
            out[cp] = sum_lanes(acc[t][cp]);
    }
}
