/* Convolution forward and backward: validation, then the kernels of
 * conv_forward.cl, conv_backward_data.cl, conv_backward_filter.cl and
 * conv_backward_bias.cl. Everything that can fail (checks, kernel builds,
 * workspace) happens before the first enqueue. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "output_dims.h"

typedef clcnn_conv_shape conv_shape;

/* Forced by conv_data, conv_backward_data_dot keeps TILE_PIXELS x
 * CHANNELS_PREV vectors of partial sums: at most the input channels that
 * data_dot_max_channels may give it. */
#define DOT_MOST_CHANNELS 16

/* Forced by conv_filter, conv_backward_filter_rows keeps a kernel row of
 * ROW_LEN = f_w * n_C_prev accumulators: at most the row that
 * filter_rows_len_tiles and filter_tile_rows may give it. */
#define ROWS_MOST_LEN 64

/* A params field out of range, named as the caller wrote it: the
 * walkthrough's ops take `stride` and `pad`, the _ex ops a params struct. */
static clcnn_status field_below(clcnn_context *ctx, const char *op, int walkthrough, const char *field,
                                const char *walkthrough_name, int value, int least, const char *hint)
{
    if (walkthrough)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: %s is %d; it must be at least %d", op,
                           walkthrough_name, value, least);
    return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "%s: params->%s is %d; it must be at least %d%s", op, field,
                       value, least, hint);
}

/* The params on their own: present, each field within its range. */
static clcnn_status check_params(clcnn_context *ctx, const char *op, const clcnn_conv_params *p, int walkthrough)
{
    if (p == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: params is NULL; pass a clcnn_conv_params (clcnn_conv_params_default(stride, pad) "
                           "gives the walkthrough's)",
                           op);
    const struct {
        const char *field, *walkthrough_name;
        int value, least;
        const char *hint;
    } fields[] = {
        {"stride_h", "stride", p->stride_h, 1, ""},
        {"stride_w", "stride", p->stride_w, 1, ""},
        {"pad_top", "pad", p->pad_top, 0, ""},
        {"pad_bottom", "pad", p->pad_bottom, 0, ""},
        {"pad_left", "pad", p->pad_left, 0, ""},
        {"pad_right", "pad", p->pad_right, 0, ""},
        {"dilation_h", "dilation", p->dilation_h, 1, " (1 is a dense window)"},
        {"dilation_w", "dilation", p->dilation_w, 1, " (1 is a dense window)"},
        {"groups", "groups", p->groups, 1, " (1 is an ordinary convolution)"},
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        if (fields[f].value < fields[f].least)
            return field_below(ctx, op, walkthrough, fields[f].field, fields[f].walkthrough_name, fields[f].value,
                               fields[f].least, fields[f].hint);
    return CLCNN_OK;
}

/* Checks a_prev, w and the params, and derives the output shape. */
static clcnn_status conv_validate(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                  const clcnn_conv_params *p, int walkthrough, conv_shape *s)
{
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "a_prev", a_prev)) ||
        (st = clcnn__check_tensor(ctx, op, "w", w, a_prev->dtype)) || (st = check_params(ctx, op, p, walkthrough)))
        return st;
    const size_t *ad = a_prev->dims, *wd = w->dims;
    const size_t groups = (size_t)p->groups;
    if (ad[3] % groups != 0 || wd[3] % groups != 0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: params->groups is %d, which does not divide %s's %zu channels; groups must divide "
                           "n_C_prev (a_prev's dims[3], %zu) and n_C (w's dims[3], %zu)",
                           op, p->groups, ad[3] % groups != 0 ? "a_prev" : "w", ad[3] % groups != 0 ? ad[3] : wd[3],
                           ad[3], wd[3]);
    if (wd[2] * groups != ad[3]) {
        if (groups == 1)
            return clcnn__fail(ctx, CLCNN_ERROR_SHAPE, "%s: w has %zu input channels (dims[2]) but a_prev has %zu", op,
                               wd[2], ad[3]);
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: w has %zu input channels (dims[2]) but a_prev's %zu channels in %d groups need %zu "
                           "per group",
                           op, wd[2], ad[3], p->groups, ad[3] / groups);
    }
    /* Tensors hold < 2^31 elements, so each dim fits an int; padded
     * extents and dilated windows are computed in wider arithmetic. */
    const long long padded_h = (long long)ad[1] + p->pad_top + p->pad_bottom;
    const long long padded_w = (long long)ad[2] + p->pad_left + p->pad_right;
    if (padded_h > INT_MAX / 2 || padded_w > INT_MAX / 2)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: the pads make the padded input %lld x %lld; each side may be at most %d", op, padded_h,
                           padded_w, INT_MAX / 2);
    const long long span_h = (long long)p->dilation_h * ((long long)wd[0] - 1) + 1;
    const long long span_w = (long long)p->dilation_w * ((long long)wd[1] - 1) + 1;
    if (span_h > padded_h || span_w > padded_w) {
        if (walkthrough)
            return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                               "%s: the %zu x %zu window is larger than the padded input %lld x %lld "
                               "(a_prev %zu x %zu, pad %d)",
                               op, wd[0], wd[1], padded_h, padded_w, ad[1], ad[2], p->pad_top);
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: the %zu x %zu window with dilation %d x %d spans %lld x %lld, more than the padded "
                           "input %lld x %lld (a_prev %zu x %zu, pads top %d bottom %d left %d right %d)",
                           op, wd[0], wd[1], p->dilation_h, p->dilation_w, span_h, span_w, padded_h, padded_w, ad[1],
                           ad[2], p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
    }
    s->m = (int)ad[0];
    s->n_H_prev = (int)ad[1];
    s->n_W_prev = (int)ad[2];
    s->n_C_prev = (int)ad[3];
    s->f_h = (int)wd[0];
    s->f_w = (int)wd[1];
    s->n_C = (int)wd[3];
    s->n_H = (int)((padded_h - span_h) / p->stride_h + 1);
    s->n_W = (int)((padded_w - span_w) / p->stride_w + 1);
    /* With one output row (column) only window 0 exists, and a stride
     * beyond the padded input means nothing: capping it keeps the kernels'
     * index arithmetic within int. */
    s->stride_h = s->n_H == 1 && p->stride_h > padded_h ? (int)padded_h : p->stride_h;
    s->stride_w = s->n_W == 1 && p->stride_w > padded_w ? (int)padded_w : p->stride_w;
    s->pad_top = p->pad_top;
    s->pad_left = p->pad_left;
    s->dilation_h = p->dilation_h;
    s->dilation_w = p->dilation_w;
    s->groups = p->groups;
    s->gemm_view = 0;
    s->in_group = s->n_C_prev / p->groups;
    s->out_group = s->n_C / p->groups;
    /* Each product stays below 2^62 (every factor is below 2^31). */
    long long pixels = (long long)s->m * s->n_H;
    if (pixels > INT_MAX || (pixels *= s->n_W) > INT_MAX || pixels * s->n_C > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: the output %d x %d x %d x %d would have over %d elements, the most one tensor "
                           "may hold (kernels use 32-bit offsets); use a smaller batch, pad or input",
                           op, s->m, s->n_H, s->n_W, s->n_C, INT_MAX);
    s->n_pixels = (int)pixels;
    return CLCNN_OK;
}

