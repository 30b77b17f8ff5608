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

/* Copies values into write_to (from in) or out of read_from (into out), one
 * of the two tensors being NULL; a float32 tensor is staged through floats. */
static clcnn_status copy_values(clcnn_tensor *write_to, const clcnn_tensor *read_from, const double *in, double *out)
{
    const clcnn_tensor *tensor = write_to ? write_to : read_from;
    size_t n = tensor_elements(tensor);
    if (clcnn_tensor_dtype(tensor) == CLCNN_FLOAT64)
        return write_to ? clcnn_tensor_write(write_to, in, n * sizeof(double))
                        : clcnn_tensor_read(read_from, out, n * sizeof(double));
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
