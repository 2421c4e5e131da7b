/* The `ref` backend: buffers are host memory; ops run the plain-C reference. */
#include "runtime/device_impl.h"

#include <stdlib.h>
#include <string.h>

static clgan_status ref_alloc(clgan_device *d, size_t bytes, clgan_buffer *b) {
    (void)d;
    b->host = calloc(1, bytes ? bytes : 1);
    if (!b->host)
        return CLGAN_ERR(CLGAN_ERR_DEVICE_OOM,
                         "device ref: could not allocate %zu bytes (%.1f MiB) of host memory "
                         "(%.1f MiB already allocated)",
                         bytes, (double)bytes / 1048576.0, (double)d->allocated / 1048576.0);
    return CLGAN_OK;
}

static void ref_free(clgan_buffer *b) { free(b->host); }

static clgan_status ref_write(clgan_buffer *b, size_t off, const void *src, size_t n) {
    memcpy((char *)b->host + off, src, n);
    return CLGAN_OK;
}

static clgan_status ref_read(const clgan_buffer *b, size_t off, void *dst, size_t n) {
    memcpy(dst, (const char *)b->host + off, n);
    return CLGAN_OK;
}

static clgan_status ref_copy(clgan_buffer *dst, size_t doff, const clgan_buffer *src, size_t soff, size_t n) {
    memmove((char *)dst->host + doff, (const char *)src->host + soff, n);
    return CLGAN_OK;
}

const clgan_backend_ops clgan_ref_ops = {
    .buffer_alloc = ref_alloc,
    .buffer_free = ref_free,
    .buffer_write = ref_write,
    .buffer_read = ref_read,
    .buffer_copy = ref_copy,
};
