/* clgan nn: layers (parameters + graph builders) and the built-in GAN
 * models. A layer declares its parameters in the model's blocks by name
 * (prefix + layer name), so building the same model into a second graph
 * reuses them. */
#ifndef CLGAN_NN_H
#define CLGAN_NN_H

#include "clgan/graph.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef enum {
    CLGAN_INIT_DCGAN,   /* weights N(0, 0.02); norm scale N(1, 0.02) (the DCGAN paper, 2016) */
    CLGAN_INIT_FAN_IN,  /* weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch's default */
} clgan_init_scheme;

typedef struct {
    clgan_graph *g;
    clgan_params *params;  /* trainable */
    clgan_params *buffers; /* running statistics */
    const char *prefix;    /* "g." or "d." */
    bool training;         /* batch statistics vs running statistics */
    bool update_stats;     /* in training, also update the running statistics */
    clgan_init_scheme init;
    bool channel_major;    /* conv and BatchNorm layers take and give (C, N, H, W) activations */
    /* conv and linear weights spectrally normalised: declared as <name>.weight_orig with the buffers
     * <name>.weight_u (out) and <name>.weight_v (fan-in); in training each layer call runs one power
     * iteration (u, v updated in place, no gradient through them), in evaluation it uses u and v */
    bool spectral;
    /* > 1: each call's batch is this many equal batches side by side (the discriminator on real and
     * generated images at once); BatchNorm (channel-major only) then normalises each with its own
     * statistics and updates the running ones once per batch, in order, as that many calls would */
    int batches;
} clgan_nn;

/* x (N, F) -> (N, out): x W^T + b, W (out, F) */
clgan_node clgan_nn_linear(clgan_nn *c, const char *name, clgan_node x, int out, bool bias);
/* x (N, C, H, W) -> (N, out, P, Q); with c->channel_major (C, N, H, W) -> (out, N, P, Q) */
clgan_node clgan_nn_conv2d(clgan_nn *c, const char *name, clgan_node x, int out, int k, int stride, int pad, bool bias);
clgan_node clgan_nn_conv_t2d(clgan_nn *c, const char *name, clgan_node x, int out, int k, int stride, int pad,
                             bool bias);
/* per feature (axis 1) of (N, F) or (N, C, H, W), or (axis 0) of (C, N, H, W)
 * with c->channel_major; momentum 0.1, eps 1e-5 */
clgan_node clgan_nn_batchnorm(clgan_nn *c, const char *name, clgan_node x);
/* per sample over (F) or (C, H, W), with an elementwise affine (sample-major only) */
clgan_node clgan_nn_layernorm(clgan_nn *c, const char *name, clgan_node x);
/* labels (N) -> (N, dim) */
clgan_node clgan_nn_embedding(clgan_nn *c, const char *name, clgan_node labels, int classes, int dim);

/* ---- models ---- */
typedef enum { CLGAN_MODEL_MLP, CLGAN_MODEL_DCGAN, CLGAN_MODEL_TOY } clgan_model_kind;
/* SPECTRAL: no normalisation layer; every conv and linear weight of D is
 * divided by its largest singular value ("Spectral Normalization for
 * Generative Adversarial Networks", 2018), as torch.nn.utils.spectral_norm */
typedef enum { CLGAN_NORM_BATCH, CLGAN_NORM_LAYER, CLGAN_NORM_NONE, CLGAN_NORM_SPECTRAL } clgan_norm_kind;

#define CLGAN_MAX_WIDTHS 8
typedef struct {
    clgan_model_kind kind;
    int z_dim;
    int channels, image_size; /* images; the toy model makes 2-D points */
    int width;                /* DCGAN: ngf = ndf; toy: hidden units */
    int widths[CLGAN_MAX_WIDTHS], n_widths; /* MLP (and toy, when given) generator hidden widths; D uses them reversed */
    int classes;              /* > 0: conditional on a class label */
    clgan_norm_kind d_norm;   /* the discriminator's normalisation (BatchNorm, or layernorm/none for WGAN-GP) */
    /* Packing ("PacGAN: The power of two samples in generative adversarial networks", 2018): > 1, D
     * judges this many samples at a time, concatenated along the features (images: the channels), so a
     * batch of N samples is N / pack inputs of D; 0 and 1: one sample per input. Any model, any loss. */
    int pack;
    /* The toy and MLP models only (0 / none: their plain form) */
    int g_batchnorm;                              /* G's hidden layers: linear (no bias), BatchNorm, ReLU */
    int d_widths[CLGAN_MAX_WIDTHS], n_d_widths;   /* D's hidden widths, first to last (none: G's reversed) */
    int maxout;                                   /* > 1: D's hidden units are maxout units of this many pieces */
    int normal_init;                              /* 1: weights N(0, 0.02), biases 0 (as DCGAN), for any model */
} clgan_model_config;

