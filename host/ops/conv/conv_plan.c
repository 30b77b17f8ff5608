/* The convolution family's planner (conv_plan.h): every choice of kernel
 * and of geometry for conv forward, dA, dW and db, from the shape, the
 * dtype, the device's facts and the layer's tuning. Pure: no context, no
 * OpenCL call, no allocation, so that one function answers which kernels
 * run with which sizes, and a host-only test (tests/test_conv_plan.c)
 * reaches each of its branches. Every threshold is a key of the tuning
 * (tuning_table.h); the literals left are facts of the kernels (what a
 * kernel can hold, a blocking's geometry), not choices. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conv_plan.h"

typedef clcnn_conv_shape conv_shape;

/* Forced by conv_data, conv_backward_data_dot keeps TILE_PIXELS x
 * CHANNELS_PREV vectors of partial sums: at most the input channels that
 * data_dot_max_channels may give it (a fact of the kernel, not a choice). */
#define DOT_MOST_CHANNELS 16

/* Forced by conv_filter, conv_backward_filter_rows keeps a kernel row of
 * ROW_LEN = f_w * n_C_prev accumulators: at most the row that
 * filter_rows_len_tiles and filter_tile_rows may give it (a fact of the
 * kernel, not a choice). */
#define ROWS_MOST_LEN 64

/* ---- shapes, vectors and tiles ---- */

/* Convolutions that are GEMMs in disguise: a fully connected layer (the
 * window is the whole input, output 1x1) and a pointwise 1x1 stride-1
 * convolution without padding. The window of output pixel p is then the
 * contiguous run of K values at p * K in a_prev (K = n_H_prev * n_W_prev *
 * n_C_prev or n_C_prev), and z, dA and dW keep their layout if the call is
 * seen as a 1x1 convolution over one row of m * n_H * n_W pixels of K
 * channels: the kernels' tiles then span images (and rows), not only one
 * output row, so a batch of fully connected outputs shares each load of W
 * instead of each image streaming all of W alone. Same kernels, no
 * masked edges. */
static void view_as_gemm(conv_shape *s)
{
    const int fully_connected = s->n_H == 1 && s->n_W == 1 && s->f_h == s->n_H_prev && s->f_w == s->n_W_prev &&
                                s->pad_top == 0 && s->pad_left == 0;
    const int pointwise = s->f_h == 1 && s->f_w == 1 && s->stride_h == 1 && s->stride_w == 1 && s->pad_top == 0 &&
                          s->pad_left == 0 && s->n_H == s->n_H_prev && s->n_W == s->n_W_prev;
    if (s->groups != 1 || !(fully_connected || pointwise))
        return;
    const int k = fully_connected ? s->n_H_prev * s->n_W_prev * s->n_C_prev : s->n_C_prev;
    s->n_W = s->n_W_prev = s->n_pixels;
    s->m = s->n_H = s->n_H_prev = 1;
    s->n_C_prev = s->in_group = k;
    s->f_h = s->f_w = 1;
    s->stride_h = s->stride_w = s->dilation_h = s->dilation_w = 1;
    s->pad_top = s->pad_left = 0;
    s->gemm_view = 1;
}

clcnn_conv_shape clcnn__turned_shape(const clcnn_conv_shape *s)
{
    clcnn_conv_shape t = *s;
    t.n_H_prev = s->n_H;
    t.n_W_prev = s->n_W;
    t.n_C_prev = s->n_C;
    t.in_group = s->out_group;
    t.n_H = s->n_H_prev;
    t.n_W = s->n_W_prev;
    t.n_C = s->n_C_prev;
    t.out_group = s->in_group;
    t.pad_top = (s->f_h - 1) * s->dilation_h - s->pad_top;
    t.pad_left = (s->f_w - 1) * s->dilation_w - s->pad_left;
    t.n_pixels = s->m * s->n_H_prev * s->n_W_prev;
    return t;
}

int clcnn__vector_for(int tuned, int channels)
{
    int v = tuned;
    while (v > 1 && v / 2 >= channels)
        v /= 2;
    return v;
}

int clcnn__tile_for_width(int tuned, int width)
{
    if (width <= tuned)
        return width;
    for (int tile = tuned; 2 * tile > tuned; tile--)
        if (width % tile == 0)
            return tile;
    return tuned;
}

/* The forward's tile along a row of `width` output pixels: all of it when
 * it is at most one pixel wider than the tuned tile (the pixel past the
 * registers spills a little, which costs less than a second tile's fixed
 * work on such a row, but more than it saves on wider rows), else the tile
 * t from half the tuned one up to it with the least cost for the row,
 * ceil(width / t) tiles of overhead + t (the larger on a tie), overhead
 * being a tile's fixed work per reduction step (the index arithmetic and
 * the loads of W) in pixels' worth (forward_tile_overhead). A tile need
 * not divide the row: a partial last tile moves left (conv_forward.cl). */
static int forward_tile(int tuned, int overhead, int width)
{
    if (width <= tuned + 1)
        return width;
    int best = tuned;
    long long best_cost = LLONG_MAX;
    for (int tile = tuned; 2 * tile >= tuned; tile--) {
        const long long cost = (long long)clcnn__div_up((size_t)width, (size_t)tile) * (overhead + tile);
        if (cost < best_cost) {
            best = tile;
            best_cost = cost;
        }
    }
    return best;
}

