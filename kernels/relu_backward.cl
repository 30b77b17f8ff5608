/* ReLU backward: dx = dy where x > 0, else 0 (the gradient at 0 is 0), one
 * work-item per element. x may be the forward's input or its output: both
 * are positive at the same places. */
#include "common.h"

__kernel void relu_backward(const __global real *dy, const __global real *x, __global real *dx,
                            idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    dx[k] = x[k] > (real)0 ? dy[k] : (real)0;
}
