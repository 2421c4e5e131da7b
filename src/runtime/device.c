/* The device registry: enumeration (OpenCL devices then `ref`), the --device
 * choice, opening a device through its backend vtable, and buffers. */
#include "runtime/device_impl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

static void ref_info(clgan_device_info *d) {
    memset(d, 0, sizeof *d);
    d->backend = CLGAN_BACKEND_REF;
    snprintf(d->id, sizeof d->id, "ref");
    d->platform_index = d->device_index = -1;
    snprintf(d->type, sizeof d->type, "REF");
    snprintf(d->name, sizeof d->name, "clgan reference (plain C, host)");
    snprintf(d->vendor, sizeof d->vendor, "clgan");
    snprintf(d->platform_name, sizeof d->platform_name, "clgan reference");
    snprintf(d->driver_version, sizeof d->driver_version, "%s", clgan_version());
    d->compute_units = 1;
    d->max_work_group = 1;
    d->fp64 = true;
    d->max_alloc = (uint64_t)SIZE_MAX;
    /* the host's memory is ref's: configurations are checked against it before allocating */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    d->global_mem = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

static double mib_of(uint64_t bytes) { return (double)bytes / (1024.0 * 1024.0); }

clgan_status clgan_device_memory_check(const clgan_device *d, uint64_t total, uint64_t largest, const char *what) {
    const clgan_device_info *info = clgan_device_get_info(d);
    if (info->global_mem && total > info->global_mem)
        return CLGAN_ERR(CLGAN_ERR_DEVICE_OOM,
                         "this configuration needs about %.1f MiB on %s (%s), which has %.1f MiB: lower the batch size "
                         "or the model's sizes",
                         mib_of(total), info->id, what, mib_of(info->global_mem));
    if (info->max_alloc && largest > info->max_alloc)
        return CLGAN_ERR(CLGAN_ERR_DEVICE_OOM,
                         "this configuration needs one buffer of %.1f MiB on %s, whose largest buffer is %.1f MiB: "
                         "lower the batch size or the model's sizes",
                         mib_of(largest), info->id, mib_of(info->max_alloc));
    return CLGAN_OK;
}

clgan_status clgan_devices_enumerate(clgan_device_list *out) {
    memset(out, 0, sizeof *out);
    clgan_status st = clgan_opencl_enumerate(out);
    if (st != CLGAN_OK) return st;
    clgan_device_info *grown = realloc(out->items, (size_t)(out->count + 1) * sizeof *grown);
    if (!grown) {
        clgan_device_list_free(out);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory listing devices");
    }
    out->items = grown;
    ref_info(&out->items[out->count++]);
    return CLGAN_OK;
}

void clgan_device_list_free(clgan_device_list *l) {
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static bool contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0) return false;
    for (const char *h = hay; *h; h++) {
        size_t i = 0;
        while (i < n && h[i] && tolower((unsigned char)h[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return false;
}

static bool equals_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

/* the (nth mod how many there are) device of a type, or -1 */
static int nth_of_type(const clgan_device_list *l, const char *type, int nth) {
    int count = 0;
    for (int i = 0; i < l->count; i++) count += strcmp(l->items[i].type, type) == 0;
    if (count == 0) return -1;
    nth %= count;
    for (int i = 0; i < l->count; i++)
        if (strcmp(l->items[i].type, type) == 0 && nth-- == 0) return i;
    return -1;
}


/* Appends the device list to the current error message so a failed choice
 * shows what exists. */
static clgan_status with_device_list(clgan_status st, const clgan_device_list *l) {
    char *list = clgan_device_list_format(l, false);
    char msg[4096];
    snprintf(msg, sizeof msg, "%s\navailable devices:\n%s", clgan_last_error(), list ? list : "");
    free(list);
    if (l->opencl_note[0]) {
        size_t len = strlen(msg);
        snprintf(msg + len, sizeof msg - len, "(%s)\n", l->opencl_note);
    }
    return clgan_set_error(st, __FILE__, __LINE__, "%s", msg);
}

clgan_status clgan_device_choose(const clgan_device_list *l, const char *spec, int *index) {
    return clgan_device_choose_nth(l, spec, -1, index);
}

clgan_status clgan_device_choose_nth(const clgan_device_list *l, const char *spec, int nth, int *index) {
    bool one_of_several = nth >= 0;
    if (nth < 0) nth = 0;
    const char *comma = spec ? strchr(spec, ',') : NULL;
    if (comma) { /* a list: item nth (mod its length), itself a spec */
        int items = 1;
        for (const char *q = spec; *q; q++) items += *q == ',';
        int want = nth % items;
        const char *start = spec;
        for (int k = 0; k < want; k++) start = strchr(start, ',') + 1;
        const char *end = strchr(start, ',');
        size_t len = end ? (size_t)(end - start) : strlen(start);
        char one[256];
        if (len == 0 || len >= sizeof one)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "--device list: item %d of \"%s\" is empty or too long", want + 1,
                             clgan_esc(spec));
        memcpy(one, start, len);
        one[len] = 0;
        return clgan_device_choose_nth(l, one, -1, index);
    }
    if (!spec || !*spec || equals_nocase(spec, "default")) {
        static const char *const order[] = {"GPU", "ACCELERATOR", "CPU", "CUSTOM", "REF"};
        for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
            int i = nth_of_type(l, order[k], nth);
            if (i >= 0) {
                *index = i;
                return CLGAN_OK;
            }
        }
        return with_device_list(CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "no device at all"), l);
    }
    static const char *const types[] = {"ref", "gpu", "cpu", "accelerator", "custom"};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        if (!equals_nocase(spec, types[k])) continue;
        char upper[16];
        size_t j = 0;
        for (; types[k][j] && j + 1 < sizeof upper; j++) upper[j] = (char)toupper((unsigned char)types[k][j]);
        upper[j] = 0;
        int i = nth_of_type(l, upper, nth);
        if (i < 0)
            return with_device_list(
                CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "--device %s: no %s device found", spec, upper), l);
        *index = i;
        return CLGAN_OK;
    }
    int p, dv, consumed = 0;
    if (isdigit((unsigned char)spec[0]) && sscanf(spec, "%d:%d%n", &p, &dv, &consumed) == 2 &&
        spec[consumed] == 0) {
        for (int i = 0; i < l->count; i++) {
            if (l->items[i].platform_index == p && l->items[i].device_index == dv) {
                *index = i;
                return CLGAN_OK;
            }
        }
        return with_device_list(
            CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "--device %s: no device %d on platform %d", spec, dv, p), l);
    }
    int found = -1, matches = 0;
    for (int i = 0; i < l->count; i++) {
        if (contains_nocase(l->items[i].name, spec)) {
            if (found < 0) found = i;
            matches++;
        }
    }
    if (matches > 1 && one_of_several) { /* one process of several: its own among the matches */
        for (int i = 0, k = nth % matches; i < l->count; i++)
            if (contains_nocase(l->items[i].name, spec) && k-- == 0) {
                *index = i;
                return CLGAN_OK;
            }
    }
    if (matches == 1) {
        *index = found;
        return CLGAN_OK;
    }
    if (matches > 1)
        return with_device_list(CLGAN_ERR(CLGAN_ERR_AMBIGUOUS,
                                          "--device %s matches %d devices; name one with P:D or a "
                                          "longer part of its name",
                                          spec, matches),
                                l);
    return with_device_list(CLGAN_ERR(CLGAN_ERR_NOT_FOUND,
                                      "--device %s: no device of that name (expected ref, P:D, gpu, "
                                      "cpu, accelerator, custom or part of a device name)",
                                      spec),
                            l);
}

