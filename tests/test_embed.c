/* clcnn inside a caller's OpenCL program (clcnn_cl.h): contexts on the
 * caller's queue, tensors over the caller's buffers at offsets, the
 * reference counts of the caller's objects, every refusal with its
 * message, and the guarantees every context keeps (validation before
 * enqueue, program cache, workspace, tuning, fault injection, aliasing).
 *
 * Black box: only clcnn.h, clcnn_cl.h and OpenCL. Values are small
 * multiples of 1/4, so every result below is exact in both dtypes and
 * compared with the CPU reference bit for bit. */
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv */
#define CL_TARGET_OPENCL_VERSION 120

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clcnn_cl.h"
#include "clcnn_reference.h"
#include "test_util.h"

/* The caller's OpenCL objects every test shares: the device clcnn would
 * choose (CLCNN_DEVICE honoured), a cl_context and an in-order queue. */
static cl_device_id device;
static cl_context cl_ctx;
static cl_command_queue queue;
static size_t align; /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes */
static int has_fp64;

#define CL_OK(call)                                                                                                    \
    do {                                                                                                               \
        cl_int cl_ok_err_ = (call);                                                                                    \
        ck_assert_msg(cl_ok_err_ == CL_SUCCESS, "%s failed with OpenCL error %d", #call, (int)cl_ok_err_);             \
    } while (0)

/* ---- helpers ---- */

static cl_uint mem_refs(cl_mem m)
{
    cl_uint n = 0;
    CL_OK(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof n, &n, NULL));
    return n;
}

static cl_uint queue_refs(cl_command_queue q)
{
    cl_uint n = 0;
    CL_OK(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof n, &n, NULL));
    return n;
}

static cl_uint context_refs(cl_context c)
{
    cl_uint n = 0;
    CL_OK(clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL));
    return n;
}

/* An implementation may drop its finished commands' hold on a queue,
 * context or buffer from a thread of its own, a moment after they finish:
 * on a loaded machine a count read at once can still include them (seen
 * on POCL with every core busy, before and after a context's life). So a
 * count is read once it has held still for 50 ms (SETTLED_REFS, at most
 * 2 s), and a count expected to return waits up to 2 s for it
 * (EXPECT_REFS). A leaked reference never goes, so either still fails. */
static void pause_10ms(void)
{
    nanosleep(&(struct timespec){.tv_nsec = 10000000}, NULL);
}
#define SETTLED_REFS(var, count)                                                                                       \
    do {                                                                                                               \
        (var) = (count);                                                                                               \
        for (int same_ = 0, tries_ = 0; same_ < 5 && tries_ < 200; tries_++) {                                         \
            pause_10ms();                                                                                              \
            const cl_uint now_ = (count);                                                                              \
            same_ = now_ == (var) ? same_ + 1 : 0;                                                                     \
            (var) = now_;                                                                                              \
        }                                                                                                              \
    } while (0)
#define EXPECT_REFS(count, want)                                                                                       \
    do {                                                                                                               \
        cl_uint got_ = (count);                                                                                        \
        for (int tries_ = 0; tries_ < 200 && got_ != (cl_uint)(want); tries_++) {                                      \
            pause_10ms();                                                                                              \
            got_ = (count);                                                                                            \
        }                                                                                                              \
        ck_assert_uint_eq(got_, (want));                                                                               \
    } while (0)

static cl_mem new_buffer(cl_context c, cl_mem_flags flags, size_t bytes)
{
    cl_int err;
    cl_mem m = clCreateBuffer(c, flags, bytes, NULL, &err);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer(%zu bytes) failed with %d", bytes, (int)err);
    return m;
}

static clcnn_context *from_queue(cl_command_queue q)
{
    clcnn_context *c = NULL;
    clcnn_status st = clcnn_context_create_from_queue(q, &c);
    ck_assert_msg(st == CLCNN_OK, "clcnn_context_create_from_queue: %s (%s)", clcnn_status_string(st),
                  clcnn_context_last_error(c));
    return c;
}

static size_t elements(const size_t dims[4])
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

/* Small multiples of 1/4 from a seed: exact in float32, and so are the
 * sums and products of a few of them. */
static void fill_quarters(double *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        v[i] = (double)((int)((i * 7 + seed * 13) % 9) - 4) * 0.25;
}

/* Writes doubles into a tensor of either dtype. */
static void put(clcnn_context *c, clcnn_tensor *t, const double *v)
{
    test_tensor_set(c, t, v);
}

/* Reads n elements of dtype from buffer at byte offset into doubles (the
 * caller's view of the bytes, not clcnn's). */
static void read_buffer(cl_mem m, size_t offset, clcnn_dtype dtype, double *out, size_t n)
{
    const size_t size = dtype == CLCNN_FLOAT64 ? 8 : 4;
    void *raw = test_alloc(n * size);
    CL_OK(clEnqueueReadBuffer(queue, m, CL_TRUE, offset, n * size, raw, 0, NULL, NULL));
    for (size_t i = 0; i < n; i++)
        out[i] = dtype == CLCNN_FLOAT64 ? ((double *)raw)[i] : (double)((float *)raw)[i];
    free(raw);
}

