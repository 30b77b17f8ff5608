/* Every clcnn_status of clcnn.h with its value and what it means: the one
 * list behind clcnn_status_string (status.c) and the Python package's
 * Status (checked by the test api_tables). status.c asserts each value
 * against the enum at compile time.
 * CLCNN_STATUSES(S) calls S(NAME, value, meaning) once per status, NAME
 * without the CLCNN_ prefix. */
#ifndef CLCNN_STATUS_LIST_H
#define CLCNN_STATUS_LIST_H

/* clang-format off */
#define CLCNN_STATUSES(S)                                                                                              \
    S(OK, 0, "success")                                                                                                \
    S(ERROR_INVALID_ARGUMENT, 1, "an argument is NULL, out of range or aliases another")                               \
    S(ERROR_SHAPE, 2, "tensor dimensions disagree, the window does not fit, or a size overflows")                      \
    S(ERROR_NO_DEVICE, 3, "no matching OpenCL device (install pocl-opencl-icd for the CPU fallback)")                  \
    S(ERROR_UNSUPPORTED, 4, "the device cannot do this (e.g. float64 without cl_khr_fp64)")                            \
    S(ERROR_OUT_OF_MEMORY, 5, "a host or device allocation failed")                                                    \
    S(ERROR_KERNEL_BUILD, 6, "an OpenCL kernel failed to build")                                                       \
    S(ERROR_OPENCL, 7, "the OpenCL runtime returned an error")
/* clang-format on */

#endif
