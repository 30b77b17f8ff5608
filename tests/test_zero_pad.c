/* Device tests of clcnn_zero_pad: every case of the table, in both dtypes,
 * must match the CPU reference exactly and be bitwise repeatable. */
#include <stdio.h>
#include <stdlib.h>

#include "clcnn_reference.h"
#include "test_util.h"

static clcnn_context *ctx;

typedef struct zero_pad_case {
    const char *name;
    size_t dims[4];
    int pad;
} zero_pad_case;

static const zero_pad_case cases[] = {
    {"single_element_pad0", {1, 1, 1, 1}, 0},
    {"single_element_pad2", {1, 1, 1, 1}, 2},
    {"batch2_h3_w4_c7", {2, 3, 4, 7}, 1},
    {"walkthrough_4x3x3x2", {4, 3, 3, 2}, 2},
    {"pad_larger_than_input", {3, 2, 5, 3}, 4},
    {"c17_pad0_copy", {2, 6, 5, 17}, 0},
    {"c33_h5_w2", {3, 5, 2, 33}, 3},
    {"big_4x30x30x33", {4, 30, 30, 33}, 2},
};
#define N_CASES (sizeof cases / sizeof cases[0])

START_TEST(test_zero_pad_matches_reference)
{
    const zero_pad_case *c = &cases[_i / 2];
    clcnn_dtype dtype = _i % 2 == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
    char name[128];
    snprintf(name, sizeof name, "%s/%s", c->name, kit_dtype_name(dtype));
    if (!test_dtype_usable(ctx, dtype, name) || test_skip_big_case(name))
        return;
    uint64_t seed = test_case_seed((unsigned)_i);
    kit_rng rng;
    kit_rng_init(&rng, seed);

    size_t pad = (size_t)c->pad;
    size_t out_dims[4] = {c->dims[0], c->dims[1] + 2 * pad, c->dims[2] + 2 * pad, c->dims[3]};
    size_t n_in = kit_elements(c->dims), n_out = kit_elements(out_dims);
    double *x = test_alloc_doubles(n_in);
    double *ref = test_alloc_doubles(n_out);
    double *got = test_alloc_doubles(n_out);
    kit_rng_fill(&rng, dtype, KIT_NORMAL, x, n_in);
    clcnn_ref_zero_pad(x, c->dims, c->pad, ref);

    clcnn_tensor *tx = test_tensor_from(ctx, dtype, c->dims, x);
    clcnn_tensor *tpad = test_tensor_out(ctx, dtype, out_dims);
    TEST_OK(ctx, clcnn_zero_pad(ctx, tx, c->pad, tpad));
    test_tensor_get(ctx, tpad, got);
    size_t mismatches = check_close(name, "x_pad", got, ref, NULL, n_out, seed);

    /* Determinism: a second run over the first one's output is bitwise equal. */
    size_t bytes;
    void *first = test_tensor_get_raw(ctx, tpad, &bytes);
    TEST_OK(ctx, clcnn_zero_pad(ctx, tx, c->pad, tpad));
    int repeatable = test_raw_equal(ctx, tpad, first, bytes);

    free(first);
    clcnn_tensor_destroy(tx);
    clcnn_tensor_destroy(tpad);
    free(x);
    free(ref);
    free(got);
    ck_assert_msg(mismatches == 0, "%s: %zu mismatches (seed 0x%llx)", name, mismatches, (unsigned long long)seed);
    ck_assert_msg(repeatable, "%s: second run differs from the first", name);
}
END_TEST

static Suite *zero_pad_suite(void)
{
    Suite *suite = suite_create("zero_pad");
    test_add_loop(suite, "matches_reference", test_zero_pad_matches_reference, (int)(2 * N_CASES));
    return suite;
}

int main(void)
{
    return test_main(&ctx, zero_pad_suite);
}
