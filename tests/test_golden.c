/* Golden fixtures: whole training steps against PyTorch.
 *
 *   test_golden ref|cl [CASE]...
 *
 * (its two parts, ref and cl: one must be named; CASE... limits the run to
 * the fixtures whose names start with one of them.)
 * Each tests/golden/<case>.safetensors was made once by the PyTorch twin
 * (tools/golden_make.py; PyTorch is not needed here). It holds clgan's
 * initial parameters and running statistics, the run configuration, the
 * real batches and labels, and what PyTorch computed from them with the
 * same z: per discriminator step the loss, D(x), D(G(z)), the penalty, the
 * gradient norm and every gradient; per generator step the loss, the norm
 * and every gradient; after every full step every parameter and running
 * statistic; and the generator in evaluation mode at the end. This test
 * builds each case's GAN on `ref` (or on every OpenCL device: exit 77 when
 * there is none), loads the initial state, trains the same steps through
 * clgan_gan_d_step / clgan_gan_g_step and compares everything. A row that
 * fails prints "FAIL <file:line>: <case> <device> <kind> <name> ..." (a
 * CHECK) and the exit status is 1.
 *
 * The noise is clgan's own (drawn in the step graphs from Philox(seed)); the
 * twin reimplements the stream in numpy, and the first z and epsilon it used
 * are in the fixture: checked here against clgan_rng_normal/uniform, after
 * Philox itself is checked against Random123's known answers. */
#include "clgan/io.h"
#include "clgan/train.h"
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tolerances, as NMSE = sum (clgan - torch)^2 / sum torch^2 per tensor
 * (tests/tolerances.h), with an absolute floor of 1e-10 per element in the
 * denominator so that a tensor PyTorch computes as exactly zero (the WGAN
 * critic's output bias gradient, a penalty that is off) must be zero here
 * too, to within 1e-10 RMS.
 *
 * Both sides are float32; they differ by the order of the float sums inside
 * matmul, convolutions and reductions (clgan's reference sums in double,
 * PyTorch's CPU kernels in float with blocked, vectorised orders) and by 1 ulp
 * in exp/log/tanh. One layer's output then agrees to ~1e-7 relative (NMSE
 * ~1e-14); a gradient through four to eight layers, the WGAN-GP double
 * backward and BatchNorm's batch statistics (a difference of nearly equal
 * sums) amplifies that by 10-100x in the worst elements. An optimizer step
 * then maps each gradient element through Adam's or RMSProp's normalisation
 * g / sqrt(v), which turns a relative error of a small element into the same
 * relative error of an update of full size lr: updates are compared as
 * (after - initial) so that a wrong update cannot hide under the parameter's
 * size. Measured worst cases over all 18 fixtures, on ref and on PoCL 3.1
 * (CPU): loss 1.5e-10, gradient 1.5e-10, update 8.4e-10, sample 9.7e-12; each
 * bound below is 36-100x that, and at least 1e7x below what a planted
 * semantic error gives (Adam without bias correction: NMSE ~230 on the first
 * updates; BatchNorm's eps at 1e-3: ~0.8 on the BatchNorm gradients). */
#define TOL_LOSS 1e-8   /* losses, D(x), D(G(z)), penalty, gradient norms */
#define TOL_GRAD 1e-8   /* every gradient */
#define TOL_UPDATE 3e-8 /* parameters and running statistics, as the change from their initial values */
#define TOL_VALUE 1e-9  /* G's evaluation-mode output after the steps (running statistics at work) */
#define FLOOR2 1e-20

typedef struct {
    const char *dev;
    const char *name;
    int checks;
    size_t masked;   /* update elements left out (mask_noise) */
    double worst[5]; /* by kind index */
} case_report;

enum { K_LOSS, K_GRAD, K_UPDATE, K_VALUE, K_NOISE };
static const char *const kind_names[] = {"loss", "gradient", "update", "sample", "noise"};
static const double kind_tol[] = {TOL_LOSS, TOL_GRAD, TOL_UPDATE, TOL_VALUE, 0};

static double nmse(const float *a, const float *b, const float *base, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i], y = b[i], o = base ? base[i] : 0;
        if (!isfinite(x)) return INFINITY;
        num += (x - y) * (x - y);
        den += (y - o) * (y - o);
    }
    return num / (den + (double)n * FLOOR2);
}

