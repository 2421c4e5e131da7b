/* Reference reductions. SUM: x (outer, mid, inner) -> y (mid), summing over
 * outer and inner; EXPAND, its adjoint: b (mid) -> y (outer, mid, inner).
 * (outer, mid, inner) = (ip0, ip1, ip2). The sum accumulates in double so
 * the reference is the accurate side of every comparison. */
#include "ops/ops.h"

#include <math.h>

void ref_sum(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    size_t outer = (size_t)c->ip[0], mid = (size_t)c->ip[1], inner = (size_t)c->ip[2];
    for (size_t m = 0; m < mid; m++) {
        double acc = 0.0;
        for (size_t o = 0; o < outer; o++)
            for (size_t i = 0; i < inner; i++) acc += x[(o * mid + m) * inner + i];
        y[m] = (float)acc;
    }
}

void ref_expand(const clgan_op_call *c) {
    const float *b = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    size_t outer = (size_t)c->ip[0], mid = (size_t)c->ip[1], inner = (size_t)c->ip[2];
    for (size_t o = 0; o < outer; o++)
        for (size_t m = 0; m < mid; m++)
            for (size_t i = 0; i < inner; i++) y[(o * mid + m) * inner + i] = b[m];
}

/* y (N) = log sum_k exp(x (N, K)[n, k]), computed as m + log sum exp(x - m)
 * with m the row's maximum, so no term overflows. */
void ref_logsumexp(const clgan_op_call *c) {
    const float *x = clgan_ref_ptr(&c->in[0]);
    float *y = clgan_ref_ptr(&c->out);
    int n = c->in[0].shape[0], k = c->in[0].shape[1];
    for (int i = 0; i < n; i++) {
        const float *row = x + (size_t)i * (size_t)k;
        float m = row[0];
        for (int j = 1; j < k; j++) m = row[j] > m ? row[j] : m;
        double acc = 0.0;
        for (int j = 0; j < k; j++) acc += exp((double)row[j] - (double)m);
        y[i] = m + (float)log(acc);
    }
}
