/* The program-binary cache (host/runtime/program_cache.c) on a device,
 * forced on with CLCNN_CACHE=on in a temporary CLCNN_CACHE_DIR: a program
 * built from source is written, a new context loads it and computes the
 * same bits; a truncated file, a file of another device, a binary the
 * driver refuses are rebuilt from source and replaced; a directory that
 * cannot be written (CLCNN_FAULT_INJECT=cache_write:1: CI runs as root,
 * where file modes block nothing) leaves the op working and says so in
 * the build warnings; two processes filling one cache at once leave whole
 * files; CLCNN_CACHE=off writes nothing, and neither does the default on
 * POCL. Exit 77 without an OpenCL device, unless CLCNN_REQUIRE_DEVICE=1. */
#define _POSIX_C_SOURCE 200809L /* setenv, mkdtemp, fork */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clcnn.h"
#include "test_expect.h"


#define ELEMENTS 24

/* What one context built and computed: relu and zero_pad of a fixed input
 * (two programs), the build stats after them, the warnings. */
typedef struct run_result {
    int ok;
    float relu[ELEMENTS], padded[4 * 4 * 6];
    clcnn_build_stats stats;
    char warnings[512];
} run_result;

static run_result run_ops(void)
{
    run_result r = {0};
    const size_t dims[4] = {1, 2, 2, 6}, padded_dims[4] = {1, 4, 4, 6};
    float x[ELEMENTS];
    for (int i = 0; i < ELEMENTS; i++)
        x[i] = (float)(i % 7) - 3.25f;
    clcnn_context *ctx = NULL;
    clcnn_tensor *a = NULL, *y = NULL, *p = NULL;
    if (clcnn_context_create(NULL, &ctx) == CLCNN_OK && clcnn_tensor_create(ctx, CLCNN_FLOAT32, dims, &a) == CLCNN_OK &&
        clcnn_tensor_create(ctx, CLCNN_FLOAT32, dims, &y) == CLCNN_OK &&
        clcnn_tensor_create(ctx, CLCNN_FLOAT32, padded_dims, &p) == CLCNN_OK &&
        clcnn_tensor_write(a, x, sizeof x) == CLCNN_OK && clcnn_relu_forward(ctx, a, y) == CLCNN_OK &&
        clcnn_zero_pad(ctx, a, 1, p) == CLCNN_OK && clcnn_tensor_read(y, r.relu, sizeof r.relu) == CLCNN_OK &&
        clcnn_tensor_read(p, r.padded, sizeof r.padded) == CLCNN_OK &&
        clcnn_context_build_stats(ctx, &r.stats) == CLCNN_OK) {
        r.ok = 1;
        snprintf(r.warnings, sizeof r.warnings, "%s", clcnn_context_build_warnings(ctx));
    } else if (ctx) {
        fprintf(stderr, "run_ops: %s\n", clcnn_context_last_error(ctx));
    }
    clcnn_tensor_destroy(a);
    clcnn_tensor_destroy(y);
    clcnn_tensor_destroy(p);
    clcnn_context_destroy(ctx);
    return r;
}

/* The cache files (*.clbin) in dir, and the other entries (temporaries). */
static int count_files(const char *dir, int *others)
{
    int n = 0;
    *others = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        const size_t len = strlen(e->d_name);
        if (len > 6 && strcmp(e->d_name + len - 6, ".clbin") == 0)
            n++;
        else
            (*others)++;
    }
    if (d)
        closedir(d);
    return n;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static char *read_all(const char *path, long *size)
{
    FILE *fp = fopen(path, "rb");
    *size = file_size(path);
    char *data = fp && *size > 0 ? malloc((size_t)*size) : NULL;
    if (data && fread(data, 1, (size_t)*size, fp) != (size_t)*size) {
        free(data);
        data = NULL;
    }
    if (fp)
        fclose(fp);
    return data;
}

static void write_all(const char *path, const char *data, long size)
{
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(data, 1, (size_t)size, fp);
        fclose(fp);
    }
}

