/* rng.cl: Philox-4x32-10 ("Parallel random
 * numbers: as easy as 1, 2, 3", SC'11) and the uniform and normal streams.
 * Mirrors src/core/philox.c word for word: element i of the stream
 * (seed, offset) is word i % 4 of Philox(key = seed, counter = (i / 4 as
 * 64 bits, offset as 64 bits)). 64-bit values arrive as (low, high) uint
 * pairs. Uniforms are bit-identical to the host; normals agree to the
 * accuracy of the device's log, sqrt, cos and sin. */

#define RNG_PHILOX_M0 0xD2511F53u
#define RNG_PHILOX_M1 0xCD9E8D57u
#define RNG_PHILOX_W0 0x9E3779B9u
#define RNG_PHILOX_W1 0xBB67AE85u

/* ten rounds, the key bumped after each (the last bump is unused) */
uint4 rng_philox4x32_10(uint4 ctr, uint2 key) {
    for (int round = 0; round < 10; round++) {
        uint hi0 = mul_hi(RNG_PHILOX_M0, ctr.x), lo0 = RNG_PHILOX_M0 * ctr.x;
        uint hi1 = mul_hi(RNG_PHILOX_M1, ctr.z), lo1 = RNG_PHILOX_M1 * ctr.z;
        ctr = (uint4)(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
        key += (uint2)(RNG_PHILOX_W0, RNG_PHILOX_W1);
    }
    return ctr;
}

/* uint -> float in (0, 1]: the top 24 bits plus one, times 2^-24; both steps
 * are exact, so every device gives clgan_u32_to_unit's bits */
float rng_u32_to_unit(uint x) { return (float)((x >> 8) + 1u) * (1.0f / 16777216.0f); }

/* the 4 words of block j of the stream (seed, offset) */
uint4 rng_block(uint j, uint seed_lo, uint seed_hi, uint off_lo, uint off_hi) {
    return rng_philox4x32_10((uint4)(j, 0u, off_lo, off_hi), (uint2)(seed_lo, seed_hi));
}

/* y (n) = elements blk0*4 + lead .. of the stream: uniforms; one work-item
 * per block of 4 elements of the stream, from block blk0 (the first lead
 * words of which are not the call's) */
__kernel void rng_uniform_f32(__global float *y, const int yo, const int n, const uint seed_lo, const uint seed_hi,
                              const uint off_lo, const uint off_hi, const uint blk0, const int lead) {
    int j = GID0;
    if (j >= (lead + n + 3) / 4) return;
    uint4 r = rng_block(blk0 + (uint)j, seed_lo, seed_hi, off_lo, off_hi);
    float u[4] = {rng_u32_to_unit(r.x), rng_u32_to_unit(r.y), rng_u32_to_unit(r.z), rng_u32_to_unit(r.w)};
    for (int k = 0; k < 4; k++) {
        int e = 4 * j + k - lead;
        if (e >= 0 && e < n) y[yo + e] = u[k];
    }
}

/* the same, standard normals by Box-Muller on word pairs (0,1) and (2,3) */
__kernel void rng_normal_f32(__global float *y, const int yo, const int n, const uint seed_lo, const uint seed_hi,
                             const uint off_lo, const uint off_hi, const uint blk0, const int lead) {
    int j = GID0;
    if (j >= (lead + n + 3) / 4) return;
    uint4 r = rng_block(blk0 + (uint)j, seed_lo, seed_hi, off_lo, off_hi);
    uint w[4] = {r.x, r.y, r.z, r.w};
    float z[4];
    for (int p = 0; p < 2; p++) {
        float u1 = rng_u32_to_unit(w[2 * p]);
        float u2 = rng_u32_to_unit(w[2 * p + 1]);
        float rad = sqrt(-2.0f * log(u1));
        float th = 6.2831853071795864769f * u2;
        z[2 * p] = rad * cos(th);
        z[2 * p + 1] = rad * sin(th);
    }
    for (int k = 0; k < 4; k++) {
        int e = 4 * j + k - lead;
        if (e >= 0 && e < n) y[yo + e] = z[k];
    }
}

/* Test hook for the known-answer vectors: out[0..3] = Philox4x32-10 of one
 * (key, counter), the raw words, so tests can compare the device's Philox
 * with Random123's kat_vectors. One work-item. */
__kernel void rng_philox_words(__global uint *out, const uint k0, const uint k1, const uint c0, const uint c1,
                               const uint c2, const uint c3) {
    if (GID0 != 0) return;
    uint4 r = rng_philox4x32_10((uint4)(c0, c1, c2, c3), (uint2)(k0, k1));
    out[0] = r.x;
    out[1] = r.y;
    out[2] = r.z;
    out[3] = r.w;
}
