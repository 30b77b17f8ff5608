/* The persistent program-binary cache: see program_cache.h. A file is
 * this device's identity lines, the source's hash and length, the build
 * options, the binary's size, then the binary:
 *   clcnn-program-binary 1
 *   platform P / platform_version V / device D / device_version V /
 *   driver V / clcnn 0.3.0
 *   source <fnv64 hex> <bytes>
 *   options <the whole option string given to clBuildProgram>
 *   bytes <N>
 *   <N bytes>
 * Every line but the last is compared whole, so a file of another device,
 * driver, version, source or option set is never loaded, whatever its
 * name; a file shorter or longer than it says is damaged. */
#include <stdlib.h>
#include <string.h>

#include "program_cache.h"
#include "user_files.h"

#define MAGIC "clcnn-program-binary 1"
/* Far above any program's binary: a larger size is damage, not a program. */
#define MAX_BINARY_BYTES ((size_t)1 << 30)

/* `name value` as a header line: control characters become '?' so that a
 * value stays one line. */
static size_t header_line(char *out, size_t cap, const char *name, const char *value)
{
    size_t used = (size_t)snprintf(out, cap, "%s ", name);
    for (const char *c = value; *c && used + 2 < cap; c++)
        out[used++] = (unsigned char)*c < 0x20 ? '?' : *c;
    if (used + 1 < cap)
        out[used++] = '\n';
    out[used < cap ? used : cap - 1] = '\0';
    return used;
}

