// libFuzzer harness for the idx and CIFAR-10 loaders (not built by meson):
//
//   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
//     -DCLGAN_VERSION='"fuzz"' -Iinclude -Isrc tests/fuzz/fuzz_idx.c \
//     src/core/*.c src/data/*.c src/io/*.c -lz -lpng -lm -o fuzz_idx
//   ./fuzz_idx -max_len=4096 -timeout=10 corpus/
//
// (line comments: the "/*" in those globs would trip -Wcomment in a block comment)
/*
 * The first input byte picks what the rest becomes:
 *   0: an idx3 images file, as is (the fuzzer can write gzip itself)
 *   1: an idx3 images file, gzip-compressed here so that mutations reach the
 *      idx parser behind a valid gzip stream
 *   2: an idx3 images file and an idx1 labels file, split at the offset given
 *      by the next two bytes (little-endian)
 *   3: a CIFAR-10 batch file
 * The loaders read files, so each input is written to scratch files made once
 * per process. A load that succeeds must give a consistent data set;
 * anything else must fail with a message. */
#include "clgan/data.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* two scratch files per fuzzing process, removed at exit */
static char images_path[64], labels_path[64];

static void remove_scratch(void) {
    unlink(images_path);
    unlink(labels_path);
}

static void make_scratch(void) {
    if (images_path[0]) return;
    snprintf(images_path, sizeof images_path, "/tmp/clgan-fuzz-img-XXXXXX");
    snprintf(labels_path, sizeof labels_path, "/tmp/clgan-fuzz-lbl-XXXXXX");
    int a = mkstemp(images_path), b = mkstemp(labels_path);
    if (a < 0 || b < 0) abort();
    close(a);
    close(b);
    atexit(remove_scratch);
}

static void write_file(const char *path, const uint8_t *data, size_t size) {
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

static void write_gzip(const char *path, const uint8_t *data, size_t size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, size);
    uint8_t *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    write_file(path, out, cap - z.avail_out);
    deflateEnd(&z);
    free(out);
}

static void check(clgan_status st, clgan_dataset *ds) {
    if (st != CLGAN_OK) {
        /* failures leave nothing behind and say why */
        if (ds->x || ds->y || ds->n || clgan_last_error()[0] == 0) abort();
        return;
    }
    if (ds->n <= 0 || ds->c <= 0 || ds->h <= 0 || ds->w <= 0 || !ds->x) abort();
    size_t total = (size_t)ds->n * clgan_dataset_sample_floats(ds);
    for (size_t i = 0; i < total; i++)
        if (!(ds->x[i] >= -1.0f && ds->x[i] <= 1.0f)) abort();
    if (ds->y)
        for (int i = 0; i < ds->n; i++)
            if (ds->y[i] < 0 || ds->y[i] >= ds->num_classes) abort();
    clgan_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    make_scratch();
    clgan_clear_error();
    uint8_t mode = data[0] & 3;
    data++;
    size--;
    clgan_dataset ds;
    clgan_status st;
    switch (mode) {
    case 0:
        write_file(images_path, data, size);
        st = clgan_dataset_load_idx(images_path, NULL, &ds);
        break;
    case 1:
        write_gzip(images_path, data, size);
        st = clgan_dataset_load_idx(images_path, NULL, &ds);
        break;
    case 2: {
        if (size < 2) return 0;
        size_t split = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
        if (split > size) split = size;
        write_file(images_path, data, split);
        write_file(labels_path, data + split, size - split);
        st = clgan_dataset_load_idx(images_path, labels_path, &ds);
        break;
    }
    default:
        write_file(images_path, data, size);
        st = clgan_dataset_load_cifar10(images_path, true, &ds);
        break;
    }
    check(st, &ds);
    return 0;
}
