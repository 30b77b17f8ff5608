/* ReLU backward: dx = 0 where x <= 0, else dy (the gradient at 0 is 0),
 * so that a NaN x passes dy on, as PyTorch's threshold_backward does. x
 * may be the forward's input or its output: both are positive, or NaN, at
 * the same places. Whole vectors per work-item, the tensor's last partial
 * vector in scalars (elementwise.h). */
#include "elementwise.h"

__kernel void relu_backward(const __global storage *dy, const __global storage *x, __global storage *dx, idx_t total,
                            int chunk)
{
    for (int j = 0; j < chunk; j++) {
        const offset_t at = vector_index(chunk, j) * VECTOR;
        if (at >= (offset_t)total)
            return;
        if ((offset_t)total - at >= VECTOR) {
            const vreal g = LOAD_VECTOR(dy + at);
            STORE_OUTPUT(LOAD_VECTOR(x + at) <= (vreal)0 ? (vreal)0 : g, dx + at);
        } else {
            for (offset_t e = at; e < (offset_t)total; e++) {
                const real g = SLOAD_1(e, dy);
                SSTORE_1(SLOAD_1(e, x) <= (real)0 ? (real)0 : g, e, dx);
            }
        }
    }
}
