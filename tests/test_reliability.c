/* Reliability: size limits (size_t overflow, the device's largest
 * allocation, the kernels' 32-bit indexing), failures in the middle of a
 * call (device allocation, kernel build, enqueue; the last two through the
 * CLCNN_FAULT_INJECT testing hook), concurrent contexts in threads, and the
 * exact wording of some error messages.
 *
 * White box: it includes host/runtime/internal.h to read the context's OpenCL
 * handles and fault counters, and to build a tensor header of 2^31
 * elements without allocating its 8 GiB (no device here can). */
/* setenv/unsetenv, mkdtemp */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clcnn_reference.h"
#include "internal.h"
#include "test_util.h"

#ifndef CLCNN_KERNELS_SOURCE_DIR
#error "CLCNN_KERNELS_SOURCE_DIR (the source tree's kernels/) must be defined by the build"
#endif

#define THREADS 4
#define THREAD_ROUNDS 6

/* The context shared by the tests that need no special environment. */
static clcnn_context *ctx;

/* ---- helpers ---- */

/* A context created while `name` is set to `value` in the environment. */
static clcnn_context *context_with_env(const char *name, const char *value)
{
    clcnn_context *c = NULL;
    ck_assert_int_eq(setenv(name, value, 1), 0);
    clcnn_status st = clcnn_context_create(NULL, &c);
    unsetenv(name);
    ck_assert_msg(st == CLCNN_OK, "context with %s=%s: %s (%s)", name, value, clcnn_status_string(st),
                  clcnn_context_last_error(c));
    return c;
}

static const char *last_error(const clcnn_context *c)
{
    return clcnn_context_last_error(c);
}

static cl_uint context_refs(const clcnn_context *c)
{
    cl_uint refs = 0;
    ck_assert_int_eq(clGetContextInfo(c->context, CL_CONTEXT_REFERENCE_COUNT, sizeof refs, &refs, NULL), CL_SUCCESS);
    return refs;
}

/* Whether every OpenCL object that retains the context (buffers, programs,
 * the queue) is one the context or the test still holds. POCL counts each
 * of them in CL_CONTEXT_REFERENCE_COUNT; `base` is the count of a fresh
 * context, measured by refcount_base(). */
typedef struct refcount_model {
    int usable;   /* 0: this platform does not count objects that way */
    cl_uint base; /* a fresh context: its own reference and the queue's */
} refcount_model;

static size_t workspaces(const clcnn_context *c)
{
    size_t n = 0;
    for (int s = 0; s < CLCNN_WORKSPACE_SLOTS; s++)
        n += c->workspace[s] != NULL;
    return n;
}

static refcount_model refcount_base(clcnn_context *c)
{
    refcount_model m = {0, context_refs(c)};
    const size_t dims[4] = {1, 1, 1, 1};
    clcnn_tensor *t = NULL;
    TEST_OK(c, clcnn_tensor_create(c, CLCNN_FLOAT32, dims, &t));
    m.usable = context_refs(c) == m.base + 1;
    clcnn_tensor_destroy(t);
    if (!m.usable)
        printf("note: this platform's CL_CONTEXT_REFERENCE_COUNT does not count buffers; "
               "OpenCL object leak checks skipped (the ASan build still checks host memory)\n");
    return m;
}

/* Fails the test if the context's reference count is not the base plus the
 * test's live tensors, the context's workspace buffers and its programs:
 * anything more is a leaked buffer, program or queue. */
static void check_no_cl_leak(clcnn_context *c, const refcount_model *m, size_t live_tensors, int programs,
                             const char *after)
{
    if (!m->usable)
        return;
    ck_assert_int_eq(clcnn_context_finish(c), CLCNN_OK);
    cl_uint want = m->base + (cl_uint)live_tensors + (cl_uint)workspaces(c) + (cl_uint)programs;
    ck_assert_msg(context_refs(c) == want,
                  "after %s: context reference count %u, expected %u (base %u + %zu tensors + %zu "
                  "workspaces + %d programs): an OpenCL object leaked",
                  after, context_refs(c), want, m->base, live_tensors, workspaces(c), programs);
}

static unsigned long enqueues(const clcnn_context *c)
{
    return c->fault.count[CLCNN_FAULT_ENQUEUE];
}

/* A float32 tensor of dims holding x[i] = (i % 13) - 6 + 0.25 (both signs, exact). */
static clcnn_tensor *ramp(clcnn_context *c, const size_t dims[4])
{
    size_t n = kit_elements(dims);
    double *v = test_alloc_doubles(n);
    for (size_t i = 0; i < n; i++)
        v[i] = (double)(i % 13) - 6.0 + 0.25;
    clcnn_tensor *t = test_tensor_from(c, CLCNN_FLOAT32, dims, v);
    free(v);
    return t;
}

/* Runs relu_forward on c and checks it exactly: the context still works. */
static void check_relu_works(clcnn_context *c, const char *after)
{
    const size_t dims[4] = {2, 3, 4, 5};
    size_t n = kit_elements(dims);
    clcnn_tensor *x = ramp(c, dims), *y = test_tensor_out(c, CLCNN_FLOAT32, dims);
    clcnn_status st = clcnn_relu_forward(c, x, y);
    ck_assert_msg(st == CLCNN_OK, "relu_forward after %s: %s (%s)", after, clcnn_status_string(st), last_error(c));
    double *got = test_alloc_doubles(n), *want = test_alloc_doubles(n);
    test_tensor_get(c, y, got);
    for (size_t i = 0; i < n; i++) {
        double xi = (double)(i % 13) - 6.0 + 0.25;
        want[i] = xi > 0 ? xi : 0.0;
    }
    size_t mismatches = check_close(after, "relu_forward y", got, want, NULL, n, 0);
    TEST_FREE(got, want);
    ck_assert_msg(mismatches == 0, "relu_forward after %s: %zu values differ", after, mismatches);
    clcnn_tensor_destroy(x);
    clcnn_tensor_destroy(y);
}

/* Runs conv_backward (all three gradients) on c and checks them against
 * the reference. */
