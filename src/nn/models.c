/* The built-in GAN models.
 *
 * DCGAN ("Unsupervised Representation Learning with Deep Convolutional GANs", 2016): the generator maps z through a 1x1 -> k x k
 * transposed convolution and then doubles the resolution with stride-2
 * transposed convolutions (BatchNorm + ReLU between, tanh at the end); the
 * discriminator mirrors it with stride-2 convolutions and LeakyReLU(0.2),
 * BatchNorm on every layer but the first, and a final convolution to one
 * logit. Sizes: 28 = 7 * 2^2, 32 = 4 * 2^3, 64 = 4 * 2^4. The critic
 * variant for the gradient penalty replaces BatchNorm (which makes a
 * sample's output depend on the rest of the batch, against the per-sample
 * penalty) by layer normalisation or nothing ("Improved Training of Wasserstein GANs", 2017, section 4).
 *
 * Conditioning: the generator takes [z, embedding(y)]; the discriminator adds
 * the projection term <embedding(y), h> to its logit ("cGANs with Projection Discriminator", 2018),
 * with h its last features.
 *
 * Layout: inside the DCGANs the activations are channel-major (C, N, H, W),
 * the order the convolutions' GEMMs read and write, so no layout pass runs
 * between layers; the networks take and give (N, C, H, W) (TO_CM below). */
#include "clgan/nn.h"

#include <stdio.h>

/* (N, C, H, W) <-> (C, N, H, W): the DCGANs keep their activations
 * channel-major (clgan_conv2d_layout) and convert at the edges; with one
 * channel or one sample the conversion is a reshape (clgan_permute). */
static const int TO_CM[4] = {1, 0, 2, 3};

bool clgan_dcgan_plan(int size, int *start, int *ups) {
    for (*start = 4, *ups = 0; *ups <= 8; (*ups)++) {
        if (4 << *ups == size) return true;
    }
    if (size == 28) {
        *start = 7;
        *ups = 2;
        return true;
    }
    return false;
}

static int d_layers(const clgan_model_config *m);
static int d_width(const clgan_model_config *m, int i);

static clgan_status check_range(const char *what, int v, int lo, int hi) {
    if (v >= lo && v <= hi) return CLGAN_OK;
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %d, expected %d to %d", what, v, lo, hi);
}

/* n widths of layers ("hidden", "discriminator hidden"), each 1 to CLGAN_MAX_FEATURES */
static clgan_status check_widths(const char *layers, const int *w, int n) {
    if (n < 0 || n > CLGAN_MAX_WIDTHS)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d %s widths, expected at most %d", n, layers, CLGAN_MAX_WIDTHS);
    for (int i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "%s width %d", layers, i + 1);
        clgan_status st = check_range(what, w[i], 1, CLGAN_MAX_FEATURES);
        if (st != CLGAN_OK) return st;
    }
    return CLGAN_OK;
}

clgan_init_scheme clgan_model_init(const clgan_model_config *m) {
    return m->kind == CLGAN_MODEL_DCGAN || m->normal_init ? CLGAN_INIT_DCGAN : CLGAN_INIT_FAN_IN;
}

