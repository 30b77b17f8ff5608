/* `clcnn check`: a randomized self-test of every op on the chosen device
 * against the CPU reference. Each case draws its shapes, strides, pads,
 * modes and inputs from its own seed (the run's seed plus the case index),
 * so a failing case is replayed alone with `--seed <that seed> --cases 1`.
 * Values are judged by the scaled error of cli.h: the reference run on the
 * absolute inputs gives sum|terms| for every output value. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clcnn_reference.h"
#include "numpy_random.h"

#define COMMAND "check"
#define DEFAULT_CASES 100
/* Every LARGE_EVERY-th case is larger than one work-group of most tiles. */
#define LARGE_EVERY 8

typedef enum op_family {
    FAMILY_ZERO_PAD,
    FAMILY_CONV_FORWARD,
    FAMILY_CONV_BACKWARD,
    FAMILY_POOL_FORWARD,
    FAMILY_POOL_BACKWARD,
    FAMILY_COUNT
} op_family;

static const char *const family_names[FAMILY_COUNT] = {
    "zero_pad", "conv_forward", "conv_backward", "pool_forward", "pool_backward",
};

typedef enum input_kind { INPUT_NORMAL, INPUT_RELU, INPUT_INTEGERS, INPUT_KIND_COUNT } input_kind;
static const char *const input_kind_names[INPUT_KIND_COUNT] = {"normal", "relu", "integers"};

typedef struct check_run {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    const char *device_spec;
    int verbose;
} check_run;

/* One case's verdict: the worst scaled error over its outputs, and on
 * failure what failed. */
typedef struct outcome {
    double worst;
    char worst_output[32];
    int failed;
    int error; /* the library returned an error: message printed */
    char detail[512];
} outcome;

static void print_help(void)
{
    fputs("usage: clcnn check [--cases N] [--seed S] [--dtype f32|f64] [--op OP]...\n"
          "                   [--device SPEC] [--verbose]\n\n"
          "Runs every op on random cases (shapes, strides, pads, pool modes, and inputs\n"
          "that are normal, ReLU'd or small integers, so that max pooling sees ties)\n"
          "and compares with the CPU reference. A value fails when\n"
          "|device - reference| > 8 * eps * sum|terms| (sum|terms|: the reference on\n"
          "absolute inputs); zero_pad and max pooling forward must be exact. Prints\n"
          "one line per op with the cases run and the worst error, each failing case\n"
          "with the command that replays it, and exits 1 on any failure.\n\n"
          "  --cases N       cases per op (default 100)\n"
          "  --seed S        case i uses seed S + i (default: from the clock, printed)\n"
          "  --dtype f32|f64 default: f32, and f64 too when the device has it\n"
          "  --op OP         only these ops: zero_pad, conv_forward, conv_backward,\n"
          "                  pool_forward, pool_backward (repeatable)\n"
          "  --verbose       print every case\n",
          stdout);
    cli_print_device_help(stdout);
}

/* ---- randomness ---- */

static uint32_t case_seed32(unsigned long long seed, op_family family)
{
    /* splitmix64's finaliser: nearby seeds give unrelated streams. */
    uint64_t z = (uint64_t)seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(family + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (uint32_t)(z ^ (z >> 32));
}

static int uniform_int(numpy_random_state *rng, int lo, int hi)
{
    return lo + (int)(numpy_random_sample(rng) * (double)(hi - lo + 1));
}

static size_t pick(numpy_random_state *rng, const size_t *choices, int count)
{
    return choices[uniform_int(rng, 0, count - 1)];
}

static void fill(numpy_random_state *rng, input_kind kind, clcnn_dtype dtype, double *values,
                 size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double x = numpy_random_gauss(rng);
        if (kind == INPUT_RELU)
            x = x > 0.0 ? x : 0.0;
        else if (kind == INPUT_INTEGERS)
            x = (double)uniform_int(rng, -2, 2);
        values[i] = x;
    }
    kit_round_all(dtype, values, n);
}

static void absolute(const double *in, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fabs(in[i]);
}

/* ---- judging ---- */

