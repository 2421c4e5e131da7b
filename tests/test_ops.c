/* Every op on every OpenCL device against the reference, forward (each op
 * called directly, with sentinels around its output to catch writes out of
 * bounds) and backward (the op's gradient graph run on both devices).
 * Cases come from op_cases.h; tolerances from tolerances.h. Exits 77 when
 * no OpenCL device exists, or when CLGAN_GEMM names a path no device has.
 *
 *   test_ops [ops]   (its one part; CLGAN_GEMM, CLGAN_OPS_ONLY,
 *                     CLGAN_OPS_FORWARD_ONLY, CLGAN_KERNEL_DIR and
 *                     CLGAN_KERNEL_BINARY choose what it runs, below) */
#include "op_cases.h"
#include "test_util.h"
#include "tolerances.h"

#include "runtime/device_impl.h"

#include <math.h>

enum { GUARD = 67 }; /* floats of sentinel either side of every buffer */
static const float SENTINEL = -7.77e30f;

/* A buffer of n floats with GUARD sentinels either side; the tensor is at GUARD. */
static clgan_buffer *guarded(clgan_device *d, const float *data, size_t n) {
    size_t total = n + 2 * GUARD;
    float *h = malloc(total * sizeof *h);
    for (size_t i = 0; i < total; i++) h[i] = SENTINEL;
    if (data) memcpy(h + GUARD, data, n * sizeof *h);
    clgan_buffer *b = NULL;
    MUST(clgan_buffer_alloc(d, total * sizeof *h, &b));
    MUST(clgan_buffer_write(b, 0, h, total * sizeof *h));
    free(h);
    return b;
}

/* reads the tensor and checks the sentinels; returns false if one moved */
static bool read_guarded(clgan_buffer *b, float *out, size_t n) {
    size_t total = n + 2 * GUARD;
    float *h = malloc(total * sizeof *h);
    MUST(clgan_buffer_read(b, 0, h, total * sizeof *h));
    bool ok = true;
    for (size_t i = 0; i < GUARD; i++) ok = ok && h[i] == SENTINEL && h[GUARD + n + i] == SENTINEL;
    memcpy(out, h + GUARD, n * sizeof *h);
    free(h);
    return ok;
}

typedef struct {
    clgan_graph *g;
    int in[4];
    int y;
} built;

static built build_case(const op_case *c) {
    built b = {.g = clgan_graph_new()};
    for (int k = 0; k < c->nin; k++) b.in[k] = clgan_input(b.g, "x", c->ndim[k], c->shape[k]);
    b.y = c->build(b.g, b.in);
    if (clgan_graph_status(b.g) != CLGAN_OK || b.y < 0) fail_msg("case %s: cannot build: %s", c->name, b.g->error);
    if (b.g->nodes[b.y].op != c->op || b.g->nodes[b.y].kind != NODE_OP)
        fail_msg("case %s builds op %s, not %s", c->name, clgan_node_op_name(b.g, b.y), clgan_ops[c->op].name);
    return b;
}

/* Runs the case's op directly on d; returns the output (or, for in-place
 * ops, every input after the update, concatenated). */
