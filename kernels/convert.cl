/* clcnn_tensor_convert: dst = src in another dtype, element by element,
 * rounding to nearest even. SRC and DST name the two storage formats (F32,
 * F64, F16, BF16; the host passes them by name); the program is built with
 * -DCLCNN_FP64=1 where either is F64, so `real` is double exactly when a
 * double is involved. Each work-item converts VECTOR consecutive elements
 * of its vectors (elementwise.h's layout), the tensor's last ones only as
 * far as it goes.
 *
 * From float64 to 16 bits the value is rounded once: first to float with
 * round-to-odd (truncate, then set the lowest bit where that dropped
 * anything), then to 16 bits to nearest even. A float keeps 13 or 16 bits
 * more than float16 or bfloat16 (in their subnormals too: float's step is
 * 2^-149, theirs 2^-24 and 2^-133), and an odd last bit stands for
 * "something below": a double exactly halfway between two 16-bit values
 * reaches float exactly and ties to even, one just off halfway stays off
 * it. Rounding to nearest float first would turn the latter into a tie and
 * round it the wrong way (double rounding). */
#include "elementwise.h"

#define F32 1
#define F64 2
#define F16 3
#define BF16 4
#if !defined(SRC) || !defined(DST)
#ifdef CLCNN_COMPILE_ALONE
#define SRC F32
#define DST BF16
#else
#error "SRC and DST must be passed with -D"
#endif
#endif

#if SRC == F32
typedef float src_t;
#elif SRC == F64
typedef double src_t;
#elif SRC == F16
typedef half src_t;
#else
typedef ushort src_t;
#endif
#if DST == F32
typedef float dst_t;
#elif DST == F64
typedef double dst_t;
#elif DST == F16
typedef half dst_t;
#else
typedef ushort dst_t;
#endif

#if SRC == F64
/* d rounded to float with round-to-odd (see above); NaN stays NaN,
 * infinities stay, a finite value past FLT_MAX gives FLT_MAX (odd, so it
 * still rounds on to infinity in 16 bits). */
CLCNN_INLINE float to_odd_float(double d)
{
    const float f = convert_float_rtz(d);
    return (double)f == d ? f : as_float(as_uint(f) | 1u);
}
#endif

/* Element i of src as the convert's value: exact for every source. */
#if SRC == F64
#define LOAD_VALUE(src, i) ((src)[i])
#elif SRC == F16
#define LOAD_VALUE(src, i) vload_half(i, src)
#elif SRC == BF16
#define LOAD_VALUE(src, i) as_float((uint)(src)[i] << 16)
#else
#define LOAD_VALUE(src, i) ((src)[i])
#endif

/* v into element i of dst, rounded once to nearest even. */
#if DST == F16 && SRC == F64
#define STORE_VALUE(v, dst, i) vstore_half_rte(to_odd_float(v), i, dst)
#elif DST == BF16 && SRC == F64
#define STORE_VALUE(v, dst, i) ((dst)[i] = bf16_round1(to_odd_float(v)))
#elif DST == F16
#define STORE_VALUE(v, dst, i) vstore_half_rte(v, i, dst)
#elif DST == BF16
#define STORE_VALUE(v, dst, i) ((dst)[i] = bf16_round1(v))
#elif DST == F32
#define STORE_VALUE(v, dst, i) ((dst)[i] = (float)(v))
#else
#define STORE_VALUE(v, dst, i) ((dst)[i] = (double)(v))
#endif

__kernel void convert(const __global src_t *src, __global dst_t *dst, idx_t total, int chunk)
{
    for (int j = 0; j < chunk; j++) {
        const offset_t at = vector_index(chunk, j) * VECTOR;
        if (at >= (offset_t)total)
            return;
        const offset_t end = (offset_t)total - at >= VECTOR ? at + VECTOR : (offset_t)total;
        for (offset_t e = at; e < end; e++)
            STORE_VALUE(LOAD_VALUE(src, e), dst, e);
    }
}
