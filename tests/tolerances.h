/* Every tolerance the op tests use, with its reason. Change one only with a
 * reason written here: never to make a failing test pass. */
#ifndef CLGAN_TOLERANCES_H
#define CLGAN_TOLERANCES_H

#include "ops/op_table.h"

/* OpenCL against ref, forward and backward: NMSE = sum (a - b)^2 / sum a^2.
 *  - elementwise, layout, RNG, optimizers: 1e-7. The kernels evaluate the
 *    same float expressions as the reference; what differs is the device's
 *    exp/log/tanh/sqrt (OpenCL allows up to 4 ulp, 2^-21 relative, so a
 *    squared relative error of about 1e-13 at worst) and contraction into
 *    fma. 1e-7 is the bound ggml's backend test uses for such ops.
 *  - sum: 1e-7. The kernel sums in float, in a tree (GPU form) or with
 *    compensated accumulators (CPU form); the reference in double. The
 *    error grows like sqrt(n) ulp at most, far under 1e-7 for our sizes.
 *  - matmul, convolutions: we hold GEMM-based ops to 1e-9 (far tighter
 *    than the 5e-4 often allowed them): float accumulation over K <= 1000 terms in a
 *    different order gives relative errors near 1e-6, NMSE near 1e-12.
 *  - pooling: 1e-7. Max pooling, its gradient and its gather give the
 *    reference's bits (the same floats moved, or added in the same order);
 *    so do the average's sums (at most k*k terms, the reference's order),
 *    and what may differ is the device's division (OpenCL allows 2.5 ulp
 *    without -cl-fp32-correctly-rounded-divide-sqrt): squared relative
 *    errors near 1e-13, as for the elementwise ops. A wrong window, tie or
 *    padding rule gives errors of the order of the values themselves.
 *  - gradients computed on the device run chains of these ops: the bound of
 *    the loosest op in the chain. */
static inline double tol_device(clgan_op op) {
    switch (op) {
    case CLGAN_OP_MATMUL:
    case CLGAN_OP_CONV2D:
    case CLGAN_OP_CONV_T2D:
    case CLGAN_OP_CONV2D_GRAD_W: return 1e-9;
    case CLGAN_OP_MAX_POOL2D:
    case CLGAN_OP_MAX_POOL2D_GRAD:
    case CLGAN_OP_MAX_POOL2D_GATHER:
    case CLGAN_OP_AVG_POOL2D:
    case CLGAN_OP_AVG_POOL2D_GRAD: return 1e-7;
    default: return 1e-7;
    }
}

/* Reference gradients against central differences (float32 reference):
 *  - step h = 1e-2 (inputs are O(1)): the truncation error of a central
 *    difference is h^2/6 f''' ~ 2e-5 relative; the rounding error of the
 *    loss (a double-accumulated sum of float products, relative 6e-8) divided
 *    by 2h is ~3e-6 of the loss's scale.
 *  - the check: max |numeric - analytic| <= 1e-3 * max |analytic| + 1e-4
 *    per input, which is ~10x above those errors and ~1000x below what a
 *    sign flip, a wrong stride or a padding off by one produces (their errors
 *    are of the order of the gradient itself).
 *  - second order differentiates the first-order gradient numerically: the
 *    same h; the first-order gradient has rounding error ~1e-7 relative per
 *    element, so the same bound holds.
 *  - kinks (relu, leaky_relu, abs, clamp) are kept 0.1 > h away from every
 *    input by the test-data domain, where the numeric gradient is exact. */
#define GRADCHECK_STEP 1e-2
#define GRADCHECK_RTOL 1e-3
#define GRADCHECK_ATOL 1e-4

#endif
