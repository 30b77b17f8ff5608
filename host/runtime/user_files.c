/* Files clcnn keeps for a user between runs: see user_files.h. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fsync, fchmod, mkdir */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user_files.h"

#define FNV_PRIME 0x100000001b3ULL

void clcnn__note(char *buf, size_t cap, const char *format, ...)
{
    if (buf == NULL || cap == 0)
        return;
    size_t used = strnlen(buf, cap);
    if (used >= cap - 1) {
        buf[cap - 1] = '\0';
        return;
    }
    va_list args;
    va_start(args, format);
    vsnprintf(buf + used, cap - used, format, args);
    va_end(args);
}

uint64_t clcnn__fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

int clcnn__join_path(char *path, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(path, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int clcnn__user_dir(const char *override, const char *xdg, const char *home, const char *xdg_sub,
                    const char *home_sub, char *dir, size_t cap)
{
    int n;
    if (override && override[0])
        n = snprintf(dir, cap, "%s", override);
    else if (xdg && xdg[0] == '/') /* XDG: a relative path is ignored */
        n = snprintf(dir, cap, "%s/%s", xdg, xdg_sub);
    else if (home && home[0])
        n = snprintf(dir, cap, "%s/%s", home, home_sub);
    else
        return -1;
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int clcnn__make_dirs(const char *path, const char *what, char *msg, size_t cap)
{
    char partial[CLCNN_PATH_CAPACITY];
    if (path[0] == '\0' || snprintf(partial, sizeof partial, "%s", path) >= (int)sizeof partial) {
        clcnn__note(msg, cap, "%s '%s': the path is empty or too long", what, path);
        return -1;
    }
    for (char *s = partial + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(partial, 0777) != 0 && errno != EEXIST) {
            clcnn__note(msg, cap, "%s %s: cannot create %s (%s)", what, path, partial, strerror(errno));
            return -1;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        clcnn__note(msg, cap, "%s %s: not a directory", what, path);
        return -1;
    }
    return 0;
}

/* A directory's entries on disk (after a rename into it). */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return -1;
    int failed = fsync(fd) != 0 && errno != EINVAL; /* some file systems cannot sync a directory */
    close(fd);
    return failed ? -1 : 0;
}

int clcnn__write_atomic(const char *dir, const char *name, int (*write)(FILE *fp, const void *arg), const void *arg,
                        int sync, char *final, size_t final_cap, char *msg, size_t cap)
{
    char path[CLCNN_PATH_CAPACITY], temporary[CLCNN_PATH_CAPACITY], dot_name[300];
    if (clcnn__join_path(path, sizeof path, dir, name) ||
        snprintf(dot_name, sizeof dot_name, ".%s.XXXXXX", name) >= (int)sizeof dot_name ||
        clcnn__join_path(temporary, sizeof temporary, dir, dot_name)) {
        clcnn__note(msg, cap, "%s under %s: the path is too long", name, dir);
        return -1;
    }
    int fd = mkstemp(temporary);
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fp == NULL) {
        clcnn__note(msg, cap, "%s: cannot create a temporary file in %s (%s)", path, dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fchmod(fd, 0644); /* mkstemp's 0600 would keep the file from others sharing the directory */
    int failed = write(fp, arg) || (sync && (fflush(fp) != 0 || fsync(fd) != 0));
    failed = fclose(fp) != 0 || failed;
    if (failed || rename(temporary, path) != 0) {
        clcnn__note(msg, cap, "%s: cannot write it (%s)", path, strerror(errno));
        unlink(temporary);
        return -1;
    }
    if (sync && sync_dir(dir)) {
        clcnn__note(msg, cap, "%s: written, but its directory cannot be synced (%s)", path, strerror(errno));
        return -1;
    }
    if (final && final_cap)
        snprintf(final, final_cap, "%s", path);
    return 0;
}
