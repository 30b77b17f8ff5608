/* Device tests of clcnn_conv_forward and clcnn_conv_backward: a table of
 * shapes in both dtypes against the CPU reference (tolerance from the
 * absolute terms of each reduction), bitwise repeatability, backward calls
 * with some outputs NULL, and a float64 finite-difference check of the
 * device gradients. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

typedef struct conv_case {
    const char *name;
    size_t m, n_H_prev, n_W_prev, n_C_prev;
    size_t f_h, f_w, n_C;
    int stride, pad;
} conv_case;

static const conv_case cases[] = {
    {"walkthrough", 10, 4, 4, 3, 2, 2, 8, 2, 2},
    {"f1", 1, 5, 6, 3, 1, 1, 7, 1, 0},
    {"f1_stride2_pad1", 2, 7, 5, 7, 1, 1, 3, 2, 1},
    {"f_is_input_out_1x1", 2, 5, 5, 3, 5, 5, 17, 1, 0},
    {"f_is_input_h_ne_w", 1, 4, 6, 1, 4, 6, 1, 1, 0},
    {"stride_gt_f", 2, 9, 8, 3, 2, 2, 7, 3, 0},
    {"stride_gt_f_pad1", 1, 10, 11, 7, 1, 2, 3, 4, 1},
    {"pad_ge_f", 2, 5, 4, 3, 2, 2, 7, 1, 3},
    {"pad_gt_f_stride2", 1, 6, 7, 1, 3, 3, 3, 2, 4},
    {"nonsquare_w_c17_to_c33", 3, 8, 6, 17, 3, 2, 33, 1, 1},
    {"c33_to_c17_stride2", 1, 6, 5, 33, 3, 3, 17, 2, 1},
    {"c1_to_c1", 2, 7, 7, 1, 3, 3, 1, 1, 1},
    {"fmnist_like_5x5", 3, 12, 12, 1, 5, 5, 32, 1, 2},
    {"f5x3_stride2_pad2", 2, 11, 13, 3, 5, 3, 7, 2, 2},
    /* Rows that a smaller tile divides (host/conv.c tile_for_width): 28
     * wide in 7-pixel tiles on CPUs, forward and few-channel dA; 10 wide
     * outputs and stride-2 chains of 10 in 5-pixel tiles. */
    {"rows_28_tile7_c1", 1, 28, 28, 1, 5, 5, 8, 1, 2},
    {"rows_10_tile5_stride2", 1, 9, 20, 5, 3, 3, 9, 2, 1},
    {"big_4x30x30x33_to_17", 4, 30, 30, 33, 3, 3, 17, 1, 1},
    {"big_2x40x37x64_to_64", 2, 40, 37, 64, 3, 3, 64, 1, 1},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Small shapes for the finite-difference check (each element of a_prev, w
 * and b costs two device forward passes). */
static const conv_case gradient_cases[] = {
    {"gc_stride2_pad1_nonsquare", 2, 5, 4, 3, 3, 2, 2, 2, 1},
    {"gc_pad_ge_f", 1, 4, 5, 2, 2, 2, 3, 1, 2},
    {"gc_stride_gt_f", 1, 7, 6, 2, 2, 1, 2, 3, 0},
};
#define N_GRADIENT_CASES (sizeof gradient_cases / sizeof gradient_cases[0])

typedef struct conv_problem {
    char name[160];
    clcnn_dtype dtype;
    uint64_t seed;
    int stride, pad;
    size_t a_dims[4], w_dims[4], b_dims[4], z_dims[4];
    size_t n_a, n_w, n_b, n_z;
    double *a, *w, *b, *dz;
} conv_problem;

