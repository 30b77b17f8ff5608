/* `clcnn bench`: times every op on the layer and pooling shapes of the
 * design notes. Each row: a warm-up run (kernel builds happen there), then
 * N timed runs, each between two clcnn_context_finish calls on a monotonic
 * clock; the median and the minimum, the rate (GFLOP/s for convolutions,
 * GB/s for pooling), and the CPU reference's time once for the speedup. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clcnn_reference.h"
#include "numpy_random.h"

#define COMMAND "bench"
#define DEFAULT_REPEAT 10
/* The reference is skipped when its estimated time passes this; the
 * estimate assumes REFERENCE_FLOPS_PER_S. */
#define REFERENCE_LIMIT_S 10.0
#define REFERENCE_FLOPS_PER_S 0.5e9

typedef struct conv_layer {
    const char *name;
    size_t m, h, w, c_prev;
    size_t f, c;
    int stride, pad;
} conv_layer;

/* The layers table of DESIGN.md. */
static const conv_layer conv_layers[] = {
    {"walkthrough", 10, 4, 4, 3, 2, 8, 2, 2},
    {"fmnist1", 64, 28, 28, 1, 5, 32, 1, 2},
    {"fmnist2", 64, 14, 14, 32, 5, 64, 1, 2},
    {"res56", 8, 56, 56, 64, 3, 64, 1, 1},
    {"res28", 8, 28, 28, 128, 3, 128, 1, 1},
    {"res14", 8, 14, 14, 256, 3, 256, 1, 1},
    {"res56s2", 8, 56, 56, 64, 3, 128, 2, 1},
    {"vgg1", 2, 224, 224, 3, 3, 64, 1, 1},
};

typedef struct pool_shape {
    const char *name;
    size_t m, h, w, c;
    int f, stride;
    int max, average; /* which modes the design notes time */
} pool_shape;

/* The pooling shapes of DESIGN.md. */
static const pool_shape pool_shapes[] = {
    {"pool112", 8, 112, 112, 64, 3, 2, 1, 0},
    {"pool56", 8, 56, 56, 64, 2, 2, 1, 1},
    {"pool28", 64, 28, 28, 32, 2, 2, 1, 0},
};

#define CONV_LAYER_COUNT ((int)(sizeof conv_layers / sizeof conv_layers[0]))
#define POOL_SHAPE_COUNT ((int)(sizeof pool_shapes / sizeof pool_shapes[0]))

/* The last three time one output of conv_backward each (the others NULL);
 * they run only when asked for with --op. */
static const char *const op_names[] = {"conv_forward",       "conv_backward",        "pool_forward",
                                       "pool_backward",      "conv_backward_data",   "conv_backward_filter",
                                       "conv_backward_bias"};
#define OP_COUNT 7
#define OP_CONV_PARTS 4 /* index of conv_backward_data */

typedef struct bench_row {
    const char *layer;
    const char *op;
    const char *mode; /* pooling: "max"/"average"; NULL for convolutions */
    char shape[96];
    size_t input_dims[4], weight_dims[4], output_dims[4];
    int f, stride, pad;
    double median_ms, min_ms;
    double flops; /* conv: per run; 0 for pooling */
    double bytes; /* pooling: moved per run; 0 for convolutions */
    double reference_ms;  /* NAN when not run */
    char reference_note[64];
    char error[512];
} bench_row;

typedef struct bench {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    long repeat;
    int json;
    int reference;
    FILE *progress;
    bench_row *rows;
    int row_count, row_capacity;
    int failures;
    int op_width; /* of the op column: wider when --op asks for a conv_backward_* part */
} bench;

