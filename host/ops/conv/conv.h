/* What the convolution files share (conv.c, conv_gpu.c, conv_depthwise.c
 * and the planner, conv_plan.c): the validated shape of a call, the
 * kernels the CHOICE keys name. The plans are in conv_plan.h. */
#ifndef CLCNN_CONV_H
#define CLCNN_CONV_H

#include "internal.h"
/* The kernels' shape arguments, one list for both sides. */
#include "shape_params.h"

typedef struct clcnn_conv_shape {
    int m, n_H_prev, n_W_prev, n_C_prev;
    int f_h, f_w, n_C;
    int n_H, n_W;
    int stride_h, stride_w, pad_top, pad_left, dilation_h, dilation_w;
    int groups, in_group, out_group; /* channels per group: n_C_prev / groups, n_C / groups */
    int n_pixels;                    /* m * n_H * n_W: rows of the implicit GEMM */
    int gemm_view;                   /* seen as one row of n_pixels pixels (conv_plan.c, view_as_gemm) */
} clcnn_conv_shape;

/* The shape arguments every conv kernel takes, for the clcnn_conv_shape s:
 * expanded from the list the kernels' CONV_SHAPE_PARAMS expands. */
#define CLCNN_CONV_SHAPE_ARG(s, unused, where, name) CLCNN_ARG((s).name)
#define CLCNN_CONV_SHAPE_ARGS(s) CLCNN_CONV_SHAPE(CLCNN_CONV_SHAPE_ARG, CLCNN_COMMA, s, )

/* The shape helpers below are defined with the planner (conv_plan.c). */
/* The shape of dA at stride 1 seen as a forward convolution of dZ with W
 * turned by 180 degrees: input and output swapped, pads
 * (f - 1) * dilation - pad on the top and left (negative for a pad past
 * the window), the output dA's size. */
clcnn_conv_shape clcnn__turned_shape(const clcnn_conv_shape *s);
/* The widest vector up to the tuned one that `channels` can use. */
int clcnn__vector_for(int tuned, int channels);
/* Pixels per work-item along a row of `width`: all of it when it is no
 * wider than the tuned tile, else the tuned tile or the largest one above
 * half of it that divides the row, so that no tile is partial (a partial
 * tile takes the masked path for every tap): 28-wide rows take 7-pixel
 * tiles instead of 3 x 8 + 4, 7-wide rows one tile of 7 (docs/performance.md). */
int clcnn__tile_for_width(int tuned, int width);

/* The kernels of conv dA and dW and of depthwise dA, in the order of the
 * conv_data, conv_filter and depthwise_data keys' values
 * (CLCNN_CONV_DATA_KERNELS, CLCNN_CONV_FILTER_KERNELS,
 * CLCNN_DEPTHWISE_DATA_KERNELS, tuning_table.h); _auto leaves the choice to
 * the planner's rules. */
#define CLCNN_CONV_DATA_ENUM(name) CLCNN_CONV_DATA_##name,
typedef enum clcnn_conv_data_kernel {
    CLCNN_CONV_DATA_auto,
    CLCNN_CONV_DATA_KERNELS(CLCNN_CONV_DATA_ENUM)
} clcnn_conv_data_kernel;
#undef CLCNN_CONV_DATA_ENUM
#define CLCNN_CONV_FILTER_ENUM(name) CLCNN_CONV_FILTER_##name,
typedef enum clcnn_conv_filter_kernel {
    CLCNN_CONV_FILTER_auto,
    CLCNN_CONV_FILTER_KERNELS(CLCNN_CONV_FILTER_ENUM)
} clcnn_conv_filter_kernel;
#undef CLCNN_CONV_FILTER_ENUM
#define CLCNN_DEPTHWISE_DATA_ENUM(name) CLCNN_DEPTHWISE_DATA_##name,
typedef enum clcnn_depthwise_data_kernel {
    CLCNN_DEPTHWISE_DATA_auto,
    CLCNN_DEPTHWISE_DATA_KERNELS(CLCNN_DEPTHWISE_DATA_ENUM)
} clcnn_depthwise_data_kernel;
#undef CLCNN_DEPTHWISE_DATA_ENUM
/* ---- depthwise convolution (conv_depthwise.c, conv_depthwise_plan.c, kernels/conv_depthwise.cl) ----
 * One input channel per group (groups == n_C_prev > 1, w (f_h, f_w, 1,
 * n_C_prev * multiplier)): no reduction over channels, a per-channel
 * stencil that is memory-bound, vectorised along channels. conv.c hands
 * such layers to these instead of the GEMM kernels; db stays with conv.c's
 * bias kernels. Validation is done before any of them is called. */
