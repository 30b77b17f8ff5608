/* clcnn: the building blocks of convolutional networks as OpenCL kernels,
 * driven from C. Every op runs on one OpenCL device (a GPU, or the CPU
 * through POCL) in float32 or float64; tensors may also be stored in
 * float16 or bfloat16 (16-bit storage, float arithmetic; see clcnn_dtype).
 *
 * The ops
 *   clcnn_zero_pad                          pad H and W with zeros
 *   clcnn_conv_forward                      z = conv(a_prev, w) + b
 *   clcnn_conv_backward                     da_prev, dw, db from dz
 *   clcnn_pool_forward                      max or average pooling
 *   clcnn_pool_backward                     da_prev from da
 *   clcnn_conv_forward_ex, clcnn_conv_backward_ex   strides per axis,
 *                asymmetric padding, dilation, groups, no bias, fused ReLU
 *   clcnn_pool_forward_ex, clcnn_pool_backward_ex   rectangular windows,
 *                padding, count_include_pad, global pooling
 *   clcnn_relu_forward, clcnn_relu_backward
 *   clcnn_softmax_cross_entropy_forward, clcnn_softmax_cross_entropy_backward
 *   clcnn_sgd_update                        SGD with momentum and weight decay
 *   clcnn_tensor_convert                    a tensor in another dtype (0.3)
 * The first five are the numpy walkthrough "Convolutional Neural Networks:
 * Step by Step"; host/clcnn_reference.h has its functions in plain C, in
 * double precision, as the oracle of the tests.
 *
 * Notation (the walkthrough's)
 *   m            images in the batch
 *   n_H, n_W     height and width of an activation; n_C its channels
 *   n_H_prev, n_W_prev, n_C_prev   the same for a layer's input
 *   f (f_h, f_w) the window of a convolution or pooling; stride, pad
 *   a_prev       a layer's input (m, n_H_prev, n_W_prev, n_C_prev)
 *   w, b         weights (f_h, f_w, n_C_prev, n_C), bias (1, 1, 1, n_C)
 *   z            a convolution's output (m, n_H, n_W, n_C)
 *   dz, da, da_prev, dw, db   gradients of the loss with respect to z, a
 *                (a pooling's output), a_prev, w and b
 * Layout is NHWC (channels fastest), row-major, as numpy's arrays.
 *
 * The contract
 * - Every op validates all of its arguments before it enqueues anything.
 *   On error it returns the status, writes nothing to any output, and
 *   leaves a one-line message naming the op, the argument and the numbers
 *   in clcnn_context_last_error. A success does not clear that message:
 *   read it only after a call that failed.
 * - Ops are enqueued on the context's in-order queue and return without
 *   waiting; clcnn_tensor_read and clcnn_context_finish wait.
 * - All tensors of one call share one context and one dtype; an output
 *   that is also an input of the same call is refused. Gradients are
 *   overwritten, not accumulated.
 * - Results are deterministic: the same inputs on the same device give the
 *   same bits on every run (no atomics, fixed reduction orders).
 * - Failure contracts of the constructors: when clcnn_context_create fails,
 *   *ctx is still set to a context that holds only the error message (read
 *   it with clcnn_context_last_error, then destroy it); when
 *   clcnn_tensor_create fails, *tensor is NULL.
 * - Threads: a context and its tensors belong to one thread at a time;
 *   separate contexts may be used from separate threads concurrently.
 * - Nothing in the library prints, exits or aborts.
 *
 * Diagnostics (for tools and experiments, not needed to run a network):
 * clcnn_context_config, clcnn_context_tuning_notes, clcnn_context_workspace_bytes,
 * clcnn_context_build_warnings, clcnn_context_build_stats, clcnn_context_plan, clcnn_context_profile,
 * clcnn_context_launches. */
#ifndef CLCNN_H
#define CLCNN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CLCNN_BUILDING) && defined(__GNUC__)
#define CLCNN_API __attribute__((visibility("default")))
#else
#define CLCNN_API
#endif

#define CLCNN_VERSION_MAJOR 0
#define CLCNN_VERSION_MINOR 3
#define CLCNN_VERSION_PATCH 0
#define CLCNN_VERSION_STRING "0.3.0"