static void check_conv_backward_works(clcnn_context *c, clcnn_tensor *dz, clcnn_tensor *a, clcnn_tensor *w,
                                      const size_t a_dims[4], const size_t w_dims[4], const size_t z_dims[4],
                                      const char *after)
{
    const size_t b_dims[4] = {1, 1, 1, w_dims[3]};
    size_t na = kit_elements(a_dims), nw = kit_elements(w_dims), nz = kit_elements(z_dims), nb = w_dims[3];
    clcnn_tensor *da = test_tensor_out(c, CLCNN_FLOAT32, a_dims);
    clcnn_tensor *dw = test_tensor_out(c, CLCNN_FLOAT32, w_dims);
    clcnn_tensor *db = test_tensor_out(c, CLCNN_FLOAT32, b_dims);
    clcnn_status st = clcnn_conv_backward(c, dz, a, w, 1, 1, da, dw, db);
    ck_assert_msg(st == CLCNN_OK, "conv_backward after %s: %s (%s)", after, clcnn_status_string(st), last_error(c));
    double *hz = test_alloc_doubles(nz), *ha = test_alloc_doubles(na), *hw = test_alloc_doubles(nw);
    double *rda = test_alloc_doubles(na), *rdw = test_alloc_doubles(nw), *rdb = test_alloc_doubles(nb);
    double *bda = test_alloc_doubles(na), *bdw = test_alloc_doubles(nw), *bdb = test_alloc_doubles(nb);
    double *got = test_alloc_doubles(na > nw ? na : nw);
    test_tensor_get(c, dz, hz);
    test_tensor_get(c, a, ha);
    test_tensor_get(c, w, hw);
    clcnn_ref_conv_backward(hz, ha, a_dims, hw, w_dims, 1, 1, rda, rdw, rdb);
    kit_abs(hz, hz, nz);
    kit_abs(ha, ha, na);
    kit_abs(hw, hw, nw);
    clcnn_ref_conv_backward(hz, ha, a_dims, hw, w_dims, 1, 1, bda, bdw, bdb);
    kit_tolerance_bounds(CLCNN_FLOAT32, bda, bda, na);
    kit_tolerance_bounds(CLCNN_FLOAT32, bdw, bdw, nw);
    kit_tolerance_bounds(CLCNN_FLOAT32, bdb, bdb, nb);
    size_t bad = 0;
    test_tensor_get(c, da, got);
    bad += check_close(after, "dA_prev", got, rda, bda, na, 0);
    test_tensor_get(c, dw, got);
    bad += check_close(after, "dW", got, rdw, bdw, nw, 0);
    test_tensor_get(c, db, got);
    bad += check_close(after, "db", got, rdb, bdb, nb, 0);
    ck_assert_msg(bad == 0, "conv_backward after %s: %zu wrong elements", after, bad);
    double *arrays[] = {hz, ha, hw, rda, rdw, rdb, bda, bdw, bdb, got};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    clcnn_tensor_destroy(da);
    clcnn_tensor_destroy(dw);
    clcnn_tensor_destroy(db);
}

static cl_ulong device_max_alloc(const clcnn_context *c)
{
    cl_ulong max_alloc = 0;
    ck_assert_int_eq(clGetDeviceInfo(c->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL),
                     CL_SUCCESS);
    return max_alloc;
}

/* ---- item: limits ---- */

