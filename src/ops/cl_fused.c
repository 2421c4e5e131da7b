/* Fused elementwise kernels: OpenCL C generated from a clgan_fused call
 * (src/ops/fused.h), built once per distinct source on a device, launched
 * with the call's tensors.
 *
 * Index spaces. Elementwise calls without broadcast leaves run one
 * work-item per element. Calls with broadcast leaves pick the most common
 * leaf pattern (mid, inner) as the primary one and run a 3-D range (inner,
 * mid, outer), or 2-D (mid, outer) when inner is 1, so the primary leaves
 * are read at the work-item's own mid index and no work-item divides;
 * other patterns (rare: a leaf broadcast along another axis) divide.
 *
 * Sum calls run WG work-items per (kept element, part): each adds a strided
 * share of its part of the outer x inner terms, walking (outer, inner) with
 * increments instead of a divide per term, then the group combines its
 * partial sums in a fixed tree; with more than one part the parts' sums go
 * to scratch and sum_parts_f32 (cl/reduce.cl) adds them in order. The order
 * depends only on the sizes, WG and the part count, so a reduction gives the
 * same bits every run on a device. Parts are used when the kept elements
 * alone would leave compute units idle. */
#include "ops/fused.h"
#include "core/sha256.h"

#include "runtime/device_impl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Work-group sizes of the GPU forms */
enum { EW_WG = 256, SUM_WG_MAX = 256, MIN_TERMS_PER_ITEM = 16 };

/* The CPU forms (clgan_cl_cpu_forms): an elementwise work-item runs along
 * RUN contiguous floats (on PoCL 25-36 GB/s against 3-15 for a work-item per
 * float at 1024 a group); a sum's work-item adds the rows of one kept element
 * with 8 accumulators, or, when rows are shorter than SUM_ROWS_MIN_INNER,
 * SUM_COLS neighbouring kept elements side by side; a part holds at least
 * SUM_CPU_MIN_PART terms. The accumulators are compensated (sum_add in
 * cl/common.cl, also used to add the parts): a long sequential float sum would round off far more
 * than the GPU form's tree, and terms that cancel exactly (a bias gradient
 * of real and fake halves) must leave ~0, not a residue that Adam's first
 * step, g / (|g| + eps), turns into a full-size update. */
enum { RUN = 64, SUM_ROWS_MIN_INNER = 8, SUM_COLS = 16, SUM_CPU_MIN_PART = 4096 };

bool clgan_fused_available(const clgan_device *d) {
    return d->info.backend == CLGAN_BACKEND_OPENCL && !d->fixed_kernels;
}

static bool is_unary(clgan_op op) { return op >= CLGAN_OP_AFFINE && op <= CLGAN_OP_CLAMP_MASK; }
static bool is_binary(clgan_op op) { return op >= CLGAN_OP_ADD && op <= CLGAN_OP_BCE_LOGITS; }

/* the work-group size of sum kernels on d: a power of two */
static int sum_wg(const clgan_device *d) {
    size_t m = clgan_cl_max_wg(d);
    int w = 1;
    while (w * 2 <= SUM_WG_MAX && (size_t)(w * 2) <= m) w *= 2;
    return w;
}

/* ---- source text ---- */

typedef struct {
    char *s;
    size_t len, cap;
    bool failed;
} text;