static void print_help(void)
{
    fputs("usage: clcnn bench [--layer NAME]... [--op OP]... [--dtype f32|f64] [--repeat N]\n"
          "                   [--json] [--no-reference] [--device SPEC]\n\n"
          "Times the ops on the shapes of the design notes. Per row: median and min ms of\n"
          "N runs after a warm-up (each run between two clcnn_context_finish), GFLOP/s\n"
          "for convolutions (forward: 2*m*n_H*n_W*n_C*f*f*n_C_prev; backward, dA+dW+db:\n"
          "twice that) or GB/s for pooling (bytes read and written: input and output,\n"
          "plus A_prev for max backward), the CPU reference's time (once; skipped when\n"
          "estimated over 10 s at 0.5 GFLOP/s) and the speedup over it.\n\n"
          "  --layer NAME    walkthrough fmnist1 fmnist2 res56 res28 res14 res56s2 vgg1,\n"
          "                  pool112 (max 3x3 s2 on 8x112x112x64), pool56 (max and\n"
          "                  average 2x2 s2 on 8x56x56x64), pool28 (max 2x2 s2 on\n"
          "                  64x28x28x32); repeatable, default all\n"
          "  --op OP         conv_forward conv_backward pool_forward pool_backward;\n"
          "                  repeatable, default all; also conv_backward_data,\n"
          "                  conv_backward_filter, conv_backward_bias: one output of\n"
          "                  conv_backward each (dA, dW or db: forward's FLOPs for dA\n"
          "                  and dW, one add per element of dZ for db), only when named\n"
          "  --dtype f32|f64 default f32\n"
          "  --repeat N      timed runs per row (default 10)\n"
          "  --json          print one JSON object on stdout (progress goes to stderr)\n"
          "  --no-reference  skip the CPU reference\n",
          stdout);
    cli_print_device_help(stdout);
}

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

static double *random_values(size_t n, uint32_t seed)
{
    double *values = malloc((n ? n : 1) * sizeof *values);
    if (!values)
        return NULL;
    numpy_random_state rng;
    numpy_random_seed(&rng, seed);
    numpy_random_randn(&rng, values, n);
    return values;
}

/* What one row runs: the op on its tensors, and the reference on doubles. */
typedef struct row_work {
    clcnn_tensor *t[6];
    double *host[6];
    int conv;
    int backward;
    int part; /* conv backward: 0 all outputs, else 1 dA, 2 dW, 3 db only */
    clcnn_pool_mode mode;
    const bench_row *row;
} row_work;

static clcnn_status run_op(bench *b, row_work *w)
{
    const bench_row *r = w->row;
    if (w->conv && !w->backward)
        return clcnn_conv_forward(b->ctx, w->t[0], w->t[1], w->t[2], r->stride, r->pad, w->t[3]);
    if (w->conv)
        return clcnn_conv_backward(b->ctx, w->t[3], w->t[0], w->t[1], r->stride, r->pad,
                                   w->part == 0 || w->part == 1 ? w->t[4] : NULL,
                                   w->part == 0 || w->part == 2 ? w->t[5] : NULL,
                                   w->part == 0 || w->part == 3 ? w->t[2] : NULL);
    if (!w->backward)
        return clcnn_pool_forward(b->ctx, w->t[0], r->f, r->stride, w->mode, w->t[1]);
    return clcnn_pool_backward(b->ctx, w->t[1], w->t[0], r->f, r->stride, w->mode, w->t[2]);
}

static void run_reference(row_work *w)
{
    const bench_row *r = w->row;
    double **h = w->host;
    if (w->conv && !w->backward)
        clcnn_ref_conv_forward(h[0], r->input_dims, h[1], r->weight_dims, h[2], r->stride, r->pad,
                               h[3]);
    else if (w->conv)
        clcnn_ref_conv_backward(h[3], h[0], r->input_dims, h[1], r->weight_dims, r->stride,
                                r->pad, h[4], h[5], h[2]);
    else if (!w->backward)
        clcnn_ref_pool_forward(h[0], r->input_dims, r->f, r->stride, w->mode, h[1]);
    else
        clcnn_ref_pool_backward(h[1], h[0], r->input_dims, r->f, r->stride, w->mode, h[2]);
}

/* Creates the tensors and host arrays of a row. Index layout: conv: 0 a_prev,
 * 1 w, 2 b (or db), 3 z (or dz), 4 dA, 5 dW; pool: 0 a_prev, 1 out (or dA),
 * 2 dA_prev. */
