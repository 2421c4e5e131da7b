/* Scratch files for the harnesses whose targets read paths, not memory:
 * made once per fuzzing process (in $TMPDIR or /tmp) and removed at exit. */
#ifndef CLGAN_FUZZ_SCRATCH_H
#define CLGAN_FUZZ_SCRATCH_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

enum { SCRATCH_MAX = 2, SCRATCH_PATH = 512 };
static char scratch_paths[SCRATCH_MAX][SCRATCH_PATH];

static inline void scratch_remove(void) {
    for (int i = 0; i < SCRATCH_MAX; i++)
        if (scratch_paths[i][0]) unlink(scratch_paths[i]);
}

/* The path of scratch file i (< SCRATCH_MAX), created on first use. */
static inline const char *scratch_path(int i) {
    if (!scratch_paths[i][0]) {
        static int registered;
        const char *dir = getenv("TMPDIR");
        snprintf(scratch_paths[i], SCRATCH_PATH, "%s/clgan-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
        int fd = mkstemp(scratch_paths[i]);
        if (fd < 0) abort();
        close(fd);
        if (!registered++) atexit(scratch_remove);
    }
    return scratch_paths[i];
}

static inline void scratch_write(const char *path, const uint8_t *data, size_t size) {
    int fd = open(path, O_WRONLY | O_TRUNC);
    if (fd < 0) abort();
    while (size > 0) {
        ssize_t w = write(fd, data, size);
        if (w <= 0) abort();
        data += w;
        size -= (size_t)w;
    }
    close(fd);
}

/* Compressed here so that mutations reach the parser behind a valid gzip
 * stream (the fuzzer seldom forges one, CRC included). */
static inline void scratch_write_gzip(const char *path, const uint8_t *data, size_t size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)size);
    uint8_t *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    scratch_write(path, out, cap - z.avail_out);
    deflateEnd(&z);
    free(out);
}

#endif
