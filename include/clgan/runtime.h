/* clgan runtime: the device registry, device selection, kernel programs and
 * buffers. Two backends sit behind one small vtable: `ref` (plain C, always
 * present) and `opencl` (any platform, any device type). */
#ifndef CLGAN_RUNTIME_H
#define CLGAN_RUNTIME_H

#include "clgan/core.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef enum { CLGAN_BACKEND_REF, CLGAN_BACKEND_OPENCL } clgan_backend_kind;

typedef struct {
    clgan_backend_kind backend;
    char id[32];              /* "ref" or "P:D" (platform and device index) */
    int platform_index;       /* -1 for ref */
    int device_index;         /* -1 for ref */
    char type[16];            /* "GPU", "CPU", "ACCELERATOR", "CUSTOM", "REF" */
    char name[256];
    char vendor[256];
    char platform_name[256];
    char platform_version[256];
    char device_version[128]; /* "OpenCL 3.0 PoCL ..." */
    char driver_version[128];
    char c_version[128];      /* "OpenCL C 1.2 ..." */
    uint64_t global_mem;      /* bytes */
    uint64_t local_mem;       /* bytes */
    uint64_t max_alloc;       /* bytes, largest single buffer */
    unsigned compute_units;
    size_t max_work_group;
    bool fp64;
    bool native_kernels;      /* CL_EXEC_NATIVE_KERNEL: runs host functions in queue order (GEMM's native path) */
} clgan_device_info;

typedef struct {
    clgan_device_info *items; /* OpenCL devices in platform/device order, then ref */
    int count;
    /* Why OpenCL contributed no device ("" when it did): no ICD registered,
     * a platform that failed to answer, ... Shown by `clgan devices`. */
    char opencl_note[512];
} clgan_device_list;

/* Lists every platform and every device of every type, plus `ref`. Never
 * fails for lack of OpenCL: then the list holds only ref and opencl_note says
 * why. */
clgan_status clgan_devices_enumerate(clgan_device_list *out);
void clgan_device_list_free(clgan_device_list *l);

/* Resolves a --device choice to an index in `l`:
 *   NULL/""/"default": first GPU, else first accelerator, else first CPU,
 *                      else first CUSTOM device, else ref
 *   "ref", "P:D", "gpu", "cpu", "accelerator", "custom" (the first of that type),
 *   or a case-insensitive substring of a device name (must match exactly one).
 * CLGAN_ERR_NOT_FOUND / CLGAN_ERR_AMBIGUOUS carry a message listing the
 * devices. ("list" is the CLI's business.) */
clgan_status clgan_device_choose(const clgan_device_list *l, const char *spec, int *index);
/* The same for process nth of several on one machine (its local MPI rank,
 * >= 0): the nth (mod how many) of the devices spec matches when it names a
 * type, the default or part of several devices' names (not ambiguous here);
 * item nth (mod its length) of a comma-separated list of specs; P:D itself.
 * nth -1 is clgan_device_choose (a list takes its first item). */
clgan_status clgan_device_choose_nth(const clgan_device_list *l, const char *spec, int nth, int *index);

/* One line per device: "0:0  CPU  name (vendor)..." into a malloc'd string. */
char *clgan_device_list_format(const clgan_device_list *l, bool verbose);

/* How an OpenCL device runs GEMMs (matmul and the convolutions' GEMMs):
 *   AUTO     the faster path for the device: what `clgan tune` measured when
 *            a tune record exists for it, else native on a CPU device that
 *            runs native kernels, else CLBlast
 *   CLBLAST  CLBlast's SGEMM (with the parameters `clgan tune` found, if any)
 *   NATIVE   host BLAS (OpenBLAS cblas_sgemm) run as an OpenCL native kernel
 *            on the same buffers, in queue order; only where the device
 *            reports CL_EXEC_NATIVE_KERNEL (PoCL does)
 * ref computes GEMMs in plain C whatever this says. */