static void mib(char *out, size_t cap, uint64_t bytes) {
    if (bytes >= (1ull << 30))
        snprintf(out, cap, "%.1f GiB", (double)bytes / (double)(1ull << 30));
    else if (bytes >= (1ull << 20))
        snprintf(out, cap, "%.1f MiB", (double)bytes / (double)(1ull << 20));
    else
        snprintf(out, cap, "%.0f KiB", (double)bytes / 1024.0);
}

char *clgan_device_list_format(const clgan_device_list *l, bool verbose) {
    size_t cap = 512 + (size_t)l->count * 2048, len = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = 0;
    for (int i = 0; i < l->count; i++) {
        const clgan_device_info *d = &l->items[i];
        if (!verbose) {
            len += (size_t)snprintf(s + len, cap - len, "  %-6s %-11s %s\n", d->id, d->type, d->name);
            continue;
        }
        if (d->backend == CLGAN_BACKEND_REF) {
            len += (size_t)snprintf(s + len, cap - len,
                                    "%-6s %-11s %s\n         always present; validates every "
                                    "OpenCL kernel and gradient\n",
                                    d->id, d->type, d->name);
            continue;
        }
        char g[32], lm[32], ma[32];
        mib(g, sizeof g, d->global_mem);
        mib(lm, sizeof lm, d->local_mem);
        mib(ma, sizeof ma, d->max_alloc);
        len += (size_t)snprintf(s + len, cap - len,
                                "%-6s %-11s %s\n"
                                "         vendor %s; platform %s\n"
                                "         driver %s; %s; %s\n"
                                "         global memory %s (max buffer %s), local memory %s, "
                                "%u compute units, max work-group %zu, fp64 %s\n",
                                d->id, d->type, d->name, d->vendor, d->platform_name, d->driver_version,
                                d->device_version, d->c_version, g, ma, lm, d->compute_units,
                                d->max_work_group, d->fp64 ? "yes" : "no");
    }
    return s;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

clgan_status clgan_device_open(const clgan_device_info *info, const clgan_device_options *opt,
                               clgan_device **out) {
    static const clgan_device_options defaults;
    if (!opt) opt = &defaults;
    double t0 = now_ms();
    clgan_device *d = calloc(1, sizeof *d);
    if (!d) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory opening device");
    d->info = *info;
    clgan_status st = CLGAN_OK;
    if (info->backend == CLGAN_BACKEND_REF) {
        d->ops = &clgan_ref_ops;
        st = clgan_gemm_choose(info, opt, &d->gemm);
    } else {
        d->ops = &clgan_opencl_ops;
        st = clgan_opencl_open(d, opt);
        if (st != CLGAN_OK) {
            clgan_error_context(st, "device %s (%s): ", info->id, info->name);
            clgan_device_close(d);
            return st;
        }
    }
    d->stats.ready_ms = now_ms() - t0;
    *out = d;
    return CLGAN_OK;
}

void clgan_device_close(clgan_device *d) {
    if (!d) return;
    if (d->ops && d->ops->close) d->ops->close(d);
    free(d->ktime.rows);
    free(d->kernel_dir);
    free(d);
}

const clgan_device_info *clgan_device_get_info(const clgan_device *d) { return &d->info; }
clgan_status clgan_device_finish(clgan_device *d) { return d->ops->finish ? d->ops->finish(d) : CLGAN_OK; }
void clgan_device_kernel_stats(const clgan_device *d, clgan_kernel_stats *out) { *out = d->stats; }
uint64_t clgan_device_bytes_allocated(const clgan_device *d) { return d->allocated; }
uint64_t clgan_device_launch_count(const clgan_device *d) { return d->launches; }
uint64_t clgan_device_sync_count(const clgan_device *d) { return d->syncs; }

void clgan_device_time_kernels(clgan_device *d, bool on) {
    if (on) d->ktime.n = 0;
    d->ktime.on = on && d->info.backend != CLGAN_BACKEND_REF;
}

const clgan_kernel_time *clgan_device_kernel_times(const clgan_device *d, int *n) {
    *n = d->ktime.n;
    return d->ktime.rows;
}

double clgan_device_launch_begin(clgan_device *d) {
    if (!d->ktime.on) return 0.0;
    (void)clgan_device_finish(d); /* what was queued before belongs to earlier rows */
    return now_ms();
}

clgan_status clgan_device_launch_end(clgan_device *d, const char *name, double t0) {
    d->launches++;
    if (!d->ktime.on) return CLGAN_OK;
    clgan_status st = clgan_device_finish(d);
    if (st != CLGAN_OK) return st;
    double ms = now_ms() - t0;
    d->syncs -= 2; /* the profile's own finishes are not the step's */
    int i = 0;
    while (i < d->ktime.n && strncmp(d->ktime.rows[i].name, name, sizeof d->ktime.rows[i].name - 1) != 0) i++;
    if (i == d->ktime.n) {
        if (d->ktime.n == d->ktime.cap) {
            int cap = d->ktime.cap ? 2 * d->ktime.cap : 64;
            clgan_kernel_time *r = realloc(d->ktime.rows, (size_t)cap * sizeof *r);
            if (!r) return CLGAN_OK; /* the profile loses a row, the run goes on */
            d->ktime.rows = r;
            d->ktime.cap = cap;
        }
        clgan_kernel_time *r = &d->ktime.rows[d->ktime.n++];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", name);
    }
    d->ktime.rows[i].ms += ms;
    d->ktime.rows[i].launches++;
    return CLGAN_OK;
}

clgan_status clgan_buffer_alloc(clgan_device *d, size_t bytes, clgan_buffer **out) {
    clgan_buffer *b = calloc(1, sizeof *b);
    if (!b) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for a buffer descriptor");
    b->dev = d;
    b->size = bytes;
    clgan_status st = d->ops->buffer_alloc(d, bytes, b);
    if (st != CLGAN_OK) {
        free(b);
        return st;
    }
    d->allocated += bytes;
    *out = b;
    return CLGAN_OK;
}

void clgan_buffer_free(clgan_buffer *b) {
    if (!b) return;
    b->dev->allocated -= b->size;
    b->dev->ops->buffer_free(b);
    free(b);
}

size_t clgan_buffer_size(const clgan_buffer *b) { return b->size; }
clgan_device *clgan_buffer_device(const clgan_buffer *b) { return b->dev; }

static clgan_status check_range(const clgan_buffer *b, size_t off, size_t n, const char *what) {
    if (off > b->size || n > b->size - off)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s of %zu bytes at offset %zu outside a %zu-byte buffer",
                         what, n, off, b->size);
    return CLGAN_OK;
}

