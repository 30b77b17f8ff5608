/* What the subcommands share beyond the kit: tables of named rows,
 * opening the device with the right exit status, failure messages, NHWC
 * indices, and the clock. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_open_context(const char *command, const char *device, clcnn_context **ctx)
{
    clcnn_status status = clcnn_context_create(device, ctx);
    if (status == CLCNN_OK)
        return CLI_EXIT_OK;
    fprintf(stderr, "clcnn %s: cannot open the OpenCL device: %s\n", command,
            *ctx ? clcnn_context_last_error(*ctx) : clcnn_status_string(status));
    clcnn_context_destroy(*ctx);
    *ctx = NULL;
    if (status != CLCNN_ERROR_NO_DEVICE)
        return CLI_EXIT_FAILURE;
    const char *require = getenv("CLCNN_REQUIRE_DEVICE");
    if (require && strcmp(require, "1") == 0)
        return CLI_EXIT_FAILURE;
    return CLI_EXIT_NO_DEVICE;
}

int cli_report_failure(const char *command, clcnn_context *ctx, const char *what, clcnn_status status)
{
    const char *message = ctx ? clcnn_context_last_error(ctx) : "";
    fprintf(stderr, "clcnn %s: %s failed: %s\n", command, what,
            message && *message ? message : clcnn_status_string(status));
    return CLI_EXIT_FAILURE;
}

void cli_index_str(const size_t dims[4], size_t index, char *out, size_t capacity)
{
    size_t c = index % dims[3];
    index /= dims[3];
    size_t w = index % dims[2];
    index /= dims[2];
    size_t h = index % dims[1];
    size_t m = index / dims[1];
    snprintf(out, capacity, "[%zu,%zu,%zu,%zu]", m, h, w, c);
}

double cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static const char *row_name(const void *rows, size_t row_size, int k)
{
    return *(const char *const *)(const void *)((const char *)rows + (size_t)k * row_size);
}

int cli_find_name(const char *name, const void *rows, size_t row_size, int count)
{
    for (int k = 0; k < count; k++)
        if (strcmp(name, row_name(rows, row_size, k)) == 0)
            return k;
    return -1;
}

void cli_print_names(FILE *out, const char *separator, const void *rows, size_t row_size, int count)
{
    for (int k = 0; k < count; k++)
        fprintf(out, "%s%s", k ? separator : "", row_name(rows, row_size, k));
}

int cli_unknown_name(const char *command, const char *option, const char *value, const void *rows, size_t row_size,
                     int count)
{
    fprintf(stderr, "clcnn %s: unknown %s \"%s\" (", command, option, value);
    cli_print_names(stderr, ", ", rows, row_size, count);
    fprintf(stderr, ")\n");
    return CLI_EXIT_USAGE;
}
