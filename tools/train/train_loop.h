/* The training of `clcnn train`: its options, the epochs of SGD over a
 * reshuffled training set, the test-set evaluation after each, and the
 * network's weights saved to and loaded from a weights file. */
#ifndef CLCNN_TOOLS_TRAIN_LOOP_H
#define CLCNN_TOOLS_TRAIN_LOOP_H

#include <stddef.h>

#include "clcnn.h"
#include "train_data.h"
#include "train_network.h"

#define TRAIN_COMMAND "train"

typedef struct train_options {
    const char *device, *data_dir, *save_path, *load_path;
    long epochs, batch, limit, test_limit;
    double lr, momentum, weight_decay;
    int cosine; /* decay lr along a half cosine from lr to 0 over the run */
    unsigned long long seed;
    clcnn_dtype dtype;
    int eval_only;
} train_options;

/* Compiles ahead every kernel training (train_count images, none: only
 * evaluation) and evaluating test_count images take, the epochs' last,
 * shorter batch included, and prints how long it took; the exit status. */
int train_prepare(network *net, size_t train_count, size_t test_count, const train_options *o);
/* o->epochs passes over the first train_count images of train_set, each
 * followed by the loss and accuracy on the first test_count of test.
 * Returns the exit status (failures printed). */
int train_run(network *net, const dataset *train_set, size_t train_count, const dataset *test, size_t test_count,
              const train_options *o);

typedef struct evaluation {
    size_t correct, total;
    double loss, seconds;
} evaluation;

/* The mean loss and the accuracy on the first count images of test.
 * Returns the exit status (failures printed). */
int train_evaluate(network *net, const dataset *test, size_t count, evaluation *out);
/* "test loss L  test accuracy A% (C/N)  [S s]", without a newline. */
void print_evaluation(const evaluation *e);

/* The weights and the input normalisation to or from a weights file
 * (weights_file.h). Print why and return -1 on failure. */
int network_save(network *net, const char *path);
int network_load(network *net, const char *path);

#endif
