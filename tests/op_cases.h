/* The op test table: for every op in src/ops/op_table.h at least one case
 * (input shapes and value domains, and a builder that makes the op's node).
 * test_ops.c runs each case on every OpenCL device against ref;
 * test_gradcheck.c checks each differentiable case's gradients against
 * finite differences. An op without a case fails both tests, so a new op
 * cannot be added untested. */
#ifndef CLGAN_OP_CASES_H
#define CLGAN_OP_CASES_H

#include "autograd/graph_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    DOM_ANY,   /* uniform in [-2, 2] */
    DOM_AWAY,  /* [-2, 2] but at least 0.1 from the kinks at 0 (and at the clamp bounds) */
    DOM_POS,   /* [0.5, 2] */
    DOM_UNIT,  /* [0, 1] (targets) */
    DOM_LABEL, /* integers in [0, 10) */
    /* distinct values, all negative: -(0.5 + 0.02 k) for k a random
     * permutation of 0 .. n-1. For max pooling's finite differences: a step
     * of GRADCHECK_STEP (0.01) moves no value past another, so no window's
     * argmax changes; and a padded cell taken as 0 instead of -infinity
     * would win every window it is in. */
    DOM_DISTINCT,
    DOM_TIES, /* integers in [-2, 2]: windows full of ties (the first maximum wins) */
    DOM_NAN,  /* DOM_TIES with one value in 16 NaN (a NaN wins a max window, the last one) */
};

typedef struct {
    const char *name;
    clgan_op op;
    int nin;
    int ndim[4];
    int shape[4][4];
    int dom[4];
    bool diff[4]; /* inputs to differentiate */
    bool second;  /* also check second order */
    /* builds the op's node from input nodes in[]; returns it */
    int (*build)(clgan_graph *g, const int *in);
} op_case;

/* kinks of clamp cases: bounds at -0.5 and 0.7 */
#define CLAMP_LO -0.5f
#define CLAMP_HI 0.7f

