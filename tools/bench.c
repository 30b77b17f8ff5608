/* `clcnn bench`: times every public op on the shapes of the design notes
 * and of the training network (`clcnn train`). Two tables drive it: layers[]
 * holds the shapes, each of one kind, and ops[] the ops, each timed on every
 * layer of its kind (pooling: in each mode the layer names). A row: a
 * warm-up run (kernel builds happen there), then N timed runs, each between
 * two clcnn_context_finish calls on a monotonic clock; the median and the
 * minimum, the rate (GFLOP/s for convolutions, GB/s for the rest: bytes
 * read and written), and the CPU reference's time once for the speedup.
 * ops[] comes from the op table: adding an op there is writing its
 * shape_, run_ and reference_ functions here and its BENCH_ line (and
 * layers of a new kind, if it needs one). */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/op_table.h"
#include "cli.h"
#include "clcnn_reference.h"

#define COMMAND "bench"
#define DEFAULT_REPEAT 10
/* The reference is skipped when its estimated time passes this; the
 * estimate assumes REFERENCE_FLOPS_PER_S. */
#define REFERENCE_LIMIT_S 10.0
#define REFERENCE_FLOPS_PER_S 0.5e9
#define MAX_OPERANDS 6
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- the shapes ---- */

typedef enum layer_kind {
    LAYER_CONV,       /* conv_*: a_prev, window f_h x f_w, c_out filters, conv params */
    LAYER_POOL,       /* pool_*: a_prev, pool params, modes */
    LAYER_PAD,        /* zero_pad: x, pad */
    LAYER_ACTIVATION, /* relu_*: x */
    LAYER_LOSS,       /* softmax_cross_entropy_*: logits (m, 1, 1, classes) */
    LAYER_PARAMETER   /* sgd_update: a parameter tensor, with momentum */
} layer_kind;

enum { MODE_MAX = 1, MODE_AVERAGE = 2 };

/* Which list a layer belongs to: the table (--suite table, the default)
 * or the layer classes of real networks (--suite networks). */
typedef enum bench_suite { SUITE_TABLE = 1, SUITE_NETWORKS = 2 } bench_suite;

