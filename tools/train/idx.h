/* Reading IDX files (the format of MNIST and Fashion-MNIST), gzipped or
 * not, through zlib. Only unsigned-byte data (type 0x08) is supported: it
 * is what the image and label files hold. */
#ifndef CLCNN_TOOLS_IDX_H
#define CLCNN_TOOLS_IDX_H

#include <stddef.h>
#include <stdint.h>

#define IDX_MAX_DIMS 4

typedef enum idx_status {
    IDX_OK = 0,
    IDX_ERROR_OPEN = 1,   /* the file cannot be opened (missing, no permission) */
    IDX_ERROR_FORMAT = 2, /* not an IDX file of bytes, truncated, bad gzip data */
    IDX_ERROR_MEMORY = 3
} idx_status;

typedef struct idx_array {
    int n_dims;
    uint32_t dims[IDX_MAX_DIMS];
    size_t count;        /* product of dims */
    unsigned char *data; /* count bytes, row-major */
} idx_array;

/* Reads path into *out. On failure returns why, with a one-line message
 * naming the file in err, and leaves *out empty. */
idx_status idx_read_u8(const char *path, idx_array *out, char *err, size_t err_capacity);
void idx_free(idx_array *array);

#endif
