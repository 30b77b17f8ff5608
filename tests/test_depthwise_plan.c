/* The depthwise convolution's planner (host/ops/conv/conv_depthwise_plan.c)
 * without a device: for several devices' facts, both default columns and
 * overrides that force each choice, over real networks' depthwise layers
 * and edge cases, every plan keeps its invariants (work-groups within the
 * device, grids that cover the extents, vectors and tiles within the
 * tuning, chunks that cover dW's reduction, a workspace of chunks x |dW|,
 * options not cut short) and a forced dA kernel is honoured exactly where
 * it runs the layer. Run by clcnn_planner_test, which also fails when a
 * branch of the planner is never taken. Prints the case of each failure. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"
#include "planner_devices.h"
#include "tuning_spec.h"

static int failures;
static char where[512]; /* the case being checked */

#define EXPECT(cond)                                                                                                   \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            fprintf(stderr, "FAIL %s: %s (line %d)\n", where, #cond, __LINE__);                                        \
        }                                                                                                              \
    } while (0)

/* Each forces a choice the defaults may not make, or a limit. */
static const char *const overrides[] = {
    "",
    "depthwise_data=gather",
    "depthwise_data=forward",
    "depthwise_whole_pixels=1",
    "depthwise_whole_pixels=0",
    "depthwise_whole_pixels=1,depthwise_min_items=1048576",
    "depthwise_whole_pixels=1,depthwise_min_items=1",
    "depthwise_window_per_tile=0,depthwise_window_extra=0",
    "depthwise_window_per_tile=16,depthwise_window_extra=64",
    "use_stream_stores=1,stream_min_kib=0",
    "depthwise_filter_chunk_pixels=1,depthwise_filter_max_chunks=4096",
    "depthwise_filter_chunk_pixels=1073741824",
    "depthwise_filter_tap_tiles=16,filter_tile_rows=16",
    "depthwise_filter_tap_tiles=1,filter_tile_rows=1",
    "conv_tile_pixels=1,depthwise_tile=1,conv_vector=1,depthwise_vector=1",
    "conv_tile_pixels=16,depthwise_tile=16,conv_vector=16,depthwise_vector=16",
    "conv_local=1024,sum_local=1024",
    "conv_local=1,sum_local=1",
    "depthwise_const_shape=0",
    "depthwise_const_shape=0,depthwise_data=gather,depthwise_window_per_tile=16,depthwise_window_extra=64",
};

/* A layer as conv.c validates it: n_C_prev groups of one input channel,
 * multiplier output channels each. */
typedef struct layer {
    const char *name;
    int m, h, w, c, f_h, f_w, multiplier;
    int stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right, dilation_h, dilation_w;
} layer;

