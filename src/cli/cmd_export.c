/* clgan export: the generator for other tools (docs/export.md). */
#include "cli/cli.h"

#include "clgan/train.h"

#include <string.h>

int cmd_export(int argc, char **argv) {
    cli_opt opts[] = {{"checkpoint", "FILE", NULL, NULL, "a checkpoint (or a run folder: its latest)", NULL, false},
                      {"format", "F", NULL, "pytorch", "pytorch: safetensors with the state_dict names of the module "
                       "in docs/export.md; onnx: an ONNX model (opset 13), z (and labels) in, images out", NULL, false},
                      {"out", "FILE", NULL, NULL, "the file to write (replaced atomically)", NULL, false},
                      CLI_EMA_OPT,
                      {"verbose", NULL, NULL, NULL, "more detail on stderr", NULL, false},
                      {"quiet", NULL, NULL, NULL, "only errors on stderr", NULL, false}};
    cli_command c = {"export", "Write a checkpoint's generator for other tools (the EMA weights when the run has them).",
                     "--checkpoint FILE --out FILE [--format pytorch|onnx] [--no-ema]", opts,
                     (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    const char *format = cli_get(&c, "format"), *out = cli_get(&c, "out");
    bool onnx = format && strcmp(format, "onnx") == 0;
    if (!format || (strcmp(format, "pytorch") != 0 && !onnx)) {
        fprintf(stderr, "clgan export: --format %s: expected pytorch or onnx\n", format ? format : "");
        return CLI_USAGE;
    }
    if (!out || !*out) {
        fprintf(stderr, "clgan export: --out FILE is required (the file to write)\n");
        return CLI_USAGE;
    }
    char path[1400];
    clgan_run_config run;
    if ((rc = cli_checkpoint_config(&c, NULL, path, sizeof path, &run)) != CLI_OK) return rc;
    /* the weights only: the reference device reads them without building kernels */
    clgan_device_list l;
    clgan_status st = clgan_devices_enumerate(&l);
    if (st != CLGAN_OK) return cli_fail(st);
    int idx = -1;
    clgan_device *d = NULL;
    st = clgan_device_choose(&l, "ref", &idx);
    if (st == CLGAN_OK) st = clgan_device_open(&l.items[idx], NULL, &d);
    clgan_device_list_free(&l);
    clgan_gan *gan = NULL;
    if (st == CLGAN_OK) st = cli_open_gan(&c, path, &run, d, &gan);
    if (st == CLGAN_OK) st = onnx ? clgan_gan_export_onnx(gan, out) : clgan_gan_export_pytorch(gan, out);
    if (st == CLGAN_OK)
        printf("wrote %s (the %s at step %llu, %s)\n", out,
               clgan_gan_sampling_ema(gan) ? "generator EMA" : "generator",
               (unsigned long long)clgan_gan_step_count(gan), format);
    clgan_gan_free(gan);
    clgan_device_close(d);
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}
