/* Convolution forward and backward: validation, then what the plan
 * (conv_plan.c) says: the kernels of conv_forward.cl,
 * conv_backward_data.cl, conv_backward_filter.cl and conv_backward_bias.cl
 * built, the workspace sized, then launched. Everything that can fail
 * (checks, kernel builds, workspace) happens before the first enqueue. */
#include <limits.h>
#include <string.h>

#include "conv_plan.h"
#include "convert.h"
#include "output_dims.h"

typedef clcnn_conv_shape conv_shape;

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

/* The kernel of a planned launch, where the plan has one. */
static clcnn_status get_launch_kernel(clcnn_context *ctx, const char *op, clcnn_dtype dt, const clcnn_conv_launch *l,
                                      cl_kernel *k)
{
    *k = NULL;
    return l->kernel.entry ? clcnn__get_planned_kernel(ctx, op, dt, &l->kernel, k) : CLCNN_OK;
}

static clcnn_status launch(clcnn_context *ctx, const char *op, cl_kernel k, const clcnn_conv_launch *l,
                           const clcnn_arg *args, int n_args)
{
    clcnn_status st = clcnn__set_args(ctx, op, k, args, n_args);
    return st ? st : clcnn__launch(ctx, op, k, l->dims, l->global, l->local);
}

/* z = epilogue(conv(a, w) + b) by the register tiles planned for shape s;
 * without a bias in the plan, b is never read. */
static clcnn_status run_tiled(clcnn_context *ctx, const char *op, const conv_shape *s, cl_kernel k,
                              const clcnn_conv_tiled_plan *f, cl_mem a, cl_mem w, cl_mem b, cl_mem z)
{
    const clcnn_arg args[] = {CLCNN_ARG(a), CLCNN_ARG(w), CLCNN_ARG(b), CLCNN_ARG(z), CLCNN_CONV_SHAPE_ARGS(*s)};
    return launch(ctx, op, k, &f->launch, args, (int)(sizeof args / sizeof args[0]));
}

/* ---- 16-bit calls: staged through float32 workspace ----
 * A float16 or bfloat16 call converts its inputs into float32 copies in
 * the context's workspace (exactly: every 16-bit value is a float), runs
 * the float32 path on views of those copies, and rounds each float32
 * result once into its 16-bit output: loads in 16 bits, arithmetic and
 * accumulation in float, one rounding on the store, as docs/tolerance.md's
 * 16-bit bound assumes. The user's outputs are written by the last
 * conversions only, so a failure before them leaves them as they were. */
typedef struct stage {
    const clcnn_tensor *user; /* the call's 16-bit tensor, or NULL (not asked for) */
    clcnn_workspace_slot slot;
    int output;        /* converted back into user at the end */
    clcnn_tensor view; /* float32 over the slot's buffer */
} stage;

/* The float32 view of a stage, or NULL where the call passed none. */
static clcnn_tensor *staged(stage *s)
{
    return s->user ? &s->view : NULL;
}

/* Sizes the staging slots and builds both conversions before anything is
 * enqueued. The float32 path takes its own slots, never these, so growing
 * one of its own cannot free a buffer a view holds. */
static clcnn_status stage_prepare(clcnn_context *ctx, const char *op, clcnn_dtype dt, stage *stages, int n,
                                  cl_kernel *to32, cl_kernel *to16)
{
    clcnn_status st;
    for (int i = 0; i < n; i++) {
        const clcnn_tensor *u = stages[i].user;
        if (u == NULL)
            continue;
        clcnn_tensor *v = &stages[i].view;
        memset(v, 0, sizeof *v);
        v->ctx = ctx;
        v->dtype = CLCNN_FLOAT32;
        memcpy(v->dims, u->dims, sizeof v->dims);
        v->count = u->count;
        v->bytes = u->count * sizeof(float);
        if ((st = clcnn__workspace(ctx, op, stages[i].slot, v->bytes, &v->mem)))
            return st;
    }
    if ((st = clcnn__convert_kernel(ctx, op, dt, CLCNN_FLOAT32, to32)))
        return st;
    return clcnn__convert_kernel(ctx, op, CLCNN_FLOAT32, dt, to16);
}

