/* clcnn_context_prepare: compiling a network's kernels ahead of its first
 * call. Each layer runs its op once on scratch tensors of zeros: the op
 * plans it under the layer's own tuning, builds what the plan takes, and
 * its launches make the driver generate machine code at the plan's
 * work-group sizes (POCL does so at a kernel's first launch per size), so
 * that nothing is left to compile when the network runs. The same call as
 * the network's, rather than a copy of the ops' planning, so that what is
 * prepared is what will run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define OP "context_prepare"
#define MAX_TENSORS 6

static const char *const op_names[] = {
    [CLCNN_PREPARE_CONV_FORWARD] = "conv_forward",
    [CLCNN_PREPARE_CONV_BACKWARD] = "conv_backward",
    [CLCNN_PREPARE_POOL_FORWARD] = "pool_forward",
    [CLCNN_PREPARE_POOL_BACKWARD] = "pool_backward",
    [CLCNN_PREPARE_RELU_FORWARD] = "relu_forward",
    [CLCNN_PREPARE_RELU_BACKWARD] = "relu_backward",
    [CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_FORWARD] = "softmax_cross_entropy_forward",
    [CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_BACKWARD] = "softmax_cross_entropy_backward",
    [CLCNN_PREPARE_SGD_UPDATE] = "sgd_update",
    [CLCNN_PREPARE_ZERO_PAD] = "zero_pad",
};
#define OP_COUNT (sizeof op_names / sizeof op_names[0])

/* The scratch tensors of one layer. */
typedef struct scratch {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    clcnn_tensor *t[MAX_TENSORS];
    int n;
} scratch;

/* A tensor of dims filled with zeros, kept in s; NULL on failure (the
 * context says why). */
static clcnn_tensor *zeros(scratch *s, const size_t dims[4], clcnn_status *st)
{
    clcnn_tensor *t = NULL;
    if (*st != CLCNN_OK || (*st = clcnn_tensor_create(s->ctx, s->dtype, dims, &t)) != CLCNN_OK)
        return NULL;
    s->t[s->n++] = t;
    const size_t bytes = t->bytes;
    void *host = calloc(1, bytes);
    if (host == NULL) {
        *st = clcnn__fail(s->ctx, CLCNN_ERROR_OUT_OF_MEMORY, "%s: out of host memory (%zu bytes of zeros)", OP, bytes);
        return NULL;
    }
    *st = clcnn_tensor_write(t, host, bytes);
    free(host);
    return *st == CLCNN_OK ? t : NULL;
}

static clcnn_status prepare_conv(scratch *s, const clcnn_layer_spec *l)
{
    size_t z_dims[4];
    const size_t b_dims[4] = {1, 1, 1, l->weight_dims[3]};
    clcnn_status st = clcnn_conv_output_dims(s->ctx, l->input_dims, l->weight_dims, &l->conv, z_dims);
    clcnn_tensor *a = zeros(s, l->input_dims, &st), *w = zeros(s, l->weight_dims, &st), *z = zeros(s, z_dims, &st);
    if (l->op == CLCNN_PREPARE_CONV_FORWARD) {
        clcnn_tensor *b = l->has_bias ? zeros(s, b_dims, &st) : NULL;
        return st ? st : clcnn_conv_forward_ex(s->ctx, a, w, b, &l->conv, l->act, z);
    }
    const int g = l->gradients ? l->gradients : CLCNN_PREPARE_DA | CLCNN_PREPARE_DW | CLCNN_PREPARE_DB;
    clcnn_tensor *da = g & CLCNN_PREPARE_DA ? zeros(s, l->input_dims, &st) : NULL;
    clcnn_tensor *dw = g & CLCNN_PREPARE_DW ? zeros(s, l->weight_dims, &st) : NULL;
    clcnn_tensor *db = g & CLCNN_PREPARE_DB ? zeros(s, b_dims, &st) : NULL;
    return st ? st : clcnn_conv_backward_ex(s->ctx, z, a, w, &l->conv, da, dw, db);
}

static clcnn_status prepare_pool(scratch *s, const clcnn_layer_spec *l)
{
    size_t out_dims[4];
    clcnn_status st = clcnn_pool_output_dims(s->ctx, l->input_dims, &l->pool, out_dims);
    clcnn_tensor *a = zeros(s, l->input_dims, &st), *out = zeros(s, out_dims, &st);
    if (l->op == CLCNN_PREPARE_POOL_FORWARD)
        return st ? st : clcnn_pool_forward_ex(s->ctx, a, &l->pool, l->mode, out);
    clcnn_tensor *da_prev = zeros(s, l->input_dims, &st);
    return st ? st : clcnn_pool_backward_ex(s->ctx, out, a, &l->pool, l->mode, da_prev);
}

