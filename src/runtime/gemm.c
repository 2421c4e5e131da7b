/* GEMM on an OpenCL device, two paths:
 *
 * - CLBlast's SGEMM, always with a temporary buffer of ours
 *   (CLBlastSgemmWithTempBuffer, sized by CLBlastSGemmTempBufferSize): on
 *   its indirect path CLBlast pads and transposes operands into temporary
 *   matrices, and without a buffer from the caller it creates and releases
 *   one per call. The device keeps one (d->cl.gemm_temp), grown to the
 *   largest any call has needed, so a training step allocates nothing. (The
 *   direct path needs no temporary; which one a shape takes is CLBlast's
 *   XGEMM_MIN_INDIRECT_SIZE, which `clgan tune` measures.)
 * - Native: where the device runs native kernels (CL_EXEC_NATIVE_KERNEL;
 *   PoCL's CPU device does), OpenBLAS's cblas_sgemm enqueued with
 *   clEnqueueNativeKernel on the same cl_mem buffers, in queue order. The
 *   runtime replaces each cl_mem in the argument block by a host pointer to
 *   the buffer's memory before calling the function, so nothing is copied on
 *   a CPU device.
 *
 *   The native GEMM runs on the host's cores through a pool of clgan's own
 *   threads, each calling a single-threaded cblas_sgemm on a slice of C:
 *   OpenBLAS's own threads spin (sched_yield) for ~2^28 cycles after every
 *   call by default, and on a CPU shared with the OpenCL driver's worker
 *   threads that spinning took a core from every kernel that followed (perf
 *   on the DCGAN-28 step on PoCL: a fifth of all samples in sched_yield).
 *   Ours sleep on a condition variable.
 *
 * Which path a device takes is decided once at open (gemm_tune.c,
 * clgan_gemm_choose). */
#include "runtime/device_impl.h"

#include <cblas.h>
#include <clblast_c.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

/* The cblas.h above must be OpenBLAS's (its pkg-config folder comes first),
 * not netlib's reference CBLAS from liblapack-dev's tree. */
#ifndef OPENBLAS_VERSION
#error "cblas.h is not OpenBLAS's: build with meson's dependency('openblas')"
#endif

const char *clgan_gemm_path_name(clgan_gemm_path p) {
    switch (p) {
    case CLGAN_GEMM_AUTO: return "auto";
    case CLGAN_GEMM_CLBLAST: return "clblast";
    case CLGAN_GEMM_NATIVE: return "native";
    }
    return "?";
}

clgan_status clgan_gemm_path_parse(const char *s, clgan_gemm_path *out) {
    static const clgan_gemm_path all[] = {CLGAN_GEMM_AUTO, CLGAN_GEMM_CLBLAST, CLGAN_GEMM_NATIVE};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, clgan_gemm_path_name(all[i])) == 0) {
            *out = all[i];
            return CLGAN_OK;
        }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "GEMM path \"%s\": expected auto, clblast or native",
                     s ? clgan_esc(s) : "(none)");
}

const clgan_gemm_choice *clgan_device_gemm(const clgan_device *d) { return &d->gemm; }

void clgan_device_trace_gemm(clgan_device *d, clgan_gemm_shape *shapes, int cap, int *n) {
    d->trace.shapes = shapes;
    d->trace.cap = shapes ? cap : 0;
    d->trace.n = shapes ? n : NULL;
    if (n) *n = 0;
}

static void trace(clgan_device *d, bool ta, bool tb, size_t m, size_t n, size_t k, float beta) {
    clgan_gemm_trace *t = &d->trace;
    if (!t->shapes) return;
    clgan_gemm_shape s = {(int)m, (int)n, (int)k, ta, tb, beta != 0.0f, 1};
    for (int i = 0; i < *t->n; i++) {
        clgan_gemm_shape *e = &t->shapes[i];
        if (e->m == s.m && e->n == s.n && e->k == s.k && e->ta == s.ta && e->tb == s.tb &&
            e->accumulate == s.accumulate) {
            e->count++;
            return;
        }
    }
    if (*t->n < t->cap) t->shapes[(*t->n)++] = s;
}

/* ---- buffer creation order ---- */

clgan_status clgan_cl_mem_created(clgan_device *d, cl_mem m) {
    clgan_cl_state *c = &d->cl;
    if (c->nmems == c->cap_mems) {
        int cap = c->cap_mems ? 2 * c->cap_mems : 64;
        struct clgan_cl_mem_seq *g = realloc(c->mems, (size_t)cap * sizeof *g);
        if (!g) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for the buffer table");
        c->mems = g;
        c->cap_mems = cap;
    }
    c->mems[c->nmems].mem = m;
    c->mems[c->nmems].seq = c->next_seq++;
    c->nmems++;
    return CLGAN_OK;
}

void clgan_cl_mem_released(clgan_device *d, cl_mem m) {
    clgan_cl_state *c = &d->cl;
    for (int i = 0; i < c->nmems; i++)
        if (c->mems[i].mem == m) {
            c->mems[i] = c->mems[--c->nmems];
            return;
        }
}

