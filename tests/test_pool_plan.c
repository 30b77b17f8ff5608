/* The planners of pooling (host/ops/pool_plan.c) and of the small ops
 * (host/ops/elementwise_plan.c, host/ops/softmax_cross_entropy_plan.c),
 * host-only: no OpenCL library, no device. Over the tunings of several
 * devices in both columns, with keys forced by CLCNN_TUNE's syntax, and
 * over real networks' layers and edge cases, every plan must keep the
 * kernels' invariants (launches that cover the output, work-groups within
 * the tuning's and the device's limits, vectors that are powers of two
 * within the tuning, workspaces that match), and each forced
 * pool_backward choice must be taken exactly where its kernel can run
 * the shape. A failure prints the case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool_plan.h"
#include "softmax_cross_entropy_plan.h"
#include "planner_devices.h"
#include "tuning_spec.h"

static int failures;
static char the_case[512];

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            if (failures <= 50)                                                                                        \
                printf("FAIL %s:%d: %s\n  case: %s\n", __FILE__, __LINE__, #cond, the_case);                           \
        }                                                                                                              \
    } while (0)

/* The tuning of dev in a column under `spec` (CLCNN_TUNE's syntax). */
static void make_tuning(const clcnn_device_facts *dev, int gpu_table, const char *spec, clcnn_tuning *t)
{
    clcnn_tuning_overrides o;
    clcnn__tuning_no_overrides(&o);
    char why[256];
    if (clcnn__tuning_parse(spec, 0, 1, &o, why, sizeof why, NULL, 0) != 0) {
        printf("bad spec '%s': %s\n", spec, why);
        exit(1);
    }
    const clcnn_tuning_overrides *const sources[] = {&o};
    clcnn__tuning_compose(dev, gpu_table, sources, 1, t);
}

static int power_of_two(long long v)
{
    return v >= 1 && (v & (v - 1)) == 0;
}

static size_t div_up(size_t x, size_t by)
{
    return (x + by - 1) / by;
}

/* ---- pooling ---- */

typedef struct pool_case {
    const char *name;
    size_t dims[4];
    clcnn_pool_params p;
} pool_case;

#define POOL(f, s)                                                                                                     \
    {                                                                                                                  \
        f, f, s, s, 0, 0, 0, 0, 1                                                                                      \
    }
static const pool_case pool_cases[] = {
    {"walkthrough", {10, 4, 4, 3}, POOL(2, 2)},
    {"pool112 (ResNet stem)", {8, 112, 112, 64}, POOL(3, 2)},
    {"pool112 padded", {8, 112, 112, 64}, {3, 3, 2, 2, 1, 1, 1, 1, 1}},
    {"pool56", {8, 56, 56, 64}, POOL(2, 2)},
    {"pool28 (batch 64)", {64, 28, 28, 32}, POOL(2, 2)},
    {"large, streamed", {32, 112, 112, 64}, POOL(2, 2)},
    {"gap7 (global average)", {8, 7, 7, 512}, POOL(7, 1)},
    {"global, padded, count_include_pad 0", {2, 5, 5, 8}, {7, 7, 1, 1, 1, 1, 1, 1, 0}},
    {"global 17x17 (int argmax)", {1, 17, 17, 4}, POOL(17, 1)},
    {"global, 48 channels", {1, 6, 6, 48}, POOL(6, 6)},
    {"global, 24 channels", {3, 3, 3, 24}, POOL(3, 2)},
    {"one window, not global", {1, 5, 5, 16}, POOL(3, 3)},
    {"one window, batch 1, 40 channels", {1, 4, 4, 40}, {4, 4, 1, 1, 0, 0, 0, 0, 1}},
    {"1x1 input", {4, 1, 1, 7}, POOL(1, 1)},
    {"1x1 window", {2, 6, 6, 16}, POOL(1, 1)},
    {"stride past the window", {1, 9, 9, 5}, {2, 2, 3, 3, 0, 0, 0, 0, 1}},
    {"overlapping 3x3 stride 1, odd channels", {2, 9, 7, 3}, POOL(3, 1)},
    {"one row of windows", {2, 3, 9, 8}, {3, 2, 1, 1, 0, 0, 0, 0, 1}},
    {"one column of windows, asymmetric pads", {3, 10, 3, 17}, {2, 3, 2, 1, 1, 0, 1, 1, 0}},
    {"17x17 window, int argmax", {1, 20, 20, 2}, POOL(17, 1)},
    {"5x5 stride 5 (no constant window)", {2, 20, 20, 32}, POOL(5, 5)},
    {"tiny", {1, 2, 2, 1}, POOL(2, 2)},
    {"odd channels 33, stride 2", {4, 13, 13, 33}, POOL(3, 2)},
    {"rectangular, padded", {2, 11, 6, 12}, {3, 2, 2, 1, 1, 1, 0, 1, 1}},
    {"pad bottom only", {2, 6, 6, 8}, {2, 2, 2, 2, 0, 1, 0, 0, 1}},
    {"pad left only", {2, 6, 6, 8}, {2, 2, 2, 2, 0, 0, 1, 0, 0}},
    {"pad right only", {2, 6, 6, 8}, {2, 2, 2, 2, 0, 0, 0, 1, 1}},
    {"window 2x5, stride 2x5", {2, 8, 20, 8}, {2, 5, 2, 5, 0, 0, 0, 0, 1}},
    {"stride 5x2", {2, 20, 8, 8}, {2, 2, 5, 2, 0, 0, 0, 0, 1}},
    {"stride 2x5", {2, 8, 20, 8}, {2, 2, 2, 5, 0, 0, 0, 0, 1}},
    {"window 2x3, stride 2 (overlap along w only)", {2, 8, 8, 8}, {2, 3, 2, 2, 0, 0, 0, 0, 1}},
    {"one window over all rows, not all columns", {1, 3, 5, 4}, {3, 4, 1, 2, 0, 0, 0, 0, 1}},
};
#define POOL_CASE_COUNT (int)(sizeof pool_cases / sizeof pool_cases[0])

