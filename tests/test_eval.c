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
 *
 * Each part prints "FAIL file:line: what" for every failed check and exits 1
 * if there was any. What breaks each check: a sign or factor error in the
 * formula (fid: 2 Tr vs Tr, sqrt of the product's entries instead of its
 * eigenvalues, biased vs unbiased covariance), KL in the wrong direction or a
 * mean instead of a sum (inception), a wrong sigma or a < where <= belongs
 * (modes), a tensor not written or read (classifier). */
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
                                         {"classifier", test_classifier}};
    return harness_main(argc, argv, "test_eval", parts, sizeof parts / sizeof parts[0]);
}
