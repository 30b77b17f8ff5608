/* What the walkthrough's reference functions (walkthrough.c) and the
 * 0.2 ones (ops_ex.c) share about pooling windows, so that
 * create_mask_from_window and distribute_value mean exactly what pooling
 * does. Private to the reference; not installed. */
#ifndef CLCNN_REFERENCE_WINDOW_H
#define CLCNN_REFERENCE_WINDOW_H

#include <stddef.h>

/* Offset of the element of an (n_h, n_w) window that max pooling takes, in
 * row-major order: a later element must be strictly greater to win, so
 * ties go to the first maximum, except that a NaN beats every value and a
 * later NaN an earlier one (PyTorch's val > maxval || isnan(val)): a
 * window with a NaN gives its last NaN and the gradient goes there. */
size_t clcnn__ref_first_max(const double *window, size_t n_h, size_t n_w, size_t row_stride, size_t col_stride);

/* Average pooling's gradient share of one element: dz over the count of
 * elements the average divided by. */
double clcnn__ref_share(double dz, size_t count);

#endif
