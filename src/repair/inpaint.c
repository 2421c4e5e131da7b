/* Semantic inpainting ("Semantic Image Inpainting with Deep Generative
 * Models", 2017): search the latent space of a trained generator for the z
 * whose image best agrees with the known pixels, then blend its pixels into
 * the hole by solving a Poisson equation ("Poisson Image Editing", 2003).
 *
 * The search minimises, per latent point,
 *     L(z) = || W (G(z) - y) ||_1 + lambda L_p(z)
 * where y is the image, W the paper's context weights (a known pixel's weight
 * is the fraction of unknown pixels in the window around it, an unknown
 * pixel's weight is 0), and L_p the generator's
 * adversarial loss: log(1 - D(G(z))) for the probability losses (minimax,
 * non-saturating), -D(G(z)) for the score losses (WGAN, WGAN-GP, hinge).
 * G and D run in evaluation mode (running BatchNorm statistics), so every
 * latent point is optimised independently of the others in its batch. The
 * gradient dL/dz comes from one graph (forward and backward through D and G,
 * built once per call); Adam runs on the host, where z is small.
 *
 * Keeping z in the prior's support. The paper's prior was uniform on
 * [-1, 1]^d and it clipped z to that box. Our prior is N(0, I), whose support
 * is all of R^d; what matters is where its mass is: the norm of a
 * d-dimensional standard normal follows a chi distribution, mean about
 * sqrt(d - 1/2) and standard deviation about 1/sqrt(2), so almost every z the
 * generator saw in training lies in a thin shell. A per-coordinate box would
 * allow norms up to several times sqrt(d), far outside it, and an
 * unconstrained search can drift there, fitting the context with images the
 * generator never learnt to make realistic. So after every step z is moved
 * radially into the shell sqrt(d - 1/2) +- 3/sqrt(2) (three standard
 * deviations of the norm: a region holding essentially all of the prior's
 * mass), leaving its direction alone. */
#include "clgan/repair.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- masks and weights ---- */

static const char *const mask_names[] = {"center", "left", "random"};

clgan_status clgan_mask_parse(const char *s, clgan_mask_kind *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, mask_names[i]) == 0) {
            *out = (clgan_mask_kind)i;
            return CLGAN_OK;
        }
    return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "mask '%s': expected center, left, random or a PNG file", s);
}

clgan_status clgan_mask_make(clgan_mask_kind kind, int h, int w, uint64_t seed, uint8_t *missing) {
    if (h < 1 || w < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "mask of %d x %d pixels", w, h);
    size_t n = (size_t)h * (size_t)w;
    memset(missing, 0, n);
    switch (kind) {
    case CLGAN_MASK_CENTER: {
        int mh = h / 2, mw = w / 2, y0 = (h - mh) / 2, x0 = (w - mw) / 2;
        for (int y = y0; y < y0 + mh; y++) memset(missing + (size_t)y * w + x0, 1, (size_t)mw);
        return CLGAN_OK;
    }
    case CLGAN_MASK_LEFT:
        for (int y = 0; y < h; y++) memset(missing + (size_t)y * w, 1, (size_t)(w / 2));
        return CLGAN_OK;
    case CLGAN_MASK_RANDOM: {
        /* exactly round(0.8 n) pixels: the first k of a Fisher-Yates shuffle */
        size_t k = (size_t)llround(CLGAN_MASK_RANDOM_FRACTION * (double)n);
        uint32_t *idx = malloc(n * sizeof *idx);
        if (!idx) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        if (n > UINT32_MAX) {
            free(idx);
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "mask of %d x %d pixels is too large", w, h);
        }
        for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
        clgan_rng r;
        clgan_rng_init(&r, seed);
        for (size_t i = 0; i < k; i++) {
            size_t j = i + clgan_rng_below(&r, (uint32_t)(n - i));
            uint32_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            missing[idx[i]] = 1;
        }
        free(idx);
        return CLGAN_OK;
    }
    }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "mask kind %d", (int)kind);
}

