/* The tuning database (host/runtime/tuning_db.c) without a device: files
 * written and read back in a temporary directory, the exact row and the
 * class row, the same bytes for the same rows, damaged and foreign files
 * refused whole, the compute-unit fallback, CLCNN_TUNING=off and
 * CLCNN_TUNING_DIR. Specs are checked against tuning_table.h's names and
 * ranges, as tuning.c checks CLCNN_TUNE. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tuning_db.h"
#include "tuning_table.h"
#include "test_expect.h"


#define CHECK_NOTE(notes, text)                                                                                        \
    do {                                                                                                               \
        if (strstr((notes), (text)) == NULL) {                                                                         \
            fprintf(stderr, "%s:%d: %s: the notes lack '%s':\n%s\n", __FILE__, __LINE__, __func__, (text), (notes));   \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

static char root[256];

/* ---- a checker of specs from the table: known names, integers in range ---- */

static const struct {
    const char *name;
    long lo, hi;
} ranges[] = {
#define CLCNN_X(type, name, kind, lo, hi, cpu, gpu, cpu_doc, gpu_doc, doc) {#name, lo, hi},
    CLCNN_TUNING_KEYS(CLCNN_X)
#undef CLCNN_X
};

static int check_spec(const char *spec, char *why, size_t cap)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", spec);
    for (char *save, *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        *eq = '\0';
        size_t k = 0;
        while (k < sizeof ranges / sizeof ranges[0] && strcmp(ranges[k].name, item) != 0)
            k++;
        if (k == sizeof ranges / sizeof ranges[0]) {
            snprintf(why, cap, "unknown key %s", item);
            return -1;
        }
        char *end;
        long v = strtol(eq + 1, &end, 10);
        if (*end != '\0' || v < ranges[k].lo || v > ranges[k].hi) {
            snprintf(why, cap, "%s=%s is out of range [%ld, %ld]", item, eq + 1, ranges[k].lo, ranges[k].hi);
            return -1;
        }
    }
    return 0;
}

/* ---- helpers ---- */

static clcnn_tuning_identity identity(unsigned compute_units)
{
    clcnn_tuning_identity id = {"Portable Computing Language", "cpu-haswell-AMD EPYC 9R14 96-Core Processor",
                                "6.0+debian", compute_units, clcnn__tuning_table_hash()};
    return id;
}

static void path_in(char *path, size_t cap, const char *dir)
{
    snprintf(path, cap, "%s/%s", root, dir);
}

static clcnn_tuning_env env_dir(const char *dir)
{
    static char path[512]; /* one at a time: the test's own state, not the library's */
    path_in(path, sizeof path, dir);
    clcnn_tuning_env env = {NULL, path, NULL, NULL};
    return env;
}

/* Opens the database of dir as the device with that many compute units. */
static clcnn_tuning_db_source open_as(const char *dir, unsigned compute_units, clcnn_tuning_db *db, char *notes,
                                      size_t cap)
{
    notes[0] = '\0';
    clcnn_tuning_env env = env_dir(dir);
    clcnn_tuning_identity id = identity(compute_units);
    return clcnn__tuning_db_open(db, &id, &env, check_spec, notes, cap);
}

static char *read_text(const char *path, size_t *length)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    char *text = calloc(1, 1 << 16);
    *length = fread(text, 1, (1 << 16) - 1, fp);
    fclose(fp);
    return text;
}

static void write_text(const char *path, const char *text, size_t length)
{
    FILE *fp = fopen(path, "wb");
    fwrite(text, 1, length, fp);
    fclose(fp);
}

/* A database of device id in dir with the rows key, spec, key, spec, ...
 * (NULL ends); the file's path in path. */
static void write_db(const char *dir, clcnn_tuning_identity id, char *path, size_t cap, const char *const *rows)
{
    clcnn_tuning_db db = {0};
    db.id = id;
    char msg[512];
    for (; rows && rows[0]; rows += 2)
        CHECK(clcnn__tuning_db_set(&db, rows[0], rows[1], check_spec, msg, sizeof msg) == 0);
    char full[512];
    path_in(full, sizeof full, dir);
    CHECK(clcnn__tuning_db_write(&db, full, 0, path, cap, msg, sizeof msg) == 0);
    clcnn__tuning_db_free(&db);
}

static const char *const three_rows[] = {"conv_forward/f32/class:pointwise",
                                         "conv_vector=8",
                                         "pool_forward/f32/max/class:global",
                                         "pool_local=32",
                                         "conv_backward/f32/class:stem",
                                         "filter_by_rows=0,filter_tile_rows=3",
                                         NULL};