static void check(case_report *r, int kind, const char *what, const float *got, const float *want, const float *base,
                  size_t n) {
    if (n == 0) return; /* every element left out (mask_noise) */
    double e = nmse(got, want, base, n);
    r->checks++;
    if (e > r->worst[kind] || isnan(e)) r->worst[kind] = e;
    CHECK(e <= kind_tol[kind], "%s %s %s %s: nmse %.3g > %.0e (n %zu; clgan %.9g, torch %.9g at [0])", r->name, r->dev,
          kind_names[kind], what, e, kind_tol[kind], n, (double)got[0], (double)want[0]);
}

/* A loss-like scalar: its rounding error is relative to the size of the
 * terms it sums (`scale`, from the fixture), not to the result, which nearly
 * cancels for a WGAN critic (E[D(fake)] - E[D(real)]) or a mean of scores of
 * both signs. */
static void check_scalar(case_report *r, const char *what, float got, const clgan_st_tensor *want,
                         const clgan_st_tensor *scale) {
    double a = got, b = *(const float *)want->data, s = scale ? *(const float *)scale->data : 0;
    double e = isfinite(a) ? (a - b) * (a - b) / (b * b + s * s + FLOOR2) : INFINITY;
    r->checks++;
    if (e > r->worst[K_LOSS] || isnan(e)) r->worst[K_LOSS] = e;
    CHECK(e <= TOL_LOSS, "%s %s loss %s: nmse %.3g > %.0e (clgan %.9g, torch %.9g, terms of size %.3g)", r->name,
          r->dev, what, e, TOL_LOSS, a, b, s);
}

static size_t numel(const clgan_st_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= (size_t)t->shape[i];
    return n;
}

/* A tensor the fixture must have: NULL (and a failure) when it lacks it. */
static const clgan_st_tensor *need(case_report *r, const clgan_st_file *f, const char *fmt, const char *a, int k) {
    char name[256];
    if (a) snprintf(name, sizeof name, fmt, k, a);
    else snprintf(name, sizeof name, fmt, k);
    const clgan_st_tensor *t = clgan_st_find(f, name);
    CHECK(t, "%s %s fixture: no tensor %s", r->name, r->dev, name);
    return t;
}

/* Adam and RMSProp divide a gradient by its own running RMS, so an element
 * whose gradient is zero in exact arithmetic (a WGAN critic's output bias,
 * whose real and fake contributions cancel; a unit whose slope pattern is the
 * same for every sample) but rounding noise in float (~1e-7 of the network's
 * gradients) gets an update of up to lr of arbitrary sign on either side.
 * Such elements are left out of the update comparison (their gradients are
 * still checked): mask[e] = 0 for an element whose fixture gradient at any
 * step 0..last was below MASK_REL times the RMS gradient of the whole network
 * at that step, 1000x above that noise. The mask comes from PyTorch's side
 * only, so a clgan bug cannot hide behind it; the count is reported. */
#define MASK_REL 1e-4
static size_t mask_noise(const clgan_st_file *f, const clgan_params *p, const char *net, int last, const char *name,
                         size_t n, unsigned char *mask) {
    memset(mask, 1, n);
    for (int k = 0; k <= last; k++) {
        char key[256];
        double ss = 0;
        size_t total = 0;
        for (int i = 0; i < clgan_params_count(p); i++) {
            snprintf(key, sizeof key, "%s%d.grad.%s", net, k, clgan_params_name(p, i));
            const clgan_st_tensor *t = clgan_st_find(f, key);
            if (!t) continue;
            const float *g = t->data;
            for (size_t e = 0; e < numel(t); e++) ss += (double)g[e] * g[e];
            total += numel(t);
        }
        snprintf(key, sizeof key, "%s%d.grad.%s", net, k, name);
        const clgan_st_tensor *t = clgan_st_find(f, key);
        if (!t || numel(t) != n || total == 0) continue;
        const float *g = t->data;
        double floor = MASK_REL * sqrt(ss / (double)total);
        for (size_t e = 0; e < n; e++)
            if (!(fabs((double)g[e]) > floor)) mask[e] = 0;
    }
    size_t kept = 0;
    for (size_t e = 0; e < n; e++) kept += mask[e];
    return kept;
}