static int b_fill(clgan_graph *g, const int *in) { (void)in; return clgan_fill(g, 2, (int[]){7, 13}, 0.5f); }
static int b_randn(clgan_graph *g, const int *in) { (void)in; return clgan_randn(g, 2, (int[]){3, 1367}, 42, 3); }
static int b_rand(clgan_graph *g, const int *in) { (void)in; return clgan_rand(g, 2, (int[]){3, 1367}, 42, 3); }
/* samples 5.. of a larger batch: from element 5 * 1367, not a multiple of 4 */
static int b_randn_part(clgan_graph *g, const int *in) {
    (void)in;
    clgan_graph_set_sample_offset(g, 5);
    return clgan_randn(g, 2, (int[]){3, 1367}, 42, 3);
}
static int b_rand_part(clgan_graph *g, const int *in) {
    (void)in;
    clgan_graph_set_sample_offset(g, 5);
    return clgan_rand(g, 2, (int[]){3, 1367}, 42, 3);
}
static int b_affine(clgan_graph *g, const int *in) { return clgan_affine(g, in[0], -1.5f, 0.25f); }
static int b_square(clgan_graph *g, const int *in) { return clgan_square(g, in[0]); }
static int b_sqrt(clgan_graph *g, const int *in) { return clgan_sqrt(g, in[0]); }
static int b_exp(clgan_graph *g, const int *in) { return clgan_exp(g, in[0]); }
static int b_log(clgan_graph *g, const int *in) { return clgan_ln(g, in[0]); }
static int b_abs(clgan_graph *g, const int *in) { return clgan_abs(g, in[0]); }
static int b_sign(clgan_graph *g, const int *in) { return clgan_unary_node(g, CLGAN_OP_SIGN, in[0], 0, 0); }
static int b_relu(clgan_graph *g, const int *in) { return clgan_relu(g, in[0]); }
static int b_step(clgan_graph *g, const int *in) { return clgan_unary_node(g, CLGAN_OP_STEP, in[0], 0, 0); }
static int b_leaky(clgan_graph *g, const int *in) { return clgan_leaky_relu(g, in[0], 0.2f); }
static int b_leaky_step(clgan_graph *g, const int *in) { return clgan_unary_node(g, CLGAN_OP_LEAKY_STEP, in[0], 0.2f, 0); }
static int b_tanh(clgan_graph *g, const int *in) { return clgan_tanh(g, in[0]); }
static int b_sigmoid(clgan_graph *g, const int *in) { return clgan_sigmoid(g, in[0]); }
static int b_softplus(clgan_graph *g, const int *in) { return clgan_softplus(g, in[0]); }
static int b_clamp(clgan_graph *g, const int *in) { return clgan_clamp(g, in[0], CLAMP_LO, CLAMP_HI); }
static int b_clamp_mask(clgan_graph *g, const int *in) {
    return clgan_unary_node(g, CLGAN_OP_CLAMP_MASK, in[0], CLAMP_LO, CLAMP_HI);
}
static int b_add(clgan_graph *g, const int *in) { return clgan_add(g, in[0], in[1]); }
static int b_sub(clgan_graph *g, const int *in) { return clgan_sub(g, in[0], in[1]); }
static int b_mul(clgan_graph *g, const int *in) { return clgan_mul(g, in[0], in[1]); }
static int b_div(clgan_graph *g, const int *in) { return clgan_div(g, in[0], in[1]); }
static int b_bce(clgan_graph *g, const int *in) { return clgan_bce_logits(g, in[0], in[1]); }
static int b_add_sample(clgan_graph *g, const int *in) { return clgan_add_axis(g, in[0], in[1], 0); }
static int b_sum_ch(clgan_graph *g, const int *in) { return clgan_sum_axes(g, in[0], 1, 1); }
static int b_sum_all(clgan_graph *g, const int *in) { return clgan_sum(g, in[0]); }
static int b_sum_rows(clgan_graph *g, const int *in) { return clgan_sum_axes(g, in[0], 0, 1); }
static int b_logsumexp(clgan_graph *g, const int *in) { return clgan_logsumexp(g, in[0]); }
static int b_expand(clgan_graph *g, const int *in) { return clgan_expand(g, in[0], 3, (int[]){3, 7, 13}, 1); }
static int b_mm00(clgan_graph *g, const int *in) { return clgan_matmul(g, in[0], in[1], false, false); }
static int b_mm10(clgan_graph *g, const int *in) { return clgan_matmul(g, in[0], in[1], true, false); }
static int b_mm01(clgan_graph *g, const int *in) { return clgan_matmul(g, in[0], in[1], false, true); }
static int b_mm11(clgan_graph *g, const int *in) { return clgan_matmul(g, in[0], in[1], true, true); }
static int b_conv_s1p1(clgan_graph *g, const int *in) { return clgan_conv2d(g, in[0], in[1], 1, 1); }
static int b_conv_s2p0(clgan_graph *g, const int *in) { return clgan_conv2d(g, in[0], in[1], 2, 0); }
static int b_conv_s3p2(clgan_graph *g, const int *in) { return clgan_conv2d(g, in[0], in[1], 3, 2); }
/* a padding per axis, as Inception's 1x7 and 7x1 convolutions take */
static int b_conv_p02(clgan_graph *g, const int *in) { return clgan_conv2d_pad(g, in[0], in[1], 1, 0, 2); }
static int b_conv_s2p20(clgan_graph *g, const int *in) { return clgan_conv2d_pad(g, in[0], in[1], 2, 2, 0); }
static int b_convt_s2p1(clgan_graph *g, const int *in) { return clgan_conv_transpose2d(g, in[0], in[1], 2, 1, 0); }
static int b_convt_s3p2(clgan_graph *g, const int *in) { return clgan_conv_transpose2d(g, in[0], in[1], 3, 2, 1); }
/* channel-major activations (C, N, H, W): what the built-in DCGANs run */
static int b_conv_cm(clgan_graph *g, const int *in) { return clgan_conv2d_layout(g, in[0], in[1], 2, 1, 1, true); }
static int b_conv_cm_p02(clgan_graph *g, const int *in) { return clgan_conv2d_layout(g, in[0], in[1], 1, 0, 2, true); }
static int b_convt_cm(clgan_graph *g, const int *in) { return clgan_conv_transpose2d_layout(g, in[0], in[1], 2, 1, 0, true); }
static int b_convt_cm_op1(clgan_graph *g, const int *in) {
    return clgan_conv_transpose2d_layout(g, in[0], in[1], 3, 2, 1, true);
}
static int b_conv_gw_cm(clgan_graph *g, const int *in) {
    return clgan_conv_generic(g, CLGAN_OP_CONV2D_GRAD_W, true, in[0], in[1], 2, 1, 1, 0, 0, 4, (int[]){5, 3, 3, 3});
}
static int b_conv_gw(clgan_graph *g, const int *in) {
    return clgan_conv_generic(g, CLGAN_OP_CONV2D_GRAD_W, false, in[0], in[1], 2, 1, 1, 0, 0, 4, (int[]){5, 3, 3, 3});
}
static int b_maxpool_k3s2(clgan_graph *g, const int *in) { return clgan_max_pool2d(g, in[0], 3, 2, 0); }
static int b_maxpool_k3s1p1(clgan_graph *g, const int *in) { return clgan_max_pool2d(g, in[0], 3, 1, 1); }
static int b_maxpool_k4s3p2(clgan_graph *g, const int *in) { return clgan_max_pool2d(g, in[0], 4, 3, 2); }
static int b_maxpool_k2s1p1(clgan_graph *g, const int *in) { return clgan_max_pool2d(g, in[0], 2, 1, 1); }
/* MAX_POOL2D_GRAD (x, dy -> dx shaped like x) and MAX_POOL2D_GATHER (x, v -> v pooled) as the gradient
 * rules make them */