/* ---- the tests ---- */

static void test_round_trip(void)
{
    char path[512], notes[2048] = "";
    write_db("round/trip/deep", identity(16), path, sizeof path, three_rows);
    clcnn_tuning_db db;
    CHECK(open_as("round/trip/deep", 16, &db, notes, sizeof notes) == CLCNN_TUNING_DB_EXACT);
    CHECK(db.count == 3);
    CHECK(strcmp(db.path, path) == 0);
    const char *spec = clcnn__tuning_db_find(&db, "conv_backward/f32/class:stem");
    CHECK(spec && strcmp(spec, "filter_by_rows=0,filter_tile_rows=3") == 0);
    spec = clcnn__tuning_db_find(&db, "pool_forward/f32/max/class:global");
    CHECK(spec && strcmp(spec, "pool_local=32") == 0);
    CHECK(clcnn__tuning_db_find(&db, "pool_forward/f32/average/class:global") == NULL);
    CHECK(notes[0] == '\0');
    clcnn__tuning_db_free(&db);
    /* A writer leaves no temporary file behind. */
    char dir[512];
    path_in(dir, sizeof dir, "round/trip/deep");
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    CHECK(entries == 1);
}

/* A driver's name with a newline or a tab stays one header line, and the
 * file is still the device's. */
static void test_control_characters(void)
{
    clcnn_tuning_identity odd = identity(16);
    snprintf(odd.driver, sizeof odd.driver, "6.0\nrows 0\tend");
    char path[512], notes[2048] = "";
    write_db("control", odd, path, sizeof path, three_rows);
    clcnn_tuning_env env = env_dir("control");
    clcnn_tuning_db db;
    CHECK(clcnn__tuning_db_open(&db, &odd, &env, check_spec, notes, sizeof notes) == CLCNN_TUNING_DB_EXACT);
    CHECK(db.count == 3);
    clcnn__tuning_db_free(&db);
    size_t length;
    char *text = read_text(path, &length);
    CHECK(text && strstr(text, "\ndriver 6.0?rows 0?end\n") != NULL);
    free(text);
}

static void test_exact_and_class(void)
{
    const size_t a[4] = {8, 56, 56, 64}, w[4] = {1, 1, 64, 256}, other_a[4] = {8, 28, 28, 128};
    const size_t other_w[4] = {1, 1, 128, 512}, stem_a[4] = {8, 224, 224, 3}, stem_w[4] = {7, 7, 3, 64};
    clcnn_conv_params p = {1, 1, 0, 0, 0, 0, 1, 1, 1}, stem_p = {2, 2, 3, 3, 3, 3, 1, 1, 1};
    clcnn_tuning_layer_key k, other, stem;
    CHECK(clcnn__tuning_conv_key(&k, "conv_forward", CLCNN_FLOAT32, a, w, &p) == 0);
    CHECK(clcnn__tuning_conv_key(&other, "conv_forward", CLCNN_FLOAT32, other_a, other_w, &p) == 0);
    CHECK(clcnn__tuning_conv_key(&stem, "conv_forward", CLCNN_FLOAT32, stem_a, stem_w, &stem_p) == 0);
    CHECK(strcmp(k.exact, "conv_forward/f32/a8x56x56x64/w1x1x64x256/s1x1/p0x0x0x0/d1x1/g1") == 0);
    CHECK(strcmp(k.class_key, "conv_forward/f32/class:pointwise") == 0);
    CHECK(strcmp(k.class_key, other.class_key) == 0 && strcmp(k.exact, other.exact) != 0);
    const char *const rows[] = {k.exact, "conv_vector=16", k.class_key, "conv_vector=8,conv_local=16", NULL};
    char path[512], notes[2048] = "";
    write_db("classes", identity(16), path, sizeof path, rows);
    clcnn_tuning_db db;
    CHECK(open_as("classes", 16, &db, notes, sizeof notes) == CLCNN_TUNING_DB_EXACT);
    const char *exact, *class_spec;
    clcnn__tuning_db_lookup(&db, &k, &exact, &class_spec);
    CHECK(exact && strcmp(exact, "conv_vector=16") == 0);
    CHECK(class_spec && strcmp(class_spec, "conv_vector=8,conv_local=16") == 0);
    clcnn__tuning_db_lookup(&db, &other, &exact, &class_spec); /* same class, no row of its own */
    CHECK(exact == NULL);
    CHECK(class_spec && strcmp(class_spec, "conv_vector=8,conv_local=16") == 0);
    clcnn__tuning_db_lookup(&db, &stem, &exact, &class_spec); /* neither: the defaults */
    CHECK(exact == NULL && class_spec == NULL);
    /* Another dtype or op is another row. */
    CHECK(clcnn__tuning_conv_key(&other, "conv_forward", CLCNN_FLOAT64, a, w, &p) == 0);
    clcnn__tuning_db_lookup(&db, &other, &exact, &class_spec);
    CHECK(exact == NULL && class_spec == NULL);
    CHECK(clcnn__tuning_conv_key(&other, "conv_backward", CLCNN_FLOAT32, a, w, &p) == 0);
    clcnn__tuning_db_lookup(&db, &other, &exact, &class_spec);
    CHECK(exact == NULL && class_spec == NULL);
    /* The 16-bit dtypes by their bench names. */
    CHECK(clcnn__tuning_conv_key(&other, "conv_forward", CLCNN_FLOAT16, a, w, &p) == 0);
    CHECK(strncmp(other.exact, "conv_forward/f16/", 17) == 0);
    CHECK(clcnn__tuning_conv_key(&other, "conv_forward", CLCNN_BFLOAT16, a, w, &p) == 0);
    CHECK(strncmp(other.exact, "conv_forward/bf16/", 18) == 0);
    clcnn__tuning_db_lookup(&db, &other, &exact, &class_spec);
    CHECK(exact == NULL && class_spec == NULL);
    clcnn__tuning_db_free(&db);
}

