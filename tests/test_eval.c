/* Evaluation metrics on hand-built sets with known answers, and the
 * classifier's file.
 *
 *   test_eval fid          the Fréchet distance: a set with itself is 0; Gaussians with known means and
 *                          covariances (diagonal, commuting, a non-commuting 2x2 pair with its own closed
 *                          form) match the formula; sample sets built so their statistics are exact; it
 *                          grows as t^2 |v|^2 with a shift t v; bad input is refused
 *   test_eval inception    the inception score: confident and uniform over k classes is k, one class is 1,
 *                          a two-class mixture matches its closed form; softmax; bad rows are refused
 *   test_eval modes        mode coverage of ring8 and grid25: every mode, one mode, off-mode samples,
 *                          the 3-sigma boundary
 *   test_eval classifier   on ref: the classifier learns a trivial two-class problem; save, read_info and
 *                          load give back the same predictions; corrupt, foreign and mismatched files are
 *                          refused naming the file; the shift augmentation moves pixels
 *   test_eval kid          the kernel inception distance: a set with itself gives the unbiased
 *                          estimator's closed form -(2/m)(mean diagonal - mean off-diagonal kernel), -3.5
 *                          exactly for 2 e_i in 4-d; point clusters 304 exactly; a shifted copy and subsets
 *                          past one block as plain loops give it; NumPy's values (tests/golden-metrics/,
 *                          tools/kid_pr_reference.py) over its subsets and over whole sets; random subsets
 *                          are the documented Philox draw, reproducible, their mean within 4 standard
 *                          errors of the full-sample estimate; bad input is refused
 *   test_eval pr           k-NN precision and recall: 1 and 1 for a set with itself and for duplicates,
 *                          0 and 0 for disjoint clusters and a far shift, exact ties on a line (k = 1, 3),
 *                          half the modes (recall 1/2), sets past one block against plain loops, NumPy's
 *                          radii and every decision (k = 3) and counts (k = 1, 3, 5); bad input is refused
 *
 * Each part prints "FAIL file:line: what" for every failed check and exits 1
 * if there was any. What breaks each check: a sign or factor error in the
 * formula (fid: 2 Tr vs Tr, sqrt of the product's entries instead of its
 * eigenvalues, biased vs unbiased covariance), KL in the wrong direction or a
 * mean instead of a sum (inception), a wrong sigma or a < where <= belongs
 * (modes), a tensor not written or read (classifier), the Gram diagonals
 * kept in KID's XX and YY sums or a 1/m^2 for 1/(m(m-1)) (kid), a point
 * counted as its own neighbour, the wrong k or a < where <= belongs (pr);
 * tests/meson.build plants three of these (eval_*_planted_8..10). */
#include "clgan/data.h"
#include "clgan/train.h"
#include "clgan/eval.h"
#include "test_util.h"

#include <math.h>
#include <unistd.h>

static bool close_rel(double a, double b, double rel) { return fabs(a - b) <= rel * fmax(fabs(b), 1e-300); }

/* ---- Fréchet distance ---- */

/* n rows of dim features: x[i][j] = mu[j] + sigma[j] * h(i, j), where h(., j)
 * is column j + 1 of a Sylvester-Hadamard matrix of order n (a power of two):
 * its columns other than the first are +-1 with mean 0 and orthogonal to each
 * other, so the sample mean is exactly mu and the unbiased sample covariance
 * exactly diag(sigma^2) * n / (n - 1). */
static float *hadamard_set(int n, int dim, const double *mu, const double *sigma) {
    float *x = malloc((size_t)n * (size_t)dim * sizeof *x);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dim; j++) {
            int h = __builtin_popcount((unsigned)(i & (j + 1))) % 2 ? -1 : 1;
            x[(size_t)i * (size_t)dim + (size_t)j] = (float)(mu[j] + sigma[j] * h);
        }
    return x;
}

static void random_features(float *x, int n, int dim, uint64_t seed) {
    /* correlated, non-zero-mean features: x = A z + b */
    float *z = malloc((size_t)n * (size_t)dim * sizeof *z);
    clgan_rng_normal(seed, 0, z, (size_t)n * (size_t)dim);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dim; j++) {
            double v = 0.5 * j;
            for (int k = 0; k <= j && k < 4; k++) v += z[(size_t)i * (size_t)dim + (size_t)(j - k)] * (1.0 + 0.3 * k);
            x[(size_t)i * (size_t)dim + (size_t)j] = (float)v;
        }
    free(z);
}

static double trace(const double *s, int d) {
    double t = 0;
    for (int i = 0; i < d; i++) t += s[(size_t)i * (size_t)d + (size_t)i];
    return t;
}

