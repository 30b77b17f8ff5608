/* Convolution shaped for GPUs: forward, dA and dW (with db) as GEMMs whose
 * blocks are staged in local memory (conv_forward_local,
 * conv_backward_data_gemm, conv_backward_filter_gemm), where the plan
 * (conv_plan.c) has candidate blockings for them: the tuning asks for them
 * (use_local_gemm_forward, use_local_gemm_data, use_local_gemm_filter: the
 * GPU column; gemm_blocking) and the device's work-group limit and local
 * memory hold them. The first candidate whose built kernel fits runs: its
 * own work-group limit and local memory (CL_KERNEL_WORK_GROUP_SIZE,
 * CL_KERNEL_LOCAL_MEM_SIZE with the tiles set) are known only once a
 * compiler has built it, which no pure plan can know. Where none fits,
 * conv.c's register-tiled kernels, planned along, run instead. Every
 * blocking adds the same terms in the same order, so the choice never
 * changes a bit of the results. */
#include <limits.h>
#include <string.h>

#include "conv_plan.h"

/* Sets the two __local arguments to the candidate's tiles: the kernel's
 * last two (kernels/local_gemm.h), so that no index mirrors its argument
 * list. */
static clcnn_status set_tiles(clcnn_context *ctx, const char *op, cl_kernel k, const size_t tile_bytes[2])
{
    cl_uint count = 0;
    cl_int err = clGetKernelInfo(k, CL_KERNEL_NUM_ARGS, sizeof count, &count, NULL);
    if (err == CL_SUCCESS && count < 2)
        err = CL_INVALID_KERNEL;
    if (err != CL_SUCCESS)
        return clcnn__cl_fail(ctx, op, "clGetKernelInfo(CL_KERNEL_NUM_ARGS)", err);
    const cl_uint at = count - 2;
    for (cl_uint i = 0; i < 2; i++) {
        err = clSetKernelArg(k, at + i, tile_bytes[i], NULL);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, op, "clSetKernelArg(__local tile)", err);
    }
    return CLCNN_OK;
}

/* Builds the plan's candidates in order and keeps the first that the
 * device runs as built; out->kernel stays NULL when none does. A build
 * that fails is an error. */
static clcnn_status pick_built(clcnn_context *ctx, const char *op, clcnn_dtype dt, const clcnn_conv_gemm_plan *g,
                               clcnn_conv_gemm_built *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < g->count; i++) {
        const clcnn_conv_gemm_candidate *c = &g->candidates[i];
        cl_kernel k;
        clcnn_status st = clcnn__get_planned_kernel(ctx, op, dt, &c->kernel, &k);
        if (st != CLCNN_OK)
            return st;
        if (clcnn__kernel_wg_limit(ctx, k) < c->local[0] * c->local[1])
            continue;
        /* The kernel's own use (the compiler's, and what a driver counts for
         * the program) plus the tiles, as the driver adds them up. */
        cl_ulong used = 0;
        if ((st = set_tiles(ctx, op, k, c->tile_bytes)))
            return st;
        cl_int err = clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof used, &used, NULL);
        if (err != CL_SUCCESS)
            return clcnn__cl_fail(ctx, op, "clGetKernelWorkGroupInfo(CL_KERNEL_LOCAL_MEM_SIZE)", err);
        if (used > ctx->local_mem)
            continue;
        out->candidate = c;
        out->kernel = k;
        return CLCNN_OK;
    }
    return CLCNN_OK;
}

clcnn_status clcnn__conv_gpu_forward(clcnn_context *ctx, const char *op, const clcnn_conv_forward_plan *plan,
                                     const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                     clcnn_tensor *z, int *done)
{
    *done = 0;
    clcnn_conv_gemm_built g;
    clcnn_status st = pick_built(ctx, op, a_prev->dtype, &plan->gemm, &g);
    if (st != CLCNN_OK || g.kernel == NULL)
        return st;
    /* Without a bias the kernel never reads b: any buffer stands in. */
    const cl_mem b_mem = b ? b->mem : w->mem;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem), CLCNN_ARG(w->mem), CLCNN_ARG(b_mem), CLCNN_ARG(z->mem),
                              CLCNN_CONV_SHAPE_ARGS(plan->shape)};
    const clcnn_conv_gemm_candidate *c = g.candidate;
    if ((st = clcnn__set_args(ctx, op, g.kernel, args, (int)(sizeof args / sizeof args[0]))) ||
        (st = set_tiles(ctx, op, g.kernel, c->tile_bytes)) ||
        (st = clcnn__launch(ctx, op, g.kernel, 3, c->global, c->local)))
        return st;
    *done = 1;
    return CLCNN_OK;
}

