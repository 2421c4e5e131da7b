/* A training run: data, steps, the log, sample grids, checkpoints, resume
 * and divergence handling. Reports progress through a callback; prints
 * nothing itself. */
#include "clgan/data.h"
#include "clgan/eval.h"
#include "clgan/train.h"
#include "clgan/dist.h"
#include "io/dir.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SAMPLE_SEED_XOR 0x53414d50u /* "SAMP": the fixed noise of sample grids */
#define EVAL_SEED_XOR 0x4556414cu   /* "EVAL": the fixed noise of evaluations during training */
#define MAX_ROLLBACKS 8
#define SCATTER_POINTS 2500

/* a stop asked for by a signal handler (clgan_train_request_stop), and whether the last run took one */
static volatile sig_atomic_t stop_requested;
static bool last_run_stopped;

void clgan_train_request_stop(void) { stop_requested = 1; }
bool clgan_train_stopped(void) { return last_run_stopped; }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}


typedef struct {
    const clgan_run_config *rc;
    clgan_device *dev;
    clgan_gan *gan;
    clgan_dataset ds;
    clgan_loader loader;
    bool have_loader;
    float *x;
    int32_t *y;
    /* the fixed sample batch */
    int n_samples, cols;
    float *z, *samples;
    int32_t *sample_labels;
    FILE *log;
    char last_ckpt[1400];
    clgan_run_position pos;
    /* evaluation during training */
    clgan_evaluator *ev;
    int n_real;
    /* data parallel (rc->gan.dist): rank 0 writes the run folder; this rank's samples of each batch */
    bool writer;
    int first, count;
    double comm_logged; /* all-reduce seconds at the last log line */
} run;

static void path_in(const run *r, char *out, size_t cap, const char *fmt, long step) {
    char name[256];
    snprintf(name, sizeof name, fmt, step);
    snprintf(out, cap, "%s/%s", r->rc->out_dir, name);
}

