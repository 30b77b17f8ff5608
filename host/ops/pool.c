/* Max and average pooling forward and backward: validation, a launch plan
 * (kernels, tile options, workspace: everything that can fail) and then the
 * kernels of pool_forward.cl and pool_backward.cl. The walkthrough's ops
 * (clcnn_pool_forward, clcnn_pool_backward) validate their own arguments
 * and then run the same code as the _ex ops with
 * clcnn_pool_params_default(f, stride). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "output_dims.h"
/* The kernels' shape arguments, one list for both sides. */
#include "shape_params.h"

/* A validated call's geometry: the input and output extents and the params
 * as the kernels take them. */
typedef struct pool_shape {
    int n_H_prev, n_W_prev, n_C, n_H, n_W;
    clcnn_pool_params p;
    clcnn_pool_params given; /* as the caller gave them: the tuning database's key */
    size_t out_dims[4];
} pool_shape;

/* Fills s from a_prev and params that have passed validation. Along an
 * axis with one output, every stride gives the same one window, so the
 * stride is set to the window: the kernels' index arithmetic then never
 * meets a stride near INT_MAX, and a stride below the window (global
 * pooling with stride 1) no longer looks like overlapping windows, which
 * would cost max pooling's backward a second launch (the argmax pass). */
static void pool_shape_init(const clcnn_tensor *a_prev, const clcnn_pool_params *params, pool_shape *s)
{
    const size_t *d = a_prev->dims;
    s->p = s->given = *params;
    s->n_H_prev = (int)d[1];
    s->n_W_prev = (int)d[2];
    s->n_C = (int)d[3];
    const long long padded_h = (long long)d[1] + params->pad_top + params->pad_bottom;
    const long long padded_w = (long long)d[2] + params->pad_left + params->pad_right;
    s->n_H = (int)((padded_h - params->f_h) / params->stride_h + 1);
    s->n_W = (int)((padded_w - params->f_w) / params->stride_w + 1);
    if (s->n_H == 1)
        s->p.stride_h = params->f_h;
    if (s->n_W == 1)
        s->p.stride_w = params->f_w;
    s->out_dims[0] = d[0];
    s->out_dims[1] = (size_t)s->n_H;
    s->out_dims[2] = (size_t)s->n_W;
    s->out_dims[3] = d[3];
}

static clcnn_status check_mode(clcnn_context *ctx, const char *op, clcnn_pool_mode mode)
{
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVERAGE)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: mode is %d; use CLCNN_POOL_MAX (0) or CLCNN_POOL_AVERAGE (1)", op, (int)mode);
    return CLCNN_OK;
}

/* The walkthrough's arguments (f, stride), with their own messages. */
static clcnn_status pool_validate(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, int f, int stride,
                                  clcnn_pool_mode mode, pool_shape *s)
{
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "a_prev", a_prev)))
        return st;
    if (f < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: f is %d; the window must be at least 1", op, f);
    if (stride < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: stride is %d; it must be at least 1", op, stride);
    if ((st = check_mode(ctx, op, mode)))
        return st;
    const size_t *d = a_prev->dims;
    if ((size_t)f > d[1] || (size_t)f > d[2])
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE, "%s: the %d x %d window is larger than the input %zu x %zu", op, f,
                           f, d[1], d[2]);
    const clcnn_pool_params params = clcnn_pool_params_default(f, stride);
    pool_shape_init(a_prev, &params, s);
    return CLCNN_OK;
}

/* One axis of clcnn_pool_params: its field names and values. */
typedef struct pool_axis {
    const char *f_name, *stride_name, *pad_names[2], *extent; /* extent: "n_H_prev" */
    int f, stride, pads[2];
} pool_axis;

