/* `clcnn tune`: searches the tuning keys of each layer and op of bench's
 * rows (bench_rows.h) on the device, and writes the winners into the
 * device's tuning database (host/runtime/tuning_db.h; docs/tuning.md).
 * One context tries every candidate (clcnn_context_set_tuning sets every
 * key of the table each time, so nothing of an earlier layer leaks in).
 * A layer's search starts where the library would plan it (the column,
 * the database's class row, its exact row, CLCNN_TUNE's keys) and is a
 * coordinate descent over the keys families[] names for the op: every
 * candidate is checked against the double reference (KIT_TOLERANCE *
 * eps * sum|terms|) and for the same bits on two runs before it is
 * timed, and replaces the incumbent only when it wins by the rule of
 * tune_rule.h in two rounds of alternated samples. Values the layers of
 * one class agree on become its class row (tune_class_values). */
#define _POSIX_C_SOURCE 200809L

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rows.h"
#include "tune_rule.h"
#include "runtime/tuning_db.h"
#include "runtime/tuning_spec.h"

#define COMMAND "tune"
#define DEFAULT_BUDGET_MINUTES 10
/* Timed samples of each side of a comparison, alternated; a sample repeats
 * the op until it lasts SAMPLE_MIN_S. */
#define SAMPLES 7
_Static_assert(SAMPLES <= TUNE_MAX_SAMPLES, "tune_judge takes at most TUNE_MAX_SAMPLES");
/* A candidate all of whose first EARLY_SAMPLES samples are slower than
 * all of the incumbent's is not timed further. */
#define EARLY_SAMPLES 3
#define SAMPLE_MIN_S 10e-3
#define SAMPLE_MAX_REPEAT 1000
/* Coordinate descent stops after this many passes over the keys, or
 * after a pass that changed nothing. */
#define MAX_PASSES 2
/* COUNT keys also try the current value +-1 when their range is this narrow. */
#define NARROW_RANGE 64
#define MAX_CANDIDATES 32
#define SPEC_CAPACITY 4096

/* ---- the keys: tuning_table.h's, values by index (tuning_spec.h) ---- */

#define keys clcnn__tuning_keys
#define KEY_COUNT CLCNN_TUNING_KEY_COUNT

/* The keys each op searches, in the order tried: kernel choices first,
 * then the geometry, then the thresholds. classes: "" every layer, "C"
 * only layers of class C, "!C" all others (clcnn__tuning_conv_class).
 * Names missing from tuning_table.h are passed over. */
typedef struct tune_family {
    const char *op, *classes, *keys;
} tune_family;

static const tune_family families[] = {
    {"conv_forward", "depthwise",
     "depthwise_tile,depthwise_vector,conv_local,"
     "depthwise_whole_pixels,depthwise_min_items,depthwise_window_per_tile,depthwise_window_extra,"
     "depthwise_const_shape"},
    {"conv_forward", "!depthwise",
     "use_local_gemm_forward,gemm_blocking,conv_forward_tile,conv_vector,conv_local,"
     "forward_tile_overhead,weights_local_in,weights_local_out,gemm_narrow_columns,gemm_medium_columns,"
     "conv_min_groups"},
    {"conv_backward", "depthwise",
     "depthwise_data,"
     "depthwise_tile,depthwise_vector,conv_tile_pixels,conv_vector,conv_local,sum_local,filter_bias_chunks,"
     "depthwise_whole_pixels,depthwise_min_items,depthwise_filter_chunk_pixels,depthwise_filter_max_chunks,"
     "depthwise_filter_tap_tiles,depthwise_const_shape"},
    {"conv_backward", "!depthwise",
     "conv_data,conv_filter,use_local_gemm_data,use_local_gemm_filter,gemm_blocking,filter_by_rows,use_filter_blocked,"
     "use_filter_block_rows,filter_block_rows_grouped,"
     "conv_tile_pixels,conv_vector,conv_local,filter_tile_rows,filter_bias_chunks,sum_local,"
     "data_as_forward_min_rows,data_matrix_min_channels,data_matrix_channels,data_dot_max_channels,"
     "data_dot_min_out_channels,data_dot_lanes,narrow_vector_min,filter_rows_max_channels,filter_rows_len_tiles,"
     "filter_block_pixels,filter_block_group,filter_blocked_min_groups,conv_min_groups,filter_chunk_min_pixels,"
     "filter_chunk_reads,bias_chunk_min_pixels,gemm_split_blocks,gemm_split_min_pixels,gemm_split_most,"
     "gemm_split_align,data_dot_const_channels,filter_rows_const_row"},
    {"pool_forward", "",
     "pool_vector,pool_tile,pool_local,"
     "pool_whole_pixels,pool_row_groups,pool_global_runs,pool_global_min_items,pool_channel_block,pool_const_window,"
     "use_stream_stores,stream_min_kib"},
    {"pool_backward", "",
     "pool_backward,pool_vector,pool_tile,pool_local,"
     "pool_whole_pixels,pool_row_groups,pool_global_runs,pool_global_min_items,pool_channel_block,pool_const_window,"
     "pool_recompute_max_elements,pool_recompute_max_loads,use_stream_stores,stream_min_kib"},
};
#define FAMILY_COUNT ((int)(sizeof families / sizeof families[0]))

/* Sets values[] from a spec in CLCNN_TUNE's syntax; set[] (may be NULL)
 * marks the keys it names. Items the library refuses (table=, unknown
 * keys, values out of range) are passed over: the context notes them. */
static void apply_spec(const char *spec, int values[], unsigned char set[])
{
    clcnn_tuning_overrides o;
    char why[256];
    clcnn__tuning_no_overrides(&o);
    clcnn__tuning_parse(spec, 0, 0, &o, why, sizeof why, NULL, 0);
    for (int k = 0; k < KEY_COUNT; k++)
        if (o.set[k]) {
            values[k] = o.value[k];
            if (set)
                set[k] = 1;
        }
}

/* The keys the op searches on this layer, in order: *count of them. */
static int searched_keys(const char *op, const char *layer_class, int order[KEY_COUNT])
{
    int count = 0, taken[KEY_COUNT] = {0};
    for (int f = 0; f < FAMILY_COUNT; f++) {
        const char *classes = families[f].classes;
        const int negate = classes[0] == '!';
        if (strcmp(families[f].op, op) != 0 ||
            (classes[0] && (strcmp(classes + negate, layer_class ? layer_class : "") == 0) == negate))
            continue;
        for (const char *at = families[f].keys; at && *at;) {
            const char *end = strchr(at, ',');
            const int k = clcnn__tuning_key_index(at, end ? (size_t)(end - at) : strlen(at));
            if (k >= 0 && !taken[k])
                order[count++] = k, taken[k] = 1;
            at = end ? end + 1 : NULL;
        }
    }
    return count;
}

