/* Internal: op calls and their dispatch. An op call names the op, its
 * input and output tensors (a buffer, an offset in floats, a shape) and its
 * parameters; clgan_op_run executes it on the tensors' device, with the
 * reference code on `ref` and a kernel (or CLBlast) on OpenCL. The graph
 * runs nodes through this, the tests run ops through it directly. */
#ifndef CLGAN_OPS_H
#define CLGAN_OPS_H

#include "clgan/tensor.h"
#include "ops/op_table.h"

#define CLGAN_OP_MAX_IN 4
#define CLGAN_OP_FP 8
#define CLGAN_OP_IP 8

typedef struct {
    clgan_buffer *buf;
    size_t off; /* floats */
    int ndim;
    int shape[CLGAN_MAX_DIMS];
} clgan_op_tensor;

typedef struct {
    clgan_op op;
    int nin;
    clgan_op_tensor in[CLGAN_OP_MAX_IN];
    clgan_op_tensor out;
    float fp[CLGAN_OP_FP];
    int ip[CLGAN_OP_IP];
    uint64_t seed;   /* RANDN / RAND */
    uint64_t offset; /* RANDN / RAND: Philox counter offset */
    uint64_t first;  /* RANDN / RAND: the stream's element the output starts at (a part of a longer draw) */
} clgan_op_call;

typedef struct {
    const char *name;
    int nin;
    void (*ref)(const clgan_op_call *c);
    clgan_status (*cl)(clgan_device *d, const clgan_op_call *c);
} clgan_op_desc;

extern const clgan_op_desc clgan_ops[CLGAN_OP_COUNT];

/* Checks the call (clgan_op_check), then runs it on d. */
clgan_status clgan_op_run(clgan_device *d, const clgan_op_call *c);
/* Whether the call may run on d: its tensors are on d, lie inside their
 * buffers and below 2^31 floats, and its shapes and parameters fit the op
 * (src/ops/check.c). clgan_op_run calls it for every device, so neither the
 * reference nor a launcher checks again. */
clgan_status clgan_op_check(const clgan_device *d, const clgan_op_call *c);
/* EMA and the optimizers write input 0 in place; their `out` is ignored. */
bool clgan_op_is_inplace(clgan_op op);

static inline size_t clgan_op_numel(const clgan_op_tensor *t) { return clgan_shape_numel(t->ndim, t->shape); }

/* The activation (x, y or dy) t of a convolution call: its samples n,
 * channels c and pixels h x w, and the strides in floats between samples and
 * between channels. Sample-major (N,C,H,W), or channel-major (C,N,H,W) when
 * the call's ip5 is set, which keeps each channel's pixels of all samples
 * together, in the order the GEMMs read and write them. */
typedef struct {
    int n, c, h, w;
    size_t sn, sc;
} clgan_conv_act;
#define CLGAN_CONV_CM 5 /* the ip index of the layout flag */
clgan_conv_act clgan_conv_act_of(const clgan_op_tensor *t, bool channel_major); /* src/ops/check.c */

/* reference: host pointers into ref buffers */
float *clgan_ref_ptr(const clgan_op_tensor *t);

/* Declarations of every ref_<name> and cl_<name>. */
#define X(E, name, nin)                                    \
    void ref_##name(const clgan_op_call *c);               \
    clgan_status cl_##name(clgan_device *d, const clgan_op_call *c);
CLGAN_OP_LIST(X)
#undef X

/* ---- OpenCL launch helpers (src/ops/cl_launch.c) ---- */
typedef struct {
    size_t size;
    const void *value;
} clgan_cl_arg;
#define CLARG(v) ((clgan_cl_arg){sizeof(v), &(v)})
/* Sets the args and enqueues `name` over `global` work-items (rounded up to
 * the work-group size `local`, 0 for the driver's choice), 1-D. */
clgan_status clgan_cl_launch(clgan_device *d, const char *name, size_t global, size_t local, int nargs,
                             const clgan_cl_arg *args);
/* The same over a `dims`-D range (1 to 3); local NULL for the driver's
 * choice, else each global size is rounded up to its local size. */
clgan_status clgan_cl_launchn(clgan_device *d, const char *name, int dims, const size_t *global, const size_t *local,
                              int nargs, const clgan_cl_arg *args);
size_t clgan_cl_max_wg(const clgan_device *d);
/* Whether d runs the CPU forms of kernels that have two (cl/conv.cl, the
 * generated kernels of cl_fused.c): a work-item per contiguous run, which
 * CPU drivers (a work-group run as a loop over its work-items) do well,
 * rather than a work-item per element, which GPUs coalesce. CPU devices do;
 * CLGAN_KERNEL_FORMS=cpu|gpu picks instead, so the tests run both forms on
 * any device. */
bool clgan_cl_cpu_forms(const clgan_device *d);
/* The work-group size for the CPU forms over `items` work-items: up to 16 a
 * group (PoCL pays per group), but at least 4 groups per compute unit. */
size_t clgan_cl_cpu_group(const clgan_device *d, size_t items);
/* Launches a 1-D kernel written with FOR_RUN (cl/common.cl) over n elements:
 * appends its last argument, the run (64 in the CPU forms, else 1), and
 * sizes the range to match. */
clgan_status clgan_cl_launch_runs(clgan_device *d, const char *name, size_t n, int nargs, const clgan_cl_arg *args);
/* (The device's scratch buffer is the runtime's: clgan_device_scratch in
 * runtime/device_impl.h.) */

#endif