static float *run_direct(clgan_device *d, const op_case *c, const built *b, float *const *inputs, size_t *n_out,
                         bool *guards_ok) {
    const clgan_gnode *y = &b->g->nodes[b->y];
    clgan_op_call call = {.op = y->op, .nin = y->nin, .seed = y->seed, .offset = 12345u * 65536u + (uint64_t)y->stream};
    memcpy(call.fp, y->fp, sizeof call.fp);
    memcpy(call.ip, y->ip, sizeof call.ip);
    clgan_buffer *bufs[4] = {0};
    size_t nin[4] = {0};
    for (int k = 0; k < c->nin; k++) {
        nin[k] = clgan_shape_numel(c->ndim[k], c->shape[k]);
        bufs[k] = guarded(d, inputs[k], nin[k]);
        call.in[k] = (clgan_op_tensor){.buf = bufs[k], .off = GUARD, .ndim = c->ndim[k]};
        memcpy(call.in[k].shape, c->shape[k], sizeof call.in[k].shape);
    }
    size_t n = numel_of_node(y);
    clgan_buffer *out = guarded(d, NULL, n);
    call.out = (clgan_op_tensor){.buf = out, .off = GUARD, .ndim = y->ndim};
    memcpy(call.out.shape, y->shape, sizeof call.out.shape);
    bool ran = clgan_op_run(d, &call) == CLGAN_OK && clgan_device_finish(d) == CLGAN_OK;
    CHECK(ran, "%s on %s: %s", c->name, clgan_device_get_info(d)->id, clgan_last_error());
    float *res;
    *guards_ok = true;
    if (clgan_op_is_inplace(c->op)) {
        size_t total = 0;
        for (int k = 0; k < c->nin; k++) total += nin[k];
        res = malloc(total * sizeof *res);
        size_t at = 0;
        for (int k = 0; k < c->nin; k++) {
            *guards_ok &= read_guarded(bufs[k], res + at, nin[k]);
            at += nin[k];
        }
        *n_out = total;
    } else {
        res = malloc(n * sizeof *res);
        *guards_ok = read_guarded(out, res, n);
        *n_out = n;
    }
    /* inputs must not change (in-place ops change theirs on purpose) */
    for (int k = 0; k < c->nin && !clgan_op_is_inplace(c->op); k++) {
        float *chk = malloc(nin[k] * sizeof *chk);
        *guards_ok &= read_guarded(bufs[k], chk, nin[k]);
        if (memcmp(chk, inputs[k], nin[k] * sizeof *chk) != 0) *guards_ok = false;
        free(chk);
    }
    for (int k = 0; k < c->nin; k++) clgan_buffer_free(bufs[k]);
    clgan_buffer_free(out);
    return res;
}

/* The gradient graph of the case: L = sum(y * r) with r fixed; returns the
 * gradient of every differentiable input, concatenated. */
static float *run_backward(clgan_device *d, const op_case *c, float *const *inputs, size_t *n_out) {
    built b = build_case(c);
    int ny, shape[4];
    clgan_node_shape(b.g, b.y, &ny, shape);
    int r = clgan_input(b.g, "r", ny, shape);
    int loss = clgan_sum(b.g, clgan_mul(b.g, b.y, r));
    int wrt[4], grads[4], n = 0;
    for (int k = 0; k < c->nin; k++)
        if (c->diff[k]) wrt[n++] = b.in[k];
    clgan_backward(b.g, loss, n, wrt, grads);
    for (int k = 0; k < n; k++) clgan_graph_keep(b.g, grads[k]);
    if (clgan_graph_compile(b.g, d) != CLGAN_OK) fail_msg("compile %s: %s", c->name, clgan_last_error());
    for (int k = 0; k < c->nin; k++) clgan_graph_write(b.g, b.in[k], inputs[k]);
    size_t nr = clgan_shape_numel(ny, shape);
    float *rv = malloc(nr * sizeof *rv);
    fill_domain(rv, nr, DOM_ANY, 99);
    clgan_graph_write(b.g, r, rv);
    free(rv);
    bool ran = clgan_graph_run(b.g, 1) == CLGAN_OK;
    CHECK(ran, "backward %s on %s: %s", c->name, clgan_device_get_info(d)->id, clgan_last_error());
    size_t total = 0;
    for (int k = 0; k < n; k++) total += clgan_node_numel(b.g, grads[k]);
    float *res = calloc(total ? total : 1, sizeof *res);
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        clgan_graph_read(b.g, grads[k], res + at);
        at += clgan_node_numel(b.g, grads[k]);
    }
    *n_out = total;
    clgan_graph_free(b.g);
    return res;
}

/* A part of a draw (clgan_rng_*_at, what a data-parallel process draws for
 * its samples of a batch) is bit for bit that part of the whole draw. */
static void check_stream_parts(void) {
    enum { TOTAL = 5 * 1367 + 3 * 1367 };
    static float whole[TOTAL], part[TOTAL];
    const uint64_t firsts[] = {0, 1, 2, 3, 5, 5 * 1367};
    for (int normal = 0; normal < 2; normal++) {
        (normal ? clgan_rng_normal : clgan_rng_uniform)(42, 7, whole, TOTAL);
        bool same = true;
        for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; f++) {
            size_t n = TOTAL - (size_t)firsts[f] < 1367 ? TOTAL - (size_t)firsts[f] : 1367;
            (normal ? clgan_rng_normal_at : clgan_rng_uniform_at)(42, 7, firsts[f], part, n);
            same = same && memcmp(part, whole + firsts[f], n * sizeof(float)) == 0;
        }
        EXPECT(same, "%s: a part of a draw from elements 0, 1, 2, 3, 5 and 6835 is that part of the whole",
               normal ? "randn" : "rand");
    }
}