/* The values key k tries from v (v itself not among them). */
static int candidates(int k, int v, size_t max_group, int out[MAX_CANDIDATES])
{
    const clcnn_tuning_key *key = &keys[k];
    int n = 0, c[MAX_CANDIDATES + 4];
    if (key->kind == CLCNN_TUNING_KIND_COUNT) {
        const int narrow = key->hi - key->lo <= NARROW_RANGE;
        c[n++] = v / 2, c[n++] = v ? 2 * v : 1;
        if (narrow)
            c[n++] = v - 1, c[n++] = v + 1;
    } else if (key->kind == CLCNN_TUNING_KIND_FLAG || key->kind == CLCNN_TUNING_KIND_CHOICE) {
        for (int x = key->lo; x <= key->hi && n < MAX_CANDIDATES; x++)
            c[n++] = x;
    } else {
        const int cap = key->kind == CLCNN_TUNING_KIND_GROUP ? 256 : key->hi;
        for (int x = 1; x <= cap && n < MAX_CANDIDATES; x *= 2)
            c[n++] = x;
        if (key->kind == CLCNN_TUNING_KIND_GROUP && max_group <= (size_t)key->hi)
            c[n++] = (int)max_group;
    }
    int count = 0;
    for (int i = 0; i < n; i++) {
        int dup = c[i] == v || c[i] < key->lo || c[i] > key->hi ||
                  (key->kind == CLCNN_TUNING_KIND_GROUP && (size_t)c[i] > max_group);
        for (int j = 0; j < count && !dup; j++)
            dup = out[j] == c[i];
        if (!dup && count < MAX_CANDIDATES)
            out[count++] = c[i];
    }
    return count;
}

/* ---- the tuner ---- */

typedef struct tuner {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    size_t max_group;                 /* the device's work-group limit */
    int base[KEY_COUNT];              /* the context's config: the column and CLCNN_TUNE */
    unsigned char env_set[KEY_COUNT]; /* the keys CLCNN_TUNE sets: the library takes them over any row */
    clcnn_tuning_db db;               /* the rows so far */
    char dir[1024], path[1600];       /* the database's directory and file */
    double start_s, deadline_s;       /* the budget */
    int force, dry_run;
    int rows_left;                /* rows still to search, for each one's share of the budget */
    int found, written, failures; /* rows with a change; written; failed */
    int dirty;                    /* the rows changed since the file was written */
    struct tune_member *members;  /* the layers searched so far, for the class rows */
    int member_count, member_capacity;
    tune_loss *losses; /* values that lost clearly on them (member: index in members) */
    int loss_count, loss_capacity;
} tuner;

/* A layer searched in this run: its keys, its tuned values (the column,
 * its class row and exact row when searched, and what won), and the keys
 * all of whose candidates it tried. */
typedef struct tune_member {
    char exact[CLCNN_TUNING_KEY_CAPACITY], class_key[128];
    int values[KEY_COUNT];
    unsigned char searched[KEY_COUNT];
} tune_member;

/* One layer and op being tuned: bench's row, the reference's outputs and
 * their terms. */
typedef struct tune_item {
    bench_row row;
    clcnn_dtype dtype;
    clcnn_tuning_layer_key key;
    double *terms[MAX_OPERANDS]; /* outputs only */
    double *got;                 /* the largest output's size */
    double run_s;                /* one run's time, for the samples' repeat */
    double deadline_s;           /* this row's share of the budget */
} tune_item;

static volatile sig_atomic_t interrupted;

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

/* Catches ^C from now on. Called before each candidate: the OpenCL
 * compiler (LLVM) installs handlers of its own when it builds a kernel. */
static void watch_interrupt(void)
{
    struct sigaction action = {.sa_handler = on_interrupt};
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
}

static int is_output(const bench_row *r, int i)
{
    return r->arg[i].fill == FILL_NONE;
}

/* The outputs' sum|terms| (kit): 0, or -1 when out of memory. */
static int compute_terms(tune_item *t)
{
    bench_row *r = &t->row;
    double **tm = t->terms;
    const char *op = r->op->name;
    if (strcmp(op, "conv_forward") == 0)
        return kit_conv_forward_terms(r->arg[0].host, DIMS(r, 0), r->arg[1].host, DIMS(r, 1), r->arg[2].host,
                                      &r->layer->conv, tm[3]);
    if (strcmp(op, "conv_backward") == 0)
        return kit_conv_backward_terms(r->arg[0].host, r->arg[1].host, DIMS(r, 1), r->arg[2].host, DIMS(r, 2),
                                       &r->layer->conv, tm[3], tm[4], tm[5]);
    if (strcmp(op, "pool_forward") == 0)
        return kit_pool_forward_terms(r->arg[0].host, DIMS(r, 0), &r->layer->pool, r->pool_mode, tm[1]);
    return kit_pool_backward_terms(r->arg[0].host, r->arg[1].host, DIMS(r, 1), &r->layer->pool, r->pool_mode, tm[2]);
}

static void item_release(tune_item *t)
{
    for (int i = 0; i < MAX_OPERANDS; i++)
        free(t->terms[i]);
    free(t->got);
    bench_release(&t->row);
}

/* The row's tensors, its reference and the terms: 0, or -1 with row.error. */
static int item_prepare(tuner *tu, tune_item *t)
{
    bench_row *r = &t->row;
    if (bench_prepare(tu->ctx, tu->dtype, r) != 0)
        return -1;
    size_t largest = 1;
    for (int i = 0; i < r->count; i++) {
        if (!is_output(r, i))
            continue;
        const size_t n = kit_elements(DIMS(r, i));
        largest = n > largest ? n : largest;
        if (!(t->terms[i] = malloc((n ? n : 1) * sizeof *t->terms[i]))) {
            snprintf(r->error, sizeof r->error, "out of host memory");
            return -1;
        }
    }
    t->got = malloc(largest * sizeof *t->got);
    if (!t->got || compute_terms(t) != 0) {
        snprintf(r->error, sizeof r->error, "out of host memory");
        return -1;
    }
    r->op->reference(r);
    return 0;
}

