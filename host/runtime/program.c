/* The program cache: kernel sources (embedded, or read from
 * CLCNN_KERNEL_DIR), built once per (file, dtype, options) and kept in the
 * context with their kernels; and the launch helpers. */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "program_cache.h"

/* Kernels one program (a file built with one set of options) hands out: as
 * many as the file with the most entries has (conv_backward_data.cl: 7),
 * since tuning keys decide which kernels share a set of options, and any
 * values in range may ask one program for all of its file's kernels. */
#define MAX_KERNELS_PER_PROGRAM 8
/* The work-group sizes of a kernel whose first launch is counted
 * (clcnn_build_stats): ops launch a kernel at one or two. */
#define FIRST_LAUNCHES_KEPT 8

/* A kernel the cache handed out. */
typedef struct clcnn_cached_kernel {
    const char *entry; /* points to a string literal of the caller */
    cl_kernel kernel;
    size_t wg_limit;
    size_t launched[FIRST_LAUNCHES_KEPT][3]; /* the local sizes it was launched with */
    int n_launched;
} clcnn_cached_kernel;

struct clcnn_program {
    clcnn_kernel_file file;
    clcnn_dtype dtype;
    char *options;
    cl_program program;
    clcnn_cached_kernel kernels[MAX_KERNELS_PER_PROGRAM];
    int n_kernels;
    clcnn_program *next;
};

static const char *const file_names[CLCNN_FILE_COUNT] = {
#define CLCNN_X(name) #name ".cl",
    CLCNN_KERNEL_FILES(CLCNN_X)
#undef CLCNN_X
};

static const clcnn_embedded_source *embedded(const char *file)
{
    for (const clcnn_embedded_source *s = clcnn_embedded_sources; s->file; s++)
        if (strcmp(s->file, file) == 0)
            return s;
    return NULL;
}

/* Reads dir/file into a malloc'd string; NULL with a message on failure. */
static char *read_source(clcnn_context *ctx, const char *op, const char *file, size_t *length, clcnn_status *st)
{
    if (ctx->kernel_dir == NULL) {
        const clcnn_embedded_source *s = embedded(file);
        char *copy = s ? malloc(s->length + 1) : NULL;
        if (copy == NULL) {
            *st =
                s ? clcnn__fail(ctx, CLCNN_ERROR_OUT_OF_MEMORY,
                                "%s: out of host memory copying kernel source %s (%zu bytes)", op, file, s->length + 1)
                  : clcnn__fail(ctx, CLCNN_ERROR_KERNEL_BUILD,
                                "%s: kernel source %s is not built into this library (a clcnn build bug; "
                                "set CLCNN_KERNEL_DIR to a kernels/ directory as a workaround)",
                                op, file);
            return NULL;
        }
        memcpy(copy, s->text, s->length + 1);
        *length = s->length;
        return copy;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, file);
    FILE *fp = fopen(path, "rb");
    char *text = NULL;
    long size = -1;
    if (fp && fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
        text = malloc((size_t)size + 1);
        if (text && fread(text, 1, (size_t)size, fp) != (size_t)size) {
            free(text);
            text = NULL;
        }
    }
    if (fp)
        fclose(fp);
    if (text == NULL) {
        *st = clcnn__fail(ctx, CLCNN_ERROR_KERNEL_BUILD,
                          "%s: cannot read kernel source %s (CLCNN_KERNEL_DIR=%s); unset "
                          "CLCNN_KERNEL_DIR to use the built-in kernels",
                          op, path, ctx->kernel_dir);
        return NULL;
    }
    text[size] = '\0';
    *length = (size_t)size;
    return text;
}

/* Includes nest no deeper than this; deeper means an include cycle. */
#define MAX_INCLUDE_DEPTH 8

/* The quoted name of a line `#include "name"` (spaces allowed around '#'),
 * copied to name; 0 when the line is something else. */
static int include_name(const char *line, const char *end, char *name, size_t capacity)
{
    while (line < end && (*line == ' ' || *line == '\t'))
        line++;
    if (line == end || *line++ != '#')
        return 0;
    while (line < end && (*line == ' ' || *line == '\t'))
        line++;
    if ((size_t)(end - line) < 8 || strncmp(line, "include", 7) != 0)
        return 0;
    line += 7;
    while (line < end && (*line == ' ' || *line == '\t'))
        line++;
    if (line == end || *line++ != '"')
        return 0;
    const char *close = memchr(line, '"', (size_t)(end - line));
    if (close == NULL || (size_t)(close - line) >= capacity)
        return 0;
    memcpy(name, line, (size_t)(close - line));
    name[close - line] = '\0';
    return 1;
}

