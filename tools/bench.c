/* `clcnn bench`: times every public op on the shapes of the design notes
 * and of the training network (`clcnn train`): the rows of bench_rows.h,
 * each op on every layer of its kind (pooling: in each mode the layer
 * names). A row: a warm-up run (kernel builds happen there), then N timed
 * runs, each between two clcnn_context_finish calls on a monotonic clock;
 * the median and the minimum, the rate (GFLOP/s for convolutions, GB/s for
 * the rest: bytes read and written), and the CPU reference's time once for
 * the speedup. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rows.h"

#define COMMAND "bench"
#define DEFAULT_REPEAT 10
/* The reference is skipped when its estimated time passes this; the
 * estimate assumes BENCH_REFERENCE_FLOPS_PER_S. */
#define REFERENCE_LIMIT_S 10.0
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- timing ---- */

typedef struct bench {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    long repeat;
    long calls; /* --back-to-back: calls per timed run */
    int json;
    int reference;
    int kernels; /* --kernels */
    int plan;    /* --plan */
    FILE *progress;
    bench_row *rows;
    int row_count, row_capacity;
    int failures;
    int op_width; /* of the op column: the longest op name timed */
} bench;

static void time_row(bench *b, bench_row *r)
{
    r->reference_ms = NAN;
    r->median_ms = r->min_ms = NAN;
    if (bench_prepare(b->ctx, b->dtype, r) != 0)
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
    clcnn_build_stats before, after;
    clcnn_layer_spec spec;
    bench_layer_spec(r->layer, r->op, r->pool_mode, b->dtype, &spec);
    /* Compiled ahead, as a network would (clcnn_context_prepare), so the
     * warm-up finds every kernel built. */
    clcnn_status status = clcnn_context_build_stats(b->ctx, &before);
    if (status == CLCNN_OK)
        status = clcnn_context_prepare(b->ctx, &spec, 1);
    clcnn_context_plan(b->ctx);
    if (status == CLCNN_OK)
        status = r->op->run(b->ctx, r);
    /* The plan of one run: the warm-up's (every run plans the same). */
    if (b->plan)
        snprintf(r->plan, sizeof r->plan, "%s", clcnn_context_plan(b->ctx));
    if (status == CLCNN_OK)
        status = clcnn_context_finish(b->ctx);
    if (status == CLCNN_OK && (status = clcnn_context_build_stats(b->ctx, &after)) == CLCNN_OK) {
        r->programs = after.programs - before.programs;
        r->build_s = after.build_seconds - before.build_seconds;
        r->first_launch_s = after.first_launch_seconds - before.first_launch_seconds;
    }
    /* The warm-up's launches (and the kernel builds') are not reported. */
    if (status == CLCNN_OK && b->kernels)
        status = clcnn_context_launches(b->ctx, NULL, 0, &launch_count);
    for (long i = 0; i < b->repeat && status == CLCNN_OK; i++) {
        double start = cli_now();
        for (long c = 0; c < b->calls && status == CLCNN_OK; c++)
            status = r->op->run(b->ctx, r);
        if (status == CLCNN_OK)
            status = clcnn_context_finish(b->ctx);
        times[i] = 1e3 * (cli_now() - start) / (double)b->calls;
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
        r->launches[k].median_ms = bench_median(launch_ms + k * (size_t)b->repeat, b->repeat);
    }
    free(launch_ms);
    r->min_ms = times[0];
    for (long i = 1; i < b->repeat; i++)
        if (times[i] < r->min_ms)
            r->min_ms = times[i];
    r->median_ms = bench_median(times, b->repeat);
    free(times);

    double estimate_s = r->work / BENCH_REFERENCE_FLOPS_PER_S;
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
    fprintf(out, "%-12s %-*s %-7s %-40s %9s %9s %15s %10s %8s %8s %5s\n", "layer", op_width, "op", "mode", "shape",
            "median ms", "min ms", "rate", "ref ms", "speedup", "build s", "progs");
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
    fprintf(out, "%-12s %-*s %-7s %-40s %9.3f %9.3f %15s %10s %8s %8.2f %5zu%s%s\n", r->layer->name, op_width,
            r->op->name, mode, r->shape, r->median_ms, r->min_ms, rate, reference, speedup,
            r->build_s + r->first_launch_s, r->programs, skipped ? "  reference " : "",
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

/* --plan: the kernels and their -D options under the row, one per line. */
static void print_plan(FILE *out, const bench_row *r)
{
    for (const char *line = r->plan; *line;) {
        const size_t n = strcspn(line, "\n");
        fprintf(out, "    plan: %.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
    fflush(out);
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
    clcnn_build_stats builds = {0};
    clcnn_context_build_stats(b->ctx, &builds);
    fprintf(out, ", \"builds\": {\"programs\": %zu, \"cached_programs\": %zu, \"build_s\": ", builds.programs,
            builds.cached_programs);
    json_number(out, builds.build_seconds);
    fprintf(out, ", \"first_launches\": %zu, \"first_launch_s\": ", builds.first_launches);
    json_number(out, builds.first_launch_seconds);
    fputc('}', out);
    fprintf(out, ", \"dtype\": \"%s\", \"repeat\": %ld, \"back_to_back\": %ld, \"rows\": [", kit_dtype_name(b->dtype),
            b->repeat, b->calls);
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
        fprintf(out, ", \"programs\": %zu, \"build_s\": ", r->programs);
        json_number(out, r->build_s);
        fputs(", \"first_launch_s\": ", out);
        json_number(out, r->first_launch_s);
        fputs(", \"reference_note\": ", out);
        json_string_or_null(out, r->reference_note);
        fputs(", \"error\": ", out);
        json_string_or_null(out, r->error);
        if (b->plan) {
            fputs(", \"plan\": ", out);
            json_string(out, r->plan);
        }
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
    for (int k = 0; k < bench_op_count; k++) {
        if (bench_op_table[k].kind == kind && !bench_op_table[k].only_when_named) {
            printf("%s%s", separator, bench_op_table[k].name);
            separator = ", ";
        }
    }
}

static void print_help(void)
{
    fputs("usage: clcnn bench [--suite table|networks|all] [--layer NAME]... [--op OP]...\n"
          "                   [--dtype f32|f64|f16|bf16] [--repeat N] [--json] [--no-reference]\n"
          "                   [--back-to-back N] [--kernels] [--plan] [--device SPEC]\n\n"
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
    for (int i = 0; i < bench_layer_count; i++) {
        const bench_layer *l = &bench_layer_table[i];
        char dims[48];
        bench_dims_text(dims, sizeof dims, l->dims);
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
    for (int k = 0; k < bench_op_count; k++)
        if (!bench_op_table[k].only_when_named)
            printf("                  %s\n", bench_op_table[k].name);
    fputs("                  and, only when named, the _ex ops (the rows above run them\n"
          "                  where the walkthrough's arguments cannot express a layer;\n"
          "                  named, they run on every layer of their kind) and one output\n"
          "                  of conv_backward each (dA, dW or db: forward's FLOPs for dA\n"
          "                  and dW, one add per element of dZ for db):\n",
          stdout);
    for (int k = 0; k < bench_op_count; k++)
        if (bench_op_table[k].only_when_named)
            printf("                  %s\n", bench_op_table[k].name);
    fputs("  --dtype T       f32 (default), f64, f16 or bf16; an op that does not take\n"
          "                  16-bit tensors yet shows its refusal in its row\n"
          "  --repeat N      timed runs per row (default 10)\n"
          "  --back-to-back N\n"
          "                  each timed run makes N calls of the op, one after the other\n"
          "                  without waiting, then one clcnn_context_finish; times are per\n"
          "                  call (default 1). What an op costs inside a network's step,\n"
          "                  where the wait for the device (tens of microseconds on a CPU\n"
          "                  device) comes once per step, not once per op\n"
          "  --json          print one JSON object on stdout (progress goes to stderr)\n"
          "  --no-reference  skip the CPU reference\n"
          "  --kernels       under each row, every kernel one run of the op launches: its\n"
          "                  global and local sizes and its device time (median over the\n"
          "                  runs, from profiling events; profiling adds some launch time)\n"
          "  --plan          under each row, the plan the library made for it on this\n"
          "                  device under its tuning (the column, the tuning database's\n"
          "                  rows, CLCNN_TUNE): each kernel the op takes, with its -D\n"
          "                  options (tiles, vectors, the kernel's variant)\n",
          stdout);
    cli_print_device_help(stdout);
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
    bench_release(r);
    if (r->error[0])
        b->failures++;
    print_row(b->progress, b->op_width, r);
    if (b->plan && !r->error[0])
        print_plan(b->progress, r);
    if (b->kernels && !r->error[0])
        print_launches(b->progress, r);
    return 0;
}

/* What the command line asks for besides what goes into bench. */
typedef struct bench_options {
    const char *device;
    int layer_wanted[BENCH_MAX_LAYERS], op_named[BENCH_MAX_OPS];
    int any_layer, any_op, suites;
} bench_options;

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
        {"plan", no_argument, NULL, 'p'},
        {"back-to-back", required_argument, NULL, 'b'},
        CLI_OPTIONS_END,
    };
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "h", options)) != -1;) {
        int k;
        switch (option) {
        case 'l':
            if ((k = bench_find_layer(optarg)) < 0) {
                fprintf(stderr, "clcnn bench: unknown --layer \"%s\" (see clcnn bench --help)\n", optarg);
                return CLI_EXIT_USAGE;
            }
            o->layer_wanted[k] = o->any_layer = 1;
            break;
        case 'o':
            if ((k = bench_find_op(optarg)) < 0)
                return cli_unknown_name(COMMAND, "--op", optarg, bench_op_table, sizeof bench_op_table[0],
                                        bench_op_count);
            o->op_named[k] = o->any_op = 1;
            break;
        case 't':
            if (cli_parse_any_dtype(COMMAND, optarg, &b->dtype))
                return CLI_EXIT_USAGE;
            break;
        case 'r':
            if (cli_parse_long(COMMAND, "--repeat", optarg, 1, 1000000, &b->repeat))
                return CLI_EXIT_USAGE;
            break;
        case 'j': b->json = 1; break;
        case 's':
            if (bench_parse_suite(COMMAND, optarg, &o->suites))
                return CLI_EXIT_USAGE;
            break;
        case 'd': o->device = optarg; break;
        case 'n': b->reference = 0; break;
        case 'k': b->kernels = 1; break;
        case 'p': b->plan = 1; break;
        case 'b':
            if (cli_parse_long(COMMAND, "--back-to-back", optarg, 1, 1000000, &b->calls))
                return CLI_EXIT_USAGE;
            break;
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
    if (b->calls > 1)
        fprintf(b->progress, "each run %ld calls back to back, one finish; times per call\n", b->calls);
    fprintf(b->progress, "median and min of %ld runs after a warm-up; %s\n\n", b->repeat,
            b->reference ? "ref: the CPU reference (clcnn_ref_*,\ndouble, one thread) run once"
                         : "the CPU reference is not run (--no-reference)");
    print_row_header(b->progress, b->op_width);
    return CLI_EXIT_OK;
}

static int visit_row(void *arg, const bench_layer *layer, const bench_op *op, int mode)
{
    bench *b = arg;
    if (bench_one(b, layer, op, mode) != 0)
        b->failures++;
    return 0;
}

int cli_bench(int argc, char **argv)
{
    bench b = {.repeat = DEFAULT_REPEAT, .calls = 1, .reference = 1, .dtype = CLCNN_FLOAT32};
    bench_options o = {.suites = SUITE_TABLE};
    int exit_status = parse_options(argc, argv, &b, &o);
    if (exit_status >= 0)
        return exit_status;
    if (b.kernels && b.calls > 1) {
        fputs("clcnn bench: --kernels times each launch of one call: leave out --back-to-back with it\n", stderr);
        return CLI_EXIT_USAGE;
    }
    /* The ops to time: those named, else all but those timed only when named. */
    int op_wanted[BENCH_MAX_OPS];
    b.op_width = 13;
    for (int k = 0; k < bench_op_count; k++) {
        op_wanted[k] = o.any_op ? o.op_named[k] : !bench_op_table[k].only_when_named;
        int width = (int)strlen(bench_op_table[k].name);
        if (op_wanted[k] && width > b.op_width)
            b.op_width = width;
    }
    exit_status = open_bench(&b, o.device);
    if (exit_status != CLI_EXIT_OK)
        return exit_status;
    bench_visit(o.suites, o.any_layer ? o.layer_wanted : NULL, op_wanted, visit_row, &b);
    if (b.row_count == 0)
        fprintf(stderr, "clcnn bench: no rows: the --layer and --op given select nothing\n");
    /* Scratch memory (W transposed, dW/db partial sums, pooling argmax):
     * bounded by the largest layer and reused across calls. */
    fprintf(b.progress, "\nworkspace held by the context: %zu bytes\n", clcnn_context_workspace_bytes(b.ctx));
    /* Cold, compiling can take longer than the runs: say how long. */
    clcnn_build_stats builds = {0};
    clcnn_context_build_stats(b.ctx, &builds);
    fprintf(b.progress,
            "builds: %zu programs (%zu from clcnn's cache) in %.2f s (clBuildProgram), %zu first launches in %.2f s "
            "(code generation and one run each)\n",
            builds.programs, builds.cached_programs, builds.build_seconds, builds.first_launches,
            builds.first_launch_seconds);
    if (b.json)
        print_json(&b);
    exit_status = b.failures || b.row_count == 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
    free(b.rows);
    clcnn_context_destroy(b.ctx);
    return exit_status;
}
