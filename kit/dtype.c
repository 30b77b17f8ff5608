/* The dtype facts of the kit; see kit.h. */
#include <float.h>
#include <math.h>

#include "kit.h"

static int kit_dtype_is_16bit(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT16 || dtype == CLCNN_BFLOAT16;
}

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
    return dtype == CLCNN_FLOAT64 ? sizeof(double) : kit_dtype_is_16bit(dtype) ? sizeof(uint16_t) : sizeof(float);
}

const char *kit_dtype_name(clcnn_dtype dtype)
{
    switch (dtype) {
    case CLCNN_FLOAT64: return "float64";
    case CLCNN_FLOAT16: return "float16";
    case CLCNN_BFLOAT16: return "bfloat16";
    default: return "float32";
    }
}

double kit_dtype_storage_unit(clcnn_dtype dtype)
{
    return dtype == CLCNN_FLOAT16 ? 0x1p-11 : dtype == CLCNN_BFLOAT16 ? 0x1p-8 : 0.0;
}

double kit_dtype_storage_tiny(clcnn_dtype dtype)
{
    switch (dtype) {
    case CLCNN_FLOAT64: return 0x1p-1074;
    case CLCNN_FLOAT16: return 0x1p-24;
    default: return 0x1p-149; /* float32 and bfloat16 share float's exponent */
    }
}

/* A binary format of `fraction` stored fraction bits and exponents emin ..
 * emax (bias emax), 1 + exponent bits + fraction = 16. */
typedef struct format16 {
    int fraction, emin, emax;
} format16;
static const format16 binary16 = {10, -14, 15}, bfloat16 = {7, -126, 127};

static uint16_t encode16(double value, format16 f)
{
    const uint16_t sign = signbit(value) ? 0x8000u : 0u;
    const uint16_t exponent_ones = (uint16_t)((f.emax * 2 + 1) << f.fraction);
    if (isnan(value))
        return sign | exponent_ones | (uint16_t)(1u << (f.fraction - 1));
    const double a = fabs(value);
    if (isinf(a))
        return sign | exponent_ones;
    /* a's binade, not below the subnormals': its quantum q then makes a / q
     * exact (a power-of-two scaling into range), and nearbyint rounds it
     * to nearest even under the default rounding mode. */
    int e = 0;
    frexp(a, &e);
    int binade = a == 0.0 ? f.emin : e - 1;
    if (binade < f.emin)
        binade = f.emin;
    double steps = nearbyint(a / ldexp(1.0, binade - f.fraction));
    const double one = ldexp(1.0, f.fraction);
    if (steps >= 2 * one) { /* rounded up into the next binade */
        steps /= 2;
        binade++;
    }
    if (binade > f.emax)
        return sign | exponent_ones;
    if (steps < one) /* a subnormal (or zero): exponent field 0 */
        return sign | (uint16_t)steps;
    return sign | (uint16_t)((binade + f.emax) << f.fraction) | (uint16_t)(steps - one);
}

static double decode16(uint16_t bits, format16 f)
{
    const int field = (bits & 0x7fff) >> f.fraction, mask = f.emax * 2 + 1;
    const double steps = bits & ((1u << f.fraction) - 1u);
    double a;
    if (field == mask)
        a = steps != 0.0 ? NAN : INFINITY;
    else if (field == 0)
        a = ldexp(steps, f.emin - f.fraction);
    else
        a = ldexp(steps + ldexp(1.0, f.fraction), field - f.emax - f.fraction);
    return bits & 0x8000u ? -a : a;
}

uint16_t kit_float16_from_double(double value)
{
    return encode16(value, binary16);
}
uint16_t kit_bfloat16_from_double(double value)
{
    return encode16(value, bfloat16);
}
double kit_float16_to_double(uint16_t bits)
{
    return decode16(bits, binary16);
}
double kit_bfloat16_to_double(uint16_t bits)
{
    return decode16(bits, bfloat16);
}

double kit_round_to_dtype(clcnn_dtype dtype, double value)
{
    switch (dtype) {
    case CLCNN_FLOAT64: return value;
    case CLCNN_FLOAT16: return kit_float16_to_double(kit_float16_from_double(value));
    case CLCNN_BFLOAT16: return kit_bfloat16_to_double(kit_bfloat16_from_double(value));
    default: return (double)(float)value;
    }
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
