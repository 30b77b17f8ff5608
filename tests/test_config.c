/* clcnn_context_config against host/runtime/tuning_table.h: the string
 * holds every key of the table, in its order, with a value in the key's
 * range, and ends with the last key's `=value` (never cut short); given
 * back as CLCNN_TUNE it gives the same string; and each old name that
 * CLCNN_TUNING_ALIASES lists still sets its key. CLCNN_TUNE's bad items are
 * named in clcnn_context_tuning_notes; clcnn_context_set_tuning layers over
 * the column and CLCNN_TUNE and refuses bad items whole.
 * Exit 77 without an OpenCL device, unless CLCNN_REQUIRE_DEVICE=1. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"
#include "test_expect.h"
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

static const struct {
    const char *key, *names;
} choices[] = {
#define CLCNN_X(key, names) {#key, names},
    CLCNN_TUNING_CHOICES(CLCNN_X)
#undef CLCNN_X
        {NULL, NULL}};


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

/* The value of `key` written at text: a number, or for a CHOICE key one
 * of its names (its place in the list); *end is where it stops. -1 when
 * it is neither. */
static long parse_value(const char *key, const char *text, const char **end)
{
    for (int c = 0; choices[c].key; c++) {
        if (strcmp(choices[c].key, key) != 0)
            continue;
        const size_t length = strcspn(text, ",");
        long value = 0;
        for (const char *name = choices[c].names; name; value++) {
            const size_t n = strcspn(name, "|");
            if (n == length && strncmp(name, text, n) == 0) {
                *end = text + n;
                return value;
            }
            name = name[n] ? name + n + 1 : NULL;
        }
    }
    char *stop;
    long v = strtol(text, &stop, 10);
    *end = stop;
    return stop > text ? v : -1;
}

/* The value config gives `key`, or -1 when it has no such item. */
static long value_of(const char *config, const char *key)
{
    size_t n = strlen(key);
    for (const char *at = config; at; at = strchr(at, ',')) {
        at += *at == ',';
        const char *end;
        if (strncmp(at, key, n) == 0 && at[n] == '=')
            return parse_value(key, at + n + 1, &end);
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
        const char *stop;
        long v = parse_value(keys[k].name, at + n + 2, &stop);
        EXPECT(stop > at + n + 2 && v >= keys[k].lo && v <= keys[k].hi, "config gives %s=%.12s, outside [%ld, %ld]",
               keys[k].name, at + n + 2, keys[k].lo, keys[k].hi);
        at = stop;
    }
    EXPECT(*at == '\0', "config runs on after the last key %s: %s", keys[KEY_COUNT - 1].name, at);
}

