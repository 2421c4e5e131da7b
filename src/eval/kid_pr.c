/* The two feature-set metrics besides the Fréchet distance: the kernel
 * inception distance and k-NN precision and recall. Both work on feature
 * rows (n, dim) given as float and compute everything in double: float
 * features convert to double exactly, a product of two floats is exact in
 * double, and for any finite float input no intermediate here can overflow
 * (|x|^2 <= dim * FLT_MAX^2 ~ 1e80, a cubed kernel entry ~ 1e240). The
 * matrix products go to OpenBLAS's dgemm on panels of rows converted to
 * double, so memory stays bounded whatever the set sizes (see each
 * function's note). */
#include "clgan/eval.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows per panel converted to double for a product, and the byte budget of
 * one block of products (rows x columns doubles). */
enum { PANEL_ROWS = 512, PANEL_COLS = 1024 };
#define BLOCK_BYTES ((size_t)64 << 20)

static clgan_status check_finite(const char *what, const float *x, int n, int dim) {
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * (size_t)dim;
        for (int j = 0; j < dim; j++)
            if (!isfinite(r[j]))
                return CLGAN_ERR(CLGAN_ERR_NUMERIC, "%s: feature %d of row %d is %g", what, j, i, (double)r[j]);
    }
    return CLGAN_OK;
}

static void to_double(const float *x, size_t n, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = x[i];
}

/* ------------------------------------------------------------------------
 * KID
 * ------------------------------------------------------------------------ */

/* k(x, y) = (x.y / dim + 1)^3 of a dot product g */
static inline double cubic(double g, double inv_dim) {
    double t = g * inv_dim + 1.0;
    return t * t * t;
}

/* The sums over one subset: sxx = sum_{i != j} k(x_i, x_j), syy likewise,
 * sxy = sum_{i, j} k(x_i, y_j), from the subset's rows x, y (m, dim) in
 * double; g is scratch for `rows` x m dot products. The XX and YY sums take
 * each pair i < j once and double it: block by block of `rows` rows, the
 * diagonal block's upper triangle from dsyrk (its diagonal, k(x_i, x_i),
 * left out) and the block to its right from dgemm. */
static void kid_sums(const double *x, const double *y, int m, int dim, int rows, double *g, double *sxx, double *syy,
                     double *sxy) {
    const double inv = 1.0 / dim;
    double xx = 0, yy = 0, xy = 0;
    for (int r0 = 0; r0 < m; r0 += rows) {
        int rn = m - r0 < rows ? m - r0 : rows, r1 = r0 + rn, right = m - r1;
        for (int set = 0; set < 2; set++) {
            const double *z = set == 0 ? x : y, *zr = z + (size_t)r0 * (size_t)dim;
            double s = 0;
            /* the upper triangle of g (rn, rn) = rows r0 .. r1 of z times themselves, transposed */
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rn, dim, 1.0, zr, dim, 0.0, g, rn);
            for (int i = 0; i < rn; i++) {
                const double *gi = g + (size_t)i * (size_t)rn;
                double si = 0;
                for (int j = i + 1; j < rn; j++) si += cubic(gi[j], inv);
                s += si;
            }
            /* g (rn, right) = the same rows times rows r1 .. m, transposed */
            if (right > 0) {
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rn, right, dim, 1.0, zr, dim,
                            z + (size_t)r1 * (size_t)dim, dim, 0.0, g, right);
                for (int i = 0; i < rn; i++) {
                    const double *gi = g + (size_t)i * (size_t)right;
                    double si = 0;
                    for (int j = 0; j < right; j++) si += cubic(gi[j], inv);
                    s += si;
                }
            }
            if (set == 0)
                xx += s;
            else
                yy += s;
        }
        /* g (rn, m) = rows r0 .. r1 of x times every row of y, transposed */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rn, m, dim, 1.0, x + (size_t)r0 * (size_t)dim, dim, y, dim,
                    0.0, g, m);
        for (int i = 0; i < rn; i++) {
            const double *gi = g + (size_t)i * (size_t)m;
            double si = 0;
            for (int j = 0; j < m; j++) si += cubic(gi[j], inv);
            xy += si;
        }
    }
    *sxx = 2 * xx;
    *syy = 2 * yy;
    *sxy = xy;
}