/* The keys each run forces, over both columns. */
static const char *const pool_specs[] = {
    "",
    "pool_backward=global",
    "pool_backward=blocks",
    "pool_backward=gather",
    "pool_backward=recompute",
    "pool_whole_pixels=0,pool_row_groups=0,pool_global_min_items=100000,pool_channel_block=16,pool_const_window=16,"
    "stream_min_kib=0",
    "pool_whole_pixels=1,pool_row_groups=1,pool_global_runs=1,pool_global_min_items=1,pool_const_window=0,"
    "use_stream_stores=1,stream_min_kib=0",
    "pool_global_runs=1,pool_vector=16,pool_tile=3,pool_local=1",
    "pool_row_groups=0,pool_local=1024,pool_tile=16",
    "pool_vector=1,pool_channel_block=2",
    "pool_row_groups=1,pool_local=100",
    "pool_row_groups=0,pool_local=100,pool_whole_pixels=0",
    "pool_recompute_max_loads=0",
    "pool_recompute_max_elements=0",
    "pool_recompute_max_elements=16777216,pool_recompute_max_loads=1073741824,pool_backward=auto",
};
#define POOL_SPEC_COUNT (int)(sizeof pool_specs / sizeof pool_specs[0])

/* Whether options (a kernel's -D list) has the item `item` (e.g. "-DVECTOR=4"). */
static int has_option(const char *options, const char *item)
{
    const size_t n = strlen(item);
    for (const char *at = strstr(options, item); at; at = strstr(at + 1, item))
        if ((at == options || at[-1] == ' ') && (at[n] == ' ' || at[n] == '\0'))
            return 1;
    return 0;
}

static void check_shape(const pool_case *c, const clcnn_pool_shape *s)
{
    const clcnn_pool_params *q = &c->p;
    CHECK(s->m == (int)c->dims[0] && s->n_H_prev == (int)c->dims[1] && s->n_W_prev == (int)c->dims[2] &&
          s->n_C == (int)c->dims[3]);
    CHECK(s->n_H == (int)(c->dims[1] + q->pad_top + q->pad_bottom - q->f_h) / q->stride_h + 1);
    CHECK(s->n_W == (int)(c->dims[2] + q->pad_left + q->pad_right - q->f_w) / q->stride_w + 1);
    CHECK(s->p.stride_h == (s->n_H == 1 ? q->f_h : q->stride_h));
    CHECK(s->p.stride_w == (s->n_W == 1 ? q->f_w : q->stride_w));
    CHECK(memcmp(&s->given, q, sizeof *q) == 0);
    CHECK(s->out_dims[0] == c->dims[0] && s->out_dims[1] == (size_t)s->n_H && s->out_dims[2] == (size_t)s->n_W &&
          s->out_dims[3] == c->dims[3]);
}

