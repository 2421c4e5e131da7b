/* CIFAR-10, binary version ("Learning Multiple Layers of Features from Tiny Images", 2009, https://www.cs.toronto.edu/~kriz/cifar.html):
 * records of <1 label byte><1024 R><1024 G><1024 B>, each plane 32x32 row-major,
 * so a record after its label byte is already one CHW sample. */
#include "data_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { CIFAR_SIDE = 32, CIFAR_PIXELS = 3 * CIFAR_SIDE * CIFAR_SIDE, CIFAR_RECORD = 1 + CIFAR_PIXELS };
enum { CIFAR_CLASSES = 10, CIFAR_TRAIN_FILES = 5 };
enum { PATH_CAP = 4096 };

/* The records of one file, checked. */
static clgan_status read_cifar_file(const char *path, uint8_t **data, size_t *records) {
    clgan_status st = CLGAN_OK;
    data_file f;
    uint8_t *buf = NULL;
    size_t len = 0;
    *data = NULL;
    *records = 0;

    st = data_file_open(&f, path);
    if (st != CLGAN_OK) return st;
    if (f.size >= 0 && (f.size == 0 || f.size % CIFAR_RECORD != 0)) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT,
                       "%s: offset %lld: file ends inside record %lld (%lld of %d bytes); the size must be a "
                       "non-zero multiple of %d (1 label byte + 32\u00d732\u00d73 pixels)",
                       path, f.size, f.size / CIFAR_RECORD, f.size % CIFAR_RECORD, CIFAR_RECORD, CIFAR_RECORD);
        goto fail;
    }
    /* A gzip'd batch has no size up front: its bound is what it decompresses
     * to, and the buffer grows only as that arrives. */
    size_t max_bytes = SIZE_MAX / CIFAR_RECORD > (size_t)INT_MAX ? (size_t)INT_MAX * CIFAR_RECORD : SIZE_MAX;
    st = data_file_read_alloc(&f, max_bytes, &buf, &len);
    if (st != CLGAN_OK) goto fail;
    if (len == 0 || len % CIFAR_RECORD != 0) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT,
                       "%s: offset %zu: data ends inside record %zu (%zu of %d bytes); the size must be a "
                       "non-zero multiple of %d (1 label byte + 32\u00d732\u00d73 pixels)",
                       path, len, len / CIFAR_RECORD, len % CIFAR_RECORD, CIFAR_RECORD, CIFAR_RECORD);
        goto fail;
    }
    bool end = false;
    st = data_file_at_end(&f, &end);
    if (st != CLGAN_OK) goto fail;
    if (!end) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %llu: more than %zu records", path, (unsigned long long)f.off,
                       max_bytes / CIFAR_RECORD);
        goto fail;
    }
    size_t count = len / CIFAR_RECORD;
    for (size_t r = 0; r < count; r++) {
        uint8_t label = buf[r * CIFAR_RECORD];
        if (label >= CIFAR_CLASSES) {
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %zu: label %u of record %zu, expected < %d", path,
                           r * CIFAR_RECORD, label, r, CIFAR_CLASSES);
            goto fail;
        }
    }
    data_file_close(&f);
    *data = buf;
    *records = count;
    return CLGAN_OK;

fail:
    free(buf);
    data_file_close(&f);
    return st;
}

static bool is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static clgan_status join(char *out, const char *dir, const char *name) {
    int k = snprintf(out, PATH_CAP, "%s/%s", dir, name);
    if (k < 0 || k >= PATH_CAP) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s/%s: path too long", dir, name);
    return CLGAN_OK;
}

clgan_status clgan_dataset_load_cifar10(const char *path, bool train, clgan_dataset *out) {
    clgan_status st = CLGAN_OK;
    char bufs[CIFAR_TRAIN_FILES][PATH_CAP];
    const char *files[CIFAR_TRAIN_FILES] = {0};
    char inner[PATH_CAP];
    int nfiles = 0;
    uint8_t *data[CIFAR_TRAIN_FILES] = {0};
    size_t records[CIFAR_TRAIN_FILES] = {0};

    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_load_cifar10: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_load_cifar10: path is NULL");

    struct stat sb;
    if (stat(path, &sb) != 0) {
        st = CLGAN_ERR(errno == ENOENT ? CLGAN_ERR_NOT_FOUND : CLGAN_ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISDIR(sb.st_mode)) {
        files[0] = path;
        nfiles = 1;
    } else {
        const char *dir = path;
        const char *first = train ? "data_batch_1.bin" : "test_batch.bin";
        st = join(bufs[0], dir, first);
        if (st != CLGAN_OK) goto fail;
        if (!is_file(bufs[0])) {
            /* also accept the folder the tarball was unpacked in */
            st = join(inner, path, "cifar-10-batches-bin");
            if (st != CLGAN_OK) goto fail;
            if (is_dir(inner)) dir = inner;
        }
        nfiles = train ? CIFAR_TRAIN_FILES : 1;
        for (int i = 0; i < nfiles; i++) {
            char name[32];
            if (train)
                snprintf(name, sizeof name, "data_batch_%d.bin", i + 1);
            else
                snprintf(name, sizeof name, "test_batch.bin");
            st = join(bufs[i], dir, name);
            if (st != CLGAN_OK) goto fail;
            if (!is_file(bufs[i])) {
                st = CLGAN_ERR(CLGAN_ERR_NOT_FOUND,
                               "%s: no %s (CIFAR-10 binary version: %s); looked in %s and %s/cifar-10-batches-bin",
                               path, name, train ? "data_batch_1..5.bin" : "test_batch.bin", path, path);
                goto fail;
            }
            files[i] = bufs[i];
        }
    }

    size_t total = 0;
    for (int i = 0; i < nfiles; i++) {
        st = read_cifar_file(files[i], &data[i], &records[i]);
        if (st != CLGAN_OK) goto fail;
        total += records[i];
    }
    if (total > INT_MAX) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: %zu records, more than %d", path, total, INT_MAX);
        goto fail;
    }
    st = data_dataset_alloc(out, "cifar10", path, (int)total, 3, CIFAR_SIDE, CIFAR_SIDE, true);
    if (st != CLGAN_OK) goto fail;
    out->num_classes = CIFAR_CLASSES;
    size_t s = 0;
    for (int i = 0; i < nfiles; i++) {
        for (size_t r = 0; r < records[i]; r++, s++) {
            const uint8_t *rec = data[i] + r * CIFAR_RECORD;
            out->y[s] = rec[0];
            data_u8_to_unit(rec + 1, CIFAR_PIXELS, out->x + s * CIFAR_PIXELS);
        }
        free(data[i]);
        data[i] = NULL;
    }
    return CLGAN_OK;

fail:
    for (int i = 0; i < CIFAR_TRAIN_FILES; i++) free(data[i]);
    clgan_dataset_free(out);
    return st;
}
