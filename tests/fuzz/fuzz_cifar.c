/* libFuzzer harness for the CIFAR-10 batch reader. The first input byte
 * picks how the rest is stored: even, as is (the fuzzer can write gzip
 * itself); odd, gzip-compressed here. It is written to a scratch file and
 * loaded as one batch file. A load that succeeds must give 32x32 RGB images
 * in [-1, 1] with labels 0-9; a refusal must say why and leave nothing. */
#include "clgan/data.h"
#include "fuzz_scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    clgan_clear_error();
    const char *path = scratch_path(0);
    if (data[0] & 1)
        scratch_write_gzip(path, data + 1, size - 1);
    else
        scratch_write(path, data + 1, size - 1);
    clgan_dataset ds;
    clgan_status st = clgan_dataset_load_cifar10(path, true, &ds);
    if (st != CLGAN_OK) {
        if (ds.x || ds.y || ds.n || clgan_last_error()[0] == 0) abort();
        return 0;
    }
    if (ds.n <= 0 || ds.c != 3 || ds.h != 32 || ds.w != 32 || !ds.x || !ds.y || ds.num_classes != 10) abort();
    size_t total = (size_t)ds.n * clgan_dataset_sample_floats(&ds);
    for (size_t i = 0; i < total; i++)
        if (!(ds.x[i] >= -1.0f && ds.x[i] <= 1.0f)) abort();
    for (int i = 0; i < ds.n; i++)
        if (ds.y[i] < 0 || ds.y[i] >= 10) abort();
    clgan_dataset_free(&ds);
    return 0;
}