static clcnn_status check_activation(clcnn_context *ctx, const char *op, clcnn_activation act)
{
    if (act == CLCNN_ACTIVATION_NONE || act == CLCNN_ACTIVATION_RELU)
        return CLCNN_OK;
    return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                       "%s: act is %d; use CLCNN_ACTIVATION_NONE (0) or CLCNN_ACTIVATION_RELU (1)", op, (int)act);
}

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
    for (int tile = tuned; tile >= 1 && 2 * tile >= tuned; tile--) {
        const long long cost = (long long)clcnn__div_up((size_t)width, (size_t)tile) * (overhead + tile);
        if (cost < best_cost) {
            best = tile;
            best_cost = cost;
        }
    }
    return best;
}

/* The epilogue's -D options: bias and activation are compiled in, so a
 * layer without them pays nothing. */
static int epilogue_options(char *out, size_t capacity, int has_bias, clcnn_activation act)
{
    return snprintf(out, capacity, "%s%s", has_bias ? " -DHAS_BIAS=1" : "",
                    act == CLCNN_ACTIVATION_RELU ? " -DRELU=1" : "");
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

/* The register-tiled forward kernel, built for one shape and epilogue:
 * planned before anything is enqueued, launched on any buffers of that
 * shape (the forward's own, or dA's, a forward with W transposed). */
typedef struct forward_plan {
    cl_kernel kernel;
    size_t global[2], local[2];
} forward_plan;

static clcnn_status plan_tiled_forward(clcnn_context *ctx, const char *op, clcnn_dtype dt, const conv_shape *s,
                                       const char *epilogue, forward_plan *f)
{
    const clcnn_tuning *t = &ctx->tuning;
    const int vec = clcnn__vector_for(t->conv_vector, s->out_group),
              tile = forward_tile(t->conv_forward_tile, t->forward_tile_overhead, s->n_W);
    char options[192];
    snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d -DDILATED_OR_GROUPED=%d%s", tile, vec,
             s->dilation_w != 1 || s->groups != 1, epilogue);
    f->global[0] = (size_t)s->m * s->n_H * clcnn__div_up((size_t)s->n_W, (size_t)tile);
    f->global[1] = (size_t)s->groups * clcnn__div_up((size_t)s->out_group, (size_t)vec);
    f->local[0] = (size_t)t->conv_local;
    f->local[1] = 1;
    return clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_forward, dt, options, "conv_forward", &f->kernel);
}

/* z = epilogue(conv(a, w) + b); without a bias in the plan, b is never read. */
static clcnn_status run_forward(clcnn_context *ctx, const char *op, const conv_shape *s, const forward_plan *f,
                                cl_mem a, cl_mem w, cl_mem b, cl_mem z)
{
    const clcnn_arg args[] = {CLCNN_ARG(a), CLCNN_ARG(w), CLCNN_ARG(b), CLCNN_ARG(z), CLCNN_CONV_SHAPE_ARGS(*s)};
    clcnn_status st = clcnn__set_args(ctx, op, f->kernel, args, (int)(sizeof args / sizeof args[0]));
    return st ? st : clcnn__launch(ctx, op, f->kernel, 2, f->global, f->local);
}

/* Puts ctx->tuning under the tuning database's rows for this layer (op
 * "conv_forward" or "conv_backward"), saving the context's in *saved. */
