/* clgan optim: Adam, SGD with momentum and RMSProp on one flat parameter
 * block (one kernel per step for a whole network), global gradient-norm
 * clipping, and the gradient norm itself (computed on the device). */
#ifndef CLGAN_OPTIM_H
#define CLGAN_OPTIM_H

#include "clgan/graph.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef enum { CLGAN_OPT_ADAM, CLGAN_OPT_SGD, CLGAN_OPT_RMSPROP } clgan_opt_kind;

typedef struct {
    clgan_opt_kind kind;
    float lr;
    float beta1, beta2, eps; /* Adam (eps also RMSProp's) */
    float momentum;          /* SGD */
    float alpha;             /* RMSProp smoothing */
    float weight_decay;      /* L2, added to the gradient */
} clgan_opt_config;

const char *clgan_opt_name(clgan_opt_kind k);
clgan_status clgan_opt_parse(const char *s, clgan_opt_kind *out);

/* The state an optimizer of this kind keeps: how many block-sized slots,
 * and their names in a checkpoint ("adam_m", ...). */
int clgan_opt_slot_count(clgan_opt_kind k);
const char *clgan_opt_slot_name(clgan_opt_kind k, int i);
/* Every number finite and in its range (lr finite and >= 0, betas, momentum and
 * alpha in [0, 1), eps in (0, 1], weight decay in [0, 1]); `which` ("opt_g")
 * prefixes the field in the message. */
clgan_status clgan_opt_config_check(const clgan_opt_config *c, const char *which);

typedef struct clgan_optimizer clgan_optimizer;

/* State buffers (Adam m and v; SGD momentum; RMSProp square average) on the
 * block's device, zeroed. The block must be allocated. */
clgan_status clgan_optimizer_new(clgan_params *p, const clgan_opt_config *cfg, clgan_optimizer **out);
void clgan_optimizer_free(clgan_optimizer *o);
const clgan_opt_config *clgan_optimizer_config(const clgan_optimizer *o);

/* ||gradient||_2 of the whole block; one float comes back to the host. */
clgan_status clgan_optimizer_grad_norm(clgan_optimizer *o, float *norm);
/* Enqueues the sum of the squared gradients and its read into *sumsq,
 * which holds it after the device's next finish (so the step's scalars are
 * read with one wait). */
clgan_status clgan_optimizer_grad_sumsq_async(clgan_optimizer *o, float *sumsq);
/* One update, step t (1-based, for Adam's bias correction), learning rate
 * cfg.lr * lr_scale; when clip > 0 and norm > clip the gradient is first
 * scaled by clip / norm (norm from clgan_optimizer_grad_norm). */
clgan_status clgan_optimizer_step(clgan_optimizer *o, uint64_t t, float lr_scale, float clip, float norm);
/* Clamps every parameter of the block to [-c, c] (WGAN weight clipping). */
clgan_status clgan_optimizer_clamp_params(clgan_optimizer *o, float c);

int clgan_optimizer_slots(const clgan_optimizer *o);
clgan_buffer *clgan_optimizer_slot(const clgan_optimizer *o, int i);
const char *clgan_optimizer_slot_name(const clgan_optimizer *o, int i); /* "adam_m", ... */

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
