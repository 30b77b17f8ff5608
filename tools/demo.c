/* `clcnn demo`: the numpy walkthrough replayed on the device. Same seeds,
 * same shapes and the same printed lines as the walkthrough (numpy's
 * legacy generator and array printing are ported in numpy_random.c and
 * numpy_print.c); every device result is shown next to the CPU reference
 * and judged by the scaled error of cli.h. Functions without an op of
 * their own (conv_single_step, create_mask_from_window, distribute_value)
 * run as the op that contains them: one window of conv_forward, one window
 * of max/average pool_backward. */
#include <float.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clcnn_reference.h"
#include "numpy_print.h"
#include "numpy_random.h"

#define COMMAND "demo"
#define MAX_TENSORS 32
/* Side by side when both columns fit in this many characters, else one
 * under the other. */
#define PAIR_WIDTH 110
#define COLUMN_GAP " | "

typedef struct demo {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    numpy_print_style style;
    int step;
    int checks;
    int failures;
    clcnn_tensor *tensors[MAX_TENSORS];
    int tensor_count;
} demo;

static void print_help(void)
{
    fputs("usage: clcnn demo [--device SPEC] [--dtype f32|f64] [--print-style 1.13|modern]\n\n"
          "Replays the numpy walkthrough (zero_pad, conv_single_step, conv_forward,\n"
          "conv_backward, pool_forward, create_mask_from_window, distribute_value,\n"
          "pool_backward) with its seeds and shapes: numpy's legacy MT19937 and randn\n"
          "are ported, so the inputs are the walkthrough's. Each result of the device\n"
          "is printed as numpy prints it, next to the CPU reference's, with PASS or\n"
          "FAIL: values must agree within 8 eps * sum|terms| (zero_pad and max\n"
          "pooling forward exactly). Exits 1 if any check fails.\n\n"
          "  --dtype f32|f64 default: f64 if the device has cl_khr_fp64, else f32\n"
          "  --print-style 1.13|modern\n"
          "                  numpy's printing: 1.13 (default) is what the walkthrough\n"
          "                  shows ([ 0.  0.], 12-digit scalars); modern is numpy >= 1.14\n"
          "                  ([0. 0.], shortest round-trip scalars)\n",
          stdout);
    cli_print_device_help(stdout);
}

/* ---- printing ---- */

static void heading(demo *d, const char *title, const char *python)
{
    d->step++;
    printf("\n== %d. %s ", d->step, title);
    for (int i = (int)strlen(title) + 7; i < 72; i++)
        putchar('=');
    /* One statement per prompt line, as typed into Python. */
    putchar('\n');
    for (const char *statement = python; statement;) {
        const char *end = strstr(statement, "; ");
        int length = end ? (int)(end - statement) : (int)strlen(statement);
        printf(">>> %.*s\n", length, statement);
        statement = end ? end + 2 : NULL;
    }
}

/* label + str(array) (or str(array != 0) when as_bool); malloc'ed. */
static char *labelled_array(const demo *d, const char *label, const double *data, const size_t *shape, int ndim,
                            int as_bool)
{
    char *body = as_bool ? numpy_bool_array_str(data, shape, ndim) : numpy_array_str(data, shape, ndim, d->style);
    if (!body)
        return NULL;
    char *text = malloc(strlen(label) + strlen(body) + 1);
    if (text) {
        strcpy(text, label);
        strcat(text, body);
    }
    free(body);
    return text;
}

static char *labelled_scalar(const demo *d, const char *label, double value)
{
    char number[64];
    numpy_scalar_str(value, d->style, number, sizeof number);
    char *text = malloc(strlen(label) + strlen(number) + 1);
    if (text) {
        strcpy(text, label);
        strcat(text, number);
    }
    return text;
}

static void print_array(const demo *d, const char *label, const double *data, const size_t *shape, int ndim)
{
    char *text = labelled_array(d, label, data, shape, ndim, 0);
    puts(text ? text : "(out of memory)");
    free(text);
}

static size_t line_count(const char *text)
{
    size_t count = 1;
    for (; *text; text++)
        count += *text == '\n';
    return count;
}

static int widest_line(const char *text)
{
    int widest = 0, current = 0;
    for (; *text; text++) {
        current = *text == '\n' ? 0 : current + 1;
        if (current > widest)
            widest = current;
    }
    return widest;
}

