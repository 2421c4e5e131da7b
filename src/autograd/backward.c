/* Reverse-mode differentiation. Every gradient rule is written with the same
 * graph builders as the forward pass, so the gradient of a gradient (the
 * WGAN-GP penalty, R1) is one more call to clgan_backward. */
#include "autograd/graph_impl.h"

#include <stdlib.h>
#include <string.h>

static clgan_gnode *N(clgan_graph *g, int i) { return &g->nodes[i]; }

static int mul(clgan_graph *g, int a, int b) { return clgan_mul(g, a, b); }
static int un(clgan_graph *g, clgan_op op, int x, float p0, float p1) { return clgan_unary_node(g, op, x, p0, p1); }

/* The gradient t (shaped like a) of a broadcast operand b, summed back to b. */
static int reduce_to(clgan_graph *g, int t, int b, const int *ip) {
    clgan_gnode B = *N(g, b);
    if (ip[0] == 1 && ip[2] == 1) {
        int nd, shape[CLGAN_MAX_DIMS];
        clgan_node_shape(g, t, &nd, shape);
        if (nd == B.ndim && memcmp(shape, B.shape, sizeof(int) * (size_t)nd) == 0) return t;
        return clgan_reshape(g, t, B.ndim, B.shape);
    }
    return clgan_sum_to(g, t, B.ndim, B.shape, ip[0], ip[1], ip[2]);
}

/* The output padding that makes conv_transpose2d of a conv2d output come
 * back to height h / width w. */
static int out_pad(int h, int r, int s, int p) { return (h + 2 * p - r) % s; }