static int max_pool_pair(clgan_graph *g, clgan_op op, const int *in, int k, int s, int p) {
    const clgan_gnode *x = &g->nodes[in[0]];
    int shape[4] = {x->shape[0], x->shape[1], x->shape[2], x->shape[3]};
    if (op == CLGAN_OP_MAX_POOL2D_GATHER) {
        shape[2] = (shape[2] + 2 * p - k) / s + 1;
        shape[3] = (shape[3] + 2 * p - k) / s + 1;
    }
    return clgan_pool_node(g, op, 2, in, k, s, p, 0, 4, shape);
}
static int b_maxpool_grad_k3s2p1(clgan_graph *g, const int *in) {
    return max_pool_pair(g, CLGAN_OP_MAX_POOL2D_GRAD, in, 3, 2, 1);
}
static int b_maxpool_grad_k3s1(clgan_graph *g, const int *in) {
    return max_pool_pair(g, CLGAN_OP_MAX_POOL2D_GRAD, in, 3, 1, 0);
}
static int b_maxpool_gather_k3s2p1(clgan_graph *g, const int *in) {
    return max_pool_pair(g, CLGAN_OP_MAX_POOL2D_GATHER, in, 3, 2, 1);
}
static int b_maxpool_gather_k3s1p1(clgan_graph *g, const int *in) {
    return max_pool_pair(g, CLGAN_OP_MAX_POOL2D_GATHER, in, 3, 1, 1);
}
static int b_avgpool_k3s1p1_ex(clgan_graph *g, const int *in) { return clgan_avg_pool2d(g, in[0], 3, 1, 1, false); }
static int b_avgpool_k3s2p1_in(clgan_graph *g, const int *in) { return clgan_avg_pool2d(g, in[0], 3, 2, 1, true); }
static int b_avgpool_k4s3p2_ex(clgan_graph *g, const int *in) { return clgan_avg_pool2d(g, in[0], 4, 3, 2, false); }
static int b_avgpool_k8s8(clgan_graph *g, const int *in) { return clgan_avg_pool2d(g, in[0], 8, 8, 0, false); }
/* dx (2,3,9,8) of dy (2,3,5,4), and dx (2,3,7,8) of dy (2,3,4,4): dx's shape is the node's (H = 7 and 8
 * both pool to 4 rows) */
static int b_avgpool_grad_k3s2p1_ex(clgan_graph *g, const int *in) {
    return clgan_pool_node(g, CLGAN_OP_AVG_POOL2D_GRAD, 1, in, 3, 2, 1, 0, 4, (int[]){2, 3, 9, 8});
}
static int b_avgpool_grad_k3s2p1_in(clgan_graph *g, const int *in) {
    return clgan_pool_node(g, CLGAN_OP_AVG_POOL2D_GRAD, 1, in, 3, 2, 1, 1, 4, (int[]){2, 3, 7, 8});
}
/* Second order through the pooling gradients: a pool of the square of a
 * pool (k3 s1 p1 keeps H and W, so the outer op also takes the case's x in
 * the direct call). The data gradient of the square then flows through the
 * inner pool's gradient op, whose own rule the second derivative takes
 * (AVG_POOL2D_GRAD -> AVG_POOL2D; MAX_POOL2D_GRAD -> MAX_POOL2D_GATHER). For
 * max, DOM_DISTINCT keeps every argmax of the inner pool and, squares of
 * negative values being in reverse order, of the outer one. */
