/* What the subcommands share: opening the device with the right exit
 * status, double arrays in and out of tensors of either dtype, the scaled
 * error that demo and check judge results by, and the clock. */
#define _POSIX_C_SOURCE 200809L

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_open_context(const char *command, const char *device, clcnn_context **ctx)
{
    clcnn_status status = clcnn_context_create(device, ctx);
    if (status == CLCNN_OK)
        return CLI_EXIT_OK;
    fprintf(stderr, "clcnn %s: cannot open the OpenCL device: %s\n", command,
            *ctx ? clcnn_context_last_error(*ctx) : clcnn_status_string(status));
    clcnn_context_destroy(*ctx);
    *ctx = NULL;
    if (status != CLCNN_ERROR_NO_DEVICE)
        return CLI_EXIT_FAILURE;
    const char *require = getenv("CLCNN_REQUIRE_DEVICE");
    if (require && strcmp(require, "1") == 0)
        return CLI_EXIT_FAILURE;
    return CLI_EXIT_NO_DEVICE;
}

int cli_report_failure(const char *command, clcnn_context *ctx, const char *what,
                       clcnn_status status)
{
    const char *message = ctx ? clcnn_context_last_error(ctx) : "";
    fprintf(stderr, "clcnn %s: %s failed: %s\n", command, what,
            message && *message ? message : clcnn_status_string(status));
    return CLI_EXIT_FAILURE;
}

const char *cli_dtype_name(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? "float64" : "float32";
}

double cli_dtype_eps(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? DBL_EPSILON : FLT_EPSILON;
}

size_t cli_dtype_size(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? sizeof(double) : sizeof(float);
}

size_t cli_elements(const size_t dims[4])
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

void cli_round_to_dtype(clcnn_dtype dtype, double *values, size_t n)
{
    if (dtype == CLCNN_FLOAT32)
        for (size_t i = 0; i < n; i++)
            values[i] = (float)values[i];
}

clcnn_status cli_tensor_write(clcnn_tensor *tensor, const double *values)
{
    size_t dims[4];
    clcnn_tensor_dims(tensor, dims);
    size_t n = cli_elements(dims);
    if (clcnn_tensor_dtype(tensor) == CLCNN_FLOAT64)
        return clcnn_tensor_write(tensor, values, n * sizeof(double));
    float *staged = malloc(n * sizeof *staged);
    if (!staged)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++)
        staged[i] = (float)values[i];
    clcnn_status status = clcnn_tensor_write(tensor, staged, n * sizeof *staged);
    free(staged);
    return status;
}

clcnn_status cli_tensor_read(const clcnn_tensor *tensor, double *values)
{
    size_t dims[4];
    clcnn_tensor_dims(tensor, dims);
    size_t n = cli_elements(dims);
    if (clcnn_tensor_dtype(tensor) == CLCNN_FLOAT64)
        return clcnn_tensor_read(tensor, values, n * sizeof(double));
    float *staged = malloc(n * sizeof *staged);
    if (!staged)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status status = clcnn_tensor_read(tensor, staged, n * sizeof *staged);
    for (size_t i = 0; status == CLCNN_OK && i < n; i++)
        values[i] = staged[i];
    free(staged);
    return status;
}

clcnn_status cli_tensor_new(clcnn_context *ctx, clcnn_dtype dtype, const size_t dims[4],
                            const double *values, clcnn_tensor **tensor)
{
    clcnn_status status = clcnn_tensor_create(ctx, dtype, dims, tensor);
    if (status != CLCNN_OK)
        return status;
    size_t n = cli_elements(dims);
    double *fill = NULL;
    if (!values) {
        fill = malloc(n * sizeof *fill);
        if (!fill) {
            clcnn_tensor_destroy(*tensor);
            *tensor = NULL;
            return CLCNN_ERROR_OUT_OF_MEMORY;
        }
        for (size_t i = 0; i < n; i++)
            fill[i] = NAN;
        values = fill;
    }
    status = cli_tensor_write(*tensor, values);
    free(fill);
    if (status != CLCNN_OK) {
        clcnn_tensor_destroy(*tensor);
        *tensor = NULL;
    }
    return status;
}

double cli_scaled_error(const double *got, const double *ref, const double *scale, size_t n,
                        double eps, size_t *worst_index)
{
    double worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < n; i++) {
        double error;
        if (isnan(got[i]) || isnan(ref[i]))
            error = INFINITY;
        else if (got[i] == ref[i])
            error = 0.0;
        else if (!scale || !(scale[i] > 0.0))
            error = INFINITY;
        else
            error = fabs(got[i] - ref[i]) / (eps * scale[i]);
        if (error > worst) {
            worst = error;
            worst_at = i;
        }
    }
    if (worst_index)
        *worst_index = worst_at;
    return worst;
}

void cli_index_str(const size_t dims[4], size_t index, char *out, size_t capacity)
{
    size_t c = index % dims[3];
    index /= dims[3];
    size_t w = index % dims[2];
    index /= dims[2];
    size_t h = index % dims[1];
    size_t m = index / dims[1];
    snprintf(out, capacity, "[%zu,%zu,%zu,%zu]", m, h, w, c);
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
