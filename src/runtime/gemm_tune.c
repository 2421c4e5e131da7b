/* The GEMM path per device, and `clgan tune`.
 *
 * A tune record is a small text file beside the kernel cache,
 * <cache_dir>/gemm-<key>.tune, key = SHA-256 of the record format, the
 * platform's name and version, the device's name and version, the driver
 * version, CLBlast's version and OpenBLAS's (everything that changes what
 * the parameters do or which path is faster). It holds the CLBlast
 * parameters tuning chose (applied with CLBlastOverrideParameters at every
 * open of the device), the path that measured faster and the timings:
 *
 *   clgan-gemm-tune 1
 *   key <64 hex digits>
 *   device <name>            (and platform, driver, clblast, openblas: for people)
 *   path native|clblast
 *   total <native ms, -1 without native kernels> <clblast ms>
 *   param <Xgemm|XgemmDirect|GemmRoutine> <NAME> <value>
 *   shape <m> <n> <k> <ta> <tb> <accumulate> <count> <native ms> <clblast ms>
 *   end
 *
 * The file is untrusted: read bounded (clgan_read_file, regular files only),
 * every line checked, and a record that is corrupt, truncated or for another
 * device or library version is ignored with a warning naming the file. */
#include "runtime/clblast_tune.h"
#include "core/sha256.h"
#include "runtime/device_impl.h"
#include "clgan/io.h"

#include <cblas.h>
#include <clblast_c.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef CLGAN_CLBLAST_VERSION
#error "CLGAN_CLBLAST_VERSION (CLBlast's version, from meson) is not defined"
#endif

#define TUNE_MAGIC "clgan-gemm-tune 1"
#define TUNE_MAX_BYTES (256u << 10)
#define MAX_PARAM_VALUE ((size_t)1 << 20)

enum { K_XGEMM, K_DIRECT, K_ROUTINE, NKERNELS };
static const char *const kernel_names[NKERNELS] = {"Xgemm", "XgemmDirect", "GemmRoutine"};

typedef struct {
    char key[65];
    clgan_gemm_path faster;
    double native_ms, clblast_ms;
    clgan_clblast_params params[NKERNELS];
} tune_record;

/* ---- key and file ---- */

static void tune_key(const clgan_device_info *info, char hex[65]) {
    clgan_sha256 h;
    uint8_t key[32];
    clgan_sha256_init(&h);
    const char *parts[] = {TUNE_MAGIC,          info->platform_name,  info->platform_version,
                           info->name,          info->device_version, info->driver_version,
                           CLGAN_CLBLAST_VERSION, OPENBLAS_VERSION};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        clgan_sha256_update(&h, parts[i], strlen(parts[i]) + 1);
    clgan_sha256_final(&h, key);
    clgan_sha256_hex(key, hex);
}

static void tune_path(const clgan_device_info *info, const clgan_device_options *opt, char *out, size_t cap) {
    char dir[1024], hex[65];
    clgan_resolve_cache_dir(opt, dir, sizeof dir);
    if (!dir[0]) {
        out[0] = 0;
        return;
    }
    tune_key(info, hex);
    snprintf(out, cap, "%s/gemm-%s.tune", dir, hex);
}

/* ---- parsing ---- */

static bool is_param_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof ((clgan_clblast_params *)0)->names[0]) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_')) return false;
    return true;
}

/* a non-negative decimal integer <= max, the whole token */
static bool parse_uint(const char *s, size_t max, size_t *out) {
    if (!s || !*s) return false;
    size_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (size_t)(*s - '0');
        if (v > max) return false;
    }
    *out = v;
    return true;
}

static bool parse_ms(const char *s, double *out) {
    if (!s || !*s) return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v) || v < -1.0 || v > 1e9) return false;
    *out = v;
    return true;
}

