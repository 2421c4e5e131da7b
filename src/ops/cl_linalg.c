/* OpenCL matmul and convolutions: SGEMMs on the device's GEMM path (CLBlast
 * or host BLAS as a native kernel, runtime/gemm.c) plus the data movement
 * kernels of cl/conv.cl.
 *
 * Convolutions work on chunks of nb samples at a time (the whole batch when
 * its columns fit in CLGAN_CONV_SCRATCH_CAP) with the chunk's column matrix
 * col (C*R*S, nb*P*Q) in the device's scratch buffer (layout in cl/conv.cl):
 *
 *   CONV2D         Y' (K, nb*P*Q)     = w (K, CRS) col               then Y' (K,nb,PQ) -> y (nb,K,PQ)
 *   CONV_T2D       col (KRS, nb*H*W)  = w^T (KRS, C) x' (C, nb*H*W)  where x' is x (nb,C,HW) -> (C,nb,HW),
 *                  then col2im gathers col into y
 *   CONV2D_GRAD_W  dw (K, CRS)       += dy' (K, nb*P*Q) col^T         where dy' is dy (nb,K,PQ) -> (K,nb,PQ)
 *
 * One GEMM per chunk with the samples along its long dimension keeps the
 * GEMMs large (a per-sample GEMM of the last DCGAN layers has P*Q = 16) and
 * needs no batched GEMM with a shared operand, which CLBlast would copy once
 * per sample. With nb = 1 the sample-major and channel-major orders coincide
 * and the GEMM reads or writes the tensor itself; with channel-major
 * activations (ip5: x, y, dy stored (C,N,H,W), as the built-in DCGANs keep
 * them) Y', x' and dy' are the tensors themselves, and no swap runs. */
#include "ops/fused.h"
#include "core/sha256.h"
#include "ops/ops.h"

#include "runtime/device_impl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WG = 256, SWAP_SEG = 64 };

/* Most bytes of scratch a convolution asks for (one sample may need more).
 * On PoCL, chunks of 4-16 MiB ran DCGAN layers as fast as or up to ~2.5x
 * faster than whole batches of 64 (the columns stay in cache between im2col
 * and the GEMM), and the GEMMs stay large: ~1 GFLOP per chunk on the middle
 * DCGAN layers. A tiny value set at build time
 * (-DCLGAN_CONV_SCRATCH_CAP=4096) makes tests go through the chunking. */
#ifndef CLGAN_CONV_SCRATCH_CAP
#define CLGAN_CONV_SCRATCH_CAP ((size_t)16 << 20)
#endif

/* Shapes, strides and paddings were checked before the launch
 * (clgan_op_check, src/ops/check.c); what is left here is the device's:
 * the scratch buffer a chunk needs. */

/* How many samples a chunk holds: all N when they fit in the cap, else the
 * fewest chunks of what fits, shared out evenly (the last may be short by
 * less than a chunk count), at least one sample (if the device allows a
 * buffer that large). */
static clgan_status chunk_samples(clgan_device *d, size_t floats_per_sample, int N, int *nb) {
    size_t per = floats_per_sample * sizeof(float);
    size_t limit = CLGAN_CONV_SCRATCH_CAP;
    if (d->info.max_alloc && d->info.max_alloc < limit) limit = (size_t)d->info.max_alloc;
    if (floats_per_sample > (size_t)INT_MAX)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED,
                         "one sample needs %zu floats of scratch, more than the 2^31 the kernels index",
                         floats_per_sample);
    size_t n = limit / per;
    if (n > (size_t)N) n = (size_t)N;
    /* the same number in every chunk (128 samples that fit 83 at a time go
     * as 64 + 64, not 83 + 45): the GEMMs' sides stay multiples of what
     * each sample brings (49 columns, 3136 for 64 samples: a multiple of 16
     * where 4067 is not), and no short last chunk runs a thin GEMM */
    if (n > 0) {
        size_t chunks = ((size_t)N + n - 1) / n;
        n = ((size_t)N + chunks - 1) / chunks;
    }
    if (n == 0) {
        if (d->info.max_alloc && per > d->info.max_alloc)
            return CLGAN_ERR(CLGAN_ERR_DEVICE_OOM,
                             "one sample needs %.1f MiB of scratch, more than the %.1f MiB buffer device %s allows",
                             (double)per / 1048576.0, (double)d->info.max_alloc / 1048576.0, d->info.id);
        n = 1;
    }
    *nb = (int)n;
    return CLGAN_OK;
}

