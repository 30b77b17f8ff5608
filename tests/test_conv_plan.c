/* The convolution planner (host/ops/conv/conv_plan.c) on its own: no
 * OpenCL library, no device. Tunings composed as a context composes them
 * (tuning_spec.c) for several devices' facts, in both columns and under
 * overrides that force each choice, over real networks' layers, edge
 * cases and random shapes; every plan is checked against its invariants
 * (tiles and chunks cover their extents, vectors are powers of two within
 * the tuning, work-groups and local memory within the device's facts,
 * workspaces match the chunks, forced choices honoured where they run).
 * A failure prints the case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_plan.h"
#include "planner_devices.h"
#include "tuning_spec.h"

static int failures, checks;

typedef struct the_case {
    const char *layer, *device, *spec;
    int gpu_table;
    clcnn_dtype dt;
} the_case;

static const the_case *current;

#define EXPECT(cond)                                                                                                   \
    do {                                                                                                               \
        checks++;                                                                                                      \
        if (!(cond)) {                                                                                                 \
            if (failures++ < 20)                                                                                       \
                fprintf(stderr, "FAIL %s:%d: %s\n  layer %s, device %s, table=%s, dtype %s, spec '%s'\n", __FILE__,    \
                        __LINE__, #cond, current->layer, current->device, current->gpu_table ? "gpu" : "cpu",          \
                        clcnn__dtype_name(current->dt), current->spec);                                                \
        }                                                                                                              \
    } while (0)

/* Overrides that force each choice, and keys that move the rules' cutoffs. */
static const char *const specs[] = {
    "",
    "use_local_gemm_forward=1,use_local_gemm_data=1,use_local_gemm_filter=1",
    "conv_data=gemm,conv_filter=gemm",
    "conv_data=forward,conv_filter=blocked",
    "conv_data=matrix,conv_filter=rows",
    "conv_data=dot,conv_filter=tiles",
    "conv_data=gather",
    "conv_data=gemm,conv_filter=gemm,gemm_blocking=m64n64k16",
    "conv_data=gemm,conv_filter=gemm,gemm_blocking=m64n64k8,use_local_gemm_forward=1",
    "conv_data=gemm,conv_filter=gemm,gemm_blocking=m32n32k16,use_local_gemm_forward=1",
    "conv_data=gemm,conv_filter=gemm,gemm_blocking=m32n32k8",
    "conv_data=gemm,conv_filter=gemm,gemm_blocking=m32n16k16,use_local_gemm_forward=1",
    "conv_data=gemm,conv_filter=gemm,gemm_blocking=m32n16k8",
    "filter_by_rows=1,use_filter_block_rows=1,filter_block_rows_grouped=1,filter_chunk_reads=0",
    "data_dot_max_channels=16,data_dot_lanes=8,conv_vector=16,narrow_vector_min=1",
    "conv_tile_pixels=1,conv_forward_tile=1,filter_tile_rows=1,conv_vector=1",
    "conv_tile_pixels=16,conv_forward_tile=16,forward_tile_overhead=0,filter_bias_chunks=1",
    "filter_block_pixels=1,filter_block_group=64,conv_min_groups=1,filter_blocked_min_groups=1",
    "gemm_narrow_columns=0,gemm_medium_columns=0,gemm_split_blocks=1,gemm_split_most=1",
    "gemm_narrow_columns=65536,gemm_split_blocks=1048576,gemm_split_min_pixels=1",
    "data_dot_const_channels=0,filter_rows_const_row=0,filter_by_rows=1",
    "data_dot_const_channels=0,filter_rows_const_row=0,conv_data=dot,conv_filter=rows",
};

typedef struct layer {
    const char *name;
    int m, h, w, c, fh, fw, n_c, sh, sw, pt, pb, pl, pr, dh, dw, groups;
} layer;

