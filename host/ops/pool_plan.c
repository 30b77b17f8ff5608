/* Pooling's planner: which kernels of pool_forward.cl and pool_backward.cl
 * run a validated shape, with which options and launch sizes, from the
 * tuning alone (the pool_* keys in tuning_table.h). Pure: see pool_plan.h. */
#include <stdio.h>
#include <string.h>

#include "pool_plan.h"

/* Along an axis with one output, every stride gives the same one window,
 * so the stride is set to the window: the kernels' index arithmetic then
 * never meets a stride near INT_MAX, and a stride below the window (global
 * pooling with stride 1) no longer looks like overlapping windows, which
 * would cost max pooling's backward a second launch (the argmax pass). */
void clcnn__pool_shape_init(const size_t dims[4], const clcnn_pool_params *params, clcnn_pool_shape *s)
{
    s->p = s->given = *params;
    s->m = (int)dims[0];
    s->n_H_prev = (int)dims[1];
    s->n_W_prev = (int)dims[2];
    s->n_C = (int)dims[3];
    const long long padded_h = (long long)dims[1] + params->pad_top + params->pad_bottom;
    const long long padded_w = (long long)dims[2] + params->pad_left + params->pad_right;
    s->n_H = (int)((padded_h - params->f_h) / params->stride_h + 1);
    s->n_W = (int)((padded_w - params->f_w) / params->stride_w + 1);
    if (s->n_H == 1)
        s->p.stride_h = params->f_h;
    if (s->n_W == 1)
        s->p.stride_w = params->f_w;
    s->out_dims[0] = dims[0];
    s->out_dims[1] = (size_t)s->n_H;
    s->out_dims[2] = (size_t)s->n_W;
    s->out_dims[3] = dims[3];
}

/* Global pooling: one output pixel per image whose window covers the
 * whole padded input, so that every input pixel is in it (an output of
 * 1 x 1 alone is not enough: a window smaller than the input with a stride
 * past the rest also gives one). Its backward takes pool_backward.cl's
 * global kernels. */
int clcnn__pool_is_global(const clcnn_pool_shape *s)
{
    const clcnn_pool_params *q = &s->p;
    return s->n_H == 1 && s->n_W == 1 && q->f_h == s->n_H_prev + q->pad_top + q->pad_bottom &&
           q->f_w == s->n_W_prev + q->pad_left + q->pad_right;
}

/* The geometry and the -D options for the shape s, for a call that writes
 * `out_bytes` and whose main pass has `rows` x `units`.
 * Every choice comes from the tuning (the pool_* keys in tuning_table.h,
 * overridable with CLCNN_TUNE). The CPU column (POCL runs a work-group as a
 * loop over its items): loads of up to 16 channels (two or four SIMD
 * registers); all of n_C per item (pool_whole_pixels), so that an item
 * reads whole pixels in address order, which the hardware prefetchers
 * follow far better than items that each take a slice of every pixel; and
 * 4 units along w per item to amortise its index arithmetic. A large
 * output is written with non-temporal stores (clcnn__tuning_stream_stores).
 * When the output has one pixel per image (global pooling), items of all
 * of n_C would number only m, too few to share among the cores: there an
 * item takes a run of channel vectors (pool_global_runs). The GPU column:
 * 4 channels and one unit per item, for parallelism and coalescing.
 * Windows and strides up to pool_const_window are compiled in as constants
 * (unrolled loops, shifts for the divisions); a program per (window,
 * strides) is cheap for these few.
 * Padding is compiled in or out (POOL_PADDED), so that windows without it
 * pay nothing for it. */
