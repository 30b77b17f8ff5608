/* Convolution backward data (dA_prev), atomic-free: each work-item owns
 * TILE_PIXELS input pixels times a VECTOR of input channels of one group
 * and gathers over the output windows that cover them.
 *
 * The pixels of a tile lie in one input row at columns r + stride_w * j for
 * consecutive j, so they share one residue r modulo stride_w: the taps kw
 * that reach them are the same (an arithmetic progression, first_tap in
 * conv_common.h), and the covering output columns of pixel j+1 are those of
 * pixel j shifted by one. Rows likewise take the taps kh of their residue.
 * Taps are computed directly, never found by testing every tap.
 * The reduction over the group's output channels streams rows of W
 * transposed to (f_h, f_w, n_C, n_C_prev / groups) (kernel
 * transpose_weights, run per call).
 * Grid: dim 0 = (image, row, residue, tile), dim 1 = (group, channel vector
 * of the group). */
#include "conv_common.h"

/* The local-memory kernels below are built in programs of their own, as
 * conv_forward.cl explains. */
#ifndef CLCNN_LOCAL_TILES_ONLY

#ifndef TILE_PIXELS
#define TILE_PIXELS 8
#endif
#ifndef VECTOR
#define VECTOR 16
#endif

DEFINE_VECTOR_HELPERS()

/* wt[tap][c][cp] = w[tap][cp][c], with in_group input channels per tap.
 * The arguments are turn_weights', so that the host launches either alike. */
__kernel void transpose_weights(const __global real *w, __global real *wt, int f_h, int f_w,
                                int in_group, int out_group, int n_C)
{
    int cp = get_global_id(0);
    int c = get_global_id(1);
    int tap = get_global_id(2);
    if (cp >= in_group || c >= n_C || tap >= f_h * f_w)
        return;
    idx_t base = (idx_t)tap * in_group * n_C;
    wt[base + (idx_t)c * in_group + cp] = w[base + (idx_t)cp * n_C + c];
}

/* W turned for dA as a forward: the weights of the forward convolution of
 * dZ whose output is dA at stride 1, (f_h, f_w, n_C / groups, n_C_prev),
 * input channel k of group g being dZ's channel g * out_group + k, tap
 * (kh, kw) reading W's tap (f_h - 1 - kh, f_w - 1 - kw):
 * wt[tap'][k][g * in_group + cp] = w[tap][cp][g * out_group + k]. For a
 * 1x1 window and one group, the transpose above. */
__kernel void turn_weights(const __global real *w, __global real *wt, int f_h, int f_w, int in_group,
                           int out_group, int n_C)
{
    const int cp = get_global_id(0);
    const int c = get_global_id(1);
    const int tap = get_global_id(2);
    if (cp >= in_group || c >= n_C || tap >= f_h * f_w)
        return;
    const int g = c / out_group, k = c - g * out_group;
    const int kh = tap / f_w, kw = tap - kh * f_w;
    const int turned = (f_h - 1 - kh) * f_w + (f_w - 1 - kw);
    const int n_C_prev = n_C / out_group * in_group;
    wt[((idx_t)turned * out_group + k) * n_C_prev + g * in_group + cp] = w[((idx_t)tap * in_group + cp) * n_C + c];
}

/* The row of dZ (as an index of its pixels' rows, m * n_H) that reaches
 * input row hp of image i through kernel row kh, one of hp's taps
 * (first_tap), so that the division is exact; -1 where it lies outside. */
CLCNN_INLINE idx_t source_row(int i, int hp, int kh, int pad_top, int dilation_h, int stride_h, int n_H)
{
    const int h = (hp + pad_top - kh * dilation_h) / stride_h;
    return h < 0 || h >= n_H ? -1 : (idx_t)i * n_H + h;
}

/* The output pixels of dZ row dz_row that reach the tile's pixels t through
 * tap kw, one of residue r's taps: columns w_first + t. valid[t] says
 * whether one exists, off[t] is its offset in dZ plus `channel` (0 where
 * none). Returns how many exist. */
