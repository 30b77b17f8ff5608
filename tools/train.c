/* `clcnn train`: the walkthrough's ConvNet trained on Fashion-MNIST, end to
 * end on the device with the library's ops:
 *
 *   conv 5x5, 32 filters, pad 2 -> ReLU -> max pool 2x2 stride 2
 *   -> conv 5x5, 64 filters, pad 2 -> ReLU -> max pool 2x2 stride 2
 *   -> fully connected 10 -> softmax cross-entropy
 *
 * The fully connected layer is a convolution whose window is its whole
 * 7x7x64 input (w of dims (7, 7, 64, 10), stride 1, pad 0): the library
 * needs no op of its own for it. Weights start from He initialisation drawn
 * from a seeded generator, the training set is reshuffled each epoch from
 * the same generator, and the library's ops are deterministic, so the same
 * seed on the same device gives the same numbers. The only host round trip
 * of a training step is reading the batch's mean loss for the progress bar
 * (and the blocking upload of the next batch). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "idx.h"
#include "weights_file.h"

static const char COMMAND[] = "train";

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define DATA_PACKAGE "dataset-fashion-mnist"
#define IMAGE_SIDE 28
#define IMAGE_PIXELS (IMAGE_SIDE * IMAGE_SIDE)
#define N_CLASSES 10
#define N_TRAIN 60000
#define N_TEST 10000
/* Images per forward pass when measuring test accuracy (divides 10000). */
#define EVAL_BATCH 250
/* Pixel normalisation, x = (p / 255 - mean) / std, with the mean and
 * standard deviation of p / 255 over Fashion-MNIST's training set. */
#define INPUT_MEAN 0.2860
#define INPUT_STD 0.3530

#define DEFAULT_EPOCHS 5
#define DEFAULT_BATCH 64
#define DEFAULT_LR 0.01
#define DEFAULT_MOMENTUM 0.9
#define DEFAULT_SEED 1

/* ---- the network ---- */

enum { CONV1, CONV2, FC, N_LAYERS };

typedef struct layer_def {
    const char *name;   /* "conv1": its tensors are saved as conv1.w, conv1.b */
    size_t w_dims[4];   /* (f_h, f_w, n_C_prev, n_C) */
    int pad;
} layer_def;

static const layer_def LAYERS[N_LAYERS] = {
    {"conv1", {5, 5, 1, 32}, 2},
    {"conv2", {5, 5, 32, 64}, 2},
    /* Fully connected: a window as large as the 7x7x64 input. */
    {"fc", {7, 7, 64, N_CLASSES}, 0},
};

/* The tensors of one batch size: activations, and (for training) their
 * gradients, plus host staging for the batch's images and labels. */
typedef struct batch_buffers {
    size_t size;
    int with_gradients;
    clcnn_tensor *x, *labels, *z1, *a1, *p1, *z2, *a2, *p2, *logits, *probs, *loss, *mean_loss;
    clcnn_tensor *dlogits, *dp2, *da2, *dz2, *dp1, *da1, *dz1;
    void *x_host, *labels_host; /* in the network's dtype */
} batch_buffers;

/* Batch sizes in use at once: the training batch, its tail, the
 * evaluation batch and its tail. */
#define MAX_BATCH_SETS 4

typedef struct network {
    clcnn_context *ctx;
    clcnn_dtype dtype;
    double input_mean, input_std;
    clcnn_tensor *w[N_LAYERS], *b[N_LAYERS];
    /* Gradients and SGD velocities: created for training only. */
    clcnn_tensor *dw[N_LAYERS], *db[N_LAYERS], *vw[N_LAYERS], *vb[N_LAYERS];
    batch_buffers sets[MAX_BATCH_SETS];
    int n_sets;
} network;

typedef struct dataset {
    size_t count;
    const unsigned char *images; /* count x 784 */
    const unsigned char *labels; /* count, each 0..9 */
    idx_array image_file, label_file;
} dataset;

typedef struct train_options {
    const char *device, *data_dir, *save_path, *load_path;
    long epochs, batch, limit, test_limit;
    double lr, momentum, weight_decay;
    int cosine; /* decay lr along a half cosine from lr to 0 over the run */
    unsigned long long seed;
    clcnn_dtype dtype;
    int eval_only;
} train_options;

/* ---- seeded random numbers (splitmix64) ---- */

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double rng_uniform(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_normal(rng *r)
{
    double u1 = 1.0 - rng_uniform(r); /* (0, 1]: the log is finite */
    double u2 = rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

/* Uniform in [0, n), without modulo bias. */
static size_t rng_below(rng *r, size_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rng_next(r);
    while (x >= limit);
    return (size_t)(x % n);
}

/* ---- data ---- */

static void dataset_free(dataset *d)
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

/* Loads one split ("train" or "t10k") and checks that it is Fashion-MNIST
 * shaped. Prints why not and returns -1. */
static int dataset_load(const char *dir, const char *split, dataset *d)
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
            fprintf(stderr, "clcnn train: %s/%s labels: label %zu is %u; Fashion-MNIST has classes 0-9\n", dir,
                    split, i, (unsigned)lb->data[i]);
            dataset_free(d);
            return -1;
        }
    d->count = im->dims[0];
    d->images = im->data;
    d->labels = lb->data;
    return 0;
}