/* dx[k] = the contribution of node i's output gradient dy to input k. */
void clgan_grad_rule(clgan_graph *g, int i, int dy, int dx[CLGAN_OP_MAX_IN]) {
    const clgan_gnode n = *N(g, i); /* a copy: the node array grows below */
    for (int k = 0; k < CLGAN_OP_MAX_IN; k++) dx[k] = -1;
    if (n.kind == NODE_VIEW) {
        dx[0] = clgan_reshape(g, dy, N(g, n.in[0])->ndim, N(g, n.in[0])->shape);
        return;
    }
    if (n.kind != NODE_OP) return;
    int x = n.in[0], b = n.in[1];
    switch (n.op) {
    /* sources, indicator functions and in-place updates have no gradient */
    case CLGAN_OP_FILL:
    case CLGAN_OP_RANDN:
    case CLGAN_OP_RAND:
    case CLGAN_OP_SIGN:
    case CLGAN_OP_STEP:
    case CLGAN_OP_LEAKY_STEP:
    case CLGAN_OP_CLAMP_MASK:
    case CLGAN_OP_ONE_HOT:
    case CLGAN_OP_EMA:
    case CLGAN_OP_ADAM:
    case CLGAN_OP_SGD:
    case CLGAN_OP_RMSPROP:
    case CLGAN_OP_COUNT:
        return;
    case CLGAN_OP_AFFINE: dx[0] = clgan_scale(g, dy, n.fp[0]); return;
    case CLGAN_OP_SQUARE: dx[0] = mul(g, dy, clgan_scale(g, x, 2.0f)); return;
    case CLGAN_OP_SQRT: dx[0] = clgan_div(g, dy, clgan_scale(g, i, 2.0f)); return;
    case CLGAN_OP_EXP: dx[0] = mul(g, dy, i); return;
    case CLGAN_OP_LOG: dx[0] = clgan_div(g, dy, x); return;
    case CLGAN_OP_ABS: dx[0] = mul(g, dy, un(g, CLGAN_OP_SIGN, x, 0, 0)); return;
    case CLGAN_OP_RELU: dx[0] = mul(g, dy, un(g, CLGAN_OP_STEP, x, 0, 0)); return;
    case CLGAN_OP_LEAKY_RELU: dx[0] = mul(g, dy, un(g, CLGAN_OP_LEAKY_STEP, x, n.fp[0], 0)); return;
    /* d tanh = 1 - y^2 */
    case CLGAN_OP_TANH: dx[0] = mul(g, dy, clgan_affine(g, clgan_square(g, i), -1.0f, 1.0f)); return;
    /* d sigmoid = y (1 - y) */
    case CLGAN_OP_SIGMOID: dx[0] = mul(g, dy, mul(g, i, clgan_affine(g, i, -1.0f, 1.0f))); return;
    case CLGAN_OP_SOFTPLUS: dx[0] = mul(g, dy, clgan_sigmoid(g, x)); return;
    case CLGAN_OP_CLAMP: dx[0] = mul(g, dy, un(g, CLGAN_OP_CLAMP_MASK, x, n.fp[0], n.fp[1])); return;
    case CLGAN_OP_ADD:
        dx[0] = dy;
        dx[1] = reduce_to(g, dy, b, n.ip);
        return;
    case CLGAN_OP_SUB:
        dx[0] = dy;
        dx[1] = clgan_scale(g, reduce_to(g, dy, b, n.ip), -1.0f);
        return;
    case CLGAN_OP_MUL:
        dx[0] = clgan_binary_bcast(g, CLGAN_OP_MUL, dy, b, n.ip[0], n.ip[1], n.ip[2]);
        dx[1] = reduce_to(g, mul(g, dy, x), b, n.ip);
        return;
    case CLGAN_OP_DIV:
        /* y = a / b: da = dy / b, db = -sum(dy y) / b */
        dx[0] = clgan_binary_bcast(g, CLGAN_OP_DIV, dy, b, n.ip[0], n.ip[1], n.ip[2]);
        dx[1] = clgan_scale(g, clgan_div(g, reduce_to(g, mul(g, dy, i), b, n.ip), b), -1.0f);
        return;
    case CLGAN_OP_BCE_LOGITS:
        /* l = softplus(x) - x t: dx = sigmoid(x) - t, dt = -x */
        dx[0] = mul(g, dy, clgan_binary_bcast(g, CLGAN_OP_SUB, clgan_sigmoid(g, x), b, n.ip[0], n.ip[1], n.ip[2]));
        dx[1] = clgan_scale(g, reduce_to(g, mul(g, dy, x), b, n.ip), -1.0f);
        return;
    case CLGAN_OP_SUM: {
        const clgan_gnode X = *N(g, x);
        dx[0] = clgan_expand_to(g, dy, X.ndim, X.shape, n.ip[0], n.ip[1], n.ip[2]);
        return;
    }
    case CLGAN_OP_EXPAND: {
        const clgan_gnode B = *N(g, x);
        dx[0] = clgan_sum_to(g, dy, B.ndim, B.shape, n.ip[0], n.ip[1], n.ip[2]);
        return;
    }
    case CLGAN_OP_LOGSUMEXP: {
        /* d/dx = softmax(x) dy = exp(x - y) dy, y and dy broadcast over the row */
        const clgan_gnode X = *N(g, x);
        int rows = X.shape[0], k = X.shape[1];
        int sm = clgan_exp(g, clgan_binary_bcast(g, CLGAN_OP_SUB, x, i, 1, rows, k));
        dx[0] = clgan_binary_bcast(g, CLGAN_OP_MUL, sm, dy, 1, rows, k);
        return;
    }
    case CLGAN_OP_MATMUL: {
        /* C = op(A) op(B); the four transpose cases (A, B as stored) */
        int ta = n.ip[0], tb = n.ip[1];
        if (!ta && !tb) {
            dx[0] = clgan_matmul_node(g, dy, b, 0, 1); /* dC B^T */
            dx[1] = clgan_matmul_node(g, x, dy, 1, 0); /* A^T dC */
        } else if (ta && !tb) {
            dx[0] = clgan_matmul_node(g, b, dy, 0, 1); /* (dC^T ... ) = B dC^T, stored (K, M) */
            dx[1] = clgan_matmul_node(g, x, dy, 0, 0); /* A dC */
        } else if (!ta && tb) {
            dx[0] = clgan_matmul_node(g, dy, b, 0, 0); /* dC B */
            dx[1] = clgan_matmul_node(g, dy, x, 1, 0); /* dC^T A, stored (N, K) */
        } else {
            dx[0] = clgan_matmul_node(g, b, dy, 1, 1); /* B^T dC^T */
            dx[1] = clgan_matmul_node(g, dy, x, 1, 1); /* dC^T A^T */
        }
        return;
    }
    case CLGAN_OP_CONV2D: {
        const clgan_gnode X = *N(g, x), W = *N(g, b);
        int s = n.ip[0], ph = n.ip[1], pw = n.ip[4];
        bool cm = n.ip[CLGAN_CONV_CM];
        dx[0] = clgan_conv_generic(g, CLGAN_OP_CONV_T2D, cm, dy, b, s, ph, pw, out_pad(X.shape[2], W.shape[2], s, ph),
                                   out_pad(X.shape[3], W.shape[3], s, pw), X.ndim, X.shape);
        dx[1] = clgan_conv_generic(g, CLGAN_OP_CONV2D_GRAD_W, cm, x, dy, s, ph, pw, 0, 0, W.ndim, W.shape);
        return;
    }
    case CLGAN_OP_CONV_T2D: {
        /* y = conv2d^T(x; w): dx = conv2d(dy; w), dw = grad_w(dy as the input, x as the output gradient) */
        const clgan_gnode X = *N(g, x), W = *N(g, b);
        int s = n.ip[0], ph = n.ip[1], pw = n.ip[4];
        bool cm = n.ip[CLGAN_CONV_CM];
        dx[0] = clgan_conv_generic(g, CLGAN_OP_CONV2D, cm, dy, b, s, ph, pw, 0, 0, X.ndim, X.shape);
        dx[1] = clgan_conv_generic(g, CLGAN_OP_CONV2D_GRAD_W, cm, dy, x, s, ph, pw, 0, 0, W.ndim, W.shape);
        return;
    }
    case CLGAN_OP_CONV2D_GRAD_W: {
        /* gw = grad_w(x, e) is bilinear: dx = conv2d^T(e; dy), de = conv2d(x; dy) */
        const clgan_gnode X = *N(g, x), E = *N(g, b);
        int s = n.ip[0], ph = n.ip[1], pw = n.ip[4];
        bool cm = n.ip[CLGAN_CONV_CM];
        dx[0] = clgan_conv_generic(g, CLGAN_OP_CONV_T2D, cm, b, dy, s, ph, pw, out_pad(X.shape[2], n.shape[2], s, ph),
                                   out_pad(X.shape[3], n.shape[3], s, pw), X.ndim, X.shape);
        dx[1] = clgan_conv_generic(g, CLGAN_OP_CONV2D, cm, x, dy, s, ph, pw, 0, 0, E.ndim, E.shape);
        return;
    }
    /* pooling: the node's own kernel, stride, padding and count_include_pad */
    case CLGAN_OP_MAX_POOL2D: {
        const clgan_gnode X = *N(g, x);
        int in[2] = {x, dy};
        dx[0] = clgan_pool_node(g, CLGAN_OP_MAX_POOL2D_GRAD, 2, in, n.ip[0], n.ip[1], n.ip[2], 0, X.ndim, X.shape);
        return;
    }
    /* dx = grad(x, e) is piecewise constant in x (no gradient there) and
     * linear in e: the adjoint gathers, for each window, the incoming
     * gradient at the window's argmax */
    case CLGAN_OP_MAX_POOL2D_GRAD: {
        const clgan_gnode E = *N(g, b);
        int in[2] = {x, dy};
        dx[1] = clgan_pool_node(g, CLGAN_OP_MAX_POOL2D_GATHER, 2, in, n.ip[0], n.ip[1], n.ip[2], 0, E.ndim, E.shape);
        return;
    }
    /* y = v at x's argmaxes: constant in x, linear in v with MAX_POOL2D_GRAD as adjoint */
    case CLGAN_OP_MAX_POOL2D_GATHER: {
        const clgan_gnode V = *N(g, b);
        int in[2] = {x, dy};
        dx[1] = clgan_pool_node(g, CLGAN_OP_MAX_POOL2D_GRAD, 2, in, n.ip[0], n.ip[1], n.ip[2], 0, V.ndim, V.shape);
        return;
    }
    /* average pooling is linear: its gradient is its adjoint, and the adjoint's is itself */
    case CLGAN_OP_AVG_POOL2D: {
        const clgan_gnode X = *N(g, x);
        dx[0] = clgan_pool_node(g, CLGAN_OP_AVG_POOL2D_GRAD, 1, &dy, n.ip[0], n.ip[1], n.ip[2], n.ip[3], X.ndim,
                                X.shape);
        return;
    }
    case CLGAN_OP_AVG_POOL2D_GRAD: {
        const clgan_gnode E = *N(g, x);
        dx[0] = clgan_pool_node(g, CLGAN_OP_AVG_POOL2D, 1, &dy, n.ip[0], n.ip[1], n.ip[2], n.ip[3], E.ndim, E.shape);
        return;
    }
    case CLGAN_OP_COPY: dx[0] = dy; return;
    case CLGAN_OP_ALLREDUCE: {
        /* every process's loss reads the sum: x's gradient is the sum over the processes of their
         * gradients of it, each weighted by its share of the batch (fp0) as the update weights their
         * parameters' gradients (src/train/gan.c), and divided by this one's */
        float w = n.fp[0] > 0 ? n.fp[0] : 1.0f;
        dx[0] = clgan_scale(g, clgan_allreduce(g, clgan_scale(g, dy, w), w), 1.0f / w);
        return;
    }
    case CLGAN_OP_PERMUTE: {
        int inv[CLGAN_MAX_DIMS];
        for (int k = 0; k < n.ndim; k++) inv[n.ip[k]] = k;
        dx[0] = clgan_permute(g, dy, inv);
        return;
    }
    case CLGAN_OP_CONCAT: {
        int axis = n.ip[0], la = N(g, x)->shape[axis], lb = N(g, b)->shape[axis];
        dx[0] = clgan_slice(g, dy, axis, 0, la);
        dx[1] = clgan_slice(g, dy, axis, la, lb);
        return;
    }
    case CLGAN_OP_SLICE: {
        /* the slice's gradient, with zeros before and after it along the axis */
        const clgan_gnode X = *N(g, x);
        int axis = n.ip[0], start = n.ip[1], len = n.shape[axis], full = X.shape[axis];
        int t = dy, shape[CLGAN_MAX_DIMS];
        memcpy(shape, X.shape, sizeof shape);
        if (start > 0) {
            shape[axis] = start;
            t = clgan_concat(g, clgan_fill(g, X.ndim, shape, 0.0f), t, axis);
        }
        if (start + len < full) {
            shape[axis] = full - start - len;
            t = clgan_concat(g, t, clgan_fill(g, X.ndim, shape, 0.0f), axis);
        }
        dx[0] = t;
        return;
    }
    case CLGAN_OP_EMBEDDING: {
        const clgan_gnode T = *N(g, x);
        int in[2] = {dy, b};
        dx[0] = clgan_graph_add(g, CLGAN_OP_EMBEDDING_GRAD, 2, in, T.ndim, T.shape);
        return;
    }
    case CLGAN_OP_EMBEDDING_GRAD:
        dx[0] = clgan_embedding(g, dy, b);
        return;
    /* linear in x: the adjoint shift, the same box (u gets none) */
    case CLGAN_OP_SHIFT2D: dx[0] = clgan_shift2d(g, dy, b, n.ip[0], n.ip[1], !n.ip[2]); return;
    case CLGAN_OP_CUTOUT: dx[0] = clgan_cutout(g, dy, b, n.ip[0], n.ip[1]); return;
    }
}

