/* conv.cl: the data movement around the GEMMs (CLBlast) that compute
 * convolutions; src/ops/cl_linalg.c says which GEMM goes with which kernel.
 *
 * The column matrix of a chunk of nb samples is (C*R*S, nb*P*Q): row
 * (c*R + r)*S + t, column n*P*Q + i*Q + j. Putting the samples side by side
 * in the columns (rather than one matrix per sample) lets one GEMM with a
 * long dimension cover the whole chunk, for the forward pass as well as for
 * the weight gradient, which sums over the samples.
 *
 * Each work-item handles one column of the column matrix (one output pixel
 * of one sample) and walks its rows, or one output pixel and walks the
 * channels: neighbouring work-items then read and write neighbouring floats
 * of every row (coalesced on GPUs, vectorised across work-items by CPU
 * drivers), and the index arithmetic (integer divisions) is paid once per
 * work-item, not per element. Every work-item checks its id against the size
 * (the global size is rounded up to the work-group size). Sums run in a
 * fixed order, so results are the same every run. */

/* col (C*R*S, nb*P*Q) = im2col of x (nb, C, H, W), stride s, zero padding p:
 * col[(c*R + r)*S + t, n*P*Q + i*Q + j] = x[n, c, i*s - p + r, j*s - p + t],
 * or 0 where that lies outside x. One work-item per column (n, i, j). */
__kernel void conv_im2col_f32(__global float *col, const int co, __global const float *x, const int xo,
                              const int nb, const int C, const int H, const int W, const int R, const int S,
                              const int P, const int Q, const int s, const int p) {
    int g = GID0, cols = nb * P * Q;
    if (g >= cols) return;
    int j = g % Q, i = (g / Q) % P, n = g / (P * Q);
    __global float *out = col + co + g;
    __global const float *xn = x + xo + n * C * H * W;
    for (int c = 0; c < C; c++) {
        __global const float *xc = xn + c * H * W;
        for (int r = 0; r < R; r++) {
            int h = i * s - p + r;
            bool inside = h >= 0 && h < H;
            for (int t = 0; t < S; t++) {
                int v = j * s - p + t;
                *out = inside && v >= 0 && v < W ? xc[h * W + v] : 0.0f;
                out += cols;
            }
        }
    }
}

/* y (nb, K, Ho, Wo) = col2im of col (K*R*S, nb*H*W), the adjoint of im2col
 * (stride s, padding p), in gather form: each output pixel adds, in the
 * order (r, t), the entries that land on it,
 *   y[n,k,oh,ow] = sum of col[(k*R + r)*S + t, n*H*W + h*W + v]
 *   over the taps with oh = h*s - p + r, ow = v*s - p + t, 0 <= h < H, 0 <= v < W.
 * With oh + p = h0*s + r0, the taps that can hit are r = r0, r0 + s, ...
 * with h = h0, h0 - 1, ...; the same along ow. One work-item per output
 * pixel (n, oh, ow), for every k. */
__kernel void conv_col2im_f32(__global float *y, const int yo, __global const float *col, const int co,
                              const int nb, const int K, const int Ho, const int Wo, const int R, const int S,
                              const int H, const int W, const int s, const int p) {
    int g = GID0;
    if (g >= nb * Ho * Wo) return;
    int ow = g % Wo, oh = (g / Wo) % Ho, n = g / (Ho * Wo);
    int cols = nb * H * W;
    int r0 = (oh + p) % s, h0 = (oh + p) / s, t0 = (ow + p) % s, v0 = (ow + p) / s;
    __global const float *base = col + co + n * H * W;
    __global float *out = y + yo + n * K * Ho * Wo + oh * Wo + ow;
    for (int k = 0; k < K; k++) {
        __global const float *ck = base + k * R * S * cols;
        float acc = 0.0f;
        for (int r = r0, h = h0; r < R && h >= 0; r += s, h--) {
            if (h >= H) continue;
            for (int t = t0, v = v0; t < S && v >= 0; t += s, v--)
                if (v < W) acc += ck[(r * S + t) * cols + h * W + v];
        }
        out[k * Ho * Wo] = acc;
    }
}

/* The same col2im for CPU devices, in scatter form: one work-item per output
 * plane (n, k) clears it and adds every entry of its R*S column rows, in the
 * order (r, t), then (h, v). Each output pixel receives at most one entry per
 * (r, t), so it sums in the same order as the gather form, bit for bit; the
 * reads run along v, contiguous, and the plane stays in cache. (Neighbouring
 * work-items own different planes, which a GPU would not coalesce: GPUs run
 * the gather form.) */
__kernel void conv_col2im_planes_f32(__global float *y, const int yo, __global const float *col, const int co,
                                     const int nb, const int K, const int Ho, const int Wo, const int R, const int S,
                                     const int H, const int W, const int s, const int p) {
    int g = GID0;
    if (g >= nb * K) return;
    int k = g % K, n = g / K;
    int cols = nb * H * W;
    __global float *out = y + yo + g * Ho * Wo;
    for (int e = 0; e < Ho * Wo; e++) out[e] = 0.0f;
    __global const float *ck = col + co + k * R * S * cols + n * H * W;
    for (int r = 0; r < R; r++)
        for (int t = 0; t < S; t++) {
            __global const float *row = ck + (r * S + t) * cols;
            for (int h = 0; h < H; h++) {
                int oh = h * s - p + r;
                if (oh < 0 || oh >= Ho) continue;
                __global float *orow = out + oh * Wo;
                for (int v = 0; v < W; v++) {
                    int ow = v * s - p + t;
                    if (ow >= 0 && ow < Wo) orow[ow] += row[h * W + v];
                }
            }
        }
}

/* y (B, A, I) = x (A, B, I) with the first two axes exchanged: moves a chunk
 * between sample-major (n, c, pixel) and channel-major (c, n, pixel) order.
 * One work-item per segment of up to `seg` floats of an I-row. */
__kernel void conv_swap01_f32(__global float *y, const int yo, __global const float *x, const int xo,
                              const int A, const int B, const int I, const int seg) {
    int g = GID0;
    int nseg = (I + seg - 1) / seg;
    if (g >= A * B * nseg) return;
    int sg = g % nseg, a = (g / nseg) % A, b = g / (nseg * A);
    int i0 = sg * seg, i1 = min(I, i0 + seg);
    __global float *dst = y + yo + (b * A + a) * I;
    __global const float *src = x + xo + (a * B + b) * I;
    for (int i = i0; i < i1; i++) dst[i] = src[i];
}
