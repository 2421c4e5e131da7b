/* Graph building: nodes, shape checks and inference for every builder. */
#include "autograd/graph_impl.h"

#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clgan_graph *clgan_graph_new(void) { return calloc(1, sizeof(clgan_graph)); }

void clgan_graph_free(clgan_graph *g) {
    if (!g) return;
    clgan_buffer_free(g->arena);
    free(g->groups);
    free(g->calls);
    free(g->chains);
    free(g->chain_of);
    free(g->nodes);
    free(g);
}

clgan_status clgan_graph_status(const clgan_graph *g) { return g->status; }
int clgan_graph_size(const clgan_graph *g) { return g->n; }

/* Records the first error (the message is in clgan_last_error()). */
int clgan_graph_fail(clgan_graph *g, clgan_status st) {
    if (g->status == CLGAN_OK) {
        g->status = st;
        snprintf(g->error, sizeof g->error, "%s", clgan_last_error());
    }
    return -1;
}

void clgan_graph_record_error(clgan_graph *g, clgan_status st) { clgan_graph_fail(g, st); }

bool clgan_graph_ok(clgan_graph *g, int nin, const int *in) {
    if (g->status != CLGAN_OK) return false;
    for (int i = 0; i < nin; i++)
        if (in[i] < 0 || in[i] >= g->n) {
            clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "invalid node %d", in[i]));
            return false;
        }
    return true;
}

static clgan_gnode *N(clgan_graph *g, int i) { return &g->nodes[i]; }

int clgan_graph_add(clgan_graph *g, clgan_op op, int nin, const int *in, int ndim, const int *shape) {
    if (!clgan_graph_ok(g, nin, in)) return -1;
    if (ndim < 1 || ndim > CLGAN_MAX_DIMS)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: result rank %d", clgan_ops[op].name, ndim));
    size_t numel = 1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] <= 0)
            return clgan_graph_fail(
                g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: result dimension %d is %d", clgan_ops[op].name, k, shape[k]));
        numel *= (size_t)shape[k];
    }
    if (numel > (size_t)1 << 30)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: result of %zu elements is too large",
                                             clgan_ops[op].name, numel));
    /* callers pass another node's shape (N(g, x)->shape), which the realloc below may free */
    int dims[CLGAN_MAX_DIMS];
    memcpy(dims, shape, sizeof(int) * (size_t)ndim);
    if (g->n == g->cap) {
        int cap = g->cap ? g->cap * 2 : 256;
        clgan_gnode *grown = realloc(g->nodes, (size_t)cap * sizeof *grown);
        if (!grown) return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory"));
        g->nodes = grown;
        g->cap = cap;
    }
    clgan_gnode *n = &g->nodes[g->n];
    memset(n, 0, sizeof *n);
    n->kind = NODE_OP;
    n->op = op;
    n->nin = nin;
    for (int i = 0; i < nin; i++) n->in[i] = in[i];
    n->ndim = ndim;
    memcpy(n->shape, dims, sizeof(int) * (size_t)ndim);
    n->pindex = -1;
    return g->n++;
}

static bool valid_node(const clgan_graph *g, clgan_node n) { return n >= 0 && n < g->n; }

/* A failed builder's -1 (or any id outside the graph) reads as rank 0 with
 * zero dimensions, so model code that asks for a shape before checking the
 * graph's status gets sizes the next builder refuses, never an index past
 * the node array. */
void clgan_node_shape(const clgan_graph *g, clgan_node n, int *ndim, int *shape) {
    if (!valid_node(g, n)) {
        *ndim = 0;
        memset(shape, 0, sizeof(int) * CLGAN_MAX_DIMS);
        return;
    }
    *ndim = g->nodes[n].ndim;
    memcpy(shape, g->nodes[n].shape, sizeof(int) * (size_t)g->nodes[n].ndim);
}

static size_t numel_of(const clgan_gnode *n) { return clgan_shape_numel(n->ndim, n->shape); }
size_t clgan_node_numel(const clgan_graph *g, clgan_node n) { return valid_node(g, n) ? numel_of(&g->nodes[n]) : 0; }

const char *clgan_node_op_name(const clgan_graph *g, clgan_node n) {
    if (!valid_node(g, n)) return "(invalid node)";
    const clgan_gnode *x = &g->nodes[n];
    switch (x->kind) {
    case NODE_INPUT: return "input";
    case NODE_PARAM: return "param";
    case NODE_VIEW: return "reshape";
    default: return clgan_ops[x->op].name;
    }
}

void clgan_node_set_name(clgan_graph *g, clgan_node n, const char *name) {
    if (n >= 0 && n < g->n) /* longer names are cut */
        snprintf(g->nodes[n].name, sizeof g->nodes[n].name, "%.*s", (int)sizeof g->nodes[n].name - 1, name);
}
const char *clgan_node_name(const clgan_graph *g, clgan_node n) { return valid_node(g, n) ? g->nodes[n].name : ""; }
void clgan_graph_keep(clgan_graph *g, clgan_node n) {
    if (n >= 0 && n < g->n) g->nodes[n].keep = true;
}

static void shape_str(const clgan_gnode *n, char *out, size_t cap) { clgan_shape_str(n->ndim, n->shape, out, cap); }

/* ---- leaves ---- */

