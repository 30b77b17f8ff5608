/* Device tests of pooling, max and average: clcnn_pool_forward_ex and
 * clcnn_pool_backward_ex over a table of shapes, windows, strides and pads
 * with input patterns (ReLU-like zeros, quantised values and small
 * integers for ties, negative values that padding taken for 0 would beat)
 * in both dtypes against the CPU reference, with bitwise repeatability;
 * the walkthrough's clcnn_pool_forward and clcnn_pool_backward, bitwise
 * equal to the _ex ops with clcnn_pool_params_default; a float64
 * finite-difference check of the device gradients; and bad params,
 * refused with a message naming the field and the numbers, every tensor
 * untouched. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

typedef struct pool_case {
    const char *name;
    size_t m, n_H_prev, n_W_prev, n_C;
    clcnn_pool_params params;
    kit_pattern input;
} pool_case;

/* NaN and infinities put into a case's input (inject_specials). */
typedef enum specials {
    NO_SPECIALS,
    /* Each element NaN with probability 1/8, +inf 1/16, -inf 1/16: windows
     * with NaN at any tap, several NaNs, NaN beside infinities. */
    DENSE_SPECIALS,
    /* NaN 1/64, +inf 1/64, -inf 1/64: large windows with one NaN or none. */
    SPARSE_SPECIALS,
    /* Column w of channel c NaN where bit w % 4 of c % 16 is set: with 1 x 4
     * windows at stride 4, the 16 channels of a group hold NaN at every
     * subset of the taps (first, middle, last, several, all); the rest
     * the case's input with 1/8 +inf and 1/8 -inf. */
    NAN_SUBSETS,
} specials;

/* The walkthrough's hyperparameters (clcnn_pool_params_default): these
 * cases also run clcnn_pool_forward and clcnn_pool_backward. */
#define WALK(f, stride)                                                                                                \
    {                                                                                                                  \
        f, f, stride, stride, 0, 0, 0, 0, 1                                                                            \
    }
/* {f_h, f_w, stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right,
 * count_include_pad} */
#define PARAMS(...)                                                                                                    \
    {                                                                                                                  \
        __VA_ARGS__                                                                                                    \
    }

