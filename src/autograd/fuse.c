/* The fusion pass: chains of elementwise nodes become one generated kernel.
 *
 * Runs before buffer planning when the graph is compiled for a device that
 * builds generated kernels (OpenCL). Gradient rules are untouched: backward
 * has already appended its nodes, all made of primitive ops, so the gradient
 * of a gradient still works, and `ref` runs the same graph op by op, the
 * definition every fused kernel is tested against.
 *
 * Groups are formed from the last node back. A node that is elementwise
 * (unary, binary, EXPAND) or a SUM starts a group as its root; then, in
 * descending node order, the group takes in any elementwise producer that
 * one of its members reads at its own index (same number of elements),
 * provided every reader of the producer outside the group runs after the
 * root (the group runs at its root's place in the order), and provided it
 * reads nothing that an in-place node writes (that write could fall between
 * the producer's place and the root's). A member whose
 * value something else needs (a reader outside the group, a kept, named or
 * gradient node, a reshape of it) is written as one more output of the
 * kernel; the others are never stored. What a group reads from outside is
 * its leaves, at its own index or broadcast ((i / inner) % mid), and the
 * planner keeps each leaf alive until the root has run.
 *
 * Sinks: the update of a running statistic (EMA, in place) and the chain of
 * unary nodes only it reads (BatchNorm's run_var <- EMA(run_var, var n /
 * (n - 1))) root no group. Once the groups are formed, each such chain joins
 * the group that computes its value, after the root and in the root's space
 * (an epilogue when the group has a sum), so the update runs at the root's
 * place: when nothing else reads or writes the statistic between the two
 * places. A chain that joins no group runs op by op. */
#include "autograd/graph_impl.h"

#include <stdlib.h>
#include <string.h>

static bool elementwise(clgan_op op) {
    return (op >= CLGAN_OP_AFFINE && op <= CLGAN_OP_CLAMP_MASK) || (op >= CLGAN_OP_ADD && op <= CLGAN_OP_BCE_LOGITS) ||
           op == CLGAN_OP_EXPAND;
}

static int storage(const clgan_graph *g, int n) {
    while (g->nodes[n].kind == NODE_VIEW) n = g->nodes[n].in[0];
    return n;
}

/* Whether input k of node x is read at x's own flat index (over the
 * iteration space of x's group) rather than broadcast. */
static bool full_input(const clgan_graph *g, const clgan_gnode *x, int k) {
    if (x->op == CLGAN_OP_EXPAND) return false;
    if (x->op == CLGAN_OP_EMA) return true;
    if (x->op == CLGAN_OP_SUM) return true;
    if (k == 0) return true;
    return numel_of_node(&g->nodes[x->in[1]]) == numel_of_node(x) && x->ip[2] == 1;
}

/* the leaf pattern of input k of member x: mid 0 when read at i */
static void leaf_pattern(const clgan_graph *g, const clgan_gnode *x, int k, int *mid, int *inner) {
    *mid = *inner = 0;
    if (full_input(g, x, k)) return;
    *mid = x->ip[1];
    *inner = x->ip[2];
}

typedef struct {
    int *start, *list; /* readers of storage node s: list[start[s] .. start[s + 1]) */
    bool *has_view;
} readers;

static void readers_free(readers *r) {
    free(r->start);
    free(r->list);
    free(r->has_view);
}

static bool readers_build(const clgan_graph *g, readers *r) {
    int n = g->n;
    r->start = calloc((size_t)n + 1, sizeof *r->start);
    r->has_view = calloc((size_t)n + 1, sizeof *r->has_view);
    int total = 0;
    for (int i = 0; i < n; i++)
        if (g->nodes[i].needed && g->nodes[i].kind == NODE_OP) total += g->nodes[i].nin;
    r->list = malloc((size_t)(total ? total : 1) * sizeof *r->list);
    if (!r->start || !r->list || !r->has_view) return false;
    for (int i = 0; i < n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (!x->needed) continue;
        if (x->kind == NODE_VIEW) r->has_view[storage(g, i)] = true;
        if (x->kind != NODE_OP) continue;
        for (int k = 0; k < x->nin; k++) r->start[storage(g, x->in[k]) + 1]++;
    }
    for (int i = 0; i < n; i++) r->start[i + 1] += r->start[i];
    int *fill = calloc((size_t)n + 1, sizeof *fill);
    if (!fill) return false;
    for (int i = 0; i < n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (!x->needed || x->kind != NODE_OP) continue;
        for (int k = 0; k < x->nin; k++) {
            int s = storage(g, x->in[k]);
            r->list[r->start[s] + fill[s]++] = i;
        }
    }
    free(fill);
    return true;
}