/* What every plan's geometry keeps. */
static void check_geometry(const clcnn_pool_shape *s, const clcnn_tuning *t, size_t out_bytes,
                           const clcnn_pool_geometry *g)
{
    const int one_window = s->n_H == 1 && s->n_W == 1;
    CHECK(power_of_two(g->vector) && g->vector <= t->pool_vector);
    CHECK(g->channels % g->vector == 0 || (g->tail && g->channels == s->n_C));
    CHECK(s->n_C % g->channels == 0);
    /* An overlapping last vector only where an item owns whole pixels. */
    CHECK(!g->tail || (g->channels == s->n_C && g->vector <= s->n_C && s->n_C % g->vector != 0));
    CHECK(g->tail || s->n_C % g->vector == 0);
    CHECK(g->channels == s->n_C || g->channels % g->vector == 0);
    /* The block: the most vectors up to pool_channel_block that divide the item's. */
    const int item_vectors = g->channels / g->vector;
    CHECK(g->block >= 1 && (g->block <= t->pool_channel_block || !one_window) && item_vectors % g->block == 0);
    for (int larger = g->block + 1; one_window && larger <= t->pool_channel_block; larger++)
        CHECK(item_vectors % larger != 0);
    CHECK(one_window || g->block == 1);
    CHECK(g->tile == t->pool_tile && g->local == t->pool_local && g->row_groups == t->pool_row_groups);
    /* Non-temporal stores only aligned, only of a large output. */
    CHECK(!g->stream || (t->use_stream_stores && !g->tail && out_bytes >= (size_t)t->stream_min_kib << 10));
    CHECK(g->stream || !t->use_stream_stores || g->tail || out_bytes < (size_t)t->stream_min_kib << 10);
    const clcnn_pool_params *q = &s->p;
    CHECK(g->padded == (q->pad_top || q->pad_bottom || q->pad_left || q->pad_right));
    CHECK(g->argmax_bytes == ((long long)q->f_h * q->f_w <= 256 ? 1u : 4u));
    const int w = t->pool_const_window;
    CHECK(g->constant_window == (q->f_h <= w && q->f_w <= w && q->stride_h <= w && q->stride_w <= w));
}

/* One launch's kernel, its -D options and its ND-range over rows x units. */
static void check_launch(const clcnn_pool_shape *s, const clcnn_tuning *t, const clcnn_device_facts *dev,
                         const clcnn_pool_geometry *g, const clcnn_pool_launch *l, int units, int rows,
                         clcnn_kernel_file file, const char *entry, int recompute)
{
    CHECK(l->kernel.file == file && strcmp(l->kernel.entry, entry) == 0);
    CHECK(l->rows == rows && l->units == units);
    CHECK(l->global[0] * (size_t)g->channels == (size_t)s->n_C);
    CHECK(l->global[1] * (size_t)g->tile >= (size_t)units && (l->global[1] - 1) * (size_t)g->tile < (size_t)units);
    CHECK(l->global[2] == (size_t)rows);
    const size_t group = l->local[0] * l->local[1] * l->local[2];
    CHECK(l->local[0] >= 1 && l->local[1] >= 1 && l->local[2] >= 1);
    CHECK(group <= (size_t)t->pool_local && group <= dev->max_work_group_size);
    /* No dimension of a group past twice its launch's (the launch rounds
     * the global size up to the group; the kernels mask the extra items). */
    for (int d = 0; d < 3; d++)
        CHECK(l->local[d] < 2 * l->global[d]);
    /* Whole rows in power-of-two shapes (a pool_local of a power of two). */
    if (g->row_groups)
        CHECK(l->local[0] == 1 && power_of_two((long long)l->local[1]) &&
              (power_of_two((long long)l->local[2]) || !power_of_two(g->local)));
    char item[64];
    const char *o = l->kernel.options;
    snprintf(item, sizeof item, "-DVECTOR=%d", g->vector);
    CHECK(has_option(o, item));
    snprintf(item, sizeof item, "-DTILE_W=%d", g->tile);
    CHECK(has_option(o, item));
    snprintf(item, sizeof item, "-DCHANNEL_BLOCK=%d", g->block);
    CHECK(has_option(o, item));
    snprintf(item, sizeof item, "-DPOOL_PADDED=%d", g->padded);
    CHECK(has_option(o, item));
    CHECK(has_option(o, "-DCHANNEL_TAIL=1") == g->tail);
    CHECK(has_option(o, "-DSTREAM_STORES=1") == g->stream);
    CHECK(has_option(o, "-DRECOMPUTE_ARGMAX=1") == recompute);
    CHECK(has_option(o, g->argmax_bytes == 1 ? "-DARGMAX_TYPE=uchar" : "-DARGMAX_TYPE=int"));
    snprintf(item, sizeof item, "-DPOOL_F_H=%d", s->p.f_h);
    CHECK(has_option(o, item) == g->constant_window);
}

