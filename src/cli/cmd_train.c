/* clgan train: option parsing, the progress display, and the run. */
#include "cli/cli.h"

#include "clgan/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    bool tty;
    bool quiet;
} progress_state;

static void fmt_time(double s, char *out, size_t cap) {
    if (!(s >= 0) || s > 360000) {
        snprintf(out, cap, "--");
        return;
    }
    long t = (long)s;
    if (t >= 3600)
        snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
}

static void on_progress(const clgan_progress *p, void *user) {
    progress_state *ps = user;
    if (ps->quiet) return;
    if (p->event) {
        if (ps->tty) fputs("\r\033[K", stderr);
        if (strcmp(p->event, "rollback") == 0)
            fprintf(stderr, "clgan: NaN/Inf: rolled back to %s (step %ld), learning rates halved\n", p->event_path,
                    p->step);
        else
            fprintf(stderr, "clgan: step %ld: wrote %s\n", p->step, p->event_path);
        return;
    }
    char eta[32];
    fmt_time(p->eta_s, eta, sizeof eta);
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
        fprintf(stderr, "step %ld/%ld epoch %llu loss_d %.4f loss_g %.4f D(x) %.4f D(G(z)) %.4f gp %.4f |g_d| %.3g |g_g| %.3g %.1f img/s ETA %s\n",
                p->step, p->steps, (unsigned long long)p->epoch, s->loss_d, s->loss_g, s->d_real, s->d_fake,
                s->penalty, s->grad_norm_d, s->grad_norm_g, p->images_per_s, eta);
    }
}

static int parse_widths(const char *s, clgan_model_config *m) {
    m->n_widths = 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > (1 << 20) || m->n_widths == CLGAN_MAX_WIDTHS) {
            fprintf(stderr, "clgan train: --widths %s: expected up to %d comma-separated positive integers\n", s,
                    CLGAN_MAX_WIDTHS);
            return CLI_USAGE;
        }
        m->widths[m->n_widths++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return CLI_USAGE;
    }
    return CLI_OK;
}

/* options that define the run, which a resumed run takes from its checkpoint */
/* integer and float options into config fields, when given */
#define INT_OPT(name, lo, hi, dst)                                           \
    if (cli_given(&c, name)) {                                               \
        if (cli_get_long(&c, name, lo, hi, &v) != CLI_OK) return CLI_USAGE; \
        dst = (int)v;                                                        \
    }
#define NUM_OPT(name, dst)                                                   \
    if (cli_given(&c, name)) {                                               \
        if (cli_get_float(&c, name, &dst) != CLI_OK) return CLI_USAGE;       \
    }

static const char *const run_defining[] = {"out", "model", "loss", "dataset", "data", "batch-size", "seed", "image-size",
                                           "channels", "z-dim", "width", "widths", "conditional", "d-norm",
                                           "optimizer", "lr", "lr-g", "lr-d", "beta1", "beta2", "momentum",
                                           "n-critic", "gp-lambda", "gp-phase-steps", "weight-clip", "clip-grad",
                                           "lr-schedule", "lr-decay-start", "lr-decay-factor"};

