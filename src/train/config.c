/* Run configuration: defaults, and JSON both ways (config.json and a
 * checkpoint's __metadata__ hold it). */
#include "clgan/train.h"

#include <errno.h>
#include <float.h>
#include <stddef.h>
#include <stdlib.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const model_names[] = {"mlp", "dcgan", "toy"};
static const char *const norm_names[] = {"batch", "layer", "none", "spectral"};

clgan_status clgan_augment_parse(const char *policy, unsigned *mask) {
    static const char *const names[] = {"color", "translation", "cutout"};
    *mask = 0;
    if (!policy || !*policy || strcmp(policy, "none") == 0) return CLGAN_OK;
    for (const char *s = policy;;) {
        size_t len = strcspn(s, ",");
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0) k = i;
        if (k < 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "augmentation '%.*s' in '%s': expected color, translation or cutout "
                             "(comma-separated), or none", (int)(len < 32 ? len : 32), s, policy);
        *mask |= 1u << k;
        if (!s[len]) return CLGAN_OK;
        s += len + 1;
    }
}

/* the index of s among names[0 .. n), or -1 */
static int name_index(const char *const *names, int n, const char *s) {
    for (int i = 0; i < n && s; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

const char *clgan_model_name(clgan_model_kind k) { return (unsigned)k < 3 ? model_names[k] : "?"; }

clgan_status clgan_model_parse(const char *s, clgan_model_kind *out) {
    int i = name_index(model_names, 3, s);
    if (i < 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "model '%s': expected mlp, dcgan or toy", s);
    *out = (clgan_model_kind)i;
    return CLGAN_OK;
}

const char *clgan_norm_name(clgan_norm_kind k) { return (unsigned)k < 4 ? norm_names[k] : "?"; }

clgan_status clgan_norm_parse(const char *s, clgan_norm_kind *out) {
    int i = name_index(norm_names, 4, s);
    if (i < 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "discriminator normalisation '%s': expected batch, layer, none or spectral", s);
    *out = (clgan_norm_kind)i;
    return CLGAN_OK;
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
         * toy code uses 0.1, which gives 8 of 8 and about half (docs/results.md). Its Adam rate, 1e-4 over
         * 100,000 generator steps, is far past this model's 2,000-step default: 1e-3 decayed linearly to 0 with
         * the toy code's beta1 0.5 and G and D of three hidden layers (the toy code's depth) cover 24-25 of
         * grid25's modes over five seeds (docs/results.md) */
        if (loss == CLGAN_LOSS_WGAN_GP) { /* and three hidden layers: two cover 18 of 25 (seed 1) */
            m->n_widths = 3;
            for (int i = 0; i < 3; i++) m->widths[i] = m->width;
            g->gp_lambda = 0.1f;
            g->opt_g.lr = g->opt_d.lr = 1e-3f;
            g->opt_g.beta1 = g->opt_d.beta1 = 0.5f;
            g->lr_schedule.kind = CLGAN_LR_LINEAR;
        }
    }
    snprintf(rc->dataset, sizeof rc->dataset, "%s", model == CLGAN_MODEL_TOY ? "ring8" : "fashion-mnist");
    rc->steps = 2000;
    if (g->lr_schedule.kind == CLGAN_LR_LINEAR) g->lr_schedule.end = rc->steps; /* a caller changing steps sets it too */
    rc->log_every = 50;
    rc->sample_every = 500;
    rc->checkpoint_every = 1000;
    rc->keep_checkpoints = 3;
    rc->on_nan = CLGAN_ON_NAN_STOP;
    rc->eval.samples = 1000;
}

void clgan_run_set_width(clgan_run_config *rc, int width) {
    clgan_model_config *m = &rc->gan.model;
    m->width = width;
    if (m->kind == CLGAN_MODEL_TOY)
        for (int i = 0; i < m->n_widths; i++) m->widths[i] = width;
}

