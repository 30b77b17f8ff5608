/* Device tests of the training ops (clcnn_relu_forward/_backward,
 * clcnn_softmax_cross_entropy_forward/_backward, clcnn_sgd_update): tables of
 * shapes in both dtypes against the CPU reference, bitwise repeatability,
 * invalid labels, float64 finite-difference checks of the gradients, and
 * every bad-input path (status, message naming op and argument, outputs
 * untouched). */
#define _POSIX_C_SOURCE 200809L /* setenv, strdup */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

/* ---- ReLU ---- */

typedef struct shape_case {
    const char *name;
    size_t dims[4];
} shape_case;

static const shape_case relu_cases[] = {
    {"one", {1, 1, 1, 1}},
    {"c7", {2, 3, 5, 7}},
    {"c33_past_one_group", {3, 17, 19, 33}},
    {"big_64x28x28x32", {64, 28, 28, 32}},
    /* large enough for streaming stores */
    {"big_stream_8x64x64x64", {8, 64, 64, 64}},
};

START_TEST(test_relu_matches_reference)
{
    TEST_DTYPE_CASE(ctx, shape_case, c, relu_cases, tc, 100);
    const clcnn_dtype dtype = tc.dtype;
    const char *name = tc.name;
    const uint64_t seed = tc.seed;
    const size_t n = kit_elements(c->dims);
    double *ref = test_alloc_doubles(n), *got = test_alloc_doubles(n);
    /* 0 and -0 mixed in: the edge of both ReLU kernels. */
    double *x = test_random_doubles(&tc.rng, dtype, KIT_NORMAL_WITH_ZEROS, n);
    double *dy = test_random_doubles(&tc.rng, dtype, KIT_NORMAL, n);

    clcnn_tensor *tx = test_tensor_from(ctx, dtype, c->dims, x);
    clcnn_tensor *ty = test_tensor_out(ctx, dtype, c->dims);
    clcnn_tensor *tdy = test_tensor_from(ctx, dtype, c->dims, dy);
    clcnn_tensor *tdx = test_tensor_out(ctx, dtype, c->dims);
    size_t mismatches = 0;

    /* Both directions are selections, not arithmetic: they must be exact. */
    TEST_OK(ctx, clcnn_relu_forward(ctx, tx, ty));
    test_tensor_get(ctx, ty, got);
    clcnn_ref_relu_forward(x, n, ref);
    mismatches += check_close(name, "relu_forward y", got, ref, NULL, n, seed);

    TEST_OK(ctx, clcnn_relu_backward(ctx, tdy, tx, tdx));
    test_tensor_get(ctx, tdx, got);
    clcnn_ref_relu_backward(dy, x, n, ref);
    mismatches += check_close(name, "relu_backward dx", got, ref, NULL, n, seed);

    /* The forward's output marks the same places as its input. */
    size_t bytes;
    void *first = test_tensor_get_raw(ctx, tdx, &bytes);
    for (size_t i = 0; i < n; i++)
        got[i] = NAN; /* so that an element left unwritten shows */
    test_tensor_set(ctx, tdx, got);
    TEST_OK(ctx, clcnn_relu_backward(ctx, tdy, ty, tdx));
    int same_with_y = test_raw_equal(ctx, tdx, first, bytes);
    free(first);

    first = test_tensor_get_raw(ctx, ty, &bytes);
    TEST_OK(ctx, clcnn_relu_forward(ctx, tx, ty));
    int repeatable = test_raw_equal(ctx, ty, first, bytes);
    free(first);

    TEST_DESTROY(tx, ty, tdy, tdx);
    TEST_FREE(x, dy, ref, got);
    TEST_ASSERT_NO_MISMATCHES(name, "relu", mismatches, seed);
    ck_assert_msg(same_with_y, "%s: relu_backward with x = y differs from x = input", name);
    TEST_ASSERT_REPEATABLE(name, "relu_forward", repeatable);
}
END_TEST

/* Equal, NaN to NaN, and -0 apart from +0. */
static int same_value(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b && signbit(a) == signbit(b);
}

/* NaN through ReLU as PyTorch passes it, on the device and in the
 * reference: relu(NaN) is NaN, and its gradient at a NaN x is dy
 * (threshold_backward's x <= 0 ? 0 : dy), while a NaN dy where x <= 0
 * gives 0. 37 elements: the specials in whole vectors and in the scalar
 * tail of every vector width. */
START_TEST(test_relu_nan_propagates)
{
    const clcnn_dtype dtype = kit_case_dtype(_i);
    if (!test_dtype_usable(ctx, dtype, "relu_nan"))
        return;
    enum { N = 37, KINDS = 7 };
    const size_t dims[4] = {1, 1, 1, N};
    const double kinds[KINDS] = {NAN, -1.0, 2.0, INFINITY, -0.0, 0.0, -INFINITY};
    double x[N], dy[N], y[N], dx[N], ref_y[N], ref_dx[N];
    for (int k = 0; k < N; k++) {
        x[k] = kinds[k % KINDS];
        /* NaN dy at x of five kinds: NaN, -1, 2, inf and -0. */
        dy[k] = k % (KINDS + 1) == 0 ? NAN : k + 1.0;
    }
    clcnn_tensor *tx = test_tensor_from(ctx, dtype, dims, x);
    clcnn_tensor *ty = test_tensor_out(ctx, dtype, dims);
    clcnn_tensor *tdy = test_tensor_from(ctx, dtype, dims, dy);
    clcnn_tensor *tdx = test_tensor_out(ctx, dtype, dims);
    TEST_OK(ctx, clcnn_relu_forward(ctx, tx, ty));
    TEST_OK(ctx, clcnn_relu_backward(ctx, tdy, tx, tdx));
    test_tensor_get(ctx, ty, y);
    test_tensor_get(ctx, tdx, dx);
    TEST_DESTROY(tx, ty, tdy, tdx);
    clcnn_ref_relu_forward(x, N, ref_y);
    clcnn_ref_relu_backward(dy, x, N, ref_dx);
    for (int k = 0; k < N; k++) {
        /* -0 stays -0 (x < 0 is false), as torch.relu gives. */
        const double want_y = x[k] < 0.0 ? 0.0 : x[k];
        const double want_dx = x[k] <= 0.0 ? 0.0 : dy[k];
        ck_assert_msg(same_value(y[k], want_y) && same_value(ref_y[k], want_y),
                      "relu_forward of x[%d] = %g gave %g, the reference %g; want %g", k, x[k], y[k], ref_y[k], want_y);
        ck_assert_msg(same_value(dx[k], want_dx) && same_value(ref_dx[k], want_dx),
                      "relu_backward at x[%d] = %g, dy %g gave %g, the reference %g; want %g", k, x[k], dy[k], dx[k],
                      ref_dx[k], want_dx);
    }
}
END_TEST

