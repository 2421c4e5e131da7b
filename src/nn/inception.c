/* Inception-v3 as the TensorFlow FID graph (2015-12-05 weights) computes its
 * 2048-d pool features: the network behind published FID, KID and
 * precision/recall figures ("Rethinking the Inception Architecture", 2015,
 * with the FID variant of its last two blocks that pytorch-fid and
 * StyleGAN2-ADA reproduce). Inference only: every BatchNorm uses its running
 * statistics.
 *
 * x (N, 3, 299, 299) in [-1, 1):
 *   stem      conv 3x3 s2 (32), conv 3x3 (32), conv 3x3 p1 (64), max pool 3x3 s2,
 *             conv 1x1 (80), conv 3x3 (192), max pool 3x3 s2          -> 192 x 35 x 35
 *   mixed     A x3: 1x1 | 1x1, 5x5 | 1x1, 3x3, 3x3 | avg pool 3x3, 1x1 -> 288 x 35 x 35
 *   mixed_3   B: 3x3 s2 | 1x1, 3x3, 3x3 s2 | max pool 3x3 s2         -> 768 x 17 x 17
 *   mixed_4-7 C x4: 1x1 | 1x1, 1x7, 7x1 | 1x1, 7x1, 1x7, 7x1, 1x7 | avg pool, 1x1
 *   mixed_8   D: 1x1, 3x3 s2 | 1x1, 1x7, 7x1, 3x3 s2 | max pool 3x3 s2 -> 1280 x 8 x 8
 *   mixed_9   E: 1x1 | 1x1 -> (1x3, 3x1) | 1x1, 3x3 -> (1x3, 3x1) | avg pool 3x3, 1x1
 *   mixed_10  E with a max pool in its pool branch                     -> 2048 x 8 x 8
 *   pool2     average over the 8 x 8 map                               -> 2048
 * Every conv is conv + BatchNorm(eps 1e-3, no scale: (y - mean)/sqrt(var +
 * eps) + beta) + ReLU; the average pools of the blocks leave the padding out
 * of their counts. Each conv's kernel comes from its weight's shape, its
 * stride and padding from the weights file (clgan_inception_conv). */
#include "clgan/nn.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    clgan_nn *c;
    const clgan_inception_layers *L;
} net;

static const clgan_inception_conv *layer(const net *n, const char *name) {
    for (int i = 0; i < n->L->n; i++)
        if (strcmp(n->L->conv[i].name, name) == 0) return &n->L->conv[i];
    return NULL;
}

static int param(const net *n, const char *name, const char *what, int ndim, const int *shape) {
    char full[96];
    snprintf(full, sizeof full, "%s.%s", name, what);
    int i = clgan_params_declare(n->c->buffers, full, ndim, shape, CLGAN_INIT_ZEROS, 0, false);
    return i < 0 ? -1 : clgan_param(n->c->g, n->c->buffers, i);
}

/* conv + BatchNorm (running statistics) + ReLU, the layer named `name` */
static int conv(const net *n, const char *name, int x) {
    clgan_graph *g = n->c->g;
    if (clgan_graph_status(g) != CLGAN_OK || x < 0) return -1;
    const clgan_inception_conv *l = layer(n, name);
    if (!l) {
        clgan_graph_record_error(g, CLGAN_ERR(CLGAN_ERR_FORMAT, "Inception: no conv layer %s in the weights", name));
        return -1;
    }
    int w = param(n, name, "weight", 4, (int[]){l->out, l->in, l->kh, l->kw});
    int f[1] = {l->out};
    int beta = param(n, name, "beta", 1, f), mean = param(n, name, "mean", 1, f), var = param(n, name, "var", 1, f);
    if (w < 0 || beta < 0 || mean < 0 || var < 0) {
        clgan_graph_record_error(g, CLGAN_ERR_INVALID_ARG);
        return -1;
    }
    int y = clgan_conv2d_pad(g, x, w, l->stride, l->pad_h, l->pad_w);
    int inv = clgan_div(g, clgan_fill(g, 1, f, 1.0f), clgan_sqrt(g, clgan_affine(g, var, 1.0f, 1e-3f)));
    y = clgan_add_axis(g, y, clgan_scale(g, mean, -1.0f), 1);
    y = clgan_add_axis(g, clgan_mul_axis(g, y, inv, 1), beta, 1);
    y = clgan_relu(g, y);
    clgan_node_set_name(g, y, name);
    return y;
}

/* convs applied in order, each name under `prefix` */
static int chain(const net *n, const char *prefix, int x, const char *const *names) {
    char full[96];
    for (int i = 0; names[i] && x >= 0; i++) {
        snprintf(full, sizeof full, "%s.%s", prefix, names[i]);
        x = conv(n, full, x);
    }
    return x;
}