static int prepare(bench *b, row_work *w, bench_row *r)
{
    size_t dims[6][4];
    int count;
    if (w->conv) {
        memcpy(dims[0], r->input_dims, sizeof dims[0]);
        memcpy(dims[1], r->weight_dims, sizeof dims[1]);
        const size_t bias[4] = {1, 1, 1, r->weight_dims[3]};
        memcpy(dims[2], bias, sizeof dims[2]);
        memcpy(dims[3], r->output_dims, sizeof dims[3]);
        memcpy(dims[4], r->input_dims, sizeof dims[4]);
        memcpy(dims[5], r->weight_dims, sizeof dims[5]);
        count = w->backward ? 6 : 4;
    } else {
        memcpy(dims[0], r->input_dims, sizeof dims[0]);
        memcpy(dims[1], r->output_dims, sizeof dims[1]);
        memcpy(dims[2], r->input_dims, sizeof dims[2]);
        count = w->backward ? 3 : 2;
    }
    for (int k = 0; k < count; k++) {
        /* Inputs get random values; outputs are left as created. */
        int input = w->conv ? (w->backward ? k <= 1 || k == 3 : k <= 2)
                            : (w->backward ? k <= 1 : k == 0);
        size_t n = kit_elements(dims[k]);
        w->host[k] = input ? random_values(n, (uint32_t)(k + 1)) : malloc(n * sizeof(double));
        if (!w->host[k]) {
            snprintf(r->error, sizeof r->error, "out of host memory");
            return -1;
        }
        if (input)
            kit_round_all(b->dtype, w->host[k], n);
        clcnn_status status = clcnn_tensor_create(b->ctx, b->dtype, dims[k], &w->t[k]);
        if (status == CLCNN_OK && input)
            status = kit_tensor_write(w->t[k], w->host[k]);
        if (status != CLCNN_OK) {
            snprintf(r->error, sizeof r->error, "creating a tensor: %s",
                     clcnn_context_last_error(b->ctx));
            return -1;
        }
    }
    return 0;
}

static void release(row_work *w)
{
    for (int k = 0; k < 6; k++) {
        clcnn_tensor_destroy(w->t[k]);
        free(w->host[k]);
    }
}

static void time_row(bench *b, row_work *w, bench_row *r)
{
    r->reference_ms = NAN;
    r->median_ms = r->min_ms = NAN;
    if (prepare(b, w, r) != 0)
        return;
    double *times = malloc((size_t)b->repeat * sizeof *times);
    if (!times) {
        snprintf(r->error, sizeof r->error, "out of host memory");
        return;
    }
    clcnn_status status = run_op(b, w);
    if (status == CLCNN_OK)
        status = clcnn_context_finish(b->ctx);
    for (long i = 0; i < b->repeat && status == CLCNN_OK; i++) {
        double start = cli_now();
        status = run_op(b, w);
        if (status == CLCNN_OK)
            status = clcnn_context_finish(b->ctx);
        times[i] = 1e3 * (cli_now() - start);
    }
    if (status != CLCNN_OK) {
        snprintf(r->error, sizeof r->error, "%s", clcnn_context_last_error(b->ctx));
        free(times);
        return;
    }
    r->min_ms = times[0];
    for (long i = 1; i < b->repeat; i++)
        if (times[i] < r->min_ms)
            r->min_ms = times[i];
    r->median_ms = median(times, b->repeat);
    free(times);

    /* Pooling's work for the estimate: one operation per window element. */
    double work = r->flops > 0 ? r->flops
                               : (double)kit_elements(r->output_dims) * r->f * r->f * 2.0;
    double estimate_s = work / REFERENCE_FLOPS_PER_S;
    if (!b->reference) {
        snprintf(r->reference_note, sizeof r->reference_note, "not run (--no-reference)");
    } else if (w->part) {
        /* The reference computes all three outputs: no fair comparison. */
        snprintf(r->reference_note, sizeof r->reference_note, "not run for one output");
    } else if (estimate_s > REFERENCE_LIMIT_S) {
        snprintf(r->reference_note, sizeof r->reference_note, "skipped (est. %.0f s)", estimate_s);
    } else {
        double start = cli_now();
        run_reference(w);
        r->reference_ms = 1e3 * (cli_now() - start);
    }
}

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
    fprintf(out, "%-11s %-*s %-7s %-36s %9s %9s %15s %10s %8s\n", "layer", op_width, "op", "mode", "shape",
            "median ms", "min ms", "rate", "ref ms", "speedup");
}

