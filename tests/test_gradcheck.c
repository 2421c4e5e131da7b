/* Gradient checks on the reference device: the gradient of every op (every
 * differentiable input of every case in op_cases.h) against central finite
 * differences; second order for the cases marked `second` and for the
 * composites the GAN losses need (linear layer, layernorm, batchnorm, the
 * full WGAN-GP penalty). Tolerances and their reasons: tolerances.h.
 * Needs no OpenCL device. Built again with a planted bug (a patched copy of
 * one library source, tests/meson.build), it must fail, which proves that it
 * can.
 *
 *   test_gradcheck [ops|composites]   (both without an argument) */
#include "op_cases.h"
#include "test_util.h"
#include "tolerances.h"

#include <math.h>

static int checks; /* in the running part */
static clgan_device *ref; /* opened by main */

typedef struct {
    clgan_graph *g;
    int n_in;
    int in[8];
    float *val[8];
    int loss;
    int n_wrt;
    int wrt[8];
    int grad[8];
} problem;

static double eval_loss(problem *p) {
    for (int k = 0; k < p->n_in; k++) clgan_graph_write(p->g, p->in[k], p->val[k]);
    MUST(clgan_graph_run(p->g, 0));
    float l;
    MUST(clgan_graph_read(p->g, p->loss, &l));
    return l;
}

/* Compiles p, then compares each analytic gradient with central differences. */
static void check(problem *p, const char *what) {
    for (int k = 0; k < p->n_wrt; k++) clgan_graph_keep(p->g, p->grad[k]);
    clgan_graph_keep(p->g, p->loss);
    if (clgan_graph_compile(p->g, ref) != CLGAN_OK) {
        CHECK(false, "%s: %s", what, clgan_last_error());
        return;
    }
    eval_loss(p);
    for (int k = 0; k < p->n_wrt; k++) {
        int w = p->wrt[k], slot = -1;
        for (int j = 0; j < p->n_in; j++)
            if (p->in[j] == w) slot = j;
        size_t n = clgan_node_numel(p->g, w);
        float *ana = malloc(n * sizeof *ana);
        eval_loss(p);
        MUST(clgan_graph_read(p->g, p->grad[k], ana));
        double max_ana = 0, max_err = 0;
        size_t worst = 0;
        for (size_t i = 0; i < n; i++) {
            float x0 = p->val[slot][i];
            p->val[slot][i] = x0 + (float)GRADCHECK_STEP;
            double lp = eval_loss(p);
            p->val[slot][i] = x0 - (float)GRADCHECK_STEP;
            double lm = eval_loss(p);
            p->val[slot][i] = x0;
            /* divide by the step actually taken, as rounded to float */
            double num = (lp - lm) / ((double)(x0 + (float)GRADCHECK_STEP) - (double)(x0 - (float)GRADCHECK_STEP));
            double err = fabs(num - ana[i]);
            if (fabs(ana[i]) > max_ana) max_ana = fabs(ana[i]);
            if (err > max_err) {
                max_err = err;
                worst = i;
            }
        }
        double bound = GRADCHECK_RTOL * max_ana + GRADCHECK_ATOL;
        bool ok = max_err <= bound;
        checks++;
        if (getenv("GRADCHECK_DEBUG")) {
            float x0 = p->val[slot][worst];
            p->val[slot][worst] = x0 + 0.01f;
            double a1 = eval_loss(p);
            p->val[slot][worst] = x0;
            double a0 = eval_loss(p);
            printf("  worst element: analytic %g, L(x+h) %.9g, L(x) %.9g\n", ana[worst], a1, a0);
        }
        EXPECT(ok, "%-40s input %d: max |num - ana| %.3g at %zu, bound %.3g (max |ana| %.3g)", what, slot, max_err,
               worst, bound, max_ana);
        free(ana);
    }
}

static void add_input(problem *p, int node, int dom, uint64_t seed) {
    size_t n = clgan_node_numel(p->g, node);
    p->in[p->n_in] = node;
    p->val[p->n_in] = malloc(n * sizeof(float));
    fill_domain(p->val[p->n_in], n, dom, seed);
    p->n_in++;
}

static void free_problem(problem *p) {
    for (int k = 0; k < p->n_in; k++) free(p->val[k]);
    clgan_graph_free(p->g);
}