typedef enum { CLGAN_GEMM_AUTO, CLGAN_GEMM_CLBLAST, CLGAN_GEMM_NATIVE } clgan_gemm_path;
/* "auto", "clblast", "native" */
const char *clgan_gemm_path_name(clgan_gemm_path p);
/* CLGAN_ERR_INVALID_ARG naming the three choices for anything else */
clgan_status clgan_gemm_path_parse(const char *s, clgan_gemm_path *out);

typedef struct {
    const char *kernel_dir;    /* read cl/ sources from here; NULL = embedded */
    const char *cache_dir;     /* NULL = $CLGAN_CACHE_DIR, $XDG_CACHE_HOME/clgan, ~/.cache/clgan */
    bool no_cache;             /* neither read nor write the binary cache */
    const char *kernel_binary; /* offline-compiled program holding every kernel */
    bool profiling;            /* command queue with profiling (benchmarks) */
    clgan_gemm_path gemm;      /* GEMM path; AUTO (0) by default */
    bool no_tune;              /* ignore tune records: CLBlast's own parameters, the rule for AUTO */
} clgan_device_options;

/* The GEMM path a device gets under `opt` and why, decided without opening
 * it (`clgan devices` shows this; clgan_device_open applies the same). */
typedef struct {
    clgan_gemm_path path;       /* CLBLAST or NATIVE; CLBLAST for ref (unused there) */
    bool tuned;                 /* a valid tune record exists: its CLBlast parameters are applied */
    char why[256];              /* "forced (--gemm native)", "measured by clgan tune: ...", "rule: ..." */
    char tune_file[1100];       /* the record's path ("" when the cache dir is unknown) */
} clgan_gemm_choice;
/* CLGAN_ERR_UNSUPPORTED naming the device when NATIVE is forced on a device
 * without native kernels. A corrupt or stale tune record is ignored with a
 * warning (through clgan_log). */
clgan_status clgan_gemm_choose(const clgan_device_info *info, const clgan_device_options *opt, clgan_gemm_choice *out);

typedef struct clgan_device clgan_device;

/* Opens a device: for OpenCL, creates the context and queue and builds (or
 * loads from the cache) every kernel program; when it returns CLGAN_OK the
 * kernels are ready. A build failure is CLGAN_ERR_BUILD with the file name
 * and the device's build log in the message. */
clgan_status clgan_device_open(const clgan_device_info *info, const clgan_device_options *opt,
                               clgan_device **out);
void clgan_device_close(clgan_device *d);
const clgan_device_info *clgan_device_get_info(const clgan_device *d);
/* Whether `total` bytes in all, the largest of them one buffer of
 * `largest`, fit d (its global memory and largest buffer), checked before
 * allocating them: CLGAN_ERR_DEVICE_OOM giving both figures, `what` (the
 * breakdown of total) in the message. */
clgan_status clgan_device_memory_check(const clgan_device *d, uint64_t total, uint64_t largest, const char *what);
clgan_status clgan_device_finish(clgan_device *d);

typedef struct {
    int programs;        /* kernel programs the device holds */
    int built;           /* compiled from source during open */
    int cache_hits;      /* loaded from a verified cache entry */
    int cache_rejected;  /* cache entries found corrupt, truncated or stale and rebuilt */
    int cache_write_failures;
    int kernels;         /* kernel functions found */
    double ready_ms;     /* wall time of the open, to "kernels ready" */
    char cache_dir[1024]; /* "" when the cache is off */
} clgan_kernel_stats;
void clgan_device_kernel_stats(const clgan_device *d, clgan_kernel_stats *out);

/* The GEMM path an open device uses and why (as clgan_gemm_choose). */
const clgan_gemm_choice *clgan_device_gemm(const clgan_device *d);

/* One GEMM shape, as the ops call it: C (m,n) = op(A) op(B) + beta C,
 * row-major; `count` is how often it ran while traced. */
typedef struct {
    int m, n, k;
    bool ta, tb;
    bool accumulate; /* beta = 1 */
    int count;
} clgan_gemm_shape;
/* While set, every GEMM an op launches on d is recorded in `shapes` (up to
 * `cap` distinct shapes; *n counts them, repeats raise count). NULL stops. */
void clgan_device_trace_gemm(clgan_device *d, clgan_gemm_shape *shapes, int cap, int *n);