static clcnn_status check_axis(clcnn_context *ctx, const char *op, const pool_axis *a)
{
    if (a->f < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: params->%s is %d; the window must be at least 1 on each axis", op, a->f_name, a->f);
    if (a->stride < 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: params->%s is %d; it must be at least 1", op,
                           a->stride_name, a->stride);
    for (int k = 0; k < 2; k++) {
        if (a->pads[k] < 0)
            return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: params->%s is %d; a pad must be 0 or more", op,
                               a->pad_names[k], a->pads[k]);
        if (a->pads[k] >= a->f)
            return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                               "%s: params->%s is %d; each pad must be less than the window on its axis (%s %d)", op,
                               a->pad_names[k], a->pads[k], a->f_name, a->f);
    }
    return CLCNN_OK;
}

/* The window against the input's extent n along one axis. */
static clcnn_status check_axis_fits(clcnn_context *ctx, const char *op, const pool_axis *a, size_t n)
{
    const long long padded = (long long)n + a->pads[0] + a->pads[1];
    if (padded > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: the padded input spans %lld (%s %zu + %s %d + %s %d); kernels index with 32 "
                           "bits, so at most %d: use less padding",
                           op, padded, a->extent, n, a->pad_names[0], a->pads[0], a->pad_names[1], a->pads[1], INT_MAX);
    if (a->f > padded)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: params->%s is %d but the padded input spans %lld (%s %zu + %s %d + %s %d); "
                           "use a window that fits, or more padding",
                           op, a->f_name, a->f, padded, a->extent, n, a->pad_names[0], a->pads[0], a->pad_names[1],
                           a->pads[1]);
    return CLCNN_OK;
}

/* The _ex ops' arguments: every field of params, then the window against
 * the input. */
static clcnn_status pool_validate_ex(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                     const clcnn_pool_params *params, clcnn_pool_mode mode, pool_shape *s)
{
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "a_prev", a_prev)))
        return st;
    if (params == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: params is NULL; pass a clcnn_pool_params, e.g. from "
                           "clcnn_pool_params_default(f, stride)",
                           op);
    const pool_axis rows = {"f_h",
                            "stride_h",
                            {"pad_top", "pad_bottom"},
                            "n_H_prev",
                            params->f_h,
                            params->stride_h,
                            {params->pad_top, params->pad_bottom}};
    const pool_axis cols = {"f_w",
                            "stride_w",
                            {"pad_left", "pad_right"},
                            "n_W_prev",
                            params->f_w,
                            params->stride_w,
                            {params->pad_left, params->pad_right}};
    if ((st = check_axis(ctx, op, &rows)) || (st = check_axis(ctx, op, &cols)))
        return st;
    if (params->count_include_pad != 0 && params->count_include_pad != 1)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: params->count_include_pad is %d; use 1 (an average divides by f_h * f_w) or 0 "
                           "(by the window's pixels inside the input)",
                           op, params->count_include_pad);
    if ((st = check_mode(ctx, op, mode)))
        return st;
    if ((st = check_axis_fits(ctx, op, &rows, a_prev->dims[1])) ||
        (st = check_axis_fits(ctx, op, &cols, a_prev->dims[2])))
        return st;
    /* Positions in a window (the argmax) and its divisor are ints in the
     * kernels; only padding can make a window this large. */
    const long long taps = (long long)params->f_h * params->f_w;
    if (taps > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: the params->f_h x params->f_w window (%d x %d) has %lld positions; kernels "
                           "index them with 32 bits, so at most %d: use a smaller window and less padding",
                           op, params->f_h, params->f_w, taps, INT_MAX);
    pool_shape_init(a_prev, params, s);
    return CLCNN_OK;
}

typedef struct pool_plan {
    int vector;          /* channels per load: realN */
    int channels;        /* channels per work-item, a multiple of vector */
    int tile;            /* units (pixels or blocks) along w per work-item */
    int local;           /* work-items per group */
    int row_groups;      /* groups of whole rows, as CPUs take them (see enqueue) */
    int padded;          /* some pad is not 0 */
    size_t argmax_bytes; /* of one window position in the argmax workspace */
    char options[256];   /* -D options of the kernels */
} pool_plan;