/* Whether r holds relu and zero_pad of run_ops' input exactly (ops
 * without arithmetic). */
static int exact(const run_result *r)
{
    for (int h = 0; h < 4; h++)
        for (int w = 0; w < 4; w++)
            for (int c = 0; c < 6; c++) {
                const int inside = h >= 1 && h <= 2 && w >= 1 && w <= 2, i = ((h - 1) * 2 + (w - 1)) * 6 + c;
                const float x = inside ? (float)(i % 7) - 3.25f : 0.0f;
                if (r->padded[(h * 4 + w) * 6 + c] != x || (inside && r->relu[i] != (x > 0 ? x : 0.0f)))
                    return 0;
            }
    return 1;
}

static int same_results(const run_result *a, const run_result *b)
{
    return memcmp(a->relu, b->relu, sizeof a->relu) == 0 && memcmp(a->padded, b->padded, sizeof a->padded) == 0;
}

/* Each of the cache's files damaged by `damage`, then a context: rebuilt
 * from source (nothing loaded), the same results, and the files replaced
 * (a further context loads both programs). */
static void check_rebuilt(const char *dir, const run_result *want, const char *what,
                          void (*damage)(char *data, long *size))
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        char path[1200];
        long size;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char *data = strstr(e->d_name, ".clbin") ? read_all(path, &size) : NULL;
        if (data) {
            damage(data, &size);
            write_all(path, data, size);
            free(data);
        }
    }
    if (d)
        closedir(d);
    run_result after = run_ops();
    EXPECT(after.ok && after.stats.cached_programs == 0 && same_results(&after, want),
           "%s: the context loaded %zu programs (want 0, rebuilt from source) or its results differ", what,
           after.stats.cached_programs);
    run_result again = run_ops();
    EXPECT(again.ok && again.stats.cached_programs == 2 && same_results(&again, want),
           "%s: the files were not replaced: the next context loaded %zu of 2 programs", what,
           again.stats.cached_programs);
}

static void truncate_half(char *data, long *size)
{
    (void)data;
    *size /= 2;
}

static void other_device(char *data, long *size)
{
    (void)size;
    char *device = strstr(data, "\ndevice ");
    if (device)
        device[8] = device[8] == 'X' ? 'Y' : 'X';
}

static void corrupt_binary(char *data, long *size)
{
    char *bytes = strstr(data, "\nbytes ");
    char *binary = bytes ? strchr(bytes + 1, '\n') : NULL;
    for (char *c = binary ? binary + 1 : data + *size; c < data + *size && c < binary + 65; c++)
        *c = (char)~*c;
}

/* Two processes at once on an empty cache: both compute, and the cache
 * holds two whole files and nothing else. Each child is this program run
 * afresh (`--child`): an OpenCL runtime's threads do not survive a fork. */
static void check_two_processes(const char *self, const char *dir, const run_result *want)
{
    pid_t children[2];
    for (int i = 0; i < 2; i++) {
        children[i] = fork();
        if (children[i] == 0) {
            execl(self, self, "--child", (char *)NULL);
            _exit(127);
        }
    }
    for (int i = 0; i < 2; i++) {
        int status = 0;
        waitpid(children[i], &status, 0);
        EXPECT(children[i] > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "process %d of two filling the cache at once failed", i);
    }
    int others;
    const int files = count_files(dir, &others);
    EXPECT(files == 2 && others == 0, "two processes left %d files and %d other entries in %s; want 2 and 0", files,
           others, dir);
    run_result r = run_ops();
    EXPECT(r.ok && r.stats.cached_programs == 2 && same_results(&r, want),
           "after two processes, a context loaded %zu of 2 programs", r.stats.cached_programs);
}