/* C (m,n) = op(A) op(B) + beta C, all row-major, offsets and leading
 * dimensions in floats, on the device's GEMM path (runtime/gemm.c). */
static clgan_status sgemm(clgan_device *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a, size_t ao,
                          size_t lda, cl_mem b, size_t bo, size_t ldb, float beta, cl_mem cm, size_t co, size_t ldc) {
    return clgan_cl_sgemm(d, CLGAN_GEMM_AUTO, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, beta, cm, co, ldc);
}

/* y (B, A, I) = x (A, B, I): a work-item per float on GPUs, per SWAP_SEG
 * floats in the CPU forms */
static clgan_status swap01(clgan_device *d, cl_mem y, int yo, cl_mem x, int xo, int A, int B, int I) {
    if (!clgan_cl_cpu_forms(d)) {
        clgan_cl_arg args[] = {CLARG(y), CLARG(yo), CLARG(x), CLARG(xo), CLARG(A), CLARG(B), CLARG(I)};
        size_t global[3] = {(size_t)I, (size_t)A, (size_t)B}, local[3] = {1, 1, 1};
        while (local[0] < global[0] && local[0] < WG) local[0] *= 2;
        return clgan_cl_launchn(d, "conv_swap01_elems_f32", 3, global, local, 7, args);
    }
    int seg = SWAP_SEG;
    clgan_cl_arg args[] = {CLARG(y), CLARG(yo), CLARG(x), CLARG(xo), CLARG(A), CLARG(B), CLARG(I), CLARG(seg)};
    return clgan_cl_launch(d, "conv_swap01_f32", (size_t)A * B * (size_t)((I + seg - 1) / seg), WG, 8, args);
}

/* The im2col and col2im kernels of cl/conv.cl, by their CONV_ONLY number */
enum { IM2COL_COLS = 1, IM2COL_ROWS, COL2IM_PIXELS, COL2IM_STREAM };
static const char *const conv_kernel[] = {NULL, "conv_im2col_f32", "conv_im2col_rows_f32", "conv_col2im_f32",
                                          "conv_col2im_stream_f32"};

/* Whether im2col and col2im run builds specialised to their shape (see
 * cl/conv.cl): wherever kernels can be generated (not from an offline
 * binary), unless CLGAN_CONV_SPECIALISE=0. */
static bool conv_specialise(const clgan_device *d) {
    const char *e = getenv("CLGAN_CONV_SPECIALISE");
    if (e && strcmp(e, "0") == 0) return false;
    return clgan_fused_available(d);
}

/* Launches kernel `which` of cl/conv.cl with CONV_ARGS (out at oo, in at io,
 * then the NSZ sizes sz) on `global` work-items, building its specialised
 * form for these sizes first when it has none yet. */
enum { NSZ = 14 };
static clgan_status conv_launch(clgan_device *d, int which, cl_mem out, int oo, cl_mem in, int io, const int sz[NSZ],
                                size_t global, size_t local) {
    static const char *const names[NSZ] = {"nb_", "C_", "H_", "W_", "R_", "S_", "P_",
                                           "Q_",  "s_", "ph_", "pw_", "blk_", "sn_", "sc_"};
    const char *kernel = conv_kernel[which];
    char spec[48], defines[512];
    clgan_status st = CLGAN_OK;
    if (conv_specialise(d)) {
        int len = snprintf(defines, sizeof defines, "#define CONV_SPEC 1\n#define CONV_ONLY %d\n", which);
        for (int i = 0; i < NSZ; i++)
            len += snprintf(defines + len, sizeof defines - (size_t)len, "#define CV_%s %d\n", names[i], sz[i]);
        clgan_sha256 h;
        uint8_t dig[32];
        char hex[65];
        clgan_sha256_init(&h);
        clgan_sha256_update(&h, defines, (size_t)len);
        clgan_sha256_final(&h, dig);
        clgan_sha256_hex(dig, hex);
        snprintf(spec, sizeof spec, "%s_%.12s", kernel, hex);
        if (!clgan_cl_find_kernel(d, spec)) {
            snprintf(defines + len, sizeof defines - (size_t)len, "#define %s %s\n", kernel, spec);
            st = clgan_programs_add_generated(d, "conv kernels for one shape", "conv.cl", defines, "");
            if (st != CLGAN_OK) return st;
        }
        kernel = spec;
    }
    clgan_cl_arg args[4 + NSZ] = {CLARG(out), CLARG(oo), CLARG(in), CLARG(io)};
    for (int i = 0; i < NSZ; i++) args[4 + i] = CLARG(sz[i]);
    return clgan_cl_launch(d, kernel, global, local, 4 + NSZ, args);
}

