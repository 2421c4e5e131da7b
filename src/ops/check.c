/* The shape checks every op call passes before it runs, on any device
 * (clgan_op_run calls clgan_op_check before dispatching): the reference
 * and the launchers then read and write only inside the tensors they are
 * given, and index them with int, as the kernels do.
 *
 * Every tensor the op touches (its inputs, and its output unless it works in
 * place) must be on the device, have at most CLGAN_MAX_DIMS axes, none
 * negative, lie inside its buffer (offset + numel floats) and end below
 * 2^31 floats. Then each op's shapes and parameters must fit each other, as
 * listed in the switch below. Messages name the op's tensors as its
 * reference function does (clgan_op_run puts the op's name in front). */
#include "ops/ops.h"

#include "runtime/device_impl.h"

#include <limits.h>
#include <stdio.h>

/* What each op calls its tensors, inputs then output. */
typedef struct {
    const char *in[CLGAN_OP_MAX_IN];
    const char *out;
} tensor_names;

static tensor_names names_of(clgan_op op) {
    switch (op) {
    case CLGAN_OP_FILL:
    case CLGAN_OP_RANDN:
    case CLGAN_OP_RAND: return (tensor_names){{0}, "y"};
    case CLGAN_OP_AFFINE:
    case CLGAN_OP_SQUARE:
    case CLGAN_OP_SQRT:
    case CLGAN_OP_EXP:
    case CLGAN_OP_LOG:
    case CLGAN_OP_ABS:
    case CLGAN_OP_SIGN:
    case CLGAN_OP_RELU:
    case CLGAN_OP_STEP:
    case CLGAN_OP_LEAKY_RELU:
    case CLGAN_OP_LEAKY_STEP:
    case CLGAN_OP_TANH:
    case CLGAN_OP_SIGMOID:
    case CLGAN_OP_SOFTPLUS:
    case CLGAN_OP_CLAMP:
    case CLGAN_OP_CLAMP_MASK:
    case CLGAN_OP_SUM:
    case CLGAN_OP_LOGSUMEXP:
    case CLGAN_OP_COPY:
    case CLGAN_OP_ALLREDUCE:
    case CLGAN_OP_PERMUTE:
    case CLGAN_OP_SLICE: return (tensor_names){{"x"}, "y"};
    case CLGAN_OP_ADD:
    case CLGAN_OP_SUB:
    case CLGAN_OP_MUL:
    case CLGAN_OP_DIV:
    case CLGAN_OP_BCE_LOGITS:
    case CLGAN_OP_CONCAT: return (tensor_names){{"a", "b"}, "y"};
    case CLGAN_OP_EXPAND: return (tensor_names){{"b"}, "y"};
    case CLGAN_OP_MATMUL: return (tensor_names){{"A", "B"}, "C"};
    case CLGAN_OP_CONV2D:
    case CLGAN_OP_CONV_T2D: return (tensor_names){{"x", "w"}, "y"};
    case CLGAN_OP_CONV2D_GRAD_W: return (tensor_names){{"x", "dy"}, "dw"};
    case CLGAN_OP_MAX_POOL2D:
    case CLGAN_OP_AVG_POOL2D: return (tensor_names){{"x"}, "y"};
    case CLGAN_OP_MAX_POOL2D_GRAD: return (tensor_names){{"x", "dy"}, "dx"};
    case CLGAN_OP_MAX_POOL2D_GATHER: return (tensor_names){{"x", "v"}, "y"};
    case CLGAN_OP_AVG_POOL2D_GRAD: return (tensor_names){{"dy"}, "dx"};
    case CLGAN_OP_EMBEDDING: return (tensor_names){{"table", "labels"}, "y"};
    case CLGAN_OP_EMBEDDING_GRAD: return (tensor_names){{"dy", "labels"}, "dtable"};
    case CLGAN_OP_ONE_HOT: return (tensor_names){{"labels"}, "y"};
    case CLGAN_OP_SHIFT2D:
    case CLGAN_OP_CUTOUT: return (tensor_names){{"x", "u"}, "y"};
    case CLGAN_OP_EMA: return (tensor_names){{"r", "x"}, NULL};
    case CLGAN_OP_ADAM: return (tensor_names){{"p", "g", "m", "v"}, NULL};
    case CLGAN_OP_SGD: return (tensor_names){{"p", "g", "buf"}, NULL};
    case CLGAN_OP_RMSPROP: return (tensor_names){{"p", "g", "sq"}, NULL};
    case CLGAN_OP_COUNT: break;
    }
    return (tensor_names){{0}, NULL};
}