/* mean and population standard deviation (ddof 0, numpy's std) of v */
static void mean_std(const double *v, int n, double *mean, double *std) {
    double s = 0;
    for (int i = 0; i < n; i++) s += v[i];
    double mu = s / n, q = 0;
    for (int i = 0; i < n; i++) q += (v[i] - mu) * (v[i] - mu);
    *mean = mu;
    *std = sqrt(q / n);
}

/* Index rows: each of `subsets` rows of m indices must lie in [0, n) without
 * repeats (mark is n ints of scratch, all < 0 on entry). */
static clgan_status check_indices(const char *what, const int32_t *idx, int subsets, int m, int n, int *mark) {
    for (int s = 0; s < subsets; s++)
        for (int i = 0; i < m; i++) {
            int32_t v = idx[(size_t)s * (size_t)m + (size_t)i];
            if (v < 0 || v >= n)
                return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "KID: subset %d of %s: index %d of %d rows", s, what, (int)v,
                                 n);
            if (mark[v] == s)
                return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                                 "KID: subset %d of %s holds row %d twice (subsets are drawn without replacement)", s,
                                 what, (int)v);
            mark[v] = s;
        }
    return CLGAN_OK;
}

static clgan_status kid_args(const float *a, int na, const float *b, int nb, int dim, int subsets, int m) {
    if (!a || !b || dim < 1 || subsets < 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "KID of %s sets in %d dimensions over %d subsets",
                         !a || !b ? "NULL" : "two", dim, subsets);
    if (na < 2 || nb < 2 || m < 2)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "KID needs subsets of >= 2 rows from each set (the unbiased estimator divides by m (m - 1)): "
                         "%d and %d rows, subset size %d",
                         na, nb, m);
    if (m > na || m > nb)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "KID: subsets of %d rows drawn without replacement from %d and %d rows",
                         m, na, nb);
    clgan_status st = check_finite("KID: the first feature set (a)", a, na, dim);
    if (st == CLGAN_OK) st = check_finite("KID: the second feature set (b)", b, nb, dim);
    return st;
}

clgan_status clgan_kid_subsets(const float *a, int na, const float *b, int nb, int dim, int subsets, int m,
                               const int32_t *ia, const int32_t *ib, double *values, double *mean, double *std) {
    clgan_status st = kid_args(a, na, b, nb, dim, subsets, m);
    if (st != CLGAN_OK) return st;
    if (!ia || !ib) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "KID: NULL subset indices");
    size_t d = (size_t)dim, mm = (size_t)m;
    int rows = m < PANEL_ROWS ? m : PANEL_ROWS;
    int *mark = malloc((size_t)(na > nb ? na : nb) * sizeof *mark);
    double *x = malloc(mm * d * sizeof *x), *y = malloc(mm * d * sizeof *y);
    double *g = malloc((size_t)rows * mm * sizeof *g), *v = malloc((size_t)subsets * sizeof *v);
    if (!mark || !x || !y || !g || !v)
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "KID: out of host memory for subsets of %d rows of %d features", m, dim);
    if (st == CLGAN_OK) {
        for (int i = 0; i < na; i++) mark[i] = -1;
        st = check_indices("the first set (a)", ia, subsets, m, na, mark);
    }
    if (st == CLGAN_OK) {
        for (int i = 0; i < nb; i++) mark[i] = -1;
        st = check_indices("the second set (b)", ib, subsets, m, nb, mark);
    }
    for (int s = 0; st == CLGAN_OK && s < subsets; s++) {
        const int32_t *ja = ia + (size_t)s * mm, *jb = ib + (size_t)s * mm;
        for (size_t i = 0; i < mm; i++) {
            to_double(a + (size_t)ja[i] * d, d, x + i * d);
            to_double(b + (size_t)jb[i] * d, d, y + i * d);
        }
        double sxx, syy, sxy;
        kid_sums(x, y, m, dim, rows, g, &sxx, &syy, &sxy);
        /* the unbiased estimator: off-diagonal means of the XX and YY Gram
         * matrices minus twice the mean of the whole XY one */
        v[s] = (sxx + syy) / ((double)m * (m - 1)) - 2 * sxy / ((double)m * m);
    }
    if (st == CLGAN_OK) {
        double mu, sd;
        mean_std(v, subsets, &mu, &sd);
        if (values) memcpy(values, v, (size_t)subsets * sizeof *v);
        if (mean) *mean = mu;
        if (std) *std = sd;
    }
    free(mark);
    free(x);
    free(y);
    free(g);
    free(v);
    return st;
}