/* Splits line (modified) into at most cap tokens on single spaces. */
static int tokens(char *line, char **tok, int cap) {
    int n = 0;
    for (char *p = line; *p && n < cap;) {
        tok[n++] = p;
        char *sp = strchr(p, ' ');
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    return n;
}

/* Parses text (NUL-terminated, len bytes) into rec; false with why. */
static bool parse_record(char *text, size_t len, const char *want_key, tune_record *rec, char *why, size_t cap) {
    memset(rec, 0, sizeof *rec);
    if (strlen(text) != len) {
        snprintf(why, cap, "holds a NUL byte");
        return false;
    }
    bool have_key = false, have_path = false, have_total = false, ended = false;
    int lineno = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (!nl) {
            snprintf(why, cap, "is truncated (line %d has no end)", lineno + 1);
            return false;
        }
        *nl = 0;
        lineno++;
        if (ended) {
            snprintf(why, cap, "has text after its end line");
            return false;
        }
        if (lineno == 1) {
            if (strcmp(line, TUNE_MAGIC) != 0) {
                snprintf(why, cap, "does not start with \"%s\"", TUNE_MAGIC);
                return false;
            }
            line = nl + 1;
            continue;
        }
        char *tok[12];
        int nt = tokens(line, tok, 12);
        const char *what = nt ? tok[0] : "";
        bool ok = true;
        if (strcmp(what, "key") == 0) {
            ok = nt == 2 && strlen(tok[1]) == 64;
            if (ok && strcmp(tok[1], want_key) != 0) {
                snprintf(why, cap, "is stale (for another device, driver or library version)");
                return false;
            }
            have_key = ok;
            if (ok) snprintf(rec->key, sizeof rec->key, "%s", tok[1]);
        } else if (strcmp(what, "device") == 0 || strcmp(what, "platform") == 0 || strcmp(what, "driver") == 0 ||
                   strcmp(what, "clblast") == 0 || strcmp(what, "openblas") == 0) {
            /* for people; the key covers them */
        } else if (strcmp(what, "path") == 0) {
            ok = nt == 2 && (strcmp(tok[1], "native") == 0 || strcmp(tok[1], "clblast") == 0);
            if (ok) rec->faster = tok[1][0] == 'n' ? CLGAN_GEMM_NATIVE : CLGAN_GEMM_CLBLAST;
            have_path = ok;
        } else if (strcmp(what, "total") == 0) {
            ok = nt == 3 && parse_ms(tok[1], &rec->native_ms) && parse_ms(tok[2], &rec->clblast_ms);
            have_total = ok;
        } else if (strcmp(what, "param") == 0) {
            int k = -1;
            size_t v = 0;
            for (int i = 0; nt == 4 && i < NKERNELS; i++)
                if (strcmp(tok[1], kernel_names[i]) == 0) k = i;
            ok = k >= 0 && is_param_name(tok[2]) && parse_uint(tok[3], MAX_PARAM_VALUE, &v);
            if (ok) {
                clgan_clblast_params *p = &rec->params[k];
                for (int i = 0; i < p->n; i++)
                    if (strcmp(p->names[i], tok[2]) == 0) ok = false; /* twice */
                if (ok && p->n == CLGAN_CLBLAST_MAX_PARAMS) ok = false;
                if (ok) {
                    snprintf(p->names[p->n], sizeof p->names[0], "%s", tok[2]);
                    p->values[p->n++] = v;
                }
            }
        } else if (strcmp(what, "shape") == 0) {
            size_t u;
            double ms;
            ok = nt == 10;
            for (int i = 1; ok && i <= 7; i++) ok = parse_uint(tok[i], (size_t)1 << 31, &u);
            for (int i = 8; ok && i <= 9; i++) ok = parse_ms(tok[i], &ms);
        } else if (strcmp(what, "end") == 0 && nt == 1) {
            ended = true;
        } else {
            ok = false;
        }
        if (!ok) {
            snprintf(why, cap, "is corrupt at line %d (\"%s\")", lineno, clgan_esc(what));
            return false;
        }
        line = nl + 1;
    }
    if (!ended) {
        snprintf(why, cap, "is truncated (no end line)");
        return false;
    }
    if (!have_key || !have_path || !have_total) {
        snprintf(why, cap, "is incomplete (no %s line)", !have_key ? "key" : !have_path ? "path" : "total");
        return false;
    }
    return true;
}

/* Reads path's record into rec: 1 when valid, 0 when absent, -1 when
 * present but unusable (warned). */
