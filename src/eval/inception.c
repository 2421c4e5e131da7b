/* The Inception-v3 FID feature network on a device: its weights file (made
 * by tools/inception_convert.py, `datasets/fetch.sh inception`), the layer
 * table read from it, and batched 2048-d features. */
#include "clgan/eval.h"

#include "core/sha256.h"
#include "train/params_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct clgan_inception {
    clgan_device *dev;
    clgan_params *weights;
    clgan_graph *g;
    clgan_node x, features;
    int batch;
    float *stage, *feat_stage; /* a batch of images, and of features, for the last partial batch */
    clgan_inception_layers layers;
    char weights_sha256[65]; /* of the weights file's tensors: part of the feature cache's key */
};

clgan_status clgan_inception_default_path(char *out, size_t cap) {
    const char *root = getenv("CLGAN_DATA_DIR"), *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int k;
    if (root && *root)
        k = snprintf(out, cap, "%s/inception/%s", root, CLGAN_INCEPTION_FILE);
    else if (xdg && *xdg)
        k = snprintf(out, cap, "%s/clgan/datasets/inception/%s", xdg, CLGAN_INCEPTION_FILE);
    else if (home && *home)
        k = snprintf(out, cap, "%s/.local/share/clgan/datasets/inception/%s", home, CLGAN_INCEPTION_FILE);
    else
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "no CLGAN_DATA_DIR, XDG_DATA_HOME or HOME to find the Inception weights in");
    if (k < 0 || (size_t)k >= cap) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the Inception weights path is too long");
    return CLGAN_OK;
}

clgan_status clgan_inception_find(const char *named, const char *option, char *out, size_t cap) {
    if (named && *named) {
        if ((size_t)snprintf(out, cap, "%s", named) >= cap)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "the Inception weights path is too long");
    } else {
        clgan_status st = clgan_inception_default_path(out, cap);
        if (st != CLGAN_OK) return st;
    }
    if (access(out, R_OK) != 0)
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "no Inception weights at %s: datasets/fetch.sh inception installs them "
                         "(or name a file with %s FILE)", out, option);
    return CLGAN_OK;
}

clgan_feature_net clgan_default_feature_net(const clgan_model_config *m, const char *named) {
    char path[1400];
    if (m->kind == CLGAN_MODEL_TOY || m->channels != 3) return CLGAN_FEATURES_CLASSIFIER;
    if (clgan_inception_find(named, "", path, sizeof path) == CLGAN_OK) return CLGAN_FEATURES_INCEPTION;
    clgan_clear_error(); /* not an error here: the classifier is the default */
    return CLGAN_FEATURES_CLASSIFIER;
}

/* One layer's stride and padding from the metadata's "layers" object:
 * {"stride": S, "padding": P or [PH, PW]} */
static clgan_status layer_of(const char *path, const clgan_json *spec, clgan_inception_conv *c) {
    int64_t s = 0;
    if (clgan_json_get_int(spec, "stride", &s) != CLGAN_OK || s < 1 || s > 8)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: layer %s: stride is not an integer in [1, 8]", path, clgan_esc(c->name));
    c->stride = (int)s;
    const clgan_json *p = clgan_json_get(spec, "padding");
    const clgan_json *ph = p && p->kind == CLGAN_JSON_ARRAY && p->count == 2 ? clgan_json_at(p, 0) : p;
    const clgan_json *pw = p && p->kind == CLGAN_JSON_ARRAY && p->count == 2 ? clgan_json_at(p, 1) : p;
    if (!ph || !pw || ph->kind != CLGAN_JSON_NUMBER || !ph->is_integer || pw->kind != CLGAN_JSON_NUMBER ||
        !pw->is_integer || ph->integer < 0 || ph->integer > 8 || pw->integer < 0 || pw->integer > 8)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: layer %s: padding is not an integer or a pair of integers in [0, 8]",
                         path, clgan_esc(c->name));
    c->pad_h = (int)ph->integer;
    c->pad_w = (int)pw->integer;
    return CLGAN_OK;
}