/* ---- softmax cross-entropy ---- */

typedef struct sce_case {
    const char *name;
    size_t rows[3];   /* (m, n_H, n_W): a label each */
    size_t n_classes; /* K: logits (m, n_H, n_W, K) */
    double logit_scale;
} sce_case;

static const sce_case sce_cases[] = {
    {"batch64_k10", {64, 1, 1}, 10, 3.0},
    {"k1", {5, 1, 1}, 1, 1.0},
    {"k2_spatial", {2, 3, 4}, 2, 2.0},
    {"k7_spatial", {3, 5, 2}, 7, 1.0},
    {"k1000", {3, 1, 1}, 1000, 4.0},
    {"rows_past_groups_1000x3", {1000, 1, 1}, 3, 2.0},
    {"one_row_k10", {1, 1, 1}, 10, 1.0},
    /* exp of these would overflow without the max subtracted */
    {"huge_logits", {16, 1, 1}, 10, 1000.0},
    {"big_rows_9x28x28_k10", {9, 28, 28}, 10, 3.0},
};

typedef struct sce_problem {
    test_case tc; /* name, dtype, seed */
    size_t logit_dims[4], label_dims[4];
    size_t n, rows, n_classes;
    double *logits, *labels;
} sce_problem;

static void sce_free(sce_problem *p)
{
    free(p->logits);
    free(p->labels);
}

/* 0, with nothing to free, when the case is skipped here (test_case_begin). */
static int sce_init(sce_problem *p, const sce_case *c, clcnn_dtype dtype, unsigned seed_index)
{
    memset(p, 0, sizeof *p);
    if (!test_case_begin(&p->tc, ctx, c->name, dtype, seed_index))
        return 0;
    const size_t logit_dims[4] = {c->rows[0], c->rows[1], c->rows[2], c->n_classes};
    const size_t label_dims[4] = {c->rows[0], c->rows[1], c->rows[2], 1};
    memcpy(p->logit_dims, logit_dims, sizeof logit_dims);
    memcpy(p->label_dims, label_dims, sizeof label_dims);
    p->n_classes = c->n_classes;
    p->rows = kit_elements(label_dims);
    p->n = p->rows * p->n_classes;
    p->logits = test_alloc_doubles(p->n);
    p->labels = test_alloc_doubles(p->rows);
    for (size_t i = 0; i < p->n; i++)
        p->logits[i] = kit_round_to_dtype(dtype, c->logit_scale * kit_rng_normal(&p->tc.rng));
    for (size_t r = 0; r < p->rows; r++)
        p->labels[r] = (double)(kit_rng_next(&p->tc.rng) % p->n_classes);
    return 1;
}

/* The forward against the reference: the mismatches of probs, loss and
 * mean_loss; *repeatable, whether a second run gives the same bits. */
static size_t check_sce_forward(const sce_problem *p, int *repeatable)
{
    const clcnn_dtype dtype = p->tc.dtype;
    const size_t scalar_dims[4] = {1, 1, 1, 1};
    double *probs_ref = test_alloc_doubles(p->n), *loss_ref = test_alloc_doubles(p->rows), mean_ref;
    double *probs_bound = test_alloc_doubles(p->n), *loss_bound = test_alloc_doubles(p->rows), mean_bound;
    double *probs = test_alloc_doubles(p->n), *loss = test_alloc_doubles(p->rows), mean;
    clcnn_ref_softmax_cross_entropy_forward(p->logits, p->logit_dims, p->labels, probs_ref, loss_ref, &mean_ref);
    /* kit.h derives these from how each value is computed. */
    kit_softmax_cross_entropy_forward_terms(dtype, p->logits, p->logit_dims, p->labels, probs_ref, loss_ref,
                                            probs_bound, loss_bound, &mean_bound);
    kit_tolerance_bounds(dtype, probs_bound, probs_bound, p->n);
    kit_tolerance_bounds(dtype, loss_bound, loss_bound, p->rows);
    kit_tolerance_bounds(dtype, &mean_bound, &mean_bound, 1);

    clcnn_tensor *tz = test_tensor_from(ctx, dtype, p->logit_dims, p->logits);
    clcnn_tensor *ty = test_tensor_from(ctx, dtype, p->label_dims, p->labels);
    clcnn_tensor *tp = test_tensor_out(ctx, dtype, p->logit_dims);
    clcnn_tensor *tl = test_tensor_out(ctx, dtype, p->label_dims);
    clcnn_tensor *tm = test_tensor_out(ctx, dtype, scalar_dims);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_forward(ctx, tz, ty, tp, tl, tm));
    test_tensor_get(ctx, tp, probs);
    test_tensor_get(ctx, tl, loss);
    test_tensor_get(ctx, tm, &mean);
    size_t mismatches =
        check_close(p->tc.name, "softmax_cross_entropy probs", probs, probs_ref, probs_bound, p->n, p->tc.seed);
    mismatches +=
        check_close(p->tc.name, "softmax_cross_entropy loss", loss, loss_ref, loss_bound, p->rows, p->tc.seed);
    mismatches +=
        check_close(p->tc.name, "softmax_cross_entropy mean_loss", &mean, &mean_ref, &mean_bound, 1, p->tc.seed);

    /* Repeatability of all three outputs, over the first results. */
    size_t bp, bl, bm;
    void *rp = test_tensor_get_raw(ctx, tp, &bp), *rl = test_tensor_get_raw(ctx, tl, &bl);
    void *rm = test_tensor_get_raw(ctx, tm, &bm);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_forward(ctx, tz, ty, tp, tl, tm));
    *repeatable = test_raw_equal(ctx, tp, rp, bp) && test_raw_equal(ctx, tl, rl, bl) && test_raw_equal(ctx, tm, rm, bm);
    TEST_DESTROY(tz, ty, tp, tl, tm);
    TEST_FREE(probs_ref, loss_ref, probs_bound, loss_bound, probs, loss, rp, rl, rm);
    return mismatches;
}

