/* clgan tune: CLBlast's GEMM kernels tuned for a device on the GEMM shapes
 * the built-in models really run (traced from one D step and one G step of
 * the default DCGAN and MLP GAN), then native against tuned CLBlast; the
 * record is stored beside the kernel cache and used by every later open. */
#include "cli/cli.h"

#include "clgan/train.h"

#include <stdlib.h>
#include <string.h>

enum { MAX_SHAPES = 64 };

/* Adds the GEMMs of one D step and one G step of `model` (defaults, with
 * the given batch and width) to shapes. */
static clgan_status trace_model(clgan_device *d, clgan_model_kind model, int batch, int width,
                                clgan_gemm_shape *shapes, int *n) {
    clgan_run_config run;
    clgan_run_defaults(&run, model, CLGAN_LOSS_NS);
    run.gan.batch = batch;
    if (model == CLGAN_MODEL_DCGAN) run.gan.model.width = width;
    clgan_gan *gan = NULL;
    clgan_status st = clgan_gan_new(&run.gan, d, &gan);
    if (st != CLGAN_OK) return st;
    const clgan_model_config *m = &run.gan.model;
    size_t per = (size_t)m->channels * m->image_size * m->image_size;
    float *x = calloc((size_t)batch * per, sizeof *x);
    if (!x) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_gemm_shape got[MAX_SHAPES];
    int ngot = 0;
    clgan_device_trace_gemm(d, got, MAX_SHAPES, &ngot);
    clgan_step_stats ss;
    if (st == CLGAN_OK) st = clgan_gan_d_step(gan, x, NULL, &ss);
    if (st == CLGAN_OK) st = clgan_gan_g_step(gan, NULL, &ss);
    if (st == CLGAN_OK) st = clgan_device_finish(d);
    clgan_device_trace_gemm(d, NULL, 0, NULL);
    for (int i = 0; i < ngot && st == CLGAN_OK; i++) {
        int j = 0;
        for (; j < *n; j++) {
            clgan_gemm_shape *e = &shapes[j];
            if (e->m == got[i].m && e->n == got[i].n && e->k == got[i].k && e->ta == got[i].ta &&
                e->tb == got[i].tb && e->accumulate == got[i].accumulate) {
                e->count += got[i].count;
                break;
            }
        }
        if (j == *n && *n < MAX_SHAPES) shapes[(*n)++] = got[i];
    }
    free(x);
    clgan_gan_free(gan);
    return st;
}

int cmd_tune(int argc, char **argv) {
    cli_opt opts[] = {
        {"fraction", "F", NULL, "5e-5",
         "share of CLBlast's tuner search space tried (Xgemm ~120,000 configurations; XgemmDirect gets 10x the "
         "share); 0 skips its tuner and compares only its database entry with the built-in candidates",
         NULL, false},
        {"candidates", "N", NULL, "all", "built-in parameter sets tried per kernel besides CLBlast's own (0: none)",
         NULL, false},
        {"runs", "N", NULL, "3", "timed runs per shape and candidate (the median counts)", NULL, false},
        {"max-dim", "N", NULL, "512", "largest side of the shape CLBlast's tuner runs", NULL, false},
        {"batch-size", "B", NULL, "64", "batch of the models whose GEMMs are tuned", NULL, false},
        {"width", "N", NULL, "64", "DCGAN width of the model whose GEMMs are tuned", NULL, false},
        CLI_DEVICE_OPTS};
    cli_command c = {"tune",
                     "Tune CLBlast's GEMM kernels for --device on the GEMM shapes one training step of the default "
                     "DCGAN (28x28) and MLP GAN runs, time host BLAS as a native kernel against tuned CLBlast on "
                     "them, and store the parameters and the faster path beside the kernel cache. Every later open "
                     "of the device applies them (--verbose says so); --gemm auto then takes the faster path.",
                     "--device D [--fraction F]", opts, (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    double fraction;
    long runs, max_dim, batch, width;
    if (cli_get_double(&c, "fraction", &fraction) != CLI_OK || cli_get_long(&c, "runs", 1, 16, &runs) != CLI_OK ||
        cli_get_long(&c, "max-dim", 128, 4096, &max_dim) != CLI_OK ||
        cli_get_long(&c, "batch-size", 1, 4096, &batch) != CLI_OK || cli_get_long(&c, "width", 1, 1024, &width) != CLI_OK)
        return CLI_USAGE;
    if (fraction < 0 || fraction > 1) {
        fprintf(stderr, "clgan tune: --fraction %g: expected a share in [0, 1]\n", fraction);
        return CLI_USAGE;
    }
    long cand = 0;
    if (strcmp(cli_get(&c, "candidates"), "all") != 0) {
        if (cli_get_long(&c, "candidates", 0, 16, &cand) != CLI_OK) return CLI_USAGE;
        if (cand == 0) cand = -1;
    }
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) return rc;
    if (clgan_device_get_info(d)->backend != CLGAN_BACKEND_OPENCL) {
        fprintf(stderr, "clgan tune: device %s computes GEMMs in plain C; choose an OpenCL device\n",
                clgan_device_get_info(d)->id);
        clgan_device_close(d);
        return CLI_USAGE;
    }
    clgan_gemm_shape shapes[MAX_SHAPES];
    int n = 0;
    clgan_status st = trace_model(d, CLGAN_MODEL_DCGAN, (int)batch, (int)width, shapes, &n);
    if (st == CLGAN_OK) st = trace_model(d, CLGAN_MODEL_MLP, (int)batch, (int)width, shapes, &n);
    if (st != CLGAN_OK) {
        clgan_device_close(d);
        return cli_fail(st);
    }
    printf("tuning GEMM on %s (%s): %d shapes from one step of DCGAN-28 and the MLP GAN (batch %ld)\n",
           clgan_device_get_info(d)->id, clgan_device_get_info(d)->name, n, batch);
    clgan_tune_options to = {.fraction = fraction > 0 ? fraction : -1, .runs = (int)runs, .max_dim = (int)max_dim,
                            .candidates = (int)cand};
    clgan_tune_report *r = calloc(1, sizeof *r);
    st = r ? clgan_gemm_tune(d, shapes, n, &to, r) : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st != CLGAN_OK) {
        free(r);
        clgan_device_close(d);
        return cli_fail(st);
    }
    printf("%6s %6s %6s %-9s %5s %11s %11s %9s %9s\n", "m", "n", "k", "op", "calls", "native ms", "clblast ms",
           "native/s", "GFLOP/s");
    for (int i = 0; i < r->nrows; i++) {
        const clgan_tune_row *w = &r->rows[i];
        double gf = 2.0 * w->shape.m * w->shape.n * (double)w->shape.k / 1e6;
        char op[16];
        snprintf(op, sizeof op, "%s%s%s", w->shape.ta ? "At" : "A", w->shape.tb ? "Bt" : "B",
                 w->shape.accumulate ? "+C" : "");
        printf("%6d %6d %6d %-9s %5d %11.3f %11.3f %9.1f %9.1f\n", w->shape.m, w->shape.n, w->shape.k, op,
               w->shape.count, w->native_ms, w->clblast_ms, w->native_ms > 0 ? gf / w->native_ms : 0,
               gf / w->clblast_ms);
    }
    printf("per step: native %.1f ms, tuned CLBlast %.1f ms: %s is faster\n", r->native_total_ms, r->clblast_total_ms,
           clgan_gemm_path_name(r->faster));
    printf("CLBlast parameters: %s\n", r->params);
    printf("stored in %s (%.0f s)\n", r->file, r->tune_seconds);
    free(r);
    clgan_device_close(d);
    return CLI_OK;
}
