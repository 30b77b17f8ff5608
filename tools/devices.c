/* `clcnn devices`: every OpenCL platform and device, asked from OpenCL
 * directly (so it also shows devices the library would never pick), with
 * the one that clcnn_context_create chooses marked. */
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define NAME_CAPACITY 256

static const char install_hint[] =
    "To run on the CPU, install POCL's OpenCL driver (on Debian/Ubuntu:\n"
    "  sudo apt-get install pocl-opencl-icd\n"
    "), or your GPU vendor's OpenCL driver, then run `clcnn devices` again.\n";

static void print_help(void)
{
    fputs("usage: clcnn devices [--device SPEC]\n\n"
          "Lists every OpenCL platform and device (index P:D, platform, device, type,\n"
          "compute units, global memory, largest allocation, fp64) and marks with *\n"
          "the device clcnn uses by default, or the one SPEC selects.\n\n",
          stdout);
    cli_print_device_help(stdout);
}

static const char *type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    return "other";
}

static void format_bytes(cl_ulong bytes, char *out, size_t capacity)
{
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if ((double)bytes >= gib)
        snprintf(out, capacity, "%.1f GiB", (double)bytes / gib);
    else
        snprintf(out, capacity, "%.0f MiB", (double)bytes / (1024.0 * 1024.0));
}

typedef struct device_row {
    char index[32];
    char platform[NAME_CAPACITY];
    char device[NAME_CAPACITY];
    const char *type;
    cl_uint compute_units;
    char global_memory[32];
    char max_alloc[32];
    int fp64;
    int chosen;
} device_row;

static int has_fp64(cl_device_id device)
{
    size_t size = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return 0;
    char *extensions = malloc(size + 1);
    if (!extensions)
        return 0;
    int found = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, size, extensions, NULL) == CL_SUCCESS) {
        extensions[size] = '\0';
        found = strstr(extensions, "cl_khr_fp64") != NULL;
    }
    free(extensions);
    return found;
}

/* Collects the rows; returns how many, or -1 on an OpenCL error (printed). */
static int collect(device_row **rows_out)
{
    cl_uint platform_count = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &platform_count);
    *rows_out = NULL;
    /* The ICD loader says -1001 (CL_PLATFORM_NOT_FOUND_KHR) when no driver is
     * installed; that is "no device", not an error. */
    if (err == -1001 || platform_count == 0)
        return 0;
    if (err != CL_SUCCESS) {
        fprintf(stderr, "clcnn devices: clGetPlatformIDs failed with OpenCL error %d\n", (int)err);
        return -1;
    }
    cl_platform_id *platforms = calloc(platform_count, sizeof *platforms);
    if (!platforms)
        return -1;
    clGetPlatformIDs(platform_count, platforms, NULL);
    int count = 0, capacity = 0;
    device_row *rows = NULL;
    for (cl_uint p = 0; p < platform_count; p++) {
        char platform_name[NAME_CAPACITY] = "";
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof platform_name - 1, platform_name,
                          NULL);
        cl_uint device_count = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &device_count) != CL_SUCCESS)
            continue;
        cl_device_id *devices = calloc(device_count, sizeof *devices);
        if (!devices)
            break;
        clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, device_count, devices, NULL);
        for (cl_uint d = 0; d < device_count; d++) {
            if (count == capacity) {
                capacity = capacity ? 2 * capacity : 8;
                device_row *grown = realloc(rows, (size_t)capacity * sizeof *rows);
                if (!grown)
                    break;
                rows = grown;
            }
            device_row *row = &rows[count++];
            memset(row, 0, sizeof *row);
            snprintf(row->index, sizeof row->index, "%u:%u", p, d);
            strcpy(row->platform, platform_name);
            clGetDeviceInfo(devices[d], CL_DEVICE_NAME, sizeof row->device - 1, row->device, NULL);
            cl_device_type type = 0;
            cl_ulong global_memory = 0, max_alloc = 0;
            clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof row->compute_units,
                            &row->compute_units, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global_memory,
                            &global_memory, NULL);
            clGetDeviceInfo(devices[d], CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc,
                            NULL);
            row->type = type_name(type);
            format_bytes(global_memory, row->global_memory, sizeof row->global_memory);
            format_bytes(max_alloc, row->max_alloc, sizeof row->max_alloc);
            row->fp64 = has_fp64(devices[d]);
        }
        free(devices);
    }
    free(platforms);
    *rows_out = rows;
    return count;
}

