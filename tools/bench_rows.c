/* The rows of `clcnn bench` and `clcnn tune` (bench_rows.h). Two tables
 * drive them: bench_layer_table holds the shapes, each of one kind, and
 * bench_op_table the ops, each run on every layer of its kind (pooling: in
 * each mode the layer names). The ops come from the op table: adding an op
 * there is writing its shape_, run_ and reference_ functions here and its
 * BENCH_ line (and layers of a new kind, if it needs one). */
#include <stdlib.h>
#include <string.h>

#include "api/op_table.h"
#include "bench_rows.h"
#include "clcnn_reference.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* A convolution with the walkthrough's params (square window f, stride,
 * pad), one with any params, and pooling likewise. */
#define CONV(name, suite, m, h, w, c, f, c_out, stride, pad)                                                           \
    {                                                                                                                  \
        name, LAYER_CONV, suite, {m, h, w, c}, f, f, c_out, {stride, stride, pad, pad, pad, pad, 1, 1, 1},             \
            {0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 0                                                                          \
    }
#define CONV_EX(name, suite, m, h, w, c, f_h, f_w, c_out, ...)                                                         \
    {                                                                                                                  \
        name, LAYER_CONV, suite, {m, h, w, c}, f_h, f_w, c_out, {__VA_ARGS__}, {0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 0       \
    }
#define POOL(name, suite, m, h, w, c, modes, ...)                                                                      \
    {                                                                                                                  \
        name, LAYER_POOL, suite, {m, h, w, c}, 0, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0}, {__VA_ARGS__}, 0, modes           \
    }
/* The networks suite's rows. */
#define NET_CONV(name, ...) CONV(name, SUITE_NETWORKS, __VA_ARGS__)
#define NET_CONV_EX(name, ...) CONV_EX(name, SUITE_NETWORKS, __VA_ARGS__)
#define NET_POOL(name, ...) POOL(name, SUITE_NETWORKS, __VA_ARGS__)
#define OTHER_IN(suite, name, kind, m, h, w, c, pad)                                                                   \
    {                                                                                                                  \
        name, kind, suite, {m, h, w, c}, 0, 0, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0, 0}, pad, 0     \
    }
#define OTHER(name, ...) OTHER_IN(SUITE_TABLE, name, __VA_ARGS__)
#define NET_OTHER(name, ...) OTHER_IN(SUITE_NETWORKS, name, __VA_ARGS__)

/* The project's original speed table (walkthrough, Fashion-MNIST, ResNet
 * 3x3 layers, VGG's first, three max and average pools); a layer of each kind the 0.2 API added;
 * the training network's (batch 64): conv 5x5x32 pad 2 > relu > max pool 2
 * > conv 5x5x64 pad 2 > relu > max pool 2 > fully connected 10 > softmax;
 * then the networks suite: layer classes of ResNet-50, MobileNet v2, VGG,
 * AlexNet, DeepLab v3 and the training network, a few shapes each. */
