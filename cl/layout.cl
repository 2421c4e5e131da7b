/* layout.cl: copies, permutations, concatenation, slices, and the label ops
 * (embedding lookup, its gradient, one-hot). Mirrors src/ops/ref_layout.c:
 * every kernel moves or adds the same floats in the same order, so results
 * are bit-identical to the reference. One work-item per output element. */

/* The class a label names, or -1 when it names none (not an exact integer in
 * [0, k), NaN included). Same test as label_index in ref_layout.c. */
int layout_label_index(float label, int k) {
    if (!(label >= 0.0f && label < (float)k)) return -1;
    int i = (int)label;
    return (float)i == label ? i : -1;
}

/* y (n) = x (n) */
__kernel void layout_copy_f32(__global float *y, const int yo, __global const float *x, const int xo, const int n) {
    int i = GID0;
    if (i < n) y[yo + i] = x[xo + i];
}

/* y (d0, d1, d2, d3) = x with y's axis a read at x stride s_a: the host pads
 * the rank to 4 with leading 1s and passes, for each of y's axes, the stride
 * of the x axis it comes from. */
__kernel void layout_permute_f32(__global float *y, const int yo, __global const float *x, const int xo,
                                 const int n, const int d1, const int d2, const int d3, const int s0,
                                 const int s1, const int s2, const int s3) {
    int i = GID0;
    if (i >= n) return;
    int i3 = i % d3, r = i / d3;
    int i2 = r % d2;
    r /= d2;
    int i1 = r % d1, i0 = r / d1;
    y[yo + i] = x[xo + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3];
}

/* a (outer, na, inner), b (outer, nb, inner) -> y (outer, na + nb, inner) */
__kernel void layout_concat_f32(__global float *y, const int yo, __global const float *a, const int ao,
                                __global const float *b, const int bo, const int n, const int na, const int nb,
                                const int inner) {
    int i = GID0;
    if (i >= n) return;
    int t = i % inner, r = i / inner;
    int j = r % (na + nb), o = r / (na + nb);
    y[yo + i] = j < na ? a[ao + (o * na + j) * inner + t] : b[bo + (o * nb + j - na) * inner + t];
}

/* x (outer, nx, inner) -> y (outer, len, inner) = x[:, start : start + len, :] */
__kernel void layout_slice_f32(__global float *y, const int yo, __global const float *x, const int xo,
                               const int n, const int nx, const int start, const int len, const int inner) {
    int i = GID0;
    if (i >= n) return;
    int t = i % inner, r = i / inner;
    int j = r % len, o = r / len;
    y[yo + i] = x[xo + (o * nx + start + j) * inner + t];
}

/* table (k, d), labels (n / d) -> y (n / d, d) = table[label]; NaN for a
 * label that names no class, so nothing outside the table is read */
__kernel void layout_embedding_f32(__global float *y, const int yo, __global const float *table, const int to,
                                   __global const float *labels, const int lo, const int n, const int k,
                                   const int d) {
    int i = GID0;
    if (i >= n) return;
    int row = i / d, j = i - row * d;
    int cls = layout_label_index(labels[lo + row], k);
    y[yo + i] = cls < 0 ? NAN : table[to + cls * d + j];
}

/* dy (rows, d), labels (rows) -> y (k, d): y[c][j] = sum of dy[r][j] over the
 * rows r labelled c, added in row order. One work-item per output element and
 * no atomics, so the sum is the same bits every run and on every device. */
__kernel void layout_embedding_grad_f32(__global float *y, const int yo, __global const float *dy, const int dyo,
                                        __global const float *labels, const int lo, const int k, const int d,
                                        const int rows) {
    int i = GID0;
    if (i >= k * d) return;
    int cls = i / d, j = i - cls * d;
    float acc = 0.0f;
    for (int r = 0; r < rows; r++)
        if (layout_label_index(labels[lo + r], k) == cls) acc += dy[dyo + r * d + j];
    y[yo + i] = acc;
}

/* labels (n / k) -> y (n / k, k): 1 in the label's column, else 0; a row of
 * NaN for a label that names no class */
__kernel void layout_one_hot_f32(__global float *y, const int yo, __global const float *labels, const int lo,
                                 const int n, const int k) {
    int i = GID0;
    if (i >= n) return;
    int row = i / k, j = i - row * k;
    int cls = layout_label_index(labels[lo + row], k);
    y[yo + i] = cls < 0 ? NAN : (j == cls ? 1.0f : 0.0f);
}

/* DiffAugment's integers from uniforms, as ref_layout.c */
int layout_aug_shift(float u, int m) {
    int k = (int)(u * (float)(2 * m + 1));
    return min(k, 2 * m) - m;
}
int layout_aug_box(float u, int extent, int size) {
    int top = extent - size % 2, k = (int)(u * (float)(top + 1));
    return min(k, top) - size / 2;
}

/* y (N, C, H, W): y[i, j] = x[i + t0, j + t1], 0 outside; t from u (N, 2), negated when adj */
__kernel void layout_shift2d_f32(__global float *y, const int yo, __global const float *x, const int xo,
                                 __global const float *u, const int uo, const int n, const int c, const int h,
                                 const int w, const int m0, const int m1, const int adj) {
    int o = GID0;
    if (o >= n) return;
    int j = o % w, i = (o / w) % h, b = o / (w * h * c);
    int sign = adj ? -1 : 1;
    int si = i + sign * layout_aug_shift(u[uo + 2 * b], m0), sj = j + sign * layout_aug_shift(u[uo + 2 * b + 1], m1);
    y[yo + o] = si >= 0 && si < h && sj >= 0 && sj < w ? x[xo + o + (si - i) * w + (sj - j)] : 0.0f;
}

/* y = x but 0 in a box of s0 x s1 per sample, placed from u (N, 2) */
__kernel void layout_cutout_f32(__global float *y, const int yo, __global const float *x, const int xo,
                                __global const float *u, const int uo, const int n, const int c, const int h,
                                const int w, const int s0, const int s1, const int unused) {
    int o = GID0;
    if (o >= n) return;
    int j = o % w, i = (o / w) % h, b = o / (w * h * c);
    int r0 = layout_aug_box(u[uo + 2 * b], h, s0), c0 = layout_aug_box(u[uo + 2 * b + 1], w, s1);
    bool in = i >= r0 && i < r0 + s0 && j >= c0 && j < c0 + s1;
    y[yo + o] = in ? 0.0f : x[xo + o];
}
