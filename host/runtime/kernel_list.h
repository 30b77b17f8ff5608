/* The one list of kernel files. Each entry X(name) stands for kernels/name.cl:
 * it drives the embedded source table, the loader and the program cache. */
#define CLCNN_KERNEL_FILES(X)                                                                                          \
    X(zero_pad)                                                                                                        \
    X(conv_forward)                                                                                                    \
    X(conv_backward_data)                                                                                              \
    X(conv_backward_filter)                                                                                            \
    X(conv_backward_bias)                                                                                              \
    X(conv_depthwise)                                                                                                  \
    X(pool_forward)                                                                                                    \
    X(pool_backward)                                                                                                   \
    X(relu_forward)                                                                                                    \
    X(relu_backward)                                                                                                   \
    X(softmax_cross_entropy_forward)                                                                                   \
    X(softmax_cross_entropy_backward)                                                                                  \
    X(sgd_update)                                                                                                      \
    X(convert)

/* The headers the .cl files include, H(name) for kernels/name.h: CMake reads
 * this list too and embeds them beside the .cl files, where the loader
 * resolves each `#include "name.h"` (host/runtime/program.c). */
#define CLCNN_KERNEL_HEADERS(H)                                                                                        \
    H(common)                                                                                                          \
    H(conv_common)                                                                                                     \
    H(elementwise)                                                                                                     \
    H(local_gemm)                                                                                                      \
    H(pool_common)                                                                                                     \
    H(shape_params)
