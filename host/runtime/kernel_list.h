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
    X(sgd_update)
