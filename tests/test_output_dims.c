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

/* After a refusal by an output_dims function (status `want`, message
 * dims_message, dims left as 7s) and then by its op (status `got`): the
 * same status, and the same message but for the op's name. */
static void same_refusal(const char *name, const size_t dims[4], clcnn_status want, const char *dims_message,
                         clcnn_status got)
{
    ck_assert_msg(dims[0] == 7 && dims[1] == 7 && dims[2] == 7 && dims[3] == 7, "%s wrote dims on failure", name);
    ck_assert_msg(got == want, "%s returned %s, the op %s", name, clcnn_status_string(want), clcnn_status_string(got));
    size_t n = strlen(name);
    ck_assert_msg(strncmp(dims_message, name, n) == 0 && dims_message[n] == ':', "%s said %s", name, dims_message);
    char op_message[512];
    message_after_op(op_message, sizeof op_message);
    ck_assert_msg(strcmp(op_message, dims_message + n) == 0, "%s said\n  %s\nthe op said\n  %s", name, dims_message,
                  op_message);
}

/* Runs an op on case k with an output of out_dims; its status. */
typedef clcnn_status (*run_op)(const void *k, const size_t out_dims[4]);

/* An output_dims function said `got` (and dims, and its last error
 * message); the op must take an output of those dims and refuse one row
 * more, or refuse as it did. */
static void against_op(const char *name, clcnn_status got, const size_t dims[4], run_op run, const void *k)
{
    char dims_message[512];
    snprintf(dims_message, sizeof dims_message, "%s", clcnn_context_last_error(ctx));
    if (got == CLCNN_OK) {
        TEST_OK(ctx, run(k, dims));
        const size_t more[4] = {dims[0], dims[1] + 1, dims[2], dims[3]};
        TEST_STATUS_IS(ctx, run(k, more), CLCNN_ERROR_SHAPE);
        TEST_OK(ctx, clcnn_context_finish(ctx));
    } else {
        const size_t any[4] = {1, 1, 1, 1};
        same_refusal(name, dims, got, dims_message, run(k, any));
    }
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

static clcnn_status run_conv(const void *k_, const size_t out_dims[4])
{
    const conv_case *k = k_;
    clcnn_tensor *a = new_tensor(k->a), *w = new_tensor(k->w), *z = new_tensor(out_dims);
    clcnn_status st = clcnn_conv_forward_ex(ctx, a, w, NULL, &k->p, CLCNN_ACTIVATION_NONE, z);
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(w);
    clcnn_tensor_destroy(z);
    return st;
}

START_TEST(conv_like_the_op)
{
    size_t z[4] = {7, 7, 7, 7};
    clcnn_status got = clcnn_conv_output_dims(ctx, conv_cases[_i].a, conv_cases[_i].w, &conv_cases[_i].p, z);
    against_op("conv_output_dims", got, z, run_conv, &conv_cases[_i]);
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

static clcnn_status run_pool(const void *k_, const size_t out_dims[4])
{
    const pool_case *k = k_;
    clcnn_tensor *a = new_tensor(k->a), *out = new_tensor(out_dims);
    clcnn_status st = clcnn_pool_forward_ex(ctx, a, &k->p, CLCNN_POOL_AVERAGE, out);
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(out);
    return st;
}

START_TEST(pool_like_the_op)
{
    size_t out_dims[4] = {7, 7, 7, 7};
    clcnn_status got = clcnn_pool_output_dims(ctx, pool_cases[_i].a, &pool_cases[_i].p, out_dims);
    against_op("pool_output_dims", got, out_dims, run_pool, &pool_cases[_i]);
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
