/* elementwise.cl: unary and binary elementwise ops. The formulas below
 * mirror src/ops/ref_elementwise.c; the generic kernels switch on the op
 * code (OPC_*, kept equal to clgan_op by the host), and the fused kernels
 * generated at graph-compile time (src/ops/cl_fused.c) call the same
 * functions, built from this file with FUSED_ONLY defined. */

float ew_affine(float v, float p0, float p1) { return p0 * v + p1; }
float ew_square(float v, float p0, float p1) { return v * v; }
float ew_sqrt(float v, float p0, float p1) { return sqrt(v); }
float ew_exp(float v, float p0, float p1) { return exp(v); }
float ew_log(float v, float p0, float p1) { return log(v); }
float ew_abs(float v, float p0, float p1) { return fabs(v); }
float ew_sign(float v, float p0, float p1) { return (float)((v > 0.0f) - (v < 0.0f)); }
float ew_relu(float v, float p0, float p1) { return v > 0.0f ? v : 0.0f; }
float ew_step(float v, float p0, float p1) { return v > 0.0f ? 1.0f : 0.0f; }
float ew_leaky_relu(float v, float p0, float p1) { return v > 0.0f ? v : p0 * v; }
float ew_leaky_step(float v, float p0, float p1) { return v > 0.0f ? 1.0f : p0; }
float ew_tanh(float v, float p0, float p1) { return tanh(v); }
float ew_sigmoid(float v, float p0, float p1) {
    return v >= 0.0f ? 1.0f / (1.0f + exp(-v)) : exp(v) / (1.0f + exp(v));
}
float ew_softplus(float v, float p0, float p1) { return fmax(v, 0.0f) + log1p(exp(-fabs(v))); }
float ew_clamp(float v, float p0, float p1) { return fmin(fmax(v, p0), p1); }
float ew_clamp_mask(float v, float p0, float p1) { return (v > p0 && v < p1) ? 1.0f : 0.0f; }

float ew_add(float u, float v) { return u + v; }
float ew_sub(float u, float v) { return u - v; }
float ew_mul(float u, float v) { return u * v; }
float ew_div(float u, float v) { return u / v; }
/* a running statistic's update, as optim_ema_f32 (cl/optim.cl): (1 - a) r + a x */
float ew_ema(float r, float x, float a) {
#pragma OPENCL FP_CONTRACT OFF
    return (1.0f - a) * r + a * x;
}
float ew_bce_logits(float u, float v) { return fmax(u, 0.0f) - u * v + log1p(exp(-fabs(u))); }

#ifndef FUSED_ONLY
__kernel void fill_f32(__global float *y, const int yo, const int n, const float value) {
    int i = GID0;
    if (i < n) y[yo + i] = value;
}

/* y = f(x) for i < n */
__kernel void unary_f32(__global float *y, const int yo, __global const float *x, const int xo, const int n,
                        const int op, const float p0, const float p1) {
    int i = GID0;
    if (i >= n) return;
    float v = x[xo + i], r;
    switch (op) {
    case OPC_AFFINE: r = ew_affine(v, p0, p1); break;
    case OPC_SQUARE: r = ew_square(v, p0, p1); break;
    case OPC_SQRT: r = ew_sqrt(v, p0, p1); break;
    case OPC_EXP: r = ew_exp(v, p0, p1); break;
    case OPC_LOG: r = ew_log(v, p0, p1); break;
    case OPC_ABS: r = ew_abs(v, p0, p1); break;
    case OPC_SIGN: r = ew_sign(v, p0, p1); break;
    case OPC_RELU: r = ew_relu(v, p0, p1); break;
    case OPC_STEP: r = ew_step(v, p0, p1); break;
    case OPC_LEAKY_RELU: r = ew_leaky_relu(v, p0, p1); break;
    case OPC_LEAKY_STEP: r = ew_leaky_step(v, p0, p1); break;
    case OPC_TANH: r = ew_tanh(v, p0, p1); break;
    case OPC_SIGMOID: r = ew_sigmoid(v, p0, p1); break;
    case OPC_SOFTPLUS: r = ew_softplus(v, p0, p1); break;
    case OPC_CLAMP: r = ew_clamp(v, p0, p1); break;
    case OPC_CLAMP_MASK: r = ew_clamp_mask(v, p0, p1); break;
    default: r = NAN;
    }
    y[yo + i] = r;
}

/* y[i] = f(a[i], b[(i / inner) % mid]) for i < n */
__kernel void binary_f32(__global float *y, const int yo, __global const float *a, const int ao,
                         __global const float *b, const int bo, const int n, const int mid, const int inner,
                         const int op) {
    int i = GID0;
    if (i >= n) return;
    float u = a[ao + i], v = b[bo + (i / inner) % mid], r;
    switch (op) {
    case OPC_ADD: r = ew_add(u, v); break;
    case OPC_SUB: r = ew_sub(u, v); break;
    case OPC_MUL: r = ew_mul(u, v); break;
    case OPC_DIV: r = ew_div(u, v); break;
    case OPC_BCE_LOGITS: r = ew_bce_logits(u, v); break;
    default: r = NAN;
    }
    y[yo + i] = r;
}
#endif