static void problem_init(conv_problem *p, const conv_case *c, clcnn_dtype dtype,
                         unsigned seed_index)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s/%s", c->name, kit_dtype_name(dtype));
    p->dtype = dtype;
    p->seed = test_case_seed(seed_index);
    p->stride = c->stride;
    p->pad = c->pad;
    size_t a_dims[4] = {c->m, c->n_H_prev, c->n_W_prev, c->n_C_prev};
    size_t w_dims[4] = {c->f_h, c->f_w, c->n_C_prev, c->n_C};
    size_t b_dims[4] = {1, 1, 1, c->n_C};
    memcpy(p->a_dims, a_dims, sizeof a_dims);
    memcpy(p->w_dims, w_dims, sizeof w_dims);
    memcpy(p->b_dims, b_dims, sizeof b_dims);
    ck_assert_msg(clcnn_ref_conv_output_dims(p->a_dims, p->w_dims, c->stride, c->pad,
                                             p->z_dims) == 0,
                  "%s: the case table holds an invalid shape", p->name);
    p->n_a = kit_elements(p->a_dims);
    p->n_w = kit_elements(p->w_dims);
    p->n_b = kit_elements(p->b_dims);
    p->n_z = kit_elements(p->z_dims);
    p->a = test_alloc_doubles(p->n_a);
    p->w = test_alloc_doubles(p->n_w);
    p->b = test_alloc_doubles(p->n_b);
    p->dz = test_alloc_doubles(p->n_z);
    kit_rng rng;
    kit_rng_init(&rng, p->seed);
    kit_rng_fill(&rng, dtype, KIT_NORMAL, p->a, p->n_a);
    kit_rng_fill(&rng, dtype, KIT_NORMAL, p->w, p->n_w);
    kit_rng_fill(&rng, dtype, KIT_NORMAL, p->b, p->n_b);
    kit_rng_fill(&rng, dtype, KIT_NORMAL, p->dz, p->n_z);
}

static void problem_free(conv_problem *p)
{
    free(p->a);
    free(p->w);
    free(p->b);
    free(p->dz);
}

START_TEST(test_conv_forward_matches_reference)
{
    clcnn_dtype dtype = _i % 2 == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
    conv_problem p;
    problem_init(&p, &cases[_i / 2], dtype, (unsigned)_i);
    if (!test_dtype_usable(ctx, dtype, p.name) || test_skip_big_case(p.name)) {
        problem_free(&p);
        return;
    }
    double *ref = test_alloc_doubles(p.n_z);
    double *bound = test_alloc_doubles(p.n_z);
    double *got = test_alloc_doubles(p.n_z);
    clcnn_ref_conv_forward(p.a, p.a_dims, p.w, p.w_dims, p.b, p.stride, p.pad, ref);
    ck_assert_int_eq(kit_conv_forward_terms(p.a, p.a_dims, p.w, p.w_dims, p.b, p.stride, p.pad,
                                            bound),
                     0);
    kit_tolerance_bounds(dtype, bound, bound, p.n_z);

    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a);
    clcnn_tensor *tw = test_tensor_from(ctx, dtype, p.w_dims, p.w);
    clcnn_tensor *tb = test_tensor_from(ctx, dtype, p.b_dims, p.b);
    clcnn_tensor *tz = test_tensor_from(ctx, dtype, p.z_dims, NULL);
    TEST_OK(ctx, clcnn_conv_forward(ctx, ta, tw, tb, p.stride, p.pad, tz));
    test_tensor_get(ctx, tz, got);
    size_t mismatches = check_close(p.name, "conv_forward z", got, ref, bound, p.n_z, p.seed);

    size_t bytes;
    void *first = test_tensor_get_raw(ctx, tz, &bytes);
    TEST_OK(ctx, clcnn_conv_forward(ctx, ta, tw, tb, p.stride, p.pad, tz));
    int repeatable = test_raw_equal(ctx, tz, first, bytes);

    free(first);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tb);
    clcnn_tensor_destroy(tz);
    free(ref);
    free(bound);
    free(got);
    uint64_t seed = p.seed;
    char name[sizeof p.name];
    memcpy(name, p.name, sizeof name);
    problem_free(&p);
    ck_assert_msg(mismatches == 0, "%s: conv_forward: %zu mismatches (seed 0x%llx)", name,
                  mismatches, (unsigned long long)seed);
    ck_assert_msg(repeatable, "%s: conv_forward: second run differs bitwise", name);
}
END_TEST