/* The draw documented in clgan/eval.h: one clgan_rng seeded with seed; for
 * each subset in turn, the first m entries of a partial Fisher-Yates shuffle
 * of the identity permutation of a's rows, then the same for b's. p is
 * max(na, nb) ints of scratch. */
static void kid_draw(uint64_t seed, int subsets, int m, int na, int nb, int32_t *p, int32_t *ia, int32_t *ib) {
    clgan_rng r;
    clgan_rng_init(&r, seed);
    for (int s = 0; s < subsets; s++)
        for (int set = 0; set < 2; set++) {
            int count = set == 0 ? na : nb;
            for (int i = 0; i < count; i++) p[i] = i;
            for (int i = 0; i < m; i++) {
                int j = i + (int)clgan_rng_below(&r, (uint32_t)(count - i));
                int32_t t = p[i];
                p[i] = p[j];
                p[j] = t;
            }
            memcpy((set == 0 ? ia : ib) + (size_t)s * (size_t)m, p, (size_t)m * sizeof *p);
        }
}

clgan_status clgan_kid(const float *a, int na, const float *b, int nb, int dim, int subsets, int subset_size,
                       uint64_t seed, double *mean, double *std) {
    if (subsets == 0) subsets = CLGAN_KID_SUBSETS;
    if (subset_size == 0) subset_size = CLGAN_KID_SUBSET_SIZE;
    if (subset_size < 2)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "KID: subset size %d: the unbiased estimator needs >= 2", subset_size);
    int m = subset_size;
    if (m > na) m = na;
    if (m > nb) m = nb;
    clgan_status st = kid_args(a, na, b, nb, dim, subsets, m);
    if (st != CLGAN_OK) return st;
    size_t cells = (size_t)subsets * (size_t)m;
    int32_t *p = malloc((size_t)(na > nb ? na : nb) * sizeof *p);
    int32_t *ia = malloc(cells * sizeof *ia), *ib = malloc(cells * sizeof *ib);
    if (!p || !ia || !ib)
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "KID: out of host memory for %d subsets of %d rows", subsets, m);
    if (st == CLGAN_OK) {
        kid_draw(seed, subsets, m, na, nb, p, ia, ib);
        st = clgan_kid_subsets(a, na, b, nb, dim, subsets, m, ia, ib, NULL, mean, std);
    }
    free(p);
    free(ia);
    free(ib);
    return st;
}

/* ------------------------------------------------------------------------
 * k-NN precision and recall
 * ------------------------------------------------------------------------ */

/* Squared norms of the rows, in double (each square exact, summed in order). */
static void row_norms(const float *x, int n, int dim, double *out) {
    for (int i = 0; i < n; i++) {
        const float *r = x + (size_t)i * (size_t)dim;
        double s = 0;
        for (int j = 0; j < dim; j++) s += (double)r[j] * r[j];
        out[i] = s;
    }
}