static void test_deterministic_bytes(void)
{
    const char *const in_order[] = {"a/b", "conv_vector=4", "c/d", "pool_tile=2", "e/f", "sum_local=32", NULL};
    const char *const shuffled[] = {"e/f", "sum_local=64", "a/b", "conv_vector=4", "c/d", "pool_tile=2",
                                    "e/f", "sum_local=32", NULL};
    char one[512], two[512], again[512];
    write_db("bytes1", identity(16), one, sizeof one, in_order);
    write_db("bytes2", identity(16), two, sizeof two, shuffled);
    size_t n1, n2, n3;
    char *t1 = read_text(one, &n1), *t2 = read_text(two, &n2);
    CHECK(t1 && t2 && n1 == n2 && memcmp(t1, t2, n1) == 0);
    write_db("bytes1", identity(16), again, sizeof again, shuffled);
    char *t3 = read_text(again, &n3);
    CHECK(strcmp(one, again) == 0 && t3 && n3 == n1 && memcmp(t1, t3, n1) == 0);
    /* Sorted rows, and only what the rows and the identity say. */
    CHECK(t1 && strstr(t1, "\nrows 3\na/b conv_vector=4\nc/d pool_tile=2\ne/f sum_local=32\nend\n") != NULL);
    CHECK(t1 && strstr(t1, "\ncompute_units 16\n") != NULL);
    free(t1);
    free(t2);
    free(t3);
}

/* Opens the database of dir as device id, expecting `expected`; a refusal
 * leaves no rows and names the file. */
static void expect_open(const char *dir, unsigned compute_units, clcnn_tuning_db_source expected, char *notes,
                        size_t cap)
{
    clcnn_tuning_db db;
    clcnn_tuning_db_source got = open_as(dir, compute_units, &db, notes, cap);
    CHECK(got == expected);
    if (got != expected)
        fprintf(stderr, "  %s: got source %d, expected %d; notes:\n%s\n", dir, (int)got, (int)expected, notes);
    if (expected == CLCNN_TUNING_DB_REFUSED || expected == CLCNN_TUNING_DB_NONE)
        CHECK(db.count == 0 && db.path[0] == '\0');
    if (expected == CLCNN_TUNING_DB_REFUSED)
        CHECK_NOTE(notes, "refused, nothing of it applies");
    clcnn__tuning_db_free(&db);
}

static void test_truncation(void)
{
    char path[512], notes[2048];
    write_db("truncated", identity(16), path, sizeof path, three_rows);
    size_t length;
    char *text = read_text(path, &length);
    CHECK(text != NULL && length > 100);
    /* Every prefix of the file is refused, whatever line it ends in. */
    for (size_t cut = 0; text && cut < length; cut++) {
        write_text(path, text, cut);
        expect_open("truncated", 16, CLCNN_TUNING_DB_REFUSED, notes, sizeof notes);
        CHECK_NOTE(notes, path);
        CHECK_NOTE(notes, "truncated");
    }
    write_text(path, text, length);
    expect_open("truncated", 16, CLCNN_TUNING_DB_EXACT, notes, sizeof notes);
    free(text);
}