/* Converts the inputs into their views (outputs 0), or the views into the
 * outputs (outputs 1). */
static clcnn_status stage_convert(clcnn_context *ctx, const char *op, const stage *stages, int n, cl_kernel k,
                                  int outputs)
{
    clcnn_status st;
    for (int i = 0; i < n; i++) {
        const stage *s = &stages[i];
        if (s->user == NULL || s->output != outputs)
            continue;
        const cl_mem src = outputs ? s->view.mem : s->user->mem, dst = outputs ? s->user->mem : s->view.mem;
        if ((st = clcnn__convert_launch(ctx, op, k, src, dst, s->user->count)))
            return st;
    }
    return CLCNN_OK;
}

/* The forward of a validated layer, planned under the layer's tuning. */
static clcnn_status conv_forward_planned(clcnn_context *ctx, const char *op, const conv_shape *shape,
                                         const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                         clcnn_activation act, clcnn_tensor *z)
{
    const clcnn_dtype dt = a_prev->dtype;
    clcnn_conv_forward_plan plan;
    clcnn__conv_plan_forward(shape, clcnn__depthwise_applies(shape), dt, b != NULL, act, &ctx->facts, &ctx->tuning,
                             &plan);
    if (plan.depthwise)
        return clcnn__depthwise_forward(ctx, op, &plan.shape, a_prev, w, b, act, z);
    /* Work-group tiles in local memory (conv_gpu.c), where the plan has
     * candidates and the device runs one; else the register tiles. */
    int done = 0;
    clcnn_status st = clcnn__conv_gpu_forward(ctx, op, &plan, a_prev, w, b, z, &done);
    if (st || done)
        return st;
    cl_kernel k;
    if ((st = get_launch_kernel(ctx, op, dt, &plan.tiled.launch, &k)))
        return st;
    /* Without a bias the kernel never reads b: any buffer stands in. */
    return run_tiled(ctx, op, &plan.shape, k, &plan.tiled, a_prev->mem, w->mem, b ? b->mem : w->mem, z->mem);
}

