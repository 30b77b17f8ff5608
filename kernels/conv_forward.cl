/* Convolution forward as an implicit GEMM: rows are output pixels
 * (m * n_H * n_W), columns are output channels, the reduction runs over
 * (kh, kw, c_prev). Each work-item keeps a register tile of TILE_PIXELS
 * output pixels times a VECTOR of output channels; the weight row
 * W[kh][kw][c][:] is contiguous (NHWC, weights (f_h, f_w, n_C_prev, n_C)),
 * so it streams with one vector load per (kh, kw, c). Padding is implicit
 * (out-of-range input reads as zero, never materialised).
 * Grid: dim 0 = (image, output row, tile of the row), dim 1 = channel vectors. */
#ifndef CLCNN_COMMON_H
#include "common.h"
#endif

#ifndef TILE_PIXELS
#define TILE_PIXELS 8
#endif
#ifndef VECTOR
#define VECTOR 16
#endif

DEFINE_VECTOR_HELPERS()

/* acc[t] += a[pixel t, j] * W[kh][j][c0 : c0 + VECTOR] over the contiguous
 * run j of (kw, c) pairs from kw_lo to kw_hi. */
#define ACCUMULATE_RUN(LOAD_W)                                                       \
    for (int j = kw_lo * n_C_prev; j < j_end; j++) {                                 \
        vreal wv = LOAD_W(wk + (idx_t)j * n_C, lanes);                               \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            acc[t] += a_prev[a0 + t * pix_step + j] * wv;                            \
    }
/* The same for one tap kw, for the pixels whose tap is inside the input
 * (valid[]): a skipped term, not a term times 0, so that an Inf in W cannot
 * turn padding into NaN. */
#define ACCUMULATE_TAP(LOAD_W)                                                       \
    for (int c = 0; c < n_C_prev; c++) {                                             \
        vreal wv = LOAD_W(wrow + (idx_t)c * n_C, lanes);                             \
        _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)                      \
            if (valid[t])                                                            \
                acc[t] += a_prev[off[t] + c] * wv;                                   \
    }

__kernel void conv_forward(const __global real *a_prev, const __global real *w,
                           const __global real *b, __global real *z, int m, int n_H_prev,
                           int n_W_prev, int n_C_prev, int f_h, int f_w, int n_C, int n_H,
                           int n_W, int stride, int pad)
{
    /* A tile is TILE_PIXELS neighbouring output pixels of one output row. */
    const int w_tiles = (n_W + TILE_PIXELS - 1) / TILE_PIXELS;
    int q = get_global_id(0);
    const int w0 = (q % w_tiles) * TILE_PIXELS;
    q /= w_tiles;
    const int h = q % n_H, i = q / n_H;
    const int c0 = get_global_id(1) * VECTOR;
    if (i >= m || c0 >= n_C)
        return;
    const int lanes = min(n_C - c0, VECTOR);
    const int n_pix = min(TILE_PIXELS, n_W - w0);
    const int iw_first = w0 * stride - pad; /* first input column of pixel 0's window */
    const int pix_step = stride * n_C_prev; /* between neighbouring pixels' windows */
    /* Taps kw in [kw_lo, kw_hi] are inside the input for every pixel of a
     * full tile: over them a window row (kw, c) is one contiguous run of
     * values, and so is the matching block of W, so the reduction runs with
     * no bounds test. The few taps outside (at the image's left and right
     * edges) and partial tiles (the end of a row) take the masked path. */
    const int kw_lo = n_pix == TILE_PIXELS ? max(0, -iw_first) : f_w;
    const int kw_hi = min(f_w - 1, n_W_prev - 1 - (iw_first + (TILE_PIXELS - 1) * stride));

    vreal acc[TILE_PIXELS];
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++)
        acc[t] = (vreal)0;

    for (int kh = 0; kh < f_h; kh++) {
        const int ih = h * stride - pad + kh;
        if (ih < 0 || ih >= n_H_prev)
            continue;
        const idx_t row = ((idx_t)i * n_H_prev + ih) * n_W_prev * n_C_prev;
        const __global real *wk = w + (idx_t)kh * f_w * n_C_prev * n_C + c0;
        if (kw_lo <= kw_hi) {
            const idx_t a0 = row + (idx_t)iw_first * n_C_prev; /* + j >= 0 */
            const int j_end = (kw_hi + 1) * n_C_prev;
            if (lanes == VECTOR)
                ACCUMULATE_RUN(LOAD_FULL)
            else
                ACCUMULATE_RUN(LOAD_TAIL)
        }
        for (int kw = 0; kw < f_w; kw++) {
            if (kw == kw_lo && kw_lo <= kw_hi)
                kw = kw_hi + 1; /* done above */
            if (kw >= f_w)
                break;
            idx_t off[TILE_PIXELS];
            int valid[TILE_PIXELS];
            _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
                int iw = iw_first + t * stride + kw;
                valid[t] = t < n_pix && iw >= 0 && iw < n_W_prev;
                off[t] = valid[t] ? row + (idx_t)iw * n_C_prev : 0;
            }
            const __global real *wrow = wk + (idx_t)kw * n_C_prev * n_C;
            if (lanes == VECTOR)
                ACCUMULATE_TAP(LOAD_FULL)
            else
                ACCUMULATE_TAP(LOAD_TAIL)
        }
    }

    vreal bias = lanes == VECTOR ? LOAD_FULL(b + c0, lanes) : LOAD_TAIL(b + c0, lanes);
    __global real *out = z + (((idx_t)i * n_H + h) * n_W + w0) * n_C + c0;
    /* A guard, not a break: a loop with an early exit is not unrolled, and
     * then acc[] is indexed at run time and lives in memory, not registers. */
    _Pragma("unroll") for (int t = 0; t < TILE_PIXELS; t++) {
        if (t < n_pix) {
            if (lanes == VECTOR)
                STORE_FULL(acc[t] + bias, out + (idx_t)t * n_C, lanes);
            else
                STORE_TAIL(acc[t] + bias, out + (idx_t)t * n_C, lanes);
        }
    }
}

