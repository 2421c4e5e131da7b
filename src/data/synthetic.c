/* 2-D Gaussian mixtures for mode-collapse experiments: the ring of 8 and the
 * 5x5 grid used by the VEEGAN (2017) and PacGAN (2018) papers. Metrics count a sample as "high quality" within 3 sigma of a mode. */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

/* cos/sin(2*pi*k/8), written out so the table is constant and exact to float */
static const float ring8_centres[8 * 2] = {
    1.0f, 0.0f, /* k = 0 */
    0.70710678f, 0.70710678f, /* k = 1 */
    0.0f, 1.0f, /* k = 2 */
    -0.70710678f, 0.70710678f, /* k = 3 */
    -1.0f, 0.0f, /* k = 4 */
    -0.70710678f, -0.70710678f, /* k = 5 */
    0.0f, -1.0f, /* k = 6 */
    0.70710678f, -0.70710678f, /* k = 7 */
};

/* mode 5i + j at (-4 + 2i, -4 + 2j) */
static const float grid25_centres[25 * 2] = {
    -4, -4, -4, -2, -4, 0, -4, 2, -4, 4,
    -2, -4, -2, -2, -2, 0, -2, 2, -2, 4,
    0, -4, 0, -2, 0, 0, 0, 2, 0, 4,
    2, -4, 2, -2, 2, 0, 2, 2, 2, 4,
    4, -4, 4, -2, 4, 0, 4, 2, 4, 4,
};

clgan_status clgan_synthetic_modes(const char *kind, int *count, const float **centres, float *sigma) {
    if (!kind || !count || !centres || !sigma)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_synthetic_modes: NULL argument");
    if (strcmp(kind, "ring8") == 0) {
        *count = 8;
        *centres = ring8_centres;
        *sigma = 0.01f;
        return CLGAN_OK;
    }
    if (strcmp(kind, "grid25") == 0) {
        *count = 25;
        *centres = grid25_centres;
        *sigma = 0.05f;
        return CLGAN_OK;
    }
    return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "synthetic data set \"%s\": expected \"ring8\" or \"grid25\"", kind);
}

clgan_status clgan_dataset_synthetic(const char *kind, int n, uint64_t seed, clgan_dataset *out) {
    clgan_status st = CLGAN_OK;
    int count = 0;
    const float *centres = NULL;
    float sigma = 0.0f;

    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_synthetic: out is NULL");
    memset(out, 0, sizeof *out);
    st = clgan_synthetic_modes(kind, &count, &centres, &sigma);
    if (st != CLGAN_OK) return st;
    if (n <= 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: %d samples, expected at least 1", kind, n);

    st = data_dataset_alloc(out, kind, NULL, n, 2, 1, 1, true);
    if (st != CLGAN_OK) goto fail;
    out->num_classes = count;
    /* noise first, straight into x: element 2i+d is coordinate d of sample i */
    clgan_rng_normal(seed, CLGAN_SYNTHETIC_NOISE_OFFSET, out->x, (size_t)n * 2);
    clgan_rng rng;
    clgan_rng_init(&rng, seed);
    for (int i = 0; i < n; i++) {
        int k = (int)clgan_rng_below(&rng, (uint32_t)count);
        out->y[i] = k;
        out->x[2 * (size_t)i] = centres[2 * k] + sigma * out->x[2 * (size_t)i];
        out->x[2 * (size_t)i + 1] = centres[2 * k + 1] + sigma * out->x[2 * (size_t)i + 1];
    }
    return CLGAN_OK;

fail:
    clgan_dataset_free(out);
    return st;
}