/* Replaces the first `from` of the file by `to`, then expects a refusal
 * whose note has `problem`. */
static void edited_file_refused(const char *from, const char *to, const char *problem)
{
    char path[512], notes[2048];
    write_db("edited", identity(16), path, sizeof path, three_rows);
    size_t length;
    char *text = read_text(path, &length), edited[1 << 16];
    char *at = text ? strstr(text, from) : NULL;
    CHECK(at != NULL);
    if (at == NULL) {
        free(text);
        return;
    }
    int n = snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    write_text(path, edited, (size_t)n);
    expect_open("edited", 16, CLCNN_TUNING_DB_REFUSED, notes, sizeof notes);
    CHECK_NOTE(notes, path);
    CHECK_NOTE(notes, problem);
    free(text);
}

static void test_damaged_files(void)
{
    /* The rows sort as conv_backward (line 10), conv_forward, pool_forward. */
    edited_file_refused("filter_tile_rows=3", "filter_tile_ros=3", "line 10: unknown key filter_tile_ros");
    edited_file_refused("conv_vector=8", "conv_vector=17", "line 11: conv_vector=17 is out of range");
    edited_file_refused("conv_vector=8", "conv_vector=0", "line 11: conv_vector=0 is out of range");
    edited_file_refused("pool_local=32", "pool_local=", "line 12: 'pool_local=' is not key=value");
    edited_file_refused("pool_local=32", "table=gpu", "line 12: table= picks");
    edited_file_refused("pool_forward/f32/max/class:global", "conv_forward/f32/class:pointwise",
                        "lines 11 and 12 both set conv_forward/f32/class:pointwise");
    edited_file_refused("conv_forward/f32/class:pointwise ", "conv_forward/f32/class:pointwise\t",
                        "line 11: a row is 'KEY SPEC'");
    edited_file_refused("conv_forward/f32/class:pointwise", "Conv_forward/f32", "line 11: the key");
    edited_file_refused("clcnn-tuning-db 1", "clcnn-tuning-db 2", "line 3: not a clcnn tuning database");
    edited_file_refused("rows 3\n", "rows 4\n", "the header says 4 rows, the file has 3");
    edited_file_refused("rows 3\n", "rows 2\n", "line 12: more rows than the header's count");
    edited_file_refused("rows 3\n", "", "line 9: the header's next line is 'rows ...'");
    edited_file_refused("compute_units 16", "compute_units sixteen", "compute_units 'sixteen' is not a count");
    edited_file_refused("table_hash ", "table_hash x", "is not 16 lowercase hex digits");
    edited_file_refused("end\n", "end\nconv_forward/f32/class:plain conv_vector=8\n", "line 14: text after the 'end'");
    /* Comments and blank lines are not damage. */
    char path[512], notes[2048];
    write_db("commented", identity(16), path, sizeof path, three_rows);
    size_t length;
    char *text = read_text(path, &length), edited[1 << 16];
    int n = snprintf(edited, sizeof edited, "%s\n# a note of the person who tuned\n", text ? text : "");
    write_text(path, edited, (size_t)n);
    expect_open("commented", 16, CLCNN_TUNING_DB_EXACT, notes, sizeof notes);
    free(text);
}

/* A file of another identity under this device's own name is ignored, and
 * so is one under its own name; neither applies. */
static void foreign_file_ignored(const char *dir, clcnn_tuning_identity foreign, const char *problem)
{
    char path[512], own_path[1024], notes[2048];
    write_db(dir, foreign, path, sizeof path, three_rows);
    expect_open(dir, 16, CLCNN_TUNING_DB_NONE, notes, sizeof notes);
    CHECK_NOTE(notes, path);
    CHECK_NOTE(notes, problem);
    CHECK_NOTE(notes, "ignored");
    char name[256], full[512];
    clcnn_tuning_identity own = identity(16);
    CHECK(clcnn__tuning_db_file_name(&own, name, sizeof name) == 0);
    path_in(full, sizeof full, dir);
    snprintf(own_path, sizeof own_path, "%s/%s", full, name);
    CHECK(strcmp(own_path, path) != 0);
    CHECK(rename(path, own_path) == 0);
    expect_open(dir, 16, CLCNN_TUNING_DB_NONE, notes, sizeof notes);
    CHECK_NOTE(notes, own_path);
    CHECK_NOTE(notes, problem);
    CHECK_NOTE(notes, "ignored");
}

