/* Device selection (CLCNN_DEVICE, "gpu", "cpu", "P:D", name substrings) and
 * the device list of clcnn_devices_list. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 32

typedef struct found_device {
    cl_platform_id platform;
    cl_device_id device;
    cl_uint p, d;
    cl_device_type type;
    char platform_name[128], device_name[256];
    char label[384];   /* "platform name device name" */
    char aliases[256]; /* platform vendor and version: "The pocl project OpenCL 3.0 PoCL 3.1" */
} found_device;

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 0;
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

static int equals_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

/* A string property cut to fit `out` (clGetDeviceInfo refuses a buffer
 * that is too small rather than cutting). */
static void device_string(cl_device_id device, cl_device_info param, char *out, size_t capacity)
{
    size_t size = 0;
    out[0] = '\0';
    if (clGetDeviceInfo(device, param, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return;
    char *text = malloc(size + 1);
    if (text && clGetDeviceInfo(device, param, size, text, NULL) == CL_SUCCESS) {
        text[size] = '\0';
        snprintf(out, capacity, "%s", text);
    }
    free(text);
}

static cl_uint enumerate(found_device *out, cl_uint capacity)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint n_platforms = 0, count = 0;
    if (clGetPlatformIDs(MAX_PLATFORMS, platforms, &n_platforms) != CL_SUCCESS)
        return 0;
    if (n_platforms > MAX_PLATFORMS)
        n_platforms = MAX_PLATFORMS;
    for (cl_uint p = 0; p < n_platforms; p++) {
        cl_device_id devices[MAX_DEVICES];
        cl_uint n_devices = 0;
        char pname[sizeof out->platform_name] = "", vendor[96] = "", version[128] = "";
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devices, &n_devices) != CL_SUCCESS)
            continue;
        if (n_devices > MAX_DEVICES)
            n_devices = MAX_DEVICES;
        clGetPlatformInfo(platforms[p], CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
        clGetPlatformInfo(platforms[p], CL_PLATFORM_VENDOR, sizeof vendor - 1, vendor, NULL);
        clGetPlatformInfo(platforms[p], CL_PLATFORM_VERSION, sizeof version - 1, version, NULL);
        for (cl_uint d = 0; d < n_devices && count < capacity; d++) {
            found_device *f = &out[count++];
            device_string(devices[d], CL_DEVICE_NAME, f->device_name, sizeof f->device_name);
            memcpy(f->platform_name, pname, sizeof pname);
            f->platform = platforms[p];
            f->device = devices[d];
            f->p = p;
            f->d = d;
            f->type = 0;
            clGetDeviceInfo(devices[d], CL_DEVICE_TYPE, sizeof f->type, &f->type, NULL);
            snprintf(f->label, sizeof f->label, "%s %s", pname, f->device_name);
            snprintf(f->aliases, sizeof f->aliases, "%s %s", vendor, version);
        }
    }
    return count;
}

static int pick_by_type(const found_device *found, cl_uint n, cl_device_type type)
{
    for (cl_uint i = 0; i < n; i++)
        if (found[i].type & type)
            return (int)i;
    return -1;
}

static int pick(const found_device *found, cl_uint n, const char *spec)
{
    unsigned p, d;
    char tail;
    if (spec == NULL || *spec == '\0') {
        int i = pick_by_type(found, n, CL_DEVICE_TYPE_GPU);
        if (i < 0)
            i = pick_by_type(found, n, CL_DEVICE_TYPE_ACCELERATOR);
        if (i < 0)
            i = pick_by_type(found, n, CL_DEVICE_TYPE_CPU);
        return i < 0 && n > 0 ? 0 : i;
    }
    if (equals_nocase(spec, "gpu"))
        return pick_by_type(found, n, CL_DEVICE_TYPE_GPU);
    if (equals_nocase(spec, "cpu"))
        return pick_by_type(found, n, CL_DEVICE_TYPE_CPU);
    if (sscanf(spec, "%u:%u%c", &p, &d, &tail) == 2) {
        for (cl_uint i = 0; i < n; i++)
            if (found[i].p == p && found[i].d == d)
                return (int)i;
        return -1;
    }
    /* The platform's vendor and version count too: POCL's platform is named
     * "Portable Computing Language", and users know it as "pocl". */
    for (cl_uint i = 0; i < n; i++)
        if (contains_nocase(found[i].label, spec) || contains_nocase(found[i].aliases, spec))
            return (int)i;
    return -1;
}