static int read_record(const char *path, const char *want_key, tune_record *rec) {
    uint8_t *buf = NULL;
    size_t len = 0;
    clgan_status st = clgan_read_file(path, TUNE_MAX_BYTES, &buf, &len);
    if (st == CLGAN_ERR_NOT_FOUND) {
        clgan_clear_error();
        return 0;
    }
    if (st != CLGAN_OK) {
        clgan_log(CLGAN_LOG_WARN, "GEMM tune record %s is unreadable (%s); ignoring it (rerun clgan tune)", path,
                  clgan_last_error());
        clgan_clear_error();
        return -1;
    }
    char why[256];
    bool ok = parse_record((char *)buf, len, want_key, rec, why, sizeof why);
    free(buf);
    if (!ok) {
        clgan_log(CLGAN_LOG_WARN, "GEMM tune record %s %s; ignoring it (rerun clgan tune)", path, why);
        return -1;
    }
    return 1;
}

/* ---- writing ---- */

typedef struct {
    const clgan_device_info *info;
    const tune_record *rec;
    const clgan_tune_report *rep;
} write_ctx;

/* a device string on one line: the filter keeps it printable */
static const char *one_line(const char *s, char *buf, size_t cap) {
    snprintf(buf, cap, "%s", s);
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    return buf;
}

static clgan_status fill_record(FILE *f, void *vctx) {
    const write_ctx *c = vctx;
    char b[512];
    fprintf(f, "%s\nkey %s\n", TUNE_MAGIC, c->rec->key);
    fprintf(f, "device %s\n", one_line(c->info->name, b, sizeof b));
    fprintf(f, "platform %s\n", one_line(c->info->platform_name, b, sizeof b));
    fprintf(f, "driver %s\n", one_line(c->info->driver_version, b, sizeof b));
    fprintf(f, "clblast %s\nopenblas %s\n", CLGAN_CLBLAST_VERSION, OPENBLAS_VERSION);
    fprintf(f, "path %s\n", clgan_gemm_path_name(c->rec->faster));
    fprintf(f, "total %.4f %.4f\n", c->rec->native_ms, c->rec->clblast_ms);
    for (int k = 0; k < NKERNELS; k++)
        for (int i = 0; i < c->rec->params[k].n; i++)
            fprintf(f, "param %s %s %zu\n", kernel_names[k], c->rec->params[k].names[i], c->rec->params[k].values[i]);
    for (int i = 0; i < c->rep->nrows; i++) {
        const clgan_tune_row *r = &c->rep->rows[i];
        fprintf(f, "shape %d %d %d %d %d %d %d %.4f %.4f\n", r->shape.m, r->shape.n, r->shape.k, r->shape.ta,
                r->shape.tb, r->shape.accumulate, r->shape.count, r->native_ms < 0 ? -1.0 : r->native_ms,
                r->clblast_ms);
    }
    fprintf(f, "end\n");
    return CLGAN_OK;
}

/* ---- choosing ---- */

static clgan_status choose(const clgan_device_info *info, const clgan_device_options *opt, clgan_gemm_choice *out,
                           tune_record *rec) {
    static const clgan_device_options defaults;
    if (!opt) opt = &defaults;
    memset(out, 0, sizeof *out);
    out->path = CLGAN_GEMM_CLBLAST;
    if (info->backend == CLGAN_BACKEND_REF) {
        snprintf(out->why, sizeof out->why, "ref computes GEMMs in plain C");
        return CLGAN_OK;
    }
    if (opt->gemm == CLGAN_GEMM_NATIVE && !info->native_kernels)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED,
                         "--gemm native: device %s (%s) does not run native kernels (its "
                         "CL_DEVICE_EXECUTION_CAPABILITIES lack CL_EXEC_NATIVE_KERNEL); use --gemm clblast or auto",
                         info->id, info->name);
    if (opt->gemm != CLGAN_GEMM_AUTO && opt->gemm != CLGAN_GEMM_CLBLAST && opt->gemm != CLGAN_GEMM_NATIVE)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "GEMM path %d: expected auto, clblast or native", (int)opt->gemm);
    tune_path(info, opt, out->tune_file, sizeof out->tune_file);
    int have = 0;
    if (out->tune_file[0] && !opt->no_tune) {
        char hex[65];
        tune_key(info, hex);
        have = read_record(out->tune_file, hex, rec);
    }
    out->tuned = have == 1;
    if (opt->gemm != CLGAN_GEMM_AUTO) {
        out->path = opt->gemm;
        snprintf(out->why, sizeof out->why, "forced (--gemm %s)", clgan_gemm_path_name(opt->gemm));
    } else if (have == 1 && (rec->faster == CLGAN_GEMM_CLBLAST || info->native_kernels)) {
        out->path = rec->faster;
        if (rec->native_ms >= 0)
            snprintf(out->why, sizeof out->why,
                     "measured by clgan tune: the built-in models' GEMMs take %.1f ms native, %.1f ms on tuned CLBlast",
                     rec->native_ms, rec->clblast_ms);
        else
            snprintf(out->why, sizeof out->why, "measured by clgan tune (no native kernels): tuned CLBlast");
    } else if (info->native_kernels && strcmp(info->type, "CPU") == 0) {
        out->path = CLGAN_GEMM_NATIVE;
        snprintf(out->why, sizeof out->why,
                 "rule: a CPU device that runs native kernels gets host BLAS (clgan tune measures instead)");
    } else {
        out->path = CLGAN_GEMM_CLBLAST;
        snprintf(out->why, sizeof out->why, "rule: %s device%s", info->type,
                 info->native_kernels ? " (native kernels, but not a CPU)" : " without native kernels");
    }
    return CLGAN_OK;
}

