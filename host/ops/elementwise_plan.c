/* The element-wise kernels' plan (zero_pad, ReLU, softmax cross-entropy,
 * SGD): their launch geometry and their program options, from the tuning
 * alone. Pure: no context, no OpenCL call. */
#include <stdio.h>

#include "elementwise.h"

clcnn_elementwise_plan clcnn__elementwise_plan(const clcnn_tuning *tuning, unsigned compute_units, size_t vectors)
{
    clcnn_elementwise_plan plan;
    plan.local = (size_t)tuning->elementwise_local;
    /* As many vectors per work-item as elementwise_chunk allows while the
     * launch keeps elementwise_spread groups per compute unit: few groups
     * for a large tensor (each costs a dispatch), and still every unit
     * busy for a small one. */
    const size_t spread = (size_t)tuning->elementwise_spread * compute_units;
    size_t chunk = (vectors + plan.local * spread - 1) / (plan.local * spread);
    if (chunk > (size_t)tuning->elementwise_chunk)
        chunk = (size_t)tuning->elementwise_chunk;
    plan.chunk = (int)chunk;
    const size_t per_group = plan.local * (size_t)plan.chunk;
    plan.groups = (vectors + per_group - 1) / per_group;
    return plan;
}

void clcnn__elementwise_kernel_plan(const clcnn_tuning *tuning, clcnn_kernel_file file, const char *entry,
                                    const char *options, size_t out_bytes, int aligned, clcnn_kernel_plan *kernel)
{
    kernel->file = file;
    kernel->entry = entry;
    snprintf(kernel->options, sizeof kernel->options, "-DVECTOR=%d%s %s", tuning->elementwise_vector,
             clcnn__tuning_stream_stores(tuning, out_bytes, aligned) ? " -DSTREAM_STORES=1" : "", options);
}
