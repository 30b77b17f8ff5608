/* `clcnn check`: a randomized self-test of every public op on the chosen
 * device against the CPU reference. One table, ops[] below, drives it: a
 * row names an op and says how to draw a case (shapes, parameters, inputs,
 * and which outputs are judged how), how to run the op on the device and
 * how to run the reference, which gives every output's expected values and
 * their sum|terms|. A value fails when it is off by more than KIT_TOLERANCE
 * eps*sum|terms| (kit/kit.h); outputs of ops without arithmetic must be
 * exact. Each case draws from its own seed (the run's seed plus the case
 * index), so a failing case is replayed alone with `--seed S --cases 1`.
 * Its rows come from the op table: adding an op there is writing its
 * draw_, run_ and reference_ functions here. */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/op_table.h"
#include "cli.h"
#include "clcnn_reference.h"

#define COMMAND "check"
#define DEFAULT_CASES 100
/* Every LARGE_EVERY-th case is larger than one work-group of most tiles. */
#define LARGE_EVERY 8
#define MAX_OPERANDS 8
#define MAX_REPORTED_FAILURES 5
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- a case: the op's operands and parameters ---- */

typedef enum role { ROLE_INPUT, ROLE_OUTPUT, ROLE_IN_OUT } role;

/* One tensor argument of the op. */
typedef struct operand {
    char name[24]; /* as results name it: "Z", "dA", "A(max)" */
    role role;
    int absent;        /* passed as NULL: an output not asked for */
    int exact;         /* an output that must equal the reference (no arithmetic) */
    clcnn_dtype dtype; /* the tensor's: the case's but for tensor_convert's dst */
    size_t dims[4];
    size_t n;
    double *values; /* inputs and in-out: what the tensor is given */
    double *got;    /* outputs: what the device wrote */
    double *ref;    /* outputs: the reference's values */
    double *terms;  /* outputs: their sum|terms| */
    clcnn_tensor *tensor;
} operand;

typedef struct check_case {
    clcnn_dtype dtype;
    int large;
    kit_rng rng;
    operand arg[MAX_OPERANDS];
    int count;
    /* The op's parameters, as its row draws them. */
    int stride, pad, f;
    clcnn_conv_params conv; /* the walkthrough rows: clcnn_conv_params_default(stride, pad) */
    clcnn_activation act;
    clcnn_pool_params pool; /* the walkthrough rows: clcnn_pool_params_default(f, stride) */
    double lr, momentum, weight_decay;
    char description[512];
} check_case;

/* A row of the table. */
typedef struct check_op {
    const char *name;
    /* Draws the case: parameters, the operands in the order run and
     * reference use them, the inputs' values, the description. */
    void (*draw)(check_case *c);
    clcnn_status (*run)(clcnn_context *ctx, const check_case *c);
    /* Fills ref and terms of every output; 0, or -1 when out of memory. */
    int (*reference)(check_case *c);
} check_op;

#define VALUES(c, i) ((c)->arg[i].values)
#define REF(c, i) ((c)->arg[i].ref)
#define TERMS(c, i) ((c)->arg[i].terms)

/* Host memory for a case; the run ends when there is none. */
static double *doubles(size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) {
        fprintf(stderr, "clcnn %s: out of host memory (%zu values)\n", COMMAND, n);
        exit(CLI_EXIT_FAILURE);
    }
    return p;
}

static operand *declare(check_case *c, const char *name, role role, const size_t dims[4])
{
    if (c->count == MAX_OPERANDS) {
        fprintf(stderr, "clcnn %s: a row declares over %d operands\n", COMMAND, MAX_OPERANDS);
        exit(CLI_EXIT_FAILURE);
    }
    operand *o = &c->arg[c->count++];
    snprintf(o->name, sizeof o->name, "%s", name);
    o->role = role;
    memcpy(o->dims, dims, sizeof o->dims);
    o->n = kit_elements(dims);
    o->dtype = c->dtype;
    if (role != ROLE_OUTPUT)
        o->values = doubles(o->n);
    return o;
}

/* An input drawn from the case's stream in a pattern. */
static double *input(check_case *c, const char *name, const size_t dims[4], kit_pattern pattern)
{
    operand *o = declare(c, name, ROLE_INPUT, dims);
    kit_rng_fill(&c->rng, c->dtype, pattern, o->values, o->n);
    return o->values;
}

/* An input the row fills itself. */
static double *input_values(check_case *c, const char *name, const size_t dims[4])
{
    return declare(c, name, ROLE_INPUT, dims)->values;
}

/* An output judged by its sum|terms|; absent: passed as NULL. */
static void output(check_case *c, const char *name, const size_t dims[4], int absent)
{
    declare(c, name, ROLE_OUTPUT, dims)->absent = absent;
}

/* An output that must equal the reference. */
static void exact_output(check_case *c, const char *name, const size_t dims[4])
{
    declare(c, name, ROLE_OUTPUT, dims)->exact = 1;
}

/* A tensor the op updates in place, judged by its sum|terms|. */
static void in_out(check_case *c, const char *name, const size_t dims[4], int absent)
{
    operand *o = declare(c, name, ROLE_IN_OUT, dims);
    o->absent = absent;
    kit_rng_fill(&c->rng, c->dtype, KIT_NORMAL, o->values, o->n);
}

