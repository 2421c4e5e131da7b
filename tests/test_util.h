/* Helpers shared by the C tests. */
#ifndef CLGAN_TEST_UTIL_H
#define CLGAN_TEST_UTIL_H

#include "clgan/runtime.h"

#include "harness.h"
#include "tmpdir.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Philox-4x32-10 known answers (Random123's kat_vectors): key[2] words,
 * counter[4] words, then the four output words. */
static const uint32_t test_philox_kat[3][10] = {
    {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
     0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
     0x24126ea1},
};

/* NMSE = sum (ref - got)^2 / sum ref^2 (the sum when ref is all zeros);
 * infinite when NaNs differ in place, NaN positions skipped otherwise. */
static inline double test_nmse(const float *ref, const float *got, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(ref[i]) != isnan(got[i])) return INFINITY;
        if (isnan(ref[i])) continue;
        double d = (double)ref[i] - (double)got[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    return den > 0 ? num / den : num;
}

/* The first OpenCL device in the list, or -1. */
static inline int test_first_opencl(const clgan_device_list *l) {
    for (int i = 0; i < l->count; i++)
        if (l->items[i].backend == CLGAN_BACKEND_OPENCL) return i;
    return -1;
}

/* The first OpenCL device (opencl) or ref, opened with NULL options (the
 * kernel cache is $CLGAN_CACHE_DIR, which meson's test_env sets); with no
 * OpenCL device the running part is skipped. */
static inline clgan_device *test_open_device(bool opencl) {
    clgan_device_list l;
    MUST(clgan_devices_enumerate(&l));
    int i = opencl ? test_first_opencl(&l) : l.count - 1;
    if (i < 0) {
        char note[sizeof l.opencl_note];
        snprintf(note, sizeof note, "%s", l.opencl_note);
        clgan_device_list_free(&l);
        harness_skip("no OpenCL device (%s)", note);
    }
    clgan_device *d = NULL;
    clgan_status st = clgan_device_open(&l.items[i], NULL, &d);
    clgan_device_list_free(&l);
    MUST(st);
    return d;
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

/* A fresh temporary directory (removed by test_rmdir): tests/tmpdir.h */
static inline void test_tmpdir(char *out, size_t cap) {
    if (!test_mkdtemp(out, cap, "test")) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline void test_rmdir(const char *dir) { test_rmtree(dir); }

#endif