clgan_node clgan_input(clgan_graph *g, const char *name, int ndim, const int *shape) {
    int i = clgan_graph_add(g, CLGAN_OP_COPY, 0, NULL, ndim, shape);
    if (i < 0) return -1;
    N(g, i)->kind = NODE_INPUT;
    N(g, i)->keep = true;
    clgan_node_set_name(g, i, name);
    return i;
}

clgan_node clgan_param(clgan_graph *g, clgan_params *p, int index) {
    if (g->status != CLGAN_OK) return -1;
    if (index < 0 || index >= p->count)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "no parameter %d in block %s", index, p->name));
    for (int i = 0; i < g->n; i++)
        if (g->nodes[i].kind == NODE_PARAM && g->nodes[i].params == p && g->nodes[i].pindex == index) return i;
    const clgan_param_entry *e = &p->e[index];
    int i = clgan_graph_add(g, CLGAN_OP_COPY, 0, NULL, e->ndim, e->shape);
    if (i < 0) return -1;
    N(g, i)->kind = NODE_PARAM;
    N(g, i)->params = p;
    N(g, i)->pindex = index;
    clgan_node_set_name(g, i, e->name);
    return i;
}

clgan_node clgan_fill(clgan_graph *g, int ndim, const int *shape, float value) {
    int i = clgan_graph_add(g, CLGAN_OP_FILL, 0, NULL, ndim, shape);
    if (i >= 0) N(g, i)->fp[0] = value;
    return i;
}

static clgan_node rng(clgan_graph *g, clgan_op op, int ndim, const int *shape, uint64_t seed, int stream) {
    if (stream < 0 || stream >= 65536)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "random stream %d outside [0, 65536)", stream));
    int i = clgan_graph_add(g, op, 0, NULL, ndim, shape);
    if (i < 0) return -1;
    N(g, i)->seed = seed;
    N(g, i)->stream = stream;
    if (ndim >= 1 && shape[0] > 0)
        N(g, i)->rng_first = (uint64_t)g->sample_first * (clgan_shape_numel(ndim, shape) / (size_t)shape[0]);
    return i;
}

void clgan_graph_set_sample_offset(clgan_graph *g, int first) {
    if (g && first >= 0) g->sample_first = first;
}

void clgan_graph_set_sync_stats(clgan_graph *g, int count, int total) {
    if (g && count > 0 && total >= count) g->sync_share = (double)count / (double)total;
}

clgan_node clgan_allreduce(clgan_graph *g, clgan_node x, float share) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    int i = clgan_graph_add(g, CLGAN_OP_ALLREDUCE, 1, &x, N(g, x)->ndim, N(g, x)->shape);
    if (i >= 0) N(g, i)->fp[0] = share;
    return i;
}
clgan_node clgan_randn(clgan_graph *g, int ndim, const int *shape, uint64_t seed, int stream) {
    return rng(g, CLGAN_OP_RANDN, ndim, shape, seed, stream);
}
clgan_node clgan_rand(clgan_graph *g, int ndim, const int *shape, uint64_t seed, int stream) {
    return rng(g, CLGAN_OP_RAND, ndim, shape, seed, stream);
}

/* ---- elementwise ---- */

static int unary(clgan_graph *g, clgan_op op, int x, float p0, float p1) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    int i = clgan_graph_add(g, op, 1, &x, N(g, x)->ndim, N(g, x)->shape);
    if (i >= 0) {
        N(g, i)->fp[0] = p0;
        N(g, i)->fp[1] = p1;
    }
    return i;
}

clgan_node clgan_affine(clgan_graph *g, clgan_node x, float a, float b) { return unary(g, CLGAN_OP_AFFINE, x, a, b); }
clgan_node clgan_scale(clgan_graph *g, clgan_node x, float a) { return unary(g, CLGAN_OP_AFFINE, x, a, 0.0f); }
clgan_node clgan_square(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_SQUARE, x, 0, 0); }
clgan_node clgan_sqrt(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_SQRT, x, 0, 0); }
clgan_node clgan_exp(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_EXP, x, 0, 0); }
clgan_node clgan_ln(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_LOG, x, 0, 0); }
clgan_node clgan_abs(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_ABS, x, 0, 0); }
clgan_node clgan_relu(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_RELU, x, 0, 0); }
clgan_node clgan_leaky_relu(clgan_graph *g, clgan_node x, float s) { return unary(g, CLGAN_OP_LEAKY_RELU, x, s, 0); }
clgan_node clgan_tanh(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_TANH, x, 0, 0); }
clgan_node clgan_sigmoid(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_SIGMOID, x, 0, 0); }
clgan_node clgan_softplus(clgan_graph *g, clgan_node x) { return unary(g, CLGAN_OP_SOFTPLUS, x, 0, 0); }
clgan_node clgan_clamp(clgan_graph *g, clgan_node x, float lo, float hi) { return unary(g, CLGAN_OP_CLAMP, x, lo, hi); }
/* used by gradient rules */
int clgan_unary_node(clgan_graph *g, clgan_op op, int x, float p0, float p1) { return unary(g, op, x, p0, p1); }

/* b broadcast over a as (outer, mid, inner): b has mid elements. */
int clgan_binary_bcast(clgan_graph *g, clgan_op op, int a, int b, int outer, int mid, int inner) {
    int in[2] = {a, b};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    int i = clgan_graph_add(g, op, 2, in, N(g, a)->ndim, N(g, a)->shape);
    if (i < 0) return -1;
    N(g, i)->ip[0] = outer;
    N(g, i)->ip[1] = mid;
    N(g, i)->ip[2] = inner;
    return i;
}