static clgan_status setup_samples(run *r) {
    const clgan_model_config *m = &r->rc->gan.model;
    if (m->kind == CLGAN_MODEL_TOY) {
        r->n_samples = SCATTER_POINTS;
    } else if (m->classes > 0) {
        r->cols = 8;
        r->n_samples = m->classes * r->cols; /* one row per class */
    } else {
        r->cols = 8;
        r->n_samples = 64;
    }
    size_t per = m->kind == CLGAN_MODEL_TOY ? 2 : (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    r->z = malloc((size_t)r->n_samples * (size_t)m->z_dim * sizeof(float));
    r->samples = malloc((size_t)r->n_samples * per * sizeof(float));
    r->sample_labels = malloc((size_t)r->n_samples * sizeof(int32_t));
    if (!r->z || !r->samples || !r->sample_labels) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_rng_normal(r->rc->gan.seed ^ SAMPLE_SEED_XOR, 0, r->z, (size_t)r->n_samples * (size_t)m->z_dim);
    for (int i = 0; i < r->n_samples; i++) r->sample_labels[i] = m->classes > 0 ? i / r->cols : 0;
    return CLGAN_OK;
}

static clgan_status write_samples(run *r, long step, char *path, size_t cap) {
    const clgan_model_config *m = &r->rc->gan.model;
    path_in(r, path, cap, "samples/step_%08ld.png", step);
    clgan_status st = clgan_gan_generate(r->gan, r->z, m->classes > 0 ? r->sample_labels : NULL, r->n_samples, r->samples);
    if (st != CLGAN_OK) return st;
    if (m->kind == CLGAN_MODEL_TOY) {
        int count = 0;
        const float *centres = NULL;
        float sigma = 0;
        if (clgan_synthetic_modes(r->rc->dataset, &count, &centres, &sigma) != CLGAN_OK) count = 0;
        float lim = strcmp(r->rc->dataset, "grid25") == 0 ? 6.0f : 2.0f;
        return clgan_png_write_scatter(path, r->samples, r->n_samples, count ? centres : NULL, count, -lim, lim, 512);
    }
    return clgan_png_write_grid(path, r->samples, r->n_samples, m->channels, m->image_size, m->image_size, r->cols, 2);
}

/* samples/reals.png: real images in the sample grids' layout (for a
 * conditional model the first images of each class, a row per class), so
 * the generated grids can be compared with the data; 2-D data gets none */
static clgan_status write_reals(run *r, char *path, size_t cap) {
    const clgan_model_config *m = &r->rc->gan.model;
    path[0] = 0;
    if (m->kind == CLGAN_MODEL_TOY) return CLGAN_OK;
    size_t per = clgan_dataset_sample_floats(&r->ds);
    int rows = m->classes > 0 ? m->classes : 1, filled = 0;
    int *used = calloc((size_t)rows, sizeof *used); /* images placed in each class's row */
    if (!used) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    for (size_t k = 0; k < (size_t)r->n_samples * per; k++) r->samples[k] = -1.0f; /* a class without images: black */
    for (int i = 0; i < r->ds.n && filled < r->n_samples; i++) {
        int slot = filled;
        if (m->classes > 0) {
            int row = r->ds.y[i];
            if (row < 0 || row >= rows || used[row] >= r->cols) continue;
            slot = row * r->cols + used[row]++;
        }
        memcpy(r->samples + (size_t)slot * per, r->ds.x + (size_t)i * per, per * sizeof(float));
        filled++;
    }
    free(used);
    path_in(r, path, cap, "samples/reals.png", 0);
    return clgan_png_write_grid(path, r->samples, r->n_samples, m->channels, m->image_size, m->image_size, r->cols, 2);
}

/* "latest" is a symbolic link to the newest checkpoint, "best" to that of
 * the best evaluation; each replaced atomically. */
static clgan_status point_link(const run *r, const char *name, const char *target_rel) {
    char link[1200], tmp[1300];
    snprintf(link, sizeof link, "%s/%s", r->rc->out_dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", link, (long)getpid());
    unlink(tmp);
    if (symlink(target_rel, tmp) != 0 || rename(tmp, link) != 0) {
        clgan_status st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot update: %s", link, strerror(errno));
        unlink(tmp);
        return st;
    }
    return CLGAN_OK;
}

clgan_status clgan_run_latest(const char *dir, char *path, size_t cap) {
    char link[1200], target[1024];
    snprintf(link, sizeof link, "%s/latest", dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0)
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s: no latest checkpoint (%s); is %s a clgan run folder that has written one?", link,
                         strerror(errno), dir);
    target[n] = 0;
    snprintf(path, cap, "%s/%s", dir, target);
    return CLGAN_OK;
}

/* Deletes all but the newest `keep` checkpoints, and the one "best" points to. */
static void prune(const run *r) {
    char dir[1100], best[1100] = "", link[1200];
    snprintf(dir, sizeof dir, "%s/checkpoints", r->rc->out_dir);
    snprintf(link, sizeof link, "%s/best", r->rc->out_dir);
    ssize_t bn = readlink(link, best, sizeof best - 1);
    best[bn > 0 ? bn : 0] = 0;
    const char *best_name = strrchr(best, '/') ? strrchr(best, '/') + 1 : best;
    clgan_dir_entries all;
    if (clgan_dir_list(dir, &all) != CLGAN_OK) return;
    size_t n = 0; /* step_*.safetensors, oldest first (names hold zero-padded steps) */
    for (size_t i = 0; i < all.n; i++) {
        const char *name = all.items[i].name;
        size_t len = strlen(name);
        if (strncmp(name, "step_", 5) == 0 && len > 12 && strcmp(name + len - 12, ".safetensors") == 0 &&
            strcmp(name, best_name) != 0)
            all.items[n++] = all.items[i];
        else {
            free(all.items[i].name);
            free(all.items[i].path);
        }
    }
    all.n = n;
    for (size_t i = 0; i + (size_t)(r->rc->keep_checkpoints > 0 ? r->rc->keep_checkpoints : 0) < n; i++)
        unlink(all.items[i].path);
    clgan_dir_entries_free(&all);
}

/* After a step failed with a non-finite value (the error message says
 * which): with --on-nan rollback and a checkpoint to go back to, restores it
 * with the learning rates halved (at most MAX_ROLLBACKS times) and returns
 * CLGAN_OK; else the divergence error, naming the last good checkpoint. */
static clgan_status roll_back_or_stop(run *r, long step) {
    char why[1024];
    snprintf(why, sizeof why, "%s", clgan_last_error());
    if (r->rc->on_nan == CLGAN_ON_NAN_ROLLBACK && r->last_ckpt[0] && r->pos.rollbacks < MAX_ROLLBACKS) {
        float scale = clgan_gan_lr_scale(r->gan) * 0.5f;
        uint64_t rollbacks = r->pos.rollbacks + 1;
        clgan_status st = clgan_checkpoint_restore(r->last_ckpt, r->gan, &r->pos);
        if (st == CLGAN_OK) st = clgan_loader_seek(&r->loader, r->pos.epoch, r->pos.pos);
        if (st != CLGAN_OK) return st;
        r->pos.rollbacks = rollbacks;
        clgan_gan_set_lr_scale(r->gan, scale);
        return CLGAN_OK;
    }
    return CLGAN_ERR(CLGAN_ERR_NUMERIC, "training diverged at step %ld: %s; %s%s%s", step + 1, why,
                     r->last_ckpt[0] ? "the last good checkpoint is " : "no checkpoint was written yet", r->last_ckpt,
                     r->last_ckpt[0] ? " (continue with --resume, --on-nan rollback or a lower --lr)" : "");
}

static clgan_status save_checkpoint(run *r, long step, char *path, size_t cap) {
    path_in(r, path, cap, "checkpoints/step_%08ld.safetensors", step);
    r->pos.epoch = r->have_loader ? r->loader.epoch : 0;
    r->pos.pos = r->have_loader ? r->loader.pos : 0;
    if (!r->writer) { /* rank 0 writes it; the others know where (a rollback reads it) once it is there */
        snprintf(r->last_ckpt, sizeof r->last_ckpt, "%s", path);
        return clgan_dist_barrier(r->rc->gan.dist);
    }
    clgan_status st = clgan_checkpoint_save(path, r->gan, r->rc, &r->pos);
    char rel[128];
    snprintf(rel, sizeof rel, "checkpoints/step_%08ld.safetensors", step);
    if (st == CLGAN_OK) st = point_link(r, "latest", rel);
    if (st == CLGAN_OK) {
        snprintf(r->last_ckpt, sizeof r->last_ckpt, "%s", path);
        prune(r);
    }
    if (st == CLGAN_OK) st = clgan_dist_barrier(r->rc->gan.dist);
    return st;
}

/* A checksum of a network's parameters (FNV-1a over their bytes), which every rank must share */
static clgan_status params_checksum(const run *r, uint64_t *h) {
    *h = 1469598103934665603ull;
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++) {
        clgan_params *p = clgan_gan_block(r->gan, (clgan_block_id)b);
        size_t n = clgan_params_total(p);
        if (n == 0) continue;
        unsigned char *v = malloc(n * sizeof(float));
        if (!v) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        clgan_status st = clgan_buffer_read(clgan_params_values(p), 0, v, n * sizeof(float));
        for (size_t i = 0; st == CLGAN_OK && i < n * sizeof(float); i++) *h = (*h ^ v[i]) * 1099511628211ull;
        free(v);
        if (st != CLGAN_OK) return st;
    }
    return CLGAN_OK;
}