/* ---- tensors ---- */

static clcnn_status make_tensor(network *net, size_t n, size_t h, size_t w, size_t c, clcnn_tensor **out)
{
    const size_t dims[4] = {n, h, w, c};
    return clcnn_tensor_create(net->ctx, net->dtype, dims, out);
}

static size_t elements(const size_t dims[4])
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

/* Writes n doubles into a tensor of the network's dtype. */
static clcnn_status write_doubles(network *net, clcnn_tensor *t, const double *values, size_t n)
{
    if (net->dtype == CLCNN_FLOAT64)
        return clcnn_tensor_write(t, values, n * sizeof(double));
    float *staged = malloc(n * sizeof *staged);
    if (staged == NULL)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++)
        staged[i] = (float)values[i];
    clcnn_status st = clcnn_tensor_write(t, staged, n * sizeof *staged);
    free(staged);
    return st;
}

static clcnn_status read_doubles(network *net, const clcnn_tensor *t, double *values, size_t n)
{
    if (net->dtype == CLCNN_FLOAT64)
        return clcnn_tensor_read(t, values, n * sizeof(double));
    float *staged = malloc(n * sizeof *staged);
    if (staged == NULL)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status st = clcnn_tensor_read(t, staged, n * sizeof *staged);
    for (size_t i = 0; st == CLCNN_OK && i < n; i++)
        values[i] = staged[i];
    free(staged);
    return st;
}

static clcnn_status write_zeros(network *net, clcnn_tensor *t)
{
    size_t dims[4];
    clcnn_tensor_dims(t, dims);
    double *zeros = calloc(elements(dims), sizeof *zeros);
    if (zeros == NULL)
        return CLCNN_ERROR_OUT_OF_MEMORY;
    clcnn_status st = write_doubles(net, t, zeros, elements(dims));
    free(zeros);
    return st;
}

