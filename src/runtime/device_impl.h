/* Internal: the device struct and the backend vtable. Only src/runtime and
 * the op launchers (src/ops) see this. */
#ifndef CLGAN_DEVICE_IMPL_H
#define CLGAN_DEVICE_IMPL_H

#include "clgan/runtime.h"

#include <CL/cl.h>

/* Every OpenCL call goes through CL_CHECK (CLBlast's through CLBLAST_CHECK,
 * whose status codes extend OpenCL's), which records the error name, the
 * call's text and file:line, then jumps to the function's `fail:` label. */
clgan_status clgan_cl_fail(int code, const char *call, const char *file, int line);
#define CLGAN_CHECK_CODE_(code, text)                                  \
    do {                                                               \
        int clgan_check_code_ = (int)(code);                           \
        if (clgan_check_code_ != 0) {                                  \
            st = clgan_cl_fail(clgan_check_code_, text, __FILE__, __LINE__); \
            goto fail;                                                 \
        }                                                              \
    } while (0)
#define CL_CHECK(call) CLGAN_CHECK_CODE_(call, #call)
#define CLBLAST_CHECK(call) CLGAN_CHECK_CODE_(call, #call)

/* The backend vtable. Optional members may be NULL. */
typedef struct {
    clgan_status (*buffer_alloc)(clgan_device *d, size_t bytes, clgan_buffer *b);
    void (*buffer_free)(clgan_buffer *b);
    clgan_status (*buffer_write)(clgan_buffer *b, size_t off, const void *src, size_t n);
    clgan_status (*buffer_read)(const clgan_buffer *b, size_t off, void *dst, size_t n);
    clgan_status (*buffer_copy)(clgan_buffer *dst, size_t doff, const clgan_buffer *src, size_t soff, size_t n);
    clgan_status (*finish)(clgan_device *d);
    void (*close)(clgan_device *d);
} clgan_backend_ops;

typedef struct {
    char name[64];      /* kernel function name */
    cl_kernel kernel;
} clgan_cl_kernel_entry;

typedef struct {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program *programs;
    int program_count;
    clgan_cl_kernel_entry *kernels;
    int kernel_count;
    /* One scratch buffer per device (im2col columns, partial sums), grown
     * when an op needs more, released at close; see clgan_device_scratch. */
    cl_mem scratch;
    size_t scratch_bytes;
    /* CLBlast's temporary matrices (padded/transposed copies on its indirect
     * path), passed to every SGEMM so no call allocates; grown in whole MiB
     * to the largest any call has needed, released at close. */
    cl_mem gemm_temp;
    size_t gemm_temp_bytes;
    /* Every buffer clgan creates, in creation order: a native kernel lists
     * its buffers in that order (see clgan_cl_mem_created). */
    struct clgan_cl_mem_seq {
        cl_mem mem;
        uint64_t seq;
    } *mems;
    int nmems, cap_mems;
    uint64_t next_seq;
} clgan_cl_state;

/* GEMM tracing (clgan_device_trace_gemm) */
typedef struct {
    clgan_gemm_shape *shapes;
    int cap;
    int *n;
} clgan_gemm_trace;

struct clgan_device {
    clgan_device_info info;
    const clgan_backend_ops *ops;
    clgan_kernel_stats stats;
    uint64_t allocated;
    uint64_t launches; /* kernels and GEMMs enqueued (clgan_device_launch_count) */
    uint64_t syncs;     /* waits for the device: finishes, blocking reads and writes */
    bool fixed_kernels; /* kernels from an offline binary: nothing can be generated */
    char *kernel_dir;  /* --kernel-dir, kept for clgan_device_save_binary */
    clgan_cl_state cl; /* OpenCL backend only */
    clgan_gemm_choice gemm; /* the GEMM path (OpenCL) and why */
    clgan_gemm_trace trace;
    struct { /* clgan_device_time_kernels */
        bool on;
        clgan_kernel_time *rows;
        int n, cap;
    } ktime;
};

/* Around each enqueue of a kernel or GEMM call: clgan_device_launch_begin
 * gives the time when kernel timing is on (else 0), clgan_device_launch_end
 * counts the launch and, when timing, finishes the device and adds the time
 * to the kernel's row. */
double clgan_device_launch_begin(clgan_device *d);
clgan_status clgan_device_launch_end(clgan_device *d, const char *name, double t0);

struct clgan_buffer {
    clgan_device *dev;
    size_t size;
    void *host;  /* ref backend */
    cl_mem mem;  /* opencl backend */
};

extern const clgan_backend_ops clgan_ref_ops;
extern const clgan_backend_ops clgan_opencl_ops;