/* The device's Philox-4x32-10 (cl/rng.cl's rng_philox_words, one work-item)
 * against Random123's kat_vectors: key, counter, expected words. */
static void check_philox(clgan_device *d) {
    clgan_buffer *b = NULL;
    if (clgan_buffer_alloc(d, 4 * sizeof(uint32_t), &b) != CLGAN_OK) {
        CHECK(false, "philox on %s: %s", clgan_device_get_info(d)->id, clgan_last_error());
        return;
    }
    for (int i = 0; i < 3; i++) {
        const uint32_t *v = test_philox_kat[i];
        clgan_cl_arg args[] = {CLARG(b->mem), CLARG(v[4]), CLARG(v[5]), CLARG(v[0]),
                               CLARG(v[1]),   CLARG(v[2]), CLARG(v[3])};
        uint32_t out[4] = {0};
        if (clgan_cl_launch(d, "rng_philox_words", 1, 1, 7, args) != CLGAN_OK ||
            clgan_buffer_read(b, 0, out, sizeof out) != CLGAN_OK) {
            CHECK(false, "philox on %s: %s", clgan_device_get_info(d)->id, clgan_last_error());
            break;
        }
        EXPECT(memcmp(out, &v[6], sizeof out) == 0, "philox known answer %d   %08x %08x %08x %08x", i, out[0], out[1],
               out[2], out[3]);
    }
    clgan_buffer_free(b);
}

/* y = sum(x * x) over 3 x 4099 terms as a graph on ref and on d: on
 * OpenCL the fusion pass makes it one generated sum kernel, and a sum this
 * long (at least 2 x 256 x 16 terms, src/ops/cl_fused.c) is split into parts
 * that sum_parts_f32 adds, which no op case reaches. */
static float wide_sum(clgan_device *d, const float *x, const int *shape) {
    clgan_graph *g = clgan_graph_new();
    int in = clgan_input(g, "x", 2, shape);
    int y = clgan_sum(g, clgan_mul(g, in, in));
    clgan_graph_keep(g, y);
    float r = NAN;
    if (clgan_graph_compile(g, d) != CLGAN_OK || clgan_graph_write(g, in, x) != CLGAN_OK ||
        clgan_graph_run(g, 1) != CLGAN_OK || clgan_graph_read(g, y, &r) != CLGAN_OK)
        CHECK(false, "wide sum on %s: %s", clgan_device_get_info(d)->id, clgan_last_error());
    clgan_graph_free(g);
    return r;
}

static void check_wide_sum(clgan_device *ref, clgan_device *d) {
    const int shape[2] = {3, 4099};
    size_t n = 3 * 4099;
    float *x = malloc(n * sizeof *x);
    fill_domain(x, n, DOM_ANY, 4099);
    float yr = wide_sum(ref, x, shape), yd = wide_sum(d, x, shape);
    double e = test_nmse(&yr, &yd, 1), tol = tol_device(CLGAN_OP_SUM);
    EXPECT(e <= tol, "%-22s graph    nmse %.3g (tol %.0e)", "sum in parts", e, tol);
    free(x);
}

static bool any_diff(const op_case *c) {
    for (int k = 0; k < c->nin; k++)
        if (c->diff[k]) return true;
    return false;
}

/* Every op case (and the Philox and long-sum checks) on every OpenCL device
 * against ref. */
