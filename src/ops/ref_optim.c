/* Reference in-place updates: the EMA of running statistics and the
 * optimizers. Input 0 is updated in place (the call's `out` is ignored); all
 * inputs have the same number of elements. cl/optim.cl evaluates the same
 * expressions in the same order with contraction off, so the two agree to
 * the rounding of sqrt and division on the device. */
#include "ops/ops.h"

#include <math.h>

/* r (n) = (1 - a) r + a x (n), a = fp0 */
void ref_ema(const clgan_op_call *c) {
    float *r = clgan_ref_ptr(&c->in[0]);
    const float *x = clgan_ref_ptr(&c->in[1]);
    float a = c->fp[0];
    size_t n = clgan_op_numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) r[i] = (1.0f - a) * r[i] + a * x[i];
}

/* Adam ("Adam: A Method for Stochastic Optimization", 2015, Algorithm 1) with L2 weight decay added to the
 * gradient. p, g, m, v (n); fp: lr, b1, b2, eps, c1 = 1 - b1^t,
 * c2 = 1 - b2^t, wd. */
void ref_adam(const clgan_op_call *c) {
    float *p = clgan_ref_ptr(&c->in[0]), *m = clgan_ref_ptr(&c->in[2]), *v = clgan_ref_ptr(&c->in[3]);
    const float *g = clgan_ref_ptr(&c->in[1]);
    float lr = c->fp[0], b1 = c->fp[1], b2 = c->fp[2], eps = c->fp[3], c1 = c->fp[4], c2 = c->fp[5], wd = c->fp[6];
    size_t n = clgan_op_numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) {
        float gd = g[i] + wd * p[i];
        m[i] = b1 * m[i] + (1.0f - b1) * gd;
        v[i] = b2 * v[i] + (1.0f - b2) * (gd * gd);
        p[i] = p[i] - lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
    }
}

/* SGD with momentum, PyTorch's convention (no dampening, no Nesterov).
 * p, g, buf (n); fp: lr, momentum mu, wd. */
void ref_sgd(const clgan_op_call *c) {
    float *p = clgan_ref_ptr(&c->in[0]), *b = clgan_ref_ptr(&c->in[2]);
    const float *g = clgan_ref_ptr(&c->in[1]);
    float lr = c->fp[0], mu = c->fp[1], wd = c->fp[2];
    size_t n = clgan_op_numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) {
        float gd = g[i] + wd * p[i];
        b[i] = mu * b[i] + gd;
        p[i] = p[i] - lr * b[i];
    }
}

/* RMSprop, PyTorch's convention (eps outside the sqrt, no momentum, not
 * centred). p, g, sq (n); fp: lr, alpha, eps, wd. */
void ref_rmsprop(const clgan_op_call *c) {
    float *p = clgan_ref_ptr(&c->in[0]), *sq = clgan_ref_ptr(&c->in[2]);
    const float *g = clgan_ref_ptr(&c->in[1]);
    float lr = c->fp[0], alpha = c->fp[1], eps = c->fp[2], wd = c->fp[3];
    size_t n = clgan_op_numel(&c->in[0]);
    for (size_t i = 0; i < n; i++) {
        float gd = g[i] + wd * p[i];
        sq[i] = alpha * sq[i] + (1.0f - alpha) * (gd * gd);
        p[i] = p[i] - lr * gd / (sqrtf(sq[i]) + eps);
    }
}
