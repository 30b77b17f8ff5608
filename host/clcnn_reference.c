/* The CPU reference of clcnn: the numpy walkthrough's functions in plain C,
 * double precision, NHWC. It is the oracle of the tests and of `clcnn check`,
 * so it keeps the walkthrough's loops; only the convolution loops are
 * arranged so the innermost loop runs over contiguous channels, which keeps
 * the large benchmark layers at seconds instead of minutes.
 *
 * Padding is never materialised: a tap that falls into the padding adds
 * nothing to a sum and receives no gradient, so it is skipped. That is also
 * how conv_backward writes dA_prev directly (the walkthrough computes
 * dA_prev_pad and never copies it back). */
#include "clcnn_reference.h"

#include <string.h>

/* The caller has checked that the window fits into the padded input. */
static size_t output_extent(size_t n_prev, size_t f, size_t stride, size_t pad)
{
    return (n_prev + 2 * pad - f) / stride + 1;
}

/* Padded coordinate -> input coordinate; 0 when it lies in the padding. */
static int unpad(size_t padded, size_t pad, size_t n_prev, size_t *index)
{
    if (padded < pad || padded - pad >= n_prev)
        return 0;
    *index = padded - pad;
    return 1;
}

/* Offset of the first maximum of an (n_h, n_w) window in row-major order; a
 * later element must be strictly greater to win, so ties go to the first. */
static size_t first_max_offset(const double *window, size_t n_h, size_t n_w,
                               size_t row_stride, size_t col_stride)
{
    size_t best = 0;
    for (size_t h = 0; h < n_h; h++)
        for (size_t w = 0; w < n_w; w++) {
            size_t offset = h * row_stride + w * col_stride;
            if (window[offset] > window[best])
                best = offset;
        }
    return best;
}

/* The one definition of average pooling's gradient share, used by
 * distribute_value and pool_backward alike. */
static double distributed_share(double dz, size_t n_h, size_t n_w)
{
    return dz / (double)(n_h * n_w);
}

int clcnn_ref_conv_output_dims(const size_t a_dims[4], const size_t w_dims[4],
                               int stride, int pad, size_t z_dims[4])
{
    if (stride < 1 || pad < 0)
        return -1;
    for (int k = 0; k < 4; k++)
        if (a_dims[k] == 0 || w_dims[k] == 0)
            return -1;
    if (w_dims[2] != a_dims[3])
        return -1;
    const size_t p = (size_t)pad, s = (size_t)stride;
    if (w_dims[0] > a_dims[1] + 2 * p || w_dims[1] > a_dims[2] + 2 * p)
        return -1;
    z_dims[0] = a_dims[0];
    z_dims[1] = output_extent(a_dims[1], w_dims[0], s, p);
    z_dims[2] = output_extent(a_dims[2], w_dims[1], s, p);
    z_dims[3] = w_dims[3];
    return 0;
}

int clcnn_ref_pool_output_dims(const size_t a_dims[4], int f, int stride,
                               size_t out_dims[4])
{
    if (f < 1 || stride < 1)
        return -1;
    for (int k = 0; k < 4; k++)
        if (a_dims[k] == 0)
            return -1;
    const size_t fs = (size_t)f, s = (size_t)stride;
    if (fs > a_dims[1] || fs > a_dims[2])
        return -1;
    out_dims[0] = a_dims[0];
    out_dims[1] = output_extent(a_dims[1], fs, s, 0);
    out_dims[2] = output_extent(a_dims[2], fs, s, 0);
    out_dims[3] = a_dims[3];
    return 0;
}

void clcnn_ref_zero_pad(const double *x, const size_t x_dims[4], int pad, double *x_pad)
{
    const size_t m = x_dims[0], n_h = x_dims[1], n_w = x_dims[2], n_c = x_dims[3];
    const size_t p = (size_t)pad, n_h_pad = n_h + 2 * p, n_w_pad = n_w + 2 * p;
    memset(x_pad, 0, m * n_h_pad * n_w_pad * n_c * sizeof *x_pad);
    for (size_t i = 0; i < m; i++)
        for (size_t h = 0; h < n_h; h++)
            memcpy(x_pad + ((i * n_h_pad + h + p) * n_w_pad + p) * n_c,
                   x + (i * n_h + h) * n_w * n_c, n_w * n_c * sizeof *x);
}

