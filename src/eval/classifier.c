/* The evaluation classifier: its training step (softmax cross-entropy),
 * evaluation-mode prediction, and its safetensors file. The network itself
 * is clgan_classifier (src/nn/classifier.c). */
#include "clgan/eval.h"
#include "train/params_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FORMAT_NAME "clgan-classifier"
#define FORMAT_VERSION "1"
#define PREFIX "c."

struct clgan_clf {
    clgan_clf_config cfg;
    clgan_device *dev;
    clgan_params *params, *buffers;
    clgan_optimizer *opt;
    clgan_graph *train;
    int t_x, t_y, t_loss, t_logits;
    clgan_graph *eval;
    int e_x, e_feat, e_logits;
    uint64_t steps;
    float *stage;  /* host staging: labels as floats, logits, a padded batch */
    size_t stage_floats;
};

const clgan_classifier_config *clgan_clf_model(const clgan_clf *c) { return &c->cfg.model; }

static clgan_nn nn_for(clgan_clf *c, clgan_graph *g, bool training) {
    clgan_nn n = {.g = g,
                  .params = c->params,
                  .buffers = c->buffers,
                  .prefix = PREFIX,
                  .training = training,
                  .update_stats = training,
                  .init = CLGAN_INIT_FAN_IN};
    return n;
}

static int image_shape(const clgan_classifier_config *m, int n, int *shape) {
    shape[0] = n;
    shape[1] = m->channels;
    shape[2] = shape[3] = m->image_size;
    return 4;
}

static clgan_status build_train(clgan_clf *c) {
    const clgan_clf_config *cfg = &c->cfg;
    clgan_graph *g = c->train = clgan_graph_new();
    if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_nn nn = nn_for(c, g, true);
    int shape[4], nd = image_shape(&cfg->model, cfg->batch, shape);
    c->t_x = clgan_input(g, "x", nd, shape);
    c->t_y = clgan_input(g, "labels", 1, (int[]){cfg->batch});
    int logits = clgan_classifier(&nn, &cfg->model, c->t_x, NULL);
    /* softmax cross-entropy: logsumexp(logits) - logits[label] */
    int picked = clgan_sum_axes(g, clgan_mul(g, logits, clgan_one_hot(g, c->t_y, cfg->model.classes)), 0, 1);
    c->t_loss = clgan_mean(g, clgan_sub(g, clgan_logsumexp(g, logits), picked));
    c->t_logits = logits;
    clgan_graph_keep(g, c->t_loss);
    clgan_graph_keep(g, c->t_logits);
    clgan_status st = clgan_graph_status(g);
    if (st == CLGAN_OK) st = clgan_backward_params(g, c->t_loss, c->params);
    return st != CLGAN_OK ? st : clgan_graph_status(g);
}

static clgan_status build_eval(clgan_clf *c) {
    const clgan_clf_config *cfg = &c->cfg;
    clgan_graph *g = c->eval = clgan_graph_new();
    if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_nn nn = nn_for(c, g, false);
    int shape[4], nd = image_shape(&cfg->model, cfg->eval_batch, shape);
    c->e_x = clgan_input(g, "x", nd, shape);
    c->e_logits = clgan_classifier(&nn, &cfg->model, c->e_x, &c->e_feat);
    clgan_graph_keep(g, c->e_logits);
    clgan_graph_keep(g, c->e_feat);
    return clgan_graph_status(g);
}

/* A file's tensors against the declared (not yet allocated) network. */
static clgan_status clf_precheck(const clgan_clf *c, const clgan_st_file *f) {
    clgan_status st = clgan_params_st_check(f, c->params);
    return st == CLGAN_OK ? clgan_params_st_check(f, c->buffers) : st;
}

static clgan_status clf_new_checked(const clgan_clf_config *cfg, clgan_device *d, const clgan_st_file *f,
                                    clgan_clf **out);