/* The forward of a validated 16-bit layer on float32 copies. */
static clcnn_status conv_forward_staged(clcnn_context *ctx, const char *op, const conv_shape *shape,
                                        const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                        clcnn_activation act, clcnn_tensor *z)
{
    stage stages[] = {{a_prev, CLCNN_WORKSPACE_STAGE_A, 0, {0}},
                      {w, CLCNN_WORKSPACE_STAGE_W, 0, {0}},
                      {b, CLCNN_WORKSPACE_STAGE_B, 0, {0}},
                      {z, CLCNN_WORKSPACE_STAGE_Z, 1, {0}}};
    const int n = (int)(sizeof stages / sizeof stages[0]);
    cl_kernel to32, to16;
    clcnn_status st;
    if ((st = stage_prepare(ctx, op, a_prev->dtype, stages, n, &to32, &to16)) ||
        (st = stage_convert(ctx, op, stages, n, to32, 0)) ||
        (st = conv_forward_planned(ctx, op, shape, staged(&stages[0]), staged(&stages[1]), staged(&stages[2]), act,
                                   staged(&stages[3]))))
        return st;
    return stage_convert(ctx, op, stages, n, to16, 1);
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
    st = clcnn__dtype_is_16bit(dt) ? conv_forward_staged(ctx, op, &s, a_prev, w, b, act, z)
                                   : conv_forward_planned(ctx, op, &s, a_prev, w, b, act, z);
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

/* The register-tiled kernels of a backward plan, built, and their
 * workspace, for the gradients that no GEMM took. */
typedef struct backward_built {
    cl_kernel reorder, data, filter, filter_sum, bias, bias_sum;
    cl_mem wt, filter_part, bias_part;
} backward_built;

/* Builds what the plan launches for dA, dW and db where run_* (the GPU's
 * GEMMs took the rest), and sizes the workspace, so that nothing can fail
 * once the first kernel is enqueued. */
static clcnn_status build_backward(clcnn_context *ctx, const char *op, clcnn_dtype dt,
                                   const clcnn_conv_backward_plan *p, int run_data, int run_filter, int run_bias,
                                   backward_built *b)
{
    const size_t elem = clcnn__dtype_size(dt);
    const clcnn_conv_data_plan *d = &p->data;
    clcnn_status st;
    memset(b, 0, sizeof *b);
    if (run_data &&
        ((st = get_launch_kernel(ctx, op, dt, d->kernel == CLCNN_CONV_DATA_forward ? &d->forward.launch : &d->launch,
                                 &b->data)) ||
         (st = get_launch_kernel(ctx, op, dt, &d->reorder, &b->reorder)) ||
         (d->weights_elements &&
          (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_WEIGHTS_T, d->weights_elements * elem, &b->wt)))))
        return st;
    if (run_filter && p->filter.part_elements > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: dW's workspace of %d partial sums of %zu elements passes the %d elements "
                           "kernels can index; lower filter_bias_chunks in CLCNN_TUNE or use smaller weights",
                           op, p->filter.chunks, p->filter.part_elements / p->filter.chunks, INT_MAX);
    if (run_filter &&
        ((st = get_launch_kernel(ctx, op, dt, &p->filter.launch, &b->filter)) ||
         (st = get_launch_kernel(ctx, op, dt, &p->filter.sum, &b->filter_sum)) ||
         (p->filter.part_elements && (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_FILTER_PARTS,
                                                            p->filter.part_elements * elem, &b->filter_part)))))
        return st;
    if (run_bias && ((st = get_launch_kernel(ctx, op, dt, &p->bias.launch, &b->bias)) ||
                     (st = get_launch_kernel(ctx, op, dt, &p->bias.sum, &b->bias_sum)) ||
                     (p->bias.part_elements && (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_BIAS_PARTS,
                                                                      p->bias.part_elements * elem, &b->bias_part)))))
        return st;
    return CLCNN_OK;
}

static clcnn_status sum_chunks(clcnn_context *ctx, const char *op, cl_kernel k, const clcnn_conv_launch *l, cl_mem part,
                               cl_mem out, int n, int chunks)
{
    const clcnn_arg args[] = {CLCNN_ARG(part), CLCNN_ARG(out), CLCNN_ARG(n), CLCNN_ARG(chunks)};
    return launch(ctx, op, k, l, args, 4);
}

/* b->wt = W reordered for dA by the plan's kernel: each tap's (input,
 * output channel) matrix transposed (transpose_weights), or W turned for
 * dA as a forward (turn_weights); both take the same arguments. */
static clcnn_status reorder_weights(clcnn_context *ctx, const char *op, const conv_shape *s,
                                    const clcnn_conv_data_plan *d, const backward_built *b, const clcnn_tensor *w)
{
    const clcnn_arg args[] = {CLCNN_ARG(w->mem),      CLCNN_ARG(b->wt),        CLCNN_ARG(s->f_h), CLCNN_ARG(s->f_w),
                              CLCNN_ARG(s->in_group), CLCNN_ARG(s->out_group), CLCNN_ARG(s->n_C)};
    return launch(ctx, op, b->reorder, &d->reorder, args, (int)(sizeof args / sizeof args[0]));
}

