/* Builds each kernel file on its own, the way someone editing a .cl builds
 * it: its text alone, `-I` the kernel folder so that it includes its headers
 * itself, and only -DCLCNN_COMPILE_ALONE=1, so every tile size comes from the
 * file's #ifndef defaults and every value that changes results (a shape, a
 * stride) from the stand-in that CLCNN_COMPILE_ALONE selects, where without
 * it a missing -D is an #error. Once for float, once with -DCLCNN_FP64=1
 * where the device has doubles, and once for each 16-bit storage. The library never builds a file this way (it
 * resolves the includes itself and passes real values), so only this catches
 * a default that no longer compiles. A build log with a warning fails too.
 * Usage: compile_kernels KERNEL_DIR NAME.cl... [--storage16 NAME.cl...]; exits 77 without a device
 * unless CLCNN_REQUIRE_DEVICE=1. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    char *text = NULL;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) != NULL) {
        if (fread(text, 1, (size_t)size, fp) == (size_t)size) {
            text[size] = '\0';
        } else {
            free(text);
            text = NULL;
        }
    }
    fclose(fp);
    return text;
}

/* Builds `source` with `options`; prints the log and returns 1 on failure. */
static int build_one(cl_context context, cl_device_id device, const char *name, const char *source, const char *options)
{
    cl_int err;
    cl_program program = clCreateProgramWithSource(context, 1, &source, NULL, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "%s: clCreateProgramWithSource failed (%d)\n", name, err);
        return 1;
    }
    err = clBuildProgram(program, 1, &device, options, NULL, NULL);
    static char log[65536];
    log[0] = '\0';
    clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
    log[sizeof log - 1] = '\0';
    /* A build that succeeds with warnings fails too: a warning such as
     * "loop not unrolled" means the kernel is not what its author meant. */
    int warned = strstr(log, "warning") != NULL;
    if (err != CL_SUCCESS || warned)
        fprintf(stderr, "FAIL %s with '%s' (%s %d):\n%s\n", name, options, warned ? "warnings, status" : "error", err,
                log);
    else
        printf("ok   %s with '%s'\n", name, options);
    clReleaseProgram(program);
    return err != CL_SUCCESS || warned;
}

/* The dtypes' options, as host/runtime/internal.h's clcnn__dtype_define
 * passes them; the 16-bit storages only for the files listed after
 * --storage16 (those whose ops take float16 and bfloat16; the others'
 * ops refuse 16-bit tensors and the host never builds them so). */
static const struct {
    const char *define;
    int needs_fp64, storage16;
} dtype_defines[] = {
    {"", 0, 0}, {"-DCLCNN_FP64=1", 1, 0}, {"-DCLCNN_STORAGE_HALF=1", 0, 1}, {"-DCLCNN_STORAGE_BF16=1", 0, 1}};
#define DTYPES ((int)(sizeof dtype_defines / sizeof dtype_defines[0]))

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s KERNEL_DIR NAME.cl... [--storage16 NAME.cl...]\n", argv[0]);
        return 2;
    }
    int files = 2;
    while (files < argc && strcmp(argv[files], "--storage16") != 0)
        files++;
    const char *require = getenv("CLCNN_REQUIRE_DEVICE");
    const int no_device = require && strcmp(require, "1") == 0 ? 1 : 77;
    cl_platform_id platform;
    cl_device_id device;
    cl_uint n = 0;
    if (clGetPlatformIDs(1, &platform, &n) != CL_SUCCESS || n == 0 ||
        clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL) != CL_SUCCESS) {
        fprintf(stderr, "no OpenCL device\n");
        return no_device;
    }
    cl_int err;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        fprintf(stderr, "clCreateContext failed (%d)\n", err);
        return 1;
    }
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(device, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);

    int failures = 0, builds = 0;
    for (int i = 2; i < files; i++) {
        int storage16 = 0;
        for (int j = files + 1; j < argc; j++)
            storage16 |= strcmp(argv[j], argv[i]) == 0;
        char path[4096], options[4200];
        snprintf(path, sizeof path, "%s/%s", argv[1], argv[i]);
        char *source = read_file(path);
        if (source == NULL) {
            fprintf(stderr, "FAIL %s: cannot read %s\n", argv[i], path);
            failures++;
            continue;
        }
        for (int d = 0; d < DTYPES; d++) {
            if ((dtype_defines[d].needs_fp64 && !fp64) || (dtype_defines[d].storage16 && !storage16))
                continue;
            builds++;
            snprintf(options, sizeof options, "-cl-std=CL1.2 -I %s -DCLCNN_COMPILE_ALONE=1 %s", argv[1],
                     dtype_defines[d].define);
            failures += build_one(context, device, argv[i], source, options);
        }
        free(source);
    }
    clReleaseContext(context);
    printf("%d of %d builds failed\n", failures, builds);
    return failures != 0;
}