void clgan_run_set_dataset(clgan_run_config *rc, const char *dataset) {
    snprintf(rc->dataset, sizeof rc->dataset, "%s", dataset);
    clgan_model_config *m = &rc->gan.model;
    if (strcmp(dataset, "cifar10") == 0) {
        m->channels = 3;
        m->image_size = 32;
    } else if (strcmp(dataset, "folder") == 0) { /* photographs, e.g. CelebA's aligned faces */
        m->channels = 3;
        m->image_size = 64;
    }
}

clgan_status clgan_run_preset(clgan_run_config *rc, const char *name) {
    clgan_gan_config *g = &rc->gan;
    clgan_model_config *m = &g->model;
    if (!name || strcmp(name, "pacgan") != 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "preset '%s': expected pacgan", name ? name : "");
    if (m->kind != CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "preset pacgan is the toy model of the 2-D experiments, not the %s",
                         model_names[m->kind]);
    /* the VEEGAN / PacGAN 2-D architecture (the PacGAN authors' public code: gen_hidden_size 400 x 4 with
     * BatchNorm, disc_hidden_size 200 x 3 with 5 maxout pieces, weights N(0, 0.02), biases 0) */
    m->n_widths = 4;
    for (int i = 0; i < 4; i++) m->widths[i] = 400;
    m->n_d_widths = 3;
    for (int i = 0; i < 3; i++) m->d_widths[i] = 200;
    m->g_batchnorm = 1;
    m->maxout = 5;
    m->normal_init = 1;
    if (g->loss == CLGAN_LOSS_MINIMAX || g->loss == CLGAN_LOSS_NS || g->loss == CLGAN_LOSS_HINGE) {
        g->opt_g.kind = g->opt_d.kind = CLGAN_OPT_ADAM;
        g->opt_g.lr = g->opt_d.lr = 1e-4f;
        g->opt_g.beta1 = g->opt_d.beta1 = 0.8f;
    }
    return CLGAN_OK;
}

int clgan_preset_batch(const clgan_run_config *rc, const char *name) {
    if (!name || strcmp(name, "pacgan") != 0) return 0;
    return 100 * clgan_model_pack(&rc->gan.model);
}

/* ---- the fields: one table for config.json both ways and for the CLI ---- */

static const char *name_model(int i) { return i >= 0 && i < 3 ? model_names[i] : NULL; }
static const char *name_norm(int i) { return i >= 0 && i < 4 ? norm_names[i] : NULL; }
static const char *name_loss(int i) { return i >= 0 && i < 5 ? clgan_loss_name((clgan_loss_kind)i) : NULL; }
static const char *name_opt(int i) { return i >= 0 && i < 3 ? clgan_opt_name((clgan_opt_kind)i) : NULL; }
static const char *name_schedule(int i) { return i >= 0 && i < 3 ? clgan_lr_schedule_name((clgan_lr_schedule_kind)i) : NULL; }
static const char *name_on_nan(int i) { return i == 0 ? "stop" : i == 1 ? "rollback" : NULL; }
static const char *const feature_names[] = {"classifier", "inception"};
static const char *const metric_names[] = {"fid", "kid", "precision", "recall"};
static const char *name_features(int i) { return i >= 0 && i < 2 ? feature_names[i] : NULL; }
static const char *name_metric(int i) { return i >= 0 && i < 4 ? metric_names[i] : NULL; }

const char *clgan_feature_net_name(clgan_feature_net f) { return name_features((int)f) ? name_features((int)f) : "?"; }
const char *clgan_metric_name(clgan_metric_kind m) { return name_metric((int)m) ? name_metric((int)m) : "?"; }
bool clgan_metric_lower_is_better(clgan_metric_kind m) { return m == CLGAN_METRIC_FID || m == CLGAN_METRIC_KID; }

/* every enum of the configuration is stored as an int */
_Static_assert(sizeof(clgan_model_kind) == sizeof(int) && sizeof(clgan_norm_kind) == sizeof(int) &&
                   sizeof(clgan_loss_kind) == sizeof(int) && sizeof(clgan_opt_kind) == sizeof(int) &&
                   sizeof(clgan_lr_schedule_kind) == sizeof(int) && sizeof(clgan_on_nan) == sizeof(int) &&
                   sizeof(clgan_feature_net) == sizeof(int) && sizeof(clgan_metric_kind) == sizeof(int),
               "enums stored as int");

