/* A GAN training step: the step graphs (built once), the optimizers on the
 * flat parameter blocks, gradient clipping and divergence detection. */
#include "clgan/train.h"
#include "clgan/dist.h"
#include "ops/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { STREAM_Z_D = 1, STREAM_EPS = 2, STREAM_Z_G = 3, STREAM_AUG_REAL = 4, STREAM_AUG_FAKE = 5, STREAM_AUG_G = 6 };

typedef struct {
    clgan_graph *g;
    int x, y, loss, d_real, d_fake, penalty, r1;
    int scores; /* D called once on both halves: (2) the mean scores of the real and generated images; else -1 */
} d_graph;

struct clgan_gan {
    clgan_gan_config cfg;
    clgan_device *dev;
    clgan_params *blk[CLGAN_BLOCK_COUNT];
    clgan_optimizer *opt[2]; /* G, D */
    d_graph d[4]; /* [gradient penalty + 2 R1]: plain, with the penalty, with R1, with both */
    clgan_graph *gg;
    int g_y, g_loss, g_fake;
    clgan_graph *sample;
    int s_z, s_y, s_out, sample_n;
    uint64_t g_steps, d_steps;
    float lr_scale;
    float *labels; /* host staging for labels as floats */
    int labels_cap;
    int nb, first;  /* this process's samples of each batch: [first, first + nb) (cfg.dist) */
    float *host;    /* the all-reduce's staging: a network's gradients, then its losses */
    size_t host_cap;
    clgan_gan_memory mem;
    bool use_ema;
};

const clgan_gan_memory *clgan_gan_memory_of(const clgan_gan *gan) { return &gan->mem; }

static const char *const loss_names[] = {"minimax", "ns", "wgan", "wgan-gp", "hinge"};
const char *clgan_loss_name(clgan_loss_kind k) { return (unsigned)k < 5 ? loss_names[k] : "?"; }

clgan_status clgan_loss_parse(const char *s, clgan_loss_kind *out) {
    for (int i = 0; i < 5; i++)
        if (strcmp(s, loss_names[i]) == 0) {
            *out = (clgan_loss_kind)i;
            return CLGAN_OK;
        }
    if (strcmp(s, "non-saturating") == 0) {
        *out = CLGAN_LOSS_NS;
        return CLGAN_OK;
    }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "loss '%s': expected minimax, ns, wgan, wgan-gp or hinge", s);
}

void clgan_gan_defaults(clgan_gan_config *c, clgan_loss_kind loss) {
    c->loss = loss;
    c->n_critic = 1;
    c->gp_lambda = 0;
    c->r1_gamma = 0;
    c->r1_every = 1;
    c->weight_clip = 0;
    clgan_opt_config adam = {.kind = CLGAN_OPT_ADAM, .lr = 2e-4f, .beta1 = 0.5f, .beta2 = 0.999f, .eps = 1e-8f,
                             .momentum = 0.9f, .alpha = 0.99f};
    c->model.d_norm = CLGAN_NORM_BATCH;
    if (loss == CLGAN_LOSS_WGAN) {
        adam.kind = CLGAN_OPT_RMSPROP;
        adam.lr = 5e-5f;
        c->weight_clip = 0.01f;
        c->n_critic = 5;
    } else if (loss == CLGAN_LOSS_WGAN_GP) {
        adam.lr = 1e-4f;
        adam.beta1 = 0.0f; /* Algorithm 1 of the paper, and the authors' CIFAR-10 code */
        adam.beta2 = 0.9f;
        c->gp_lambda = 10.0f;
        c->n_critic = 5;
        c->model.d_norm = CLGAN_NORM_LAYER;
    }
    c->opt_g = c->opt_d = adam;
}

const clgan_gan_config *clgan_gan_config_of(const clgan_gan *gan) { return &gan->cfg; }
clgan_params *clgan_gan_block(const clgan_gan *gan, clgan_block_id b) { return gan->blk[b]; }
clgan_optimizer *clgan_gan_optimizer(const clgan_gan *gan, bool disc) { return gan->opt[disc]; }
static int d_index(const clgan_gan *gan);
clgan_graph *clgan_gan_d_graph(const clgan_gan *gan) { return gan->d[d_index(gan)].g; }
clgan_graph *clgan_gan_g_graph(const clgan_gan *gan) { return gan->gg; }
uint64_t clgan_gan_step_count(const clgan_gan *gan) { return gan->g_steps; }
uint64_t clgan_gan_d_step_count(const clgan_gan *gan) { return gan->d_steps; }
void clgan_gan_set_counts(clgan_gan *gan, uint64_t g_steps, uint64_t d_steps) {
    gan->g_steps = g_steps;
    gan->d_steps = d_steps;
}
void clgan_gan_set_lr_scale(clgan_gan *gan, float scale) { gan->lr_scale = scale; }
float clgan_gan_lr_scale(const clgan_gan *gan) { return gan->lr_scale; }
static const char *const schedule_names[] = {"constant", "linear", "step"};

const char *clgan_lr_schedule_name(clgan_lr_schedule_kind k) {
    return (unsigned)k < 3 ? schedule_names[k] : "?";
}

clgan_status clgan_lr_schedule_parse(const char *s, clgan_lr_schedule_kind *out) {
    for (int k = 0; k < 3; k++)
        if (s && strcmp(s, schedule_names[k]) == 0) {
            *out = (clgan_lr_schedule_kind)k;
            return CLGAN_OK;
        }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "unknown learning-rate schedule \"%s\": expected constant, linear or step",
                     s ? s : "");
}

