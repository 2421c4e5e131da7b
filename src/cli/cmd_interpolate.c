/* clgan interpolate: a grid of spherical interpolations between latent
 * points drawn from the prior, one row per pair. */
#include "cli/cli.h"

#include "clgan/train.h"
#include "clgan/repair.h"

#include <stdlib.h>
#include <string.h>

int cmd_interpolate(int argc, char **argv) {
    cli_opt opts[] = {
        {"checkpoint", "FILE", NULL, NULL, "a checkpoint (or a run folder: its latest)", NULL, false},
        {"out", "FILE", NULL, "interpolation.png", "the PNG grid: one row per pair, one column per step", NULL, false},
        {"pairs", "N", NULL, "8", "pairs of latent points (rows)", NULL, false},
        {"steps", "K", NULL, "10", "points per row, both endpoints included (columns)", NULL, false},
        {"seed", "S", NULL, "1", "seed of the endpoints, drawn from the prior N(0, I)", NULL, false},
        {"labels", "LIST", NULL, "row i: class i mod classes",
         "class per row for a conditional model (one number for all rows, or a list repeated)", NULL, false},
        CLI_EMA_OPT, CLI_DEVICE_OPTS};
    cli_command c = {"interpolate",
                     "Spherical interpolation (slerp) between pairs of latent points: each row of the grid walks the "
                     "great circle from one point to the other at a constant angle per step, the norm going linearly "
                     "between the endpoints'. A conditional model keeps one label per row.",
                     "--checkpoint FILE [--out strip.png] [--pairs N] [--steps K] [--seed S] [--labels LIST]", opts,
                     (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    const char *out = cli_get(&c, "out");
    long pairs, steps, seed;
    if (cli_get_long(&c, "pairs", 1, 4096, &pairs) != CLI_OK || cli_get_long(&c, "steps", 2, 4096, &steps) != CLI_OK ||
        cli_get_long(&c, "seed", 0, 1L << 62, &seed) != CLI_OK)
        return CLI_USAGE;
    if (pairs * steps > 1 << 16) {
        fprintf(stderr, "clgan interpolate: %ld pairs x %ld steps is more than 65536 images\n", pairs, steps);
        return CLI_USAGE;
    }
    char path[1400];
    clgan_run_config run;
    if ((rc = cli_checkpoint_config(&c, "interpolation", path, sizeof path, &run)) != CLI_OK) return rc;
    const clgan_model_config *m = &run.gan.model;
    int n = (int)(pairs * steps);
    int32_t *row = calloc((size_t)pairs, sizeof *row), *labels = calloc((size_t)n, sizeof *labels);
    if (!row || !labels) {
        free(row);
        free(labels);
        return cli_fail(CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory"));
    }
    if (m->classes > 0) {
        if (cli_given(&c, "labels")) {
            if (cli_parse_labels(&c, cli_get(&c, "labels"), (int)pairs, m->classes, row) != CLI_OK) {
                free(row);
                free(labels);
                return CLI_USAGE;
            }
        } else {
            for (long p = 0; p < pairs; p++) row[p] = (int32_t)(p % m->classes);
        }
        for (int i = 0; i < n; i++) labels[i] = row[i / steps];
    } else if (cli_given(&c, "labels")) {
        fprintf(stderr, "clgan interpolate: --labels: this model is not conditional\n");
        free(row);
        free(labels);
        return CLI_USAGE;
    }
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) {
        free(row);
        free(labels);
        return rc;
    }
    size_t per = (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    float *z = malloc((size_t)n * (size_t)m->z_dim * sizeof *z), *img = malloc((size_t)n * per * sizeof *img);
    clgan_gan *gan = NULL;
    clgan_status st = z && img ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) st = clgan_interpolate_latents((int)pairs, (int)steps, m->z_dim, (uint64_t)seed, z);
    if (st == CLGAN_OK) st = cli_open_gan(&c, path, &run, d, &gan);
    if (st == CLGAN_OK) st = clgan_gan_generate(gan, z, m->classes > 0 ? labels : NULL, n, img);
    if (st == CLGAN_OK) st = clgan_make_parent_dirs(out);
    if (st == CLGAN_OK)
        st = clgan_png_write_grid(out, img, n, m->channels, m->image_size, m->image_size, (int)steps, 2);
    if (st == CLGAN_OK)
        printf("wrote %s (%ld pairs x %ld steps, generator step %llu)\n", out, pairs, steps,
               (unsigned long long)clgan_gan_step_count(gan));
    clgan_gan_free(gan);
    clgan_device_close(d);
    free(z);
    free(img);
    free(row);
    free(labels);
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}
