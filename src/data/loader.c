/* Seeded, resumable batching: the order of an epoch is a function of
 * (seed, epoch) alone, so (epoch, pos) is the loader's whole state. */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>

/* Fisher-Yates (Durstenfeld's in-place form) with a clgan_rng keyed by seed
 * whose counter starts at epoch << 32. An epoch of n < 2^31 samples draws
 * n - 1 words plus clgan_rng_below's rejections (under 1.4 n in all), so the
 * counter ranges of different epochs do not meet. */
static void shuffle(uint32_t *perm, size_t n, uint64_t seed, uint64_t epoch) {
    clgan_rng rng;
    clgan_rng_init(&rng, seed);
    rng.counter = epoch << 32;
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = clgan_rng_below(&rng, (uint32_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

clgan_status clgan_loader_init(clgan_loader *l, const clgan_dataset *ds, int batch, uint64_t seed) {
    if (!l) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_loader_init: loader is NULL");
    memset(l, 0, sizeof *l);
    if (!ds || !ds->x || ds->n <= 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_loader_init: empty or NULL data set");
    if (batch < 1 || batch > ds->n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: batch %d, expected 1..%d (the number of samples)", ds->name, batch,
                         ds->n);
    l->perm = malloc((size_t)ds->n * sizeof *l->perm);
    if (!l->perm) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate a permutation of %d", ds->name, ds->n);
    l->ds = ds;
    l->batch = batch;
    l->seed = seed;
    shuffle(l->perm, (size_t)ds->n, seed, 0);
    return CLGAN_OK;
}

clgan_status clgan_loader_seek(clgan_loader *l, uint64_t epoch, size_t pos) {
    if (!l || !l->perm) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_loader_seek: loader not initialised");
    if (pos > (size_t)l->ds->n)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: seek to position %zu of an epoch of %d samples", l->ds->name, pos,
                         l->ds->n);
    if (epoch != l->epoch) shuffle(l->perm, (size_t)l->ds->n, l->seed, epoch);
    l->epoch = epoch;
    l->pos = pos;
    return CLGAN_OK;
}

void clgan_loader_next(clgan_loader *l, float *x, int32_t *y) {
    const clgan_dataset *ds = l->ds;
    if (l->pos + (size_t)l->batch > (size_t)ds->n) {
        l->epoch++;
        l->pos = 0;
        shuffle(l->perm, (size_t)ds->n, l->seed, l->epoch);
    }
    size_t per = clgan_dataset_sample_floats(ds);
    for (int b = 0; b < l->batch; b++) {
        uint32_t s = l->perm[l->pos + (size_t)b];
        memcpy(x + (size_t)b * per, ds->x + (size_t)s * per, per * sizeof(float));
        if (y) y[b] = ds->y ? ds->y[s] : 0;
    }
    l->pos += (size_t)l->batch;
}

size_t clgan_loader_batches_per_epoch(const clgan_loader *l) { return (size_t)l->ds->n / (size_t)l->batch; }

void clgan_loader_free(clgan_loader *l) {
    if (!l) return;
    free(l->perm);
    memset(l, 0, sizeof *l);
}
