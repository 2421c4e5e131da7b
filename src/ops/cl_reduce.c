/* OpenCL launchers for SUM and EXPAND (cl/reduce.cl). */
#include "ops/fused.h"
#include "ops/ops.h"

#include "runtime/device_impl.h"

enum { RED_WG = 256 }; /* equal to RED_WG in cl/reduce.cl (reqd_work_group_size) */

/* Where the device builds generated kernels, a sum is the fused sum of one
 * identity step (src/ops/cl_fused.c: parts when the kept elements are few,
 * no divide per term); else sum_f32. Inside fused graphs every sum is part
 * of a group prepared at compile time; direct calls (the optimizers'
 * gradient norm, twice a step) regenerate the ~1 KB source and its hash to
 * find the built kernel, a few microseconds against a step of 100+ ms. */
clgan_status cl_sum(clgan_device *d, const clgan_op_call *c) {
    if (clgan_fused_available(d)) {
        clgan_fused f = {.nsteps = 1, .nleaves = 1, .sum = true, .outer = c->ip[0], .mid = c->ip[1],
                         .inner = c->ip[2], .sum_out = c->out, .n = clgan_op_numel(&c->in[0])};
        f.leaf[0] = (clgan_fused_leaf){.t = c->in[0]};
        f.step[0] = (clgan_fused_step){.op = CLGAN_OP_EXPAND, .arg = {CLGAN_FUSE_LEAF(0), 0}, .out = -1};
        clgan_status st = clgan_fused_prepare(d, &f, 1);
        return st == CLGAN_OK ? clgan_fused_run(d, &f) : st;
    }
    if (clgan_cl_max_wg(d) < RED_WG)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s allows work-groups of %zu, the reduction needs %d",
                         d->info.id, clgan_cl_max_wg(d), RED_WG);
    int yo = (int)c->out.off, xo = (int)c->in[0].off, outer = c->ip[0], mid = c->ip[1], inner = c->ip[2];
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(xo),
                           CLARG(outer), CLARG(mid), CLARG(inner)};
    return clgan_cl_launch(d, "sum_f32", (size_t)mid * RED_WG, RED_WG, 7, args);
}

clgan_status cl_expand(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, bo = (int)c->in[0].off, mid = c->ip[1],
        inner = c->ip[2];
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(bo),
                           CLARG(n), CLARG(mid), CLARG(inner)};
    return clgan_cl_launch(d, "expand_f32", (size_t)n, 256, 7, args);
}

clgan_status cl_logsumexp(clgan_device *d, const clgan_op_call *c) {
    int yo = (int)c->out.off, xo = (int)c->in[0].off, rows = c->in[0].shape[0], k = c->in[0].shape[1];
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(xo), CLARG(rows),
                           CLARG(k)};
    return clgan_cl_launch(d, "logsumexp_f32", (size_t)rows, 64, 6, args);
}