/* col (C*R*S, nb*P*Q) at co = im2col of nb samples of x (C channels of H x W; x[n, c] at xo + n*sn + c*sc) */
static clgan_status im2col(clgan_device *d, cl_mem col, int co, cl_mem x, int xo, int nb, int C, int H, int W, int R,
                           int S, int P, int Q, int s, int ph, int pw, int sn, int sc) {
    const int sz[NSZ] = {nb, C, H, W, R, S, P, Q, s, ph, pw, 1, sn, sc};
    if (clgan_cl_cpu_forms(d)) /* a row each */
        return conv_launch(d, IM2COL_ROWS, col, co, x, xo, sz, (size_t)C * R * S, clgan_cl_cpu_group(d, (size_t)C * R * S));
    return conv_launch(d, IM2COL_COLS, col, co, x, xo, sz, (size_t)nb * P * Q, WG); /* a column each */
}

/* nb samples of y (K channels of Ho x Wo; y[n, k] at yo + n*sn + k*sc) = col2im of col (K*R*S, nb*H*W) at co */
static clgan_status col2im(clgan_device *d, cl_mem y, int yo, cl_mem col, int co, int nb, int K, int Ho, int Wo,
                           int R, int S, int H, int W, int s, int ph, int pw, int sn, int sc) {
    if (clgan_cl_cpu_forms(d)) { /* a channel and block of samples each, blocks enough to fill the cores */
        size_t want = 4 * (size_t)(d->info.compute_units ? d->info.compute_units : 1);
        int blocks = K >= (int)want ? 1 : (int)((want + (size_t)K - 1) / (size_t)K);
        if (blocks > nb) blocks = nb;
        const int blk = (nb + blocks - 1) / blocks, sz[NSZ] = {nb, K, Ho, Wo, R, S, H, W, s, ph, pw, blk, sn, sc};
        size_t items = (size_t)K * (size_t)((nb + blk - 1) / blk);
        return conv_launch(d, COL2IM_STREAM, y, yo, col, co, sz, items, clgan_cl_cpu_group(d, items));
    }
    const int sz[NSZ] = {nb, K, Ho, Wo, R, S, H, W, s, ph, pw, 1, sn, sc};
    return conv_launch(d, COL2IM_PIXELS, y, yo, col, co, sz, (size_t)nb * Ho * Wo, WG); /* a pixel each */
}

/* B = im2col of nb samples of x (B the column matrix at bo in `col`), then
 * C = op(A) B + beta C: one native kernel where the device runs them
 * (clgan_cl_native_cols), else the im2col kernel and the GEMM. */
static clgan_status im2col_sgemm(clgan_device *d, cl_mem x, int xo, int nb, int C, int H, int W, int R, int S, int P,
                                 int Q, int s, int ph, int pw, int sn, int sc, bool ta, bool tb, size_t m, size_t n,
                                 size_t k, cl_mem a, size_t ao, size_t lda, cl_mem col, size_t ldb, float beta,
                                 cl_mem cm, size_t co, size_t ldc) {
    if (clgan_cl_native_cols(d)) {
        const clgan_cl_cols v = {.img = x, .off = (size_t)xo, .sn = (size_t)sn, .sc = (size_t)sc, .nb = nb, .C = C,
                                 .H = H, .W = W, .R = R, .S = S, .P = P, .Q = Q, .s = s, .ph = ph, .pw = pw};
        return clgan_cl_sgemm_cols(d, &v, NULL, ta, tb, m, n, k, a, ao, lda, col, 0, ldb, beta, cm, co, ldc);
    }
    clgan_status st = im2col(d, col, 0, x, xo, nb, C, H, W, R, S, P, Q, s, ph, pw, sn, sc);
    return st != CLGAN_OK ? st : sgemm(d, ta, tb, m, n, k, a, ao, lda, col, 0, ldb, beta, cm, co, ldc);
}

/* col = op(A) op(B) (the column matrix at 0 in `col`), then y = col2im of
 * it, as im2col_sgemm: one native kernel where the device runs them. */
