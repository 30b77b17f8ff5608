/* Files clcnn keeps for a user between runs (the tuning database, the
 * program-binary cache): where they live, hashing their keys, and writing
 * them atomically, so that a reader never sees half a file and two
 * writers at once leave one whole file. Pure: no OpenCL, no context,
 * diagnostics into a caller's buffer. */
#ifndef CLCNN_USER_FILES_H
#define CLCNN_USER_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLCNN_FNV_OFFSET 0xcbf29ce484222325ULL
#define CLCNN_PATH_CAPACITY 1024

/* Appends to a caller's buffer of notes (NULL: none), cut short at its capacity. */
void clcnn__note(char *buf, size_t cap, const char *format, ...);
/* FNV-1a over n bytes of data, from h (CLCNN_FNV_OFFSET to start). */
uint64_t clcnn__fnv(uint64_t h, const void *data, size_t n);
/* path = dir/name: 0, or -1 when it does not fit. */
int clcnn__join_path(char *path, size_t cap, const char *dir, const char *name);
/* The directory of a kind of file: `override` when set and not empty, else
 * $XDG/xdg_sub when XDG is absolute, else $HOME/home_sub: 0, or -1 when
 * none is set or the path does not fit. */
int clcnn__user_dir(const char *override, const char *xdg, const char *home, const char *xdg_sub,
                    const char *home_sub, char *dir, size_t cap);
/* mkdir -p path: 0, or -1 with why in msg (`what` names the directory). */
int clcnn__make_dirs(const char *path, const char *what, char *msg, size_t cap);
/* Writes dir/name through write(fp, arg) into a temporary file of dir,
 * then renames it over dir/name (with sync: data and directory synced).
 * 0 with the final path in final (may be NULL), or -1 with why in msg;
 * nothing is left behind on failure. */
int clcnn__write_atomic(const char *dir, const char *name, int (*write)(FILE *fp, const void *arg), const void *arg,
                        int sync, char *final, size_t final_cap, char *msg, size_t cap);

#endif
