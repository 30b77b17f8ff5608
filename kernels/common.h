/* Shared by every kernel: the element type `real` (float, or double with
 * -DCLCNN_FP64=1), its vector types, the index type and small helpers.
 * The host prepends this file to each .cl; a .cl compiled on its own
 * includes it (e.g. clang -I kernels or oclgrind-kernel). */
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

/* First output index whose window (start o*stride - pad, length f) covers
 * input position x, and the last; empty when lo > hi. Clamped before the
 * division because C division truncates toward zero. */
int cover_lo(int x, int pad, int f, int stride)
{
    int t = x + pad - f + 1;
    return t <= 0 ? 0 : (t + stride - 1) / stride;
}
int cover_hi(int x, int pad, int stride, int n_out)
{
    int t = (x + pad) / stride;
    return min(t, n_out - 1);
}

/* ---- Convolution: what the conv kernels share ----
 * Every conv kernel takes the layer's shape as these arguments, in this
 * order (host/ops/conv/conv.c passes them with CONV_SHAPE_ARGS). Tap (kh, kw) of
 * output pixel (h, w) reads input pixel (h * stride_h - pad_top +
 * kh * dilation_h, w * stride_w - pad_left + kw * dilation_w); group g maps
 * input channels [g, g + 1) * n_C_prev / groups to output channels
 * [g, g + 1) * n_C / groups, and w is (f_h, f_w, n_C_prev / groups, n_C). */
#define CONV_SHAPE_PARAMS                                                          \
    int m, int n_H_prev, int n_W_prev, int n_C_prev, int f_h, int f_w, int n_C,    \
        int n_H, int n_W, int stride_h, int stride_w, int pad_top, int pad_left,  \
        int dilation_h, int dilation_w, int groups

/* Declares the vector register tile acc[n], at 0. */
#define VECTOR_TILE_ZERO(acc, n)                                                   \
    vreal acc[n];                                                                  \
    _Pragma("unroll") for (int t = 0; t < (n); t++)                                \
        acc[t] = (vreal)0

/* The epilogue of the direct forward kernels' vector tiles:
 * DECLARE_BIAS(at) loads the `lanes` biases at `at` (HAS_BIAS), and
 * EPILOGUE(v) adds them to v, then applies the ReLU (RELU). */
#ifdef HAS_BIAS
#define DECLARE_BIAS(at) const vreal bias = lanes == VECTOR ? LOAD_FULL(at, lanes) : LOAD_TAIL(at, lanes)
#define EPILOGUE_BIAS(v) (v) += bias
#else
#define DECLARE_BIAS(at)
#define EPILOGUE_BIAS(v)
#endif
#ifdef RELU
#define EPILOGUE(v) EPILOGUE_BIAS(v); (v) = RELU_OF(v)
#else
#define EPILOGUE(v) EPILOGUE_BIAS(v)
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


/* ---- Convolution as GEMMs tiled in local memory: what they share ----
 * Compiled in where CLCNN_LOCAL_TILES is defined: the host passes
 * -DCLCNN_LOCAL_TILES=1 (with -DCLCNN_LOCAL_TILES_ONLY=1) when it builds
 * conv_forward_local, conv_backward_data_gemm or conv_backward_filter_gemm
 * (host/ops/conv/conv_gpu.c), and their files define it before including this file
 * when compiled on its own.
 * A work-group of THREADS_N x THREADS_M work-items computes a GROUP_M x
 * GROUP_N block of the GEMM's result; each K step stages TILE_K rows of A
 * and of B in local memory (row k of A at a_tile + k * A_STRIDE, of B at
 * b_tile + k * B_STRIDE), and each work-item (tx, ty) accumulates a
 * MICRO_M x MICRO_N register tile from them, rows THREADS_M and columns
 * THREADS_N apart, so that neighbouring items read neighbouring local
 * words and write neighbouring columns. The host decides the blocking (-D)
 * and A_STRIDE, which each kernel defaults to what its stores need. */
#ifdef CLCNN_LOCAL_TILES
#ifndef GROUP_M
#define GROUP_M 64
#endif
#ifndef GROUP_N
#define GROUP_N 64
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#ifndef MICRO_M
#define MICRO_M 4
#endif
#ifndef MICRO_N
#define MICRO_N 4
#endif
#ifndef B_STRIDE
#define B_STRIDE GROUP_N
#endif
#define THREADS_M (GROUP_M / MICRO_M)
#define THREADS_N (GROUP_N / MICRO_N)
#define THREADS (THREADS_M * THREADS_N)
/* Consecutive items store consecutive columns of a row of B: each item
 * stores B_LOADS rows of its column per K step. */
