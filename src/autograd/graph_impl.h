/* Internal: graph nodes. Nodes are appended in dependency order, so index
 * order is a topological order; backward walks it in reverse. */
#ifndef CLGAN_GRAPH_IMPL_H
#define CLGAN_GRAPH_IMPL_H

#include "clgan/graph.h"
#include "ops/fused.h"
#include "ops/ops.h"

typedef enum {
    NODE_OP,    /* runs clgan_ops[op] */
    NODE_INPUT, /* written from the host */
    NODE_PARAM, /* a view of a parameter block entry */
    NODE_VIEW,  /* a reshape: the same memory as in[0] */
} node_kind;

typedef struct {
    node_kind kind;
    clgan_op op;
    int nin;
    int in[CLGAN_OP_MAX_IN];
    int ndim;
    int shape[CLGAN_MAX_DIMS];
    float fp[CLGAN_OP_FP];
    int ip[CLGAN_OP_IP];
    uint64_t seed;
    int stream;
    uint64_t rng_first; /* RANDN / RAND: the stream's element the draw starts at */
    char name[64];
    clgan_params *params; /* NODE_PARAM, or the block whose gradient this node is */
    int pindex;           /* parameter index, or -1 */
    bool grad_of_param;   /* this node's value goes into params->grads at pindex */
    bool keep;
    /* planning */
    int group;   /* fused group (fuse.c), or -1 */
    bool elided; /* a fused group's member that is never stored */
    bool needed;
    bool konst; /* a value of constants alone (plan.c): computed once at compile, never again */
    int last_use;
    clgan_buffer *buf;
    size_t off; /* floats */
} clgan_gnode;

/* A fused group: members in node order up to the root (where it runs),
 * then its sinks (running-statistic updates and their chains, fuse.c) in
 * node order. */
typedef struct {
    int root;
    int n;
    int member[CLGAN_FUSE_MAX_STEPS];
    /* each member's part: FUSE_EPI elementwise over a sum's kept elements
     * (after it), FUSE_PRO elementwise over what a sum reads (or the whole
     * group when there is no sum), FUSE_SUM the group's sum */
    unsigned char part[CLGAN_FUSE_MAX_STEPS];
} clgan_fgroup;
enum { FUSE_EPI = 1, FUSE_PRO = 2, FUSE_SUM = 3 };

struct clgan_graph {
    clgan_gnode *nodes;
    int n, cap;
    clgan_status status;
    char error[1024];
    clgan_device *dev;
    clgan_buffer *arena;
    uint64_t arena_floats;
    clgan_node_hook hook;
    void *hook_user;
    /* fusion (fuse.c): groups formed at planning when fuse is set */
    bool fuse;
    bool chain; /* and chains consecutive calls (fused.h): what a run of groups reads lives to its end */
    clgan_fgroup *groups;
    int ngroups;
    clgan_fused *calls; /* one per group, built at compile */
    clgan_fused_chain *chains; /* consecutive calls run as one kernel (fused.h), found at compile */
    int nchains;
    int *chain_of; /* per group: its chain, or -1 */
    int sample_first;   /* clgan_graph_set_sample_offset */
    double sync_share;  /* clgan_graph_set_sync_stats: this process's share of the batch; 0 off */
};

typedef struct {
    char name[96];
    int ndim;
    int shape[CLGAN_MAX_DIMS];
    size_t off, numel;
    int init;
    float std;
    bool trainable;
} clgan_param_entry;

struct clgan_params {
    char name[64];
    clgan_param_entry *e;
    int count, cap;
    size_t total;
    clgan_device *dev;
    clgan_buffer *values, *grads;
};

/* builders shared by graph.c and backward.c */
int clgan_graph_add(clgan_graph *g, clgan_op op, int nin, const int *in, int ndim, const int *shape);
int clgan_graph_fail(clgan_graph *g, clgan_status st);
bool clgan_graph_ok(clgan_graph *g, int nin, const int *in);
int clgan_binary_bcast(clgan_graph *g, clgan_op op, int a, int b, int outer, int mid, int inner);
int clgan_sum_to(clgan_graph *g, int x, int ndim, const int *shape, int outer, int mid, int inner);
int clgan_expand_to(clgan_graph *g, int b, int ndim, const int *shape, int outer, int mid, int inner);
/* out_pad_h/w: CONV_T2D's output padding per dimension; cm: channel-major activations (ip5) */
int clgan_conv_generic(clgan_graph *g, clgan_op op, bool cm, int a, int b, int stride, int pad_h, int pad_w,
                       int out_pad_h, int out_pad_w, int ndim, const int *shape);
/* a pooling node (the four pooling ops and MAX_POOL2D_GATHER): kernel k,
 * stride, padding, count_include_pad (AVG_POOL2D*; 0 for the others) */
int clgan_pool_node(clgan_graph *g, clgan_op op, int nin, const int *in, int k, int stride, int pad, int include_pad,
                    int ndim, const int *shape);
int clgan_matmul_node(clgan_graph *g, int a, int b, int ta, int tb);
int clgan_unary_node(clgan_graph *g, clgan_op op, int x, float p0, float p1);
/* gradient rules (backward.c): contributions for each input of node i given
 * its output gradient dy; -1 where there is none */
void clgan_grad_rule(clgan_graph *g, int i, int dy, int dx[CLGAN_OP_MAX_IN]);

/* fusion (fuse.c) */
void clgan_fuse_reset(clgan_graph *g);
clgan_status clgan_fuse_groups(clgan_graph *g);
clgan_status clgan_fuse_call(const clgan_graph *g, int gi, clgan_fused *f);

static inline size_t numel_of_node(const clgan_gnode *n) { return clgan_shape_numel(n->ndim, n->shape); }

#endif
