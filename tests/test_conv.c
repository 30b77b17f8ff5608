/* Device tests of clcnn_conv_forward, clcnn_conv_backward and their 0.2
 * forms clcnn_conv_forward_ex / _backward_ex: a table of shapes and params
 * (strides per axis, asymmetric pads, dilation, groups, depthwise, no bias,
 * a fused ReLU) in both dtypes against the CPU reference (tolerance from the
 * absolute terms of each reduction), bitwise repeatability, the walkthrough
 * ops bitwise equal to the _ex ops with default params, backward calls with
 * some outputs NULL, and a float64 finite-difference check of the device
 * gradients. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

typedef struct conv_case {
    const char *name;
    size_t m, n_H_prev, n_W_prev, n_C_prev; /* n_C_prev: all groups' channels */
    size_t f_h, f_w, n_C;
    int stride, pad; /* the walkthrough's ops (ex 0) */
    /* ex 1: the _ex ops with these params, without a bias when no_bias. */
    int ex;
    clcnn_conv_params params;
    int no_bias;
    clcnn_activation act;
} conv_case;

/* A walkthrough case's stride and pad. */
#define WT(stride, pad) stride, pad, 0, {0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, CLCNN_ACTIVATION_NONE
/* An _ex case's params: strides, pads (top, bottom, left, right), dilations, groups. */
#define EX(sh, sw, pt, pb, pl, pr, dh, dw, g)                                                                          \
    0, 0, 1,                                                                                                           \
    {                                                                                                                  \
        sh, sw, pt, pb, pl, pr, dh, dw, g                                                                              \
    }