/* Sets a kernel plan; options printf-style. */
static void name_kernel(clcnn_kernel_plan *k, clcnn_kernel_file file, const char *entry, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void name_kernel(clcnn_kernel_plan *k, clcnn_kernel_file file, const char *entry, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    k->file = file;
    k->entry = entry;
    vsnprintf(k->options, sizeof k->options, fmt, ap);
    va_end(ap);
}

static void set_launch(clcnn_conv_launch *l, unsigned dims, size_t g0, size_t g1, size_t g2, size_t l0, size_t l1,
                       size_t l2)
{
    l->dims = dims;
    l->global[0] = g0, l->global[1] = g1, l->global[2] = g2;
    l->local[0] = l0, l->local[1] = l1, l->local[2] = l2;
}

/* A launch's work-group within the device's limit, halved dimension by
 * dimension as clcnn__launch halves it for a kernel's own limit (at most
 * the device's), so that the plan says what runs and the launch then
 * changes nothing that the plan did not already: keys multiply into
 * groups (weights_local_in x weights_local_out, filter_block_group
 * squared) that one device's limit can be under. */
static void fit_group(const clcnn_device_facts *dev, clcnn_conv_launch *l)
{
    size_t group = 1;
    for (unsigned d = 0; d < l->dims; d++) {
        while (l->local[d] > 1 && group * l->local[d] > dev->max_work_group_size)
            l->local[d] /= 2;
        group *= l->local[d];
    }
}

/* CPUs: work-group sizes for the kernels whose items take their
 * reduction in blocks between barriers (conv_backward_filter_blocked,
 * conv_backward_filter's block_rows): up to most[d] items along dims 0 and
 * 1, which share the blocks, as long as the launch keeps min_groups
 * groups (over `slices` of dim 2, whose local size is 1). */
static void blocked_groups(const size_t global[2], const size_t most[2], size_t slices, size_t min_groups,
                           size_t local[2])
{
    local[0] = local[1] = 1;
    for (int d = 0; d < 2; d++)
        while (local[d] * 2 <= most[d] && local[d] * 2 <= global[d] &&
               clcnn__div_up(global[0], local[0] * (d == 0 ? 2 : 1)) *
                       clcnn__div_up(global[1], local[1] * (d == 1 ? 2 : 1)) * slices >=
                   min_groups)
            local[d] *= 2;
}

/* The register-tiled forward kernel over shape s with the epilogue's -D
 * options: launched on any buffers of that shape (the forward's own, or
 * dA's, a forward with W turned). */
static void plan_tiled(const clcnn_tuning *t, const conv_shape *s, const char *epilogue, clcnn_conv_tiled_plan *f)
{
    f->vector = clcnn__vector_for(t->conv_vector, s->out_group);
    f->tile = forward_tile(t->conv_forward_tile, t->forward_tile_overhead, s->n_W);
    name_kernel(&f->launch.kernel, CLCNN_FILE_conv_forward, "conv_forward",
                "-DTILE_PIXELS=%d -DVECTOR=%d -DDILATED_OR_GROUPED=%d%s", f->tile, f->vector,
                s->dilation_w != 1 || s->groups != 1, epilogue);
    set_launch(&f->launch, 2, (size_t)s->m * s->n_H * clcnn__div_up((size_t)s->n_W, (size_t)f->tile),
               (size_t)s->groups * clcnn__div_up((size_t)s->out_group, (size_t)f->vector), 1, (size_t)t->conv_local, 1,
               1);
}

/* ---- the local-memory GEMMs ---- */

/* Every blocking the gemm_blocking key names, by its value. Wide GEMMs
 * run 256 work-items of 4 x 4 in 64 x 64 blocks (16 x 16 items, as GPU
 * GEMMs run), the same in half the local memory (float64 within 16 KiB),
 * then 64 items in 32 x 32 blocks for devices with small work-groups;
 * narrow ones 32 x 16 blocks of 8 x 8 items of 4 x 2, so that fewer items
 * compute columns that do not exist (and small layers get more
 * work-groups). Every entry divides into whole loads per work-item in each
 * kernel (their #error checks): the geometry is a fact of the kernels. */
static const clcnn_gemm_blocking blockings[CLCNN_GEMM_BLOCKING_COUNT] = {
    [CLCNN_GEMM_BLOCKING_m64n64k16] = {64, 64, 4, 4, 16}, [CLCNN_GEMM_BLOCKING_m64n64k8] = {64, 64, 4, 4, 8},
    [CLCNN_GEMM_BLOCKING_m32n32k16] = {32, 32, 4, 4, 16}, [CLCNN_GEMM_BLOCKING_m32n32k8] = {32, 32, 4, 4, 8},
    [CLCNN_GEMM_BLOCKING_m32n16k16] = {32, 16, 4, 2, 16}, [CLCNN_GEMM_BLOCKING_m32n16k8] = {32, 16, 4, 2, 8},
};

/* The lists in order of preference, by the GEMM's width (columns:
 * channels of a group): wide first; gemm_medium_columns or fewer take the
 * 32 x 32 blocks first, gemm_narrow_columns or fewer the 32 x 16 ones. */
static const clcnn_gemm_blocking_name wide_list[] = {CLCNN_GEMM_BLOCKING_m64n64k16, CLCNN_GEMM_BLOCKING_m64n64k8,
                                                     CLCNN_GEMM_BLOCKING_m32n32k16, CLCNN_GEMM_BLOCKING_m32n32k8};
static const clcnn_gemm_blocking_name medium_list[] = {CLCNN_GEMM_BLOCKING_m32n32k16, CLCNN_GEMM_BLOCKING_m32n32k8};
static const clcnn_gemm_blocking_name narrow_list[] = {CLCNN_GEMM_BLOCKING_m32n16k16, CLCNN_GEMM_BLOCKING_m32n16k8};

/* The work-group of a blocking: columns along dim 0, rows along dim 1. */
static void gemm_launch(const clcnn_gemm_blocking *b, size_t rows, size_t columns, size_t batches,
                        clcnn_conv_gemm_candidate *c)
{
    c->local[0] = (size_t)(b->group_n / b->micro_n);
    c->local[1] = (size_t)(b->group_m / b->micro_m);
    c->local[2] = 1;
    c->global[0] = clcnn__div_up(columns, (size_t)b->group_n) * c->local[0];
    c->global[1] = clcnn__div_up(rows, (size_t)b->group_m) * c->local[1];
    c->global[2] = batches;
}

/* What one GEMM is: its file, entry and companion, how its A tiles are
 * padded, the epilogue's options, its rows, columns and batches. */
typedef struct gemm_spec {
    clcnn_kernel_file file;
    const char *entry, *companion;
    int a_pad;
    const char *extra;
    size_t rows, columns, batches;
} gemm_spec;

/* Appends blocking `name` to g's candidates unless it is there already or
 * passes the device's facts: work-group size and the two tiles of TILE_K
 * rows of GROUP_M + a_pad and GROUP_N reals in local memory. */
static void add_candidate(const gemm_spec *spec, clcnn_gemm_blocking_name name, clcnn_dtype dt,
                          const clcnn_device_facts *dev, clcnn_conv_gemm_plan *g)
{
    const clcnn_gemm_blocking *b = &blockings[name];
    for (int i = 0; i < g->count; i++)
        if (!memcmp(&g->candidates[i].blocking, b, sizeof *b))
            return;
    const size_t elem = clcnn__dtype_size(dt);
    const size_t threads = (size_t)(b->group_m / b->micro_m) * (size_t)(b->group_n / b->micro_n);
    const int a_stride = b->group_m + spec->a_pad, b_stride = b->group_n;
    const size_t tile_a = (size_t)b->tile_k * a_stride * elem, tile_b = (size_t)b->tile_k * b_stride * elem;
    if (threads > dev->max_work_group_size || tile_a + tile_b > dev->local_mem)
        return;
    clcnn_conv_gemm_candidate *c = &g->candidates[g->count++];
    c->blocking = *b;
    c->tile_bytes[0] = tile_a;
    c->tile_bytes[1] = tile_b;
    name_kernel(&c->kernel, spec->file, spec->entry,
                "-DCLCNN_LOCAL_TILES=1 -DCLCNN_LOCAL_TILES_ONLY=1 -DGROUP_M=%d -DGROUP_N=%d -DMICRO_M=%d "
                "-DMICRO_N=%d -DTILE_K=%d -DA_STRIDE=%d -DB_STRIDE=%d%s",
                b->group_m, b->group_n, b->micro_m, b->micro_n, b->tile_k, a_stride, b_stride, spec->extra);
    c->companion = c->kernel;
    c->companion.entry = spec->companion;
    gemm_launch(b, spec->rows, spec->columns, spec->batches, c);
}

/* The GEMM's candidates: the blocking gemm_blocking names first (where it
 * passes the facts), then the list for the GEMM's width. */
static void plan_gemm(const clcnn_tuning *t, const gemm_spec *spec, clcnn_dtype dt, const clcnn_device_facts *dev,
                      clcnn_conv_gemm_plan *g)
{
    const size_t columns = spec->columns;
    const int narrow = columns <= (size_t)t->gemm_narrow_columns;
    const int medium = !narrow && columns <= (size_t)t->gemm_medium_columns;
    const clcnn_gemm_blocking_name *list = narrow ? narrow_list : medium ? medium_list : wide_list;
    const size_t length = narrow   ? sizeof narrow_list / sizeof narrow_list[0]
                          : medium ? sizeof medium_list / sizeof medium_list[0]
                                   : sizeof wide_list / sizeof wide_list[0];
    g->count = 0;
    if (t->gemm_blocking != CLCNN_GEMM_BLOCKING_auto)
        add_candidate(spec, (clcnn_gemm_blocking_name)t->gemm_blocking, dt, dev, g);
    for (size_t i = 0; i < length; i++)
        add_candidate(spec, list[i], dt, dev, g);
}

/* ---- forward ---- */

void clcnn__conv_plan_forward(const clcnn_conv_shape *shape, int depthwise, clcnn_dtype dt, int has_bias,
                              clcnn_activation act, const clcnn_device_facts *dev, const clcnn_tuning *t,
                              clcnn_conv_forward_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->shape = *shape;
    view_as_gemm(&plan->shape);
    plan->depthwise = depthwise;
    if (depthwise)
        return;
    const conv_shape *s = &plan->shape;
    /* The epilogue's -D options: bias and activation are compiled in, so a
     * layer without them pays nothing. */
    char epilogue[32];
    snprintf(epilogue, sizeof epilogue, "%s%s", has_bias ? " -DHAS_BIAS=1" : "",
             act == CLCNN_ACTIVATION_RELU ? " -DRELU=1" : "");
    /* Work-group tiles in local memory where the tuning asks for them and
     * a blocking fits the device; else the register tiles. */
    if (t->use_local_gemm_forward) {
        const gemm_spec spec = {CLCNN_FILE_conv_forward, "conv_forward_local", NULL, 1, epilogue, (size_t)s->n_pixels,
                                (size_t)s->out_group,    (size_t)s->groups};
        plan_gemm(t, &spec, dt, dev, &plan->gemm);
    }
    plan_tiled(t, s, epilogue, &plan->tiled);
    fit_group(dev, &plan->tiled.launch);
}

/* ---- backward: which kernel ---- */

/* Elements of W (and of dW): f_h x f_w x in_group x n_C. */
static size_t weight_count(const conv_shape *s)
{
    return (size_t)s->f_h * s->f_w * s->in_group * s->n_C;
}

/* The chunking of a reduction over n_pixels: a fixed function of the shape
 * and the device's tuning, so results are reproducible. */
static int chunk_size_for(int n_pixels, int max_chunks, int min_per_chunk)
{
    int chunks = (int)clcnn__div_up((size_t)n_pixels, (size_t)min_per_chunk);
    if (chunks > max_chunks)
        chunks = max_chunks;
    if (chunks < 1)
        chunks = 1;
    return (int)clcnn__div_up((size_t)n_pixels, (size_t)chunks);
}

/* Whether dA runs as a forward convolution: at stride 1 with the pads
 * within the window (clcnn__turned_shape), or in the GEMM view, where W
 * turned is W transposed. */
static int data_forward_runs(const conv_shape *s)
{
    return s->gemm_view || (s->stride_h == 1 && s->stride_w == 1 && s->pad_top <= (s->f_h - 1) * s->dilation_h &&
                            s->pad_left <= (s->f_w - 1) * s->dilation_w);
}

/* The kernel a CHOICE key's value `key` (within the key's range, which
 * the tuning's parser keeps) forces where runs[key] says that kernel runs
 * the layer, else 0 (auto). */
static int forced_kernel(int key, const int *runs)
{
    return key > 0 && runs[key] ? key : 0;
}

/* The kernel the tuning's conv_data (conv_filter) forces where that kernel
 * runs the layer s (seen as a GEMM where it is one), else _auto, so that a
 * forced kernel that cannot run leaves the whole choice to the rules. */
static clcnn_conv_data_kernel data_forced(const clcnn_tuning *t, const conv_shape *s)
{
    const int runs[] = {
        [CLCNN_CONV_DATA_auto] = 1,
        [CLCNN_CONV_DATA_gemm] = 1, /* where a blocking fits */
        [CLCNN_CONV_DATA_forward] = data_forward_runs(s),
        [CLCNN_CONV_DATA_matrix] = s->gemm_view,
        [CLCNN_CONV_DATA_dot] = s->groups == 1 && s->n_C_prev <= DOT_MOST_CHANNELS,
        [CLCNN_CONV_DATA_gather] = 1,
    };
    return (clcnn_conv_data_kernel)forced_kernel(t->conv_data, runs);
}

static clcnn_conv_filter_kernel filter_forced(const clcnn_tuning *t, const conv_shape *s)
{
    const int runs[] = {
        [CLCNN_CONV_FILTER_auto] = 1,
        [CLCNN_CONV_FILTER_gemm] = 1, /* where a blocking fits */
        [CLCNN_CONV_FILTER_blocked] = s->gemm_view,
        [CLCNN_CONV_FILTER_rows] = s->groups == 1 && s->dilation_w == 1 && s->f_w * s->n_C_prev <= ROWS_MOST_LEN,
        [CLCNN_CONV_FILTER_tiles] = 1,
    };
    return (clcnn_conv_filter_kernel)forced_kernel(t->conv_filter, runs);
}

/* dA's register-tiled kernel: the one conv_data forces, else by the rules
 * below (the GEMM, where asked, is planned on its own). */
static clcnn_conv_data_kernel data_kernel_for(const clcnn_tuning *t, const conv_shape *s)
{
    const clcnn_conv_data_kernel forced = data_forced(t, s);
    if (forced != CLCNN_CONV_DATA_auto && forced != CLCNN_CONV_DATA_gemm)
        return forced;
    /* With many rows (a pointwise layer), dA = dZ W^T is a forward
     * convolution of dZ with W transposed to (1, 1, n_C, n_C_prev): the
     * forward kernel's tile, one vector of W per broadcast row value, where
     * the dot products below load a vector of dZ or W per multiply-add of
     * a vector; W's transpose is small next to the product once rows are
     * several times its side (a fully connected layer's batch is not). */
    /* At stride 1 every layer's dA is a forward convolution too: of dZ
     * with W turned by 180 degrees and transposed per group (turn_weights),
     * pads (f - 1) * dilation - pad, output dA's size. The forward kernel
     * runs it faster than the gather per input pixel (layers with few
     * input channels keep the dot products below). */
    const int few_channels = s->n_C_prev <= t->data_dot_max_channels && s->groups == 1;
    if (s->gemm_view ? s->n_pixels >= t->data_as_forward_min_rows : data_forward_runs(s) && !few_channels)
        return CLCNN_CONV_DATA_forward;
    /* With fewer rows and a reduction of a few vectors or more, dA is dot
     * products of rows of dZ and of W as it is: no transpose of W, which
     * for a fully connected layer is the largest tensor of the call. */
    if (s->gemm_view && s->n_C >= t->data_matrix_min_channels)
        return CLCNN_CONV_DATA_matrix;
    /* With few input channels, a vector across them would be mostly
     * empty: vectorise dA's reduction over the output channels instead,
     * with at most data_dot_lanes lanes of partial sums per work-item
     * (96: 12 vector registers of 8 floats for a 4-pixel tile). */
    if (few_channels && s->n_C >= t->data_dot_min_out_channels)
        return CLCNN_CONV_DATA_dot;
    return CLCNN_CONV_DATA_gather;
}

/* dW's register-tiled kernel: the one conv_filter forces, else by the
 * rules below (the GEMM, where asked, is planned on its own). */
static clcnn_conv_filter_kernel filter_kernel_for(const clcnn_tuning *t, const conv_shape *s)
{
    const clcnn_conv_filter_kernel forced = filter_forced(t, s);
    if (forced != CLCNN_CONV_FILTER_auto && forced != CLCNN_CONV_FILTER_gemm)
        return forced;
    /* Few input channels (an RGB or grey image), where the tuning asks for
     * it (filter_by_rows): a work-item takes a whole kernel row (f_w *
     * n_C_prev values, contiguous in A_prev), as long as that tile stays
     * about the size of the tuned one. */
    if (t->filter_by_rows && s->n_C_prev <= t->filter_rows_max_channels &&
        s->f_w * s->n_C_prev <= t->filter_rows_len_tiles * t->filter_tile_rows && s->groups == 1 && s->dilation_w == 1)
        return CLCNN_CONV_FILTER_rows;
    /* The GEMM view in the CPU column: the pixels in blocks per work-group
     * (conv_backward_filter_blocked), dW written directly. */
    if (t->use_filter_blocked && s->gemm_view)
        return CLCNN_CONV_FILTER_blocked;
    /* Otherwise tiles of input channels at one tap, all of them when they fit. */
    return CLCNN_CONV_FILTER_tiles;
}

/* ---- backward: dA ---- */

/* W reordered for dA (transpose_weights or turn_weights, the same
 * arguments): groups of 64 (16 along cp, the written dimension), since
 * with one item per group POCL's per-group cost made the transpose a
 * large part of dA on deep layers. */
static void plan_reorder(const clcnn_tuning *t, const conv_shape *s, const char *entry, const char *options,
                         clcnn_conv_launch *l)
{
    name_kernel(&l->kernel, CLCNN_FILE_conv_backward_data, entry, "%s", options);
    set_launch(l, 3, (size_t)s->in_group, (size_t)s->n_C, (size_t)s->f_h * s->f_w, (size_t)t->weights_local_in,
               (size_t)t->weights_local_out, 1);
}

static void plan_data(const clcnn_tuning *t, const conv_shape *s, clcnn_conv_data_plan *p)
{
    char options[128];
    p->kernel = data_kernel_for(t, s);
    p->tile = clcnn__tile_for_width(t->conv_tile_pixels, (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w));
    /* The gathers: a work-item per tile of input pixels along one stride
     * residue's chain of a row. */
    p->residues = s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev;
    p->tiles = (int)clcnn__div_up(clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w), (size_t)p->tile);
    const size_t rows = (size_t)s->m * s->n_H_prev * p->residues * p->tiles;
    if (p->kernel == CLCNN_CONV_DATA_forward) {
        p->forward_shape = clcnn__turned_shape(s);
        p->vector = clcnn__vector_for(t->conv_vector, s->in_group);
        snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d", p->tile, p->vector);
        plan_tiled(t, &p->forward_shape, "", &p->forward);
        plan_reorder(t, s, "turn_weights", options, &p->reorder);
        p->weights_elements = weight_count(s);
    } else if (p->kernel == CLCNN_CONV_DATA_matrix) {
        /* rows x channels vector accumulators plus one load per row: half
         * the forward's pixel tile of rows keeps them in registers. */
        const int matrix_rows = t->conv_tile_pixels > 1 ? t->conv_tile_pixels / 2 : 1;
        p->vector = clcnn__vector_for(t->conv_vector, s->n_C);
        name_kernel(&p->launch.kernel, CLCNN_FILE_conv_backward_data, "conv_backward_data_matrix",
                    "-DTILE_PIXELS=%d -DVECTOR=%d -DK_TILE=%d", matrix_rows, p->vector, t->data_matrix_channels);
        const size_t g0 = clcnn__div_up((size_t)s->n_pixels, (size_t)matrix_rows),
                     g1 = clcnn__div_up((size_t)s->n_C_prev, (size_t)t->data_matrix_channels);
        /* Neighbouring channel tiles share a group, while groups stay many. */
        size_t along = 1;
        while (along * 2 <= (size_t)t->conv_local && g1 / (along * 2) * g0 >= (size_t)t->conv_min_groups)
            along *= 2;
        set_launch(&p->launch, 2, g0, g1, 1, 1, along, 1);
    } else if (p->kernel == CLCNN_CONV_DATA_dot) {
        int vec = clcnn__vector_for(t->conv_vector, s->n_C);
        while (vec > t->narrow_vector_min && p->tile * s->n_C_prev * vec > t->data_dot_lanes)
            vec /= 2;
        p->vector = vec;
        /* Unspecialised (data_dot_const_channels=0), the partial sums are
         * sized for the most channels that the rules give the kernel, or
         * that conv_data may force on it, so that the shapes share one
         * program per tile and vector. */
        const int most = s->n_C_prev <= t->data_dot_max_channels ? t->data_dot_max_channels : DOT_MOST_CHANNELS;
        name_kernel(&p->launch.kernel, CLCNN_FILE_conv_backward_data, "conv_backward_data_dot",
                    t->data_dot_const_channels ? "-DTILE_PIXELS=%d -DVECTOR=%d -DCHANNELS_PREV=%d"
                                               : "-DTILE_PIXELS=%d -DVECTOR=%d -DCHANNELS_PREV_MOST=%d",
                    p->tile, vec, t->data_dot_const_channels ? s->n_C_prev : most);
        set_launch(&p->launch, 2, rows, 1, 1, (size_t)t->conv_local, 1, 1);
    } else {
        p->vector = clcnn__vector_for(t->conv_vector, s->in_group);
        snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d", p->tile, p->vector);
        plan_reorder(t, s, "transpose_weights", options, &p->reorder);
        name_kernel(&p->launch.kernel, CLCNN_FILE_conv_backward_data, "conv_backward_data", "%s", options);
        set_launch(&p->launch, 2, rows, (size_t)s->groups * clcnn__div_up((size_t)s->in_group, (size_t)p->vector), 1,
                   (size_t)t->conv_local, 1, 1);
        p->weights_elements = weight_count(s);
    }
}