static void describe(check_case *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void describe(check_case *c, const char *format, ...)
{
    size_t used = strlen(c->description);
    va_list args;
    va_start(args, format);
    vsnprintf(c->description + used, sizeof c->description - used, format, args);
    va_end(args);
}

static void describe_dims(check_case *c, const char *name, const size_t d[4])
{
    describe(c, "%s%s (%zu, %zu, %zu, %zu)", c->description[0] ? ", " : "", name, d[0], d[1], d[2], d[3]);
}

/* ---- drawing ---- */

static const size_t channel_choices[] = {1, 2, 3, 4, 5, 7, 8, 16, 17, 32, 33};
static const size_t filter_choices[] = {1, 2, 3, 7, 8, 16, 17, 32, 33, 64};

static size_t pick_size(check_case *c, const size_t *choices, int count)
{
    return choices[kit_rng_below(&c->rng, (size_t)count)];
}

static kit_pattern pick_pattern(check_case *c, const kit_pattern *choices, int count)
{
    return choices[kit_rng_below(&c->rng, (size_t)count)];
}

static double pick_double(check_case *c, const double *choices, int count)
{
    return choices[kit_rng_below(&c->rng, (size_t)count)];
}

/* Activations: normal, ReLU'd (zeros, one sign), small integers (ties). */
static const kit_pattern activation_patterns[] = {KIT_NORMAL, KIT_RELU, KIT_INTEGERS};
/* Pooling inputs: also mostly zeros and half-steps, for ties in windows. */
static const kit_pattern pool_patterns[] = {KIT_NORMAL, KIT_RELU, KIT_INTEGERS, KIT_RELU_SPARSE, KIT_QUANTIZED};
/* ReLU's inputs: its edge (0 and -0), one sign, ties. */
static const kit_pattern relu_patterns[] = {KIT_NORMAL_WITH_ZEROS, KIT_RELU, KIT_INTEGERS};

/* Dims of an element-wise op's tensor. */
static void draw_elementwise_dims(check_case *c, size_t dims[4])
{
    int limit = c->large ? 40 : 12;
    dims[0] = (size_t)kit_rng_int(&c->rng, 1, 3);
    dims[1] = (size_t)kit_rng_int(&c->rng, 1, limit);
    dims[2] = (size_t)kit_rng_int(&c->rng, 1, limit);
    dims[3] = pick_size(c, channel_choices, COUNT(channel_choices));
}

/* A convolution whose window fits. */
static void draw_conv(check_case *c, size_t a_dims[4], size_t w_dims[4], size_t z_dims[4])
{
    int large = c->large;
    for (;;) {
        int f_h = kit_rng_int(&c->rng, 1, large ? 3 : 5);
        int f_w = kit_rng_int(&c->rng, 0, 3) == 0 ? kit_rng_int(&c->rng, 1, large ? 3 : 5) : f_h;
        c->stride = kit_rng_int(&c->rng, 1, 4);
        c->pad = kit_rng_int(&c->rng, 0, (f_h > f_w ? f_h : f_w) + 1);
        int limit = large ? 32 : 12;
        a_dims[0] = (size_t)kit_rng_int(&c->rng, 1, large ? 2 : 3);
        a_dims[1] = (size_t)kit_rng_int(&c->rng, large ? 16 : 1, limit);
        a_dims[2] = (size_t)kit_rng_int(&c->rng, large ? 16 : 1, limit);
        a_dims[3] = pick_size(c, channel_choices, COUNT(channel_choices));
        w_dims[0] = (size_t)f_h;
        w_dims[1] = (size_t)f_w;
        w_dims[2] = a_dims[3];
        w_dims[3] = pick_size(c, filter_choices, COUNT(filter_choices));
        c->conv = clcnn_conv_params_default(c->stride, c->pad);
        if (clcnn_ref_conv_output_dims(a_dims, w_dims, c->stride, c->pad, z_dims) == 0)
            return;
    }
}

/* A convolution of the 0.2 API whose window fits: every param drawn on its
 * own (strides and dilations per axis, four pads, groups: dense, grouped
 * or depthwise with a multiplier). */
static void draw_conv_ex(check_case *c, size_t a_dims[4], size_t w_dims[4], size_t z_dims[4])
{
    static const int dilations[] = {1, 1, 1, 2, 3, 6};
    static const size_t group_counts[] = {2, 3, 4, 8};
    static const size_t depthwise_channels[] = {2, 3, 8, 17, 32};
    static const size_t per_group[] = {1, 2, 3, 5, 8};
    const int large = c->large;
    clcnn_conv_params *p = &c->conv;
    for (;;) {
        const int kind = kit_rng_int(&c->rng, 0, 2); /* dense, grouped, depthwise */
        size_t groups = 1, in_group, out_group;
        if (kind == 0) {
            in_group = pick_size(c, channel_choices, COUNT(channel_choices));
            out_group = pick_size(c, filter_choices, COUNT(filter_choices));
        } else if (kind == 1) {
            groups = pick_size(c, group_counts, COUNT(group_counts));
            in_group = pick_size(c, per_group, COUNT(per_group));
            out_group = pick_size(c, per_group, COUNT(per_group));
        } else {
            groups = pick_size(c, depthwise_channels, COUNT(depthwise_channels));
            in_group = 1;
            out_group = (size_t)kit_rng_int(&c->rng, 1, 2); /* the multiplier */
        }
        p->stride_h = kit_rng_int(&c->rng, 1, 3);
        p->stride_w = kit_rng_int(&c->rng, 0, 2) ? p->stride_h : kit_rng_int(&c->rng, 1, 3);
        p->pad_top = kit_rng_int(&c->rng, 0, 3);
        p->pad_bottom = kit_rng_int(&c->rng, 0, 3);
        p->pad_left = kit_rng_int(&c->rng, 0, 3);
        p->pad_right = kit_rng_int(&c->rng, 0, 3);
        p->dilation_h = dilations[kit_rng_below(&c->rng, (size_t)COUNT(dilations))];
        p->dilation_w =
            kit_rng_int(&c->rng, 0, 1) ? p->dilation_h : dilations[kit_rng_below(&c->rng, (size_t)COUNT(dilations))];
        p->groups = (int)groups;
        const int limit = large ? 32 : 14;
        a_dims[0] = (size_t)kit_rng_int(&c->rng, 1, large ? 2 : 3);
        a_dims[1] = (size_t)kit_rng_int(&c->rng, large ? 16 : 1, limit);
        a_dims[2] = (size_t)kit_rng_int(&c->rng, large ? 16 : 1, limit);
        a_dims[3] = groups * in_group;
        w_dims[0] = (size_t)kit_rng_int(&c->rng, 1, large ? 3 : 5);
        w_dims[1] = kit_rng_int(&c->rng, 0, 3) == 0 ? (size_t)kit_rng_int(&c->rng, 1, large ? 3 : 5) : w_dims[0];
        w_dims[2] = in_group;
        w_dims[3] = groups * out_group;
        if (clcnn_ref_conv_output_dims_ex(a_dims, w_dims, p, z_dims) == 0)
            return;
    }
}

static void describe_conv_params(check_case *c)
{
    const clcnn_conv_params *p = &c->conv;
    describe(c, ", stride %dx%d, pads top %d bottom %d left %d right %d, dilation %dx%d, groups %d", p->stride_h,
             p->stride_w, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, p->dilation_h, p->dilation_w,
             p->groups);
}

static void draw_pool(check_case *c, size_t a_dims[4], size_t out_dims[4])
{
    c->f = kit_rng_int(&c->rng, 1, 5);
    c->stride = kit_rng_int(&c->rng, 1, 4);
    int limit = c->large ? 40 : 14;
    a_dims[0] = (size_t)kit_rng_int(&c->rng, 1, 3);
    a_dims[1] = (size_t)kit_rng_int(&c->rng, c->f, limit);
    a_dims[2] = (size_t)kit_rng_int(&c->rng, c->f, limit);
    a_dims[3] = pick_size(c, filter_choices, COUNT(filter_choices));
    c->pool = clcnn_pool_params_default(c->f, c->stride);
    clcnn_ref_pool_output_dims(a_dims, c->f, c->stride, out_dims);
}

/* Pooling with the 0.2 params: rectangular windows and strides, each pad
 * below its window, count_include_pad either way; one case in eight is
 * global (the window is the input). */
static void draw_pool_ex(check_case *c, size_t a_dims[4], size_t out_dims[4])
{
    clcnn_pool_params *p = &c->pool;
    const int limit = c->large ? 40 : 14;
    a_dims[0] = (size_t)kit_rng_int(&c->rng, 1, 3);
    a_dims[1] = (size_t)kit_rng_int(&c->rng, 1, limit);
    a_dims[2] = (size_t)kit_rng_int(&c->rng, 1, limit);
    a_dims[3] = pick_size(c, filter_choices, COUNT(filter_choices));
    if (kit_rng_int(&c->rng, 0, 7) == 0) {
        *p = clcnn_pool_params_default(1, 1);
        p->f_h = (int)a_dims[1];
        p->f_w = (int)a_dims[2];
    } else {
        p->f_h = kit_rng_int(&c->rng, 1, 5);
        p->f_w = kit_rng_int(&c->rng, 0, 2) ? p->f_h : kit_rng_int(&c->rng, 1, 5);
        p->stride_h = kit_rng_int(&c->rng, 1, 4);
        p->stride_w = kit_rng_int(&c->rng, 0, 2) ? p->stride_h : kit_rng_int(&c->rng, 1, 4);
        p->pad_top = kit_rng_int(&c->rng, 0, p->f_h - 1);
        p->pad_bottom = kit_rng_int(&c->rng, 0, p->f_h - 1);
        p->pad_left = kit_rng_int(&c->rng, 0, p->f_w - 1);
        p->pad_right = kit_rng_int(&c->rng, 0, p->f_w - 1);
        /* The window must fit the padded input. */
        if ((size_t)p->f_h > a_dims[1] + (size_t)(p->pad_top + p->pad_bottom))
            a_dims[1] = (size_t)p->f_h;
        if ((size_t)p->f_w > a_dims[2] + (size_t)(p->pad_left + p->pad_right))
            a_dims[2] = (size_t)p->f_w;
    }
    p->count_include_pad = kit_rng_int(&c->rng, 0, 1);
    clcnn_ref_pool_output_dims_ex(a_dims, p, out_dims);
}

static void describe_pool_params(check_case *c)
{
    const clcnn_pool_params *p = &c->pool;
    describe(c, ", f %dx%d, stride %dx%d, pads top %d bottom %d left %d right %d, count_include_pad %d", p->f_h, p->f_w,
             p->stride_h, p->stride_w, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right, p->count_include_pad);
}

/* Class labels 0 .. K-1 of the rows of logits dims. With 16-bit logits
 * they are float32 (the one exception to one dtype a call) where the
 * 16-bit dtype cannot hold every class exactly, and where K is odd, so
 * that both kinds are checked. */
static void draw_labels(check_case *c, const size_t logits_dims[4], size_t label_dims[4])
{
    memcpy(label_dims, logits_dims, 4 * sizeof *label_dims);
    label_dims[3] = 1;
    double *labels = input_values(c, "labels", label_dims);
    const size_t K = logits_dims[3];
    if ((c->dtype == CLCNN_FLOAT16 && (K > 2049 || K % 2)) || (c->dtype == CLCNN_BFLOAT16 && (K > 257 || K % 2)))
        c->arg[c->count - 1].dtype = CLCNN_FLOAT32;
    for (size_t r = 0; r < kit_elements(label_dims); r++)
        labels[r] = (double)kit_rng_below(&c->rng, logits_dims[3]);
}

/* Logits of softmax cross-entropy: (m, n_H, n_W, K) with K from one class
 * to a thousand, at scales up to where exp would overflow without the
 * row's maximum subtracted. */
static void draw_logits(check_case *c, size_t dims[4], double *scale)
{
    static const size_t classes[] = {1, 2, 3, 7, 10, 17, 33, 100, 1000};
    static const double scales[] = {1.0, 3.0, 30.0, 1000.0};
    dims[0] = (size_t)(c->large ? kit_rng_int(&c->rng, 16, 64) : kit_rng_int(&c->rng, 1, 3));
    dims[1] = (size_t)kit_rng_int(&c->rng, 1, 3);
    dims[2] = (size_t)kit_rng_int(&c->rng, 1, 3);
    dims[3] = pick_size(c, classes, COUNT(classes));
    *scale = pick_double(c, scales, COUNT(scales));
}

static void fill_logits(check_case *c, double scale, double *logits, size_t n)
{
    kit_rng_fill(&c->rng, c->dtype, KIT_NORMAL, logits, n);
    for (size_t i = 0; i < n; i++)
        logits[i] = kit_round_to_dtype(c->dtype, scale * logits[i]);
}

/* ---- the ops ---- */

/* zero_pad: 0 x, 1 x_pad */
static void draw_zero_pad(check_case *c)
{
    int limit = c->large ? 40 : 12;
    size_t dims[4] = {(size_t)kit_rng_int(&c->rng, 1, 3), (size_t)kit_rng_int(&c->rng, 1, limit),
                      (size_t)kit_rng_int(&c->rng, 1, limit), pick_size(c, channel_choices, COUNT(channel_choices))};
    c->pad = kit_rng_int(&c->rng, 0, 4);
    kit_pattern pattern = pick_pattern(c, activation_patterns, COUNT(activation_patterns));
    size_t pad = (size_t)c->pad;
    size_t out_dims[4] = {dims[0], dims[1] + 2 * pad, dims[2] + 2 * pad, dims[3]};
    input(c, "x", dims, pattern);
    exact_output(c, "x_pad", out_dims);
    describe_dims(c, "x", dims);
    describe(c, ", pad %d, inputs %s", c->pad, kit_pattern_name(pattern));
}

static clcnn_status run_zero_pad(clcnn_context *ctx, const check_case *c)
{
    return clcnn_zero_pad(ctx, TENSOR(c, 0), c->pad, TENSOR(c, 1));
}

static int reference_zero_pad(check_case *c)
{
    clcnn_ref_zero_pad(VALUES(c, 0), DIMS(c, 0), c->pad, REF(c, 1));
    return 0;
}

/* conv_forward: 0 a_prev, 1 w, 2 b, 3 Z */
static void draw_conv_forward(check_case *c)
{
    size_t a_dims[4], w_dims[4], z_dims[4];
    draw_conv(c, a_dims, w_dims, z_dims);
    const size_t b_dims[4] = {1, 1, 1, w_dims[3]};
    /* Only a_prev gets ReLU'd or integer inputs: with both factors of one
     * sign the rounding errors of a long sum stop cancelling. */
    kit_pattern pattern = pick_pattern(c, activation_patterns, COUNT(activation_patterns));
    input(c, "a_prev", a_dims, pattern);
    input(c, "w", w_dims, KIT_NORMAL);
    input(c, "b", b_dims, KIT_NORMAL);
    output(c, "Z", z_dims, 0);
    describe_dims(c, "a_prev", a_dims);
    describe_dims(c, "w", w_dims);
    describe(c, ", stride %d, pad %d, a_prev %s", c->stride, c->pad, kit_pattern_name(pattern));
}

static clcnn_status run_conv_forward(clcnn_context *ctx, const check_case *c)
{
    return clcnn_conv_forward(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2), c->stride, c->pad, TENSOR(c, 3));
}

