/* Helpers shared by the device test suites; see test_util.h. */
#include "test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_DEFAULT_SEED UINT64_C(0x5eed0c1c2024)

/* The suite's context, whose kernel builds test_run_suite checks. */
static const clcnn_context *suite_context;

int test_open_context(clcnn_context **ctx)
{
    const char *require = getenv("CLCNN_REQUIRE_DEVICE");
    *ctx = NULL;
    int device_required = require != NULL && strcmp(require, "1") == 0;
    clcnn_status status = clcnn_context_create(NULL, ctx);
    if (status == CLCNN_OK) {
        printf("device: %s\n", clcnn_context_device_name(*ctx));
        suite_context = *ctx;
        return 0;
    }
    /* A failed create may still hand back a context holding the reason. */
    fprintf(stderr, "clcnn_context_create: %s\n  %s\n", clcnn_status_string(status),
            *ctx != NULL ? clcnn_context_last_error(*ctx) : "(no message)");
    clcnn_context_destroy(*ctx);
    *ctx = NULL;
    if (status == CLCNN_ERROR_NO_DEVICE && !device_required) {
        fprintf(stderr, "no OpenCL device: skipping (set CLCNN_REQUIRE_DEVICE=1 to fail)\n");
        return TEST_SKIP_EXIT_CODE;
    }
    return 1;
}

void test_add_loop(Suite *suite, const char *name, const TTest *test, int count)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test, 0, count);
    suite_add_tcase(suite, tc);
}

void test_add_dtype_loop(Suite *suite, const char *name, const TTest *test, int rows)
{
    test_add_loop(suite, name, test, KIT_DTYPE_COUNT * rows);
}

int test_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    /* A kernel that builds with warnings may take a slower path than its
     * author meant (an unroll that did not happen): every build the suite
     * caused must be silent. */
    const char *warnings = suite_context ? clcnn_context_build_warnings(suite_context) : "";
    if (*warnings) {
        fprintf(stderr, "kernel builds with warnings (clcnn_context_build_warnings):\n%s", warnings);
        failed++;
    }
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int test_main(clcnn_context **ctx, Suite *(*build_suite)(void))
{
    int rc = test_open_context(ctx);
    if (rc != 0)
        return rc;
    Suite *suite = build_suite();
    rc = suite ? test_run_suite(suite) : 1;
    clcnn_context_destroy(*ctx);
    return rc;
}

uint64_t test_case_seed(unsigned case_index)
{
    uint64_t base = TEST_DEFAULT_SEED;
    const char *env = getenv("CLCNN_TEST_SEED");
    if (env != NULL && *env != '\0')
        base = strtoull(env, NULL, 0);
    return kit_seed_stream(base, case_index);
}

int test_dtype_usable(const clcnn_context *ctx, clcnn_dtype dtype, const char *case_name)
{
    /* CLCNN_TEST_DTYPE=float32|float64 runs one dtype only: the Oclgrind
     * runs use one process per dtype, as its uninitialised-value checker
     * confuses same-named kernels of two programs in one process. */
    const char *only = getenv("CLCNN_TEST_DTYPE");
    if (only != NULL && *only != '\0' && strcmp(only, kit_dtype_name(dtype)) != 0)
        return 0;
    if (clcnn_context_supports_dtype(ctx, dtype))
        return 1;
    printf("case %s: device has no %s, skipped\n", case_name, kit_dtype_name(dtype));
    return 0;
}

int test_skip_big_case(const char *case_name)
{
    const char *small = getenv("CLCNN_TEST_SMALL");
    if (small == NULL || strcmp(small, "1") != 0 || strncmp(case_name, "big_", 4) != 0)
        return 0;
    printf("case %s: skipped (CLCNN_TEST_SMALL=1)\n", case_name);
    return 1;
}

int test_case_begin(test_case *tc, const clcnn_context *ctx, const char *case_name, clcnn_dtype dtype,
                    unsigned seed_index)
{
    kit_case_name(tc->name, sizeof tc->name, case_name, dtype);
    tc->dtype = dtype;
    tc->seed = test_case_seed(seed_index);
    kit_rng_init(&tc->rng, tc->seed);
    return test_dtype_usable(ctx, dtype, tc->name) && !test_skip_big_case(tc->name);
}

void *test_alloc(size_t bytes)
{
    void *p = malloc(bytes > 0 ? bytes : 1);
    ck_assert_msg(p != NULL, "out of host memory (%zu bytes)", bytes);
    return p;
}

double *test_alloc_doubles(size_t n)
{
    return test_alloc(n * sizeof(double));
}

void test_free_n(void *const *pointers, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(pointers[i]);
}

void test_destroy_n(clcnn_tensor *const *tensors, size_t n)
{
    for (size_t i = 0; i < n; i++)
        clcnn_tensor_destroy(tensors[i]);
}

