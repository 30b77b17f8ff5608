/* The dtype facts of the kit; see kit.h. */
#include <float.h>
#include <math.h>

#include "kit.h"

double kit_dtype_eps(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? DBL_EPSILON : FLT_EPSILON;
}

double kit_dtype_min_normal(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? DBL_MIN : FLT_MIN;
}

size_t kit_dtype_size(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? sizeof(double) : sizeof(float);
}

const char *kit_dtype_name(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT64 ? "float64" : "float32";
}

double kit_round_to_dtype(clcnn_dtype dtype, double value)
{
    return dtype == CLCNN_FLOAT64 ? value : (double)(float)value;
}

void kit_round_all(clcnn_dtype dtype, double *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        values[i] = kit_round_to_dtype(dtype, values[i]);
}

size_t kit_elements(const size_t dims[4])
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

void kit_abs(const double *x, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = fabs(x[i]);
}

clcnn_dtype kit_case_dtype(int run)
{
    return run % KIT_DTYPE_COUNT == 0 ? CLCNN_FLOAT32 : CLCNN_FLOAT64;
}

void kit_case_name(char *name, size_t size, const char *case_name, clcnn_dtype dtype)
{
    snprintf(name, size, "%s/%s", case_name, kit_dtype_name(dtype));
}
