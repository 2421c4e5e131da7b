/* The fusion pass and its generated kernels against the reference: graphs
 * made to exercise every shape of group (chains with broadcast leaves along
 * one or two axes, members stored because something else reads them, sums
 * with fused producers split into parts, sums followed by elementwise math
 * on their kept elements (epilogues) in one part and in several, BatchNorm and layer norm forward,
 * backward and double backward, odd sizes) run on `ref` (op by op, the
 * definition) and on every OpenCL device fused and unfused (CLGAN_FUSE=0),
 * and fused with its calls launched one by one (CLGAN_FUSE_CHAIN=0): chains
 * (src/ops/fused.h) must give the same bits, and in the CPU forms save at
 * least the launches a case sets.
 * Every kept value must agree within the op tests' bound (tolerances.h:
 * 1e-7 for elementwise ops and sums); the fused graph must have fused (some
 * group of two or more ops) and launched fewer kernels than the unfused one.
 * Exits 77 when no OpenCL device exists.
 *
 * Running statistics (BatchNorm's EMA updates) must run inside the kernels
 * of the sums that make them, and never where that changes what another node
 * reads; nothing that reads a buffer may run after the buffer is written in
 * place.
 *
 *   test_fusion [batchnorm|layernorm|sums|running|sink_order|inplace_read]   (every case without an argument) */
#include "test_util.h"
#include "tolerances.h"

#include "autograd/graph_impl.h"
#include "clgan/graph.h"

#include <math.h>

typedef struct {
    clgan_graph *g;
    int inputs[8], ninputs;
    int kept[16], nkept;
} built;

static void keep(built *b, int n) {
    clgan_graph_keep(b->g, n);
    b->kept[b->nkept++] = n;
}

static int input(built *b, const char *name, int nd, const int *shape) {
    int n = clgan_input(b->g, name, nd, shape);
    b->inputs[b->ninputs++] = n;
    return n;
}

/* y = leaky(BN(x)) with batch statistics, loss = sum(y w); gradients of x,
 * gamma and beta, and of sum(dx^2) with respect to gamma (double backward) */
static void build_batchnorm(built *b) {
    int x = input(b, "x", 4, (int[]){5, 7, 3, 3});
    int gamma = input(b, "gamma", 1, (int[]){7}), beta = input(b, "beta", 1, (int[]){7});
    int rm = input(b, "rm", 1, (int[]){7}), rv = input(b, "rv", 1, (int[]){7});
    int w = input(b, "w", 4, (int[]){5, 7, 3, 3});
    int y = clgan_leaky_relu(b->g, clgan_batchnorm(b->g, x, gamma, beta, rm, rv, true, 0.0f, 1e-5f), 0.2f);
    int loss = clgan_sum(b->g, clgan_mul(b->g, y, w));
    keep(b, y);
    keep(b, loss);
    int wrt[3] = {x, gamma, beta}, grads[3];
    if (clgan_backward(b->g, loss, 3, wrt, grads) != CLGAN_OK) return;
    for (int k = 0; k < 3; k++) keep(b, grads[k]);
    int pen = clgan_sum(b->g, clgan_square(b->g, grads[0]));
    int g2;
    if (clgan_backward(b->g, pen, 1, &gamma, &g2) != CLGAN_OK) return;
    keep(b, pen);
    keep(b, g2);
}

/* layer norm on (3, 11, 5), then leaves broadcast along axis 0 and axis 1
 * in one chain (a primary pattern and another), with a member stored for a
 * later reader */
static void build_layernorm(built *b) {
    int x = input(b, "x", 3, (int[]){3, 11, 5});
    int gamma = input(b, "gamma", 2, (int[]){11, 5}), beta = input(b, "beta", 2, (int[]){11, 5});
    int b0 = input(b, "b0", 1, (int[]){3}), b1 = input(b, "b1", 1, (int[]){11});
    int ln = clgan_layernorm(b->g, x, gamma, beta, 1e-5f);
    int t = clgan_tanh(b->g, clgan_add_axis(b->g, ln, b0, 0));
    int u = clgan_mul_axis(b->g, t, b1, 1);
    int v = clgan_add(b->g, clgan_sigmoid(b->g, u), clgan_softplus(b->g, t));
    int later = clgan_mul(b->g, clgan_copy(b->g, t), v); /* t read by a non-fused node after the group */
    int loss = clgan_mean(b->g, clgan_square(b->g, later));
    keep(b, v);
    keep(b, later);
    keep(b, loss);
    int wrt[4] = {x, gamma, b0, b1}, grads[4];
    if (clgan_backward(b->g, loss, 4, wrt, grads) != CLGAN_OK) return;
    for (int k = 0; k < 4; k++) keep(b, grads[k]);
}

