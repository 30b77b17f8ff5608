/* ReLU forward and backward: validation, then the element-wise kernels of
 * relu_forward.cl and relu_backward.cl. */
#include "elementwise.h"

/* One launch of `entry` over `out`'s elements with args (then total and
 * chunk). */
static clcnn_status relu_launch(clcnn_context *ctx, const char *op, clcnn_kernel_file file, const char *entry,
                                const clcnn_tensor *out, const clcnn_arg *tensors, int count)
{
    const int vector = ctx->tuning.elementwise_vector;
    cl_kernel k;
    clcnn_status st = clcnn__elementwise_kernel(ctx, op, file, out->dtype, "", out->bytes, 1, entry, &k);
    if (st != CLCNN_OK)
        return st;
    const int total = (int)out->count; /* < 2^31: checked by clcnn__check_tensor */
    clcnn_arg args[4];
    for (int i = 0; i < count; i++)
        args[i] = tensors[i];
    args[count] = (clcnn_arg)CLCNN_ARG(total);
    const clcnn_elementwise_plan plan = clcnn__elementwise_plan(&ctx->tuning, ctx->compute_units,
                                                                (out->count + (size_t)vector - 1) / (size_t)vector);
    return clcnn__elementwise_launch(ctx, op, k, args, count + 1, &plan);
}

clcnn_status clcnn_relu_forward(clcnn_context *ctx, const clcnn_tensor *x, clcnn_tensor *y)
{
    static const char op[] = "relu_forward";
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "x", x)) || (st = clcnn__check_tensor(ctx, op, "y", y, x->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "y", y, x->dims)) || (st = clcnn__check_distinct(ctx, op, "y", y, "x", x)))
        return st;
    const clcnn_arg tensors[] = {CLCNN_ARG(x->mem), CLCNN_ARG(y->mem)};
    return relu_launch(ctx, op, CLCNN_FILE_relu_forward, "relu_forward", y, tensors, 2);
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
    const clcnn_arg tensors[] = {CLCNN_ARG(dy->mem), CLCNN_ARG(x->mem), CLCNN_ARG(dx->mem)};
    return relu_launch(ctx, op, CLCNN_FILE_relu_backward, "relu_backward", dx, tensors, 3);
}