static void check_forward(const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_dtype dt, const clcnn_tuning *t,
                          const clcnn_device_facts *dev)
{
    clcnn_pool_forward_plan plan;
    clcnn__pool_plan_forward(s, mode, dt, dev, t, &plan);
    const size_t out_bytes =
        s->out_dims[0] * s->out_dims[1] * s->out_dims[2] * s->out_dims[3] * (dt == CLCNN_FLOAT64 ? 8 : 4);
    check_geometry(s, t, out_bytes, &plan.g);
    check_launch(s, t, dev, &plan.g, &plan.launch, s->n_W, s->m * s->n_H, CLCNN_FILE_pool_forward,
                 mode == CLCNN_POOL_MAX ? "pool_forward_max" : "pool_forward_average", 0);
}

/* Where the kernels of `way` can run shape s in `mode`. */
static int way_runs(clcnn_pool_backward_way way, const clcnn_pool_shape *s, clcnn_pool_mode mode)
{
    const clcnn_pool_params *q = &s->p;
    switch (way) {
    case CLCNN_POOL_BACKWARD_global: return clcnn__pool_is_global(s);
    case CLCNN_POOL_BACKWARD_blocks:
        return !(q->pad_top || q->pad_bottom || q->pad_left || q->pad_right) && q->f_h <= q->stride_h &&
               q->f_w <= q->stride_w;
    case CLCNN_POOL_BACKWARD_recompute: return mode == CLCNN_POOL_MAX;
    default: return 1;
    }
}

