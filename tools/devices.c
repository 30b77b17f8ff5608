/* `clcnn devices`: every OpenCL platform and device as clcnn_devices_list
 * reports it (so also devices the library would never pick by default),
 * with the one a spec (or the default choice) selects marked; as a table,
 * or as JSON for scripts. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define COMMAND "devices"

static const char install_hint[] = "To run on the CPU, install POCL's OpenCL driver (on Debian/Ubuntu:\n"
                                   "  sudo apt-get install pocl-opencl-icd\n"
                                   "), or your GPU vendor's OpenCL driver, then run `clcnn devices` again.\n";

static void print_help(void)
{
    fputs("usage: clcnn devices [--device SPEC] [--json]\n\n"
          "Lists every OpenCL platform and device (index P:D, platform, device, type,\n"
          "compute units, global memory, largest allocation, local memory, largest\n"
          "work-group, fp64, fp16, driver version) and marks with * the device clcnn\n"
          "uses by default, or the one SPEC selects.\n\n"
          "  --json          print a JSON array instead, one object per device with\n"
          "                  every field of clcnn_device_info (host/clcnn.h), its\n"
          "                  \"index\" as \"P:D\" and \"chosen\" true for the marked device\n",
          stdout);
    cli_print_device_help(stdout);
}

static const char *type_name(clcnn_device_type type)
{
    switch (type) {
    case CLCNN_DEVICE_TYPE_GPU: return "GPU";
    case CLCNN_DEVICE_TYPE_ACCELERATOR: return "accelerator";
    case CLCNN_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

static void format_bytes(unsigned long long bytes, char *out, size_t capacity)
{
    const double kib = 1024.0, mib = kib * kib, gib = mib * kib;
    if ((double)bytes >= gib)
        snprintf(out, capacity, "%.1f GiB", (double)bytes / gib);
    else if ((double)bytes >= mib)
        snprintf(out, capacity, "%.0f MiB", (double)bytes / mib);
    else
        snprintf(out, capacity, "%.0f KiB", (double)bytes / kib);
}

static int wider(int width, const char *text)
{
    int length = (int)strlen(text);
    return length > width ? length : width;
}

static void print_table(const clcnn_device_info *devices, size_t count)
{
    int w_index = 3, w_platform = 8, w_device = 6;
    for (size_t i = 0; i < count; i++) {
        char index[32];
        snprintf(index, sizeof index, "%u:%u", devices[i].platform_index, devices[i].device_index);
        w_index = wider(w_index, index);
        w_platform = wider(w_platform, devices[i].platform);
        w_device = wider(w_device, devices[i].name);
    }
    printf("  %-*s  %-*s  %-*s  %-11s  %3s  %10s  %10s  %10s  %6s  %4s  %4s  %s\n", w_index, "P:D", w_platform,
           "platform", w_device, "device", "type", "CUs", "global mem", "max alloc", "local mem", "max WG", "fp64",
           "fp16", "driver");
    for (size_t i = 0; i < count; i++) {
        const clcnn_device_info *d = &devices[i];
        char index[32], global_mem[32], max_alloc[32], local_mem[32];
        snprintf(index, sizeof index, "%u:%u", d->platform_index, d->device_index);
        format_bytes(d->global_mem_bytes, global_mem, sizeof global_mem);
        format_bytes(d->max_alloc_bytes, max_alloc, sizeof max_alloc);
        format_bytes(d->local_mem_bytes, local_mem, sizeof local_mem);
        printf("%c %-*s  %-*s  %-*s  %-11s  %3u  %10s  %10s  %10s  %6zu  %4s  %4s  %s\n", d->chosen ? '*' : ' ',
               w_index, index, w_platform, d->platform, w_device, d->name, type_name(d->type), d->compute_units,
               global_mem, max_alloc, local_mem, d->max_work_group_size, d->fp64 ? "yes" : "no", d->fp16 ? "yes" : "no",
               d->driver_version);
    }
}

/* The length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_length(const unsigned char *s)
{
    unsigned char low = 0x80, high = 0xbf; /* the second byte's range */
    size_t length;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        length = 2;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        length = 3;
        low = s[0] == 0xe0 ? 0xa0 : low;   /* no overlong forms */
        high = s[0] == 0xed ? 0x9f : high; /* no surrogates */
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        length = 4;
        low = s[0] == 0xf0 ? 0x90 : low;
        high = s[0] == 0xf4 ? 0x8f : high; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (s[1] < low || s[1] > high)
        return 0;
    for (size_t i = 2; i < length; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return length;
}

/* text as a JSON string. Names longer than their field come cut, maybe
 * inside a UTF-8 sequence: bytes that are not valid UTF-8 become U+FFFD, so
 * that the output stays valid JSON. */
