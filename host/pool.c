/* Max and average pooling forward and backward: validation, a launch plan
 * (kernels, tile options, workspace: everything that can fail) and then the
 * kernels of pool_forward.cl and pool_backward.cl. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Up to this many input elements, max pool backward with overlapping
 * windows skips the argmax pass and rescans the windows: its launch costs
 * more than the rescans. */
#define POOL_RECOMPUTE_MAX_ELEMENTS 8192

typedef struct pool_shape {
    int n_H_prev, n_W_prev, n_C, n_H, n_W;
    size_t out_dims[4];
} pool_shape;

static clcnn_status pool_validate(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, int f,
                                  int stride, clcnn_pool_mode mode, pool_shape *s)
{
    clcnn_status st = clcnn__check_context(ctx, op);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "a_prev", a_prev, a_prev ? a_prev->dtype : CLCNN_FLOAT32)))
        return st;
    if (f < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: f is %d; the window must be at least 1", op, f);
    if (stride < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: stride is %d; it must be at least 1", op, stride);
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVERAGE)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: mode is %d; use CLCNN_POOL_MAX (0) or CLCNN_POOL_AVERAGE (1)", op, (int)mode);
    const size_t *d = a_prev->dims;
    if ((size_t)f > d[1] || (size_t)f > d[2])
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE, "%s: the %d x %d window is larger than the input %zu x %zu",
                           op, f, f, d[1], d[2]);
    s->n_H_prev = (int)d[1];
    s->n_W_prev = (int)d[2];
    s->n_C = (int)d[3];
    s->n_H = (s->n_H_prev - f) / stride + 1;
    s->n_W = (s->n_W_prev - f) / stride + 1;
    s->out_dims[0] = d[0];
    s->out_dims[1] = (size_t)s->n_H;
    s->out_dims[2] = (size_t)s->n_W;
    s->out_dims[3] = d[3];
    return CLCNN_OK;
}

typedef struct pool_plan {
    int vector;        /* channels per load: realN */
    int channels;      /* channels per work-item, a multiple of vector */
    int tile;          /* units (pixels or blocks) along w per work-item */
    int local;         /* work-items per group */
    int cpu_rows;      /* CPUs: groups of `local` rows (see enqueue) */
    char options[256]; /* -D options of the kernels */
} pool_plan;

/* The launch plan for a window of f with this stride on n_C channels, for
 * a call that writes `out_bytes`.
 * The widths come from the device table (pool_vector, pool_tile,
 * pool_local in device.c, overridable with CLCNN_TUNE).
 * CPUs (POCL runs a work-group as a loop over its items): loads of up to 16
 * channels (two or four SIMD registers); all of n_C per item, so that an
 * item reads whole pixels in address order, which the hardware prefetchers
 * follow far better than items that each take a slice of every pixel; and 4 units
 * along w per item to amortise its index arithmetic. An output of an
 * eighth of the cache or more is written with non-temporal stores: with
 * the inputs streaming through it would mostly be evicted before its next
 * use anyway, and those stores skip reading each output line before
 * overwriting it.
 * GPUs: 4 channels and one unit per item, for parallelism and coalescing.
 * Small windows are compiled in as constants (unrolled loops, shifts for
 * the divisions); a program per (f, stride) pair is cheap for these few. */