/* Returns the line starting at *cursor (without newline), advancing it. */
static int next_line(const char **cursor, const char **line)
{
    *line = *cursor;
    const char *end = strchr(*cursor, '\n');
    int length = end ? (int)(end - *cursor) : (int)strlen(*cursor);
    *cursor += length + (end ? 1 : 0);
    return length;
}

/* Device text and reference text, side by side when they fit. Takes
 * ownership of both strings. */
static void print_pair(const demo *d, char *device_text, char *reference_text)
{
    if (!device_text || !reference_text) {
        puts("(out of memory)");
        free(device_text);
        free(reference_text);
        return;
    }
    char device_header[64];
    snprintf(device_header, sizeof device_header, "device (%s)", kit_dtype_name(d->dtype));
    const char *reference_header = "CPU reference";
    int left = widest_line(device_text);
    if ((int)strlen(device_header) > left)
        left = (int)strlen(device_header);
    int right = widest_line(reference_text);
    if (left + (int)strlen(COLUMN_GAP) + right <= PAIR_WIDTH) {
        printf("%-*s%s%s\n", left, device_header, COLUMN_GAP, reference_header);
        size_t rows = line_count(device_text);
        if (line_count(reference_text) > rows)
            rows = line_count(reference_text);
        const char *l_cursor = device_text, *r_cursor = reference_text;
        for (size_t i = 0; i < rows; i++) {
            const char *l_line = "", *r_line = "";
            int l_length = *l_cursor ? next_line(&l_cursor, &l_line) : 0;
            int r_length = *r_cursor ? next_line(&r_cursor, &r_line) : 0;
            /* Blank lines inside 3-D and 4-D arrays stay blank on the right. */
            while (r_length > 0 && r_line[r_length - 1] == ' ')
                r_length--;
            printf("%-*.*s%s%.*s\n", left, l_length, l_line, r_length ? COLUMN_GAP : " |", r_length, r_line);
        }
    } else {
        printf("%s:\n%s\n%s:\n%s\n", device_header, device_text, reference_header, reference_text);
    }
    free(device_text);
    free(reference_text);
}

/* Judges one output and prints its PASS/FAIL line. scale NULL: exact. A
 * FAIL is counted in d->failures, not an error of the step: returns 0, the
 * status of a step that ends with it. */
static int verdict(demo *d, const char *what, const size_t dims[4], const double *got, const double *ref,
                   const double *scale)
{
    size_t n = kit_elements(dims), worst_at;
    double worst = kit_scaled_error(got, ref, scale, n, d->dtype, &worst_at);
    int pass = worst <= (scale ? KIT_TOLERANCE : 0.0);
    char shape[64];
    numpy_shape_str(dims, 4, shape, sizeof shape);
    d->checks++;
    if (pass) {
        if (scale)
            printf("PASS  %s %s: %zu value%s, worst error %.2g eps*sum|terms| (limit %g)\n", what, shape, n,
                   n == 1 ? "" : "s", worst, KIT_TOLERANCE);
        else
            printf("PASS  %s %s: %zu value%s, all equal to the reference\n", what, shape, n, n == 1 ? "" : "s");
        return 0;
    }
    d->failures++;
    char index[64];
    cli_index_str(dims, worst_at, index, sizeof index);
    char values[160];
    printf("FAIL  %s %s: %s%s: %s, error %.3g eps*sum|terms| (limit %g)\n", what, shape, what, index,
           kit_mismatch_text(values, sizeof values, got[worst_at], ref[worst_at]), worst, scale ? KIT_TOLERANCE : 0.0);
    return 0;
}

/* ---- device helpers: failures are reported and end the demo ---- */

static clcnn_tensor *tensor(demo *d, const size_t dims[4], const double *values)
{
    if (d->tensor_count == MAX_TENSORS) {
        fprintf(stderr, "clcnn demo: too many tensors\n");
        return NULL;
    }
    clcnn_tensor *t = NULL;
    clcnn_status status = kit_tensor_new(d->ctx, d->dtype, dims, values, &t);
    if (status != CLCNN_OK) {
        cli_report_failure(COMMAND, d->ctx, "creating a tensor", status);
        return NULL;
    }
    d->tensors[d->tensor_count++] = t;
    return t;
}