/* dA by the kernel the plan chose (the depthwise and GEMM plans' excepted). */
static clcnn_status run_backward_data(clcnn_context *ctx, const char *op, const conv_shape *s,
                                      const clcnn_conv_data_plan *d, const backward_built *b, const clcnn_tensor *dz,
                                      const clcnn_tensor *w, clcnn_tensor *da_prev)
{
    clcnn_status st;
    if (d->kernel == CLCNN_CONV_DATA_forward)
        return (st = reorder_weights(ctx, op, s, d, b, w))
                   ? st
                   : run_tiled(ctx, op, &d->forward_shape, b->data, &d->forward, dz->mem, b->wt, b->wt, da_prev->mem);
    if (d->kernel == CLCNN_CONV_DATA_matrix) {
        const clcnn_arg args[] = {CLCNN_ARG(dz->mem),     CLCNN_ARG(w->mem),      CLCNN_ARG(da_prev->mem),
                                  CLCNN_ARG(s->n_pixels), CLCNN_ARG(s->n_C_prev), CLCNN_ARG(s->n_C)};
        return launch(ctx, op, b->data, &d->launch, args, (int)(sizeof args / sizeof args[0]));
    }
    if (d->kernel == CLCNN_CONV_DATA_dot) {
        const clcnn_arg args[] = {CLCNN_ARG(dz->mem),        CLCNN_ARG(w->mem),      CLCNN_ARG(da_prev->mem),
                                  CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(d->residues), CLCNN_ARG(d->tiles)};
        return launch(ctx, op, b->data, &d->launch, args, (int)(sizeof args / sizeof args[0]));
    }
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem),        CLCNN_ARG(b->wt),       CLCNN_ARG(da_prev->mem),
                              CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(d->residues), CLCNN_ARG(d->tiles)};
    return (st = reorder_weights(ctx, op, s, d, b, w))
               ? st
               : launch(ctx, op, b->data, &d->launch, args, (int)(sizeof args / sizeof args[0]));
}

/* dW by the kernel the plan chose (the depthwise and GEMM plans'
 * excepted), its chunks summed where there are several. */
static clcnn_status run_backward_filter(clcnn_context *ctx, const char *op, const conv_shape *s,
                                        const clcnn_conv_filter_plan *f, const backward_built *b,
                                        const clcnn_tensor *a_prev, const clcnn_tensor *dz, clcnn_tensor *dw)
{
    clcnn_status st;
    if (f->kernel == CLCNN_CONV_FILTER_blocked) {
        const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(dz->mem),     CLCNN_ARG(dw->mem),
                                  CLCNN_ARG(s->n_pixels), CLCNN_ARG(s->n_C_prev), CLCNN_ARG(s->n_C)};
        return launch(ctx, op, b->filter, &f->launch, args, (int)(sizeof args / sizeof args[0]));
    }
    /* One chunk: its partial sums are dW itself. */
    const cl_mem part = f->chunks > 1 ? b->filter_part : dw->mem;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem),    CLCNN_ARG(dz->mem),  CLCNN_ARG(part),
                              CLCNN_CONV_SHAPE_ARGS(*s), CLCNN_ARG(f->chunk), CLCNN_ARG(f->block_rows)};
    /* conv_backward_filter_rows takes no block rows. */
    const int n_args = (int)(sizeof args / sizeof args[0]) - (f->kernel == CLCNN_CONV_FILTER_rows ? 1 : 0);
    if ((st = launch(ctx, op, b->filter, &f->launch, args, n_args)))
        return st;
    return f->chunks > 1
               ? sum_chunks(ctx, op, b->filter_sum, &f->sum, b->filter_part, dw->mem, (int)dw->count, f->chunks)
               : CLCNN_OK;
}

/* db: chunks of pixels summed per channel, then the chunks summed; one
 * chunk is written to db directly. */
static clcnn_status run_backward_bias(clcnn_context *ctx, const char *op, const conv_shape *s,
                                      const clcnn_conv_bias_plan *p, const backward_built *b, const clcnn_tensor *dz,
                                      clcnn_tensor *db)
{
    const cl_mem part = p->chunks == 1 ? db->mem : b->bias_part;
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem), CLCNN_ARG(part), CLCNN_ARG(s->n_C), CLCNN_ARG(s->n_pixels),
                              CLCNN_ARG(p->chunk)};
    clcnn_status st;
    if ((st = launch(ctx, op, b->bias, &p->launch, args, 5)))
        return st;
    return p->chunks > 1 ? sum_chunks(ctx, op, b->bias_sum, &p->sum, b->bias_part, db->mem, s->n_C, p->chunks)
                         : CLCNN_OK;
}

/* The backward of a validated layer, planned under the layer's tuning:
 * the plan, then every kernel built and the workspace sized (the GPU's
 * GEMMs where one fits, depthwise's, then the register tiles for the
 * rest), then the launches. */