const bench_layer bench_layer_table[] = {
    CONV("walkthrough", SUITE_TABLE, 10, 4, 4, 3, 2, 8, 2, 2),
    CONV("fmnist1", SUITE_TABLE, 64, 28, 28, 1, 5, 32, 1, 2),
    CONV("fmnist2", SUITE_TABLE, 64, 14, 14, 32, 5, 64, 1, 2),
    CONV("res56", SUITE_TABLE, 8, 56, 56, 64, 3, 64, 1, 1),
    CONV("res28", SUITE_TABLE, 8, 28, 28, 128, 3, 128, 1, 1),
    CONV("res14", SUITE_TABLE, 8, 14, 14, 256, 3, 256, 1, 1),
    CONV("res56s2", SUITE_TABLE, 8, 56, 56, 64, 3, 128, 2, 1),
    CONV("vgg1", SUITE_TABLE, 2, 224, 224, 3, 3, 64, 1, 1),
    /* stride, stride, pads top bottom left right, dilation, dilation, groups */
    CONV_EX("dw56", SUITE_TABLE, 8, 56, 56, 144, 3, 3, 144, 1, 1, 1, 1, 1, 1, 1, 1, 144),
    CONV_EX("group28", SUITE_TABLE, 8, 28, 28, 256, 3, 3, 256, 1, 1, 1, 1, 1, 1, 1, 1, 32),
    CONV_EX("dil33", SUITE_TABLE, 4, 33, 33, 256, 3, 3, 256, 1, 1, 2, 2, 2, 2, 2, 2, 1),
    /* f_h, f_w, stride_h, stride_w, pads top bottom left right, count_include_pad */
    POOL("pool112", SUITE_TABLE, 8, 112, 112, 64, MODE_MAX, 3, 3, 2, 2, 0, 0, 0, 0, 1),
    POOL("pool56", SUITE_TABLE, 8, 56, 56, 64, MODE_MAX | MODE_AVERAGE, 2, 2, 2, 2, 0, 0, 0, 0, 1),
    POOL("pool28", SUITE_TABLE, 64, 28, 28, 32, MODE_MAX, 2, 2, 2, 2, 0, 0, 0, 0, 1),
    POOL("pool112p", SUITE_TABLE, 8, 112, 112, 64, MODE_MAX, 3, 3, 2, 2, 1, 1, 1, 1, 1),
    POOL("gap7", SUITE_TABLE, 8, 7, 7, 512, MODE_AVERAGE, 7, 7, 1, 1, 0, 0, 0, 0, 1),
    OTHER("pad1", LAYER_PAD, 64, 28, 28, 1, 2),
    OTHER("pad2", LAYER_PAD, 64, 14, 14, 32, 2),
    OTHER("relu1", LAYER_ACTIVATION, 64, 28, 28, 32, 0),
    OTHER("relu2", LAYER_ACTIVATION, 64, 14, 14, 64, 0),
    OTHER("softmax10", LAYER_LOSS, 64, 1, 1, 10, 0),
    OTHER("sgd_conv2", LAYER_PARAMETER, 5, 5, 32, 64, 0),
    OTHER("sgd_fc", LAYER_PARAMETER, 7, 7, 64, 10, 0),
    /* ---- --suite networks ---- */
    /* pointwise 1x1, stride 1 (ResNet-50 bottlenecks, MobileNet v2) and 2 (downsampling) */
    NET_CONV("r50_1x1_64", 8, 56, 56, 64, 1, 256, 1, 0),
    NET_CONV("r50_1x1_512", 8, 28, 28, 512, 1, 128, 1, 0),
    NET_CONV("r50_1x1_1024", 8, 14, 14, 256, 1, 1024, 1, 0),
    NET_CONV("mb2_1x1_24", 8, 56, 56, 24, 1, 144, 1, 0),
    NET_CONV("mb2_1x1_576", 8, 14, 14, 576, 1, 96, 1, 0),
    NET_CONV("r50_1x1_s2", 8, 56, 56, 256, 1, 512, 2, 0),
    NET_CONV("r50_1x1_s2b", 8, 28, 28, 512, 1, 1024, 2, 0),
    /* fully connected as a convolution: the window is the input */
    NET_CONV("fc_train", 64, 7, 7, 64, 7, 10, 1, 0),
    NET_CONV("fc_r50", 8, 1, 1, 2048, 1, 1000, 1, 0),
    NET_CONV("fc_alexnet", 8, 6, 6, 256, 6, 1024, 1, 0),
    /* stems: large windows and strides on 1 to 3 channels */
    NET_CONV("stem_r50", 8, 224, 224, 3, 7, 64, 2, 3),
    NET_CONV("stem_alexnet", 8, 224, 224, 3, 11, 64, 4, 2),
    NET_CONV("stem_mb2", 8, 224, 224, 3, 3, 32, 2, 1),
    NET_CONV("stem_train", 64, 28, 28, 1, 5, 32, 1, 2),
    /* deep layers with a small spatial size */
    NET_CONV("deep7_512", 8, 7, 7, 512, 3, 512, 1, 1),
    NET_CONV("deep7_2048", 8, 7, 7, 2048, 1, 512, 1, 0),
    /* depthwise 3x3 (MobileNet v2), stride 1 and 2 */
    NET_CONV_EX("mb2_dw112", 8, 112, 112, 32, 3, 3, 32, 1, 1, 1, 1, 1, 1, 1, 1, 32),
    NET_CONV_EX("mb2_dw112s2", 8, 112, 112, 96, 3, 3, 96, 2, 2, 1, 1, 1, 1, 1, 1, 96),
    NET_CONV_EX("mb2_dw28", 8, 28, 28, 192, 3, 3, 192, 1, 1, 1, 1, 1, 1, 1, 1, 192),
    NET_CONV_EX("mb2_dw14s2", 8, 14, 14, 576, 3, 3, 576, 2, 2, 1, 1, 1, 1, 1, 1, 576),
    NET_CONV_EX("mb2_dw7", 8, 7, 7, 960, 3, 3, 960, 1, 1, 1, 1, 1, 1, 1, 1, 960),
    /* grouped 3x3 (ResNeXt-50 32x4d) */
    NET_CONV_EX("rx50_g56", 8, 56, 56, 128, 3, 3, 128, 1, 1, 1, 1, 1, 1, 1, 1, 32),
    NET_CONV_EX("rx50_g14", 8, 14, 14, 512, 3, 3, 512, 1, 1, 1, 1, 1, 1, 1, 1, 32),
    NET_CONV_EX("rx50_g7", 8, 7, 7, 1024, 3, 3, 1024, 1, 1, 1, 1, 1, 1, 1, 1, 32),
    /* dilated 3x3 (DeepLab v3's ASPP at output stride 16), dilation 2 and 6 */
    NET_CONV_EX("aspp_d2", 2, 33, 33, 512, 3, 3, 256, 1, 1, 2, 2, 2, 2, 2, 2, 1),
    NET_CONV_EX("aspp_d6", 2, 33, 33, 512, 3, 3, 256, 1, 1, 6, 6, 6, 6, 6, 6, 1),
    /* padded max pool (the ResNet stem's) and global average pool */
    NET_POOL("r50_maxpool", 8, 112, 112, 64, MODE_MAX, 3, 3, 2, 2, 1, 1, 1, 1, 1),
    NET_POOL("r50_gap", 8, 7, 7, 2048, MODE_AVERAGE, 7, 7, 1, 1, 0, 0, 0, 0, 1),
    NET_POOL("mb2_gap", 8, 7, 7, 1280, MODE_AVERAGE, 7, 7, 1, 1, 0, 0, 0, 0, 1),
    /* element-wise ops on tensors larger than a CPU's last-level cache:
     * ResNet-50's stem output, padded for its max pool; AlexNet's fc6 */
    NET_OTHER("r50_pad112", LAYER_PAD, 8, 112, 112, 64, 1),
    NET_OTHER("r50_relu112", LAYER_ACTIVATION, 8, 112, 112, 64, 0),
    NET_OTHER("alex_sgd_fc6", LAYER_PARAMETER, 6, 6, 256, 4096, 0),
};