static void test_foreign_files(void)
{
    clcnn_tuning_identity device = identity(16), driver = identity(16), table = identity(16), platform = identity(16);
    snprintf(device.device, sizeof device.device, "NVIDIA H100 80GB HBM3");
    snprintf(driver.driver, sizeof driver.driver, "6.1+debian");
    table.table_hash ^= 1;
    snprintf(platform.platform, sizeof platform.platform, "NVIDIA CUDA");
    foreign_file_ignored("other_device", device, "device 'NVIDIA H100 80GB HBM3'");
    foreign_file_ignored("other_driver", driver, "driver '6.1+debian'");
    foreign_file_ignored("other_table", table, "tuning table");
    foreign_file_ignored("other_platform", platform, "platform 'NVIDIA CUDA'");
    /* A file that is not a database at all, among the others, is named and skipped. */
    char path[512], notes[2048];
    path_in(path, sizeof path, "other_device/stray.tuning");
    write_text(path, "hello\n", 6);
    expect_open("other_device", 16, CLCNN_TUNING_DB_NONE, notes, sizeof notes);
    CHECK_NOTE(notes, "stray.tuning: line 1: not a clcnn tuning database");
}

static void test_other_compute_units(void)
{
    const char *const far_rows[] = {"a/b", "conv_vector=2", NULL}, *const near_rows[] = {"a/b", "conv_vector=4", NULL};
    const char *const own_rows[] = {"a/b", "conv_vector=8", NULL};
    char far[512], near[512], own[512], notes[2048];
    write_db("units", identity(64), far, sizeof far, far_rows);
    write_db("units", identity(8), near, sizeof near, near_rows);
    CHECK(strcmp(far, near) != 0);
    clcnn_tuning_db db;
    CHECK(open_as("units", 16, &db, notes, sizeof notes) == CLCNN_TUNING_DB_OTHER_UNITS);
    CHECK(strcmp(db.path, near) == 0 && db.file_compute_units == 8 && db.id.compute_units == 16);
    const char *spec = clcnn__tuning_db_find(&db, "a/b");
    CHECK(spec && strcmp(spec, "conv_vector=4") == 0);
    CHECK_NOTE(notes, near);
    CHECK_NOTE(notes, "written for 8 compute units, this device has 16");
    clcnn__tuning_db_free(&db);
    /* Once this device's own file exists, the others are not read. */
    write_db("units", identity(16), own, sizeof own, own_rows);
    CHECK(open_as("units", 16, &db, notes, sizeof notes) == CLCNN_TUNING_DB_EXACT);
    spec = clcnn__tuning_db_find(&db, "a/b");
    CHECK(spec && strcmp(spec, "conv_vector=8") == 0);
    CHECK(strstr(notes, "compute units") == NULL);
    clcnn__tuning_db_free(&db);
    /* A damaged own file is refused, not passed over for another count's. */
    write_text(own, "clcnn-tuning-db 1\n", 18);
    expect_open("units", 16, CLCNN_TUNING_DB_REFUSED, notes, sizeof notes);
    CHECK_NOTE(notes, own);
    /* Nor is the nearest count's file, damaged, passed over for the next. */
    CHECK(unlink(own) == 0);
    size_t length;
    char *text = read_text(near, &length);
    CHECK(text && length > 4);
    if (text)
        write_text(near, text, length - 4);
    expect_open("units", 16, CLCNN_TUNING_DB_REFUSED, notes, sizeof notes);
    CHECK_NOTE(notes, near);
    free(text);
}

static void test_tuning_off(void)
{
    char path[512], notes[2048];
    write_db("off", identity(16), path, sizeof path, three_rows);
    clcnn_tuning_env env = env_dir("off");
    env.tuning = "off";
    clcnn_tuning_db db;
    clcnn_tuning_identity id = identity(16);
    notes[0] = '\0';
    CHECK(clcnn__tuning_db_open(&db, &id, &env, check_spec, notes, sizeof notes) == CLCNN_TUNING_DB_OFF);
    CHECK(db.count == 0);
    CHECK_NOTE(notes, "CLCNN_TUNING=off");
    clcnn__tuning_db_free(&db);
    env.tuning = "on";
    expect_open("off", 16, CLCNN_TUNING_DB_EXACT, notes, sizeof notes);
    /* Through the process environment. */
    char dir[512];
    path_in(dir, sizeof dir, "off");
    setenv("CLCNN_TUNING_DIR", dir, 1);
    setenv("CLCNN_TUNING", "off", 1);
    env = clcnn__tuning_env();
    CHECK(clcnn__tuning_db_open(&db, &id, &env, check_spec, notes, sizeof notes) == CLCNN_TUNING_DB_OFF);
    clcnn__tuning_db_free(&db);
    unsetenv("CLCNN_TUNING");
    env = clcnn__tuning_env();
    CHECK(clcnn__tuning_db_open(&db, &id, &env, check_spec, notes, sizeof notes) == CLCNN_TUNING_DB_EXACT);
    CHECK(db.count == 3);
    clcnn__tuning_db_free(&db);
}

