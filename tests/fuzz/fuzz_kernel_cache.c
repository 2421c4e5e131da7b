/* libFuzzer harness for the kernel-cache entry parser (src/runtime/kcache.c).
 * Input: key[32] | entry. The entry is parsed as read from disk, then once
 * more with its payload checksum recomputed, because mutations alone almost
 * never forge a SHA-256 and the accepting path must be reached too. A refusal
 * must say why; an acceptance must describe a payload inside the entry. */
#include <stdint.h>
#include "core/sha256.h"
#include <stdlib.h>
#include <string.h>

#include "clgan/core.h"
#include "runtime/kcache.h"

static void parse(const uint8_t *entry, size_t len, const uint8_t key[32]) {
    size_t off = (size_t)-1, n = (size_t)-1;
    char why[160] = "";
    if (!clgan_kcache_parse(entry, len, key, &off, &n, why, sizeof why)) {
        if (!why[0] || !memchr(why, 0, sizeof why)) abort();
        return;
    }
    if (off != CLGAN_KCACHE_HEADER || off > len || n != len - off || n > CLGAN_KCACHE_MAX_BYTES) abort();
    if (memcmp(entry, CLGAN_KCACHE_MAGIC, 8) != 0 || memcmp(entry + 16, key, 32) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 32) return 0;
    const uint8_t *key = data;
    /* a copy of exactly the entry's length, so ASan catches a read past it */
    size_t len = size - 32;
    uint8_t *entry = malloc(len ? len : 1);
    if (!entry) abort();
    memcpy(entry, data + 32, len);
    parse(entry, len, key);
    if (len >= CLGAN_KCACHE_HEADER) {
        clgan_sha256 h;
        clgan_sha256_init(&h);
        clgan_sha256_update(&h, entry + CLGAN_KCACHE_HEADER, len - CLGAN_KCACHE_HEADER);
        clgan_sha256_final(&h, entry + 56);
        parse(entry, len, key);
    }
    free(entry);
    return 0;
}