/* Whether b's dims (less leading/trailing 1s) equal a's dims from `axis`;
 * gives (outer, mid, inner). */
static bool fits(const clgan_gnode *a, const clgan_gnode *b, int axis, int *outer, int *mid, int *inner) {
    int lo = 0, hi = b->ndim;
    while (hi - lo > 1 && b->shape[lo] == 1) lo++;
    while (hi - lo > 1 && b->shape[hi - 1] == 1) hi--;
    int len = hi - lo;
    if (axis < 0 || axis + len > a->ndim) return false;
    for (int k = 0; k < len; k++)
        if (a->shape[axis + k] != b->shape[lo + k]) return false;
    *outer = 1;
    *mid = 1;
    *inner = 1;
    for (int k = 0; k < axis; k++) *outer *= a->shape[k];
    for (int k = 0; k < len; k++) *mid *= a->shape[axis + k];
    for (int k = axis + len; k < a->ndim; k++) *inner *= a->shape[k];
    return true;
}

static int binary(clgan_graph *g, clgan_op op, int a, int b, int axis) {
    int in[2] = {a, b};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *A = N(g, a), *B = N(g, b);
    size_t na = numel_of(A), nb = numel_of(B);
    int outer = 1, mid = (int)na, inner = 1;
    bool ok = false;
    if (axis < 0) {
        if (A->ndim == B->ndim && memcmp(A->shape, B->shape, sizeof(int) * (size_t)A->ndim) == 0)
            ok = true;
        else if (nb == 1) {
            outer = (int)na;
            mid = 1;
            ok = true;
        } else {
            for (int ax = 1; ax < A->ndim && !ok; ax++) ok = fits(A, B, ax, &outer, &mid, &inner);
            if (!ok) ok = fits(A, B, 0, &outer, &mid, &inner);
        }
    } else {
        ok = fits(A, B, axis, &outer, &mid, &inner);
    }
    if (!ok) {
        char sa[64], sb[64];
        shape_str(A, sa, sizeof sa);
        shape_str(B, sb, sizeof sb);
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: cannot broadcast %s over %s%s",
                                             clgan_ops[op].name, sb, sa, axis >= 0 ? " at the given axis" : ""));
    }
    return clgan_binary_bcast(g, op, a, b, outer, mid, inner);
}

clgan_node clgan_add(clgan_graph *g, clgan_node a, clgan_node b) { return binary(g, CLGAN_OP_ADD, a, b, -1); }
clgan_node clgan_sub(clgan_graph *g, clgan_node a, clgan_node b) { return binary(g, CLGAN_OP_SUB, a, b, -1); }
clgan_node clgan_mul(clgan_graph *g, clgan_node a, clgan_node b) { return binary(g, CLGAN_OP_MUL, a, b, -1); }
clgan_node clgan_div(clgan_graph *g, clgan_node a, clgan_node b) { return binary(g, CLGAN_OP_DIV, a, b, -1); }
clgan_node clgan_bce_logits(clgan_graph *g, clgan_node x, clgan_node t) { return binary(g, CLGAN_OP_BCE_LOGITS, x, t, -1); }
clgan_node clgan_add_axis(clgan_graph *g, clgan_node a, clgan_node b, int axis) {
    return binary(g, CLGAN_OP_ADD, a, b, axis < 0 ? 0 : axis);
}
clgan_node clgan_mul_axis(clgan_graph *g, clgan_node a, clgan_node b, int axis) {
    return binary(g, CLGAN_OP_MUL, a, b, axis < 0 ? 0 : axis);
}
static int sub_axis(clgan_graph *g, int a, int b, int axis) { return binary(g, CLGAN_OP_SUB, a, b, axis); }
static int div_axis(clgan_graph *g, int a, int b, int axis) { return binary(g, CLGAN_OP_DIV, a, b, axis); }

/* ---- reductions ---- */

int clgan_sum_to(clgan_graph *g, int x, int ndim, const int *shape, int outer, int mid, int inner) {
    int i = clgan_graph_add(g, CLGAN_OP_SUM, 1, &x, ndim, shape);
    if (i < 0) return -1;
    N(g, i)->ip[0] = outer;
    N(g, i)->ip[1] = mid;
    N(g, i)->ip[2] = inner;
    return i;
}

int clgan_expand_to(clgan_graph *g, int b, int ndim, const int *shape, int outer, int mid, int inner) {
    int i = clgan_graph_add(g, CLGAN_OP_EXPAND, 1, &b, ndim, shape);
    if (i < 0) return -1;
    N(g, i)->ip[0] = outer;
    N(g, i)->ip[1] = mid;
    N(g, i)->ip[2] = inner;
    return i;
}

clgan_node clgan_sum_axes(clgan_graph *g, clgan_node x, int axis, int keep) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    const clgan_gnode *X = N(g, x);
    if (axis < 0 || keep < 0 || axis + keep > X->ndim)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "sum: axes [%d, %d) outside rank %d", axis,
                                             axis + keep, X->ndim));
    int outer = 1, mid = 1, inner = 1, shape[CLGAN_MAX_DIMS], nd = keep ? keep : 1;
    shape[0] = 1;
    for (int k = 0; k < axis; k++) outer *= X->shape[k];
    for (int k = 0; k < keep; k++) mid *= (shape[k] = X->shape[axis + k]);
    for (int k = axis + keep; k < X->ndim; k++) inner *= X->shape[k];
    return clgan_sum_to(g, x, nd, shape, outer, mid, inner);
}