/* The layer table: every layer of the metadata, its weight's shape from the file */
static clgan_status read_layers(const clgan_st_file *f, clgan_inception_layers *L) {
    const char *path = clgan_st_path(f), *format = clgan_st_meta(f, "format"), *text = clgan_st_meta(f, "layers");
    if (!format || strcmp(format, "clgan-inception") != 0)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ format is %s, expected \"clgan-inception\" (a file made "
                         "by tools/inception_convert.py)", path, format ? clgan_esc(format) : "missing");
    if (!text) return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ has no \"layers\"", path);
    clgan_json *j = NULL;
    clgan_status st = clgan_json_parse(text, strlen(text), &j);
    if (st != CLGAN_OK) return clgan_error_context(st, "%s: __metadata__ layers: ", path);
    L->n = 0;
    if (j->kind != CLGAN_JSON_OBJECT || j->count != CLGAN_INCEPTION_CONVS)
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ layers describes %zu layers, expected an object of %d", path,
                       j->kind == CLGAN_JSON_OBJECT ? j->count : 0, CLGAN_INCEPTION_CONVS);
    for (size_t i = 0; st == CLGAN_OK && i < j->count; i++) {
        const clgan_json *m = clgan_json_at(j, i);
        clgan_inception_conv *c = &L->conv[L->n];
        if (m->key_length >= sizeof c->name) {
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: a layer name of %zu bytes", path, m->key_length);
            break;
        }
        memcpy(c->name, m->key, m->key_length + 1);
        if ((st = layer_of(path, m, c)) != CLGAN_OK) break;
        char wname[64];
        snprintf(wname, sizeof wname, "%s.weight", c->name);
        const clgan_st_tensor *w = clgan_st_find(f, wname);
        if (!w || w->ndim != 4 || w->shape[0] < 1 || w->shape[0] > 4096 || w->shape[1] < 1 || w->shape[1] > 4096 ||
            w->shape[2] < 1 || w->shape[2] > 11 || w->shape[3] < 1 || w->shape[3] > 11) {
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: layer %s has no weight of shape (out, in, kh, kw) within "
                           "(4096, 4096, 11, 11)", path, clgan_esc(c->name));
            break;
        }
        c->out = (int)w->shape[0];
        c->in = (int)w->shape[1];
        c->kh = (int)w->shape[2];
        c->kw = (int)w->shape[3];
        L->n++;
    }
    clgan_json_free(j);
    return st;
}

void clgan_inception_free(clgan_inception *m) {
    if (!m) return;
    clgan_graph_free(m->g);
    clgan_params_free(m->weights);
    free(m->stage);
    free(m->feat_stage);
    free(m);
}

clgan_status clgan_inception_open(const char *path, clgan_device *d, int batch, clgan_inception **out) {
    *out = NULL;
    if (batch < 1 || batch > 1024)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Inception: batch %d, expected 1 to 1024", batch);
    clgan_st_file *f = NULL;
    clgan_status st = clgan_st_read(path, &f);
    clgan_inception *m = calloc(1, sizeof *m);
    if (st == CLGAN_OK && !m) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) {
        m->dev = d;
        m->batch = batch;
        st = read_layers(f, &m->layers);
    }
    if (st == CLGAN_OK) {
        m->weights = clgan_params_new("inception");
        m->g = clgan_graph_new();
        if (!m->weights || !m->g) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    }
    if (st == CLGAN_OK) {
        clgan_nn nn = {.g = m->g, .params = m->weights, .buffers = m->weights, .prefix = "", .init = CLGAN_INIT_FAN_IN};
        m->x = clgan_input(m->g, "x", 4, (int[]){batch, 3, CLGAN_INCEPTION_SIZE, CLGAN_INCEPTION_SIZE});
        m->features = clgan_inception_v3(&nn, &m->layers, m->x);
        clgan_graph_keep(m->g, m->features);
        st = clgan_graph_status(m->g);
    }
    /* every tensor of the file is one of the network's, with its shape, before anything is allocated on d */
    if (st == CLGAN_OK) st = clgan_params_st_check(f, m->weights);
    if (st == CLGAN_OK && clgan_st_count(f) != clgan_params_count(m->weights))
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: %d tensors, expected the network's %d", path, clgan_st_count(f),
                       clgan_params_count(m->weights));
    size_t per = 3 * (size_t)CLGAN_INCEPTION_SIZE * CLGAN_INCEPTION_SIZE;
    if (st == CLGAN_OK) {
        m->stage = malloc((size_t)batch * per * sizeof(float));
        m->feat_stage = malloc((size_t)batch * CLGAN_INCEPTION_FEATURES * sizeof(float));
        if (!m->stage || !m->feat_stage) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "Inception: out of host memory for a batch of %d", batch);
    }
    if (st == CLGAN_OK) {
        clgan_sha256 h;
        uint8_t dig[32];
        clgan_sha256_init(&h);
        for (int i = 0; i < clgan_st_count(f); i++) {
            const clgan_st_tensor *t = clgan_st_at(f, i);
            clgan_sha256_update(&h, t->name, strlen(t->name) + 1);
            if (t->nbytes) clgan_sha256_update(&h, t->data, t->nbytes);
        }
        clgan_sha256_final(&h, dig);
        clgan_sha256_hex(dig, m->weights_sha256);
    }
    if (st == CLGAN_OK) st = clgan_params_alloc(m->weights, d, 0);
    if (st == CLGAN_OK) st = clgan_params_st_load(f, m->weights);
    if (st == CLGAN_OK) st = clgan_graph_compile(m->g, d);
    clgan_st_close(f);
    if (st != CLGAN_OK) {
        clgan_inception_free(m);
        if (!strstr(clgan_last_error(), path)) clgan_error_context(st, "Inception weights %s: ", path);
        return st;
    }
    *out = m;
    return CLGAN_OK;
}