static void expect_equal(const char *what, const double *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s[%zu] = %.17g, expected %.17g", what, i, got[i], want[i]);
}

static int dtype_count(void)
{
    return has_fp64 ? 2 : 1;
}

/* ---- contexts on the caller's queue ---- */

START_TEST(test_context_from_queue)
{
    cl_uint queue_before, context_before;
    SETTLED_REFS(queue_before, queue_refs(queue));
    SETTLED_REFS(context_before, context_refs(cl_ctx));
    clcnn_context *c = from_queue(queue);
    ck_assert_ptr_eq(clcnn_context_queue(c), queue);
    ck_assert_uint_gt(queue_refs(queue), queue_before);

    /* The same device facts, tuning and dtypes as a context clcnn makes
     * for the same device. */
    clcnn_context *own = NULL;
    TEST_OK(own, clcnn_context_create(NULL, &own));
    ck_assert_str_eq(clcnn_context_device_name(c), clcnn_context_device_name(own));
    ck_assert_str_eq(clcnn_context_config(c), clcnn_context_config(own));
    ck_assert_int_eq(clcnn_context_supports_dtype(c, CLCNN_FLOAT64), has_fp64);
    ck_assert_ptr_nonnull(clcnn_context_queue(own));
    ck_assert_ptr_ne(clcnn_context_queue(own), queue);
    clcnn_context_destroy(own);

    /* clcnn's own tensors in the caller's cl_context, a convolution and its
     * gradients against the reference. */
    const size_t a_dims[4] = {2, 5, 4, 3}, w_dims[4] = {3, 2, 3, 4}, b_dims[4] = {1, 1, 1, 4};
    const int stride = 2, pad = 1;
    size_t z_dims[4];
    ck_assert_int_eq(clcnn_ref_conv_output_dims(a_dims, w_dims, stride, pad, z_dims), 0);
    double a[120], w[72], b[4], dw_ref[72], dw[72], da_ref[120], da[120];
    double *z_ref = test_alloc_doubles(elements(z_dims)), *z = test_alloc_doubles(elements(z_dims));
    fill_quarters(a, elements(a_dims), 1);
    fill_quarters(w, elements(w_dims), 2);
    fill_quarters(b, 4, 3);
    clcnn_ref_conv_forward(a, a_dims, w, w_dims, b, stride, pad, z_ref);
    clcnn_ref_conv_backward(z_ref, a, a_dims, w, w_dims, stride, pad, da_ref, dw_ref, NULL);
    clcnn_tensor *ta = test_tensor_from(c, CLCNN_FLOAT32, a_dims, a);
    clcnn_tensor *tw = test_tensor_from(c, CLCNN_FLOAT32, w_dims, w);
    clcnn_tensor *tb = test_tensor_from(c, CLCNN_FLOAT32, b_dims, b);
    clcnn_tensor *tz = test_tensor_out(c, CLCNN_FLOAT32, z_dims);
    clcnn_tensor *tdw = test_tensor_out(c, CLCNN_FLOAT32, w_dims);
    clcnn_tensor *tda = test_tensor_out(c, CLCNN_FLOAT32, a_dims);
    size_t offset = 99;
    ck_assert_ptr_nonnull(clcnn_tensor_buffer(ta, &offset));
    ck_assert_uint_eq(offset, 0);

    TEST_OK(c, clcnn_conv_forward(c, ta, tw, tb, stride, pad, tz));
    TEST_OK(c, clcnn_context_finish(c));
    /* The program cache: the same op again builds nothing and allocates
     * nothing (on platforms whose context count includes programs and
     * buffers, as POCL's does, a new one would show here). */
    cl_uint after_first;
    SETTLED_REFS(after_first, context_refs(cl_ctx));
    TEST_OK(c, clcnn_conv_forward(c, ta, tw, tb, stride, pad, tz));
    TEST_OK(c, clcnn_context_finish(c));
    EXPECT_REFS(context_refs(cl_ctx), after_first);
    test_tensor_get(c, tz, z);
    expect_equal("z", z, z_ref, elements(z_dims));

    /* dA of a strided 3x2 window uses the context's workspace (W rearranged
     * for the gather), allocated in the caller's cl_context. */
    TEST_OK(c, clcnn_conv_backward(c, tz, ta, tw, stride, pad, tda, tdw, NULL));
    test_tensor_get(c, tdw, dw);
    expect_equal("dw", dw, dw_ref, elements(w_dims));
    test_tensor_get(c, tda, da);
    expect_equal("da", da, da_ref, elements(a_dims));
    ck_assert_uint_gt(clcnn_context_workspace_bytes(c), 0);
    ck_assert_str_eq(clcnn_context_build_warnings(c), "");

    /* Validation before enqueue, with the usual message. */
    TEST_FAILS_WITH(c, clcnn_conv_forward(c, ta, tw, tb, 0, pad, tz), CLCNN_ERROR_INVALID_ARGUMENT,
                    "conv_forward: stride is 0");

    TEST_DESTROY(ta, tw, tb, tz, tdw, tda);
    free(z_ref);
    free(z);
    clcnn_context_destroy(c);
    EXPECT_REFS(queue_refs(queue), queue_before);
    EXPECT_REFS(context_refs(cl_ctx), context_before);
}
END_TEST

