/* Contexts: one device, one in-order queue, the program cache, a reusable
 * workspace and the last error message. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "program_cache.h"

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        return NULL;
    char *copy = malloc(strlen(v) + 1);
    if (copy)
        strcpy(copy, v);
    return copy;
}

static void query_device(clcnn_context *ctx)
{
    char pname[128] = "";
    char dname[128] = "";
    size_t wg = 1;
    clGetDeviceInfo(ctx->device, CL_DEVICE_TYPE, sizeof ctx->device_type, &ctx->device_type, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ctx->max_alloc, &ctx->max_alloc, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ctx->local_mem, &ctx->local_mem, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof ctx->compute_units, &ctx->compute_units, NULL);
    clGetPlatformInfo(ctx->platform, CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
    clGetDeviceInfo(ctx->device, CL_DEVICE_NAME, sizeof dname - 1, dname, NULL);
    ctx->max_work_group_size = wg ? wg : 1;
    ctx->has_fp64 = clcnn__device_has_extension(ctx->device, "cl_khr_fp64");
    if (ctx->compute_units == 0)
        ctx->compute_units = 1;
    strncpy(ctx->device_name, dname, sizeof ctx->device_name - 1);
    size_t used = strlen(ctx->device_name);
    if (used + 4 + strlen(pname) < sizeof ctx->device_name) {
        strcat(ctx->device_name, " (");
        strcat(ctx->device_name, pname);
        strcat(ctx->device_name, ")");
    }
}

/* Reads the CLCNN_FAULT_INJECT testing hook (see clcnn_fault in internal.h). */
static clcnn_status read_fault_spec(clcnn_context *ctx)
{
    static const char *const points[CLCNN_FAULT_POINTS] = {
        [CLCNN_FAULT_ALLOC] = "alloc", [CLCNN_FAULT_ENQUEUE] = "enqueue", [CLCNN_FAULT_CACHE_WRITE] = "cache_write"};
    const char *spec = getenv("CLCNN_FAULT_INJECT");
    ctx->fault.point = -1;
    if (spec == NULL || *spec == '\0')
        return CLCNN_OK;
    for (int p = 0; p < CLCNN_FAULT_POINTS; p++) {
        size_t len = strlen(points[p]);
        if (strncmp(spec, points[p], len) == 0 && spec[len] == ':' && isdigit((unsigned char)spec[len + 1])) {
            char *end;
            unsigned long at = strtoul(spec + len + 1, &end, 10);
            if (*end == '\0' && at > 0) {
                ctx->fault.point = p;
                ctx->fault.at = at;
                return CLCNN_OK;
            }
        }
    }
    return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                       "context_create: CLCNN_FAULT_INJECT is '%s'; this testing hook takes 'alloc:N' or "
                       "'enqueue:N' with N >= 1 (unset it for normal use)",
                       spec);
}

cl_int clcnn__fault_point(clcnn_context *ctx, clcnn_fault_point point)
{
    unsigned long n = ++ctx->fault.count[point];
    if (ctx->fault.point != (int)point || n != ctx->fault.at)
        return CL_SUCCESS;
    return point == CLCNN_FAULT_ALLOC ? CL_MEM_OBJECT_ALLOCATION_FAILURE
           : point == CLCNN_FAULT_ENQUEUE ? CL_OUT_OF_RESOURCES
                                         : CL_INVALID_VALUE;
}

clcnn_status clcnn__context_alloc(clcnn_context **out)
{
    /* On failure *out still gets a context that holds only the error
     * message, so the caller can read why; destroy it as usual. */
    clcnn_context *ctx = calloc(1, sizeof *ctx);
    *out = ctx;
    if (ctx == NULL)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    return read_fault_spec(ctx);
}

void clcnn__context_setup(clcnn_context *ctx)
{
    query_device(ctx);
    ctx->kernel_dir = dup_env("CLCNN_KERNEL_DIR");
    ctx->extra_options = dup_env("CLCNN_BUILD_OPTIONS");
    clcnn__tuning_init(ctx);
    clcnn__program_cache_init(ctx);
    ctx->last_error[0] = '\0';
}

clcnn_status clcnn_context_create(const char *device, clcnn_context **out)
{
    if (out == NULL)
        return CLCNN_ERROR_INVALID_ARGUMENT;
    clcnn_status st = clcnn__context_alloc(out);
    clcnn_context *ctx = *out;
    if (st == CLCNN_OK)
        st = clcnn__select_device(ctx, device);
    if (st != CLCNN_OK)
        return st;
    clcnn__context_setup(ctx);
    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->context = clCreateContext(props, 1, &ctx->device, NULL, NULL, &err);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, "context_create", "clCreateContext", err);
    ctx->queue = clCreateCommandQueue(ctx->context, ctx->device, 0, &err);
    if (err != CL_SUCCESS) {
        clReleaseContext(ctx->context);
        ctx->context = NULL;
        ctx->queue = NULL;
        return clcnn__cl_fail(ctx, "context_create", "clCreateCommandQueue", err);
    }
    ctx->own_queue = 1;
    return CLCNN_OK;
}

/* Replaces the context's own queue, once it has finished, by one with
 * `properties`. */
static clcnn_status replace_queue(clcnn_context *ctx, const char *op, cl_command_queue_properties properties)
{
    cl_int err = clFinish(ctx->queue);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clFinish", err);
    cl_command_queue queue = clCreateCommandQueue(ctx->context, ctx->device, properties, &err);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clCreateCommandQueue", err);
    clReleaseCommandQueue(ctx->queue);
    ctx->queue = queue;
    return CLCNN_OK;
}

