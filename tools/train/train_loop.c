/* The training loop of `clcnn train`: epochs of SGD with a cosine-decayed
 * learning rate over the training set, reshuffled each epoch from the
 * seeded generator; evaluation on the test set; and the weights file. The
 * only host round trip of a training step is reading the batch's mean loss
 * for the progress bar (and the blocking upload of the next batch). */
#include "train_loop.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train_progress.h"
#include "weights_file.h"

/* Images per forward pass when measuring test accuracy (divides 10000). */
#define EVAL_BATCH 250

int train_run(network *net, const dataset *train_set, size_t train_count, const dataset *test, size_t test_count,
              const train_options *o)
{
    size_t *order = malloc(train_count * sizeof *order);
    if (order == NULL) {
        fprintf(stderr, "clcnn train: out of memory\n");
        return CLI_EXIT_FAILURE;
    }
    for (size_t i = 0; i < train_count; i++)
        order[i] = i;
    /* The shuffle has a stream of its own, apart from the initialisation. */
    kit_rng shuffle = {o->seed ^ UINT64_C(0x5851f42d4c957f2d)};
    double total_seconds = 0.0;
    int rc = CLI_EXIT_OK;
    const size_t steps_per_epoch = (train_count + (size_t)o->batch - 1) / (size_t)o->batch;
    const double total_steps = (double)steps_per_epoch * (double)o->epochs;
    size_t step = 0;
    for (long epoch = 1; epoch <= o->epochs && rc == CLI_EXIT_OK; epoch++) {
        for (size_t i = train_count; i > 1; i--) {
            size_t j = kit_rng_below(&shuffle, i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        progress bar = progress_start();
        double loss_sum = 0.0;
        size_t done = 0;
        while (done < train_count) {
            const size_t n = train_count - done < (size_t)o->batch ? train_count - done : (size_t)o->batch;
            batch_buffers *bb;
            double mean;
            clcnn_status st;
            /* Large steps first, then ever finer ones as the loss settles. */
            const double lr =
                o->cosine ? o->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)step / total_steps)) : o->lr;
            step++;
            if ((st = network_batch(net, n, 1, &bb)) || (st = network_upload_batch(net, bb, train_set, order, done)) ||
                (st = network_forward(net, bb)) ||
                (st = network_backward_and_update(net, bb, lr, o->momentum, o->weight_decay)) ||
                (st = kit_tensor_read(bb->mean_loss, &mean))) {
                rc = cli_report_failure(TRAIN_COMMAND, net->ctx, "a training step", st);
                break;
            }
            if (!isfinite(mean)) {
                fprintf(stderr,
                        "\nclcnn train: the loss became %g at image %zu of epoch %ld: training diverged; "
                        "try a smaller --lr (now %g)\n",
                        mean, done, epoch, o->lr);
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
        if ((rc = train_evaluate(net, test, test_count, &e)) != CLI_EXIT_OK)
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

/* Compiles ahead every kernel training and evaluation take (the full
 * batch, the epoch's last, shorter one, the test batches), and says how
 * long that took, so the epochs' times are the steps' own. */
int train_prepare(network *net, size_t train_count, size_t test_count, const train_options *o)
{
    const double start = cli_now();
    const size_t batch = (size_t)o->batch, rest = train_count % batch;
    const size_t eval = test_count < EVAL_BATCH ? test_count : EVAL_BATCH, eval_rest = test_count % EVAL_BATCH;
    clcnn_status st = CLCNN_OK;
    if (train_count)
        st = network_prepare(net, train_count < batch ? train_count : batch, 1, o->momentum);
    if (st == CLCNN_OK && rest && train_count > batch)
        st = network_prepare(net, rest, 1, o->momentum);
    if (st == CLCNN_OK && eval)
        st = network_prepare(net, eval, 0, o->momentum);
    if (st == CLCNN_OK && eval_rest && test_count > EVAL_BATCH)
        st = network_prepare(net, eval_rest, 0, o->momentum);
    if (st != CLCNN_OK)
        return cli_report_failure(TRAIN_COMMAND, net->ctx, "compiling the network's kernels", st);
    clcnn_build_stats stats;
    clcnn_context_build_stats(net->ctx, &stats);
    printf("kernels: %zu programs compiled ahead in %.1f s\n", stats.programs, cli_now() - start);
    fflush(stdout);
    return CLI_EXIT_OK;
}

int train_evaluate(network *net, const dataset *test, size_t count, evaluation *out)
{
    const double start = cli_now();
    double loss_sum = 0.0, logits[EVAL_BATCH * N_CLASSES];
    size_t correct = 0;
    for (size_t first = 0; first < count; first += EVAL_BATCH) {
        const size_t n = count - first < EVAL_BATCH ? count - first : EVAL_BATCH;
        batch_buffers *bb;
        double mean;
        clcnn_status st;
        if ((st = network_batch(net, n, 0, &bb)) || (st = network_upload_batch(net, bb, test, NULL, first)) ||
            (st = network_forward(net, bb)) || (st = kit_tensor_read(bb->logits, logits)) ||
            (st = kit_tensor_read(bb->mean_loss, &mean)))
            return cli_report_failure(TRAIN_COMMAND, net->ctx, "evaluating the test set", st);
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

void print_evaluation(const evaluation *e)
{
    printf("test loss %.4f  test accuracy %.2f%% (%zu/%zu)  [%.1f s]", e->loss,
           100.0 * (double)e->correct / (double)e->total, e->correct, e->total, e->seconds);
}

int network_save(network *net, const char *path)
{
    weights_set set;
    memset(&set, 0, sizeof set);
    set.element_size = (int)kit_dtype_size(net->dtype);
    set.input_mean = net->input_mean;
    set.input_std = net->input_std;
    int rc = -1;
    for (int l = 0; l < N_LAYERS; l++) {
        for (int is_bias = 0; is_bias < 2; is_bias++) {
            weights_tensor *t = &set.tensors[set.count++];
            snprintf(t->name, sizeof t->name, "%s.%s", LAYERS[l].name, is_bias ? "b" : "w");
            clcnn_tensor_dims(is_bias ? net->b[l] : net->w[l], t->dims);
            size_t n = kit_elements(t->dims);
            t->values = malloc(n * sizeof *t->values);
            clcnn_status st =
                t->values ? kit_tensor_read(is_bias ? net->b[l] : net->w[l], t->values) : CLCNN_ERROR_OUT_OF_MEMORY;
            if (st != CLCNN_OK) {
                cli_report_failure(TRAIN_COMMAND, net->ctx, "reading the weights back", st);
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

int network_load(network *net, const char *path)
{
    weights_set set;
    char err[4096];
    if (weights_load(path, &set, err, sizeof err) != 0) {
        fprintf(stderr, "clcnn train: --load: %s\n", err);
        return -1;
    }
    int rc = -1;
    if (!(isfinite(set.input_mean) && isfinite(set.input_std) && set.input_std > 0.0)) {
        fprintf(stderr, "clcnn train: --load: %s: bad input normalisation (mean %g, std %g)\n", path, set.input_mean,
                set.input_std);
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
                fprintf(stderr, "clcnn train: --load: %s has no tensor %s; it holds another network\n", path, name);
                goto done;
            }
            if (memcmp(t->dims, want, sizeof want) != 0) {
                char have_text[64], want_text[64];
                format_dims(t->dims, have_text, sizeof have_text);
                format_dims(want, want_text, sizeof want_text);
                fprintf(stderr, "clcnn train: --load: %s: %s is %s but this network's is %s\n", path, name, have_text,
                        want_text);
                goto done;
            }
            clcnn_status st = kit_tensor_write(target, t->values);
            if (st != CLCNN_OK) {
                cli_report_failure(TRAIN_COMMAND, net->ctx, "writing the loaded weights", st);
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
