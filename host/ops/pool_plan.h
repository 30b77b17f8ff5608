/* Pooling's planner (pool_plan.c): from a validated shape, the dtype, the
 * device's facts and the layer's tuning, which kernels run pooling forward
 * and backward, with which options and sizes. Pure: no context, no OpenCL
 * call, nothing built; pool.c builds and launches what the plan says. */
#ifndef CLCNN_OPS_POOL_PLAN_H
#define CLCNN_OPS_POOL_PLAN_H

#include "internal.h"

/* A validated call's geometry: the input and output extents and the params
 * as the kernels take them. */
typedef struct clcnn_pool_shape {
    int m, n_H_prev, n_W_prev, n_C, n_H, n_W;
    clcnn_pool_params p;
    clcnn_pool_params given; /* as the caller gave them: the tuning database's key */
    size_t out_dims[4];
} clcnn_pool_shape;

/* Fills s from an input of `dims` and params that have passed validation. */
void clcnn__pool_shape_init(const size_t dims[4], const clcnn_pool_params *params, clcnn_pool_shape *s);

/* Global pooling: one output pixel per image whose window covers the whole
 * padded input. */
int clcnn__pool_is_global(const clcnn_pool_shape *s);

/* What every launch of one call shares: the -D options' values and the
 * shape argument `channels`. */
typedef struct clcnn_pool_geometry {
    int vector;          /* channels per load: realN */
    int channels;        /* channels per work-item, a multiple of vector */
    int tile;            /* units (pixels or blocks) along w per work-item */
    int block;           /* channel vectors a tap reads at once (CHANNEL_BLOCK) */
    int tail;            /* the last vector of a pixel overlaps the one before (CHANNEL_TAIL) */
    int local;           /* work-items per group */
    int row_groups;      /* groups of whole rows, as CPUs take them */
    int padded;          /* some pad is not 0 */
    int constant_window; /* window and strides compiled in (POOL_F_H ...) */
    int stream;          /* non-temporal stores of the output (STREAM_STORES) */
    size_t argmax_bytes; /* of one window position in the argmax workspace */
} clcnn_pool_geometry;

/* One launch: its kernel, the `rows` argument the kernel takes first after
 * its tensors (and masks its last dimension by), and its ND-range over
 * channel groups x units along w per tile x rows. */
typedef struct clcnn_pool_launch {
    clcnn_kernel_plan kernel;
    int rows, units;
    size_t global[3], local[3];
} clcnn_pool_launch;

typedef struct clcnn_pool_forward_plan {
    clcnn_pool_geometry g;
    clcnn_pool_launch launch;
} clcnn_pool_forward_plan;

/* Pooling backward's kernels, in the order of the pool_backward key's
 * names (CLCNN_TUNING_CHOICES in tuning_table.h). */
#define CLCNN_POOL_BACKWARD_ENUM(name) CLCNN_POOL_BACKWARD_##name,
typedef enum clcnn_pool_backward_way {
    CLCNN_POOL_BACKWARD_auto,
    /* global: pool_backward_global_max or _average; blocks:
     * pool_backward_blocks; gather: pool_backward_average, or pool_argmax
     * then pool_backward_max; recompute: max, pool_backward_max rescanning
     * the covering windows */
    CLCNN_POOL_BACKWARD_KERNELS(CLCNN_POOL_BACKWARD_ENUM)
} clcnn_pool_backward_way;
#undef CLCNN_POOL_BACKWARD_ENUM

typedef struct clcnn_pool_backward_plan {
    clcnn_pool_backward_way way;
    clcnn_pool_geometry g;
    int launches;                  /* 2 for max's gather: pool_argmax, then pool_backward_max */
    clcnn_pool_launch launch[2];   /* in their order */
    size_t argmax_workspace_bytes; /* CLCNN_WORKSPACE_POOL_ARGMAX; 0 where no argmax pass runs */
} clcnn_pool_backward_plan;

void clcnn__pool_plan_forward(const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_dtype dtype,
                              const clcnn_device_facts *dev, const clcnn_tuning *t, clcnn_pool_forward_plan *plan);
void clcnn__pool_plan_backward(const clcnn_pool_shape *s, clcnn_pool_mode mode, clcnn_dtype dtype,
                               const clcnn_device_facts *dev, const clcnn_tuning *t, clcnn_pool_backward_plan *plan);

#endif