clgan_status clgan_gemm_choose(const clgan_device_info *info, const clgan_device_options *opt, clgan_gemm_choice *out) {
    tune_record rec;
    return choose(info, opt, out, &rec);
}

/* Overrides CLBlast's parameters for one kernel on d; false (and why) when
 * CLBlast refuses them. */
static bool apply_params(clgan_device *d, const char *kernel, const clgan_clblast_params *p, char *why, size_t cap) {
    const char *names[CLGAN_CLBLAST_MAX_PARAMS];
    for (int i = 0; i < p->n; i++) names[i] = p->names[i];
    CLBlastStatusCode s = CLBlastOverrideParameters(d->cl.device, kernel, CLBlastPrecisionSingle, (size_t)p->n, names,
                                                    p->values);
    if (s != CLBlastSuccess) {
        snprintf(why, cap, "CLBlast refuses the %s parameters: %s (%d)", kernel, clgan_cl_error_name((int)s), (int)s);
        return false;
    }
    return true;
}

clgan_status clgan_gemm_setup(clgan_device *d, const clgan_device_options *opt) {
    tune_record rec;
    clgan_status st = choose(&d->info, opt, &d->gemm, &rec);
    if (st != CLGAN_OK) return st;
    if (d->gemm.tuned) {
        char why[256] = "";
        bool ok = true;
        for (int k = 0; k < NKERNELS && ok; k++)
            if (rec.params[k].n) ok = apply_params(d, kernel_names[k], &rec.params[k], why, sizeof why);
        if (!ok) {
            clgan_log(CLGAN_LOG_WARN, "GEMM tune record %s: %s; ignoring it (rerun clgan tune)", d->gemm.tune_file, why);
            d->gemm.tuned = false;
        } else {
            clgan_log(CLGAN_LOG_DEBUG, "device %s: CLBlast GEMM parameters from %s applied", d->info.id,
                      d->gemm.tune_file);
        }
    }
    clgan_log(CLGAN_LOG_DEBUG, "device %s: GEMM path %s (%s)", d->info.id, clgan_gemm_path_name(d->gemm.path),
              d->gemm.why);
    return CLGAN_OK;
}

/* ---- tuning ---- */

/* Candidates besides CLBlast's own database entry and its tuner's result:
 * parameters CLBlast's database holds for CPUs of the same generation
 * (Haswell-class; PoCL reports a vendor CLBlast does not know, so it gets the
 * generic defaults). */
typedef struct {
    const char *names[16];
    size_t values[16];
    int n;
} curated;
static const char *const xgemm_names[16] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                            "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
static const size_t xgemm_curated[][16] = {
    {0, 1, 16, 2, 8, 8, 128, 8, 8, 128, 1, 1, 1, 0, 1, 8},
    {0, 1, 32, 2, 32, 16, 64, 32, 8, 64, 0, 1, 1, 0, 1, 1},
    {0, 1, 32, 8, 16, 16, 64, 32, 32, 64, 0, 1, 1, 0, 1, 2},
    {0, 1, 32, 2, 16, 8, 32, 8, 32, 128, 1, 1, 1, 1, 1, 4},
};
static const char *const direct_names[10] = {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD",
                                             "PADA", "PADB",   "VWMD",   "VWND",   "WGD"};
