/* Depthwise convolution: the launch plans and enqueues of
 * kernels/conv_depthwise.cl, called by conv.c (after its validation) for
 * layers with one input channel per group. The host decides every tile,
 * vector and multiplier and passes them with -D; the widths come from the
 * device table (depthwise_tile, depthwise_vector, conv_tile_pixels,
 * conv_vector, conv_local, filter_tile_rows in tuning_table.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"

int clcnn__depthwise_applies(const clcnn_conv_shape *s)
{
    return s->groups > 1 && s->groups == s->n_C_prev;
}

/* Work-group sizes over a grid of `global`: powers of two (POCL compiles a
 * work-group function for each size it meets, so a few sizes bound that),
 * filling dim 0, then 1, then 2, up to `items` in all. Dim 0 holds the
 * channels, so that on GPUs neighbouring items read neighbouring vectors of
 * a pixel, and on CPUs, where an item has all of a pixel's channels, dim 1
 * holds neighbouring pixels of a row. The launch rounds the grid up; the
 * extra items return at once. */
static void group_shape(const size_t global[3], size_t items, size_t local[3])
{
    size_t left = items;
    for (int d = 0; d < 3; d++) {
        size_t l = 1;
        while (l < global[d] && 2 * l <= left)
            l *= 2;
        local[d] = l;
        left /= l;
    }
}

/* The window along w as constants (FILTER_W, STRIDE_W, DILATION_W), so
 * that a tile's taps share their loads through registers, when the input
 * columns of a tile's kernel row fit in about as many registers again as
 * its accumulators (depthwise_window_per_tile, 2, columns per pixel of the
 * tile, and depthwise_window_extra, 4, more). */
static int window_fits(const clcnn_tuning *t, int tile, int f_w, int stride_w, int dilation_w)
{
    const long long columns = (long long)(tile - 1) * stride_w + (long long)(f_w - 1) * dilation_w + 1;
    return columns <= (long long)t->depthwise_window_per_tile * tile + t->depthwise_window_extra;
}

/* The launch of forward or dA over rows of `width` pixels (output pixels;
 * input pixels of one stride residue) and `n_channels` channels: VECTOR
 * channels at a time, `channels` per work-item, TILE pixels per item, and
 * the kernel's -D options. The CPU column (depthwise_whole_pixels): all
 * channels per item, so that it reads and writes whole pixels in address
 * order, which the hardware prefetchers follow far better than items that
 * each take a slice of every pixel (pooling's items do the same), unless
 * that leaves fewer items than depthwise_min_items, too few to share among
 * the cores in balance (deep layers on small images: 8x7x7x960 has 56 rows
 * of one tile each). The GPU column: one vector per item, for parallelism
 * and coalescing. */
typedef struct row_plan {
    int vector, tile, channels;
    int window; /* the window along w passed as constants */
    size_t global[3];
    char options[256];
} row_plan;

static void plan_rows(const clcnn_context *ctx, const clcnn_conv_shape *s, int n_channels, int width, size_t rows,
                      int tile_budget, int vector_budget, int window, size_t out_bytes, row_plan *p)
{
    p->vector = clcnn__vector_for(vector_budget, n_channels);
    p->tile = clcnn__tile_for_width(tile_budget, width);
    const size_t vectors = clcnn__div_up((size_t)n_channels, (size_t)p->vector);
    const size_t tiles = clcnn__div_up((size_t)width, (size_t)p->tile);
    size_t per_item = 1;
    if (ctx->tuning.depthwise_whole_pixels) {
        const size_t pixel_items = rows * tiles, least = (size_t)ctx->tuning.depthwise_min_items;
        const size_t splits = pixel_items >= least ? 1 : clcnn__div_up(least, pixel_items);
        per_item = splits >= vectors ? 1 : clcnn__div_up(vectors, splits);
    }
    p->channels = (int)per_item * p->vector;
    p->global[0] = clcnn__div_up(vectors, per_item);
    p->global[1] = tiles;
    p->global[2] = rows;
    int used = snprintf(p->options, sizeof p->options, "-DTILE=%d -DVECTOR=%d -DMULTIPLIER=%d -DFILTER_W=%d", p->tile,
                        p->vector, s->n_C / s->n_C_prev, s->f_w);
    p->window = window && window_fits(&ctx->tuning, p->tile, s->f_w, s->stride_w, s->dilation_w);
    if (p->window)
        used += snprintf(p->options + used, sizeof p->options - (size_t)used,
                         " -DFILTER_H=%d -DSTRIDE_W=%d -DDILATION_W=%d", s->f_h, s->stride_w, s->dilation_w);
    if (clcnn__stream_stores(ctx, out_bytes, n_channels % p->vector == 0))
        snprintf(p->options + used, sizeof p->options - (size_t)used, " -DSTREAM_STORES=1");
}

