/* Run configuration: defaults, and JSON both ways (config.json and a
 * checkpoint's __metadata__ hold it). */
#include "clgan/train.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const model_names[] = {"mlp", "dcgan", "toy"};
static const char *const norm_names[] = {"batch", "layer", "none"};

const char *clgan_model_name(clgan_model_kind k) { return (unsigned)k < 3 ? model_names[k] : "?"; }

clgan_status clgan_model_parse(const char *s, clgan_model_kind *out) {
    for (int i = 0; i < 3; i++)
        if (strcmp(s, model_names[i]) == 0) {
            *out = (clgan_model_kind)i;
            return CLGAN_OK;
        }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "model '%s': expected mlp, dcgan or toy", s);
}

void clgan_run_defaults(clgan_run_config *rc, clgan_model_kind model, clgan_loss_kind loss) {
    memset(rc, 0, sizeof *rc);
    clgan_gan_config *g = &rc->gan;
    clgan_gan_defaults(g, loss);
    clgan_model_config *m = &g->model;
    m->kind = model;
    m->z_dim = 100;
    m->channels = 1;
    m->image_size = 28;
    g->batch = 64;
    g->seed = 1;
    if (model == CLGAN_MODEL_DCGAN) {
        m->width = 64;
    } else if (model == CLGAN_MODEL_MLP) {
        static const int w[] = {128, 128, 1024, 1024};
        memcpy(m->widths, w, sizeof w);
        m->n_widths = 4;
        m->d_norm = CLGAN_NORM_NONE; /* the MLP has no normalisation */
    } else {
        m->z_dim = 2;
        m->width = 128;
        m->d_norm = CLGAN_NORM_NONE;
        g->batch = 256;
        /* on 2-D mixtures of radius 1-4 and sigma 0.01-0.05, lambda 10 keeps the 1-Lipschitz critic from
         * separating near-mode samples (ring8: 1-5 of 8 modes, < 1% within 3 sigma); the WGAN-GP paper's public
         * toy code uses 0.1, which gives 8 of 8 and about half (docs/results.md) */
        if (loss == CLGAN_LOSS_WGAN_GP) g->gp_lambda = 0.1f;
    }
    snprintf(rc->dataset, sizeof rc->dataset, "%s", model == CLGAN_MODEL_TOY ? "ring8" : "fashion-mnist");
    rc->steps = 2000;
    rc->log_every = 50;
    rc->sample_every = 500;
    rc->checkpoint_every = 1000;
    rc->keep_checkpoints = 3;
    rc->on_nan = CLGAN_ON_NAN_STOP;
}

static void opt_json(clgan_jbuf *b, const char *key, const clgan_opt_config *o) {
    clgan_jbuf_key(b, key);
    clgan_jbuf_begin_object(b);
    clgan_jbuf_key(b, "kind");
    clgan_jbuf_str(b, clgan_opt_name(o->kind));
    const struct {
        const char *k;
        float v;
    } f[] = {{"lr", o->lr}, {"beta1", o->beta1}, {"beta2", o->beta2}, {"eps", o->eps},
             {"momentum", o->momentum}, {"alpha", o->alpha}, {"weight_decay", o->weight_decay}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        clgan_jbuf_key(b, f[i].k);
        clgan_jbuf_f32(b, f[i].v);
    }
    clgan_jbuf_end_object(b);
}

