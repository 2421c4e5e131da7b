/* Reading data files front to back, raw or gzip, with exact accounting of
 * the (decompressed) offset so format errors can say where they are. */
#include "data_internal.h"
#include "clgan/io.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* gzread takes an unsigned count; stay well inside it */
enum { GZ_CHUNK = 1 << 30 };
/* first allocation of data_file_read_alloc; doubles as data arrives */
enum { ALLOC_START = 1 << 20 };

clgan_status data_file_open(data_file *f, const char *path) {
    clgan_status st = CLGAN_OK;
    int fd = -1;
    memset(f, 0, sizeof *f);
    f->path = path;
    f->size = -1;

    uint64_t file_size = 0;
    st = clgan_open_regular(path, &f->fp, &file_size);
    if (st != CLGAN_OK) goto fail;

    uint8_t magic[2];
    size_t m = fread(magic, 1, 2, f->fp);
    if (ferror(f->fp)) {
        st = CLGAN_ERR(CLGAN_ERR_IO, "%s: read failed at offset 0: %s", path, strerror(errno));
        goto fail;
    }
    if (m == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        /* Hand zlib the descriptor we already hold (not the path again), from
         * offset 0: the FILE has buffered ahead, so reposition explicitly. */
        fd = dup(fileno(f->fp));
        if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
            st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot reopen for gzip: %s", path, strerror(errno));
            goto fail;
        }
        f->gz = gzdopen(fd, "rb");
        if (!f->gz) {
            st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot start gzip decoding", path);
            goto fail;
        }
        fd = -1; /* owned by f->gz now */
        gzbuffer(f->gz, 1 << 17);
        f->max_off = file_size > (UINT64_MAX - DATA_GZIP_SLACK) / DATA_GZIP_MAX_RATIO
                         ? UINT64_MAX
                         : file_size * DATA_GZIP_MAX_RATIO + DATA_GZIP_SLACK;
        fclose(f->fp);
        f->fp = NULL;
    } else {
        if (fseek(f->fp, 0, SEEK_SET) != 0) {
            st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
            goto fail;
        }
        f->size = (long long)file_size;
    }
    return CLGAN_OK;

fail:
    if (fd >= 0) close(fd);
    data_file_close(f);
    return st;
}

static clgan_status gz_failure(data_file *f) {
    int errnum = Z_OK;
    const char *msg = gzerror(f->gz, &errnum);
    if (errnum == Z_ERRNO)
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: read failed at decompressed offset %llu: %s", f->path,
                         (unsigned long long)f->off, strerror(errno));
    if (!msg || !*msg) msg = "unknown zlib error";
    /* zlib prefixes "<fd:N>: " (we opened by descriptor); the path is ours to give */
    if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ": ")) msg = strstr(msg, ": ") + 2;
    return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: gzip data corrupt or truncated at decompressed offset %llu: %s",
                     f->path, (unsigned long long)f->off, msg);
}

clgan_status data_file_read(data_file *f, void *buf, size_t n, size_t *got) {
    uint8_t *p = buf;
    size_t total = 0;
    *got = 0;
    if (f->fp) {
        total = fread(p, 1, n, f->fp);
        f->off += total;
        *got = total;
        if (total < n && ferror(f->fp))
            return CLGAN_ERR(CLGAN_ERR_IO, "%s: read failed at offset %llu: %s", f->path,
                             (unsigned long long)f->off, strerror(errno));
        return CLGAN_OK;
    }
    while (total < n) {
        size_t want = n - total < GZ_CHUNK ? n - total : GZ_CHUNK;
        if (f->off > f->max_off) {
            *got = total;
            return CLGAN_ERR(CLGAN_ERR_FORMAT,
                             "%s: the gzip stream decompresses to more than %llu bytes, %dx the file's size: real "
                             "image data compresses far less, so it is refused (decompress the file yourself to use "
                             "it as it is)",
                             f->path, (unsigned long long)f->max_off, DATA_GZIP_MAX_RATIO);
        }
        if ((uint64_t)want > f->max_off - f->off) want = (size_t)(f->max_off - f->off) + 1; /* one past: detect more */
        int r = gzread(f->gz, p + total, (unsigned)want);
        if (r < 0) {
            *got = total;
            return gz_failure(f);
        }
        total += (size_t)r;
        f->off += (uint64_t)r;
        if ((size_t)r < want) {
            /* zlib returns a short count, not -1, for a stream cut short
             * (Z_BUF_ERROR), so a short read is only an end after asking. */
            int errnum = Z_OK;
            gzerror(f->gz, &errnum);
            *got = total;
            if (errnum != Z_OK) return gz_failure(f);
            return CLGAN_OK;
        }
    }
    *got = total;
    return CLGAN_OK;
}

