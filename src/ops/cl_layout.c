/* OpenCL launchers for the layout ops (cl/layout.cl). The parameters that
 * index memory (rank, axis, permutation, slice range, label widths) were
 * checked before the launch (clgan_op_check, src/ops/check.c). */
#include "ops/ops.h"

#include <stdlib.h>
#include "clgan/dist.h"

#include "runtime/device_impl.h"

enum { WG = 256 };

static int dims_product(const clgan_op_tensor *t, int first, int last) {
    int p = 1;
    for (int i = first; i < last; i++) p *= t->shape[i];
    return p;
}

clgan_status cl_copy(clgan_device *d, const clgan_op_call *c) {
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, xo = (int)c->in[0].off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(xo), CLARG(n)};
    return clgan_cl_launch(d, "layout_copy_f32", (size_t)n, WG, 5, args);
}

/* y = x summed over the data-parallel processes: read to the host (the
 * queue finished), all-reduced, written back */
clgan_status cl_allreduce(clgan_device *d, const clgan_op_call *c) {
    (void)d;
    size_t n = clgan_op_numel(&c->out);
    float *h = malloc(n * sizeof *h);
    if (!h) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for an all-reduce of %zu floats", n);
    clgan_status st = clgan_buffer_read(c->in[0].buf, c->in[0].off * sizeof(float), h, n * sizeof *h);
    if (st == CLGAN_OK) st = clgan_dist_allreduce(clgan_dist_world(), h, n);
    if (st == CLGAN_OK) st = clgan_buffer_write(c->out.buf, c->out.off * sizeof(float), h, n * sizeof *h);
    free(h);
    return st;
}

clgan_status cl_permute(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *in = &c->in[0];
    int r = in->ndim;
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
    int na = a->shape[axis], nb = b->shape[axis], inner = dims_product(a, axis + 1, a->ndim);
    int n = (int)(clgan_op_numel(a) + clgan_op_numel(b)), yo = (int)c->out.off, ao = (int)a->off, bo = (int)b->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(a->buf->mem), CLARG(ao),
                           CLARG(b->buf->mem),     CLARG(bo), CLARG(n),           CLARG(na),
                           CLARG(nb),              CLARG(inner)};
    return clgan_cl_launch(d, "layout_concat_f32", (size_t)n, WG, 10, args);
}

clgan_status cl_slice(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *in = &c->in[0];
    int axis = c->ip[0], start = c->ip[1];
    int nx = in->shape[axis], len = c->out.shape[axis];
    int inner = dims_product(in, axis + 1, in->ndim);
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, xo = (int)in->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo),    CLARG(in->buf->mem), CLARG(xo),  CLARG(n),
                           CLARG(nx),              CLARG(start), CLARG(len),          CLARG(inner)};
    return clgan_cl_launch(d, "layout_slice_f32", (size_t)n, WG, 9, args);
}

clgan_status cl_embedding(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *table = &c->in[0], *labels = &c->in[1];
    int k = table->shape[0], dim = table->shape[1], n = (int)clgan_op_numel(&c->out); /* (K, D), (N) -> (N, D) */
    int yo = (int)c->out.off, to = (int)table->off, lo = (int)labels->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem),  CLARG(yo), CLARG(table->buf->mem), CLARG(to), CLARG(labels->buf->mem),
                           CLARG(lo),               CLARG(n),  CLARG(k),               CLARG(dim)};
    return clgan_cl_launch(d, "layout_embedding_f32", (size_t)n, WG, 9, args);
}

clgan_status cl_embedding_grad(clgan_device *d, const clgan_op_call *c) {
    const clgan_op_tensor *dy = &c->in[0], *labels = &c->in[1];
    int k = c->out.shape[0], dim = c->out.shape[1], rows = (int)clgan_op_numel(labels); /* (N, D), (N) -> (K, D) */
    int yo = (int)c->out.off, dyo = (int)dy->off, lo = (int)labels->off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(dy->buf->mem), CLARG(dyo), CLARG(labels->buf->mem),
                           CLARG(lo),              CLARG(k),  CLARG(dim),          CLARG(rows)};
    return clgan_cl_launch(d, "layout_embedding_grad_f32", (size_t)k * (size_t)dim, WG, 9, args);
}

clgan_status cl_one_hot(clgan_device *d, const clgan_op_call *c) {
    int k = c->out.shape[1], n = (int)clgan_op_numel(&c->out);
    int yo = (int)c->out.off, lo = (int)c->in[0].off;
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(lo), CLARG(n),
                           CLARG(k)};
    return clgan_cl_launch(d, "layout_one_hot_f32", (size_t)n, WG, 6, args);
}

/* DiffAugment's translation and cutout (cl/layout.cl): a work-item per element */
static clgan_status aug_launch(clgan_device *d, const clgan_op_call *c, const char *kernel) {
    const int *s = c->in[0].shape;
    int n = (int)clgan_op_numel(&c->out), yo = (int)c->out.off, xo = (int)c->in[0].off, uo = (int)c->in[1].off;
    int sc = s[1], sh = s[2], sw = s[3], p0 = c->ip[0], p1 = c->ip[1], p2 = c->ip[2];
    clgan_cl_arg args[] = {CLARG(c->out.buf->mem), CLARG(yo), CLARG(c->in[0].buf->mem), CLARG(xo),
                           CLARG(c->in[1].buf->mem), CLARG(uo), CLARG(n), CLARG(sc), CLARG(sh), CLARG(sw),
                           CLARG(p0), CLARG(p1), CLARG(p2)};
    return clgan_cl_launch(d, kernel, (size_t)n, WG, 13, args);
}

clgan_status cl_shift2d(clgan_device *d, const clgan_op_call *c) { return aug_launch(d, c, "layout_shift2d_f32"); }
clgan_status cl_cutout(clgan_device *d, const clgan_op_call *c) { return aug_launch(d, c, "layout_cutout_f32"); }