/* L = sum(y * r): its gradient is the op's vector-Jacobian product with r */
static int project(problem *p, int y, uint64_t seed) {
    int nd, shape[4];
    clgan_node_shape(p->g, y, &nd, shape);
    int r = clgan_input(p->g, "r", nd, shape);
    add_input(p, r, DOM_ANY, seed);
    return clgan_sum(p->g, clgan_mul(p->g, y, r));
}

/* Second order: L2 = sum_k sum(dL/dx_k * r2_k), differentiated again. */
static void make_second_order(problem *p, uint64_t seed) {
    int l2 = -1;
    for (int k = 0; k < p->n_wrt; k++) {
        int t = project(p, p->grad[k], seed + (uint64_t)k);
        l2 = l2 < 0 ? t : clgan_add(p->g, l2, t);
    }
    p->loss = l2;
    clgan_backward(p->g, l2, p->n_wrt, p->wrt, p->grad);
}

static void op_case_check(const op_case *c, int idx, bool second) {
    problem p = {.g = clgan_graph_new()};
    int in[4];
    for (int k = 0; k < c->nin; k++) {
        in[k] = clgan_input(p.g, "x", c->ndim[k], c->shape[k]);
        add_input(&p, in[k], c->dom[k], (uint64_t)(100 + idx * 10 + k));
        if (c->diff[k]) p.wrt[p.n_wrt++] = in[k];
    }
    int y = c->build(p.g, in);
    p.loss = project(&p, y, (uint64_t)(500 + idx));
    clgan_backward(p.g, p.loss, p.n_wrt, p.wrt, p.grad);
    char what[96];
    snprintf(what, sizeof what, "%s%s", c->name, second ? " (2nd order)" : "");
    if (second) make_second_order(&p, (uint64_t)(700 + idx));
    check(&p, what);
    free_problem(&p);
}

/* linear layer y = leaky(x W^T + b), second order in x, W and b */
static void linear_check(bool second) {
    problem p = {.g = clgan_graph_new()};
    int x = clgan_input(p.g, "x", 2, (int[]){3, 7});
    int w = clgan_input(p.g, "w", 2, (int[]){5, 7});
    int b = clgan_input(p.g, "b", 1, (int[]){5});
    add_input(&p, x, DOM_ANY, 1);
    add_input(&p, w, DOM_ANY, 2);
    add_input(&p, b, DOM_ANY, 3);
    int y = clgan_tanh(p.g, clgan_add(p.g, clgan_matmul(p.g, x, w, false, true), b));
    p.loss = project(&p, y, 4);
    p.n_wrt = 3;
    memcpy(p.wrt, (int[]){x, w, b}, sizeof(int) * 3);
    clgan_backward(p.g, p.loss, 3, p.wrt, p.grad);
    if (second) make_second_order(&p, 5);
    check(&p, second ? "linear + tanh (2nd order)" : "linear + tanh");
    free_problem(&p);
}

/* spectral normalisation in evaluation (stored u, v: a pure function of W), in a
 * leaky linear layer: y = leaky(x (W / u^T W v)^T), first and second order in x and W
 * (in training the power iteration's u and v are functions of W that the gradient
 * deliberately treats as constants, as PyTorch: the golden fixtures check that) */
static void spectral_check(bool second) {
    problem p = {.g = clgan_graph_new()};
    int x = clgan_input(p.g, "x", 2, (int[]){3, 6});
    int w = clgan_input(p.g, "w", 2, (int[]){4, 6});
    int u = clgan_input(p.g, "u", 1, (int[]){4}), v = clgan_input(p.g, "v", 1, (int[]){6});
    add_input(&p, x, DOM_ANY, 21);
    add_input(&p, w, DOM_ANY, 22);
    add_input(&p, u, DOM_ANY, 23);
    add_input(&p, v, DOM_ANY, 24);
    int y = clgan_leaky_relu(p.g, clgan_matmul(p.g, x, clgan_spectral_norm(p.g, w, u, v, false), false, true), 0.2f);
    p.loss = project(&p, y, 25);
    p.n_wrt = 2;
    memcpy(p.wrt, (int[]){x, w}, sizeof(int) * 2);
    clgan_backward(p.g, p.loss, 2, p.wrt, p.grad);
    if (second) make_second_order(&p, 26);
    check(&p, second ? "spectral norm (2nd order)" : "spectral norm");
    free_problem(&p);
}

