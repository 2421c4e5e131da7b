/* clgan inpaint: fill the unknown pixels of images with a trained generator
 * ("Semantic Image Inpainting with Deep Generative Models", 2017) and blend
 * them in by solving a Poisson equation. The algorithm is in
 * src/repair/inpaint.c; this file reads and writes the files. */
#include "cli/cli.h"

#include "clgan/train.h"
#include "clgan/repair.h"
#include "io/dir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define POISSON_TOL 1e-6

typedef struct {
    char **items;
    int count;
} path_list;

static void paths_free(path_list *l) {
    for (int i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static bool paths_add(path_list *l, const char *s, size_t len) {
    char **grown = realloc(l->items, (size_t)(l->count + 1) * sizeof *grown);
    if (!grown) return false;
    l->items = grown;
    if (!(l->items[l->count] = malloc(len + 1))) return false;
    memcpy(l->items[l->count], s, len);
    l->items[l->count++][len] = '\0';
    return true;
}

static bool is_dir(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* A folder (its *.png files, any case, sorted by name, names beginning with
 * '.' skipped) or a comma-separated list of files. */
static clgan_status expand_paths(const char *spec, const char *what, path_list *out) {
    memset(out, 0, sizeof *out);
    if (is_dir(spec)) {
        clgan_dir_entries all;
        clgan_status st = clgan_dir_list(spec, &all);
        for (size_t i = 0; i < all.n && st == CLGAN_OK; i++) {
            const clgan_dir_entry *e = &all.items[i];
            if (!clgan_is_png_name(e->name)) continue;
            if (e->kind != CLGAN_ENTRY_FILE)
                /* as the data-set folder loader does: a FIFO or device named *.png is not an image */
                clgan_log(CLGAN_LOG_WARN, "%s: skipped: %s, not a regular file", e->path,
                          e->kind == CLGAN_ENTRY_UNREADABLE ? "cannot stat it" : clgan_file_kind(e->mode));
            else if (!paths_add(out, e->path, strlen(e->path)))
                st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        }
        clgan_dir_entries_free(&all);
        if (st == CLGAN_OK && out->count == 0)
            st = CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s %s: the folder holds no .png file", what, spec);
        if (st != CLGAN_OK) {
            paths_free(out);
            return st;
        }
        return CLGAN_OK; /* in name order, as listed */
    }
    for (const char *s = spec;;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == 0) {
            paths_free(out);
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s '%s': an empty file name in the list", what, spec);
        }
        if (!paths_add(out, s, len)) {
            paths_free(out);
            return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        }
        if (!comma) break;
        s = comma + 1;
    }
    return CLGAN_OK;
}

/* Reads n PNGs into (n, c, side, side) floats in [-1, 1]. The images must be
 * side x side already: inpainting keeps the known pixels exactly as given,
 * which resampling would not, and the hole is stated in the image's pixels. */
static clgan_status read_images(const path_list *l, const char *what, int c, int side, float *x) {
    size_t hw = (size_t)side * side;
    for (int i = 0; i < l->count; i++) {
        uint8_t *px = NULL;
        int w = 0, h = 0;
        clgan_status st = clgan_png_read(l->items[i], c, &px, &w, &h);
        if (st != CLGAN_OK) return clgan_error_context(st, "%s: ", what);
        if (w != side || h != side) {
            free(px);
            return CLGAN_ERR(
                CLGAN_ERR_FORMAT,
                "%s %s: %d x %d pixels, expected %d x %d (the model's image size; resize or crop it first)", what,
                l->items[i], w, h, side, side);
        }
        for (size_t p = 0; p < hw; p++)
            for (int ch = 0; ch < c; ch++) x[((size_t)i * c + ch) * hw + p] = px[p * c + ch] / 127.5f - 1.0f;
        free(px);
    }
    return CLGAN_OK;
}

static clgan_status make_masks(const char *spec, int n, int side, uint64_t seed, uint8_t *missing) {
    size_t hw = (size_t)side * side;
    clgan_mask_kind kind;
    if (clgan_mask_parse(spec, &kind) == CLGAN_OK) {
        clgan_status st = CLGAN_OK;
        /* a random mask differs from image to image */
        for (int i = 0; i < n && st == CLGAN_OK; i++)
            st = clgan_mask_make(kind, side, side, seed + (uint64_t)i, missing + (size_t)i * hw);
        return st;
    }
    clgan_clear_error();
    struct stat sb;
    if (stat(spec, &sb) != 0)
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND,
                         "--mask %s: expected center, left, random or a PNG file, and there is no such file", spec);
    clgan_status st = clgan_mask_read_png(spec, side, side, missing);
    if (st != CLGAN_OK) return st;
    size_t unknown = 0;
    for (size_t p = 0; p < hw; p++) unknown += missing[p];
    if (unknown == 0 || unknown == hw)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "mask %s: %s, expected some pixels of each kind (nonzero = unknown)",
                         spec,
                         unknown ? "every pixel is nonzero (unknown), nothing to inpaint from"
                                 : "every pixel is zero (known), nothing to inpaint");
    for (int i = 1; i < n; i++) memcpy(missing + (size_t)i * hw, missing, hw);
    return CLGAN_OK;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The images of one inpainting and what is made of them, n x (ch, side, side) each */
typedef struct {
    int n, ch, side;
    size_t hw, per;
    float *x, *orig;  /* the inputs, and the originals (NULL without --original) */
    float *gen, *res; /* G(z), and the result */
    float *alt;       /* the generated pixels pasted into the hole */
    uint8_t *missing; /* n x (side, side): nonzero = unknown */
    int32_t *labels;
    clgan_inpaint_result *results;
} job;

static clgan_status job_alloc(job *j, int n, int ch, int side, bool originals) {
    *j = (job){.n = n, .ch = ch, .side = side, .hw = (size_t)side * side};
    j->per = (size_t)ch * j->hw;
    size_t floats = (size_t)n * j->per;
    j->x = malloc(floats * sizeof(float));
    j->orig = originals ? malloc(floats * sizeof(float)) : NULL;
    j->gen = malloc(floats * sizeof(float));
    j->res = malloc(floats * sizeof(float));
    j->alt = malloc(floats * sizeof(float));
    j->missing = malloc((size_t)n * j->hw);
    j->labels = calloc((size_t)n, sizeof *j->labels);
    j->results = calloc((size_t)n, sizeof *j->results);
    if (!j->x || (originals && !j->orig) || !j->gen || !j->res || !j->alt || !j->missing || !j->labels || !j->results)
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %d images", n);
    return CLGAN_OK;
}

static void job_free(job *j) {
    free(j->x);
    free(j->orig);
    free(j->gen);
    free(j->res);
    free(j->alt);
    free(j->missing);
    free(j->labels);
    free(j->results);
}

/* alt: G(z) pasted into each hole; res: blended (or pasted) */
static clgan_status blend_all(job *j, clgan_blend_kind blend, const path_list *inputs) {
    clgan_status st = CLGAN_OK;
    double t0 = cli_now_s();
    clgan_poisson_stats ps = {0, 0.0};
    for (int i = 0; i < j->n && st == CLGAN_OK; i++) {
        size_t o = (size_t)i * j->per;
        const uint8_t *mk = j->missing + (size_t)i * j->hw;
        clgan_inpaint_paste(j->x + o, j->gen + o, mk, j->ch, j->side, j->side, j->alt + o);
        if (blend == CLGAN_BLEND_POISSON) {
            clgan_poisson_stats one;
            st = clgan_poisson_blend(j->x + o, j->gen + o, mk, j->ch, j->side, j->side, POISSON_TOL, 0, j->res + o, &one);
            if (st != CLGAN_OK) clgan_error_context(st, "%s: ", inputs->items[i]);
            if (one.iters > ps.iters) ps.iters = one.iters;
            if (one.residual > ps.residual) ps.residual = one.residual;
        } else {
            memcpy(j->res + o, j->alt + o, j->per * sizeof *j->res);
        }
    }
    if (st == CLGAN_OK && blend == CLGAN_BLEND_POISSON)
        clgan_log(CLGAN_LOG_INFO,
                  "poisson blending: at most %d conjugate-gradient iterations, relative residual <= %.2g "
                  "(tolerance %g) in %.3f s",
                  ps.iters, ps.residual, POISSON_TOL, cli_now_s() - t0);
    return st;
}

/* --out (one image, or a grid in input order) and, with --out-dir, each result under its input's name */
static clgan_status write_results(const job *j, const char *out, const char *dir, const path_list *inputs) {
    clgan_status st = clgan_make_parent_dirs(out);
    int n = j->n, ch = j->ch, side = j->side;
    if (st == CLGAN_OK)
        st = n == 1 ? clgan_png_write_grid(out, j->res, 1, ch, side, side, 1, 0)
                    : clgan_png_write_grid(out, j->res, n, ch, side, side, n < 8 ? n : 8, 2);
    if (st == CLGAN_OK && dir) {
        st = clgan_make_dirs(dir);
        for (int i = 0; i < n && st == CLGAN_OK; i++) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, base_name(inputs->items[i]));
            st = clgan_png_write_grid(p, j->res + (size_t)i * j->per, 1, ch, side, side, 1, 0);
        }
    }
    return st;
}

