/* clgan train: option parsing, the progress display, and the run. */
#include "cli/cli.h"

#include "clgan/dist.h"
#include "clgan/eval.h"
#include "clgan/train.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    bool tty;
    bool quiet;
    /* the evaluation's, for its lines */
    clgan_metric_kind metric;
    clgan_feature_net features;
    int samples;
} progress_state;

static void on_progress(const clgan_progress *p, void *user) {
    progress_state *ps = user;
    if (ps->quiet) return;
    if (p->event) {
        if (ps->tty) fputs("\r\033[K", stderr);
        if (strcmp(p->event, "rollback") == 0)
            fprintf(stderr, "clgan: NaN/Inf: rolled back to %s (step %ld), learning rates halved\n", p->event_path,
                    p->step);
        else if (strcmp(p->event, "eval") == 0)
            fprintf(stderr, "clgan: step %ld: %s %.6g (%s features, %d images, %.1f s)%s\n", p->step,
                    clgan_metric_name(ps->metric), p->eval_value, clgan_feature_net_name(ps->features), ps->samples,
                    p->eval_s, p->eval_best ? ", the best so far" : "");
        else if (strcmp(p->event, "best") == 0)
            fprintf(stderr, "clgan: step %ld: best -> %s\n", p->step, p->event_path);
        else
            fprintf(stderr, "clgan: step %ld: wrote %s\n", p->step, p->event_path);
        return;
    }
    char eta[32];
    cli_format_duration(p->eta_s, eta, sizeof eta);
    const clgan_step_stats *s = &p->stats;
    if (ps->tty) {
        int width = 24, done = p->steps > 0 ? (int)((double)p->step / (double)p->steps * width) : 0;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < done ? '#' : '.';
        bar[width] = 0;
        fprintf(stderr, "\r\033[K[%s] %ld/%ld  loss_d %.3f  loss_g %.3f  D(x) %.3f  D(G(z)) %.3f  %.0f img/s  ETA %s", bar,
                p->step, p->steps, s->loss_d, s->loss_g, s->d_real, s->d_fake, p->images_per_s, eta);
        if (p->step >= p->steps) fputc('\n', stderr);
    } else if (p->logged) {
        fprintf(stderr, "step %ld/%ld epoch %llu loss_d %.4f loss_g %.4f D(x) %.4f D(G(z)) %.4f gp %.4f r1 %.4f |g_d| %.3g |g_g| %.3g %.1f img/s ETA %s\n",
                p->step, p->steps, (unsigned long long)p->epoch, s->loss_d, s->loss_g, s->d_real, s->d_fake,
                s->penalty, s->r1, s->grad_norm_d, s->grad_norm_g, p->images_per_s, eta);
    }
}

/* The options of clgan train. Those with fields set the run configuration
 * through the library's field table, which gives their parser, bounds and
 * shown default; the others the command reads below. */