CLCNN_INLINE int tile_sources(idx_t dz_row, int r, int j0, int kw, int channel, idx_t off[TILE_PIXELS],
                              int valid[TILE_PIXELS], int pad_left, int dilation_w, int stride_w, int n_W, int n_C)
{
    const int w_first = (r + pad_left - kw * dilation_w) / stride_w + j0; /* exact */
    int n_valid = 0;
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        const int wo = w_first + t;
        valid[t] = wo >= 0 && wo < n_W;
        off[t] = valid[t] ? (dz_row * n_W + wo) * n_C + channel : 0;
        n_valid += valid[t];
    }
    return n_valid;
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

    VECTOR_TILE_ZERO(acc, TILE_PIXELS);

    int kh_step, kw_step;
    const int kh_first = first_tap(hp, pad_top, f_h, stride_h, dilation_h, &kh_step);
    const int kw_first = first_tap(r, pad_left, f_w, stride_w, dilation_w, &kw_step);
    for (int kh = kh_first; kh < f_h; kh += kh_step) {
        const idx_t dz_row = source_row(i, hp, kh, pad_top, dilation_h, stride_h, n_H);
        if (dz_row < 0)
            continue;
        for (int kw = kw_first; kw < f_w; kw += kw_step) {
            idx_t off[TILE_PIXELS];
            int valid[TILE_PIXELS];
            const int n_valid = tile_sources(dz_row, r, j0, kw, g * out_group, off, valid, pad_left, dilation_w,
                                             stride_w, n_W, n_C);
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
/* The sum of v's lanes in lane order. */
real sum_lanes(vreal v)
{
    union { vreal v; real s[VECTOR]; } u;
    u.v = v;
    real total = 0;
    for (int l = 0; l < VECTOR; l++)
        total += u.s[l];
    return total;
}

/* CHANNELS_PREV (n_C_prev) changes results, so it has no default: the
 * kernel is compiled only where the host passes it, or passes instead
 * CHANNELS_PREV_MOST, the most input channels of the shapes that share the
 * program (data_dot_const_channels=0), which sizes the partial sums while
 * the shape's n_C_prev bounds the loops at run time. */
#if defined(CLCNN_COMPILE_ALONE) && !defined(CHANNELS_PREV) && !defined(CHANNELS_PREV_MOST)
#define CHANNELS_PREV 1
#endif
#ifdef CHANNELS_PREV
#define DOT_MOST CHANNELS_PREV
#define DOT_CHANNELS CHANNELS_PREV
#define FOR_DOT_CHANNELS(cp) _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV; cp++)
#elif defined(CHANNELS_PREV_MOST)
#define DOT_MOST CHANNELS_PREV_MOST
#define DOT_CHANNELS n_C_prev
#define FOR_DOT_CHANNELS(cp) _Pragma("unroll") for (int cp = 0; cp < CHANNELS_PREV_MOST; cp++) if (cp < n_C_prev)
#endif
#ifdef DOT_MOST

#define ACCUMULATE_DOT(LOAD, C_BEGIN, C_END)                                         \
    for (int c = C_BEGIN; c < C_END; c += VECTOR) {                                  \
        vreal wv[DOT_MOST];                                                          \
        FOR_DOT_CHANNELS(cp)                                                         \
            wv[cp] = LOAD(wrow + (idx_t)cp * n_C + c, n_C - c);                      \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {                    \
            if (!valid[t])                                                           \
                continue;                                                            \
            vreal g = LOAD(dz + off[t] + c, n_C - c);                                \
            FOR_DOT_CHANNELS(cp)                                                     \
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

    vreal acc[TILE_PIXELS][DOT_MOST];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        _Pragma("unroll") for (int cp = 0; cp < DOT_MOST; cp++)
            acc[t][cp] = (vreal)0;

    int kh_step, kw_step;
    const int kh_first = first_tap(hp, pad_top, f_h, stride_h, dilation_h, &kh_step);
    const int kw_first = first_tap(r, pad_left, f_w, stride_w, dilation_w, &kw_step);
    for (int kh = kh_first; kh < f_h; kh += kh_step) {
        const idx_t dz_row = source_row(i, hp, kh, pad_top, dilation_h, stride_h, n_H);
        if (dz_row < 0)
            continue;
        for (int kw = kw_first; kw < f_w; kw += kw_step) {
            idx_t off[TILE_PIXELS];
            int valid[TILE_PIXELS];
            tile_sources(dz_row, r, j0, kw, 0, off, valid, pad_left, dilation_w, stride_w, n_W, n_C);
            const __global real *wrow = w + (idx_t)(kh * f_w + kw) * DOT_CHANNELS * n_C;
            ACCUMULATE_DOT(LOAD_FULL, 0, c_full)
            ACCUMULATE_DOT(LOAD_TAIL, c_full, n_C)
        }
    }

    const idx_t out0 = (((idx_t)i * n_H_prev + hp) * n_W_prev + wp0) * DOT_CHANNELS;
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        if (wp0 + stride_w * t < n_W_prev) {
            __global real *out = da_prev + out0 + (idx_t)t * stride_w * DOT_CHANNELS;
            FOR_DOT_CHANNELS(cp)
                out[cp] = sum_lanes(acc[t][cp]);
        }
    }
}
#endif /* DOT_MOST */

/* ---- the GEMM view (fully connected, pointwise 1x1; host/ops/conv/conv.c) ----
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

#endif /* CLCNN_LOCAL_TILES_ONLY */

#ifdef CLCNN_LOCAL_TILES
#include "local_gemm.h"
/* ---- GPU variant: dA as implicit GEMMs tiled in local memory ----
 * Input pixels fall into classes by their position modulo the stride:
 * class (a, b) holds the pixels (a + stride_h * uh, b + stride_w * uw),
 * a < stride_h, b < stride_w. The taps that reach a class are a fixed
 * subset (those with kh * dilation_h congruent to a + pad_top modulo
 * stride_h, first_tap in conv_common.h), and through them input pixel (uh, uw)
 * of the class gathers from output pixel (uh + hb - th * dh, uw + wb -
 * tw * dw) with tap index th, tw: a dense stride-1 convolution of dZ with
 * the class's sub-filter, W flipped and transposed. Nothing is multiplied
 * by a structural zero and every pixel of dA is written once, by the
 * class it belongs to (0 where no tap reaches it).
 * residue_filters lays out each class's sub-filter as the GEMM's B, (tap
 * th, tw, output channel c of the group) x (input channel of the group),
 * contiguous per class and group; conv_backward_data_gemm is then the
 * blocking of conv_forward_local (conv_forward.cl) over those GEMMs, one
 * launch for every class and group. */

/* The taps k < f whose k * dilation is congruent to residue r modulo
 * stride: how many there are, and in *before how many taps have a
 * smaller residue (where the residue's block starts). */
int residue_taps(int r, int f, int stride, int dilation, int *before)
{
    int count = 0;
    *before = 0;
    for (int k = 0; k < f; k++) {
        const int rk = k * dilation % stride;
        count += rk == r;
        *before += rk < r;
    }
    return count;
}

/* Element offset of a sub-filter in residue_filters' layout: blocks in
 * (rh, rw, g) order, each taps_h x taps_w x out_group x in_group, from
 * residue_taps of each axis. */
idx_t residue_block(int taps_h, int before_h, int taps_w, int before_w, int f_w, int g, int n_C,
                    int in_group, int out_group)
{
    return ((idx_t)before_h * f_w + (idx_t)taps_h * before_w) * n_C * in_group +
           (idx_t)g * taps_h * taps_w * out_group * in_group;
}

/* wr[block(rh, rw, g)][th][tw][c][cp] = w[kh][kw][cp][g * out_group + c]
 * for the th-th tap kh of residue rh and the tw-th tap kw of residue rw.
 * Grid: dim 0 = cp (consecutive items write consecutive words), dim 1 =
 * output channels, dim 2 = taps. */
__kernel void residue_filters(const __global real *w, __global real *wr, CONV_SHAPE_PARAMS)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int cp = get_global_id(0), gc = get_global_id(1), tap = get_global_id(2);
    if (cp >= in_group || gc >= n_C || tap >= f_h * f_w)
        return;
    const int kh = tap / f_w, kw = tap - kh * f_w, g = gc / out_group, c = gc - g * out_group;
    const int rh = kh * dilation_h % stride_h, rw = kw * dilation_w % stride_w;
    int th = 0, tw = 0, before_h, before_w;
    for (int k = 0; k < kh; k++)
        th += k * dilation_h % stride_h == rh;
    for (int k = 0; k < kw; k++)
        tw += k * dilation_w % stride_w == rw;
    const int taps_h = residue_taps(rh, f_h, stride_h, dilation_h, &before_h);
    const int taps_w = residue_taps(rw, f_w, stride_w, dilation_w, &before_w);
    const idx_t block = residue_block(taps_h, before_h, taps_w, before_w, f_w, g, n_C, in_group, out_group);
    wr[block + (((idx_t)th * taps_w + tw) * out_group + c) * in_group + cp] =
        w[((idx_t)tap * in_group + cp) * n_C + gc];
}

/* Odd, so that the K-major stores of the A tile (consecutive items,
 * consecutive k) fall into different banks. */
#ifndef A_STRIDE
#define A_STRIDE (GROUP_M + 1)
#endif
#define A_ROWS_PER_PASS (THREADS / TILE_K)
#define A_LOADS (GROUP_M / A_ROWS_PER_PASS)
#if THREADS % TILE_K || GROUP_M % A_ROWS_PER_PASS
#error "conv_backward_data_gemm: this blocking does not divide into whole loads per work-item"
#endif

/* Rows are the pixels of class (a, b), m * rows_h * rows_w of them;
 * columns the group's input channels; k = (th, tw, c) over the class's
 * taps and the group's output channels.
 * Grid: dim 0 = channel blocks x THREADS_N, dim 1 = pixel blocks of the
 * largest class (a = b = 0) x THREADS_M, dim 2 = (class, group): classes
 * min(stride_h, n_H_prev) x min(stride_w, n_W_prev), row-major, then
 * groups. */
__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1))) void
conv_backward_data_gemm(const __global real *dz, const __global real *wr, __global real *da_prev,
                        CONV_SHAPE_PARAMS, __local real *dz_tile, __local real *w_tile)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int classes_w = min(stride_w, n_W_prev);
    const int g = get_group_id(2) % groups, pixel_class = get_group_id(2) / groups;
    const int a = pixel_class / classes_w, b = pixel_class - a * classes_w;
    const int rows_h = (n_H_prev - a + stride_h - 1) / stride_h, rows_w = (n_W_prev - b + stride_w - 1) / stride_w;
    const int n_rows = m * rows_h * rows_w;
    const int n0 = get_group_id(0) * GROUP_N, m0 = get_group_id(1) * GROUP_M;
    if (m0 >= n_rows)
        return; /* the whole group: this class has fewer pixels */
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * THREADS_N + tx;

    /* The class's taps: th-th tap along h is kh_first + th * step_h, and
     * reaches output row uh + hb - th * dh from class row uh. */
    int step_h, step_w, before_h, before_w;
    const int kh_first = first_tap(a, pad_top, f_h, stride_h, dilation_h, &step_h);
    const int kw_first = first_tap(b, pad_left, f_w, stride_w, dilation_w, &step_w);
    const int taps_h = residue_taps((a + pad_top) % stride_h, f_h, stride_h, dilation_h, &before_h);
    const int taps_w = residue_taps((b + pad_left) % stride_w, f_w, stride_w, dilation_w, &before_w);
    const idx_t block = residue_block(taps_h, before_h, taps_w, before_w, f_w, g, n_C, in_group, out_group);
    const int hb = (a + pad_top - kh_first * dilation_h) / stride_h, dh = step_h * dilation_h / stride_h;
    const int wb = (b + pad_left - kw_first * dilation_w) / stride_w, dw = step_w * dilation_w / stride_w;
    const int K = taps_h * taps_w * out_group;

    /* A (dZ gathered): TILE_K consecutive items read consecutive k of one
     * row, consecutive output channels while they stay in one tap. */
    const int a_k = tid % TILE_K, a_row0 = tid / TILE_K;
    int a_h0[A_LOADS], a_w0[A_LOADS], a_valid[A_LOADS];
    idx_t a_image[A_LOADS];
    _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
        const int p = m0 + a_row0 + j * A_ROWS_PER_PASS;
        a_valid[j] = p < n_rows;
        const int q = a_valid[j] ? p : 0;
        const int i = q / (rows_h * rows_w), r = q - i * (rows_h * rows_w), uh = r / rows_w;
        a_image[j] = (idx_t)i * n_H;
        a_h0[j] = uh + hb;
        a_w0[j] = r - uh * rows_w + wb;
    }
    int c = 0, th = 0, tw = 0;
    if (K > 0) {
        c = a_k % out_group;
        tw = a_k / out_group;
        th = tw / taps_w;
        tw -= th * taps_w;
    }
    const idx_t dz_channel0 = (idx_t)g * out_group;
    /* B (the sub-filter): consecutive items read consecutive input channels. */
    const int b_n = tid % GROUP_N, b_k0 = tid / GROUP_N;
    const int b_valid = n0 + b_n < in_group;
    const __global real *w_col = wr + block + n0 + b_n;

    MICRO_TILE_ZERO(acc);

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
            const int h = a_h0[j] - th * dh, wo = a_w0[j] - tw * dw;
            const int inside = a_valid[j] && th < taps_h && h >= 0 && h < n_H && wo >= 0 && wo < n_W;
            dz_tile[a_k * A_STRIDE + a_row0 + j * A_ROWS_PER_PASS] =
                inside ? dz[((a_image[j] + h) * n_W + wo) * n_C + dz_channel0 + c] : (real)0;
        }
        stage_b(w_tile, w_col, in_group, k0, K, b_valid, b_n, b_k0);
        ADVANCE_K(c, tw, th, out_group, taps_w);
        multiply_staged(acc, dz_tile, A_STRIDE, w_tile, tx, ty);
    }

    _Pragma("unroll") for (int r = 0; r < MICRO_M; r++) {
        const int p = m0 + ty + r * THREADS_M;
        const int i = p / (rows_h * rows_w), rest = p - i * (rows_h * rows_w), uh = rest / rows_w;
        const int hp = a + uh * stride_h, wp = b + (rest - uh * rows_w) * stride_w;
        const idx_t out = (((idx_t)i * n_H_prev + hp) * n_W_prev + wp) * n_C_prev + (idx_t)g * in_group;
        _Pragma("unroll") for (int q = 0; q < MICRO_N; q++) {
            const int n = n0 + tx + q * THREADS_N;
            if (p < n_rows && n < in_group)
                da_prev[out + n] = acc[r][q];
        }
    }
}

#endif /* CLCNN_LOCAL_TILES */
