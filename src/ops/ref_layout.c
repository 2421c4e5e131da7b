/* Reference layout ops: copies, permutations, concatenation, slices and the
 * label ops (embedding lookup, its gradient, one-hot). Plain loops over
 * contiguous row-major float32; cl/layout.cl must give the same bits.
 *
 * Preconditions (checked by clgan_op_check, src/ops/check.c, before any
 * device runs an op, not here): ranks <= 4, axes in range, perm a
 * permutation, start + length within the input, shapes that fit.
 *
 * Labels are class ids stored as floats. A label that is not an exact integer
 * in [0, K) (NaN included) is never used as an index: the forward ops write a
 * row of NaN for it, so the loss turns NaN and training stops on it, and
 * EMBEDDING_GRAD leaves it out of every class's sum. */
#include "ops/ops.h"
#include "clgan/dist.h"

#include <math.h>

/* The class a label names, or -1 when it names none. Same test as
 * layout_label_index in cl/layout.cl. */
static int label_index(float label, int k) {
    if (!(label >= 0.0f && label < (float)k)) return -1;
    int i = (int)label;
    return (float)i == label ? i : -1;
}

/* product of shape[first .. last) */
static size_t dims_product(const clgan_op_tensor *t, int first, int last) {
    size_t p = 1;
    for (int i = first; i < last; i++) p *= (size_t)t->shape[i];
    return p;
}

/* y (n) = x (n) */
void ref_copy(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    size_t n = clgan_op_numel(&c->out);
    for (size_t i = 0; i < n; i++) y[i] = x[i];
}

/* y = x summed over the data-parallel processes (clgan_dist_world; alone: x) */
void ref_allreduce(const clgan_op_call *c) {
    ref_copy(c);
    float *y = clgan_ref_ptr(&c->out);
    size_t n = clgan_op_numel(&c->out);
    /* a ref op returns no status: on a failed all-reduce the output is NaN, so the step's NaN check stops the
     * run rather than training on this process's part alone */
    if (clgan_dist_allreduce(clgan_dist_world(), y, n) != CLGAN_OK) {
        clgan_log(CLGAN_LOG_WARN, "%s", clgan_last_error());
        for (size_t i = 0; i < n; i++) y[i] = NAN;
    }
}

/* x (s0, .., s_{r-1}), perm = ip[0..r-1] -> y (s_perm[0], .., s_perm[r-1]):
 * y's axis a is x's axis perm[a]. */
void ref_permute(const clgan_op_call *c) {
    const clgan_op_tensor *in = &c->in[0];
    const float *x = clgan_ref_ptr(in);
    float *y = clgan_ref_ptr(&c->out);
    int r = in->ndim;
    size_t in_stride[CLGAN_MAX_DIMS], out_shape[CLGAN_MAX_DIMS];
    for (int a = 0; a < r; a++) {
        in_stride[a] = dims_product(in, a + 1, r);
        out_shape[a] = (size_t)in->shape[c->ip[a]];
    }
    size_t n = clgan_op_numel(in);
    for (size_t i = 0; i < n; i++) {
        size_t rest = i, src = 0;
        for (int a = r - 1; a >= 0; a--) {
            size_t coord = rest % out_shape[a];
            rest /= out_shape[a];
            src += coord * in_stride[c->ip[a]];
        }
        y[i] = x[src];
    }
}

/* a (outer, na, inner), b (outer, nb, inner) -> y (outer, na + nb, inner),
 * joined along axis ip0 */
void ref_concat(const clgan_op_call *c) {
    const float *a = clgan_ref_ptr(&c->in[0]), *b = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    int axis = c->ip[0];
    size_t outer = dims_product(&c->in[0], 0, axis);
    size_t inner = dims_product(&c->in[0], axis + 1, c->in[0].ndim);
    size_t na = (size_t)c->in[0].shape[axis], nb = (size_t)c->in[1].shape[axis];
    for (size_t o = 0; o < outer; o++) {
        for (size_t j = 0; j < na; j++)
            for (size_t i = 0; i < inner; i++) y[(o * (na + nb) + j) * inner + i] = a[(o * na + j) * inner + i];
        for (size_t j = 0; j < nb; j++)
            for (size_t i = 0; i < inner; i++) y[(o * (na + nb) + na + j) * inner + i] = b[(o * nb + j) * inner + i];
    }
}

/* x (outer, nx, inner) -> y (outer, len, inner) = x[:, start : start + len, :],
 * axis ip0, start ip1, len = out.shape[axis] */
