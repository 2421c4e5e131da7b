/* clgan check: the same training step on two devices (normally ref and an
 * OpenCL device), compared layer by layer, so a kernel that goes wrong on one
 * vendor shows where it goes wrong. */
#include "clgan/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int count, cap;
    int *node;
    float **val;
    size_t *n;
    clgan_status st;
} capture;

static clgan_status hook(const clgan_graph *g, clgan_node n, void *user) {
    capture *c = user;
    const char *name = clgan_node_name(g, n), *op = clgan_node_op_name(g, n);
    /* layer outputs only: parameters and inputs are compared elsewhere */
    if (!name[0] || strcmp(op, "param") == 0 || strcmp(op, "input") == 0) return CLGAN_OK;
    if (c->count == c->cap) {
        int cap = c->cap ? c->cap * 2 : 64;
        int *nn = realloc(c->node, (size_t)cap * sizeof *nn);
        if (nn) c->node = nn;
        float **vv = realloc(c->val, (size_t)cap * sizeof *vv);
        if (vv) c->val = vv;
        size_t *cc = realloc(c->n, (size_t)cap * sizeof *cc);
        if (cc) c->n = cc;
        if (!nn || !vv || !cc) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        c->cap = cap;
    }
    size_t k = clgan_node_numel(g, n);
    float *v = malloc(k * sizeof *v);
    if (!v) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_status st = clgan_graph_read(g, n, v);
    if (st != CLGAN_OK) {
        free(v);
        return st;
    }
    c->node[c->count] = n;
    c->val[c->count] = v;
    c->n[c->count++] = k;
    return CLGAN_OK;
}

static void capture_free(capture *c) {
    for (int i = 0; i < c->count; i++) free(c->val[i]);
    free(c->node);
    free(c->val);
    free(c->n);
    memset(c, 0, sizeof *c);
}

static clgan_check_row compare(const float *a, const float *b, size_t n, double tol) {
    clgan_check_row r = {.n = n, .ok = true};
    double num = 0, den = 0, amax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(a[i]) != isfinite(b[i])) r.ok = false;
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > r.max_abs) r.max_abs = d;
        if (fabs(a[i]) > amax) amax = fabs(a[i]);
        num += d * d;
        den += (double)a[i] * (double)a[i];
    }
    r.nmse = den > 0 ? num / den : num;
    r.max_rel = amax > 0 ? r.max_abs / amax : r.max_abs;
    if (!(r.nmse <= tol)) r.ok = false;
    return r;
}

static void emit(clgan_check_row r, const char *phase, const char *kind, const char *name, clgan_check_fn fn,
                 void *user, int *failures) {
    r.phase = phase;
    r.kind = kind;
    r.name = name;
    if (!r.ok) (*failures)++;
    if (fn) fn(&r, user);
}

/* a block's values (or gradients), read to the host */
static float *read_block(clgan_params *p, bool grads, clgan_status *st) {
    size_t total = clgan_params_total(p);
    float *h = malloc((total ? total : 1) * sizeof *h);
    if (!h) {
        *st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        return NULL;
    }
    *st = clgan_buffer_read(grads ? clgan_params_grads(p) : clgan_params_values(p), 0, h, total * sizeof *h);
    return h;
}

/* Every entry of a block, a and b side by side: the gradients, or the
 * update the step made (after - before), which shows a wrong update even
 * where it is small next to the weights. */
static clgan_status compare_block(clgan_params *pa, clgan_params *pb, bool grads, const float *before_a,
                                  const float *before_b, const char *phase, double tol, clgan_check_fn fn, void *user,
                                  int *failures) {
    clgan_status st = CLGAN_OK;
    float *a = read_block(pa, grads, &st), *b = st == CLGAN_OK ? read_block(pb, grads, &st) : NULL;
    size_t total = clgan_params_total(pa);
    if (st == CLGAN_OK && !grads)
        for (size_t k = 0; k < total; k++) {
            a[k] -= before_a[k];
            b[k] -= before_b[k];
        }
    for (int i = 0; i < clgan_params_count(pa) && st == CLGAN_OK; i++) {
        if (!clgan_params_trainable(pa, i)) continue;
        int nd, shape[4];
        clgan_params_shape(pa, i, &nd, shape);
        size_t off = clgan_params_offset(pa, i);
        emit(compare(a + off, b + off, clgan_shape_numel(nd, shape), tol), phase, grads ? "gradient" : "update",
             clgan_params_name(pa, i), fn, user, failures);
    }
    free(a);
    free(b);
    return st;
}

static void compare_captures(const capture *ca, const capture *cb, const clgan_graph *g, const char *phase, double tol,
                             clgan_check_fn fn, void *user, int *failures) {
    /* by node: a device that fuses reports its layers in another order (a
     * fused group's stored members after the group has run) */
    for (int i = 0; i < ca->count; i++)
        for (int j = 0; j < cb->count; j++)
            if (cb->node[j] == ca->node[i] && cb->n[j] == ca->n[i])
                emit(compare(ca->val[i], cb->val[j], ca->n[i], tol), phase, "activation",
                     clgan_node_name(g, ca->node[i]), fn, user, failures);
}

