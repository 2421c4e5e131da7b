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
#ifdef __linux__
#define _GNU_SOURCE /* sched_getcpu, pthread_setaffinity_np: the pool's placement */
#include <sched.h>
#endif
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
 * in the buffers' creation order (clgan_cl_mem_created says why). A
 * convolution's GEMM may carry its column matrix's data movement with it
 * (clgan_cl_sgemm_cols): im2col into B before the GEMM, or col2im of C
 * after it, on the same threads in the same native kernel. */
typedef struct {
    int img;                 /* which mem[] the image is in */
    size_t io, sn, sc;       /* the image at io, samples sn and channels sc apart (floats) */
    int nb, C, H, W, R, S, P, Q, s, ph, pw;
} native_cols;
typedef struct {
    void *mem[4];
    int nmem;
    int ai, bi, ci;          /* which mem[] each operand is in */
    size_t ao, bo, co;       /* offsets in floats */
    int m, n, k, lda, ldb, ldc;
    int ta, tb;
    float beta;
    int im2col, col2im;      /* B = im2col(image) first; image = col2im(C) after */
    native_cols cols;
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

/* First v in [0, n) with 0 <= v*s + d, and one past the last with
 * v*s + d < lim (cl/conv.cl's conv_run_lo and conv_run_hi). */
static int run_lo(int d, int s, int n) {
    int v = d < 0 ? (-d + s - 1) / s : 0;
    return v < n ? v : n;
}
static int run_hi(int d, int s, int lim, int n) {
    if (lim - 1 - d < 0) return 0;
    int v = (lim - 1 - d) / s + 1;
    return v < n ? v : n;
}

/* Rows of B = im2col(image), as cl/conv.cl's conv_im2col_rows_f32: row
 * (c*R + r)*S + t, column n*P*Q + i*Q + j holds image[n, c, i*s - ph + r,
 * j*s - pw + t], or 0 outside it. Part `part` writes its share of the rows. */
static void im2col_part(const native_gemm_args *g, int part, int parts) {
    const native_cols *v = &g->cols;
    /* the sizes in locals: the compiler then keeps them in registers across the stores */
    const int nb = v->nb, C = v->C, H = v->H, W = v->W, R = v->R, S = v->S, P = v->P, Q = v->Q, st = v->s;
    const int ph = v->ph, pw = v->pw;
    const size_t sn = v->sn, sc = v->sc, pq = (size_t)P * (size_t)Q;
    const float *x = (const float *)g->mem[v->img] + v->io;
    float *col = (float *)g->mem[g->bi] + g->bo;
    int rows = C * R * S;
    int r0 = (int)((long)rows * part / parts), r1 = (int)((long)rows * (part + 1) / parts);
    for (int row = r0; row < r1; row++) {
        int t = row % S, r = (row / S) % R, c = row / (R * S);
        float *out = col + (size_t)row * (size_t)nb * pq;
        int ilo = run_lo(r - ph, st, P), ihi = run_hi(r - ph, st, H, P);
        int jlo = run_lo(t - pw, st, Q), jhi = run_hi(t - pw, st, W, Q);
        if (ihi < ilo) ihi = ilo;
        if (jhi < jlo) jhi = jlo;
        const size_t lead = (size_t)ilo * (size_t)Q, tail = pq - (size_t)ihi * (size_t)Q;
        const int run = jhi - jlo, after = Q - jhi;
        for (int n = 0; n < nb; n++) {
            const float *xc = x + (size_t)n * sn + (size_t)c * sc;
            for (size_t e = 0; e < lead; e++) *out++ = 0.0f; /* (runs of a few floats: no memset call per run) */
            for (int i = ilo; i < ihi; i++) {
                /* x[.., i*s + r - ph, j*s + t - pw] for j in [jlo, jhi): inside the image */
                const float *in = xc + (size_t)((i * st + r - ph) * W + jlo * st + t - pw);
                for (int j = 0; j < jlo; j++) *out++ = 0.0f;
                if (st == 1) {
                    for (int j = 0; j < run; j++) out[j] = in[j];
                    out += run;
                } else if (st == 2) {
                    for (int j = 0; j < run; j++) out[j] = in[2 * j];
                    out += run;
                } else {
                    for (int j = 0; j < run; j++) out[j] = in[(size_t)j * (size_t)st];
                    out += run;
                }
                for (int j = 0; j < after; j++) *out++ = 0.0f;
            }
            for (size_t e = 0; e < tail; e++) *out++ = 0.0f;
        }
    }
}

/* image = col2im(C), as cl/conv.cl's conv_col2im_stream_f32: C is (K*R*S,
 * nb*Hi*Wi) with (nb, K, Ho, Wo, R, S, Hi, Wi) in cols' (nb, C, H, W, R, S,
 * P, Q); each output pixel adds the entries that land on it in the order
 * (r, t), the same sum in the same order as the kernels. Part `part` takes
 * its share of the units (a channel and block of samples each). */
static int col2im_blocks(const native_cols *v, int parts) {
    int want = 4 * parts, blocks = v->C >= want ? 1 : (want + v->C - 1) / v->C;
    return blocks < v->nb ? blocks : v->nb;
}
static void col2im_part(const native_gemm_args *g, int part, int parts) {
    const native_cols *v = &g->cols;
    const int K = v->C, Ho = v->H, Wo = v->W, Hi = v->P, Wi = v->Q, R = v->R, S = v->S, s = v->s;
    const int ph = v->ph, pw = v->pw, nb = v->nb;
    const size_t sn = v->sn, sc = v->sc, plane = (size_t)Ho * (size_t)Wo, in_plane = (size_t)Hi * (size_t)Wi;
    float *y = (float *)g->mem[v->img] + v->io;
    const float *col = (const float *)g->mem[g->ci] + g->co;
    int blocks = col2im_blocks(v, parts), blk = (nb + blocks - 1) / blocks, units = K * blocks;
    size_t cols = (size_t)nb * in_plane;
    int u0 = (int)((long)units * part / parts), u1 = (int)((long)units * (part + 1) / parts);
    for (int u = u0; u < u1; u++) {
        int k = u / blocks, n0 = (u % blocks) * blk, n1 = n0 + blk < nb ? n0 + blk : nb;
        float *yk = y + (size_t)k * sc;
        for (int n = n0; n < n1; n++)
            for (size_t e = 0; e < plane; e++) yk[(size_t)n * sn + e] = 0.0f;
        const float *ck = col + (size_t)k * (size_t)(R * S) * cols;
        for (int r = 0; r < R; r++) {
            int hlo = run_lo(r - ph, s, Hi), hhi = run_hi(r - ph, s, Ho, Hi);
            for (int t = 0; t < S; t++) {
                int vlo = run_lo(t - pw, s, Wi), vhi = run_hi(t - pw, s, Wo, Wi), run = vhi - vlo;
                const float *row = ck + (size_t)(r * S + t) * cols;
                for (int n = n0; n < n1; n++) {
                    float *out = yk + (size_t)n * sn;
                    const float *rn = row + (size_t)n * in_plane;
                    for (int h = hlo; h < hhi; h++) {
                        /* y[n, k, h*s - ph + r, w*s - pw + t] for w in [vlo, vhi): inside the plane */
                        float *o = out + (size_t)((h * s - ph + r) * Wo + vlo * s + t - pw);
                        const float *in = rn + (size_t)h * (size_t)Wi + vlo;
                        if (s == 1)
                            for (int w = 0; w < run; w++) o[w] += in[w];
                        else if (s == 2)
                            for (int w = 0; w < run; w++) o[2 * w] += in[w];
                        else
                            for (int w = 0; w < run; w++) o[(size_t)w * (size_t)s] += in[w];
                    }
                }
            }
        }
    }
}

/* The pool: POOL_MAX - 1 threads at most besides the caller's, started once
 * per process, sleeping between jobs. One job at a time; a second device's
 * GEMM arriving meanwhile runs alone in its own thread.
 *
 * Placement (Linux): before each job the pool's threads are pinned to the
 * process's CPUs other than the one the caller runs on. Unpinned, the
 * kernel woke a pool thread on the caller's own CPU (the waker's) while the
 * other sat idle until the next load balance, ~10 ms later: the two parts
 * of a GEMM then took turns on one core (perf on the DCGAN-28 step, 2 cores:
 * a core idle ~20% of the step, ten-millisecond gaps with both parts
 * sharing the other). CLGAN_POOL_PIN=0 leaves the threads unpinned. */
enum { POOL_MAX = 16, MIN_PARALLEL_FLOPS = 1 << 21, MIN_PARALLEL_MOVES = 1 << 15, POOL_CPUS = 1024 };
static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    int threads; /* besides the caller */
    bool busy;
    const native_gemm_args *job;
    void (*fn)(const native_gemm_args *, int part, int parts);
    unsigned generation;
    int pending;
    pthread_t tid[POOL_MAX];
    int pinned[POOL_MAX];  /* the CPU thread i is pinned to, -1 none */
    int cpus[POOL_CPUS];   /* the CPUs the process may run on */
    int ncpus;             /* 0: no placement */
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
        void (*fn)(const native_gemm_args *, int, int) = pool.fn;
        pthread_mutex_unlock(&pool.mu);
        fn(g, part, pool.threads + 1);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* The CPUs the process may run on: the main thread's set (the driver's
 * workers, which start the pool, may be pinned to one CPU each). Returns
 * how many, 0 when unknown; pool.cpus lists them for placement unless
 * CLGAN_POOL_PIN=0 or there is only one. */