/* Real networks' layers (clcnn bench's), and edge cases. */
static const layer layers[] = {
    {"walkthrough", 10, 4, 4, 3, 2, 2, 8, 2, 2, 2, 2, 2, 2, 1, 1, 1},
    {"fmnist1", 64, 28, 28, 1, 5, 5, 32, 1, 1, 2, 2, 2, 2, 1, 1, 1},
    {"fmnist2", 64, 14, 14, 32, 5, 5, 64, 1, 1, 2, 2, 2, 2, 1, 1, 1},
    {"res56", 8, 56, 56, 64, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"res14", 8, 14, 14, 256, 3, 3, 256, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"res56s2", 8, 56, 56, 64, 3, 3, 128, 2, 2, 1, 1, 1, 1, 1, 1, 1},
    {"vgg1", 2, 224, 224, 3, 3, 3, 64, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"dw56", 8, 56, 56, 144, 3, 3, 144, 1, 1, 1, 1, 1, 1, 1, 1, 144},
    {"group28", 8, 28, 28, 256, 3, 3, 256, 1, 1, 1, 1, 1, 1, 1, 1, 32},
    {"dil33", 4, 33, 33, 256, 3, 3, 256, 1, 1, 2, 2, 2, 2, 2, 2, 1},
    {"r50_1x1_64", 8, 56, 56, 64, 1, 1, 256, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"mb2_1x1_24", 8, 56, 56, 24, 1, 1, 144, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"r50_1x1_s2", 8, 56, 56, 256, 1, 1, 512, 2, 2, 0, 0, 0, 0, 1, 1, 1},
    {"fc_train", 64, 7, 7, 64, 7, 7, 10, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"fc_r50", 8, 1, 1, 2048, 1, 1, 1000, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"fc_alexnet", 8, 6, 6, 256, 6, 6, 1024, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"fc_wide_batch1", 1, 1, 1, 4096, 1, 1, 4096, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"stem_r50", 8, 224, 224, 3, 7, 7, 64, 2, 2, 3, 3, 3, 3, 1, 1, 1},
    {"stem_alexnet", 8, 224, 224, 3, 11, 11, 64, 4, 4, 2, 2, 2, 2, 1, 1, 1},
    {"stem_train", 64, 28, 28, 1, 5, 5, 32, 1, 1, 2, 2, 2, 2, 1, 1, 1},
    {"deep7_512", 8, 7, 7, 512, 3, 3, 512, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"rx50_g7", 8, 7, 7, 1024, 3, 3, 1024, 1, 1, 1, 1, 1, 1, 1, 1, 32},
    {"aspp_d6", 2, 33, 33, 512, 3, 3, 256, 1, 1, 6, 6, 6, 6, 6, 6, 1},
    {"one", 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"odd", 3, 5, 7, 3, 3, 2, 5, 2, 3, 1, 0, 0, 1, 1, 2, 1},
    {"pad_past_window", 2, 6, 6, 4, 2, 2, 4, 1, 1, 3, 3, 3, 3, 1, 1, 1},
    {"pad_past_left", 2, 6, 6, 4, 3, 3, 4, 1, 1, 0, 0, 4, 0, 1, 1, 1},
    {"wide_row", 1, 3, 100, 8, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"fc_pad", 4, 3, 3, 2, 5, 5, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1},
    {"fc_not_square", 4, 3, 3, 2, 3, 1, 6, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"row_window", 4, 3, 3, 2, 1, 3, 6, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"col_window", 4, 1, 3, 2, 1, 3, 6, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"pointwise_padded", 2, 4, 4, 8, 1, 1, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1},
    {"pointwise_padleft", 2, 4, 4, 8, 1, 1, 8, 1, 1, 0, 0, 1, 1, 1, 1, 1},
    {"pointwise_sh2", 2, 4, 4, 8, 1, 1, 8, 2, 1, 0, 0, 0, 0, 1, 1, 1},
    {"pointwise_sw2", 2, 4, 4, 8, 1, 1, 8, 1, 2, 0, 0, 0, 0, 1, 1, 1},
    {"pointwise_cropped", 2, 4, 4, 8, 1, 1, 8, 1, 1, 0, 0, 0, 0, 1, 1, 1},
    {"grouped_pointwise", 2, 4, 4, 8, 1, 1, 8, 1, 1, 0, 0, 0, 0, 1, 1, 2},
    {"stride_h_only", 2, 9, 9, 4, 3, 3, 4, 2, 1, 1, 1, 1, 1, 1, 1, 1},
    {"dilated_h_only", 2, 9, 9, 4, 3, 3, 4, 1, 1, 2, 2, 1, 1, 2, 1, 1},
    {"rows_long", 2, 9, 9, 16, 1, 5, 4, 1, 1, 0, 0, 2, 2, 1, 1, 1},
    {"rows_dilated", 2, 9, 9, 2, 1, 3, 4, 1, 1, 0, 0, 2, 2, 1, 2, 1},
    {"fc_narrow_window", 2, 3, 5, 2, 3, 3, 4, 1, 3, 0, 0, 0, 0, 1, 1, 1},
    {"fc_pad_top", 2, 3, 3, 2, 3, 3, 4, 2, 1, 1, 0, 0, 0, 1, 1, 1},
    {"fc_pad_left", 2, 3, 3, 2, 3, 3, 4, 1, 2, 0, 0, 1, 0, 1, 1, 1},
    {"pointwise_pad_bottom", 2, 4, 4, 8, 1, 1, 8, 1, 1, 0, 1, 0, 0, 1, 1, 1},
    {"pointwise_pad_right", 2, 4, 4, 8, 1, 1, 8, 1, 1, 0, 0, 0, 1, 1, 1, 1},
    {"dot_grouped", 2, 9, 9, 4, 3, 3, 16, 1, 1, 1, 1, 1, 1, 1, 1, 2},
};

