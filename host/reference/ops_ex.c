/* The CPU reference of the version 0.2 ops: convolution with per-axis
 * strides, asymmetric padding, dilation and groups, an optional bias and a
 * ReLU; pooling with rectangular windows, padding and count_include_pad.
 * Plain loops in double precision, like walkthrough.c, written from
 * the definitions in clcnn.h rather than from the device kernels: tap
 * (kh, kw) of output pixel (oh, ow) reads input pixel
 * (oh * stride_h - pad_top + kh * dilation_h, ow * stride_w - pad_left +
 * kw * dilation_w), and a tap in the padding adds nothing and receives no
 * gradient. Innermost loops run over contiguous channels, so that the
 * large benchmark layers take seconds. */
#include "clcnn_reference.h"
#include "window.h"

#include <math.h>
#include <string.h>

/* Output extent of one axis, or 0 when the (effective) window does not fit. */
static size_t extent(size_t n_prev, long long pad_before, long long pad_after, long long window, long long stride)
{
    long long padded = (long long)n_prev + pad_before + pad_after;
    return window > padded ? 0 : (size_t)((padded - window) / stride + 1);
}

/* dims = (m, n_h, n_w, n_c): 0, or -1 when an extent is 0 (the window does
 * not fit). */
static int output_dims(size_t dims[4], size_t m, size_t n_h, size_t n_w, size_t n_c)
{
    if (n_h == 0 || n_w == 0)
        return -1;
    dims[0] = m;
    dims[1] = n_h;
    dims[2] = n_w;
    dims[3] = n_c;
    return 0;
}

/* Input coordinate of `tap` of output `o`; 0 when it lies in the padding. */
static int input_at(size_t o, int stride, int pad, size_t tap, int dilation, size_t n_prev, size_t *index)
{
    long long x = (long long)o * stride - pad + (long long)tap * dilation;
    if (x < 0 || x >= (long long)n_prev)
        return 0;
    *index = (size_t)x;
    return 1;
}

int clcnn_ref_conv_output_dims_ex(const size_t a_dims[4], const size_t w_dims[4], const clcnn_conv_params *p,
                                  size_t z_dims[4])
{
    if (p == NULL || p->stride_h < 1 || p->stride_w < 1 || p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 ||
        p->pad_right < 0 || p->dilation_h < 1 || p->dilation_w < 1 || p->groups < 1)
        return -1;
    for (int k = 0; k < 4; k++)
        if (a_dims[k] == 0 || w_dims[k] == 0)
            return -1;
    const size_t groups = (size_t)p->groups;
    if (a_dims[3] % groups != 0 || w_dims[3] % groups != 0 || w_dims[2] != a_dims[3] / groups)
        return -1;
    const long long e_h = (long long)p->dilation_h * ((long long)w_dims[0] - 1) + 1;
    const long long e_w = (long long)p->dilation_w * ((long long)w_dims[1] - 1) + 1;
    return output_dims(z_dims, a_dims[0], extent(a_dims[1], p->pad_top, p->pad_bottom, e_h, p->stride_h),
                       extent(a_dims[2], p->pad_left, p->pad_right, e_w, p->stride_w), w_dims[3]);
}

int clcnn_ref_pool_output_dims_ex(const size_t a_dims[4], const clcnn_pool_params *p, size_t out_dims[4])
{
    if (p == NULL || p->f_h < 1 || p->f_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->pad_top < 0 ||
        p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0 || p->pad_top >= p->f_h || p->pad_bottom >= p->f_h ||
        p->pad_left >= p->f_w || p->pad_right >= p->f_w)
        return -1;
    for (int k = 0; k < 4; k++)
        if (a_dims[k] == 0)
            return -1;
    return output_dims(out_dims, a_dims[0], extent(a_dims[1], p->pad_top, p->pad_bottom, p->f_h, p->stride_h),
                       extent(a_dims[2], p->pad_left, p->pad_right, p->f_w, p->stride_w), a_dims[3]);
}

/* The sizes of a convolution, from its operands' dims. */
typedef struct conv_shape {
    size_t m, n_h_prev, n_w_prev, n_c_prev, f_h, f_w, n_c, n_h, n_w, groups, in_group, out_group;
} conv_shape;

/* 0 with *s filled, or -1 when the dims and params are not a convolution. */
static int conv_shape_of(const size_t a_dims[4], const size_t w_dims[4], const clcnn_conv_params *p, conv_shape *s)
{
    size_t z_dims[4];
    if (clcnn_ref_conv_output_dims_ex(a_dims, w_dims, p, z_dims) != 0)
        return -1;
    const size_t groups = (size_t)p->groups;
    const conv_shape shape = {a_dims[0], a_dims[1], a_dims[2], a_dims[3], w_dims[0],          w_dims[1],
                              w_dims[3], z_dims[1], z_dims[2], groups,    a_dims[3] / groups, w_dims[3] / groups};
    *s = shape;
    return 0;
}