float clgan_lr_schedule_factor(const clgan_lr_schedule *s, uint64_t g_step) {
    uint64_t start = s->start > 0 ? (uint64_t)s->start : 0;
    switch (s->kind) {
    case CLGAN_LR_CONSTANT: return 1.0f;
    case CLGAN_LR_STEP: return g_step < start ? 1.0f : s->factor;
    case CLGAN_LR_LINEAR: {
        uint64_t end = s->end > s->start ? (uint64_t)s->end : start;
        if (g_step <= start) return 1.0f;
        if (g_step >= end) return s->factor;
        double t = (double)(g_step - start) / (double)(end - start);
        return (float)(1.0 - t * (1.0 - s->factor));
    }
    }
    return 1.0f;
}

static float lr_factor(const clgan_gan *gan) {
    return gan->lr_scale * clgan_lr_schedule_factor(&gan->cfg.lr_schedule, gan->g_steps);
}

float clgan_gan_lr(const clgan_gan *gan, bool generator) {
    return (generator ? gan->cfg.opt_g.lr : gan->cfg.opt_d.lr) * lr_factor(gan);
}

static bool probability_loss(clgan_loss_kind k) { return k == CLGAN_LOSS_MINIMAX || k == CLGAN_LOSS_NS; }

static int sample_shape(const clgan_model_config *m, int n, int *shape) {
    shape[0] = n;
    if (m->kind == CLGAN_MODEL_TOY) {
        shape[1] = 2;
        return 2;
    }
    shape[1] = m->channels;
    shape[2] = shape[3] = m->image_size;
    return 4;
}

static clgan_nn nn_for(clgan_gan *gan, clgan_graph *g, bool gen, bool training, bool update) {
    clgan_nn c = {.g = g,
                  .params = gan->blk[gen ? CLGAN_BLOCK_G : CLGAN_BLOCK_D],
                  .buffers = gan->blk[gen ? CLGAN_BLOCK_G_BUFFERS : CLGAN_BLOCK_D_BUFFERS],
                  .prefix = gen ? "g." : "d.",
                  .training = training,
                  .update_stats = update,
                  .init = clgan_model_init(&gan->cfg.model)};
    return c;
}

/* the generator EMA's layers: G's, under "g_ema." in their own blocks */
static clgan_nn ema_nn(clgan_gan *gan, clgan_graph *g) {
    clgan_nn c = nn_for(gan, g, true, false, false);
    c.params = gan->blk[CLGAN_BLOCK_G_EMA];
    c.buffers = gan->blk[CLGAN_BLOCK_G_EMA_BUFFERS];
    c.prefix = "g_ema.";
    return c;
}

float clgan_gan_ema_decay(const clgan_gan_config *c, uint64_t g_steps) {
    double warm = (1.0 + (double)g_steps) / (10.0 + (double)g_steps);
    return (float)(warm < c->g_ema ? warm : c->g_ema);
}
bool clgan_gan_has_ema(const clgan_gan *gan) { return gan->cfg.g_ema > 0; }
bool clgan_gan_sampling_ema(const clgan_gan *gan) { return gan->use_ema && clgan_gan_has_ema(gan); }

void clgan_gan_use_ema(clgan_gan *gan, bool use) {
    if (use == gan->use_ema) return;
    gan->use_ema = use;
    clgan_graph_free(gan->sample); /* built again with the other weights */
    gan->sample = NULL;
}
clgan_nn clgan_gan_sampling_nn(clgan_gan *gan, clgan_graph *g) {
    return gan->use_ema && clgan_gan_has_ema(gan) ? ema_nn(gan, g) : nn_for(gan, g, true, false, false);
}

/* Declares the EMA's entries: G's, in the same order, so the blocks share
 * one layout and one update covers each. */
static clgan_status declare_ema(clgan_gan *gan) {
    clgan_graph *g = clgan_graph_new();
    if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    const clgan_model_config *m = &gan->cfg.model;
    clgan_nn E = ema_nn(gan, g);
    int z = clgan_input(g, "z", 2, (int[]){1, m->z_dim});
    int y = m->classes > 0 ? clgan_input(g, "labels", 1, (int[]){1}) : -1;
    clgan_generator(&E, m, z, y);
    clgan_status st = clgan_graph_status(g);
    clgan_graph_free(g);
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
        const clgan_params *a = gan->blk[k ? CLGAN_BLOCK_G_BUFFERS : CLGAN_BLOCK_G];
        const clgan_params *b = gan->blk[k ? CLGAN_BLOCK_G_EMA_BUFFERS : CLGAN_BLOCK_G_EMA];
        if (clgan_params_count(a) != clgan_params_count(b) || clgan_params_total(a) != clgan_params_total(b))
            st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the generator EMA does not match the generator's layout");
    }
    return st;
}

/* Block pair k (0 parameters, 1 running statistics): the EMA's := G's, queued */
static clgan_status ema_copy(clgan_gan *gan, int k) {
    const clgan_params *src = gan->blk[k ? CLGAN_BLOCK_G_BUFFERS : CLGAN_BLOCK_G];
    size_t n = clgan_params_total(src);
    if (!n) return CLGAN_OK;
    return clgan_buffer_copy(clgan_params_values(gan->blk[k ? CLGAN_BLOCK_G_EMA_BUFFERS : CLGAN_BLOCK_G_EMA]), 0,
                             clgan_params_values(src), 0, n * sizeof(float));
}

/* After G's update number t = g_steps: one EMA kernel over the parameter
 * block, then G's running statistics copied; both queued, no wait. */