static void begin_layer(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                        const clcnn_conv_params *params, clcnn_tuning *saved)
{
    clcnn_tuning_layer_key key;
    if (ctx->tuning_db.count == 0 ||
        clcnn__tuning_conv_key(&key, op, a_prev->dtype, a_prev->dims, w->dims, params) != 0)
        key.exact[0] = key.class_key[0] = '\0';
    clcnn__tuning_layer_begin(ctx, &key, saved);
}

/* The forward of a validated layer, planned under the layer's tuning. */
static clcnn_status conv_forward_planned(clcnn_context *ctx, const char *op, const conv_shape *shape,
                                         const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                         clcnn_activation act, clcnn_tensor *z)
{
    conv_shape s = *shape;
    clcnn_status st;
    const clcnn_dtype dt = a_prev->dtype;
    view_as_gemm(&s);
    if (clcnn__depthwise_applies(&s))
        return clcnn__depthwise_forward(ctx, op, &s, a_prev, w, b, act, z);
    /* Work-group tiles in local memory (conv_gpu.c), where the tuning asks
     * for them and the device runs them; else the register tiles below. */
    int done = 0;
    char epilogue[32];
    epilogue_options(epilogue, sizeof epilogue, b != NULL, act);
    if ((st = clcnn__conv_gpu_forward(ctx, op, &s, a_prev, w, b, epilogue, z, &done)) || done)
        return st;
    forward_plan f;
    if ((st = plan_tiled_forward(ctx, op, dt, &s, epilogue, &f)))
        return st;
    /* Without a bias the kernel never reads b: any buffer stands in. */
    return run_forward(ctx, op, &s, &f, a_prev->mem, w->mem, b ? b->mem : w->mem, z->mem);
}

static clcnn_status conv_forward(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                 const clcnn_tensor *b, const clcnn_conv_params *params, clcnn_activation act,
                                 int walkthrough, clcnn_tensor *z)
{
    conv_shape s;
    clcnn_status st = conv_validate(ctx, op, a_prev, w, params, walkthrough, &s);
    if (st != CLCNN_OK)
        return st;
    const clcnn_dtype dt = a_prev->dtype;
    const size_t b_dims[4] = {1, 1, 1, (size_t)s.n_C};
    const size_t z_dims[4] = {(size_t)s.m, (size_t)s.n_H, (size_t)s.n_W, (size_t)s.n_C};
    if ((walkthrough || b) &&
        ((st = clcnn__check_tensor(ctx, op, "b", b, dt)) || (st = clcnn__check_dims(ctx, op, "b", b, b_dims))))
        return st;
    if ((st = check_activation(ctx, op, act)) || (st = clcnn__check_tensor(ctx, op, "z", z, dt)) ||
        (st = clcnn__check_dims(ctx, op, "z", z, z_dims)) ||
        (st = clcnn__check_distinct(ctx, op, "z", z, "a_prev", a_prev)) ||
        (st = clcnn__check_distinct(ctx, op, "z", z, "w", w)) || (st = clcnn__check_distinct(ctx, op, "z", z, "b", b)))
        return st;

    clcnn_tuning saved;
    begin_layer(ctx, "conv_forward", a_prev, w, params, &saved);
    st = conv_forward_planned(ctx, op, &s, a_prev, w, b, act, z);
    clcnn__tuning_layer_end(ctx, &saved);
    return st;
}

clcnn_status clcnn_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                const clcnn_tensor *b, int stride, int pad, clcnn_tensor *z)
{
    const clcnn_conv_params params = clcnn_conv_params_default(stride, pad);
    return conv_forward(ctx, "conv_forward", a_prev, w, b, &params, CLCNN_ACTIVATION_NONE, 1, z);
}