static void batch_free(batch_buffers *bb)
{
    clcnn_tensor *all[] = {bb->x,  bb->labels, bb->z1,  bb->a1,  bb->p1,  bb->z2,  bb->a2,
                           bb->p2, bb->logits, bb->probs, bb->loss, bb->mean_loss, bb->dlogits, bb->dp2,
                           bb->da2, bb->dz2, bb->dp1, bb->da1, bb->dz1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clcnn_tensor_destroy(all[i]);
    free(bb->x_host);
    free(bb->labels_host);
    memset(bb, 0, sizeof *bb);
}

/* The buffers for batches of `size` images, made on first use. */
static clcnn_status batch_for(network *net, size_t size, int with_gradients, batch_buffers **out)
{
    for (int i = 0; i < net->n_sets; i++)
        if (net->sets[i].size == size && net->sets[i].with_gradients >= with_gradients) {
            *out = &net->sets[i];
            return CLCNN_OK;
        }
    if (net->n_sets == MAX_BATCH_SETS) {
        /* Not reached with the sizes this command uses; free the oldest. */
        batch_free(&net->sets[0]);
        memmove(&net->sets[0], &net->sets[1], (MAX_BATCH_SETS - 1) * sizeof net->sets[0]);
        net->n_sets--;
    }
    batch_buffers *bb = &net->sets[net->n_sets];
    memset(bb, 0, sizeof *bb);
    bb->size = size;
    bb->with_gradients = with_gradients;
    const size_t n = size, s1 = IMAGE_SIDE, s2 = IMAGE_SIDE / 2, s3 = IMAGE_SIDE / 4;
    const size_t c1 = LAYERS[CONV1].w_dims[3], c2 = LAYERS[CONV2].w_dims[3];
    clcnn_status st;
    if ((st = make_tensor(net, n, s1, s1, 1, &bb->x)) || (st = make_tensor(net, n, 1, 1, 1, &bb->labels)) ||
        (st = make_tensor(net, n, s1, s1, c1, &bb->z1)) || (st = make_tensor(net, n, s1, s1, c1, &bb->a1)) ||
        (st = make_tensor(net, n, s2, s2, c1, &bb->p1)) || (st = make_tensor(net, n, s2, s2, c2, &bb->z2)) ||
        (st = make_tensor(net, n, s2, s2, c2, &bb->a2)) || (st = make_tensor(net, n, s3, s3, c2, &bb->p2)) ||
        (st = make_tensor(net, n, 1, 1, N_CLASSES, &bb->logits)) ||
        (st = make_tensor(net, n, 1, 1, N_CLASSES, &bb->probs)) || (st = make_tensor(net, n, 1, 1, 1, &bb->loss)) ||
        (st = make_tensor(net, 1, 1, 1, 1, &bb->mean_loss)))
        goto fail;
    if (with_gradients &&
        ((st = make_tensor(net, n, 1, 1, N_CLASSES, &bb->dlogits)) ||
         (st = make_tensor(net, n, s3, s3, c2, &bb->dp2)) || (st = make_tensor(net, n, s2, s2, c2, &bb->da2)) ||
         (st = make_tensor(net, n, s2, s2, c2, &bb->dz2)) || (st = make_tensor(net, n, s2, s2, c1, &bb->dp1)) ||
         (st = make_tensor(net, n, s1, s1, c1, &bb->da1)) || (st = make_tensor(net, n, s1, s1, c1, &bb->dz1))))
        goto fail;
    const size_t elem = cli_dtype_size(net->dtype);
    bb->x_host = malloc(n * IMAGE_PIXELS * elem);
    bb->labels_host = malloc(n * elem);
    if (bb->x_host == NULL || bb->labels_host == NULL) {
        st = CLCNN_ERROR_OUT_OF_MEMORY;
        goto fail;
    }
    net->n_sets++;
    *out = bb;
    return CLCNN_OK;
fail:
    batch_free(bb);
    return st;
}

static void network_free(network *net)
{
    for (int i = 0; i < net->n_sets; i++)
        batch_free(&net->sets[i]);
    for (int l = 0; l < N_LAYERS; l++) {
        clcnn_tensor *all[] = {net->w[l], net->b[l], net->dw[l], net->db[l], net->vw[l], net->vb[l]};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            clcnn_tensor_destroy(all[i]);
    }
    clcnn_context_destroy(net->ctx);
    memset(net, 0, sizeof *net);
}

/* The parameters, and for training their gradients and velocities (zero). */
static clcnn_status network_create(network *net, int for_training)
{
    clcnn_status st;
    for (int l = 0; l < N_LAYERS; l++) {
        const size_t *wd = LAYERS[l].w_dims;
        if ((st = make_tensor(net, wd[0], wd[1], wd[2], wd[3], &net->w[l])) ||
            (st = make_tensor(net, 1, 1, 1, wd[3], &net->b[l])))
            return st;
        if (!for_training)
            continue;
        if ((st = make_tensor(net, wd[0], wd[1], wd[2], wd[3], &net->dw[l])) ||
            (st = make_tensor(net, 1, 1, 1, wd[3], &net->db[l])) ||
            (st = make_tensor(net, wd[0], wd[1], wd[2], wd[3], &net->vw[l])) ||
            (st = make_tensor(net, 1, 1, 1, wd[3], &net->vb[l])) || (st = write_zeros(net, net->vw[l])) ||
            (st = write_zeros(net, net->vb[l])))
            return st;
    }
    return CLCNN_OK;
}

/* He initialisation: w ~ N(0, 2 / fan_in) with fan_in = f_h * f_w * n_C_prev,
 * which keeps the variance of activations steady through ReLU layers; b = 0.
 * The 2 makes up for the half of each layer's outputs that its ReLU zeroes;
 * the output layer feeds the softmax, not a ReLU, so by the same derivation
 * it gets 1 / fan_in (starting from smaller logits, a lower first loss). */
static clcnn_status network_init_he(network *net, uint64_t seed)
{
    rng r = {seed};
    for (int l = 0; l < N_LAYERS; l++) {
        const size_t *wd = LAYERS[l].w_dims, n = elements(wd);
        const double gain = l == FC ? 1.0 : 2.0;
        const double std = sqrt(gain / (double)(wd[0] * wd[1] * wd[2]));
        double *values = malloc(n * sizeof *values);
        if (values == NULL)
            return CLCNN_ERROR_OUT_OF_MEMORY;
        for (size_t i = 0; i < n; i++)
            values[i] = std * rng_normal(&r);
        clcnn_status st = write_doubles(net, net->w[l], values, n);
        free(values);
        if (st != CLCNN_OK || (st = write_zeros(net, net->b[l])) != CLCNN_OK)
            return st;
    }
    net->input_mean = INPUT_MEAN;
    net->input_std = INPUT_STD;
    return CLCNN_OK;
}

static size_t parameter_count(void)
{
    size_t total = 0;
    for (int l = 0; l < N_LAYERS; l++)
        total += elements(LAYERS[l].w_dims) + LAYERS[l].w_dims[3];
    return total;
}

/* ---- save and load ---- */

static int network_save(network *net, const char *path)
{
    weights_set set;
    memset(&set, 0, sizeof set);
    set.element_size = (int)cli_dtype_size(net->dtype);
    set.input_mean = net->input_mean;
    set.input_std = net->input_std;
    int rc = -1;
    for (int l = 0; l < N_LAYERS; l++) {
        for (int is_bias = 0; is_bias < 2; is_bias++) {
            weights_tensor *t = &set.tensors[set.count++];
            snprintf(t->name, sizeof t->name, "%s.%s", LAYERS[l].name, is_bias ? "b" : "w");
            clcnn_tensor_dims(is_bias ? net->b[l] : net->w[l], t->dims);
            size_t n = elements(t->dims);
            t->values = malloc(n * sizeof *t->values);
            clcnn_status st = t->values ? read_doubles(net, is_bias ? net->b[l] : net->w[l], t->values, n)
                                        : CLCNN_ERROR_OUT_OF_MEMORY;
            if (st != CLCNN_OK) {
                cli_report_failure(COMMAND, net->ctx, "reading the weights back", st);
                goto done;
            }
        }
    }
    char err[4096];
    if (weights_save(path, &set, err, sizeof err) != 0) {
        fprintf(stderr, "clcnn train: --save: %s\n", err);
        goto done;
    }
    rc = 0;
done:
    for (int t = 0; t < set.count; t++)
        free(set.tensors[t].values);
    return rc;
}

static void format_dims(const size_t dims[4], char *out, size_t capacity)
{
    snprintf(out, capacity, "%zux%zux%zux%zu", dims[0], dims[1], dims[2], dims[3]);
}

static int network_load(network *net, const char *path)
{
    weights_set set;
    char err[4096];
    if (weights_load(path, &set, err, sizeof err) != 0) {
        fprintf(stderr, "clcnn train: --load: %s\n", err);
        return -1;
    }
    int rc = -1;
    if (!(isfinite(set.input_mean) && isfinite(set.input_std) && set.input_std > 0.0)) {
        fprintf(stderr, "clcnn train: --load: %s: bad input normalisation (mean %g, std %g)\n", path,
                set.input_mean, set.input_std);
        goto done;
    }
    for (int l = 0; l < N_LAYERS; l++) {
        for (int is_bias = 0; is_bias < 2; is_bias++) {
            char name[WEIGHTS_NAME_CAPACITY];
            snprintf(name, sizeof name, "%s.%s", LAYERS[l].name, is_bias ? "b" : "w");
            clcnn_tensor *target = is_bias ? net->b[l] : net->w[l];
            size_t want[4];
            clcnn_tensor_dims(target, want);
            const weights_tensor *t = weights_find(&set, name);
            if (t == NULL) {
                fprintf(stderr, "clcnn train: --load: %s has no tensor %s; it holds another network\n", path,
                        name);
                goto done;
            }
            if (memcmp(t->dims, want, sizeof want) != 0) {
                char have_text[64], want_text[64];
                format_dims(t->dims, have_text, sizeof have_text);
                format_dims(want, want_text, sizeof want_text);
                fprintf(stderr, "clcnn train: --load: %s: %s is %s but this network's is %s\n", path, name,
                        have_text, want_text);
                goto done;
            }
            clcnn_status st = write_doubles(net, target, t->values, elements(want));
            if (st != CLCNN_OK) {
                cli_report_failure(COMMAND, net->ctx, "writing the loaded weights", st);
                goto done;
            }
        }
    }
    if (set.count != 2 * N_LAYERS) {
        fprintf(stderr, "clcnn train: --load: %s holds %d tensors; this network has %d\n", path, set.count,
                2 * N_LAYERS);
        goto done;
    }
    net->input_mean = set.input_mean;
    net->input_std = set.input_std;
    rc = 0;
done:
    weights_free(&set);
    return rc;
}

/* ---- one batch ---- */

/* Copies images order[first .. first+count) into the batch's x and labels. */
static clcnn_status upload_batch(network *net, batch_buffers *bb, const dataset *d, const size_t *order,
                                 size_t first)
{
    const size_t count = bb->size;
    const double scale = 1.0 / (255.0 * net->input_std), shift = net->input_mean / net->input_std;
    for (size_t i = 0; i < count; i++) {
        const size_t index = order ? order[first + i] : first + i;
        const unsigned char *pixels = d->images + index * IMAGE_PIXELS;
        if (net->dtype == CLCNN_FLOAT64) {
            double *x = (double *)bb->x_host + i * IMAGE_PIXELS;
            for (int p = 0; p < IMAGE_PIXELS; p++)
                x[p] = pixels[p] * scale - shift;
            ((double *)bb->labels_host)[i] = d->labels[index];
        } else {
            float *x = (float *)bb->x_host + i * IMAGE_PIXELS;
            for (int p = 0; p < IMAGE_PIXELS; p++)
                x[p] = (float)(pixels[p] * scale - shift);
            ((float *)bb->labels_host)[i] = d->labels[index];
        }
    }
    const size_t elem = cli_dtype_size(net->dtype);
    clcnn_status st = clcnn_tensor_write(bb->x, bb->x_host, count * IMAGE_PIXELS * elem);
    return st ? st : clcnn_tensor_write(bb->labels, bb->labels_host, count * elem);
}

/* Logits, probabilities and the batch's losses. */
static clcnn_status forward(network *net, batch_buffers *bb)
{
    clcnn_context *ctx = net->ctx;
    const clcnn_pool_mode max = CLCNN_POOL_MAX;
    clcnn_status st;
    if ((st = clcnn_conv_forward(ctx, bb->x, net->w[CONV1], net->b[CONV1], 1, LAYERS[CONV1].pad, bb->z1)) ||
        (st = clcnn_relu_forward(ctx, bb->z1, bb->a1)) || (st = clcnn_pool_forward(ctx, bb->a1, 2, 2, max, bb->p1)) ||
        (st = clcnn_conv_forward(ctx, bb->p1, net->w[CONV2], net->b[CONV2], 1, LAYERS[CONV2].pad, bb->z2)) ||
        (st = clcnn_relu_forward(ctx, bb->z2, bb->a2)) || (st = clcnn_pool_forward(ctx, bb->a2, 2, 2, max, bb->p2)) ||
        (st = clcnn_conv_forward(ctx, bb->p2, net->w[FC], net->b[FC], 1, LAYERS[FC].pad, bb->logits)))
        return st;
    return clcnn_softmax_cross_entropy_forward(ctx, bb->logits, bb->labels, bb->probs, bb->loss, bb->mean_loss);
}

/* Gradients of the batch's mean loss, then one SGD step per parameter. */
static clcnn_status backward_and_update(network *net, batch_buffers *bb, const train_options *o, double lr)
{
    clcnn_context *ctx = net->ctx;
    const clcnn_pool_mode max = CLCNN_POOL_MAX;
    clcnn_status st;
    /* relu_backward takes the ReLU's output (a1, a2): it is positive exactly
     * where its input was. The first layer's input needs no gradient. */
    if ((st = clcnn_softmax_cross_entropy_backward(ctx, bb->probs, bb->labels, bb->dlogits)) ||
        (st = clcnn_conv_backward(ctx, bb->dlogits, bb->p2, net->w[FC], 1, LAYERS[FC].pad, bb->dp2, net->dw[FC],
                                  net->db[FC])) ||
        (st = clcnn_pool_backward(ctx, bb->dp2, bb->a2, 2, 2, max, bb->da2)) ||
        (st = clcnn_relu_backward(ctx, bb->da2, bb->a2, bb->dz2)) ||
        (st = clcnn_conv_backward(ctx, bb->dz2, bb->p1, net->w[CONV2], 1, LAYERS[CONV2].pad, bb->dp1,
                                  net->dw[CONV2], net->db[CONV2])) ||
        (st = clcnn_pool_backward(ctx, bb->dp1, bb->a1, 2, 2, max, bb->da1)) ||
        (st = clcnn_relu_backward(ctx, bb->da1, bb->a1, bb->dz1)) ||
        (st = clcnn_conv_backward(ctx, bb->dz1, bb->x, net->w[CONV1], 1, LAYERS[CONV1].pad, NULL, net->dw[CONV1],
                                  net->db[CONV1])))
        return st;
    for (int l = 0; l < N_LAYERS; l++) {
        /* No weight decay on biases, as usual. */
        if ((st = clcnn_sgd_update(ctx, net->w[l], net->dw[l], net->vw[l], lr, o->momentum, o->weight_decay)) ||
            (st = clcnn_sgd_update(ctx, net->b[l], net->db[l], net->vb[l], lr, o->momentum, 0.0)))
            return st;
    }
    return CLCNN_OK;
}

static clcnn_status read_scalar(network *net, const clcnn_tensor *t, double *value)
{
    return read_doubles(net, t, value, 1);
}

/* ---- progress ---- */

typedef struct progress {
    int tty;
    double start, last_draw;
    int next_tenth; /* without a terminal: print a line at each tenth */
} progress;

static void progress_show(progress *p, long epoch, long epochs, size_t done, size_t total, double loss, int final)
{
    const double now = cli_now(), elapsed = now - p->start;
    const double rate = elapsed > 0 ? (double)done / elapsed : 0.0;
    if (p->tty) {
        if (!final && now - p->last_draw < 0.1)
            return;
        p->last_draw = now;
        enum { WIDTH = 24 };
        char bar[WIDTH + 1];
        int filled = (int)((double)WIDTH * (double)done / (double)total);
        for (int i = 0; i < WIDTH; i++)
            bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\repoch %ld/%ld [%s] %6zu/%zu  loss %.4f  %4.0f images/s  %5.1f s ", epoch, epochs, bar,
                done, total, loss, rate, elapsed);
        if (final)
            fputc('\n', stderr);
        fflush(stderr);
        return;
    }
    int tenth = (int)(10 * done / total);
    if (tenth < p->next_tenth && !final)
        return;
    if (final && p->next_tenth > 10)
        return;
    p->next_tenth = tenth + 1;
    fprintf(stderr, "epoch %ld/%ld: %zu/%zu images, loss %.4f, %.0f images/s, %.1f s\n", epoch, epochs, done, total,
            loss, rate, elapsed);
    fflush(stderr);
}

