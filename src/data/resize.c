/* Resampling and channel conversion of loaded images.
 *
 * Resize keeps the central square of the image (side = the shorter side, at
 * an integer offset so that a same-size crop copies pixels exactly) and maps
 * output pixel i of an axis onto the source interval
 * [off + i*s, off + (i+1)*s), s = side/size. Shrinking averages that interval
 * by area (every source pixel counts, so thin strokes do not alias away);
 * growing interpolates bilinearly between the two source pixels around the
 * interval's centre (pixel centres at +0.5, as OpenCV's INTER_LINEAR and
 * PyTorch's align_corners=False), clamping at the edge of the square. The
 * filter is separable: rows first, then columns.
 *
 * Both filters are convex combinations, so they commute with the affine
 * pixel -> [-1, 1] scaling and can run on the scaled floats. */
#include "data_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Taps of one axis: for each output index, `taps` (source index, weight)
 * pairs whose weights sum to 1. */
static void axis_taps(int src_len, int off, int side, int size, int taps, int *idx, float *wt) {
    double scale = (double)side / size;
    for (int i = 0; i < size; i++) {
        int *ix = idx + (size_t)i * taps;
        float *w = wt + (size_t)i * taps;
        for (int t = 0; t < taps; t++) {
            ix[t] = off;
            w[t] = 0.0f;
        }
        if (scale > 1.0) {
            double a = off + i * scale, b = a + scale;
            int k0 = (int)floor(a);
            for (int t = 0; t < taps; t++) {
                int k = k0 + t;
                double lo = a > k ? a : k, hi = b < k + 1 ? b : k + 1;
                if (hi <= lo || k < off || k >= off + side || k >= src_len) continue;
                ix[t] = k;
                w[t] = (float)((hi - lo) / scale);
            }
        } else {
            double s = off + (i + 0.5) * scale - 0.5;
            int k0 = (int)floor(s);
            double frac = s - k0;
            int lo = off, hi = off + side - 1;
            ix[0] = k0 < lo ? lo : k0 > hi ? hi : k0;
            ix[1] = k0 + 1 < lo ? lo : k0 + 1 > hi ? hi : k0 + 1;
            w[0] = (float)(1.0 - frac);
            w[1] = (float)frac;
        }
        float sum = 0.0f;
        for (int t = 0; t < taps; t++) sum += w[t];
        for (int t = 0; t < taps; t++) w[t] /= sum;
    }
}

clgan_status data_resizer_init(data_resizer *r, int h, int w, int size) {
    clgan_status st = CLGAN_OK;
    memset(r, 0, sizeof *r);
    if (h <= 0 || w <= 0 || size <= 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "resize: %d x %d to %d x %d", h, w, size, size);
    int side = h < w ? h : w;
    int taps = side > size ? (int)ceil((double)side / size) + 1 : 2;
    r->size = size;
    r->taps = taps;
    r->h = h;
    r->w = w;
    size_t n = (size_t)size * (size_t)taps;
    r->col_first = malloc(n * sizeof(int));
    r->col_wt = malloc(n * sizeof(float));
    r->row_first = malloc(n * sizeof(int));
    r->row_wt = malloc(n * sizeof(float));
    r->tmp = malloc((size_t)h * (size_t)size * sizeof(float));
    if (!r->col_first || !r->col_wt || !r->row_first || !r->row_wt || !r->tmp) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "resize: cannot allocate the taps for %d x %d -> %d x %d", h, w, size, size);
        goto fail;
    }
    axis_taps(w, (w - side) / 2, side, size, taps, r->col_first, r->col_wt);
    axis_taps(h, (h - side) / 2, side, size, taps, r->row_first, r->row_wt);
    return CLGAN_OK;

fail:
    data_resizer_free(r);
    return st;
}