double *test_random_doubles(kit_rng *rng, clcnn_dtype dtype, kit_pattern pattern, size_t n)
{
    double *values = test_alloc_doubles(n);
    kit_rng_fill(rng, dtype, pattern, values, n);
    return values;
}

clcnn_tensor *test_tensor_from(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], const double *values)
{
    clcnn_tensor *tensor = NULL;
    TEST_OK(ctx, kit_tensor_new(ctx, dtype, dims, values, &tensor));
    return tensor;
}

clcnn_tensor *test_tensor_out(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4])
{
    return test_tensor_from(ctx, dtype, dims, NULL);
}

void test_tensor_set(clcnn_context *ctx, clcnn_tensor *tensor, const double *values)
{
    TEST_OK(ctx, kit_tensor_write(tensor, values));
}

void test_tensor_get(clcnn_context *ctx, const clcnn_tensor *tensor, double *out)
{
    TEST_OK(ctx, kit_tensor_read(tensor, out));
}

void *test_tensor_get_raw(clcnn_context *ctx, const clcnn_tensor *tensor, size_t *bytes)
{
    void *raw = NULL;
    TEST_OK(ctx, kit_tensor_read_raw(tensor, &raw, bytes));
    return raw;
}

int test_raw_equal(clcnn_context *ctx, const clcnn_tensor *tensor, const void *expected, size_t bytes)
{
    int equal = 0;
    TEST_OK(ctx, kit_tensor_equals_raw(tensor, expected, bytes, &equal));
    return equal;
}

size_t check_close(const char *case_name, const char *what, const double *got, const double *ref, const double *bound,
                   size_t n, uint64_t seed)
{
    double worst_ratio;
    size_t mismatches = kit_report_mismatches(stderr, case_name, what, got, ref, bound, n, seed, &worst_ratio);
    const char *verbose = getenv("CLCNN_TEST_VERBOSE");
    if (verbose != NULL && *verbose != '\0' && *verbose != '0')
        printf("case %s, %s: %zu elements, worst |diff|/bound %.3f\n", case_name, what, n, worst_ratio);
    return mismatches;
}

clcnn_tensor *test_watch_input(kit_watch *watch, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4],
                               uint64_t seed)
{
    size_t n = kit_elements(dims);
    kit_rng rng;
    kit_rng_init(&rng, seed);
    double *values = test_random_doubles(&rng, dtype, KIT_NORMAL, n);
    clcnn_tensor *t = NULL;
    clcnn_status status = kit_watch_new(watch, c, dtype, dims, values, &t);
    free(values);
    TEST_OK(c, status);
    return t;
}

void test_watch_inputs(kit_watch *watch, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4], uint64_t first_seed,
                       ...)
{
    va_list tensors;
    va_start(tensors, first_seed);
    uint64_t seed = first_seed;
    for (clcnn_tensor **t = va_arg(tensors, clcnn_tensor **); t != NULL; t = va_arg(tensors, clcnn_tensor **))
        *t = test_watch_input(watch, c, dtype, dims, seed++);
    va_end(tensors);
}

clcnn_tensor *test_watch_output(kit_watch *watch, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4])
{
    clcnn_tensor *t = NULL;
    TEST_OK(c, kit_watch_new(watch, c, dtype, dims, NULL, &t));
    return t;
}

void test_watch_check(const kit_watch *watch, int line, const char *after)
{
    clcnn_status status;
    int changed = kit_watch_first_changed(watch, &status);
    ck_assert_msg(changed < 0, "line %d: after %s, watched tensor #%d changed (read status %s)", line, after, changed,
                  clcnn_status_string(status));
}

void test_expect_error_at(const kit_watch *watch, int line, const char *call_text, clcnn_status got, clcnn_status want,
                          const clcnn_context *msg_ctx, const char *op, const char *const *args)
{
    const char *msg = msg_ctx != NULL ? clcnn_context_last_error(msg_ctx) : "";
    ck_assert_msg(got == want, "line %d: %s returned %s, expected %s (message: %s)", line, call_text,
                  clcnn_status_string(got), clcnn_status_string(want), msg != NULL ? msg : "(NULL)");
    if (msg_ctx != NULL) {
        ck_assert_msg(msg != NULL && msg[0] != '\0', "line %d: %s: empty last_error", line, call_text);
        ck_assert_msg(strstr(msg, op) != NULL, "line %d: %s: message \"%s\" does not name op %s", line, call_text, msg,
                      op);
        if (args != NULL && args[0] != NULL) {
            int named = 0;
            for (const char *const *arg = args; *arg != NULL; arg++)
                named |= strstr(msg, *arg) != NULL;
            ck_assert_msg(named, "line %d: %s: message \"%s\" does not name the argument (%s%s)", line, call_text, msg,
                          args[0], args[1] != NULL ? " or another" : "");
        }
    }
    test_watch_check(watch, line, call_text);
}