static int ok(demo *d, clcnn_status status, const char *what)
{
    if (status == CLCNN_OK)
        return 1;
    cli_report_failure(COMMAND, d->ctx, what, status);
    return 0;
}

static int read_back(demo *d, const clcnn_tensor *t, double *out)
{
    return ok(d, kit_tensor_read(t, out), "reading a result");
}

/* randn into out, then rounded to the demo's dtype: the device and the
 * reference both get the values the tensor holds. */
static void randn(demo *d, numpy_random_state *rng, double *out, size_t n)
{
    numpy_random_randn(rng, out, n);
    kit_round_all(d->dtype, out, n);
}

static void absolute(const double *in, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fabs(in[i]);
}

/* ---- the steps ---- */

static int step_zero_pad(demo *d)
{
    heading(d, "zero_pad", "np.random.seed(1); x = np.random.randn(4, 3, 3, 2); x_pad = zero_pad(x, 2)");
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    const size_t x_dims[4] = {4, 3, 3, 2}, pad_dims[4] = {4, 7, 7, 2};
    double x[72], x_pad[392], ref[392];
    randn(d, &rng, x, 72);
    clcnn_tensor *tx = tensor(d, x_dims, x), *tpad = tensor(d, pad_dims, NULL);
    if (!tx || !tpad || !ok(d, clcnn_zero_pad(d->ctx, tx, 2, tpad), "zero_pad") || !read_back(d, tpad, x_pad))
        return -1;
    clcnn_ref_zero_pad(x, x_dims, 2, ref);

    size_t dims[4];
    char shape[64];
    numpy_shape_str(x_dims, 4, shape, sizeof shape);
    printf("x.shape = %s\n", shape);
    clcnn_tensor_dims(tpad, dims);
    numpy_shape_str(dims, 4, shape, sizeof shape);
    printf("x_pad.shape = %s\n", shape);
    const size_t slice_x[2] = {3, 2}, slice_pad[2] = {7, 2};
    print_array(d, "x[1,1] = ", x + 1 * 18 + 1 * 6, slice_x, 2);
    print_pair(d, labelled_array(d, "x_pad[1,1] = ", x_pad + 1 * 98 + 1 * 14, slice_pad, 2, 0),
               labelled_array(d, "x_pad[1,1] = ", ref + 1 * 98 + 1 * 14, slice_pad, 2, 0));
    return verdict(d, "x_pad", pad_dims, x_pad, ref, NULL);
}

static int step_conv_single_step(demo *d)
{
    heading(d, "conv_single_step",
            "np.random.seed(1); a_slice_prev = np.random.randn(4, 4, 3); "
            "W = np.random.randn(4, 4, 3); b = np.random.randn(1, 1, 1)");
    puts("(no op of its own: the device runs conv_forward of a 4x4x3 input with one 4x4x3\n"
         " filter and pad 0, whose only window is the whole input)");
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    double a[48], w[48], b[1], z;
    randn(d, &rng, a, 48);
    randn(d, &rng, w, 48);
    randn(d, &rng, b, 1);
    const size_t a_dims[4] = {1, 4, 4, 3}, w_dims[4] = {4, 4, 3, 1}, one[4] = {1, 1, 1, 1};
    clcnn_tensor *ta = tensor(d, a_dims, a), *tw = tensor(d, w_dims, w), *tb = tensor(d, one, b),
                 *tz = tensor(d, one, NULL);
    if (!ta || !tw || !tb || !tz || !ok(d, clcnn_conv_forward(d->ctx, ta, tw, tb, 1, 0, tz), "conv_forward") ||
        !read_back(d, tz, &z))
        return -1;
    double ref = clcnn_ref_conv_single_step(a, w, b[0], 48);
    double a_abs[48], w_abs[48];
    absolute(a, a_abs, 48);
    absolute(w, w_abs, 48);
    double scale = clcnn_ref_conv_single_step(a_abs, w_abs, fabs(b[0]), 48);
    print_pair(d, labelled_scalar(d, "Z = ", z), labelled_scalar(d, "Z = ", ref));
    return verdict(d, "Z", one, &z, &ref, &scale);
}