static void part_ops(void) {
    int missing = op_without_case();
    if (missing >= 0) {
        CHECK(false, "op %s has no test case in tests/op_cases.h", clgan_ops[missing].name);
        return;
    }
    check_stream_parts();
    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    if (test_first_opencl(&l) < 0) {
        clgan_device_list_free(&l);
        harness_skip("no OpenCL device");
    }
    clgan_device *ref = NULL;
    MUST(clgan_device_open(&l.items[l.count - 1], NULL, &ref));
    /* CLGAN_KERNEL_DIR lets the planted-bug test run edited kernels;
     * CLGAN_KERNEL_BINARY opens the devices from an offline program binary
     * (clgan kernels --save-binary), where no kernel is generated: graphs run
     * unfused and sums on sum_f32 */
    clgan_device_options opt = {.kernel_dir = getenv("CLGAN_KERNEL_DIR"), .kernel_binary = getenv("CLGAN_KERNEL_BINARY")};
    /* CLGAN_GEMM=clblast|native runs every GEMM on that path (tests/meson.build
     * runs the suite once per path); devices without it are skipped */
    const char *gemm = getenv("CLGAN_GEMM");
    if (gemm && *gemm && clgan_gemm_path_parse(gemm, &opt.gemm) != CLGAN_OK) {
        CHECK(false, "CLGAN_GEMM: %s", clgan_last_error());
        clgan_device_close(ref);
        clgan_device_list_free(&l);
        return;
    }
    int tested = 0;
    /* CLGAN_OPS_ONLY=TEXT runs only the cases whose name contains TEXT (for a
     * slow device such as a simulator, or to look at one op) */
    const char *only = getenv("CLGAN_OPS_ONLY");
    /* CLGAN_OPS_FORWARD_ONLY=1 skips the graphs (gradients, the long sum): only direct op calls,
     * whose every buffer the host writes whole (tests/run_oclgrind.py says why) */
    bool forward_only = getenv("CLGAN_OPS_FORWARD_ONLY") && strcmp(getenv("CLGAN_OPS_FORWARD_ONLY"), "0") != 0;
    for (int di = 0; di < l.count; di++) {
        if (l.items[di].backend != CLGAN_BACKEND_OPENCL) continue;
        if (opt.gemm == CLGAN_GEMM_NATIVE && !l.items[di].native_kernels) {
            printf("device %s (%s): no native kernels, skipped for CLGAN_GEMM=native\n", l.items[di].id,
                   l.items[di].name);
            continue;
        }
        tested++;
        clgan_device *d = NULL;
        if (clgan_device_open(&l.items[di], &opt, &d) != CLGAN_OK) {
            CHECK(false, "open %s: %s", l.items[di].id, clgan_last_error());
            continue;
        }
        printf("device %s (%s), GEMM %s: %s\n", l.items[di].id, l.items[di].name,
               clgan_gemm_path_name(clgan_device_gemm(d)->path), clgan_device_gemm(d)->why);
        check_philox(d);
        if ((!only || strstr("sum in parts", only)) && !forward_only) check_wide_sum(ref, d);
        for (int k = 0; k < N_OP_CASES; k++) {
            const op_case *c = &op_cases[k];
            if (only && !strstr(c->name, only)) continue;
            /* the cases sized for the native path's split run only there:
             * elsewhere they add nothing the small cases lack, and a
             * simulated device (Oclgrind) spends minutes and gigabytes on them */
            if (strstr(c->name, ", split by") && clgan_device_gemm(d)->path != CLGAN_GEMM_NATIVE) continue;
            built b = build_case(c);
            float *inputs[4] = {0};
            for (int j = 0; j < c->nin; j++) {
                size_t n = clgan_shape_numel(c->ndim[j], c->shape[j]);
                inputs[j] = malloc(n * sizeof(float));
                fill_domain(inputs[j], n, c->dom[j], (uint64_t)(k * 10 + j));
            }
            size_t n_ref, n_dev;
            bool g_ref, g_dev;
            float *yr = run_direct(ref, c, &b, inputs, &n_ref, &g_ref);
            float *yd = run_direct(d, c, &b, inputs, &n_dev, &g_dev);
            double e = test_nmse(yr, yd, n_ref), tol = tol_device(c->op);
            EXPECT(e <= tol && g_ref && g_dev, "%-22s forward  nmse %.3g (tol %.0e)%s", c->name, e, tol,
                   g_ref && g_dev ? "" : " SENTINEL OVERWRITTEN OR INPUT CHANGED");
            free(yr);
            free(yd);
            if (any_diff(c) && !forward_only) {
                float *gr = run_backward(ref, c, inputs, &n_ref);
                float *gd = run_backward(d, c, inputs, &n_dev);
                e = test_nmse(gr, gd, n_ref);
                EXPECT(e <= tol, "%-22s backward nmse %.3g (tol %.0e)", c->name, e, tol);
                free(gr);
                free(gd);
            }
            for (int j = 0; j < c->nin; j++) free(inputs[j]);
            clgan_graph_free(b.g);
        }
        clgan_device_close(d);
    }
    clgan_device_close(ref);
    clgan_device_list_free(&l);
    /* every device was left out for CLGAN_GEMM (no failure can have been recorded without one) */
    if (!tested && !failures) harness_skip("no device runs GEMM path %s", gemm);
}