static const pool_case cases[] = {
    {"f1", 2, 4, 5, 3, WALK(1, 1), KIT_NORMAL},
    {"f1_stride2_uncovered", 1, 5, 6, 7, WALK(1, 2), KIT_NORMAL},
    {"f_is_input_out_1x1", 2, 4, 4, 17, WALK(4, 1), KIT_NORMAL},
    {"f5_h5_w7_out_1x1", 1, 5, 7, 3, WALK(5, 3), KIT_NORMAL},
    {"f3_stride2", 2, 5, 5, 3, WALK(3, 2), KIT_NORMAL},
    {"stride_gt_f", 2, 9, 10, 7, WALK(2, 3), KIT_NORMAL},
    {"overlap_c33", 1, 7, 6, 33, WALK(3, 1), KIT_NORMAL},
    {"c1_2x2", 3, 8, 8, 1, WALK(2, 2), KIT_NORMAL},
    {"relu_ties_overlap", 2, 9, 8, 17, WALK(3, 1), KIT_RELU},
    {"relu_sparse_ties", 2, 8, 8, 7, WALK(2, 2), KIT_RELU_SPARSE},
    {"relu_sparse_ties_overlap", 1, 9, 11, 3, WALK(3, 1), KIT_RELU_SPARSE},
    {"quantized_ties_f3_stride2", 1, 10, 9, 3, WALK(3, 2), KIT_QUANTIZED},
    {"all_zero_overlap", 1, 6, 6, 3, WALK(2, 1), KIT_ZEROS},
    {"big_4x30x30x33_relu", 4, 30, 30, 33, WALK(2, 2), KIT_RELU},
    {"big_2x40x37x64_f3_s2", 2, 40, 37, 64, WALK(3, 2), KIT_NORMAL},
    /* Past POOL_RECOMPUTE_MAX_ELEMENTS, so max backward takes the argmax
     * pass: overlapping stride-1 windows with ties and a channel tail (20 =
     * 16 + an overlapping 16), 63 channels at stride 2, and windows over
     * 16 x 16 (an int argmax, no compiled-in window), also below the limit. */
    {"argmax_relu_f3_s1_c20", 2, 15, 16, 20, WALK(3, 1), KIT_RELU},
    {"argmax_c63_f3_s2", 2, 17, 19, 63, WALK(3, 2), KIT_NORMAL},
    {"argmax_f17_int", 1, 19, 20, 24, WALK(17, 1), KIT_RELU},
    {"f17_int_recompute", 1, 18, 17, 5, WALK(17, 1), KIT_QUANTIZED},

    /* Rectangular windows and strides: overlapping on both axes, on one
     * (the gather), on neither (the blocks), windows of one row or column,
     * and a window too large to be compiled in. */
    {"rect_2x3_s1x2", 3, 9, 11, 3, PARAMS(2, 3, 1, 2, 0, 0, 0, 0, 1), KIT_NORMAL},
    {"rect_3x2_s2x1_ties", 1, 8, 7, 17, PARAMS(3, 2, 2, 1, 0, 0, 0, 0, 1), KIT_INTEGERS},
    {"rect_3x2_overlap_h_only", 2, 9, 10, 3, PARAMS(3, 2, 1, 2, 0, 0, 0, 0, 1), KIT_QUANTIZED},
    {"rect_blocks_2x3_s3x4", 2, 10, 13, 17, PARAMS(2, 3, 3, 4, 0, 0, 0, 0, 1), KIT_INTEGERS},
    {"rect_1x3", 2, 5, 9, 64, PARAMS(1, 3, 1, 1, 0, 0, 0, 0, 1), KIT_RELU},
    {"rect_3x1_s2x3_c63", 1, 9, 9, 63, PARAMS(3, 1, 2, 3, 0, 0, 0, 0, 1), KIT_NORMAL},
    {"rect_7x2_s5x1", 1, 15, 6, 17, PARAMS(7, 2, 5, 1, 0, 0, 0, 0, 1), KIT_NORMAL},
    /* Padding on one side at a time, then on every side up to the window
     * less one, with both divisors of an average. KIT_NORMAL and
     * KIT_INTEGERS put negative values in the corners, which a padding
     * taken for 0 would beat. */
    {"pad_top_f3_s2", 2, 7, 7, 3, PARAMS(3, 3, 2, 2, 1, 0, 0, 0, 1), KIT_NORMAL},
    {"pad_bottom2_excl", 1, 7, 8, 17, PARAMS(3, 3, 1, 1, 0, 2, 0, 0, 0), KIT_INTEGERS},
    {"pad_left2_excl_c64", 3, 6, 7, 64, PARAMS(3, 3, 2, 1, 0, 0, 2, 0, 0), KIT_NORMAL},
    {"pad_right_f2_s1x2", 1, 5, 9, 63, PARAMS(2, 2, 1, 2, 0, 0, 0, 1, 1), KIT_INTEGERS},
    {"pad_f_minus_1_incl", 2, 6, 5, 3, PARAMS(3, 3, 1, 1, 2, 2, 2, 2, 1), KIT_NORMAL},
    {"pad_f_minus_1_excl", 2, 6, 5, 17, PARAMS(3, 3, 1, 1, 2, 2, 2, 2, 0), KIT_INTEGERS},
    {"pad_rect_f_minus_1_c1", 1, 5, 7, 1, PARAMS(4, 2, 2, 1, 3, 3, 1, 1, 0), KIT_INTEGERS},
    {"pad_asym_excl_c64", 3, 8, 9, 64, PARAMS(3, 3, 2, 2, 1, 0, 0, 1, 0), KIT_NORMAL},
    {"pad_asym_incl_c63", 1, 9, 8, 63, PARAMS(3, 4, 2, 3, 2, 1, 3, 0, 1), KIT_INTEGERS},
    /* Padded windows that do not overlap, and strides past the window
     * (pixels no window covers). */
    {"pad_f2_s2_excl", 2, 7, 7, 17, PARAMS(2, 2, 2, 2, 1, 1, 1, 1, 0), KIT_NORMAL},
    {"pad_stride_gt_f", 1, 11, 10, 3, PARAMS(2, 3, 4, 5, 1, 0, 2, 1, 0), KIT_NORMAL},
    /* Windows too large to be compiled in, padded. */
    {"pad_f5_s1_p2_excl", 2, 9, 8, 17, PARAMS(5, 5, 1, 1, 2, 2, 2, 2, 0), KIT_INTEGERS},
    {"pad_f5x3_incl_c64", 1, 7, 10, 64, PARAMS(5, 3, 1, 2, 4, 2, 1, 2, 1), KIT_NORMAL},
    /* The ResNet stem's max pooling (3x3, stride 2, pad 1). */
    {"stem_f3_s2_p1", 2, 16, 16, 64, PARAMS(3, 3, 2, 2, 1, 1, 1, 1, 1), KIT_RELU},
    /* Global pooling: the window is the whole input, the output 1x1. */
    {"global_1x1", 3, 1, 1, 17, PARAMS(1, 1, 1, 1, 0, 0, 0, 0, 1), KIT_NORMAL},
    {"global_7x7", 3, 7, 7, 64, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_NORMAL},
    {"global_7x7_ties_c63", 1, 7, 7, 63, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_INTEGERS},
    /* Global average on CPUs: items of runs of channels read 4 (m 8), 2
     * (m 4) or 3 (c 768: items of 6 vectors) vectors per tap, the most up to
     * pool_channel_block that divide the item's (host/ops/pool_plan.c,
     * CHANNEL_BLOCK). */
    {"global_7x7_m8_c512_blocks_of_4", 8, 7, 7, 512, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_RELU},
    {"global_7x7_m4_c512_blocks_of_2", 4, 7, 7, 512, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_NORMAL},
    {"global_7x7_m8_c768_blocks_of_3", 8, 7, 7, 768, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_RELU},
    {"global_7x7_stride_max", 1, 7, 7, 3, PARAMS(7, 7, INT_MAX, INT_MAX, 0, 0, 0, 0, 1), KIT_RELU},
    {"global_5x9", 2, 5, 9, 1, PARAMS(5, 9, 1, 1, 0, 0, 0, 0, 1), KIT_INTEGERS},
    {"global_17x16_int", 1, 17, 16, 3, PARAMS(17, 16, 1, 1, 0, 0, 0, 0, 1), KIT_INTEGERS},
    /* Global windows over a padded input (the window is the padded input,
     * so every pixel is in it), with both divisors; channel counts that no
     * vector wider than 4 or 8 divides; many images, one image with many
     * channels, and a real network's head with ties. */
    {"global_padded_incl_c20", 2, 5, 6, 20, PARAMS(7, 8, 1, 1, 1, 1, 1, 1, 1), KIT_NORMAL},
    {"global_padded_asym_excl_c24", 3, 6, 4, 24, PARAMS(8, 5, 3, 2, 2, 0, 0, 1, 0), KIT_INTEGERS},
    {"global_m16_c40", 16, 3, 3, 40, PARAMS(3, 3, 1, 1, 0, 0, 0, 0, 1), KIT_RELU},
    {"global_m1_c2048", 1, 4, 4, 2048, PARAMS(4, 4, 2, 2, 0, 0, 0, 0, 1), KIT_RELU},
    {"big_global_7x7_m3_c1280_ties", 3, 7, 7, 1280, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_INTEGERS},
    /* Windows of more than 256 positions (an int argmax) with padding, and
     * padded windows past POOL_RECOMPUTE_MAX_ELEMENTS (the argmax pass). */
    {"argmax_int_padded", 2, 20, 18, 17, PARAMS(17, 16, 2, 1, 5, 3, 7, 2, 0), KIT_INTEGERS},
    {"argmax_padded_c17", 3, 20, 20, 17, PARAMS(3, 3, 1, 1, 1, 1, 1, 1, 0), KIT_INTEGERS},
    {"argmax_padded_rect_c64", 3, 20, 21, 64, PARAMS(3, 2, 2, 1, 1, 1, 1, 1, 1), KIT_NORMAL},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Cases with NaN and infinities (inject_specials), after `cases` in the
 * loops: max pooling gives NaN for any NaN in a window, its last one,
 * which also takes the gradient, as PyTorch does; padding beside NaN;
 * ties among the other values. The
 * kernels of every path: the blocks (1 x 4 windows), the rescanning
 * gather and, past pool_recompute_max_elements, the argmax pass with a
 * channel tail, global pooling with an int argmax, one channel. */
static const struct special_case {
    pool_case c;
    specials specials;
} special_cases[] = {
    {{"nan_subsets_1x4_s4", 2, 3, 16, 48, PARAMS(1, 4, 1, 4, 0, 0, 0, 0, 1), KIT_INTEGERS}, NAN_SUBSETS},
    {{"nan_subsets_padded_1x4_s3", 1, 3, 13, 32, PARAMS(1, 4, 1, 3, 0, 0, 2, 1, 0), KIT_NORMAL}, NAN_SUBSETS},
    {{"nan_overlap_f3_s1", 2, 9, 10, 17, WALK(3, 1), KIT_INTEGERS}, DENSE_SPECIALS},
    {{"nan_f2_s2_c1", 3, 8, 9, 1, WALK(2, 2), KIT_QUANTIZED}, DENSE_SPECIALS},
    {{"nan_argmax_f3_s1_c20", 2, 15, 16, 20, WALK(3, 1), KIT_RELU}, DENSE_SPECIALS},
    {{"nan_stem_f3_s2_p1", 2, 10, 9, 24, PARAMS(3, 3, 2, 2, 1, 1, 1, 1, 1), KIT_RELU}, DENSE_SPECIALS},
    {{"nan_padded_rect_excl", 2, 7, 8, 17, PARAMS(3, 2, 2, 1, 2, 1, 1, 1, 0), KIT_INTEGERS}, DENSE_SPECIALS},
    {{"nan_global_7x7", 3, 7, 7, 64, PARAMS(7, 7, 1, 1, 0, 0, 0, 0, 1), KIT_NORMAL}, SPARSE_SPECIALS},
    {{"nan_global_17x16_int_c3", 2, 17, 16, 3, PARAMS(17, 16, 1, 1, 0, 0, 0, 0, 1), KIT_INTEGERS}, SPARSE_SPECIALS},
};
#define N_SPECIAL_CASES (sizeof special_cases / sizeof special_cases[0])

/* Small shapes for the finite-difference check; max mode gets distinct
 * input values far apart compared with the step, so no perturbation moves a
 * window's maximum. */
static const pool_case gradient_cases[] = {
    {"gc_f2_stride1", 2, 5, 6, 3, WALK(2, 1), KIT_NORMAL},
    {"gc_f3_stride2", 1, 7, 5, 2, WALK(3, 2), KIT_NORMAL},
    {"gc_stride_gt_f", 1, 7, 7, 2, WALK(2, 3), KIT_NORMAL},
    {"gc_pad_rect_excl", 1, 5, 6, 2, PARAMS(3, 2, 2, 1, 1, 2, 1, 1, 0), KIT_NORMAL},
    {"gc_pad_rect_incl", 2, 6, 5, 3, PARAMS(2, 3, 1, 2, 1, 0, 2, 1, 1), KIT_NORMAL},
};
#define N_GRADIENT_CASES (sizeof gradient_cases / sizeof gradient_cases[0])

static const clcnn_pool_mode modes[] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};

