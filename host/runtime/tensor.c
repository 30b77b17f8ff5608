/* Tensors (a device buffer with NHWC dims and a dtype) and the argument
 * checks every op runs before it enqueues anything. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

clcnn_status clcnn__check_context(clcnn_context *ctx, const char *op)
{
    if (ctx == NULL)
        return CLCNN_ERROR_INVALID_ARGUMENT;
    if (ctx->queue == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: this context failed to be created and has no device; create a new one", op);
    return CLCNN_OK;
}

clcnn_status clcnn__check_first(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t)
{
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK)
        return st;
    return clcnn__check_tensor(ctx, op, name, t, t ? t->dtype : CLCNN_FLOAT32);
}

clcnn_status clcnn__check_new_tensor(clcnn_context *ctx, const char *op, clcnn_dtype dtype, const size_t dims[4],
                                     size_t *count_out)
{
    if (dtype != CLCNN_FLOAT32 && dtype != CLCNN_FLOAT64 && !clcnn__dtype_is_16bit(dtype))
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: unknown dtype %d (use CLCNN_FLOAT32, CLCNN_FLOAT64, CLCNN_FLOAT16 or CLCNN_BFLOAT16)",
                           op, (int)dtype);
    if (dtype == CLCNN_FLOAT64 && !ctx->has_fp64)
        return clcnn__fail(ctx, CLCNN_ERROR_UNSUPPORTED,
                           "%s: float64 needs cl_khr_fp64, which %s does not have; use CLCNN_FLOAT32", op,
                           ctx->device_name);
    size_t count = 1;
    for (int d = 0; d < 4; d++) {
        if (dims[d] == 0)
            return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                               "%s: dims[%d] is 0 (dims %zu x %zu x %zu x %zu); "
                               "every dimension must be at least 1",
                               op, d, dims[0], dims[1], dims[2], dims[3]);
        if (count > SIZE_MAX / dims[d])
            return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                               "%s: %zu x %zu x %zu x %zu elements overflow size_t (at most %zu); "
                               "use smaller dims",
                               op, dims[0], dims[1], dims[2], dims[3], (size_t)SIZE_MAX);
        count *= dims[d];
    }
    size_t elem = clcnn__dtype_size(dtype);
    if (count > SIZE_MAX / elem)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: %zu x %zu x %zu x %zu is %zu elements of %zu bytes, which overflows size_t "
                           "(at most %zu bytes); use smaller dims",
                           op, dims[0], dims[1], dims[2], dims[3], count, elem, (size_t)SIZE_MAX);
    *count_out = count;
    return CLCNN_OK;
}

clcnn_status clcnn_tensor_create(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], clcnn_tensor **tensor)
{
    static const char op[] = "tensor_create";
    if (tensor != NULL)
        *tensor = NULL; /* on every failure, so a caller may destroy it unconditionally */
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK)
        return st;
    if (tensor == NULL || dims == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, tensor == NULL ? "tensor" : "dims");
    size_t count;
    if ((st = clcnn__check_new_tensor(ctx, op, dtype, dims, &count)) != CLCNN_OK)
        return st;
    size_t elem = clcnn__dtype_size(dtype);
    if ((cl_ulong)(count * elem) > ctx->max_alloc)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: %zu x %zu x %zu x %zu %s is %zu bytes, over the device's "
                           "CL_DEVICE_MAX_MEM_ALLOC_SIZE of %llu bytes (%s); split it, e.g. into smaller batches",
                           op, dims[0], dims[1], dims[2], dims[3], clcnn__dtype_name(dtype), count * elem,
                           (unsigned long long)ctx->max_alloc, ctx->device_name);
    clcnn_tensor *t = calloc(1, sizeof *t);
    if (t == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_OUT_OF_MEMORY, "%s: out of host memory", op);
    cl_int err = clcnn__fault_point(ctx, CLCNN_FAULT_ALLOC);
    if (err == CL_SUCCESS)
        t->mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, count * elem, NULL, &err);
    if (err != CL_SUCCESS) {
        free(t);
        char what[96];
        snprintf(what, sizeof what, "allocating %zu bytes of device memory (clCreateBuffer)", count * elem);
        return clcnn__cl_fail(ctx, op, what, err);
    }
    t->ctx = ctx;
    t->dtype = dtype;
    memcpy(t->dims, dims, sizeof t->dims);
    t->count = count;
    t->bytes = count * elem;
    *tensor = t;
    return CLCNN_OK;
}

void clcnn_tensor_destroy(clcnn_tensor *tensor)
{
    if (tensor == NULL)
        return;
    clReleaseMemObject(tensor->mem);
    if (tensor->wrapped)
        clReleaseMemObject(tensor->wrapped);
    free(tensor);
}

void clcnn_tensor_dims(const clcnn_tensor *tensor, size_t dims[4])
{
    if (dims == NULL)
        return;
    for (int d = 0; d < 4; d++)
        dims[d] = tensor ? tensor->dims[d] : 0;
}

clcnn_dtype clcnn_tensor_dtype(const clcnn_tensor *tensor)
{
    return tensor ? tensor->dtype : CLCNN_FLOAT32;
}