/* conv_forward_ex: 0 a_prev, 1 w, 2 b (absent: no bias), 3 Z */
static void draw_conv_forward_ex(check_case *c)
{
    size_t a_dims[4], w_dims[4], z_dims[4];
    draw_conv_ex(c, a_dims, w_dims, z_dims);
    const size_t b_dims[4] = {1, 1, 1, w_dims[3]};
    const int bias = kit_rng_int(&c->rng, 0, 1);
    c->act = kit_rng_int(&c->rng, 0, 1) ? CLCNN_ACTIVATION_RELU : CLCNN_ACTIVATION_NONE;
    kit_pattern pattern = pick_pattern(c, activation_patterns, COUNT(activation_patterns));
    input(c, "a_prev", a_dims, pattern);
    input(c, "w", w_dims, KIT_NORMAL);
    input(c, "b", b_dims, KIT_NORMAL); /* drawn either way, so the stream stays the same */
    c->arg[2].absent = !bias;
    output(c, "Z", z_dims, 0);
    describe_dims(c, "a_prev", a_dims);
    describe_dims(c, "w", w_dims);
    describe_conv_params(c);
    describe(c, ", %s, %s, a_prev %s", bias ? "bias" : "no bias", c->act == CLCNN_ACTIVATION_RELU ? "relu" : "no act",
             kit_pattern_name(pattern));
}

