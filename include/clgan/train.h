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

typedef enum {
    CLGAN_LOSS_MINIMAX, /* "Generative Adversarial Nets" (2014), eq. 1: G minimises log(1 - D(G(z))) */
    CLGAN_LOSS_NS,      /* the non-saturating variant: G maximises log D(G(z)) */
    CLGAN_LOSS_WGAN,    /* "Wasserstein GAN" (2017): critic E[D(fake)] - E[D(real)], weights clipped to [-c, c] */
    CLGAN_LOSS_WGAN_GP, /* "Improved Training of Wasserstein GANs" (2017): + lambda E[(||grad D(x_hat)|| - 1)^2] */
    CLGAN_LOSS_HINGE,   /* "Geometric GAN" (2017), SN-GAN (2018): E[relu(1 - D(x))] + E[relu(1 + D(G(z)))] */
} clgan_loss_kind;


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
} clgan_gan_config;

const char *clgan_loss_name(clgan_loss_kind k);
clgan_status clgan_loss_parse(const char *s, clgan_loss_kind *out);
/* The papers' defaults for a loss: DCGAN Adam(2e-4, 0.5, 0.999); WGAN
 * RMSProp(5e-5), clip 0.01, n_critic 5; WGAN-GP Adam(1e-4, 0.5, 0.9),
 * lambda 10, n_critic 5, layer-normalised critic. */
void clgan_gan_defaults(clgan_gan_config *c, clgan_loss_kind loss);

typedef struct {
    float loss_d, loss_g;
    float d_real, d_fake; /* mean D output on real / generated data (a probability for minimax and NS, else the raw score) */
    float penalty;        /* the gradient-penalty term (0 when off) */
    float grad_norm_d, grad_norm_g; /* before clipping */
} clgan_step_stats;

typedef struct clgan_gan clgan_gan;

/* Builds the models, the optimizer state and the step graphs on d; the
 * parameters come from Philox(seed), the same on every device. */
clgan_status clgan_gan_new(const clgan_gan_config *cfg, clgan_device *d, clgan_gan **out);
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
/* A factor on both learning rates (--on-nan rollback halves it). */
void clgan_gan_set_lr_scale(clgan_gan *gan, float scale);
float clgan_gan_lr_scale(const clgan_gan *gan);
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
/* Every field is read back; a missing or mistyped field is an error naming it. */
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

#ifdef __cplusplus
}
#endif
#endif