/* PSNR on the hole against the originals: of the result, the pasted
 * generation, and two fills that use no generator: the mean of the known
 * pixels, and the smooth (harmonic) fill, Poisson blending of a flat guide,
 * which continues the hole's boundary inwards. Per image, then pooled. */
static clgan_status report_psnr(job *j, clgan_blend_kind blend, const path_list *inputs) {
    int n = j->n, ch = j->ch, side = j->side;
    size_t per = j->per, hw = j->hw;
    float *mean = j->gen; /* G(z) is no longer needed */
    /* n results, then one image of zeros: the flat guide */
    float *smooth = calloc((size_t)(n + 1) * per, sizeof *smooth);
    if (!smooth) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_status st = CLGAN_OK;
    for (int i = 0; i < n && st == CLGAN_OK; i++) {
        clgan_mean_fill(j->x + (size_t)i * per, j->missing + (size_t)i * hw, ch, side, side, mean + (size_t)i * per);
        st = clgan_poisson_blend(j->x + (size_t)i * per, smooth + (size_t)n * per, j->missing + (size_t)i * hw, ch,
                                 side, side, POISSON_TOL, 0, smooth + (size_t)i * per, NULL);
    }
    for (int i = 0; i <= n && st == CLGAN_OK; i++) {
        /* each image, then all of them pooled */
        int first = i < n ? i : 0, count = i < n ? 1 : n;
        if (i == n && n == 1) break;
        size_t o = (size_t)first * per;
        const uint8_t *mk = j->missing + (size_t)first * hw;
        double p_res = clgan_psnr_hole(j->res + o, j->orig + o, mk, count, ch, side, side);
        double p_alt = clgan_psnr_hole(j->alt + o, j->orig + o, mk, count, ch, side, side);
        double p_mean = clgan_psnr_hole(mean + o, j->orig + o, mk, count, ch, side, side);
        double p_smooth = clgan_psnr_hole(smooth + o, j->orig + o, mk, count, ch, side, side);
        if (i < n)
            printf("%s: ", base_name(inputs->items[i]));
        else
            printf("all %d images: ", n);
        if (blend == CLGAN_BLEND_POISSON)
            printf("PSNR on the hole: inpainted (poisson) %.2f dB, pasted %.2f dB; without the generator: "
                   "mean fill %.2f dB, smooth fill %.2f dB\n",
                   p_res, p_alt, p_mean, p_smooth);
        else
            printf("PSNR on the hole: inpainted (pasted) %.2f dB; without the generator: mean fill %.2f dB, "
                   "smooth fill %.2f dB\n",
                   p_res, p_mean, p_smooth);
    }
    free(smooth);
    return st;
}

