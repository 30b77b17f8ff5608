/* The launch geometry of the element-wise kernels (kernels/elementwise.h):
 * zero_pad, ReLU, softmax cross-entropy, SGD. */
#ifndef CLCNN_OPS_ELEMENTWISE_H
#define CLCNN_OPS_ELEMENTWISE_H

#include "internal.h"

/* `vectors` units of work (vectors, or softmax's rows) as `groups` groups
 * of `local` work-items, each taking `chunk` of them. */
typedef struct clcnn_elementwise_plan {
    size_t local, groups;
    int chunk;
} clcnn_elementwise_plan;

/* The plan for `vectors` units (at least 1) on a device of `compute_units`
 * (at least 1: the context makes it so), from the tuning alone (pure). */
clcnn_elementwise_plan clcnn__elementwise_plan(const clcnn_tuning *tuning, unsigned compute_units, size_t vectors);

/* The kernel `entry` of `file` with -DVECTOR=elementwise_vector,
 * -DSTREAM_STORES=1 where the tuning streams `out_bytes` stored at aligned
 * vectors, and `options` (pure). */
void clcnn__elementwise_kernel_plan(const clcnn_tuning *tuning, clcnn_kernel_file file, const char *entry,
                                    const char *options, size_t out_bytes, int aligned, clcnn_kernel_plan *kernel);

/* Builds (or finds) `entry` of `file` with -DVECTOR=elementwise_vector,
 * -DSTREAM_STORES=1 where clcnn__tuning_stream_stores says so for `out_bytes`
 * stored at aligned vectors, and `options`. */
clcnn_status clcnn__elementwise_kernel(clcnn_context *ctx, const char *op, clcnn_kernel_file file, clcnn_dtype dtype,
                                       const char *options, size_t out_bytes, int aligned, const char *entry,
                                       cl_kernel *out);

/* Most arguments an element-wise kernel takes before its chunk. */
#define CLCNN_ELEMENTWISE_MAX_ARGS 10

/* Sets args[0 .. count) (count at most CLCNN_ELEMENTWISE_MAX_ARGS) and then the plan's chunk as the last argument,
 * and launches. */
clcnn_status clcnn__elementwise_launch(clcnn_context *ctx, const char *op, cl_kernel kernel, const clcnn_arg *args,
                                       int count, const clcnn_elementwise_plan *plan);

#endif
