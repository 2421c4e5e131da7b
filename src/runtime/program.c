/* Kernel programs: sources (embedded, or --kernel-dir), the on-disk binary
 * cache, offline-compiled binaries, and the kernel table.
 *
 * Each cl/<family>.cl is its own program, built with common.cl in front of it
 * and #line markers so a build log names the file the error is in.
 *
 * Cache entries live in <cache_dir>/<key>.bin, where key = SHA-256 over
 * everything that can change the binary: the format version, clgan's version,
 * platform name and version, device name and version, driver version, build
 * options, the file name and the full composed source. An entry is
 *   "CLGANKC\0" | u32 format | u32 0 | key[32] | u64 n | sha256(payload)[32] | payload[n]
 * and is used only when every field checks out and the driver accepts the
 * binary; otherwise it is rebuilt and rewritten (temp file + rename, so two
 * processes starting together never see a half-written entry). */
#include "runtime/device_impl.h"
#include "core/sha256.h"
#include "runtime/kcache.h"
#include "clgan/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC CLGAN_KCACHE_MAGIC
#define CACHE_FORMAT CLGAN_KCACHE_FORMAT
#define CACHE_HEADER CLGAN_KCACHE_HEADER
static const char BUILD_OPTIONS[] = "-cl-std=CL1.2";

typedef struct {
    char name[128];
    char *text; /* malloc'd composed source: common.cl then the family */
} program_source;

static clgan_status read_text_file(const char *path, char **out) {
    uint8_t *buf = NULL;
    size_t len = 0;
    clgan_status st = clgan_read_file(path, (size_t)16 << 20, &buf, &len);
    if (st != CLGAN_OK) return clgan_error_context(st, "kernel source: ");
    *out = (char *)buf;
    return CLGAN_OK;
}

/* The text of source i, from the embedded table or kernel_dir. */
static clgan_status source_text(const clgan_device_options *opt, int i, char **out) {
    if (!opt->kernel_dir) {
        *out = strdup(clgan_embedded_cl[i].text);
        return *out ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", opt->kernel_dir, clgan_embedded_cl[i].name);
    return read_text_file(path, out);
}

static clgan_status append(char **dst, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap + n + 1) * 2;
        char *g = realloc(*dst, nc);
        if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory composing kernel source");
        *dst = g;
        *cap = nc;
    }
    memcpy(*dst + *len, s, n + 1);
    *len += n;
    return CLGAN_OK;
}

/* The op codes (clgan_embedded_op_codes: OPC_<NAME> defines generated from
 * the op table at build time, so kernels that switch on an op use the host's
 * numbers), then common.cl, then families [first, last), each after a #line
 * marker. */