static int b_avgpool_sq_avgpool(clgan_graph *g, const int *in) {
    int a = clgan_avg_pool2d(g, in[0], 3, 1, 1, false);
    return clgan_avg_pool2d(g, clgan_square(g, a), 3, 1, 1, true);
}
static int b_maxpool_sq_maxpool(clgan_graph *g, const int *in) {
    int a = clgan_max_pool2d(g, in[0], 3, 1, 1);
    return clgan_max_pool2d(g, clgan_square(g, a), 3, 1, 1);
}
static int b_copy(clgan_graph *g, const int *in) { return clgan_copy(g, in[0]); }
/* one process: the identity; tests/test_mpi.py runs it over several */
static int b_allreduce(clgan_graph *g, const int *in) { return clgan_allreduce(g, in[0], 1.0f); }
static int b_permute(clgan_graph *g, const int *in) { return clgan_permute(g, in[0], (int[]){2, 0, 3, 1}); }
static int b_concat(clgan_graph *g, const int *in) { return clgan_concat(g, in[0], in[1], 1); }
static int b_slice(clgan_graph *g, const int *in) { return clgan_slice(g, in[0], 1, 2, 4); }
static int b_embedding(clgan_graph *g, const int *in) { return clgan_embedding(g, in[0], in[1]); }
static int b_embedding_grad(clgan_graph *g, const int *in) {
    return clgan_graph_add(g, CLGAN_OP_EMBEDDING_GRAD, 2, in, 2, (int[]){10, 7});
}
static int b_one_hot(clgan_graph *g, const int *in) { return clgan_one_hot(g, in[0], 10); }
static int b_shift2d(clgan_graph *g, const int *in) { return clgan_shift2d(g, in[0], in[1], 2, 3, false); }
static int b_shift2d_adj(clgan_graph *g, const int *in) { return clgan_shift2d(g, in[0], in[1], 3, 1, true); }
static int b_cutout_odd(clgan_graph *g, const int *in) { return clgan_cutout(g, in[0], in[1], 5, 3); }
static int b_cutout_even(clgan_graph *g, const int *in) { return clgan_cutout(g, in[0], in[1], 4, 8); }
static int with_fp(clgan_graph *g, clgan_op op, int nin, const int *in, const float *fp, int nfp) {
    int i = clgan_graph_add(g, op, nin, in, g->nodes[in[0]].ndim, g->nodes[in[0]].shape);
    for (int k = 0; i >= 0 && k < nfp; k++) g->nodes[i].fp[k] = fp[k];
    return i;
}
static int b_ema(clgan_graph *g, const int *in) { return with_fp(g, CLGAN_OP_EMA, 2, in, (float[]){0.1f}, 1); }
static int b_adam(clgan_graph *g, const int *in) {
    /* step 3 of Adam(2e-4, 0.5, 0.999): c1 = 1 - 0.5^3, c2 = 1 - 0.999^3 */
    return with_fp(g, CLGAN_OP_ADAM, 4, in, (float[]){2e-4f, 0.5f, 0.999f, 1e-8f, 0.875f, 0.002997001f, 0.01f}, 7);
}
static int b_sgd(clgan_graph *g, const int *in) { return with_fp(g, CLGAN_OP_SGD, 3, in, (float[]){0.01f, 0.9f, 1e-4f}, 3); }
static int b_rmsprop(clgan_graph *g, const int *in) {
    return with_fp(g, CLGAN_OP_RMSPROP, 3, in, (float[]){5e-5f, 0.99f, 1e-8f, 0.0f}, 4);
}

#define S1(a) {a}
#define SH(...) {__VA_ARGS__}

