/* The generator's layer plan, read by both export formats (export.c). */
#ifndef CLGAN_TRAIN_EXPORT_H
#define CLGAN_TRAIN_EXPORT_H

#include "clgan/train.h"

typedef enum {
    CLGAN_EXPORT_CONVT,     /* ConvTranspose2d(in, out, k, stride, pad), no bias */
    CLGAN_EXPORT_BATCHNORM, /* BatchNorm2d(in), eps 1e-5, running statistics */
    CLGAN_EXPORT_RELU,
    CLGAN_EXPORT_LINEAR, /* Linear(in, out) with bias */
    CLGAN_EXPORT_TANH,
} clgan_export_layer_kind;

typedef struct {
    clgan_export_layer_kind kind;
    char src[32]; /* the clgan layer whose tensors (src.weight, ...) it holds; "" for activations */
    int in, out, k, stride, pad;
} clgan_export_layer;

#define CLGAN_EXPORT_MAX_LAYERS 40

/* z (N, z_dim), concatenated with embed(labels) (N, embed_dim) when
 * conditional, then layer[0 .. n) as nn.Sequential `main`; a DCGAN reads
 * the concatenation as (N, F, 1, 1) and starts at start x start. */
typedef struct {
    clgan_model_config model;
    int embed_dim;
    int start;
    int n;
    clgan_export_layer layer[CLGAN_EXPORT_MAX_LAYERS];
} clgan_export_plan;

clgan_status clgan_export_plan_of(const clgan_model_config *m, clgan_export_plan *p);
/* The layer that holds tensor `param` ("convt1.weight"), and its field
 * ("weight"), or -1. */
int clgan_export_layer_of(const clgan_export_plan *p, const char *param, const char **field);
/* The blocks sampling reads (weights, buffers): the EMA's when it is used,
 * else G's; their names carry the prefix g_ema. or g. */
void clgan_export_blocks(const clgan_gan *gan, clgan_params **w, clgan_params **b);

#endif
