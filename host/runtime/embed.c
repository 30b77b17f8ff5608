/* clcnn inside a caller's OpenCL program (clcnn_cl.h): contexts on the
 * caller's queue, tensors over the caller's buffers. Everything else about
 * these contexts and tensors is the code every context runs (context.c,
 * tensor.c): only where the queue and the buffers come from differs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "clcnn_cl.h"

/* CL_QUEUE_ON_DEVICE of OpenCL 2.0, which the 1.2 headers clcnn builds
 * against do not define: a queue that only kernels can enqueue to. */
#define QUEUE_ON_DEVICE ((cl_command_queue_properties)1 << 2)

clcnn_status clcnn_context_create_from_queue(cl_command_queue queue, clcnn_context **out)
{
    static const char op[] = "context_create_from_queue";
    if (out == NULL)
        return CLCNN_ERROR_INVALID_ARGUMENT;
    clcnn_status st = clcnn__context_alloc(out);
    clcnn_context *ctx = *out;
    if (st != CLCNN_OK)
        return st;
    if (queue == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: queue is NULL; pass an in-order cl_command_queue, or use clcnn_context_create "
                           "for a queue of clcnn's own",
                           op);
    cl_context context = NULL;
    cl_device_id device = NULL;
    cl_platform_id platform = NULL;
    cl_command_queue_properties properties = 0;
    cl_int err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof context, &context, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof device, &device, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof properties, &properties, NULL);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "reading the queue's context, device and properties (clGetCommandQueueInfo)",
                              err);
    /* Every op relies on the queue's order: conv backward's dW reduction
     * reads the partial sums its first kernel wrote, and a caller's command
     * after an op must see its output. */
    if (properties & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return clcnn__fail(ctx, CLCNN_ERROR_UNSUPPORTED,
                           "%s: the queue is out-of-order (CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE); clcnn's ops "
                           "depend on the order of an in-order queue: create one without that property for clcnn",
                           op);
    if (properties & QUEUE_ON_DEVICE)
        return clcnn__fail(ctx, CLCNN_ERROR_UNSUPPORTED,
                           "%s: the queue is a device-side queue (CL_QUEUE_ON_DEVICE), which the host cannot "
                           "enqueue to; pass a host queue of the same device",
                           op);
    err = clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "reading the queue's platform (clGetDeviceInfo CL_DEVICE_PLATFORM)", err);
    /* Retained last, so that a failure above leaves the caller's objects
     * as they were. The queue would keep its cl_context alive on its own,
     * but ctx->context is released at destroy like any context's. */
    if ((err = clRetainContext(context)) != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clRetainContext", err);
    if ((err = clRetainCommandQueue(queue)) != CL_SUCCESS) {
        clReleaseContext(context);
        return clcnn__cl_fail(ctx, op, "clRetainCommandQueue", err);
    }
    ctx->platform = platform;
    ctx->device = device;
    ctx->context = context;
    ctx->queue = queue;
    clcnn__context_setup(ctx);
    return CLCNN_OK;
}

cl_command_queue clcnn_context_queue(const clcnn_context *ctx)
{
    return ctx ? ctx->queue : NULL;
}

/* The buffer's properties that tensor_wrap checks. */
typedef struct buffer_facts {
    cl_mem_object_type type;
    cl_context context;
    cl_mem_flags flags;
    size_t size;
    cl_mem parent;        /* for a sub-buffer, the buffer it is part of */
    size_t parent_offset; /* and where it starts in it */
} buffer_facts;

