/* elementwise.cl: unary and binary elementwise ops. The op codes and
 * formulas mirror src/ops/ref_elementwise.c; the host passes the code
 * (OPC_* below, kept equal to clgan_op by a check in cl_elementwise.c). */

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
    case OPC_AFFINE: r = p0 * v + p1; break;
    case OPC_SQUARE: r = v * v; break;
    case OPC_SQRT: r = sqrt(v); break;
    case OPC_EXP: r = exp(v); break;
    case OPC_LOG: r = log(v); break;
    case OPC_ABS: r = fabs(v); break;
    case OPC_SIGN: r = (float)((v > 0.0f) - (v < 0.0f)); break;
    case OPC_RELU: r = v > 0.0f ? v : 0.0f; break;
    case OPC_STEP: r = v > 0.0f ? 1.0f : 0.0f; break;
    case OPC_LEAKY_RELU: r = v > 0.0f ? v : p0 * v; break;
    case OPC_LEAKY_STEP: r = v > 0.0f ? 1.0f : p0; break;
    case OPC_TANH: r = tanh(v); break;
    case OPC_SIGMOID: r = v >= 0.0f ? 1.0f / (1.0f + exp(-v)) : exp(v) / (1.0f + exp(v)); break;
    case OPC_SOFTPLUS: r = fmax(v, 0.0f) + log1p(exp(-fabs(v))); break;
    case OPC_CLAMP: r = fmin(fmax(v, p0), p1); break;
    case OPC_CLAMP_MASK: r = (v > p0 && v < p1) ? 1.0f : 0.0f; break;
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
    case OPC_ADD: r = u + v; break;
    case OPC_SUB: r = u - v; break;
    case OPC_MUL: r = u * v; break;
    case OPC_DIV: r = u / v; break;
    case OPC_BCE_LOGITS: r = fmax(u, 0.0f) - u * v + log1p(exp(-fabs(u))); break;
    default: r = NAN;
    }
    y[yo + i] = r;
}