/* Nodes `loss` depends on, among those depending on some wrt node. */
static bool *relevant_nodes(clgan_graph *g, int loss, int n, const int *wrt) {
    int count = loss + 1;
    bool *down = calloc((size_t)count, 1), *up = calloc((size_t)count, 1);
    if (!down || !up) {
        free(down);
        free(up);
        return NULL;
    }
    for (int k = 0; k < n; k++)
        if (wrt[k] < count) down[wrt[k]] = true;
    for (int i = 0; i < count; i++)
        for (int k = 0; k < g->nodes[i].nin && !down[i]; k++) down[i] = down[g->nodes[i].in[k]];
    up[loss] = true;
    for (int i = loss; i >= 0; i--) {
        if (!up[i]) continue;
        for (int k = 0; k < g->nodes[i].nin; k++) up[g->nodes[i].in[k]] = true;
    }
    for (int i = 0; i < count; i++) up[i] = up[i] && down[i];
    free(down);
    return up;
}

clgan_status clgan_backward(clgan_graph *g, clgan_node loss, int n, const clgan_node *wrt, clgan_node *grads) {
    if (!clgan_graph_ok(g, 1, &loss) || !clgan_graph_ok(g, n, wrt)) return g->status ? g->status : CLGAN_ERR_INVALID_ARG;
    if (clgan_node_numel(g, loss) != 1) {
        clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "backward: the loss must be one number"));
        return g->status;
    }
    int count = loss + 1;
    bool *rel = relevant_nodes(g, loss, n, wrt);
    int *grad = malloc((size_t)count * sizeof *grad);
    if (!rel || !grad) {
        free(rel);
        free(grad);
        clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory"));
        return g->status;
    }
    for (int i = 0; i < count; i++) grad[i] = -1;
    grad[loss] = rel[loss] ? clgan_fill(g, N(g, loss)->ndim, N(g, loss)->shape, 1.0f) : -1;
    for (int i = loss; i >= 0 && g->status == CLGAN_OK; i--) {
        if (!rel[i] || grad[i] < 0) continue;
        int dx[CLGAN_OP_MAX_IN];
        clgan_grad_rule(g, i, grad[i], dx);
        const clgan_gnode *node = N(g, i);
        for (int k = 0; k < node->nin; k++) {
            int in = node->in[k];
            if (dx[k] < 0 || !rel[in]) continue;
            grad[in] = grad[in] < 0 ? dx[k] : clgan_add(g, grad[in], dx[k]);
            node = N(g, i);
        }
    }
    for (int k = 0; k < n && g->status == CLGAN_OK; k++) {
        int w = wrt[k];
        grads[k] = w < count && grad[w] >= 0 ? grad[w] : clgan_fill(g, N(g, w)->ndim, N(g, w)->shape, 0.0f);
    }
    free(rel);
    free(grad);
    return g->status;
}

