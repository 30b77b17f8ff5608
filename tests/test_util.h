/* What the device test suites add to the verification kit (kit/kit.h) for
 * Check: opening the device (or skipping with exit code 77), running a
 * suite, per-case seeds, the kit's tensor copies and watched tensors as
 * assertions, and the comparison every suite reports with
 * (|got - ref| <= bound[i], bound from kit_tolerance_bounds or the test). */
#ifndef CLCNN_TEST_UTIL_H
#define CLCNN_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <check.h>

#include "clcnn.h"
#include "kit.h"

/* Exit status that CTest's SKIP_RETURN_CODE turns into "skipped". */
#define TEST_SKIP_EXIT_CODE 77

/* Opens the context every test of a suite shares (NULL spec: the library's
 * default device choice, CLCNN_DEVICE honoured). Returns 0 with *ctx set,
 * TEST_SKIP_EXIT_CODE when there is no device (a failure, 1, when
 * CLCNN_REQUIRE_DEVICE=1), or 1 on any other error. Prints why. */
int test_open_context(clcnn_context **ctx);

/* Runs the suite without forking (OpenCL state does not survive fork) and
 * returns the process exit status: a failure also when a kernel the suite
 * built on test_open_context's context built with warnings. */
int test_run_suite(Suite *suite);
/* The main of a suite on one shared context: test_open_context(ctx), then
 * test_run_suite on what build_suite returns (NULL: its setup failed,
 * status 1), then the context destroyed. Returns the exit status. */
int test_main(clcnn_context **ctx, Suite *(*build_suite)(void));
/* Adds `test` run for indices 0..count-1 as a test case `name` of suite,
 * with a timeout long enough for first-use kernel builds. */
void test_add_loop(Suite *suite, const char *name, const TTest *test, int count);

/* The base seed (CLCNN_TEST_SEED if set) mixed with a case index, so each
 * case gets its own stream and a failure can be replayed. */
uint64_t test_case_seed(unsigned case_index);

/* Whether the context runs this dtype; prints a skip note for the case if not. */
int test_dtype_usable(const clcnn_context *ctx, clcnn_dtype dtype, const char *case_name);

/* Whether to skip a case because it is big (its name starts with "big_")
 * and CLCNN_TEST_SMALL=1 asks for small cases only (slow simulators such
 * as Oclgrind). Prints a note when it skips. */
int test_skip_big_case(const char *case_name);

/* One run of a row of a case table: its dtype, its name "CASE/DTYPE"
 * (kit_case_name), its seed and a generator on that seed. */
typedef struct test_case {
    char name[160];
    clcnn_dtype dtype;
    uint64_t seed;
    kit_rng rng;
} test_case;

/* Begins the row case_name in dtype (kit_case_dtype(_i) for a table run
 * once per dtype) with seed test_case_seed(seed_index). Returns 0 when the
 * run is skipped here (test_dtype_usable, test_skip_big_case), having
 * printed why. */
int test_case_begin(test_case *tc, const clcnn_context *ctx, const char *case_name, clcnn_dtype dtype,
                    unsigned seed_index);

/* The number of rows of a case table. */
#define TEST_ROWS(table) ((int)(sizeof(table) / sizeof((table)[0])))
/* A loop test over the rows of a case table, each run once per dtype:
 * KIT_DTYPE_COUNT * rows runs (test_add_loop). */
void test_add_dtype_loop(Suite *suite, const char *name, const TTest *test, int rows);
/* Begins run _i of such a test: declares `const row_type *c`, its row of
 * table, and `test_case tc`, begun on ctx with seed index seed_base + _i;
 * returns from the test when the run is skipped here. */
#define TEST_DTYPE_CASE(ctx, row_type, c, table, tc, seed_base)                                                        \
    const row_type *c = &(table)[_i / KIT_DTYPE_COUNT];                                                                \
    test_case tc;                                                                                                      \
    if (!test_case_begin(&tc, (ctx), c->name, kit_case_dtype(_i), (unsigned)(seed_base) + (unsigned)_i))               \
    return

/* Fails the current test, naming the op and the context's last error, when
 * status is not CLCNN_OK. */
#define TEST_OK(ctx, call)                                                                                             \
    do {                                                                                                               \
        clcnn_status test_ok_status_ = (call);                                                                         \
        ck_assert_msg(test_ok_status_ == CLCNN_OK, "%s failed: %s (%s)", #call, clcnn_status_string(test_ok_status_),  \
                      clcnn_context_last_error(ctx));                                                                  \
    } while (0)

/* Fails the test unless the call returns the status `want`; the message
 * shows both statuses and the context's last error. */
#define TEST_STATUS_IS(c, call, want)                                                                                  \
    do {                                                                                                               \
        clcnn_status expect_got_ = (call);                                                                             \
        ck_assert_msg(expect_got_ == (want), "%s returned %s, expected %s; message: %s", #call,                        \
                      clcnn_status_string(expect_got_), clcnn_status_string(want), clcnn_context_last_error(c));       \
    } while (0)

/* Fails the test unless the context's last error contains `part`. */
#define TEST_MESSAGE_HAS(c, part)                                                                                      \
    ck_assert_msg(strstr(clcnn_context_last_error(c), (part)) != NULL,                                                 \
                  "message\n  \"%s\"\ndoes not contain\n  \"%s\"", clcnn_context_last_error(c), (part))
/* Both: the call fails with `want` and a message containing `part`. */
#define TEST_FAILS_WITH(c, call, want, part)                                                                           \
    do {                                                                                                               \
        TEST_STATUS_IS(c, call, want);                                                                                 \
        TEST_MESSAGE_HAS(c, part);                                                                                     \
    } while (0)

