/* Conversion between dtypes on the device (convert.c, kernels/convert.cl),
 * for clcnn_tensor_convert and for ops that stage 16-bit tensors through
 * float32 workspace (conv.c). */
#ifndef CLCNN_OPS_CONVERT_H
#define CLCNN_OPS_CONVERT_H

#include "internal.h"

/* Builds (or finds) the kernel that converts `from` into `to`, with the
 * rounding of clcnn_tensor_convert. Kept apart from the launch so that a
 * caller can build everything before it enqueues anything. */
clcnn_status clcnn__convert_kernel(clcnn_context *ctx, const char *op, clcnn_dtype from, clcnn_dtype to, cl_kernel *k);

/* Enqueues k (from clcnn__convert_kernel) over `count` elements (below
 * 2^31) of src into dst, on the context's queue. */
clcnn_status clcnn__convert_launch(clcnn_context *ctx, const char *op, cl_kernel k, cl_mem src, cl_mem dst,
                                   size_t count);

#endif