/* [-1, 1] -> the 8-bit level a PNG of it holds (io/png.c's rounding) */
static float level(float v) {
    if (!(v >= -1.0f)) v = -1.0f; /* NaN too */
    if (v > 1.0f) v = 1.0f;
    return floorf((v + 1.0f) * 127.5f + 0.5f);
}

void clgan_inception_prepare(const float *x, int n, int c, int h, int w, float *out) {
    const int S = CLGAN_INCEPTION_SIZE;
    size_t plane = (size_t)h * w, oplane = (size_t)S * S;
    /* per output row and column: the two source cells and the weight of the second. Output cell o samples
     * the input at o * in / 299 (TensorFlow 1's resize_bilinear without half-pixel centres, which
     * StyleGAN2-ADA's grid_sample reproduces), clamped to the image (border padding) */
    int y0[CLGAN_INCEPTION_SIZE], y1[CLGAN_INCEPTION_SIZE], x0[CLGAN_INCEPTION_SIZE], x1[CLGAN_INCEPTION_SIZE];
    float fy[CLGAN_INCEPTION_SIZE], fx[CLGAN_INCEPTION_SIZE];
    for (int axis = 0; axis < 2; axis++) {
        int len = axis ? w : h, *a = axis ? x0 : y0, *b = axis ? x1 : y1;
        float *f = axis ? fx : fy;
        for (int o = 0; o < S; o++) {
            double src = (double)o * len / S;
            if (src > len - 1) src = len - 1;
            int i = (int)src;
            a[o] = i;
            b[o] = i + 1 < len ? i + 1 : i;
            f[o] = (float)(src - i);
        }
    }
    for (int k = 0; k < n; k++)
        for (int ch = 0; ch < 3; ch++) {
            const float *src = x + ((size_t)k * c + (c == 1 ? 0 : ch)) * plane; /* gray: the one channel, three times */
            float *dst = out + ((size_t)k * 3 + ch) * oplane;
            for (int i = 0; i < S; i++) {
                const float *r0 = src + (size_t)y0[i] * w, *r1 = src + (size_t)y1[i] * w;
                for (int j = 0; j < S; j++) {
                    float a = level(r0[x0[j]]), b = level(r0[x1[j]]), cc = level(r1[x0[j]]), dd = level(r1[x1[j]]);
                    float top = a + fx[j] * (b - a), bot = cc + fx[j] * (dd - cc);
                    float v = top + fy[i] * (bot - top);
                    dst[(size_t)i * S + j] = v / 128.0f - 1.0f; /* (p - 128) / 128, the TF graph's input */
                }
            }
        }
}

clgan_status clgan_inception_features_of(clgan_inception *m, const float *x, int n, int c, int h, int w,
                                         float *features) {
    if (c != 1 && c != 3) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Inception: images with %d channels, expected 1 or 3", c);
    if (h < 1 || w < 1 || h > 4096 || w > 4096)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Inception: %d x %d images, expected sides of 1 to 4096", h, w);
    size_t per = 3 * (size_t)CLGAN_INCEPTION_SIZE * CLGAN_INCEPTION_SIZE, in = (size_t)c * h * w;
    float *prep = malloc((size_t)m->batch * per * sizeof *prep);
    if (!prep) return CLGAN_ERR(CLGAN_ERR_NOMEM, "Inception: out of host memory for a batch of %d", m->batch);
    clgan_status st = CLGAN_OK;
    for (int at = 0; at < n && st == CLGAN_OK; at += m->batch) {
        int k = n - at < m->batch ? n - at : m->batch;
        clgan_inception_prepare(x + (size_t)at * in, k, c, h, w, prep);
        st = clgan_inception_features(m, prep, k, features + (size_t)at * CLGAN_INCEPTION_FEATURES);
    }
    free(prep);
    return st;
}