static void test_fid(void) {
    /* 1. a set with itself: 0, relative to the size of its covariance, in a
     * full-rank case (n > dim) and a rank-deficient one (n < dim), where
     * rounding makes eigenvalues of the zero directions slightly negative */
    const int dims[2] = {16, 128}, ns[2] = {400, 60};
    for (int t = 0; t < 2; t++) {
        int d = dims[t], n = ns[t];
        float *x = malloc((size_t)n * (size_t)d * sizeof *x);
        random_features(x, n, d, 7 + (uint64_t)t);
        double fd = -1, *mu = malloc((size_t)d * sizeof *mu), *s = malloc((size_t)d * (size_t)d * sizeof *s);
        MUST(clgan_fid_features(x, n, x, n, d, &fd));
        MUST(clgan_feature_stats(x, n, d, mu, s));
        CHECK(fd >= 0 && fd <= 1e-6 * 2 * trace(s, d), "FID of a set with itself (dim %d, n %d) is %g, scale %g", d, n,
              fd, 2 * trace(s, d));
        /* not trivially 0: the same set shifted by 1 in every feature is d away */
        for (size_t i = 0; i < (size_t)n * (size_t)d; i++) x[i] += 1.0f;
        float *y = malloc((size_t)n * (size_t)d * sizeof *y);
        random_features(y, n, d, 7 + (uint64_t)t);
        MUST(clgan_fid_features(x, n, y, n, d, &fd));
        CHECK(close_rel(fd, d, 1e-4), "FID after a shift of 1 per feature is %g, expected %d", fd, d);
        free(x);
        free(y);
        free(mu);
        free(s);
    }

    /* 2. diagonal covariances: ||mu1 - mu2||^2 + sum (sigma1 - sigma2)^2 */
    {
        enum { D = 5 };
        double mu1[D] = {0, 1, 2, -1, 0.5}, mu2[D] = {1, 1, 0, -1, -0.5};
        double sd1[D] = {1, 2, 0.5, 3, 1}, sd2[D] = {2, 2, 1.5, 0.1, 4};
        double s1[D * D] = {0}, s2[D * D] = {0}, want = 0;
        for (int j = 0; j < D; j++) {
            s1[j * D + j] = sd1[j] * sd1[j];
            s2[j * D + j] = sd2[j] * sd2[j];
            want += (mu1[j] - mu2[j]) * (mu1[j] - mu2[j]) + (sd1[j] - sd2[j]) * (sd1[j] - sd2[j]);
        }
        double fd = -1;
        MUST(clgan_frechet_distance(D, mu1, s1, mu2, s2, &fd));
        CHECK(close_rel(fd, want, 1e-10), "diagonal Gaussians: FID %.15g, closed form %.15g", fd, want);
        /* symmetric in its arguments */
        double back = -1;
        MUST(clgan_frechet_distance(D, mu2, s2, mu1, s1, &back));
        CHECK(close_rel(back, want, 1e-10), "diagonal Gaussians, swapped: FID %.15g, closed form %.15g", back, want);
    }

    /* 3. commuting covariances R diag(a) R^T and R diag(b) R^T, R a rotation:
     * Tr sqrt(s1 s2) = sum sqrt(a b) */
    {
        enum { D = 3 };
        double c = cos(0.7), s = sin(0.7);
        double R[D * D] = {c, -s, 0, s, c, 0, 0, 0, 1}; /* then a second rotation about x */
        double c2 = cos(-1.1), s2r = sin(-1.1);
        double Q[D * D] = {1, 0, 0, 0, c2, -s2r, 0, s2r, c2}, RQ[D * D];
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                RQ[i * D + j] = 0;
                for (int k = 0; k < D; k++) RQ[i * D + j] += R[i * D + k] * Q[k * D + j];
            }
        double a[D] = {4, 1, 0.25}, b[D] = {1, 9, 2}, S1[D * D], S2[D * D];
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                S1[i * D + j] = S2[i * D + j] = 0;
                for (int k = 0; k < D; k++) {
                    S1[i * D + j] += RQ[i * D + k] * a[k] * RQ[j * D + k];
                    S2[i * D + j] += RQ[i * D + k] * b[k] * RQ[j * D + k];
                }
            }
        double mu[D] = {0, 0, 0}, want = 0, fd = -1;
        for (int k = 0; k < D; k++) want += a[k] + b[k] - 2 * sqrt(a[k] * b[k]);
        MUST(clgan_frechet_distance(D, mu, S1, mu, S2, &fd));
        CHECK(close_rel(fd, want, 1e-9), "commuting covariances: FID %.15g, closed form %.15g", fd, want);
    }

    /* 4. non-commuting 2x2 covariances: for a 2x2 matrix M with non-negative
     * eigenvalues, Tr sqrt(M) = sqrt(Tr M + 2 sqrt(det M)); here M = s1 s2 */
    {
        double S1[4] = {2, 1, 1, 3}, S2[4] = {1, -0.5, -0.5, 2}, mu1[2] = {0.5, -1}, mu2[2] = {-0.5, 1};
        double M[4] = {S1[0] * S2[0] + S1[1] * S2[2], S1[0] * S2[1] + S1[1] * S2[3], S1[2] * S2[0] + S1[3] * S2[2],
                       S1[2] * S2[1] + S1[3] * S2[3]};
        double tr_sqrt = sqrt(M[0] + M[3] + 2 * sqrt(M[0] * M[3] - M[1] * M[2]));
        double want = 1 + 4 + (S1[0] + S1[3]) + (S2[0] + S2[3]) - 2 * tr_sqrt, fd = -1;
        MUST(clgan_frechet_distance(2, mu1, S1, mu2, S2, &fd));
        CHECK(close_rel(fd, want, 1e-10), "non-commuting 2x2: FID %.15g, closed form %.15g", fd, want);
    }

    /* 5. through the sample statistics: sets whose sample mean and covariance
     * are exact (hadamard_set), so FID = ||mu1 - mu2||^2 + n/(n-1) sum (sd1 - sd2)^2 */
    {
        enum { N = 64, D = 12 };
        double mu1[D], mu2[D], sd1[D], sd2[D], want = 0;
        for (int j = 0; j < D; j++) {
            mu1[j] = 0.25 * j;
            mu2[j] = 1.0 - 0.5 * (j % 3);
            sd1[j] = 0.5 + 0.125 * j;
            sd2[j] = 2.0 - 0.125 * j;
            want += (mu1[j] - mu2[j]) * (mu1[j] - mu2[j]) + (double)N / (N - 1) * (sd1[j] - sd2[j]) * (sd1[j] - sd2[j]);
        }
        float *a = hadamard_set(N, D, mu1, sd1), *b = hadamard_set(N, D, mu2, sd2);
        double fd = -1, mean[D], cov[D * D];
        MUST(clgan_feature_stats(a, N, D, mean, cov));
        double worst = 0;
        for (int i = 0; i < D; i++) {
            worst = fmax(worst, fabs(mean[i] - mu1[i]));
            for (int j = 0; j < D; j++)
                worst = fmax(worst, fabs(cov[i * D + j] - (i == j ? sd1[i] * sd1[i] * N / (N - 1) : 0)));
        }
        CHECK(worst < 1e-6, "sample statistics of the Hadamard set are off by %g", worst);
        MUST(clgan_fid_features(a, N, b, N, D, &fd));
        CHECK(close_rel(fd, want, 1e-6), "Hadamard sets: FID %.15g, expected %.15g", fd, want);
        free(a);
        free(b);
    }

    /* 6. a shift t v adds exactly t^2 |v|^2, so FID grows monotonically */
    {
        enum { N = 300, D = 10 };
        float *x = malloc(N * D * sizeof *x), *y = malloc(N * D * sizeof *y);
        random_features(x, N, D, 3);
        double v[D], vv = 0, prev = -1;
        for (int j = 0; j < D; j++) {
            v[j] = 0.1 * (j + 1) * (j % 2 ? -1 : 1);
            vv += v[j] * v[j];
        }
        for (int step = 0; step <= 8; step++) {
            double t = 0.5 * step, fd = -1;
            for (int i = 0; i < N * D; i++) y[i] = x[i] + (float)(t * v[i % D]);
            MUST(clgan_fid_features(x, N, y, N, D, &fd));
            CHECK(fabs(fd - t * t * vv) <= 1e-4 * (1 + t * t * vv), "shift %g: FID %.10g, expected %.10g", t, fd, t * t * vv);
            CHECK(step == 0 || fd > prev, "FID did not grow from shift %g to %g (%g, %g)", t - 0.5, t, prev, fd);
            prev = fd;
        }
        free(x);
        free(y);
    }

    /* 7. refusals */
    {
        double mu[2] = {0, 0}, ok[4] = {1, 0, 0, 1}, neg[4] = {1, 0, 0, -1}, nan_[4] = {1, 0, 0, NAN}, fd = 0;
        CHECK(clgan_frechet_distance(2, mu, neg, mu, ok, &fd) == CLGAN_ERR_NUMERIC &&
                  strstr(clgan_last_error(), "positive semi-definite"),
              "a covariance with eigenvalue -1 was accepted (%s)", clgan_last_error());
        CHECK(clgan_frechet_distance(2, mu, ok, mu, nan_, &fd) == CLGAN_ERR_NUMERIC, "a NaN covariance was accepted");
        float rows[4] = {1, 2, NAN, 4};
        CHECK(clgan_fid_features(rows, 2, rows, 2, 2, &fd) == CLGAN_ERR_NUMERIC && strstr(clgan_last_error(), "row 1"),
              "a NaN feature was accepted or not located (%s)", clgan_last_error());
        CHECK(clgan_fid_features(rows, 1, rows, 1, 2, &fd) == CLGAN_ERR_INVALID_ARG, "one row was accepted");
    }
}

/* ---- inception score ---- */

