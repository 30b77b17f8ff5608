/* ReLU forward and backward: validation, then the element-wise kernels of
 * relu_forward.cl and relu_backward.cl. */
#include "internal.h"

clcnn_status clcnn_relu_forward(clcnn_context *ctx, const clcnn_tensor *x, clcnn_tensor *y)
{
    static const char op[] = "relu_forward";
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "x", x)) || (st = clcnn__check_tensor(ctx, op, "y", y, x->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "y", y, x->dims)) || (st = clcnn__check_distinct(ctx, op, "y", y, "x", x)))
        return st;
    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_relu_forward, x->dtype, "", "relu_forward", &k)))
        return st;
    const int total = (int)x->count; /* < 2^31: checked by clcnn__check_tensor */
    const clcnn_arg args[] = {CLCNN_ARG(x->mem), CLCNN_ARG(y->mem), CLCNN_ARG(total)};
    const size_t global[1] = {(size_t)total}, local[1] = {(size_t)ctx->tuning.elementwise_local};
    if ((st = clcnn__set_args(ctx, op, k, args, 3)))
        return st;
    return clcnn__launch(ctx, op, k, 1, global, local);
}

clcnn_status clcnn_relu_backward(clcnn_context *ctx, const clcnn_tensor *dy, const clcnn_tensor *x, clcnn_tensor *dx)
{
    static const char op[] = "relu_backward";
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "dy", dy)) || (st = clcnn__check_tensor(ctx, op, "x", x, dy->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "x", x, dy->dims)))
        return st;
    const clcnn_named_output outs[] = {{"dx", dx, dy->dims}};
    const clcnn_named_input ins[] = {{"dy", dy}, {"x", x}};
    if ((st = clcnn__check_outputs(ctx, op, dy->dtype, outs, 1, ins, 2, 0)))
        return st;
    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_relu_backward, dy->dtype, "", "relu_backward", &k)))
        return st;
    const int total = (int)dy->count;
    const clcnn_arg args[] = {CLCNN_ARG(dy->mem), CLCNN_ARG(x->mem), CLCNN_ARG(dx->mem), CLCNN_ARG(total)};
    const size_t global[1] = {(size_t)total}, local[1] = {(size_t)ctx->tuning.elementwise_local};
    if ((st = clcnn__set_args(ctx, op, k, args, 4)))
        return st;
    return clcnn__launch(ctx, op, k, 1, global, local);
}