#ifdef __linux__
static cpu_set_t process_cpus;
#endif
static int pool_find_cpus(void) {
    int n = 0;
#ifdef __linux__
    CPU_ZERO(&process_cpus);
    if (sched_getaffinity(getpid(), sizeof process_cpus, &process_cpus) != 0) return 0;
    const char *e = getenv("CLGAN_POOL_PIN");
    bool pin = !(e && strcmp(e, "0") == 0);
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, &process_cpus)) continue;
        if (pin && n < POOL_CPUS) pool.cpus[pool.ncpus++] = c;
        n++;
    }
    if (pool.ncpus < 2) pool.ncpus = 0;
#endif
    return n;
}

static void pool_start(void) {
    openblas_set_num_threads(1);
    long cpus = pool_find_cpus();
    if (cpus == 0) cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int want = cpus > POOL_MAX ? POOL_MAX - 1 : cpus > 1 ? (int)cpus - 1 : 0;
    for (int i = 0; i < want; i++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
#ifdef __linux__
        /* the process's CPUs, not the starting driver thread's (PoCL may pin its workers) */
        if (CPU_COUNT(&process_cpus) > 0) pthread_attr_setaffinity_np(&at, sizeof process_cpus, &process_cpus);
#endif
        if (pthread_create(&pool.tid[i], &at, pool_worker, (void *)(intptr_t)(i + 1)) == 0) {
            pool.pinned[i] = -1;
            pool.threads++;
        }
        pthread_attr_destroy(&at);
        if (pool.threads != i + 1) break;
    }
}

