/* The weights file format (see weights_file.h): serialisation with explicit
 * little-endian byte order, so files move between machines, and the checks
 * that refuse truncated or corrupted files with a reason. */
#define _POSIX_C_SOURCE 200809L

#include "weights_file.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const unsigned char MAGIC[8] = {'C', 'L', 'C', 'N', 'N', 'W', 'T', 'S'};
enum { FIXED_HEADER = 40, TABLE_ENTRY = WEIGHTS_NAME_CAPACITY + 16, CRC_BYTES = 4 };
/* Refuse files above this: nothing this program trains comes close. */
#define WEIGHTS_MAX_BYTES ((uint64_t)1 << 32)

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A value as the little-endian bytes of its bit pattern as a float32
 * (elem 4) or a float64 (elem 8). */
static void put_value(unsigned char *p, double v, size_t elem)
{
    if (elem == 4) {
        float narrow = (float)v;
        uint32_t bits;
        memcpy(&bits, &narrow, sizeof bits);
        put_u32(p, bits);
    } else {
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        put_u64(p, bits);
    }
}

static double get_value(const unsigned char *p, size_t elem)
{
    if (elem == 4) {
        uint32_t bits = get_u32(p);
        float narrow;
        memcpy(&narrow, &bits, sizeof narrow);
        return narrow;
    }
    uint64_t bits = get_u64(p);
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* zlib's crc32 takes uInt lengths: feed it in pieces. */
static uint32_t crc_of(const unsigned char *p, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        crc = crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return (uint32_t)crc;
}

static size_t elements_of(const size_t dims[4])
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

int weights_save(const char *path, const weights_set *set, char *err, size_t err_capacity)
{
    const size_t elem = (size_t)set->element_size;
    if ((elem != 4 && elem != 8) || set->count < 1 || set->count > WEIGHTS_MAX_TENSORS) {
        snprintf(err, err_capacity, "%s: bad weights set (element size %zu, %d tensors)", path, elem, set->count);
        return -1;
    }
    size_t total = FIXED_HEADER + (size_t)set->count * TABLE_ENTRY + CRC_BYTES;
    for (int t = 0; t < set->count; t++)
        total += elements_of(set->tensors[t].dims) * elem;
    unsigned char *buffer = calloc(1, total);
    if (buffer == NULL) {
        snprintf(err, err_capacity, "%s: out of memory for %zu bytes", path, total);
        return -1;
    }
    memcpy(buffer, MAGIC, sizeof MAGIC);
    put_u32(buffer + 8, WEIGHTS_VERSION);
    put_u32(buffer + 12, (uint32_t)elem);
    put_u32(buffer + 16, (uint32_t)set->count);
    put_u32(buffer + 20, 0);
    put_value(buffer + 24, set->input_mean, 8);
    put_value(buffer + 32, set->input_std, 8);
    unsigned char *p = buffer + FIXED_HEADER;
    for (int t = 0; t < set->count; t++, p += TABLE_ENTRY) {
        const weights_tensor *w = &set->tensors[t];
        strncpy((char *)p, w->name, WEIGHTS_NAME_CAPACITY - 1);
        for (int d = 0; d < 4; d++)
            put_u32(p + WEIGHTS_NAME_CAPACITY + 4 * d, (uint32_t)w->dims[d]);
    }
    for (int t = 0; t < set->count; t++) {
        const weights_tensor *w = &set->tensors[t];
        size_t n = elements_of(w->dims);
        for (size_t i = 0; i < n; i++, p += elem)
            put_value(p, w->values[i], elem);
    }
    put_u32(p, crc_of(buffer, total - CRC_BYTES));

    /* Write beside the target and rename: a crash or a full disk leaves the
     * old file (or none), never a torn one. */
    size_t tmp_len = strlen(path) + 8;
    char *tmp = malloc(tmp_len);
    int rc = -1;
    if (tmp == NULL) {
        snprintf(err, err_capacity, "%s: out of memory", path);
        free(buffer);
        return -1;
    }
    snprintf(tmp, tmp_len, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        snprintf(err, err_capacity, "cannot write %s: %s", tmp, strerror(errno));
    } else {
        int ok = fwrite(buffer, 1, total, f) == total;
        int saved_errno = errno;
        ok = (fclose(f) == 0) && ok;
        if (!ok) {
            snprintf(err, err_capacity, "writing %s failed: %s", tmp, strerror(saved_errno ? saved_errno : errno));
            remove(tmp);
        } else if (rename(tmp, path) != 0) {
            snprintf(err, err_capacity, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
            remove(tmp);
        } else {
            rc = 0;
        }
    }
    free(tmp);
    free(buffer);
    return rc;
}

/* Reads the whole file; NULL with a message on failure. */
static unsigned char *read_all(const char *path, size_t *size, char *err, size_t err_capacity)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_capacity, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    unsigned char *data = NULL;
    size_t used = 0, capacity = 0;
    for (;;) {
        if (used == capacity) {
            if (capacity >= WEIGHTS_MAX_BYTES) {
                snprintf(err, err_capacity, "%s: larger than %llu bytes, not a clcnn weights file", path,
                         (unsigned long long)WEIGHTS_MAX_BYTES);
                break;
            }
            capacity = capacity ? capacity * 2 : 1 << 16;
            unsigned char *grown = realloc(data, capacity);
            if (grown == NULL) {
                snprintf(err, err_capacity, "%s: out of memory", path);
                break;
            }
            data = grown;
        }
        size_t got = fread(data + used, 1, capacity - used, f);
        used += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, err_capacity, "reading %s failed: %s", path, strerror(errno));
                break;
            }
            fclose(f);
            *size = used;
            return data;
        }
    }
    fclose(f);
    free(data);
    return NULL;
}

