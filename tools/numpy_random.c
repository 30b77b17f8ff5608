/* numpy's legacy RandomState (MT19937 + legacy_gauss), ported so that the
 * same seed gives the same stream as np.random.seed / np.random.randn. */
#include "numpy_random.h"

#include <math.h>

#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER_MASK 0x80000000U
#define MT_LOWER_MASK 0x7fffffffU

void numpy_random_seed(numpy_random_state *state, uint32_t seed)
{
    /* numpy's legacy seeding of an int is init_genrand(seed & 0xffffffff). */
    state->key[0] = seed;
    for (int i = 1; i < NUMPY_MT19937_N; i++) {
        uint32_t prev = state->key[i - 1];
        state->key[i] = 1812433253U * (prev ^ (prev >> 30)) + (uint32_t)i;
    }
    state->pos = NUMPY_MT19937_N;
    state->has_gauss = 0;
    state->gauss = 0.0;
}

static void mt_generate(numpy_random_state *state)
{
    uint32_t *key = state->key;
    int i;
    for (i = 0; i < NUMPY_MT19937_N - MT_M; i++) {
        uint32_t y = (key[i] & MT_UPPER_MASK) | (key[i + 1] & MT_LOWER_MASK);
        key[i] = key[i + MT_M] ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
    }
    for (; i < NUMPY_MT19937_N - 1; i++) {
        uint32_t y = (key[i] & MT_UPPER_MASK) | (key[i + 1] & MT_LOWER_MASK);
        key[i] = key[i + (MT_M - NUMPY_MT19937_N)] ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
    }
    uint32_t y = (key[NUMPY_MT19937_N - 1] & MT_UPPER_MASK) | (key[0] & MT_LOWER_MASK);
    key[NUMPY_MT19937_N - 1] = key[MT_M - 1] ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
    state->pos = 0;
}

uint32_t numpy_random_uint32(numpy_random_state *state)
{
    if (state->pos >= NUMPY_MT19937_N)
        mt_generate(state);
    uint32_t y = state->key[state->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

double numpy_random_sample(numpy_random_state *state)
{
    uint32_t a = numpy_random_uint32(state) >> 5;
    uint32_t b = numpy_random_uint32(state) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}

double numpy_random_gauss(numpy_random_state *state)
{
    if (state->has_gauss) {
        state->has_gauss = 0;
        return state->gauss;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * numpy_random_sample(state) - 1.0;
        x2 = 2.0 * numpy_random_sample(state) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    /* The polar method yields two values; numpy returns the second and keeps
     * the first for the next call, which is what makes streams line up. */
    double f = sqrt(-2.0 * log(r2) / r2);
    state->gauss = f * x1;
    state->has_gauss = 1;
    return f * x2;
}

void numpy_random_randn(numpy_random_state *state, double *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = numpy_random_gauss(state);
}