static const char *mode_name(clcnn_pool_mode mode)
{
    return mode == CLCNN_POOL_MAX ? "max" : "average";
}

typedef struct pool_problem {
    test_case tc; /* name, dtype, seed */
    clcnn_pool_params params;
    int walkthrough; /* params are clcnn_pool_params_default(f, stride) */
    size_t a_dims[4], out_dims[4];
    size_t n_a, n_out;
    double *a_prev, *da;
} pool_problem;

static int is_walkthrough(const clcnn_pool_params *q)
{
    const clcnn_pool_params d = clcnn_pool_params_default(q->f_h, q->stride_h);
    return memcmp(q, &d, sizeof d) == 0;
}

/* A quiet NaN whose payload (1 to 63) sits in the top bits of the
 * significand, below the quiet bit, so that it survives the conversion to
 * every dtype (float32 keeps the top 23 bits): the NaN that max pooling
 * copies out of a window names its tap. */
static double tagged_nan(unsigned payload, int negative)
{
    const uint64_t bits =
        (negative ? (uint64_t)1 << 63 : 0) | UINT64_C(0x7ff8000000000000) | (uint64_t)(1 + payload % 63) << 45;
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Puts NaN and infinities into case c's input a. */
static void inject_specials(const pool_case *c, specials specials, kit_rng *rng, double *a, size_t n)
{
    for (size_t k = 0; k < n && specials != NO_SPECIALS; k++) {
        const unsigned draw = (unsigned)(kit_rng_next(rng) % 64), tag = (unsigned)(k / c->n_C);
        const size_t w = k / c->n_C % c->n_W_prev, ch = k % c->n_C;
        int nan = 0;
        unsigned inf_below = 0; /* +inf under this draw, -inf under twice it */
        if (specials == DENSE_SPECIALS)
            nan = draw < 8, inf_below = 4;
        else if (specials == SPARSE_SPECIALS)
            nan = draw < 1, inf_below = 1;
        else
            nan = (ch % 16 >> w % 4) & 1, inf_below = 8;
        const unsigned rest = (unsigned)(kit_rng_next(rng) % 64);
        if (nan)
            a[k] = tagged_nan(tag, draw & 1);
        else if (rest < inf_below)
            a[k] = INFINITY;
        else if (rest < 2 * inf_below)
            a[k] = -INFINITY;
    }
}

/* 0, with nothing to free, when the case is skipped here (test_case_begin). */
static int problem_init(pool_problem *p, const pool_case *c, specials specials, clcnn_dtype dtype, unsigned seed_index)
{
    memset(p, 0, sizeof *p);
    if (!test_case_begin(&p->tc, ctx, c->name, dtype, seed_index))
        return 0;
    p->params = c->params;
    p->walkthrough = is_walkthrough(&c->params);
    size_t a_dims[4] = {c->m, c->n_H_prev, c->n_W_prev, c->n_C};
    memcpy(p->a_dims, a_dims, sizeof a_dims);
    ck_assert_msg(clcnn_ref_pool_output_dims_ex(p->a_dims, &c->params, p->out_dims) == 0,
                  "%s: the case table holds an invalid shape", p->tc.name);
    p->n_a = kit_elements(p->a_dims);
    p->n_out = kit_elements(p->out_dims);
    p->a_prev = test_random_doubles(&p->tc.rng, dtype, c->input, p->n_a);
    inject_specials(c, specials, &p->tc.rng, p->a_prev, p->n_a);
    p->da = test_random_doubles(&p->tc.rng, dtype, KIT_NORMAL, p->n_out);
    return 1;
}

static void problem_free(pool_problem *p)
{
    free(p->a_prev);
    free(p->da);
}

/* Runs one op (forward or backward, the _ex op) in one mode into t_out. */
static void run_ex(const pool_problem *p, clcnn_pool_mode mode, int backward, clcnn_tensor *t_in, clcnn_tensor *t_da,
                   clcnn_tensor *t_out)
{
    if (backward)
        TEST_OK(ctx, clcnn_pool_backward_ex(ctx, t_da, t_in, &p->params, mode, t_out));
    else
        TEST_OK(ctx, clcnn_pool_forward_ex(ctx, t_in, &p->params, mode, t_out));
}

/* Where ref is NaN, got must be NaN, with ref's bits where `same_bits`
 * (max pooling copies a window's NaN; a sum's NaN has no set bits); both
 * are then made 0, for check_close to compare the rest (which counts a NaN
 * in got alone). The mismatches. */
static size_t check_nans(const char *case_name, const char *what, int same_bits, double *got, double *ref, size_t n)
{
    size_t mismatches = 0;
    for (size_t k = 0; k < n; k++) {
        if (!isnan(ref[k]))
            continue;
        if (!isnan(got[k]) || (same_bits && memcmp(&got[k], &ref[k], sizeof got[k]) != 0)) {
            if (mismatches++ < 10) {
                uint64_t got_bits, ref_bits;
                memcpy(&got_bits, &got[k], sizeof got_bits);
                memcpy(&ref_bits, &ref[k], sizeof ref_bits);
                fprintf(stderr, "case %s, %s: element %zu is %g (bits %016llx as a double), want NaN (bits %016llx)\n",
                        case_name, what, k, got[k], (unsigned long long)got_bits, (unsigned long long)ref_bits);
            }
        }
        got[k] = ref[k] = 0.0;
    }
    return mismatches;
}

/* Runs one op (forward or backward) in one mode, compares it with ref
 * within bound (NULL: exactly) and check_nans, and checks that a second run over the same
 * output is bitwise equal (*repeatable) and, for the walkthrough's
 * params, that the walkthrough's op gives the same bits (*same_as_ex). */
static size_t run_pool_op(const pool_problem *p, clcnn_pool_mode mode, int backward, clcnn_tensor *t_in,
                          clcnn_tensor *t_da, double *ref, const double *bound, int *repeatable, int *same_as_ex)
{
    const size_t *out_dims = backward ? p->a_dims : p->out_dims;
    size_t n = backward ? p->n_a : p->n_out;
    clcnn_tensor *t_out = test_tensor_out(ctx, p->tc.dtype, out_dims);
    run_ex(p, mode, backward, t_in, t_da, t_out);
    double *got = test_alloc_doubles(n);
    test_tensor_get(ctx, t_out, got);
    char what[64];
    snprintf(what, sizeof what, "pool_%s_ex %s", backward ? "backward" : "forward", mode_name(mode));
    size_t mismatches = check_nans(p->tc.name, what, mode == CLCNN_POOL_MAX, got, ref, n);
    mismatches += check_close(p->tc.name, what, got, ref, bound, n, p->tc.seed);

    size_t bytes;
    void *first = test_tensor_get_raw(ctx, t_out, &bytes);
    run_ex(p, mode, backward, t_in, t_da, t_out);
    *repeatable = test_raw_equal(ctx, t_out, first, bytes);
    if (!*repeatable)
        fprintf(stderr, "case %s: %s: second run differs bitwise\n", p->tc.name, what);
    *same_as_ex = 1;
    if (p->walkthrough) {
        const int f = p->params.f_h, stride = p->params.stride_h;
        clcnn_tensor *t_walk = test_tensor_out(ctx, p->tc.dtype, out_dims);
        if (backward)
            TEST_OK(ctx, clcnn_pool_backward(ctx, t_da, t_in, f, stride, mode, t_walk));
        else
            TEST_OK(ctx, clcnn_pool_forward(ctx, t_in, f, stride, mode, t_walk));
        *same_as_ex = test_raw_equal(ctx, t_walk, first, bytes);
        if (!*same_as_ex)
            fprintf(stderr, "case %s: %s: the walkthrough's op differs bitwise\n", p->tc.name, what);
        clcnn_tensor_destroy(t_walk);
    }
    free(first);
    free(got);
    clcnn_tensor_destroy(t_out);
    return mismatches;
}

/* Case loop_index of cases, then of special_cases (dtypes alternating),
 * forward or backward, in every mode. */
static void check_pool_matches_reference(int loop_index, int backward)
{
    const clcnn_dtype dtype = kit_case_dtype(loop_index);
    const size_t row = (size_t)loop_index / KIT_DTYPE_COUNT;
    const struct special_case *special = row < N_CASES ? NULL : &special_cases[row - N_CASES];
    pool_problem p;
    if (!problem_init(&p, special ? &special->c : &cases[row], special ? special->specials : NO_SPECIALS, dtype,
                      (backward ? 1000u : 0u) + (unsigned)loop_index))
        return;
    const char *op = backward ? "pool_backward_ex" : "pool_forward_ex";
    const size_t n = backward ? p.n_a : p.n_out;
    clcnn_tensor *ta = test_tensor_from(ctx, dtype, p.a_dims, p.a_prev);
    clcnn_tensor *tda = backward ? test_tensor_from(ctx, dtype, p.out_dims, p.da) : NULL;
    double *ref = test_alloc_doubles(n), *bound = test_alloc_doubles(n);
    size_t mismatches = 0;
    int all_repeatable = 1, all_same = 1;
    for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++) {
        if (backward) {
            clcnn_ref_pool_backward_ex(p.da, p.a_prev, p.a_dims, &p.params, modes[k], ref);
            ck_assert_int_eq(kit_pool_backward_terms(p.da, p.a_prev, p.a_dims, &p.params, modes[k], bound), 0);
        } else {
            clcnn_ref_pool_forward_ex(p.a_prev, p.a_dims, &p.params, modes[k], ref);
            ck_assert_int_eq(kit_pool_forward_terms(p.a_prev, p.a_dims, &p.params, modes[k], bound), 0);
        }
        kit_tolerance_bounds(dtype, bound, bound, n);
        int repeatable, same;
        mismatches += run_pool_op(&p, modes[k], backward, ta, tda, ref, bound, &repeatable, &same);
        all_repeatable &= repeatable;
        all_same &= same;
    }
    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tda);
    free(ref);
    free(bound);
    problem_free(&p);
    TEST_ASSERT_NO_MISMATCHES(p.tc.name, op, mismatches, p.tc.seed);
    TEST_ASSERT_REPEATABLE(p.tc.name, op, all_repeatable);
    ck_assert_msg(all_same, "%s: %s differs bitwise from %s", p.tc.name, backward ? "pool_backward" : "pool_forward",
                  op);
}

