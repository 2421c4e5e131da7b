/* Helpers shared by the io tests: a scratch folder under /tmp, file
 * writing/reading, and message checks. Header-only so each test is one
 * executable built from one .c file. */
#ifndef CLGAN_IO_TEST_UTIL_H
#define CLGAN_IO_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clgan/core.h"
#include "../tmpdir.h"

/* A new empty folder $TMPDIR/clgan-io-XXXXXX (caller frees the string). */
static inline char *tu_mkdtemp(void) {
    char dir[4096];
    return test_mkdtemp(dir, sizeof dir, "io") ? strdup(dir) : NULL;
}

/* "<dir>/<name>" in a new string. */
static inline char *tu_path(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Removes a folder and everything in it (used on our own scratch folders). */
static inline void tu_rmtree(const char *dir) { test_rmtree(dir); }

/* Entries in a folder, not counting "." and ".."; -1 if it cannot be read. */
static inline int tu_count_entries(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

/* Whether any entry of dir contains `part` in its name. */
static inline int tu_dir_has(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, part)) found = 1;
    closedir(d);
    return found;
}

static inline int tu_write(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

/* Whole file into a new buffer (NULL on failure). */
static inline unsigned char *tu_read(const char *path, size_t *len) {
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) *len = (size_t)(n > 0 ? n : 0);
    return buf;
}

/* Asserts that the last error message contains `part`, showing it if not. */
#define tu_assert_msg_has(part)                                                                              \
    do {                                                                                                     \
        const char *msg_ = clgan_last_error();                                                               \
        if (!strstr(msg_, (part))) fail_msg("error message \"%s\" lacks \"%s\"", msg_, (part));              \
    } while (0)

/* A tiny deterministic generator for test data. */
static inline uint32_t tu_rand(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

#endif
