/* Reference random sources: the Philox streams of src/core/philox.c.
 * Element i of the stream (seed, offset) is word i % 4 of
 * Philox4x32-10(key = seed, counter = (i / 4, offset)); cl/rng.cl computes
 * the same words, so uniforms match bit for bit on every device. */
#include "ops/ops.h"

/* y (any shape, n) = standard normals, Box-Muller on word pairs (0,1), (2,3) */
void ref_randn(const clgan_op_call *c) {
    clgan_rng_normal_at(c->seed, c->offset, c->first, clgan_ref_ptr(&c->out), clgan_op_numel(&c->out));
}

/* y (any shape, n) = uniforms in (0, 1] */
void ref_rand(const clgan_op_call *c) {
    clgan_rng_uniform_at(c->seed, c->offset, c->first, clgan_ref_ptr(&c->out), clgan_op_numel(&c->out));
}
