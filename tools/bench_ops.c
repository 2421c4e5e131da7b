/* bench_ops: the time of single ops at DCGAN sizes (64x64 images, batch 64,
 * nz 100, ngf = ndf = 64), on the reference device and on each OpenCL
 * device in one run, side by side.
 *
 * Each op is called directly (clgan_op_run on a clgan_op_call, as
 * tests/test_ops.c does), so a time is the op alone: no graph, no host
 * transfer. A run is clgan_op_run + clgan_device_finish, timed on the host's
 * monotonic clock; the figure is the median of the timed runs after the
 * warm-up runs (the first OpenCL call of a GEMM shape compiles CLBlast's
 * kernels). Every non-in-place result is compared with ref's, so a fast
 * wrong kernel cannot hide in the table.
 *
 * The convolution shapes are every convolution of a DCGAN-64 training step:
 * with ngf = ndf, the data gradients of D's convolutions are transposed
 * convolutions of G's shapes and those of G's are convolutions of D's, so
 * the forward rows stand for them too; the grad_w rows are the weight
 * gradients.
 *
 * --gemm-shapes times, instead, every GEMM shape of one DCGAN-28 training
 * step (traced from a real D step + G step) on the device's native path, on
 * CLBlast untuned and tuned, and on OpenBLAS called directly on the host
 * (see run_gemm_shapes and tools/README.md).
 *
 * Performance targets belong here, never in the unit tests. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#endif

#include "bench_util.h"
#include "cli/cli.h"
#include "clgan/runtime.h"
#include "clgan/train.h"
#include "ops/ops.h"
#include "runtime/device_impl.h" /* clgan_cl_sgemm and the buffers' cl_mem (--gemm-shapes), as gemm_tune.c */

#include <cblas.h> /* OpenBLAS's (the library's dependency): direct host calls and openblas_set_num_threads */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CASES 64
#define MAX_DEVICES 16
#define HEAVY_FLOP 1e9 /* ref times a case this large once by default */

enum { DOM_SIGNED, DOM_POS }; /* input values: uniform in [-1, 1) or in (0, 1] */
enum { RATE_FLOP, RATE_BYTE };

typedef struct {
    char label[32];   /* "conv2d D1" */
    char shapes[96];  /* "(64,64,32,32) (128,64,4,4) s2p1 -> (64,128,16,16)" */
    clgan_op_call call; /* shapes and parameters; buffers are set per device */
    int dom[CLGAN_OP_MAX_IN];
    int rate;         /* how the rate column reads */
    double flop;      /* 2 per multiply-add, taps on the padding included */
    double bytes;     /* each input read once, the output written once */
} bench_case;

static bench_case cases[MAX_CASES];
static int ncases;

/* ---- the cases ---- */

static size_t numel4(int ndim, const int *shape) { return clgan_shape_numel(ndim, shape); }

/* appends to the string in buf (cap bytes), truncating */
static void append(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t cap, const char *fmt, ...) {
    size_t at = strlen(buf);
    if (at + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + at, cap - at, fmt, ap);
    va_end(ap);
}

/* "(64,3,64,64)" */
static void shape_text(const clgan_op_tensor *t, char *out, size_t cap) {
    out[0] = '\0';
    append(out, cap, "(");
    for (int i = 0; i < t->ndim; i++) append(out, cap, i ? ",%d" : "%d", t->shape[i]);
    append(out, cap, ")");
}

static clgan_op_tensor tensor_of(int ndim, const int *shape) {
    clgan_op_tensor t = {.ndim = ndim};
    memcpy(t.shape, shape, sizeof(int) * (size_t)ndim);
    return t;
}

/* A new case; its shapes text is the inputs' shapes, then `extra`, then the
 * output's shape. */
static bench_case *add_case(const char *label, clgan_op op, int nin, const clgan_op_tensor *in, const int *dom,
                            clgan_op_tensor out, const char *extra) {
    if (ncases == MAX_CASES) {
        fprintf(stderr, "bench_ops: more than %d cases; raise MAX_CASES\n", MAX_CASES);
        exit(2);
    }
    bench_case *b = &cases[ncases++];
    memset(b, 0, sizeof *b);
    snprintf(b->label, sizeof b->label, "%s", label);
    b->call.op = op;
    b->call.nin = nin;
    for (int k = 0; k < nin; k++) {
        b->call.in[k] = in[k];
        b->dom[k] = dom ? dom[k] : DOM_SIGNED;
        b->bytes += 4.0 * (double)clgan_op_numel(&in[k]);
    }
    b->call.out = out;
    b->rate = RATE_BYTE;
    char s[48];
    for (int k = 0; k < nin; k++) {
        shape_text(&in[k], s, sizeof s);
        append(b->shapes, sizeof b->shapes, "%s%s", k ? " " : "", s);
    }
    if (extra && *extra) append(b->shapes, sizeof b->shapes, " %s", extra);
    if (!clgan_op_is_inplace(op)) {
        shape_text(&out, s, sizeof s);
        append(b->shapes, sizeof b->shapes, "%s-> %s", nin ? " " : "", s);
        b->bytes += 4.0 * (double)clgan_op_numel(&out);
    }
    return b;
}