/* Pins the pool's threads to CPUs other than the caller's (under pool.mu),
 * changing only those whose CPU is now the caller's or was never set */
static void pool_place(void) {
#ifdef __linux__
    if (pool.ncpus == 0) return;
    int me = sched_getcpu(), next = 0;
    for (int i = 0; i < pool.threads; i++) {
        if (pool.pinned[i] >= 0 && pool.pinned[i] != me) continue;
        /* the next CPU of the list (from where the last search stopped) that is not the caller's and
         * no thread holds */
        for (int tries = 0; tries < pool.ncpus; tries++, next++) {
            int c = pool.cpus[next % pool.ncpus];
            bool held = c == me;
            for (int j = 0; j < pool.threads && !held; j++) held = pool.pinned[j] == c;
            if (held) continue;
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(c, &set);
            if (pthread_setaffinity_np(pool.tid[i], sizeof set, &set) == 0) pool.pinned[i] = c;
            break;
        }
    }
#endif
}

/* Runs fn's parts on the pool (when `big` and the pool is free), else
 * fn(g, 0, 1) on the caller's thread; returns when all are done. */
static void run_parts(void (*fn)(const native_gemm_args *, int, int), const native_gemm_args *g, bool big) {
    pthread_mutex_lock(&pool.mu);
    bool parallel = !pool.busy && pool.threads > 0 && big;
    if (parallel) {
        pool_place();
        pool.busy = true;
        pool.job = g;
        pool.fn = fn;
        pool.pending = pool.threads;
        pool.generation++;
        pthread_cond_broadcast(&pool.go);
    }
    pthread_mutex_unlock(&pool.mu);
    if (!parallel) {
        fn(g, 0, 1);
        return;
    }
    fn(g, 0, pool.threads + 1);
    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pool.busy = false;
    pthread_mutex_unlock(&pool.mu);
}