static void expect_dir(const char *expected_tail)
{
    char dir[512], expected[512], notes[512] = "";
    clcnn_tuning_env env = clcnn__tuning_env();
    snprintf(expected, sizeof expected, "%s/%s", root, expected_tail);
    CHECK(clcnn__tuning_db_dir(&env, 0, dir, sizeof dir, notes, sizeof notes) == 0);
    CHECK(strcmp(dir, expected) == 0);
    if (strcmp(dir, expected) != 0)
        fprintf(stderr, "  the directory is %s, expected %s\n", dir, expected);
}

static void test_directory(void)
{
    char dir[512], home[512], xdg[512], notes[512] = "";
    path_in(dir, sizeof dir, "moved");
    path_in(home, sizeof home, "home");
    path_in(xdg, sizeof xdg, "xdg");
    setenv("CLCNN_TUNING_DIR", dir, 1);
    setenv("XDG_DATA_HOME", xdg, 1);
    setenv("HOME", home, 1);
    unsetenv("CLCNN_TUNING");
    expect_dir("moved");
    unsetenv("CLCNN_TUNING_DIR");
    expect_dir("xdg/clcnn/tuning");
    setenv("XDG_DATA_HOME", "relative/ignored", 1);
    expect_dir("home/.local/share/clcnn/tuning");
    unsetenv("XDG_DATA_HOME");
    expect_dir("home/.local/share/clcnn/tuning");
    unsetenv("HOME");
    clcnn_tuning_env env = clcnn__tuning_env();
    CHECK(clcnn__tuning_db_dir(&env, 0, dir, sizeof dir, notes, sizeof notes) == -1);
    CHECK_NOTE(notes, "HOME");
    /* A file written through CLCNN_TUNING_DIR is read back through it. */
    char path[512];
    write_db("moved", identity(16), path, sizeof path, three_rows);
    path_in(dir, sizeof dir, "moved");
    setenv("CLCNN_TUNING_DIR", dir, 1);
    env = clcnn__tuning_env();
    clcnn_tuning_db db;
    clcnn_tuning_identity id = identity(16);
    CHECK(clcnn__tuning_db_open(&db, &id, &env, check_spec, notes, sizeof notes) == CLCNN_TUNING_DB_EXACT);
    CHECK(db.count == 3 && strcmp(db.path, path) == 0);
    clcnn__tuning_db_free(&db);
    unsetenv("CLCNN_TUNING_DIR");
}

static void test_set(void)
{
    clcnn_tuning_db db = {0};
    char msg[512];
    CHECK(clcnn__tuning_db_set(&db, "x/y", "conv_vector=8", check_spec, msg, sizeof msg) == 0);
    CHECK(clcnn__tuning_db_set(&db, "x/y", "conv_vector=99", check_spec, msg, sizeof msg) == -1);
    CHECK_NOTE(msg, "conv_vector=99 is out of range");
    CHECK(clcnn__tuning_db_set(&db, "x/y", "nope=1", check_spec, msg, sizeof msg) == -1);
    CHECK_NOTE(msg, "unknown key nope");
    CHECK(clcnn__tuning_db_set(&db, "x y", "conv_vector=4", check_spec, msg, sizeof msg) == -1);
    CHECK(clcnn__tuning_db_set(&db, "novalue", "conv_vector=4", check_spec, msg, sizeof msg) == -1);
    const char *spec = clcnn__tuning_db_find(&db, "x/y");
    CHECK(db.count == 1 && spec && strcmp(spec, "conv_vector=8") == 0);
    CHECK(clcnn__tuning_db_set(&db, "x/y", "conv_vector=4,conv_local=16", check_spec, msg, sizeof msg) == 0);
    CHECK(clcnn__tuning_db_set(&db, "a/b", "pool_tile=2", check_spec, msg, sizeof msg) == 0);
    spec = clcnn__tuning_db_find(&db, "x/y");
    CHECK(db.count == 2 && spec && strcmp(spec, "conv_vector=4,conv_local=16") == 0);
    CHECK(strcmp(db.rows[0].key, "a/b") == 0);
    CHECK(clcnn__tuning_db_set(&db, "a/b", NULL, check_spec, msg, sizeof msg) == 0);
    CHECK(db.count == 1 && clcnn__tuning_db_find(&db, "a/b") == NULL);
    /* Without a checker, the syntax alone. */
    CHECK(clcnn__tuning_db_set(&db, "a/b", "anything=else", NULL, msg, sizeof msg) == 0);
    CHECK(clcnn__tuning_db_set(&db, "a/b", "anything", NULL, msg, sizeof msg) == -1);
    CHECK(clcnn__tuning_db_set(&db, "a/b", "anything=else,", NULL, msg, sizeof msg) == -1);
    CHECK(clcnn__tuning_db_set(&db, "a/b", "anything=else,,b=1", NULL, msg, sizeof msg) == -1);
    CHECK(clcnn__tuning_db_set(&db, "a/b", "a=1,b=2", NULL, msg, sizeof msg) == 0);
    clcnn__tuning_db_free(&db);
}