static int conv_out(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

/* x (n,c,h,w), w (k,c,r,r) -> (n,k,p,q) */
static void add_conv2d(const char *label, int n, int c, int h, int k, int r, int s, int p) {
    int o = conv_out(h, r, s, p);
    clgan_op_tensor in[2] = {tensor_of(4, (int[]){n, c, h, h}), tensor_of(4, (int[]){k, c, r, r})};
    char extra[16];
    snprintf(extra, sizeof extra, "s%dp%d", s, p);
    bench_case *b = add_case(label, CLGAN_OP_CONV2D, 2, in, NULL, tensor_of(4, (int[]){n, k, o, o}), extra);
    b->call.ip[0] = s;
    b->call.ip[1] = p;
    b->call.ip[4] = p; /* the same padding on both axes */
    b->rate = RATE_FLOP;
    b->flop = 2.0 * n * k * o * o * (double)c * r * r;
}

/* x (n,c,h,h), w (c,k,r,r) -> (n,k,ho,ho), ho = (h-1)s - 2p + r */
static void add_conv_t2d(const char *label, int n, int c, int h, int k, int r, int s, int p) {
    int o = (h - 1) * s - 2 * p + r;
    clgan_op_tensor in[2] = {tensor_of(4, (int[]){n, c, h, h}), tensor_of(4, (int[]){c, k, r, r})};
    char extra[16];
    snprintf(extra, sizeof extra, "s%dp%d", s, p);
    bench_case *b = add_case(label, CLGAN_OP_CONV_T2D, 2, in, NULL, tensor_of(4, (int[]){n, k, o, o}), extra);
    b->call.ip[0] = s;
    b->call.ip[1] = p;
    b->call.ip[4] = p; /* the same padding on both axes */
    b->rate = RATE_FLOP;
    b->flop = 2.0 * n * c * h * h * (double)k * r * r;
}

/* x (n,c,h,h), dy (n,k,o,o) -> dw (k,c,r,r): the weight gradient of the
 * conv2d x * w -> dy. For a transposed convolution's weight, x is its
 * output gradient and dy its input. */
static void add_grad_w(const char *label, int n, int c, int h, int k, int r, int s, int p) {
    int o = conv_out(h, r, s, p);
    clgan_op_tensor in[2] = {tensor_of(4, (int[]){n, c, h, h}), tensor_of(4, (int[]){n, k, o, o})};
    char extra[16];
    snprintf(extra, sizeof extra, "s%dp%d", s, p);
    bench_case *b = add_case(label, CLGAN_OP_CONV2D_GRAD_W, 2, in, NULL, tensor_of(4, (int[]){k, c, r, r}), extra);
    b->call.ip[0] = s;
    b->call.ip[1] = p;
    b->call.ip[4] = p; /* the same padding on both axes */
    b->rate = RATE_FLOP;
    b->flop = 2.0 * n * k * o * o * (double)c * r * r;
}

/* C (m,n) = op(A) op(B) with A stored (m,k) or, transposed, (k,m) */
static void add_matmul(const char *label, int m, int n, int k, bool ta, bool tb) {
    clgan_op_tensor in[2] = {tensor_of(2, ta ? (int[]){k, m} : (int[]){m, k}),
                             tensor_of(2, tb ? (int[]){n, k} : (int[]){k, n})};
    const char *extra = ta && tb ? "A^T B^T" : ta ? "A^T" : tb ? "B^T" : "";
    bench_case *b = add_case(label, CLGAN_OP_MATMUL, 2, in, NULL, tensor_of(2, (int[]){m, n}), extra);
    b->call.ip[0] = ta;
    b->call.ip[1] = tb;
    b->rate = RATE_FLOP;
    b->flop = 2.0 * m * n * (double)k;
}

static void add_unary(const char *label, clgan_op op, int ndim, const int *shape, float p0) {
    clgan_op_tensor x = tensor_of(ndim, shape);
    bench_case *b = add_case(label, op, 1, &x, NULL, x, "");
    b->call.fp[0] = p0;
}

/* a (outer, mid, inner) op b (mid); b the same shape as a when mid is all of it */
static void add_binary(const char *label, clgan_op op, int ndim, const int *shape, int outer, int mid, int inner) {
    clgan_op_tensor in[2] = {tensor_of(ndim, shape), tensor_of(1, (int[]){mid})};
    if ((size_t)mid == numel4(ndim, shape)) in[1] = in[0];
    bench_case *b = add_case(label, op, 2, in, NULL, in[0], "");
    b->call.ip[0] = outer;
    b->call.ip[1] = mid;
    b->call.ip[2] = inner;
}

/* SUM: x (outer, mid, inner) -> (mid); EXPAND: (mid) -> x's shape */
static void add_reduce(const char *label, clgan_op op, int ndim, const int *shape, int outer, int mid, int inner) {
    clgan_op_tensor big = tensor_of(ndim, shape), small = tensor_of(1, (int[]){mid});
    bench_case *b = op == CLGAN_OP_SUM ? add_case(label, op, 1, &big, NULL, small, "")
                                       : add_case(label, op, 1, &small, NULL, big, "");
    b->call.ip[0] = outer;
    b->call.ip[1] = mid;
    b->call.ip[2] = inner;
}

static void add_adam(const char *label, int n) {
    clgan_op_tensor t = tensor_of(1, (int[]){n});
    clgan_op_tensor in[4] = {t, t, t, t};
    bench_case *b = add_case(label, CLGAN_OP_ADAM, 4, in, (int[]){DOM_SIGNED, DOM_SIGNED, DOM_SIGNED, DOM_POS}, t, "");
    snprintf(b->shapes, sizeof b->shapes, "p, g, m, v (%d), in place", n);
    /* step 10 of Adam(2e-4, 0.5, 0.999), the DCGAN settings */
    const float fp[7] = {2e-4f, 0.5f, 0.999f, 1e-8f, 1.0f - 0.0009765625f, 0.00995512f, 0.0f};
    memcpy(b->call.fp, fp, sizeof fp);
    /* reads p g m v, writes p m v */
    b->bytes = 28.0 * n;
}

static void add_randn(const char *label, int ndim, const int *shape) {
    bench_case *b = add_case(label, CLGAN_OP_RANDN, 0, NULL, NULL, tensor_of(ndim, shape), "");
    b->call.seed = 42;
    b->call.offset = 7u * 65536u;
}

static void build_cases(void) {
    enum { N = 64, NZ = 100, NF = 64 };
    /* D: 64 -> 32 -> 16 -> 8 -> 4 -> 1 logit */
    add_conv2d("conv2d D0", N, 3, 64, NF, 4, 2, 1);
    add_conv2d("conv2d D1", N, NF, 32, 2 * NF, 4, 2, 1);
    add_conv2d("conv2d D2", N, 2 * NF, 16, 4 * NF, 4, 2, 1);
    add_conv2d("conv2d D3", N, 4 * NF, 8, 8 * NF, 4, 2, 1);
    add_conv2d("conv2d D4", N, 8 * NF, 4, 1, 4, 1, 0);
    /* G: z (1x1) -> 4 -> 8 -> 16 -> 32 -> 64 */
    add_conv_t2d("conv_t2d G0", N, NZ, 1, 8 * NF, 4, 1, 0);
    add_conv_t2d("conv_t2d G1", N, 8 * NF, 4, 4 * NF, 4, 2, 1);
    add_conv_t2d("conv_t2d G2", N, 4 * NF, 8, 2 * NF, 4, 2, 1);
    add_conv_t2d("conv_t2d G3", N, 2 * NF, 16, NF, 4, 2, 1);
    add_conv_t2d("conv_t2d G4", N, NF, 32, 3, 4, 2, 1);
    /* weight gradients of D's convolutions: x is the layer's input */
    add_grad_w("grad_w D0", N, 3, 64, NF, 4, 2, 1);
    add_grad_w("grad_w D1", N, NF, 32, 2 * NF, 4, 2, 1);
    add_grad_w("grad_w D2", N, 2 * NF, 16, 4 * NF, 4, 2, 1);
    add_grad_w("grad_w D3", N, 4 * NF, 8, 8 * NF, 4, 2, 1);
    add_grad_w("grad_w D4", N, 8 * NF, 4, 1, 4, 1, 0);
    /* weight gradients of G's transposed convolutions: x is the layer's
     * output gradient, dy its input, dw (C_in, C_out, 4, 4) */
    add_grad_w("grad_w G0", N, 8 * NF, 4, NZ, 4, 1, 0);
    add_grad_w("grad_w G1", N, 4 * NF, 8, 8 * NF, 4, 2, 1);
    add_grad_w("grad_w G2", N, 2 * NF, 16, 4 * NF, 4, 2, 1);
    add_grad_w("grad_w G3", N, NF, 32, 2 * NF, 4, 2, 1);
    add_grad_w("grad_w G4", N, 3, 64, NF, 4, 2, 1);
    /* linear layers x W^T of the MLP GAN (100 -> 128 -> 128 -> 1024 -> 1024 -> 784),
     * their gradients, and a square GEMM for the device's peak */
    add_matmul("matmul z W^T", N, 1024, NZ, false, true);
    add_matmul("matmul fc W^T", N, 1024, 1024, false, true);
    add_matmul("matmul out W^T", N, 784, 1024, false, true);
    add_matmul("matmul dy W", N, 1024, 1024, false, false);
    add_matmul("matmul dy^T x", 1024, 1024, N, true, false);
    add_matmul("matmul square", 1024, 1024, 1024, false, false);
    /* elementwise and BatchNorm pieces on D1's input (64,64,32,32) */
    const int act[4] = {N, NF, 32, 32};
    const int hw = 32 * 32;
    add_binary("add channel bias", CLGAN_OP_ADD, 4, act, N, NF, hw);
    add_binary("mul", CLGAN_OP_MUL, 4, act, 1, N * NF * hw, 1);
    add_binary("mul channel", CLGAN_OP_MUL, 4, act, N, NF, hw);
    add_unary("leaky_relu", CLGAN_OP_LEAKY_RELU, 4, act, 0.2f);
    add_unary("relu", CLGAN_OP_RELU, 4, act, 0.0f);
    add_unary("tanh", CLGAN_OP_TANH, 4, act, 0.0f);
    add_unary("copy", CLGAN_OP_COPY, 4, act, 0.0f);
    add_reduce("sum channels", CLGAN_OP_SUM, 4, act, N, NF, hw);
    add_reduce("expand channels", CLGAN_OP_EXPAND, 4, act, N, NF, hw);
    /* DCGAN-64's generator: 3,576,704 parameters (convolutions + BatchNorm) */
    add_adam("adam G params", 3576704);
    add_randn("randn z", 2, (int[]){N, NZ});
}

/* ---- timing ---- */

typedef struct {
    bool ok;
    int runs, warmup;
    double med, min, max; /* ms */
    double nmse;          /* against ref; NAN when not compared */
} result;

/* Runs the case on d: `warmup` untimed runs, then `runs` timed ones (each
 * ending with clgan_device_finish). *y gets the output (malloc'd) unless the
 * op works in place. */
static clgan_status time_case(clgan_device *d, const bench_case *bc, float *const *host_in, int warmup, int runs,
                              double *ms, float **y) {
    clgan_op_call call = bc->call;
    clgan_buffer *bufs[CLGAN_OP_MAX_IN] = {0}, *out = NULL;
    bool inplace = clgan_op_is_inplace(call.op);
    clgan_status st = CLGAN_OK;
    *y = NULL;
    for (int k = 0; k < call.nin && st == CLGAN_OK; k++) {
        size_t bytes = clgan_op_numel(&call.in[k]) * sizeof(float);
        st = clgan_buffer_alloc(d, bytes, &bufs[k]);
        if (st == CLGAN_OK) st = clgan_buffer_write(bufs[k], 0, host_in[k], bytes);
        call.in[k].buf = bufs[k];
    }
    if (st == CLGAN_OK && !inplace) {
        st = clgan_buffer_alloc(d, clgan_op_numel(&call.out) * sizeof(float), &out);
        call.out.buf = out;
    }
    for (int i = 0; i < warmup && st == CLGAN_OK; i++) {
        st = clgan_op_run(d, &call);
        if (st == CLGAN_OK) st = clgan_device_finish(d);
    }
    for (int i = 0; i < runs && st == CLGAN_OK; i++) {
        double t0 = now_ms();
        st = clgan_op_run(d, &call);
        if (st == CLGAN_OK) st = clgan_device_finish(d);
        ms[i] = now_ms() - t0;
    }
    if (st == CLGAN_OK && !inplace) {
        size_t n = clgan_op_numel(&call.out);
        *y = malloc(n * sizeof **y);
        if (!*y) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %zu floats", n);
        else st = clgan_buffer_read(out, 0, *y, n * sizeof **y);
        if (st != CLGAN_OK) {
            free(*y);
            *y = NULL;
        }
    }
    for (int k = 0; k < call.nin; k++) clgan_buffer_free(bufs[k]);
    clgan_buffer_free(out);
    return st;
}

/* sum (a - b)^2 / sum a^2 */
static double nmse(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)a[i] * a[i];
    }
    return den > 0 ? num / den : num;
}