clgan_status clgan_backward_params(clgan_graph *g, clgan_node loss, clgan_params *p) {
    int *wrt = malloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *wrt), n = 0;
    if (!wrt) return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory")), g->status;
    for (int i = 0; i < g->n; i++)
        if (g->nodes[i].kind == NODE_PARAM && g->nodes[i].params == p && p->e[g->nodes[i].pindex].trainable)
            wrt[n++] = i;
    int *grads = malloc((size_t)(n > 0 ? n : 1) * sizeof *grads);
    clgan_status st = grads ? clgan_backward(g, loss, n, wrt, grads) : CLGAN_ERR_NOMEM;
    for (int k = 0; k < n && st == CLGAN_OK; k++) {
        int gi = grads[k];
        clgan_gnode *gn = N(g, gi);
        /* the gradient's value is written into the block's gradient buffer;
         * a node that already lives elsewhere gets a copy there */
        if (gn->kind != NODE_OP || gn->grad_of_param || clgan_op_is_inplace(gn->op)) gi = clgan_copy(g, gi);
        if (gi < 0) break;
        gn = N(g, gi);
        gn->grad_of_param = true;
        gn->params = p;
        gn->pindex = N(g, wrt[k])->pindex;
        gn->keep = true;
    }
    free(wrt);
    free(grads);
    return g->status;
}