/* The training network's optimiser: `clcnn train`'s defaults. */
#define TRAIN_LR 0.01
#define TRAIN_MOMENTUM 0.9
static int add(bench_row *r, const size_t dims[4], fill fill)
{
    operand *o = &r->arg[r->count];
    memcpy(o->dims, dims, sizeof o->dims);
    o->fill = fill;
    return r->count++;
}

void bench_dims_text(char *out, size_t capacity, const size_t d[4])
{
    snprintf(out, capacity, "%zux%zux%zux%zu", d[0], d[1], d[2], d[3]);
}

/* "IN -> OUT" and the rest of the shape column. */
static void shape_text(bench_row *r, const size_t in[4], const size_t out[4], const char *rest)
{
    char a[96], b[96];
    bench_dims_text(a, sizeof a, in);
    bench_dims_text(b, sizeof b, out);
    snprintf(r->shape, sizeof r->shape, "%s -> %s%s", a, b, rest);
}

/* Bytes of n elements of dtype. */
static double bytes_of(clcnn_dtype dtype, size_t n)
{
    return (double)n * (double)kit_dtype_size(dtype);
}

/* -- convolutions: 0 a_prev, 1 w, 2 b, 3 Z; backward 0 dZ, 1 a_prev, 2 w, 3 dA, 4 dW, 5 db -- */

/* Whether the layer's params are the walkthrough's: then the walkthrough's
 * ops run it (clcnn_conv_forward, _backward), else the _ex ops. */
static int conv_is_walkthrough(const bench_layer *l)
{
    const clcnn_conv_params d = clcnn_conv_params_default(l->conv.stride_h, l->conv.pad_top);
    return l->f_h == l->f_w && memcmp(&d, &l->conv, sizeof d) == 0;
}

static void conv_dims(const bench_layer *l, size_t w_dims[4], size_t b_dims[4], size_t z_dims[4])
{
    const size_t w[4] = {l->f_h, l->f_w, l->dims[3] / (size_t)l->conv.groups, l->c_out};
    const size_t b[4] = {1, 1, 1, l->c_out};
    memcpy(w_dims, w, sizeof w);
    memcpy(b_dims, b, sizeof b);
    clcnn_ref_conv_output_dims_ex(l->dims, w_dims, &l->conv, z_dims);
}

/* Forward's FLOPs: 2 * m*n_H*n_W*n_C * f_h*f_w*n_C_prev/groups. */
static double conv_forward_flops(const bench_layer *l, const size_t z[4])
{
    return 2.0 * (double)kit_elements(z) * (double)(l->f_h * l->f_w) * (double)(l->dims[3] / (size_t)l->conv.groups);
}

/* Depthwise layers are memory-bound, like pooling: rated in GB/s (a_prev,
 * w and z read or written once each). */
static int conv_rated_in_bytes(const bench_layer *l)
{
    return l->conv.groups > 1 && (size_t)l->conv.groups == l->dims[3];
}

static void conv_common(bench_row *r, const size_t z_dims[4], const size_t w_dims[4])
{
    const bench_layer *l = r->layer;
    const clcnn_conv_params *p = &l->conv;
    char rest[96];
    int used = l->f_h == l->f_w ? snprintf(rest, sizeof rest, " f%zu", l->f_h)
                                : snprintf(rest, sizeof rest, " f%zux%zu", l->f_h, l->f_w);
    used += p->stride_h == p->stride_w
                ? snprintf(rest + used, sizeof rest - (size_t)used, " s%d", p->stride_h)
                : snprintf(rest + used, sizeof rest - (size_t)used, " s%dx%d", p->stride_h, p->stride_w);
    if (p->pad_top == p->pad_bottom && p->pad_top == p->pad_left && p->pad_top == p->pad_right)
        used += snprintf(rest + used, sizeof rest - (size_t)used, " p%d", p->pad_top);
    else
        used += snprintf(rest + used, sizeof rest - (size_t)used, " p%d,%d,%d,%d", p->pad_top, p->pad_bottom,
                         p->pad_left, p->pad_right);
    if (p->dilation_h > 1 || p->dilation_w > 1)
        used += snprintf(rest + used, sizeof rest - (size_t)used, " d%d", p->dilation_h);
    if (p->groups > 1)
        snprintf(rest + used, sizeof rest - (size_t)used, " g%d", p->groups);
    shape_text(r, l->dims, z_dims, rest);
    memcpy(r->input_dims, l->dims, sizeof r->input_dims);
    memcpy(r->weight_dims, w_dims, sizeof r->weight_dims);
    memcpy(r->output_dims, z_dims, sizeof r->output_dims);
    r->has_weights = 1;
}

