/* Helpers for the data tests: a scratch folder per test, and writers for the
 * files the loaders read (idx raw/gzip, CIFAR-10 records, PNG via libpng). */
#ifndef CLGAN_TESTS_DATA_FIXTURES_H
#define CLGAN_TESTS_DATA_FIXTURES_H

#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../tmpdir.h"
#include "clgan/data.h"

/* cmocka after the system headers it needs */
#include <setjmp.h>
#include <stddef.h>
#include <cmocka.h>

enum { FX_PATH = 4096 };

/* A new empty folder under $TMPDIR (or /tmp): tests/tmpdir.h */
static inline void fx_tmpdir(char out[FX_PATH]) { assert_true(test_mkdtemp(out, FX_PATH, "data")); }

static inline void fx_rmtree(const char *path) { test_rmtree(path); }

static inline void fx_path(char out[FX_PATH], const char *dir, const char *name) {
    int k = snprintf(out, FX_PATH, "%s/%s", dir, name);
    assert_true(k > 0 && k < FX_PATH);
}

static inline void fx_mkdir(const char *dir, const char *name) {
    char p[FX_PATH];
    fx_path(p, dir, name);
    assert_int_equal(mkdir(p, 0700), 0);
}

static inline void fx_write(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static inline void fx_write_gz(const char *path, const void *data, size_t len) {
    gzFile g = gzopen(path, "wb9");
    assert_non_null(g);
    if (len) assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

static inline uint8_t *fx_read(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static inline void fx_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* An idx3 u8 image file in memory: header (magic, n, rows, cols) + pixels. */
static inline uint8_t *fx_idx3(uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols, const uint8_t *px,
                               size_t px_len, size_t *len) {
    uint8_t *b = malloc(16 + px_len);
    assert_non_null(b);
    fx_be32(b, magic);
    fx_be32(b + 4, n);
    fx_be32(b + 8, rows);
    fx_be32(b + 12, cols);
    if (px_len) memcpy(b + 16, px, px_len);
    *len = 16 + px_len;
    return b;
}

static inline uint8_t *fx_idx1(uint32_t magic, uint32_t n, const uint8_t *labels, size_t count, size_t *len) {
    uint8_t *b = malloc(8 + count);
    assert_non_null(b);
    fx_be32(b, magic);
    fx_be32(b + 4, n);
    if (count) memcpy(b + 8, labels, count);
    *len = 8 + count;
    return b;
}

/* pixels: (h, w, channels) interleaved */
static inline void fx_write_png(const char *path, const uint8_t *px, int w, int h, int channels) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = (png_uint_32)w;
    im.height = (png_uint_32)h;
    im.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&im, path, 0, px, 0, NULL));
}

/* the float a loader must produce for pixel p */
static inline float fx_unit(uint8_t p) { return (float)p / 127.5f - 1.0f; }

/* the pixel a float in [-1, 1] came from */
static inline int fx_pixel(float v) { return (int)lrintf((v + 1.0f) * 127.5f); }

/* fails the test unless the last error mentions every given string */
static inline void fx_error_has(const char *first, ...) {
    const char *msg = clgan_last_error();
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *)) {
        if (!strstr(msg, s)) {
            print_error("error message \"%s\" lacks \"%s\"\n", msg, s);
            va_end(ap);
            fail();
        }
    }
    va_end(ap);
}

#endif
