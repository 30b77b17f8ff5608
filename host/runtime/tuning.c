/* The per-device launch configuration: the default column (from the device
 * type, or the one `table=` names), the keys CLCNN_TUNE sets over it, the
 * keys clcnn_context_set_tuning sets over those, and the config string.
 * Every key comes from the one table in tuning_table.h. */
#include <stdarg.h>
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

/* Values are parsed as int. */
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
_Static_assert(KEY_COUNT == CLCNN_TUNING_KEY_COUNT, "the table's key count");

typedef struct key_names {
    const char *key, *names; /* "name0|name1|...": the values 0, 1, ... of a CHOICE key */
} key_names;

static const key_names choices[] = {
#define CLCNN_X(key, names) {#key, names},
    CLCNN_TUNING_CHOICES(CLCNN_X)
#undef CLCNN_X
        {NULL, NULL}};

typedef struct key_alias {
    const char *old_name, *name;
} key_alias;

static const key_alias aliases[] = {
#define CLCNN_X(old_name, name) {#old_name, #name},
    CLCNN_TUNING_ALIASES(CLCNN_X)
#undef CLCNN_X
};

static int *field(clcnn_tuning *t, const tuning_key *key)
{
    return (int *)((char *)t + key->offset);
}

/* The names of a CHOICE key's values, or NULL. */
static const char *names_of(const tuning_key *key)
{
    for (const key_names *c = choices; c->key; c++)
        if (strcmp(c->key, key->name) == 0)
            return c->names;
    return NULL;
}

/* The value whose name is text[0 .. length) among names, or -1. */
static int value_named(const char *names, const char *text, size_t length)
{
    int value = 0;
    for (const char *at = names; at; value++) {
        const char *end = strchr(at, '|');
        const size_t n = end ? (size_t)(end - at) : strlen(at);
        if (n == length && strncmp(at, text, n) == 0)
            return value;
        at = end ? end + 1 : NULL;
    }
    return -1;
}

/* The key that name[0 .. length) names, under its name or an old one. */
static const tuning_key *key_named(const char *name, size_t length)
{
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
        if (strlen(aliases[a].old_name) == length && strncmp(aliases[a].old_name, name, length) == 0) {
            name = aliases[a].name;
            length = strlen(name);
        }
    for (size_t k = 0; k < KEY_COUNT; k++)
        if (strlen(keys[k].name) == length && strncmp(keys[k].name, name, length) == 0)
            return &keys[k];
    return NULL;
}

static int fail_item(char *why, size_t capacity, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(why, capacity, fmt, args);
    va_end(args);
    return -1;
}

/* *v = the decimal number text[0 .. length), all of it: 0, else -1. */
static int parse_int(const char *text, size_t length, long *v)
{
    char digits[16];
    if (length == 0 || length >= sizeof digits)
        return -1;
    memcpy(digits, text, length);
    digits[length] = '\0';
    char *stop;
    *v = strtol(digits, &stop, 10);
    return *stop == '\0' ? 0 : -1;
}

/* Parses one item `key=value` (length bytes at item) into o: 0, or -1
 * with why. A value is a number in the key's range or, for a CHOICE key,
 * one of its names. */
static int parse_item(const char *item, size_t length, int allow_table, clcnn_tuning_overrides *o, char *why,
                      size_t capacity)
{
    const char *eq = memchr(item, '=', length);
    const int n = (int)length;
    if (eq == NULL || eq == item)
        return fail_item(why, capacity, "'%.*s' is not key=value", n, item);
    const size_t key_length = (size_t)(eq - item), value_length = length - key_length - 1;
    const char *value = eq + 1;
    if (key_length == 5 && strncmp(item, "table", 5) == 0) {
        const int table = value_named("cpu|gpu", value, value_length);
        if (!allow_table)
            return fail_item(why, capacity, "'%.*s': table= is taken only by CLCNN_TUNE and clcnn_context_set_tuning",
                             n, item);
        if (table < 0)
            return fail_item(why, capacity, "'%.*s': the table is cpu or gpu", n, item);
        o->table = table;
        return 0;
    }
    const tuning_key *key = key_named(item, key_length);
    if (key == NULL)
        return fail_item(why, capacity, "'%.*s': no key is named %.*s (docs/tuning.md lists them)", n, item,
                         (int)key_length, item);
    const char *names = names_of(key);
    long v = names ? value_named(names, value, value_length) : -1;
    if (v < 0 && parse_int(value, value_length, &v) != 0) {
        if (names)
            return fail_item(why, capacity, "'%.*s': %s takes one of %s, or its number", n, item, key->name, names);
        return fail_item(why, capacity, "'%.*s': %s takes a whole number", n, item, key->name);
    }
    if (v < key->lo || v > key->hi)
        return fail_item(why, capacity, "'%.*s': %s is %d to %d", n, item, key->name, key->lo, key->hi);
    o->set[key - keys] = 1;
    o->value[key - keys] = (int)v;
    return 0;
}