static clcnn_status run_conv_forward_ex(clcnn_context *ctx, const check_case *c)
{
    return clcnn_conv_forward_ex(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2), &c->conv, c->act, TENSOR(c, 3));
}

/* Also the walkthrough row's: its params are the defaults. */
static int reference_conv_forward(check_case *c)
{
    const double *b = c->arg[2].absent ? NULL : VALUES(c, 2);
    clcnn_ref_conv_forward_ex(VALUES(c, 0), DIMS(c, 0), VALUES(c, 1), DIMS(c, 1), b, &c->conv, c->act, REF(c, 3));
    return kit_conv_forward_terms(VALUES(c, 0), DIMS(c, 0), VALUES(c, 1), DIMS(c, 1), b, &c->conv, TERMS(c, 3));
}

/* conv_backward and conv_backward_ex (ex: its params drawn too): 0 dZ,
 * 1 a_prev, 2 w, 3 dA, 4 dW, 5 db */
static void draw_conv_backward_args(check_case *c, int ex)
{
    size_t a_dims[4], w_dims[4], z_dims[4];
    if (ex)
        draw_conv_ex(c, a_dims, w_dims, z_dims);
    else
        draw_conv(c, a_dims, w_dims, z_dims);
    const size_t b_dims[4] = {1, 1, 1, w_dims[3]};
    kit_pattern pattern = pick_pattern(c, activation_patterns, COUNT(activation_patterns));
    /* Which gradients to ask for: a non-empty subset, all three most often. */
    int wanted = kit_rng_int(&c->rng, 0, 1) ? 7 : kit_rng_int(&c->rng, 1, 7);
    input(c, "dZ", z_dims, KIT_NORMAL);
    input(c, "a_prev", a_dims, pattern);
    input(c, "w", w_dims, KIT_NORMAL);
    output(c, "dA", a_dims, !(wanted & 1));
    output(c, "dW", w_dims, !(wanted & 2));
    output(c, "db", b_dims, !(wanted & 4));
    describe_dims(c, "a_prev", a_dims);
    describe_dims(c, "w", w_dims);
    if (ex)
        describe_conv_params(c);
    else
        describe(c, ", stride %d, pad %d", c->stride, c->pad);
    describe(c, ", a_prev %s, computing%s%s%s", kit_pattern_name(pattern), wanted & 1 ? " dA" : "",
             wanted & 2 ? " dW" : "", wanted & 4 ? " db" : "");
}

static void draw_conv_backward(check_case *c)
{
    draw_conv_backward_args(c, 0);
}

static void draw_conv_backward_ex(check_case *c)
{
    draw_conv_backward_args(c, 1);
}

static clcnn_status run_conv_backward(clcnn_context *ctx, const check_case *c)
{
    return clcnn_conv_backward(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2), c->stride, c->pad, TENSOR(c, 3),
                               TENSOR(c, 4), TENSOR(c, 5));
}

static clcnn_status run_conv_backward_ex(clcnn_context *ctx, const check_case *c)
{
    return clcnn_conv_backward_ex(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2), &c->conv, TENSOR(c, 3), TENSOR(c, 4),
                                  TENSOR(c, 5));
}

/* Also the walkthrough row's: its params are the defaults. */
static int reference_conv_backward(check_case *c)
{
    clcnn_ref_conv_backward_ex(VALUES(c, 0), VALUES(c, 1), DIMS(c, 1), VALUES(c, 2), DIMS(c, 2), &c->conv, REF(c, 3),
                               REF(c, 4), REF(c, 5));
    return kit_conv_backward_terms(VALUES(c, 0), VALUES(c, 1), DIMS(c, 1), VALUES(c, 2), DIMS(c, 2), &c->conv,
                                   TERMS(c, 3), TERMS(c, 4), TERMS(c, 5));
}

/* pool_forward and pool_forward_ex (ex), both modes on one input:
 * 0 a_prev, 1 A(max), 2 A(average) */
static void draw_pool_both_modes(check_case *c, int ex)
{
    size_t a_dims[4], out_dims[4];
    (ex ? draw_pool_ex : draw_pool)(c, a_dims, out_dims);
    kit_pattern pattern = pick_pattern(c, pool_patterns, COUNT(pool_patterns));
    input(c, "a_prev", a_dims, pattern);
    exact_output(c, "A(max)", out_dims);
    output(c, "A(average)", out_dims, 0);
    describe_dims(c, "a_prev", a_dims);
    if (ex) {
        describe_pool_params(c);
        describe(c, ", a_prev %s", kit_pattern_name(pattern));
    } else
        describe(c, ", f %d, stride %d, a_prev %s", c->f, c->stride, kit_pattern_name(pattern));
}