static void check_backward(const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_dtype dt, const clcnn_tuning *t,
                           const clcnn_tuning *auto_t, const clcnn_device_facts *dev)
{
    clcnn_pool_backward_plan plan, auto_plan;
    clcnn__pool_plan_backward(s, mode, dt, dev, t, &plan);
    clcnn__pool_plan_backward(s, mode, dt, dev, auto_t, &auto_plan);
    const size_t count = (size_t)s->m * (size_t)s->n_H_prev * (size_t)s->n_W_prev * (size_t)s->n_C;
    const size_t outputs = s->out_dims[0] * s->out_dims[1] * s->out_dims[2] * s->out_dims[3];
    const int use_max = mode == CLCNN_POOL_MAX;
    check_geometry(s, t, count * (dt == CLCNN_FLOAT64 ? 8 : 4), &plan.g);
    /* A forced way is taken exactly where its kernels run the shape. */
    const clcnn_pool_backward_way forced = (clcnn_pool_backward_way)t->pool_backward;
    CHECK(way_runs(plan.way, s, mode));
    if (forced != CLCNN_POOL_BACKWARD_auto)
        CHECK(plan.way == (way_runs(forced, s, mode) ? forced : auto_plan.way));
    /* Auto: global pooling takes its one launch, then the blocks. */
    if (forced == CLCNN_POOL_BACKWARD_auto && clcnn__pool_is_global(s))
        CHECK(plan.way == CLCNN_POOL_BACKWARD_global);
    else if (forced == CLCNN_POOL_BACKWARD_auto && way_runs(CLCNN_POOL_BACKWARD_blocks, s, mode))
        CHECK(plan.way == CLCNN_POOL_BACKWARD_blocks);
    if (forced == CLCNN_POOL_BACKWARD_auto && plan.way == CLCNN_POOL_BACKWARD_recompute) {
        /* The rescans' limits. */
        const clcnn_pool_params *q = &s->p;
        const int cover_h = (q->f_h - 1) / q->stride_h + 1, cover_w = (q->f_w - 1) / q->stride_w + 1;
        CHECK(count <= (size_t)t->pool_recompute_max_elements);
        CHECK((double)count * (cover_h < s->n_H ? cover_h : s->n_H) * (cover_w < s->n_W ? cover_w : s->n_W) * q->f_h *
                  q->f_w <=
              t->pool_recompute_max_loads);
    }
    const clcnn_kernel_file file = CLCNN_FILE_pool_backward;
    const int input_rows = s->m * s->n_H_prev;
    switch (plan.way) {
    case CLCNN_POOL_BACKWARD_global:
        CHECK(plan.launches == 1 && plan.argmax_workspace_bytes == 0);
        check_launch(s, t, dev, &plan.g, &plan.launch[0], 1, s->m, file,
                     use_max ? "pool_backward_global_max" : "pool_backward_global_average", 0);
        break;
    case CLCNN_POOL_BACKWARD_blocks: {
        CHECK(plan.launches == 1 && plan.argmax_workspace_bytes == 0);
        const int rows = s->m * (int)div_up((size_t)s->n_H_prev, (size_t)s->p.stride_h);
        const int cols = (int)div_up((size_t)s->n_W_prev, (size_t)s->p.stride_w);
        check_launch(s, t, dev, &plan.g, &plan.launch[0], cols, rows, file, "pool_backward_blocks", 0);
        break;
    }
    case CLCNN_POOL_BACKWARD_gather:
        if (!use_max) {
            CHECK(plan.launches == 1 && plan.argmax_workspace_bytes == 0);
            check_launch(s, t, dev, &plan.g, &plan.launch[0], s->n_W_prev, input_rows, file, "pool_backward_average",
                         0);
            break;
        }
        CHECK(plan.launches == 2 && plan.argmax_workspace_bytes == outputs * plan.g.argmax_bytes);
        check_launch(s, t, dev, &plan.g, &plan.launch[0], s->n_W, s->m * s->n_H, file, "pool_argmax", 0);
        check_launch(s, t, dev, &plan.g, &plan.launch[1], s->n_W_prev, input_rows, file, "pool_backward_max", 0);
        break;
    default:
        CHECK(plan.way == CLCNN_POOL_BACKWARD_recompute && use_max);
        CHECK(plan.launches == 1 && plan.argmax_workspace_bytes == 0);
        check_launch(s, t, dev, &plan.g, &plan.launch[0], s->n_W_prev, input_rows, file, "pool_backward_max", 1);
        break;
    }
}

static int pool_plans(void)
{
    int ways[5] = {0};
    for (int d = 0; d < (int)PLANNER_DEVICE_COUNT; d++)
        for (int column = 0; column < 2; column++)
            for (int k = 0; k < POOL_SPEC_COUNT; k++) {
                clcnn_tuning t, auto_t;
                char auto_spec[512];
                snprintf(auto_spec, sizeof auto_spec, "%s%spool_backward=auto", pool_specs[k],
                         pool_specs[k][0] ? "," : "");
                make_tuning(&planner_devices[d].facts, column, pool_specs[k], &t);
                make_tuning(&planner_devices[d].facts, column, auto_spec, &auto_t);
                for (int c = 0; c < POOL_CASE_COUNT; c++)
                    for (int mode = 0; mode < 2; mode++)
                        for (int dt = 0; dt < 2; dt++) {
                            const pool_case *pc = &pool_cases[c];
                            snprintf(the_case, sizeof the_case,
                                     "%s, %s column, CLCNN_TUNE='%s': %s %zux%zux%zux%zu %s %s", planner_devices[d].name,
                                     column ? "gpu" : "cpu", pool_specs[k], pc->name, pc->dims[0], pc->dims[1],
                                     pc->dims[2], pc->dims[3], mode ? "average" : "max", dt ? "float64" : "float32");
                            clcnn_pool_shape s;
                            clcnn__pool_shape_init(pc->dims, &pc->p, &s);
                            check_shape(pc, &s);
                            const clcnn_dtype dtype = dt ? CLCNN_FLOAT64 : CLCNN_FLOAT32;
                            check_forward(&s, (clcnn_pool_mode)mode, dtype, &t, &planner_devices[d].facts);
                            check_backward(&s, (clcnn_pool_mode)mode, dtype, &t, &auto_t, &planner_devices[d].facts);
                            clcnn_pool_backward_plan plan;
                            clcnn__pool_plan_backward(&s, (clcnn_pool_mode)mode, dtype, &planner_devices[d].facts, &t, &plan);
                            ways[plan.way]++;
                        }
            }
    /* The cases reach every way. */
    snprintf(the_case, sizeof the_case, "the ways taken over all cases");
    for (int w = 1; w < 5; w++)
        CHECK(ways[w] > 0);
    return 0;
}