static void test_inception(void) {
    enum { K = 10, N = 1000 };
    float *p = calloc(N * K, sizeof *p);
    double is = 0;
    /* confident and uniform over the classes: k */
    for (int i = 0; i < N; i++) p[i * K + i % K] = 1;
    MUST(clgan_inception_score(p, N, K, &is));
    CHECK(close_rel(is, K, 1e-12), "confident, uniform over %d classes: IS %.15g", K, is);
    /* three of ten classes, equally often: 3 */
    memset(p, 0, N * K * sizeof *p);
    for (int i = 0; i < 999; i++) p[i * K + 2 * (i % 3)] = 1;
    MUST(clgan_inception_score(p, 999, K, &is));
    CHECK(close_rel(is, 3, 1e-12), "confident, three classes: IS %.15g, expected 3", is);
    /* a single class: 1 */
    memset(p, 0, N * K * sizeof *p);
    for (int i = 0; i < N; i++) p[i * K + 4] = 1;
    MUST(clgan_inception_score(p, N, K, &is));
    CHECK(close_rel(is, 1, 1e-12), "a single class: IS %.15g, expected 1", is);
    /* no confidence at all (every row uniform): 1 */
    for (int i = 0; i < N * K; i++) p[i] = 1.0f / K;
    MUST(clgan_inception_score(p, N, K, &is));
    CHECK(close_rel(is, 1, 1e-6), "uniform rows: IS %.15g, expected 1", is);
    /* two classes, half the rows (0.9, 0.1), half (0.1, 0.9): p(y) = (0.5, 0.5)
     * and KL = 0.9 ln 1.8 + 0.1 ln 0.2 for every row */
    float q[8] = {0.9f, 0.1f, 0.1f, 0.9f, 0.9f, 0.1f, 0.1f, 0.9f};
    double want = exp(0.9 * log(0.9f / 0.5) + 0.1 * log(0.1f / 0.5));
    MUST(clgan_inception_score(q, 4, 2, &is));
    CHECK(close_rel(is, want, 1e-6), "two-class mixture: IS %.15g, closed form %.15g", is, want);
    /* refusals */
    float bad[4] = {0.5f, 0.6f, 1, 0};
    CHECK(clgan_inception_score(bad, 2, 2, &is) == CLGAN_ERR_INVALID_ARG && strstr(clgan_last_error(), "row 0"),
          "a row summing to 1.1 was accepted (%s)", clgan_last_error());
    float neg[4] = {1, 0, 1.5f, -0.5f};
    CHECK(clgan_inception_score(neg, 2, 2, &is) == CLGAN_ERR_NUMERIC, "a negative probability was accepted");
    /* softmax: known values, and no overflow for large logits */
    float l[6] = {0, 0, 0, 1000, 1000 + logf(3), 0}, s[6];
    clgan_softmax_rows(l, 2, 3, s);
    CHECK(fabsf(s[0] - 1.0f / 3) < 1e-7f && fabsf(s[2] - 1.0f / 3) < 1e-7f, "softmax of zeros: %g %g %g", s[0], s[1], s[2]);
    /* 1000 + ln 3 is rounded to a float near 1000: the expected value uses the rounded logit */
    double e = exp((double)l[4] - (double)l[3]), p3 = 1 / (1 + e);
    CHECK(fabs(s[3] - p3) < 1e-7 && fabs(s[4] - (1 - p3)) < 1e-7 && fabs(p3 - 0.25) < 1e-4 && s[5] == 0.0f,
          "softmax of (1000, 1000 + ln 3, 0): %g %g %g", s[3], s[4], s[5]);
    free(p);
}

/* ---- mode coverage ---- */

static void test_modes(void) {
    int count = 0;
    const float *c = NULL;
    float sigma = 0;
    MUST(clgan_synthetic_modes("ring8", &count, &c, &sigma));
    enum { N = 800 };
    float pts[2 * N];
    clgan_mode_stats ms;
    /* every mode equally: all covered, all high quality, reverse KL 0 */
    for (int i = 0; i < N; i++) {
        pts[2 * i] = c[2 * (i % count)];
        pts[2 * i + 1] = c[2 * (i % count) + 1];
    }
    MUST(clgan_mode_coverage("ring8", pts, N, &ms));
    CHECK(ms.modes_covered == 8 && ms.modes_total == 8, "all modes: %d / %d covered", ms.modes_covered, ms.modes_total);
    CHECK(ms.high_quality_fraction == 1.0 && fabs(ms.reverse_kl) < 1e-12, "all modes: hq %g, KL %g",
          ms.high_quality_fraction, ms.reverse_kl);
    /* one mode: one covered, KL = ln 8 */
    for (int i = 0; i < N; i++) {
        pts[2 * i] = c[6] + (i % 2 ? 1.5f : -1.5f) * sigma;
        pts[2 * i + 1] = c[7];
    }
    MUST(clgan_mode_coverage("ring8", pts, N, &ms));
    CHECK(ms.modes_covered == 1 && ms.counts[3] == N, "one mode: %d covered, %d at mode 3", ms.modes_covered, ms.counts[3]);
    CHECK(ms.high_quality_fraction == 1.0 && fabs(ms.reverse_kl - log(8.0)) < 1e-12, "one mode: hq %g, KL %g (ln 8 = %g)",
          ms.high_quality_fraction, ms.reverse_kl, log(8.0));
    /* off-mode samples (between two modes, and the centre): nothing covered */
    for (int i = 0; i < N; i++) {
        double a = 2 * acos(-1.0) * (i % 8 + 0.5) / 8;
        pts[2 * i] = i % 5 ? (float)cos(a) : 0;
        pts[2 * i + 1] = i % 5 ? (float)sin(a) : 0;
    }
    MUST(clgan_mode_coverage("ring8", pts, N, &ms));
    CHECK(ms.modes_covered == 0 && ms.high_quality_fraction == 0 && isinf(ms.reverse_kl),
          "off-mode samples: %d covered, hq %g, KL %g", ms.modes_covered, ms.high_quality_fraction, ms.reverse_kl);
    /* half on two modes, half off: 2 covered, hq 0.5, KL = ln 4 */
    for (int i = 0; i < N / 2; i++) {
        pts[2 * i] = c[2 * (i % 2)];
        pts[2 * i + 1] = c[2 * (i % 2) + 1];
    }
    MUST(clgan_mode_coverage("ring8", pts, N, &ms));
    CHECK(ms.modes_covered == 2 && fabs(ms.high_quality_fraction - 0.5) < 1e-12 && fabs(ms.reverse_kl - log(4.0)) < 1e-12,
          "half on two modes: %d covered, hq %g, KL %g", ms.modes_covered, ms.high_quality_fraction, ms.reverse_kl);
    /* the 3-sigma boundary: 2.9 sigma away counts, 3.1 sigma does not */
    float edge[4] = {c[0] + 2.9f * sigma, c[1], c[2] + 3.1f * sigma, c[3]};
    MUST(clgan_mode_coverage("ring8", edge, 2, &ms));
    CHECK(ms.counts[0] == 1 && ms.counts[1] == 0 && ms.modes_covered == 1, "3-sigma boundary: counts %d %d",
          ms.counts[0], ms.counts[1]);
    /* grid25: every mode, in a random order of the 25 */
    MUST(clgan_synthetic_modes("grid25", &count, &c, &sigma));
    CHECK(count == 25, "grid25 has %d modes", count);
    for (int i = 0; i < 500; i++) {
        int k = (i * 7) % 25;
        pts[2 * i] = c[2 * k] - 2 * sigma;
        pts[2 * i + 1] = c[2 * k + 1] + 2 * sigma;
    }
    MUST(clgan_mode_coverage("grid25", pts, 500, &ms));
    CHECK(ms.modes_covered == 25 && ms.modes_total == 25 && ms.high_quality_fraction == 1.0 && fabs(ms.reverse_kl) < 1e-12,
          "grid25, all modes: %d / %d, hq %g, KL %g", ms.modes_covered, ms.modes_total, ms.high_quality_fraction,
          ms.reverse_kl);
    CHECK(clgan_mode_coverage("ring9", pts, 10, &ms) != CLGAN_OK, "an unknown mixture was accepted");
}

/* ---- kernel inception distance ---- */

/* k(x, y) = (x.y / dim + 1)^3, plainly */
static double cubic_kernel(const float *x, const float *y, int dim) {
    double g = 0;
    for (int j = 0; j < dim; j++) g += (double)x[j] * y[j];
    double t = g / dim + 1;
    return t * t * t;
}

/* The unbiased MMD^2 estimate (Gretton et al. 2012, eq. 3) of all of x (m
 * rows) against all of y (n rows), by plain loops: what clgan_kid's subsets
 * estimate, and its value when a subset is a whole set. */
static double naive_mmd2(const float *x, int m, const float *y, int n, int dim) {
    double sxx = 0, syy = 0, sxy = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < m; j++)
            if (i != j) sxx += cubic_kernel(x + (size_t)i * dim, x + (size_t)j * dim, dim);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (i != j) syy += cubic_kernel(y + (size_t)i * dim, y + (size_t)j * dim, dim);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) sxy += cubic_kernel(x + (size_t)i * dim, y + (size_t)j * dim, dim);
    return sxx / ((double)m * (m - 1)) + syy / ((double)n * (n - 1)) - 2 * sxy / ((double)m * n);
}

