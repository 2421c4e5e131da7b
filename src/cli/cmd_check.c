/* clgan check: one training step of a small GAN on ref and on a device,
 * compared layer by layer. */
#include "cli/cli.h"

#include "clgan/train.h"
#include "clgan/check.h"

#include <string.h>

static void print_row(const clgan_check_row *r, void *user) {
    (void)user;
    printf("%-6s %-6s %-10s %-28s %9zu  %10.3g  %10.3g  %10.3g  %s\n", r->ok ? "ok" : "FAIL", r->phase, r->kind, r->name,
           r->n, r->max_abs, r->max_rel, r->nmse, r->ok ? "" : "<--");
}

int cmd_check(int argc, char **argv) {
    cli_opt opts[] = {
        {"model", "M", NULL, "dcgan", "mlp, dcgan or toy", NULL, false},
        {"loss", "L", NULL, "wgan-gp", "minimax, ns, wgan, wgan-gp (exercises the gradient of a gradient), hinge", NULL, false},
        {"image-size", "S", NULL, "16", "image side", NULL, false},
        {"channels", "C", NULL, "3", "image channels", NULL, false},
        {"width", "N", NULL, "8", "DCGAN width / toy hidden units", NULL, false},
        {"batch-size", "B", NULL, "4", "batch", NULL, false},
        {"conditional", NULL, NULL, NULL, "a class-conditional model", NULL, false},
        {"d-norm", "N", NULL, "the loss's default", "batch, layer, none or spectral", NULL, false},
        {"seed", "S", NULL, "1", "parameters and data", NULL, false},
        {"tol", "X", NULL, "1e-6", "largest NMSE allowed per tensor", NULL, false},
        CLI_DEVICE_OPTS};
    cli_command c = {"check",
                     "Run one D step and one G step of a small GAN on the ref device and on --device, from the same "
                     "parameters and data, and print for every layer output, gradient and updated parameter the "
                     "largest absolute and relative difference and the NMSE. Fails when any tensor differs by more "
                     "than --tol, which shows where a device goes wrong.",
                     "--device D [--model M] [--loss L] [--tol X]", opts, (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    clgan_model_kind model;
    clgan_loss_kind loss;
    if (clgan_model_parse(cli_get(&c, "model"), &model) != CLGAN_OK ||
        clgan_loss_parse(cli_get(&c, "loss"), &loss) != CLGAN_OK) {
        fprintf(stderr, "clgan check: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    clgan_run_config run;
    clgan_run_defaults(&run, model, loss);
    clgan_gan_config *g = &run.gan;
    long v;
    double tol;
    if (cli_get_long(&c, "image-size", 1, 1024, &v) != CLI_OK) return CLI_USAGE;
    g->model.image_size = (int)v;
    if (cli_get_long(&c, "channels", 1, 3, &v) != CLI_OK) return CLI_USAGE;
    g->model.channels = (int)v;
    if (cli_get_long(&c, "width", 1, 4096, &v) != CLI_OK) return CLI_USAGE;
    g->model.width = (int)v;
    if (model == CLGAN_MODEL_MLP) {
        int w[] = {32, 64};
        memcpy(g->model.widths, w, sizeof w);
        g->model.n_widths = 2;
    }
    if (model != CLGAN_MODEL_TOY) g->model.z_dim = 16;
    if (cli_get_long(&c, "batch-size", 1, 4096, &v) != CLI_OK) return CLI_USAGE;
    g->batch = (int)v;
    if (cli_get_long(&c, "seed", 0, 1L << 62, &v) != CLI_OK) return CLI_USAGE;
    g->seed = (uint64_t)v;
    if (cli_get_double(&c, "tol", &tol) != CLI_OK) return CLI_USAGE;
    if (cli_flag(&c, "conditional")) g->model.classes = 10;
    if (cli_given(&c, "d-norm")) {
        if (clgan_norm_parse(cli_get(&c, "d-norm"), &g->model.d_norm) != CLGAN_OK) {
            fprintf(stderr, "clgan check: --d-norm: %s\n", clgan_last_error());
            return CLI_USAGE;
        }
    }
    if (clgan_model_check(&g->model) != CLGAN_OK) {
        fprintf(stderr, "clgan check: %s\n", clgan_last_error());
        return CLI_USAGE;
    }
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) return rc;
    clgan_device_list l;
    clgan_device *ref = NULL;
    clgan_status st = clgan_devices_enumerate(&l);
    if (st == CLGAN_OK) st = clgan_device_open(&l.items[l.count - 1], NULL, &ref);
    if (st == CLGAN_OK) clgan_device_list_free(&l);
    if (st != CLGAN_OK) {
        clgan_device_close(d);
        return cli_fail(st);
    }
    printf("one training step of %s (%s loss, %s discriminator norm) on ref and on %s (%s)\n",
           clgan_model_name(model), clgan_loss_name(loss),
           clgan_norm_name(g->model.d_norm),
           clgan_device_get_info(d)->id, clgan_device_get_info(d)->name);
    printf("%-6s %-6s %-10s %-28s %9s  %10s  %10s  %10s\n", "", "phase", "kind", "name", "elements", "max |a-b|",
           "max rel", "NMSE");
    int failures = 0;
    st = clgan_check_devices(ref, d, g, tol, print_row, NULL, &failures);
    clgan_device_close(ref);
    clgan_device_close(d);
    if (st != CLGAN_OK) return cli_fail(st);
    printf("%s: %d tensor(s) differ by more than NMSE %g\n", failures ? "FAIL" : "ok", failures, tol);
    return failures ? CLI_FAIL : CLI_OK;
}
