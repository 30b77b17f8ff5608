/* Helpers shared by the device test suites; see test_util.h. */
#include "test_util.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_DEFAULT_SEED UINT64_C(0x5eed0c1c2024)

int test_open_context(clcnn_context **ctx)
{
    const char *require = getenv("CLCNN_REQUIRE_DEVICE");
    *ctx = NULL;
    int device_required = require != NULL && strcmp(require, "1") == 0;
    clcnn_status status = clcnn_context_create(NULL, ctx);
    if (status == CLCNN_OK) {
        printf("device: %s\n", clcnn_context_device_name(*ctx));
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

int test_run_suite(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    srunner_set_fork_status(runner, CK_NOFORK);
    srunner_run_all(runner, CK_ENV);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t test_case_seed(unsigned case_index)
{
    uint64_t base = TEST_DEFAULT_SEED;
    const char *env = getenv("CLCNN_TEST_SEED");
    if (env != NULL && *env != '\0')
        base = strtoull(env, NULL, 0);
    uint64_t state = base ^ ((uint64_t)case_index * UINT64_C(0x100000001b3));
    return splitmix64(&state);
}

void test_rng_init(test_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t test_rng_next(test_rng *rng)
{
    return splitmix64(&rng->state);
}

double test_rng_uniform(test_rng *rng)
{
    return (double)(test_rng_next(rng) >> 11) * 0x1.0p-53;
}

double test_rng_normal(test_rng *rng)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    double u1 = 1.0 - test_rng_uniform(rng);
    double u2 = test_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

double test_round_to_dtype(clcnn_dtype dtype, double value)
{
    return dtype == CLCNN_FLOAT32 ? (double)(float)value : value;
}

void test_fill_normal(test_rng *rng, clcnn_dtype dtype, double *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        values[i] = test_round_to_dtype(dtype, test_rng_normal(rng));
}

int test_dtype_usable(const clcnn_context *ctx, clcnn_dtype dtype, const char *case_name)
{
    /* CLCNN_TEST_DTYPE=float32|float64 runs one dtype only: the Oclgrind
     * runs use one process per dtype, as its uninitialised-value checker
     * confuses same-named kernels of two programs in one process. */
    const char *only = getenv("CLCNN_TEST_DTYPE");
    if (only != NULL && *only != '\0' && strcmp(only, test_dtype_name(dtype)) != 0)
        return 0;
    if (clcnn_context_supports_dtype(ctx, dtype))
        return 1;
    printf("case %s: device has no %s, skipped\n", case_name, test_dtype_name(dtype));
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

double test_dtype_eps(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT32 ? FLT_EPSILON : DBL_EPSILON;
}

size_t test_dtype_size(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT32 ? sizeof(float) : sizeof(double);
}

const char *test_dtype_name(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT32 ? "float32" : "float64";
}

size_t test_elements(const size_t dims[4])
{
    return dims[0] * dims[1] * dims[2] * dims[3];
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

clcnn_tensor *test_tensor_from(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4],
                               const double *values)
{
    clcnn_tensor *tensor = NULL;
    TEST_OK(ctx, clcnn_tensor_create(ctx, dtype, dims, &tensor));
    size_t n = test_elements(dims);
    double *filled = NULL;
    if (values == NULL) {
        filled = test_alloc_doubles(n);
        for (size_t i = 0; i < n; i++)
            filled[i] = NAN;
        values = filled;
    }
    test_tensor_set(ctx, tensor, values);
    free(filled);
    return tensor;
}

void test_tensor_set(clcnn_context *ctx, clcnn_tensor *tensor, const double *values)
{
    size_t dims[4];
    clcnn_tensor_dims(tensor, dims);
    size_t n = test_elements(dims);
    clcnn_dtype dtype = clcnn_tensor_dtype(tensor);
    if (dtype == CLCNN_FLOAT64) {
        TEST_OK(ctx, clcnn_tensor_write(tensor, values, n * sizeof(double)));
        return;
    }
    float *converted = test_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        converted[i] = (float)values[i];
    clcnn_status status = clcnn_tensor_write(tensor, converted, n * sizeof(float));
    free(converted);
    TEST_OK(ctx, status);
}

void *test_tensor_get_raw(clcnn_context *ctx, const clcnn_tensor *tensor, size_t *bytes)
{
    size_t dims[4];
    clcnn_tensor_dims(tensor, dims);
    *bytes = test_elements(dims) * test_dtype_size(clcnn_tensor_dtype(tensor));
    void *raw = test_alloc(*bytes);
    clcnn_status status = clcnn_tensor_read(tensor, raw, *bytes);
    if (status != CLCNN_OK)
        free(raw);
    TEST_OK(ctx, status);
    return raw;
}

void test_tensor_get(clcnn_context *ctx, const clcnn_tensor *tensor, double *out)
{
    size_t bytes;
    void *raw = test_tensor_get_raw(ctx, tensor, &bytes);
    if (clcnn_tensor_dtype(tensor) == CLCNN_FLOAT64) {
        memcpy(out, raw, bytes);
    } else {
        const float *f = raw;
        for (size_t i = 0; i < bytes / sizeof(float); i++)
            out[i] = f[i];
    }
    free(raw);
}

void test_abs(const double *x, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fabs(x[i]);
}

void test_scale_bound(clcnn_dtype dtype, double *bound, size_t n)
{
    double scale = TEST_TOLERANCE_K * test_dtype_eps(dtype);
    for (size_t i = 0; i < n; i++)
        bound[i] *= scale;
}

size_t check_close(const char *case_name, const char *what, const double *got,
                   const double *ref, const double *bound, size_t n, uint64_t seed)
{
    size_t mismatches = 0;
    double worst_ratio = 0.0; /* largest |diff| / bound, for tuning the tolerance */
    for (size_t i = 0; i < n; i++) {
        double allowed = bound != NULL ? bound[i] : 0.0;
        double diff = fabs(got[i] - ref[i]);
        if (allowed > 0.0 && diff / allowed > worst_ratio)
            worst_ratio = diff / allowed;
        /* Written so that NaN (an unwritten element) is a mismatch. */
        if (diff <= allowed)
            continue;
        if (mismatches < TEST_MAX_REPORTED_MISMATCHES)
            fprintf(stderr,
                    "MISMATCH case %s, %s[%zu]: got %a (%.9g), ref %a (%.9g), |diff| %.3g, "
                    "bound %.3g, seed 0x%" PRIx64 "\n",
                    case_name, what, i, got[i], got[i], ref[i], ref[i], diff, allowed, seed);
        mismatches++;
    }
    const char *verbose = getenv("CLCNN_TEST_VERBOSE");
    if (verbose != NULL && *verbose != '\0' && *verbose != '0')
        printf("case %s, %s: %zu elements, worst |diff|/bound %.3f\n", case_name, what, n,
               worst_ratio);
    if (mismatches > TEST_MAX_REPORTED_MISMATCHES)
        fprintf(stderr, "  case %s, %s: %zu mismatches of %zu elements in all\n", case_name,
                what, mismatches, n);
    return mismatches;
}