static void draw_pool_forward(check_case *c)
{
    draw_pool_both_modes(c, 0);
}

static clcnn_status run_pool_forward(clcnn_context *ctx, const check_case *c)
{
    clcnn_status status = clcnn_pool_forward(ctx, TENSOR(c, 0), c->f, c->stride, CLCNN_POOL_MAX, TENSOR(c, 1));
    if (status != CLCNN_OK)
        return status;
    return clcnn_pool_forward(ctx, TENSOR(c, 0), c->f, c->stride, CLCNN_POOL_AVERAGE, TENSOR(c, 2));
}

/* pool_backward and pool_backward_ex (ex: its params drawn too), both
 * modes: 0 dA, 1 a_prev, 2 dA_prev(max), 3 dA_prev(average) */
static void draw_pool_backward_args(check_case *c, int ex)
{
    size_t a_dims[4], out_dims[4];
    if (ex)
        draw_pool_ex(c, a_dims, out_dims);
    else
        draw_pool(c, a_dims, out_dims);
    kit_pattern pattern = pick_pattern(c, pool_patterns, COUNT(pool_patterns));
    input(c, "dA", out_dims, KIT_NORMAL);
    input(c, "a_prev", a_dims, pattern);
    output(c, "dA_prev(max)", a_dims, 0);
    output(c, "dA_prev(average)", a_dims, 0);
    describe_dims(c, "a_prev", a_dims);
    if (ex)
        describe_pool_params(c);
    else
        describe(c, ", f %d, stride %d", c->f, c->stride);
    describe(c, ", a_prev %s", kit_pattern_name(pattern));
}

static void draw_pool_backward(check_case *c)
{
    draw_pool_backward_args(c, 0);
}

static clcnn_status run_pool_backward(clcnn_context *ctx, const check_case *c)
{
    clcnn_status status =
        clcnn_pool_backward(ctx, TENSOR(c, 0), TENSOR(c, 1), c->f, c->stride, CLCNN_POOL_MAX, TENSOR(c, 2));
    if (status != CLCNN_OK)
        return status;
    return clcnn_pool_backward(ctx, TENSOR(c, 0), TENSOR(c, 1), c->f, c->stride, CLCNN_POOL_AVERAGE, TENSOR(c, 3));
}

static void draw_pool_forward_ex(check_case *c)
{
    draw_pool_both_modes(c, 1);
}

static clcnn_status run_pool_forward_ex(clcnn_context *ctx, const check_case *c)
{
    clcnn_status status = clcnn_pool_forward_ex(ctx, TENSOR(c, 0), &c->pool, CLCNN_POOL_MAX, TENSOR(c, 1));
    return status ? status : clcnn_pool_forward_ex(ctx, TENSOR(c, 0), &c->pool, CLCNN_POOL_AVERAGE, TENSOR(c, 2));
}

/* Also the walkthrough row's: its params are the defaults. */
static int reference_pool_forward(check_case *c)
{
    const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};
    for (int k = 0; k < 2; k++) {
        clcnn_ref_pool_forward_ex(VALUES(c, 0), DIMS(c, 0), &c->pool, modes[k], REF(c, 1 + k));
        if (kit_pool_forward_terms(VALUES(c, 0), DIMS(c, 0), &c->pool, modes[k], TERMS(c, 1 + k)) != 0)
            return -1;
    }
    return 0;
}

static void draw_pool_backward_ex(check_case *c)
{
    draw_pool_backward_args(c, 1);
}

static clcnn_status run_pool_backward_ex(clcnn_context *ctx, const check_case *c)
{
    clcnn_status status =
        clcnn_pool_backward_ex(ctx, TENSOR(c, 0), TENSOR(c, 1), &c->pool, CLCNN_POOL_MAX, TENSOR(c, 2));
    return status ? status
                  : clcnn_pool_backward_ex(ctx, TENSOR(c, 0), TENSOR(c, 1), &c->pool, CLCNN_POOL_AVERAGE, TENSOR(c, 3));
}

/* Also the walkthrough row's: its params are the defaults. */
static int reference_pool_backward(check_case *c)
{
    const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};
    for (int k = 0; k < 2; k++) {
        clcnn_ref_pool_backward_ex(VALUES(c, 0), VALUES(c, 1), DIMS(c, 1), &c->pool, modes[k], REF(c, 2 + k));
        if (kit_pool_backward_terms(VALUES(c, 0), VALUES(c, 1), DIMS(c, 1), &c->pool, modes[k], TERMS(c, 2 + k)) != 0)
            return -1;
    }
    return 0;
}

/* relu_forward: 0 x, 1 y; relu_backward: 0 dy, 1 x, 2 dx */
static void draw_relu(check_case *c, int backward)
{
    size_t dims[4];
    draw_elementwise_dims(c, dims);
    kit_pattern pattern = pick_pattern(c, relu_patterns, COUNT(relu_patterns));
    if (backward)
        input(c, "dy", dims, KIT_NORMAL);
    input(c, "x", dims, pattern);
    exact_output(c, backward ? "dx" : "y", dims);
    describe_dims(c, "x", dims);
    describe(c, ", x %s", kit_pattern_name(pattern));
}

static void draw_relu_forward(check_case *c)
{
    draw_relu(c, 0);
}

static clcnn_status run_relu_forward(clcnn_context *ctx, const check_case *c)
{
    return clcnn_relu_forward(ctx, TENSOR(c, 0), TENSOR(c, 1));
}

static int reference_relu_forward(check_case *c)
{
    clcnn_ref_relu_forward(VALUES(c, 0), c->arg[0].n, REF(c, 1));
    return 0;
}

static void draw_relu_backward(check_case *c)
{
    draw_relu(c, 1);
}

static clcnn_status run_relu_backward(clcnn_context *ctx, const check_case *c)
{
    return clcnn_relu_backward(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2));
}

static int reference_relu_backward(check_case *c)
{
    clcnn_ref_relu_backward(VALUES(c, 0), VALUES(c, 1), c->arg[0].n, REF(c, 2));
    return 0;
}

/* softmax_cross_entropy_forward: 0 logits, 1 labels, 2 probs, 3 loss, 4 mean_loss */
static void draw_softmax_cross_entropy_forward(check_case *c)
{
    size_t dims[4], label_dims[4];
    const size_t scalar_dims[4] = {1, 1, 1, 1};
    double scale;
    draw_logits(c, dims, &scale);
    fill_logits(c, scale, input_values(c, "logits", dims), kit_elements(dims));
    draw_labels(c, dims, label_dims);
    output(c, "probs", dims, 0);
    output(c, "loss", label_dims, 0);
    output(c, "mean_loss", scalar_dims, 0);
    describe_dims(c, "logits", dims);
    describe(c, ", logits %g x normal", scale);
}