/* where node r runs: its group's root, or itself */
static int position(const clgan_graph *g, int r) {
    int gi = g->nodes[r].group;
    return gi >= 0 ? g->groups[gi].root : r;
}

static bool must_store(const clgan_graph *g, const readers *rd, int j, int gid) {
    const clgan_gnode *x = &g->nodes[j];
    if (x->keep || x->grad_of_param || x->name[0] || rd->has_view[j]) return true;
    for (int q = rd->start[j]; q < rd->start[j + 1]; q++)
        if (g->nodes[rd->list[q]].group != gid) return true;
    return false;
}

/* ---- sinks ---- */

#define SINK_CHAIN 4

static bool is_unary_op(clgan_op op) { return op >= CLGAN_OP_AFFINE && op <= CLGAN_OP_CLAMP_MASK; }

/* The unary nodes of EMA node e's chain, in node order (chain[0] reads the
 * source), and the source: the node whose value the chain starts from. */
static int sink_chain(const clgan_graph *g, const readers *rd, int e, int chain[SINK_CHAIN], int *source) {
    size_t len = numel_of_node(&g->nodes[e]);
    int k = 0, v = g->nodes[e].in[1], rev[SINK_CHAIN];
    for (;;) {
        const clgan_gnode *x = &g->nodes[v];
        if (k == SINK_CHAIN || x->kind != NODE_OP || !x->needed || x->konst || !is_unary_op(x->op) || numel_of_node(x) != len ||
            x->group >= 0 || x->keep || x->grad_of_param || x->name[0] || rd->has_view[v] ||
            rd->start[v + 1] - rd->start[v] != 1)
            break;
        rev[k++] = v;
        v = x->in[0];
    }
    for (int a = 0; a < k; a++) chain[a] = rev[k - 1 - a];
    if (source) *source = v;
    return k;
}

/* An upper bound on the leaves of group gid's kernel: its members' inputs
 * that are not members. */
static int leaves_bound(const clgan_graph *g, const clgan_fgroup *grp, int gid) {
    int count = 0;
    for (int a = 0; a < grp->n; a++) {
        const clgan_gnode *x = &g->nodes[grp->member[a]];
        for (int k = 0; k < x->nin; k++) count += g->nodes[storage(g, x->in[k])].group != gid;
    }
    return count;
}

/* Joins EMA node e and its chain to the group of the chain's source when
 * the space, the kernel's limits and the statistic's other readers allow. */
static void add_sink(clgan_graph *g, const readers *rd, int e) {
    int chain[SINK_CHAIN], src;
    int k = sink_chain(g, rd, e, chain, &src);
    const clgan_gnode *s = &g->nodes[src];
    int gid = s->group;
    if (s->kind != NODE_OP || gid < 0 || numel_of_node(s) != numel_of_node(&g->nodes[e])) return;
    clgan_fgroup *grp = &g->groups[gid];
    int at = -1, outs = 0;
    bool has_sum = false;
    for (int a = 0; a < grp->n; a++) {
        if (grp->member[a] == src) at = a;
        has_sum = has_sum || grp->part[a] == FUSE_SUM;
        outs += !g->nodes[grp->member[a]].elided;
    }
    /* an epilogue reads the sum or the steps after it; a group without a
     * sum is one space */
    if (at < 0 || (has_sum && grp->part[at] == FUSE_PRO)) return;
    if (grp->n + k + 1 > CLGAN_FUSE_MAX_STEPS || outs + 1 > CLGAN_FUSE_MAX_OUTS ||
        leaves_bound(g, grp, gid) + 1 > CLGAN_FUSE_MAX_LEAVES)
        return;
    /* the update moves from e to the root: nothing else may touch the
     * statistic in between */
    int r = grp->root, lo = e < r ? e : r, hi = e < r ? r : e, stat = storage(g, g->nodes[e].in[0]);
    for (int q = rd->start[stat]; q < rd->start[stat + 1]; q++) {
        int reader = rd->list[q];
        if (reader == e) continue;
        int p = position(g, reader);
        if (p >= lo && p <= hi) return;
    }
    for (int a = 0; a <= k; a++) {
        int j = a < k ? chain[a] : e;
        grp->member[grp->n] = j;
        grp->part[grp->n++] = has_sum ? FUSE_EPI : FUSE_PRO;
        g->nodes[j].group = gid;
        g->nodes[j].elided = j != e;
    }
    if (src != r) g->nodes[src].elided = !must_store(g, rd, src, gid);
}