/* The device memory the declared network and planned graphs will take, against d's, before allocating. */
static clgan_status clf_memory(clgan_clf *c, clgan_device *d) {
    uint64_t blocks = 0, graphs = 0, largest = 0, opt = 0;
    const clgan_params *ps[2] = {c->params, c->buffers};
    for (int b = 0; b < 2; b++) {
        uint64_t bytes = ((uint64_t)clgan_params_total(ps[b]) + 1) * sizeof(float);
        blocks += 2 * bytes;
        if (bytes > largest) largest = bytes;
    }
    if (c->cfg.batch > 0)
        opt = ((uint64_t)clgan_opt_slot_count(c->cfg.opt.kind) + 1) * ((uint64_t)clgan_params_total(c->params) + 64) *
              sizeof(float);
    clgan_graph *gs[2] = {c->train, c->eval};
    for (int k = 0; k < 2; k++) {
        if (!gs[k]) continue;
        uint64_t bytes = 0;
        clgan_status st = clgan_graph_plan_bytes(gs[k], d, &bytes);
        if (st != CLGAN_OK) return st;
        graphs += bytes;
        if (bytes > largest) largest = bytes;
    }
    char what[160];
    snprintf(what, sizeof what, "classifier parameters and gradients %.1f MiB, optimizer state %.1f, graphs %.1f",
             (double)blocks / 1048576.0, (double)opt / 1048576.0, (double)graphs / 1048576.0);
    return clgan_device_memory_check(d, blocks + opt + graphs, largest, what);
}

clgan_status clgan_clf_new(const clgan_clf_config *cfg, clgan_device *d, clgan_clf **out) {
    return clf_new_checked(cfg, d, NULL, out);
}

static clgan_status clf_new_checked(const clgan_clf_config *cfg, clgan_device *d, const clgan_st_file *f,
                                    clgan_clf **out) {
    clgan_status st = clgan_classifier_check(&cfg->model);
    if (st != CLGAN_OK) return st;
    if (cfg->batch < 0 || cfg->eval_batch < 1 || cfg->batch > CLGAN_MAX_BATCH || cfg->eval_batch > CLGAN_MAX_BATCH)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: batch %d and evaluation batch %d, expected 0 to %d and 1 to %d",
                         cfg->batch, cfg->eval_batch, CLGAN_MAX_BATCH, CLGAN_MAX_BATCH);
    clgan_clf *c = calloc(1, sizeof *c);
    if (!c) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    c->cfg = *cfg;
    c->dev = d;
    size_t per = (size_t)cfg->model.channels * (size_t)cfg->model.image_size * (size_t)cfg->model.image_size;
    size_t need = (size_t)cfg->eval_batch * per;
    size_t lab = (size_t)(cfg->batch > cfg->eval_batch ? cfg->batch : cfg->eval_batch) * (size_t)cfg->model.classes;
    if (lab > need) need = lab;
    c->stage_floats = need;
    c->params = clgan_params_new("classifier");
    c->buffers = clgan_params_new("classifier buffers");
    st = c->params && c->buffers ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    /* graphs first: they declare the parameters, and refuse a batch whose tensors are too large before the
     * staging buffer or anything on d is allocated */
    if (st == CLGAN_OK && cfg->batch > 0) st = build_train(c);
    if (st == CLGAN_OK) st = build_eval(c);
    if (st == CLGAN_OK && f) st = clf_precheck(c, f);
    if (st == CLGAN_OK) st = clf_memory(c, d);
    if (st == CLGAN_OK && !(c->stage = malloc(need * sizeof(float))))
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "classifier: cannot allocate %zu bytes of staging", need * sizeof(float));
    if (st == CLGAN_OK) st = clgan_params_alloc(c->params, d, cfg->seed);
    if (st == CLGAN_OK) st = clgan_params_alloc(c->buffers, d, cfg->seed + 1);
    if (st == CLGAN_OK && cfg->batch > 0) st = clgan_optimizer_new(c->params, &cfg->opt, &c->opt);
    if (st == CLGAN_OK && c->train) st = clgan_graph_compile(c->train, d);
    if (st == CLGAN_OK) st = clgan_graph_compile(c->eval, d);
    if (st != CLGAN_OK) {
        clgan_clf_free(c);
        return st;
    }
    *out = c;
    return CLGAN_OK;
}