START_TEST(test_context_from_queue_refusals)
{
    /* No queue: *ctx still holds the reason. */
    clcnn_context *c = NULL;
    TEST_STATUS_IS(c, clcnn_context_create_from_queue(NULL, &c), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(c);
    TEST_MESSAGE_HAS(c, "context_create_from_queue: queue is NULL");
    ck_assert_ptr_null(clcnn_context_queue(c));
    /* A failed context refuses everything, with its own message. */
    clcnn_tensor *t = (clcnn_tensor *)&c; /* not NULL: the call must clear it */
    const size_t dims[4] = {1, 1, 1, 1};
    cl_mem m = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 64);
    TEST_STATUS_IS(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, m, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_null(t);
    TEST_MESSAGE_HAS(c, "tensor_wrap: this context failed to be created");
    EXPECT_REFS(mem_refs(m), 1);
    clcnn_context_destroy(c);
    CL_OK(clReleaseMemObject(m));
    TEST_STATUS_IS(NULL, clcnn_context_create_from_queue(queue, NULL), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_null(clcnn_context_queue(NULL));

    /* An out-of-order queue: unsupported, and not retained. */
    cl_int err;
    cl_command_queue ooo = clCreateCommandQueue(cl_ctx, device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err != CL_SUCCESS) {
        printf("note: this device makes no out-of-order queues (%d); that refusal is not tested\n", (int)err);
        return;
    }
    cl_uint before, context_before;
    SETTLED_REFS(before, queue_refs(ooo));
    SETTLED_REFS(context_before, context_refs(cl_ctx));
    c = NULL;
    TEST_STATUS_IS(c, clcnn_context_create_from_queue(ooo, &c), CLCNN_ERROR_UNSUPPORTED);
    ck_assert_ptr_nonnull(c);
    TEST_MESSAGE_HAS(c, "context_create_from_queue: the queue is out-of-order "
                        "(CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)");
    EXPECT_REFS(queue_refs(ooo), before);
    EXPECT_REFS(context_refs(cl_ctx), context_before);
    ck_assert_ptr_null(clcnn_context_queue(c));
    clcnn_context_destroy(c);
    EXPECT_REFS(queue_refs(ooo), before);
    CL_OK(clReleaseCommandQueue(ooo));
}
END_TEST

/* ---- tensors over the caller's buffers ---- */

/* A convolution whose four tensors lie at aligned offsets in one buffer of
 * the caller's, written and read both through clcnn and directly; bytes
 * between and after the tensors keep the caller's sentinel. */
START_TEST(test_wrap_at_offsets)
{
    const clcnn_dtype dtype = _i == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
    const size_t esize = dtype == CLCNN_FLOAT64 ? 8 : 4;
    clcnn_context *c = from_queue(queue);
    const size_t a_dims[4] = {2, 4, 5, 3}, w_dims[4] = {2, 3, 3, 5}, b_dims[4] = {1, 1, 1, 5};
    const int stride = 1, pad = 1;
    size_t z_dims[4];
    ck_assert_int_eq(clcnn_ref_conv_output_dims(a_dims, w_dims, stride, pad, z_dims), 0);
    const size_t *dims[4] = {a_dims, w_dims, b_dims, z_dims};
    size_t offsets[4], end = 0;
    for (int k = 0; k < 4; k++) {
        /* The first tensor at 0 (the buffer itself), the others one
         * alignment unit past the previous end (gaps to check). */
        offsets[k] = k == 0 ? 0 : (end / align + 2) * align;
        end = offsets[k] + elements(dims[k]) * esize;
    }
    const size_t total = end + align;
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, total);
    const unsigned char sentinel = 0xA5;
    unsigned char *pattern = test_alloc(total);
    memset(pattern, sentinel, total);
    CL_OK(clEnqueueWriteBuffer(queue, buffer, CL_TRUE, 0, total, pattern, 0, NULL, NULL));
    cl_uint refs_before;
    SETTLED_REFS(refs_before, mem_refs(buffer));

    clcnn_tensor *t[4];
    for (int k = 0; k < 4; k++) {
        TEST_OK(c, clcnn_tensor_wrap(c, dtype, dims[k], buffer, offsets[k], &t[k]));
        size_t got_offset = 1;
        ck_assert_ptr_eq(clcnn_tensor_buffer(t[k], &got_offset), buffer);
        ck_assert_uint_eq(got_offset, offsets[k]);
        size_t got_dims[4];
        clcnn_tensor_dims(t[k], got_dims);
        ck_assert_mem_eq(got_dims, dims[k], sizeof got_dims);
    }
    ck_assert_uint_gt(mem_refs(buffer), refs_before);

    const size_t nz = elements(z_dims);
    double a[120], w[90], b[5];
    double *z_ref = test_alloc_doubles(nz), *z = test_alloc_doubles(nz), *zb = test_alloc_doubles(nz);
    fill_quarters(a, elements(a_dims), 4);
    fill_quarters(w, elements(w_dims), 5);
    fill_quarters(b, 5, 6);
    put(c, t[0], a);
    put(c, t[1], w);
    put(c, t[2], b);
    clcnn_ref_conv_forward(a, a_dims, w, w_dims, b, stride, pad, z_ref);
    TEST_OK(c, clcnn_conv_forward(c, t[0], t[1], t[2], stride, pad, t[3]));
    test_tensor_get(c, t[3], z);
    expect_equal("z (clcnn_tensor_read)", z, z_ref, elements(z_dims));
    read_buffer(buffer, offsets[3], dtype, zb, elements(z_dims));
    expect_equal("z (the caller's buffer at its offset)", zb, z_ref, elements(z_dims));
    /* The inputs went where the caller's view expects them. */
    double back[120];
    read_buffer(buffer, offsets[0], dtype, back, elements(a_dims));
    expect_equal("a_prev (the caller's buffer)", back, a, elements(a_dims));

    /* Nothing outside the tensors was written. */
    unsigned char *now = test_alloc(total);
    CL_OK(clEnqueueReadBuffer(queue, buffer, CL_TRUE, 0, total, now, 0, NULL, NULL));
    for (size_t i = 0; i < total; i++) {
        int inside = 0;
        for (int k = 0; k < 4; k++)
            inside |= i >= offsets[k] && i < offsets[k] + elements(dims[k]) * esize;
        if (!inside)
            ck_assert_msg(now[i] == sentinel, "byte %zu outside every tensor changed to 0x%02x", i, now[i]);
    }
    free(now);
    free(pattern);
    free(z_ref);
    free(z);
    free(zb);

    for (int k = 0; k < 4; k++)
        clcnn_tensor_destroy(t[k]);
    CL_OK(clFinish(queue));
    EXPECT_REFS(mem_refs(buffer), refs_before);
    clcnn_context_destroy(c);
    CL_OK(clReleaseMemObject(buffer));
}
END_TEST

/* The counts of the caller's buffer, queue and context return to where
 * they were; a caller's sub-buffer can be wrapped (at an offset too); a
 * tensor keeps the caller's buffer alive after the caller releases it. */
START_TEST(test_wrap_reference_counts)
{
    cl_uint queue_before, context_before;
    SETTLED_REFS(queue_before, queue_refs(queue));
    SETTLED_REFS(context_before, context_refs(cl_ctx));
    clcnn_context *c = from_queue(queue);
    const size_t dims[4] = {1, 3, 3, 2};
    const size_t bytes = elements(dims) * sizeof(float);
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 4 * align + bytes);
    cl_uint before;
    SETTLED_REFS(before, mem_refs(buffer));
    clcnn_tensor *at0 = NULL, *at1 = NULL;
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, &at0));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, align, &at1));
    ck_assert_uint_ge(mem_refs(buffer), before + 2);
    TEST_DESTROY(at0, at1);
    CL_OK(clFinish(queue));
    EXPECT_REFS(mem_refs(buffer), before);

    /* A sub-buffer of the caller's, wrapped at 0 and at an offset. */
    const cl_buffer_region region = {align, 3 * align + bytes};
    cl_int err;
    cl_mem sub = clCreateSubBuffer(buffer, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    CL_OK(err);
    cl_uint sub_before, parent_before;
    SETTLED_REFS(sub_before, mem_refs(sub));
    SETTLED_REFS(parent_before, mem_refs(buffer));
    clcnn_tensor *x = NULL, *y = NULL;
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, sub, 0, &x));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, sub, 2 * align, &y));
    ck_assert_uint_ge(mem_refs(sub), sub_before + 2);
    size_t offset = 0;
    ck_assert_ptr_eq(clcnn_tensor_buffer(y, &offset), sub);
    ck_assert_uint_eq(offset, 2 * align);
    double v[18], out[18], want[18];
    fill_quarters(v, 18, 7);
    clcnn_ref_relu_forward(v, 18, want);
    put(c, x, v);
    TEST_OK(c, clcnn_relu_forward(c, x, y));
    test_tensor_get(c, y, out);
    expect_equal("relu(x) through a caller's sub-buffer", out, want, 18);
    /* y starts at byte align + 2 * align of the parent. */
    read_buffer(buffer, 3 * align, CLCNN_FLOAT32, out, 18);
    expect_equal("relu(x) in the parent buffer", out, want, 18);
    TEST_DESTROY(x, y);
    CL_OK(clFinish(queue));
    EXPECT_REFS(mem_refs(sub), sub_before);
    EXPECT_REFS(mem_refs(buffer), parent_before);
    CL_OK(clReleaseMemObject(sub));
    EXPECT_REFS(mem_refs(buffer), before);

    /* The caller lets go of its buffer while a tensor holds it. */
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, &x));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 2 * align, &y));
    CL_OK(clReleaseMemObject(buffer));
    put(c, x, v);
    TEST_OK(c, clcnn_relu_forward(c, x, y));
    test_tensor_get(c, y, out);
    expect_equal("relu(x) in a buffer the caller released", out, want, 18);
    ck_assert_ptr_eq(clcnn_tensor_buffer(y, NULL), buffer);
    ck_assert_uint_ge(mem_refs(buffer), 2);
    TEST_DESTROY(x, y);

    clcnn_context_destroy(c);
    EXPECT_REFS(queue_refs(queue), queue_before);
    EXPECT_REFS(context_refs(cl_ctx), context_before);
}
END_TEST

