/* The CPU reference: the numpy walkthrough's functions in plain C, double
 * precision, same names prefixed clcnn_ref_. It is the oracle of the tests
 * and of `clcnn check`. It needs no OpenCL. Unlike the walkthrough, its
 * conv_backward writes dA_prev, and its max-pool backward (and the mask)
 * give the gradient to the first maximum of a window in row-major order
 * (to its last NaN where it holds one, as PyTorch does).
 *
 * All arrays are dense, row-major; 4-D tensors are NHWC and carry their dims
 * as size_t[4]. Arguments are assumed valid (the library validates; the
 * reference computes). */
#ifndef CLCNN_REFERENCE_H
#define CLCNN_REFERENCE_H

#include <stddef.h>
#include "clcnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output dims of a convolution / pooling; return 0, or -1 if the window does
 * not fit or an argument is out of range (stride < 1, pad < 0, f < 1). */
CLCNN_API int clcnn_ref_conv_output_dims(const size_t a_dims[4], const size_t w_dims[4], int stride, int pad,
                                         size_t z_dims[4]);
CLCNN_API int clcnn_ref_pool_output_dims(const size_t a_dims[4], int f, int stride, size_t out_dims[4]);

/* x (m, n_H, n_W, n_C) -> x_pad (m, n_H + 2pad, n_W + 2pad, n_C) */
CLCNN_API void clcnn_ref_zero_pad(const double *x, const size_t x_dims[4], int pad, double *x_pad);
/* sum(a_slice_prev * w) + b over n elements (a window of f*f*n_C_prev). */
CLCNN_API double clcnn_ref_conv_single_step(const double *a_slice_prev, const double *w, double b, size_t n);
/* z (m, n_H, n_W, n_C) from a_prev (m, n_H_prev, n_W_prev, n_C_prev),
 * w (f_h, f_w, n_C_prev, n_C), b (n_C). */
CLCNN_API void clcnn_ref_conv_forward(const double *a_prev, const size_t a_dims[4], const double *w,
                                      const size_t w_dims[4], const double *b, int stride, int pad, double *z);
/* Any of da_prev (a_dims), dw (w_dims), db (n_C) may be NULL. */
CLCNN_API void clcnn_ref_conv_backward(const double *dz, const double *a_prev, const size_t a_dims[4], const double *w,
                                       const size_t w_dims[4], int stride, int pad, double *da_prev, double *dw,
                                       double *db);
/* mask (n_h, n_w): 1 at the first maximum of x in row-major order (the
 * last NaN where x holds one), 0 elsewhere. */
CLCNN_API void clcnn_ref_create_mask_from_window(const double *x, size_t n_h, size_t n_w, double *mask);
/* a (n_h, n_w) = dz / (n_h * n_w) everywhere. */
CLCNN_API void clcnn_ref_distribute_value(double dz, size_t n_h, size_t n_w, double *a);
CLCNN_API void clcnn_ref_pool_forward(const double *a_prev, const size_t a_dims[4], int f, int stride,
                                      clcnn_pool_mode mode, double *a);
/* da has the pool output dims; da_prev has a_dims. */
CLCNN_API void clcnn_ref_pool_backward(const double *da, const double *a_prev, const size_t a_dims[4], int f,
                                       int stride, clcnn_pool_mode mode, double *da_prev);

/* ---- version 0.2: general convolution and pooling (reference/ops_ex.c) ----
 * The same ops with the params of clcnn_conv_forward_ex and
 * clcnn_pool_forward_ex (clcnn.h). Output dims return 0, or -1 when a
 * param is out of range, groups do not divide the channel counts, w's
 * dims disagree with them, or the window does not fit. */
CLCNN_API int clcnn_ref_conv_output_dims_ex(const size_t a_dims[4], const size_t w_dims[4],
                                            const clcnn_conv_params *params, size_t z_dims[4]);
CLCNN_API int clcnn_ref_pool_output_dims_ex(const size_t a_dims[4], const clcnn_pool_params *params,
                                            size_t out_dims[4]);
/* b may be NULL (no bias); act is applied after the bias. */
CLCNN_API void clcnn_ref_conv_forward_ex(const double *a_prev, const size_t a_dims[4], const double *w,
                                         const size_t w_dims[4], const double *b, const clcnn_conv_params *params,
                                         clcnn_activation act, double *z);
/* The gradients of conv_forward_ex with act NONE; any output may be NULL. */
CLCNN_API void clcnn_ref_conv_backward_ex(const double *dz, const double *a_prev, const size_t a_dims[4],
                                          const double *w, const size_t w_dims[4], const clcnn_conv_params *params,
                                          double *da_prev, double *dw, double *db);
CLCNN_API void clcnn_ref_pool_forward_ex(const double *a_prev, const size_t a_dims[4], const clcnn_pool_params *params,
                                         clcnn_pool_mode mode, double *a);
CLCNN_API void clcnn_ref_pool_backward_ex(const double *da, const double *a_prev, const size_t a_dims[4],
                                          const clcnn_pool_params *params, clcnn_pool_mode mode, double *da_prev);

/* ---- training ops (reference/train_ops.c) ---- */
/* y[i] = x[i] < 0 ? 0 : x[i] over n elements (NaN stays NaN). */
CLCNN_API void clcnn_ref_relu_forward(const double *x, size_t n, double *y);
/* dx[i] = x[i] <= 0 ? 0 : dy[i] over n elements (a NaN x passes dy[i]). */
CLCNN_API void clcnn_ref_relu_backward(const double *dy, const double *x, size_t n, double *dx);
/* logits (m, n_H, n_W, K) -> probs (same dims), loss (m, n_H, n_W) and the
 * mean of loss; labels (m, n_H, n_W) hold class indices. A label that is not
 * an integer in [0, K) gives that row a NaN loss. Any output may be NULL. */
CLCNN_API void clcnn_ref_softmax_cross_entropy_forward(const double *logits, const size_t logits_dims[4],
                                                       const double *labels, double *probs, double *loss,
                                                       double *mean_loss);
/* dlogits = (probs - onehot(labels)) / rows; NaN in rows with an invalid label. */
CLCNN_API void clcnn_ref_softmax_cross_entropy_backward(const double *probs, const size_t probs_dims[4],
                                                        const double *labels, double *dlogits);
/* In place over n elements: g = grad + weight_decay * param; velocity =
 * momentum * velocity + g (velocity NULL: taken as g alone); param -= lr * velocity. */
CLCNN_API void clcnn_ref_sgd_update(double *param, const double *grad, double *velocity, size_t n, double lr,
                                    double momentum, double weight_decay);

#ifdef __cplusplus
}
#endif
#endif