/* ---- backward: dW and db ---- */

/* dW's chunks: whole output rows (m * n_H of them) of at least
 * filter_chunk_min_pixels pixels, as many as the tuning allows. The partial
 * sums cost chunks x |dW| written and read again: the CPU column keeps that
 * within filter_chunk_reads (3) times what the reduction reads (A_prev and
 * dZ), so that deep layers, where dW is as large as the activations, get
 * fewer chunks. GPUs need the chunks for parallelism and keep them until
 * measured (0: no cap). */
static void plan_filter_chunks(const clcnn_tuning *t, const conv_shape *s, clcnn_conv_filter_plan *p)
{
    const size_t w_count = weight_count(s);
    const int out_rows = s->m * s->n_H;
    const size_t reads = (size_t)s->m * s->n_H_prev * s->n_W_prev * s->n_C_prev + (size_t)s->n_pixels * s->n_C;
    const size_t cap = (size_t)t->filter_chunk_reads * reads / w_count;
    int max_chunks = t->filter_bias_chunks;
    if (t->filter_chunk_reads && (size_t)max_chunks > cap)
        max_chunks = (int)cap;
    p->chunk =
        chunk_size_for(out_rows, max_chunks, (int)clcnn__div_up((size_t)t->filter_chunk_min_pixels, (size_t)s->n_W));
    p->chunks = (int)clcnn__div_up((size_t)out_rows, (size_t)p->chunk);
}