/* Every refusal of clcnn_tensor_wrap: its status, its message, *tensor
 * NULL, and the buffer's reference count untouched. */
START_TEST(test_wrap_refusals)
{
    clcnn_context *c = from_queue(queue);
    const size_t dims[4] = {2, 3, 4, 5}; /* 120 elements, 480 bytes of float32 */
    const size_t bytes = 480;
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 2 * align + bytes);
    cl_uint before;
    SETTLED_REFS(before, mem_refs(buffer));
    clcnn_tensor *t;
    char want[256];

#define REFUSED(call, status, part)                                                                                    \
    do {                                                                                                               \
        t = (clcnn_tensor *)&t;                                                                                        \
        TEST_STATUS_IS(c, call, status);                                                                               \
        ck_assert_msg(t == NULL, "%s left *tensor set", #call);                                                        \
        TEST_MESSAGE_HAS(c, part);                                                                                     \
        EXPECT_REFS(mem_refs(buffer), before);                                                                         \
    } while (0)

    /* A buffer of another OpenCL context (same device). */
    cl_int err;
    cl_context other = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CL_OK(err);
    cl_mem foreign = new_buffer(other, CL_MEM_READ_WRITE, bytes);
    cl_uint foreign_before;
    SETTLED_REFS(foreign_before, mem_refs(foreign));
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, foreign, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "tensor_wrap: buffer belongs to another OpenCL context than the context's queue");
    EXPECT_REFS(mem_refs(foreign), foreign_before);
    CL_OK(clReleaseMemObject(foreign));
    CL_OK(clReleaseContext(other));

    /* Too small: the dims alone, and the dims from an offset. */
    cl_mem small = new_buffer(cl_ctx, CL_MEM_READ_WRITE, bytes - 4);
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, small, 0, &t), CLCNN_ERROR_SHAPE,
            "tensor_wrap: 2 x 3 x 4 x 5 float32 is 480 bytes, which from offset 0 needs a buffer of at least "
            "480 bytes, but buffer holds 476");
    CL_OK(clReleaseMemObject(small));
    snprintf(want, sizeof want, "from offset %zu needs a buffer of at least %zu bytes, but buffer holds %zu", 2 * align,
             2 * align + 2 * bytes, 2 * align + bytes);
    const size_t twice[4] = {2, 3, 4, 10};
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, twice, buffer, 2 * align, &t), CLCNN_ERROR_SHAPE, want);
    /* An offset past the end, and one whose sum with the size overflows. */
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 64 * align, &t), CLCNN_ERROR_SHAPE,
            "needs a buffer of at least");
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, (size_t)-1 / align * align, &t), CLCNN_ERROR_SHAPE,
            "needs a buffer of at least");

    /* A misaligned offset (in bytes; the device reports bits). */
    if (align > 1) {
        snprintf(want, sizeof want,
                 "tensor_wrap: offset %zu is not a multiple of %zu bytes, the alignment of %s "
                 "(CL_DEVICE_MEM_BASE_ADDR_ALIGN, %zu bits); the nearest ones are %zu and %zu",
                 align / 2, align, clcnn_context_device_name(c), align * 8, (size_t)0, align);
        REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, align / 2, &t), CLCNN_ERROR_INVALID_ARGUMENT, want);
    }
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 4, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "is not a multiple of");

    /* Buffers the kernels could not both read and write. */
    cl_mem read_only = new_buffer(cl_ctx, CL_MEM_READ_ONLY, bytes);
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, read_only, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "tensor_wrap: buffer was created CL_MEM_READ_ONLY");
    CL_OK(clReleaseMemObject(read_only));
    cl_mem write_only = new_buffer(cl_ctx, CL_MEM_WRITE_ONLY, bytes);
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, write_only, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "tensor_wrap: buffer was created CL_MEM_WRITE_ONLY, but clcnn's kernels read and write tensors");
    CL_OK(clReleaseMemObject(write_only));

    /* The checks every new tensor gets. */
    const size_t zero[4] = {2, 0, 4, 5};
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, zero, buffer, 0, &t), CLCNN_ERROR_SHAPE, "tensor_wrap: dims[1] is 0");
    REFUSED(clcnn_tensor_wrap(c, (clcnn_dtype)7, dims, buffer, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "tensor_wrap: unknown dtype 7");
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, NULL, buffer, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "tensor_wrap: dims is NULL");
    REFUSED(clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, NULL, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT,
            "tensor_wrap: buffer is NULL");
    TEST_FAILS_WITH(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, NULL), CLCNN_ERROR_INVALID_ARGUMENT,
                    "tensor_wrap: tensor is NULL");
    TEST_STATUS_IS(c, clcnn_tensor_wrap(NULL, CLCNN_FLOAT32, dims, buffer, 0, &t), CLCNN_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_null(t);
    EXPECT_REFS(mem_refs(buffer), before);
#undef REFUSED

    ck_assert_ptr_null(clcnn_tensor_buffer(NULL, NULL));
    size_t offset = 5;
    ck_assert_ptr_null(clcnn_tensor_buffer(NULL, &offset));
    ck_assert_uint_eq(offset, 0);

    clcnn_context_destroy(c);
    CL_OK(clReleaseMemObject(buffer));
}
END_TEST

