/* The network of `clcnn train` on the device: its tensors, He
 * initialisation, and a batch's forward pass, backward pass and SGD step. */
#include "train_network.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const layer_def LAYERS[N_LAYERS] = {
    {"conv1", {5, 5, 1, 32}, 2},
    {"conv2", {5, 5, 32, 64}, 2},
    /* Fully connected: a window as large as the 7x7x64 input. */
    {"fc", {7, 7, 64, N_CLASSES}, 0},
};

static clcnn_status make_tensor(network *net, size_t n, size_t h, size_t w, size_t c, clcnn_tensor **out)
{
    const size_t dims[4] = {n, h, w, c};
    return clcnn_tensor_create(net->ctx, net->dtype, dims, out);
}

static clcnn_status write_zeros(clcnn_tensor *t)
{
    size_t dims[4];
    clcnn_tensor_dims(t, dims);
    double *zeros = calloc(kit_elements(dims), sizeof *zeros);
    if (zeros == NULL)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status st = kit_tensor_write(t, zeros);
    free(zeros);
    return st;
}

static void batch_free(batch_buffers *bb)
{
    clcnn_tensor *all[] = {bb->x,      bb->labels, bb->a1,   bb->p1,        bb->a2,      bb->p2,
                           bb->logits, bb->probs,  bb->loss, bb->mean_loss, bb->dlogits, bb->dp2,
                           bb->da2,    bb->dz2,    bb->dp1,  bb->da1,       bb->dz1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clcnn_tensor_destroy(all[i]);
    free(bb->x_host);
    free(bb->labels_host);
    memset(bb, 0, sizeof *bb);
}

clcnn_status network_batch(network *net, size_t size, int with_gradients, batch_buffers **out)
{
    for (int i = 0; i < net->n_sets; i++)
        if (net->sets[i].size == size && net->sets[i].with_gradients >= with_gradients) {
            *out = &net->sets[i];
            return CLCNN_OK;
        }
    if (net->n_sets == MAX_BATCH_SETS) {
        /* Not reached with the sizes this command uses; free the oldest. */
        batch_free(&net->sets[0]);
        memmove(&net->sets[0], &net->sets[1], (MAX_BATCH_SETS - 1) * sizeof net->sets[0]);
        net->n_sets--;
    }
    batch_buffers *bb = &net->sets[net->n_sets];
    memset(bb, 0, sizeof *bb);
    bb->size = size;
    bb->with_gradients = with_gradients;
    const size_t n = size, s1 = IMAGE_SIDE, s2 = IMAGE_SIDE / 2, s3 = IMAGE_SIDE / 4;
    const size_t c1 = LAYERS[CONV1].w_dims[3], c2 = LAYERS[CONV2].w_dims[3];
    clcnn_status st;
    if ((st = make_tensor(net, n, s1, s1, 1, &bb->x)) || (st = make_tensor(net, n, 1, 1, 1, &bb->labels)) ||
        (st = make_tensor(net, n, s1, s1, c1, &bb->a1)) || (st = make_tensor(net, n, s2, s2, c1, &bb->p1)) ||
        (st = make_tensor(net, n, s2, s2, c2, &bb->a2)) || (st = make_tensor(net, n, s3, s3, c2, &bb->p2)) ||
        (st = make_tensor(net, n, 1, 1, N_CLASSES, &bb->logits)) ||
        (st = make_tensor(net, n, 1, 1, N_CLASSES, &bb->probs)) || (st = make_tensor(net, n, 1, 1, 1, &bb->loss)) ||
        (st = make_tensor(net, 1, 1, 1, 1, &bb->mean_loss)))
        goto fail;
    if (with_gradients &&
        ((st = make_tensor(net, n, 1, 1, N_CLASSES, &bb->dlogits)) ||
         (st = make_tensor(net, n, s3, s3, c2, &bb->dp2)) || (st = make_tensor(net, n, s2, s2, c2, &bb->da2)) ||
         (st = make_tensor(net, n, s2, s2, c2, &bb->dz2)) || (st = make_tensor(net, n, s2, s2, c1, &bb->dp1)) ||
         (st = make_tensor(net, n, s1, s1, c1, &bb->da1)) || (st = make_tensor(net, n, s1, s1, c1, &bb->dz1))))
        goto fail;
    const size_t elem = kit_dtype_size(net->dtype);
    bb->x_host = malloc(n * IMAGE_PIXELS * elem);
    bb->labels_host = malloc(n * elem);
    if (bb->x_host == NULL || bb->labels_host == NULL) {
        st = CLCNN_ERROR_OUT_OF_MEMORY;
        goto fail;
    }
    net->n_sets++;
    *out = bb;
    return CLCNN_OK;
fail:
    batch_free(bb);
    return st;
}

void network_free(network *net)
{
    for (int i = 0; i < net->n_sets; i++)
        batch_free(&net->sets[i]);
    for (int l = 0; l < N_LAYERS; l++) {
        clcnn_tensor *all[] = {net->w[l], net->b[l], net->dw[l], net->db[l], net->vw[l], net->vb[l]};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            clcnn_tensor_destroy(all[i]);
    }
    clcnn_context_destroy(net->ctx);
    memset(net, 0, sizeof *net);
}

clcnn_status network_create(network *net, int for_training)
{
    clcnn_status st;
    for (int l = 0; l < N_LAYERS; l++) {
        const size_t *wd = LAYERS[l].w_dims;
        if ((st = make_tensor(net, wd[0], wd[1], wd[2], wd[3], &net->w[l])) ||
            (st = make_tensor(net, 1, 1, 1, wd[3], &net->b[l])))
            return st;
        if (!for_training)
            continue;
        if ((st = make_tensor(net, wd[0], wd[1], wd[2], wd[3], &net->dw[l])) ||
            (st = make_tensor(net, 1, 1, 1, wd[3], &net->db[l])) ||
            (st = make_tensor(net, wd[0], wd[1], wd[2], wd[3], &net->vw[l])) ||
            (st = make_tensor(net, 1, 1, 1, wd[3], &net->vb[l])) || (st = write_zeros(net->vw[l])) ||
            (st = write_zeros(net->vb[l])))
            return st;
    }
    return CLCNN_OK;
}

/* He initialisation: w ~ N(0, 2 / fan_in) with fan_in = f_h * f_w * n_C_prev,
 * which keeps the variance of activations steady through ReLU layers; b = 0.
 * The 2 makes up for the half of each layer's outputs that its ReLU zeroes;
 * the output layer feeds the softmax, not a ReLU, so by the same derivation
 * it gets 1 / fan_in (starting from smaller logits, a lower first loss). */
clcnn_status network_init_he(network *net, uint64_t seed)
{
    kit_rng r = {seed};
    for (int l = 0; l < N_LAYERS; l++) {
        const size_t *wd = LAYERS[l].w_dims, n = kit_elements(wd);
        const double gain = l == FC ? 1.0 : 2.0;
        const double std = sqrt(gain / (double)(wd[0] * wd[1] * wd[2]));
        double *values = malloc(n * sizeof *values);
        if (values == NULL)
            return CLCNN_ERROR_OUT_OF_MEMORY;
        for (size_t i = 0; i < n; i++)
            values[i] = std * kit_rng_normal(&r);
        clcnn_status st = kit_tensor_write(net->w[l], values);
        free(values);
        if (st != CLCNN_OK || (st = write_zeros(net->b[l])) != CLCNN_OK)
            return st;
    }
    net->input_mean = INPUT_MEAN;
    net->input_std = INPUT_STD;
    return CLCNN_OK;
}

size_t network_parameter_count(void)
{
    size_t total = 0;
    for (int l = 0; l < N_LAYERS; l++)
        total += kit_elements(LAYERS[l].w_dims) + LAYERS[l].w_dims[3];
    return total;
}

clcnn_status network_upload_batch(network *net, batch_buffers *bb, const dataset *d, const size_t *order, size_t first)
{
    const size_t count = bb->size;
    dataset_batch(d, order, first, count, net->input_mean, net->input_std, net->dtype, bb->x_host, bb->labels_host);
    const size_t elem = kit_dtype_size(net->dtype);
    clcnn_status st = clcnn_tensor_write(bb->x, bb->x_host, count * IMAGE_PIXELS * elem);
    return st ? st : clcnn_tensor_write(bb->labels, bb->labels_host, count * elem);
}

clcnn_status network_forward(network *net, batch_buffers *bb)
{
    clcnn_context *ctx = net->ctx;
    const clcnn_pool_mode max = CLCNN_POOL_MAX;
    const clcnn_activation relu = CLCNN_ACTIVATION_RELU;
    const clcnn_conv_params conv1 = clcnn_conv_params_default(1, LAYERS[CONV1].pad);
    const clcnn_conv_params conv2 = clcnn_conv_params_default(1, LAYERS[CONV2].pad);
    clcnn_status st;
    /* Each conv layer's ReLU is fused into its forward: one pass over its
     * output instead of two, and no pre-activation tensor. */
    if ((st = clcnn_conv_forward_ex(ctx, bb->x, net->w[CONV1], net->b[CONV1], &conv1, relu, bb->a1)) ||
        (st = clcnn_pool_forward(ctx, bb->a1, 2, 2, max, bb->p1)) ||
        (st = clcnn_conv_forward_ex(ctx, bb->p1, net->w[CONV2], net->b[CONV2], &conv2, relu, bb->a2)) ||
        (st = clcnn_pool_forward(ctx, bb->a2, 2, 2, max, bb->p2)) ||
        (st = clcnn_conv_forward(ctx, bb->p2, net->w[FC], net->b[FC], 1, LAYERS[FC].pad, bb->logits)))
        return st;
    return clcnn_softmax_cross_entropy_forward(ctx, bb->logits, bb->labels, bb->probs, bb->loss, bb->mean_loss);
}

clcnn_status network_backward_and_update(network *net, batch_buffers *bb, double lr, double momentum,
                                         double weight_decay)
{
    clcnn_context *ctx = net->ctx;
    const clcnn_pool_mode max = CLCNN_POOL_MAX;
    clcnn_status st;
    /* relu_backward takes the ReLU's output (a1, a2): it is positive exactly
     * where its input was. The first layer's input needs no gradient. */
    if ((st = clcnn_softmax_cross_entropy_backward(ctx, bb->probs, bb->labels, bb->dlogits)) ||
        (st = clcnn_conv_backward(ctx, bb->dlogits, bb->p2, net->w[FC], 1, LAYERS[FC].pad, bb->dp2, net->dw[FC],
                                  net->db[FC])) ||
        (st = clcnn_pool_backward(ctx, bb->dp2, bb->a2, 2, 2, max, bb->da2)) ||
        (st = clcnn_relu_backward(ctx, bb->da2, bb->a2, bb->dz2)) ||
        (st = clcnn_conv_backward(ctx, bb->dz2, bb->p1, net->w[CONV2], 1, LAYERS[CONV2].pad, bb->dp1, net->dw[CONV2],
                                  net->db[CONV2])) ||
        (st = clcnn_pool_backward(ctx, bb->dp1, bb->a1, 2, 2, max, bb->da1)) ||
        (st = clcnn_relu_backward(ctx, bb->da1, bb->a1, bb->dz1)) ||
        (st = clcnn_conv_backward(ctx, bb->dz1, bb->x, net->w[CONV1], 1, LAYERS[CONV1].pad, NULL, net->dw[CONV1],
                                  net->db[CONV1])))
        return st;
    for (int l = 0; l < N_LAYERS; l++) {
        /* No weight decay on biases, as usual. */
        if ((st = clcnn_sgd_update(ctx, net->w[l], net->dw[l], net->vw[l], lr, momentum, weight_decay)) ||
            (st = clcnn_sgd_update(ctx, net->b[l], net->db[l], net->vb[l], lr, momentum, 0.0)))
            return st;
    }
    return CLCNN_OK;
}

/* A layer spec of op on the tensor t's dims. */
static clcnn_layer_spec spec_of(clcnn_prepare_op op, clcnn_dtype dtype, const clcnn_tensor *t)
{
    clcnn_layer_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.op = op;
    spec.dtype = dtype;
    clcnn_tensor_dims(t, spec.input_dims);
    return spec;
}

/* Conv layer l on input t: forward (with bias and act) or backward (with
 * gradients). */
static clcnn_layer_spec conv_spec(clcnn_prepare_op op, clcnn_dtype dtype, const clcnn_tensor *t, int l,
                                  clcnn_activation act, int gradients)
{
    clcnn_layer_spec spec = spec_of(op, dtype, t);
    memcpy(spec.weight_dims, LAYERS[l].w_dims, sizeof spec.weight_dims);
    spec.conv = clcnn_conv_params_default(1, LAYERS[l].pad);
    spec.has_bias = 1;
    spec.act = act;
    spec.gradients = gradients;
    return spec;
}

clcnn_status network_prepare(network *net, size_t size, int training, double momentum)
{
    batch_buffers *bb;
    clcnn_status st = network_batch(net, size, training, &bb);
    if (st != CLCNN_OK)
        return st;
    const clcnn_dtype dt = net->dtype;
    const clcnn_activation relu = CLCNN_ACTIVATION_RELU, none = CLCNN_ACTIVATION_NONE;
    const clcnn_pool_params pool = clcnn_pool_params_default(2, 2);
    clcnn_layer_spec specs[32];
    int n = 0;
    /* network_forward's calls, in its order. */
    specs[n++] = conv_spec(CLCNN_PREPARE_CONV_FORWARD, dt, bb->x, CONV1, relu, 0);
    specs[n] = spec_of(CLCNN_PREPARE_POOL_FORWARD, dt, bb->a1);
    specs[n++].pool = pool;
    specs[n++] = conv_spec(CLCNN_PREPARE_CONV_FORWARD, dt, bb->p1, CONV2, relu, 0);
    specs[n] = spec_of(CLCNN_PREPARE_POOL_FORWARD, dt, bb->a2);
    specs[n++].pool = pool;
    specs[n++] = conv_spec(CLCNN_PREPARE_CONV_FORWARD, dt, bb->p2, FC, none, 0);
    specs[n++] = spec_of(CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_FORWARD, dt, bb->logits);
    if (training) {
        /* network_backward_and_update's. */
        specs[n++] = spec_of(CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_BACKWARD, dt, bb->logits);
        specs[n++] = conv_spec(CLCNN_PREPARE_CONV_BACKWARD, dt, bb->p2, FC, none, 0);
        specs[n] = spec_of(CLCNN_PREPARE_POOL_BACKWARD, dt, bb->a2);
        specs[n++].pool = pool;
        specs[n++] = spec_of(CLCNN_PREPARE_RELU_BACKWARD, dt, bb->a2);
        specs[n++] = conv_spec(CLCNN_PREPARE_CONV_BACKWARD, dt, bb->p1, CONV2, none, 0);
        specs[n] = spec_of(CLCNN_PREPARE_POOL_BACKWARD, dt, bb->a1);
        specs[n++].pool = pool;
        specs[n++] = spec_of(CLCNN_PREPARE_RELU_BACKWARD, dt, bb->a1);
        specs[n++] =
            conv_spec(CLCNN_PREPARE_CONV_BACKWARD, dt, bb->x, CONV1, none, CLCNN_PREPARE_DW | CLCNN_PREPARE_DB);
        for (int l = 0; l < N_LAYERS; l++) {
            specs[n] = spec_of(CLCNN_PREPARE_SGD_UPDATE, dt, net->w[l]);
            specs[n++].momentum = momentum;
            specs[n] = spec_of(CLCNN_PREPARE_SGD_UPDATE, dt, net->b[l]);
            specs[n++].momentum = momentum;
        }
    }
    return clcnn_context_prepare(net->ctx, specs, (size_t)n);
}
