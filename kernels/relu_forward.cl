/* ReLU forward: y = x where x is not negative, else 0, one work-item per
 * element. Written as `x < 0 ? 0 : x` so that a NaN input stays NaN (a
 * diverging network should show NaN, not quietly turn into zeros). */
#include "common.h"

__kernel void relu_forward(const __global real *x, __global real *y, idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    const real v = x[k];
    y[k] = v < (real)0 ? (real)0 : v;
}