clgan_node clgan_sum(clgan_graph *g, clgan_node x) { return clgan_sum_axes(g, x, 0, 0); }

clgan_node clgan_mean_axes(clgan_graph *g, clgan_node x, int axis, int keep) {
    int s = clgan_sum_axes(g, x, axis, keep);
    if (s < 0) return -1;
    return clgan_scale(g, s, (float)((double)clgan_node_numel(g, s) / (double)clgan_node_numel(g, x)));
}

clgan_node clgan_mean(clgan_graph *g, clgan_node x) { return clgan_mean_axes(g, x, 0, 0); }

clgan_node clgan_logsumexp(clgan_graph *g, clgan_node x) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    if (N(g, x)->ndim != 2) return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "logsumexp takes (N, K)"));
    return clgan_graph_add(g, CLGAN_OP_LOGSUMEXP, 1, &x, 1, (int[]){N(g, x)->shape[0]});
}

clgan_node clgan_expand(clgan_graph *g, clgan_node b, int ndim, const int *shape, int axis) {
    if (!clgan_graph_ok(g, 1, &b)) return -1;
    clgan_gnode target = {.ndim = ndim};
    memcpy(target.shape, shape, sizeof(int) * (size_t)ndim);
    int outer, mid, inner;
    if (!fits(&target, N(g, b), axis, &outer, &mid, &inner))
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "expand: shapes do not fit at axis %d", axis));
    return clgan_expand_to(g, b, ndim, shape, outer, mid, inner);
}

/* ---- linear algebra and convolution ---- */

int clgan_matmul_node(clgan_graph *g, int a, int b, int ta, int tb) {
    int in[2] = {a, b};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *A = N(g, a), *B = N(g, b);
    if (A->ndim != 2 || B->ndim != 2)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "matmul takes 2-D operands"));
    int m = ta ? A->shape[1] : A->shape[0], k = ta ? A->shape[0] : A->shape[1];
    int k2 = tb ? B->shape[1] : B->shape[0], n = tb ? B->shape[0] : B->shape[1];
    if (k != k2) {
        char sa[64], sb[64];
        shape_str(A, sa, sizeof sa);
        shape_str(B, sb, sizeof sb);
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "matmul: inner sizes differ: %s%s x %s%s", sa,
                                             ta ? "^T" : "", sb, tb ? "^T" : ""));
    }
    int shape[2] = {m, n};
    int i = clgan_graph_add(g, CLGAN_OP_MATMUL, 2, in, 2, shape);
    if (i < 0) return -1;
    N(g, i)->ip[0] = ta;
    N(g, i)->ip[1] = tb;
    return i;
}

clgan_node clgan_matmul(clgan_graph *g, clgan_node a, clgan_node b, bool ta, bool tb) {
    return clgan_matmul_node(g, a, b, ta, tb);
}

int clgan_conv_generic(clgan_graph *g, clgan_op op, bool cm, int a, int b, int stride, int pad_h, int pad_w,
                       int out_pad_h, int out_pad_w, int ndim, const int *shape) {
    int in[2] = {a, b};
    int i = clgan_graph_add(g, op, 2, in, ndim, shape);
    if (i < 0) return -1;
    N(g, i)->ip[0] = stride;
    N(g, i)->ip[1] = pad_h;
    N(g, i)->ip[2] = out_pad_h;
    N(g, i)->ip[3] = out_pad_w;
    N(g, i)->ip[4] = pad_w;
    N(g, i)->ip[CLGAN_CONV_CM] = cm;
    return i;
}

/* the (samples, channels) axes of a 4-D activation in either layout */
#define SAMPLES(X, cm) ((X)->shape[(cm) ? 1 : 0])
#define CHANNELS(X, cm) ((X)->shape[(cm) ? 0 : 1])

clgan_node clgan_conv2d_layout(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad_h, int pad_w,
                               bool channel_major) {
    int in[2] = {x, w};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *X = N(g, x), *W = N(g, w);
    bool cm = channel_major;
    if (X->ndim != 4 || W->ndim != 4 || CHANNELS(X, cm) != W->shape[1] || stride < 1 || pad_h < 0 || pad_w < 0 ||
        X->shape[2] + 2 * pad_h < W->shape[2] || X->shape[3] + 2 * pad_w < W->shape[3]) {
        char sx[64], sw[64];
        shape_str(X, sx, sizeof sx);
        shape_str(W, sw, sizeof sw);
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                                             "conv2d: input %s%s, weight %s, stride %d, padding %d, %d do not fit", sx,
                                             cm ? " (channel-major)" : "", sw, stride, pad_h, pad_w));
    }
    int p = (X->shape[2] + 2 * pad_h - W->shape[2]) / stride + 1, q = (X->shape[3] + 2 * pad_w - W->shape[3]) / stride + 1;
    int shape[4] = {cm ? W->shape[0] : SAMPLES(X, cm), cm ? SAMPLES(X, cm) : W->shape[0], p, q};
    return clgan_conv_generic(g, CLGAN_OP_CONV2D, cm, x, w, stride, pad_h, pad_w, 0, 0, 4, shape);
}

clgan_node clgan_conv2d_pad(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad_h, int pad_w) {
    return clgan_conv2d_layout(g, x, w, stride, pad_h, pad_w, false);
}

clgan_node clgan_conv2d(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad) {
    return clgan_conv2d_layout(g, x, w, stride, pad, pad, false);
}