typedef struct conv_inputs {
    double a_prev[480], w[96], b[8], z[1280];
    size_t a_dims[4], w_dims[4], z_dims[4];
    clcnn_tensor *ta, *tw, *tz;
} conv_inputs;

static int step_conv_forward(demo *d, conv_inputs *c)
{
    heading(d, "conv_forward",
            "np.random.seed(1); A_prev = np.random.randn(10, 4, 4, 3); "
            "W = np.random.randn(2, 2, 3, 8); b = np.random.randn(1, 1, 1, 8); "
            "Z, cache_conv = conv_forward(A_prev, W, b, {\"pad\": 2, \"stride\": 2})");
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    randn(d, &rng, c->a_prev, 480);
    randn(d, &rng, c->w, 96);
    randn(d, &rng, c->b, 8);
    const size_t a_dims[4] = {10, 4, 4, 3}, w_dims[4] = {2, 2, 3, 8}, b_dims[4] = {1, 1, 1, 8};
    memcpy(c->a_dims, a_dims, sizeof a_dims);
    memcpy(c->w_dims, w_dims, sizeof w_dims);
    clcnn_ref_conv_output_dims(a_dims, w_dims, 2, 2, c->z_dims);
    c->ta = tensor(d, a_dims, c->a_prev);
    c->tw = tensor(d, w_dims, c->w);
    clcnn_tensor *tb = tensor(d, b_dims, c->b);
    c->tz = tensor(d, c->z_dims, NULL);
    if (!c->ta || !c->tw || !tb || !c->tz ||
        !ok(d, clcnn_conv_forward(d->ctx, c->ta, c->tw, tb, 2, 2, c->tz), "conv_forward") || !read_back(d, c->tz, c->z))
        return -1;
    size_t n = kit_elements(c->z_dims);
    double ref[1280], scale[1280], a_abs[480], w_abs[96], b_abs[8];
    clcnn_ref_conv_forward(c->a_prev, a_dims, c->w, w_dims, c->b, 2, 2, ref);
    absolute(c->a_prev, a_abs, 480);
    absolute(c->w, w_abs, 96);
    absolute(c->b, b_abs, 8);
    clcnn_ref_conv_forward(a_abs, a_dims, w_abs, w_dims, b_abs, 2, 2, scale);

    /* Z[3,2,1]: n_C values at offset ((3 * n_H + 2) * n_W + 1) * n_C. */
    size_t offset = ((3 * c->z_dims[1] + 2) * c->z_dims[2] + 1) * c->z_dims[3];
    const size_t row[1] = {c->z_dims[3]};
    print_pair(d, labelled_scalar(d, "Z's mean = ", numpy_mean(c->z, n)),
               labelled_scalar(d, "Z's mean = ", numpy_mean(ref, n)));
    print_pair(d, labelled_array(d, "Z[3,2,1] = ", c->z + offset, row, 1, 0),
               labelled_array(d, "Z[3,2,1] = ", ref + offset, row, 1, 0));
    return verdict(d, "Z", c->z_dims, c->z, ref, scale);
}