clgan_status clgan_model_check(const clgan_model_config *m) {
    clgan_status st = CLGAN_OK;
    if ((unsigned)m->kind > CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "model kind %d is not a model", (int)m->kind);
    if ((unsigned)m->d_norm > CLGAN_NORM_SPECTRAL)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "discriminator normalisation %d is not one", (int)m->d_norm);
    if ((st = check_range("z dimension", m->z_dim, 1, CLGAN_MAX_FEATURES)) != CLGAN_OK) return st;
    if ((st = check_range("number of classes (0: unconditional)", m->classes, 0, CLGAN_MAX_CLASSES)) != CLGAN_OK)
        return st;
    if ((st = check_widths("hidden", m->widths, m->n_widths)) != CLGAN_OK) return st;
    if ((st = check_range("pack (samples per input of D; 0 and 1: none)", m->pack, 0, CLGAN_MAX_PACK)) != CLGAN_OK)
        return st;
    if (m->pack > 1 && m->classes > 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "pack %d with a conditional model: a packed input of D would hold "
                         "samples of several classes, which the projection of one label cannot judge; pack an "
                         "unconditional model", m->pack);
    if ((st = check_widths("discriminator hidden", m->d_widths, m->n_d_widths)) != CLGAN_OK) return st;
    if ((st = check_range("maxout pieces (0 and 1: LeakyReLU units)", m->maxout, 0, CLGAN_MAX_MAXOUT)) != CLGAN_OK)
        return st;
    if ((st = check_range("g_batchnorm (0 or 1)", m->g_batchnorm, 0, 1)) != CLGAN_OK) return st;
    if ((st = check_range("normal_init (0 or 1)", m->normal_init, 0, 1)) != CLGAN_OK) return st;
    if (m->kind == CLGAN_MODEL_DCGAN && (m->g_batchnorm || m->n_d_widths > 0 || m->maxout > 1))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "g_batchnorm, d_widths and maxout shape the toy and MLP models' "
                         "linear layers; the DCGAN has none (leave them unset)");
    if (m->kind == CLGAN_MODEL_TOY && m->n_widths == 0 &&
        (st = check_range("toy model width", m->width, 1, CLGAN_MAX_FEATURES)) != CLGAN_OK)
        return st;
    for (int i = 0; m->kind != CLGAN_MODEL_DCGAN && i < d_layers(m); i++) /* maxout: width x pieces outputs */
        if (m->maxout > 1 && d_width(m, i) > CLGAN_MAX_FEATURES / m->maxout)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "discriminator hidden width %d with %d maxout pieces is %lld "
                             "linear outputs, more than %d", d_width(m, i), m->maxout,
                             (long long)d_width(m, i) * m->maxout, CLGAN_MAX_FEATURES);
    if (m->kind == CLGAN_MODEL_TOY) return CLGAN_OK;
    if (m->channels != 1 && m->channels != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d image channels, expected 1 or 3", m->channels);
    if (m->kind == CLGAN_MODEL_MLP) {
        if (m->n_widths < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the MLP needs at least one hidden width");
        return check_range("MLP image size", m->image_size, 1, CLGAN_MAX_IMAGE_SIZE);
    }
    int start, ups;
    if (!clgan_dcgan_plan(m->image_size, &start, &ups) || ups < 2)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "DCGAN image size %d: expected 28, or a power of two from 16 to %d (32 and 64 are the "
                         "usual ones)",
                         m->image_size, CLGAN_MAX_IMAGE_SIZE);
    /* the widest layer has width * 2^(ups-1) channels */
    if (m->width < 1 || m->width > (CLGAN_MAX_FEATURES >> (ups - 1)))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "DCGAN width %d does not fit image size %d: expected 1 to %d (its widest layer has width x "
                         "%d channels, at most %d)",
                         m->width, m->image_size, CLGAN_MAX_FEATURES >> (ups - 1), 1 << (ups - 1), CLGAN_MAX_FEATURES);
    return CLGAN_OK;
}

/* The widest activation of one sample in either network, in floats, for
 * the batch-size check (a model's tensors are batch x this at most, up to
 * a small factor for the convolutions' column buffers). */