void ref_slice(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    int axis = c->ip[0];
    size_t start = (size_t)c->ip[1];
    size_t outer = dims_product(&c->in[0], 0, axis);
    size_t inner = dims_product(&c->in[0], axis + 1, c->in[0].ndim);
    size_t nx = (size_t)c->in[0].shape[axis], len = (size_t)c->out.shape[axis];
    for (size_t o = 0; o < outer; o++)
        for (size_t j = 0; j < len; j++)
            for (size_t i = 0; i < inner; i++) y[(o * len + j) * inner + i] = x[(o * nx + start + j) * inner + i];
}

/* table (K, D), labels (N) -> y (N, D) = table[label[n]]; a row of NaN for
 * a label that names no class */
void ref_embedding(const clgan_op_call *c) {
    const float *table = clgan_ref_ptr(&c->in[0]), *labels = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    int k = c->in[0].shape[0];
    size_t d = k > 0 ? clgan_op_numel(&c->in[0]) / (size_t)k : 0, n = clgan_op_numel(&c->in[1]);
    for (size_t r = 0; r < n; r++) {
        int cls = label_index(labels[r], k);
        for (size_t j = 0; j < d; j++) y[r * d + j] = cls < 0 ? NAN : table[(size_t)cls * d + j];
    }
}

/* dy (N, D), labels (N) -> y (K, D): y[k] = sum over n with label[n] = k of
 * dy[n], added in order of n (the kernel adds in the same order, so the
 * result is the same bits on every device) */
void ref_embedding_grad(const clgan_op_call *c) {
    const float *dy = clgan_ref_ptr(&c->in[0]), *labels = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    int k = c->out.shape[0];
    size_t d = k > 0 ? clgan_op_numel(&c->out) / (size_t)k : 0, n = clgan_op_numel(&c->in[1]);
    for (int cls = 0; cls < k; cls++)
        for (size_t j = 0; j < d; j++) {
            float acc = 0.0f;
            for (size_t r = 0; r < n; r++)
                if (label_index(labels[r], k) == cls) acc += dy[r * d + j];
            y[(size_t)cls * d + j] = acc;
        }
}

/* labels (N) -> y (N, K): 1 in the label's column, 0 elsewhere; a row of NaN
 * for a label that names no class */
void ref_one_hot(const clgan_op_call *c) {
    const float *labels = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    int k = c->out.shape[1];
    size_t n = clgan_op_numel(&c->in[0]);
    for (size_t r = 0; r < n; r++) {
        int cls = label_index(labels[r], k);
        for (int j = 0; j < k; j++) y[r * (size_t)k + (size_t)j] = cls < 0 ? NAN : (j == cls ? 1.0f : 0.0f);
    }
}

/* DiffAugment's integers from uniforms, as cl/layout.cl: a shift in [-m, m],
 * a box's start in [-size/2, extent - size%2 - size/2] */
static int aug_shift(float u, int m) {
    int k = (int)(u * (float)(2 * m + 1));
    return (k > 2 * m ? 2 * m : k) - m;
}
static int aug_box(float u, int extent, int size) {
    int top = extent - size % 2, k = (int)(u * (float)(top + 1));
    return (k > top ? top : k) - size / 2;
}

void ref_shift2d(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]), *u = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    const int *s = c->in[0].shape;
    int n = s[0], ch = s[1], h = s[2], w = s[3], sign = c->ip[2] ? -1 : 1;
    for (int b = 0; b < n; b++) {
        int t0 = sign * aug_shift(u[2 * b], c->ip[0]), t1 = sign * aug_shift(u[2 * b + 1], c->ip[1]);
        for (int k = 0; k < ch; k++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    int si = i + t0, sj = j + t1;
                    size_t o = (((size_t)b * ch + k) * h + i) * w + j;
                    y[o] = si >= 0 && si < h && sj >= 0 && sj < w ? x[(((size_t)b * ch + k) * h + si) * w + sj] : 0.0f;
                }
    }
}

void ref_cutout(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]), *u = clgan_ref_ptr(&c->in[1]);
    float *y = clgan_ref_ptr(&c->out);
    const int *s = c->in[0].shape;
    int n = s[0], ch = s[1], h = s[2], w = s[3];
    for (int b = 0; b < n; b++) {
        int r0 = aug_box(u[2 * b], h, c->ip[0]), c0 = aug_box(u[2 * b + 1], w, c->ip[1]);
        for (int k = 0; k < ch; k++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    size_t o = (((size_t)b * ch + k) * h + i) * w + j;
                    bool in = i >= r0 && i < r0 + c->ip[0] && j >= c0 && j < c0 + c->ip[1];
                    y[o] = in ? 0.0f : x[o];
                }
    }
}