clgan_status clgan_mask_read_png(const char *path, int h, int w, uint8_t *missing) {
    uint8_t *px = NULL;
    int pw = 0, ph = 0;
    /* three channels, so that no coloured pixel rounds to a luma of 0 */
    clgan_status st = clgan_png_read(path, 3, &px, &pw, &ph);
    if (st != CLGAN_OK) return clgan_error_context(st, "mask: ");
    if (pw != w || ph != h) {
        free(px);
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "mask %s: %d x %d pixels, expected %d x %d (the size of the image)", path,
                         pw, ph, w, h);
    }
    for (size_t i = 0; i < (size_t)h * (size_t)w; i++) missing[i] = (px[3 * i] | px[3 * i + 1] | px[3 * i + 2]) != 0;
    free(px);
    return CLGAN_OK;
}

clgan_status clgan_inpaint_weights(const uint8_t *missing, int h, int w, int window, float *weight) {
    if (h < 1 || w < 1 || window < 1 || window % 2 == 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "context weights: %d x %d image, window %d (expected odd, >= 1)", w, h,
                         window);
    int r = window / 2;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (missing[i]) {
                weight[i] = 0.0f;
                continue;
            }
            int unknown = 0, count = 0;
            for (int v = y - r; v <= y + r; v++)
                for (int u = x - r; u <= x + r; u++) {
                    if (v < 0 || v >= h || u < 0 || u >= w) continue;
                    count++;
                    unknown += missing[(size_t)v * w + u] != 0;
                }
            weight[i] = (float)unknown / (float)count;
        }
    return CLGAN_OK;
}

/* ---- the latent search ---- */

void clgan_inpaint_defaults(clgan_inpaint_config *c) {
    memset(c, 0, sizeof *c);
    c->iters = 1000;
    c->restarts = 8;
    c->lambda = 0.003f; /* the paper's prior-loss weight */
    c->lr = 0.03f;
    c->window = 7;
    c->seed = 1;
}

void clgan_latent_shell(int z_dim, double *lo, double *hi) {
    double mean = sqrt(z_dim > 1 ? z_dim - 0.5 : 0.5), band = 3.0 / sqrt(2.0);
    *lo = mean > band ? mean - band : 0.0;
    *hi = mean + band;
}

void clgan_latent_project(float *z, int z_dim) {
    double lo, hi, r = 0;
    clgan_latent_shell(z_dim, &lo, &hi);
    for (int i = 0; i < z_dim; i++) r += (double)z[i] * z[i];
    r = sqrt(r);
    if (r == 0 || (r >= lo && r <= hi)) return;
    double s = (r < lo ? lo : hi) / r;
    for (int i = 0; i < z_dim; i++) z[i] = (float)(z[i] * s);
}

typedef struct {
    clgan_graph *g;
    int z, y, target, weight;
    int out, loss, context, prior, grad;
} search_graph;

static clgan_status build_search(clgan_gan *gan, float lambda, int n, search_graph *s) {
    const clgan_gan_config *c = clgan_gan_config_of(gan);
    const clgan_model_config *m = &c->model;
    if (clgan_model_pack(m) > 1)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "inpaint: this run's discriminator judges packs of %d samples "
                         "(arch.pack), not one image, so it gives no prior loss per image", m->pack);
    clgan_graph *g = s->g = clgan_graph_new();
    if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_init_scheme init = clgan_model_init(m);
    /* evaluation mode: the parameters already exist, nothing is declared; the
     * generator that samples (its EMA, when the run kept one) */
    clgan_nn G = clgan_gan_sampling_nn(gan, g);
    clgan_nn D = {.g = g,
                  .params = clgan_gan_block(gan, CLGAN_BLOCK_D),
                  .buffers = clgan_gan_block(gan, CLGAN_BLOCK_D_BUFFERS),
                  .prefix = "d.",
                  .training = false,
                  .update_stats = false,
                  .init = init};
    int shape[4] = {n, m->channels, m->image_size, m->image_size};
    s->z = clgan_input(g, "z", 2, (int[]){n, m->z_dim});
    s->y = m->classes > 0 ? clgan_input(g, "labels", 1, (int[]){n}) : -1;
    s->target = clgan_input(g, "image", 4, shape);
    s->weight = clgan_input(g, "context_weight", 4, shape);
    s->out = clgan_generator(&G, m, s->z, s->y);
    int logit = clgan_reshape(g, clgan_discriminator(&D, m, s->out, s->y), 1, (int[]){n});
    /* || W (G(z) - y) ||_1 per sample: (n) */
    s->context = clgan_sum_axes(g, clgan_abs(g, clgan_mul(g, s->weight, clgan_sub(g, s->out, s->target))), 0, 1);
    bool probability = c->loss == CLGAN_LOSS_MINIMAX || c->loss == CLGAN_LOSS_NS;
    /* log(1 - sigmoid(l)) = -softplus(l) */
    s->prior = clgan_scale(g, probability ? clgan_softplus(g, logit) : logit, -1.0f);
    s->loss = clgan_add(g, s->context, clgan_scale(g, s->prior, lambda));
    /* the samples do not interact, so the gradient of the sum is each one's own */
    clgan_status st = clgan_backward(g, clgan_sum(g, s->loss), 1, &s->z, &s->grad);
    if (st != CLGAN_OK) return st;
    clgan_graph_keep(g, s->out);
    clgan_graph_keep(g, s->loss);
    clgan_graph_keep(g, s->context);
    clgan_graph_keep(g, s->prior);
    clgan_graph_keep(g, s->grad);
    st = clgan_graph_status(g);
    if (st == CLGAN_OK) st = clgan_graph_compile(g, clgan_buffer_device(clgan_params_values(G.params)));
    return st;
}

