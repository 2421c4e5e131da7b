/* optim.cl: in-place EMA and optimizer updates, a run of elements per
 * work-item (FOR_RUN, common.cl).
 * The expressions and their order are those of src/ops/ref_optim.c, and
 * FP_CONTRACT is off inside each kernel so no a*b+c becomes an fma the
 * reference does not have: the results differ from the reference only by
 * the device's rounding of sqrt and division. */

/* r (n) = (1 - a) r + a x */
__kernel void optim_ema_f32(__global float *r, const int ro, __global const float *x, const int xo, const int n,
                            const float a, const int run) {
#pragma OPENCL FP_CONTRACT OFF
    FOR_RUN(i, n, run) {
        r[ro + i] = (1.0f - a) * r[ro + i] + a * x[xo + i];
    }
}

/* Adam ("Adam: A Method for Stochastic Optimization", 2015, Algorithm 1), L2 weight decay in the gradient;
 * c1 = 1 - b1^t and c2 = 1 - b2^t come from the host */
__kernel void optim_adam_f32(__global float *p, const int po, __global const float *g, const int go,
                             __global float *m, const int mo, __global float *v, const int vo, const int n,
                             const float lr, const float b1, const float b2, const float eps, const float c1,
                             const float c2, const float wd, const int run) {
#pragma OPENCL FP_CONTRACT OFF
    FOR_RUN(i, n, run) {
        float pi = p[po + i];
        float gd = g[go + i] + wd * pi;
        float mi = b1 * m[mo + i] + (1.0f - b1) * gd;
        float vi = b2 * v[vo + i] + (1.0f - b2) * (gd * gd);
        m[mo + i] = mi;
        v[vo + i] = vi;
        p[po + i] = pi - lr * (mi / c1) / (sqrt(vi / c2) + eps);
    }
}

/* SGD with momentum, PyTorch's convention (no dampening, no Nesterov) */
__kernel void optim_sgd_f32(__global float *p, const int po, __global const float *g, const int go,
                            __global float *b, const int bo, const int n, const float lr, const float mu,
                            const float wd, const int run) {
#pragma OPENCL FP_CONTRACT OFF
    FOR_RUN(i, n, run) {
        float pi = p[po + i];
        float gd = g[go + i] + wd * pi;
        float bi = mu * b[bo + i] + gd;
        b[bo + i] = bi;
        p[po + i] = pi - lr * bi;
    }
}

/* RMSprop, PyTorch's convention (eps outside the sqrt) */
__kernel void optim_rmsprop_f32(__global float *p, const int po, __global const float *g, const int go,
                                __global float *sq, const int so, const int n, const float lr, const float alpha,
                                const float eps, const float wd, const int run) {
#pragma OPENCL FP_CONTRACT OFF
    FOR_RUN(i, n, run) {
        float pi = p[po + i];
        float gd = g[go + i] + wd * pi;
        float si = alpha * sq[so + i] + (1.0f - alpha) * (gd * gd);
        sq[so + i] = si;
        p[po + i] = pi - lr * gd / (sqrt(si) + eps);
    }
}
