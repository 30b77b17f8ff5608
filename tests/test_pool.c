/* Device tests of clcnn_pool_forward and clcnn_pool_backward in max and
 * average mode: a table of shapes and input patterns (ReLU-like zeros and
 * quantised values for ties) in both dtypes against the CPU reference,
 * bitwise repeatability, and a float64 finite-difference check of the
 * device gradients. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

typedef struct pool_case {
    const char *name;
    size_t m, n_H_prev, n_W_prev, n_C;
    int f, stride;
    kit_pattern input;
} pool_case;

static const pool_case cases[] = {
    {"f1", 2, 4, 5, 3, 1, 1, KIT_NORMAL},
    {"f1_stride2_uncovered", 1, 5, 6, 7, 1, 2, KIT_NORMAL},
    {"f_is_input_out_1x1", 2, 4, 4, 17, 4, 1, KIT_NORMAL},
    {"f5_h5_w7_out_1x1", 1, 5, 7, 3, 5, 3, KIT_NORMAL},
    {"f3_stride2", 2, 5, 5, 3, 3, 2, KIT_NORMAL},
    {"stride_gt_f", 2, 9, 10, 7, 2, 3, KIT_NORMAL},
    {"overlap_c33", 1, 7, 6, 33, 3, 1, KIT_NORMAL},
    {"c1_2x2", 3, 8, 8, 1, 2, 2, KIT_NORMAL},
    {"relu_ties_overlap", 2, 9, 8, 17, 3, 1, KIT_RELU},
    {"relu_sparse_ties", 2, 8, 8, 7, 2, 2, KIT_RELU_SPARSE},
    {"relu_sparse_ties_overlap", 1, 9, 11, 3, 3, 1, KIT_RELU_SPARSE},
    {"quantized_ties_f3_stride2", 1, 10, 9, 3, 3, 2, KIT_QUANTIZED},
    {"all_zero_overlap", 1, 6, 6, 3, 2, 1, KIT_ZEROS},
    {"big_4x30x30x33_relu", 4, 30, 30, 33, 2, 2, KIT_RELU},
    {"big_2x40x37x64_f3_s2", 2, 40, 37, 64, 3, 2, KIT_NORMAL},
    /* Past POOL_RECOMPUTE_MAX_ELEMENTS, so max backward takes the argmax
     * pass: overlapping stride-1 windows with ties and a channel tail (20 =
     * 16 + an overlapping 16), 63 channels at stride 2, and windows over
     * 16 x 16 (an int argmax, no compiled-in window), also below the limit. */
    {"argmax_relu_f3_s1_c20", 2, 15, 16, 20, 3, 1, KIT_RELU},
    {"argmax_c63_f3_s2", 2, 17, 19, 63, 3, 2, KIT_NORMAL},
    {"argmax_f17_int", 1, 19, 20, 24, 17, 1, KIT_RELU},
    {"f17_int_recompute", 1, 18, 17, 5, 17, 1, KIT_QUANTIZED},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Small shapes for the finite-difference check; max mode gets distinct
 * input values far apart compared with the step, so no perturbation moves a
 * window's maximum. */
static const pool_case gradient_cases[] = {
    {"gc_f2_stride1", 2, 5, 6, 3, 2, 1, KIT_NORMAL},
    {"gc_f3_stride2", 1, 7, 5, 2, 3, 2, KIT_NORMAL},
    {"gc_stride_gt_f", 1, 7, 7, 2, 2, 3, KIT_NORMAL},
};
#define N_GRADIENT_CASES (sizeof gradient_cases / sizeof gradient_cases[0])

static const clcnn_pool_mode modes[] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};

static const char *mode_name(clcnn_pool_mode mode)
{
    return mode == CLCNN_POOL_MAX ? "max" : "average";
}

typedef struct pool_problem {
    char name[160];
    clcnn_dtype dtype;
    uint64_t seed;
    int f, stride;
    size_t a_dims[4], out_dims[4];
    size_t n_a, n_out;
    double *a_prev, *da;
} pool_problem;

static void problem_init(pool_problem *p, const pool_case *c, clcnn_dtype dtype,
                         unsigned seed_index)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s/%s", c->name, kit_dtype_name(dtype));
    p->dtype = dtype;
    p->seed = test_case_seed(seed_index);
    p->f = c->f;
    p->stride = c->stride;
    size_t a_dims[4] = {c->m, c->n_H_prev, c->n_W_prev, c->n_C};
    memcpy(p->a_dims, a_dims, sizeof a_dims);
    ck_assert_msg(clcnn_ref_pool_output_dims(p->a_dims, c->f, c->stride, p->out_dims) == 0,
                  "%s: the case table holds an invalid shape", p->name);
    p->n_a = kit_elements(p->a_dims);
    p->n_out = kit_elements(p->out_dims);
    p->a_prev = test_alloc_doubles(p->n_a);
    p->da = test_alloc_doubles(p->n_out);
    kit_rng rng;
    kit_rng_init(&rng, p->seed);
    kit_rng_fill(&rng, dtype, c->input, p->a_prev, p->n_a);
    kit_rng_fill(&rng, dtype, KIT_NORMAL, p->da, p->n_out);
}