/* The sum of a reduction's chunks into its output of n elements. */
static void plan_sum(const clcnn_tuning *t, clcnn_kernel_file file, const char *entry, const char *options, size_t n,
                     clcnn_conv_launch *l)
{
    name_kernel(&l->kernel, file, entry, "%s", options);
    set_launch(l, 1, n, 1, 1, (size_t)t->sum_local, 1, 1);
}

/* dW's launch: items along dim 0 are kernel rows, (tap, channel tile)
 * pairs, or (blocked) tiles of input channels. */
static void plan_filter_launch(const clcnn_tuning *t, const conv_shape *s, clcnn_conv_filter_plan *p)
{
    const size_t side = (size_t)t->filter_block_group;
    size_t local[2];
    if (p->kernel == CLCNN_CONV_FILTER_blocked) {
        const size_t global[2] = {clcnn__div_up((size_t)s->n_C_prev, (size_t)p->rows),
                                  clcnn__div_up((size_t)s->n_C, (size_t)p->vector)};
        /* Groups of up to side x side items share the blocks. */
        const size_t most[2] = {side, side};
        blocked_groups(global, most, 1, (size_t)t->filter_blocked_min_groups, local);
        set_launch(&p->launch, 2, global[0], global[1], 1, local[0], local[1], 1);
        return;
    }
    const size_t global[3] = {p->kernel == CLCNN_CONV_FILTER_rows
                                  ? (size_t)s->f_h
                                  : (size_t)s->f_h * s->f_w * clcnn__div_up((size_t)s->in_group, (size_t)p->rows),
                              (size_t)s->groups * clcnn__div_up((size_t)s->out_group, (size_t)p->vector),
                              (size_t)p->chunks};
    /* Items of one chunk share a group, up to conv_local of them (with
     * barrier blocks, up to side x side across taps and channel vectors, which
     * share the blocks), as long as there are groups enough for every
     * core: a group per item costs POCL its per-group overhead on each
     * of the many small items of a fully connected layer's dW. */
    const size_t most[2] = {p->block_rows ? side : (size_t)t->conv_local, p->block_rows ? side : 1};
    blocked_groups(global, most, global[2], (size_t)t->conv_min_groups, local);
    set_launch(&p->launch, 3, global[0], global[1], global[2], local[0], local[1], 1);
}