/* Runs the op under values: 0, or -1 with why. */
static int run_with(tuner *tu, tune_item *t, const int values[], char *why, size_t capacity)
{
    char spec[SPEC_CAPACITY];
    clcnn__tuning_spec_of(values, NULL, spec, sizeof spec);
    clcnn_status status = clcnn_context_set_tuning(tu->ctx, spec);
    if (status == CLCNN_OK)
        status = t->row.op->run(tu->ctx, &t->row);
    if (status == CLCNN_OK)
        status = clcnn_context_finish(tu->ctx);
    if (status != CLCNN_OK) {
        snprintf(why, capacity, "%s", clcnn_context_last_error(tu->ctx));
        return -1;
    }
    return 0;
}

/* Fills the outputs with NaN, so that an element a plan leaves unwritten
 * shows: 0, or -1 with why. */
static int poison_outputs(tune_item *t, char *why, size_t capacity)
{
    const bench_row *r = &t->row;
    for (int i = 0; i < r->count; i++) {
        if (!is_output(r, i))
            continue;
        const size_t n = kit_elements(DIMS(r, i));
        for (size_t e = 0; e < n; e++)
            t->got[e] = NAN;
        if (kit_tensor_write(TENSOR(r, i), t->got) != CLCNN_OK) {
            snprintf(why, capacity, "writing an output failed");
            return -1;
        }
    }
    return 0;
}

/* The outputs against the reference: 0, or -1 with why. */
static int compare_outputs(tune_item *t, char *why, size_t capacity)
{
    bench_row *r = &t->row;
    for (int i = 0; i < r->count; i++) {
        if (!is_output(r, i))
            continue;
        const size_t n = kit_elements(DIMS(r, i));
        size_t worst = 0;
        if (kit_tensor_read(TENSOR(r, i), t->got) != CLCNN_OK) {
            snprintf(why, capacity, "reading output %d failed", i);
            return -1;
        }
        const double error = kit_scaled_error(t->got, r->arg[i].host, t->terms[i], n, t->dtype, &worst);
        if (!(error <= KIT_TOLERANCE)) {
            char text[200];
            snprintf(why, capacity, "output %d at %zu is off by %.3g eps*sum|terms| (bound %g): %s", i, worst, error,
                     KIT_TOLERANCE, kit_mismatch_text(text, sizeof text, t->got[worst], r->arg[i].host[worst]));
            return -1;
        }
    }
    return 0;
}

/* Whether the op under values matches the reference and gives the same
 * bits on a second run: 0, or -1 with why. Sets t->run_s. */
static int check_candidate(tuner *tu, tune_item *t, const int values[], char *why, size_t capacity)
{
    const bench_row *r = &t->row;
    void *first[MAX_OPERANDS] = {NULL};
    size_t bytes[MAX_OPERANDS] = {0};
    int result = -1;
    if (poison_outputs(t, why, capacity) || run_with(tu, t, values, why, capacity) || compare_outputs(t, why, capacity))
        return -1;
    for (int i = 0; i < r->count; i++)
        if (is_output(r, i) && kit_tensor_read_raw(TENSOR(r, i), &first[i], &bytes[i]) != CLCNN_OK) {
            snprintf(why, capacity, "reading output %d failed", i);
            goto done;
        }
    const double start = cli_now();
    if (poison_outputs(t, why, capacity) || run_with(tu, t, values, why, capacity))
        goto done;
    t->run_s = cli_now() - start;
    for (int i = 0; i < r->count; i++) {
        int equal = 0;
        if (is_output(r, i) &&
            (kit_tensor_equals_raw(TENSOR(r, i), first[i], bytes[i], &equal) != CLCNN_OK || !equal)) {
            snprintf(why, capacity, "output %d is not the same bits on two runs", i);
            goto done;
        }
    }
    result = 0;
done:
    for (int i = 0; i < MAX_OPERANDS; i++)
        free(first[i]);
    return result;
}

/* One sample: the op under values, repeated `repeat` times; ms per run,
 * or NAN when a run fails. */
static double sample_ms(tuner *tu, tune_item *t, const int values[], int repeat)
{
    char spec[SPEC_CAPACITY];
    clcnn__tuning_spec_of(values, NULL, spec, sizeof spec);
    if (clcnn_context_set_tuning(tu->ctx, spec) != CLCNN_OK)
        return NAN;
    const double start = cli_now();
    for (int i = 0; i < repeat; i++)
        if (t->row.op->run(tu->ctx, &t->row) != CLCNN_OK)
            return NAN;
    if (clcnn_context_finish(tu->ctx) != CLCNN_OK)
        return NAN;
    return 1e3 * (cli_now() - start) / repeat;
}

/* Whether every one of b's first n samples is slower than all of a's: b
 * cannot win, and a comparison may stop there. */
static int clearly_slower(const double *a, const double *b, int n)
{
    double a_max = a[0], b_min = b[0];
    for (int i = 1; i < n; i++) {
        a_max = fmax(a_max, a[i]);
        b_min = fmin(b_min, b[i]);
    }
    return b_min > a_max;
}

/* The most configurations one round alternates. */
#define ROUND_MAX 3

/* One round of alternated samples of m configurations (m <= ROUND_MAX;
 * in order, then in reverse, ...), SAMPLES each, or EARLY_SAMPLES when
 * early, m is 2 and the second is clearly slower by then. The count of
 * samples taken, or -1 if a run failed. */
static int sample_round(tuner *tu, tune_item *t, const int *const configs[], int m, int early,
                        double samples[ROUND_MAX][SAMPLES])
{
    double repeat = t->run_s > 0 ? ceil(SAMPLE_MIN_S / t->run_s) : 1;
    const int n = repeat > SAMPLE_MAX_REPEAT ? SAMPLE_MAX_REPEAT : (int)repeat;
    int taken = 0;
    while (taken < SAMPLES &&
           !(early && m == 2 && taken == EARLY_SAMPLES && clearly_slower(samples[0], samples[1], taken))) {
        const int i = taken++;
        for (int j = 0; j < m; j++) {
            const int c = i % 2 == 0 ? j : m - 1 - j;
            samples[c][i] = sample_ms(tu, t, configs[c], n);
            if (isnan(samples[c][i]))
                return -1;
        }
    }
    return taken;
}

/* The median of samples[0 .. n) (a copy is sorted). */
static double median_ms(const double *samples, int n)
{
    double copy[SAMPLES];
    memcpy(copy, samples, sizeof copy[0] * (size_t)n);
    return bench_median(copy, n);
}