/* The shape conv.c's validation derives from a layer. */
static clcnn_conv_shape shape_of(const layer *l)
{
    clcnn_conv_shape s = {0};
    s.m = l->m, s.n_H_prev = l->h, s.n_W_prev = l->w, s.n_C_prev = l->c;
    s.f_h = l->fh, s.f_w = l->fw, s.n_C = l->n_c;
    s.stride_h = l->sh, s.stride_w = l->sw, s.pad_top = l->pt, s.pad_left = l->pl;
    s.dilation_h = l->dh, s.dilation_w = l->dw, s.groups = l->groups;
    s.n_H = (l->h + l->pt + l->pb - (l->dh * (l->fh - 1) + 1)) / l->sh + 1;
    s.n_W = (l->w + l->pl + l->pr - (l->dw * (l->fw - 1) + 1)) / l->sw + 1;
    s.in_group = l->c / l->groups;
    s.out_group = l->n_c / l->groups;
    s.n_pixels = s.m * s.n_H * s.n_W;
    return s;
}

static int pow2(int v)
{
    return v >= 1 && (v & (v - 1)) == 0;
}

static size_t div_up(size_t a, size_t b)
{
    return (a + b - 1) / b;
}

/* The value of -D<name>= in options, or -1. */
static int option(const char *options, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "-D%s=", name);
    const char *at = strstr(options, key);
    return at ? atoi(at + strlen(key)) : -1;
}

static void check_launch(const clcnn_conv_launch *l, const clcnn_device_facts *dev)
{
    EXPECT(l->kernel.entry != NULL);
    EXPECT(l->dims >= 1 && l->dims <= 3);
    size_t group = 1;
    for (unsigned d = 0; d < 3; d++) {
        EXPECT(l->local[d] >= 1);
        EXPECT(d < l->dims || (l->global[d] == 1 && l->local[d] == 1));
        group *= l->local[d];
    }
    EXPECT(group <= dev->max_work_group_size);
}

static void check_tiled(const clcnn_tuning *t, const clcnn_conv_shape *s, const clcnn_conv_tiled_plan *f,
                        const clcnn_device_facts *dev)
{
    check_launch(&f->launch, dev);
    EXPECT(!strcmp(f->launch.kernel.entry, "conv_forward") && f->launch.kernel.file == CLCNN_FILE_conv_forward);
    EXPECT(pow2(f->vector) && f->vector <= t->conv_vector);
    EXPECT(f->vector == t->conv_vector || f->vector >= s->out_group);
    EXPECT(f->tile >= 1 && (f->tile <= t->conv_forward_tile || f->tile == s->n_W));
    EXPECT(option(f->launch.kernel.options, "TILE_PIXELS") == f->tile);
    EXPECT(option(f->launch.kernel.options, "VECTOR") == f->vector);
    /* The tiles cover each row (a partial last one moves left), the vectors each group's channels. */
    EXPECT(f->launch.global[0] == (size_t)s->m * s->n_H * div_up((size_t)s->n_W, (size_t)f->tile));
    EXPECT(f->launch.global[1] * f->vector >= (size_t)s->n_C &&
           f->launch.global[1] == (size_t)s->groups * div_up((size_t)s->out_group, (size_t)f->vector));
}

/* A GEMM's candidates: distinct, within the device's facts, whole blocks
 * covering rows x columns, the forced blocking first where it fits. */
