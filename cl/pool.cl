/* pool.cl: max and average pooling over square k x k windows, stride s,
 * padding p, and their gradients. Mirrors src/ops/ref_pool.c, which states
 * the semantics (PyTorch's, ceil_mode=False): every function here is one of
 * its functions, and every sum adds the same float terms in the same order,
 * so results are the reference's bits (up to the device's division) and the
 * same every run. No atomics: in the GPU forms the gradients are gathers,
 * each input pixel adding the windows that cover it; the CPU forms (at the
 * end) scatter inside one work-item's own plane, in the same order.
 *
 * Tensors: x, dx (planes, H, W) and y, dy (planes, P, Q), planes = N*C. GPU
 * form: a work-item per output element, neighbouring work-items on
 * neighbouring elements of a row (coalesced). Every kernel takes POOL_ARGS:
 * out_ at oo_, input a_ at ao_, input b_ at bo_ (the one-input ops pass a_
 * again), the sizes, and count_include_pad (the average ops; 0 for the
 * others). */
#define POOL_ARGS                                                                                              \
    __global float *out_, const int oo_, __global const float *a_, const int ao_, __global const float *b_, \
        const int bo_, const int planes, const int H, const int W, const int P, const int Q, const int k,   \
        const int s, const int p, const int include_pad

/* The cells [*lo, *hi) of an axis of n that window i covers (window_span). */
void pool_span(int i, int k, int s, int p, int n, int *lo, int *hi) {
    int start = i * s - p;
    *lo = max(start, 0);
    *hi = min(start + k, n);
}

/* The windows [*lo, *hi) of `count` that cover cell h (windows_over). */
void pool_windows_over(int h, int k, int s, int p, int count, int *lo, int *hi) {
    int t = h + p - k;
    *lo = t < 0 ? 0 : t / s + 1;
    *hi = min((h + p) / s + 1, count);
}

/* The index in plane x (., W) of the max of rows [h0, h1) x columns
 * [w0, w1): the first maximum in row-major order, or the last NaN
 * (window_argmax: PyTorch's CPU rule). */
int pool_argmax(__global const float *x, int W, int h0, int h1, int w0, int w1) {
    int best = h0 * W + w0;
    float m = x[best];
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            float v = x[h * W + w];
            if (v > m || isnan(v)) {
                m = v;
                best = h * W + w;
            }
        }
    return best;
}

/* avg_divisor */
float pool_divisor(int k, int include_pad, int h0, int h1, int w0, int w1) {
    return include_pad ? (float)((long)k * k) : (float)((long)(h1 - h0) * (w1 - w0));
}

/* MAX_POOL2D (b_ = a_ = x) and MAX_POOL2D_GATHER (a_ = x, b_ = v):
 * y (planes, P, Q) = b_ at the argmax of a_ over each window. */
__kernel void pool_max_f32(POOL_ARGS) {
    int g = GID0;
    if (g >= planes * P * Q) return;
    int j = g % Q, i = (g / Q) % P, plane = g / (P * Q);
    int h0, h1, w0, w1;
    pool_span(i, k, s, p, H, &h0, &h1);
    pool_span(j, k, s, p, W, &w0, &w1);
    int at = pool_argmax(a_ + ao_ + plane * H * W, W, h0, h1, w0, w1);
    out_[oo_ + g] = b_[bo_ + plane * H * W + at];
}

/* MAX_POOL2D_GRAD: a_ = x (planes, H, W), b_ = dy (planes, P, Q) ->
 * dx (planes, H, W): each pixel adds, over the windows that cover it in
 * row-major order, dy where the pixel is the window's argmax. */
__kernel void pool_max_grad_f32(POOL_ARGS) {
    int g = GID0;
    if (g >= planes * H * W) return;
    int w = g % W, h = (g / W) % H, plane = g / (H * W);
    __global const float *x = a_ + ao_ + plane * H * W, *dy = b_ + bo_ + plane * P * Q;
    int i0, i1, j0, j1;
    pool_windows_over(h, k, s, p, P, &i0, &i1);
    pool_windows_over(w, k, s, p, Q, &j0, &j1);
    float acc = 0.0f;
    for (int i = i0; i < i1; i++) {
        int h0, h1;
        pool_span(i, k, s, p, H, &h0, &h1);
        for (int j = j0; j < j1; j++) {
            int w0, w1;
            pool_span(j, k, s, p, W, &w0, &w1);
            if (pool_argmax(x, W, h0, h1, w0, w1) == h * W + w) acc += dy[i * Q + j];
        }
    }
    out_[oo_ + g] = acc;
}

/* AVG_POOL2D: a_ = x -> y (planes, P, Q): the sum of each window's taps
 * inside x, row-major, over its divisor. */
__kernel void pool_avg_f32(POOL_ARGS) {
    int g = GID0;
    if (g >= planes * P * Q) return;
    int j = g % Q, i = (g / Q) % P, plane = g / (P * Q);
    __global const float *x = a_ + ao_ + plane * H * W;
    int h0, h1, w0, w1;
    pool_span(i, k, s, p, H, &h0, &h1);
    pool_span(j, k, s, p, W, &w0, &w1);
    float acc = 0.0f;
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) acc += x[h * W + w];
    out_[oo_ + g] = acc / pool_divisor(k, include_pad, h0, h1, w0, w1);
}