static void expect_conv_class(const char *expected, size_t c, size_t h, size_t fh, size_t fw, int stride, int pad,
                              int dilation, int groups)
{
    const size_t a[4] = {2, h, h, c}, w[4] = {fh, fw, c / (size_t)groups, 64};
    const clcnn_conv_params p = {stride, stride, pad, pad, pad, pad, dilation, dilation, groups};
    const char *got = clcnn__tuning_conv_class(a, w, &p);
    CHECK(strcmp(got, expected) == 0);
    /* The class key of the exact key (clcnn tune's class rows) is the layer's. */
    clcnn_tuning_layer_key k;
    char class_key[128];
    CHECK(clcnn__tuning_conv_key(&k, "conv_backward", CLCNN_FLOAT64, a, w, &p) == 0);
    CHECK(clcnn__tuning_class_key_of(k.exact, class_key, sizeof class_key) == 0 && strcmp(class_key, k.class_key) == 0);
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "  c=%zu h=%zu f=%zux%zu s=%d p=%d d=%d g=%d: %s, expected %s\n", c, h, fh, fw, stride, pad,
                dilation, groups, got, expected);
}

static void test_classes(void)
{
    expect_conv_class("fully_connected", 512, 7, 7, 7, 1, 0, 1, 1);
    expect_conv_class("fully_connected", 3, 1, 1, 1, 1, 0, 1, 1); /* 1x1 input: before pointwise and stem */
    expect_conv_class("depthwise", 32, 56, 3, 3, 1, 1, 1, 32);
    expect_conv_class("depthwise", 32, 56, 1, 1, 1, 0, 1, 32);
    expect_conv_class("grouped", 64, 56, 3, 3, 1, 1, 1, 8);
    expect_conv_class("pointwise", 256, 56, 1, 1, 1, 0, 1, 1);
    expect_conv_class("dilated", 64, 56, 3, 3, 1, 2, 2, 1);
    expect_conv_class("stem", 3, 224, 7, 7, 2, 3, 1, 1);
    expect_conv_class("stem", 1, 28, 5, 5, 1, 2, 1, 1);
    expect_conv_class("strided", 64, 56, 3, 3, 2, 1, 1, 1);
    expect_conv_class("strided", 64, 56, 1, 1, 2, 0, 1, 1); /* a downsampling 1x1 */
    expect_conv_class("plain", 64, 56, 3, 3, 1, 1, 1, 1);
    expect_conv_class("plain", 64, 56, 1, 1, 1, 1, 1, 1); /* padded 1x1 */
    const size_t a[4] = {8, 7, 7, 512}, big[4] = {8, 56, 56, 64};
    const clcnn_pool_params global = {7, 7, 1, 1, 0, 0, 0, 0, 1}, strided_global = {7, 7, 7, 7, 0, 0, 0, 0, 1};
    const clcnn_pool_params small = {3, 3, 2, 2, 1, 1, 1, 1, 1}, large = {5, 5, 5, 5, 0, 0, 0, 0, 1};
    CHECK(strcmp(clcnn__tuning_pool_class(a, &global), "global") == 0);
    CHECK(strcmp(clcnn__tuning_pool_class(a, &strided_global), "global") == 0);
    CHECK(strcmp(clcnn__tuning_pool_class(big, &small), "small_window") == 0);
    CHECK(strcmp(clcnn__tuning_pool_class(big, &large), "plain") == 0);
    CHECK(strcmp(clcnn__tuning_pool_class(big, &global), "plain") == 0);
    clcnn_tuning_layer_key k;
    CHECK(clcnn__tuning_pool_key(&k, "pool_backward", CLCNN_FLOAT64, big, &small, CLCNN_POOL_AVERAGE) == 0);
    CHECK(strcmp(k.exact, "pool_backward/f64/average/a8x56x56x64/f3x3/s2x2/p1x1x1x1/i1") == 0);
    CHECK(strcmp(k.class_key, "pool_backward/f64/average/class:small_window") == 0);
    char class_key[128];
    CHECK(clcnn__tuning_class_key_of(k.exact, class_key, sizeof class_key) == 0 && strcmp(class_key, k.class_key) == 0);
    CHECK(clcnn__tuning_pool_key(&k, "pool_forward", CLCNN_FLOAT32, a, &global, CLCNN_POOL_MAX) == 0);
    CHECK(clcnn__tuning_class_key_of(k.exact, class_key, sizeof class_key) == 0 &&
          strcmp(class_key, "pool_forward/f32/max/class:global") == 0);
    CHECK(clcnn__tuning_class_key_of(k.exact, class_key, 20) == -1);
    /* No exact key: a class key, a key cut short, one with more after it. */
    CHECK(clcnn__tuning_class_key_of(k.class_key, class_key, sizeof class_key) == -1);
    CHECK(clcnn__tuning_class_key_of("conv_forward/f32/a8x7x7x512/w3x3x512", class_key, sizeof class_key) == -1);
    CHECK(clcnn__tuning_class_key_of("pool_forward/f32/max/a8x7x7x512/f7x7/s1x1/p0x0x0x0/i1/x", class_key,
                                     sizeof class_key) == -1);
    CHECK(clcnn__tuning_pool_key(&k, "Pool", CLCNN_FLOAT64, big, &small, CLCNN_POOL_MAX) == -1);
    CHECK(clcnn__tuning_pool_key(&k, "", CLCNN_FLOAT64, big, &small, CLCNN_POOL_MAX) == -1);
}

