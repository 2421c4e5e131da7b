/* clgan sample: images from a trained generator. */
#include "cli/cli.h"

#include "clgan/io.h"
#include "clgan/train.h"

#include <stdlib.h>
#include <string.h>

/* --out-tensors: z (N, z_dim), labels (N, int32; conditional models), and
 * images (N, C, H, W) or points (N, 2), written atomically */
static clgan_status write_tensors(const char *path, const clgan_model_config *m, const float *z, const int32_t *labels,
                                  const float *img, long count) {
    clgan_st_writer *w = clgan_st_writer_new();
    if (!w) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    int64_t zs[2] = {count, m->z_dim}, ys[1] = {count};
    int64_t xs[4] = {count, m->channels, m->image_size, m->image_size}, ps[2] = {count, 2};
    bool toy = m->kind == CLGAN_MODEL_TOY;
    clgan_status st = clgan_st_add(w, "z", CLGAN_DT_F32, 2, zs, z);
    if (st == CLGAN_OK && m->classes > 0) st = clgan_st_add(w, "labels", CLGAN_DT_I32, 1, ys, labels);
    if (st == CLGAN_OK) st = clgan_st_add(w, toy ? "points" : "images", CLGAN_DT_F32, toy ? 2 : 4, toy ? ps : xs, img);
    if (st == CLGAN_OK) st = clgan_st_write(w, path);
    clgan_st_writer_free(w);
    return st;
}

int cmd_sample(int argc, char **argv) {
    cli_opt opts[] = {{"checkpoint", "FILE", NULL, NULL, "a checkpoint (or a run folder: its latest)", NULL, false},
                      {"count", "N", NULL, "64", "images to generate", NULL, false},
                      {"labels", "LIST", NULL, "0,1,...,classes-1 (one row each)", "class labels for a conditional model",
                       NULL, false},
                      {"seed", "S", NULL, "1", "noise seed", NULL, false},
                      {"cols", "N", NULL, "8", "grid columns", NULL, false},
                      {"out", "FILE", NULL, "samples.png", "the PNG grid (a scatter plot for 2-D data)", NULL, false},
                      {"out-dir", "DIR", NULL, NULL, "instead, one PNG per image in DIR", NULL, false},
                      {"out-tensors", "FILE", NULL, NULL, "also a safetensors file of z, the labels and the generated "
                       "values as floats (images (N, C, H, W) in [-1, 1], or 2-D points), e.g. to compare with an "
                       "exported generator", NULL, false},
                      CLI_EMA_OPT, CLI_DEVICE_OPTS};
    cli_command c = {"sample", "Generate images with a trained generator.",
                     "--checkpoint FILE [--count N] [--labels LIST] [--out grid.png | --out-dir DIR]", opts,
                     (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    long count, seed, cols;
    if (cli_get_long(&c, "count", 1, 1 << 20, &count) != CLI_OK || cli_get_long(&c, "seed", 0, 1L << 62, &seed) != CLI_OK ||
        cli_get_long(&c, "cols", 1, 4096, &cols) != CLI_OK)
        return CLI_USAGE;
    char path[1400];
    clgan_run_config run;
    if ((rc = cli_checkpoint_config(&c, NULL, path, sizeof path, &run)) != CLI_OK) return rc;
    clgan_status st = CLGAN_OK;
    const clgan_model_config *m = &run.gan.model;
    int32_t *labels = calloc((size_t)count, sizeof *labels);
    if (m->classes > 0) {
        if (cli_given(&c, "labels")) {
            if (cli_parse_labels(&c, cli_get(&c, "labels"), (int)count, m->classes, labels) != CLI_OK) {
                free(labels);
                return CLI_USAGE;
            }
        } else {
            for (long i = 0; i < count; i++) labels[i] = (int32_t)((i / cols) % m->classes);
        }
    } else if (cli_given(&c, "labels")) {
        fprintf(stderr, "clgan sample: --labels: this model is not conditional\n");
        free(labels);
        return CLI_USAGE;
    }
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) {
        free(labels);
        return rc;
    }
    clgan_gan *gan = NULL;
    size_t per = m->kind == CLGAN_MODEL_TOY ? 2 : (size_t)m->channels * (size_t)m->image_size * (size_t)m->image_size;
    float *z = malloc((size_t)count * (size_t)m->z_dim * sizeof *z), *img = malloc((size_t)count * per * sizeof *img);
    st = z && img ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) st = cli_open_gan(&c, path, &run, d, &gan);
    if (st == CLGAN_OK) {
        clgan_rng_normal((uint64_t)seed, 0, z, (size_t)count * (size_t)m->z_dim);
        st = clgan_gan_generate(gan, z, m->classes > 0 ? labels : NULL, (int)count, img);
    }
    const char *tensors = cli_get(&c, "out-tensors");
    if (st == CLGAN_OK && tensors) st = write_tensors(tensors, m, z, labels, img, count);
    const char *dir = cli_get(&c, "out-dir"), *out = cli_get(&c, "out");
    if (st == CLGAN_OK && dir) {
        st = clgan_make_dirs(dir);
        for (long i = 0; i < count && st == CLGAN_OK; i++) {
            char p[1400];
            snprintf(p, sizeof p, "%s/%06ld.png", dir, i);
            st = m->kind == CLGAN_MODEL_TOY ? CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "--out-dir: 2-D samples have no images")
                                            : clgan_png_write_grid(p, img + (size_t)i * per, 1, m->channels, m->image_size,
                                                                   m->image_size, 1, 0);
        }
        if (st == CLGAN_OK) printf("wrote %ld images to %s\n", count, dir);
    } else if (st == CLGAN_OK) {
        if (!out) out = "samples.png";
        st = clgan_make_parent_dirs(out);
        if (st == CLGAN_OK)
        st = m->kind == CLGAN_MODEL_TOY
                 ? clgan_png_write_scatter(out, img, (int)count, NULL, 0, strcmp(run.dataset, "grid25") ? -2.0f : -6.0f,
                                           strcmp(run.dataset, "grid25") ? 2.0f : 6.0f, 512)
                 : clgan_png_write_grid(out, img, (int)count, m->channels, m->image_size, m->image_size, (int)cols, 2);
        if (st == CLGAN_OK) printf("wrote %s (%ld samples, step %llu)\n", out, count, (unsigned long long)clgan_gan_step_count(gan));
    }
    clgan_gan_free(gan);
    clgan_device_close(d);
    free(z);
    free(img);
    free(labels);
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}