typedef struct bench_layer {
    const char *name;
    layer_kind kind;
    bench_suite suite;
    size_t dims[4];         /* the input: a_prev, x, logits or the parameter */
    size_t f_h, f_w, c_out; /* conv: window and filters */
    clcnn_conv_params conv;
    clcnn_pool_params pool;
    int pad;   /* zero_pad */
    int modes; /* pooling: which modes are timed */
} bench_layer;

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
static const bench_layer layers[] = {
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

/* ---- a row: one op on one layer ---- */

typedef enum fill { FILL_NONE, FILL_NORMAL, FILL_LABELS } fill;

typedef struct operand {
    size_t dims[4];
    fill fill; /* inputs get values; outputs are left as created */
    clcnn_tensor *tensor;
    double *host; /* the reference's copy */
} operand;

/* --kernels: the kernels one run of an op launches, as the library's
 * profiling reports them (clcnn_context_launches), with the median of
 * each launch's device time over the timed runs. */
#define MAX_LAUNCHES 16
typedef struct bench_launch {
    clcnn_launch launch;
    double median_ms;
} bench_launch;

typedef struct bench_row {
    const bench_layer *layer;
    const struct bench_op *op;
    const char *mode; /* pooling: "max"/"average"; NULL otherwise */
    clcnn_pool_mode pool_mode;
    char shape[256];
    operand arg[MAX_OPERANDS];
    int count;
    int has_weights;
    size_t input_dims[4], weight_dims[4], output_dims[4];
    double flops; /* convolutions: per run */
    double bytes; /* the rest: read and written per run */
    double work;  /* operations, for the reference's time estimate */
    double median_ms, min_ms;
    double reference_ms; /* NAN when not run */
    char reference_note[64];
    char error[512];
    bench_launch launches[MAX_LAUNCHES];
    size_t launch_count; /* per run; those past MAX_LAUNCHES are not kept */
} bench_row;

/* A row of the ops table. */
typedef struct bench_op {
    const char *name;
    layer_kind kind;
    int only_when_named; /* timed only when --op names it */
    /* The operands (in the order run and reference use them), the rate's
     * count, the shape text. */
    void (*shape)(bench_row *row, clcnn_dtype dtype);
    clcnn_status (*run)(clcnn_context *ctx, const bench_row *row);
    /* NULL: no fair comparison (the reference computes more). */
    void (*reference)(bench_row *row);
} bench_op;

#define HOST(r, i) ((r)->arg[i].host)

static int add(bench_row *r, const size_t dims[4], fill fill)
{
    operand *o = &r->arg[r->count];
    memcpy(o->dims, dims, sizeof o->dims);
    o->fill = fill;
    return r->count++;
}

static void dims_text(char *out, size_t capacity, const size_t d[4])
{
    snprintf(out, capacity, "%zux%zux%zux%zu", d[0], d[1], d[2], d[3]);
}

/* "IN -> OUT" and the rest of the shape column. */
static void shape_text(bench_row *r, const size_t in[4], const size_t out[4], const char *rest)
{
    char a[96], b[96];
    dims_text(a, sizeof a, in);
    dims_text(b, sizeof b, out);
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
static const bench_op ops[] = {
    CLCNN_OPS(BENCH_ROW)
    BENCH_PART(conv_backward_data, shape_conv_backward_part)
    BENCH_PART(conv_backward_filter, shape_conv_backward_part)
    BENCH_PART(conv_backward_bias, shape_conv_backward_bias)
};
/* clang-format on */
#undef BENCH_ROW
#undef BENCH_PART

/* ---- timing ---- */

typedef struct bench {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    long repeat;
    int json;
    int reference;
    int kernels; /* --kernels */
    FILE *progress;
    bench_row *rows;
    int row_count, row_capacity;
    int failures;
    int op_width; /* of the op column: the longest op name timed */
} bench;

static double median(double *values, long n)
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

/* Creates the row's tensors and host arrays: inputs random, labels valid
 * classes, outputs left as created. */
static int prepare(bench *b, bench_row *r)
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
            kit_rng_fill(&rng, b->dtype, KIT_NORMAL, o->host, n);
        else if (o->fill == FILL_LABELS)
            for (size_t i = 0; i < n; i++)
                o->host[i] = (double)kit_rng_below(&rng, r->layer->dims[3]);
        clcnn_status status = clcnn_tensor_create(b->ctx, b->dtype, o->dims, &o->tensor);
        if (status == CLCNN_OK && o->fill != FILL_NONE)
            status = kit_tensor_write(o->tensor, o->host);
        if (status != CLCNN_OK) {
            snprintf(r->error, sizeof r->error, "creating a tensor: %s", clcnn_context_last_error(b->ctx));
            return -1;
        }
    }
    return 0;
}

static void release(bench_row *r)
{
    for (int k = 0; k < r->count; k++) {
        clcnn_tensor_destroy(r->arg[k].tensor);
        free(r->arg[k].host);
        r->arg[k].tensor = NULL;
        r->arg[k].host = NULL;
    }
}