/* A spec of NULL means the CLCNN_DEVICE environment variable, then the
 * default order (pick). */
static const char *effective_spec(const char *spec)
{
    return spec ? spec : getenv("CLCNN_DEVICE");
}

static int has_extension(cl_device_id device, const char *name)
{
    size_t size = 0;
    if (clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS || size == 0)
        return 0;
    char *extensions = malloc(size + 1);
    int found = 0;
    if (extensions && clGetDeviceInfo(device, CL_DEVICE_EXTENSIONS, size, extensions, NULL) == CL_SUCCESS) {
        extensions[size] = '\0';
        for (const char *at = extensions; (at = strstr(at, name)) != NULL; at += strlen(name)) {
            char after = at[strlen(name)];
            if ((at == extensions || at[-1] == ' ') && (after == ' ' || after == '\0')) {
                found = 1;
                break;
            }
        }
    }
    free(extensions);
    return found;
}

int clcnn__device_has_extension(cl_device_id device, const char *name)
{
    return has_extension(device, name);
}

static void describe(const found_device *f, int chosen, clcnn_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->platform_index = f->p;
    info->device_index = f->d;
    snprintf(info->platform, sizeof info->platform, "%s", f->platform_name);
    snprintf(info->name, sizeof info->name, "%s", f->device_name);
    device_string(f->device, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    device_string(f->device, CL_DEVICE_VERSION, info->opencl_version, sizeof info->opencl_version);
    info->type = f->type & CL_DEVICE_TYPE_GPU           ? CLCNN_DEVICE_TYPE_GPU
                 : f->type & CL_DEVICE_TYPE_ACCELERATOR ? CLCNN_DEVICE_TYPE_ACCELERATOR
                 : f->type & CL_DEVICE_TYPE_CPU         ? CLCNN_DEVICE_TYPE_CPU
                                                        : CLCNN_DEVICE_TYPE_OTHER;
    cl_uint units = 0;
    cl_ulong global = 0, max_alloc = 0, local = 0;
    size_t group = 0;
    clGetDeviceInfo(f->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    clGetDeviceInfo(f->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    clGetDeviceInfo(f->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
    clGetDeviceInfo(f->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(f->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof group, &group, NULL);
    info->compute_units = units;
    info->global_mem_bytes = global;
    info->max_alloc_bytes = max_alloc;
    info->local_mem_bytes = local;
    info->max_work_group_size = group;
    info->fp64 = has_extension(f->device, "cl_khr_fp64");
    info->fp16 = has_extension(f->device, "cl_khr_fp16");
    info->chosen = chosen;
}

clcnn_status clcnn_devices_list(const char *spec, clcnn_device_info *devices, size_t capacity, size_t *count)
{
    if (count == NULL || (devices == NULL && capacity > 0))
        return CLCNN_ERROR_INVALID_ARGUMENT;
    found_device found[MAX_DEVICES];
    cl_uint n = enumerate(found, MAX_DEVICES);
    int chosen = pick(found, n, effective_spec(spec));
    for (cl_uint i = 0; i < n && i < capacity; i++)
        describe(&found[i], (int)i == chosen, &devices[i]);
    *count = n;
    return CLCNN_OK;
}

clcnn_status clcnn__select_device(clcnn_context *ctx, const char *spec)
{
    found_device found[MAX_DEVICES];
    cl_uint n = enumerate(found, MAX_DEVICES);
    const char *from = spec ? "argument" : "CLCNN_DEVICE";
    spec = effective_spec(spec);
    int i = pick(found, n, spec);
    if (i >= 0) {
        ctx->platform = found[i].platform;
        ctx->device = found[i].device;
        return CLCNN_OK;
    }
    if (n == 0)
        return clcnn__fail(ctx, CLCNN_ERROR_NO_DEVICE,
                           "context_create: no OpenCL device found (no ICD installed?); for the CPU "
                           "fallback install POCL: apt-get install pocl-opencl-icd");
    char list[2048];
    size_t used = 0;
    list[0] = '\0';
    for (cl_uint k = 0; k < n && used < sizeof list; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%u:%u %s", k ? "; " : "", found[k].p, found[k].d,
                                 found[k].label);
    return clcnn__fail(ctx, CLCNN_ERROR_NO_DEVICE,
                       "context_create: no device matches %s '%s'; found: %s. Use 'gpu', 'cpu', "
                       "'P:D' or a name substring; for the CPU fallback install pocl-opencl-icd",
                       from, spec, list);
}