static clgan_status read_block_floats(clgan_buffer *b, size_t off, size_t n, float *out) {
    return clgan_buffer_read(b, off * sizeof(float), out, n * sizeof(float));
}

/* Every parameter's gradient in block p against "<prefix>grad.<name>". */
static void check_grads(case_report *r, const clgan_st_file *f, clgan_params *p, const char *step, float *tmp) {
    for (int i = 0; i < clgan_params_count(p); i++) {
        const char *name = clgan_params_name(p, i);
        char key[256];
        snprintf(key, sizeof key, "%s.grad.%s", step, name);
        const clgan_st_tensor *t = clgan_st_find(f, key);
        if (!t) {
            CHECK(false, "%s %s fixture: no tensor %s", r->name, r->dev, key);
            continue;
        }
        size_t n = numel(t);
        if (read_block_floats(clgan_params_grads(p), clgan_params_offset(p, i), n, tmp) != CLGAN_OK) {
            CHECK(false, "%s %s read %s: %s", r->name, r->dev, key, clgan_last_error());
            continue;
        }
        check(r, K_GRAD, key, tmp, t->data, NULL, n);
    }
}

/* Loads init.<name> into every entry of the blocks; every init tensor must
 * belong to one (the twin and clgan declare the same tensors). -1 (and a
 * failed CHECK) when it cannot. */
static int load_init(case_report *r, const clgan_st_file *f, clgan_gan *gan) {
    int used = 0, inits = 0;
    for (int i = 0; i < clgan_st_count(f); i++) inits += strncmp(clgan_st_at(f, i)->name, "init.", 5) == 0;
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++) {
        clgan_params *p = clgan_gan_block(gan, b);
        for (int i = 0; i < clgan_params_count(p); i++) {
            char key[256];
            snprintf(key, sizeof key, "init.%s", clgan_params_name(p, i));
            int nd, shape[8];
            clgan_params_shape(p, i, &nd, shape);
            int64_t s64[8];
            for (int d = 0; d < nd; d++) s64[d] = shape[d];
            const void *data = NULL;
            if (clgan_st_get(f, key, CLGAN_DT_F32, nd, s64, &data) != CLGAN_OK ||
                clgan_params_write(p, i, data) != CLGAN_OK) {
                CHECK(false, "%s %s init: %s", r->name, r->dev, clgan_last_error());
                return -1;
            }
            used++;
        }
    }
    if (used != inits) {
        CHECK(false, "%s %s init: the fixture has %d initial tensors, clgan's networks %d", r->name, r->dev, inits,
              used);
        return -1;
    }
    return 0;
}

/* The first z and epsilon the twin used against clgan's Philox streams
 * (offset = step * 65536 + stream, src/autograd/plan.c). Uniforms are exact;
 * normals agree to the rounding of logf/cosf/sinf (1 ulp). */
static void check_noise(case_report *r, const clgan_st_file *f, const clgan_gan_config *cfg) {
    const struct {
        const char *name;
        uint64_t offset;
        bool normal;
    } s[] = {{"d0.z", 1, true}, {"g0.z", 3, true}, {"d0.eps", 2, false}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        const clgan_st_tensor *t = clgan_st_find(f, s[i].name);
        if (!t) continue; /* eps only with the penalty */
        size_t n = numel(t);
        float *v = malloc(n * sizeof *v);
        if (!v) fail_msg("out of memory");
        if (s[i].normal) clgan_rng_normal(cfg->seed, s[i].offset, v, n);
        else clgan_rng_uniform(cfg->seed, s[i].offset, v, n);
        const float *w = t->data;
        double worst = 0;
        for (size_t k = 0; k < n; k++) {
            double d = fabs((double)v[k] - w[k]) / fmax(fabs((double)w[k]), 1e-3);
            if (d > worst) worst = d;
        }
        r->checks++;
        if (worst > r->worst[K_NOISE]) r->worst[K_NOISE] = worst;
        CHECK(!(worst > (s[i].normal ? 3e-7 : 0)),
              "%s %s noise %s: clgan's Philox stream differs from the twin's by %.3g relative", r->name, r->dev,
              s[i].name, worst);
        free(v);
    }
}

