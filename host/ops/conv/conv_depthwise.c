/* Depthwise convolution: builds and enqueues the kernels of
 * kernels/conv_depthwise.cl that its planner (conv_depthwise_plan.c)
 * chose, for conv.c (after its validation) on layers with one input
 * channel per group. */
#include "conv.h"

int clcnn__depthwise_applies(const clcnn_conv_shape *s)
{
    return s->groups > 1 && s->groups == s->n_C_prev;
}

static clcnn_status run_rows(clcnn_context *ctx, const char *op, cl_kernel k, const clcnn_arg *args, int n_args,
                             const clcnn_depthwise_rows_plan *p)
{
    clcnn_status st = clcnn__set_args(ctx, op, k, args, n_args);
    return st ? st : clcnn__launch(ctx, op, k, 3, p->global, p->local);
}

static clcnn_status run_forward(clcnn_context *ctx, const char *op, cl_kernel k, const clcnn_conv_shape *s,
                                const clcnn_depthwise_rows_plan *p, cl_mem in, cl_mem w, cl_mem b, cl_mem out)
{
    const clcnn_arg args[] = {
        CLCNN_ARG(in), CLCNN_ARG(w), CLCNN_ARG(b), CLCNN_ARG(out), CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(p->channels)};
    return run_rows(ctx, op, k, args, (int)(sizeof args / sizeof args[0]), p);
}

clcnn_status clcnn__depthwise_forward(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                      const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                      clcnn_activation act, clcnn_tensor *z)
{
    clcnn_depthwise_rows_plan p;
    clcnn__depthwise_plan_forward(s, a_prev->dtype, b != NULL, act == CLCNN_ACTIVATION_RELU, &ctx->facts, &ctx->tuning,
                                  &p);
    cl_kernel k;
    clcnn_status st = clcnn__get_planned_kernel(ctx, op, a_prev->dtype, &p.kernel, &k);
    if (st != CLCNN_OK)
        return st;
    /* Without a bias the kernel never reads b: any buffer stands in. */
    return run_forward(ctx, op, k, s, &p, a_prev->mem, w->mem, b ? b->mem : w->mem, z->mem);
}

clcnn_status clcnn__depthwise_plan_backward(clcnn_context *ctx, const char *op, clcnn_dtype dtype,
                                            const clcnn_conv_shape *s, int want_data, int want_filter,
                                            clcnn_depthwise_plan *plan)
{
    *plan = (clcnn_depthwise_plan){0};
    const clcnn_depthwise_backward_plan *p = &plan->plan;
    clcnn__depthwise_plan_gradients(s, dtype, want_data, want_filter, &ctx->facts, &ctx->tuning, &plan->plan);
    clcnn_status st;
    if (p->data_kernel != CLCNN_DEPTHWISE_DATA_auto &&
        (st = clcnn__get_planned_kernel(ctx, op, dtype, &p->data.kernel, &plan->data)))
        return st;
    if (p->filter.entry &&
        ((st = clcnn__get_planned_kernel(ctx, op, dtype, &p->filter, &plan->filter)) ||
         (st = clcnn__get_planned_kernel(ctx, op, dtype, &p->filter_sum, &plan->filter_sum)) ||
         (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_FILTER_PARTS, p->filter_part_bytes, &plan->filter_part))))
        return st;
    return CLCNN_OK;
}

clcnn_status clcnn__depthwise_backward_data(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                            const clcnn_depthwise_plan *plan, const clcnn_tensor *dz,
                                            const clcnn_tensor *w, clcnn_tensor *da_prev)
{
    const clcnn_depthwise_backward_plan *p = &plan->plan;
    if (p->data_kernel == CLCNN_DEPTHWISE_DATA_forward)
        return run_forward(ctx, op, plan->data, &p->data_shape, &p->data, dz->mem, w->mem, w->mem, da_prev->mem);
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem),        CLCNN_ARG(w->mem),           CLCNN_ARG(da_prev->mem),
                              CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(p->data.channels), CLCNN_ARG(p->data_residues)};
    return run_rows(ctx, op, plan->data, args, (int)(sizeof args / sizeof args[0]), &p->data);
}

clcnn_status clcnn__depthwise_backward_filter(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                              const clcnn_depthwise_plan *plan, const clcnn_tensor *a_prev,
                                              const clcnn_tensor *dz, clcnn_tensor *dw)
{
    const clcnn_depthwise_backward_plan *p = &plan->plan;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(dz->mem), CLCNN_ARG(plan->filter_part),
                              CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(p->filter_chunk_rows)};
    clcnn_status st = clcnn__set_args(ctx, op, plan->filter, args, (int)(sizeof args / sizeof args[0]));
    if (st || (st = clcnn__launch(ctx, op, plan->filter, 3, p->filter_global, p->filter_local)))
        return st;
    const int n = (int)p->filter_count;
    const clcnn_arg sum_args[] = {CLCNN_ARG(plan->filter_part), CLCNN_ARG(dw->mem), CLCNN_ARG(n),
                                  CLCNN_ARG(p->filter_chunks)};
    if ((st = clcnn__set_args(ctx, op, plan->filter_sum, sum_args, 4)))
        return st;
    return clcnn__launch(ctx, op, plan->filter_sum, 1, &p->sum_global, &p->sum_local);
}
