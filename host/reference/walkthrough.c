/* The CPU reference of clcnn: the numpy walkthrough's functions in plain C,
 * double precision, NHWC. It is the oracle of the tests and of `clcnn check`,
 * so it keeps the walkthrough's loops; only the convolution loops are
 * arranged so the innermost loop runs over contiguous channels, which keeps
 * the large benchmark layers at seconds instead of minutes.
 *
 * Padding is never materialised: a tap that falls into the padding adds
 * nothing to a sum and receives no gradient, so it is skipped. That is also
 * how conv_backward writes dA_prev directly (the walkthrough computes
 * dA_prev_pad and never copies it back). */
#include "clcnn_reference.h"
#include "window.h"

#include <string.h>

/* The walkthrough's ops are the 0.2 ops with the default params
 * (ops_ex.c): one implementation of each. */
int clcnn_ref_conv_output_dims(const size_t a_dims[4], const size_t w_dims[4], int stride, int pad, size_t z_dims[4])
{
    const clcnn_conv_params p = clcnn_conv_params_default(stride, pad);
    return clcnn_ref_conv_output_dims_ex(a_dims, w_dims, &p, z_dims);
}

int clcnn_ref_pool_output_dims(const size_t a_dims[4], int f, int stride, size_t out_dims[4])
{
    const clcnn_pool_params p = clcnn_pool_params_default(f, stride);
    return clcnn_ref_pool_output_dims_ex(a_dims, &p, out_dims);
}

void clcnn_ref_zero_pad(const double *x, const size_t x_dims[4], int pad, double *x_pad)
{
    const size_t m = x_dims[0], n_h = x_dims[1], n_w = x_dims[2], n_c = x_dims[3];
    const size_t p = (size_t)pad, n_h_pad = n_h + 2 * p, n_w_pad = n_w + 2 * p;
    memset(x_pad, 0, m * n_h_pad * n_w_pad * n_c * sizeof *x_pad);
    for (size_t i = 0; i < m; i++)
        for (size_t h = 0; h < n_h; h++)
            memcpy(x_pad + ((i * n_h_pad + h + p) * n_w_pad + p) * n_c, x + (i * n_h + h) * n_w * n_c,
                   n_w * n_c * sizeof *x);
}

double clcnn_ref_conv_single_step(const double *a_slice_prev, const double *w, double b, size_t n)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += a_slice_prev[k] * w[k];
    return sum + b;
}

void clcnn_ref_conv_forward(const double *a_prev, const size_t a_dims[4], const double *w, const size_t w_dims[4],
                            const double *b, int stride, int pad, double *z)
{
    const clcnn_conv_params p = clcnn_conv_params_default(stride, pad);
    clcnn_ref_conv_forward_ex(a_prev, a_dims, w, w_dims, b, &p, CLCNN_ACTIVATION_NONE, z);
}

void clcnn_ref_conv_backward(const double *dz, const double *a_prev, const size_t a_dims[4], const double *w,
                             const size_t w_dims[4], int stride, int pad, double *da_prev, double *dw, double *db)
{
    const clcnn_conv_params p = clcnn_conv_params_default(stride, pad);
    clcnn_ref_conv_backward_ex(dz, a_prev, a_dims, w, w_dims, &p, da_prev, dw, db);
}

void clcnn_ref_create_mask_from_window(const double *x, size_t n_h, size_t n_w, double *mask)
{
    for (size_t k = 0; k < n_h * n_w; k++)
        mask[k] = 0.0;
    mask[clcnn__ref_first_max(x, n_h, n_w, n_w, 1)] = 1.0;
}

void clcnn_ref_distribute_value(double dz, size_t n_h, size_t n_w, double *a)
{
    const double share = clcnn__ref_share(dz, n_h * n_w);
    for (size_t k = 0; k < n_h * n_w; k++)
        a[k] = share;
}

void clcnn_ref_pool_forward(const double *a_prev, const size_t a_dims[4], int f, int stride, clcnn_pool_mode mode,
                            double *a)
{
    const clcnn_pool_params p = clcnn_pool_params_default(f, stride);
    clcnn_ref_pool_forward_ex(a_prev, a_dims, &p, mode, a);
}

void clcnn_ref_pool_backward(const double *da, const double *a_prev, const size_t a_dims[4], int f, int stride,
                             clcnn_pool_mode mode, double *da_prev)
{
    const clcnn_pool_params p = clcnn_pool_params_default(f, stride);
    clcnn_ref_pool_backward_ex(da, a_prev, a_dims, &p, mode, da_prev);
}
