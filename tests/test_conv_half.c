/* Device tests of the conv ops in 16 bits (CLCNN_FLOAT16, CLCNN_BFLOAT16):
 * forward and backward (every output, and subsets of them), the walkthrough
 * and _ex forms, against the double reference on the same 16-bit inputs,
 * each element within docs/tolerance.md's 16-bit bound (kit_storage_error);
 * bitwise determinism; and a refused call writing nothing. The ops stage
 * through float32 workspace (host/ops/conv/conv.c); these tests see only
 * the results, so they hold for native 16-bit kernels too. */
#define _POSIX_C_SOURCE 200809L
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_cl.h"
#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

static const clcnn_dtype dtypes16[] = {CLCNN_FLOAT16, CLCNN_BFLOAT16};
#define DTYPES16 2

/* One layer ("big_" ones skipped under CLCNN_TEST_SMALL=1, as Oclgrind runs
 * it): a_prev's dims, the window, n_C, the params, a bias or not,
 * the fused activation; walkthrough: run through clcnn_conv_forward and
 * clcnn_conv_backward (stride_h and pad_top as their stride and pad). */
typedef struct conv16_case {
    const char *name;
    size_t a_dims[4];
    size_t f_h, f_w, n_C;
    clcnn_conv_params params;
    int bias;
    clcnn_activation act;
    int walkthrough;
    double scale; /* of every input, rounded again: float16's overflow and subnormals */
} conv16_case;

#define PARAMS(sh, sw, pt, pb, pl, pr, dh, dw, g)                                                                      \
    {                                                                                                                  \
        sh, sw, pt, pb, pl, pr, dh, dw, g                                                                              \
    }
static const conv16_case cases[] = {
    {"walkthrough", {2, 5, 7, 4}, 2, 2, 8, PARAMS(2, 2, 2, 2, 2, 2, 1, 1, 1), 1, CLCNN_ACTIVATION_NONE, 1, 1.0},
    {"3x3_pad1", {2, 8, 8, 16}, 3, 3, 24, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 1), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"stride2", {1, 9, 11, 8}, 3, 3, 12, PARAMS(2, 2, 1, 1, 1, 1, 1, 1, 1), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"asymmetric_pad", {2, 6, 7, 5}, 3, 2, 6, PARAMS(1, 2, 0, 2, 1, 0, 1, 1, 1), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"dilation", {1, 10, 10, 6}, 3, 3, 7, PARAMS(1, 1, 2, 2, 2, 2, 2, 2, 1), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"groups", {2, 6, 6, 12}, 3, 3, 8, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 4), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"depthwise", {2, 9, 9, 16}, 3, 3, 16, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 16), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"1x1", {3, 7, 7, 32}, 1, 1, 16, PARAMS(1, 1, 0, 0, 0, 0, 1, 1, 1), 1, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"no_bias", {2, 6, 6, 8}, 3, 3, 8, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 1), 0, CLCNN_ACTIVATION_NONE, 0, 1.0},
    {"relu", {2, 6, 6, 8}, 3, 3, 8, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 1), 1, CLCNN_ACTIVATION_RELU, 0, 1.0},
    {"big_long_reduction",
     {1, 4, 4, 256},
     3,
     3,
     16,
     PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 1),
     1,
     CLCNN_ACTIVATION_NONE,
     0,
     1.0},
    /* Sums up to about 64 * 64 * 12: past float16's 65504, to infinity. */
    {"overflow", {1, 5, 5, 8}, 3, 3, 4, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 1), 1, CLCNN_ACTIVATION_NONE, 0, 64.0},
    /* Products near 2^-20, no bias: float16's subnormals (below 2^-14). */
    {"subnormal", {1, 5, 5, 4}, 3, 3, 4, PARAMS(1, 1, 1, 1, 1, 1, 1, 1, 1), 0, CLCNN_ACTIVATION_NONE, 0, 0x1p-10},
};
#define CASES ((int)(sizeof cases / sizeof cases[0]))

/* A case's data: inputs drawn in the dtype (so the reference sees the
 * device's inputs exactly), the dims of every tensor. */