typedef enum clcnn_status {
    CLCNN_OK = 0,
    CLCNN_ERROR_INVALID_ARGUMENT = 1, /* NULL, stride < 1, pad < 0, f < 1, unknown mode, aliasing */
    CLCNN_ERROR_SHAPE = 2,            /* dims disagree, window too large, size overflow */
    CLCNN_ERROR_NO_DEVICE = 3,
    CLCNN_ERROR_UNSUPPORTED = 4,   /* e.g. FLOAT64 on a device without cl_khr_fp64 */
    CLCNN_ERROR_OUT_OF_MEMORY = 5, /* host or device allocation failed */
    CLCNN_ERROR_KERNEL_BUILD = 6,  /* a .cl file failed to build; message holds the build log */
    CLCNN_ERROR_OPENCL = 7         /* any other OpenCL error; message names it (CL_...) */
} clcnn_status;

/* The element type of a tensor. FLOAT16 and BFLOAT16 (0.3) are storage
 * formats on every device (no cl_khr_fp16 needed): kernels load them, compute
 * and accumulate in float, and round once, to nearest even, when they store
 * (float16 overflows to infinity; NaN stays NaN). Host data in
 * clcnn_tensor_write/read is 2 bytes per element: the IEEE binary16 bits for
 * FLOAT16, the top 16 bits of a float32 for BFLOAT16. The ops that take
 * them so far: clcnn_zero_pad, the conv ops (forward, backward and their
 * _ex forms; staged through float32 workspace, docs/api.md),
 * clcnn_relu_forward, clcnn_relu_backward, clcnn_sgd_update,
 * clcnn_softmax_cross_entropy_forward and _backward (and
 * clcnn_tensor_convert); the others refuse them with
 * CLCNN_ERROR_UNSUPPORTED before enqueueing anything: convert to float32
 * with clcnn_tensor_convert. */
typedef enum clcnn_dtype { CLCNN_FLOAT32 = 0, CLCNN_FLOAT64 = 1, CLCNN_FLOAT16 = 2, CLCNN_BFLOAT16 = 3 } clcnn_dtype;
typedef enum clcnn_pool_mode { CLCNN_POOL_MAX = 0, CLCNN_POOL_AVERAGE = 1 } clcnn_pool_mode;

typedef struct clcnn_context clcnn_context;
typedef struct clcnn_tensor clcnn_tensor;

/* A static, never-NULL name for a status ("CLCNN_ERROR_SHAPE: ..."). */
CLCNN_API const char *clcnn_status_string(clcnn_status status);
/* The library's CLCNN_VERSION_STRING, e.g. "0.3.0": that of the library
 * loaded, which may differ from the header a program was built with. */
CLCNN_API const char *clcnn_version(void);

/* ---- devices ---- */
typedef enum clcnn_device_type {
    CLCNN_DEVICE_TYPE_CPU = 0,
    CLCNN_DEVICE_TYPE_GPU = 1,
    CLCNN_DEVICE_TYPE_ACCELERATOR = 2,
    CLCNN_DEVICE_TYPE_OTHER = 3
} clcnn_device_type;

/* One OpenCL device as clcnn_devices_list reports it. */
typedef struct clcnn_device_info {
    unsigned platform_index, device_index; /* the "P:D" device spec */
    char platform[128];                    /* CL_PLATFORM_NAME */
    char name[256];                        /* CL_DEVICE_NAME */
    char driver_version[128];              /* CL_DRIVER_VERSION */
    char opencl_version[128];              /* CL_DEVICE_VERSION */
    clcnn_device_type type;
    unsigned compute_units;
    unsigned long long global_mem_bytes;
    unsigned long long max_alloc_bytes; /* the largest tensor the device takes */
    unsigned long long local_mem_bytes;
    size_t max_work_group_size;
    int fp64;   /* cl_khr_fp64: CLCNN_FLOAT64 works */
    int fp16;   /* cl_khr_fp16 */
    int chosen; /* the device `spec` selects (see below) */
} clcnn_device_info;

/* Every OpenCL device of every platform, in "P:D" order. Fills
 * devices[0 .. min(capacity, *count)) and sets *count to the number found;
 * devices may be NULL when capacity is 0, to count them. The device that
 * clcnn_context_create(spec, ...) would pick has `chosen` set (spec NULL:
 * the default choice, CLCNN_DEVICE honoured); none has it when spec matches
 * nothing. No OpenCL driver at all is CLCNN_OK with *count 0. Names longer
 * than their field are cut. */