static clgan_status sgemm_col2im(clgan_device *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a, size_t ao,
                                 size_t lda, cl_mem b, size_t bo, size_t ldb, cl_mem col, cl_mem y, int yo, int nb,
                                 int K, int Ho, int Wo, int R, int S, int H, int W, int s, int ph, int pw, int sn,
                                 int sc) {
    if (clgan_cl_native_cols(d)) {
        const clgan_cl_cols v = {.img = y, .off = (size_t)yo, .sn = (size_t)sn, .sc = (size_t)sc, .nb = nb, .C = K,
                                 .H = Ho, .W = Wo, .R = R, .S = S, .P = H, .Q = W, .s = s, .ph = ph, .pw = pw};
        return clgan_cl_sgemm_cols(d, NULL, &v, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, 0.0f, col, 0, n);
    }
    clgan_status st = sgemm(d, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, 0.0f, col, 0, n);
    return st != CLGAN_OK ? st : col2im(d, y, yo, col, 0, nb, K, Ho, Wo, R, S, H, W, s, ph, pw, sn, sc);
}

/* ---- the ops ---- */

/* A (M,K) or stored (K,M) when ip0; B (K,N) or stored (N,K) when ip1; C (M,N) */
clgan_status cl_matmul(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *a = &c->in[0], *b = &c->in[1], *y = &c->out;
    bool ta = c->ip[0] != 0, tb = c->ip[1] != 0;
    size_t M = (size_t)y->shape[0], N = (size_t)y->shape[1], KA = (size_t)(ta ? a->shape[0] : a->shape[1]);
    return sgemm(d, ta, tb, M, N, KA, a->buf->mem, a->off, (size_t)a->shape[1], b->buf->mem, b->off,
                 (size_t)b->shape[1], 0.0f, y->buf->mem, y->off, N);
}

/* In the channel-major layout (ip5) a chunk of m samples is a block of
 * columns of the (channels, N*pixels) matrix each activation already is:
 * the GEMMs read and write it in place with a leading dimension of N*pixels,
 * and no layout swap runs. In the sample-major one, a chunk of one sample
 * is that matrix too; a larger chunk goes through the scratch buffer and
 * conv_swap01. */

/* x (N,C,H,W), w (K,C,R,S) -> y (N,K,P,Q) */
clgan_status cl_conv2d(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *x = &c->in[0], *w = &c->in[1], *y = &c->out;
    clgan_status st;
    bool cm = c->ip[CLGAN_CONV_CM];
    const clgan_conv_act X = clgan_conv_act_of(x, cm), Y = clgan_conv_act_of(y, cm);
    int N = X.n, C = X.c, H = X.h, W = X.w, K = Y.c, P = Y.h, Q = Y.w, R = w->shape[2], S = w->shape[3];
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4];
    size_t crs = (size_t)C * R * S, pq = (size_t)P * Q;
    int nb = 1;
    if ((st = chunk_samples(d, (crs + (cm ? 0 : (size_t)K)) * pq, N, &nb)) != CLGAN_OK) return st;
    /* scratch: col (CRS, nb*PQ), then Y' (K, nb*PQ) when it must be swapped */
    size_t prod_off = (size_t)nb * crs * pq;
    bool swap = !cm && nb > 1;
    cl_mem scratch = NULL;
    st = clgan_device_scratch(d, (prod_off + (swap ? (size_t)nb * K * pq : 0)) * sizeof(float), &scratch);
    for (int n0 = 0; n0 < N && st == CLGAN_OK; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        size_t cols = (size_t)m * pq;
        int xo = (int)(x->off + (size_t)n0 * X.sn), yo = (int)(y->off + (size_t)n0 * Y.sn);
        const bool out_y = !swap; /* y's rows (K, N*PQ) or (K, PQ) of one sample, else Y' in the scratch */
        st = im2col_sgemm(d, x->buf->mem, xo, m, C, H, W, R, S, P, Q, s, ph, pw, (int)X.sn, (int)X.sc, false, false,
                          (size_t)K, cols, crs, w->buf->mem, w->off, crs, scratch, cols, 0.0f,
                          out_y ? y->buf->mem : scratch, out_y ? (size_t)yo : prod_off,
                          out_y ? (cm ? (size_t)N * pq : pq) : cols);
        if (st == CLGAN_OK && swap) st = swap01(d, y->buf->mem, yo, scratch, (int)prod_off, K, m, (int)pq);
    }
    return st;
}

