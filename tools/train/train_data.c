/* Fashion-MNIST for `clcnn train`: the four IDX files of Debian's
 * dataset-fashion-mnist package (or of --data DIR), and batches of
 * normalised images. */
#define _POSIX_C_SOURCE 200809L

#include "train_data.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void dataset_free(dataset *d)
{
    idx_free(&d->image_file);
    idx_free(&d->label_file);
    memset(d, 0, sizeof *d);
}

/* Opens dir/name.gz, or dir/name if that is missing (already gunzipped). */
static idx_status read_idx(const char *dir, const char *name, idx_array *out, char *err, size_t capacity)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, name);
    idx_status st = idx_read_u8(path, out, err, capacity);
    if (st == IDX_ERROR_OPEN) {
        char plain[4096];
        snprintf(plain, sizeof plain, "%s/%s", dir, name);
        if (access(plain, R_OK) == 0)
            st = idx_read_u8(plain, out, err, capacity);
    }
    return st;
}

int dataset_load(const char *dir, const char *split, dataset *d)
{
    char err[4096], name[64];
    memset(d, 0, sizeof *d);
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", split);
    idx_status st = read_idx(dir, name, &d->image_file, err, sizeof err);
    if (st == IDX_OK) {
        snprintf(name, sizeof name, "%s-labels-idx1-ubyte", split);
        st = read_idx(dir, name, &d->label_file, err, sizeof err);
    }
    if (st == IDX_ERROR_OPEN) {
        fprintf(stderr,
                "clcnn train: cannot read the Fashion-MNIST data: %s\n"
                "  Install the Debian package %s (apt install %s), which puts the four\n"
                "  files in %s, or point --data at a directory holding\n"
                "  train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,\n"
                "  t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.\n",
                err, DATA_PACKAGE, DATA_PACKAGE, DEFAULT_DATA_DIR);
        dataset_free(d);
        return -1;
    }
    if (st != IDX_OK) {
        fprintf(stderr, "clcnn train: %s\n", err);
        dataset_free(d);
        return -1;
    }
    const idx_array *im = &d->image_file, *lb = &d->label_file;
    if (im->n_dims != 3 || im->dims[1] != IMAGE_SIDE || im->dims[2] != IMAGE_SIDE || lb->n_dims != 1 ||
        lb->dims[0] != im->dims[0]) {
        fprintf(stderr,
                "clcnn train: %s/%s-*: expected N images of 28x28 and N labels, found %u-d images (%u x %u) "
                "and %u labels\n",
                dir, split, (unsigned)im->n_dims, (unsigned)(im->n_dims > 1 ? im->dims[1] : 0),
                (unsigned)(im->n_dims > 2 ? im->dims[2] : 0), (unsigned)lb->dims[0]);
        dataset_free(d);
        return -1;
    }
    for (size_t i = 0; i < lb->count; i++)
        if (lb->data[i] >= N_CLASSES) {
            fprintf(stderr, "clcnn train: %s/%s labels: label %zu is %u; Fashion-MNIST has classes 0-9\n", dir, split,
                    i, (unsigned)lb->data[i]);
            dataset_free(d);
            return -1;
        }
    d->count = im->dims[0];
    d->images = im->data;
    d->labels = lb->data;
    return 0;
}

void dataset_batch(const dataset *d, const size_t *order, size_t first, size_t count, double mean, double std,
                   clcnn_dtype dtype, void *x, void *labels)
{
    const double scale = 1.0 / (255.0 * std), shift = mean / std;
    for (size_t i = 0; i < count; i++) {
        const size_t index = order ? order[first + i] : first + i;
        const unsigned char *pixels = d->images + index * IMAGE_PIXELS;
        if (dtype == CLCNN_FLOAT64) {
            double *xi = (double *)x + i * IMAGE_PIXELS;
            for (int p = 0; p < IMAGE_PIXELS; p++)
                xi[p] = pixels[p] * scale - shift;
            ((double *)labels)[i] = d->labels[index];
        } else {
            float *xi = (float *)x + i * IMAGE_PIXELS;
            for (int p = 0; p < IMAGE_PIXELS; p++)
                xi[p] = (float)(pixels[p] * scale - shift);
            ((float *)labels)[i] = d->labels[index];
        }
    }
}