/* A tensor of the call with its name, its shape as text and its size. */
typedef struct {
    const char *name;
    const clgan_op_tensor *t;
    char s[64];
    size_t n; /* elements; only set once the tensor passed check_tensor */
} arg;

/* The tensor lies in a buffer on d, has a valid shape, fits the buffer and
 * the kernels' int index. */
static clgan_status check_tensor(const clgan_device *d, arg *a) {
    const clgan_op_tensor *t = a->t;
    if (!t->buf || t->buf->dev != d)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s is not on device %s", a->name, d->info.id);
    if (t->ndim < 0 || t->ndim > CLGAN_MAX_DIMS)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s has %d axes; tensors have 0 to %d", a->name, t->ndim,
                         CLGAN_MAX_DIMS);
    clgan_shape_str(t->ndim, t->shape, a->s, sizeof a->s);
    /* counted up to INT_MAX + 1: every shape is at most INT_MAX, so no product overflows */
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s has a negative axis: %s", a->name, a->s);
        n *= (size_t)t->shape[i];
        if (n > (size_t)INT_MAX) n = (size_t)INT_MAX + 1;
    }
    size_t floats = clgan_buffer_size(t->buf) / sizeof(float);
    if (t->off > floats || n > floats - t->off)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s at offset %zu runs past the end of its %zu-byte buffer", a->name,
                         a->s, t->off, clgan_buffer_size(t->buf));
    if (t->off > (size_t)INT_MAX || n > (size_t)INT_MAX - t->off)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "%s %s at offset %zu lies beyond the 2^31 floats the kernels index",
                         a->name, a->s, t->off);
    a->n = n;
    return CLGAN_OK;
}

static clgan_status want_rank(const arg *a, int ndim) {
    if (a->t->ndim != ndim) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s is %s, want %d-D", a->name, a->s, ndim);
    return CLGAN_OK;
}

/* rank ndim and no empty axis (matmul, convolutions) */
static clgan_status want_full(const arg *a, int ndim) {
    clgan_status st = want_rank(a, ndim);
    if (st != CLGAN_OK) return st;
    for (int i = 0; i < ndim; i++)
        if (a->t->shape[i] == 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s has an empty axis: %s", a->name, a->s);
    return CLGAN_OK;
}

static clgan_status same_numel(const arg *a, const arg *b) {
    if (a->n != b->n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s has %zu elements, %s %s has %zu", a->name, a->s, a->n, b->name,
                         b->s, b->n);
    return CLGAN_OK;
}

/* (outer, mid, inner) = ip0..2, each >= 0; their product in *n (capped above INT_MAX) */
static clgan_status broadcast_dims(const clgan_op_call *c, size_t *n) {
    if (c->ip[0] < 0 || c->ip[1] < 0 || c->ip[2] < 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "outer %d, mid %d, inner %d: want sizes >= 0", c->ip[0], c->ip[1],
                         c->ip[2]);
    *n = (size_t)c->ip[0] * (size_t)c->ip[1];
    if (*n > (size_t)INT_MAX) *n = (size_t)INT_MAX + 1;
    *n *= (size_t)c->ip[2];
    return CLGAN_OK;
}

/* y[i] = f(a[i], b[(i / inner) % mid]): a and y of outer*mid*inner, b of mid */
static clgan_status check_binary(const clgan_op_call *c, const arg *a, const arg *b, const arg *y) {
    size_t n = 0;
    clgan_status st = broadcast_dims(c, &n);
    if (st != CLGAN_OK) return st;
    if (a->n != n || y->n != n || b->n != (size_t)c->ip[1])
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "a %s, b %s -> y %s do not fit outer %d, mid %d, inner %d: want a and y of %zu elements, b "
                         "of %d",
                         a->s, b->s, y->s, c->ip[0], c->ip[1], c->ip[2], n, c->ip[1]);
    return CLGAN_OK;
}