static int check_cache(const char *self, const char *root)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/programs", root);
    setenv("CLCNN_CACHE", "on", 1);
    setenv("CLCNN_CACHE_DIR", dir, 1);
    run_result first = run_ops();
    if (!first.ok)
        return 1;
    EXPECT(exact(&first), "relu or zero_pad is not exact");
    int others;
    EXPECT(first.stats.programs == 2 && first.stats.cached_programs == 0 && count_files(dir, &others) == 2 &&
               others == 0 && first.warnings[0] == '\0',
           "the first context: %zu programs, %zu from the cache, %d files in %s, warnings '%s'; want 2, 0, 2, none",
           first.stats.programs, first.stats.cached_programs, count_files(dir, &others), dir, first.warnings);
    run_result second = run_ops();
    EXPECT(second.ok && second.stats.cached_programs == 2 && same_results(&second, &first),
           "a second context loaded %zu of 2 programs, or computed other bits", second.stats.cached_programs);
    check_rebuilt(dir, &first, "truncated files", truncate_half);
    check_rebuilt(dir, &first, "files of another device", other_device);
    check_rebuilt(dir, &first, "binaries the driver refuses", corrupt_binary);

    /* A directory that cannot be written. */
    snprintf(dir, sizeof dir, "%s/unwritable", root);
    setenv("CLCNN_CACHE_DIR", dir, 1);
    setenv("CLCNN_FAULT_INJECT", "cache_write:1", 1);
    run_result unwritable = run_ops();
    unsetenv("CLCNN_FAULT_INJECT");
    EXPECT(unwritable.ok && same_results(&unwritable, &first) && count_files(dir, &others) == 0 &&
               strstr(unwritable.warnings, "program cache:") != NULL,
           "an unwritable cache: ok %d, %d files, warnings '%s'; want the ops to run, no file, a note", unwritable.ok,
           count_files(dir, &others), unwritable.warnings);

    snprintf(dir, sizeof dir, "%s/two", root);
    setenv("CLCNN_CACHE_DIR", dir, 1);
    check_two_processes(self, dir, &first);

    /* Off, and the default on POCL: nothing written. */
    const char *settings[] = {"off", NULL};
    for (int s = 0; s < 2; s++) {
        snprintf(dir, sizeof dir, "%s/setting%d", root, s);
        setenv("CLCNN_CACHE_DIR", dir, 1);
        if (settings[s])
            setenv("CLCNN_CACHE", settings[s], 1);
        else
            unsetenv("CLCNN_CACHE");
        clcnn_context *ctx = NULL;
        const int pocl = clcnn_context_create(NULL, &ctx) == CLCNN_OK &&
                         strstr(clcnn_context_device_name(ctx), "Portable Computing Language") != NULL;
        clcnn_context_destroy(ctx);
        if (!settings[s] && !pocl)
            continue;
        run_result r = run_ops();
        EXPECT(r.ok && count_files(dir, &others) == 0 && r.stats.cached_programs == 0,
               "CLCNN_CACHE=%s wrote %d files", settings[s] ? settings[s] : "(unset, on POCL)",
               count_files(dir, &others));
    }
    return 0;
}

/* A child of check_two_processes: 0 when its ops ran and were exact. */
static int child(void)
{
    run_result r = run_ops();
    return r.ok && exact(&r) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--child") == 0)
        return child();
    clcnn_context *ctx = NULL;
    clcnn_status st = clcnn_context_create(NULL, &ctx);
    clcnn_context_destroy(ctx);
    if (st != CLCNN_OK) {
        const char *require = getenv("CLCNN_REQUIRE_DEVICE");
        fprintf(stderr, "clcnn_context_create: %s\n", clcnn_status_string(st));
        return st == CLCNN_ERROR_NO_DEVICE && !(require && strcmp(require, "1") == 0) ? 77 : 1;
    }
    char root[] = "/tmp/clcnn_program_cache_XXXXXX";
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    int rc = check_cache(argv[0], root);
    char command[1100];
    snprintf(command, sizeof command, "rm -rf '%s'", root);
    if (system(command) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    if (failures)
        fprintf(stderr, "%d failures\n", failures);
    return rc || failures != 0;
}
