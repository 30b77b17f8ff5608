/* The per-device tuning database: where its files live, which file is the
 * device's, reading one (all or nothing), setting rows, writing one
 * atomically, and the keys of a layer. The format is in docs/tuning.md,
 * "The tuning database". */
#define _POSIX_C_SOURCE 200809L /* opendir */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuning_db.h"
#include "user_files.h"
#include "tuning_table.h"

/* The first line of every file; the number is the format's version. */
#define MAGIC "clcnn-tuning-db 1"
#define LINE_CAPACITY 4096
#define PATH_CAPACITY CLCNN_PATH_CAPACITY
/* Rows a file may hold: far above any suite, low enough that a header
 * with a runaway count is named as damage rather than trusted. */
#define MAX_ROWS 1000000UL
/* The class "stem": a first layer over an image's few channels (RGB,
 * RGBA, grey). A fixed definition, so that a class row keeps its layers
 * whatever the tuning. */
#define STEM_MAX_CHANNELS 4
/* The class "small_window": the windows pool.cl unrolls. */
#define SMALL_POOL_WINDOW 4

/* A string's FNV-1a, from h. */
static uint64_t fnv(uint64_t h, const char *s)
{
    return clcnn__fnv(h, s, strlen(s));
}

uint64_t clcnn__tuning_table_hash(void)
{
    uint64_t h = CLCNN_FNV_OFFSET;
    char range[64];
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc)                                             \
    snprintf(range, sizeof range, ":%lld:%lld;", (long long)(lo), (long long)(hi));                                    \
    h = fnv(fnv(fnv(fnv(h, #name), ":"), #kind), range);
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
#ifdef CLCNN_TUNING_CHOICES
#define CLCNN_X(key, names) h = fnv(fnv(fnv(fnv(h, "choices:"), #key), ":"), names ";");
    CLCNN_TUNING_CHOICES(CLCNN_X)
#undef CLCNN_X
#endif
    return h;
}

void clcnn__tuning_identity_of(const clcnn_device_info *info, clcnn_tuning_identity *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->platform, sizeof id->platform, "%s", info->platform);
    snprintf(id->device, sizeof id->device, "%s", info->name);
    snprintf(id->driver, sizeof id->driver, "%s", info->driver_version);
    id->compute_units = info->compute_units;
    id->table_hash = clcnn__tuning_table_hash();
}

clcnn_tuning_env clcnn__tuning_env(void)
{
    const clcnn_tuning_env env = {getenv("CLCNN_TUNING"), getenv("CLCNN_TUNING_DIR"), getenv("XDG_DATA_HOME"),
                                  getenv("HOME")};
    return env;
}

int clcnn__tuning_db_dir(const clcnn_tuning_env *env, int ignore_off, char *dir, size_t cap, char *notes,
                         size_t notes_cap)
{
    if (!ignore_off && env->tuning && strcmp(env->tuning, "off") == 0) {
        clcnn__note(notes, notes_cap, "CLCNN_TUNING=off: no tuning database is read\n");
        return -1;
    }
    if (!(env->tuning_dir && env->tuning_dir[0]) && !(env->xdg_data_home && env->xdg_data_home[0] == '/') &&
        !(env->home && env->home[0])) {
        clcnn__note(notes, notes_cap,
                    "none of CLCNN_TUNING_DIR, XDG_DATA_HOME, HOME is set: no tuning database is read\n");
        return -1;
    }
    if (clcnn__user_dir(env->tuning_dir, env->xdg_data_home, env->home, "clcnn/tuning", ".local/share/clcnn/tuning", dir,
                        cap)) {
        clcnn__note(notes, notes_cap,
                    "the tuning directory's path is longer than %zu characters: no tuning database\n", cap - 1);
        return -1;
    }
    return 0;
}

/* A header line holds one line of text: control characters become '?' and
 * trailing blanks go, in the device's identity and in what a file says,
 * so that the two compare alike. */
static void clean_text(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; src[n] && n < cap - 1; n++)
        dst[n] = (unsigned char)src[n] < 0x20 || src[n] == 0x7f ? '?' : src[n];
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

static void clean_identity(const clcnn_tuning_identity *id, clcnn_tuning_identity *out)
{
    char platform[sizeof id->platform], device[sizeof id->device], driver[sizeof id->driver];
    /* The struct's strings may lack their terminator: copy within bounds. */
    memcpy(platform, id->platform, sizeof platform);
    memcpy(device, id->device, sizeof device);
    memcpy(driver, id->driver, sizeof driver);
    platform[sizeof platform - 1] = device[sizeof device - 1] = driver[sizeof driver - 1] = '\0';
    *out = *id;
    clean_text(out->platform, sizeof out->platform, platform);
    clean_text(out->device, sizeof out->device, device);
    clean_text(out->driver, sizeof out->driver, driver);
}

/* The hash in a file name: everything of the identity but the compute
 * units, so that the files of one device and driver differ in "-cuN" alone. */
static uint64_t identity_hash(const clcnn_tuning_identity *id)
{
    char table[17];
    snprintf(table, sizeof table, "%016llx", (unsigned long long)id->table_hash);
    return fnv(fnv(fnv(fnv(fnv(fnv(fnv(CLCNN_FNV_OFFSET, id->platform), "\n"), id->device), "\n"), id->driver), "\n"), table);
}

int clcnn__tuning_db_file_name(const clcnn_tuning_identity *id, char *name, size_t cap)
{
    clcnn_tuning_identity c;
    clean_identity(id, &c);
    char slug[49];
    size_t n = 0;
    int gap = 0;
    for (const char *s = c.device; *s && n < sizeof slug - 2; s++) {
        char ch = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        if ((ch < 'a' || ch > 'z') && (ch < '0' || ch > '9')) {
            gap = 1;
            continue;
        }
        if (gap && n > 0)
            slug[n++] = '-';
        slug[n++] = ch;
        gap = 0;
    }
    slug[n] = '\0';
    int w = snprintf(name, cap, "%s-%016llx-cu%u.tuning", n ? slug : "device", (unsigned long long)identity_hash(&c),
                     c.compute_units);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

/* ---- rows ---- */

/* Keys are what clcnn__tuning_conv_key and _pool_key make: lowercase
 * letters, digits and _ / : . - (a '-' from a negative number only in a
 * key no valid layer has). */
static int key_problem(const char *key, char *why, size_t cap)
{
    if (key[0] == '\0' || strchr(key, '/') == NULL) {
        snprintf(why, cap, "'%.80s' is not a layer key (op/dtype/...)", key);
        return -1;
    }
    for (const char *s = key; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr("_/:.-", *s))) {
            snprintf(why, cap, "the key '%.80s' has the character '%c'; keys have a-z 0-9 _ / : . -", key, *s);
            return -1;
        }
    return 0;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int value_char(char c)
{
    return name_char(c) || (c >= 'A' && c <= 'Z') || (c != '\0' && strchr("|.+-", c) != NULL);
}

/* CLCNN_TUNE's syntax, key=value[,key=value]..., without `table=` (the
 * column is the whole context's, not a layer's); then the caller's check
 * of the keys and values. */
static int spec_problem(const char *spec, clcnn_tuning_spec_check check, char *why, size_t cap)
{
    const char *s = spec;
    do {
        const char *item = s;
        while (name_char(*s))
            s++;
        size_t name_length = (size_t)(s - item);
        if (name_length == 0 || *s != '=' || !value_char(s[1])) {
            snprintf(why, cap, "'%.80s' is not key=value[,key=value]...", spec);
            return -1;
        }
        if (name_length == 5 && strncmp(item, "table", 5) == 0) {
            snprintf(why, cap, "table= picks the defaults of the whole context; a row cannot set it");
            return -1;
        }
        for (s++; value_char(*s); s++)
            ;
    } while (*s == ',' && *s++); /* past the comma: an item must follow it */
    if (*s != '\0') {
        snprintf(why, cap, "'%.80s' is not key=value[,key=value]...", spec);
        return -1;
    }
    char reason[256] = "";
    if (check && check(spec, reason, sizeof reason) != 0) {
        snprintf(why, cap, "%s", reason[0] ? reason : "the spec is refused");
        return -1;
    }
    return 0;
}

static int row_compare(const void *a, const void *b)
{
    return strcmp(((const clcnn_tuning_row *)a)->key, ((const clcnn_tuning_row *)b)->key);
}

static clcnn_tuning_row *find_row(const clcnn_tuning_db *db, const char *key)
{
    if (db->count == 0)
        return NULL;
    const clcnn_tuning_row probe = {(char *)key, NULL, 0};
    return bsearch(&probe, db->rows, db->count, sizeof *db->rows, row_compare);
}

/* A row's key and spec in one block. */
static char *row_block(const char *key, const char *spec, char **spec_at)
{
    size_t k = strlen(key) + 1, s = strlen(spec) + 1;
    char *block = malloc(k + s);
    if (block) {
        memcpy(block, key, k);
        memcpy(block + k, spec, s);
        *spec_at = block + k;
    }
    return block;
}

/* Inserts a row at index `at` (the caller keeps the order). */
static int insert_row(clcnn_tuning_db *db, size_t at, const char *key, const char *spec, unsigned line)
{
    if (db->count == db->capacity) {
        size_t capacity = db->capacity ? 2 * db->capacity : 16;
        clcnn_tuning_row *rows = realloc(db->rows, capacity * sizeof *rows);
        if (rows == NULL)
            return -1;
        db->rows = rows;
        db->capacity = capacity;
    }
    char *spec_at;
    char *block = row_block(key, spec, &spec_at);
    if (block == NULL)
        return -1;
    memmove(db->rows + at + 1, db->rows + at, (db->count - at) * sizeof *db->rows);
    db->rows[at] = (clcnn_tuning_row){block, spec_at, line};
    db->count++;
    return 0;
}

void clcnn__tuning_db_free(clcnn_tuning_db *db)
{
    for (size_t r = 0; r < db->count; r++)
        free(db->rows[r].key);
    free(db->rows);
    db->rows = NULL;
    db->count = db->capacity = 0;
    db->path[0] = '\0';
}

const char *clcnn__tuning_db_find(const clcnn_tuning_db *db, const char *key)
{
    const clcnn_tuning_row *row = find_row(db, key);
    return row ? row->spec : NULL;
}

void clcnn__tuning_db_lookup(const clcnn_tuning_db *db, const clcnn_tuning_layer_key *layer, const char **exact,
                             const char **class_spec)
{
    *exact = clcnn__tuning_db_find(db, layer->exact);
    *class_spec = clcnn__tuning_db_find(db, layer->class_key);
}

int clcnn__tuning_db_set(clcnn_tuning_db *db, const char *key, const char *spec, clcnn_tuning_spec_check check,
                         char *msg, size_t cap)
{
    char why[512];
    if (msg && cap)
        msg[0] = '\0';
    if (key_problem(key, why, sizeof why) || (spec && spec_problem(spec, check, why, sizeof why))) {
        clcnn__note(msg, cap, "tuning database row %s: %s", key, why);
        return -1;
    }
    clcnn_tuning_row *row = find_row(db, key);
    if (row && spec == NULL) {
        free(row->key);
        size_t at = (size_t)(row - db->rows);
        memmove(row, row + 1, (db->count - at - 1) * sizeof *row);
        db->count--;
        return 0;
    }
    if (row) {
        char *spec_at;
        char *block = row_block(key, spec, &spec_at);
        if (block == NULL) {
            clcnn__note(msg, cap, "tuning database row %s: out of memory", key);
            return -1;
        }
        free(row->key);
        *row = (clcnn_tuning_row){block, spec_at, 0};
        return 0;
    }
    if (spec == NULL)
        return 0;
    size_t at = 0;
    while (at < db->count && strcmp(db->rows[at].key, key) < 0)
        at++;
    if (insert_row(db, at, key, spec, 0)) {
        clcnn__note(msg, cap, "tuning database row %s: out of memory", key);
        return -1;
    }
    return 0;
}

/* ---- reading a file ---- */

typedef struct reader {
    FILE *fp;
    unsigned line;
    char text[LINE_CAPACITY];
    char why[512]; /* the problem, when a step returns -1 */
} reader;

/* The next line that is not blank or a comment, without its newline: 1, or
 * 0 at the end of the file, or -1 (a line cut short: the file is truncated). */
static int next_line(reader *r)
{
    for (;;) {
        if (fgets(r->text, sizeof r->text, r->fp) == NULL) {
            if (!ferror(r->fp))
                return 0;
            snprintf(r->why, sizeof r->why, "cannot be read after line %u", r->line);
            return -1;
        }
        r->line++;
        size_t n = strlen(r->text);
        if (n == 0 || r->text[n - 1] != '\n') {
            if (n + 1 == sizeof r->text)
                snprintf(r->why, sizeof r->why, "line %u: longer than %d characters", r->line, LINE_CAPACITY - 2);
            else
                snprintf(r->why, sizeof r->why, "line %u: ends without a newline (the file is truncated)", r->line);
            return -1;
        }
        r->text[n - 1] = '\0';
        if (r->text[0] != '\0' && r->text[0] != '#')
            return 1;
    }
}

/* Reads the header line `name value` into value. */
static int header_field(reader *r, const char *name, char *value, size_t cap)
{
    int got = next_line(r);
    if (got == 0)
        snprintf(r->why, sizeof r->why, "ends at line %u, before the header's '%s' line (the file is truncated)",
                 r->line, name);
    if (got <= 0)
        return -1;
    size_t n = strlen(name);
    if (strncmp(r->text, name, n) != 0 || r->text[n] != ' ') {
        snprintf(r->why, sizeof r->why, "line %u: the header's next line is '%s ...', not '%.80s'", r->line, name,
                 r->text);
        return -1;
    }
    if (strlen(r->text + n + 1) >= cap) {
        snprintf(r->why, sizeof r->why, "line %u: %s is longer than %zu characters", r->line, name, cap - 1);
        return -1;
    }
    clean_text(value, cap, r->text + n + 1);
    return 0;
}

/* An unsigned number of the given base, the whole string, at most max. */
static int parse_unsigned(const char *s, int base, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        int digit = *s >= '0' && *s <= '9' ? *s - '0' : base == 16 && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
        if (digit < 0 || v > (max - (unsigned long long)digit) / (unsigned long long)base)
            return -1;
        v = v * (unsigned long long)base + (unsigned long long)digit;
    }
    *out = v;
    return 0;
}

static int read_header(reader *r, clcnn_tuning_identity *id, unsigned long long *rows)
{
    int got = next_line(r);
    if (got == 0)
        snprintf(r->why, sizeof r->why, "has no header (the file is truncated)");
    if (got <= 0 || strcmp(r->text, MAGIC) != 0) {
        if (got > 0)
            snprintf(r->why, sizeof r->why, "line %u: not a clcnn tuning database (its first line is not '" MAGIC "')",
                     r->line);
        return -1;
    }
    char units[32], hash[32], count[32];
    if (header_field(r, "platform", id->platform, sizeof id->platform) ||
        header_field(r, "device", id->device, sizeof id->device) ||
        header_field(r, "driver", id->driver, sizeof id->driver) ||
        header_field(r, "compute_units", units, sizeof units))
        return -1;
    unsigned long long v;
    if (parse_unsigned(units, 10, 0xffffffffULL, &v)) {
        snprintf(r->why, sizeof r->why, "line %u: compute_units '%s' is not a count", r->line, units);
        return -1;
    }
    id->compute_units = (unsigned)v;
    if (header_field(r, "table_hash", hash, sizeof hash))
        return -1;
    if (strlen(hash) != 16 || parse_unsigned(hash, 16, ~0ULL, &v)) {
        snprintf(r->why, sizeof r->why, "line %u: table_hash '%s' is not 16 lowercase hex digits", r->line, hash);
        return -1;
    }
    id->table_hash = v;
    if (header_field(r, "rows", count, sizeof count))
        return -1;
    if (parse_unsigned(count, 10, MAX_ROWS, rows)) {
        snprintf(r->why, sizeof r->why, "line %u: rows '%s' is not a count up to %lu", r->line, count, MAX_ROWS);
        return -1;
    }
    return 0;
}

/* Two rows with one key: the file says two things about one layer. */
static int duplicate_rows(reader *r, const clcnn_tuning_db *db)
{
    for (size_t i = 1; i < db->count; i++)
        if (strcmp(db->rows[i - 1].key, db->rows[i].key) == 0) {
            unsigned a = db->rows[i - 1].line, b = db->rows[i].line;
            snprintf(r->why, sizeof r->why, "lines %u and %u both set %.200s", a < b ? a : b, a < b ? b : a,
                     db->rows[i].key);
            return -1;
        }
    return 0;
}

/* The rows after the header, up to `end`, sorted by key; the count must
 * be the header's, and nothing but comments may follow `end`. */
static int read_rows(reader *r, unsigned long long expected, clcnn_tuning_spec_check check, clcnn_tuning_db *db)
{
    for (;;) {
        int got = next_line(r);
        if (got == 0)
            snprintf(r->why, sizeof r->why, "ends at line %u without its 'end' line (the file is truncated)", r->line);
        if (got <= 0)
            return -1;
        if (strcmp(r->text, "end") == 0)
            break;
        char *spec = strchr(r->text, ' '), why[400];
        if (spec == NULL) {
            snprintf(r->why, sizeof r->why, "line %u: a row is 'KEY SPEC'; '%.80s' has no space", r->line, r->text);
            return -1;
        }
        *spec++ = '\0';
        if (key_problem(r->text, why, sizeof why) || spec_problem(spec, check, why, sizeof why)) {
            snprintf(r->why, sizeof r->why, "line %u: %s", r->line, why);
            return -1;
        }
        if (db->count >= expected || insert_row(db, db->count, r->text, spec, r->line)) {
            snprintf(r->why, sizeof r->why, "line %u: %s", r->line,
                     db->count >= expected ? "more rows than the header's count" : "out of memory");
            return -1;
        }
    }
    if (db->count != expected) {
        snprintf(r->why, sizeof r->why, "line %u: the header says %llu rows, the file has %zu", r->line, expected,
                 db->count);
        return -1;
    }
    unsigned end = r->line;
    int got = next_line(r);
    if (got > 0)
        snprintf(r->why, sizeof r->why, "line %u: text after the 'end' of line %u", r->line, end);
    if (got != 0)
        return -1;
    if (db->count > 1)
        qsort(db->rows, db->count, sizeof *db->rows, row_compare);
    return duplicate_rows(r, db);
}

/* What in a file's identity is not the device's (compute units aside when
 * allowed), in words; "" when nothing. */
static void identity_mismatch(const clcnn_tuning_identity *file, const clcnn_tuning_identity *own,
                              int allow_other_units, char *what, size_t cap)
{
    what[0] = '\0';
    if (strcmp(file->platform, own->platform) != 0)
        snprintf(what, cap, "platform '%s' (this one is '%s')", file->platform, own->platform);
    else if (strcmp(file->device, own->device) != 0)
        snprintf(what, cap, "device '%s' (this one is '%s')", file->device, own->device);
    else if (strcmp(file->driver, own->driver) != 0)
        snprintf(what, cap, "driver '%s' (this one is '%s')", file->driver, own->driver);
    else if (file->table_hash != own->table_hash)
        snprintf(what, cap, "tuning table %016llx (this build's is %016llx)", (unsigned long long)file->table_hash,
                 (unsigned long long)own->table_hash);
    else if (!allow_other_units && file->compute_units != own->compute_units)
        snprintf(what, cap, "%u compute units (this device has %u)", file->compute_units, own->compute_units);
}

/* Opens path and reads its header: 1, or 0 when there is no such file,
 * or -1 (r->why says why) with the file closed. */
static int open_file(reader *r, const char *path, clcnn_tuning_identity *id, unsigned long long *rows)
{
    memset(id, 0, sizeof *id);
    r->line = 0;
    r->fp = fopen(path, "r");
    if (r->fp == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(r->why, sizeof r->why, "cannot be opened (%s)", strerror(errno));
        return -1;
    }
    if (read_header(r, id, rows)) {
        fclose(r->fp);
        return -1;
    }
    return 1;
}

clcnn_tuning_db_source clcnn__tuning_db_load(clcnn_tuning_db *db, const char *path, const clcnn_tuning_identity *id,
                                             int allow_other_units, clcnn_tuning_spec_check check, char *notes,
                                             size_t notes_cap)
{
    memset(db, 0, sizeof *db);
    clean_identity(id, &db->id);
    reader *r = malloc(sizeof *r);
    if (r == NULL) {
        clcnn__note(notes, notes_cap, "tuning database %s: out of memory; not read\n", path);
        return CLCNN_TUNING_DB_REFUSED;
    }
    clcnn_tuning_identity file;
    unsigned long long rows;
    int opened = open_file(r, path, &file, &rows);
    clcnn_tuning_db_source source = CLCNN_TUNING_DB_REFUSED;
    char what[1024];
    if (opened > 0) {
        identity_mismatch(&file, &db->id, allow_other_units, what, sizeof what);
        if (what[0]) {
            clcnn__note(notes, notes_cap, "tuning database %s: written for %s: ignored\n", path, what);
            source = CLCNN_TUNING_DB_NONE;
        } else if (read_rows(r, rows, check, db) == 0) {
            source = file.compute_units == db->id.compute_units ? CLCNN_TUNING_DB_EXACT : CLCNN_TUNING_DB_OTHER_UNITS;
            db->file_compute_units = file.compute_units;
            snprintf(db->path, sizeof db->path, "%s", path);
        }
        fclose(r->fp);
    } else if (opened == 0) {
        source = CLCNN_TUNING_DB_NONE;
    }
    if (source == CLCNN_TUNING_DB_REFUSED) {
        clcnn__note(notes, notes_cap, "tuning database %s: %s; refused, nothing of it applies\n", path, r->why);
        clcnn__tuning_db_free(db);
    }
    free(r);
    return source;
}

/* ---- which file is the device's ---- */

static int name_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.tuning files of dir but `own` (not those starting with '.', which
 * are a writer's temporary files), sorted, so that the notes and the
 * choice between equals do not depend on the directory's order. */
static char **list_files(const char *dir, const char *own, size_t *count)
{
    *count = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return NULL;
    char **names = NULL;
    size_t capacity = 0;
    const size_t suffix = strlen(".tuning");
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t n = strlen(e->d_name);
        if (e->d_name[0] == '.' || n <= suffix || strcmp(e->d_name + n - suffix, ".tuning") != 0 ||
            strcmp(e->d_name, own) == 0)
            continue;
        if (*count == capacity) {
            capacity = capacity ? 2 * capacity : 16;
            char **grown = realloc(names, capacity * sizeof *names);
            if (grown == NULL)
                break;
            names = grown;
        }
        if ((names[*count] = malloc(n + 1)) == NULL)
            break;
        memcpy(names[(*count)++], e->d_name, n + 1);
    }
    closedir(d);
    if (*count > 1)
        qsort(names, *count, sizeof *names, name_compare);
    return names;
}

/* Among the other files of dir, the one for this platform, device, driver
 * and table whose compute-unit count is nearest the device's (the first
 * by name among equals); notes for the files of other devices. */
static int nearest_other_units(const char *dir, const char *own, const clcnn_tuning_identity *id, char *best,
                               size_t best_cap, char *notes, size_t notes_cap)
{
    size_t count;
    char **names = list_files(dir, own, &count);
    reader *r = malloc(sizeof *r);
    unsigned long long best_distance = ~0ULL;
    for (size_t i = 0; r && i < count; i++) {
        char path[PATH_CAPACITY], what[1024];
        clcnn_tuning_identity file;
        unsigned long long rows;
        if (clcnn__join_path(path, sizeof path, dir, names[i]))
            continue;
        int opened = open_file(r, path, &file, &rows);
        if (opened < 0)
            clcnn__note(notes, notes_cap, "tuning database %s: %s; ignored\n", path, r->why);
        if (opened <= 0)
            continue;
        fclose(r->fp);
        identity_mismatch(&file, id, 1, what, sizeof what);
        unsigned long long distance = file.compute_units > id->compute_units ? file.compute_units - id->compute_units
                                                                             : id->compute_units - file.compute_units;
        if (what[0])
            clcnn__note(notes, notes_cap, "tuning database %s: written for %s: ignored\n", path, what);
        else if (distance < best_distance && clcnn__join_path(best, best_cap, dir, names[i]) == 0)
            best_distance = distance;
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    free(r);
    return best_distance == ~0ULL ? -1 : 0;
}

clcnn_tuning_db_source clcnn__tuning_db_open(clcnn_tuning_db *db, const clcnn_tuning_identity *id,
                                             const clcnn_tuning_env *env, clcnn_tuning_spec_check check, char *notes,
                                             size_t notes_cap)
{
    memset(db, 0, sizeof *db);
    clean_identity(id, &db->id);
    char dir[PATH_CAPACITY], name[256], path[PATH_CAPACITY];
    if (clcnn__tuning_db_dir(env, 0, dir, sizeof dir, notes, notes_cap))
        return CLCNN_TUNING_DB_OFF;
    if (clcnn__tuning_db_file_name(id, name, sizeof name) || clcnn__join_path(path, sizeof path, dir, name)) {
        clcnn__note(notes, notes_cap, "the tuning database's path under %s is too long: no tuning database\n", dir);
        return CLCNN_TUNING_DB_OFF;
    }
    clcnn_tuning_db_source source = clcnn__tuning_db_load(db, path, id, 0, check, notes, notes_cap);
    if (source != CLCNN_TUNING_DB_NONE)
        return source;
    if (nearest_other_units(dir, name, &db->id, path, sizeof path, notes, notes_cap))
        return CLCNN_TUNING_DB_NONE;
    source = clcnn__tuning_db_load(db, path, id, 1, check, notes, notes_cap);
    if (source == CLCNN_TUNING_DB_OTHER_UNITS)
        clcnn__note(notes, notes_cap,
             "tuning database %s: written for %u compute units, this device has %u; used because there is no "
             "file for %u (%s)\n",
             path, db->file_compute_units, db->id.compute_units, db->id.compute_units, name);
    return source;
}

/* ---- writing ---- */

/* The file's text: the same rows give the same bytes (no date, no host). */
static int write_rows(FILE *fp, const clcnn_tuning_db *db)
{
    clcnn_tuning_identity id;
    clean_identity(&db->id, &id);
    fprintf(fp, "# clcnn tuning database: CLCNN_TUNE specs per layer, over the built-in defaults.\n"
                "# docs/tuning.md, \"The tuning database\". A row is KEY SPEC; rows sorted by key.\n");
    fprintf(fp, "%s\nplatform %s\ndevice %s\ndriver %s\ncompute_units %u\ntable_hash %016llx\nrows %zu\n", MAGIC,
            id.platform, id.device, id.driver, id.compute_units, (unsigned long long)id.table_hash, db->count);
    for (size_t r = 0; r < db->count; r++)
        fprintf(fp, "%s %s\n", db->rows[r].key, db->rows[r].spec);
    fprintf(fp, "end\n");
    return ferror(fp) ? -1 : 0;
}

static int write_rows_of(FILE *fp, const void *db)
{
    return write_rows(fp, db);
}

int clcnn__tuning_db_write(const clcnn_tuning_db *db, const char *dir, int sync, char *path, size_t path_cap, char *msg,
                           size_t cap)
{
    if (msg && cap)
        msg[0] = '\0';
    char name[256];
    if (clcnn__tuning_db_file_name(&db->id, name, sizeof name)) {
        clcnn__note(msg, cap, "tuning database under %s: the path is too long", dir);
        return -1;
    }
    if (clcnn__make_dirs(dir, "tuning directory", msg, cap))
        return -1;
    return clcnn__write_atomic(dir, name, write_rows_of, db, sync, path, path_cap, msg, cap);
}

/* ---- the keys of a layer ---- */

const char *clcnn__tuning_conv_class(const size_t a_prev_dims[4], const size_t w_dims[4],
                                     const clcnn_conv_params *params)
{
    const clcnn_conv_params *p = params;
    const int dense = p->dilation_h == 1 && p->dilation_w == 1;
    const int unit_stride = p->stride_h == 1 && p->stride_w == 1;
    const int unpadded = p->pad_top == 0 && p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0;
    if (p->groups == 1 && w_dims[0] == a_prev_dims[1] && w_dims[1] == a_prev_dims[2] && dense && unpadded)
        return "fully_connected";
    if (p->groups > 1 && (size_t)p->groups == a_prev_dims[3])
        return "depthwise";
    if (p->groups > 1)
        return "grouped";
    if (w_dims[0] == 1 && w_dims[1] == 1 && unit_stride && unpadded)
        return "pointwise";
    if (!dense)
        return "dilated";
    if (a_prev_dims[3] <= STEM_MAX_CHANNELS)
        return "stem";
    return unit_stride ? "plain" : "strided";
}

const char *clcnn__tuning_pool_class(const size_t a_prev_dims[4], const clcnn_pool_params *params)
{
    const clcnn_pool_params *p = params;
    /* One output pixel per image: the window, wherever it starts, meets the
     * padded input's end before a second stride. */
    const long long rows_left = (long long)a_prev_dims[1] + p->pad_top + p->pad_bottom - p->f_h;
    const long long cols_left = (long long)a_prev_dims[2] + p->pad_left + p->pad_right - p->f_w;
    if (rows_left >= 0 && cols_left >= 0 && rows_left < p->stride_h && cols_left < p->stride_w)
        return "global";
    if (p->f_h <= SMALL_POOL_WINDOW && p->f_w <= SMALL_POOL_WINDOW && p->stride_h <= SMALL_POOL_WINDOW &&
        p->stride_w <= SMALL_POOL_WINDOW)
        return "small_window";
    return "plain";
}

/* The op and dtype that start both keys; -1 for an op name that is not
 * lowercase letters, digits and '_'. */
static int key_start(char *start, size_t cap, const char *op, clcnn_dtype dtype)
{
    size_t n = strlen(op);
    if (n == 0 || n > 48)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!name_char(op[i]))
            return -1;
    switch (dtype) {
    case CLCNN_FLOAT32: snprintf(start, cap, "%s/f32", op); break;
    case CLCNN_FLOAT64: snprintf(start, cap, "%s/f64", op); break;
    case CLCNN_FLOAT16: snprintf(start, cap, "%s/f16", op); break;
    case CLCNN_BFLOAT16: snprintf(start, cap, "%s/bf16", op); break;
    default: snprintf(start, cap, "%s/dtype%d", op, (int)dtype); break;
    }
    return 0;
}

static int fits(int n, size_t cap)
{
    return n >= 0 && (size_t)n < cap;
}

int clcnn__tuning_conv_key(clcnn_tuning_layer_key *key, const char *op, clcnn_dtype dtype, const size_t a_prev_dims[4],
                           const size_t w_dims[4], const clcnn_conv_params *params)
{
    const size_t *a = a_prev_dims, *w = w_dims;
    const clcnn_conv_params *p = params;
    char start[64];
    if (key_start(start, sizeof start, op, dtype))
        return -1;
    key->class_name = clcnn__tuning_conv_class(a, w, p);
    int n =
        snprintf(key->exact, sizeof key->exact, "%s/a%zux%zux%zux%zu/w%zux%zux%zux%zu/s%dx%d/p%dx%dx%dx%d/d%dx%d/g%d",
                 start, a[0], a[1], a[2], a[3], w[0], w[1], w[2], w[3], p->stride_h, p->stride_w, p->pad_top,
                 p->pad_bottom, p->pad_left, p->pad_right, p->dilation_h, p->dilation_w, p->groups);
    int c = snprintf(key->class_key, sizeof key->class_key, "%s/class:%s", start, key->class_name);
    return fits(n, sizeof key->exact) && fits(c, sizeof key->class_key) ? 0 : -1;
}

int clcnn__tuning_pool_key(clcnn_tuning_layer_key *key, const char *op, clcnn_dtype dtype, const size_t a_prev_dims[4],
                           const clcnn_pool_params *params, clcnn_pool_mode mode)
{
    const size_t *a = a_prev_dims;
    const clcnn_pool_params *p = params;
    char start[64], with_mode[96];
    if (key_start(start, sizeof start, op, dtype))
        return -1;
    snprintf(with_mode, sizeof with_mode, "%s/%s", start, mode == CLCNN_POOL_MAX ? "max" : "average");
    key->class_name = clcnn__tuning_pool_class(a, p);
    int n = snprintf(key->exact, sizeof key->exact, "%s/a%zux%zux%zux%zu/f%dx%d/s%dx%d/p%dx%dx%dx%d/i%d", with_mode,
                     a[0], a[1], a[2], a[3], p->f_h, p->f_w, p->stride_h, p->stride_w, p->pad_top, p->pad_bottom,
                     p->pad_left, p->pad_right, p->count_include_pad);
    int c = snprintf(key->class_key, sizeof key->class_key, "%s/class:%s", with_mode, key->class_name);
    return fits(n, sizeof key->exact) && fits(c, sizeof key->class_key) ? 0 : -1;
}

int clcnn__tuning_class_key_of(const char *exact, char *class_key, size_t cap)
{
    char op[64], dtype[16], mode[16];
    size_t a[4], w[4];
    clcnn_conv_params c;
    clcnn_pool_params p;
    int end = 0;
    if (sscanf(exact, "%63[a-z0-9_]/%15[a-z0-9]/a%zux%zux%zux%zu/w%zux%zux%zux%zu/s%dx%d/p%dx%dx%dx%d/d%dx%d/g%d%n", op,
               dtype, &a[0], &a[1], &a[2], &a[3], &w[0], &w[1], &w[2], &w[3], &c.stride_h, &c.stride_w, &c.pad_top,
               &c.pad_bottom, &c.pad_left, &c.pad_right, &c.dilation_h, &c.dilation_w, &c.groups, &end) == 19 &&
        exact[end] == '\0')
        return fits(snprintf(class_key, cap, "%s/%s/class:%s", op, dtype, clcnn__tuning_conv_class(a, w, &c)), cap)
                   ? 0
                   : -1;
    end = 0;
    if (sscanf(exact, "%63[a-z0-9_]/%15[a-z0-9]/%15[a-z]/a%zux%zux%zux%zu/f%dx%d/s%dx%d/p%dx%dx%dx%d/i%d%n", op, dtype,
               mode, &a[0], &a[1], &a[2], &a[3], &p.f_h, &p.f_w, &p.stride_h, &p.stride_w, &p.pad_top, &p.pad_bottom,
               &p.pad_left, &p.pad_right, &p.count_include_pad, &end) == 16 &&
        exact[end] == '\0')
        return fits(snprintf(class_key, cap, "%s/%s/%s/class:%s", op, dtype, mode, clcnn__tuning_pool_class(a, &p)),
                    cap)
                   ? 0
                   : -1;
    return -1;
}
