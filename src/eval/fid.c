/* Classifier-based metrics: the Fréchet distance between Gaussians fitted to
 * two feature sets, and the inception score. Everything in double. */
#include "clgan/eval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK's symmetric eigensolver (Fortran, column-major; for a symmetric
 * matrix row- and column-major are the same). The two trailing arguments
 * are the hidden lengths of the character arguments that gfortran-built
 * LAPACK expects. jobz 'V': eigenvectors too, 'N': eigenvalues only; w gets
 * the eigenvalues in ascending order and, for 'V', column j of a (a[j*n ..])
 * eigenvector j. */
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
                   double *work, const int *lwork, int *info, size_t jobz_len, size_t uplo_len);

static clgan_status eigh(bool vectors, int n, double *a, double *w) {
    const char jobz = vectors ? 'V' : 'N', uplo = 'U';
    int lwork = -1, info = 0;
    double query = 0;
    dsyev_(&jobz, &uplo, &n, a, &n, w, &query, &lwork, &info, 1, 1);
    if (info != 0) return CLGAN_ERR(CLGAN_ERR_NUMERIC, "LAPACK dsyev workspace query failed (info %d)", info);
    lwork = (int)query;
    if (lwork < 3 * n) lwork = 3 * n;
    double *work = malloc((size_t)lwork * sizeof *work);
    if (!work) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for a %dx%d eigendecomposition", n, n);
    dsyev_(&jobz, &uplo, &n, a, &n, w, work, &lwork, &info, 1, 1);
    free(work);
    if (info != 0)
        return CLGAN_ERR(CLGAN_ERR_NUMERIC, "LAPACK dsyev: %s (info %d)",
                         info < 0 ? "an invalid argument" : "the eigenvalue iteration did not converge", info);
    return CLGAN_OK;
}

/* Rounding leaves eigenvalues of a positive semi-definite matrix that should
 * be 0 (a rank-deficient covariance: fewer samples than dimensions, dead
 * ReLU features) slightly negative; these are clamped to 0. A clearly
 * negative one means the matrix was not a covariance. */
static clgan_status clamp_eigenvalues(const char *what, int n, double *w) {
    double big = 0;
    for (int i = 0; i < n; i++) big = fmax(big, fabs(w[i]));
    for (int i = 0; i < n; i++) {
        if (w[i] >= 0) continue;
        if (w[i] < -1e-8 * big - 1e-300)
            return CLGAN_ERR(CLGAN_ERR_NUMERIC, "Fréchet distance: %s has eigenvalue %g (largest %g): not positive "
                                                "semi-definite",
                             what, w[i], big);
        w[i] = 0;
    }
    return CLGAN_OK;
}

static bool all_finite(const double *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

clgan_status clgan_feature_stats(const float *x, int n, int dim, double *mean, double *cov) {
    if (n < 2 || dim < 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "feature statistics of %d rows of %d features: need >= 2 rows", n, dim);
    size_t d = (size_t)dim;
    double *row = malloc(d * sizeof *row);
    if (!row) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    memset(mean, 0, d * sizeof *mean);
    memset(cov, 0, d * d * sizeof *cov);
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * d;
        for (size_t j = 0; j < d; j++) {
            if (!isfinite(r[j])) {
                free(row);
                return CLGAN_ERR(CLGAN_ERR_NUMERIC, "feature %zu of row %d is %g", j, i, (double)r[j]);
            }
            mean[j] += r[j];
        }
    }
    for (size_t j = 0; j < d; j++) mean[j] /= n;
    /* the upper triangle of sum (x - mean)(x - mean)^T, then mirrored */
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * d;
        for (size_t j = 0; j < d; j++) row[j] = r[j] - mean[j];
        for (size_t a = 0; a < d; a++) {
            double ra = row[a];
            double *c = cov + a * d;
            for (size_t b = a; b < d; b++) c[b] += ra * row[b];
        }
    }
    for (size_t a = 0; a < d; a++)
        for (size_t b = a; b < d; b++) {
            cov[a * d + b] /= (n - 1);
            cov[b * d + a] = cov[a * d + b];
        }
    free(row);
    return CLGAN_OK;
}