clgan_status clgan_opencl_enumerate(clgan_device_list *l);
clgan_status clgan_opencl_open(clgan_device *d, const clgan_device_options *opt);

/* The kernel sources of cl/, embedded at build time (tools/embed_cl.py).
 * Entry 0 is common.cl, prepended to every program. */
typedef struct {
    const char *name;
    const char *text;
} clgan_cl_source;
extern const clgan_cl_source clgan_embedded_cl[];
extern const int clgan_embedded_cl_count;
/* "#define OPC_<NAME> n\n" for every op, in op-table order: generated from
 * src/ops/op_table.h by the same tool, put in front of every program. */
extern const char clgan_embedded_op_codes[];

/* C (m,n) = op(A) op(B) + beta C, all row-major, offsets and leading
 * dimensions in floats, on `path` (CLBLAST or NATIVE; AUTO = the device's
 * choice), enqueued in queue order (src/runtime/gemm.c). */
clgan_status clgan_cl_sgemm(clgan_device *d, clgan_gemm_path path, bool ta, bool tb, size_t m, size_t n, size_t k,
                            cl_mem a, size_t ao, size_t lda, cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c,
                            size_t co, size_t ldc);
/* A convolution's image and the shape of its column matrix (cl/conv.cl's
 * CONV_ARGS: for im2col the image x (nb, C, H, W) with stride s and padding
 * ph, pw giving P x Q outputs; for col2im the output y (nb, C=K, H=Ho,
 * W=Wo) of columns over P=Hi x Q=Wi), the image at off with samples sn and
 * channels sc floats apart. */
typedef struct {
    cl_mem img;
    size_t off, sn, sc;
    int nb, C, H, W, R, S, P, Q, s, ph, pw;
} clgan_cl_cols;
/* Whether d runs convolutions as one native kernel each (the native GEMM
 * path with CLGAN_NATIVE_CONV=1), and that kernel: clgan_cl_sgemm's GEMM
 * with B first filled with im2col of im2col_b's image (B at bo, (C*R*S,
 * nb*P*Q)), or with C's (K*R*S, nb*Hi*Wi) columns then gathered into
 * col2im_c's image, on the host's threads (src/runtime/gemm.c). */
bool clgan_cl_native_cols(const clgan_device *d);
clgan_status clgan_cl_sgemm_cols(clgan_device *d, const clgan_cl_cols *im2col_b, const clgan_cl_cols *col2im_c,
                                 bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a, size_t ao, size_t lda,
                                 cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c, size_t co, size_t ldc);
/* The device's scratch buffer, at least `bytes` long, grown when needed
 * (src/runtime/opencl.c); released by the device's close. Its content is
 * undefined; it stays valid until the next call for the same device, and an
 * op may use it for the work it enqueues (the queue is in order). */
clgan_status clgan_device_scratch(clgan_device *d, size_t bytes, cl_mem *out);
/* Buffer bookkeeping for native kernels: PoCL (3.1) sorts a native
 * kernel's mem_list by its objects' creation order before filling
 * args_mem_loc, so a list in any other order gets the pointers swapped.
 * Listing buffers in creation order works there and wherever the order is
 * kept. Every cl_mem clgan creates on a device is registered here at
 * creation and dropped at release. */
clgan_status clgan_cl_mem_created(clgan_device *d, cl_mem m);
void clgan_cl_mem_released(clgan_device *d, cl_mem m);

/* Decides d's GEMM path (clgan_gemm_choose) and applies its tune record's
 * CLBlast parameters (CLBlastOverrideParameters) when there is one
 * (src/runtime/gemm_tune.c); a record CLBlast refuses is ignored with a
 * warning. */
clgan_status clgan_gemm_setup(clgan_device *d, const clgan_device_options *opt);
/* The kernel cache folder for opt ("" when there is none). */
void clgan_resolve_cache_dir(const clgan_device_options *opt, char *out, size_t cap);

/* Builds or loads every program for d (src/runtime/program.c). */
clgan_status clgan_programs_load(clgan_device *d, const clgan_device_options *opt);
/* Builds generated kernel source `text` as one more program, through the
 * cache: `defines` (preprocessor lines, may be ""), then the op codes,
 * common.cl and the family source `family` (a name among the embedded
 * sources, whose functions the text calls), then the text. */
clgan_status clgan_programs_add_generated(clgan_device *d, const char *name, const char *family,
                                          const char *defines, const char *text);
/* The kernel named `name`, or NULL. */
cl_kernel clgan_cl_find_kernel(const clgan_device *d, const char *name);

#endif
