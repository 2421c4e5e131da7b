/* clgan train: GAN losses, optimizers, one training step, and the state a
 * checkpoint holds. */
#ifndef CLGAN_TRAIN_H
#define CLGAN_TRAIN_H

#include "clgan/io.h"
#include "clgan/nn.h"
#include "clgan/optim.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef enum {
    CLGAN_LOSS_MINIMAX, /* "Generative Adversarial Nets" (2014), eq. 1: G minimises log(1 - D(G(z))) */
    CLGAN_LOSS_NS,      /* the non-saturating variant: G maximises log D(G(z)) */
    CLGAN_LOSS_WGAN,    /* "Wasserstein GAN" (2017): critic E[D(fake)] - E[D(real)], weights clipped to [-c, c] */
    CLGAN_LOSS_WGAN_GP, /* "Improved Training of Wasserstein GANs" (2017): + lambda E[(||grad D(x_hat)|| - 1)^2] */
    CLGAN_LOSS_HINGE,   /* "Geometric GAN" (2017), SN-GAN (2018): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] */
} clgan_loss_kind;

/* A learning-rate schedule over generator steps, on top of the optimizers'
 * rates (both networks follow the generator's step count, so n_critic D
 * steps share one rate). */
typedef enum {
    CLGAN_LR_CONSTANT, /* the configured rates throughout */
    CLGAN_LR_LINEAR,   /* from x1 at step `start` linearly to x`factor` at step `end`, then held */
    CLGAN_LR_STEP,     /* x1 before step `start`, x`factor` from it on */
} clgan_lr_schedule_kind;

typedef struct {
    clgan_lr_schedule_kind kind;
    long start, end; /* generator steps; end >= start (LINEAR only) */
    float factor;    /* in [0, 1] */
} clgan_lr_schedule;

const char *clgan_lr_schedule_name(clgan_lr_schedule_kind k);
clgan_status clgan_lr_schedule_parse(const char *s, clgan_lr_schedule_kind *out);
/* The schedule's factor on the learning rates for the update made after
 * g_step completed generator steps. */
float clgan_lr_schedule_factor(const clgan_lr_schedule *s, uint64_t g_step);

typedef struct {
    clgan_model_config model;
    clgan_loss_kind loss;
    int batch;
    uint64_t seed;
    float gp_lambda;     /* penalty weight */
    int gp_phase_steps;  /* > 0: the penalty for the first N steps only, then the loss without it */
    int n_critic;        /* D steps per G step */
    float weight_clip;   /* WGAN */
    float clip_grad;     /* > 0: clip each network's global gradient norm to this */
    clgan_opt_config opt_g, opt_d;
    clgan_lr_schedule lr_schedule;
} clgan_gan_config;

const char *clgan_loss_name(clgan_loss_kind k);
clgan_status clgan_loss_parse(const char *s, clgan_loss_kind *out);
/* The papers' defaults for a loss: DCGAN Adam(2e-4, 0.5, 0.999); WGAN
 * RMSProp(5e-5), clip 0.01, n_critic 5; WGAN-GP Adam(1e-4, 0, 0.9)
 * (Algorithm 1), lambda 10, n_critic 5, layer-normalised critic. */
void clgan_gan_defaults(clgan_gan_config *c, clgan_loss_kind loss);

typedef struct {
    float loss_d, loss_g;
    float d_real, d_fake; /* mean D output on real / generated data (a probability for minimax and NS, else the raw score) */
    float penalty;        /* the gradient-penalty term (0 when off) */
    float grad_norm_d, grad_norm_g; /* before clipping */
    float lr_d, lr_g;               /* the learning rates these updates used */
} clgan_step_stats;

typedef struct clgan_gan clgan_gan;

/* Limits on a configuration that no real model reaches: they stop a hostile
 * one before anything is sized from it. CLGAN_MAX_TENSOR_FLOATS is the
 * graph's limit on one tensor. */