/* sums: a whole 300,001-float tensor through a fused chain (parts), kept
 * axes with inner 1 and inner > 1, and the unary ops not met above */
static void build_sums(built *b) {
    int x = input(b, "x", 1, (int[]){300001});
    int s0 = clgan_sum(b->g, clgan_square(b->g, clgan_affine(b->g, x, 0.5f, 1.0f)));
    int m = input(b, "m", 2, (int[]){1001, 3});
    int s1 = clgan_sum_axes(b->g, clgan_abs(b->g, clgan_exp(b->g, m)), 1, 1);
    int h = input(b, "h", 3, (int[]){13, 4, 17});
    int pos = clgan_affine(b->g, clgan_abs(b->g, h), 1.0f, 0.25f);
    int s2 = clgan_sum_axes(b->g, clgan_mul(b->g, clgan_ln(b->g, pos), clgan_sqrt(b->g, pos)), 1, 1);
    int c = clgan_clamp(b->g, h, -0.5f, 0.5f);
    int t = input(b, "t", 3, (int[]){13, 4, 17});
    int s3 = clgan_sum(b->g, clgan_add(b->g, clgan_bce_logits(b->g, h, t), clgan_relu(b->g, c)));
    keep(b, s0);
    keep(b, s1);
    keep(b, s2);
    keep(b, s3);
    keep(b, c);
    /* per-element math after a sum (an epilogue), with the sum in parts
     * (the _fin kernel) and in one part, and the sum itself also kept */
    int total = clgan_sum(b->g, clgan_square(b->g, x));
    keep(b, clgan_sqrt(b->g, clgan_affine(b->g, total, 0.5f, 1.0f)));
    keep(b, total);
    int rows = clgan_mean_axes(b->g, m, 1, 1);
    keep(b, clgan_mul(b->g, clgan_exp(b->g, rows), clgan_affine(b->g, rows, 2.0f, 0.0f)));
}

/* running statistics: BatchNorm in training with momentum, channel-major,
 * twice on the same rm and rv (as a critic on real, then on fake images), and
 * gradients; each update (EMA) must run inside the kernel of the sum that
 * makes its statistic (a sink), in order */
static void build_running(built *b) {
    int x1 = input(b, "x1", 4, (int[]){6, 5, 3, 3}), x2 = input(b, "x2", 4, (int[]){6, 5, 3, 3});
    int gamma = input(b, "gamma", 1, (int[]){6}), beta = input(b, "beta", 1, (int[]){6});
    int rm = input(b, "rm", 1, (int[]){6}), rv = input(b, "rv", 1, (int[]){6});
    int y1 = clgan_leaky_relu(b->g, clgan_batchnorm_axis(b->g, x1, 0, gamma, beta, rm, rv, true, 0.1f, 1e-5f), 0.2f);
    int y2 = clgan_batchnorm_axis(b->g, x2, 0, gamma, beta, rm, rv, true, 0.3f, 1e-5f);
    int loss = clgan_sum(b->g, clgan_mul(b->g, y1, y2));
    keep(b, y1);
    keep(b, y2);
    keep(b, loss);
    keep(b, rm);
    keep(b, rv);
    int wrt[3] = {x1, x2, gamma}, grads[3];
    if (clgan_backward(b->g, loss, 3, wrt, grads) != CLGAN_OK) return;
    for (int k = 0; k < 3; k++) keep(b, grads[k]);
}

/* an update that may not move: rm is read (copied) between the sum that
 * makes the value and the update, so fusing the update there would change
 * what the copy reads */
