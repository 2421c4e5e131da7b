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
    if ((int)c->op < 0 || c->op >= CLGAN_OP_COUNT) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "unknown op %d", (int)c->op);
    const clgan_op_desc *op = &clgan_ops[c->op];
    if (c->nin != op->nin)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "op %s takes %d inputs, got %d", op->name, op->nin, c->nin);
    for (int i = 0; i < c->nin; i++)
        if (!c->in[i].buf || c->in[i].buf->dev != d)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "op %s: input %d is not on device %s", op->name, i, d->info.id);
    if (!inplace_ops[c->op] && (!c->out.buf || c->out.buf->dev != d))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "op %s: output is not on device %s", op->name, d->info.id);
    if (d->info.backend == CLGAN_BACKEND_REF) {
        op->ref(c);
        return CLGAN_OK;
    }
    clgan_status st = op->cl(d, c);
    if (st != CLGAN_OK) clgan_error_context(st, "op %s: ", op->name);
    return st;
}

bool clgan_op_is_inplace(clgan_op op) { return inplace_ops[op]; }
