/* sum|terms| of every value of every op: what its results are judged by;
 * see kit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn_reference.h"
#include "kit.h"

/* |x| into a new array; NULL when out of memory (or x NULL). */
static double *abs_copy(const double *x, size_t n)
{
    if (!x)
        return NULL;
    double *out = malloc((n ? n : 1) * sizeof *out);
    if (out)
        kit_abs(x, out, n);
    return out;
}

int kit_conv_forward_terms(const double *a_prev, const size_t a_dims[4], const double *w, const size_t w_dims[4],
                           const double *b, const clcnn_conv_params *params, double *z_terms)
{
    /* Linear in each argument: on absolute values the reference gives
     * sum|a*w| + |b| for every output. A ReLU after it only ever makes a
     * value exact (0) or leaves it, so the terms are those before it. */
    double *abs_a = abs_copy(a_prev, kit_elements(a_dims));
    double *abs_w = abs_copy(w, kit_elements(w_dims));
    double *abs_b = abs_copy(b, w_dims[3]);
    int ok = abs_a && abs_w && (abs_b || !b);
    if (ok)
        clcnn_ref_conv_forward_ex(abs_a, a_dims, abs_w, w_dims, abs_b, params, CLCNN_ACTIVATION_NONE, z_terms);
    free(abs_a);
    free(abs_w);
    free(abs_b);
    return ok ? 0 : -1;
}

int kit_conv_backward_terms(const double *dz, const double *a_prev, const size_t a_dims[4], const double *w,
                            const size_t w_dims[4], const clcnn_conv_params *params, double *da_terms, double *dw_terms,
                            double *db_terms)
{
    /* Linear in dz, and in a (for dW) and w (for dA): on absolute values
     * the reference gives sum|dz*w|, sum|a*dz| and sum|dz|. */
    size_t z_dims[4];
    if (clcnn_ref_conv_output_dims_ex(a_dims, w_dims, params, z_dims) != 0)
        return -1;
    double *abs_dz = abs_copy(dz, kit_elements(z_dims));
    double *abs_a = abs_copy(a_prev, kit_elements(a_dims));
    double *abs_w = abs_copy(w, kit_elements(w_dims));
    int ok = abs_dz && abs_a && abs_w;
    if (ok)
        clcnn_ref_conv_backward_ex(abs_dz, abs_a, a_dims, abs_w, w_dims, params, da_terms, dw_terms, db_terms);
    free(abs_dz);
    free(abs_a);
    free(abs_w);
    return ok ? 0 : -1;
}

int kit_pool_forward_terms(const double *a_prev, const size_t a_dims[4], const clcnn_pool_params *params,
                           clcnn_pool_mode mode, double *a_terms)
{
    size_t out_dims[4];
    if (clcnn_ref_pool_output_dims_ex(a_dims, params, out_dims) != 0)
        return -1;
    if (mode == CLCNN_POOL_MAX) {
        memset(a_terms, 0, kit_elements(out_dims) * sizeof *a_terms);
        return 0;
    }
    /* The mean is linear: on |a| it gives sum|a| / divisor. */
    double *abs_a = abs_copy(a_prev, kit_elements(a_dims));
    if (!abs_a)
        return -1;
    clcnn_ref_pool_forward_ex(abs_a, a_dims, params, mode, a_terms);
    free(abs_a);
    return 0;
}

int kit_pool_backward_terms(const double *da, const double *a_prev, const size_t a_dims[4],
                            const clcnn_pool_params *params, clcnn_pool_mode mode, double *da_prev_terms)
{
    /* Linear in da with a_prev fixed: on |da| the reference gives, per
     * input pixel, the sum of |da| over the windows whose first maximum it
     * is (max) or sum|da| / divisor over the windows that cover it (average). */
    size_t out_dims[4];
    if (clcnn_ref_pool_output_dims_ex(a_dims, params, out_dims) != 0)
        return -1;
    double *abs_da = abs_copy(da, kit_elements(out_dims));
    if (!abs_da)
        return -1;
    clcnn_ref_pool_backward_ex(abs_da, a_prev, a_dims, params, mode, da_prev_terms);
    free(abs_da);
    return 0;
}