static clgan_status ema_update(clgan_gan *gan) {
    const clgan_params *g = gan->blk[CLGAN_BLOCK_G];
    int n = (int)clgan_params_total(g);
    clgan_op_call c = {.op = CLGAN_OP_EMA, .nin = 2};
    c.in[0] = (clgan_op_tensor){.buf = clgan_params_values(gan->blk[CLGAN_BLOCK_G_EMA]), .off = 0, .ndim = 1, .shape = {n}};
    c.in[1] = (clgan_op_tensor){.buf = clgan_params_values(g), .off = 0, .ndim = 1, .shape = {n}};
    c.out = c.in[0];
    c.fp[0] = 1.0f - clgan_gan_ema_decay(&gan->cfg, gan->g_steps);
    clgan_status st = n > 0 ? clgan_op_run(gan->dev, &c) : CLGAN_OK;
    return st == CLGAN_OK ? ema_copy(gan, 1) : st;
}

static int mean_score(clgan_graph *g, clgan_loss_kind k, int logits) {
    return clgan_mean(g, probability_loss(k) ? clgan_sigmoid(g, logits) : logits);
}

/* The discriminator's loss on logits dr (real) and df (generated). */
static int d_loss(clgan_graph *g, clgan_loss_kind k, int dr, int df) {
    switch (k) {
    case CLGAN_LOSS_MINIMAX:
    case CLGAN_LOSS_NS: /* -log D(x) - log(1 - D(G(z))) = softplus(-dr) + softplus(df) */
        return clgan_add(g, clgan_mean(g, clgan_softplus(g, clgan_scale(g, dr, -1.0f))),
                         clgan_mean(g, clgan_softplus(g, df)));
    case CLGAN_LOSS_HINGE:
        return clgan_add(g, clgan_mean(g, clgan_relu(g, clgan_affine(g, dr, -1.0f, 1.0f))),
                         clgan_mean(g, clgan_relu(g, clgan_affine(g, df, 1.0f, 1.0f))));
    default: /* WGAN critic */
        return clgan_sub(g, clgan_mean(g, df), clgan_mean(g, dr));
    }
}

static int g_loss(clgan_graph *g, clgan_loss_kind k, int df) {
    switch (k) {
    case CLGAN_LOSS_MINIMAX: /* log(1 - D(G(z))) = -softplus(df) */
        return clgan_scale(g, clgan_mean(g, clgan_softplus(g, df)), -1.0f);
    case CLGAN_LOSS_NS: /* -log D(G(z)) = softplus(-df) */
        return clgan_mean(g, clgan_softplus(g, clgan_scale(g, df, -1.0f)));
    default:
        return clgan_scale(g, clgan_mean(g, df), -1.0f);
    }
}

/* DiffAugment of images x (N, C, H, W) with the policy's bits, as the paper's reference code
 * (DiffAugment_pytorch.py): per sample, from 7 uniforms of Philox stream `stream` (a fresh
 * draw every step): brightness + (u0 - 0.5); saturation (x - mean_C) 2 u1 + mean_C (the
 * identity for one channel); contrast (x - mean_CHW) (u2 + 0.5) + mean_CHW; translation by up to
 * 1/8 of the side (u3, u4), zero-filled; cutout of a half-side box (u5, u6). */
static int augment(clgan_graph *g, const clgan_gan_config *c, int x, int stream) {
    unsigned mask = 0;
    if (clgan_augment_parse(c->augment, &mask) != CLGAN_OK || !mask) return x;
    int n = c->batch, ch = c->model.channels, side = c->model.image_size, per = ch * side * side;
    int u = clgan_rand(g, 2, (int[]){n, 7}, c->seed, stream);
#define COL(k) clgan_reshape(g, clgan_slice(g, u, 1, k, 1), 1, (int[]){n})
    if (mask & CLGAN_AUGMENT_COLOR) {
        x = clgan_add_axis(g, x, clgan_affine(g, COL(0), 1.0f, -0.5f), 0);
        if (ch > 1) { /* the mean over channels, in (N H W, C) */
            int xp = clgan_reshape(g, clgan_permute(g, x, (int[]){0, 2, 3, 1}), 2, (int[]){n * side * side, ch});
            int m = clgan_mean_axes(g, xp, 0, 1);
            int d = clgan_reshape(g, clgan_add_axis(g, xp, clgan_scale(g, m, -1.0f), 0), 2, (int[]){n, per});
            d = clgan_reshape(g, clgan_mul_axis(g, d, clgan_scale(g, COL(1), 2.0f), 0), 2, (int[]){n * side * side, ch});
            xp = clgan_reshape(g, clgan_add_axis(g, d, m, 0), 4, (int[]){n, side, side, ch});
            x = clgan_permute(g, xp, (int[]){0, 3, 1, 2});
        }
        int x2 = clgan_reshape(g, x, 2, (int[]){n, per});
        int m = clgan_mean_axes(g, x2, 0, 1);
        int d = clgan_mul_axis(g, clgan_add_axis(g, x2, clgan_scale(g, m, -1.0f), 0), clgan_affine(g, COL(2), 1.0f, 0.5f), 0);
        x = clgan_reshape(g, clgan_add_axis(g, d, m, 0), 4, (int[]){n, ch, side, side});
    }
#undef COL
    if (mask & CLGAN_AUGMENT_TRANSLATION) {
        int shift = (int)(side * 0.125 + 0.5);
        x = clgan_shift2d(g, x, clgan_slice(g, u, 1, 3, 2), shift, shift, false);
    }
    if (mask & CLGAN_AUGMENT_CUTOUT) {
        int box = (int)(side * 0.5 + 0.5);
        x = clgan_cutout(g, x, clgan_slice(g, u, 1, 5, 2), box, box);
    }
    return x;
}

/* The discriminator's loss on logits (2N, 1), the real images' N then the
 * generated ones': every loss above is 2 mean(phi(s L)) with s -1 on the
 * real half and +1 on the generated one (the means of the halves add up) */