clcnn_status clcnn_conv_forward_ex(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                   const clcnn_tensor *b, const clcnn_conv_params *params, clcnn_activation act,
                                   clcnn_tensor *z)
{
    return conv_forward(ctx, "conv_forward_ex", a_prev, w, b, params, act, 0, z);
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

typedef struct backward_plan {
    clcnn_conv_data_kernel data_kernel;     /* dA's kernel (never _auto or _gemm) */
    clcnn_conv_filter_kernel filter_kernel; /* dW's kernel (never _auto or _gemm) */
    cl_kernel reorder;                      /* W for dA: transpose_weights, or turn_weights for dA as a forward */
    cl_kernel data, filter, filter_sum, bias, bias_sum;
    cl_mem wt, filter_part, bias_part;
    int tile_data; /* dA pixels per work-item, along a stride-residue chain */
    int vec_data, vec_filter, vec_bias, filter_rows, filter_chunk, filter_chunks, bias_chunk, bias_chunks;
    conv_shape data_shape; /* dA as a forward: the layer's shape, input and output channels swapped */
    forward_plan data_plan;
    int filter_block_rows;            /* conv_backward_filter's rows between barriers, or 0 */
    int matrix_rows, matrix_channels; /* its tile: rows times input channels per work-item */
    int depthwise;                    /* dA and dW by conv_depthwise.c's kernels */
    clcnn_depthwise_plan dw;
} backward_plan;

/* Elements of W (and of dW): f_h x f_w x in_group x n_C. */
static size_t weight_count(const conv_shape *s)
{
    return (size_t)s->f_h * s->f_w * s->in_group * s->n_C;
}

/* Whether dA runs as a forward convolution: at stride 1 with the pads
 * within the window (clcnn__turned_shape), or in the GEMM view, where W
 * turned is W transposed. */
static int data_forward_runs(const conv_shape *s)
{
    return s->gemm_view || (s->stride_h == 1 && s->stride_w == 1 && s->pad_top <= (s->f_h - 1) * s->dilation_h &&
                            s->pad_left <= (s->f_w - 1) * s->dilation_w);
}

/* The kernel a CHOICE key's value `key` forces where runs[key] says that
 * kernel runs the layer, else 0 (auto). */
static int forced_kernel(int key, const int *runs, size_t count)
{
    return key > 0 && (size_t)key < count && runs[key] ? key : 0;
}

clcnn_conv_data_kernel clcnn__conv_data_forced(const clcnn_tuning *t, const conv_shape *s)
{
    const int runs[] = {
        [CLCNN_CONV_DATA_auto] = 1,
        [CLCNN_CONV_DATA_gemm] = 1, /* where a blocking fits: conv_gpu.c */
        [CLCNN_CONV_DATA_forward] = data_forward_runs(s),
        [CLCNN_CONV_DATA_matrix] = s->gemm_view,
        [CLCNN_CONV_DATA_dot] = s->groups == 1 && s->n_C_prev <= DOT_MOST_CHANNELS,
        [CLCNN_CONV_DATA_gather] = 1,
    };
    return (clcnn_conv_data_kernel)forced_kernel(t->conv_data, runs, sizeof runs / sizeof runs[0]);
}

/* dA's kernel: the one conv_data forces, else by the rules below (the
 * GPU's GEMM, where it runs, was planned by conv_gpu.c). */
static clcnn_conv_data_kernel data_kernel_for(const clcnn_tuning *t, const conv_shape *s)
{
    const clcnn_conv_data_kernel forced = clcnn__conv_data_forced(t, s);
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

/* dA's kernels: which one runs, built, with W's reordered copy sized. */
static clcnn_status plan_backward_data(clcnn_context *ctx, const char *op, clcnn_dtype dt, const conv_shape *s,
                                       backward_plan *p)
{
    const clcnn_tuning *t = &ctx->tuning;
    const size_t wt_bytes = weight_count(s) * clcnn__dtype_size(dt);
    char options[128];
    clcnn_status st;
    p->data_kernel = data_kernel_for(t, s);
    p->tile_data =
        clcnn__tile_for_width(t->conv_tile_pixels, (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w));
    if (p->data_kernel == CLCNN_CONV_DATA_forward) {
        p->data_shape = clcnn__turned_shape(s);
        p->vec_data = clcnn__vector_for(t->conv_vector, s->in_group);
        snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d", p->tile_data, p->vec_data);
        if ((st = plan_tiled_forward(ctx, op, dt, &p->data_shape, "", &p->data_plan)) ||
            (st =
                 clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_data, dt, options, "turn_weights", &p->reorder)) ||
            (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_WEIGHTS_T, wt_bytes, &p->wt)))
            return st;
    } else if (p->data_kernel == CLCNN_CONV_DATA_matrix) {
        /* rows x channels vector accumulators plus one load per row: half
         * the forward's pixel tile of rows keeps them in registers. */
        p->vec_data = clcnn__vector_for(t->conv_vector, s->n_C);
        p->matrix_rows = t->conv_tile_pixels > 1 ? t->conv_tile_pixels / 2 : 1;
        p->matrix_channels = t->data_matrix_channels;
        snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d -DK_TILE=%d", p->matrix_rows, p->vec_data,
                 p->matrix_channels);
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_data, dt, options, "conv_backward_data_matrix",
                                    &p->data)))
            return st;
    } else if (p->data_kernel == CLCNN_CONV_DATA_dot) {
        int vec = clcnn__vector_for(t->conv_vector, s->n_C);
        while (vec > t->narrow_vector_min && p->tile_data * s->n_C_prev * vec > t->data_dot_lanes)
            vec /= 2;
        p->vec_data = vec;
        snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d -DCHANNELS_PREV=%d", p->tile_data, vec,
                 s->n_C_prev);
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_data, dt, options, "conv_backward_data_dot",
                                    &p->data)))
            return st;
    } else {
        p->vec_data = clcnn__vector_for(t->conv_vector, s->in_group);
        snprintf(options, sizeof options, "-DTILE_PIXELS=%d -DVECTOR=%d", p->tile_data, p->vec_data);
        if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_data, dt, options, "transpose_weights",
                                    &p->reorder)) ||
            (st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_data, dt, options, "conv_backward_data",
                                    &p->data)) ||
            (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_WEIGHTS_T, wt_bytes, &p->wt)))
            return st;
    }
    return CLCNN_OK;
}

/* dW's chunks: whole output rows (m * n_H of them) of at least
 * filter_chunk_min_pixels pixels, as many as the tuning allows. The partial
 * sums cost chunks x |dW| written and read again: the CPU column keeps that
 * within filter_chunk_reads (3) times what the reduction reads (A_prev and
 * dZ), so that deep layers, where dW is as large as the activations, get
 * fewer chunks. GPUs need the chunks for parallelism and keep them until
 * measured (0: no cap). */
