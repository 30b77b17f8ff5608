/* Double arrays in and out of tensors of either dtype; see kit.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

static size_t tensor_elements(const clcnn_tensor *tensor)
{
    size_t dims[4];
    clcnn_tensor_dims(tensor, dims);
    return kit_elements(dims);
}

/* copy_values for a 16-bit tensor, staged through its bit patterns
 * (kit_float16_from_double and its kin round each value to nearest even). */
static clcnn_status copy_values16(clcnn_tensor *write_to, const clcnn_tensor *read_from, const double *in, double *out,
                                  size_t n, int is_float16)
{
    uint16_t *staged = malloc((n ? n : 1) * sizeof *staged);
    if (!staged)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status status;
    if (write_to) {
        for (size_t i = 0; i < n; i++)
            staged[i] = is_float16 ? kit_float16_from_double(in[i]) : kit_bfloat16_from_double(in[i]);
        status = clcnn_tensor_write(write_to, staged, n * sizeof *staged);
    } else {
        status = clcnn_tensor_read(read_from, staged, n * sizeof *staged);
        for (size_t i = 0; status == CLCNN_OK && i < n; i++)
            out[i] = is_float16 ? kit_float16_to_double(staged[i]) : kit_bfloat16_to_double(staged[i]);
    }
    free(staged);
    return status;
}

/* Copies values into write_to (from in) or out of read_from (into out), one
 * of the two tensors being NULL; a float32 tensor is staged through floats. */
static clcnn_status copy_values(clcnn_tensor *write_to, const clcnn_tensor *read_from, const double *in, double *out)
{
    const clcnn_tensor *tensor = write_to ? write_to : read_from;
    size_t n = tensor_elements(tensor);
    const clcnn_dtype dtype = clcnn_tensor_dtype(tensor);
    if (dtype == CLCNN_FLOAT64)
        return write_to ? clcnn_tensor_write(write_to, in, n * sizeof(double))
                        : clcnn_tensor_read(read_from, out, n * sizeof(double));
    if (dtype == CLCNN_FLOAT16 || dtype == CLCNN_BFLOAT16)
        return copy_values16(write_to, read_from, in, out, n, dtype == CLCNN_FLOAT16);
    float *staged = malloc((n ? n : 1) * sizeof *staged);
    if (!staged)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status status;
    if (write_to) {
        for (size_t i = 0; i < n; i++)
            staged[i] = (float)in[i];
        status = clcnn_tensor_write(write_to, staged, n * sizeof *staged);
    } else {
        status = clcnn_tensor_read(read_from, staged, n * sizeof *staged);
        for (size_t i = 0; status == CLCNN_OK && i < n; i++)
            out[i] = staged[i];
    }
    free(staged);
    return status;
}

clcnn_status kit_tensor_write(clcnn_tensor *tensor, const double *values)
{
    return copy_values(tensor, NULL, values, NULL);
}

clcnn_status kit_tensor_read(const clcnn_tensor *tensor, double *values)
{
    return copy_values(NULL, tensor, NULL, values);
}

clcnn_status kit_tensor_new(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4], const double *values,
                            clcnn_tensor **tensor)
{
    clcnn_status status = clcnn_tensor_create(ctx, dtype, dims, tensor);
    if (status != CLCNN_OK)
        return status;
    size_t n = kit_elements(dims);
    double *fill = NULL;
    if (!values) {
        fill = malloc((n ? n : 1) * sizeof *fill);
        if (!fill)
            status = CLCNN_ERROR_OUT_OF_MEMORY;
        for (size_t i = 0; fill && i < n; i++)
            fill[i] = NAN;
        values = fill;
    }
    if (status == CLCNN_OK)
        status = kit_tensor_write(*tensor, values);
    free(fill);
    if (status != CLCNN_OK) {
        clcnn_tensor_destroy(*tensor);
        *tensor = NULL;
    }
    return status;
}

clcnn_status kit_tensor_read_raw(const clcnn_tensor *tensor, void **raw, size_t *bytes)
{
    *bytes = tensor_elements(tensor) * kit_dtype_size(clcnn_tensor_dtype(tensor));
    *raw = malloc(*bytes ? *bytes : 1);
    if (!*raw)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status status = clcnn_tensor_read(tensor, *raw, *bytes);
    if (status != CLCNN_OK) {
        free(*raw);
        *raw = NULL;
    }
    return status;
}

clcnn_status kit_tensor_equals_raw(const clcnn_tensor *tensor, const void *expected, size_t bytes, int *equal)
{
    void *raw;
    size_t raw_bytes;
    *equal = 0;
    clcnn_status status = kit_tensor_read_raw(tensor, &raw, &raw_bytes);
    if (status != CLCNN_OK)
        return status;
    *equal = raw_bytes == bytes && memcmp(raw, expected, bytes) == 0;
    free(raw);
    return CLCNN_OK;
}
