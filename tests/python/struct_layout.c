/* Prints, as JSON, the size of each struct of clcnn.h that the Python
 * package mirrors with ctypes and the offset and size of each field, for
 * tests/python/test_devices.py to compare with the mirrors. */
#include <stddef.h>
#include <stdio.h>

#include "clcnn.h"

#define FIELD(type, field)                                                                                             \
    printf("%s\"%s\": [%zu, %zu]", first++ ? ", " : "", #field, offsetof(type, field), sizeof(((type *)0)->field))
/* Opens a struct's object after lead; its fields follow, then "}}". */
#define STRUCT(lead, type) (first = 0, printf("%s\"%s\": {\"size\": %zu, \"fields\": {", lead, #type, sizeof(type)))

int main(void)
{
    int first;
    STRUCT("{", clcnn_device_info);
    FIELD(clcnn_device_info, platform_index);
    FIELD(clcnn_device_info, device_index);
    FIELD(clcnn_device_info, platform);
    FIELD(clcnn_device_info, name);
    FIELD(clcnn_device_info, driver_version);
    FIELD(clcnn_device_info, opencl_version);
    FIELD(clcnn_device_info, type);
    FIELD(clcnn_device_info, compute_units);
    FIELD(clcnn_device_info, global_mem_bytes);
    FIELD(clcnn_device_info, max_alloc_bytes);
    FIELD(clcnn_device_info, local_mem_bytes);
    FIELD(clcnn_device_info, max_work_group_size);
    FIELD(clcnn_device_info, fp64);
    FIELD(clcnn_device_info, fp16);
    FIELD(clcnn_device_info, chosen);
    printf("}}");
#if CLCNN_VERSION_MAJOR > 0 || CLCNN_VERSION_MINOR >= 2
    STRUCT(", ", clcnn_conv_params);
    FIELD(clcnn_conv_params, stride_h);
    FIELD(clcnn_conv_params, stride_w);
    FIELD(clcnn_conv_params, pad_top);
    FIELD(clcnn_conv_params, pad_bottom);
    FIELD(clcnn_conv_params, pad_left);
    FIELD(clcnn_conv_params, pad_right);
    FIELD(clcnn_conv_params, dilation_h);
    FIELD(clcnn_conv_params, dilation_w);
    FIELD(clcnn_conv_params, groups);
    printf("}}");
    STRUCT(", ", clcnn_pool_params);
    FIELD(clcnn_pool_params, f_h);
    FIELD(clcnn_pool_params, f_w);
    FIELD(clcnn_pool_params, stride_h);
    FIELD(clcnn_pool_params, stride_w);
    FIELD(clcnn_pool_params, pad_top);
    FIELD(clcnn_pool_params, pad_bottom);
    FIELD(clcnn_pool_params, pad_left);
    FIELD(clcnn_pool_params, pad_right);
    FIELD(clcnn_pool_params, count_include_pad);
    printf("}}");
#endif
#if CLCNN_VERSION_MAJOR > 0 || CLCNN_VERSION_MINOR >= 3
    STRUCT(", ", clcnn_build_stats);
    FIELD(clcnn_build_stats, programs);
    FIELD(clcnn_build_stats, cached_programs);
    FIELD(clcnn_build_stats, build_seconds);
    FIELD(clcnn_build_stats, first_launches);
    FIELD(clcnn_build_stats, first_launch_seconds);
    printf("}}");
#endif
    printf("}\n");
    return 0;
}
