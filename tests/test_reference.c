/* Tests of the CPU reference (host/reference/walkthrough.c), the oracle of every
 * other suite, so it is checked against things that do not share its code:
 * the walkthrough's own examples, hand-computed cases, a naive convolution
 * over an explicitly padded input, and central finite differences. Needs no
 * OpenCL. CLCNN_TEST_SEED=<n> replays another seed. */
#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "kit.h"

#define MAX_HAND 32

static uint64_t test_seed = 0x5eedc1c2024ULL;

/* Each test draws from its own stream so tests do not depend on their order. */
static kit_rng rng_for(uint64_t stream)
{
    kit_rng r;
    kit_rng_init(&r, kit_seed_stream(test_seed, stream));
    return r;
}

/* ---- helpers ---- */

static double *new_array(size_t n)
{
    double *x = calloc(n ? n : 1, sizeof *x);
    ck_assert_ptr_nonnull(x);
    return x;
}

static void fill_nan(double *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        x[k] = NAN;
}

/* Fails the test unless |got - expected| <= tol (kit_within), showing the
 * values as every suite does (kit_mismatch_text). */
static void expect_close(const char *name, const char *what, size_t index, double got, double expected, double tol)
{
    char text[160];
    ck_assert_msg(kit_within(got, expected, tol), "%s: %s[%zu]: %s, tol %a, seed %#" PRIx64, name, what, index,
                  kit_mismatch_text(text, sizeof text, got, expected), tol, test_seed);
}

static void expect_equal(const char *name, const char *what, size_t index, double got, double expected)
{
    expect_close(name, what, index, got, expected, 0.0);
}

static void expect_all_equal(const char *name, const char *what, const double *got, const double *expected, size_t n)
{
    ck_assert_msg(kit_report_mismatches(stderr, name, what, got, expected, NULL, n, test_seed, NULL) == 0,
                  "%s: %s differs from the expected values (seed %#" PRIx64 ")", name, what, test_seed);
}

/* ---- walkthrough helpers: mask, distribute_value, zero_pad, single step ---- */

static const struct mask_case {
    const char *name;
    size_t n_h, n_w;
    double x[9];
    size_t first_max;
} mask_cases[] = {
    {"walkthrough [[1,3],[4,2]]", 2, 2, {1, 3, 4, 2}, 2}, {"all zeros", 2, 2, {0, 0, 0, 0}, 0},
    {"tie in row 0", 2, 3, {1, 7, 7, 7, 0, -1}, 1},       {"tie of negatives", 3, 1, {-2, -1, -1}, 1},
    {"-0 ties +0", 2, 2, {-0.0, 0.0, -1, -2}, 0},         {"1x1", 1, 1, {5}, 0},
    {"3x3 last", 3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9}, 8},
    /* A NaN beats every value and a later NaN an earlier one, as in
     * PyTorch (the NaN's place takes max pooling's gradient). */
    {"NaN first", 2, 2, {NAN, 9, 1, 2}, 0},                {"NaN in the middle", 1, 3, {1, NAN, 9}, 1},
    {"NaN last", 2, 2, {9, 1, 2, NAN}, 3},                 {"last of 3 NaN", 2, 3, {NAN, 1, NAN, 9, NAN, 2}, 4},
    {"NaN after +inf", 2, 2, {INFINITY, 1, NAN, 2}, 2},    {"all NaN", 1, 3, {NAN, NAN, NAN}, 2},
    {"first +inf", 1, 3, {1, INFINITY, INFINITY}, 1},      {"all -inf", 2, 1, {-INFINITY, -INFINITY}, 0},
};

START_TEST(test_create_mask_from_window)
{
    const struct mask_case *c = &mask_cases[_i];
    double mask[10];
    fill_nan(mask, 10);
    clcnn_ref_create_mask_from_window(c->x, c->n_h, c->n_w, mask);
    for (size_t k = 0; k < c->n_h * c->n_w; k++)
        expect_equal(c->name, "mask", k, mask[k], k == c->first_max ? 1.0 : 0.0);
    ck_assert_msg(isnan(mask[c->n_h * c->n_w]), "%s: wrote past the window", c->name);
}
END_TEST

static const struct distribute_case {
    const char *name;
    double dz;
    size_t n_h, n_w;
    double expected;
} distribute_cases[] = {
    {"walkthrough (2, (2, 2))", 2.0, 2, 2, 0.5},
    {"(3, (1, 3))", 3.0, 1, 3, 1.0},
    {"(-9, (3, 3))", -9.0, 3, 3, -1.0},
    {"(1, (1, 1))", 1.0, 1, 1, 1.0},
};

START_TEST(test_distribute_value)
{
    const struct distribute_case *c = &distribute_cases[_i];
    const size_t n = c->n_h * c->n_w;
    double a[10], want[9];
    for (size_t k = 0; k < n; k++)
        want[k] = c->expected;
    fill_nan(a, 10);
    clcnn_ref_distribute_value(c->dz, c->n_h, c->n_w, a);
    expect_all_equal(c->name, "a", a, want, n);
    ck_assert_msg(isnan(a[n]), "%s: wrote past the matrix", c->name);
}
END_TEST

static const struct zero_pad_case {
    const char *name;
    size_t dims[4];
    int pad;
} zero_pad_cases[] = {
    {"walkthrough (4,3,3,2) pad 2", {4, 3, 3, 2}, 2},
    {"pad 0 is a copy", {1, 2, 3, 1}, 0},
    {"pad 1, 3 channels", {2, 1, 4, 3}, 1},
    {"1x1 pad 3", {1, 1, 1, 5}, 3},
};