int clcnn__depthwise_applies(const clcnn_conv_shape *s);
/* z = act(conv(a_prev, w) + b); b may be NULL. */
clcnn_status clcnn__depthwise_forward(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                      const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                      clcnn_activation act, clcnn_tensor *z);

/* The planner (conv_depthwise_plan.c, pure: no context, no OpenCL). */
/* A launch over rows of pixels, forward or dA: VECTOR channels per load,
 * `channels` per work-item, TILE pixels per item along a row. The grid
 * need not be a multiple of the work-group: the launch rounds it up and
 * the extra items return at once. */
typedef struct clcnn_depthwise_rows_plan {
    clcnn_kernel_plan kernel;
    size_t global[3], local[3];
    int vector, tile, channels;
    int window; /* the window along w compiled in (-DFILTER_H ...) */
} clcnn_depthwise_rows_plan;
/* The forward of layer s (act RELU: relu). */
void clcnn__depthwise_plan_forward(const clcnn_conv_shape *s, clcnn_dtype dt, int has_bias, int relu,
                                   const clcnn_device_facts *dev, const clcnn_tuning *t, clcnn_depthwise_rows_plan *p);
/* dA and dW (db stays with conv.c's bias kernels). */
typedef struct clcnn_depthwise_backward_plan {
    clcnn_depthwise_data_kernel data_kernel; /* dA's kernel; _auto: no dA */
    clcnn_depthwise_rows_plan data;
    clcnn_conv_shape data_shape; /* _forward: the forward's shape, dZ into dA (clcnn__turned_shape) */
    int data_residues;           /* _gather: stride residues along w, in the grid's dim 1 */
    /* dW by chunks of output rows into partial sums (filter), then their
     * sum in chunk order (filter_sum); entries NULL without dW. */
    clcnn_kernel_plan filter, filter_sum;
    size_t filter_global[3], filter_local[3];
    size_t sum_global, sum_local;
    int filter_vector, filter_kh_block, filter_chunk_rows, filter_chunks;
    size_t filter_count;      /* |dW|: f_h * f_w * n_C */
    size_t filter_part_bytes; /* workspace of the partial sums: chunks x |dW| */
} clcnn_depthwise_backward_plan;
void clcnn__depthwise_plan_gradients(const clcnn_conv_shape *s, clcnn_dtype dt, int want_data, int want_filter,
                                     const clcnn_device_facts *dev, const clcnn_tuning *t,
                                     clcnn_depthwise_backward_plan *plan);

/* What the backward enqueues need, made by clcnn__depthwise_plan_backward
 * before the call's first enqueue: the plan's kernels built and the
 * workspace sized, so that nothing can fail once one kernel runs. */
typedef struct clcnn_depthwise_plan {
    clcnn_depthwise_backward_plan plan;
    cl_kernel data;               /* dA, or NULL when not wanted */
    cl_kernel filter, filter_sum; /* dW and its chunk sum, or NULL */
    cl_mem filter_part;           /* dW's partial sums */
} clcnn_depthwise_plan;
clcnn_status clcnn__depthwise_plan_backward(clcnn_context *ctx, const char *op, clcnn_dtype dtype,
                                            const clcnn_conv_shape *s, int want_data, int want_filter,
                                            clcnn_depthwise_plan *plan);
clcnn_status clcnn__depthwise_backward_data(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                            const clcnn_depthwise_plan *plan, const clcnn_tensor *dz,
                                            const clcnn_tensor *w, clcnn_tensor *da_prev);
clcnn_status clcnn__depthwise_backward_filter(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                              const clcnn_depthwise_plan *plan, const clcnn_tensor *a_prev,
                                              const clcnn_tensor *dz, clcnn_tensor *dw);

#endif