double clcnn_ref_conv_single_step(const double *a_slice_prev, const double *w, double b,
                                  size_t n)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += a_slice_prev[k] * w[k];
    return sum + b;
}

void clcnn_ref_conv_forward(const double *a_prev, const size_t a_dims[4], const double *w,
                            const size_t w_dims[4], const double *b, int stride, int pad,
                            double *z)
{
    const size_t m = a_dims[0], n_h_prev = a_dims[1], n_w_prev = a_dims[2];
    const size_t n_c_prev = a_dims[3], f_h = w_dims[0], f_w = w_dims[1], n_c = w_dims[3];
    const size_t s = (size_t)stride, p = (size_t)pad;
    const size_t n_h = output_extent(n_h_prev, f_h, s, p);
    const size_t n_w = output_extent(n_w_prev, f_w, s, p);

    for (size_t i = 0; i < m; i++)
        for (size_t oh = 0; oh < n_h; oh++)
            for (size_t ow = 0; ow < n_w; ow++) {
                double *restrict z_pixel = z + ((i * n_h + oh) * n_w + ow) * n_c;
                for (size_t c = 0; c < n_c; c++)
                    z_pixel[c] = 0.0;
                for (size_t kh = 0; kh < f_h; kh++) {
                    size_t ih;
                    if (!unpad(oh * s + kh, p, n_h_prev, &ih))
                        continue;
                    for (size_t kw = 0; kw < f_w; kw++) {
                        size_t iw;
                        if (!unpad(ow * s + kw, p, n_w_prev, &iw))
                            continue;
                        const double *a_pixel =
                            a_prev + ((i * n_h_prev + ih) * n_w_prev + iw) * n_c_prev;
                        const double *w_tap = w + (kh * f_w + kw) * n_c_prev * n_c;
                        for (size_t cp = 0; cp < n_c_prev; cp++) {
                            const double a = a_pixel[cp];
                            const double *restrict w_row = w_tap + cp * n_c;
                            for (size_t c = 0; c < n_c; c++)
                                z_pixel[c] += a * w_row[c];
                        }
                    }
                }
                /* Bias last, as conv_single_step does: sum(a * w) + b. */
                for (size_t c = 0; c < n_c; c++)
                    z_pixel[c] += b[c];
            }
}

void clcnn_ref_conv_backward(const double *dz, const double *a_prev, const size_t a_dims[4],
                             const double *w, const size_t w_dims[4], int stride, int pad,
                             double *da_prev, double *dw, double *db)
{
    const size_t m = a_dims[0], n_h_prev = a_dims[1], n_w_prev = a_dims[2];
    const size_t n_c_prev = a_dims[3], f_h = w_dims[0], f_w = w_dims[1], n_c = w_dims[3];
    const size_t s = (size_t)stride, p = (size_t)pad;
    const size_t n_h = output_extent(n_h_prev, f_h, s, p);
    const size_t n_w = output_extent(n_w_prev, f_w, s, p);

    if (da_prev)
        memset(da_prev, 0, m * n_h_prev * n_w_prev * n_c_prev * sizeof *da_prev);
    if (dw)
        memset(dw, 0, f_h * f_w * n_c_prev * n_c * sizeof *dw);
    if (db)
        memset(db, 0, n_c * sizeof *db);

    for (size_t i = 0; i < m; i++)
        for (size_t oh = 0; oh < n_h; oh++)
            for (size_t ow = 0; ow < n_w; ow++) {
                const double *dz_pixel = dz + ((i * n_h + oh) * n_w + ow) * n_c;
                if (db)
                    for (size_t c = 0; c < n_c; c++)
                        db[c] += dz_pixel[c];
                if (!da_prev && !dw)
                    continue;
                for (size_t kh = 0; kh < f_h; kh++) {
                    size_t ih;
                    if (!unpad(oh * s + kh, p, n_h_prev, &ih))
                        continue;
                    for (size_t kw = 0; kw < f_w; kw++) {
                        size_t iw;
                        if (!unpad(ow * s + kw, p, n_w_prev, &iw))
                            continue;
                        const size_t a_offset =
                            ((i * n_h_prev + ih) * n_w_prev + iw) * n_c_prev;
                        const size_t w_offset = (kh * f_w + kw) * n_c_prev * n_c;
                        for (size_t cp = 0; cp < n_c_prev; cp++) {
                            const size_t row = w_offset + cp * n_c;
                            if (da_prev) {
                                double sum = 0.0;
                                for (size_t c = 0; c < n_c; c++)
                                    sum += w[row + c] * dz_pixel[c];
                                da_prev[a_offset + cp] += sum;
                            }
                            if (dw) {
                                const double a = a_prev[a_offset + cp];
                                double *restrict dw_row = dw + row;
                                for (size_t c = 0; c < n_c; c++)
                                    dw_row[c] += a * dz_pixel[c];
                            }
                        }
                    }
                }
            }
}