static bool mem_seq(const clgan_device *d, cl_mem m, uint64_t *seq) {
    for (int i = 0; i < d->cl.nmems; i++)
        if (d->cl.mems[i].mem == m) {
            *seq = d->cl.mems[i].seq;
            return true;
        }
    return false;
}

/* ---- CLBlast ---- */

static clgan_status gemm_temp(clgan_device *d, size_t bytes, cl_mem *out) {
    *out = NULL;
    if (bytes == 0) return CLGAN_OK;
    if (bytes > d->cl.gemm_temp_bytes) {
        size_t grow = (bytes + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
        if (d->info.max_alloc && grow > d->info.max_alloc) grow = bytes;
        /* a released buffer lives on until the queued work using it is done */
        if (d->cl.gemm_temp) clReleaseMemObject(d->cl.gemm_temp);
        d->cl.gemm_temp = NULL;
        d->cl.gemm_temp_bytes = 0;
        cl_int err = CL_SUCCESS;
        cl_mem m = clCreateBuffer(d->cl.context, CL_MEM_READ_WRITE, grow, NULL, &err);
        if (err != CL_SUCCESS)
            return CLGAN_ERR(err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                                     err == CL_OUT_OF_RESOURCES || err == CL_INVALID_BUFFER_SIZE
                                 ? CLGAN_ERR_DEVICE_OOM
                                 : CLGAN_ERR_DEVICE,
                             "device %s: clCreateBuffer of %zu bytes (%.1f MiB) for CLBlast's temporary matrices "
                             "failed: %s (%d)",
                             d->info.id, grow, (double)grow / 1048576.0, clgan_cl_error_name(err), (int)err);
        d->cl.gemm_temp = m;
        d->cl.gemm_temp_bytes = grow;
    }
    *out = d->cl.gemm_temp;
    return CLGAN_OK;
}

static clgan_status sgemm_clblast(clgan_device *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a,
                                  size_t ao, size_t lda, cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c,
                                  size_t co, size_t ldc) {
    clgan_status st = CLGAN_OK;
    CLBlastTranspose tra = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose trb = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t need = 0;
    cl_mem temp = NULL;
    CLBLAST_CHECK(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, tra, trb, m, n, k, ao, lda, bo, ldb, co, ldc,
                                             &d->cl.queue, &need));
    if ((st = gemm_temp(d, need, &temp)) != CLGAN_OK) return st;
    double t0 = clgan_device_launch_begin(d);
    CLBLAST_CHECK(CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, tra, trb, m, n, k, 1.0f, a, ao, lda, b, bo, ldb,
                                             beta, c, co, ldc, &d->cl.queue, NULL, temp));
    st = clgan_device_launch_end(d, "sgemm clblast", t0); /* one call; CLBlast may enqueue more than one kernel */
fail:
    return st;
}

/* ---- native ---- */

/* The argument block clEnqueueNativeKernel copies; mem[] holds cl_mem
 * handles when enqueued and host pointers when native_sgemm runs. A buffer
 * used twice (the conv scratch as A and C) is listed once, and the list is
 * in the buffers' creation order (clgan_cl_mem_created says why). */
typedef struct {
    void *mem[3];
    int nmem;
    int ai, bi, ci;          /* which mem[] each operand is in */
    size_t ao, bo, co;       /* offsets in floats */
    int m, n, k, lda, ldb, ldc;
    int ta, tb;
    float beta;
} native_gemm_args;

/* Part `part` of `parts` of the GEMM: a slice of C's rows (when M is the
 * longer side) or columns, with the matching slice of A or B. */
static void sgemm_part(const native_gemm_args *g, int part, int parts) {
    const float *a = (const float *)g->mem[g->ai] + g->ao;
    const float *b = (const float *)g->mem[g->bi] + g->bo;
    float *c = (float *)g->mem[g->ci] + g->co;
    int m = g->m, n = g->n;
    if (g->m >= g->n) {
        int i0 = (int)((long)g->m * part / parts), i1 = (int)((long)g->m * (part + 1) / parts);
        a += g->ta ? (size_t)i0 : (size_t)i0 * (size_t)g->lda; /* A^T is stored (K, M) */
        c += (size_t)i0 * (size_t)g->ldc;
        m = i1 - i0;
    } else {
        int j0 = (int)((long)g->n * part / parts), j1 = (int)((long)g->n * (part + 1) / parts);
        b += g->tb ? (size_t)j0 * (size_t)g->ldb : (size_t)j0; /* B^T is stored (N, K) */
        c += (size_t)j0;
        n = j1 - j0;
    }
    if (m > 0 && n > 0)
        cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, m, n, g->k,
                    1.0f, a, g->lda, b, g->ldb, g->beta, c, g->ldc);
}

/* The pool: POOL_MAX - 1 threads at most besides the caller's, started once
 * per process, sleeping between jobs. One job at a time; a second device's
 * GEMM arriving meanwhile runs alone in its own thread. */
enum { POOL_MAX = 16, MIN_PARALLEL_FLOPS = 1 << 21 };
static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int threads; /* besides the caller */
    bool busy;
    const native_gemm_args *job;
    unsigned generation;
    int pending;
} pool = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER, .go = PTHREAD_COND_INITIALIZER,
          .done = PTHREAD_COND_INITIALIZER};

