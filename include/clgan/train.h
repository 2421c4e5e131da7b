/* clgan train: GAN losses, optimizers, one training step, run folders, the
 * trainer, and the state a checkpoint holds. Evaluation is clgan/eval.h,
 * the device comparison clgan/check.h, generation and repair clgan/repair.h. */
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
    float g_ema;         /* > 0 (and < 1): keep an exponential moving average of G's parameters with this decay */
    /* R1 ("Which Training Methods for GANs do actually Converge?", 2018,
     * eq. 9): r1_gamma / 2 E ||grad_x D(x)||^2 on the real batch, added to
     * D's loss; with r1_every = k > 1, lazy regularisation ("Analyzing and
     * Improving the Image Quality of StyleGAN", 2020, sec. 3.1): on every
     * k-th D step only, times k. 0 and 1: every step. */
    float r1_gamma;
    int r1_every;
    /* DiffAugment ("Differentiable Augmentation for Data-Efficient GAN
     * Training", 2020): a comma-separated policy of color, translation and
     * cutout ("" none), applied to every image D sees in both steps, real and
     * generated (not to the gradient penalty's interpolates) */
    char augment[64];
    /* Data-parallel training (include/clgan/dist.h; not stored in config.json or checkpoints): this process
     * computes its part of each batch (clgan_dist_part: the D step takes that part of the real batch, and every
     * random draw of the steps is that part of the whole batch's), and before each update the parts'
     * gradients, each weighted by its share of the batch, are summed over the processes, as are the losses.
     * NULL: one process computes the whole batch. */
    struct clgan_dist *dist;
    bool sync_bn; /* with dist: BatchNorm statistics over the whole batch (its sums all-reduced), not this part's */
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
    float r1;             /* the R1 term as added to D's loss (0 when off or on a lazy step without it) */
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
 * mode (running BatchNorm statistics); out gets n * sample floats. With
 * g_ema, the moving average of the generator generates (unless
 * clgan_gan_use_ema turned it off). */
clgan_status clgan_gan_generate(clgan_gan *gan, const float *z, const int32_t *labels, int n, float *out);

/* The generator EMA ("g_ema", the one StyleGAN2-ADA samples and measures
 * with): after every G update, ema = b ema + (1 - b) G over the whole
 * parameter block (one kernel), with b = min(g_ema, (1 + t) / (10 + t)) at
 * t completed G steps (the warm-up of TensorFlow's ExponentialMovingAverage
 * with num_updates, so the average is not dominated by the initial weights
 * of a short run); G's running BatchNorm statistics are copied to it, as
 * StyleGAN2-ADA copies the buffers. Kept in the checkpoint under
 * "g_ema.<name>". */
float clgan_gan_ema_decay(const clgan_gan_config *c, uint64_t g_steps);
bool clgan_gan_has_ema(const clgan_gan *gan);
/* Whether sampling (clgan_gan_generate, clgan_gan_sampling_nn) uses the EMA
 * weights when there are any (default true) or G's own. */
void clgan_gan_use_ema(clgan_gan *gan, bool use);
/* Whether sampling uses the EMA weights (the run kept them and
 * clgan_gan_use_ema did not turn them off). */
bool clgan_gan_sampling_ema(const clgan_gan *gan);
/* The generator sampling uses (EMA or G, BatchNorm in evaluation mode) as
 * a safetensors file of PyTorch state_dict names (metadata format "pt",
 * clgan_model: the JSON the module of docs/export.md is built from,
 * clgan_weights: g_ema or g, clgan_step), written atomically. */
clgan_status clgan_gan_export_pytorch(clgan_gan *gan, const char *path);
/* The same generator as an ONNX model (opset 13, IR 8): z (N, z_dim) and,
 * when conditional, labels (N) int64 in; "images" (N, C, H, W) in [-1, 1]
 * (or "points" (N, 2)) out; written atomically. */
clgan_status clgan_gan_export_onnx(clgan_gan *gan, const char *path);
/* The layer context a graph that runs the sampling generator (evaluation
 * mode, nothing declared) builds it with. */
clgan_nn clgan_gan_sampling_nn(clgan_gan *gan, clgan_graph *g);

/* The networks' parameter blocks (for checkpoints and `clgan check`); the
 * EMA's are empty without g_ema. */