CLCNN_API clcnn_status clcnn_devices_list(const char *spec, clcnn_device_info *devices, size_t capacity, size_t *count);

/* ---- contexts ---- */
/* device: NULL (CLCNN_DEVICE, else the first GPU, accelerator, CPU),
 * "gpu", "cpu", "P:D", or a case-insensitive substring of
 * "platform name" + " " + "device name". */
CLCNN_API clcnn_status clcnn_context_create(const char *device, clcnn_context **ctx);
/* Waits for the queue, then releases everything the context holds. Its
 * tensors stay valid handles to destroy (before or after), but no op may
 * use them any more. */
CLCNN_API void clcnn_context_destroy(clcnn_context *ctx); /* NULL is a no-op */
CLCNN_API const char *clcnn_context_device_name(const clcnn_context *ctx);
CLCNN_API const char *clcnn_context_last_error(const clcnn_context *ctx);
CLCNN_API clcnn_status clcnn_context_finish(clcnn_context *ctx);
/* Whether the context's device can run the dtype: FLOAT32, FLOAT16 and
 * BFLOAT16 everywhere, FLOAT64 where it has cl_khr_fp64. */
CLCNN_API int clcnn_context_supports_dtype(const clcnn_context *ctx, clcnn_dtype dtype);

/* ---- diagnostics ---- */
/* The kernels' tile configuration for this device, in the form the
 * CLCNN_TUNE environment variable accepts ("table=cpu,conv_tile_pixels=8,..."). */
CLCNN_API const char *clcnn_context_config(const clcnn_context *ctx);
/* The context's tuning from now on: CLCNN_TUNE's syntax ("key=value,...",
 * a CHOICE key's value by name or number, "table=cpu|gpu" to start from
 * that column), applied over what the context has: the default column,
 * then CLCNN_TUNE's keys, then earlier calls' keys. An unknown key or a
 * value out of range is CLCNN_ERROR_INVALID_ARGUMENT and changes nothing;
 * "" changes nothing. Layers planned from now on use it; clcnn_context_config
 * shows the result. (0.3) */
CLCNN_API clcnn_status clcnn_context_set_tuning(clcnn_context *ctx, const char *config);
/* What the context noted about its tuning, one line each: the items of
 * CLCNN_TUNE it skipped and why (an unknown key, a value out of range);
 * empty when it took everything. (0.3) */
CLCNN_API const char *clcnn_context_tuning_notes(const clcnn_context *ctx);
/* Bytes of scratch device memory the context holds for reuse (W transposed,
 * dW and db partial sums, pooling's argmax); bounded by the largest layer
 * run so far. */
CLCNN_API size_t clcnn_context_workspace_bytes(const clcnn_context *ctx);
/* What the OpenCL compiler said about the kernels this context built and
 * that built with messages (warnings), each headed by its file and
 * options, and a line "program cache: ..." when clcnn's program-binary
 * cache (CLCNN_CACHE) could not be written; empty when every build was
 * silent. A kernel that warns may run slower than intended, so the tests
 * require this to stay empty. */
CLCNN_API const char *clcnn_context_build_warnings(const clcnn_context *ctx);

/* The plan the op calls since the previous call of this took: each kernel
 * they asked for, in order, one line "FILE ENTRY DTYPE OPTIONS" (the kernel
 * file, its kernel, float32/float64 and the -D options the planner chose:
 * tiles, vectors, the kernel's variant), then forgets them. Valid until the
 * next call. A kernel asked for twice is listed twice; what passes 8 KiB
 * is counted, not kept. Launch geometry: clcnn_context_launches. (0.3) */
CLCNN_API const char *clcnn_context_plan(clcnn_context *ctx);

/* What compiling kernels has cost this context since its creation. A
 * program is one kernel file built for one dtype and one set of -D
 * options; build_seconds is the wall time of building programs and
 * creating their kernels. Drivers such as POCL compile a kernel's machine
 * code at its first enqueue for each work-group size, so each such first
 * launch runs alone (the queue is drained before it and waited for after
 * it) and its wall time, code generation and one run, is counted apart.
 * Counters only grow; compare two readings to see what a call cost. (0.3) */