static const op_case op_cases[] = {
    {"fill", CLGAN_OP_FILL, 0, {0}, {{0}}, {0}, {0}, false, b_fill},
    {"randn", CLGAN_OP_RANDN, 0, {0}, {{0}}, {0}, {0}, false, b_randn},
    {"rand", CLGAN_OP_RAND, 0, {0}, {{0}}, {0}, {0}, false, b_rand},
    {"randn part", CLGAN_OP_RANDN, 0, {0}, {{0}}, {0}, {0}, false, b_randn_part},
    {"rand part", CLGAN_OP_RAND, 0, {0}, {{0}}, {0}, {0}, false, b_rand_part},
    {"affine", CLGAN_OP_AFFINE, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, false, b_affine},
    {"square", CLGAN_OP_SQUARE, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, true, b_square},
    {"sqrt", CLGAN_OP_SQRT, 1, {3}, {{3, 7, 13}}, {DOM_POS}, {1}, true, b_sqrt},
    {"exp", CLGAN_OP_EXP, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, true, b_exp},
    {"log", CLGAN_OP_LOG, 1, {3}, {{3, 7, 13}}, {DOM_POS}, {1}, true, b_log},
    {"abs", CLGAN_OP_ABS, 1, {3}, {{3, 7, 13}}, {DOM_AWAY}, {1}, false, b_abs},
    {"sign", CLGAN_OP_SIGN, 1, {3}, {{3, 7, 13}}, {DOM_AWAY}, {0}, false, b_sign},
    {"relu", CLGAN_OP_RELU, 1, {2}, {{13, 7}}, {DOM_AWAY}, {1}, false, b_relu},
    {"step", CLGAN_OP_STEP, 1, {2}, {{13, 7}}, {DOM_AWAY}, {0}, false, b_step},
    {"leaky_relu", CLGAN_OP_LEAKY_RELU, 1, {4}, {{1, 3, 7, 13}}, {DOM_AWAY}, {1}, true, b_leaky},
    {"leaky_step", CLGAN_OP_LEAKY_STEP, 1, {2}, {{13, 7}}, {DOM_AWAY}, {0}, false, b_leaky_step},
    {"tanh", CLGAN_OP_TANH, 1, {4}, {{1, 3, 7, 13}}, {DOM_ANY}, {1}, true, b_tanh},
    {"sigmoid", CLGAN_OP_SIGMOID, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, true, b_sigmoid},
    {"softplus", CLGAN_OP_SOFTPLUS, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, true, b_softplus},
    {"clamp", CLGAN_OP_CLAMP, 1, {3}, {{3, 7, 13}}, {DOM_AWAY}, {1}, false, b_clamp},
    {"clamp_mask", CLGAN_OP_CLAMP_MASK, 1, {3}, {{3, 7, 13}}, {DOM_AWAY}, {0}, false, b_clamp_mask},
    {"add", CLGAN_OP_ADD, 2, {3, 3}, {{3, 7, 13}, {3, 7, 13}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_add},
    {"add channel bias", CLGAN_OP_ADD, 2, {4, 1}, {{2, 7, 3, 5}, {7}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_add},
    {"add feature bias", CLGAN_OP_ADD, 2, {2, 1}, {{13, 7}, {7}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_add},
    {"add per sample", CLGAN_OP_ADD, 2, {2, 2}, {{13, 7}, {13, 1}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_add_sample},
    {"sub scalar", CLGAN_OP_SUB, 2, {3, 1}, {{3, 7, 13}, {1}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_sub},
    {"mul channel", CLGAN_OP_MUL, 2, {4, 1}, {{2, 7, 3, 5}, {7}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_mul},
    {"div", CLGAN_OP_DIV, 2, {3, 3}, {{3, 7, 13}, {3, 7, 13}}, {DOM_ANY, DOM_POS}, {1, 1}, true, b_div},
    {"div channel", CLGAN_OP_DIV, 2, {4, 1}, {{2, 7, 3, 5}, {7}}, {DOM_ANY, DOM_POS}, {1, 1}, false, b_div},
    {"bce_logits", CLGAN_OP_BCE_LOGITS, 2, {2, 2}, {{13, 7}, {13, 7}}, {DOM_ANY, DOM_UNIT}, {1, 1}, true, b_bce},
    {"sum channels", CLGAN_OP_SUM, 1, {4}, {{3, 7, 13, 5}}, {DOM_ANY}, {1}, false, b_sum_ch},
    {"sum all", CLGAN_OP_SUM, 1, {2}, {{37, 129}}, {DOM_ANY}, {1}, false, b_sum_all},
    {"sum rows", CLGAN_OP_SUM, 1, {2}, {{13, 7}}, {DOM_ANY}, {1}, false, b_sum_rows},
    {"logsumexp", CLGAN_OP_LOGSUMEXP, 1, {2}, {{13, 7}}, {DOM_ANY}, {1}, true, b_logsumexp},
    {"logsumexp wide", CLGAN_OP_LOGSUMEXP, 1, {2}, {{3, 1001}}, {DOM_ANY}, {1}, false, b_logsumexp},
    {"expand", CLGAN_OP_EXPAND, 1, {1}, {{7}}, {DOM_ANY}, {1}, false, b_expand},
    {"matmul", CLGAN_OP_MATMUL, 2, {2, 2}, {{7, 13}, {13, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_mm00},
    {"matmul A^T", CLGAN_OP_MATMUL, 2, {2, 2}, {{13, 7}, {13, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_mm10},
    {"matmul B^T (linear)", CLGAN_OP_MATMUL, 2, {2, 2}, {{7, 13}, {5, 13}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_mm01},
    {"matmul A^T B^T", CLGAN_OP_MATMUL, 2, {2, 2}, {{13, 7}, {5, 13}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_mm11},
    /* large enough (m n k >= 2^21) for the native path to split C over its threads (runtime/gemm.c),
     * by columns and by rows; forward only (finite differences would take minutes) */
    {"matmul large, split by columns", CLGAN_OP_MATMUL, 2, {2, 2}, {{131, 97}, {97, 173}}, {DOM_ANY, DOM_ANY}, {0, 0}, false, b_mm00},
    {"matmul large A^T B^T, split by rows", CLGAN_OP_MATMUL, 2, {2, 2}, {{97, 173}, {131, 97}}, {DOM_ANY, DOM_ANY}, {0, 0}, false, b_mm11},
    {"matmul large A^T, split by rows", CLGAN_OP_MATMUL, 2, {2, 2}, {{97, 173}, {97, 131}}, {DOM_ANY, DOM_ANY}, {0, 0}, false, b_mm10},
    {"matmul large B^T, split by columns", CLGAN_OP_MATMUL, 2, {2, 2}, {{131, 97}, {173, 97}}, {DOM_ANY, DOM_ANY}, {0, 0}, false, b_mm01},
    {"conv2d s1 p1", CLGAN_OP_CONV2D, 2, {4, 4}, {{2, 3, 7, 7}, {5, 3, 3, 3}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_s1p1},
    {"conv2d s2 p0", CLGAN_OP_CONV2D, 2, {4, 4}, {{3, 2, 7, 5}, {4, 2, 3, 2}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_conv_s2p0},
    {"conv2d s3 p2", CLGAN_OP_CONV2D, 2, {4, 4}, {{1, 1, 13, 13}, {2, 1, 5, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_s3p2},
    {"conv2d 1x5 p0,2", CLGAN_OP_CONV2D, 2, {4, 4}, {{2, 3, 6, 7}, {4, 3, 1, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_p02},
    {"conv2d 5x1 s2 p2,0", CLGAN_OP_CONV2D, 2, {4, 4}, {{2, 3, 7, 6}, {4, 3, 5, 1}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_s2p20},
    {"conv_t2d s2 p1", CLGAN_OP_CONV_T2D, 2, {4, 4}, {{2, 3, 4, 4}, {3, 5, 4, 4}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_convt_s2p1},
    {"conv_t2d s3 p2 op1", CLGAN_OP_CONV_T2D, 2, {4, 4}, {{1, 2, 3, 5}, {2, 3, 5, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_convt_s3p2},
    {"conv2d_grad_w", CLGAN_OP_CONV2D_GRAD_W, 2, {4, 4}, {{2, 3, 7, 7}, {2, 5, 4, 4}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_gw},
    {"conv2d channel-major s2 p1", CLGAN_OP_CONV2D, 2, {4, 4}, {{3, 5, 7, 6}, {4, 3, 4, 4}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_cm},
    {"conv2d channel-major 1x5 p0,2", CLGAN_OP_CONV2D, 2, {4, 4}, {{3, 2, 6, 7}, {4, 3, 1, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_conv_cm_p02},
    {"conv_t2d channel-major s2 p1", CLGAN_OP_CONV_T2D, 2, {4, 4}, {{3, 5, 4, 3}, {3, 2, 4, 4}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_convt_cm},
    {"conv_t2d channel-major s3 p2 op1", CLGAN_OP_CONV_T2D, 2, {4, 4}, {{2, 3, 3, 5}, {2, 3, 5, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_convt_cm_op1},
    {"conv2d_grad_w channel-major", CLGAN_OP_CONV2D_GRAD_W, 2, {4, 4}, {{3, 2, 7, 7}, {5, 2, 4, 4}}, {DOM_ANY, DOM_ANY}, {1, 1}, true, b_conv_gw_cm},
    /* pooling: odd sizes, H != W, overlapping windows (s < k), padding, windows partly outside x, the
     * floor of (H + 2p - k)/s dropping rows; max pooling's finite differences need distinct inputs */
    {"max_pool2d k3 s2", CLGAN_OP_MAX_POOL2D, 1, {4}, {{2, 3, 9, 8}}, {DOM_DISTINCT}, {1}, false, b_maxpool_k3s2},
    {"max_pool2d k3 s1 p1", CLGAN_OP_MAX_POOL2D, 1, {4}, {{3, 5, 7, 6}}, {DOM_DISTINCT}, {1}, true, b_maxpool_k3s1p1},
    {"max_pool2d k4 s3 p2", CLGAN_OP_MAX_POOL2D, 1, {4}, {{1, 3, 11, 9}}, {DOM_DISTINCT}, {1}, false, b_maxpool_k4s3p2},
    {"max_pool2d ties and NaN k2 s1 p1", CLGAN_OP_MAX_POOL2D, 1, {4}, {{2, 3, 5, 7}}, {DOM_NAN}, {0}, false, b_maxpool_k2s1p1},
    {"max_pool2d_grad k3 s2 p1", CLGAN_OP_MAX_POOL2D_GRAD, 2, {4, 4}, {{2, 3, 9, 8}, {2, 3, 5, 4}}, {DOM_DISTINCT, DOM_ANY}, {1, 1}, false, b_maxpool_grad_k3s2p1},
    {"max_pool2d_grad ties k3 s1", CLGAN_OP_MAX_POOL2D_GRAD, 2, {4, 4}, {{2, 3, 6, 7}, {2, 3, 4, 5}}, {DOM_TIES, DOM_ANY}, {0, 0}, false, b_maxpool_grad_k3s1},
    {"max_pool2d_gather k3 s2 p1", CLGAN_OP_MAX_POOL2D_GATHER, 2, {4, 4}, {{2, 3, 9, 8}, {2, 3, 9, 8}}, {DOM_DISTINCT, DOM_ANY}, {1, 1}, false, b_maxpool_gather_k3s2p1},
    {"max_pool2d_gather ties and NaN k3 s1 p1", CLGAN_OP_MAX_POOL2D_GATHER, 2, {4, 4}, {{2, 3, 6, 7}, {2, 3, 6, 7}}, {DOM_NAN, DOM_ANY}, {0, 0}, false, b_maxpool_gather_k3s1p1},
    {"max_pool2d of a squared max_pool2d", CLGAN_OP_MAX_POOL2D, 1, {4}, {{2, 3, 7, 6}}, {DOM_DISTINCT}, {1}, true, b_maxpool_sq_maxpool},
    {"avg_pool2d k3 s1 p1 exclude pad", CLGAN_OP_AVG_POOL2D, 1, {4}, {{3, 5, 7, 6}}, {DOM_ANY}, {1}, false, b_avgpool_k3s1p1_ex},
    {"avg_pool2d k3 s2 p1 include pad", CLGAN_OP_AVG_POOL2D, 1, {4}, {{2, 3, 9, 8}}, {DOM_ANY}, {1}, false, b_avgpool_k3s2p1_in},
    {"avg_pool2d k4 s3 p2 exclude pad", CLGAN_OP_AVG_POOL2D, 1, {4}, {{1, 3, 11, 9}}, {DOM_ANY}, {1}, false, b_avgpool_k4s3p2_ex},
    {"avg_pool2d k8 s8", CLGAN_OP_AVG_POOL2D, 1, {4}, {{2, 3, 17, 16}}, {DOM_ANY}, {1}, false, b_avgpool_k8s8},
    {"avg_pool2d_grad k3 s2 p1 exclude pad", CLGAN_OP_AVG_POOL2D_GRAD, 1, {4}, {{2, 3, 5, 4}}, {DOM_ANY}, {1}, false, b_avgpool_grad_k3s2p1_ex},
    {"avg_pool2d_grad k3 s2 p1 include pad", CLGAN_OP_AVG_POOL2D_GRAD, 1, {4}, {{2, 3, 4, 4}}, {DOM_ANY}, {1}, false, b_avgpool_grad_k3s2p1_in},
    {"avg_pool2d of a squared avg_pool2d", CLGAN_OP_AVG_POOL2D, 1, {4}, {{2, 3, 7, 6}}, {DOM_ANY}, {1}, true, b_avgpool_sq_avgpool},
    {"copy", CLGAN_OP_COPY, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, false, b_copy},
    {"allreduce", CLGAN_OP_ALLREDUCE, 1, {3}, {{3, 7, 13}}, {DOM_ANY}, {1}, true, b_allreduce},
    {"permute", CLGAN_OP_PERMUTE, 1, {4}, {{3, 7, 13, 2}}, {DOM_ANY}, {1}, false, b_permute},
    {"concat", CLGAN_OP_CONCAT, 2, {3, 3}, {{3, 7, 5}, {3, 4, 5}}, {DOM_ANY, DOM_ANY}, {1, 1}, false, b_concat},
    {"slice", CLGAN_OP_SLICE, 1, {3}, {{3, 7, 5}}, {DOM_ANY}, {1}, false, b_slice},
    {"embedding", CLGAN_OP_EMBEDDING, 2, {2, 1}, {{10, 7}, {13}}, {DOM_ANY, DOM_LABEL}, {1, 0}, false, b_embedding},
    {"embedding_grad", CLGAN_OP_EMBEDDING_GRAD, 2, {2, 1}, {{13, 7}, {13}}, {DOM_ANY, DOM_LABEL}, {1, 0}, false, b_embedding_grad},
    {"one_hot", CLGAN_OP_ONE_HOT, 1, {1}, {{13}}, {DOM_LABEL}, {0}, false, b_one_hot},
    {"shift2d", CLGAN_OP_SHIFT2D, 2, {4, 2}, {{5, 3, 9, 8}, {5, 2}}, {DOM_ANY, DOM_UNIT}, {1, 0}, true, b_shift2d},
    {"shift2d adjoint", CLGAN_OP_SHIFT2D, 2, {4, 2}, {{5, 2, 7, 6}, {5, 2}}, {DOM_ANY, DOM_UNIT}, {1, 0}, false, b_shift2d_adj},
    {"cutout 5x3", CLGAN_OP_CUTOUT, 2, {4, 2}, {{5, 3, 9, 8}, {5, 2}}, {DOM_ANY, DOM_UNIT}, {1, 0}, true, b_cutout_odd},
    {"cutout 4x8 (the whole width)", CLGAN_OP_CUTOUT, 2, {4, 2}, {{4, 2, 9, 8}, {4, 2}}, {DOM_ANY, DOM_UNIT}, {1, 0}, false, b_cutout_even},
    {"ema", CLGAN_OP_EMA, 2, {2, 2}, {{7, 13}, {7, 13}}, {DOM_ANY, DOM_ANY}, {0}, false, b_ema},
    {"adam", CLGAN_OP_ADAM, 4, {1, 1, 1, 1}, {{1367}, {1367}, {1367}, {1367}}, {DOM_ANY, DOM_ANY, DOM_ANY, DOM_POS}, {0}, false, b_adam},
    {"sgd", CLGAN_OP_SGD, 3, {1, 1, 1}, {{1367}, {1367}, {1367}}, {DOM_ANY, DOM_ANY, DOM_ANY}, {0}, false, b_sgd},
    {"rmsprop", CLGAN_OP_RMSPROP, 3, {1, 1, 1}, {{1367}, {1367}, {1367}}, {DOM_ANY, DOM_ANY, DOM_POS}, {0}, false, b_rmsprop},
};
#define N_OP_CASES ((int)(sizeof op_cases / sizeof op_cases[0]))

/* every op has a case: returns the first op without one, or -1 */
static inline int op_without_case(void) {
    for (int op = 0; op < CLGAN_OP_COUNT; op++) {
        bool found = false;
        for (int k = 0; k < N_OP_CASES && !found; k++) found = (int)op_cases[k].op == op;
        if (!found) return op;
    }
    return -1;
}

/* deterministic test inputs for a domain */
static inline void fill_domain(float *x, size_t n, int dom, uint64_t seed) {
    clgan_rng_uniform(seed, 7, x, n);
    if (dom == DOM_DISTINCT) { /* a Fisher-Yates shuffle of 0 .. n-1 driven by the uniforms, then scaled */
        float *u = malloc((n ? n : 1) * sizeof *u);
        memcpy(u, x, n * sizeof *u);
        for (size_t i = 0; i < n; i++) x[i] = (float)i;
        for (size_t i = n; i-- > 1;) {
            size_t j = (size_t)(u[i] * (float)(i + 1));
            if (j > i) j = i;
            float t = x[i];
            x[i] = x[j];
            x[j] = t;
        }
        for (size_t i = 0; i < n; i++) x[i] = -(0.5f + 0.02f * x[i]);
        free(u);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        float u = x[i];
        switch (dom) {
        case DOM_POS: x[i] = 0.5f + 1.5f * u; break;
        case DOM_UNIT: x[i] = u; break;
        case DOM_LABEL: x[i] = (float)(int)(u * 9.999f); break;
        case DOM_TIES: x[i] = (float)(int)(u * 4.999f) - 2.0f; break;
        case DOM_NAN: x[i] = u < 0.0625f ? NAN : (float)(int)((u - 0.0625f) * 5.33f) - 2.0f; break;
        case DOM_AWAY: {
            float v = 4.0f * u - 2.0f;
            /* away from 0 and from the clamp bounds by at least 0.1 */
            const float kinks[3] = {0.0f, CLAMP_LO, CLAMP_HI};
            for (int k = 0; k < 3; k++)
                if (v > kinks[k] - 0.1f && v < kinks[k] + 0.1f) v = v < kinks[k] ? kinks[k] - 0.1f : kinks[k] + 0.1f;
            x[i] = v;
            break;
        }
        default: x[i] = 4.0f * u - 2.0f;
        }
    }
}

#endif