/* AVG_POOL2D_GRAD: a_ = dy (planes, P, Q) -> dx (planes, H, W): each pixel
 * adds dy / divisor of the windows that cover it, in row-major order. */
__kernel void pool_avg_grad_f32(POOL_ARGS) {
    int g = GID0;
    if (g >= planes * H * W) return;
    int w = g % W, h = (g / W) % H, plane = g / (H * W);
    __global const float *dy = a_ + ao_ + plane * P * Q;
    int i0, i1, j0, j1;
    pool_windows_over(h, k, s, p, P, &i0, &i1);
    pool_windows_over(w, k, s, p, Q, &j0, &j1);
    float acc = 0.0f;
    for (int i = i0; i < i1; i++) {
        int h0, h1;
        pool_span(i, k, s, p, H, &h0, &h1);
        for (int j = j0; j < j1; j++) {
            int w0, w1;
            pool_span(j, k, s, p, W, &w0, &w1);
            acc += dy[i * Q + j] / pool_divisor(k, include_pad, h0, h1, w0, w1);
        }
    }
    out_[oo_ + g] = acc;
}

/* CPU forms (a CPU driver runs a work-group as a loop over its work-items,
 * and a work-item per element cost PoCL more than the element: see
 * src/ops/cl_pool.c for the figures). The pools take a work-item per output
 * row (plane, i), writing its Q outputs front to back; the gradients a
 * work-item per plane that clears its dx plane, then walks the windows in
 * row-major order adding each window's terms where they land (scatter). A
 * pixel so receives its windows' terms in the gather forms' order, 0 + t1 +
 * t2 + ..., so both forms give the same bits, and no two work-items write
 * the same plane. */

/* MAX_POOL2D and MAX_POOL2D_GATHER, a row each */
__kernel void pool_max_rows_f32(POOL_ARGS) {
    int g = GID0;
    if (g >= planes * P) return;
    int i = g % P, plane = g / P;
    __global const float *x = a_ + ao_ + plane * H * W, *v = b_ + bo_ + plane * H * W;
    __global float *y = out_ + oo_ + g * Q;
    int h0, h1;
    pool_span(i, k, s, p, H, &h0, &h1);
    for (int j = 0; j < Q; j++) {
        int w0, w1;
        pool_span(j, k, s, p, W, &w0, &w1);
        y[j] = v[pool_argmax(x, W, h0, h1, w0, w1)];
    }
}

/* AVG_POOL2D, a row each */
__kernel void pool_avg_rows_f32(POOL_ARGS) {
    int g = GID0;
    if (g >= planes * P) return;
    int i = g % P, plane = g / P;
    __global const float *x = a_ + ao_ + plane * H * W;
    __global float *y = out_ + oo_ + g * Q;
    int h0, h1;
    pool_span(i, k, s, p, H, &h0, &h1);
    for (int j = 0; j < Q; j++) {
        int w0, w1;
        pool_span(j, k, s, p, W, &w0, &w1);
        float acc = 0.0f;
        for (int h = h0; h < h1; h++)
            for (int w = w0; w < w1; w++) acc += x[h * W + w];
        y[j] = acc / pool_divisor(k, include_pad, h0, h1, w0, w1);
    }
}

/* MAX_POOL2D_GRAD, a plane each */
__kernel void pool_max_grad_planes_f32(POOL_ARGS) {
    int plane = GID0;
    if (plane >= planes) return;
    __global const float *x = a_ + ao_ + plane * H * W, *dy = b_ + bo_ + plane * P * Q;
    __global float *dx = out_ + oo_ + plane * H * W;
    for (int e = 0; e < H * W; e++) dx[e] = 0.0f;
    for (int i = 0; i < P; i++) {
        int h0, h1;
        pool_span(i, k, s, p, H, &h0, &h1);
        for (int j = 0; j < Q; j++) {
            int w0, w1;
            pool_span(j, k, s, p, W, &w0, &w1);
            dx[pool_argmax(x, W, h0, h1, w0, w1)] += dy[i * Q + j];
        }
    }
}

/* AVG_POOL2D_GRAD, a plane each */
__kernel void pool_avg_grad_planes_f32(POOL_ARGS) {
    int plane = GID0;
    if (plane >= planes) return;
    __global const float *dy = a_ + ao_ + plane * P * Q;
    __global float *dx = out_ + oo_ + plane * H * W;
    for (int e = 0; e < H * W; e++) dx[e] = 0.0f;
    for (int i = 0; i < P; i++) {
        int h0, h1;
        pool_span(i, k, s, p, H, &h0, &h1);
        for (int j = 0; j < Q; j++) {
            int w0, w1;
            pool_span(j, k, s, p, W, &w0, &w1);
            float t = dy[i * Q + j] / pool_divisor(k, include_pad, h0, h1, w0, w1);
            for (int h = h0; h < h1; h++)
                for (int w = w0; w < w1; w++) dx[h * W + w] += t;
        }
    }
}