static const size_t direct_curated[][10] = {
    {2, 8, 8, 8, 8, 0, 0, 2, 2, 64},
    {8, 16, 16, 16, 16, 0, 0, 1, 1, 64},
    {16, 8, 16, 16, 16, 0, 0, 1, 1, 32},
};

static void params_from(clgan_clblast_params *p, const char *const *names, const size_t *values, int n) {
    p->n = n;
    for (int i = 0; i < n; i++) {
        snprintf(p->names[i], sizeof p->names[i], "%s", names[i]);
        p->values[i] = values[i];
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    clgan_device *d;
    clgan_buffer *a, *b, *c;
    int runs;
} bench;

/* Median ms of one call of shape s on path (after one untimed call). */
static clgan_status time_shape(bench *bn, clgan_gemm_path path, const clgan_gemm_shape *s, double *ms) {
    clgan_device *d = bn->d;
    size_t lda = s->ta ? (size_t)s->m : (size_t)s->k, ldb = s->tb ? (size_t)s->k : (size_t)s->n;
    double t[16];
    int runs = bn->runs > 16 ? 16 : bn->runs;
    clgan_status st = CLGAN_OK;
    for (int i = -1; i < runs && st == CLGAN_OK; i++) {
        double t0 = now_ms();
        st = clgan_cl_sgemm(d, path, s->ta, s->tb, (size_t)s->m, (size_t)s->n, (size_t)s->k, bn->a->mem, 0, lda,
                            bn->b->mem, 0, ldb, s->accumulate ? 1.0f : 0.0f, bn->c->mem, 0, (size_t)s->n);
        if (st == CLGAN_OK) st = clgan_device_finish(d);
        if (i >= 0) t[i] = now_ms() - t0;
    }
    if (st != CLGAN_OK) return st;
    qsort(t, (size_t)runs, sizeof t[0], cmp_double);
    *ms = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    return CLGAN_OK;
}

/* count-weighted total over the shapes for which use[i] (all when NULL) */
static clgan_status time_all(bench *bn, clgan_gemm_path path, const clgan_gemm_shape *s, int n, const bool *use,
                             double *per, double *total) {
    *total = 0;
    for (int i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        clgan_status st = time_shape(bn, path, &s[i], &per[i]);
        if (st != CLGAN_OK) return st;
        *total += per[i] * s[i].count;
    }
    return CLGAN_OK;
}

static double mnk(const clgan_gemm_shape *s) { return (double)s->m * (double)s->n * (double)s->k; }

static size_t round_up(size_t v, size_t q) { return (v + q - 1) / q * q; }

static void format_params(char *out, size_t cap, const tune_record *rec) {
    out[0] = 0;
    size_t len = 0;
    for (int k = 0; k < NKERNELS; k++) {
        const clgan_clblast_params *p = &rec->params[k];
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s:", k ? "; " : "", kernel_names[k]);
        for (int i = 0; i < p->n; i++)
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, " %s=%zu", p->names[i], p->values[i]);
    }
}

/* The most work (count * m*n*k) among shapes with mnk <= cap. */
static int heaviest(const clgan_gemm_shape *s, int n, double cap) {
    int best = -1;
    for (int i = 0; i < n; i++)
        if (mnk(&s[i]) <= cap && (best < 0 || mnk(&s[i]) * s[i].count > mnk(&s[best]) * s[best].count)) best = i;
    return best;
}

/* Direct kernel sizes tried only up to this m*n*k: beyond, the indirect
 * kernel wins on every device CLBlast's database knows, and a direct run of a
 * large shape would only slow the search down. */
#define DIRECT_MAX_MNK (512.0 * 512.0 * 512.0)

