/* Reference elementwise ops: plain loops over float32, written to be read.
 * Every unary op is y[i] = f(x[i]); every binary op is y[i] = f(a[i], b[j])
 * with j = (i / inner) % mid, where (outer, mid, inner) = (ip0, ip1, ip2)
 * describes how b repeats over a (ops.h). */
#include "ops/ops.h"

#include <math.h>

/* shared with cl/elementwise.cl: keep the formulas identical */
static float unary(clgan_op op, float x, float p0, float p1) {
    switch (op) {
    case CLGAN_OP_AFFINE: return p0 * x + p1;
    case CLGAN_OP_SQUARE: return x * x;
    case CLGAN_OP_SQRT: return sqrtf(x);
    case CLGAN_OP_EXP: return expf(x);
    case CLGAN_OP_LOG: return logf(x);
    case CLGAN_OP_ABS: return fabsf(x);
    case CLGAN_OP_SIGN: return (float)((x > 0.0f) - (x < 0.0f));
    case CLGAN_OP_RELU: return x > 0.0f ? x : 0.0f;
    case CLGAN_OP_STEP: return x > 0.0f ? 1.0f : 0.0f;
    case CLGAN_OP_LEAKY_RELU: return x > 0.0f ? x : p0 * x;
    case CLGAN_OP_LEAKY_STEP: return x > 0.0f ? 1.0f : p0;
    case CLGAN_OP_TANH: return tanhf(x);
    /* both branches keep exp's argument <= 0, so nothing overflows */
    case CLGAN_OP_SIGMOID: return x >= 0.0f ? 1.0f / (1.0f + expf(-x)) : expf(x) / (1.0f + expf(x));
    case CLGAN_OP_SOFTPLUS: return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
    case CLGAN_OP_CLAMP: return fminf(fmaxf(x, p0), p1);
    case CLGAN_OP_CLAMP_MASK: return (x > p0 && x < p1) ? 1.0f : 0.0f;
    default: return NAN;
    }
}

static float binary(clgan_op op, float a, float b) {
    switch (op) {
    case CLGAN_OP_ADD: return a + b;
    case CLGAN_OP_SUB: return a - b;
    case CLGAN_OP_MUL: return a * b;
    case CLGAN_OP_DIV: return a / b;
    /* BCE with logits a, target b: max(a,0) - a b + log(1 + exp(-|a|)) */
    case CLGAN_OP_BCE_LOGITS: return fmaxf(a, 0.0f) - a * b + log1pf(expf(-fabsf(a)));
    default: return NAN;
    }
}

/* y (n) = f(x (n)) */
static void unary_loop(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    size_t n = clgan_op_numel(&c->out);
    for (size_t i = 0; i < n; i++) y[i] = unary(c->op, x[i], c->fp[0], c->fp[1]);
}

/* y (outer, mid, inner) = f(a (outer, mid, inner), b (mid)) */
static void binary_loop(const clgan_op_call *c) {
    const float *a = clgan_ref_ptr(&c->in[0]), *b = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    size_t n = clgan_op_numel(&c->out), mid = (size_t)c->ip[1], inner = (size_t)c->ip[2];
    for (size_t i = 0; i < n; i++) y[i] = binary(c->op, a[i], b[(i / inner) % mid]);
}

void ref_affine(const clgan_op_call *c) { unary_loop(c); }
void ref_square(const clgan_op_call *c) { unary_loop(c); }
void ref_sqrt(const clgan_op_call *c) { unary_loop(c); }
void ref_exp(const clgan_op_call *c) { unary_loop(c); }
void ref_log(const clgan_op_call *c) { unary_loop(c); }
void ref_abs(const clgan_op_call *c) { unary_loop(c); }
void ref_sign(const clgan_op_call *c) { unary_loop(c); }
void ref_relu(const clgan_op_call *c) { unary_loop(c); }
void ref_step(const clgan_op_call *c) { unary_loop(c); }
void ref_leaky_relu(const clgan_op_call *c) { unary_loop(c); }
void ref_leaky_step(const clgan_op_call *c) { unary_loop(c); }
void ref_tanh(const clgan_op_call *c) { unary_loop(c); }
void ref_sigmoid(const clgan_op_call *c) { unary_loop(c); }
void ref_softplus(const clgan_op_call *c) { unary_loop(c); }
void ref_clamp(const clgan_op_call *c) { unary_loop(c); }
void ref_clamp_mask(const clgan_op_call *c) { unary_loop(c); }
void ref_add(const clgan_op_call *c) { binary_loop(c); }
void ref_sub(const clgan_op_call *c) { binary_loop(c); }
void ref_mul(const clgan_op_call *c) { binary_loop(c); }
void ref_div(const clgan_op_call *c) { binary_loop(c); }
void ref_bce_logits(const clgan_op_call *c) { binary_loop(c); }

/* y (n) = fp0 */
void ref_fill(const clgan_op_call *c) {
    float *y = clgan_ref_ptr(&c->out);
    size_t n = clgan_op_numel(&c->out);
    for (size_t i = 0; i < n; i++) y[i] = c->fp[0];
}