/* The reference gradients and their bounds for one problem. */
typedef struct conv_gradients {
    double *da, *dw, *db;
    double *da_bound, *dw_bound, *db_bound;
} conv_gradients;

static void gradients_init(conv_gradients *g, const conv_problem *p)
{
    g->da = test_alloc_doubles(p->n_a);
    g->dw = test_alloc_doubles(p->n_w);
    g->db = test_alloc_doubles(p->n_b);
    g->da_bound = test_alloc_doubles(p->n_a);
    g->dw_bound = test_alloc_doubles(p->n_w);
    g->db_bound = test_alloc_doubles(p->n_b);
    clcnn_ref_conv_backward(p->dz, p->a, p->a_dims, p->w, p->w_dims, p->stride, p->pad, g->da,
                            g->dw, g->db);
    ck_assert_int_eq(kit_conv_backward_terms(p->dz, p->a, p->a_dims, p->w, p->w_dims, p->stride,
                                             p->pad, g->da_bound, g->dw_bound, g->db_bound),
                     0);
    kit_tolerance_bounds(p->dtype, g->da_bound, g->da_bound, p->n_a);
    kit_tolerance_bounds(p->dtype, g->dw_bound, g->dw_bound, p->n_w);
    kit_tolerance_bounds(p->dtype, g->db_bound, g->db_bound, p->n_b);
}

static void gradients_free(conv_gradients *g)
{
    free(g->da);
    free(g->dw);
    free(g->db);
    free(g->da_bound);
    free(g->dw_bound);
    free(g->db_bound);
}

/* Which of da_prev, dw, db a backward call computes. */
enum { WANT_DA = 1, WANT_DW = 2, WANT_DB = 4, WANT_ALL = 7 };

/* Runs conv_backward on the device with the requested outputs (NaN-filled
 * beforehand, the others NULL) and compares them with the reference. With
 * repeatable non-NULL, also runs it a second time over the same outputs and
 * sets *repeatable to whether every output came out bitwise equal. */
static size_t run_backward(const conv_problem *p, const conv_gradients *g, clcnn_tensor *tdz,
                           clcnn_tensor *ta, clcnn_tensor *tw, int want, int *repeatable)
{
    clcnn_tensor *tda = (want & WANT_DA) ? test_tensor_from(ctx, p->dtype, p->a_dims, NULL) : NULL;
    clcnn_tensor *tdw = (want & WANT_DW) ? test_tensor_from(ctx, p->dtype, p->w_dims, NULL) : NULL;
    clcnn_tensor *tdb = (want & WANT_DB) ? test_tensor_from(ctx, p->dtype, p->b_dims, NULL) : NULL;
    TEST_OK(ctx, clcnn_conv_backward(ctx, tdz, ta, tw, p->stride, p->pad, tda, tdw, tdb));

    char what[64];
    const char *suffix = want == WANT_ALL ? "" : " (partial call)";
    size_t mismatches = 0;
    clcnn_tensor *outputs[3] = {tda, tdw, tdb};
    const double *refs[3] = {g->da, g->dw, g->db};
    const double *bounds[3] = {g->da_bound, g->dw_bound, g->db_bound};
    const size_t counts[3] = {p->n_a, p->n_w, p->n_b};
    const char *names[3] = {"dA_prev", "dW", "db"};
    void *first[3] = {NULL, NULL, NULL};
    size_t first_bytes[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (outputs[k] == NULL)
            continue;
        double *got = test_alloc_doubles(counts[k]);
        test_tensor_get(ctx, outputs[k], got);
        snprintf(what, sizeof what, "conv_backward %s%s", names[k], suffix);
        mismatches += check_close(p->name, what, got, refs[k], bounds[k], counts[k], p->seed);
        free(got);
        if (repeatable != NULL)
            first[k] = test_tensor_get_raw(ctx, outputs[k], &first_bytes[k]);
    }
    if (repeatable != NULL) {
        /* Over the first results: this also catches accumulating instead of
         * overwriting. */
        TEST_OK(ctx, clcnn_conv_backward(ctx, tdz, ta, tw, p->stride, p->pad, tda, tdw, tdb));
        *repeatable = 1;
        for (int k = 0; k < 3; k++) {
            if (outputs[k] == NULL)
                continue;
            if (!test_raw_equal(ctx, outputs[k], first[k], first_bytes[k])) {
                fprintf(stderr, "case %s: conv_backward %s: second run differs bitwise\n",
                        p->name, names[k]);
                *repeatable = 0;
            }
            free(first[k]);
        }
    }
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tdw);
    clcnn_tensor_destroy(tdb);
    return mismatches;
}

