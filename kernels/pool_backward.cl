/* Pooling backward, atomic-free: one work-item per input element gathers
 * the gradient of every window that covers it (covering range computed
 * directly). Average gives each window's dA / (f * f) to all its elements;
 * max gives it to the window's first maximum in row-major order, so ties
 * (e.g. whole windows of 0 after ReLU) keep the gradient's sum. */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

__kernel void pool_backward(const __global real *da, const __global real *a_prev,
                            __global real *da_prev, int n_H_prev, int n_W_prev, int n_C,
                            int n_H, int n_W, int f, int stride, int average, idx_t total)
{
    const idx_t k = get_global_id(0);
    if (k >= total)
        return;
    const int c = k % n_C;
    const idx_t q = k / n_C;
    const int wp = q % n_W_prev;
    const idx_t q2 = q / n_W_prev;
    const int hp = q2 % n_H_prev;
    const idx_t i = q2 / n_H_prev;
    const int h_lo = cover_lo(hp, 0, f, stride), h_hi = cover_hi(hp, 0, stride, n_H);
    const int w_lo = cover_lo(wp, 0, f, stride), w_hi = cover_hi(wp, 0, stride, n_W);
    const __global real *image = a_prev + i * n_H_prev * n_W_prev * n_C + c;
    const real here = a_prev[k];
    real acc = 0;
    for (int h = h_lo; h <= h_hi; h++) {
        for (int w = w_lo; w <= w_hi; w++) {
            const real g = da[((i * n_H + h) * n_W + w) * n_C + c];
            if (average) {
                acc += g / (real)(f * f);
                continue;
            }
            /* Is this element the window's first maximum? It is unless an
             * element before it is >= it or one after it is > it. */
            int first_max = 1;
            for (int kh = 0; kh < f && first_max; kh++)
                for (int kw = 0; kw < f; kw++) {
                    int y = h * stride + kh, x = w * stride + kw;
                    if (y == hp && x == wp)
                        continue;
                    real v = image[((idx_t)y * n_W_prev + x) * n_C];
                    int before = y < hp || (y == hp && x < wp);
                    if (before ? v >= here : v > here) {
                        first_max = 0;
                        break;
                    }
                }
            if (first_max)
                acc += g;
        }
    }
    da_prev[k] = acc;
}