static void shape_conv_forward(bench_row *r, clcnn_dtype dtype)
{
    size_t w_dims[4], b_dims[4], z_dims[4];
    conv_dims(r->layer, w_dims, b_dims, z_dims);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, w_dims, FILL_NORMAL);
    add(r, b_dims, FILL_NORMAL);
    add(r, z_dims, FILL_NONE);
    conv_common(r, z_dims, w_dims);
    r->work = conv_forward_flops(r->layer, z_dims);
    if (conv_rated_in_bytes(r->layer))
        r->bytes = bytes_of(dtype, kit_elements(r->layer->dims) + kit_elements(w_dims) + kit_elements(z_dims));
    else
        r->flops = r->work;
}

static void conv_backward_operands(bench_row *r, size_t z_dims[4])
{
    size_t w_dims[4], b_dims[4];
    conv_dims(r->layer, w_dims, b_dims, z_dims);
    add(r, z_dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, w_dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NONE);
    add(r, w_dims, FILL_NONE);
    add(r, b_dims, FILL_NONE);
    conv_common(r, z_dims, w_dims);
}

/* dA + dW + db count twice forward's FLOPs; depthwise layers read dZ,
 * a_prev and w and write dA and dW (db is small). */
static void shape_conv_backward(bench_row *r, clcnn_dtype dtype)
{
    size_t z_dims[4];
    conv_backward_operands(r, z_dims);
    r->work = 2.0 * conv_forward_flops(r->layer, z_dims);
    const size_t a = kit_elements(r->layer->dims), w = kit_elements(DIMS(r, 2));
    if (conv_rated_in_bytes(r->layer))
        r->bytes = bytes_of(dtype, kit_elements(z_dims) + 2 * a + 2 * w);
    else
        r->flops = r->work;
}

/* dA alone, or dW alone: forward's FLOPs. */
static void shape_conv_backward_part(bench_row *r, clcnn_dtype dtype)
{
    (void)dtype;
    size_t z_dims[4];
    conv_backward_operands(r, z_dims);
    r->flops = r->work = conv_forward_flops(r->layer, z_dims);
}

/* db alone: one add per element of dZ. */
static void shape_conv_backward_bias(bench_row *r, clcnn_dtype dtype)
{
    (void)dtype;
    size_t z_dims[4];
    conv_backward_operands(r, z_dims);
    r->flops = r->work = (double)kit_elements(z_dims);
}

static clcnn_status run_conv_forward_ex(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_conv_forward_ex(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2), &r->layer->conv, CLCNN_ACTIVATION_NONE,
                                 TENSOR(r, 3));
}

/* The walkthrough's op where it can express the layer, else the _ex op. */
static clcnn_status run_conv_forward(clcnn_context *ctx, const bench_row *r)
{
    const bench_layer *l = r->layer;
    if (conv_is_walkthrough(l))
        return clcnn_conv_forward(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2), l->conv.stride_h, l->conv.pad_top,
                                  TENSOR(r, 3));
    return run_conv_forward_ex(ctx, r);
}

static void reference_conv_forward(bench_row *r)
{
    clcnn_ref_conv_forward_ex(HOST(r, 0), DIMS(r, 0), HOST(r, 1), DIMS(r, 1), HOST(r, 2), &r->layer->conv,
                              CLCNN_ACTIVATION_NONE, HOST(r, 3));
}

/* conv_backward with the outputs in `outputs` (bit 0 dA, 1 dW, 2 db):
 * the walkthrough's op where it can express the layer, unless ex, else the
 * _ex op. */
static clcnn_status run_conv_backward_outputs(clcnn_context *ctx, const bench_row *r, int outputs, int ex)
{
    const bench_layer *l = r->layer;
    clcnn_tensor *da = outputs & 1 ? TENSOR(r, 3) : NULL, *dw = outputs & 2 ? TENSOR(r, 4) : NULL;
    clcnn_tensor *db = outputs & 4 ? TENSOR(r, 5) : NULL;
    if (!ex && conv_is_walkthrough(l))
        return clcnn_conv_backward(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2), l->conv.stride_h, l->conv.pad_top, da,
                                   dw, db);
    return clcnn_conv_backward_ex(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2), &l->conv, da, dw, db);
}

static clcnn_status run_conv_backward(clcnn_context *ctx, const bench_row *r)
{
    return run_conv_backward_outputs(ctx, r, 7, 0);
}

static clcnn_status run_conv_backward_ex(clcnn_context *ctx, const bench_row *r)
{
    return run_conv_backward_outputs(ctx, r, 7, 1);
}

static clcnn_status run_conv_backward_data(clcnn_context *ctx, const bench_row *r)
{
    return run_conv_backward_outputs(ctx, r, 1, 0);
}

static clcnn_status run_conv_backward_filter(clcnn_context *ctx, const bench_row *r)
{
    return run_conv_backward_outputs(ctx, r, 2, 0);
}