static void judge(const check_run *run, outcome *result, const char *what, const size_t dims[4],
                  const double *got, const double *ref, const double *scale)
{
    size_t worst_at;
    double error =
        kit_scaled_error(got, ref, scale, kit_elements(dims), run->dtype, &worst_at);
    if (error > result->worst || result->worst_output[0] == '\0') {
        result->worst = error;
        snprintf(result->worst_output, sizeof result->worst_output, "%s", what);
    }
    if (error <= (scale ? KIT_TOLERANCE : 0.0) || result->failed)
        return;
    result->failed = 1;
    char index[64];
    cli_index_str(dims, worst_at, index, sizeof index);
    snprintf(result->detail, sizeof result->detail,
             "%s%s = %a, expected %a (%.17g vs %.17g), error %.3g eps*sum|terms| (limit %g)",
             what, index, got[worst_at], ref[worst_at], got[worst_at], ref[worst_at], error,
             scale ? KIT_TOLERANCE : 0.0);
}

/* Everything one case allocates, released in one place. */
typedef struct case_buffers {
    double *values[24];
    int value_count;
    clcnn_tensor *tensors[8];
    int tensor_count;
} case_buffers;

static double *buffer(case_buffers *b, size_t n)
{
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (p)
        b->values[b->value_count++] = p;
    return p;
}

static clcnn_tensor *device_tensor(const check_run *run, case_buffers *b, outcome *result,
                                   const size_t dims[4], const double *values)
{
    clcnn_tensor *t = NULL;
    clcnn_status status = kit_tensor_new(run->ctx, run->dtype, dims, values, &t);
    if (status != CLCNN_OK) {
        cli_report_failure(COMMAND, run->ctx, "creating a tensor", status);
        result->error = 1;
        return NULL;
    }
    b->tensors[b->tensor_count++] = t;
    return t;
}

static void release(case_buffers *b)
{
    for (int i = 0; i < b->value_count; i++)
        free(b->values[i]);
    for (int i = 0; i < b->tensor_count; i++)
        clcnn_tensor_destroy(b->tensors[i]);
}

static int op_ok(const check_run *run, outcome *result, clcnn_status status, const char *op)
{
    if (status == CLCNN_OK)
        return 1;
    cli_report_failure(COMMAND, run->ctx, op, status);
    result->error = 1;
    return 0;
}

static int read_ok(const check_run *run, outcome *result, const clcnn_tensor *t, double *out)
{
    return op_ok(run, result, kit_tensor_read(t, out), "reading a result");
}

/* ---- the cases ---- */

static const size_t channel_choices[] = {1, 2, 3, 4, 5, 7, 8, 16, 17, 32, 33};
static const size_t filter_choices[] = {1, 2, 3, 7, 8, 16, 17, 32, 33, 64};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void case_zero_pad(const check_run *run, numpy_random_state *rng, int large, outcome *r,
                          char *description, size_t capacity)
{
    int limit = large ? 40 : 12;
    size_t dims[4] = {(size_t)uniform_int(rng, 1, 3), (size_t)uniform_int(rng, 1, limit),
                      (size_t)uniform_int(rng, 1, limit), pick(rng, channel_choices,
                                                               COUNT(channel_choices))};
    int pad = uniform_int(rng, 0, 4);
    input_kind kind = (input_kind)uniform_int(rng, 0, INPUT_KIND_COUNT - 1);
    size_t out_dims[4] = {dims[0], dims[1] + 2 * (size_t)pad, dims[2] + 2 * (size_t)pad, dims[3]};
    snprintf(description, capacity, "x (%zu, %zu, %zu, %zu), pad %d, inputs %s", dims[0], dims[1],
             dims[2], dims[3], pad, input_kind_names[kind]);
    case_buffers b = {0};
    double *x = buffer(&b, kit_elements(dims)), *got = buffer(&b, kit_elements(out_dims)),
           *ref = buffer(&b, kit_elements(out_dims));
    clcnn_tensor *tx, *tout;
    if (x && got && ref) {
        fill(rng, kind, run->dtype, x, kit_elements(dims));
        if ((tx = device_tensor(run, &b, r, dims, x)) &&
            (tout = device_tensor(run, &b, r, out_dims, NULL)) &&
            op_ok(run, r, clcnn_zero_pad(run->ctx, tx, pad, tout), "zero_pad") &&
            read_ok(run, r, tout, got)) {
            clcnn_ref_zero_pad(x, dims, pad, ref);
            judge(run, r, "x_pad", out_dims, got, ref, NULL);
        }
    } else {
        r->error = 1;
    }
    release(&b);
}