static void put(text *t, const char *fmt, ...) {
    if (t->failed) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if (t->len + (size_t)n + 1 > t->cap) {
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *g = realloc(t->s, cap);
        if (!g) {
            t->failed = true;
            return;
        }
        t->s = g;
        t->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

/* The primary leaf pattern of an elementwise call: the most common
 * broadcast pattern among its leaves, or -1. */
static int primary_leaf(const clgan_fused *f) {
    int best = -1, best_count = 0;
    for (int j = 0; j < f->nleaves; j++) {
        if (f->leaf[j].mid == 0) continue;
        int count = 0;
        for (int k = 0; k < f->nleaves; k++)
            count += f->leaf[k].mid == f->leaf[j].mid && f->leaf[k].inner == f->leaf[j].inner;
        if (count > best_count) {
            best = j;
            best_count = count;
        }
    }
    return best;
}

/* Whether leaf j is read at the kept/primary index m. */
static bool at_m(const clgan_fused *f, int prim_mid, int prim_inner, int j) {
    return f->leaf[j].mid != 0 && f->leaf[j].mid == prim_mid && f->leaf[j].inner == prim_inner;
}

/* a step whose kernel takes its two float parameters: the unary ops, and the
 * update of a running statistic (EMA: fp[0] the momentum) */
static bool has_params(clgan_op op) { return is_unary(op) || op == CLGAN_OP_EMA; }

static const char *op_fn(clgan_op op) { return clgan_ops[op].name; }

/* Steps [from, to): reads of the leaves of their kind (epilogue or not) at
 * flat index i (or m), the steps, and the step outputs. Variables: l<j>
 * leaves, t<k> steps, sv the sum (epilogue). An epilogue's index is the
 * kept element m. */
static void put_steps(text *t, const clgan_fused *f, int from, int to, bool epi, int pm, int pi, const char *pad) {
    for (int j = 0; j < f->nleaves; j++) {
        if (f->leaf[j].epi != epi) continue;
        if (epi && f->leaf[j].mid == 0) put(t, "%sfloat l%d = L%d[lo%d + m];\n", pad, j, j, j);
        else if (epi) put(t, "%sfloat l%d = L%d[lo%d + (m / LI%d) %% LM%d];\n", pad, j, j, j, j, j);
        else if (f->leaf[j].mid == 0) put(t, "%sfloat l%d = L%d[lo%d + i];\n", pad, j, j, j);
        else if (at_m(f, pm, pi, j)) put(t, "%sfloat l%d = L%d[lo%d + m];\n", pad, j, j, j);
        else put(t, "%sfloat l%d = L%d[lo%d + (i / LI%d) %% LM%d];\n", pad, j, j, j, j, j);
    }
    char a[16], b[16];
    const char *at = epi ? "m" : "i";
    for (int k = from; k < to; k++) {
        const clgan_fused_step *s = &f->step[k];
        for (int q = 0; q < 2; q++) {
            char *dst = q ? b : a;
            int v = s->arg[q];
            if (v == CLGAN_FUSE_SUMVAL) snprintf(dst, 16, "sv");
            else if (v >= 0) snprintf(dst, 16, "t%d", v);
            else snprintf(dst, 16, "l%d", -1 - v);
        }
        if (s->op == CLGAN_OP_EXPAND) put(t, "%sfloat t%d = %s;\n", pad, k, a);
        else if (s->op == CLGAN_OP_EMA) put(t, "%sfloat t%d = ew_ema(%s, %s, P%d_0);\n", pad, k, a, b, k);
        else if (is_binary(s->op)) put(t, "%sfloat t%d = ew_%s(%s, %s);\n", pad, k, op_fn(s->op), a, b);
        else put(t, "%sfloat t%d = ew_%s(%s, P%d_0, P%d_1);\n", pad, k, op_fn(s->op), a, k, k);
        if (s->out >= 0) put(t, "%sY%d[yo%d + %s] = t%d;\n", pad, s->out, s->out, at, k);
    }
}

/* The call's parameters, each after ", ": declared (decl), or only named,
 * as a chained kernel passes its own (prefix) to a stage's function */
static void put_params_as(text *t, const clgan_fused *f, const char *prefix, bool decl) {
    const char *y = decl ? "__global float *" : "", *l = decl ? "__global const float *" : "";
    const char *i = decl ? "const int " : "", *fl = decl ? "const float " : "", *x = prefix;
    for (int o = 0; o < f->nouts; o++) put(t, ", %s%sY%d, %s%syo%d", y, x, o, i, x, o);
    for (int j = 0; j < f->nleaves; j++) {
        put(t, ", %s%sL%d, %s%slo%d", l, x, j, i, x, j);
        put(t, ", %s%sLM%d, %s%sLI%d", i, x, j, i, x, j);
    }
    for (int k = 0; k < f->nsteps; k++)
        if (has_params(f->step[k].op)) put(t, ", %s%sP%d_0, %s%sP%d_1", fl, x, k, fl, x, k);
}

static void put_params(text *t, const clgan_fused *f) { put_params_as(t, f, "", true); }

/* The kept elements a CPU sum's work-item adds: 1, or SUM_COLS side by side */
static int sum_cpu_block(const clgan_fused *f) { return f->inner >= SUM_ROWS_MIN_INNER ? 1 : SUM_COLS; }

/* The epilogue of a sum whose value for kept element m is sv: stores it
 * (scratch when in parts; sum_out, or out[sum_store] and the epilogue steps,
 * when whole). */
static void put_sum_end(text *t, const clgan_fused *f, const char *pad, bool whole) {
    int pro = f->nsteps - f->nepi;
    if (f->nepi == 0) {
        put(t, whole ? "%sS[so + m] = sv;\n" : "%sS[so + m * parts + p] = sv;\n", pad);
        return;
    }
    char inner_pad[32];
    snprintf(inner_pad, sizeof inner_pad, "%s%s", pad, whole ? "" : "    ");
    if (!whole) put(t, "%sif (parts > 1) {\n%s    S[so + m * parts + p] = sv;\n%s} else {\n", pad, pad, pad);
    if (f->sum_store >= 0) put(t, "%sY%d[yo%d + m] = sv;\n", inner_pad, f->sum_store, f->sum_store);
    put_steps(t, f, pro, f->nsteps, true, 0, 0, inner_pad);
    if (!whole) put(t, "%s}\n", pad);
}

/* The CPU form's sum of one kept element m's rows, terms k to kend of the
 * flattened (outer, inner) from (o, in), 8 at a time, into sv */
static void put_sum_rows(text *t, const clgan_fused *f) {
    int pro = f->nsteps - f->nepi;
    put(t, "    float s[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, c[8] = {0.0f, 0.0f, 0.0f, 0.0f, "
           "0.0f, 0.0f, 0.0f, 0.0f};\n");
    put(t, "    while (k < kend) {\n");
    put(t, "        int run = min(inner - in, kend - k), base = (o * mid + m) * inner + in, j = 0;\n");
    put(t, "        for (; j + 8 <= run; j += 8)\n            for (int u = 0; u < 8; u++) {\n");
    put(t, "                int i = base + j + u;\n");
    put_steps(t, f, 0, pro, false, f->mid, f->inner, "                ");
    put(t, "                sum_add(&s[u], &c[u], t%d);\n            }\n", pro - 1);
    put(t, "        for (; j < run; j++) {\n            int i = base + j;\n");
    put_steps(t, f, 0, pro, false, f->mid, f->inner, "            ");
    put(t, "            sum_add(&s[0], &c[0], t%d);\n        }\n", pro - 1);
    put(t, "        k += run;\n        in = 0;\n        o++;\n    }\n");
    put(t, "    float sv = 0.0f, cv = 0.0f;\n    for (int u = 0; u < 8; u++) sum_add(&sv, &cv, s[u]);\n");
    put(t, "    for (int u = 0; u < 8; u++) cv += c[u];\n    sv += cv;\n");
}

/* A sum in the CPU form: work-item g = block * parts + p adds part p (chunk
 * terms of the flattened (outer, inner)) of its block's kept elements. */
static void generate_sum_cpu(const clgan_fused *f, text *t) {
    int pro = f->nsteps - f->nepi;
    put(t, "__kernel void NAME(__global float *S, const int so");
    put_params(t, f);
    put(t, ", const int outer, const int mid, const int inner, const int parts, const int chunk) {\n");
    put(t, "    int g = GID0, b = g / parts, p = g - b * parts;\n");
    put(t, "    int k = p * chunk, kend = min(outer * inner, k + chunk);\n");
    put(t, "    int o = k / inner, in = k - o * inner;\n");
    if (sum_cpu_block(f) == 1) {
        /* one kept element: its rows' runs, 8 terms at a time */
        put(t, "    int m = b;\n    if (m >= mid) return;\n");
        put_sum_rows(t, f);
        put_sum_end(t, f, "    ", false);
        put(t, "}\n");
        return;
    }
    /* SUM_COLS kept elements side by side: rows too short to run along */
    put(t, "    int m0 = b * %d, nm = min(%d, mid - m0);\n    if (nm <= 0) return;\n", SUM_COLS, SUM_COLS);
    put(t, "    float s[%d], c[%d];\n    for (int u = 0; u < %d; u++) s[u] = c[u] = 0.0f;\n", SUM_COLS, SUM_COLS,
        SUM_COLS);
    put(t, "    for (; k < kend; k++) {\n        for (int u = 0; u < %d; u++) {\n", SUM_COLS);
    put(t, "            int m = m0 + u, i = (o * mid + m) * inner + in;\n            if (u < nm) {\n");
    put_steps(t, f, 0, pro, false, f->mid, f->inner, "                ");
    put(t, "                sum_add(&s[u], &c[u], t%d);\n            }\n        }\n", pro - 1);
    put(t, "        if (++in == inner) {\n            in = 0;\n            o++;\n        }\n    }\n");
    put(t, "    for (int u = 0; u < nm; u++) {\n        int m = m0 + u;\n        float sv = s[u] + c[u];\n");
    put_sum_end(t, f, "        ", false);
    put(t, "    }\n}\n");
}

/* The parts' sums added in order, then the epilogue (both forms) */
static void generate_sum_fin(const clgan_fused *f, text *t) {
    int pro = f->nsteps - f->nepi;
    put(t, "__kernel void NAME_fin(__global float *S, const int so");
    put_params(t, f);
    put(t, ", const int outer, const int mid, const int inner, const int parts, const int chunk) {\n");
    put(t, "    int m = GID0;\n    if (m >= mid) return;\n    float sv = 0.0f, cv = 0.0f;\n");
    put(t, "    for (int q = 0; q < parts; q++) sum_add(&sv, &cv, S[so + m * parts + q]);\n    sv += cv;\n");
    if (f->sum_store >= 0) put(t, "    Y%d[yo%d + m] = sv;\n", f->sum_store, f->sum_store);
    put_steps(t, f, pro, f->nsteps, true, 0, 0, "    ");
    put(t, "}\n");
}

/* An elementwise call in the CPU form: a work-item per run of RUN floats
 * along the contiguous axis of the primary pattern (see clgan_fused_run) */
static void generate_ew_cpu(const clgan_fused *f, text *t, int pj, int pm, int pi) {
    put(t, "__kernel void NAME(const int n");
    put_params(t, f);
    put(t, ", const int PM, const int PI) {\n");
    if (pj < 0) {
        put(t, "    int i0 = GID0 * %d, i1 = min(n, i0 + %d);\n    for (int i = i0; i < i1; i++) {\n", RUN, RUN);
    } else if (pi > 1) {
        put(t, "    int m = get_global_id(1), o = get_global_id(2);\n");
        put(t, "    int in0 = GID0 * %d, in1 = min(PI, in0 + %d);\n", RUN, RUN);
        put(t, "    for (int in = in0; in < in1; in++) {\n        int i = (o * PM + m) * PI + in;\n");
    } else {
        put(t, "    int o = get_global_id(1), m0 = GID0 * %d, m1 = min(PM, m0 + %d);\n", RUN, RUN);
        put(t, "    for (int m = m0; m < m1; m++) {\n        int i = o * PM + m;\n");
    }
    put_steps(t, f, 0, f->nsteps, false, pm, pi, "        ");
    put(t, "    }\n}\n");
}

/* The kernel's source with NAME for its name. */
static void generate(const clgan_device *d, const clgan_fused *f, text *t) {
    bool cpu = f->cpu_form;
    if (f->sum && cpu) {
        generate_sum_cpu(f, t);
        if (f->nepi) generate_sum_fin(f, t);
        return;
    }
    if (f->sum) {
        int wg = sum_wg(d);
        put(t, "__kernel __attribute__((reqd_work_group_size(%d, 1, 1)))\nvoid NAME(__global float *S, const int so", wg);
        put_params(t, f);
        put(t, ", const int outer, const int mid, const int inner, const int parts, const int chunk) {\n");
        put(t, "    __local float part[%d];\n", wg);
        put(t, "    int g = get_group_id(0), tl = get_local_id(0);\n");
        put(t, "    int m = g / parts, p = g - m * parts;\n");
        put(t, "    int count = outer * inner, k = p * chunk + tl, kend = min(count, (p + 1) * chunk);\n");
        put(t, "    int o = k / inner, in = k - o * inner, so_ = %d / inner, si = %d - so_ * inner;\n", wg, wg);
        put(t, "    float acc = 0.0f;\n");
        put(t, "    for (; k < kend; k += %d) {\n", wg);
        put(t, "        int i = (o * mid + m) * inner + in;\n");
        int pro = f->nsteps - f->nepi;
        put_steps(t, f, 0, pro, false, f->mid, f->inner, "        ");
        put(t, "        acc += t%d;\n", pro - 1);
        put(t, "        in += si;\n        o += so_;\n        if (in >= inner) {\n            in -= inner;\n"
               "            o++;\n        }\n    }\n");
        put(t, "    part[tl] = acc;\n    barrier(CLK_LOCAL_MEM_FENCE);\n");
        put(t, "    for (int s = %d; s > 0; s >>= 1) {\n        if (tl < s) part[tl] += part[tl + s];\n"
               "        barrier(CLK_LOCAL_MEM_FENCE);\n    }\n", wg / 2);
            if (f->nepi == 0) {
            put(t, "    if (tl == 0) S[so + g] = part[0];\n}\n");
            return;
        }
        /* the epilogue: here when the sum is in one part, else in NAME_fin
         * after the parts are added */
        put(t, "    if (tl != 0) return;\n    if (parts > 1) {\n        S[so + g] = part[0];\n        return;\n    }\n");
        put(t, "    float sv = part[0];\n");
        if (f->sum_store >= 0) put(t, "    Y%d[yo%d + m] = sv;\n", f->sum_store, f->sum_store);
        put_steps(t, f, pro, f->nsteps, true, 0, 0, "    ");
        put(t, "}\n");
        generate_sum_fin(f, t);
        return;
    }
    int pj = primary_leaf(f);
    int pm = pj >= 0 ? f->leaf[pj].mid : 0, pi = pj >= 0 ? f->leaf[pj].inner : 0;
    if (cpu) {
        generate_ew_cpu(f, t, pj, pm, pi);
        return;
    }
    put(t, "__kernel void NAME(const int n");
    put_params(t, f);
    put(t, ", const int PM, const int PI) {\n");
    if (pj < 0) {
        put(t, "    int i = GID0;\n    if (i >= n) return;\n");
    } else if (pi > 1) {
        put(t, "    int in = get_global_id(0), m = get_global_id(1), o = get_global_id(2);\n");
        put(t, "    if (in >= PI) return;\n    int i = (o * PM + m) * PI + in;\n");
    } else {
        put(t, "    int m = get_global_id(0), o = get_global_id(1);\n");
        put(t, "    if (m >= PM) return;\n    int i = o * PM + m;\n");
    }
    put_steps(t, f, 0, f->nsteps, false, pm, pi, "    ");
    put(t, "}\n");
}

/* prefix ("fz" for a call, "fc" for a chain), "_" and 16 hex digits of the source's hash */
static void kernel_name(const char *body, const char *prefix, char out[32]) {
    clgan_sha256 h;
    uint8_t dig[32];
    char hex[65];
    clgan_sha256_init(&h);
    clgan_sha256_update(&h, body, strlen(body));
    clgan_sha256_final(&h, dig);
    clgan_sha256_hex(dig, hex);
    snprintf(out, 32, "%s_%.16s", prefix, hex);
}

/* body with every NAME replaced by name, appended to all */
static void put_named(text *all, const char *body, const char *name) {
    const char *s = body, *at;
    while ((at = strstr(s, "NAME")) != NULL) {
        put(all, "%.*s%s", (int)(at - s), s, name);
        s = at + 4;
    }
    put(all, "%s\n", s);
}

/* Names a generated kernel's source `body` (prefix and hash) into kernel,
 * appends it to all unless d or all already has it, and frees body; returns
 * the kernels added (0 or 1). A body that ran out of memory fails all. */
static int add_named(const clgan_device *d, text *all, text *body, const char *prefix, char kernel[32]) {
    int added = 0;
    if (body->failed) all->failed = true;
    else {
        kernel_name(body->s, prefix, kernel);
        if (!clgan_cl_find_kernel(d, kernel) && !(all->s && strstr(all->s, kernel))) {
            put_named(all, body->s, kernel);
            added = 1;
        }
    }
    free(body->s);
    return added;
}

static clgan_status build_generated(clgan_device *d, text *all, int added, const char *what);

clgan_status clgan_fused_prepare(clgan_device *d, clgan_fused *f, int n) {
    if (!clgan_fused_available(d))
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s cannot build generated kernels", d->info.id);
    text all = {0};
    int added = 0;
    for (int c = 0; c < n; c++) {
        text body = {0};
        f[c].cpu_form = clgan_cl_cpu_forms(d); /* fixed here: run launches what was generated */
        generate(d, &f[c], &body);
        added += add_named(d, &all, &body, "fz", f[c].kernel);
        if (f[c].sum) {
            /* parts: on GPUs enough work-groups for twice the compute units,
             * each part at least MIN_TERMS_PER_ITEM terms per work-item; in
             * the CPU form enough work-items for 8 per compute unit, each
             * part at least SUM_CPU_MIN_PART terms */
            long count = (long)f[c].outer * f[c].inner, wg = sum_wg(d);
            long cu = d->info.compute_units ? d->info.compute_units : 1, want, most;
            if (f[c].cpu_form) {
                long blocks = (f[c].mid + sum_cpu_block(&f[c]) - 1) / sum_cpu_block(&f[c]);
                want = (8 * cu + blocks - 1) / blocks;
                most = count / SUM_CPU_MIN_PART;
            } else {
                want = (cu * 2 + f[c].mid - 1) / f[c].mid;
                most = count / (wg * MIN_TERMS_PER_ITEM);
            }
            f[c].parts = (int)(want < most ? want : most);
            if (f[c].parts < 1) f[c].parts = 1;
        }
    }
    return build_generated(d, &all, added, "fused kernels");
}

/* Builds the generated source `all` (added kernels) into one program, and frees it */
static clgan_status build_generated(clgan_device *d, text *all, int added, const char *what) {
    clgan_status st = CLGAN_OK;
    if (all->failed) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory generating %s", what);
    else if (added) {
        const char *dump = getenv("CLGAN_DUMP_KERNELS"); /* developers: the generated source, on stderr */
        if (dump && *dump && strcmp(dump, "0") != 0) fprintf(stderr, "/* generated on %s */\n%s\n", d->info.id, all->s);
        st = clgan_programs_add_generated(d, what, "elementwise.cl", "#define FUSED_ONLY 1\n", all->s);
    }
    free(all->s);
    return st;
}

/* ---- launching ---- */

#define MAX_ARGS (2 + 2 * CLGAN_FUSE_MAX_OUTS + 4 * CLGAN_FUSE_MAX_LEAVES + 2 * CLGAN_FUSE_MAX_STEPS + 8)

typedef struct {
    clgan_cl_arg *a;
    int *ints; /* the int arguments' values, alive until the launch */
    int n, ni;
} arg_list;
/* an argument list of room for cap arguments, on the caller's stack */
#define ARG_LIST(l, cap)                                                                                          \
    clgan_cl_arg l##_args[cap];                                                                                   \
    int l##_ints[cap];                                                                                            \
    arg_list l = {.a = l##_args, .ints = l##_ints, .n = 0, .ni = 0}

static void arg_mem(arg_list *l, cl_mem *m) { l->a[l->n++] = (clgan_cl_arg){sizeof *m, m}; }
static void arg_int(arg_list *l, int v) {
    l->ints[l->ni] = v;
    l->a[l->n++] = (clgan_cl_arg){sizeof(int), &l->ints[l->ni++]};
}
static void arg_float(arg_list *l, const float *v) { l->a[l->n++] = (clgan_cl_arg){sizeof *v, v}; }

static void common_args(arg_list *l, const clgan_fused *f) {
    for (int o = 0; o < f->nouts; o++) {
        arg_mem(l, (cl_mem *)&f->out[o].buf->mem);
        arg_int(l, (int)f->out[o].off);
    }
    for (int j = 0; j < f->nleaves; j++) {
        arg_mem(l, (cl_mem *)&f->leaf[j].t.buf->mem);
        arg_int(l, (int)f->leaf[j].t.off);
        arg_int(l, f->leaf[j].mid ? f->leaf[j].mid : 1);
        arg_int(l, f->leaf[j].inner ? f->leaf[j].inner : 1);
    }
    for (int k = 0; k < f->nsteps; k++)
        if (has_params(f->step[k].op)) {
            arg_float(l, &f->step[k].fp[0]);
            arg_float(l, &f->step[k].fp[1]);
        }
}

static size_t pow2_at_least(size_t x, size_t cap) {
    size_t p = 1;
    while (p < x && p < cap) p *= 2;
    return p;
}

clgan_status clgan_fused_run(clgan_device *d, const clgan_fused *f) {
    if (f->n == 0) return CLGAN_OK;
    if (f->n > (size_t)INT_MAX - 65536) /* headroom: a CPU-form work-item's run may start past n */
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "fused kernel over %zu elements: more than the 2^31 kernels index", f->n);
    ARG_LIST(l, MAX_ARGS);
    clgan_status st = CLGAN_OK;
    bool cpu = f->cpu_form;
    if (f->sum) {
        int wg = sum_wg(d), parts = f->parts;
        long count = (long)f->outer * f->inner;
        int chunk = (int)(((count + parts - 1) / parts + wg - 1) / wg * wg);
        size_t items = (size_t)f->mid * (size_t)parts * (size_t)wg, local = (size_t)wg;
        if (cpu) { /* a work-item per (block of kept elements, part) */
            chunk = (int)(((count + parts - 1) / parts + 7) / 8 * 8);
            items = (size_t)((f->mid + sum_cpu_block(f) - 1) / sum_cpu_block(f)) * (size_t)parts;
            local = clgan_cl_cpu_group(d, items);
        }
        cl_mem partial = f->nepi ? NULL : f->sum_out.buf->mem;
        int po = f->nepi ? 0 : (int)f->sum_out.off;
        if (parts > 1 || f->nepi) {
            st = clgan_device_scratch(d, (size_t)f->mid * (size_t)parts * sizeof(float), &partial);
            if (st != CLGAN_OK) return st;
            po = 0;
        }
        arg_mem(&l, &partial);
        arg_int(&l, po);
        common_args(&l, f);
        arg_int(&l, f->outer);
        arg_int(&l, f->mid);
        arg_int(&l, f->inner);
        arg_int(&l, parts);
        arg_int(&l, chunk);
        st = clgan_cl_launch(d, f->kernel, items, local, l.n, l.a);
        if (st == CLGAN_OK && parts > 1 && f->nepi) {
            char fin[40];
            snprintf(fin, sizeof fin, "%s_fin", f->kernel);
            st = clgan_cl_launch(d, fin, (size_t)f->mid, 64, l.n, l.a);
        } else if (st == CLGAN_OK && parts > 1) {
            int yo = (int)f->sum_out.off, mid = f->mid;
            clgan_cl_arg args[] = {CLARG(f->sum_out.buf->mem), CLARG(yo), CLARG(partial), CLARG(mid), CLARG(parts)};
            st = clgan_cl_launch(d, "sum_parts_f32", (size_t)mid, 64, 5, args);
        }
        return st;
    }
    int pj = primary_leaf(f);
    int n = (int)f->n;
    arg_int(&l, n);
    common_args(&l, f);
    int pm = pj >= 0 ? f->leaf[pj].mid : 1, pi = pj >= 0 ? f->leaf[pj].inner : 1;
    arg_int(&l, pm);
    arg_int(&l, pi);
    size_t outer = f->n / ((size_t)(pj >= 0 ? pm : 1) * (size_t)(pj >= 0 ? pi : 1));
    if (cpu) {
        /* runs of RUN along the contiguous axis; exact local sizes along the
         * others (a divisor of theirs), so only the run is bounds-checked */
        size_t runs0 = ((size_t)(pj < 0 ? (int)f->n : pi > 1 ? pi : pm) + RUN - 1) / RUN;
        if (pj < 0) return clgan_cl_launch(d, f->kernel, runs0, clgan_cl_cpu_group(d, runs0), l.n, l.a);
        size_t global[3] = {runs0, pi > 1 ? (size_t)pm : outer, outer}, local[3] = {1, 1, 1};
        size_t want = clgan_cl_cpu_group(d, runs0 * global[1] * (pi > 1 ? outer : 1));
        for (size_t k = 1; k <= want && k <= global[1]; k++)
            if (global[1] % k == 0) local[1] = k;
        return clgan_cl_launchn(d, f->kernel, pi > 1 ? 3 : 2, global, local, l.n, l.a);
    }
    size_t wg = EW_WG;
    if (clgan_cl_max_wg(d) < wg) wg = clgan_cl_max_wg(d);
    if (pj < 0) return clgan_cl_launch(d, f->kernel, f->n, wg, l.n, l.a);
    size_t global[3] = {(size_t)(pi > 1 ? pi : pm), pi > 1 ? (size_t)pm : outer, outer};
    size_t local[3] = {1, 1, 1};
    /* GPUs: work-groups along the contiguous axis, a power of two, rounded
     * up (the kernel checks the bound) */
    local[0] = pow2_at_least(global[0], wg);
    return clgan_cl_launchn(d, f->kernel, pi > 1 ? 3 : 2, global, local, l.n, l.a);
}

/* ---- chains (fused.h) ---- */

/* CL_DEVICE_MAX_PARAMETER_SIZE's least value on a full-profile device */
enum { CHAIN_MAX_PARAM_BYTES = 1024, CHAIN_MAX_ARGS = 3 + CLGAN_FUSE_MAX_CHAIN * (MAX_ARGS + 2) };

/* a sum the CPU form adds in one part, a work-item per kept element */
static bool whole_rows_sum(const clgan_fused *f) {
    return f->sum && f->cpu_form && f->parts == 1 && sum_cpu_block(f) == 1;
}

bool clgan_fused_chain_starts(const clgan_fused *f) {
    return f->n > 0 && whole_rows_sum(f);
}

/* a stage's own kernel parameters: a sum's value when it has no epilogue (S, so), then the call's */
static bool stage_has_s(const clgan_fused *f) { return f->sum && f->nepi == 0; }

static size_t stage_param_bytes(const clgan_fused *f) {
    size_t b = (size_t)f->nouts * (sizeof(cl_mem) + sizeof(int)) + (size_t)f->nleaves * (sizeof(cl_mem) + 3 * sizeof(int));
    for (int k = 0; k < f->nsteps; k++)
        if (has_params(f->step[k].op)) b += 2 * sizeof(float);
    return b + (stage_has_s(f) ? sizeof(cl_mem) + sizeof(int) : 0);
}

typedef struct {
    const clgan_buffer *buf;
    size_t lo, hi; /* floats */
} span;

static span span_of(const clgan_op_tensor *t) { return (span){t->buf, t->off, t->off + clgan_op_numel(t)}; }
static bool overlap(span a, span b) { return a.buf == b.buf && a.lo < b.hi && b.lo < a.hi; }

/* what call f writes: its outputs (a running statistic's update among
 * them), and a sum's value without an epilogue */
static int writes_of(const clgan_fused *f, span *w) {
    int n = 0;
    for (int o = 0; o < f->nouts; o++) w[n++] = span_of(&f->out[o]);
    if (stage_has_s(f)) w[n++] = span_of(&f->sum_out);
    return n;
}

/* Whether leaf j of stage f reads, for kept element m of the space (n
 * floats, mid kept elements of inner), only what belongs to m: element m
 * of a tensor of mid floats, or m's terms of one of n */
static bool leaf_local(const clgan_fused *f, int j, size_t n, int mid, int inner) {
    const clgan_fused_leaf *l = &f->leaf[j];
    size_t numel = clgan_op_numel(&l->t);
    if (l->epi) return l->mid == 0 && numel == (size_t)mid;
    if (l->mid == 0) return numel == n;
    return l->mid == mid && l->inner == inner && numel == (size_t)mid;
}

bool clgan_fused_chain_accepts(const clgan_fused *calls, const clgan_fused_chain *ch, const clgan_fused *f) {
    if (ch->n < 1 || ch->n >= CLGAN_FUSE_MAX_CHAIN || f->n == 0 || !f->cpu_form) return false;
    const clgan_fused *h = &calls[ch->call[0]];
    if (f->n != h->n) return false;
    if (f->sum && (!whole_rows_sum(f) || f->outer != h->outer || f->mid != h->mid || f->inner != h->inner))
        return false;
    size_t bytes = 3 * sizeof(int) + stage_param_bytes(f);
    for (int c = 0; c < ch->n; c++) bytes += stage_param_bytes(&calls[ch->call[c]]);
    if (bytes > CHAIN_MAX_PARAM_BYTES) return false;
    span fw[CLGAN_FUSE_MAX_OUTS + 1], rw[CLGAN_FUSE_MAX_OUTS + 1];
    int nfw = writes_of(f, fw);
    for (int c = 0; c < ch->n; c++) {
        const clgan_fused *r = &calls[ch->call[c]];
        int nrw = writes_of(r, rw);
        /* f's writes may not touch what an earlier stage writes or reads:
         * another work-item may not have run that stage yet */
        for (int a = 0; a < nfw; a++) {
            for (int b = 0; b < nrw; b++)
                if (overlap(fw[a], rw[b])) return false;
            for (int j = 0; j < r->nleaves; j++)
                if (overlap(fw[a], span_of(&r->leaf[j].t))) return false;
        }
        /* what f reads of an earlier stage's writes: only m's own, whole tensors */
        for (int j = 0; j < f->nleaves; j++) {
            span l = span_of(&f->leaf[j].t);
            for (int b = 0; b < nrw; b++)
                if (overlap(l, rw[b]) &&
                    !(l.lo == rw[b].lo && l.hi == rw[b].hi && leaf_local(f, j, h->n, h->mid, h->inner)))
                    return false;
        }
    }
    return true;
}

static void put_stage_params(text *t, const clgan_fused *f, const char *prefix, bool decl) {
    if (stage_has_s(f)) put(t, decl ? ", __global float *%sS, const int %sso" : ", %sS, %sso", prefix, prefix);
    put_params_as(t, f, prefix, decl);
}

/* Stage k of a chain: a function that runs call f for kept element m */
static void generate_stage(const clgan_fused *f, int k, int mid, int inner, text *t) {
    put(t, "void NAME_s%d(const int m, const int outer, const int mid, const int inner", k);
    put_stage_params(t, f, "", true);
    put(t, ") {\n");
    if (f->sum) {
        put(t, "    int k = 0, kend = outer * inner, o = 0, in = 0;\n");
        put_sum_rows(t, f);
        put_sum_end(t, f, "    ", true);
    } else {
        put(t, "    for (int o = 0; o < outer; o++)\n        for (int in = 0; in < inner; in++) {\n");
        put(t, "            int i = (o * mid + m) * inner + in;\n");
        put_steps(t, f, 0, f->nsteps, false, mid, inner, "            ");
        put(t, "        }\n");
    }
    put(t, "}\n");
}

static void stage_prefix(int k, char out[8]) { snprintf(out, 8, "a%d_", k); }

/* The chain's kernel: a work-item per kept element runs the stages in turn */
static void generate_chain(const clgan_fused *calls, const clgan_fused_chain *ch, text *t) {
    const clgan_fused *h = &calls[ch->call[0]];
    char px[8];
    for (int k = 0; k < ch->n; k++) generate_stage(&calls[ch->call[k]], k, h->mid, h->inner, t);
    put(t, "__kernel void NAME(const int outer, const int mid, const int inner");
    for (int k = 0; k < ch->n; k++) {
        stage_prefix(k, px);
        put_stage_params(t, &calls[ch->call[k]], px, true);
    }
    put(t, ") {\n    int m = GID0;\n    if (m >= mid) return;\n");
    for (int k = 0; k < ch->n; k++) {
        stage_prefix(k, px);
        put(t, "    NAME_s%d(m, outer, mid, inner", k);
        put_stage_params(t, &calls[ch->call[k]], px, false);
        put(t, ");\n");
    }
    put(t, "}\n");
}

/* (after clgan_fused_prepare of the calls: the device builds generated kernels) */
clgan_status clgan_fused_prepare_chains(clgan_device *d, const clgan_fused *calls, clgan_fused_chain *ch, int n) {
    text all = {0};
    int added = 0;
    for (int c = 0; c < n; c++) {
        text body = {0};
        generate_chain(calls, &ch[c], &body);
        added += add_named(d, &all, &body, "fc", ch[c].kernel);
    }
    return build_generated(d, &all, added, "chained kernels");
}

clgan_status clgan_fused_run_chain(clgan_device *d, const clgan_fused *calls, const clgan_fused_chain *ch) {
    const clgan_fused *h = &calls[ch->call[0]];
    ARG_LIST(l, CHAIN_MAX_ARGS);
    arg_int(&l, h->outer);
    arg_int(&l, h->mid);
    arg_int(&l, h->inner);
    for (int k = 0; k < ch->n; k++) {
        const clgan_fused *f = &calls[ch->call[k]];
        if (stage_has_s(f)) {
            arg_mem(&l, (cl_mem *)&f->sum_out.buf->mem);
            arg_int(&l, (int)f->sum_out.off);
        }
        common_args(&l, f);
    }
    return clgan_cl_launch(d, ch->kernel, (size_t)h->mid, clgan_cl_cpu_group(d, (size_t)h->mid), l.n, l.a);
}