/* ReLU, softmax with cross-entropy, SGD and zero_pad: one input's dims. */
static clcnn_status prepare_elementwise(scratch *s, const clcnn_layer_spec *l)
{
    const size_t *d = l->input_dims;
    const size_t rows_dims[4] = {d[0], d[1], d[2], 1}, one[4] = {1, 1, 1, 1};
    const size_t padded[4] = {d[0], d[1] + 2 * (size_t)(l->pad > 0 ? l->pad : 0),
                              d[2] + 2 * (size_t)(l->pad > 0 ? l->pad : 0), d[3]};
    clcnn_status st = CLCNN_OK;
    clcnn_tensor *x = zeros(s, d, &st);
    switch (l->op) {
    case CLCNN_PREPARE_RELU_FORWARD: {
        clcnn_tensor *y = zeros(s, d, &st);
        return st ? st : clcnn_relu_forward(s->ctx, x, y);
    }
    case CLCNN_PREPARE_RELU_BACKWARD: {
        clcnn_tensor *dy = zeros(s, d, &st), *dx = zeros(s, d, &st);
        return st ? st : clcnn_relu_backward(s->ctx, dy, x, dx);
    }
    case CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_FORWARD: {
        clcnn_tensor *labels = zeros(s, rows_dims, &st), *probs = zeros(s, d, &st), *loss = zeros(s, rows_dims, &st),
                     *mean = zeros(s, one, &st);
        return st ? st : clcnn_softmax_cross_entropy_forward(s->ctx, x, labels, probs, loss, mean);
    }
    case CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_BACKWARD: {
        clcnn_tensor *labels = zeros(s, rows_dims, &st), *dlogits = zeros(s, d, &st);
        return st ? st : clcnn_softmax_cross_entropy_backward(s->ctx, x, labels, dlogits);
    }
    case CLCNN_PREPARE_SGD_UPDATE: {
        clcnn_tensor *grad = zeros(s, d, &st), *velocity = l->momentum != 0 ? zeros(s, d, &st) : NULL;
        return st ? st : clcnn_sgd_update(s->ctx, x, grad, velocity, 0.0, l->momentum, 0.0);
    }
    default: {
        clcnn_tensor *x_pad = zeros(s, padded, &st);
        return st ? st : clcnn_zero_pad(s->ctx, x, l->pad, x_pad);
    }
    }
}

/* One layer: its op on scratch tensors, finished, the tensors freed. */
static clcnn_status prepare_layer(clcnn_context *ctx, const clcnn_layer_spec *l)
{
    scratch s = {.ctx = ctx, .dtype = l->dtype};
    clcnn_status st;
    if (l->op == CLCNN_PREPARE_CONV_FORWARD || l->op == CLCNN_PREPARE_CONV_BACKWARD)
        st = prepare_conv(&s, l);
    else if (l->op == CLCNN_PREPARE_POOL_FORWARD || l->op == CLCNN_PREPARE_POOL_BACKWARD)
        st = prepare_pool(&s, l);
    else
        st = prepare_elementwise(&s, l);
    if (st == CLCNN_OK)
        st = clcnn_context_finish(ctx);
    for (int i = 0; i < s.n; i++)
        clcnn_tensor_destroy(s.t[i]);
    return st;
}

clcnn_status clcnn_context_prepare(clcnn_context *ctx, const clcnn_layer_spec *layers, size_t count)
{
    clcnn_status st = clcnn__check_context(ctx, "clcnn_" OP);
    if (st != CLCNN_OK)
        return st;
    if (layers == NULL && count > 0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: layers is NULL with count %zu", OP, count);
    for (size_t i = 0; i < count; i++) {
        const clcnn_layer_spec *l = &layers[i];
        if ((unsigned)l->op >= OP_COUNT)
            return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                               "%s: layers[%zu].op is %d; it takes a clcnn_prepare_op, 0 to %zu", OP, i, (int)l->op,
                               OP_COUNT - 1);
        if ((st = prepare_layer(ctx, l)) != CLCNN_OK) {
            char why[CLCNN_ERROR_CAPACITY];
            snprintf(why, sizeof why, "%s", clcnn_context_last_error(ctx));
            return clcnn__fail(ctx, st, "%s: layers[%zu] (%s): %s", OP, i, op_names[l->op], why);
        }
    }
    return CLCNN_OK;
}
