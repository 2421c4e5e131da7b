/* reduce.cl: sums over (outer, inner) keeping mid, and the broadcast back.
 *
 * sum_f32 runs one work-group of RED_WG work-items per kept element m: each
 * work-item adds a strided share of the outer*inner terms, then the group
 * combines the partial sums in a fixed tree. The order depends only on the
 * sizes and RED_WG, so a reduction gives the same bits every run on a device. */
#define RED_WG 256

__kernel __attribute__((reqd_work_group_size(RED_WG, 1, 1)))
void sum_f32(__global float *y, const int yo, __global const float *x, const int xo, const int outer,
             const int mid, const int inner) {
    __local float part[RED_WG];
    int m = get_group_id(0), t = get_local_id(0);
    int count = outer * inner;
    float acc = 0.0f;
    for (int k = t; k < count; k += RED_WG) {
        int o = k / inner, i = k - o * inner;
        acc += x[xo + (o * mid + m) * inner + i];
    }
    part[t] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = RED_WG / 2; s > 0; s >>= 1) {
        if (t < s) part[t] += part[t + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (t == 0) y[yo + m] = part[0];
}

/* y (outer, mid, inner) = b (mid) */
__kernel void expand_f32(__global float *y, const int yo, __global const float *b, const int bo, const int n,
                         const int mid, const int inner) {
    int i = GID0;
    if (i < n) y[yo + i] = b[bo + (i / inner) % mid];
}

/* y[n] = log sum_k exp x[n, k] for n < rows: one work-item per row, the
 * row's maximum subtracted first (src/ops/ref_reduce.c) */
__kernel void logsumexp_f32(__global float *y, const int yo, __global const float *x, const int xo, const int rows,
                            const int k) {
    int i = GID0;
    if (i >= rows) return;
    __global const float *row = x + xo + i * k;
    float m = row[0];
    for (int j = 1; j < k; j++) m = fmax(m, row[j]);
    float acc = 0.0f;
    for (int j = 0; j < k; j++) acc += exp(row[j] - m);
    y[yo + i] = m + log(acc);
}

/* y[m] = sum of the `parts` partial sums p[m * parts + q], in order (the
 * second stage of a fused sum split into parts, src/ops/cl_fused.c) */
__kernel void sum_parts_f32(__global float *y, const int yo, __global const float *p, const int mid,
                            const int parts) {
    int m = GID0;
    if (m >= mid) return;
    float acc = 0.0f, comp = 0.0f;
    for (int q = 0; q < parts; q++) sum_add(&acc, &comp, p[m * parts + q]);
    y[yo + m] = acc + comp;
}