static void plan_filter_chunks(const clcnn_tuning *t, const conv_shape *s, backward_plan *p)
{
    const size_t w_count = weight_count(s);
    const int out_rows = s->m * s->n_H;
    const size_t reads = (size_t)s->m * s->n_H_prev * s->n_W_prev * s->n_C_prev + (size_t)s->n_pixels * s->n_C;
    const size_t cap = (size_t)t->filter_chunk_reads * reads / w_count;
    int max_chunks = t->filter_bias_chunks;
    if (t->filter_chunk_reads && (size_t)max_chunks > cap)
        max_chunks = (int)cap;
    p->filter_chunk =
        chunk_size_for(out_rows, max_chunks, (int)clcnn__div_up((size_t)t->filter_chunk_min_pixels, (size_t)s->n_W));
    p->filter_chunks = (int)clcnn__div_up((size_t)out_rows, (size_t)p->filter_chunk);
}

clcnn_conv_filter_kernel clcnn__conv_filter_forced(const clcnn_tuning *t, const conv_shape *s)
{
    const int runs[] = {
        [CLCNN_CONV_FILTER_auto] = 1,
        [CLCNN_CONV_FILTER_gemm] = 1, /* where a blocking fits: conv_gpu.c */
        [CLCNN_CONV_FILTER_blocked] = s->gemm_view,
        [CLCNN_CONV_FILTER_rows] = s->groups == 1 && s->dilation_w == 1 && s->f_w * s->n_C_prev <= ROWS_MOST_LEN,
        [CLCNN_CONV_FILTER_tiles] = 1,
    };
    return (clcnn_conv_filter_kernel)forced_kernel(t->conv_filter, runs, sizeof runs / sizeof runs[0]);
}

/* dW's kernel: the one conv_filter forces, else by the rules below (the
 * GPU's GEMM, where it runs, was planned by conv_gpu.c). */
static clcnn_conv_filter_kernel filter_kernel_for(const clcnn_tuning *t, const conv_shape *s)
{
    const clcnn_conv_filter_kernel forced = clcnn__conv_filter_forced(t, s);
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

/* dW's kernel and chunk sum, built, with the partial sums' workspace. */
static clcnn_status plan_backward_filter(clcnn_context *ctx, const char *op, clcnn_dtype dt, const conv_shape *s,
                                         backward_plan *p)
{
    const clcnn_tuning *t = &ctx->tuning;
    const size_t w_count = weight_count(s);
    char options[128];
    clcnn_status st;
    p->vec_filter = clcnn__vector_for(t->conv_vector, s->out_group);
    plan_filter_chunks(t, s, p);
    p->filter_kernel = filter_kernel_for(t, s);
    if (p->filter_kernel == CLCNN_CONV_FILTER_rows) {
        /* The vector narrows to keep the row's accumulators in registers. */
        const int row_len = s->f_w * s->n_C_prev, budget = t->filter_tile_rows * t->conv_vector;
        while (p->vec_filter > t->narrow_vector_min && row_len * p->vec_filter > budget)
            p->vec_filter /= 2;
        snprintf(options, sizeof options, "-DCHANNELS_PREV=%d -DROW_LEN=%d -DVECTOR=%d", s->n_C_prev, row_len,
                 p->vec_filter);
    } else {
        p->filter_rows = t->filter_tile_rows < s->in_group ? t->filter_tile_rows : s->in_group;
        snprintf(options, sizeof options, "-DTILE_ROWS=%d -DVECTOR=%d", p->filter_rows, p->vec_filter);
    }
    if (p->filter_kernel == CLCNN_CONV_FILTER_blocked) {
        p->filter_chunks = 1;
        const size_t used = strlen(options);
        snprintf(options + used, sizeof options - used, " -DBLOCK_PIXELS=%d", t->filter_block_pixels);
    }
    /* Not for grouped layers unless filter_block_rows_grouped, where the
     * blocks were measured no faster. */
    p->filter_block_rows = t->use_filter_block_rows && p->filter_kernel == CLCNN_CONV_FILTER_tiles &&
                                   (s->groups == 1 || t->filter_block_rows_grouped)
                               ? (s->n_W < t->filter_block_pixels ? t->filter_block_pixels / s->n_W : 1)
                               : 0;
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_filter, dt, options,
                                p->filter_kernel == CLCNN_CONV_FILTER_rows      ? "conv_backward_filter_rows"
                                : p->filter_kernel == CLCNN_CONV_FILTER_blocked ? "conv_backward_filter_blocked"
                                                                                : "conv_backward_filter",
                                &p->filter)) ||
        (st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_filter, dt, options, "filter_sum_chunks",
                                &p->filter_sum)))
        return st;
    if ((size_t)p->filter_chunks * w_count > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: dW's workspace of %d partial sums of %zu elements passes the %d elements "
                           "kernels can index; lower filter_bias_chunks in CLCNN_TUNE or use smaller weights",
                           op, p->filter_chunks, w_count, INT_MAX);
    if (p->filter_chunks > 1 &&
        (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_FILTER_PARTS,
                               (size_t)p->filter_chunks * w_count * clcnn__dtype_size(dt), &p->filter_part)))
        return st;
    return CLCNN_OK;
}

