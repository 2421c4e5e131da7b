/* bench_train: whole GAN training steps per second on each device.
 *
 * A step is what `clgan train` does per generator step with the default
 * (non-saturating) loss: n_critic discriminator updates on a real batch, then
 * one generator update, each through clgan_gan_d_step / clgan_gan_g_step
 * (graph run, loss read back, optimizer) and timed to clgan_device_finish.
 * The models are the built-in ones with `clgan train`'s defaults: DCGAN and
 * the MLP GAN on 28x28 Fashion-MNIST-shaped images (batch 64), the toy model
 * on the ring8 mixture (batch 256). The figures are medians over the timed
 * steps after the warm-up steps; images/s = batch / median step time.
 *
 * Real Fashion-MNIST is used where clgan_dataset_open finds it (--data DIR
 * or the default locations), else uniform random images in [-1, 1]: the
 * step's work does not depend on the pixel values. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, strtok_r */
#endif

#include "bench_util.h"
#include "cli/cli.h"
#include "clgan/data.h"
#include "clgan/train.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEVICES 16
#define DATA_BATCHES 16 /* random data: batches to cycle through */

typedef struct {
    const char *devices[MAX_DEVICES];
    int ndevices;
    bool model[3]; /* by clgan_model_kind */
    int steps, ref_steps, warmup, ref_warmup, batch;
    int image_size, channels; /* dcgan and mlp; 0: the defaults (28, 1) */
    const char *data;
    bool csv, profile;
    clgan_gemm_path gemm; /* --gemm */
} options;

static bool parse_models(const char *s, bool *model) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        clgan_model_kind k;
        if (strcmp(t, "all") == 0) {
            model[0] = model[1] = model[2] = true;
        } else if (clgan_model_parse(t, &k) == CLGAN_OK) {
            model[k] = true;
        } else {
            fprintf(stderr, "bench_train: --model %s: expected dcgan, mlp, toy or all\n", t);
            return false;
        }
    }
    return true;
}

