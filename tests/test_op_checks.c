/* Bad direct op calls are refused, the same way on every device: for every
 * op in the table, calls with a buffer one float too small, a tensor past
 * its buffer's end, a negative axis, shapes that do not fit and bad
 * parameters go through clgan_op_run on `ref` and on every OpenCL device;
 * each must return the expected status with the same message everywhere and
 * leave every buffer as it was (sentinels around and inside the tensors).
 * The unchanged call each bad one is made from must pass, so a checker that
 * refuses too much fails here too. On `ref`, a bad call that got through
 * would read or write out of bounds, which the sanitized build reports.
 * OpenCL devices are optional: without one, only `ref` is checked.
 *
 *   test_op_checks [op_codes|specific|generic|own]   (all without an argument) */
#include "op_cases.h"
#include "test_util.h"

#include "runtime/device_impl.h"

#include <math.h>

enum { GUARD = 67 };         /* floats of sentinel before every tensor and after it */
enum { SLOTS = 5, OUT = 4 }; /* inputs 0..3, the output */
enum { TARGET = -1 };        /* the output, or input 0 of an in-place op */
static const float SENTINEL = -7.77e30f;

typedef enum {
    M_NONE,  /* the good call */
    M_SHORT, /* the slot's buffer one float too small */
    M_PAST,  /* the slot's offset one float too far for its buffer */
    M_AXIS,  /* shape[a] += b, the buffer grown to fit */
    M_NEG,   /* shape[a] = -shape[a] */
    M_RANK,  /* ndim = a (the buffer sized for it) */
    M_IP,    /* ip[a] = b */
} mutation;

typedef struct {
    const char *name;  /* op case in op_cases.h; NULL: the first case of every op */
    const char *what;
    mutation m;
    int slot, a, b;
    clgan_status want;
} bad_case;

/* applied to the first case of every op */
static const bad_case generic[] = {
    {NULL, "target one float short", M_SHORT, TARGET, 0, 0, CLGAN_ERR_INVALID_ARG},
    {NULL, "last input past its buffer", M_PAST, 3, 0, 0, CLGAN_ERR_INVALID_ARG}, /* slot = nin - 1 */
    {NULL, "target with a negative axis", M_NEG, TARGET, 0, 0, CLGAN_ERR_INVALID_ARG},
    {NULL, "target of rank 5", M_RANK, TARGET, 5, 0, CLGAN_ERR_INVALID_ARG},
};

