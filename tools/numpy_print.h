/* numpy's str() of float64 and bool arrays and of float scalars, in C, so
 * that `clcnn demo` prints the walkthrough's figures character for
 * character. Two styles: numpy 1.13 (what the walkthrough shows: a sign
 * column, 12-digit scalars) and numpy >= 1.14 (no sign column, shortest
 * round-trip scalars). Defaults as numpy's: precision 8, suppress off,
 * line width 75. Arrays are printed in full (no "..." summarisation). */
#ifndef CLCNN_TOOLS_NUMPY_PRINT_H
#define CLCNN_TOOLS_NUMPY_PRINT_H

#include <stddef.h>

typedef enum numpy_print_style {
    NUMPY_PRINT_LEGACY = 0, /* numpy <= 1.13, as in the walkthrough */
    NUMPY_PRINT_MODERN = 1  /* numpy >= 1.14 */
} numpy_print_style;

/* str(a) for a float64 array of ndim >= 1 dims in C order; malloc'ed, NULL
 * when out of memory. */
char *numpy_array_str(const double *data, const size_t *shape, int ndim, numpy_print_style style);
/* str(a != 0) : the same array printed as a bool array. */
char *numpy_bool_array_str(const double *data, const size_t *shape, int ndim);
/* str(float(x)) as the style's Python prints it. */
void numpy_scalar_str(double x, numpy_print_style style, char *out, size_t capacity);
/* str(shape): "(4, 3, 3, 2)", "(5,)". */
void numpy_shape_str(const size_t *shape, int ndim, char *out, size_t capacity);
/* np.mean(a) of a contiguous float64 array: numpy's pairwise summation
 * (blocks of 128, 8 accumulators), so the last digits agree too. */
double numpy_mean(const double *data, size_t n);

#endif
