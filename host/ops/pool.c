/* Max and average pooling forward and backward: validation, the tuning
 * database's rows for the layer, the plan (pool_plan.c), then building
 * what it names (kernels, workspace: everything that can fail) and the
 * launches of pool_forward.cl and pool_backward.cl. The walkthrough's ops
 * (clcnn_pool_forward, clcnn_pool_backward) validate their own arguments
 * and then run the same code as the _ex ops with
 * clcnn_pool_params_default(f, stride). */
#include <limits.h>
#include <string.h>

#include "internal.h"
#include "output_dims.h"
#include "pool_plan.h"
/* The kernels' shape arguments, one list for both sides. */
#include "shape_params.h"

static clcnn_status check_mode(clcnn_context *ctx, const char *op, clcnn_pool_mode mode)
{
    if (mode != CLCNN_POOL_MAX && mode != CLCNN_POOL_AVERAGE)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "%s: mode is %d; use CLCNN_POOL_MAX (0) or CLCNN_POOL_AVERAGE (1)", op, (int)mode);
    return CLCNN_OK;
}

/* The walkthrough's arguments (f, stride), with their own messages. */
static clcnn_status pool_validate(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, int f, int stride,
                                  clcnn_pool_mode mode, clcnn_pool_shape *s)
{
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "a_prev", a_prev)) || (st = clcnn__refuse_16bit(ctx, op, "a_prev", a_prev)))
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
    clcnn__pool_shape_init(a_prev->dims, &params, s);
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
                                     const clcnn_pool_params *params, clcnn_pool_mode mode, clcnn_pool_shape *s)
{
    clcnn_status st;
    if ((st = clcnn__check_first(ctx, op, "a_prev", a_prev)) || (st = clcnn__refuse_16bit(ctx, op, "a_prev", a_prev)))
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
    clcnn__pool_shape_init(a_prev->dims, params, s);
    return CLCNN_OK;
}

/* The shape arguments every kernel ends with, for clcnn_pool_shape s and
 * clcnn_pool_geometry g: expanded from the list the kernels'
 * POOL_SHAPE_PARAMS expands (kernels/shape_params.h). */
#define POOL_ARG_SHAPE(shape, geometry, name) (shape).name
#define POOL_ARG_PARAMS(shape, geometry, name) (shape).p.name
#define POOL_ARG_PLAN(shape, geometry, name) (geometry).name
#define POOL_SHAPE_ARG(shape, geometry, where, name) CLCNN_ARG(POOL_ARG_##where(shape, geometry, name))
#define POOL_SHAPE_ARGS(s, g) CLCNN_POOL_SHAPE(POOL_SHAPE_ARG, CLCNN_COMMA, s, g)

/* Sets the arguments of `kernel` and enqueues it as the launch l says. */
static clcnn_status launch_planned(clcnn_context *ctx, const char *op, const clcnn_pool_launch *l, cl_kernel kernel,
                                   const clcnn_arg *args, int count)
{
    clcnn_status st = clcnn__set_args(ctx, op, kernel, args, count);
    return st ? st : clcnn__launch(ctx, op, kernel, 3, l->global, l->local);
}

/* Pooling forward of a validated shape; checks the output, then enqueues. */
static clcnn_status pool_forward_planned(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                         const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_tensor *a)
{
    clcnn_status st;
    if ((st = clcnn__check_tensor(ctx, op, "a", a, a_prev->dtype)) ||
        (st = clcnn__check_dims(ctx, op, "a", a, s->out_dims)) ||
        (st = clcnn__check_distinct(ctx, op, "a", a, "a_prev", a_prev)))
        return st;
    clcnn_pool_forward_plan plan;
    clcnn__pool_plan_forward(s, mode, a_prev->dtype, &ctx->facts, &ctx->tuning, &plan);
    cl_kernel k;
    if ((st = clcnn__get_planned_kernel(ctx, op, a_prev->dtype, &plan.launch.kernel, &k)))
        return st;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(a->mem), CLCNN_ARG(plan.launch.rows),
                              POOL_SHAPE_ARGS(*s, plan.g)};
    return launch_planned(ctx, op, &plan.launch, k, args, (int)(sizeof args / sizeof args[0]));
}

/* Enqueues the launches of a backward plan whose kernels k and argmax
 * workspace `positions` are ready. */