clgan_node clgan_conv_transpose2d_layout(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad, int out_pad,
                                         bool channel_major) {
    int in[2] = {x, w};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *X = N(g, x), *W = N(g, w);
    bool cm = channel_major;
    int ho = X->ndim == 4 && W->ndim == 4 ? (X->shape[2] - 1) * stride - 2 * pad + W->shape[2] + out_pad : 0;
    int wo = X->ndim == 4 && W->ndim == 4 ? (X->shape[3] - 1) * stride - 2 * pad + W->shape[3] + out_pad : 0;
    if (X->ndim != 4 || W->ndim != 4 || CHANNELS(X, cm) != W->shape[0] || stride < 1 || pad < 0 || out_pad < 0 ||
        out_pad >= stride || ho < 1 || wo < 1) {
        char sx[64], sw[64];
        shape_str(X, sx, sizeof sx);
        shape_str(W, sw, sizeof sw);
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                                             "conv_transpose2d: input %s%s, weight %s, stride %d, padding %d, output "
                                             "padding %d do not fit",
                                             sx, cm ? " (channel-major)" : "", sw, stride, pad, out_pad));
    }
    int shape[4] = {cm ? W->shape[1] : SAMPLES(X, cm), cm ? SAMPLES(X, cm) : W->shape[1], ho, wo};
    return clgan_conv_generic(g, CLGAN_OP_CONV_T2D, cm, x, w, stride, pad, pad, out_pad, out_pad, 4, shape);
}

clgan_node clgan_conv_transpose2d(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad, int out_pad) {
    return clgan_conv_transpose2d_layout(g, x, w, stride, pad, out_pad, false);
}

/* ---- pooling ---- */

int clgan_pool_node(clgan_graph *g, clgan_op op, int nin, const int *in, int k, int stride, int pad, int include_pad,
                    int ndim, const int *shape) {
    int i = clgan_graph_add(g, op, nin, in, ndim, shape);
    if (i < 0) return -1;
    N(g, i)->ip[0] = k;
    N(g, i)->ip[1] = stride;
    N(g, i)->ip[2] = pad;
    N(g, i)->ip[3] = include_pad;
    return i;
}

/* x (N, C, H, W) -> (N, C, (H + 2 pad - k)/stride + 1, (W + 2 pad - k)/stride + 1) */
static int pool(clgan_graph *g, clgan_op op, int x, int k, int stride, int pad, int include_pad) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    const clgan_gnode *X = N(g, x);
    long long hp = X->ndim == 4 ? X->shape[2] + 2LL * pad : 0, wp = X->ndim == 4 ? X->shape[3] + 2LL * pad : 0;
    if (X->ndim != 4 || k < 1 || stride < 1 || pad < 0 || pad > k / 2 || hp < k || wp < k || hp > INT_MAX ||
        wp > INT_MAX) {
        char sx[64];
        shape_str(X, sx, sizeof sx);
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                                             "%s: input %s, kernel %d, stride %d, padding %d do not fit: want a 4-D "
                                             "input, a kernel and a stride >= 1, a padding from 0 to half the kernel "
                                             "and the padded input at least the kernel on each side",
                                             clgan_ops[op].name, sx, k, stride, pad));
    }
    int shape[4] = {X->shape[0], X->shape[1], (int)((hp - k) / stride + 1), (int)((wp - k) / stride + 1)};
    return clgan_pool_node(g, op, 1, &x, k, stride, pad, include_pad, 4, shape);
}

clgan_node clgan_max_pool2d(clgan_graph *g, clgan_node x, int k, int stride, int pad) {
    return pool(g, CLGAN_OP_MAX_POOL2D, x, k, stride, pad, 0);
}

clgan_node clgan_avg_pool2d(clgan_graph *g, clgan_node x, int k, int stride, int pad, bool count_include_pad) {
    return pool(g, CLGAN_OP_AVG_POOL2D, x, k, stride, pad, count_include_pad ? 1 : 0);
}

/* ---- layout ---- */

clgan_node clgan_reshape(clgan_graph *g, clgan_node x, int ndim, const int *shape) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    if (ndim < 1 || ndim > CLGAN_MAX_DIMS || clgan_shape_numel(ndim, shape) != numel_of(N(g, x)))
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "reshape: element counts differ"));
    int i = clgan_graph_add(g, CLGAN_OP_COPY, 1, &x, ndim, shape);
    if (i >= 0) N(g, i)->kind = NODE_VIEW;
    return i;
}

clgan_node clgan_copy(clgan_graph *g, clgan_node x) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    return clgan_graph_add(g, CLGAN_OP_COPY, 1, &x, N(g, x)->ndim, N(g, x)->shape);
}

clgan_node clgan_permute(clgan_graph *g, clgan_node x, const int *perm) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    const clgan_gnode *X = N(g, x);
    int shape[CLGAN_MAX_DIMS], seen = 0;
    for (int k = 0; k < X->ndim; k++) {
        if (perm[k] < 0 || perm[k] >= X->ndim || (seen & (1 << perm[k])))
            return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "permute: not a permutation"));
        seen |= 1 << perm[k];
        shape[k] = X->shape[perm[k]];
    }
    /* a permutation that moves only axes of size 1 keeps the order of memory: a view */
    bool in_order = true;
    for (int k = 0, last = -1; k < X->ndim && in_order; k++) {
        if (X->shape[perm[k]] == 1) continue;
        in_order = perm[k] > last;
        last = perm[k];
    }
    if (in_order) return clgan_reshape(g, x, X->ndim, shape);
    /* one that undoes x's own permutation: x's input */
    bool undoes = X->kind == NODE_OP && X->op == CLGAN_OP_PERMUTE;
    for (int k = 0; k < X->ndim && undoes; k++) undoes = X->ip[perm[k]] == k;
    if (undoes) return X->in[0];
    int i = clgan_graph_add(g, CLGAN_OP_PERMUTE, 1, &x, X->ndim, shape);
    if (i >= 0)
        for (int k = 0; k < X->ndim; k++) N(g, i)->ip[k] = perm[k];
    return i;
}

