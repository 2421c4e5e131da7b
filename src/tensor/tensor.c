/* Tensors: shape bookkeeping over device buffers. */
#include "clgan/tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t clgan_shape_numel(int ndim, const int *shape) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    return n;
}

size_t clgan_tensor_numel(const clgan_tensor *t) { return clgan_shape_numel(t->ndim, t->shape); }

void clgan_shape_str(int ndim, const int *shape, char *out, size_t cap) {
    size_t len = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? ", " : "", shape[i]);
    if (len < cap) snprintf(out + len, cap - len, ")");
}

static clgan_status check_shape(int ndim, const int *shape) {
    if (ndim < 0 || ndim > CLGAN_MAX_DIMS)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "tensor rank %d outside 0..%d", ndim, CLGAN_MAX_DIMS);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "tensor dimension %d is %d, expected > 0", i, shape[i]);
        if (n > SIZE_MAX / sizeof(float) / (size_t)shape[i])
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "tensor size overflows");
        n *= (size_t)shape[i];
    }
    return CLGAN_OK;
}

static clgan_tensor *make(int ndim, const int *shape) {
    clgan_tensor *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    return t;
}

clgan_status clgan_tensor_new(clgan_device *d, int ndim, const int *shape, clgan_tensor **out) {
    clgan_status st = check_shape(ndim, shape);
    if (st != CLGAN_OK) return st;
    clgan_tensor *t = make(ndim, shape);
    if (!t) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    st = clgan_buffer_alloc(d, clgan_shape_numel(ndim, shape) * sizeof(float), &t->buf);
    if (st != CLGAN_OK) {
        char s[64];
        clgan_shape_str(ndim, shape, s, sizeof s);
        clgan_error_context(st, "tensor %s: ", s);
        free(t);
        return st;
    }
    t->owns_buf = true;
    *out = t;
    return CLGAN_OK;
}

clgan_status clgan_tensor_view(clgan_buffer *b, size_t offset, int ndim, const int *shape, clgan_tensor **out) {
    clgan_status st = check_shape(ndim, shape);
    if (st != CLGAN_OK) return st;
    size_t n = clgan_shape_numel(ndim, shape);
    if (offset > clgan_buffer_size(b) / sizeof(float) || n > clgan_buffer_size(b) / sizeof(float) - offset)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "view of %zu floats at %zu outside a %zu-byte buffer", n, offset,
                         clgan_buffer_size(b));
    clgan_tensor *t = make(ndim, shape);
    if (!t) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    t->buf = b;
    t->offset = offset;
    *out = t;
    return CLGAN_OK;
}

void clgan_tensor_free(clgan_tensor *t) {
    if (!t) return;
    if (t->owns_buf) clgan_buffer_free(t->buf);
    free(t);
}

clgan_status clgan_tensor_write(clgan_tensor *t, const float *src) {
    return clgan_buffer_write(t->buf, t->offset * sizeof(float), src, clgan_tensor_numel(t) * sizeof(float));
}

clgan_status clgan_tensor_read(const clgan_tensor *t, float *dst) {
    return clgan_buffer_read(t->buf, t->offset * sizeof(float), dst, clgan_tensor_numel(t) * sizeof(float));
}

clgan_status clgan_tensor_copy(clgan_tensor *dst, const clgan_tensor *src) {
    if (dst->ndim != src->ndim || memcmp(dst->shape, src->shape, sizeof(int) * (size_t)src->ndim) != 0) {
        char a[64], b[64];
        clgan_shape_str(dst->ndim, dst->shape, a, sizeof a);
        clgan_shape_str(src->ndim, src->shape, b, sizeof b);
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "copy between shapes %s and %s", a, b);
    }
    return clgan_buffer_copy(dst->buf, dst->offset * sizeof(float), src->buf, src->offset * sizeof(float),
                             clgan_tensor_numel(src) * sizeof(float));
}