/* ---- GPU variant: work-group tiles staged in local memory ----
 * The same implicit GEMM, blocked the way GPU GEMMs are: a work-group of
 * (GROUP_N / MICRO_N) x (GROUP_M / MICRO_M) work-items computes a GROUP_M
 * (pixels) x GROUP_N (channels) block of z; each K step stages a TILE_K
 * slice of the gathered input (zero where the window leaves the padded
 * image) and of W in local memory, and each work-item accumulates a MICRO_M
 * x MICRO_N register tile from it. Chosen by the host where local memory
 * is real (GPUs); POCL runs it too, slowly. */
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
#define THREADS_M (GROUP_M / MICRO_M)
#define THREADS_N (GROUP_N / MICRO_N)
#define THREADS (THREADS_M * THREADS_N)
#define A_LOADS (GROUP_M * TILE_K / THREADS) /* per work-item and K step */
#define B_LOADS (GROUP_N * TILE_K / THREADS)

__kernel __attribute__((reqd_work_group_size(THREADS_N, THREADS_M, 1))) void
conv_forward_local(const __global real *a_prev, const __global real *w, const __global real *b,
                   __global real *z, int m, int n_H_prev, int n_W_prev, int n_C_prev, int f_h,
                   int f_w, int n_C, int n_H, int n_W, int stride, int pad)
{
    /* +1: the K-major stores of A would otherwise hit one bank. */
    __local real a_tile[TILE_K][GROUP_M + 1];
    __local real w_tile[TILE_K][GROUP_N];
    const int tx = get_local_id(0), ty = get_local_id(1), tid = ty * THREADS_N + tx;
    const int m0 = get_group_id(1) * GROUP_M, n0 = get_group_id(0) * GROUP_N;
    const int n_pixels = m * n_H * n_W, K = f_h * f_w * n_C_prev;

    /* Loads of A: TILE_K consecutive work-items read consecutive k (channels
     * of one pixel, contiguous in NHWC) of one row. */
    const int a_k = tid % TILE_K, a_row0 = tid / TILE_K;
    int a_ih0[A_LOADS], a_iw0[A_LOADS];
    idx_t a_image[A_LOADS];
    _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
        int p = m0 + a_row0 + j * (THREADS / TILE_K);
        int valid = p < n_pixels;
        p = valid ? p : 0;
        int i = p / (n_H * n_W), r = p - i * (n_H * n_W), h = r / n_W;
        a_image[j] = (idx_t)i * n_H_prev;
        /* A row past the end reads as padding: its window starts far outside. */
        a_ih0[j] = valid ? h * stride - pad : -(f_h + n_H_prev);
        a_iw0[j] = (r - h * n_W) * stride - pad;
    }
    /* Loads of W: consecutive work-items read consecutive channels. */
    const int b_n = tid % GROUP_N, b_k0 = tid / GROUP_N;

    real acc[MICRO_M][MICRO_N];
    _Pragma("unroll") for (int r = 0; r < MICRO_M; r++)
        _Pragma("unroll") for (int c = 0; c < MICRO_N; c++)
            acc[r][c] = 0;

    for (int k0 = 0; k0 < K; k0 += TILE_K) {
        const int k = k0 + a_k;
        const int cp = k % n_C_prev, tap = k / n_C_prev;
        const int kh = tap / f_w, kw = tap - (tap / f_w) * f_w;
        _Pragma("unroll") for (int j = 0; j < A_LOADS; j++) {
            int ih = a_ih0[j] + kh, iw = a_iw0[j] + kw;
            int inside = k < K && ih >= 0 && ih < n_H_prev && iw >= 0 && iw < n_W_prev;
            a_tile[a_k][a_row0 + j * (THREADS / TILE_K)] =
                inside ? a_prev[((a_image[j] + ih) * n_W_prev + iw) * n_C_prev + cp] : (real)0;
        }
        _Pragma("unroll") for (int j = 0; j < B_LOADS; j++) {
            int kk = b_k0 + j * (THREADS / GROUP_N), n = n0 + b_n;
            w_tile[kk][b_n] = k0 + kk < K && n < n_C ? w[(idx_t)(k0 + kk) * n_C + n] : (real)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        _Pragma("unroll") for (int kk = 0; kk < TILE_K; kk++) {
            real a_reg[MICRO_M], w_reg[MICRO_N];
            _Pragma("unroll") for (int r = 0; r < MICRO_M; r++)
                a_reg[r] = a_tile[kk][ty + r * THREADS_M];
            _Pragma("unroll") for (int c = 0; c < MICRO_N; c++)
                w_reg[c] = w_tile[kk][tx + c * THREADS_N];
            _Pragma("unroll") for (int r = 0; r < MICRO_M; r++)
                _Pragma("unroll") for (int c = 0; c < MICRO_N; c++)
                    acc[r][c] += a_reg[r] * w_reg[c];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    _Pragma("unroll") for (int r = 0; r < MICRO_M; r++) {
        const int p = m0 + ty + r * THREADS_M;
        if (p >= n_pixels)
            break;
        _Pragma("unroll") for (int c = 0; c < MICRO_N; c++) {
            const int n = n0 + tx + c * THREADS_N;
            if (n < n_C)
                z[(idx_t)p * n_C + n] = acc[r][c] + b[n];
        }
    }
}