void clgan_run_config_to_json(const clgan_run_config *rc, clgan_jbuf *b) {
    const clgan_gan_config *g = &rc->gan;
    const clgan_model_config *m = &g->model;
    clgan_jbuf_begin_object(b);
    clgan_jbuf_key(b, "model");
    clgan_jbuf_begin_object(b);
    clgan_jbuf_key(b, "kind");
    clgan_jbuf_str(b, clgan_model_name(m->kind));
    clgan_jbuf_key(b, "z_dim");
    clgan_jbuf_int(b, m->z_dim);
    clgan_jbuf_key(b, "channels");
    clgan_jbuf_int(b, m->channels);
    clgan_jbuf_key(b, "image_size");
    clgan_jbuf_int(b, m->image_size);
    clgan_jbuf_key(b, "width");
    clgan_jbuf_int(b, m->width);
    clgan_jbuf_key(b, "widths");
    clgan_jbuf_begin_array(b);
    for (int i = 0; i < m->n_widths; i++) clgan_jbuf_int(b, m->widths[i]);
    clgan_jbuf_end_array(b);
    clgan_jbuf_key(b, "classes");
    clgan_jbuf_int(b, m->classes);
    clgan_jbuf_key(b, "d_norm");
    clgan_jbuf_str(b, norm_names[m->d_norm]);
    clgan_jbuf_end_object(b);
    clgan_jbuf_key(b, "loss");
    clgan_jbuf_str(b, clgan_loss_name(g->loss));
    clgan_jbuf_key(b, "batch_size");
    clgan_jbuf_int(b, g->batch);
    clgan_jbuf_key(b, "seed");
    clgan_jbuf_uint(b, g->seed);
    clgan_jbuf_key(b, "gp_lambda");
    clgan_jbuf_f32(b, g->gp_lambda);
    clgan_jbuf_key(b, "gp_phase_steps");
    clgan_jbuf_int(b, g->gp_phase_steps);
    clgan_jbuf_key(b, "n_critic");
    clgan_jbuf_int(b, g->n_critic);
    clgan_jbuf_key(b, "weight_clip");
    clgan_jbuf_f32(b, g->weight_clip);
    clgan_jbuf_key(b, "clip_grad");
    clgan_jbuf_f32(b, g->clip_grad);
    opt_json(b, "opt_g", &g->opt_g);
    opt_json(b, "opt_d", &g->opt_d);
    clgan_jbuf_key(b, "lr_schedule");
    clgan_jbuf_begin_object(b);
    clgan_jbuf_key(b, "kind");
    clgan_jbuf_str(b, clgan_lr_schedule_name(g->lr_schedule.kind));
    clgan_jbuf_key(b, "start");
    clgan_jbuf_int(b, g->lr_schedule.start);
    clgan_jbuf_key(b, "end");
    clgan_jbuf_int(b, g->lr_schedule.end);
    clgan_jbuf_key(b, "factor");
    clgan_jbuf_f32(b, g->lr_schedule.factor);
    clgan_jbuf_end_object(b);
    clgan_jbuf_key(b, "dataset");
    clgan_jbuf_str(b, rc->dataset);
    clgan_jbuf_key(b, "data_path");
    clgan_jbuf_str(b, rc->data_path);
    clgan_jbuf_key(b, "steps");
    clgan_jbuf_int(b, rc->steps);
    clgan_jbuf_key(b, "time_limit");
    clgan_jbuf_num(b, rc->time_limit);
    clgan_jbuf_key(b, "log_every");
    clgan_jbuf_int(b, rc->log_every);
    clgan_jbuf_key(b, "sample_every");
    clgan_jbuf_int(b, rc->sample_every);
    clgan_jbuf_key(b, "checkpoint_every");
    clgan_jbuf_int(b, rc->checkpoint_every);
    clgan_jbuf_key(b, "keep_checkpoints");
    clgan_jbuf_int(b, rc->keep_checkpoints);
    clgan_jbuf_key(b, "on_nan");
    clgan_jbuf_str(b, rc->on_nan == CLGAN_ON_NAN_ROLLBACK ? "rollback" : "stop");
    clgan_jbuf_key(b, "out_dir");
    clgan_jbuf_str(b, rc->out_dir);
    clgan_jbuf_end_object(b);
}

/* ---- reading back: every field must be present and of its type ---- */

typedef struct {
    const clgan_json *obj;
    const char *where;
    clgan_status st;
} reader;

static const clgan_json *field(reader *r, const char *key, clgan_json_kind kind) {
    if (r->st != CLGAN_OK) return NULL;
    const clgan_json *v = clgan_json_get(r->obj, key);
    if (!v || v->kind != kind) {
        r->st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s%s is %s, expected %s", r->where, key,
                          v ? clgan_json_kind_name(v->kind) : "missing", clgan_json_kind_name(kind));
        return NULL;
    }
    return v;
}

static long get_int(reader *r, const char *key, long lo, long hi) {
    const clgan_json *v = field(r, key, CLGAN_JSON_NUMBER);
    if (!v) return 0;
    if (!v->is_integer || v->integer < lo || v->integer > hi) {
        r->st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s%s = %g, expected an integer in [%ld, %ld]", r->where,
                          key, v->number, lo, hi);
        return 0;
    }
    return (long)v->integer;
}

/* a number stored as a float: finite in float too (1e39 is a finite double but +inf as a float) */
static double get_num(reader *r, const char *key) {
    const clgan_json *v = field(r, key, CLGAN_JSON_NUMBER);
    if (!v) return 0;
    if (!isfinite(v->number) || fabs(v->number) > FLT_MAX) {
        r->st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s%s = %g, expected a finite number within float range",
                          r->where, key, v->number);
        return 0;
    }
    return v->number;
}