START_TEST(test_zero_pad)
{
    const struct zero_pad_case *c = &zero_pad_cases[_i];
    kit_rng r = rng_for(100 + (uint64_t)_i);
    const size_t m = c->dims[0], n_h = c->dims[1], n_w = c->dims[2], n_c = c->dims[3];
    const size_t p = (size_t)c->pad, n_h_pad = n_h + 2 * p, n_w_pad = n_w + 2 * p;
    const size_t n_pad = m * n_h_pad * n_w_pad * n_c;
    double *x = new_array(kit_elements(c->dims));
    double *x_pad = new_array(n_pad + 1);
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, x, kit_elements(c->dims));
    fill_nan(x_pad, n_pad + 1); /* the extra element catches writes past the end */

    clcnn_ref_zero_pad(x, c->dims, c->pad, x_pad);
    for (size_t i = 0; i < m; i++)
        for (size_t h = 0; h < n_h_pad; h++)
            for (size_t w = 0; w < n_w_pad; w++)
                for (size_t ch = 0; ch < n_c; ch++) {
                    const size_t k = ((i * n_h_pad + h) * n_w_pad + w) * n_c + ch;
                    const int inside = h >= p && h < p + n_h && w >= p && w < p + n_w;
                    if (inside) {
                        expect_equal(c->name, "x_pad", k, x_pad[k], x[((i * n_h + h - p) * n_w + w - p) * n_c + ch]);
                    } else {
                        expect_equal(c->name, "x_pad border", k, x_pad[k], 0.0);
                        ck_assert_msg(!signbit(x_pad[k]), "%s: x_pad[%zu] is -0", c->name, k);
                    }
                }
    ck_assert_msg(isnan(x_pad[n_pad]), "%s: wrote past x_pad", c->name);
    free(x);
    free(x_pad);
}
END_TEST

static const struct single_step_case {
    const char *name;
    size_t n;
    double a[27], w[27], b, expected;
} single_step_cases[] = {
    {"four terms", 4, {1, 2, 3, 4}, {0.5, -1, 2, 0.25}, 0.5, 6.0},
    {"bias only", 0, {0}, {0}, -1.5, -1.5},
    /* 1 - 2 + 3 - ... + 27 = 14 */
    {"3x3x3 alternating",
     27,
     {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27},
     {1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 1},
     -4.0,
     10.0},
};

START_TEST(test_conv_single_step)
{
    const struct single_step_case *c = &single_step_cases[_i];
    expect_equal(c->name, "Z", 0, clcnn_ref_conv_single_step(c->a, c->w, c->b, c->n), c->expected);
}
END_TEST

/* ---- output dims ---- */

/* An output-dims function returned rc with dims: the case wants want_rc, and
 * on success want_dims. */
static void expect_dims(const char *name, const char *what, int rc, int want_rc, const size_t dims[4],
                        const size_t want_dims[4])
{
    ck_assert_msg(rc == want_rc, "%s: rc %d, expected %d", name, rc, want_rc);
    for (size_t k = 0; rc == 0 && k < 4; k++)
        ck_assert_msg(dims[k] == want_dims[k], "%s: %s[%zu] = %zu, expected %zu", name, what, k, dims[k], want_dims[k]);
}

static const struct conv_dims_case {
    const char *name;
    size_t a_dims[4], w_dims[4];
    int stride, pad, rc;
    size_t z_dims[4];
} conv_dims_cases[] = {
    {"walkthrough", {10, 4, 4, 3}, {2, 2, 3, 8}, 2, 2, 0, {10, 4, 4, 8}},
    {"same 3x3", {8, 56, 56, 64}, {3, 3, 64, 64}, 1, 1, 0, {8, 56, 56, 64}},
    {"floor", {1, 7, 8, 1}, {2, 2, 1, 1}, 3, 0, 0, {1, 2, 3, 1}},
    {"non-square", {2, 5, 6, 3}, {3, 1, 3, 4}, 1, 0, 0, {2, 3, 6, 4}},
    {"window = padded input", {1, 2, 3, 1}, {4, 5, 1, 1}, 1, 1, 0, {1, 1, 1, 1}},
    {"pad >= f", {1, 3, 4, 2}, {2, 3, 2, 2}, 1, 3, 0, {1, 8, 8, 2}},
    {"f_h too large", {1, 2, 3, 1}, {5, 1, 1, 1}, 1, 1, -1, {0}},
    {"f_w too large", {1, 2, 3, 1}, {1, 6, 1, 1}, 1, 1, -1, {0}},
    {"n_C_prev mismatch", {1, 4, 4, 3}, {2, 2, 4, 1}, 1, 0, -1, {0}},
    {"stride 0", {1, 4, 4, 1}, {2, 2, 1, 1}, 0, 0, -1, {0}},
    {"stride -1", {1, 4, 4, 1}, {2, 2, 1, 1}, -1, 0, -1, {0}},
    {"pad -1", {1, 4, 4, 1}, {2, 2, 1, 1}, 1, -1, -1, {0}},
    {"f_h 0", {1, 4, 4, 1}, {0, 2, 1, 1}, 1, 0, -1, {0}},
    {"f_w 0", {1, 4, 4, 1}, {2, 0, 1, 1}, 1, 0, -1, {0}},
    {"m 0", {0, 4, 4, 1}, {2, 2, 1, 1}, 1, 0, -1, {0}},
    {"n_H 0", {1, 0, 4, 1}, {1, 1, 1, 1}, 1, 1, -1, {0}},
    {"n_C 0", {1, 4, 4, 1}, {2, 2, 1, 0}, 1, 0, -1, {0}},
    {"n_C_prev 0", {1, 4, 4, 0}, {2, 2, 0, 1}, 1, 0, -1, {0}},
};

