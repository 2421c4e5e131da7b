/* OpenCL launchers for pooling (cl/pool.cl): one kernel launch per op.
 * Shapes and parameters were checked before the launch (clgan_op_check,
 * src/ops/check.c).
 *
 * GPU forms: a work-item per output element (each gradient pixel gathers
 * the windows over it). CPU forms (clgan_cl_cpu_forms): a work-item per
 * output row for the pools, per plane for the gradients (a scatter in the
 * gather's order: the same bits). On PoCL (2 cores of an EPYC, batch 64,
 * GPU form -> CPU form): max k3 s2 on 192x71x71 343 -> 261 ms and its
 * gradient 3175 -> 321 ms; avg k3 s1 p1 exclude pad on 288x35x35 199 -> 111
 * ms and its gradient 473 -> 129 ms; max k3 s1 p1 on 2048x8x8 175 -> 136 ms,
 * gradient 1177 -> 146 ms (PyTorch 2.15 on the same 2 cores: 423 ms for the
 * first, 285 for the third). */
#include "ops/ops.h"

#include "runtime/device_impl.h"

enum { WG = 256 };

/* Launches `name` with POOL_ARGS: out, a (input 0), b (input 1, or input 0
 * again), full (N,C,H,W) and pooled (N,C,P,Q) shapes, the call's parameters,
 * over `items` work-items. */
static clgan_status launch(clgan_device *d, const char *name, const clgan_op_call *c, const clgan_op_tensor *full,
                           const clgan_op_tensor *pooled, size_t items, size_t local) {
    const clgan_op_tensor *a = &c->in[0], *b = &c->in[c->nin > 1 ? 1 : 0];
    int oo = (int)c->out.off, ao = (int)a->off, bo = (int)b->off;
    int planes = full->shape[0] * full->shape[1], H = full->shape[2], W = full->shape[3];
    int P = pooled->shape[2], Q = pooled->shape[3], k = c->ip[0], s = c->ip[1], p = c->ip[2];
    int include_pad = c->op == CLGAN_OP_AVG_POOL2D || c->op == CLGAN_OP_AVG_POOL2D_GRAD ? c->ip[3] : 0;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(oo), CLARG(a->buf->mem), CLARG(ao), CLARG(b->buf->mem),
                           CLARG(bo),              CLARG(planes), CLARG(H),        CLARG(W),  CLARG(P),
                           CLARG(Q),               CLARG(k),  CLARG(s),            CLARG(p),  CLARG(include_pad)};
    return clgan_cl_launch(d, name, items, local, 15, args);
}

/* A pool: a work-item per output (GPU form) or per output row (CPU form). */
static clgan_status pool(clgan_device *d, const char *gpu, const char *cpu, const clgan_op_call *c) {
    const clgan_op_tensor *x = &c->in[0], *y = &c->out;
    if (!clgan_cl_cpu_forms(d)) return launch(d, gpu, c, x, y, clgan_op_numel(y), WG);
    size_t rows = (size_t)y->shape[0] * y->shape[1] * y->shape[2];
    return launch(d, cpu, c, x, y, rows, clgan_cl_cpu_group(d, rows));
}

/* A gradient: a work-item per input pixel (GPU form) or per plane (CPU form). */
static clgan_status grad(clgan_device *d, const char *gpu, const char *cpu, const clgan_op_call *c,
                         const clgan_op_tensor *pooled) {
    const clgan_op_tensor *dx = &c->out;
    if (!clgan_cl_cpu_forms(d)) return launch(d, gpu, c, dx, pooled, clgan_op_numel(dx), WG);
    size_t planes = (size_t)dx->shape[0] * dx->shape[1];
    return launch(d, cpu, c, dx, pooled, planes, clgan_cl_cpu_group(d, planes));
}

/* x (N,C,H,W) -> y (N,C,P,Q) */
clgan_status cl_max_pool2d(clgan_device *d, const clgan_op_call *c) {
    return pool(d, "pool_max_f32", "pool_max_rows_f32", c);
}

/* x (N,C,H,W), v (N,C,H,W) -> y (N,C,P,Q) */
clgan_status cl_max_pool2d_gather(clgan_device *d, const clgan_op_call *c) {
    return pool(d, "pool_max_f32", "pool_max_rows_f32", c);
}

/* x (N,C,H,W), dy (N,C,P,Q) -> dx (N,C,H,W) */
clgan_status cl_max_pool2d_grad(clgan_device *d, const clgan_op_call *c) {
    return grad(d, "pool_max_grad_f32", "pool_max_grad_planes_f32", c, &c->in[1]);
}

/* x (N,C,H,W) -> y (N,C,P,Q) */
clgan_status cl_avg_pool2d(clgan_device *d, const clgan_op_call *c) {
    return pool(d, "pool_avg_f32", "pool_avg_rows_f32", c);
}

/* dy (N,C,P,Q) -> dx (N,C,H,W) */
clgan_status cl_avg_pool2d_grad(clgan_device *d, const clgan_op_call *c) {
    return grad(d, "pool_avg_grad_f32", "pool_avg_grad_planes_f32", c, &c->in[0]);
}