static void plan_geometry(const clcnn_pool_shape *s, const clcnn_tuning *t, size_t out_bytes, int rows, int units,
                          clcnn_pool_geometry *g)
{
    const clcnn_pool_params *q = &s->p;
    const int one_window = s->n_H == 1 && s->n_W == 1;
    /* Items of all of n_C: the widest vector that fits in n_C; when it does
     * not divide n_C, each pixel's last vector overlaps the one before
     * (CHANNEL_TAIL), which keeps the whole width for any n_C >= 16
     * instead of falling back to narrower vectors, down to scalar.
     * Items of one vector: a vector that divides n_C, since an overlap
     * there would be written by two work-items. */
    const int whole_pixels = t->pool_whole_pixels && !one_window;
    g->vector = t->pool_vector;
    while (g->vector > 1 && (whole_pixels ? g->vector > s->n_C : s->n_C % g->vector != 0))
        g->vector /= 2;
    g->tail = s->n_C % g->vector != 0;
    g->channels = whole_pixels ? s->n_C : g->vector;
    g->tile = t->pool_tile;
    if (t->pool_global_runs && one_window) {
        /* Global pooling: as many whole vectors per item as leave
         * pool_global_min_items items over the `rows` x `units` of the main
         * pass (all of n_C for the backward's many input pixels, a run of
         * channels for the forward's one pixel per image), so that an item
         * reads and writes runs of channels rather than one vector of each
         * pixel, and the items still spread over the cores. */
        const int vectors = s->n_C / g->vector;
        const long long pixel_items = (long long)rows * (long long)clcnn__div_up((size_t)units, (size_t)g->tile);
        int per_item = vectors;
        while (per_item > 1 &&
               (vectors % per_item != 0 || pixel_items * (vectors / per_item) < t->pool_global_min_items))
            per_item--;
        g->channels = per_item * g->vector;
    }
    /* One-window pooling: the taps read up to pool_channel_block vectors
     * at once, as many as divide the item's (whole-pixel items may end in
     * an overlapping vector, which a block would step past). */
    const int item_vectors = g->channels / g->vector;
    g->block = one_window ? t->pool_channel_block : 1;
    while (g->block > 1 && item_vectors % g->block != 0)
        g->block--;
    g->local = t->pool_local;
    g->row_groups = t->pool_row_groups;
    g->padded = q->pad_top || q->pad_bottom || q->pad_left || q->pad_right;
    /* A tail's overlapping vectors are unaligned. */
    g->stream = clcnn__tuning_stream_stores(t, out_bytes, !g->tail);
    const int fixed = t->pool_const_window;
    g->constant_window = q->f_h <= fixed && q->f_w <= fixed && q->stride_h <= fixed && q->stride_w <= fixed;
    /* Positions in a window run to f_h * f_w - 1; uchar holds them up to 256 taps. */
    g->argmax_bytes = (long long)q->f_h * q->f_w > 256 ? sizeof(cl_int) : 1;
}

/* The -D options of every kernel of the call with geometry g. */
static void plan_options(const clcnn_pool_shape *s, const clcnn_pool_geometry *g, int recompute, char *options,
                         size_t capacity)
{
    const clcnn_pool_params *q = &s->p;
    int used = snprintf(options, capacity, "-DVECTOR=%d -DTILE_W=%d -DPOOL_PADDED=%d -DCHANNEL_BLOCK=%d%s", g->vector,
                        g->tile, g->padded, g->block, g->tail ? " -DCHANNEL_TAIL=1" : "");
    if (g->constant_window)
        used += snprintf(options + used, capacity - (size_t)used,
                         " -DPOOL_F_H=%d -DPOOL_F_W=%d -DPOOL_STRIDE_H=%d -DPOOL_STRIDE_W=%d", q->f_h, q->f_w,
                         q->stride_h, q->stride_w);
    used +=
        snprintf(options + used, capacity - (size_t)used, " -DARGMAX_TYPE=%s", g->argmax_bytes == 1 ? "uchar" : "int");
    snprintf(options + used, capacity - (size_t)used, "%s%s", g->stream ? " -DSTREAM_STORES=1" : "",
             recompute ? " -DRECOMPUTE_ARGMAX=1" : "");
}