static void print_json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *s = (const unsigned char *)text; *s;) {
        const size_t length = utf8_length(s);
        if (length == 0) {
            fputs("\\ufffd", stdout);
            s++;
        } else if (length > 1) {
            fwrite(s, 1, length, stdout);
            s += length;
        } else {
            if (*s == '"' || *s == '\\')
                printf("\\%c", *s);
            else if (*s < 0x20)
                printf("\\u%04x", *s);
            else
                putchar(*s);
            s++;
        }
    }
    putchar('"');
}

static void print_json(const clcnn_device_info *devices, size_t count)
{
    putchar('[');
    for (size_t i = 0; i < count; i++) {
        const clcnn_device_info *d = &devices[i];
        printf("%s\n  {\"index\": \"%u:%u\", \"platform_index\": %u, \"device_index\": %u, "
               "\"platform\": ",
               i ? "," : "", d->platform_index, d->device_index, d->platform_index, d->device_index);
        print_json_string(d->platform);
        fputs(", \"name\": ", stdout);
        print_json_string(d->name);
        fputs(", \"driver_version\": ", stdout);
        print_json_string(d->driver_version);
        fputs(", \"opencl_version\": ", stdout);
        print_json_string(d->opencl_version);
        printf(", \"type\": \"%s\", \"compute_units\": %u, \"global_mem_bytes\": %llu, "
               "\"max_alloc_bytes\": %llu, \"local_mem_bytes\": %llu, "
               "\"max_work_group_size\": %zu, \"fp64\": %s, \"fp16\": %s, \"chosen\": %s}",
               type_name(d->type), d->compute_units, d->global_mem_bytes, d->max_alloc_bytes, d->local_mem_bytes,
               d->max_work_group_size, d->fp64 ? "true" : "false", d->fp16 ? "true" : "false",
               d->chosen ? "true" : "false");
    }
    fputs(count ? "\n]\n" : "]\n", stdout);
}

/* Every device, with the one `device` selects marked: *devices is
 * malloc'ed. Prints why and returns -1 on failure. */
static int list_devices(const char *device, clcnn_device_info **devices, size_t *count)
{
    *devices = NULL;
    clcnn_status status = clcnn_devices_list(device, NULL, 0, count);
    if (status == CLCNN_OK && *count > 0) {
        *devices = calloc(*count, sizeof **devices);
        status = *devices ? clcnn_devices_list(device, *devices, *count, count) : CLCNN_ERROR_OUT_OF_MEMORY;
    }
    if (status != CLCNN_OK) {
        fprintf(stderr, "clcnn devices: listing the devices failed: %s\n", clcnn_status_string(status));
        free(*devices);
        *devices = NULL;
        return -1;
    }
    return 0;
}

int cli_devices(int argc, char **argv)
{
    static const struct option options[] = {
        CLI_OPTION_DEVICE,
        {"json", no_argument, NULL, 'j'},
        CLI_OPTION_HELP,
        CLI_OPTIONS_END,
    };
    const char *device = NULL;
    int json = 0;
    for (int option; (option = cli_getopt(COMMAND, argc, argv, "h", options)) != -1;) {
        switch (option) {
        case 'j': json = 1; break;
        case 'd': device = optarg; break;
        default: return cli_option_exit(option, print_help);
        }
    }

    clcnn_device_info *devices;
    size_t count;
    if (list_devices(device, &devices, &count) != 0)
        return CLI_EXIT_FAILURE;
    if (json)
        print_json(devices, count);
    if (count == 0) {
        fprintf(stderr, "clcnn devices: no OpenCL device found.\n%s", install_hint);
        const char *require = getenv("CLCNN_REQUIRE_DEVICE");
        return require && strcmp(require, "1") == 0 ? CLI_EXIT_FAILURE : CLI_EXIT_NO_DEVICE;
    }
    if (!json)
        print_table(devices, count);

    const clcnn_device_info *chosen = NULL;
    for (size_t i = 0; i < count && !chosen; i++)
        if (devices[i].chosen)
            chosen = &devices[i];
    int exit_status = CLI_EXIT_OK;
    if (chosen && !json) {
        printf("\n* %s: %u:%u (%s)%s\n", device ? "--device selects" : "default choice", chosen->platform_index,
               chosen->device_index, chosen->name,
               device ? "" : "; pick another with --device SPEC or CLCNN_DEVICE=SPEC");
    } else if (!chosen) {
        /* Only a spec picks nothing: the default choice takes any device. */
        const char *spec = device ? device : getenv("CLCNN_DEVICE");
        fprintf(stderr,
                "%sclcnn devices: no device matches %s \"%s\"; give gpu, cpu, P:D or a part of "
                "\"platform device\" (see clcnn devices --help)\n",
                json ? "" : "\n", device ? "--device" : "CLCNN_DEVICE", spec ? spec : "");
        exit_status = CLI_EXIT_FAILURE;
    }
    free(devices);
    return exit_status;
}