static int step_conv_backward(demo *d, conv_inputs *c)
{
    heading(d, "conv_backward", "np.random.seed(1); dA, dW, db = conv_backward(Z, cache_conv)");
    puts("(dZ is the device's Z from step 3, for the device and the reference alike)");
    clcnn_tensor *tda = tensor(d, c->a_dims, NULL), *tdw = tensor(d, c->w_dims, NULL);
    const size_t b_dims[4] = {1, 1, 1, 8};
    clcnn_tensor *tdb = tensor(d, b_dims, NULL);
    double da[480], dw[96], db[8];
    if (!tda || !tdw || !tdb ||
        !ok(d, clcnn_conv_backward(d->ctx, c->tz, c->ta, c->tw, 2, 2, tda, tdw, tdb), "conv_backward") ||
        !read_back(d, tda, da) || !read_back(d, tdw, dw) || !read_back(d, tdb, db))
        return -1;
    double ref_da[480], ref_dw[96], ref_db[8];
    clcnn_ref_conv_backward(c->z, c->a_prev, c->a_dims, c->w, c->w_dims, 2, 2, ref_da, ref_dw, ref_db);
    double z_abs[1280], a_abs[480], w_abs[96], scale_da[480], scale_dw[96], scale_db[8];
    absolute(c->z, z_abs, 1280);
    absolute(c->a_prev, a_abs, 480);
    absolute(c->w, w_abs, 96);
    clcnn_ref_conv_backward(z_abs, a_abs, c->a_dims, w_abs, c->w_dims, 2, 2, scale_da, scale_dw, scale_db);

    char *device_text = malloc(256), *reference_text = malloc(256);
    if (device_text && reference_text) {
        const double *sets[2][3] = {{da, dw, db}, {ref_da, ref_dw, ref_db}};
        char *texts[2] = {device_text, reference_text};
        for (int k = 0; k < 2; k++) {
            char means[3][64];
            numpy_scalar_str(numpy_mean(sets[k][0], 480), d->style, means[0], sizeof means[0]);
            numpy_scalar_str(numpy_mean(sets[k][1], 96), d->style, means[1], sizeof means[1]);
            numpy_scalar_str(numpy_mean(sets[k][2], 8), d->style, means[2], sizeof means[2]);
            snprintf(texts[k], 256, "dA_mean = %s\ndW_mean = %s\ndb_mean = %s", means[0], means[1], means[2]);
        }
    }
    print_pair(d, device_text, reference_text);
    puts("(the walkthrough's own conv_backward prints dA_mean = 0.0: it never copies\n"
         " dA_prev_pad back into dA_prev; these are the means of the true gradient)");
    verdict(d, "dA", c->a_dims, da, ref_da, scale_da);
    verdict(d, "dW", c->w_dims, dw, ref_dw, scale_dw);
    return verdict(d, "db", b_dims, db, ref_db, scale_db);
}

static int step_pool_forward(demo *d)
{
    heading(d, "pool_forward",
            "np.random.seed(1); A_prev = np.random.randn(2, 4, 4, 3); "
            "A = pool_forward(A_prev, {\"stride\": 2, \"f\": 3}, mode)");
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    const size_t a_dims[4] = {2, 4, 4, 3};
    double a_prev[96], a_abs[96];
    randn(d, &rng, a_prev, 96);
    absolute(a_prev, a_abs, 96);
    size_t out_dims[4];
    clcnn_ref_pool_output_dims(a_dims, 3, 2, out_dims);
    size_t n = kit_elements(out_dims);
    clcnn_tensor *ta = tensor(d, a_dims, a_prev), *tout = tensor(d, out_dims, NULL);
    if (!ta || !tout)
        return -1;
    const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};
    for (int k = 0; k < 2; k++) {
        double a[6], ref[6], scale[6];
        if (n > 6 || !ok(d, clcnn_pool_forward(d->ctx, ta, 3, 2, modes[k], tout), "pool_forward") ||
            !read_back(d, tout, a))
            return -1;
        clcnn_ref_pool_forward(a_prev, a_dims, 3, 2, modes[k], ref);
        clcnn_ref_pool_forward(a_abs, a_dims, 3, 2, modes[k], scale);
        printf("%smode = %s\n", k ? "\n" : "", k ? "average" : "max");
        print_pair(d, labelled_array(d, "A = ", a, out_dims, 4, 0), labelled_array(d, "A = ", ref, out_dims, 4, 0));
        verdict(d, k ? "A (average)" : "A (max)", out_dims, a, ref, modes[k] == CLCNN_POOL_MAX ? NULL : scale);
    }
    return 0;
}

