/* Buffer planning and execution. clgan_graph_compile decides once where
 * every value lives: parameters and their gradients in their block's
 * buffers, reshapes on their source, everything else in one arena where a
 * value's region is reused once its last reader has run. clgan_graph_run
 * then only launches ops. */
#include "autograd/graph_impl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_FLOATS 64 /* 256-byte aligned regions */

typedef struct {
    size_t off, len;
} span;

typedef struct {
    span *v;
    int n, cap;
    size_t end;  /* end of the arena's used part */
    size_t peak; /* the largest end ever: the arena's size */
} free_list;

static bool fl_push(free_list *f, span s) {
    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 64;
        span *g = realloc(f->v, (size_t)cap * sizeof *g);
        if (!g) return false;
        f->v = g;
        f->cap = cap;
    }
    f->v[f->n++] = s;
    return true;
}

/* best fit: the smallest freed region that holds len, else grow the arena */
static size_t fl_alloc(free_list *f, size_t len) {
    int best = -1;
    for (int i = 0; i < f->n; i++)
        if (f->v[i].len >= len && (best < 0 || f->v[i].len < f->v[best].len)) best = i;
    if (best >= 0) {
        size_t off = f->v[best].off;
        f->v[best].off += len;
        f->v[best].len -= len;
        if (f->v[best].len == 0) f->v[best] = f->v[--f->n];
        return off;
    }
    size_t off = f->end;
    f->end += len;
    if (f->end > f->peak) f->peak = f->end;
    return off;
}

/* returns a region and merges it with free neighbours */
static bool fl_free(free_list *f, span s) {
    for (int i = 0; i < f->n; i++) {
        if (f->v[i].off + f->v[i].len == s.off) {
            s.off = f->v[i].off;
            s.len += f->v[i].len;
            f->v[i--] = f->v[--f->n];
        } else if (s.off + s.len == f->v[i].off) {
            s.len += f->v[i].len;
            f->v[i--] = f->v[--f->n];
        }
    }
    if (s.off + s.len == f->end) {
        f->end = s.off;
        return true;
    }
    return fl_push(f, s);
}

