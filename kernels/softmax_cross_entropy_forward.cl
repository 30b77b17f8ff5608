/* Softmax over the channel axis with cross-entropy against class labels.
 * softmax_cross_entropy_rows: one work-item per row (pixel) of K logits;
 * it subtracts the row's maximum before exp so that no exp overflows, and
 * computes the loss as log(sum) - (z[label] - max) rather than -log(p),
 * which would lose the small probabilities to underflow.
 * softmax_cross_entropy_mean: one work-group; work-item i sums the rows
 * i, i + L, i + 2L, ... in order, then a tree over the group, so the mean is
 * the same bits on every run (no atomics). */
#include "common.h"

/* The class a label stands for, or -1 unless it is an integer in [0, K)
 * (NaN fails every comparison and so is invalid too). */
int label_class(real label, int K)
{
    return label >= (real)0 && label < (real)K && label == floor(label) ? (int)label : -1;
}

__kernel void softmax_cross_entropy_rows(const __global real *logits, const __global real *labels,
                                         __global real *probs, __global real *loss, int K, int rows)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    const __global real *z = logits + (idx_t)r * K;
    __global real *p = probs + (idx_t)r * K;
    real top = z[0];
    for (int c = 1; c < K; c++)
        top = fmax(top, z[c]);
    real sum = 0;
    for (int c = 0; c < K; c++) {
        const real e = exp(z[c] - top);
        p[c] = e;
        sum += e;
    }
    for (int c = 0; c < K; c++)
        p[c] = p[c] / sum;
    const int y = label_class(labels[r], K);
    loss[r] = y < 0 ? (real)NAN : log(sum) - (z[y] - top);
}

__kernel void softmax_cross_entropy_mean(const __global real *loss, __global real *mean, int rows,
                                         __local real *partial)
{
    const int lid = get_local_id(0), group = get_local_size(0);
    real s = 0;
    for (int r = lid; r < rows; r += group)
        s += loss[r];
    partial[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    /* The host launches a power-of-two group. */
    for (int span = group / 2; span > 0; span /= 2) {
        if (lid < span)
            partial[lid] += partial[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        mean[0] = partial[0] / (real)rows;
}
