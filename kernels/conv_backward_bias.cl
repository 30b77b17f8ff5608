/* Convolution backward bias: db[c] = sum of dZ[p][c] over the m * n_H * n_W
 * pixels, as a fixed split into chunks (one partial sum per chunk and
 * channel) followed by sum_chunks in chunk order. Deterministic, no atomics.
 * Grid: dim 0 = channels, dim 1 = chunks. */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

__kernel void conv_backward_bias(const __global real *dz, __global real *part, int n_C,
                                 int n_pixels, int chunk_size)
{
    const int c = get_global_id(0);
    const int chunk = get_global_id(1);
    if (c >= n_C)
        return;
    const int p_begin = min(chunk * chunk_size, n_pixels);
    const int p_end = min(p_begin + chunk_size, n_pixels);
    real s = 0;
    for (int p = p_begin; p < p_end; p++)
        s += dz[(idx_t)p * n_C + c];
    part[(idx_t)chunk * n_C + c] = s;
}

DEFINE_SUM_CHUNKS(bias_sum_chunks)
