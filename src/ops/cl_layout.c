/* OpenCL launchers for the layout ops (cl/layout.cl). Each checks the
 * parameters that index memory (rank, axis, permutation, slice range) so a
 * wrong call is an error here rather than an out-of-bounds read on the
 * device. */
#include "ops/ops.h"

#include "runtime/device_impl.h"

enum { WG = 256 };

static int dims_product(const clgan_op_tensor *t, int first, int last) {
    int p = 1;
    for (int i = first; i < last; i++) p *= t->shape[i];
    return p;
}

static clgan_status check_axis(const clgan_op_tensor *t, int axis) {
    if (axis < 0 || axis >= t->ndim)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "axis %d is outside a tensor of rank %d", axis, t->ndim);
    return CLGAN_OK;
}

clgan_status cl_copy(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, xo = (int)c->in[0].off;
    if (clgan_op_numel(&c->in[0]) != (size_t)n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "input has %zu elements, output %d", clgan_op_numel(&c->in[0]), n);
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(xo), CLARG(n)};
    return clgan_cl_launch(d, "layout_copy_f32", (size_t)n, WG, 5, args);
}

clgan_status cl_permute(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *in = &c->in[0];
    int r = in->ndim;
    if (r < 0 || r > CLGAN_MAX_DIMS)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "rank %d: permute takes ranks up to %d", r, CLGAN_MAX_DIMS);
    bool seen[CLGAN_MAX_DIMS] = {false};
    for (int a = 0; a < r; a++) {
        int p = c->ip[a];
        if (p < 0 || p >= r || seen[p])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "ip[0..%d] is not a permutation of 0..%d", r - 1, r - 1);
        seen[p] = true;
        if (c->out.ndim != r || c->out.shape[a] != in->shape[p])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "output axis %d has %d, input axis %d has %d", a,
                             c->out.ndim == r ? c->out.shape[a] : -1, p, in->shape[p]);
    }
    /* pad to rank 4 with leading axes of size 1 (stride irrelevant, index 0) */
    int dim[4] = {1, 1, 1, 1}, stride[4] = {0, 0, 0, 0}, pad = 4 - r;
    for (int a = 0; a < r; a++) {
        dim[pad + a] = in->shape[c->ip[a]];
        stride[pad + a] = dims_product(in, c->ip[a] + 1, r);
    }
    int n = (int)clgan_op_numel(in), yo = (int)c->out.off, xo = (int)in->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo),        CLARG(in->buf->mem), CLARG(xo),
                           CLARG(n),               CLARG(dim[1]),    CLARG(dim[2]),       CLARG(dim[3]),
                           CLARG(stride[0]),       CLARG(stride[1]), CLARG(stride[2]),    CLARG(stride[3])};
    return clgan_cl_launch(d, "layout_permute_f32", (size_t)n, WG, 12, args);
}

clgan_status cl_concat(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *a = &c->in[0], *b = &c->in[1];
    int axis = c->ip[0];
    clgan_status st = check_axis(a, axis);
    if (st != CLGAN_OK) return st;
    if (b->ndim != a->ndim) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inputs of rank %d and %d", a->ndim, b->ndim);
    for (int i = 0; i < a->ndim; i++)
        if (i != axis && a->shape[i] != b->shape[i])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inputs differ in axis %d (%d, %d), not only in axis %d", i,
                             a->shape[i], b->shape[i], axis);
    int na = a->shape[axis], nb = b->shape[axis], inner = dims_product(a, axis + 1, a->ndim);
    int n = (int)(clgan_op_numel(a) + clgan_op_numel(b)), yo = (int)c->out.off, ao = (int)a->off, bo = (int)b->off;
    if (clgan_op_numel(&c->out) != (size_t)n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "output has %zu elements, the inputs %d", clgan_op_numel(&c->out), n);
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(a->buf->mem), CLARG(ao),
                           CLARG(b->buf->mem),     CLARG(bo), CLARG(n),           CLARG(na),
                           CLARG(nb),              CLARG(inner)};
    return clgan_cl_launch(d, "layout_concat_f32", (size_t)n, WG, 10, args);
}

clgan_status cl_slice(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *in = &c->in[0];
    int axis = c->ip[0], start = c->ip[1];
    clgan_status st = check_axis(in, axis);
    if (st != CLGAN_OK) return st;
    if (c->out.ndim != in->ndim)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "input of rank %d, output of rank %d", in->ndim, c->out.ndim);
    int nx = in->shape[axis], len = c->out.shape[axis];
    if (start < 0 || len < 0 || start > nx - len)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "slice [%d, %d) of axis %d, which has %d", start, start + len, axis,
                         nx);
    int inner = dims_product(in, axis + 1, in->ndim);
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, xo = (int)in->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo),    CLARG(in->buf->mem), CLARG(xo),  CLARG(n),
                           CLARG(nx),              CLARG(start), CLARG(len),          CLARG(inner)};
    return clgan_cl_launch(d, "layout_slice_f32", (size_t)n, WG, 9, args);
}

clgan_status cl_embedding(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *table = &c->in[0], *labels = &c->in[1];
    int k = table->ndim >= 1 ? table->shape[0] : 0;
    int dim = k > 0 ? (int)(clgan_op_numel(table) / (size_t)k) : 0;
    int n = (int)clgan_op_numel(labels) * dim;
    if (clgan_op_numel(&c->out) != (size_t)n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "output has %zu elements, %zu labels of width %d need %d",
                         clgan_op_numel(&c->out), clgan_op_numel(labels), dim, n);
    int yo = (int)c->out.off, to = (int)table->off, lo = (int)labels->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem),  CLARG(yo), CLARG(table->buf->mem), CLARG(to), CLARG(labels->buf->mem),
                           CLARG(lo),               CLARG(n),  CLARG(k),               CLARG(dim)};
    return clgan_cl_launch(d, "layout_embedding_f32", (size_t)n, WG, 9, args);
}

clgan_status cl_embedding_grad(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *dy = &c->in[0], *labels = &c->in[1];
    int k = c->out.ndim >= 1 ? c->out.shape[0] : 0;
    int dim = k > 0 ? (int)(clgan_op_numel(&c->out) / (size_t)k) : 0;
    int rows = (int)clgan_op_numel(labels);
    if (clgan_op_numel(dy) != (size_t)rows * (size_t)dim)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "dy has %zu elements, %d labels of width %d need %zu",
                         clgan_op_numel(dy), rows, dim, (size_t)rows * (size_t)dim);
    int yo = (int)c->out.off, dyo = (int)dy->off, lo = (int)labels->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(dy->buf->mem), CLARG(dyo), CLARG(labels->buf->mem),
                           CLARG(lo),              CLARG(k),  CLARG(dim),          CLARG(rows)};
    return clgan_cl_launch(d, "layout_embedding_grad_f32", (size_t)k * (size_t)dim, WG, 9, args);
}

clgan_status cl_one_hot(clgan_device *d, const clgan_op_call *c) {
    if (c->out.ndim != 2) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "output of rank %d, one-hot is (N, K)", c->out.ndim);
    int k = c->out.shape[1], n = (int)clgan_op_numel(&c->out);
    if (clgan_op_numel(&c->in[0]) != (size_t)c->out.shape[0])
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%zu labels for %d output rows", clgan_op_numel(&c->in[0]),
                         c->out.shape[0]);
    int yo = (int)c->out.off, lo = (int)c->in[0].off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(lo), CLARG(n),
                           CLARG(k)};
    return clgan_cl_launch(d, "layout_one_hot_f32", (size_t)n, WG, 6, args);
}