/* The in-image taps of output pixel (i, oh, ow), row by row: start with
 * *tap 0 and call until it returns 0. Each call gives the next tap's input
 * pixel (its index in a_prev, in pixels) and its index in the window. */
static int next_tap(const conv_shape *s, const clcnn_conv_params *p, size_t i, size_t oh, size_t ow, size_t *tap,
                    size_t *a_pixel, size_t *w_tap)
{
    for (; *tap < s->f_h * s->f_w; ++*tap) {
        size_t ih, iw;
        if (input_at(oh, p->stride_h, p->pad_top, *tap / s->f_w, p->dilation_h, s->n_h_prev, &ih) &&
            input_at(ow, p->stride_w, p->pad_left, *tap % s->f_w, p->dilation_w, s->n_w_prev, &iw)) {
            *a_pixel = (i * s->n_h_prev + ih) * s->n_w_prev + iw;
            *w_tap = (*tap)++;
            return 1;
        }
    }
    return 0;
}

void clcnn_ref_conv_forward_ex(const double *a_prev, const size_t a_dims[4], const double *w, const size_t w_dims[4],
                               const double *b, const clcnn_conv_params *p, clcnn_activation act, double *z)
{
    conv_shape s;
    if (conv_shape_of(a_dims, w_dims, p, &s) != 0)
        return;
    for (size_t i = 0; i < s.m; i++)
        for (size_t oh = 0; oh < s.n_h; oh++)
            for (size_t ow = 0; ow < s.n_w; ow++) {
                double *restrict z_pixel = z + ((i * s.n_h + oh) * s.n_w + ow) * s.n_c;
                for (size_t c = 0; c < s.n_c; c++)
                    z_pixel[c] = 0.0;
                for (size_t tap = 0, a_px, w_tap; next_tap(&s, p, i, oh, ow, &tap, &a_px, &w_tap);) {
                    const double *a_pixel = a_prev + a_px * s.n_c_prev;
                    const double *w_window = w + w_tap * s.in_group * s.n_c;
                    for (size_t g = 0; g < s.groups; g++)
                        for (size_t cp = 0; cp < s.in_group; cp++) {
                            const double a = a_pixel[g * s.in_group + cp];
                            const double *restrict w_row = w_window + cp * s.n_c + g * s.out_group;
                            double *restrict z_group = z_pixel + g * s.out_group;
                            for (size_t c = 0; c < s.out_group; c++)
                                z_group[c] += a * w_row[c];
                        }
                }
                for (size_t c = 0; c < s.n_c; c++) {
                    double v = b ? z_pixel[c] + b[c] : z_pixel[c];
                    z_pixel[c] = act == CLCNN_ACTIVATION_RELU && v < 0.0 ? 0.0 : v;
                }
            }
}

void clcnn_ref_conv_backward_ex(const double *dz, const double *a_prev, const size_t a_dims[4], const double *w,
                                const size_t w_dims[4], const clcnn_conv_params *p, double *da_prev, double *dw,
                                double *db)
{
    conv_shape s;
    if (conv_shape_of(a_dims, w_dims, p, &s) != 0)
        return;
    if (da_prev)
        memset(da_prev, 0, s.m * s.n_h_prev * s.n_w_prev * s.n_c_prev * sizeof *da_prev);
    if (dw)
        memset(dw, 0, s.f_h * s.f_w * s.in_group * s.n_c * sizeof *dw);
    if (db)
        memset(db, 0, s.n_c * sizeof *db);

    for (size_t i = 0; i < s.m; i++)
        for (size_t oh = 0; oh < s.n_h; oh++)
            for (size_t ow = 0; ow < s.n_w; ow++) {
                const double *dz_pixel = dz + ((i * s.n_h + oh) * s.n_w + ow) * s.n_c;
                if (db)
                    for (size_t c = 0; c < s.n_c; c++)
                        db[c] += dz_pixel[c];
                if (!da_prev && !dw)
                    continue;
                for (size_t tap = 0, a_px, w_tap; next_tap(&s, p, i, oh, ow, &tap, &a_px, &w_tap);)
                    for (size_t g = 0; g < s.groups; g++)
                        for (size_t cp = 0; cp < s.in_group; cp++) {
                            const size_t row = (w_tap * s.in_group + cp) * s.n_c + g * s.out_group;
                            const double *dz_group = dz_pixel + g * s.out_group;
                            const size_t a_at = a_px * s.n_c_prev + g * s.in_group + cp;
                            if (da_prev) {
                                double sum = 0.0;
                                for (size_t c = 0; c < s.out_group; c++)
                                    sum += w[row + c] * dz_group[c];
                                da_prev[a_at] += sum;
                            }
                            if (dw) {
                                const double a = a_prev[a_at];
                                double *restrict dw_row = dw + row;
                                for (size_t c = 0; c < s.out_group; c++)
                                    dw_row[c] += a * dz_group[c];
                            }
                        }
            }
}

/* The in-image part of pooling window (oh, ow): its first input row and
 * column and its extent, clipped at the image's edges. */
typedef struct pool_window {
    size_t h0, w0, n_h, n_w;
} pool_window;

