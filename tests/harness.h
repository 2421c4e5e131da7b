/* The C tests' one harness. cmocka runs every test: one group per
 * executable, one test per part, a part chosen by name on the command line
 * (`test_x PART` runs the tests named PART; tests/meson.build registers each
 * part as its own test). On top of cmocka's assert_* (which stop the test):
 *
 *   CHECK(cond, fmt, ...)  records a failure, prints "FAIL file:line: ..." and
 *                          goes on: for sweeps over devices, ops and cases,
 *                          which report every case;
 *   OK(fmt, ...)           prints an "ok   ..." line for a case that passed;
 *   EXPECT(ok, fmt, ...)   either of the two, for a sweep's row;
 *   MUST(call)             a library call that must return CLGAN_OK, else the
 *                          test fails at once with the library's message.
 *
 * A part is a plain `void part(void)`; harness_main runs each under cmocka
 * and fails it when any CHECK inside failed. A test that needs what is
 * absent (a device, a tool, a file) exits TEST_SKIP (77) before the group
 * runs, so it is counted skipped, never passed. */
#ifndef CLGAN_TEST_HARNESS_H
#define CLGAN_TEST_HARNESS_H

#include "clgan/core.h"

#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TEST_SKIP 77 /* meson counts exit 77 as skipped */

/* failed CHECKs in the running part */
static int failures;

#define CHECK(cond, ...)                                         \
    do {                                                         \
        if (!(cond)) {                                           \
            failures++;                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fputc('\n', stderr);                                 \
        }                                                        \
    } while (0)

#define OK(...)                  \
    do {                         \
        fputs("ok   ", stdout);  \
        printf(__VA_ARGS__);     \
        fputc('\n', stdout);     \
    } while (0)

/* a case's row: an "ok" line when it passed, else a FAIL line (a CHECK) */
#define EXPECT(ok, ...)                  \
    do {                                 \
        bool expect_ok_ = (ok);          \
        CHECK(expect_ok_, __VA_ARGS__);  \
        if (expect_ok_) OK(__VA_ARGS__); \
    } while (0)

/* a library call that must succeed; otherwise the part cannot go on */
#define MUST(call)                                                                                          \
    do {                                                                                                    \
        clgan_status must_st_ = (call);                                                                     \
        if (must_st_ != CLGAN_OK)                                                                           \
            fail_msg("%s:%d: %s: %s: %s", __FILE__, __LINE__, #call, clgan_status_name(must_st_),            \
                     clgan_last_error());                                                                   \
    } while (0)

/* Skips the running part: says why and exits TEST_SKIP (meson runs one part per process). */
static inline void harness_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void harness_skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(": skipped\n", stderr);
    exit(TEST_SKIP);
}

typedef struct {
    const char *name;
    void (*run)(void);
} harness_part;

static void harness_trampoline(void **state) {
    const harness_part *p = *state;
    failures = 0;
    p->run();
    if (failures) fail_msg("%s: %d check(s) failed", p->name, failures);
}

/* Runs the parts (all of them, or those named by argv[1]) under cmocka;
 * returns the exit status: 0 when every part passed, 1 otherwise, 2 for an
 * unknown part name. */
static inline int harness_main(int argc, char **argv, const char *group, const harness_part *parts, size_t n) {
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    if (!tests) return 1;
    const char *only = argc > 1 ? argv[1] : NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (only && strcmp(only, parts[i].name) != 0) continue;
        tests[k++] = (struct CMUnitTest){parts[i].name, harness_trampoline, NULL, NULL, (void *)&parts[i]};
    }
    if (k == 0) {
        fprintf(stderr, "usage: %s [PART]; parts:", argv[0]);
        for (size_t i = 0; i < n; i++) fprintf(stderr, " %s", parts[i].name);
        fputc('\n', stderr);
        free(tests);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int failed = _cmocka_run_group_tests(group, tests, k, NULL, NULL);
    free(tests);
    return failed ? 1 : 0;
}

#endif