static clcnn_status check_transfer(const clcnn_tensor *tensor, const void *host, size_t bytes, const char *op,
                                   const char *host_name)
{
    if (tensor == NULL)
        return CLCNN_ERROR_INVALID_ARGUMENT;
    clcnn_status st = clcnn__check_context(tensor->ctx, op);
    if (st != CLCNN_OK)
        return st;
    if (host == NULL)
        return clcnn__fail(tensor->ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, host_name);
    if (bytes != tensor->bytes)
        return clcnn__fail(tensor->ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: bytes is %zu but the %zu x %zu x %zu x %zu %s tensor holds %zu bytes", op, bytes,
                           tensor->dims[0], tensor->dims[1], tensor->dims[2], tensor->dims[3],
                           clcnn__dtype_name(tensor->dtype), tensor->bytes);
    return CLCNN_OK;
}

clcnn_status clcnn_tensor_write(clcnn_tensor *tensor, const void *src, size_t bytes)
{
    clcnn_status st = check_transfer(tensor, src, bytes, "tensor_write", "src");
    if (st != CLCNN_OK)
        return st;
    /* Blocking: the caller may reuse src as soon as this returns. */
    cl_int err = clEnqueueWriteBuffer(tensor->ctx->queue, tensor->mem, CL_TRUE, 0, bytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(tensor->ctx, "tensor_write", "clEnqueueWriteBuffer", err);
}

clcnn_status clcnn_tensor_read(const clcnn_tensor *tensor, void *dst, size_t bytes)
{
    clcnn_status st = check_transfer(tensor, dst, bytes, "tensor_read", "dst");
    if (st != CLCNN_OK)
        return st;
    cl_int err = clEnqueueReadBuffer(tensor->ctx->queue, tensor->mem, CL_TRUE, 0, bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(tensor->ctx, "tensor_read", "clEnqueueReadBuffer", err);
}

clcnn_status clcnn__refuse_16bit(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t)
{
    if (!clcnn__dtype_is_16bit(t->dtype))
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERROR_UNSUPPORTED,
                       "%s: %s is %s, which %s does not take yet; convert its tensors to float32 with "
                       "clcnn_tensor_convert, run it in float32 and convert the results back",
                       op, name, clcnn__dtype_name(t->dtype), op);
}

clcnn_status clcnn__check_tensor(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t,
                                 clcnn_dtype dtype)
{
    if (t == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, name);
    if (t->ctx != ctx)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: %s belongs to another context; all tensors of a call must share one", op, name);
    if (t->dtype != dtype)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: %s is %s but the call's first input is %s; all tensors of a call must have "
                           "the same dtype",
                           op, name, clcnn__dtype_name(t->dtype), clcnn__dtype_name(dtype));
    if (t->count > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: %s has %zu elements; kernels index with 32 bits, so at most %d "
                           "elements per tensor (split the batch)",
                           op, name, t->count, INT_MAX);
    return CLCNN_OK;
}

clcnn_status clcnn__check_dims(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t,
                               const size_t want[4])
{
    if (memcmp(t->dims, want, sizeof t->dims) == 0)
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERROR_SHAPE, "%s: %s is %zu x %zu x %zu x %zu but must be %zu x %zu x %zu x %zu", op,
                       name, t->dims[0], t->dims[1], t->dims[2], t->dims[3], want[0], want[1], want[2], want[3]);
}

/* The buffer that owns t's bytes and the first of them (see clcnn_tensor). */
static cl_mem storage_of(const clcnn_tensor *t, size_t *begin)
{
    *begin = t->storage ? t->storage_offset : 0;
    return t->storage ? t->storage : t->mem;
}

clcnn_status clcnn__check_distinct(clcnn_context *ctx, const char *op, const char *out_name, const clcnn_tensor *out,
                                   const char *in_name, const clcnn_tensor *in)
{
    if (out == NULL || in == NULL)
        return CLCNN_OK;
    if (out == in)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: %s is also %s; an output may not alias an input or another output", op, out_name,
                           in_name);
    /* Wrapped tensors (clcnn_tensor_wrap) are different handles that may
     * share bytes: compare where their bytes lie. */
    size_t out_begin, in_begin;
    cl_mem out_storage = storage_of(out, &out_begin), in_storage = storage_of(in, &in_begin);
    if (out_storage == NULL || out_storage != in_storage || out_begin >= in_begin + in->bytes ||
        in_begin >= out_begin + out->bytes)
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                       "%s: %s (bytes %zu to %zu of an OpenCL buffer) overlaps %s (bytes %zu to %zu of the "
                       "same buffer); an output may not alias an input or another output",
                       op, out_name, out_begin, out_begin + out->bytes, in_name, in_begin, in_begin + in->bytes);
}

clcnn_status clcnn__check_outputs(clcnn_context *ctx, const char *op, clcnn_dtype dtype, const clcnn_named_output *outs,
                                  int n_outs, const clcnn_named_input *ins, int n_ins, int optional)
{
    clcnn_status st;
    for (int o = 0; o < n_outs; o++) {
        if (optional && outs[o].t == NULL)
            continue;
        if ((st = clcnn__check_tensor(ctx, op, outs[o].name, outs[o].t, dtype)) ||
            (st = clcnn__check_dims(ctx, op, outs[o].name, outs[o].t, outs[o].dims)))
            return st;
        for (int i = 0; i < n_ins; i++)
            if ((st = clcnn__check_distinct(ctx, op, outs[o].name, outs[o].t, ins[i].name, ins[i].t)))
                return st;
        for (int q = 0; q < o; q++)
            if ((st = clcnn__check_distinct(ctx, op, outs[o].name, outs[o].t, outs[q].name, outs[q].t)))
                return st;
    }
    return CLCNN_OK;
}
