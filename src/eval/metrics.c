/* Sample-quality metrics for the synthetic mixtures. */
#include "clgan/data.h"
#include "clgan/eval.h"

#include <math.h>
#include <string.h>

/* The protocol of the VEEGAN (2017) and PacGAN (2018) papers: a sample is
 * high quality within 3 standard deviations of its nearest mode; a mode is
 * covered when it is the nearest mode of at least one high-quality sample;
 * the reverse KL compares the histogram of modes among high-quality samples
 * with the uniform one of the data. */
clgan_status clgan_mode_coverage(const char *kind, const float *points, int n, clgan_mode_stats *out) {
    int count = 0;
    const float *c = NULL;
    float sigma = 0;
    clgan_status st = clgan_synthetic_modes(kind, &count, &c, &sigma);
    if (st != CLGAN_OK) return st;
    if (count > 64) return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "%s has %d modes, at most 64 supported", kind, count);
    memset(out, 0, sizeof *out);
    out->modes_total = count;
    int hq = 0;
    for (int i = 0; i < n; i++) {
        int best = -1;
        double bd = INFINITY;
        for (int k = 0; k < count; k++) {
            double dx = (double)points[2 * i] - c[2 * k], dy = (double)points[2 * i + 1] - c[2 * k + 1];
            double dd = sqrt(dx * dx + dy * dy);
            if (dd < bd) {
                bd = dd;
                best = k;
            }
        }
        if (best >= 0 && bd <= 3.0 * sigma) {
            out->counts[best]++;
            hq++;
        }
    }
    for (int k = 0; k < count; k++) out->modes_covered += out->counts[k] > 0;
    out->high_quality_fraction = n > 0 ? (double)hq / n : 0;
    double kl = 0;
    for (int k = 0; k < count && hq > 0; k++) {
        if (!out->counts[k]) continue;
        double q = (double)out->counts[k] / hq;
        kl += q * log(q * count);
    }
    out->reverse_kl = hq > 0 ? kl : INFINITY;
    return CLGAN_OK;
}