/* Times b against a in a round of their own: TUNE_WIN when b is faster
 * beyond the spread (tune_judge), medians in *a_ms and *b_ms; -1 if a run
 * failed. */
static int judge_pair(tuner *tu, tune_item *t, const int a[], const int b[], double *a_ms, double *b_ms)
{
    const int *const configs[2] = {a, b};
    double s[ROUND_MAX][SAMPLES];
    const int n = sample_round(tu, t, configs, 2, 0, s);
    if (n < 0)
        return -1;
    *a_ms = median_ms(s[0], n);
    *b_ms = median_ms(s[1], n);
    return (int)tune_judge(s[0], s[1], n, TUNE_FLOOR);
}

static int same_values(const int a[], const int b[])
{
    return memcmp(a, b, sizeof a[0] * KEY_COUNT) == 0;
}

/* A tentative winner's second round: candidate against the incumbent and,
 * where the incumbent is no longer the untuned plan, against that too, all
 * three alternated. Whether it wins both by the rule again. */
static int confirmed(tuner *tu, tune_item *t, const int untuned[], const int incumbent[], const int candidate[])
{
    const int three = !same_values(untuned, incumbent);
    const int *const configs[ROUND_MAX] = {incumbent, candidate, untuned};
    double s[ROUND_MAX][SAMPLES];
    const int n = sample_round(tu, t, configs, three ? 3 : 2, 0, s);
    return n > 0 && tune_judge(s[0], s[1], n, TUNE_FLOOR) == TUNE_WIN &&
           (!three || tune_judge(s[2], s[1], n, TUNE_FLOOR) == TUNE_WIN);
}

/* Notes that value v of key k lost clearly (or failed its check) on the
 * layer being searched: it is then no class value of the layer's class. */
static void note_loss(tuner *tu, int k, int v)
{
    if (tu->loss_count == tu->loss_capacity) {
        const int capacity = tu->loss_capacity ? 2 * tu->loss_capacity : 256;
        tune_loss *grown = realloc(tu->losses, (size_t)capacity * sizeof *grown);
        if (!grown)
            return; /* the loss is not noted: the class row may take v */
        tu->losses = grown, tu->loss_capacity = capacity;
    }
    tu->losses[tu->loss_count++] = (tune_loss){tu->member_count, k, v};
}

static void print_time_left(const tuner *tu, FILE *out)
{
    const double left = fmax(0.0, tu->deadline_s - cli_now());
    fprintf(out, "%dm%02ds left", (int)(left / 60), (int)fmod(left, 60));
}

/* Whether the row's share of the budget, or all of it, is spent, or ^C came. */
static int out_of_time(const tuner *tu, const tune_item *t)
{
    const double now = cli_now();
    return interrupted || now >= t->deadline_s || now >= tu->deadline_s;
}

/* Checks and times values[k] = v against the incumbent (values); takes
 * it when it wins by the rule (tune_rule.h) in one round, then again in a
 * second (confirmed). Returns 1 when taken. */
static int try_candidate(tuner *tu, tune_item *t, const int untuned[], int values[], int k, int v)
{
    int candidate[KEY_COUNT];
    memcpy(candidate, values, sizeof candidate);
    candidate[k] = v;
    char setting[160], why[600];
    unsigned char one[KEY_COUNT] = {0};
    one[k] = 1;
    clcnn__tuning_spec_of(candidate, one, setting, sizeof setting);
    fprintf(stderr, "tune: %s %s%s%s %s: ", t->row.layer->name, t->row.op->name, t->row.mode ? " " : "",
            t->row.mode ? t->row.mode : "", setting);
    const int *const configs[2] = {values, candidate};
    double s[ROUND_MAX][SAMPLES];
    int n = 0;
    const char *verdict = "discarded";
    if (check_candidate(tu, t, candidate, why, sizeof why) != 0) {
        printf("  discarded %s: %s\n", setting, why);
        note_loss(tu, k, v);
    } else if ((n = sample_round(tu, t, configs, 2, 1, s)) < 0) {
        verdict = "a timed run failed";
    } else {
        const tune_verdict first = tune_judge(s[0], s[1], n, TUNE_FLOOR);
        if (first == TUNE_LOSS)
            note_loss(tu, k, v);
        verdict = first != TUNE_WIN                              ? "not taken"
                  : confirmed(tu, t, untuned, values, candidate) ? "taken"
                                                                 : "not confirmed in a second round";
        fprintf(stderr, "%.3f ms against %.3f: ", median_ms(s[1], n), median_ms(s[0], n));
    }
    fprintf(stderr, "%s, ", verdict);
    print_time_left(tu, stderr);
    fputc('\n', stderr);
    if (strcmp(verdict, "taken") != 0)
        return 0;
    values[k] = v;
    return 1;
}

/* Coordinate descent from values (in and out) over the op's keys;
 * tried[k] is set for each key all of whose candidates were tried. */
static void search(tuner *tu, tune_item *t, const int untuned[], int values[], const int order[], int count,
                   unsigned char tried[])
{
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        int changed = 0;
        for (int i = 0; i < count; i++) {
            const int k = order[i];
            int c[MAX_CANDIDATES];
            const int n = candidates(k, values[k], tu->max_group, c);
            for (int j = 0; j < n; j++) {
                watch_interrupt();
                if (out_of_time(tu, t))
                    return;
                if (c[j] != values[k])
                    changed |= try_candidate(tu, t, untuned, values, k, c[j]);
            }
            tried[k] = 1;
        }
        if (!changed)
            return;
    }
}

/* Where more than one key changed: each key back at its untuned value in
 * turn, kept there unless the row with it wins by the rule, so that a row
 * holds only the keys that each gain beyond the spread. */
static void prefer_defaults(tuner *tu, tune_item *t, const int untuned[], int values[], const int order[], int count)
{
    int changed = 0;
    for (int i = 0; i < count; i++)
        changed += values[order[i]] != untuned[order[i]];
    for (int i = count - 1; i >= 0 && changed > 1 && !interrupted && cli_now() < tu->deadline_s; i--) {
        const int k = order[i];
        if (values[k] == untuned[k])
            continue;
        int without[KEY_COUNT];
        double with_ms, without_ms;
        char why[600];
        memcpy(without, values, sizeof without);
        without[k] = untuned[k];
        if (check_candidate(tu, t, without, why, sizeof why) != 0)
            continue;
        if (judge_pair(tu, t, without, values, &without_ms, &with_ms) != TUNE_WIN) {
            printf("  %s back to %d: it gains no more than the spread there (%.3f ms, %.3f with it)\n", keys[k].name,
                   untuned[k], without_ms, with_ms);
            values[k] = untuned[k];
            changed--;
        }
    }
}