static double tolerance(clgan_op op) {
    switch (op) {
    case CLGAN_OP_MATMUL:
    case CLGAN_OP_CONV2D:
    case CLGAN_OP_CONV_T2D:
    case CLGAN_OP_CONV2D_GRAD_W: return 5e-4;
    default: return 1e-6; /* tanh, randn: the device's own tanh, log, cos */
    }
}

/* ---- options ---- */

typedef struct {
    const char *devices[MAX_DEVICES];
    int ndevices;
    int repeat, ref_repeat, warmup; /* ref_repeat < 0: automatic */
    bool repeat_set, ref_repeat_set;
    const char *filter;
    bool csv, list;
    bool gemm_shapes;  /* the GEMM table instead of the op cases */
    double peak;       /* --peak-gflops; 0: from /proc/cpuinfo */
    int host_threads;  /* OpenBLAS's threads for the direct host calls; 0: the online cores */
} options;

/* The options, through the CLI's option code (src/cli/options.c) */
static int parse_options(int argc, char **argv, options *o) {
    *o = (options){.repeat = 5, .ref_repeat = -1, .warmup = 1};
    cli_opt opts[] = {
        {"device", "D...", NULL, NULL, "an OpenCL device to time: P:D, gpu, cpu, a name substring (clgan devices); "
                                       "repeat it or separate with commas; 'ref' alone times only ref. Default: every "
                                       "OpenCL device", NULL, false},
        {"repeat", "K", NULL, "5", "timed runs per case on OpenCL devices (median reported; 9 with --gemm-shapes)",
         NULL, false},
        {"ref-repeat", "K", NULL, NULL, "timed runs on ref; 0 skips ref. Default: --repeat, but 1 for cases of 1 "
                                        "GFLOP or more (seconds each on ref; a single run has no warm-up)", NULL, false},
        {"warmup", "W", NULL, "1", "untimed runs before timing", NULL, false},
        {"filter", "S", NULL, NULL, "only cases whose label, op or shapes contain S (case-insensitive)", NULL, false},
        {"csv", NULL, NULL, NULL, "one CSV row per case and device on stdout (notes go to stderr)", NULL, false},
        {"list", NULL, NULL, NULL, "list the cases and exit", NULL, false},
        {"gemm-shapes", NULL, NULL, NULL, "instead of the op cases: every distinct GEMM shape of one DCGAN-28 training "
                                          "step (D step + G step of the default config, traced), timed on one OpenCL "
                                          "device's native path, CLBlast untuned (no_tune) and tuned (when a tune "
                                          "record exists), and OpenBLAS called directly on the host", NULL, false},
        {"peak-gflops", "G", NULL, NULL, "the FMA peak for the %-of-peak figures (default: cores x 2 FMA units x the "
                                         "floats of a vector (16 with avx512f, 8 with avx) x 2 flops x \"cpu MHz\" of "
                                         "/proc/cpuinfo)", NULL, false},
        {"host-threads", "N", NULL, NULL, "OpenBLAS's threads for the direct host calls (default: the online cores)",
         NULL, false},
    };
    cli_command c = {"bench_ops", "Times single ops at DCGAN-64 sizes (batch 64) on ref and on OpenCL devices, side by "
                                  "side; or, with --gemm-shapes, the GEMMs of a DCGAN-28 step on every path.",
                     "[--device D]... [--repeat K] [--filter S] [--csv] [--list] | --gemm-shapes ...", opts,
                     (int)(sizeof opts / sizeof *opts)};
    cli_program = "bench_ops";
    bool help = false;
    int rc = cli_parse(&c, argc, argv, &help);
    if (rc != CLI_OK || help) return rc == CLI_OK ? -1 : rc;
    long v;
    if ((rc = cli_get_long(&c, "repeat", 1, 1000000, &v)) != CLI_OK) return rc;
    o->repeat = (int)v;
    o->repeat_set = cli_given(&c, "repeat");
    if ((rc = cli_get_long(&c, "warmup", 0, 1000000, &v)) != CLI_OK) return rc;
    o->warmup = (int)v;
    if ((o->ref_repeat_set = cli_given(&c, "ref-repeat"))) {
        if ((rc = cli_get_long(&c, "ref-repeat", 0, 1000000, &v)) != CLI_OK) return rc;
        o->ref_repeat = (int)v;
    }
    if (cli_given(&c, "host-threads")) {
        if ((rc = cli_get_long(&c, "host-threads", 1, 1024, &v)) != CLI_OK) return rc;
        o->host_threads = (int)v;
    }
    if (cli_given(&c, "peak-gflops")) {
        if ((rc = cli_get_double(&c, "peak-gflops", &o->peak)) != CLI_OK) return rc;
        if (!(o->peak > 0 && o->peak < 1e9)) {
            fprintf(stderr, "bench_ops: --peak-gflops %s: expected a number of GFLOP/s above 0\n", cli_get(&c, "peak-gflops"));
            return CLI_USAGE;
        }
    }
    if (cli_given(&c, "device")) o->devices[o->ndevices++] = cli_get(&c, "device");
    o->filter = cli_get(&c, "filter");
    o->csv = cli_flag(&c, "csv");
    o->list = cli_flag(&c, "list");
    o->gemm_shapes = cli_flag(&c, "gemm-shapes");
    if (o->gemm_shapes && (o->filter || o->list || o->ref_repeat_set)) {
        fprintf(stderr, "bench_ops: --gemm-shapes takes no --filter, --list or --ref-repeat\n");
        return CLI_USAGE;
    }
    if (o->gemm_shapes && !o->repeat_set) o->repeat = 9;
    return CLI_OK;
}