static const conv_case cases[] = {
    {"walkthrough", 10, 4, 4, 3, 2, 2, 8, WT(2, 2)},
    {"f1", 1, 5, 6, 3, 1, 1, 7, WT(1, 0)},
    {"f1_stride2_pad1", 2, 7, 5, 7, 1, 1, 3, WT(2, 1)},
    {"f_is_input_out_1x1", 2, 5, 5, 3, 5, 5, 17, WT(1, 0)},
    {"f_is_input_h_ne_w", 1, 4, 6, 1, 4, 6, 1, WT(1, 0)},
    {"stride_gt_f", 2, 9, 8, 3, 2, 2, 7, WT(3, 0)},
    {"stride_gt_f_pad1", 1, 10, 11, 7, 1, 2, 3, WT(4, 1)},
    {"pad_ge_f", 2, 5, 4, 3, 2, 2, 7, WT(1, 3)},
    {"pad_gt_f_stride2", 1, 6, 7, 1, 3, 3, 3, WT(2, 4)},
    {"nonsquare_w_c17_to_c33", 3, 8, 6, 17, 3, 2, 33, WT(1, 1)},
    {"c33_to_c17_stride2", 1, 6, 5, 33, 3, 3, 17, WT(2, 1)},
    {"c1_to_c1", 2, 7, 7, 1, 3, 3, 1, WT(1, 1)},
    {"fmnist_like_5x5", 3, 12, 12, 1, 5, 5, 32, WT(1, 2)},
    {"f5x3_stride2_pad2", 2, 11, 13, 3, 5, 3, 7, WT(2, 2)},
    /* Rows that a smaller tile divides (host/ops/conv/conv.c tile_for_width): 28
     * wide in 7-pixel tiles on CPUs, forward and few-channel dA; 10 wide
     * outputs and stride-2 chains of 10 in 5-pixel tiles. */
    {"rows_28_tile7_c1", 1, 28, 28, 1, 5, 5, 8, WT(1, 2)},
    {"rows_10_tile5_stride2", 1, 9, 20, 5, 3, 3, 9, WT(2, 1)},
    /* A row that no tile near the tuned one divides: the last tile moves
     * left and stores only its own pixels. */
    {"rows_13_last_tile_shifted", 1, 5, 13, 20, 3, 3, 20, WT(1, 1)},
    /* Pointwise with 256 rows or more: dA as the forward kernel on dZ and
     * W transposed (host/ops/conv/conv.c, data_as_forward), with more input than
     * output channels and fewer; channel tails both ways. */
    {"pointwise_416_rows_c40_to_c24", 2, 16, 13, 40, 1, 1, 24, WT(1, 0)},
    {"pointwise_300_rows_c8_to_c20", 3, 10, 10, 8, 1, 1, 20, WT(1, 0)},
    {"big_4x30x30x33_to_17", 4, 30, 30, 33, 3, 3, 17, WT(1, 1)},
    {"big_2x40x37x64_to_64", 2, 40, 37, 64, 3, 3, 64, WT(1, 1)},
    /* The 0.2 params. */
    {"ex_dilation2_stride2", 2, 13, 11, 5, 3, 3, 6, EX(2, 2, 2, 2, 2, 2, 2, 2, 1), 0, CLCNN_ACTIVATION_NONE},
    {"ex_dilation3x1_stride1x2", 1, 12, 9, 3, 3, 2, 4, EX(1, 2, 1, 0, 3, 1, 3, 1, 1), 0, CLCNN_ACTIVATION_NONE},
    {"ex_dilation6_like_aspp", 1, 16, 16, 8, 3, 3, 8, EX(1, 1, 6, 6, 6, 6, 6, 6, 1), 0, CLCNN_ACTIVATION_NONE},
    {"ex_stride3x1", 1, 10, 7, 4, 3, 3, 5, EX(3, 1, 1, 1, 1, 1, 1, 1, 1), 0, CLCNN_ACTIVATION_RELU},
    {"ex_asym_pad_beyond_window", 1, 5, 6, 3, 2, 2, 4, EX(1, 1, 4, 0, 0, 3, 1, 1, 1), 0, CLCNN_ACTIVATION_NONE},
    {"ex_no_bias_relu", 2, 8, 8, 16, 3, 3, 16, EX(1, 1, 1, 1, 1, 1, 1, 1, 1), 1, CLCNN_ACTIVATION_RELU},
    {"ex_groups3_odd_c9_to_c15", 2, 7, 8, 9, 3, 3, 15, EX(1, 1, 1, 1, 1, 1, 1, 1, 3), 0, CLCNN_ACTIVATION_RELU},
    {"ex_groups5_c5_to_c35", 1, 9, 9, 5, 2, 3, 35, EX(2, 1, 0, 1, 1, 0, 1, 1, 5), 1, CLCNN_ACTIVATION_NONE},
    {"ex_groups2_1x1_stride2", 2, 8, 8, 6, 1, 1, 8, EX(2, 2, 0, 0, 0, 0, 1, 1, 2), 0, CLCNN_ACTIVATION_NONE},
    {"ex_groups3_dilation2_stride2", 1, 11, 12, 21, 3, 3, 9, EX(2, 2, 2, 1, 2, 1, 2, 2, 3), 0, CLCNN_ACTIVATION_NONE},
    {"ex_depthwise_c7", 2, 9, 10, 7, 3, 3, 7, EX(1, 1, 1, 1, 1, 1, 1, 1, 7), 0, CLCNN_ACTIVATION_RELU},
    {"ex_depthwise_multiplier2_stride2", 1, 11, 9, 5, 3, 3, 10, EX(2, 2, 1, 1, 1, 1, 1, 1, 5), 1,
     CLCNN_ACTIVATION_NONE},
    {"ex_depthwise_c17_dilation2", 1, 12, 12, 17, 3, 3, 17, EX(1, 1, 2, 2, 2, 2, 2, 2, 17), 0, CLCNN_ACTIVATION_NONE},
    {"ex_depthwise_multiplier3_5x5_asym", 2, 10, 13, 3, 5, 5, 9, EX(1, 2, 2, 1, 0, 3, 1, 1, 3), 0,
     CLCNN_ACTIVATION_RELU},
    /* Depthwise at stride 1: dA is the forward over dZ with the window
     * turned (host/ops/conv/conv_depthwise.c, data_as_forward), with pads past the
     * window (a negative pad for it), a window too wide for the register
     * columns, and a 29-pixel row of first, middle and partial last tiles
     * (each compiled with its own columns, kernels/conv_depthwise.cl). */
    {"ex_depthwise_c9_pads_past_window", 2, 8, 11, 9, 3, 3, 9, EX(1, 1, 0, 3, 3, 1, 1, 1, 9), 0, CLCNN_ACTIVATION_NONE},
    {"ex_depthwise_c20_5x5_dilation4", 1, 20, 21, 20, 5, 5, 20, EX(1, 1, 8, 8, 8, 8, 4, 4, 20), 1,
     CLCNN_ACTIVATION_NONE},
    {"ex_depthwise_c24_rows_29", 1, 6, 29, 24, 3, 3, 24, EX(1, 1, 1, 1, 1, 1, 1, 1, 24), 0, CLCNN_ACTIVATION_RELU},
    {"big_ex_groups4_dilation2", 2, 30, 30, 32, 3, 3, 32, EX(1, 1, 2, 2, 2, 2, 2, 2, 4), 0, CLCNN_ACTIVATION_NONE},
    {"big_ex_depthwise_c64_stride2", 2, 33, 33, 64, 3, 3, 64, EX(2, 2, 1, 1, 1, 1, 1, 1, 64), 0, CLCNN_ACTIVATION_RELU},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Small shapes for the finite-difference check (each element of a_prev, w
 * and b costs two device forward passes). */
static const conv_case gradient_cases[] = {
    {"gc_stride2_pad1_nonsquare", 2, 5, 4, 3, 3, 2, 2, WT(2, 1)},
    {"gc_pad_ge_f", 1, 4, 5, 2, 2, 2, 3, WT(1, 2)},
    {"gc_stride_gt_f", 1, 7, 6, 2, 2, 1, 2, WT(3, 0)},
    {"gc_ex_dilation_groups_asym", 1, 6, 7, 4, 2, 2, 4, EX(2, 1, 1, 0, 2, 1, 2, 1, 2), 0, CLCNN_ACTIVATION_NONE},
    {"gc_ex_depthwise_multiplier2", 1, 5, 5, 2, 3, 3, 4, EX(1, 1, 1, 1, 1, 1, 1, 1, 2), 0, CLCNN_ACTIVATION_NONE},
};
#define N_GRADIENT_CASES (sizeof gradient_cases / sizeof gradient_cases[0])

typedef struct conv_problem {
    test_case tc; /* name, dtype, seed */
    const conv_case *c;
    clcnn_conv_params params; /* the walkthrough's too: clcnn_conv_params_default(stride, pad) */
    size_t a_dims[4], w_dims[4], b_dims[4], z_dims[4];
    size_t n_a, n_w, n_b, n_z;
    double *a, *w, *b, *dz;
} conv_problem;

/* The bias as the reference sees it: NULL for an _ex case without one. */
static const double *problem_bias(const conv_problem *p)
{
    return p->c->no_bias ? NULL : p->b;
}

/* z by the case's op: the walkthrough's, or the _ex one with its params. */
static clcnn_status run_forward(const conv_problem *p, clcnn_tensor *ta, clcnn_tensor *tw, clcnn_tensor *tb,
                                clcnn_tensor *tz)
{
    if (!p->c->ex)
        return clcnn_conv_forward(ctx, ta, tw, tb, p->c->stride, p->c->pad, tz);
    return clcnn_conv_forward_ex(ctx, ta, tw, p->c->no_bias ? NULL : tb, &p->params, p->c->act, tz);
}

static clcnn_status run_backward_op(const conv_problem *p, clcnn_tensor *tdz, clcnn_tensor *ta, clcnn_tensor *tw,
                                    clcnn_tensor *tda, clcnn_tensor *tdw, clcnn_tensor *tdb)
{
    if (!p->c->ex)
        return clcnn_conv_backward(ctx, tdz, ta, tw, p->c->stride, p->c->pad, tda, tdw, tdb);
    return clcnn_conv_backward_ex(ctx, tdz, ta, tw, &p->params, tda, tdw, tdb);
}

/* 0, with nothing to free, when the case is skipped here (test_case_begin). */
static int problem_init(conv_problem *p, const conv_case *c, clcnn_dtype dtype, unsigned seed_index)
{
    memset(p, 0, sizeof *p);
    if (!test_case_begin(&p->tc, ctx, c->name, dtype, seed_index))
        return 0;
    p->c = c;
    p->params = c->ex ? c->params : clcnn_conv_params_default(c->stride, c->pad);
    size_t a_dims[4] = {c->m, c->n_H_prev, c->n_W_prev, c->n_C_prev};
    size_t w_dims[4] = {c->f_h, c->f_w, c->n_C_prev / (size_t)p->params.groups, c->n_C};
    size_t b_dims[4] = {1, 1, 1, c->n_C};
    memcpy(p->a_dims, a_dims, sizeof a_dims);
    memcpy(p->w_dims, w_dims, sizeof w_dims);
    memcpy(p->b_dims, b_dims, sizeof b_dims);
    ck_assert_msg(clcnn_ref_conv_output_dims_ex(p->a_dims, p->w_dims, &p->params, p->z_dims) == 0,
                  "%s: the case table holds an invalid shape", p->tc.name);
    p->n_a = kit_elements(p->a_dims);
    p->n_w = kit_elements(p->w_dims);
    p->n_b = kit_elements(p->b_dims);
    p->n_z = kit_elements(p->z_dims);
    p->a = test_random_doubles(&p->tc.rng, dtype, KIT_NORMAL, p->n_a);
    p->w = test_random_doubles(&p->tc.rng, dtype, KIT_NORMAL, p->n_w);
    p->b = test_random_doubles(&p->tc.rng, dtype, KIT_NORMAL, p->n_b);
    p->dz = test_random_doubles(&p->tc.rng, dtype, KIT_NORMAL, p->n_z);
    return 1;
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
    const clcnn_dtype dtype = kit_case_dtype(_i);
    conv_problem p;
    if (!problem_init(&p, &cases[_i / KIT_DTYPE_COUNT], dtype, (unsigned)_i))
        return;
    double *ref = test_alloc_doubles(p.n_z);
    double *bound = test_alloc_doubles(p.n_z);
    double *got = test_alloc_doubles(p.n_z);
    if (p.c->ex)
        clcnn_ref_conv_forward_ex(p.a, p.a_dims, p.w, p.w_dims, problem_bias(&p), &p.params, p.c->act, ref);
    else
        clcnn_ref_conv_forward(p.a, p.a_dims, p.w, p.w_dims, p.b, p.c->stride, p.c->pad, ref);
    ck_assert_int_eq(kit_conv_forward_terms(p.a, p.a_dims, p.w, p.w_dims, problem_bias(&p), &p.params, bound), 0);
    kit_tolerance_bounds(dtype, bound, bound, p.n_z);

    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a);
    clcnn_tensor *tw = test_tensor_from(ctx, dtype, p.w_dims, p.w);
    clcnn_tensor *tb = test_tensor_from(ctx, dtype, p.b_dims, p.b);
    clcnn_tensor *tz = test_tensor_out(ctx, dtype, p.z_dims);
    TEST_OK(ctx, run_forward(&p, ta, tw, tb, tz));
    test_tensor_get(ctx, tz, got);
    size_t mismatches = check_close(p.tc.name, "conv_forward z", got, ref, bound, p.n_z, p.tc.seed);

    size_t bytes;
    void *first = test_tensor_get_raw(ctx, tz, &bytes);
    TEST_OK(ctx, run_forward(&p, ta, tw, tb, tz));
    int repeatable = test_raw_equal(ctx, tz, first, bytes);
    /* The walkthrough's op is the _ex op with the default params, bit for bit. */
    int same_as_ex = 1;
    if (!p.c->ex) {
        clcnn_tensor *tz_ex = test_tensor_out(ctx, dtype, p.z_dims);
        TEST_OK(ctx, clcnn_conv_forward_ex(ctx, ta, tw, tb, &p.params, CLCNN_ACTIVATION_NONE, tz_ex));
        same_as_ex = test_raw_equal(ctx, tz_ex, first, bytes);
        clcnn_tensor_destroy(tz_ex);
    }

    free(first);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    clcnn_tensor_destroy(tb);
    clcnn_tensor_destroy(tz);
    TEST_FREE(ref, bound, got);
    problem_free(&p);
    TEST_ASSERT_NO_MISMATCHES(p.tc.name, "conv_forward", mismatches, p.tc.seed);
    TEST_ASSERT_REPEATABLE(p.tc.name, "conv_forward", repeatable);
    ck_assert_msg(same_as_ex, "%s: conv_forward and conv_forward_ex with default params differ bitwise", p.tc.name);
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
    if (p->c->ex)
        clcnn_ref_conv_backward_ex(p->dz, p->a, p->a_dims, p->w, p->w_dims, &p->params, g->da, g->dw, g->db);
    else
        clcnn_ref_conv_backward(p->dz, p->a, p->a_dims, p->w, p->w_dims, p->c->stride, p->c->pad, g->da, g->dw, g->db);
    ck_assert_int_eq(kit_conv_backward_terms(p->dz, p->a, p->a_dims, p->w, p->w_dims, &p->params, g->da_bound,
                                             g->dw_bound, g->db_bound),
                     0);
    kit_tolerance_bounds(p->tc.dtype, g->da_bound, g->da_bound, p->n_a);
    kit_tolerance_bounds(p->tc.dtype, g->dw_bound, g->dw_bound, p->n_w);
    kit_tolerance_bounds(p->tc.dtype, g->db_bound, g->db_bound, p->n_b);
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
static size_t run_backward(const conv_problem *p, const conv_gradients *g, clcnn_tensor *tdz, clcnn_tensor *ta,
                           clcnn_tensor *tw, int want, int *repeatable)
{
    clcnn_tensor *tda = (want & WANT_DA) ? test_tensor_out(ctx, p->tc.dtype, p->a_dims) : NULL;
    clcnn_tensor *tdw = (want & WANT_DW) ? test_tensor_out(ctx, p->tc.dtype, p->w_dims) : NULL;
    clcnn_tensor *tdb = (want & WANT_DB) ? test_tensor_out(ctx, p->tc.dtype, p->b_dims) : NULL;
    TEST_OK(ctx, run_backward_op(p, tdz, ta, tw, tda, tdw, tdb));

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
        mismatches += check_close(p->tc.name, what, got, refs[k], bounds[k], counts[k], p->tc.seed);
        free(got);
        if (repeatable != NULL)
            first[k] = test_tensor_get_raw(ctx, outputs[k], &first_bytes[k]);
    }
    if (repeatable != NULL) {
        /* Over the first results: this also catches accumulating instead of
         * overwriting. */
        TEST_OK(ctx, run_backward_op(p, tdz, ta, tw, tda, tdw, tdb));
        *repeatable = 1;
        for (int k = 0; k < 3; k++) {
            if (outputs[k] == NULL)
                continue;
            if (!test_raw_equal(ctx, outputs[k], first[k], first_bytes[k])) {
                fprintf(stderr, "case %s: conv_backward %s: second run differs bitwise\n", p->tc.name, names[k]);
                *repeatable = 0;
            }
        }
        /* The walkthrough's op is the _ex op with the default params, bit for bit. */
        if (!p->c->ex) {
            TEST_OK(ctx, clcnn_conv_backward_ex(ctx, tdz, ta, tw, &p->params, tda, tdw, tdb));
            for (int k = 0; k < 3; k++)
                if (outputs[k] != NULL && !test_raw_equal(ctx, outputs[k], first[k], first_bytes[k])) {
                    fprintf(stderr,
                            "case %s: conv_backward and conv_backward_ex with default params differ "
                            "bitwise in %s\n",
                            p->tc.name, names[k]);
                    *repeatable = 0;
                }
        }
        for (int k = 0; k < 3; k++)
            free(first[k]);
    }
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tdw);
    clcnn_tensor_destroy(tdb);
    return mismatches;
}