/* The backward against the reference, as check_sce_forward. */
static size_t check_sce_backward(const sce_problem *p, int *repeatable)
{
    const clcnn_dtype dtype = p->tc.dtype;
    /* The op's input is any probs tensor: use the reference softmax,
     * rounded to the dtype. */
    double *probs = test_alloc_doubles(p->n), *ref = test_alloc_doubles(p->n);
    double *bound = test_alloc_doubles(p->n), *got = test_alloc_doubles(p->n);
    clcnn_ref_softmax_cross_entropy_forward(p->logits, p->logit_dims, p->labels, probs, NULL, NULL);
    for (size_t i = 0; i < p->n; i++)
        probs[i] = kit_round_to_dtype(dtype, probs[i]);
    clcnn_ref_softmax_cross_entropy_backward(probs, p->logit_dims, p->labels, ref);
    kit_softmax_cross_entropy_backward_terms(dtype, probs, p->logit_dims, p->labels, bound);
    kit_tolerance_bounds(dtype, bound, bound, p->n);

    clcnn_tensor *tp = test_tensor_from(ctx, dtype, p->logit_dims, probs);
    clcnn_tensor *ty = test_tensor_from(ctx, dtype, p->label_dims, p->labels);
    clcnn_tensor *td = test_tensor_out(ctx, dtype, p->logit_dims);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_backward(ctx, tp, ty, td));
    test_tensor_get(ctx, td, got);
    size_t mismatches =
        check_close(p->tc.name, "softmax_cross_entropy_backward dlogits", got, ref, bound, p->n, p->tc.seed);
    size_t bytes;
    void *first = test_tensor_get_raw(ctx, td, &bytes);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_backward(ctx, tp, ty, td));
    *repeatable = test_raw_equal(ctx, td, first, bytes);
    TEST_DESTROY(tp, ty, td);
    TEST_FREE(probs, ref, bound, got, first);
    return mismatches;
}

/* Both directions of one case; the backward's input is the reference's
 * probs of the same logits. */
START_TEST(test_sce_matches_reference)
{
    sce_problem p;
    if (!sce_init(&p, &sce_cases[_i / KIT_DTYPE_COUNT], kit_case_dtype(_i), 200u + (unsigned)_i))
        return;
    int forward_repeatable, backward_repeatable;
    const size_t forward = check_sce_forward(&p, &forward_repeatable);
    const size_t backward = check_sce_backward(&p, &backward_repeatable);
    sce_free(&p);
    TEST_ASSERT_NO_MISMATCHES(p.tc.name, "softmax_cross_entropy_forward", forward, p.tc.seed);
    TEST_ASSERT_NO_MISMATCHES(p.tc.name, "softmax_cross_entropy_backward", backward, p.tc.seed);
    TEST_ASSERT_REPEATABLE(p.tc.name, "softmax_cross_entropy_forward", forward_repeatable);
    TEST_ASSERT_REPEATABLE(p.tc.name, "softmax_cross_entropy_backward", backward_repeatable);
}
END_TEST

/* Labels that are not an integer in [0, K) give their row a NaN loss and
 * NaN gradients; the other rows, and every row's probs, stay right. */
