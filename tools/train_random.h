/* The seeded random numbers of `clcnn train` (splitmix64): the weights'
 * initialisation and the shuffling of the training set draw from it, so the
 * same seed gives the same run. */
#ifndef CLCNN_TOOLS_TRAIN_RANDOM_H
#define CLCNN_TOOLS_TRAIN_RANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct rng {
    uint64_t state;
} rng;

/* Standard normal (Box-Muller). */
double rng_normal(rng *r);
/* Uniform in [0, n), without modulo bias. */
size_t rng_below(rng *r, size_t n);

#endif
