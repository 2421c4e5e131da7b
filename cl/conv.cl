/* conv.cl: the data movement around the GEMMs (CLBlast) that compute
 * convolutions; src/ops/cl_linalg.c says which GEMM goes with which kernel.
 *
 * The column matrix of a chunk of nb samples is (C*R*S, nb*P*Q): row
 * (c*R + r)*S + t, column n*P*Q + i*Q + j. Putting the samples side by side
 * in the columns (rather than one matrix per sample) lets one GEMM with a
 * long dimension cover the whole chunk, for the forward pass as well as for
 * the weight gradient, which sums over the samples.
 *
 * Each kernel comes in two forms. GPUs run a work-item per column of the
 * column matrix (one output pixel of one sample) walking its rows, or per
 * output pixel walking the channels: neighbouring work-items read and write
 * neighbouring floats of every row (coalesced), and the index arithmetic is
 * paid once per work-item. CPU devices (a driver runs a work-group as a loop
 * over its work-items) run a work-item per row of the column matrix or per
 * output plane, which then writes or reads long contiguous runs, with the
 * bounds of each run computed once instead of tested per element; col2im
 * runs a work-item per channel (and block of samples) that reads its column
 * rows front to back. Every
 * work-item checks its id against the size (the global size is rounded up to
 * the work-group size). Sums run in a fixed order, so results are the same
 * every run, and both col2im forms give the same bits.
 *
 * Shape-specialised builds. The sizes are read through CV(arg): the kernel's
 * own argument here, a compile-time constant when src/ops/cl_linalg.c builds
 * a kernel for one shape. It then prepends CONV_SPEC, CONV_ONLY (the one
 * kernel to build), a macro that renames it (its name plus a hash of the
 * shape) and a CV_<arg> constant for every size. Divisions by a constant
 * become multiplications and the loops have known trip counts: on PoCL the
 * DCGAN im2col ran 4-6x faster so. The arguments stay, so both builds launch
 * alike. */
#ifdef CONV_SPEC
#define CV(arg) CV_##arg
#define CONV_BUILDS(k) (CONV_ONLY == k)
#else
#define CV(arg) arg
#define CONV_BUILDS(k) 1
#endif
/* CONV_ONLY values */
#define CONV_IM2COL_COLS 1
#define CONV_IM2COL_ROWS 2
#define CONV_COL2IM_PIXELS 3
#define CONV_COL2IM_STREAM 4

/* The arguments every im2col and col2im takes, the sizes with a trailing _;
 * blk_ is the samples per work-item of col2im's CPU form (the others ignore
 * it); sn_ and sc_ are the strides in floats between samples and between
 * channels of the image (im2col's x, col2im's y): C*H*W and H*W for a chunk
 * of an (N,C,H,W) tensor, H*W and N*H*W in a channel-major (C,N,H,W) one */
#define CONV_ARGS                                                                                          \
    __global float *restrict out_, const int oo_, __global const float *restrict in_, const int io_,      \
        const int nb_, const int C_, const int H_, const int W_, const int R_, const int S_, const int P_, \
        const int Q_, const int s_, const int ph_, const int pw_, const int blk_, const int sn_, const int sc_
#define CONV_SIZES                                                                                         \
    const int nb = CV(nb_), C = CV(C_), H = CV(H_), W = CV(W_), R = CV(R_), S = CV(S_), P = CV(P_),       \
              Q = CV(Q_), s = CV(s_), ph = CV(ph_), pw = CV(pw_), sn = CV(sn_), sc = CV(sc_)

/* The first v in [0, n) with 0 <= v*s + d, and one past the last with
 * v*s + d < lim: the run of a row that lands inside [0, lim). */
int conv_run_lo(int d, int s, int n) { return min(n, d < 0 ? (-d + s - 1) / s : 0); }
int conv_run_hi(int d, int s, int lim, int n) { return lim - 1 - d < 0 ? 0 : min(n, (lim - 1 - d) / s + 1); }