typedef enum {
    CLGAN_BLOCK_G,
    CLGAN_BLOCK_G_BUFFERS,
    CLGAN_BLOCK_D,
    CLGAN_BLOCK_D_BUFFERS,
    CLGAN_BLOCK_G_EMA,
    CLGAN_BLOCK_G_EMA_BUFFERS,
    CLGAN_BLOCK_COUNT
} clgan_block_id;
clgan_params *clgan_gan_block(const clgan_gan *gan, clgan_block_id b);
/* The optimizer of G (false) or D (true). */
clgan_optimizer *clgan_gan_optimizer(const clgan_gan *gan, bool disc);
/* The D-step graph (for per-node inspection) and its data inputs. */
clgan_graph *clgan_gan_d_graph(const clgan_gan *gan);
clgan_graph *clgan_gan_g_graph(const clgan_gan *gan);

/* ---- a training run ---- */
typedef enum { CLGAN_ON_NAN_STOP, CLGAN_ON_NAN_ROLLBACK } clgan_on_nan;

/* The feature network of the metrics computed during training. */
typedef enum {
    CLGAN_FEATURES_CLASSIFIER, /* clgan's own classifier, trained on the data set (clgan train-classifier) */
    CLGAN_FEATURES_INCEPTION,  /* Inception-v3 (TensorFlow 2015-12-05): comparable with published figures */
} clgan_feature_net;
/* The metric whose best value selects the `best` checkpoint. */
typedef enum { CLGAN_METRIC_FID, CLGAN_METRIC_KID, CLGAN_METRIC_PRECISION, CLGAN_METRIC_RECALL } clgan_metric_kind;
const char *clgan_feature_net_name(clgan_feature_net f);
const char *clgan_metric_name(clgan_metric_kind m);
/* FID and KID are better lower, precision and recall higher. */
bool clgan_metric_lower_is_better(clgan_metric_kind m);

/* Evaluation during training: every `every` generator steps (and at the
 * last), `samples` generated images against the first `samples` test
 * images of the run's data set, through the feature network `features`
 * (its file `network`, "" = where it is installed: the Inception weights
 * of clgan_inception_default_path, the classifier of
 * clgan_clf_default_path). */
typedef struct {
    int every;             /* 0 = off */
    int samples;
    clgan_metric_kind metric;
    clgan_feature_net features;
    char network[1024];
} clgan_train_eval;

typedef struct {
    clgan_gan_config gan;
    char dataset[32];      /* fashion-mnist, mnist, idx, cifar10, folder, ring8, grid25 */
    char data_path[1024];  /* "" = the dataset's default location */
    long steps;            /* generator steps */
    double time_limit;     /* seconds; 0 = none */
    int log_every, sample_every, checkpoint_every, keep_checkpoints;
    clgan_on_nan on_nan;
    clgan_train_eval eval;
    char out_dir[1024];
    /* data parallel (gan.dist, not stored): every check_sync steps (0 never) the ranks compare a checksum of
     * their parameters and stop, naming the step, if they differ. Rank 0 alone writes the run folder. */
    int check_sync;
} clgan_run_config;

/* The defaults a user expects for a model/loss pair (see clgan train --help). */
void clgan_run_defaults(clgan_run_config *rc, clgan_model_kind model, clgan_loss_kind loss);
/* Names the dataset and sets the image size and channels it comes in
 * (cifar10 32x32 RGB, folder 64x64 RGB; the others keep the model's). */
/* The hidden width: the DCGAN's feature maps, or each hidden layer of the toy model's default layers */
void clgan_run_set_width(clgan_run_config *rc, int width);
void clgan_run_set_dataset(clgan_run_config *rc, const char *dataset);
/* A published architecture by name, over rc's defaults (clgan_run_defaults):
 *   pacgan  the toy model of the VEEGAN and PacGAN 2-D experiments: G four hidden layers of 400 units
 *           (linear, BatchNorm, ReLU), D three hidden layers of 200 maxout units of 5 pieces, weights
 *           N(0, 0.02), biases 0; for minimax, ns and hinge their optimizer, Adam lr 1e-4, beta1 0.8
 *           (wgan and wgan-gp keep their papers' optimizers); their batch is 100 inputs of D, which
 *           the caller sets as 100 x pack samples (clgan_preset_batch).
 * An unknown name, or one for another model, is an error naming the presets. */
clgan_status clgan_run_preset(clgan_run_config *rc, const char *name);
/* The batch size a preset asks for with rc's packing (0: the preset sets none) */
int clgan_preset_batch(const clgan_run_config *rc, const char *name);
void clgan_run_config_to_json(const clgan_run_config *rc, clgan_jbuf *b);
/* The whole run configuration (clgan_gan_config_check, steps, time limit,
 * intervals); the message names the field. */
clgan_status clgan_run_config_check(const clgan_run_config *rc);
/* Every field is read back; a missing or mistyped field is an error naming
 * it, and the result must pass clgan_run_config_check. */