static clcnn_status launch(clcnn_context *ctx, const char *op, cl_kernel k, const clcnn_arg *args, int n_args,
                           const size_t global[3])
{
    size_t local[3];
    group_shape(global, (size_t)ctx->tuning.conv_local, local);
    clcnn_status st = clcnn__set_args(ctx, op, k, args, n_args);
    return st ? st : clcnn__launch(ctx, op, k, 3, global, local);
}

/* depthwise_forward's launch for layer s, writing `out_bytes`, with
 * `extra` -D options after the plan's own. */
static clcnn_status plan_forward(clcnn_context *ctx, const char *op, clcnn_dtype dtype, const clcnn_conv_shape *s,
                                 size_t out_bytes, const char *extra, row_plan *p, cl_kernel *k)
{
    plan_rows(ctx, s, s->n_C, s->n_W, (size_t)s->m * s->n_H, ctx->tuning.depthwise_tile, ctx->tuning.depthwise_vector,
              1, out_bytes, p);
    size_t used = strlen(p->options);
    used += (size_t)snprintf(p->options + used, sizeof p->options - used, " -DCHANNELS=%d%s", s->n_C, extra);
    if (p->window)
        snprintf(p->options + used, sizeof p->options - used, " -DOUT_W=%d -DIN_W=%d -DPAD_W=%d", s->n_W, s->n_W_prev,
                 s->pad_left);
    return clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_depthwise, dtype, p->options, "depthwise_forward", k);
}

static clcnn_status run_forward(clcnn_context *ctx, const char *op, cl_kernel k, const clcnn_conv_shape *s,
                                int channels, const size_t global[3], cl_mem in, cl_mem w, cl_mem b, cl_mem out)
{
    const clcnn_arg args[] = {CLCNN_ARG(in),      CLCNN_ARG(w), CLCNN_ARG(b), CLCNN_ARG(out), CLCNN_CONV_SHAPE_ARGS(*s),
                              CLCNN_ARG(channels)};
    return launch(ctx, op, k, args, (int)(sizeof args / sizeof args[0]), global);
}

clcnn_status clcnn__depthwise_forward(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                      const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                      clcnn_activation act, clcnn_tensor *z)
{
    char extra[32];
    snprintf(extra, sizeof extra, "%s%s", b ? " -DHAS_BIAS=1" : "", act == CLCNN_ACTIVATION_RELU ? " -DRELU=1" : "");
    row_plan p;
    cl_kernel k;
    clcnn_status st = plan_forward(ctx, op, a_prev->dtype, s, z->bytes, extra, &p, &k);
    if (st != CLCNN_OK)
        return st;
    /* Without a bias the kernel never reads b: any buffer stands in. */
    return run_forward(ctx, op, k, s, p.channels, p.global, a_prev->mem, w->mem, b ? b->mem : w->mem, z->mem);
}

/* dA of a layer with stride 1 and one output channel per input channel:
 * each input pixel gathers dZ over the window turned by 180 degrees, which
 * is the forward over dZ with that window (FLIP_WINDOW) on
 * clcnn__turned_shape. The forward's kernel is the faster of the two on
 * CPUs, where it keeps whole pixels per item in address order (the other
 * keeps one tap residue's columns); depthwise_data=gather keeps the other
 * (depthwise_backward_data, which runs every layer). */