/* All tensors of a call share one clcnn context: a wrapped tensor of one
 * context is refused by another, even on the same queue. */
START_TEST(test_mixing_contexts)
{
    clcnn_context *a = from_queue(queue), *b = from_queue(queue);
    clcnn_context *own = NULL;
    TEST_OK(own, clcnn_context_create(NULL, &own));
    const size_t dims[4] = {1, 2, 2, 3};
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 2 * align);
    cl_uint before;
    SETTLED_REFS(before, mem_refs(buffer));
    clcnn_tensor *x = NULL, *y_b = NULL, *y_own = NULL;
    TEST_OK(a, clcnn_tensor_wrap(a, CLCNN_FLOAT32, dims, buffer, 0, &x));
    TEST_OK(b, clcnn_tensor_wrap(b, CLCNN_FLOAT32, dims, buffer, align, &y_b));
    TEST_OK(own, clcnn_tensor_create(own, CLCNN_FLOAT32, dims, &y_own));
    TEST_FAILS_WITH(b, clcnn_relu_forward(b, x, y_b), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_forward: x belongs to another context; all tensors of a call must share one");
    TEST_FAILS_WITH(a, clcnn_relu_forward(a, x, y_b), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_forward: y belongs to another context");
    TEST_FAILS_WITH(own, clcnn_relu_forward(own, x, y_own), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_forward: x belongs to another context");
    TEST_DESTROY(x, y_b, y_own);
    /* Destroying a context does not wait for, or touch, the other's work. */
    clcnn_context_destroy(a);
    clcnn_context_destroy(b);
    clcnn_context_destroy(own);
    EXPECT_REFS(mem_refs(buffer), before);
    CL_OK(clReleaseMemObject(buffer));
}
END_TEST

/* An output may not share bytes with an input or another output, whichever
 * handles they come through; disjoint parts of one buffer are fine. */
START_TEST(test_wrapped_aliases)
{
    clcnn_context *c = from_queue(queue);
    const size_t dims[4] = {1, 4, 4, 8}; /* 512 bytes of float32 */
    const size_t bytes = 512;
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 4 * bytes + 4 * align);
    clcnn_tensor *x = NULL, *same = NULL, *overlap = NULL, *apart = NULL;
    const size_t half = (bytes / 2 + align - 1) / align * align; /* inside x when align < bytes */
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, &x));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, &same));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, half, &overlap));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 2 * bytes + 2 * align, &apart));
    double v[128];
    fill_quarters(v, 128, 8);
    put(c, x, v);

    TEST_FAILS_WITH(c, clcnn_relu_forward(c, x, same), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_forward: y (bytes 0 to 512 of an OpenCL buffer) overlaps x (bytes 0 to 512 of the "
                    "same buffer); an output may not alias an input or another output");
    if (half < bytes) {
        TEST_FAILS_WITH(c, clcnn_relu_forward(c, x, overlap), CLCNN_ERROR_INVALID_ARGUMENT, "overlaps x");
    }
    TEST_OK(c, clcnn_relu_forward(c, x, apart));
    double out[128], want[128];
    clcnn_ref_relu_forward(v, 128, want);
    test_tensor_get(c, apart, out);
    expect_equal("relu into a disjoint part of the buffer", out, want, 128);

    /* clcnn's own tensor, wrapped again through clcnn_tensor_buffer (its
     * context and a queue-made one share clcnn's cl_context). */
    clcnn_context *own = NULL;
    TEST_OK(own, clcnn_context_create(NULL, &own));
    clcnn_context *view_ctx = from_queue(clcnn_context_queue(own));
    clcnn_tensor *t = NULL, *t_view = NULL, *t_out = NULL;
    TEST_OK(view_ctx, clcnn_tensor_create(view_ctx, CLCNN_FLOAT32, dims, &t));
    TEST_OK(view_ctx, clcnn_tensor_wrap(view_ctx, CLCNN_FLOAT32, dims, clcnn_tensor_buffer(t, NULL), 0, &t_view));
    TEST_OK(view_ctx, clcnn_tensor_create(view_ctx, CLCNN_FLOAT32, dims, &t_out));
    put(view_ctx, t, v);
    TEST_FAILS_WITH(view_ctx, clcnn_relu_backward(view_ctx, t, t_out, t_view), CLCNN_ERROR_INVALID_ARGUMENT,
                    "relu_backward: dx (bytes 0 to 512 of an OpenCL buffer) overlaps dy");
    TEST_OK(view_ctx, clcnn_relu_forward(view_ctx, t_view, t_out));
    test_tensor_get(view_ctx, t_out, out);
    expect_equal("relu of a view of clcnn's own tensor", out, want, 128);
    TEST_DESTROY(t, t_view, t_out);
    clcnn_context_destroy(view_ctx);
    clcnn_context_destroy(own);

    TEST_DESTROY(x, same, overlap, apart);
    clcnn_context_destroy(c);
    CL_OK(clReleaseMemObject(buffer));
}
END_TEST

