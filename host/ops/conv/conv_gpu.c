/* Convolution shaped for GPUs: forward, dA and dW (with db) as GEMMs whose
 * blocks are staged in local memory (conv_forward_local,
 * conv_backward_data_gemm, conv_backward_filter_gemm), where the tuning
 * table asks for them (use_local_gemm_forward, use_local_gemm_data,
 * use_local_gemm_filter: the GPU column). For each, the first blocking of a
 * list that this device runs is built: work-groups within its limit and
 * tiles within its local memory, both as the built kernel reports them
 * (CL_KERNEL_WORK_GROUP_SIZE, CL_KERNEL_LOCAL_MEM_SIZE with the tiles set).
 * Where none fits, conv.c's register-tiled kernels run instead. Every
 * blocking adds the same terms in the same order, so the choice never
 * changes a bit of the results. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "conv.h"

typedef struct gemm_blocking {
    int group_m, group_n; /* the block of the output a work-group computes */
    int micro_m, micro_n; /* the register tile of one work-item */
    int tile_k;           /* the depth of one K step */
} gemm_blocking;

/* In order of preference, by the GEMM's width (columns: channels of a
 * group). Wide: 256 work-items of 4 x 4 in 64 x 64 blocks (16 x 16 items,
 * as GPU GEMMs run), the same in half the local memory (float64 within
 * 16 KiB), then 64 items in 32 x 32 blocks for devices with small
 * work-groups. gemm_medium_columns (32) or fewer: 32 x 32 blocks first, and
 * gemm_narrow_columns (16) or fewer: 32 x 16 blocks of 8 x 8 items of 4 x 2,
 * so that fewer items compute columns that do not exist (and small layers
 * get more work-groups).
 * Every entry divides into whole loads per work-item in each kernel
 * (their #error checks). */
static const gemm_blocking wide_blockings[] = {
    {64, 64, 4, 4, 16}, {64, 64, 4, 4, 8}, {32, 32, 4, 4, 16}, {32, 32, 4, 4, 8}};
static const gemm_blocking medium_blockings[] = {{32, 32, 4, 4, 16}, {32, 32, 4, 4, 8}};
static const gemm_blocking narrow_blockings[] = {{32, 16, 4, 2, 16}, {32, 16, 4, 2, 8}};

/* dW's split of its reduction over the output pixels: enough splits that
 * the GEMM has about gemm_split_blocks blocks of the first wide blocking in
 * all (several per compute unit of a large GPU), each split at least
 * gemm_split_min_pixels pixels so that the partial sums stay small next to
 * what the GEMM reads, and at most gemm_split_most splits, so that each sum
 * of the splits stays short; rounded up to gemm_split_align pixels (whole
 * K steps: a split's last step is masked). A function of the shape and of
 * keys whose defaults are the same in both columns, never of the device,
 * so that every device running these kernels adds the same terms in the
 * same order. */

static int threads_of(const gemm_blocking *b)
{
    return (b->group_m / b->micro_m) * (b->group_n / b->micro_n);
}

/* A kernel built with the blocking the device runs. */
typedef struct gemm_kernel {
    cl_kernel kernel; /* NULL: no blocking fits this device */
    gemm_blocking blocking;
    size_t tile_bytes[2]; /* its two __local arguments (A, then B) */
    char options[256];    /* its program's -D options, for the other kernels of the file */
} gemm_kernel;

/* Sets the two __local arguments to the blocking's tiles: the kernel's last
 * two (kernels/local_gemm.h), so that no index mirrors its argument list. */
static clcnn_status set_tiles(clcnn_context *ctx, const char *op, const gemm_kernel *g)
{
    cl_uint count = 0;
    cl_int err = clGetKernelInfo(g->kernel, CL_KERNEL_NUM_ARGS, sizeof count, &count, NULL);
    if (err == CL_SUCCESS && count < 2)
        err = CL_INVALID_KERNEL;
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clGetKernelInfo(CL_KERNEL_NUM_ARGS)", err);
    const cl_uint at = count - 2;
    for (cl_uint i = 0; i < 2; i++) {
        err = clSetKernelArg(g->kernel, at + i, g->tile_bytes[i], NULL);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, op, "clSetKernelArg(__local tile)", err);
    }
    return CLCNN_OK;
}

/* Builds `entry` of `file` with the first blocking for a GEMM of `columns`
 * columns that this device runs; its tiles are TILE_K rows of GROUP_M +
 * a_pad and GROUP_N reals, passed as its last two, __local, arguments.
 * out->kernel stays NULL when none fits; a build that fails is an error. */