void clgan_clf_free(clgan_clf *c) {
    if (!c) return;
    clgan_graph_free(c->train);
    clgan_graph_free(c->eval);
    clgan_optimizer_free(c->opt);
    clgan_params_free(c->params);
    clgan_params_free(c->buffers);
    free(c->stage);
    free(c);
}

static int argmax(const float *v, int k) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

clgan_status clgan_clf_train_step(clgan_clf *c, const float *x, const int32_t *y, float lr_scale, float *loss,
                                  int *correct) {
    if (!c->train) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: built for evaluation only (batch 0)");
    int b = c->cfg.batch, k = c->cfg.model.classes;
    for (int i = 0; i < b; i++) {
        if (y[i] < 0 || y[i] >= k)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: label %d of sample %d, expected 0 to %d", (int)y[i], i,
                             k - 1);
        c->stage[i] = (float)y[i];
    }
    clgan_status st = clgan_graph_write(c->train, c->t_x, x);
    if (st == CLGAN_OK) st = clgan_graph_write(c->train, c->t_y, c->stage);
    if (st == CLGAN_OK) st = clgan_graph_run(c->train, c->steps);
    if (st == CLGAN_OK) st = clgan_graph_read(c->train, c->t_loss, loss);
    if (st == CLGAN_OK) st = clgan_graph_read(c->train, c->t_logits, c->stage);
    if (st != CLGAN_OK) return st;
    if (!isfinite(*loss)) return CLGAN_ERR(CLGAN_ERR_NUMERIC, "classifier: the loss is %g at step %llu", *loss,
                                           (unsigned long long)c->steps + 1);
    int right = 0;
    for (int i = 0; i < b; i++) right += argmax(c->stage + (size_t)i * (size_t)k, k) == y[i];
    *correct = right;
    float norm = 0;
    st = clgan_optimizer_grad_norm(c->opt, &norm);
    if (st == CLGAN_OK && !isfinite(norm))
        return CLGAN_ERR(CLGAN_ERR_NUMERIC, "classifier: the gradient norm is %g at step %llu", norm,
                         (unsigned long long)c->steps + 1);
    if (st == CLGAN_OK) st = clgan_optimizer_step(c->opt, c->steps + 1, lr_scale, 0, norm);
    if (st == CLGAN_OK) c->steps++;
    return st;
}

