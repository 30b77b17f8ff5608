/* The error measure and the tolerance; see kit.h. */
#include <math.h>

#include "kit.h"

double kit_error_ratio(double got, double ref, double bound)
{
    if (isnan(got) || isnan(ref))
        return INFINITY;
    if (got == ref)
        return 0.0;
    if (!(bound > 0.0))
        return INFINITY;
    return fabs(got - ref) / bound;
}

int kit_within(double got, double ref, double bound)
{
    /* Written so that NaN (an element no kernel wrote) is never within. */
    return got == ref || fabs(got - ref) <= bound;
}

void kit_tolerance_bounds(clcnn_dtype dtype, const double *terms, double *bound, size_t n)
{
    const double scale = KIT_TOLERANCE * kit_dtype_eps(dtype);
    for (size_t i = 0; i < n; i++)
        bound[i] = scale * terms[i];
}

double kit_storage_error(clcnn_dtype dtype, double got, double ref, double terms, double tiny)
{
    const double b = KIT_TOLERANCE * kit_dtype_eps(dtype) * terms;
    if (terms <= 0.0)
        return kit_error_ratio(got, ref, 0.0);
    /* A float result within b of ref that overflowed the storage. */
    if (isinf(got) && !isnan(ref) && !signbit(got) == !signbit(ref) &&
        isinf(kit_round_to_dtype(dtype, ref + copysign(b, got))))
        return 0.0;
    const double bound = b + kit_dtype_storage_unit(dtype) * (fabs(ref) + b) + tiny;
    return KIT_TOLERANCE * kit_error_ratio(got, ref, bound);
}

double kit_scaled_error(const double *got, const double *ref, const double *terms, size_t n, clcnn_dtype dtype,
                        size_t *worst_index)
{
    const double eps = kit_dtype_eps(dtype);
    const int storage16 = kit_dtype_storage_unit(dtype) > 0.0;
    double worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < n; i++) {
        double error = storage16 && terms
                           ? kit_storage_error(dtype, got[i], ref[i], terms[i], kit_dtype_storage_tiny(dtype))
                           : kit_error_ratio(got[i], ref[i], terms ? eps * terms[i] : 0.0);
        if (error > worst) {
            worst = error;
            worst_at = i;
        }
    }
    if (worst_index)
        *worst_index = worst_at;
    return worst;
}