static int wider(int width, const char *text)
{
    int length = (int)strlen(text);
    return length > width ? length : width;
}

int cli_devices(int argc, char **argv)
{
    const char *device = NULL;
    for (int i = 1; i < argc; i++) {
        int matched = cli_option_value("devices", argc, argv, &i, "--device", &device);
        if (matched < 0)
            return CLI_EXIT_USAGE;
        if (matched)
            continue;
        if (cli_is_help(argv[i])) {
            print_help();
            return CLI_EXIT_OK;
        }
        return cli_unknown_argument("devices", argv[i]);
    }

    device_row *rows;
    int count = collect(&rows);
    if (count < 0)
        return CLI_EXIT_FAILURE;
    if (count == 0) {
        fprintf(stderr, "clcnn devices: no OpenCL device found.\n%s", install_hint);
        free(rows);
        const char *require = getenv("CLCNN_REQUIRE_DEVICE");
        return require && strcmp(require, "1") == 0 ? CLI_EXIT_FAILURE : CLI_EXIT_NO_DEVICE;
    }

    /* Ask the library which device it picks, and find it by name
     * ("device (platform)"); the first row of that name is the one. */
    clcnn_context *ctx = NULL;
    clcnn_status status = clcnn_context_create(device, &ctx);
    char chosen_name[2 * NAME_CAPACITY + 8] = "";
    char choice_error[1024] = "";
    if (status == CLCNN_OK)
        snprintf(chosen_name, sizeof chosen_name, "%s", clcnn_context_device_name(ctx));
    else
        snprintf(choice_error, sizeof choice_error, "%s",
                 ctx ? clcnn_context_last_error(ctx) : clcnn_status_string(status));
    clcnn_context_destroy(ctx);
    int chosen = -1;
    for (int i = 0; i < count && status == CLCNN_OK; i++) {
        char name[2 * NAME_CAPACITY + 8];
        snprintf(name, sizeof name, "%s (%s)", rows[i].device, rows[i].platform);
        if (strcmp(name, chosen_name) == 0) {
            rows[i].chosen = 1;
            chosen = i;
            break;
        }
    }

    int w_index = 3, w_platform = 8, w_device = 6;
    for (int i = 0; i < count; i++) {
        w_index = wider(w_index, rows[i].index);
        w_platform = wider(w_platform, rows[i].platform);
        w_device = wider(w_device, rows[i].device);
    }
    printf("  %-*s  %-*s  %-*s  %-11s  %3s  %10s  %10s  %4s\n", w_index, "P:D", w_platform,
           "platform", w_device, "device", "type", "CUs", "global mem", "max alloc", "fp64");
    for (int i = 0; i < count; i++)
        printf("%c %-*s  %-*s  %-*s  %-11s  %3u  %10s  %10s  %4s\n", rows[i].chosen ? '*' : ' ',
               w_index, rows[i].index, w_platform, rows[i].platform, w_device, rows[i].device,
               rows[i].type, rows[i].compute_units, rows[i].global_memory, rows[i].max_alloc,
               rows[i].fp64 ? "yes" : "no");
    int exit_status = CLI_EXIT_OK;
    if (chosen >= 0) {
        printf("\n* %s: %s (%s)%s\n", device ? "--device selects" : "default choice",
               rows[chosen].index, rows[chosen].device,
               device ? "" : "; pick another with --device SPEC or CLCNN_DEVICE=SPEC");
    } else if (status == CLCNN_OK) {
        printf("\nclcnn chose \"%s\", which is not in the list above\n", chosen_name);
    } else {
        fprintf(stderr, "\nclcnn devices: clcnn cannot use any of them: %s\n", choice_error);
        exit_status = CLI_EXIT_FAILURE;
    }
    free(rows);
    return exit_status;
}