static clcnn_status pick_blocking(clcnn_context *ctx, const char *op, clcnn_kernel_file file, clcnn_dtype dt,
                                  const char *entry, int columns, int a_pad, const char *extra, gemm_kernel *out)
{
    const int narrow = columns <= ctx->tuning.gemm_narrow_columns;
    const int medium = !narrow && columns <= ctx->tuning.gemm_medium_columns;
    const gemm_blocking *list = narrow ? narrow_blockings : medium ? medium_blockings : wide_blockings;
    const size_t length = narrow   ? sizeof narrow_blockings / sizeof narrow_blockings[0]
                          : medium ? sizeof medium_blockings / sizeof medium_blockings[0]
                                   : sizeof wide_blockings / sizeof wide_blockings[0];
    const size_t elem = clcnn__dtype_size(dt);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < length; i++) {
        const gemm_blocking *b = &list[i];
        const size_t threads = (size_t)threads_of(b);
        const int a_stride = b->group_m + a_pad, b_stride = b->group_n;
        gemm_kernel g = {.blocking = *b,
                         .tile_bytes = {(size_t)b->tile_k * a_stride * elem, (size_t)b->tile_k * b_stride * elem}};
        /* What the device reports rules these out before a build. */
        if (threads > ctx->max_work_group_size || g.tile_bytes[0] + g.tile_bytes[1] > ctx->local_mem)
            continue;
        snprintf(g.options, sizeof g.options,
                 "-DCLCNN_LOCAL_TILES=1 -DCLCNN_LOCAL_TILES_ONLY=1 -DGROUP_M=%d -DGROUP_N=%d -DMICRO_M=%d -DMICRO_N=%d "
                 "-DTILE_K=%d "
                 "-DA_STRIDE=%d -DB_STRIDE=%d%s",
                 b->group_m, b->group_n, b->micro_m, b->micro_n, b->tile_k, a_stride, b_stride, extra);
        clcnn_status st = clcnn__get_kernel(ctx, op, file, dt, g.options, entry, &g.kernel);
        if (st != CLCNN_OK)
            return st;
        if (clcnn__kernel_wg_limit(ctx, g.kernel) < threads)
            continue;
        /* The kernel's own use (the compiler's, and what a driver counts for
         * the program) plus the tiles, as the driver adds them up. */
        cl_ulong used = 0;
        if ((st = set_tiles(ctx, op, &g)))
            return st;
        cl_int err =
            clGetKernelWorkGroupInfo(g.kernel, ctx->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof used, &used, NULL);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, op, "clGetKernelWorkGroupInfo(CL_KERNEL_LOCAL_MEM_SIZE)", err);
        if (used > ctx->local_mem)
            continue;
        *out = g;
        return CLCNN_OK;
    }
    return CLCNN_OK;
}

static void local_size(const gemm_blocking *b, size_t local[3])
{
    local[0] = (size_t)(b->group_n / b->micro_n);
    local[1] = (size_t)(b->group_m / b->micro_m);
    local[2] = 1;
}

/* Global size of a GEMM of rows x columns in `batches` (dim 2). */
static void global_size(const gemm_blocking *b, size_t rows, size_t columns, size_t batches, size_t global[3])
{
    size_t local[3];
    local_size(b, local);
    global[0] = clcnn__div_up(columns, (size_t)b->group_n) * local[0];
    global[1] = clcnn__div_up(rows, (size_t)b->group_m) * local[1];
    global[2] = batches;
}

clcnn_status clcnn__conv_gpu_forward(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                     const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                     const char *epilogue, clcnn_tensor *z, int *done)
{
    *done = 0;
    if (!ctx->tuning.use_local_gemm_forward)
        return CLCNN_OK;
    /* Without a bias the kernel never reads b: any buffer stands in. */
    const cl_mem b_mem = b ? b->mem : w->mem;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(w->mem), CLCNN_ARG(b_mem), CLCNN_ARG(z->mem),
                              CLCNN_CONV_SHAPE_ARGS(*s)};
    const cl_uint n_args = (cl_uint)(sizeof args / sizeof args[0]);
    gemm_kernel g;
    clcnn_status st = pick_blocking(ctx, op, CLCNN_FILE_conv_forward, a_prev->dtype, "conv_forward_local", s->out_group,
                                    1, epilogue, &g);
    if (st != CLCNN_OK || g.kernel == NULL)
        return st;
    size_t global[3], local[3];
    global_size(&g.blocking, (size_t)s->n_pixels, (size_t)s->out_group, (size_t)s->groups, global);
    local_size(&g.blocking, local);
    if ((st = clcnn__set_args(ctx, op, g.kernel, args, (int)n_args)) || (st = set_tiles(ctx, op, &g)) ||
        (st = clcnn__launch(ctx, op, g.kernel, 3, global, local)))
        return st;
    *done = 1;
    return CLCNN_OK;
}