static clcnn_status run_conv_backward_bias(clcnn_context *ctx, const bench_row *r)
{
    return run_conv_backward_outputs(ctx, r, 4, 0);
}

static void reference_conv_backward(bench_row *r)
{
    clcnn_ref_conv_backward_ex(HOST(r, 0), HOST(r, 1), DIMS(r, 1), HOST(r, 2), DIMS(r, 2), &r->layer->conv, HOST(r, 3),
                               HOST(r, 4), HOST(r, 5));
}

/* -- pooling: forward 0 a_prev, 1 A; backward 0 dA, 1 a_prev, 2 dA_prev -- */

/* Whether the layer's params are the walkthrough's: then the walkthrough's
 * ops run it (clcnn_pool_forward, _backward), else the _ex ops. */
static int pool_is_walkthrough(const bench_layer *l)
{
    const clcnn_pool_params d = clcnn_pool_params_default(l->pool.f_h, l->pool.stride_h);
    return memcmp(&d, &l->pool, sizeof d) == 0;
}

static void pool_common(bench_row *r, const size_t out_dims[4])
{
    const bench_layer *l = r->layer;
    const clcnn_pool_params *p = &l->pool;
    char rest[64];
    int used = p->f_h == p->f_w ? snprintf(rest, sizeof rest, " f%d", p->f_h)
                                : snprintf(rest, sizeof rest, " f%dx%d", p->f_h, p->f_w);
    used += snprintf(rest + used, sizeof rest - (size_t)used, " s%d", p->stride_h);
    if (p->pad_top || p->pad_bottom || p->pad_left || p->pad_right)
        snprintf(rest + used, sizeof rest - (size_t)used, " p%d", p->pad_top);
    shape_text(r, l->dims, out_dims, rest);
    memcpy(r->input_dims, l->dims, sizeof r->input_dims);
    memcpy(r->output_dims, out_dims, sizeof r->output_dims);
    /* One operation per window element, for the reference's estimate. */
    r->work = (double)kit_elements(out_dims) * (double)(p->f_h * p->f_w) * 2.0;
}

/* Reads A_prev, writes A. */
static void shape_pool_forward(bench_row *r, clcnn_dtype dtype)
{
    size_t out_dims[4];
    clcnn_ref_pool_output_dims_ex(r->layer->dims, &r->layer->pool, out_dims);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, out_dims, FILL_NONE);
    pool_common(r, out_dims);
    r->bytes = bytes_of(dtype, kit_elements(r->layer->dims)) + bytes_of(dtype, kit_elements(out_dims));
}

/* Reads dA (and A_prev for max, to find each window's maximum), writes
 * dA_prev. */
static void shape_pool_backward(bench_row *r, clcnn_dtype dtype)
{
    size_t out_dims[4];
    clcnn_ref_pool_output_dims_ex(r->layer->dims, &r->layer->pool, out_dims);
    add(r, out_dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NONE);
    pool_common(r, out_dims);
    double in = bytes_of(dtype, kit_elements(r->layer->dims));
    r->bytes = bytes_of(dtype, kit_elements(out_dims)) + in + (r->pool_mode == CLCNN_POOL_MAX ? in : 0.0);
}

static clcnn_status run_pool_forward_ex(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_pool_forward_ex(ctx, TENSOR(r, 0), &r->layer->pool, r->pool_mode, TENSOR(r, 1));
}

static clcnn_status run_pool_forward(clcnn_context *ctx, const bench_row *r)
{
    const bench_layer *l = r->layer;
    if (pool_is_walkthrough(l))
        return clcnn_pool_forward(ctx, TENSOR(r, 0), l->pool.f_h, l->pool.stride_h, r->pool_mode, TENSOR(r, 1));
    return run_pool_forward_ex(ctx, r);
}

static void reference_pool_forward(bench_row *r)
{
    clcnn_ref_pool_forward_ex(HOST(r, 0), DIMS(r, 0), &r->layer->pool, r->pool_mode, HOST(r, 1));
}

static clcnn_status run_pool_backward_ex(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_pool_backward_ex(ctx, TENSOR(r, 0), TENSOR(r, 1), &r->layer->pool, r->pool_mode, TENSOR(r, 2));
}

static clcnn_status run_pool_backward(clcnn_context *ctx, const bench_row *r)
{
    const bench_layer *l = r->layer;
    if (pool_is_walkthrough(l))
        return clcnn_pool_backward(ctx, TENSOR(r, 0), TENSOR(r, 1), l->pool.f_h, l->pool.stride_h, r->pool_mode,
                                   TENSOR(r, 2));
    return run_pool_backward_ex(ctx, r);
}

static void reference_pool_backward(bench_row *r)
{
    clcnn_ref_pool_backward_ex(HOST(r, 0), HOST(r, 1), DIMS(r, 1), &r->layer->pool, r->pool_mode, HOST(r, 2));
}

/* -- zero_pad: 0 x, 1 x_pad; reads x, writes x_pad -- */