START_TEST(test_sce_invalid_labels)
{
    const clcnn_dtype dtype = kit_case_dtype(_i);
    if (!test_dtype_usable(ctx, dtype, "sce_invalid_labels"))
        return;
    enum { ROWS = 8, K = 4 };
    const size_t logit_dims[4] = {ROWS, 1, 1, K}, label_dims[4] = {ROWS, 1, 1, 1};
    const size_t scalar_dims[4] = {1, 1, 1, 1};
    const double labels[ROWS] = {0, -1, 3, K, 2.5, NAN, 1e30, 1};
    const int valid[ROWS] = {1, 0, 1, 0, 0, 0, 0, 1};
    double logits[ROWS * K], probs_ref[ROWS * K], probs[ROWS * K], dlogits[ROWS * K];
    double loss[ROWS], mean;
    kit_rng rng;
    kit_rng_init(&rng, test_case_seed(400u + (unsigned)_i));
    kit_rng_fill(&rng, dtype, KIT_NORMAL, logits, ROWS * K);
    /* Probs do not depend on labels: the reference with all-zero labels. */
    const double zero_labels[ROWS] = {0};
    clcnn_ref_softmax_cross_entropy_forward(logits, logit_dims, zero_labels, probs_ref, NULL, NULL);

    clcnn_tensor *tz = test_tensor_from(ctx, dtype, logit_dims, logits);
    clcnn_tensor *ty = test_tensor_from(ctx, dtype, label_dims, labels);
    clcnn_tensor *tp = test_tensor_out(ctx, dtype, logit_dims);
    clcnn_tensor *tl = test_tensor_out(ctx, dtype, label_dims);
    clcnn_tensor *tm = test_tensor_out(ctx, dtype, scalar_dims);
    clcnn_tensor *td = test_tensor_out(ctx, dtype, logit_dims);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_forward(ctx, tz, ty, tp, tl, tm));
    TEST_OK(ctx, clcnn_softmax_cross_entropy_backward(ctx, tp, ty, td));
    test_tensor_get(ctx, tp, probs);
    test_tensor_get(ctx, tl, loss);
    test_tensor_get(ctx, tm, &mean);
    test_tensor_get(ctx, td, dlogits);
    TEST_DESTROY(tz, ty, tp, tl, tm, td);

    for (int r = 0; r < ROWS; r++) {
        ck_assert_msg(valid[r] ? isfinite(loss[r]) && loss[r] >= 0.0 : isnan(loss[r]),
                      "row %d, label %g: loss %g (expected %s)", r, labels[r], loss[r], valid[r] ? "finite" : "NaN");
        for (int c = 0; c < K; c++) {
            double d = dlogits[r * K + c];
            ck_assert_msg(valid[r] ? isfinite(d) : isnan(d), "row %d, label %g: dlogits[%d] = %g", r, labels[r], c, d);
            double p = probs[r * K + c], want = probs_ref[r * K + c];
            ck_assert_msg(fabs(p - want) <= 64.0 * kit_dtype_eps(dtype), "row %d: probs[%d] = %a, want %a", r, c, p,
                          want);
        }
    }
    ck_assert_msg(isnan(mean), "mean_loss with invalid labels is %g, expected NaN", mean);
}
END_TEST

/* The forward in one launch (few rows, softmax_one_group_rows) and in
 * two (the rows, then the mean) gives the same bits: the same rows' losses
 * summed in the same order. The second context, created with that key at 0,
 * takes two launches for every row count. */
START_TEST(test_sce_one_group_same_bits)
{
    const clcnn_dtype dtype = kit_case_dtype(_i);
    if (!test_dtype_usable(ctx, dtype, "sce_one_group_same_bits"))
        return;
    enum { ROWS = 200, K = 37 };
    const size_t logit_dims[4] = {ROWS / 8, 2, 4, K}, label_dims[4] = {ROWS / 8, 2, 4, 1};
    const size_t scalar_dims[4] = {1, 1, 1, 1};
    kit_rng rng;
    kit_rng_init(&rng, test_case_seed(450u + (unsigned)_i));
    double *logits = test_random_doubles(&rng, dtype, KIT_NORMAL, ROWS * K), labels[ROWS];
    for (int r = 0; r < ROWS; r++)
        labels[r] = (double)(kit_rng_next(&rng) % K);
    const char *tune = getenv("CLCNN_TUNE");
    char *saved = tune ? strdup(tune) : NULL, two_launches[512];
    snprintf(two_launches, sizeof two_launches, "%s%ssoftmax_one_group_rows=0", tune ? tune : "", tune ? "," : "");
    setenv("CLCNN_TUNE", two_launches, 1);
    clcnn_context *other = NULL;
    const clcnn_status created = clcnn_context_create(NULL, &other);
    saved ? setenv("CLCNN_TUNE", saved, 1) : unsetenv("CLCNN_TUNE");
    free(saved);
    ck_assert_msg(created == CLCNN_OK, "a second context: %s", clcnn_status_string(created));
    clcnn_context *contexts[2] = {ctx, other};
    void *raw[2][3];
    size_t bytes[3];
    for (int k = 0; k < 2; k++) {
        clcnn_context *c = contexts[k];
        clcnn_tensor *tz = test_tensor_from(c, dtype, logit_dims, logits);
        clcnn_tensor *ty = test_tensor_from(c, dtype, label_dims, labels);
        clcnn_tensor *out[3] = {test_tensor_out(c, dtype, logit_dims), test_tensor_out(c, dtype, label_dims),
                                test_tensor_out(c, dtype, scalar_dims)};
        TEST_OK(c, clcnn_softmax_cross_entropy_forward(c, tz, ty, out[0], out[1], out[2]));
        for (int i = 0; i < 3; i++)
            raw[k][i] = test_tensor_get_raw(c, out[i], &bytes[i]);
        TEST_DESTROY(tz, ty, out[0], out[1], out[2]);
    }
    const char *names[3] = {"probs", "loss", "mean_loss"};
    for (int i = 0; i < 3; i++)
        ck_assert_msg(memcmp(raw[0][i], raw[1][i], bytes[i]) == 0,
                      "softmax_cross_entropy_forward %s, %d rows: one launch and two launches differ in their bits "
                      "(dtype %s, seed %llu)",
                      names[i], ROWS, kit_dtype_name(dtype), (unsigned long long)test_case_seed(450u + (unsigned)_i));
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 3; i++)
            free(raw[k][i]);
    free(logits);
    clcnn_context_destroy(other);
}
END_TEST

/* ---- SGD ---- */

typedef struct sgd_case {
    const char *name;
    size_t dims[4];
    double lr, momentum, weight_decay;
    int with_velocity;
} sgd_case;

static const sgd_case sgd_cases[] = {
    {"plain_no_velocity", {3, 3, 7, 5}, 0.1, 0.0, 0.0, 0},
    {"decay_no_velocity", {1, 1, 1, 17}, 0.05, 0.0, 0.01, 0},
    {"momentum", {5, 5, 3, 8}, 0.05, 0.9, 0.0, 1},
    {"momentum_decay", {1, 1, 1, 33}, 0.01, 0.9, 5e-4, 1},
    {"momentum0_with_velocity", {2, 2, 2, 2}, 0.1, 0.0, 1e-3, 1},
    {"momentum1", {1, 1, 3, 7}, 0.001, 1.0, 0.0, 1},
    {"lr0", {1, 1, 1, 9}, 0.0, 0.9, 0.1, 1},
    {"big_conv2_weights", {5, 5, 32, 64}, 0.02, 0.9, 5e-4, 1},
};