/* The source of `file` with each `#include "name"` line replaced by the
 * source of kernels/name, as the compiler would find it with -I kernels:
 * embedded sources have no directory to pass, so the host resolves the
 * includes itself, alike for both. Headers keep their own include guards.
 * A malloc'd string; NULL with a message on failure. */
static char *load_source(clcnn_context *ctx, const char *op, const char *file, int depth, size_t *length,
                         clcnn_status *st)
{
    size_t size = 0;
    char *text = read_source(ctx, op, file, &size, st);
    if (text == NULL)
        return NULL;
    char *out = NULL;
    size_t used = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        char name[256];
        size_t piece_length = (size_t)(end - line);
        char *piece = NULL;
        if (include_name(line, end, name, sizeof name)) {
            if (depth == MAX_INCLUDE_DEPTH) {
                *st =
                    clcnn__fail(ctx, CLCNN_ERROR_KERNEL_BUILD,
                                "%s: kernels/%s: includes nest deeper than %d (a cycle?)", op, file, MAX_INCLUDE_DEPTH);
                break;
            }
            piece = load_source(ctx, op, name, depth + 1, &piece_length, st);
            if (piece == NULL)
                break;
        }
        char *grown = realloc(out, used + piece_length + 2);
        if (grown == NULL) {
            free(piece);
            *st = clcnn__fail(ctx, CLCNN_ERROR_OUT_OF_MEMORY, "%s: out of host memory reading kernels/%s", op, file);
            break;
        }
        out = grown;
        memcpy(out + used, piece ? piece : line, piece_length);
        used += piece_length;
        if (piece && (piece_length == 0 || piece[piece_length - 1] != '\n'))
            out[used++] = '\n';
        out[used] = '\0';
        free(piece);
        line = end;
    }
    const int failed = *st != CLCNN_OK || (out == NULL && size > 0);
    free(text);
    if (failed) {
        free(out);
        return NULL;
    }
    if (out == NULL)
        out = calloc(1, 1);
    *length = used;
    return out;
}

/* A successful build's log holds the compiler's warnings, if any: kept for
 * clcnn_context_build_warnings (whole logs while they fit, then cut). */
