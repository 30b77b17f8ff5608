/* One SGD step with momentum and L2 weight decay, in place, one work-item
 * per parameter (PyTorch's SGD without dampening or Nesterov):
 *   g = grad + weight_decay * param
 *   velocity = momentum * velocity + g     (WITH_VELOCITY=1)
 *   param -= lr * velocity                 (lr * g without velocity) */
#include "common.h"

#ifndef WITH_VELOCITY
#ifdef CLCNN_COMPILE_ALONE
#define WITH_VELOCITY 1
#else
#error "WITH_VELOCITY must be passed with -D"
#endif
#endif

__kernel void sgd_update(__global real *param, const __global real *grad,
#if WITH_VELOCITY
                         __global real *velocity,
#endif
                         real lr, real momentum, real weight_decay, idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    const real p = param[k];
    const real g = grad[k] + weight_decay * p;
#if WITH_VELOCITY
    const real v = momentum * velocity[k] + g;
    velocity[k] = v;
#else
    const real v = g;
#endif
    param[k] = p - lr * v;
}
