/* Kernel-cache entries: "CLGANKC\0" | u32 format | u32 0 | key[32] | u64 n |
 * sha256(payload)[32] | payload[n], little-endian. */
#include "runtime/kcache.h"
#include "core/sha256.h"
#include "clgan/core.h"

#include <stdio.h>
#include <string.h>

static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

bool clgan_kcache_parse(const uint8_t *buf, size_t len, const uint8_t key[32], size_t *payload_off,
                        size_t *payload_len, char *why, size_t why_cap) {
    if (len < CLGAN_KCACHE_HEADER) {
        snprintf(why, why_cap, "truncated (%zu bytes, header is %d)", len, CLGAN_KCACHE_HEADER);
        return false;
    }
    if (memcmp(buf, CLGAN_KCACHE_MAGIC, 8) != 0 || get_u32(buf + 8) != CLGAN_KCACHE_FORMAT) {
        snprintf(why, why_cap, "bad magic or format version");
        return false;
    }
    if (memcmp(buf + 16, key, 32) != 0) {
        snprintf(why, why_cap, "stale (key differs)");
        return false;
    }
    uint64_t n = get_u64(buf + 48);
    if (n != (uint64_t)(len - CLGAN_KCACHE_HEADER)) {
        snprintf(why, why_cap, "truncated (payload %zu bytes, header says %llu)", len - CLGAN_KCACHE_HEADER,
                 (unsigned long long)n);
        return false;
    }
    uint8_t digest[32];
    clgan_sha256 h;
    clgan_sha256_init(&h);
    clgan_sha256_update(&h, buf + CLGAN_KCACHE_HEADER, (size_t)n);
    clgan_sha256_final(&h, digest);
    if (memcmp(digest, buf + 56, 32) != 0) {
        snprintf(why, why_cap, "corrupt (checksum mismatch)");
        return false;
    }
    *payload_off = CLGAN_KCACHE_HEADER;
    *payload_len = (size_t)n;
    return true;
}