static void time_row(bench *b, bench_row *r)
{
    r->reference_ms = NAN;
    r->median_ms = r->min_ms = NAN;
    if (prepare(b, r) != 0)
        return;
    double *times = malloc((size_t)b->repeat * sizeof *times);
    if (!times) {
        snprintf(r->error, sizeof r->error, "out of host memory");
        return;
    }
    /* --kernels: each launch's device time in each run, launch-major. */
    double *launch_ms = b->kernels ? malloc((size_t)b->repeat * MAX_LAUNCHES * sizeof *launch_ms) : NULL;
    if (b->kernels && !launch_ms) {
        snprintf(r->error, sizeof r->error, "out of host memory");
        free(times);
        return;
    }
    clcnn_launch launches[MAX_LAUNCHES];
    size_t launch_count = 0;
    clcnn_status status = r->op->run(b->ctx, r);
    if (status == CLCNN_OK)
        status = clcnn_context_finish(b->ctx);
    /* The warm-up's launches (and the kernel builds') are not reported. */
    if (status == CLCNN_OK && b->kernels)
        status = clcnn_context_launches(b->ctx, NULL, 0, &launch_count);
    for (long i = 0; i < b->repeat && status == CLCNN_OK; i++) {
        double start = cli_now();
        status = r->op->run(b->ctx, r);
        if (status == CLCNN_OK)
            status = clcnn_context_finish(b->ctx);
        times[i] = 1e3 * (cli_now() - start);
        if (status == CLCNN_OK && b->kernels)
            status = clcnn_context_launches(b->ctx, launches, MAX_LAUNCHES, &launch_count);
        for (size_t k = 0; b->kernels && k < launch_count && k < MAX_LAUNCHES; k++)
            launch_ms[k * (size_t)b->repeat + (size_t)i] = launches[k].ms;
    }
    if (status != CLCNN_OK) {
        snprintf(r->error, sizeof r->error, "%s", clcnn_context_last_error(b->ctx));
        free(times);
        free(launch_ms);
        return;
    }
    /* Every run launches the same kernels: the last run's list, each
     * launch with its median time over the runs. */
    r->launch_count = launch_count;
    for (size_t k = 0; b->kernels && k < launch_count && k < MAX_LAUNCHES; k++) {
        r->launches[k].launch = launches[k];
        r->launches[k].median_ms = median(launch_ms + k * (size_t)b->repeat, b->repeat);
    }
    free(launch_ms);
    r->min_ms = times[0];
    for (long i = 1; i < b->repeat; i++)
        if (times[i] < r->min_ms)
            r->min_ms = times[i];
    r->median_ms = median(times, b->repeat);
    free(times);

    double estimate_s = r->work / REFERENCE_FLOPS_PER_S;
    if (!b->reference) {
        snprintf(r->reference_note, sizeof r->reference_note, "not run (--no-reference)");
    } else if (!r->op->reference) {
        snprintf(r->reference_note, sizeof r->reference_note, "not run for one output");
    } else if (estimate_s > REFERENCE_LIMIT_S) {
        snprintf(r->reference_note, sizeof r->reference_note, "skipped (est. %.0f s)", estimate_s);
    } else {
        double start = cli_now();
        r->op->reference(r);
        r->reference_ms = 1e3 * (cli_now() - start);
    }
}

/* ---- output ---- */

static void format_rate(const bench_row *r, char *out, size_t capacity)
{
    if (isnan(r->median_ms))
        snprintf(out, capacity, "-");
    else if (r->flops > 0)
        snprintf(out, capacity, "%.1f GFLOP/s", r->flops / (r->median_ms * 1e6));
    else
        snprintf(out, capacity, "%.1f GB/s", r->bytes / (r->median_ms * 1e6));
}

static void print_row_header(FILE *out, int op_width)
{
    fprintf(out, "%-12s %-*s %-7s %-40s %9s %9s %15s %10s %8s\n", "layer", op_width, "op", "mode", "shape", "median ms",
            "min ms", "rate", "ref ms", "speedup");
}