clgan_status clgan_frechet_distance(int dim, const double *mu1, const double *s1, const double *mu2, const double *s2,
                                    double *out) {
    if (dim < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Fréchet distance in %d dimensions", dim);
    size_t d = (size_t)dim, dd = d * d;
    if (!all_finite(mu1, d) || !all_finite(mu2, d) || !all_finite(s1, dd) || !all_finite(s2, dd))
        return CLGAN_ERR(CLGAN_ERR_NUMERIC, "Fréchet distance: a mean or covariance is not finite");
    double *v = malloc(dd * sizeof *v), *r = malloc(dd * sizeof *r), *t = malloc(dd * sizeof *t);
    double *w = malloc(d * sizeof *w);
    clgan_status st = v && r && t && w ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    /* Tr(sqrt(s1 s2)) = Tr(sqrt(R s2 R)) with R = sqrt(s1): s1 s2 = R (R s2 R) R^-1
     * is similar to the symmetric positive semi-definite R s2 R, so both have
     * the same (non-negative) eigenvalues, and the trace of the square root is
     * the sum of their square roots. */
    if (st == CLGAN_OK) {
        memcpy(v, s1, dd * sizeof *v);
        st = eigh(true, dim, v, w);
    }
    if (st == CLGAN_OK) st = clamp_eigenvalues("the first covariance", dim, w);
    if (st == CLGAN_OK) {
        /* R = V diag(sqrt w) V^T = F^T F with row j of F = w_j^(1/4) times eigenvector j (v[j*d ..]);
         * then t = s2 R and v = R t: OpenBLAS's dgemm (2048-d Inception features take 3 x 8.6 G
         * multiply-adds here, minutes as plain loops) */
        for (size_t j = 0; j < d; j++) {
            double f = sqrt(sqrt(w[j]));
            for (size_t a = 0; a < d; a++) t[j * d + a] = f * v[j * d + a];
        }
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dim, dim, dim, 1.0, t, dim, t, dim, 0.0, r, dim);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0, s2, dim, r, dim, 0.0, t, dim);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dim, dim, dim, 1.0, r, dim, t, dim, 0.0, v, dim);
        /* symmetric in exact arithmetic; make it so in floating point */
        for (size_t a = 0; a < d; a++)
            for (size_t b = a + 1; b < d; b++) v[a * d + b] = v[b * d + a] = 0.5 * (v[a * d + b] + v[b * d + a]);
        st = eigh(false, dim, v, w);
    }
    if (st == CLGAN_OK) st = clamp_eigenvalues("sqrt(s1) s2 sqrt(s1)", dim, w);
    if (st == CLGAN_OK) {
        double diff = 0, tr1 = 0, tr2 = 0, trsqrt = 0;
        for (size_t j = 0; j < d; j++) {
            double e = mu1[j] - mu2[j];
            diff += e * e;
            tr1 += s1[j * d + j];
            tr2 += s2[j * d + j];
            trsqrt += sqrt(w[j]);
        }
        double fd = diff + tr1 + tr2 - 2.0 * trsqrt;
        /* equal distributions give 0 up to rounding, which may be negative */
        *out = fd < 0 ? 0 : fd;
    }
    free(v);
    free(r);
    free(t);
    free(w);
    return st;
}

clgan_status clgan_fid_features(const float *a, int na, const float *b, int nb, int dim, double *out) {
    if (dim < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "Fréchet distance in %d dimensions", dim);
    size_t d = (size_t)dim;
    double *m1 = malloc(d * sizeof *m1), *m2 = malloc(d * sizeof *m2);
    double *c1 = malloc(d * d * sizeof *c1), *c2 = malloc(d * d * sizeof *c2);
    clgan_status st = m1 && m2 && c1 && c2 ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK && (st = clgan_feature_stats(a, na, dim, m1, c1)) != CLGAN_OK)
        clgan_error_context(st, "the first feature set: ");
    if (st == CLGAN_OK && (st = clgan_feature_stats(b, nb, dim, m2, c2)) != CLGAN_OK)
        clgan_error_context(st, "the second feature set: ");
    if (st == CLGAN_OK) st = clgan_frechet_distance(dim, m1, c1, m2, c2, out);
    free(m1);
    free(m2);
    free(c1);
    free(c2);
    return st;
}

clgan_status clgan_inception_score(const float *probs, int n, int k, double *out) {
    if (n < 1 || k < 1) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inception score of %d rows of %d classes", n, k);
    double *py = calloc((size_t)k, sizeof *py);
    if (!py) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * (size_t)k;
        double sum = 0;
        for (int j = 0; j < k; j++) {
            if (!isfinite(p[j]) || p[j] < 0) {
                free(py);
                return CLGAN_ERR(CLGAN_ERR_NUMERIC, "inception score: probability %d of row %d is %g", j, i, (double)p[j]);
            }
            sum += p[j];
            py[j] += p[j];
        }
        if (fabs(sum - 1.0) > 1e-3) {
            free(py);
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "inception score: row %d sums to %g, expected 1", i, sum);
        }
    }
    for (int j = 0; j < k; j++) py[j] /= n;
    /* KL(p(y|x) || p(y)) = sum_y p(y|x) log(p(y|x) / p(y)); terms with
     * p(y|x) = 0 are 0, and p(y|x) > 0 implies p(y) > 0 */
    double kl = 0;
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * (size_t)k;
        for (int j = 0; j < k; j++)
            if (p[j] > 0) kl += p[j] * (log((double)p[j]) - log(py[j]));
    }
    free(py);
    *out = exp(kl / n);
    return CLGAN_OK;
}

void clgan_softmax_rows(const float *logits, int n, int k, float *probs) {
    for (int i = 0; i < n; i++) {
        const float *l = logits + (size_t)i * (size_t)k;
        float *p = probs + (size_t)i * (size_t)k;
        double m = l[0], sum = 0;
        for (int j = 1; j < k; j++) m = fmax(m, l[j]);
        for (int j = 0; j < k; j++) sum += exp((double)l[j] - m);
        for (int j = 0; j < k; j++) p[j] = (float)(exp((double)l[j] - m) / sum);
    }
}