/* Draws a convolution whose window fits: returns its dims. */
static void draw_conv(numpy_random_state *rng, int large, size_t a_dims[4], size_t w_dims[4],
                      int *stride, int *pad, size_t z_dims[4])
{
    for (;;) {
        int f_h = uniform_int(rng, 1, large ? 3 : 5);
        int f_w = uniform_int(rng, 0, 3) == 0 ? uniform_int(rng, 1, large ? 3 : 5) : f_h;
        *stride = uniform_int(rng, 1, 4);
        *pad = uniform_int(rng, 0, (f_h > f_w ? f_h : f_w) + 1);
        int limit = large ? 32 : 12;
        a_dims[0] = (size_t)uniform_int(rng, 1, large ? 2 : 3);
        a_dims[1] = (size_t)uniform_int(rng, large ? 16 : 1, limit);
        a_dims[2] = (size_t)uniform_int(rng, large ? 16 : 1, limit);
        a_dims[3] = pick(rng, channel_choices, COUNT(channel_choices));
        w_dims[0] = (size_t)f_h;
        w_dims[1] = (size_t)f_w;
        w_dims[2] = a_dims[3];
        w_dims[3] = pick(rng, filter_choices, COUNT(filter_choices));
        if (clcnn_ref_conv_output_dims(a_dims, w_dims, *stride, *pad, z_dims) == 0)
            return;
    }
}

static void describe_conv(char *out, size_t capacity, const size_t a[4], const size_t w[4],
                          int stride, int pad, input_kind kind)
{
    snprintf(out, capacity,
             "a_prev (%zu, %zu, %zu, %zu), w (%zu, %zu, %zu, %zu), stride %d, pad %d, a_prev %s",
             a[0], a[1], a[2], a[3], w[0], w[1], w[2], w[3], stride, pad, input_kind_names[kind]);
}

static void case_conv_forward(const check_run *run, numpy_random_state *rng, int large, outcome *r,
                              char *description, size_t capacity)
{
    size_t a_dims[4], w_dims[4], z_dims[4];
    int stride, pad;
    draw_conv(rng, large, a_dims, w_dims, &stride, &pad, z_dims);
    /* Only a_prev gets ReLU'd or integer inputs: with both factors of one
     * sign the rounding errors of a long sum stop cancelling. */
    input_kind kind = (input_kind)uniform_int(rng, 0, INPUT_KIND_COUNT - 1);
    describe_conv(description, capacity, a_dims, w_dims, stride, pad, kind);
    const size_t b_dims[4] = {1, 1, 1, w_dims[3]};
    size_t na = kit_elements(a_dims), nw = kit_elements(w_dims), nz = kit_elements(z_dims);
    case_buffers b = {0};
    double *a = buffer(&b, na), *w = buffer(&b, nw), *bias = buffer(&b, w_dims[3]),
           *a_abs = buffer(&b, na), *w_abs = buffer(&b, nw), *b_abs = buffer(&b, w_dims[3]),
           *got = buffer(&b, nz), *ref = buffer(&b, nz), *scale = buffer(&b, nz);
    if (!a || !w || !bias || !a_abs || !w_abs || !b_abs || !got || !ref || !scale) {
        r->error = 1;
        release(&b);
        return;
    }
    fill(rng, kind, run->dtype, a, na);
    fill(rng, INPUT_NORMAL, run->dtype, w, nw);
    fill(rng, INPUT_NORMAL, run->dtype, bias, w_dims[3]);
    clcnn_tensor *ta, *tw, *tb, *tz;
    if ((ta = device_tensor(run, &b, r, a_dims, a)) &&
        (tw = device_tensor(run, &b, r, w_dims, w)) &&
        (tb = device_tensor(run, &b, r, b_dims, bias)) &&
        (tz = device_tensor(run, &b, r, z_dims, NULL)) &&
        op_ok(run, r, clcnn_conv_forward(run->ctx, ta, tw, tb, stride, pad, tz), "conv_forward") &&
        read_ok(run, r, tz, got)) {
        clcnn_ref_conv_forward(a, a_dims, w, w_dims, bias, stride, pad, ref);
        absolute(a, a_abs, na);
        absolute(w, w_abs, nw);
        absolute(bias, b_abs, w_dims[3]);
        clcnn_ref_conv_forward(a_abs, a_dims, w_abs, w_dims, b_abs, stride, pad, scale);
        judge(run, r, "Z", z_dims, got, ref, scale);
    }
    release(&b);
}