/* ---- evaluation ---- */

typedef struct evaluation {
    size_t correct, total;
    double loss, seconds;
} evaluation;

static int evaluate(network *net, const dataset *test, size_t count, evaluation *out)
{
    const double start = cli_now();
    double loss_sum = 0.0, logits[EVAL_BATCH * N_CLASSES];
    size_t correct = 0;
    for (size_t first = 0; first < count; first += EVAL_BATCH) {
        const size_t n = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        batch_buffers *bb;
        double mean;
        clcnn_status st;
        if ((st = batch_for(net, n, 0, &bb)) || (st = upload_batch(net, bb, test, NULL, first)) ||
            (st = forward(net, bb)) || (st = read_doubles(net, bb->logits, logits, n * N_CLASSES)) ||
            (st = read_scalar(net, bb->mean_loss, &mean)))
            return cli_report_failure(COMMAND, net->ctx, "evaluating the test set", st);
        loss_sum += mean * (double)n;
        for (size_t i = 0; i < n; i++) {
            const double *row = logits + i * N_CLASSES;
            int best = 0;
            for (int c = 1; c < N_CLASSES; c++)
                if (row[c] > row[best])
                    best = c;
            correct += best == test->labels[first + i];
        }
    }
    out->correct = correct;
    out->total = count;
    out->loss = loss_sum / (double)count;
    out->seconds = cli_now() - start;
    return CLI_EXIT_OK;
}

