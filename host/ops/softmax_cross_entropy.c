/* Softmax cross-entropy forward (per-row probabilities and loss, then the
 * mean in one work-group) and backward: validation, the plan
 * (softmax_cross_entropy_plan.c), then the kernels of
 * softmax_cross_entropy_forward.cl and softmax_cross_entropy_backward.cl. */
#include <stdio.h>
#include <string.h>

#include "softmax_cross_entropy_plan.h"

/* The largest integer a 16-bit dtype holds exactly with every integer
 * below it (its significand's bits: 8 for bfloat16, 11 for float16). */
static int exact_integers(clcnn_dtype d)
{
    return d == CLCNN_BFLOAT16 ? 256 : 2048;
}

/* Labels are the tensors' dtype, or float32 with 16-bit scores (the one
 * exception to one dtype a call); 16-bit labels must hold every class. */
static clcnn_status check_labels_dtype(clcnn_context *ctx, const char *op, const clcnn_tensor *scores,
                                       const clcnn_tensor *labels)
{
    const int float_labels = labels && clcnn__dtype_is_16bit(scores->dtype) && labels->dtype == CLCNN_FLOAT32;
    clcnn_status st = clcnn__check_tensor(ctx, op, "labels", labels, float_labels ? CLCNN_FLOAT32 : scores->dtype);
    if (st != CLCNN_OK || !clcnn__dtype_is_16bit(labels->dtype) ||
        scores->dims[3] - 1 <= (size_t)exact_integers(labels->dtype))
        return st;
    return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                       "%s: labels is %s, which holds class indices exactly only up to %d, but there are %zu classes; "
                       "pass float32 labels (allowed with 16-bit logits)",
                       op, clcnn__dtype_name(labels->dtype), exact_integers(labels->dtype), scores->dims[3]);
}

/* Checks logits-like `scores` (m, n_H, n_W, K) and labels (m, n_H, n_W, 1). */
static clcnn_status check_scores_and_labels(clcnn_context *ctx, const char *op, const char *scores_name,
                                            const clcnn_tensor *scores, const clcnn_tensor *labels,
                                            size_t label_dims[4])
{
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, scores_name, scores)) || (st = check_labels_dtype(ctx, op, scores, labels)))
        return st;
    label_dims[0] = scores->dims[0];
    label_dims[1] = scores->dims[1];
    label_dims[2] = scores->dims[2];
    label_dims[3] = 1;
    return clcnn__check_dims(ctx, op, "labels", labels, label_dims);
}

/* float32 labels with 16-bit scores: the kernels read them as floats. */
static void plan_labels(clcnn_kernel_plan *plan, const clcnn_tensor *scores, const clcnn_tensor *labels)
{
    const size_t used = strlen(plan->options);
    if (labels->dtype != scores->dtype)
        snprintf(plan->options + used, sizeof plan->options - used, " -DCLCNN_LABELS_FLOAT=1");
}

/* The arithmetic's element size: float for 16-bit storage (local sums). */
static size_t real_size(clcnn_dtype dt)
{
    return dt == CLCNN_FLOAT64 ? 8 : 4;
}

/* Builds the one-group and the mean kernels, whose limits set the mean's
 * group (clcnn__softmax_mean_group) for either way. */
static clcnn_status mean_group(clcnn_context *ctx, const char *op, clcnn_dtype dt,
                               const clcnn_softmax_forward_plan *plan, cl_kernel *one_group, cl_kernel *mean,
                               size_t *group)
{
    clcnn_status st;
    if ((st = clcnn__get_planned_kernel(ctx, op, dt, &plan->one, one_group)) ||
        (st = clcnn__get_planned_kernel(ctx, op, dt, &plan->mean, mean)))
        return st;
    size_t limit = clcnn__kernel_wg_limit(ctx, *one_group), mean_limit = clcnn__kernel_wg_limit(ctx, *mean);
    *group = clcnn__softmax_mean_group(&ctx->tuning, mean_limit < limit ? mean_limit : limit);
    return CLCNN_OK;
}

/* Few rows: rows, losses and mean in one launch of one group. */
static clcnn_status softmax_one_group(clcnn_context *ctx, const char *op, const clcnn_softmax_forward_plan *plan,
                                      const clcnn_tensor *logits, const clcnn_tensor *labels, clcnn_tensor *probs,
                                      clcnn_tensor *loss, clcnn_tensor *mean_loss, int n_classes, int rows)
{
    cl_kernel k, mean_kernel;
    size_t group;
    clcnn_status st = mean_group(ctx, op, logits->dtype, plan, &k, &mean_kernel, &group);
    if (st != CLCNN_OK)
        return st;
    const clcnn_arg args[] = {CLCNN_ARG(logits->mem),    CLCNN_ARG(labels->mem),
                              CLCNN_ARG(probs->mem),     CLCNN_ARG(loss->mem),
                              CLCNN_ARG(mean_loss->mem), CLCNN_ARG(n_classes),
                              CLCNN_ARG(rows),           {group * real_size(logits->dtype), NULL}};
    const size_t global[1] = {group}, local[1] = {group};
    if ((st = clcnn__set_args(ctx, op, k, args, 8)))
        return st;
    return clcnn__launch(ctx, op, k, 1, global, local);
}