typedef struct clcnn_build_stats {
    size_t programs;
    size_t cached_programs; /* of them, loaded from clcnn's program-binary cache (CLCNN_CACHE) */
    double build_seconds;
    size_t first_launches;
    double first_launch_seconds;
} clcnn_build_stats;
CLCNN_API clcnn_status clcnn_context_build_stats(clcnn_context *ctx, clcnn_build_stats *stats);

/* One kernel launch of an op, as clcnn_context_launches reports it. */
typedef struct clcnn_launch {
    char kernel[64];            /* CL_KERNEL_FUNCTION_NAME */
    unsigned dims;              /* work dimensions, 1 to 3 */
    size_t global[3], local[3]; /* as enqueued (global a multiple of local); 1 past dims */
    double ms;                  /* device time, CL_PROFILING_COMMAND_START to _END */
} clcnn_launch;
/* enable 1: from now on every kernel launch of the context is recorded
 * with its device time. A context's own queue is recreated with
 * CL_QUEUE_PROFILING_ENABLE once the queue has finished; a caller's queue
 * (clcnn_context_create_from_queue) must have been created with that
 * property, else CLCNN_ERROR_UNSUPPORTED. enable 0: stop, forget what was
 * not read, and give a queue of the context's own its plain properties
 * back. Profiling costs some launch time on most devices. */
CLCNN_API clcnn_status clcnn_context_profile(clcnn_context *ctx, int enable);
/* Waits for the queue, then fills records[0 .. min(capacity, *count))
 * with the launches since profiling was enabled or since the previous
 * call, in the order they were enqueued, and forgets them; *count is how
 * many there were. The context keeps at most 1024 between calls, and
 * those past capacity or past that are counted but not reported. records
 * may be NULL when capacity is 0. Profiling off: CLCNN_ERROR_INVALID_ARGUMENT. */
CLCNN_API clcnn_status clcnn_context_launches(clcnn_context *ctx, clcnn_launch *records, size_t capacity,
                                              size_t *count);

/* ---- tensors ---- */
/* A dim of 0, a size that overflows size_t or exceeds the device's largest
 * allocation is CLCNN_ERROR_SHAPE. The contents start undefined. On any
 * failure *tensor is NULL. */
CLCNN_API clcnn_status clcnn_tensor_create(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4],
                                           clcnn_tensor **tensor);
CLCNN_API void clcnn_tensor_destroy(clcnn_tensor *tensor); /* NULL is a no-op */
CLCNN_API void clcnn_tensor_dims(const clcnn_tensor *tensor, size_t dims[4]);
CLCNN_API clcnn_dtype clcnn_tensor_dtype(const clcnn_tensor *tensor);
/* bytes must be exactly the tensor's size (elements * 4, 8 or 2); the
 * bytes are the dtype's own (see clcnn_dtype), copied as they are. */
CLCNN_API clcnn_status clcnn_tensor_write(clcnn_tensor *tensor, const void *src, size_t bytes);
CLCNN_API clcnn_status clcnn_tensor_read(const clcnn_tensor *tensor, void *dst, size_t bytes);

/* ---- the walkthrough's ops ---- */
/* x_pad = x with `pad` zeros around H and W: (m, n_H + 2pad, n_W + 2pad, n_C). */
CLCNN_API clcnn_status clcnn_zero_pad(clcnn_context *ctx, const clcnn_tensor *x, int pad, clcnn_tensor *x_pad);
/* z = conv(a_prev, w) + b; padding is implicit (never materialised). */
CLCNN_API clcnn_status clcnn_conv_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                          const clcnn_tensor *b, int stride, int pad, clcnn_tensor *z);
/* Gradients of conv_forward; any of da_prev, dw, db may be NULL (not
 * computed), not all three. They are overwritten, not accumulated. */
CLCNN_API clcnn_status clcnn_conv_backward(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                           const clcnn_tensor *w, int stride, int pad, clcnn_tensor *da_prev,
                                           clcnn_tensor *dw, clcnn_tensor *db);
/* Max mode: a window with a NaN gives NaN, as in PyTorch. */
CLCNN_API clcnn_status clcnn_pool_forward(clcnn_context *ctx, const clcnn_tensor *a_prev, int f, int stride,
                                          clcnn_pool_mode mode, clcnn_tensor *a);
/* Max mode gives each window's gradient to its first maximum in row-major
 * (h, then w) order, or to its last NaN where it holds one: the element
 * PyTorch's max_pool2d picks. */