static int d_loss_pair(clgan_graph *g, clgan_loss_kind k, int logits, int n) {
    int sgn = clgan_concat(g, clgan_fill(g, 1, (int[]){1}, -1.0f), clgan_fill(g, 1, (int[]){1}, 1.0f), 0);
    int t = clgan_mul_axis(g, clgan_reshape(g, logits, 2, (int[]){2, n}), sgn, 0);
    switch (k) {
    case CLGAN_LOSS_MINIMAX:
    case CLGAN_LOSS_NS: t = clgan_softplus(g, t); break;
    case CLGAN_LOSS_HINGE: t = clgan_relu(g, clgan_affine(g, t, 1.0f, 1.0f)); break;
    default: break;
    }
    return clgan_scale(g, clgan_mean(g, t), 2.0f);
}

/* Whether the D step calls D once on the real and generated images side by
 * side (half the launches, GEMMs twice as wide): the same as two calls where
 * nothing couples the two halves but batch statistics, which BatchNorm then
 * keeps per half (clgan_batchnorm_batches). Not with spectral
 * normalisation, whose power iteration runs once per call (PyTorch's
 * semantics: two calls, two iterations), nor with R1, whose gradient is
 * of the real half alone. */
static bool d_pairs(const clgan_gan_config *c, bool r1) {
    return !r1 && c->model.d_norm != CLGAN_NORM_SPECTRAL;
}

static bool several(const clgan_gan *gan);

/* ||gx_i||^2 per input i of D, gx (N, ...) the gradient with respect to a
 * batch of N samples: with packing each input is M samples, one row of N / M */
static int input_sq_norms(clgan_graph *g, const clgan_gan_config *c, int gx) {
    int rows = c->batch / clgan_model_pack(&c->model);
    size_t per = clgan_node_numel(g, gx) / (size_t)rows;
    return clgan_sum_axes(g, clgan_reshape(g, clgan_square(g, gx), 2, (int[]){rows, (int)per}), 0, 1);
}

/* The configuration the step graphs are built with: this process's part of the batch */
static clgan_gan_config part_config(const clgan_gan *gan) {
    clgan_gan_config c = gan->cfg;
    c.batch = gan->nb;
    return c;
}

static clgan_status build_d(clgan_gan *gan, bool penalty, bool r1, d_graph *out) {
    const clgan_gan_config part = part_config(gan), *c = &part;
    clgan_graph *g = clgan_graph_new();
    if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    out->g = g;
    clgan_graph_set_sample_offset(g, gan->first);
    if (gan->cfg.sync_bn && several(gan)) clgan_graph_set_sync_stats(g, gan->nb, gan->cfg.batch);
    int shape[4], nd = sample_shape(&c->model, c->batch, shape);
    clgan_nn G = nn_for(gan, g, true, true, false), D = nn_for(gan, g, false, true, true);
    out->x = clgan_input(g, "x", nd, shape);
    out->y = c->model.classes > 0 ? clgan_input(g, "labels", 1, (int[]){c->batch}) : -1;
    int z = clgan_randn(g, 2, (int[]){c->batch, c->model.z_dim}, c->seed, STREAM_Z_D);
    int fake = clgan_generator(&G, &c->model, z, out->y);
    int xr = augment(g, c, out->x, STREAM_AUG_REAL), xf = augment(g, c, fake, STREAM_AUG_FAKE);
    int dr = -1, df = -1, loss;
    out->scores = -1;
    if (d_pairs(c, r1)) {
        D.batches = 2;
        int both = clgan_discriminator(&D, &c->model, clgan_concat(g, xr, xf, 0),
                                       out->y >= 0 ? clgan_concat(g, out->y, out->y, 0) : -1);
        D.batches = 1;
        int inputs = c->batch / clgan_model_pack(&c->model); /* of D, per half */
        loss = d_loss_pair(g, c->loss, both, inputs);
        int p = probability_loss(c->loss) ? clgan_sigmoid(g, both) : both;
        out->scores = clgan_mean_axes(g, clgan_reshape(g, p, 2, (int[]){2, inputs}), 0, 1);
        clgan_graph_keep(g, out->scores);
    } else {
        dr = clgan_discriminator(&D, &c->model, xr, out->y);
        df = clgan_discriminator(&D, &c->model, xf, out->y);
        loss = d_loss(g, c->loss, dr, df);
    }
    out->penalty = -1;
    if (penalty) {
        /* x_hat = fake + eps (x - fake), eps ~ U(0, 1) per sample ("Improved Training of Wasserstein GANs", Algorithm 1) */
        int eps = clgan_rand(g, 2, (int[]){c->batch, 1}, c->seed, STREAM_EPS);
        int xhat = clgan_add(g, fake, clgan_mul_axis(g, clgan_sub(g, out->x, fake), eps, 0));
        int dh = clgan_discriminator(&D, &c->model, xhat, out->y);
        int gx = -1;
        clgan_status st = clgan_backward(g, clgan_sum(g, dh), 1, &xhat, &gx);
        if (st != CLGAN_OK) return st;
        int sq = input_sq_norms(g, c, gx);
        /* the 1e-12 keeps sqrt's derivative finite for an all-zero gradient */
        int norm = clgan_sqrt(g, clgan_affine(g, sq, 1.0f, 1e-12f));
        out->penalty = clgan_scale(g, clgan_mean(g, clgan_square(g, clgan_affine(g, norm, 1.0f, -1.0f))), c->gp_lambda);
        loss = clgan_add(g, loss, out->penalty);
        clgan_graph_keep(g, out->penalty);
    }
    out->r1 = -1;
    if (r1) {
        /* gamma / 2 E_i ||grad_x D(x)_i||^2 on the real batch, D(x) the
         * logits the loss reads (as StyleGAN2-ADA's r1_grads of
         * real_logits.sum()); lazily every k-th step, times k */
        int gx = -1;
        clgan_status st = clgan_backward(g, clgan_sum(g, dr), 1, &out->x, &gx);
        if (st != CLGAN_OK) return st;
        int sq = input_sq_norms(g, c, gx);
        float every = c->r1_every > 1 ? (float)c->r1_every : 1.0f;
        out->r1 = clgan_scale(g, clgan_mean(g, sq), 0.5f * c->r1_gamma * every);
        loss = clgan_add(g, loss, out->r1);
        clgan_graph_keep(g, out->r1);
    }
    out->loss = loss;
    clgan_graph_keep(g, loss);
    out->d_real = out->d_fake = -1;
    if (out->scores < 0) {
        out->d_real = mean_score(g, c->loss, dr);
        out->d_fake = mean_score(g, c->loss, df);
        clgan_graph_keep(g, out->d_real);
        clgan_graph_keep(g, out->d_fake);
    }
    clgan_status st = clgan_backward_params(g, loss, gan->blk[CLGAN_BLOCK_D]);
    return st != CLGAN_OK ? st : clgan_graph_status(g);
}