/* Many rows: the rows across the device, then the mean in one group. */
static clcnn_status softmax_two_launches(clcnn_context *ctx, const char *op, const clcnn_softmax_forward_plan *plan,
                                         const clcnn_tensor *logits, const clcnn_tensor *labels, clcnn_tensor *probs,
                                         clcnn_tensor *loss, clcnn_tensor *mean_loss, int n_classes, int rows)
{
    cl_kernel rows_kernel, one_group, mean_kernel;
    size_t group;
    clcnn_status st = mean_group(ctx, op, logits->dtype, plan, &one_group, &mean_kernel, &group);
    if (st != CLCNN_OK || (st = clcnn__get_planned_kernel(ctx, op, logits->dtype, &plan->rows, &rows_kernel)))
        return st;
    /* 16 bits: the rows' float losses go through a workspace to the mean. */
    const int wide = clcnn__dtype_is_16bit(logits->dtype);
    cl_mem losses = loss->mem;
    if (wide && (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_SOFTMAX_LOSSES, (size_t)rows * 4, &losses)))
        return st;
    clcnn_arg row_args[7];
    int n = 0;
    row_args[n++] = (clcnn_arg)CLCNN_ARG(logits->mem);
    row_args[n++] = (clcnn_arg)CLCNN_ARG(labels->mem);
    row_args[n++] = (clcnn_arg)CLCNN_ARG(probs->mem);
    row_args[n++] = (clcnn_arg)CLCNN_ARG(loss->mem);
    if (wide)
        row_args[n++] = (clcnn_arg)CLCNN_ARG(losses);
    row_args[n++] = (clcnn_arg)CLCNN_ARG(n_classes);
    row_args[n++] = (clcnn_arg)CLCNN_ARG(rows);
    const clcnn_arg mean_args[] = {
        CLCNN_ARG(losses), CLCNN_ARG(mean_loss->mem), CLCNN_ARG(rows), {group * real_size(logits->dtype), NULL}};
    const size_t mean_global[1] = {group}, mean_local[1] = {group};
    if ((st = clcnn__set_args(ctx, op, mean_kernel, mean_args, 4)) ||
        (st = clcnn__elementwise_launch(ctx, op, rows_kernel, row_args, n, &plan->rows_launch)))
        return st;
    return clcnn__launch(ctx, op, mean_kernel, 1, mean_global, mean_local);
}

clcnn_status clcnn_softmax_cross_entropy_forward(clcnn_context *ctx, const clcnn_tensor *logits,
                                                 const clcnn_tensor *labels, clcnn_tensor *probs, clcnn_tensor *loss,
                                                 clcnn_tensor *mean_loss)
{
    static const char op[] = "softmax_cross_entropy_forward";
    size_t row_dims[4];
    clcnn_status st = check_scores_and_labels(ctx, op, "logits", logits, labels, row_dims);
    if (st != CLCNN_OK)
        return st;
    const clcnn_dtype dt = logits->dtype;
    static const size_t scalar_dims[4] = {1, 1, 1, 1};
    const clcnn_named_output outs[] = {
        {"probs", probs, logits->dims}, {"loss", loss, row_dims}, {"mean_loss", mean_loss, scalar_dims}};
    const clcnn_named_input ins[] = {{"logits", logits}, {"labels", labels}};
    if ((st = clcnn__check_outputs(ctx, op, dt, outs, 3, ins, 2, 0)))
        return st;

    const int n_classes = (int)logits->dims[3], rows = (int)loss->count;
    clcnn_softmax_forward_plan plan;
    clcnn__softmax_plan_forward(rows, ctx->compute_units, &ctx->tuning, &plan);
    plan_labels(&plan.one, logits, labels);
    plan_labels(&plan.mean, logits, labels);
    plan_labels(&plan.rows, logits, labels);
    return plan.one_group
               ? softmax_one_group(ctx, op, &plan, logits, labels, probs, loss, mean_loss, n_classes, rows)
               : softmax_two_launches(ctx, op, &plan, logits, labels, probs, loss, mean_loss, n_classes, rows);
}

clcnn_status clcnn_softmax_cross_entropy_backward(clcnn_context *ctx, const clcnn_tensor *probs,
                                                  const clcnn_tensor *labels, clcnn_tensor *dlogits)
{
    static const char op[] = "softmax_cross_entropy_backward";
    size_t row_dims[4];
    clcnn_status st = check_scores_and_labels(ctx, op, "probs", probs, labels, row_dims);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "dlogits", dlogits, probs->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "dlogits", dlogits, probs->dims)) ||
        (st = clcnn__check_distinct(ctx, op, "dlogits", dlogits, "probs", probs)) ||
        (st = clcnn__check_distinct(ctx, op, "dlogits", dlogits, "labels", labels)))
        return st;
    const int n_classes = (int)probs->dims[3], rows = (int)labels->count;
    clcnn_softmax_backward_plan plan;
    clcnn__softmax_plan_backward(n_classes, rows, probs->dtype, ctx->compute_units, &ctx->tuning, &plan);
    plan_labels(&plan.kernel, probs, labels);
    cl_kernel k;
    if ((st = clcnn__get_planned_kernel(ctx, op, probs->dtype, &plan.kernel, &k)))
        return st;
    const clcnn_arg args[] = {CLCNN_ARG(probs->mem),  CLCNN_ARG(labels->mem), CLCNN_ARG(dlogits->mem),
                              CLCNN_ARG(n_classes),   CLCNN_ARG(rows),        CLCNN_ARG(plan.row_vectors),
                              CLCNN_ARG(plan.vectors)};
    return clcnn__elementwise_launch(ctx, op, k, args, 7, &plan.launch);
}