static void check_gemm(const clcnn_tuning *t, const clcnn_conv_gemm_plan *g, size_t rows, size_t columns,
                       size_t batches, const char *entry, const char *companion, const clcnn_device_facts *dev,
                       clcnn_dtype dt)
{
    EXPECT(g->count >= 0 && g->count <= CLCNN_GEMM_MOST_CANDIDATES);
    for (int i = 0; i < g->count; i++) {
        const clcnn_conv_gemm_candidate *c = &g->candidates[i];
        const clcnn_gemm_blocking *b = &c->blocking;
        for (int j = 0; j < i; j++)
            EXPECT(memcmp(&g->candidates[j].blocking, b, sizeof *b) != 0);
        EXPECT(!strcmp(c->kernel.entry, entry));
        EXPECT(companion ? c->companion.entry && !strcmp(c->companion.entry, companion) : c->companion.entry == NULL);
        EXPECT(!strcmp(c->kernel.options, c->companion.options));
        EXPECT(c->local[0] * c->local[1] * c->local[2] <= dev->max_work_group_size);
        EXPECT(c->local[0] * b->micro_n == (size_t)b->group_n && c->local[1] * b->micro_m == (size_t)b->group_m);
        EXPECT(c->tile_bytes[0] + c->tile_bytes[1] <= dev->local_mem);
        EXPECT(c->tile_bytes[1] == (size_t)b->tile_k * b->group_n * clcnn__dtype_size(dt));
        EXPECT(c->tile_bytes[0] >= (size_t)b->tile_k * b->group_m * clcnn__dtype_size(dt));
        for (int d = 0; d < 3; d++)
            EXPECT(c->global[d] % c->local[d] == 0);
        EXPECT(c->global[0] / c->local[0] * b->group_n >= columns &&
               c->global[0] / c->local[0] * b->group_n < columns + b->group_n);
        EXPECT(c->global[1] / c->local[1] * b->group_m >= rows &&
               c->global[1] / c->local[1] * b->group_m < rows + b->group_m);
        EXPECT(c->global[2] == batches);
        EXPECT(option(c->kernel.options, "GROUP_M") == b->group_m && option(c->kernel.options, "TILE_K") == b->tile_k);
    }
    if (t->gemm_blocking != 0) {
        /* The forced blocking comes first wherever it is a candidate at all. */
        static const char *const names[] = {"auto",     "m64n64k16", "m64n64k8", "m32n32k16",
                                            "m32n32k8", "m32n16k16", "m32n16k8"};
        int gm = 0, gn = 0, tk = 0;
        EXPECT(sscanf(names[t->gemm_blocking], "m%dn%dk%d", &gm, &gn, &tk) == 3);
        for (int i = 0; i < g->count; i++) {
            const clcnn_gemm_blocking *b = &g->candidates[i].blocking;
            if (b->group_m == gm && b->group_n == gn && b->tile_k == tk)
                EXPECT(i == 0);
        }
    }
}

static void check_forward(const clcnn_tuning *t, const clcnn_conv_shape *s0, int depthwise,
                          const clcnn_conv_forward_plan *p, const clcnn_device_facts *dev, clcnn_dtype dt)
{
    const clcnn_conv_shape *s = &p->shape;
    EXPECT(p->depthwise == depthwise);
    EXPECT(s->n_pixels == s0->n_pixels && s->n_C == s0->n_C);
    if (s->gemm_view)
        EXPECT(s->m == 1 && s->n_W == s->n_pixels && s->f_h == 1 && s->f_w == 1 && s0->groups == 1);
    if (depthwise) {
        EXPECT(p->gemm.count == 0 && p->tiled.launch.kernel.entry == NULL);
        return;
    }
    check_tiled(t, s, &p->tiled, dev);
    EXPECT(t->use_local_gemm_forward || p->gemm.count == 0);
    check_gemm(t, &p->gemm, (size_t)s->n_pixels, (size_t)s->out_group, (size_t)s->groups, "conv_forward_local", NULL,
               dev, dt);
    /* Under the same key the wide blocking that fits any device of the list is there. */
    if (t->use_local_gemm_forward && dev->max_work_group_size >= 64 && dev->local_mem >= 16 * 1024)
        EXPECT(p->gemm.count > 0);
}

static int data_forward_runs(const clcnn_conv_shape *s)
{
    return s->gemm_view || (s->stride_h == 1 && s->stride_w == 1 && s->pad_top <= (s->f_h - 1) * s->dilation_h &&
                            s->pad_left <= (s->f_w - 1) * s->dilation_w);
}

/* The kernel a forced choice names where it runs the layer, else 0 (auto). */
static int data_forced(const clcnn_tuning *t, const clcnn_conv_shape *s)
{
    const int k = t->conv_data;
    const int runs = k == CLCNN_CONV_DATA_gemm || k == CLCNN_CONV_DATA_gather ||
                     (k == CLCNN_CONV_DATA_forward && data_forward_runs(s)) ||
                     (k == CLCNN_CONV_DATA_matrix && s->gemm_view) ||
                     (k == CLCNN_CONV_DATA_dot && s->groups == 1 && s->n_C_prev <= 16);
    return runs ? k : 0;
}

static int filter_forced(const clcnn_tuning *t, const clcnn_conv_shape *s)
{
    const int k = t->conv_filter;
    const int runs =
        k == CLCNN_CONV_FILTER_gemm || k == CLCNN_CONV_FILTER_tiles ||
        (k == CLCNN_CONV_FILTER_blocked && s->gemm_view) ||
        (k == CLCNN_CONV_FILTER_rows && s->groups == 1 && s->dilation_w == 1 && s->f_w * s->n_C_prev <= 64);
    return runs ? k : 0;
}