START_TEST(test_sgd_matches_reference)
{
    TEST_DTYPE_CASE(ctx, sgd_case, c, sgd_cases, tc, 500);
    const size_t n = kit_elements(c->dims);
    double *param = test_random_doubles(&tc.rng, tc.dtype, KIT_NORMAL, n);
    double *grad = test_random_doubles(&tc.rng, tc.dtype, KIT_NORMAL, n);
    double *velocity = test_random_doubles(&tc.rng, tc.dtype, KIT_NORMAL, n);
    double *param0 = test_alloc_doubles(n), *velocity0 = test_alloc_doubles(n);
    double *param_bound = test_alloc_doubles(n), *velocity_bound = test_alloc_doubles(n);
    double *got = test_alloc_doubles(n);
    memcpy(param0, param, n * sizeof *param);
    memcpy(velocity0, velocity, n * sizeof *velocity);
    /* The device uses the scalars in the tensors' precision. */
    const double lr = kit_round_to_dtype(tc.dtype, c->lr), momentum = kit_round_to_dtype(tc.dtype, c->momentum);
    const double decay = kit_round_to_dtype(tc.dtype, c->weight_decay);
    kit_sgd_update_terms(param, grad, c->with_velocity ? velocity : NULL, n, lr, momentum, decay, param_bound,
                         velocity_bound);
    kit_tolerance_bounds(tc.dtype, velocity_bound, velocity_bound, n);
    kit_tolerance_bounds(tc.dtype, param_bound, param_bound, n);
    clcnn_ref_sgd_update(param, grad, c->with_velocity ? velocity : NULL, n, lr, momentum, decay);

    int repeatable = 1;
    size_t mismatches = 0;
    void *first_param = NULL, *first_velocity = NULL;
    size_t param_bytes = 0, velocity_bytes = 0;
    /* Twice from the same start: the second run must give the same bits. */
    for (int run = 0; run < 2; run++) {
        clcnn_tensor *tp = test_tensor_from(ctx, tc.dtype, c->dims, param0);
        clcnn_tensor *tg = test_tensor_from(ctx, tc.dtype, c->dims, grad);
        clcnn_tensor *tv = c->with_velocity ? test_tensor_from(ctx, tc.dtype, c->dims, velocity0) : NULL;
        TEST_OK(ctx, clcnn_sgd_update(ctx, tp, tg, tv, c->lr, c->momentum, c->weight_decay));
        if (run == 0) {
            test_tensor_get(ctx, tp, got);
            mismatches += check_close(tc.name, "sgd_update param", got, param, param_bound, n, tc.seed);
            first_param = test_tensor_get_raw(ctx, tp, &param_bytes);
            if (tv) {
                test_tensor_get(ctx, tv, got);
                mismatches += check_close(tc.name, "sgd_update velocity", got, velocity, velocity_bound, n, tc.seed);
                first_velocity = test_tensor_get_raw(ctx, tv, &velocity_bytes);
            }
            /* grad is an input: unchanged. */
            test_tensor_get(ctx, tg, got);
            mismatches += check_close(tc.name, "sgd_update grad (input)", got, grad, NULL, n, tc.seed);
        } else {
            repeatable = test_raw_equal(ctx, tp, first_param, param_bytes) &&
                         (tv == NULL || test_raw_equal(ctx, tv, first_velocity, velocity_bytes));
        }
        TEST_DESTROY(tp, tg, tv);
    }
    if (c->lr == 0.0) {
        /* p - 0 * v is p itself. */
        double *p_back = test_alloc_doubles(n);
        const float *pf = first_param;
        const double *pd = first_param;
        for (size_t i = 0; i < n; i++)
            p_back[i] = tc.dtype == CLCNN_FLOAT32 ? pf[i] : pd[i];
        mismatches += check_close(tc.name, "sgd_update param with lr 0", p_back, param0, NULL, n, tc.seed);
        free(p_back);
    }
    free(first_param);
    free(first_velocity);
    TEST_FREE(param, grad, velocity, param0, velocity0, param_bound, velocity_bound, got);
    TEST_ASSERT_NO_MISMATCHES(tc.name, "sgd_update", mismatches, tc.seed);
    TEST_ASSERT_REPEATABLE(tc.name, "sgd_update", repeatable);
}
END_TEST

/* ---- finite differences (float64) ---- */

/* Central differences: truncation h^2 |L'''| / 6 and rounding eps |L| / h
 * are both near 1e-10 for these losses. */
#define FD_STEP 1e-5
#define FD_TOLERANCE 1e-8

/* Numeric gradients of loss over x (n values) against analytic, within
 * FD_TOLERANCE; returns the number of mismatches (check_close). */
static size_t check_gradient(const char *name, const char *what, double *x, size_t n, const double *analytic,
                             kit_loss_fn loss, void *problem, uint64_t seed)
{
    double *numeric = test_alloc_doubles(n), *tolerance = test_alloc_doubles(n);
    kit_central_differences(x, n, FD_STEP, loss, problem, numeric);
    for (size_t i = 0; i < n; i++)
        tolerance[i] = FD_TOLERANCE;
    size_t mismatches = check_close(name, what, analytic, numeric, tolerance, n, seed);
    TEST_FREE(numeric, tolerance);
    return mismatches;
}

/* The softmax cross-entropy forward's tensors, for the device's mean loss. */
typedef struct sce_device {
    const double *logits;
    clcnn_tensor *tz, *ty, *tp, *tl, *tm, *td;
} sce_device;