/* SUM: x (outer, mid, inner) -> y (mid); EXPAND: b (mid) -> y (outer, mid, inner) */
static clgan_status check_reduction(const clgan_op_call *c, const arg *full, const arg *kept) {
    size_t n = 0;
    clgan_status st = broadcast_dims(c, &n);
    if (st != CLGAN_OK) return st;
    if (full->n != n || kept->n != (size_t)c->ip[1])
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "%s %s and %s %s do not fit outer %d, mid %d, inner %d: want %s of %zu elements, %s of %d",
                         c->op == CLGAN_OP_SUM ? full->name : kept->name, c->op == CLGAN_OP_SUM ? full->s : kept->s,
                         c->op == CLGAN_OP_SUM ? kept->name : full->name, c->op == CLGAN_OP_SUM ? kept->s : full->s,
                         c->ip[0], c->ip[1], c->ip[2], full->name, n, kept->name, c->ip[1]);
    return CLGAN_OK;
}

/* A (M,K) or stored (K,M) when ip0; B (K,N) or stored (N,K) when ip1; C (M,N) */
static clgan_status check_matmul(const clgan_op_call *c, const arg *a, const arg *b, const arg *y) {
    clgan_status st;
    if ((st = want_full(a, 2)) != CLGAN_OK || (st = want_full(b, 2)) != CLGAN_OK || (st = want_full(y, 2)) != CLGAN_OK)
        return st;
    bool ta = c->ip[0] != 0, tb = c->ip[1] != 0;
    const int *A = a->t->shape, *B = b->t->shape, *C = y->t->shape;
    if ((ta ? A[1] : A[0]) != C[0] || (tb ? B[0] : B[1]) != C[1] || (ta ? A[0] : A[1]) != (tb ? B[1] : B[0]))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "A %s%s times B %s%s does not give C %s", a->s, ta ? " transposed" : "",
                         b->s, tb ? " transposed" : "", y->s);
    return CLGAN_OK;
}

/* Output size of a convolution along one axis, 0 when the kernel does not
 * fit; in 64 bits, so no padding overflows. */
static long long conv_out(long long in, long long k, long long s, long long p) {
    return in + 2 * p >= k ? (in + 2 * p - k) / s + 1 : 0;
}

clgan_conv_act clgan_conv_act_of(const clgan_op_tensor *t, bool channel_major) {
    clgan_conv_act a = {channel_major ? t->shape[1] : t->shape[0], channel_major ? t->shape[0] : t->shape[1],
                        t->shape[2], t->shape[3], 0, 0};
    size_t hw = (size_t)a.h * (size_t)a.w;
    a.sn = channel_major ? hw : (size_t)a.c * hw;
    a.sc = channel_major ? (size_t)a.n * hw : hw;
    return a;
}

/* CONV2D        x (N,C,H,W), w (K,C,R,S) -> y (N,K,P,Q), P = (H + 2ph - R)/s + 1, Q = (W + 2pw - S)/s + 1
 * CONV_T2D      x (N,C,H,W), w (C,K,R,S) -> y (N,K,Ho,Wo), Ho = (H - 1)s - 2ph + R + ip2, Wo likewise with pw, ip3
 * CONV2D_GRAD_W x (N,C,H,W), dy (N,K,P,Q) -> dw (K,C,R,S), P, Q as for CONV2D
 * stride ip0 >= 1, paddings ph = ip1, pw = ip4 >= 0, output paddings >= 0;
 * ip5 0, or 1 for channel-major activations (x, y, dy stored (C,N,H,W):
 * clgan_conv_act_of). The padded image (the input, or CONV_T2D's output)
 * stays below 2^31 on each axis, so the int index arithmetic of the
 * reference and the kernels holds. */