static clcnn_status pool_backward_enqueue(clcnn_context *ctx, const char *op, const clcnn_tensor *da,
                                          const clcnn_tensor *a_prev, const clcnn_pool_shape *s, clcnn_pool_mode mode,
                                          clcnn_tensor *da_prev, const clcnn_pool_backward_plan *plan,
                                          const cl_kernel k[2], cl_mem positions)
{
    const clcnn_pool_launch *l = plan->launch;
    const int use_max = mode == CLCNN_POOL_MAX, rows = l[0].rows;
    /* Global max takes the blocks' arguments without use_max. */
    const clcnn_arg blocks_args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(a_prev->mem),       CLCNN_ARG(da_prev->mem),
                                     CLCNN_ARG(rows),    POOL_SHAPE_ARGS(*s, plan->g), CLCNN_ARG(use_max)};
    const int blocks_count = (int)(sizeof blocks_args / sizeof blocks_args[0]);
    if (plan->way == CLCNN_POOL_BACKWARD_blocks)
        return launch_planned(ctx, op, l, k[0], blocks_args, blocks_count);
    if (plan->way == CLCNN_POOL_BACKWARD_global && use_max)
        return launch_planned(ctx, op, l, k[0], blocks_args, blocks_count - 1);
    if (!use_max) {
        /* Global average and the average gather take the same arguments. */
        const clcnn_arg args[] = {CLCNN_ARG(da->mem), CLCNN_ARG(da_prev->mem), CLCNN_ARG(rows),
                                  POOL_SHAPE_ARGS(*s, plan->g)};
        return launch_planned(ctx, op, l, k[0], args, (int)(sizeof args / sizeof args[0]));
    }
    /* Max's gather, after the argmax pass where there is one. */
    clcnn_status st;
    if (plan->launches == 2) {
        const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(positions), CLCNN_ARG(rows),
                                  POOL_SHAPE_ARGS(*s, plan->g)};
        if ((st = launch_planned(ctx, op, l, k[0], args, (int)(sizeof args / sizeof args[0]))))
            return st;
    }
    const clcnn_pool_launch *gather = &l[plan->launches - 1];
    const clcnn_arg args[] = {CLCNN_ARG(da->mem),      CLCNN_ARG(positions),    CLCNN_ARG(a_prev->mem),
                              CLCNN_ARG(da_prev->mem), CLCNN_ARG(gather->rows), POOL_SHAPE_ARGS(*s, plan->g)};
    return launch_planned(ctx, op, gather, k[plan->launches - 1], args, (int)(sizeof args / sizeof args[0]));
}

/* Pooling backward of a validated shape; checks da and da_prev, builds the
 * plan's kernels and its workspace (so that nothing can fail after an
 * enqueue), then enqueues. */
static clcnn_status pool_backward_planned(clcnn_context *ctx, const char *op, const clcnn_tensor *da,
                                          const clcnn_tensor *a_prev, const clcnn_pool_shape *s, clcnn_pool_mode mode,
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
    clcnn_pool_backward_plan plan;
    clcnn__pool_plan_backward(s, mode, a_prev->dtype, &ctx->facts, &ctx->tuning, &plan);
    cl_kernel k[2];
    for (int i = 0; i < plan.launches; i++)
        if ((st = clcnn__get_planned_kernel(ctx, op, a_prev->dtype, &plan.launch[i].kernel, &k[i])))
            return st;
    cl_mem positions = da->mem; /* not read without the argmax pass */
    if (plan.argmax_workspace_bytes &&
        (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_POOL_ARGMAX, plan.argmax_workspace_bytes, &positions)))
        return st;
    return pool_backward_enqueue(ctx, op, da, a_prev, s, mode, da_prev, &plan, k, positions);
}

/* Puts ctx->tuning under the tuning database's rows for this layer (op
 * "pool_forward" or "pool_backward"), saving the context's in *saved. */
static void begin_layer(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev, const clcnn_pool_shape *s,
                        clcnn_pool_mode mode, clcnn_tuning *saved)
{
    clcnn_tuning_layer_key key;
    if (ctx->tuning_db.count == 0 ||
        clcnn__tuning_pool_key(&key, op, a_prev->dtype, a_prev->dims, &s->given, mode) != 0)
        key.exact[0] = key.class_key[0] = '\0';
    clcnn__tuning_layer_begin(ctx, &key, saved);
}

static clcnn_status pool_forward_run(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                     const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_tensor *a)
{
    clcnn_tuning saved;
    begin_layer(ctx, "pool_forward", a_prev, s, mode, &saved);
    const clcnn_status st = pool_forward_planned(ctx, op, a_prev, s, mode, a);
    clcnn__tuning_layer_end(ctx, &saved);
    return st;
}

static clcnn_status pool_backward_run(clcnn_context *ctx, const char *op, const clcnn_tensor *da,
                                      const clcnn_tensor *a_prev, const clcnn_pool_shape *s, clcnn_pool_mode mode,
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
    clcnn_pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    return st ? st : pool_forward_run(ctx, op, a_prev, &s, mode, a);
}

clcnn_status clcnn_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev, int f,
                                 int stride, clcnn_pool_mode mode, clcnn_tensor *da_prev)
{
    static const char op[] = "pool_backward";
    clcnn_pool_shape s;
    clcnn_status st = pool_validate(ctx, op, a_prev, f, stride, mode, &s);
    return st ? st : pool_backward_run(ctx, op, da, a_prev, &s, mode, da_prev);
}

clcnn_status clcnn_pool_forward_ex(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_pool_params *params,
                                   clcnn_pool_mode mode, clcnn_tensor *a)
{
    static const char op[] = "pool_forward_ex";
    clcnn_pool_shape s;
    clcnn_status st = pool_validate_ex(ctx, op, a_prev, params, mode, &s);
    return st ? st : pool_forward_run(ctx, op, a_prev, &s, mode, a);
}

clcnn_status clcnn_pool_backward_ex(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                    const clcnn_pool_params *params, clcnn_pool_mode mode, clcnn_tensor *da_prev)
{
    static const char op[] = "pool_backward_ex";
    clcnn_pool_shape s;
    clcnn_status st = pool_validate_ex(ctx, op, a_prev, params, mode, &s);
    return st ? st : pool_backward_run(ctx, op, da, a_prev, &s, mode, da_prev);
}

clcnn_status clcnn__pool_validate_dims(clcnn_context *ctx, const char *op, const clcnn_tensor *a_prev,
                                       const clcnn_pool_params *params, size_t a_dims[4])
{
    clcnn_pool_shape s;
    clcnn_status st = pool_validate_ex(ctx, op, a_prev, params, CLCNN_POOL_MAX, &s);
    if (st == CLCNN_OK)
        memcpy(a_dims, s.out_dims, sizeof s.out_dims);
    return st;
}