static void layernorm_check(bool second) {
    problem p = {.g = clgan_graph_new()};
    int x = clgan_input(p.g, "x", 4, (int[]){3, 2, 3, 3});
    int ga = clgan_input(p.g, "gamma", 3, (int[]){2, 3, 3});
    int be = clgan_input(p.g, "beta", 3, (int[]){2, 3, 3});
    add_input(&p, x, DOM_ANY, 11);
    add_input(&p, ga, DOM_POS, 12);
    add_input(&p, be, DOM_ANY, 13);
    int y = clgan_layernorm(p.g, x, ga, be, 1e-5f);
    p.loss = project(&p, y, 14);
    p.n_wrt = 3;
    memcpy(p.wrt, (int[]){x, ga, be}, sizeof(int) * 3);
    clgan_backward(p.g, p.loss, 3, p.wrt, p.grad);
    if (second) make_second_order(&p, 15);
    check(&p, second ? "layernorm (2nd order)" : "layernorm");
    free_problem(&p);
}

static void batchnorm_check(int ndim) {
    problem p = {.g = clgan_graph_new()};
    int shape4[4] = {4, 3, 2, 3}, shape2[2] = {5, 3};
    int x = clgan_input(p.g, "x", ndim, ndim == 4 ? shape4 : shape2);
    int ga = clgan_input(p.g, "gamma", 1, (int[]){3});
    int be = clgan_input(p.g, "beta", 1, (int[]){3});
    /* running statistics live in an input here: the EMA writes them in place,
     * harmlessly, on every evaluation */
    int rm = clgan_input(p.g, "run_mean", 1, (int[]){3});
    int rv = clgan_input(p.g, "run_var", 1, (int[]){3});
    add_input(&p, x, DOM_ANY, 21);
    add_input(&p, ga, DOM_POS, 22);
    add_input(&p, be, DOM_ANY, 23);
    add_input(&p, rm, DOM_ANY, 24);
    add_input(&p, rv, DOM_POS, 25);
    int y = clgan_batchnorm(p.g, x, ga, be, rm, rv, true, 0.1f, 1e-5f);
    p.loss = project(&p, y, 26);
    p.n_wrt = 3;
    memcpy(p.wrt, (int[]){x, ga, be}, sizeof(int) * 3);
    clgan_backward(p.g, p.loss, 3, p.wrt, p.grad);
    check(&p, ndim == 4 ? "batchnorm 2-D (training)" : "batchnorm 1-D (training)");
    free_problem(&p);
}

/* The WGAN-GP penalty ("Improved Training of Wasserstein GANs", eq. 3) of a small critic
 * D = linear(leaky(layernorm(conv2d(x)))):
 *   P = mean_n (||grad_x D(x_n)||_2 - 1)^2,
 * differentiated with respect to the critic's weights: a gradient of a
 * gradient through conv2d, layernorm, leaky_relu and a linear layer. */
