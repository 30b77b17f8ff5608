/* Zero padding: x_pad (m, n_H + 2 pad, n_W + 2 pad, n_C) from x; one
 * work-item per output element, so every element (border zeros included)
 * is written. */
#include "common.h"

__kernel void zero_pad(const __global real *x, __global real *x_pad, int n_H, int n_W, int n_C,
                       int pad, idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    const int n_W_pad = n_W + 2 * pad, n_H_pad = n_H + 2 * pad;
    const int c = k % n_C;
    const idx_t q = k / n_C;
    const int w = q % n_W_pad - pad;
    const idx_t q2 = q / n_W_pad;
    const int h = q2 % n_H_pad - pad;
    const idx_t i = q2 / n_H_pad;
    const int inside = h >= 0 && h < n_H && w >= 0 && w < n_W;
    x_pad[k] = inside ? x[((i * n_H + h) * n_W + w) * n_C + c] : (real)0;
}