/* Parses spec's comma-separated items into o. Strict: stops at the first
 * bad item and returns -1 with why. Else each bad item is noted in
 * notes (as CLCNN_TUNE's) and skipped; returns 0. Empty items are skipped. */
static int parse_spec(const char *spec, int allow_table, int strict, clcnn_tuning_overrides *o, char *why,
                      size_t capacity, char *notes, size_t notes_capacity)
{
    while (spec && *spec) {
        const char *end = strchr(spec, ',');
        const size_t length = end ? (size_t)(end - spec) : strlen(spec);
        if (length > 0 && parse_item(spec, length, allow_table, o, why, capacity) != 0) {
            if (strict)
                return -1;
            const size_t used = notes ? strlen(notes) : 0;
            if (used < notes_capacity)
                snprintf(notes + used, notes_capacity - used, "CLCNN_TUNE: ignored %s\n", why);
        }
        spec = end ? end + 1 : NULL;
    }
    return 0;
}

static void no_overrides(clcnn_tuning_overrides *o)
{
    memset(o, 0, sizeof *o);
    o->table = -1;
}

int clcnn__tuning_check_spec(const char *spec, int allow_table, char *why, size_t capacity)
{
    clcnn_tuning_overrides o;
    no_overrides(&o);
    return parse_spec(spec, allow_table, 1, &o, why, capacity, NULL, 0);
}

static void apply(clcnn_tuning *t, const clcnn_tuning_overrides *o)
{
    for (size_t k = 0; k < KEY_COUNT; k++)
        if (o->set[k])
            *field(t, &keys[k]) = o->value[k];
}

/* The column CLCNN_TUNE or clcnn_context_set_tuning named last, else the
 * device type's. */
static int table_of(const clcnn_context *ctx)
{
    return ctx->tune_user.table >= 0  ? ctx->tune_user.table
           : ctx->tune_env.table >= 0 ? ctx->tune_env.table
                                      : ctx->default_table;
}

/* *t from the column, the database's rows for a layer (layers[0 ..
 * n_layers), lowest first), CLCNN_TUNE's keys and set_tuning's: vectors
 * rounded down to a power of two, work-groups capped by the device. */
static void compose_into(const clcnn_context *ctx, const clcnn_tuning_overrides *layers, int n_layers, clcnn_tuning *t)
{
    const clcnn_device_facts *dev = &ctx->facts;
    const int gpu_table = table_of(ctx);
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) t->name = gpu_table ? (gpu) : (cpu);
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
    for (int l = 0; l < n_layers; l++)
        apply(t, &layers[l]);
    apply(t, &ctx->tune_env);
    apply(t, &ctx->tune_user);
    for (size_t k = 0; k < KEY_COUNT; k++) {
        int *v = field(t, &keys[k]);
        if (keys[k].kind == KIND_VECTOR)
            while (*v & (*v - 1))
                *v &= *v - 1;
        if (keys[k].kind == KIND_GROUP && (size_t)*v > ctx->max_work_group_size)
            *v = (int)ctx->max_work_group_size;
    }
}

/* ctx->tuning and ctx->config, for layers without rows of their own. */
static void compose(clcnn_context *ctx)
{
    const int gpu_table = table_of(ctx);
    clcnn_tuning *t = &ctx->tuning;
    compose_into(ctx, NULL, 0, t);
    size_t used = (size_t)snprintf(ctx->config, sizeof ctx->config, "table=%s", gpu_table ? "gpu" : "cpu");
    for (size_t k = 0; k < KEY_COUNT && used < sizeof ctx->config; k++) {
        const char *names = names_of(&keys[k]);
        const int v = *field(t, &keys[k]);
        const char *name = names;
        for (int i = 0; name && i < v; i++)
            name = strchr(name, '|') ? strchr(name, '|') + 1 : NULL;
        if (name)
            used += (size_t)snprintf(ctx->config + used, sizeof ctx->config - used, ",%s=%.*s", keys[k].name,
                                     (int)strcspn(name, "|"), name);
        else
            used += (size_t)snprintf(ctx->config + used, sizeof ctx->config - used, ",%s=%d", keys[k].name, v);
    }
}

static int check_row_spec(const char *spec, char *why, size_t capacity)
{
    return clcnn__tuning_check_spec(spec, 0, why, capacity);
}

