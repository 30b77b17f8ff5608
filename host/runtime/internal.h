/* Library-private declarations shared by the host files: the context and
 * tensor structs, error reporting, the program cache and launch helpers. */
#ifndef CLCNN_INTERNAL_H
#define CLCNN_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>

#include "clcnn.h"
#include "program.h"
#include "tuning_db.h"
#include "tuning_table.h"

#define CLCNN_ERROR_CAPACITY 8192

/* The context's reusable scratch buffers, one per use, so that one call
 * can hold several at once. */
typedef enum clcnn_workspace_slot {
    CLCNN_WORKSPACE_WEIGHTS_T,    /* conv dA: W transposed */
    CLCNN_WORKSPACE_FILTER_PARTS, /* conv dW: partial sums per chunk */
    CLCNN_WORKSPACE_BIAS_PARTS,   /* conv db: partial sums per chunk */
    CLCNN_WORKSPACE_POOL_ARGMAX,  /* max pool backward: each window's argmax */
    CLCNN_WORKSPACE_SOFTMAX_LOSSES, /* softmax forward in 16 bits: each row's loss in float */
    /* conv in 16 bits: float32 copies of the call's tensors, which the
     * float32 path runs on (conv.c, stage); apart from the slots above,
     * which that path takes for itself. */
    CLCNN_WORKSPACE_STAGE_A,  /* a_prev */
    CLCNN_WORKSPACE_STAGE_W,  /* w */
    CLCNN_WORKSPACE_STAGE_B,  /* b, or db */
    CLCNN_WORKSPACE_STAGE_Z,  /* z, or dz */
    CLCNN_WORKSPACE_STAGE_DA, /* da_prev */
    CLCNN_WORKSPACE_STAGE_DW, /* dw */
    CLCNN_WORKSPACE_SLOTS
} clcnn_workspace_slot;

/* The per-device launch configuration (tuning_table.h): tile sizes and
 * group sizes passed to the kernels as -D options or used as local sizes.
 * Chosen from the device class at context creation (tuning.c), overridable
 * with CLCNN_TUNE for experiments. */
typedef struct clcnn_tuning {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) type name;
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
} clcnn_tuning;

/* The config string's room (tuning.c, clcnn_context_config): "table=gpu",
 * then ",key=value" for each key of the table with the widest int, so that
 * no key the table gains can cut it short. */