clgan_status clgan_run_config_from_json(const clgan_json *j, clgan_run_config *rc);

/* The run configuration's fields, one table (src/train/config.c) behind
 * config.json both ways and the CLI's options and the defaults its help shows.
 * A key is the field's JSON path: "batch_size", "model.z_dim", "opt_g.lr". */
typedef enum {
    CLGAN_FIELD_INT,  /* int */
    CLGAN_FIELD_LONG, /* long */
    CLGAN_FIELD_U64,  /* uint64_t */
    CLGAN_FIELD_F32,  /* float */
    CLGAN_FIELD_F64,  /* double */
    CLGAN_FIELD_TEXT, /* char[size] */
    CLGAN_FIELD_ENUM, /* an enum (stored as int) by name */
    CLGAN_FIELD_INTS  /* int[count] with its length (an int) at `size` */
} clgan_field_kind;

typedef struct {
    const char *key;
    clgan_field_kind kind;
    size_t offset;              /* in clgan_run_config */
    size_t size;                /* TEXT: the buffer's size; INTS: the offset of the length */
    double lo, hi;              /* numbers and INTS entries: the bounds a value must lie in */
    const char *(*names)(int);  /* ENUM: the name of value i, NULL past the last */
    int count;                  /* INTS: at most this many */
} clgan_config_field;

/* Every field, in config.json's order. */
const clgan_config_field *clgan_config_fields(int *count);
/* The field of a key, or NULL. */
const clgan_config_field *clgan_config_field_find(const char *key);
/* Sets field f of rc from text (a number, a name, "128,128" for INTS),
 * checked against the field's bounds; `what` ("--lr") names it in the error. */
clgan_status clgan_config_field_parse(clgan_run_config *rc, const clgan_config_field *f, const char *text,
                                      const char *what);
/* Field f of rc as text, in the form clgan_config_field_parse reads;
 * numbers in their shortest exact form (0.0002, 5e-5). */
void clgan_config_field_format(const clgan_run_config *rc, const clgan_config_field *f, char *out, size_t cap);

const char *clgan_model_name(clgan_model_kind k);
const char *clgan_norm_name(clgan_norm_kind k);
/* A DiffAugment policy ("color,translation,cutout", "" or "none") as a set
 * of CLGAN_AUGMENT_* bits; an unknown name is an error naming it. */
enum { CLGAN_AUGMENT_COLOR = 1, CLGAN_AUGMENT_TRANSLATION = 2, CLGAN_AUGMENT_CUTOUT = 4 };
clgan_status clgan_augment_parse(const char *policy, unsigned *mask);
clgan_status clgan_norm_parse(const char *s, clgan_norm_kind *out);
clgan_status clgan_model_parse(const char *s, clgan_model_kind *out);

/* Where a run stands: with the parameters and optimizer state, all a
 * checkpoint needs to continue a run exactly. */
typedef struct {
    uint64_t epoch;  /* data order */
    uint64_t pos;
    uint64_t rollbacks;
    uint64_t best_step;  /* the step of the best evaluation so far (0: none yet) */
    double best_value;   /* its value of the run's eval.metric */
    char best_of[64];    /* what it measured ("fid classifier 1000"): a resume that evaluates otherwise starts afresh */
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
    /* event "eval": the value of the run's eval.metric, whether it is the best so far, the seconds it took */
    double eval_value, eval_s;
    bool eval_best;
    const char *event;         /* "sample", "checkpoint", "eval", "best", "rollback" or NULL */
    const char *event_path;
} clgan_progress;

typedef void (*clgan_progress_fn)(const clgan_progress *p, void *user);

/* Runs (or, with resume, continues) a training run into rc->out_dir:
 * config.json, log.jsonl, samples/, checkpoints/ and `latest`; with
 * rc->eval.every, also `best` (the checkpoint of the best evaluation, kept
 * out of the pruning) and a log line per evaluation. The evaluation's
 * network and real images are opened before anything is written. */
clgan_status clgan_train_run(const clgan_run_config *rc, clgan_device *d, bool resume, clgan_progress_fn fn,
                             void *user);
/* Asks a running clgan_train_run to stop after the step it is in, writing
 * samples, a checkpoint and `latest` as at its last step; it then returns
 * CLGAN_OK. Async-signal-safe (it sets a flag): a SIGINT or SIGTERM handler
 * calls it. The request holds until a run sees it; clgan_train_stopped says
 * whether the last run ended by one. */
void clgan_train_request_stop(void);
bool clgan_train_stopped(void);
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

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