static void print_row(FILE *out, int op_width, const bench_row *r)
{
    if (r->error[0]) {
        fprintf(out, "%-11s %-*s %-7s %-36s FAILED: %s\n", r->layer, op_width, r->op, r->mode ? r->mode : "",
                r->shape, r->error);
        return;
    }
    char rate[32], reference[32], speedup[32];
    format_rate(r, rate, sizeof rate);
    if (isnan(r->reference_ms)) {
        snprintf(reference, sizeof reference, "-");
        snprintf(speedup, sizeof speedup, "-");
    } else {
        snprintf(reference, sizeof reference, r->reference_ms < 10 ? "%.3f" : "%.1f",
                 r->reference_ms);
        snprintf(speedup, sizeof speedup, "%.1fx", r->reference_ms / r->median_ms);
    }
    /* A skipped reference says why after the row; --no-reference says it
     * once in the header. */
    int skipped = isnan(r->reference_ms) && strncmp(r->reference_note, "skipped", 7) == 0;
    fprintf(out, "%-11s %-*s %-7s %-36s %9.3f %9.3f %15s %10s %8s%s%s\n", r->layer, op_width, r->op,
            r->mode ? r->mode : "", r->shape, r->median_ms, r->min_ms, rate, reference, speedup,
            skipped ? "  reference " : "", skipped ? r->reference_note : "");
    fflush(out);
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

static void finish_row(bench *b, row_work *w, bench_row *r)
{
    time_row(b, w, r);
    release(w);
    if (r->error[0])
        b->failures++;
    print_row(b->progress, b->op_width, r);
}

/* op: an index into op_names (0, 1 or OP_CONV_PARTS + 0..2). */
static int bench_conv(bench *b, const conv_layer *layer, int op)
{
    bench_row *r = new_row(b);
    if (!r)
        return -1;
    const int backward = op != 0, part = op >= OP_CONV_PARTS ? op - OP_CONV_PARTS + 1 : 0;
    r->layer = layer->name;
    r->op = op_names[op];
    const size_t a_dims[4] = {layer->m, layer->h, layer->w, layer->c_prev};
    const size_t w_dims[4] = {layer->f, layer->f, layer->c_prev, layer->c};
    memcpy(r->input_dims, a_dims, sizeof a_dims);
    memcpy(r->weight_dims, w_dims, sizeof w_dims);
    clcnn_ref_conv_output_dims(a_dims, w_dims, layer->stride, layer->pad, r->output_dims);
    r->f = (int)layer->f;
    r->stride = layer->stride;
    r->pad = layer->pad;
    const size_t *z = r->output_dims;
    double forward = 2.0 * (double)(z[0] * z[1] * z[2] * z[3]) * (double)(layer->f * layer->f) *
                     (double)layer->c_prev;
    /* Backward (dA + dW + db) counts twice forward; dA or dW alone once;
     * db alone one add per element of dZ. */
    if (part == 3)
        r->flops = (double)(z[0] * z[1] * z[2] * z[3]);
    else
        r->flops = backward && part == 0 ? 2.0 * forward : forward;
    snprintf(r->shape, sizeof r->shape, "%zux%zux%zux%zu -> %zux%zux%zux%zu f%zu s%d p%d",
             a_dims[0], a_dims[1], a_dims[2], a_dims[3], z[0], z[1], z[2], z[3], layer->f,
             layer->stride, layer->pad);
    row_work w = {0};
    w.conv = 1;
    w.backward = backward;
    w.part = part;
    w.row = r;
    finish_row(b, &w, r);
    return 0;
}

static int bench_pool(bench *b, const pool_shape *shape, clcnn_pool_mode mode, int backward)
{
    bench_row *r = new_row(b);
    if (!r)
        return -1;
    r->layer = shape->name;
    r->op = op_names[backward ? 3 : 2];
    r->mode = mode == CLCNN_POOL_MAX ? "max" : "average";
    const size_t a_dims[4] = {shape->m, shape->h, shape->w, shape->c};
    memcpy(r->input_dims, a_dims, sizeof a_dims);
    clcnn_ref_pool_output_dims(a_dims, shape->f, shape->stride, r->output_dims);
    r->f = shape->f;
    r->stride = shape->stride;
    double element = (double)kit_dtype_size(b->dtype);
    double in = (double)kit_elements(a_dims) * element;
    double out = (double)kit_elements(r->output_dims) * element;
    /* forward reads A_prev, writes A; backward reads dA (and A_prev for
     * max, to find each window's maximum) and writes dA_prev. */
    r->bytes = backward ? out + in + (mode == CLCNN_POOL_MAX ? in : 0.0) : in + out;
    const size_t *o = r->output_dims;
    snprintf(r->shape, sizeof r->shape, "%zux%zux%zux%zu -> %zux%zux%zux%zu f%d s%d", a_dims[0],
             a_dims[1], a_dims[2], a_dims[3], o[0], o[1], o[2], o[3], shape->f, shape->stride);
    row_work w = {0};
    w.backward = backward;
    w.mode = mode;
    w.row = r;
    finish_row(b, &w, r);
    return 0;
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
    fprintf(out, ", \"dtype\": \"%s\", \"repeat\": %ld, \"rows\": [", kit_dtype_name(b->dtype),
            b->repeat);
    for (int i = 0; i < b->row_count; i++) {
        const bench_row *r = &b->rows[i];
        fprintf(out, "%s\n  {\"layer\": \"%s\", \"op\": \"%s\", \"mode\": ", i ? "," : "", r->layer,
                r->op);
        if (r->mode)
            json_string(out, r->mode);
        else
            fputs("null", out);
        fputs(", \"input\": ", out);
        json_dims(out, r->input_dims);
        fputs(", \"weights\": ", out);
        if (r->mode)
            fputs("null", out);
        else
            json_dims(out, r->weight_dims);
        fputs(", \"output\": ", out);
        json_dims(out, r->output_dims);
        fprintf(out, ", \"f\": %d, \"stride\": %d, \"pad\": %d, \"median_ms\": ", r->f, r->stride,
                r->pad);
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
        if (r->reference_note[0])
            json_string(out, r->reference_note);
        else
            fputs("null", out);
        fputs(", \"error\": ", out);
        if (r->error[0])
            json_string(out, r->error);
        else
            fputs("null", out);
        fputs("}", out);
    }
    fputs("\n]}\n", out);
}

static int wanted(const char *name, const char *const *list, int count)
{
    if (count == 0)
        return 1;
    for (int i = 0; i < count; i++)
        if (strcmp(name, list[i]) == 0)
            return 1;
    return 0;
}

static int known_layer(const char *name)
{
    for (int i = 0; i < CONV_LAYER_COUNT; i++)
        if (strcmp(name, conv_layers[i].name) == 0)
            return 1;
    for (int i = 0; i < POOL_SHAPE_COUNT; i++)
        if (strcmp(name, pool_shapes[i].name) == 0)
            return 1;
    return 0;
}

int cli_bench(int argc, char **argv)
{
    const char *device = NULL, *text;
    const char **layers = calloc((size_t)argc, sizeof *layers);
    const char **ops = calloc((size_t)argc, sizeof *ops);
    int layer_count = 0, op_count = 0, exit_status = CLI_EXIT_USAGE;
    bench b = {0};
    b.repeat = DEFAULT_REPEAT;
    b.reference = 1;
    b.dtype = CLCNN_FLOAT32;
    if (!layers || !ops)
        goto done;
    for (int i = 1; i < argc; i++) {
        int matched;
        if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--device", &device)) != 0) {
            if (matched < 0)
                goto done;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--layer", &text)) != 0) {
            if (matched < 0)
                goto done;
            if (!known_layer(text)) {
                fprintf(stderr, "clcnn bench: unknown --layer \"%s\" (see clcnn bench --help)\n",
                        text);
                goto done;
            }
            layers[layer_count++] = text;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--op", &text)) != 0) {
            if (matched < 0)
                goto done;
            if (!wanted(text, op_names, OP_COUNT)) {
                fprintf(stderr, "clcnn bench: unknown --op \"%s\" (conv_forward, conv_backward, "
                                "pool_forward, pool_backward, conv_backward_data, conv_backward_filter, "
                                "conv_backward_bias)\n", text);
                goto done;
            }
            ops[op_count++] = text;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--dtype", &text)) != 0) {
            if (matched < 0 || cli_parse_dtype(COMMAND, text, &b.dtype))
                goto done;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--repeat", &text)) != 0) {
            if (matched < 0 || cli_parse_long(COMMAND, "--repeat", text, 1, 1000000, &b.repeat))
                goto done;
        } else if (strcmp(argv[i], "--json") == 0) {
            b.json = 1;
        } else if (strcmp(argv[i], "--no-reference") == 0) {
            b.reference = 0;
        } else if (cli_is_help(argv[i])) {
            print_help();
            exit_status = CLI_EXIT_OK;
            goto done;
        } else {
            cli_unknown_argument(COMMAND, argv[i]);
            goto done;
        }
    }

    exit_status = cli_open_context(COMMAND, device, &b.ctx);
    if (exit_status != CLI_EXIT_OK)
        goto done;
    if (!clcnn_context_supports_dtype(b.ctx, b.dtype)) {
        fprintf(stderr, "clcnn bench: %s has no %s (cl_khr_fp64); use --dtype f32\n",
                clcnn_context_device_name(b.ctx), kit_dtype_name(b.dtype));
        exit_status = CLI_EXIT_FAILURE;
        goto done;
    }
    b.progress = b.json ? stderr : stdout;
    fprintf(b.progress, "clcnn %s bench on %s, %s\n", clcnn_version(),
            clcnn_context_device_name(b.ctx), kit_dtype_name(b.dtype));
    /* The tile configuration, so a table can be reproduced (CLCNN_TUNE). */
    fprintf(b.progress, "config: %s\n", clcnn_context_config(b.ctx));
    fprintf(b.progress, "median and min of %ld runs after a warm-up; %s\n\n", b.repeat,
            b.reference ? "ref: the CPU reference (clcnn_ref_*,\ndouble, one thread) run once"
                        : "the CPU reference is not run (--no-reference)");
    b.op_width = 13;
    for (int op = OP_CONV_PARTS; op < OP_COUNT; op++)
        if (op_count > 0 && wanted(op_names[op], ops, op_count))
            b.op_width = 20;
    print_row_header(b.progress, b.op_width);
    for (int i = 0; i < CONV_LAYER_COUNT; i++) {
        if (!wanted(conv_layers[i].name, layers, layer_count))
            continue;
        for (int op = 0; op < OP_COUNT; op++) {
            const int conv = op < 2 || op >= OP_CONV_PARTS;
            /* The parts of conv_backward run only when named. */
            const int asked = op >= OP_CONV_PARTS ? op_count > 0 && wanted(op_names[op], ops, op_count)
                                                  : wanted(op_names[op], ops, op_count);
            if (conv && asked && bench_conv(&b, &conv_layers[i], op) != 0)
                b.failures++;
        }
    }
    for (int i = 0; i < POOL_SHAPE_COUNT; i++) {
        if (!wanted(pool_shapes[i].name, layers, layer_count))
            continue;
        const pool_shape *shape = &pool_shapes[i];
        for (int mode = 0; mode < 2; mode++) {
            if (!(mode == 0 ? shape->max : shape->average))
                continue;
            clcnn_pool_mode pool_mode = mode ? CLCNN_POOL_AVERAGE : CLCNN_POOL_MAX;
            for (int backward = 0; backward < 2; backward++)
                if (wanted(op_names[2 + backward], ops, op_count) &&
                    bench_pool(&b, shape, pool_mode, backward) != 0)
                    b.failures++;
        }
    }
    if (b.row_count == 0)
        fprintf(stderr, "clcnn bench: no rows: the --layer and --op given select nothing\n");
    /* Scratch memory (W transposed, dW/db partial sums, pooling argmax):
     * bounded by the largest layer and reused across calls. */
    fprintf(b.progress, "\nworkspace held by the context: %zu bytes\n", clcnn_context_workspace_bytes(b.ctx));
    if (b.json)
        print_json(&b);
    exit_status = b.failures || b.row_count == 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
done:
    free(b.rows);
    clcnn_context_destroy(b.ctx);
    free(layers);
    free(ops);
    return exit_status;
}