static size_t aligned(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

/* the node whose memory n uses (through reshapes) */
static int storage_of(const clgan_graph *g, int n) {
    while (g->nodes[n].kind == NODE_VIEW) n = g->nodes[n].in[0];
    return n;
}

static bool in_arena(const clgan_gnode *n) {
    return n->kind == NODE_INPUT ||
           (n->kind == NODE_OP && !n->grad_of_param && !clgan_op_is_inplace(n->op) && !n->elided);
}

/* where node i runs: its fused group's root, or itself */
static int run_position(const clgan_graph *g, int i) {
    int gi = g->nodes[i].group;
    return gi >= 0 ? g->groups[gi].root : i;
}

/* Constants: a FILL, and a node of the ops below whose inputs are all
 * constants (through reshapes), unless something writes its storage in
 * place. Their values are the same every run, so compile computes them once
 * and keeps their regions (backward's seeds and the scalings the losses'
 * means put on them would otherwise run every step). */
static bool pure_op(clgan_op op) {
    return (op >= CLGAN_OP_AFFINE && op <= CLGAN_OP_CLAMP_MASK) || (op >= CLGAN_OP_ADD && op <= CLGAN_OP_BCE_LOGITS) ||
           op == CLGAN_OP_SUM || op == CLGAN_OP_EXPAND || op == CLGAN_OP_COPY || op == CLGAN_OP_PERMUTE ||
           op == CLGAN_OP_CONCAT || op == CLGAN_OP_SLICE;
}

static clgan_status mark_constants(clgan_graph *g) {
    int n = g->n;
    bool *written = calloc((size_t)(n > 0 ? n : 1), sizeof *written);
    if (!written) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory planning a graph");
    for (int i = 0; i < n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (x->needed && x->kind == NODE_OP && clgan_op_is_inplace(x->op)) written[storage_of(g, x->in[0])] = true;
    }
    for (int i = 0; i < n; i++) {
        clgan_gnode *x = &g->nodes[i];
        x->konst = false;
        if (!x->needed || x->grad_of_param || written[storage_of(g, i)]) continue;
        if (x->kind == NODE_VIEW) {
            x->konst = g->nodes[x->in[0]].konst;
        } else if (x->kind == NODE_OP && (x->op == CLGAN_OP_FILL || (pure_op(x->op) && x->nin > 0))) {
            bool k = true;
            for (int j = 0; j < x->nin && k; j++) k = g->nodes[x->in[j]].konst;
            x->konst = k;
        }
    }
    free(written);
    return CLGAN_OK;
}

/* Whether a graph compiled for d fuses: OpenCL devices that build
 * generated kernels, unless CLGAN_FUSE=0 (for comparisons). */
static bool fusion_for(const clgan_device *d) {
    const char *env = getenv("CLGAN_FUSE");
    return d && clgan_fused_available(d) && !(env && strcmp(env, "0") == 0);
}

/* Whether a graph compiled for d also chains its calls (fused.h): where the
 * kernels take the CPU forms, unless CLGAN_FUSE_CHAIN=0 (for comparisons) */
static bool chains_for(const clgan_device *d) {
    const char *env = getenv("CLGAN_FUSE_CHAIN");
    return fusion_for(d) && clgan_cl_cpu_forms(d) && !(env && strcmp(env, "0") == 0);
}

/* Whether node x is launched on its own between fused groups: an op that
 * is in no group and not a constant computed at compile. It ends a run of
 * groups that may chain (extend_through_runs, find_chains). */
static bool launched_alone(const clgan_gnode *x) { return x->group < 0 && x->kind == NODE_OP && !x->konst; }

/* With chains, the groups of a run with nothing launched between them may
 * run as one kernel, each stage for one kept element after another: what
 * any of them reads stays alive until the run's last group has run. */
static clgan_status extend_through_runs(clgan_graph *g) {
    int *end = malloc((size_t)(g->ngroups ? g->ngroups : 1) * sizeof *end);
    int *roots = malloc((size_t)(g->ngroups ? g->ngroups : 1) * sizeof *roots);
    if (!end || !roots) {
        free(end);
        free(roots);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory planning a graph");
    }
    int nr = 0, from = 0;
    for (int i = 0; i <= g->n; i++) {
        const clgan_gnode *x = i < g->n ? &g->nodes[i] : NULL;
        if (x && !x->needed) continue;
        if (x && x->group >= 0) {
            if (g->groups[x->group].root == i) roots[nr++] = x->group;
            continue;
        }
        if (x && !launched_alone(x)) continue;
        for (int r = from; r < nr; r++) end[roots[r]] = g->groups[roots[nr - 1]].root;
        from = nr;
    }
    for (int i = 0; i < g->n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (!x->needed || x->group < 0) continue;
        for (int k = 0; k < x->nin; k++) {
            clgan_gnode *s = &g->nodes[storage_of(g, x->in[k])];
            if (s->last_use < end[x->group]) s->last_use = end[x->group];
        }
    }
    free(end);
    free(roots);
    return CLGAN_OK;
}

/* Marks the nodes that must run and gives each arena value its offset
 * (*off, n entries, malloc'd); *total is the arena's size in floats. Needs
 * no device, so a configuration's memory can be known before allocating. */
static clgan_status plan_offsets(clgan_graph *g, size_t **off_out, size_t *total_out) {
    int n = g->n;
    /* which nodes must run: those kept (outputs, inputs, side effects,
     * parameter gradients) and everything they read */
    for (int i = n - 1; i >= 0; i--) {
        clgan_gnode *x = &g->nodes[i];
        x->needed = x->needed || x->keep || x->grad_of_param || (x->kind == NODE_OP && clgan_op_is_inplace(x->op));
        if (!x->needed) continue;
        for (int k = 0; k < x->nin; k++) g->nodes[x->in[k]].needed = true;
    }
    clgan_status cst = mark_constants(g);
    if (cst != CLGAN_OK) return cst;
    if (g->fuse) {
        clgan_status st = clgan_fuse_groups(g);
        if (st != CLGAN_OK) return st;
    } else {
        clgan_fuse_reset(g);
    }
    /* last reader of each storage node (a fused member reads at its root) */
    for (int i = 0; i < n; i++) g->nodes[i].last_use = g->nodes[i].keep || g->nodes[i].konst ? INT_MAX : i;
    for (int i = 0; i < n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (!x->needed) continue;
        int at = run_position(g, i);
        for (int k = 0; k < x->nin; k++) {
            int s = storage_of(g, x->in[k]);
            if (g->nodes[s].last_use < at) g->nodes[s].last_use = at;
        }
        if (x->keep || x->konst) g->nodes[storage_of(g, i)].last_use = INT_MAX;
    }
    if (g->fuse && g->chain) {
        clgan_status st = extend_through_runs(g);
        if (st != CLGAN_OK) return st;
    }
    /* arena offsets: allocate a node's region, then release the regions
     * whose last reader it is (never before: an op never runs in place) */
    free_list fl = {0};
    size_t *off = calloc((size_t)(n > 0 ? n : 1), sizeof *off);
    if (!off) {
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory planning a graph");
    }
    /* inputs are written before the run starts, and constants at compile:
     * they hold their regions from the start, wherever they appear */
    for (int i = 0; i < n; i++)
        if (g->nodes[i].kind == NODE_INPUT || (g->nodes[i].konst && in_arena(&g->nodes[i])))
            off[i] = fl_alloc(&fl, aligned(numel_of_node(&g->nodes[i])));
    for (int i = 0; i < n; i++) {
        clgan_gnode *x = &g->nodes[i];
        if (!x->needed || !in_arena(x)) continue;
        if (x->kind != NODE_INPUT && !x->konst) off[i] = fl_alloc(&fl, aligned(numel_of_node(x)));
        for (int j = 0; j <= i; j++) {
            clgan_gnode *y = &g->nodes[j];
            if (y->needed && in_arena(y) && y->last_use == i)
                if (!fl_free(&fl, (span){off[j], aligned(numel_of_node(y))})) {
                    free(fl.v);
                    free(off);
                    return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory planning a graph");
                }
        }
    }
    *total_out = fl.peak ? fl.peak : 1;
    free(fl.v);
    *off_out = off;
    return CLGAN_OK;
}

clgan_status clgan_graph_plan_bytes(clgan_graph *g, const clgan_device *d, uint64_t *bytes) {
    if (g->status != CLGAN_OK)
        return clgan_set_error(g->status, __FILE__, __LINE__, "building the graph: %s", g->error);
    if (!g->dev) {
        g->fuse = fusion_for(d);
        g->chain = chains_for(d);
    }
    size_t *off = NULL, total = 0;
    clgan_status st = plan_offsets(g, &off, &total);
    free(off);
    if (st == CLGAN_OK) *bytes = (uint64_t)total * sizeof(float);
    return st;
}

static clgan_status run_op(clgan_graph *g, int i, uint64_t step);

/* The constants' values, once (mark_constants) */
static clgan_status run_constants(clgan_graph *g) {
    for (int i = 0; i < g->n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (x->needed && x->konst && x->kind == NODE_OP) {
            clgan_status st = run_op(g, i, 0);
            if (st != CLGAN_OK) return clgan_error_context(st, "computing the graph's constants: ");
        }
    }
    return CLGAN_OK;
}

/* Ends chain *cur: kept when it has two calls or more */
static void close_chain(clgan_graph *g, clgan_fused_chain *cur) {
    if (cur->n >= 2) {
        for (int k = 0; k < cur->n; k++) g->chain_of[cur->call[k]] = g->nchains;
        g->chains[g->nchains++] = *cur;
    }
    cur->n = 0;
}

/* The chains: runs of groups in run order with nothing launched between
 * them that clgan_fused_chain_accepts, after the calls are prepared (their
 * forms and parts known) */
static clgan_status find_chains(clgan_graph *g) {
    if (!g->chain) return CLGAN_OK;
    g->chains = calloc((size_t)g->ngroups, sizeof *g->chains);
    g->chain_of = malloc((size_t)g->ngroups * sizeof *g->chain_of);
    if (!g->chains || !g->chain_of) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory chaining fused kernels");
    for (int k = 0; k < g->ngroups; k++) g->chain_of[k] = -1;
    clgan_fused_chain cur = {.n = 0};
    for (int i = 0; i < g->n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (!x->needed) continue;
        if (x->group >= 0) {
            int k = x->group;
            if (g->groups[k].root != i) continue;
            if (cur.n && clgan_fused_chain_accepts(g->calls, &cur, &g->calls[k])) {
                cur.call[cur.n++] = k;
                continue;
            }
            close_chain(g, &cur);
            if (clgan_fused_chain_starts(&g->calls[k])) cur.call[cur.n++] = k;
        } else if (launched_alone(x)) {
            close_chain(g, &cur); /* an op between: the chain ends */
        }
    }
    close_chain(g, &cur);
    return CLGAN_OK;
}

clgan_status clgan_graph_compile(clgan_graph *g, clgan_device *d) {
    if (g->status != CLGAN_OK)
        return clgan_set_error(g->status, __FILE__, __LINE__, "building the graph: %s", g->error);
    if (g->dev) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "graph already compiled");
    g->fuse = fusion_for(d);
    g->chain = chains_for(d);
    int n = g->n;
    size_t *off = NULL, total = 0;
    clgan_status pst = plan_offsets(g, &off, &total);
    if (pst != CLGAN_OK) return pst;
    for (int i = 0; i < n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (x->needed && x->kind == NODE_PARAM && (!x->params->values || x->params->dev != d)) {
            free(off);
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter block %s is not allocated on device %s",
                             x->params->name, clgan_device_get_info(d)->id);
        }
    }
    clgan_status st = clgan_buffer_alloc(d, total * sizeof(float), &g->arena);
    if (st != CLGAN_OK) {
        free(off);
        return clgan_error_context(st, "graph of %d nodes: ", n);
    }
    g->arena_floats = total;
    g->dev = d;
    for (int i = 0; i < n; i++) {
        clgan_gnode *x = &g->nodes[i];
        if (x->kind == NODE_PARAM) {
            x->buf = x->params->values;
            x->off = x->params->e[x->pindex].off;
        } else if (x->grad_of_param) {
            x->buf = x->params->grads;
            x->off = x->params->e[x->pindex].off;
        } else if (x->kind == NODE_VIEW || (x->kind == NODE_OP && clgan_op_is_inplace(x->op))) {
            const clgan_gnode *s = &g->nodes[x->in[0]]; /* in[0] precedes i: already placed */
            x->buf = s->buf;
            x->off = s->off;
        } else if (x->elided) {
            x->buf = NULL;
            x->off = 0;
        } else {
            x->buf = g->arena;
            x->off = off[i];
        }
    }
    free(off);
    if (g->ngroups == 0) return run_constants(g);
    g->calls = calloc((size_t)g->ngroups, sizeof *g->calls);
    if (!g->calls) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %d fused kernels", g->ngroups);
    for (int k = 0; k < g->ngroups && st == CLGAN_OK; k++) st = clgan_fuse_call(g, k, &g->calls[k]);
    if (st == CLGAN_OK) st = clgan_fused_prepare(d, g->calls, g->ngroups);
    if (st == CLGAN_OK) st = find_chains(g);
    if (st == CLGAN_OK && g->nchains) st = clgan_fused_prepare_chains(d, g->calls, g->chains, g->nchains);
    if (st != CLGAN_OK) return clgan_error_context(st, "graph of %d nodes, %d fused kernels: ", n, g->ngroups);
    return run_constants(g);
}