static cl_int read_buffer_facts(cl_mem buffer, buffer_facts *f)
{
    cl_int err = clGetMemObjectInfo(buffer, CL_MEM_TYPE, sizeof f->type, &f->type, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(buffer, CL_MEM_CONTEXT, sizeof f->context, &f->context, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(buffer, CL_MEM_FLAGS, sizeof f->flags, &f->flags, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(buffer, CL_MEM_SIZE, sizeof f->size, &f->size, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(buffer, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof f->parent, &f->parent, NULL);
    if (err == CL_SUCCESS && f->parent != NULL)
        err = clGetMemObjectInfo(buffer, CL_MEM_OFFSET, sizeof f->parent_offset, &f->parent_offset, NULL);
    return err;
}

/* `buffer` can hold a wrapped tensor of `bytes` at `offset`: a read-write
 * buffer of the context's cl_context, large enough, the offset aligned as
 * sub-buffers must be; fills *f. */
static clcnn_status check_buffer(clcnn_context *ctx, const char *op, clcnn_dtype dtype, const size_t dims[4],
                                 size_t bytes, cl_mem buffer, size_t offset, buffer_facts *f)
{
    cl_int err = read_buffer_facts(buffer, f);
    if (err != CL_SUCCESS)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: buffer is not a usable cl_mem (clGetMemObjectInfo failed with %s); pass a "
                           "buffer of the context's cl_context",
                           op, clcnn__cl_error_name(err));
    if (f->type != CL_MEM_OBJECT_BUFFER)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: buffer is an image or another non-buffer object (CL_MEM_TYPE 0x%x); wrap a "
                           "buffer (clCreateBuffer)",
                           op, (unsigned)f->type);
    if (f->context != ctx->context)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: buffer belongs to another OpenCL context than the context's queue; create it "
                           "in the queue's cl_context (clGetCommandQueueInfo CL_QUEUE_CONTEXT)",
                           op);
    if (f->flags & (CL_MEM_READ_ONLY | CL_MEM_WRITE_ONLY))
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: buffer was created %s, but clcnn's kernels read and write tensors (any tensor "
                           "may be an op's output); wrap a CL_MEM_READ_WRITE buffer",
                           op, f->flags & CL_MEM_READ_ONLY ? "CL_MEM_READ_ONLY" : "CL_MEM_WRITE_ONLY");
    if (offset > f->size || bytes > f->size - offset)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: %zu x %zu x %zu x %zu %s is %zu bytes, which from offset %zu needs a buffer of "
                           "at least %.0f bytes, but buffer holds %zu; use a larger buffer, a smaller offset "
                           "or smaller dims",
                           op, dims[0], dims[1], dims[2], dims[3], clcnn__dtype_name(dtype), bytes, offset,
                           (double)offset + (double)bytes, f->size);
    /* Sub-buffers must start at such a multiple, and so must every
     * tensor's data for the kernels' vector loads. The device reports it
     * in bits. */
    cl_uint align_bits = 0;
    err = clGetDeviceInfo(ctx->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "reading CL_DEVICE_MEM_BASE_ADDR_ALIGN (clGetDeviceInfo)", err);
    const size_t align = align_bits >= 8 ? align_bits / 8 : 1;
    if (offset % align != 0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: offset %zu is not a multiple of %zu bytes, the alignment of %s "
                           "(CL_DEVICE_MEM_BASE_ADDR_ALIGN, %u bits); the nearest ones are %zu and %zu",
                           op, offset, align, ctx->device_name, align_bits, offset / align * align,
                           offset / align * align + align);
    return CLCNN_OK;
}

clcnn_status clcnn_tensor_wrap(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], cl_mem buffer,
                               size_t offset, clcnn_tensor **tensor)
{
    static const char op[] = "tensor_wrap";
    if (tensor != NULL)
        *tensor = NULL; /* on every failure, so a caller may destroy it unconditionally */
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK)
        return st;
    if (tensor == NULL || dims == NULL || buffer == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op,
                           tensor == NULL ? "tensor"
                           : dims == NULL ? "dims"
                                          : "buffer");
    size_t count;
    if ((st = clcnn__check_new_tensor(ctx, op, dtype, dims, &count)) != CLCNN_OK)
        return st;
    const size_t bytes = count * clcnn__dtype_size(dtype);
    buffer_facts f = {0};
    if ((st = check_buffer(ctx, op, dtype, dims, bytes, buffer, offset, &f)) != CLCNN_OK)
        return st;

    clcnn_tensor *t = calloc(1, sizeof *t);
    if (t == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_OUT_OF_MEMORY, "%s: out of host memory", op);
    /* The kernels take a cl_mem and index from its start, so a tensor that
     * starts inside the buffer is a sub-buffer starting there (no copy).
     * OpenCL makes sub-buffers of buffers only, so a caller's sub-buffer
     * is cut again from its parent. */
    cl_mem storage = f.parent ? f.parent : buffer;
    size_t storage_offset = f.parent_offset + offset;
    cl_mem mem = buffer;
    cl_int err;
    if (offset != 0) {
        const cl_buffer_region region = {storage_offset, bytes};
        err = clcnn__fault_point(ctx, CLCNN_FAULT_ALLOC);
        if (err == CL_SUCCESS)
            mem = clCreateSubBuffer(storage, 0, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
        if (err != CL_SUCCESS) {
            free(t);
            return clcnn__cl_fail(ctx, op, "making a sub-buffer at the offset (clCreateSubBuffer)", err);
        }
    } else if ((err = clRetainMemObject(buffer)) != CL_SUCCESS) {
        free(t);
        return clcnn__cl_fail(ctx, op, "clRetainMemObject", err);
    }
    /* mem holds one reference (its own or the retain above); the caller's
     * buffer gets one more for clcnn_tensor_buffer, which must stay valid
     * after the caller releases its own reference. */
    if ((err = clRetainMemObject(buffer)) != CL_SUCCESS) {
        clReleaseMemObject(mem);
        free(t);
        return clcnn__cl_fail(ctx, op, "clRetainMemObject", err);
    }
    t->ctx = ctx;
    t->dtype = dtype;
    memcpy(t->dims, dims, sizeof t->dims);
    t->count = count;
    t->bytes = bytes;
    t->mem = mem;
    t->wrapped = buffer;
    t->offset = offset;
    t->storage = storage;
    t->storage_offset = storage_offset;
    *tensor = t;
    return CLCNN_OK;
}

cl_mem clcnn_tensor_buffer(const clcnn_tensor *tensor, size_t *offset)
{
    if (offset != NULL)
        *offset = tensor ? tensor->offset : 0;
    if (tensor == NULL)
        return NULL;
    return tensor->wrapped ? tensor->wrapped : tensor->mem;
}
