/* One SGD step with momentum and L2 weight decay, in place (PyTorch's SGD
 * without dampening or Nesterov):
 *   g = grad + weight_decay * param
 *   velocity = momentum * velocity + g     (WITH_VELOCITY=1)
 *   param -= lr * velocity                 (lr * g without velocity)
 * Whole vectors per work-item, the tensor's last partial vector in scalars
 * (elementwise.h). In 16-bit storage the step is computed in float from
 * the loaded values and each of velocity and param rounded once as it is
 * stored (the new velocity, not its rounding, goes into param). */
#include "elementwise.h"

#ifndef WITH_VELOCITY
#ifdef CLCNN_COMPILE_ALONE
#define WITH_VELOCITY 1
#else
#error "WITH_VELOCITY must be passed with -D"
#endif
#endif

#if WITH_VELOCITY
#define VELOCITY_PARAM __global storage *velocity,
#else
#define VELOCITY_PARAM
#endif

__kernel void sgd_update(__global storage *param, const __global storage *grad, VELOCITY_PARAM real lr, real momentum,
                         real weight_decay, idx_t total, int chunk)
{
    for (int j = 0; j < chunk; j++) {
        const offset_t at = vector_index(chunk, j) * VECTOR;
        if (at >= (offset_t)total)
            return;
        if ((offset_t)total - at >= VECTOR) {
            const vreal p = LOAD_VECTOR(param + at);
            const vreal g = LOAD_VECTOR(grad + at) + weight_decay * p;
#if WITH_VELOCITY
            const vreal v = momentum * LOAD_VECTOR(velocity + at) + g;
            SSTORE(VECTOR)(v, 0, velocity + at);
#else
            const vreal v = g;
#endif
            SSTORE(VECTOR)(p - lr * v, 0, param + at);
        } else {
            for (offset_t e = at; e < (offset_t)total; e++) {
                const real p = SLOAD_1(e, param);
                const real g = SLOAD_1(e, grad) + weight_decay * p;
#if WITH_VELOCITY
                const real v = momentum * SLOAD_1(e, velocity) + g;
                SSTORE_1(v, e, velocity);
#else
                const real v = g;
#endif
                SSTORE_1(p - lr * v, e, param);
            }
        }
    }
}
