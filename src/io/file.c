/* Whole-file reads with a size bound, for parsers that must not trust the
 * file to be small (configs, safetensors headers, fuzz inputs). */
#include "clgan/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

clgan_status clgan_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len) {
    if (!path || !data || !len) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "read file: NULL argument");
    *data = NULL;
    *len = 0;
    if (max_bytes >= SIZE_MAX) max_bytes = SIZE_MAX - 1; /* room for the NUL */

    clgan_status st = CLGAN_OK;
    uint8_t *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return CLGAN_ERR(errno == ENOENT ? CLGAN_ERR_NOT_FOUND : CLGAN_ERR_IO, "%s: cannot open: %s", path,
                         strerror(errno));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: not a regular file", path);
        goto fail;
    }
    if (sb.st_size < 0 || (uintmax_t)sb.st_size > max_bytes) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file is %jd bytes, more than the %zu accepted", path,
                       (intmax_t)sb.st_size, max_bytes);
        goto fail;
    }
    size_t size = (size_t)sb.st_size;
    buf = malloc(size + 1);
    if (!buf) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it", path, size + 1);
        goto fail;
    }
    size_t got = fread(buf, 1, size, f);
    if (got != size) {
        if (ferror(f))
            st = CLGAN_ERR(CLGAN_ERR_IO, "%s: read error at byte %zu: %s", path, got, strerror(errno));
        else
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file shrank while reading: expected %zu bytes, got %zu", path, size,
                           got);
        goto fail;
    }
    buf[size] = 0;
    *data = buf;
    *len = size;
    buf = NULL;

fail:
    free(buf);
    fclose(f);
    return st;
}

clgan_status clgan_make_dirs(const char *path) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "folder name of %zu bytes", n);
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot create folder: %s", tmp, strerror(errno));
    struct stat sb;
    if (stat(tmp, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: exists and is not a folder", tmp);
    return CLGAN_OK;
}