static void keep_build_log(clcnn_context *ctx, const clcnn_program *p, const char *options)
{
    size_t size = 0;
    if (clGetProgramBuildInfo(p->program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size) != CL_SUCCESS || size <= 1)
        return;
    char *log = malloc(size + 1);
    if (log == NULL)
        return;
    if (clGetProgramBuildInfo(p->program, ctx->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) == CL_SUCCESS) {
        log[size] = '\0';
        const char *text = log;
        while (*text && isspace((unsigned char)*text))
            text++;
        size_t used = strlen(ctx->build_warnings);
        if (*text && used + 1 < sizeof ctx->build_warnings)
            snprintf(ctx->build_warnings + used, sizeof ctx->build_warnings - used,
                     "kernels/%s for %s, options '%s':\n%s%s", file_names[p->file], clcnn__dtype_name(p->dtype),
                     options, text, text[strlen(text) - 1] == '\n' ? "" : "\n");
    }
    free(log);
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static clcnn_status build(clcnn_context *ctx, const char *op, clcnn_program *p)
{
    const char *file = file_names[p->file];
    clcnn_status st = CLCNN_OK;
    size_t length = 0;
    char *source = load_source(ctx, op, file, 0, &length, &st);
    if (source == NULL)
        return st;
    char options[2048];
    snprintf(options, sizeof options, "-cl-std=CL1.2 %s %s %s", clcnn__dtype_define(p->dtype), p->options,
             ctx->extra_options ? ctx->extra_options : "");
    const double start = seconds_now();
    if (clcnn__program_cache_load(ctx, source, length, options, &p->program)) {
        free(source);
        ctx->builds.build_seconds += seconds_now() - start;
        ctx->builds.programs++;
        ctx->builds.cached_programs++;
        return CLCNN_OK;
    }
    cl_int err;
    p->program = clCreateProgramWithSource(ctx->context, 1, (const char **)&source, &length, &err);
    if (err != CL_SUCCESS) {
        free(source);
        return clcnn__cl_fail(ctx, op, "clCreateProgramWithSource", err);
    }
    err = clBuildProgram(p->program, 1, &ctx->device, options, NULL, NULL);
    ctx->builds.build_seconds += seconds_now() - start;
    if (err == CL_SUCCESS) {
        ctx->builds.programs++;
        keep_build_log(ctx, p, options);
        clcnn__program_cache_store(ctx, p->program, source, length, options);
        free(source);
        return CLCNN_OK;
    }
    free(source);
    /* Where the source came from decides what the user can do about it. */
    char where[1024];
    if (ctx->kernel_dir)
        snprintf(where, sizeof where, "%s/%s (from CLCNN_KERNEL_DIR; fix it or unset CLCNN_KERNEL_DIR)",
                 ctx->kernel_dir, file);
    else
        snprintf(where, sizeof where, "the built-in kernels/%s (the OpenCL compiler of %s rejected it)", file,
                 ctx->device_name);
    size_t used = (size_t)snprintf(ctx->last_error, sizeof ctx->last_error,
                                   "%s: building %s for %s failed with %s, options '%s'; build log:\n", op, where,
                                   clcnn__dtype_name(p->dtype), clcnn__cl_error_name(err), options);
    if (used < sizeof ctx->last_error)
        clGetProgramBuildInfo(p->program, ctx->device, CL_PROGRAM_BUILD_LOG, sizeof ctx->last_error - used - 1,
                              ctx->last_error + used, NULL);
    ctx->last_error[sizeof ctx->last_error - 1] = '\0';
    clReleaseProgram(p->program);
    p->program = NULL;
    return err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS ? CLCNN_ERROR_KERNEL_BUILD
                                                                              : CLCNN_ERROR_OPENCL;
}

static clcnn_program *find_program(clcnn_context *ctx, clcnn_kernel_file file, clcnn_dtype dtype, const char *options)
{
    for (clcnn_program *p = ctx->programs; p; p = p->next)
        if (p->file == file && p->dtype == dtype && strcmp(p->options, options) == 0)
            return p;
    return NULL;
}

/* Notes the kernel an op takes in the plan log (clcnn_context_plan). */
static void log_plan(clcnn_context *ctx, const clcnn_program *p, const char *entry)
{
    const size_t used = strlen(ctx->plan_log), room = sizeof ctx->plan_log - used;
    const int n = snprintf(ctx->plan_log + used, room, "%s %s %s%s%s\n", file_names[p->file], entry,
                           clcnn__dtype_name(p->dtype), p->options[0] ? " " : "", p->options);
    if (n < 0 || (size_t)n >= room)
        ctx->plan_log[used] = '\0', ctx->plan_dropped++;
}

clcnn_status clcnn__get_kernel(clcnn_context *ctx, const char *op, clcnn_kernel_file file, clcnn_dtype dtype,
                               const char *options, const char *entry, cl_kernel *out)
{
    clcnn_program *p = find_program(ctx, file, dtype, options ? options : "");
    if (p == NULL) {
        p = calloc(1, sizeof *p);
        char *opts = p ? malloc(strlen(options ? options : "") + 1) : NULL;
        if (opts == NULL) {
            free(p);
            return clcnn__fail(ctx, CLCNN_ERROR_OUT_OF_MEMORY, "%s: out of host memory", op);
        }
        strcpy(opts, options ? options : "");
        p->file = file;
        p->dtype = dtype;
        p->options = opts;
        clcnn_status st = build(ctx, op, p);
        if (st != CLCNN_OK) {
            free(p->options);
            free(p);
            return st;
        }
        p->next = ctx->programs;
        ctx->programs = p;
    }
    for (int i = 0; i < p->n_kernels; i++)
        if (strcmp(p->kernels[i].entry, entry) == 0) {
            *out = p->kernels[i].kernel;
            log_plan(ctx, p, entry);
            return CLCNN_OK;
        }
    if (p->n_kernels == MAX_KERNELS_PER_PROGRAM)
        return clcnn__fail(ctx, CLCNN_ERROR_OPENCL,
                           "%s: more than %d kernels requested from %s (a clcnn bug; please report it)", op,
                           MAX_KERNELS_PER_PROGRAM, file_names[file]);
    cl_int err;
    const double start = seconds_now();
    cl_kernel k = clCreateKernel(p->program, entry, &err);
    ctx->builds.build_seconds += seconds_now() - start;
    if (err == CL_INVALID_KERNEL_NAME)
        return clcnn__fail(ctx, CLCNN_ERROR_KERNEL_BUILD, "%s: kernels/%s has no kernel '%s'%s", op, file_names[file],
                           entry,
                           ctx->kernel_dir ? " (CLCNN_KERNEL_DIR may hold kernels of another clcnn version)" : "");
    if (err != CL_SUCCESS) {
        char what[160];
        snprintf(what, sizeof what, "clCreateKernel('%s' of %s)", entry, file_names[file]);
        return clcnn__cl_fail(ctx, op, what, err);
    }
    size_t limit = ctx->max_work_group_size;
    clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit, &limit, NULL);
    p->kernels[p->n_kernels].entry = entry;
    p->kernels[p->n_kernels].kernel = k;
    p->kernels[p->n_kernels].wg_limit = limit ? limit : 1;
    p->kernels[p->n_kernels].n_launched = 0;
    p->n_kernels++;
    *out = k;
    log_plan(ctx, p, entry);
    return CLCNN_OK;
}