/* The channel-major convolutions against the sample-major ones on ref: the
 * same op on x permuted to (N,C,H,W), its result permuted back, must give
 * the same bits (the reference sums each output in the same order), so a
 * layout both ref and the kernels got wrong in the same way cannot pass. */
static const int SWAP01[4] = {1, 0, 2, 3};
static int lay_conv(clgan_graph *g, int x, int w, bool cm) {
    return clgan_conv2d_layout(g, cm ? x : clgan_permute(g, x, SWAP01), w, 2, 1, 1, cm);
}
static int lay_convt(clgan_graph *g, int x, int w, bool cm) {
    return clgan_conv_transpose2d_layout(g, cm ? x : clgan_permute(g, x, SWAP01), w, 3, 2, 1, cm);
}
static int lay_grad_w(clgan_graph *g, int x, int dy, bool cm) {
    return clgan_conv_generic(g, CLGAN_OP_CONV2D_GRAD_W, cm, cm ? x : clgan_permute(g, x, SWAP01),
                              cm ? dy : clgan_permute(g, dy, SWAP01), 2, 1, 1, 0, 0, 4, (int[]){5, 3, 3, 3});
}
static void part_layout(void) {
    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    clgan_device *ref = NULL;
    MUST(clgan_device_open(&l.items[l.count - 1], NULL, &ref));
    struct {
        const char *name;
        int (*build)(clgan_graph *g, int a, int b, bool cm);
        int a[4], b[4];
        bool out_is_act; /* the result is an activation (permuted back) rather than a weight gradient */
    } cases[] = {
        {"conv2d", lay_conv, {3, 5, 7, 6}, {4, 3, 4, 4}, true},
        {"conv_t2d", lay_convt, {2, 3, 3, 5}, {2, 3, 5, 5}, true},
        {"conv2d_grad_w", lay_grad_w, {3, 2, 7, 7}, {5, 2, 4, 4}, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float *y[2] = {0};
        size_t n = 0;
        for (int cm = 0; cm < 2; cm++) {
            clgan_graph *g = clgan_graph_new();
            int a = clgan_input(g, "a", 4, cases[k].a), b = clgan_input(g, "b", 4, cases[k].b);
            int out = cases[k].build(g, a, b, cm);
            if (!cm && cases[k].out_is_act) out = clgan_permute(g, out, SWAP01);
            clgan_graph_keep(g, out);
            if (clgan_graph_compile(g, ref) != CLGAN_OK) fail_msg("%s: %s", cases[k].name, clgan_last_error());
            size_t na = clgan_shape_numel(4, cases[k].a), nb = clgan_shape_numel(4, cases[k].b);
            float *va = malloc(na * sizeof *va), *vb = malloc(nb * sizeof *vb);
            fill_domain(va, na, DOM_ANY, 7 + k);
            fill_domain(vb, nb, DOM_ANY, 17 + k);
            clgan_graph_write(g, a, va);
            clgan_graph_write(g, b, vb);
            MUST(clgan_graph_run(g, 1));
            n = clgan_node_numel(g, out);
            y[cm] = malloc(n * sizeof(float));
            clgan_graph_read(g, out, y[cm]);
            free(va);
            free(vb);
            clgan_graph_free(g);
        }
        EXPECT(memcmp(y[0], y[1], n * sizeof(float)) == 0, "%s: channel-major equals the sample-major op between "
               "permutes, bit for bit", cases[k].name);
        free(y[0]);
        free(y[1]);
    }
    clgan_device_close(ref);
    clgan_device_list_free(&l);
}

int main(int argc, char **argv) {
    clgan_log_set_level(CLGAN_LOG_WARN);
    static const harness_part parts[] = {{"ops", part_ops}, {"layout", part_layout}};
    return harness_main(argc, argv, "test_ops", parts, sizeof parts / sizeof parts[0]);
}
