/* Shared by every kernel: the element type `real` (float, or double with
 * -DCLCNN_FP64=1), its vector types, the index type and small helpers.
 * Each .cl includes the headers it uses; the host resolves the includes
 * itself (host/runtime/program.c), and a .cl compiled on its own finds them
 * with -I kernels (clang, oclgrind-kernel, tests/compile_kernels.c). */
#ifndef CLCNN_COMMON_H
#define CLCNN_COMMON_H

/* A program is one translation unit: the vectors its helpers take and
 * return never cross an ABI boundary, whatever their width. Clang (POCL on
 * a CPU without AVX-512) warns about every real16 passed by value all the
 * same, and a build warning fails the test suites. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpsabi"
#endif

#ifdef CLCNN_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
typedef double2 real2;
typedef double4 real4;
typedef double8 real8;
typedef double16 real16;
#define REAL_MAX DBL_MAX
#else
typedef float real;
typedef float2 real2;
typedef float4 real4;
typedef float8 real8;
typedef float16 real16;
#define REAL_MAX FLT_MAX
#endif
typedef real real1;

/* Element offsets. The host refuses tensors of 2^31 elements or more, so
 * 32-bit offsets suffice (64-bit arithmetic is slow on many GPUs); one type
 * names every place that would change if that limit were lifted. */
typedef int idx_t;

/* A helper whose arguments are constants at its call sites (a mask, a
 * full vector or a tail): always inlined, so that each call compiles to
 * code for its constants, as a macro's expansion would. */
#define CLCNN_INLINE static inline __attribute__((always_inline))

#define CLCNN_CAT_(a, b) a##b
#define CLCNN_CAT(a, b) CLCNN_CAT_(a, b)
/* realN, vloadN, vstoreN for a width N given as a macro (1 is the scalar). */
#define VREAL(n) CLCNN_CAT(real, n)
#define VLOAD(n) CLCNN_CAT(VLOAD_, n)
#define VSTORE(n) CLCNN_CAT(VSTORE_, n)
#define VLOAD_1(i, p) ((p)[i])
#define VLOAD_2 vload2
#define VLOAD_4 vload4
#define VLOAD_8 vload8
#define VLOAD_16 vload16
#define VSTORE_1(v, i, p) ((p)[i] = (v))
#define VSTORE_2 vstore2
#define VSTORE_4 vstore4
#define VSTORE_8 vstore8
#define VSTORE_16 vstore16


/* STORE_OUTPUT(v, p): stores v, a vreal of the including kernel, at p.
 * With STREAM_STORES (the host's choice, clcnn__tuning_stream_stores, for an
 * output too large to stay in a CPU's caches) the stores are non-temporal:
 * they skip reading each line before overwriting it. Such stores must be
 * aligned, so the host asks only where every store is aligned to a vreal. */
#if defined(STREAM_STORES) && defined(__has_builtin)
#if __has_builtin(__builtin_nontemporal_store)
#define STORE_OUTPUT(v, p) __builtin_nontemporal_store((vreal)(v), (__global vreal *)(p))
#endif
#endif
#ifndef STORE_OUTPUT
#define STORE_OUTPUT(v, p) VSTORE(VECTOR)(v, 0, p)
#endif

#endif
