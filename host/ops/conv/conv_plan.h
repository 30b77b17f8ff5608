/* The convolution family's pure planner (conv_plan.c): for a validated
 * shape, the dtype, the device's facts and the layer's tuning, which
 * kernels run with which -D options and sizes, for the forward and for
 * the backward. It touches no context and builds nothing; conv.c and
 * conv_gpu.c validate, build what a plan names and launch it. Depthwise
 * layers go to conv_depthwise.c's own planner (the plan only says so). */
#ifndef CLCNN_CONV_PLAN_H
#define CLCNN_CONV_PLAN_H

#include "conv.h"

/* A local-memory GEMM's blocking: the block of the output a work-group
 * computes, the register tile of one work-item, the depth of one K step. */
typedef struct clcnn_gemm_blocking {
    int group_m, group_n, micro_m, micro_n, tile_k;
} clcnn_gemm_blocking;

/* The blockings the gemm_blocking key names, in the order of its values
 * (CLCNN_GEMM_BLOCKINGS, tuning_table.h); _auto leaves the list to the
 * GEMM's width. */
#define CLCNN_GEMM_BLOCKING_ENUM(name) CLCNN_GEMM_BLOCKING_##name,
typedef enum clcnn_gemm_blocking_name {
    CLCNN_GEMM_BLOCKING_auto,
    CLCNN_GEMM_BLOCKINGS(CLCNN_GEMM_BLOCKING_ENUM) CLCNN_GEMM_BLOCKING_COUNT
} clcnn_gemm_blocking_name;
#undef CLCNN_GEMM_BLOCKING_ENUM

/* One candidate blocking of a GEMM: the GEMM kernel and its companion
 * (dA: residue_filters, dW: filter_sum_splits; built from the same
 * program), its two __local tiles (A, then B) in bytes, and its launch. */
typedef struct clcnn_conv_gemm_candidate {
    clcnn_gemm_blocking blocking;
    clcnn_kernel_plan kernel, companion;
    size_t tile_bytes[2];
    size_t global[3], local[3];
} clcnn_conv_gemm_candidate;

/* A local-memory GEMM's candidates in order of preference, each within
 * the device's work-group limit and local memory (dev): whether a
 * candidate fits is known for sure only once it is built (the kernel's
 * own work-group limit and local memory, CL_KERNEL_WORK_GROUP_SIZE and
 * CL_KERNEL_LOCAL_MEM_SIZE, which a compiler decides), so the build step
 * (conv_gpu.c) takes the first candidate whose built kernel fits, and
 * where none does the register-tiled plan that comes with it runs.
 * count 0: no GEMM (not asked for, or no blocking within the facts). */
#define CLCNN_GEMM_MOST_CANDIDATES 6
typedef struct clcnn_conv_gemm_plan {
    int count;
    clcnn_conv_gemm_candidate candidates[CLCNN_GEMM_MOST_CANDIDATES];
} clcnn_conv_gemm_plan;

/* A launch's sizes. The global sizes are the items the kernel needs;
 * clcnn__launch rounds them up to the local sizes (the kernels mask the
 * items past the end) and halves a local size past the built kernel's
 * work-group limit. */
typedef struct clcnn_conv_launch {
    clcnn_kernel_plan kernel; /* entry NULL: no such launch */
    unsigned dims;
    size_t global[3], local[3];
} clcnn_conv_launch;

/* The register-tiled forward (conv_forward) over a shape: the layer's, or
 * dA's as a forward. */
typedef struct clcnn_conv_tiled_plan {
    clcnn_conv_launch launch;
    int tile, vector; /* output pixels along a row, channels per work-item */
} clcnn_conv_tiled_plan;

typedef struct clcnn_conv_forward_plan {
    clcnn_conv_shape shape;      /* what the kernels get: the layer, seen as a GEMM where it is one */
    int depthwise;               /* conv_depthwise.c plans and runs it; nothing below applies */
    clcnn_conv_gemm_plan gemm;   /* conv_forward_local's candidates (use_local_gemm_forward) */
    clcnn_conv_tiled_plan tiled; /* the register tiles: the plan, or where no candidate fits */
} clcnn_conv_forward_plan;

/* The forward of shape s (validated), with a bias or not and the
 * activation compiled into its epilogue. depthwise: whether
 * clcnn__depthwise_applies(s) (conv_depthwise.c), passed in so that this
 * file stands alone (its host-only test links no other op's files). */
void clcnn__conv_plan_forward(const clcnn_conv_shape *s, int depthwise, clcnn_dtype dt, int has_bias,
                              clcnn_activation act, const clcnn_device_facts *dev, const clcnn_tuning *t,
                              clcnn_conv_forward_plan *plan);

/* The backward's register-tiled dA, dW, db: which kernel, its launches
 * in order, the geometry the launches' arguments carry, the workspace. */
typedef struct clcnn_conv_data_plan {
    clcnn_conv_data_kernel kernel;     /* never _auto or _gemm */
    clcnn_conv_launch reorder;         /* W for dA: transpose_weights, turn_weights, or none */
    clcnn_conv_launch launch;          /* the dA kernel (not for _forward: see forward) */
    clcnn_conv_shape forward_shape;    /* _forward: dA's shape as a forward (clcnn__turned_shape) */
    clcnn_conv_tiled_plan forward;     /* _forward: its launch */
    int tile, vector, residues, tiles; /* the gathers' tile, residues of a row, tiles per residue */
    size_t weights_elements;           /* W reordered (0: none) */
} clcnn_conv_data_plan;