clcnn_status clcnn__get_planned_kernel(clcnn_context *ctx, const char *op, clcnn_dtype dtype,
                                       const clcnn_kernel_plan *plan, cl_kernel *out)
{
    return clcnn__get_kernel(ctx, op, plan->file, dtype, plan->options, plan->entry, out);
}

clcnn_status clcnn_context_build_stats(clcnn_context *ctx, clcnn_build_stats *stats)
{
    clcnn_status st = clcnn__check_context(ctx, "clcnn_context_build_stats");
    if (st != CLCNN_OK)
        return st;
    if (stats == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_context_build_stats: stats is NULL");
    *stats = ctx->builds;
    return CLCNN_OK;
}

const char *clcnn_context_plan(clcnn_context *ctx)
{
    if (ctx == NULL)
        return "";
    if (ctx->plan_dropped)
        snprintf(ctx->plan_read, sizeof ctx->plan_read, "%s(%lu more not kept)\n", ctx->plan_log, ctx->plan_dropped);
    else
        snprintf(ctx->plan_read, sizeof ctx->plan_read, "%s", ctx->plan_log);
    ctx->plan_log[0] = '\0';
    ctx->plan_dropped = 0;
    return ctx->plan_read;
}

/* The cache's record of kernel, or NULL for a kernel the cache did not
 * hand out. */
static clcnn_cached_kernel *cached_kernel(clcnn_context *ctx, cl_kernel kernel)
{
    for (clcnn_program *p = ctx->programs; p; p = p->next)
        for (int i = 0; i < p->n_kernels; i++)
            if (p->kernels[i].kernel == kernel)
                return &p->kernels[i];
    return NULL;
}

size_t clcnn__kernel_wg_limit(clcnn_context *ctx, cl_kernel kernel)
{
    const clcnn_cached_kernel *k = cached_kernel(ctx, kernel);
    return k ? k->wg_limit : 1;
}

/* Whether this is k's first launch at the local size l (dims of them),
 * which it then records: POCL compiles a kernel's machine code at its
 * first enqueue per local size. */
static int first_launch(clcnn_cached_kernel *k, cl_uint dims, const size_t l[])
{
    if (k == NULL)
        return 0;
    const size_t size[3] = {l[0], dims > 1 ? l[1] : 1, dims > 2 ? l[2] : 1};
    for (int j = 0; j < k->n_launched; j++)
        if (memcmp(k->launched[j], size, sizeof size) == 0)
            return 0;
    if (k->n_launched == FIRST_LAUNCHES_KEPT)
        return 0;
    memcpy(k->launched[k->n_launched++], size, sizeof size);
    return 1;
}

void clcnn__release_programs(clcnn_context *ctx)
{
    clcnn_program *p = ctx->programs;
    while (p) {
        clcnn_program *next = p->next;
        for (int i = 0; i < p->n_kernels; i++)
            clReleaseKernel(p->kernels[i].kernel);
        clReleaseProgram(p->program);
        free(p->options);
        free(p);
        p = next;
    }
    ctx->programs = NULL;
}

clcnn_status clcnn__set_args(clcnn_context *ctx, const char *op, cl_kernel kernel, const clcnn_arg *args, int count)
{
    for (int i = 0; i < count; i++) {
        cl_int err = clSetKernelArg(kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[64];
            snprintf(what, sizeof what, "clSetKernelArg(%d)", i);
            return clcnn__cl_fail(ctx, op, what, err);
        }
    }
    return CLCNN_OK;
}

clcnn_status clcnn__launch(clcnn_context *ctx, const char *op, cl_kernel kernel, cl_uint dims, const size_t global[],
                           const size_t local[])
{
    size_t g[3], l[3];
    clcnn_cached_kernel *cached = cached_kernel(ctx, kernel);
    size_t limit = cached ? cached->wg_limit : 1, group = 1;
    double started = 0;
    for (cl_uint d = 0; d < dims; d++) {
        l[d] = local ? local[d] : 1;
        /* Shrink the group until it fits the kernel's and the device's limit. */
        while (l[d] > 1 && group * l[d] > limit)
            l[d] /= 2;
        group *= l[d];
        g[d] = clcnn__round_up(global[d] ? global[d] : 1, l[d]);
    }
    /* While profiling, the launch keeps its event (see clcnn_context_launches). */
    cl_event event = NULL;
    cl_event *keep = ctx->profiling && ctx->launch_count < CLCNN_LAUNCHES_KEPT ? &event : NULL;
    cl_int err = clcnn__fault_point(ctx, CLCNN_FAULT_ENQUEUE);
    /* A first launch runs alone, so that its wall time is its own code
     * generation and run (clcnn_build_stats). */
    const int first = err == CL_SUCCESS && first_launch(cached, dims, l);
    if (first && (err = clFinish(ctx->queue)) == CL_SUCCESS)
        started = seconds_now();
    if (err == CL_SUCCESS)
        err = clEnqueueNDRangeKernel(ctx->queue, kernel, dims, NULL, g, l, 0, NULL, keep);
    if (first && err == CL_SUCCESS && (err = clFinish(ctx->queue)) == CL_SUCCESS) {
        ctx->builds.first_launches++;
        ctx->builds.first_launch_seconds += seconds_now() - started;
    }
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clEnqueueNDRangeKernel", err);
    if (keep) {
        clcnn_recorded_launch *r = &ctx->launches[ctx->launch_count++];
        memset(r, 0, sizeof *r);
        r->event = event;
        if (clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, sizeof r->launch.kernel, r->launch.kernel, NULL) !=
            CL_SUCCESS)
            r->launch.kernel[0] = '\0';
        r->launch.dims = dims;
        for (cl_uint d = 0; d < 3; d++) {
            r->launch.global[d] = d < dims ? g[d] : 1;
            r->launch.local[d] = d < dims ? l[d] : 1;
        }
    } else if (ctx->profiling) {
        ctx->launches_dropped++;
    }
    return CLCNN_OK;
}

