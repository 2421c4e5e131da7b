/* Shapes: element counts and printing, shared by the graph, the ops and
 * the device comparison. */
#include "clgan/tensor.h"

#include <stdio.h>

size_t clgan_shape_numel(int ndim, const int *shape) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    return n;
}

void clgan_shape_str(int ndim, const int *shape, char *out, size_t cap) {
    size_t len = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < ndim && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%d", i ? ", " : "", shape[i]);
    if (len < cap) snprintf(out + len, cap - len, ")");
}