static clcnn_status conv_backward_planned(clcnn_context *ctx, const char *op, const conv_shape *shape,
                                          const clcnn_tensor *dz, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                          clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db)
{
    const clcnn_dtype dt = a_prev->dtype;
    clcnn_conv_backward_plan plan;
    clcnn__conv_plan_backward(shape, clcnn__depthwise_applies(shape), dt, da_prev != NULL, dw != NULL, db != NULL,
                              &ctx->facts, &ctx->tuning, &plan);
    const conv_shape *s = &plan.shape;
    clcnn_conv_gpu_built gpu;
    clcnn_status st = clcnn__conv_gpu_build_backward(ctx, op, dt, &plan, &gpu);
    if (st)
        return st;
    const int by_gemm_data = gpu.data.kernel != NULL, by_gemm_filter = gpu.filter.kernel != NULL;
    clcnn_depthwise_plan dwp;
    if (plan.depthwise && (st = clcnn__depthwise_plan_backward(ctx, op, dt, s, da_prev != NULL, dw != NULL, &dwp)))
        return st;
    const int run_data = da_prev && !plan.depthwise && !by_gemm_data;
    const int run_filter = dw && !plan.depthwise && !by_gemm_filter;
    const int run_bias = db && !by_gemm_filter;
    backward_built b;
    if ((st = build_backward(ctx, op, dt, &plan, run_data, run_filter, run_bias, &b)) ||
        (st = clcnn__conv_gpu_backward(ctx, op, &plan, &gpu, dz, a_prev, w, da_prev, dw, db)))
        return st;
    if (plan.depthwise && ((da_prev && (st = clcnn__depthwise_backward_data(ctx, op, s, &dwp, dz, w, da_prev))) ||
                           (dw && (st = clcnn__depthwise_backward_filter(ctx, op, s, &dwp, a_prev, dz, dw)))))
        return st;
    if ((run_data && (st = run_backward_data(ctx, op, s, &plan.data, &b, dz, w, da_prev))) ||
        (run_filter && (st = run_backward_filter(ctx, op, s, &plan.filter, &b, a_prev, dz, dw))) ||
        (run_bias && (st = run_backward_bias(ctx, op, s, &plan.bias, &b, dz, db))))
        return st;
    return CLCNN_OK;
}
/* The backward of a validated 16-bit layer on float32 copies. */
static clcnn_status conv_backward_staged(clcnn_context *ctx, const char *op, const conv_shape *shape,
                                         const clcnn_tensor *dz, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                         clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db)
{
    stage stages[] = {{dz, CLCNN_WORKSPACE_STAGE_Z, 0, {0}},  {a_prev, CLCNN_WORKSPACE_STAGE_A, 0, {0}},
                      {w, CLCNN_WORKSPACE_STAGE_W, 0, {0}},   {da_prev, CLCNN_WORKSPACE_STAGE_DA, 1, {0}},
                      {dw, CLCNN_WORKSPACE_STAGE_DW, 1, {0}}, {db, CLCNN_WORKSPACE_STAGE_B, 1, {0}}};
    const int n = (int)(sizeof stages / sizeof stages[0]);
    cl_kernel to32, to16;
    clcnn_status st;
    if ((st = stage_prepare(ctx, op, a_prev->dtype, stages, n, &to32, &to16)) ||
        (st = stage_convert(ctx, op, stages, n, to32, 0)) ||
        (st = conv_backward_planned(ctx, op, shape, staged(&stages[0]), staged(&stages[1]), staged(&stages[2]),
                                    staged(&stages[3]), staged(&stages[4]), staged(&stages[5]))))
        return st;
    return stage_convert(ctx, op, stages, n, to16, 1);
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
    st = clcnn__dtype_is_16bit(dt) ? conv_backward_staged(ctx, op, &s, dz, a_prev, w, da_prev, dw, db)
                                   : conv_backward_planned(ctx, op, &s, dz, a_prev, w, da_prev, dw, db);
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