CLCNN_API clcnn_status clcnn_pool_backward(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                           int f, int stride, clcnn_pool_mode mode, clcnn_tensor *da_prev);

/* ---- version 0.2: general convolution and pooling ----
 * The ops real networks use beyond the walkthrough: per-axis strides,
 * asymmetric padding, dilation, groups (depthwise included), no bias, a
 * fused ReLU; pooling with rectangular windows, padding and global
 * pooling. The walkthrough's ops above are the special case with the
 * *_params_default values: the same results, bit for bit. */
typedef enum clcnn_activation { CLCNN_ACTIVATION_NONE = 0, CLCNN_ACTIVATION_RELU = 1 } clcnn_activation;

typedef struct clcnn_conv_params {
    int stride_h, stride_w;                       /* >= 1 */
    int pad_top, pad_bottom, pad_left, pad_right; /* >= 0 */
    int dilation_h, dilation_w;                   /* >= 1; 1 is a dense window */
    int groups;                                   /* >= 1; divides n_C_prev and n_C */
} clcnn_conv_params;

/* {stride, stride, pad, pad, pad, pad, 1, 1, 1}: the walkthrough's hyperparameters. */
CLCNN_API clcnn_conv_params clcnn_conv_params_default(int stride, int pad);

/* w is (f_h, f_w, n_C_prev / groups, n_C). Group g maps input channels
 * [g*n_C_prev/groups, (g+1)*n_C_prev/groups) to output channels
 * [g*n_C/groups, (g+1)*n_C/groups), as in PyTorch. Depthwise convolution is
 * groups = n_C_prev with w (f_h, f_w, 1, n_C_prev * multiplier).
 * n_H = (n_H_prev + pad_top + pad_bottom - dilation_h*(f_h-1) - 1) / stride_h + 1
 * (floor; likewise n_W). b may be NULL (no bias). act is applied after the
 * bias in the same pass (z = relu(conv + b) without a second kernel). */
CLCNN_API clcnn_status clcnn_conv_forward_ex(clcnn_context *ctx, const clcnn_tensor *a_prev, const clcnn_tensor *w,
                                             const clcnn_tensor *b, const clcnn_conv_params *params,
                                             clcnn_activation act, clcnn_tensor *z);
/* Gradients of clcnn_conv_forward_ex with act = NONE (for a fused ReLU, pass
 * dz through clcnn_relu_backward with the forward's output first). Any of
 * da_prev, dw, db may be NULL, not all three; db NULL is the only choice
 * when the forward had no bias. */
CLCNN_API clcnn_status clcnn_conv_backward_ex(clcnn_context *ctx, const clcnn_tensor *dz, const clcnn_tensor *a_prev,
                                              const clcnn_tensor *w, const clcnn_conv_params *params,
                                              clcnn_tensor *da_prev, clcnn_tensor *dw, clcnn_tensor *db);

typedef struct clcnn_pool_params {
    int f_h, f_w;                                 /* >= 1 */
    int stride_h, stride_w;                       /* >= 1 */
    int pad_top, pad_bottom, pad_left, pad_right; /* >= 0, each < the window on its axis */
    int count_include_pad;                        /* average: 1 divides by f_h*f_w,
                                                     0 by the number of in-image pixels */
} clcnn_pool_params;

/* {f, f, stride, stride, 0, 0, 0, 0, 1}: the walkthrough's hyperparameters. */
CLCNN_API clcnn_pool_params clcnn_pool_params_default(int f, int stride);

/* n_H = (n_H_prev + pad_top + pad_bottom - f_h) / stride_h + 1 (floor).
 * Padding never wins a max and adds nothing to an average's sum. Global
 * average pooling is f_h = n_H_prev, f_w = n_W_prev. */
CLCNN_API clcnn_status clcnn_pool_forward_ex(clcnn_context *ctx, const clcnn_tensor *a_prev,
                                             const clcnn_pool_params *params, clcnn_pool_mode mode, clcnn_tensor *a);
CLCNN_API clcnn_status clcnn_pool_backward_ex(clcnn_context *ctx, const clcnn_tensor *da, const clcnn_tensor *a_prev,
                                              const clcnn_pool_params *params, clcnn_pool_mode mode,
                                              clcnn_tensor *da_prev);

