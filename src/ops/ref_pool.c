/* Reference pooling over square windows: k x k, stride s, padding p on
 * every side, P = (H + 2p - k)/s + 1 (PyTorch's max_pool2d and avg_pool2d
 * with ceil_mode=False). Window (i, j) covers rows i s - p .. i s - p + k - 1
 * and columns j s - p .. j s - p + k - 1; only its part inside x is read
 * (clgan_op_check has checked that p <= k/2, so that part is never empty).
 * All tensors are contiguous NCHW; shapes come from the tensors.
 *
 * Max: a padded cell never wins (it is -infinity, as in PyTorch). The
 * window's max is its first maximal element in row-major order, except that
 * a NaN always takes over (the last NaN wins): PyTorch's CPU rule,
 * `if (v > max || isnan(v))`, starting from the first cell inside x. The
 * gradient sends each window's dy to that element; the data gradient's
 * adjoint gathers, for each window, the value at it (MAX_POOL2D_GATHER).
 *
 * Average: the sum of the taps inside x divided by k*k (count_include_pad)
 * or by the number of those taps.
 *
 * Sums (the average, and the gradients of windows that overlap, s < k) are
 * in float, over at most k*k terms, in the order the kernels of cl/pool.cl
 * use: taps in row-major order; for an input pixel, the windows over it in
 * row-major order of (i, j). So ref and every device give the same sums,
 * every run (the devices' division may differ from the host's by an ulp or
 * two). cl/pool.cl mirrors every function here. */
#include "ops/ops.h"

#include <math.h>

typedef struct {
    int N, C, H, W; /* x, dx */
    int P, Q;       /* y, dy */
    int k, s, p;
} pool_dims;

/* full: the (N,C,H,W) tensor, pooled: the (N,C,P,Q) one */
static pool_dims dims_of(const clgan_op_call *c, const clgan_op_tensor *full, const clgan_op_tensor *pooled) {
    return (pool_dims){full->shape[0], full->shape[1], full->shape[2], full->shape[3], pooled->shape[2],
                       pooled->shape[3], c->ip[0], c->ip[1], c->ip[2]};
}

/* The rows [*lo, *hi) of x that window i covers, along an axis of n cells
 * (the same for columns). */
static void window_span(int i, int k, int s, int p, int n, int *lo, int *hi) {
    int start = i * s - p;
    *lo = start > 0 ? start : 0;
    *hi = start + k < n ? start + k : n;
}

/* The windows [*lo, *hi) (of `count` along the axis) that cover cell h:
 * i s - p <= h < i s - p + k. */
static void windows_over(int h, int k, int s, int p, int count, int *lo, int *hi) {
    int t = h + p - k; /* i s > t */
    *lo = t < 0 ? 0 : t / s + 1;
    *hi = (h + p) / s + 1;
    if (*hi > count) *hi = count;
}

/* The index in plane x (H, W) of window (i, j)'s max, PyTorch's CPU rule. */
static int window_argmax(const float *x, const pool_dims *d, int i, int j) {
    int h0, h1, w0, w1;
    window_span(i, d->k, d->s, d->p, d->H, &h0, &h1);
    window_span(j, d->k, d->s, d->p, d->W, &w0, &w1);
    int best = h0 * d->W + w0;
    float m = x[best];
    for (int h = h0; h < h1; h++)
        for (int w = w0; w < w1; w++) {
            float v = x[h * d->W + w];
            if (v > m || isnan(v)) {
                m = v;
                best = h * d->W + w;
            }
        }
    return best;
}

/* x (N,C,H,W), v (N,C,H,W) -> y (N,C,P,Q): y = v at the argmax of x over
 * each window. With v = x, the max pool itself. */
static void max_gather(const clgan_op_call *c, const float *x, const float *v) {
    float *y = clgan_ref_ptr(&c->out);
    pool_dims d = dims_of(c, &c->in[0], &c->out);
    size_t hw = (size_t)d.H * d.W, pq = (size_t)d.P * d.Q;
    for (size_t plane = 0; plane < (size_t)d.N * d.C; plane++)
        for (int i = 0; i < d.P; i++)
            for (int j = 0; j < d.Q; j++)
                y[plane * pq + (size_t)i * d.Q + j] = v[plane * hw + (size_t)window_argmax(x + plane * hw, &d, i, j)];
}