static void check_data(const clcnn_tuning *t, const clcnn_conv_shape *s, const clcnn_conv_data_plan *d,
                       const clcnn_device_facts *dev)
{
    const size_t weights = (size_t)s->f_h * s->f_w * s->in_group * s->n_C;
    EXPECT(d->kernel != CLCNN_CONV_DATA_auto && d->kernel != CLCNN_CONV_DATA_gemm);
    EXPECT(pow2(d->vector) && d->vector <= t->conv_vector);
    /* A forced kernel runs wherever it can run the layer. */
    const int forced = data_forced(t, s);
    if (forced != 0 && forced != CLCNN_CONV_DATA_gemm)
        EXPECT((int)d->kernel == forced);
    if (d->kernel == CLCNN_CONV_DATA_forward) {
        EXPECT(data_forward_runs(s));
        EXPECT(d->forward_shape.n_C == s->n_C_prev && d->forward_shape.n_W == s->n_W_prev);
        check_tiled(t, &d->forward_shape, &d->forward, dev);
        EXPECT(!strcmp(d->reorder.kernel.entry, "turn_weights"));
        EXPECT(d->launch.kernel.entry == NULL);
    } else if (d->kernel == CLCNN_CONV_DATA_matrix) {
        EXPECT(s->gemm_view);
        check_launch(&d->launch, dev);
        const int rows = option(d->launch.kernel.options, "TILE_PIXELS");
        EXPECT(rows >= 1 && d->launch.global[0] * rows >= (size_t)s->n_pixels);
        EXPECT(d->launch.global[1] * option(d->launch.kernel.options, "K_TILE") >= (size_t)s->n_C_prev);
        EXPECT(pow2((int)d->launch.local[1]) && d->launch.local[1] <= (size_t)t->conv_local);
        EXPECT(d->reorder.kernel.entry == NULL && d->weights_elements == 0);
    } else {
        check_launch(&d->launch, dev);
        /* Tiles of input pixels along each stride residue's chain cover the row. */
        EXPECT(d->residues >= 1 && d->residues <= s->stride_w);
        EXPECT((size_t)d->tiles * d->tile >= div_up((size_t)s->n_W_prev, (size_t)s->stride_w));
        EXPECT(d->tile >= 1 && (d->tile <= t->conv_tile_pixels));
        EXPECT(d->launch.global[0] == (size_t)s->m * s->n_H_prev * d->residues * d->tiles);
        EXPECT(option(d->launch.kernel.options, "TILE_PIXELS") == d->tile);
        EXPECT(option(d->launch.kernel.options, "VECTOR") == d->vector);
        if (d->kernel == CLCNN_CONV_DATA_dot) {
            EXPECT(s->groups == 1 && s->n_C_prev <= 16);
            EXPECT(d->vector <= t->narrow_vector_min || d->tile * s->n_C_prev * d->vector <= t->data_dot_lanes ||
                   d->vector == 1);
            EXPECT(d->reorder.kernel.entry == NULL);
            /* Unspecialised: sized for the most channels, not the shape's. */
            const int most = option(d->launch.kernel.options, "CHANNELS_PREV_MOST");
            if (t->data_dot_const_channels)
                EXPECT(option(d->launch.kernel.options, "CHANNELS_PREV") == s->n_C_prev && most == -1);
            else
                EXPECT(option(d->launch.kernel.options, "CHANNELS_PREV") == -1 && most >= s->n_C_prev &&
                       (most == t->data_dot_max_channels || most == 16));
        } else {
            EXPECT(!strcmp(d->launch.kernel.entry, "conv_backward_data"));
            EXPECT(d->launch.global[1] * d->vector >= (size_t)s->n_C_prev);
            EXPECT(!strcmp(d->reorder.kernel.entry, "transpose_weights"));
        }
    }
    if (d->reorder.kernel.entry) {
        check_launch(&d->reorder, dev);
        EXPECT(d->weights_elements == weights);
        EXPECT(d->reorder.global[0] == (size_t)s->in_group && d->reorder.global[1] == (size_t)s->n_C);
    }
}