#define B_ROWS_PER_PASS (THREADS / GROUP_N)
#define B_LOADS (TILE_K / B_ROWS_PER_PASS)
#if THREADS % GROUP_N || TILE_K % B_ROWS_PER_PASS
#error "this blocking does not divide B's tile into whole loads per work-item"
#endif

/* Declares the item's register tile acc, at 0. */
#define MICRO_TILE_ZERO(acc)                                                       \
    real acc[MICRO_M][MICRO_N];                                                    \
    _Pragma("unroll") for (int tile_row = 0; tile_row < MICRO_M; tile_row++)       \
        _Pragma("unroll") for (int tile_col = 0; tile_col < MICRO_N; tile_col++)   \
            acc[tile_row][tile_col] = 0

/* acc += the item's rows of the staged A times its columns of the staged
 * B, over the TILE_K rows in increasing k: the order every blocking
 * shares, so that every tiling the host picks gives the same bits. */
#define MICRO_TILE_ACCUMULATE(acc, a_tile, b_tile)                                 \
    _Pragma("unroll") for (int kk = 0; kk < TILE_K; kk++) {                        \
        real a_reg[MICRO_M], b_reg[MICRO_N];                                       \
        _Pragma("unroll") for (int tile_row = 0; tile_row < MICRO_M; tile_row++)   \
            a_reg[tile_row] = (a_tile)[kk * A_STRIDE + ty + tile_row * THREADS_M]; \
        _Pragma("unroll") for (int tile_col = 0; tile_col < MICRO_N; tile_col++)   \
            b_reg[tile_col] = (b_tile)[kk * B_STRIDE + tx + tile_col * THREADS_N]; \
        _Pragma("unroll") for (int tile_row = 0; tile_row < MICRO_M; tile_row++)   \
            _Pragma("unroll") for (int tile_col = 0; tile_col < MICRO_N; tile_col++) \
                acc[tile_row][tile_col] += a_reg[tile_row] * b_reg[tile_col];      \
    }

/* Advances an item's k = (channel, tap_w, tap_h) by TILE_K, where k runs
 * over channels within taps_w taps along w within taps along h: what the
 * items that gather A (the input, or dZ) along k keep instead of dividing
 * k afresh each step. */
#define ADVANCE_K(channel, tap_w, tap_h, channels, taps_w)                         \
    for ((channel) += TILE_K; (channel) >= (channels); (channel) -= (channels))    \
        if (++(tap_w) == (taps_w)) {                                               \
            (tap_w) = 0;                                                           \
            (tap_h)++;                                                             \
        }
#endif /* CLCNN_LOCAL_TILES */


/* ---- Pooling: what pool_forward.cl and pool_backward.cl share ----
 * Compiled in where CLCNN_POOL is defined: the host passes -DCLCNN_POOL=1
 * with their other options, and each defines it before including this file
 * when compiled on its own. Items take VECTOR channels per load and TILE_W
 * units along w; the host may pass the window and strides as constants.
 *
 * Every pooling kernel takes the layer's shape as these arguments, in this
 * order (host/ops/pool.c passes them with POOL_SHAPE_ARGS). The window of
 * output pixel (h, w) has f_h x f_w taps from input pixel
 * (h * stride_h - pad_top, w * stride_w - pad_left); taps in the padding
 * take no part (pad_bottom and pad_right only set the output's extent,
 * which the host computes). count_include_pad: an average divides by
 * f_h * f_w (1) or by the window's in-image taps (0). `channels` is how
 * many channels one work-item takes. */
#ifdef CLCNN_POOL
#define POOL_SHAPE_PARAMS                                                          \
    int n_H_prev, int n_W_prev, int n_C, int n_H, int n_W, int f_h, int f_w,       \
        int stride_h, int stride_w, int pad_top, int pad_left,                     \
        int count_include_pad, int channels
/* A kernel's shape arguments, passed on to a helper that takes them. */
#define POOL_SHAPE                                                                 \
    n_H_prev, n_W_prev, n_C, n_H, n_W, f_h, f_w, stride_h, stride_w, pad_top,      \
        pad_left, count_include_pad, channels

#ifndef VECTOR
#define VECTOR 4
#endif
#ifndef TILE_W
#define TILE_W 4
#endif
/* Vectors of channels an average pool's tap reads at once (pool_forward.cl);
 * the host passes more only where every item's channels are a multiple of
 * CHANNEL_BLOCK * VECTOR and no vector is a tail. */
