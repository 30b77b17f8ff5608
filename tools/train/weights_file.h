/* The weights file of `clcnn train --save/--load`: named 4-D tensors with
 * their dims and a CRC-32, so that a truncated or damaged file is refused
 * instead of loaded as garbage.
 *
 * Format, version 1. Every integer and value is little-endian.
 *   offset  size  field
 *   0       8     magic: the bytes "CLCNNWTS"
 *   8       4     version: 1
 *   12      4     element size: 4 (float32 values) or 8 (float64 values)
 *   16      4     tensor count n, 1 .. WEIGHTS_MAX_TENSORS
 *   20      4     reserved, 0
 *   24      8     input_mean  (float64; the pixel normalisation the
 *   32      8     input_std    weights were trained with: x = (p/255 - mean) / std)
 *   40      32*n  per tensor: name (16 bytes, NUL-padded, at least one NUL),
 *                 dims (4 x uint32, each >= 1; NHWC or (f_h, f_w, n_C_prev, n_C))
 *   ...           the values of each tensor in table order, row-major
 *   end-4   4     CRC-32 (zlib's crc32, the gzip/PNG polynomial) of all
 *                 bytes before it
 * A file whose size differs from what its header describes, or whose CRC
 * does not match, is refused. */
#ifndef CLCNN_TOOLS_WEIGHTS_FILE_H
#define CLCNN_TOOLS_WEIGHTS_FILE_H

#include <stddef.h>

#define WEIGHTS_VERSION 1
#define WEIGHTS_NAME_CAPACITY 16
#define WEIGHTS_MAX_TENSORS 64

typedef struct weights_tensor {
    char name[WEIGHTS_NAME_CAPACITY];
    size_t dims[4];
    double *values; /* dims[0]*dims[1]*dims[2]*dims[3] of them */
} weights_tensor;

typedef struct weights_set {
    int element_size; /* 4 or 8: the precision values are stored in */
    double input_mean, input_std;
    int count;
    weights_tensor tensors[WEIGHTS_MAX_TENSORS];
} weights_set;

/* Writes set to path (through a temporary file renamed into place, so a
 * failed save never leaves half a file under the name). Returns 0, or -1
 * with a one-line reason in err. */
int weights_save(const char *path, const weights_set *set, char *err, size_t err_capacity);
/* Reads path into *set (values allocated). Returns 0, or -1 with a one-line
 * reason in err and *set empty. */
int weights_load(const char *path, weights_set *set, char *err, size_t err_capacity);
/* The tensor called name, or NULL. */
const weights_tensor *weights_find(const weights_set *set, const char *name);
/* Frees the values of a loaded set. */
void weights_free(weights_set *set);

#endif
