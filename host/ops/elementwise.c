/* The element-wise kernels' launch geometry: the plan (pure), the program
 * options and the launch. */
#include <stdio.h>

#include "elementwise.h"

clcnn_elementwise_plan clcnn__elementwise_plan(const clcnn_tuning *tuning, unsigned compute_units, size_t vectors)
{
    clcnn_elementwise_plan plan;
    plan.local = (size_t)tuning->elementwise_local;
    /* As many vectors per work-item as elementwise_chunk allows while the
     * launch keeps elementwise_spread groups per compute unit: few groups
     * for a large tensor (each costs a dispatch), and still every unit
     * busy for a small one. */
    const size_t spread = (size_t)tuning->elementwise_spread * (compute_units ? compute_units : 1);
    size_t chunk = (vectors + plan.local * spread - 1) / (plan.local * spread);
    if (chunk > (size_t)tuning->elementwise_chunk)
        chunk = (size_t)tuning->elementwise_chunk;
    plan.chunk = chunk ? (int)chunk : 1;
    const size_t per_group = plan.local * (size_t)plan.chunk;
    plan.groups = vectors ? (vectors + per_group - 1) / per_group : 1;
    return plan;
}

clcnn_status clcnn__elementwise_kernel(clcnn_context *ctx, const char *op, clcnn_kernel_file file, clcnn_dtype dtype,
                                       const char *options, size_t out_bytes, int aligned, const char *entry,
                                       cl_kernel *out)
{
    char all[128];
    snprintf(all, sizeof all, "-DVECTOR=%d%s %s", ctx->tuning.elementwise_vector,
             clcnn__stream_stores(ctx, out_bytes, aligned) ? " -DSTREAM_STORES=1" : "", options);
    return clcnn__get_kernel(ctx, op, file, dtype, all, entry, out);
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
