/* Latent-space interpolation: spherical interpolation ("Sampling Generative
 * Networks", 2016) between points drawn from the prior N(0, I).
 *
 * A linear path between two Gaussian samples passes close to the origin,
 * where the prior has almost no mass in high dimensions (the norm of a
 * d-dimensional standard normal concentrates near sqrt(d)), so its middle
 * images are atypical. The great-circle path keeps the norm in the typical
 * shell. We move the direction along the great circle at a constant angular
 * rate and the norm linearly from |a| to |b|; for |a| = |b| this is the
 * paper's slerp exactly, and for unequal norms it keeps the angle steps
 * constant, which the paper's formula applied to unnormalised vectors does
 * not.
 *
 * Everything is computed in double. The result is written as
 * p = alpha a + beta b (+ gamma u), with coefficients that are exactly 1 and 0
 * at t = 0 and t = 1, so the endpoints are reproduced bit for bit. */
#include "clgan/repair.h"

#include <math.h>
#include <stdlib.h>

/* A direction of the great circle is degenerate below these: parallel
 * directions (theta ~ 0) have no circle to follow and interpolate linearly;
 * antiparallel ones (|a^ + b^| ~ 0) have infinitely many circles. */
#define SLERP_PARALLEL 1e-12
#define SLERP_ANTIPARALLEL 1e-6
#define SLERP_PI 3.14159265358979323846

static double norm_of(const float *a, int dim) {
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}

/* The angle between unit vectors x and y, 2 atan2(|x - y|, |x + y|): accurate
 * near 0 and near pi, where acos(x . y) loses half the digits. Vector i is
 * x_i = xs * xv[i] (+ xu * u_i), where u is the perpendicular of perp_at. */
typedef struct {
    const float *a; /* the first endpoint, to build u from */
    double ra;      /* |a| */
    int k;          /* the coordinate axis least aligned with a */
    double uk;      /* sqrt(1 - a^_k^2) */
} perp;

/* u = (e_k - a^_k a^) / |e_k - a^_k a^|, element i; |e_k - a^_k a^|^2 = 1 - a^_k^2 */
static double perp_at(const perp *u, int i) {
    double ak = u->a[u->k] / u->ra, ai = u->a[i] / u->ra;
    return ((i == u->k ? 1.0 : 0.0) - ak * ai) / u->uk;
}

void clgan_slerp(const float *a, const float *b, int dim, double t, float *out) {
    double ra = norm_of(a, dim), rb = norm_of(b, dim);
    double r = (1.0 - t) * ra + t * rb; /* the norm, linear in t; exactly rb at t = 1 */
    if (ra == 0 || rb == 0) {
        /* a zero endpoint has no direction */
        for (int i = 0; i < dim; i++) out[i] = (float)((1.0 - t) * a[i] + t * b[i]);
        return;
    }
    double dm = 0, dp = 0; /* |a^ - b^|^2, |a^ + b^|^2 */
    for (int i = 0; i < dim; i++) {
        double x = a[i] / ra, y = b[i] / rb;
        dm += (x - y) * (x - y);
        dp += (x + y) * (x + y);
    }
    double theta = 2.0 * atan2(sqrt(dm), sqrt(dp));
    if (theta < SLERP_PARALLEL || (sqrt(dp) < SLERP_ANTIPARALLEL && dim < 2)) {
        /* parallel: the direction is fixed and a linear path keeps it (its norm
         * is then linear too); 1-D antiparallel: no other way round */
        for (int i = 0; i < dim; i++) out[i] = (float)((1.0 - t) * a[i] + t * b[i]);
        return;
    }
    if (sqrt(dp) >= SLERP_ANTIPARALLEL) {
        double s = sin(theta);
        double alpha = sin((1.0 - t) * theta) / s * (r / ra), beta = sin(t * theta) / s * (r / rb);
        for (int i = 0; i < dim; i++) out[i] = (float)(alpha * a[i] + beta * b[i]);
        return;
    }
    /* Antiparallel: turn through a fixed unit vector u perpendicular to a
     * (built from the coordinate axis least aligned with a, so it is well
     * conditioned and the same every time): a^ -> u for t <= 1/2, u -> b^
     * after, a quarter turn each (to within SLERP_ANTIPARALLEL). */
    perp u = {.a = a, .ra = ra, .k = 0};
    for (int i = 1; i < dim; i++)
        if (fabs((double)a[i]) < fabs((double)a[u.k])) u.k = i;
    double ak = a[u.k] / ra;
    u.uk = sqrt(1.0 - ak * ak);
    if (t <= 0.5) {
        /* a^ and u are orthogonal: theta = pi/2, sin theta = 1 */
        double s = t * SLERP_PI;
        double alpha = cos(s) * (r / ra), gamma = sin(s) * r;
        for (int i = 0; i < dim; i++) out[i] = (float)(alpha * a[i] + gamma * perp_at(&u, i));
        return;
    }
    double um = 0, up = 0; /* |u - b^|^2, |u + b^|^2 */
    for (int i = 0; i < dim; i++) {
        double x = perp_at(&u, i), y = b[i] / rb;
        um += (x - y) * (x - y);
        up += (x + y) * (x + y);
    }
    double th2 = 2.0 * atan2(sqrt(um), sqrt(up)), s2 = sin(th2), t2 = 2.0 * t - 1.0;
    double gamma = sin((1.0 - t2) * th2) / s2 * r, beta = sin(t2 * th2) / s2 * (r / rb);
    for (int i = 0; i < dim; i++) out[i] = (float)(gamma * perp_at(&u, i) + beta * b[i]);
}

clgan_status clgan_interpolate_latents(int pairs, int steps, int z_dim, uint64_t seed, float *z) {
    if (pairs < 1 || steps < 2 || z_dim < 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "interpolation: %d pairs, %d steps, z dimension %d; expected >= 1, >= 2 "
                         "and >= 1",
                         pairs, steps, z_dim);
    size_t d = (size_t)z_dim;
    float *ends = malloc(2 * (size_t)pairs * d * sizeof *ends);
    if (!ends) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_rng_normal(seed, 0, ends, 2 * (size_t)pairs * d);
    for (int p = 0; p < pairs; p++)
        for (int k = 0; k < steps; k++)
            clgan_slerp(ends + 2 * (size_t)p * d, ends + (2 * (size_t)p + 1) * d, z_dim, (double)k / (steps - 1),
                        z + ((size_t)p * (size_t)steps + (size_t)k) * d);
    free(ends);
    return CLGAN_OK;
}