/* ---- version 0.3: output shapes ---- */
/* Output dims of a layer, validated like the op itself (same errors, same
 * messages), so bindings need not compute them: z_dims of
 * clcnn_conv_forward_ex (and of clcnn_conv_forward with
 * clcnn_conv_params_default(stride, pad)) for an a_prev and a w of those
 * dims, a_dims of clcnn_pool_forward_ex (clcnn_pool_forward with
 * clcnn_pool_params_default(f, stride)). Dims a tensor could not have
 * (a 0, a size that overflows) are refused as clcnn_tensor_create refuses
 * them. The messages name conv_output_dims and pool_output_dims; on error
 * the output dims are not written. */
CLCNN_API clcnn_status clcnn_conv_output_dims(clcnn_context *ctx, const size_t a_prev_dims[4], const size_t w_dims[4],
                                              const clcnn_conv_params *params, size_t z_dims[4]);
CLCNN_API clcnn_status clcnn_pool_output_dims(clcnn_context *ctx, const size_t a_prev_dims[4],
                                              const clcnn_pool_params *params, size_t a_dims[4]);

/* ---- training ops ---- */
/* The rest of a training loop: ReLU, softmax with cross-entropy loss, and
 * the SGD parameter update. A fully connected layer needs no op of its own:
 * it is clcnn_conv_forward/_backward with a window as large as the input
 * (w of dims (n_H_prev, n_W_prev, n_C_prev, units), stride 1, pad 0), which
 * gives z of dims (m, 1, 1, units). Same rules as the ops above: all tensors
 * of one call share a context and a dtype, outputs may not alias inputs,
 * nothing is enqueued when a call fails. */

/* y = x where x >= 0, else 0, element-wise; y has x's dims. NaN stays NaN. */
CLCNN_API clcnn_status clcnn_relu_forward(clcnn_context *ctx, const clcnn_tensor *x, clcnn_tensor *y);
/* dx = 0 where x <= 0, else dy (the gradient at 0 is 0; where x is NaN, dy,
 * as PyTorch gives); all three have the same dims. x may be relu_forward's
 * input or its output y: they are positive, or NaN, at the same places, so
 * a caller may keep only y. */
CLCNN_API clcnn_status clcnn_relu_backward(clcnn_context *ctx, const clcnn_tensor *dy, const clcnn_tensor *x,
                                           clcnn_tensor *dx);
/* Softmax over the channel axis and cross-entropy against class labels, for
 * each of the rows = m * n_H * n_W pixels of logits (m, n_H, n_W, K):
 *   probs (m, n_H, n_W, K)    softmax of each row
 *   loss  (m, n_H, n_W, 1)    -log probs[label] of each row
 *   mean_loss (1, 1, 1, 1)    the mean of loss over the rows
 * labels (m, n_H, n_W, 1) hold class indices 0 .. K-1 as numbers of the
 * tensors' dtype; with 16-bit tensors they may also be float32, the one
 * exception to one dtype a call (bfloat16 holds integers exactly only up to
 * 256, float16 up to 2048: 16-bit labels with more classes are refused,
 * CLCNN_ERROR_INVALID_ARGUMENT). In 16 bits the mean is summed from the
 * rows' unrounded float losses. Numerically stable (each row's maximum is subtracted
 * before exp; the loss is log(sum exp) - (z[label] - max)), and the mean is
 * a fixed-order reduction, so it is the same bits on every run. The host
 * cannot see the labels without reading them back, so they are not
 * validated: a label that is not an integer in [0, K) gives that row a NaN
 * loss, and so a NaN mean (its probs are still right). */
CLCNN_API clcnn_status clcnn_softmax_cross_entropy_forward(clcnn_context *ctx, const clcnn_tensor *logits,
                                                           const clcnn_tensor *labels, clcnn_tensor *probs,
                                                           clcnn_tensor *loss, clcnn_tensor *mean_loss);
/* The gradient of mean_loss with respect to the logits:
 * dlogits = (probs - onehot(label)) / rows, from the forward's probs.
 * Rows with an invalid label (see above) get NaN. */
CLCNN_API clcnn_status clcnn_softmax_cross_entropy_backward(clcnn_context *ctx, const clcnn_tensor *probs,
                                                            const clcnn_tensor *labels, clcnn_tensor *dlogits);