typedef struct {
    double *xp, *yp; /* `rows` and PANEL_COLS rows of dim doubles */
    double *d;       /* rows x ny squared distances */
    int rows;        /* rows per block */
} pr_work;

/* w->d (rn, ny) = the squared distances |x_i - y_j|^2 = |x_i|^2 + |y_j|^2 -
 * 2 x_i.y_j of rows i0 .. i0 + rn of x to every row of y, in double
 * (clamped at 0: rounding can leave a tiny negative value for two close
 * points, which the reference implementations clamp the same way). */
static void sqdist_block(const float *x, const double *xn, int i0, int rn, const float *y, const double *yn, int ny,
                         int dim, pr_work *w) {
    size_t d = (size_t)dim;
    to_double(x + (size_t)i0 * d, (size_t)rn * d, w->xp);
    for (int j0 = 0; j0 < ny; j0 += PANEL_COLS) {
        int cn = ny - j0 < PANEL_COLS ? ny - j0 : PANEL_COLS;
        to_double(y + (size_t)j0 * d, (size_t)cn * d, w->yp);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rn, cn, dim, -2.0, w->xp, dim, w->yp, dim, 0.0, w->d + j0,
                    ny);
    }
    for (int i = 0; i < rn; i++) {
        double *di = w->d + (size_t)i * (size_t)ny, ni = xn[i0 + i];
        for (int j = 0; j < ny; j++) {
            double v = di[j] + ni + yn[j];
            di[j] = v > 0 ? v : 0;
        }
    }
}

/* The k-th smallest (0-based) of v[0 .. n): quickselect with a three-way
 * partition (equal values, such as duplicated points' zeros, stay linear);
 * v is reordered. */
static double select_kth(double *v, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        double a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
        double p = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b)); /* median of three */
        int lt = lo, i = lo, gt = hi;
        while (i <= gt) {
            if (v[i] < p) {
                double t = v[lt];
                v[lt++] = v[i];
                v[i++] = t;
            } else if (v[i] > p) {
                double t = v[gt];
                v[gt--] = v[i];
                v[i] = t;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt - 1;
        else if (k > gt)
            lo = gt + 1;
        else
            return p;
    }
    return v[lo];
}

/* rad2[i] = the squared distance from row i of x to its k-th nearest other
 * row of x: the point itself is left out by index (its own distance set to
 * +inf before the selection), so a duplicate of it counts as a neighbour at
 * distance 0, as in the reference code (the (k+1)-th smallest distance of
 * the row, the first being the point's own zero). */
static void knn_radii(const float *x, const double *xn, int n, int dim, int k, pr_work *w, double *rad2) {
    for (int i0 = 0; i0 < n; i0 += w->rows) {
        int rn = n - i0 < w->rows ? n - i0 : w->rows;
        sqdist_block(x, xn, i0, rn, x, xn, n, dim, w);
        for (int i = 0; i < rn; i++) {
            double *di = w->d + (size_t)i * (size_t)n;
            di[i0 + i] = INFINITY; /* not its own neighbour */
            rad2[i0 + i] = select_kth(di, n, k - 1);
        }
    }
}

static clgan_status pr_args(const float *real, int nr, const float *gen, int ng, int dim, int k) {
    if (!real || !gen || dim < 1 || k < 1)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "precision/recall of %s sets in %d dimensions with k = %d",
                         !real || !gen ? "NULL" : "two", dim, k);
    if (nr <= k || ng <= k)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG,
                         "precision/recall with k = %d needs more than k rows in each set (the k-th nearest other "
                         "row): %d real, %d generated",
                         k, nr, ng);
    clgan_status st = check_finite("precision/recall: the real features", real, nr, dim);
    if (st == CLGAN_OK) st = check_finite("precision/recall: the generated features", gen, ng, dim);
    return st;
}