static void problem_free(pool_problem *p)
{
    free(p->a_prev);
    free(p->da);
}

/* Runs one op (forward or backward) in one mode, compares it with ref
 * within bound (NULL: exactly), and checks that a second run over the same
 * output is bitwise equal. */
static size_t run_pool_op(const pool_problem *p, clcnn_pool_mode mode, int backward,
                          clcnn_tensor *t_in, clcnn_tensor *t_da, const double *ref,
                          const double *bound, int *repeatable)
{
    const size_t *out_dims = backward ? p->a_dims : p->out_dims;
    size_t n = backward ? p->n_a : p->n_out;
    clcnn_tensor *t_out = test_tensor_from(ctx, p->dtype, out_dims, NULL);
    if (backward)
        TEST_OK(ctx, clcnn_pool_backward(ctx, t_da, t_in, p->f, p->stride, mode, t_out));
    else
        TEST_OK(ctx, clcnn_pool_forward(ctx, t_in, p->f, p->stride, mode, t_out));
    double *got = test_alloc_doubles(n);
    test_tensor_get(ctx, t_out, got);
    char what[64];
    snprintf(what, sizeof what, "pool_%s %s", backward ? "backward" : "forward", mode_name(mode));
    size_t mismatches = check_close(p->name, what, got, ref, bound, n, p->seed);

    size_t bytes;
    void *first = test_tensor_get_raw(ctx, t_out, &bytes);
    if (backward)
        TEST_OK(ctx, clcnn_pool_backward(ctx, t_da, t_in, p->f, p->stride, mode, t_out));
    else
        TEST_OK(ctx, clcnn_pool_forward(ctx, t_in, p->f, p->stride, mode, t_out));
    *repeatable = test_raw_equal(ctx, t_out, first, bytes);
    if (!*repeatable)
        fprintf(stderr, "case %s: %s: second run differs bitwise\n", p->name, what);
    free(first);
    free(got);
    clcnn_tensor_destroy(t_out);
    return mismatches;
}

START_TEST(test_pool_forward_matches_reference)
{
    clcnn_dtype dtype = _i % 2 == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
    pool_problem p;
    problem_init(&p, &cases[_i / 2], dtype, (unsigned)_i);
    if (!test_dtype_usable(ctx, dtype, p.name) || test_skip_big_case(p.name)) {
        problem_free(&p);
        return;
    }
    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a_prev);
    double *ref = test_alloc_doubles(p.n_out), *bound = test_alloc_doubles(p.n_out);
    size_t mismatches = 0;
    int all_repeatable = 1;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        clcnn_ref_pool_forward(p.a_prev, p.a_dims, p.f, p.stride, modes[k], ref);
        /* Max pooling selects: its terms are 0, so it must be exact. */
        ck_assert_int_eq(
            kit_pool_forward_terms(p.a_prev, p.a_dims, p.f, p.stride, modes[k], bound), 0);
        kit_tolerance_bounds(dtype, bound, bound, p.n_out);
        int repeatable;
        mismatches += run_pool_op(&p, modes[k], 0, ta, NULL, ref, bound, &repeatable);
        all_repeatable &= repeatable;
    }
    clcnn_tensor_destroy(ta);
    free(ref);
    free(bound);
    uint64_t seed = p.seed;
    char name[sizeof p.name];
    memcpy(name, p.name, sizeof name);
    problem_free(&p);
    ck_assert_msg(mismatches == 0, "%s: pool_forward: %zu mismatches (seed 0x%llx)", name,
                  mismatches, (unsigned long long)seed);
    ck_assert_msg(all_repeatable, "%s: pool_forward: second run differs bitwise", name);
}
END_TEST

START_TEST(test_pool_backward_matches_reference)
{
    clcnn_dtype dtype = _i % 2 == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
    pool_problem p;
    problem_init(&p, &cases[_i / 2], dtype, 1000u + (unsigned)_i);
    if (!test_dtype_usable(ctx, dtype, p.name) || test_skip_big_case(p.name)) {
        problem_free(&p);
        return;
    }
    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a_prev);
    clcnn_tensor *tda = test_tensor_from(ctx, dtype, p.out_dims, p.da);
    double *ref = test_alloc_doubles(p.n_a), *bound = test_alloc_doubles(p.n_a);
    size_t mismatches = 0;
    int all_repeatable = 1;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        clcnn_ref_pool_backward(p.da, p.a_prev, p.a_dims, p.f, p.stride, modes[k], ref);
        ck_assert_int_eq(
            kit_pool_backward_terms(p.da, p.a_prev, p.a_dims, p.f, p.stride, modes[k], bound), 0);
        kit_tolerance_bounds(dtype, bound, bound, p.n_a);
        int repeatable;
        mismatches += run_pool_op(&p, modes[k], 1, ta, tda, ref, bound, &repeatable);
        all_repeatable &= repeatable;
    }
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tda);
    free(ref);
    free(bound);
    uint64_t seed = p.seed;
    char name[sizeof p.name];
    memcpy(name, p.name, sizeof name);
    problem_free(&p);
    ck_assert_msg(mismatches == 0, "%s: pool_backward: %zu mismatches (seed 0x%llx)", name,
                  mismatches, (unsigned long long)seed);
    ck_assert_msg(all_repeatable, "%s: pool_backward: second run differs bitwise", name);
}
END_TEST