/* the branches concatenated along the channels, in order */
static int cat(clgan_graph *g, const int *parts, int count) {
    int y = parts[0];
    for (int i = 1; i < count; i++) y = clgan_concat(g, y, parts[i], 1);
    return y;
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static int block_a(const net *n, const char *p, int x) {
    clgan_graph *g = n->c->g;
    char t2[32];
    snprintf(t2, sizeof t2, "%.20s.tower_2", p);
    int parts[4] = {chain(n, p, x, NAMES("conv")),
                    chain(n, p, x, NAMES("tower.conv", "tower.conv_1")),
                    chain(n, p, x, NAMES("tower_1.conv", "tower_1.conv_1", "tower_1.conv_2")),
                    chain(n, t2, clgan_avg_pool2d(g, x, 3, 1, 1, false), NAMES("conv"))};
    return cat(g, parts, 4);
}

static int block_b(const net *n, const char *p, int x) {
    clgan_graph *g = n->c->g;
    int parts[3] = {chain(n, p, x, NAMES("conv")), chain(n, p, x, NAMES("tower.conv", "tower.conv_1", "tower.conv_2")),
                    clgan_max_pool2d(g, x, 3, 2, 0)};
    return cat(g, parts, 3);
}

static int block_c(const net *n, const char *p, int x) {
    clgan_graph *g = n->c->g;
    char t2[32];
    snprintf(t2, sizeof t2, "%.20s.tower_2", p);
    int parts[4] = {
        chain(n, p, x, NAMES("conv")), chain(n, p, x, NAMES("tower.conv", "tower.conv_1", "tower.conv_2")),
        chain(n, p, x, NAMES("tower_1.conv", "tower_1.conv_1", "tower_1.conv_2", "tower_1.conv_3", "tower_1.conv_4")),
        chain(n, t2, clgan_avg_pool2d(g, x, 3, 1, 1, false), NAMES("conv"))};
    return cat(g, parts, 4);
}

static int block_d(const net *n, const char *p, int x) {
    clgan_graph *g = n->c->g;
    int parts[3] = {chain(n, p, x, NAMES("tower.conv", "tower.conv_1")),
                    chain(n, p, x, NAMES("tower_1.conv", "tower_1.conv_1", "tower_1.conv_2", "tower_1.conv_3")),
                    clgan_max_pool2d(g, x, 3, 2, 0)};
    return cat(g, parts, 3);
}

static int block_e(const net *n, const char *p, int x, bool max_pool) {
    clgan_graph *g = n->c->g;
    int a = chain(n, p, x, NAMES("tower_conv")), b = chain(n, p, x, NAMES("tower_1_conv", "tower_1_conv_1"));
    int pool = max_pool ? clgan_max_pool2d(g, x, 3, 1, 1) : clgan_avg_pool2d(g, x, 3, 1, 1, false);
    int parts[6] = {chain(n, p, x, NAMES("conv")),
                    chain(n, p, a, NAMES("tower_mixed_conv")),
                    chain(n, p, a, NAMES("tower_mixed_conv_1")),
                    chain(n, p, b, NAMES("tower_1_mixed_conv")),
                    chain(n, p, b, NAMES("tower_1_mixed_conv_1")),
                    chain(n, p, pool, NAMES("tower_2_conv"))};
    return cat(g, parts, 6);
}

clgan_node clgan_inception_v3(clgan_nn *c, const clgan_inception_layers *L, clgan_node x) {
    clgan_graph *g = c->g;
    if (clgan_graph_status(g) != CLGAN_OK || x < 0) return -1;
    int nd, shape[4];
    clgan_node_shape(g, x, &nd, shape);
    if (nd != 4 || shape[1] != 3 || shape[2] != CLGAN_INCEPTION_SIZE || shape[3] != CLGAN_INCEPTION_SIZE) {
        clgan_graph_record_error(g, CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Inception: input of rank %d with %d channels and "
                                              "side %d x %d, expected (N, 3, %d, %d)", nd, nd > 1 ? shape[1] : 0,
                                              nd > 2 ? shape[2] : 0, nd > 3 ? shape[3] : 0, CLGAN_INCEPTION_SIZE,
                                              CLGAN_INCEPTION_SIZE));
        return -1;
    }
    const net n = {c, L};
    int h = conv(&n, "conv", x);
    h = conv(&n, "conv_1", h);
    h = clgan_max_pool2d(g, conv(&n, "conv_2", h), 3, 2, 0);
    h = conv(&n, "conv_3", h);
    h = clgan_max_pool2d(g, conv(&n, "conv_4", h), 3, 2, 0);
    h = block_a(&n, "mixed", h);
    h = block_a(&n, "mixed_1", h);
    h = block_a(&n, "mixed_2", h);
    h = block_b(&n, "mixed_3", h);
    static const char *const cs[] = {"mixed_4", "mixed_5", "mixed_6", "mixed_7"};
    for (int i = 0; i < 4; i++) h = block_c(&n, cs[i], h);
    h = block_d(&n, "mixed_8", h);
    h = block_e(&n, "mixed_9", h, false);
    h = block_e(&n, "mixed_10", h, true);
    h = clgan_avg_pool2d(g, h, 8, 8, 0, true);
    h = clgan_reshape(g, h, 2, (int[]){shape[0], CLGAN_INCEPTION_FEATURES});
    if (h >= 0) clgan_node_set_name(g, h, "pool2");
    return h;
}