#define CLCNN_CONFIG_ITEM(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)                                   \
    +(sizeof "," #name "=-2147483648" - 1)
#define CLCNN_CONFIG_CAPACITY (sizeof "table=gpu" CLCNN_TUNING_KEYS(CLCNN_CONFIG_ITEM))

/* What the default tuning depends on. */
typedef struct clcnn_device_facts {
    unsigned simd_floats; /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT: 16 on AVX-512 */
    size_t max_work_group_size;
    unsigned long long local_mem;
} clcnn_device_facts;

#define CLCNN_TUNING_COUNT_KEY(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) +1
enum { CLCNN_TUNING_KEY_COUNT = 0 CLCNN_TUNING_KEYS(CLCNN_TUNING_COUNT_KEY) };

/* Keys one source of tuning sets (CLCNN_TUNE, clcnn_context_set_tuning, a
 * row of the tuning database), by their place in the table, and the
 * default column it asks for (-1: it does not say). */
typedef struct clcnn_tuning_overrides {
    int table;
    unsigned char set[CLCNN_TUNING_KEY_COUNT];
    int value[CLCNN_TUNING_KEY_COUNT];
} clcnn_tuning_overrides;

/* A testing hook, not an API: CLCNN_FAULT_INJECT="alloc:N" makes the Nth
 * device allocation of a context (tensor or workspace, counted from 1) fail
 * with CL_MEM_OBJECT_ALLOCATION_FAILURE, "enqueue:N" its Nth kernel enqueue
 * with CL_OUT_OF_RESOURCES, so that tests reach the failure paths a real
 * device seldom takes. Read once at context creation; the counters always
 * run (the fuzzer reads them to see that a refused call enqueued nothing). */
typedef enum clcnn_fault_point {
    CLCNN_FAULT_ALLOC = 0,
    CLCNN_FAULT_ENQUEUE = 1,
    CLCNN_FAULT_CACHE_WRITE = 2, /* "cache_write:N": the Nth program-cache write finds its directory unwritable */
    CLCNN_FAULT_POINTS
} clcnn_fault_point;
typedef struct clcnn_fault {
    unsigned long count[CLCNN_FAULT_POINTS]; /* events so far, by clcnn_fault_point */
    int point;              /* the counter that fails, or -1 */
    unsigned long at;       /* the value of that counter that fails */
} clcnn_fault;

struct clcnn_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_device_type device_type;
    int has_fp64;
    size_t max_work_group_size;
    cl_ulong max_alloc;
    cl_ulong local_mem;
    cl_uint compute_units;
    char device_name[256];
    char *kernel_dir;    /* CLCNN_KERNEL_DIR at creation, or NULL */
    char *extra_options; /* CLCNN_BUILD_OPTIONS at creation, or NULL */
    /* The tuning: the default column (from the device type), under what
     * CLCNN_TUNE sets, under what clcnn_context_set_tuning set (tuning.c). */
    clcnn_device_facts facts;
    int default_table;
    clcnn_tuning_overrides tune_env, tune_user;
    clcnn_tuning_db tuning_db; /* this device's rows (tuning_db.c); empty without a file */
    clcnn_tuning tuning;
    char config[CLCNN_CONFIG_CAPACITY];      /* tuning as text, for clcnn_context_config */
    char tuning_notes[CLCNN_ERROR_CAPACITY]; /* for clcnn_context_tuning_notes */
    clcnn_program *programs;                 /* the cache: built on first use, kept */
    cl_mem workspace[CLCNN_WORKSPACE_SLOTS];
    size_t workspace_bytes[CLCNN_WORKSPACE_SLOTS];
    char last_error[CLCNN_ERROR_CAPACITY];
    char build_warnings[CLCNN_ERROR_CAPACITY]; /* the non-empty logs of successful builds */
    /* clcnn_context_plan: the kernels ops took since it was last called,
     * and the copy it hands out. */
    char plan_log[CLCNN_ERROR_CAPACITY], plan_read[CLCNN_ERROR_CAPACITY + 64];
    unsigned long plan_dropped;
    clcnn_build_stats builds; /* clcnn_context_build_stats (program.c) */
    /* The program-binary cache (program_cache.c). */
    struct {
        int on, unwritable;
        char dir[1024];
        char identity[1536]; /* the header lines every file of this device starts with */
    } cache;
    clcnn_fault fault; /* testing hook, see clcnn_fault */
    int own_queue;     /* the queue is clcnn's (clcnn_context_create), not a caller's */
    /* clcnn_context_profile: while `profiling`, launches (CLCNN_LAUNCHES_KEPT
     * of them) record their events for clcnn_context_launches; the rest are
     * only counted. */
    int profiling;
    struct clcnn_recorded_launch *launches;
    size_t launch_count, launches_dropped;
};

#define CLCNN_LAUNCHES_KEPT 1024
typedef struct clcnn_recorded_launch {
    cl_event event;
    clcnn_launch launch; /* all but ms, which the event gives */
} clcnn_recorded_launch;
/* Releases the recorded launches' events and forgets them (program.c). */
void clcnn__forget_launches(clcnn_context *ctx);

struct clcnn_tensor {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    size_t dims[4];
    size_t count;
    size_t bytes;
    cl_mem mem; /* what the kernels get: element 0 at byte 0 */
    /* clcnn_tensor_wrap (embed.c): the caller's buffer, retained, and the
     * byte offset of element 0 in it; mem is then a sub-buffer of it (or
     * the buffer itself at offset 0). NULL for clcnn's own tensors. */
    cl_mem wrapped;
    size_t offset;
    /* The buffer that owns the bytes (never a sub-buffer) and where element
     * 0 lies in it, so that two handles over the same bytes count as
     * aliases; NULL for clcnn's own tensors, whose storage is mem. */
    cl_mem storage;
    size_t storage_offset;
};

