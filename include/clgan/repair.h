/* Generation and repair: latent interpolation and inpainting (with Poisson
 * blending). Sources: src/repair/. */
#ifndef CLGAN_REPAIR_H
#define CLGAN_REPAIR_H

#include "clgan/train.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

/* ---- latent interpolation (src/repair/interpolate.c) ---- */
/* Spherical interpolation ("Sampling Generative Networks", 2016) from a (t = 0)
 * to b (t = 1), dim floats, in double internally: the direction turns along
 * the great circle from a/|a| to b/|b| at a constant angular rate and the norm
 * goes linearly from |a| to |b| (for |a| = |b|, the paper's slerp, of constant
 * norm). t = 0 and t = 1 give a and b exactly. Degenerate cases: parallel
 * directions (angle < 1e-12) or a zero endpoint interpolate linearly;
 * antiparallel ones (|a/|a| + b/|b|| < 1e-6, where no great circle is singled
 * out) turn through a fixed unit vector perpendicular to a (from the
 * coordinate axis least aligned with a), a quarter turn per half; in 1-D,
 * linearly. */
void clgan_slerp(const float *a, const float *b, int dim, double t, float *out);
/* pairs * steps latent points (pairs, steps, z_dim): row p goes from endpoint
 * 2p to endpoint 2p + 1 at t = k / (steps - 1), the endpoints being elements
 * of clgan_rng_normal(seed, 0, ...) (the prior N(0, I)). pairs >= 1, steps >= 2. */
clgan_status clgan_interpolate_latents(int pairs, int steps, int z_dim, uint64_t seed, float *z);

/* ---- inpainting (src/repair/inpaint.c): "Semantic Image Inpainting with Deep
 * Generative Models" (2017) ---- */
typedef enum { CLGAN_MASK_CENTER, CLGAN_MASK_LEFT, CLGAN_MASK_RANDOM } clgan_mask_kind;
#define CLGAN_MASK_RANDOM_FRACTION 0.8
/* "center", "left", "random"; anything else is CLGAN_ERR_NOT_FOUND. */
clgan_status clgan_mask_parse(const char *s, clgan_mask_kind *out);
/* missing (h, w) bytes, 1 = unknown: center, a centred h/2 x w/2 rectangle (a
 * quarter of the area); left, columns [0, w/2); random, exactly
 * round(0.8 h w) pixels, the first of a Fisher-Yates shuffle by
 * clgan_rng(seed). */
clgan_status clgan_mask_make(clgan_mask_kind kind, int h, int w, uint64_t seed, uint8_t *missing);
/* A mask PNG: a pixel is unknown when any of its RGB values is nonzero
 * (transparency is composited onto black, so transparent = known). It must be
 * w x h: otherwise CLGAN_ERR_FORMAT naming the file and both sizes. */
clgan_status clgan_mask_read_png(const char *path, int h, int w, uint8_t *missing);
/* The paper's context weights: for a known pixel, the
 * fraction of unknown pixels in the window x window square centred on it
 * (the pixel itself included, the part inside the image counted); 0 for an
 * unknown pixel. window odd. */
clgan_status clgan_inpaint_weights(const uint8_t *missing, int h, int w, int window, float *weight);
/* The shell [lo, hi] of latent norms the search keeps z in: sqrt(d - 1/2)
 * +- 3/sqrt(2), three standard deviations of the norm of N(0, I_d) (see
 * src/repair/inpaint.c for why); clgan_latent_project scales z radially into
 * it. */
void clgan_latent_shell(int z_dim, double *lo, double *hi);
void clgan_latent_project(float *z, int z_dim);

typedef struct {
    int iters;      /* Adam steps on z [1000] */
    int restarts;   /* random starts per image; the lowest final loss wins [8] */
    float lambda;   /* weight of the prior (adversarial) loss [0.003, the paper's] */
    float lr;       /* Adam step size on z [0.03] */
    int window;     /* context-weight window side, odd [7] */
    uint64_t seed;  /* the starting points: clgan_rng_normal(seed, 0, ...) [1] */
} clgan_inpaint_config;
void clgan_inpaint_defaults(clgan_inpaint_config *c);

typedef struct {
    float loss, context, prior; /* the winning start's L = context + lambda prior, and its parts */
    int restart;                /* which start won */
    int32_t label;              /* its class (conditional models) */
} clgan_inpaint_result;

/* Searches z for each of n images (n, C, S, S) in [-1, 1] with unknown
 * pixels missing (n, S, S) (nonzero = unknown; their values in images are
 * ignored): minimises ||W (G(z) - y)||_1 + lambda L_p(z), L_p = log(1 -
 * D(G(z))) for minimax/ns and -D(G(z)) for wgan/wgan-gp/hinge, with G and D
 * in evaluation mode, by Adam on all n * restarts starts as one batch on the
 * GAN's device, z projected into the latent shell after every step.
 * labels: one per image for a conditional model, or NULL (then start r tries
 * class r mod classes). generated (n, C, S, S) gets G(z) of the best start,
 * z_best (n, z_dim) its z, results (n) its losses; each may be NULL. Every
 * mask must leave some pixel known and some unknown. */
clgan_status clgan_inpaint_search(clgan_gan *gan, const clgan_inpaint_config *cfg, const float *images,
                                  const uint8_t *missing, const int32_t *labels, int n, float *generated, float *z_best,
                                  clgan_inpaint_result *results);

typedef enum { CLGAN_BLEND_POISSON, CLGAN_BLEND_NONE } clgan_blend_kind;
clgan_status clgan_blend_parse(const char *s, clgan_blend_kind *out); /* "poisson", "none" */
typedef struct {
    int iters;       /* conjugate-gradient iterations (the most over the channels) */
    double residual; /* final ||b - A x||_2 / max(1, ||b||_2) (the largest over the channels) */
} clgan_poisson_stats;
/* Poisson blending ("Poisson Image Editing", 2003) of one image (c, h, w):
 * out = known outside the hole; inside, per channel, the solution of the
 * discrete Poisson equation sum_{q in N_p} (x_p - x_q) = sum_{q in N_p}
 * (g_p - g_q) over the 4-neighbours N_p inside the image (the guidance field
 * is the gradient of `guide`, the generated image), with x_q = known_q for
 * known q (the Dirichlet boundary). Solved by conjugate gradients in double
 * from x = guide until ||b - A x||_2 <= tol max(1, ||b||_2); max_iters <= 0
 * means 10 m + 100 for m unknown pixels; not converging is CLGAN_ERR_NUMERIC.
 * A part of the hole that touches no known pixel keeps the generated pixels.
 * stats may be NULL. */
clgan_status clgan_poisson_blend(const float *known, const float *guide, const uint8_t *missing, int c, int h, int w,
                                 double tol, int max_iters, float *out, clgan_poisson_stats *stats);
/* out = generated on the hole, known elsewhere (--blend none). */
void clgan_inpaint_paste(const float *known, const float *generated, const uint8_t *missing, int c, int h, int w,
                         float *out);
/* The baseline: the hole filled, per channel, with the mean of the known pixels. */
void clgan_mean_fill(const float *known, const uint8_t *missing, int c, int h, int w, float *out);
/* PSNR in dB of a against b over the unknown pixels of n images (n, c, h, w),
 * masks (n, h, w): values clamped to [-1, 1], peak-to-peak 2 (the same as 255
 * on 8-bit pixels), 10 log10(4 / MSE) with the squared errors pooled over all
 * images; INFINITY when equal, NAN when no pixel is unknown. */
double clgan_psnr_hole(const float *a, const float *b, const uint8_t *missing, int n, int c, int h, int w);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