/* Trains the case on dev and compares every row (CHECKs). */
static void run_case(clgan_device *dev, const char *path, case_report *r) {
    clgan_st_file *f = NULL;
    if (clgan_st_read(path, &f) != CLGAN_OK) {
        CHECK(false, "%s %s: %s", r->name, r->dev, clgan_last_error());
        return;
    }
    const char *conf = clgan_st_meta(f, "config"), *steps_s = clgan_st_meta(f, "steps");
    clgan_json *j = NULL;
    clgan_run_config rc;
    if (!conf || !steps_s || clgan_json_parse(conf, strlen(conf), &j) != CLGAN_OK ||
        clgan_run_config_from_json(j, &rc) != CLGAN_OK) {
        CHECK(false, "%s %s fixture configuration: %s", r->name, r->dev, conf ? clgan_last_error() : "missing");
        clgan_json_free(j);
        clgan_st_close(f);
        return;
    }
    clgan_json_free(j);
    int steps = atoi(steps_s);
    const clgan_gan_config *cfg = &rc.gan;
    clgan_gan *gan = NULL;
    if (clgan_gan_new(cfg, dev, &gan) != CLGAN_OK) {
        CHECK(false, "%s %s build: %s", r->name, r->dev, clgan_last_error());
        clgan_st_close(f);
        return;
    }
    size_t most = 0;
    for (int b = 0; b < CLGAN_BLOCK_COUNT; b++)
        if (clgan_params_total(clgan_gan_block(gan, b)) > most) most = clgan_params_total(clgan_gan_block(gan, b));
    float *tmp = malloc(3 * (most + 1) * sizeof *tmp), *mw = tmp + most + 1, *mi = mw + most + 1;
    unsigned char *mask = malloc(most + 1);
    if (!tmp || !mask) fail_msg("out of memory");
    if (load_init(r, f, gan) != 0) goto done; /* reported there */
    check_noise(r, f, cfg);
    int k = 0;
    for (int s = 0; s < steps; s++) {
        for (int c = 0; c < cfg->n_critic; c++, k++) {
            const clgan_st_tensor *x = need(r, f, "d%d.x", NULL, k);
            const clgan_st_tensor *y = cfg->model.classes > 0 ? need(r, f, "d%d.labels", NULL, k) : NULL;
            if (!x || (cfg->model.classes > 0 && !y)) goto done;
            clgan_step_stats st = {0};
            if (clgan_gan_d_step(gan, x->data, y ? y->data : NULL, &st) != CLGAN_OK) {
                CHECK(false, "%s %s D step %d: %s", r->name, r->dev, k, clgan_last_error());
                goto done;
            }
            const char *sn[] = {"loss", "d_real", "d_fake", "penalty", "grad_norm"};
            float sv[] = {st.loss_d, st.d_real, st.d_fake, st.penalty, st.grad_norm_d};
            const clgan_st_tensor *scale = need(r, f, "d%d.%s", "loss_scale", k);
            for (int q = 0; q < 5; q++) {
                const clgan_st_tensor *t = need(r, f, "d%d.%s", sn[q], k);
                char what[64];
                snprintf(what, sizeof what, "d%d.%s", k, sn[q]);
                if (t) check_scalar(r, what, sv[q], t, q < 4 ? scale : NULL);
            }
            /* the R1 term: in the fixtures made since R1 exists */
            char key[64];
            snprintf(key, sizeof key, "d%d.r1", k);
            const clgan_st_tensor *r1 = clgan_st_find(f, key);
            if (r1) check_scalar(r, key, st.r1, r1, scale);
            char step[16];
            snprintf(step, sizeof step, "d%d", k);
            check_grads(r, f, clgan_gan_block(gan, CLGAN_BLOCK_D), step, tmp);
        }
        const clgan_st_tensor *y = cfg->model.classes > 0 ? need(r, f, "g%d.labels", NULL, s) : NULL;
        if (cfg->model.classes > 0 && !y) goto done;
        clgan_step_stats st = {0};
        if (clgan_gan_g_step(gan, y ? y->data : NULL, &st) != CLGAN_OK) {
            CHECK(false, "%s %s G step %d: %s", r->name, r->dev, s, clgan_last_error());
            goto done;
        }
        char what[64], step[16];
        const clgan_st_tensor *t;
        snprintf(what, sizeof what, "g%d.loss", s);
        if ((t = need(r, f, "g%d.loss", NULL, s))) check_scalar(r, what, st.loss_g, t, need(r, f, "g%d.loss_scale", NULL, s));
        snprintf(what, sizeof what, "g%d.grad_norm", s);
        if ((t = need(r, f, "g%d.grad_norm", NULL, s))) check_scalar(r, what, st.grad_norm_g, t, NULL);
        snprintf(step, sizeof step, "g%d", s);
        check_grads(r, f, clgan_gan_block(gan, CLGAN_BLOCK_G), step, tmp);
        /* every parameter and running statistic after the full step */
        for (int b = 0; b < CLGAN_BLOCK_COUNT; b++) {
            clgan_params *p = clgan_gan_block(gan, b);
            for (int i = 0; i < clgan_params_count(p); i++) {
                const char *name = clgan_params_name(p, i);
                char key[256];
                snprintf(key, sizeof key, "init.%s", name);
                const clgan_st_tensor *want = need(r, f, "s%d.%s", name, s), *init = clgan_st_find(f, key);
                if (!want || !init) continue;
                if (clgan_params_read(p, i, tmp) != CLGAN_OK) {
                    CHECK(false, "%s %s read s%d.%s: %s", r->name, r->dev, s, name, clgan_last_error());
                    continue;
                }
                snprintf(what, sizeof what, "s%d.%s", s, name);
                size_t n = numel(want);
                const float *w = want->data, *i0 = init->data;
                bool disc = b >= CLGAN_BLOCK_D;
                clgan_opt_kind ok = disc ? cfg->opt_d.kind : cfg->opt_g.kind;
                if (clgan_params_trainable(p, i) && ok != CLGAN_OPT_SGD) {
                    /* compare only the elements whose gradient was never at rounding-noise level (see mask_noise) */
                    int last = disc ? (s + 1) * cfg->n_critic - 1 : s;
                    size_t kept = mask_noise(f, p, disc ? "d" : "g", last, name, n, mask);
                    r->masked += n - kept;
                    size_t m = 0;
                    for (size_t e = 0; e < n; e++)
                        if (mask[e]) {
                            tmp[m] = tmp[e];
                            mw[m] = w[e];
                            mi[m++] = i0[e];
                        }
                    check(r, K_UPDATE, what, tmp, mw, mi, m);
                } else {
                    check(r, K_UPDATE, what, tmp, w, i0, n);
                }
            }
        }
    }
    /* G in evaluation mode: the running statistics at work */
    const clgan_st_tensor *z = need(r, f, "sample.z", NULL, 0), *out = need(r, f, "sample.out", NULL, 0);
    const clgan_st_tensor *ys = cfg->model.classes > 0 ? need(r, f, "sample.labels", NULL, 0) : NULL;
    if (z && out && (cfg->model.classes == 0 || ys)) {
        size_t n = numel(out);
        float *g = malloc(n * sizeof *g);
        if (!g) fail_msg("out of memory");
        if (clgan_gan_generate(gan, z->data, ys ? ys->data : NULL, (int)z->shape[0], g) != CLGAN_OK) {
            CHECK(false, "%s %s generate: %s", r->name, r->dev, clgan_last_error());
        } else {
            check(r, K_VALUE, "sample.out (G in evaluation mode)", g, out->data, NULL, n);
        }
        free(g);
    }
done:
    free(tmp);
    free(mask);
    clgan_gan_free(gan);
    clgan_st_close(f);
}