typedef struct problem {
    const conv16_case *c;
    clcnn_dtype dtype;
    char name[96];
    uint64_t seed;
    size_t w_dims[4], b_dims[4], z_dims[4];
    size_t n_a, n_w, n_b, n_z;
    double *a, *w, *b, *dz;
} problem;

static void problem_init(problem *p, int i)
{
    p->c = &cases[i / DTYPES16];
    p->dtype = dtypes16[i % DTYPES16];
    snprintf(p->name, sizeof p->name, "%s/%s", p->c->name, kit_dtype_name(p->dtype));
    p->seed = test_case_seed((unsigned)i);
    const size_t w_dims[4] = {p->c->f_h, p->c->f_w, p->c->a_dims[3] / (size_t)p->c->params.groups, p->c->n_C};
    const size_t b_dims[4] = {1, 1, 1, p->c->n_C};
    memcpy(p->w_dims, w_dims, sizeof w_dims);
    memcpy(p->b_dims, b_dims, sizeof b_dims);
    ck_assert_msg(clcnn_ref_conv_output_dims_ex(p->c->a_dims, p->w_dims, &p->c->params, p->z_dims) == 0,
                  "%s: the case table holds an invalid shape", p->name);
    p->n_a = kit_elements(p->c->a_dims);
    p->n_w = kit_elements(p->w_dims);
    p->n_b = kit_elements(p->b_dims);
    p->n_z = kit_elements(p->z_dims);
    kit_rng rng;
    kit_rng_init(&rng, p->seed);
    p->a = test_random_doubles(&rng, p->dtype, KIT_NORMAL, p->n_a);
    p->w = test_random_doubles(&rng, p->dtype, KIT_NORMAL, p->n_w);
    p->b = test_random_doubles(&rng, p->dtype, KIT_NORMAL, p->n_b);
    p->dz = test_random_doubles(&rng, p->dtype, KIT_NORMAL, p->n_z);
    double *all[4] = {p->a, p->w, p->b, p->dz};
    const size_t counts[4] = {p->n_a, p->n_w, p->n_b, p->n_z};
    for (int k = 0; k < 4 && p->c->scale != 1.0; k++) {
        for (size_t i = 0; i < counts[k]; i++)
            all[k][i] *= p->c->scale;
        kit_round_all(p->dtype, all[k], counts[k]);
    }
}

static void problem_free(problem *p)
{
    TEST_FREE(p->a, p->w, p->b, p->dz);
}

/* The subnormal step kit_storage_error adds: bfloat16's subnormals are
 * float's, which a device may flush (CL_FP_DENORM not set). */
static double storage_tiny(clcnn_dtype dtype)
{
    cl_device_id device = NULL;
    cl_device_fp_config config = 0;
    clGetCommandQueueInfo(clcnn_context_queue(ctx), CL_QUEUE_DEVICE, sizeof device, &device, NULL);
    clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof config, &config, NULL);
    return dtype == CLCNN_BFLOAT16 && !(config & CL_FP_DENORM) ? FLT_MIN : kit_dtype_storage_tiny(dtype);
}

/* Reads a 16-bit output and counts its elements outside the bound of
 * docs/tolerance.md (terms: the reference's sums of absolute terms),
 * printing the first few. */
static size_t check_output(const problem *p, const char *what, const clcnn_tensor *t, const double *ref,
                           const double *terms, size_t n)
{
    double *got = test_alloc_doubles(n);
    test_tensor_get(ctx, t, got);
    const double tiny = storage_tiny(p->dtype);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double error = kit_storage_error(p->dtype, got[i], ref[i], terms[i], tiny);
        if (!(error <= KIT_TOLERANCE) && bad++ < 5)
            fprintf(stderr, "%s: %s[%zu] = %a, reference %a, terms %g, error %.3g (limit %g) (seed 0x%llx)\n", p->name,
                    what, i, got[i], ref[i], terms[i], error, KIT_TOLERANCE, (unsigned long long)p->seed);
    }
    free(got);
    return bad;
}

static clcnn_status run_forward(const problem *p, const clcnn_tensor *a, const clcnn_tensor *w, const clcnn_tensor *b,
                                clcnn_tensor *z)
{
    const conv16_case *c = p->c;
    if (c->walkthrough)
        return clcnn_conv_forward(ctx, a, w, b, c->params.stride_h, c->params.pad_top, z);
    return clcnn_conv_forward_ex(ctx, a, w, c->bias ? b : NULL, &c->params, c->act, z);
}

