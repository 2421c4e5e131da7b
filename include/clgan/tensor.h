/* clgan tensors: f32, up to 4-D (NCHW), a view of a buffer on one device. */
#ifndef CLGAN_TENSOR_H
#define CLGAN_TENSOR_H

#include "clgan/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

#define CLGAN_MAX_DIMS 4

typedef struct {
    int ndim;
    int shape[CLGAN_MAX_DIMS];
    clgan_buffer *buf;
    size_t offset; /* in elements */
    bool owns_buf;
} clgan_tensor;

size_t clgan_shape_numel(int ndim, const int *shape);
size_t clgan_tensor_numel(const clgan_tensor *t);
/* "(64, 1, 28, 28)" */
void clgan_shape_str(int ndim, const int *shape, char *out, size_t cap);

/* A new zeroed tensor with its own buffer on d. */
clgan_status clgan_tensor_new(clgan_device *d, int ndim, const int *shape, clgan_tensor **out);
/* A view into an existing buffer (not owned). */
clgan_status clgan_tensor_view(clgan_buffer *b, size_t offset, int ndim, const int *shape, clgan_tensor **out);
void clgan_tensor_free(clgan_tensor *t);

clgan_status clgan_tensor_write(clgan_tensor *t, const float *src); /* numel floats from the host */
clgan_status clgan_tensor_read(const clgan_tensor *t, float *dst);  /* numel floats to the host */
/* Same shape; dst and src may be on different devices. */
clgan_status clgan_tensor_copy(clgan_tensor *dst, const clgan_tensor *src);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
