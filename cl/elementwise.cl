/* elementwise.cl: fills and copies; the arithmetic ops join with the op table. */

/* y[i] = value for i < n */
__kernel void fill_f32(__global float *y, const int n, const float value) {
    int i = GID0;
    if (i < n) y[i] = value;
}

/* y[i] = a * x[i] + b for i < n (also a strided-free copy when a = 1, b = 0) */
__kernel void affine_f32(__global float *y, __global const float *x, const int n, const float a,
                         const float b) {
    int i = GID0;
    if (i < n) y[i] = a * x[i] + b;
}
