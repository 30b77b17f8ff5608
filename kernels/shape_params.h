/* The shape arguments of the conv and pooling kernels, in their order: the
 * one definition that both the kernels' parameter lists (CONV_SHAPE_PARAMS
 * in conv_common.h, POOL_SHAPE_PARAMS in pool_common.h) and the host's
 * argument lists (CLCNN_CONV_SHAPE_ARGS in host/ops/conv/conv.h,
 * POOL_SHAPE_ARGS in host/ops/pool.c) expand, so that they cannot fall out
 * of step. Plain preprocessor text that OpenCL C and C read alike.
 * LIST(X, SEP, a, b) expands X(a, b, where, name) for each int argument,
 * SEP between them; `where` says which of the host's values holds it
 * (SHAPE: the shape, PARAMS: the pooling params, PLAN: the launch plan),
 * and a and b pass on whatever X needs besides. */
#ifndef CLCNN_SHAPE_PARAMS_H
#define CLCNN_SHAPE_PARAMS_H

#define CLCNN_COMMA ,
/* What the kernels expand the lists with: a parameter, and its name. */
#define CLCNN_SHAPE_PARAM(a, b, where, name) int name
#define CLCNN_SHAPE_NAME(a, b, where, name) name

/* Tap (kh, kw) of output pixel (h, w) reads input pixel (h * stride_h -
 * pad_top + kh * dilation_h, w * stride_w - pad_left + kw * dilation_w);
 * group g maps input channels [g, g + 1) * n_C_prev / groups to output
 * channels [g, g + 1) * n_C / groups, and w is (f_h, f_w, n_C_prev /
 * groups, n_C). */
#define CLCNN_CONV_SHAPE(X, SEP, a, b)                                                                                 \
    X(a, b, SHAPE, m) SEP X(a, b, SHAPE, n_H_prev) SEP X(a, b, SHAPE, n_W_prev) SEP X(a, b, SHAPE, n_C_prev)           \
    SEP X(a, b, SHAPE, f_h) SEP X(a, b, SHAPE, f_w) SEP X(a, b, SHAPE, n_C) SEP X(a, b, SHAPE, n_H)                    \
    SEP X(a, b, SHAPE, n_W) SEP X(a, b, SHAPE, stride_h) SEP X(a, b, SHAPE, stride_w) SEP X(a, b, SHAPE, pad_top)      \
    SEP X(a, b, SHAPE, pad_left) SEP X(a, b, SHAPE, dilation_h) SEP X(a, b, SHAPE, dilation_w)                         \
    SEP X(a, b, SHAPE, groups)

/* The window of output pixel (h, w) has f_h x f_w taps from input pixel
 * (h * stride_h - pad_top, w * stride_w - pad_left); taps in the padding
 * take no part (pad_bottom and pad_right only set the output's extent,
 * which the host computes). count_include_pad: an average divides by
 * f_h * f_w (1) or by the window's in-image taps (0). `channels` is how
 * many channels one work-item takes. */
#define CLCNN_POOL_SHAPE(X, SEP, a, b)                                                                                 \
    X(a, b, SHAPE, n_H_prev) SEP X(a, b, SHAPE, n_W_prev) SEP X(a, b, SHAPE, n_C) SEP X(a, b, SHAPE, n_H)              \
    SEP X(a, b, SHAPE, n_W) SEP X(a, b, PARAMS, f_h) SEP X(a, b, PARAMS, f_w) SEP X(a, b, PARAMS, stride_h)            \
    SEP X(a, b, PARAMS, stride_w) SEP X(a, b, PARAMS, pad_top) SEP X(a, b, PARAMS, pad_left)                           \
    SEP X(a, b, PARAMS, count_include_pad) SEP X(a, b, PLAN, channels)

#endif