START_TEST(test_conv_backward_matches_reference)
{
    const clcnn_dtype dtype = kit_case_dtype(_i);
    conv_problem p;
    if (!problem_init(&p, &cases[_i / KIT_DTYPE_COUNT], dtype, 1000u + (unsigned)_i))
        return;
    conv_gradients g;
    gradients_init(&g, &p);
    clcnn_tensor *tdz = test_tensor_from(ctx, dtype, p.z_dims, p.dz);
    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a);
    clcnn_tensor *tw = test_tensor_from(ctx, dtype, p.w_dims, p.w);

    int repeatable = 0;
    size_t mismatches = run_backward(&p, &g, tdz, ta, tw, WANT_ALL, &repeatable);
    static const int partial[] = {WANT_DA, WANT_DW, WANT_DB, WANT_DA | WANT_DB, WANT_DW | WANT_DB, WANT_DA | WANT_DW};
    for (size_t k = 0; k < sizeof partial / sizeof partial[0]; k++)
        mismatches += run_backward(&p, &g, tdz, ta, tw, partial[k], NULL);

    clcnn_tensor_destroy(tdz);
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tw);
    gradients_free(&g);
    problem_free(&p);
    TEST_ASSERT_NO_MISMATCHES(p.tc.name, "conv_backward", mismatches, p.tc.seed);
    ck_assert_msg(repeatable, "%s: conv_backward: a second run (or the _ex op) differs bitwise", p.tc.name);
}
END_TEST

