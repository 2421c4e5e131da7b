/* A program outside the tree: only the public headers (include/ alone on the
 * include path) and the shared library libclgan.so, with the tests' harness
 * (tests/harness.h, which needs clgan/core.h alone). It opens the reference
 * device, builds, compiles and runs y = sum(2 x + 1) over x = 0..9 and checks
 * 100, so the headers are self-contained and what they declare is exported.
 *
 *   test_public_api [sum]   (its one part) */
#include <clgan/graph.h>
#include <clgan/runtime.h>

#include "harness.h"

#include <stdio.h>
#include <string.h>

static void part_sum(void) {
    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    int ref = -1;
    MUST(clgan_device_choose(&l, "ref", &ref));
    clgan_device *d = NULL;
    MUST(clgan_device_open(&l.items[ref], NULL, &d));
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
    CHECK(st == CLGAN_OK, "graph: %s", clgan_last_error());
    clgan_graph_free(g);
    clgan_device_close(d);
    clgan_device_list_free(&l);
    if (st != CLGAN_OK) return;
    EXPECT(out == 100.0f, "clgan %s through the public API: sum(2x + 1) over 0..9 = %g (expected 100)", clgan_version(),
           (double)out);
}

int main(int argc, char **argv) {
    static const harness_part parts[] = {{"sum", part_sum}};
    return harness_main(argc, argv, "test_public_api", parts, sizeof parts / sizeof parts[0]);
}