START_TEST(test_conv_output_dims)
{
    const struct conv_dims_case *c = &conv_dims_cases[_i];
    size_t z_dims[4] = {0};
    const int rc = clcnn_ref_conv_output_dims(c->a_dims, c->w_dims, c->stride, c->pad, z_dims);
    expect_dims(c->name, "z_dims", rc, c->rc, z_dims, c->z_dims);
}
END_TEST

static const struct pool_dims_case {
    const char *name;
    size_t a_dims[4];
    int f, stride, rc;
    size_t out_dims[4];
} pool_dims_cases[] = {
    {"2x2 s2", {8, 56, 56, 64}, 2, 2, 0, {8, 28, 28, 64}},
    {"3x3 s2 floor", {8, 112, 112, 64}, 3, 2, 0, {8, 55, 55, 64}},
    {"stride > f", {1, 7, 8, 2}, 2, 3, 0, {1, 2, 3, 2}},
    {"whole input", {2, 4, 4, 3}, 4, 1, 0, {2, 1, 1, 3}},
    {"f 1", {1, 3, 5, 1}, 1, 2, 0, {1, 2, 3, 1}},
    {"f > n_H", {1, 3, 5, 1}, 4, 1, -1, {0}},
    {"f > n_W", {1, 5, 3, 1}, 4, 1, -1, {0}},
    {"f 0", {1, 4, 4, 1}, 0, 1, -1, {0}},
    {"f -2", {1, 4, 4, 1}, -2, 1, -1, {0}},
    {"stride 0", {1, 4, 4, 1}, 2, 0, -1, {0}},
    {"m 0", {0, 4, 4, 1}, 2, 2, -1, {0}},
    {"n_W 0", {1, 4, 0, 1}, 1, 1, -1, {0}},
    {"n_C 0", {1, 4, 4, 0}, 2, 2, -1, {0}},
};

START_TEST(test_pool_output_dims)
{
    const struct pool_dims_case *c = &pool_dims_cases[_i];
    size_t out_dims[4] = {0};
    expect_dims(c->name, "out_dims", clcnn_ref_pool_output_dims(c->a_dims, c->f, c->stride, out_dims), c->rc, out_dims,
                c->out_dims);
}
END_TEST

/* ---- convolution ---- */

static const struct conv_hand_case {
    const char *name;
    size_t a_dims[4], w_dims[4];
    int stride, pad;
    double a[MAX_HAND], w[MAX_HAND], b[2], z[MAX_HAND];
} conv_hand_cases[] = {
    /* clang-format off */
    {"3x3 * 2x2", {1, 3, 3, 1}, {2, 2, 1, 1}, 1, 0, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4}, {0.5},
     {37.5, 47.5, 67.5, 77.5}},
    /* the padded 5x5 input is read at rows/cols {0,1}, {2,3} */
    {"3x3 * 2x2 stride 2 pad 1", {1, 3, 3, 1}, {2, 2, 1, 1}, 2, 1, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4}, {0.5},
     {4.5, 18.5, 36.5, 77.5}},
    /* w[kw][cp][c]: z_0 = 1*1 + 2*0 + 3*2 + 4*1, z_1 = 1*0 + 2*1 + 3*-1 + 4*1 */
    {"2 in, 2 out channels", {1, 1, 2, 2}, {1, 2, 2, 2}, 1, 0, {1, 2, 3, 4}, {1, 0, 0, 1, 2, -1, 1, 1}, {10, -20},
     {21, -17}},
    {"pad > f: border outputs are the bias", {1, 1, 1, 1}, {1, 1, 1, 1}, 1, 1, {2}, {3}, {1},
     {1, 1, 1, 1, 7, 1, 1, 1, 1}},
    {"stride > f skips inputs", {1, 1, 5, 1}, {1, 2, 1, 1}, 3, 0, {1, 2, 3, 4, 5}, {1, 10}, {0}, {21, 54}},
    /* clang-format on */
};

START_TEST(test_conv_forward_hand)
{
    const struct conv_hand_case *c = &conv_hand_cases[_i];
    size_t z_dims[4];
    ck_assert_int_eq(clcnn_ref_conv_output_dims(c->a_dims, c->w_dims, c->stride, c->pad, z_dims), 0);
    const size_t n_z = kit_elements(z_dims);
    double z[MAX_HAND + 1];
    fill_nan(z, MAX_HAND + 1);
    clcnn_ref_conv_forward(c->a, c->a_dims, c->w, c->w_dims, c->b, c->stride, c->pad, z);
    expect_all_equal(c->name, "z", z, c->z, n_z);
    ck_assert_msg(isnan(z[n_z]), "%s: wrote past z", c->name);
}
END_TEST

static const struct conv_case {
    const char *name;
    size_t a_dims[4], w_dims[4];
    int stride, pad;
} conv_cases[] = {
    {"walkthrough layer", {10, 4, 4, 3}, {2, 2, 3, 8}, 2, 2},
    {"non-square 3x2, pad 1", {2, 5, 6, 3}, {3, 2, 3, 4}, 1, 1},
    {"stride 3 > f 2", {1, 7, 7, 2}, {2, 2, 2, 3}, 3, 0},
    {"pad 3 >= f 2x3", {1, 3, 4, 2}, {2, 3, 2, 2}, 1, 3},
    {"f 1, stride 2", {2, 4, 5, 3}, {1, 1, 3, 2}, 2, 1},
    {"1x3, stride 4 > f, pad 3 >= f", {1, 6, 5, 2}, {1, 3, 2, 2}, 4, 3},
    {"output 1x1", {1, 3, 3, 5}, {3, 3, 5, 7}, 1, 0},
    {"17 channels in, stride 2", {1, 5, 5, 17}, {3, 3, 17, 3}, 2, 1},
};