static clgan_status check_conv(const clgan_op_call *c, const arg *x, const arg *w, const arg *y) {
    clgan_status st;
    if ((st = want_full(x, 4)) != CLGAN_OK || (st = want_full(w, 4)) != CLGAN_OK || (st = want_full(y, 4)) != CLGAN_OK)
        return st;
    bool t = c->op == CLGAN_OP_CONV_T2D, gw = c->op == CLGAN_OP_CONV2D_GRAD_W;
    int s = c->ip[0], ph = c->ip[1], pw = c->ip[4], cm = c->ip[CLGAN_CONV_CM];
    char opad[40] = "";
    if (t) snprintf(opad, sizeof opad, ", output padding %d, %d", c->ip[2], c->ip[3]);
    if (s < 1 || ph < 0 || pw < 0 || (t && (c->ip[2] < 0 || c->ip[3] < 0)))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "stride %d, padding %d, %d%s: want a stride >= 1 and paddings >= 0", s,
                         ph, pw, opad);
    if (cm != 0 && cm != 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "layout %d: want 0 (N,C,H,W) or 1 (channel-major, C,N,H,W)", cm);
    /* the activations as (samples, channels, h, w) whatever their layout; the weight as stored */
    clgan_conv_act X = clgan_conv_act_of(x->t, cm), A = clgan_conv_act_of(gw ? w->t : y->t, cm);
    const int *Wt = gw ? y->t->shape : w->t->shape;
    bool fit;
    const clgan_conv_act *padded = t ? &A : &X;
    if ((long long)padded->h + 2LL * ph > INT_MAX || (long long)padded->w + 2LL * pw > INT_MAX)
        fit = false;
    else if (t) /* A is y */
        fit = Wt[0] == X.c && A.n == X.n && A.c == Wt[1] && A.h == ((long long)X.h - 1) * s - 2LL * ph + Wt[2] + c->ip[2] &&
              A.w == ((long long)X.w - 1) * s - 2LL * pw + Wt[3] + c->ip[3];
    else /* CONV2D (A is y) and GRAD_W (A is dy, Wt is dw) */
        fit = Wt[1] == X.c && A.n == X.n && A.c == Wt[0] && A.h == conv_out(X.h, Wt[2], s, ph) &&
              A.w == conv_out(X.w, Wt[3], s, pw);
    if (!fit)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "shapes do not fit: x %s, %s %s, stride %d, pad %d, %d%s%s -> %s %s",
                         x->s, w->name, w->s, s, ph, pw, opad, cm ? ", channel-major" : "", y->name, y->s);
    return CLGAN_OK;
}

/* Pooling: `full` (N,C,H,W) and `pooled` (N,C,P,Q) with P = (H + 2p - k)/s + 1,
 * Q likewise (PyTorch's ceil_mode=False); kernel k = ip0 >= 1, stride
 * s = ip1 >= 1, padding p = ip2 from 0 to k/2 (as PyTorch requires: every
 * window then has a cell inside x), and the padded input at least k on each
 * axis; AVG's count_include_pad ip3 is 0 or 1. `same`, when not NULL, is a
 * second (N,C,H,W) tensor (MAX_POOL2D_GATHER's v, MAX_POOL2D_GRAD's dx) that
 * must equal full's shape. */
