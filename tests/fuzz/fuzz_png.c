/* libFuzzer harness for the PNG reader: any input must decode or be refused
 * with a status, never crash, leak or read out of bounds. Each input is read
 * as is, then again with every chunk CRC recomputed: libpng refuses a chunk
 * with a bad CRC before looking inside, so without the second read nearly
 * every mutation of a header field would stop there. See README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clgan/io.h"

static void read_png(const uint8_t *data, size_t size) {
    static const int wants[2] = {1, 3};
    for (int k = 0; k < 2; k++) {
        uint8_t *px = NULL;
        int w = 0, h = 0;
        clgan_status st = clgan_png_read_memory(data, size, "fuzz", wants[k], &px, &w, &h);
        if (st != CLGAN_OK) {
            if (px || (st != CLGAN_ERR_FORMAT && st != CLGAN_ERR_NOMEM)) abort();
            continue;
        }
        if (w < 1 || h < 1 || w > CLGAN_PNG_MAX_SIDE || h > CLGAN_PNG_MAX_SIDE) abort();
        /* read the last byte the caller may read */
        volatile uint8_t last = px[(size_t)w * h * wants[k] - 1];
        (void)last;
        free(px);
    }
}

/* Rewrites the CRC of every whole chunk after the signature; returns
 * whether any changed. */
static int fix_crcs(uint8_t *p, size_t size) {
    int changed = 0;
    size_t at = 8;
    while (at + 12 <= size) {
        size_t len = (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 | (size_t)p[at + 2] << 8 | p[at + 3];
        if (len > size - at - 12) break;
        uLong crc = crc32(0L, p + at + 4, (uInt)(len + 4));
        uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
        if (memcmp(p + at + 8 + len, be, 4) != 0) {
            memcpy(p + at + 8 + len, be, 4);
            changed = 1;
        }
        at += 12 + len;
    }
    return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    read_png(data, size);
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) abort();
    memcpy(copy, data, size);
    if (fix_crcs(copy, size)) read_png(copy, size);
    free(copy);
    return 0;
}