static bool contains_ci(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] && tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k])) k++;
        if (k == n) return true;
    }
    return n == 0;
}

static bool selected(const bench_case *b, const char *filter) {
    return !filter || contains_ci(b->label, filter) || contains_ci(clgan_ops[b->call.op].name, filter) ||
           contains_ci(b->shapes, filter);
}

/* ---- output ---- */

static void csv_row(const bench_case *b, const clgan_device_info *info, const result *r, const result *ref) {
    csv_field(b->label);
    putchar(',');
    csv_field(clgan_ops[b->call.op].name);
    putchar(',');
    csv_field(b->shapes);
    putchar(',');
    csv_field(info->id);
    putchar(',');
    csv_field(info->name);
    if (!r->ok) {
        printf(",%d,%d,,,,%.6g,%.6g,,,,\n", r->runs, r->warmup, b->flop * 1e-9, b->bytes * 1e-9);
        return;
    }
    double s = r->med * 1e-3;
    printf(",%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,", r->runs, r->warmup, r->med, r->min, r->max, b->flop * 1e-9,
           b->bytes * 1e-9);
    if (b->flop > 0) printf("%.6g", b->flop * 1e-9 / s);
    printf(",%.6g,", b->bytes * 1e-9 / s);
    if (ref && ref->ok && info->backend != CLGAN_BACKEND_REF) printf("%.6g", ref->med / r->med);
    putchar(',');
    if (!isnan(r->nmse)) printf("%.3g", r->nmse);
    putchar('\n');
}

static void rate_text(const bench_case *b, const result *r, char *out, size_t cap) {
    if (!r->ok) snprintf(out, cap, "-");
    else if (b->rate == RATE_FLOP) snprintf(out, cap, "%.1f GF/s", b->flop * 1e-6 / r->med);
    else snprintf(out, cap, "%.2f GB/s", b->bytes * 1e-6 / r->med);
}

static void ms_text(const result *r, char *out, size_t cap) {
    if (!r->ok) snprintf(out, cap, "error");
    else if (r->med >= 100) snprintf(out, cap, "%.0f", r->med);
    else if (r->med >= 1) snprintf(out, cap, "%.2f", r->med);
    else snprintf(out, cap, "%.3f", r->med);
}

static int label_w = 5, shapes_w = 6;

static void table_header(clgan_device *const *devs, int ndev) {
    printf("%-*s  %-*s  %7s", label_w, "case", shapes_w, "shapes", "GFLOP");
    for (int j = 0; j < ndev; j++) {
        const char *id = clgan_device_get_info(devs[j])->id;
        char h[48];
        snprintf(h, sizeof h, "%s ms", id);
        printf("  %10s", h);
        snprintf(h, sizeof h, "%s rate", id);
        printf("  %11s", h);
        if (clgan_device_get_info(devs[j])->backend != CLGAN_BACKEND_REF) printf("  %7s", "speedup");
    }
    printf("\n");
}

static void table_row(const bench_case *b, clgan_device *const *devs, int ndev, const result *res, const result *ref) {
    char gf[16];
    if (b->flop > 0) snprintf(gf, sizeof gf, "%.3f", b->flop * 1e-9);
    else snprintf(gf, sizeof gf, "-");
    printf("%-*s  %-*s  %7s", label_w, b->label, shapes_w, b->shapes, gf);
    for (int j = 0; j < ndev; j++) {
        char ms[32], rate[32], sp[32] = "-";
        ms_text(&res[j], ms, sizeof ms);
        rate_text(b, &res[j], rate, sizeof rate);
        printf("  %10s  %11s", ms, rate);
        if (clgan_device_get_info(devs[j])->backend == CLGAN_BACKEND_REF) continue;
        if (ref && ref->ok && res[j].ok) {
            double x = ref->med / res[j].med;
            snprintf(sp, sizeof sp, x < 1 ? "%.2fx" : "%.1fx", x);
        }
        printf("  %7s", sp);
    }
    printf("\n");
    fflush(stdout);
}

/* ---- main ---- */

/* Resolves the --device choices into list indices (OpenCL devices only);
 * returns -1 on a bad choice. *ref_only when the only choice was ref. */
