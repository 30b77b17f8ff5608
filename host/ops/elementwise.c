/* The element-wise kernels' build and launch, as their plan
 * (elementwise_plan.c) says. */
#include "elementwise.h"

clcnn_status clcnn__elementwise_kernel(clcnn_context *ctx, const char *op, clcnn_kernel_file file, clcnn_dtype dtype,
                                       const char *options, size_t out_bytes, int aligned, const char *entry,
                                       cl_kernel *out)
{
    clcnn_kernel_plan plan;
    clcnn__elementwise_kernel_plan(&ctx->tuning, file, entry, options, out_bytes, aligned, &plan);
    return clcnn__get_planned_kernel(ctx, op, dtype, &plan, out);
}

clcnn_status clcnn__elementwise_launch(clcnn_context *ctx, const char *op, cl_kernel kernel, const clcnn_arg *args,
                                       int count, const clcnn_elementwise_plan *plan)
{
    /* Every caller passes a fixed count, at most CLCNN_ELEMENTWISE_MAX_ARGS. */
    clcnn_arg all[CLCNN_ELEMENTWISE_MAX_ARGS + 1];
    for (int i = 0; i < count; i++)
        all[i] = args[i];
    all[count] = (clcnn_arg)CLCNN_ARG(plan->chunk);
    clcnn_status st = clcnn__set_args(ctx, op, kernel, all, count + 1);
    if (st != CLCNN_OK)
        return st;
    /* A group the launch shrinks to the kernel's limit only makes more
     * groups of the same chunk: the kernels read their group's size. */
    const size_t global[1] = {plan->groups * plan->local}, local[1] = {plan->local};
    return clcnn__launch(ctx, op, kernel, 1, global, local);
}
