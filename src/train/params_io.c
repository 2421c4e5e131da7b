#include "train/params_io.h"

#include <stdlib.h>

static int shape64(const clgan_params *p, int i, int64_t *s64, size_t *numel) {
    int nd, shape[4];
    clgan_params_shape(p, i, &nd, shape);
    *numel = 1;
    for (int k = 0; k < nd; k++) {
        s64[k] = shape[k];
        *numel *= (size_t)shape[k];
    }
    return nd;
}

clgan_status clgan_params_st_add(clgan_st_writer *w, const clgan_params *p) {
    size_t most = 1, numel;
    int64_t s64[4];
    for (int i = 0; i < clgan_params_count(p); i++) {
        shape64(p, i, s64, &numel);
        if (numel > most) most = numel;
    }
    float *host = malloc(most * sizeof *host);
    if (!host) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_status st = CLGAN_OK;
    for (int i = 0; i < clgan_params_count(p) && st == CLGAN_OK; i++) {
        int nd = shape64(p, i, s64, &numel);
        st = clgan_params_read(p, i, host);
        if (st == CLGAN_OK) st = clgan_st_add(w, clgan_params_name(p, i), CLGAN_DT_F32, nd, s64, host);
    }
    free(host);
    return st;
}

/* Entry i's tensor in f, checked for dtype and shape; *data points into f. */
static clgan_status entry_tensor(const clgan_st_file *f, const clgan_params *p, int i, const void **data) {
    int64_t s64[4];
    size_t numel;
    int nd = shape64(p, i, s64, &numel);
    return clgan_st_get(f, clgan_params_name(p, i), CLGAN_DT_F32, nd, s64, data);
}

clgan_status clgan_params_st_check(const clgan_st_file *f, const clgan_params *p) {
    clgan_status st = CLGAN_OK;
    const void *data = NULL;
    for (int i = 0; i < clgan_params_count(p) && st == CLGAN_OK; i++) st = entry_tensor(f, p, i, &data);
    return st;
}

clgan_status clgan_params_st_load(const clgan_st_file *f, clgan_params *p) {
    clgan_status st = CLGAN_OK;
    for (int i = 0; i < clgan_params_count(p) && st == CLGAN_OK; i++) {
        const void *data = NULL;
        st = entry_tensor(f, p, i, &data);
        if (st == CLGAN_OK) st = clgan_params_write(p, i, data);
    }
    return st;
}