clgan_status clgan_buffer_write(clgan_buffer *b, size_t off, const void *src, size_t n) {
    clgan_status st = check_range(b, off, n, "write");
    if (st != CLGAN_OK || n == 0) return st;
    return b->dev->ops->buffer_write(b, off, src, n);
}

clgan_status clgan_buffer_read(const clgan_buffer *b, size_t off, void *dst, size_t n) {
    clgan_status st = check_range(b, off, n, "read");
    if (st != CLGAN_OK || n == 0) return st;
    return b->dev->ops->buffer_read(b, off, dst, n);
}

clgan_status clgan_buffer_read_async(const clgan_buffer *b, size_t off, void *dst, size_t n) {
    clgan_status st = check_range(b, off, n, "read");
    if (st != CLGAN_OK || n == 0) return st;
    if (b->dev->info.backend != CLGAN_BACKEND_OPENCL) return b->dev->ops->buffer_read(b, off, dst, n);
    CL_CHECK(clEnqueueReadBuffer(b->dev->cl.queue, b->mem, CL_FALSE, off, n, dst, 0, NULL, NULL));
fail:
    return st;
}

clgan_status clgan_buffer_copy(clgan_buffer *dst, size_t doff, const clgan_buffer *src, size_t soff,
                               size_t n) {
    clgan_status st = check_range(dst, doff, n, "copy destination");
    if (st == CLGAN_OK) st = check_range(src, soff, n, "copy source");
    if (st != CLGAN_OK || n == 0) return st;
    if (dst->dev == src->dev) return dst->dev->ops->buffer_copy(dst, doff, src, soff, n);
    /* across devices: through the host */
    void *tmp = malloc(n);
    if (!tmp) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory staging a %zu-byte copy", n);
    st = clgan_buffer_read(src, soff, tmp, n);
    if (st == CLGAN_OK) st = clgan_buffer_write(dst, doff, tmp, n);
    free(tmp);
    return st;
}