static void log_line(run *r, long step, const clgan_step_stats *s, double ips, double elapsed, double comm_ms) {
    if (!r->log) return;
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "step");
    clgan_jbuf_int(&b, step);
    clgan_jbuf_key(&b, "epoch");
    clgan_jbuf_uint(&b, r->have_loader ? r->loader.epoch : 0);
    const struct {
        const char *k;
        float v;
    } f[] = {{"loss_d", s->loss_d},           {"loss_g", s->loss_g},           {"d_real", s->d_real},
             {"d_fake", s->d_fake},           {"penalty", s->penalty},         {"r1", s->r1},
             {"grad_norm_d", s->grad_norm_d}, {"grad_norm_g", s->grad_norm_g}, {"lr_g", s->lr_g},
             {"lr_d", s->lr_d}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        clgan_jbuf_key(&b, f[i].k);
        clgan_jbuf_f32(&b, f[i].v);
    }
    clgan_jbuf_key(&b, "images_per_s");
    clgan_jbuf_num(&b, round(ips * 10) / 10);
    clgan_jbuf_key(&b, "elapsed_s");
    clgan_jbuf_num(&b, round(elapsed * 1000) / 1000);
    clgan_jbuf_key(&b, "device");
    clgan_jbuf_str(&b, clgan_device_get_info(r->dev)->id);
    clgan_dist *dist = r->rc->gan.dist;
    if (clgan_dist_size(dist) > 1) { /* data parallel: the ranks, and rank 0's all-reduce time per step */
        clgan_jbuf_key(&b, "ranks");
        clgan_jbuf_int(&b, clgan_dist_size(dist));
        clgan_jbuf_key(&b, "allreduce_ms");
        clgan_jbuf_num(&b, round(comm_ms * 1000) / 1000);
    }
    clgan_jbuf_end_object(&b);
    clgan_jsonl_append(r->log, &b);
    clgan_jbuf_free(&b);
}