void clgan_fuse_reset(clgan_graph *g) {
    free(g->groups);
    g->groups = NULL;
    g->ngroups = 0;
    for (int i = 0; i < g->n; i++) {
        g->nodes[i].group = -1;
        g->nodes[i].elided = false;
    }
}

clgan_status clgan_fuse_groups(clgan_graph *g) {
    clgan_fuse_reset(g);
    int n = g->n;
    readers rd = {0};
    unsigned char *cand = calloc((size_t)n + 1, sizeof *cand), *sink = calloc((size_t)n + 1, sizeof *sink);
    unsigned char *written = calloc((size_t)n + 1, sizeof *written);
    /* at most one group per node */
    g->groups = calloc((size_t)n + 1, sizeof *g->groups);
    if (!cand || !sink || !written || !g->groups || !readers_build(g, &rd)) {
        free(cand);
        free(sink);
        free(written);
        readers_free(&rd);
        clgan_fuse_reset(g);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory fusing a graph");
    }
    /* storage written in place (running statistics, assigned buffers, optimizer state): a member that
     * reads one may not run later, at its root's place, where a write in between would change it */
    for (int i = 0; i < n; i++) {
        const clgan_gnode *x = &g->nodes[i];
        if (x->needed && x->kind == NODE_OP && clgan_op_is_inplace(x->op)) written[storage(g, x->in[0])] = 1;
    }
    /* the sink chains' unary nodes (sink[j]) root no group */
    for (int e = 0; e < n; e++) {
        int chain[SINK_CHAIN];
        if (g->nodes[e].needed && g->nodes[e].op == CLGAN_OP_EMA && g->nodes[e].kind == NODE_OP)
            for (int k = sink_chain(g, &rd, e, chain, NULL) - 1; k >= 0; k--) sink[chain[k]] = 1;
    }
    for (int r = n - 1; r >= 0; r--) {
        clgan_gnode *root = &g->nodes[r];
        if (!root->needed || root->kind != NODE_OP || root->group >= 0 || root->konst || sink[r]) continue;
        if (!elementwise(root->op) && root->op != CLGAN_OP_SUM) continue;
        int gid = g->ngroups++;
        clgan_fgroup *grp = &g->groups[gid];
        grp->root = r;
        grp->n = 0;
        root->group = gid;
        /* the spaces: epi, the root's elements (an elementwise root, or a
         * sum's epilogue); pro, what the group's sum reads, once it has one */
        bool sum_root = root->op == CLGAN_OP_SUM;
        size_t epi = numel_of_node(root), pro = sum_root ? numel_of_node(&g->nodes[root->in[0]]) : 0;
        int sum_node = sum_root ? r : -1;
        unsigned char want = sum_root ? (1u << FUSE_PRO) : (1u << FUSE_EPI);
        int lo = r, outs = sum_root ? 0 : 1, leaves = root->nin;
        for (int k = 0; k < root->nin; k++)
            if (full_input(g, root, k)) {
                int s = storage(g, root->in[k]);
                cand[s] |= want;
                if (s < lo) lo = s;
            }
        int members[CLGAN_FUSE_MAX_STEPS], nm = 0;
        unsigned char parts[CLGAN_FUSE_MAX_STEPS];
        for (int j = r - 1; j >= lo && j >= 0; j--) {
            unsigned char kinds = cand[j];
            if (!kinds) continue;
            cand[j] = 0;
            clgan_gnode *x = &g->nodes[j];
            if (!x->needed || x->kind != NODE_OP || x->group >= 0 || x->konst || nm + 3 > CLGAN_FUSE_MAX_STEPS) continue;
            size_t len = numel_of_node(x);
            int part = 0;
            if ((kinds & (1u << FUSE_PRO)) && elementwise(x->op) && len == pro) part = FUSE_PRO;
            else if ((kinds & (1u << FUSE_EPI)) && elementwise(x->op) && len == epi) part = FUSE_EPI;
            else if ((kinds & (1u << FUSE_EPI)) && x->op == CLGAN_OP_SUM && sum_node < 0 && len == epi) part = FUSE_SUM;
            if (!part) continue;
            bool ok = true;
            for (int k = 0; k < x->nin && ok; k++) ok = !written[storage(g, x->in[k])];
            int uses = 0;
            for (int q = rd.start[j]; q < rd.start[j + 1] && ok; q++) {
                int reader = rd.list[q];
                if (g->nodes[reader].group == gid) uses++;
                else ok = position(g, reader) > r;
            }
            if (!ok) continue;
            /* leaves: j stops being one and its inputs start (an upper bound) */
            if (leaves - uses + x->nin > CLGAN_FUSE_MAX_LEAVES) continue;
            x->group = gid;
            bool store = must_store(g, &rd, j, gid);
            if (store && outs + 1 > CLGAN_FUSE_MAX_OUTS) {
                x->group = -1;
                continue;
            }
            outs += store;
            leaves += x->nin - uses;
            parts[nm] = (unsigned char)part;
            members[nm++] = j;
            unsigned char mark = part == FUSE_EPI ? (1u << FUSE_EPI) : (1u << FUSE_PRO);
            if (part == FUSE_SUM) {
                sum_node = j;
                pro = numel_of_node(&g->nodes[x->in[0]]);
            }
            for (int k = 0; k < x->nin; k++)
                if (full_input(g, x, k)) {
                    int s = storage(g, x->in[k]);
                    cand[s] |= mark;
                    if (s < lo) lo = s;
                }
        }
        for (int j = 0; j <= r; j++) cand[j] = 0;
        /* members in ascending order, the root last */
        for (int a = 0; a < nm; a++) {
            grp->member[a] = members[nm - 1 - a];
            grp->part[a] = parts[nm - 1 - a];
        }
        grp->member[nm] = r;
        grp->part[nm] = sum_root ? FUSE_SUM : sum_node >= 0 ? FUSE_EPI : FUSE_PRO;
        grp->n = nm + 1;
        /* without a sum, the elementwise members are of the one space */
        if (sum_node < 0)
            for (int a = 0; a < grp->n; a++) grp->part[a] = FUSE_PRO;
        for (int a = 0; a < nm; a++) g->nodes[grp->member[a]].elided = !must_store(g, &rd, grp->member[a], gid);
    }
    for (int e = 0; e < n; e++)
        if (g->nodes[e].needed && g->nodes[e].kind == NODE_OP && g->nodes[e].op == CLGAN_OP_EMA) add_sink(g, &rd, e);
    /* the chains that joined no group: their unary nodes in groups of their own */
    for (int r = 0; r < n; r++) {
        clgan_gnode *x = &g->nodes[r];
        if (!sink[r] || x->group >= 0) continue;
        int gid = g->ngroups++;
        g->groups[gid] = (clgan_fgroup){.root = r, .n = 1, .member = {r}, .part = {FUSE_PRO}};
        x->group = gid;
    }
    free(cand);
    free(sink);
    free(written);
    readers_free(&rd);
    return CLGAN_OK;
}

