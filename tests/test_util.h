/* Helpers shared by the C tests. */
#ifndef CLGAN_TEST_UTIL_H
#define CLGAN_TEST_UTIL_H

#include "clgan/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_SKIP 77 /* meson counts exit 77 as skipped */

/* The first OpenCL device in the list, or -1. */
static inline int test_first_opencl(const clgan_device_list *l) {
    for (int i = 0; i < l->count; i++)
        if (l->items[i].backend == CLGAN_BACKEND_OPENCL) return i;
    return -1;
}

/* Exits 77 when no OpenCL device exists: such a test is skipped, never passed. */
static inline void test_require_opencl(void) {
    clgan_device_list l;
    if (clgan_devices_enumerate(&l) != CLGAN_OK) {
        fprintf(stderr, "cannot enumerate devices: %s\n", clgan_last_error());
        exit(1);
    }
    int i = test_first_opencl(&l);
    if (i < 0) fprintf(stderr, "no OpenCL device (%s): skipping\n", l.opencl_note);
    clgan_device_list_free(&l);
    if (i < 0) exit(TEST_SKIP);
}

/* A fresh temporary directory (removed by test_rmdir). */
static inline void test_tmpdir(char *out, size_t cap) {
    snprintf(out, cap, "/tmp/clgan-test-XXXXXX");
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline void test_rmdir(const char *dir) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

#endif