/* The fixed header: the magic, this format's version, a sane element size
 * and tensor count, and room for the tensor table; -1 with a message. */
static int check_header(const char *path, const unsigned char *data, size_t size, char *err, size_t err_capacity)
{
    if (size < sizeof MAGIC && memcmp(data, MAGIC, size) == 0) {
        snprintf(err, err_capacity, "%s is truncated: %zu bytes, less than a header (%d)", path, size,
                 FIXED_HEADER + CRC_BYTES);
        return -1;
    }
    if (size < sizeof MAGIC || memcmp(data, MAGIC, sizeof MAGIC) != 0) {
        snprintf(err, err_capacity, "%s is not a clcnn weights file (it does not start with \"CLCNNWTS\")", path);
        return -1;
    }
    if (size < FIXED_HEADER + CRC_BYTES) {
        snprintf(err, err_capacity, "%s is truncated: %zu bytes, less than a header (%d)", path, size,
                 FIXED_HEADER + CRC_BYTES);
        return -1;
    }
    uint32_t version = get_u32(data + 8), elem = get_u32(data + 12), count = get_u32(data + 16);
    if (version != WEIGHTS_VERSION) {
        snprintf(err, err_capacity, "%s has format version %u; this clcnn reads version %d", path, (unsigned)version,
                 WEIGHTS_VERSION);
        return -1;
    }
    if ((elem != 4 && elem != 8) || count < 1 || count > WEIGHTS_MAX_TENSORS) {
        snprintf(err, err_capacity, "%s is corrupted: element size %u, %u tensors in the header", path, (unsigned)elem,
                 (unsigned)count);
        return -1;
    }
    uint64_t expected = FIXED_HEADER + (uint64_t)count * TABLE_ENTRY + CRC_BYTES;
    if (size < expected) {
        snprintf(err, err_capacity, "%s is truncated: %zu bytes, but its tensor table alone needs %llu", path, size,
                 (unsigned long long)expected);
        return -1;
    }
    return 0;
}

/* After check_header: each table entry sane, the file exactly the size
 * the table describes, the CRC right; -1 with a message. */