static void shape_zero_pad(bench_row *r, clcnn_dtype dtype)
{
    const bench_layer *l = r->layer;
    const size_t pad = (size_t)l->pad;
    const size_t out_dims[4] = {l->dims[0], l->dims[1] + 2 * pad, l->dims[2] + 2 * pad, l->dims[3]};
    add(r, l->dims, FILL_NORMAL);
    add(r, out_dims, FILL_NONE);
    char rest[32];
    snprintf(rest, sizeof rest, " p%d", l->pad);
    shape_text(r, l->dims, out_dims, rest);
    memcpy(r->input_dims, l->dims, sizeof r->input_dims);
    memcpy(r->output_dims, out_dims, sizeof r->output_dims);
    r->work = (double)kit_elements(out_dims);
    r->bytes = bytes_of(dtype, kit_elements(l->dims)) + bytes_of(dtype, kit_elements(out_dims));
}

static clcnn_status run_zero_pad(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_zero_pad(ctx, TENSOR(r, 0), r->layer->pad, TENSOR(r, 1));
}

static void reference_zero_pad(bench_row *r)
{
    clcnn_ref_zero_pad(HOST(r, 0), DIMS(r, 0), r->layer->pad, HOST(r, 1));
}

/* -- element-wise ops on the layer's tensor: `tensors` of them read or written -- */

static void elementwise_common(bench_row *r, clcnn_dtype dtype, int tensors, const char *rest)
{
    const bench_layer *l = r->layer;
    shape_text(r, l->dims, l->dims, rest);
    memcpy(r->input_dims, l->dims, sizeof r->input_dims);
    memcpy(r->output_dims, l->dims, sizeof r->output_dims);
    r->work = (double)kit_elements(l->dims);
    r->bytes = tensors * bytes_of(dtype, kit_elements(l->dims));
}

/* relu_forward: 0 x, 1 y. Reads x, writes y. */
static void shape_relu_forward(bench_row *r, clcnn_dtype dtype)
{
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NONE);
    elementwise_common(r, dtype, 2, "");
}

/* relu_backward: 0 dy, 1 x, 2 dx. Reads dy and x, writes dx. */
static void shape_relu_backward(bench_row *r, clcnn_dtype dtype)
{
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NONE);
    elementwise_common(r, dtype, 3, "");
}

/* tensor_convert: 0 src, 1 dst, both of the run's dtype (a copy through
 * the convert kernel; the cost of a conversion's traffic). */
#define shape_tensor_convert shape_relu_forward

static clcnn_status run_tensor_convert(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_tensor_convert(ctx, TENSOR(r, 0), TENSOR(r, 1));
}

static void reference_tensor_convert(bench_row *r)
{
    memcpy(HOST(r, 1), HOST(r, 0), kit_elements(DIMS(r, 0)) * sizeof(double));
}

static clcnn_status run_relu_forward(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_relu_forward(ctx, TENSOR(r, 0), TENSOR(r, 1));
}

static void reference_relu_forward(bench_row *r)
{
    clcnn_ref_relu_forward(HOST(r, 0), kit_elements(DIMS(r, 0)), HOST(r, 1));
}

static clcnn_status run_relu_backward(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_relu_backward(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2));
}

static void reference_relu_backward(bench_row *r)
{
    clcnn_ref_relu_backward(HOST(r, 0), HOST(r, 1), kit_elements(DIMS(r, 0)), HOST(r, 2));
}

/* -- softmax cross-entropy: forward 0 logits, 1 labels, 2 probs, 3 loss,
 * 4 mean_loss; backward 0 probs, 1 labels, 2 dlogits -- */

static void loss_common(bench_row *r, size_t label_dims[4])
{
    const bench_layer *l = r->layer;
    memcpy(label_dims, l->dims, 4 * sizeof *label_dims);
    label_dims[3] = 1;
    memcpy(r->input_dims, l->dims, sizeof r->input_dims);
    memcpy(r->output_dims, l->dims, sizeof r->output_dims);
    shape_text(r, l->dims, l->dims, "");
    r->work = (double)kit_elements(l->dims);
}

/* Reads logits and labels, writes probs, loss and the mean. */
static void shape_softmax_cross_entropy_forward(bench_row *r, clcnn_dtype dtype)
{
    size_t label_dims[4];
    const size_t scalar_dims[4] = {1, 1, 1, 1};
    loss_common(r, label_dims);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, label_dims, FILL_LABELS);
    add(r, r->layer->dims, FILL_NONE);
    add(r, label_dims, FILL_NONE);
    add(r, scalar_dims, FILL_NONE);
    size_t n = kit_elements(r->layer->dims), rows = kit_elements(label_dims);
    r->bytes = bytes_of(dtype, 2 * n + 2 * rows + 1);
}

/* Reads probs and labels, writes dlogits. */
static void shape_softmax_cross_entropy_backward(bench_row *r, clcnn_dtype dtype)
{
    size_t label_dims[4];
    loss_common(r, label_dims);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, label_dims, FILL_LABELS);
    add(r, r->layer->dims, FILL_NONE);
    size_t n = kit_elements(r->layer->dims), rows = kit_elements(label_dims);
    r->bytes = bytes_of(dtype, 2 * n + rows);
}

static clcnn_status run_softmax_cross_entropy_forward(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_softmax_cross_entropy_forward(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2), TENSOR(r, 3),
                                               TENSOR(r, 4));
}