static void print_row(FILE *out, int op_width, const bench_row *r)
{
    const char *mode = r->mode ? r->mode : "";
    if (r->error[0]) {
        fprintf(out, "%-12s %-*s %-7s %-40s FAILED: %s\n", r->layer->name, op_width, r->op->name, mode, r->shape,
                r->error);
        return;
    }
    char rate[32], reference[32], speedup[32];
    format_rate(r, rate, sizeof rate);
    if (isnan(r->reference_ms)) {
        snprintf(reference, sizeof reference, "-");
        snprintf(speedup, sizeof speedup, "-");
    } else {
        snprintf(reference, sizeof reference, r->reference_ms < 10 ? "%.3f" : "%.1f", r->reference_ms);
        snprintf(speedup, sizeof speedup, "%.1fx", r->reference_ms / r->median_ms);
    }
    /* A skipped reference says why after the row; --no-reference says it
     * once in the header. */
    int skipped = isnan(r->reference_ms) && strncmp(r->reference_note, "skipped", 7) == 0;
    fprintf(out, "%-12s %-*s %-7s %-40s %9.3f %9.3f %15s %10s %8s%s%s\n", r->layer->name, op_width, r->op->name, mode,
            r->shape, r->median_ms, r->min_ms, rate, reference, speedup, skipped ? "  reference " : "",
            skipped ? r->reference_note : "");
    fflush(out);
}

/* "AxBxC" of the first `dims` sizes. */
static void sizes_text(char *out, size_t capacity, const size_t sizes[3], unsigned dims)
{
    size_t used = 0;
    for (unsigned d = 0; d < dims && d < 3 && used < capacity; d++)
        used += (size_t)snprintf(out + used, capacity - used, "%s%zu", d ? "x" : "", sizes[d]);
}