static int step_mask_and_distribute(demo *d)
{
    heading(d, "create_mask_from_window, distribute_value",
            "np.random.seed(1); x = np.random.randn(2, 3); mask = create_mask_from_window(x)");
    puts("(no ops of their own: the device runs max pool_backward over one 3x3 window,\n"
         " x above a row of the lowest value, with dA = 1)");
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    double x[6];
    randn(d, &rng, x, 6);
    const size_t x_shape[2] = {2, 3};
    char *x_text = labelled_array(d, "x =  ", x, x_shape, 2, 0);
    puts(x_text ? x_text : "(out of memory)");
    free(x_text);

    double lowest = d->dtype == CLCNN_FLOAT64 ? -DBL_MAX : -FLT_MAX;
    double window[9] = {x[0], x[1], x[2], x[3], x[4], x[5], lowest, lowest, lowest};
    double one = 1.0, got[9], mask[6];
    const size_t window_dims[4] = {1, 3, 3, 1}, single[4] = {1, 1, 1, 1};
    clcnn_tensor *ta = tensor(d, window_dims, window), *tda = tensor(d, single, &one),
                 *tout = tensor(d, window_dims, NULL);
    if (!ta || !tda || !tout ||
        !ok(d, clcnn_pool_backward(d->ctx, tda, ta, 3, 1, CLCNN_POOL_MAX, tout), "pool_backward") ||
        !read_back(d, tout, got))
        return -1;
    clcnn_ref_create_mask_from_window(x, 2, 3, mask);
    print_pair(d, labelled_array(d, "mask =  ", got, x_shape, 2, 1),
               labelled_array(d, "mask =  ", mask, x_shape, 2, 1));
    const size_t mask_dims[4] = {1, 2, 3, 1};
    verdict(d, "mask", mask_dims, got, mask, NULL);

    printf("\n>>> a = distribute_value(2, (2, 2))\n");
    puts("(the device runs average pool_backward over one 2x2 window with dA = 2)");
    double zeros[4] = {0, 0, 0, 0}, two = 2.0, spread[4], ref[4], scale[4];
    const size_t square[4] = {1, 2, 2, 1};
    clcnn_tensor *tsq = tensor(d, square, zeros), *ttwo = tensor(d, single, &two), *tspread = tensor(d, square, NULL);
    if (!tsq || !ttwo || !tspread ||
        !ok(d, clcnn_pool_backward(d->ctx, ttwo, tsq, 2, 1, CLCNN_POOL_AVERAGE, tspread), "pool_backward") ||
        !read_back(d, tspread, spread))
        return -1;
    clcnn_ref_distribute_value(2.0, 2, 2, ref);
    clcnn_ref_distribute_value(2.0, 2, 2, scale);
    const size_t shape[2] = {2, 2};
    print_pair(d, labelled_array(d, "distributed value = ", spread, shape, 2, 0),
               labelled_array(d, "distributed value = ", ref, shape, 2, 0));
    return verdict(d, "distributed value", square, spread, ref, scale);
}

static int step_pool_backward(demo *d)
{
    heading(d, "pool_backward",
            "np.random.seed(1); A_prev = np.random.randn(5, 5, 3, 2); "
            "A, cache = pool_forward(A_prev, {\"stride\": 1, \"f\": 2}); "
            "dA = np.random.randn(5, 4, 2, 2); dA_prev = pool_backward(dA, cache, mode)");
    numpy_random_state rng;
    numpy_random_seed(&rng, 1);
    const size_t a_dims[4] = {5, 5, 3, 2};
    size_t da_dims[4];
    clcnn_ref_pool_output_dims(a_dims, 2, 1, da_dims);
    double a_prev[150], da[80], da_abs[80];
    randn(d, &rng, a_prev, 150);
    if (kit_elements(da_dims) != 80)
        return -1;
    randn(d, &rng, da, 80);
    absolute(da, da_abs, 80);
    clcnn_tensor *ta = tensor(d, a_dims, a_prev), *tda = tensor(d, da_dims, da), *tout = tensor(d, a_dims, NULL);
    if (!ta || !tda || !tout)
        return -1;
    const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};
    for (int k = 0; k < 2; k++) {
        double got[150], ref[150], scale[150];
        if (!ok(d, clcnn_pool_backward(d->ctx, tda, ta, 2, 1, modes[k], tout), "pool_backward") ||
            !read_back(d, tout, got))
            return -1;
        clcnn_ref_pool_backward(da, a_prev, a_dims, 2, 1, modes[k], ref);
        clcnn_ref_pool_backward(da_abs, a_prev, a_dims, 2, 1, modes[k], scale);
        char mean[64];
        numpy_scalar_str(numpy_mean(da, 80), d->style, mean, sizeof mean);
        printf("%smode = %s\nmean of dA =  %s\n", k ? "\n" : "", k ? "average" : "max", mean);
        /* dA_prev[1,1]: the (n_W, n_C) = (3, 2) block at offset (1 * 5 + 1) * 6. */
        const size_t slice[2] = {3, 2};
        print_pair(d, labelled_array(d, "dA_prev[1,1] =  ", got + 36, slice, 2, 0),
                   labelled_array(d, "dA_prev[1,1] =  ", ref + 36, slice, 2, 0));
        verdict(d, k ? "dA_prev (average)" : "dA_prev (max)", a_dims, got, ref, scale);
    }
    return 0;
}