static void gradient_penalty_check(void) {
    problem p = {.g = clgan_graph_new()};
    clgan_graph *g = p.g;
    int x = clgan_input(g, "x", 4, (int[]){2, 1, 5, 5});
    int w1 = clgan_input(g, "w1", 4, (int[]){3, 1, 3, 3});
    int ga = clgan_input(g, "gamma", 3, (int[]){3, 3, 3});
    int be = clgan_input(g, "beta", 3, (int[]){3, 3, 3});
    int w2 = clgan_input(g, "w2", 2, (int[]){1, 27});
    int b2 = clgan_input(g, "b2", 1, (int[]){1});
    int pre = clgan_layernorm(g, clgan_conv2d(g, x, w1, 2, 1), ga, be, 1e-5f);
    int h = clgan_reshape(g, clgan_leaky_relu(g, pre, 0.2f), 2, (int[]){2, 27});
    int d = clgan_add(g, clgan_matmul(g, h, w2, false, true), b2); /* (2, 1) */
    int gx;
    clgan_backward(g, clgan_sum(g, d), 1, &x, &gx);
    int norm = clgan_sqrt(g, clgan_sum_axes(g, clgan_reshape(g, clgan_square(g, gx), 2, (int[]){2, 25}), 0, 1));
    p.loss = clgan_mean(g, clgan_square(g, clgan_affine(g, norm, 1.0f, -1.0f)));
    clgan_graph_keep(g, pre);
    add_input(&p, x, DOM_ANY, 0);
    add_input(&p, w1, DOM_ANY, 0);
    add_input(&p, ga, DOM_POS, 33);
    add_input(&p, be, DOM_ANY, 34);
    add_input(&p, w2, DOM_ANY, 35);
    add_input(&p, b2, DOM_ANY, 36);
    p.n_wrt = 5;
    memcpy(p.wrt, (int[]){w1, ga, be, w2, b2}, sizeof(int) * 5);
    clgan_backward(g, p.loss, p.n_wrt, p.wrt, p.grad);
    /* finite differences are meaningless where leaky_relu's kink is crossed:
     * pick the first data seed whose pre-activations stay 0.15 from 0 under
     * every perturbation (each moves a pre-activation by well under 0.1) */
    for (uint64_t seed = 31;; seed += 100) {
        fill_domain(p.val[0], 50, DOM_ANY, seed);
        fill_domain(p.val[1], 27, DOM_ANY, seed + 1);
        clgan_graph *pg = clgan_graph_new();
        int px = clgan_input(pg, "x", 4, (int[]){2, 1, 5, 5}), pw = clgan_input(pg, "w1", 4, (int[]){3, 1, 3, 3});
        int pga = clgan_input(pg, "g", 3, (int[]){3, 3, 3}), pbe = clgan_input(pg, "b", 3, (int[]){3, 3, 3});
        int ppre = clgan_layernorm(pg, clgan_conv2d(pg, px, pw, 2, 1), pga, pbe, 1e-5f);
        clgan_graph_keep(pg, ppre);
        clgan_graph_compile(pg, ref);
        clgan_graph_write(pg, px, p.val[0]);
        clgan_graph_write(pg, pw, p.val[1]);
        clgan_graph_write(pg, pga, p.val[2]);
        clgan_graph_write(pg, pbe, p.val[3]);
        clgan_graph_run(pg, 0);
        float v[54];
        clgan_graph_read(pg, ppre, v);
        clgan_graph_free(pg);
        float m = INFINITY;
        for (int i = 0; i < 54; i++) m = fminf(m, fabsf(v[i]));
        if (m > 0.15f) break;
    }
    check(&p, "WGAN-GP penalty wrt critic weights");
    free_problem(&p);
}

/* every differentiable input of every op case, second order where marked */
static void part_ops(void) {
    int missing = op_without_case();
    CHECK(missing < 0, "op %s has no test case in tests/op_cases.h", clgan_ops[missing].name);
    checks = 0;
    for (int k = 0; k < N_OP_CASES; k++) {
        bool any = false;
        for (int j = 0; j < op_cases[k].nin; j++) any |= op_cases[k].diff[j];
        if (!any) continue;
        op_case_check(&op_cases[k], k, false);
        if (op_cases[k].second) op_case_check(&op_cases[k], k, true);
    }
    printf("%d checks, %d failed\n", checks, failures);
}

/* the composites the GAN losses need */
static void part_composites(void) {
    checks = 0;
    linear_check(false);
    linear_check(true);
    layernorm_check(false);
    layernorm_check(true);
    spectral_check(false);
    spectral_check(true);
    batchnorm_check(2);
    batchnorm_check(4);
    gradient_penalty_check();
    printf("%d checks, %d failed\n", checks, failures);
}

int main(int argc, char **argv) {
    clgan_log_set_level(CLGAN_LOG_WARN);
    clgan_device_list l;
    if (clgan_devices_enumerate(&l) != CLGAN_OK || clgan_device_open(&l.items[l.count - 1], NULL, &ref) != CLGAN_OK) {
        printf("cannot open ref: %s\n", clgan_last_error());
        return 1;
    }
    clgan_device_list_free(&l);
    static const harness_part parts[] = {{"ops", part_ops}, {"composites", part_composites}};
    int rc = harness_main(argc, argv, "test_gradcheck", parts, sizeof parts / sizeof parts[0]);
    clgan_device_close(ref);
    return rc;
}