clgan_status clgan_clf_predict(clgan_clf *c, const float *x, int n, float *features, float *logits) {
    if (n < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: predict on %d images", n);
    int e = c->cfg.eval_batch, k = c->cfg.model.classes, f = CLGAN_CLASSIFIER_FEATURES;
    size_t per = (size_t)c->cfg.model.channels * (size_t)c->cfg.model.image_size * (size_t)c->cfg.model.image_size;
    clgan_status st = CLGAN_OK;
    float *feat_tmp = NULL, *logit_tmp = NULL;
    for (int at = 0; at < n && st == CLGAN_OK; at += e) {
        int m = n - at < e ? n - at : e;
        const float *src = x + (size_t)at * per;
        if (m < e) {
            /* the last, partial run: pad with background images */
            memcpy(c->stage, src, (size_t)m * per * sizeof(float));
            for (size_t i = (size_t)m * per; i < (size_t)e * per; i++) c->stage[i] = -1.0f;
            src = c->stage;
        }
        st = clgan_graph_write(c->eval, c->e_x, src);
        if (st == CLGAN_OK) st = clgan_graph_run(c->eval, 0);
        if (st != CLGAN_OK) break;
        if (m == e) {
            if (features) st = clgan_graph_read(c->eval, c->e_feat, features + (size_t)at * (size_t)f);
            if (st == CLGAN_OK && logits) st = clgan_graph_read(c->eval, c->e_logits, logits + (size_t)at * (size_t)k);
            continue;
        }
        if (!feat_tmp) feat_tmp = malloc((size_t)e * (size_t)f * sizeof(float));
        if (!logit_tmp) logit_tmp = malloc((size_t)e * (size_t)k * sizeof(float));
        if (!feat_tmp || !logit_tmp) {
            st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
            break;
        }
        if (features) st = clgan_graph_read(c->eval, c->e_feat, feat_tmp);
        if (st == CLGAN_OK && logits) st = clgan_graph_read(c->eval, c->e_logits, logit_tmp);
        if (st == CLGAN_OK && features) memcpy(features + (size_t)at * (size_t)f, feat_tmp, (size_t)m * (size_t)f * sizeof(float));
        if (st == CLGAN_OK && logits) memcpy(logits + (size_t)at * (size_t)k, logit_tmp, (size_t)m * (size_t)k * sizeof(float));
    }
    free(feat_tmp);
    free(logit_tmp);
    return st;
}

clgan_status clgan_clf_accuracy(clgan_clf *c, const float *x, const int32_t *y, int n, double *accuracy) {
    int k = c->cfg.model.classes;
    float *logits = malloc((size_t)n * (size_t)k * sizeof *logits);
    if (!logits) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_status st = clgan_clf_predict(c, x, n, NULL, logits);
    if (st == CLGAN_OK) {
        long right = 0;
        for (int i = 0; i < n; i++) right += argmax(logits + (size_t)i * (size_t)k, k) == y[i];
        *accuracy = (double)right / n;
    }
    free(logits);
    return st;
}

/* ---- the file ---- */


static void meta_int(clgan_st_writer *w, const char *key, long v, clgan_status *st) {
    char buf[32];
    snprintf(buf, sizeof buf, "%ld", v);
    if (*st == CLGAN_OK) *st = clgan_st_add_meta(w, key, buf);
}

clgan_status clgan_clf_save(const clgan_clf *c, const clgan_clf_info *info, const char *path) {
    const clgan_classifier_config *m = &c->cfg.model;
    clgan_st_writer *w = clgan_st_writer_new();
    clgan_status st = w ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory writing %s", path);
    if (st == CLGAN_OK) st = clgan_params_st_add(w, c->params);
    if (st == CLGAN_OK) st = clgan_params_st_add(w, c->buffers);
    char acc[40];
    /* %.17g reads back to the same double */
    snprintf(acc, sizeof acc, "%.17g", info->test_accuracy);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "format", FORMAT_NAME);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "format_version", FORMAT_VERSION);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "clgan_version", clgan_version());
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "dataset", info->dataset);
    meta_int(w, "image_size", m->image_size, &st);
    meta_int(w, "channels", m->channels, &st);
    meta_int(w, "classes", m->classes, &st);
    meta_int(w, "features", CLGAN_CLASSIFIER_FEATURES, &st);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "test_accuracy", acc);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "test_set", info->test_set);
    meta_int(w, "train_images", info->train_images, &st);
    meta_int(w, "epochs", info->epochs, &st);
    if (st == CLGAN_OK) st = clgan_st_write(w, path);
    if (st != CLGAN_OK && !strstr(clgan_last_error(), path)) clgan_error_context(st, "writing classifier %s: ", path);
    clgan_st_writer_free(w);
    return st;
}

static clgan_status meta_long(const clgan_st_file *f, const char *key, long lo, long hi, long *out) {
    const char *v = clgan_st_meta(f, key);
    char *end = NULL;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ %s is %s, expected an integer from %ld to %ld",
                         clgan_st_path(f), key, v ? v : "missing", lo, hi);
    *out = x;
    return CLGAN_OK;
}