#define CLGAN_MAX_BATCH 65536
#define CLGAN_MAX_TENSOR_FLOATS ((size_t)1 << 30)

/* The whole configuration: the model (clgan_model_check), batch, n_critic,
 * the largest tensor a batch makes, every number finite and in its range
 * (penalty weight, clipping, both optimizers, the schedule). The message
 * names the field. */
clgan_status clgan_gan_config_check(const clgan_gan_config *cfg);

/* Device memory a GAN holds, in bytes, as estimated before allocating. */
typedef struct {
    uint64_t params;    /* parameters and buffers, with their gradients */
    uint64_t optimizer; /* optimizer state and scratch */
    uint64_t graphs;    /* the step graphs' arenas */
    uint64_t total;
} clgan_gan_memory;

/* Builds the models, the optimizer state and the step graphs on d; the
 * parameters come from Philox(seed), the same on every device. The
 * configuration is checked as a whole first (clgan_gan_config_check), then
 * the networks are declared and the graphs planned, and the memory that
 * needs is compared with the device's (CLGAN_ERR_DEVICE_OOM giving both)
 * before anything is allocated. */
clgan_status clgan_gan_new(const clgan_gan_config *cfg, clgan_device *d, clgan_gan **out);
/* Called with the declared but unallocated GAN (its blocks name and shape
 * every parameter): a checkpoint's tensors are checked against them there. */
typedef clgan_status (*clgan_gan_precheck_fn)(const clgan_gan *gan, void *user);
clgan_status clgan_gan_new_checked(const clgan_gan_config *cfg, clgan_device *d, clgan_gan_precheck_fn precheck,
                                   void *user, clgan_gan **out);
const clgan_gan_memory *clgan_gan_memory_of(const clgan_gan *gan);
void clgan_gan_free(clgan_gan *gan);
const clgan_gan_config *clgan_gan_config_of(const clgan_gan *gan);

/* One discriminator update on a real batch (x: batch samples; labels when
 * conditional, else NULL). */
clgan_status clgan_gan_d_step(clgan_gan *gan, const float *x, const int32_t *labels, clgan_step_stats *st);
/* One generator update (labels for the generated batch when conditional). */
clgan_status clgan_gan_g_step(clgan_gan *gan, const int32_t *labels, clgan_step_stats *st);
/* Completed G steps; the D steps; each selects its graph and noise. */
uint64_t clgan_gan_step_count(const clgan_gan *gan);
uint64_t clgan_gan_d_step_count(const clgan_gan *gan);
void clgan_gan_set_counts(clgan_gan *gan, uint64_t g_steps, uint64_t d_steps);
/* A factor on both learning rates (--on-nan rollback halves it), on top of
 * the schedule. */
void clgan_gan_set_lr_scale(clgan_gan *gan, float scale);
float clgan_gan_lr_scale(const clgan_gan *gan);
/* The rate the next update of G (or D) uses: configured x schedule x scale. */
float clgan_gan_lr(const clgan_gan *gan, bool generator);

/* Generates n samples from z (n, z_dim) with the generator in evaluation
 * mode (running BatchNorm statistics); out gets n * sample floats. */
clgan_status clgan_gan_generate(clgan_gan *gan, const float *z, const int32_t *labels, int n, float *out);

/* The networks' parameter blocks (for checkpoints and `clgan check`). */
typedef enum { CLGAN_BLOCK_G, CLGAN_BLOCK_G_BUFFERS, CLGAN_BLOCK_D, CLGAN_BLOCK_D_BUFFERS, CLGAN_BLOCK_COUNT } clgan_block_id;
clgan_params *clgan_gan_block(const clgan_gan *gan, clgan_block_id b);
/* The optimizer of G (false) or D (true). */
clgan_optimizer *clgan_gan_optimizer(const clgan_gan *gan, bool disc);
/* The D-step graph (for per-node inspection) and its data inputs. */
clgan_graph *clgan_gan_d_graph(const clgan_gan *gan);
clgan_graph *clgan_gan_g_graph(const clgan_gan *gan);

