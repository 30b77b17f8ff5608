/* ReLU forward: y = x where x is not negative, else 0. Written as
 * `x < 0 ? 0 : x` so that a NaN input stays NaN (a diverging network
 * should show NaN, not quietly turn into zeros). Whole vectors per
 * work-item, the tensor's last partial vector in scalars (elementwise.h).
 * In 16-bit storage a value goes out as it came in: a selection rounds
 * nothing. */
#include "elementwise.h"

__kernel void relu_forward(const __global storage *x, __global storage *y, idx_t total, int chunk)
{
    for (int j = 0; j < chunk; j++) {
        const offset_t at = vector_index(chunk, j) * VECTOR;
        if (at >= (offset_t)total)
            return;
        if ((offset_t)total - at >= VECTOR) {
            const vreal v = LOAD_VECTOR(x + at);
            STORE_OUTPUT(v < (vreal)0 ? (vreal)0 : v, y + at);
        } else {
            for (offset_t e = at; e < (offset_t)total; e++)
                SSTORE_1(SLOAD_1(e, x) < (real)0 ? (real)0 : SLOAD_1(e, x), e, y);
        }
    }
}