static void check_filter(const clcnn_tuning *t, const clcnn_conv_shape *s, const clcnn_conv_filter_plan *f,
                         const clcnn_device_facts *dev)
{
    const size_t weights = (size_t)s->f_h * s->f_w * s->in_group * s->n_C;
    const int out_rows = s->m * s->n_H;
    EXPECT(f->kernel != CLCNN_CONV_FILTER_auto && f->kernel != CLCNN_CONV_FILTER_gemm);
    check_launch(&f->launch, dev);
    EXPECT(pow2(f->vector) && f->vector <= t->conv_vector);
    const int forced = filter_forced(t, s);
    if (forced != 0 && forced != CLCNN_CONV_FILTER_gemm)
        EXPECT((int)f->kernel == forced);
    /* The chunks of whole output rows cover them, each non-empty. */
    EXPECT(f->chunks >= 1 && f->chunk >= 1);
    if (f->kernel == CLCNN_CONV_FILTER_blocked) {
        EXPECT(s->gemm_view && f->chunks == 1);
        EXPECT(f->launch.global[0] * f->rows >= (size_t)s->n_C_prev);
    } else {
        EXPECT((size_t)f->chunks * f->chunk >= (size_t)out_rows &&
               (size_t)(f->chunks - 1) * f->chunk < (size_t)out_rows);
        EXPECT(f->chunks <= t->filter_bias_chunks);
        EXPECT(f->launch.global[2] == (size_t)f->chunks);
    }
    EXPECT(f->launch.global[1] * f->vector >= (size_t)s->n_C);
    if (f->kernel == CLCNN_CONV_FILTER_rows) {
        EXPECT(f->launch.global[0] == (size_t)s->f_h);
        const char *options = f->launch.kernel.options;
        const int most = option(options, "ROW_LEN_MOST");
        if (t->filter_rows_const_row)
            EXPECT(option(options, "ROW_LEN") == s->f_w * s->n_C_prev &&
                   option(options, "CHANNELS_PREV") == s->n_C_prev && most == -1);
        else
            EXPECT(option(options, "ROW_LEN") == -1 && option(options, "CHANNELS_PREV") == -1 &&
                   most >= s->f_w * s->n_C_prev &&
                   (most == t->filter_rows_len_tiles * t->filter_tile_rows || most == 64));
        EXPECT(f->block_rows == 0);
    }
    if (f->kernel == CLCNN_CONV_FILTER_tiles)
        EXPECT(f->launch.global[0] * f->rows >= (size_t)s->f_h * s->f_w * s->in_group);
    if (f->block_rows)
        EXPECT(f->kernel == CLCNN_CONV_FILTER_tiles && (s->groups == 1 || t->filter_block_rows_grouped));
    /* The partial sums: chunks x |dW| where there are chunks to add up. */
    EXPECT(f->part_elements == (f->chunks > 1 ? (size_t)f->chunks * weights : 0));
    EXPECT((f->sum.kernel.entry != NULL) == (f->chunks > 1));
    if (f->sum.kernel.entry) {
        check_launch(&f->sum, dev);
        EXPECT(f->sum.global[0] == weights && !strcmp(f->sum.kernel.entry, "filter_sum_chunks"));
    }
}

static void check_bias(const clcnn_tuning *t, const clcnn_conv_shape *s, const clcnn_conv_bias_plan *b,
                       const clcnn_device_facts *dev)
{
    check_launch(&b->launch, dev);
    EXPECT(pow2(b->vector) && b->vector <= t->conv_vector);
    EXPECT(b->launch.global[0] * b->vector >= (size_t)s->n_C && b->launch.global[1] == (size_t)b->chunks);
    EXPECT((size_t)b->chunks * b->chunk >= (size_t)s->n_pixels &&
           (size_t)(b->chunks - 1) * b->chunk < (size_t)s->n_pixels);
    EXPECT(b->chunks <= t->filter_bias_chunks);
    EXPECT(b->part_elements == (b->chunks > 1 ? (size_t)b->chunks * s->n_C : 0));
    EXPECT((b->sum.kernel.entry != NULL) == (b->chunks > 1));
    if (b->sum.kernel.entry) {
        check_launch(&b->sum, dev);
        EXPECT(b->sum.global[0] == (size_t)s->n_C);
    }
}

