/* libFuzzer harness for the safetensors reader: any input must be accepted
 * or refused with CLGAN_ERR_FORMAT (or NOMEM), never crash, leak or read out
 * of bounds, and an accepted file must answer every lookup consistently.
 * (The JSON parser behind the header has its own harness, fuzz_json.c.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"

/* Reads every byte a caller could read, so ASan sees any bad pointer. */
static uint8_t touch(const void *p, size_t n) {
    const volatile uint8_t *b = p;
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++) acc ^= b[i];
    return acc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    clgan_st_file *f = NULL;
    clgan_status st = clgan_st_read_memory(data, size, "fuzz", &f);
    if (st != CLGAN_OK) {
        if (st != CLGAN_ERR_FORMAT && st != CLGAN_ERR_NOMEM) abort();
        if (f) abort();
        return 0;
    }
    volatile uint8_t sink = 0;
    int n = clgan_st_count(f);
    for (int i = 0; i < n; i++) {
        const clgan_st_tensor *t = clgan_st_at(f, i);
        if (t->nbytes && ((uintptr_t)t->data % 8 != 0)) abort();
        sink ^= touch(t->data, t->nbytes);
        sink ^= touch(t->name, strlen(t->name));
        if (clgan_st_find(f, t->name) != t) abort();
        const void *p;
        if (clgan_st_get(f, t->name, t->dtype, t->ndim, t->shape, &p) != CLGAN_OK || p != t->data) abort();
    }
    for (int i = 0; i < clgan_st_meta_count(f); i++) {
        const char *k, *v;
        if (!clgan_st_meta_at(f, i, &k, &v)) abort();
        if (clgan_st_meta(f, k) != v) abort();
        sink ^= touch(v, strlen(v));
    }
    (void)sink;
    clgan_st_close(f);
    return 0;
}