#ifndef CHANNEL_BLOCK
#define CHANNEL_BLOCK 1
#endif
/* The host passes POOL_F_H, POOL_F_W, POOL_STRIDE_H and POOL_STRIDE_W
 * together, or none of them. Loops over a window's taps (or over the
 * windows that cover a pixel) then run to the constant most there can be
 * and unroll, a guard inside skipping what does not exist; with sizes
 * known only at run time they run to the count itself, so that a large
 * window with few taps in the image, or few windows over a pixel, costs
 * only those (global pooling would otherwise test a window's worth of
 * guards per pixel). */
#ifdef POOL_F_H
#define WINDOW_H POOL_F_H
#define WINDOW_W POOL_F_W
#define STEP_H POOL_STRIDE_H
#define STEP_W POOL_STRIDE_W
#define UNROLL_WINDOW _Pragma("unroll")
#define LOOP_BOUND(most, count) (most)
#else
#define WINDOW_H f_h
#define WINDOW_W f_w
#define STEP_H stride_h
#define STEP_W stride_w
#define UNROLL_WINDOW
#define LOOP_BOUND(most, count) (count)
#endif
/* POOL_PADDED=0 (the host's choice when every pad is 0): every window lies
 * inside the image, and the clipping below compiles away. */
#ifndef POOL_PADDED
#define POOL_PADDED 1
#endif
#if POOL_PADDED
#define PAD_TOP pad_top
#define PAD_LEFT pad_left
#else
#define PAD_TOP 0
#define PAD_LEFT 0
#endif

/* The in-image taps of one axis of a window whose first tap is at input
 * position `start` (negative in the padding), of f taps, over an axis of
 * n: the first of them and their number. Each pad is less than the window,
 * so at least one tap is in the image. */
int2 in_image(int start, int f, int n)
{
#if POOL_PADDED
    const int first = max(0, -start);
    return (int2)(first, min(f, n - start) - first);
#else
    return (int2)(0, f);
#endif
}

/* What an average over a window with rows x cols taps in the image divides
 * by (the host refuses windows whose taps overflow an int). */
#if POOL_PADDED
#define DIVISOR(rows, cols) ((real)(count_include_pad ? WINDOW_H * WINDOW_W : (rows) * (cols)))
#else
#define DIVISOR(rows, cols) ((real)(WINDOW_H * WINDOW_W))
#endif

#if VECTOR == 1
#define VSUFFIX
#else
#define VSUFFIX VECTOR
#endif
typedef VREAL(VECTOR) vreal;
#ifdef CLCNN_FP64
#define MASK_BASE long
#else
#define MASK_BASE int
#endif
/* Integer vector whose lanes match vreal's in size: what comparisons of
 * vreal give and what select() takes. (select(), not the equivalent
 * vector ?:, which Oclgrind runs wrongly on long vectors.) */
typedef CLCNN_CAT(MASK_BASE, VSUFFIX) vmask;

/* CHANNEL_TAIL unset: VECTOR divides n_C, so every vector an item touches
 * starts at an element offset that is a multiple of VECTOR, and buffers
 * are aligned to at least 128 bytes (CL_DEVICE_MEM_BASE_ADDR_ALIGN is at
 * least the size of long16): realN accesses through vector pointers are
 * aligned.
 * CHANNEL_TAIL set (CPUs, where an item owns all n_C channels of its
 * pixels, when VECTOR does not divide n_C): the last vector of a pixel
 * starts at n_C - VECTOR and overlaps the one before it, so that the tail
 * runs at full width instead of every channel taking the scalar path. The
 * lanes are independent, so the overlap is written twice with the same
 * bits, by the same item. Accesses are then unaligned: vloadN / vstoreN. */
#ifdef CHANNEL_TAIL
#define VECTOR_AT(c, end) min(c, (end) - VECTOR)
#define LOAD(p) VLOAD(VECTOR)(0, p)
#define STORE(v, p) VSTORE(VECTOR)(v, 0, p)
#else
#define VECTOR_AT(c, end) (c)
#define LOAD(p) (*(const __global vreal *)(p))
#endif
/* STREAM_STORES (never with CHANNEL_TAIL: non-temporal vector stores must
 * be aligned): the host asks for non-temporal stores when the call moves
 * more data than the cache holds, so that the output would not stay cached
 * anyway; they save reading each output line before overwriting it. */
#if defined(STREAM_STORES) && !defined(CHANNEL_TAIL)
#ifdef __has_builtin
#if __has_builtin(__builtin_nontemporal_store)
#define STORE(v, p) __builtin_nontemporal_store((vreal)(v), (__global vreal *)(p))
#endif
#endif
#endif
#ifndef STORE
#define STORE(v, p) (*(__global vreal *)(p) = (v))
#endif
#endif /* CLCNN_POOL */

#endif