/* A case of conv_cases with normal a, w, b and g (dL/dz, or dz) drawn from
 * its stream, and room for z. */
struct conv_problem {
    const struct conv_case *c;
    size_t n_a, n_w, n_c, n_z;
    double *a, *w, *b, *g, *z;
};

static struct conv_problem conv_problem_new(const struct conv_case *c, uint64_t stream)
{
    kit_rng r = rng_for(stream);
    size_t z_dims[4];
    ck_assert_int_eq(clcnn_ref_conv_output_dims(c->a_dims, c->w_dims, c->stride, c->pad, z_dims), 0);
    const size_t n_a = kit_elements(c->a_dims), n_w = kit_elements(c->w_dims), n_c = c->w_dims[3];
    const size_t n_z = kit_elements(z_dims);
    /* z's extra element catches writes past the end. */
    struct conv_problem p = {
        c, n_a, n_w, n_c, n_z, new_array(n_a), new_array(n_w), new_array(n_c), new_array(n_z), new_array(n_z + 1)};
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, p.a, p.n_a);
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, p.w, p.n_w);
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, p.b, p.n_c);
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, p.g, p.n_z);
    return p;
}

static void conv_problem_free(struct conv_problem *p)
{
    free(p->a), free(p->w), free(p->b), free(p->g), free(p->z);
}

/* An independent formulation: build the padded input explicitly, then take
 * each window's dot product in the walkthrough's (vert, horiz, channel)
 * order. z_abs gets the sum of |terms| + |b| for the tolerance. */
static void naive_conv_forward(const struct conv_case *c, const double *a, const double *w, const double *b, double *z,
                               double *z_abs)
{
    const size_t m = c->a_dims[0], n_h_prev = c->a_dims[1], n_w_prev = c->a_dims[2];
    const size_t n_c_prev = c->a_dims[3], f_h = c->w_dims[0], f_w = c->w_dims[1];
    const size_t n_c = c->w_dims[3], p = (size_t)c->pad, s = (size_t)c->stride;
    const size_t n_h_pad = n_h_prev + 2 * p, n_w_pad = n_w_prev + 2 * p;
    const size_t n_h = (n_h_pad - f_h) / s + 1, n_w = (n_w_pad - f_w) / s + 1;
    double *a_pad = new_array(m * n_h_pad * n_w_pad * n_c_prev);
    for (size_t i = 0; i < m; i++)
        for (size_t h = 0; h < n_h_prev; h++)
            for (size_t x = 0; x < n_w_prev; x++)
                for (size_t cp = 0; cp < n_c_prev; cp++)
                    a_pad[((i * n_h_pad + h + p) * n_w_pad + x + p) * n_c_prev + cp] =
                        a[((i * n_h_prev + h) * n_w_prev + x) * n_c_prev + cp];
    for (size_t i = 0; i < m; i++)
        for (size_t h = 0; h < n_h; h++)
            for (size_t x = 0; x < n_w; x++)
                for (size_t c_out = 0; c_out < n_c; c_out++) {
                    double sum = 0.0, abs_sum = 0.0;
                    for (size_t kh = 0; kh < f_h; kh++)
                        for (size_t kw = 0; kw < f_w; kw++)
                            for (size_t cp = 0; cp < n_c_prev; cp++) {
                                const double term =
                                    a_pad[((i * n_h_pad + h * s + kh) * n_w_pad + x * s + kw) * n_c_prev + cp] *
                                    w[((kh * f_w + kw) * n_c_prev + cp) * n_c + c_out];
                                sum += term;
                                abs_sum += fabs(term);
                            }
                    const size_t k = ((i * n_h + h) * n_w + x) * n_c + c_out;
                    z[k] = sum + b[c_out];
                    z_abs[k] = abs_sum + fabs(b[c_out]);
                }
    free(a_pad);
}

START_TEST(test_conv_forward_naive)
{
    struct conv_problem p = conv_problem_new(&conv_cases[_i], 200 + (uint64_t)_i);
    const struct conv_case *c = p.c;
    double *z_want = new_array(p.n_z), *z_abs = new_array(p.n_z);
    fill_nan(p.z, p.n_z + 1);

    clcnn_ref_conv_forward(p.a, c->a_dims, p.w, c->w_dims, p.b, c->stride, c->pad, p.z);
    naive_conv_forward(c, p.a, p.w, p.b, z_want, z_abs);
    for (size_t k = 0; k < p.n_z; k++)
        expect_close(c->name, "z", k, p.z[k], z_want[k], 4 * DBL_EPSILON * z_abs[k]);
    ck_assert_msg(isnan(p.z[p.n_z]), "%s: wrote past z", c->name);
    conv_problem_free(&p);
    free(z_want), free(z_abs);
}
END_TEST

/* Hand-computed gradients of the 3x3 * 2x2 cases of conv_hand_cases; every
 * output starts as NaN, so a gradient left unwritten (the walkthrough never
 * copies dA_prev_pad back into dA_prev) fails. */