START_TEST(test_pool_forward_matches_reference)
{
    check_pool_matches_reference(_i, 0);
}
END_TEST

START_TEST(test_pool_backward_matches_reference)
{
    check_pool_matches_reference(_i, 1);
}
END_TEST

/* The pooling forward's tensors, for the device's loss. */
typedef struct pool_device {
    const pool_problem *p;
    clcnn_pool_mode mode;
    clcnn_tensor *ta, *tout;
    double *out;
} pool_device;

/* L = sum(pool_forward_ex(a_prev) * g) from the device's forward pass. */
static double device_loss(void *problem)
{
    const pool_device *d = problem;
    test_tensor_set(ctx, d->ta, d->p->a_prev);
    TEST_OK(ctx, clcnn_pool_forward_ex(ctx, d->ta, &d->p->params, d->mode, d->tout));
    test_tensor_get(ctx, d->tout, d->out);
    double loss = 0.0;
    for (size_t i = 0; i < d->p->n_out; i++)
        loss += d->out[i] * d->p->da[i];
    return loss;
}

START_TEST(test_pool_gradient_finite_differences)
{
    clcnn_pool_mode mode = modes[_i % 2];
    pool_problem p;
    if (!problem_init(&p, &gradient_cases[_i / 2], NO_SPECIALS, CLCNN_FLOAT64, 2000u + (unsigned)_i))
        return;
    size_t len = strlen(p.tc.name);
    snprintf(p.tc.name + len, sizeof p.tc.name - len, "/%s", mode_name(mode));
    if (mode == CLCNN_POOL_MAX) {
        /* Distinct values 0.01 apart in a random order. */
        kit_rng rng;
        kit_rng_init(&rng, p.tc.seed ^ 0xabcdefu);
        for (size_t i = 0; i < p.n_a; i++)
            p.a_prev[i] = 0.01 * (double)i - 1.0;
        for (size_t i = p.n_a - 1; i > 0; i--) {
            size_t j = (size_t)(kit_rng_next(&rng) % (i + 1));
            double t = p.a_prev[i];
            p.a_prev[i] = p.a_prev[j];
            p.a_prev[j] = t;
        }
    }
    clcnn_tensor *ta = test_tensor_from(ctx, p.tc.dtype, p.a_dims, p.a_prev);
    clcnn_tensor *tout = test_tensor_out(ctx, p.tc.dtype, p.out_dims);
    clcnn_tensor *tda = test_tensor_from(ctx, p.tc.dtype, p.out_dims, p.da);
    clcnn_tensor *tda_prev = test_tensor_out(ctx, p.tc.dtype, p.a_dims);
    TEST_OK(ctx, clcnn_pool_backward_ex(ctx, tda, ta, &p.params, mode, tda_prev));
    double *grad = test_alloc_doubles(p.n_a), *numeric = test_alloc_doubles(p.n_a);
    double *tolerance = test_alloc_doubles(p.n_a), *out = test_alloc_doubles(p.n_out);
    test_tensor_get(ctx, tda_prev, grad);

    pool_device d = {&p, mode, ta, tout, out};
    kit_central_differences(p.a_prev, p.n_a, 1e-5, device_loss, &d, numeric);
    double scale = 1.0;
    for (size_t i = 0; i < p.n_a; i++)
        scale = fmax(scale, fabs(grad[i]));
    for (size_t i = 0; i < p.n_a; i++)
        tolerance[i] = 1e-6 * scale;
    size_t mismatches =
        check_close(p.tc.name, "pool_backward_ex vs finite differences", grad, numeric, tolerance, p.n_a, p.tc.seed);

    clcnn_tensor_destroy(ta);
    clcnn_tensor_destroy(tout);
    clcnn_tensor_destroy(tda);
    clcnn_tensor_destroy(tda_prev);
    free(grad);
    free(numeric);
    free(tolerance);
    free(out);
    problem_free(&p);
    TEST_ASSERT_GRADIENTS_MATCH(p.tc.name, mismatches, p.tc.seed);
}
END_TEST