int cmd_train(int argc, char **argv) {
    cli_opt opts[] = {
        {"model", "M", NULL, "dcgan", "mlp, dcgan, or toy (the MLP for ring8/grid25, and their default)", NULL, false},
        {"loss", "L", NULL, "ns", "minimax, ns (non-saturating), wgan, wgan-gp, hinge", NULL, false},
        {"dataset", "D", NULL, "fashion-mnist", "fashion-mnist, mnist, idx, cifar10, folder, ring8, grid25", NULL, false},
        {"data", "PATH", NULL, NULL, "where the dataset is (default: its standard place; see datasets/README.md)", NULL, false},
        {"steps", "N", NULL, "2000 (10000 with no arguments)", "generator steps", NULL, false},
        {"batch-size", "B", NULL, "64 (256 for toy)", "samples per batch", NULL, false},
        {"seed", "S", NULL, "1", "seeds parameters, noise and data order", NULL, false},
        {"out", "DIR", NULL, "runs/MODEL-DATASET-LOSS", "the run folder", NULL, false},
        {"resume", "DIR", NULL, NULL, "continue the run in DIR from its latest checkpoint", NULL, false},
        {"image-size", "S", NULL, "28 (32 for cifar10, 64 for folder)", "image side; DCGAN: 28, 32 or 64", NULL, false},
        {"channels", "C", NULL, "the dataset's", "1 (gray) or 3 (RGB)", NULL, false},
        {"z-dim", "N", NULL, "100 (2 for toy)", "latent dimension", NULL, false},
        {"width", "N", NULL, "64 (128 for toy)", "DCGAN feature maps (ngf = ndf), toy hidden units", NULL, false},
        {"widths", "LIST", NULL, "128,128,1024,1024", "MLP (and toy) generator hidden widths, D takes them reversed; the toy default is two of --width", NULL, false},
        {"conditional", NULL, NULL, NULL, "condition G and D on the class label", NULL, false},
        {"d-norm", "N", NULL, "batch (layer for wgan-gp)", "discriminator normalisation: batch, layer, none", NULL, false},
        {"optimizer", "O", NULL, "adam (rmsprop for wgan)", "adam, sgd, rmsprop (both networks)", NULL, false},
        {"lr", "X", NULL, "2e-4 (wgan 5e-5, wgan-gp 1e-4)", "learning rate of both networks", NULL, false},
        {"lr-g", "X", NULL, NULL, "generator learning rate", NULL, false},
        {"lr-d", "X", NULL, NULL, "discriminator learning rate", NULL, false},
        {"beta1", "X", NULL, "0.5 (0 for wgan-gp)", "Adam beta1", NULL, false},
        {"beta2", "X", NULL, "0.999 (0.9 for wgan-gp)", "Adam beta2", NULL, false},
        {"momentum", "X", NULL, "0.9", "SGD momentum", NULL, false},
        {"lr-schedule", "S", NULL, "constant", "constant; linear (from --lr-decay-start down to x factor at the last step); step (x factor from --lr-decay-start on)", NULL, false},
        {"lr-decay-start", "N", NULL, "0 (linear), steps/2 (step)", "generator step where the decay begins", NULL, false},
        {"lr-decay-factor", "F", NULL, "0 (linear), 0.1 (step)", "the final factor on both learning rates", NULL, false},
        {"n-critic", "N", NULL, "1 (5 for wgan, wgan-gp)", "discriminator steps per generator step", NULL, false},
        {"gp-lambda", "X", NULL, "10 for wgan-gp (0.1 for toy)", "gradient-penalty weight", NULL, false},
        {"gp-phase-steps", "N", NULL, "0", "use the gradient penalty for the first N steps only, then the loss without it", NULL, false},
        {"weight-clip", "C", NULL, "0.01 for wgan", "WGAN weight clipping to [-C, C]", NULL, false},
        {"clip-grad", "X", NULL, "0 (off)", "clip each network's global gradient norm to X", NULL, false},
        {"log-every", "N", NULL, "50", "steps between log lines", NULL, false},
        {"sample-every", "N", NULL, "500", "steps between sample grids (0: at the end only)", NULL, false},
        {"checkpoint-every", "N", NULL, "1000", "steps between checkpoints (0: at the end only)", NULL, false},
        {"keep-checkpoints", "K", NULL, "3", "checkpoints kept", NULL, false},
        {"on-nan", "A", NULL, "stop", "stop, or rollback (to the last checkpoint, halving the learning rates)", NULL, false},
        {"time-limit", "SEC", NULL, "0 (none; 600 with no arguments)", "stop after this long, writing samples and a checkpoint", NULL, false},
        CLI_DEVICE_OPTS};
    cli_command c = {"train",
                     "Train a GAN. With no arguments: a DCGAN on Fashion-MNIST (from the Debian package "
                     "dataset-fashion-mnist) on the default device for at most 10 minutes, writing sample grids to "
                     "runs/dcgan-fashion-mnist-ns/samples/.",
                     "[--model M] [--loss L] [--dataset D] [--steps N] [--out DIR] [--resume DIR] ...", opts,
                     (int)(sizeof opts / sizeof opts[0])};
    bool help;
    int rc = cli_parse(&c, argc, argv, &help);
    if (rc != CLI_OK || help) return rc;
    cli_apply_verbosity(&c);
    bool no_args = argc == 1;
    clgan_run_config run;
    const char *resume = cli_get(&c, "resume");
    clgan_status st;
    if (resume) {
        for (size_t i = 0; i < sizeof run_defining / sizeof run_defining[0]; i++)
            for (int k = 0; k < c.nopts; k++)
                if (strcmp(c.opts[k].name, run_defining[i]) == 0 && c.opts[k].given) {
                    fprintf(stderr, "clgan train: --%s cannot change on --resume: the run's configuration comes from its checkpoint\n",
                            run_defining[i]);
                    return CLI_USAGE;
                }
        char ckpt[1400];
        st = clgan_run_latest(resume, ckpt, sizeof ckpt);
        if (st == CLGAN_OK) st = clgan_checkpoint_config(ckpt, &run);
        if (st != CLGAN_OK) return cli_fail(st);
        snprintf(run.out_dir, sizeof run.out_dir, "%s", resume);
    } else {
        clgan_model_kind model;
        clgan_loss_kind loss;
        /* 2-D point sets take the toy model: by default, and a clear error when another is asked for */
        const char *ds_given = cli_given(&c, "dataset") ? cli_get(&c, "dataset") : NULL;
        bool points = ds_given && (strcmp(ds_given, "ring8") == 0 || strcmp(ds_given, "grid25") == 0);
        if (points && cli_given(&c, "model") && strcmp(cli_get(&c, "model"), "toy") != 0) {
            fprintf(stderr, "clgan train: --dataset %s is 2-D points, which only --model toy trains (not %s)\n",
                    ds_given, cli_get(&c, "model"));
            return CLI_USAGE;
        }
        if ((st = clgan_model_parse(points ? "toy" : cli_get(&c, "model"), &model)) != CLGAN_OK ||
            (st = clgan_loss_parse(cli_get(&c, "loss"), &loss)) != CLGAN_OK) {
            fprintf(stderr, "clgan train: %s\n", clgan_last_error());
            return CLI_USAGE;
        }
        clgan_run_defaults(&run, model, loss);
        clgan_gan_config *g = &run.gan;
        clgan_model_config *m = &g->model;
        /* the toy model's default data is ring8 */
        const char *ds = model == CLGAN_MODEL_TOY && !cli_given(&c, "dataset") ? "ring8" : cli_get(&c, "dataset");
        snprintf(run.dataset, sizeof run.dataset, "%s", ds);
        if (strcmp(ds, "cifar10") == 0) {
            m->channels = 3;
            m->image_size = 32;
        } else if (strcmp(ds, "folder") == 0) {
            m->channels = 3;
            m->image_size = 64;
        }
        if (cli_get(&c, "data")) snprintf(run.data_path, sizeof run.data_path, "%s", cli_get(&c, "data"));
        long v;
        INT_OPT("batch-size", 1, 1 << 16, g->batch)
        if (cli_given(&c, "seed")) {
            if (cli_get_long(&c, "seed", 0, 0x7fffffffffffffffL, &v) != CLI_OK) return CLI_USAGE;
            g->seed = (uint64_t)v;
        }
        INT_OPT("image-size", 1, 1024, m->image_size)
        INT_OPT("channels", 1, 3, m->channels)
        INT_OPT("z-dim", 1, 1 << 16, m->z_dim)
        INT_OPT("width", 1, 1 << 16, m->width)
        if (cli_given(&c, "widths") && parse_widths(cli_get(&c, "widths"), m) != CLI_OK) return CLI_USAGE;
        if (cli_flag(&c, "conditional")) m->classes = 10;
        if (cli_given(&c, "d-norm")) {
            const char *n = cli_get(&c, "d-norm");
            if (strcmp(n, "batch") == 0) m->d_norm = CLGAN_NORM_BATCH;
            else if (strcmp(n, "layer") == 0) m->d_norm = CLGAN_NORM_LAYER;
            else if (strcmp(n, "none") == 0) m->d_norm = CLGAN_NORM_NONE;
            else {
                fprintf(stderr, "clgan train: --d-norm %s: expected batch, layer or none\n", n);
                return CLI_USAGE;
            }
        }
        if (cli_given(&c, "optimizer")) {
            if ((st = clgan_opt_parse(cli_get(&c, "optimizer"), &g->opt_g.kind)) != CLGAN_OK) {
                fprintf(stderr, "clgan train: %s\n", clgan_last_error());
                return CLI_USAGE;
            }
            g->opt_d.kind = g->opt_g.kind;
        }
        NUM_OPT("lr", g->opt_g.lr)
        if (cli_given(&c, "lr")) g->opt_d.lr = g->opt_g.lr;
        NUM_OPT("lr-g", g->opt_g.lr)
        NUM_OPT("lr-d", g->opt_d.lr)
        NUM_OPT("beta1", g->opt_g.beta1)
        NUM_OPT("beta1", g->opt_d.beta1)
        NUM_OPT("beta2", g->opt_g.beta2)
        NUM_OPT("beta2", g->opt_d.beta2)
        NUM_OPT("momentum", g->opt_g.momentum)
        NUM_OPT("momentum", g->opt_d.momentum)
        INT_OPT("n-critic", 1, 1000, g->n_critic)
        NUM_OPT("gp-lambda", g->gp_lambda)
        INT_OPT("gp-phase-steps", 0, 1 << 30, g->gp_phase_steps)
        if (g->gp_phase_steps > 0 && g->gp_lambda <= 0) { /* a penalty phase on another loss: wgan-gp's weight */
            clgan_run_config gp;
            clgan_run_defaults(&gp, model, CLGAN_LOSS_WGAN_GP);
            g->gp_lambda = gp.gan.gp_lambda;
        }
        if (cli_given(&c, "lr-schedule") &&
            (st = clgan_lr_schedule_parse(cli_get(&c, "lr-schedule"), &g->lr_schedule.kind)) != CLGAN_OK) {
            fprintf(stderr, "clgan train: --lr-schedule: %s\n", clgan_last_error());
            return CLI_USAGE;
        }
        g->lr_schedule.start = -1; /* its default depends on --steps */
        if (cli_given(&c, "lr-decay-start")) {
            if (cli_get_long(&c, "lr-decay-start", 0, 1L << 40, &v) != CLI_OK) return CLI_USAGE;
            g->lr_schedule.start = v;
        }
        g->lr_schedule.factor = g->lr_schedule.kind == CLGAN_LR_STEP ? 0.1f : 0.0f;
        NUM_OPT("lr-decay-factor", g->lr_schedule.factor)
        if (!(g->lr_schedule.factor >= 0 && g->lr_schedule.factor <= 1)) {
            fprintf(stderr, "clgan train: --lr-decay-factor %g: expected a number in [0, 1]\n",
                    (double)g->lr_schedule.factor);
            return CLI_USAGE;
        }
        NUM_OPT("weight-clip", g->weight_clip)
        NUM_OPT("clip-grad", g->clip_grad)
        if (cli_given(&c, "out"))
            snprintf(run.out_dir, sizeof run.out_dir, "%s", cli_get(&c, "out"));
        else
            snprintf(run.out_dir, sizeof run.out_dir, "runs/%s-%s-%s", clgan_model_name(model), run.dataset,
                     clgan_loss_name(loss));
        if (no_args) { /* the main job: as many steps as 10 minutes allow, up to 10000 */
            run.time_limit = 600;
            run.steps = 10000;
        }
    }
    long v;
    double x;
    if (cli_given(&c, "steps")) {
        if (cli_get_long(&c, "steps", 1, 1L << 40, &v) != CLI_OK) return CLI_USAGE;
        run.steps = v;
    }
    clgan_lr_schedule *ls = &run.gan.lr_schedule;
    if (!resume) { /* the schedule is fixed against --steps when the run starts */
        if (ls->start < 0) ls->start = ls->kind == CLGAN_LR_STEP ? run.steps / 2 : 0;
        ls->end = ls->kind == CLGAN_LR_LINEAR ? run.steps : 0;
        if (ls->kind != CLGAN_LR_CONSTANT && ls->start > run.steps) {
            fprintf(stderr, "clgan train: --lr-decay-start %ld is past the last step (--steps %ld)\n", ls->start,
                    run.steps);
            return CLI_USAGE;
        }
        if (ls->kind == CLGAN_LR_CONSTANT) {
            if (cli_given(&c, "lr-decay-start") || cli_given(&c, "lr-decay-factor")) {
                fprintf(stderr, "clgan train: --lr-decay-start and --lr-decay-factor need --lr-schedule linear or step\n");
                return CLI_USAGE;
            }
            ls->start = 0;
            ls->factor = 0;
        }
    }
    if (cli_given(&c, "time-limit")) {
        if (cli_get_double(&c, "time-limit", &x) != CLI_OK || x < 0) return CLI_USAGE;
        run.time_limit = x;
    }
    INT_OPT("log-every", 1, 1 << 30, run.log_every)
    INT_OPT("sample-every", 0, 1 << 30, run.sample_every)
    INT_OPT("checkpoint-every", 0, 1 << 30, run.checkpoint_every)
    INT_OPT("keep-checkpoints", 1, 1 << 20, run.keep_checkpoints)
    if (cli_given(&c, "on-nan")) {
        const char *a = cli_get(&c, "on-nan");
        if (strcmp(a, "stop") != 0 && strcmp(a, "rollback") != 0) {
            fprintf(stderr, "clgan train: --on-nan %s: expected stop or rollback\n", a);
            return CLI_USAGE;
        }
        run.on_nan = strcmp(a, "rollback") == 0 ? CLGAN_ON_NAN_ROLLBACK : CLGAN_ON_NAN_STOP;
    }
    st = clgan_model_check(&run.gan.model);
    if (st != CLGAN_OK) {
        fprintf(stderr, "clgan train: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) return rc;
    clgan_log(CLGAN_LOG_INFO, "%s %s run: %s on %s, %ld steps of batch %d%s into %s", resume ? "continuing" : "starting",
              clgan_model_name(run.gan.model.kind), clgan_loss_name(run.gan.loss), run.dataset, run.steps, run.gan.batch,
              run.time_limit > 0 ? " (time-limited)" : "", run.out_dir);
    progress_state ps = {.tty = isatty(2) != 0, .quiet = cli_flag(&c, "quiet")};
    st = clgan_train_run(&run, d, resume != NULL, on_progress, &ps);
    if (ps.tty) fputs("\n", stderr);
    clgan_device_close(d);
    if (st != CLGAN_OK) return cli_fail(st);
    if (!ps.quiet) fprintf(stderr, "clgan: done; samples in %s/samples, checkpoints in %s/checkpoints\n", run.out_dir, run.out_dir);
    return CLI_OK;
}
