/* The network of `clcnn train`, the walkthrough's ConvNet:
 *
 *   conv 5x5, 32 filters, pad 2 -> ReLU -> max pool 2x2 stride 2
 *   -> conv 5x5, 64 filters, pad 2 -> ReLU -> max pool 2x2 stride 2
 *   -> fully connected 10 -> softmax cross-entropy
 *
 * The fully connected layer is a convolution whose window is its whole
 * 7x7x64 input (w of dims (7, 7, 64, 10), stride 1, pad 0): the library
 * needs no op of its own for it. Its parameters, the tensors of a batch,
 * and one forward and backward pass, all on the device. */
#ifndef CLCNN_TOOLS_TRAIN_NETWORK_H
#define CLCNN_TOOLS_TRAIN_NETWORK_H

#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"
#include "train_data.h"

enum { CONV1, CONV2, FC, N_LAYERS };

typedef struct layer_def {
    const char *name; /* "conv1": its tensors are saved as conv1.w, conv1.b */
    size_t w_dims[4]; /* (f_h, f_w, n_C_prev, n_C) */
    int pad;
} layer_def;

extern const layer_def LAYERS[N_LAYERS];

/* The tensors of one batch size: activations, and (for training) their
 * gradients, plus host staging for the batch's images and labels. */
typedef struct batch_buffers {
    size_t size;
    int with_gradients;
    /* a1, a2: the conv layers' outputs after their fused ReLU. */
    clcnn_tensor *x, *labels, *a1, *p1, *a2, *p2, *logits, *probs, *loss, *mean_loss;
    clcnn_tensor *dlogits, *dp2, *da2, *dz2, *dp1, *da1, *dz1;
    void *x_host, *labels_host; /* in the network's dtype */
} batch_buffers;

/* Batch sizes in use at once: the training batch, its tail, the
 * evaluation batch and its tail. */
#define MAX_BATCH_SETS 4

/* ctx and dtype are set by the caller before network_create. */
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

/* The parameters, and for training their gradients and velocities (zero). */
clcnn_status network_create(network *net, int for_training);
/* He-initialised weights drawn from seed, zero biases, and the data set's
 * input normalisation: the start of a first training. */
clcnn_status network_init_he(network *net, uint64_t seed);
/* Frees the tensors and the context. */
void network_free(network *net);
size_t network_parameter_count(void);

/* The buffers for batches of `size` images, made on first use. */
clcnn_status network_batch(network *net, size_t size, int with_gradients, batch_buffers **out);
/* Copies images order[first .. first+count) of d (order NULL: first ..
 * first+count) into the batch's x and labels. */
clcnn_status network_upload_batch(network *net, batch_buffers *bb, const dataset *d, const size_t *order, size_t first);
/* Logits, probabilities and the batch's losses. */
clcnn_status network_forward(network *net, batch_buffers *bb);
/* Compiles ahead every kernel a batch of `size` takes (with training: the
 * backward pass and the updates with this momentum too), so that the first
 * step runs at speed (clcnn_context_prepare). */
clcnn_status network_prepare(network *net, size_t size, int training, double momentum);
/* Gradients of the batch's mean loss, then one SGD step per parameter. */
clcnn_status network_backward_and_update(network *net, batch_buffers *bb, double lr, double momentum,
                                         double weight_decay);

#endif
