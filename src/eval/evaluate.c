/* clgan eval for an image generator: generated and real images through the
 * evaluation classifier, then the Fréchet distance of their features, the
 * inception score and the histogram of predicted classes. */
#include "clgan/eval.h"

#include <stdlib.h>
#include <string.h>

#define GEN_BATCH 250

void clgan_image_eval_free(clgan_image_eval *e) {
    if (!e) return;
    free(e->class_histogram);
    e->class_histogram = NULL;
}

/* Generated batch b (images at..at+GEN_BATCH of the evaluation): a fixed batch size keeps one sampling
 * graph; the noise is Philox stream (seed, b); a conditional model gets labels i mod classes */
static clgan_status generate_batch(clgan_gan *gan, const clgan_model_config *m, uint64_t seed, int b, int at,
                                   float *z, int32_t *labels, float *img) {
    clgan_rng_normal(seed, (uint64_t)b, z, (size_t)GEN_BATCH * (size_t)m->z_dim);
    for (int i = 0; i < GEN_BATCH; i++) labels[i] = m->classes > 0 ? (int32_t)((at + i) % m->classes) : 0;
    return clgan_gan_generate(gan, z, m->classes > 0 ? labels : NULL, GEN_BATCH, img);
}

static int argmax(const float *v, int k) {
    int best = 0;
    for (int j = 1; j < k; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

clgan_status clgan_eval_images(clgan_gan *gan, clgan_clf *clf, const float *real, const int32_t *real_labels,
                               int n_real, int n_gen, uint64_t seed, clgan_image_eval *out) {
    memset(out, 0, sizeof *out);
    const clgan_model_config *m = &clgan_gan_config_of(gan)->model;
    const clgan_classifier_config *cm = clgan_clf_model(clf);
    if (m->kind == CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the toy model makes 2-D points, not images: use mode coverage");
    if (cm->channels != m->channels || cm->image_size != m->image_size)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "the classifier takes %dx%d images with %d channel(s), the generator makes %dx%d with %d",
                         cm->image_size, cm->image_size, cm->channels, m->image_size, m->image_size, m->channels);
    if (m->classes > 0 && m->classes != cm->classes)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the generator is conditional on %d classes, the classifier has %d",
                         m->classes, cm->classes);
    if (n_real < 2 || n_gen < 2)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d real and %d generated images: need at least 2 of each", n_real,
                         n_gen);
    int k = cm->classes, f = CLGAN_CLASSIFIER_FEATURES, zd = m->z_dim;
    size_t per = (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    float *gf = malloc((size_t)n_gen * (size_t)f * sizeof *gf), *gl = malloc((size_t)n_gen * (size_t)k * sizeof *gl);
    float *rf = malloc((size_t)n_real * (size_t)f * sizeof *rf), *rl = malloc((size_t)n_real * (size_t)k * sizeof *rl);
    float *z = malloc((size_t)GEN_BATCH * (size_t)zd * sizeof *z), *img = malloc((size_t)GEN_BATCH * per * sizeof *img);
    int32_t *labels = malloc(GEN_BATCH * sizeof *labels);
    out->class_histogram = calloc((size_t)k, sizeof *out->class_histogram);
    clgan_status st = gf && gl && rf && rl && z && img && labels && out->class_histogram
                          ? CLGAN_OK
                          : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %d + %d images' features", n_gen, n_real);
    for (int at = 0, b = 0; at < n_gen && st == CLGAN_OK; at += GEN_BATCH, b++) {
        int take = n_gen - at < GEN_BATCH ? n_gen - at : GEN_BATCH;
        st = generate_batch(gan, m, seed, b, at, z, labels, img);
        if (st == CLGAN_OK)
            st = clgan_clf_predict(clf, img, take, gf + (size_t)at * (size_t)f, gl + (size_t)at * (size_t)k);
    }
    if (st == CLGAN_OK) st = clgan_clf_predict(clf, real, n_real, rf, rl);
    if (st == CLGAN_OK) st = clgan_fid_features(gf, n_gen, rf, n_real, f, &out->fid);
    if (st == CLGAN_OK) {
        long right = 0;
        for (int i = 0; i < n_gen; i++) out->class_histogram[argmax(gl + (size_t)i * (size_t)k, k)]++;
        for (int i = 0; real_labels && i < n_real; i++) right += argmax(rl + (size_t)i * (size_t)k, k) == real_labels[i];
        out->real_accuracy = real_labels ? (double)right / n_real : -1;
        /* logits -> probabilities in place */
        clgan_softmax_rows(gl, n_gen, k, gl);
        clgan_softmax_rows(rl, n_real, k, rl);
        st = clgan_inception_score(gl, n_gen, k, &out->inception_score);
    }
    if (st == CLGAN_OK) st = clgan_inception_score(rl, n_real, k, &out->real_inception_score);
    out->n_generated = n_gen;
    out->n_real = n_real;
    out->classes = k;
    free(gf);
    free(gl);
    free(rf);
    free(rl);
    free(z);
    free(img);
    free(labels);
    if (st != CLGAN_OK) clgan_image_eval_free(out);
    return st;
}

clgan_status clgan_feature_metrics(const float *gen, int n_gen, const float *real, int n_real, int dim, uint64_t seed,
                                   clgan_feature_eval *out) {
    clgan_status st = clgan_fid_features(gen, n_gen, real, n_real, dim, &out->fid);
    if (st == CLGAN_OK) st = clgan_kid(gen, n_gen, real, n_real, dim, 0, 0, seed, &out->kid, &out->kid_std);
    if (st == CLGAN_OK && n_gen > CLGAN_PR_K && n_real > CLGAN_PR_K)
        st = clgan_precision_recall(real, n_real, gen, n_gen, dim, CLGAN_PR_K, &out->precision, &out->recall);
    else if (st == CLGAN_OK)
        out->precision = out->recall = -1; /* too few samples for 3 neighbours */
    return st;
}

void clgan_feature_eval_json(clgan_jbuf *b, const clgan_feature_eval *m) {
    const char *keys[] = {"fid", "kid", "kid_std", "precision", "recall"};
    const double vals[] = {m->fid, m->kid, m->kid_std, m->precision, m->recall};
    for (int i = 0; i < 5; i++) {
        clgan_jbuf_key(b, keys[i]);
        if (i >= 3 && m->precision < 0)
            clgan_jbuf_null(b); /* too few samples for CLGAN_PR_K neighbours */
        else
            clgan_jbuf_num(b, vals[i]);
    }
}

struct clgan_evaluator {
    clgan_feature_net net;
    clgan_inception *inc;
    clgan_clf *clf;
    clgan_model_config model;
    int dim, n_real;
    float *real; /* (n_real, dim) features */
};

void clgan_evaluator_free(clgan_evaluator *e) {
    if (!e) return;
    clgan_inception_free(e->inc);
    clgan_clf_free(e->clf);
    free(e->real);
    free(e);
}

/* features (n, dim) of n images of the model's shape */
static clgan_status features_of(clgan_evaluator *e, const float *x, int n, float *f) {
    int s = e->model.image_size;
    if (e->inc) return clgan_inception_features_of(e->inc, x, n, e->model.channels, s, s, f);
    return clgan_clf_predict(e->clf, x, n, f, NULL);
}

clgan_status clgan_evaluator_new(clgan_feature_net net, const char *path, clgan_device *d, const clgan_model_config *m,
                                 const float *real, int n_real, const char *cache_dir, clgan_evaluator **out) {
    *out = NULL;
    if (m->kind == CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the toy model makes 2-D points, not images: use mode coverage");
    if (n_real < 2) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d real images: need at least 2", n_real);
    clgan_evaluator *e = calloc(1, sizeof *e);
    if (!e) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    e->net = net;
    e->model = *m;
    e->n_real = n_real;
    clgan_status st = CLGAN_OK;
    if (net == CLGAN_FEATURES_INCEPTION) {
        e->dim = CLGAN_INCEPTION_FEATURES;
        st = clgan_inception_open(path, d, 16, &e->inc);
    } else {
        clgan_clf_info info;
        e->dim = CLGAN_CLASSIFIER_FEATURES;
        st = clgan_clf_load(path, d, GEN_BATCH, &e->clf, &info);
        if (st == CLGAN_OK && (info.channels != m->channels || info.image_size != m->image_size))
            st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                           "classifier %s takes %dx%d images with %d channel(s), the generator makes %dx%d with %d",
                           path, info.image_size, info.image_size, info.channels, m->image_size, m->image_size,
                           m->channels);
    }
    e->real = st == CLGAN_OK ? malloc((size_t)n_real * (size_t)e->dim * sizeof *e->real) : NULL;
    if (st == CLGAN_OK && !e->real)
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %d real images' features", n_real);
    bool hit = false;
    int side = m->image_size;
    if (st == CLGAN_OK && e->inc)
        st = clgan_inception_cached_features(e->inc, cache_dir, real, n_real, m->channels, side, side, e->real, &hit);
    else if (st == CLGAN_OK)
        st = features_of(e, real, n_real, e->real);
    if (st == CLGAN_OK && hit) clgan_log(CLGAN_LOG_INFO, "the %d real images' Inception features: from the cache", n_real);
    if (st != CLGAN_OK) {
        clgan_evaluator_free(e);
        return st;
    }
    *out = e;
    return CLGAN_OK;
}

clgan_status clgan_evaluator_run(clgan_evaluator *e, clgan_gan *gan, int n_gen, uint64_t seed, clgan_feature_eval *out) {
    const clgan_model_config *m = &clgan_gan_config_of(gan)->model;
    if (m->kind != e->model.kind || m->channels != e->model.channels || m->image_size != e->model.image_size ||
        m->z_dim != e->model.z_dim || m->classes != e->model.classes)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the evaluator was made for another model's images");
    if (n_gen < 2) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d generated images: need at least 2", n_gen);
    size_t per = (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    float *gf = malloc((size_t)n_gen * (size_t)e->dim * sizeof *gf);
    float *z = malloc((size_t)GEN_BATCH * (size_t)m->z_dim * sizeof *z), *img = malloc((size_t)GEN_BATCH * per * sizeof *img);
    int32_t *labels = malloc(GEN_BATCH * sizeof *labels);
    clgan_status st = gf && z && img && labels
                          ? CLGAN_OK
                          : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %d images' features", n_gen);
    /* the same generated images as clgan_eval_images */
    for (int at = 0, b = 0; at < n_gen && st == CLGAN_OK; at += GEN_BATCH, b++) {
        int take = n_gen - at < GEN_BATCH ? n_gen - at : GEN_BATCH;
        st = generate_batch(gan, m, seed, b, at, z, labels, img);
        if (st == CLGAN_OK) st = features_of(e, img, take, gf + (size_t)at * (size_t)e->dim);
    }
    if (st == CLGAN_OK) st = clgan_feature_metrics(gf, n_gen, e->real, e->n_real, e->dim, seed, out);
    free(gf);
    free(z);
    free(img);
    free(labels);
    return st;
}