static void plan_pool(const clcnn_context *ctx, int n_C, int f, int stride, size_t out_bytes, pool_plan *p)
{
    const int cpu = (ctx->device_type & CL_DEVICE_TYPE_CPU) != 0;
    /* CPUs: the widest vector that fits in n_C; when it does not divide
     * n_C, each pixel's last vector overlaps the one before (CHANNEL_TAIL),
     * which keeps the whole width for any n_C >= 16 instead of falling
     * back to narrower vectors, down to scalar.
     * GPUs: a vector that divides n_C, since an overlap there would be
     * written by two work-items. */
    const clcnn_tuning *t = &ctx->tuning;
    p->vector = t->pool_vector;
    while (p->vector > 1 && (cpu ? p->vector > n_C : n_C % p->vector != 0))
        p->vector /= 2;
    const int tail = n_C % p->vector != 0;
    p->channels = cpu ? n_C : p->vector;
    p->tile = t->pool_tile;
    p->local = t->pool_local;
    p->cpu_rows = cpu;
    cl_ulong cache = 0;
    if (cpu)
        clGetDeviceInfo(ctx->device, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof cache, &cache, NULL);
    /* Non-temporal vector stores need aligned addresses, which a tail breaks. */
    const int stream = cache > 0 && out_bytes >= cache / 8 && !tail;

    int used = snprintf(p->options, sizeof p->options, "-DCLCNN_POOL=1 -DVECTOR=%d -DTILE_W=%d%s", p->vector, p->tile,
                        tail ? " -DCHANNEL_TAIL=1" : "");
    if (f <= 4 && stride <= 4)
        used += snprintf(p->options + used, sizeof p->options - (size_t)used, " -DPOOL_F=%d -DPOOL_STRIDE=%d", f,
                         stride);
    /* Positions in a window run to f * f - 1; uchar holds them up to 16 x 16. */
    if (f > 16)
        used += snprintf(p->options + used, sizeof p->options - (size_t)used, " -DARGMAX_TYPE=int");
    if (stream)
        snprintf(p->options + used, sizeof p->options - (size_t)used, " -DSTREAM_STORES=1");
}

/* Enqueues `kernel` over channel groups x (units / tile) x rows. */
static clcnn_status enqueue(clcnn_context *ctx, const char *op, const pool_plan *p, cl_kernel kernel,
                            const clcnn_arg *args, int count, int n_C, int units, int rows)
{
    const size_t groups = (size_t)(n_C / p->channels), tiles = clcnn__div_up((size_t)units, (size_t)p->tile);
    const size_t global[3] = {groups, tiles, (size_t)rows};
    size_t local[3];
    if (p->cpu_rows) {
        /* Whole rows per group (items along a row are neighbours in memory,
         * which the prefetchers follow), in power-of-two shapes: POCL
         * compiles a kernel for each work-group size it meets, so exact
         * shapes cost a compile per new shape (`clcnn check` on random
         * shapes spent most of its time there), and 7 sizes bound that. The
         * launch rounds the global size up; the extra items return. */
        size_t along = 1;
        while (along < tiles && along < (size_t)p->local)
            along *= 2;
        local[0] = 1;
        local[1] = along;
        local[2] = (size_t)p->local / along;
    } else {
        local[0] = groups < (size_t)p->local ? groups : (size_t)p->local;
        local[1] = (size_t)p->local / local[0];
        if (local[1] > tiles)
            local[1] = tiles;
        local[2] = (size_t)p->local / (local[0] * local[1]);
        if (local[2] > (size_t)rows)
            local[2] = (size_t)rows;
    }
    clcnn_status st = clcnn__set_args(ctx, op, kernel, args, count);
    return st ? st : clcnn__launch(ctx, op, kernel, 3, global, local);
}

clcnn_status clcnn_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, int f, int stride,
                                clcnn_pool_mode mode, clcnn_tensor *a)
{
    static const char op[] = "pool_forward";
    pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "a", a, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "a", a, s.out_dims)) ||
        (st = clcnn__check_distinct(ctx, op, "a", a, "a_prev", a_prev)))
        return st;
    pool_plan p;
    plan_pool(ctx, s.n_C, f, stride, a->bytes, &p);
    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_forward, a_prev->dtype, p.options,
                                mode == CLCNN_POOL_MAX ? "pool_forward_max" : "pool_forward_average", &k)))
        return st;
    const int rows = (int)a->dims[0] * s.n_H;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(a->mem),  CLCNN_ARG(rows),
                              CLCNN_ARG(s.n_H_prev),  CLCNN_ARG(s.n_W_prev), CLCNN_ARG(s.n_C),
                              CLCNN_ARG(s.n_H),       CLCNN_ARG(s.n_W),      CLCNN_ARG(f),
                              CLCNN_ARG(stride),      CLCNN_ARG(p.channels)};
    return enqueue(ctx, op, &p, k, args, (int)(sizeof args / sizeof args[0]), s.n_C, s.n_W, rows);
}