clgan_status data_file_read_alloc(data_file *f, size_t n, uint8_t **buf, size_t *got) {
    clgan_status st = CLGAN_OK;
    uint8_t *b = NULL;
    size_t have = 0;
    size_t limit = n;
    *buf = NULL;
    *got = 0;
    if (f->size >= 0) {
        /* a raw file's size is known: never allocate past what it holds */
        uint64_t left = (uint64_t)f->size > f->off ? (uint64_t)f->size - f->off : 0;
        if (left < limit) limit = (size_t)left;
    }
    size_t cap = limit < ALLOC_START ? limit : ALLOC_START;
    b = malloc(cap ? cap : 1);
    if (!b) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes", f->path, cap);
        goto fail;
    }
    for (;;) {
        size_t r = 0;
        st = data_file_read(f, b + have, cap - have, &r);
        if (st != CLGAN_OK) goto fail;
        have += r;
        if (have < cap || cap == limit) break;
        size_t next = cap <= limit / 2 ? cap * 2 : limit;
        uint8_t *nb = realloc(b, next);
        if (!nb) {
            st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes at offset %llu", f->path, next,
                           (unsigned long long)f->off);
            goto fail;
        }
        b = nb;
        cap = next;
    }
    *buf = b;
    *got = have;
    return CLGAN_OK;

fail:
    free(b);
    return st;
}

clgan_status data_file_at_end(data_file *f, bool *end) {
    uint8_t probe;
    size_t r = 0;
    *end = false;
    clgan_status st = data_file_read(f, &probe, 1, &r);
    if (st != CLGAN_OK) return st;
    if (r == 1) {
        f->off--; /* report the offset where the extra data starts */
        return CLGAN_OK;
    }
    *end = true;
    return CLGAN_OK;
}

void data_file_close(data_file *f) {
    if (f->fp) fclose(f->fp);
    if (f->gz) gzclose_r(f->gz);
    f->fp = NULL;
    f->gz = NULL;
}

bool data_mul_size(size_t a, size_t b, size_t *out) {
    if (b != 0 && a > SIZE_MAX / b) return false;
    *out = a * b;
    return true;
}

void data_u8_to_unit(const uint8_t *src, size_t n, float *dst) {
    float lut[256];
    for (int p = 0; p < 256; p++) lut[p] = (float)p / 127.5f - 1.0f;
    for (size_t i = 0; i < n; i++) dst[i] = lut[src[i]];
}

clgan_status data_dataset_alloc(clgan_dataset *ds, const char *name, const char *source, int n, int c, int h, int w,
                                bool labelled) {
    clgan_status st = CLGAN_OK;
    size_t per = 0, total = 0, bytes = 0;
    if (!source) source = name;
    if (n <= 0 || c <= 0 || h <= 0 || w <= 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: shape %d x %d x %d x %d has an empty dimension", source, n, c, h,
                         w);
    if (!data_mul_size((size_t)c, (size_t)h, &per) || !data_mul_size(per, (size_t)w, &per) ||
        !data_mul_size(per, (size_t)n, &total) || !data_mul_size(total, sizeof(float), &bytes))
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: %d x %d x %d x %d floats do not fit in memory", source, n, c, h, w);
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
    if (phys && (uint64_t)bytes > phys)
        return CLGAN_ERR(CLGAN_ERR_NOMEM,
                         "%s: %d samples of %d x %d x %d need %.1f MiB as floats, more than this machine's %.1f MiB of "
                         "memory",
                         source, n, c, h, w, (double)bytes / 1048576.0, (double)phys / 1048576.0);
    snprintf(ds->name, sizeof ds->name, "%s", name);
    ds->x = malloc(bytes);
    if (!ds->x) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes for %d samples", source, bytes, n);
        goto fail;
    }
    if (labelled) {
        ds->y = malloc((size_t)n * sizeof(int32_t));
        if (!ds->y) {
            st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %d labels", source, n);
            goto fail;
        }
    }
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    return CLGAN_OK;

fail:
    clgan_dataset_free(ds);
    return st;
}