/* --kernels: one line per launch under the row. */
static void print_launches(FILE *out, const bench_row *r)
{
    for (size_t k = 0; k < r->launch_count && k < MAX_LAUNCHES; k++) {
        const clcnn_launch *l = &r->launches[k].launch;
        char global[64], local[64];
        sizes_text(global, sizeof global, l->global, l->dims);
        sizes_text(local, sizeof local, l->local, l->dims);
        fprintf(out, "    %-30s global %-16s local %-10s %9.3f ms\n", l->kernel, global, local,
                r->launches[k].median_ms);
    }
    if (r->launch_count > MAX_LAUNCHES)
        fprintf(out, "    and %zu more launches\n", r->launch_count - MAX_LAUNCHES);
    fflush(out);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* NULL or "": null. */
static void json_string_or_null(FILE *out, const char *s)
{
    if (s && s[0])
        json_string(out, s);
    else
        fputs("null", out);
}

static void json_number(FILE *out, double value)
{
    if (isfinite(value))
        fprintf(out, "%.6g", value);
    else
        fputs("null", out);
}

static void json_dims(FILE *out, const size_t dims[4])
{
    fprintf(out, "[%zu, %zu, %zu, %zu]", dims[0], dims[1], dims[2], dims[3]);
}

static void print_json(const bench *b)
{
    FILE *out = stdout;
    fputs("{\"device\": ", out);
    json_string(out, clcnn_context_device_name(b->ctx));
    fputs(", \"version\": ", out);
    json_string(out, clcnn_version());
    fputs(", \"config\": ", out);
    json_string(out, clcnn_context_config(b->ctx));
    fprintf(out, ", \"workspace_bytes\": %zu", clcnn_context_workspace_bytes(b->ctx));
    fprintf(out, ", \"dtype\": \"%s\", \"repeat\": %ld, \"rows\": [", kit_dtype_name(b->dtype), b->repeat);
    for (int i = 0; i < b->row_count; i++) {
        const bench_row *r = &b->rows[i];
        fprintf(out, "%s\n  {\"layer\": \"%s\", \"op\": \"%s\", \"mode\": ", i ? "," : "", r->layer->name, r->op->name);
        json_string_or_null(out, r->mode);
        fputs(", \"input\": ", out);
        json_dims(out, r->input_dims);
        fputs(", \"weights\": ", out);
        if (r->has_weights)
            json_dims(out, r->weight_dims);
        else
            fputs("null", out);
        fputs(", \"output\": ", out);
        json_dims(out, r->output_dims);
        const bench_layer *l = r->layer;
        if (l->kind == LAYER_CONV) {
            const clcnn_conv_params *p = &l->conv;
            fprintf(out,
                    ", \"conv\": {\"stride_h\": %d, \"stride_w\": %d, \"pad_top\": %d, \"pad_bottom\": %d, "
                    "\"pad_left\": %d, \"pad_right\": %d, \"dilation_h\": %d, \"dilation_w\": %d, \"groups\": %d}",
                    p->stride_h, p->stride_w, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, p->dilation_h,
                    p->dilation_w, p->groups);
        } else if (l->kind == LAYER_POOL) {
            const clcnn_pool_params *p = &l->pool;
            fprintf(out,
                    ", \"pool\": {\"f_h\": %d, \"f_w\": %d, \"stride_h\": %d, \"stride_w\": %d, \"pad_top\": %d, "
                    "\"pad_bottom\": %d, \"pad_left\": %d, \"pad_right\": %d, \"count_include_pad\": %d}",
                    p->f_h, p->f_w, p->stride_h, p->stride_w, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right,
                    p->count_include_pad);
        } else if (l->kind == LAYER_PAD) {
            fprintf(out, ", \"pad\": %d", l->pad);
        }
        fputs(", \"median_ms\": ", out);
        json_number(out, r->median_ms);
        fputs(", \"min_ms\": ", out);
        json_number(out, r->min_ms);
        fputs(", \"gflops\": ", out);
        json_number(out, r->flops > 0 ? r->flops / (r->median_ms * 1e6) : NAN);
        fputs(", \"gbps\": ", out);
        json_number(out, r->bytes > 0 ? r->bytes / (r->median_ms * 1e6) : NAN);
        fputs(", \"reference_ms\": ", out);
        json_number(out, r->reference_ms);
        fputs(", \"speedup\": ", out);
        json_number(out, r->reference_ms / r->median_ms);
        fputs(", \"reference_note\": ", out);
        json_string_or_null(out, r->reference_note);
        fputs(", \"error\": ", out);
        json_string_or_null(out, r->error);
        if (b->kernels) {
            fputs(", \"kernels\": [", out);
            for (size_t k = 0; k < r->launch_count && k < MAX_LAUNCHES; k++) {
                const clcnn_launch *l = &r->launches[k].launch;
                fprintf(out, "%s{\"kernel\": ", k ? ", " : "");
                json_string(out, l->kernel);
                fprintf(out, ", \"global\": [%zu, %zu, %zu], \"local\": [%zu, %zu, %zu], \"median_ms\": ", l->global[0],
                        l->global[1], l->global[2], l->local[0], l->local[1], l->local[2]);
                json_number(out, r->launches[k].median_ms);
                fputs("}", out);
            }
            fputs("]", out);
        }
        fputs("}", out);
    }
    fputs("\n]}\n", out);
}

/* ---- the command ---- */

/* The ops timed by default on layers of a kind, for the help. */
static void print_ops_of_kind(layer_kind kind)
{
    const char *separator = "";
    for (int k = 0; k < COUNT(ops); k++) {
        if (ops[k].kind == kind && !ops[k].only_when_named) {
            printf("%s%s", separator, ops[k].name);
            separator = ", ";
        }
    }
}

static void print_help(void)
{
    fputs("usage: clcnn bench [--suite table|networks|all] [--layer NAME]... [--op OP]...\n"
          "                   [--dtype f32|f64] [--repeat N] [--json] [--no-reference]\n"
          "                   [--kernels] [--device SPEC]\n\n"
          "Times the ops on the shapes of the design notes and of the training network\n"
          "(clcnn train, batch 64). Per row: median and min ms of N runs after a warm-up\n"
          "(each run between two clcnn_context_finish), GFLOP/s for convolutions\n"
          "(forward: 2*m*n_H*n_W*n_C*f*f*n_C_prev; backward, dA+dW+db: twice that) or\n"
          "GB/s for the other ops (bytes read and written: pooling's input and output,\n"
          "plus A_prev for max backward; every tensor of the element-wise ops), the CPU\n"
          "reference's time (once; skipped when estimated over 10 s at 0.5 GFLOP/s) and\n"
          "the speedup over it.\n\n"
          "  --suite S       table (default): the design notes' layers, one of each kind the\n"
          "                  0.2 API added, the training network's; networks: the layer\n"
          "                  classes of real networks (pointwise, fully connected, stems,\n"
          "                  deep, depthwise, grouped, dilated, padded and global pooling);\n"
          "                  all: both\n"
          "  --layer NAME    repeatable, default the suite's (any layer may be named):\n",
          stdout);
    for (int i = 0; i < COUNT(layers); i++) {
        const bench_layer *l = &layers[i];
        char dims[48];
        dims_text(dims, sizeof dims, l->dims);
        printf("                  %-12s %s", l->name, dims);
        if (l->kind == LAYER_CONV)
            printf(" f%zux%zu c%zu s%dx%d p%d,%d,%d,%d d%dx%d g%d", l->f_h, l->f_w, l->c_out, l->conv.stride_h,
                   l->conv.stride_w, l->conv.pad_top, l->conv.pad_bottom, l->conv.pad_left, l->conv.pad_right,
                   l->conv.dilation_h, l->conv.dilation_w, l->conv.groups);
        else if (l->kind == LAYER_POOL)
            printf(" %s%s%s f%dx%d s%dx%d p%d,%d,%d,%d", l->modes & MODE_MAX ? "max" : "",
                   l->modes == (MODE_MAX | MODE_AVERAGE) ? ", " : "", l->modes & MODE_AVERAGE ? "average" : "",
                   l->pool.f_h, l->pool.f_w, l->pool.stride_h, l->pool.stride_w, l->pool.pad_top, l->pool.pad_bottom,
                   l->pool.pad_left, l->pool.pad_right);
        else if (l->kind == LAYER_PAD)
            printf(" p%d", l->pad);
        printf(" (");
        print_ops_of_kind(l->kind);
        printf("%s)\n", l->suite == SUITE_NETWORKS ? "; suite networks" : "");
    }
    fputs("  --op OP         repeatable, default all:\n", stdout);
    for (int k = 0; k < COUNT(ops); k++)
        if (!ops[k].only_when_named)
            printf("                  %s\n", ops[k].name);
    fputs("                  and, only when named, the _ex ops (the rows above run them\n"
          "                  where the walkthrough's arguments cannot express a layer;\n"
          "                  named, they run on every layer of their kind) and one output\n"
          "                  of conv_backward each (dA, dW or db: forward's FLOPs for dA\n"
          "                  and dW, one add per element of dZ for db):\n",
          stdout);
    for (int k = 0; k < COUNT(ops); k++)
        if (ops[k].only_when_named)
            printf("                  %s\n", ops[k].name);
    fputs("  --dtype f32|f64 default f32\n"
          "  --repeat N      timed runs per row (default 10)\n"
          "  --json          print one JSON object on stdout (progress goes to stderr)\n"
          "  --no-reference  skip the CPU reference\n"
          "  --kernels       under each row, every kernel one run of the op launches: its\n"
          "                  global and local sizes and its device time (median over the\n"
          "                  runs, from profiling events; profiling adds some launch time)\n",
          stdout);
    cli_print_device_help(stdout);
}

static int find_layer(const char *name)
{
    for (int i = 0; i < COUNT(layers); i++)
        if (strcmp(name, layers[i].name) == 0)
            return i;
    return -1;
}

static bench_row *new_row(bench *b)
{
    if (b->row_count == b->row_capacity) {
        int capacity = b->row_capacity ? 2 * b->row_capacity : 32;
        bench_row *rows = realloc(b->rows, (size_t)capacity * sizeof *rows);
        if (!rows)
            return NULL;
        b->rows = rows;
        b->row_capacity = capacity;
    }
    bench_row *r = &b->rows[b->row_count++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Times one op on one layer (in one pooling mode); prints the row. */
static int bench_one(bench *b, const bench_layer *layer, const bench_op *op, int mode)
{
    bench_row *r = new_row(b);
    if (!r)
        return -1;
    r->layer = layer;
    r->op = op;
    if (layer->kind == LAYER_POOL) {
        r->mode = mode == MODE_MAX ? "max" : "average";
        r->pool_mode = mode == MODE_MAX ? CLCNN_POOL_MAX : CLCNN_POOL_AVERAGE;
    }
    op->shape(r, b->dtype);
    time_row(b, r);
    release(r);
    if (r->error[0])
        b->failures++;
    print_row(b->progress, b->op_width, r);
    if (b->kernels && !r->error[0])
        print_launches(b->progress, r);
    return 0;
}

/* What the command line asks for besides what goes into bench. */
typedef struct bench_options {
    const char *device;
    int layer_wanted[COUNT(layers)], op_named[COUNT(ops)];
    int any_layer, any_op, suites;
} bench_options;

static int parse_suite(const char *text, int *suites)
{
    if (strcmp(text, "table") == 0)
        *suites = SUITE_TABLE;
    else if (strcmp(text, "networks") == 0)
        *suites = SUITE_NETWORKS;
    else if (strcmp(text, "all") == 0)
        *suites = SUITE_TABLE | SUITE_NETWORKS;
    else {
        fprintf(stderr, "clcnn bench: unknown --suite \"%s\" (table, networks or all)\n", text);
        return -1;
    }
    return 0;
}

/* Reads the options into b and o; returns -1 to go on, else the exit
 * status. */
static int parse_options(int argc, char **argv, bench *b, bench_options *o)
{
    static const struct option options[] = {
        {"layer", required_argument, NULL, 'l'},
        {"op", required_argument, NULL, 'o'},
        {"dtype", required_argument, NULL, 't'},
        {"repeat", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"no-reference", no_argument, NULL, 'n'},
        CLI_OPTION_DEVICE,
        CLI_OPTION_HELP,
        {"suite", required_argument, NULL, 's'},
        {"kernels", no_argument, NULL, 'k'},
        CLI_OPTIONS_END,
    };
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "h", options)) != -1;) {
        int k;
        switch (option) {
        case 'l':
            if ((k = find_layer(optarg)) < 0) {
                fprintf(stderr, "clcnn bench: unknown --layer \"%s\" (see clcnn bench --help)\n", optarg);
                return CLI_EXIT_USAGE;
            }
            o->layer_wanted[k] = o->any_layer = 1;
            break;
        case 'o':
            if ((k = cli_find_name(optarg, CLI_ROWS(ops))) < 0)
                return cli_unknown_name(COMMAND, "--op", optarg, CLI_ROWS(ops));
            o->op_named[k] = o->any_op = 1;
            break;
        case 't':
            if (cli_parse_dtype(COMMAND, optarg, &b->dtype))
                return CLI_EXIT_USAGE;
            break;
        case 'r':
            if (cli_parse_long(COMMAND, "--repeat", optarg, 1, 1000000, &b->repeat))
                return CLI_EXIT_USAGE;
            break;
        case 'j': b->json = 1; break;
        case 's':
            if (parse_suite(optarg, &o->suites))
                return CLI_EXIT_USAGE;
            break;
        case 'd': o->device = optarg; break;
        case 'n': b->reference = 0; break;
        case 'k': b->kernels = 1; break;
        default: return cli_option_exit(option, print_help);
        }
    }
    return -1;
}