static clgan_status build_g(clgan_gan *gan) {
    const clgan_gan_config part = part_config(gan), *c = &part;
    clgan_graph *g = gan->gg = clgan_graph_new();
    if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_graph_set_sample_offset(g, gan->first);
    if (gan->cfg.sync_bn && several(gan)) clgan_graph_set_sync_stats(g, gan->nb, gan->cfg.batch);
    clgan_nn G = nn_for(gan, g, true, true, true), D = nn_for(gan, g, false, true, false);
    gan->g_y = c->model.classes > 0 ? clgan_input(g, "labels", 1, (int[]){c->batch}) : -1;
    int z = clgan_randn(g, 2, (int[]){c->batch, c->model.z_dim}, c->seed, STREAM_Z_G);
    int fake = augment(g, c, clgan_generator(&G, &c->model, z, gan->g_y), STREAM_AUG_G);
    int df = clgan_discriminator(&D, &c->model, fake, gan->g_y);
    gan->g_loss = g_loss(g, c->loss, df);
    gan->g_fake = mean_score(g, c->loss, df);
    clgan_graph_keep(g, gan->g_loss);
    clgan_graph_keep(g, gan->g_fake);
    clgan_status st = clgan_backward_params(g, gan->g_loss, gan->blk[CLGAN_BLOCK_G]);
    return st != CLGAN_OK ? st : clgan_graph_status(g);
}

static bool uses_penalty_phase(const clgan_gan_config *c, bool *always) {
    *always = c->loss == CLGAN_LOSS_WGAN_GP && c->gp_phase_steps <= 0;
    return c->loss == CLGAN_LOSS_WGAN_GP || c->gp_phase_steps > 0;
}

static clgan_status check_real(const char *name, float v, float lo, float hi) {
    if (isfinite(v) && v >= lo && v <= hi) return CLGAN_OK;
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s = %g, expected a finite number in [%g, %g]", name, (double)v, (double)lo,
                     (double)hi);
}

clgan_status clgan_gan_config_check(const clgan_gan_config *cfg) {
    clgan_status st = clgan_model_check(&cfg->model);
    if (st != CLGAN_OK) return st;
    if ((unsigned)cfg->loss > CLGAN_LOSS_HINGE) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "loss %d is not a loss", (int)cfg->loss);
    if (cfg->batch < 1 || cfg->batch > CLGAN_MAX_BATCH)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "batch size %d, expected 1 to %d", cfg->batch, CLGAN_MAX_BATCH);
    if (cfg->batch % clgan_model_pack(&cfg->model) != 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "batch size %d with pack %d: expected a multiple of %d (D judges "
                         "inputs of %d samples each)", cfg->batch, cfg->model.pack, cfg->model.pack, cfg->model.pack);
    if (cfg->n_critic < 1 || cfg->n_critic > 1000)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "n_critic %d, expected 1 to 1000", cfg->n_critic);
    if (cfg->gp_phase_steps < 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "gp_phase_steps %d, expected >= 0", cfg->gp_phase_steps);
    /* the batch's widest tensor must stay inside one tensor's limit (graph building refuses it too, but later
     * and naming an op, not the setting to change) */
    size_t per = clgan_model_sample_floats(&cfg->model);
    if (per > CLGAN_MAX_TENSOR_FLOATS / (size_t)cfg->batch)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "a batch of %d samples of up to %zu values each (the model's widest layer) is %.3g floats "
                         "in one tensor, more than the %zu supported: lower the batch size or the model's sizes",
                         cfg->batch, per, (double)per * cfg->batch, CLGAN_MAX_TENSOR_FLOATS);
    if ((st = check_real("gp_lambda", cfg->gp_lambda, 0, 1e6f)) != CLGAN_OK) return st;
    unsigned aug = 0;
    if ((st = clgan_augment_parse(cfg->augment, &aug)) != CLGAN_OK) return st;
    if (aug && cfg->model.kind == CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "augment '%s': the toy model makes 2-D points, which have no pixels to "
                         "translate, cut out or colour (leave augment empty)", cfg->augment);
    if (cfg->model.d_norm == CLGAN_NORM_SPECTRAL && cfg->loss == CLGAN_LOSS_WGAN && cfg->weight_clip > 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "model.d_norm spectral with loss wgan: the weight clipping to [-%g, %g] would clip the "
                         "weights spectral normalisation divides by their norm, and neither bound would hold; use "
                         "spectral normalisation with hinge, ns, minimax or wgan-gp, or wgan without it",
                         (double)cfg->weight_clip, (double)cfg->weight_clip);
    if ((st = check_real("r1_gamma", cfg->r1_gamma, 0, 1e6f)) != CLGAN_OK) return st;
    if (cfg->r1_every < 0 || cfg->r1_every > 1000000)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "r1_every %d, expected 0 to 1000000 (0 and 1: every D step)",
                         cfg->r1_every);
    if ((st = check_real("weight_clip", cfg->weight_clip, 0, 1e6f)) != CLGAN_OK) return st;
    if ((st = check_real("clip_grad", cfg->clip_grad, 0, 1e30f)) != CLGAN_OK) return st;
    if (!(cfg->g_ema == 0 || (cfg->g_ema > 0 && cfg->g_ema < 1)))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "g_ema = %g: expected 0 (off) or a decay in (0, 1), e.g. 0.999",
                         (double)cfg->g_ema);
    if ((st = clgan_opt_config_check(&cfg->opt_g, "opt_g")) != CLGAN_OK) return st;
    if ((st = clgan_opt_config_check(&cfg->opt_d, "opt_d")) != CLGAN_OK) return st;
    const clgan_lr_schedule *ls = &cfg->lr_schedule;
    if ((unsigned)ls->kind > CLGAN_LR_STEP || !(ls->factor >= 0 && ls->factor <= 1) || ls->start < 0 ||
        (ls->kind == CLGAN_LR_LINEAR && ls->end < ls->start))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "learning-rate schedule %s from step %ld to %ld with factor %g: expected 0 <= start <= end "
                         "and a factor in [0, 1]",
                         clgan_lr_schedule_name(ls->kind), ls->start, ls->end, (double)ls->factor);
    return CLGAN_OK;
}

