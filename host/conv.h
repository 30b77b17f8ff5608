/* What the convolution files share (conv.c and the kernels' planners):
 * the validated shape of a call. */
#ifndef CLCNN_CONV_H
#define CLCNN_CONV_H

#include "internal.h"

typedef struct clcnn_conv_shape {
    int m, n_H_prev, n_W_prev, n_C_prev;
    int f_h, f_w, n_C;
    int n_H, n_W;
    int stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int groups, in_group, out_group; /* channels per group: n_C_prev / groups, n_C / groups */
    int n_pixels;                    /* m * n_H * n_W: rows of the implicit GEMM */
} clcnn_conv_shape;

/* The shape arguments every conv kernel takes, in the order of
 * CONV_SHAPE_PARAMS in kernels/common.h. */
#define CLCNN_CONV_SHAPE_ARGS(s)                                                                               \
    CLCNN_ARG((s).m), CLCNN_ARG((s).n_H_prev), CLCNN_ARG((s).n_W_prev), CLCNN_ARG((s).n_C_prev),              \
        CLCNN_ARG((s).f_h), CLCNN_ARG((s).f_w), CLCNN_ARG((s).n_C), CLCNN_ARG((s).n_H), CLCNN_ARG((s).n_W),   \
        CLCNN_ARG((s).stride_h), CLCNN_ARG((s).stride_w), CLCNN_ARG((s).pad_top), CLCNN_ARG((s).pad_left),    \
        CLCNN_ARG((s).dilation_h), CLCNN_ARG((s).dilation_w), CLCNN_ARG((s).groups)

#endif