static void plan_filter(const clcnn_tuning *t, const conv_shape *s, clcnn_conv_filter_plan *p)
{
    char options[128];
    p->vector = clcnn__vector_for(t->conv_vector, s->out_group);
    plan_filter_chunks(t, s, p);
    p->kernel = filter_kernel_for(t, s);
    if (p->kernel == CLCNN_CONV_FILTER_rows) {
        /* The vector narrows to keep the row's accumulators in registers. */
        const int row_len = s->f_w * s->n_C_prev, budget = t->filter_tile_rows * t->conv_vector;
        while (p->vector > t->narrow_vector_min && row_len * p->vector > budget)
            p->vector /= 2;
        /* Unspecialised (filter_rows_const_row=0), the accumulators are
         * sized for the longest row the rules, or conv_filter, give it. */
        const int rule_most = t->filter_rows_len_tiles * t->filter_tile_rows;
        if (t->filter_rows_const_row)
            snprintf(options, sizeof options, "-DCHANNELS_PREV=%d -DROW_LEN=%d -DVECTOR=%d", s->n_C_prev, row_len,
                     p->vector);
        else
            snprintf(options, sizeof options, "-DROW_LEN_MOST=%d -DVECTOR=%d",
                     row_len <= rule_most ? rule_most : ROWS_MOST_LEN, p->vector);
    } else {
        p->rows = t->filter_tile_rows < s->in_group ? t->filter_tile_rows : s->in_group;
        snprintf(options, sizeof options, "-DTILE_ROWS=%d -DVECTOR=%d", p->rows, p->vector);
    }
    if (p->kernel == CLCNN_CONV_FILTER_blocked) {
        p->chunks = 1;
        const size_t used = strlen(options);
        snprintf(options + used, sizeof options - used, " -DBLOCK_PIXELS=%d", t->filter_block_pixels);
    }
    /* Not for grouped layers unless filter_block_rows_grouped, where the
     * blocks were measured no faster. */
    p->block_rows = t->use_filter_block_rows && p->kernel == CLCNN_CONV_FILTER_tiles &&
                            (s->groups == 1 || t->filter_block_rows_grouped)
                        ? (s->n_W < t->filter_block_pixels ? t->filter_block_pixels / s->n_W : 1)
                        : 0;
    name_kernel(&p->launch.kernel, CLCNN_FILE_conv_backward_filter,
                p->kernel == CLCNN_CONV_FILTER_rows      ? "conv_backward_filter_rows"
                : p->kernel == CLCNN_CONV_FILTER_blocked ? "conv_backward_filter_blocked"
                                                         : "conv_backward_filter",
                "%s", options);
    plan_filter_launch(t, s, p);
    /* One chunk: its partial sums are dW itself, and nothing to add up. */
    if (p->chunks > 1) {
        plan_sum(t, CLCNN_FILE_conv_backward_filter, "filter_sum_chunks", options, weight_count(s), &p->sum);
        p->part_elements = (size_t)p->chunks * weight_count(s);
    }
}