static int data_as_forward(const clcnn_tuning *t, const clcnn_conv_shape *s)
{
    return s->stride_h == 1 && s->stride_w == 1 && s->n_C == s->n_C_prev &&
           t->depthwise_data != CLCNN_DEPTHWISE_DATA_gather;
}

/* dW: how many kernel rows a work-item takes (KH_BLOCK), the most whose
 * taps fit in depthwise_filter_tap_tiles (2) times the tuned dW tile of
 * accumulators (filter_tile_rows vectors), balanced over the blocks of f_h. */
static int kh_block_for(const clcnn_tuning *t, int f_h, int f_w)
{
    int block = t->depthwise_filter_tap_tiles * t->filter_tile_rows / f_w;
    if (block < 1)
        block = 1;
    if (block > f_h)
        block = f_h;
    const int blocks = (f_h + block - 1) / block;
    return (f_h + blocks - 1) / blocks;
}

/* dW's reduction over the m * n_H output rows is cut into chunks of whole
 * rows by the shape and keys whose defaults are the same in both columns,
 * never by the device, so that every device that runs these kernels adds
 * the same terms in the same order: at least depthwise_filter_chunk_pixels
 * output pixels per chunk, so that a chunk's fixed costs stay small, and at
 * most depthwise_filter_max_chunks, which gives a GPU enough work-items
 * (chunks x channel vectors) on small images; also no more than keeps the
 * partial sums, written and read once more, within what the reduction
 * itself reads (A_prev and dZ), which matters on deep layers with small
 * images, and within the int offsets of the kernels. */
static int chunk_rows_for(const clcnn_tuning *t, const clcnn_conv_shape *s)
{
    const size_t out_rows = (size_t)s->m * s->n_H;
    const size_t w_count = (size_t)s->f_h * s->f_w * s->n_C;
    const size_t reads = (size_t)s->m * s->n_H_prev * s->n_W_prev * s->n_C_prev + (size_t)s->n_pixels * s->n_C;
    size_t chunks = clcnn__div_up((size_t)s->n_pixels, (size_t)t->depthwise_filter_chunk_pixels);
    if (chunks > (size_t)t->depthwise_filter_max_chunks)
        chunks = (size_t)t->depthwise_filter_max_chunks;
    if (chunks > reads / w_count)
        chunks = reads / w_count;
    if (chunks > INT_MAX / w_count)
        chunks = INT_MAX / w_count;
    if (chunks < 1)
        chunks = 1;
    return (int)clcnn__div_up(out_rows, chunks);
}

