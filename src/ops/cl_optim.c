/* OpenCL launchers for EMA and the optimizers (cl/optim.cl). Input 0 is
 * updated in place; every input has as many elements as input 0
 * (clgan_op_check). */
#include "ops/ops.h"

#include "runtime/device_impl.h"

clgan_status cl_ema(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->in[0]), ro = (int)c->in[0].off, xo = (int)c->in[1].off;
    float a = c->fp[0];
    clgan_cl_arg args[] = {CLARG(c->in[0].buf->mem), CLARG(ro), CLARG(c->in[1].buf->mem), CLARG(xo), CLARG(n),
                           CLARG(a)};
    return clgan_cl_launch_runs(d, "optim_ema_f32", (size_t)n, 6, args);
}

clgan_status cl_adam(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->in[0]);
    int po = (int)c->in[0].off, go = (int)c->in[1].off, mo = (int)c->in[2].off, vo = (int)c->in[3].off;
    const float *fp = c->fp; /* lr b1 b2 eps c1 c2 wd */
    clgan_cl_arg args[] = {CLARG(c->in[0].buf->mem), CLARG(po),    CLARG(c->in[1].buf->mem), CLARG(go),
                           CLARG(c->in[2].buf->mem), CLARG(mo),    CLARG(c->in[3].buf->mem), CLARG(vo),
                           CLARG(n),                 CLARG(fp[0]), CLARG(fp[1]),             CLARG(fp[2]),
                           CLARG(fp[3]),             CLARG(fp[4]), CLARG(fp[5]),             CLARG(fp[6])};
    return clgan_cl_launch_runs(d, "optim_adam_f32", (size_t)n, 16, args);
}

clgan_status cl_sgd(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->in[0]), po = (int)c->in[0].off, go = (int)c->in[1].off, bo = (int)c->in[2].off;
    const float *fp = c->fp; /* lr momentum wd */
    clgan_cl_arg args[] = {CLARG(c->in[0].buf->mem), CLARG(po), CLARG(c->in[1].buf->mem), CLARG(go),
                           CLARG(c->in[2].buf->mem), CLARG(bo), CLARG(n),                 CLARG(fp[0]),
                           CLARG(fp[1]),             CLARG(fp[2])};
    return clgan_cl_launch_runs(d, "optim_sgd_f32", (size_t)n, 10, args);
}

clgan_status cl_rmsprop(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->in[0]), po = (int)c->in[0].off, go = (int)c->in[1].off, so = (int)c->in[2].off;
    const float *fp = c->fp; /* lr alpha eps wd */
    clgan_cl_arg args[] = {CLARG(c->in[0].buf->mem), CLARG(po),    CLARG(c->in[1].buf->mem), CLARG(go),
                           CLARG(c->in[2].buf->mem), CLARG(so),    CLARG(n),                 CLARG(fp[0]),
                           CLARG(fp[1]),             CLARG(fp[2]), CLARG(fp[3])};
    return clgan_cl_launch_runs(d, "optim_rmsprop_f32", (size_t)n, 11, args);
}
