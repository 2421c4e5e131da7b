/* libFuzzer harness for the run configuration reader (the "config" of a
 * checkpoint and config.json): any JSON must be read or refused with a
 * message, and a configuration that reads must survive a write-then-read
 * round trip unchanged: what clgan_run_config_to_json writes must read back
 * and write byte-identical JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clgan/train.h"

/* Writes rc; the text is returned in b (finished) or the process aborts. */
static void write_config(const clgan_run_config *rc, clgan_jbuf *b) {
    clgan_jbuf_init(b);
    clgan_run_config_to_json(rc, b);
    if (clgan_jbuf_finish(b) != CLGAN_OK) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    clgan_json *j = NULL;
    if (clgan_json_parse((const char *)data, size, &j) != CLGAN_OK) return 0;
    clgan_clear_error();
    clgan_run_config rc;
    clgan_status st = clgan_run_config_from_json(j, &rc);
    clgan_json_free(j);
    if (st != CLGAN_OK) {
        if (!clgan_last_error()[0]) abort();
        return 0;
    }
    clgan_jbuf a, b;
    write_config(&rc, &a);
    clgan_json *j2 = NULL;
    if (clgan_json_parse(a.data, a.len, &j2) != CLGAN_OK) abort();
    clgan_run_config rc2;
    if (clgan_run_config_from_json(j2, &rc2) != CLGAN_OK) abort();
    clgan_json_free(j2);
    write_config(&rc2, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) abort();
    clgan_jbuf_free(&a);
    clgan_jbuf_free(&b);
    return 0;
}
