/* The op table: every op is named once here. Each layer instantiates the list
 * with its own function-name pattern (ref_<name> in the reference, cl_<name>
 * for OpenCL), autograd's gradient rules are a switch over the enum without
 * default, so an op missing anywhere is a compile error, and the test suites
 * iterate over the same list. The build also writes the list's op codes into
 * every OpenCL program (#define OPC_<ENUM> n, tools/embed_cl.py).
 *
 * Where each op lives, family by family (comments below): its reference
 * (src/ops/ref_*.c), its OpenCL launcher (src/ops/cl_*.c) and kernel file
 * (cl/<family>.cl). For every op, the shape checks both paths rely on are
 * in src/ops/check.c (clgan_op_check), the gradient rule in
 * src/autograd/backward.c (clgan_grad_rule), the test case in
 * tests/op_cases.h and its bad calls in tests/test_op_checks.c.
 *
 * X(ENUM, name, inputs) */
#ifndef CLGAN_OP_TABLE_H
#define CLGAN_OP_TABLE_H

#define CLGAN_OP_LIST(X)                                                                 \
    /* sources: no inputs. FILL: ref_elementwise.c, cl_elementwise.c, cl/elementwise.cl; \
     * RANDN, RAND: ref_rng.c (src/core/philox.c), cl_rng.c, cl/rng.cl */                \
    X(FILL, fill, 0)             /* y = fp0 */                                           \
    X(RANDN, randn, 0)           /* Philox normal, offset from the step */               \
    X(RAND, rand, 0)             /* Philox uniform (0, 1] */                             \
    /* unary elementwise, fp0/fp1 as parameters:                                         \
     * ref_elementwise.c, cl_elementwise.c, cl/elementwise.cl */                         \
    X(AFFINE, affine, 1)         /* fp0 x + fp1 */                                       \
    X(SQUARE, square, 1)                                                                 \
    X(SQRT, sqrt, 1)                                                                     \
    X(EXP, exp, 1)                                                                       \
    X(LOG, log, 1)                                                                       \
    X(ABS, abs, 1)                                                                       \
    X(SIGN, sign, 1)             /* -1, 0, 1 */                                          \
    X(RELU, relu, 1)                                                                     \
    X(STEP, step, 1)             /* x > 0 ? 1 : 0 */                                     \
    X(LEAKY_RELU, leaky_relu, 1) /* slope fp0 */                                         \
    X(LEAKY_STEP, leaky_step, 1) /* x > 0 ? 1 : fp0 */                                   \
    X(TANH, tanh, 1)                                                                     \
    X(SIGMOID, sigmoid, 1)                                                               \
    X(SOFTPLUS, softplus, 1)                                                             \
    X(CLAMP, clamp, 1)           /* to [fp0, fp1] */                                     \
    X(CLAMP_MASK, clamp_mask, 1) /* fp0 < x < fp1 ? 1 : 0 */                             \
    /* binary elementwise; b is indexed (i / ip2) % ip1 (see ops.h):                     \
     * ref_elementwise.c, cl_elementwise.c, cl/elementwise.cl */                         \
    X(ADD, add, 2)                                                                       \
    X(SUB, sub, 2)                                                                       \
    X(MUL, mul, 2)                                                                       \
    X(DIV, div, 2)                                                                       \
    X(BCE_LOGITS, bce_logits, 2)                                                         \
    /* reductions over (outer ip0, mid ip1, inner ip2) keeping mid, and back:            \
     * ref_reduce.c, cl_reduce.c, cl/reduce.cl (SUM as a generated kernel,               \
     * cl_fused.c, where the device builds them) */                                      \
    X(SUM, sum, 1)                                                                       \
    X(EXPAND, expand, 1)                                                                 \
    X(LOGSUMEXP, logsumexp, 1)   /* x (N, K) -> (N): log sum_k exp x[n, k], stable */    \
    /* linear algebra: ip0 trans_a, ip1 trans_b. ref_linalg.c, cl_linalg.c; no kernel    \
     * file: the device's GEMM path (src/runtime/gemm.c, CLBlast or host BLAS) */        \
    X(MATMUL, matmul, 2)                                                                 \
    /* convolution: ip0 stride, ip1 pad (ip4 of W); CONV_T2D: ip2, ip3 output padding;  \
     * ip5 1: x, y and dy channel-major, (C,N,H,W) for the (N,C,H,W) shown:              \
     * ref_linalg.c, cl_linalg.c, cl/conv.cl (im2col, col2im) + the GEMM path */         \
    X(CONV2D, conv2d, 2)                 /* x (N,C,H,W), w (K,C,R,S) */                  \
    X(CONV_T2D, conv_t2d, 2)             /* x (N,C,H,W), w (C,K,R,S) */                  \
    X(CONV2D_GRAD_W, conv2d_grad_w, 2)   /* x (N,C,H,W), dy (N,K,P,Q) -> (K,C,R,S) */    \
    /* pooling over square windows: ip0 kernel k, ip1 stride s, ip2 padding p <= k/2,    \
     * P = (H + 2p - k)/s + 1; AVG: ip3 count_include_pad (0 or 1):                      \
     * ref_pool.c, cl_pool.c, cl/pool.cl */                                              \
    X(MAX_POOL2D, max_pool2d, 1)               /* x (N,C,H,W) -> (N,C,P,Q) */            \
    X(MAX_POOL2D_GRAD, max_pool2d_grad, 2)     /* x, dy (N,C,P,Q) -> dx (N,C,H,W) */     \
    X(MAX_POOL2D_GATHER, max_pool2d_gather, 2) /* x, v (N,C,H,W) -> v at x's argmaxes */ \
    X(AVG_POOL2D, avg_pool2d, 1)               /* x (N,C,H,W) -> (N,C,P,Q) */            \
    X(AVG_POOL2D_GRAD, avg_pool2d_grad, 1)     /* dy (N,C,P,Q) -> dx (N,C,H,W) */        \
    /* layout: ref_layout.c, cl_layout.c, cl/layout.cl */                                \
    X(COPY, copy, 1)                                                                     \
    X(PERMUTE, permute, 1)       /* ip0..3 the permutation */                            \
    X(CONCAT, concat, 2)         /* along axis ip0 */                                    \
    X(SLICE, slice, 1)           /* axis ip0, start ip1 */                               \
    X(EMBEDDING, embedding, 2)   /* table (K,D), labels (N) */                           \
    X(EMBEDDING_GRAD, embedding_grad, 2) /* dy (N,D), labels (N) -> (K,D) */             \
    X(ONE_HOT, one_hot, 1)       /* labels (N) -> (N, K) */                              \
    /* DiffAugment's translation and cutout, linear in x, with per-sample uniforms       \
     * u (N, 2) in [0, 1) (rows, columns); ip0, ip1 the shift bound or box size:          \
     * SHIFT2D y[i,j] = x[i+t0, j+t1] (0 outside), t = (int)(u (2 ip + 1)) - ip, -t      \
     * with ip2 1 (its adjoint); CUTOUT y = x but 0 in the ip0 x ip1 box at              \
     * (int)(u (H|W + 1 - ip % 2)) - ip / 2 (its own adjoint) */                         \
    X(SHIFT2D, shift2d, 2)       /* x (N,C,H,W), u (N,2) -> (N,C,H,W) */                 \
    X(CUTOUT, cutout, 2)         /* x (N,C,H,W), u (N,2) -> (N,C,H,W) */                 \
    /* across data-parallel processes (include/clgan/dist.h): ref_layout.c,             \
     * cl_layout.c (a round trip through the host; no kernel). fp0: this process's       \
     * share of the batch, which its gradient rule weights by */                         \
    X(ALLREDUCE, allreduce, 1)   /* y = the sum over the processes of x (x alone) */     \
    /* in place into input 0 (running statistics, optimizers); no gradient:              \
     * ref_optim.c, cl_optim.c, cl/optim.cl */                                           \
    X(EMA, ema, 2)               /* r = (1 - fp0) r + fp0 x */                           \
    X(ADAM, adam, 4)             /* p, g, m, v; fp: lr b1 b2 eps c1 c2 wd */             \
    X(SGD, sgd, 3)               /* p, g, buf; fp: lr momentum wd */                     \
    X(RMSPROP, rmsprop, 3)       /* p, g, sq; fp: lr alpha eps wd */

typedef enum {
#define X(E, name, nin) CLGAN_OP_##E,
    CLGAN_OP_LIST(X)
#undef X
        CLGAN_OP_COUNT
} clgan_op;

#endif