clcnn_status clcnn_context_profile(clcnn_context *ctx, int enable)
{
    static const char op[] = "context_profile";
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK || !enable == !ctx->profiling)
        return st;
    if (!enable) {
        clcnn__forget_launches(ctx);
        free(ctx->launches);
        ctx->launches = NULL;
        ctx->profiling = 0;
        return ctx->own_queue ? replace_queue(ctx, op, 0) : CLCNN_OK;
    }
    cl_command_queue_properties properties = 0;
    cl_int err = clGetCommandQueueInfo(ctx->queue, CL_QUEUE_PROPERTIES, sizeof properties, &properties, NULL);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clGetCommandQueueInfo(CL_QUEUE_PROPERTIES)", err);
    if (!(properties & CL_QUEUE_PROFILING_ENABLE) && !ctx->own_queue)
        return clcnn__fail(ctx, CLCNN_ERROR_UNSUPPORTED,
                           "%s: the context's queue is the caller's and was created without "
                           "CL_QUEUE_PROFILING_ENABLE; create it with that property to profile clcnn's kernels",
                           op);
    clcnn_recorded_launch *launches = malloc(CLCNN_LAUNCHES_KEPT * sizeof *launches);
    if (launches == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_OUT_OF_MEMORY, "%s: out of host memory for %d launch records", op,
                           CLCNN_LAUNCHES_KEPT);
    if (!(properties & CL_QUEUE_PROFILING_ENABLE) &&
        (st = replace_queue(ctx, op, properties | CL_QUEUE_PROFILING_ENABLE)) != CLCNN_OK) {
        free(launches);
        return st;
    }
    ctx->launches = launches;
    ctx->launch_count = ctx->launches_dropped = 0;
    ctx->profiling = 1;
    return CLCNN_OK;
}

void clcnn_context_destroy(clcnn_context *ctx)
{
    if (ctx == NULL)
        return;
    if (ctx->queue)
        clFinish(ctx->queue);
    clcnn__forget_launches(ctx);
    free(ctx->launches);
    clcnn__release_programs(ctx);
    for (int s = 0; s < CLCNN_WORKSPACE_SLOTS; s++)
        if (ctx->workspace[s])
            clReleaseMemObject(ctx->workspace[s]);
    if (ctx->queue)
        clReleaseCommandQueue(ctx->queue);
    if (ctx->context)
        clReleaseContext(ctx->context);
    free(ctx->kernel_dir);
    free(ctx->extra_options);
    clcnn__tuning_release(ctx);
    free(ctx);
}

const char *clcnn_context_device_name(const clcnn_context *ctx)
{
    return ctx ? ctx->device_name : "";
}

const char *clcnn_context_last_error(const clcnn_context *ctx)
{
    return ctx ? ctx->last_error : "no context (NULL): clcnn_context_create could not allocate one";
}

int clcnn_context_supports_dtype(const clcnn_context *ctx, clcnn_dtype dtype)
{
    if (ctx == NULL || ctx->queue == NULL)
        return 0;
    return dtype == CLCNN_FLOAT32 || clcnn__dtype_is_16bit(dtype) || (dtype == CLCNN_FLOAT64 && ctx->has_fp64);
}

clcnn_status clcnn_context_finish(clcnn_context *ctx)
{
    clcnn_status st = clcnn__check_context(ctx, "context_finish");
    if (st != CLCNN_OK)
        return st;
    cl_int err = clFinish(ctx->queue);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(ctx, "context_finish", "clFinish", err);
}

clcnn_status clcnn__workspace(clcnn_context *ctx, const char *op, clcnn_workspace_slot slot, size_t bytes, cl_mem *out)
{
    if (bytes == 0)
        bytes = 1;
    if (ctx->workspace_bytes[slot] < bytes) {
        if (bytes > ctx->max_alloc)
            return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                               "%s: needs a workspace of %zu bytes, over the device's "
                               "CL_DEVICE_MAX_MEM_ALLOC_SIZE of %llu bytes",
                               op, bytes, (unsigned long long)ctx->max_alloc);
        cl_mem mem = NULL;
        cl_int err = clcnn__fault_point(ctx, CLCNN_FAULT_ALLOC);
        if (err == CL_SUCCESS)
            mem = clCreateBuffer(ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "allocating %zu bytes of device scratch memory (clCreateBuffer)", bytes);
            return clcnn__cl_fail(ctx, op, what, err);
        }
        /* Kernels already enqueued keep the old buffer alive until they end. */
        if (ctx->workspace[slot])
            clReleaseMemObject(ctx->workspace[slot]);
        ctx->workspace[slot] = mem;
        ctx->workspace_bytes[slot] = bytes;
    }
    *out = ctx->workspace[slot];
    return CLCNN_OK;
}

const char *clcnn_context_build_warnings(const clcnn_context *ctx)
{
    return ctx ? ctx->build_warnings : "";
}

const char *clcnn_context_config(const clcnn_context *ctx)
{
    return ctx ? ctx->config : "";
}

size_t clcnn_context_workspace_bytes(const clcnn_context *ctx)
{
    return ctx ? clcnn__workspace_total(ctx) : 0;
}

size_t clcnn__workspace_total(const clcnn_context *ctx)
{
    size_t total = 0;
    for (int s = 0; s < CLCNN_WORKSPACE_SLOTS; s++)
        total += ctx->workspace_bytes[s];
    return total;
}