/* L = sum(pool_forward(a_prev) * g) from the device's forward pass. */
static double device_loss(const pool_problem *p, clcnn_pool_mode mode, clcnn_tensor *ta,
                          clcnn_tensor *tout, double *out)
{
    TEST_OK(ctx, clcnn_pool_forward(ctx, ta, p->f, p->stride, mode, tout));
    test_tensor_get(ctx, tout, out);
    double loss = 0.0;
    for (size_t i = 0; i < p->n_out; i++)
        loss += out[i] * p->da[i];
    return loss;
}

START_TEST(test_pool_gradient_finite_differences)
{
    clcnn_pool_mode mode = modes[_i % 2];
    pool_problem p;
    problem_init(&p, &gradient_cases[_i / 2], CLCNN_FLOAT64, 2000u + (unsigned)_i);
    size_t len = strlen(p.name);
    snprintf(p.name + len, sizeof p.name - len, "/%s", mode_name(mode));
    if (!test_dtype_usable(ctx, CLCNN_FLOAT64, p.name)) {
        problem_free(&p);
        return;
    }
    if (mode == CLCNN_POOL_MAX) {
        /* Distinct values 0.01 apart in a random order. */
        kit_rng rng;
        kit_rng_init(&rng, p.seed ^ 0xabcdefu);
        for (size_t i = 0; i < p.n_a; i++)
            p.a_prev[i] = 0.01 * (double)i - 1.0;
        for (size_t i = p.n_a - 1; i > 0; i--) {
            size_t j = (size_t)(kit_rng_next(&rng) % (i + 1));
            double t = p.a_prev[i];
            p.a_prev[i] = p.a_prev[j];
            p.a_prev[j] = t;
        }
    }
    clcnn_tensor *ta = test_tensor_from(ctx, p.dtype, p.a_dims, p.a_prev);
    clcnn_tensor *tout = test_tensor_from(ctx, p.dtype, p.out_dims, NULL);
    clcnn_tensor *tda = test_tensor_from(ctx, p.dtype, p.out_dims, p.da);
    clcnn_tensor *tda_prev = test_tensor_from(ctx, p.dtype, p.a_dims, NULL);
    TEST_OK(ctx, clcnn_pool_backward(ctx, tda, ta, p.f, p.stride, mode, tda_prev));
    double *grad = test_alloc_doubles(p.n_a), *numeric = test_alloc_doubles(p.n_a);
    double *tolerance = test_alloc_doubles(p.n_a), *out = test_alloc_doubles(p.n_out);
    test_tensor_get(ctx, tda_prev, grad);

    const double h = 1e-5;
    double scale = 1.0;
    for (size_t i = 0; i < p.n_a; i++)
        scale = fmax(scale, fabs(grad[i]));
    for (size_t i = 0; i < p.n_a; i++) {
        double saved = p.a_prev[i];
        p.a_prev[i] = saved + h;
        test_tensor_set(ctx, ta, p.a_prev);
        double loss_plus = device_loss(&p, mode, ta, tout, out);
        p.a_prev[i] = saved - h;
        test_tensor_set(ctx, ta, p.a_prev);
        double loss_minus = device_loss(&p, mode, ta, tout, out);
        p.a_prev[i] = saved;
        numeric[i] = (loss_plus - loss_minus) / (2.0 * h);
        tolerance[i] = 1e-6 * scale;
    }
    size_t mismatches = check_close(p.name, "pool_backward vs finite differences", grad, numeric,
                                    tolerance, p.n_a, p.seed);

    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tout);
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tda_prev);
    free(grad);
    free(numeric);
    free(tolerance);
    free(out);
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
    Suite *suite = suite_create("pool");
    test_add_loop(suite, "forward", test_pool_forward_matches_reference, (int)(2 * N_CASES));
    test_add_loop(suite, "backward", test_pool_backward_matches_reference, (int)(2 * N_CASES));
    test_add_loop(suite, "finite_differences", test_pool_gradient_finite_differences,
                  (int)(2 * N_GRADIENT_CASES));
    rc = test_run_suite(suite);
    clcnn_context_destroy(ctx);
    return rc;
}