/* clgan tune: CLBlast's GEMM kernels tuned on d for `shapes`, then native
 * and tuned CLBlast timed on each shape; the record is written beside the
 * kernel cache and applied from then on. */
typedef struct {
    /* share of CLBlast's tuner search space tried (0 = the default, 5e-5:
     * about 6 of the Xgemm kernel's ~120,000 configurations, 4 of
     * XgemmDirect's ~8,000 at 10x the share); < 0 skips CLBlast's tuner and
     * only compares its database entry with the built-in candidates */
    double fraction;
    int max_dim;            /* the tuner's shape sides are capped at this (0 = 512) */
    int runs;               /* timed runs per shape and candidate (median; 0 = 3) */
    int candidates;         /* built-in candidates tried per kernel: 0 = all, < 0 = none */
} clgan_tune_options;
typedef struct {
    clgan_gemm_shape shape;
    double native_ms;  /* median per call; < 0 when the device has no native path */
    double clblast_ms; /* with the tuned parameters */
} clgan_tune_row;
typedef struct {
    clgan_tune_row rows[64];
    int nrows;
    double native_total_ms, clblast_total_ms; /* sum over shapes of count * median */
    clgan_gemm_path faster;
    double tune_seconds;
    char file[1100];
    char params[1024]; /* "Xgemm: MWG=64 ...; XgemmDirect: ..." */
} clgan_tune_report;
clgan_status clgan_gemm_tune(clgan_device *d, const clgan_gemm_shape *shapes, int n, const clgan_tune_options *opt,
                             clgan_tune_report *out);

/* Builds every kernel source into one program and writes the device's
 * program binary to `path` (loadable with kernel_binary). */
clgan_status clgan_device_save_binary(clgan_device *d, const char *path);

/* Buffers: plain memory on ref, cl_mem on OpenCL. New buffers are zeroed.
 * A failed allocation is CLGAN_ERR_DEVICE_OOM naming the size asked for and
 * the device's memory. */
typedef struct clgan_buffer clgan_buffer;
clgan_status clgan_buffer_alloc(clgan_device *d, size_t bytes, clgan_buffer **out);
void clgan_buffer_free(clgan_buffer *b);
size_t clgan_buffer_size(const clgan_buffer *b);
clgan_device *clgan_buffer_device(const clgan_buffer *b);
clgan_status clgan_buffer_write(clgan_buffer *b, size_t offset, const void *src, size_t bytes);
clgan_status clgan_buffer_read(const clgan_buffer *b, size_t offset, void *dst, size_t bytes);
/* The same without waiting: dst holds the bytes after the next
 * clgan_device_finish (several reads then cost one wait). */
clgan_status clgan_buffer_read_async(const clgan_buffer *b, size_t offset, void *dst, size_t bytes);
clgan_status clgan_buffer_copy(clgan_buffer *dst, size_t dst_offset, const clgan_buffer *src,
                               size_t src_offset, size_t bytes);
uint64_t clgan_device_bytes_allocated(const clgan_device *d);
/* Kernels (and GEMM calls) enqueued on d since it opened; 0 on ref. */
uint64_t clgan_device_launch_count(const clgan_device *d);
/* Waits for d since it opened (finishes, blocking reads and writes); 0 on ref. */
uint64_t clgan_device_sync_count(const clgan_device *d);

/* Per-kernel timing, for profiling only: while on, the device is finished
 * after every kernel and GEMM call, and each call's wall time is added to its
 * kernel's row (a GEMM's row is "sgemm <path>"). Turning it on clears the
 * rows; the rows stay readable after it is turned off. Nothing on ref. */
typedef struct {
    char name[64];
    double ms;
    uint64_t launches;
} clgan_kernel_time;
void clgan_device_time_kernels(clgan_device *d, bool on);
/* The rows so far, in first-launch order; *n gets how many. */
const clgan_kernel_time *clgan_device_kernel_times(const clgan_device *d, int *n);

/* The OpenCL / CLBlast name of an error code: "CL_OUT_OF_RESOURCES",
 * "CLBlastInvalidLeadDimA". */
const char *clgan_cl_error_name(int code);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
