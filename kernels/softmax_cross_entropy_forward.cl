/* Softmax over the channel axis with cross-entropy against class labels.
 * A row (pixel) of K logits: subtract the row's maximum before exp so that
 * no exp overflows, and compute the loss as log(sum) - (z[label] - max)
 * rather than -log(p), which would lose the small probabilities to
 * underflow. The row's loads and stores are whole vectors of VECTOR, its
 * last partial vector in scalars.
 * softmax_cross_entropy_rows: a work-item's rows (elementwise.h's layout,
 * a row for a vector); softmax_cross_entropy_mean: then one work-group,
 * work-item i summing the losses of rows i, i + L, i + 2L, ... in order,
 * then a tree over the group, so the mean is the same bits on every run
 * (no atomics). softmax_cross_entropy_one_group: both in one launch, for
 * few rows: the same rows' losses summed in the same order, so the same
 * bits as the two launches with the same group size. */
#include "elementwise.h"

/* The class a label stands for, or -1 unless it is an integer in [0, K)
 * (NaN fails every comparison and so is invalid too). */
int label_class(real label, int K)
{
    return label >= (real)0 && label < (real)K && label == floor(label) ? (int)label : -1;
}

/* The largest of a vector's lanes. */
CLCNN_INLINE real lanes_max(vreal v)
{
#if VECTOR == 1
    return v;
#else
    real m = v[0];
    for (int i = 1; i < VECTOR; i++)
        m = fmax(m, v[i]);
    return m;
#endif
}

/* The sum of a vector's lanes, in lane order. */
CLCNN_INLINE real lanes_sum(vreal v)
{
#if VECTOR == 1
    return v;
#else
    real s = v[0];
    for (int i = 1; i < VECTOR; i++)
        s += v[i];
    return s;
#endif
}

/* Row r: its probabilities into p, its loss returned (NaN for an invalid
 * label). */
CLCNN_INLINE real softmax_row(const __global storage *z, real label, __global storage *p, int K)
{
    const int full = K - K % VECTOR;
    real top = SLOAD_1(0, z);
    if (full > 0) {
        vreal tops = LOAD_VECTOR(z);
        for (int c = VECTOR; c < full; c += VECTOR)
            tops = fmax(tops, LOAD_VECTOR(z + c));
        top = lanes_max(tops);
    }
    for (int c = full; c < K; c++)
        top = fmax(top, SLOAD_1(c, z));
    vreal sums = (vreal)0;
    for (int c = 0; c < full; c += VECTOR) {
        const vreal e = exp(LOAD_VECTOR(z + c) - top);
#ifndef CLCNN_STORAGE_16
        VSTORE(VECTOR)(e, 0, p + c);
#endif
        sums += e;
    }
    real sum = lanes_sum(sums);
    for (int c = full; c < K; c++) {
        const real e = exp(SLOAD_1(c, z) - top);
#ifndef CLCNN_STORAGE_16
        p[c] = e;
#endif
        sum += e;
    }
#ifdef CLCNN_STORAGE_16
    /* Storing exp in 16 bits and dividing what was stored would round
     * twice: the same exp again (the same bits), divided, rounded once. */
    for (int c = 0; c < full; c += VECTOR)
        SSTORE(VECTOR)(exp(LOAD_VECTOR(z + c) - top) / sum, 0, p + c);
    for (int c = full; c < K; c++)
        SSTORE_1(exp(SLOAD_1(c, z) - top) / sum, c, p);
#else
    for (int c = 0; c < full; c += VECTOR)
        VSTORE(VECTOR)(LOAD_VECTOR(p + c) / sum, 0, p + c);
    for (int c = full; c < K; c++)
        p[c] = p[c] / sum;
#endif
    const int y = label_class(label, K);
    return y < 0 ? (real)NAN : log(sum) - (SLOAD_1(y, z) - top);
}

/* 16 bits: the rows kernel also writes each loss unrounded into a float
 * workspace, which the mean kernel sums (partial sums stay float, and the
 * two ways sum the same values: the one-group kernel's unrounded losses). */
#ifdef CLCNN_STORAGE_16
#define LOSS_FLOAT_PARAM __global real *loss_float,
#define KEEP_LOSS_FLOAT(r, l) (loss_float[r] = (l))
#else
#define LOSS_FLOAT_PARAM
#define KEEP_LOSS_FLOAT(r, l) ((void)0)
#endif

__kernel void softmax_cross_entropy_rows(const __global storage *logits, const __global label_storage *labels,
                                         __global storage *probs, __global storage *loss, LOSS_FLOAT_PARAM int K,
                                         int rows, int chunk)
{
    for (int j = 0; j < chunk; j++) {
        const offset_t r = vector_index(chunk, j);
        if (r >= (offset_t)rows)
            return;
        const offset_t at = r * (offset_t)K;
        const real row_loss = softmax_row(logits + at, LOAD_LABEL(r, labels), probs + at, K);
        SSTORE_1(row_loss, r, loss);
        KEEP_LOSS_FLOAT(r, row_loss);
    }
}

/* The group's sums partial[0 .. L) into mean[0], as a tree (the host
 * launches a power-of-two group). */
CLCNN_INLINE void group_mean(__local real *partial, real s, __global storage *mean, int rows)
{
    const int lid = get_local_id(0), group = get_local_size(0);
    partial[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int span = group / 2; span > 0; span /= 2) {
        if (lid < span)
            partial[lid] += partial[lid + span];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        SSTORE_1(partial[0] / (real)rows, 0, mean);
}

/* loss: the loss tensor, or in 16 bits the rows kernel's float losses. */
__kernel void softmax_cross_entropy_mean(const __global real *loss, __global storage *mean, int rows,
                                         __local real *partial)
{
    real s = 0;
    for (int r = get_local_id(0); r < rows; r += get_local_size(0))
        s += loss[r];
    group_mean(partial, s, mean, rows);
}

__kernel void softmax_cross_entropy_one_group(const __global storage *logits, const __global label_storage *labels,
                                              __global storage *probs, __global storage *loss, __global storage *mean,
                                              int K, int rows, __local real *partial)
{
    real s = 0;
    for (int r = get_local_id(0); r < rows; r += get_local_size(0)) {
        const offset_t at = (offset_t)r * (offset_t)K;
        const real row_loss = softmax_row(logits + at, LOAD_LABEL(r, labels), probs + at, K);
        SSTORE_1(row_loss, r, loss);
        s += row_loss;
    }
    group_mean(partial, s, mean, rows);
}
