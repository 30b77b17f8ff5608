/* IDX files through zlib's gz* functions, which read gzip and plain files
 * alike. Layout: a 4-byte magic (0, 0, type, number of dims), each dim as a
 * big-endian uint32, then the data. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_TYPE_U8 0x08
/* The largest array accepted: far above Fashion-MNIST's 47 MB, far below
 * what would exhaust memory by mistake. */
#define IDX_MAX_BYTES ((size_t)1 << 31)

/* Reads exactly n bytes; 0 on success. */
static int read_exact(gzFile file, void *buffer, size_t n)
{
    unsigned char *p = buffer;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(file, p, chunk);
        if (got <= 0)
            return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

/* Why the last read stopped: zlib's message for bad gzip data, or EOF. */
static const char *read_failure(gzFile file)
{
    int code;
    const char *message = gzerror(file, &code);
    return code != Z_OK && code != Z_BUF_ERROR && message && *message ? message : "the file ends too early";
}

idx_status idx_read_u8(const char *path, idx_array *out, char *err, size_t err_capacity)
{
    memset(out, 0, sizeof *out);
    errno = 0;
    gzFile file = gzopen(path, "rb");
    if (file == NULL) {
        snprintf(err, err_capacity, "%s: %s", path, errno ? strerror(errno) : "cannot open");
        return errno == ENOMEM ? IDX_ERROR_MEMORY : IDX_ERROR_OPEN;
    }
    idx_status status = IDX_ERROR_FORMAT;
    unsigned char magic[4];
    if (read_exact(file, magic, 4) != 0) {
        snprintf(err, err_capacity, "%s: not an IDX file (%s)", path, read_failure(file));
        goto done;
    }
    if (magic[0] != 0 || magic[1] != 0 || magic[3] < 1 || magic[3] > IDX_MAX_DIMS) {
        snprintf(err, err_capacity, "%s: not an IDX file (magic %02x %02x %02x %02x)", path, magic[0], magic[1],
                 magic[2], magic[3]);
        goto done;
    }
    if (magic[2] != IDX_TYPE_U8) {
        snprintf(err, err_capacity, "%s: IDX data type 0x%02x; only unsigned bytes (0x08) are supported", path,
                 magic[2]);
        goto done;
    }
    out->n_dims = magic[3];
    size_t count = 1;
    for (int d = 0; d < out->n_dims; d++) {
        unsigned char b[4];
        if (read_exact(file, b, 4) != 0) {
            snprintf(err, err_capacity, "%s: truncated IDX header (%s)", path, read_failure(file));
            goto done;
        }
        out->dims[d] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (out->dims[d] == 0 || count > IDX_MAX_BYTES / out->dims[d]) {
            snprintf(err, err_capacity, "%s: IDX dim %d is %u, giving an empty or implausibly large array", path, d,
                     (unsigned)out->dims[d]);
            goto done;
        }
        count *= out->dims[d];
    }
    out->data = malloc(count);
    if (out->data == NULL) {
        snprintf(err, err_capacity, "%s: out of memory for %zu bytes", path, count);
        status = IDX_ERROR_MEMORY;
        goto done;
    }
    if (read_exact(file, out->data, count) != 0) {
        snprintf(err, err_capacity, "%s: truncated: the header promises %zu bytes of data (%s)", path, count,
                 read_failure(file));
        goto done;
    }
    out->count = count;
    status = IDX_OK;
done:
    gzclose(file);
    if (status != IDX_OK)
        idx_free(out);
    return status;
}

void idx_free(idx_array *array)
{
    free(array->data);
    memset(array, 0, sizeof *array);
}
