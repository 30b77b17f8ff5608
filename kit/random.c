/* splitmix64 (Steele, Lea and Flood, 2014): a 64-bit state, one add and a
 * finaliser per number; see kit.h. */
#include <math.h>

#include "kit.h"

#define GOLDEN_GAMMA UINT64_C(0x9e3779b97f4a7c15)

static uint64_t finalise(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t kit_seed_stream(uint64_t base, uint64_t stream)
{
    /* The stream's first number of a generator started at base + stream
     * gammas: a step apart per stream, each run through the finaliser. */
    return finalise(base + (stream + 1) * GOLDEN_GAMMA);
}

void kit_rng_init(kit_rng *rng, uint64_t seed)
{
    rng->state = seed;
}

uint64_t kit_rng_next(kit_rng *rng)
{
    rng->state += GOLDEN_GAMMA;
    return finalise(rng->state);
}

double kit_rng_uniform(kit_rng *rng)
{
    return (double)(kit_rng_next(rng) >> 11) * 0x1.0p-53;
}

double kit_rng_normal(kit_rng *rng)
{
    /* 1 - u lies in (0, 1], so the log is finite. */
    double u1 = 1.0 - kit_rng_uniform(rng);
    double u2 = kit_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

size_t kit_rng_below(kit_rng *rng, size_t n)
{
    /* Draws past the last whole multiple of n are thrown away. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = kit_rng_next(rng);
    while (x >= limit);
    return (size_t)(x % n);
}

int kit_rng_int(kit_rng *rng, int lo, int hi)
{
    return lo + (int)kit_rng_below(rng, (size_t)((long long)hi - lo + 1));
}

static const char *const pattern_names[KIT_PATTERN_COUNT] = {
    "normal", "normal with zeros", "relu", "relu sparse", "quantized", "integers", "zeros",
};

const char *kit_pattern_name(kit_pattern pattern)
{
    return pattern >= 0 && pattern < KIT_PATTERN_COUNT ? pattern_names[pattern] : "?";
}

void kit_rng_fill(kit_rng *rng, clcnn_dtype dtype, kit_pattern pattern, double *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = pattern == KIT_INTEGERS ? (double)kit_rng_int(rng, -2, 2) : kit_rng_normal(rng);
        switch (pattern) {
        case KIT_NORMAL_WITH_ZEROS:
            if (i % 7 == 3)
                v = 0.0;
            else if (i % 11 == 5)
                v = -0.0;
            break;
        case KIT_RELU: v = v > 0.0 ? v : 0.0; break;
        case KIT_RELU_SPARSE: v = v > 1.0 ? v - 1.0 : 0.0; break;
        case KIT_QUANTIZED: v = round(2.0 * v) / 2.0; break;
        case KIT_ZEROS: v = 0.0; break;
        default: break;
        }
        values[i] = kit_round_to_dtype(dtype, v);
    }
}
