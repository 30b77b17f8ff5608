/* `clcnn prepare`: compiles ahead every kernel a suite of bench's rows
 * takes on this device (clcnn_context_prepare), filling the driver's and
 * clcnn's caches, for example as a step of a CI image's build
 * (docs/first-run.md). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rows.h"

#define COMMAND "prepare"

typedef struct prepare {
    clcnn_dtype dtype;
    clcnn_layer_spec *specs;
    size_t count, capacity;
} prepare;

static int add_spec(void *arg, const bench_layer *layer, const bench_op *op, int mode)
{
    prepare *p = arg;
    if (p->count == p->capacity) {
        size_t capacity = p->capacity ? 2 * p->capacity : 64;
        clcnn_layer_spec *grown = realloc(p->specs, capacity * sizeof *grown);
        if (grown == NULL)
            return -1;
        p->specs = grown;
        p->capacity = capacity;
    }
    bench_layer_spec(layer, op, mode == MODE_MAX ? CLCNN_POOL_MAX : CLCNN_POOL_AVERAGE, p->dtype,
                     &p->specs[p->count++]);
    return 0;
}

static void print_help(void)
{
    fputs("usage: clcnn prepare [--suite table|networks|all] [--layer NAME]... [--op OP]...\n"
                 "                     [--dtype f32|f64] [--device SPEC]\n"
                 "Compiles ahead every kernel that clcnn bench's rows take on this device (each\n"
                 "program built, each kernel launched once at its work-group sizes), so that the\n"
                 "driver's and clcnn's caches are warm for the next run.\n"
                 "  --suite S       table (default), networks or all, as in clcnn bench\n"
                 "  --layer NAME    only this layer (repeatable)\n"
                 "  --op OP         only this op (repeatable); default every op bench times\n"
                 "  --dtype T       f32 (default) or f64\n"
                 "  --device SPEC   as CLCNN_DEVICE\n",
          stdout);
}

int cli_prepare(int argc, char **argv)
{
    static const struct option options[] = {
        {"layer", required_argument, NULL, 'l'}, {"op", required_argument, NULL, 'o'},
        {"dtype", required_argument, NULL, 't'}, {"suite", required_argument, NULL, 's'},
        CLI_OPTION_DEVICE,                       CLI_OPTION_HELP,
        CLI_OPTIONS_END,
    };
    prepare p = {.dtype = CLCNN_FLOAT32};
    int suites = SUITE_TABLE, any_layer = 0, any_op = 0, k;
    int layer_wanted[BENCH_MAX_LAYERS] = {0}, op_wanted[BENCH_MAX_OPS] = {0};
    const char *device = NULL;
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "h", options)) != -1;) {
        switch (option) {
        case 'l':
            if ((k = bench_find_layer(optarg)) < 0) {
                fprintf(stderr, "clcnn prepare: unknown --layer \"%s\" (see clcnn bench --help)\n", optarg);
                return CLI_EXIT_USAGE;
            }
            layer_wanted[k] = any_layer = 1;
            break;
        case 'o':
            if ((k = bench_find_op(optarg)) < 0)
                return cli_unknown_name(COMMAND, "--op", optarg, bench_op_table, sizeof bench_op_table[0],
                                        bench_op_count);
            op_wanted[k] = any_op = 1;
            break;
        case 't':
            if (cli_parse_dtype(COMMAND, optarg, &p.dtype))
                return CLI_EXIT_USAGE;
            break;
        case 's':
            if (bench_parse_suite(COMMAND, optarg, &suites))
                return CLI_EXIT_USAGE;
            break;
        case 'd': device = optarg; break;
        default: return cli_option_exit(option, print_help);
        }
    }
    for (k = 0; !any_op && k < bench_op_count; k++)
        op_wanted[k] = !bench_op_table[k].only_when_named;
    bench_visit(suites, any_layer ? layer_wanted : NULL, op_wanted, add_spec, &p);
    clcnn_context *ctx = NULL;
    int exit_status = cli_open_context(COMMAND, device, &ctx);
    if (exit_status != CLI_EXIT_OK) {
        free(p.specs);
        return exit_status;
    }
    const double start = cli_now();
    clcnn_build_stats stats = {0};
    clcnn_status st = clcnn_context_prepare(ctx, p.specs, p.count);
    clcnn_context_build_stats(ctx, &stats);
    if (st != CLCNN_OK) {
        fprintf(stderr, "clcnn prepare: %s\n", clcnn_context_last_error(ctx));
        exit_status = CLI_EXIT_FAILURE;
    } else {
        printf("prepared %zu rows on %s in %.1f s: %zu programs (%zu from clcnn's cache) built in %.1f s, %zu first "
               "launches in %.1f s\n",
               p.count, clcnn_context_device_name(ctx), cli_now() - start, stats.programs, stats.cached_programs,
               stats.build_seconds, stats.first_launches, stats.first_launch_seconds);
    }
    clcnn_context_destroy(ctx);
    free(p.specs);
    return exit_status;
}