START_TEST(test_conv_backward_matches_reference)
{
    clcnn_dtype dtype = _i % 2 == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
    conv_problem p;
    problem_init(&p, &cases[_i / 2], dtype, 1000u + (unsigned)_i);
    if (!test_dtype_usable(ctx, dtype, p.name) || test_skip_big_case(p.name)) {
        problem_free(&p);
        return;
    }
    conv_gradients g;
    gradients_init(&g, &p);
    clcnn_tensor *tdz = test_tensor_from(ctx, dtype, p.z_dims, p.dz);
    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a);
    clcnn_tensor *tw = test_tensor_from(ctx, dtype, p.w_dims, p.w);

    int repeatable = 0;
    size_t mismatches = run_backward(&p, &g, tdz, ta, tw, WANT_ALL, &repeatable);
    static const int partial[] = {WANT_DA, WANT_DW, WANT_DB, WANT_DA | WANT_DB,
                                  WANT_DW | WANT_DB, WANT_DA | WANT_DW};
    for (size_t k = 0; k < sizeof partial / sizeof partial[0]; k++)
        mismatches += run_backward(&p, &g, tdz, ta, tw, partial[k], NULL);

    clcnn_tensor_destroy(tdz);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    gradients_free(&g);
    uint64_t seed = p.seed;
    char name[sizeof p.name];
    memcpy(name, p.name, sizeof name);
    problem_free(&p);
    ck_assert_msg(mismatches == 0, "%s: conv_backward: %zu mismatches (seed 0x%llx)", name,
                  mismatches, (unsigned long long)seed);
    ck_assert_msg(repeatable, "%s: conv_backward: second run differs bitwise", name);
}
END_TEST

/* L = sum(conv_forward(a, w, b) * g), computed from the device's forward pass. */
static double device_loss(clcnn_tensor *ta, clcnn_tensor *tw, clcnn_tensor *tb,
                          clcnn_tensor *tz, const conv_problem *p, const double *g, double *z)
{
    TEST_OK(ctx, clcnn_conv_forward(ctx, ta, tw, tb, p->stride, p->pad, tz));
    test_tensor_get(ctx, tz, z);
    double loss = 0.0;
    for (size_t i = 0; i < p->n_z; i++)
        loss += z[i] * g[i];
    return loss;
}

/* Central differences of L over every element of values (the contents of
 * tensor t), compared with the device gradient. */
static size_t check_finite_differences(const conv_problem *p, const char *what, double *values,
                                       size_t n, clcnn_tensor *t, const double *device_grad,
                                       clcnn_tensor *ta, clcnn_tensor *tw, clcnn_tensor *tb,
                                       clcnn_tensor *tz, double *z)
{
    const double h = 1e-5;
    double scale = 1.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(device_grad[i]));
    double *numeric = test_alloc_doubles(n);
    double *tolerance = test_alloc_doubles(n);
    for (size_t i = 0; i < n; i++) {
        double saved = values[i];
        values[i] = saved + h;
        test_tensor_set(ctx, t, values);
        double loss_plus = device_loss(ta, tw, tb, tz, p, p->dz, z);
        values[i] = saved - h;
        test_tensor_set(ctx, t, values);
        double loss_minus = device_loss(ta, tw, tb, tz, p, p->dz, z);
        values[i] = saved;
        numeric[i] = (loss_plus - loss_minus) / (2.0 * h);
        tolerance[i] = 1e-6 * scale;
    }
    test_tensor_set(ctx, t, values);
    size_t mismatches = check_close(p->name, what, device_grad, numeric, tolerance, n, p->seed);
    free(numeric);
    free(tolerance);
    return mismatches;
}