static void plan_bias(const clcnn_tuning *t, const conv_shape *s, clcnn_conv_bias_plan *p)
{
    char options[32];
    p->vector = clcnn__vector_for(t->conv_vector, s->n_C);
    p->chunk = chunk_size_for(s->n_pixels, t->filter_bias_chunks, t->bias_chunk_min_pixels);
    p->chunks = (int)clcnn__div_up((size_t)s->n_pixels, (size_t)p->chunk);
    snprintf(options, sizeof options, "-DVECTOR=%d", p->vector);
    name_kernel(&p->launch.kernel, CLCNN_FILE_conv_backward_bias, "conv_backward_bias", "%s", options);
    set_launch(&p->launch, 2, clcnn__div_up((size_t)s->n_C, (size_t)p->vector), (size_t)p->chunks, 1, 1, 1, 1);
    /* One chunk (small layers, fully connected ones above all) is db
     * itself: no partial sums and no launch to add them up. */
    if (p->chunks > 1) {
        plan_sum(t, CLCNN_FILE_conv_backward_bias, "bias_sum_chunks", options, (size_t)s->n_C, &p->sum);
        p->part_elements = (size_t)p->chunks * s->n_C;
    }
}

/* ---- backward: the GEMMs ---- */

/* dA per stride residue class (up to stride_h x stride_w of them, per
 * group), each a GEMM over the class's input pixels with its sub-filter. */
