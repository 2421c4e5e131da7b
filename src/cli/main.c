/* clgan: GAN training on any OpenCL device. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"devices", cmd_devices, "list OpenCL platforms and devices, and ref"},
    {"tune", cmd_tune, "tune CLBlast's GEMM for a device and measure it against host BLAS (native kernels)"},
    {"kernels", cmd_kernels, "build the kernels for a device (fills the cache), or save a program binary"},
    {"train", cmd_train, "train a GAN (no arguments: DCGAN on Fashion-MNIST, at most 10 minutes)"},
    {"sample", cmd_sample, "generate images from a checkpoint"},
    {"check", cmd_check, "compare one training step on a device against the ref device, layer by layer"},
    {"train-classifier", cmd_train_classifier, "train the classifier behind eval's image metrics (FID, inception score)"},
    {"interpolate", cmd_interpolate, "a grid of spherical interpolations between latent points"},
    {"inpaint", cmd_inpaint, "fill unknown pixels of images with a trained generator (and Poisson blending)"},
    {"eval", cmd_eval, "measure a checkpoint: mode coverage (2-D data), or FID, inception score, class histogram"},
    {"export", cmd_export, "write a checkpoint's generator for PyTorch (safetensors with state_dict names)"},
};

static void usage(FILE *f) {
    fprintf(f, "clgan %s: GAN training on any OpenCL device, with a plain-C reference path\n\n"
               "usage: clgan COMMAND [options]   (clgan COMMAND --help for its options)\n\ncommands:\n",
            clgan_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-16s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-16s %s\n", "version", "print the version");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("clgan %s\n", clgan_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "clgan: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return CLI_USAGE;
}
