/* The 0.2 params' defaults: the walkthrough's hyperparameters. Built into
 * the library and into its CPU reference (which needs no OpenCL), both of
 * which express the walkthrough's ops through them. */
#include "clcnn.h"

clcnn_conv_params clcnn_conv_params_default(int stride, int pad)
{
    const clcnn_conv_params p = {stride, stride, pad, pad, pad, pad, 1, 1, 1};
    return p;
}

clcnn_pool_params clcnn_pool_params_default(int f, int stride)
{
    const clcnn_pool_params p = {f, f, stride, stride, 0, 0, 0, 0, 1};
    return p;
}
