/* clcnn_tensor_convert: validation, then the element-wise kernel of
 * convert.cl built for the pair of dtypes. */
#include <stdio.h>

#include "convert.h"
#include "elementwise.h"

/* The storage names convert.cl takes for SRC and DST. */
static const char *format_name(clcnn_dtype d)
{
    switch (d) {
    case CLCNN_FLOAT64: return "F64";
    case CLCNN_FLOAT16: return "F16";
    case CLCNN_BFLOAT16: return "BF16";
    default: return "F32";
    }
}

clcnn_status clcnn__convert_kernel(clcnn_context *ctx, const char *op, clcnn_dtype from, clcnn_dtype to, cl_kernel *k)
{
    /* The program is float64's where either side is (its `real` is double
     * then, and the device has cl_khr_fp64: such a tensor exists). */
    const clcnn_dtype program = from == CLCNN_FLOAT64 || to == CLCNN_FLOAT64 ? CLCNN_FLOAT64 : CLCNN_FLOAT32;
    char options[64];
    snprintf(options, sizeof options, "-DSRC=%s -DDST=%s", format_name(from), format_name(to));
    return clcnn__elementwise_kernel(ctx, op, CLCNN_FILE_convert, program, options, 0, 0, "convert", k);
}

clcnn_status clcnn__convert_launch(clcnn_context *ctx, const char *op, cl_kernel k, cl_mem src, cl_mem dst,
                                   size_t count)
{
    const int total = (int)count; /* < 2^31: the callers' tensors passed clcnn__check_tensor */
    const clcnn_arg args[] = {CLCNN_ARG(src), CLCNN_ARG(dst), CLCNN_ARG(total)};
    const size_t vector = (size_t)ctx->tuning.elementwise_vector;
    const clcnn_elementwise_plan plan =
        clcnn__elementwise_plan(&ctx->tuning, ctx->compute_units, (count + vector - 1) / vector);
    return clcnn__elementwise_launch(ctx, op, k, args, 3, &plan);
}

clcnn_status clcnn_tensor_convert(clcnn_context *ctx, const clcnn_tensor *src, clcnn_tensor *dst)
{
    static const char op[] = "tensor_convert";
    clcnn_status st;
    /* dst may have any dtype (that is the point): check it against its own. */
    if ((st = clcnn__check_first(ctx, op, "src", src)) ||
        (st = clcnn__check_tensor(ctx, op, "dst", dst, dst ? dst->dtype : src->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "dst", dst, src->dims)) ||
        (st = clcnn__check_distinct(ctx, op, "dst", dst, "src", src)))
        return st;
    cl_kernel k;
    if ((st = clcnn__convert_kernel(ctx, op, src->dtype, dst->dtype, &k)))
        return st;
    return clcnn__convert_launch(ctx, op, k, src->mem, dst->mem, src->count);
}