clgan_status clgan_inpaint_search(clgan_gan *gan, const clgan_inpaint_config *cfg, const float *images,
                                  const uint8_t *missing, const int32_t *labels, int n, float *generated, float *z_best,
                                  clgan_inpaint_result *results) {
    const clgan_model_config *m = &clgan_gan_config_of(gan)->model;
    if (m->kind == CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inpainting needs an image model, not the 2-D toy model");
    if (n < 1 || cfg->restarts < 1 || cfg->iters < 0 || !(cfg->lr > 0) || !(cfg->lambda >= 0) ||
        !isfinite(cfg->lambda) || !isfinite(cfg->lr))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "inpaint: %d images, %d restarts, %d iterations, lr %g, lambda %g; expected n >= 1, restarts "
                         ">= 1, iterations >= 0, lr > 0 and lambda >= 0",
                         n, cfg->restarts, cfg->iters, cfg->lr, cfg->lambda);
    int c = m->channels, side = m->image_size, zd = m->z_dim, R = cfg->restarts;
    size_t hw = (size_t)side * side, per = (size_t)c * hw;
    if ((size_t)n * (size_t)R > (size_t)1 << 20)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inpaint: %d images x %d restarts is too many at once", n, R);
    int N = n * R;
    for (int i = 0; i < n; i++) {
        size_t unknown = 0;
        for (size_t p = 0; p < hw; p++) unknown += missing[(size_t)i * hw + p] != 0;
        if (unknown == 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inpaint: the mask of image %d leaves no pixel unknown", i);
        if (unknown == hw)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inpaint: the mask of image %d leaves no pixel known", i);
    }
    if (labels && m->classes <= 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inpaint: labels for an unconditional model");
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->classes)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                             "inpaint: label %d of image %d, expected one of the model's %d classes", (int)labels[i], i,
                             m->classes);

    search_graph s = {0};
    float *z = malloc((size_t)N * zd * sizeof *z), *gz = malloc((size_t)N * zd * sizeof *gz);
    float *am = calloc((size_t)N * zd, sizeof *am), *av = calloc((size_t)N * zd, sizeof *av);
    float *target = malloc((size_t)N * per * sizeof *target), *wt = malloc((size_t)N * per * sizeof *wt);
    float *lab = malloc((size_t)N * sizeof *lab), *w1 = malloc(hw * sizeof *w1);
    float *loss = malloc((size_t)N * sizeof *loss), *ctx = malloc((size_t)N * sizeof *ctx);
    float *prior = malloc((size_t)N * sizeof *prior), *out = malloc((size_t)N * per * sizeof *out);
    clgan_status st = z && gz && am && av && target && wt && lab && w1 && loss && ctx && prior && out
                          ? CLGAN_OK
                          : CLGAN_ERR(CLGAN_ERR_NOMEM, "inpaint: out of host memory for %d latent points", N);
    /* sample k = i * R + r is restart r of image i */
    for (int i = 0; i < n && st == CLGAN_OK; i++) {
        st = clgan_inpaint_weights(missing + (size_t)i * hw, side, side, cfg->window, w1);
        for (int r = 0; r < R && st == CLGAN_OK; r++) {
            size_t k = (size_t)i * R + r;
            /* unknown pixels get weight 0; zeroing them too keeps a NaN there out of the loss */
            for (int ch = 0; ch < c; ch++)
                for (size_t p = 0; p < hw; p++)
                    target[k * per + (size_t)ch * hw + p] =
                        missing[(size_t)i * hw + p] ? 0.0f : images[(size_t)i * per + (size_t)ch * hw + p];
            for (int ch = 0; ch < c; ch++) memcpy(wt + k * per + (size_t)ch * hw, w1, hw * sizeof *wt);
            /* a conditional model without labels tries the classes in turn */
            lab[k] = (float)(labels ? labels[i] : m->classes > 0 ? r % m->classes : 0);
        }
    }
    if (st == CLGAN_OK) {
        clgan_rng_normal(cfg->seed, 0, z, (size_t)N * zd);
        for (int k = 0; k < N; k++) clgan_latent_project(z + (size_t)k * zd, zd);
        st = build_search(gan, cfg->lambda, N, &s);
    }
    if (st == CLGAN_OK) st = clgan_graph_write(s.g, s.target, target);
    if (st == CLGAN_OK) st = clgan_graph_write(s.g, s.weight, wt);
    if (st == CLGAN_OK && s.y >= 0) st = clgan_graph_write(s.g, s.y, lab);
    /* Adam ("Adam: A Method for Stochastic Optimization", 2015, Algorithm 1)
     * on z, then the projection into the shell; the last run only evaluates */
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int it = 0; it <= cfg->iters && st == CLGAN_OK; it++) {
        st = clgan_graph_write(s.g, s.z, z);
        if (st == CLGAN_OK) st = clgan_graph_run(s.g, (uint64_t)it);
        if (st == CLGAN_OK) st = clgan_graph_read(s.g, s.loss, loss);
        if (st != CLGAN_OK || it == cfg->iters) break;
        st = clgan_graph_read(s.g, s.grad, gz);
        if (st != CLGAN_OK) break;
        double c1 = 1.0 - pow(b1, it + 1), c2 = 1.0 - pow(b2, it + 1);
        for (size_t j = 0; j < (size_t)N * zd; j++) {
            if (!isfinite(gz[j])) {
                st = CLGAN_ERR(CLGAN_ERR_NUMERIC, "inpaint: iteration %d: the gradient with respect to z is %g", it,
                               gz[j]);
                break;
            }
            am[j] = (float)(b1 * am[j] + (1 - b1) * gz[j]);
            av[j] = (float)(b2 * av[j] + (1 - b2) * (double)gz[j] * gz[j]);
            z[j] = (float)(z[j] - cfg->lr * (am[j] / c1) / (sqrt(av[j] / c2) + eps));
        }
        for (int k = 0; k < N && st == CLGAN_OK; k++) clgan_latent_project(z + (size_t)k * zd, zd);
    }
    if (st == CLGAN_OK) st = clgan_graph_read(s.g, s.context, ctx);
    if (st == CLGAN_OK) st = clgan_graph_read(s.g, s.prior, prior);
    if (st == CLGAN_OK) st = clgan_graph_read(s.g, s.out, out);
    for (int i = 0; i < n && st == CLGAN_OK; i++) {
        int best = -1;
        for (int r = 0; r < R; r++) {
            float l = loss[(size_t)i * R + r];
            if (isfinite(l) && (best < 0 || l < loss[(size_t)i * R + best])) best = r;
        }
        if (best < 0) {
            st = CLGAN_ERR(CLGAN_ERR_NUMERIC, "inpaint: image %d: every start ended with a loss that is not finite", i);
            break;
        }
        size_t k = (size_t)i * R + best;
        if (generated) memcpy(generated + (size_t)i * per, out + k * per, per * sizeof *out);
        if (z_best) memcpy(z_best + (size_t)i * zd, z + k * zd, (size_t)zd * sizeof *z);
        if (results) {
            results[i].loss = loss[k];
            results[i].context = ctx[k];
            results[i].prior = prior[k];
            results[i].restart = best;
            results[i].label = (int32_t)lab[k];
        }
    }
    clgan_graph_free(s.g);
    free(z);
    free(gz);
    free(am);
    free(av);
    free(target);
    free(wt);
    free(lab);
    free(w1);
    free(loss);
    free(ctx);
    free(prior);
    free(out);
    return st;
}

