/* Shared by every kernel: the element type `real` (float, or double with
 * -DCLCNN_FP64=1), its vector types, the storage type `storage` of tensors
 * in global memory (16 bits with -DCLCNN_STORAGE_HALF=1 or
 * -DCLCNN_STORAGE_BF16=1), the index type and small helpers.
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

/* Storage. A kernel that takes 16-bit tensors declares their pointers as
 * `storage` and moves elements only through SLOAD(n)(i, p), which gives
 * VREAL(n), and SSTORE(n)(v, i, p). float16 and bfloat16 are storage
 * formats only: `real` stays float, so arithmetic and accumulation stay
 * float (half arithmetic would break the error bound of docs/tolerance.md
 * and needs cl_khr_fp16, which many devices lack); a load widens exactly
 * and a store rounds once, to nearest even. float16 goes through
 * vload_half/vstore_half_rte, core OpenCL without cl_khr_fp16 (half is a
 * pointer type only). bfloat16 is the top half of a float's bits, held as
 * ushort. In float32 and float64 the macros are VLOAD/VSTORE themselves, so
 * those kernels compile to what they did before. */
#if defined(CLCNN_STORAGE_HALF) || defined(CLCNN_STORAGE_BF16)
#ifdef CLCNN_FP64
#error "CLCNN_FP64 and a 16-bit CLCNN_STORAGE_* exclude each other"
#endif
#define CLCNN_STORAGE_16 1
#endif

/* bf16_roundN: a float's top 16 bits (bfloat16), rounded to nearest even
 * on the bits: adding 0x7fff plus the kept part's lowest bit carries into
 * it exactly when the dropped half is above one half, or one half with the
 * kept part odd; a carry out of the largest finite value gives infinity, as rounding to
 * nearest does. A NaN would carry into the exponent or lose its payload,
 * so it keeps its top bits with the quiet bit set: still a NaN, sign kept.
 * Defined for every dtype: clcnn_tensor_convert (convert.cl) uses them too. */
#define CLCNN_BF16_ROUND(n, F, U, S)                                                                                   \
    CLCNN_INLINE S bf16_round##n(F f)                                                                                  \
    {                                                                                                                  \
        const U u = CLCNN_CAT(as_, U)(f);                                                                              \
        const U rounded = (u + (U)0x7fffu + ((u >> 16) & (U)1u)) >> 16;                                                \
        const U quiet = (u >> 16) | (U)0x40u;                                                                          \
        const U is_nan = CLCNN_CAT(as_, U)((u & (U)0x7fffffffu) > (U)0x7f800000u);                                     \
        return CLCNN_CAT(convert_, S)(select(rounded, quiet, is_nan));                                                 \
    }
CLCNN_BF16_ROUND(1, float, uint, ushort)
CLCNN_BF16_ROUND(2, float2, uint2, ushort2)
CLCNN_BF16_ROUND(4, float4, uint4, ushort4)
CLCNN_BF16_ROUND(8, float8, uint8, ushort8)
CLCNN_BF16_ROUND(16, float16, uint16, ushort16)

#if defined(CLCNN_STORAGE_HALF)
typedef half storage;
/* 8 and 16 halves move as 4s: vload_halfN and vstore_halfN_rte need only
 * 2-byte alignment, but POCL 3.1 compiles the 8- and 16-wide ones to
 * 16- and 32-byte aligned moves (vmovaps), which fault where a vector
 * starts elsewhere (zero_pad's shifted copies, a row of odd length). */
CLCNN_INLINE float8 sload_half8(size_t i, const __global half *p)
{
    return (float8)(vload_half4(2 * i, p), vload_half4(2 * i + 1, p));
}
CLCNN_INLINE float16 sload_half16(size_t i, const __global half *p)
{
    return (float16)(sload_half8(2 * i, p), sload_half8(2 * i + 1, p));
}
CLCNN_INLINE void sstore_half8(float8 v, size_t i, __global half *p)
{
    vstore_half4_rte(v.lo, 2 * i, p);
    vstore_half4_rte(v.hi, 2 * i + 1, p);
}
CLCNN_INLINE void sstore_half16(float16 v, size_t i, __global half *p)
{
    sstore_half8(v.lo, 2 * i, p);
    sstore_half8(v.hi, 2 * i + 1, p);
}
#define SLOAD_1 vload_half
#define SLOAD_2 vload_half2
#define SLOAD_4 vload_half4
#define SLOAD_8 sload_half8
#define SLOAD_16 sload_half16
#define SSTORE_1 vstore_half_rte
#define SSTORE_2 vstore_half2_rte
#define SSTORE_4 vstore_half4_rte
#define SSTORE_8 sstore_half8
#define SSTORE_16 sstore_half16
#elif defined(CLCNN_STORAGE_BF16)
typedef ushort storage;
/* Widening is exact: the bits become a float's top half. */
#define CLCNN_BF16_WIDEN(n, v) CLCNN_CAT(as_float, n)(CLCNN_CAT(convert_uint, n)(v) << 16)
#define SLOAD_1(i, p) as_float((uint)(p)[i] << 16)
#define SLOAD_2(i, p) CLCNN_BF16_WIDEN(2, vload2(i, p))
#define SLOAD_4(i, p) CLCNN_BF16_WIDEN(4, vload4(i, p))
#define SLOAD_8(i, p) CLCNN_BF16_WIDEN(8, vload8(i, p))
#define SLOAD_16(i, p) CLCNN_BF16_WIDEN(16, vload16(i, p))
#define SSTORE_1(v, i, p) ((p)[i] = bf16_round1(v))
#define SSTORE_2(v, i, p) vstore2(bf16_round2(v), i, p)
#define SSTORE_4(v, i, p) vstore4(bf16_round4(v), i, p)
#define SSTORE_8(v, i, p) vstore8(bf16_round8(v), i, p)
#define SSTORE_16(v, i, p) vstore16(bf16_round16(v), i, p)
#else
typedef real storage;
#define SLOAD_1 VLOAD_1
#define SLOAD_2 VLOAD_2
#define SLOAD_4 VLOAD_4
#define SLOAD_8 VLOAD_8
#define SLOAD_16 VLOAD_16
#define SSTORE_1 VSTORE_1
#define SSTORE_2 VSTORE_2
#define SSTORE_4 VSTORE_4
#define SSTORE_8 VSTORE_8
#define SSTORE_16 VSTORE_16
#endif
#define SLOAD(n) CLCNN_CAT(SLOAD_, n)
#define SSTORE(n) CLCNN_CAT(SSTORE_, n)

/* STORE_OUTPUT(v, p): stores v, a vreal of the including kernel, at p, a
 * storage pointer. With STREAM_STORES (the host's choice,
 * clcnn__tuning_stream_stores, for an output too large to stay in a CPU's
 * caches) the stores are non-temporal: they skip reading each line before
 * overwriting it. Such stores must be aligned, so the host asks only where
 * every store is aligned to a vreal; 16-bit storage rounds through
 * vstore_half or bf16_round and stores plainly. */
#if defined(STREAM_STORES) && defined(__has_builtin) && !defined(CLCNN_STORAGE_16)
#if __has_builtin(__builtin_nontemporal_store)
#define STORE_OUTPUT(v, p) __builtin_nontemporal_store((vreal)(v), (__global vreal *)(p))
#endif
#endif
#ifndef STORE_OUTPUT
#define STORE_OUTPUT(v, p) SSTORE(VECTOR)(v, 0, p)
#endif

#endif