static clcnn_status run_backward(const problem *p, const clcnn_tensor *dz, const clcnn_tensor *a, const clcnn_tensor *w,
                                 clcnn_tensor *da, clcnn_tensor *dw, clcnn_tensor *db)
{
    const conv16_case *c = p->c;
    if (c->walkthrough)
        return clcnn_conv_backward(ctx, dz, a, w, c->params.stride_h, c->params.pad_top, da, dw, db);
    return clcnn_conv_backward_ex(ctx, dz, a, w, &c->params, da, dw, db);
}

START_TEST(test_conv16_forward)
{
    if (test_skip_big_case(cases[_i / DTYPES16].name))
        return;
    problem p;
    problem_init(&p, _i);
    const double *bias = p.c->bias ? p.b : NULL;
    double *ref = test_alloc_doubles(p.n_z), *terms = test_alloc_doubles(p.n_z);
    clcnn_ref_conv_forward_ex(p.a, p.c->a_dims, p.w, p.w_dims, bias, &p.c->params, p.c->act, ref);
    ck_assert_int_eq(kit_conv_forward_terms(p.a, p.c->a_dims, p.w, p.w_dims, bias, &p.c->params, terms), 0);
    clcnn_tensor *a = test_tensor_from(ctx, p.dtype, p.c->a_dims, p.a),
                 *w = test_tensor_from(ctx, p.dtype, p.w_dims, p.w);
    clcnn_tensor *b = test_tensor_from(ctx, p.dtype, p.b_dims, p.b), *z = test_tensor_out(ctx, p.dtype, p.z_dims);
    /* The overflow and subnormal cases reach float16's ends: some results
     * round to infinity, some to subnormals. */
    size_t infinite = 0, subnormal = 0;
    for (size_t i = 0; i < p.n_z; i++) {
        const double r = kit_round_to_dtype(CLCNN_FLOAT16, ref[i]);
        infinite += isinf(r);
        subnormal += r != 0.0 && fabs(r) < 0x1p-14;
    }
    ck_assert_msg(p.c->scale <= 1.0 || infinite > 0, "%s: no result overflows float16", p.name);
    ck_assert_msg(p.c->scale >= 1.0 || subnormal > 0, "%s: no result is a float16 subnormal", p.name);
    TEST_OK(ctx, run_forward(&p, a, w, b, z));
    const size_t bad = check_output(&p, "z", z, ref, terms, p.n_z);
    size_t bytes;
    void *first = test_tensor_get_raw(ctx, z, &bytes);
    TEST_OK(ctx, run_forward(&p, a, w, b, z));
    const int repeatable = test_raw_equal(ctx, z, first, bytes);
    free(first);
    TEST_DESTROY(a, w, b, z);
    TEST_FREE(ref, terms);
    problem_free(&p);
    ck_assert_msg(bad == 0, "%s: conv_forward: %zu elements outside the 16-bit bound", p.name, bad);
    TEST_ASSERT_REPEATABLE(p.name, "conv_forward", repeatable);
}
END_TEST

/* Which of da_prev, dw, db a backward call asks for. */
enum { WANT_DA = 1, WANT_DW = 2, WANT_DB = 4, WANT_ALL = 7 };

/* The reference gradients and their terms. */
typedef struct gradients {
    double *ref[3], *terms[3];
} gradients;

/* One backward call for the outputs `want` (NaN-filled beforehand, the
 * others NULL), each checked; run twice where `repeat`, the second time
 * required bitwise equal. Returns the number of elements out of bounds;
 * *repeatable gets whether the runs agreed. */
