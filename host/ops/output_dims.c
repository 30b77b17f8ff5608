/* clcnn_conv_output_dims and clcnn_pool_output_dims: the ops' own
 * validation (output_dims.h) run on tensors that have dims and no buffer,
 * so that the shapes, errors and messages are the ops'. */
#include <stdio.h>
#include <string.h>

#include "output_dims.h"

/* A tensor of ctx with dims and no storage, refused where
 * clcnn_tensor_create would refuse its dims. */
static clcnn_status shape_only(clcnn_context *ctx, const char *op, const char *name, const size_t dims[4],
                               clcnn_tensor *t)
{
    memset(t, 0, sizeof *t);
    if (dims == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, name);
    char what[64];
    snprintf(what, sizeof what, "%s: %s", op, name);
    clcnn_status st = clcnn__check_new_tensor(ctx, what, CLCNN_FLOAT32, dims, &t->count);
    if (st != CLCNN_OK)
        return st;
    t->ctx = ctx;
    t->dtype = CLCNN_FLOAT32;
    memcpy(t->dims, dims, sizeof t->dims);
    return CLCNN_OK;
}

static clcnn_status check_out(clcnn_context *ctx, const char *op, const char *name, const size_t *out)
{
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st == CLCNN_OK && out == NULL)
        st = clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, name);
    return st;
}

clcnn_status clcnn_conv_output_dims(clcnn_context *ctx, const size_t a_prev_dims[4], const size_t w_dims[4],
                                    const clcnn_conv_params *params, size_t z_dims[4])
{
    static const char op[] = "conv_output_dims";
    clcnn_tensor a_prev, w;
    clcnn_status st;
    if ((st = check_out(ctx, op, "z_dims", z_dims)) ||
        (st = shape_only(ctx, op, "a_prev_dims", a_prev_dims, &a_prev)) ||
        (st = shape_only(ctx, op, "w_dims", w_dims, &w)))
        return st;
    return clcnn__conv_validate_dims(ctx, op, &a_prev, &w, params, z_dims);
}

clcnn_status clcnn_pool_output_dims(clcnn_context *ctx, const size_t a_prev_dims[4], const clcnn_pool_params *params,
                                    size_t a_dims[4])
{
    static const char op[] = "pool_output_dims";
    clcnn_tensor a_prev;
    clcnn_status st;
    if ((st = check_out(ctx, op, "a_dims", a_dims)) || (st = shape_only(ctx, op, "a_prev_dims", a_prev_dims, &a_prev)))
        return st;
    return clcnn__pool_validate_dims(ctx, op, &a_prev, params, a_dims);
}
