/* libFuzzer harness for the safetensors reader and, through it, the JSON
 * parser: any input must be accepted or refused with CLGAN_ERR_FORMAT,
 * never crash, leak or read out of bounds. See README.md for the build. */
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

/* Parse -> print -> parse -> print must reach a fixed point. */
static void json_round_trip(const uint8_t *data, size_t size) {
    clgan_json *j = NULL;
    if (clgan_json_parse((const char *)data, size, &j) != CLGAN_OK) return;
    clgan_jbuf a, b;
    clgan_jbuf_init(&a);
    clgan_jbuf_init(&b);
    clgan_jbuf_value(&a, j);
    if (clgan_jbuf_finish(&a) != CLGAN_OK) abort();
    clgan_json *j2 = NULL;
    if (clgan_json_parse(a.data, a.len, &j2) != CLGAN_OK) abort();
    clgan_jbuf_value(&b, j2);
    if (clgan_jbuf_finish(&b) != CLGAN_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0) abort();
    clgan_json_free(j2);
    clgan_jbuf_free(&b);
    clgan_jbuf_free(&a);
    clgan_json_free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_round_trip(data, size);

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
