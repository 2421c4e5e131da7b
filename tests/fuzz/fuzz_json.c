/* libFuzzer harness for the JSON parser and writer: any input must parse or
 * be refused with a message, and what parses must print to text that parses
 * back and prints the same (print/parse reach a fixed point after one round). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    clgan_clear_error();
    clgan_json *j = NULL;
    clgan_status st = clgan_json_parse((const char *)data, size, &j);
    if (st != CLGAN_OK) {
        if (j || (st != CLGAN_ERR_FORMAT && st != CLGAN_ERR_NOMEM) || !clgan_last_error()[0]) abort();
        return 0;
    }
    clgan_jbuf a, b;
    clgan_jbuf_init(&a);
    clgan_jbuf_init(&b);
    clgan_jbuf_value(&a, j);
    if (clgan_jbuf_finish(&a) != CLGAN_OK) abort();
    /* the writer promises valid UTF-8 whatever the tree holds */
    if (!clgan_utf8_valid(a.data, a.len)) abort();
    clgan_json *j2 = NULL;
    if (clgan_json_parse(a.data, a.len, &j2) != CLGAN_OK) abort();
    clgan_jbuf_value(&b, j2);
    if (clgan_jbuf_finish(&b) != CLGAN_OK || a.len != b.len || memcmp(a.data, b.data, a.len) != 0) abort();
    clgan_json_free(j2);
    clgan_jbuf_free(&b);
    clgan_jbuf_free(&a);
    clgan_json_free(j);
    return 0;
}