static const cli_field_opt train_opts[] = {
    {"model", "M", NULL, "dcgan", "mlp, dcgan, or toy (the MLP for ring8/grid25, and their default)", true, NULL},
    {"loss", "L", NULL, "ns", "minimax, ns (non-saturating), wgan, wgan-gp, hinge", true, NULL},
    {"dataset", "D", NULL, "fashion-mnist (toy ring8)", "fashion-mnist, mnist, idx, cifar10, folder, ring8, grid25", true, NULL},
    {"data", "PATH", "data_path", NULL, "where the dataset is (default: its standard place; see datasets/README.md)", true, NULL},
    {"steps", "N", NULL, "2000 (10000 with no arguments)", "generator steps", false, NULL},
    {"batch-size", "B", "batch_size", NULL, "samples per batch (under mpirun: the global batch, split over the "
     "processes)", true, NULL},
    {"seed", "S", "seed", NULL, "seeds parameters, noise and data order", true, NULL},
    {"out", "DIR", NULL, "runs/MODEL-DATASET-LOSS", "the run folder", true, NULL},
    {"resume", "DIR", NULL, NULL, "continue the run in DIR from its latest checkpoint", false, NULL},
    {"image-size", "S", "model.image_size", NULL, "image side; DCGAN: 28, 32 or 64", true, NULL},
    {"channels", "C", "model.channels", NULL, "1 (gray) or 3 (RGB)", true, NULL},
    {"z-dim", "N", "model.z_dim", NULL, "latent dimension", true, NULL},
    {"width", "N", "model.width", NULL, "DCGAN feature maps (ngf = ndf), toy hidden units (of each layer)", true, NULL},
    {"widths", "LIST", "model.widths", "other toy runs: two of --width", "MLP (and toy) generator hidden widths, D takes them reversed", true, NULL},
    {"preset", "NAME", NULL, NULL, "a published architecture over the defaults: pacgan (--model toy: the "
     "VEEGAN/PacGAN 2-D networks, G 4 x 400 with BatchNorm, D 3 x 200 maxout units of 5 pieces, weights N(0, "
     "0.02); Adam lr 1e-4, beta1 0.8 for minimax, ns and hinge; a batch of 100 inputs of D, 100 x --pack "
     "samples). The other options change it", true, NULL},
    {"pack", "M", "arch.pack", "1: none", "PacGAN packing: D judges M samples at a time, concatenated (images: "
     "along the channels), real with real and generated with generated; --batch-size counts samples and must be "
     "a multiple of M", true, NULL},
    {"d-widths", "LIST", "arch.d_widths", "=--widths reversed", "MLP and toy discriminator hidden widths", true, NULL},
    {"maxout", "K", "arch.maxout", "0: LeakyReLU(0.2)", "MLP and toy discriminator: maxout hidden units of K linear "
     "pieces each", true, NULL},
    {"g-batchnorm", NULL, "arch.g_batchnorm", NULL, "MLP and toy generator: BatchNorm after each hidden linear layer "
     "(which then has no bias)", true, "1"},
    {"normal-init", NULL, "arch.normal_init", "the DCGAN's N(0, 0.02), PyTorch's default for the others",
     "weights N(0, 0.02) and biases 0 for every model", true, "1"},
    {"conditional", NULL, "model.classes", NULL, "condition G and D on the class label (10 classes)", true, "10"},
    {"d-norm", "N", "model.d_norm", NULL, "discriminator normalisation: batch, layer, none, or spectral (no "
     "normalisation layer; each D weight divided by its largest singular value, one power iteration per call, "
     "as torch.nn.utils.spectral_norm)", true, NULL},
    {"optimizer", "O", "opt_g.kind opt_d.kind", NULL, "adam, sgd, rmsprop (both networks)", true, NULL},
    {"lr", "X", "opt_g.lr opt_d.lr", NULL, "learning rate of both networks", true, NULL},
    {"lr-g", "X", "opt_g.lr", "=--lr's", "generator learning rate", true, NULL},
    {"lr-d", "X", "opt_d.lr", "=--lr's", "discriminator learning rate", true, NULL},
    {"beta1", "X", "opt_g.beta1 opt_d.beta1", NULL, "Adam beta1", true, NULL},
    {"beta2", "X", "opt_g.beta2 opt_d.beta2", NULL, "Adam beta2", true, NULL},
    {"momentum", "X", "opt_g.momentum opt_d.momentum", NULL, "SGD momentum", true, NULL},
    {"lr-schedule", "S", "lr_schedule.kind", NULL, "constant; linear (from --lr-decay-start down to x factor at the last step); step (x factor from --lr-decay-start on)", true, NULL},
    {"lr-decay-start", "N", NULL, "0 (linear), steps/2 (step)", "generator step where the decay begins", true, NULL},
    {"lr-decay-factor", "F", NULL, "0 (linear), 0.1 (step)", "the final factor on both learning rates", true, NULL},
    {"n-critic", "N", "n_critic", NULL, "discriminator steps per generator step", true, NULL},
    {"gp-lambda", "X", "gp_lambda", NULL, "gradient-penalty weight", true, NULL},
    {"gp-phase-steps", "N", "gp_phase_steps", NULL, "use the gradient penalty for the first N steps only, then the loss without it", true, NULL},
    {"r1", "GAMMA", "r1.gamma", "0: off", "R1 penalty on real data, GAMMA/2 E||grad_x D(x)||^2 in D's loss (e.g. 10; "
     "StyleGAN2 scales it with image size)", true, NULL},
    {"r1-every", "K", "r1.every", NULL, "lazy regularisation: the R1 term on every K-th D step only, times K (StyleGAN2: "
     "16)", true, NULL},
    {"augment", "P", "augment.policy", "none", "DiffAugment: color, translation and/or cutout, comma-separated "
     "(the paper's policy: color,translation,cutout), on every image D sees, real and generated, in both steps",
     true, NULL},
    {"weight-clip", "C", "weight_clip", NULL, "WGAN weight clipping to [-C, C]", true, NULL},
    {"clip-grad", "X", "clip_grad", "off", "clip each network's global gradient norm to X", true, NULL},
    {"g-ema", "DECAY", "ema.decay", "0: off", "also keep an exponential moving average of G's weights with this decay "
     "in (0, 1), e.g. 0.999 (warm-up: min(DECAY, (1+t)/(10+t)) at step t); the sample grids, evaluation, sample, eval, "
     "interpolate and inpaint use it (--no-ema: G's own)", true, NULL},
    {"log-every", "N", "log_every", NULL, "steps between log lines", false, NULL},
    {"sample-every", "N", "sample_every", "0: at the end only", "steps between sample grids", false, NULL},
    {"checkpoint-every", "N", "checkpoint_every", "0: at the end only", "steps between checkpoints", false, NULL},
    {"keep-checkpoints", "K", "keep_checkpoints", NULL, "checkpoints kept", false, NULL},
    {"on-nan", "A", "on_nan", NULL, "stop, or rollback (to the last checkpoint, halving the learning rates)", false, NULL},
    {"time-limit", "SEC", "time_limit", "none; 600 with no arguments", "stop after this long, writing samples and a checkpoint", false, NULL},
    {"eval-every", "N", "eval.every", "0: off", "evaluate the generator every N steps and at the last: FID, KID and "
     "precision/recall go to log.jsonl, and `best` links the checkpoint of the best --eval-metric", false, NULL},
    {"eval-samples", "N", "eval.samples", NULL, "images generated per evaluation, against as many of the data set's "
     "test images (published figures use 50000: compare at equal counts)", false, NULL},
    {"eval-metric", "M", "eval.metric", NULL, "fid, kid, precision or recall: the one `best` follows", false, NULL},
    {"eval-features", "F", "eval.features", "=inception for RGB data when its weights are installed, else classifier",
     "the feature network: inception (Inception-v3, comparable with published figures) or classifier (clgan's own, "
     "made by clgan train-classifier)", false, NULL},
    {"eval-network", "FILE", "eval.network", "=where datasets/fetch.sh inception or clgan train-classifier put it",
     "the Inception weights or the classifier file", false, NULL},
};
enum { N_TRAIN_OPTS = sizeof train_opts / sizeof train_opts[0] };