clgan_node clgan_concat(clgan_graph *g, clgan_node a, clgan_node b, int axis) {
    int in[2] = {a, b};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *A = N(g, a), *B = N(g, b);
    bool ok = A->ndim == B->ndim && axis >= 0 && axis < A->ndim;
    for (int k = 0; ok && k < A->ndim; k++) ok = k == axis || A->shape[k] == B->shape[k];
    if (!ok) {
        char sa[64], sb[64];
        shape_str(A, sa, sizeof sa);
        shape_str(B, sb, sizeof sb);
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "concat: %s and %s differ outside axis %d", sa,
                                             sb, axis));
    }
    int shape[CLGAN_MAX_DIMS];
    memcpy(shape, A->shape, sizeof shape);
    shape[axis] += B->shape[axis];
    int i = clgan_graph_add(g, CLGAN_OP_CONCAT, 2, in, A->ndim, shape);
    if (i >= 0) N(g, i)->ip[0] = axis;
    return i;
}

/* SHIFT2D / CUTOUT of x (N, C, H, W) with u (N, 2): ip0, ip1 and ip2 */
static int augment_op(clgan_graph *g, clgan_op op, clgan_node x, clgan_node u, int p0, int p1, int p2) {
    int in[2] = {x, u};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *X = N(g, x);
    if (X->ndim != 4 || clgan_node_numel(g, u) != 2 * (size_t)X->shape[0] || p0 < 0 || p1 < 0 ||
        p0 > X->shape[2] || p1 > X->shape[3])
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: x (N, C, H, W) with u (N, 2) and bounds "
                                             "within the image, not %d x %d", clgan_ops[op].name, p0, p1));
    int shape[CLGAN_MAX_DIMS];
    memcpy(shape, X->shape, sizeof shape);
    int i = clgan_graph_add(g, op, 2, in, 4, shape);
    if (i >= 0) {
        N(g, i)->ip[0] = p0;
        N(g, i)->ip[1] = p1;
        N(g, i)->ip[2] = p2;
    }
    return i;
}

clgan_node clgan_shift2d(clgan_graph *g, clgan_node x, clgan_node u, int max_rows, int max_cols, bool adjoint) {
    return augment_op(g, CLGAN_OP_SHIFT2D, x, u, max_rows, max_cols, adjoint ? 1 : 0);
}

clgan_node clgan_cutout(clgan_graph *g, clgan_node x, clgan_node u, int rows, int cols) {
    return augment_op(g, CLGAN_OP_CUTOUT, x, u, rows, cols, 0);
}

clgan_node clgan_slice(clgan_graph *g, clgan_node x, int axis, int start, int len) {
    if (!clgan_graph_ok(g, 1, &x)) return -1;
    const clgan_gnode *X = N(g, x);
    if (axis < 0 || axis >= X->ndim || start < 0 || len < 1 || start + len > X->shape[axis])
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "slice: [%d, %d) outside axis %d", start,
                                             start + len, axis));
    int shape[CLGAN_MAX_DIMS];
    memcpy(shape, X->shape, sizeof shape);
    shape[axis] = len;
    int i = clgan_graph_add(g, CLGAN_OP_SLICE, 1, &x, X->ndim, shape);
    if (i >= 0) {
        N(g, i)->ip[0] = axis;
        N(g, i)->ip[1] = start;
    }
    return i;
}

clgan_node clgan_embedding(clgan_graph *g, clgan_node table, clgan_node labels) {
    int in[2] = {table, labels};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    const clgan_gnode *T = N(g, table), *L = N(g, labels);
    if (T->ndim != 2 || L->ndim != 1)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "embedding takes a (K, D) table and (N) labels"));
    int shape[2] = {L->shape[0], T->shape[1]};
    return clgan_graph_add(g, CLGAN_OP_EMBEDDING, 2, in, 2, shape);
}

clgan_node clgan_one_hot(clgan_graph *g, clgan_node labels, int classes) {
    if (!clgan_graph_ok(g, 1, &labels)) return -1;
    if (N(g, labels)->ndim != 1 || classes < 1)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "one_hot takes (N) labels and classes >= 1"));
    int shape[2] = {N(g, labels)->shape[0], classes};
    return clgan_graph_add(g, CLGAN_OP_ONE_HOT, 1, &labels, 2, shape);
}

/* ---- normalisation (composites) ---- */

/* running = (1 - momentum) running + momentum value, in place */
static int ema(clgan_graph *g, int running, int value, float momentum) {
    int in[2] = {running, value};
    int i = clgan_graph_add(g, CLGAN_OP_EMA, 2, in, N(g, running)->ndim, N(g, running)->shape);
    if (i >= 0) {
        N(g, i)->fp[0] = momentum;
        N(g, i)->keep = true; /* a side effect: always run */
    }
    return i;
}

