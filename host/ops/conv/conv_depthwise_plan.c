/* Depthwise convolution's planner: for a validated layer, the device's
 * facts and the layer's tuning, which kernels of kernels/conv_depthwise.cl
 * run forward, dA and dW, with which -D options, grids and work-groups
 * (conv.h, clcnn_depthwise_rows_plan and clcnn_depthwise_backward_plan).
 * Pure: no context, no OpenCL, nothing built or allocated; conv_depthwise.c
 * builds and launches what it says. The widths come from the tuning
 * (depthwise_tile, depthwise_vector, conv_tile_pixels, conv_vector,
 * conv_local, filter_tile_rows, sum_local in tuning_table.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"

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

/* A tuned work-group size within the device's limit (the tuning's
 * composition caps it already; a tuning made otherwise may not be). */
static size_t group_within(int tuned, const clcnn_device_facts *dev)
{
    return (size_t)tuned < dev->max_work_group_size ? (size_t)tuned : dev->max_work_group_size;
}

/* The window along w as constants (FILTER_W, STRIDE_W, DILATION_W), so
 * that a tile's taps share their loads through registers, when the input
 * columns of a tile's kernel row fit in about as many registers again as
 * its accumulators (depthwise_window_per_tile, 2, columns per pixel of the
 * tile, and depthwise_window_extra, 4, more). Only where
 * depthwise_const_shape compiles shape values in: the window and the row
 * along w (OUT_W, IN_W, PAD_W) are the layer's own, a program per layer. */
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
 * and coalescing. The grid's dim 1 holds the tiles of a row; the caller
 * widens it for dA's stride residues before the work-group is shaped. */
static void plan_rows(const clcnn_tuning *t, const clcnn_conv_shape *s, int n_channels, int width, size_t rows,
                      int tile_budget, int vector_budget, int window, size_t out_bytes, clcnn_depthwise_rows_plan *p)
{
    p->vector = clcnn__vector_for(vector_budget, n_channels);
    p->tile = clcnn__tile_for_width(tile_budget, width);
    const size_t vectors = clcnn__div_up((size_t)n_channels, (size_t)p->vector);
    const size_t tiles = clcnn__div_up((size_t)width, (size_t)p->tile);
    size_t per_item = 1;
    if (t->depthwise_whole_pixels) {
        const size_t pixel_items = rows * tiles, least = (size_t)t->depthwise_min_items;
        const size_t splits = pixel_items >= least ? 1 : clcnn__div_up(least, pixel_items);
        per_item = splits >= vectors ? 1 : clcnn__div_up(vectors, splits);
    }
    p->channels = (int)per_item * p->vector;
    p->global[0] = clcnn__div_up(vectors, per_item);
    p->global[1] = tiles;
    p->global[2] = rows;
    p->kernel.file = CLCNN_FILE_conv_depthwise;
    char *options = p->kernel.options;
    const size_t capacity = sizeof p->kernel.options;
    int used = snprintf(options, capacity, "-DTILE=%d -DVECTOR=%d -DMULTIPLIER=%d -DFILTER_W=%d", p->tile, p->vector,
                        s->n_C / s->n_C_prev, s->f_w);
    p->window = window && t->depthwise_const_shape && window_fits(t, p->tile, s->f_w, s->stride_w, s->dilation_w);
    if (p->window)
        used += snprintf(options + used, capacity - (size_t)used, " -DFILTER_H=%d -DSTRIDE_W=%d -DDILATION_W=%d",
                         s->f_h, s->stride_w, s->dilation_w);
    if (clcnn__tuning_stream_stores(t, out_bytes, n_channels % p->vector == 0))
        snprintf(options + used, capacity - (size_t)used, " -DSTREAM_STORES=1");
}

/* depthwise_forward's launch for layer s (the layer's own, or dA's turned
 * shape), writing `out_bytes`, with `extra` -D options after the rows'. */
static void plan_forward(const clcnn_conv_shape *s, size_t out_bytes, const char *extra, const clcnn_device_facts *dev,
                         const clcnn_tuning *t, clcnn_depthwise_rows_plan *p)
{
    plan_rows(t, s, s->n_C, s->n_W, (size_t)s->m * s->n_H, t->depthwise_tile, t->depthwise_vector, 1, out_bytes, p);
    p->kernel.entry = "depthwise_forward";
    char *options = p->kernel.options;
    const size_t capacity = sizeof p->kernel.options;
    size_t used = strlen(options);
    if (t->depthwise_const_shape)
        used += (size_t)snprintf(options + used, capacity - used, " -DCHANNELS=%d", s->n_C);
    used += (size_t)snprintf(options + used, capacity - used, "%s", extra);
    if (p->window)
        snprintf(options + used, capacity - used, " -DOUT_W=%d -DIN_W=%d -DPAD_W=%d", s->n_W, s->n_W_prev, s->pad_left);
    group_shape(p->global, group_within(t->conv_local, dev), p->local);
}