static clcnn_status run_softmax_cross_entropy_forward(clcnn_context *ctx, const check_case *c)
{
    return clcnn_softmax_cross_entropy_forward(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2), TENSOR(c, 3),
                                               TENSOR(c, 4));
}

static int reference_softmax_cross_entropy_forward(check_case *c)
{
    clcnn_ref_softmax_cross_entropy_forward(VALUES(c, 0), DIMS(c, 0), VALUES(c, 1), REF(c, 2), REF(c, 3), REF(c, 4));
    kit_softmax_cross_entropy_forward_terms(c->dtype, VALUES(c, 0), DIMS(c, 0), VALUES(c, 1), REF(c, 2), REF(c, 3),
                                            TERMS(c, 2), TERMS(c, 3), TERMS(c, 4));
    return 0;
}

/* softmax_cross_entropy_backward: 0 probs, 1 labels, 2 dlogits */
static void draw_softmax_cross_entropy_backward(check_case *c)
{
    size_t dims[4], label_dims[4];
    double scale;
    /* probs is any tensor to the op: the softmax of drawn logits, as the
     * forward would give it. */
    draw_logits(c, dims, &scale);
    double *logits = doubles(kit_elements(dims));
    fill_logits(c, scale, logits, kit_elements(dims));
    double *probs = input_values(c, "probs", dims);
    draw_labels(c, dims, label_dims);
    clcnn_ref_softmax_cross_entropy_forward(logits, dims, VALUES(c, 1), probs, NULL, NULL);
    kit_round_all(c->dtype, probs, kit_elements(dims));
    free(logits);
    output(c, "dlogits", dims, 0);
    describe_dims(c, "probs", dims);
    describe(c, ", softmax of %g x normal", scale);
}

static clcnn_status run_softmax_cross_entropy_backward(clcnn_context *ctx, const check_case *c)
{
    return clcnn_softmax_cross_entropy_backward(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2));
}

static int reference_softmax_cross_entropy_backward(check_case *c)
{
    clcnn_ref_softmax_cross_entropy_backward(VALUES(c, 0), DIMS(c, 0), VALUES(c, 1), REF(c, 2));
    kit_softmax_cross_entropy_backward_terms(c->dtype, VALUES(c, 0), DIMS(c, 0), VALUES(c, 1), TERMS(c, 2));
    return 0;
}

/* sgd_update, in place: 0 param, 1 grad, 2 velocity (absent: NULL) */
static void draw_sgd_update(check_case *c)
{
    static const double lrs[] = {0.0, 0.001, 0.01, 0.1, 1.0};
    static const double momenta[] = {0.0, 0.5, 0.9, 1.0};
    static const double decays[] = {0.0, 1e-4, 5e-4, 0.01};
    size_t dims[4];
    draw_elementwise_dims(c, dims);
    c->lr = pick_double(c, lrs, COUNT(lrs));
    c->momentum = pick_double(c, momenta, COUNT(momenta));
    c->weight_decay = pick_double(c, decays, COUNT(decays));
    /* velocity may be NULL only without momentum. */
    int no_velocity = c->momentum == 0.0 && kit_rng_int(&c->rng, 0, 1);
    in_out(c, "param", dims, 0);
    input(c, "grad", dims, KIT_NORMAL);
    in_out(c, "velocity", dims, no_velocity);
    describe_dims(c, "param", dims);
    describe(c, ", lr %g, momentum %g, weight_decay %g%s", c->lr, c->momentum, c->weight_decay,
             no_velocity ? ", no velocity" : "");
}

static clcnn_status run_sgd_update(clcnn_context *ctx, const check_case *c)
{
    return clcnn_sgd_update(ctx, TENSOR(c, 0), TENSOR(c, 1), TENSOR(c, 2), c->lr, c->momentum, c->weight_decay);
}

static int reference_sgd_update(check_case *c)
{
    /* The device uses the scalars in its arithmetic's precision (float for
     * the 16-bit dtypes). */
    const clcnn_dtype arithmetic = c->dtype == CLCNN_FLOAT64 ? CLCNN_FLOAT64 : CLCNN_FLOAT32;
    double lr = kit_round_to_dtype(arithmetic, c->lr);
    double momentum = kit_round_to_dtype(arithmetic, c->momentum);
    double decay = kit_round_to_dtype(arithmetic, c->weight_decay);
    const operand *v = &c->arg[2];
    size_t n = c->arg[0].n;
    memcpy(REF(c, 0), VALUES(c, 0), n * sizeof(double));
    memcpy(REF(c, 2), VALUES(c, 2), n * sizeof(double));
    kit_sgd_update_terms(VALUES(c, 0), VALUES(c, 1), v->absent ? NULL : VALUES(c, 2), n, lr, momentum, decay,
                         TERMS(c, 0), TERMS(c, 2));
    clcnn_ref_sgd_update(REF(c, 0), VALUES(c, 1), v->absent ? NULL : REF(c, 2), n, lr, momentum, decay);
    return 0;
}

/* Into float32 and the 16-bit dtypes from any dtype; float64 only from
 * float64, the one case that knows the device has it. */
static void draw_tensor_convert(check_case *c)
{
    static const clcnn_dtype targets[] = {CLCNN_FLOAT32, CLCNN_FLOAT16, CLCNN_BFLOAT16, CLCNN_FLOAT64};
    size_t dims[4];
    draw_elementwise_dims(c, dims);
    const int choices = c->dtype == CLCNN_FLOAT64 ? COUNT(targets) : COUNT(targets) - 1;
    const clcnn_dtype to = targets[kit_rng_below(&c->rng, (size_t)choices)];
    input(c, "src", dims, KIT_NORMAL);
    exact_output(c, "dst", dims);
    c->arg[1].dtype = to;
    describe_dims(c, "src", dims);
    describe(c, ", to %s", kit_dtype_name(to));
}

static clcnn_status run_tensor_convert(clcnn_context *ctx, const check_case *c)
{
    return clcnn_tensor_convert(ctx, TENSOR(c, 0), TENSOR(c, 1));
}

/* Rounding to nearest even, by the kit's formats. */
static int reference_tensor_convert(check_case *c)
{
    for (size_t i = 0; i < c->arg[0].n; i++)
        REF(c, 1)[i] = kit_round_to_dtype(c->arg[1].dtype, VALUES(c, 0)[i]);
    return 0;
}

/* The table: a row for every op of the op table (host/api/op_table.h),
 * with the draw_, run_ and reference_ functions named after it. The _ex
 * ops' references are their walkthrough op's, which take any params. */