/* The options, through the CLI's option code (src/cli/options.c) */
static int parse_options(int argc, char **argv, options *o) {
    *o = (options){.steps = 10, .ref_steps = 3, .warmup = 2, .ref_warmup = 1};
    cli_opt opts[] = {
        {"device", "D...", NULL, NULL, "ref, P:D, gpu, cpu or a name substring (clgan devices); repeat it or separate "
                                       "with commas. Default: ref and every OpenCL device", NULL, false},
        {"model", "M...", NULL, "all", "dcgan, mlp, toy or all (repeatable)", NULL, false},
        {"steps", "N", NULL, "10", "timed steps on OpenCL devices (median reported)", NULL, false},
        {"ref-steps", "N", NULL, "3", "timed steps on ref (a DCGAN step takes seconds there; 0 skips ref)", NULL, false},
        {"warmup", "W", NULL, "2", "untimed steps first on OpenCL devices", NULL, false},
        {"ref-warmup", "W", NULL, "1", "untimed steps first on ref", NULL, false},
        {"batch", "B", NULL, NULL, "batch size (default: the model's, 64 or 256 for toy)", NULL, false},
        {"image-size", "S", NULL, "28", "dcgan and mlp image side (dcgan: 28 or a power of two, e.g. 32, 64)", NULL,
         false},
        {"channels", "C", NULL, "1", "dcgan and mlp image channels, 1 or 3", NULL, false},
        {"data", "DIR", NULL, NULL, "a Fashion-MNIST folder (idx files) for dcgan and mlp; default: the usual "
                                    "locations, else random images", NULL, false},
        {"gemm", "PATH", "CLGAN_GEMM", "auto", "the OpenCL devices' GEMM path: auto, clblast or native (on it, a "
                                               "convolution is one native kernel with its im2col or col2im)", NULL, false},
        {"csv", NULL, NULL, NULL, "one CSV row per model and device on stdout (notes go to stderr)", NULL, false},
        {"profile", NULL, NULL, NULL, "after timing, one step with the device finished after every node (time per "
                                      "op), then one finished after every kernel (time per kernel), and the launches "
                                      "per step", NULL, false},
    };
    cli_command c = {"bench_train", "Times whole GAN training steps (D update + G update) on ref and on OpenCL devices.",
                     "[--device D]... [--model M]... [--steps N] [--csv] [--profile] ...", opts,
                     (int)(sizeof opts / sizeof *opts)};
    cli_program = "bench_train";
    bool help = false;
    int rc = cli_parse(&c, argc, argv, &help);
    if (rc != CLI_OK || help) return rc == CLI_OK ? -1 : rc;
    long v;
    struct {
        const char *name;
        long lo, hi;
        int *out;
    } ints[] = {{"steps", 1, 1000000, &o->steps},      {"ref-steps", 0, 1000000, &o->ref_steps},
                {"warmup", 0, 1000000, &o->warmup},    {"ref-warmup", 0, 1000000, &o->ref_warmup},
                {"batch", 1, 1 << 20, &o->batch},      {"image-size", 1, 4096, &o->image_size},
                {"channels", 1, 3, &o->channels}};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
        if (!cli_get(&c, ints[i].name)) continue; /* --batch: the model's */
        if ((rc = cli_get_long(&c, ints[i].name, ints[i].lo, ints[i].hi, &v)) != CLI_OK) return rc;
        *ints[i].out = (int)v;
    }
    if (!cli_given(&c, "image-size")) o->image_size = 0; /* the defaults (28, 1) */
    if (!cli_given(&c, "channels")) o->channels = 0;
    if (cli_given(&c, "device")) o->devices[o->ndevices++] = cli_get(&c, "device");
    if (!parse_models(cli_get(&c, "model"), o->model)) return CLI_USAGE;
    o->data = cli_get(&c, "data");
    o->csv = cli_flag(&c, "csv");
    o->profile = cli_flag(&c, "profile");
    const char *gemm = cli_get(&c, "gemm");
    if (gemm && clgan_gemm_path_parse(gemm, &o->gemm) != CLGAN_OK) {
        fprintf(stderr, "bench_train: --gemm: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Resolves --device into list indices; the default is ref (last in the
 * list, first here: the others' speedups are against it), then every
 * OpenCL device. */
static int choose_devices(const clgan_device_list *l, const options *o, int *idx) {
    int n = 0;
    if (o->ndevices == 0) {
        idx[n++] = l->count - 1;
        for (int i = 0; i < l->count - 1 && n < MAX_DEVICES; i++) idx[n++] = i;
        return n;
    }
    for (int k = 0; k < o->ndevices; k++) {
        char spec[4096];
        snprintf(spec, sizeof spec, "%s", o->devices[k]);
        for (char *save = NULL, *t = strtok_r(spec, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int i;
            if (clgan_device_choose(l, t, &i) != CLGAN_OK) {
                fprintf(stderr, "bench_train: %s\n", clgan_last_error());
                return -1;
            }
            bool dup = false;
            for (int j = 0; j < n; j++) dup |= idx[j] == i;
            if (!dup && n < MAX_DEVICES) idx[n++] = i;
        }
    }
    return n;
}

/* The real batches a model trains on: a data set, or random images. */
typedef struct {
    clgan_dataset ds;
    char source[160];
} bench_data;

static clgan_status load_data(clgan_model_kind kind, const clgan_gan_config *cfg, const char *dir, bench_data *out) {
    memset(out, 0, sizeof *out);
    if (kind == CLGAN_MODEL_TOY) {
        snprintf(out->source, sizeof out->source, "ring8 (synthetic)");
        return clgan_dataset_open("ring8", NULL, true, 0, 0, cfg->seed, &out->ds);
    }
    const clgan_model_config *m = &cfg->model;
    clgan_status st = clgan_dataset_open("fashion-mnist", dir, true, m->image_size, m->channels, cfg->seed, &out->ds);
    if (st == CLGAN_OK) {
        snprintf(out->source, sizeof out->source, "Fashion-MNIST (%d images)", out->ds.n);
        return CLGAN_OK;
    }
    if (dir) return st; /* asked for: its message says what is wrong */
    clgan_clear_error();
    clgan_dataset *d = &out->ds;
    snprintf(d->name, sizeof d->name, "random");
    d->c = m->channels;
    d->h = d->w = m->image_size;
    d->n = DATA_BATCHES * cfg->batch;
    size_t n = (size_t)d->n * clgan_dataset_sample_floats(d);
    if (!(d->x = malloc(n * sizeof *d->x))) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %zu floats", n);
    clgan_rng_uniform(cfg->seed, 0, d->x, n);
    for (size_t i = 0; i < n; i++) d->x[i] = 2.0f * d->x[i] - 1.0f;
    snprintf(out->source, sizeof out->source, "random images in [-1, 1] (Fashion-MNIST-shaped; no data set found)");
    return CLGAN_OK;
}

/* --profile: the time from one node's end to the next's, by op */
typedef struct {
    clgan_device *dev;
    double last;
    double ms[64];
    int count[64];
    const char *name[64];
    int n;
} op_profile;

static clgan_status profile_hook(const clgan_graph *g, clgan_node n, void *user) {
    op_profile *p = user;
    const char *op = clgan_node_op_name(g, n);
    clgan_status st = clgan_device_finish(p->dev);
    double t = now_ms();
    if (!op || strcmp(op, "input") == 0 || strcmp(op, "param") == 0 || strcmp(op, "reshape") == 0) {
        p->last = t;
        return st;
    }
    int k = 0;
    while (k < p->n && strcmp(p->name[k], op) != 0) k++;
    if (k == p->n && p->n < 64) p->name[p->n++] = op;
    if (k < 64) {
        p->ms[k] += t - p->last;
        p->count[k]++;
    }
    p->last = t;
    return st;
}

static int cmp_profile_desc(const void *a, const void *b, void *u) {
    const op_profile *p = u;
    double x = p->ms[*(const int *)a], y = p->ms[*(const int *)b];
    return (x < y) - (x > y);
}

static int cmp_kernel_time_desc(const void *a, const void *b) {
    double x = ((const clgan_kernel_time *)a)->ms, y = ((const clgan_kernel_time *)b)->ms;
    return (x < y) - (x > y);
}

/* One more step with the device finished after every kernel and GEMM call
 * (clgan_device_time_kernels); prints the time per kernel, summed. */
static clgan_status kernel_profile_step(clgan_gan *gan, clgan_device *d, const float *x, int n_critic) {
    clgan_step_stats s;
    clgan_status st = clgan_device_finish(d);
    clgan_device_time_kernels(d, true);
    double t0 = now_ms();
    for (int c = 0; c < n_critic && st == CLGAN_OK; c++) st = clgan_gan_d_step(gan, x, NULL, &s);
    if (st == CLGAN_OK) st = clgan_gan_g_step(gan, NULL, &s);
    if (st == CLGAN_OK) st = clgan_device_finish(d);
    double total = now_ms() - t0;
    clgan_device_time_kernels(d, false);
    if (st != CLGAN_OK) return st;
    int n = 0;
    const clgan_kernel_time *rows = clgan_device_kernel_times(d, &n);
    clgan_kernel_time *sorted = n ? malloc((size_t)n * sizeof *sorted) : NULL;
    if (n && !sorted) return CLGAN_OK;
    if (n) memcpy(sorted, rows, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_kernel_time_desc);
    double sum = 0;
    for (int i = 0; i < n; i++) sum += sorted[i].ms;
    printf("  kernels (device finished after each launch): %.1f ms in all, %.1f ms in %d kernels\n", total, sum, n);
    printf("  %-40s %6s %10s %6s\n", "kernel", "calls", "ms", "%");
    for (int i = 0; i < n; i++)
        printf("  %-40s %6llu %10.2f %5.1f%%\n", sorted[i].name, (unsigned long long)sorted[i].launches,
               sorted[i].ms, 100.0 * sorted[i].ms / total);
    free(sorted);
    return CLGAN_OK;
}

/* One step with the hook on both graphs; prints the table. */
static clgan_status profile_step(clgan_gan *gan, clgan_device *d, const float *x, int n_critic) {
    op_profile p = {.dev = d};
    clgan_graph *graphs[2] = {clgan_gan_d_graph(gan), clgan_gan_g_graph(gan)};
    for (int i = 0; i < 2; i++) clgan_graph_set_hook(graphs[i], profile_hook, &p);
    uint64_t l0 = clgan_device_launch_count(d);
    clgan_status st = clgan_device_finish(d);
    clgan_step_stats s;
    double t0 = now_ms();
    p.last = t0;
    for (int c = 0; c < n_critic && st == CLGAN_OK; c++) st = clgan_gan_d_step(gan, x, NULL, &s);
    if (st == CLGAN_OK) st = clgan_gan_g_step(gan, NULL, &s);
    if (st == CLGAN_OK) st = clgan_device_finish(d);
    double total = now_ms() - t0;
    uint64_t launches = clgan_device_launch_count(d) - l0;
    for (int i = 0; i < 2; i++) clgan_graph_set_hook(graphs[i], NULL, NULL);
    if (st != CLGAN_OK) return st;
    int order[64];
    double sum = 0;
    for (int k = 0; k < p.n; k++) {
        order[k] = k;
        sum += p.ms[k];
    }
    /* insertion sort by time, descending */
    for (int i = 1; i < p.n; i++)
        for (int j = i; j > 0 && cmp_profile_desc(&order[j - 1], &order[j], &p) > 0; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    printf("  profile (device finished after each node): %.1f ms in all, %.1f ms in nodes, %llu kernel launches\n",
           total, sum, (unsigned long long)launches);
    printf("  %-20s %6s %10s %6s\n", "op", "nodes", "ms", "%");
    for (int i = 0; i < p.n; i++) {
        int k = order[i];
        printf("  %-20s %6d %10.2f %5.1f%%\n", p.name[k], p.count[k], p.ms[k], 100.0 * p.ms[k] / total);
    }
    return kernel_profile_step(gan, d, x, n_critic);
}

typedef struct {
    double d_ms, g_ms, step_ms; /* medians */
    int steps, warmup;
    uint64_t launches; /* kernel launches in the last timed step (0 on ref) */
    uint64_t syncs;    /* host waits in it (finishes, blocking reads and writes) */
} train_result;

/* Builds the GAN on d and times warmup + steps training steps. */
static clgan_status time_training(const clgan_gan_config *cfg, clgan_device *d, const bench_data *data, int warmup,
                                  int steps, bool profile, train_result *r, size_t *g_params, size_t *d_params) {
    clgan_gan *gan = NULL;
    clgan_status st = clgan_gan_new(cfg, d, &gan);
    if (st != CLGAN_OK) return st;
    *g_params = clgan_params_total(clgan_gan_block(gan, CLGAN_BLOCK_G));
    *d_params = clgan_params_total(clgan_gan_block(gan, CLGAN_BLOCK_D));
    const clgan_gan_memory *mem = clgan_gan_memory_of(gan);
    fprintf(stderr, "  memory on %s: parameters and gradients %.1f MiB, optimizer state %.1f, step graphs %.1f\n",
            clgan_device_get_info(d)->id, (double)mem->params / 1048576.0, (double)mem->optimizer / 1048576.0,
            (double)mem->graphs / 1048576.0);
    double *t = malloc(3 * (size_t)(steps ? steps : 1) * sizeof *t);
    if (!t) {
        clgan_gan_free(gan);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    }
    double *td = t, *tg = t + steps, *ts = t + 2 * steps;
    size_t sample = clgan_dataset_sample_floats(&data->ds);
    int batches = data->ds.n / cfg->batch, next = 0;
    for (int i = 0; i < warmup + steps && st == CLGAN_OK; i++) {
        clgan_step_stats s;
        uint64_t l0 = clgan_device_launch_count(d), s0 = clgan_device_sync_count(d);
        double t0 = now_ms();
        for (int c = 0; c < cfg->n_critic && st == CLGAN_OK; c++) {
            const float *x = data->ds.x + (size_t)next * (size_t)cfg->batch * sample;
            next = (next + 1) % batches;
            st = clgan_gan_d_step(gan, x, NULL, &s);
        }
        if (st == CLGAN_OK) st = clgan_device_finish(d);
        double t1 = now_ms();
        if (st == CLGAN_OK) st = clgan_gan_g_step(gan, NULL, &s);
        if (st == CLGAN_OK) st = clgan_device_finish(d);
        double t2 = now_ms();
        if (i >= warmup) {
            td[i - warmup] = t1 - t0;
            tg[i - warmup] = t2 - t1;
            ts[i - warmup] = t2 - t0;
            r->launches = clgan_device_launch_count(d) - l0;
            /* less the benchmark's own two finishes */
            r->syncs = clgan_device_sync_count(d) - s0 - (clgan_device_get_info(d)->backend == CLGAN_BACKEND_OPENCL ? 2 : 0);
        }
    }
    if (st == CLGAN_OK) {
        uint64_t launches = r->launches, syncs = r->syncs;
        *r = (train_result){.d_ms = median(td, steps), .g_ms = median(tg, steps), .step_ms = median(ts, steps),
                            .steps = steps, .warmup = warmup, .launches = launches, .syncs = syncs};
    }
    if (st == CLGAN_OK && profile) st = profile_step(gan, d, data->ds.x, cfg->n_critic);
    free(t);
    clgan_gan_free(gan);
    return st;
}

static void model_text(const clgan_model_config *m, char *out, size_t cap) {
    switch (m->kind) {
    case CLGAN_MODEL_DCGAN:
        snprintf(out, cap, "dcgan %dx%dx%d, ngf=ndf=%d", m->channels, m->image_size, m->image_size, m->width);
        break;
    case CLGAN_MODEL_MLP: {
        size_t at = (size_t)snprintf(out, cap, "mlp %d", m->z_dim);
        for (int i = 0; i < m->n_widths && at < cap; i++) at += (size_t)snprintf(out + at, cap - at, "-%d", m->widths[i]);
        if (at < cap) snprintf(out + at, cap - at, "-%d", m->channels * m->image_size * m->image_size);
        break;
    }
    default: snprintf(out, cap, "toy 2-D, width %d", m->width);
    }
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc; /* -1: --help shown */
    clgan_log_set_level(CLGAN_LOG_WARN);
    clgan_device_list l;
    if (clgan_devices_enumerate(&l) != CLGAN_OK) {
        fprintf(stderr, "bench_train: %s\n", clgan_last_error());
        return 1;
    }
    int idx[MAX_DEVICES];
    int ndev = choose_devices(&l, &o, idx);
    if (ndev < 0) {
        clgan_device_list_free(&l);
        return 2;
    }
    FILE *notes = o.csv ? stderr : stdout;
    bool any_cl = false;
    for (int i = 0; i < l.count; i++) any_cl |= l.items[i].backend == CLGAN_BACKEND_OPENCL;
    if (!any_cl)
        fprintf(notes, "no OpenCL device%s%s%s: timing ref only\n", l.opencl_note[0] ? " (" : "", l.opencl_note,
                l.opencl_note[0] ? ")" : "");

    clgan_device *devs[MAX_DEVICES];
    int nopen = 0, status = 0;
    for (int k = 0; k < ndev; k++) {
        clgan_device_options dopt = {.gemm = o.gemm};
        if (clgan_device_open(&l.items[idx[k]], l.items[idx[k]].backend == CLGAN_BACKEND_OPENCL ? &dopt : NULL,
                              &devs[nopen]) != CLGAN_OK) {
            fprintf(stderr, "bench_train: open %s (%s): %s\n", l.items[idx[k]].id, l.items[idx[k]].name,
                    clgan_last_error());
            status = 1;
            continue;
        }
        nopen++;
    }
    fprintf(notes, "clgan %s bench_train: loss ns, Adam; median of %d steps after %d warm-up (ref: %d after %d)\n",
            clgan_version(), o.steps, o.warmup, o.ref_steps, o.ref_warmup);
    for (int j = 0; j < nopen; j++) {
        const clgan_device_info *in = clgan_device_get_info(devs[j]);
        if (in->backend == CLGAN_BACKEND_REF) fprintf(notes, "  %-6s %s\n", in->id, in->name);
        else
            fprintf(notes, "  %-6s %s %s (%s; %s; %u compute units)\n", in->id, in->type, in->name, in->platform_name,
                    in->device_version, in->compute_units);
    }
    if (o.csv)
        printf("model,device,device_name,batch,n_critic,g_params,d_params,steps,warmup,d_step_ms,g_step_ms,step_ms,"
               "images_per_s,speedup_vs_ref,launches_per_step,syncs_per_step\n");

    /* the image models share one data set (load_data picks by kind) */
    const clgan_model_kind order[3] = {CLGAN_MODEL_DCGAN, CLGAN_MODEL_MLP, CLGAN_MODEL_TOY};
    clgan_gan_config cfg[3];
    char desc[3][96];
    bench_data images = {0}, points = {0};
    bool have_images = false, have_points = false;
    for (int mi = 0; mi < 3; mi++) {
        clgan_model_kind kind = order[mi];
        if (!o.model[kind]) continue;
        clgan_run_config rc_defaults;
        clgan_run_defaults(&rc_defaults, kind, CLGAN_LOSS_NS);
        cfg[kind] = rc_defaults.gan;
        if (o.batch) cfg[kind].batch = o.batch;
        if (o.image_size && kind != CLGAN_MODEL_TOY) cfg[kind].model.image_size = o.image_size;
        if (o.channels && kind != CLGAN_MODEL_TOY) cfg[kind].model.channels = o.channels;
        model_text(&cfg[kind].model, desc[kind], sizeof desc[kind]);
        bool toy = kind == CLGAN_MODEL_TOY;
        bool *have = toy ? &have_points : &have_images;
        bench_data *data = toy ? &points : &images;
        if (*have) continue;
        if (load_data(kind, &cfg[kind], o.data, data) != CLGAN_OK) {
            fprintf(stderr, "bench_train: %s data: %s\n", toy ? "toy" : "image", clgan_last_error());
            status = 1;
            o.model[kind] = false;
            if (!toy) o.model[CLGAN_MODEL_DCGAN] = o.model[CLGAN_MODEL_MLP] = false;
            continue;
        }
        *have = true;
        fprintf(notes, "%s data: %s\n", toy ? "toy" : "image", data->source);
    }
    if (!o.csv)
        printf("\n%-30s  %-6s  %5s  %9s  %9s  %10s  %10s  %10s  %9s  %7s  %8s  %5s\n", "model", "device", "batch",
               "G params", "D params", "D step ms", "G step ms", "step ms", "images/s", "speedup", "launches",
               "syncs");
    for (int mi = 0; mi < 3; mi++) {
        clgan_model_kind kind = order[mi];
        if (!o.model[kind]) continue;
        const bench_data *data = kind == CLGAN_MODEL_TOY ? &points : &images;
        if (data->ds.n < cfg[kind].batch) {
            fprintf(stderr, "bench_train: %s: %d samples, fewer than one batch of %d\n", desc[kind], data->ds.n,
                    cfg[kind].batch);
            status = 1;
            continue;
        }
        double ref_ms = 0; /* ref's median step, when timed */
        for (int j = 0; j < nopen; j++) {
            const clgan_device_info *in = clgan_device_get_info(devs[j]);
            bool is_ref = in->backend == CLGAN_BACKEND_REF;
            int steps = is_ref ? o.ref_steps : o.steps, warm = is_ref ? o.ref_warmup : o.warmup;
            if (steps == 0) continue;
            train_result r = {0};
            size_t gp = 0, dp = 0;
            if (time_training(&cfg[kind], devs[j], data, warm, steps, o.profile, &r, &gp, &dp) != CLGAN_OK) {
                fprintf(stderr, "bench_train: %s on %s: %s\n", desc[kind], in->id, clgan_last_error());
                status = 1;
                continue;
            }
            if (is_ref) ref_ms = r.step_ms;
            double ips = cfg[kind].batch / (r.step_ms * 1e-3);
            char speedup[16] = "-";
            if (!is_ref && ref_ms > 0) snprintf(speedup, sizeof speedup, "%.1fx", ref_ms / r.step_ms);
            if (o.csv) {
                csv_field(desc[kind]);
                putchar(',');
                csv_field(in->id);
                putchar(',');
                csv_field(in->name);
                printf(",%d,%d,%zu,%zu,%d,%d,%.6g,%.6g,%.6g,%.6g,", cfg[kind].batch, cfg[kind].n_critic, gp, dp, r.steps,
                       r.warmup, r.d_ms, r.g_ms, r.step_ms, ips);
                if (!is_ref && ref_ms > 0) printf("%.6g", ref_ms / r.step_ms);
                printf(",%llu,%llu\n", (unsigned long long)r.launches, (unsigned long long)r.syncs);
            } else {
                printf("%-30s  %-6s  %5d  %9zu  %9zu  %10.1f  %10.1f  %10.1f  %9.1f  %7s  %8llu  %5llu\n", desc[kind], in->id,
                       cfg[kind].batch, gp, dp, r.d_ms, r.g_ms, r.step_ms, ips, speedup,
                       (unsigned long long)r.launches, (unsigned long long)r.syncs);
            }
            fflush(stdout);
        }
    }
    clgan_dataset_free(&images.ds);
    clgan_dataset_free(&points.ds);
    for (int j = 0; j < nopen; j++) clgan_device_close(devs[j]);
    clgan_device_list_free(&l);
    return status;
}