/* The forward's tensors, for the device's loss; t holds values, the array
 * being varied. */
typedef struct conv_device {
    const conv_problem *p;
    const double *values;
    clcnn_tensor *t, *ta, *tw, *tb, *tz;
    double *z;
} conv_device;

/* L = sum(conv_forward(a, w, b) * g), computed from the device's forward pass. */
static double device_loss(void *problem)
{
    const conv_device *d = problem;
    test_tensor_set(ctx, d->t, d->values);
    TEST_OK(ctx, run_forward(d->p, d->ta, d->tw, d->tb, d->tz));
    test_tensor_get(ctx, d->tz, d->z);
    double loss = 0.0;
    for (size_t i = 0; i < d->p->n_z; i++)
        loss += d->z[i] * d->p->dz[i];
    return loss;
}

/* Central differences of L over every element of values (the contents of
 * tensor d->t), compared with the device gradient. */
static size_t check_finite_differences(conv_device *d, const char *what, double *values, size_t n, clcnn_tensor *t,
                                       const double *device_grad)
{
    double scale = 1.0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(device_grad[i]));
    double *numeric = test_alloc_doubles(n);
    double *tolerance = test_alloc_doubles(n);
    d->values = values;
    d->t = t;
    kit_central_differences(values, n, 1e-5, device_loss, d, numeric);
    for (size_t i = 0; i < n; i++)
        tolerance[i] = 1e-6 * scale;
    test_tensor_set(ctx, t, values);
    size_t mismatches = check_close(d->p->tc.name, what, device_grad, numeric, tolerance, n, d->p->tc.seed);
    free(numeric);
    free(tolerance);
    return mismatches;
}