uint64_t clgan_graph_arena_bytes(const clgan_graph *g) { return g->arena_floats * sizeof(float); }

void clgan_graph_set_hook(clgan_graph *g, clgan_node_hook hook, void *user) {
    g->hook = hook;
    g->hook_user = user;
}

static clgan_op_tensor tensor_of(const clgan_gnode *x) {
    clgan_op_tensor t = {.buf = x->buf, .off = x->off, .ndim = x->ndim};
    memcpy(t.shape, x->shape, sizeof t.shape);
    return t;
}

/* Where the hook sees node i: where its value is there, at its group's
 * root for a fused member or a reshape of one */
static int hook_position(const clgan_graph *g, int i) {
    int s = storage_of(g, i), at = run_position(g, s);
    return at > i ? at : i;
}

/* Runs node i, an op outside any fused group. */
static clgan_status run_op(clgan_graph *g, int i, uint64_t step) {
    const clgan_gnode *x = &g->nodes[i];
    clgan_op_call c = {.op = x->op, .nin = x->nin, .out = tensor_of(x), .seed = x->seed,
                       .offset = step * 65536u + (uint64_t)x->stream, .first = x->rng_first};
    for (int k = 0; k < x->nin; k++) c.in[k] = tensor_of(&g->nodes[x->in[k]]);
    memcpy(c.fp, x->fp, sizeof c.fp);
    memcpy(c.ip, x->ip, sizeof c.ip);
    clgan_status st = clgan_op_run(g->dev, &c);
    if (st != CLGAN_OK)
        return clgan_error_context(st, "node %d (%s%s%s): ", i, clgan_ops[x->op].name, x->name[0] ? " " : "", x->name);
    return CLGAN_OK;
}