/* A new context under CLCNN_TUNE=spec, or NULL (the reason printed). */
static clcnn_context *context_under(const char *spec)
{
    setenv("CLCNN_TUNE", spec, 1);
    clcnn_context *ctx = NULL;
    if (clcnn_context_create(NULL, &ctx) != CLCNN_OK) {
        fprintf(stderr, "clcnn_context_create: %s\n", clcnn_context_last_error(ctx));
        clcnn_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

/* CLCNN_TUNE's bad items are skipped, each named in the tuning notes, and
 * its good items still apply; a clean CLCNN_TUNE leaves no notes. */
static int check_env_notes(void)
{
    const char *bad[] = {"conv_vector=99", "no_such_key=3", "table=tpu", "conv_tile_pixels=x", "conv_local"};
    char spec[256];
    snprintf(spec, sizeof spec, "%s,conv_local=16,%s,%s,%s,%s", bad[0], bad[1], bad[2], bad[3], bad[4]);
    clcnn_context *ctx = context_under(spec);
    if (ctx == NULL)
        return 1;
    const char *notes = clcnn_context_tuning_notes(ctx);
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        EXPECT(strstr(notes, bad[b]) != NULL, "CLCNN_TUNE=%s: the notes do not name %s:\n%s", spec, bad[b], notes);
    EXPECT(value_of(clcnn_context_config(ctx), "conv_local") == 16, "CLCNN_TUNE=%s did not set conv_local=16: %s", spec,
           clcnn_context_config(ctx));
    EXPECT(strstr(clcnn_context_config(ctx), "table=cpu") || strstr(clcnn_context_config(ctx), "table=gpu"),
           "config lost its table: %s", clcnn_context_config(ctx));
    clcnn_context_destroy(ctx);
    if ((ctx = context_under("table=gpu,conv_local=16")) == NULL)
        return 1;
    EXPECT(strstr(clcnn_context_tuning_notes(ctx), "CLCNN_TUNE:") == NULL, "a clean CLCNN_TUNE left notes: %s",
           clcnn_context_tuning_notes(ctx));
    clcnn_context_destroy(ctx);
    return 0;
}

/* clcnn_context_set_tuning(ctx, config) refused: the status, the message
 * naming `names`, and the config as it was. */
static void expect_refused(clcnn_context *ctx, const char *config, const char *names)
{
    char before[4096];
    snprintf(before, sizeof before, "%s", clcnn_context_config(ctx));
    clcnn_status st = clcnn_context_set_tuning(ctx, config);
    EXPECT(st == CLCNN_ERROR_INVALID_ARGUMENT, "set_tuning(%s) gave %s, not CLCNN_ERROR_INVALID_ARGUMENT",
           config ? config : "NULL", clcnn_status_string(st));
    EXPECT(strstr(clcnn_context_last_error(ctx), names) != NULL, "set_tuning(%s): the message does not name %s: %s",
           config ? config : "NULL", names, clcnn_context_last_error(ctx));
    EXPECT(strcmp(before, clcnn_context_config(ctx)) == 0, "set_tuning(%s) refused but changed the config:\n  %s\n  %s",
           config ? config : "NULL", before, clcnn_context_config(ctx));
}

static void expect_value(clcnn_context *ctx, const char *key, long want, const char *after)
{
    EXPECT(value_of(clcnn_context_config(ctx), key) == want, "after %s, %s is %ld, not %ld: %s", after, key,
           value_of(clcnn_context_config(ctx), key), want, clcnn_context_config(ctx));
}

/* Precedence: the column, CLCNN_TUNE's keys over it, set_tuning's over
 * those; a refused call changes nothing; the config given back is taken. */
static int check_set_tuning(void)
{
    clcnn_context *ctx = context_under("table=cpu,conv_local=16");
    if (ctx == NULL)
        return 1;
    EXPECT(clcnn_context_set_tuning(ctx, "") == CLCNN_OK, "set_tuning(\"\") failed: %s", clcnn_context_last_error(ctx));
    expect_value(ctx, "conv_local", 16, "CLCNN_TUNE=conv_local=16");
    EXPECT(clcnn_context_set_tuning(ctx, "conv_vector=8") == CLCNN_OK, "set_tuning(conv_vector=8): %s",
           clcnn_context_last_error(ctx));
    expect_value(ctx, "conv_vector", 8, "conv_vector=8");
    expect_value(ctx, "conv_local", 16, "conv_vector=8 (CLCNN_TUNE's conv_local=16 stays)");
    expect_refused(ctx, "conv_local=4,conv_vector=32", "conv_vector=32");
    expect_refused(ctx, "conv_local=4,bogus_key=1", "bogus_key");
    expect_refused(ctx, "conv_local=4,table=tpu", "table=tpu");
    expect_refused(ctx, "conv_local", "conv_local");
    expect_refused(ctx, "conv_local=4x", "conv_local=4x");
    expect_refused(ctx, NULL, "NULL");
    /* The GPU column under CLCNN_TUNE's key and the earlier call's. */
    EXPECT(clcnn_context_set_tuning(ctx, "table=gpu") == CLCNN_OK, "set_tuning(table=gpu): %s",
           clcnn_context_last_error(ctx));
    EXPECT(strncmp(clcnn_context_config(ctx), "table=gpu,", 10) == 0, "table=gpu gave %s", clcnn_context_config(ctx));
    expect_value(ctx, "conv_local", 16, "table=gpu");
    expect_value(ctx, "conv_vector", 8, "table=gpu");
    EXPECT(clcnn_context_set_tuning(ctx, "conv_local=32") == CLCNN_OK, "set_tuning(conv_local=32): %s",
           clcnn_context_last_error(ctx));
    expect_value(ctx, "conv_local", 32, "conv_local=32 over CLCNN_TUNE's 16");
    char config[4096];
    snprintf(config, sizeof config, "%s", clcnn_context_config(ctx));
    EXPECT(clcnn_context_set_tuning(ctx, config) == CLCNN_OK && strcmp(config, clcnn_context_config(ctx)) == 0,
           "the config given back changed it:\n  %s\n  %s", config, clcnn_context_config(ctx));
    EXPECT(clcnn_context_set_tuning(NULL, "conv_local=4") == CLCNN_ERROR_INVALID_ARGUMENT,
           "set_tuning on a NULL context was not refused");
    clcnn_context_destroy(ctx);
    return 0;
}

/* The launches of one 3x3 conv forward with 16 output channels: how many
 * channel vectors its grid has across (global[1]), or -1. */
static long forward_channel_items(clcnn_context *ctx)
{
    const size_t a_dims[4] = {1, 6, 6, 3}, w_dims[4] = {3, 3, 3, 16}, z_dims[4] = {1, 6, 6, 16};
    clcnn_tensor *a = NULL, *w = NULL, *z = NULL;
    long items = -1;
    clcnn_launch launch;
    size_t count = 0;
    const clcnn_conv_params params = clcnn_conv_params_default(1, 1);
    if (clcnn_tensor_create(ctx, CLCNN_FLOAT32, a_dims, &a) == CLCNN_OK &&
        clcnn_tensor_create(ctx, CLCNN_FLOAT32, w_dims, &w) == CLCNN_OK &&
        clcnn_tensor_create(ctx, CLCNN_FLOAT32, z_dims, &z) == CLCNN_OK && clcnn_context_profile(ctx, 1) == CLCNN_OK &&
        clcnn_conv_forward_ex(ctx, a, w, NULL, &params, CLCNN_ACTIVATION_NONE, z) == CLCNN_OK &&
        clcnn_context_launches(ctx, &launch, 1, &count) == CLCNN_OK && count == 1)
        items = (long)launch.global[1];
    clcnn_context_profile(ctx, 0);
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(w);
    clcnn_tensor_destroy(z);
    return items;
}

/* A layer planned after clcnn_context_set_tuning takes its values: conv
 * forward's channel vectors follow conv_vector (the CPU column's register
 * tiles: one launch). */
static int check_set_tuning_plans(void)
{
    clcnn_context *ctx = context_under("table=cpu,conv_vector=16");
    if (ctx == NULL)
        return 1;
    clcnn_context_plan(ctx);
    const long before = forward_channel_items(ctx);
    char plan[4096];
    snprintf(plan, sizeof plan, "%s", clcnn_context_plan(ctx));
    static const char head[] = "conv_forward.cl conv_forward float32 ";
    EXPECT(strncmp(plan, head, sizeof head - 1) == 0 && strstr(plan, " -DVECTOR=16") &&
               strchr(plan, '\n') == plan + strlen(plan) - 1,
           "the plan of one conv forward under conv_vector=16 is not its one kernel with -DVECTOR=16: %s", plan);
    EXPECT(clcnn_context_plan(ctx)[0] == '\0', "the plan was not forgotten once read: %s", clcnn_context_plan(ctx));
    EXPECT(clcnn_context_set_tuning(ctx, "conv_vector=4") == CLCNN_OK, "set_tuning(conv_vector=4): %s",
           clcnn_context_last_error(ctx));
    const long after = forward_channel_items(ctx);
    EXPECT(strstr(clcnn_context_plan(ctx), " -DVECTOR=4") != NULL, "the plan under conv_vector=4 lacks -DVECTOR=4");
    EXPECT(before == 1 && after == 4,
           "conv forward's channel items: %ld under conv_vector=16, %ld after "
           "set_tuning(conv_vector=4); want 1 and 4",
           before, after);
    clcnn_context_destroy(ctx);
    return 0;
}

/* clcnn_context_build_stats counts each program once, when it is built,
 * and each kernel's first launch at a work-group size once; the same
 * layer again adds nothing, a layer under other -D options a program. */
static int check_build_stats(void)
{
    clcnn_context *ctx = context_under("table=cpu,conv_vector=16");
    if (ctx == NULL)
        return 1;
    clcnn_build_stats fresh, one, again, other;
    EXPECT(clcnn_context_build_stats(ctx, NULL) == CLCNN_ERROR_INVALID_ARGUMENT, "build_stats(NULL) was not refused");
    EXPECT(clcnn_context_build_stats(ctx, &fresh) == CLCNN_OK && fresh.programs == 0 && fresh.first_launches == 0 &&
               fresh.build_seconds == 0 && fresh.first_launch_seconds == 0,
           "a fresh context's build stats are not zero: %zu programs, %zu first launches", fresh.programs,
           fresh.first_launches);
    forward_channel_items(ctx);
    clcnn_context_build_stats(ctx, &one);
    forward_channel_items(ctx);
    clcnn_context_build_stats(ctx, &again);
    clcnn_context_set_tuning(ctx, "conv_vector=4");
    forward_channel_items(ctx);
    clcnn_context_build_stats(ctx, &other);
    EXPECT(one.programs == 1 && one.first_launches == 1 && one.build_seconds > 0 && one.first_launch_seconds > 0,
           "one conv forward: %zu programs in %g s, %zu first launches in %g s; want 1 and 1, times above 0",
           one.programs, one.build_seconds, one.first_launches, one.first_launch_seconds);
    EXPECT(again.programs == 1 && again.first_launches == 1 && again.build_seconds == one.build_seconds &&
               again.first_launch_seconds == one.first_launch_seconds,
           "the same conv forward again built or counted a first launch: %zu programs, %zu first launches",
           again.programs, again.first_launches);
    EXPECT(other.programs == 2 && other.first_launches == 2,
           "the conv forward under conv_vector=4: %zu programs, %zu first launches in all; want 2 and 2", other.programs,
           other.first_launches);
    clcnn_context_destroy(ctx);
    return 0;
}

/* A tensor of dims with values (i * 7 % 11 - 5) / 4, or NULL. */
static clcnn_tensor *filled(clcnn_context *ctx, const size_t dims[4])
{
    clcnn_tensor *t = NULL;
    const size_t n = dims[0] * dims[1] * dims[2] * dims[3];
    float *v = malloc(n * sizeof *v);
    if (v && clcnn_tensor_create(ctx, CLCNN_FLOAT32, dims, &t) == CLCNN_OK) {
        for (size_t i = 0; i < n; i++)
            v[i] = (float)((long)(i * 7 % 11) - 5) / 4.0f;
        clcnn_tensor_write(t, v, n * sizeof *v);
    }
    free(v);
    return t;
}

/* clcnn_context_prepare builds and launches ahead exactly what the layers'
 * calls take: after it, the calls themselves build no program and make no
 * first launch. Bad layers are refused with their index. */
static int check_prepare(void)
{
    clcnn_context *ctx = context_under("");
    if (ctx == NULL)
        return 1;
    const size_t a_dims[4] = {2, 9, 9, 5}, w_dims[4] = {3, 3, 5, 12}, z_dims[4] = {2, 5, 5, 12};
    const size_t b_dims[4] = {1, 1, 1, 12}, p_dims[4] = {2, 2, 2, 12};
    clcnn_conv_params conv = clcnn_conv_params_default(2, 1);
    clcnn_pool_params pool = clcnn_pool_params_default(2, 2);
    clcnn_layer_spec layers[3] = {
        {.op = CLCNN_PREPARE_CONV_FORWARD, .input_dims = {2, 9, 9, 5}, .weight_dims = {3, 3, 5, 12}, .conv = conv,
         .has_bias = 1, .act = CLCNN_ACTIVATION_RELU},
        {.op = CLCNN_PREPARE_CONV_BACKWARD, .input_dims = {2, 9, 9, 5}, .weight_dims = {3, 3, 5, 12}, .conv = conv},
        {.op = CLCNN_PREPARE_POOL_BACKWARD, .input_dims = {2, 5, 5, 12}, .pool = pool, .mode = CLCNN_POOL_AVERAGE},
    };
    clcnn_build_stats prepared, ran;
    EXPECT(clcnn_context_prepare(ctx, layers, 3) == CLCNN_OK, "prepare: %s", clcnn_context_last_error(ctx));
    clcnn_context_build_stats(ctx, &prepared);
    clcnn_tensor *a = filled(ctx, a_dims), *w = filled(ctx, w_dims), *b = filled(ctx, b_dims), *z = filled(ctx, z_dims);
    clcnn_tensor *da = filled(ctx, a_dims), *dw = filled(ctx, w_dims), *db = filled(ctx, b_dims);
    clcnn_tensor *p = filled(ctx, p_dims), *dz = filled(ctx, z_dims);
    EXPECT(clcnn_conv_forward_ex(ctx, a, w, b, &conv, CLCNN_ACTIVATION_RELU, z) == CLCNN_OK &&
               clcnn_conv_backward_ex(ctx, z, a, w, &conv, da, dw, db) == CLCNN_OK &&
               clcnn_pool_backward_ex(ctx, p, z, &pool, CLCNN_POOL_AVERAGE, dz) == CLCNN_OK &&
               clcnn_context_finish(ctx) == CLCNN_OK,
           "the layers' calls: %s", clcnn_context_last_error(ctx));
    clcnn_context_build_stats(ctx, &ran);
    EXPECT(prepared.programs > 0 && ran.programs == prepared.programs && ran.first_launches == prepared.first_launches,
           "prepare built %zu programs with %zu first launches, the calls after it %zu and %zu more; want none more",
           prepared.programs, prepared.first_launches, ran.programs - prepared.programs,
           ran.first_launches - prepared.first_launches);
    clcnn_tensor *all[] = {a, w, b, z, da, dw, db, p, dz};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        clcnn_tensor_destroy(all[i]);
    /* The first bad layer, by its index; a bad op; no list. */
    layers[1].weight_dims[2] = 4;
    EXPECT(clcnn_context_prepare(ctx, layers, 3) != CLCNN_OK &&
               strstr(clcnn_context_last_error(ctx), "layers[1] (conv_backward)") != NULL,
           "a conv layer of mismatched channels at index 1: '%s'", clcnn_context_last_error(ctx));
    layers[0].op = (clcnn_prepare_op)99;
    EXPECT(clcnn_context_prepare(ctx, layers, 3) == CLCNN_ERROR_INVALID_ARGUMENT &&
               strstr(clcnn_context_last_error(ctx), "layers[0].op is 99") != NULL,
           "op 99: '%s'", clcnn_context_last_error(ctx));
    EXPECT(clcnn_context_prepare(ctx, NULL, 1) == CLCNN_ERROR_INVALID_ARGUMENT, "NULL layers were not refused");
    EXPECT(clcnn_context_prepare(ctx, NULL, 0) == CLCNN_OK, "no layers: %s", clcnn_context_last_error(ctx));
    clcnn_context_destroy(ctx);
    return 0;
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
    if (check_env_notes() || check_set_tuning() || check_set_tuning_plans() || check_build_stats() || check_prepare())
        return 1;
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return failures != 0;
}
