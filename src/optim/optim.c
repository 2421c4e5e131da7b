/* Optimizers on a flat parameter block. Each update is one op call (one
 * kernel) over the block's values, gradients and state. */
#include "clgan/optim.h"

#include "ops/fused.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct clgan_optimizer {
    clgan_opt_config cfg;
    clgan_params *p;
    clgan_device *dev;
    clgan_buffer *slot[2];
    int nslots;
    clgan_buffer *scratch; /* squares of the gradient, then their sum */
    clgan_fused sumsq;     /* the sum of squares as one generated kernel, once prepared */
    bool sumsq_ready;
};

static const char *const opt_names[] = {"adam", "sgd", "rmsprop"};
const char *clgan_opt_name(clgan_opt_kind k) { return (unsigned)k < 3 ? opt_names[k] : "?"; }

clgan_status clgan_opt_parse(const char *s, clgan_opt_kind *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, opt_names[i]) == 0) {
            *out = (clgan_opt_kind)i;
            return CLGAN_OK;
        }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "optimizer '%s': expected adam, sgd or rmsprop", s);
}

static size_t block_floats(const clgan_params *p) {
    size_t n = clgan_params_total(p);
    return n ? n : 1;
}

clgan_status clgan_optimizer_new(clgan_params *p, const clgan_opt_config *cfg, clgan_optimizer **out) {
    clgan_buffer *values = clgan_params_values(p);
    if (!values) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "optimizer: the parameter block is not allocated");
    clgan_optimizer *o = calloc(1, sizeof *o);
    if (!o) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    o->cfg = *cfg;
    o->p = p;
    o->dev = clgan_buffer_device(values);
    o->nslots = clgan_opt_slot_count(cfg->kind);
    size_t n = block_floats(p);
    clgan_status st = CLGAN_OK;
    for (int s = 0; s < o->nslots && st == CLGAN_OK; s++) st = clgan_buffer_alloc(o->dev, n * sizeof(float), &o->slot[s]);
    if (st == CLGAN_OK) st = clgan_buffer_alloc(o->dev, (n + 64) * sizeof(float), &o->scratch);
    if (st != CLGAN_OK) {
        clgan_optimizer_free(o);
        return st;
    }
    *out = o;
    return CLGAN_OK;
}

void clgan_optimizer_free(clgan_optimizer *o) {
    if (!o) return;
    for (int s = 0; s < 2; s++) clgan_buffer_free(o->slot[s]);
    clgan_buffer_free(o->scratch);
    free(o);
}

const clgan_opt_config *clgan_optimizer_config(const clgan_optimizer *o) { return &o->cfg; }
int clgan_optimizer_slots(const clgan_optimizer *o) { return o->nslots; }
clgan_buffer *clgan_optimizer_slot(const clgan_optimizer *o, int i) { return o->slot[i]; }
int clgan_opt_slot_count(clgan_opt_kind k) { return k == CLGAN_OPT_ADAM ? 2 : 1; }
const char *clgan_opt_slot_name(clgan_opt_kind k, int i) {
    if (k == CLGAN_OPT_ADAM) return i == 0 ? "adam_m" : "adam_v";
    return k == CLGAN_OPT_SGD ? "sgd_momentum" : "rmsprop_square_avg";
}
const char *clgan_optimizer_slot_name(const clgan_optimizer *o, int i) { return clgan_opt_slot_name(o->cfg.kind, i); }

clgan_status clgan_opt_config_check(const clgan_opt_config *c, const char *which) {
    if ((unsigned)c->kind > CLGAN_OPT_RMSPROP)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s.kind %d is not an optimizer", which, (int)c->kind);
    const struct {
        const char *name;
        float v, lo, hi;
        bool lo_open, hi_open;
    } f[] = {
        {"lr", c->lr, 0, INFINITY, false, true},          {"beta1", c->beta1, 0, 1, false, true},
        {"beta2", c->beta2, 0, 1, false, true},     {"eps", c->eps, 0, 1, true, false},
        {"momentum", c->momentum, 0, 1, false, true}, {"alpha", c->alpha, 0, 1, false, true},
        {"weight_decay", c->weight_decay, 0, 1, false, false},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        float v = f[i].v;
        bool ok = isfinite(v) && (f[i].lo_open ? v > f[i].lo : v >= f[i].lo) && (f[i].hi_open ? v < f[i].hi : v <= f[i].hi);
        if (!ok && isinf(f[i].hi))
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s.%s = %g, expected a finite number >= %g", which, f[i].name,
                             (double)v, (double)f[i].lo);
        if (!ok)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s.%s = %g, expected a finite number in %c%g, %g%c", which,
                             f[i].name, (double)v, f[i].lo_open ? '(' : '[', (double)f[i].lo, (double)f[i].hi,
                             f[i].hi_open ? ')' : ']');
    }
    return CLGAN_OK;
}

static clgan_op_tensor flat(clgan_buffer *b, size_t off, size_t n) {
    clgan_op_tensor t = {.buf = b, .off = off, .ndim = 1, .shape = {(int)n}};
    return t;
}