static void free_run(run *r) {
    clgan_evaluator_free(r->ev);
    clgan_gan_free(r->gan);
    if (r->have_loader) clgan_loader_free(&r->loader);
    clgan_dataset_free(&r->ds);
    free(r->x);
    free(r->y);
    free(r->z);
    free(r->samples);
    free(r->sample_labels);
    if (r->log) fclose(r->log);
}

static clgan_status open_data(run *r) {
    const clgan_run_config *rc = r->rc;
    const clgan_model_config *m = &rc->gan.model;
    bool toy = m->kind == CLGAN_MODEL_TOY;
    clgan_status st = clgan_dataset_open(rc->dataset, rc->data_path[0] ? rc->data_path : NULL, true,
                                         toy ? 0 : m->image_size, toy ? 0 : m->channels, rc->gan.seed, &r->ds);
    if (st != CLGAN_OK) return st;
    if (toy != (r->ds.c == 2 && r->ds.h == 1 && r->ds.w == 1))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "dataset %s does not fit model %s (the toy model is for ring8 and grid25)",
                         rc->dataset, clgan_model_name(m->kind));
    if (m->classes > 0 && (!r->ds.y || r->ds.num_classes > m->classes))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a conditional model with %d classes needs labels in [0, %d); %s has %s",
                         m->classes, m->classes, rc->dataset, r->ds.y ? "more classes" : "none");
    if (r->ds.n < rc->gan.batch)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "dataset %s has %d samples, fewer than a batch of %d", rc->dataset,
                         r->ds.n, rc->gan.batch);
    st = clgan_loader_init(&r->loader, &r->ds, rc->gan.batch, rc->gan.seed);
    if (st != CLGAN_OK) return st;
    r->have_loader = true;
    size_t per = clgan_dataset_sample_floats(&r->ds);
    r->x = malloc((size_t)rc->gan.batch * per * sizeof(float));
    r->y = malloc((size_t)rc->gan.batch * sizeof(int32_t));
    if (!r->x || !r->y) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    return CLGAN_OK;
}

/* The feature network and the real test images of evaluation during
 * training, opened before the run starts so that a missing one stops it
 * there. */
static clgan_status open_eval(run *r) {
    const clgan_run_config *rc = r->rc;
    const clgan_train_eval *e = &rc->eval;
    const clgan_model_config *m = &rc->gan.model;
    if (e->every <= 0) return CLGAN_OK;
    const char *named = e->network[0] ? e->network : NULL;
    char path[1400];
    clgan_clf_info info;
    clgan_status st = e->features == CLGAN_FEATURES_INCEPTION
                          ? clgan_inception_find(named, "--eval-network", path, sizeof path)
                          : clgan_clf_find(named, "--eval-network", rc->dataset, rc->data_path, m, path, sizeof path,
                                           &info);
    clgan_dataset test = {0};
    if (st == CLGAN_OK)
        st = clgan_dataset_open(rc->dataset, rc->data_path[0] ? rc->data_path : NULL, false, m->image_size,
                                m->channels, rc->gan.seed, &test);
    r->n_real = e->samples < test.n ? e->samples : test.n;
    clgan_kernel_stats ks;
    clgan_device_kernel_stats(r->dev, &ks);
    if (st == CLGAN_OK) st = clgan_evaluator_new(e->features, path, r->dev, m, test.x, r->n_real, ks.cache_dir, &r->ev);
    clgan_dataset_free(&test);
    if (st != CLGAN_OK) clgan_error_context(st, "evaluation during training: ");
    return st;
}