static clgan_status compose(const clgan_device_options *opt, int first, int last, char **out) {
    char *buf = NULL, *part = NULL;
    size_t len = 0, cap = 0;
    clgan_status st = append(&buf, &len, &cap, clgan_embedded_op_codes);
    for (int i = -1; i < last - first && st == CLGAN_OK; i++) {
        int idx = i < 0 ? 0 : first + i;
        char marker[256];
        snprintf(marker, sizeof marker, "\n#line 1 \"%s\"\n", clgan_embedded_cl[idx].name);
        st = source_text(opt, idx, &part);
        if (st == CLGAN_OK) st = append(&buf, &len, &cap, marker);
        if (st == CLGAN_OK) st = append(&buf, &len, &cap, part);
        free(part);
        part = NULL;
    }
    if (st != CLGAN_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return CLGAN_OK;
}

static void cache_key(const clgan_device *d, const char *name, const char *text, uint8_t key[32]) {
    clgan_sha256 h;
    clgan_sha256_init(&h);
    const char *parts[] = {"clgan-kernel-cache-v1", clgan_version(), d->info.platform_name,
                           d->info.platform_version, d->info.name, d->info.device_version,
                           d->info.driver_version, BUILD_OPTIONS, name, text};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        clgan_sha256_update(&h, parts[i], strlen(parts[i]) + 1); /* the NUL separates fields */
    clgan_sha256_final(&h, key);
}

void clgan_resolve_cache_dir(const clgan_device_options *opt, char *out, size_t cap) {
    const char *env;
    if (opt->cache_dir)
        snprintf(out, cap, "%s", opt->cache_dir);
    else if ((env = getenv("CLGAN_CACHE_DIR")) && *env)
        snprintf(out, cap, "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        snprintf(out, cap, "%s/clgan", env);
    else if ((env = getenv("HOME")) && *env)
        snprintf(out, cap, "%s/.cache/clgan", env);
    else
        out[0] = 0;
}


static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
/* Writes `parts` to `path` atomically (clgan_atomic_write: temporary file,
 * fsync, rename), so a reader sees the old file or the whole new one. */
typedef struct {
    const void *const *parts;
    const size_t *sizes;
    int n;
} parts_ctx;

static clgan_status fill_parts(FILE *f, void *vctx) {
    const parts_ctx *c = vctx;
    for (int i = 0; i < c->n; i++)
        if (fwrite(c->parts[i], 1, c->sizes[i], f) != c->sizes[i])
            return CLGAN_ERR(CLGAN_ERR_IO, "write failed: %s", strerror(errno));
    return CLGAN_OK;
}

static clgan_status write_atomic(const char *path, const void *const *parts, const size_t *sizes, int nparts) {
    parts_ctx c = {parts, sizes, nparts};
    return clgan_atomic_write(path, fill_parts, &c);
}

/* Reads and verifies a cache entry; returns the payload or NULL (and why). */
static uint8_t *cache_read(const char *path, const uint8_t key[32], size_t *n, char *why, size_t why_cap) {
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        snprintf(why, why_cap, "absent");
        return NULL;
    }
    uint8_t *buf = NULL;
    size_t len = 0, off = 0;
    /* never blocks on a FIFO, refuses what is not a regular file, bounds the size */
    if (clgan_read_file(path, CLGAN_KCACHE_MAX_BYTES, &buf, &len) != CLGAN_OK) {
        snprintf(why, why_cap, "unreadable (%s)", clgan_last_error());
        clgan_clear_error();
        return NULL;
    }
    if (!clgan_kcache_parse(buf, len, key, &off, n, why, why_cap)) {
        free(buf);
        return NULL;
    }
    memmove(buf, buf + off, *n);
    return buf;
}

static clgan_status cache_write(const char *path, const uint8_t key[32], const uint8_t *bin, size_t n) {
    uint8_t hdr[CACHE_HEADER] = {0};
    memcpy(hdr, CACHE_MAGIC, 8);
    put_u32(hdr + 8, CACHE_FORMAT);
    memcpy(hdr + 16, key, 32);
    put_u64(hdr + 48, n);
    clgan_sha256 h;
    clgan_sha256_init(&h);
    clgan_sha256_update(&h, bin, n);
    clgan_sha256_final(&h, hdr + 56);
    const void *parts[] = {hdr, bin};
    size_t sizes[] = {sizeof hdr, n};
    return write_atomic(path, parts, sizes, 2);
}

/* The program's binary for our one device. */
static clgan_status program_binary(cl_program prog, uint8_t **out, size_t *n) {
    clgan_status st = CLGAN_OK;
    size_t size = 0;
    CL_CHECK(clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL));
    if (size == 0) return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "the driver returned an empty program binary");
    uint8_t *bin = malloc(size);
    if (!bin) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for a %zu-byte program binary", size);
    unsigned char *ptrs[1] = {bin};
    cl_int err = clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof ptrs, ptrs, NULL);
    if (err != CL_SUCCESS) {
        free(bin);
        CL_CHECK(err);
    }
    *out = bin;
    *n = size;
fail:
    return st;
}

static clgan_status build_log_error(clgan_device *d, cl_program prog, const char *file, cl_int err) {
    size_t len = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, d->cl.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) == CL_SUCCESS && len > 0) {
        log = malloc(len + 1);
        if (log && clGetProgramBuildInfo(prog, d->cl.device, CL_PROGRAM_BUILD_LOG, len, log, NULL) != CL_SUCCESS) {
            free(log);
            log = NULL;
        }
        if (log) log[len] = 0;
    }
    clgan_status st = CLGAN_ERR(CLGAN_ERR_BUILD,
                                "kernel program %s failed to build for %s (clBuildProgram: %s); build log:\n%s",
                                file, d->info.name, clgan_cl_error_name(err),
                                log && *log ? log : "(the driver gave no build log)");
    free(log);
    return st;
}

