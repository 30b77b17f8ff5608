/* The kernel files (one list, host/runtime/kernel_list.h), their embedded sources and
 * the per-context cache of built programs keyed by (file, dtype, options). */
#ifndef CLCNN_PROGRAM_H
#define CLCNN_PROGRAM_H

#include <stddef.h>
#include "kernel_list.h"

typedef enum clcnn_kernel_file {
#define CLCNN_X(name) CLCNN_FILE_##name,
    CLCNN_KERNEL_FILES(CLCNN_X)
#undef CLCNN_X
        CLCNN_FILE_COUNT
} clcnn_kernel_file;

typedef struct clcnn_embedded_source {
    const char *file; /* "conv_forward.cl", "common.h" */
    const char *text;
    size_t length;
} clcnn_embedded_source;

/* Generated at build time from kernels/ (cmake/embed_kernels.cmake);
 * terminated by an entry whose file is NULL. */
extern const clcnn_embedded_source clcnn_embedded_sources[];

typedef struct clcnn_program clcnn_program;

#endif