static const struct conv_backward_hand_case {
    const char *name;
    int stride, pad;
    double dz[4], da_prev[9], dw[4], db;
} conv_backward_hand_cases[] = {
    {"3x3 * 2x2", 1, 0, {1, 1, 1, 1}, {1, 3, 2, 4, 10, 6, 3, 7, 4}, {12, 16, 24, 28}, 4},
    {"3x3 * 2x2 stride 2 pad 1", 2, 1, {1, 2, 3, 4}, {4, 6, 8, 6, 4, 8, 12, 12, 16}, {20, 36, 36, 64}, 10},
};

START_TEST(test_conv_backward_hand)
{
    const struct conv_backward_hand_case *c = &conv_backward_hand_cases[_i];
    const size_t a_dims[4] = {1, 3, 3, 1}, w_dims[4] = {2, 2, 1, 1};
    const double a[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 2, 3, 4};
    double da_prev[10], dw[5], db[2];
    fill_nan(da_prev, 10);
    fill_nan(dw, 5);
    fill_nan(db, 2);
    clcnn_ref_conv_backward(c->dz, a, a_dims, w, w_dims, c->stride, c->pad, da_prev, dw, db);
    expect_all_equal(c->name, "da_prev", da_prev, c->da_prev, 9);
    expect_all_equal(c->name, "dw", dw, c->dw, 4);
    expect_equal(c->name, "db", 0, db[0], c->db);
    ck_assert_msg(isnan(da_prev[9]) && isnan(dw[4]) && isnan(db[1]), "%s: wrote past an output", c->name);
}
END_TEST

/* Each NULL output is skipped and the others come out bitwise as with all
 * three requested, whatever they held before. */
START_TEST(test_conv_backward_null_outputs)
{
    struct conv_problem p = conv_problem_new(&conv_cases[_i], 300 + (uint64_t)_i);
    const struct conv_case *c = p.c;
    const size_t n_a = p.n_a, n_w = p.n_w, n_c = p.n_c;
    const double *a = p.a, *w = p.w, *dz = p.g;
    double *da_all = new_array(n_a), *dw_all = new_array(n_w), *db_all = new_array(n_c);
    double *da = new_array(n_a), *dw = new_array(n_w), *db = new_array(n_c);
    clcnn_ref_conv_backward(dz, a, c->a_dims, w, c->w_dims, c->stride, c->pad, da_all, dw_all, db_all);

    for (unsigned skip = 1; skip < 8; skip++) {
        fill_nan(da, n_a);
        fill_nan(dw, n_w);
        fill_nan(db, n_c);
        clcnn_ref_conv_backward(dz, a, c->a_dims, w, c->w_dims, c->stride, c->pad, skip & 1 ? NULL : da,
                                skip & 2 ? NULL : dw, skip & 4 ? NULL : db);
        char name[160];
        snprintf(name, sizeof name, "%s, NULL mask %u", c->name, skip);
        if (!(skip & 1))
            expect_all_equal(name, "da_prev", da, da_all, n_a);
        if (!(skip & 2))
            expect_all_equal(name, "dw", dw, dw_all, n_w);
        if (!(skip & 4))
            expect_all_equal(name, "db", db, db_all, n_c);
    }
    conv_problem_free(&p);
    free(da_all), free(dw_all), free(db_all), free(da), free(dw), free(db);
}
END_TEST

/* ---- finite differences ----
 * L = sum(out * g) for a fixed random g, so dL/dout = g is what the backward
 * functions get. L is linear in every single input (conv is bilinear in a and
 * w; average pooling is linear; max pooling is piecewise linear and the
 * inputs are spaced 0.25 apart, far more than the step, so no window changes
 * its maximum). A central difference therefore has no truncation error, only
 * rounding: about eps * sum|terms of L| / step ~ 1e-16 * 1e2 / 1e-5 = 1e-9.
 * The step 1e-5 is the usual one and leaves three orders of margin below the
 * 1e-6 bound. The error is relative to max(1, |analytic|, |numeric|): with
 * unit normal data gradients are O(1), and the rounding error of L is
 * absolute, so gradients near zero must not be divided by their own size. */
#define FD_STEP 1e-5
#define FD_TOLERANCE 1e-6

static void check_gradient(const char *name, const char *what, double *x, size_t n, const double *analytic,
                           kit_loss_fn loss, void *problem)
{
    double *numeric = new_array(n), *bound = new_array(n);
    kit_central_differences(x, n, FD_STEP, loss, problem, numeric);
    for (size_t k = 0; k < n; k++)
        bound[k] = FD_TOLERANCE * fmax(1.0, fmax(fabs(analytic[k]), fabs(numeric[k])));
    const size_t mismatches = kit_report_mismatches(stderr, name, what, analytic, numeric, bound, n, test_seed, NULL);
    free(numeric), free(bound);
    ck_assert_msg(mismatches == 0, "%s: %zu of d%s differ from central differences of step %g (seed %#" PRIx64 ")",
                  name, mismatches, what, FD_STEP, test_seed);
}

static double dot(const double *x, const double *y, size_t n)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += x[k] * y[k];
    return sum;
}

static double conv_loss(void *problem)
{
    struct conv_problem *p = problem;
    clcnn_ref_conv_forward(p->a, p->c->a_dims, p->w, p->c->w_dims, p->b, p->c->stride, p->c->pad, p->z);
    return dot(p->z, p->g, p->n_z);
}