/* malloc that fails the current test instead of returning NULL. */
void *test_alloc(size_t bytes);
double *test_alloc_doubles(size_t n);
/* free() of each of a list of pointers (NULL among them is fine). */
void test_free_n(void *const *pointers, size_t n);
#define TEST_FREE(...) test_free_n((void *const[]){__VA_ARGS__}, sizeof((void *const[]){__VA_ARGS__}) / sizeof(void *))
/* clcnn_tensor_destroy of each of a list of tensors (NULL among them is fine). */
void test_destroy_n(clcnn_tensor *const *tensors, size_t n);
#define TEST_DESTROY(...)                                                                                              \
    test_destroy_n((clcnn_tensor *const[]){__VA_ARGS__},                                                               \
                   sizeof((clcnn_tensor *const[]){__VA_ARGS__}) / sizeof(clcnn_tensor *))
/* n values drawn by kit_rng_fill, in a new test_alloc_doubles buffer. */
double *test_random_doubles(kit_rng *rng, clcnn_dtype dtype, kit_pattern pattern, size_t n);

/* The kit's tensor copies (kit_tensor_*), failing the current test on error. */
/* values NULL: filled with NaN, so that an element an op fails to write
 * shows up as a mismatch. */
clcnn_tensor *test_tensor_from(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], const double *values);
/* An output: test_tensor_from with values NULL (NaN-filled). */
clcnn_tensor *test_tensor_out(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4]);
void test_tensor_set(clcnn_context *ctx, clcnn_tensor *tensor, const double *values);
void test_tensor_get(clcnn_context *ctx, const clcnn_tensor *tensor, double *out);
/* The raw bytes, in a new malloc'ed buffer of *bytes bytes. */
void *test_tensor_get_raw(clcnn_context *ctx, const clcnn_tensor *tensor, size_t *bytes);
/* Whether the tensor holds exactly these bytes. */
int test_raw_equal(clcnn_context *ctx, const clcnn_tensor *tensor, const void *expected, size_t bytes);

/* kit_report_mismatches to stderr: the number of mismatches of got against
 * ref (bound NULL: exact), the first few printed with case, index, values
 * (%a) and seed. CLCNN_TEST_VERBOSE=1 also prints the worst |diff| / bound
 * of every call, to see how much room the tolerance leaves. */
size_t check_close(const char *case_name, const char *what, const double *got, const double *ref, const double *bound,
                   size_t n, uint64_t seed);

/* A case's verdict, asserted after the case has freed what it holds: a
 * failed assertion leaves the test at once (no fork), so whatever is freed
 * after it leaks and LeakSanitizer fails the suite for the wrong reason.
 * case_name must outlive the free (an array in the problem, not a malloc).
 * Macros, so that a failure names the test's line. */
#define TEST_ASSERT_NO_MISMATCHES(case_name, op, mismatches, seed)                                                     \
    ck_assert_msg((mismatches) == 0, "%s: %s: %zu mismatches (seed 0x%llx)", (case_name), (op), (size_t)(mismatches),  \
                  (unsigned long long)(seed))
#define TEST_ASSERT_REPEATABLE(case_name, op, repeatable)                                                              \
    ck_assert_msg((repeatable), "%s: %s: second run differs bitwise", (case_name), (op))
#define TEST_ASSERT_GRADIENTS_MATCH(case_name, mismatches, seed)                                                       \
    ck_assert_msg((mismatches) == 0, "%s: %zu gradient mismatches (seed 0x%llx)", (case_name), (size_t)(mismatches),   \
                  (unsigned long long)(seed))

/* ---- watched tensors (kit_watch), for the error tests ---- */

/* An input of c holding normal values drawn from seed, watched: no call may
 * change it. */
clcnn_tensor *test_watch_input(kit_watch *watch, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4],
                               uint64_t seed);
/* test_watch_input for each tensor pointer of the NULL-terminated list
 * after first_seed, the k-th with seed first_seed + k: the inputs of one
 * call in one line. */
void test_watch_inputs(kit_watch *watch, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4], uint64_t first_seed,
                       ...);
/* An output of c holding the sentinel pattern, watched: no failing call may
 * write to it. */
clcnn_tensor *test_watch_output(kit_watch *watch, clcnn_context *c, clcnn_dtype dtype, const size_t dims[4]);
/* Fails the current test when a watched tensor changed, naming the line
 * and what came before. */
void test_watch_check(const kit_watch *watch, int line, const char *after);

/* Checks one failing call: its status, that the message (read from msg_ctx;
 * NULL when there is no context to hold one) is not empty and names op and
 * at least one of the NULL-terminated args, and that no watched tensor
 * changed. Use the macros. */
void test_expect_error_at(const kit_watch *watch, int line, const char *call_text, clcnn_status got, clcnn_status want,
                          const clcnn_context *msg_ctx, const char *op, const char *const *args);
/* TEST_EXPECT_ERROR(watch, ctx, call, status, op, "arg", "other acceptable arg"...) */
#define TEST_EXPECT_ERROR(watch, msg_ctx, call, want, op, ...)                                                         \
    test_expect_error_at((watch), __LINE__, #call, (call), (want), (msg_ctx), (op), (const char *[]){__VA_ARGS__, NULL})
/* For calls without a usable context: only the status (and the watch) count. */
#define TEST_EXPECT_STATUS(watch, call, want)                                                                          \
    test_expect_error_at((watch), __LINE__, #call, (call), (want), NULL, "", NULL)

#endif