/* One step of SGD with momentum and L2 weight decay, in place (PyTorch's SGD
 * without dampening or Nesterov):
 *   g = grad + weight_decay * param
 *   velocity = momentum * velocity + g
 *   param = param - lr * velocity
 * param, grad and velocity have the same dims and are three different
 * tensors; velocity starts at zero (write zeros once) and may be NULL when
 * momentum is 0 (then param -= lr * g). lr >= 0, 0 <= momentum <= 1 and
 * weight_decay >= 0, all finite; float32 and 16-bit tensors use them
 * rounded to float (16-bit: the step in float from the loaded values, param
 * and velocity each rounded once as stored). */
CLCNN_API clcnn_status clcnn_sgd_update(clcnn_context *ctx, clcnn_tensor *param, const clcnn_tensor *grad,
                                        clcnn_tensor *velocity, double lr, double momentum, double weight_decay);

/* ---- dtype conversion (0.3) ---- */
/* dst = src converted to dst's dtype (same dims, same context), on the
 * device, rounding to nearest even; NaN stays NaN, float16 overflow is
 * infinity. float64 is rounded once, straight to 16 bits (never through
 * float). src and dst are different tensors; enqueued like an op. (0.3) */
CLCNN_API clcnn_status clcnn_tensor_convert(clcnn_context *ctx, const clcnn_tensor *src, clcnn_tensor *dst);

/* ---- compiling ahead (0.3) ---- */
/* A network's layers for clcnn_context_prepare: each entry names an op
 * and the shapes it will be called with. */
typedef enum clcnn_prepare_op {
    CLCNN_PREPARE_CONV_FORWARD = 0,  /* clcnn_conv_forward_ex: input a_prev, weights w, conv, has_bias, act */
    CLCNN_PREPARE_CONV_BACKWARD = 1, /* clcnn_conv_backward_ex: input a_prev, weights w, conv, gradients */
    CLCNN_PREPARE_POOL_FORWARD = 2,  /* clcnn_pool_forward_ex: input a_prev, pool, mode */
    CLCNN_PREPARE_POOL_BACKWARD = 3, /* clcnn_pool_backward_ex: input a_prev, pool, mode */
    CLCNN_PREPARE_RELU_FORWARD = 4,  /* input x */
    CLCNN_PREPARE_RELU_BACKWARD = 5, /* input x */
    CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_FORWARD = 6,  /* input logits */
    CLCNN_PREPARE_SOFTMAX_CROSS_ENTROPY_BACKWARD = 7, /* input logits */
    CLCNN_PREPARE_SGD_UPDATE = 8,                     /* input param; momentum (0: no velocity) */
    CLCNN_PREPARE_ZERO_PAD = 9                        /* input x, pad */
} clcnn_prepare_op;
/* conv backward's outputs (gradients): any of these or'ed; 0 means all three. */
#define CLCNN_PREPARE_DA 1
#define CLCNN_PREPARE_DW 2
#define CLCNN_PREPARE_DB 4
typedef struct clcnn_layer_spec {
    clcnn_prepare_op op;
    clcnn_dtype dtype;
    size_t input_dims[4];
    size_t weight_dims[4];  /* conv ops: w's dims */
    clcnn_conv_params conv; /* conv ops */
    clcnn_pool_params pool; /* pool ops */
    clcnn_pool_mode mode;   /* pool ops */
    int has_bias;           /* conv forward: with b */
    clcnn_activation act;   /* conv forward */
    int gradients;          /* conv backward: CLCNN_PREPARE_DA | _DW | _DB, 0 for all */
    int pad;                /* zero_pad */
    double momentum;        /* sgd_update */
} clcnn_layer_spec;
/* Compiles ahead what layers[0 .. count) will need: every program their
 * plans take is built, and each of their kernels is launched once at the
 * work-group sizes the plan uses, on scratch tensors of the layer's shapes
 * filled with zeros (drivers such as POCL generate machine code at a
 * kernel's first launch per work-group size), so that the network's first
 * real call runs at speed. The scratch tensors are freed before it
 * returns; the work it launched is finished. Each layer is validated as its
 * op validates it; on an error it stops at the first layer that fails, in
 * the list's order, and the message names the layer's index and op. */
CLCNN_API clcnn_status clcnn_context_prepare(clcnn_context *ctx, const clcnn_layer_spec *layers, size_t count);

#ifdef __cplusplus
}
#endif
#endif