/* The mean loss of the device forward at the logits being varied. */
static double device_mean_loss(void *problem)
{
    const sce_device *d = problem;
    double mean;
    test_tensor_set(ctx, d->tz, d->logits);
    TEST_OK(ctx, clcnn_softmax_cross_entropy_forward(ctx, d->tz, d->ty, d->tp, d->tl, d->tm));
    test_tensor_get(ctx, d->tm, &mean);
    return mean;
}

static const sce_case sce_gradient_cases[] = {
    {"gc_batch3_k4", {3, 1, 1}, 4, 2.0},
    {"gc_spatial_k3", {2, 2, 3}, 3, 1.0},
    {"gc_k1", {4, 1, 1}, 1, 1.0},
};

START_TEST(test_sce_gradient_finite_differences)
{
    sce_problem p;
    if (!sce_init(&p, &sce_gradient_cases[_i], CLCNN_FLOAT64, 600u + (unsigned)_i))
        return;
    const size_t scalar_dims[4] = {1, 1, 1, 1};
    sce_device d = {p.logits,
                    test_tensor_from(ctx, p.tc.dtype, p.logit_dims, p.logits),
                    test_tensor_from(ctx, p.tc.dtype, p.label_dims, p.labels),
                    test_tensor_out(ctx, p.tc.dtype, p.logit_dims),
                    test_tensor_out(ctx, p.tc.dtype, p.label_dims),
                    test_tensor_out(ctx, p.tc.dtype, scalar_dims),
                    test_tensor_out(ctx, p.tc.dtype, p.logit_dims)};
    TEST_OK(ctx, clcnn_softmax_cross_entropy_forward(ctx, d.tz, d.ty, d.tp, d.tl, d.tm));
    TEST_OK(ctx, clcnn_softmax_cross_entropy_backward(ctx, d.tp, d.ty, d.td));
    double *analytic = test_alloc_doubles(p.n);
    test_tensor_get(ctx, d.td, analytic);
    size_t mismatches = check_gradient(p.tc.name, "softmax_cross_entropy_backward vs finite differences", p.logits, p.n,
                                       analytic, device_mean_loss, &d, p.tc.seed);
    TEST_DESTROY(d.tz, d.ty, d.tp, d.tl, d.tm, d.td);
    free(analytic);
    sce_free(&p);
    TEST_ASSERT_GRADIENTS_MATCH(p.tc.name, mismatches, p.tc.seed);
}
END_TEST

/* The ReLU forward's tensors and L's weights g, for the device's loss. */
typedef struct relu_device {
    const double *x, *g;
    double *y;
    size_t n;
    clcnn_tensor *tx, *ty;
} relu_device;

/* L = sum(relu(x) * g) on the device. */
static double device_relu_loss(void *problem)
{
    const relu_device *d = problem;
    test_tensor_set(ctx, d->tx, d->x);
    TEST_OK(ctx, clcnn_relu_forward(ctx, d->tx, d->ty));
    test_tensor_get(ctx, d->ty, d->y);
    double loss = 0.0;
    for (size_t i = 0; i < d->n; i++)
        loss += d->y[i] * d->g[i];
    return loss;
}

START_TEST(test_relu_gradient_finite_differences)
{
    test_case tc;
    if (!test_case_begin(&tc, ctx, "relu_gradient", CLCNN_FLOAT64, 700))
        return;
    const size_t dims[4] = {2, 3, 3, 5};
    const size_t n = kit_elements(dims);
    double *x = test_random_doubles(&tc.rng, CLCNN_FLOAT64, KIT_NORMAL, n);
    double *g = test_random_doubles(&tc.rng, CLCNN_FLOAT64, KIT_NORMAL, n);
    double *y = test_alloc_doubles(n), *analytic = test_alloc_doubles(n);
    /* Keep x away from the kink, where the derivative does not exist. */
    for (size_t i = 0; i < n; i++)
        x[i] += x[i] < 0 ? -0.1 : 0.1;
    relu_device d = {
        x, g, y, n, test_tensor_from(ctx, CLCNN_FLOAT64, dims, x), test_tensor_out(ctx, CLCNN_FLOAT64, dims)};
    clcnn_tensor *tg = test_tensor_from(ctx, CLCNN_FLOAT64, dims, g);
    clcnn_tensor *tdx = test_tensor_out(ctx, CLCNN_FLOAT64, dims);
    TEST_OK(ctx, clcnn_relu_backward(ctx, tg, d.tx, tdx));
    test_tensor_get(ctx, tdx, analytic);
    size_t mismatches =
        check_gradient(tc.name, "relu_backward vs finite differences", x, n, analytic, device_relu_loss, &d, tc.seed);
    TEST_DESTROY(d.tx, d.ty, tg, tdx);
    TEST_FREE(x, g, y, analytic);
    TEST_ASSERT_GRADIENTS_MATCH(tc.name, mismatches, tc.seed);
}
END_TEST

/* ---- bad input ---- */

/* Tensors whose contents no failing call may change. */
static kit_watch watch;

#define EXPECT_ERROR(call, want, op, arg) TEST_EXPECT_ERROR(&watch, ctx, call, want, op, arg)
#define EXPECT_STATUS(call, want) TEST_EXPECT_STATUS(&watch, call, want)