static clgan_status check_pool(const clgan_op_call *c, const arg *in, const arg *out, const arg *full,
                               const arg *pooled, const arg *same) {
    clgan_status st;
    if ((st = want_full(full, 4)) != CLGAN_OK || (st = want_full(pooled, 4)) != CLGAN_OK ||
        (same && (st = want_full(same, 4)) != CLGAN_OK))
        return st;
    int k = c->ip[0], s = c->ip[1], p = c->ip[2];
    bool avg = c->op == CLGAN_OP_AVG_POOL2D || c->op == CLGAN_OP_AVG_POOL2D_GRAD;
    if (k < 1 || s < 1 || p < 0 || p > k / 2)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "kernel %d, stride %d, padding %d: want a kernel and a stride >= 1 and a padding from 0 to "
                         "half the kernel",
                         k, s, p);
    if (avg && c->ip[3] != 0 && c->ip[3] != 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "count_include_pad %d: want 0 or 1", c->ip[3]);
    const int *X = full->t->shape, *Y = pooled->t->shape;
    if (X[2] + 2LL * p < k || X[3] + 2LL * p < k)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "kernel %d is larger than %s %s padded by %d", k, full->name, full->s,
                         p);
    bool fit = (long long)X[2] + 2LL * p <= INT_MAX && (long long)X[3] + 2LL * p <= INT_MAX && Y[0] == X[0] &&
               Y[1] == X[1] && Y[2] == conv_out(X[2], k, s, p) && Y[3] == conv_out(X[3], k, s, p);
    for (int i = 0; same && fit && i < 4; i++) fit = same->t->shape[i] == X[i];
    if (!fit) {
        char ins[160] = "";
        for (int i = 0, at = 0; i < c->nin && at < (int)sizeof ins; i++)
            at += snprintf(ins + at, sizeof ins - (size_t)at, "%s %s, ", in[i].name, in[i].s);
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "shapes do not fit: %skernel %d, stride %d, pad %d -> %s %s: %s %s pools to %s "
                         "(%d, %d, %lld, %lld)%s%s%s%s",
                         ins, k, s, p, out->name, out->s, full->name, full->s, pooled->name, X[0], X[1],
                         conv_out(X[2], k, s, p), conv_out(X[3], k, s, p), same ? ", and " : "",
                         same ? same->name : "", same ? " must be shaped like " : "", same ? full->name : "");
    }
    return CLGAN_OK;
}

static clgan_status check_axis(const arg *a, int axis) {
    if (axis < 0 || axis >= a->t->ndim)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "axis %d is outside %s %s of rank %d", axis, a->name, a->s,
                         a->t->ndim);
    return CLGAN_OK;
}

/* y's axis a is x's axis ip[a], for a < rank */
static clgan_status check_permute(const clgan_op_call *c, const arg *x, const arg *y) {
    int r = x->t->ndim;
    bool seen[CLGAN_MAX_DIMS] = {false};
    for (int a = 0; a < r; a++) {
        int p = c->ip[a];
        if (p < 0 || p >= r || seen[p])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "ip[0..%d] is not a permutation of 0..%d", r - 1, r - 1);
        seen[p] = true;
    }
    bool fit = y->t->ndim == r;
    for (int a = 0; fit && a < r; a++) fit = y->t->shape[a] == x->t->shape[c->ip[a]];
    if (!fit) {
        char perm[48] = "", *e = perm;
        for (int a = 0; a < r; a++) e += snprintf(e, (size_t)(perm + sizeof perm - e), a ? ", %d" : "%d", c->ip[a]);
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "x %s permuted by (%s) is not y %s", x->s, perm, y->s);
    }
    return CLGAN_OK;
}

/* a and b equal but along axis ip0, y their join */
static clgan_status check_concat(const clgan_op_call *c, const arg *a, const arg *b, const arg *y) {
    int axis = c->ip[0];
    clgan_status st = check_axis(a, axis);
    if (st != CLGAN_OK) return st;
    bool fit = b->t->ndim == a->t->ndim && y->t->ndim == a->t->ndim;
    for (int i = 0; fit && i < a->t->ndim; i++)
        fit = i == axis ? (long long)y->t->shape[i] == (long long)a->t->shape[i] + b->t->shape[i]
                        : a->t->shape[i] == b->t->shape[i] && y->t->shape[i] == a->t->shape[i];
    if (!fit)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a %s and b %s joined along axis %d do not give y %s", a->s, b->s, axis,
                         y->s);
    return CLGAN_OK;
}

