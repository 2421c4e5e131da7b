/* Atomic file replacement: write a temporary file in the target's folder,
 * flush and fsync it, rename it over the target, fsync the folder. A crash
 * or an error at any point leaves either the old file or the new one, never
 * a torn mix; rename(2) is atomic only within one file system, hence the
 * temporary file lives next to the target rather than in /tmp. */
#include "clgan/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Temporary names are "<path>.tmp.<pid>.<n>"; n is retried because another
 * thread of this process may be writing the same path at the same time. */
enum { TMP_TRIES = 100, TMP_SUFFIX_MAX = 48 };

/* The folder holding `path` ("." for a bare name), as a new string. */
static char *parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    size_t n = (size_t)(slash - path);
    if (n == 0) n = 1; /* "/name" lives in "/" */
    char *dir = malloc(n + 1);
    if (!dir) return NULL;
    memcpy(dir, path, n);
    dir[n] = 0;
    return dir;
}

/* fsync on a folder makes the rename durable. Some file systems refuse
 * fsync on folders (EINVAL); there is nothing more to do on those. */
static clgan_status sync_dir(const char *path, const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: written, but cannot open folder %s to sync it: %s", path, dir,
                         strerror(errno));
    clgan_status st = CLGAN_OK;
    if (fsync(fd) != 0 && errno != EINVAL)
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: written, but fsync of folder %s failed (the rename may not be durable): %s",
                       path, dir, strerror(errno));
    close(fd);
    return st;
}

clgan_status clgan_atomic_write(const char *path, clgan_fill_fn fill, void *ctx) {
    if (!path || !*path || !fill)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "atomic write: %s", !fill ? "no fill function" : "empty path");
    size_t plen = strlen(path);
    if (path[plen - 1] == '/') return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: expected a file name, not a folder", path);

    clgan_status st = CLGAN_OK;
    char *tmp = malloc(plen + TMP_SUFFIX_MAX);
    char *dir = parent_dir(path);
    int fd = -1;
    FILE *f = NULL;
    bool created = false;
    if (!tmp || !dir) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of memory preparing atomic write", path);
        goto fail;
    }

    for (int n = 0; n < TMP_TRIES; n++) {
        snprintf(tmp, plen + TMP_SUFFIX_MAX, "%s.tmp.%ld.%d", path, (long)getpid(), n);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST) break;
    }
    if (fd < 0) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
        goto fail;
    }
    created = true;
    f = fdopen(fd, "wb");
    if (!f) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: fdopen of temporary file %s failed: %s", path, tmp, strerror(errno));
        close(fd);
        goto fail;
    }

    st = fill(f, ctx);
    if (st != CLGAN_OK) goto fail;
    errno = 0;
    if (fflush(f) != 0 || ferror(f)) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: writing temporary file %s failed: %s", path, tmp,
                       errno ? strerror(errno) : "stream error");
        goto fail;
    }
    if (fsync(fileno(f)) != 0) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: fsync of temporary file %s failed: %s", path, tmp, strerror(errno));
        goto fail;
    }
    int rc = fclose(f);
    f = NULL;
    if (rc != 0) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: closing temporary file %s failed: %s", path, tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot rename temporary file %s over it: %s", path, tmp, strerror(errno));
        goto fail;
    }
    created = false;
    st = sync_dir(path, dir);

fail:
    if (f) fclose(f);
    if (created) unlink(tmp);
    free(tmp);
    free(dir);
    return st;
}
