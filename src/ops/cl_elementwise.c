/* OpenCL launchers for elementwise ops (cl/elementwise.cl). */
#include "ops/ops.h"

#include "runtime/device_impl.h"

enum { WG = 256 };

static clgan_status unary(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, xo = (int)c->in[0].off, op = (int)c->op;
    float p0 = c->fp[0], p1 = c->fp[1];
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(xo), CLARG(n),
                           CLARG(op), CLARG(p0), CLARG(p1)};
    return clgan_cl_launch(d, "unary_f32", (size_t)n, WG, 8, args);
}

static clgan_status binary(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, ao = (int)c->in[0].off, bo = (int)c->in[1].off;
    int mid = c->ip[1], inner = c->ip[2], op = (int)c->op;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem),   CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(ao),
                           CLARG(c->in[1].buf->mem), CLARG(bo), CLARG(n),
                           CLARG(mid),               CLARG(inner), CLARG(op)};
    return clgan_cl_launch(d, "binary_f32", (size_t)n, WG, 10, args);
}

clgan_status cl_fill(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off;
    float v = c->fp[0];
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(n), CLARG(v)};
    return clgan_cl_launch(d, "fill_f32", (size_t)n, WG, 4, args);
}

#define UNARY(name) \
    clgan_status cl_##name(clgan_device *d, const clgan_op_call *c) { return unary(d, c); }
#define BINARY(name) \
    clgan_status cl_##name(clgan_device *d, const clgan_op_call *c) { return binary(d, c); }
UNARY(affine) UNARY(square) UNARY(sqrt) UNARY(exp) UNARY(log) UNARY(abs) UNARY(sign) UNARY(relu) UNARY(step)
UNARY(leaky_relu) UNARY(leaky_step) UNARY(tanh) UNARY(sigmoid) UNARY(softplus) UNARY(clamp) UNARY(clamp_mask)
BINARY(add) BINARY(sub) BINARY(mul) BINARY(div) BINARY(bce_logits)
