/* The per-device tuning database (docs/tuning.md, "The tuning database"):
 * one text file per device, rows of CLCNN_TUNE specs keyed by a layer's
 * exact shape or by its class. A pure module: no OpenCL, no context, no
 * printing, no global state. The environment comes in through a
 * clcnn_tuning_env (clcnn__tuning_env reads it), diagnostics go to a
 * caller's buffer, and the validation of a spec's keys and values is the
 * caller's (the spec parser lives in tuning.c). */
#ifndef CLCNN_TUNING_DB_H
#define CLCNN_TUNING_DB_H

#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"

/* What a file is keyed by: a file written under other values is not applied. */
typedef struct clcnn_tuning_identity {
    char platform[128]; /* CL_PLATFORM_NAME */
    char device[256];   /* CL_DEVICE_NAME */
    char driver[128];   /* CL_DRIVER_VERSION */
    unsigned compute_units;
    uint64_t table_hash; /* clcnn__tuning_table_hash() */
} clcnn_tuning_identity;

typedef struct clcnn_tuning_row {
    char *key, *spec; /* one allocation: spec points into key's block */
    unsigned line;    /* in the file it was read from; 0 when set */
} clcnn_tuning_row;

/* Rows sorted by key (strcmp), unique. A zeroed struct is an empty db. */
typedef struct clcnn_tuning_db {
    clcnn_tuning_identity id;    /* the device's own, whatever file was read */
    unsigned file_compute_units; /* the compute units of the file read */
    char path[1024];             /* the file read, "" when none */
    clcnn_tuning_row *rows;
    size_t count, capacity;
} clcnn_tuning_db;

/* The environment the database looks at; NULL for an unset variable. */
typedef struct clcnn_tuning_env {
    const char *tuning;        /* CLCNN_TUNING: "off" reads no file */
    const char *tuning_dir;    /* CLCNN_TUNING_DIR */
    const char *xdg_data_home; /* XDG_DATA_HOME */
    const char *home;          /* HOME */
} clcnn_tuning_env;

/* Validates a spec's keys and values (CLCNN_TUNE syntax): 0 when good,
 * else nonzero with the reason in why. */
typedef int (*clcnn_tuning_spec_check)(const char *spec, char *why, size_t cap);

typedef enum clcnn_tuning_db_source {
    CLCNN_TUNING_DB_NONE,        /* no file for this device: defaults */
    CLCNN_TUNING_DB_OFF,         /* CLCNN_TUNING=off, or no directory */
    CLCNN_TUNING_DB_EXACT,       /* this device's own file */
    CLCNN_TUNING_DB_OTHER_UNITS, /* same device and driver, other compute units */
    CLCNN_TUNING_DB_REFUSED      /* a damaged file: nothing of it applies */
} clcnn_tuning_db_source;

/* The longest layer key and class key the functions below make. */
#define CLCNN_TUNING_KEY_CAPACITY 384

typedef struct clcnn_tuning_layer_key {
    char exact[CLCNN_TUNING_KEY_CAPACITY]; /* op/dtype/shape/params */
    char class_key[128];                   /* op/dtype[/mode]/class:NAME */
    const char *class_name;                /* a string literal */
} clcnn_tuning_layer_key;

/* FNV-1a over every row of CLCNN_TUNING_KEYS (name, kind, lo, hi) and of
 * CLCNN_TUNING_CHOICES where defined: a file written under another table
 * has another hash and is not applied. */
uint64_t clcnn__tuning_table_hash(void);

/* A device's identity from clcnn_devices' record, with this build's table hash. */
void clcnn__tuning_identity_of(const clcnn_device_info *info, clcnn_tuning_identity *id);

/* The process environment (getenv; the only place this module reads it). */
clcnn_tuning_env clcnn__tuning_env(void);

/* The directory of the files: CLCNN_TUNING_DIR, else
 * $XDG_DATA_HOME/clcnn/tuning, else $HOME/.local/share/clcnn/tuning.
 * 0 on success; -1 with CLCNN_TUNING=off, with no HOME, or when dir is too
 * short (a note in notes says which). Ignores env->tuning when
 * ignore_off (a writer, `clcnn tune`, writes whatever CLCNN_TUNING says). */
int clcnn__tuning_db_dir(const clcnn_tuning_env *env, int ignore_off, char *dir, size_t cap, char *notes,
                         size_t notes_cap);