START_TEST(test_relu_bad_input)
{
    const clcnn_status BAD = CLCNN_ERROR_INVALID_ARGUMENT, SHAPE = CLCNN_ERROR_SHAPE;
    const size_t dims[4] = {2, 3, 3, 4}, other_dims[4] = {2, 3, 4, 3};
    clcnn_context *other = NULL;
    TEST_OK(other, clcnn_context_create(NULL, &other));
    clcnn_tensor *x, *y, *dy, *dx;
    test_watch_inputs(&watch, ctx, CLCNN_FLOAT32, dims, 1, &x, &y, &dy, &dx, NULL);
    clcnn_tensor *wrong = test_watch_input(&watch, ctx, CLCNN_FLOAT32, other_dims, 5);
    clcnn_tensor *foreign = test_watch_input(&watch, other, CLCNN_FLOAT32, dims, 6);
    clcnn_tensor *x64 =
        clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64) ? test_watch_input(&watch, ctx, CLCNN_FLOAT64, dims, 7) : NULL;

    EXPECT_STATUS(clcnn_relu_forward(NULL, x, y), BAD);
    EXPECT_ERROR(clcnn_relu_forward(ctx, NULL, y), BAD, "relu_forward", "x");
    EXPECT_ERROR(clcnn_relu_forward(ctx, x, NULL), BAD, "relu_forward", "y");
    EXPECT_ERROR(clcnn_relu_forward(ctx, x, wrong), SHAPE, "relu_forward", "y");
    EXPECT_ERROR(clcnn_relu_forward(ctx, x, x), BAD, "relu_forward", "y");
    EXPECT_ERROR(clcnn_relu_forward(ctx, foreign, y), BAD, "relu_forward", "x");
    EXPECT_ERROR(clcnn_relu_forward(ctx, x, foreign), BAD, "relu_forward", "y");
    if (x64)
        EXPECT_ERROR(clcnn_relu_forward(ctx, x, x64), BAD, "relu_forward", "y");

    EXPECT_STATUS(clcnn_relu_backward(NULL, dy, x, dx), BAD);
    EXPECT_ERROR(clcnn_relu_backward(ctx, NULL, x, dx), BAD, "relu_backward", "dy");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, NULL, dx), BAD, "relu_backward", "x");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, x, NULL), BAD, "relu_backward", "dx");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, wrong, dx), SHAPE, "relu_backward", "x");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, x, wrong), SHAPE, "relu_backward", "dx");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, x, dy), BAD, "relu_backward", "dx");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, x, x), BAD, "relu_backward", "dx");
    EXPECT_ERROR(clcnn_relu_backward(ctx, dy, foreign, dx), BAD, "relu_backward", "x");
    if (x64)
        EXPECT_ERROR(clcnn_relu_backward(ctx, dy, x64, dx), BAD, "relu_backward", "x");

    /* Still works after all that. */
    clcnn_tensor *out = test_tensor_out(ctx, CLCNN_FLOAT32, dims);
    TEST_OK(ctx, clcnn_relu_forward(ctx, x, out));
    TEST_OK(ctx, clcnn_relu_backward(ctx, dy, x, out));
    TEST_OK(ctx, clcnn_context_finish(ctx));
    clcnn_tensor_destroy(out);
    kit_watch_release(&watch);
    clcnn_context_destroy(other);
}
END_TEST

START_TEST(test_sce_bad_input)
{
    const clcnn_status BAD = CLCNN_ERROR_INVALID_ARGUMENT, SHAPE = CLCNN_ERROR_SHAPE;
    const char *fwd = "softmax_cross_entropy_forward", *bwd = "softmax_cross_entropy_backward";
    const size_t z_dims[4] = {4, 1, 1, 5}, y_dims[4] = {4, 1, 1, 1}, s_dims[4] = {1, 1, 1, 1};
    const size_t y_wrong[4] = {5, 1, 1, 1}, z_wrong[4] = {4, 1, 1, 6}, s_wrong[4] = {2, 1, 1, 1};
    clcnn_context *other = NULL;
    TEST_OK(other, clcnn_context_create(NULL, &other));
    clcnn_tensor *z = test_watch_input(&watch, ctx, CLCNN_FLOAT32, z_dims, 1);
    clcnn_tensor *y = test_watch_input(&watch, ctx, CLCNN_FLOAT32, y_dims, 2); /* bad labels: nothing may run */
    clcnn_tensor *p = test_watch_input(&watch, ctx, CLCNN_FLOAT32, z_dims, 3);
    clcnn_tensor *l = test_watch_input(&watch, ctx, CLCNN_FLOAT32, y_dims, 4);
    clcnn_tensor *m = test_watch_input(&watch, ctx, CLCNN_FLOAT32, s_dims, 5);
    clcnn_tensor *d = test_watch_input(&watch, ctx, CLCNN_FLOAT32, z_dims, 6);
    clcnn_tensor *yw = test_watch_input(&watch, ctx, CLCNN_FLOAT32, y_wrong, 7);
    clcnn_tensor *zw = test_watch_input(&watch, ctx, CLCNN_FLOAT32, z_wrong, 8);
    clcnn_tensor *sw = test_watch_input(&watch, ctx, CLCNN_FLOAT32, s_wrong, 9);
    clcnn_tensor *zlike = test_watch_input(&watch, ctx, CLCNN_FLOAT32, z_dims, 10);
    clcnn_tensor *foreign = test_watch_input(&watch, other, CLCNN_FLOAT32, y_dims, 11);
    clcnn_tensor *y64 = clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)
                            ? test_watch_input(&watch, ctx, CLCNN_FLOAT64, y_dims, 12)
                            : NULL;

    EXPECT_STATUS(clcnn_softmax_cross_entropy_forward(NULL, z, y, p, l, m), BAD);
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, NULL, y, p, l, m), BAD, fwd, "logits");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, NULL, p, l, m), BAD, fwd, "labels");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, NULL, l, m), BAD, fwd, "probs");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, NULL, m), BAD, fwd, "loss");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, l, NULL), BAD, fwd, "mean_loss");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, yw, p, l, m), SHAPE, fwd, "labels");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, zlike, p, l, m), SHAPE, fwd, "labels");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, zw, l, m), SHAPE, fwd, "probs");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, yw, m), SHAPE, fwd, "loss");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, l, sw), SHAPE, fwd, "mean_loss");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, z, l, m), BAD, fwd, "probs");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, y, m), BAD, fwd, "loss");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, foreign, p, l, m), BAD, fwd, "labels");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, foreign, m), BAD, fwd, "loss");
    if (y64) {
        EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y64, p, l, m), BAD, fwd, "labels");
        EXPECT_ERROR(clcnn_softmax_cross_entropy_forward(ctx, z, y, p, y64, m), BAD, fwd, "loss");
    }

    EXPECT_STATUS(clcnn_softmax_cross_entropy_backward(NULL, p, y, d), BAD);
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, NULL, y, d), BAD, bwd, "probs");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, NULL, d), BAD, bwd, "labels");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, y, NULL), BAD, bwd, "dlogits");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, yw, d), SHAPE, bwd, "labels");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, y, zw), SHAPE, bwd, "dlogits");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, y, p), BAD, bwd, "dlogits");
    EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, foreign, d), BAD, bwd, "labels");
    if (y64)
        EXPECT_ERROR(clcnn_softmax_cross_entropy_backward(ctx, p, y64, d), BAD, bwd, "labels");

    kit_watch_release(&watch);
    clcnn_context_destroy(other);
}
END_TEST

