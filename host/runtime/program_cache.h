/* The persistent program-binary cache (docs/first-run.md): a program
 * built from source is kept as the device's binary under
 * $CLCNN_CACHE_DIR (default $XDG_CACHE_HOME/clcnn/programs/, else
 * ~/.cache/clcnn/programs/), one file per program, keyed by the platform,
 * the device, its OpenCL and driver versions, clcnn's version, the whole
 * source as built and every option; the next context on such a device
 * loads it instead of compiling. A file that does not match, is damaged,
 * or that the driver refuses is rebuilt from source and replaced; a cache
 * that cannot be written is noted in clcnn_context_build_warnings; neither
 * is ever an error of the op. */
#ifndef CLCNN_PROGRAM_CACHE_H
#define CLCNN_PROGRAM_CACHE_H

#include "internal.h"

/* Reads CLCNN_CACHE and CLCNN_CACHE_DIR and the device's identity into
 * ctx->cache. Off by default on POCL, whose own cache already keys by
 * source and options (asking it for binaries costs a compile more), and on
 * Oclgrind (see program_cache.c); CLCNN_CACHE=on turns it on there,
 * CLCNN_CACHE=off off everywhere. */
void clcnn__program_cache_init(clcnn_context *ctx);
/* The program of `source` (length bytes) built with `options` from the
 * cache into *program: 1, or 0 when the cache is off, has no such file, or
 * the file is damaged, foreign or refused (then *program is NULL). */
int clcnn__program_cache_load(clcnn_context *ctx, const char *source, size_t length, const char *options,
                              cl_program *program);
/* Keeps the built program of `source` and `options` in the cache (when on). */
void clcnn__program_cache_store(clcnn_context *ctx, cl_program program, const char *source, size_t length,
                                const char *options);

#endif