static int choose_devices(const clgan_device_list *l, const options *o, int *idx, bool *ref_only) {
    int n = 0;
    *ref_only = false;
    if (o->ndevices == 0) {
        for (int i = 0; i < l->count && n < MAX_DEVICES; i++)
            if (l->items[i].backend == CLGAN_BACKEND_OPENCL) idx[n++] = i;
        return n;
    }
    bool saw_ref = false;
    for (int k = 0; k < o->ndevices; k++) {
        char spec[4096];
        snprintf(spec, sizeof spec, "%s", o->devices[k]);
        for (char *save = NULL, *t = strtok_r(spec, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            int i;
            if (clgan_device_choose(l, t, &i) != CLGAN_OK) {
                fprintf(stderr, "bench_ops: %s\n", clgan_last_error());
                return -1;
            }
            if (l->items[i].backend == CLGAN_BACKEND_REF) {
                saw_ref = true;
                continue;
            }
            bool dup = false;
            for (int j = 0; j < n; j++) dup |= idx[j] == i;
            if (!dup && n < MAX_DEVICES) idx[n++] = i;
        }
    }
    *ref_only = saw_ref && n == 0;
    return n;
}

static float *make_input(const clgan_op_tensor *t, int dom, uint64_t seed) {
    size_t n = clgan_op_numel(t);
    float *x = malloc(n * sizeof *x);
    if (!x) return NULL;
    clgan_rng_uniform(seed, 0, x, n);
    if (dom == DOM_SIGNED)
        for (size_t i = 0; i < n; i++) x[i] = 2.0f * x[i] - 1.0f;
    return x;
}

/* ---- --gemm-shapes: the GEMMs of a DCGAN-28 step, per path ---- */

/* Every distinct GEMM shape of one training step of the default DCGAN
 * (clgan_run_defaults: 28x28x1, ngf = ndf = 64, batch 64, non-saturating
 * loss, Adam), traced with clgan_device_trace_gemm around one D step and one
 * G step, as `clgan tune` traces its shapes (src/cli/cmd_tune.c). Each shape
 * is timed through clgan_cl_sgemm, the function every op's GEMM goes through,
 * on the native path and on CLBlast (as gemm_tune.c times them), and with
 * cblas_sgemm called directly on the host with OpenBLAS's own threads. */

enum { MAX_GEMM_SHAPES = 64 };

typedef struct {
    clgan_gemm_shape s;
    double ms[4];   /* per call, median; < 0 when not measured */
    double nmse[4]; /* against the host's OpenBLAS; NAN when not compared */
} gemm_row;
enum { P_NATIVE, P_CLBLAST, P_TUNED, P_HOST, NPATHS };
static const char *const path_names[NPATHS] = {"native", "clblast", "clblast_tuned", "openblas"};

static double gemm_flop(const clgan_gemm_shape *s) { return 2.0 * s->m * (double)s->n * (double)s->k; }

static void gemm_op_text(const clgan_gemm_shape *s, char *out, size_t cap) {
    snprintf(out, cap, "%s%s%s", s->ta ? "At" : "A", s->tb ? "Bt" : "B", s->accumulate ? "+C" : "");
}

static void gemm_lds(const clgan_gemm_shape *s, size_t *lda, size_t *ldb) {
    *lda = s->ta ? (size_t)s->m : (size_t)s->k; /* A^T is stored (k, m) */
    *ldb = s->tb ? (size_t)s->k : (size_t)s->n; /* B^T is stored (n, k) */
}

static clgan_status trace_dcgan_step(clgan_device *d, clgan_gemm_shape *shapes, int cap, int *n, int *batch,
                                     int *width, int *image) {
    clgan_run_config run;
    clgan_run_defaults(&run, CLGAN_MODEL_DCGAN, CLGAN_LOSS_NS);
    const clgan_model_config *m = &run.gan.model;
    *batch = run.gan.batch;
    *width = m->width;
    *image = m->image_size;
    clgan_gan *gan = NULL;
    clgan_status st = clgan_gan_new(&run.gan, d, &gan);
    if (st != CLGAN_OK) return st;
    size_t per = (size_t)m->channels * m->image_size * m->image_size;
    float *x = calloc((size_t)run.gan.batch * per, sizeof *x); /* the pixels do not change the GEMMs */
    if (!x) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_device_trace_gemm(d, shapes, cap, n);
    clgan_step_stats ss;
    if (st == CLGAN_OK) st = clgan_gan_d_step(gan, x, NULL, &ss);
    if (st == CLGAN_OK) st = clgan_gan_g_step(gan, NULL, &ss);
    if (st == CLGAN_OK) st = clgan_device_finish(d);
    clgan_device_trace_gemm(d, NULL, 0, NULL);
    free(x);
    clgan_gan_free(gan);
    return st;
}

/* The operands on a device: A, B and C as large as the largest shape needs */
typedef struct {
    clgan_device *d;
    clgan_buffer *a, *b, *c;
} gemm_bufs;

static void gemm_bufs_free(gemm_bufs *g) {
    clgan_buffer_free(g->a);
    clgan_buffer_free(g->b);
    clgan_buffer_free(g->c);
    memset(g, 0, sizeof *g);
}

static clgan_status gemm_bufs_new(clgan_device *d, size_t amax, size_t bmax, size_t cmax, const float *ha,
                                  const float *hb, gemm_bufs *g) {
    memset(g, 0, sizeof *g);
    g->d = d;
    clgan_status st = clgan_buffer_alloc(d, amax * sizeof(float), &g->a);
    if (st == CLGAN_OK) st = clgan_buffer_alloc(d, bmax * sizeof(float), &g->b);
    if (st == CLGAN_OK) st = clgan_buffer_alloc(d, cmax * sizeof(float), &g->c);
    if (st == CLGAN_OK) st = clgan_buffer_write(g->a, 0, ha, amax * sizeof(float));
    if (st == CLGAN_OK) st = clgan_buffer_write(g->b, 0, hb, bmax * sizeof(float));
    if (st != CLGAN_OK) gemm_bufs_free(g);
    return st;
}

static clgan_status device_gemm(gemm_bufs *g, clgan_gemm_path path, const clgan_gemm_shape *s) {
    size_t lda, ldb;
    gemm_lds(s, &lda, &ldb);
    return clgan_cl_sgemm(g->d, path, s->ta, s->tb, (size_t)s->m, (size_t)s->n, (size_t)s->k, g->a->mem, 0, lda,
                          g->b->mem, 0, ldb, s->accumulate ? 1.0f : 0.0f, g->c->mem, 0, (size_t)s->n);
}

/* Median ms of one call (enqueue + clgan_device_finish) after `warm`
 * untimed ones, then one call on a zeroed C compared with want (op(A) op(B)). */
static clgan_status time_device_gemm(gemm_bufs *g, clgan_gemm_path path, const clgan_gemm_shape *s, int warm,
                                     int runs, double *t, const float *zeros, float *got, const float *want,
                                     double *ms, double *err) {
    clgan_status st = CLGAN_OK;
    for (int i = 0; i < warm && st == CLGAN_OK; i++) {
        st = device_gemm(g, path, s);
        if (st == CLGAN_OK) st = clgan_device_finish(g->d);
    }
    for (int i = 0; i < runs && st == CLGAN_OK; i++) {
        double t0 = now_ms();
        st = device_gemm(g, path, s);
        if (st == CLGAN_OK) st = clgan_device_finish(g->d);
        t[i] = now_ms() - t0;
    }
    size_t cn = (size_t)s->m * (size_t)s->n;
    if (st == CLGAN_OK) st = clgan_buffer_write(g->c, 0, zeros, cn * sizeof(float));
    if (st == CLGAN_OK) st = device_gemm(g, path, s);
    if (st == CLGAN_OK) st = clgan_buffer_read(g->c, 0, got, cn * sizeof(float));
    if (st != CLGAN_OK) return st;
    *ms = median(t, runs);
    *err = nmse(want, got, cn);
    return CLGAN_OK;
}

static void host_gemm(const clgan_gemm_shape *s, const float *a, const float *b, float beta, float *c) {
    size_t lda, ldb;
    gemm_lds(s, &lda, &ldb);
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans, s->m, s->n,
                s->k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, s->n);
}

/* OpenBLAS's threads spin (sched_yield) for about 2^28 cycles (0.1 s here)
 * after a threaded call before they sleep; waiting that out keeps them off
 * the cores the device paths time next (and the driver's workers off the
 * host's). */
static void let_threads_sleep(void) {
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* "cpu MHz" of /proc/cpuinfo, the mean over the processors listed; 0 when absent */
static double cpuinfo_mhz(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[512];
    double sum = 0;
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu MHz", 7) != 0) continue;
        const char *colon = strchr(line, ':');
        double v = colon ? strtod(colon + 1, NULL) : 0;
        if (v > 0) {
            sum += v;
            n++;
        }
    }
    fclose(f);
    return n ? sum / n : 0;
}

/* floats per FMA of the widest vectors the first CPU's flags name (avx512f
 * 16, avx 8, else 4); 8 when /proc/cpuinfo has no flags line */
static int cpuinfo_fma_floats(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 8;
    char line[16384]; /* the flags line: ~1.5 KB on current x86 */
    int floats = 8;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0) continue;
        char *nl = strchr(line, '\n');
        if (nl) *nl = ' ';
        floats = strstr(line, " avx512f ") ? 16 : strstr(line, " avx ") || strstr(line, " avx2 ") ? 8 : 4;
        break;
    }
    fclose(f);
    return floats;
}

static void rate_cell(const gemm_row *r, int p, char *out, size_t cap) {
    if (r->ms[p] < 0) snprintf(out, cap, "-");
    else snprintf(out, cap, "%.1f", gemm_flop(&r->s) * 1e-6 / r->ms[p]);
}