/* The launch plan for the shape s, for a call that writes `out_bytes`.
 * Every choice comes from the tuning (the pool_* keys in tuning_table.h,
 * overridable with CLCNN_TUNE). The CPU column (POCL runs a work-group as a
 * loop over its items): loads of up to 16 channels (two or four SIMD
 * registers); all of n_C per item (pool_whole_pixels), so that an item
 * reads whole pixels in address order, which the hardware prefetchers
 * follow far better than items that each take a slice of every pixel; and
 * 4 units along w per item to amortise its index arithmetic. A large
 * output is written with non-temporal stores (clcnn__stream_stores). When
 * the output has one pixel per image (global pooling), items of all of n_C
 * would number only m, too few to share among the cores: there an item
 * takes a run of channel vectors (pool_global_runs). The GPU column: 4
 * channels and one unit per item, for parallelism and coalescing.
 * Windows and strides up to pool_const_window are compiled in as constants
 * (unrolled loops, shifts for the divisions); a program per (window,
 * strides) is cheap for these few.
 * Padding is compiled in or out (POOL_PADDED), so that windows without it
 * pay nothing for it. */
static void plan_pool(const clcnn_context *ctx, const pool_shape *s, size_t out_bytes, int rows, int units,
                      pool_plan *p)
{
    const clcnn_pool_params *q = &s->p;
    const int one_window = s->n_H == 1 && s->n_W == 1;
    const clcnn_tuning *t = &ctx->tuning;
    /* Items of all of n_C: the widest vector that fits in n_C; when it does
     * not divide n_C, each pixel's last vector overlaps the one before
     * (CHANNEL_TAIL), which keeps the whole width for any n_C >= 16
     * instead of falling back to narrower vectors, down to scalar.
     * Items of one vector: a vector that divides n_C, since an overlap
     * there would be written by two work-items. */
    const int whole_pixels = t->pool_whole_pixels && !one_window;
    p->vector = t->pool_vector;
    while (p->vector > 1 && (whole_pixels ? p->vector > s->n_C : s->n_C % p->vector != 0))
        p->vector /= 2;
    const int tail = s->n_C % p->vector != 0;
    p->channels = whole_pixels ? s->n_C : p->vector;
    p->tile = t->pool_tile;
    if (t->pool_global_runs && one_window) {
        /* Global pooling: as many whole vectors per item as leave
         * pool_global_min_items items over the `rows` x `units` of the main
         * pass (all of n_C for the backward's many input pixels, a run of
         * channels for the forward's one pixel per image), so that an item
         * reads and writes runs of channels rather than one vector of each
         * pixel, and the items still spread over the cores. */
        const int vectors = s->n_C / p->vector;
        const long long pixel_items = (long long)rows * (long long)clcnn__div_up((size_t)units, (size_t)p->tile);
        int per_item = vectors;
        while (per_item > 1 &&
               (vectors % per_item != 0 || pixel_items * (vectors / per_item) < t->pool_global_min_items))
            per_item--;
        p->channels = per_item * p->vector;
    }
    /* One-window pooling: the taps read up to pool_channel_block vectors
     * at once, as many as divide the item's (whole-pixel items may end in
     * an overlapping vector, which a block would step past). */
    const int item_vectors = p->channels / p->vector;
    int block = one_window ? t->pool_channel_block : 1;
    while (block > 1 && item_vectors % block != 0)
        block /= 2;
    p->local = t->pool_local;
    p->row_groups = t->pool_row_groups;
    p->padded = q->pad_top || q->pad_bottom || q->pad_left || q->pad_right;
    /* A tail's overlapping vectors are unaligned. */
    const int stream = clcnn__stream_stores(ctx, out_bytes, !tail);

    int used = snprintf(p->options, sizeof p->options, "-DVECTOR=%d -DTILE_W=%d -DPOOL_PADDED=%d -DCHANNEL_BLOCK=%d%s",
                        p->vector, p->tile, p->padded, block, tail ? " -DCHANNEL_TAIL=1" : "");
    const int fixed = t->pool_const_window;
    if (q->f_h <= fixed && q->f_w <= fixed && q->stride_h <= fixed && q->stride_w <= fixed)
        used += snprintf(p->options + used, sizeof p->options - (size_t)used,
                         " -DPOOL_F_H=%d -DPOOL_F_W=%d -DPOOL_STRIDE_H=%d -DPOOL_STRIDE_W=%d", q->f_h, q->f_w,
                         q->stride_h, q->stride_w);
    /* Positions in a window run to f_h * f_w - 1; uchar holds them up to 256 taps. */
    p->argmax_bytes = (long long)q->f_h * q->f_w > 256 ? sizeof(cl_int) : 1;
    used += snprintf(p->options + used, sizeof p->options - (size_t)used, " -DARGMAX_TYPE=%s",
                     p->argmax_bytes == 1 ? "uchar" : "int");
    if (stream)
        snprintf(p->options + used, sizeof p->options - (size_t)used, " -DSTREAM_STORES=1");
}