static void *pool_worker(void *arg) {
    int part = (int)(intptr_t)arg;
    unsigned seen = 0;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (pool.generation == seen) pthread_cond_wait(&pool.go, &pool.mu);
        seen = pool.generation;
        const native_gemm_args *g = pool.job;
        pthread_mutex_unlock(&pool.mu);
        sgemm_part(g, part, pool.threads + 1);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

static void pool_start(void) {
    openblas_set_num_threads(1);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus > POOL_MAX ? POOL_MAX - 1 : cpus > 1 ? (int)cpus - 1 : 0;
    for (int i = 0; i < want; i++) {
        pthread_t t;
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, pool_worker, (void *)(intptr_t)(i + 1)) == 0) pool.threads++;
        pthread_attr_destroy(&at);
        if (pool.threads != i + 1) break;
    }
}

static void CL_CALLBACK native_sgemm(void *p) {
    const native_gemm_args *g = p;
    pthread_once(&pool.once, pool_start);
    pthread_mutex_lock(&pool.mu);
    bool parallel = !pool.busy && pool.threads > 0 && (double)g->m * g->n * g->k >= MIN_PARALLEL_FLOPS;
    if (parallel) {
        pool.busy = true;
        pool.job = g;
        pool.pending = pool.threads;
        pool.generation++;
        pthread_cond_broadcast(&pool.go);
    }
    pthread_mutex_unlock(&pool.mu);
    if (!parallel) {
        sgemm_part(g, 0, 1);
        return;
    }
    sgemm_part(g, 0, pool.threads + 1);
    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pool.busy = false;
    pthread_mutex_unlock(&pool.mu);
}

/* Lists m (once) in g->mem, kept in creation order (seq). */
static void mem_add(native_gemm_args *g, uint64_t *seqs, cl_mem m, uint64_t seq) {
    for (int i = 0; i < g->nmem; i++)
        if (g->mem[i] == (void *)m) return;
    int at = g->nmem++;
    while (at > 0 && seqs[at - 1] > seq) {
        g->mem[at] = g->mem[at - 1];
        seqs[at] = seqs[at - 1];
        at--;
    }
    g->mem[at] = (void *)m;
    seqs[at] = seq;
}

static int mem_index(const native_gemm_args *g, cl_mem m) {
    for (int i = 0; i < g->nmem; i++)
        if (g->mem[i] == (void *)m) return i;
    return -1;
}

static clgan_status sgemm_native(clgan_device *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a,
                                 size_t ao, size_t lda, cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c,
                                 size_t co, size_t ldc) {
    clgan_status st = CLGAN_OK;
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "a side or leading dimension past the 2^31 that cblas_sgemm takes");
    native_gemm_args g = {.ao = ao, .bo = bo, .co = co, .m = (int)m, .n = (int)n, .k = (int)k, .lda = (int)lda,
                          .ldb = (int)ldb, .ldc = (int)ldc, .ta = ta, .tb = tb, .beta = beta};
    cl_mem ops[3] = {a, b, c};
    uint64_t seqs[3];
    for (int i = 0; i < 3; i++) {
        uint64_t s;
        if (!mem_seq(d, ops[i], &s))
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a GEMM operand is not a buffer clgan created on device %s",
                             d->info.id);
        mem_add(&g, seqs, ops[i], s);
    }
    g.ai = mem_index(&g, a);
    g.bi = mem_index(&g, b);
    g.ci = mem_index(&g, c);
    cl_mem list[3];
    const void *loc[3];
    for (int i = 0; i < g.nmem; i++) {
        list[i] = (cl_mem)g.mem[i];
        loc[i] = &g.mem[i];
    }
    double t0 = clgan_device_launch_begin(d);
    CL_CHECK(clEnqueueNativeKernel(d->cl.queue, native_sgemm, &g, sizeof g, (cl_uint)g.nmem, list, loc, 0, NULL,
                                   NULL));
    st = clgan_device_launch_end(d, "sgemm native", t0);
fail:
    return st;
}

clgan_status clgan_cl_sgemm(clgan_device *d, clgan_gemm_path path, bool ta, bool tb, size_t m, size_t n, size_t k,
                            cl_mem a, size_t ao, size_t lda, cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c,
                            size_t co, size_t ldc) {
    if (path == CLGAN_GEMM_AUTO) path = d->gemm.path;
    trace(d, ta, tb, m, n, k, beta);
    clgan_status st;
    if (path == CLGAN_GEMM_NATIVE) {
        if (!d->info.native_kernels)
            st = CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s (%s) does not run native kernels", d->info.id,
                           d->info.name);
        else
            st = sgemm_native(d, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
    } else {
        st = sgemm_clblast(d, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
    }
    if (st != CLGAN_OK)
        clgan_error_context(st, "GEMM (%s) m=%zu n=%zu k=%zu%s%s: ", clgan_gemm_path_name(path), m, n, k,
                            ta ? " A^T" : "", tb ? " B^T" : "");
    return st;
}
