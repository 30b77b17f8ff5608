/* Convolution backward bias: db[c] = sum of dZ[p][c] over the m * n_H * n_W
 * pixels, as a fixed split into chunks (one partial sum per chunk and
 * channel) followed by bias_sum_chunks in chunk order. Deterministic, no
 * atomics. Each work-item sums a VECTOR of channels (rows of dZ are
 * contiguous in NHWC).
 * Grid: dim 0 = channel vectors, dim 1 = chunks. */
#include "conv_common.h"

#ifndef VECTOR
#define VECTOR 16
#endif

DEFINE_VECTOR_HELPERS()

#define SUM_ROWS(LOAD)                                                               \
    for (int p = p_begin; p < p_end; p++)                                            \
        s += LOAD(dz + (idx_t)p * n_C + c0, lanes);

__kernel void conv_backward_bias(const __global real *dz, __global real *part, int n_C,
                                 int n_pixels, int chunk_size)
{
    const int c0 = get_global_id(0) * VECTOR;
    const int chunk = get_global_id(1);
    if (c0 >= n_C)
        return;
    const int lanes = min(n_C - c0, VECTOR);
    const int p_begin = min(chunk * chunk_size, n_pixels);
    const int p_end = min(p_begin + chunk_size, n_pixels);
    vreal s = (vreal)0;
    if (lanes == VECTOR)
        SUM_ROWS(LOAD_FULL)
    else
        SUM_ROWS(LOAD_TAIL)
    __global real *out = part + (idx_t)chunk * n_C + c0;
    if (lanes == VECTOR)
        STORE_FULL(s, out, lanes);
    else
        STORE_TAIL(s, out, lanes);
}

DEFINE_SUM_CHUNKS(bias_sum_chunks)