/* OpenCL lets results below the smallest normal number flush to zero, so a
 * probability of e^-100 may come out as 0 or as a denormal with few bits:
 * terms that make the bound of such values at least that number. */
static double underflow_terms(clcnn_dtype dtype)
{
    return kit_dtype_min_normal(dtype) / (KIT_TOLERANCE * kit_dtype_eps(dtype));
}

void kit_softmax_cross_entropy_forward_terms(clcnn_dtype dtype, const double *logits, const size_t logits_dims[4],
                                             const double *labels, const double *probs_ref, const double *loss_ref,
                                             double *probs_terms, double *loss_terms, double *mean_terms)
{
    /* From how each value is computed: with d_c = z_c - max and R = max |d_c|
     * of the row, exp(d_c) carries a relative error of a few eps (OpenCL
     * allows exp 3 ulp) plus eps * |d_c| (the rounding of d_c), the row's
     * sum S one of about eps * (K + R), so p_c = exp(d_c) / S (division:
     * 2.5 ulp) is within eps * p_c * (K + 8 + 2R), and loss = log S - d_y
     * within eps * (|log S| + K + 8 + R + |d_y| + |loss|). The mean adds the
     * rows' terms and its own summation's, sum|loss|, over the rows. */
    const size_t K = logits_dims[3];
    const size_t rows = logits_dims[0] * logits_dims[1] * logits_dims[2];
    double sum_terms = 0.0, sum_abs = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const double *z = logits + r * K;
        double top = z[0], spread = 0.0, s = 0.0;
        for (size_t c = 1; c < K; c++)
            top = fmax(top, z[c]);
        for (size_t c = 0; c < K; c++) {
            spread = fmax(spread, top - z[c]);
            s += exp(z[c] - top);
        }
        if (probs_terms)
            for (size_t c = 0; c < K; c++)
                probs_terms[r * K + c] =
                    probs_ref[r * K + c] * ((double)K + 8.0 + 2.0 * spread) + underflow_terms(dtype);
        /* Labels are valid classes here (an invalid one gives NaN, which
         * no bound admits). */
        double label = labels[r];
        double d_y = label >= 0.0 && label < (double)K ? z[(size_t)label] - top : 0.0;
        double row_terms = fabs(log(s)) + (double)K + 8.0 + spread + fabs(d_y) + fabs(loss_ref[r]);
        if (loss_terms)
            loss_terms[r] = row_terms;
        sum_terms += row_terms;
        sum_abs += fabs(loss_ref[r]);
    }
    if (mean_terms)
        *mean_terms = (sum_terms + sum_abs) / (double)rows;
}

void kit_softmax_cross_entropy_backward_terms(clcnn_dtype dtype, const double *probs, const size_t probs_dims[4],
                                              const double *labels, double *dlogits_terms)
{
    /* (p - onehot) / rows: one subtraction and one division (2.5 ulp). */
    const size_t K = probs_dims[3];
    const size_t n = kit_elements(probs_dims), rows = n / K;
    for (size_t i = 0; i < n; i++) {
        size_t r = i / K, c = i % K;
        double onehot = labels[r] == (double)c ? 1.0 : 0.0;
        dlogits_terms[i] = (fabs(probs[i]) + onehot) / (double)rows + underflow_terms(dtype);
    }
}

void kit_sgd_update_terms(const double *param, const double *grad, const double *velocity, size_t n, double lr,
                          double momentum, double weight_decay, double *param_terms, double *velocity_terms)
{
    /* v = momentum * v + (grad + weight_decay * param); param -= lr * v. */
    for (size_t i = 0; i < n; i++) {
        double v_terms =
            fabs(grad[i]) + fabs(weight_decay) * fabs(param[i]) + (velocity ? fabs(momentum) * fabs(velocity[i]) : 0.0);
        if (velocity_terms)
            velocity_terms[i] = v_terms;
        param_terms[i] = fabs(param[i]) + fabs(lr) * v_terms;
    }
}