/* |got - want| within rel of |want|, or of `scale` when want is near 0 */
static bool close_to(double got, double want, double rel, double scale) {
    return fabs(got - want) <= rel * fmax(fabs(want), scale);
}

/* The fixture of tools/kid_pr_reference.py (NumPy, float64). */
static clgan_st_file *metrics_fixture(void) {
    char path[1024];
    const char *src = getenv("CLGAN_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/tests/golden-metrics/kid_pr.safetensors", src ? src : ".");
    clgan_st_file *f = NULL;
    MUST(clgan_st_read(path, &f));
    return f;
}

static const void *fixture_get(clgan_st_file *f, const char *name, clgan_dtype dt, int ndim, int64_t d0, int64_t d1) {
    const void *p = NULL;
    int64_t shape[2] = {d0, d1};
    MUST(clgan_st_get(f, name, dt, ndim, shape, &p));
    return p;
}

enum { FIX_NA = 300, FIX_NB = 250, FIX_DIM = 64, FIX_SUBSETS = 10, FIX_M = 100 };

/* clgan_kid's draw as clgan/eval.h documents it, redone with the public RNG */
static void documented_draw(uint64_t seed, int subsets, int m, int na, int nb, int32_t *ia, int32_t *ib) {
    int32_t *p = malloc((size_t)(na > nb ? na : nb) * sizeof *p);
    clgan_rng r;
    clgan_rng_init(&r, seed);
    for (int s = 0; s < subsets; s++)
        for (int set = 0; set < 2; set++) {
            int n = set ? nb : na;
            for (int i = 0; i < n; i++) p[i] = i;
            for (int i = 0; i < m; i++) {
                int j = i + (int)clgan_rng_below(&r, (uint32_t)(n - i));
                int32_t t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            memcpy((set ? ib : ia) + (size_t)s * m, p, (size_t)m * sizeof *p);
        }
    free(p);
}

static void test_kid(void) {
    double mean = NAN, sd = NAN;
    /* 1. identical sets, every subset the whole set (a permutation of it):
     * the unbiased estimator gives -(2 / m) (mean diagonal - mean
     * off-diagonal kernel value), <= 0, the same for every subset. For the
     * m = 4 rows 2 e_i in 4 dimensions the kernel is 8 on the diagonal
     * ((4 / 4 + 1)^3) and 1 off it: -(2 / 4) (8 - 1) = -3.5, exactly. */
    {
        float e[16] = {0};
        for (int i = 0; i < 4; i++) e[i * 4 + i] = 2;
        MUST(clgan_kid(e, 4, e, 4, 4, 5, 4, 1, &mean, &sd));
        EXPECT(mean == -3.5 && sd == 0, "KID of 2 e_i (4 rows, 4-d) with itself: %.17g (std %g), expected -3.5 exactly",
               mean, sd);
    }
    {
        enum { N = 64, D = 16 };
        float *x = malloc(N * D * sizeof *x);
        random_features(x, N, D, 11);
        double diag = 0, off = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                double k = cubic_kernel(x + i * D, x + j * D, D);
                if (i == j)
                    diag += k;
                else
                    off += k;
            }
        double want = -(2.0 / N) * (diag / N - off / ((double)N * (N - 1))), scale = diag / N;
        MUST(clgan_kid(x, N, x, N, D, 3, N, 2, &mean, &sd));
        EXPECT(want < 0 && close_to(mean, want, 1e-12, scale) && sd <= 1e-12 * scale,
               "KID of a random set with itself, whole-set subsets: %.15g (std %.3g), closed form %.15g", mean, sd,
               want);
        /* random subsets of 16 of the 64 rows, drawn independently for the two
         * sides: their mean estimates the same (negative, O(1/m)) value */
        MUST(clgan_kid(x, N, x, N, D, 400, 16, 3, &mean, &sd));
        EXPECT(fabs(mean - want) <= 5 * sd / sqrt(400.0),
               "KID of a set with itself over 400 subsets of 16: %.6g +- %.3g, "
               "whole-set value %.6g",
               mean, sd / sqrt(400.0), want);
        free(x);
    }

    /* 2. disjoint clusters: m copies of u = (2, 2, 2, 2) against m copies of
     * v = -u: k(u, u) + k(v, v) - 2 k(u, v) = 125 + 125 + 2 * 27 = 304 */
    {
        enum { N = 20, D = 4 };
        float u[N * D], v[N * D];
        for (int i = 0; i < N * D; i++) u[i] = 2, v[i] = -2;
        MUST(clgan_kid(u, N, v, N, D, 10, 8, 4, &mean, &sd));
        EXPECT(mean == 304 && sd == 0, "KID of two point clusters: %.17g (std %g), expected 304", mean, sd);
        /* jittered: close to that, and as the plain loops give it */
        float z[2 * N * D];
        clgan_rng_normal(5, 0, z, 2 * N * D);
        for (int i = 0; i < N * D; i++) u[i] += 0.1f * z[i], v[i] += 0.1f * z[N * D + i];
        double want = naive_mmd2(u, N, v, N, D);
        MUST(clgan_kid(u, N, v, N, D, 1, N, 4, &mean, &sd));
        EXPECT(close_to(mean, want, 1e-12, 1) && fabs(mean - 304) < 30,
               "KID of two jittered clusters: %.15g, plain loops %.15g (near 304)", mean, want);
    }

    /* 3. a set against a shifted copy: the plain loops' value, growing with the shift */
    {
        enum { N = 100, D = 8 };
        float *x = malloc(N * D * sizeof *x), *y = malloc(N * D * sizeof *y);
        random_features(x, N, D, 12);
        double prev = -INFINITY, worst = 0;
        bool grows = true, match = true;
        for (int step = 0; step <= 6; step++) {
            double t = 0.25 * step;
            for (int i = 0; i < N * D; i++) y[i] = x[i] + (float)(t * (i % D % 2 ? -1.0 : 0.5));
            double want = naive_mmd2(x, N, y, N, D);
            MUST(clgan_kid(x, N, y, N, D, 1, N, 9, &mean, NULL));
            double e = fabs(mean - want) / fmax(fabs(want), 1);
            worst = fmax(worst, e);
            match = match && e <= 1e-12;
            grows = grows && mean > prev;
            prev = mean;
        }
        EXPECT(match && grows,
               "KID against a copy shifted by t = 0 .. 1.5: plain loops' value (worst relative error "
               "%.3g) and growing with t (%d); at t = 1.5 %.6g",
               worst, grows, prev);
        free(x);
        free(y);
    }

    /* 4. subsets larger than a block of rows (512): whole sets of 700 rows
     * against the plain loops */
    {
        enum { N = 700, D = 6 };
        float *x = malloc(N * D * sizeof *x), *y = malloc(N * D * sizeof *y);
        random_features(x, N, D, 13);
        random_features(y, N, D, 14);
        for (int i = 0; i < N * D; i++) y[i] = 1.1f * y[i] - 0.2f;
        double want = naive_mmd2(x, N, y, N, D);
        MUST(clgan_kid(x, N, y, N, D, 1, N, 1, &mean, NULL));
        EXPECT(close_to(mean, want, 1e-10, 1), "KID of whole sets of %d rows (two blocks): %.12g, plain loops %.12g", N,
               mean, want);
        free(x);
        free(y);
    }

    /* 5. against NumPy (tools/kid_pr_reference.py) */
    {
        clgan_st_file *f = metrics_fixture();
        const float *a = fixture_get(f, "a", CLGAN_DT_F32, 2, FIX_NA, FIX_DIM);
        const float *b = fixture_get(f, "b", CLGAN_DT_F32, 2, FIX_NB, FIX_DIM);
        const int32_t *ia = fixture_get(f, "kid_ia", CLGAN_DT_I32, 2, FIX_SUBSETS, FIX_M);
        const int32_t *ib = fixture_get(f, "kid_ib", CLGAN_DT_I32, 2, FIX_SUBSETS, FIX_M);
        const double *want = fixture_get(f, "kid_values", CLGAN_DT_F64, 1, FIX_SUBSETS, 0);
        const double *want_ms = fixture_get(f, "kid_mean_std", CLGAN_DT_F64, 1, 2, 0);
        const double *whole = fixture_get(f, "kid_whole_equal", CLGAN_DT_F64, 1, 1, 0);
        const double *full = fixture_get(f, "kid_full_unequal", CLGAN_DT_F64, 1, 1, 0);
        double got[FIX_SUBSETS], worst = 0;
        MUST(clgan_kid_subsets(a, FIX_NA, b, FIX_NB, FIX_DIM, FIX_SUBSETS, FIX_M, ia, ib, got, &mean, &sd));
        for (int s = 0; s < FIX_SUBSETS; s++) worst = fmax(worst, fabs(got[s] - want[s]) / fabs(want[s]));
        double e_mean = fabs(mean - want_ms[0]) / fabs(want_ms[0]), e_sd = fabs(sd - want_ms[1]) / want_ms[1];
        EXPECT(worst <= 1e-9 && e_mean <= 1e-9 && e_sd <= 1e-9,
               "KID of NumPy's %d subsets of %d: worst relative error %.3g per subset, mean %.12g (NumPy %.12g, %.3g), "
               "std %.6g (%.3g)",
               FIX_SUBSETS, FIX_M, worst, mean, want_ms[0], e_mean, sd, e_sd);
        /* whole sets of equal size: no randomness at all */
        MUST(clgan_kid(a, FIX_NB, b, FIX_NB, FIX_DIM, 2, FIX_NB, 3, &mean, &sd));
        double e = fabs(mean - whole[0]) / fabs(whole[0]);
        EXPECT(e <= 1e-9 && sd <= 1e-12,
               "KID of a[:250] and b whole: %.12g, NumPy %.12g (relative error %.3g), std %.3g", mean, whole[0], e, sd);
        /* random subsets (clgan's Philox draw): their mean within 4 standard
         * errors of what it estimates, the full-sample estimate */
        double mean7 = 0, sd7 = 0;
        MUST(clgan_kid(a, FIX_NA, b, FIX_NB, FIX_DIM, 100, 100, 7, &mean7, &sd7));
        EXPECT(fabs(mean7 - full[0]) <= 4 * sd7 / 10,
               "KID over 100 random subsets of 100: %.6g +- %.3g, NumPy's "
               "full-sample estimate %.6g",
               mean7, sd7 / 10, full[0]);
        /* the draw is the documented one: its indices through clgan_kid_subsets give the same bits */
        int32_t *da = malloc(100 * 100 * sizeof *da), *db = malloc(100 * 100 * sizeof *db);
        documented_draw(7, 100, 100, FIX_NA, FIX_NB, da, db);
        MUST(clgan_kid_subsets(a, FIX_NA, b, FIX_NB, FIX_DIM, 100, 100, da, db, NULL, &mean, &sd));
        EXPECT(mean == mean7 && sd == sd7, "clgan_kid(seed 7) is the documented draw: %.17g / %.17g", mean7, mean);
        MUST(clgan_kid(a, FIX_NA, b, FIX_NB, FIX_DIM, 100, 100, 7, &mean, &sd));
        double mean8 = 0;
        MUST(clgan_kid(a, FIX_NA, b, FIX_NB, FIX_DIM, 100, 100, 8, &mean8, NULL));
        EXPECT(mean == mean7 && sd == sd7 && mean8 != mean7,
               "KID is reproducible from its seed (%.12g) and another seed "
               "draws other subsets (%.12g)",
               mean, mean8);
        /* the defaults: 100 subsets of min(1000, 300, 250) = 250 */
        MUST(clgan_kid(a, FIX_NA, b, FIX_NB, FIX_DIM, 0, 0, 7, &mean, &sd));
        MUST(clgan_kid(a, FIX_NA, b, FIX_NB, FIX_DIM, 100, 250, 7, &mean8, NULL));
        EXPECT(mean == mean8, "KID's defaults are 100 subsets of min(1000, na, nb): %.12g, %.12g", mean, mean8);
        /* refusals */
        int32_t bad[2 * FIX_M];
        memcpy(bad, ia, sizeof bad);
        bad[FIX_M + 5] = bad[FIX_M + 6];
        CHECK(clgan_kid_subsets(a, FIX_NA, b, FIX_NB, FIX_DIM, 2, FIX_M, bad, ib, NULL, &mean, &sd) ==
                      CLGAN_ERR_INVALID_ARG &&
                  strstr(clgan_last_error(), "subset 1") && strstr(clgan_last_error(), "twice"),
              "a subset with a repeated row was accepted (%s)", clgan_last_error());
        bad[FIX_M + 5] = FIX_NA;
        CHECK(clgan_kid_subsets(a, FIX_NA, b, FIX_NB, FIX_DIM, 2, FIX_M, bad, ib, NULL, &mean, &sd) ==
                  CLGAN_ERR_INVALID_ARG,
              "an index past the set was accepted (%s)", clgan_last_error());
        free(da);
        free(db);
        clgan_st_close(f);
    }
    {
        float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, y[12];
        memcpy(y, x, sizeof y);
        CHECK(clgan_kid(x, 6, y, 6, 2, 10, 1, 0, &mean, &sd) == CLGAN_ERR_INVALID_ARG &&
                  strstr(clgan_last_error(), ">= 2"),
              "subsets of 1 row were accepted (%s)", clgan_last_error());
        CHECK(clgan_kid(x, 1, y, 6, 2, 10, 5, 0, &mean, &sd) == CLGAN_ERR_INVALID_ARG &&
                  strstr(clgan_last_error(), ">= 2"),
              "a set of 1 row was accepted (%s)", clgan_last_error());
        CHECK(clgan_kid(x, 6, y, 6, 2, -1, 5, 0, &mean, &sd) == CLGAN_ERR_INVALID_ARG, "-1 subsets accepted");
        y[7] = NAN;
        CHECK(clgan_kid(x, 6, y, 6, 2, 10, 5, 0, &mean, &sd) == CLGAN_ERR_NUMERIC &&
                  strstr(clgan_last_error(), "second feature set") && strstr(clgan_last_error(), "row 3"),
              "a NaN feature was accepted or not located (%s)", clgan_last_error());
        x[0] = INFINITY;
        CHECK(clgan_kid(x, 6, x, 6, 2, 10, 5, 0, &mean, &sd) == CLGAN_ERR_NUMERIC &&
                  strstr(clgan_last_error(), "first feature set") && strstr(clgan_last_error(), "row 0"),
              "an infinite feature was accepted or not located (%s)", clgan_last_error());
    }
}