typedef struct clcnn_conv_filter_plan {
    clcnn_conv_filter_kernel kernel; /* never _auto or _gemm */
    clcnn_conv_launch launch, sum;   /* dW's kernel, its chunks' sum (entry NULL: one chunk, dW itself) */
    int vector, rows, chunk, chunks, block_rows;
    size_t part_elements; /* partial sums: chunks x |dW| where chunks > 1, else 0 */
} clcnn_conv_filter_plan;

typedef struct clcnn_conv_bias_plan {
    clcnn_conv_launch launch, sum; /* db's kernel, its chunks' sum (entry NULL: one chunk) */
    int vector, chunk, chunks;
    size_t part_elements;
} clcnn_conv_bias_plan;

/* dA as GEMMs per stride residue, or dW with db as a GEMM split along the
 * pixels: the candidates, and the geometry every candidate shares. */
typedef struct clcnn_conv_data_gemm_plan {
    clcnn_conv_gemm_plan gemm; /* conv_backward_data_gemm; companion residue_filters */
    clcnn_conv_launch filters; /* residue_filters' launch (its kernel: the candidate's companion) */
    size_t filters_elements;   /* the sub-filters' workspace */
} clcnn_conv_data_gemm_plan;
typedef struct clcnn_conv_filter_gemm_plan {
    clcnn_conv_gemm_plan gemm;    /* conv_backward_filter_gemm; companion filter_sum_splits */
    int rows, bias_row;           /* rows of dW (0 without dW) and db's (1 with db) */
    int split_pixels, splits;     /* the reduction: pixels per split, splits */
    size_t sum_global, sum_local; /* filter_sum_splits' launch */
    size_t part_elements;         /* splits x (rows + bias_row) x n_C */
} clcnn_conv_filter_gemm_plan;

typedef struct clcnn_conv_backward_plan {
    clcnn_conv_shape shape; /* what the kernels get (the GEMM view where it applies) */
    int depthwise;          /* dA and dW by conv_depthwise.c's planner; db below */
    int want_data, want_filter, want_bias;
    /* The GEMMs where asked (count 0 otherwise); the register-tiled plans
     * below are the fallback where no candidate's built kernel fits. */
    clcnn_conv_data_gemm_plan data_gemm;
    clcnn_conv_filter_gemm_plan filter_gemm; /* dW and db together */
    clcnn_conv_data_plan data;
    clcnn_conv_filter_plan filter;
    clcnn_conv_bias_plan bias;
} clcnn_conv_backward_plan;

/* The backward of shape s (validated) for the gradients wanted; see
 * clcnn__conv_plan_forward for depthwise. */
void clcnn__conv_plan_backward(const clcnn_conv_shape *s, int depthwise, clcnn_dtype dt, int want_data, int want_filter,
                               int want_bias, const clcnn_device_facts *dev, const clcnn_tuning *t,
                               clcnn_conv_backward_plan *plan);

/* ---- GEMMs tiled in local memory, for GPUs (conv_gpu.c) ----
 * Forward, dA and dW with db as GEMMs whose blocks are staged in local
 * memory, where the plan has candidate blockings and one's built kernel
 * fits the device; otherwise conv.c's register-tiled kernels run.
 * Validation is done before any of them is called. */

/* The candidate of a GEMM plan that runs, built: the first whose built
 * kernel fits the device; kernel NULL where none does. */
typedef struct clcnn_conv_gemm_built {
    const clcnn_conv_gemm_candidate *candidate;
    cl_kernel kernel, companion;
} clcnn_conv_gemm_built;

/* z = act(conv(a_prev, w) + b) by conv_forward_local; *done 0 (nothing
 * enqueued) where the plan has no candidate or none fits. */
clcnn_status clcnn__conv_gpu_forward(clcnn_context *ctx, const char *op, const clcnn_conv_forward_plan *plan,
                                     const clcnn_tensor *a_prev, const clcnn_tensor *w, const clcnn_tensor *b,
                                     clcnn_tensor *z, int *done);

/* The backward's GEMMs, built before the call's first enqueue, with their
 * workspace; a GEMM whose kernel is NULL leaves its gradients to conv.c
 * (dA; dW and db together). */
typedef struct clcnn_conv_gpu_built {
    clcnn_conv_gemm_built data, filter;
    cl_mem filters, part; /* the sub-filters, the splits' partial sums */
} clcnn_conv_gpu_built;
clcnn_status clcnn__conv_gpu_build_backward(clcnn_context *ctx, const char *op, clcnn_dtype dt,
                                            const clcnn_conv_backward_plan *plan, clcnn_conv_gpu_built *built);
/* Enqueues the GEMMs built (nothing if none was). */
clcnn_status clcnn__conv_gpu_backward(clcnn_context *ctx, const char *op, const clcnn_conv_backward_plan *plan,
                                      const clcnn_conv_gpu_built *built, const clcnn_tensor *dz,
                                      const clcnn_tensor *a_prev, const clcnn_tensor *w, clcnn_tensor *da_prev,
                                      clcnn_tensor *dw, clcnn_tensor *db);

#endif