/* A launch of `entry` over channel groups x (units / tile) x rows. */
static void plan_launch(const clcnn_pool_shape *s, const clcnn_pool_geometry *g, int recompute, clcnn_kernel_file file,
                        const char *entry, int units, int rows, clcnn_pool_launch *l)
{
    l->kernel.file = file;
    l->kernel.entry = entry;
    plan_options(s, g, recompute, l->kernel.options, sizeof l->kernel.options);
    l->rows = rows;
    l->units = units;
    const size_t groups = (size_t)(s->n_C / g->channels), tiles = clcnn__div_up((size_t)units, (size_t)g->tile);
    l->global[0] = groups;
    l->global[1] = tiles;
    l->global[2] = (size_t)rows;
    size_t *local = l->local;
    if (g->row_groups) {
        /* Whole rows per group (items along a row are neighbours in memory,
         * which the prefetchers follow), in power-of-two shapes: POCL
         * compiles a kernel for each work-group size it meets, so exact
         * shapes cost a compile per new shape (`clcnn check` on random
         * shapes spent most of its time there), and 7 sizes bound that. The
         * launch rounds the global size up; the extra items return.
         * `along` stays within pool_local, which need not be a power of
         * two, so that a group keeps at least one row. */
        size_t along = 1;
        while (along < tiles && along * 2 <= (size_t)g->local)
            along *= 2;
        local[0] = 1;
        local[1] = along;
        local[2] = (size_t)g->local / along;
        /* Not more rows than the launch has (global pooling's forward has
         * one per image): the rest of such groups would be items that
         * only return. */
        while (local[2] > 1 && local[2] / 2 >= (size_t)rows)
            local[2] /= 2;
    } else {
        local[0] = groups < (size_t)g->local ? groups : (size_t)g->local;
        local[1] = (size_t)g->local / local[0];
        if (local[1] > tiles)
            local[1] = tiles;
        local[2] = (size_t)g->local / (local[0] * local[1]);
        if (local[2] > (size_t)rows)
            local[2] = (size_t)rows;
    }
}

/* The tuning's group keys are within the device's work-group limit
 * already (clcnn__tuning_compose), so the planner needs no more of dev. */
void clcnn__pool_plan_forward(const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_dtype dtype,
                              const clcnn_device_facts *dev, const clcnn_tuning *t, clcnn_pool_forward_plan *plan)
{
    (void)dev;
    const int rows = s->m * s->n_H;
    const size_t out_bytes = (size_t)rows * (size_t)s->n_W * (size_t)s->n_C * clcnn__dtype_size(dtype);
    plan_geometry(s, t, out_bytes, rows, s->n_W, &plan->g);
    plan_launch(s, &plan->g, 0, CLCNN_FILE_pool_forward,
                mode == CLCNN_POOL_MAX ? "pool_forward_max" : "pool_forward_average", s->n_W, rows, &plan->launch);
}

/* Which kernels compute pooling backward of shape s with `count` input
 * elements: the pool_backward key's where they can run this shape, else
 * the planner's own. Global pooling takes its one launch; windows that
 * neither overlap nor reach into padding take one pass over stride_h x
 * stride_w blocks; the others gather per input pixel, max after an argmax
 * pass or, on tiny tensors, where a launch costs more than scanning each
 * covering window again, without. */