/* The shape arguments every kernel ends with, for pool_shape s and
 * pool_plan p: expanded from the list the kernels' POOL_SHAPE_PARAMS
 * expands (kernels/shape_params.h). */
#define POOL_ARG_SHAPE(shape, plan, name) (shape).name
#define POOL_ARG_PARAMS(shape, plan, name) (shape).p.name
#define POOL_ARG_PLAN(shape, plan, name) (plan).name
#define POOL_SHAPE_ARG(shape, plan, where, name) CLCNN_ARG(POOL_ARG_##where(shape, plan, name))
#define POOL_SHAPE_ARGS(s, p) CLCNN_POOL_SHAPE(POOL_SHAPE_ARG, CLCNN_COMMA, s, p)

/* Enqueues `kernel` over channel groups x (units / tile) x rows. */
static clcnn_status enqueue(clcnn_context *ctx, const char *op, const pool_plan *p, cl_kernel kernel,
                            const clcnn_arg *args, int count, int n_C, int units, int rows)
{
    const size_t groups = (size_t)(n_C / p->channels), tiles = clcnn__div_up((size_t)units, (size_t)p->tile);
    const size_t global[3] = {groups, tiles, (size_t)rows};
    size_t local[3];
    if (p->row_groups) {
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
        /* Not more rows than the launch has (global pooling's forward has
         * one per image): the rest of such groups would be items that
         * only return. */
        while (local[2] > 1 && local[2] / 2 >= (size_t)rows)
            local[2] /= 2;
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

/* Global pooling: one output pixel per image whose window covers the
 * whole padded input, so that every input pixel is in it (an output of
 * 1 x 1 alone is not enough: a window smaller than the input with a stride
 * past the rest also gives one). Its backward takes pool_backward.cl's
 * global kernels. */
static int pool_is_global(const pool_shape *s)
{
    const clcnn_pool_params *q = &s->p;
    return s->n_H == 1 && s->n_W == 1 && q->f_h == s->n_H_prev + q->pad_top + q->pad_bottom &&
           q->f_w == s->n_W_prev + q->pad_left + q->pad_right;
}

/* Pooling forward of a validated shape; checks the output, then enqueues. */
static clcnn_status pool_forward_planned(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                         const pool_shape *s, clcnn_pool_mode mode, clcnn_tensor *a)
{
    clcnn_status st;
    if ((st = clcnn__check_tensor(ctx, op, "a", a, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "a", a, s->out_dims)) ||
        (st = clcnn__check_distinct(ctx, op, "a", a, "a_prev", a_prev)))
        return st;
    const int rows = (int)a->dims[0] * s->n_H;
    pool_plan p;
    plan_pool(ctx, s, a->bytes, rows, s->n_W, &p);
    cl_kernel k;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_forward, a_prev->dtype, p.options,
                                mode == CLCNN_POOL_MAX ? "pool_forward_max" : "pool_forward_average", &k)))
        return st;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(a->mem), CLCNN_ARG(rows), POOL_SHAPE_ARGS(*s, p)};
    return enqueue(ctx, op, &p, k, args, (int)(sizeof args / sizeof args[0]), s->n_C, s->n_W, rows);
}

