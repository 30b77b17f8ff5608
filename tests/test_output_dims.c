/* clcnn_conv_output_dims and clcnn_pool_output_dims against the ops: the
 * dims they give are the ones the op accepts for its output, and on bad
 * arguments they fail with the op's status and the op's message (with
 * their own name in place of the op's), writing no dims. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

static clcnn_context *ctx;

static clcnn_tensor *new_tensor(const size_t dims[4])
{
    clcnn_tensor *t = NULL;
    TEST_OK(ctx, clcnn_tensor_create(ctx, CLCNN_FLOAT32, dims, &t));
    return t;
}

/* The last error with its op's name ("conv_forward_ex: ...") cut off. */
static void message_after_op(char *out, size_t capacity)
{
    const char *m = clcnn_context_last_error(ctx);
    const char *colon = strchr(m, ':');
    snprintf(out, capacity, "%s", colon ? colon : m);
}

typedef struct conv_case {
    size_t a[4], w[4];
    clcnn_conv_params p;
} conv_case;

static const conv_case conv_cases[] = {
    {{2, 7, 9, 3}, {3, 3, 3, 4}, {1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {{1, 10, 11, 4}, {3, 2, 2, 6}, {2, 3, 0, 1, 2, 0, 2, 1, 2}},
    {{3, 5, 5, 4}, {5, 5, 4, 2}, {1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {{1, 8, 8, 6}, {3, 3, 1, 6}, {2, 2, 1, 1, 1, 1, 1, 1, 6}},
    /* Errors: stride 0, pad < 0, dilation 0, groups 0, groups not dividing,
     * channels disagree, window larger than the padded input. */
    {{1, 8, 8, 3}, {3, 3, 3, 4}, {0, 1, 0, 0, 0, 0, 1, 1, 1}},
    {{1, 8, 8, 3}, {3, 3, 3, 4}, {1, 1, 0, -1, 0, 0, 1, 1, 1}},
    {{1, 8, 8, 3}, {3, 3, 3, 4}, {1, 1, 0, 0, 0, 0, 1, 0, 1}},
    {{1, 8, 8, 3}, {3, 3, 3, 4}, {1, 1, 0, 0, 0, 0, 1, 1, 0}},
    {{1, 8, 8, 4}, {3, 3, 2, 3}, {1, 1, 0, 0, 0, 0, 1, 1, 2}},
    {{1, 8, 8, 3}, {3, 3, 2, 4}, {1, 1, 0, 0, 0, 0, 1, 1, 1}},
    {{1, 4, 8, 3}, {3, 3, 3, 4}, {1, 1, 0, 0, 0, 0, 2, 1, 1}},
};

START_TEST(conv_like_the_op)
{
    const conv_case *k = &conv_cases[_i];
    size_t z[4] = {7, 7, 7, 7};
    clcnn_status got = clcnn_conv_output_dims(ctx, k->a, k->w, &k->p, z);
    char dims_message[512];
    message_after_op(dims_message, sizeof dims_message);
    clcnn_tensor *a = new_tensor(k->a), *w = new_tensor(k->w);
    if (got == CLCNN_OK) {
        /* The op takes z of those dims, and refuses one row more. */
        clcnn_tensor *out = new_tensor(z);
        TEST_OK(ctx, clcnn_conv_forward_ex(ctx, a, w, NULL, &k->p, CLCNN_ACTIVATION_NONE, out));
        clcnn_tensor_destroy(out);
        const size_t more[4] = {z[0], z[1] + 1, z[2], z[3]};
        out = new_tensor(more);
        TEST_STATUS_IS(ctx, clcnn_conv_forward_ex(ctx, a, w, NULL, &k->p, CLCNN_ACTIVATION_NONE, out),
                       CLCNN_ERROR_SHAPE);
        clcnn_tensor_destroy(out);
        TEST_OK(ctx, clcnn_context_finish(ctx));
    } else {
        ck_assert_msg(z[0] == 7 && z[1] == 7 && z[2] == 7 && z[3] == 7, "z_dims written on failure");
        ck_assert_msg(strncmp(clcnn_context_last_error(ctx), "conv_output_dims:", 17) == 0, "message %s",
                      clcnn_context_last_error(ctx));
        const size_t any[4] = {1, 1, 1, 1};
        clcnn_tensor *out = new_tensor(any);
        TEST_STATUS_IS(ctx, clcnn_conv_forward_ex(ctx, a, w, NULL, &k->p, CLCNN_ACTIVATION_NONE, out), got);
        char op_message[512];
        message_after_op(op_message, sizeof op_message);
        ck_assert_msg(strcmp(op_message, dims_message) == 0, "conv_output_dims said\n  %s\nconv_forward_ex said\n  %s",
                      dims_message, op_message);
        clcnn_tensor_destroy(out);
    }
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(w);
}
END_TEST

typedef struct pool_case {
    size_t a[4];
    clcnn_pool_params p;
} pool_case;

static const pool_case pool_cases[] = {
    {{2, 8, 8, 3}, {2, 2, 2, 2, 0, 0, 0, 0, 1}},
    {{1, 7, 9, 2}, {3, 2, 2, 1, 1, 1, 0, 1, 0}},
    {{1, 5, 6, 4}, {5, 6, 1, 1, 0, 0, 0, 0, 1}},
    /* Errors: window 0, stride 0, pad as large as the window,
     * count_include_pad 2, window larger than the padded input. */
    {{1, 8, 8, 3}, {0, 2, 2, 2, 0, 0, 0, 0, 1}},
    {{1, 8, 8, 3}, {2, 2, 2, 0, 0, 0, 0, 0, 1}},
    {{1, 8, 8, 3}, {2, 2, 2, 2, 2, 0, 0, 0, 1}},
    {{1, 8, 8, 3}, {2, 2, 2, 2, 0, 0, 0, 0, 2}},
    {{1, 3, 8, 3}, {5, 2, 1, 1, 0, 1, 0, 0, 1}},
};

START_TEST(pool_like_the_op)
{
    const pool_case *k = &pool_cases[_i];
    size_t out_dims[4] = {7, 7, 7, 7};
    clcnn_status got = clcnn_pool_output_dims(ctx, k->a, &k->p, out_dims);
    char dims_message[512];
    message_after_op(dims_message, sizeof dims_message);
    clcnn_tensor *a = new_tensor(k->a);
    if (got == CLCNN_OK) {
        clcnn_tensor *out = new_tensor(out_dims);
        TEST_OK(ctx, clcnn_pool_forward_ex(ctx, a, &k->p, CLCNN_POOL_AVERAGE, out));
        clcnn_tensor_destroy(out);
        const size_t more[4] = {out_dims[0], out_dims[1], out_dims[2] + 1, out_dims[3]};
        out = new_tensor(more);
        TEST_STATUS_IS(ctx, clcnn_pool_forward_ex(ctx, a, &k->p, CLCNN_POOL_MAX, out), CLCNN_ERROR_SHAPE);
        clcnn_tensor_destroy(out);
        TEST_OK(ctx, clcnn_context_finish(ctx));
    } else {
        ck_assert_msg(out_dims[0] == 7 && out_dims[1] == 7 && out_dims[2] == 7 && out_dims[3] == 7,
                      "a_dims written on failure");
        const size_t any[4] = {1, 1, 1, 1};
        clcnn_tensor *out = new_tensor(any);
        TEST_STATUS_IS(ctx, clcnn_pool_forward_ex(ctx, a, &k->p, CLCNN_POOL_MAX, out), got);
        char op_message[512];
        message_after_op(op_message, sizeof op_message);
        ck_assert_msg(strcmp(op_message, dims_message) == 0, "pool_output_dims said\n  %s\npool_forward_ex said\n  %s",
                      dims_message, op_message);
        clcnn_tensor_destroy(out);
    }
    clcnn_tensor_destroy(a);
}
END_TEST

/* The walkthrough's ops through the defaults: the API's formulas. */
START_TEST(walkthrough_formulas)
{
    const size_t a[4] = {2, 9, 7, 3}, w[4] = {3, 3, 3, 5};
    size_t z[4];
    const clcnn_conv_params cp = clcnn_conv_params_default(2, 1);
    TEST_OK(ctx, clcnn_conv_output_dims(ctx, a, w, &cp, z));
    ck_assert_uint_eq(z[0], 2);
    ck_assert_uint_eq(z[1], (9 + 2 * 1 - 3) / 2 + 1);
    ck_assert_uint_eq(z[2], (7 + 2 * 1 - 3) / 2 + 1);
    ck_assert_uint_eq(z[3], 5);
    const clcnn_pool_params pp = clcnn_pool_params_default(3, 2);
    TEST_OK(ctx, clcnn_pool_output_dims(ctx, a, &pp, z));
    ck_assert_uint_eq(z[1], (9 - 3) / 2 + 1);
    ck_assert_uint_eq(z[2], (7 - 3) / 2 + 1);
    ck_assert_uint_eq(z[3], 3);
}
END_TEST

/* What only these functions take: dims arrays and their output. */
START_TEST(argument_errors)
{
    const size_t a[4] = {1, 8, 8, 3}, w[4] = {3, 3, 3, 4}, zero[4] = {1, 0, 8, 3};
    const clcnn_conv_params cp = clcnn_conv_params_default(1, 0);
    const clcnn_pool_params pp = clcnn_pool_params_default(2, 2);
    size_t out[4];
    TEST_FAILS_WITH(ctx, clcnn_conv_output_dims(ctx, NULL, w, &cp, out), CLCNN_ERROR_INVALID_ARGUMENT,
                    "conv_output_dims: a_prev_dims is NULL");
    TEST_FAILS_WITH(ctx, clcnn_conv_output_dims(ctx, a, NULL, &cp, out), CLCNN_ERROR_INVALID_ARGUMENT,
                    "conv_output_dims: w_dims is NULL");
    TEST_FAILS_WITH(ctx, clcnn_conv_output_dims(ctx, a, w, &cp, NULL), CLCNN_ERROR_INVALID_ARGUMENT,
                    "conv_output_dims: z_dims is NULL");
    TEST_FAILS_WITH(ctx, clcnn_conv_output_dims(ctx, a, w, NULL, out), CLCNN_ERROR_INVALID_ARGUMENT,
                    "conv_output_dims: params is NULL");
    TEST_FAILS_WITH(ctx, clcnn_conv_output_dims(ctx, zero, w, &cp, out), CLCNN_ERROR_SHAPE,
                    "conv_output_dims: a_prev_dims: dims[1] is 0");
    TEST_FAILS_WITH(ctx, clcnn_pool_output_dims(ctx, NULL, &pp, out), CLCNN_ERROR_INVALID_ARGUMENT,
                    "pool_output_dims: a_prev_dims is NULL");
    TEST_FAILS_WITH(ctx, clcnn_pool_output_dims(ctx, a, &pp, NULL), CLCNN_ERROR_INVALID_ARGUMENT,
                    "pool_output_dims: a_dims is NULL");
    TEST_FAILS_WITH(ctx, clcnn_pool_output_dims(ctx, a, NULL, out), CLCNN_ERROR_INVALID_ARGUMENT,
                    "pool_output_dims: params is NULL");
    TEST_FAILS_WITH(ctx, clcnn_pool_output_dims(ctx, zero, &pp, out), CLCNN_ERROR_SHAPE,
                    "pool_output_dims: a_prev_dims: dims[1] is 0");
    ck_assert_int_eq(clcnn_conv_output_dims(NULL, a, w, &cp, out), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clcnn_pool_output_dims(NULL, a, &pp, out), CLCNN_ERROR_INVALID_ARGUMENT);
}
END_TEST

static Suite *output_dims_suite(void)
{
    Suite *s = suite_create("output_dims");
    TCase *tc = tcase_create("output_dims");
    tcase_add_loop_test(tc, conv_like_the_op, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_loop_test(tc, pool_like_the_op, 0, (int)(sizeof pool_cases / sizeof pool_cases[0]));
    tcase_add_test(tc, walkthrough_formulas);
    tcase_add_test(tc, argument_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_main(&ctx, output_dims_suite);
}