/* The value of metric k in a set of metrics */
static double metric_value(const clgan_feature_eval *fe, clgan_metric_kind k) {
    return k == CLGAN_METRIC_FID ? fe->fid : k == CLGAN_METRIC_KID ? fe->kid : k == CLGAN_METRIC_PRECISION ? fe->precision : fe->recall;
}

/* What an evaluation measures: the best of one is comparable with another only when this is the same */
static void eval_key(const clgan_run_config *rc, char *out, size_t cap) {
    snprintf(out, cap, "%s %s %d", clgan_metric_name(rc->eval.metric), clgan_feature_net_name(rc->eval.features),
             rc->eval.samples);
}

/* Evaluates the generator, logs it, and says whether it is the best so far
 * (r->pos then holds it). */
static clgan_status evaluate(run *r, long step, clgan_progress *p, bool *best) {
    const clgan_train_eval *e = &r->rc->eval;
    double t0 = now_s();
    clgan_feature_eval fe = {0};
    clgan_status st = clgan_evaluator_run(r->ev, r->gan, e->samples, r->rc->gan.seed ^ EVAL_SEED_XOR, &fe);
    if (st != CLGAN_OK) return clgan_error_context(st, "evaluation at step %ld: ", step);
    double v = metric_value(&fe, e->metric), dt = now_s() - t0;
    bool lower = clgan_metric_lower_is_better(e->metric);
    char of[64];
    eval_key(r->rc, of, sizeof of);
    if (r->pos.best_step > 0 && strcmp(r->pos.best_of, of) != 0) { /* measured otherwise before a resume */
        clgan_log(CLGAN_LOG_INFO, "the best so far was of %s, this evaluation is of %s: best starts afresh",
                  r->pos.best_of, of);
        r->pos.best_step = 0;
    }
    /* NaN is never the best; on a tie the earlier stays */
    *best = !isnan(v) && (r->pos.best_step == 0 || (lower ? v < r->pos.best_value : v > r->pos.best_value));
    if (*best) {
        r->pos.best_step = (uint64_t)step;
        r->pos.best_value = v;
        snprintf(r->pos.best_of, sizeof r->pos.best_of, "%s", of);
    }
    p->eval_value = v;
    p->eval_s = dt;
    p->eval_best = *best;
    if (!r->log) return CLGAN_OK;
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "step");
    clgan_jbuf_int(&b, step);
    clgan_jbuf_key(&b, "eval_features");
    clgan_jbuf_str(&b, clgan_feature_net_name(e->features));
    clgan_jbuf_key(&b, "eval_samples");
    clgan_jbuf_int(&b, e->samples);
    clgan_jbuf_key(&b, "eval_real");
    clgan_jbuf_int(&b, r->n_real);
    clgan_feature_eval_json(&b, &fe);
    clgan_jbuf_key(&b, "eval_metric");
    clgan_jbuf_str(&b, clgan_metric_name(e->metric));
    clgan_jbuf_key(&b, "best");
    clgan_jbuf_bool(&b, *best);
    clgan_jbuf_key(&b, "eval_s");
    clgan_jbuf_num(&b, round(dt * 1000) / 1000);
    clgan_jbuf_end_object(&b);
    clgan_jsonl_append(r->log, &b);
    clgan_jbuf_free(&b);
    return CLGAN_OK;
}