/* 1 for no packing, else the samples per input of D */
int clgan_model_pack(const clgan_model_config *m);
/* The initialisation of the model's layers: the DCGAN's, or with normal_init any model's, N(0, 0.02);
 * else PyTorch's default */
clgan_init_scheme clgan_model_init(const clgan_model_config *m);

/* The DCGAN's starting resolution and number of doublings for an image side
 * (28: 7x7 and 2; a power of two 4 << ups: 4x4 and ups); false for others. */
bool clgan_dcgan_plan(int size, int *start, int *ups);
/* The hidden layers of the MLP and toy generators (D takes them reversed,
 * unless d_widths): --widths, or for the toy model without it two layers of
 * --width. */
int clgan_mlp_layers(const clgan_model_config *m);
int clgan_mlp_width(const clgan_model_config *m, int i);

/* Limits no real model reaches (they bound what a hostile configuration can
 * ask for before anything is allocated): features per layer (z, hidden
 * widths, DCGAN channels), classes, image side. */
#define CLGAN_MAX_FEATURES 65536
#define CLGAN_MAX_CLASSES 100000
#define CLGAN_MAX_IMAGE_SIZE 1024
#define CLGAN_MAX_PACK 64   /* samples per input of D */
#define CLGAN_MAX_MAXOUT 64 /* pieces per maxout unit */

/* Validates a configuration (sizes the architecture supports); the message
 * names what is wrong. */
clgan_status clgan_model_check(const clgan_model_config *m);
/* The widest per-sample activation of the model, in floats (a batch's
 * largest tensor is about batch times this). */
size_t clgan_model_sample_floats(const clgan_model_config *m);
/* z (N, z_dim), labels (N) or -1 -> images (N, C, S, S) in [-1, 1] (tanh), or (N, 2) for the toy model */
clgan_node clgan_generator(clgan_nn *c, const clgan_model_config *m, clgan_node z, clgan_node labels);
/* x, labels or -1 -> logits (N, 1) */
clgan_node clgan_discriminator(clgan_nn *c, const clgan_model_config *m, clgan_node x, clgan_node labels);

/* ---- the evaluation classifier (src/nn/classifier.c) ----
 * A small CNN: conv-BatchNorm-ReLU blocks, a 128-d feature layer (the
 * features of the Fréchet distance) and a linear layer to the class logits
 * (the probabilities of the inception score). */
#define CLGAN_CLASSIFIER_FEATURES 128
typedef struct {
    int channels, image_size, classes;
} clgan_classifier_config;
clgan_status clgan_classifier_check(const clgan_classifier_config *m);
/* x (N, C, S, S) -> logits (N, classes); *features (may be NULL) gets the
 * (N, CLGAN_CLASSIFIER_FEATURES) node. */
clgan_node clgan_classifier(clgan_nn *c, const clgan_classifier_config *m, clgan_node x, clgan_node *features);

/* ---- Inception-v3, the FID feature network (src/nn/inception.c) ---- */
#define CLGAN_INCEPTION_SIZE 299      /* input side */
#define CLGAN_INCEPTION_FEATURES 2048 /* pool features */
#define CLGAN_INCEPTION_CONVS 94      /* conv + BatchNorm + ReLU layers */
/* One conv layer as the weights file describes it: its name ("mixed.tower.conv_1"),
 * weight shape (out, in, kh, kw), stride and padding per axis. */
typedef struct {
    char name[48];
    int out, in, kh, kw, stride, pad_h, pad_w;
} clgan_inception_conv;
typedef struct {
    clgan_inception_conv conv[CLGAN_INCEPTION_CONVS];
    int n;
} clgan_inception_layers;
/* x (N, 3, 299, 299) in [-1, 1) -> the (N, 2048) pool features. Declares each
 * layer's weight, beta, mean and var ("<name>.weight", ...) in c->buffers
 * (not trainable), to be loaded from the converted weights file
 * (tools/inception_convert.py). */
clgan_node clgan_inception_v3(clgan_nn *c, const clgan_inception_layers *layers, clgan_node x);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
