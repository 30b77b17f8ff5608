/* Softmax cross-entropy's planner (softmax_cross_entropy_plan.c): which
 * kernels run the forward and the backward, with which options and sizes,
 * from the tuning alone. Pure: no context, no OpenCL call. */
#ifndef CLCNN_OPS_SOFTMAX_CROSS_ENTROPY_PLAN_H
#define CLCNN_OPS_SOFTMAX_CROSS_ENTROPY_PLAN_H

#include "elementwise.h"

typedef struct clcnn_softmax_forward_plan {
    int one_group; /* rows, losses and mean in one launch of one group; else the rows, then the mean */
    /* one: the one-group kernel; mean: the mean's kernel. Both are built
     * either way: the mean's group is the same for both ways
     * (clcnn__softmax_mean_group over both kernels' limits). rows: the rows'
     * kernel, launched as rows_launch (two launches only). */
    clcnn_kernel_plan one, mean, rows;
    clcnn_elementwise_plan rows_launch;
} clcnn_softmax_forward_plan;

typedef struct clcnn_softmax_backward_plan {
    int row_vectors, vectors; /* of one row of K, of all rows */
    clcnn_kernel_plan kernel;
    clcnn_elementwise_plan launch;
} clcnn_softmax_backward_plan;

/* `rows` rows (of `n_classes`; both at least 1) on a device of
 * `compute_units` (at least 1). */
void clcnn__softmax_plan_forward(int rows, unsigned compute_units, const clcnn_tuning *t,
                                 clcnn_softmax_forward_plan *plan);
void clcnn__softmax_plan_backward(int n_classes, int rows, clcnn_dtype dtype, unsigned compute_units,
                                  const clcnn_tuning *t, clcnn_softmax_backward_plan *plan);

/* The mean's work-group size where the smaller of the one-group and the
 * mean kernels' limits is `kernel_limit` (at least 1). */
size_t clcnn__softmax_mean_group(const clcnn_tuning *t, size_t kernel_limit);

#endif