#define RC(member) offsetof(clgan_run_config, member)
#define GC(member) offsetof(clgan_run_config, gan.member)
#define NUM(key, kind, off, lo, hi) {key, kind, off, 0, lo, hi, NULL, 0}
#define ENUM(key, off, names) {key, CLGAN_FIELD_ENUM, off, 0, 0, 0, names, 0}
#define OPT_FIELDS(o)                                                                                   \
    ENUM(#o ".kind", GC(o.kind), name_opt), NUM(#o ".lr", CLGAN_FIELD_F32, GC(o.lr), -FLT_MAX, FLT_MAX), \
        NUM(#o ".beta1", CLGAN_FIELD_F32, GC(o.beta1), -FLT_MAX, FLT_MAX),                              \
        NUM(#o ".beta2", CLGAN_FIELD_F32, GC(o.beta2), -FLT_MAX, FLT_MAX),                              \
        NUM(#o ".eps", CLGAN_FIELD_F32, GC(o.eps), -FLT_MAX, FLT_MAX),                                  \
        NUM(#o ".momentum", CLGAN_FIELD_F32, GC(o.momentum), -FLT_MAX, FLT_MAX),                        \
        NUM(#o ".alpha", CLGAN_FIELD_F32, GC(o.alpha), -FLT_MAX, FLT_MAX),                              \
        NUM(#o ".weight_decay", CLGAN_FIELD_F32, GC(o.weight_decay), -FLT_MAX, FLT_MAX)

/* In the order config.json holds them; a group ("model.") is one JSON
 * object, its fields side by side here. Bounds are what a file may hold
 * (clgan_run_config_check then asks for a run that can be built). */
static const clgan_config_field fields[] = {
    ENUM("model.kind", GC(model.kind), name_model),
    NUM("model.z_dim", CLGAN_FIELD_INT, GC(model.z_dim), 1, 1 << 20),
    NUM("model.channels", CLGAN_FIELD_INT, GC(model.channels), 0, 4),
    NUM("model.image_size", CLGAN_FIELD_INT, GC(model.image_size), 0, 4096),
    NUM("model.width", CLGAN_FIELD_INT, GC(model.width), 0, 1 << 20),
    {"model.widths", CLGAN_FIELD_INTS, GC(model.widths), GC(model.n_widths), 1, 1 << 20, NULL, CLGAN_MAX_WIDTHS},
    NUM("model.classes", CLGAN_FIELD_INT, GC(model.classes), 0, 100000),
    ENUM("model.d_norm", GC(model.d_norm), name_norm),
    /* optional as a group: configurations written before packing and these layer options existed have none */
    NUM("arch.pack", CLGAN_FIELD_INT, GC(model.pack), 0, CLGAN_MAX_PACK),
    NUM("arch.g_batchnorm", CLGAN_FIELD_INT, GC(model.g_batchnorm), 0, 1),
    {"arch.d_widths", CLGAN_FIELD_INTS, GC(model.d_widths), GC(model.n_d_widths), 1, 1 << 20, NULL, CLGAN_MAX_WIDTHS},
    NUM("arch.maxout", CLGAN_FIELD_INT, GC(model.maxout), 0, CLGAN_MAX_MAXOUT),
    NUM("arch.normal_init", CLGAN_FIELD_INT, GC(model.normal_init), 0, 1),
    ENUM("loss", GC(loss), name_loss),
    NUM("batch_size", CLGAN_FIELD_INT, GC(batch), 1, 1 << 20),
    /* seeds are integers in [0, 2^63): exactly representable in the JSON reader */
    NUM("seed", CLGAN_FIELD_U64, GC(seed), 0, (double)INT64_MAX),
    NUM("gp_lambda", CLGAN_FIELD_F32, GC(gp_lambda), -FLT_MAX, FLT_MAX),
    NUM("gp_phase_steps", CLGAN_FIELD_INT, GC(gp_phase_steps), 0, 1 << 30),
    NUM("n_critic", CLGAN_FIELD_INT, GC(n_critic), 1, 1000),
    NUM("weight_clip", CLGAN_FIELD_F32, GC(weight_clip), -FLT_MAX, FLT_MAX),
    NUM("clip_grad", CLGAN_FIELD_F32, GC(clip_grad), -FLT_MAX, FLT_MAX),
    OPT_FIELDS(opt_g),
    OPT_FIELDS(opt_d),
    /* optional as a group: configurations written before schedules existed have none */
    ENUM("lr_schedule.kind", GC(lr_schedule.kind), name_schedule),
    NUM("lr_schedule.start", CLGAN_FIELD_LONG, GC(lr_schedule.start), 0, (double)(1L << 40)),
    NUM("lr_schedule.end", CLGAN_FIELD_LONG, GC(lr_schedule.end), 0, (double)(1L << 40)),
    NUM("lr_schedule.factor", CLGAN_FIELD_F32, GC(lr_schedule.factor), 0, 1),
    /* optional as a group: configurations written before the generator EMA existed have none (off) */
    NUM("ema.decay", CLGAN_FIELD_F32, GC(g_ema), 0, 1),
    /* optional as a group: configurations written before R1 existed have none (off) */
    NUM("r1.gamma", CLGAN_FIELD_F32, GC(r1_gamma), 0, 1e6),
    NUM("r1.every", CLGAN_FIELD_INT, GC(r1_every), 0, 1000000),
    /* optional as a group: configurations written before DiffAugment existed have none (off) */
    {"augment.policy", CLGAN_FIELD_TEXT, GC(augment), sizeof(((clgan_run_config *)0)->gan.augment), 0, 0, NULL, 0},
    {"dataset", CLGAN_FIELD_TEXT, RC(dataset), sizeof(((clgan_run_config *)0)->dataset), 0, 0, NULL, 0},
    {"data_path", CLGAN_FIELD_TEXT, RC(data_path), sizeof(((clgan_run_config *)0)->data_path), 0, 0, NULL, 0},
    NUM("steps", CLGAN_FIELD_LONG, RC(steps), 0, (double)(1L << 40)),
    NUM("time_limit", CLGAN_FIELD_F64, RC(time_limit), 0, 1e9),
    NUM("log_every", CLGAN_FIELD_INT, RC(log_every), 1, 1 << 30),
    NUM("sample_every", CLGAN_FIELD_INT, RC(sample_every), 0, 1 << 30),
    NUM("checkpoint_every", CLGAN_FIELD_INT, RC(checkpoint_every), 0, 1 << 30),
    NUM("keep_checkpoints", CLGAN_FIELD_INT, RC(keep_checkpoints), 1, 1 << 20),
    ENUM("on_nan", RC(on_nan), name_on_nan),
    /* optional as a group: configurations written before evaluation during training have none (off) */
    NUM("eval.every", CLGAN_FIELD_INT, RC(eval.every), 0, 1 << 30),
    NUM("eval.samples", CLGAN_FIELD_INT, RC(eval.samples), 0, 1 << 24),
    ENUM("eval.metric", RC(eval.metric), name_metric),
    ENUM("eval.features", RC(eval.features), name_features),
    {"eval.network", CLGAN_FIELD_TEXT, RC(eval.network), sizeof(((clgan_run_config *)0)->eval.network), 0, 0, NULL, 0},
    {"out_dir", CLGAN_FIELD_TEXT, RC(out_dir), sizeof(((clgan_run_config *)0)->out_dir), 0, 0, NULL, 0},
};
enum { N_FIELDS = sizeof fields / sizeof fields[0] };

const clgan_config_field *clgan_config_fields(int *count) {
    *count = N_FIELDS;
    return fields;
}

const clgan_config_field *clgan_config_field_find(const char *key) {
    for (int i = 0; i < N_FIELDS; i++)
        if (strcmp(fields[i].key, key) == 0) return &fields[i];
    return NULL;
}

/* the group of a key ("model" of "model.z_dim", length 5; 0 for a top-level key) and its last part */
static size_t group_len(const char *key) {
    const char *dot = strchr(key, '.');
    return dot ? (size_t)(dot - key) : 0;
}
static const char *leaf(const char *key) {
    size_t g = group_len(key);
    return g ? key + g + 1 : key;
}
static bool same_group(const char *a, const char *b) {
    size_t g = group_len(a);
    return g == group_len(b) && strncmp(a, b, g) == 0;
}

static int get_i(const void *p) {
    int v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* "a, b or c" of an enum's names */
static void enum_names(const clgan_config_field *f, char *out, size_t cap) {
    size_t len = 0;
    int n = 0;
    while (f->names(n)) n++;
    out[0] = 0;
    for (int i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ", f->names(i));
}

/* The shortest text that reads back to v as a float (or a double): the
 * fewest %g digits, exponents without padding zeros, and of the decimal and
 * exponent forms the shorter, the decimal one on a tie: 10, 0.01, 2e-4, 5e-5. */
static bool reads_back(const char *text, double v, bool as_float) {
    double back = strtod(text, NULL);
    return as_float ? (float)back == (float)v : back == v;
}

static void shortest(double v, bool as_float, char *out, size_t cap) {
    char e[40] = "", f[64] = "";
    for (int digits = 0; digits <= 16; digits++) { /* d.ddde-N */
        snprintf(e, sizeof e, "%.*e", digits, v);
        if (reads_back(e, v, as_float)) break;
    }
    /* no padding zeros or + in the exponent, no trailing zeros in the digits */
    char *x = strchr(e, 'e'), *d = x + 1;
    if (*d == '+') memmove(d, d + 1, strlen(d));
    if (*d == '-') d++;
    while (*d == '0' && d[1]) memmove(d, d + 1, strlen(d));
    for (int decimals = 0; decimals <= 40; decimals++) {
        snprintf(f, sizeof f, "%.*f", decimals, v);
        if (reads_back(f, v, as_float)) break;
    }
    bool exact = reads_back(f, v, as_float);
    snprintf(out, cap, "%s", exact && strlen(f) <= strlen(e) ? f : e);
}

/* An INT, LONG or U64 field's value (U64 fields hold at most INT64_MAX: their bounds) */
static int64_t get_integer(const char *p, clgan_field_kind kind) {
    if (kind == CLGAN_FIELD_INT) return get_i(p);
    if (kind == CLGAN_FIELD_LONG) {
        long v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return (int64_t)v;
}

/* An F32 or F64 field's value */
static double get_real(const char *p, clgan_field_kind kind) {
    if (kind == CLGAN_FIELD_F32) {
        float v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    double v;
    memcpy(&v, p, sizeof v);
    return v;
}

void clgan_config_field_format(const clgan_run_config *rc, const clgan_config_field *f, char *out, size_t cap) {
    const char *p = (const char *)rc + f->offset;
    switch (f->kind) {
    case CLGAN_FIELD_INT:
    case CLGAN_FIELD_LONG:
    case CLGAN_FIELD_U64: snprintf(out, cap, "%lld", (long long)get_integer(p, f->kind)); break;
    case CLGAN_FIELD_F32:
    case CLGAN_FIELD_F64: shortest(get_real(p, f->kind), f->kind == CLGAN_FIELD_F32, out, cap); break;
    case CLGAN_FIELD_TEXT: snprintf(out, cap, "%s", p); break;
    case CLGAN_FIELD_ENUM: {
        const char *n = f->names(get_i(p));
        snprintf(out, cap, "%s", n ? n : "?");
        break;
    }
    case CLGAN_FIELD_INTS: {
        int n = get_i((const char *)rc + f->size);
        size_t len = 0;
        out[0] = 0;
        for (int i = 0; i < n && len < cap; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? "," : "", get_i(p + (size_t)i * sizeof(int)));
        break;
    }
    }
}

/* Sets an integer-valued field from v (already checked against its bounds) */
static void put_integer(clgan_run_config *rc, const clgan_config_field *f, int64_t v) {
    char *p = (char *)rc + f->offset;
    if (f->kind == CLGAN_FIELD_INT || f->kind == CLGAN_FIELD_ENUM) {
        int i = (int)v;
        memcpy(p, &i, sizeof i);
    } else if (f->kind == CLGAN_FIELD_LONG) {
        long l = (long)v;
        memcpy(p, &l, sizeof l);
    } else {
        uint64_t u = (uint64_t)v;
        memcpy(p, &u, sizeof u);
    }
}

static void put_number(clgan_run_config *rc, const clgan_config_field *f, double v) {
    char *p = (char *)rc + f->offset;
    if (f->kind == CLGAN_FIELD_F32) {
        float x = (float)v;
        memcpy(p, &x, sizeof x);
    } else {
        memcpy(p, &v, sizeof v);
    }
}

static bool integer_kind(clgan_field_kind k) {
    return k == CLGAN_FIELD_INT || k == CLGAN_FIELD_LONG || k == CLGAN_FIELD_U64;
}

/* An enum's value by name; the error says which names there are */
static clgan_status put_enum(clgan_run_config *rc, const clgan_config_field *f, const char *s, const char *what) {
    for (int i = 0; f->names(i); i++)
        if (strcmp(s, f->names(i)) == 0) {
            put_integer(rc, f, i);
            return CLGAN_OK;
        }
    char names[160];
    enum_names(f, names, sizeof names);
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s: expected %s", what, s, names);
}

/* "an integer in [1, 1000]", "a finite number within float range", ...: what a field takes */
static void expected(const clgan_config_field *f, char *out, size_t cap) {
    if (integer_kind(f->kind) || f->kind == CLGAN_FIELD_INTS)
        snprintf(out, cap, "an integer in [%.0f, %.0f]", f->lo, f->hi);
    else if (f->kind == CLGAN_FIELD_F32 && f->lo == -FLT_MAX && f->hi == FLT_MAX)
        snprintf(out, cap, "a finite number within float range");
    else
        snprintf(out, cap, "a finite number in [%g, %g]", f->lo, f->hi);
}

static clgan_status range_error(const char *what, const char *text, const clgan_config_field *f) {
    char want[80];
    expected(f, want, sizeof want);
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s: expected %s", what, text, want);
}

clgan_status clgan_config_field_parse(clgan_run_config *rc, const clgan_config_field *f, const char *text,
                                      const char *what) {
    char *end;
    errno = 0;
    switch (f->kind) {
    case CLGAN_FIELD_INT:
    case CLGAN_FIELD_LONG:
    case CLGAN_FIELD_U64: {
        long long v = strtoll(text, &end, 10);
        if (end == text || *end || errno == ERANGE || (double)v < f->lo || (double)v > f->hi)
            return range_error(what, text, f);
        put_integer(rc, f, v);
        return CLGAN_OK;
    }
    case CLGAN_FIELD_F32:
    case CLGAN_FIELD_F64: {
        double v = strtod(text, &end);
        bool fits = f->kind == CLGAN_FIELD_F64 || fabs(v) <= FLT_MAX;
        if (end == text || *end || !isfinite(v) || !fits || v < f->lo || v > f->hi) return range_error(what, text, f);
        put_number(rc, f, v);
        return CLGAN_OK;
    }
    case CLGAN_FIELD_TEXT:
        if (strlen(text) >= f->size)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: longer than %zu bytes", what, f->size - 1);
        memcpy((char *)rc + f->offset, text, strlen(text) + 1);
        return CLGAN_OK;
    case CLGAN_FIELD_ENUM: return put_enum(rc, f, text, what);
    case CLGAN_FIELD_INTS: {
        int vals[64], n = 0;
        const char *s = text;
        while (*s) {
            long long v = strtoll(s, &end, 10);
            if (end == s || (*end && *end != ',') || (double)v < f->lo || (double)v > f->hi || n == f->count ||
                (*end == ',' && !end[1]))
                return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s %s: expected up to %d comma-separated integers in [%.0f, %.0f]",
                                 what, text, f->count, f->lo, f->hi);
            vals[n++] = (int)v;
            s = *end ? end + 1 : end;
        }
        memcpy((char *)rc + f->offset, vals, (size_t)n * sizeof(int));
        memcpy((char *)rc + f->size, &n, sizeof n);
        return CLGAN_OK;
    }
    }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "field %s of unknown kind", f->key);
}

void clgan_run_config_to_json(const clgan_run_config *rc, clgan_jbuf *b) {
    clgan_jbuf_begin_object(b);
    for (int i = 0; i < N_FIELDS; i++) {
        const clgan_config_field *f = &fields[i];
        const char *p = (const char *)rc + f->offset;
        size_t g = group_len(f->key);
        if (g && (i == 0 || !same_group(f->key, fields[i - 1].key))) {
            clgan_jbuf_keyn(b, f->key, g);
            clgan_jbuf_begin_object(b);
        }
        clgan_jbuf_key(b, leaf(f->key));
        switch (f->kind) {
        case CLGAN_FIELD_INT:
        case CLGAN_FIELD_LONG:
        case CLGAN_FIELD_U64: clgan_jbuf_int(b, get_integer(p, f->kind)); break;
        case CLGAN_FIELD_F32: clgan_jbuf_f32(b, (float)get_real(p, f->kind)); break;
        case CLGAN_FIELD_F64: clgan_jbuf_num(b, get_real(p, f->kind)); break;
        case CLGAN_FIELD_TEXT: clgan_jbuf_str(b, p); break;
        case CLGAN_FIELD_ENUM: clgan_jbuf_str(b, f->names(get_i(p)) ? f->names(get_i(p)) : "?"); break;
        case CLGAN_FIELD_INTS: {
            int n = get_i((const char *)rc + f->size);
            clgan_jbuf_begin_array(b);
            for (int k = 0; k < n; k++) clgan_jbuf_int(b, get_i(p + (size_t)k * sizeof(int)));
            clgan_jbuf_end_array(b);
            break;
        }
        }
        if (g && (i == N_FIELDS - 1 || !same_group(f->key, fields[i + 1].key))) clgan_jbuf_end_object(b);
    }
    clgan_jbuf_end_object(b);
}

/* ---- reading back: every field must be present and of its type ---- */

static clgan_status read_field(const clgan_json *v, const clgan_config_field *f, clgan_run_config *rc) {
    clgan_json_kind want = f->kind == CLGAN_FIELD_TEXT || f->kind == CLGAN_FIELD_ENUM ? CLGAN_JSON_STRING
                           : f->kind == CLGAN_FIELD_INTS                              ? CLGAN_JSON_ARRAY
                                                                                      : CLGAN_JSON_NUMBER;
    if (!v || v->kind != want)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s is %s, expected %s", f->key,
                         v ? clgan_json_kind_name(v->kind) : "missing", clgan_json_kind_name(want));
    switch (f->kind) {
    case CLGAN_FIELD_INT:
    case CLGAN_FIELD_LONG:
    case CLGAN_FIELD_U64:
        if (!v->is_integer || (double)v->integer < f->lo || (double)v->integer > f->hi) {
            char want[80];
            expected(f, want, sizeof want);
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s = %g, expected %s", f->key, v->number, want);
        }
        put_integer(rc, f, v->integer);
        return CLGAN_OK;
    case CLGAN_FIELD_F32:
    case CLGAN_FIELD_F64: {
        /* a float field must be finite in float too (1e39 is a finite double but +inf as a float) */
        bool fits = f->kind == CLGAN_FIELD_F64 || fabs(v->number) <= FLT_MAX;
        if (!isfinite(v->number) || !fits || v->number < f->lo || v->number > f->hi) {
            char want[80];
            expected(f, want, sizeof want);
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s = %g, expected %s", f->key, v->number, want);
        }
        put_number(rc, f, v->number);
        return CLGAN_OK;
    }
    case CLGAN_FIELD_TEXT:
        if (v->length >= f->size || memchr(v->string, 0, v->length))
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s is longer than %zu bytes or holds a NUL", f->key,
                             f->size - 1);
        memcpy((char *)rc + f->offset, v->string, v->length + 1);
        return CLGAN_OK;
    case CLGAN_FIELD_ENUM:
        /* a bad name in a file is a format error, not a bad argument */
        if (memchr(v->string, 0, v->length) || put_enum(rc, f, v->string, f->key) != CLGAN_OK)
            return clgan_error_context(CLGAN_ERR_FORMAT, "configuration: ");
        return CLGAN_OK;
    case CLGAN_FIELD_INTS: {
        if (v->count > (size_t)f->count)
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s has %zu entries, at most %d", f->key, v->count,
                             f->count);
        int n = 0;
        for (size_t k = 0; k < v->count; k++) {
            const clgan_json *e = clgan_json_at(v, k);
            if (e->kind != CLGAN_JSON_NUMBER || !e->is_integer || (double)e->integer < f->lo ||
                (double)e->integer > f->hi)
                return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s[%zu] is not an integer in [%.0f, %.0f]", f->key,
                                 k, f->lo, f->hi);
            int x = (int)e->integer;
            memcpy((char *)rc + f->offset + k * sizeof(int), &x, sizeof x);
            n++;
        }
        memcpy((char *)rc + f->size, &n, sizeof n);
        return CLGAN_OK;
    }
    }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "field %s of unknown kind", f->key);
}

clgan_status clgan_run_config_from_json(const clgan_json *j, clgan_run_config *rc) {
    memset(rc, 0, sizeof *rc);
    if (!j || j->kind != CLGAN_JSON_OBJECT) return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: not a JSON object");
    for (int i = 0; i < N_FIELDS; i++) {
        const clgan_config_field *f = &fields[i];
        const clgan_json *obj = j;
        size_t g = group_len(f->key);
        if (g) {
            char group[32];
            snprintf(group, sizeof group, "%.*s", (int)g, f->key);
            obj = clgan_json_get(j, group);
            /* configurations written before schedules (or evaluation during training, the EMA, R1) existed
             * have none: a constant rate (no evaluation, no EMA, no R1) */
            if (!obj && (strcmp(group, "lr_schedule") == 0 || strcmp(group, "eval") == 0 || strcmp(group, "ema") == 0 ||
                         strcmp(group, "r1") == 0 || strcmp(group, "augment") == 0 || strcmp(group, "arch") == 0))
                continue;
            if (!obj || obj->kind != CLGAN_JSON_OBJECT)
                return CLGAN_ERR(CLGAN_ERR_FORMAT, "configuration: %s is %s, expected object", group,
                                 obj ? clgan_json_kind_name(obj->kind) : "missing");
        }
        clgan_status st = read_field(clgan_json_get(obj, leaf(f->key)), f, rc);
        if (st != CLGAN_OK) return st;
    }
    /* read is not enough: the values must describe a run that can be built */
    if (clgan_run_config_check(rc) != CLGAN_OK) return clgan_error_context(CLGAN_ERR_FORMAT, "configuration: ");
    return CLGAN_OK;
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
    const clgan_train_eval *e = &rc->eval;
    if (e->every < 0 || (e->every > 0 && (e->samples < 4 || e->samples > (1 << 24))) || !name_metric((int)e->metric) ||
        !name_features((int)e->features) || !memchr(e->network, 0, sizeof e->network))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "eval.every %d, eval.samples %d: expected >= 0 and, when evaluating, 4 to 2^24 samples (and a "
                         "known metric and feature network)",
                         e->every, e->samples);
    if (e->every > 0 && rc->gan.model.kind == CLGAN_MODEL_TOY)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "eval.every %d: the toy model makes 2-D points, measured by mode "
                         "coverage (clgan eval), not by image features", e->every);
    if (!memchr(rc->dataset, 0, sizeof rc->dataset) || !memchr(rc->data_path, 0, sizeof rc->data_path) ||
        !memchr(rc->out_dir, 0, sizeof rc->out_dir))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a dataset, data path or output folder name is not terminated");
    return CLGAN_OK;
}
