/* Parameter blocks: every parameter of a model in one device buffer. */
#include "autograd/graph_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entries start on 16-float boundaries so each is aligned for vector loads. */
#define PARAM_ALIGN 16

clgan_params *clgan_params_new(const char *name) {
    clgan_params *p = calloc(1, sizeof *p);
    if (p) snprintf(p->name, sizeof p->name, "%s", name ? name : "params");
    return p;
}

void clgan_params_free(clgan_params *p) {
    if (!p) return;
    clgan_buffer_free(p->values);
    clgan_buffer_free(p->grads);
    free(p->e);
    free(p);
}

int clgan_params_find(const clgan_params *p, const char *name) {
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->e[i].name, name) == 0) return i;
    return -1;
}

int clgan_params_declare(clgan_params *p, const char *name, int ndim, const int *shape, int init, float std,
                         bool trainable) {
    int i = clgan_params_find(p, name);
    if (i >= 0) {
        const clgan_param_entry *e = &p->e[i];
        if (e->ndim != ndim || memcmp(e->shape, shape, sizeof(int) * (size_t)ndim) != 0) {
            CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter %s redeclared with another shape", name);
            return -1;
        }
        return i;
    }
    if (p->values) {
        CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter %s declared after block %s was allocated", name, p->name);
        return -1;
    }
    if (ndim < 1 || ndim > CLGAN_MAX_DIMS) {
        CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter %s: rank %d", name, ndim);
        return -1;
    }
    /* limits no real model reaches, checked before anything is sized from them */
    size_t numel = 1;
    for (int k = 0; k < ndim; k++) {
        if (shape[k] < 1) {
            CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter %s: dimension %d is %d", name, k, shape[k]);
            return -1;
        }
        if ((size_t)shape[k] > CLGAN_PARAMS_MAX_ENTRY / numel) {
            char dims[96];
            clgan_shape_str(ndim, shape, dims, sizeof dims);
            CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter %s of shape %s: more than the %zu elements one parameter may have",
                      name, dims, CLGAN_PARAMS_MAX_ENTRY);
            return -1;
        }
        numel *= (size_t)shape[k];
    }
    if (p->total + numel + PARAM_ALIGN > CLGAN_PARAMS_MAX_BLOCK) {
        CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter %s: block %s would hold more than %zu floats", name, p->name,
                  CLGAN_PARAMS_MAX_BLOCK);
        return -1;
    }
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        clgan_param_entry *g = realloc(p->e, (size_t)cap * sizeof *g);
        if (!g) {
            CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
            return -1;
        }
        p->e = g;
        p->cap = cap;
    }
    clgan_param_entry *e = &p->e[p->count];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ndim = ndim;
    e->numel = 1;
    for (int k = 0; k < ndim; k++) {
        e->shape[k] = shape[k];
        e->numel *= (size_t)shape[k];
    }
    e->init = init;
    e->std = std;
    e->trainable = trainable;
    e->off = p->total;
    p->total += (e->numel + PARAM_ALIGN - 1) / PARAM_ALIGN * PARAM_ALIGN;
    return p->count++;
}

int clgan_params_count(const clgan_params *p) { return p->count; }
const char *clgan_params_name(const clgan_params *p, int i) { return p->e[i].name; }
void clgan_params_shape(const clgan_params *p, int i, int *ndim, int *shape) {
    *ndim = p->e[i].ndim;
    memcpy(shape, p->e[i].shape, sizeof(int) * (size_t)p->e[i].ndim);
}
size_t clgan_params_offset(const clgan_params *p, int i) { return p->e[i].off; }
bool clgan_params_trainable(const clgan_params *p, int i) { return p->e[i].trainable; }
size_t clgan_params_total(const clgan_params *p) { return p->total; }
clgan_buffer *clgan_params_values(const clgan_params *p) { return p->values; }
clgan_buffer *clgan_params_grads(const clgan_params *p) { return p->grads; }

/* FNV-1a of the name: an entry's random stream depends on its name, not on
 * the order entries were declared in. */
static uint64_t name_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

clgan_status clgan_params_alloc(clgan_params *p, clgan_device *d, uint64_t seed) {
    if (p->values) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "parameter block %s is already allocated", p->name);
    size_t total = p->total ? p->total : 1;
    float *host = calloc(total, sizeof *host);
    if (!host) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %zu parameters", total);
    for (int i = 0; i < p->count; i++) {
        clgan_param_entry *e = &p->e[i];
        float *v = host + e->off;
        switch (e->init) {
        case CLGAN_INIT_ONES:
            for (size_t k = 0; k < e->numel; k++) v[k] = 1.0f;
            break;
        case CLGAN_INIT_NORMAL:
        case CLGAN_INIT_NORMAL_ONE:
            clgan_rng_normal(seed, name_hash(e->name), v, e->numel);
            for (size_t k = 0; k < e->numel; k++) v[k] = v[k] * e->std + (e->init == CLGAN_INIT_NORMAL_ONE ? 1.0f : 0.0f);
            break;
        case CLGAN_INIT_UNIFORM:
            clgan_rng_uniform(seed, name_hash(e->name), v, e->numel);
            for (size_t k = 0; k < e->numel; k++) v[k] = (2.0f * v[k] - 1.0f) * e->std;
            break;
        default:
            break;
        }
    }
    clgan_status st = clgan_buffer_alloc(d, total * sizeof(float), &p->values);
    if (st == CLGAN_OK) st = clgan_buffer_alloc(d, total * sizeof(float), &p->grads);
    if (st == CLGAN_OK) st = clgan_buffer_write(p->values, 0, host, total * sizeof(float));
    free(host);
    if (st != CLGAN_OK) {
        clgan_buffer_free(p->values);
        clgan_buffer_free(p->grads);
        p->values = p->grads = NULL;
        return clgan_error_context(st, "parameters %s: ", p->name);
    }
    p->dev = d;
    return CLGAN_OK;
}

clgan_status clgan_params_read(const clgan_params *p, int i, float *host) {
    return clgan_buffer_read(p->values, p->e[i].off * sizeof(float), host, p->e[i].numel * sizeof(float));
}

clgan_status clgan_params_write(clgan_params *p, int i, const float *host) {
    return clgan_buffer_write(p->values, p->e[i].off * sizeof(float), host, p->e[i].numel * sizeof(float));
}