/* The layer's row key and the values it starts from: untuned (the column,
 * the class row, CLCNN_TUNE) and start (with its exact row too). */
static void start_values(const tuner *tu, const tune_item *t, int untuned[], int start[])
{
    const char *exact = NULL, *class_spec = NULL;
    const char *env = getenv("CLCNN_TUNE");
    clcnn__tuning_db_lookup(&tu->db, &t->key, &exact, &class_spec);
    memcpy(untuned, tu->base, sizeof tu->base);
    apply_spec(class_spec, untuned, NULL);
    apply_spec(env, untuned, NULL);
    memcpy(start, untuned, sizeof tu->base);
    apply_spec(exact, start, NULL);
    apply_spec(env, start, NULL);
}

/* The layers of one op, dtype and class (class_of): this run's searched
 * layers of it, then the database's exact rows of it that this run did
 * not search; their tuned values and the keys each searched, and the
 * losses of this run's ones (renumbered). */
typedef struct class_group {
    int count, loss_count;
    int *values;                              /* count x KEY_COUNT */
    unsigned char *searched;                  /* count x KEY_COUNT */
    char (*exact)[CLCNN_TUNING_KEY_CAPACITY]; /* count */
    tune_loss *losses;
} class_group;

static void group_free(class_group *g)
{
    free(g->values), free(g->searched), free(g->exact), free(g->losses);
}

/* Adds the database's exact rows of the class to g: values are the
 * column, the class row, the exact row and CLCNN_TUNE's keys (as the
 * library plans them); searched, every key the op searches on the class. */
static void gather_rows(const tuner *tu, const tune_item *t, class_group *g)
{
    int family[KEY_COUNT];
    const char *class_key = t->key.class_key, *env = getenv("CLCNN_TUNE");
    const int family_count =
        searched_keys(t->row.op->name, t->row.layer->kind == LAYER_CONV ? t->key.class_name : "", family);
    const char *class_spec = clcnn__tuning_db_find(&tu->db, class_key);
    for (size_t r = 0; r < tu->db.count; r++) {
        const clcnn_tuning_row *row = &tu->db.rows[r];
        char of[128];
        int known = 0;
        for (int m = 0; m < tu->member_count && !known; m++)
            known = strcmp(tu->members[m].exact, row->key) == 0;
        if (known || clcnn__tuning_class_key_of(row->key, of, sizeof of) != 0 || strcmp(of, class_key) != 0)
            continue;
        int *values = g->values + (size_t)g->count * KEY_COUNT;
        memcpy(values, tu->base, sizeof tu->base);
        apply_spec(class_spec, values, NULL);
        apply_spec(row->spec, values, NULL);
        apply_spec(env, values, NULL);
        for (int i = 0; i < family_count; i++)
            g->searched[(size_t)g->count * KEY_COUNT + family[i]] = !tu->env_set[family[i]];
        snprintf(g->exact[g->count++], sizeof g->exact[0], "%s", row->key);
    }
}

/* The class group of t's layer: 0, or -1 out of memory. */
static int gather_class(const tuner *tu, const tune_item *t, class_group *g)
{
    const size_t most = (size_t)tu->member_count + tu->db.count + 1;
    g->values = malloc(most * KEY_COUNT * sizeof *g->values);
    g->searched = calloc(most * KEY_COUNT, 1);
    g->exact = malloc(most * sizeof *g->exact);
    g->losses = malloc(((size_t)tu->loss_count + 1) * sizeof *g->losses);
    int *index = malloc(most * sizeof *index);
    if (!g->values || !g->searched || !g->exact || !g->losses || !index) {
        free(index);
        return -1;
    }
    for (int m = 0; m < tu->member_count; m++) {
        const tune_member *member = &tu->members[m];
        index[m] = -1;
        if (strcmp(member->class_key, t->key.class_key) != 0)
            continue;
        memcpy(g->values + (size_t)g->count * KEY_COUNT, member->values, sizeof member->values);
        memcpy(g->searched + (size_t)g->count * KEY_COUNT, member->searched, sizeof member->searched);
        snprintf(g->exact[g->count], sizeof g->exact[0], "%s", member->exact);
        index[m] = g->count++;
    }
    for (int i = 0; i < tu->loss_count; i++)
        if (tu->losses[i].member < tu->member_count && index[tu->losses[i].member] >= 0) {
            g->losses[g->loss_count] = tu->losses[i];
            g->losses[g->loss_count++].member = index[tu->losses[i].member];
        }
    free(index);
    gather_rows(tu, t, g);
    return 0;
}

/* Sets the row of key to spec (NULL: no row) where it differs: 0, or -1. */
static int set_row(tuner *tu, const char *key, const char *spec)
{
    const char *now = clcnn__tuning_db_find(&tu->db, key);
    char message[1200];
    if (now == spec || (now && spec && strcmp(now, spec) == 0))
        return 0;
    if (clcnn__tuning_db_set(&tu->db, key, spec, NULL, message, sizeof message) != 0) {
        fprintf(stderr, "clcnn tune: %s\n", message);
        return -1;
    }
    tu->dirty = 1;
    return 0;
}

/* The class row of t's layer from its group (tune_class_values), and each
 * member's exact row as what differs from it; a member with the class
 * row's values repeats it, so that its row says it was tuned and a rerun
 * skips it. Neither changes a searched layer's plan. 0, or -1. */
static int update_class(tuner *tu, const tune_item *t)
{
    class_group g = {0};
    int cls[KEY_COUNT], result = -1;
    unsigned char differs[KEY_COUNT];
    char class_spec[SPEC_CAPACITY], spec[SPEC_CAPACITY];
    if (gather_class(tu, t, &g) != 0) {
        fprintf(stderr, "clcnn tune: out of host memory\n");
        group_free(&g);
        return -1;
    }
    tune_class_values(g.count, KEY_COUNT, g.values, g.searched, g.losses, g.loss_count, tu->base, cls);
    for (int k = 0; k < KEY_COUNT; k++)
        differs[k] = cls[k] != tu->base[k];
    clcnn__tuning_spec_of(cls, differs, class_spec, sizeof class_spec);
    const char *before = clcnn__tuning_db_find(&tu->db, t->key.class_key);
    if (strcmp(before ? before : "", class_spec) != 0)
        printf("  class row %s: %s (from %d layers of the class)\n", t->key.class_key,
               class_spec[0] ? class_spec : "none", g.count);
    if (set_row(tu, t->key.class_key, class_spec[0] ? class_spec : NULL) != 0)
        goto done;
    for (int m = 0; m < g.count; m++) {
        const int *values = g.values + (size_t)m * KEY_COUNT;
        for (int k = 0; k < KEY_COUNT; k++)
            differs[k] = values[k] != cls[k];
        clcnn__tuning_spec_of(values, differs, spec, sizeof spec);
        if (set_row(tu, g.exact[m], spec[0] ? spec : class_spec[0] ? class_spec : NULL) != 0)
            goto done;
    }
    result = 0;
done:
    group_free(&g);
    return result;
}