START_TEST(test_conv_gradient)
{
    struct conv_problem p = conv_problem_new(&conv_cases[_i], 400 + (uint64_t)_i);
    const struct conv_case *c = p.c;
    double *da = new_array(p.n_a), *dw = new_array(p.n_w), *db = new_array(p.n_c);
    clcnn_ref_conv_backward(p.g, p.a, c->a_dims, p.w, c->w_dims, c->stride, c->pad, da, dw, db);
    check_gradient(c->name, "a_prev", p.a, p.n_a, da, conv_loss, &p);
    check_gradient(c->name, "w", p.w, p.n_w, dw, conv_loss, &p);
    check_gradient(c->name, "b", p.b, p.n_c, db, conv_loss, &p);
    conv_problem_free(&p);
    free(da), free(dw), free(db);
}
END_TEST

/* ---- pooling ---- */

static const struct pool_hand_case {
    const char *name;
    size_t dims[4];
    int f, stride;
    clcnn_pool_mode mode;
    double a_prev[MAX_HAND], a[MAX_HAND];
} pool_hand_cases[] = {
#define POOL_4X4                                                                                                       \
    {                                                                                                                  \
        1, 9, 2, 0, 3, 4, 8, 5, 7, 6, -1, -2, 0, 5, -3, -4                                                             \
    }
    {"4x4 max f2 s2", {1, 4, 4, 1}, 2, 2, CLCNN_POOL_MAX, POOL_4X4, {9, 8, 7, -1}},
    {"4x4 average f2 s2", {1, 4, 4, 1}, 2, 2, CLCNN_POOL_AVERAGE, POOL_4X4, {17.0 / 4, 15.0 / 4, 18.0 / 4, -10.0 / 4}},
    {"4x4 max f3 s1", {1, 4, 4, 1}, 3, 1, CLCNN_POOL_MAX, POOL_4X4, {9, 9, 8, 8}},
    {"4x4 average f3 s1", {1, 4, 4, 1}, 3, 1, CLCNN_POOL_AVERAGE, POOL_4X4, {39.0 / 9, 31.0 / 9, 29.0 / 9, 18.0 / 9}},
    {"4x4 max f1 s3", {1, 4, 4, 1}, 1, 3, CLCNN_POOL_MAX, POOL_4X4, {1, 0, 0, -4}},
    {"4x4 average f4", {1, 4, 4, 1}, 4, 1, CLCNN_POOL_AVERAGE, POOL_4X4, {40.0 / 16}},
    /* channels interleaved: channel 0 is 1, 5, 3, 2 and channel 1 is 8, 2, 4, 7 */
    {"2 channels max", {1, 2, 2, 2}, 2, 2, CLCNN_POOL_MAX, {1, 8, 5, 2, 3, 4, 2, 7}, {5, 8}},
    {"2 channels average", {1, 2, 2, 2}, 2, 2, CLCNN_POOL_AVERAGE, {1, 8, 5, 2, 3, 4, 2, 7}, {11.0 / 4, 21.0 / 4}},
    {"batch of 2 max, 1x3", {2, 1, 3, 1}, 1, 2, CLCNN_POOL_MAX, {1, 2, 3, 4, 5, 6}, {1, 3, 4, 6}},
    /* Any NaN in a window gives NaN; infinities are values like others. */
    {"max with NaN and infinities", {1, 2, 6, 1}, 2, 2, CLCNN_POOL_MAX,
     {NAN, 1, -INFINITY, -INFINITY, 1, INFINITY, 5, 9, -INFINITY, -INFINITY, 9, NAN}, {NAN, -INFINITY, NAN}},
    {"average with NaN and infinities", {1, 2, 6, 1}, 2, 2, CLCNN_POOL_AVERAGE,
     {NAN, 1, 1, INFINITY, 1, -INFINITY, 5, 9, 1, 1, INFINITY, 1}, {NAN, INFINITY, NAN}},
#undef POOL_4X4
};

/* Shapes for the random checks: many ties, and central differences. */
static const struct pool_case {
    const char *name;
    size_t dims[4];
    int f, stride;
} pool_cases[] = {
    {"f2 s2", {2, 4, 6, 3}, 2, 2},
    {"f2 s1 overlapping", {2, 5, 6, 3}, 2, 1},
    {"f3 s2 overlapping", {1, 7, 7, 2}, 3, 2},
    {"stride 3 > f 2", {1, 7, 8, 2}, 2, 3},
    {"f 1", {1, 3, 4, 2}, 1, 1},
    {"whole input, output 1x1", {2, 4, 4, 3}, 4, 1},
    {"3x9 f3 s3", {1, 5, 9, 1}, 3, 3},
};

#define N_POOL_CASES (sizeof pool_cases / sizeof pool_cases[0])

START_TEST(test_pool_forward_hand)
{
    const struct pool_hand_case *c = &pool_hand_cases[_i];
    size_t out_dims[4];
    ck_assert_int_eq(clcnn_ref_pool_output_dims(c->dims, c->f, c->stride, out_dims), 0);
    const size_t n_out = kit_elements(out_dims);
    double a[MAX_HAND + 1];
    fill_nan(a, MAX_HAND + 1);
    clcnn_ref_pool_forward(c->a_prev, c->dims, c->f, c->stride, c->mode, a);
    for (size_t k = 0; k < n_out; k++) {
        if (isnan(c->a[k]))
            ck_assert_msg(isnan(a[k]), "%s: a[%zu] is %g, want NaN", c->name, k, a[k]);
        else if (c->mode == CLCNN_POOL_MAX)
            expect_equal(c->name, "a", k, a[k], c->a[k]); /* max must be exact */
        else
            expect_close(c->name, "a", k, a[k], c->a[k], 4 * DBL_EPSILON * fabs(c->a[k]));
    }
    ck_assert_msg(isnan(a[n_out]), "%s: wrote past a", c->name);
}
END_TEST