/* im2col: col (C*R*S, nb*P*Q) of nb samples x (x[n, c] at n*sn + c*sc),
 * stride s, zero padding ph rows and pw columns:
 * col[(c*R + r)*S + t, n*P*Q + i*Q + j] = x[n, c, i*s - ph + r, j*s - pw + t],
 * or 0 where that lies outside x. Arguments: out_ = col at oo_, in_ = x at io_. */

/* GPU form: one work-item per column (n, i, j) */
#if CONV_BUILDS(CONV_IM2COL_COLS)
__kernel void conv_im2col_f32(CONV_ARGS) {
    CONV_SIZES;
    int g = GID0, cols = nb * P * Q;
    if (g >= cols) return;
    int j = g % Q, i = (g / Q) % P, n = g / (P * Q);
    __global float *out = out_ + oo_ + g;
    __global const float *xn = in_ + io_ + n * sn;
    for (int c = 0; c < C; c++) {
        __global const float *xc = xn + c * sc;
        for (int r = 0; r < R; r++) {
            int h = i * s - ph + r;
            bool inside = h >= 0 && h < H;
            for (int t = 0; t < S; t++) {
                int v = j * s - pw + t;
                *out = inside && v >= 0 && v < W ? xc[h * W + v] : 0.0f;
                out += cols;
            }
        }
    }
}
#endif

/* CPU form: one work-item per row (c, r, t), all nb samples: it writes its
 * row front to back, with each output row's run inside x found once. */
#if CONV_BUILDS(CONV_IM2COL_ROWS)
__kernel void conv_im2col_rows_f32(CONV_ARGS) {
    CONV_SIZES;
    int row = GID0;
    if (row >= C * R * S) return;
    int t = row % S, r = (row / S) % R, c = row / (R * S);
    __global float *out = out_ + oo_ + row * nb * P * Q;
    int ilo = conv_run_lo(r - ph, s, P), ihi = max(ilo, conv_run_hi(r - ph, s, H, P));
    int jlo = conv_run_lo(t - pw, s, Q), jhi = max(jlo, conv_run_hi(t - pw, s, W, Q));
    for (int n = 0; n < nb; n++) {
        __global const float *xc = in_ + io_ + n * sn + c * sc;
        for (int e = 0; e < ilo * Q; e++) *out++ = 0.0f;
        for (int i = ilo; i < ihi; i++) {
            int x0 = (i * s + r - ph) * W + t - pw; /* x[.., h, v] at x0 + j*s */
            int j = 0;
            for (; j < jlo; j++) *out++ = 0.0f;
            for (; j < jhi; j++) *out++ = xc[x0 + j * s];
            for (; j < Q; j++) *out++ = 0.0f;
        }
        for (int e = ihi * Q; e < P * Q; e++) *out++ = 0.0f;
    }
}
#endif

/* col2im: y (nb, K, Ho, Wo) (y[n, k] at n*sn + k*sc) of col (K*R*S, nb*H*W), the adjoint of im2col
 * (stride s, padding ph, pw): each output pixel adds, in the order (r, t), the
 * entries that land on it,
 *   y[n,k,oh,ow] = sum of col[(k*R + r)*S + t, n*H*W + h*W + v]
 *   over the taps with oh = h*s - ph + r, ow = v*s - pw + t, 0 <= h < H, 0 <= v < W.
 * Arguments: out_ = y at oo_, in_ = col at io_, and in CONV_ARGS's order
 * (nb, C, H, W, R, S, P, Q) = (nb, K, Ho, Wo, R, S, H, W). */

/* GPU form (gather): one work-item per output pixel (n, oh, ow), for every
 * k. With oh + ph = h0*s + r0, the taps that can hit are r = r0, r0 + s, ...
 * with h = h0, h0 - 1, ...; the same along ow. */