/* ---- a training run ---- */
typedef enum { CLGAN_ON_NAN_STOP, CLGAN_ON_NAN_ROLLBACK } clgan_on_nan;

typedef struct {
    clgan_gan_config gan;
    char dataset[32];      /* fashion-mnist, mnist, idx, cifar10, folder, ring8, grid25 */
    char data_path[1024];  /* "" = the dataset's default location */
    long steps;            /* generator steps */
    double time_limit;     /* seconds; 0 = none */
    int log_every, sample_every, checkpoint_every, keep_checkpoints;
    clgan_on_nan on_nan;
    char out_dir[1024];
} clgan_run_config;

/* The defaults a user expects for a model/loss pair (see clgan train --help). */
void clgan_run_defaults(clgan_run_config *rc, clgan_model_kind model, clgan_loss_kind loss);
void clgan_run_config_to_json(const clgan_run_config *rc, clgan_jbuf *b);
/* The whole run configuration (clgan_gan_config_check, steps, time limit,
 * intervals); the message names the field. */
clgan_status clgan_run_config_check(const clgan_run_config *rc);
/* Every field is read back; a missing or mistyped field is an error naming
 * it, and the result must pass clgan_run_config_check. */
clgan_status clgan_run_config_from_json(const clgan_json *j, clgan_run_config *rc);
const char *clgan_model_name(clgan_model_kind k);
clgan_status clgan_model_parse(const char *s, clgan_model_kind *out);

/* Where a run stands: with the parameters and optimizer state, all a
 * checkpoint needs to continue a run exactly. */
typedef struct {
    uint64_t epoch;  /* data order */
    uint64_t pos;
    uint64_t rollbacks;
} clgan_run_position;

/* Writes a safetensors checkpoint: every parameter and buffer under its name,
 * the optimizer state, and in __metadata__ the configuration, the step
 * counters, the data position and the learning-rate scale. Atomic. */
clgan_status clgan_checkpoint_save(const char *path, const clgan_gan *gan, const clgan_run_config *rc,
                                   const clgan_run_position *pos);
/* Reads only the configuration of a checkpoint (to build the GAN it fits). */
clgan_status clgan_checkpoint_config(const char *path, clgan_run_config *rc);
/* Loads a checkpoint into a GAN built from its configuration; every tensor is
 * checked for presence, dtype and shape. */
clgan_status clgan_checkpoint_restore(const char *path, clgan_gan *gan, clgan_run_position *pos);

typedef struct {
    long step, steps;          /* completed generator steps, and the target */
    uint64_t epoch;
    clgan_step_stats stats;
    double images_per_s;
    double elapsed_s, eta_s;
    bool logged;               /* this step was written to the log */
    const char *event;         /* "sample", "checkpoint", "rollback" or NULL */
    const char *event_path;
} clgan_progress;

typedef void (*clgan_progress_fn)(const clgan_progress *p, void *user);

/* Runs (or, with resume, continues) a training run into rc->out_dir:
 * config.json, log.jsonl, samples/, checkpoints/ and `latest`. */
clgan_status clgan_train_run(const clgan_run_config *rc, clgan_device *d, bool resume, clgan_progress_fn fn,
                             void *user);
/* The newest checkpoint of a run folder (DIR/latest). */
clgan_status clgan_run_latest(const char *dir, char *path, size_t cap);
/* A checkpoint file, or a run folder standing for its latest checkpoint:
 * the file's path and the configuration it holds. */
clgan_status clgan_checkpoint_open_config(const char *file_or_run, char *path, size_t cap, clgan_run_config *rc);
/* The GAN a checkpoint's configuration describes, built on d and restored
 * from the checkpoint. */
clgan_status clgan_gan_from_checkpoint(const char *path, const clgan_run_config *rc, clgan_device *d, clgan_gan **out);
/* The same for a configuration cfg, also giving the run position: every
 * tensor's name, dtype and shape is checked against the declared networks
 * before any device memory is allocated for them. */