static void get_str(reader *r, const char *key, char *out, size_t cap) {
    const clgan_json *v = field(r, key, CLGAN_JSON_STRING);
    if (!v) return;
    if (v->length >= cap) {
        r->st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s%s is longer than %zu bytes", r->where, key, cap - 1);
        return;
    }
    memcpy(out, v->string, v->length + 1);
}

static void get_opt(reader *r, const char *key, clgan_opt_config *o) {
    const clgan_json *v = field(r, key, CLGAN_JSON_OBJECT);
    if (!v) return;
    reader sub = {v, key[4] == 'g' ? "opt_g." : "opt_d.", CLGAN_OK};
    char kind[16] = "";
    get_str(&sub, "kind", kind, sizeof kind);
    /* a bad name in a file is a format error, not a bad argument */
    if (sub.st == CLGAN_OK && clgan_opt_parse(kind, &o->kind) != CLGAN_OK)
        sub.st = clgan_error_context(CLGAN_ERR_FORMAT, "configuration: %skind: ", sub.where);
    o->lr = (float)get_num(&sub, "lr");
    o->beta1 = (float)get_num(&sub, "beta1");
    o->beta2 = (float)get_num(&sub, "beta2");
    o->eps = (float)get_num(&sub, "eps");
    o->momentum = (float)get_num(&sub, "momentum");
    o->alpha = (float)get_num(&sub, "alpha");
    o->weight_decay = (float)get_num(&sub, "weight_decay");
    r->st = sub.st;
}