/* The call for group gi, from the placed nodes. */
static clgan_op_tensor tensor_at(const clgan_gnode *x) {
    clgan_op_tensor t = {.buf = x->buf, .off = x->off, .ndim = x->ndim};
    memcpy(t.shape, x->shape, sizeof t.shape);
    return t;
}

static int leaf_index(clgan_fused *f, const clgan_gnode *s, int mid, int inner, bool epi) {
    for (int j = 0; j < f->nleaves; j++)
        if (f->leaf[j].t.buf == s->buf && f->leaf[j].t.off == s->off && f->leaf[j].mid == mid &&
            f->leaf[j].inner == inner && f->leaf[j].epi == epi && numel_of_node(s) == clgan_op_numel(&f->leaf[j].t))
            return j;
    if (f->nleaves == CLGAN_FUSE_MAX_LEAVES) return -1;
    f->leaf[f->nleaves] = (clgan_fused_leaf){.t = tensor_at(s), .mid = mid, .inner = inner, .epi = epi};
    return f->nleaves++;
}

/* Appends the steps of the group's members of one part, in node order;
 * step_of[a] is member a's step (filled as they are added). */
static clgan_status add_steps(const clgan_graph *g, const clgan_fgroup *grp, int part, int sum_node, int *step_of,
                              clgan_fused *f) {
    for (int a = 0; a < grp->n; a++) {
        if (grp->part[a] != part) continue;
        const clgan_gnode *x = &g->nodes[grp->member[a]];
        clgan_fused_step *s = &f->step[f->nsteps];
        *s = (clgan_fused_step){.op = x->op, .fp = {x->fp[0], x->fp[1]}, .out = -1};
        for (int k = 0; k < x->nin; k++) {
            int src = storage(g, x->in[k]), b = -1;
            if (src == sum_node) b = CLGAN_FUSE_SUMVAL;
            for (int e = 0; e < grp->n && b == -1; e++)
                if (grp->member[e] == src && step_of[e] >= 0) b = step_of[e];
            if (b == -1) {
                int mid, inner;
                leaf_pattern(g, x, k, &mid, &inner);
                int j = leaf_index(f, &g->nodes[src], mid, inner, part == FUSE_EPI);
                if (j < 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "fused group of node %d has too many leaves", grp->root);
                b = CLGAN_FUSE_LEAF(j);
            }
            s->arg[k] = b;
        }
        if (!x->elided) {
            s->out = f->nouts;
            f->out[f->nouts++] = tensor_at(x);
        }
        step_of[a] = f->nsteps++;
    }
    return CLGAN_OK;
}