/* y = x[.., start ip1 : start + len, ..] along axis ip0, len = y's size there */
static clgan_status check_slice(const clgan_op_call *c, const arg *x, const arg *y) {
    int axis = c->ip[0], start = c->ip[1];
    clgan_status st = check_axis(x, axis);
    if (st != CLGAN_OK) return st;
    bool fit = y->t->ndim == x->t->ndim;
    for (int i = 0; fit && i < x->t->ndim; i++) fit = i == axis || y->t->shape[i] == x->t->shape[i];
    if (!fit)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "y %s is not a slice of x %s along axis %d", y->s, x->s, axis);
    int nx = x->t->shape[axis], len = y->t->shape[axis];
    if (start < 0 || start > nx - len)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "slice [%d, %lld) of axis %d, which has %d", start,
                         (long long)start + len, axis, nx);
    return CLGAN_OK;
}

/* table (K, D) with K >= 1 */
static clgan_status check_table(const arg *t) {
    clgan_status st = want_rank(t, 2);
    if (st != CLGAN_OK) return st;
    if (t->t->shape[0] < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s has no rows", t->name, t->s);
    return CLGAN_OK;
}

/* rows (N, D) for N labels, D = the table's width */
static clgan_status check_rows(const arg *rows, const arg *labels, const arg *table) {
    size_t want = labels->n * (size_t)table->t->shape[1];
    if (rows->n != want)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s has %zu elements: %zu labels of width %d need %zu", rows->name,
                         rows->s, rows->n, labels->n, table->t->shape[1], want);
    return CLGAN_OK;
}