clgan_status clgan_graph_run(clgan_graph *g, uint64_t step) {
    if (!g->dev) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "graph run before clgan_graph_compile");
    for (int i = 0; i < g->n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (!x->needed) continue;
        if (x->group >= 0) {
            /* a fused group runs at its root; then the hook sees its stored members */
            const clgan_fgroup *grp = &g->groups[x->group];
            if (grp->root != i) continue;
            /* a chain runs at its first call's place, the calls after it already done */
            int c = g->chain_of ? g->chain_of[x->group] : -1;
            clgan_status st = c < 0 ? clgan_fused_run(g->dev, &g->calls[x->group])
                              : g->chains[c].call[0] == x->group ? clgan_fused_run_chain(g->dev, g->calls, &g->chains[c])
                                                                 : CLGAN_OK;
            if (st != CLGAN_OK)
                return clgan_error_context(st, "node %d (fused %s%s%s, %d ops): ", i, clgan_ops[x->op].name,
                                           x->name[0] ? " " : "", x->name, grp->n);
            for (int a = 0; a < grp->n && g->hook; a++) {
                if (g->nodes[grp->member[a]].elided) continue;
                st = g->hook(g, grp->member[a], g->hook_user);
                if (st != CLGAN_OK) return st;
            }
            /* and the reshapes of its members that came before the root */
            for (int v = grp->member[0]; v < i && g->hook; v++)
                if (g->nodes[v].needed && g->nodes[v].kind == NODE_VIEW && hook_position(g, v) == i &&
                    (st = g->hook(g, v, g->hook_user)) != CLGAN_OK)
                    return st;
            continue;
        }
        if (x->kind == NODE_OP && !x->konst) { /* constants were computed at compile */
            clgan_status st = run_op(g, i, step);
            if (st != CLGAN_OK) return st;
        }
        if (g->hook && hook_position(g, i) == i) {
            clgan_status st = g->hook(g, i, g->hook_user);
            if (st != CLGAN_OK) return st;
        }
    }
    return CLGAN_OK;
}