#define reference_conv_forward_ex reference_conv_forward
#define reference_conv_backward_ex reference_conv_backward
#define reference_pool_forward_ex reference_pool_forward
#define reference_pool_backward_ex reference_pool_backward
#define CHECK_ROW(name, operands) {#name, draw_##name, run_##name, reference_##name},
static const check_op ops[] = {CLCNN_OPS(CHECK_ROW)};
#undef CHECK_ROW
#define OP_COUNT COUNT(ops)

/* ---- running a case ---- */

typedef struct check_run {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    const char *device_spec;
    int verbose;
    int name_width; /* of the op column */
} check_run;

/* One case's verdict: the worst scaled error over its outputs, and on
 * failure what failed. */
typedef struct outcome {
    double worst;
    char worst_output[32];
    int failed;
    int error;       /* the library returned an error: message printed */
    int unsupported; /* the op refused the case's 16-bit dtype (it does not take it yet) */
    char detail[512];
} outcome;

static void judge(const check_case *c, const operand *o, outcome *result)
{
    size_t worst_at;
    double error = kit_scaled_error(o->got, o->ref, o->exact ? NULL : o->terms, o->n, c->dtype, &worst_at);
    double limit = o->exact ? 0.0 : KIT_TOLERANCE;
    if (error > result->worst || result->worst_output[0] == '\0') {
        result->worst = error;
        snprintf(result->worst_output, sizeof result->worst_output, "%s", o->name);
    }
    if (error <= limit || result->failed)
        return;
    result->failed = 1;
    char index[64], values[160];
    cli_index_str(o->dims, worst_at, index, sizeof index);
    snprintf(result->detail, sizeof result->detail, "%s%s: %s, error %.3g eps*sum|terms| (limit %g)", o->name, index,
             kit_mismatch_text(values, sizeof values, o->got[worst_at], o->ref[worst_at]), error, limit);
}

static int library_ok(const check_run *run, outcome *result, clcnn_status status, const char *what)
{
    if (status == CLCNN_OK)
        return 1;
    cli_report_failure(COMMAND, run->ctx, what, status);
    result->error = 1;
    return 0;
}

static void release(check_case *c)
{
    for (int i = 0; i < c->count; i++) {
        operand *o = &c->arg[i];
        clcnn_tensor_destroy(o->tensor);
        free(o->values);
        free(o->got);
        free(o->ref);
        free(o->terms);
    }
}

/* A stream of its own for each op: a seed replays the same case of an op
 * whatever rows come before it in the table. */
static uint64_t op_stream(const char *name)
{
    uint64_t hash = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
    for (; *name; name++)
        hash = (hash ^ (unsigned char)*name) * UINT64_C(0x100000001b3);
    return hash;
}

static void run_case(const check_run *run, const check_op *op, unsigned long long case_seed, check_case *c, outcome *r)
{
    memset(c, 0, sizeof *c);
    c->dtype = run->dtype;
    /* The size class comes from the case's seed, so a replay matches. */
    c->large = case_seed % LARGE_EVERY == LARGE_EVERY - 1;
    kit_rng_init(&c->rng, kit_seed_stream(case_seed, op_stream(op->name)));
    op->draw(c);
    for (int i = 0; i < c->count; i++) {
        operand *o = &c->arg[i];
        if (o->absent)
            continue;
        if (!library_ok(
                run, r,
                kit_tensor_new(run->ctx, o->dtype, o->dims, o->role == ROLE_OUTPUT ? NULL : o->values, &o->tensor),
                "creating a tensor"))
            return;
    }
    const clcnn_status status = op->run(run->ctx, c);
    if (status == CLCNN_ERROR_UNSUPPORTED && (c->dtype == CLCNN_FLOAT16 || c->dtype == CLCNN_BFLOAT16)) {
        r->unsupported = 1;
        return;
    }
    if (!library_ok(run, r, status, op->name))
        return;
    for (int i = 0; i < c->count; i++) {
        operand *o = &c->arg[i];
        if (o->role == ROLE_INPUT)
            continue;
        /* Absent outputs get arrays too: the reference writes them all. */
        o->ref = doubles(o->n);
        o->terms = doubles(o->n);
        if (o->absent)
            continue;
        o->got = doubles(o->n);
        if (!library_ok(run, r, kit_tensor_read(o->tensor, o->got), "reading a result"))
            return;
    }
    if (op->reference(c) != 0) {
        fprintf(stderr, "clcnn %s: out of host memory for the reference\n", COMMAND);
        r->error = 1;
        return;
    }
    for (int i = 0; i < c->count; i++)
        if (c->arg[i].role != ROLE_INPUT && !c->arg[i].absent)
            judge(c, &c->arg[i], r);
}

/* Runs the cases of one op; prints its line; returns its failures. */
static long run_op(const check_run *run, const check_op *op, unsigned long long seed, long cases)
{
    long failures = 0;
    double worst = 0.0;
    char worst_output[32] = "";
    double started = cli_now();
    for (long i = 0; i < cases; i++) {
        unsigned long long case_seed = seed + (unsigned long long)i;
        check_case c;
        outcome r = {0};
        run_case(run, op, case_seed, &c, &r);
        release(&c);
        if (r.unsupported) {
            printf("%-*s %7s %6d  %-26s %8s  skipped (no %s yet)\n", run->name_width, op->name,
                   kit_dtype_name(run->dtype), 0, "-", "", kit_dtype_name(run->dtype));
            return 0;
        }
        if (r.worst > worst || worst_output[0] == '\0') {
            worst = r.worst;
            snprintf(worst_output, sizeof worst_output, "%s", r.worst_output);
        }
        if (run->verbose)
            printf("  %-*s case %ld (seed %llu): %s: worst %.3g (%s)%s\n", run->name_width, op->name, i, case_seed,
                   c.description, r.worst, r.worst_output, r.failed || r.error ? " FAILED" : "");
        if (!r.failed && !r.error)
            continue;
        if (++failures > MAX_REPORTED_FAILURES)
            continue;
        printf("FAIL %s case %ld (seed %llu): %s\n", op->name, i, case_seed, c.description);
        if (r.failed)
            printf("     %s\n", r.detail);
        printf("     replay: clcnn check --op %s --seed %llu --cases 1 --dtype %s%s%s\n", op->name, case_seed,
               cli_dtype_flag(run->dtype), run->device_spec ? " --device " : "",
               run->device_spec ? run->device_spec : "");
    }
    char worst_text[64];
    if (worst == 0.0)
        snprintf(worst_text, sizeof worst_text, "0 (exact)");
    else if (isinf(worst))
        snprintf(worst_text, sizeof worst_text, "inf (%s)", worst_output);
    else
        snprintf(worst_text, sizeof worst_text, "%.3g (%s)", worst, worst_output);
    printf("%-*s %7s %6ld  %-26s %6.1f s  %s\n", run->name_width, op->name, kit_dtype_name(run->dtype), cases,
           worst_text, cli_now() - started, failures ? "FAIL" : "ok");
    fflush(stdout);
    return failures;
}