static void print_evaluation(const evaluation *e)
{
    printf("test loss %.4f  test accuracy %.2f%% (%zu/%zu)  [%.1f s]", e->loss, 100.0 * (double)e->correct /
           (double)e->total, e->correct, e->total, e->seconds);
}

/* ---- training ---- */

static int train(network *net, const dataset *train_set, size_t train_count, const dataset *test,
                 size_t test_count, const train_options *o)
{
    size_t *order = malloc(train_count * sizeof *order);
    if (order == NULL) {
        fprintf(stderr, "clcnn train: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    for (size_t i = 0; i < train_count; i++)
        order[i] = i;
    /* The shuffle has a stream of its own, apart from the initialisation. */
    rng shuffle = {o->seed ^ UINT64_C(0x5851f42d4c957f2d)};
    double total_seconds = 0.0;
    int rc = CLI_EXIT_OK;
    const size_t steps_per_epoch = (train_count + (size_t)o->batch - 1) / (size_t)o->batch;
    const double total_steps = (double)steps_per_epoch * (double)o->epochs;
    size_t step = 0;
    for (long epoch = 1; epoch <= o->epochs && rc == CLI_EXIT_OK; epoch++) {
        for (size_t i = train_count; i > 1; i--) {
            size_t j = rng_below(&shuffle, i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        progress bar = {isatty(fileno(stderr)), cli_now(), 0.0, 1};
        double loss_sum = 0.0;
        size_t done = 0;
        while (done < train_count) {
            const size_t n = train_count - done < (size_t)o->batch ? train_count - done : (size_t)o->batch;
            batch_buffers *bb;
            double mean;
            clcnn_status st;
            /* Large steps first, then ever finer ones as the loss settles. */
            const double lr = o->cosine ? o->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / total_steps))
                                        : o->lr;
            step++;
            if ((st = batch_for(net, n, 1, &bb)) || (st = upload_batch(net, bb, train_set, order, done)) ||
                (st = forward(net, bb)) || (st = backward_and_update(net, bb, o, lr)) ||
                (st = read_scalar(net, bb->mean_loss, &mean))) {
                rc = cli_report_failure(COMMAND, net->ctx, "a training step", st);
                break;
            }
            if (!isfinite(mean)) {
                fprintf(stderr, "\nclcnn train: the loss became %g at image %zu of epoch %ld: training diverged; "
                                "try a smaller --lr (now %g)\n", mean, done, epoch, o->lr);
                rc = CLI_EXIT_FAILURE;
                break;
            }
            loss_sum += mean * (double)n;
            done += n;
            progress_show(&bar, epoch, o->epochs, done, train_count, loss_sum / (double)done, done == train_count);
        }
        if (rc != CLI_EXIT_OK)
            break;
        const double seconds = cli_now() - bar.start;
        total_seconds += seconds;
        printf("epoch %ld/%ld  train loss %.4f  %.1f s (%.0f images/s)  ", epoch, o->epochs,
               loss_sum / (double)train_count, seconds, (double)train_count / seconds);
        evaluation e;
        if ((rc = evaluate(net, test, test_count, &e)) != CLI_EXIT_OK)
            break;
        print_evaluation(&e);
        printf("\n");
        fflush(stdout);
    }
    if (rc == CLI_EXIT_OK)
        printf("training: %.1f s in all, %.1f s per epoch\n", total_seconds, total_seconds / (double)o->epochs);
    free(order);
    return rc;
}

/* ---- the command ---- */

static void print_help(void)
{
    printf("usage: clcnn train [--epochs N] [--batch N] [--lr X] [--seed N] [--limit N]\n"
           "                   [--save FILE] [--load FILE] [--eval-only] [--data DIR] [--device SPEC]\n\n"
           "Trains the walkthrough's ConvNet on Fashion-MNIST, on the device:\n"
           "  conv 5x5x32 pad 2 > ReLU > max pool 2 > conv 5x5x64 pad 2 > ReLU > max pool 2\n"
           "  > fully connected 10 (a 7x7x64 convolution) > softmax cross-entropy\n"
           "with SGD and momentum, showing a progress bar per epoch and the test-set\n"
           "accuracy after each. The same --seed on the same device gives the same numbers.\n\n"
           "Options:\n"
           "  --epochs N        passes over the training set (default %d)\n"
           "  --batch N         images per SGD step (default %d)\n"
           "  --lr X            learning rate (default %g)\n"
           "  --lr-decay cosine|none\n"
           "                    cosine: lower the rate along a half cosine from --lr to 0\n"
           "                    over the whole run (default); none: keep it constant\n"
           "  --momentum X      SGD momentum, 0 to 1 (default %g)\n"
           "  --weight-decay X  L2 weight decay on the weights (default 0)\n"
           "  --seed N          seed of the initialisation and the shuffling (default %d)\n"
           "  --limit N         train on the first N training images only (default all %d)\n"
           "  --test-limit N    measure accuracy on the first N test images (default all %d)\n"
           "  --dtype f32|f64   precision of the tensors (default f32)\n"
           "  --save FILE       write the trained weights to FILE\n"
           "  --load FILE       start from the weights in FILE instead of random ones\n"
           "                    (training goes on from them with fresh momentum)\n"
           "  --eval-only       with --load: only measure the test accuracy\n"
           "  --data DIR        where the four Fashion-MNIST .gz files are\n"
           "                    (default %s, from the package %s)\n",
           DEFAULT_EPOCHS, DEFAULT_BATCH, DEFAULT_LR, DEFAULT_MOMENTUM, DEFAULT_SEED, N_TRAIN, N_TEST,
           DEFAULT_DATA_DIR, DATA_PACKAGE);
    cli_print_device_help(stdout);
    printf("\nWeights files (--save, --load) are a small binary format with a magic number,\n"
           "version, dims and a CRC-32; see tools/weights_file.h. Exit status: 0 success,\n"
           "1 failure, 2 bad usage, 77 no OpenCL device.\n");
}

static int parse_double(const char *option, const char *text, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !(value >= min && value <= max)) {
        fprintf(stderr, "clcnn train: %s wants a number from %g to %g, not \"%s\"\n", option, min, max, text);
        return -1;
    }
    *out = value;
    return 0;
}

/* Parses argv into o; returns -1 (usage error, printed), 0, or 1 for --help. */
static int parse_options(int argc, char **argv, train_options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *text;
        int m;
#define OPTION(name) ((m = cli_option_value(COMMAND, argc, argv, &i, name, &text)) != 0)
        if (OPTION("--device")) {
            if (m < 0)
                return -1;
            o->device = text;
        } else if (OPTION("--data")) {
            if (m < 0)
                return -1;
            o->data_dir = text;
        } else if (OPTION("--save")) {
            if (m < 0)
                return -1;
            o->save_path = text;
        } else if (OPTION("--load")) {
            if (m < 0)
                return -1;
            o->load_path = text;
        } else if (OPTION("--epochs")) {
            if (m < 0 || cli_parse_long(COMMAND, "--epochs", text, 1, 1000, &o->epochs))
                return -1;
        } else if (OPTION("--batch")) {
            if (m < 0 || cli_parse_long(COMMAND, "--batch", text, 1, 4096, &o->batch))
                return -1;
        } else if (OPTION("--limit")) {
            if (m < 0 || cli_parse_long(COMMAND, "--limit", text, 1, N_TRAIN, &o->limit))
                return -1;
        } else if (OPTION("--test-limit")) {
            if (m < 0 || cli_parse_long(COMMAND, "--test-limit", text, 1, N_TEST, &o->test_limit))
                return -1;
        } else if (OPTION("--lr")) {
            if (m < 0 || parse_double("--lr", text, 0.0, 100.0, &o->lr))
                return -1;
        } else if (OPTION("--momentum")) {
            if (m < 0 || parse_double("--momentum", text, 0.0, 1.0, &o->momentum))
                return -1;
        } else if (OPTION("--weight-decay")) {
            if (m < 0 || parse_double("--weight-decay", text, 0.0, 1.0, &o->weight_decay))
                return -1;
        } else if (OPTION("--seed")) {
            if (m < 0 || cli_parse_u64(COMMAND, "--seed", text, &o->seed))
                return -1;
        } else if (OPTION("--dtype")) {
            if (m < 0 || cli_parse_dtype(COMMAND, text, &o->dtype))
                return -1;
        } else if (OPTION("--lr-decay")) {
            if (m < 0)
                return -1;
            if (strcmp(text, "cosine") != 0 && strcmp(text, "none") != 0) {
                fprintf(stderr, "clcnn train: --lr-decay wants cosine or none, not \"%s\"\n", text);
                return -1;
            }
            o->cosine = strcmp(text, "cosine") == 0;
        } else if (strcmp(argv[i], "--eval-only") == 0) {
            o->eval_only = 1;
        } else if (cli_is_help(argv[i])) {
            return 1;
        } else {
            cli_unknown_argument(COMMAND, argv[i]);
            return -1;
        }
#undef OPTION
    }
    if (o->eval_only && o->load_path == NULL) {
        fprintf(stderr, "clcnn train: --eval-only needs --load FILE (the weights to measure)\n");
        return -1;
    }
    if (o->eval_only && o->save_path != NULL) {
        fprintf(stderr, "clcnn train: --eval-only trains nothing, so --save has nothing new to write\n");
        return -1;
    }
    return 0;
}