static clgan_status build_from_source(clgan_device *d, const char *name, const char *text, cl_program *out) {
    clgan_status st = CLGAN_OK;
    cl_int err = CL_SUCCESS;
    cl_program prog = clCreateProgramWithSource(d->cl.context, 1, &text, NULL, &err);
    CL_CHECK(err);
    err = clBuildProgram(prog, 1, &d->cl.device, BUILD_OPTIONS, NULL, NULL);
    if (err != CL_SUCCESS) {
        st = build_log_error(d, prog, name, err);
        clReleaseProgram(prog);
        return st;
    }
    d->stats.built++;
    *out = prog;
fail:
    return st;
}

/* A program from a binary; NULL *out and a reason when the driver refuses. */
static cl_program program_from_binary(clgan_device *d, const uint8_t *bin, size_t n, char *why, size_t why_cap) {
    cl_int err = CL_SUCCESS, bin_status = CL_SUCCESS;
    cl_program prog = clCreateProgramWithBinary(d->cl.context, 1, &d->cl.device, &n, &bin, &bin_status, &err);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        snprintf(why, why_cap, "clCreateProgramWithBinary: %s",
                 clgan_cl_error_name(err != CL_SUCCESS ? err : bin_status));
        if (prog) clReleaseProgram(prog);
        return NULL;
    }
    err = clBuildProgram(prog, 1, &d->cl.device, BUILD_OPTIONS, NULL, NULL);
    if (err != CL_SUCCESS) {
        snprintf(why, why_cap, "clBuildProgram on the binary: %s", clgan_cl_error_name(err));
        clReleaseProgram(prog);
        return NULL;
    }
    return prog;
}

static clgan_status load_one(clgan_device *d, const char *cache_dir, const char *name, const char *text,
                             cl_program *out) {
    uint8_t key[32];
    char hex[65], path[1200], why[256];
    cache_key(d, name, text, key);
    clgan_sha256_hex(key, hex);
    if (cache_dir[0]) {
        snprintf(path, sizeof path, "%s/%s.bin", cache_dir, hex);
        size_t n = 0;
        uint8_t *bin = cache_read(path, key, &n, why, sizeof why);
        if (bin) {
            cl_program prog = program_from_binary(d, bin, n, why, sizeof why);
            free(bin);
            if (prog) {
                d->stats.cache_hits++;
                *out = prog;
                return CLGAN_OK;
            }
        }
        if (strcmp(why, "absent") != 0) {
            d->stats.cache_rejected++;
            clgan_log(CLGAN_LOG_WARN, "kernel cache entry %s for %s is %s; rebuilding it", path, name, why);
        }
    }
    clgan_status st = build_from_source(d, name, text, out);
    if (st != CLGAN_OK || !cache_dir[0]) return st;
    uint8_t *bin = NULL;
    size_t n = 0;
    clgan_status cst = program_binary(*out, &bin, &n);
    if (cst == CLGAN_OK) cst = cache_write(path, key, bin, n);
    free(bin);
    if (cst != CLGAN_OK) {
        d->stats.cache_write_failures++;
        clgan_log(CLGAN_LOG_WARN, "could not write kernel cache entry: %s", clgan_last_error());
    }
    return CLGAN_OK;
}

/* The __kernel function names in a source, so a binary can be checked for
 * every kernel clgan needs. Calls fn(name, ctx) for each. */
static void scan_kernel_names(const char *text, void (*fn)(const char *, void *), void *ctx) {
    const char *p = text;
    while ((p = strstr(p, "__kernel")) != NULL) {
        p += 8;
        const char *q = p;
        while (*q == ' ' || *q == '\n' || *q == '\t') q++;
        if (strncmp(q, "void", 4) != 0) continue;
        q += 4;
        while (*q == ' ' || *q == '\n' || *q == '\t') q++;
        char name[64];
        size_t k = 0;
        while (k + 1 < sizeof name && (q[k] == '_' || (q[k] >= 'a' && q[k] <= 'z') || (q[k] >= 'A' && q[k] <= 'Z') ||
                                       (q[k] >= '0' && q[k] <= '9'))) {
            name[k] = q[k];
            k++;
        }
        name[k] = 0;
        if (k) fn(name, ctx);
    }
}

