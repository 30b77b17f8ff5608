/* The ops' own validation, exposed for clcnn_conv_output_dims and
 * clcnn_pool_output_dims (output_dims.c): the _ex ops' checks of a_prev,
 * w and params, then the output's dims. Nothing is enqueued. */
#ifndef CLCNN_OUTPUT_DIMS_H
#define CLCNN_OUTPUT_DIMS_H

#include "internal.h"

/* conv.c: conv_validate as clcnn_conv_forward_ex runs it. */
clcnn_status clcnn__conv_validate_dims(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                       const clcnn_tensor *w, const clcnn_conv_params *params, size_t z_dims[4]);
/* pool.c: pool_validate_ex as clcnn_pool_forward_ex runs it (in max mode:
 * the mode changes no dims). */
clcnn_status clcnn__pool_validate_dims(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                       const clcnn_pool_params *params, size_t a_dims[4]);

#endif
