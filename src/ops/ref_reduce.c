/* Reference reductions. SUM: x (outer, mid, inner) -> y (mid), summing over
 * outer and inner; EXPAND, its adjoint: b (mid) -> y (outer, mid, inner).
 * (outer, mid, inner) = (ip0, ip1, ip2). The sum accumulates in double so
 * the reference is the accurate side of every comparison. */
#include "ops/ops.h"

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