/* ---- k-NN precision and recall ---- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* |x_i - y_j|, summing the squared differences */
static double plain_distance(const float *x, const float *y, int dim) {
    double s = 0;
    for (int j = 0; j < dim; j++) s += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
    return sqrt(s);
}

/* The worst relative difference of radii from the k-th smallest distance to
 * the other rows, sorted plainly. */
static double naive_radii_check(const float *x, int n, int dim, int k, const double *radius) {
    double *d = malloc((size_t)n * sizeof *d), worst = 0;
    for (int i = 0; i < n; i++) {
        int c = 0;
        for (int j = 0; j < n; j++)
            if (j != i) d[c++] = plain_distance(x + (size_t)i * dim, x + (size_t)j * dim, dim);
        qsort(d, (size_t)c, sizeof *d, cmp_double);
        worst = fmax(worst, fabs(radius[i] - d[k - 1]) / fmax(d[k - 1], 1e-300));
    }
    free(d);
    return worst;
}

/* How many of the probes' decisions (inside some ball of the manifold's
 * points, with the given radii) differ from flags. */
static int naive_inside_check(const float *probe, int np, const float *manifold, int nm, int dim, const double *radius,
                              const uint8_t *flags) {
    int wrong = 0;
    for (int i = 0; i < np; i++) {
        bool in = false;
        for (int j = 0; j < nm && !in; j++)
            in = plain_distance(probe + (size_t)i * dim, manifold + (size_t)j * dim, dim) <= radius[j];
        wrong += in != (flags[i] != 0);
    }
    return wrong;
}