void clcnn__depthwise_plan_forward(const clcnn_conv_shape *s, clcnn_dtype dt, int has_bias, int relu,
                                   const clcnn_device_facts *dev, const clcnn_tuning *t, clcnn_depthwise_rows_plan *p)
{
    char extra[32];
    snprintf(extra, sizeof extra, "%s%s", has_bias ? " -DHAS_BIAS=1" : "", relu ? " -DRELU=1" : "");
    *p = (clcnn_depthwise_rows_plan){0};
    const size_t out_bytes = (size_t)s->m * s->n_H * s->n_W * s->n_C * clcnn__dtype_size(dt);
    plan_forward(s, out_bytes, extra, dev, t, p);
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

/* dA's tiles run along one stride residue of the input row; an item keeps
 * MULTIPLIER vectors per pixel, so its tile shrinks by as much. With
 * stride 1 along w every tap reaches every pixel, and the window's columns
 * are shared as in the forward. The grid's dim 1 holds every residue's
 * tiles. */
static void plan_data_gather(const clcnn_conv_shape *s, size_t data_bytes, const clcnn_device_facts *dev,
                             const clcnn_tuning *t, clcnn_depthwise_backward_plan *plan)
{
    const int multiplier = s->n_C / s->n_C_prev;
    clcnn_depthwise_rows_plan *p = &plan->data;
    const int width = (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w);
    const int tile_budget = t->conv_tile_pixels / multiplier > 1 ? t->conv_tile_pixels / multiplier : 1;
    plan_rows(t, s, s->n_C_prev, width, (size_t)s->m * s->n_H_prev, tile_budget, t->conv_vector, s->stride_w == 1,
              data_bytes, p);
    p->kernel.entry = "depthwise_backward_data";
    plan->data_residues = s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev;
    p->global[1] *= (size_t)plan->data_residues;
    group_shape(p->global, group_within(t->conv_local, dev), p->local);
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

/* dW by chunks of output rows into chunks x |dW| partial sums, then their
 * sum in chunk order (deterministic, no atomics). */
static void plan_filter(const clcnn_conv_shape *s, clcnn_dtype dt, const clcnn_device_facts *dev, const clcnn_tuning *t,
                        clcnn_depthwise_backward_plan *plan)
{
    plan->filter_vector = clcnn__vector_for(t->depthwise_vector, s->n_C);
    plan->filter_kh_block = kh_block_for(t, s->f_h, s->f_w);
    plan->filter_chunk_rows = chunk_rows_for(t, s);
    plan->filter_chunks = (int)clcnn__div_up((size_t)s->m * s->n_H, (size_t)plan->filter_chunk_rows);
    plan->filter.file = plan->filter_sum.file = CLCNN_FILE_conv_depthwise;
    plan->filter.entry = "depthwise_backward_filter";
    plan->filter_sum.entry = "depthwise_filter_sum_chunks";
    const int used = snprintf(plan->filter.options, sizeof plan->filter.options,
                              "-DVECTOR=%d -DMULTIPLIER=%d -DFILTER_W=%d -DKH_BLOCK=%d", plan->filter_vector,
                              s->n_C / s->n_C_prev, s->f_w, plan->filter_kh_block);
    if (t->depthwise_const_shape)
        snprintf(plan->filter.options + used, sizeof plan->filter.options - (size_t)used,
                 " -DCHANNELS=%d -DFILTER_DILATION_W=%d", s->n_C, s->dilation_w);
    memcpy(plan->filter_sum.options, plan->filter.options, sizeof plan->filter.options);
    plan->filter_global[0] = clcnn__div_up((size_t)s->n_C, (size_t)plan->filter_vector);
    plan->filter_global[1] = clcnn__div_up((size_t)s->f_h, (size_t)plan->filter_kh_block);
    plan->filter_global[2] = (size_t)plan->filter_chunks;
    group_shape(plan->filter_global, group_within(t->conv_local, dev), plan->filter_local);
    plan->filter_count = (size_t)s->f_h * s->f_w * s->n_C;
    plan->sum_global = plan->filter_count;
    plan->sum_local = group_within(t->sum_local, dev);
    plan->filter_part_bytes = (size_t)plan->filter_chunks * plan->filter_count * clcnn__dtype_size(dt);
}

void clcnn__depthwise_plan_gradients(const clcnn_conv_shape *s, clcnn_dtype dt, int want_data, int want_filter,
                                     const clcnn_device_facts *dev, const clcnn_tuning *t,
                                     clcnn_depthwise_backward_plan *plan)
{
    *plan = (clcnn_depthwise_backward_plan){0};
    const size_t data_bytes = (size_t)s->m * s->n_H_prev * s->n_W_prev * s->n_C_prev * clcnn__dtype_size(dt);
    if (want_data && data_as_forward(t, s)) {
        plan->data_kernel = CLCNN_DEPTHWISE_DATA_forward;
        plan->data_shape = clcnn__turned_shape(s);
        plan_forward(&plan->data_shape, data_bytes, " -DFLIP_WINDOW=1", dev, t, &plan->data);
    } else if (want_data) {
        plan->data_kernel = CLCNN_DEPTHWISE_DATA_gather;
        plan_data_gather(s, data_bytes, dev, t, plan);
    }
    if (want_filter)
        plan_filter(s, dt, dev, t, plan);
}
