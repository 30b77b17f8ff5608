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
CLCNN_INLINE void pad_elements(const __global storage *in, int inside, __global storage *out, offset_t from,
                               offset_t to, offset_t lead, offset_t copied)
{
    for (offset_t e = from; e < to; e++)
        SSTORE_1(inside && e >= lead && e - lead < copied ? SLOAD_1(e - lead, in) : (real)0, e, out);
}

/* The whole vector at `at` of an inside row that straddles the border of
 * its copied part: built in private memory and stored at once, so that
 * the store stays one plain vector store (element stores under a
 * condition are what CPU compilers turn into masked stores). */
CLCNN_INLINE vreal straddling_vector(const __global storage *in, offset_t at, offset_t lead, offset_t copied)
{
    real lanes[VECTOR];
    for (int k = 0; k < VECTOR; k++) {
        const offset_t e = at + (offset_t)k;
        lanes[k] = e >= lead && e - lead < copied ? SLOAD_1(e - lead, in) : (real)0;
    }
    return VLOAD(VECTOR)(0, lanes);
}

__kernel void zero_pad(const __global storage *x, __global storage *x_pad, int n_H, int n_W, int n_C, int pad,
                       int row_vectors, int vectors, int chunk)
{
    const int n_H_pad = n_H + 2 * pad;
    const offset_t row_length = (offset_t)(n_W + 2 * pad) * (offset_t)n_C;
    const offset_t copied = (offset_t)n_W * (offset_t)n_C, lead = (offset_t)pad * (offset_t)n_C;
    /* The work-item's vectors are `step` apart: its first one's row (image,
     * h) and place in the row are divided out once, the others' carried
     * forward. */
    const int step = (int)get_local_size(0);
    offset_t q = vector_index(chunk, 0);
    const offset_t first_row = q / (offset_t)row_vectors;
    int v = (int)(q - first_row * (offset_t)row_vectors), h_pad = (int)(first_row % (offset_t)n_H_pad);
    offset_t image = first_row / (offset_t)n_H_pad;
    for (int j = 0; j < chunk; j++, q += (offset_t)step) {
        if (q >= (offset_t)vectors)
            return;
        const offset_t at = (offset_t)v * VECTOR;
        const int h = h_pad - pad, inside = h >= 0 && h < n_H;
        __global storage *out = x_pad + (image * (offset_t)n_H_pad + (offset_t)h_pad) * row_length;
        const __global storage *in = x + (image * (offset_t)n_H + (offset_t)(inside ? h : 0)) * copied;
        if (row_length - at < VECTOR)
            pad_elements(in, inside, out, at, row_length, lead, copied);
        else if (!inside || at + VECTOR <= lead || at >= lead + copied)
            STORE_OUTPUT((vreal)0, out + at);
        else if (at >= lead && at + VECTOR <= lead + copied)
            STORE_OUTPUT(LOAD_VECTOR(in + (at - lead)), out + at);
        else
            STORE_OUTPUT(straddling_vector(in, at, lead, copied), out + at);
        for (v += step; v >= row_vectors; v -= row_vectors)
            if (++h_pad == n_H_pad) {
                h_pad = 0;
                image++;
            }
    }
}
