/* `clcnn train`: the walkthrough's ConvNet (train_network.h) trained on
 * Fashion-MNIST (train_data.h), end to end on the device with the library's
 * ops (train_loop.h), with a progress bar per epoch (train_progress.h).
 * Weights start from He initialisation drawn from a seeded generator
 * (the kit's splitmix64, kit/kit.h), the training set is reshuffled each epoch from the same
 * generator, and the library's ops are deterministic, so the same seed on
 * the same device gives the same numbers. This file is the command: its
 * options, and the run from loading the data to saving the weights. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "train_data.h"
#include "train_loop.h"
#include "train_network.h"

#define DEFAULT_EPOCHS 5
#define DEFAULT_BATCH 64
#define DEFAULT_LR 0.01
#define DEFAULT_MOMENTUM 0.9
#define DEFAULT_SEED 1

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
           DEFAULT_EPOCHS, DEFAULT_BATCH, DEFAULT_LR, DEFAULT_MOMENTUM, DEFAULT_SEED, N_TRAIN, N_TEST, DEFAULT_DATA_DIR,
           DATA_PACKAGE);
    cli_print_device_help(stdout);
    printf("\nWeights files (--save, --load) are a small binary format with a magic number,\n"
           "version, dims and a CRC-32; see tools/train/weights_file.h. Exit status: 0 success,\n"
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
    enum {
        DEVICE = 256, /* above every short option */
        DATA,
        SAVE,
        LOAD,
        EPOCHS,
        BATCH,
        LIMIT,
        TEST_LIMIT,
        LR,
        LR_DECAY,
        MOMENTUM,
        WEIGHT_DECAY,
        SEED,
        DTYPE,
        EVAL_ONLY,
    };
    static const struct option options[] = {
        {"device", required_argument, NULL, DEVICE},
        {"data", required_argument, NULL, DATA},
        {"save", required_argument, NULL, SAVE},
        {"load", required_argument, NULL, LOAD},
        {"epochs", required_argument, NULL, EPOCHS},
        {"batch", required_argument, NULL, BATCH},
        {"limit", required_argument, NULL, LIMIT},
        {"test-limit", required_argument, NULL, TEST_LIMIT},
        {"lr", required_argument, NULL, LR},
        {"lr-decay", required_argument, NULL, LR_DECAY},
        {"momentum", required_argument, NULL, MOMENTUM},
        {"weight-decay", required_argument, NULL, WEIGHT_DECAY},
        {"seed", required_argument, NULL, SEED},
        {"dtype", required_argument, NULL, DTYPE},
        {"eval-only", no_argument, NULL, EVAL_ONLY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    for (int option; (option = cli_getopt(TRAIN_COMMAND, argc, argv, "h", options)) != -1;) {
        int bad = 0;
        switch (option) {
        case DEVICE:
        case DATA:
        case SAVE:
        case LOAD: {
            /* The options that take a plain string, in enum order. */
            const char **strings[] = {&o->device, &o->data_dir, &o->save_path, &o->load_path};
            *strings[option - DEVICE] = optarg;
            break;
        }
        case EPOCHS: bad = cli_parse_long(TRAIN_COMMAND, "--epochs", optarg, 1, 1000, &o->epochs); break;
        case BATCH: bad = cli_parse_long(TRAIN_COMMAND, "--batch", optarg, 1, 4096, &o->batch); break;
        case LIMIT: bad = cli_parse_long(TRAIN_COMMAND, "--limit", optarg, 1, N_TRAIN, &o->limit); break;
        case TEST_LIMIT: bad = cli_parse_long(TRAIN_COMMAND, "--test-limit", optarg, 1, N_TEST, &o->test_limit); break;
        case LR: bad = parse_double("--lr", optarg, 0.0, 100.0, &o->lr); break;
        case LR_DECAY:
            if (strcmp(optarg, "cosine") != 0 && strcmp(optarg, "none") != 0) {
                fprintf(stderr, "clcnn train: --lr-decay wants cosine or none, not \"%s\"\n", optarg);
                return -1;
            }
            o->cosine = strcmp(optarg, "cosine") == 0;
            break;
        case MOMENTUM: bad = parse_double("--momentum", optarg, 0.0, 1.0, &o->momentum); break;
        case WEIGHT_DECAY: bad = parse_double("--weight-decay", optarg, 0.0, 1.0, &o->weight_decay); break;
        case SEED: bad = cli_parse_u64(TRAIN_COMMAND, "--seed", optarg, &o->seed); break;
        case DTYPE: bad = cli_parse_dtype(TRAIN_COMMAND, optarg, &o->dtype); break;
        case EVAL_ONLY: o->eval_only = 1; break;
        case 'h': return 1;
        default: return -1;
        }
        if (bad)
            return -1;
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

    if ((rc = cli_open_context(TRAIN_COMMAND, o.device, &net.ctx)) != CLI_EXIT_OK)
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
        rc = cli_report_failure(TRAIN_COMMAND, net.ctx, "setting up the network", st);
        goto done;
    }
    if (o.load_path != NULL && network_load(&net, o.load_path) != 0)
        goto done;

    printf("device: %s, %s\n", clcnn_context_device_name(net.ctx), kit_dtype_name(net.dtype));
    printf("network: conv 5x5x32 pad 2 > relu > max pool 2 > conv 5x5x64 pad 2 > relu > max pool 2\n"
           "         > fully connected 10 (conv 7x7x64x10) > softmax; %zu parameters, %s\n",
           network_parameter_count(), o.load_path ? o.load_path : "He initialisation");
    if (o.eval_only) {
        printf("data: %s, %zu test images\n", o.data_dir, test_count);
        fflush(stdout);
        if ((rc = train_prepare(&net, 0, test_count, &o)) != CLI_EXIT_OK)
            goto done;
        evaluation e;
        if ((rc = train_evaluate(&net, &test_set, test_count, &e)) != CLI_EXIT_OK)
            goto done;
        print_evaluation(&e);
        printf("\n");
        goto done;
    }
    printf("data: %s, %zu training and %zu test images\n", o.data_dir, train_count, test_count);
    printf("training: %ld epoch%s, batch %ld, SGD lr %g%s momentum %g weight decay %g, seed %llu\n", o.epochs,
           o.epochs == 1 ? "" : "s", o.batch, o.lr, o.cosine ? " (cosine decay to 0)" : "", o.momentum, o.weight_decay,
           o.seed);
    fflush(stdout);
    if ((rc = train_prepare(&net, train_count, test_count, &o)) != CLI_EXIT_OK ||
        (rc = train_run(&net, &train_set, train_count, &test_set, test_count, &o)) != CLI_EXIT_OK)
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