/* The CLCNN_FAULT_INJECT testing hook counts a sub-buffer as a device
 * allocation: a failed one leaves nothing retained. */
START_TEST(test_fault_injection)
{
    ck_assert_int_eq(setenv("CLCNN_FAULT_INJECT", "alloc:2", 1), 0);
    clcnn_context *c = NULL;
    clcnn_status st = clcnn_context_create_from_queue(queue, &c);
    unsetenv("CLCNN_FAULT_INJECT");
    TEST_OK(c, st);
    const size_t dims[4] = {1, 2, 2, 2};
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 4 * align);
    cl_uint before;
    SETTLED_REFS(before, mem_refs(buffer));
    clcnn_tensor *first = NULL, *second = (clcnn_tensor *)&c;
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, align, &first)); /* allocation 1 */
    TEST_STATUS_IS(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 2 * align, &second),
                   CLCNN_ERROR_OUT_OF_MEMORY); /* allocation 2: injected */
    ck_assert_ptr_null(second);
    TEST_MESSAGE_HAS(c, "tensor_wrap: making a sub-buffer at the offset (clCreateSubBuffer) failed with "
                        "CL_MEM_OBJECT_ALLOCATION_FAILURE");
    clcnn_tensor_destroy(first);
    CL_OK(clFinish(queue));
    EXPECT_REFS(mem_refs(buffer), before);
    clcnn_context_destroy(c);

    /* A bad spec refuses the context, as clcnn_context_create does. */
    ck_assert_int_eq(setenv("CLCNN_FAULT_INJECT", "sometimes", 1), 0);
    cl_uint queue_before;
    SETTLED_REFS(queue_before, queue_refs(queue));
    c = NULL;
    st = clcnn_context_create_from_queue(queue, &c);
    unsetenv("CLCNN_FAULT_INJECT");
    TEST_FAILS_WITH(c, st, CLCNN_ERROR_INVALID_ARGUMENT, "CLCNN_FAULT_INJECT is 'sometimes'");
    EXPECT_REFS(queue_refs(queue), queue_before);
    clcnn_context_destroy(c);

    /* A failed kernel launch: the op reports it and the caller's queue
     * still works. */
    ck_assert_int_eq(setenv("CLCNN_FAULT_INJECT", "enqueue:1", 1), 0);
    st = clcnn_context_create_from_queue(queue, &c);
    unsetenv("CLCNN_FAULT_INJECT");
    TEST_OK(c, st);
    clcnn_tensor *x = NULL, *y = NULL;
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, &x));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, align, &y));
    TEST_FAILS_WITH(c, clcnn_relu_forward(c, x, y), CLCNN_ERROR_OPENCL, "relu_forward");
    CL_OK(clFinish(queue));
    TEST_DESTROY(x, y);
    clcnn_context_destroy(c);
    EXPECT_REFS(mem_refs(buffer), before);
    CL_OK(clReleaseMemObject(buffer));
}
END_TEST