static void case_conv_backward(const check_run *run, numpy_random_state *rng, int large,
                               outcome *r, char *description, size_t capacity)
{
    size_t a_dims[4], w_dims[4], z_dims[4];
    int stride, pad;
    draw_conv(rng, large, a_dims, w_dims, &stride, &pad, z_dims);
    input_kind kind = (input_kind)uniform_int(rng, 0, INPUT_KIND_COUNT - 1);
    /* Which gradients to ask for: a non-empty subset, all three most often. */
    int wanted = uniform_int(rng, 0, 1) ? 7 : uniform_int(rng, 1, 7);
    describe_conv(description, capacity, a_dims, w_dims, stride, pad, kind);
    size_t used = strlen(description);
    snprintf(description + used, capacity - used, ", computing%s%s%s", wanted & 1 ? " dA" : "",
             wanted & 2 ? " dW" : "", wanted & 4 ? " db" : "");
    const size_t b_dims[4] = {1, 1, 1, w_dims[3]};
    size_t na = kit_elements(a_dims), nw = kit_elements(w_dims), nz = kit_elements(z_dims);
    size_t nb = w_dims[3];
    case_buffers b = {0};
    double *a = buffer(&b, na), *w = buffer(&b, nw), *dz = buffer(&b, nz);
    double *a_abs = buffer(&b, na), *w_abs = buffer(&b, nw), *dz_abs = buffer(&b, nz);
    double *got_da = buffer(&b, na), *got_dw = buffer(&b, nw), *got_db = buffer(&b, nb);
    double *ref_da = buffer(&b, na), *ref_dw = buffer(&b, nw), *ref_db = buffer(&b, nb);
    double *scale_da = buffer(&b, na), *scale_dw = buffer(&b, nw), *scale_db = buffer(&b, nb);
    if (!a || !w || !dz || !a_abs || !w_abs || !dz_abs || !got_da || !got_dw || !got_db ||
        !ref_da || !ref_dw || !ref_db || !scale_da || !scale_dw || !scale_db) {
        r->error = 1;
        release(&b);
        return;
    }
    fill(rng, kind, run->dtype, a, na);
    fill(rng, INPUT_NORMAL, run->dtype, w, nw);
    fill(rng, INPUT_NORMAL, run->dtype, dz, nz);
    clcnn_tensor *ta, *tw, *tdz, *tda = NULL, *tdw = NULL, *tdb = NULL;
    int made = (ta = device_tensor(run, &b, r, a_dims, a)) &&
               (tw = device_tensor(run, &b, r, w_dims, w)) &&
               (tdz = device_tensor(run, &b, r, z_dims, dz)) &&
               (!(wanted & 1) || (tda = device_tensor(run, &b, r, a_dims, NULL))) &&
               (!(wanted & 2) || (tdw = device_tensor(run, &b, r, w_dims, NULL))) &&
               (!(wanted & 4) || (tdb = device_tensor(run, &b, r, b_dims, NULL)));
    if (made &&
        op_ok(run, r, clcnn_conv_backward(run->ctx, tdz, ta, tw, stride, pad, tda, tdw, tdb),
              "conv_backward") &&
        (!tda || read_ok(run, r, tda, got_da)) && (!tdw || read_ok(run, r, tdw, got_dw)) &&
        (!tdb || read_ok(run, r, tdb, got_db))) {
        clcnn_ref_conv_backward(dz, a, a_dims, w, w_dims, stride, pad, ref_da, ref_dw, ref_db);
        absolute(a, a_abs, na);
        absolute(w, w_abs, nw);
        absolute(dz, dz_abs, nz);
        clcnn_ref_conv_backward(dz_abs, a_abs, a_dims, w_abs, w_dims, stride, pad, scale_da,
                                scale_dw, scale_db);
        if (tda)
            judge(run, r, "dA", a_dims, got_da, ref_da, scale_da);
        if (tdw)
            judge(run, r, "dW", w_dims, got_dw, ref_dw, scale_dw);
        if (tdb)
            judge(run, r, "db", b_dims, got_db, ref_db, scale_db);
    }
    release(&b);
}