/* The latent search, blending, outputs and report, on device d */
static clgan_status run_job(job *j, const cli_command *c, const char *path, const clgan_run_config *run,
                            const clgan_inpaint_config *ic, clgan_blend_kind blend, const path_list *inputs,
                            clgan_device *d) {
    const clgan_model_config *m = &run->gan.model;
    clgan_gan *gan = NULL;
    clgan_status st = cli_open_gan(c, path, run, d, &gan);
    double t0 = cli_now_s();
    if (st == CLGAN_OK)
        st = clgan_inpaint_search(gan, ic, j->x, j->missing, m->classes > 0 && cli_given(c, "labels") ? j->labels : NULL,
                                  j->n, j->gen, NULL, j->results);
    clgan_gan_free(gan);
    if (st != CLGAN_OK) return st;
    clgan_log(CLGAN_LOG_INFO, "searched %d images x %d starts x %d iterations in %.1f s", j->n, ic->restarts,
              ic->iters, cli_now_s() - t0);
    if ((st = blend_all(j, blend, inputs)) != CLGAN_OK) return st;
    for (int i = 0; i < j->n; i++) {
        char cls[32] = "";
        if (m->classes > 0) snprintf(cls, sizeof cls, ", class %d", (int)j->results[i].label);
        clgan_log(CLGAN_LOG_INFO, "%s: loss %.4g (context %.4g, prior %.4g), start %d%s", inputs->items[i],
                  j->results[i].loss, j->results[i].context, j->results[i].prior, j->results[i].restart, cls);
    }
    const char *out = cli_get(c, "out"), *dir = cli_get(c, "out-dir");
    if ((st = write_results(j, out, dir, inputs)) != CLGAN_OK) return st;
    printf("wrote %s (%d image%s, mask %s, blend %s)\n", out, j->n, j->n == 1 ? "" : "s", cli_get(c, "mask"),
           cli_get(c, "blend"));
    if (dir) printf("wrote %d images to %s\n", j->n, dir);
    return j->orig ? report_psnr(j, blend, inputs) : CLGAN_OK;
}

