/* What the element-wise kernels share (zero_pad, ReLU, softmax
 * cross-entropy's gradient, SGD): each work-item takes whole vectors of
 * VECTOR elements, loads and stores them as vectors, and only a tensor's
 * (or a row's) last, partial vector takes scalar code. A guarded scalar
 * store per work-item is what CPU compilers that vectorise across
 * work-items (POCL) turn into masked stores, which are microcoded and slow
 * on some x86 cores; a work-item with its own vectors is not vectorised
 * across, and its stores stay plain.
 *
 * Geometry: the launch has `groups` groups of L work-items (the host's
 * local size); work-item `lid` of group g takes the vectors
 * (g * chunk + j) * L + lid for j < chunk. With L = 1 a work-item's vectors
 * are consecutive (CPUs: each core streams through its own range); with a
 * wide group, neighbouring work-items take neighbouring vectors (GPUs:
 * coalesced). The host picks chunk, the kernels take it as an argument so
 * that one program serves every size. */
#ifndef CLCNN_ELEMENTWISE_H
#define CLCNN_ELEMENTWISE_H

#include "common.h"

#ifndef VECTOR
#define VECTOR 4
#endif
typedef VREAL(VECTOR) vreal;
/* A whole vector from a tensor (a storage pointer), widened to vreal. */
#define LOAD_VECTOR(p) SLOAD(VECTOR)(0, p)

/* Softmax cross-entropy's labels: numbers in the tensors' storage, or
 * float with -DCLCNN_LABELS_FLOAT=1 (16-bit logits with float32 labels:
 * bfloat16 holds integers exactly only up to 256, float16 up to 2048). */
#ifdef CLCNN_LABELS_FLOAT
typedef float label_storage;
#define LOAD_LABEL(i, p) ((p)[i])
#else
typedef storage label_storage;
#define LOAD_LABEL(i, p) SLOAD_1(i, p)
#endif

/* The element offsets a work-item's vectors start at are below
 * 2^31 + chunk * L * VECTOR (the host refuses tensors of 2^31 elements):
 * unsigned, they cannot wrap. */
typedef uint offset_t;

/* The index of the work-item's j-th vector. */
CLCNN_INLINE offset_t vector_index(int chunk, int j)
{
    return ((offset_t)get_group_id(0) * (offset_t)chunk + (offset_t)j) * (offset_t)get_local_size(0) +
           (offset_t)get_local_id(0);
}

/* Lane numbers 0 .. VECTOR-1 as reals, for per-lane tests of a vector
 * whose comparisons then give the mask type select() takes in both dtypes. */
#if VECTOR == 1
#define LANES ((real)0)
#elif VECTOR == 2
#define LANES ((vreal)(0, 1))
#elif VECTOR == 4
#define LANES ((vreal)(0, 1, 2, 3))
#elif VECTOR == 8
#define LANES ((vreal)(0, 1, 2, 3, 4, 5, 6, 7))
#elif VECTOR == 16
#define LANES ((vreal)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#else
#error "VECTOR must be 1, 2, 4, 8 or 16"
#endif

#endif