clcnn_status clcnn__conv_gpu_build_backward(clcnn_context *ctx, const char *op, clcnn_dtype dt,
                                            const clcnn_conv_backward_plan *plan, clcnn_conv_gpu_built *built)
{
    memset(built, 0, sizeof *built);
    const size_t elem = clcnn__dtype_size(dt);
    const clcnn_conv_data_gemm_plan *d = &plan->data_gemm;
    const clcnn_conv_filter_gemm_plan *f = &plan->filter_gemm;
    clcnn_status st;
    if ((st = pick_built(ctx, op, dt, &d->gemm, &built->data)))
        return st;
    if (built->data.kernel &&
        ((st = clcnn__get_planned_kernel(ctx, op, dt, &built->data.candidate->companion, &built->data.companion)) ||
         (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_WEIGHTS_T, d->filters_elements * elem, &built->filters))))
        return st;
    if ((st = pick_built(ctx, op, dt, &f->gemm, &built->filter)) || built->filter.kernel == NULL)
        return st;
    /* Checked once a blocking runs: where none does, the register tiles
     * take dW and db and this workspace is never needed. */
    if (f->part_elements > INT_MAX)
        return clcnn__fail(ctx, CLCNN_ERROR_SHAPE,
                           "%s: dW's workspace of %d partial sums of %zu elements passes the %d elements "
                           "kernels can index; use smaller weights or use_local_gemm_filter=0 in CLCNN_TUNE",
                           op, f->splits, f->part_elements / f->splits, INT_MAX);
    if ((st = clcnn__get_planned_kernel(ctx, op, dt, &built->filter.candidate->companion, &built->filter.companion)) ||
        (st = clcnn__workspace(ctx, op, CLCNN_WORKSPACE_FILTER_PARTS, f->part_elements * elem, &built->part)))
        return st;
    return CLCNN_OK;
}

/* dA: the sub-filters of each stride residue, then the GEMM per residue. */
static clcnn_status run_data(clcnn_context *ctx, const char *op, const clcnn_conv_backward_plan *plan,
                             const clcnn_conv_gpu_built *built, const clcnn_tensor *dz, const clcnn_tensor *w,
                             clcnn_tensor *da_prev)
{
    const clcnn_conv_shape *s = &plan->shape;
    const clcnn_conv_launch *filters = &plan->data_gemm.filters;
    const clcnn_conv_gemm_candidate *c = built->data.candidate;
    const clcnn_arg fargs[] = {CLCNN_ARG(w->mem), CLCNN_ARG(built->filters), CLCNN_CONV_SHAPE_ARGS(*s)};
    const clcnn_arg args[] = {CLCNN_ARG(dz->mem),        CLCNN_ARG(built->filters), CLCNN_ARG(da_prev->mem),
                              CLCNN_CONV_SHAPE_ARGS(*s), {c->tile_bytes[0], NULL},  {c->tile_bytes[1], NULL}};
    clcnn_status st;
    if ((st = clcnn__set_args(ctx, op, built->data.companion, fargs, (int)(sizeof fargs / sizeof fargs[0]))) ||
        (st = clcnn__launch(ctx, op, built->data.companion, filters->dims, filters->global, filters->local)) ||
        (st = clcnn__set_args(ctx, op, built->data.kernel, args, (int)(sizeof args / sizeof args[0]))))
        return st;
    return clcnn__launch(ctx, op, built->data.kernel, 3, c->global, c->local);
}

/* dW and db: the split GEMM, then the sum of its splits. */
static clcnn_status run_filter(clcnn_context *ctx, const char *op, const clcnn_conv_backward_plan *plan,
                               const clcnn_conv_gpu_built *built, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                               clcnn_tensor *dw, clcnn_tensor *db)
{
    const clcnn_conv_shape *s = &plan->shape;
    const clcnn_conv_filter_gemm_plan *f = &plan->filter_gemm;
    const clcnn_conv_gemm_candidate *c = built->filter.candidate;
    /* A missing output's buffer stands in for it: the sum never writes there. */
    const cl_mem dw_mem = dw ? dw->mem : db->mem;
    const cl_mem db_mem = db ? db->mem : dw->mem;
    const int filter_elements = f->rows * s->n_C;
    const int elements = (f->rows + f->bias_row) * s->n_C;
    const clcnn_arg args[] = {CLCNN_ARG(a_prev->mem),     CLCNN_ARG(dz->mem),       CLCNN_ARG(built->part),
                              CLCNN_CONV_SHAPE_ARGS(*s),  CLCNN_ARG(f->rows),       CLCNN_ARG(f->bias_row),
                              CLCNN_ARG(f->split_pixels), {c->tile_bytes[0], NULL}, {c->tile_bytes[1], NULL}};
    const clcnn_arg sargs[] = {CLCNN_ARG(built->part),     CLCNN_ARG(dw_mem),   CLCNN_ARG(db_mem),
                               CLCNN_ARG(filter_elements), CLCNN_ARG(elements), CLCNN_ARG(f->splits)};
    const size_t sglobal[1] = {f->sum_global}, slocal[1] = {f->sum_local};
    clcnn_status st;
    if ((st = clcnn__set_args(ctx, op, built->filter.kernel, args, (int)(sizeof args / sizeof args[0]))) ||
        (st = clcnn__launch(ctx, op, built->filter.kernel, 3, c->global, c->local)) ||
        (st = clcnn__set_args(ctx, op, built->filter.companion, sargs, (int)(sizeof sargs / sizeof sargs[0]))))
        return st;
    return clcnn__launch(ctx, op, built->filter.companion, 1, sglobal, slocal);
}

clcnn_status clcnn__conv_gpu_backward(clcnn_context *ctx, const char *op, const clcnn_conv_backward_plan *plan,
                                      const clcnn_conv_gpu_built *built, const clcnn_tensor *dz,
                                      const clcnn_tensor *a_prev, const clcnn_tensor *w, clcnn_tensor *da_prev,
                                      clcnn_tensor *dw, clcnn_tensor *db)
{
    clcnn_status st;
    if (built->data.kernel && (st = run_data(ctx, op, plan, built, dz, w, da_prev)))
        return st;
    if (built->filter.kernel && (st = run_filter(ctx, op, plan, built, dz, a_prev, dw, db)))
        return st;
    return CLCNN_OK;
}
