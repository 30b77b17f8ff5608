/* Shared helpers of the device test suites: opening the device (or skipping
 * with exit code 77), a seeded RNG, moving double arrays in and out of
 * tensors of either dtype, and the tolerance comparison that every suite
 * uses (|got - ref| <= bound[i], with bound computed by the test from the
 * absolute values of the terms of each reduction). */
#ifndef CLCNN_TEST_UTIL_H
#define CLCNN_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "clcnn.h"

/* Exit status that CTest's SKIP_RETURN_CODE turns into "skipped". */
#define TEST_SKIP_EXIT_CODE 77
/* Tolerance factor: bounds are TEST_TOLERANCE_K * eps(dtype) * sum|terms|. */
#define TEST_TOLERANCE_K 4.0
/* How many mismatches check_close prints for one array before it only counts. */
#define TEST_MAX_REPORTED_MISMATCHES 5

/* Opens the context every test of a suite shares (NULL spec: the library's
 * default device choice, CLCNN_DEVICE honoured). Returns 0 with *ctx set,
 * TEST_SKIP_EXIT_CODE when there is no device (a failure, 1, when
 * CLCNN_REQUIRE_DEVICE=1), or 1 on any other error. Prints why. */
int test_open_context(clcnn_context **ctx);

/* Runs the suite without forking (OpenCL state does not survive fork) and
 * returns the process exit status. */
int test_run_suite(Suite *suite);
/* Adds `test` run for indices 0..count-1 as a test case `name` of suite,
 * with a timeout long enough for first-use kernel builds. */
void test_add_loop(Suite *suite, const char *name, const TTest *test, int count);

/* The base seed (CLCNN_TEST_SEED if set) mixed with a case index, so each
 * case gets its own stream and a failure can be replayed. */
uint64_t test_case_seed(unsigned case_index);

typedef struct test_rng {
    uint64_t state;
} test_rng;

void test_rng_init(test_rng *rng, uint64_t seed);
uint64_t test_rng_next(test_rng *rng);
/* Uniform in [0, 1). */
double test_rng_uniform(test_rng *rng);
/* Standard normal (Box-Muller). */
double test_rng_normal(test_rng *rng);
/* Fills values with standard normal numbers, rounded to float for FLOAT32
 * so that the device and the double reference see the same inputs. */
void test_fill_normal(test_rng *rng, clcnn_dtype dtype, double *values, size_t n);

/* Whether the context runs this dtype; prints a skip note for the case if not. */
int test_dtype_usable(const clcnn_context *ctx, clcnn_dtype dtype, const char *case_name);

/* Whether to skip a case because it is big (its name starts with "big_")
 * and CLCNN_TEST_SMALL=1 asks for small cases only (slow simulators such
 * as Oclgrind). Prints a note when it skips. */
int test_skip_big_case(const char *case_name);

/* Rounds a value to what a tensor of this dtype stores. */
double test_round_to_dtype(clcnn_dtype dtype, double value);
double test_dtype_eps(clcnn_dtype dtype);
size_t test_dtype_size(clcnn_dtype dtype);
const char *test_dtype_name(clcnn_dtype dtype);

size_t test_elements(const size_t dims[4]);

/* A new tensor holding values (converted to the dtype), or, with values
 * NULL, filled with NaN so that any element an op fails to write shows up
 * as a mismatch. Fails the current test on error. */
clcnn_tensor *test_tensor_from(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4],
                               const double *values);
/* Overwrites the whole tensor with values (converted to its dtype). */
void test_tensor_set(clcnn_context *ctx, clcnn_tensor *tensor, const double *values);
/* Reads the tensor into out (one double per element). */
void test_tensor_get(clcnn_context *ctx, const clcnn_tensor *tensor, double *out);
/* Reads the tensor's raw bytes into a new malloc'ed buffer of *bytes bytes. */
void *test_tensor_get_raw(clcnn_context *ctx, const clcnn_tensor *tensor, size_t *bytes);

/* Element-wise |x|, into out (may equal x). */
void test_abs(const double *x, double *out, size_t n);
/* bound[i] = TEST_TOLERANCE_K * eps(dtype) * bound[i], in place. */
void test_scale_bound(clcnn_dtype dtype, double *bound, size_t n);

/* Compares got with ref element-wise: a mismatch is !(|got - ref| <= bound[i])
 * (so NaN always mismatches); bound NULL means exact. Prints the first few
 * mismatches with case, op, index, got, ref (%a), bound and seed. Returns
 * the number of mismatches. CLCNN_TEST_VERBOSE=1 also prints the worst
 * |diff| / bound of every call, to see how much room the tolerance leaves. */
size_t check_close(const char *case_name, const char *what, const double *got,
                   const double *ref, const double *bound, size_t n, uint64_t seed);

/* Fails the current test, naming the op and the context's last error, when
 * status is not CLCNN_OK. */
#define TEST_OK(ctx, call)                                                                  \
    do {                                                                                    \
        clcnn_status test_ok_status_ = (call);                                              \
        ck_assert_msg(test_ok_status_ == CLCNN_OK, "%s failed: %s (%s)", #call,             \
                      clcnn_status_string(test_ok_status_), clcnn_context_last_error(ctx)); \
    } while (0)

/* malloc that fails the current test instead of returning NULL. */
void *test_alloc(size_t bytes);
double *test_alloc_doubles(size_t n);

#endif