static pool_window clip_window(size_t oh, size_t ow, const clcnn_pool_params *p, size_t n_h_prev, size_t n_w_prev)
{
    long long top = (long long)oh * p->stride_h - p->pad_top, left = (long long)ow * p->stride_w - p->pad_left;
    long long bottom = top + p->f_h, right = left + p->f_w;
    if (top < 0)
        top = 0;
    if (left < 0)
        left = 0;
    if (bottom > (long long)n_h_prev)
        bottom = (long long)n_h_prev;
    if (right > (long long)n_w_prev)
        right = (long long)n_w_prev;
    /* pad < window on each side keeps at least one row and column inside. */
    pool_window win = {(size_t)top, (size_t)left, (size_t)(bottom - top), (size_t)(right - left)};
    return win;
}

static size_t pool_divisor(const pool_window *win, const clcnn_pool_params *p)
{
    return p->count_include_pad ? (size_t)p->f_h * (size_t)p->f_w : win->n_h * win->n_w;
}

size_t clcnn__ref_first_max(const double *window, size_t n_h, size_t n_w, size_t row_stride, size_t col_stride)
{
    size_t best = 0;
    for (size_t h = 0; h < n_h; h++)
        for (size_t w = 0; w < n_w; w++) {
            size_t offset = h * row_stride + w * col_stride;
            if (window[offset] > window[best] || isnan(window[offset]))
                best = offset;
        }
    return best;
}

double clcnn__ref_share(double dz, size_t count)
{
    return dz / (double)count;
}

void clcnn_ref_pool_forward_ex(const double *a_prev, const size_t a_dims[4], const clcnn_pool_params *p,
                               clcnn_pool_mode mode, double *a)
{
    size_t out_dims[4];
    if (clcnn_ref_pool_output_dims_ex(a_dims, p, out_dims) != 0)
        return;
    const size_t m = a_dims[0], n_h_prev = a_dims[1], n_w_prev = a_dims[2], n_c = a_dims[3];
    const size_t n_h = out_dims[1], n_w = out_dims[2], row_stride = n_w_prev * n_c;
    for (size_t i = 0; i < m; i++)
        for (size_t oh = 0; oh < n_h; oh++)
            for (size_t ow = 0; ow < n_w; ow++) {
                const pool_window win = clip_window(oh, ow, p, n_h_prev, n_w_prev);
                for (size_t c = 0; c < n_c; c++) {
                    const double *window = a_prev + ((i * n_h_prev + win.h0) * n_w_prev + win.w0) * n_c + c;
                    double result;
                    if (mode == CLCNN_POOL_MAX) {
                        result = window[clcnn__ref_first_max(window, win.n_h, win.n_w, row_stride, n_c)];
                    } else {
                        /* Each row's sum, then the rows' (as the kernels do). */
                        double sum = 0.0;
                        for (size_t kh = 0; kh < win.n_h; kh++) {
                            double row_sum = 0.0;
                            for (size_t kw = 0; kw < win.n_w; kw++)
                                row_sum += window[kh * row_stride + kw * n_c];
                            sum += row_sum;
                        }
                        result = sum / (double)pool_divisor(&win, p);
                    }
                    a[((i * n_h + oh) * n_w + ow) * n_c + c] = result;
                }
            }
}

void clcnn_ref_pool_backward_ex(const double *da, const double *a_prev, const size_t a_dims[4],
                                const clcnn_pool_params *p, clcnn_pool_mode mode, double *da_prev)
{
    size_t out_dims[4];
    if (clcnn_ref_pool_output_dims_ex(a_dims, p, out_dims) != 0)
        return;
    const size_t m = a_dims[0], n_h_prev = a_dims[1], n_w_prev = a_dims[2], n_c = a_dims[3];
    const size_t n_h = out_dims[1], n_w = out_dims[2], row_stride = n_w_prev * n_c;
    memset(da_prev, 0, m * n_h_prev * n_w_prev * n_c * sizeof *da_prev);
    for (size_t i = 0; i < m; i++)
        for (size_t oh = 0; oh < n_h; oh++)
            for (size_t ow = 0; ow < n_w; ow++) {
                const pool_window win = clip_window(oh, ow, p, n_h_prev, n_w_prev);
                for (size_t c = 0; c < n_c; c++) {
                    const size_t corner = ((i * n_h_prev + win.h0) * n_w_prev + win.w0) * n_c + c;
                    const double grad = da[((i * n_h + oh) * n_w + ow) * n_c + c];
                    if (mode == CLCNN_POOL_MAX) {
                        da_prev[corner + clcnn__ref_first_max(a_prev + corner, win.n_h, win.n_w, row_stride, n_c)] +=
                            grad;
                    } else {
                        const double share = clcnn__ref_share(grad, pool_divisor(&win, p));
                        for (size_t kh = 0; kh < win.n_h; kh++)
                            for (size_t kw = 0; kw < win.n_w; kw++)
                                da_prev[corner + kh * row_stride + kw * n_c] += share;
                    }
                }
            }
}