clcnn_status clcnn__depthwise_plan_backward(clcnn_context *ctx, const char *op, clcnn_dtype dtype,
                                            const clcnn_conv_shape *s, int want_data, int want_filter,
                                            clcnn_depthwise_plan *plan)
{
    const clcnn_tuning *t = &ctx->tuning;
    const int multiplier = s->n_C / s->n_C_prev;
    char options[160];
    clcnn_status st;
    *plan = (clcnn_depthwise_plan){0};
    const size_t data_bytes = (size_t)s->m * s->n_H_prev * s->n_W_prev * s->n_C_prev * clcnn__dtype_size(dtype);
    if (want_data && data_as_forward(t, s)) {
        plan->data_as_forward = 1;
        plan->data_shape = clcnn__turned_shape(s);
        row_plan p;
        if ((st = plan_forward(ctx, op, dtype, &plan->data_shape, data_bytes, " -DFLIP_WINDOW=1", &p, &plan->data)))
            return st;
        plan->data_channels = p.channels;
        memcpy(plan->data_global, p.global, sizeof p.global);
    } else if (want_data) {
        /* dA's tiles run along one stride residue of the input row; an item
         * keeps MULTIPLIER vectors per pixel, so its tile shrinks by as much.
         * With stride 1 along w every tap reaches every pixel, and the
         * window's columns are shared as in the forward. */
        const int width = (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w);
        const int tile_budget = t->conv_tile_pixels / multiplier > 1 ? t->conv_tile_pixels / multiplier : 1;
        row_plan p;
        plan_rows(ctx, s, s->n_C_prev, width, (size_t)s->m * s->n_H_prev, tile_budget, t->conv_vector, s->stride_w == 1,
                  data_bytes, &p);
        const int residues = s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev;
        plan->data_channels = p.channels;
        plan->data_global[0] = p.global[0];
        plan->data_global[1] = p.global[1] * (size_t)residues;
        plan->data_global[2] = p.global[2];
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_depthwise, dtype, p.options, "depthwise_backward_data",
                                    &plan->data)))
            return st;
    }
    if (want_filter) {
        plan->filter_vector = clcnn__vector_for(t->depthwise_vector, s->n_C);
        plan->filter_kh_block = kh_block_for(t, s->f_h, s->f_w);
        plan->filter_chunk_rows = chunk_rows_for(t, s);
        plan->filter_chunks = (int)clcnn__div_up((size_t)s->m * s->n_H, (size_t)plan->filter_chunk_rows);
        snprintf(options, sizeof options,
                 "-DVECTOR=%d -DMULTIPLIER=%d -DFILTER_W=%d -DKH_BLOCK=%d -DCHANNELS=%d -DFILTER_DILATION_W=%d",
                 plan->filter_vector, multiplier, s->f_w, plan->filter_kh_block, s->n_C, s->dilation_w);
        const size_t w_bytes = (size_t)s->f_h * s->f_w * s->n_C * clcnn__dtype_size(dtype);
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_depthwise, dtype, options, "depthwise_backward_filter",
                                    &plan->filter)) ||
            (st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_depthwise, dtype, options, "depthwise_filter_sum_chunks",
                                    &plan->filter_sum)) ||
            (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_FILTER_PARTS, (size_t)plan->filter_chunks * w_bytes,
                                   &plan->filter_part)))
            return st;
    }
    return CLCNN_OK;
}

clcnn_status clcnn__depthwise_backward_data(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                            const clcnn_depthwise_plan *plan, const clcnn_tensor *dz,
                                            const clcnn_tensor *w, clcnn_tensor *da_prev)
{
    if (plan->data_as_forward)
        return run_forward(ctx, op, plan->data, &plan->data_shape, plan->data_channels, plan->data_global, dz->mem,
                           w->mem, w->mem, da_prev->mem);
    const int residues = s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev;
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem),
                              CLCNN_ARG(w->mem),
                              CLCNN_ARG(da_prev->mem),
                              CLCNN_CONV_SHAPE_ARGS(*s),
                              CLCNN_ARG(plan->data_channels),
                              CLCNN_ARG(residues)};
    return launch(ctx, op, plan->data, args, (int)(sizeof args / sizeof args[0]), plan->data_global);
}

clcnn_status clcnn__depthwise_backward_filter(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                              const clcnn_depthwise_plan *plan, const clcnn_tensor *a_prev,
                                              const clcnn_tensor *dz, clcnn_tensor *dw)
{
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(dz->mem), CLCNN_ARG(plan->filter_part),
                              CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(plan->filter_chunk_rows)};
    const size_t global[3] = {clcnn__div_up((size_t)s->n_C, (size_t)plan->filter_vector),
                              clcnn__div_up((size_t)s->f_h, (size_t)plan->filter_kh_block),
                              (size_t)plan->filter_chunks};
    clcnn_status st = launch(ctx, op, plan->filter, args, (int)(sizeof args / sizeof args[0]), global);
    if (st != CLCNN_OK)
        return st;
    const int n = (int)dw->count;
    const clcnn_arg sum_args[] = {CLCNN_ARG(plan->filter_part), CLCNN_ARG(dw->mem), CLCNN_ARG(n),
                                  CLCNN_ARG(plan->filter_chunks)};
    const size_t sum_global[1] = {(size_t)n}, sum_local[1] = {(size_t)ctx->tuning.sum_local};
    if ((st = clcnn__set_args(ctx, op, plan->filter_sum, sum_args, 4)))
        return st;
    return clcnn__launch(ctx, op, plan->filter_sum, 1, sum_global, sum_local);
}
