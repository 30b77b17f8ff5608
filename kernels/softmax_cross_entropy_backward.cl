/* Softmax cross-entropy backward: dlogits = (probs - onehot(label)) / rows,
 * the gradient of the mean loss, one work-item per element. A row whose
 * label is not an integer in [0, K) gets NaN, like its loss. */
#include "common.h"

/* As in softmax_cross_entropy_forward.cl: the class a label stands for, or
 * -1 unless it is an integer in [0, K). */
int label_class(real label, int K)
{
    return label >= (real)0 && label < (real)K && label == floor(label) ? (int)label : -1;
}

__kernel void softmax_cross_entropy_backward(const __global real *probs, const __global real *labels,
                                             __global real *dlogits, int K, int rows, idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    const int r = k / K, c = k % K;
    const int y = label_class(labels[r], K);
    const real target = y == c ? (real)1 : (real)0;
    dlogits[k] = y < 0 ? (real)NAN : (probs[k] - target) / (real)rows;
}
