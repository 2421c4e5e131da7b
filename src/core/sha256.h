/* Internal: SHA-256 (FIPS 180-4), for the kernel cache's keys, generated
 * kernels' names and the tune records. Not part of the library's API. */
#ifndef CLGAN_CORE_SHA256_H
#define CLGAN_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4), used for cache keys and integrity checks. */
typedef struct {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t fill;
} clgan_sha256;
void clgan_sha256_init(clgan_sha256 *c);
void clgan_sha256_update(clgan_sha256 *c, const void *data, size_t n);
void clgan_sha256_final(clgan_sha256 *c, uint8_t out[32]);
void clgan_sha256_hex(const uint8_t digest[32], char out[65]);

#endif