static const struct pool_backward_hand_case {
    const char *name;
    size_t dims[4];
    int f, stride;
    clcnn_pool_mode mode;
    double a_prev[MAX_HAND], da[MAX_HAND], da_prev[MAX_HAND];
} pool_backward_hand_cases[] = {
    /* clang-format off */
    {"average f2 s2", {1, 4, 4, 1}, 2, 2, CLCNN_POOL_AVERAGE, {0}, {1, 2, 3, 4},
     {.25, .25, .5, .5, .25, .25, .5, .5, .75, .75, 1, 1, .75, .75, 1, 1}},
    {"average f2 s1 overlapping", {1, 3, 3, 1}, 2, 1, CLCNN_POOL_AVERAGE, {0}, {1, 1, 1, 1},
     {.25, .5, .25, .5, 1, .5, .25, .5, .25}},
    {"max over zeros f2 s2 (after ReLU)", {1, 4, 4, 1}, 2, 2, CLCNN_POOL_MAX, {0}, {1, 2, 3, 4},
     {1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0}},
    {"max over zeros f3 s1 overlapping", {1, 4, 4, 1}, 3, 1, CLCNN_POOL_MAX, {0}, {1, 2, 3, 4},
     {1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    /* windows (row, col) -> first max: (0,0)->(0,1) (0,1)->(0,1) (0,2)->(0,2)
     * (1,0)->(1,0) (1,1)->(1,1) (1,2)->(1,2) */
    {"max plateau f2 s1 overlapping", {1, 3, 4, 1}, 2, 1, CLCNN_POOL_MAX, {1, 5, 5, 1, 5, 5, 5, 5, 1, 1, 1, 1},
     {1, 2, 3, 4, 5, 6}, {0, 3, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0}},
    /* windows (0,0): NaN at (0,0), 5, (1,0) 7, NaN at (1,1) -> (1,1);
     * (0,1): 1, NaN at (0,3), NaN at (1,2), +inf -> (1,2); (0,2): NaN at
     * (0,4) only -> (0,4); (0,3): -inf, -inf, 2, +inf at (1,7) -> (1,7) */
    {"max with NaN: the last NaN of a window", {1, 2, 8, 1}, 2, 2, CLCNN_POOL_MAX,
     {NAN, 5, 1, NAN, NAN, 9, -INFINITY, -INFINITY, 7, NAN, NAN, INFINITY, 8, 9, 2, INFINITY},
     {1, 2, 3, 4}, {0, 0, 0, 0, 3, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 4}},
    {"max f2 s3: uncovered inputs get 0", {1, 5, 5, 1}, 2, 3, CLCNN_POOL_MAX,
     {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}, {1, 2, 3, 4},
     {0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 4}},
    /* clang-format on */
};

START_TEST(test_pool_backward_hand)
{
    const struct pool_backward_hand_case *c = &pool_backward_hand_cases[_i];
    const size_t n = kit_elements(c->dims);
    double da_prev[MAX_HAND + 1];
    fill_nan(da_prev, MAX_HAND + 1);
    clcnn_ref_pool_backward(c->da, c->a_prev, c->dims, c->f, c->stride, c->mode, da_prev);
    expect_all_equal(c->name, "da_prev", da_prev, c->da_prev, n);
    ck_assert_msg(isnan(da_prev[n]), "%s: wrote past da_prev", c->name);
}
END_TEST

/* Many ties (values in {0, 1, 2}): the gradient of each window goes to its
 * first maximum, found here by scanning the window backwards with >=, and
 * the total gradient is preserved. */
START_TEST(test_pool_max_ties)
{
    const struct pool_case *c = &pool_cases[_i];
    kit_rng r = rng_for(500 + (uint64_t)_i);
    size_t out_dims[4];
    ck_assert_int_eq(clcnn_ref_pool_output_dims(c->dims, c->f, c->stride, out_dims), 0);
    const size_t n = kit_elements(c->dims), n_out = kit_elements(out_dims);
    const size_t n_h_prev = c->dims[1], n_w_prev = c->dims[2], n_c = c->dims[3];
    const size_t f = (size_t)c->f, s = (size_t)c->stride;
    double *a_prev = new_array(n), *da = new_array(n_out), *da_prev = new_array(n);
    double *want = new_array(n);
    for (size_t k = 0; k < n; k++)
        a_prev[k] = (double)(kit_rng_next(&r) % 3);
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, da, n_out);

    double da_sum = 0.0, da_abs = 0.0;
    for (size_t i = 0; i < out_dims[0]; i++)
        for (size_t h = 0; h < out_dims[1]; h++)
            for (size_t x = 0; x < out_dims[2]; x++)
                for (size_t ch = 0; ch < n_c; ch++) {
                    size_t best = 0;
                    double best_value = -INFINITY;
                    for (size_t kk = f * f; kk-- > 0;) {
                        const size_t at = ((i * n_h_prev + h * s + kk / f) * n_w_prev + x * s + kk % f) * n_c + ch;
                        if (a_prev[at] >= best_value)
                            best = at, best_value = a_prev[at];
                    }
                    const double g = da[((i * out_dims[1] + h) * out_dims[2] + x) * n_c + ch];
                    want[best] += g;
                    da_sum += g;
                    da_abs += fabs(g);
                }

    fill_nan(da_prev, n);
    clcnn_ref_pool_backward(da, a_prev, c->dims, c->f, c->stride, CLCNN_POOL_MAX, da_prev);
    double got_sum = 0.0;
    for (size_t k = 0; k < n; k++) {
        expect_close(c->name, "da_prev", k, da_prev[k], want[k], 4 * DBL_EPSILON * da_abs);
        got_sum += da_prev[k];
    }
    expect_close(c->name, "sum(da_prev) vs sum(da)", 0, got_sum, da_sum, 4 * DBL_EPSILON * (double)n_out * da_abs);
    free(a_prev), free(da), free(da_prev), free(want);
}
END_TEST

struct pool_problem {
    const struct pool_case *c;
    clcnn_pool_mode mode;
    double *a_prev, *g, *a;
    size_t n_out;
};

static double pool_loss(void *problem)
{
    struct pool_problem *p = problem;
    clcnn_ref_pool_forward(p->a_prev, p->c->dims, p->c->f, p->c->stride, p->mode, p->a);
    return dot(p->a, p->g, p->n_out);
}

/* _i runs over pool_cases x {max, average}. */
START_TEST(test_pool_gradient)
{
    const struct pool_case *c = &pool_cases[_i / 2];
    const clcnn_pool_mode mode = _i % 2 ? CLCNN_POOL_AVERAGE : CLCNN_POOL_MAX;
    kit_rng r = rng_for(600 + (uint64_t)_i);
    size_t out_dims[4];
    ck_assert_int_eq(clcnn_ref_pool_output_dims(c->dims, c->f, c->stride, out_dims), 0);
    const size_t n = kit_elements(c->dims), n_out = kit_elements(out_dims);
    struct pool_problem p = {c, mode, new_array(n), new_array(n_out), new_array(n_out), n_out};
    double *da_prev = new_array(n);
    char name[160];
    snprintf(name, sizeof name, "%s, %s", c->name, mode == CLCNN_POOL_MAX ? "max" : "average");

    /* distinct values 0.25 apart, shuffled (Fisher-Yates) */
    for (size_t k = 0; k < n; k++)
        p.a_prev[k] = 0.25 * ((double)k - (double)n / 2);
    for (size_t k = n - 1; k > 0; k--) {
        const size_t j = (size_t)(kit_rng_next(&r) % (k + 1));
        const double t = p.a_prev[k];
        p.a_prev[k] = p.a_prev[j];
        p.a_prev[j] = t;
    }
    kit_rng_fill(&r, CLCNN_FLOAT64, KIT_NORMAL, p.g, n_out);

    clcnn_ref_pool_backward(p.g, p.a_prev, c->dims, c->f, c->stride, mode, da_prev);
    check_gradient(name, "a_prev", p.a_prev, n, da_prev, pool_loss, &p);
    free(p.a_prev), free(p.g), free(p.a), free(da_prev);
}
END_TEST

/* ---- the suite ---- */

#define COUNT(table) ((int)(sizeof(table) / sizeof((table)[0])))

static Suite *reference_suite(void)
{
    /* One row per loop test, grouped into test cases by consecutive name. */
    const struct {
        const char *tcase;
        int timeout;
        const TTest *test;
        int count;
    } rows[] = {
        {"walkthrough helpers", 0, test_create_mask_from_window, COUNT(mask_cases)},
        {"walkthrough helpers", 0, test_distribute_value, COUNT(distribute_cases)},
        {"walkthrough helpers", 0, test_zero_pad, COUNT(zero_pad_cases)},
        {"walkthrough helpers", 0, test_conv_single_step, COUNT(single_step_cases)},
        {"output dims", 0, test_conv_output_dims, COUNT(conv_dims_cases)},
        {"output dims", 0, test_pool_output_dims, COUNT(pool_dims_cases)},
        {"convolution", 120, test_conv_forward_hand, COUNT(conv_hand_cases)},
        {"convolution", 120, test_conv_forward_naive, COUNT(conv_cases)},
        {"convolution", 120, test_conv_backward_hand, COUNT(conv_backward_hand_cases)},
        {"convolution", 120, test_conv_backward_null_outputs, COUNT(conv_cases)},
        {"convolution", 120, test_conv_gradient, COUNT(conv_cases)},
        {"pooling", 120, test_pool_forward_hand, COUNT(pool_hand_cases)},
        {"pooling", 120, test_pool_backward_hand, COUNT(pool_backward_hand_cases)},
        {"pooling", 120, test_pool_max_ties, COUNT(pool_cases)},
        {"pooling", 120, test_pool_gradient, (int)(2 * N_POOL_CASES)},
    };
    Suite *suite = suite_create("reference");
    TCase *tc = NULL;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (i == 0 || strcmp(rows[i].tcase, rows[i - 1].tcase) != 0) {
            tc = tcase_create(rows[i].tcase);
            if (rows[i].timeout)
                tcase_set_timeout(tc, rows[i].timeout);
            suite_add_tcase(suite, tc);
        }
        tcase_add_loop_test(tc, rows[i].test, 0, rows[i].count);
    }
    return suite;
}

int main(void)
{
    const char *seed_text = getenv("CLCNN_TEST_SEED");
    if (seed_text && *seed_text)
        test_seed = strtoull(seed_text, NULL, 0);
    printf("test_reference: seed %#" PRIx64 "\n", test_seed);

    SRunner *runner = srunner_create(reference_suite());
    srunner_set_fork_status(runner, CK_NOFORK); /* no OpenCL here, but keep one process */
    srunner_run_all(runner, CK_NORMAL);
    const int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