/* The file name of a device's database (no directory):
 * <device slug>-<16 hex digits>-cu<compute units>.tuning, the hex a hash
 * of platform, device, driver and table hash. 0, or -1 if cap is short. */
int clcnn__tuning_db_file_name(const clcnn_tuning_identity *id, char *name, size_t cap);

/* Reads the device's database into *db (overwritten: pass a zeroed or
 * freed one; free it with clcnn__tuning_db_free whatever the result),
 * which then has this device's identity: the exact file if it
 * exists, else a file for the same platform, device, driver and table with
 * another compute-unit count (the nearest count), with a note. Files for
 * other devices, drivers or tables are ignored with a note; a damaged
 * file is refused whole with a note naming the file, line and problem.
 * check may be NULL (specs then only checked for their syntax). */
clcnn_tuning_db_source clcnn__tuning_db_open(clcnn_tuning_db *db, const clcnn_tuning_identity *id,
                                             const clcnn_tuning_env *env, clcnn_tuning_spec_check check, char *notes,
                                             size_t notes_cap);

/* Reads one file as the database of device id: CLCNN_TUNING_DB_EXACT,
 * _OTHER_UNITS (only when allow_other_units), _REFUSED (damaged), or
 * _NONE (missing, or written for another device, driver or table: a note). */
clcnn_tuning_db_source clcnn__tuning_db_load(clcnn_tuning_db *db, const char *path, const clcnn_tuning_identity *id,
                                             int allow_other_units, clcnn_tuning_spec_check check, char *notes,
                                             size_t notes_cap);

void clcnn__tuning_db_free(clcnn_tuning_db *db);

/* The spec of the row with this key, or NULL. */
const char *clcnn__tuning_db_find(const clcnn_tuning_db *db, const char *key);

/* The exact row's spec and the class row's spec of a layer (either NULL
 * when the db has no such row); apply the class's, then the exact's. */
void clcnn__tuning_db_lookup(const clcnn_tuning_db *db, const clcnn_tuning_layer_key *layer, const char **exact,
                             const char **class_spec);

/* Sets (or replaces) the row of key; spec NULL removes it. 0, or -1 with a
 * message (a bad key or spec, out of memory) and the db unchanged. */
int clcnn__tuning_db_set(clcnn_tuning_db *db, const char *key, const char *spec, clcnn_tuning_spec_check check,
                         char *msg, size_t cap);

/* Writes db as the file of db->id in dir (created with its parents):
 * a temporary file in dir, fsync'ed when sync, renamed over the file, so
 * that a reader sees the old file or the new one. The same rows give the
 * same bytes. path (may be NULL) gets the file written. 0, or -1 with a
 * message. */
int clcnn__tuning_db_write(const clcnn_tuning_db *db, const char *dir, int sync, char *path, size_t path_cap, char *msg,
                           size_t cap);

/* The class of a convolution, the first that applies of: fully_connected,
 * depthwise, grouped, pointwise, dilated, stem, strided, plain. */
const char *clcnn__tuning_conv_class(const size_t a_prev_dims[4], const size_t w_dims[4],
                                     const clcnn_conv_params *params);

/* The class of a pooling: global, small_window, plain. */
const char *clcnn__tuning_pool_class(const size_t a_prev_dims[4], const clcnn_pool_params *params);

/* The keys of a convolution call (op: "conv_forward", "conv_backward",
 * ...; a name of lowercase letters, digits and '_'). 0, or -1 for an op
 * name that is not one. */
int clcnn__tuning_conv_key(clcnn_tuning_layer_key *key, const char *op, clcnn_dtype dtype, const size_t a_prev_dims[4],
                           const size_t w_dims[4], const clcnn_conv_params *params);

/* The keys of a pooling call; the mode is part of both keys. */
int clcnn__tuning_pool_key(clcnn_tuning_layer_key *key, const char *op, clcnn_dtype dtype, const size_t a_prev_dims[4],
                           const clcnn_pool_params *params, clcnn_pool_mode mode);

/* The class key of an exact row's key (as the two functions above make
 * them): 0, or -1 for a key that is no layer's exact key or a short cap. */
int clcnn__tuning_class_key_of(const char *exact, char *class_key, size_t cap);

#endif