/* Adds the searched layer to this run's members, updates its class's
 * rows and writes the database, unless --dry-run, where it changed:
 * 0, or -1. */
static int record_row(tuner *tu, const tune_item *t, const int untuned[], const int values[],
                      const unsigned char tried[])
{
    char message[1200];
    if (tu->member_count == tu->member_capacity) {
        const int capacity = tu->member_capacity ? 2 * tu->member_capacity : 16;
        tune_member *grown = realloc(tu->members, (size_t)capacity * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "clcnn tune: out of host memory\n");
            return -1;
        }
        tu->members = grown, tu->member_capacity = capacity;
    }
    tune_member *m = &tu->members[tu->member_count++];
    snprintf(m->exact, sizeof m->exact, "%s", t->key.exact);
    snprintf(m->class_key, sizeof m->class_key, "%s", t->key.class_key);
    memcpy(m->values, values, sizeof m->values);
    memcpy(m->searched, tried, sizeof m->searched);
    tu->found += !same_values(values, untuned);
    /* The layer's plan as its keys that differ from the column, class
     * row's included: what two runs compare (docs/tuning.md). */
    unsigned char differs[KEY_COUNT];
    char spec[SPEC_CAPACITY];
    for (int k = 0; k < KEY_COUNT; k++)
        differs[k] = values[k] != tu->base[k];
    clcnn__tuning_spec_of(values, differs, spec, sizeof spec);
    printf("  tuned: %s\n", spec[0] ? spec : "the column's values");
    tu->dirty = 0;
    if (update_class(tu, t) != 0)
        return -1;
    if (tu->dry_run || !tu->dirty)
        return 0;
    if (clcnn__tuning_db_write(&tu->db, tu->dir, 1, tu->path, sizeof tu->path, message, sizeof message) != 0) {
        fprintf(stderr, "clcnn tune: %s\n", message);
        return -1;
    }
    tu->written++;
    return 0;
}

/* Prints the row before and after: the keys that differ from the untuned
 * plan, old and new, timed once more against each other, and the speedup.
 * When that round does not confirm the change by the rule, values go back
 * to the untuned plan: on a tie the untuned plan stays, and no row is
 * written. */
static void report_row(tuner *tu, tune_item *t, const int untuned[], int values[])
{
    unsigned char changed[KEY_COUNT];
    int any = 0;
    for (int k = 0; k < KEY_COUNT; k++)
        any |= changed[k] = values[k] != untuned[k];
    if (!any) {
        printf("  unchanged: no candidate was faster by more than the spread and %.0f%%\n", 100.0 * TUNE_FLOOR);
        return;
    }
    char old_spec[SPEC_CAPACITY], new_spec[SPEC_CAPACITY];
    clcnn__tuning_spec_of(untuned, changed, old_spec, sizeof old_spec);
    clcnn__tuning_spec_of(values, changed, new_spec, sizeof new_spec);
    double old_ms = NAN, new_ms = NAN;
    const int kept = judge_pair(tu, t, untuned, values, &old_ms, &new_ms) == TUNE_WIN;
    printf("  old: %-50s %9.3f ms\n  new: %-50s %9.3f ms  %.2fx%s\n", old_spec, old_ms, new_spec, new_ms,
           old_ms / new_ms, kept ? "" : "  not confirmed against the untuned plan: not kept");
    if (!kept)
        memcpy(values, untuned, sizeof untuned[0] * KEY_COUNT);
}

/* The item's row and its database keys: 0, or -1 (a layer the op does not take). */
static int item_setup(const tuner *tu, tune_item *t, const bench_layer *layer, const bench_op *op, int mode)
{
    memset(t, 0, sizeof *t);
    t->dtype = tu->dtype;
    t->row.layer = layer;
    t->row.op = op;
    if (layer->kind == LAYER_POOL) {
        t->row.mode = mode == MODE_MAX ? "max" : "average";
        t->row.pool_mode = mode == MODE_MAX ? CLCNN_POOL_MAX : CLCNN_POOL_AVERAGE;
    }
    op->shape(&t->row, tu->dtype);
    if (layer->kind == LAYER_CONV)
        return clcnn__tuning_conv_key(&t->key, op->name, tu->dtype, layer->dims, t->row.weight_dims, &layer->conv);
    return clcnn__tuning_pool_key(&t->key, op->name, tu->dtype, layer->dims, &layer->pool, t->row.pool_mode);
}