clgan_node clgan_assign(clgan_graph *g, clgan_node buffer, clgan_node value) {
    int in[2] = {buffer, value};
    if (!clgan_graph_ok(g, 2, in)) return -1;
    if (clgan_node_numel(g, buffer) != clgan_node_numel(g, value))
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "assign: a value of %zu elements to a buffer of %zu",
                                             clgan_node_numel(g, value), clgan_node_numel(g, buffer)));
    /* (1 - 1) r + 1 x: exactly x for a finite r; read through a copy, so that a later write to the
     * buffer (the next call's assignment) cannot change what readers placed after it see */
    return clgan_copy(g, ema(g, buffer, value, 1.0f));
}

/* BatchNorm's batch mean over every axis of x but `axis`: this process's,
 * or with clgan_graph_set_sync_stats the whole batch's, its sums added over
 * the processes */
static int stat_mean(clgan_graph *g, int x, int axis) {
    if (g->sync_share <= 0) return clgan_mean_axes(g, x, axis, 1);
    int s = clgan_allreduce(g, clgan_sum_axes(g, x, axis, 1), (float)g->sync_share);
    double local = (double)clgan_node_numel(g, x) / (double)clgan_node_numel(g, s);
    return clgan_scale(g, s, (float)(g->sync_share / local));
}

/* the samples a statistic averages over: local ones, or the whole batch's */
static double stat_count(const clgan_graph *g, double local) {
    return g->sync_share > 0 ? local / g->sync_share : local;
}

clgan_node clgan_batchnorm_axis(clgan_graph *g, clgan_node x, int axis, clgan_node gamma, clgan_node beta,
                                clgan_node run_mean, clgan_node run_var, bool training, float momentum, float eps) {
    int in[5] = {x, gamma, beta, run_mean, run_var};
    if (!clgan_graph_ok(g, 5, in)) return -1;
    /* (nodes may move as the graph grows: copy what is needed of x first) */
    int ndim = N(g, x)->ndim;
    if ((ndim != 2 && ndim != 4) || axis < 0 || axis > 1)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "batchnorm takes (N, F) or (N, C, H, W) with the "
                                             "features on axis 1, or (C, N, H, W) on axis 0"));
    int channels = N(g, x)->shape[axis];
    double count = stat_count(g, (double)clgan_node_numel(g, x) / (double)channels);
    int mean, var;
    if (training) {
        /* batch statistics over N (and H, W), per feature/channel */
        mean = stat_mean(g, x, axis);
        int xc = sub_axis(g, x, mean, axis);
        var = stat_mean(g, clgan_square(g, xc), axis);
        int xhat = div_axis(g, xc, clgan_sqrt(g, clgan_affine(g, var, 1.0f, eps)), axis);
        int y = clgan_add_axis(g, clgan_mul_axis(g, xhat, gamma, axis), beta, axis);
        /* running variance is the unbiased estimate, as in PyTorch; momentum
         * 0 uses batch statistics without updating the running ones. The
         * updates come last, so that fusion can run them with the sums that
         * make mean and var (they read nothing the normalisation needs) */
        if (momentum > 0) {
            ema(g, run_mean, mean, momentum);
            ema(g, run_var, clgan_scale(g, var, count > 1 ? (float)(count / (count - 1)) : 1.0f), momentum);
        }
        return y;
    }
    int xc = sub_axis(g, x, run_mean, axis);
    int xhat = div_axis(g, xc, clgan_sqrt(g, clgan_affine(g, run_var, 1.0f, eps)), axis);
    return clgan_add_axis(g, clgan_mul_axis(g, xhat, gamma, axis), beta, axis);
}

/* a (n) vector of the values v, a constant of the graph (plan.c computes it once) */
static int constant_vector(clgan_graph *g, int n, const float *v) {
    int t = clgan_fill(g, 1, (int[]){1}, v[0]);
    for (int j = 1; j < n; j++) t = clgan_concat(g, t, clgan_fill(g, 1, (int[]){1}, v[j]), 0);
    return t;
}