static double mib(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

/* What the GAN will allocate on d (blocks with their gradients, optimizer
 * state, the step graphs' arenas), against what d has: known from the
 * declared parameters and the planned graphs, before any allocation. */
static clgan_status check_memory(clgan_gan *gan, clgan_device *d, clgan_gan_memory *mem) {
    memset(mem, 0, sizeof *mem);
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++)
        mem->params += 2 * (uint64_t)(clgan_params_total(gan->blk[b]) ? clgan_params_total(gan->blk[b]) : 1) * 4;
    for (int k = 0; k < 2; k++) {
        uint64_t n = clgan_params_total(gan->blk[k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G]) + 1;
        mem->optimizer += (uint64_t)clgan_opt_slot_count(k ? gan->cfg.opt_d.kind : gan->cfg.opt_g.kind) * n * 4 + (n + 64) * 4;
    }
    uint64_t largest_arena = 0;
    clgan_graph *graphs[5] = {gan->d[0].g, gan->d[1].g, gan->d[2].g, gan->d[3].g, gan->gg};
    for (int k = 0; k < 5; k++) {
        if (!graphs[k]) continue;
        uint64_t bytes = 0;
        clgan_status st = clgan_graph_plan_bytes(graphs[k], d, &bytes);
        if (st != CLGAN_OK) return st;
        mem->graphs += bytes;
        if (bytes > largest_arena) largest_arena = bytes;
    }
    mem->total = mem->params + mem->optimizer + mem->graphs;
    uint64_t largest = largest_arena;
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++)
        if ((uint64_t)clgan_params_total(gan->blk[b]) * 4 > largest) largest = (uint64_t)clgan_params_total(gan->blk[b]) * 4;
    char what[160];
    snprintf(what, sizeof what, "parameters and gradients %.1f MiB, optimizer state %.1f, step graphs %.1f",
             mib(mem->params), mib(mem->optimizer), mib(mem->graphs));
    return clgan_device_memory_check(d, mem->total, largest, what);
}

clgan_status clgan_gan_new(const clgan_gan_config *cfg, clgan_device *d, clgan_gan **out) {
    return clgan_gan_new_checked(cfg, d, NULL, NULL, out);
}

clgan_status clgan_gan_new_checked(const clgan_gan_config *cfg, clgan_device *d, clgan_gan_precheck_fn precheck,
                                   void *user, clgan_gan **out) {
    *out = NULL;
    clgan_status st = clgan_gan_config_check(cfg);
    if (st != CLGAN_OK) return st;
    clgan_gan *gan = calloc(1, sizeof *gan);
    if (!gan) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    gan->cfg = *cfg;
    gan->dev = d;
    gan->lr_scale = 1.0f;
    clgan_dist_part(cfg->dist, cfg->batch, &gan->first, &gan->nb);
    if (gan->nb < 1) {
        int size = clgan_dist_size(cfg->dist);
        free(gan);
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "batch size %d over %d processes: expected at least one sample each",
                         cfg->batch, size);
    }
    int pack = clgan_model_pack(&cfg->model), nb = gan->nb;
    if (nb % pack != 0) {
        int size = clgan_dist_size(cfg->dist);
        free(gan);
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "batch size %d over %d processes with pack %d: this process's "
                         "part, %d samples, is not a multiple of %d (give a batch that is a multiple of %d x %d)",
                         cfg->batch, size, pack, nb, pack, size, pack);
    }
    gan->use_ema = true;
    static const char *const names[] = {"generator", "generator buffers", "discriminator", "discriminator buffers",
                                        "generator EMA", "generator EMA buffers"};
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++)
        if (!(gan->blk[b] = clgan_params_new(names[b]))) {
            clgan_gan_free(gan);
            return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        }
    bool always;
    bool with_pen = uses_penalty_phase(cfg, &always);
    /* graphs first: they declare the parameters */
    /* R1 on every step: only graphs with it; lazily: with and without */
    bool r1 = cfg->r1_gamma > 0, r1_lazy = r1 && cfg->r1_every > 1;
    for (int k = 0; k < 4 && st == CLGAN_OK; k++) {
        bool pen = k & 1, with_r1 = k & 2;
        if ((pen ? with_pen : !always) && (with_r1 ? r1 : !r1 || r1_lazy)) st = build_d(gan, pen, with_r1, &gan->d[k]);
    }
    if (st == CLGAN_OK) st = build_g(gan);
    if (st == CLGAN_OK && clgan_gan_has_ema(gan)) st = declare_ema(gan);
    /* nothing is allocated on d until the configuration is known to fit and the caller's check passed */
    if (st == CLGAN_OK && precheck) st = precheck(gan, user);
    if (st == CLGAN_OK) st = check_memory(gan, d, &gan->mem);
    for (int b = 0; b < CLGAN_BLOCK_COUNT && st == CLGAN_OK; b++)
        st = clgan_params_alloc(gan->blk[b], d, cfg->seed + (uint64_t)(b == CLGAN_BLOCK_D || b == CLGAN_BLOCK_D_BUFFERS));
    /* the average starts from the initial weights */
    for (int k = 0; k < 2 && st == CLGAN_OK && clgan_gan_has_ema(gan); k++) st = ema_copy(gan, k);
    for (int k = 0; k < 2 && st == CLGAN_OK; k++)
        st = clgan_optimizer_new(gan->blk[k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G], k ? &cfg->opt_d : &cfg->opt_g, &gan->opt[k]);
    for (int k = 0; k < 4 && st == CLGAN_OK; k++)
        if (gan->d[k].g) st = clgan_graph_compile(gan->d[k].g, d);
    if (st == CLGAN_OK) st = clgan_graph_compile(gan->gg, d);
    if (st != CLGAN_OK) {
        clgan_gan_free(gan);
        return st;
    }
    *out = gan;
    return CLGAN_OK;
}

