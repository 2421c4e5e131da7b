/* common.cl: prepended to every clgan program. OpenCL C 1.2, float32 only;
 * no fp64 and no -cl-fast-relaxed-math (NaN/Inf must survive to be caught). */

/* Guarded global index helpers: kernels are launched on a global size rounded
 * up to the work-group size, so every kernel checks its bound. */
#define GID0 ((int)get_global_id(0))

/* The elements i of a 1-D kernel launched by clgan_cl_launch_runs, whose
 * last argument is run: run contiguous elements per work-item (1 on GPUs,
 * coalesced; more on CPU devices, where a work-item per element costs more
 * than the element). */
/* Neumaier's compensated addition: *s + *c holds the running sum to about
 * one rounding of the exact one, so terms that cancel exactly leave (nearly)
 * nothing, in any order (the CPU form of the generated sums, and the sums of
 * their parts). */
void sum_add(float *s, float *c, float x) {
    float t = *s + x;
    *c += fabs(*s) >= fabs(x) ? (*s - t) + x : (x - t) + *s;
    *s = t;
}

#define FOR_RUN(i, n, run) for (int i = GID0 * (run), i##_end = min((n), i + (run)); i < i##_end; i++)