clgan_status clgan_checkpoint_load(const char *path, const clgan_gan_config *cfg, clgan_device *d, clgan_gan **out,
                                   clgan_run_position *pos);

/* ---- metrics ---- */
typedef struct {
    int modes_covered, modes_total;
    double high_quality_fraction; /* samples within 3 sigma of their nearest mode */
    double reverse_kl;            /* KL(generated mode histogram || uniform), over high-quality samples */
    int counts[64];               /* high-quality samples per mode */
} clgan_mode_stats;
/* The PacGAN/VEEGAN protocol for the synthetic mixtures ("ring8", "grid25"):
 * points (n, 2). */
clgan_status clgan_mode_coverage(const char *kind, const float *points, int n, clgan_mode_stats *out);

/* ---- classifier-based metrics (src/train/fid.c) ---- */
/* The mean (dim) and the unbiased covariance (dim x dim, row-major) of n >= 2
 * feature rows x (n, dim), accumulated in double. */
clgan_status clgan_feature_stats(const float *x, int n, int dim, double *mean, double *cov);
/* The Fréchet distance between N(mu1, s1) and N(mu2, s2) ("GANs Trained by a
 * Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", 2017):
 * ||mu1 - mu2||^2 + Tr(s1) + Tr(s2) - 2 Tr(sqrt(s1 s2)), with the trace of
 * the square root from two symmetric eigendecompositions (LAPACK dsyev). */
clgan_status clgan_frechet_distance(int dim, const double *mu1, const double *s1, const double *mu2, const double *s2,
                                    double *out);
/* The same between the Gaussians fitted to two feature sets (n, dim). */
clgan_status clgan_fid_features(const float *a, int na, const float *b, int nb, int dim, double *out);
/* exp(E_x KL(p(y|x) || p(y))) over n rows of class probabilities (n, k), p(y)
 * their mean ("Improved Techniques for Training GANs", 2016), over the whole
 * set (no splits). Rows must be finite, >= 0 and sum to 1 within 1e-3. */
clgan_status clgan_inception_score(const float *probs, int n, int k, double *out);
/* Row-wise softmax of logits (n, k) into probs (n, k), in double internally;
 * probs may be logits (in place). */
void clgan_softmax_rows(const float *logits, int n, int k, float *probs);

/* ---- the evaluation classifier (src/train/classifier.c) ---- */
typedef struct clgan_clf clgan_clf;
typedef struct {
    clgan_classifier_config model;
    int batch;             /* training batch (0: evaluation only) */
    int eval_batch;        /* images per evaluation-mode run */
    uint64_t seed;         /* initial parameters */
    clgan_opt_config opt;  /* when batch > 0 */
} clgan_clf_config;
/* What a classifier file records besides its weights. */
typedef struct {
    char dataset[32];     /* the data set it was trained on ("mnist", ...) */
    int channels, image_size, classes, features;
    double test_accuracy; /* in [0, 1] */
    char test_set[160];   /* what the accuracy was measured on */
    long train_images, epochs;
} clgan_clf_info;

clgan_status clgan_clf_new(const clgan_clf_config *cfg, clgan_device *d, clgan_clf **out);
void clgan_clf_free(clgan_clf *c);
const clgan_classifier_config *clgan_clf_model(const clgan_clf *c);
/* One Adam/SGD step of softmax cross-entropy on a batch x (batch, C, S, S)
 * in [-1, 1] with labels y; loss and the number classified right come from
 * the forward pass before the update. */
clgan_status clgan_clf_train_step(clgan_clf *c, const float *x, const int32_t *y, float lr_scale, float *loss,
                                  int *correct);
/* Evaluation mode (running BatchNorm statistics) on n >= 1 images, eval_batch
 * at a time: features (n, CLGAN_CLASSIFIER_FEATURES) and logits (n, classes),
 * either may be NULL. */
