/* Philox-4x32-10 ("Parallel random numbers: as
 * easy as 1, 2, 3", SC'11) and the uniform/normal transforms shared with
 * cl/rng.cl. Keep the two files in step: tests compare their streams. */
#include "clgan/core.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void clgan_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

float clgan_u32_to_unit(uint32_t x) {
    /* (x + 1) / 2^32 rounded to float: never 0, so log() is safe. The top 24
     * bits are used so the conversion is exact on every device. */
    return (float)((x >> 8) + 1u) * (1.0f / 16777216.0f);
}

static void block(uint64_t seed, uint64_t offset, uint64_t j, uint32_t out[4]) {
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    uint32_t ctr[4] = {(uint32_t)j, (uint32_t)(j >> 32), (uint32_t)offset, (uint32_t)(offset >> 32)};
    clgan_philox4x32(key, ctr, out);
}

/* Elements first .. first + n - 1 of the stream: element e is word e % 4 of block e / 4 */
void clgan_rng_uniform_at(uint64_t seed, uint64_t offset, uint64_t first, float *out, size_t n) {
    for (size_t k = 0; k < n;) {
        uint64_t e = first + k;
        uint32_t r[4];
        block(seed, offset, e / 4, r);
        for (unsigned w = (unsigned)(e % 4); w < 4 && k < n; w++) out[k++] = clgan_u32_to_unit(r[w]);
    }
}

void clgan_rng_normal_at(uint64_t seed, uint64_t offset, uint64_t first, float *out, size_t n) {
    for (size_t k = 0; k < n;) {
        uint64_t e = first + k;
        uint32_t r[4];
        float z[4];
        block(seed, offset, e / 4, r);
        for (int p = 0; p < 2; p++) {
            float u1 = clgan_u32_to_unit(r[2 * p]);
            float u2 = clgan_u32_to_unit(r[2 * p + 1]);
            float rad = sqrtf(-2.0f * logf(u1));
            float th = 6.2831853071795864769f * u2;
            z[2 * p] = rad * cosf(th);
            z[2 * p + 1] = rad * sinf(th);
        }
        for (unsigned w = (unsigned)(e % 4); w < 4 && k < n; w++) out[k++] = z[w];
    }
}

void clgan_rng_uniform(uint64_t seed, uint64_t offset, float *out, size_t n) {
    clgan_rng_uniform_at(seed, offset, 0, out, n);
}

void clgan_rng_normal(uint64_t seed, uint64_t offset, float *out, size_t n) {
    clgan_rng_normal_at(seed, offset, 0, out, n);
}

void clgan_rng_init(clgan_rng *r, uint64_t seed) {
    r->seed = seed;
    r->counter = 0;
}

uint32_t clgan_rng_u32(clgan_rng *r) {
    /* one Philox block per call keeps the state a single counter, which is
     * what a checkpoint needs to store */
    uint32_t out[4];
    block(r->seed, 0xC1A9u, r->counter++, out);
    return out[0];
}

uint32_t clgan_rng_below(clgan_rng *r, uint32_t n) {
    if (n <= 1) return 0;
    uint32_t limit = UINT32_MAX - UINT32_MAX % n; /* reject the biased tail */
    for (;;) {
        uint32_t x = clgan_rng_u32(r);
        if (x < limit) return x % n;
    }
}