START_TEST(test_conv_gradient_finite_differences)
{
    conv_problem p;
    problem_init(&p, &gradient_cases[_i], CLCNN_FLOAT64, 2000u + (unsigned)_i);
    if (!test_dtype_usable(ctx, CLCNN_FLOAT64, p.name)) {
        problem_free(&p);
        return;
    }
    clcnn_tensor *ta = test_tensor_from(ctx, p.dtype, p.a_dims, p.a);
    clcnn_tensor *tw = test_tensor_from(ctx, p.dtype, p.w_dims, p.w);
    clcnn_tensor *tb = test_tensor_from(ctx, p.dtype, p.b_dims, p.b);
    clcnn_tensor *tz = test_tensor_from(ctx, p.dtype, p.z_dims, NULL);
    /* dz plays the role of g = dL/dz. */
    clcnn_tensor *tdz = test_tensor_from(ctx, p.dtype, p.z_dims, p.dz);
    clcnn_tensor *tda = test_tensor_from(ctx, p.dtype, p.a_dims, NULL);
    clcnn_tensor *tdw = test_tensor_from(ctx, p.dtype, p.w_dims, NULL);
    clcnn_tensor *tdb = test_tensor_from(ctx, p.dtype, p.b_dims, NULL);
    TEST_OK(ctx, clcnn_conv_backward(ctx, tdz, ta, tw, p.stride, p.pad, tda, tdw, tdb));
    double *da = test_alloc_doubles(p.n_a), *dw = test_alloc_doubles(p.n_w);
    double *db = test_alloc_doubles(p.n_b), *z = test_alloc_doubles(p.n_z);
    test_tensor_get(ctx, tda, da);
    test_tensor_get(ctx, tdw, dw);
    test_tensor_get(ctx, tdb, db);

    size_t mismatches = 0;
    mismatches += check_finite_differences(&p, "dA_prev vs finite differences", p.a, p.n_a, ta,
                                           da, ta, tw, tb, tz, z);
    mismatches += check_finite_differences(&p, "dW vs finite differences", p.w, p.n_w, tw, dw, ta,
                                           tw, tb, tz, z);
    mismatches += check_finite_differences(&p, "db vs finite differences", p.b, p.n_b, tb, db, ta,
                                           tw, tb, tz, z);

    clcnn_tensor *all[] = {ta, tw, tb, tz, tdz, tda, tdw, tdb};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        clcnn_tensor_destroy(all[k]);
    free(da);
    free(dw);
    free(db);
    free(z);
    uint64_t seed = p.seed;
    char name[sizeof p.name];
    memcpy(name, p.name, sizeof name);
    problem_free(&p);
    ck_assert_msg(mismatches == 0, "%s: %zu gradient mismatches (seed 0x%llx)", name, mismatches,
                  (unsigned long long)seed);
}
END_TEST

int main(void)
{
    int rc = test_open_context(&ctx);
    if (rc != 0)
        return rc;
    Suite *suite = suite_create("conv");
    test_add_loop(suite, "forward", test_conv_forward_matches_reference, (int)(2 * N_CASES));
    test_add_loop(suite, "backward", test_conv_backward_matches_reference, (int)(2 * N_CASES));
    test_add_loop(suite, "finite_differences", test_conv_gradient_finite_differences,
                  (int)N_GRADIENT_CASES);
    rc = test_run_suite(suite);
    clcnn_context_destroy(ctx);
    return rc;
}
