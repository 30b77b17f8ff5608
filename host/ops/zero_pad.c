/* Zero padding as an op of its own (convolution never materialises it). */
#include <limits.h>

#include "elementwise.h"

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

    /* Each output row (image, h) is row_vectors vectors, its last one
     * partial where the row is not a multiple of the vector. */
    const int n_H = (int)x->dims[1], n_W = (int)x->dims[2], n_C = (int)x->dims[3];
    const size_t row_length = x_pad->dims[2] * x_pad->dims[3], vector = (size_t)ctx->tuning.elementwise_vector;
    const int row_vectors = (int)((row_length + vector - 1) / vector);
    /* At most x_pad's elements, so below 2^31 (clcnn__check_tensor). */
    const size_t vectors = x_pad->dims[0] * x_pad->dims[1] * (size_t)row_vectors;
    cl_kernel k;
    if ((st = clcnn__elementwise_kernel(ctx, op, CLCNN_FILE_zero_pad, x->dtype, "", x_pad->bytes,
                                        row_length % vector == 0, "zero_pad", &k)))
        return st;
    const int vector_count = (int)vectors;
    const clcnn_arg args[] = {CLCNN_ARG(x->mem), CLCNN_ARG(x_pad->mem), CLCNN_ARG(n_H),         CLCNN_ARG(n_W),
                              CLCNN_ARG(n_C),    CLCNN_ARG(pad),        CLCNN_ARG(row_vectors), CLCNN_ARG(vector_count)};
    const clcnn_elementwise_plan plan = clcnn__elementwise_plan(&ctx->tuning, ctx->compute_units, vectors);
    return clcnn__elementwise_launch(ctx, op, k, args, 8, &plan);
}
