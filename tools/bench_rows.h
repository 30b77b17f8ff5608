/* The rows of `clcnn bench` and `clcnn tune`: the layers (the design
 * notes' table and the networks suite), the ops table, each op's operands,
 * its run on the device and its CPU reference. bench times the rows,
 * tune searches their tuning keys. */
#ifndef CLCNN_TOOLS_BENCH_ROWS_H
#define CLCNN_TOOLS_BENCH_ROWS_H

#include "cli.h"

#define MAX_OPERANDS 6
/* What the CPU reference is assumed to compute per second (of a row's
 * work), for estimates of its time. */
#define BENCH_REFERENCE_FLOPS_PER_S 0.5e9

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

/* The layers, in the order bench runs them. */
extern const bench_layer bench_layer_table[];
extern const int bench_layer_count;
#define BENCH_MAX_LAYERS 128

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
    char plan[2048];     /* --plan: clcnn_context_plan after one run */
    /* What the row's first run compiled (clcnn_build_stats): programs
     * built, their build seconds and the first launches' seconds. */
    size_t programs;
    double build_s, first_launch_s;
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

/* The ops: every op of the op table (host/api/op_table.h), then the parts of conv_backward. */
extern const bench_op bench_op_table[];
extern const int bench_op_count;
#define BENCH_MAX_OPS 64

/* --suite's value (table, networks, all) into *suites: 0, or -1 after
 * printing "clcnn COMMAND: unknown --suite ...". */
int bench_parse_suite(const char *command, const char *text, int *suites);
/* The index of the op called name, or -1. */
int bench_find_op(const char *name);
/* "AxBxCxD". */
void bench_dims_text(char *out, size_t capacity, const size_t d[4]);
/* The index of the layer called name, or -1. */
int bench_find_layer(const char *name);
/* The median of values[0 .. n) (sorts them). */
double bench_median(double *values, long n);
/* Creates the row's tensors and host arrays: inputs random, labels valid
 * classes, outputs left as created. 0, or -1 with r->error. */
int bench_prepare(clcnn_context *ctx, clcnn_dtype dtype, bench_row *r);
/* Destroys the row's tensors and frees its host arrays. */
void bench_release(bench_row *r);

#endif
