/* clgan kernels: build (or load from the cache) every kernel program for a
 * device and report; --save-binary writes an offline program binary. */
#include "cli/cli.h"

int cmd_kernels(int argc, char **argv) {
    cli_opt opts[] = {CLI_DEVICE_OPTS,
                      {"save-binary", "FILE", NULL, NULL,
                       "also build all kernels into one program and write its binary to FILE "
                       "(load it later with --kernel-binary)",
                       NULL, false}};
    cli_command c = {"kernels",
                     "Compile every kernel for the chosen device (or load it from the binary cache) and report "
                     "what was built and what came from the cache. A kernel that fails to build shows the "
                     "device's build log.",
                     "[--device D] [--kernel-dir DIR] [--save-binary FILE]", opts, (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) return rc;
    clgan_kernel_stats ks;
    clgan_device_kernel_stats(d, &ks);
    const clgan_device_info *info = clgan_device_get_info(d);
    printf("kernels ready on %s (%s): %d programs, %d built, %d from cache, %d cache entries rebuilt, "
           "%d kernels, %.1f ms; cache %s\n",
           info->id, info->name, ks.programs, ks.built, ks.cache_hits, ks.cache_rejected, ks.kernels, ks.ready_ms,
           ks.cache_dir[0] ? ks.cache_dir : "off");
    const char *out = cli_get(&c, "save-binary");
    if (out) {
        clgan_status st = clgan_device_save_binary(d, out);
        if (st != CLGAN_OK) {
            clgan_device_close(d);
            return cli_fail(st);
        }
        printf("wrote program binary %s\n", out);
    }
    clgan_device_close(d);
    return CLI_OK;
}