static size_t backward_call(const problem *p, const gradients *g, const clcnn_tensor *dz, const clcnn_tensor *a,
                            const clcnn_tensor *w, int want, int repeat, int *repeatable)
{
    const size_t *dims[3] = {p->c->a_dims, p->w_dims, p->b_dims};
    const size_t counts[3] = {p->n_a, p->n_w, p->n_b};
    static const char *const names[3] = {"da_prev", "dw", "db"};
    clcnn_tensor *out[3];
    for (int k = 0; k < 3; k++)
        out[k] = (want >> k) & 1 ? test_tensor_out(ctx, p->dtype, dims[k]) : NULL;
    TEST_OK(ctx, run_backward(p, dz, a, w, out[0], out[1], out[2]));
    size_t bad = 0;
    void *first[3] = {NULL, NULL, NULL};
    size_t bytes[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++)
        if (out[k]) {
            char what[64];
            snprintf(what, sizeof what, "%s (outputs %d)", names[k], want);
            bad += check_output(p, what, out[k], g->ref[k], g->terms[k], counts[k]);
            first[k] = test_tensor_get_raw(ctx, out[k], &bytes[k]);
        }
    *repeatable = 1;
    if (repeat)
        TEST_OK(ctx, run_backward(p, dz, a, w, out[0], out[1], out[2]));
    for (int k = 0; k < 3; k++)
        if (out[k] && repeat && !test_raw_equal(ctx, out[k], first[k], bytes[k]))
            *repeatable = 0;
    TEST_FREE(first[0], first[1], first[2]);
    TEST_DESTROY(out[0], out[1], out[2]);
    return bad;
}

START_TEST(test_conv16_backward)
{
    if (test_skip_big_case(cases[_i / DTYPES16].name))
        return;
    problem p;
    problem_init(&p, _i);
    gradients g;
    const size_t counts[3] = {p.n_a, p.n_w, p.n_b};
    for (int k = 0; k < 3; k++) {
        g.ref[k] = test_alloc_doubles(counts[k]);
        g.terms[k] = test_alloc_doubles(counts[k]);
    }
    clcnn_ref_conv_backward_ex(p.dz, p.a, p.c->a_dims, p.w, p.w_dims, &p.c->params, g.ref[0], g.ref[1], g.ref[2]);
    ck_assert_int_eq(kit_conv_backward_terms(p.dz, p.a, p.c->a_dims, p.w, p.w_dims, &p.c->params, g.terms[0],
                                             g.terms[1], g.terms[2]),
                     0);
    clcnn_tensor *dz = test_tensor_from(ctx, p.dtype, p.z_dims, p.dz);
    clcnn_tensor *a = test_tensor_from(ctx, p.dtype, p.c->a_dims, p.a),
                 *w = test_tensor_from(ctx, p.dtype, p.w_dims, p.w);
    int repeatable, ignored;
    size_t bad = backward_call(&p, &g, dz, a, w, WANT_ALL, 1, &repeatable);
    static const int subsets[] = {WANT_DA, WANT_DW, WANT_DB, WANT_DW | WANT_DB, WANT_DA | WANT_DB};
    for (size_t s = 0; s < sizeof subsets / sizeof subsets[0]; s++)
        bad += backward_call(&p, &g, dz, a, w, subsets[s], 0, &ignored);
    TEST_DESTROY(dz, a, w);
    for (int k = 0; k < 3; k++)
        TEST_FREE(g.ref[k], g.terms[k]);
    problem_free(&p);
    ck_assert_msg(bad == 0, "%s: conv_backward: %zu elements outside the 16-bit bound", p.name, bad);
    TEST_ASSERT_REPEATABLE(p.name, "conv_backward", repeatable);
}
END_TEST

/* A call whose tensors' dtypes differ is refused before anything is
 * enqueued: the outputs keep their bytes. */
