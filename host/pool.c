/* Max and average pooling forward and backward: validation, then the
 * kernels of pool_forward.cl and pool_backward.cl. */
#include "internal.h"

typedef struct pool_shape {
    int n_H_prev, n_W_prev, n_C, n_H, n_W;
    size_t out_dims[4];
} pool_shape;

static clcnn_status pool_validate(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, int f,
                                  int stride, clcnn_pool_mode mode, pool_shape *s)
{
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "a_prev", a_prev, a_prev ? a_prev->dtype : CLCNN_FLOAT32)))
        return st;
    if (f < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: f is %d; the window must be at least 1", op, f);
    if (stride < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: stride is %d; it must be at least 1", op, stride);
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVERAGE)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: mode is %d; use CLCNN_POOL_MAX (0) or CLCNN_POOL_AVERAGE (1)", op, (int)mode);
    const size_t *d = a_prev->dims;
    if ((size_t)f > d[1] || (size_t)f > d[2])
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE, "%s: the %d x %d window is larger than the input %zu x %zu",
                           op, f, f, d[1], d[2]);
    s->n_H_prev = (int)d[1];
    s->n_W_prev = (int)d[2];
    s->n_C = (int)d[3];
    s->n_H = (s->n_H_prev - f) / stride + 1;
    s->n_W = (s->n_W_prev - f) / stride + 1;
    s->out_dims[0] = d[0];
    s->out_dims[1] = (size_t)s->n_H;
    s->out_dims[2] = (size_t)s->n_W;
    s->out_dims[3] = d[3];
    return CLCNN_OK;
}

clcnn_status clcnn_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, int f, int stride,
                                clcnn_pool_mode mode, clcnn_tensor *a)
{
    static const char op[] = "pool_forward";
    pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "a", a, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "a", a, s.out_dims)) ||
        (st = clcnn__check_distinct(ctx, op, "a", a, "a_prev", a_prev)))
        return st;
    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_forward, a_prev->dtype, "", "pool_forward", &k)))
        return st;
    const int average = mode == CLCNN_POOL_AVERAGE, total = (int)a->count;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(a->mem), CLCNN_ARG(s.n_H_prev),
                              CLCNN_ARG(s.n_W_prev), CLCNN_ARG(s.n_C), CLCNN_ARG(s.n_H), CLCNN_ARG(s.n_W),
                              CLCNN_ARG(f), CLCNN_ARG(stride), CLCNN_ARG(average), CLCNN_ARG(total)};
    const size_t global[1] = {(size_t)total}, local[1] = {(size_t)ctx->tuning.elementwise_local};
    if ((st = clcnn__set_args(ctx, op, k, args, (int)(sizeof args / sizeof args[0]))))
        return st;
    return clcnn__launch(ctx, op, k, 1, global, local);
}

clcnn_status clcnn_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev, int f,
                                 int stride, clcnn_pool_mode mode, clcnn_tensor *da_prev)
{
    static const char op[] = "pool_backward";
    pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "da", da, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "da", da, s.out_dims)) ||
        (st = clcnn__check_tensor(ctx, op, "da_prev", da_prev, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "da_prev", da_prev, a_prev->dims)) ||
        (st = clcnn__check_distinct(ctx, op, "da_prev", da_prev, "a_prev", a_prev)) ||
        (st = clcnn__check_distinct(ctx, op, "da_prev", da_prev, "da", da)))
        return st;
    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, a_prev->dtype, "", "pool_backward", &k)))
        return st;
    const int average = mode == CLCNN_POOL_AVERAGE, total = (int)da_prev->count;
    const clcnn_arg args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(a_prev->mem), CLCNN_ARG(da_prev->mem),
                              CLCNN_ARG(s.n_H_prev), CLCNN_ARG(s.n_W_prev), CLCNN_ARG(s.n_C), CLCNN_ARG(s.n_H),
                              CLCNN_ARG(s.n_W), CLCNN_ARG(f), CLCNN_ARG(stride), CLCNN_ARG(average),
                              CLCNN_ARG(total)};
    const size_t global[1] = {(size_t)total}, local[1] = {(size_t)ctx->tuning.elementwise_local};
    if ((st = clcnn__set_args(ctx, op, k, args, (int)(sizeof args / sizeof args[0]))))
        return st;
    return clcnn__launch(ctx, op, k, 1, global, local);
}