void clcnn_ref_create_mask_from_window(const double *x, size_t n_h, size_t n_w, double *mask)
{
    for (size_t k = 0; k < n_h * n_w; k++)
        mask[k] = 0.0;
    mask[first_max_offset(x, n_h, n_w, n_w, 1)] = 1.0;
}

void clcnn_ref_distribute_value(double dz, size_t n_h, size_t n_w, double *a)
{
    const double share = distributed_share(dz, n_h, n_w);
    for (size_t k = 0; k < n_h * n_w; k++)
        a[k] = share;
}

void clcnn_ref_pool_forward(const double *a_prev, const size_t a_dims[4], int f, int stride,
                            clcnn_pool_mode mode, double *a)
{
    const size_t m = a_dims[0], n_h_prev = a_dims[1], n_w_prev = a_dims[2], n_c = a_dims[3];
    const size_t fs = (size_t)f, s = (size_t)stride;
    const size_t n_h = output_extent(n_h_prev, fs, s, 0);
    const size_t n_w = output_extent(n_w_prev, fs, s, 0);
    const size_t row_stride = n_w_prev * n_c;

    for (size_t i = 0; i < m; i++)
        for (size_t oh = 0; oh < n_h; oh++)
            for (size_t ow = 0; ow < n_w; ow++)
                for (size_t c = 0; c < n_c; c++) {
                    const double *window =
                        a_prev + ((i * n_h_prev + oh * s) * n_w_prev + ow * s) * n_c + c;
                    double result;
                    if (mode == CLCNN_POOL_MAX) {
                        result = window[first_max_offset(window, fs, fs, row_stride, n_c)];
                    } else {
                        /* Each row's sum, then the rows': the error of a long
                         * sum of one sign grows with its sides, not its area. */
                        double sum = 0.0;
                        for (size_t kh = 0; kh < fs; kh++) {
                            double row_sum = 0.0;
                            for (size_t kw = 0; kw < fs; kw++)
                                row_sum += window[kh * row_stride + kw * n_c];
                            sum += row_sum;
                        }
                        result = sum / (double)(fs * fs);
                    }
                    a[((i * n_h + oh) * n_w + ow) * n_c + c] = result;
                }
}

void clcnn_ref_pool_backward(const double *da, const double *a_prev, const size_t a_dims[4],
                             int f, int stride, clcnn_pool_mode mode, double *da_prev)
{
    const size_t m = a_dims[0], n_h_prev = a_dims[1], n_w_prev = a_dims[2], n_c = a_dims[3];
    const size_t fs = (size_t)f, s = (size_t)stride;
    const size_t n_h = output_extent(n_h_prev, fs, s, 0);
    const size_t n_w = output_extent(n_w_prev, fs, s, 0);
    const size_t row_stride = n_w_prev * n_c;

    memset(da_prev, 0, m * n_h_prev * n_w_prev * n_c * sizeof *da_prev);
    for (size_t i = 0; i < m; i++)
        for (size_t oh = 0; oh < n_h; oh++)
            for (size_t ow = 0; ow < n_w; ow++)
                for (size_t c = 0; c < n_c; c++) {
                    const size_t corner =
                        ((i * n_h_prev + oh * s) * n_w_prev + ow * s) * n_c + c;
                    const double grad = da[((i * n_h + oh) * n_w + ow) * n_c + c];
                    if (mode == CLCNN_POOL_MAX) {
                        da_prev[corner + first_max_offset(a_prev + corner, fs, fs,
                                                          row_stride, n_c)] += grad;
                    } else {
                        /* Average: every element of the window gets dz / (f * f). */
                        const double share = distributed_share(grad, fs, fs);
                        for (size_t kh = 0; kh < fs; kh++)
                            for (size_t kw = 0; kw < fs; kw++)
                                da_prev[corner + kh * row_stride + kw * n_c] += share;
                    }
                }
}