static clgan_status one_step(run *r, clgan_step_stats *s) {
    const clgan_gan_config *g = &r->rc->gan;
    bool cond = g->model.classes > 0;
    clgan_status st = CLGAN_OK;
    size_t per = clgan_dataset_sample_floats(&r->ds);
    for (int k = 0; k < g->n_critic && st == CLGAN_OK; k++) {
        /* every rank reads the whole batch and takes its part */
        clgan_loader_next(&r->loader, r->x, r->y);
        st = clgan_gan_d_step(r->gan, r->x + (size_t)r->first * per, cond ? r->y + r->first : NULL, s);
    }
    if (st == CLGAN_OK) st = clgan_gan_g_step(r->gan, cond ? r->y + r->first : NULL, s);
    return st;
}

static void report(clgan_progress_fn fn, void *user, clgan_progress *p, const char *event, const char *path) {
    if (!fn) return;
    p->event = event;
    p->event_path = path;
    fn(p, user);
    p->event = NULL;
    p->event_path = NULL;
}

clgan_status clgan_train_run(const clgan_run_config *rc, clgan_device *d, bool resume, clgan_progress_fn fn,
                             void *user) {
    run r = {.rc = rc, .dev = d, .writer = clgan_dist_rank(rc->gan.dist) == 0};
    clgan_dist *dist = rc->gan.dist;
    clgan_dist_part(dist, rc->gan.batch, &r.first, &r.count);
    char path[1400], tmp[1400];
    /* the configuration as a whole, then data and model, so a run that cannot start leaves no folder behind */
    clgan_status st = clgan_run_config_check(rc);
    if (st == CLGAN_OK) st = open_data(&r);
    if (st == CLGAN_OK && resume) {
        st = clgan_run_latest(rc->out_dir, r.last_ckpt, sizeof r.last_ckpt);
        if (st == CLGAN_OK) st = clgan_checkpoint_load(r.last_ckpt, &rc->gan, d, &r.gan, &r.pos);
        if (st == CLGAN_OK) st = clgan_loader_seek(&r.loader, r.pos.epoch, r.pos.pos);
    } else if (st == CLGAN_OK) {
        st = clgan_gan_new(&rc->gan, d, &r.gan);
    }
    /* rank 0 alone evaluates and writes the run folder */
    if (st == CLGAN_OK && r.writer) st = open_eval(&r);
    if (st == CLGAN_OK && r.writer) st = clgan_make_dirs(rc->out_dir);
    path_in(&r, tmp, sizeof tmp, "samples", 0);
    if (st == CLGAN_OK && r.writer) st = clgan_make_dirs(tmp);
    path_in(&r, tmp, sizeof tmp, "checkpoints", 0);
    if (st == CLGAN_OK && r.writer) st = clgan_make_dirs(tmp);
    if (st == CLGAN_OK) st = setup_samples(&r);
    if (st == CLGAN_OK && r.writer) {
        clgan_jbuf cfg;
        clgan_jbuf_init(&cfg);
        clgan_run_config_to_json(rc, &cfg);
        path_in(&r, tmp, sizeof tmp, "config.json", 0);
        st = clgan_jbuf_write_file(&cfg, tmp);
        clgan_jbuf_free(&cfg);
    }
    if (st == CLGAN_OK && r.writer) {
        path_in(&r, tmp, sizeof tmp, "log.jsonl", 0);
        st = clgan_open_log(tmp, resume, &r.log);
    }
    if (st != CLGAN_OK) {
        free_run(&r);
        return st;
    }
    last_run_stopped = false;
    clgan_progress p = {.steps = rc->steps};
    double t0 = now_s(), t_log = t0, t_rate = t0;
    long step = (long)clgan_gan_step_count(r.gan), log_from = step, start = step;
    p.step = step;
    if (!resume && r.writer) {
        st = write_reals(&r, path, sizeof path);
        if (st == CLGAN_OK && path[0]) report(fn, user, &p, "sample", path);
    }
    if (st == CLGAN_OK && !resume && rc->sample_every > 0 && r.writer) {
        st = write_samples(&r, step, path, sizeof path);
        if (st == CLGAN_OK) report(fn, user, &p, "sample", path);
    }
    clgan_step_stats s = {0};
    while (st == CLGAN_OK && step < rc->steps) {
        st = one_step(&r, &s);
        if (st == CLGAN_ERR_NUMERIC) {
            if ((st = roll_back_or_stop(&r, step)) != CLGAN_OK) break;
            step = (long)clgan_gan_step_count(r.gan);
            p.step = step;
            start = step;
            t_rate = now_s();
            report(fn, user, &p, "rollback", r.last_ckpt);
            continue;
        }
        if (st != CLGAN_OK) {
            clgan_error_context(st, "step %ld: ", step + 1);
            break;
        }
        step++;
        double t = now_s();
        p.step = step;
        p.epoch = r.loader.epoch;
        p.stats = s;
        p.elapsed_s = t - t0;
        p.logged = false;
        bool stop = stop_requested != 0;
        bool last = step >= rc->steps || (rc->time_limit > 0 && t - t0 >= rc->time_limit) || stop;
        if (clgan_dist_size(dist) > 1) { /* every rank stops where one does (a signal, its clock) */
            int flags = (stop ? 1 : 0) | (last ? 2 : 0);
            if ((st = clgan_dist_max(dist, &flags)) != CLGAN_OK) break;
            stop = flags & 1;
            last = flags & 2;
        }
        if (rc->check_sync > 0 && step % rc->check_sync == 0) {
            uint64_t h = 0;
            st = params_checksum(&r, &h);
            if (st == CLGAN_OK) st = clgan_dist_check_same(dist, h, "the parameters' checksums");
            if (st != CLGAN_OK) {
                clgan_error_context(st, "step %ld (--check-sync %d): ", step, rc->check_sync);
                break;
            }
        }
        if (stop) {
            stop_requested = 0;
            last_run_stopped = true;
        }
        if (step % rc->log_every == 0 || last) {
            p.images_per_s = (double)(step - log_from) * rc->gan.batch * rc->gan.n_critic / (t - t_log > 0 ? t - t_log : 1e-9);
            double comm = clgan_dist_comm_seconds(dist);
            log_line(&r, step, &s, p.images_per_s, t - t0,
                     (comm - r.comm_logged) * 1000.0 / (double)(step - log_from > 0 ? step - log_from : 1));
            r.comm_logged = comm;
            p.logged = true;
            t_log = t;
            log_from = step;
        }
        double rate = (t - t_rate) / (double)(step - start > 0 ? step - start : 1); /* seconds per step so far */
        p.eta_s = rate * (double)(rc->steps - step);
        if (rc->time_limit > 0 && rc->time_limit - (t - t0) < p.eta_s) p.eta_s = rc->time_limit - (t - t0);
        report(fn, user, &p, NULL, NULL);
        if (r.writer && ((rc->sample_every > 0 && step % rc->sample_every == 0) || last)) {
            st = write_samples(&r, step, path, sizeof path);
            if (st == CLGAN_OK) report(fn, user, &p, "sample", path);
        }
        bool best = false;
        if (st == CLGAN_OK && r.ev && (step % rc->eval.every == 0 || last)) {
            st = evaluate(&r, step, &p, &best);
            if (st == CLGAN_OK) report(fn, user, &p, "eval", NULL);
            t_log += p.eval_s; /* the rates are of training alone */
            t_rate += p.eval_s;
        }
        if (st == CLGAN_OK && clgan_dist_size(dist) > 1) { /* rank 0's evaluation decides for all */
            int b = best;
            st = clgan_dist_max(dist, &b);
            best = b != 0;
        }
        if (st == CLGAN_OK && ((rc->checkpoint_every > 0 && step % rc->checkpoint_every == 0) || last || best)) {
            st = save_checkpoint(&r, step, path, sizeof path);
            if (st == CLGAN_OK) report(fn, user, &p, "checkpoint", path);
        }
        if (st == CLGAN_OK && best && r.writer) {
            char rel[128];
            snprintf(rel, sizeof rel, "checkpoints/step_%08ld.safetensors", step);
            st = point_link(&r, "best", rel);
            if (st == CLGAN_OK) report(fn, user, &p, "best", path);
        }
        if (last) break;
    }
    free_run(&r);
    return st;
}