/* ---- bad params ---- */

/* One field of clcnn_pool_params set to a value the _ex ops refuse, on the
 * input of test_pool_ex_bad_params, and a part of the message both ops
 * must give (after their name): the field and the numbers. */
typedef struct bad_params_case {
    const char *field;
    size_t offset; /* of the field in clcnn_pool_params */
    int value;
    clcnn_status status;
    const char *message;
} bad_params_case;

#define FIELD(name) #name, offsetof(clcnn_pool_params, name)
#define INVALID CLCNN_ERROR_INVALID_ARGUMENT
static const bad_params_case bad_params_cases[] = {
    {FIELD(f_h), 0, INVALID, "params->f_h is 0; "},
    {FIELD(f_w), -1, INVALID, "params->f_w is -1; "},
    {FIELD(stride_h), 0, INVALID, "params->stride_h is 0; "},
    {FIELD(stride_w), -3, INVALID, "params->stride_w is -3; "},
    {FIELD(pad_top), -1, INVALID, "params->pad_top is -1; "},
    {FIELD(pad_bottom), -2, INVALID, "params->pad_bottom is -2; "},
    {FIELD(pad_left), -1, INVALID, "params->pad_left is -1; "},
    {FIELD(pad_right), INT_MIN, INVALID, "params->pad_right is -2147483648; "},
    {FIELD(pad_top), 3, INVALID, "params->pad_top is 3; each pad must be less than the window on its axis (f_h 3)"},
    {FIELD(pad_bottom), 5, INVALID,
     "params->pad_bottom is 5; each pad must be less than the window on its axis (f_h 3)"},
    {FIELD(pad_left), 2, INVALID, "params->pad_left is 2; each pad must be less than the window on its axis (f_w 2)"},
    {FIELD(pad_right), 2, INVALID, "params->pad_right is 2; each pad must be less than the window on its axis (f_w 2)"},
    {FIELD(count_include_pad), 2, INVALID, "params->count_include_pad is 2; "},
    {FIELD(count_include_pad), -1, INVALID, "params->count_include_pad is -1; "},
    /* Windows larger than the padded input. */
    {FIELD(f_h), 10, CLCNN_ERROR_SHAPE,
     "params->f_h is 10 but the padded input spans 9 (n_H_prev 7 + pad_top 1 + pad_bottom 1)"},
    {FIELD(f_w), 8, CLCNN_ERROR_SHAPE,
     "params->f_w is 8 but the padded input spans 7 (n_W_prev 6 + pad_left 1 + pad_right 0)"},
};
#undef FIELD
#undef INVALID
#define N_BAD_PARAMS_CASES (sizeof bad_params_cases / sizeof bad_params_cases[0])