void data_resizer_apply(const data_resizer *r, const float *src, int c, float *dst) {
    const int size = r->size, taps = r->taps, h = r->h, w = r->w;
    for (int ch = 0; ch < c; ch++) {
        const float *plane = src + (size_t)ch * h * w;
        float *out = dst + (size_t)ch * size * size;
        for (int y = 0; y < h; y++) {
            const float *row = plane + (size_t)y * w;
            for (int j = 0; j < size; j++) {
                const int *ix = r->col_first + (size_t)j * taps;
                const float *wt = r->col_wt + (size_t)j * taps;
                float acc = 0.0f;
                for (int t = 0; t < taps; t++) acc += wt[t] * row[ix[t]];
                r->tmp[(size_t)y * size + j] = acc;
            }
        }
        for (int i = 0; i < size; i++) {
            const int *iy = r->row_first + (size_t)i * taps;
            const float *wt = r->row_wt + (size_t)i * taps;
            float *orow = out + (size_t)i * size;
            for (int j = 0; j < size; j++) orow[j] = 0.0f;
            for (int t = 0; t < taps; t++) {
                const float *trow = r->tmp + (size_t)iy[t] * size;
                for (int j = 0; j < size; j++) orow[j] += wt[t] * trow[j];
            }
        }
    }
}

void data_resizer_free(data_resizer *r) {
    free(r->col_first);
    free(r->col_wt);
    free(r->row_first);
    free(r->row_wt);
    free(r->tmp);
    memset(r, 0, sizeof *r);
}

clgan_status data_dataset_resize(clgan_dataset *ds, int size) {
    clgan_status st = CLGAN_OK;
    data_resizer r;
    float *x = NULL;
    size_t out_per = 0, total = 0;
    if (ds->h == size && ds->w == size) return CLGAN_OK;
    st = data_resizer_init(&r, ds->h, ds->w, size);
    if (st != CLGAN_OK) return st;
    if (!data_mul_size((size_t)ds->c * size, (size_t)size, &out_per) ||
        !data_mul_size(out_per, (size_t)ds->n, &total) || total > SIZE_MAX / sizeof(float)) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: %d images of %d x %d x %d do not fit in memory", ds->name, ds->n, ds->c,
                       size, size);
        goto fail;
    }
    x = malloc(total * sizeof(float));
    if (!x) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes to resize to %d x %d", ds->name,
                       total * sizeof(float), size, size);
        goto fail;
    }
    size_t in_per = clgan_dataset_sample_floats(ds);
    for (int s = 0; s < ds->n; s++) data_resizer_apply(&r, ds->x + (size_t)s * in_per, ds->c, x + (size_t)s * out_per);
    free(ds->x);
    ds->x = x;
    ds->h = size;
    ds->w = size;
    data_resizer_free(&r);
    return CLGAN_OK;

fail:
    free(x);
    data_resizer_free(&r);
    return st;
}

clgan_status data_dataset_convert_channels(clgan_dataset *ds, int channels) {
    if (ds->c == channels) return CLGAN_OK;
    if (!((ds->c == 1 && channels == 3) || (ds->c == 3 && channels == 1)))
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "%s: %d channels to %d: only gray <-> RGB (1 <-> 3) is converted",
                         ds->name, ds->c, channels);
    size_t plane = (size_t)ds->h * (size_t)ds->w;
    size_t total = 0;
    if (!data_mul_size(plane * (size_t)channels, (size_t)ds->n, &total) || total > SIZE_MAX / sizeof(float))
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: %d images of %d x %d x %d do not fit in memory", ds->name, ds->n,
                         channels, ds->h, ds->w);
    float *x = malloc(total * sizeof(float));
    if (!x)
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes for %d channels", ds->name,
                         total * sizeof(float), channels);
    for (size_t s = 0; s < (size_t)ds->n; s++) {
        const float *in = ds->x + s * plane * (size_t)ds->c;
        float *out = x + s * plane * (size_t)channels;
        if (channels == 3) {
            for (int ch = 0; ch < 3; ch++) memcpy(out + ch * plane, in, plane * sizeof(float));
        } else {
            /* ITU-R BT.601 luma, as PIL's convert("L") and OpenCV's RGB2GRAY */
            for (size_t p = 0; p < plane; p++)
                out[p] = 0.299f * in[p] + 0.587f * in[plane + p] + 0.114f * in[2 * plane + p];
        }
    }
    free(ds->x);
    ds->x = x;
    ds->c = channels;
    return CLGAN_OK;
}
