/* The op descriptor table, built from the X-macro list, and dispatch. */
#include "ops/ops.h"

#include "runtime/device_impl.h"

static const bool inplace_ops[CLGAN_OP_COUNT] = {
    [CLGAN_OP_EMA] = true, [CLGAN_OP_ADAM] = true, [CLGAN_OP_SGD] = true, [CLGAN_OP_RMSPROP] = true};

const clgan_op_desc clgan_ops[CLGAN_OP_COUNT] = {
#define X(E, name, nin) [CLGAN_OP_##E] = {#name, nin, ref_##name, cl_##name},
    CLGAN_OP_LIST(X)
#undef X
};

float *clgan_ref_ptr(const clgan_op_tensor *t) { return (float *)t->buf->host + t->off; }

clgan_status clgan_op_run(clgan_device *d, const clgan_op_call *c) {
    clgan_status st = clgan_op_check(d, c);
    if (st == CLGAN_OK) {
        if (d->info.backend == CLGAN_BACKEND_REF) {
            clgan_ops[c->op].ref(c);
            return CLGAN_OK;
        }
        st = clgan_ops[c->op].cl(d, c);
    }
    if (st != CLGAN_OK && (int)c->op >= 0 && c->op < CLGAN_OP_COUNT)
        clgan_error_context(st, "op %s: ", clgan_ops[c->op].name);
    return st;
}

bool clgan_op_is_inplace(clgan_op op) { return inplace_ops[op]; }
