/* numpy's legacy RandomState in C: MT19937 seeded like np.random.seed(int),
 * random_sample's 53-bit doubles, and randn's polar Gaussian that caches its
 * second value, so that the demo draws the walkthrough's exact inputs. */
#ifndef CLCNN_TOOLS_NUMPY_RANDOM_H
#define CLCNN_TOOLS_NUMPY_RANDOM_H

#include <stddef.h>
#include <stdint.h>

#define NUMPY_MT19937_N 624

typedef struct numpy_random_state {
    uint32_t key[NUMPY_MT19937_N];
    int pos;
    int has_gauss;
    double gauss;
} numpy_random_state;

/* np.random.seed(seed) for an integer seed in [0, 2**32). */
void numpy_random_seed(numpy_random_state *state, uint32_t seed);
uint32_t numpy_random_uint32(numpy_random_state *state);
/* np.random.random_sample(): uniform in [0, 1) with 53 random bits. */
double numpy_random_sample(numpy_random_state *state);
/* One draw of np.random.randn() (legacy_gauss). */
double numpy_random_gauss(numpy_random_state *state);
/* np.random.randn(*shape) for a shape of n elements, in C order. */
void numpy_random_randn(numpy_random_state *state, double *out, size_t n);

#endif