START_TEST(test_size_t_overflow_refused)
{
    static const struct {
        const char *name;
        clcnn_dtype dtype;
        size_t dims[4];
        const char *message;
    } cases[] = {
        {"elements_overflow", CLCNN_FLOAT32, {SIZE_MAX / 2 + 1, 2, 1, 1}, "elements overflow size_t (at most "},
        {"elements_overflow_spread",
         CLCNN_FLOAT64,
         {(size_t)1 << 16, (size_t)1 << 16, (size_t)1 << 16, (size_t)1 << 16},
         "elements overflow size_t (at most "},
        {"elements_overflow_last_dim", CLCNN_FLOAT32, {3, 1, 1, SIZE_MAX / 2}, "elements overflow size_t"},
        {"all_max", CLCNN_FLOAT32, {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX}, "elements overflow size_t"},
        {"bytes_overflow_float32", CLCNN_FLOAT32, {SIZE_MAX / 4 + 1, 1, 1, 1}, "bytes, which overflows size_t"},
        {"bytes_overflow_float64", CLCNN_FLOAT64, {1, 1, SIZE_MAX / 8 + 1, 1}, "of 8 bytes, which overflows size_t"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clcnn_tensor *t = (clcnn_tensor *)&t; /* must become NULL */
        clcnn_status st = clcnn_tensor_create(ctx, cases[i].dtype, cases[i].dims, &t);
        ck_assert_msg(st == CLCNN_ERROR_SHAPE, "case %s: %s (%s)", cases[i].name, clcnn_status_string(st),
                      last_error(ctx));
        ck_assert_msg(t == NULL, "case %s: *tensor not NULL after a refused create", cases[i].name);
        TEST_MESSAGE_HAS(ctx, "tensor_create: ");
        TEST_MESSAGE_HAS(ctx, cases[i].message);
        TEST_MESSAGE_HAS(ctx, "use smaller dims");
    }
}
END_TEST

START_TEST(test_max_alloc_refused)
{
    const cl_ulong max_alloc = device_max_alloc(ctx);
    char want[256];
    for (int d = 0; d < 2; d++) {
        const clcnn_dtype dtype = d ? CLCNN_FLOAT64 : CLCNN_FLOAT32;
        if (!clcnn_context_supports_dtype(ctx, dtype))
            continue;
        const size_t elem = kit_dtype_size(dtype);
        /* One element past the largest allocation, spread over two dims. */
        const size_t over = (size_t)(max_alloc / elem) + 1;
        size_t dims[4] = {1, 1, 1, over};
        clcnn_tensor *t = NULL;
        TEST_STATUS_IS(ctx, clcnn_tensor_create(ctx, dtype, dims, &t), CLCNN_ERROR_SHAPE);
        ck_assert_ptr_null(t);
        snprintf(want, sizeof want,
                 "tensor_create: 1 x 1 x 1 x %zu %s is %zu bytes, over the device's CL_DEVICE_MAX_MEM_ALLOC_SIZE of "
                 "%" PRIu64 " bytes",
                 over, kit_dtype_name(dtype), over * elem, (uint64_t)max_alloc);
        TEST_MESSAGE_HAS(ctx, want);
        TEST_MESSAGE_HAS(ctx, "split it");
        /* Far past it, but without overflow. */
        size_t far[4] = {(size_t)1 << 20, (size_t)1 << 20, (size_t)1 << 10, 1};
        TEST_FAILS_WITH(ctx, clcnn_tensor_create(ctx, dtype, far, &t), CLCNN_ERROR_SHAPE,
                        "CL_DEVICE_MAX_MEM_ALLOC_SIZE");
    }
    /* Exactly the largest allocation is not refused for its size: it is
     * created, or (a device short of memory) fails as an allocation. The
     * buffer is never written, so POCL does not touch its pages. */
    const size_t at_limit[4] = {1, 1, 1, (size_t)(max_alloc / 4)};
    clcnn_tensor *t = NULL;
    clcnn_status st = clcnn_tensor_create(ctx, CLCNN_FLOAT32, at_limit, &t);
    ck_assert_msg(st == CLCNN_OK || st == CLCNN_ERROR_OUT_OF_MEMORY,
                  "a tensor of exactly CL_DEVICE_MAX_MEM_ALLOC_SIZE (%" PRIu64 " bytes): %s (%s)", (uint64_t)max_alloc,
                  clcnn_status_string(st), last_error(ctx));
    clcnn_tensor_destroy(t);
    check_relu_works(ctx, "tensor_create at the size limit");
}
END_TEST

/* A tensor header of `count` elements in ctx with no buffer behind it: the
 * ops must refuse it before they look at the buffer. */
static struct clcnn_tensor fake_tensor(clcnn_context *c, clcnn_dtype dtype, const size_t dims[4])
{
    struct clcnn_tensor t;
    memset(&t, 0, sizeof t);
    t.ctx = c;
    t.dtype = dtype;
    memcpy(t.dims, dims, sizeof t.dims);
    t.count = dims[0] * dims[1] * dims[2] * dims[3];
    t.bytes = t.count * kit_dtype_size(dtype);
    t.mem = NULL;
    return t;
}

START_TEST(test_32bit_indexing_limit)
{
    /* 2^31 elements: one past what the kernels' int offsets address. */
    const size_t huge_dims[4] = {2, 1024, 1024, 1024};
    struct clcnn_tensor huge_header = fake_tensor(ctx, CLCNN_FLOAT32, huge_dims);
    clcnn_tensor *huge = &huge_header;
    const size_t small_dims[4] = {1, 2, 2, 1};
    /* No refused call may write to them. */
    kit_watch watch = {0};
    clcnn_tensor *s1 = test_watch_output(&watch, ctx, CLCNN_FLOAT32, small_dims);
    clcnn_tensor *s2 = test_watch_output(&watch, ctx, CLCNN_FLOAT32, small_dims);
    clcnn_tensor *s3 = test_watch_output(&watch, ctx, CLCNN_FLOAT32, small_dims);
    const size_t w_dims[4] = {1, 1, 1024, 1};
    clcnn_tensor *w = test_tensor_out(ctx, CLCNN_FLOAT32, w_dims);
    const unsigned long before = enqueues(ctx);
    const char *want = "has 2147483648 elements; kernels index with 32 bits, so at most 2147483647 elements per "
                       "tensor (split the batch)";
    static const char *const ops[] = {"zero_pad",
                                      "conv_forward",
                                      "conv_backward",
                                      "pool_forward",
                                      "pool_backward",
                                      "relu_forward",
                                      "relu_backward",
                                      "softmax_cross_entropy_forward",
                                      "softmax_cross_entropy_backward",
                                      "sgd_update"};
    for (size_t op = 0; op < sizeof ops / sizeof ops[0]; op++) {
        clcnn_status st;
        switch (op) {
        case 0: st = clcnn_zero_pad(ctx, huge, 1, s1); break;
        case 1: st = clcnn_conv_forward(ctx, huge, w, s2, 1, 0, s1); break;
        case 2: st = clcnn_conv_backward(ctx, s3, huge, w, 1, 0, s1, NULL, NULL); break;
        case 3: st = clcnn_pool_forward(ctx, huge, 2, 2, CLCNN_POOL_MAX, s1); break;
        case 4: st = clcnn_pool_backward(ctx, s3, huge, 2, 2, CLCNN_POOL_MAX, s1); break;
        case 5: st = clcnn_relu_forward(ctx, huge, s1); break;
        case 6: st = clcnn_relu_backward(ctx, huge, s2, s1); break;
        case 7: st = clcnn_softmax_cross_entropy_forward(ctx, huge, s2, s1, s3, NULL); break;
        case 8: st = clcnn_softmax_cross_entropy_backward(ctx, huge, s2, s1); break;
        default: st = clcnn_sgd_update(ctx, huge, s2, NULL, 0.1, 0.0, 0.0); break;
        }
        ck_assert_msg(st == CLCNN_ERROR_SHAPE, "%s with a 2^31-element input: %s (%s)", ops[op],
                      clcnn_status_string(st), last_error(ctx));
        TEST_MESSAGE_HAS(ctx, ops[op]);
        TEST_MESSAGE_HAS(ctx, want);
    }
    /* As an output too. */
    TEST_FAILS_WITH(ctx, clcnn_relu_forward(ctx, s1, huge), CLCNN_ERROR_SHAPE,
                    "relu_forward: y has 2147483648 elements");
    /* 2^31 - 1 elements pass the check (the call fails later, on y's dims). */
    const size_t max_dims[4] = {1, 1, 1, INT_MAX};
    struct clcnn_tensor max_header = fake_tensor(ctx, CLCNN_FLOAT32, max_dims);
    TEST_FAILS_WITH(ctx, clcnn_relu_forward(ctx, &max_header, s1), CLCNN_ERROR_SHAPE,
                    "relu_forward: y is 1 x 2 x 2 x 1 but must be 1 x 1 x 1 x 2147483647");
    ck_assert_msg(enqueues(ctx) == before, "a refused call enqueued a kernel");
    test_watch_check(&watch, __LINE__, "the 2^31-element calls");

    /* Outputs larger than 2^31 elements from small inputs: a pad that makes
     * conv's output 60001 x 60001. */
    const size_t one[4] = {1, 1, 1, 1};
    clcnn_tensor *a1 = ramp(ctx, one), *w1 = ramp(ctx, one), *b1 = ramp(ctx, one);
    TEST_FAILS_WITH(ctx, clcnn_conv_forward(ctx, a1, w1, b1, 1, 30000, s1), CLCNN_ERROR_SHAPE,
                    "conv_forward: the output 1 x 60001 x 60001 x 1 would have over 2147483647 elements");
    TEST_FAILS_WITH(ctx, clcnn_conv_backward(ctx, s3, a1, w1, 1, 30000, s1, NULL, NULL), CLCNN_ERROR_SHAPE,
                    "32-bit offsets");
    ck_assert_msg(enqueues(ctx) == before, "a refused call enqueued a kernel");
    test_watch_check(&watch, __LINE__, "the calls with huge outputs");
    clcnn_tensor *made[] = {w, a1, w1, b1};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        clcnn_tensor_destroy(made[i]);
    kit_watch_release(&watch);
}
END_TEST

/* A pad so large that m * n_H * n_W * n_C passes 2^63: the refusal must not
 * itself overflow (UBSan aborts here when it does). */
START_TEST(test_conv_output_size_overflow)
{
    const size_t a_dims[4] = {1, 1, 1, 1}, w_dims[4] = {1, 1, 1, 16}, b_dims[4] = {1, 1, 1, 16};
    clcnn_tensor *a = ramp(ctx, a_dims), *w = ramp(ctx, w_dims), *b = ramp(ctx, b_dims);
    kit_watch watch = {0};
    clcnn_tensor *z = test_watch_output(&watch, ctx, CLCNN_FLOAT32, b_dims);
    const int pads[] = {536870000, 536870911, 1 << 28, 46341};
    for (size_t i = 0; i < sizeof pads / sizeof pads[0]; i++) {
        clcnn_status st = clcnn_conv_forward(ctx, a, w, b, 1, pads[i], z);
        ck_assert_msg(st == CLCNN_ERROR_SHAPE, "conv_forward pad %d: %s (%s)", pads[i], clcnn_status_string(st),
                      last_error(ctx));
        TEST_MESSAGE_HAS(ctx, "conv_forward");
        st = clcnn_conv_backward(ctx, z, a, w, 1, pads[i], NULL, NULL, z);
        ck_assert_msg(st == CLCNN_ERROR_SHAPE, "conv_backward pad %d: %s (%s)", pads[i], clcnn_status_string(st),
                      last_error(ctx));
    }
    test_watch_check(&watch, __LINE__, "the refused calls");
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(w);
    clcnn_tensor_destroy(b);
    kit_watch_release(&watch);
}
END_TEST

/* ---- item: failures in the middle ---- */

START_TEST(test_tensor_allocation_failure)
{
    clcnn_context *c = context_with_env("CLCNN_FAULT_INJECT", "alloc:3");
    refcount_model m = refcount_base(c); /* allocation 1 */
    const size_t dims[4] = {2, 3, 4, 5};
    clcnn_tensor *first = ramp(c, dims); /* allocation 2 */
    clcnn_tensor *t = (clcnn_tensor *)&t;
    TEST_STATUS_IS(c, clcnn_tensor_create(c, CLCNN_FLOAT32, dims, &t), CLCNN_ERROR_OUT_OF_MEMORY);
    ck_assert_msg(t == NULL, "*tensor not NULL after a failed allocation");
    TEST_MESSAGE_HAS(c, "tensor_create: allocating 480 bytes of device memory (clCreateBuffer) failed with "
                        "CL_MEM_OBJECT_ALLOCATION_FAILURE (-4); free other tensors or use smaller ones");
    check_no_cl_leak(c, &m, 1, 0, "a failed tensor allocation");
    /* The next allocation and the next op work. */
    clcnn_tensor *second = NULL;
    TEST_OK(c, clcnn_tensor_create(c, CLCNN_FLOAT32, dims, &second));
    check_relu_works(c, "a failed tensor allocation");
    clcnn_tensor_destroy(first);
    clcnn_tensor_destroy(second);
    clcnn_context_destroy(c);
}
END_TEST

/* The conv_backward case of the fault-injection tests. */
static const size_t fault_a_dims[4] = {2, 5, 5, 3}, fault_w_dims[4] = {3, 3, 3, 4}, fault_z_dims[4] = {2, 5, 5, 4};

START_TEST(test_workspace_allocation_failure)
{
    /* conv_backward's dA_prev needs a workspace (W transposed): allocation
     * 8, after the probe tensor of refcount_base and 6 tensors here. */
    clcnn_context *c = context_with_env("CLCNN_FAULT_INJECT", "alloc:8");
    refcount_model m = refcount_base(c);
    clcnn_tensor *a = ramp(c, fault_a_dims), *w = ramp(c, fault_w_dims), *dz = ramp(c, fault_z_dims);
    kit_watch watch = {0};
    clcnn_tensor *da = test_watch_output(&watch, c, CLCNN_FLOAT32, fault_a_dims);
    clcnn_tensor *dw = test_watch_output(&watch, c, CLCNN_FLOAT32, fault_w_dims);
    const size_t b_dims[4] = {1, 1, 1, 4};
    clcnn_tensor *db = test_watch_output(&watch, c, CLCNN_FLOAT32, b_dims);
    const unsigned long before = enqueues(c);
    TEST_FAILS_WITH(c, clcnn_conv_backward(c, dz, a, w, 1, 1, da, dw, db), CLCNN_ERROR_OUT_OF_MEMORY,
                    "conv_backward: allocating 432 bytes of device scratch memory (clCreateBuffer) failed with "
                    "CL_MEM_OBJECT_ALLOCATION_FAILURE (-4)");
    /* Everything that can fail comes before the first enqueue. */
    ck_assert_msg(enqueues(c) == before, "conv_backward enqueued %lu kernels before failing", enqueues(c) - before);
    test_watch_check(&watch, __LINE__, "conv_backward failed");
    /* The dA_prev program was built before the failure and stays cached;
     * the dW and db programs come after it and are not reached. */
    check_no_cl_leak(c, &m, 6, 1, "a failed workspace allocation");
    check_conv_backward_works(c, dz, a, w, fault_a_dims, fault_w_dims, fault_z_dims, "a failed workspace allocation");
    check_relu_works(c, "a failed workspace allocation");
    clcnn_tensor *made[] = {a, w, dz};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        clcnn_tensor_destroy(made[i]);
    kit_watch_release(&watch);
    /* conv_backward's three programs and relu's. */
    check_no_cl_leak(c, &m, 0, 4, "destroying the tensors");
    clcnn_context_destroy(c);
}
END_TEST

START_TEST(test_enqueue_failure)
{
    clcnn_context *c = context_with_env("CLCNN_FAULT_INJECT", "enqueue:2");
    refcount_model m = refcount_base(c);
    check_relu_works(c, "the first call"); /* enqueue 1: builds and caches relu */
    const size_t dims[4] = {2, 3, 4, 5};
    kit_watch watch = {0};
    clcnn_tensor *x = ramp(c, dims), *y = test_watch_output(&watch, c, CLCNN_FLOAT32, dims);
    TEST_STATUS_IS(c, clcnn_relu_forward(c, x, y), CLCNN_ERROR_OPENCL); /* enqueue 2 */
    TEST_MESSAGE_HAS(c, "relu_forward: clEnqueueNDRangeKernel failed with CL_OUT_OF_RESOURCES (-5); the device ran "
                        "out of resources");
    test_watch_check(&watch, __LINE__, "the failed enqueue");
    check_no_cl_leak(c, &m, 2, 1, "a failed enqueue");
    check_relu_works(c, "a failed enqueue");
    clcnn_tensor_destroy(x);
    kit_watch_release(&watch);
    clcnn_context_destroy(c);
}
END_TEST

START_TEST(test_enqueue_failure_mid_op)
{
    /* conv_backward with all gradients enqueues transpose, dA_prev, dW,
     * the dW sum, db and the db sum: the 3rd fails after two have run. Its
     * outputs may then hold partial results (dA_prev); the call must still
     * report the failure, and the context must go on working. */
    clcnn_context *c = context_with_env("CLCNN_FAULT_INJECT", "enqueue:3");
    refcount_model m = refcount_base(c);
    const size_t b_dims[4] = {1, 1, 1, 4};
    clcnn_tensor *a = ramp(c, fault_a_dims), *w = ramp(c, fault_w_dims), *dz = ramp(c, fault_z_dims);
    clcnn_tensor *da = test_tensor_out(c, CLCNN_FLOAT32, fault_a_dims);
    clcnn_tensor *dw = test_tensor_out(c, CLCNN_FLOAT32, fault_w_dims);
    clcnn_tensor *db = test_tensor_out(c, CLCNN_FLOAT32, b_dims);
    TEST_FAILS_WITH(c, clcnn_conv_backward(c, dz, a, w, 1, 1, da, dw, db), CLCNN_ERROR_OPENCL,
                    "conv_backward: clEnqueueNDRangeKernel failed with CL_OUT_OF_RESOURCES (-5)");
    ck_assert_int_eq(enqueues(c), 3);
    /* All three programs are built before the first enqueue. */
    check_no_cl_leak(c, &m, 6, 3, "a failed enqueue in the middle of conv_backward");
    check_conv_backward_works(c, dz, a, w, fault_a_dims, fault_w_dims, fault_z_dims, "a failed enqueue mid-op");
    clcnn_tensor *made[] = {a, w, dz, da, dw, db};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        clcnn_tensor_destroy(made[i]);
    clcnn_context_destroy(c);
}
END_TEST

START_TEST(test_fault_spec_refused)
{
    static const char *const bad[] = {"bogus", "alloc", "alloc:", "alloc:0", "alloc:x", "enqueue:3x", "free:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clcnn_context *c = NULL;
        ck_assert_int_eq(setenv("CLCNN_FAULT_INJECT", bad[i], 1), 0);
        clcnn_status st = clcnn_context_create(NULL, &c);
        unsetenv("CLCNN_FAULT_INJECT");
        ck_assert_msg(st == CLCNN_ERROR_INVALID_ARGUMENT, "CLCNN_FAULT_INJECT=%s: %s", bad[i], clcnn_status_string(st));
        char want[128];
        snprintf(want, sizeof want, "context_create: CLCNN_FAULT_INJECT is '%s'; this testing hook takes", bad[i]);
        TEST_MESSAGE_HAS(c, want);
        /* The failed context refuses ops with a message, and frees cleanly. */
        TEST_FAILS_WITH(c, clcnn_context_finish(c), CLCNN_ERROR_INVALID_ARGUMENT,
                        "context_finish: this context failed to be created and has no device; create a new one");
        clcnn_context_destroy(c);
    }
}
END_TEST

/* ---- kernel build failures (CLCNN_KERNEL_DIR) ---- */

static char *read_file(const char *path, size_t *length)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
    long size = ftell(fp);
    ck_assert_int_ge(size, 0);
    rewind(fp);
    char *text = test_alloc((size_t)size + 1);
    ck_assert_int_eq(fread(text, 1, (size_t)size, fp), (size_t)size);
    fclose(fp);
    text[size] = '\0';
    *length = (size_t)size;
    return text;
}

