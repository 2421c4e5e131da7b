/* Shapes of up to 4 dimensions (NCHW): the graph's nodes, the ops' tensors
 * (src/ops/ops.h: a buffer, an offset and a shape) and the checkpoints'
 * tensors all use them. */
#ifndef CLGAN_TENSOR_H
#define CLGAN_TENSOR_H

#include "clgan/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

#define CLGAN_MAX_DIMS 4

size_t clgan_shape_numel(int ndim, const int *shape);
/* "(64, 1, 28, 28)" */
void clgan_shape_str(int ndim, const int *shape, char *out, size_t cap);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