/* Global pooling's backward, one launch: an item per run of channels of
 * an image (the "rows" are the images, with one unit each). */
static clcnn_status pool_backward_global(clcnn_context *ctx, const char *op, const clcnn_tensor *da,
                                         const clcnn_tensor *a_prev, const pool_shape *s, clcnn_pool_mode mode,
                                         clcnn_tensor *da_prev)
{
    const int m = (int)a_prev->dims[0], use_max = mode == CLCNN_POOL_MAX;
    pool_plan p;
    plan_pool(ctx, s, da_prev->bytes, m, 1, &p);
    cl_kernel k;
    clcnn_status st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, a_prev->dtype, p.options,
                                        use_max ? "pool_backward_global_max" : "pool_backward_global_average", &k);
    if (st)
        return st;
    const clcnn_arg max_args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(a_prev->mem), CLCNN_ARG(da_prev->mem), CLCNN_ARG(m),
                                  POOL_SHAPE_ARGS(*s, p)};
    const clcnn_arg average_args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(da_prev->mem), CLCNN_ARG(m),
                                      POOL_SHAPE_ARGS(*s, p)};
    if (use_max)
        return enqueue(ctx, op, &p, k, max_args, (int)(sizeof max_args / sizeof max_args[0]), s->n_C, 1, m);
    return enqueue(ctx, op, &p, k, average_args, (int)(sizeof average_args / sizeof average_args[0]), s->n_C, 1, m);
}

/* Pooling backward's kernels, in the order of the pool_backward key's
 * names (CLCNN_TUNING_CHOICES in tuning_table.h). */
#define POOL_BACKWARD_ENUM(name) POOL_BACKWARD_##name,
typedef enum pool_backward_way {
    POOL_BACKWARD_auto,
    /* global: pool_backward_global_max or _average; blocks:
     * pool_backward_blocks; gather: pool_backward_average, or pool_argmax
     * then pool_backward_max; recompute: max, pool_backward_max rescanning
     * the covering windows */
    CLCNN_POOL_BACKWARD_KERNELS(POOL_BACKWARD_ENUM)
} pool_backward_way;
#undef POOL_BACKWARD_ENUM

/* Which kernels compute pooling backward of shape s with `count` input
 * elements: the pool_backward key's where they can run this shape, else
 * the planner's own. Global pooling takes its one launch; windows that
 * neither overlap nor reach into padding take one pass over stride_h x
 * stride_w blocks; the others gather per input pixel, max after an argmax
 * pass or, on tiny tensors, where a launch costs more than scanning each
 * covering window again, without. */
static pool_backward_way plan_pool_backward(const clcnn_tuning *t, const pool_shape *s, size_t count,
                                            clcnn_pool_mode mode)
{
    const clcnn_pool_params *q = &s->p;
    const int global = pool_is_global(s), use_max = mode == CLCNN_POOL_MAX;
    const int blocks =
        !(q->pad_top || q->pad_bottom || q->pad_left || q->pad_right) && q->f_h <= q->stride_h && q->f_w <= q->stride_w;
    const pool_backward_way forced = (pool_backward_way)t->pool_backward;
    if ((forced == POOL_BACKWARD_global && global) || (forced == POOL_BACKWARD_blocks && blocks) ||
        forced == POOL_BACKWARD_gather || (forced == POOL_BACKWARD_recompute && use_max))
        return forced;
    if (global)
        return POOL_BACKWARD_global;
    if (blocks)
        return POOL_BACKWARD_blocks;
    if (!use_max)
        return POOL_BACKWARD_gather;
    const int cover_h = (q->f_h - 1) / q->stride_h + 1, cover_w = (q->f_w - 1) / q->stride_w + 1;
    const double rescan_loads =
        (double)count * (cover_h < s->n_H ? cover_h : s->n_H) * (cover_w < s->n_W ? cover_w : s->n_W) * q->f_h * q->f_w;
    return count <= (size_t)t->pool_recompute_max_elements && rescan_loads <= t->pool_recompute_max_loads
               ? POOL_BACKWARD_recompute
               : POOL_BACKWARD_gather;
}