clgan_status clgan_optimizer_grad_sumsq_async(clgan_optimizer *o, float *sumsq) {
    size_t n = block_floats(o->p);
    if (clgan_fused_available(o->dev)) {
        /* one generated kernel: the squares are summed as they are made */
        if (!o->sumsq_ready) {
            clgan_fused *f = &o->sumsq;
            memset(f, 0, sizeof *f);
            f->nsteps = 1;
            f->nleaves = 1;
            f->step[0] = (clgan_fused_step){.op = CLGAN_OP_SQUARE, .arg = {CLGAN_FUSE_LEAF(0), 0}, .out = -1};
            f->leaf[0] = (clgan_fused_leaf){.t = flat(clgan_params_grads(o->p), 0, n)};
            f->n = n;
            f->sum = true;
            f->outer = 1;
            f->mid = 1;
            f->inner = (int)n;
            f->sum_out = flat(o->scratch, n, 1);
            f->sum_store = -1;
            clgan_status st = clgan_fused_prepare(o->dev, f, 1);
            if (st != CLGAN_OK) return st;
            o->sumsq_ready = true;
        }
        clgan_status st = clgan_fused_run(o->dev, &o->sumsq);
        if (st == CLGAN_OK) st = clgan_buffer_read_async(o->scratch, n * sizeof(float), sumsq, sizeof *sumsq);
        return st;
    }
    clgan_op_call sq = {.op = CLGAN_OP_SQUARE, .nin = 1, .in = {flat(clgan_params_grads(o->p), 0, n)},
                        .out = flat(o->scratch, 0, n)};
    clgan_op_call sum = {.op = CLGAN_OP_SUM, .nin = 1, .in = {flat(o->scratch, 0, n)}, .out = flat(o->scratch, n, 1),
                         .ip = {1, 1, (int)n}};
    clgan_status st = clgan_op_run(o->dev, &sq);
    if (st == CLGAN_OK) st = clgan_op_run(o->dev, &sum);
    if (st == CLGAN_OK) st = clgan_buffer_read_async(o->scratch, n * sizeof(float), sumsq, sizeof *sumsq);
    return st;
}

clgan_status clgan_optimizer_grad_norm(clgan_optimizer *o, float *norm) {
    float s = 0;
    clgan_status st = clgan_optimizer_grad_sumsq_async(o, &s);
    if (st == CLGAN_OK) st = clgan_device_finish(o->dev);
    *norm = sqrtf(s);
    return st;
}

clgan_status clgan_optimizer_step(clgan_optimizer *o, uint64_t t, float lr_scale, float clip, float norm) {
    const clgan_opt_config *c = &o->cfg;
    size_t n = block_floats(o->p);
    clgan_op_tensor grads = flat(clgan_params_grads(o->p), 0, n), vals = flat(clgan_params_values(o->p), 0, n);
    clgan_status st;
    if (clip > 0 && norm > clip) {
        clgan_op_call sc = {.op = CLGAN_OP_AFFINE, .nin = 1, .in = {grads}, .out = grads, .fp = {clip / norm, 0}};
        if ((st = clgan_op_run(o->dev, &sc)) != CLGAN_OK) return st;
    }
    float lr = c->lr * lr_scale;
    clgan_op_call u = {.nin = 3, .in = {vals, grads, flat(o->slot[0], 0, n)}};
    switch (c->kind) {
    case CLGAN_OPT_ADAM:
        u.op = CLGAN_OP_ADAM;
        u.nin = 4;
        u.in[3] = flat(o->slot[1], 0, n);
        u.fp[0] = lr;
        u.fp[1] = c->beta1;
        u.fp[2] = c->beta2;
        u.fp[3] = c->eps;
        /* bias corrections 1 - beta^t, in double on the host */
        u.fp[4] = (float)(1.0 - pow(c->beta1, (double)t));
        u.fp[5] = (float)(1.0 - pow(c->beta2, (double)t));
        u.fp[6] = c->weight_decay;
        break;
    case CLGAN_OPT_SGD:
        u.op = CLGAN_OP_SGD;
        u.fp[0] = lr;
        u.fp[1] = c->momentum;
        u.fp[2] = c->weight_decay;
        break;
    case CLGAN_OPT_RMSPROP:
        u.op = CLGAN_OP_RMSPROP;
        u.fp[0] = lr;
        u.fp[1] = c->alpha;
        u.fp[2] = c->eps;
        u.fp[3] = c->weight_decay;
        break;
    }
    return clgan_op_run(o->dev, &u);
}

clgan_status clgan_optimizer_clamp_params(clgan_optimizer *o, float c) {
    size_t n = block_floats(o->p);
    clgan_op_tensor vals = flat(clgan_params_values(o->p), 0, n);
    clgan_op_call clip = {.op = CLGAN_OP_CLAMP, .nin = 1, .in = {vals}, .out = vals, .fp = {-c, c}};
    return clgan_op_run(o->dev, &clip);
}
