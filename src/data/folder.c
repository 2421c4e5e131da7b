/* A folder of PNG images, optionally one sub-folder per class. Decoding is
 * clgan_png_read's (src/io/png.c); this file lists, orders, crops and
 * resamples (see resize.c for the filter). */
#include "data_internal.h"

#include "clgan/io.h"
#include "io/dir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char **items;
    size_t n, cap;
} name_list;

static void names_free(name_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static clgan_status names_push(name_list *l, const char *dir, const char *name) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **items = realloc(l->items, cap * sizeof *items);
        if (!items) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot list more than %zu entries", dir, l->n);
        l->items = items;
        l->cap = cap;
    }
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(len);
    if (!p) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot list more than %zu entries", dir, l->n);
    snprintf(p, len, "%s/%s", dir, name);
    l->items[l->n++] = p;
    return CLGAN_OK;
}

/* Appends the PNG files and the sub-folders of dir (full paths) to the lists,
 * each in name order; subdirs may be NULL to skip them. */
static clgan_status list_dir(const char *dir, name_list *pngs, name_list *subdirs) {
    clgan_dir_entries all;
    clgan_status st = clgan_dir_list(dir, &all);
    for (size_t i = 0; i < all.n && st == CLGAN_OK; i++) {
        const clgan_dir_entry *e = &all.items[i];
        if (e->kind == CLGAN_ENTRY_UNREADABLE) continue; /* a dangling link is not data */
        if (e->kind == CLGAN_ENTRY_FILE && clgan_is_png_name(e->name))
            st = names_push(pngs, dir, e->name);
        else if (e->kind != CLGAN_ENTRY_DIR && clgan_is_png_name(e->name))
            clgan_log(CLGAN_LOG_WARN, "%s: skipped: is %s, not a regular file", e->path, clgan_file_kind(e->mode));
        else if (e->kind == CLGAN_ENTRY_DIR && subdirs)
            st = names_push(subdirs, dir, e->name);
    }
    clgan_dir_entries_free(&all);
    return st;
}

/* Reads one PNG into dst (channels x size x size). */
static clgan_status load_one(const char *path, int channels, int size, data_resizer *r, float **chw, size_t *chw_cap,
                             float *dst) {
    clgan_status st = CLGAN_OK;
    uint8_t *px = NULL;
    int w = 0, h = 0;
    st = clgan_png_read(path, channels, &px, &w, &h);
    if (st != CLGAN_OK) {
        /* make sure the message names the image whatever the decoder said */
        if (!strstr(clgan_last_error(), path)) clgan_error_context(st, "%s: ", path);
        goto fail;
    }
    if (w <= 0 || h <= 0) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: image is %d x %d", path, w, h);
        goto fail;
    }
    size_t plane = (size_t)w * (size_t)h;
    size_t need = plane * (size_t)channels;
    if (need > *chw_cap) {
        float *grown = realloc(*chw, need * sizeof(float));
        if (!grown) {
            st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu floats for a %d x %d image", path, need, w, h);
            goto fail;
        }
        *chw = grown;
        *chw_cap = need;
    }
    /* the decoder gives interleaved rows (RGBRGB...); the data set is CHW */
    float lut[256];
    for (int p = 0; p < 256; p++) lut[p] = (float)p / 127.5f - 1.0f;
    for (size_t p = 0; p < plane; p++)
        for (int ch = 0; ch < channels; ch++) (*chw)[(size_t)ch * plane + p] = lut[px[p * (size_t)channels + ch]];
    if (r->h != h || r->w != w) {
        data_resizer_free(r);
        st = data_resizer_init(r, h, w, size);
        if (st != CLGAN_OK) goto fail;
    }
    data_resizer_apply(r, *chw, channels, dst);
    free(px);
    return CLGAN_OK;

fail:
    free(px);
    return st;
}

clgan_status clgan_dataset_load_folder(const char *dir, int channels, int size, clgan_dataset *out) {
    clgan_status st = CLGAN_OK;
    name_list pngs = {0}, subdirs = {0};
    int32_t *labels = NULL;
    size_t labels_cap = 0;
    int classes = 0;
    data_resizer r = {0};
    float *chw = NULL;
    size_t chw_cap = 0;

    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_load_folder: out is NULL");
    memset(out, 0, sizeof *out);
    if (!dir) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_load_folder: dir is NULL");
    if (channels != 1 && channels != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: channels %d, expected 1 (gray) or 3 (RGB)", dir, channels);
    if (size <= 0 || size > 65536)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: size %d, expected 1..65536", dir, size);

    st = list_dir(dir, &pngs, &subdirs);
    if (st != CLGAN_OK) goto fail;
    if (pngs.n == 0 && subdirs.n > 0) {
        /* labelled: class k is the k-th sub-folder by name */
        if (subdirs.n > INT_MAX) {
            st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: %zu sub-folders, more than %d classes", dir, subdirs.n,
                           INT_MAX);
            goto fail;
        }
        classes = (int)subdirs.n;
        for (size_t k = 0; k < subdirs.n; k++) {
            size_t before = pngs.n;
            st = list_dir(subdirs.items[k], &pngs, NULL);
            if (st != CLGAN_OK) goto fail;
            if (pngs.n > labels_cap) {
                size_t cap = pngs.n * 2;
                int32_t *grown = realloc(labels, cap * sizeof *grown);
                if (!grown) {
                    st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu labels", dir, cap);
                    goto fail;
                }
                labels = grown;
                labels_cap = cap;
            }
            for (size_t i = before; i < pngs.n; i++) labels[i] = (int32_t)k;
            if (pngs.n == before) clgan_log(CLGAN_LOG_WARN, "%s: class %zu has no *.png", subdirs.items[k], k);
        }
    }
    if (pngs.n == 0) {
        st = CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s: no *.png files (nor sub-folders holding them)", dir);
        goto fail;
    }
    if (pngs.n > INT_MAX) {
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: %zu images, more than %d", dir, pngs.n, INT_MAX);
        goto fail;
    }
    st = data_dataset_alloc(out, "folder", dir, (int)pngs.n, channels, size, size, classes > 0);
    if (st != CLGAN_OK) goto fail;
    out->num_classes = classes;
    if (classes > 0) memcpy(out->y, labels, pngs.n * sizeof *labels);
    size_t per = clgan_dataset_sample_floats(out);
    for (size_t i = 0; i < pngs.n; i++) {
        st = load_one(pngs.items[i], channels, size, &r, &chw, &chw_cap, out->x + i * per);
        if (st != CLGAN_OK) goto fail;
    }
    data_resizer_free(&r);
    free(chw);
    free(labels);
    names_free(&pngs);
    names_free(&subdirs);
    return CLGAN_OK;

fail:
    data_resizer_free(&r);
    free(chw);
    free(labels);
    names_free(&pngs);
    names_free(&subdirs);
    clgan_dataset_free(out);
    return st;
}