static clgan_status check_access(const clgan_graph *g, clgan_node n, bool write) {
    if (!g->dev) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "graph not compiled");
    if (n < 0 || n >= g->n) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "no node %d", n);
    const clgan_gnode *x = &g->nodes[storage_of(g, n)];
    if (write && x->kind != NODE_INPUT)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "node %d is not an input", n);
    if (!write && !g->hook && !(g->nodes[n].keep || x->keep || x->kind == NODE_PARAM || x->grad_of_param))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "node %d was not kept (clgan_graph_keep): its memory is reused", n);
    return CLGAN_OK;
}

clgan_status clgan_graph_write(clgan_graph *g, clgan_node n, const float *host) {
    clgan_status st = check_access(g, n, true);
    if (st != CLGAN_OK) return st;
    const clgan_gnode *x = &g->nodes[n];
    return clgan_buffer_write(x->buf, x->off * sizeof(float), host, numel_of_node(x) * sizeof(float));
}

clgan_status clgan_graph_read(const clgan_graph *g, clgan_node n, float *host) {
    clgan_status st = check_access(g, n, false);
    if (st != CLGAN_OK) return st;
    const clgan_gnode *x = &g->nodes[n];
    return clgan_buffer_read(x->buf, x->off * sizeof(float), host, numel_of_node(x) * sizeof(float));
}

clgan_status clgan_graph_read_async(const clgan_graph *g, clgan_node n, float *host) {
    clgan_status st = check_access(g, n, false);
    if (st != CLGAN_OK) return st;
    const clgan_gnode *x = &g->nodes[n];
    return clgan_buffer_read_async(x->buf, x->off * sizeof(float), host, numel_of_node(x) * sizeof(float));
}
