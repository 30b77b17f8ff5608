/* Zero padding: x_pad (m, n_H + 2 pad, n_W + 2 pad, n_C) from x. Each
 * output row (one image, one h) is row_vectors vectors, the last one
 * partial where the row is not a multiple of VECTOR; a work-item writes
 * whole vectors (elementwise.h): zeros, a copy of x, or, where a vector
 * straddles the border of the row's copied part or is the row's partial
 * last one, element by element. Every element, border zeros included, is
 * written. */
#include "elementwise.h"

/* Elements [from, to) of output row `out`, of which [lead, lead + copied)
 * come from `in` where the row is inside the image (else all are zeros). */
CLCNN_INLINE void pad_elements(const __global real *in, int inside, __global real *out, offset_t from, offset_t to,
                               offset_t lead, offset_t copied)
{
    for (offset_t e = from; e < to; e++)
        out[e] = inside && e >= lead && e - lead < copied ? in[e - lead] : (real)0;
}

__kernel void zero_pad(const __global real *x, __global real *x_pad, int n_H, int n_W, int n_C, int pad,
                       int row_vectors, int vectors, int chunk)
{
    const int n_H_pad = n_H + 2 * pad;
    const offset_t row_length = (offset_t)(n_W + 2 * pad) * (offset_t)n_C;
    const offset_t copied = (offset_t)n_W * (offset_t)n_C, lead = (offset_t)pad * (offset_t)n_C;
    for (int j = 0; j < chunk; j++) {
        const offset_t q = vector_index(chunk, j);
        if (q >= (offset_t)vectors)
            return;
        const offset_t row = q / (offset_t)row_vectors, at = (q % (offset_t)row_vectors) * VECTOR;
        const int h = (int)(row % (offset_t)n_H_pad) - pad;
        const offset_t image = row / (offset_t)n_H_pad;
        __global real *out = x_pad + row * row_length;
        const int inside = h >= 0 && h < n_H;
        const __global real *in = x + (image * (offset_t)n_H + (offset_t)(inside ? h : 0)) * copied;
        if (row_length - at < VECTOR)
            pad_elements(in, inside, out, at, row_length, lead, copied);
        else if (!inside || at + VECTOR <= lead || at >= lead + copied)
            STORE_OUTPUT((vreal)0, out + at);
        else if (at >= lead && at + VECTOR <= lead + copied)
            STORE_OUTPUT(LOAD_VECTOR(in + (at - lead)), out + at);
        else
            pad_elements(in, inside, out, at, at + VECTOR, lead, copied);
    }
}