static void plan_data_gemm(const clcnn_tuning *t, const conv_shape *s, clcnn_dtype dt, const clcnn_device_facts *dev,
                           clcnn_conv_data_gemm_plan *p)
{
    const size_t classes = (size_t)(s->stride_h < s->n_H_prev ? s->stride_h : s->n_H_prev) *
                           (size_t)(s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev);
    const size_t largest_class = (size_t)s->m * clcnn__div_up((size_t)s->n_H_prev, (size_t)s->stride_h) *
                                 clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w);
    const gemm_spec spec = {
        CLCNN_FILE_conv_backward_data, "conv_backward_data_gemm", "residue_filters", 1, "", largest_class,
        (size_t)s->in_group,           classes * s->groups};
    plan_gemm(t, &spec, dt, dev, &p->gemm);
    set_launch(&p->filters, 3, (size_t)s->in_group, (size_t)s->n_C, (size_t)s->f_h * s->f_w,
               (size_t)t->weights_local_in, (size_t)t->weights_local_out, 1);
    p->filters_elements = weight_count(s);
}

/* dW's split of its reduction over the output pixels: enough splits that
 * the GEMM has about gemm_split_blocks blocks of the first wide blocking in
 * all (several per compute unit of a large GPU), each split at least
 * gemm_split_min_pixels pixels so that the partial sums stay small next to
 * what the GEMM reads, and at most gemm_split_most splits, so that each sum
 * of the splits stays short; rounded up to gemm_split_align pixels (whole
 * K steps: a split's last step is masked). A function of the shape and of
 * keys whose defaults are the same in both columns, never of the device
 * nor of the blocking, so that every device running these kernels adds the
 * same terms in the same order. */