size_t clgan_model_sample_floats(const clgan_model_config *m) {
    size_t widest = (size_t)m->z_dim + (m->classes > 0 ? (size_t)(m->z_dim < 16 ? 16 : m->z_dim) : 0);
    for (int i = 0; i < m->n_widths; i++)
        if ((size_t)m->widths[i] > widest) widest = (size_t)m->widths[i];
    for (int i = 0; m->kind != CLGAN_MODEL_DCGAN && i < d_layers(m); i++) { /* D's layers, maxout pieces too */
        size_t w = (size_t)d_width(m, i) * (size_t)(m->maxout > 1 ? m->maxout : 1);
        if (w > widest) widest = w;
    }
    if (m->kind == CLGAN_MODEL_TOY) return widest > (size_t)m->width ? widest : (size_t)m->width;
    size_t image = (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    if (image > widest) widest = image;
    if (m->kind == CLGAN_MODEL_DCGAN) {
        /* D's first layer: width channels at half the resolution, each a 4x4 x C column in im2col form */
        size_t half = (size_t)(m->image_size / 2) * (size_t)(m->image_size / 2);
        size_t first = (size_t)m->width * half, cols = (size_t)m->channels * 16 * half;
        if (first > widest) widest = first;
        if (cols > widest) widest = cols;
    }
    return widest;
}

int clgan_model_pack(const clgan_model_config *m) { return m->pack > 1 ? m->pack : 1; }

int clgan_mlp_layers(const clgan_model_config *m) {
    return m->kind == CLGAN_MODEL_TOY && m->n_widths == 0 ? 2 : m->n_widths;
}
int clgan_mlp_width(const clgan_model_config *m, int i) {
    return m->kind == CLGAN_MODEL_TOY && m->n_widths == 0 ? m->width : m->widths[i];
}

/* D's hidden layers (toy, MLP): d_widths, or G's reversed */
static int d_layers(const clgan_model_config *m) { return m->n_d_widths > 0 ? m->n_d_widths : clgan_mlp_layers(m); }
static int d_width(const clgan_model_config *m, int i) {
    return m->n_d_widths > 0 ? m->d_widths[i] : clgan_mlp_width(m, clgan_mlp_layers(m) - 1 - i);
}

static int act_g(clgan_nn *c, int x) { return clgan_relu(c->g, x); }
static int act_d(clgan_nn *c, int x) { return clgan_leaky_relu(c->g, x, 0.2f); }

static int d_norm(clgan_nn *c, const clgan_model_config *m, const char *name, int x) {
    switch (m->d_norm) {
    case CLGAN_NORM_BATCH: return clgan_nn_batchnorm(c, name, x);
    case CLGAN_NORM_LAYER: return clgan_nn_layernorm(c, name, x);
    default: return x;
    }
}

static int cond_input(clgan_nn *c, const clgan_model_config *m, int z, int labels) {
    if (m->classes <= 0 || labels < 0) return z;
    int e = clgan_nn_embedding(c, "embed", labels, m->classes, m->z_dim < 16 ? 16 : m->z_dim);
    return clgan_concat(c->g, z, e, 1);
}

/* projection conditioning: logit + <embedding(y), h>, h (N, F) */
static int project(clgan_nn *c, const clgan_model_config *m, int logit, int h, int labels) {
    if (m->classes <= 0 || labels < 0) return logit;
    int nd, shape[4];
    clgan_node_shape(c->g, h, &nd, shape);
    int e = clgan_nn_embedding(c, "embed", labels, m->classes, shape[1]);
    int dot = clgan_sum_axes(c->g, clgan_mul(c->g, e, h), 0, 1); /* (N) */
    return clgan_add(c->g, logit, clgan_reshape(c->g, dot, 2, (int[]){shape[0], 1}));
}

clgan_node clgan_generator(clgan_nn *c, const clgan_model_config *m, clgan_node z, clgan_node labels) {
    clgan_graph *g = c->g;
    if (clgan_graph_status(g) != CLGAN_OK || z < 0 || z >= clgan_graph_size(g)) return -1;
    int n = 0, nd, shape[4];
    clgan_node_shape(g, z, &nd, shape);
    n = shape[0];
    int x = cond_input(c, m, z, labels);
    char name[32];
    if (m->kind == CLGAN_MODEL_TOY || m->kind == CLGAN_MODEL_MLP) {
        for (int i = 0; i < clgan_mlp_layers(m); i++) {
            snprintf(name, sizeof name, "fc%d", i + 1);
            x = clgan_nn_linear(c, name, x, clgan_mlp_width(m, i), !m->g_batchnorm);
            if (m->g_batchnorm) {
                snprintf(name, sizeof name, "bn%d", i + 1);
                x = clgan_nn_batchnorm(c, name, x);
            }
            x = act_g(c, x);
        }
        if (m->kind == CLGAN_MODEL_TOY) return clgan_nn_linear(c, "out", x, 2, true);
        x = clgan_tanh(g, clgan_nn_linear(c, "out", x, m->channels * m->image_size * m->image_size, true));
        return clgan_reshape(g, x, 4, (int[]){n, m->channels, m->image_size, m->image_size});
    }
    int start, ups;
    clgan_dcgan_plan(m->image_size, &start, &ups);
    clgan_node_shape(g, x, &nd, shape);
    /* channel-major inside: (F, N, 1, 1) in, (C, N, S, S) out */
    x = clgan_permute(g, clgan_reshape(g, x, 4, (int[]){n, shape[1], 1, 1}), TO_CM);
    bool was = c->channel_major;
    c->channel_major = true;
    int ch = m->width << (ups - 1);
    /* 1x1 -> start x start, then doublings down to the image */
    x = act_g(c, clgan_nn_batchnorm(c, "bn0", clgan_nn_conv_t2d(c, "convt0", x, ch, start, 1, 0, false)));
    for (int i = 1; i < ups; i++) {
        ch /= 2;
        snprintf(name, sizeof name, "convt%d", i);
        int y = clgan_nn_conv_t2d(c, name, x, ch, 4, 2, 1, false);
        snprintf(name, sizeof name, "bn%d", i);
        x = act_g(c, clgan_nn_batchnorm(c, name, y));
    }
    snprintf(name, sizeof name, "convt%d", ups);
    x = clgan_tanh(g, clgan_nn_conv_t2d(c, name, x, m->channels, 4, 2, 1, false));
    c->channel_major = was;
    return clgan_permute(g, x, TO_CM); /* its own inverse */
}

clgan_node clgan_discriminator(clgan_nn *c, const clgan_model_config *m, clgan_node x, clgan_node labels) {
    clgan_graph *g = c->g;
    if (clgan_graph_status(g) != CLGAN_OK || x < 0 || x >= clgan_graph_size(g)) return -1;
    int nd, shape[4];
    clgan_node_shape(g, x, &nd, shape);
    int pack = clgan_model_pack(m);
    if (pack > 1) {
        /* M consecutive samples side by side: (N, C, ...) -> (N / M, M C, ...), a reshape */
        if (shape[0] % pack != 0) {
            clgan_graph_record_error(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%sa batch of %d samples does not divide "
                                                  "into packs of %d", c->prefix ? c->prefix : "", shape[0], pack));
            return -1;
        }
        shape[0] /= pack;
        shape[1] *= pack;
        x = clgan_reshape(g, x, nd, shape);
    }
    int n = shape[0];
    char name[32];
    int h;
    bool was_sn = c->spectral;
    c->spectral = m->d_norm == CLGAN_NORM_SPECTRAL;
    if (m->kind == CLGAN_MODEL_TOY || m->kind == CLGAN_MODEL_MLP) {
        h = x;
        for (int i = 0; i < d_layers(m); i++) {
            snprintf(name, sizeof name, "fc%d", i + 1);
            int w = d_width(m, i);
            if (m->maxout > 1) {
                /* maxout ("Maxout Networks", 2013): w units, each the largest of `maxout` linear pieces; the
                 * linear layer's outputs are (N, w, pieces), piece k of unit j at column j * pieces + k */
                int y = clgan_reshape(g, clgan_nn_linear(c, name, h, w * m->maxout, true), 3, (int[]){n, w, m->maxout});
                h = clgan_slice(g, y, 2, 0, 1);
                for (int k = 1; k < m->maxout; k++) /* max(a, b) = a + relu(b - a) */
                    h = clgan_add(g, h, clgan_relu(g, clgan_sub(g, clgan_slice(g, y, 2, k, 1), h)));
                h = clgan_reshape(g, h, 2, (int[]){n, w});
            } else {
                h = act_d(c, clgan_nn_linear(c, name, h, w, true));
            }
        }
        int logit = clgan_nn_linear(c, "out", h, 1, true);
        c->spectral = was_sn; /* (the projection's embedding is not normalised) */
        return project(c, m, logit, h, labels);
    }
    int start, ups;
    clgan_dcgan_plan(m->image_size, &start, &ups);
    int ch = m->width;
    /* channel-major inside, but for layer normalisation, which normalises each sample */
    bool was = c->channel_major, cm = m->d_norm != CLGAN_NORM_LAYER;
    c->channel_major = cm;
    h = act_d(c, clgan_nn_conv2d(c, "conv0", cm ? clgan_permute(g, x, TO_CM) : x, ch, 4, 2, 1, false));
    for (int i = 1; i < ups; i++) {
        ch *= 2;
        snprintf(name, sizeof name, "conv%d", i);
        int y = clgan_nn_conv2d(c, name, h, ch, 4, 2, 1, false);
        snprintf(name, sizeof name, "norm%d", i);
        h = act_d(c, d_norm(c, m, name, y));
    }
    /* start x start -> 1 logit; the projection uses the flattened features */
    snprintf(name, sizeof name, "conv%d", ups);
    /* one channel: (1, N, 1, 1) is (N, 1) in either layout */
    int logit = clgan_reshape(g, clgan_nn_conv2d(c, name, h, 1, start, 1, 0, true), 2, (int[]){n, 1});
    c->channel_major = was;
    c->spectral = was_sn;
    if (m->classes <= 0 || labels < 0) return logit;
    int feat = (int)(clgan_node_numel(g, h) / (size_t)n);
    if (cm) h = clgan_permute(g, h, TO_CM);
    return project(c, m, logit, clgan_reshape(g, h, 2, (int[]){n, feat}), labels);
}
