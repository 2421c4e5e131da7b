/* Setting kernel arguments and enqueuing, with every call checked. */
#include "ops/ops.h"

#include "runtime/device_impl.h"

#include <stdlib.h>
#include <string.h>

size_t clgan_cl_max_wg(const clgan_device *d) { return d->info.max_work_group ? d->info.max_work_group : 1; }

bool clgan_cl_cpu_forms(const clgan_device *d) {
    const char *e = getenv("CLGAN_KERNEL_FORMS");
    if (e && strcmp(e, "gpu") == 0) return false;
    if (e && strcmp(e, "cpu") == 0) return true;
    return strcmp(d->info.type, "CPU") == 0;
}

enum { CPU_RUN = 64, MAX_RUN_ARGS = 32 };

clgan_status clgan_cl_launch_runs(clgan_device *d, const char *name, size_t n, int nargs, const clgan_cl_arg *args) {
    clgan_cl_arg all[MAX_RUN_ARGS + 1];
    if (nargs > MAX_RUN_ARGS) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "kernel %s: %d arguments, more than %d", name, nargs,
                                               MAX_RUN_ARGS);
    bool cpu = clgan_cl_cpu_forms(d);
    int run = cpu ? CPU_RUN : 1;
    for (int i = 0; i < nargs; i++) all[i] = args[i];
    all[nargs] = CLARG(run);
    size_t items = (n + (size_t)run - 1) / (size_t)run;
    size_t local = cpu ? clgan_cl_cpu_group(d, items) : 256;
    if (local > clgan_cl_max_wg(d)) local = clgan_cl_max_wg(d);
    return clgan_cl_launch(d, name, items, local, nargs + 1, all);
}

size_t clgan_cl_cpu_group(const clgan_device *d, size_t items) {
    size_t groups = 4 * (size_t)(d->info.compute_units ? d->info.compute_units : 1), l = 1;
    while (l < 16 && items / (2 * l) >= groups && 2 * l <= clgan_cl_max_wg(d)) l *= 2;
    return l;
}

static clgan_status set_args(clgan_device *d, const char *name, cl_kernel *k, int nargs, const clgan_cl_arg *args) {
    clgan_status st = CLGAN_OK;
    *k = clgan_cl_find_kernel(d, name);
    if (!*k) return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "kernel %s is not in the programs built for %s", name, d->info.id);
    for (int i = 0; i < nargs; i++) CL_CHECK(clSetKernelArg(*k, (cl_uint)i, args[i].size, args[i].value));
fail:
    return st;
}

static size_t round_up(size_t x, size_t m) { return m ? (x + m - 1) / m * m : x; }

clgan_status clgan_cl_launch(clgan_device *d, const char *name, size_t global, size_t local, int nargs,
                             const clgan_cl_arg *args) {
    return clgan_cl_launchn(d, name, 1, &global, local ? &local : NULL, nargs, args);
}

clgan_status clgan_cl_launchn(clgan_device *d, const char *name, int dims, const size_t *global, const size_t *local,
                              int nargs, const clgan_cl_arg *args) {
    cl_kernel k;
    clgan_status st = set_args(d, name, &k, nargs, args);
    if (st != CLGAN_OK) return st;
    size_t g[3], l[3], total = 1;
    for (int i = 0; i < dims; i++) {
        g[i] = global[i];
        if (g[i] == 0) return CLGAN_OK;
        if (local) {
            l[i] = local[i] ? local[i] : 1;
            total *= l[i];
        }
    }
    for (int i = 0; local && total > clgan_cl_max_wg(d); i = (i + 1) % dims)
        if (l[i] > 1) {
            total /= l[i];
            l[i] /= 2;
            total *= l[i];
        }
    if (local)
        for (int i = 0; i < dims; i++) g[i] = round_up(g[i], l[i]);
    double t0 = clgan_device_launch_begin(d);
    CL_CHECK(clEnqueueNDRangeKernel(d->cl.queue, k, (cl_uint)dims, NULL, g, local ? l : NULL, 0, NULL, NULL));
    st = clgan_device_launch_end(d, name, t0);
fail:
    if (st != CLGAN_OK) clgan_error_context(st, "kernel %s: ", name);
    return st;
}