void clgan_gan_free(clgan_gan *gan) {
    if (!gan) return;
    for (int k = 0; k < 4; k++) clgan_graph_free(gan->d[k].g);
    for (int k = 0; k < 2; k++) clgan_optimizer_free(gan->opt[k]);
    clgan_graph_free(gan->gg);
    clgan_graph_free(gan->sample);
    free(gan->labels);
    free(gan->host);
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++) clgan_params_free(gan->blk[b]);
    free(gan);
}

/* Checks, clips and applies one optimizer step to network k (0 = G, 1 = D),
 * given the gradients' sum of squares (read with the step's losses). */
static clgan_status update(clgan_gan *gan, int k, uint64_t t, float sumsq, float *norm_out) {
    float norm = sqrtf(sumsq);
    clgan_status st = CLGAN_OK;
    *norm_out = norm;
    if (!isfinite(norm))
        return CLGAN_ERR(CLGAN_ERR_NUMERIC, "the %s gradient norm is %g", k ? "discriminator" : "generator", norm);
    st = clgan_optimizer_step(gan->opt[k], t, lr_factor(gan), gan->cfg.clip_grad, norm);
    if (st == CLGAN_OK && k == 1 && gan->cfg.loss == CLGAN_LOSS_WGAN && gan->cfg.weight_clip > 0)
        st = clgan_optimizer_clamp_params(gan->opt[k], gan->cfg.weight_clip);
    return st;
}

static clgan_status write_labels(clgan_gan *gan, clgan_graph *g, int node, const int32_t *labels, int n) {
    if (node < 0) return CLGAN_OK;
    if (!labels) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a conditional model needs labels");
    if (n > gan->labels_cap) {
        float *grown = realloc(gan->labels, (size_t)n * sizeof *grown);
        if (!grown) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        gan->labels = grown;
        gan->labels_cap = n;
    }
    for (int i = 0; i < n; i++) gan->labels[i] = (float)labels[i];
    return clgan_graph_write(g, node, gan->labels);
}

/* A kept scalar, read without waiting (the step then waits once for all). */
static clgan_status read_scalar(clgan_graph *g, int node, float *out) {
    if (node < 0) {
        *out = 0;
        return CLGAN_OK;
    }
    return clgan_graph_read_async(g, node, out);
}

/* The D graph of the next D step: with the gradient penalty (always, or in
 * its phase), with R1 (every step, or every r1_every-th: d_steps % k == 0). */
static int d_index(const clgan_gan *gan) {
    bool always;
    bool pen = uses_penalty_phase(&gan->cfg, &always) &&
               (always || gan->cfg.gp_phase_steps <= 0 || gan->g_steps < (uint64_t)gan->cfg.gp_phase_steps);
    bool r1 = gan->cfg.r1_gamma > 0 && (gan->cfg.r1_every <= 1 || gan->d_steps % (uint64_t)gan->cfg.r1_every == 0);
    return (pen ? 1 : 0) | (r1 ? 2 : 0);
}

/* With several processes (cfg.dist): network k's gradients and the step's
 * losses v[0..nv), each weighted by this process's share of the batch,
 * summed over the processes (the same bits everywhere), the gradients
 * written back; *sumsq their sum of squares. Between the step's graph and
 * its update, after the device has finished. */
static clgan_status all_reduce(clgan_gan *gan, int k, float *v, int nv, float *sumsq) {
    clgan_params *blk = gan->blk[k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G];
    size_t n = clgan_params_total(blk);
    if (n + (size_t)nv > gan->host_cap) {
        float *h = realloc(gan->host, (n + (size_t)nv) * sizeof *h);
        if (!h) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for the gradients' all-reduce");
        gan->host = h;
        gan->host_cap = n + (size_t)nv;
    }
    float *h = gan->host, w = (float)gan->nb / (float)gan->cfg.batch;
    clgan_status st = clgan_buffer_read(clgan_params_grads(blk), 0, h, n * sizeof *h);
    if (st != CLGAN_OK) return st;
    for (size_t i = 0; i < n; i++) h[i] *= w;
    for (int j = 0; j < nv; j++) h[n + (size_t)j] = v[j] * w;
    st = clgan_dist_allreduce(gan->cfg.dist, h, n + (size_t)nv);
    if (st == CLGAN_OK) st = clgan_buffer_write(clgan_params_grads(blk), 0, h, n * sizeof *h);
    if (st != CLGAN_OK) return clgan_error_context(st, "the %s gradients' all-reduce: ", k ? "discriminator" : "generator");
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)h[i] * h[i];
    *sumsq = (float)ss;
    for (int j = 0; j < nv; j++) v[j] = h[n + (size_t)j];
    return CLGAN_OK;
}