clgan_status clgan_gemm_tune(clgan_device *d, const clgan_gemm_shape *shapes, int n, const clgan_tune_options *opt,
                             clgan_tune_report *out) {
    static const clgan_tune_options defaults;
    if (!opt) opt = &defaults;
    memset(out, 0, sizeof *out);
    if (d->info.backend != CLGAN_BACKEND_OPENCL)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s has no GEMM paths to tune; choose an OpenCL device",
                         d->info.id);
    if (n <= 0 || n > (int)(sizeof out->rows / sizeof out->rows[0]))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d GEMM shapes to tune on, expected 1 to %d", n,
                         (int)(sizeof out->rows / sizeof out->rows[0]));
    if (!d->gemm.tune_file[0])
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED,
                         "no folder for the tune record: set --cache-dir, CLGAN_CACHE_DIR, XDG_CACHE_HOME or HOME");
    double fraction = opt->fraction > 0 ? opt->fraction : opt->fraction < 0 ? 0 : 5e-5;
    size_t max_dim = opt->max_dim > 0 ? (size_t)opt->max_dim : 512;
    double t_start = now_ms();
    bench bn = {.d = d, .runs = opt->runs > 0 ? opt->runs : 3};
    size_t amax = 1, bmax = 1, cmax = 1;
    for (int i = 0; i < n; i++) {
        const clgan_gemm_shape *s = &shapes[i];
        if (s->m <= 0 || s->n <= 0 || s->k <= 0 || s->count <= 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "GEMM shape %d: m=%d n=%d k=%d count %d, expected positive", i,
                             s->m, s->n, s->k, s->count);
        size_t ae = (size_t)s->m * s->k, be = (size_t)s->k * s->n, ce = (size_t)s->m * s->n;
        if (ae > amax) amax = ae;
        if (be > bmax) bmax = be;
        if (ce > cmax) cmax = ce;
    }
    clgan_status st = clgan_buffer_alloc(d, amax * sizeof(float), &bn.a);
    if (st == CLGAN_OK) st = clgan_buffer_alloc(d, bmax * sizeof(float), &bn.b);
    if (st == CLGAN_OK) st = clgan_buffer_alloc(d, cmax * sizeof(float), &bn.c);
    double *per = calloc((size_t)n, sizeof *per), *best_ind = calloc((size_t)n, sizeof *best_ind);
    double *best_dir = calloc((size_t)n, sizeof *best_dir);
    bool *small = calloc((size_t)n, sizeof *small);
    if (st == CLGAN_OK && (!per || !best_ind || !best_dir || !small))
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory tuning");
    tune_record rec;
    memset(&rec, 0, sizeof rec);
    tune_key(&d->info, rec.key);
    char why[256] = "";
    if (st == CLGAN_OK) {
        /* values in [-1, 1): zeros would let a kernel skip work */
        size_t big = amax > bmax ? amax : bmax;
        float *h = malloc(big * sizeof *h);
        if (!h) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory tuning");
        for (size_t i = 0; h && i < big; i++) h[i] = (float)((int)(i * 2654435761u % 2001u) - 1000) / 1000.0f;
        if (st == CLGAN_OK) st = clgan_buffer_write(bn.a, 0, h, amax * sizeof *h);
        if (st == CLGAN_OK) st = clgan_buffer_write(bn.b, 0, h, bmax * sizeof *h);
        free(h);
    }
    for (int i = 0; i < n; i++)
        if (small) small[i] = mnk(&shapes[i]) <= DIRECT_MAX_MNK;

    /* CLBlast's own choice first, so the result is never worse than it */
    clgan_clblast_params cand[8];
    int ncand = 0;
    if (st == CLGAN_OK && clgan_clblast_current(d->cl.device, "Xgemm", &cand[ncand], why, sizeof why) == 0) ncand++;
    size_t ncur = opt->candidates < 0 ? 0 : opt->candidates > 0 ? (size_t)opt->candidates : SIZE_MAX;
    for (size_t i = 0; i < sizeof xgemm_curated / sizeof xgemm_curated[0] && i < ncur; i++)
        params_from(&cand[ncand++], xgemm_names, xgemm_curated[i], 16);
    int ih = heaviest(shapes, n, INFINITY);
    if (st == CLGAN_OK && fraction > 0) {
        const clgan_gemm_shape *s = &shapes[ih];
        size_t tm = round_up((size_t)s->m < max_dim ? (size_t)s->m : max_dim, 128);
        size_t tn = round_up((size_t)s->n < max_dim ? (size_t)s->n : max_dim, 128);
        size_t tk = round_up((size_t)s->k < max_dim ? (size_t)s->k : max_dim, 32);
        clgan_log(CLGAN_LOG_INFO, "CLBlast's Xgemm tuner on %zu x %zu x %zu, fraction %g of its search space", tm, tn,
                  tk, fraction);
        if (clgan_clblast_tune(d->cl.queue, "Xgemm", tm, tn, tk, fraction, &cand[ncand], why, sizeof why) == 0)
            ncand++;
        else
            clgan_log(CLGAN_LOG_WARN, "%s; keeping the other candidates", why);
    }
    /* the indirect kernel: every shape through it (XGEMM_MIN_INDIRECT_SIZE 0) */
    clgan_clblast_params routine;
    const char *rn[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
    size_t always_indirect = 0, always_direct = MAX_PARAM_VALUE;
    double best_total = INFINITY;
    int best = -1;
    for (int c = 0; c < ncand && st == CLGAN_OK; c++) {
        params_from(&routine, rn, &always_indirect, 1);
        if (!apply_params(d, "GemmRoutine", &routine, why, sizeof why) || !apply_params(d, "Xgemm", &cand[c], why, sizeof why)) {
            clgan_log(CLGAN_LOG_DEBUG, "Xgemm candidate %d: %s", c, why);
            continue;
        }
        double total = 0;
        clgan_status cst = time_all(&bn, CLGAN_GEMM_CLBLAST, shapes, n, NULL, per, &total);
        if (cst != CLGAN_OK) { /* a configuration this device cannot run */
            clgan_log(CLGAN_LOG_DEBUG, "Xgemm candidate %d fails: %s", c, clgan_last_error());
            clgan_clear_error();
            continue;
        }
        clgan_log(CLGAN_LOG_INFO, "Xgemm candidate %d of %d: %.1f ms", c + 1, ncand, total);
        if (total < best_total) {
            best_total = total;
            best = c;
            memcpy(best_ind, per, (size_t)n * sizeof *per);
        }
    }
    if (st == CLGAN_OK && best < 0)
        st = CLGAN_ERR(CLGAN_ERR_DEVICE, "no Xgemm configuration ran on device %s (%s)", d->info.id, why);
    if (st == CLGAN_OK) rec.params[K_XGEMM] = cand[best];

    /* the direct kernel, on the small shapes */
    ncand = 0;
    if (st == CLGAN_OK && clgan_clblast_current(d->cl.device, "XgemmDirect", &cand[ncand], why, sizeof why) == 0)
        ncand++;
    for (size_t i = 0; i < sizeof direct_curated / sizeof direct_curated[0] && i < ncur; i++)
        params_from(&cand[ncand++], direct_names, direct_curated[i], 10);
    int is = heaviest(shapes, n, DIRECT_MAX_MNK);
    if (st == CLGAN_OK && is >= 0 && fraction > 0) {
        const clgan_gemm_shape *s = &shapes[is];
        size_t tm = round_up((size_t)s->m, 64), tn = round_up((size_t)s->n, 64), tk = round_up((size_t)s->k, 64);
        clgan_log(CLGAN_LOG_INFO, "CLBlast's XgemmDirect tuner on %zu x %zu x %zu, fraction %g", tm, tn, tk,
                  fraction * 10);
        if (clgan_clblast_tune(d->cl.queue, "XgemmDirect", tm, tn, tk, fraction * 10 < 1 ? fraction * 10 : 1,
                               &cand[ncand], why, sizeof why) == 0)
            ncand++;
        else
            clgan_log(CLGAN_LOG_WARN, "%s; keeping the other candidates", why);
    }
    best = -1;
    best_total = INFINITY;
    for (int c = 0; c < ncand && st == CLGAN_OK && is >= 0; c++) {
        params_from(&routine, rn, &always_direct, 1);
        if (!apply_params(d, "GemmRoutine", &routine, why, sizeof why) ||
            !apply_params(d, "XgemmDirect", &cand[c], why, sizeof why))
            continue;
        double total = 0;
        clgan_status cst = time_all(&bn, CLGAN_GEMM_CLBLAST, shapes, n, small, per, &total);
        if (cst != CLGAN_OK) {
            clgan_clear_error();
            continue;
        }
        clgan_log(CLGAN_LOG_INFO, "XgemmDirect candidate %d of %d: %.1f ms on the small shapes", c + 1, ncand, total);
        if (total < best_total) {
            best_total = total;
            best = c;
            memcpy(best_dir, per, (size_t)n * sizeof *per);
        }
    }
    if (st == CLGAN_OK && best >= 0) rec.params[K_DIRECT] = cand[best];
    else if (st == CLGAN_OK && clgan_clblast_current(d->cl.device, "XgemmDirect", &rec.params[K_DIRECT], why, sizeof why) != 0)
        rec.params[K_DIRECT].n = 0;

    /* the threshold: direct below size^3, indirect above; the best of the
     * shapes' own sizes */
    if (st == CLGAN_OK) {
        size_t best_t = 0;
        double best_sum = INFINITY;
        for (int j = -1; j < n; j++) {
            size_t t = j < 0 ? 0 : (size_t)ceil(cbrt(mnk(&shapes[j]))) + 1;
            if (j >= 0 && (!small[j] || best < 0)) continue;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                bool direct = mnk(&shapes[i]) < (double)t * t * t;
                sum += (direct && small[i] ? best_dir[i] : best_ind[i]) * shapes[i].count;
                if (direct && !small[i]) sum = INFINITY;
            }
            if (sum < best_sum) {
                best_sum = sum;
                best_t = t;
            }
        }
        params_from(&rec.params[K_ROUTINE], rn, &best_t, 1);
        if (!apply_params(d, "GemmRoutine", &rec.params[K_ROUTINE], why, sizeof why))
            st = CLGAN_ERR(CLGAN_ERR_DEVICE, "%s", why);
        if (st == CLGAN_OK && !apply_params(d, "Xgemm", &rec.params[K_XGEMM], why, sizeof why))
            st = CLGAN_ERR(CLGAN_ERR_DEVICE, "%s", why);
        if (st == CLGAN_OK && rec.params[K_DIRECT].n &&
            !apply_params(d, "XgemmDirect", &rec.params[K_DIRECT], why, sizeof why))
            st = CLGAN_ERR(CLGAN_ERR_DEVICE, "%s", why);
    }

    /* the final comparison: tuned CLBlast against native, shape by shape */
    if (st == CLGAN_OK) st = time_all(&bn, CLGAN_GEMM_CLBLAST, shapes, n, NULL, per, &out->clblast_total_ms);
    for (int i = 0; i < n && st == CLGAN_OK; i++) {
        out->rows[i].shape = shapes[i];
        out->rows[i].clblast_ms = per[i];
        out->rows[i].native_ms = -1;
    }
    out->nrows = st == CLGAN_OK ? n : 0;
    out->native_total_ms = -1;
    if (st == CLGAN_OK && d->info.native_kernels) {
        st = time_all(&bn, CLGAN_GEMM_NATIVE, shapes, n, NULL, per, &out->native_total_ms);
        for (int i = 0; i < n && st == CLGAN_OK; i++) out->rows[i].native_ms = per[i];
    }
    if (st == CLGAN_OK) {
        out->faster = out->native_total_ms >= 0 && out->native_total_ms < out->clblast_total_ms ? CLGAN_GEMM_NATIVE
                                                                                                 : CLGAN_GEMM_CLBLAST;
        rec.faster = out->faster;
        rec.native_ms = out->native_total_ms;
        rec.clblast_ms = out->clblast_total_ms;
        format_params(out->params, sizeof out->params, &rec);
        snprintf(out->file, sizeof out->file, "%s", d->gemm.tune_file);
        char dir[1100];
        snprintf(dir, sizeof dir, "%s", d->gemm.tune_file);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        if (slash && dir[0]) st = clgan_make_dirs(dir);
        write_ctx wc = {&d->info, &rec, out};
        if (st == CLGAN_OK) st = clgan_atomic_write(d->gemm.tune_file, fill_record, &wc);
        if (st != CLGAN_OK) clgan_error_context(st, "writing GEMM tune record %s: ", d->gemm.tune_file);
    }
    if (st == CLGAN_OK) {
        d->gemm.tuned = true;
        out->tune_seconds = (now_ms() - t_start) / 1e3;
    }
    free(per);
    free(best_ind);
    free(best_dir);
    free(small);
    clgan_buffer_free(bn.a);
    clgan_buffer_free(bn.b);
    clgan_buffer_free(bn.c);
    return st;
}