void clcnn__forget_launches(clcnn_context *ctx)
{
    for (size_t i = 0; i < ctx->launch_count; i++)
        clReleaseEvent(ctx->launches[i].event);
    ctx->launch_count = ctx->launches_dropped = 0;
}

clcnn_status clcnn_context_launches(clcnn_context *ctx, clcnn_launch *records, size_t capacity, size_t *count)
{
    static const char op[] = "context_launches";
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK)
        return st;
    if (count == NULL || (records == NULL && capacity > 0))
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op,
                           count == NULL ? "count" : "records (with a capacity above 0)");
    if (!ctx->profiling)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: profiling is off; call clcnn_context_profile(ctx, 1) before the ops", op);
    cl_int err = clFinish(ctx->queue);
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clFinish", err);
    for (size_t i = 0; i < ctx->launch_count && i < capacity && err == CL_SUCCESS; i++) {
        cl_ulong start = 0, end = 0;
        err = clGetEventProfilingInfo(ctx->launches[i].event, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL);
        if (err == CL_SUCCESS)
            err = clGetEventProfilingInfo(ctx->launches[i].event, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL);
        records[i] = ctx->launches[i].launch;
        records[i].ms = end >= start ? (double)(end - start) * 1e-6 : 0.0;
    }
    *count = ctx->launch_count + ctx->launches_dropped;
    clcnn__forget_launches(ctx);
    return err == CL_SUCCESS ? CLCNN_OK : clcnn__cl_fail(ctx, op, "clGetEventProfilingInfo", err);
}
