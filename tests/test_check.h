/* The tests that run the clgan binary: cli() runs "$CLGAN_BIN ARGS" and
 * expect_cli() checks its exit status and output (a CHECK of tests/harness.h). */
#ifndef CLGAN_TEST_CHECK_H
#define CLGAN_TEST_CHECK_H

#include "harness.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

enum { OUT_CAP = 1 << 16 };

/* Runs "$CLGAN_BIN <args>" through sh (args is shell text; paths are quoted
 * by the caller) with stdout and stderr into out (may be NULL); returns the
 * exit status: a crash shows as 128 + the signal, or -1. */
static inline int cli(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int cli(char *out, const char *fmt, ...) {
    const char *bin = getenv("CLGAN_BIN");
    if (!bin || !*bin) {
        fprintf(stderr, "CLGAN_BIN is not set (run through meson test)\n");
        exit(1);
    }
    char args[4096], cmd[6000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", bin, args);
    FILE *p = popen(cmd, "r");
    if (!p) {
        perror("popen");
        exit(1);
    }
    /* read to the end even past OUT_CAP, so the child never blocks on a full pipe */
    size_t n = 0;
    char sink[4096];
    for (;;) {
        bool keep = out && n < OUT_CAP - 1;
        size_t k = fread(keep ? out + n : sink, 1, keep ? OUT_CAP - 1 - n : sizeof sink, p);
        if (k == 0) break;
        if (keep) n += k;
    }
    if (out) out[n] = 0;
    int w = pclose(p);
    return WIFEXITED(w) ? WEXITSTATUS(w) : -1;
}

/* "clgan ARGS" must exit with `rc` and print text containing each of the
 * NULL-terminated needles */
static inline void expect_cli(int rc, const char *const *needles, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static inline void expect_cli(int rc, const char *const *needles, const char *fmt, ...) {
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    static char out[OUT_CAP];
    int got = cli(out, "%s", args);
    /* sanitizers exit with status 1 too: their reports must not pass for an error message */
    bool ok = got == rc && !strstr(out, "Sanitizer") && !strstr(out, "runtime error:");
    for (int i = 0; needles && needles[i]; i++)
        if (!strstr(out, needles[i])) ok = false;
    CHECK(ok, "clgan %s: expected exit %d and output containing the expected text; got exit %d:\n%s", args, rc, got,
          out);
    if (ok) OK("clgan %.160s -> %d", args, rc);
}

#endif