clcnn_status clcnn_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev, int f,
                                 int stride, clcnn_pool_mode mode, clcnn_tensor *da_prev)
{
    static const char op[] = "pool_backward";
    pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    if (st != CLCNN_OK)
        return st;
    if ((st = clcnn__check_tensor(ctx, op, "da", da, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "da", da, s.out_dims)) ||
        (st = clcnn__check_tensor(ctx, op, "da_prev", da_prev, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "da_prev", da_prev, a_prev->dims)) ||
        (st = clcnn__check_distinct(ctx, op, "da_prev", da_prev, "a_prev", a_prev)) ||
        (st = clcnn__check_distinct(ctx, op, "da_prev", da_prev, "da", da)))
        return st;

    const clcnn_dtype dt = a_prev->dtype;
    const int m = (int)a_prev->dims[0];
    pool_plan p;
    plan_pool(ctx, s.n_C, f, stride, da_prev->bytes, &p);
    /* The arguments every backward kernel ends with. */
#define POOL_SHAPE_ARGS                                                                                   \
    CLCNN_ARG(s.n_H_prev), CLCNN_ARG(s.n_W_prev), CLCNN_ARG(s.n_C), CLCNN_ARG(s.n_H), CLCNN_ARG(s.n_W), \
        CLCNN_ARG(f), CLCNN_ARG(stride), CLCNN_ARG(p.channels)

    if (f <= stride) {
        /* Windows do not overlap: one pass over stride x stride blocks. */
        cl_kernel k;
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_backward_blocks", &k)))
            return st;
        const int block_rows = m * (int)clcnn__div_up((size_t)s.n_H_prev, (size_t)stride);
        const int block_cols = (int)clcnn__div_up((size_t)s.n_W_prev, (size_t)stride);
        const int use_max = mode == CLCNN_POOL_MAX;
        const clcnn_arg args[] = {CLCNN_ARG(da->mem),    CLCNN_ARG(a_prev->mem), CLCNN_ARG(da_prev->mem),
                                  CLCNN_ARG(block_rows), POOL_SHAPE_ARGS,        CLCNN_ARG(use_max)};
        return enqueue(ctx, op, &p, k, args, (int)(sizeof args / sizeof args[0]), s.n_C, block_cols, block_rows);
    }

    const int input_rows = m * s.n_H_prev;
    if (mode == CLCNN_POOL_AVERAGE) {
        cl_kernel k;
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_backward_average", &k)))
            return st;
        const clcnn_arg args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(da_prev->mem), CLCNN_ARG(input_rows),
                                  POOL_SHAPE_ARGS};
        return enqueue(ctx, op, &p, k, args, (int)(sizeof args / sizeof args[0]), s.n_C, s.n_W_prev, input_rows);
    }

    /* Max with overlapping windows: the argmax pass, then the gather; on
     * tiny tensors, where a launch costs more than scanning each covering
     * window again, a gather built to do that alone. The kernels and the
     * workspace come first, so that nothing can fail after an enqueue. */
    const int recompute = a_prev->count <= POOL_RECOMPUTE_MAX_ELEMENTS;
    cl_kernel argmax = NULL, gather;
    cl_mem positions = da->mem; /* not read when recomputing */
    if (recompute) {
        const size_t used = strlen(p.options);
        snprintf(p.options + used, sizeof p.options - used, " -DRECOMPUTE_ARGMAX=1");
    }
    const size_t position_bytes = f > 16 ? sizeof(cl_int) : 1;
    if ((!recompute &&
         ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_argmax", &argmax)) ||
          (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_POOL_ARGMAX, da->count * position_bytes, &positions)))) ||
        (st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_backward_max", &gather)))
        return st;
    if (!recompute) {
        const int output_rows = m * s.n_H;
        const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(positions), CLCNN_ARG(output_rows),
                                  POOL_SHAPE_ARGS};
        if ((st = enqueue(ctx, op, &p, argmax, args, (int)(sizeof args / sizeof args[0]), s.n_C, s.n_W,
                          output_rows)))
            return st;
    }
    const clcnn_arg args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(positions), CLCNN_ARG(a_prev->mem),
                              CLCNN_ARG(da_prev->mem), CLCNN_ARG(input_rows), POOL_SHAPE_ARGS};
#undef POOL_SHAPE_ARGS
    return enqueue(ctx, op, &p, gather, args, (int)(sizeof args / sizeof args[0]), s.n_C, s.n_W_prev, input_rows);
}
