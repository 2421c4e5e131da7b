/* A program outside the tree: only the public headers (include/ alone on the
 * include path) and the shared library libclgan.so. It opens the reference
 * device, builds, compiles and runs y = sum(2 x + 1) over x = 0..9 and checks
 * 100, so the headers are self-contained and what they declare is exported. */
#include <clgan/graph.h>
#include <clgan/runtime.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    clgan_device_list l;
    if (clgan_devices_enumerate(&l) != CLGAN_OK) return fprintf(stderr, "FAIL enumerate: %s\n", clgan_last_error()), 1;
    int ref = -1;
    if (clgan_device_choose(&l, "ref", &ref) != CLGAN_OK) return fprintf(stderr, "FAIL no ref device\n"), 1;
    clgan_device *d = NULL;
    if (clgan_device_open(&l.items[ref], NULL, &d) != CLGAN_OK)
        return fprintf(stderr, "FAIL open ref: %s\n", clgan_last_error()), 1;
    clgan_graph *g = clgan_graph_new();
    int shape[1] = {10};
    clgan_node x = clgan_input(g, "x", 1, shape);
    clgan_node y = clgan_sum(g, clgan_affine(g, x, 2.0f, 1.0f));
    clgan_graph_keep(g, y);
    float host[10], out = 0;
    for (int i = 0; i < 10; i++) host[i] = (float)i;
    clgan_status st = clgan_graph_compile(g, d);
    if (st == CLGAN_OK) st = clgan_graph_write(g, x, host);
    if (st == CLGAN_OK) st = clgan_graph_run(g, 0);
    if (st == CLGAN_OK) st = clgan_graph_read(g, y, &out);
    if (st != CLGAN_OK) fprintf(stderr, "FAIL graph: %s\n", clgan_last_error());
    clgan_graph_free(g);
    clgan_device_close(d);
    clgan_device_list_free(&l);
    if (st != CLGAN_OK) return 1;
    printf("%s clgan %s through the public API: sum(2x + 1) over 0..9 = %g (expected 100)\n",
           out == 100.0f ? "ok  " : "FAIL", clgan_version(), (double)out);
    return out == 100.0f ? 0 : 1;
}