static void reference_softmax_cross_entropy_forward(bench_row *r)
{
    clcnn_ref_softmax_cross_entropy_forward(HOST(r, 0), DIMS(r, 0), HOST(r, 1), HOST(r, 2), HOST(r, 3), HOST(r, 4));
}

static clcnn_status run_softmax_cross_entropy_backward(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_softmax_cross_entropy_backward(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2));
}

static void reference_softmax_cross_entropy_backward(bench_row *r)
{
    clcnn_ref_softmax_cross_entropy_backward(HOST(r, 0), DIMS(r, 0), HOST(r, 1), HOST(r, 2));
}

/* -- sgd_update with momentum, in place: 0 param, 1 grad, 2 velocity --
 * Reads param, grad and velocity, writes param and velocity. */
static void shape_sgd_update(bench_row *r, clcnn_dtype dtype)
{
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NORMAL);
    add(r, r->layer->dims, FILL_NORMAL);
    char rest[48];
    snprintf(rest, sizeof rest, " momentum %g", TRAIN_MOMENTUM);
    elementwise_common(r, dtype, 5, rest);
}

static clcnn_status run_sgd_update(clcnn_context *ctx, const bench_row *r)
{
    return clcnn_sgd_update(ctx, TENSOR(r, 0), TENSOR(r, 1), TENSOR(r, 2), TRAIN_LR, TRAIN_MOMENTUM, 0.0);
}

static void reference_sgd_update(bench_row *r)
{
    clcnn_ref_sgd_update(HOST(r, 0), HOST(r, 1), HOST(r, 2), kit_elements(DIMS(r, 0)), TRAIN_LR, TRAIN_MOMENTUM, 0.0);
}

/* The table: a row for every op of the op table (host/api/op_table.h),
 * with the shape_, run_ and reference_ functions named after it, then the
 * parts of conv_backward. BENCH_<op> says which layers an op is timed on
 * and whether only when --op names it: the _ex ops are, as their
 * walkthrough op's row runs them already on every layer the walkthrough's
 * arguments cannot express. The conv_backward_* parts time one output of
 * conv_backward each (the others NULL); the reference computes all three,
 * so they have none. */
#define BENCH_zero_pad LAYER_PAD, 0
#define BENCH_conv_forward LAYER_CONV, 0
#define BENCH_conv_backward LAYER_CONV, 0
#define BENCH_pool_forward LAYER_POOL, 0
#define BENCH_pool_backward LAYER_POOL, 0
#define BENCH_conv_forward_ex LAYER_CONV, 1
#define BENCH_conv_backward_ex LAYER_CONV, 1
#define BENCH_pool_forward_ex LAYER_POOL, 1
#define BENCH_pool_backward_ex LAYER_POOL, 1
#define BENCH_relu_forward LAYER_ACTIVATION, 0
#define BENCH_relu_backward LAYER_ACTIVATION, 0
#define BENCH_softmax_cross_entropy_forward LAYER_LOSS, 0
#define BENCH_softmax_cross_entropy_backward LAYER_LOSS, 0
#define BENCH_sgd_update LAYER_PARAMETER, 0
#define BENCH_tensor_convert LAYER_ACTIVATION, 1
#define shape_conv_forward_ex shape_conv_forward
#define shape_conv_backward_ex shape_conv_backward
#define shape_pool_forward_ex shape_pool_forward
#define shape_pool_backward_ex shape_pool_backward
#define reference_conv_forward_ex reference_conv_forward
#define reference_conv_backward_ex reference_conv_backward
#define reference_pool_forward_ex reference_pool_forward
#define reference_pool_backward_ex reference_pool_backward
#define BENCH_ROW(name, operands) {#name, BENCH_##name, shape_##name, run_##name, reference_##name},
#define BENCH_PART(name, shape) {#name, LAYER_CONV, 1, shape, run_##name, NULL},
/* clang-format off */
const bench_op bench_op_table[] = {
    CLCNN_OPS(BENCH_ROW)
    BENCH_PART(conv_backward_data, shape_conv_backward_part)
    BENCH_PART(conv_backward_filter, shape_conv_backward_part)
    BENCH_PART(conv_backward_bias, shape_conv_backward_bias)
};
/* clang-format on */
#undef BENCH_ROW
#undef BENCH_PART

const int bench_layer_count = COUNT(bench_layer_table);
const int bench_op_count = COUNT(bench_op_table);
_Static_assert(COUNT(bench_layer_table) <= BENCH_MAX_LAYERS, "BENCH_MAX_LAYERS");
_Static_assert(COUNT(bench_op_table) <= BENCH_MAX_OPS, "BENCH_MAX_OPS");

int bench_parse_suite(const char *command, const char *text, int *suites)
{
    if (strcmp(text, "table") == 0)
        *suites = SUITE_TABLE;
    else if (strcmp(text, "networks") == 0)
        *suites = SUITE_NETWORKS;
    else if (strcmp(text, "all") == 0)
        *suites = SUITE_TABLE | SUITE_NETWORKS;
    else {
        fprintf(stderr, "clcnn %s: unknown --suite \"%s\" (table, networks or all)\n", command, text);
        return -1;
    }
    return 0;
}