clgan_status clgan_precision_recall_points(const float *real, int nr, const float *gen, int ng, int dim, int k,
                                           double *real_radius, double *gen_radius, uint8_t *gen_in_real,
                                           uint8_t *real_in_gen, double *precision, double *recall) {
    clgan_status st = pr_args(real, nr, gen, ng, dim, k);
    if (st != CLGAN_OK) return st;
    size_t d = (size_t)dim, most = (size_t)(nr > ng ? nr : ng);
    pr_work w = {0};
    /* rows per block: PANEL_ROWS, fewer when a block of distances to every
     * row of the larger set would pass BLOCK_BYTES */
    size_t fit = BLOCK_BYTES / (most * sizeof(double));
    w.rows = fit < 1 ? 1 : fit < PANEL_ROWS ? (int)fit : PANEL_ROWS;
    w.xp = malloc((size_t)w.rows * d * sizeof *w.xp);
    w.yp = malloc((size_t)PANEL_COLS * d * sizeof *w.yp);
    w.d = malloc((size_t)w.rows * most * sizeof *w.d);
    double *rn = calloc((size_t)nr, sizeof *rn), *gn = calloc((size_t)ng, sizeof *gn);
    double *rr = malloc((size_t)nr * sizeof *rr), *gr = malloc((size_t)ng * sizeof *gr);
    uint8_t *recalled = calloc((size_t)nr, 1), *precise = calloc((size_t)ng, 1);
    if (!w.xp || !w.yp || !w.d || !rn || !gn || !rr || !gr || !recalled || !precise)
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "precision/recall: out of host memory for %d and %d rows of %d features", nr,
                       ng, dim);
    if (st == CLGAN_OK) {
        row_norms(real, nr, dim, rn);
        row_norms(gen, ng, dim, gn);
        knn_radii(real, rn, nr, dim, k, &w, rr);
        knn_radii(gen, gn, ng, dim, k, &w, gr);
        /* one pass over the generated-to-real distances decides both: a
         * generated point is precise when it lies in some real point's
         * ball, a real point recalled when it lies in some generated
         * point's ball; on the boundary (<=) counts as inside */
        for (int i0 = 0; i0 < ng; i0 += w.rows) {
            int rows = ng - i0 < w.rows ? ng - i0 : w.rows;
            sqdist_block(gen, gn, i0, rows, real, rn, nr, dim, &w);
            for (int i = 0; i < rows; i++) {
                const double *di = w.d + (size_t)i * (size_t)nr;
                double ball = gr[i0 + i];
                bool in = false;
                for (int j = 0; j < nr; j++) {
                    if (di[j] <= rr[j]) in = true;
                    if (di[j] <= ball) recalled[j] = 1;
                }
                precise[i0 + i] = in;
            }
        }
        long np = 0, nrec = 0;
        for (int i = 0; i < ng; i++) np += precise[i];
        for (int j = 0; j < nr; j++) nrec += recalled[j];
        if (precision) *precision = (double)np / ng;
        if (recall) *recall = (double)nrec / nr;
        if (real_radius)
            for (int j = 0; j < nr; j++) real_radius[j] = sqrt(rr[j]);
        if (gen_radius)
            for (int i = 0; i < ng; i++) gen_radius[i] = sqrt(gr[i]);
        if (gen_in_real) memcpy(gen_in_real, precise, (size_t)ng);
        if (real_in_gen) memcpy(real_in_gen, recalled, (size_t)nr);
    }
    free(w.xp);
    free(w.yp);
    free(w.d);
    free(rn);
    free(gn);
    free(rr);
    free(gr);
    free(recalled);
    free(precise);
    return st;
}

clgan_status clgan_precision_recall(const float *real, int nr, const float *gen, int ng, int dim, int k,
                                    double *precision, double *recall) {
    return clgan_precision_recall_points(real, nr, gen, ng, dim, k, NULL, NULL, NULL, NULL, precision, recall);
}
