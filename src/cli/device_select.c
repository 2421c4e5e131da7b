/* --device handling shared by every command. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

static const char *why_default(const clgan_device_list *l, const clgan_device_info *d) {
    if (strcmp(d->type, "GPU") == 0) return "the first GPU";
    if (strcmp(d->type, "ACCELERATOR") == 0) return "no GPU; the first accelerator";
    if (strcmp(d->type, "CPU") == 0) return "no GPU or accelerator; the first CPU device";
    if (strcmp(d->type, "CUSTOM") == 0) return "no GPU, accelerator or CPU; the first custom device";
    return l->count == 1 ? "no OpenCL device found" : "no OpenCL device to prefer";
}

int cli_device_options(const cli_command *c, clgan_device_options *opt) {
    *opt = (clgan_device_options){
        .kernel_dir = cli_get(c, "kernel-dir"),
        .kernel_binary = cli_get(c, "kernel-binary"),
        .no_cache = cli_flag(c, "no-kernel-cache"),
        .cache_dir = cli_get(c, "cache-dir"),
    };
    const char *g = cli_get(c, "gemm");
    if (g && clgan_gemm_path_parse(g, &opt->gemm) != CLGAN_OK) {
        fprintf(stderr, "clgan %s: --gemm: %s\n", c->name, clgan_last_error());
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_open_device(const cli_command *c, clgan_device **out) { return cli_open_device_nth(c, -1, out); }

int cli_open_device_nth(const cli_command *c, int nth, clgan_device **out) {
    *out = NULL;
    clgan_device_options opt;
    int rc = cli_device_options(c, &opt);
    if (rc != CLI_OK) return rc;
    clgan_device_list l;
    clgan_status st = clgan_devices_enumerate(&l);
    if (st != CLGAN_OK) return cli_fail(st);
    const char *spec = cli_get(c, "device");
    if (spec && strcmp(spec, "list") == 0) {
        char *s = clgan_device_list_format(&l, true);
        fputs(s ? s : "", stdout);
        free(s);
        if (l.opencl_note[0]) printf("note: %s\n", l.opencl_note);
        clgan_device_list_free(&l);
        return CLI_OK;
    }
    int idx = -1;
    st = clgan_device_choose_nth(&l, spec, nth, &idx);
    if (st != CLGAN_OK) {
        clgan_device_list_free(&l);
        return cli_fail(st);
    }
    const clgan_device_info *info = &l.items[idx];
    if (nth >= 0)
        clgan_log(CLGAN_LOG_INFO, "%susing device %s (%s %s)%s", cli_rank_label, info->id, info->type, info->name,
                  spec && *spec ? "" : " by default");
    else if (!spec || !*spec)
        clgan_log(CLGAN_LOG_INFO, "using device %s (%s %s) by default: %s; choose with --device", info->id,
                  info->type, info->name, why_default(&l, info));
    else
        clgan_log(CLGAN_LOG_INFO, "using device %s (%s %s)", info->id, info->type, info->name);
    if (info->backend == CLGAN_BACKEND_REF && l.opencl_note[0] && (!spec || !*spec))
        clgan_log(CLGAN_LOG_INFO, "%s", l.opencl_note);
    st = clgan_device_open(info, &opt, out);
    clgan_device_list_free(&l);
    if (st != CLGAN_OK) return cli_fail(st);
    clgan_kernel_stats ks;
    clgan_device_kernel_stats(*out, &ks);
    if (clgan_device_get_info(*out)->backend == CLGAN_BACKEND_OPENCL)
        clgan_log(CLGAN_LOG_DEBUG, "kernels ready in %.1f ms: %d programs (%d built, %d from cache, %d cache entries rebuilt), %d kernels; cache %s",
                  ks.ready_ms, ks.programs, ks.built, ks.cache_hits, ks.cache_rejected, ks.kernels,
                  ks.cache_dir[0] ? ks.cache_dir : "off");
    return CLI_OK;
}