clgan_status clgan_clf_predict(clgan_clf *c, const float *x, int n, float *features, float *logits);
/* The fraction of n images whose arg-max class is their label. */
clgan_status clgan_clf_accuracy(clgan_clf *c, const float *x, const int32_t *y, int n, double *accuracy);
/* A safetensors file: every parameter and running statistic by name, and
 * __metadata__ format "clgan-classifier", format_version, clgan_version and
 * the fields of info (the model's own fields are taken from c). Atomic. */
clgan_status clgan_clf_save(const clgan_clf *c, const clgan_clf_info *info, const char *path);
/* Where `clgan eval` looks for a classifier when none is named, and where
 * `clgan train-classifier` writes one by default:
 * $XDG_DATA_HOME/clgan/classifiers/<dataset>-<C>x<S>x<S>.safetensors
 * ($HOME/.local/share when XDG_DATA_HOME is unset), e.g.
 * mnist-1x28x28.safetensors. */
clgan_status clgan_clf_default_path(const char *dataset, int channels, int image_size, char *out, size_t cap);
/* Reads and checks the metadata only. */
clgan_status clgan_clf_read_info(const char *path, clgan_clf_info *info);
/* Builds an evaluation-only classifier from a file; every tensor is checked
 * for presence, dtype and shape. info may be NULL. */
clgan_status clgan_clf_load(const char *path, clgan_device *d, int eval_batch, clgan_clf **out, clgan_clf_info *info);
/* Shifts each of n images (c, h, w) by a random whole number of pixels in
 * [-max_shift, max_shift] on each axis, filling with the background -1
 * (training augmentation). */
clgan_status clgan_images_random_shift(float *x, int n, int c, int h, int w, int max_shift, clgan_rng *rng);

/* ---- clgan eval on an image generator (src/train/evaluate.c) ---- */
typedef struct {
    int n_generated, n_real;
    double fid;                  /* generated vs real features */
    double inception_score;      /* of the generated images */
    double real_inception_score; /* of the real images, for scale */
    double real_accuracy;        /* of the classifier on the real images (when labelled, else -1) */
    int classes;
    long *class_histogram;       /* classes counts of arg-max classes of the generated images (owned) */
} clgan_image_eval;
/* Generates n_gen images (noise from Philox(seed); a conditional model gets
 * labels i mod classes) in batches, and compares their classifier features
 * with those of the n_real real images (labels may be NULL). The classifier
 * must fit the generator's image size and channels. */
clgan_status clgan_eval_images(clgan_gan *gan, clgan_clf *clf, const float *real, const int32_t *real_labels,
                               int n_real, int n_gen, uint64_t seed, clgan_image_eval *out);
void clgan_image_eval_free(clgan_image_eval *e);

/* ---- clgan check: one training step on two devices, compared ---- */
typedef struct {
    const char *phase;  /* "D step" or "G step" */
    const char *kind;   /* "activation", "gradient", "update" (the step's change to a parameter), "loss" */
    const char *name;   /* the layer, parameter or loss */
    size_t n;           /* elements */
    double max_abs;     /* max |a - b| */
    double max_rel;     /* max |a - b| / max |a| */
    double nmse;        /* sum (a - b)^2 / sum a^2 */
    bool ok;
} clgan_check_row;
typedef void (*clgan_check_fn)(const clgan_check_row *row, void *user);

/* Builds the GAN of cfg on both devices from the same seed, runs one D step
 * and one G step on the same batch, and reports every named layer's output,
 * every parameter's gradient and every parameter's update; a row
 * fails when its NMSE exceeds tol_nmse or either side is not finite where the
 * other is. *failures counts the failed rows. */
clgan_status clgan_check_devices(clgan_device *a, clgan_device *b, const clgan_gan_config *cfg, double tol_nmse,
                                 clgan_check_fn fn, void *user, int *failures);

/* ---- latent interpolation (src/train/interpolate.c) ---- */
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

/* ---- inpainting (src/train/inpaint.c): "Semantic Image Inpainting with Deep
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
 * src/train/inpaint.c for why); clgan_latent_project scales z radially into
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