START_TEST(test_sgd_bad_input)
{
    const clcnn_status BAD = CLCNN_ERROR_INVALID_ARGUMENT, SHAPE = CLCNN_ERROR_SHAPE;
    const char *op = "sgd_update";
    const size_t dims[4] = {3, 3, 2, 4}, wrong_dims[4] = {3, 3, 4, 2};
    clcnn_context *other = NULL;
    TEST_OK(other, clcnn_context_create(NULL, &other));
    clcnn_tensor *p, *g, *v;
    test_watch_inputs(&watch, ctx, CLCNN_FLOAT32, dims, 1, &p, &g, &v, NULL);
    clcnn_tensor *wrong = test_watch_input(&watch, ctx, CLCNN_FLOAT32, wrong_dims, 4);
    clcnn_tensor *foreign = test_watch_input(&watch, other, CLCNN_FLOAT32, dims, 5);
    clcnn_tensor *v64 =
        clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64) ? test_watch_input(&watch, ctx, CLCNN_FLOAT64, dims, 6) : NULL;

    EXPECT_STATUS(clcnn_sgd_update(NULL, p, g, v, 0.1, 0.9, 0.0), BAD);
    EXPECT_ERROR(clcnn_sgd_update(ctx, NULL, g, v, 0.1, 0.9, 0.0), BAD, op, "param");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, NULL, v, 0.1, 0.9, 0.0), BAD, op, "grad");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, NULL, 0.1, 0.9, 0.0), BAD, op, "velocity");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, wrong, v, 0.1, 0.9, 0.0), SHAPE, op, "grad");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, wrong, 0.1, 0.9, 0.0), SHAPE, op, "velocity");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, p, v, 0.1, 0.9, 0.0), BAD, op, "grad");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, p, 0.1, 0.9, 0.0), BAD, op, "velocity");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, g, 0.1, 0.9, 0.0), BAD, op, "velocity");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, foreign, v, 0.1, 0.9, 0.0), BAD, op, "grad");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, foreign, 0.1, 0.9, 0.0), BAD, op, "velocity");
    if (v64)
        EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v64, 0.1, 0.9, 0.0), BAD, op, "velocity");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, NAN, 0.9, 0.0), BAD, op, "lr");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, INFINITY, 0.9, 0.0), BAD, op, "lr");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, -0.1, 0.9, 0.0), BAD, op, "lr");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, 0.1, -0.5, 0.0), BAD, op, "momentum");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, 0.1, 1.5, 0.0), BAD, op, "momentum");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, 0.1, NAN, 0.0), BAD, op, "momentum");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, 0.1, 0.9, -1e-4), BAD, op, "weight_decay");
    EXPECT_ERROR(clcnn_sgd_update(ctx, p, g, v, 0.1, 0.9, NAN), BAD, op, "weight_decay");

    kit_watch_release(&watch);
    clcnn_context_destroy(other);
}
END_TEST

static Suite *train_ops_suite(void)
{
    Suite *suite = suite_create("train_ops");
    struct {
        const char *name;
        const TTest *test;
        int count;
    } loops[] = {
        {"relu", test_relu_matches_reference, KIT_DTYPE_COUNT * TEST_ROWS(relu_cases)},
        {"relu_nan", test_relu_nan_propagates, 2},
        {"softmax_cross_entropy", test_sce_matches_reference, KIT_DTYPE_COUNT * TEST_ROWS(sce_cases)},
        {"softmax_cross_entropy_invalid_labels", test_sce_invalid_labels, 2},
        {"softmax_cross_entropy_one_group_same_bits", test_sce_one_group_same_bits, 2},
        {"sgd_update", test_sgd_matches_reference, KIT_DTYPE_COUNT * TEST_ROWS(sgd_cases)},
        {"finite_differences_softmax_cross_entropy", test_sce_gradient_finite_differences,
         TEST_ROWS(sce_gradient_cases)},
        {"finite_differences_relu", test_relu_gradient_finite_differences, 1},
        {"bad_input_relu", test_relu_bad_input, 1},
        {"bad_input_softmax_cross_entropy", test_sce_bad_input, 1},
        {"bad_input_sgd_update", test_sgd_bad_input, 1},
    };
    for (size_t k = 0; k < sizeof loops / sizeof loops[0]; k++)
        test_add_loop(suite, loops[k].name, loops[k].test, loops[k].count);
    return suite;
}

int main(void)
{
    return test_main(&ctx, train_ops_suite);
}