clgan_status clgan_fuse_call(const clgan_graph *g, int gi, clgan_fused *f) {
    const clgan_fgroup *grp = &g->groups[gi];
    memset(f, 0, sizeof *f);
    f->sum_store = -1;
    int step_of[CLGAN_FUSE_MAX_STEPS], sum_at = -1;
    for (int a = 0; a < grp->n; a++) {
        step_of[a] = -1;
        if (grp->part[a] == FUSE_SUM) sum_at = a;
    }
    clgan_status st = add_steps(g, grp, FUSE_PRO, -1, step_of, f);
    if (st != CLGAN_OK || sum_at < 0) {
        f->n = numel_of_node(&g->nodes[grp->root]);
        return st;
    }
    const clgan_gnode *sum = &g->nodes[grp->member[sum_at]];
    f->sum = true;
    f->outer = sum->ip[0];
    f->mid = sum->ip[1];
    f->inner = sum->ip[2];
    f->n = numel_of_node(&g->nodes[sum->in[0]]);
    /* the summed value must be the last prologue step: the sum's input is
     * the highest prologue member, or else a leaf read by an identity step */
    int src = storage(g, sum->in[0]), last = -1;
    for (int a = 0; a < grp->n; a++)
        if (grp->member[a] == src && step_of[a] >= 0) last = step_of[a];
    if (last < 0 || last != f->nsteps - 1) {
        int b = last;
        if (b < 0) {
            int j = leaf_index(f, &g->nodes[src], 0, 0, false);
            if (j < 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "fused group of node %d has too many leaves", grp->root);
            b = CLGAN_FUSE_LEAF(j);
        }
        f->step[f->nsteps++] = (clgan_fused_step){.op = CLGAN_OP_EXPAND, .arg = {b, 0}, .out = -1};
    }
    if (sum_at == grp->n - 1) { /* the sum is the root: no epilogue */
        f->sum_out = tensor_at(sum);
        return CLGAN_OK;
    }
    if (!sum->elided) {
        f->sum_store = f->nouts;
        f->out[f->nouts++] = tensor_at(sum);
    }
    int before = f->nsteps;
    st = add_steps(g, grp, FUSE_EPI, grp->member[sum_at], step_of, f);
    f->nepi = f->nsteps - before;
    return st;
}