/* Pooling backward of a validated shape; checks da and da_prev, then
 * enqueues. */
static clcnn_status pool_backward_planned(clcnn_context *ctx, const char *op, const clcnn_tensor *da,
                                          const clcnn_tensor *a_prev, const pool_shape *s, clcnn_pool_mode mode,
                                          clcnn_tensor *da_prev)
{
    clcnn_status st;
    if ((st = clcnn__check_tensor(ctx, op, "da", da, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "da", da, s->out_dims)) ||
        (st = clcnn__check_tensor(ctx, op, "da_prev", da_prev, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "da_prev", da_prev, a_prev->dims)) ||
        (st = clcnn__check_distinct(ctx, op, "da_prev", da_prev, "a_prev", a_prev)) ||
        (st = clcnn__check_distinct(ctx, op, "da_prev", da_prev, "da", da)))
        return st;

    const clcnn_dtype dt = a_prev->dtype;
    const clcnn_pool_params *q = &s->p;
    const int m = (int)a_prev->dims[0];
    const pool_backward_way way = plan_pool_backward(&ctx->tuning, s, a_prev->count, mode);
    if (way == POOL_BACKWARD_global)
        return pool_backward_global(ctx, op, da, a_prev, s, mode, da_prev);
    const int blocks = way == POOL_BACKWARD_blocks;
    const int block_rows = m * (int)clcnn__div_up((size_t)s->n_H_prev, (size_t)q->stride_h);
    const int block_cols = (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)q->stride_w);
    pool_plan p;
    plan_pool(ctx, s, da_prev->bytes, blocks ? block_rows : m * s->n_H_prev, blocks ? block_cols : s->n_W_prev, &p);

    if (blocks) {
        cl_kernel k;
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_backward_blocks", &k)))
            return st;
        const int use_max = mode == CLCNN_POOL_MAX;
        const clcnn_arg args[] = {CLCNN_ARG(da->mem),    CLCNN_ARG(a_prev->mem), CLCNN_ARG(da_prev->mem),
                                  CLCNN_ARG(block_rows), POOL_SHAPE_ARGS(*s, p), CLCNN_ARG(use_max)};
        return enqueue(ctx, op, &p, k, args, (int)(sizeof args / sizeof args[0]), s->n_C, block_cols, block_rows);
    }

    const int input_rows = m * s->n_H_prev;
    if (mode == CLCNN_POOL_AVERAGE) {
        cl_kernel k;
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_backward_average", &k)))
            return st;
        const clcnn_arg args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(da_prev->mem), CLCNN_ARG(input_rows),
                                  POOL_SHAPE_ARGS(*s, p)};
        return enqueue(ctx, op, &p, k, args, (int)(sizeof args / sizeof args[0]), s->n_C, s->n_W_prev, input_rows);
    }

    /* Max: the argmax pass, then the gather, or a gather built to rescan
     * the windows alone. The kernels and the workspace come first, so that
     * nothing can fail after an enqueue. */
    const int recompute = way == POOL_BACKWARD_recompute;
    cl_kernel argmax = NULL, gather;
    cl_mem positions = da->mem; /* not read when recomputing */
    if (recompute) {
        const size_t used = strlen(p.options);
        snprintf(p.options + used, sizeof p.options - used, " -DRECOMPUTE_ARGMAX=1");
    }
    if ((!recompute &&
         ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_argmax", &argmax)) ||
          (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_POOL_ARGMAX, da->count * p.argmax_bytes, &positions)))) ||
        (st = clcnn__get_kernel(ctx, op, CLCNN_FILE_pool_backward, dt, p.options, "pool_backward_max", &gather)))
        return st;
    if (!recompute) {
        const int output_rows = m * s->n_H;
        const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(positions), CLCNN_ARG(output_rows),
                                  POOL_SHAPE_ARGS(*s, p)};
        if ((st = enqueue(ctx, op, &p, argmax, args, (int)(sizeof args / sizeof args[0]), s->n_C, s->n_W, output_rows)))
            return st;
    }
    const clcnn_arg args[] = {CLCNN_ARG(da->mem),      CLCNN_ARG(positions),  CLCNN_ARG(a_prev->mem),
                              CLCNN_ARG(da_prev->mem), CLCNN_ARG(input_rows), POOL_SHAPE_ARGS(*s, p)};
    return enqueue(ctx, op, &p, gather, args, (int)(sizeof args / sizeof args[0]), s->n_C, s->n_W_prev, input_rows);
}