static clcnn_pool_backward_way backward_way(const clcnn_tuning *t, const clcnn_pool_shape *s, size_t count,
                                            clcnn_pool_mode mode)
{
    const clcnn_pool_params *q = &s->p;
    const int global = clcnn__pool_is_global(s), use_max = mode == CLCNN_POOL_MAX;
    const int blocks =
        !(q->pad_top || q->pad_bottom || q->pad_left || q->pad_right) && q->f_h <= q->stride_h && q->f_w <= q->stride_w;
    const clcnn_pool_backward_way forced = (clcnn_pool_backward_way)t->pool_backward;
    if ((forced == CLCNN_POOL_BACKWARD_global && global) || (forced == CLCNN_POOL_BACKWARD_blocks && blocks) ||
        forced == CLCNN_POOL_BACKWARD_gather || (forced == CLCNN_POOL_BACKWARD_recompute && use_max))
        return forced;
    if (global)
        return CLCNN_POOL_BACKWARD_global;
    if (blocks)
        return CLCNN_POOL_BACKWARD_blocks;
    if (!use_max)
        return CLCNN_POOL_BACKWARD_gather;
    const int cover_h = (q->f_h - 1) / q->stride_h + 1, cover_w = (q->f_w - 1) / q->stride_w + 1;
    const double rescan_loads =
        (double)count * (cover_h < s->n_H ? cover_h : s->n_H) * (cover_w < s->n_W ? cover_w : s->n_W) * q->f_h * q->f_w;
    return count <= (size_t)t->pool_recompute_max_elements && rescan_loads <= t->pool_recompute_max_loads
               ? CLCNN_POOL_BACKWARD_recompute
               : CLCNN_POOL_BACKWARD_gather;
}

void clcnn__pool_plan_backward(const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_dtype dtype,
                               const clcnn_device_facts *dev, const clcnn_tuning *t, clcnn_pool_backward_plan *plan)
{
    (void)dev;
    const clcnn_pool_params *q = &s->p;
    const int use_max = mode == CLCNN_POOL_MAX;
    const size_t pixels = (size_t)s->m * (size_t)s->n_H_prev * (size_t)s->n_W_prev;
    const size_t count = pixels * (size_t)s->n_C, out_bytes = count * clcnn__dtype_size(dtype);
    plan->way = backward_way(t, s, count, mode);
    plan->launches = 1;
    plan->argmax_workspace_bytes = 0;
    clcnn_pool_launch *l = plan->launch;
    if (plan->way == CLCNN_POOL_BACKWARD_global) {
        /* An item per run of channels of an image (the "rows" are the
         * images, with one unit each). */
        plan_geometry(s, t, out_bytes, s->m, 1, &plan->g);
        plan_launch(s, &plan->g, 0, CLCNN_FILE_pool_backward,
                    use_max ? "pool_backward_global_max" : "pool_backward_global_average", 1, s->m, l);
        return;
    }
    if (plan->way == CLCNN_POOL_BACKWARD_blocks) {
        const int block_rows = s->m * (int)clcnn__div_up((size_t)s->n_H_prev, (size_t)q->stride_h);
        const int block_cols = (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)q->stride_w);
        plan_geometry(s, t, out_bytes, block_rows, block_cols, &plan->g);
        plan_launch(s, &plan->g, 0, CLCNN_FILE_pool_backward, "pool_backward_blocks", block_cols, block_rows, l);
        return;
    }
    const int input_rows = s->m * s->n_H_prev;
    plan_geometry(s, t, out_bytes, input_rows, s->n_W_prev, &plan->g);
    if (!use_max) {
        plan_launch(s, &plan->g, 0, CLCNN_FILE_pool_backward, "pool_backward_average", s->n_W_prev, input_rows, l);
        return;
    }
    /* Max: the argmax pass, then the gather, or a gather built to rescan
     * the windows alone. */
    const int recompute = plan->way == CLCNN_POOL_BACKWARD_recompute;
    if (!recompute) {
        const size_t outputs = (size_t)s->m * (size_t)s->n_H * (size_t)s->n_W * (size_t)s->n_C;
        plan->argmax_workspace_bytes = outputs * plan->g.argmax_bytes;
        plan_launch(s, &plan->g, 0, CLCNN_FILE_pool_backward, "pool_argmax", s->n_W, s->m * s->n_H, l++);
        plan->launches = 2;
    }
    plan_launch(s, &plan->g, recompute, CLCNN_FILE_pool_backward, "pool_backward_max", s->n_W_prev, input_rows, l);
}
