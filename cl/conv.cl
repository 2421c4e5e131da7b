/* conv.cl: the data movement around the GEMMs (CLBlast) that compute
 * convolutions; src/ops/cl_linalg.c says which GEMM goes with which kernel.
 *
 * The column matrix of a chunk of nb samples is (C*R*S, nb*P*Q): row
 * (c*R + r)*S + t, column n*P*Q + i*Q + j. Putting the samples side by side
 * in the columns (rather than one matrix per sample) lets one GEMM with a
 * long dimension cover the whole chunk, for the forward pass as well as for
 * the weight gradient, which sums over the samples.
 *
 * Each work-item handles one image row (or a segment of one) in a loop
 * rather than one element: the index arithmetic (integer divisions) is then
 * paid once per row, which on CPU devices (PoCL) makes these kernels 2-10x
 * faster than one element per work-item, and a GPU still gets
 * ~10^5 work-items on DCGAN shapes. Every work-item checks its id against
 * the size (the global size is rounded up to the work-group size). Sums run
 * in a fixed order, so results are the same every run. */

/* col (C*R*S, nb*P*Q) = im2col of x (nb, C, H, W), stride s, zero padding p:
 * col[(c*R + r)*S + t, n*P*Q + i*Q + j] = x[n, c, i*s - p + r, j*s - p + t],
 * or 0 where that lies outside x. One work-item per (row, n, i): Q floats. */
__kernel void conv_im2col_f32(__global float *col, const int co, __global const float *x, const int xo,
                              const int nb, const int C, const int H, const int W, const int R, const int S,
                              const int P, const int Q, const int s, const int p) {
    int g = GID0;
    if (g >= C * R * S * nb * P) return;
    int i = g % P, n = (g / P) % nb, row = g / (P * nb);
    int t = row % S, r = (row / S) % R, c = row / (R * S);
    __global float *out = col + co + row * (nb * P * Q) + (n * P + i) * Q;
    int h = i * s - p + r;
    if (h < 0 || h >= H) {
        for (int j = 0; j < Q; j++) out[j] = 0.0f;
        return;
    }
    __global const float *in = x + xo + ((n * C + c) * H + h) * W;
    for (int j = 0; j < Q; j++) {
        int v = j * s - p + t;
        out[j] = v >= 0 && v < W ? in[v] : 0.0f;
    }
}

/* y (nb, K, Ho, Wo) = col2im of col (K*R*S, nb*H*W), the adjoint of im2col
 * (stride s, padding p), in gather form: each output pixel adds, in the
 * order (r, t), the entries that land on it,
 *   y[n,k,oh,ow] = sum of col[(k*R + r)*S + t, n*H*W + h*W + v]
 *   over the taps with oh = h*s - p + r, ow = v*s - p + t, 0 <= h < H, 0 <= v < W.
 * With oh + p = h0*s + r0, the taps that can hit are r = r0, r0 + s, ...
 * with h = h0, h0 - 1, ...; the same along ow with (q, rho) kept up to date
 * as ow advances. One work-item per output row (n, k, oh). */
__kernel void conv_col2im_f32(__global float *y, const int yo, __global const float *col, const int co,
                              const int nb, const int K, const int Ho, const int Wo, const int R, const int S,
                              const int H, const int W, const int s, const int p) {
    int g = GID0;
    if (g >= nb * K * Ho) return;
    int oh = g % Ho, k = (g / Ho) % K, n = g / (Ho * K);
    int cols = nb * H * W;
    __global float *out = y + yo + g * Wo;
    __global const float *base = col + co + k * R * S * cols + n * H * W;
    int r0 = (oh + p) % s, h0 = (oh + p) / s;
    int rho = p % s, q = p / s; /* ow + p = q*s + rho, for ow = 0 */
    for (int ow = 0; ow < Wo; ow++) {
        float acc = 0.0f;
        for (int r = r0, h = h0; r < R && h >= 0; r += s, h--) {
            if (h >= H) continue;
            __global const float *rowp = base + r * S * cols + h * W;
            for (int t = rho, v = q; t < S && v >= 0; t += s, v--)
                if (v < W) acc += rowp[t * cols + v];
        }
        out[ow] = acc;
        if (++rho == s) {
            rho = 0;
            q++;
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