static int run_gemm_shapes(const options *o, const clgan_device_list *l) {
    int idx[MAX_DEVICES];
    bool ref_only;
    int ncl = choose_devices(l, o, idx, &ref_only);
    if (ncl < 0) return 2;
    if (ncl != 1) {
        fprintf(stderr, "bench_ops --gemm-shapes: %s\n",
                ncl == 0 ? "needs an OpenCL device (ref computes GEMMs in plain C and has no GEMM paths)"
                         : "times one OpenCL device at a time; choose one with --device");
        if (ncl == 0 && l->opencl_note[0]) fprintf(stderr, "  (%s)\n", l->opencl_note);
        return ncl == 0 ? 1 : 2;
    }
    const clgan_device_info *info = &l->items[idx[0]];
    FILE *notes = o->csv ? stderr : stdout;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    int host_threads = o->host_threads > 0 ? o->host_threads : (int)cores;
    double mhz = cpuinfo_mhz();
    int floats = cpuinfo_fma_floats();
    double peak = o->peak > 0 ? o->peak : cores * 2.0 * floats * 2.0 * mhz * 1e-3;
    char peak_how[256];
    if (o->peak > 0) snprintf(peak_how, sizeof peak_how, "%.1f GFLOP/s (--peak-gflops)", peak);
    else if (mhz > 0)
        snprintf(peak_how, sizeof peak_how,
                 "%.1f GFLOP/s = %ld cores x 2 FMA units x %d floats x 2 flops x %.0f MHz (\"cpu MHz\" and flags, "
                 "/proc/cpuinfo)",
                 peak, cores, floats, mhz);
    else snprintf(peak_how, sizeof peak_how, "unknown (no \"cpu MHz\" in /proc/cpuinfo; give --peak-gflops)");

    /* untuned first: a tune record's parameters, once applied, hold for the
     * device in the whole process (CLBlastOverrideParameters) */
    clgan_device_options untuned = {.gemm = info->native_kernels ? CLGAN_GEMM_NATIVE : CLGAN_GEMM_CLBLAST,
                                    .no_tune = true};
    clgan_device *d = NULL;
    if (clgan_device_open(info, &untuned, &d) != CLGAN_OK) {
        fprintf(stderr, "bench_ops: open %s (%s): %s\n", info->id, info->name, clgan_last_error());
        return 1;
    }
    clgan_gemm_shape shapes[MAX_GEMM_SHAPES];
    int n = 0, batch = 0, width = 0, image = 0;
    clgan_status tst = trace_dcgan_step(d, shapes, MAX_GEMM_SHAPES, &n, &batch, &width, &image);
    if (tst != CLGAN_OK || n == 0) {
        fprintf(stderr, "bench_ops: tracing a DCGAN step on %s: %s\n", info->id,
                tst != CLGAN_OK ? clgan_last_error() : "no GEMM was traced");
        clgan_device_close(d);
        return 1;
    }
    size_t amax = 1, bmax = 1, cmax = 1;
    for (int i = 0; i < n; i++) {
        size_t ae = (size_t)shapes[i].m * shapes[i].k, be = (size_t)shapes[i].k * shapes[i].n;
        size_t ce = (size_t)shapes[i].m * shapes[i].n;
        if (ae > amax) amax = ae;
        if (be > bmax) bmax = be;
        if (ce > cmax) cmax = ce;
    }
    int runs = o->repeat, warm = o->warmup;
    float *ha = malloc(amax * sizeof *ha), *hb = malloc(bmax * sizeof *hb), *hc = calloc(cmax, sizeof *hc);
    float *want = malloc(cmax * sizeof *want), *got = malloc(cmax * sizeof *got), *zeros = calloc(cmax, sizeof *zeros);
    double *t = malloc((size_t)runs * sizeof *t);
    gemm_row *rows = calloc((size_t)n, sizeof *rows);
    int status = 0, errors = 0, mismatches = 0;
    if (!ha || !hb || !hc || !want || !got || !zeros || !t || !rows) {
        fprintf(stderr, "bench_ops: out of host memory\n");
        status = 1;
        n = 0;
    } else {
        /* values in [-1, 1): zeros would let a kernel skip work */
        clgan_rng_uniform(2024, 0, ha, amax);
        clgan_rng_uniform(2025, 0, hb, bmax);
        for (size_t i = 0; i < amax; i++) ha[i] = 2.0f * ha[i] - 1.0f;
        for (size_t i = 0; i < bmax; i++) hb[i] = 2.0f * hb[i] - 1.0f;
    }
    clgan_gemm_choice dflt; /* what the device takes without --gemm */
    if (clgan_gemm_choose(info, NULL, &dflt) != CLGAN_OK) {
        snprintf(dflt.why, sizeof dflt.why, "%s", clgan_last_error());
        dflt.path = CLGAN_GEMM_AUTO;
        clgan_clear_error();
    }
    fprintf(notes, "clgan %s bench_ops --gemm-shapes: %d distinct GEMM shapes of one DCGAN-%d step (D step + G step; "
                   "batch %d, ngf = ndf = %d, loss ns, Adam), traced on %s\n",
            clgan_version(), n, image, batch, width, info->id);
    fprintf(notes, "  %-6s %s %s (%s; %s; %u compute units)\n", info->id, info->type, info->name,
            info->platform_name, info->device_version, info->compute_units);
    fprintf(notes, "  its GEMM path by default: %s (%s)\n", clgan_gemm_path_name(dflt.path), dflt.why);
    fprintf(notes, "  median of %d calls after %d warm-up, each call enqueue + clFinish on the device paths\n", runs,
            warm);
    fprintf(notes, "  host: %s; direct calls with openblas_set_num_threads(%d), set back to 1 after\n",
            openblas_get_config(), host_threads);
    fprintf(notes, "  peak: %s\n", peak_how);

    gemm_bufs g;
    bool have_bufs = n > 0;
    if (have_bufs && gemm_bufs_new(d, amax, bmax, cmax, ha, hb, &g) != CLGAN_OK) {
        fprintf(stderr, "bench_ops: buffers on %s: %s\n", info->id, clgan_last_error());
        have_bufs = false;
        status = 1;
    }
    for (int i = 0; i < n && have_bufs; i++) {
        gemm_row *r = &rows[i];
        r->s = shapes[i];
        for (int p = 0; p < NPATHS; p++) {
            r->ms[p] = -1;
            r->nmse[p] = NAN;
        }
        const clgan_gemm_shape *s = &r->s;
        size_t cn = (size_t)s->m * (size_t)s->n;
        /* OpenBLAS with its own threads: the reference result, then the timed
         * calls, after a pause for any worker still spinning from the last shape */
        let_threads_sleep();
        openblas_set_num_threads(host_threads);
        memset(want, 0, cn * sizeof *want);
        host_gemm(s, ha, hb, 0.0f, want);
        for (int w = 0; w < warm; w++) host_gemm(s, ha, hb, s->accumulate ? 1.0f : 0.0f, hc);
        for (int k = 0; k < runs; k++) {
            double t0 = now_ms();
            host_gemm(s, ha, hb, s->accumulate ? 1.0f : 0.0f, hc);
            t[k] = now_ms() - t0;
        }
        r->ms[P_HOST] = median(t, runs);
        openblas_set_num_threads(1); /* what the native path's pool set and wants */
        let_threads_sleep();
        const clgan_gemm_path paths[2] = {CLGAN_GEMM_NATIVE, CLGAN_GEMM_CLBLAST};
        for (int p = P_NATIVE; p <= P_CLBLAST; p++) {
            if (paths[p] == CLGAN_GEMM_NATIVE && !info->native_kernels) continue;
            if (time_device_gemm(&g, paths[p], s, warm, runs, t, zeros, got, want, &r->ms[p], &r->nmse[p]) !=
                CLGAN_OK) {
                fprintf(stderr, "bench_ops: GEMM %dx%dx%d on %s: %s\n", s->m, s->n, s->k, path_names[p],
                        clgan_last_error());
                r->ms[p] = -1;
                errors++;
            }
        }
    }
    if (have_bufs) gemm_bufs_free(&g);
    clgan_device_close(d);
    d = NULL;

    /* tuned CLBlast, when the device has a tune record */
    clgan_device_options tuned = {.gemm = CLGAN_GEMM_CLBLAST};
    clgan_gemm_choice tc;
    bool tuned_ok = false;
    if (clgan_gemm_choose(info, &tuned, &tc) != CLGAN_OK) {
        fprintf(stderr, "bench_ops: %s\n", clgan_last_error());
        clgan_clear_error();
    }
    if (n > 0 && tc.tuned) {
        if (clgan_device_open(info, &tuned, &d) != CLGAN_OK) {
            fprintf(stderr, "bench_ops: open %s with its tune record: %s\n", info->id, clgan_last_error());
            errors++;
        } else if (!clgan_device_gemm(d)->tuned) {
            fprintf(notes, "  tune record %s was not applied (see the warning above): no tuned column\n",
                    tc.tune_file);
        } else if (gemm_bufs_new(d, amax, bmax, cmax, ha, hb, &g) != CLGAN_OK) {
            fprintf(stderr, "bench_ops: buffers on %s: %s\n", info->id, clgan_last_error());
            errors++;
        } else {
            tuned_ok = true;
            for (int i = 0; i < n; i++) {
                gemm_row *r = &rows[i];
                const clgan_gemm_shape *s = &r->s;
                memset(want, 0, (size_t)s->m * (size_t)s->n * sizeof *want);
                openblas_set_num_threads(1);
                host_gemm(s, ha, hb, 0.0f, want);
                if (time_device_gemm(&g, CLGAN_GEMM_CLBLAST, s, warm, runs, t, zeros, got, want, &r->ms[P_TUNED],
                                     &r->nmse[P_TUNED]) != CLGAN_OK) {
                    fprintf(stderr, "bench_ops: GEMM %dx%dx%d on tuned CLBlast: %s\n", s->m, s->n, s->k,
                            clgan_last_error());
                    r->ms[P_TUNED] = -1;
                    errors++;
                }
            }
            gemm_bufs_free(&g);
        }
        if (d) clgan_device_close(d);
    }
    if (n > 0)
        fprintf(notes, "  tuned CLBlast: %s\n",
                tuned_ok ? tc.tune_file
                         : tc.tune_file[0] ? "no valid tune record for the device (clgan tune makes one)"
                                           : "no cache folder for a tune record");
    for (int i = 0; i < n; i++)
        for (int p = 0; p < NPATHS; p++)
            if (p != P_HOST && rows[i].ms[p] >= 0 && !(rows[i].nmse[p] <= 1e-6)) {
                fprintf(stderr, "bench_ops: GEMM %dx%dx%d on %s differs from OpenBLAS: nmse %.3g (tolerance 1e-6)\n",
                        rows[i].s.m, rows[i].s.n, rows[i].s.k, path_names[p], rows[i].nmse[p]);
                mismatches++;
            }

    /* the step: count-weighted sums; a path missing a shape has no total */
    double total_ms[NPATHS] = {0}, total_flop = 0;
    int calls = 0, at_half = 0, compared = 0;
    for (int i = 0; i < n; i++) {
        total_flop += gemm_flop(&rows[i].s) * rows[i].s.count;
        calls += rows[i].s.count;
        for (int p = 0; p < NPATHS; p++) {
            if (rows[i].ms[p] < 0) total_ms[p] = -1;
            else if (total_ms[p] >= 0) total_ms[p] += rows[i].ms[p] * rows[i].s.count;
        }
        if (rows[i].ms[P_NATIVE] > 0 && rows[i].ms[P_HOST] > 0) {
            compared++;
            at_half += rows[i].ms[P_HOST] / rows[i].ms[P_NATIVE] >= 0.5;
        }
    }
    if (n == 0)
        for (int p = 0; p < NPATHS; p++) total_ms[p] = -1;

    if (o->csv) {
        printf("row,m,n,k,op,count,gflop");
        for (int p = 0; p < NPATHS; p++) printf(",%s_ms", path_names[p]);
        for (int p = 0; p < NPATHS; p++) printf(",%s_gflop_per_s", path_names[p]);
        printf(",native_over_openblas");
        for (int p = 0; p < P_HOST; p++) printf(",%s_nmse", path_names[p]);
        printf(",peak_gflop_per_s,runs,warmup,host_threads\n");
        for (int i = 0; i <= n; i++) {
            bool step = i == n;
            const gemm_row *r = step ? NULL : &rows[i];
            char op[16] = "";
            if (!step) gemm_op_text(&r->s, op, sizeof op);
            if (step) printf("step,,,,,%d,%.6g", calls, total_flop * 1e-9);
            else printf("shape,%d,%d,%d,%s,%d,%.6g", r->s.m, r->s.n, r->s.k, op, r->s.count, gemm_flop(&r->s) * 1e-9);
            double flop = step ? total_flop : gemm_flop(&r->s);
            for (int p = 0; p < NPATHS; p++) {
                double ms = step ? total_ms[p] : r->ms[p];
                if (ms >= 0) printf(",%.6g", ms);
                else printf(",");
            }
            for (int p = 0; p < NPATHS; p++) {
                double ms = step ? total_ms[p] : r->ms[p];
                if (ms > 0) printf(",%.6g", flop * 1e-6 / ms);
                else printf(",");
            }
            double nat = step ? total_ms[P_NATIVE] : r->ms[P_NATIVE], host = step ? total_ms[P_HOST] : r->ms[P_HOST];
            if (nat > 0 && host > 0) printf(",%.4g", host / nat);
            else printf(",");
            for (int p = 0; p < P_HOST; p++) {
                if (!step && !isnan(r->nmse[p])) printf(",%.3g", r->nmse[p]);
                else printf(",");
            }
            if (peak > 0) printf(",%.6g", peak);
            else printf(",");
            printf(",%d,%d,%d\n", runs, warm, host_threads);
        }
    } else if (n > 0) {
        printf("\nGFLOP/s per path (2 flops per multiply-add); native/OpenBLAS = OpenBLAS's time / native's\n");
        printf("%5s %5s %5s  %-6s %5s %8s  %8s %8s %8s %8s  %9s\n", "m", "n", "k", "op", "calls", "MFLOP", "native",
               "clblast", "tuned", "openblas", "nat/oblas");
        for (int i = 0; i < n; i++) {
            const gemm_row *r = &rows[i];
            char op[16], c[NPATHS][16], ratio[16] = "-";
            gemm_op_text(&r->s, op, sizeof op);
            for (int p = 0; p < NPATHS; p++) rate_cell(r, p, c[p], sizeof c[p]);
            if (r->ms[P_NATIVE] > 0 && r->ms[P_HOST] > 0)
                snprintf(ratio, sizeof ratio, "%.2f", r->ms[P_HOST] / r->ms[P_NATIVE]);
            printf("%5d %5d %5d  %-6s %5d %8.1f  %8s %8s %8s %8s  %9s\n", r->s.m, r->s.n, r->s.k, op, r->s.count,
                   gemm_flop(&r->s) * 1e-6, c[P_NATIVE], c[P_CLBLAST], c[P_TUNED], c[P_HOST], ratio);
        }
        printf("\nstep: %d GEMM calls, %.3f GFLOP\n", calls, total_flop * 1e-9);
        for (int p = 0; p < NPATHS; p++) {
            if (total_ms[p] < 0) {
                printf("  %-14s -\n", path_names[p]);
                continue;
            }
            double rate = total_flop * 1e-6 / total_ms[p];
            printf("  %-14s %8.2f ms  %7.1f GFLOP/s", path_names[p], total_ms[p], rate);
            if (peak > 0) printf("  %5.1f%% of peak", 100.0 * rate / peak);
            printf("\n");
        }
        if (total_ms[P_NATIVE] > 0 && total_ms[P_HOST] > 0)
            printf("  native/OpenBLAS over the step: %.2f; shapes with native >= 50%% of OpenBLAS's rate: %d of %d\n",
                   total_ms[P_HOST] / total_ms[P_NATIVE], at_half, compared);
        printf("  peak: %s\n", peak_how);
    }
    if (mismatches || errors) {
        fprintf(stderr, "bench_ops: %d GEMM result%s from OpenBLAS, %d error%s\n", mismatches,
                mismatches == 1 ? " differs" : "s differ", errors, errors == 1 ? "" : "s");
        status = 1;
    }
    free(ha);
    free(hb);
    free(hc);
    free(want);
    free(got);
    free(zeros);
    free(t);
    free(rows);
    return status;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc; /* -1: --help shown */
    clgan_log_set_level(CLGAN_LOG_WARN);
    build_cases();
    for (int k = 0; k < ncases; k++) {
        if (!selected(&cases[k], o.filter)) continue;
        int lw = (int)strlen(cases[k].label), sw = (int)strlen(cases[k].shapes);
        if (lw > label_w) label_w = lw;
        if (sw > shapes_w) shapes_w = sw;
    }
    if (o.list) {
        for (int k = 0; k < ncases; k++)
            if (selected(&cases[k], o.filter))
                printf("%-*s  %-*s  %s\n", label_w, cases[k].label, shapes_w, cases[k].shapes,
                       clgan_ops[cases[k].call.op].name);
        return 0;
    }

    clgan_device_list l;
    if (clgan_devices_enumerate(&l) != CLGAN_OK) {
        fprintf(stderr, "bench_ops: %s\n", clgan_last_error());
        return 1;
    }
    if (o.gemm_shapes) {
        rc = run_gemm_shapes(&o, &l);
        clgan_device_list_free(&l);
        return rc;
    }
    int idx[MAX_DEVICES];
    bool ref_only;
    int ncl = choose_devices(&l, &o, idx, &ref_only);
    if (ncl < 0) {
        clgan_device_list_free(&l);
        return 2;
    }
    if (ncl == 0 && o.ref_repeat == 0) {
        fprintf(stderr, "bench_ops: --ref-repeat 0 and no OpenCL device: nothing to time\n");
        clgan_device_list_free(&l);
        return 2;
    }
    FILE *notes = o.csv ? stderr : stdout;
    if (ncl == 0 && !ref_only)
        fprintf(notes, "no OpenCL device%s%s%s: timing ref only\n", l.opencl_note[0] ? " (" : "", l.opencl_note,
                l.opencl_note[0] ? ")" : "");

    /* devs[0] is ref unless ref is skipped */
    clgan_device *devs[MAX_DEVICES + 1];
    int ndev = 0, status = 0;
    bool with_ref = o.ref_repeat != 0;
    if (with_ref) {
        if (clgan_device_open(&l.items[l.count - 1], NULL, &devs[ndev]) != CLGAN_OK) {
            fprintf(stderr, "bench_ops: open ref: %s\n", clgan_last_error());
            clgan_device_list_free(&l);
            return 1;
        }
        ndev++;
    }
    for (int k = 0; k < ncl; k++) {
        if (clgan_device_open(&l.items[idx[k]], NULL, &devs[ndev]) != CLGAN_OK) {
            fprintf(stderr, "bench_ops: open %s (%s): %s\n", l.items[idx[k]].id, l.items[idx[k]].name,
                    clgan_last_error());
            status = 1;
            continue;
        }
        ndev++;
    }
    if (ndev == 0) {
        clgan_device_list_free(&l);
        return 1;
    }

    fprintf(notes, "clgan %s bench_ops: median of %d runs after %d warm-up", clgan_version(), o.repeat, o.warmup);
    if (!with_ref) fprintf(notes, "; ref skipped\n");
    else if (o.ref_repeat < 0)
        fprintf(notes, "; ref: %d runs, 1 run without warm-up for cases of >= %.0f GFLOP\n", o.repeat, HEAVY_FLOP * 1e-9);
    else fprintf(notes, "; ref: %d run%s%s\n", o.ref_repeat, o.ref_repeat == 1 ? "" : "s",
                 o.ref_repeat == 1 ? " without warm-up" : "");
    for (int j = 0; j < ndev; j++) {
        const clgan_device_info *in = clgan_device_get_info(devs[j]);
        if (in->backend == CLGAN_BACKEND_REF) fprintf(notes, "  %-6s %s\n", in->id, in->name);
        else
            fprintf(notes, "  %-6s %s %s (%s; %s; %u compute units)\n", in->id, in->type, in->name, in->platform_name,
                    in->device_version, in->compute_units);
    }
    if (o.csv)
        printf("case,op,shapes,device,device_name,runs,warmup,median_ms,min_ms,max_ms,gflop,gbyte,gflop_per_s,"
               "gbyte_per_s,speedup_vs_ref,nmse_vs_ref\n");
    else {
        printf("rate: GFLOP/s for matmul and convolutions (2 per multiply-add, padding taps included), else GB/s of\n"
               "each input read and the output written once; speedup = ref time / device time\n\n");
        table_header(devs, ndev);
    }

    int maxruns = o.repeat > o.ref_repeat ? o.repeat : o.ref_repeat;
    double *ms = malloc((size_t)maxruns * sizeof *ms);
    int mismatches = 0, errors = 0;
    for (int k = 0; k < ncases && ms; k++) {
        const bench_case *b = &cases[k];
        if (!selected(b, o.filter)) continue;
        float *in[CLGAN_OP_MAX_IN] = {0};
        bool ok = true;
        for (int j = 0; j < b->call.nin; j++)
            ok &= (in[j] = make_input(&b->call.in[j], b->dom[j], 1000u + (uint64_t)k * 8u + (uint64_t)j)) != NULL;
        if (!ok) {
            for (int j = 0; j < b->call.nin; j++) free(in[j]);
            errors++;
            fprintf(stderr, "bench_ops: %s: out of host memory for its inputs\n", b->label);
            continue;
        }
        result res[MAX_DEVICES + 1];
        float *ref_y = NULL;
        for (int j = 0; j < ndev; j++) {
            bool is_ref = clgan_device_get_info(devs[j])->backend == CLGAN_BACKEND_REF;
            int runs = o.repeat, warm = o.warmup;
            if (is_ref) {
                runs = o.ref_repeat >= 0 ? o.ref_repeat : b->flop >= HEAVY_FLOP ? 1 : o.repeat;
                if (runs == 1) warm = 0; /* ref compiles nothing; one cold run of seconds is the figure */
            }
            result *r = &res[j];
            *r = (result){.runs = runs, .warmup = warm, .nmse = NAN};
            float *y = NULL;
            clgan_status st = time_case(devs[j], b, in, warm, runs, ms, &y);
            if (st != CLGAN_OK) {
                fprintf(stderr, "bench_ops: %s on %s: %s\n", b->label, clgan_device_get_info(devs[j])->id,
                        clgan_last_error());
                errors++;
            } else {
                r->ok = true;
                r->med = median(ms, runs);
                r->min = ms[0];
                r->max = ms[runs - 1];
            }
            if (is_ref) {
                ref_y = y;
            } else if (y && ref_y) {
                r->nmse = nmse(ref_y, y, clgan_op_numel(&b->call.out));
                if (!(r->nmse <= tolerance(b->call.op))) {
                    fprintf(stderr, "bench_ops: %s on %s differs from ref: nmse %.3g (tolerance %.0e)\n", b->label,
                            clgan_device_get_info(devs[j])->id, r->nmse, tolerance(b->call.op));
                    mismatches++;
                }
            }
            if (!is_ref) free(y);
        }
        const result *ref = with_ref ? &res[0] : NULL;
        if (o.csv)
            for (int j = 0; j < ndev; j++) csv_row(b, clgan_device_get_info(devs[j]), &res[j], ref);
        else table_row(b, devs, ndev, res, ref);
        free(ref_y);
        for (int j = 0; j < b->call.nin; j++) free(in[j]);
    }
    if (!ms) {
        fprintf(stderr, "bench_ops: out of host memory\n");
        errors++;
    }
    free(ms);
    if (mismatches || errors) {
        fprintf(stderr, "bench_ops: %d result%s from ref, %d error%s\n", mismatches,
                mismatches == 1 ? " differs" : "s differ", errors, errors == 1 ? "" : "s");
        status = 1;
    }
    for (int j = 0; j < ndev; j++) clgan_device_close(devs[j]);
    clgan_device_list_free(&l);
    return status;
}