static void test_pr(void) {
    double p = NAN, r = NAN;
    /* 1. a set against itself: every point lies in its own ball (distance 0) */
    {
        enum { N = 100, D = 16 };
        float *x = malloc(N * D * sizeof *x);
        random_features(x, N, D, 21);
        MUST(clgan_precision_recall(x, N, x, N, D, 3, &p, &r));
        EXPECT(p == 1 && r == 1, "precision/recall of a set against itself: %g, %g", p, r);
        free(x);
    }
    /* 2. duplicates: a point's duplicates are its neighbours, so ten copies
     * of one point have balls of radius 0, which hold the point itself
     * (<=), and nothing else */
    {
        enum { N = 10, D = 4 };
        float u[N * D], v[N * D];
        for (int i = 0; i < N * D; i++) u[i] = 1.5f, v[i] = i % D == 2 ? 1.5f + 0x1p-20f : 1.5f;
        double rad[N];
        MUST(clgan_precision_recall_points(u, N, u, N, D, 3, rad, NULL, NULL, NULL, &p, &r));
        EXPECT(p == 1 && r == 1 && rad[0] == 0 && rad[N - 1] == 0,
               "ten copies of a point against themselves: %g, %g, radius %g", p, r, rad[0]);
        MUST(clgan_precision_recall(u, N, v, N, D, 3, &p, &r));
        EXPECT(p == 0 && r == 0, "ten copies of a point against ten of one 2^-20 away: %g, %g", p, r);
    }
    /* 3. the line 0, 1, ..., 9 (on the first of 3 axes), where every
     * distance is exact. k = 1: every radius is 1, the distance to the
     * nearest other point (with the point itself counted, it would be 0);
     * k = 3: 3 at the ends, 2 inside. Generated points exactly at a radius
     * count: 10 (1 from 9) with k = 1; -3 (3 from 0) and 12 (3 from 9) with
     * k = 3. */
    {
        enum { NR = 10, NG = 5, D = 3 };
        float real[NR * D] = {0}, gen[NG * D] = {0};
        for (int i = 0; i < NR; i++) real[i * D] = (float)i;
        const float g1[NG] = {10, -1, 10.5f, 4.5f, -1.25f}, g3[NG] = {-3, 12, 12.5f, -3.25f, 4.5f};
        const uint8_t want1[NG] = {1, 1, 0, 1, 0}, want3[NG] = {1, 1, 0, 0, 1};
        for (int k = 1; k <= 3; k += 2) {
            for (int i = 0; i < NG; i++) gen[i * D] = k == 1 ? g1[i] : g3[i];
            double rad[NR];
            uint8_t in[NG], back[NG];
            MUST(clgan_precision_recall_points(real, NR, gen, NG, D, k, rad, NULL, in, NULL, &p, &r));
            bool radii_ok = true, in_ok = true;
            for (int i = 0; i < NR; i++) radii_ok = radii_ok && rad[i] == (k == 1 ? 1 : i == 0 || i == NR - 1 ? 3 : 2);
            for (int i = 0; i < NG; i++) in_ok = in_ok && in[i] == (k == 1 ? want1 : want3)[i];
            EXPECT(radii_ok && in_ok && p == 3.0 / NG,
                   "the line 0..9, k = %d: radii %g %g .. %g, generated points inside %d %d %d %d %d, precision %g", k,
                   rad[0], rad[1], rad[NR - 1], in[0], in[1], in[2], in[3], in[4], p);
            /* recall is precision with the roles swapped, ties included */
            MUST(clgan_precision_recall_points(gen, NG, real, NR, D, k, NULL, NULL, NULL, back, &p, &r));
            EXPECT(memcmp(in, back, NG) == 0 && r == 3.0 / NG, "the line, k = %d, roles swapped: recall %g", k, r);
        }
    }
    /* 4. disjoint clusters: nothing of one lies in the other's balls */
    {
        enum { N = 60, D = 8 };
        float x[N * D], y[N * D];
        clgan_rng_normal(22, 0, x, N * D);
        clgan_rng_normal(22, 1, y, N * D);
        for (int i = 0; i < N * D; i++) y[i] += 20;
        MUST(clgan_precision_recall(x, N, y, N, D, 3, &p, &r));
        EXPECT(p == 0 && r == 0, "two clusters 20 sigma apart per axis: %g, %g", p, r);
    }
    /* 5. a set against a shifted copy: a shift far below the nearest
     * neighbour distances keeps every point in its twin's ball; a shift far
     * above them leaves none in any */
    {
        enum { N = 100, D = 16 };
        float *x = malloc(N * D * sizeof *x), *y = malloc(N * D * sizeof *y);
        random_features(x, N, D, 23);
        double rad[N], smallest = INFINITY;
        MUST(clgan_precision_recall_points(x, N, x, N, D, 1, rad, NULL, NULL, NULL, &p, &r));
        for (int i = 0; i < N; i++) smallest = fmin(smallest, rad[i]);
        const double shifts[3] = {1e-3, 1, 1e3};
        double pr[3][2];
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < N * D; i++) y[i] = x[i] + (float)(shifts[t] * smallest / sqrt((double)D));
            MUST(clgan_precision_recall(x, N, y, N, D, 3, &pr[t][0], &pr[t][1]));
        }
        EXPECT(
            pr[0][0] == 1 && pr[0][1] == 1 && pr[2][0] == 0 && pr[2][1] == 0 && pr[1][0] > 0.5 && pr[1][1] > 0.5,
            "a shifted copy (the smallest 1-NN distance %.3g times 1e-3, 1, 1e3): precision %g %g %g, recall %g %g %g",
            smallest, pr[0][0], pr[1][0], pr[2][0], pr[0][1], pr[1][1], pr[2][1]);
        free(x);
        free(y);
    }
    /* 6. half the modes: 8 tight modes 10 apart. With the generated points
     * the real ones of modes 0-3, precision is 1 and recall exactly 1/2.
     * With fresh samples, 100 per mode (k = 3 in 8-D: even all 8 modes give
     * precision and recall near 0.9, not 1, as the paper notes of the
     * estimator), only those of modes 0-3: recall is at most 1/2 (the other
     * modes are never reached) and about half that of all 8 modes' samples,
     * precision about the same; exactly, the balls of modes 0-3 are the
     * same in both generated sets (the other modes lie far outside every
     * k-NN radius), so the half set recalls exactly the real points of
     * modes 0-3 that the whole one does, and its points are precise exactly
     * when they are in the whole one. */
    {
        enum { MODES = 8, PER = 100, D = 8, NR = MODES * PER, NG = MODES * PER, NH = NG / 2 };
        float *real = malloc(NR * D * sizeof *real), *gen = malloc(NG * D * sizeof *gen);
        clgan_rng_normal(24, 0, real, NR * D);
        clgan_rng_normal(24, 1, gen, NG * D);
        for (int i = 0; i < NR * D; i++) {
            real[i] = 0.3f * real[i] + (i % D == i / D / PER ? 10.0f : 0.0f);
            gen[i] = 0.3f * gen[i] + (i % D == i / D / PER ? 10.0f : 0.0f);
        }
        MUST(clgan_precision_recall(real, NR, real, NH, D, 3, &p, &r));
        EXPECT(p == 1 && r == 0.5, "generated = the real points of 4 of 8 modes: precision %g, recall %g", p, r);
        double pf, rf;
        uint8_t *gin = malloc(NG), *rin = malloc(NR), *gin_h = malloc(NH), *rin_h = malloc(NR);
        MUST(clgan_precision_recall_points(real, NR, gen, NG, D, 3, NULL, NULL, gin, rin, &pf, &rf));
        MUST(clgan_precision_recall_points(real, NR, gen, NH, D, 3, NULL, NULL, gin_h, rin_h, &p, &r));
        bool same = memcmp(gin, gin_h, NH) == 0 && memcmp(rin, rin_h, NR / 2) == 0;
        for (int i = NR / 2; i < NR; i++) same = same && rin_h[i] == 0;
        EXPECT(same && r <= 0.5 && r >= 0.4 && fabs(r - rf / 2) <= 0.05 && p >= 0.85 && fabs(p - pf) <= 0.05,
               "fresh samples of 4 of 8 modes: precision %g, recall %g; of all 8: %g, %g; the half set's decisions "
               "are the whole one's on modes 0-3 and no real point of modes 4-7 is recalled (%d)",
               p, r, pf, rf, same);
        free(gin);
        free(rin);
        free(gin_h);
        free(rin_h);
        free(real);
        free(gen);
    }
    /* 7. sets larger than a block (512 rows of distances, 1024-row panels of
     * the other set): every radius and decision against plain loops */
    {
        enum { NR = 1300, NG = 1100, D = 5, K = 4 };
        float *real = malloc(NR * D * sizeof *real), *gen = malloc(NG * D * sizeof *gen);
        clgan_rng_normal(25, 0, real, NR * D);
        clgan_rng_normal(25, 1, gen, NG * D);
        for (int i = 0; i < NG * D; i++) gen[i] = 1.2f * gen[i] + 0.1f;
        double *rr = malloc(NR * sizeof *rr), *gr = malloc(NG * sizeof *gr);
        uint8_t *gin = malloc(NG), *rin = malloc(NR);
        MUST(clgan_precision_recall_points(real, NR, gen, NG, D, K, rr, gr, gin, rin, &p, &r));
        double worst = naive_radii_check(real, NR, D, K, rr);
        worst = fmax(worst, naive_radii_check(gen, NG, D, K, gr));
        int wrong =
            naive_inside_check(gen, NG, real, NR, D, rr, gin) + naive_inside_check(real, NR, gen, NG, D, gr, rin);
        EXPECT(worst <= 1e-12 && wrong == 0,
               "%d real and %d generated rows, k = %d: radii within %.3g relative of plain "
               "loops, %d decisions differ (precision %g, recall %g)",
               NR, NG, K, worst, wrong, p, r);
        free(real);
        free(gen);
        free(rr);
        free(gr);
        free(gin);
        free(rin);
    }
    /* 8. against NumPy (tools/kid_pr_reference.py): radii, every point's
     * decision and the counts for k = 1, 3, 5 */
    {
        clgan_st_file *f = metrics_fixture();
        const float *a = fixture_get(f, "a", CLGAN_DT_F32, 2, FIX_NA, FIX_DIM);
        const float *b = fixture_get(f, "b", CLGAN_DT_F32, 2, FIX_NB, FIX_DIM);
        const double *want_rr = fixture_get(f, "pr_real_radius", CLGAN_DT_F64, 1, FIX_NA, 0);
        const double *want_gr = fixture_get(f, "pr_gen_radius", CLGAN_DT_F64, 1, FIX_NB, 0);
        const uint8_t *want_gin = fixture_get(f, "pr_gen_in_real", CLGAN_DT_U8, 1, FIX_NB, 0);
        const uint8_t *want_rin = fixture_get(f, "pr_real_in_gen", CLGAN_DT_U8, 1, FIX_NA, 0);
        const int32_t *counts = fixture_get(f, "pr_k_counts", CLGAN_DT_I32, 2, 3, 3);
        double rr[FIX_NA], gr[FIX_NB], worst = 0;
        uint8_t gin[FIX_NB], rin[FIX_NA];
        MUST(clgan_precision_recall_points(a, FIX_NA, b, FIX_NB, FIX_DIM, 3, rr, gr, gin, rin, &p, &r));
        int wrong = 0;
        for (int i = 0; i < FIX_NA; i++)
            worst = fmax(worst, fabs(rr[i] - want_rr[i]) / want_rr[i]), wrong += rin[i] != want_rin[i];
        for (int i = 0; i < FIX_NB; i++)
            worst = fmax(worst, fabs(gr[i] - want_gr[i]) / want_gr[i]), wrong += gin[i] != want_gin[i];
        EXPECT(worst <= 1e-12 && wrong == 0, "NumPy's k = 3 balls: radii within %.3g relative, %d decisions differ",
               worst, wrong);
        for (int c = 0; c < 3; c++) {
            int k = counts[3 * c];
            MUST(clgan_precision_recall(a, FIX_NA, b, FIX_NB, FIX_DIM, k, &p, &r));
            EXPECT(p == (double)counts[3 * c + 1] / FIX_NB && r == (double)counts[3 * c + 2] / FIX_NA,
                   "NumPy's precision/recall with k = %d: %g = %d / %d (NumPy %d), %g = %d / %d (NumPy %d)", k, p,
                   (int)lround(p * FIX_NB), FIX_NB, counts[3 * c + 1], r, (int)lround(r * FIX_NA), FIX_NA,
                   counts[3 * c + 2]);
        }
        /* precision of (a, b) is recall of (b, a) */
        double p2, r2;
        MUST(clgan_precision_recall(b, FIX_NB, a, FIX_NA, FIX_DIM, 3, &p2, &r2));
        MUST(clgan_precision_recall(a, FIX_NA, b, FIX_NB, FIX_DIM, 3, &p, &r));
        EXPECT(p == r2 && r == p2, "roles swapped: precision %g = recall %g, recall %g = precision %g", p, r2, r, p2);
        clgan_st_close(f);
    }
    /* 9. refusals */
    {
        float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, y[12];
        memcpy(y, x, sizeof y);
        CHECK(clgan_precision_recall(x, 3, y, 6, 2, 3, &p, &r) == CLGAN_ERR_INVALID_ARG &&
                  strstr(clgan_last_error(), "more than k"),
              "3 real rows with k = 3 were accepted (%s)", clgan_last_error());
        CHECK(clgan_precision_recall(x, 6, y, 6, 2, 0, &p, &r) == CLGAN_ERR_INVALID_ARG, "k = 0 accepted");
        y[5] = NAN;
        CHECK(clgan_precision_recall(x, 6, y, 6, 2, 3, &p, &r) == CLGAN_ERR_NUMERIC &&
                  strstr(clgan_last_error(), "generated") && strstr(clgan_last_error(), "row 2"),
              "a NaN generated feature was accepted or not located (%s)", clgan_last_error());
        x[11] = -INFINITY;
        CHECK(clgan_precision_recall(x, 6, x, 6, 2, 3, &p, &r) == CLGAN_ERR_NUMERIC &&
                  strstr(clgan_last_error(), "real") && strstr(clgan_last_error(), "row 5"),
              "an infinite real feature was accepted or not located (%s)", clgan_last_error());
    }
}

