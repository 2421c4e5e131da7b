/* golden_init: the starting point of one golden-fixture case, for the
 * PyTorch twin (tools/golden_make.py).
 *
 *   golden_init OUT.safetensors --model M --loss L [--opt O] [--lr X] [--image-size S] [--channels C] [--width W]
 *               [--widths A,B] [--z-dim Z] [--classes K] [--batch B] [--n-critic N] [--gp-phase-steps N] [--r1 GAMMA] [--r1-every K] [--augment P]
 *               [--clip-grad X] [--weight-decay X] [--d-norm batch|layer|none] [--seed S]
 *               [--pack M] [--d-widths A,B] [--maxout K] [--g-batchnorm 0|1] [--normal-init 0|1]
 *
 * Starts from clgan_run_defaults(model, loss) (so everything not given is
 * clgan's default), builds the GAN on `ref` and writes a checkpoint
 * (clgan_checkpoint_save): every parameter and running statistic under its
 * name as clgan initialised it, and the run configuration as JSON in
 * __metadata__.config. The twin loads its weights from there and draws z
 * with its own Philox (checked against clgan's in tests/test_golden.c). */
#include "clgan/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
    fprintf(stderr, "golden_init: %s: %s\n", what, clgan_last_error());
    return 1;
}

static bool parse_norm(const char *s, clgan_norm_kind *out) { return clgan_norm_parse(s, out) == CLGAN_OK; }

/* "A,B,..." into out (CLGAN_MAX_WIDTHS at most); the count */
static int parse_list(const char *v, int *out) {
    int n = 0;
    for (const char *s = v; *s && n < CLGAN_MAX_WIDTHS;) {
        char *end;
        out[n++] = (int)strtol(s, &end, 10);
        if (end == s) break;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc % 2 != 0) {
        fprintf(stderr, "usage: golden_init OUT.safetensors --model M --loss L [--option value]...\n");
        return 2;
    }
    const char *out = argv[1], *model = NULL, *loss = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--model") == 0) model = argv[i + 1];
        if (strcmp(argv[i], "--loss") == 0) loss = argv[i + 1];
    }
    clgan_model_kind mk;
    clgan_loss_kind lk;
    if (!model || clgan_model_parse(model, &mk) != CLGAN_OK) return fail("--model");
    if (!loss || clgan_loss_parse(loss, &lk) != CLGAN_OK) return fail("--loss");
    clgan_run_config rc;
    clgan_run_defaults(&rc, mk, lk);
    clgan_gan_config *g = &rc.gan;
    clgan_model_config *m = &g->model;
    g->lr_schedule = (clgan_lr_schedule){.kind = CLGAN_LR_CONSTANT}; /* the twin steps at constant rates */
    int width = 0; /* --width, applied after the loop unless --widths lists the layers */
    bool widths_given = false;
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--model") == 0 || strcmp(k, "--loss") == 0) continue;
        if (strcmp(k, "--opt") == 0) {
            clgan_opt_kind o;
            if (clgan_opt_parse(v, &o) != CLGAN_OK) return fail(k);
            g->opt_g.kind = g->opt_d.kind = o;
        } else if (strcmp(k, "--image-size") == 0) m->image_size = atoi(v);
        else if (strcmp(k, "--channels") == 0) m->channels = atoi(v);
        else if (strcmp(k, "--width") == 0) width = atoi(v);
        else if (strcmp(k, "--z-dim") == 0) m->z_dim = atoi(v);
        else if (strcmp(k, "--classes") == 0) m->classes = atoi(v);
        else if (strcmp(k, "--batch") == 0) g->batch = atoi(v);
        else if (strcmp(k, "--n-critic") == 0) g->n_critic = atoi(v);
        else if (strcmp(k, "--gp-phase-steps") == 0) g->gp_phase_steps = atoi(v);
        else if (strcmp(k, "--r1") == 0) g->r1_gamma = strtof(v, NULL);
        else if (strcmp(k, "--r1-every") == 0) g->r1_every = atoi(v);
        else if (strcmp(k, "--augment") == 0) snprintf(g->augment, sizeof g->augment, "%s", v);
        else if (strcmp(k, "--seed") == 0) g->seed = strtoull(v, NULL, 10);
        else if (strcmp(k, "--lr") == 0) g->opt_g.lr = g->opt_d.lr = strtof(v, NULL);
        else if (strcmp(k, "--clip-grad") == 0) g->clip_grad = strtof(v, NULL);
        else if (strcmp(k, "--weight-decay") == 0) g->opt_g.weight_decay = g->opt_d.weight_decay = strtof(v, NULL);
        else if (strcmp(k, "--d-norm") == 0) {
            if (!parse_norm(v, &m->d_norm)) {
                fprintf(stderr, "golden_init: --d-norm %s: expected batch, layer, none or spectral\n", v);
                return 2;
            }
        } else if (strcmp(k, "--widths") == 0) {
            m->n_widths = parse_list(v, m->widths);
            widths_given = true;
        } else if (strcmp(k, "--d-widths") == 0) {
            m->n_d_widths = parse_list(v, m->d_widths);
        } else if (strcmp(k, "--pack") == 0) m->pack = atoi(v);
        else if (strcmp(k, "--maxout") == 0) m->maxout = atoi(v);
        else if (strcmp(k, "--g-batchnorm") == 0) m->g_batchnorm = atoi(v);
        else if (strcmp(k, "--normal-init") == 0) m->normal_init = atoi(v);
        else {
            fprintf(stderr, "golden_init: unknown option %s\n", k);
            return 2;
        }
    }
    if (width > 0) {
        if (widths_given) m->width = width;
        else clgan_run_set_width(&rc, width);
    }
    clgan_device_list l;
    if (clgan_devices_enumerate(&l) != CLGAN_OK) return fail("devices");
    int ref = -1;
    if (clgan_device_choose(&l, "ref", &ref) != CLGAN_OK) return fail("ref");
    clgan_device *dev = NULL;
    if (clgan_device_open(&l.items[ref], NULL, &dev) != CLGAN_OK) return fail("open ref");
    clgan_gan *gan = NULL;
    int rc_exit = 0;
    if (clgan_gan_new(g, dev, &gan) != CLGAN_OK) rc_exit = fail("configuration");
    clgan_run_position pos = {0};
    if (!rc_exit && clgan_checkpoint_save(out, gan, &rc, &pos) != CLGAN_OK) rc_exit = fail(out);
    clgan_gan_free(gan);
    clgan_device_close(dev);
    clgan_device_list_free(&l);
    return rc_exit;
}