static void draw_pool(numpy_random_state *rng, int large, size_t a_dims[4], int *f, int *stride,
                      size_t out_dims[4])
{
    *f = uniform_int(rng, 1, 5);
    *stride = uniform_int(rng, 1, 4);
    int limit = large ? 40 : 14;
    a_dims[0] = (size_t)uniform_int(rng, 1, 3);
    a_dims[1] = (size_t)uniform_int(rng, *f, limit > *f ? limit : *f);
    a_dims[2] = (size_t)uniform_int(rng, *f, limit > *f ? limit : *f);
    a_dims[3] = pick(rng, filter_choices, COUNT(filter_choices));
    clcnn_ref_pool_output_dims(a_dims, *f, *stride, out_dims);
}

static void case_pool(const check_run *run, numpy_random_state *rng, int large, int backward,
                      outcome *r, char *description, size_t capacity)
{
    size_t a_dims[4], out_dims[4];
    int f, stride;
    draw_pool(rng, large, a_dims, &f, &stride, out_dims);
    input_kind kind = (input_kind)uniform_int(rng, 0, INPUT_KIND_COUNT - 1);
    snprintf(description, capacity, "a_prev (%zu, %zu, %zu, %zu), f %d, stride %d, a_prev %s",
             a_dims[0], a_dims[1], a_dims[2], a_dims[3], f, stride, input_kind_names[kind]);
    size_t na = kit_elements(a_dims), nout = kit_elements(out_dims);
    size_t n_result = backward ? na : nout;
    const size_t *result_dims = backward ? a_dims : out_dims;
    case_buffers b = {0};
    double *a = buffer(&b, na), *a_abs = buffer(&b, na), *da = buffer(&b, nout),
           *da_abs = buffer(&b, nout), *got = buffer(&b, n_result), *ref = buffer(&b, n_result),
           *scale = buffer(&b, n_result);
    if (!a || !a_abs || !da || !da_abs || !got || !ref || !scale) {
        r->error = 1;
        release(&b);
        return;
    }
    fill(rng, kind, run->dtype, a, na);
    fill(rng, INPUT_NORMAL, run->dtype, da, nout);
    absolute(a, a_abs, na);
    absolute(da, da_abs, nout);
    clcnn_tensor *ta, *tda = NULL, *tout;
    if (!(ta = device_tensor(run, &b, r, a_dims, a)) ||
        (backward && !(tda = device_tensor(run, &b, r, out_dims, da))) ||
        !(tout = device_tensor(run, &b, r, result_dims, NULL))) {
        release(&b);
        return;
    }
    const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};
    for (int k = 0; k < 2 && !r->error; k++) {
        clcnn_status status =
            backward ? clcnn_pool_backward(run->ctx, tda, ta, f, stride, modes[k], tout)
                     : clcnn_pool_forward(run->ctx, ta, f, stride, modes[k], tout);
        if (!op_ok(run, r, status, backward ? "pool_backward" : "pool_forward") ||
            !read_ok(run, r, tout, got))
            break;
        if (backward) {
            clcnn_ref_pool_backward(da, a, a_dims, f, stride, modes[k], ref);
            clcnn_ref_pool_backward(da_abs, a, a_dims, f, stride, modes[k], scale);
            judge(run, r, k ? "dA_prev(average)" : "dA_prev(max)", a_dims, got, ref, scale);
        } else {
            clcnn_ref_pool_forward(a, a_dims, f, stride, modes[k], ref);
            clcnn_ref_pool_forward(a_abs, a_dims, f, stride, modes[k], scale);
            judge(run, r, k ? "A(average)" : "A(max)", out_dims, got, ref,
                  modes[k] == CLCNN_POOL_MAX ? NULL : scale);
        }
    }
    release(&b);
}