typedef struct {
    const clgan_device *d;
    char missing[1024];
    int n_missing;
} missing_ctx;

static void check_present(const char *name, void *vctx) {
    missing_ctx *m = vctx;
    if (clgan_cl_find_kernel(m->d, name)) return;
    size_t len = strlen(m->missing);
    snprintf(m->missing + len, sizeof m->missing - len, "%s%s", m->n_missing ? ", " : "", name);
    m->n_missing++;
}

static clgan_status add_kernels(clgan_device *d, cl_program prog, const char *origin) {
    clgan_status st = CLGAN_OK;
    cl_uint n = 0, i = 0;
    cl_kernel *ks = NULL;
    CL_CHECK(clCreateKernelsInProgram(prog, 0, NULL, &n));
    if (n == 0) return CLGAN_OK;
    clgan_cl_kernel_entry *grown = realloc(d->cl.kernels, (size_t)(d->cl.kernel_count + (int)n) * sizeof *grown);
    ks = calloc(n, sizeof *ks);
    if (grown) d->cl.kernels = grown;
    if (!grown || !ks) {
        free(ks);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for kernels");
    }
    CL_CHECK(clCreateKernelsInProgram(prog, n, ks, NULL));
    for (; i < n; i++) {
        clgan_cl_kernel_entry *e = &d->cl.kernels[d->cl.kernel_count];
        memset(e, 0, sizeof *e);
        e->kernel = ks[i];
        CL_CHECK(clGetKernelInfo(ks[i], CL_KERNEL_FUNCTION_NAME, sizeof e->name - 1, e->name, NULL));
        if (clgan_cl_find_kernel(d, e->name)) {
            st = CLGAN_ERR(CLGAN_ERR_BUILD, "kernel %s in %s is defined twice among the kernel sources", e->name,
                           origin);
            goto fail;
        }
        d->cl.kernel_count++;
    }
    free(ks);
    d->stats.kernels = d->cl.kernel_count;
    return CLGAN_OK;
fail: /* the kernels not yet in the table are released here */
    for (cl_uint j = i; ks && j < n; j++)
        if (ks[j]) clReleaseKernel(ks[j]);
    free(ks);
    return st;
}

cl_kernel clgan_cl_find_kernel(const clgan_device *d, const char *name) {
    for (int i = 0; i < d->cl.kernel_count; i++)
        if (strcmp(d->cl.kernels[i].name, name) == 0) return d->cl.kernels[i].kernel;
    return NULL;
}

static clgan_status load_binary_file(clgan_device *d, const clgan_device_options *opt) {
    uint8_t *bin = NULL;
    size_t bin_len = 0;
    clgan_status st = clgan_read_file(opt->kernel_binary, CLGAN_KCACHE_MAX_BYTES, &bin, &bin_len);
    if (st != CLGAN_OK) return clgan_error_context(st, "kernel binary: ");
    if (bin_len == 0) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: empty kernel binary", opt->kernel_binary);
        goto done;
    }
    char why[256];
    cl_program prog = program_from_binary(d, bin, bin_len, why, sizeof why);
    if (!prog) {
        st = CLGAN_ERR(CLGAN_ERR_BUILD,
                       "%s: not a usable program binary for %s (%s, driver %s): %s; build one for this "
                       "device with `clgan kernels --save-binary FILE`",
                       opt->kernel_binary, d->info.name, d->info.device_version, d->info.driver_version, why);
        goto done;
    }
    d->cl.programs[d->cl.program_count++] = prog;
    st = add_kernels(d, prog, opt->kernel_binary);
    if (st != CLGAN_OK) goto done;
    missing_ctx m = {.d = d};
    for (int i = 1; i < clgan_embedded_cl_count; i++) scan_kernel_names(clgan_embedded_cl[i].text, check_present, &m);
    if (m.n_missing)
        st = CLGAN_ERR(CLGAN_ERR_BUILD, "%s: the binary lacks %d kernel(s) this clgan needs: %s (built from other sources?)",
                       opt->kernel_binary, m.n_missing, m.missing);
done:
    free(bin);
    return st;
}