static bool several(const clgan_gan *gan) { return clgan_dist_size(gan->cfg.dist) > 1; }

clgan_status clgan_gan_d_step(clgan_gan *gan, const float *x, const int32_t *labels, clgan_step_stats *s) {
    d_graph *dg = &gan->d[d_index(gan)];
    clgan_status st = clgan_graph_write(dg->g, dg->x, x);
    if (st == CLGAN_OK) st = write_labels(gan, dg->g, dg->y, labels, gan->nb);
    if (st == CLGAN_OK) st = clgan_graph_run(dg->g, gan->d_steps);
    if (st == CLGAN_OK) st = read_scalar(dg->g, dg->loss, &s->loss_d);
    float scores[2] = {0, 0};
    if (st == CLGAN_OK && dg->scores >= 0) st = clgan_graph_read_async(dg->g, dg->scores, scores);
    if (st == CLGAN_OK) st = read_scalar(dg->g, dg->d_real, &s->d_real);
    if (st == CLGAN_OK) st = read_scalar(dg->g, dg->d_fake, &s->d_fake);
    if (st == CLGAN_OK) st = read_scalar(dg->g, dg->penalty, &s->penalty);
    if (st == CLGAN_OK) st = read_scalar(dg->g, dg->r1, &s->r1);
    float sumsq = 0;
    if (st == CLGAN_OK && !several(gan)) st = clgan_optimizer_grad_sumsq_async(gan->opt[1], &sumsq);
    if (st == CLGAN_OK) st = clgan_device_finish(gan->dev);
    if (st != CLGAN_OK) return st;
    if (dg->scores >= 0) {
        s->d_real = scores[0];
        s->d_fake = scores[1];
    }
    if (several(gan)) {
        float v[5] = {s->loss_d, s->d_real, s->d_fake, s->penalty, s->r1};
        if ((st = all_reduce(gan, 1, v, 5, &sumsq)) != CLGAN_OK) return st;
        s->loss_d = v[0], s->d_real = v[1], s->d_fake = v[2], s->penalty = v[3], s->r1 = v[4];
    }
    if (!isfinite(s->loss_d))
        return CLGAN_ERR(CLGAN_ERR_NUMERIC, "the discriminator loss is %g (D(x) %g, D(G(z)) %g)", s->loss_d, s->d_real,
                         s->d_fake);
    s->lr_d = clgan_gan_lr(gan, false);
    st = update(gan, 1, gan->d_steps + 1, sumsq, &s->grad_norm_d);
    if (st == CLGAN_OK) gan->d_steps++;
    return st;
}

clgan_status clgan_gan_g_step(clgan_gan *gan, const int32_t *labels, clgan_step_stats *s) {
    clgan_status st = write_labels(gan, gan->gg, gan->g_y, labels, gan->nb);
    if (st == CLGAN_OK) st = clgan_graph_run(gan->gg, gan->g_steps);
    if (st == CLGAN_OK) st = read_scalar(gan->gg, gan->g_loss, &s->loss_g);
    float sumsq = 0;
    if (st == CLGAN_OK && !several(gan)) st = clgan_optimizer_grad_sumsq_async(gan->opt[0], &sumsq);
    if (st == CLGAN_OK) st = clgan_device_finish(gan->dev);
    if (st != CLGAN_OK) return st;
    if (several(gan) && (st = all_reduce(gan, 0, &s->loss_g, 1, &sumsq)) != CLGAN_OK) return st;
    if (!isfinite(s->loss_g)) return CLGAN_ERR(CLGAN_ERR_NUMERIC, "the generator loss is %g", s->loss_g);
    s->lr_g = clgan_gan_lr(gan, true);
    st = update(gan, 0, gan->g_steps + 1, sumsq, &s->grad_norm_g);
    if (st == CLGAN_OK) gan->g_steps++;
    if (st == CLGAN_OK && clgan_gan_has_ema(gan)) st = ema_update(gan);
    return st;
}

clgan_status clgan_gan_generate(clgan_gan *gan, const float *z, const int32_t *labels, int n, float *out) {
    const clgan_gan_config *c = &gan->cfg;
    if (n < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "generate: n = %d", n);
    if (!gan->sample || gan->sample_n != n) {
        /* built on first use and when the count changes, never per step */
        clgan_graph_free(gan->sample);
        clgan_graph *g = gan->sample = clgan_graph_new();
        gan->sample_n = n;
        clgan_nn G = clgan_gan_sampling_nn(gan, g);
        gan->s_z = clgan_input(g, "z", 2, (int[]){n, c->model.z_dim});
        gan->s_y = c->model.classes > 0 ? clgan_input(g, "labels", 1, (int[]){n}) : -1;
        gan->s_out = clgan_generator(&G, &c->model, gan->s_z, gan->s_y);
        clgan_graph_keep(g, gan->s_out);
        clgan_status st = clgan_graph_compile(g, gan->dev);
        if (st != CLGAN_OK) {
            clgan_graph_free(g);
            gan->sample = NULL;
            return st;
        }
    }
    clgan_status st = clgan_graph_write(gan->sample, gan->s_z, z);
    if (st == CLGAN_OK) st = write_labels(gan, gan->sample, gan->s_y, labels, n);
    if (st == CLGAN_OK) st = clgan_graph_run(gan->sample, 0);
    if (st == CLGAN_OK) st = clgan_graph_read(gan->sample, gan->s_out, out);
    return st;
}
