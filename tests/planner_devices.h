/* The devices the planners' host-only tests plan for: the facts a context
 * reads (clcnn_device_facts) and the compute units the element-wise plans
 * take. One list, so that every planner is checked on the same devices. */
#ifndef CLCNN_TESTS_PLANNER_DEVICES_H
#define CLCNN_TESTS_PLANNER_DEVICES_H

#include "internal.h"

typedef struct planner_device {
    const char *name;
    clcnn_device_facts facts; /* simd_floats, max_work_group_size, local_mem */
    unsigned compute_units;
} planner_device;

/* This machine's CPU (AVX2), an AVX-512 CPU, a GPU, a GPU of 16 KiB of
 * local memory, a small device (64 work-items, 16 KiB), Oclgrind's defaults. */
static const planner_device planner_devices[] = {
    {"cpu_avx2", {8, 4096, 256u << 10}, 16},  {"cpu_avx512", {16, 4096, 256u << 10}, 64},
    {"gpu", {1, 1024, 48u << 10}, 80},        {"gpu_16k", {1, 1024, 16u << 10}, 16},
    {"small", {4, 64, 16u << 10}, 1},         {"oclgrind", {1, 1024, 32u << 10}, 1},
};
#define PLANNER_DEVICE_COUNT (sizeof planner_devices / sizeof planner_devices[0])

#endif