/* db's kernel and chunk sum, built, with the partial sums' workspace. */
static clcnn_status plan_backward_bias(clcnn_context *ctx, const char *op, clcnn_dtype dt, const conv_shape *s,
                                       backward_plan *p)
{
    char options[128];
    clcnn_status st;
    p->vec_bias = clcnn__vector_for(ctx->tuning.conv_vector, s->n_C);
    p->bias_chunk = chunk_size_for(s->n_pixels, ctx->tuning.filter_bias_chunks, ctx->tuning.bias_chunk_min_pixels);
    p->bias_chunks = (int)clcnn__div_up((size_t)s->n_pixels, (size_t)p->bias_chunk);
    snprintf(options, sizeof options, "-DVECTOR=%d", p->vec_bias);
    if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_bias, dt, options, "conv_backward_bias", &p->bias)))
        return st;
    /* One chunk (small layers, fully connected ones above all) is db
     * itself: no partial sums and no launch to add them up. */
    if (p->bias_chunks == 1)
        return CLCNN_OK;
    if ((st =
             clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_bias, dt, options, "bias_sum_chunks", &p->bias_sum)) ||
        (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_BIAS_PARTS,
                               (size_t)p->bias_chunks * s->n_C * clcnn__dtype_size(dt), &p->bias_part)))
        return st;
    return CLCNN_OK;
}

/* Builds every kernel and sizes every workspace the call needs, so that
 * nothing can fail once the first kernel is enqueued. */
static clcnn_status plan_backward(clcnn_context *ctx, const char *op, clcnn_dtype dt, const conv_shape *s,
                                  int want_data, int want_filter, int want_bias, backward_plan *p)
{
    clcnn_status st;
    p->depthwise = clcnn__depthwise_applies(s);
    if (p->depthwise) {
        if ((st = clcnn__depthwise_plan_backward(ctx, op, dt, s, want_data, want_filter, &p->dw)))
            return st;
        want_data = want_filter = 0;
    }
    if ((want_data && (st = plan_backward_data(ctx, op, dt, s, p))) ||
        (want_filter && (st = plan_backward_filter(ctx, op, dt, s, p))) ||
        (want_bias && (st = plan_backward_bias(ctx, op, dt, s, p))))
        return st;
    return CLCNN_OK;
}

static clcnn_status sum_chunks(clcnn_context *ctx, const char *op, cl_kernel k, cl_mem part, cl_mem out, int n,
                               int chunks)
{
    const clcnn_arg args[] = {CLCNN_ARG(part), CLCNN_ARG(out), CLCNN_ARG(n), CLCNN_ARG(chunks)};
    const size_t global[1] = {(size_t)n}, local[1] = {(size_t)ctx->tuning.sum_local};
    clcnn_status st = clcnn__set_args(ctx, op, k, args, 4);
    return st ? st : clcnn__launch(ctx, op, k, 1, global, local);
}

/* p->wt = W reordered for dA by the plan's kernel: each tap's (input,
 * output channel) matrix transposed (transpose_weights), or W turned for
 * dA as a forward (turn_weights); both take the same arguments. */
static clcnn_status reorder_weights(clcnn_context *ctx, const char *op, const conv_shape *s, const backward_plan *p,
                                    const clcnn_tensor *w)
{
    const clcnn_arg args[] = {CLCNN_ARG(w->mem),      CLCNN_ARG(p->wt),        CLCNN_ARG(s->f_h), CLCNN_ARG(s->f_w),
                              CLCNN_ARG(s->in_group), CLCNN_ARG(s->out_group), CLCNN_ARG(s->n_C)};
    const size_t global[3] = {(size_t)s->in_group, (size_t)s->n_C, (size_t)s->f_h * s->f_w};
    /* Groups of 64 (16 along cp, the written dimension): with one item per
     * group, POCL's per-group cost made the transpose a large part of dA on
     * deep layers. */
    const size_t local[3] = {(size_t)ctx->tuning.weights_local_in, (size_t)ctx->tuning.weights_local_out, 1};
    clcnn_status st = clcnn__set_args(ctx, op, p->reorder, args, (int)(sizeof args / sizeof args[0]));
    return st ? st : clcnn__launch(ctx, op, p->reorder, 3, global, local);
}

/* dA by the kernel the plan chose (the depthwise plan's excepted). */
static clcnn_status run_backward_data(clcnn_context *ctx, const char *op, const conv_shape *s, const backward_plan *p,
                                      const clcnn_tensor *dz, const clcnn_tensor *w, clcnn_tensor *da_prev)
{
    const clcnn_tuning *t = &ctx->tuning;
    clcnn_status st;
    if (p->data_kernel == CLCNN_CONV_DATA_forward)
        return (st = reorder_weights(ctx, op, s, p, w))
                   ? st
                   : run_forward(ctx, op, &p->data_shape, &p->data_plan, dz->mem, p->wt, p->wt, da_prev->mem);
    if (p->data_kernel == CLCNN_CONV_DATA_matrix) {
        const clcnn_arg args[] = {CLCNN_ARG(dz->mem),     CLCNN_ARG(w->mem),      CLCNN_ARG(da_prev->mem),
                                  CLCNN_ARG(s->n_pixels), CLCNN_ARG(s->n_C_prev), CLCNN_ARG(s->n_C)};
        const size_t global[2] = {clcnn__div_up((size_t)s->n_pixels, (size_t)p->matrix_rows),
                                  clcnn__div_up((size_t)s->n_C_prev, (size_t)p->matrix_channels)};
        /* Neighbouring channel tiles share a group, while groups stay many. */
        size_t along = 1;
        while (along * 2 <= (size_t)t->conv_local && global[1] / (along * 2) * global[0] >= (size_t)t->conv_min_groups)
            along *= 2;
        const size_t matrix_local[2] = {1, along};
        st = clcnn__set_args(ctx, op, p->data, args, (int)(sizeof args / sizeof args[0]));
        return st ? st : clcnn__launch(ctx, op, p->data, 2, global, matrix_local);
    }
    /* The gathers: a work-item per tile of input pixels along one stride
     * residue's chain of a row. */
    const int residues = s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev;
    const int per_residue = (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w);
    const int tiles = (int)clcnn__div_up((size_t)per_residue, (size_t)p->tile_data);
    const size_t rows = (size_t)s->m * s->n_H_prev * residues * tiles;
    const size_t local[2] = {(size_t)t->conv_local, 1};
    if (p->data_kernel == CLCNN_CONV_DATA_dot) {
        const clcnn_arg args[] = {CLCNN_ARG(dz->mem),        CLCNN_ARG(w->mem),   CLCNN_ARG(da_prev->mem),
                                  CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(residues), CLCNN_ARG(tiles)};
        const size_t global[2] = {rows, 1};
        st = clcnn__set_args(ctx, op, p->data, args, (int)(sizeof args / sizeof args[0]));
        return st ? st : clcnn__launch(ctx, op, p->data, 2, global, local);
    }
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem),        CLCNN_ARG(p->wt),    CLCNN_ARG(da_prev->mem),
                              CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(residues), CLCNN_ARG(tiles)};
    const size_t global[2] = {rows, (size_t)s->groups * clcnn__div_up((size_t)s->in_group, (size_t)p->vec_data)};
    if ((st = reorder_weights(ctx, op, s, p, w)) ||
        (st = clcnn__set_args(ctx, op, p->data, args, (int)(sizeof args / sizeof args[0]))))
        return st;
    return clcnn__launch(ctx, op, p->data, 2, global, local);
}

