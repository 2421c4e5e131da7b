/* Layers: parameters declared by name, then graph ops. */
#include "clgan/nn.h"

#include <math.h>
#include <stdio.h>

static int declare(clgan_nn *c, clgan_params *p, const char *name, const char *what, int ndim, const int *shape,
                   int init, float std, bool trainable) {
    char full[160];
    snprintf(full, sizeof full, "%s%s.%s", c->prefix ? c->prefix : "", name, what);
    int i = clgan_params_declare(p, full, ndim, shape, init, std, trainable);
    if (i < 0) return -1;
    return clgan_param(c->g, p, i);
}

/* a weight of fan-in `fan_in` under the context's scheme */
static int weight(clgan_nn *c, const char *name, int ndim, const int *shape, int fan_in) {
    if (c->init == CLGAN_INIT_DCGAN) return declare(c, c->params, name, "weight", ndim, shape, CLGAN_INIT_NORMAL, 0.02f, true);
    return declare(c, c->params, name, "weight", ndim, shape, CLGAN_INIT_UNIFORM, 1.0f / sqrtf((float)fan_in), true);
}

static int fail_on(clgan_nn *c, int node) {
    if (node < 0) clgan_graph_record_error(c->g, CLGAN_ERR_INVALID_ARG); /* a declaration failed */
    return node;
}

/* W / sigma(W) of a weight (out, fan_in...) with the buffers <name>.weight_u (out) and
 * <name>.weight_v (fan_in) (clgan_spectral_norm: one power iteration in training) */
static int spectral(clgan_nn *c, const char *name, int w, int ndim, const int *shape) {
    int fan_in = 1;
    for (int d = 1; d < ndim; d++) fan_in *= shape[d];
    int u = fail_on(c, declare(c, c->buffers, name, "weight_u", 1, (int[]){shape[0]}, CLGAN_INIT_NORMAL, 1.0f, false));
    int v = fail_on(c, declare(c, c->buffers, name, "weight_v", 1, (int[]){fan_in}, CLGAN_INIT_NORMAL, 1.0f, false));
    if (u < 0 || v < 0 || w < 0) return -1;
    return clgan_spectral_norm(c->g, w, u, v, c->training);
}

/* a conv or linear layer's weight: spectrally normalised under c->spectral */
static int layer_weight(clgan_nn *c, const char *name, int ndim, const int *shape, int fan_in) {
    if (!c->spectral) return weight(c, name, ndim, shape, fan_in);
    int w = c->init == CLGAN_INIT_DCGAN
                ? declare(c, c->params, name, "weight_orig", ndim, shape, CLGAN_INIT_NORMAL, 0.02f, true)
                : declare(c, c->params, name, "weight_orig", ndim, shape, CLGAN_INIT_UNIFORM, 1.0f / sqrtf((float)fan_in),
                          true);
    return spectral(c, name, fail_on(c, w), ndim, shape);
}

static int bias_param(clgan_nn *c, const char *name, int n, int fan_in) {
    int shape[1] = {n};
    if (c->init == CLGAN_INIT_DCGAN) return declare(c, c->params, name, "bias", 1, shape, CLGAN_INIT_ZEROS, 0, true);
    return declare(c, c->params, name, "bias", 1, shape, CLGAN_INIT_UNIFORM, 1.0f / sqrtf((float)fan_in), true);
}

/* names a layer's output "<prefix><name>" for inspection (clgan check) */
static int named(clgan_nn *c, const char *name, int node) {
    if (node >= 0) {
        char full[96];
        snprintf(full, sizeof full, "%s%s", c->prefix ? c->prefix : "", name);
        clgan_node_set_name(c->g, node, full);
    }
    return node;
}

clgan_node clgan_nn_linear(clgan_nn *c, const char *name, clgan_node x, int out, bool bias) {
    if (clgan_graph_status(c->g) != CLGAN_OK || x < 0) return -1;
    int nd, shape[4];
    clgan_node_shape(c->g, x, &nd, shape);
    int in = (int)(clgan_node_numel(c->g, x) / (size_t)shape[0]);
    int w = fail_on(c, layer_weight(c, name, 2, (int[]){out, in}, in));
    int y = clgan_matmul(c->g, nd == 2 ? x : clgan_reshape(c->g, x, 2, (int[]){shape[0], in}), w, false, true);
    return named(c, name, bias ? clgan_add_axis(c->g, y, fail_on(c, bias_param(c, name, out, in)), 1) : y);
}

/* the channel axis of a 4-D activation */
static int channel_axis(const clgan_nn *c, int ndim) { return c->channel_major && ndim == 4 ? 0 : 1; }

