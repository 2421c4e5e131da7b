/* common.cl: prepended to every clgan program. OpenCL C 1.2, float32 only;
 * no fp64 and no -cl-fast-relaxed-math (NaN/Inf must survive to be caught). */

/* Guarded global index helpers: kernels are launched on a global size rounded
 * up to the work-group size, so every kernel checks its bound. */
#define GID0 ((int)get_global_id(0))