static void build_sink_order(built *b) {
    int x = input(b, "x", 2, (int[]){7, 9});
    int rm = input(b, "rm", 1, (int[]){7});
    int m = clgan_mean_axes(b->g, x, 0, 1); /* (7): axis 0 kept */
    int before = clgan_copy(b->g, rm);
    keep(b, before);
    int in[2] = {rm, m};
    int e = clgan_graph_add(b->g, CLGAN_OP_EMA, 2, in, 1, (int[]){7});
    if (e >= 0) {
        b->g->nodes[e].fp[0] = 0.25f;
        b->g->nodes[e].keep = true;
    }
    keep(b, rm);
    keep(b, clgan_exp(b->g, m));
}

/* a value read from a buffer before it is assigned in place: the reader may
 * not join a group that runs after the assignment */
static void build_inplace_read(built *b) {
    int x = input(b, "x", 1, (int[]){7}), buf = input(b, "buf", 1, (int[]){7});
    int t = clgan_affine(b->g, buf, 2.0f, 1.0f);
    clgan_assign(b->g, buf, clgan_exp(b->g, x));
    keep(b, clgan_mul(b->g, t, clgan_sigmoid(b->g, x)));
    keep(b, buf);
}

typedef void (*builder)(built *b);
static const struct {
    const char *name;
    builder fn;
    int sinks;   /* the EMA nodes that must run fused (-1: any number) */
    int chained; /* the launches chains (src/ops/fused.h) must save at least, in the CPU forms */
} cases[] = {{"batchnorm", build_batchnorm, -1, 6},
             {"layernorm", build_layernorm, -1, 4},
             {"sums", build_sums, -1, 0},
             {"running", build_running, 4, 9},
             {"sink_order", build_sink_order, 0, 0},
             {"inplace_read", build_inplace_read, -1, 0}};

/* Builds the case on d, runs it with inputs from the seed, reads every kept
 * node into out[k] (malloc'd); launches counts the kernels. */
static bool run_case(int c, clgan_device *d, float **out, size_t *n, int *nkept, uint64_t *launches, int *groups,
                     int *largest, int *sinks) {
    built b = {.g = clgan_graph_new()};
    cases[c].fn(&b);
    clgan_status st = clgan_graph_compile(b.g, d);
    CHECK(st == CLGAN_OK, "%s: compile on %s: %s", cases[c].name, clgan_device_get_info(d)->id, clgan_last_error());
    if (st != CLGAN_OK) {
        clgan_graph_free(b.g);
        return false;
    }
    for (int k = 0; k < b.ninputs; k++) {
        size_t m = clgan_node_numel(b.g, b.inputs[k]);
        float *h = malloc(m * sizeof *h);
        clgan_rng_uniform(1234 + (uint64_t)k, 0, h, m);
        for (size_t i = 0; i < m; i++) h[i] = 2.0f * h[i] - 1.0f;
        if (strcmp(clgan_node_name(b.g, b.inputs[k]), "t") == 0)
            for (size_t i = 0; i < m; i++) h[i] = h[i] > 0 ? 1.0f : 0.0f;
        st = clgan_graph_write(b.g, b.inputs[k], h);
        free(h);
    }
    uint64_t l0 = clgan_device_launch_count(d);
    if (st == CLGAN_OK) st = clgan_graph_run(b.g, 0);
    if (st == CLGAN_OK) st = clgan_device_finish(d);
    *launches = clgan_device_launch_count(d) - l0;
    *groups = b.g->ngroups;
    *sinks = 0;
    for (int k = 0; k < b.g->n; k++) *sinks += b.g->nodes[k].op == CLGAN_OP_EMA && b.g->nodes[k].group >= 0;
    *largest = 0;
    for (int k = 0; k < b.g->ngroups; k++)
        if (b.g->groups[k].n > *largest) *largest = b.g->groups[k].n;
    *nkept = b.nkept;
    for (int k = 0; k < b.nkept && st == CLGAN_OK; k++) {
        n[k] = clgan_node_numel(b.g, b.kept[k]);
        out[k] = malloc(n[k] * sizeof(float));
        st = clgan_graph_read(b.g, b.kept[k], out[k]);
    }
    CHECK(st == CLGAN_OK, "%s: run on %s: %s", cases[c].name, clgan_device_get_info(d)->id, clgan_last_error());
    clgan_graph_free(b.g);
    return st == CLGAN_OK;
}

static void free_all(float **v, int n) {
    for (int k = 0; k < n; k++) free(v[k]);
}