static int check_body(const char *path, const unsigned char *data, size_t size, char *err, size_t err_capacity)
{
    uint32_t elem = get_u32(data + 12), count = get_u32(data + 16);
    uint64_t expected = FIXED_HEADER + (uint64_t)count * TABLE_ENTRY + CRC_BYTES;
    const unsigned char *table = data + FIXED_HEADER;
    for (uint32_t t = 0; t < count; t++) {
        const unsigned char *entry = table + (size_t)t * TABLE_ENTRY;
        uint64_t n = 1;
        for (int d = 0; d < 4; d++) {
            uint32_t dim = get_u32(entry + WEIGHTS_NAME_CAPACITY + 4 * d);
            n *= dim;
            if (dim == 0 || n > WEIGHTS_MAX_BYTES) {
                snprintf(err, err_capacity, "%s is corrupted: tensor %u has dim %d = %u", path, (unsigned)t, d,
                         (unsigned)dim);
                return -1;
            }
        }
        if (memchr(entry, '\0', WEIGHTS_NAME_CAPACITY) == NULL) {
            snprintf(err, err_capacity, "%s is corrupted: tensor %u's name is not terminated", path, (unsigned)t);
            return -1;
        }
        expected += n * elem;
        if (expected > WEIGHTS_MAX_BYTES) {
            snprintf(err, err_capacity, "%s is corrupted: its header describes over %llu bytes", path,
                     (unsigned long long)WEIGHTS_MAX_BYTES);
            return -1;
        }
    }
    if (size != expected) {
        snprintf(err, err_capacity, "%s is %s: %zu bytes, but its header describes %llu", path,
                 size < expected ? "truncated" : "corrupted (bytes past the end)", size, (unsigned long long)expected);
        return -1;
    }
    uint32_t stored = get_u32(data + size - CRC_BYTES), computed = crc_of(data, size - CRC_BYTES);
    if (stored != computed) {
        snprintf(err, err_capacity, "%s is corrupted: CRC-32 is 0x%08x but the file says 0x%08x", path,
                 (unsigned)computed, (unsigned)stored);
        return -1;
    }
    return 0;
}

/* The checked file's header values and tensors into set; -1 with a
 * message (set freed) when the host runs out of memory. */
static int decode(const char *path, const unsigned char *data, weights_set *set, char *err, size_t err_capacity)
{
    uint32_t elem = get_u32(data + 12), count = get_u32(data + 16);
    const unsigned char *table = data + FIXED_HEADER;
    set->element_size = (int)elem;
    set->input_mean = get_value(data + 24, 8);
    set->input_std = get_value(data + 32, 8);
    const unsigned char *p = table + (size_t)count * TABLE_ENTRY;
    for (uint32_t t = 0; t < count; t++) {
        weights_tensor *w = &set->tensors[t];
        const unsigned char *entry = table + (size_t)t * TABLE_ENTRY;
        memcpy(w->name, entry, WEIGHTS_NAME_CAPACITY);
        for (int d = 0; d < 4; d++)
            w->dims[d] = get_u32(entry + WEIGHTS_NAME_CAPACITY + 4 * d);
        size_t n = elements_of(w->dims);
        w->values = malloc(n * sizeof *w->values);
        set->count = (int)t + 1;
        if (w->values == NULL) {
            snprintf(err, err_capacity, "%s: out of memory", path);
            weights_free(set);
            return -1;
        }
        for (size_t i = 0; i < n; i++, p += elem)
            w->values[i] = get_value(p, elem);
    }
    return 0;
}

int weights_load(const char *path, weights_set *set, char *err, size_t err_capacity)
{
    memset(set, 0, sizeof *set);
    size_t size;
    unsigned char *data = read_all(path, &size, err, err_capacity);
    if (data == NULL)
        return -1;
    int rc = -1;
    if (check_header(path, data, size, err, err_capacity) == 0 && check_body(path, data, size, err, err_capacity) == 0)
        rc = decode(path, data, set, err, err_capacity);
    free(data);
    return rc;
}

const weights_tensor *weights_find(const weights_set *set, const char *name)
{
    for (int t = 0; t < set->count; t++)
        if (strncmp(set->tensors[t].name, name, WEIGHTS_NAME_CAPACITY) == 0)
            return &set->tensors[t];
    return NULL;
}

void weights_free(weights_set *set)
{
    for (int t = 0; t < set->count; t++)
        free(set->tensors[t].values);
    memset(set, 0, sizeof *set);
}
