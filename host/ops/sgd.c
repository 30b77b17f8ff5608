/* The SGD parameter update (momentum, L2 weight decay): validation, then
 * the element-wise kernel of sgd_update.cl. */
#include <math.h>

#include "elementwise.h"

clcnn_status clcnn_sgd_update(clcnn_context *ctx, clcnn_tensor *param, const clcnn_tensor *grad, clcnn_tensor *velocity,
                              double lr, double momentum, double weight_decay)
{
    static const char op[] = "sgd_update";
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "param", param)) ||
        (st = clcnn__check_tensor(ctx, op, "grad", grad, param->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "grad", grad, param->dims)) ||
        (st = clcnn__check_distinct(ctx, op, "param", param, "grad", grad)))
        return st;
    if (!(isfinite(lr) && lr >= 0.0))
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: lr is %g; it must be finite and at least 0", op, lr);
    if (!(isfinite(momentum) && momentum >= 0.0 && momentum <= 1.0))
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: momentum is %g; it must be from 0 to 1", op,
                           momentum);
    if (!(isfinite(weight_decay) && weight_decay >= 0.0))
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: weight_decay is %g; it must be finite and at least 0", op, weight_decay);
    if (velocity == NULL && momentum != 0.0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: velocity is NULL but momentum is %g; momentum needs a velocity tensor "
                           "(start it at zero)",
                           op, momentum);
    if (velocity != NULL && ((st = clcnn__check_tensor(ctx, op, "velocity", velocity, param->dtype)) ||
                             (st = clcnn__check_dims(ctx, op, "velocity", velocity, param->dims)) ||
                             (st = clcnn__check_distinct(ctx, op, "velocity", velocity, "param", param)) ||
                             (st = clcnn__check_distinct(ctx, op, "velocity", velocity, "grad", grad))))
        return st;

    const int with_velocity = velocity != NULL;
    cl_kernel k;
    /* In place: no streaming stores, the lines were just read. */
    if ((st = clcnn__elementwise_kernel(ctx, op, CLCNN_FILE_sgd_update, param->dtype,
                                        with_velocity ? "-DWITH_VELOCITY=1" : "-DWITH_VELOCITY=0", 0, 0, "sgd_update",
                                        &k)))
        return st;
    /* The kernel's scalars are `real`: float for float32 tensors. */
    const float lr_f = (float)lr, momentum_f = (float)momentum, decay_f = (float)weight_decay;
    const int fp64 = param->dtype == CLCNN_FLOAT64;
    const clcnn_arg lr_arg = fp64 ? CLCNN_ARG(lr) : CLCNN_ARG(lr_f);
    const clcnn_arg momentum_arg = fp64 ? CLCNN_ARG(momentum) : CLCNN_ARG(momentum_f);
    const clcnn_arg decay_arg = fp64 ? CLCNN_ARG(weight_decay) : CLCNN_ARG(decay_f);
    const int total = (int)param->count;
    clcnn_arg args[7];
    int n = 0;
    args[n++] = (clcnn_arg)CLCNN_ARG(param->mem);
    args[n++] = (clcnn_arg)CLCNN_ARG(grad->mem);
    if (with_velocity)
        args[n++] = (clcnn_arg)CLCNN_ARG(velocity->mem);
    args[n++] = lr_arg;
    args[n++] = momentum_arg;
    args[n++] = decay_arg;
    args[n++] = (clcnn_arg)CLCNN_ARG(total);
    const size_t vector = (size_t)ctx->tuning.elementwise_vector;
    const clcnn_elementwise_plan plan =
        clcnn__elementwise_plan(&ctx->tuning, ctx->compute_units, (param->count + vector - 1) / vector);
    return clcnn__elementwise_launch(ctx, op, k, args, n, &plan);
}