static const layer layers[] = {
    /* MobileNet v2's depthwise layers (tools/bench_rows.c) */
    {"mb2_dw112", 8, 112, 112, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"mb2_dw112s2", 8, 112, 112, 96, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},
    {"dw56", 8, 56, 56, 144, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"mb2_dw28", 8, 28, 28, 192, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"mb2_dw14s2", 8, 14, 14, 576, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},
    {"mb2_dw7", 8, 7, 7, 960, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    /* test_conv's depthwise cases */
    {"c7", 2, 9, 10, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"multiplier2_stride2", 1, 11, 9, 5, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1},
    {"c17_dilation2", 1, 12, 12, 17, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2},
    {"multiplier3_5x5_asym", 2, 10, 13, 3, 5, 5, 3, 1, 2, 2, 1, 0, 3, 1, 1},
    {"c9_pads_past_window", 2, 8, 11, 9, 3, 3, 1, 1, 1, 0, 3, 3, 1, 1, 1},
    {"c20_5x5_dilation4", 1, 20, 21, 20, 5, 5, 1, 1, 1, 8, 8, 8, 8, 4, 4},
    {"c24_rows_29", 1, 6, 29, 24, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"c64_stride2", 2, 33, 33, 64, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1},
    /* edge cases */
    {"1x1", 4, 14, 14, 32, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
    {"one_pixel_7x7", 1, 1, 1, 16, 7, 7, 1, 1, 1, 3, 3, 3, 3, 1, 1},
    {"stride3_past_row", 1, 2, 2, 2, 1, 1, 1, 3, 3, 0, 0, 0, 0, 1, 1},
    {"stride_h_only", 2, 9, 9, 8, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, 1},
    {"stride_w_only", 2, 9, 9, 8, 3, 3, 1, 1, 2, 1, 1, 1, 1, 1, 1},
    {"multiplier4", 1, 8, 8, 3, 3, 3, 4, 1, 1, 1, 1, 1, 1, 1, 1},
    {"wide_15", 1, 9, 40, 6, 1, 15, 1, 1, 1, 0, 0, 7, 7, 1, 1},
    {"tall_7x2", 3, 16, 5, 12, 7, 2, 1, 1, 1, 3, 3, 1, 0, 1, 1},
    {"c2_batch1", 1, 5, 5, 2, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1},
    {"odd_row_13", 1, 3, 13, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"stream_64x112x112x64", 64, 112, 112, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    /* dW's chunks capped by the kernels' int offsets */
    {"huge_channels", 1, 136, 136, 65536, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
};

static clcnn_conv_shape shape_of(const layer *l)
{
    clcnn_conv_shape s = {0};
    s.m = l->m;
    s.n_H_prev = l->h;
    s.n_W_prev = l->w;
    s.n_C_prev = s.groups = l->c;
    s.f_h = l->f_h;
    s.f_w = l->f_w;
    s.n_C = l->c * l->multiplier;
    s.in_group = 1;
    s.out_group = l->multiplier;
    s.stride_h = l->stride_h;
    s.stride_w = l->stride_w;
    s.pad_top = l->pad_top;
    s.pad_left = l->pad_left;
    s.dilation_h = l->dilation_h;
    s.dilation_w = l->dilation_w;
    s.n_H = (l->h + l->pad_top + l->pad_bottom - l->dilation_h * (l->f_h - 1) - 1) / l->stride_h + 1;
    s.n_W = (l->w + l->pad_left + l->pad_right - l->dilation_w * (l->f_w - 1) - 1) / l->stride_w + 1;
    s.n_pixels = s.m * s.n_H * s.n_W;
    return s;
}

static int power_of_two(size_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

/* -D<name>=<value> is in options. */
static int has_option(const char *options, const char *name, long value)
{
    char item[64];
    snprintf(item, sizeof item, "-D%s=%ld", name, value);
    for (const char *p = strstr(options, item); p; p = strstr(p + 1, item)) {
        const char end = p[strlen(item)];
        if ((p == options || p[-1] == ' ') && (end == ' ' || end == '\0'))
            return 1;
    }
    return 0;
}

/* Under depthwise_const_shape=0 no option names a value of the layer's
 * shape beyond f_w and the multiplier, which size registers: layers that
 * share tile and vector share a program. */
static void check_no_shape(const clcnn_kernel_plan *k, const clcnn_tuning *t)
{
    static const char *const shape_values[] = {
        "-DCHANNELS=", "-DFILTER_DILATION_W=", "-DFILTER_H=", "-DSTRIDE_W=", "-DDILATION_W=", "-DOUT_W=", "-DIN_W=",
        "-DPAD_W="};
    if (t->depthwise_const_shape)
        return;
    for (size_t i = 0; i < sizeof shape_values / sizeof shape_values[0]; i++)
        EXPECT(strstr(k->options, shape_values[i]) == NULL);
}

static void check_options(const clcnn_kernel_plan *k, const char *entry)
{
    EXPECT(k->file == CLCNN_FILE_conv_depthwise);
    EXPECT(k->entry && strcmp(k->entry, entry) == 0);
    /* Not cut short by the plan's capacity. */
    EXPECT(strlen(k->options) + 1 < sizeof k->options);
}

/* Work-groups within the device and the tuned size; where shaped to the
 * grid (shaped), powers of two none twice as wide as its dimension of the
 * grid. The grid need not be a multiple: the launch rounds it up and the
 * depthwise kernels return at once on the items past the end (the chunk
 * sum's group is the tuned one, whatever |dW|). */
static void check_groups(const size_t *global, const size_t *local, int dims, int shaped, int tuned,
                         const clcnn_device_facts *dev)
{
    size_t items = 1;
    for (int d = 0; d < dims; d++) {
        EXPECT(global[d] >= 1);
        if (shaped)
            EXPECT(power_of_two(local[d]) && (local[d] == 1 || local[d] < 2 * global[d]));
        items *= local[d];
    }
    EXPECT(items >= 1 && items <= dev->max_work_group_size && items <= (size_t)tuned);
}

/* A launch over rows: n_channels channels, rows of width pixels. */
static void check_rows(const clcnn_depthwise_rows_plan *p, const clcnn_tuning *t, const clcnn_device_facts *dev,
                       int n_channels, int width, size_t rows, size_t residues, int vector_budget, int tile_budget,
                       size_t out_bytes)
{
    EXPECT(power_of_two((size_t)p->vector) && p->vector <= vector_budget);
    EXPECT(p->vector == 1 || p->vector < 2 * n_channels);
    EXPECT(p->channels >= p->vector && p->channels % p->vector == 0);
    if (!t->depthwise_whole_pixels)
        EXPECT(p->channels == p->vector);
    /* The items cover the channels, and none lies wholly past them. */
    EXPECT(p->global[0] * (size_t)p->channels >= (size_t)n_channels);
    EXPECT((p->global[0] - 1) * (size_t)p->channels < (size_t)n_channels);
    /* A tile is the row, or within the budget and above half of it. */
    EXPECT(p->tile >= 1 && (p->tile == width || (p->tile <= tile_budget && 2 * p->tile > tile_budget)));
    EXPECT(p->global[1] == residues * clcnn__div_up((size_t)width, (size_t)p->tile));
    EXPECT(p->global[2] == rows);
    EXPECT(has_option(p->kernel.options, "TILE", p->tile) && has_option(p->kernel.options, "VECTOR", p->vector));
    EXPECT(p->window == (strstr(p->kernel.options, "-DFILTER_H=") != NULL));
    EXPECT(!p->window || t->depthwise_const_shape);
    check_no_shape(&p->kernel, t);
    if (strstr(p->kernel.options, "-DSTREAM_STORES=1"))
        EXPECT(t->use_stream_stores && n_channels % p->vector == 0 && out_bytes >= ((size_t)t->stream_min_kib << 10));
    check_groups(p->global, p->local, 3, 1, t->conv_local, dev);
}

static void check_forward(const clcnn_conv_shape *s, clcnn_dtype dt, const clcnn_tuning *t,
                          const clcnn_device_facts *dev)
{
    for (int bias = 0; bias < 2; bias++)
        for (int relu = 0; relu < 2; relu++) {
            clcnn_depthwise_rows_plan p;
            clcnn__depthwise_plan_forward(s, dt, bias, relu, dev, t, &p);
            check_options(&p.kernel, "depthwise_forward");
            const size_t out = (size_t)s->m * s->n_H * s->n_W * s->n_C * clcnn__dtype_size(dt);
            check_rows(&p, t, dev, s->n_C, s->n_W, (size_t)s->m * s->n_H, 1, t->depthwise_vector, t->depthwise_tile,
                       out);
            EXPECT(has_option(p.kernel.options, "CHANNELS", s->n_C) == t->depthwise_const_shape);
            check_no_shape(&p.kernel, t);
            EXPECT(bias == (strstr(p.kernel.options, "-DHAS_BIAS=1") != NULL));
            EXPECT(relu == (strstr(p.kernel.options, "-DRELU=1") != NULL));
            EXPECT(strstr(p.kernel.options, "FLIP_WINDOW") == NULL);
        }
}

static void check_data(const clcnn_conv_shape *s, clcnn_dtype dt, const clcnn_tuning *t, const clcnn_device_facts *dev,
                       const clcnn_depthwise_backward_plan *p)
{
    const int runs_forward = s->stride_h == 1 && s->stride_w == 1 && s->n_C == s->n_C_prev;
    const size_t out = (size_t)s->m * s->n_H_prev * s->n_W_prev * s->n_C_prev * clcnn__dtype_size(dt);
    /* A forced kernel where it runs the layer; gather runs every layer. */
    if (t->depthwise_data == CLCNN_DEPTHWISE_DATA_gather || !runs_forward)
        EXPECT(p->data_kernel == CLCNN_DEPTHWISE_DATA_gather);
    else
        EXPECT(p->data_kernel == CLCNN_DEPTHWISE_DATA_forward);
    if (p->data_kernel == CLCNN_DEPTHWISE_DATA_forward) {
        const clcnn_conv_shape *d = &p->data_shape;
        check_options(&p->data.kernel, "depthwise_forward");
        EXPECT(d->n_H == s->n_H_prev && d->n_W == s->n_W_prev && d->n_C == s->n_C_prev);
        EXPECT(d->n_H_prev == s->n_H && d->n_W_prev == s->n_W && d->n_C_prev == s->n_C);
        EXPECT(strstr(p->data.kernel.options, "-DFLIP_WINDOW=1") != NULL);
        check_rows(&p->data, t, dev, s->n_C_prev, s->n_W_prev, (size_t)s->m * s->n_H_prev, 1, t->depthwise_vector,
                   t->depthwise_tile, out);
        return;
    }
    check_options(&p->data.kernel, "depthwise_backward_data");
    const int multiplier = s->n_C / s->n_C_prev;
    const int tile_budget = t->conv_tile_pixels / multiplier > 1 ? t->conv_tile_pixels / multiplier : 1;
    /* Every stride residue of a row that has pixels, each in tiles. */
    EXPECT(p->data_residues >= 1 && p->data_residues <= s->stride_w && p->data_residues <= s->n_W_prev);
    const int width = (int)clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w);
    EXPECT((size_t)p->data_residues * (size_t)width >= (size_t)s->n_W_prev);
    check_rows(&p->data, t, dev, s->n_C_prev, width, (size_t)s->m * s->n_H_prev, (size_t)p->data_residues,
               t->conv_vector, tile_budget, out);
    /* The window is shared only where every tap reaches every pixel. */
    if (p->data.window)
        EXPECT(s->stride_w == 1);
}

static void check_filter(const clcnn_conv_shape *s, clcnn_dtype dt, const clcnn_tuning *t,
                         const clcnn_device_facts *dev, const clcnn_depthwise_backward_plan *p)
{
    check_options(&p->filter, "depthwise_backward_filter");
    check_options(&p->filter_sum, "depthwise_filter_sum_chunks");
    /* One program for both. */
    EXPECT(strcmp(p->filter.options, p->filter_sum.options) == 0);
    EXPECT(power_of_two((size_t)p->filter_vector) && p->filter_vector <= t->depthwise_vector);
    EXPECT(p->filter_global[0] * (size_t)p->filter_vector >= (size_t)s->n_C);
    EXPECT(p->filter_kh_block >= 1 && p->filter_kh_block <= s->f_h);
    EXPECT(p->filter_global[1] * (size_t)p->filter_kh_block >= (size_t)s->f_h);
    EXPECT((p->filter_global[1] - 1) * (size_t)p->filter_kh_block < (size_t)s->f_h);
    /* The chunks cover the output rows, none empty, within the keys. */
    const size_t rows = (size_t)s->m * s->n_H;
    EXPECT(p->filter_chunks >= 1 && p->filter_chunks <= t->depthwise_filter_max_chunks);
    EXPECT((size_t)p->filter_chunks * (size_t)p->filter_chunk_rows >= rows);
    EXPECT((size_t)(p->filter_chunks - 1) * (size_t)p->filter_chunk_rows < rows);
    EXPECT(p->filter_global[2] == (size_t)p->filter_chunks);
    EXPECT(p->filter_count == (size_t)s->f_h * s->f_w * s->n_C);
    EXPECT(p->filter_part_bytes == (size_t)p->filter_chunks * p->filter_count * clcnn__dtype_size(dt));
    EXPECT((size_t)p->filter_chunks * p->filter_count <= INT_MAX || p->filter_chunks == 1);
    EXPECT(has_option(p->filter.options, "KH_BLOCK", p->filter_kh_block));
    EXPECT(has_option(p->filter.options, "VECTOR", p->filter_vector));
    EXPECT(has_option(p->filter.options, "CHANNELS", s->n_C) == t->depthwise_const_shape);
    EXPECT(has_option(p->filter.options, "FILTER_DILATION_W", s->dilation_w) == t->depthwise_const_shape);
    check_no_shape(&p->filter, t);
    check_groups(p->filter_global, p->filter_local, 3, 1, t->conv_local, dev);
    EXPECT(p->sum_global == p->filter_count);
    check_groups(&p->sum_global, &p->sum_local, 1, 0, t->sum_local, dev);
}

static void check_backward(const clcnn_conv_shape *s, clcnn_dtype dt, const clcnn_tuning *t,
                           const clcnn_device_facts *dev)
{
    for (int want = 0; want < 4; want++) {
        const int want_data = want & 1, want_filter = want >> 1;
        clcnn_depthwise_backward_plan p;
        clcnn__depthwise_plan_gradients(s, dt, want_data, want_filter, dev, t, &p);
        if (want_data)
            check_data(s, dt, t, dev, &p);
        else
            EXPECT(p.data_kernel == CLCNN_DEPTHWISE_DATA_auto && p.data.kernel.entry == NULL);
        if (want_filter)
            check_filter(s, dt, t, dev, &p);
        else
            EXPECT(p.filter.entry == NULL && p.filter_sum.entry == NULL && p.filter_part_bytes == 0);
    }
}

static void check_layers(const char *setting, const clcnn_tuning *t, const clcnn_device_facts *dev)
{
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++)
        for (int d = 0; d < 2; d++) {
            const clcnn_dtype dt = d ? CLCNN_FLOAT64 : CLCNN_FLOAT32;
            snprintf(where, sizeof where, "%s, layer %s, %s", setting, layers[l].name, clcnn__dtype_name(dt));
            const clcnn_conv_shape s = shape_of(&layers[l]);
            check_forward(&s, dt, t, dev);
            check_backward(&s, dt, t, dev);
        }
}

/* Two layers that differ in channels, padding and dilation along w (and
 * so in the window's constants) share their programs under
 * depthwise_const_shape=0, and not under 1. */
static void check_shared_programs(const clcnn_device_facts *dev)
{
    const layer a = {"shared_a", 2, 28, 28, 192, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const layer b = {"shared_b", 2, 28, 28, 96, 3, 3, 1, 1, 1, 2, 2, 2, 2, 2, 2};
    const clcnn_conv_shape sa = shape_of(&a), sb = shape_of(&b);
    for (int constant = 0; constant < 2; constant++) {
        snprintf(where, sizeof where, "shared programs, depthwise_const_shape=%d", constant);
        clcnn_tuning t;
        clcnn__tuning_compose(dev, 1, NULL, 0, &t);
        t.depthwise_const_shape = constant;
        clcnn_depthwise_rows_plan fa, fb;
        clcnn__depthwise_plan_forward(&sa, CLCNN_FLOAT32, 1, 0, dev, &t, &fa);
        clcnn__depthwise_plan_forward(&sb, CLCNN_FLOAT32, 1, 0, dev, &t, &fb);
        EXPECT((strcmp(fa.kernel.options, fb.kernel.options) == 0) == !constant);
        clcnn_depthwise_backward_plan ba, bb;
        clcnn__depthwise_plan_gradients(&sa, CLCNN_FLOAT32, 1, 1, dev, &t, &ba);
        clcnn__depthwise_plan_gradients(&sb, CLCNN_FLOAT32, 1, 1, dev, &t, &bb);
        EXPECT((strcmp(ba.filter.options, bb.filter.options) == 0) == !constant);
        EXPECT((strcmp(ba.data.kernel.options, bb.data.kernel.options) == 0) == !constant);
    }
}

int main(void)
{
    char setting[256];
    for (size_t d = 0; d < PLANNER_DEVICE_COUNT; d++)
        for (int gpu_table = 0; gpu_table < 2; gpu_table++)
            for (size_t o = 0; o < sizeof overrides / sizeof overrides[0]; o++) {
                clcnn_tuning_overrides parsed;
                clcnn__tuning_no_overrides(&parsed);
                char why[256] = "";
                if (clcnn__tuning_parse(overrides[o], 0, 1, &parsed, why, sizeof why, NULL, 0) != 0) {
                    fprintf(stderr, "FAIL: override \"%s\" refused: %s\n", overrides[o], why);
                    return 1;
                }
                const clcnn_tuning_overrides *const sources[] = {&parsed};
                clcnn_tuning t;
                clcnn__tuning_compose(&planner_devices[d].facts, gpu_table, sources, 1, &t);
                snprintf(setting, sizeof setting, "device %s, table=%s, \"%s\"", planner_devices[d].name,
                         gpu_table ? "gpu" : "cpu", overrides[o]);
                check_layers(setting, &t, &planner_devices[d].facts);
            }
    /* A tuning composed for a larger device: the plan still keeps the
     * work-groups within this one. */
    clcnn_tuning t;
    clcnn__tuning_compose(&planner_devices[0].facts, 1, NULL, 0, &t);
    t.conv_local = t.sum_local = 4096;
    clcnn_device_facts tiny = {1, 16, 16u << 10};
    check_layers("device of 16 work-items under a tuning of 4096", &t, &tiny);
    check_shared_programs(&planner_devices[0].facts);
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
