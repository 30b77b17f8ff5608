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
    /* rows of whole vectors (copies and zeros as vectors), the training
     * network's one channel (every vector straddles the copied part), and a
     * padded output large enough for streaming stores */
    {"c16_rows_of_vectors", {2, 5, 6, 16}, 1},
    {"c1_fmnist", {3, 28, 28, 1}, 2},
    {"c64_pad3", {2, 9, 7, 64}, 3},
    {"big_stream_4x64x64x128", {4, 64, 64, 128}, 1},
};

START_TEST(test_zero_pad_matches_reference)
{
    TEST_DTYPE_CASE(ctx, zero_pad_case, c, cases, tc, 0);
    const clcnn_dtype dtype = tc.dtype;

    size_t pad = (size_t)c->pad;
    size_t out_dims[4] = {c->dims[0], c->dims[1] + 2 * pad, c->dims[2] + 2 * pad, c->dims[3]};
    size_t n_in = kit_elements(c->dims), n_out = kit_elements(out_dims);
    double *x = test_alloc_doubles(n_in);
    double *ref = test_alloc_doubles(n_out);
    double *got = test_alloc_doubles(n_out);
    kit_rng_fill(&tc.rng, dtype, KIT_NORMAL, x, n_in);
    clcnn_ref_zero_pad(x, c->dims, c->pad, ref);

    clcnn_tensor *tx = test_tensor_from(ctx, dtype, c->dims, x);
    clcnn_tensor *tpad = test_tensor_out(ctx, dtype, out_dims);
    TEST_OK(ctx, clcnn_zero_pad(ctx, tx, c->pad, tpad));
    test_tensor_get(ctx, tpad, got);
    size_t mismatches = check_close(tc.name, "x_pad", got, ref, NULL, n_out, tc.seed);

    /* Determinism: a second run over the first one's output is bitwise equal. */
    size_t bytes;
    void *first = test_tensor_get_raw(ctx, tpad, &bytes);
    TEST_OK(ctx, clcnn_zero_pad(ctx, tx, c->pad, tpad));
    int repeatable = test_raw_equal(ctx, tpad, first, bytes);

    free(first);
    clcnn_tensor_destroy(tx);
    clcnn_tensor_destroy(tpad);
    TEST_FREE(x, ref, got);
    TEST_ASSERT_NO_MISMATCHES(tc.name, "zero_pad", mismatches, tc.seed);
    TEST_ASSERT_REPEATABLE(tc.name, "zero_pad", repeatable);
}
END_TEST

static Suite *zero_pad_suite(void)
{
    Suite *suite = suite_create("zero_pad");
    test_add_dtype_loop(suite, "matches_reference", test_zero_pad_matches_reference, TEST_ROWS(cases));
    return suite;
}

int main(void)
{
    return test_main(&ctx, zero_pad_suite);
}