clgan_node clgan_nn_conv2d(clgan_nn *c, const char *name, clgan_node x, int out, int k, int stride, int pad, bool bias) {
    if (clgan_graph_status(c->g) != CLGAN_OK || x < 0) return -1;
    int nd, shape[4];
    clgan_node_shape(c->g, x, &nd, shape);
    int ax = channel_axis(c, nd), in = shape[ax];
    int w = fail_on(c, layer_weight(c, name, 4, (int[]){out, in, k, k}, in * k * k));
    int y = clgan_conv2d_layout(c->g, x, w, stride, pad, pad, ax == 0);
    return named(c, name, bias ? clgan_add_axis(c->g, y, fail_on(c, bias_param(c, name, out, in * k * k)), ax) : y);
}

clgan_node clgan_nn_conv_t2d(clgan_nn *c, const char *name, clgan_node x, int out, int k, int stride, int pad,
                             bool bias) {
    if (clgan_graph_status(c->g) != CLGAN_OK || x < 0) return -1;
    int nd, shape[4];
    clgan_node_shape(c->g, x, &nd, shape);
    int ax = channel_axis(c, nd);
    /* PyTorch's fan-in for a transposed convolution's weight (C_in, C_out, k, k) is C_out k k */
    int w = fail_on(c, weight(c, name, 4, (int[]){shape[ax], out, k, k}, out * k * k));
    int y = clgan_conv_transpose2d_layout(c->g, x, w, stride, pad, 0, ax == 0);
    return named(c, name, bias ? clgan_add_axis(c->g, y, fail_on(c, bias_param(c, name, out, out * k * k)), ax) : y);
}

clgan_node clgan_nn_batchnorm(clgan_nn *c, const char *name, clgan_node x) {
    if (clgan_graph_status(c->g) != CLGAN_OK || x < 0) return -1;
    int nd, shape[4];
    clgan_node_shape(c->g, x, &nd, shape);
    int ax = channel_axis(c, nd);
    int f[1] = {shape[ax]};
    int gamma = c->init == CLGAN_INIT_DCGAN ? declare(c, c->params, name, "weight", 1, f, CLGAN_INIT_NORMAL_ONE, 0.02f, true)
                                            : declare(c, c->params, name, "weight", 1, f, CLGAN_INIT_ONES, 0, true);
    int beta = declare(c, c->params, name, "bias", 1, f, CLGAN_INIT_ZEROS, 0, true);
    int rm = declare(c, c->buffers, name, "running_mean", 1, f, CLGAN_INIT_ZEROS, 0, false);
    int rv = declare(c, c->buffers, name, "running_var", 1, f, CLGAN_INIT_ONES, 0, false);
    const float eps = 1e-5f; /* PyTorch's BatchNorm default */
    if (c->batches > 1 && c->training)
        return named(c, name, clgan_batchnorm_batches(c->g, x, ax == 0 && nd == 4 ? c->batches : -1, fail_on(c, gamma),
                                                      fail_on(c, beta), fail_on(c, rm), fail_on(c, rv),
                                                      c->update_stats ? 0.1f : 0.0f, eps));
    return named(c, name, clgan_batchnorm_axis(c->g, x, ax, fail_on(c, gamma), fail_on(c, beta), fail_on(c, rm),
                                               fail_on(c, rv), c->training, c->update_stats ? 0.1f : 0.0f, eps));
}

clgan_node clgan_nn_layernorm(clgan_nn *c, const char *name, clgan_node x) {
    if (clgan_graph_status(c->g) != CLGAN_OK || x < 0) return -1;
    if (c->channel_major) {
        clgan_graph_record_error(c->g, CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "%s%s: layer normalisation takes sample-major "
                                                 "(N, C, H, W) activations", c->prefix ? c->prefix : "", name));
        return -1;
    }
    int nd, shape[4];
    clgan_node_shape(c->g, x, &nd, shape);
    int gamma = declare(c, c->params, name, "weight", nd - 1, shape + 1, CLGAN_INIT_ONES, 0, true);
    int beta = declare(c, c->params, name, "bias", nd - 1, shape + 1, CLGAN_INIT_ZEROS, 0, true);
    return named(c, name, clgan_layernorm(c->g, x, fail_on(c, gamma), fail_on(c, beta), 1e-5f));
}

clgan_node clgan_nn_embedding(clgan_nn *c, const char *name, clgan_node labels, int classes, int dim) {
    if (clgan_graph_status(c->g) != CLGAN_OK || labels < 0) return -1;
    int t = declare(c, c->params, name, "weight", 2, (int[]){classes, dim}, CLGAN_INIT_NORMAL,
                    c->init == CLGAN_INIT_DCGAN ? 0.02f : 1.0f, true);
    return named(c, name, clgan_embedding(c->g, fail_on(c, t), labels));
}