/* ---- the classifier ---- */

/* 8x8 images: class 0 has its left half bright, class 1 its right half, plus noise */
static void two_class_batch(float *x, int32_t *y, int n, uint64_t seed) {
    float noise[64];
    for (int i = 0; i < n; i++) {
        y[i] = i % 2;
        clgan_rng_normal(seed, (uint64_t)i, noise, 64);
        for (int p = 0; p < 64; p++) x[i * 64 + p] = ((p % 8 < 4) == (y[i] == 0) ? 0.5f : -0.5f) + 0.3f * noise[p];
    }
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fail_msg("cannot write %s", path);
    }
    fclose(f);
}

static void test_classifier(void) {
    clgan_device *d = test_open_device(false);
    enum { B = 16, E = 40 };
    clgan_clf_config cfg = {.model = {.channels = 1, .image_size = 8, .classes = 2},
                            .batch = B,
                            .eval_batch = 24, /* not a divisor of E: the last run is padded */
                            .seed = 5,
                            .opt = {.kind = CLGAN_OPT_ADAM, .lr = 3e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f}};
    clgan_clf *c = NULL;
    MUST(clgan_clf_new(&cfg, d, &c));
    float x[B * 64], tx[E * 64];
    int32_t y[B], ty[E];
    float first = 0, loss = 0;
    for (int s = 0; s < 30; s++) {
        int right;
        two_class_batch(x, y, B, 100 + (uint64_t)s);
        MUST(clgan_clf_train_step(c, x, y, 1.0f, &loss, &right));
        if (s == 0) first = loss;
    }
    two_class_batch(tx, ty, E, 999);
    double acc = 0;
    MUST(clgan_clf_accuracy(c, tx, ty, E, &acc));
    CHECK(acc == 1.0 && loss < 0.5f * first, "two-class problem: held-out accuracy %g, loss %g -> %g", acc, first, loss);
    int32_t bad_label[B] = {0};
    bad_label[3] = 2;
    CHECK(clgan_clf_train_step(c, x, bad_label, 1, &loss, &(int){0}) == CLGAN_ERR_INVALID_ARG, "label 2 of 2 classes accepted");

    /* predictions on a padded last run equal those of a full run */
    float feat[E * CLGAN_CLASSIFIER_FEATURES], logits[E * 2], one[CLGAN_CLASSIFIER_FEATURES], one_logits[2];
    MUST(clgan_clf_predict(c, tx, E, feat, logits));
    MUST(clgan_clf_predict(c, tx + 30 * 64, 1, one, one_logits));
    CHECK(memcmp(one, feat + 30 * CLGAN_CLASSIFIER_FEATURES, sizeof one) == 0 && memcmp(one_logits, logits + 60, sizeof one_logits) == 0,
          "image 30 alone and within a batch give different outputs");

    /* save, read the metadata, load, predict the same */
    char dir[256], path[512], bad[512];
    test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.safetensors", dir);
    clgan_clf_info info = {.dataset = "toy-halves", .test_accuracy = acc, .train_images = 30 * B, .epochs = 1};
    snprintf(info.test_set, sizeof info.test_set, "40 generated images");
    MUST(clgan_clf_save(c, &info, path));
    clgan_clf_info back;
    MUST(clgan_clf_read_info(path, &back));
    CHECK(strcmp(back.dataset, "toy-halves") == 0 && back.image_size == 8 && back.channels == 1 && back.classes == 2 &&
              back.features == CLGAN_CLASSIFIER_FEATURES && back.test_accuracy == acc && back.train_images == 30 * B &&
              strcmp(back.test_set, "40 generated images") == 0,
          "metadata read back wrong: %s %dx%d c%d k%d acc %g", back.dataset, back.image_size, back.image_size,
          back.channels, back.classes, back.test_accuracy);
    clgan_clf *l = NULL;
    MUST(clgan_clf_load(path, d, 7, &l, NULL));
    float feat2[E * CLGAN_CLASSIFIER_FEATURES], logits2[E * 2];
    MUST(clgan_clf_predict(l, tx, E, feat2, logits2));
    CHECK(memcmp(feat, feat2, sizeof feat) == 0 && memcmp(logits, logits2, sizeof logits) == 0,
          "the loaded classifier predicts differently");
    clgan_clf_free(l);
    CHECK(clgan_clf_train_step(c, x, y, 1, &loss, &(int){0}) == CLGAN_OK, "training after saving failed");

    /* refusals, each naming the file */
    uint8_t *bytes = NULL;
    size_t n = 0;
    MUST(clgan_read_file(path, 1 << 24, &bytes, &n));
    snprintf(bad, sizeof bad, "%s/truncated.safetensors", dir);
    write_bytes(bad, bytes, n - 100);
    CHECK(clgan_clf_load(bad, d, 8, &l, NULL) == CLGAN_ERR_FORMAT && strstr(clgan_last_error(), bad),
          "a truncated classifier: %s", clgan_last_error());
    snprintf(bad, sizeof bad, "%s/garbage.safetensors", dir);
    write_bytes(bad, "this is not a safetensors file", 30);
    CHECK(clgan_clf_read_info(bad, &back) == CLGAN_ERR_FORMAT && strstr(clgan_last_error(), bad),
          "a garbage classifier: %s", clgan_last_error());
    CHECK(clgan_clf_read_info("/nonexistent/c.safetensors", &back) == CLGAN_ERR_NOT_FOUND, "a missing file: %s",
          clgan_last_error());
    /* another format: the header says clgan-checkpoint */
    char *hdr = (char *)bytes + 8, *fmt = strstr(hdr, "clgan-classifier");
    if (fmt) {
        memcpy(fmt, "clgan-checkpoin", 15); /* same length: the file stays well-formed */
        snprintf(bad, sizeof bad, "%s/foreign.safetensors", dir);
        write_bytes(bad, bytes, n);
        CHECK(clgan_clf_read_info(bad, &back) == CLGAN_ERR_FORMAT && strstr(clgan_last_error(), "expected clgan-classifier"),
              "a foreign format: %s", clgan_last_error());
        memcpy(fmt, "clgan-classifier", 16);
    } else {
        CHECK(false, "no format in the header");
    }
    /* a classifier whose metadata says 16x16 but whose tensors are 8x8 */
    char *size = strstr(hdr, "\"image_size\":\"8\"");
    if (size) {
        size[14] = '9'; /* 9x9 changes no tensor shape of the network's weights ... */
        snprintf(bad, sizeof bad, "%s/resized.safetensors", dir);
        write_bytes(bad, bytes, n);
        clgan_status st = clgan_clf_load(bad, d, 8, &l, NULL);
        /* ... except the first linear layer's, which sees 9x9 -> 5x5 maps */
        CHECK(st == CLGAN_ERR_FORMAT && strstr(clgan_last_error(), "c.fc.weight") && strstr(clgan_last_error(), bad),
              "metadata not matching the tensors: %s", clgan_last_error());
    } else {
        CHECK(false, "no image_size in the header: %s", hdr);
    }
    free(bytes);
    test_rmdir(dir);
    clgan_clf_free(c);

    /* the shift augmentation: a single bright pixel moves by at most 2 and the
     * rest stays background */
    float img[3 * 64];
    clgan_rng r;
    clgan_rng_init(&r, 3);
    bool moved = false, ok = true;
    for (int trial = 0; trial < 20; trial++) {
        for (int i = 0; i < 3 * 64; i++) img[i] = -1;
        for (int i = 0; i < 3; i++) img[i * 64 + 3 * 8 + 4] = 1;
        MUST(clgan_images_random_shift(img, 3, 1, 8, 8, 2, &r));
        for (int i = 0; i < 3; i++) {
            int bright = 0, at = -1;
            for (int p = 0; p < 64; p++)
                if (img[i * 64 + p] == 1) bright++, at = p;
                else if (img[i * 64 + p] != -1) ok = false;
            if (bright != 1 || abs(at / 8 - 3) > 2 || abs(at % 8 - 4) > 2) ok = false;
            if (at != 3 * 8 + 4) moved = true;
        }
    }
    CHECK(ok && moved, "random shift: pixel lost or moved too far (%d), or never moved (%d)", ok, moved);
    clgan_device_close(d);
}

int main(int argc, char **argv) {
    static const harness_part parts[] = {{"fid", test_fid}, {"inception", test_inception}, {"modes", test_modes},
                                         {"classifier", test_classifier}, {"kid", test_kid}, {"pr", test_pr}};
    return harness_main(argc, argv, "test_eval", parts, sizeof parts / sizeof parts[0]);
}
