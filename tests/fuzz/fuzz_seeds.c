/* Seed writer for the fuzz corpora that need the library itself:
 *   fuzz_seeds config DIR       run configurations (JSON) of tiny models
 *   fuzz_seeds checkpoint DIR   real checkpoints of the same models, written
 *                               by clgan_checkpoint_save on the ref device
 * The models are small enough that a mutated checkpoint loads in
 * milliseconds: toy width 4, MLP widths 8,8 on 8x8 images, DCGAN 16x16
 * width 2, and conditional variants, across losses and schedules. */
#include "clgan/runtime.h"
#include "clgan/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_SEEDS = 5 };

static void seed_config(int i, clgan_run_config *rc, const char **name) {
    static const char *const names[N_SEEDS] = {"toy-w4-ns", "mlp-8-8-img8-wgan", "dcgan-16-w2-wgangp",
                                               "dcgan-16-w2-c10-hinge-step", "mlp-8-8-img8-c3-minimax-linear"};
    static const clgan_model_kind kinds[N_SEEDS] = {CLGAN_MODEL_TOY, CLGAN_MODEL_MLP, CLGAN_MODEL_DCGAN,
                                                    CLGAN_MODEL_DCGAN, CLGAN_MODEL_MLP};
    static const clgan_loss_kind losses[N_SEEDS] = {CLGAN_LOSS_NS, CLGAN_LOSS_WGAN, CLGAN_LOSS_WGAN_GP,
                                                    CLGAN_LOSS_HINGE, CLGAN_LOSS_MINIMAX};
    *name = names[i];
    clgan_run_defaults(rc, kinds[i], losses[i]);
    clgan_model_config *m = &rc->gan.model;
    rc->gan.batch = 4;
    rc->steps = 2;
    if (m->kind == CLGAN_MODEL_TOY) {
        m->width = 4;
    } else {
        m->z_dim = 4;
        m->n_widths = 0;
        if (m->kind == CLGAN_MODEL_MLP) {
            m->widths[0] = m->widths[1] = 8;
            m->n_widths = 2;
            m->image_size = 8;
        } else {
            m->width = 2;
            m->image_size = 16;
            m->channels = 3;
        }
    }
    if (i == 3) {
        m->classes = 10;
        m->channels = 1;
        rc->gan.lr_schedule = (clgan_lr_schedule){CLGAN_LR_STEP, 1, 0, 0.5f};
    }
    if (i == 4) {
        m->classes = 3;
        rc->gan.lr_schedule = (clgan_lr_schedule){CLGAN_LR_LINEAR, 0, 2, 0.1f};
        rc->on_nan = CLGAN_ON_NAN_ROLLBACK;
        rc->gan.clip_grad = 1.0f;
    }
}

static clgan_device *open_ref(void) {
    clgan_device_list l;
    int idx = -1;
    clgan_device *d = NULL;
    if (clgan_devices_enumerate(&l) != CLGAN_OK || clgan_device_choose(&l, "ref", &idx) != CLGAN_OK ||
        clgan_device_open(&l.items[idx], NULL, &d) != CLGAN_OK) {
        fprintf(stderr, "fuzz_seeds: %s\n", clgan_last_error());
        exit(1);
    }
    clgan_device_list_free(&l);
    return d;
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "config") != 0 && strcmp(argv[1], "checkpoint") != 0)) {
        fprintf(stderr, "usage: fuzz_seeds config|checkpoint DIR\n");
        return 2;
    }
    bool ckpt = strcmp(argv[1], "checkpoint") == 0;
    clgan_log_set_level(CLGAN_LOG_QUIET);
    clgan_device *d = ckpt ? open_ref() : NULL;
    int status = 0;
    for (int i = 0; i < N_SEEDS && status == 0; i++) {
        clgan_run_config rc;
        const char *name;
        seed_config(i, &rc, &name);
        char path[4096];
        clgan_status st;
        if (ckpt) {
            snprintf(path, sizeof path, "%s/%s.safetensors", argv[2], name);
            clgan_gan *gan = NULL;
            clgan_run_position pos = {.epoch = 1, .pos = 3};
            st = clgan_gan_new(&rc.gan, d, &gan);
            if (st == CLGAN_OK) {
                clgan_gan_set_counts(gan, 2, 2 * (uint64_t)rc.gan.n_critic);
                st = clgan_checkpoint_save(path, gan, &rc, &pos);
            }
            clgan_gan_free(gan);
        } else {
            snprintf(path, sizeof path, "%s/%s.json", argv[2], name);
            clgan_jbuf b;
            clgan_jbuf_init(&b);
            clgan_run_config_to_json(&rc, &b);
            st = clgan_jbuf_write_file(&b, path);
            clgan_jbuf_free(&b);
        }
        if (st != CLGAN_OK) {
            fprintf(stderr, "fuzz_seeds: %s: %s\n", name, clgan_last_error());
            status = 1;
        }
    }
    clgan_device_close(d);
    return status;
}