int bench_find_op(const char *name)
{
    return cli_find_name(name, bench_op_table, sizeof bench_op_table[0], bench_op_count);
}

int bench_find_layer(const char *name)
{
    for (int i = 0; i < bench_layer_count; i++)
        if (strcmp(name, bench_layer_table[i].name) == 0)
            return i;
    return -1;
}

double bench_median(double *values, long n)
{
    /* n is small: insertion sort. */
    for (long i = 1; i < n; i++)
        for (long j = i; j > 0 && values[j - 1] > values[j]; j--) {
            double t = values[j];
            values[j] = values[j - 1];
            values[j - 1] = t;
        }
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

int bench_prepare(clcnn_context *ctx, clcnn_dtype dtype, bench_row *r)
{
    for (int k = 0; k < r->count; k++) {
        operand *o = &r->arg[k];
        size_t n = kit_elements(o->dims);
        o->host = malloc((n ? n : 1) * sizeof *o->host);
        if (!o->host) {
            snprintf(r->error, sizeof r->error, "out of host memory");
            return -1;
        }
        kit_rng rng;
        kit_rng_init(&rng, (uint64_t)k + 1);
        if (o->fill == FILL_NORMAL)
            kit_rng_fill(&rng, dtype, KIT_NORMAL, o->host, n);
        else if (o->fill == FILL_LABELS)
            for (size_t i = 0; i < n; i++)
                o->host[i] = (double)kit_rng_below(&rng, r->layer->dims[3]);
        clcnn_status status = clcnn_tensor_create(ctx, dtype, o->dims, &o->tensor);
        if (status == CLCNN_OK && o->fill != FILL_NONE)
            status = kit_tensor_write(o->tensor, o->host);
        if (status != CLCNN_OK) {
            snprintf(r->error, sizeof r->error, "creating a tensor: %s", clcnn_context_last_error(ctx));
            return -1;
        }
    }
    return 0;
}

void bench_release(bench_row *r)
{
    for (int k = 0; k < r->count; k++) {
        clcnn_tensor_destroy(r->arg[k].tensor);
        free(r->arg[k].host);
        r->arg[k].tensor = NULL;
        r->arg[k].host = NULL;
    }
}

int bench_layer_spec(const bench_layer *l, const bench_op *op, clcnn_pool_mode mode, clcnn_dtype dtype,
                     clcnn_layer_spec *spec)
{
    size_t b_dims[4], z_dims[4];
    memset(spec, 0, sizeof *spec);
    spec->dtype = dtype;
    memcpy(spec->input_dims, l->dims, sizeof spec->input_dims);
    const int forward = strstr(op->name, "forward") != NULL;
    switch (l->kind) {
    case LAYER_CONV:
        conv_dims(l, spec->weight_dims, b_dims, z_dims);
        spec->conv = l->conv;
        spec->op = forward ? CLCNN_PREPARE_CONV_FORWARD : CLCNN_PREPARE_CONV_BACKWARD;
        spec->has_bias = 1;
        spec->gradients = strcmp(op->name, "conv_backward_data") == 0     ? CLCNN_PREPARE_DA
                          : strcmp(op->name, "conv_backward_filter") == 0 ? CLCNN_PREPARE_DW
                          : strcmp(op->name, "conv_backward_bias") == 0   ? CLCNN_PREPARE_DB
                                                                          : 0;
        break;
    case LAYER_POOL:
        spec->op = forward ? CLCNN_PREPARE_POOL_FORWARD : CLCNN_PREPARE_POOL_BACKWARD;
        spec->pool = l->pool;
        spec->mode = mode;
        break;
    case LAYER_PAD:
        spec->op = CLCNN_PREPARE_ZERO_PAD;
        spec->pad = l->pad;
        break;
    case LAYER_ACTIVATION: spec->op = forward ? CLCNN_PREPARE_RELU_FORWARD : CLCNN_PREPARE_RELU_BACKWARD; break;
    case LAYER_LOSS:
        spec->op = forward ? CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_FORWARD : CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_BACKWARD;
        break;
    case LAYER_PARAMETER:
        spec->op = CLCNN_PREPARE_SGD_UPDATE;
        spec->momentum = TRAIN_MOMENTUM;
        break;
    }
    return 0;
}

void bench_visit(int suites, const int *layer_wanted, const int op_wanted[],
                 int (*visit)(void *arg, const bench_layer *layer, const bench_op *op, int mode), void *arg)
{
    for (int i = 0; i < bench_layer_count; i++) {
        const bench_layer *layer = &bench_layer_table[i];
        if (layer_wanted ? !layer_wanted[i] : !(layer->suite & suites))
            continue;
        /* Pooling runs each mode the layer names; the rest once. */
        for (int mode = MODE_MAX; mode <= MODE_AVERAGE; mode <<= 1) {
            if (layer->kind == LAYER_POOL ? !(layer->modes & mode) : mode != MODE_MAX)
                continue;
            for (int k = 0; k < bench_op_count; k++)
                if (op_wanted[k] && bench_op_table[k].kind == layer->kind)
                    visit(arg, layer, &bench_op_table[k], mode);
        }
    }
}