/* Records a printf-style message in ctx (may be NULL) and returns status. */
clcnn_status clcnn__fail(clcnn_context *ctx, clcnn_status status, const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *clcnn__cl_error_name(cl_int err);
/* Maps an OpenCL error of `what` in `op` to a status with a message. */
clcnn_status clcnn__cl_fail(clcnn_context *ctx, const char *op, const char *what, cl_int err);

/* Counts one call at `point` and returns the error to inject there, or
 * CL_SUCCESS (context.c; see clcnn_fault). Call it right before the
 * clCreateBuffer or clEnqueueNDRangeKernel it stands for. */
cl_int clcnn__fault_point(clcnn_context *ctx, clcnn_fault_point point);

/* Context construction (context.c), shared by clcnn_context_create and
 * clcnn_context_create_from_queue (embed.c). The first allocates a zeroed
 * context into *out (NULL when the host is out of memory) and reads the
 * fault-injection hook; once platform and device are set, the second
 * reads the device's facts, the environment's settings and the tuning,
 * and cannot fail. */
clcnn_status clcnn__context_alloc(clcnn_context **out);
void clcnn__context_setup(clcnn_context *ctx);

/* Device selection (device.c). */
clcnn_status clcnn__select_device(clcnn_context *ctx, const char *spec);
/* Sets ctx->tuning and ctx->config from the device and CLCNN_TUNE, noting
 * the items of CLCNN_TUNE it cannot take (tuning.c). */
void clcnn__tuning_init(clcnn_context *ctx);
/* Plans one layer under its own tuning: ctx->tuning becomes the column,
 * the database's class row and exact row for `key`, CLCNN_TUNE's keys and
 * clcnn_context_set_tuning's, in that order, until clcnn__tuning_layer_end
 * puts back the context's (saved here). Without database rows for the
 * layer, nothing changes. */
void clcnn__tuning_layer_begin(clcnn_context *ctx, const clcnn_tuning_layer_key *key, clcnn_tuning *saved);
void clcnn__tuning_layer_end(clcnn_context *ctx, const clcnn_tuning *saved);
/* Releases what clcnn__tuning_init read (the database). */
void clcnn__tuning_release(clcnn_context *ctx);
/* Whether the device lists the extension `name` (a whole word of CL_DEVICE_EXTENSIONS). */
int clcnn__device_has_extension(cl_device_id device, const char *name);

/* Validation helpers (tensor.c). Each returns CLCNN_OK or records why not. */
clcnn_status clcnn__check_context(clcnn_context *ctx, const char *op);
/* clcnn__check_context, then clcnn__check_tensor of the call's first tensor
 * t, whose dtype sets the one every other tensor must have. */
clcnn_status clcnn__check_first(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t);
/* The dtype and dims of a new tensor (created or wrapped): a known dtype the
 * device runs, no dim 0, and a byte size that fits size_t; sets *count. */
clcnn_status clcnn__check_new_tensor(clcnn_context *ctx, const char *op, clcnn_dtype dtype, const size_t dims[4],
                                     size_t *count);
/* An op that does not take 16-bit dtypes yet: CLCNN_ERROR_UNSUPPORTED
 * when t (the call's first tensor, already checked) is float16 or bfloat16,
 * with a message saying how to run it in float32. */
clcnn_status clcnn__refuse_16bit(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t);
/* t is non-NULL, of ctx, of dtype, and small enough for 32-bit offsets. */
clcnn_status clcnn__check_tensor(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t,
                                 clcnn_dtype dtype);
clcnn_status clcnn__check_dims(clcnn_context *ctx, const char *op, const char *name, const clcnn_tensor *t,
                               const size_t want[4]);
clcnn_status clcnn__check_distinct(clcnn_context *ctx, const char *op, const char *out_name, const clcnn_tensor *out,
                                   const char *in_name, const clcnn_tensor *in);
/* A call's tensors by the names its messages give them; an output with
 * the dims it must have. */
typedef struct clcnn_named_input {
    const char *name;
    const clcnn_tensor *t;
} clcnn_named_input;
typedef struct clcnn_named_output {
    const char *name;
    const clcnn_tensor *t;
    const size_t *dims;
} clcnn_named_output;
/* Each output in turn: clcnn__check_tensor, clcnn__check_dims, then
 * distinct from every input and every output before it. With `optional`
 * a NULL output (a result the caller did not ask for) is passed over. */
clcnn_status clcnn__check_outputs(clcnn_context *ctx, const char *op, clcnn_dtype dtype, const clcnn_named_output *outs,
                                  int n_outs, const clcnn_named_input *ins, int n_ins, int optional);
/* Scratch buffer `slot` of at least `bytes`, grown on demand and kept. */
clcnn_status clcnn__workspace(clcnn_context *ctx, const char *op, clcnn_workspace_slot slot, size_t bytes, cl_mem *out);
/* Total bytes of scratch the context holds now (reported by bench). */
size_t clcnn__workspace_total(const clcnn_context *ctx);

/* The program cache (program.c): builds kernels/<file> for dtype with the
 * extra -D options on first use and returns the kernel `entry` of it. */
clcnn_status clcnn__get_kernel(clcnn_context *ctx, const char *op, clcnn_kernel_file file, clcnn_dtype dtype,
                               const char *options, const char *entry, cl_kernel *out);
void clcnn__release_programs(clcnn_context *ctx);
/* A kernel as a plan names it (the ops' pure planners): entry of file,
 * built with these -D options for the call's dtype. */
#define CLCNN_PLAN_OPTIONS_CAPACITY 256
typedef struct clcnn_kernel_plan {
    clcnn_kernel_file file;
    const char *entry; /* a string literal; NULL: no such launch */
    char options[CLCNN_PLAN_OPTIONS_CAPACITY];
} clcnn_kernel_plan;
/* clcnn__get_kernel for what plan names. */
clcnn_status clcnn__get_planned_kernel(clcnn_context *ctx, const char *op, clcnn_dtype dtype,
                                       const clcnn_kernel_plan *plan, cl_kernel *out);

/* Kernel launch helpers (program.c). */
typedef struct clcnn_arg {
    size_t size;
    const void *value;
} clcnn_arg;
#define CLCNN_ARG(x) ((clcnn_arg){sizeof(x), &(x)})
clcnn_status clcnn__set_args(clcnn_context *ctx, const char *op, cl_kernel kernel, const clcnn_arg *args, int count);
/* Enqueues an ND-range: global sizes are rounded up to multiples of local. */
clcnn_status clcnn__launch(clcnn_context *ctx, const char *op, cl_kernel kernel, cl_uint dims, const size_t global[],
                           const size_t local[]);
/* Largest work-group size `kernel` may run with on this device. */
size_t clcnn__kernel_wg_limit(clcnn_context *ctx, cl_kernel kernel);
/* Whether an op whose kernel writes out_bytes asks for non-temporal stores
 * (-DSTREAM_STORES=1, STORE_OUTPUT in kernels/common.h) under the tuning t;
 * aligned: every vector store of the kernel is aligned, as such stores
 * require. Non-temporal stores skip reading each line before overwriting it. The threshold is a size of
 * its own (stream_min_kib), not a fraction of
 * CL_DEVICE_GLOBAL_MEM_CACHE_SIZE: a virtual machine may report a whole
 * host's last-level cache, and then a fraction never fires. */
static inline int clcnn__tuning_stream_stores(const clcnn_tuning *t, size_t out_bytes, int aligned)
{
    return t->use_stream_stores && out_bytes >= (size_t)t->stream_min_kib << 10 && aligned;
}

static inline size_t clcnn__round_up(size_t x, size_t to)
{
    return (x + to - 1) / to * to;
}
static inline size_t clcnn__div_up(size_t x, size_t by)
{
    return (x + by - 1) / by;
}
static inline int clcnn__dtype_is_16bit(clcnn_dtype d)
{
    return d == CLCNN_FLOAT16 || d == CLCNN_BFLOAT16;
}
static inline size_t clcnn__dtype_size(clcnn_dtype d)
{
    return d == CLCNN_FLOAT64 ? 8 : clcnn__dtype_is_16bit(d) ? 2 : 4;
}
static inline const char *clcnn__dtype_name(clcnn_dtype d)
{
    switch (d) {
    case CLCNN_FLOAT32: return "float32";
    case CLCNN_FLOAT64: return "float64";
    case CLCNN_FLOAT16: return "float16";
    case CLCNN_BFLOAT16: return "bfloat16";
    }
    return "unknown";
}
/* The -D that selects a dtype's storage and arithmetic in kernels/common.h
 * (part of every program's options, so of its cache key); "" for float32. */
static inline const char *clcnn__dtype_define(clcnn_dtype d)
{
    switch (d) {
    case CLCNN_FLOAT32: return "";
    case CLCNN_FLOAT64: return "-DCLCNN_FP64=1";
    case CLCNN_FLOAT16: return "-DCLCNN_STORAGE_HALF=1";
    case CLCNN_BFLOAT16: return "-DCLCNN_STORAGE_BF16=1";
    }
    return "";
}

#endif
