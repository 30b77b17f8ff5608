/* Convolution as GEMMs tiled in local memory: what conv_forward_local,
 * conv_backward_data_gemm and conv_backward_filter_gemm share. Their files
 * include it where CLCNN_LOCAL_TILES is defined: the host passes
 * -DCLCNN_LOCAL_TILES=1 (with -DCLCNN_LOCAL_TILES_ONLY=1) when it builds
 * them (host/ops/conv/conv_gpu.c), and CLCNN_COMPILE_ALONE defines it.
 * A work-group of THREADS_N x THREADS_M work-items computes a GROUP_M x
 * GROUP_N block of the GEMM's result; each K step stages TILE_K rows of A
 * and of B in local memory (row k of A at a_tile + k * A_STRIDE, of B at
 * b_tile + k * B_STRIDE), and each work-item (tx, ty) accumulates a
 * MICRO_M x MICRO_N register tile from them, rows THREADS_M and columns
 * THREADS_N apart, so that neighbouring items read neighbouring local
 * words and write neighbouring columns. The host decides the blocking (-D)
 * and A_STRIDE, which each kernel defaults to what its stores need. Each
 * kernel takes its two tiles as its last two arguments, where the host
 * sets them (host/ops/conv/conv_gpu.c, set_tiles). */
#ifndef CLCNN_LOCAL_GEMM_H
#define CLCNN_LOCAL_GEMM_H

#include "conv_common.h"

#ifndef GROUP_M
#define GROUP_M 64
#endif
#ifndef GROUP_N
#define GROUP_N 64
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#ifndef MICRO_M
#define MICRO_M 4
#endif
#ifndef MICRO_N
#define MICRO_N 4
#endif
#ifndef B_STRIDE
#define B_STRIDE GROUP_N
#endif
#define THREADS_M (GROUP_M / MICRO_M)
#define THREADS_N (GROUP_N / MICRO_N)
#define THREADS (THREADS_M * THREADS_N)
/* Consecutive items store consecutive columns of a row of B: each item
 * stores B_LOADS rows of its column per K step. */
#define B_ROWS_PER_PASS (THREADS / GROUP_N)
#define B_LOADS (TILE_K / B_ROWS_PER_PASS)
#if THREADS % GROUP_N || TILE_K % B_ROWS_PER_PASS
#error "this blocking does not divide B's tile into whole loads per work-item"
#endif

/* Declares the item's register tile acc, at 0. */
#define MICRO_TILE_ZERO(acc)                                                       \
    real acc[MICRO_M][MICRO_N];                                                    \
    _Pragma("unroll") for (int tile_row = 0; tile_row < MICRO_M; tile_row++)       \
        _Pragma("unroll") for (int tile_col = 0; tile_col < MICRO_N; tile_col++)   \
            acc[tile_row][tile_col] = 0

/* Stores rows k0 .. k0 + TILE_K - 1 of the item's column of B (row k at
 * col + k * pitch; 0 from row `end` on, and for a column past B's last,
 * !valid) into b_tile: B_LOADS rows b_k0 + j * B_ROWS_PER_PASS of column
 * b_n, so that consecutive items store consecutive columns. */
CLCNN_INLINE void stage_b(__local real *b_tile, const __global real *col, int pitch, int k0, int end, int valid,
                          int b_n, int b_k0)
{
    _Pragma("unroll") for (int j = 0; j < B_LOADS; j++) {
        const int kk = b_k0 + j * B_ROWS_PER_PASS;
        b_tile[kk * B_STRIDE + b_n] = valid && k0 + kk < end ? col[(idx_t)(k0 + kk) * pitch] : (real)0;
    }
}

/* Once the items have stored a K step's tiles: acc += item (tx, ty)'s rows
 * of the staged A times its columns of the staged B, over the TILE_K rows
 * in increasing k, the order every blocking shares, so that every tiling
 * the host picks gives the same bits. The barriers make the stores
 * visible first and keep the next step's stores out until every item has
 * read. a_stride: the kernel's A_STRIDE. */
CLCNN_INLINE void multiply_staged(real acc[MICRO_M][MICRO_N], const __local real *a_tile, int a_stride,
                                  const __local real *b_tile, int tx, int ty)
{
    barrier(CLK_LOCAL_MEM_FENCE);
    _Pragma("unroll") for (int kk = 0; kk < TILE_K; kk++) {
        real a_reg[MICRO_M], b_reg[MICRO_N];
        _Pragma("unroll") for (int tile_row = 0; tile_row < MICRO_M; tile_row++)
            a_reg[tile_row] = a_tile[kk * a_stride + ty + tile_row * THREADS_M];
        _Pragma("unroll") for (int tile_col = 0; tile_col < MICRO_N; tile_col++)
            b_reg[tile_col] = b_tile[kk * B_STRIDE + tx + tile_col * THREADS_N];
        _Pragma("unroll") for (int tile_row = 0; tile_row < MICRO_M; tile_row++)
            _Pragma("unroll") for (int tile_col = 0; tile_col < MICRO_N; tile_col++)
                acc[tile_row][tile_col] += a_reg[tile_row] * b_reg[tile_col];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
}

/* Advances an item's k = (channel, tap_w, tap_h) by TILE_K, where k runs
 * over channels within taps_w taps along w within taps along h: what the
 * items that gather A (the input, or dZ) along k keep instead of dividing
 * k afresh each step. */
#define ADVANCE_K(channel, tap_w, tap_h, channels, taps_w)                         \
    for ((channel) += TILE_K; (channel) >= (channels); (channel) -= (channels))    \
        if (++(tap_w) == (taps_w)) {                                               \
            (tap_w) = 0;                                                           \
            (tap_h)++;                                                             \
        }

#endif