/* The caller's kernel and clcnn's ops on one queue, no host round trip and
 * no clFinish between them: fill (caller), ReLU (clcnn), scale (caller),
 * then one read. */
START_TEST(test_interleaved_with_caller_kernels)
{
    static const char *source =
        "__kernel void fill(__global float *x) { int i = get_global_id(0); x[i] = (float)(i % 9 - 4) * 0.25f; }\n"
        "__kernel void twice(__global float *x) { x[get_global_id(0)] *= 2.0f; }\n";
    cl_int err;
    cl_program program = clCreateProgramWithSource(cl_ctx, 1, &source, NULL, &err);
    CL_OK(err);
    CL_OK(clBuildProgram(program, 1, &device, "", NULL, NULL));
    cl_kernel fill = clCreateKernel(program, "fill", &err);
    CL_OK(err);
    cl_kernel twice = clCreateKernel(program, "twice", &err);
    CL_OK(err);

    clcnn_context *c = from_queue(queue);
    const size_t dims[4] = {3, 5, 7, 3}, n = 315;
    cl_mem buffer = new_buffer(cl_ctx, CL_MEM_READ_WRITE, 2 * n * sizeof(float) + 2 * align);
    const size_t y_offset = (n * sizeof(float) + align - 1) / align * align;
    cl_buffer_region region = {y_offset, n * sizeof(float)};
    cl_mem y_view = clCreateSubBuffer(buffer, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    CL_OK(err);
    clcnn_tensor *x = NULL, *y = NULL;
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, 0, &x));
    TEST_OK(c, clcnn_tensor_wrap(c, CLCNN_FLOAT32, dims, buffer, y_offset, &y));

    CL_OK(clSetKernelArg(fill, 0, sizeof buffer, &buffer));
    CL_OK(clEnqueueNDRangeKernel(queue, fill, 1, NULL, &n, NULL, 0, NULL, NULL));
    TEST_OK(c, clcnn_relu_forward(c, x, y));
    CL_OK(clSetKernelArg(twice, 0, sizeof y_view, &y_view));
    CL_OK(clEnqueueNDRangeKernel(queue, twice, 1, NULL, &n, NULL, 0, NULL, NULL));
    float got[315];
    CL_OK(clEnqueueReadBuffer(queue, buffer, CL_TRUE, y_offset, sizeof got, got, 0, NULL, NULL));
    for (size_t i = 0; i < n; i++) {
        const float v = (float)((int)(i % 9) - 4) * 0.25f;
        ck_assert_msg(got[i] == 2.0f * (v > 0 ? v : 0.0f), "y[%zu] = %g", i, got[i]);
    }

    TEST_DESTROY(x, y);
    clcnn_context_destroy(c);
    CL_OK(clReleaseMemObject(y_view));
    CL_OK(clReleaseMemObject(buffer));
    CL_OK(clReleaseKernel(fill));
    CL_OK(clReleaseKernel(twice));
    CL_OK(clReleaseProgram(program));
}
END_TEST