int cmd_inpaint(int argc, char **argv) {
    cli_opt opts[] = {
        {"checkpoint", "FILE", NULL, NULL, "a checkpoint (or a run folder: its latest)", NULL, false},
        {"image", "IN", NULL, NULL,
         "the image(s): a PNG, a comma-separated list, or a folder of PNGs (one batch); "
         "the model's size, converted to its channels",
         NULL, false},
        {"mask", "M", NULL, "center",
         "the unknown pixels: center (a centred square, a quarter of the area), left "
         "(the left half), random (80% of the pixels, seeded), or a PNG of the image's size "
         "(nonzero = unknown)",
         NULL, false},
        {"out", "FILE", NULL, "inpainted.png", "the result (several images: a grid, in input order)", NULL, false},
        {"out-dir", "DIR", NULL, NULL, "also write each result as DIR/<input name>", NULL, false},
        {"original", "IN", NULL, NULL,
         "the complete image(s), as --image: report PSNR on the hole, and that of two fills that use no generator "
         "(the known pixels' mean; the smooth, harmonic fill from the hole's boundary)",
         NULL, false},
        {"iters", "N", NULL, "1000", "Adam steps on z", NULL, false},
        {"restarts", "N", NULL, "8", "random starts per image (the lowest loss wins)", NULL, false},
        {"lambda", "L", NULL, "0.003", "weight of the prior (adversarial) loss", NULL, false},
        {"lr", "X", NULL, "0.03", "Adam step size on z", NULL, false},
        {"blend", "B", NULL, "poisson",
         "poisson (solve for the generated image's gradients, the known pixels as the "
         "boundary) or none (paste the generated pixels)",
         NULL, false},
        {"seed", "S", NULL, "1", "seeds the starts and the random mask", NULL, false},
        {"labels", "LIST", NULL, "start r tries class r mod classes; --restarts >= classes tries each",
         "class per image for a conditional model (one number for all, or a list repeated)", NULL, false},
        CLI_EMA_OPT, CLI_DEVICE_OPTS};
    cli_command c = {"inpaint",
                     "Semantic inpainting: search the generator's latent space for the image that best matches the "
                     "known pixels (context loss weighted by the nearby unknown pixels, plus lambda times the "
                     "discriminator's prior loss; z kept in the shell where the prior N(0, I) has its mass), then "
                     "blend it into the hole.",
                     "--checkpoint FILE --image in.png --mask center|left|random|MASK.png --out out.png "
                     "[--original in.png] [--iters N] [--lambda L] [--lr X] [--blend poisson|none]",
                     opts, (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    const char *image = cli_get(&c, "image");
    if (!image) {
        fprintf(stderr, "clgan inpaint: --image IN is required\n");
        return CLI_USAGE;
    }
    clgan_inpaint_config ic;
    clgan_inpaint_defaults(&ic);
    long iters, restarts, seed;
    double lambda, lr;
    if (cli_get_long(&c, "iters", 0, 1000000, &iters) != CLI_OK ||
        cli_get_long(&c, "restarts", 1, 4096, &restarts) != CLI_OK ||
        cli_get_long(&c, "seed", 0, 1L << 62, &seed) != CLI_OK || cli_get_double(&c, "lambda", &lambda) != CLI_OK ||
        cli_get_double(&c, "lr", &lr) != CLI_OK)
        return CLI_USAGE;
    if (lambda < 0 || !(lr > 0)) {
        fprintf(stderr, "clgan inpaint: expected --lambda >= 0 and --lr > 0\n");
        return CLI_USAGE;
    }
    ic.iters = (int)iters;
    ic.restarts = (int)restarts;
    ic.seed = (uint64_t)seed;
    ic.lambda = (float)lambda;
    ic.lr = (float)lr;
    clgan_blend_kind blend;
    if (clgan_blend_parse(cli_get(&c, "blend"), &blend) != CLGAN_OK) {
        fprintf(stderr, "clgan inpaint: --blend %s: expected poisson or none\n", cli_get(&c, "blend"));
        return CLI_USAGE;
    }

    char path[1400];
    clgan_run_config run;
    if ((rc = cli_checkpoint_config(&c, "inpainting", path, sizeof path, &run)) != CLI_OK) return rc;
    const clgan_model_config *m = &run.gan.model;
    path_list inputs = {0}, originals = {0};
    clgan_status st = expand_paths(image, "--image", &inputs);
    if (st == CLGAN_OK && cli_given(&c, "original"))
        st = expand_paths(cli_get(&c, "original"), "--original", &originals);
    if (st == CLGAN_OK && originals.count && originals.count != inputs.count)
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                       "--original names %d images and --image %d; expected one original per image", originals.count,
                       inputs.count);
    job j = {0};
    if (st == CLGAN_OK) st = job_alloc(&j, inputs.count, m->channels, m->image_size, originals.count > 0);
    if (st == CLGAN_OK) st = read_images(&inputs, "--image", j.ch, j.side, j.x);
    if (st == CLGAN_OK && j.orig) st = read_images(&originals, "--original", j.ch, j.side, j.orig);
    if (st == CLGAN_OK) st = make_masks(cli_get(&c, "mask"), j.n, j.side, (uint64_t)seed, j.missing);
    if (st == CLGAN_OK && cli_given(&c, "labels")) {
        if (m->classes <= 0) {
            fprintf(stderr, "clgan inpaint: --labels: this model is not conditional\n");
            rc = CLI_USAGE;
        } else {
            rc = cli_parse_labels(&c, cli_get(&c, "labels"), j.n, m->classes, j.labels);
        }
    }
    clgan_device *d = NULL;
    if (st == CLGAN_OK && rc == CLI_OK) rc = cli_open_device(&c, &d);
    if (st == CLGAN_OK && rc == CLI_OK && d) st = run_job(&j, &c, path, &run, &ic, blend, &inputs, d);
    clgan_device_close(d);
    job_free(&j);
    paths_free(&inputs);
    paths_free(&originals);
    if (rc != CLI_OK) return rc;
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}
