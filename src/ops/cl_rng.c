/* OpenCL launchers for RANDN and RAND (cl/rng.cl): one work-item per block
 * of 4 elements of the stream (clgan_op_check keeps the count below
 * INT_MAX - 3, so the last block's index fits), from the block that holds
 * the call's first element; the 64-bit seed and offset travel as (low,
 * high) uint pairs. */
#include "ops/ops.h"

#include <stdint.h>

#include "runtime/device_impl.h"

enum { WG = 256 };

static clgan_status launch(clgan_device *d, const clgan_op_call *c, const char *kernel) {
    size_t numel = clgan_op_numel(&c->out);
    int n = (int)numel, yo = (int)c->out.off, lead = (int)(c->first % 4);
    uint64_t blocks = ((uint64_t)lead + numel + 3) / 4, first_blk = c->first / 4;
    if (first_blk + blocks > UINT32_MAX)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "a random draw from element %llu on, past the 2^34 a stream holds",
                         (unsigned long long)c->first);
    cl_uint seed_lo = (cl_uint)c->seed, seed_hi = (cl_uint)(c->seed >> 32);
    cl_uint off_lo = (cl_uint)c->offset, off_hi = (cl_uint)(c->offset >> 32), blk0 = (cl_uint)first_blk;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo),     CLARG(n),    CLARG(seed_lo), CLARG(seed_hi),
                           CLARG(off_lo),          CLARG(off_hi), CLARG(blk0), CLARG(lead)};
    return clgan_cl_launch(d, kernel, (size_t)blocks, WG, 9, args);
}

clgan_status cl_randn(clgan_device *d, const clgan_op_call *c) { return launch(d, c, "rng_normal_f32"); }
clgan_status cl_rand(clgan_device *d, const clgan_op_call *c) { return launch(d, c, "rng_uniform_f32"); }
