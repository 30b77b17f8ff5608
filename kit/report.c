/* Showing mismatches and checking gradients by central differences; see
 * kit.h. */
#include <inttypes.h>
#include <math.h>

#include "kit.h"

const char *kit_mismatch_text(char *buf, size_t size, double got, double ref)
{
    snprintf(buf, size, "got %a (%.17g), ref %a (%.17g), |diff| %.3g", got, got, ref, ref, fabs(got - ref));
    return buf;
}

size_t kit_report_mismatches(FILE *out, const char *case_name, const char *what, const double *got, const double *ref,
                             const double *bound, size_t n, uint64_t seed, double *worst_ratio)
{
    size_t mismatches = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double allowed = bound != NULL ? bound[i] : 0.0;
        double ratio = kit_error_ratio(got[i], ref[i], allowed);
        if (allowed > 0.0 && ratio > worst)
            worst = ratio;
        if (kit_within(got[i], ref[i], allowed))
            continue;
        if (mismatches < KIT_MAX_REPORTED_MISMATCHES) {
            char text[160];
            fprintf(out, "MISMATCH case %s, %s[%zu]: %s, bound %.3g, seed 0x%" PRIx64 "\n", case_name, what, i,
                    kit_mismatch_text(text, sizeof text, got[i], ref[i]), allowed, seed);
        }
        mismatches++;
    }
    if (mismatches > KIT_MAX_REPORTED_MISMATCHES)
        fprintf(out, "  case %s, %s: %zu mismatches of %zu elements in all\n", case_name, what, mismatches, n);
    if (worst_ratio)
        *worst_ratio = worst;
    return mismatches;
}

void kit_central_differences(double *x, size_t n, double step, kit_loss_fn loss, void *problem, double *numeric)
{
    for (size_t i = 0; i < n; i++) {
        const double saved = x[i], up = saved + step, down = saved - step;
        x[i] = up;
        const double loss_up = loss(problem);
        x[i] = down;
        const double loss_down = loss(problem);
        x[i] = saved;
        numeric[i] = (loss_up - loss_down) / (up - down);
    }
}
