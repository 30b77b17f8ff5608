/* The clcnn command: dispatch to the subcommands, the top-level help, and
 * the option parsing they share (getopt_long with the command's messages,
 * --device SPEC, --help, numbers, dtypes). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"devices", cli_devices, "list the OpenCL platforms and devices, and the default choice"},
    {"demo", cli_demo, "replay the numpy walkthrough on the device, next to the CPU reference"},
    {"check", cli_check, "randomized self-test of every op against the CPU reference"},
    {"bench", cli_bench, "time every op on the layer shapes of the design notes"},
    {"tune", cli_tune, "search each layer's tuning keys and write the device's tuning database"},
    {"prepare", cli_prepare, "compile ahead every kernel of a suite of layers, filling the caches"},
    {"train", cli_train, "train the walkthrough's ConvNet on Fashion-MNIST, on the device"},
};

void cli_print_device_help(FILE *out)
{
    fputs("  --device SPEC   the OpenCL device: gpu, cpu, P:D (indices from `clcnn devices`)\n"
          "                  or a case-insensitive substring of \"platform device\"\n"
          "                  (pocl, nvidia, oclgrind). Default: $CLCNN_DEVICE, else the\n"
          "                  first GPU, accelerator, then CPU.\n"
          "  -h, --help      show this help\n",
          out);
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: clcnn <command> [options]\n\n"
            "clcnn %s: convolution and pooling layers (forward and backward) as OpenCL\n"
            "kernels. Commands:\n",
            clcnn_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\nOptions every command takes:\n", out);
    cli_print_device_help(out);
    fputs("\n`clcnn <command> --help` shows the command's own options. A first try:\n"
          "  clcnn devices && clcnn demo\n"
          "Exit status: 0 success, 1 failure, 2 bad usage, 77 no OpenCL device\n"
          "(1 instead when CLCNN_REQUIRE_DEVICE=1).\n",
          out);
}

int cli_getopt(const char *command, int argc, char **argv, const char *short_options, const struct option *long_options)
{
    /* "+": stop at the first argument that is not an option, which is then
     * reported as unknown (getopt_long would otherwise move it to the end).
     * ":": tell a missing value (':') from an unknown option ('?'), and let
     * getopt_long print nothing, so that the messages name the command. */
    char optstring[32];
    snprintf(optstring, sizeof optstring, "+:%s", short_options);
    const int at = optind;
    const int option = getopt_long(argc, argv, optstring, long_options, NULL);
    if (option == ':') {
        fprintf(stderr, "clcnn %s: %s needs a value (see clcnn %s --help)\n", command, argv[at], command);
        return '?';
    }
    if (option == '?') {
        cli_unknown_argument(command, argv[at]);
        return '?';
    }
    if (option == -1 && optind < argc) {
        cli_unknown_argument(command, argv[optind]);
        return '?';
    }
    return option;
}

int cli_option_exit(int option, void (*print_help)(void))
{
    if (option != 'h')
        return CLI_EXIT_USAGE;
    print_help();
    return CLI_EXIT_OK;
}

int cli_parse_long(const char *command, const char *option, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || value < min || value > max) {
        fprintf(stderr, "clcnn %s: %s wants an integer from %ld to %ld, not \"%s\"\n", command, option, min, max, text);
        return -1;
    }
    *out = value;
    return 0;
}

int cli_parse_u64(const char *command, const char *option, const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 0);
    if (errno || end == text || *end != '\0' || text[0] == '-') {
        fprintf(stderr, "clcnn %s: %s wants a non-negative integer, not \"%s\"\n", command, option, text);
        return -1;
    }
    *out = value;
    return 0;
}

/* --dtype's values, short and long, in clcnn_dtype's order. */
static const struct {
    const char *flag, *name;
    clcnn_dtype dtype;
} dtype_flags[] = {{"f32", "float32", CLCNN_FLOAT32},
                   {"f64", "float64", CLCNN_FLOAT64},
                   {"f16", "float16", CLCNN_FLOAT16},
                   {"bf16", "bfloat16", CLCNN_BFLOAT16}};

int cli_parse_any_dtype(const char *command, const char *text, clcnn_dtype *out)
{
    for (size_t i = 0; i < sizeof dtype_flags / sizeof dtype_flags[0]; i++)
        if (strcmp(text, dtype_flags[i].flag) == 0 || strcmp(text, dtype_flags[i].name) == 0) {
            *out = dtype_flags[i].dtype;
            return 0;
        }
    fprintf(stderr, "clcnn %s: --dtype wants f32, f64, f16 or bf16, not \"%s\"\n", command, text);
    return -1;
}

const char *cli_dtype_flag(clcnn_dtype dtype)
{
    for (size_t i = 0; i < sizeof dtype_flags / sizeof dtype_flags[0]; i++)
        if (dtype_flags[i].dtype == dtype)
            return dtype_flags[i].flag;
    return "?";
}

int cli_parse_dtype(const char *command, const char *text, clcnn_dtype *out)
{
    if (strcmp(text, "f32") == 0 || strcmp(text, "float32") == 0) {
        *out = CLCNN_FLOAT32;
        return 0;
    }
    if (strcmp(text, "f64") == 0 || strcmp(text, "float64") == 0) {
        *out = CLCNN_FLOAT64;
        return 0;
    }
    fprintf(stderr, "clcnn %s: --dtype wants f32 or f64, not \"%s\"\n", command, text);
    return -1;
}

int cli_unknown_argument(const char *command, const char *arg)
{
    fprintf(stderr, "clcnn %s: unknown argument \"%s\" (see clcnn %s --help)\n", command, arg, command);
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const int option = getopt_long(argc, argv, "+:h", options, NULL);
    /* The command: the first argument, when it is not an option. */
    const char *name = option == -1 && optind < argc ? argv[optind] : NULL;
    if (option == 'h' || (name && strcmp(name, "help") == 0)) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (option == 'V' || (name && strcmp(name, "version") == 0)) {
        printf("clcnn %s\n", clcnn_version());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; name && i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0) {
            const int first = optind;
            /* The command parses its own argv (its name first) from the start. */
            optind = 1;
            return commands[i].run(argc - first, argv + first);
        }
    fprintf(stderr, "clcnn: unknown command \"%s\"\n\n", name ? name : argv[1]);
    print_usage(stderr);
    return CLI_EXIT_USAGE;
}