int cli_demo(int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_DEVICE,
        {"dtype", required_argument, NULL, 't'},
        {"print-style", required_argument, NULL, 'p'},
        CLI_OPTION_HELP,
        CLI_OPTIONS_END,
    };
    const char *device = NULL, *dtype_text = NULL, *style_text = NULL;
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "h", options)) != -1;) {
        switch (option) {
        case 'd': device = optarg; break;
        case 't': dtype_text = optarg; break;
        case 'p': style_text = optarg; break;
        default: return cli_option_exit(option, print_help);
        }
    }
    demo d = {0};
    d.style = NUMPY_PRINT_LEGACY;
    if (style_text) {
        if (strcmp(style_text, "modern") == 0)
            d.style = NUMPY_PRINT_MODERN;
        else if (strcmp(style_text, "1.13") != 0) {
            fprintf(stderr, "clcnn demo: --print-style wants 1.13 or modern, not \"%s\"\n", style_text);
            return CLI_EXIT_USAGE;
        }
    }
    clcnn_dtype requested = CLCNN_FLOAT64;
    if (dtype_text && cli_parse_dtype(COMMAND, dtype_text, &requested) != 0)
        return CLI_EXIT_USAGE;

    int status = cli_open_context(COMMAND, device, &d.ctx);
    if (status != CLI_EXIT_OK)
        return status;
    d.dtype = requested;
    if (!clcnn_context_supports_dtype(d.ctx, CLCNN_FLOAT64)) {
        if (dtype_text && requested == CLCNN_FLOAT64) {
            fprintf(stderr, "clcnn demo: %s has no float64 (cl_khr_fp64); use --dtype f32\n",
                    clcnn_context_device_name(d.ctx));
            clcnn_context_destroy(d.ctx);
            return CLI_EXIT_FAILURE;
        }
        d.dtype = CLCNN_FLOAT32;
    }

    printf("clcnn %s demo: the numpy walkthrough on %s, %s\n", clcnn_version(), clcnn_context_device_name(d.ctx),
           kit_dtype_name(d.dtype));
    if (d.dtype == CLCNN_FLOAT32)
        printf("Running in float32%s: inputs are rounded to float and the reference runs in\n"
               "double on those, so last digits differ from the walkthrough's float64 figures.\n",
               clcnn_context_supports_dtype(d.ctx, CLCNN_FLOAT64) ? " (--dtype f32)" : " (the device has no float64)");
    printf("Each result of the device is shown next to the CPU reference's (clcnn_ref_*,\n"
           "double). PASS: every value within %g eps*sum|terms| of the reference; zero_pad,\n"
           "max pooling and the mask must be equal.\n",
           KIT_TOLERANCE);

    conv_inputs *conv = calloc(1, sizeof *conv);
    int error = !conv;
    if (!error)
        error = step_zero_pad(&d) || step_conv_single_step(&d) || step_conv_forward(&d, conv) ||
                step_conv_backward(&d, conv) || step_pool_forward(&d) || step_mask_and_distribute(&d) ||
                step_pool_backward(&d);
    free(conv);
    for (int i = 0; i < d.tensor_count; i++)
        clcnn_tensor_destroy(d.tensors[i]);
    const char *device_name = clcnn_context_device_name(d.ctx);
    if (error) {
        fprintf(stderr, "clcnn demo: stopped at step %d on %s\n", d.step, device_name);
        clcnn_context_destroy(d.ctx);
        return CLI_EXIT_FAILURE;
    }
    if (d.failures)
        printf("\ndemo: %d of %d checks FAILED on %s (%s)\n", d.failures, d.checks, device_name,
               kit_dtype_name(d.dtype));
    else
        printf("\ndemo: all %d checks passed on %s (%s)\n", d.checks, device_name, kit_dtype_name(d.dtype));
    clcnn_context_destroy(d.ctx);
    return d.failures ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