static void run_case(const check_run *run, op_family family, unsigned long long seed, int large,
                     outcome *r, char *description, size_t capacity)
{
    numpy_random_state rng;
    numpy_random_seed(&rng, case_seed32(seed, family));
    switch (family) {
    case FAMILY_ZERO_PAD:
        case_zero_pad(run, &rng, large, r, description, capacity);
        break;
    case FAMILY_CONV_FORWARD:
        case_conv_forward(run, &rng, large, r, description, capacity);
        break;
    case FAMILY_CONV_BACKWARD:
        case_conv_backward(run, &rng, large, r, description, capacity);
        break;
    case FAMILY_POOL_FORWARD:
        case_pool(run, &rng, large, 0, r, description, capacity);
        break;
    default:
        case_pool(run, &rng, large, 1, r, description, capacity);
        break;
    }
}

/* Runs the cases of one family; prints its line; returns its failures. */
static long run_family(const check_run *run, op_family family, unsigned long long seed, long cases)
{
    const long max_reported = 5;
    long failures = 0;
    double worst = 0.0;
    char worst_output[32] = "";
    double started = cli_now();
    for (long i = 0; i < cases; i++) {
        outcome r = {0};
        char description[512] = "";
        unsigned long long case_seed = seed + (unsigned long long)i;
        /* Case i's size class comes from its seed, so a replay matches. */
        int large = case_seed % LARGE_EVERY == LARGE_EVERY - 1;
        run_case(run, family, case_seed, large, &r, description, sizeof description);
        if (r.worst > worst || worst_output[0] == '\0') {
            worst = r.worst;
            snprintf(worst_output, sizeof worst_output, "%s", r.worst_output);
        }
        if (run->verbose)
            printf("  %-13s case %ld (seed %llu): %s: worst %.3g (%s)%s\n", family_names[family], i,
                   case_seed, description, r.worst, r.worst_output,
                   r.failed || r.error ? " FAILED" : "");
        if (!r.failed && !r.error)
            continue;
        if (++failures > max_reported)
            continue;
        printf("FAIL %s case %ld (seed %llu): %s\n", family_names[family], i, case_seed,
               description);
        if (r.failed)
            printf("     %s\n", r.detail);
        printf("     replay: clcnn check --op %s --seed %llu --cases 1 --dtype %s%s%s\n",
               family_names[family], case_seed, run->dtype == CLCNN_FLOAT64 ? "f64" : "f32",
               run->device_spec ? " --device " : "", run->device_spec ? run->device_spec : "");
    }
    char worst_text[64];
    if (worst == 0.0)
        snprintf(worst_text, sizeof worst_text, "0 (exact)");
    else if (isinf(worst))
        snprintf(worst_text, sizeof worst_text, "inf (%s)", worst_output);
    else
        snprintf(worst_text, sizeof worst_text, "%.3g (%s)", worst, worst_output);
    printf("%-14s %7s %6ld  %-26s %6.1f s  %s\n", family_names[family], kit_dtype_name(run->dtype),
           cases, worst_text, cli_now() - started, failures ? "FAIL" : "ok");
    fflush(stdout);
    return failures;
}

