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
#include "conv_common.h"

/* The local-memory kernels below are built in programs of their own, as
 * conv_forward.cl explains. */
#ifndef CLCNN_LOCAL_TILES_ONLY

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

/* block_rows > 0 (CPUs): a barrier after every block_rows output rows of
 * the chunk, so that a work-group's items take the rows in blocks
 * together (see conv_backward_filter_blocked below); items outside the
 * grid then take part in the barriers and compute nothing. */
__kernel void conv_backward_filter(const __global real *a_prev, const __global real *dz,
                                   __global real *part, CONV_SHAPE_PARAMS, int chunk_rows, int block_rows)
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
    const int active = tap < f_h * f_w && g < groups;
    if (!active && block_rows == 0)
        return;
    const int kh = active ? tap / f_w : 0, kw = active ? tap - kh * f_w : 0;
    const int lanes = min(out_group - c_in_group, VECTOR);
    const int rows = active ? min(in_group - cp0, TILE_ROWS) : 0;
    const int out_rows = m * n_H;
    const int r_begin = min(chunk * chunk_rows, out_rows);
    const int r_end = min(r_begin + chunk_rows, out_rows);
    /* Output columns wo with 0 <= wo * stride_w - pad_left + kw * dilation_w < n_W_prev. */
    const int left = pad_left - kw * dilation_w;
    const int wo_lo = left <= 0 ? 0 : (left + stride_w - 1) / stride_w;
    const int right = n_W_prev - 1 + left;
    const int wo_hi = right < 0 ? -1 : min(n_W - 1, right / stride_w);
    const int a_step = stride_w * n_C_prev;

    VECTOR_TILE_ZERO(acc, TILE_ROWS);
    for (int r = r_begin; r < r_end; r++) {
        const int i = r / n_H, h = r - i * n_H;
        const int ih = h * stride_h - pad_top + kh * dilation_h;
        if (active && ih >= 0 && ih < n_H_prev && wo_lo <= wo_hi) {
            const __global real *ap = a_prev +
                                      (((idx_t)i * n_H_prev + ih) * n_W_prev + wo_lo * stride_w - left) * n_C_prev +
                                      (idx_t)g * in_group + cp0;
            const __global real *gp = dz + ((idx_t)r * n_W + wo_lo) * n_C + c0;
            if (lanes == VECTOR && rows == TILE_ROWS)
                ACCUMULATE_ROW(LOAD_FULL, TILE_ROWS)
            else
                ACCUMULATE_ROW(LOAD_TAIL, rows)
        }
        if (block_rows > 0 && (r - r_begin + 1) % block_rows == 0)
            barrier(CLK_LOCAL_MEM_FENCE);
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
/* CHANNELS_PREV (n_C_prev) and ROW_LEN change results, so they have no
 * default: the kernel is compiled only where the host passes them, or
 * passes instead ROW_LEN_MOST, the longest row of the shapes that share the
 * program (filter_rows_const_row=0), which sizes the accumulators while the
 * shape's f_w * n_C_prev bounds the loops at run time. */
#if defined(CLCNN_COMPILE_ALONE) && !defined(CHANNELS_PREV) && !defined(ROW_LEN_MOST)
#define CHANNELS_PREV 1
#define ROW_LEN (5 * CHANNELS_PREV)
#endif
#ifdef CHANNELS_PREV
#ifndef ROW_LEN
#error "ROW_LEN must be passed with -D along with CHANNELS_PREV"
#endif
#define ROW_MOST ROW_LEN
#define ROW_COUNT ROW_LEN
#define ROW_CHANNELS CHANNELS_PREV
#define FOR_ROW(t) _Pragma("unroll") for (int t = 0; t < ROW_LEN; t++)
#elif defined(ROW_LEN_MOST)
#define ROW_MOST ROW_LEN_MOST
#define ROW_COUNT (f_w * n_C_prev)
#define ROW_CHANNELS n_C_prev
#define FOR_ROW(t) _Pragma("unroll") for (int t = 0; t < ROW_LEN_MOST; t++) if (t < ROW_COUNT)
#endif
#ifdef ROW_MOST

/* acc[t] += a[pixel wo, tap t] * dZ[pixel wo, c0 : c0 + VECTOR] for the
 * columns wo in [lo, hi); with MASKED, only the taps inside the input. */
#define ACCUMULATE_COLUMNS(LOAD_DZ, MASKED, lo, hi)                                  \
    for (int wo = (lo); wo < (hi); wo++) {                                           \
        const vreal g = LOAD_DZ(gp + (idx_t)wo * n_C, lanes);                        \
        const int iw0 = wo * stride_w - pad_left;                                    \
        const idx_t a0 = a_row + (idx_t)iw0 * ROW_CHANNELS;                          \
        FOR_ROW(t) {                                                                 \
            const int iw = iw0 + t / ROW_CHANNELS;                                   \
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

    VECTOR_TILE_ZERO(acc, ROW_MOST);
    for (int r = r_begin; r < r_end; r++) {
        const int i = r / n_H, h = r - i * n_H;
        const int ih = h * stride_h - pad_top + kh * dilation_h;
        if (ih < 0 || ih >= n_H_prev)
            continue;
        const idx_t a_row = ((idx_t)i * n_H_prev + ih) * n_W_prev * ROW_CHANNELS;
        const __global real *gp = dz + (idx_t)r * n_W * n_C + c0;
        if (lanes == VECTOR) {
            ACCUMULATE_COLUMNS(LOAD_FULL, 1, 0, full_lo)
            ACCUMULATE_COLUMNS(LOAD_FULL, 0, full_lo, full_hi)
            ACCUMULATE_COLUMNS(LOAD_FULL, 1, full_hi, n_W)
        } else {
            ACCUMULATE_COLUMNS(LOAD_TAIL, 1, 0, n_W)
        }
    }

    __global real *out = part + ((idx_t)chunk * f_h + kh) * ROW_COUNT * n_C + c0;
    FOR_ROW(t) {
        if (lanes == VECTOR)
            STORE_FULL(acc[t], out + (idx_t)t * n_C, lanes);
        else
            STORE_TAIL(acc[t], out + (idx_t)t * n_C, lanes);
    }
}
#endif /* ROW_MOST */

DEFINE_SUM_CHUNKS(filter_sum_chunks)

/* ---- The GEMM view on CPUs: dW = A^T dZ over the pixels in blocks ----
 * dW (k_count x n) = the sum over rows p of A_prev[p][k] * dZ[p][c], each
 * work-item TILE_ROWS values of k times a VECTOR of c, like
 * conv_backward_filter with one chunk and the same order over p. A
 * work-group's items take the pixels in blocks of BLOCK_PIXELS, a barrier
 * between blocks. POCL runs a work-group's items one after another between
 * barriers: each block of A_prev and dZ then comes from memory once per
 * work-group and from the cache for its other items, where items that each
 * streamed all the pixels read every line once per item (from the last
 * level of cache at best). Items past the edges take part in the barriers
 * and compute nothing. */
#ifndef BLOCK_PIXELS
#define BLOCK_PIXELS 64
#endif

/* In ACCUMULATE_ROW's names: the pixels wo_lo..wo_hi of a block, a_step
 * the values of a pixel's row of A_prev (the rows of dW), n_C the columns
 * of dZ and dW. */
__kernel void conv_backward_filter_blocked(const __global real *a_prev, const __global real *dz,
                                           __global real *dw, int rows, int a_step, int n_C)
{
    const int k0 = get_global_id(0) * TILE_ROWS, c0 = get_global_id(1) * VECTOR;
    const int active = k0 < a_step && c0 < n_C;
    const int k_rows = active ? min(TILE_ROWS, a_step - k0) : 0;
    const int lanes = active ? min(VECTOR, n_C - c0) : 0;
    VECTOR_TILE_ZERO(acc, TILE_ROWS);
    for (int wo_lo = 0; wo_lo < rows; wo_lo += BLOCK_PIXELS) {
        const int wo_hi = active ? min(rows, wo_lo + BLOCK_PIXELS) - 1 : wo_lo - 1;
        const __global real *ap = a_prev + (idx_t)wo_lo * a_step + k0;
        const __global real *gp = dz + (idx_t)wo_lo * n_C + c0;
        if (k_rows == TILE_ROWS && lanes == VECTOR)
            ACCUMULATE_ROW(LOAD_FULL, TILE_ROWS)
        else
            ACCUMULATE_ROW(LOAD_TAIL, k_rows)
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int t = 0; t < k_rows; t++) {
        if (lanes == VECTOR)
            STORE_FULL(acc[t], dw + (idx_t)(k0 + t) * n_C + c0, lanes);
        else
            STORE_TAIL(acc[t], dw + (idx_t)(k0 + t) * n_C + c0, lanes);
    }
}

#endif /* CLCNN_LOCAL_TILES_ONLY */

#ifdef CLCNN_LOCAL_TILES
#include "local_gemm.h"
/* ---- GPU variant: dW (and db) as a split-K GEMM tiled in local memory ----
 * dW viewed as rows (kh, kw, cp) of the group's input channels x columns c
 * of its output channels, with k running over the n_pixels output pixels:
 * part[split][row][g * out_group + c] = sum over the split's pixels p of
 * a(p, kh, kw, g * in_group + cp) * dZ[p][g * out_group + c]. With db
 * wanted (bias_row 1), one more row whose a is 1 for every pixel gives
 * db's partial sums from the same pass over dZ. The pixels are split into
 * runs of split_pixels, a function of the shape alone (host/ops/conv/conv_gpu.c),
 * so that deep layers with few output blocks still fill a GPU, and every
 * device that runs these kernels adds the same terms in the same order;
 * filter_sum_splits adds the splits in order. The blocking is
 * conv_forward_local's (conv_forward.cl) with the roles of its loads
 * swapped: here the gathered input is the rows and the reduction runs
 * along pixels. Every value is a sum over its split's pixels in increasing
 * order whatever the blocking.
 * Grid: dim 0 = channel blocks x THREADS_N, dim 1 = row blocks x THREADS_M,
 * dim 2 = (split, group). */
/* Both tiles are stored along their rows by consecutive items: no
 * padding needed against bank conflicts. */
#ifndef A_STRIDE
#define A_STRIDE GROUP_M
#endif
/* Each item loads A_LOADS pixels of one row of A per K step (and
 * B_LOADS pixels of one column of dZ, local_gemm.h). */
#define A_PIXELS_PER_PASS (THREADS / GROUP_M)
#define A_LOADS (TILE_K / A_PIXELS_PER_PASS)
#if THREADS % GROUP_M || TILE_K % A_PIXELS_PER_PASS
#error "conv_backward_filter_gemm: this blocking does not divide into whole loads per work-item"
#endif

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1))) void
conv_backward_filter_gemm(const __global real *a_prev, const __global real *dz, __global real *part,
                          CONV_SHAPE_PARAMS, int filter_rows, int bias_row, int split_pixels,
                          __local real *a_tile, __local real *dz_tile)
{
    const int in_group = n_C_prev / groups, out_group = n_C / groups;
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * THREADS_N + tx;
    const int n0 = get_group_id(0) * GROUP_N, m0 = get_group_id(1) * GROUP_M;
    const int g = get_group_id(2) % groups, split = get_group_id(2) / groups;
    const int n_pixels = m * n_H * n_W, rows = filter_rows + bias_row;
    const int p_begin = min(split * split_pixels, n_pixels), p_end = min(p_begin + split_pixels, n_pixels);

    /* A: consecutive items take consecutive rows, which are consecutive
     * input channels (contiguous in NHWC) while they stay in one tap. An
     * item's row is fixed; its pixels advance by TILE_K per step. */
    const int a_row = m0 + tid % GROUP_M, a_k0 = tid / GROUP_M;
    const int is_filter = a_row < filter_rows, is_bias = a_row == filter_rows && bias_row;
    const int tap = a_row / in_group, kh = tap / f_w, kw = tap - kh * f_w;
    const int tap_h = kh * dilation_h - pad_top, tap_w = kw * dilation_w - pad_left;
    const __global real *a_channel = a_prev + (idx_t)g * in_group + (a_row - tap * in_group);
    int a_i[A_LOADS], a_h[A_LOADS], a_w[A_LOADS];
    _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
        const int p = p_begin + a_k0 + j * A_PIXELS_PER_PASS;
        a_i[j] = p / (n_H * n_W);
        a_h[j] = (p - a_i[j] * (n_H * n_W)) / n_W;
        a_w[j] = p - (a_i[j] * n_H + a_h[j]) * n_W;
    }
    /* B: consecutive items read consecutive channels of a pixel of dZ. */
    const int b_n = tid % GROUP_N, b_k0 = tid / GROUP_N;
    const int b_valid = n0 + b_n < out_group;
    const __global real *dz_col = dz + (idx_t)g * out_group + n0 + b_n;

    MICRO_TILE_ZERO(acc);

    for (int k0 = p_begin; k0 < p_end; k0 += TILE_K) {
        _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
            const int p = k0 + a_k0 + j * A_PIXELS_PER_PASS;
            const int ih = a_h[j] * stride_h + tap_h, iw = a_w[j] * stride_w + tap_w;
            const int inside = is_filter && p < p_end && ih >= 0 && ih < n_H_prev && iw >= 0 && iw < n_W_prev;
            a_tile[(a_k0 + j * A_PIXELS_PER_PASS) * A_STRIDE + tid % GROUP_M] =
                inside ? a_channel[(((idx_t)a_i[j] * n_H_prev + ih) * n_W_prev + iw) * n_C_prev]
                       : (real)(is_bias && p < p_end);
            /* This load's next pixel: TILE_K further on. */
            for (a_w[j] += TILE_K; a_w[j] >= n_W; a_w[j] -= n_W)
                if (++a_h[j] == n_H) {
                    a_h[j] = 0;
                    a_i[j]++;
                }
        }
        stage_b(dz_tile, dz_col, n_C, k0, p_end, b_valid, b_n, b_k0);
        multiply_staged(acc, a_tile, A_STRIDE, dz_tile, tx, ty);
    }

    __global real *out = part + (idx_t)split * rows * n_C + (idx_t)g * out_group;
    _Pragma("unroll") for (int r = 0; r < MICRO_M; r++) {
        const int row = m0 + ty + r * THREADS_M;
        _Pragma("unroll") for (int c = 0; c < MICRO_N; c++) {
            const int n = n0 + tx + c * THREADS_N;
            if (row < rows && n < out_group)
                out[(idx_t)row * n_C + n] = acc[r][c];
        }
    }
}

/* dw = the first filter_elements sums over the splits of part (in split
 * order), db = the rest: part holds splits x elements partial sums. */
__kernel void filter_sum_splits(const __global real *part, __global real *dw, __global real *db,
                                int filter_elements, int elements, int splits)
{
    const int e = get_global_id(0);
    if (e >= elements)
        return;
    real s = 0;
    for (int j = 0; j < splits; j++)
        s += part[(idx_t)j * elements + e];
    if (e < filter_elements)
        dw[e] = s;
    else
        db[e - filter_elements] = s;
}

#endif /* CLCNN_LOCAL_TILES */