/* x (N,C,H,W), w (C,K,R,S) -> y (N,K,Ho,Wo), Ho = (H-1)s - 2p + R + ip2, Wo = (W-1)s - 2p + S + ip3 */
clgan_status cl_conv_t2d(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *x = &c->in[0], *w = &c->in[1], *y = &c->out;
    clgan_status st;
    bool cm = c->ip[CLGAN_CONV_CM];
    const clgan_conv_act X = clgan_conv_act_of(x, cm), Y = clgan_conv_act_of(y, cm);
    int N = X.n, C = X.c, H = X.h, W = X.w, K = Y.c, Ho = Y.h, Wo = Y.w, R = w->shape[2], S = w->shape[3];
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4];
    size_t krs = (size_t)K * R * S, hw = (size_t)H * W;
    int nb = 1;
    if ((st = chunk_samples(d, (krs + (cm ? 0 : (size_t)C)) * hw, N, &nb)) != CLGAN_OK) return st;
    /* scratch: col (KRS, nb*HW), then x' (C, nb*HW) when x must be swapped */
    size_t xt_off = (size_t)nb * krs * hw;
    bool swap = !cm && nb > 1;
    cl_mem scratch = NULL;
    st = clgan_device_scratch(d, (xt_off + (swap ? (size_t)nb * C * hw : 0)) * sizeof(float), &scratch);
    for (int n0 = 0; n0 < N && st == CLGAN_OK; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        size_t xo = x->off + (size_t)n0 * X.sn, cols = (size_t)m * hw;
        int yo = (int)(y->off + (size_t)n0 * Y.sn);
        /* x's rows (C, N*HW) or (C, HW) of one sample, else x' in the scratch */
        if (swap) st = swap01(d, scratch, (int)xt_off, x->buf->mem, (int)xo, m, C, (int)hw);
        if (st == CLGAN_OK)
            st = sgemm_col2im(d, true, false, krs, cols, (size_t)C, w->buf->mem, w->off, krs,
                              swap ? scratch : x->buf->mem, swap ? xt_off : xo, swap ? cols : (cm ? (size_t)N * hw : hw),
                              scratch, y->buf->mem, yo, m, K, Ho, Wo, R, S, H, W, s, ph, pw, (int)Y.sn, (int)Y.sc);
    }
    return st;
}

/* x (N,C,H,W), dy (N,K,P,Q) -> dw (K,C,R,S) */
clgan_status cl_conv2d_grad_w(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *x = &c->in[0], *dy = &c->in[1], *dw = &c->out;
    clgan_status st;
    bool cm = c->ip[CLGAN_CONV_CM];
    const clgan_conv_act X = clgan_conv_act_of(x, cm), D = clgan_conv_act_of(dy, cm);
    int N = X.n, C = X.c, H = X.h, W = X.w, K = D.c, P = D.h, Q = D.w, R = dw->shape[2], S = dw->shape[3];
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4];
    size_t crs = (size_t)C * R * S, pq = (size_t)P * Q;
    int nb = 1;
    if ((st = chunk_samples(d, (crs + (cm ? 0 : (size_t)K)) * pq, N, &nb)) != CLGAN_OK) return st;
    /* scratch: col (CRS, nb*PQ), then dy' (K, nb*PQ) when dy must be swapped */
    size_t dyt_off = (size_t)nb * crs * pq;
    bool swap = !cm && nb > 1;
    cl_mem scratch = NULL;
    st = clgan_device_scratch(d, (dyt_off + (swap ? (size_t)nb * K * pq : 0)) * sizeof(float), &scratch);
    for (int n0 = 0; n0 < N && st == CLGAN_OK; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        int xo = (int)(x->off + (size_t)n0 * X.sn);
        size_t dyo = dy->off + (size_t)n0 * D.sn, cols = (size_t)m * pq;
        float beta = n0 == 0 ? 0.0f : 1.0f; /* the first chunk overwrites dw, the rest add to it */
        /* dy's rows (K, N*PQ) or (K, PQ) of one sample, else dy' in the scratch */
        if (swap) st = swap01(d, scratch, (int)dyt_off, dy->buf->mem, (int)dyo, m, K, (int)pq);
        if (st == CLGAN_OK)
            st = im2col_sgemm(d, x->buf->mem, xo, m, C, H, W, R, S, P, Q, s, ph, pw, (int)X.sn, (int)X.sc, false, true,
                              (size_t)K, crs, cols, swap ? scratch : dy->buf->mem, swap ? dyt_off : dyo,
                              swap ? cols : (cm ? (size_t)N * pq : pq), scratch, cols, beta, dw->buf->mem, dw->off,
                              crs);
    }
    return st;
}
