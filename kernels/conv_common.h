/* What the conv kernels share: channel vectors with a tail, the layer's
 * shape arguments, the register tiles' epilogue and the chunked sums. */
#ifndef CLCNN_CONV_COMMON_H
#define CLCNN_CONV_COMMON_H

#include "common.h"
#include "shape_params.h"

/* A conv file built on its own (CLCNN_COMPILE_ALONE) holds both its
 * halves: the direct kernels and those tiled in local memory
 * (local_gemm.h), which the host builds apart. */
#if defined(CLCNN_COMPILE_ALONE) && !defined(CLCNN_LOCAL_TILES)
#define CLCNN_LOCAL_TILES 1
#endif

/* Loads n < N lanes of a vector (the channel tail), zero in the rest, and
 * stores the first n lanes. Lanes go through a union rather than vloadN /
 * vstoreN on a private array, which Oclgrind's uninitialised-value checker
 * does not follow. */
#define DEFINE_LOAD_PARTIAL(N)                                                     \
    VREAL(N) CLCNN_CAT(load_partial, N)(const __global real *p, int n)             \
    {                                                                              \
        union { VREAL(N) v; real s[N]; } u;                                        \
        for (int l = 0; l < N; l++)                                                \
            u.s[l] = l < n ? p[l] : (real)0;                                       \
        return u.v;                                                                \
    }
#define DEFINE_STORE_PARTIAL(N)                                                    \
    void CLCNN_CAT(store_partial, N)(VREAL(N) v, __global real *p, int n)          \
    {                                                                              \
        union { VREAL(N) v; real s[N]; } u;                                        \
        u.v = v;                                                                   \
        for (int l = 0; l < n; l++)                                                \
            p[l] = u.s[l];                                                         \
    }

/* For a kernel whose channel vector width is the macro VECTOR: the type
 * vreal, and loads/stores of a whole vector or of its first n lanes (the
 * channel tail). */
#define DEFINE_VECTOR_HELPERS()                                                    \
    typedef VREAL(VECTOR) vreal;                                                   \
    DEFINE_LOAD_PARTIAL(VECTOR)                                                    \
    DEFINE_STORE_PARTIAL(VECTOR)
#define LOAD_FULL(p, n) VLOAD(VECTOR)(0, p)
#define LOAD_TAIL(p, n) CLCNN_CAT(load_partial, VECTOR)(p, n)
#define STORE_FULL(v, p, n) VSTORE(VECTOR)(v, 0, p)
#define STORE_TAIL(v, p, n) CLCNN_CAT(store_partial, VECTOR)(v, p, n)
/* x < 0 ? 0 : x per lane of a vreal, as clcnn_relu_forward: NaN and -0
 * stay. */
#define RELU_OF(x) CLCNN_CAT(RELU_OF_, VECTOR)(x)
#define RELU_OF_1(x) ((x) < (real)0 ? (real)0 : (x))
#define RELU_OF_LANES(x) select((x), (vreal)0, (x) < (vreal)0)
#define RELU_OF_2 RELU_OF_LANES
#define RELU_OF_4 RELU_OF_LANES
#define RELU_OF_8 RELU_OF_LANES
#define RELU_OF_16 RELU_OF_LANES

/* Every conv kernel takes the layer's shape as these arguments
 * (CLCNN_CONV_SHAPE in shape_params.h, which the host's list expands too). */
#define CONV_SHAPE_PARAMS CLCNN_CONV_SHAPE(CLCNN_SHAPE_PARAM, CLCNN_COMMA, , )
/* A kernel's shape arguments, passed on to a helper that takes them. */
#define CONV_SHAPE CLCNN_CONV_SHAPE(CLCNN_SHAPE_NAME, CLCNN_COMMA, , )

/* Declares the vector register tile acc[n], at 0. */
#define VECTOR_TILE_ZERO(acc, n)                                                   \
    vreal acc[n];                                                                  \
    _Pragma("unroll") for (int t = 0; t < (n); t++)                                \
        acc[t] = (vreal)0

/* The epilogue of the direct forward kernels' vector tiles:
 * DECLARE_BIAS(bias, at, lanes) declares the vreal bias, the `lanes`
 * biases at `at` (HAS_BIAS), and EPILOGUE(v, bias) adds them to v, then
 * applies the ReLU (RELU). */
#ifdef HAS_BIAS
#define DECLARE_BIAS(bias, at, lanes)                                              \
    const vreal bias = (lanes) == VECTOR ? LOAD_FULL(at, lanes) : LOAD_TAIL(at, lanes)
#define EPILOGUE_BIAS(v, bias) (v) += (bias)
#else
#define DECLARE_BIAS(bias, at, lanes)
#define EPILOGUE_BIAS(v, bias)
#endif
#ifdef RELU
#define EPILOGUE(v, bias) EPILOGUE_BIAS(v, bias); (v) = RELU_OF(v)
#else
#define EPILOGUE(v, bias) EPILOGUE_BIAS(v, bias)
#endif

/* The taps k of a window (stride, dilation, f) that reach input position x
 * (padded by pad before it) are those with k * dilation = x + pad (mod
 * stride): an arithmetic progression from the first one with a step of
 * stride / gcd(stride, dilation). Returns the first (f when there is
 * none) and sets *step; the search takes at most stride / gcd steps, once
 * per work-item, never a test per tap. The output position that tap k
 * reaches x from is (x + pad - k * dilation) / stride, an exact division. */
int first_tap(int x, int pad, int f, int stride, int dilation, int *step)
{
    int a = stride, b = dilation;
    while (b != 0) {
        int r = a % b;
        a = b;
        b = r;
    }
    *step = stride / a;
    const int target = (x + pad) % stride;
    for (int k = 0; k < min(f, *step); k++)
        if (k * dilation % stride == target)
            return k;
    return f;
}

/* out[k] = sum of part[chunk][k] over chunks in chunk order: the second,
 * fixed-order pass of the chunked reductions (dW, db), so they are
 * deterministic without atomics. */
#define DEFINE_SUM_CHUNKS(name)                                                    \
    __kernel void name(const __global real *part, __global real *out, int n,       \
                       int chunks)                                                 \
    {                                                                              \
        int k = get_global_id(0);                                                  \
        if (k >= n)                                                                \
            return;                                                                \
        real s = 0;                                                                \
        for (int j = 0; j < chunks; j++)                                           \
            s += part[(idx_t)j * n + k];                                           \
        out[k] = s;                                                                \
    }

#endif