clgan_node clgan_batchnorm_batches(clgan_graph *g, clgan_node x, int batches, clgan_node gamma, clgan_node beta,
                                   clgan_node run_mean, clgan_node run_var, float momentum, float eps) {
    int in[5] = {x, gamma, beta, run_mean, run_var};
    if (!clgan_graph_ok(g, 5, in)) return -1;
    int ndim = N(g, x)->ndim, shape[CLGAN_MAX_DIMS];
    memcpy(shape, N(g, x)->shape, sizeof shape);
    if (batches == 1) return clgan_batchnorm_axis(g, x, 0, gamma, beta, run_mean, run_var, true, momentum, eps);
    if (ndim != 4 || batches < 1 || batches > 64 || shape[1] % batches != 0)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "batchnorm over %d batches takes channel-major "
                                             "(C, N, H, W) with N a multiple of the batches (1 to 64)", batches));
    int C = shape[0];
    size_t per = clgan_node_numel(g, x) / (size_t)C, m = per / (size_t)batches;
    /* each (channel, batch) a row of its own: in (C, N, H, W) memory the
     * batches are consecutive runs of each channel's row */
    int xr = clgan_reshape(g, x, 2, (int[]){C * batches, (int)m});
    int mean = stat_mean(g, xr, 0);
    int xc = sub_axis(g, xr, mean, 0);
    int var = stat_mean(g, clgan_square(g, xc), 0);
    int xhat = clgan_reshape(g, div_axis(g, xc, clgan_sqrt(g, clgan_affine(g, var, 1.0f, eps)), 0), 2,
                             (int[]){C, (int)per});
    int y = clgan_reshape(g, clgan_add_axis(g, clgan_mul_axis(g, xhat, gamma, 0), beta, 0), ndim, shape);
    if (momentum > 0) {
        /* `batches` updates in order, r <- (1 - mo) r + mo v_j, are one of
         * momentum M = 1 - (1 - mo)^batches towards sum_j w_j v_j with
         * w_j = mo (1 - mo)^(batches - 1 - j) / M */
        float w[64];
        double keep = 1.0;
        for (int j = batches - 1; j >= 0; j--) {
            w[j] = (float)((double)momentum * keep);
            keep *= 1.0 - (double)momentum;
        }
        float big_m = (float)(1.0 - keep);
        for (int j = 0; j < batches; j++) w[j] /= big_m;
        int wv = constant_vector(g, batches, w);
        double count = stat_count(g, (double)m);
        int v_mean = clgan_sum_axes(g, clgan_mul_axis(g, clgan_reshape(g, mean, 2, (int[]){C, batches}), wv, 1), 0, 1);
        int unbiased = clgan_scale(g, var, count > 1 ? (float)(count / (count - 1)) : 1.0f);
        int v_var = clgan_sum_axes(g, clgan_mul_axis(g, clgan_reshape(g, unbiased, 2, (int[]){C, batches}), wv, 1), 0, 1);
        ema(g, run_mean, v_mean, big_m);
        ema(g, run_var, v_var, big_m);
    }
    return y;
}

clgan_node clgan_batchnorm(clgan_graph *g, clgan_node x, clgan_node gamma, clgan_node beta, clgan_node run_mean,
                           clgan_node run_var, bool training, float momentum, float eps) {
    return clgan_batchnorm_axis(g, x, 1, gamma, beta, run_mean, run_var, training, momentum, eps);
}

/* F.normalize: x / max(||x||, 1e-12), x (n, 1) */
static int l2_normalize(clgan_graph *g, int x) {
    int norm = clgan_clamp(g, clgan_sqrt(g, clgan_sum(g, clgan_square(g, x))), 1e-12f, FLT_MAX);
    return clgan_mul_axis(g, x, clgan_div(g, clgan_fill(g, 1, (int[]){1}, 1.0f), norm), 1);
}

clgan_node clgan_spectral_norm(clgan_graph *g, clgan_node w, clgan_node u, clgan_node v, bool update) {
    int in[3] = {w, u, v};
    if (!clgan_graph_ok(g, 3, in)) return -1;
    int ndim = N(g, w)->ndim, shape[CLGAN_MAX_DIMS];
    memcpy(shape, N(g, w)->shape, sizeof shape);
    int out = shape[0], fan_in = (int)(clgan_node_numel(g, w) / (size_t)out);
    if (clgan_node_numel(g, u) != (size_t)out || clgan_node_numel(g, v) != (size_t)fan_in)
        return clgan_graph_fail(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "spectral_norm: a weight (%d, %d) takes u (%d) "
                                             "and v (%d), not %zu and %zu", out, fan_in, out, fan_in,
                                             clgan_node_numel(g, u), clgan_node_numel(g, v)));
    int wm = clgan_reshape(g, w, 2, (int[]){out, fan_in});
    int uc = clgan_reshape(g, u, 2, (int[]){out, 1}), vc = clgan_reshape(g, v, 2, (int[]){fan_in, 1});
    if (update) {
        vc = clgan_reshape(g, clgan_assign(g, v, l2_normalize(g, clgan_matmul(g, wm, uc, true, false))), 2,
                           (int[]){fan_in, 1});
        uc = clgan_reshape(g, clgan_assign(g, u, l2_normalize(g, clgan_matmul(g, wm, vc, false, false))), 2,
                           (int[]){out, 1});
    }
    int sigma = clgan_reshape(g, clgan_matmul(g, uc, clgan_matmul(g, wm, vc, false, false), true, false), 1, (int[]){1});
    int flat = clgan_reshape(g, w, 2, (int[]){out * fan_in, 1});
    int scaled = clgan_mul_axis(g, flat, clgan_div(g, clgan_fill(g, 1, (int[]){1}, 1.0f), sigma), 1);
    return clgan_reshape(g, scaled, ndim, shape);
}

clgan_node clgan_layernorm(clgan_graph *g, clgan_node x, clgan_node gamma, clgan_node beta, float eps) {
    int in[3] = {x, gamma, beta};
    if (!clgan_graph_ok(g, 3, in)) return -1;
    const clgan_gnode *X = N(g, x);
    int nd = X->ndim, shape[CLGAN_MAX_DIMS];
    memcpy(shape, X->shape, sizeof shape);
    int flat[2] = {shape[0], (int)(numel_of(X) / (size_t)shape[0])};
    int x2 = clgan_reshape(g, x, 2, flat);
    int mean = clgan_mean_axes(g, x2, 0, 1); /* (N) */
    int xc = sub_axis(g, x2, mean, 0);
    int var = clgan_mean_axes(g, clgan_square(g, xc), 0, 1);
    int xhat = clgan_reshape(g, div_axis(g, xc, clgan_sqrt(g, clgan_affine(g, var, 1.0f, eps)), 0), nd, shape);
    return clgan_add_axis(g, clgan_mul_axis(g, xhat, gamma, 1), beta, 1);
}
