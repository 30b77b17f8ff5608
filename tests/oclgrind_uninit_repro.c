/* Oclgrind's uninitialised-value plugin (--uninitialized; seen in 21.10,
 * the code unchanged in 26.03) without clcnn: false reports on values that
 * were written, from the way the plugin keeps its shadow (which bytes are
 * defined) per buffer slot of Oclgrind's global memory.
 *
 * reuse: Oclgrind gives a new buffer the slot of a released one (first
 *   released, first reused). The plugin has no hook for a release, so the
 *   released buffer's shadow stays, with its size, and a later buffer in
 *   that slot that the host never wrote takes it instead of a fresh one of
 *   its own size. Past the stale size the plugin drops the kernels' stores
 *   (the bytes stay undefined to it) and calls every load uninitialised.
 *   Here a 4-float buffer is written and released, then `fill` writes all
 *   of a 64-float `work` in its slot and `copy` reads it back: reported
 *   from element 4 on ("Uninitialized value written to global memory").
 * offset: a host write (clEnqueueWriteBuffer) at a non-zero offset
 *   replaces the shadow of the whole buffer with one of the write's size
 *   from offset 0 and stores nothing into it (a write into a sub-buffer
 *   is one at the sub-buffer's offset). Here the host writes `work` in two
 *   halves and `copy` reads it: reported at least over the second half.
 * fresh: `fill` and `copy` on buffers in new slots: clean.
 * Each mode checks the values and prints "values right" when every one is,
 * then creates a second context, which truncates Oclgrind's --log file:
 * tests/oclgrind_run.sh must keep the reports all the same.
 * tests/oclgrind_uninit_repro.sh runs them under Oclgrind.
 * Usage: oclgrind_uninit_repro fresh|reuse|offset KERNEL_FILE */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 64     /* floats in the buffers that fill and copy use */
#define SMALL 4  /* floats in the buffer released before them */

static int failed(const char *what, cl_int err)
{
    if (err == CL_SUCCESS)
        return 0;
    fprintf(stderr, "oclgrind_uninit_repro: %s failed (%d)\n", what, err);
    return 1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = calloc(1, 1 << 16);
    if (text)
        fread(text, 1, (1 << 16) - 1, f);
    fclose(f);
    return text;
}

/* Writes a SMALL-float buffer from the host and releases it: the plugin
 * keeps its SMALL-float shadow in the slot the next buffer takes. */
static int leave_stale_shadow(cl_context context, cl_command_queue queue)
{
    const float values[SMALL] = {0};
    cl_int err;
    cl_mem small = clCreateBuffer(context, CL_MEM_READ_WRITE, sizeof values, NULL, &err);
    if (failed("clCreateBuffer (small)", err))
        return 1;
    err = clEnqueueWriteBuffer(queue, small, CL_TRUE, 0, sizeof values, values, 0, NULL, NULL);
    clReleaseMemObject(small);
    return failed("clEnqueueWriteBuffer (small)", err);
}

/* work filled (by the host in two halves with `halves`, else by `fill`),
 * then copy(work, out); checks out. */
static int fill_and_copy(cl_context context, cl_command_queue queue, cl_program program, int halves)
{
    cl_int err;
    cl_mem work = clCreateBuffer(context, CL_MEM_READ_WRITE, N * sizeof(float), NULL, &err);
    if (failed("clCreateBuffer (work)", err))
        return 1;
    cl_mem out = clCreateBuffer(context, CL_MEM_WRITE_ONLY, N * sizeof(float), NULL, &err);
    if (failed("clCreateBuffer (out)", err))
        return 1;
    cl_kernel fill = clCreateKernel(program, "fill", &err);
    if (failed("clCreateKernel (fill)", err))
        return 1;
    cl_kernel copy = clCreateKernel(program, "copy", &err);
    if (failed("clCreateKernel (copy)", err))
        return 1;
    const size_t global = N, half = N / 2 * sizeof(float);
    float values[N], got[N];
    for (int i = 0; i < N; i++)
        values[i] = (float)i;
    if (halves ? failed("clEnqueueWriteBuffer", clEnqueueWriteBuffer(queue, work, CL_TRUE, 0, half, values, 0, NULL,
                                                                       NULL)) ||
                     failed("clEnqueueWriteBuffer", clEnqueueWriteBuffer(queue, work, CL_TRUE, half, half,
                                                                          values + N / 2, 0, NULL, NULL))
               : failed("clSetKernelArg", clSetKernelArg(fill, 0, sizeof work, &work)) ||
                     failed("enqueue fill", clEnqueueNDRangeKernel(queue, fill, 1, NULL, &global, NULL, 0, NULL, NULL)))
        return 1;
    if (failed("clSetKernelArg", clSetKernelArg(copy, 0, sizeof work, &work)) ||
        failed("clSetKernelArg", clSetKernelArg(copy, 1, sizeof out, &out)) ||
        failed("enqueue copy", clEnqueueNDRangeKernel(queue, copy, 1, NULL, &global, NULL, 0, NULL, NULL)) ||
        failed("clEnqueueReadBuffer", clEnqueueReadBuffer(queue, out, CL_TRUE, 0, sizeof got, got, 0, NULL, NULL)))
        return 1;
    for (int i = 0; i < N; i++)
        if (got[i] != (float)i + 1.0f) {
            fprintf(stderr, "oclgrind_uninit_repro: out[%d] = %g, not %d\n", i, got[i], i + 1);
            return 1;
        }
    printf("values right: every element of work was written before it was read\n");
    clReleaseKernel(fill);
    clReleaseKernel(copy);
    clReleaseMemObject(work);
    clReleaseMemObject(out);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 3 ? argv[1] : "";
    if (strcmp(mode, "fresh") != 0 && strcmp(mode, "reuse") != 0 && strcmp(mode, "offset") != 0) {
        fprintf(stderr, "usage: oclgrind_uninit_repro fresh|reuse|offset KERNEL_FILE\n");
        return 2;
    }
    char *source = read_file(argv[2]);
    if (!source) {
        fprintf(stderr, "oclgrind_uninit_repro: cannot read %s\n", argv[2]);
        return 2;
    }
    cl_platform_id platform;
    cl_device_id device;
    cl_int err;
    if (failed("clGetPlatformIDs", clGetPlatformIDs(1, &platform, NULL)) ||
        failed("clGetDeviceIDs", clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, NULL)))
        return 1;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    if (failed("clCreateContext", err))
        return 1;
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &err);
    if (failed("clCreateCommandQueue", err))
        return 1;
    const char *sources[] = {source};
    cl_program program = clCreateProgramWithSource(context, 1, sources, NULL, &err);
    if (failed("clCreateProgramWithSource", err) ||
        failed("clBuildProgram", clBuildProgram(program, 1, &device, NULL, NULL, NULL)))
        return 1;
    int rc = (strcmp(mode, "reuse") == 0 && leave_stale_shadow(context, queue)) ||
             fill_and_copy(context, queue, program, strcmp(mode, "offset") == 0);
    cl_context second = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    if (failed("clCreateContext (second)", err))
        return 1;
    clReleaseContext(second);
    clReleaseProgram(program);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    free(source);
    return rc;
}