/* A new run's configuration: the defaults of its model, loss and dataset,
 * then the given options. */
static int new_run(const cli_command *c, bool no_args, clgan_run_config *run) {
    clgan_model_kind model;
    clgan_loss_kind loss;
    clgan_status st;
    /* 2-D point sets take the toy model: by default, and a clear error when another is asked for */
    const char *ds_given = cli_given(c, "dataset") ? cli_get(c, "dataset") : NULL;
    bool points = ds_given && (strcmp(ds_given, "ring8") == 0 || strcmp(ds_given, "grid25") == 0);
    if (points && cli_given(c, "model") && strcmp(cli_get(c, "model"), "toy") != 0) {
        fprintf(stderr, "clgan train: --dataset %s is 2-D points, which only --model toy trains (not %s)\n", ds_given,
                cli_get(c, "model"));
        return CLI_USAGE;
    }
    if ((st = clgan_model_parse(points ? "toy" : cli_get(c, "model"), &model)) != CLGAN_OK ||
        (st = clgan_loss_parse(cli_get(c, "loss"), &loss)) != CLGAN_OK) {
        fprintf(stderr, "clgan train: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    clgan_run_defaults(run, model, loss);
    if (ds_given) clgan_run_set_dataset(run, ds_given);
    const char *preset = cli_given(c, "preset") ? cli_get(c, "preset") : NULL;
    if (preset && clgan_run_preset(run, preset) != CLGAN_OK) {
        fprintf(stderr, "clgan train: --preset: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    if (cli_fields_apply(c, train_opts, N_TRAIN_OPTS, run) != CLI_OK) return CLI_USAGE;
    clgan_gan_config *g = &run->gan;
    if (cli_given(c, "width") && !cli_given(c, "widths")) clgan_run_set_width(run, g->model.width);
    if (preset && !cli_given(c, "batch-size")) g->batch = clgan_preset_batch(run, preset);
    if (g->gp_phase_steps > 0 && g->gp_lambda <= 0) { /* a penalty phase on another loss: wgan-gp's weight */
        clgan_run_config gp;
        clgan_run_defaults(&gp, model, CLGAN_LOSS_WGAN_GP);
        g->gp_lambda = gp.gan.gp_lambda;
    }
    long v;
    g->lr_schedule.start = -1; /* its default depends on --steps */
    if (cli_given(c, "lr-decay-start")) {
        if (cli_get_long(c, "lr-decay-start", 0, 1L << 40, &v) != CLI_OK) return CLI_USAGE;
        g->lr_schedule.start = v;
    }
    g->lr_schedule.factor = g->lr_schedule.kind == CLGAN_LR_STEP ? 0.1f : 0.0f;
    if (cli_given(c, "lr-decay-factor") && cli_get_float(c, "lr-decay-factor", &g->lr_schedule.factor) != CLI_OK)
        return CLI_USAGE;
    if (!(g->lr_schedule.factor >= 0 && g->lr_schedule.factor <= 1)) {
        fprintf(stderr, "clgan train: --lr-decay-factor %g: expected a number in [0, 1]\n", (double)g->lr_schedule.factor);
        return CLI_USAGE;
    }
    if (cli_given(c, "out"))
        snprintf(run->out_dir, sizeof run->out_dir, "%s", cli_get(c, "out"));
    else
        snprintf(run->out_dir, sizeof run->out_dir, "runs/%s-%s-%s", clgan_model_name(model), run->dataset,
                 clgan_loss_name(loss));
    if (no_args) { /* the main job: as many steps as 10 minutes allow, up to 10000 */
        run->time_limit = 600;
        run->steps = 10000;
    }
    return CLI_OK;
}

/* The learning-rate schedule fixed against the steps when the run starts */
static int fix_schedule(const cli_command *c, clgan_run_config *run) {
    clgan_lr_schedule *ls = &run->gan.lr_schedule;
    if (ls->start < 0) ls->start = ls->kind == CLGAN_LR_STEP ? run->steps / 2 : 0;
    ls->end = ls->kind == CLGAN_LR_LINEAR ? run->steps : 0;
    if (ls->kind != CLGAN_LR_CONSTANT && ls->start > run->steps) {
        fprintf(stderr, "clgan train: --lr-decay-start %ld is past the last step (--steps %ld)\n", ls->start, run->steps);
        return CLI_USAGE;
    }
    if (ls->kind == CLGAN_LR_CONSTANT) {
        if (cli_given(c, "lr-decay-start") || cli_given(c, "lr-decay-factor")) {
            fprintf(stderr, "clgan train: --lr-decay-start and --lr-decay-factor need --lr-schedule linear or step\n");
            return CLI_USAGE;
        }
        ls->start = 0;
        ls->factor = 0;
    }
    return CLI_OK;
}

/* The evaluation's feature network when none is named: Inception for RGB
 * data when its weights are installed (or named), else the classifier, as
 * clgan eval chooses */
static void default_eval_features(const cli_command *c, clgan_run_config *run) {
    if (cli_given(c, "eval-features") || run->eval.every <= 0) return;
    run->eval.features = clgan_default_feature_net(&run->gan.model, run->eval.network);
}

/* SIGINT and SIGTERM: the first finishes the step, then the run writes its
 * checkpoint and stops; a second one quits at once (the checkpoints on disk,
 * written atomically, stay whole) */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) {
    if (stop_signal) _exit(128 + sig);
    stop_signal = sig;
    clgan_train_request_stop();
    static const char msg[] = "\nclgan: stopping after this step, writing a checkpoint (again to quit at once)\n";
    ssize_t n = write(2, msg, sizeof msg - 1);
    (void)n;
}

static void catch_stop_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cmd_train(int argc, char **argv) {
    cli_opt opts[N_TRAIN_OPTS + 16] = {{0}};
    static char defs[N_TRAIN_OPTS][CLI_DEF_CAP];
    cli_fields_opts(train_opts, N_TRAIN_OPTS, opts, defs);
    const cli_opt device_opts[] = {CLI_DEVICE_OPTS};
    int nopts = N_TRAIN_OPTS;
    for (size_t i = 0; i < sizeof device_opts / sizeof device_opts[0]; i++) opts[nopts++] = device_opts[i];
    opts[nopts++] = (cli_opt){"sync-bn", NULL, NULL, NULL,
                              "under mpirun: BatchNorm statistics over the global batch (its sums all-reduced in "
                              "every BatchNorm, forward and backward) rather than each process's part, as "
                              "PyTorch's SyncBatchNorm", NULL, false};
    opts[nopts++] = (cli_opt){"check-sync", "N", NULL, "0: never",
                              "under mpirun: every N steps compare a checksum of the parameters across the "
                              "processes, stopping with an error naming the step if they differ", NULL, false};
    cli_command c = {"train",
                     "Train a GAN. With no arguments: a DCGAN on Fashion-MNIST (from the Debian package "
                     "dataset-fashion-mnist) on the default device for at most 10 minutes, writing sample grids to "
                     "runs/dcgan-fashion-mnist-ns/samples/.",
                     "[--model M] [--loss L] [--dataset D] [--steps N] [--out DIR] [--resume DIR] ...", opts, nopts};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    clgan_run_config run;
    const char *resume = cli_get(&c, "resume");
    clgan_status st;
    if (resume) {
        if (cli_fields_refuse(&c, train_opts, N_TRAIN_OPTS,
                              "cannot change on --resume: the run's configuration comes from its checkpoint") != CLI_OK)
            return CLI_USAGE;
        char ckpt[1400];
        st = clgan_run_latest(resume, ckpt, sizeof ckpt);
        if (st == CLGAN_OK) st = clgan_checkpoint_config(ckpt, &run);
        if (st != CLGAN_OK) return cli_fail(st);
        snprintf(run.out_dir, sizeof run.out_dir, "%s", resume);
        /* how long to go on, and the evaluation, may change */
        bool evaluated = run.eval.every > 0;
        if (cli_fields_apply(&c, train_opts, N_TRAIN_OPTS, &run) != CLI_OK) return CLI_USAGE;
        if (!evaluated) default_eval_features(&c, &run);
    } else if ((rc = new_run(&c, argc == 1, &run)) != CLI_OK) {
        return rc;
    } else {
        default_eval_features(&c, &run);
    }
    long v;
    if (cli_given(&c, "steps")) {
        if (cli_get_long(&c, "steps", 1, 1L << 40, &v) != CLI_OK) return CLI_USAGE;
        run.steps = v;
    }
    if (!resume && fix_schedule(&c, &run) != CLI_OK) return CLI_USAGE;
    const clgan_lr_schedule *ls = &run.gan.lr_schedule;
    if (resume && ls->kind == CLGAN_LR_LINEAR && run.steps > ls->end) /* the schedule is the checkpoint's */
        clgan_log(CLGAN_LOG_WARN, "the run's learning rates decay linearly to x%g at step %ld; its steps %ld-%ld "
                  "train at that rate", (double)ls->factor, ls->end, ls->end + 1, run.steps);
    /* the whole GAN configuration, before a device is opened or a folder made */
    st = clgan_gan_config_check(&run.gan);
    if (st == CLGAN_OK && run.eval.every > 0 && run.gan.model.kind == CLGAN_MODEL_TOY)
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "--eval-every: the toy model makes 2-D points; clgan eval measures their "
                       "mode coverage");
    if (st != CLGAN_OK) {
        fprintf(stderr, "clgan train: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    if (cli_given(&c, "check-sync")) {
        if (cli_get_long(&c, "check-sync", 0, 1L << 30, &v) != CLI_OK) return CLI_USAGE;
        run.check_sync = (int)v;
    }
    /* several processes under mpirun: each its own device and part of every batch (include/clgan/dist.h) */
    clgan_dist *dist = NULL;
    if ((st = clgan_dist_init(&dist)) != CLGAN_OK) return cli_fail(st);
    int ranks = clgan_dist_size(dist), rank = clgan_dist_rank(dist);
    if (ranks > 1) {
        snprintf(cli_rank_label, sizeof cli_rank_label, "rank %d of %d (%.24s): ", rank, ranks, clgan_dist_host(dist));
        if (run.gan.batch < ranks) { /* the same on every rank: all refuse */
            fprintf(stderr, "clgan train: --batch-size %d over %d processes: expected at least %d (one sample each)\n",
                    run.gan.batch, ranks, ranks);
            clgan_dist_finalize(dist);
            return CLI_USAGE;
        }
        run.gan.dist = dist;
        run.gan.sync_bn = cli_flag(&c, "sync-bn");
    }
    clgan_device *d = NULL;
    rc = ranks > 1 ? cli_open_device_nth(&c, clgan_dist_local_rank(dist), &d) : cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) {
        if (ranks > 1) clgan_dist_abort(dist, rc ? rc : CLI_FAIL); /* a rank without a device ends the job */
        clgan_dist_finalize(dist);
        return rc;
    }
    clgan_log(CLGAN_LOG_INFO, "%s %s run: %s on %s, %ld steps of batch %d%s into %s", resume ? "continuing" : "starting",
              clgan_model_name(run.gan.model.kind), clgan_loss_name(run.gan.loss), run.dataset, run.steps, run.gan.batch,
              run.time_limit > 0 ? " (time-limited)" : "", run.out_dir);
    progress_state ps = {.tty = isatty(2) != 0, .quiet = cli_flag(&c, "quiet") || rank > 0,
                         .metric = run.eval.metric, .features = run.eval.features, .samples = run.eval.samples};
    catch_stop_signals();
    st = clgan_train_run(&run, d, resume != NULL, on_progress, &ps);
    if (ps.tty && !ps.quiet) fputs("\n", stderr);
    clgan_device_close(d);
    if (st != CLGAN_OK) {
        rc = cli_fail(st);
        if (ranks > 1) clgan_dist_abort(dist, rc); /* the others would wait for this rank forever */
        clgan_dist_finalize(dist);
        return rc;
    }
    clgan_dist_finalize(dist);
    if (clgan_train_stopped()) { /* 128 + the signal, as a shell reports a process it stopped */
        fprintf(stderr, "clgan: stopped by %s; checkpoint in %s/latest; continue with clgan train --resume %s\n",
                stop_signal == SIGTERM ? "SIGTERM" : "SIGINT", run.out_dir, run.out_dir);
        return 128 + (stop_signal ? (int)stop_signal : SIGINT);
    }
    if (!ps.quiet) fprintf(stderr, "clgan: done; samples in %s/samples, checkpoints in %s/checkpoints\n", run.out_dir, run.out_dir);
    return CLI_OK;
}