static void device_text(const clcnn_context *ctx, cl_device_info what, char *out, size_t capacity)
{
    out[0] = '\0';
    if (clGetDeviceInfo(ctx->device, what, capacity - 1, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[capacity - 1] = '\0';
}

/* Opens this device's tuning database (CLCNN_TUNING=off: none), noting
 * which file applies, or why none does. */
static void open_database(clcnn_context *ctx)
{
    clcnn_tuning_identity id = {.compute_units = ctx->compute_units, .table_hash = clcnn__tuning_table_hash()};
    if (clGetPlatformInfo(ctx->platform, CL_PLATFORM_NAME, sizeof id.platform - 1, id.platform, NULL) != CL_SUCCESS)
        id.platform[0] = '\0';
    device_text(ctx, CL_DEVICE_NAME, id.device, sizeof id.device);
    device_text(ctx, CL_DRIVER_VERSION, id.driver, sizeof id.driver);
    const clcnn_tuning_env env = clcnn__tuning_env();
    const size_t used = strlen(ctx->tuning_notes);
    char *notes = ctx->tuning_notes + used;
    const size_t room = sizeof ctx->tuning_notes - used;
    memset(&ctx->tuning_db, 0, sizeof ctx->tuning_db);
    const clcnn_tuning_db_source source =
        clcnn__tuning_db_open(&ctx->tuning_db, &id, &env, check_row_spec, notes, room);
    if (source == CLCNN_TUNING_DB_EXACT || source == CLCNN_TUNING_DB_OTHER_UNITS) {
        const size_t at = strlen(notes);
        snprintf(notes + at, room - at, "tuning database: %s (%zu rows)\n", ctx->tuning_db.path, ctx->tuning_db.count);
    }
}

void clcnn__tuning_release(clcnn_context *ctx)
{
    clcnn__tuning_db_free(&ctx->tuning_db);
}

/* The overrides of a spec already checked (a database row). */
static void overrides_of(const char *spec, clcnn_tuning_overrides *o)
{
    char why[256];
    no_overrides(o);
    parse_spec(spec, 0, 1, o, why, sizeof why, NULL, 0);
}

void clcnn__tuning_layer_begin(clcnn_context *ctx, const clcnn_tuning_layer_key *key, clcnn_tuning *saved)
{
    *saved = ctx->tuning;
    const char *exact = NULL, *class_spec = NULL;
    if (ctx->tuning_db.count > 0)
        clcnn__tuning_db_lookup(&ctx->tuning_db, key, &exact, &class_spec);
    if (exact == NULL && class_spec == NULL)
        return;
    clcnn_tuning_overrides layers[2];
    overrides_of(class_spec ? class_spec : "", &layers[0]);
    overrides_of(exact ? exact : "", &layers[1]);
    compose_into(ctx, layers, 2, &ctx->tuning);
}

void clcnn__tuning_layer_end(clcnn_context *ctx, const clcnn_tuning *saved)
{
    ctx->tuning = *saved;
}

void clcnn__tuning_init(clcnn_context *ctx)
{
    cl_uint simd_floats = 1;
    clGetDeviceInfo(ctx->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof simd_floats, &simd_floats, NULL);
    ctx->facts = (clcnn_device_facts){
        .simd_floats = simd_floats,
        .max_work_group_size = ctx->max_work_group_size,
        .local_mem = ctx->local_mem,
    };
    ctx->default_table = (ctx->device_type & CL_DEVICE_TYPE_CPU) == 0;
    no_overrides(&ctx->tune_env);
    no_overrides(&ctx->tune_user);
    ctx->tuning_notes[0] = '\0';
    char why[256];
    parse_spec(getenv("CLCNN_TUNE"), 1, 0, &ctx->tune_env, why, sizeof why, ctx->tuning_notes,
               sizeof ctx->tuning_notes);
    open_database(ctx);
    compose(ctx);
}

clcnn_status clcnn_context_set_tuning(clcnn_context *ctx, const char *config)
{
    clcnn_status st = clcnn__check_context(ctx, "clcnn_context_set_tuning");
    if (st != CLCNN_OK)
        return st;
    if (config == NULL)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT,
                           "clcnn_context_set_tuning: config is NULL; pass \"key=value,...\" (\"\" changes nothing)");
    clcnn_tuning_overrides user = ctx->tune_user;
    char why[256];
    if (parse_spec(config, 1, 1, &user, why, sizeof why, NULL, 0) != 0)
        return clcnn__fail(ctx, CLCNN_ERROR_INVALID_ARGUMENT, "clcnn_context_set_tuning: %s; nothing was changed", why);
    ctx->tune_user = user;
    compose(ctx);
    return CLCNN_OK;
}

const char *clcnn_context_tuning_notes(const clcnn_context *ctx)
{
    return ctx ? ctx->tuning_notes : "";
}