static void write_file(const char *path, const char *text, size_t length)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_int_eq(fwrite(text, 1, length, fp), length);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Copies the source tree's kernels/ into a new temporary directory. */
static void copy_kernels(char *dir_template)
{
    ck_assert_ptr_nonnull(mkdtemp(dir_template));
    DIR *dir = opendir(CLCNN_KERNELS_SOURCE_DIR);
    ck_assert_msg(dir != NULL, "cannot open %s", CLCNN_KERNELS_SOURCE_DIR);
    struct dirent *e;
    char from[4096], to[4096];
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t length;
        snprintf(from, sizeof from, "%s/%s", CLCNN_KERNELS_SOURCE_DIR, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir_template, e->d_name);
        char *text = read_file(from, &length);
        write_file(to, text, length);
        free(text);
    }
    closedir(dir);
}

static void remove_dir(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return;
    struct dirent *e;
    char file[4096];
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(file, sizeof file, "%s/%s", path, e->d_name);
        unlink(file);
    }
    closedir(dir);
    rmdir(path);
}

START_TEST(test_kernel_build_failure)
{
    char dir[] = "/tmp/clcnn_kernels_XXXXXX";
    copy_kernels(dir);
    char relu_path[4096], sgd_path[4096];
    snprintf(relu_path, sizeof relu_path, "%s/relu_forward.cl", dir);
    snprintf(sgd_path, sizeof sgd_path, "%s/sgd_update.cl", dir);
    size_t length;
    char *original = read_file(relu_path, &length);
    /* Valid up to the end, then not C: a build error with a log. */
    size_t broken_length = length + 64;
    char *broken = test_alloc(broken_length + 1);
    snprintf(broken, broken_length + 1, "%sthis_is_not_opencl c;\n", original);
    write_file(relu_path, broken, strlen(broken));
    ck_assert_int_eq(unlink(sgd_path), 0);

    clcnn_context *c = context_with_env("CLCNN_KERNEL_DIR", dir);
    refcount_model m = refcount_base(c);
    const size_t dims[4] = {2, 3, 4, 5};
    kit_watch watch = {0};
    clcnn_tensor *x = ramp(c, dims), *y = test_watch_output(&watch, c, CLCNN_FLOAT32, dims);
    char want[8192];
    for (int attempt = 0; attempt < 2; attempt++) { /* a failed build is not cached */
        TEST_STATUS_IS(c, clcnn_relu_forward(c, x, y), CLCNN_ERROR_KERNEL_BUILD);
        snprintf(want, sizeof want,
                 "relu_forward: building %s (from CLCNN_KERNEL_DIR; fix it or unset CLCNN_KERNEL_DIR) for float32 "
                 "failed with CL_BUILD_PROGRAM_FAILURE",
                 relu_path);
        TEST_MESSAGE_HAS(c, want);
        TEST_MESSAGE_HAS(c, "build log:\n");
        TEST_MESSAGE_HAS(c, "this_is_not_opencl");
        ck_assert_int_eq(enqueues(c), 0);
        test_watch_check(&watch, __LINE__, "the failed build");
        check_no_cl_leak(c, &m, 2, 0, "a failed kernel build");
    }
    /* A missing file. */
    clcnn_tensor *g = ramp(c, dims);
    TEST_STATUS_IS(c, clcnn_sgd_update(c, y, g, NULL, 0.1, 0.0, 0.0), CLCNN_ERROR_KERNEL_BUILD);
    snprintf(want, sizeof want, "sgd_update: cannot read kernel source %s (CLCNN_KERNEL_DIR=%s); unset", sgd_path, dir);
    TEST_MESSAGE_HAS(c, want);
    test_watch_check(&watch, __LINE__, "the missing kernel file");
    check_no_cl_leak(c, &m, 3, 0, "a missing kernel file");
    /* Other kernels of the same context still build and run. */
    const size_t pad_dims[4] = {2, 5, 6, 5};
    clcnn_tensor *x_pad = test_tensor_out(c, CLCNN_FLOAT32, pad_dims);
    TEST_OK(c, clcnn_zero_pad(c, x, 1, x_pad));
    double *got = test_alloc_doubles(kit_elements(pad_dims));
    double *hx = test_alloc_doubles(kit_elements(dims));
    double *ref = test_alloc_doubles(kit_elements(pad_dims));
    test_tensor_get(c, x, hx);
    clcnn_ref_zero_pad(hx, dims, 1, ref);
    test_tensor_get(c, x_pad, got);
    ck_assert_int_eq(check_close("kernel_build_failure", "zero_pad", got, ref, NULL, kit_elements(pad_dims), 0), 0);
    /* Fixed on disk, the same context builds it. */
    write_file(relu_path, original, length);
    check_relu_works(c, "a fixed kernel file");
    check_no_cl_leak(c, &m, 4, 2, "fixing the kernel file");
    free(got);
    free(hx);
    free(ref);
    free(original);
    free(broken);
    clcnn_tensor_destroy(x);
    kit_watch_release(&watch);
    clcnn_tensor_destroy(g);
    clcnn_tensor_destroy(x_pad);
    clcnn_context_destroy(c);
    remove_dir(dir);
}
END_TEST

