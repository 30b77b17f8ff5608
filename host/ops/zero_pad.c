/* Zero padding as an op of its own (convolution never materialises it). */
#include <limits.h>

#include "internal.h"

clcnn_status clcnn_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad)
{
    static const char op[] = "zero_pad";
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "x", x)))
        return st;
    if (pad < 0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: pad is %d; it must be at least 0", op, pad);
    if ((st = clcnn__check_tensor(ctx, op, "x_pad", x_pad, x->dtype)))
        return st;
    const size_t want[4] = {x->dims[0], x->dims[1] + 2 * (size_t)pad, x->dims[2] + 2 * (size_t)pad, x->dims[3]};
    if ((st = clcnn__check_dims(ctx, op, "x_pad", x_pad, want)) ||
        (st = clcnn__check_distinct(ctx, op, "x_pad", x_pad, "x", x)))
        return st;

    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_zero_pad, x->dtype, "", "zero_pad", &k)))
        return st;
    const int n_H = (int)x->dims[1], n_W = (int)x->dims[2], n_C = (int)x->dims[3];
    const int total = (int)x_pad->count; /* < 2^31: checked by clcnn__check_tensor */
    const clcnn_arg args[] = {CLCNN_ARG(x->mem), CLCNN_ARG(x_pad->mem), CLCNN_ARG(n_H),  CLCNN_ARG(n_W),
                              CLCNN_ARG(n_C),    CLCNN_ARG(pad),        CLCNN_ARG(total)};
    const size_t global[1] = {(size_t)total}, local[1] = {(size_t)ctx->tuning.elementwise_local};
    if ((st = clcnn__set_args(ctx, op, k, args, 7)))
        return st;
    return clcnn__launch(ctx, op, k, 1, global, local);
}