/* Opens the device for b (its dtype, --kernels' profiling); prints the
 * heading. Returns CLI_EXIT_OK or the exit status. */
static int open_bench(bench *b, const char *device)
{
    int exit_status = cli_open_context(COMMAND, device, &b->ctx);
    if (exit_status != CLI_EXIT_OK)
        return exit_status;
    if (!clcnn_context_supports_dtype(b->ctx, b->dtype)) {
        fprintf(stderr, "clcnn bench: %s has no %s (cl_khr_fp64); use --dtype f32\n", clcnn_context_device_name(b->ctx),
                kit_dtype_name(b->dtype));
        clcnn_context_destroy(b->ctx);
        return CLI_EXIT_FAILURE;
    }
    if (b->kernels && clcnn_context_profile(b->ctx, 1) != CLCNN_OK) {
        fprintf(stderr, "clcnn bench: --kernels: %s\n", clcnn_context_last_error(b->ctx));
        clcnn_context_destroy(b->ctx);
        return CLI_EXIT_FAILURE;
    }
    b->progress = b->json ? stderr : stdout;
    fprintf(b->progress, "clcnn %s bench on %s, %s\n", clcnn_version(), clcnn_context_device_name(b->ctx),
            kit_dtype_name(b->dtype));
    /* The tile configuration, so a table can be reproduced (CLCNN_TUNE). */
    fprintf(b->progress, "config: %s\n%s", clcnn_context_config(b->ctx), clcnn_context_tuning_notes(b->ctx));
    fprintf(b->progress, "median and min of %ld runs after a warm-up; %s\n\n", b->repeat,
            b->reference ? "ref: the CPU reference (clcnn_ref_*,\ndouble, one thread) run once"
                         : "the CPU reference is not run (--no-reference)");
    print_row_header(b->progress, b->op_width);
    return CLI_EXIT_OK;
}

