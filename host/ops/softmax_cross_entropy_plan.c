/* Softmax cross-entropy's planner: see softmax_cross_entropy_plan.h. */
#include "softmax_cross_entropy_plan.h"

/* Few rows (softmax_one_group_rows): rows, losses and mean in one launch
 * of one group; many: the rows across the device, then the mean in one
 * group. */
void clcnn__softmax_plan_forward(int rows, unsigned compute_units, const clcnn_tuning *t,
                                 clcnn_softmax_forward_plan *plan)
{
    plan->one_group = rows <= t->softmax_one_group_rows;
    clcnn__elementwise_kernel_plan(t, CLCNN_FILE_softmax_cross_entropy_forward, "softmax_cross_entropy_one_group", "",
                                   0, 0, &plan->one);
    clcnn__elementwise_kernel_plan(t, CLCNN_FILE_softmax_cross_entropy_forward, "softmax_cross_entropy_mean", "", 0, 0,
                                   &plan->mean);
    clcnn__elementwise_kernel_plan(t, CLCNN_FILE_softmax_cross_entropy_forward, "softmax_cross_entropy_rows", "", 0, 0,
                                   &plan->rows);
    plan->rows_launch = clcnn__elementwise_plan(t, compute_units, (size_t)rows);
}

/* Each row of K is row_vectors vectors, its last one partial where K is
 * not a multiple of the vector; at most probs' elements in all. */
void clcnn__softmax_plan_backward(int n_classes, int rows, clcnn_dtype dtype, unsigned compute_units,
                                  const clcnn_tuning *t, clcnn_softmax_backward_plan *plan)
{
    const int vector = t->elementwise_vector;
    plan->row_vectors = (n_classes + vector - 1) / vector;
    plan->vectors = rows * plan->row_vectors;
    const size_t bytes = (size_t)rows * (size_t)n_classes * clcnn__dtype_size(dtype);
    clcnn__elementwise_kernel_plan(t, CLCNN_FILE_softmax_cross_entropy_backward, "softmax_cross_entropy_backward", "",
                                   bytes, n_classes % vector == 0, &plan->kernel);
    plan->launch = clcnn__elementwise_plan(t, compute_units, (size_t)plan->vectors);
}

/* A power of two (the kernel's tree halves it) up to softmax_mean_local, a
 * function of the tuning and the kernels alone, the same for the
 * one-group kernel and the mean kernel (the smaller of their limits), so
 * that the summation order, and the bits of the mean, never change between
 * runs or between the two ways. */
size_t clcnn__softmax_mean_group(const clcnn_tuning *t, size_t kernel_limit)
{
    size_t group = 1;
    while (group * 2 <= (size_t)t->softmax_mean_local && group * 2 <= kernel_limit)
        group *= 2;
    return group;
}
