/* libFuzzer harness for the idx loader (MNIST, Fashion-MNIST). The first
 * input byte picks what the rest becomes:
 *   0: an idx3 images file, as is (the fuzzer can write gzip itself)
 *   1: an idx3 images file, gzip-compressed here
 *   2: an idx3 images file and an idx1 labels file, split at the offset given
 *      by the next two bytes (little-endian)
 * The loader reads files, so each input is written to scratch files. A load
 * that succeeds must give a consistent data set; anything else must fail
 * with a message and leave nothing behind. (CIFAR-10: fuzz_cifar.c.) */
#include "clgan/data.h"
#include "fuzz_scratch.h"

static void check(clgan_status st, clgan_dataset *ds) {
    if (st != CLGAN_OK) {
        if (ds->x || ds->y || ds->n || clgan_last_error()[0] == 0) abort();
        return;
    }
    if (ds->n <= 0 || ds->c != 1 || ds->h <= 0 || ds->w <= 0 || !ds->x) abort();
    size_t total = (size_t)ds->n * clgan_dataset_sample_floats(ds);
    for (size_t i = 0; i < total; i++)
        if (!(ds->x[i] >= -1.0f && ds->x[i] <= 1.0f)) abort();
    if (ds->y)
        for (int i = 0; i < ds->n; i++)
            if (ds->y[i] < 0 || ds->y[i] >= ds->num_classes) abort();
    clgan_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    clgan_clear_error();
    const char *images = scratch_path(0), *labels = scratch_path(1);
    uint8_t mode = data[0] % 3;
    data++;
    size--;
    clgan_dataset ds;
    clgan_status st;
    if (mode == 0) {
        scratch_write(images, data, size);
        st = clgan_dataset_load_idx(images, NULL, &ds);
    } else if (mode == 1) {
        scratch_write_gzip(images, data, size);
        st = clgan_dataset_load_idx(images, NULL, &ds);
    } else {
        if (size < 2) return 0;
        size_t split = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2;
        size -= 2;
        if (split > size) split = size;
        scratch_write(images, data, split);
        scratch_write(labels, data + split, size - split);
        st = clgan_dataset_load_idx(images, labels, &ds);
    }
    check(st, &ds);
    return 0;
}