static void CL_CALLBACK native_sgemm(void *p) {
    const native_gemm_args *g = p;
    pthread_once(&pool.once, pool_start);
    const native_cols *v = &g->cols;
    double moved = (double)v->nb * v->C * v->R * v->S * (g->im2col ? (double)v->P * v->Q : (double)v->H * v->W);
    if (g->im2col) run_parts(im2col_part, g, moved >= MIN_PARALLEL_MOVES);
    run_parts(sgemm_part, g, (double)g->m * g->n * g->k >= MIN_PARALLEL_FLOPS);
    if (g->col2im) run_parts(col2im_part, g, moved >= MIN_PARALLEL_MOVES);
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

/* im2col_b / col2im_c: the convolution data movement that goes with the
 * GEMM (clgan_cl_sgemm_cols), NULL for a plain GEMM */
static clgan_status sgemm_native(clgan_device *d, bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a,
                                 size_t ao, size_t lda, cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c,
                                 size_t co, size_t ldc, const clgan_cl_cols *im2col_b, const clgan_cl_cols *col2im_c) {
    clgan_status st = CLGAN_OK;
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "a side or leading dimension past the 2^31 that cblas_sgemm takes");
    native_gemm_args g = {.ao = ao, .bo = bo, .co = co, .m = (int)m, .n = (int)n, .k = (int)k, .lda = (int)lda,
                          .ldb = (int)ldb, .ldc = (int)ldc, .ta = ta, .tb = tb, .beta = beta,
                          .im2col = im2col_b != NULL, .col2im = col2im_c != NULL};
    const clgan_cl_cols *cv = im2col_b ? im2col_b : col2im_c;
    cl_mem ops[4] = {a, b, c, cv ? cv->img : NULL};
    int nops = cv ? 4 : 3;
    uint64_t seqs[4];
    for (int i = 0; i < nops; i++) {
        uint64_t s;
        if (!mem_seq(d, ops[i], &s))
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "a GEMM operand is not a buffer clgan created on device %s",
                             d->info.id);
        mem_add(&g, seqs, ops[i], s);
    }
    g.ai = mem_index(&g, a);
    g.bi = mem_index(&g, b);
    g.ci = mem_index(&g, c);
    if (cv)
        g.cols = (native_cols){.img = mem_index(&g, cv->img), .io = cv->off, .sn = cv->sn, .sc = cv->sc, .nb = cv->nb,
                               .C = cv->C, .H = cv->H, .W = cv->W, .R = cv->R, .S = cv->S, .P = cv->P, .Q = cv->Q,
                               .s = cv->s, .ph = cv->ph, .pw = cv->pw};
    cl_mem list[4];
    const void *loc[4];
    for (int i = 0; i < g.nmem; i++) {
        list[i] = (cl_mem)g.mem[i];
        loc[i] = &g.mem[i];
    }
    double t0 = clgan_device_launch_begin(d);
    CL_CHECK(clEnqueueNativeKernel(d->cl.queue, native_sgemm, &g, sizeof g, (cl_uint)g.nmem, list, loc, 0, NULL,
                                   NULL));
    st = clgan_device_launch_end(d, im2col_b ? "im2col + sgemm native" : col2im_c ? "sgemm + col2im native" : "sgemm native", t0);
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
            st = sgemm_native(d, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, beta, c, co, ldc, NULL, NULL);
    } else {
        st = sgemm_clblast(d, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
    }
    if (st != CLGAN_OK)
        clgan_error_context(st, "GEMM (%s) m=%zu n=%zu k=%zu%s%s: ", clgan_gemm_path_name(path), m, n, k,
                            ta ? " A^T" : "", tb ? " B^T" : "");
    return st;
}

/* Opt-in (CLGAN_NATIVE_CONV=1): on PoCL 3.1 with 2 cores the step ran
 * 5-10% slower so (bench_train DCGAN-28, alternated runs: 90 launches at a
 * median 327 img/s against 118 at 349), though each convolution alone took
 * about as long as with the shape-specialised kernels: the launches it saves
 * cost ~8 us each there. */
bool clgan_cl_native_cols(const clgan_device *d) {
    if (d->gemm.path != CLGAN_GEMM_NATIVE || !d->info.native_kernels) return false;
    const char *e = getenv("CLGAN_NATIVE_CONV");
    return e && strcmp(e, "1") == 0;
}

clgan_status clgan_cl_sgemm_cols(clgan_device *d, const clgan_cl_cols *im2col_b, const clgan_cl_cols *col2im_c,
                                 bool ta, bool tb, size_t m, size_t n, size_t k, cl_mem a, size_t ao, size_t lda,
                                 cl_mem b, size_t bo, size_t ldb, float beta, cl_mem c, size_t co, size_t ldc) {
    if (!clgan_cl_native_cols(d) || (im2col_b && col2im_c))
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "device %s: a convolution's GEMM with its column matrix's data "
                         "movement runs on the native GEMM path only, with one of im2col and col2im", d->info.id);
    trace(d, ta, tb, m, n, k, beta);
    clgan_status st = sgemm_native(d, ta, tb, m, n, k, a, ao, lda, b, bo, ldb, beta, c, co, ldc, im2col_b, col2im_c);
    if (st != CLGAN_OK)
        clgan_error_context(st, "GEMM (native, with %s) m=%zu n=%zu k=%zu%s%s: ", im2col_b ? "im2col" : "col2im", m,
                            n, k, ta ? " A^T" : "", tb ? " B^T" : "");
    return st;
}
