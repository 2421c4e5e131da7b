/* Internal: the kernel-cache entry format (see program.c), parsed from
 * memory so the fuzz harness reaches exactly what a cache read runs. */
#ifndef CLGAN_KCACHE_H
#define CLGAN_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLGAN_KCACHE_MAGIC "CLGANKC"
#define CLGAN_KCACHE_FORMAT 1u
#define CLGAN_KCACHE_HEADER (8 + 4 + 4 + 32 + 8 + 32)
/* the largest entry read: program binaries are megabytes, not gigabytes */
#define CLGAN_KCACHE_MAX_BYTES ((uint64_t)256 << 20)

/* Checks an entry of len bytes against key (magic, format, key, payload
 * length, SHA-256 of the payload). On success *payload_off and *payload_len give
 * the program binary inside buf; otherwise false and why says what is off. */
bool clgan_kcache_parse(const uint8_t *buf, size_t len, const uint8_t key[32], size_t *payload_off,
                        size_t *payload_len, char *why, size_t why_cap);

#endif