int cli_train(int argc, char **argv)
{
    train_options o = {
        .data_dir = DEFAULT_DATA_DIR,
        .epochs = DEFAULT_EPOCHS,
        .batch = DEFAULT_BATCH,
        .limit = N_TRAIN,
        .test_limit = N_TEST,
        .lr = DEFAULT_LR,
        .momentum = DEFAULT_MOMENTUM,
        .cosine = 1,
        .seed = DEFAULT_SEED,
        .dtype = CLCNN_FLOAT32,
    };
    int parsed = parse_options(argc, argv, &o);
    if (parsed != 0) {
        if (parsed > 0)
            print_help();
        return parsed > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }

    dataset train_set = {0}, test_set = {0};
    network net;
    memset(&net, 0, sizeof net);
    int rc = CLI_EXIT_FAILURE;
    if ((!o.eval_only && dataset_load(o.data_dir, "train", &train_set) != 0) ||
        dataset_load(o.data_dir, "t10k", &test_set) != 0)
        goto done;
    const size_t train_count = train_set.count < (size_t)o.limit ? train_set.count : (size_t)o.limit;
    const size_t test_count = test_set.count < (size_t)o.test_limit ? test_set.count : (size_t)o.test_limit;

    if ((rc = cli_open_context(COMMAND, o.device, &net.ctx)) != CLI_EXIT_OK)
        goto done;
    rc = CLI_EXIT_FAILURE;
    net.dtype = o.dtype;
    if (!clcnn_context_supports_dtype(net.ctx, net.dtype)) {
        fprintf(stderr, "clcnn train: %s has no float64 (cl_khr_fp64); use --dtype f32\n",
                clcnn_context_device_name(net.ctx));
        goto done;
    }
    clcnn_status st = network_create(&net, !o.eval_only);
    if (st == CLCNN_OK && o.load_path == NULL)
        st = network_init_he(&net, o.seed);
    if (st != CLCNN_OK) {
        rc = cli_report_failure(COMMAND, net.ctx, "setting up the network", st);
        goto done;
    }
    if (o.load_path != NULL && network_load(&net, o.load_path) != 0)
        goto done;

    printf("device: %s, %s\n", clcnn_context_device_name(net.ctx), cli_dtype_name(net.dtype));
    printf("network: conv 5x5x32 pad 2 > relu > max pool 2 > conv 5x5x64 pad 2 > relu > max pool 2\n"
           "         > fully connected 10 (conv 7x7x64x10) > softmax; %zu parameters, %s\n",
           parameter_count(), o.load_path ? o.load_path : "He initialisation");
    if (o.eval_only) {
        printf("data: %s, %zu test images\n", o.data_dir, test_count);
        fflush(stdout);
        evaluation e;
        if ((rc = evaluate(&net, &test_set, test_count, &e)) != CLI_EXIT_OK)
            goto done;
        print_evaluation(&e);
        printf("\n");
        goto done;
    }
    printf("data: %s, %zu training and %zu test images\n", o.data_dir, train_count, test_count);
    printf("training: %ld epoch%s, batch %ld, SGD lr %g%s momentum %g weight decay %g, seed %llu\n", o.epochs,
           o.epochs == 1 ? "" : "s", o.batch, o.lr, o.cosine ? " (cosine decay to 0)" : "", o.momentum,
           o.weight_decay, o.seed);
    fflush(stdout);
    if ((rc = train(&net, &train_set, train_count, &test_set, test_count, &o)) != CLI_EXIT_OK)
        goto done;
    if (o.save_path != NULL) {
        if (network_save(&net, o.save_path) != 0) {
            rc = CLI_EXIT_FAILURE;
            goto done;
        }
        printf("saved the weights to %s\n", o.save_path);
    }
done:
    network_free(&net);
    dataset_free(&train_set);
    dataset_free(&test_set);
    return rc;
}