static void test_identity_and_names(void)
{
    CHECK(clcnn__tuning_table_hash() == clcnn__tuning_table_hash());
    CHECK(clcnn__tuning_table_hash() != 0);
    clcnn_tuning_identity id = identity(16), other = identity(32), spaced = identity(16);
    char name[256], other_name[256], spaced_name[256];
    CHECK(clcnn__tuning_db_file_name(&id, name, sizeof name) == 0);
    CHECK(clcnn__tuning_db_file_name(&other, other_name, sizeof other_name) == 0);
    CHECK(strncmp(name, "cpu-haswell-amd-epyc-9r14-96-core-processor-", 44) == 0);
    CHECK(strlen(name) == 44 + 16 + strlen("-cu16.tuning"));
    CHECK(strcmp(name + strlen(name) - strlen("-cu16.tuning"), "-cu16.tuning") == 0);
    /* The files of one device and driver differ in their count alone. */
    CHECK(strncmp(name, other_name, 44 + 16) == 0 && strcmp(name, other_name) != 0);
    /* Trailing blanks of a driver's name do not make another device. */
    snprintf(spaced.device, sizeof spaced.device, "%.200s  ", id.device);
    CHECK(clcnn__tuning_db_file_name(&spaced, spaced_name, sizeof spaced_name) == 0);
    CHECK(strcmp(name, spaced_name) == 0);
    CHECK(clcnn__tuning_db_file_name(&id, name, 20) == -1);
    clcnn_device_info info = {0};
    snprintf(info.platform, sizeof info.platform, "%s", id.platform);
    snprintf(info.name, sizeof info.name, "%s", id.device);
    snprintf(info.driver_version, sizeof info.driver_version, "%s", id.driver);
    snprintf(info.opencl_version, sizeof info.opencl_version, "OpenCL 3.0");
    info.compute_units = 16;
    clcnn_tuning_identity of;
    clcnn__tuning_identity_of(&info, &of);
    CHECK(strcmp(of.platform, id.platform) == 0 && strcmp(of.device, id.device) == 0 &&
          strcmp(of.driver, id.driver) == 0 && of.compute_units == 16 && of.table_hash == id.table_hash);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/clcnn_tuning_db_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_identity_and_names();
    test_round_trip();
    test_control_characters();
    test_exact_and_class();
    test_deterministic_bytes();
    test_truncation();
    test_damaged_files();
    test_foreign_files();
    test_other_compute_units();
    test_tuning_off();
    test_directory();
    test_set();
    test_classes();
    if (failures == 0) {
        char command[300];
        snprintf(command, sizeof command, "rm -rf '%s'", root);
        if (system(command) != 0)
            fprintf(stderr, "could not remove %s\n", root);
    } else {
        fprintf(stderr, "%d checks failed; the files are in %s\n", failures, root);
    }
    return failures ? 1 : 0;
}