/* dW by the kernel the plan chose (the depthwise plan's excepted), its
 * chunks summed where there are several. */
static clcnn_status run_backward_filter(clcnn_context *ctx, const char *op, const conv_shape *s, const backward_plan *p,
                                        const clcnn_tensor *a_prev, const clcnn_tensor *dz, clcnn_tensor *dw)
{
    const clcnn_tuning *t = &ctx->tuning;
    const size_t side = (size_t)t->filter_block_group;
    clcnn_status st;
    if (p->filter_kernel == CLCNN_CONV_FILTER_blocked) {
        const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(dz->mem),     CLCNN_ARG(dw->mem),
                                  CLCNN_ARG(s->n_pixels), CLCNN_ARG(s->n_C_prev), CLCNN_ARG(s->n_C)};
        const size_t global[2] = {clcnn__div_up((size_t)s->n_C_prev, (size_t)p->filter_rows),
                                  clcnn__div_up((size_t)s->n_C, (size_t)p->vec_filter)};
        /* Groups of up to side x side items share the blocks. */
        const size_t most[2] = {side, side};
        size_t local[2];
        blocked_groups(global, most, 1, (size_t)t->filter_blocked_min_groups, local);
        st = clcnn__set_args(ctx, op, p->filter, args, (int)(sizeof args / sizeof args[0]));
        return st ? st : clcnn__launch(ctx, op, p->filter, 2, global, local);
    }
    /* Work-items along dim 0: kernel rows, or (tap, channel tile) pairs. */
    const int by_rows = p->filter_kernel == CLCNN_CONV_FILTER_rows;
    const size_t tap_items =
        by_rows ? (size_t)s->f_h : (size_t)s->f_h * s->f_w * clcnn__div_up((size_t)s->in_group, (size_t)p->filter_rows);
    clcnn_arg args[] = {CLCNN_ARG(a_prev->mem),    CLCNN_ARG(dz->mem),         CLCNN_ARG(p->filter_part),
                        CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(p->filter_chunk), CLCNN_ARG(p->filter_block_rows)};
    const int n_args = (int)(sizeof args / sizeof args[0]) - (by_rows ? 1 : 0);
    const size_t global[3] = {tap_items, (size_t)s->groups * clcnn__div_up((size_t)s->out_group, (size_t)p->vec_filter),
                              (size_t)p->filter_chunks};
    /* Items of one chunk share a group, up to conv_local of them (with
     * barrier blocks, up to side x side across taps and channel vectors, which
     * share the blocks), as long as there are groups enough for every
     * core: a group per item costs POCL its per-group overhead on each
     * of the many small items of a fully connected layer's dW. */
    size_t local[3] = {1, 1, 1};
    const size_t most[2] = {p->filter_block_rows ? side : (size_t)t->conv_local, p->filter_block_rows ? side : 1};
    blocked_groups(global, most, global[2], (size_t)t->conv_min_groups, local);
    const int n = (int)(dw->count);
    /* One chunk: its partial sums are dW itself. */
    if (p->filter_chunks == 1)
        args[2] = CLCNN_ARG(dw->mem);
    if ((st = clcnn__set_args(ctx, op, p->filter, args, n_args)) ||
        (st = clcnn__launch(ctx, op, p->filter, 3, global, local)))
        return st;
    return p->filter_chunks > 1 ? sum_chunks(ctx, op, p->filter_sum, p->filter_part, dw->mem, n, p->filter_chunks)
                                : CLCNN_OK;
}

/* db: chunks of pixels summed per channel, then the chunks summed; one
 * chunk is written to db directly. */