/* The device clcnn_context_create(NULL) would choose, as OpenCL handles.
 * Returns 0, TEST_SKIP_EXIT_CODE (no device), or 1. */
static int open_caller_objects(void)
{
    clcnn_device_info info[32];
    size_t count = 0;
    int required = getenv("CLCNN_REQUIRE_DEVICE") && strcmp(getenv("CLCNN_REQUIRE_DEVICE"), "1") == 0;
    if (clcnn_devices_list(NULL, info, 32, &count) != CLCNN_OK)
        return 1;
    const clcnn_device_info *chosen = NULL;
    for (size_t i = 0; i < count && i < 32; i++)
        if (info[i].chosen)
            chosen = &info[i];
    if (chosen == NULL) {
        fprintf(stderr, "no OpenCL device%s\n", required ? "" : ": skipping (set CLCNN_REQUIRE_DEVICE=1 to fail)");
        return required ? 1 : TEST_SKIP_EXIT_CODE;
    }
    cl_platform_id platforms[16];
    cl_uint n_platforms = 0, n_devices = 0;
    cl_device_id devices[32];
    if (clGetPlatformIDs(16, platforms, &n_platforms) != CL_SUCCESS || chosen->platform_index >= n_platforms ||
        clGetDeviceIDs(platforms[chosen->platform_index], CL_DEVICE_TYPE_ALL, 32, devices, &n_devices) != CL_SUCCESS ||
        chosen->device_index >= n_devices)
        return 1;
    device = devices[chosen->device_index];
    cl_int err;
    cl_ctx = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return 1;
    queue = clCreateCommandQueue(cl_ctx, device, 0, &err);
    if (err != CL_SUCCESS)
        return 1;
    cl_uint bits = 0;
    clGetDeviceInfo(device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL);
    align = bits >= 8 ? bits / 8 : 1;
    has_fp64 = chosen->fp64;
    printf("device: %s %s, base address alignment %zu bytes\n", chosen->platform, chosen->name, align);
    return 0;
}

int main(void)
{
    int rc = open_caller_objects();
    if (rc != 0)
        return rc;
    Suite *suite = suite_create("embed");
    TCase *tc = tcase_create("embed");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_context_from_queue);
    tcase_add_test(tc, test_context_from_queue_refusals);
    tcase_add_loop_test(tc, test_wrap_at_offsets, 0, dtype_count());
    tcase_add_test(tc, test_wrap_reference_counts);
    tcase_add_test(tc, test_wrap_refusals);
    tcase_add_test(tc, test_mixing_contexts);
    tcase_add_test(tc, test_wrapped_aliases);
    tcase_add_test(tc, test_fault_injection);
    tcase_add_test(tc, test_interleaved_with_caller_kernels);
    suite_add_tcase(suite, tc);
    rc = test_run_suite(suite);
    clReleaseCommandQueue(queue);
    clReleaseContext(cl_ctx);
    return rc;
}