static void platform_text(cl_platform_id platform, cl_platform_info what, char *out, size_t cap)
{
    if (clGetPlatformInfo(platform, what, cap - 1, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[cap - 1] = '\0';
}

static void device_text(cl_device_id device, cl_device_info what, char *out, size_t cap)
{
    if (clGetDeviceInfo(device, what, cap - 1, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[cap - 1] = '\0';
}

void clcnn__program_cache_init(clcnn_context *ctx)
{
    char platform[256], platform_version[256], device[256], device_version[256], driver[256];
    platform_text(ctx->platform, CL_PLATFORM_NAME, platform, sizeof platform);
    platform_text(ctx->platform, CL_PLATFORM_VERSION, platform_version, sizeof platform_version);
    device_text(ctx->device, CL_DEVICE_NAME, device, sizeof device);
    device_text(ctx->device, CL_DEVICE_VERSION, device_version, sizeof device_version);
    device_text(ctx->device, CL_DRIVER_VERSION, driver, sizeof driver);
    const char *setting = getenv("CLCNN_CACHE");
    /* Off by default where it gains nothing or could mislead: POCL keeps
     * its own cache; Oclgrind takes build options from its own command
     * line (--build-options), which the key cannot see, so a binary of one
     * run (built unoptimised for the uninitialised-value plugin) would be
     * loaded into another. */
    const int own_cache = strstr(platform, "Portable Computing Language") != NULL || strstr(platform, "Oclgrind") != NULL;
    ctx->cache.on =
        setting && strcmp(setting, "on") == 0 ? 1 : setting && strcmp(setting, "off") == 0 ? 0 : !own_cache;
    if (ctx->cache.on && clcnn__user_dir(getenv("CLCNN_CACHE_DIR"), getenv("XDG_CACHE_HOME"), getenv("HOME"),
                                         "clcnn/programs", ".cache/clcnn/programs", ctx->cache.dir,
                                         sizeof ctx->cache.dir) != 0)
        ctx->cache.on = 0;
    char *id = ctx->cache.identity;
    const size_t cap = sizeof ctx->cache.identity;
    size_t used = (size_t)snprintf(id, cap, "%s\n", MAGIC);
    used += header_line(id + used, cap - used, "platform", platform);
    used += header_line(id + used, cap - used, "platform_version", platform_version);
    used += header_line(id + used, cap - used, "device", device);
    used += header_line(id + used, cap - used, "device_version", device_version);
    used += header_line(id + used, cap - used, "driver", driver);
    header_line(id + used, cap - used, "clcnn", CLCNN_VERSION_STRING);
}

/* The file's header up to its `bytes` line, and its name: the hash of that
 * header, so that each program of each device has its own file. */
static char *header_of(const clcnn_context *ctx, const char *source, size_t length, const char *options, char *name,
                       size_t name_cap)
{
    const size_t cap = strlen(ctx->cache.identity) + strlen(options) + 128;
    char *header = malloc(cap);
    if (header == NULL)
        return NULL;
    size_t used = (size_t)snprintf(header, cap, "%ssource %016llx %zu\n", ctx->cache.identity,
                                   (unsigned long long)clcnn__fnv(CLCNN_FNV_OFFSET, source, length), length);
    header_line(header + used, cap - used, "options", options);
    snprintf(name, name_cap, "%016llx.clbin", (unsigned long long)clcnn__fnv(CLCNN_FNV_OFFSET, header, strlen(header)));
    return header;
}

/* The binary of the file at path after `header`, malloc'd, with its size:
 * NULL when the file is missing, foreign or damaged. */
static unsigned char *read_binary(const char *path, const char *header, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    const size_t header_length = strlen(header);
    char *seen = malloc(header_length + 1);
    unsigned char *binary = NULL;
    unsigned long long bytes = 0;
    if (seen && fread(seen, 1, header_length, fp) == header_length && memcmp(seen, header, header_length) == 0 &&
        fscanf(fp, "bytes %llu", &bytes) == 1 && fgetc(fp) == '\n' && bytes > 0 && bytes <= MAX_BINARY_BYTES &&
        (binary = malloc((size_t)bytes)) != NULL) {
        if (fread(binary, 1, (size_t)bytes, fp) != (size_t)bytes || fgetc(fp) != EOF) {
            free(binary);
            binary = NULL;
        }
    }
    free(seen);
    fclose(fp);
    *size = (size_t)bytes;
    return binary;
}

int clcnn__program_cache_load(clcnn_context *ctx, const char *source, size_t length, const char *options,
                              cl_program *program)
{
    *program = NULL;
    if (!ctx->cache.on)
        return 0;
    char name[64], path[CLCNN_PATH_CAPACITY];
    char *header = header_of(ctx, source, length, options, name, sizeof name);
    size_t size = 0;
    unsigned char *binary = header && clcnn__join_path(path, sizeof path, ctx->cache.dir, name) == 0
                                ? read_binary(path, header, &size)
                                : NULL;
    free(header);
    if (binary == NULL)
        return 0;
    cl_int err, binary_status = CL_SUCCESS;
    const unsigned char *binaries[1] = {binary};
    cl_program p =
        clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &size, binaries, &binary_status, &err);
    free(binary);
    if (err == CL_SUCCESS && binary_status == CL_SUCCESS &&
        clBuildProgram(p, 1, &ctx->device, options, NULL, NULL) == CL_SUCCESS) {
        *program = p;
        return 1;
    }
    if (err == CL_SUCCESS)
        clReleaseProgram(p);
    return 0;
}

typedef struct cache_file {
    const char *header;
    const unsigned char *binary;
    size_t size;
} cache_file;

static int write_cache_file(FILE *fp, const void *arg)
{
    const cache_file *f = arg;
    fprintf(fp, "%sbytes %zu\n", f->header, f->size);
    return fwrite(f->binary, 1, f->size, fp) != f->size || ferror(fp) ? -1 : 0;
}

/* Notes in the build warnings why the cache keeps nothing. */
static void cache_note(clcnn_context *ctx, const char *why)
{
    clcnn__note(ctx->build_warnings, sizeof ctx->build_warnings, "program cache: %s; programs are built from source\n",
                why);
}

void clcnn__program_cache_store(clcnn_context *ctx, cl_program program, const char *source, size_t length,
                                const char *options)
{
    size_t size = 0;
    if (!ctx->cache.on || ctx->cache.unwritable ||
        clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0)
        return;
    char name[64], msg[1536] = "";
    unsigned char *binary = malloc(size);
    char *header = binary ? header_of(ctx, source, length, options, name, sizeof name) : NULL;
    unsigned char *binaries[1] = {binary};
    if (header && clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binaries, binaries, NULL) == CL_SUCCESS) {
        const cache_file f = {header, binary, size};
        if (clcnn__fault_point(ctx, CLCNN_FAULT_CACHE_WRITE) != CL_SUCCESS)
            snprintf(msg, sizeof msg, "%s cannot be written (CLCNN_FAULT_INJECT)", ctx->cache.dir);
        else if (clcnn__make_dirs(ctx->cache.dir, "program cache", msg, sizeof msg) == 0)
            clcnn__write_atomic(ctx->cache.dir, name, write_cache_file, &f, 0, NULL, 0, msg, sizeof msg);
        if (msg[0]) {
            cache_note(ctx, msg);
            /* One note is enough: the directory will not become writable;
             * what it holds is still read. */
            ctx->cache.unwritable = 1;
        }
    }
    free(header);
    free(binary);
}
