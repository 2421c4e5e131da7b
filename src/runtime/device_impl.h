/* Internal: the device struct and the backend vtable. Only src/runtime and
 * the op launchers (src/ops) see this. */
#ifndef CLGAN_DEVICE_IMPL_H
#define CLGAN_DEVICE_IMPL_H

#include "clgan/runtime.h"

#include <CL/cl.h>

/* Every OpenCL call goes through CL_CHECK, which records the error name, the
 * call's text and file:line, then jumps to the function's `fail:` label. */
#define CL_CHECK(call)                                                                         \
    do {                                                                                       \
        cl_int cl_check_err_ = (call);                                                         \
        if (cl_check_err_ != CL_SUCCESS) {                                                     \
            st = clgan_set_error(cl_check_err_ == CL_OUT_OF_RESOURCES ||                       \
                                         cl_check_err_ == CL_MEM_OBJECT_ALLOCATION_FAILURE ||  \
                                         cl_check_err_ == CL_OUT_OF_HOST_MEMORY                \
                                     ? CLGAN_ERR_DEVICE_OOM                                    \
                                     : CLGAN_ERR_DEVICE,                                       \
                                 __FILE__, __LINE__, "%s failed: %s (%d) at %s:%d", #call,     \
                                 clgan_cl_error_name(cl_check_err_), (int)cl_check_err_,       \
                                 __FILE__, __LINE__);                                          \
            goto fail;                                                                         \
        }                                                                                      \
    } while (0)

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
    /* One scratch buffer per device (im2col columns, ...), grown when an op
     * needs more, released at close; see clgan_cl_scratch. */
    cl_mem scratch;
    size_t scratch_bytes;
} clgan_cl_state;

struct clgan_device {
    clgan_device_info info;
    const clgan_backend_ops *ops;
    clgan_kernel_stats stats;
    uint64_t allocated;
    char *kernel_dir;  /* --kernel-dir, kept for clgan_device_save_binary */
    clgan_cl_state cl; /* OpenCL backend only */
};

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

/* Builds or loads every program for d (src/runtime/program.c). */
clgan_status clgan_programs_load(clgan_device *d, const clgan_device_options *opt);
/* The kernel named `name`, or NULL. */
cl_kernel clgan_cl_find_kernel(const clgan_device *d, const char *name);

#endif