/* Pixels per split of dW's reduction (see wide_blockings). */
static int split_pixels_for(const clcnn_tuning *t, const clcnn_conv_shape *s)
{
    const size_t rows = (size_t)s->f_h * s->f_w * s->in_group + 1;
    const gemm_blocking *unit = &wide_blockings[0];
    const size_t blocks = clcnn__div_up(rows, (size_t)unit->group_m) *
                          clcnn__div_up((size_t)s->out_group, (size_t)unit->group_n) * (size_t)s->groups;
    size_t splits = clcnn__div_up((size_t)t->gemm_split_blocks, blocks);
    size_t most = clcnn__div_up((size_t)s->n_pixels, (size_t)t->gemm_split_min_pixels);
    if (most > (size_t)t->gemm_split_most)
        most = (size_t)t->gemm_split_most;
    if (splits > most)
        splits = most;
    if (splits < 1)
        splits = 1;
    return (int)clcnn__round_up(clcnn__div_up((size_t)s->n_pixels, splits), (size_t)t->gemm_split_align);
}

clcnn_status clcnn__conv_gpu_plan_backward(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                           const clcnn_tensor *dz, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                           clcnn_tensor **da_prev, clcnn_tensor **dw, clcnn_tensor **db,
                                           clcnn_conv_gpu_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    /* Depthwise layers have kernels of their own (conv_depthwise.c). */
    if (clcnn__depthwise_applies(s))
        return CLCNN_OK;
    const clcnn_tuning *t = &ctx->tuning;
    const clcnn_dtype dt = dz->dtype;
    const size_t elem = clcnn__dtype_size(dt);
    const size_t w_count = (size_t)s->f_h * s->f_w * s->in_group * s->n_C;
    clcnn_status st;
    /* The GEMMs where conv_data and conv_filter force them, or leave the
     * choice to the tuning's flags. */
    const clcnn_conv_data_kernel data = clcnn__conv_data_forced(t, s);
    const clcnn_conv_filter_kernel filter = clcnn__conv_filter_forced(t, s);
    if (*da_prev && (data == CLCNN_CONV_DATA_gemm || (data == CLCNN_CONV_DATA_auto && t->use_local_gemm_data))) {
        gemm_kernel g;
        if ((st = pick_blocking(ctx, op, CLCNN_FILE_conv_backward_data, dt, "conv_backward_data_gemm", s->in_group, 1,
                                "", &g)))
            return st;
        if (g.kernel) {
            if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_data, dt, g.options, "residue_filters",
                                        &plan->residue_filters)) ||
                (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_WEIGHTS_T, w_count * elem, &plan->filters)))
                return st;
            plan->data = g.kernel;
            memcpy(plan->data_tile_bytes, g.tile_bytes, sizeof g.tile_bytes);
            const size_t classes = (size_t)(s->stride_h < s->n_H_prev ? s->stride_h : s->n_H_prev) *
                                   (size_t)(s->stride_w < s->n_W_prev ? s->stride_w : s->n_W_prev);
            const size_t largest_class = (size_t)s->m * clcnn__div_up((size_t)s->n_H_prev, (size_t)s->stride_h) *
                                         clcnn__div_up((size_t)s->n_W_prev, (size_t)s->stride_w);
            global_size(&g.blocking, largest_class, (size_t)s->in_group, classes * s->groups, plan->data_global);
            local_size(&g.blocking, plan->data_local);
        }
    }
    if ((*dw || *db) &&
        (filter == CLCNN_CONV_FILTER_gemm || (filter == CLCNN_CONV_FILTER_auto && t->use_local_gemm_filter))) {
        gemm_kernel g;
        if ((st = pick_blocking(ctx, op, CLCNN_FILE_conv_backward_filter, dt, "conv_backward_filter_gemm", s->out_group,
                                0, "", &g)))
            return st;
        if (g.kernel) {
            plan->filter_rows = *dw ? s->f_h * s->f_w * s->in_group : 0;
            plan->bias_row = *db != NULL;
            plan->split_pixels = split_pixels_for(t, s);
            plan->splits = (int)clcnn__div_up((size_t)s->n_pixels, (size_t)plan->split_pixels);
            const size_t rows = (size_t)plan->filter_rows + plan->bias_row;
            if ((size_t)plan->splits * rows * s->n_C > INT_MAX)
                return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                                   "%s: dW's workspace of %d partial sums of %zu elements passes the %d elements "
                                   "kernels can index; use smaller weights or use_local_gemm_filter=0 in CLCNN_TUNE",
                                   op, plan->splits, rows * s->n_C, INT_MAX);
            if ((st = clcnn__get_kernel(ctx, op, CLCNN_FILE_conv_backward_filter, dt, g.options, "filter_sum_splits",
                                        &plan->filter_sum)) ||
                (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_FILTER_PARTS,
                                       (size_t)plan->splits * rows * s->n_C * elem, &plan->part)))
                return st;
            plan->filter = g.kernel;
            memcpy(plan->filter_tile_bytes, g.tile_bytes, sizeof g.tile_bytes);
            global_size(&g.blocking, rows, (size_t)s->out_group, (size_t)plan->splits * s->groups, plan->filter_global);
            local_size(&g.blocking, plan->filter_local);
        }
    }
    /* Everything built and allocated: take the outputs from conv.c. */
    plan->dz = dz;
    plan->a_prev = a_prev;
    plan->w = w;
    if (plan->data) {
        plan->da_prev = *da_prev;
        *da_prev = NULL;
    }
    if (plan->filter) {
        plan->dw = *dw;
        plan->db = *db;
        *dw = *db = NULL;
    }
    return CLCNN_OK;
}

