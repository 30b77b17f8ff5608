/* clcnn inside a caller's OpenCL program: contexts on the caller's command
 * queue and tensors over the caller's buffers, with no copy. The only
 * public clcnn header that includes <CL/cl.h>; clcnn.h has the rest of the
 * API and stays free of OpenCL types.
 *
 * Define CL_TARGET_OPENCL_VERSION before including this header, as for
 * <CL/cl.h> itself (clcnn needs OpenCL 1.2: 120 or more).
 *
 * A typical use: the caller's kernels write a buffer, clcnn's ops read it
 * and write another, the caller's kernels go on, all in the order of one
 * in-order queue, with no host round trip and no clFinish in between
 * (examples/own_queue.c).
 *
 * The contract of clcnn.h holds for these contexts and tensors: every op
 * validates before it enqueues, a failing call records a message in
 * clcnn_context_last_error, results are deterministic, and all tensors of
 * one call belong to one clcnn context (two clcnn contexts on the same
 * queue are still two contexts). */
#ifndef CLCNN_CL_H
#define CLCNN_CL_H

#include <CL/cl.h>

#include "clcnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A context on the caller's in-order queue (retained, released at destroy);
 * the device and cl_context are the queue's. Every op is enqueued on it, so
 * it orders with the caller's own commands. An out-of-order queue is
 * CLCNN_ERROR_UNSUPPORTED. As with clcnn_context_create, *ctx is set even
 * on failure, to a context that holds only the message (nothing of the
 * caller's is retained then); destroy it as usual. clcnn_context_destroy
 * waits for the queue (clFinish), the caller's commands included, then
 * releases the queue and the cl_context: their reference counts are back
 * where they were before the create. */
CLCNN_API clcnn_status clcnn_context_create_from_queue(cl_command_queue queue, clcnn_context **ctx);
/* The context's queue, not retained: the caller's for a context made by
 * clcnn_context_create_from_queue, clcnn's own for clcnn_context_create
 * (so that a caller can enqueue its own commands in order with the ops).
 * NULL for NULL or for a context that failed to be created. */
CLCNN_API cl_command_queue clcnn_context_queue(const clcnn_context *ctx); /* not retained */

/* A tensor over the caller's buffer (retained, released at destroy) from
 * byte `offset`: no copy. The buffer must belong to the context's cl_context
 * and hold offset + the tensor's bytes; offset must be a multiple of the
 * device's CL_DEVICE_MEM_BASE_ADDR_ALIGN (in bytes). Anything else is an
 * error with a message, and nothing is retained.
 *
 * Also refused: a buffer created CL_MEM_READ_ONLY or CL_MEM_WRITE_ONLY
 * (any tensor may be an op's input or output, so clcnn's kernels read and
 * write tensors), and an image. The same checks on dtype and dims as
 * clcnn_tensor_create apply. On any failure *tensor is NULL.
 *
 * clcnn reads and writes only the tensor's bytes; the rest of the buffer
 * is the caller's. Several tensors may wrap parts of one buffer; an op
 * refuses an output whose bytes overlap another argument's, as it refuses
 * an output that is also an input. clcnn_tensor_write and _read move the
 * tensor's bytes from `offset` on. */
CLCNN_API clcnn_status clcnn_tensor_wrap(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], cl_mem buffer,
                                         size_t offset, clcnn_tensor **tensor);
/* The tensor's buffer, not retained, and in *offset (may be NULL) where its
 * first element lies in it: for a wrapped tensor the caller's buffer and
 * offset, for clcnn_tensor_create's tensors a buffer of clcnn's own and 0.
 * A caller may enqueue its own kernels on that buffer in the context's
 * queue, between clcnn's ops. NULL (and 0) for NULL. */
CLCNN_API cl_mem clcnn_tensor_buffer(const clcnn_tensor *tensor, size_t *offset); /* not retained */

#ifdef __cplusplus
}
#endif
#endif
