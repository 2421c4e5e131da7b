/* Internal: fused elementwise kernels, generated at graph-compile time.
 *
 * A fused call evaluates a short program of elementwise steps per element
 * of an iteration space of n floats, reading its leaves (tensors computed
 * before it) and writing the values of some steps to outputs; with `sum`,
 * the last step's value is summed over (outer, inner) keeping mid, as the
 * SUM op does, and the other outputs are written as the sum reads. The
 * graph's fusion pass (src/autograd/fuse.c) decides what goes into one call;
 * this file turns a call into OpenCL C, builds it (once per distinct kernel
 * on a device, through the program cache), and launches it.
 *
 * The source depends only on the steps' structure, never on sizes or
 * offsets (those are arguments), so the same BatchNorm or Adam-moment
 * chain at every layer and every batch size shares one kernel. */
#ifndef CLGAN_OPS_FUSED_H
#define CLGAN_OPS_FUSED_H

#include "ops/ops.h"

#define CLGAN_FUSE_MAX_STEPS 24
#define CLGAN_FUSE_MAX_LEAVES 12
#define CLGAN_FUSE_MAX_OUTS 6

/* A step's operand: k >= 0 the value of step k (k < this step), or
 * CLGAN_FUSE_LEAF(j) leaf j. */
#define CLGAN_FUSE_LEAF(j) (-1 - (j))
/* An epilogue step's operand: the sum of the kept element. */
#define CLGAN_FUSE_SUMVAL (-1000)

typedef struct {
    clgan_op op;  /* a unary or binary elementwise op; EXPAND: the value of arg[0]; EMA: (1 - fp[0]) arg[0] + fp[0] arg[1],
                   * written where arg[0] was read (a running statistic) */
    int arg[2];   /* arg[1] for binary ops and EMA only */
    float fp[2];  /* a unary op's parameters, EMA's momentum */
    int out;      /* index into out[], or -1 */
} clgan_fused_step;

typedef struct {
    clgan_op_tensor t;
    int mid, inner; /* read at (i / inner) % mid; mid 0: at i */
    bool epi;       /* an epilogue's leaf: i is the kept element m */
} clgan_fused_leaf;

typedef struct {
    int nsteps, nleaves, nouts;
    clgan_fused_step step[CLGAN_FUSE_MAX_STEPS];
    clgan_fused_leaf leaf[CLGAN_FUSE_MAX_LEAVES];
    clgan_op_tensor out[CLGAN_FUSE_MAX_OUTS];
    size_t n; /* elements of the iteration space */
    /* sum: y (mid) = sum over (outer, inner) of the last step before the
     * epilogue (n = outer mid inner), into sum_out; or, with an epilogue (the
     * last nepi steps, elementwise over the mid kept elements, which read
     * the sum as CLGAN_FUSE_SUMVAL), into out[sum_store] (-1: not stored) */
    bool sum;
    int outer, mid, inner;
    clgan_op_tensor sum_out;
    int nepi, sum_store;
    /* set by clgan_fused_prepare */
    char kernel[32];
    bool cpu_form; /* generated in the CPU form (clgan_cl_cpu_forms) */
    int parts; /* sum: work-groups per kept element (partial sums, then sum_parts_f32) */
} clgan_fused;

/* A chain: consecutive calls (nothing runs between them) over one space
 * (outer, mid, inner) that one kernel runs in turn for each kept element m,
 * in the CPU form: each stage adds, or maps, only the terms of m, which is
 * what the stages after it read of it, so the work-item that owns m can run
 * them all. Its first call is a sum in one part; the others are sums in one
 * part or elementwise calls over the space. The stages' arithmetic is the
 * calls' own, in the same order: a chain gives the same bits as its calls
 * launched one by one, in one launch instead of n. */
#define CLGAN_FUSE_MAX_CHAIN 8
typedef struct {
    int call[CLGAN_FUSE_MAX_CHAIN]; /* indices into the graph's calls, in run order */
    int n;
    char kernel[32]; /* set by clgan_fused_prepare_chains */
} clgan_fused_chain;

/* Whether call f can start a chain; whether it can follow the
 * chain's calls (its space, the kernel's parameter size, and that nothing
 * it reads or writes crosses from one kept element to another between the
 * stages). */
bool clgan_fused_chain_starts(const clgan_fused *f);
bool clgan_fused_chain_accepts(const clgan_fused *calls, const clgan_fused_chain *ch,
                               const clgan_fused *f);
/* Generates and builds the chains' kernels (after clgan_fused_prepare of
 * their calls); fills each chain's kernel name. */
clgan_status clgan_fused_prepare_chains(clgan_device *d, const clgan_fused *calls, clgan_fused_chain *ch, int n);
clgan_status clgan_fused_run_chain(clgan_device *d, const clgan_fused *calls, const clgan_fused_chain *ch);

/* Generates the kernels of calls f[0..n) that the device lacks and builds
 * them in one program (cached on disk like every program); fills each
 * call's kernel name. */
clgan_status clgan_fused_prepare(clgan_device *d, clgan_fused *f, int n);
clgan_status clgan_fused_run(clgan_device *d, const clgan_fused *f);
/* Whether d can build generated programs (not when its kernels come from
 * an offline binary). */
bool clgan_fused_available(const clgan_device *d);

#endif
