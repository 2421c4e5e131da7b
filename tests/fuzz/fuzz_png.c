/* libFuzzer harness for the PNG reader: any input must decode or be refused
 * with a status, never crash, leak or read out of bounds. See README.md. */
#include <stdint.h>
#include <stdlib.h>

#include "clgan/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
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
    return 0;
}