/* ---- the command ---- */

static void print_help(void)
{
    printf("usage: clcnn check [--cases N] [--seed S] [--dtype f32|f64|f16|bf16] [--op OP]...\n"
           "                   [--device SPEC] [--verbose]\n\n"
           "Runs every op on random cases (shapes, strides, pads, pool modes, and inputs\n"
           "that are normal, ReLU'd, sparse or small integers, so that max pooling sees\n"
           "ties) and compares with the CPU reference. A value fails when\n"
           "|device - reference| > %g * eps * sum|terms| (sum|terms|: the absolute\n"
           "values of everything that went into it); zero_pad, ReLU and max pooling\n"
           "forward must be exact. Prints one line per op with the cases run and the\n"
           "worst error, each failing case with the command that replays it, and exits 1\n"
           "on any failure.\n\n"
           "  --cases N       cases per op (default %d)\n"
           "  --seed S        case i uses seed S + i (default: from the clock, printed)\n"
           "  --dtype f32|f64|f16|bf16 default: f32, and f64 too when the device has it;\n"
           "                  f16 and bf16 skip the ops that do not take them yet\n"
           "  --op OP         only these ops (repeatable):\n                  ",
           KIT_TOLERANCE, DEFAULT_CASES);
    cli_print_names(stdout, ",\n                  ", CLI_ROWS(ops));
    printf("\n  --verbose       print every case\n");
    cli_print_device_help(stdout);
}

/* What the command line asks for. */
typedef struct check_options {
    const char *device;
    long cases;
    unsigned long long seed;
    int have_seed, have_dtype, verbose;
    int wanted[OP_COUNT]; /* all 0: every op */
    clcnn_dtype dtype;
} check_options;

/* Reads the options into o; returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, check_options *o)
{
    static const struct option options[] = {
        {"cases", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"dtype", required_argument, NULL, 't'},
        {"op", required_argument, NULL, 'o'},
        CLI_OPTION_DEVICE,
        {"verbose", no_argument, NULL, 'v'},
        CLI_OPTION_HELP,
        CLI_OPTIONS_END,
    };
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "vh", options)) != -1;) {
        int k;
        switch (option) {
        case 'n':
            if (cli_parse_long(COMMAND, "--cases", optarg, 1, 100000000, &o->cases))
                return CLI_EXIT_USAGE;
            break;
        case 's':
            if (cli_parse_u64(COMMAND, "--seed", optarg, &o->seed))
                return CLI_EXIT_USAGE;
            o->have_seed = 1;
            break;
        case 't':
            if (cli_parse_any_dtype(COMMAND, optarg, &o->dtype))
                return CLI_EXIT_USAGE;
            o->have_dtype = 1;
            break;
        case 'o':
            if ((k = cli_find_name(optarg, CLI_ROWS(ops))) < 0)
                return cli_unknown_name(COMMAND, "--op", optarg, CLI_ROWS(ops));
            o->wanted[k] = 1;
            break;
        case 'd': o->device = optarg; break;
        case 'v': o->verbose = 1; break;
        default: return cli_option_exit(option, print_help);
        }
    }
    return -1;
}

/* The dtypes to run: the one asked for, else float32 and float64 where
 * the device has it. Returns how many, 0 when the one asked for is not
 * there (said on stderr). */
static int choose_dtypes(clcnn_context *ctx, const check_options *o, clcnn_dtype dtypes[2])
{
    if (o->have_dtype) {
        if (clcnn_context_supports_dtype(ctx, o->dtype)) {
            dtypes[0] = o->dtype;
            return 1;
        }
        fprintf(stderr, "clcnn check: %s has no %s (cl_khr_fp64)\n", clcnn_context_device_name(ctx),
                kit_dtype_name(o->dtype));
        return 0;
    }
    dtypes[0] = CLCNN_FLOAT32;
    dtypes[1] = CLCNN_FLOAT64;
    return clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64) ? 2 : 1;
}

static void print_heading(const check_run *run, long cases, unsigned long long seed)
{
    printf("clcnn %s check on %s: %ld random cases per op, seed %llu\n", clcnn_version(),
           clcnn_context_device_name(run->ctx), cases, seed);
    printf("A value fails when |device - reference| > %g eps*sum|terms| (zero_pad, ReLU and\n"
           "max pooling forward: when it differs at all).\n\n",
           KIT_TOLERANCE);
    printf("%-*s %7s %6s  %-26s %8s  %s\n", run->name_width, "op", "dtype", "cases", "worst error (output)", "time",
           "result");
    fflush(stdout);
}

int cli_check(int argc, char **argv)
{
    check_options o = {.cases = DEFAULT_CASES, .dtype = CLCNN_FLOAT32};
    int status = parse_options(argc, argv, &o);
    if (status >= 0)
        return status;
    if (!o.have_seed)
        o.seed = ((unsigned long long)time(NULL) * 1000003ULL) ^ (unsigned long long)getpid();
    int chosen = 0;
    for (int k = 0; k < OP_COUNT; k++)
        chosen |= o.wanted[k];
    check_run run = {NULL, o.dtype, o.device, o.verbose, 14};
    for (int k = 0; k < OP_COUNT; k++) {
        if (!chosen)
            o.wanted[k] = 1;
        int width = (int)strlen(ops[k].name);
        if (o.wanted[k] && width > run.name_width)
            run.name_width = width;
    }

    status = cli_open_context(COMMAND, o.device, &run.ctx);
    if (status != CLI_EXIT_OK)
        return status;
    clcnn_dtype dtypes[2];
    int dtype_count = choose_dtypes(run.ctx, &o, dtypes);
    if (dtype_count == 0) {
        clcnn_context_destroy(run.ctx);
        return CLI_EXIT_FAILURE;
    }
    print_heading(&run, o.cases, o.seed);
    long failures = 0, total = 0;
    for (int d = 0; d < dtype_count; d++) {
        run.dtype = dtypes[d];
        for (int k = 0; k < OP_COUNT; k++) {
            if (!o.wanted[k])
                continue;
            failures += run_op(&run, &ops[k], o.seed, o.cases);
            total += o.cases;
        }
    }
    clcnn_context_destroy(run.ctx);
    if (failures) {
        printf("\ncheck: %ld of %ld cases FAILED (seed %llu)\n", failures, total, o.seed);
        return CLI_EXIT_FAILURE;
    }
    printf("\ncheck: all %ld cases passed (seed %llu)\n", total, o.seed);
    return CLI_EXIT_OK;
}