/* Puts ctx->tuning under the tuning database's rows for this layer (op
 * "pool_forward" or "pool_backward"), saving the context's in *saved. */
static void begin_layer(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, const pool_shape *s,
                        clcnn_pool_mode mode, clcnn_tuning *saved)
{
    clcnn_tuning_layer_key key;
    if (ctx->tuning_db.count == 0 ||
        clcnn__tuning_pool_key(&key, op, a_prev->dtype, a_prev->dims, &s->given, mode) != 0)
        key.exact[0] = key.class_key[0] = '\0';
    clcnn__tuning_layer_begin(ctx, &key, saved);
}

static clcnn_status pool_forward_run(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                     const pool_shape *s, clcnn_pool_mode mode, clcnn_tensor *a)
{
    clcnn_tuning saved;
    begin_layer(ctx, "pool_forward", a_prev, s, mode, &saved);
    const clcnn_status st = pool_forward_planned(ctx, op, a_prev, s, mode, a);
    clcnn__tuning_layer_end(ctx, &saved);
    return st;
}

static clcnn_status pool_backward_run(clcnn_context *ctx, const char *op, const clcnn_tensor *da,
                                      const clcnn_tensor *a_prev, const pool_shape *s, clcnn_pool_mode mode,
                                      clcnn_tensor *da_prev)
{
    clcnn_tuning saved;
    begin_layer(ctx, "pool_backward", a_prev, s, mode, &saved);
    const clcnn_status st = pool_backward_planned(ctx, op, da, a_prev, s, mode, da_prev);
    clcnn__tuning_layer_end(ctx, &saved);
    return st;
}

clcnn_status clcnn_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, int f, int stride, clcnn_pool_mode mode,
                                clcnn_tensor *a)
{
    static const char op[] = "pool_forward";
    pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    return st ? st : pool_forward_run(ctx, op, a_prev, &s, mode, a);
}

clcnn_status clcnn_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev, int f,
                                 int stride, clcnn_pool_mode mode, clcnn_tensor *da_prev)
{
    static const char op[] = "pool_backward";
    pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    return st ? st : pool_backward_run(ctx, op, da, a_prev, &s, mode, da_prev);
}

clcnn_status clcnn_pool_forward_ex(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_pool_params *params,
                                   clcnn_pool_mode mode, clcnn_tensor *a)
{
    static const char op[] = "pool_forward_ex";
    pool_shape s;
    clcnn_status st = pool_validate_ex(ctx, op, a_prev, params, mode, &s);
    return st ? st : pool_forward_run(ctx, op, a_prev, &s, mode, a);
}

clcnn_status clcnn_pool_backward_ex(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                    const clcnn_pool_params *params, clcnn_pool_mode mode, clcnn_tensor *da_prev)
{
    static const char op[] = "pool_backward_ex";
    pool_shape s;
    clcnn_status st = pool_validate_ex(ctx, op, a_prev, params, mode, &s);
    return st ? st : pool_backward_run(ctx, op, da, a_prev, &s, mode, da_prev);
}

clcnn_status clcnn__pool_validate_dims(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                       const clcnn_pool_params *params, size_t a_dims[4])
{
    pool_shape s;
    clcnn_status st = pool_validate_ex(ctx, op, a_prev, params, CLCNN_POOL_MAX, &s);
    if (st == CLCNN_OK)
        memcpy(a_dims, s.out_dims, sizeof s.out_dims);
    return st;
}