START_TEST(test_conv16_mixed_refused)
{
    const clcnn_dtype dtype = dtypes16[_i];
    const size_t a_dims[4] = {1, 4, 4, 2}, w_dims[4] = {2, 2, 2, 2}, b_dims[4] = {1, 1, 1, 2}, z_dims[4] = {1, 3, 3, 2};
    clcnn_tensor *a = test_tensor_from(ctx, dtype, a_dims, NULL), *w = test_tensor_from(ctx, dtype, w_dims, NULL);
    clcnn_tensor *b32 = test_tensor_from(ctx, CLCNN_FLOAT32, b_dims, NULL), *z = test_tensor_out(ctx, dtype, z_dims);
    clcnn_tensor *da = test_tensor_out(ctx, dtype, a_dims), *db32 = test_tensor_out(ctx, CLCNN_FLOAT32, b_dims);
    const clcnn_conv_params params = clcnn_conv_params_default(1, 0);
    size_t z_bytes, da_bytes;
    void *z_before = test_tensor_get_raw(ctx, z, &z_bytes), *da_before = test_tensor_get_raw(ctx, da, &da_bytes);
    TEST_FAILS_WITH(ctx, clcnn_conv_forward(ctx, a, w, b32, 1, 0, z), CLCNN_ERROR_INVALID_ARGUMENT, "same dtype");
    TEST_FAILS_WITH(ctx, clcnn_conv_forward_ex(ctx, a, w, b32, &params, CLCNN_ACTIVATION_RELU, z),
                    CLCNN_ERROR_INVALID_ARGUMENT, "b is float32");
    const int z_kept = test_raw_equal(ctx, z, z_before, z_bytes);
    TEST_FAILS_WITH(ctx, clcnn_conv_backward(ctx, z, a, w, 1, 0, da, NULL, db32), CLCNN_ERROR_INVALID_ARGUMENT,
                    "db is float32");
    const int da_kept = test_raw_equal(ctx, da, da_before, da_bytes);
    TEST_FREE(z_before, da_before);
    TEST_DESTROY(a, w, b32, z, da, db32);
    ck_assert_msg(z_kept, "conv_forward wrote to z although it refused");
    ck_assert_msg(da_kept, "conv_backward wrote to da_prev although it refused");
}
END_TEST

/* A staging buffer that cannot be allocated (CLCNN_FAULT_INJECT: the 7th
 * allocation, after the 4 tensors and the stages of a_prev and w, is b's)
 * fails the call before it enqueues anything, z untouched; the next call
 * runs. */
START_TEST(test_conv16_staging_allocation_failure)
{
    const clcnn_dtype dtype = dtypes16[_i];
    clcnn_context *c = NULL;
    ck_assert_int_eq(setenv("CLCNN_FAULT_INJECT", "alloc:7", 1), 0);
    const clcnn_status created = clcnn_context_create(NULL, &c);
    unsetenv("CLCNN_FAULT_INJECT");
    ck_assert_msg(created == CLCNN_OK, "context: %s", clcnn_context_last_error(c));
    const size_t a_dims[4] = {1, 4, 4, 2}, w_dims[4] = {3, 3, 2, 2}, b_dims[4] = {1, 1, 1, 2}, z_dims[4] = {1, 4, 4, 2};
    clcnn_tensor *a = test_tensor_from(c, dtype, a_dims, NULL), *w = test_tensor_from(c, dtype, w_dims, NULL);
    clcnn_tensor *b = test_tensor_from(c, dtype, b_dims, NULL), *z = test_tensor_out(c, dtype, z_dims);
    TEST_OK(c, clcnn_context_profile(c, 1));
    size_t bytes, launches = 1;
    void *z_before = test_tensor_get_raw(c, z, &bytes);
    TEST_FAILS_WITH(c, clcnn_conv_forward(c, a, w, b, 1, 1, z), CLCNN_ERROR_OUT_OF_MEMORY,
                    "conv_forward: allocating 8 bytes of device scratch memory");
    TEST_OK(c, clcnn_context_launches(c, NULL, 0, &launches));
    const int z_kept = test_raw_equal(c, z, z_before, bytes);
    TEST_OK(c, clcnn_conv_forward(c, a, w, b, 1, 1, z));
    free(z_before);
    TEST_DESTROY(a, w, b, z);
    clcnn_context_destroy(c);
    ck_assert_msg(launches == 0, "conv_forward enqueued %zu kernels before failing", launches);
    ck_assert_msg(z_kept, "conv_forward wrote to z although it failed");
}
END_TEST

static Suite *conv_half_suite(void)
{
    Suite *suite = suite_create("conv_half");
    test_add_loop(suite, "forward", test_conv16_forward, CASES * DTYPES16);
    test_add_loop(suite, "backward", test_conv16_backward, CASES * DTYPES16);
    test_add_loop(suite, "mixed_refused", test_conv16_mixed_refused, DTYPES16);
    test_add_loop(suite, "staging_allocation_failure", test_conv16_staging_allocation_failure, DTYPES16);
    return suite;
}

int main(void)
{
    return test_main(&ctx, conv_half_suite);
}