/* Philox-4x32-10 against Random123's kat_vectors; false when it differs. */
static bool check_philox(void) {
    bool good = true;
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        clgan_philox4x32(&test_philox_kat[i][4], test_philox_kat[i], out);
        bool same = memcmp(out, &test_philox_kat[i][6], sizeof out) == 0;
        CHECK(same, "philox known answer %d: %08x %08x %08x %08x", i, out[0], out[1], out[2], out[3]);
        good &= same;
    }
    return good;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the fixture names given after the part, if any: main sets them */
static int case_argc;
static char **case_argv;

/* Every fixture (or those chosen) on ref (cl false) or on every OpenCL device
 * (cl true; skipped without one). */
static void run_golden(bool want_cl) {
    if (!check_philox()) return;
    const char *root = getenv("CLGAN_SOURCE_ROOT");
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/tests/golden", root ? root : ".");
    DIR *dp = opendir(dir);
    if (!dp) fail_msg("cannot open %s (set CLGAN_SOURCE_ROOT)", dir);
    char *files[256];
    int nf = 0;
    for (struct dirent *e; (e = readdir(dp)) && nf < 256;) {
        size_t len = strlen(e->d_name);
        if (len > 12 && strcmp(e->d_name + len - 12, ".safetensors") == 0) {
            bool chosen = case_argc == 0;
            for (int a = 0; a < case_argc; a++) chosen |= strncmp(e->d_name, case_argv[a], strlen(case_argv[a])) == 0;
            if (chosen) files[nf++] = strdup(e->d_name);
        }
    }
    closedir(dp);
    if (nf == 0) fail_msg("no fixtures in %s", dir);
    qsort(files, (size_t)nf, sizeof files[0], cmp_str);

    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    int idx[16], nd = 0;
    for (int i = 0; i < l.count && nd < 16; i++)
        if ((l.items[i].backend == CLGAN_BACKEND_OPENCL) == want_cl) idx[nd++] = i;
    if (nd == 0) {
        char note[512];
        snprintf(note, sizeof note, "%s", l.opencl_note);
        clgan_device_list_free(&l);
        for (int i = 0; i < nf; i++) free(files[i]);
        harness_skip("no OpenCL device (%s)", note);
    }
    double worst[5] = {0};
    for (int di = 0; di < nd; di++) {
        clgan_device *dev = NULL;
        if (clgan_device_open(&l.items[idx[di]], NULL, &dev) != CLGAN_OK) {
            CHECK(false, "open %s: %s", l.items[idx[di]].id, clgan_last_error());
            continue;
        }
        for (int i = 0; i < nf; i++) {
            char path[1500], name[256];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            snprintf(name, sizeof name, "%.*s", (int)(strlen(files[i]) - 12), files[i]);
            case_report r = {.dev = l.items[idx[di]].id, .name = name};
            int before = failures;
            run_case(dev, path, &r);
            /* the case's summary, failed when any of its rows failed (each reported as it came) */
            EXPECT(failures == before,
                   "%-32s %-5s %4d checks, worst nmse: loss %.1e grad %.1e update %.1e sample %.1e; noise %.1e; "
                   "%zu update elements at gradient-noise level left out",
                   name, r.dev, r.checks, r.worst[0], r.worst[1], r.worst[2], r.worst[3], r.worst[4], r.masked);
            for (int q = 0; q < 5; q++)
                if (r.worst[q] > worst[q] || isnan(r.worst[q])) worst[q] = r.worst[q];
            fflush(stdout);
        }
        clgan_device_close(dev);
    }
    printf("worst over all cases: loss %.2e (tol %.0e) grad %.2e (%.0e) update %.2e (%.0e) sample %.2e (%.0e)\n",
           worst[0], TOL_LOSS, worst[1], TOL_GRAD, worst[2], TOL_UPDATE, worst[3], TOL_VALUE);
    for (int i = 0; i < nf; i++) free(files[i]);
    clgan_device_list_free(&l);
}

static void part_ref(void) { run_golden(false); }
static void part_cl(void) { run_golden(true); }

int main(int argc, char **argv) {
    if (argc < 2 || (strcmp(argv[1], "ref") != 0 && strcmp(argv[1], "cl") != 0)) {
        fprintf(stderr, "usage: test_golden ref|cl [CASE]...\n");
        return 2;
    }
    clgan_log_set_level(CLGAN_LOG_WARN);
    case_argc = argc - 2;
    case_argv = argv + 2;
    static const harness_part parts[] = {{"ref", part_ref}, {"cl", part_cl}};
    return harness_main(argc, argv, "test_golden", parts, sizeof parts / sizeof parts[0]);
}