/* ---- the element-wise ops and softmax cross-entropy ---- */

static const char *const small_specs[] = {
    "",
    "softmax_one_group_rows=0",
    "softmax_one_group_rows=1048576,softmax_mean_local=1",
    "elementwise_vector=1,elementwise_chunk=1,elementwise_spread=1024,elementwise_local=1024",
    "use_stream_stores=1,stream_min_kib=0,elementwise_vector=8",
    "use_stream_stores=0",
};
#define SMALL_SPEC_COUNT (int)(sizeof small_specs / sizeof small_specs[0])

static void check_elementwise(const clcnn_tuning *t, const clcnn_device_facts *dev, unsigned units, size_t vectors,
                              const clcnn_elementwise_plan *p)
{
    CHECK(p->local == (size_t)t->elementwise_local && p->local <= dev->max_work_group_size);
    CHECK(p->chunk >= 1 && p->chunk <= t->elementwise_chunk);
    const size_t per_group = p->local * (size_t)p->chunk;
    CHECK(p->groups * per_group >= vectors && (p->groups - 1) * per_group < vectors);
    /* elementwise_spread groups per unit, or as many vectors per item as
     * elementwise_chunk allows. */
    CHECK(p->groups <= (size_t)t->elementwise_spread * units || p->chunk == t->elementwise_chunk);
    /* No more vectors per item than keep that spread. */
    CHECK(p->chunk == 1 || (size_t)(p->chunk - 1) * p->local * (size_t)t->elementwise_spread * units < vectors);
}

static void check_kernel_options(const clcnn_tuning *t, const clcnn_kernel_plan *k, size_t out_bytes, int aligned)
{
    char item[64];
    snprintf(item, sizeof item, "-DVECTOR=%d", t->elementwise_vector);
    CHECK(has_option(k->options, item) && strncmp(k->options, item, strlen(item)) == 0);
    const int stream = t->use_stream_stores && aligned && out_bytes >= (size_t)t->stream_min_kib << 10;
    CHECK(has_option(k->options, "-DSTREAM_STORES=1") == stream);
}

static void small_case(const clcnn_tuning *t, const planner_device *dev, int n_classes, int rows, clcnn_dtype dt)
{
    clcnn_softmax_forward_plan f;
    clcnn__softmax_plan_forward(rows, dev->compute_units, t, &f);
    CHECK(f.one_group == (rows <= t->softmax_one_group_rows));
    CHECK(f.one.file == CLCNN_FILE_softmax_cross_entropy_forward &&
          strcmp(f.one.entry, "softmax_cross_entropy_one_group") == 0);
    CHECK(f.mean.file == CLCNN_FILE_softmax_cross_entropy_forward &&
          strcmp(f.mean.entry, "softmax_cross_entropy_mean") == 0);
    CHECK(f.rows.file == CLCNN_FILE_softmax_cross_entropy_forward &&
          strcmp(f.rows.entry, "softmax_cross_entropy_rows") == 0);
    check_kernel_options(t, &f.one, 0, 0);
    check_kernel_options(t, &f.mean, 0, 0);
    check_kernel_options(t, &f.rows, 0, 0);
    check_elementwise(t, &dev->facts, dev->compute_units, (size_t)rows, &f.rows_launch);

    clcnn_softmax_backward_plan b;
    clcnn__softmax_plan_backward(n_classes, rows, dt, dev->compute_units, t, &b);
    const int vector = t->elementwise_vector;
    CHECK(power_of_two(vector) && vector <= 16);
    CHECK(b.row_vectors * vector >= n_classes && (b.row_vectors - 1) * vector < n_classes);
    CHECK(b.vectors == rows * b.row_vectors);
    CHECK(b.kernel.file == CLCNN_FILE_softmax_cross_entropy_backward &&
          strcmp(b.kernel.entry, "softmax_cross_entropy_backward") == 0);
    check_kernel_options(t, &b.kernel, (size_t)rows * (size_t)n_classes * (dt == CLCNN_FLOAT64 ? 8 : 4),
                         n_classes % vector == 0);
    check_elementwise(t, &dev->facts, dev->compute_units, (size_t)b.vectors, &b.launch);
}