/* Searches one layer and op, and records its row. 0, or -1 on a failure. */
static int tune_row(tuner *tu, const bench_layer *layer, const bench_op *op, int mode)
{
    tune_item t;
    if (item_setup(tu, &t, layer, op, mode) != 0)
        return -1;
    const char *existing = clcnn__tuning_db_find(&tu->db, t.key.exact);
    printf("%s  (%s %s%s%s)\n", t.key.exact, layer->name, op->name, t.row.mode ? " " : "",
           t.row.mode ? t.row.mode : "");
    if (existing && !tu->force) {
        printf("  in the database already (%s): skipped (--force searches it again)\n", existing);
        return 0;
    }
    tu->rows_left = tu->rows_left > 1 ? tu->rows_left - 1 : 0;
    /* The reference, then its terms: about twice its work. */
    const double reference_s = 2.0 * t.row.work / BENCH_REFERENCE_FLOPS_PER_S;
    if (cli_now() + reference_s > tu->deadline_s) {
        printf("  not searched: its reference (about %.0f s) does not fit the budget left\n", reference_s);
        return 0;
    }
    t.deadline_s = cli_now() + fmax(0.0, tu->deadline_s - cli_now()) / (tu->rows_left + 1);
    int untuned[KEY_COUNT], start[KEY_COUNT], values[KEY_COUNT], order[KEY_COUNT];
    unsigned char tried[KEY_COUNT] = {0};
    start_values(tu, &t, untuned, start);
    int count = searched_keys(op->name, layer->kind == LAYER_CONV ? t.key.class_name : "", order), kept = 0;
    for (int i = 0; i < count; i++)
        if (!tu->env_set[order[i]])
            order[kept++] = order[i];
    /* The losses of a row interrupted before it was recorded. */
    while (tu->loss_count > 0 && tu->losses[tu->loss_count - 1].member >= tu->member_count)
        tu->loss_count--;
    char why[600];
    int result = 0;
    if (item_prepare(tu, &t) != 0) {
        printf("  FAILED: %s\n", t.row.error);
        result = -1;
    } else {
        if (check_candidate(tu, &t, start, why, sizeof why) != 0) {
            printf("  FAILED: the plan the library would use fails its check: %s\n", why);
            result = -1;
        }
        memcpy(values, start, sizeof values);
        search(tu, &t, untuned, values, order, kept, tried);
        if (interrupted) {
            printf("  interrupted: this row is not written\n");
        } else {
            prefer_defaults(tu, &t, untuned, values, order, kept);
            report_row(tu, &t, untuned, values);
            result = record_row(tu, &t, untuned, values, tried) != 0 ? -1 : result;
        }
    }
    fflush(stdout);
    item_release(&t);
    return result;
}

/* ---- the command ---- */

/* The ops tune searches: those whose rows the library looks up. */
static const char *const tuned_ops[] = {"conv_forward", "conv_backward", "pool_forward", "pool_backward"};
#define TUNED_OP_COUNT ((int)(sizeof tuned_ops / sizeof tuned_ops[0]))

typedef struct tune_options {
    const char *device;
    int layer_wanted[BENCH_MAX_LAYERS], op_wanted[TUNED_OP_COUNT];
    int any_layer, any_op, suites;
    long budget_minutes;
} tune_options;

static void print_help(void)
{
    printf("usage: clcnn tune [--suite table|networks|all] [--layer NAME]... [--op OP]...\n"
           "                  [--budget MINUTES] [--dry-run] [--force] [--dtype f32|f64]\n"
           "                  [--device SPEC]\n\n"
           "Searches the tuning keys of each layer and op on the device and writes the\n"
           "winners into the device's tuning database (docs/tuning.md), which every\n"
           "program using clcnn then reads. Per layer and op: a coordinate descent over\n"
           "the op's keys and kernel choices from the plan the library would use; each\n"
           "candidate is checked against the CPU reference (double, 8 eps*sum|terms|) and\n"
           "for the same bits on two runs, then timed against the incumbent in %d\n"
           "alternated samples each. It wins when the median of the paired ratios is\n"
           "below 1 by more than their spread and at least %.0f%%, and again in a second\n"
           "round, against the untuned plan too. A key that changed goes back to its\n"
           "untuned value unless it gains by that rule on its own; the row is timed\n"
           "once more against the untuned plan, and on a tie the untuned plan stays.\n"
           "A row holds the keys that differ from the untuned plan.\n\n"
           "Class rows: a value that a strict majority (two at least) of the searched\n"
           "layers of one op, dtype and class (pointwise, stem, ...) chose, and that\n"
           "lost clearly on none of them, goes into the class's row, which layers of\n"
           "that class without a row of their own take; an exact row then holds what\n"
           "differs from the class row (or repeats it, to say the layer was tuned).\n"
           "The file is written after each layer. Progress, with the time left, goes\n"
           "to stderr.\n\n",
           SAMPLES, 100.0 * TUNE_FLOOR);
    fputs("  --suite S         the layers of clcnn bench's suite S (default table;\n"
          "                    networks, all), or those --layer names (clcnn bench --help)\n"
          "  --layer NAME      repeatable: a convolution or pooling layer of clcnn bench\n"
          "  --op OP           repeatable, default all: conv_forward, conv_backward,\n"
          "                    pool_forward, pool_backward\n"
          "  --budget MINUTES  the whole search's time (default 10); each row gets its\n"
          "                    share of what is left, and its best so far is written\n"
          "                    when its share is spent. ^C stops without writing the row\n"
          "                    in progress\n"
          "  --force           search rows the database has already (else skipped)\n"
          "  --dry-run         search and print, write nothing\n"
          "  --dtype f32|f64   default f32\n",
          stdout);
    cli_print_device_help(stdout);
}

/* The index of the tuned op called name, or -1 with a message. */
static int find_op(const char *name)
{
    for (int k = 0; k < TUNED_OP_COUNT; k++)
        if (strcmp(name, tuned_ops[k]) == 0)
            return k;
    fprintf(stderr, "clcnn tune: unknown --op \"%s\" (conv_forward, conv_backward, pool_forward, pool_backward)\n",
            name);
    return -1;
}

/* Reads the options; returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, tuner *tu, tune_options *o)
{
    static const struct option options[] = {
        {"suite", required_argument, NULL, 's'},
        {"layer", required_argument, NULL, 'l'},
        {"op", required_argument, NULL, 'o'},
        {"budget", required_argument, NULL, 'b'},
        {"dry-run", no_argument, NULL, 'n'},
        {"force", no_argument, NULL, 'f'},
        {"dtype", required_argument, NULL, 't'},
        CLI_OPTION_DEVICE,
        CLI_OPTION_HELP,
        CLI_OPTIONS_END,
    };
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "h", options)) != -1;) {
        int k;
        switch (option) {
        case 's':
            if (bench_parse_suite(COMMAND, optarg, &o->suites))
                return CLI_EXIT_USAGE;
            break;
        case 'l':
            if ((k = bench_find_layer(optarg)) < 0 ||
                (bench_layer_table[k].kind != LAYER_CONV && bench_layer_table[k].kind != LAYER_POOL)) {
                fprintf(stderr, "clcnn tune: \"%s\" is no convolution or pooling layer (see clcnn bench --help)\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            o->layer_wanted[k] = o->any_layer = 1;
            break;
        case 'o':
            if ((k = find_op(optarg)) < 0)
                return CLI_EXIT_USAGE;
            o->op_wanted[k] = o->any_op = 1;
            break;
        case 'b':
            if (cli_parse_long(COMMAND, "--budget", optarg, 1, 100000, &o->budget_minutes))
                return CLI_EXIT_USAGE;
            break;
        case 'n': tu->dry_run = 1; break;
        case 'f': tu->force = 1; break;
        case 't':
            if (cli_parse_dtype(COMMAND, optarg, &tu->dtype))
                return CLI_EXIT_USAGE;
            break;
        case 'd': o->device = optarg; break;
        default: return cli_option_exit(option, print_help);
        }
    }
    return -1;
}

/* Visits every wanted layer, op and pooling mode: counts the rows to
 * search (run 0, into tu->rows_left) or searches them (run 1). */
