/* The tuning's keys as data and text (tuning_spec.c): pure, so that the
 * planners' host-only tests and the tools compose a tuning exactly as a
 * context does (tuning.c), without a device. */
#ifndef CLCNN_TUNING_SPEC_H
#define CLCNN_TUNING_SPEC_H

#include "internal.h"

/* The table's keys, in its order (a key's index is its place in
 * clcnn_tuning_overrides' arrays): name, field, kind and range. */
typedef enum clcnn_tuning_kind {
    CLCNN_TUNING_KIND_COUNT,
    CLCNN_TUNING_KIND_VECTOR, /* rounded down to a power of two */
    CLCNN_TUNING_KIND_GROUP,  /* capped by the device's work-group limit */
    CLCNN_TUNING_KIND_FLAG,
    CLCNN_TUNING_KIND_CHOICE /* values named by CLCNN_TUNING_CHOICES */
} clcnn_tuning_kind;
typedef struct clcnn_tuning_key {
    const char *name;
    size_t offset; /* of its int in clcnn_tuning */
    clcnn_tuning_kind kind;
    int lo, hi;
} clcnn_tuning_key;
extern const clcnn_tuning_key clcnn__tuning_keys[CLCNN_TUNING_KEY_COUNT];
/* The index of the key name[0 .. length) names, under its name or an old
 * one (CLCNN_TUNING_ALIASES), else -1. */
int clcnn__tuning_key_index(const char *name, size_t length);
/* "name0|name1|...", the names of CHOICE key k's values 0, 1, ...; else NULL. */
const char *clcnn__tuning_choice_names(int k);
/* values[k] = t's value of key k, for every key. */
void clcnn__tuning_values(const clcnn_tuning *t, int values[]);
/* "key=value,..." of the keys k with which[k] (which NULL: every key), a
 * CHOICE key's value by its name. */
void clcnn__tuning_spec_of(const int values[], const unsigned char *which, char *out, size_t capacity);

/* No key set and no column named. */
void clcnn__tuning_no_overrides(clcnn_tuning_overrides *o);
/* Parses spec's comma-separated `key=value` items (CLCNN_TUNE's syntax:
 * a number in the key's range or, for a CHOICE key, one of its names;
 * `table=cpu|gpu` only where allow_table) into o. Strict: stops at the
 * first bad item and returns -1 with why. Else each bad item is noted in
 * notes (as CLCNN_TUNE's) and skipped, and it returns 0. Empty items are
 * skipped. notes may be NULL. */
int clcnn__tuning_parse(const char *spec, int allow_table, int strict, clcnn_tuning_overrides *o, char *why,
                        size_t capacity, char *notes, size_t notes_capacity);
/* 0 when every item of spec names a key and a value in its range, and
 * `table=` only where allow_table; else -1, with why in why[0 .. capacity). */
int clcnn__tuning_check_spec(const char *spec, int allow_table, char *why, size_t capacity);
/* *t = the built-in column (gpu_table 0: cpu, 1: gpu) for the device dev,
 * under sources[0 .. n_sources) applied lowest first; then vectors
 * rounded down to a power of two and work-groups capped by the device. */
void clcnn__tuning_compose(const clcnn_device_facts *dev, int gpu_table, const clcnn_tuning_overrides *const sources[],
                           int n_sources, clcnn_tuning *t);
/* The config string of t: "table=cpu|gpu,key=value,..." with every key,
 * a CHOICE key's value by its name. */
void clcnn__tuning_config(const clcnn_tuning *t, int gpu_table, char *out, size_t capacity);

#endif