static clcnn_status run_backward_bias(clcnn_context *ctx, const char *op, const conv_shape *s, const backward_plan *p,
                                      const clcnn_tensor *dz, clcnn_tensor *db)
{
    const cl_mem part = p->bias_chunks == 1 ? db->mem : p->bias_part;
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem), CLCNN_ARG(part), CLCNN_ARG(s->n_C), CLCNN_ARG(s->n_pixels),
                              CLCNN_ARG(p->bias_chunk)};
    const size_t global[2] = {clcnn__div_up((size_t)s->n_C, (size_t)p->vec_bias), (size_t)p->bias_chunks};
    const size_t local[2] = {1, 1};
    clcnn_status st;
    if ((st = clcnn__set_args(ctx, op, p->bias, args, 5)) || (st = clcnn__launch(ctx, op, p->bias, 2, global, local)))
        return st;
    return p->bias_chunks > 1 ? sum_chunks(ctx, op, p->bias_sum, p->bias_part, db->mem, s->n_C, p->bias_chunks)
                              : CLCNN_OK;
}

/* The backward of a validated layer, planned under the layer's tuning. */
static clcnn_status conv_backward_planned(clcnn_context *ctx, const char *op, const conv_shape *shape,
                                          const clcnn_tensor *dz, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                          clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db)
{
    conv_shape s = *shape;
    clcnn_status st;
    const clcnn_dtype dt = a_prev->dtype;
    view_as_gemm(&s);
    /* The GPU's GEMM kernels (conv_gpu.c) take the outputs they run; the
     * rest are planned and run below. */
    clcnn_conv_gpu_plan gpu;
    if ((st = clcnn__conv_gpu_plan_backward(ctx, op, &s, dz, a_prev, w, &da_prev, &dw, &db, &gpu)))
        return st;
    backward_plan p = {0};
    if ((st = plan_backward(ctx, op, dt, &s, da_prev != NULL, dw != NULL, db != NULL, &p)))
        return st;
    if ((st = clcnn__conv_gpu_backward(ctx, op, &s, &gpu)))
        return st;

    if (p.depthwise && ((da_prev && (st = clcnn__depthwise_backward_data(ctx, op, &s, &p.dw, dz, w, da_prev))) ||
                        (dw && (st = clcnn__depthwise_backward_filter(ctx, op, &s, &p.dw, a_prev, dz, dw)))))
        return st;
    if ((da_prev && !p.depthwise && (st = run_backward_data(ctx, op, &s, &p, dz, w, da_prev))) ||
        (dw && !p.depthwise && (st = run_backward_filter(ctx, op, &s, &p, a_prev, dz, dw))) ||
        (db && (st = run_backward_bias(ctx, op, &s, &p, dz, db))))
        return st;
    return CLCNN_OK;
}

static clcnn_status conv_backward(clcnn_context *ctx, const char *op, const clcnn_tensor *dz,
                                  const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_conv_params *params,
                                  int walkthrough, clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db)
{
    conv_shape s;
    clcnn_status st = conv_validate(ctx, op, a_prev, w, params, walkthrough, &s);
    if (st != CLCNN_OK)
        return st;
    const clcnn_dtype dt = a_prev->dtype;
    const size_t z_dims[4] = {(size_t)s.m, (size_t)s.n_H, (size_t)s.n_W, (size_t)s.n_C};
    const size_t b_dims[4] = {1, 1, 1, (size_t)s.n_C};
    if ((st = clcnn__check_tensor(ctx, op, "dz", dz, dt)) || (st = clcnn__check_dims(ctx, op, "dz", dz, z_dims)))
        return st;
    if (!da_prev && !dw && !db)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: da_prev, dw and db are all NULL; ask for at least one gradient", op);
    const clcnn_named_output outs[] = {{"da_prev", da_prev, a_prev->dims}, {"dw", dw, w->dims}, {"db", db, b_dims}};
    const clcnn_named_input ins[] = {{"dz", dz}, {"a_prev", a_prev}, {"w", w}};
    if ((st = clcnn__check_outputs(ctx, op, dt, outs, 3, ins, 3, 1)))
        return st;

    clcnn_tuning saved;
    begin_layer(ctx, "conv_backward", a_prev, w, params, &saved);
    st = conv_backward_planned(ctx, op, &s, dz, a_prev, w, da_prev, dw, db);
    clcnn__tuning_layer_end(ctx, &saved);
    return st;
}

clcnn_status clcnn_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                 const clcnn_tensor *w, int stride, int pad, clcnn_tensor *da_prev, clcnn_tensor *dw,
                                 clcnn_tensor *db)
{
    const clcnn_conv_params params = clcnn_conv_params_default(stride, pad);
    return conv_backward(ctx, "conv_backward", dz, a_prev, w, &params, 1, da_prev, dw, db);
}

clcnn_status clcnn_conv_backward_ex(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                    const clcnn_tensor *w, const clcnn_conv_params *params, clcnn_tensor *da_prev,
                                    clcnn_tensor *dw, clcnn_tensor *db)
{
    return conv_backward(ctx, "conv_backward_ex", dz, a_prev, w, params, 0, da_prev, dw, db);
}

clcnn_status clcnn__conv_validate_dims(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                       const clcnn_tensor *w, const clcnn_conv_params *params, size_t z_dims[4])
{
    conv_shape s;
    clcnn_status st = conv_validate(ctx, op, a_prev, w, params, 0, &s);
    if (st != CLCNN_OK)
        return st;
    z_dims[0] = (size_t)s.m;
    z_dims[1] = (size_t)s.n_H;
    z_dims[2] = (size_t)s.n_W;
    z_dims[3] = (size_t)s.n_C;
    return CLCNN_OK;
}
