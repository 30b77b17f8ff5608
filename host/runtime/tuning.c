/* The per-device launch configuration: defaults from the device class (or
 * the table CLCNN_TUNE names), CLCNN_TUNE overrides, and the config string.
 * Every key comes from the one table in tuning_table.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef enum key_kind { KIND_COUNT, KIND_VECTOR, KIND_GROUP, KIND_FLAG, KIND_CHOICE } key_kind;

typedef struct tuning_key {
    const char *name;
    size_t offset;
    key_kind kind;
    int lo, hi;
} tuning_key;

/* CLCNN_TUNE values are parsed as int. */
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)                                             \
    _Static_assert(_Generic(((clcnn_tuning *)0)->name, int : 1, default : 0), "tuning key " #name " is not int");
CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X

static const tuning_key keys[] = {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)                                             \
    {#name, offsetof(clcnn_tuning, name), KIND_##kind, lo, hi},
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

static int *field(clcnn_tuning *t, const tuning_key *key)
{
    return (int *)((char *)t + key->offset);
}

static void set_defaults(const clcnn_device_facts *dev, int gpu_table, clcnn_tuning *t)
{
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) t->name = gpu_table ? (gpu) : (cpu);
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
}

/* The length of `key=` at the start of item (an item of CLCNN_TUNE runs to
 * the next comma), or 0 if item sets another key. */
static size_t key_prefix(const char *item, size_t item_length, const char *key)
{
    size_t n = strlen(key);
    return item_length > n && strncmp(item, key, n) == 0 && item[n] == '=' ? n + 1 : 0;
}

typedef struct key_alias {
    const char *old_name, *name;
} key_alias;

static const key_alias aliases[] = {
#define CLCNN_X(old_name, name) {#old_name, #name},
    CLCNN_TUNING_ALIASES(CLCNN_X)
#undef CLCNN_X
};

/* key_prefix for `key` under its name or under an old name of it. */
static size_t key_or_alias_prefix(const char *item, size_t item_length, const char *key)
{
    size_t at = key_prefix(item, item_length, key);
    for (size_t a = 0; at == 0 && a < sizeof aliases / sizeof aliases[0]; a++)
        if (strcmp(aliases[a].name, key) == 0)
            at = key_prefix(item, item_length, aliases[a].old_name);
    return at;
}

/* Which default column CLCNN_TUNE's `table=cpu|gpu` asks for: 0 (cpu),
 * 1 (gpu), or -1 when it does not say. */
static int table_override(const char *spec)
{
    int table = -1;
    while (spec && *spec) {
        const char *end = strchr(spec, ',');
        size_t length = end ? (size_t)(end - spec) : strlen(spec);
        size_t at = key_prefix(spec, length, "table");
        if (at && length - at == 3 && strncmp(spec + at, "cpu", 3) == 0)
            table = 0;
        else if (at && length - at == 3 && strncmp(spec + at, "gpu", 3) == 0)
            table = 1;
        spec = end ? end + 1 : NULL;
    }
    return table;
}

/* Applies key=value items over the defaults; unknown keys and values out
 * of range are ignored, so that old settings do not break newer builds,
 * and old names of renamed keys set those keys. */
static void apply_overrides(clcnn_tuning *t, const char *spec)
{
    while (spec && *spec) {
        const char *end = strchr(spec, ',');
        size_t length = end ? (size_t)(end - spec) : strlen(spec);
        for (size_t k = 0; k < KEY_COUNT; k++) {
            size_t at = key_or_alias_prefix(spec, length, keys[k].name);
            if (at == 0)
                continue;
            char *stop;
            long v = strtol(spec + at, &stop, 10);
            if (stop == spec + length && stop > spec + at && v >= keys[k].lo && v <= keys[k].hi)
                *field(t, &keys[k]) = (int)v;
        }
        spec = end ? end + 1 : NULL;
    }
}

void clcnn__tuning_init(clcnn_context *ctx)
{
    const char *spec = getenv("CLCNN_TUNE");
    cl_uint simd_floats = 1;
    clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof simd_floats, &simd_floats, NULL);
    const clcnn_device_facts dev = {
        .simd_floats = simd_floats,
        .max_work_group_size = ctx->max_work_group_size,
        .local_mem = ctx->local_mem,
    };
    int gpu_table = table_override(spec);
    if (gpu_table < 0)
        gpu_table = (ctx->device_type & CL_DEVICE_TYPE_CPU) == 0;
    clcnn_tuning *t = &ctx->tuning;
    set_defaults(&dev, gpu_table, t);
    apply_overrides(t, spec);
    for (size_t k = 0; k < KEY_COUNT; k++) {
        int *v = field(t, &keys[k]);
        if (keys[k].kind == KIND_VECTOR)
            while (*v & (*v - 1))
                *v &= *v - 1;
        if (keys[k].kind == KIND_GROUP && (size_t)*v > ctx->max_work_group_size)
            *v = (int)ctx->max_work_group_size;
    }
    size_t used = (size_t)snprintf(ctx->config, sizeof ctx->config, "table=%s", gpu_table ? "gpu" : "cpu");
    for (size_t k = 0; k < KEY_COUNT && used < sizeof ctx->config; k++)
        used += (size_t)snprintf(ctx->config + used, sizeof ctx->config - used, ",%s=%d", keys[k].name,
                                 *field(t, &keys[k]));
}