int cli_check(int argc, char **argv)
{
    const char *device = NULL, *text;
    long cases = DEFAULT_CASES;
    unsigned long long seed = 0;
    int have_seed = 0, have_dtype = 0, verbose = 0, chosen_families = 0;
    int family_wanted[FAMILY_COUNT] = {0};
    clcnn_dtype dtype = CLCNN_FLOAT32;
    for (int i = 1; i < argc; i++) {
        int matched;
        if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--device", &device)) != 0) {
            if (matched < 0)
                return CLI_EXIT_USAGE;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--cases", &text)) != 0) {
            if (matched < 0 || cli_parse_long(COMMAND, "--cases", text, 1, 100000000, &cases))
                return CLI_EXIT_USAGE;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--seed", &text)) != 0) {
            if (matched < 0 || cli_parse_u64(COMMAND, "--seed", text, &seed))
                return CLI_EXIT_USAGE;
            have_seed = 1;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--dtype", &text)) != 0) {
            if (matched < 0 || cli_parse_dtype(COMMAND, text, &dtype))
                return CLI_EXIT_USAGE;
            have_dtype = 1;
        } else if ((matched = cli_option_value(COMMAND, argc, argv, &i, "--op", &text)) != 0) {
            if (matched < 0)
                return CLI_EXIT_USAGE;
            int found = 0;
            for (int f = 0; f < FAMILY_COUNT; f++)
                if (strcmp(text, family_names[f]) == 0)
                    found = family_wanted[f] = 1;
            if (!found) {
                fprintf(stderr, "clcnn check: unknown --op \"%s\" (zero_pad, conv_forward, "
                                "conv_backward, pool_forward, pool_backward)\n", text);
                return CLI_EXIT_USAGE;
            }
            chosen_families = 1;
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (cli_is_help(argv[i])) {
            print_help();
            return CLI_EXIT_OK;
        } else {
            return cli_unknown_argument(COMMAND, argv[i]);
        }
    }
    if (!have_seed)
        seed = ((unsigned long long)time(NULL) * 1000003ULL) ^ (unsigned long long)getpid();
    if (!chosen_families)
        for (int f = 0; f < FAMILY_COUNT; f++)
            family_wanted[f] = 1;

    check_run run = {NULL, dtype, device, verbose};
    int status = cli_open_context(COMMAND, device, &run.ctx);
    if (status != CLI_EXIT_OK)
        return status;
    clcnn_dtype dtypes[2];
    int dtype_count = 0;
    if (have_dtype) {
        if (!clcnn_context_supports_dtype(run.ctx, dtype)) {
            fprintf(stderr, "clcnn check: %s has no %s (cl_khr_fp64)\n",
                    clcnn_context_device_name(run.ctx), kit_dtype_name(dtype));
            clcnn_context_destroy(run.ctx);
            return CLI_EXIT_FAILURE;
        }
        dtypes[dtype_count++] = dtype;
    } else {
        dtypes[dtype_count++] = CLCNN_FLOAT32;
        if (clcnn_context_supports_dtype(run.ctx, CLCNN_FLOAT64))
            dtypes[dtype_count++] = CLCNN_FLOAT64;
    }

    printf("clcnn %s check on %s: %ld random cases per op, seed %llu\n", clcnn_version(),
           clcnn_context_device_name(run.ctx), cases, seed);
    printf("A value fails when |device - reference| > %g eps*sum|terms| (zero_pad and max\n"
           "pooling forward: when it differs at all).\n\n",
           KIT_TOLERANCE);
    printf("%-14s %7s %6s  %-26s %8s  %s\n", "op", "dtype", "cases", "worst error (output)", "time",
           "result");
    fflush(stdout);
    long failures = 0, total = 0;
    for (int k = 0; k < dtype_count; k++) {
        run.dtype = dtypes[k];
        for (int f = 0; f < FAMILY_COUNT; f++) {
            if (!family_wanted[f])
                continue;
            failures += run_family(&run, (op_family)f, seed, cases);
            total += cases;
        }
    }
    clcnn_context_destroy(run.ctx);
    if (failures) {
        printf("\ncheck: %ld of %ld cases FAILED (seed %llu)\n", failures, total, seed);
        return CLI_EXIT_FAILURE;
    }
    printf("\ncheck: all %ld cases passed (seed %llu)\n", total, seed);
    return CLI_EXIT_OK;
}