/* Checks a refused call: its status, a message naming the op, the field
 * and the numbers (`message`, a part of it), every watched tensor
 * untouched. */
static void expect_refused(const kit_watch *watch, int line, const char *call, clcnn_status got, clcnn_status want,
                           const char *op, const char *field, const char *message)
{
    test_expect_error_at(watch, line, call, got, want, ctx, op, (const char *[]){field, NULL});
    const char *msg = clcnn_context_last_error(ctx);
    char op_colon[64];
    snprintf(op_colon, sizeof op_colon, "%s: ", op);
    ck_assert_msg(strncmp(msg, op_colon, strlen(op_colon)) == 0 && strstr(msg, message) != NULL,
                  "line %d: %s: message \"%s\" should start with \"%s\" and hold \"%s\"", line, call, msg, op_colon,
                  message);
}
#define EXPECT_REFUSED(call, want, op, field, message)                                                                 \
    expect_refused(&watch, __LINE__, #call, (call), (want), (op), (field), (message))

/* Both _ex ops refuse every field out of range, a window larger than the
 * padded input, a NULL params, an unknown mode and outputs of the wrong
 * dims before enqueueing anything: every tensor keeps its bytes. */
START_TEST(test_pool_ex_bad_params)
{
    static const char fwd[] = "pool_forward_ex", bwd[] = "pool_backward_ex";
    /* a_prev (2, 7, 6, 3); 3 x 2 windows, strides 2 x 1, pads 1 1 1 0 ->
     * (2, 4, 6, 3) */
    const size_t a_dims[4] = {2, 7, 6, 3}, out_dims[4] = {2, 4, 6, 3};
    const clcnn_pool_params good = {3, 2, 2, 1, 1, 1, 1, 0, 0};
    kit_watch watch = {0};
    clcnn_tensor *a_prev = test_watch_input(&watch, ctx, CLCNN_FLOAT32, a_dims, 1);
    clcnn_tensor *da = test_watch_input(&watch, ctx, CLCNN_FLOAT32, out_dims, 2);
    clcnn_tensor *a = test_watch_output(&watch, ctx, CLCNN_FLOAT32, out_dims);
    clcnn_tensor *da_prev = test_watch_output(&watch, ctx, CLCNN_FLOAT32, a_dims);
    const clcnn_pool_mode avg = CLCNN_POOL_AVERAGE, max = CLCNN_POOL_MAX;

    for (size_t k = 0; k < N_BAD_PARAMS_CASES; k++) {
        const bad_params_case *c = &bad_params_cases[k];
        clcnn_pool_params bad = good;
        memcpy((char *)&bad + c->offset, &c->value, sizeof c->value);
        for (int m = 0; m < 2; m++) {
            EXPECT_REFUSED(clcnn_pool_forward_ex(ctx, a_prev, &bad, modes[m], a), c->status, fwd, c->field, c->message);
            EXPECT_REFUSED(clcnn_pool_backward_ex(ctx, da, a_prev, &bad, modes[m], da_prev), c->status, bwd, c->field,
                           c->message);
        }
    }
    EXPECT_REFUSED(clcnn_pool_forward_ex(ctx, a_prev, NULL, max, a), CLCNN_ERROR_INVALID_ARGUMENT, fwd, "params",
                   "params is NULL");
    EXPECT_REFUSED(clcnn_pool_backward_ex(ctx, da, a_prev, NULL, avg, da_prev), CLCNN_ERROR_INVALID_ARGUMENT, bwd,
                   "params", "params is NULL");
    EXPECT_REFUSED(clcnn_pool_forward_ex(ctx, a_prev, &good, (clcnn_pool_mode)7, a), CLCNN_ERROR_INVALID_ARGUMENT, fwd,
                   "mode", "mode is 7");
    EXPECT_REFUSED(clcnn_pool_backward_ex(ctx, da, a_prev, &good, (clcnn_pool_mode)-1, da_prev),
                   CLCNN_ERROR_INVALID_ARGUMENT, bwd, "mode", "mode is -1");

    /* Windows whose positions (more than INT_MAX) or padded extent (more
     * than INT_MAX) the kernels cannot index with 32 bits; every field is
     * in range, so only the shape refuses them. */
    const size_t one[4] = {1, 1, 1, 1};
    clcnn_tensor *pixel = test_watch_input(&watch, ctx, CLCNN_FLOAT32, one, 3);
    clcnn_tensor *pixel_out = test_watch_output(&watch, ctx, CLCNN_FLOAT32, one);
    const clcnn_pool_params many_taps = {50000, 50000, 50000, 50000, 49999, 49999, 49999, 49999, 1};
    EXPECT_REFUSED(clcnn_pool_forward_ex(ctx, pixel, &many_taps, avg, pixel_out), CLCNN_ERROR_SHAPE, fwd, "f_h",
                   "(50000 x 50000) has 2500000000 positions");
    const clcnn_pool_params wide = {1, 1073741825, 1, 1, 0, 0, 1073741824, 1073741824, 1};
    EXPECT_REFUSED(clcnn_pool_forward_ex(ctx, pixel, &wide, max, pixel_out), CLCNN_ERROR_SHAPE, fwd, "pad_left",
                   "spans 2147483649 (n_W_prev 1 + pad_left 1073741824 + pad_right 1073741824)");

    /* Tensors that disagree with the params. */
    const size_t wrong_dims[][4] = {{2, 3, 6, 3}, {2, 4, 5, 3}, {2, 4, 6, 4}, {1, 4, 6, 3}};
    for (size_t k = 0; k < sizeof wrong_dims / sizeof wrong_dims[0]; k++) {
        clcnn_tensor *t = test_watch_output(&watch, ctx, CLCNN_FLOAT32, wrong_dims[k]);
        EXPECT_REFUSED(clcnn_pool_forward_ex(ctx, a_prev, &good, max, t), CLCNN_ERROR_SHAPE, fwd, "a", "a is ");
        EXPECT_REFUSED(clcnn_pool_backward_ex(ctx, t, a_prev, &good, max, da_prev), CLCNN_ERROR_SHAPE, bwd, "da",
                       "da is ");
    }
    EXPECT_REFUSED(clcnn_pool_backward_ex(ctx, da, a_prev, &good, avg, a), CLCNN_ERROR_SHAPE, bwd, "da_prev",
                   "da_prev is ");

    /* The same tensors still work with good params. */
    TEST_OK(ctx, clcnn_pool_forward_ex(ctx, a_prev, &good, max, a));
    TEST_OK(ctx, clcnn_pool_backward_ex(ctx, da, a_prev, &good, avg, da_prev));
    TEST_OK(ctx, clcnn_context_finish(ctx));
    kit_watch_release(&watch);
}
END_TEST

/* All of pool_backward.cl's backward kernels from one program: max and
 * average backward with overlapping windows (pool_argmax,
 * pool_backward_max, pool_backward_average) and global pooling's
 * (pool_backward_global_max, _average), whose options the CPU column makes
 * the same (no window compiled in, no padding, 16-wide vectors of 32
 * channels, one vector per tap). A program once handed out 4 kernels, and
 * the fifth request failed. */
START_TEST(test_pool_backward_kernels_of_one_program)
{
    const size_t dims[2][4] = {{1, 24, 24, 32}, {1, 11, 14, 32}}, out_dims[2][4] = {{1, 20, 20, 32}, {1, 1, 1, 32}};
    const clcnn_pool_params params[2] = {{5, 5, 1, 1, 0, 0, 0, 0, 0}, {11, 14, 1, 1, 0, 0, 0, 0, 0}};
    const clcnn_pool_mode modes[2] = {CLCNN_POOL_MAX, CLCNN_POOL_AVERAGE};
    kit_watch watch = {0};
    for (int k = 0; k < 2; k++) {
        clcnn_tensor *a_prev = test_watch_input(&watch, ctx, CLCNN_FLOAT32, dims[k], 1);
        clcnn_tensor *da = test_watch_input(&watch, ctx, CLCNN_FLOAT32, out_dims[k], 2);
        clcnn_tensor *da_prev = test_watch_output(&watch, ctx, CLCNN_FLOAT32, dims[k]);
        for (int mode = 0; mode < 2; mode++)
            TEST_OK(ctx, clcnn_pool_backward_ex(ctx, da, a_prev, &params[k], modes[mode], da_prev));
    }
    TEST_OK(ctx, clcnn_context_finish(ctx));
    kit_watch_release(&watch);
}
END_TEST

/* Oclgrind's uninitialised-value plugin keeps the shadow of a released
 * buffer, keyed by the buffer's index, and a later buffer that gets the
 * same index inherits it: past the old size its stores are dropped and its
 * loads read as uninitialised (src/plugins/Uninitialized.cpp, ShadowMemory).
 * The argmax workspace grows by allocating a new buffer and releasing the
 * old one, so a case whose argmax outgrows an earlier case's would be
 * reported falsely (a run that fills the workspace first passes exactly).
 * Sizing the workspace for the whole table before anything is released
 * keeps one buffer, with a shadow of its own, for the run: one max
 * backward on the argmax path whose 2 x 2 windows (a byte each) number at
 * least 4 bytes (an int) for each window of any case. */
static int size_argmax_workspace(void)
{
    /* Forced to rescan the windows (pool_backward=4, recompute, in
     * CLCNN_TUNE), max backward takes no argmax pass and has no workspace.
     * The config string gives the value as a number or as its name. */
    static const char *const forced[] = {",pool_backward=4", ",pool_backward=recompute"};
    for (int k = 0; k < 2; k++) {
        const char *at = strstr(clcnn_context_config(ctx), forced[k]);
        const char after = at ? at[strlen(forced[k])] : 'x';
        if (after == ',' || after == '\0')
            return 0;
    }
    const pool_case *tables[] = {cases, gradient_cases};
    const size_t counts[] = {N_CASES, N_GRADIENT_CASES};
    /* At least this many, so that the inputs (2 x (windows + 1)) are too
     * many for max backward to rescan windows instead of taking the
     * argmax pass (host/ops/pool_plan.c); the check of the workspace's size below
     * would tell if that changed. */
    size_t positions = 8192;
    for (int t = 0; t < 3; t++)
        for (size_t k = 0; k < (t < 2 ? counts[t] : N_SPECIAL_CASES); k++) {
            const pool_case *c = t < 2 ? &tables[t][k] : &special_cases[k].c;
            const size_t a_dims[4] = {c->m, c->n_H_prev, c->n_W_prev, c->n_C};
            size_t out_dims[4];
            if (clcnn_ref_pool_output_dims_ex(a_dims, &c->params, out_dims) == 0 &&
                kit_elements(out_dims) * 4 > positions)
                positions = kit_elements(out_dims) * 4;
        }
    const size_t a_dims[4] = {1, 2, positions + 1, 1}, da_dims[4] = {1, 1, positions, 1};
    const clcnn_pool_params params = {2, 2, 1, 1, 0, 0, 0, 0, 1};
    clcnn_tensor *a_prev = NULL, *da = NULL, *da_prev = NULL;
    clcnn_status st = kit_tensor_new(ctx, CLCNN_FLOAT32, a_dims, NULL, &a_prev);
    if (st == CLCNN_OK)
        st = kit_tensor_new(ctx, CLCNN_FLOAT32, da_dims, NULL, &da);
    if (st == CLCNN_OK)
        st = kit_tensor_new(ctx, CLCNN_FLOAT32, a_dims, NULL, &da_prev);
    if (st == CLCNN_OK)
        st = clcnn_pool_backward_ex(ctx, da, a_prev, &params, CLCNN_POOL_MAX, da_prev);
    if (st == CLCNN_OK)
        st = clcnn_context_finish(ctx);
    clcnn_tensor_destroy(a_prev);
    clcnn_tensor_destroy(da);
    clcnn_tensor_destroy(da_prev);
    if (st != CLCNN_OK || clcnn_context_workspace_bytes(ctx) < positions) {
        fprintf(stderr, "sizing the argmax workspace to %zu bytes: %s (%s); workspace %zu bytes\n", positions,
                clcnn_status_string(st), clcnn_context_last_error(ctx), clcnn_context_workspace_bytes(ctx));
        return 1;
    }
    return 0;
}

static Suite *pool_suite(void)
{
    if (size_argmax_workspace() != 0)
        return NULL;
    Suite *suite = suite_create("pool");
    test_add_loop(suite, "forward", test_pool_forward_matches_reference,
                  (int)(KIT_DTYPE_COUNT * (N_CASES + N_SPECIAL_CASES)));
    test_add_loop(suite, "backward", test_pool_backward_matches_reference,
                  (int)(KIT_DTYPE_COUNT * (N_CASES + N_SPECIAL_CASES)));
    test_add_loop(suite, "finite_differences", test_pool_gradient_finite_differences, (int)(2 * N_GRADIENT_CASES));
    test_add_loop(suite, "ex_bad_params", test_pool_ex_bad_params, 1);
    test_add_loop(suite, "kernels_of_one_program", test_pool_backward_kernels_of_one_program, 1);
    return suite;
}

int main(void)
{
    return test_main(&ctx, pool_suite);
}