/* x (N,C,H,W) -> y (N,C,P,Q) */
void ref_max_pool2d(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    max_gather(c, x, x);
}

/* x (N,C,H,W), v (N,C,H,W) -> y (N,C,P,Q): the adjoint of MAX_POOL2D_GRAD
 * in its dy, for the second derivative */
void ref_max_pool2d_gather(const clgan_op_call *c) {
    max_gather(c, clgan_ref_ptr(&c->in[0]), clgan_ref_ptr(&c->in[1]));
}

/* x (N,C,H,W), dy (N,C,P,Q) -> dx (N,C,H,W): each pixel adds, over the
 * windows (i, j) that cover it in row-major order, dy[i, j] where it is the
 * window's argmax. */
void ref_max_pool2d_grad(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]), *dy = clgan_ref_ptr(&c->in[1]);
    float *dx = clgan_ref_ptr(&c->out);
    pool_dims d = dims_of(c, &c->in[0], &c->in[1]);
    size_t hw = (size_t)d.H * d.W, pq = (size_t)d.P * d.Q;
    for (size_t plane = 0; plane < (size_t)d.N * d.C; plane++)
        for (int h = 0; h < d.H; h++)
            for (int w = 0; w < d.W; w++) {
                int i0, i1, j0, j1;
                windows_over(h, d.k, d.s, d.p, d.P, &i0, &i1);
                windows_over(w, d.k, d.s, d.p, d.Q, &j0, &j1);
                float acc = 0.0f;
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++)
                        if (window_argmax(x + plane * hw, &d, i, j) == h * d.W + w)
                            acc += dy[plane * pq + (size_t)i * d.Q + j];
                dx[plane * hw + (size_t)h * d.W + w] = acc;
            }
}

/* What window (i, j)'s sum is divided by: k*k with count_include_pad
 * (ip3), else the number of its taps inside x. */
static float avg_divisor(const pool_dims *d, int include_pad, int i, int j) {
    if (include_pad) return (float)((long long)d->k * d->k);
    int h0, h1, w0, w1;
    window_span(i, d->k, d->s, d->p, d->H, &h0, &h1);
    window_span(j, d->k, d->s, d->p, d->W, &w0, &w1);
    return (float)((long long)(h1 - h0) * (w1 - w0));
}

/* x (N,C,H,W) -> y (N,C,P,Q): each window's sum inside x over its divisor */
void ref_avg_pool2d(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    pool_dims d = dims_of(c, &c->in[0], &c->out);
    size_t hw = (size_t)d.H * d.W, pq = (size_t)d.P * d.Q;
    for (size_t plane = 0; plane < (size_t)d.N * d.C; plane++)
        for (int i = 0; i < d.P; i++)
            for (int j = 0; j < d.Q; j++) {
                int h0, h1, w0, w1;
                window_span(i, d.k, d.s, d.p, d.H, &h0, &h1);
                window_span(j, d.k, d.s, d.p, d.W, &w0, &w1);
                float acc = 0.0f;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) acc += x[plane * hw + (size_t)h * d.W + w];
                y[plane * pq + (size_t)i * d.Q + j] = acc / avg_divisor(&d, c->ip[3], i, j);
            }
}

/* dy (N,C,P,Q) -> dx (N,C,H,W), H and W from dx: the adjoint of AVG_POOL2D,
 * dx[h, w] = sum over the windows (i, j) that cover it, in row-major order,
 * of dy[i, j] / divisor(i, j). */
void ref_avg_pool2d_grad(const clgan_op_call *c) {
    const float *dy = clgan_ref_ptr(&c->in[0]);
    float *dx = clgan_ref_ptr(&c->out);
    pool_dims d = dims_of(c, &c->out, &c->in[0]);
    size_t hw = (size_t)d.H * d.W, pq = (size_t)d.P * d.Q;
    for (size_t plane = 0; plane < (size_t)d.N * d.C; plane++)
        for (int h = 0; h < d.H; h++)
            for (int w = 0; w < d.W; w++) {
                int i0, i1, j0, j1;
                windows_over(h, d.k, d.s, d.p, d.P, &i0, &i1);
                windows_over(w, d.k, d.s, d.p, d.Q, &j0, &j1);
                float acc = 0.0f;
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++)
                        acc += dy[plane * pq + (size_t)i * d.Q + j] / avg_divisor(&d, c->ip[3], i, j);
                dx[plane * hw + (size_t)h * d.W + w] = acc;
            }
}
