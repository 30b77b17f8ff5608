/* Softmax cross-entropy backward: dlogits = (probs - onehot(label)) / rows,
 * the gradient of the mean loss. A row whose label is not an integer in
 * [0, K) gets NaN, like its loss. Each row of K is row_vectors vectors, the
 * last one partial where K is not a multiple of VECTOR; a work-item writes
 * whole vectors, a row's partial one element by element (elementwise.h). */
#include "elementwise.h"

/* As in softmax_cross_entropy_forward.cl: the class a label stands for, or
 * -1 unless it is an integer in [0, K). */
int label_class(real label, int K)
{
    return label >= (real)0 && label < (real)K && label == floor(label) ? (int)label : -1;
}

__kernel void softmax_cross_entropy_backward(const __global storage *probs, const __global label_storage *labels,
                                             __global storage *dlogits, int K, int rows, int row_vectors, int vectors,
                                             int chunk)
{
    for (int j = 0; j < chunk; j++) {
        const offset_t q = vector_index(chunk, j);
        if (q >= (offset_t)vectors)
            return;
        const offset_t r = q / (offset_t)row_vectors;
        const int c0 = (int)(q % (offset_t)row_vectors) * VECTOR;
        const int y = label_class(LOAD_LABEL(r, labels), K);
        const offset_t at = r * (offset_t)K + (offset_t)c0;
        if (K - c0 >= VECTOR) {
            const vreal target = LANES + (real)c0 == (vreal)(real)y ? (vreal)1 : (vreal)0;
            const vreal d = (LOAD_VECTOR(probs + at) - target) / (real)rows;
            STORE_OUTPUT(y < 0 ? (vreal)(real)NAN : d, dlogits + at);
        } else {
            for (int c = c0; c < K; c++)
                SSTORE_1(y < 0 ? (real)NAN
                               : (SLOAD_1(at + (offset_t)(c - c0), probs) - (y == c ? (real)1 : (real)0)) / (real)rows,
                         at + (offset_t)(c - c0), dlogits);
        }
    }
}