START_TEST(test_conv_gradient_finite_differences)
{
    conv_problem p;
    if (!problem_init(&p, &gradient_cases[_i], CLCNN_FLOAT64, 2000u + (unsigned)_i))
        return;
    clcnn_tensor *ta = test_tensor_from(ctx, p.tc.dtype, p.a_dims, p.a);
    clcnn_tensor *tw = test_tensor_from(ctx, p.tc.dtype, p.w_dims, p.w);
    clcnn_tensor *tb = test_tensor_from(ctx, p.tc.dtype, p.b_dims, p.b);
    clcnn_tensor *tz = test_tensor_out(ctx, p.tc.dtype, p.z_dims);
    /* dz plays the role of g = dL/dz. */
    clcnn_tensor *tdz = test_tensor_from(ctx, p.tc.dtype, p.z_dims, p.dz);
    clcnn_tensor *tda = test_tensor_out(ctx, p.tc.dtype, p.a_dims);
    clcnn_tensor *tdw = test_tensor_out(ctx, p.tc.dtype, p.w_dims);
    clcnn_tensor *tdb = test_tensor_out(ctx, p.tc.dtype, p.b_dims);
    TEST_OK(ctx, run_backward_op(&p, tdz, ta, tw, tda, tdw, tdb));
    double *da = test_alloc_doubles(p.n_a), *dw = test_alloc_doubles(p.n_w);
    double *db = test_alloc_doubles(p.n_b), *z = test_alloc_doubles(p.n_z);
    test_tensor_get(ctx, tda, da);
    test_tensor_get(ctx, tdw, dw);
    test_tensor_get(ctx, tdb, db);

    conv_device d = {&p, NULL, NULL, ta, tw, tb, tz, z};
    size_t mismatches = check_finite_differences(&d, "dA_prev vs finite differences", p.a, p.n_a, ta, da);
    mismatches += check_finite_differences(&d, "dW vs finite differences", p.w, p.n_w, tw, dw);
    mismatches += check_finite_differences(&d, "db vs finite differences", p.b, p.n_b, tb, db);

    clcnn_tensor *all[] = {ta, tw, tb, tz, tdz, tda, tdw, tdb};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        clcnn_tensor_destroy(all[k]);
    free(da);
    free(dw);
    free(db);
    free(z);
    problem_free(&p);
    TEST_ASSERT_GRADIENTS_MATCH(p.tc.name, mismatches, p.tc.seed);
}
END_TEST

static Suite *conv_suite(void)
{
    Suite *suite = suite_create("conv");
    test_add_loop(suite, "forward", test_conv_forward_matches_reference, (int)(KIT_DTYPE_COUNT * N_CASES));
    test_add_loop(suite, "backward", test_conv_backward_matches_reference, (int)(KIT_DTYPE_COUNT * N_CASES));
    test_add_loop(suite, "finite_differences", test_conv_gradient_finite_differences, (int)N_GRADIENT_CASES);
    return suite;
}

int main(void)
{
    return test_main(&ctx, conv_suite);
}