/* Case c on every OpenCL device: ref, fused and unfused (CLGAN_FUSE=0). */
static void run_on_devices(int c) {
    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    clgan_device *ref = NULL;
    MUST(clgan_device_open(&l.items[l.count - 1], NULL, &ref));
    for (int di = 0; di < l.count; di++) {
        if (l.items[di].backend != CLGAN_BACKEND_OPENCL) continue;
        clgan_device *d = NULL;
        if (clgan_device_open(&l.items[di], NULL, &d) != CLGAN_OK) {
            CHECK(false, "open %s: %s", l.items[di].id, clgan_last_error());
            continue;
        }
        float *want[16] = {0}, *fused[16] = {0}, *plain[16] = {0}, *unchained[16] = {0};
        size_t n[16];
        int nk = 0, groups = 0, largest = 0, g_unfused = 0, sinks = 0, unused;
        uint64_t lf = 0, lu = 0, lr = 0, lc = 0;
        /* a run that fails is reported by run_case (a CHECK) */
        bool ok = run_case(c, ref, want, n, &nk, &lr, &unused, &unused, &unused);
        ok = ok && run_case(c, d, fused, n, &nk, &lf, &groups, &largest, &sinks);
        setenv("CLGAN_FUSE", "0", 1);
        ok = ok && run_case(c, d, plain, n, &nk, &lu, &g_unfused, &unused, &unused);
        unsetenv("CLGAN_FUSE");
        /* fused calls launched one by one: a chain must give the same bits in fewer launches */
        setenv("CLGAN_FUSE_CHAIN", "0", 1);
        ok = ok && run_case(c, d, unchained, n, &nk, &lc, &unused, &unused, &unused);
        unsetenv("CLGAN_FUSE_CHAIN");
        if (ok) {
            double worst = 0, worst_plain = 0;
            int differ = 0;
            for (int k = 0; k < nk; k++) {
                double e = test_nmse(want[k], fused[k], n[k]), ep = test_nmse(want[k], plain[k], n[k]);
                if (!(e <= worst)) worst = e;
                if (!(ep <= worst_plain)) worst_plain = ep;
                differ += memcmp(fused[k], unchained[k], n[k] * sizeof(float)) != 0;
            }
            /* the CPU forms chain BatchNorm's and layer norm's sums and normalisation */
            bool chains = !clgan_cl_cpu_forms(d) || cases[c].chained == 0 || lf + (uint64_t)cases[c].chained <= lc;
            bool pass = worst <= tol_device(CLGAN_OP_SUM) && worst_plain <= tol_device(CLGAN_OP_SUM) &&
                        largest >= 2 && g_unfused == 0 && lf < lu && (cases[c].sinks < 0 || sinks == cases[c].sinks) &&
                        differ == 0 && lf <= lc && chains;
            EXPECT(pass,
                   "%-10s on %s: %d values, NMSE fused %.3g, unfused %.3g; %d fused kernels (largest %d ops), "
                   "%llu launches fused, %llu unfused, %llu unchained (%d values differ); %d updates fused",
                   cases[c].name, l.items[di].id, nk, worst, worst_plain, groups, largest, (unsigned long long)lf,
                   (unsigned long long)lu, (unsigned long long)lc, differ, sinks);
        }
        free_all(want, nk);
        free_all(fused, nk);
        free_all(plain, nk);
        free_all(unchained, nk);
        clgan_device_close(d);
    }
    clgan_device_close(ref);
    clgan_device_list_free(&l);
}

static void part_batchnorm(void) { run_on_devices(0); }
static void part_layernorm(void) { run_on_devices(1); }
static void part_sums(void) { run_on_devices(2); }
static void part_running(void) { run_on_devices(3); }
static void part_sink_order(void) { run_on_devices(4); }
static void part_inplace_read(void) { run_on_devices(5); }

int main(int argc, char **argv) {
    clgan_log_set_level(CLGAN_LOG_WARN);
    test_require_opencl();
    static const harness_part parts[] = {
        {"batchnorm", part_batchnorm},
        {"layernorm", part_layernorm},
        {"sums", part_sums},
        {"running", part_running},
        {"sink_order", part_sink_order},
        {"inplace_read", part_inplace_read},
    };
    return harness_main(argc, argv, "test_fusion", parts, sizeof parts / sizeof parts[0]);
}
