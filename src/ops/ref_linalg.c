/* Reference matmul and convolutions: plain loops over float32 with double
 * accumulators, written to be read; they are the oracle the OpenCL path
 * (src/ops/cl_linalg.c) is checked against. All tensors are contiguous,
 * row-major; activations NCHW or, for convolutions with ip5, channel-major
 * (CNHW). Convolutions use one stride s for both spatial axes and a zero
 * padding per axis (ph, pw); shapes are taken from the tensors (clgan_op_check,
 * src/ops/check.c, has checked that they fit). */
#include "ops/ops.h"

/* A is (M,K), or stored (K,M) when ip0 (trans_a); B is (K,N), or stored (N,K)
 * when ip1 (trans_b); C (M,N) = op(A) op(B). */
void ref_matmul(const clgan_op_call *c) {
    const float *a = clgan_ref_ptr(&c->in[0]), *b = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    int ta = c->ip[0], tb = c->ip[1];
    size_t M = (size_t)c->out.shape[0], N = (size_t)c->out.shape[1];
    size_t K = (size_t)(ta ? c->in[0].shape[0] : c->in[0].shape[1]);
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double acc = 0.0;
            for (size_t k = 0; k < K; k++) {
                double av = ta ? a[k * M + i] : a[i * K + k];
                double bv = tb ? b[j * K + k] : b[k * N + j];
                acc += av * bv;
            }
            y[i * N + j] = (float)acc;
        }
}

/* The convolutions index their activations through clgan_conv_act (src/ops/ops.h):
 * element (n, c, h, v) of a sample-major or channel-major (ip5) tensor */
#define AT(a, n, c, h, v) ((size_t)(n) * (a).sn + (size_t)(c) * (a).sc + (size_t)(h) * (size_t)(a).w + (size_t)(v))

/* x is (N,C,H,W), w is (K,C,R,S), y is (N,K,P,Q) with P = (H + 2p - R)/s + 1:
 * y[n,k,i,j] = sum over c,r,t of w[k,c,r,t] x[n,c, i s - ph + r, j s - pw + t],
 * terms outside x being zero. */
void ref_conv2d(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]), *w = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    bool cm = c->ip[CLGAN_CONV_CM];
    const clgan_conv_act X = clgan_conv_act_of(&c->in[0], cm), Y = clgan_conv_act_of(&c->out, cm);
    int C = X.c, H = X.h, W = X.w, K = Y.c, R = c->in[1].shape[2], S = c->in[1].shape[3];
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4];
    for (int n = 0; n < X.n; n++)
        for (int k = 0; k < K; k++)
            for (int i = 0; i < Y.h; i++)
                for (int j = 0; j < Y.w; j++) {
                    double acc = 0.0;
                    for (int ch = 0; ch < C; ch++)
                        for (int r = 0; r < R; r++)
                            for (int t = 0; t < S; t++) {
                                int h = i * s - ph + r, v = j * s - pw + t;
                                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                                acc += (double)w[(((size_t)k * C + ch) * R + r) * S + t] * x[AT(X, n, ch, h, v)];
                            }
                    y[AT(Y, n, k, i, j)] = (float)acc;
                }
}

/* x is (N,C,H,W), w is (C,K,R,S), y is (N,K,Ho,Wo) with
 * Ho = (H - 1)s - 2ph + R + output_padding (the shape comes from y; Wo with pw):
 * y[n,k,oh,ow] = sum of x[n,c,h,v] w[c,k,r,t] over all (c,h,v,r,t) with
 * oh = h s - ph + r and ow = v s - pw + t. Written in gather form, so each
 * output has its own double accumulator: for each tap (r,t), the input pixel
 * is h = (oh + ph - r)/s when that division is exact and lands inside x. */
void ref_conv_t2d(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]), *w = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    bool cm = c->ip[CLGAN_CONV_CM];
    const clgan_conv_act X = clgan_conv_act_of(&c->in[0], cm), Y = clgan_conv_act_of(&c->out, cm);
    int C = X.c, H = X.h, W = X.w, K = Y.c, R = c->in[1].shape[2], S = c->in[1].shape[3];
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4];
    for (int n = 0; n < X.n; n++)
        for (int k = 0; k < K; k++)
            for (int oh = 0; oh < Y.h; oh++)
                for (int ow = 0; ow < Y.w; ow++) {
                    double acc = 0.0;
                    for (int r = 0; r < R; r++)
                        for (int t = 0; t < S; t++) {
                            int hs = oh + ph - r, vs = ow + pw - t; /* = h s, v s */
                            if (hs < 0 || vs < 0 || hs % s != 0 || vs % s != 0) continue;
                            int h = hs / s, v = vs / s;
                            if (h >= H || v >= W) continue;
                            for (int ch = 0; ch < C; ch++)
                                acc += (double)x[AT(X, n, ch, h, v)] * w[(((size_t)ch * K + k) * R + r) * S + t];
                        }
                    y[AT(Y, n, k, oh, ow)] = (float)acc;
                }
}

/* x is (N,C,H,W), dy is (N,K,P,Q), dw is (K,C,R,S) (R,S from dw's shape):
 * dw[k,c,r,t] = sum over n,i,j of dy[n,k,i,j] x[n,c, i s - ph + r, j s - pw + t],
 * terms outside x being zero: the gradient of CONV2D with respect to w. */
void ref_conv2d_grad_w(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]), *dy = clgan_ref_ptr(&c->in[1]);
    float *dw = clgan_ref_ptr(&c->out);
    bool cm = c->ip[CLGAN_CONV_CM];
    const clgan_conv_act X = clgan_conv_act_of(&c->in[0], cm), D = clgan_conv_act_of(&c->in[1], cm);
    int C = X.c, H = X.h, W = X.w, K = D.c, R = c->out.shape[2], S = c->out.shape[3];
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4];
    for (int k = 0; k < K; k++)
        for (int ch = 0; ch < C; ch++)
            for (int r = 0; r < R; r++)
                for (int t = 0; t < S; t++) {
                    double acc = 0.0;
                    for (int n = 0; n < X.n; n++)
                        for (int i = 0; i < D.h; i++)
                            for (int j = 0; j < D.w; j++) {
                                int h = i * s - ph + r, v = j * s - pw + t;
                                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                                acc += (double)dy[AT(D, n, k, i, j)] * x[AT(X, n, ch, h, v)];
                            }
                    dw[(((size_t)k * C + ch) * R + r) * S + t] = (float)acc;
                }
}