static void check_backward(const clcnn_tuning *t, int depthwise, int want_data, int want_filter, int want_bias,
                           const clcnn_conv_backward_plan *p, const clcnn_device_facts *dev, clcnn_dtype dt)
{
    const clcnn_conv_shape *s = &p->shape;
    EXPECT(p->depthwise == depthwise);
    EXPECT(p->want_data == want_data && p->want_filter == want_filter && p->want_bias == want_bias);
    const int data_forced_kernel = data_forced(t, s), filter_forced_kernel = filter_forced(t, s);
    const int data_gemm =
        !depthwise && want_data &&
        (data_forced_kernel == CLCNN_CONV_DATA_gemm || (data_forced_kernel == 0 && t->use_local_gemm_data));
    const int filter_gemm =
        !depthwise && (want_filter || want_bias) &&
        (filter_forced_kernel == CLCNN_CONV_FILTER_gemm || (filter_forced_kernel == 0 && t->use_local_gemm_filter));
    /* A GEMM is planned exactly where asked, with a candidate on every
     * device of the list but the tiny one. */
    EXPECT(data_gemm || p->data_gemm.gemm.count == 0);
    EXPECT(filter_gemm || p->filter_gemm.gemm.count == 0);
    if (dev->max_work_group_size >= 64 && dev->local_mem >= 16 * 1024)
        EXPECT((data_gemm == (p->data_gemm.gemm.count > 0)) && (filter_gemm == (p->filter_gemm.gemm.count > 0)));
    if (data_gemm) {
        const size_t classes = (size_t)(s->stride_h < s->n_H_prev ? s->stride_h : s->n_H_prev) *
                               (size_t)(s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev);
        check_gemm(t, &p->data_gemm.gemm,
                   (size_t)s->m * div_up((size_t)s->n_H_prev, (size_t)s->stride_h) *
                       div_up((size_t)s->n_W_prev, (size_t)s->stride_w),
                   (size_t)s->in_group, classes * s->groups, "conv_backward_data_gemm", "residue_filters", dev, dt);
        EXPECT(p->data_gemm.filters_elements == (size_t)s->f_h * s->f_w * s->in_group * s->n_C);
    }
    const clcnn_conv_filter_gemm_plan *fg = &p->filter_gemm;
    if (filter_gemm) {
        EXPECT(fg->rows == (want_filter ? s->f_h * s->f_w * s->in_group : 0) && fg->bias_row == want_bias);
        EXPECT(fg->split_pixels % t->gemm_split_align == 0);
        EXPECT((size_t)fg->splits * fg->split_pixels >= (size_t)s->n_pixels &&
               (size_t)(fg->splits - 1) * fg->split_pixels < (size_t)s->n_pixels);
        EXPECT(fg->splits >= 1 && fg->splits <= t->gemm_split_most);
        EXPECT(fg->part_elements == (size_t)fg->splits * (fg->rows + fg->bias_row) * s->n_C);
        EXPECT(fg->sum_global == (size_t)(fg->rows + fg->bias_row) * s->n_C &&
               fg->sum_local <= dev->max_work_group_size);
        check_gemm(t, &fg->gemm, (size_t)fg->rows + fg->bias_row, (size_t)s->out_group, (size_t)fg->splits * s->groups,
                   "conv_backward_filter_gemm", "filter_sum_splits", dev, dt);
    }
    if (want_data && !depthwise)
        check_data(t, s, &p->data, dev);
    else
        EXPECT(p->data.launch.kernel.entry == NULL && p->data.forward.launch.kernel.entry == NULL);
    if (want_filter && !depthwise)
        check_filter(t, s, &p->filter, dev);
    else
        EXPECT(p->filter.launch.kernel.entry == NULL);
    if (want_bias)
        check_bias(t, s, &p->bias, dev);
    else
        EXPECT(p->bias.launch.kernel.entry == NULL);
}

static void run_layer(const layer *l, const clcnn_tuning *t, const clcnn_device_facts *dev, clcnn_dtype dt)
{
    const clcnn_conv_shape s = shape_of(l);
    const int depthwise = s.groups > 1 && s.groups == s.n_C_prev;
    clcnn_conv_forward_plan f;
    clcnn__conv_plan_forward(&s, depthwise, dt, l->m & 1, (clcnn_activation)(l->h & 1), dev, t, &f);
    check_forward(t, &s, depthwise, &f, dev, dt);
    static const int wants[][3] = {{1, 1, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 1, 1}, {1, 0, 1}};
    for (size_t w = 0; w < sizeof wants / sizeof wants[0]; w++) {
        clcnn_conv_backward_plan b;
        clcnn__conv_plan_backward(&s, depthwise, dt, wants[w][0], wants[w][1], wants[w][2], dev, t, &b);
        check_backward(t, depthwise, wants[w][0], wants[w][1], wants[w][2], &b, dev, dt);
    }
}

/* Random layers: every size small, odd and even, all classes. */
static unsigned long long rng = 88172645463325252ULL;
static int pick(int lo, int hi)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return lo + (int)(rng % (unsigned long long)(hi - lo + 1));
}