static void visit_rows(tuner *tu, const tune_options *o, int run)
{
    for (int i = 0; i < bench_layer_count && !interrupted && (!run || cli_now() < tu->deadline_s); i++) {
        const bench_layer *layer = &bench_layer_table[i];
        if ((layer->kind != LAYER_CONV && layer->kind != LAYER_POOL) ||
            (o->any_layer ? !o->layer_wanted[i] : !(layer->suite & o->suites)))
            continue;
        for (int mode = MODE_MAX; mode <= MODE_AVERAGE; mode <<= 1) {
            if (layer->kind == LAYER_POOL ? !(layer->modes & mode) : mode != MODE_MAX)
                continue;
            for (int k = 0; k < TUNED_OP_COUNT; k++) {
                const int op = bench_find_op(tuned_ops[k]);
                if ((o->any_op && !o->op_wanted[k]) || bench_op_table[op].kind != layer->kind)
                    continue;
                tune_item t;
                if (!run) {
                    if (item_setup(tu, &t, layer, &bench_op_table[op], mode) == 0 &&
                        (tu->force || !clcnn__tuning_db_find(&tu->db, t.key.exact)))
                        tu->rows_left++;
                    continue;
                }
                if (interrupted || cli_now() >= tu->deadline_s)
                    return;
                if (tune_row(tu, layer, &bench_op_table[op], mode) != 0)
                    tu->failures++;
            }
        }
    }
}

/* The device's identity as the library computes it when it opens the
 * database (the chosen record of clcnn_devices_list), and its work-group
 * limit: 0, or the exit status. */
static int device_identity(const char *device, clcnn_tuning_identity *id, size_t *max_group)
{
    size_t count = 0;
    if (clcnn_devices_list(device, NULL, 0, &count) != CLCNN_OK || count == 0)
        return CLI_EXIT_FAILURE;
    clcnn_device_info *devices = calloc(count, sizeof *devices);
    int found = 0;
    if (devices && clcnn_devices_list(device, devices, count, &count) == CLCNN_OK)
        for (size_t i = 0; i < count && !found; i++)
            if (devices[i].chosen) {
                clcnn__tuning_identity_of(&devices[i], id);
                *max_group = devices[i].max_work_group_size;
                found = 1;
            }
    free(devices);
    if (!found)
        fprintf(stderr, "clcnn tune: no device record for the chosen device\n");
    return found ? 0 : CLI_EXIT_FAILURE;
}

/* Opens the database of the context's device (whatever CLCNN_TUNING
 * says: tune writes it), and the start values. 0, or the exit status. */
static int open_tuner(tuner *tu, const char *device)
{
    clcnn_tuning_identity id;
    int exit_status = device_identity(device, &id, &tu->max_group);
    if (exit_status != 0)
        return exit_status;
    clcnn_tuning_env env = clcnn__tuning_env();
    env.tuning = NULL;
    char notes[2048] = "", name[512];
    if (clcnn__tuning_db_dir(&env, 1, tu->dir, sizeof tu->dir, notes, sizeof notes) != 0 ||
        clcnn__tuning_db_file_name(&id, name, sizeof name) != 0) {
        fprintf(stderr, "clcnn tune: no directory for the tuning database: %s", notes);
        return CLI_EXIT_FAILURE;
    }
    snprintf(tu->path, sizeof tu->path, "%s/%s", tu->dir, name);
    const clcnn_tuning_db_source source = clcnn__tuning_db_open(&tu->db, &id, &env, NULL, notes, sizeof notes);
    apply_spec(clcnn_context_config(tu->ctx), tu->base, NULL);
    int ignored[KEY_COUNT];
    apply_spec(getenv("CLCNN_TUNE"), ignored, tu->env_set);
    printf("clcnn %s tune on %s, %s\nconfig: %s\n%s", clcnn_version(), clcnn_context_device_name(tu->ctx),
           kit_dtype_name(tu->dtype), clcnn_context_config(tu->ctx), notes);
    printf("database: %s (%s, %zu rows)%s\n\n", tu->path,
           source == CLCNN_TUNING_DB_EXACT         ? "read"
           : source == CLCNN_TUNING_DB_OTHER_UNITS ? "rows of another compute-unit count"
                                                   : "new",
           tu->db.count, tu->dry_run ? "; --dry-run: nothing is written" : "");
    return 0;
}

int cli_tune(int argc, char **argv)
{
    tuner tu = {.dtype = CLCNN_FLOAT32};
    tune_options o = {.suites = SUITE_TABLE, .budget_minutes = DEFAULT_BUDGET_MINUTES};
    int exit_status = parse_options(argc, argv, &tu, &o);
    if (exit_status >= 0)
        return exit_status;
    exit_status = cli_open_context(COMMAND, o.device, &tu.ctx);
    if (exit_status != CLI_EXIT_OK)
        return exit_status;
    if (!clcnn_context_supports_dtype(tu.ctx, tu.dtype)) {
        fprintf(stderr, "clcnn tune: %s has no %s; use --dtype f32\n", clcnn_context_device_name(tu.ctx),
                kit_dtype_name(tu.dtype));
        exit_status = CLI_EXIT_FAILURE;
    } else if ((exit_status = open_tuner(&tu, o.device)) == 0) {
        watch_interrupt();
        visit_rows(&tu, &o, 0);
        tu.start_s = cli_now();
        tu.deadline_s = tu.start_s + 60.0 * (double)o.budget_minutes;
        visit_rows(&tu, &o, 1);
        signal(SIGINT, SIG_DFL);
        printf("\n%d rows with a change, %d written%s%s%s\n", tu.found, tu.written, tu.written ? " to " : "",
               tu.written ? tu.path : "",
               interrupted                  ? "; interrupted"
               : cli_now() >= tu.deadline_s ? "; the budget is spent"
                                            : "");
        exit_status = tu.failures ? CLI_EXIT_FAILURE : interrupted ? 130 : CLI_EXIT_OK;
    }
    clcnn__tuning_db_free(&tu.db);
    free(tu.members);
    free(tu.losses);
    clcnn_context_destroy(tu.ctx);
    return exit_status;
}
