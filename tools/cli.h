/* Declarations shared by the files of the clcnn command: the subcommands,
 * option parsing, opening the device, reporting, and timing. Tensors as
 * doubles, dtypes, random numbers and judging results come from the
 * verification kit (kit/kit.h). */
#ifndef CLCNN_TOOLS_CLI_H
#define CLCNN_TOOLS_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "clcnn.h"
#include "kit.h"

/* Exit statuses. 77 is CTest's SKIP_RETURN_CODE: "no device here". */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_NO_DEVICE 77

int cli_devices(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_tune(int argc, char **argv);
int cli_prepare(int argc, char **argv);
int cli_train(int argc, char **argv); /* train.c */

/* ---- option parsing (main.c) ---- */

struct option; /* <getopt.h> */
/* getopt_long over a command's argv (argv[0] is the command's name), with
 * `--opt VALUE` and `--opt=VALUE`: returns the next option's val, -1 when
 * all arguments are read, or '?' after printing a usage error (a missing
 * value, an unknown option, or any argument that is not an option). */
int cli_getopt(const char *command, int argc, char **argv, const char *short_options,
               const struct option *long_options);

/* The exit status of a command at an option its own switch does not take:
 * 'h' (-h, --help) prints the help and ends with CLI_EXIT_OK, anything else
 * ('?': cli_getopt has printed why) with CLI_EXIT_USAGE. */
int cli_option_exit(int option, void (*print_help)(void));

/* Parses an integer option in [min, max]; prints why and returns -1 if it
 * is not one. */
int cli_parse_long(const char *command, const char *option, const char *text, long min, long max, long *out);
int cli_parse_u64(const char *command, const char *option, const char *text, unsigned long long *out);
/* "f32"/"float32" or "f64"/"float64". */
int cli_parse_dtype(const char *command, const char *text, clcnn_dtype *out);
/* The same for the commands that take the 16-bit dtypes too (check, bench):
 * f32, f64, f16 or bf16 (or the dtypes' names). */
int cli_parse_any_dtype(const char *command, const char *text, clcnn_dtype *out);
/* The --dtype value that names dtype: "f32", "f64", "f16", "bf16". */
const char *cli_dtype_flag(clcnn_dtype dtype);
/* Prints "clcnn COMMAND: unknown argument ARG (see clcnn COMMAND --help)". */
int cli_unknown_argument(const char *command, const char *arg);
/* The --device help text every command shows. */
void cli_print_device_help(FILE *out);

/* The rows of a command's struct option table that every device command
 * takes: --device NAME (val 'd'), --help (val 'h'), and the table's end. */
#define CLI_OPTION_DEVICE                                                                                              \
    {                                                                                                                  \
        "device", required_argument, NULL, 'd'                                                                         \
    }
#define CLI_OPTION_HELP                                                                                                \
    {                                                                                                                  \
        "help", no_argument, NULL, 'h'                                                                                 \
    }
#define CLI_OPTIONS_END                                                                                                \
    {                                                                                                                  \
        NULL, 0, NULL, 0                                                                                               \
    }

/* ---- tables of named rows (common.c) ----
 * A command's table whose rows start with `const char *name` (the ops of
 * check and bench, from host/api/op_table.h), passed as CLI_ROWS(table):
 * the rows, the size of one and how many. */
#define CLI_ROWS(table) (table), sizeof(table)[0], (int)(sizeof(table) / sizeof(table)[0])
/* The index of the row called name, or -1. */
int cli_find_name(const char *name, const void *rows, size_t row_size, int count);
/* The rows' names, separator between them. */
void cli_print_names(FILE *out, const char *separator, const void *rows, size_t row_size, int count);
/* Prints "clcnn COMMAND: unknown OPTION "VALUE" (the names)" and returns
 * CLI_EXIT_USAGE. */
int cli_unknown_name(const char *command, const char *option, const char *value, const void *rows, size_t row_size,
                     int count);

/* Operand i of a check case or a bench row (check.c, bench.c), which both
 * keep their operands in `arg`: its tensor and its dims. */
#define TENSOR(x, i) ((x)->arg[i].tensor)
#define DIMS(x, i) ((x)->arg[i].dims)

/* ---- device, reporting, clock (common.c) ---- */

/* Opens a context on `device` (NULL: the library's default choice). On
 * failure prints the library's message and returns the exit status to use:
 * CLI_EXIT_NO_DEVICE when there is no device (CLI_EXIT_FAILURE instead when
 * CLCNN_REQUIRE_DEVICE=1), else CLI_EXIT_FAILURE. */
int cli_open_context(const char *command, const char *device, clcnn_context **ctx);
/* Prints "clcnn COMMAND: WHAT failed: <library message>" and returns
 * CLI_EXIT_FAILURE. */
int cli_report_failure(const char *command, clcnn_context *ctx, const char *what, clcnn_status status);

/* Index i of a dims[4] array as "[a,b,c,d]". */
void cli_index_str(const size_t dims[4], size_t index, char *out, size_t capacity);

/* Seconds from a monotonic clock. */
double cli_now(void);

#endif