static clgan_status info_of(const clgan_st_file *f, clgan_clf_info *info) {
    const char *path = clgan_st_path(f);
    const char *fmt = clgan_st_meta(f, "format"), *ver = clgan_st_meta(f, "format_version");
    if (!fmt || strcmp(fmt, FORMAT_NAME) != 0 || !ver || strcmp(ver, FORMAT_VERSION) != 0)
        return CLGAN_ERR(CLGAN_ERR_FORMAT,
                         "%s: __metadata__ format is %s version %s, expected %s version %s (a classifier written by "
                         "clgan train-classifier)",
                         path, fmt ? fmt : "(missing)", ver ? ver : "(missing)", FORMAT_NAME, FORMAT_VERSION);
    memset(info, 0, sizeof *info);
    const char *ds = clgan_st_meta(f, "dataset"), *ts = clgan_st_meta(f, "test_set");
    if (!ds || !*ds || strlen(ds) >= sizeof info->dataset)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ dataset is %s, expected a data set name", path,
                         ds ? "too long or empty" : "missing");
    snprintf(info->dataset, sizeof info->dataset, "%s", ds);
    snprintf(info->test_set, sizeof info->test_set, "%s", ts ? ts : "");
    long v[6];
    clgan_status st = meta_long(f, "image_size", 4, 1024, &v[0]);
    if (st == CLGAN_OK) st = meta_long(f, "channels", 1, 3, &v[1]);
    if (st == CLGAN_OK) st = meta_long(f, "classes", 2, 100000, &v[2]);
    if (st == CLGAN_OK) st = meta_long(f, "features", CLGAN_CLASSIFIER_FEATURES, CLGAN_CLASSIFIER_FEATURES, &v[3]);
    if (st == CLGAN_OK) st = meta_long(f, "train_images", 0, 1L << 40, &v[4]);
    if (st == CLGAN_OK) st = meta_long(f, "epochs", 0, 1L << 30, &v[5]);
    if (st != CLGAN_OK) return st;
    info->image_size = (int)v[0];
    info->channels = (int)v[1];
    info->classes = (int)v[2];
    info->features = (int)v[3];
    info->train_images = v[4];
    info->epochs = v[5];
    const char *acc = clgan_st_meta(f, "test_accuracy");
    char *end = NULL;
    double a = acc ? strtod(acc, &end) : NAN;
    if (!acc || !*acc || *end || !(a >= 0 && a <= 1))
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ test_accuracy is %s, expected a number from 0 to 1", path,
                         acc ? acc : "missing");
    info->test_accuracy = a;
    return CLGAN_OK;
}

clgan_status clgan_clf_read_info(const char *path, clgan_clf_info *info) {
    clgan_st_file *f = NULL;
    clgan_status st = clgan_st_read(path, &f);
    if (st == CLGAN_OK) st = info_of(f, info);
    clgan_st_close(f);
    return st;
}

clgan_status clgan_clf_load(const char *path, clgan_device *d, int eval_batch, clgan_clf **out, clgan_clf_info *info) {
    clgan_st_file *f = NULL;
    clgan_clf_info local;
    if (!info) info = &local;
    clgan_clf *c = NULL;
    clgan_status st = clgan_st_read(path, &f);
    if (st == CLGAN_OK) st = info_of(f, info);
    if (st == CLGAN_OK) {
        clgan_clf_config cfg = {.model = {.channels = info->channels, .image_size = info->image_size,
                                          .classes = info->classes},
                                .eval_batch = eval_batch};
        st = clf_new_checked(&cfg, d, f, &c);
    }
    if (st == CLGAN_OK) st = clgan_params_st_load(f, c->params);
    if (st == CLGAN_OK) st = clgan_params_st_load(f, c->buffers);
    /* a file holding more than this network is another network */
    if (st == CLGAN_OK && clgan_st_count(f) != clgan_params_count(c->params) + clgan_params_count(c->buffers))
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: %d tensors, expected the classifier's %d", path, clgan_st_count(f),
                       clgan_params_count(c->params) + clgan_params_count(c->buffers));
    clgan_st_close(f);
    if (st != CLGAN_OK) {
        clgan_clf_free(c);
        if (!strstr(clgan_last_error(), path)) clgan_error_context(st, "classifier %s: ", path);
        return st;
    }
    *out = c;
    return CLGAN_OK;
}