clcnn_status clcnn__conv_gpu_backward(clcnn_context *ctx, const char *op, const clcnn_conv_shape *s,
                                      const clcnn_conv_gpu_plan *plan)
{
    clcnn_status st;
    if (plan->data) {
        const clcnn_arg fargs[] = {CLCNN_ARG(plan->w->mem), CLCNN_ARG(plan->filters), CLCNN_CONV_SHAPE_ARGS(*s)};
        const size_t fglobal[3] = {(size_t)s->in_group, (size_t)s->n_C, (size_t)s->f_h * s->f_w};
        const size_t flocal[3] = {(size_t)ctx->tuning.weights_local_in, (size_t)ctx->tuning.weights_local_out, 1};
        const clcnn_arg args[] = {CLCNN_ARG(plan->dz->mem),         CLCNN_ARG(plan->filters),
                                  CLCNN_ARG(plan->da_prev->mem),    CLCNN_CONV_SHAPE_ARGS(*s),
                                  {plan->data_tile_bytes[0], NULL}, {plan->data_tile_bytes[1], NULL}};
        if ((st = clcnn__set_args(ctx, op, plan->residue_filters, fargs, (int)(sizeof fargs / sizeof fargs[0]))) ||
            (st = clcnn__launch(ctx, op, plan->residue_filters, 3, fglobal, flocal)) ||
            (st = clcnn__set_args(ctx, op, plan->data, args, (int)(sizeof args / sizeof args[0]))) ||
            (st = clcnn__launch(ctx, op, plan->data, 3, plan->data_global, plan->data_local)))
            return st;
    }
    if (plan->filter) {
        /* A missing output's buffer stands in for it: the sum never writes there. */
        const cl_mem dw_mem = plan->dw ? plan->dw->mem : plan->db->mem;
        const cl_mem db_mem = plan->db ? plan->db->mem : plan->dw->mem;
        const int filter_elements = plan->filter_rows * s->n_C;
        const int elements = (plan->filter_rows + plan->bias_row) * s->n_C;
        const clcnn_arg args[] = {
            CLCNN_ARG(plan->a_prev->mem),  CLCNN_ARG(plan->dz->mem),           CLCNN_ARG(plan->part),
            CLCNN_CONV_SHAPE_ARGS(*s),     CLCNN_ARG(plan->filter_rows),       CLCNN_ARG(plan->bias_row),
            CLCNN_ARG(plan->split_pixels), {plan->filter_tile_bytes[0], NULL}, {plan->filter_tile_bytes[1], NULL}};
        const clcnn_arg sargs[] = {CLCNN_ARG(plan->part),      CLCNN_ARG(dw_mem),   CLCNN_ARG(db_mem),
                                   CLCNN_ARG(filter_elements), CLCNN_ARG(elements), CLCNN_ARG(plan->splits)};
        const size_t sglobal[1] = {(size_t)elements}, slocal[1] = {(size_t)ctx->tuning.sum_local};
        if ((st = clcnn__set_args(ctx, op, plan->filter, args, (int)(sizeof args / sizeof args[0]))) ||
            (st = clcnn__launch(ctx, op, plan->filter, 3, plan->filter_global, plan->filter_local)) ||
            (st = clcnn__set_args(ctx, op, plan->filter_sum, sargs, (int)(sizeof sargs / sizeof sargs[0]))) ||
            (st = clcnn__launch(ctx, op, plan->filter_sum, 1, sglobal, slocal)))
            return st;
    }
    return CLCNN_OK;
}
