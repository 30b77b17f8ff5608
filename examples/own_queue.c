/* examples/own_queue.c: clcnn inside a program that owns its OpenCL objects.
 * cc own_queue.c $(pkg-config --cflags --libs clcnn OpenCL) -o own_queue
 *
 * The program makes its own context, in-order queue and one buffer, fills
 * the buffer with a kernel of its own, and runs clcnn's convolution over
 * tensors that lie at offsets in that buffer, on the same queue: no copy,
 * no host round trip and no clFinish between the two. It reads the result
 * once and checks it against clcnn's CPU reference. */
#define CL_TARGET_OPENCL_VERSION 120
#include <stdio.h>

#include <clcnn_cl.h>
#include <clcnn_reference.h>

/* x[first + i] = scale * (i % period - period / 2) */
static const char *fill_source = "__kernel void fill(__global float *x, int first, float scale, int period)\n"
                                 "{\n"
                                 "    int i = get_global_id(0);\n"
                                 "    x[first + i] = scale * (float)(i % period - period / 2);\n"
                                 "}\n";

typedef struct part {
    const char *name;
    size_t dims[4];
    float scale;
    int period;
    size_t offset, count; /* bytes into the buffer; elements */
} part;

#define CL_CHECK(call)                                                                                                 \
    do {                                                                                                               \
        cl_int err_ = (call);                                                                                          \
        if (err_ != CL_SUCCESS) {                                                                                      \
            fprintf(stderr, "%s failed with OpenCL error %d\n", #call, (int)err_);                                     \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)
/* A failed clcnn call: its status and the context's message. */
static int clcnn_failed(clcnn_status status, const clcnn_context *ctx)
{
    fprintf(stderr, "%s\n%s\n", clcnn_status_string(status), clcnn_context_last_error(ctx));
    return 1;
}
#define CHECK(call)                                                                                                    \
    do {                                                                                                               \
        clcnn_status st_ = (call);                                                                                     \
        if (st_ != CLCNN_OK)                                                                                           \
            return clcnn_failed(st_, ctx);                                                                             \
    } while (0)

/* The device clcnn_context_create(NULL, ...) would pick (CLCNN_DEVICE
 * honoured), as OpenCL handles; any other choice works as well. */
static int pick_device(cl_device_id *device)
{
    clcnn_device_info info[16];
    size_t n = 0;
    if (clcnn_devices_list(NULL, info, 16, &n) != CLCNN_OK)
        return 1;
    for (size_t i = 0; i < n && i < 16; i++) {
        if (!info[i].chosen)
            continue;
        cl_platform_id platforms[16];
        cl_device_id devices[32];
        cl_uint np = 0, nd = 0;
        if (clGetPlatformIDs(16, platforms, &np) != CL_SUCCESS || info[i].platform_index >= np ||
            clGetDeviceIDs(platforms[info[i].platform_index], CL_DEVICE_TYPE_ALL, 32, devices, &nd) != CL_SUCCESS ||
            info[i].device_index >= nd)
            return 1;
        *device = devices[info[i].device_index];
        printf("device: %s (%s)\n", info[i].name, info[i].platform);
        return 0;
    }
    fprintf(stderr, "no OpenCL device; for the CPU install pocl-opencl-icd\n");
    return 1;
}

int main(void)
{
    cl_device_id device;
    if (pick_device(&device) != 0)
        return 1;
    cl_int err;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    CL_CHECK(err);
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &err); /* in order */
    CL_CHECK(err);

    /* a_prev (1, 6, 6, 3), w (3, 3, 3, 4), b (1, 1, 1, 4); stride 1, pad 1
     * gives z (1, 6, 6, 4). All four in one buffer, each at a multiple of
     * the device's base address alignment (reported in bits). */
    part parts[4] = {
        {"a_prev", {1, 6, 6, 3}, 0.5f, 7, 0, 0},
        {"w", {3, 3, 3, 4}, 0.25f, 5, 0, 0},
        {"b", {1, 1, 1, 4}, 1.0f, 3, 0, 0},
        {"z", {1, 6, 6, 4}, 0.0f, 1, 0, 0},
    };
    cl_uint align_bits;
    CL_CHECK(clGetDeviceInfo(device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits, NULL));
    const size_t align = align_bits / 8;
    size_t end = 0;
    for (int k = 0; k < 4; k++) {
        part *p = &parts[k];
        p->count = p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3];
        p->offset = (end + align - 1) / align * align;
        end = p->offset + p->count * sizeof(float);
    }
    cl_mem buffer = clCreateBuffer(context, CL_MEM_READ_WRITE, end, NULL, &err);
    CL_CHECK(err);

    /* The program's own kernel fills a_prev, w and b on the device. */
    cl_program program = clCreateProgramWithSource(context, 1, &fill_source, NULL, &err);
    CL_CHECK(err);
    CL_CHECK(clBuildProgram(program, 1, &device, "", NULL, NULL));
    cl_kernel fill = clCreateKernel(program, "fill", &err);
    CL_CHECK(err);
    for (int k = 0; k < 3; k++) {
        const cl_int first = (cl_int)(parts[k].offset / sizeof(float)), period = parts[k].period;
        CL_CHECK(clSetKernelArg(fill, 0, sizeof buffer, &buffer));
        CL_CHECK(clSetKernelArg(fill, 1, sizeof first, &first));
        CL_CHECK(clSetKernelArg(fill, 2, sizeof parts[k].scale, &parts[k].scale));
        CL_CHECK(clSetKernelArg(fill, 3, sizeof period, &period));
        CL_CHECK(clEnqueueNDRangeKernel(queue, fill, 1, NULL, &parts[k].count, NULL, 0, NULL, NULL));
    }

    /* clcnn on the same queue, over the same buffer: the convolution runs
     * after the fills because the queue is in order. */
    clcnn_context *ctx = NULL;
    CHECK(clcnn_context_create_from_queue(queue, &ctx));
    clcnn_tensor *t[4];
    for (int k = 0; k < 4; k++)
        CHECK(clcnn_tensor_wrap(ctx, CLCNN_FLOAT32, parts[k].dims, buffer, parts[k].offset, &t[k]));
    CHECK(clcnn_conv_forward(ctx, t[0], t[1], t[2], /*stride*/ 1, /*pad*/ 1, t[3]));

    /* One read, which waits for everything before it. */
    float z[144];
    CL_CHECK(clEnqueueReadBuffer(queue, buffer, CL_TRUE, parts[3].offset, sizeof z, z, 0, NULL, NULL));

    /* The same numbers on the CPU. Every value is a small multiple of 1/8,
     * so float32 holds each product and sum exactly: the results must be
     * equal, not merely close. */
    double host[3][108], z_ref[144];
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < parts[k].count; i++)
            host[k][i] = parts[k].scale * (double)((int)(i % (size_t)parts[k].period) - parts[k].period / 2);
    clcnn_ref_conv_forward(host[0], parts[0].dims, host[1], parts[1].dims, host[2], 1, 1, z_ref);
    int mismatches = 0;
    for (int i = 0; i < 144; i++)
        mismatches += (double)z[i] != z_ref[i];
    printf("a_prev, w, b at byte offsets %zu, %zu, %zu and z at %zu of one buffer\n", parts[0].offset, parts[1].offset,
           parts[2].offset, parts[3].offset);
    printf("z[0..3] = %g %g %g %g\n", z[0], z[1], z[2], z[3]);
    printf("z against the CPU reference: %s (%d of 144 differ)\n", mismatches ? "FAIL" : "equal", mismatches);

    for (int k = 0; k < 4; k++)
        clcnn_tensor_destroy(t[k]);
    clcnn_context_destroy(ctx); /* releases its references to queue and context */
    clReleaseMemObject(buffer);
    clReleaseKernel(fill);
    clReleaseProgram(program);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    return mismatches ? 1 : 0;
}