clgan_status clgan_images_random_shift(float *x, int n, int c, int h, int w, int max_shift, clgan_rng *rng) {
    if (max_shift <= 0) return CLGAN_OK;
    size_t plane = (size_t)h * (size_t)w;
    float *tmp = malloc(plane * sizeof *tmp);
    if (!tmp) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    uint32_t span = (uint32_t)(2 * max_shift + 1);
    for (int i = 0; i < n; i++) {
        int dy = (int)clgan_rng_below(rng, span) - max_shift, dx = (int)clgan_rng_below(rng, span) - max_shift;
        if (!dx && !dy) continue;
        for (int ch = 0; ch < c; ch++) {
            float *p = x + ((size_t)i * (size_t)c + (size_t)ch) * plane;
            for (int r = 0; r < h; r++)
                for (int q = 0; q < w; q++) {
                    int sr = r - dy, sq = q - dx;
                    tmp[(size_t)r * (size_t)w + (size_t)q] =
                        sr >= 0 && sr < h && sq >= 0 && sq < w ? p[(size_t)sr * (size_t)w + (size_t)sq] : -1.0f;
                }
            memcpy(p, tmp, plane * sizeof *tmp);
        }
    }
    free(tmp);
    return CLGAN_OK;
}

clgan_status clgan_clf_default_path(const char *dataset, int channels, int image_size, char *out, size_t cap) {
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, cap, "%s/clgan/classifiers/%s-%dx%dx%d.safetensors", xdg, dataset, channels, image_size,
                     image_size);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.local/share/clgan/classifiers/%s-%dx%dx%d.safetensors", home, dataset, channels,
                     image_size, image_size);
    else
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND,
                         "no default classifier folder: XDG_DATA_HOME and HOME are unset; name a file instead");
    if (n < 0 || (size_t)n >= cap) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the default classifier path is too long");
    return CLGAN_OK;
}

/* The train-classifier command that makes the classifier for these images at path */
static void make_command(const char *dataset, const char *data_path, const clgan_model_config *m, const char *path,
                         char *out, size_t cap) {
    char data[1200] = "";
    if (data_path && *data_path) snprintf(data, sizeof data, " --data %s", data_path);
    snprintf(out, cap, "clgan train-classifier --dataset %s%s --image-size %d --channels %d --out %s", dataset, data,
             m->image_size, m->channels, path);
}

clgan_status clgan_clf_find(const char *named, const char *option, const char *dataset, const char *data_path,
                            const clgan_model_config *m, char *out, size_t cap, clgan_clf_info *info) {
    clgan_status st = CLGAN_OK;
    if (named && (size_t)snprintf(out, cap, "%s", named) >= cap)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the classifier's path is too long");
    if (!named) st = clgan_clf_default_path(dataset, m->channels, m->image_size, out, cap);
    if (st != CLGAN_OK) return st;
    char how[2600];
    make_command(dataset, data_path, m, out, how, sizeof how);
    if (access(out, R_OK) != 0)
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND,
                         "no classifier at %s%s; the image metrics need one trained on %s at %dx%d with %d channel(s): "
                         "make it with `%s`%s%s FILE",
                         out, named ? "" : " (the default location)", dataset, m->image_size, m->image_size,
                         m->channels, how, named ? ", or name another with " : ", or name one with ", option);
    st = clgan_clf_read_info(out, info);
    if (st != CLGAN_OK) return clgan_error_context(st, "the classifier is unusable: ");
    bool generic = strcmp(info->dataset, "idx") == 0 || strcmp(info->dataset, "folder") == 0 ||
                   strcmp(dataset, "idx") == 0 || strcmp(dataset, "folder") == 0;
    bool same_data = strcmp(info->dataset, dataset) == 0 || (named && generic);
    if (!same_data || info->image_size != m->image_size || info->channels != m->channels)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "classifier %s was trained on %s at %dx%d with %d channel(s), but the generator makes %s "
                         "images at %dx%d with %d channel(s); make a matching one with `%s`",
                         out, info->dataset, info->image_size, info->image_size, info->channels, dataset,
                         m->image_size, m->image_size, m->channels, how);
    if (strcmp(info->dataset, dataset) != 0)
        clgan_log(CLGAN_LOG_WARN, "classifier %s was trained on %s data and the generator on %s data: taking them to "
                  "be the same kind of images", out, info->dataset, dataset);
    return CLGAN_OK;
}