/* ---- blending ---- */

clgan_status clgan_blend_parse(const char *s, clgan_blend_kind *out) {
    if (strcmp(s, "poisson") == 0) {
        *out = CLGAN_BLEND_POISSON;
        return CLGAN_OK;
    }
    if (strcmp(s, "none") == 0) {
        *out = CLGAN_BLEND_NONE;
        return CLGAN_OK;
    }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "blend '%s': expected poisson or none", s);
}

/* A x for the hole's unknowns: (A x)_p = |N_p| x_p - sum over hole neighbours q of x_q. */
static void laplace_apply(const int *map, const int *pix, int m, int h, int w, const double *x, double *out) {
    for (int k = 0; k < m; k++) {
        int y = pix[k] / w, xx = pix[k] % w, nb = 0;
        double s = 0;
        static const int dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
        for (int d = 0; d < 4; d++) {
            int v = y + dy[d], u = xx + dx[d];
            if (v < 0 || v >= h || u < 0 || u >= w) continue;
            nb++;
            int q = map[v * w + u];
            if (q >= 0) s += x[q];
        }
        out[k] = nb * x[k] - s;
    }
}

clgan_status clgan_poisson_blend(const float *known, const float *guide, const uint8_t *missing, int c, int h, int w,
                                 double tol, int max_iters, float *out, clgan_poisson_stats *stats) {
    if (c < 1 || h < 1 || w < 1 || !(tol > 0) || (size_t)h * (size_t)w > (size_t)1 << 28)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "poisson: %d x %d x %d image, tolerance %g", c, h, w, tol);
    size_t hw = (size_t)h * w;
    int m = 0;
    for (size_t i = 0; i < hw; i++) m += missing[i] != 0;
    if (stats) *stats = (clgan_poisson_stats){0, 0.0};
    memcpy(out, known, (size_t)c * hw * sizeof *out);
    if (m == 0) return CLGAN_OK;
    if (max_iters <= 0) max_iters = 10 * m + 100;
    int *map = malloc(hw * sizeof *map), *pix = malloc((size_t)m * sizeof *pix);
    double *x = malloc((size_t)m * sizeof *x), *b = malloc((size_t)m * sizeof *b), *r = malloc((size_t)m * sizeof *r);
    double *p = malloc((size_t)m * sizeof *p), *ap = malloc((size_t)m * sizeof *ap);
    clgan_status st =
        map && pix && x && b && r && p && ap ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) {
        int k = 0;
        for (size_t i = 0; i < hw; i++) {
            map[i] = missing[i] ? k : -1;
            if (missing[i]) pix[k++] = (int)i;
        }
    }
    for (int ch = 0; ch < c && st == CLGAN_OK; ch++) {
        const float *f = known + (size_t)ch * hw, *g = guide + (size_t)ch * hw;
        /* b_p = sum over all neighbours q of (g_p - g_q) (the guidance field,
         * the generated image's gradient) + sum over known neighbours of f_q
         * (the Dirichlet boundary) */
        for (int k = 0; k < m; k++) {
            int y = pix[k] / w, xx = pix[k] % w;
            static const int dy[4] = {-1, 1, 0, 0}, dx[4] = {0, 0, -1, 1};
            double s = 0;
            for (int d = 0; d < 4; d++) {
                int v = y + dy[d], u = xx + dx[d];
                if (v < 0 || v >= h || u < 0 || u >= w) continue;
                size_t q = (size_t)v * w + u;
                s += (double)g[pix[k]] - g[q];
                if (map[q] < 0) s += f[q];
            }
            b[k] = s;
            x[k] = g[pix[k]]; /* start from the generated pixels */
        }
        /* Conjugate gradients. A is symmetric positive definite on every part
         * of the hole that touches a known pixel. A part that touches none (a
         * hole covering the image) makes A singular, but there r starts at 0
         * (the generated pixels already satisfy its equations) and stays 0,
         * so such a part keeps the generated pixels. */
        laplace_apply(map, pix, m, h, w, x, ap);
        double bb = 0, rr = 0;
        for (int k = 0; k < m; k++) {
            r[k] = b[k] - ap[k];
            p[k] = r[k];
            rr += r[k] * r[k];
            bb += b[k] * b[k];
        }
        double goal = tol * (bb > 1.0 ? sqrt(bb) : 1.0);
        int it = 0;
        while (sqrt(rr) > goal && it < max_iters) {
            laplace_apply(map, pix, m, h, w, p, ap);
            double pap = 0;
            for (int k = 0; k < m; k++) pap += p[k] * ap[k];
            if (!(pap > 0)) break;
            double alpha = rr / pap, rr2 = 0;
            for (int k = 0; k < m; k++) {
                x[k] += alpha * p[k];
                r[k] -= alpha * ap[k];
                rr2 += r[k] * r[k];
            }
            for (int k = 0; k < m; k++) p[k] = r[k] + rr2 / rr * p[k];
            rr = rr2;
            it++;
        }
        /* the recursive residual drifts from the true one; check the true one */
        laplace_apply(map, pix, m, h, w, x, ap);
        double true_rr = 0;
        for (int k = 0; k < m; k++) true_rr += (b[k] - ap[k]) * (b[k] - ap[k]);
        if (stats) {
            if (it > stats->iters) stats->iters = it;
            double rel = sqrt(true_rr) / (bb > 1.0 ? sqrt(bb) : 1.0);
            if (rel > stats->residual) stats->residual = rel;
        }
        if (!(sqrt(true_rr) <= 2 * goal)) {
            st = CLGAN_ERR(
                CLGAN_ERR_NUMERIC,
                "poisson: channel %d: conjugate gradients reached residual %g after %d iterations, expected <= %g", ch,
                sqrt(true_rr), it, goal);
            break;
        }
        for (int k = 0; k < m; k++) out[(size_t)ch * hw + pix[k]] = (float)x[k];
    }
    free(map);
    free(pix);
    free(x);
    free(b);
    free(r);
    free(p);
    free(ap);
    return st;
}