clgan_status clgan_check_devices(clgan_device *da, clgan_device *db, const clgan_gan_config *cfg, double tol,
                                 clgan_check_fn fn, void *user, int *failures) {
    *failures = 0;
    clgan_gan *ga = NULL, *gb = NULL;
    capture ca = {0}, cb = {0};
    const clgan_model_config *m = &cfg->model;
    size_t per = m->kind == CLGAN_MODEL_TOY ? 2 : (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    size_t nx = per * (size_t)cfg->batch;
    float *x = malloc(nx * sizeof *x);
    int32_t *y = calloc((size_t)cfg->batch, sizeof *y);
    clgan_status st = x && y ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) st = clgan_gan_new(cfg, da, &ga);
    if (st == CLGAN_OK) st = clgan_gan_new(cfg, db, &gb);
    if (st == CLGAN_OK) {
        /* a batch of "real" data: uniform in [-1, 1], labels 0, 1, 2, ... */
        clgan_rng_uniform(cfg->seed, 0xDA7Au, x, nx);
        for (size_t i = 0; i < nx; i++) x[i] = 2.0f * x[i] - 1.0f;
        for (int i = 0; i < cfg->batch; i++) y[i] = m->classes > 0 ? i % m->classes : 0;
    }
    const int32_t *labels = m->classes > 0 ? y : NULL;
    clgan_step_stats sa = {0}, sb = {0};
    float la[2], lb[2];
    /* the D step, with the parameters before it kept to compare the updates */
    float *before_a = NULL, *before_b = NULL;
    if (st == CLGAN_OK) before_a = read_block(clgan_gan_block(ga, CLGAN_BLOCK_D), false, &st);
    if (st == CLGAN_OK) before_b = read_block(clgan_gan_block(gb, CLGAN_BLOCK_D), false, &st);
    if (st == CLGAN_OK) {
        clgan_graph_set_hook(clgan_gan_d_graph(ga), hook, &ca);
        clgan_graph_set_hook(clgan_gan_d_graph(gb), hook, &cb);
        st = clgan_gan_d_step(ga, x, labels, &sa);
        if (st == CLGAN_OK) st = clgan_gan_d_step(gb, x, labels, &sb);
        clgan_graph_set_hook(clgan_gan_d_graph(ga), NULL, NULL);
        clgan_graph_set_hook(clgan_gan_d_graph(gb), NULL, NULL);
    }
    if (st == CLGAN_OK) {
        compare_captures(&ca, &cb, clgan_gan_d_graph(ga), "D step", tol, fn, user, failures);
        la[0] = sa.loss_d;
        lb[0] = sb.loss_d;
        emit(compare(la, lb, 1, tol), "D step", "loss", "loss_d", fn, user, failures);
        st = compare_block(clgan_gan_block(ga, CLGAN_BLOCK_D), clgan_gan_block(gb, CLGAN_BLOCK_D), true, NULL, NULL,
                           "D step", tol, fn, user, failures);
    }
    if (st == CLGAN_OK)
        st = compare_block(clgan_gan_block(ga, CLGAN_BLOCK_D), clgan_gan_block(gb, CLGAN_BLOCK_D), false, before_a,
                           before_b, "D step", tol, fn, user, failures);
    capture_free(&ca);
    capture_free(&cb);
    free(before_a);
    free(before_b);
    before_a = before_b = NULL;
    if (st == CLGAN_OK) before_a = read_block(clgan_gan_block(ga, CLGAN_BLOCK_G), false, &st);
    if (st == CLGAN_OK) before_b = read_block(clgan_gan_block(gb, CLGAN_BLOCK_G), false, &st);
    /* the G step */
    if (st == CLGAN_OK) {
        clgan_graph_set_hook(clgan_gan_g_graph(ga), hook, &ca);
        clgan_graph_set_hook(clgan_gan_g_graph(gb), hook, &cb);
        st = clgan_gan_g_step(ga, labels, &sa);
        if (st == CLGAN_OK) st = clgan_gan_g_step(gb, labels, &sb);
        clgan_graph_set_hook(clgan_gan_g_graph(ga), NULL, NULL);
        clgan_graph_set_hook(clgan_gan_g_graph(gb), NULL, NULL);
    }
    if (st == CLGAN_OK) {
        compare_captures(&ca, &cb, clgan_gan_g_graph(ga), "G step", tol, fn, user, failures);
        la[1] = sa.loss_g;
        lb[1] = sb.loss_g;
        emit(compare(la + 1, lb + 1, 1, tol), "G step", "loss", "loss_g", fn, user, failures);
        st = compare_block(clgan_gan_block(ga, CLGAN_BLOCK_G), clgan_gan_block(gb, CLGAN_BLOCK_G), true, NULL, NULL,
                           "G step", tol, fn, user, failures);
    }
    if (st == CLGAN_OK)
        st = compare_block(clgan_gan_block(ga, CLGAN_BLOCK_G), clgan_gan_block(gb, CLGAN_BLOCK_G), false, before_a,
                           before_b, "G step", tol, fn, user, failures);
    free(before_a);
    free(before_b);
    capture_free(&ca);
    capture_free(&cb);
    clgan_gan_free(ga);
    clgan_gan_free(gb);
    free(x);
    free(y);
    return st;
}
