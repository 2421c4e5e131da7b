/* The tests' one scratch-folder helper: a fresh folder under $TMPDIR (else
 * /tmp), and removing a folder tree with everything in it (links removed,
 * never followed). The helper headers of the test groups (test_util.h,
 * io/io_test_util.h, data/fixtures.h) call these. */
#ifndef CLGAN_TESTS_TMPDIR_H
#define CLGAN_TESTS_TMPDIR_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* out (cap bytes) gets $TMPDIR/clgan-<tag>-XXXXXX, created empty; false on failure. */
static inline bool test_mkdtemp(char *out, size_t cap, const char *tag) {
    const char *base = getenv("TMPDIR");
    int k = snprintf(out, cap, "%s/clgan-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    return k > 0 && (size_t)k < cap && mkdtemp(out) != NULL;
}

static inline void test_rmtree(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
            size_t n = strlen(path) + strlen(e->d_name) + 2;
            char *child = malloc(n);
            if (!child) continue;
            snprintf(child, n, "%s/%s", path, e->d_name);
            test_rmtree(child);
            free(child);
        }
        closedir(d);
    }
    rmdir(path);
}

#endif