static layer random_layer(void)
{
    layer l;
    l.name = "random";
    l.groups = pick(0, 3) == 0 ? pick(1, 4) : 1;
    l.c = l.groups * pick(1, 9);
    l.n_c = l.groups * pick(1, 9);
    if (pick(0, 5) == 0)
        l.n_c = l.c, l.groups = l.c; /* depthwise */
    l.m = pick(1, 3), l.fh = pick(1, 4), l.fw = pick(1, 4);
    l.sh = pick(1, 3), l.sw = pick(1, 3), l.dh = pick(1, 2), l.dw = pick(1, 2);
    l.pt = pick(0, 3), l.pb = pick(0, 3), l.pl = pick(0, 3), l.pr = pick(0, 3);
    l.h = pick(1, 12), l.w = pick(1, 12);
    if (l.h + l.pt + l.pb < l.dh * (l.fh - 1) + 1)
        l.h = l.dh * (l.fh - 1) + 1;
    if (l.w + l.pl + l.pr < l.dw * (l.fw - 1) + 1)
        l.w = l.dw * (l.fw - 1) + 1;
    return l;
}

/* Two layers with few input channels, 1 and 2 (and kernel rows of 5 and
 * 3 of them), whose dA is conv_backward_data_dot and dW
 * conv_backward_filter_rows: one program each under data_dot_const_channels=0
 * and filter_rows_const_row=0, one per shape under 1. */
static void check_shared_programs(const clcnn_device_facts *dev)
{
    const layer a = {"shared_a", 8, 28, 28, 1, 5, 5, 32, 1, 1, 2, 2, 2, 2, 1, 1, 1};
    const layer b = {"shared_b", 8, 28, 28, 2, 3, 3, 32, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const clcnn_conv_shape sa = shape_of(&a), sb = shape_of(&b);
    for (int constant = 0; constant < 2; constant++) {
        the_case c = {"shared_a and shared_b", "first", "", 1, CLCNN_FLOAT32};
        current = &c;
        clcnn_tuning t;
        clcnn__tuning_compose(dev, 1, NULL, 0, &t);
        t.data_dot_const_channels = t.filter_rows_const_row = constant;
        t.filter_by_rows = 1;
        t.use_local_gemm_data = t.use_local_gemm_filter = 0;
        clcnn_conv_backward_plan pa, pb;
        clcnn__conv_plan_backward(&sa, 0, CLCNN_FLOAT32, 1, 1, 0, dev, &t, &pa);
        clcnn__conv_plan_backward(&sb, 0, CLCNN_FLOAT32, 1, 1, 0, dev, &t, &pb);
        EXPECT(pa.data.kernel == CLCNN_CONV_DATA_dot && pb.data.kernel == CLCNN_CONV_DATA_dot);
        EXPECT(pa.filter.kernel == CLCNN_CONV_FILTER_rows && pb.filter.kernel == CLCNN_CONV_FILTER_rows);
        EXPECT((strcmp(pa.data.launch.kernel.options, pb.data.launch.kernel.options) == 0) == !constant);
        EXPECT((strcmp(pa.filter.launch.kernel.options, pb.filter.launch.kernel.options) == 0) == !constant);
    }
}

int main(void)
{
    static const clcnn_dtype dtypes[] = {CLCNN_FLOAT32, CLCNN_FLOAT64};
    layer randoms[200];
    for (size_t i = 0; i < sizeof randoms / sizeof randoms[0]; i++)
        randoms[i] = random_layer();
    for (size_t sp = 0; sp < sizeof specs / sizeof specs[0]; sp++) {
        clcnn_tuning_overrides o;
        char why[256];
        if (clcnn__tuning_parse(specs[sp], 0, 1, &o, why, sizeof why, NULL, 0) != 0) {
            fprintf(stderr, "FAIL: spec '%s': %s\n", specs[sp], why);
            return 1;
        }
        const clcnn_tuning_overrides *const sources[] = {&o};
        for (size_t d = 0; d < PLANNER_DEVICE_COUNT; d++)
            for (int table = 0; table < 2; table++)
                for (size_t k = 0; k < 2; k++) {
                    clcnn_tuning t;
                    clcnn__tuning_compose(&planner_devices[d].facts, table, sources, 1, &t);
                    the_case c = {NULL, planner_devices[d].name, specs[sp], table, dtypes[k]};
                    current = &c;
                    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
                        c.layer = layers[i].name;
                        run_layer(&layers[i], &t, &planner_devices[d].facts, dtypes[k]);
                    }
                    c.layer = "random";
                    for (size_t i = 0; i < sizeof randoms / sizeof randoms[0]; i++)
                        run_layer(&randoms[i], &t, &planner_devices[d].facts, dtypes[k]);
                }
    }
    check_shared_programs(&planner_devices[0].facts);
    printf("test_conv_plan: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
