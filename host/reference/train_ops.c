/* The CPU reference of the training ops (ReLU, softmax cross-entropy, SGD):
 * plain double-precision loops, the oracle of tests/test_train_ops.c. */
#include <math.h>

#include "clcnn_reference.h"

void clcnn_ref_relu_forward(const double *x, size_t n, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] < 0.0 ? 0.0 : x[i];
}

void clcnn_ref_relu_backward(const double *dy, const double *x, size_t n, double *dx)
{
    for (size_t i = 0; i < n; i++)
        dx[i] = x[i] <= 0.0 ? 0.0 : dy[i];
}

/* The class a label stands for, or -1 unless it is an integer in [0, K). */
static long label_class(double label, size_t n_classes)
{
    return label >= 0.0 && label < (double)n_classes && label == floor(label) ? (long)label : -1;
}

void clcnn_ref_softmax_cross_entropy_forward(const double *logits, const size_t logits_dims[4], const double *labels,
                                             double *probs, double *loss, double *mean_loss)
{
    const size_t n_classes = logits_dims[3];
    const size_t rows = logits_dims[0] * logits_dims[1] * logits_dims[2];
    double total = 0.0;
    for (size_t r = 0; r < rows; r++) {
        const double *z = logits + r * n_classes;
        double top = z[0];
        for (size_t c = 1; c < n_classes; c++)
            top = fmax(top, z[c]);
        double sum = 0.0;
        for (size_t c = 0; c < n_classes; c++)
            sum += exp(z[c] - top);
        if (probs != NULL)
            for (size_t c = 0; c < n_classes; c++)
                probs[r * n_classes + c] = exp(z[c] - top) / sum;
        long y = label_class(labels[r], n_classes);
        double row_loss = y < 0 ? NAN : log(sum) - (z[y] - top);
        if (loss != NULL)
            loss[r] = row_loss;
        total += row_loss;
    }
    if (mean_loss != NULL)
        *mean_loss = total / (double)rows;
}

void clcnn_ref_softmax_cross_entropy_backward(const double *probs, const size_t probs_dims[4], const double *labels,
                                              double *dlogits)
{
    const size_t n_classes = probs_dims[3];
    const size_t rows = probs_dims[0] * probs_dims[1] * probs_dims[2];
    for (size_t r = 0; r < rows; r++) {
        long y = label_class(labels[r], n_classes);
        for (size_t c = 0; c < n_classes; c++) {
            size_t k = r * n_classes + c;
            double target = y == (long)c ? 1.0 : 0.0;
            dlogits[k] = y < 0 ? NAN : (probs[k] - target) / (double)rows;
        }
    }
}

void clcnn_ref_sgd_update(double *param, const double *grad, double *velocity, size_t n, double lr, double momentum,
                          double weight_decay)
{
    for (size_t i = 0; i < n; i++) {
        double g = grad[i] + weight_decay * param[i];
        double v = g;
        if (velocity != NULL) {
            v = momentum * velocity[i] + g;
            velocity[i] = v;
        }
        param[i] -= lr * v;
    }
}