clgan_status clgan_inception_features(clgan_inception *m, const float *x, int n, float *features) {
    if (n < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Inception: features of %d images", n);
    size_t per = 3 * (size_t)CLGAN_INCEPTION_SIZE * CLGAN_INCEPTION_SIZE, f = CLGAN_INCEPTION_FEATURES;
    int b = m->batch;
    clgan_status st = CLGAN_OK;
    for (int at = 0; at < n && st == CLGAN_OK; at += b) {
        int k = n - at < b ? n - at : b;
        const float *src = x + (size_t)at * per;
        if (k < b) { /* the last, partial batch: the rest of it repeats its first image */
            for (int i = 0; i < b; i++) memcpy(m->stage + (size_t)i * per, src + (size_t)(i < k ? i : 0) * per, per * sizeof(float));
            src = m->stage;
        }
        st = clgan_graph_write(m->g, m->x, src);
        if (st == CLGAN_OK) st = clgan_graph_run(m->g, 0);
        if (st == CLGAN_OK) st = clgan_graph_read(m->g, m->features, k == b ? features + (size_t)at * f : m->feat_stage);
        if (st == CLGAN_OK && k < b) memcpy(features + (size_t)at * f, m->feat_stage, (size_t)k * f * sizeof(float));
    }
    return st;
}

/* The cache entry of a set of images: SHA-256 of the protocol, the weights and the images themselves */
static void cache_path(const clgan_inception *m, const char *dir, const float *x, int n, int c, int h, int w,
                       char *path, size_t cap, char *key) {
    clgan_sha256 s;
    uint8_t dig[32];
    char dims[96];
    clgan_sha256_init(&s);
    const char *proto = "clgan inception features v1: 8-bit levels, TF1 bilinear to 299, (p - 128) / 128";
    clgan_sha256_update(&s, proto, strlen(proto) + 1);
    clgan_sha256_update(&s, m->weights_sha256, sizeof m->weights_sha256);
    snprintf(dims, sizeof dims, "%d %d %d %d", n, c, h, w);
    clgan_sha256_update(&s, dims, strlen(dims) + 1);
    clgan_sha256_update(&s, x, (size_t)n * c * h * w * sizeof *x);
    clgan_sha256_final(&s, dig);
    clgan_sha256_hex(dig, key);
    snprintf(path, cap, "%s/inception-features/%.32s.safetensors", dir, key);
}

clgan_status clgan_inception_cached_features(clgan_inception *m, const char *cache_dir, const float *x, int n, int c,
                                             int h, int w, float *features, bool *hit) {
    *hit = false;
    if (!cache_dir || !*cache_dir) return clgan_inception_features_of(m, x, n, c, h, w, features);
    char path[1400], key[65];
    cache_path(m, cache_dir, x, n, c, h, w, path, sizeof path, key);
    clgan_st_file *f = NULL;
    const void *data = NULL;
    /* a missing, unreadable or foreign entry is computed again and replaced */
    if (clgan_st_read(path, &f) == CLGAN_OK) {
        const char *k = clgan_st_meta(f, "key");
        if (k && strcmp(k, key) == 0 &&
            clgan_st_get(f, "features", CLGAN_DT_F32, 2, (const int64_t[]){n, CLGAN_INCEPTION_FEATURES}, &data) ==
                CLGAN_OK) {
            memcpy(features, data, (size_t)n * CLGAN_INCEPTION_FEATURES * sizeof *features);
            *hit = true;
        }
        clgan_st_close(f);
        if (*hit) return CLGAN_OK;
    }
    clgan_clear_error();
    clgan_status st = clgan_inception_features_of(m, x, n, c, h, w, features);
    if (st != CLGAN_OK) return st;
    clgan_st_writer *wr = clgan_st_writer_new();
    if (!wr) return CLGAN_OK; /* the cache is an optimisation: never a reason to fail */
    const int64_t shape[2] = {n, CLGAN_INCEPTION_FEATURES};
    clgan_status ws = clgan_st_add(wr, "features", CLGAN_DT_F32, 2, shape, features);
    if (ws == CLGAN_OK) ws = clgan_st_add_meta(wr, "key", key);
    if (ws == CLGAN_OK) ws = clgan_make_parent_dirs(path);
    if (ws == CLGAN_OK) ws = clgan_st_write(wr, path);
    if (ws != CLGAN_OK) clgan_log(CLGAN_LOG_WARN, "could not cache the Inception features in %s: %s", path, clgan_last_error());
    clgan_st_writer_free(wr);
    clgan_clear_error();
    return CLGAN_OK;
}