void clgan_inpaint_paste(const float *known, const float *generated, const uint8_t *missing, int c, int h, int w,
                         float *out) {
    size_t hw = (size_t)h * w;
    for (int ch = 0; ch < c; ch++)
        for (size_t i = 0; i < hw; i++) {
            size_t j = (size_t)ch * hw + i;
            out[j] = missing[i] ? generated[j] : known[j];
        }
}

void clgan_mean_fill(const float *known, const uint8_t *missing, int c, int h, int w, float *out) {
    size_t hw = (size_t)h * w;
    for (int ch = 0; ch < c; ch++) {
        const float *f = known + (size_t)ch * hw;
        double s = 0;
        size_t k = 0;
        for (size_t i = 0; i < hw; i++)
            if (!missing[i]) s += f[i], k++;
        float mean = k ? (float)(s / (double)k) : 0.0f;
        for (size_t i = 0; i < hw; i++) out[(size_t)ch * hw + i] = missing[i] ? mean : f[i];
    }
}

static double clamp1(double v) { return !(v > -1.0) ? -1.0 : v > 1.0 ? 1.0 : v; }

double clgan_psnr_hole(const float *a, const float *b, const uint8_t *missing, int n, int c, int h, int w) {
    size_t hw = (size_t)h * w, count = 0;
    double se = 0;
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < c; ch++)
            for (size_t p = 0; p < hw; p++) {
                if (!missing[(size_t)i * hw + p]) continue;
                size_t j = ((size_t)i * c + ch) * hw + p;
                double d = clamp1(a[j]) - clamp1(b[j]);
                se += d * d;
                count++;
            }
    if (count == 0) return NAN;
    if (se == 0) return INFINITY;
    /* peak-to-peak 2 on [-1, 1], the same as 255 on 8-bit pixels */
    return 10.0 * log10(4.0 / (se / (double)count));
}
