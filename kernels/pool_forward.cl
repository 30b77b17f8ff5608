/* Pooling forward, max or average over f x f windows (no padding); one
 * work-item per output element, channels fastest so neighbouring items read
 * neighbouring memory. Max keeps the first maximum (strict >). */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

__kernel void pool_forward(const __global real *a_prev, __global real *a, int n_H_prev,
                           int n_W_prev, int n_C, int n_H, int n_W, int f, int stride,
                           int average, idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    const int c = k % n_C;
    const idx_t q = k / n_C;
    const int w = q % n_W;
    const idx_t q2 = q / n_W;
    const int h = q2 % n_H;
    const idx_t i = q2 / n_H;
    const __global real *win = a_prev + ((i * n_H_prev + h * stride) * n_W_prev + w * stride) * n_C + c;
    real acc = average ? (real)0 : win[0];
    for (int kh = 0; kh < f; kh++)
        for (int kw = 0; kw < f; kw++) {
            real v = win[((idx_t)kh * n_W_prev + kw) * n_C];
            acc = average ? acc + v : (v > acc ? v : acc);
        }
    a[k] = average ? acc / (real)(f * f) : acc;
}