#if CONV_BUILDS(CONV_COL2IM_PIXELS)
__kernel void conv_col2im_f32(CONV_ARGS) {
    CONV_SIZES;
    const int K = C, Ho = H, Wo = W, Hi = P, Wi = Q; /* see above */
    int g = GID0;
    if (g >= nb * Ho * Wo) return;
    int ow = g % Wo, oh = (g / Wo) % Ho, n = g / (Ho * Wo);
    int cols = nb * Hi * Wi;
    int r0 = (oh + ph) % s, h0 = (oh + ph) / s, t0 = (ow + pw) % s, v0 = (ow + pw) / s;
    __global const float *base = in_ + io_ + n * Hi * Wi;
    __global float *out = out_ + oo_ + n * sn + oh * Wo + ow;
    for (int k = 0; k < K; k++) {
        __global const float *ck = base + k * R * S * cols;
        float acc = 0.0f;
        for (int r = r0, h = h0; r < R && h >= 0; r += s, h--) {
            if (h >= Hi) continue;
            for (int t = t0, v = v0; t < S && v >= 0; t += s, v--)
                if (v < Wi) acc += ck[(r * S + t) * cols + h * Wi + v];
        }
        out[k * sc] = acc;
    }
}
#endif

/* CPU form (scatter): one work-item per channel k and block of blk_ samples
 * clears its output planes, then reads its R*S column rows front to back,
 * in the order (r, t), then (n, h, v), adding each entry to the pixel it
 * lands on, each row's run inside the plane found once. Each output pixel
 * receives at most one entry per (r, t), so it sums in the gather form's
 * order, bit for bit. The reads are one contiguous stream per row and the
 * block's planes stay in cache (a work-item per plane, reading 49-float
 * pieces of 16 rows far apart, ran at half the speed on PoCL). */
#if CONV_BUILDS(CONV_COL2IM_STREAM)
__kernel void conv_col2im_stream_f32(CONV_ARGS) {
    CONV_SIZES;
    const int K = C, Ho = H, Wo = W, Hi = P, Wi = Q; /* see above */
    const int blk = CV(blk_), blocks = (nb + blk - 1) / blk;
    int g = GID0;
    if (g >= K * blocks) return;
    int k = g / blocks, n0 = (g % blocks) * blk, n1 = min(nb, n0 + blk);
    int cols = nb * Hi * Wi;
    __global float *yk = out_ + oo_ + k * sc; /* y[n, k] at yk + n*sn */
    for (int n = n0; n < n1; n++)
        for (int e = 0; e < Ho * Wo; e++) yk[n * sn + e] = 0.0f;
    __global const float *ck = in_ + io_ + k * R * S * cols;
    for (int r = 0; r < R; r++) {
        int hlo = conv_run_lo(r - ph, s, Hi), hhi = conv_run_hi(r - ph, s, Ho, Hi);
        for (int t = 0; t < S; t++) {
            int vlo = conv_run_lo(t - pw, s, Wi), vhi = conv_run_hi(t - pw, s, Wo, Wi);
            __global const float *row = ck + (r * S + t) * cols;
            for (int n = n0; n < n1; n++) {
                __global float *out = yk + n * sn;
                __global const float *rn = row + n * Hi * Wi;
                for (int h = hlo; h < hhi; h++) {
                    int o0 = (h * s - ph + r) * Wo + t - pw; /* y[n, k, oh, ow] at o0 + v*s */
                    __global const float *crow = rn + h * Wi;
                    for (int v = vlo; v < vhi; v++) out[o0 + v * s] += crow[v];
                }
            }
        }
    }
}
#endif

#if !defined(CONV_SPEC)
/* y (B, A, I) = x (A, B, I) with the first two axes exchanged: moves a chunk
 * between sample-major (n, c, pixel) and channel-major (c, n, pixel) order.
 * GPU form: a work-item per float over the range (I, A, B), so neighbours
 * copy neighbouring floats of a row. */
__kernel void conv_swap01_elems_f32(__global float *y, const int yo, __global const float *x, const int xo,
                                    const int A, const int B, const int I) {
    int i = get_global_id(0), a = get_global_id(1), b = get_global_id(2);
    if (i >= I) return;
    y[yo + (b * A + a) * I + i] = x[xo + (a * B + b) * I + i];
}

/* CPU form: one work-item per segment of up to `seg` floats of an I-row. */
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
#endif