clgan_status clgan_run_config_from_json(const clgan_json *j, clgan_run_config *rc) {
    memset(rc, 0, sizeof *rc);
    if (!j || j->kind != CLGAN_JSON_OBJECT) return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: not a JSON object");
    reader r = {j, "", CLGAN_OK};
    clgan_gan_config *g = &rc->gan;
    clgan_model_config *m = &g->model;
    const clgan_json *mj = field(&r, "model", CLGAN_JSON_OBJECT);
    if (mj) {
        reader mr = {mj, "model.", CLGAN_OK};
        char s[32] = "";
        get_str(&mr, "kind", s, sizeof s);
        if (mr.st == CLGAN_OK && clgan_model_parse(s, &m->kind) != CLGAN_OK)
            mr.st = clgan_error_context(CLGAN_ERR_FORMAT, "configuration: model.kind: ");
        m->z_dim = (int)get_int(&mr, "z_dim", 1, 1 << 20);
        m->channels = (int)get_int(&mr, "channels", 0, 4);
        m->image_size = (int)get_int(&mr, "image_size", 0, 4096);
        m->width = (int)get_int(&mr, "width", 0, 1 << 20);
        m->classes = (int)get_int(&mr, "classes", 0, 100000);
        const clgan_json *w = field(&mr, "widths", CLGAN_JSON_ARRAY);
        if (w && w->count > CLGAN_MAX_WIDTHS)
            mr.st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: model.widths has %zu entries, at most %d", w->count,
                              CLGAN_MAX_WIDTHS);
        for (size_t i = 0; w && mr.st == CLGAN_OK && i < w->count; i++) {
            const clgan_json *e = clgan_json_at(w, i);
            if (e->kind != CLGAN_JSON_NUMBER || !e->is_integer || e->integer < 1 || e->integer > (1 << 20))
                mr.st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: model.widths[%zu] is not a positive integer", i);
            else
                m->widths[m->n_widths++] = (int)e->integer;
        }
        get_str(&mr, "d_norm", s, sizeof s);
        if (mr.st == CLGAN_OK) {
            int k = 0;
            while (k < 3 && strcmp(s, norm_names[k]) != 0) k++;
            if (k == 3) mr.st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: model.d_norm '%s'", s);
            m->d_norm = (clgan_norm_kind)k;
        }
        r.st = mr.st;
    }
    char s[32] = "";
    get_str(&r, "loss", s, sizeof s);
    if (r.st == CLGAN_OK && clgan_loss_parse(s, &g->loss) != CLGAN_OK)
        r.st = clgan_error_context(CLGAN_ERR_FORMAT, "configuration: loss: ");
    g->batch = (int)get_int(&r, "batch_size", 1, 1 << 20);
    /* seeds are integers in [0, 2^63): exactly representable in the JSON reader */
    g->seed = (uint64_t)get_int(&r, "seed", 0, INT64_MAX);
    g->gp_lambda = (float)get_num(&r, "gp_lambda");
    g->gp_phase_steps = (int)get_int(&r, "gp_phase_steps", 0, 1L << 30);
    g->n_critic = (int)get_int(&r, "n_critic", 1, 1000);
    g->weight_clip = (float)get_num(&r, "weight_clip");
    g->clip_grad = (float)get_num(&r, "clip_grad");
    get_opt(&r, "opt_g", &g->opt_g);
    get_opt(&r, "opt_d", &g->opt_d);
    /* optional: configurations written before schedules existed have none */
    if (r.st == CLGAN_OK && clgan_json_get(r.obj, "lr_schedule")) {
        const clgan_json *v = field(&r, "lr_schedule", CLGAN_JSON_OBJECT);
        reader sr = {v, "lr_schedule.", r.st};
        get_str(&sr, "kind", s, sizeof s);
        if (sr.st == CLGAN_OK && clgan_lr_schedule_parse(s, &g->lr_schedule.kind) != CLGAN_OK)
            sr.st = clgan_error_context(CLGAN_ERR_FORMAT, "configuration: lr_schedule.kind: ");
        g->lr_schedule.start = get_int(&sr, "start", 0, 1L << 40);
        g->lr_schedule.end = get_int(&sr, "end", 0, 1L << 40);
        g->lr_schedule.factor = (float)get_num(&sr, "factor");
        if (sr.st == CLGAN_OK && !(g->lr_schedule.factor >= 0 && g->lr_schedule.factor <= 1))
            sr.st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: lr_schedule.factor = %g, expected a number in [0, 1]",
                              (double)g->lr_schedule.factor);
        r.st = sr.st;
    }
    get_str(&r, "dataset", rc->dataset, sizeof rc->dataset);
    get_str(&r, "data_path", rc->data_path, sizeof rc->data_path);
    rc->steps = get_int(&r, "steps", 0, 1L << 40);
    {
        /* a double, not a float */
        const clgan_json *v = field(&r, "time_limit", CLGAN_JSON_NUMBER);
        rc->time_limit = v ? v->number : 0;
    }
    rc->log_every = (int)get_int(&r, "log_every", 1, 1 << 30);
    rc->sample_every = (int)get_int(&r, "sample_every", 0, 1 << 30);
    rc->checkpoint_every = (int)get_int(&r, "checkpoint_every", 0, 1 << 30);
    rc->keep_checkpoints = (int)get_int(&r, "keep_checkpoints", 1, 1 << 20);
    get_str(&r, "on_nan", s, sizeof s);
    if (r.st == CLGAN_OK) {
        if (strcmp(s, "rollback") == 0)
            rc->on_nan = CLGAN_ON_NAN_ROLLBACK;
        else if (strcmp(s, "stop") == 0)
            rc->on_nan = CLGAN_ON_NAN_STOP;
        else
            r.st = CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: on_nan is '%s', expected stop or rollback", s);
    }
    get_str(&r, "out_dir", rc->out_dir, sizeof rc->out_dir);
    /* read is not enough: the values must describe a run that can be built */
    if (r.st == CLGAN_OK && clgan_run_config_check(rc) != CLGAN_OK)
        r.st = clgan_error_context(CLGAN_ERR_FORMAT, "configuration: ");
    return r.st;
}

clgan_status clgan_run_config_check(const clgan_run_config *rc) {
    clgan_status st = clgan_gan_config_check(&rc->gan);
    if (st != CLGAN_OK) return st;
    if (rc->steps < 0 || rc->steps > (1L << 40))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "steps %ld, expected 0 to 2^40", rc->steps);
    if (!isfinite(rc->time_limit) || rc->time_limit < 0 || rc->time_limit > 1e9)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "time_limit %g, expected a finite number of seconds in [0, 1e9]",
                         rc->time_limit);
    if (rc->log_every < 1 || rc->sample_every < 0 || rc->checkpoint_every < 0 || rc->keep_checkpoints < 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "log_every %d, sample_every %d, checkpoint_every %d, keep_checkpoints %d: expected >= 1, >= 0, "
                         ">= 0, >= 1",
                         rc->log_every, rc->sample_every, rc->checkpoint_every, rc->keep_checkpoints);
    if ((unsigned)rc->on_nan > CLGAN_ON_NAN_ROLLBACK) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "on_nan %d", (int)rc->on_nan);
    if (!memchr(rc->dataset, 0, sizeof rc->dataset) || !memchr(rc->data_path, 0, sizeof rc->data_path) ||
        !memchr(rc->out_dir, 0, sizeof rc->out_dir))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a dataset, data path or output folder name is not terminated");
    return CLGAN_OK;
}
