/* The tuning's keys as data and text (tuning_table.h): parsing CLCNN_TUNE's
 * syntax, composing a column with overrides, writing the config string.
 * Pure: no OpenCL call, no context, so that the planners' host-only tests
 * and the tools compose a tuning exactly as a context does. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuning_spec.h"

/* Values are parsed as int. */
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)                                             \
    _Static_assert(_Generic(((clcnn_tuning *)0)->name, int : 1, default : 0), "tuning key " #name " is not int");
CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X

const clcnn_tuning_key clcnn__tuning_keys[CLCNN_TUNING_KEY_COUNT] = {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)                                             \
    {#name, offsetof(clcnn_tuning, name), CLCNN_TUNING_KIND_##kind, lo, hi},
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
};
#define keys clcnn__tuning_keys
#define KEY_COUNT ((size_t)CLCNN_TUNING_KEY_COUNT)

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

static int *field(clcnn_tuning *t, const clcnn_tuning_key *key)
{
    return (int *)((char *)t + key->offset);
}

/* The names of a CHOICE key's values, or NULL. */
static const char *names_of(const clcnn_tuning_key *key)
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
int clcnn__tuning_key_index(const char *name, size_t length)
{
    for (size_t a = 0; a < sizeof aliases / sizeof aliases[0]; a++)
        if (strlen(aliases[a].old_name) == length && strncmp(aliases[a].old_name, name, length) == 0) {
            name = aliases[a].name;
            length = strlen(name);
        }
    for (size_t k = 0; k < KEY_COUNT; k++)
        if (strlen(keys[k].name) == length && strncmp(keys[k].name, name, length) == 0)
            return (int)k;
    return -1;
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
    const int index = clcnn__tuning_key_index(item, key_length);
    const clcnn_tuning_key *key = index >= 0 ? &keys[index] : NULL;
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
int clcnn__tuning_parse(const char *spec, int allow_table, int strict, clcnn_tuning_overrides *o, char *why,
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

void clcnn__tuning_no_overrides(clcnn_tuning_overrides *o)
{
    memset(o, 0, sizeof *o);
    o->table = -1;
}

int clcnn__tuning_check_spec(const char *spec, int allow_table, char *why, size_t capacity)
{
    clcnn_tuning_overrides o;
    clcnn__tuning_no_overrides(&o);
    return clcnn__tuning_parse(spec, allow_table, 1, &o, why, capacity, NULL, 0);
}

static void apply(clcnn_tuning *t, const clcnn_tuning_overrides *o)
{
    for (size_t k = 0; k < KEY_COUNT; k++)
        if (o->set[k])
            *field(t, &keys[k]) = o->value[k];
}

void clcnn__tuning_compose(const clcnn_device_facts *dev, int gpu_table, const clcnn_tuning_overrides *const sources[],
                           int n_sources, clcnn_tuning *t)
{
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) t->name = gpu_table ? (gpu) : (cpu);
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
    for (int s = 0; s < n_sources; s++)
        apply(t, sources[s]);
    for (size_t k = 0; k < KEY_COUNT; k++) {
        int *v = field(t, &keys[k]);
        if (keys[k].kind == CLCNN_TUNING_KIND_VECTOR)
            while (*v & (*v - 1))
                *v &= *v - 1;
        if (keys[k].kind == CLCNN_TUNING_KIND_GROUP && (size_t)*v > dev->max_work_group_size)
            *v = (int)dev->max_work_group_size;
    }
}

void clcnn__tuning_spec_of(const int values[], const unsigned char *which, char *out, size_t capacity)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t k = 0; k < KEY_COUNT && used < capacity; k++) {
        if (which && !which[k])
            continue;
        const char *name = names_of(&keys[k]), *comma = used ? "," : "";
        for (int i = 0; name && i < values[k]; i++)
            name = strchr(name, '|') ? strchr(name, '|') + 1 : NULL;
        if (name)
            used += (size_t)snprintf(out + used, capacity - used, "%s%s=%.*s", comma, keys[k].name,
                                     (int)strcspn(name, "|"), name);
        else
            used += (size_t)snprintf(out + used, capacity - used, "%s%s=%d", comma, keys[k].name, values[k]);
    }
}

const char *clcnn__tuning_choice_names(int k)
{
    return k >= 0 && (size_t)k < KEY_COUNT ? names_of(&keys[k]) : NULL;
}

void clcnn__tuning_values(const clcnn_tuning *t, int values[])
{
    for (size_t k = 0; k < KEY_COUNT; k++)
        values[k] = *field((clcnn_tuning *)t, &keys[k]);
}

void clcnn__tuning_config(const clcnn_tuning *t, int gpu_table, char *out, size_t capacity)
{
    int values[CLCNN_TUNING_KEY_COUNT];
    clcnn__tuning_values(t, values);
    const int used = snprintf(out, capacity, "table=%s,", gpu_table ? "gpu" : "cpu");
    if (used > 0 && (size_t)used < capacity)
        clcnn__tuning_spec_of(values, NULL, out + used, capacity - (size_t)used);
}