/* shapes that do not fit and bad parameters, op by op */
static const bad_case specific[] = {
    {"fill", "output past its buffer", M_PAST, OUT, 0, 0, CLGAN_ERR_INVALID_ARG},
    {"randn", "output past its buffer", M_PAST, OUT, 0, 0, CLGAN_ERR_INVALID_ARG},
    {"rand", "output one float short", M_SHORT, OUT, 0, 0, CLGAN_ERR_INVALID_ARG},
    /* unary: y and x differ */
    {"affine", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"square", "y shorter than x", M_AXIS, OUT, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"sqrt", "x longer than y", M_AXIS, 0, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"exp", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"log", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"abs", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"sign", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"relu", "y longer than x", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"step", "y longer than x", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"leaky_relu", "y longer than x", M_AXIS, OUT, 3, 1, CLGAN_ERR_INVALID_ARG},
    {"leaky_step", "y longer than x", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"tanh", "y longer than x", M_AXIS, OUT, 3, 1, CLGAN_ERR_INVALID_ARG},
    {"sigmoid", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"softplus", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"clamp", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"clamp_mask", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    /* binary: a, y and (outer, mid, inner) must agree, b must have mid */
    {"add", "y longer than a", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"add", "a longer than y", M_AXIS, 0, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"add channel bias", "b longer than mid", M_AXIS, 1, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"add channel bias", "mid one more", M_IP, 0, 1, 8, CLGAN_ERR_INVALID_ARG},
    {"add channel bias", "negative inner", M_IP, 0, 2, -15, CLGAN_ERR_INVALID_ARG},
    {"sub scalar", "mid 0", M_IP, 0, 1, 0, CLGAN_ERR_INVALID_ARG},
    {"mul channel", "b shorter than mid", M_AXIS, 1, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"div", "outer one more", M_IP, 0, 0, 2, CLGAN_ERR_INVALID_ARG},
    {"bce_logits", "y shorter than a", M_AXIS, OUT, 0, -1, CLGAN_ERR_INVALID_ARG},
    /* reductions */
    {"sum channels", "y longer than mid", M_AXIS, OUT, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"sum channels", "outer one more", M_IP, 0, 0, 4, CLGAN_ERR_INVALID_ARG},
    {"sum all", "negative mid", M_IP, 0, 1, -1, CLGAN_ERR_INVALID_ARG},
    {"expand", "y longer than outer mid inner", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"expand", "b longer than mid", M_AXIS, 0, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"logsumexp", "y longer than the rows", M_AXIS, OUT, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"logsumexp", "x of rank 3", M_RANK, 0, 3, 0, CLGAN_ERR_INVALID_ARG},
    {"logsumexp", "empty rows", M_AXIS, 0, 1, -7, CLGAN_ERR_INVALID_ARG},
    /* matmul */
    {"matmul", "A read as transposed", M_IP, 0, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"matmul A^T", "C one column more", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"matmul B^T (linear)", "B inner size off", M_AXIS, 1, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"matmul A^T B^T", "C of rank 3", M_RANK, OUT, 3, 0, CLGAN_ERR_INVALID_ARG},
    {"matmul", "empty C", M_AXIS, OUT, 0, -7, CLGAN_ERR_INVALID_ARG},
    /* convolutions */
    {"conv2d s1 p1", "stride 0", M_IP, 0, 0, 0, CLGAN_ERR_INVALID_ARG},
    {"conv2d s1 p1", "padding -1", M_IP, 0, 1, -1, CLGAN_ERR_INVALID_ARG},
    {"conv2d s1 p1", "padding 2 for y's size", M_IP, 0, 1, 2, CLGAN_ERR_INVALID_ARG},
    {"conv2d s2 p0", "y one row more", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"conv2d s2 p0", "w's channels off", M_AXIS, 1, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"conv2d s3 p2", "padding 2^30", M_IP, 0, 1, 1 << 30, CLGAN_ERR_INVALID_ARG},
    {"conv_t2d s2 p1", "output padding 1 for y's size", M_IP, 0, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"conv_t2d s2 p1", "output padding -1", M_IP, 0, 3, -1, CLGAN_ERR_INVALID_ARG},
    {"conv_t2d s3 p2 op1", "stride 4 for y's size", M_IP, 0, 0, 4, CLGAN_ERR_INVALID_ARG},
    {"conv_t2d s3 p2 op1", "y one channel more", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"conv_t2d s3 p2 op1", "x of rank 3", M_RANK, 0, 3, 0, CLGAN_ERR_INVALID_ARG},
    {"conv2d_grad_w", "dw one column more", M_AXIS, OUT, 3, 1, CLGAN_ERR_INVALID_ARG},
    {"conv2d_grad_w", "dy from another batch", M_AXIS, 1, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"conv2d_grad_w", "stride -2", M_IP, 0, 0, -2, CLGAN_ERR_INVALID_ARG},
    {"conv2d 1x5 p0,2", "column padding -1", M_IP, 0, 4, -1, CLGAN_ERR_INVALID_ARG},
    {"conv2d 5x1 s2 p2,0", "column padding 1 for y's size", M_IP, 0, 4, 1, CLGAN_ERR_INVALID_ARG},
    /* pooling */
    {"max_pool2d k3 s2", "kernel 0", M_IP, 0, 0, 0, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d k3 s2", "y one row more", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d k3 s1 p1", "padding 2, over half the kernel", M_IP, 0, 2, 2, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d k4 s3 p2", "stride 0", M_IP, 0, 1, 0, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d k4 s3 p2", "x of rank 3", M_RANK, 0, 3, 0, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d_grad k3 s2 p1", "dy one column more", M_AXIS, 1, 3, 1, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d_grad k3 s2 p1", "dx from another batch", M_AXIS, OUT, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d_gather k3 s2 p1", "v one row more than x", M_AXIS, 1, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"max_pool2d_gather k3 s2 p1", "y one channel more", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"avg_pool2d k3 s1 p1 exclude pad", "count_include_pad 2", M_IP, 0, 3, 2, CLGAN_ERR_INVALID_ARG},
    {"avg_pool2d k3 s2 p1 include pad", "padding -1", M_IP, 0, 2, -1, CLGAN_ERR_INVALID_ARG},
    {"avg_pool2d k8 s8", "kernel 18, more than x", M_IP, 0, 0, 18, CLGAN_ERR_INVALID_ARG},
    {"avg_pool2d_grad k3 s2 p1 exclude pad", "dx two rows more", M_AXIS, OUT, 2, 2, CLGAN_ERR_INVALID_ARG},
    {"avg_pool2d_grad k3 s2 p1 include pad", "kernel 9 for dy's size", M_IP, 0, 0, 9, CLGAN_ERR_INVALID_ARG},
    /* layout */
    {"copy", "y longer than x", M_AXIS, OUT, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"allreduce", "y shorter than x", M_AXIS, OUT, 1, -1, CLGAN_ERR_INVALID_ARG},
    {"permute", "not a permutation", M_IP, 0, 1, 2, CLGAN_ERR_INVALID_ARG},
    {"permute", "axis 4 of 4", M_IP, 0, 3, 4, CLGAN_ERR_INVALID_ARG},
    {"permute", "y in the wrong order", M_AXIS, OUT, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"concat", "axis 3 of 3", M_IP, 0, 0, 3, CLGAN_ERR_INVALID_ARG},
    {"concat", "axis -1", M_IP, 0, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"concat", "b differs outside the axis", M_AXIS, 1, 2, 1, CLGAN_ERR_INVALID_ARG},
    {"concat", "y one row more", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"slice", "start 6 of 7 for 2", M_IP, 0, 1, 6, CLGAN_ERR_INVALID_ARG},
    {"slice", "start -1", M_IP, 0, 1, -1, CLGAN_ERR_INVALID_ARG},
    {"slice", "axis 3 of 3", M_IP, 0, 0, 3, CLGAN_ERR_INVALID_ARG},
    {"slice", "y narrower than x outside the axis", M_AXIS, OUT, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"embedding", "y one column more", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"embedding", "more labels than rows of y", M_AXIS, 1, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"embedding", "table of rank 1", M_RANK, 0, 1, 0, CLGAN_ERR_INVALID_ARG},
    {"embedding_grad", "dy one column more", M_AXIS, 0, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"embedding_grad", "more labels than rows of dy", M_AXIS, 1, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"embedding_grad", "dtable of rank 1", M_RANK, OUT, 1, 0, CLGAN_ERR_INVALID_ARG},
    {"one_hot", "more labels than rows", M_AXIS, 0, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"one_hot", "y of rank 3", M_RANK, OUT, 3, 0, CLGAN_ERR_INVALID_ARG},
    /* augmentation: u two per sample, bounds inside the image, y as x */
    {"shift2d", "u one sample short", M_AXIS, 1, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"shift2d", "a shift bound past the image", M_IP, 0, 0, 10, CLGAN_ERR_INVALID_ARG},
    {"shift2d", "adjoint flag 2", M_IP, 0, 2, 2, CLGAN_ERR_INVALID_ARG},
    {"shift2d", "y longer than x", M_AXIS, OUT, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"cutout 5x3", "a box taller than the image", M_IP, 0, 0, 10, CLGAN_ERR_INVALID_ARG},
    {"cutout 5x3", "u one sample more", M_AXIS, 1, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"cutout 5x3", "x of rank 3", M_RANK, 0, 3, 0, CLGAN_ERR_INVALID_ARG},
    /* in place: every input as long as input 0 */
    {"ema", "x longer than r", M_AXIS, 1, 1, 1, CLGAN_ERR_INVALID_ARG},
    {"adam", "v shorter than p", M_AXIS, 3, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"adam", "g longer than p", M_AXIS, 1, 0, 1, CLGAN_ERR_INVALID_ARG},
    {"sgd", "buf shorter than p", M_AXIS, 2, 0, -1, CLGAN_ERR_INVALID_ARG},
    {"sgd", "g one float short", M_SHORT, 1, 0, 0, CLGAN_ERR_INVALID_ARG},
    {"rmsprop", "sq longer than p", M_AXIS, 2, 0, 1, CLGAN_ERR_INVALID_ARG},
};

/* One call and its buffers' sizes, before buffers exist. */
typedef struct {
    clgan_op_call call;
    size_t cap[SLOTS]; /* floats in each slot's buffer */
    int nslots_used;
} plan;

static clgan_op_tensor *slot_of(clgan_op_call *c, int s) { return s == OUT ? &c->out : &c->in[s]; }

static size_t numel_signed(const clgan_op_tensor *t) {
    size_t n = 1;
    for (int i = 0; i < t->ndim && i < CLGAN_MAX_DIMS; i++) n *= (size_t)(t->shape[i] < 0 ? -t->shape[i] : t->shape[i]);
    return n;
}

/* The good call of op case k, as test_ops.c makes it from the case's node. */
static plan plan_of(const op_case *oc) {
    clgan_graph *g = clgan_graph_new();
    int in[4];
    for (int k = 0; k < oc->nin; k++) in[k] = clgan_input(g, "x", oc->ndim[k], oc->shape[k]);
    int y = oc->build(g, in);
    if (clgan_graph_status(g) != CLGAN_OK || y < 0) fail_msg("case %s: cannot build: %s", oc->name, g->error);
    const clgan_gnode *n = &g->nodes[y];
    plan p = {.call = {.op = n->op, .nin = n->nin, .seed = n->seed, .offset = 77}};
    memcpy(p.call.fp, n->fp, sizeof p.call.fp);
    memcpy(p.call.ip, n->ip, sizeof p.call.ip);
    for (int k = 0; k < oc->nin; k++) {
        p.call.in[k] = (clgan_op_tensor){.off = GUARD, .ndim = oc->ndim[k]};
        memcpy(p.call.in[k].shape, oc->shape[k], sizeof p.call.in[k].shape);
    }
    p.call.out = (clgan_op_tensor){.off = GUARD, .ndim = n->ndim};
    memcpy(p.call.out.shape, n->shape, sizeof p.call.out.shape);
    for (int s = 0; s < SLOTS; s++)
        if (s == OUT || s < oc->nin) p.cap[s] = GUARD + numel_signed(slot_of(&p.call, s)) + GUARD;
    clgan_graph_free(g);
    return p;
}

/* Applies b's mutation to p; false when it does not apply to this op. */
static bool mutate(plan *p, const bad_case *b) {
    int s = b->slot;
    if (s == TARGET) s = clgan_op_is_inplace(p->call.op) ? 0 : OUT;
    if (b->name == NULL && b->m == M_PAST) { /* the last input */
        if (p->call.nin == 0) return false;
        s = p->call.nin - 1;
    }
    clgan_op_tensor *t = slot_of(&p->call, s);
    switch (b->m) {
    case M_NONE: return true;
    case M_SHORT: p->cap[s] = t->off + numel_signed(t) - 1; return true;
    case M_PAST: t->off = p->cap[s] - numel_signed(t) + 1; return true;
    case M_AXIS:
        t->shape[b->a] += b->b;
        p->cap[s] = t->off + numel_signed(t) + GUARD;
        return true;
    case M_NEG: t->shape[b->a] = -t->shape[b->a]; return true;
    case M_RANK:
        /* shapes beyond 4 axes cannot be stored: a rank of 5 keeps the 4 */
        for (int i = t->ndim; i < b->a && i < CLGAN_MAX_DIMS; i++) t->shape[i] = 1;
        t->ndim = b->a;
        p->cap[s] = t->off + numel_signed(t) + GUARD;
        return true;
    case M_IP: p->call.ip[b->a] = b->b; return true;
    }
    return false;
}

/* What a buffer holds before the call: sentinels, with data where the
 * slot's tensor lies inside it. */
static float *initial(const plan *p, int s, int k) {
    size_t cap = p->cap[s];
    float *h = malloc((cap ? cap : 1) * sizeof *h);
    for (size_t i = 0; i < cap; i++) h[i] = SENTINEL;
    if (s != OUT && s < p->call.nin) {
        const clgan_op_tensor *t = &p->call.in[s];
        size_t n = numel_signed(t);
        if (t->off <= cap && n <= cap - t->off) fill_domain(h + t->off, n, DOM_LABEL, (uint64_t)(k * 10 + s));
    }
    return h;
}

typedef struct {
    clgan_status st;
    char msg[512];
    bool unchanged;
} outcome;

static outcome run_plan(clgan_device *d, const plan *p, int k) {
    outcome o = {.unchanged = true};
    clgan_op_call c = p->call;
    clgan_buffer *bufs[SLOTS] = {0};
    float *init[SLOTS] = {0};
    for (int s = 0; s < SLOTS; s++) {
        if (s != OUT && s >= c.nin) continue;
        init[s] = initial(p, s, k);
        MUST(clgan_buffer_alloc(d, p->cap[s] * sizeof(float), &bufs[s]));
        MUST(clgan_buffer_write(bufs[s], 0, init[s], p->cap[s] * sizeof(float)));
        slot_of(&c, s)->buf = bufs[s];
    }
    o.st = clgan_op_run(d, &c);
    snprintf(o.msg, sizeof o.msg, "%s", o.st == CLGAN_OK ? "" : clgan_last_error());
    bool finished = clgan_device_finish(d) == CLGAN_OK;
    CHECK(finished, "finish on %s: %s", clgan_device_get_info(d)->id, clgan_last_error());
    for (int s = 0; s < SLOTS; s++) {
        if (!bufs[s]) continue;
        float *h = malloc((p->cap[s] ? p->cap[s] : 1) * sizeof *h);
        MUST(clgan_buffer_read(bufs[s], 0, h, p->cap[s] * sizeof(float)));
        if (memcmp(h, init[s], p->cap[s] * sizeof *h) != 0) o.unchanged = false;
        free(h);
        free(init[s]);
        clgan_buffer_free(bufs[s]);
    }
    return o;
}

/* Runs the bad call on every device: it must be refused as wanted (CHECKs). */
static void check_bad(clgan_device *const *devs, int ndev, const op_case *oc, int k, const bad_case *b) {
    plan p = plan_of(oc);
    if (!mutate(&p, b)) return;
    bool ok = true;
    outcome first = {0};
    for (int i = 0; i < ndev; i++) {
        outcome o = run_plan(devs[i], &p, k);
        const char *id = clgan_device_get_info(devs[i])->id;
        if (o.st != b->want) {
            CHECK(false, "%-20s %-32s on %s: %s, want %s%s%s", oc->name, b->what, id, clgan_status_name(o.st),
                  clgan_status_name(b->want), o.st ? ": " : "", o.msg);
            ok = false;
        } else if (!o.unchanged) {
            CHECK(false, "%-20s %-32s on %s: refused, but a buffer changed", oc->name, b->what, id);
            ok = false;
        } else if (i > 0 && strcmp(o.msg, first.msg) != 0) {
            CHECK(false, "%-20s %-32s on %s: message differs from %s's:\n     %s\n     %s", oc->name, b->what, id,
                  clgan_device_get_info(devs[0])->id, o.msg, first.msg);
            ok = false;
        }
        if (i == 0) first = o;
    }
    if (ok) OK("%-20s %-32s %s", oc->name, b->what, first.msg);
}

/* The unchanged call must pass on every device (a CHECK), so a checker that
 * refuses too much fails too. */
static void check_good(clgan_device *const *devs, int ndev, const op_case *oc, int k) {
    plan p = plan_of(oc);
    for (int i = 0; i < ndev; i++) {
        outcome o = run_plan(devs[i], &p, k);
        if (o.st != CLGAN_OK) {
            CHECK(false, "%-20s the good call on %s: %s", oc->name, clgan_device_get_info(devs[i])->id, o.msg);
            return;
        }
    }
}

/* The op codes every program is built with (generated from op_table.h by
 * tools/embed_cl.py) are the enum's. */
static void check_op_codes(void) {
    int lines = 0;
    for (const char *p = clgan_embedded_op_codes; (p = strchr(p, '\n')); p++) lines++;
    bool ok = lines == CLGAN_OP_COUNT;
#define X(E, name, nin)                                                                  \
    {                                                                                    \
        char want[64];                                                                   \
        snprintf(want, sizeof want, "#define OPC_%s %d\n", #E, (int)CLGAN_OP_##E);      \
        if (!strstr(clgan_embedded_op_codes, want)) {                                    \
            CHECK(false, "the kernels' op codes lack \"%.*s\"", (int)strlen(want) - 1, want); \
            ok = false;                                                                  \
        }                                                                                \
    }
    CLGAN_OP_LIST(X)
#undef X
    CHECK(ok, "op codes in the kernels: %d lines for %d ops", lines, CLGAN_OP_COUNT);
    if (ok) OK("op codes in the kernels: %d lines for %d ops", lines, CLGAN_OP_COUNT);
}

static int case_index(const char *name) {
    for (int k = 0; k < N_OP_CASES; k++)
        if (strcmp(op_cases[k].name, name) == 0) return k;
    return -1;
}

enum { MAX_DEVICES = 16 };

/* ref first (the other devices' messages are compared with its), then every
 * OpenCL device that opens (one that does not is a failure); returns how many. */
static int open_devices(clgan_device **devs) {
    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    int ndev = 0;
    MUST(clgan_device_open(&l.items[l.count - 1], NULL, &devs[ndev++]));
    for (int i = 0; i < l.count && ndev < MAX_DEVICES; i++) {
        if (l.items[i].backend != CLGAN_BACKEND_OPENCL) continue;
        if (clgan_device_open(&l.items[i], NULL, &devs[ndev]) != CLGAN_OK) {
            CHECK(false, "open %s: %s", l.items[i].id, clgan_last_error());
            continue;
        }
        printf("device %s (%s)\n", l.items[i].id, l.items[i].name);
        ndev++;
    }
    if (ndev == 1) printf("no OpenCL device (%s): checking ref alone\n", l.opencl_note);
    clgan_device_list_free(&l);
    return ndev;
}

static void close_devices(clgan_device **devs, int ndev) {
    for (int i = 0; i < ndev; i++) clgan_device_close(devs[i]);
}

static void part_op_codes(void) { check_op_codes(); }

/* shapes that do not fit and bad parameters, op by op (`specific`), each
 * after its unchanged call */
static void part_specific(void) {
    clgan_device *devs[MAX_DEVICES];
    int ndev = open_devices(devs);
    for (size_t i = 0; i < sizeof specific / sizeof specific[0]; i++) {
        int k = case_index(specific[i].name);
        if (k < 0) {
            CHECK(false, "no op case named \"%s\"", specific[i].name);
            continue;
        }
        check_good(devs, ndev, &op_cases[k], k);
        check_bad(devs, ndev, &op_cases[k], k, &specific[i]);
    }
    close_devices(devs, ndev);
}

/* the `generic` bad calls on the first case of every op, after its unchanged call */
static void part_generic(void) {
    clgan_device *devs[MAX_DEVICES];
    int ndev = open_devices(devs);
    for (int op = 0; op < CLGAN_OP_COUNT; op++) {
        int k = 0;
        while (k < N_OP_CASES && (int)op_cases[k].op != op) k++;
        if (k == N_OP_CASES) {
            CHECK(false, "op %s has no case in tests/op_cases.h", clgan_ops[op].name);
            continue;
        }
        check_good(devs, ndev, &op_cases[k], k);
        for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
            check_bad(devs, ndev, &op_cases[k], k, &generic[i]);
    }
    close_devices(devs, ndev);
}

/* every op has a bad call of its own in `specific`, beside the generic ones
 * (the table alone: no device runs here) */
static void part_own(void) {
    int own[CLGAN_OP_COUNT] = {0};
    for (size_t i = 0; i < sizeof specific / sizeof specific[0]; i++) {
        int k = case_index(specific[i].name);
        if (k < 0) continue; /* reported by part specific */
        plan p = plan_of(&op_cases[k]);
        if (mutate(&p, &specific[i])) own[op_cases[k].op]++;
    }
    for (int op = 0; op < CLGAN_OP_COUNT; op++)
        CHECK(own[op] > 0, "op %s has no bad call of its own in tests/test_op_checks.c", clgan_ops[op].name);
}

int main(int argc, char **argv) {
    clgan_log_set_level(CLGAN_LOG_WARN);
    static const harness_part parts[] = {
        {"op_codes", part_op_codes},
        {"specific", part_specific},
        {"generic", part_generic},
        {"own", part_own},
    };
    return harness_main(argc, argv, "test_op_checks", parts, sizeof parts / sizeof parts[0]);
}
