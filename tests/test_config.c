/* clcnn_context_config against host/runtime/tuning_table.h: the string
 * holds every key of the table, in its order, with a value in the key's
 * range, and ends with the last key's `=value` (never cut short); given
 * back as CLCNN_TUNE it gives the same string; and each old name that
 * CLCNN_TUNING_ALIASES lists still sets its key.
 * Exit 77 without an OpenCL device, unless CLCNN_REQUIRE_DEVICE=1. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"
#include "tuning_table.h"

typedef struct key_range {
    const char *name;
    long lo, hi;
} key_range;

static const key_range keys[] = {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) {#name, lo, hi},
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

static const struct {
    const char *old_name, *name;
} aliases[] = {
#define CLCNN_X(old_name, name) {#old_name, #name},
    CLCNN_TUNING_ALIASES(CLCNN_X)
#undef CLCNN_X
};

static int failures;

#define EXPECT(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fputc('\n', stderr);                                                                                       \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

/* The config of a new context under CLCNN_TUNE=spec, copied into out;
 * 0, 77 (no device) or 1. */
static int config_under(const char *spec, char *out, size_t capacity)
{
    setenv("CLCNN_TUNE", spec, 1);
    clcnn_context *ctx = NULL;
    clcnn_status st = clcnn_context_create(NULL, &ctx);
    if (st != CLCNN_OK) {
        const char *require = getenv("CLCNN_REQUIRE_DEVICE");
        fprintf(stderr, "clcnn_context_create: %s\n", clcnn_status_string(st));
        clcnn_context_destroy(ctx);
        return st == CLCNN_ERROR_NO_DEVICE && !(require && strcmp(require, "1") == 0) ? 77 : 1;
    }
    snprintf(out, capacity, "%s", clcnn_context_config(ctx));
    clcnn_context_destroy(ctx);
    return 0;
}

/* The value config gives `key`, or -1 when it has no such item. */
static long value_of(const char *config, const char *key)
{
    size_t n = strlen(key);
    for (const char *at = config; at; at = strchr(at, ',')) {
        at += *at == ',';
        if (strncmp(at, key, n) == 0 && at[n] == '=')
            return strtol(at + n + 1, NULL, 10);
    }
    return -1;
}

/* "table=cpu|gpu", then ",key=value" for every key in the table's order,
 * each value in the key's range, and nothing after the last one. */
static void check_form(const char *config)
{
    const char *at = config;
    EXPECT(strncmp(at, "table=cpu", 9) == 0 || strncmp(at, "table=gpu", 9) == 0,
           "config does not start with the table: %s", config);
    at += 9;
    for (size_t k = 0; k < KEY_COUNT; k++) {
        size_t n = strlen(keys[k].name);
        if (!(at[0] == ',' && strncmp(at + 1, keys[k].name, n) == 0 && at[n + 1] == '=')) {
            EXPECT(0, "config lacks ,%s= where expected (key %zu of %zu): ...%s", keys[k].name, k + 1, KEY_COUNT, at);
            return;
        }
        char *stop;
        long v = strtol(at + n + 2, &stop, 10);
        EXPECT(stop > at + n + 2 && v >= keys[k].lo && v <= keys[k].hi, "config gives %s=%.12s, outside [%ld, %ld]",
               keys[k].name, at + n + 2, keys[k].lo, keys[k].hi);
        at = stop;
    }
    EXPECT(*at == '\0', "config runs on after the last key %s: %s", keys[KEY_COUNT - 1].name, at);
}

int main(void)
{
    char first[4096], again[4096];
    const char *tables[] = {"table=cpu", "table=gpu"};
    for (int t = 0; t < 2; t++) {
        int rc = config_under(tables[t], first, sizeof first);
        if (rc)
            return rc;
        printf("%s\n", first);
        check_form(first);
        /* Parses back: the string as CLCNN_TUNE sets every key to what it says. */
        if ((rc = config_under(first, again, sizeof again)))
            return rc;
        EXPECT(strcmp(first, again) == 0, "config given back as CLCNN_TUNE changed:\n  %s\n  %s", first, again);
    }
    /* Each old name sets its key to a value other than the CPU default. */
    if (config_under("table=cpu", first, sizeof first))
        return 1;
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++) {
        long lo = -1, hi = -1;
        for (size_t k = 0; k < KEY_COUNT; k++)
            if (strcmp(keys[k].name, aliases[a].name) == 0)
                lo = keys[k].lo, hi = keys[k].hi;
        EXPECT(lo >= 0, "alias %s names %s, which is not a key", aliases[a].old_name, aliases[a].name);
        const long want = value_of(first, aliases[a].name) == lo ? hi : lo;
        char spec[128];
        snprintf(spec, sizeof spec, "table=cpu,%s=%ld", aliases[a].old_name, want);
        if (config_under(spec, again, sizeof again))
            return 1;
        EXPECT(value_of(again, aliases[a].name) == want, "CLCNN_TUNE=%s gives %s=%ld, not %ld", spec, aliases[a].name,
               value_of(again, aliases[a].name), want);
    }
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
