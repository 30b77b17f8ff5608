/* The data of `clcnn train`: Fashion-MNIST's shape and normalisation, its
 * IDX files read into memory, and a batch of its images as the network's
 * input. */
#ifndef CLCNN_TOOLS_TRAIN_DATA_H
#define CLCNN_TOOLS_TRAIN_DATA_H

#include <stddef.h>

#include "clcnn.h"
#include "idx.h"

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define DATA_PACKAGE "dataset-fashion-mnist"
#define IMAGE_SIDE 28
#define IMAGE_PIXELS (IMAGE_SIDE * IMAGE_SIDE)
#define N_CLASSES 10
#define N_TRAIN 60000
#define N_TEST 10000
/* Pixel normalisation, x = (p / 255 - mean) / std, with the mean and
 * standard deviation of p / 255 over Fashion-MNIST's training set. */
#define INPUT_MEAN 0.2860
#define INPUT_STD 0.3530

typedef struct dataset {
    size_t count;
    const unsigned char *images; /* count x 784 */
    const unsigned char *labels; /* count, each 0..9 */
    idx_array image_file, label_file;
} dataset;

/* Loads one split ("train" or "t10k") from dir and checks that it is
 * Fashion-MNIST shaped. Prints why not and returns -1. */
int dataset_load(const char *dir, const char *split, dataset *d);
void dataset_free(dataset *d);

/* Images order[first .. first+count) of d (order NULL: first ..
 * first+count), normalised with mean and std, into x (count x 784 values of
 * dtype), and their labels into labels (count values of dtype). */
void dataset_batch(const dataset *d, const size_t *order, size_t first, size_t count, double mean, double std,
                   clcnn_dtype dtype, void *x, void *labels);

#endif