static int split_pixels_for(const clcnn_tuning *t, const conv_shape *s)
{
    const size_t rows = (size_t)s->f_h * s->f_w * s->in_group + 1;
    const clcnn_gemm_blocking *unit = &blockings[wide_list[0]];
    const size_t blocks = clcnn__div_up(rows, (size_t)unit->group_m) *
                          clcnn__div_up((size_t)s->out_group, (size_t)unit->group_n) * (size_t)s->groups;
    size_t splits = clcnn__div_up((size_t)t->gemm_split_blocks, blocks);
    size_t most = clcnn__div_up((size_t)s->n_pixels, (size_t)t->gemm_split_min_pixels);
    if (most > (size_t)t->gemm_split_most)
        most = (size_t)t->gemm_split_most;
    if (splits > most)
        splits = most;
    return (int)clcnn__round_up(clcnn__div_up((size_t)s->n_pixels, splits), (size_t)t->gemm_split_align);
}

static void plan_filter_gemm(const clcnn_tuning *t, const conv_shape *s, clcnn_dtype dt, int want_filter, int want_bias,
                             const clcnn_device_facts *dev, clcnn_conv_filter_gemm_plan *p)
{
    p->rows = want_filter ? s->f_h * s->f_w * s->in_group : 0;
    p->bias_row = want_bias;
    p->split_pixels = split_pixels_for(t, s);
    p->splits = (int)clcnn__div_up((size_t)s->n_pixels, (size_t)p->split_pixels);
    const size_t rows = (size_t)p->rows + p->bias_row;
    const gemm_spec spec = {CLCNN_FILE_conv_backward_filter,
                            "conv_backward_filter_gemm",
                            "filter_sum_splits",
                            0,
                            "",
                            rows,
                            (size_t)s->out_group,
                            (size_t)p->splits * s->groups};
    plan_gemm(t, &spec, dt, dev, &p->gemm);
    p->part_elements = (size_t)p->splits * rows * s->n_C;
    p->sum_global = rows * s->n_C;
    p->sum_local = (size_t)t->sum_local;
}

void clcnn__conv_plan_backward(const clcnn_conv_shape *shape, int depthwise, clcnn_dtype dt, int want_data,
                               int want_filter, int want_bias, const clcnn_device_facts *dev, const clcnn_tuning *t,
                               clcnn_conv_backward_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    plan->shape = *shape;
    view_as_gemm(&plan->shape);
    const conv_shape *s = &plan->shape;
    plan->depthwise = depthwise;
    plan->want_data = want_data;
    plan->want_filter = want_filter;
    plan->want_bias = want_bias;
    if (!depthwise) {
        /* The GEMMs where conv_data and conv_filter force them, or leave
         * the choice to the tuning's flags. */
        const clcnn_conv_data_kernel data = data_forced(t, s);
        const clcnn_conv_filter_kernel filter = filter_forced(t, s);
        if (want_data && (data == CLCNN_CONV_DATA_gemm || (data == CLCNN_CONV_DATA_auto && t->use_local_gemm_data)))
            plan_data_gemm(t, s, dt, dev, &plan->data_gemm);
        if ((want_filter || want_bias) &&
            (filter == CLCNN_CONV_FILTER_gemm || (filter == CLCNN_CONV_FILTER_auto && t->use_local_gemm_filter)))
            plan_filter_gemm(t, s, dt, want_filter, want_bias, dev, &plan->filter_gemm);
        if (want_data)
            plan_data(t, s, &plan->data);
        if (want_filter)
            plan_filter(t, s, &plan->filter);
    }
    if (want_bias)
        plan_bias(t, s, &plan->bias);
    clcnn_conv_launch *const launches[] = {&plan->data_gemm.filters,   &plan->data.reorder,  &plan->data.launch,
                                           &plan->data.forward.launch, &plan->filter.launch, &plan->filter.sum,
                                           &plan->bias.launch,         &plan->bias.sum};
    for (size_t i = 0; i < sizeof launches / sizeof launches[0]; i++)
        fit_group(dev, launches[i]);
}