/* Times every wanted op on every wanted layer of its kind. */
static void bench_layers(bench *b, const bench_options *o, const int op_wanted[])
{
    for (int i = 0; i < COUNT(layers); i++) {
        const bench_layer *layer = &layers[i];
        if (o->any_layer ? !o->layer_wanted[i] : !(layer->suite & o->suites))
            continue;
        /* Pooling runs each mode the layer names; the rest once. */
        for (int mode = MODE_MAX; mode <= MODE_AVERAGE; mode <<= 1) {
            if (layer->kind == LAYER_POOL ? !(layer->modes & mode) : mode != MODE_MAX)
                continue;
            for (int k = 0; k < COUNT(ops); k++)
                if (op_wanted[k] && ops[k].kind == layer->kind && bench_one(b, layer, &ops[k], mode) != 0)
                    b->failures++;
        }
    }
}

int cli_bench(int argc, char **argv)
{
    bench b = {.repeat = DEFAULT_REPEAT, .reference = 1, .dtype = CLCNN_FLOAT32};
    bench_options o = {.suites = SUITE_TABLE};
    int exit_status = parse_options(argc, argv, &b, &o);
    if (exit_status >= 0)
        return exit_status;
    /* The ops to time: those named, else all but those timed only when named. */
    int op_wanted[COUNT(ops)];
    b.op_width = 13;
    for (int k = 0; k < COUNT(ops); k++) {
        op_wanted[k] = o.any_op ? o.op_named[k] : !ops[k].only_when_named;
        int width = (int)strlen(ops[k].name);
        if (op_wanted[k] && width > b.op_width)
            b.op_width = width;
    }
    exit_status = open_bench(&b, o.device);
    if (exit_status != CLI_EXIT_OK)
        return exit_status;
    bench_layers(&b, &o, op_wanted);
    if (b.row_count == 0)
        fprintf(stderr, "clcnn bench: no rows: the --layer and --op given select nothing\n");
    /* Scratch memory (W transposed, dW/db partial sums, pooling argmax):
     * bounded by the largest layer and reused across calls. */
    fprintf(b.progress, "\nworkspace held by the context: %zu bytes\n", clcnn_context_workspace_bytes(b.ctx));
    if (b.json)
        print_json(&b);
    exit_status = b.failures || b.row_count == 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
    free(b.rows);
    clcnn_context_destroy(b.ctx);
    return exit_status;
}