clgan_status clgan_programs_load(clgan_device *d, const clgan_device_options *opt) {
    int nfam = clgan_embedded_cl_count - 1;
    d->cl.programs = calloc((size_t)(nfam > 0 ? nfam : 1), sizeof *d->cl.programs);
    if (!d->cl.programs) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (opt->kernel_binary) {
        d->fixed_kernels = true;
        clgan_status st = load_binary_file(d, opt);
        d->stats.programs = d->cl.program_count;
        return st;
    }
    char cache_dir[1024] = "";
    if (!opt->no_cache) {
        clgan_resolve_cache_dir(opt, cache_dir, sizeof cache_dir);
        if (cache_dir[0] && clgan_make_dirs(cache_dir) != CLGAN_OK) {
            clgan_log(CLGAN_LOG_WARN, "kernel cache %s cannot be created (%s); building without a cache", cache_dir,
                      clgan_last_error());
            cache_dir[0] = 0;
        }
    }
    snprintf(d->stats.cache_dir, sizeof d->stats.cache_dir, "%s", cache_dir);
    if (opt->kernel_dir && !(d->kernel_dir = strdup(opt->kernel_dir)))
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_status st = CLGAN_OK;
    for (int i = 1; i <= nfam && st == CLGAN_OK; i++) {
        char *text = NULL;
        const char *name = clgan_embedded_cl[i].name;
        st = compose(opt, i, i + 1, &text);
        cl_program prog = NULL;
        if (st == CLGAN_OK) st = load_one(d, cache_dir, name, text, &prog);
        free(text);
        if (st != CLGAN_OK) break;
        d->cl.programs[d->cl.program_count++] = prog;
        st = add_kernels(d, prog, name);
    }
    d->stats.programs = d->cl.program_count;
    return st;
}

clgan_status clgan_device_save_binary(clgan_device *d, const char *path) {
    if (d->info.backend != CLGAN_BACKEND_OPENCL)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s runs no kernels; choose an OpenCL device", d->info.id);
    const clgan_device_options from = {.kernel_dir = d->kernel_dir};
    char *text = NULL;
    uint8_t *bin = NULL;
    size_t n = 0;
    cl_program prog = NULL;
    clgan_status st = compose(&from, 1, clgan_embedded_cl_count, &text);
    if (st == CLGAN_OK) st = build_from_source(d, "all kernels", text, &prog);
    if (st == CLGAN_OK) st = program_binary(prog, &bin, &n);
    if (st == CLGAN_OK) {
        const void *parts[] = {bin};
        size_t sizes[] = {n};
        st = write_atomic(path, parts, sizes, 1);
    }
    if (prog) clReleaseProgram(prog);
    free(text);
    free(bin);
    return st;
}

clgan_status clgan_programs_add_generated(clgan_device *d, const char *name, const char *family,
                                          const char *defines, const char *text) {
    if (d->fixed_kernels)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s runs an offline kernel binary: no kernel can be generated",
                         d->info.id);
    int fam = -1;
    for (int i = 1; i < clgan_embedded_cl_count; i++)
        if (strcmp(clgan_embedded_cl[i].name, family) == 0) fam = i;
    if (fam < 0) return CLGAN_ERR(CLGAN_ERR_BUILD, "%s is not among the kernel sources", family);
    const clgan_device_options from = {.kernel_dir = d->kernel_dir};
    char *base = NULL, *full = NULL;
    size_t len = 0, cap = 0;
    clgan_status st = compose(&from, fam, fam + 1, &base);
    if (st == CLGAN_OK) st = append(&full, &len, &cap, defines);
    if (st == CLGAN_OK) st = append(&full, &len, &cap, base);
    if (st == CLGAN_OK) st = append(&full, &len, &cap, "\n#line 1 \"generated\"\n");
    if (st == CLGAN_OK) st = append(&full, &len, &cap, text);
    free(base);
    cl_program prog = NULL;
    if (st == CLGAN_OK) st = load_one(d, d->stats.cache_dir, name, full, &prog);
    free(full);
    if (st != CLGAN_OK) return st;
    cl_program *grown = realloc(d->cl.programs, (size_t)(d->cl.program_count + 1) * sizeof *grown);
    if (!grown) {
        clReleaseProgram(prog);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    }
    d->cl.programs = grown;
    d->cl.programs[d->cl.program_count++] = prog;
    d->stats.programs = d->cl.program_count;
    return add_kernels(d, prog, name);
}