static int small_op_plans(void)
{
    static const int classes[] = {1, 3, 10, 16, 1000};
    static const int row_counts[] = {1, 64, 255, 256, 257, 4096, 1 << 20};
    static const size_t limits[] = {1, 3, 64, 100, 256, 4096};
    for (int d = 0; d < (int)PLANNER_DEVICE_COUNT; d++)
        for (int column = 0; column < 2; column++)
            for (int k = 0; k < SMALL_SPEC_COUNT; k++) {
                clcnn_tuning t;
                make_tuning(&planner_devices[d].facts, column, small_specs[k], &t);
                for (size_t c = 0; c < sizeof classes / sizeof classes[0]; c++)
                    for (size_t r = 0; r < sizeof row_counts / sizeof row_counts[0]; r++)
                        for (int dt = 0; dt < 2; dt++) {
                            snprintf(the_case, sizeof the_case,
                                     "%s, %s column, CLCNN_TUNE='%s': softmax of %d rows of %d classes, %s",
                                     planner_devices[d].name, column ? "gpu" : "cpu", small_specs[k], row_counts[r], classes[c],
                                     dt ? "float64" : "float32");
                            small_case(&t, &planner_devices[d], classes[c], row_counts[r], dt ? CLCNN_FLOAT64 : CLCNN_FLOAT32);
                        }
                for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
                    snprintf(the_case, sizeof the_case, "%s, %s column, CLCNN_TUNE='%s': mean group, limit %zu",
                             planner_devices[d].name, column ? "gpu" : "cpu", small_specs[k], limits[l]);
                    const size_t group = clcnn__softmax_mean_group(&t, limits[l]);
                    const size_t most =
                        limits[l] < (size_t)t.softmax_mean_local ? limits[l] : (size_t)t.softmax_mean_local;
                    /* The largest power of two within both limits. */
                    CHECK(power_of_two((long long)group) && group <= most && group * 2 > most);
                }
                /* The element-wise ops' kernels: streamed only where aligned. */
                static const size_t sizes[] = {0, 1 << 10, 8 << 20, 64 << 20};
                for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
                    for (int aligned = 0; aligned < 2; aligned++) {
                        snprintf(the_case, sizeof the_case, "%s, %s column, CLCNN_TUNE='%s': kernel of %zu bytes%s",
                                 planner_devices[d].name, column ? "gpu" : "cpu", small_specs[k], sizes[i],
                                 aligned ? ", aligned" : "");
                        clcnn_kernel_plan kp;
                        clcnn__elementwise_kernel_plan(&t, CLCNN_FILE_relu_forward, "relu_forward", "-DWITH_VELOCITY=1",
                                                       sizes[i], aligned, &kp);
                        CHECK(kp.file == CLCNN_FILE_relu_forward && strcmp(kp.entry, "relu_forward") == 0);
                        CHECK(has_option(kp.options, "-DWITH_VELOCITY=1"));
                        check_kernel_options(&t, &kp, sizes[i], aligned);
                    }
            }
    return 0;
}

int main(void)
{
    pool_plans();
    small_op_plans();
    if (failures)
        printf("%d checks failed\n", failures);
    else
        printf("every plan kept its invariants\n");
    return failures ? 1 : 0;
}