clgan_status clgan_op_check(const clgan_device *d, const clgan_op_call *c) {
    if ((int)c->op < 0 || c->op >= CLGAN_OP_COUNT) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "unknown op %d", (int)c->op);
    const clgan_op_desc *op = &clgan_ops[c->op];
    if (c->nin != op->nin) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "takes %d inputs, got %d", op->nin, c->nin);
    tensor_names nm = names_of(c->op);
    arg in[CLGAN_OP_MAX_IN] = {{0}}, out = {.name = nm.out, .t = &c->out};
    clgan_status st;
    for (int i = 0; i < c->nin; i++) {
        in[i] = (arg){.name = nm.in[i], .t = &c->in[i]};
        if ((st = check_tensor(d, &in[i])) != CLGAN_OK) return st;
    }
    if (!clgan_op_is_inplace(c->op) && (st = check_tensor(d, &out)) != CLGAN_OK) return st;
    const arg *x = &in[0], *b = &in[1], *y = &out;

    switch (c->op) {
    case CLGAN_OP_FILL: return CLGAN_OK;
    case CLGAN_OP_RANDN:
    case CLGAN_OP_RAND:
        /* blocks of 4 words: the last block's index must fit too */
        if (y->n > (size_t)INT_MAX - 3)
            return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "y has %zu elements: the random streams take at most %d", y->n,
                             INT_MAX - 3);
        return CLGAN_OK;
    case CLGAN_OP_AFFINE:
    case CLGAN_OP_SQUARE:
    case CLGAN_OP_SQRT:
    case CLGAN_OP_EXP:
    case CLGAN_OP_LOG:
    case CLGAN_OP_ABS:
    case CLGAN_OP_SIGN:
    case CLGAN_OP_RELU:
    case CLGAN_OP_STEP:
    case CLGAN_OP_LEAKY_RELU:
    case CLGAN_OP_LEAKY_STEP:
    case CLGAN_OP_TANH:
    case CLGAN_OP_SIGMOID:
    case CLGAN_OP_SOFTPLUS:
    case CLGAN_OP_CLAMP:
    case CLGAN_OP_CLAMP_MASK:
    case CLGAN_OP_COPY:
    case CLGAN_OP_ALLREDUCE: return same_numel(y, x);
    case CLGAN_OP_ADD:
    case CLGAN_OP_SUB:
    case CLGAN_OP_MUL:
    case CLGAN_OP_DIV:
    case CLGAN_OP_BCE_LOGITS: return check_binary(c, x, b, y);
    case CLGAN_OP_SUM: return check_reduction(c, x, y);
    case CLGAN_OP_EXPAND: return check_reduction(c, y, x);
    case CLGAN_OP_LOGSUMEXP:
        /* x (N, K) -> y (N), K >= 1: each row's maximum is one of its terms */
        if ((st = want_rank(x, 2)) != CLGAN_OK) return st;
        if (x->t->shape[1] < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "x %s has empty rows", x->s);
        if (y->n != (size_t)x->t->shape[0])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "y %s has %zu elements for the %d rows of x %s", y->s, y->n,
                             x->t->shape[0], x->s);
        return CLGAN_OK;
    case CLGAN_OP_MATMUL: return check_matmul(c, x, b, y);
    case CLGAN_OP_CONV2D:
    case CLGAN_OP_CONV_T2D:
    case CLGAN_OP_CONV2D_GRAD_W: return check_conv(c, x, b, y);
    case CLGAN_OP_MAX_POOL2D:
    case CLGAN_OP_AVG_POOL2D: return check_pool(c, in, y, x, y, NULL);
    case CLGAN_OP_MAX_POOL2D_GRAD: return check_pool(c, in, y, x, b, y);
    case CLGAN_OP_MAX_POOL2D_GATHER: return check_pool(c, in, y, x, y, b);
    case CLGAN_OP_AVG_POOL2D_GRAD: return check_pool(c, in, y, y, x, NULL);
    case CLGAN_OP_PERMUTE: return check_permute(c, x, y);
    case CLGAN_OP_CONCAT: return check_concat(c, x, b, y);
    case CLGAN_OP_SLICE: return check_slice(c, x, y);
    case CLGAN_OP_EMBEDDING: /* table (K, D), labels (N) -> y (N, D) */
        if ((st = check_table(x)) != CLGAN_OK) return st;
        return check_rows(y, b, x);
    case CLGAN_OP_EMBEDDING_GRAD: /* dy (N, D), labels (N) -> dtable (K, D) */
        if ((st = check_table(y)) != CLGAN_OK) return st;
        return check_rows(x, b, y);
    case CLGAN_OP_ONE_HOT: /* labels (N) -> y (N, K) */
        if ((st = want_rank(y, 2)) != CLGAN_OK) return st;
        if (x->n != (size_t)y->t->shape[0])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "labels %s has %zu elements for the %d rows of y %s", x->s, x->n,
                             y->t->shape[0], y->s);
        return CLGAN_OK;
    case CLGAN_OP_SHIFT2D:
    case CLGAN_OP_CUTOUT: /* x (N, C, H, W), u (N, 2) -> y as x; ip0, ip1 in [0, H], [0, W] */
        if ((st = want_rank(x, 4)) != CLGAN_OK || (st = want_rank(y, 4)) != CLGAN_OK ||
            (st = same_numel(y, x)) != CLGAN_OK)
            return st;
        if (b->n != 2 * (size_t)x->t->shape[0])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "u %s has %zu elements, expected 2 per sample of x %s (%d)", b->s,
                             b->n, x->s, x->t->shape[0]);
        if (c->ip[0] < 0 || c->ip[1] < 0 || c->ip[0] > x->t->shape[2] || c->ip[1] > x->t->shape[3] ||
            (c->op == CLGAN_OP_SHIFT2D && (c->ip[2] < 0 || c->ip[2] > 1)))
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s of x %s: bounds %d x %d (and adjoint %d) outside the image",
                             clgan_ops[c->op].name, x->s, c->ip[0], c->ip[1], c->ip[2]);
        return CLGAN_OK;
    case CLGAN_OP_EMA:
    case CLGAN_OP_ADAM:
    case CLGAN_OP_SGD:
    case CLGAN_OP_RMSPROP: /* in place into input 0: every input as long */
        for (int i = 1; i < c->nin; i++)
            if ((st = same_numel(&in[i], x)) != CLGAN_OK) return st;
        return CLGAN_OK;
    case CLGAN_OP_COUNT: break;
    }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "unknown op %d", (int)c->op);
}