/* ---- threads: one context per thread, all at once ---- */

typedef struct thread_job {
    int index;
    int failures;
    char report[1024];
} thread_job;

static void job_fail(thread_job *job, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_fail(thread_job *job, const char *fmt, ...)
{
    if (job->failures++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(job->report, sizeof job->report, fmt, ap);
        va_end(ap);
    }
}

/* Thread-safe (no Check asserts): a float32 tensor holding v, or NULL. */
static clcnn_tensor *job_tensor(thread_job *job, clcnn_context *c, const size_t dims[4], const double *v)
{
    size_t n = kit_elements(dims);
    clcnn_tensor *t = NULL;
    float *f = malloc(n * sizeof *f);
    if (f == NULL || clcnn_tensor_create(c, CLCNN_FLOAT32, dims, &t) != CLCNN_OK) {
        job_fail(job, "thread %d: tensor_create: %s", job->index, last_error(c));
        free(f);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        f[i] = v ? (float)v[i] : NAN;
    if (clcnn_tensor_write(t, f, n * sizeof *f) != CLCNN_OK)
        job_fail(job, "thread %d: tensor_write: %s", job->index, last_error(c));
    free(f);
    return t;
}

static void job_compare(thread_job *job, clcnn_context *c, const char *what, int round, const clcnn_tensor *t,
                        const double *ref, const double *bound, size_t n)
{
    float *f = malloc(n * sizeof *f);
    if (f == NULL || clcnn_tensor_read(t, f, n * sizeof *f) != CLCNN_OK) {
        job_fail(job, "thread %d round %d: reading %s: %s", job->index, round, what, last_error(c));
        free(f);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        double allowed = bound ? bound[i] : 0.0;
        if (!kit_within((double)f[i], ref[i], allowed)) {
            char text[160];
            job_fail(job, "thread %d round %d: %s[%zu]: %s, bound %a", job->index, round, what, i,
                     kit_mismatch_text(text, sizeof text, (double)f[i], ref[i]), allowed);
            break;
        }
    }
    free(f);
}

static void *thread_main(void *arg)
{
    thread_job *job = arg;
    clcnn_context *c = NULL;
    if (clcnn_context_create(NULL, &c) != CLCNN_OK) {
        job_fail(job, "thread %d: context_create: %s", job->index, last_error(c));
        clcnn_context_destroy(c);
        return NULL;
    }
    kit_rng rng;
    kit_rng_init(&rng, test_case_seed(1000u + (unsigned)job->index));
    for (int round = 0; round < THREAD_ROUNDS && job->failures == 0; round++) {
        /* Shapes differ by thread and round, so the threads build
         * different programs at the same time. */
        const size_t c_in = 1 + (size_t)((job->index + round) % 5), c_out = 1 + (size_t)((job->index * 3 + round) % 7);
        const size_t f = 1 + (size_t)(round % 3);
        const size_t a_dims[4] = {2, 6 + (size_t)job->index, 5 + (size_t)round, c_in};
        const size_t w_dims[4] = {f, f, c_in, c_out}, b_dims[4] = {1, 1, 1, c_out};
        size_t z_dims[4], p_dims[4];
        clcnn_ref_conv_output_dims(a_dims, w_dims, 1, 1, z_dims);
        clcnn_ref_pool_output_dims(z_dims, 2, 2, p_dims);
        const size_t na = kit_elements(a_dims), nw = kit_elements(w_dims), nz = kit_elements(z_dims);
        const size_t np = kit_elements(p_dims);
        double *a = malloc(na * sizeof *a), *w = malloc(nw * sizeof *w), *b = malloc(c_out * sizeof *b);
        double *z = malloc(nz * sizeof *z), *zb = malloc(nz * sizeof *zb), *r = malloc(nz * sizeof *r);
        double *p = malloc(np * sizeof *p);
        double *abs_a = malloc(na * sizeof *abs_a), *abs_w = malloc(nw * sizeof *abs_w);
        double *abs_b = malloc(c_out * sizeof *abs_b);
        if (!a || !w || !b || !z || !zb || !r || !p || !abs_a || !abs_w || !abs_b) {
            job_fail(job, "thread %d: out of host memory", job->index);
        } else {
            kit_rng_fill(&rng, CLCNN_FLOAT32, KIT_NORMAL, a, na);
            kit_rng_fill(&rng, CLCNN_FLOAT32, KIT_NORMAL, w, nw);
            kit_rng_fill(&rng, CLCNN_FLOAT32, KIT_NORMAL, b, c_out);
            clcnn_tensor *ta = job_tensor(job, c, a_dims, a), *tw = job_tensor(job, c, w_dims, w);
            clcnn_tensor *tb = job_tensor(job, c, b_dims, b), *tz = job_tensor(job, c, z_dims, NULL);
            clcnn_tensor *tr = job_tensor(job, c, z_dims, NULL), *tp = job_tensor(job, c, p_dims, NULL);
            if (job->failures == 0 &&
                (clcnn_conv_forward(c, ta, tw, tb, 1, 1, tz) != CLCNN_OK || clcnn_relu_forward(c, tz, tr) != CLCNN_OK ||
                 clcnn_pool_forward(c, tr, 2, 2, CLCNN_POOL_MAX, tp) != CLCNN_OK))
                job_fail(job, "thread %d round %d: %s", job->index, round, last_error(c));
            if (job->failures == 0) {
                clcnn_ref_conv_forward(a, a_dims, w, w_dims, b, 1, 1, z);
                kit_abs(a, abs_a, na);
                kit_abs(w, abs_w, nw);
                kit_abs(b, abs_b, c_out);
                clcnn_ref_conv_forward(abs_a, a_dims, abs_w, w_dims, abs_b, 1, 1, zb);
                kit_tolerance_bounds(CLCNN_FLOAT32, zb, zb, nz);
                job_compare(job, c, "conv_forward z", round, tz, z, zb, nz);
                /* ReLU and max pooling of the device's own z are exact. */
                float *zf = malloc(nz * sizeof *zf);
                if (zf && clcnn_tensor_read(tz, zf, nz * sizeof *zf) == CLCNN_OK) {
                    for (size_t i = 0; i < nz; i++)
                        z[i] = zf[i];
                    clcnn_ref_relu_forward(z, nz, r);
                    clcnn_ref_pool_forward(r, z_dims, 2, 2, CLCNN_POOL_MAX, p);
                    job_compare(job, c, "relu_forward", round, tr, r, NULL, nz);
                    job_compare(job, c, "pool_forward max", round, tp, p, NULL, np);
                } else {
                    job_fail(job, "thread %d round %d: reading z: %s", job->index, round, last_error(c));
                }
                free(zf);
            }
            clcnn_tensor *made[] = {ta, tw, tb, tz, tr, tp};
            for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
                clcnn_tensor_destroy(made[i]);
        }
        double *arrays[] = {a, w, b, z, zb, r, p, abs_a, abs_w, abs_b};
        for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
            free(arrays[i]);
    }
    clcnn_context_destroy(c);
    return NULL;
}

START_TEST(test_threads_own_contexts)
{
    pthread_t threads[THREADS];
    thread_job jobs[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].index = i;
        ck_assert_int_eq(pthread_create(&threads[i], NULL, thread_main, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < THREADS; i++)
        ck_assert_msg(jobs[i].failures == 0, "%s (%d failures)", jobs[i].report, jobs[i].failures);
}
END_TEST

/* ---- error message wording ---- */

START_TEST(test_message_wording)
{
    const size_t dims[4] = {2, 3, 4, 5}, other_dims[4] = {2, 3, 4, 6}, zero_dims[4] = {2, 3, 0, 4};
    clcnn_tensor *x = ramp(ctx, dims), *y = test_tensor_out(ctx, CLCNN_FLOAT32, other_dims);
    clcnn_tensor *t = NULL;

    ck_assert_str_eq(clcnn_status_string(CLCNN_ERROR_SHAPE),
                     "CLCNN_ERROR_SHAPE: tensor dimensions disagree, the window does not fit, or a size overflows");
    TEST_FAILS_WITH(ctx, clcnn_tensor_create(ctx, CLCNN_FLOAT32, zero_dims, &t), CLCNN_ERROR_SHAPE,
                    "tensor_create: dims[2] is 0 (dims 2 x 3 x 0 x 4); every dimension must be at least 1");
    TEST_FAILS_WITH(ctx, clcnn_tensor_create(ctx, (clcnn_dtype)7, dims, &t), CLCNN_ERROR_INVALID_ARGUMENT,
                    "tensor_create: unknown dtype 7 (use CLCNN_FLOAT32, CLCNN_FLOAT64, CLCNN_FLOAT16 or "
                    "CLCNN_BFLOAT16)");
    float buffer[8];
    TEST_FAILS_WITH(ctx, clcnn_tensor_write(x, buffer, sizeof buffer), CLCNN_ERROR_INVALID_ARGUMENT,
                    "tensor_write: bytes is 32 but the 2 x 3 x 4 x 5 float32 tensor holds 480 bytes");

    TEST_FAILS_WITH(ctx, clcnn_relu_forward(ctx, x, y), CLCNN_ERROR_SHAPE,
                    "relu_forward: y is 2 x 3 x 4 x 6 but must be 2 x 3 x 4 x 5");
    TEST_FAILS_WITH(ctx, clcnn_relu_forward(ctx, x, x), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_forward: y is also x; an output may not alias an input or another output");
    TEST_FAILS_WITH(ctx, clcnn_relu_forward(ctx, x, NULL), CLCNN_ERROR_INVALID_ARGUMENT, "relu_forward: y is NULL");
    TEST_STATUS_IS(ctx, clcnn_sgd_update(ctx, x, y, NULL, 0.1, 0.9, 0.0), CLCNN_ERROR_SHAPE);
    clcnn_tensor *g = ramp(ctx, dims);
    TEST_FAILS_WITH(ctx, clcnn_sgd_update(ctx, x, g, NULL, 0.1, 0.9, 0.0), CLCNN_ERROR_INVALID_ARGUMENT,
                    "sgd_update: velocity is NULL but momentum is 0.9; momentum needs a velocity tensor "
                    "(start it at zero)");
    TEST_FAILS_WITH(ctx, clcnn_sgd_update(ctx, x, g, NULL, -1.0, 0.0, 0.0), CLCNN_ERROR_INVALID_ARGUMENT,
                    "sgd_update: lr is -1; it must be finite and at least 0");

    if (clcnn_context_supports_dtype(ctx, CLCNN_FLOAT64)) {
        clcnn_tensor *x64 = NULL;
        TEST_OK(ctx, clcnn_tensor_create(ctx, CLCNN_FLOAT64, dims, &x64));
        TEST_FAILS_WITH(ctx, clcnn_relu_backward(ctx, x, x64, g), CLCNN_ERROR_INVALID_ARGUMENT,
                        "relu_backward: x is float64 but the call's first input is float32; all tensors of a "
                        "call must have the same dtype");
        clcnn_tensor_destroy(x64);
    }

    /* conv and pool (their files' wording, as of this test). */
    const size_t a_dims[4] = {1, 2, 2, 4}, w_dims[4] = {5, 5, 3, 2};
    clcnn_tensor *a = ramp(ctx, a_dims), *w = ramp(ctx, w_dims);
    TEST_FAILS_WITH(ctx, clcnn_conv_forward(ctx, a, w, g, 1, 1, y), CLCNN_ERROR_SHAPE,
                    "conv_forward: w has 3 input channels (dims[2]) but a_prev has 4");
    TEST_FAILS_WITH(ctx, clcnn_pool_forward(ctx, a, 2, 0, CLCNN_POOL_MAX, y), CLCNN_ERROR_INVALID_ARGUMENT,
                    "pool_forward: stride is 0; it must be at least 1");
    TEST_FAILS_WITH(ctx, clcnn_pool_forward(ctx, a, 2, 1, (clcnn_pool_mode)7, y), CLCNN_ERROR_INVALID_ARGUMENT,
                    "pool_forward: mode is 7; use CLCNN_POOL_MAX (0) or CLCNN_POOL_AVERAGE (1)");

    /* Tensors of another context. */
    clcnn_context *other = NULL;
    TEST_OK(other, clcnn_context_create(NULL, &other));
    clcnn_tensor *foreign = ramp(other, dims);
    TEST_FAILS_WITH(ctx, clcnn_relu_forward(ctx, x, foreign), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_forward: y belongs to another context; all tensors of a call must share one");
    clcnn_tensor_destroy(foreign);
    clcnn_context_destroy(other);

    /* A device that is not there, and a context that failed. */
    clcnn_context *none = NULL;
    TEST_FAILS_WITH(none, clcnn_context_create("no-such-device-xyz", &none), CLCNN_ERROR_NO_DEVICE,
                    "context_create: no device matches argument 'no-such-device-xyz'; found: ");
    TEST_MESSAGE_HAS(none, "pocl-opencl-icd");
    TEST_FAILS_WITH(none, clcnn_zero_pad(none, x, 1, y), CLCNN_ERROR_INVALID_ARGUMENT,
                    "zero_pad: this context failed to be created and has no device; create a new one");
    clcnn_context_destroy(none);

    clcnn_tensor *made[] = {x, y, g, a, w};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
        clcnn_tensor_destroy(made[i]);
}
END_TEST

static Suite *reliability_suite(void)
{
    Suite *s = suite_create("reliability");
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_size_t_overflow_refused);
    tcase_add_test(limits, test_max_alloc_refused);
    tcase_add_test(limits, test_32bit_indexing_limit);
    tcase_set_timeout(limits, 300);
    suite_add_tcase(s, limits);
    TCase *failures = tcase_create("failures");
    tcase_add_test(failures, test_tensor_allocation_failure);
    tcase_add_test(failures, test_workspace_allocation_failure);
    tcase_add_test(failures, test_enqueue_failure);
    tcase_add_test(failures, test_enqueue_failure_mid_op);
    tcase_add_test(failures, test_fault_spec_refused);
    tcase_add_test(failures, test_kernel_build_failure);
    tcase_set_timeout(failures, 300);
    suite_add_tcase(s, failures);
    TCase *threads = tcase_create("threads");
    tcase_add_test(threads, test_threads_own_contexts);
    tcase_set_timeout(threads, 600);
    suite_add_tcase(s, threads);
    TCase *messages = tcase_create("messages");
    tcase_add_test(messages, test_message_wording);
    tcase_set_timeout(messages, 300);
    suite_add_tcase(s, messages);
    /* Last: under UBSan an overflow here aborts the process. */
    TCase *overflow = tcase_create("conv_overflow");
    tcase_add_test(overflow, test_conv_output_size_overflow);
    suite_add_tcase(s, overflow);
    return s;
}

int main(void)
{
    return test_main(&ctx, reliability_suite);
}
