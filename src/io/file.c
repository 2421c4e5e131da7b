/* Whole-file reads with a size bound, for parsers that must not trust the
 * file to be small (configs, safetensors headers, fuzz inputs). */
#include "clgan/io.h"
#include "io/dir.h"

#include <dirent.h>
#include <stdio.h>
#include <strings.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *clgan_file_kind(unsigned int mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a folder";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "not a regular file";
}

clgan_status clgan_open_regular(const char *path, FILE **out, uint64_t *size) {
    if (!path || !out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "open: NULL argument");
    *out = NULL;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return CLGAN_ERR(errno == ENOENT ? CLGAN_ERR_NOT_FOUND : CLGAN_ERR_IO, "%s: cannot open: %s", path,
                         strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: is %s, not a regular file", path, clgan_file_kind(sb.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot set blocking mode: %s", path, strerror(e));
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot open a stream on it", path);
    }
    *out = f;
    if (size) *size = (uint64_t)sb.st_size;
    return CLGAN_OK;
}

clgan_status clgan_open_log(const char *path, bool append, FILE **out) {
    *out = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (append ? O_APPEND : 0), 0666);
    if (fd < 0) return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: is %s, not a regular file", path, clgan_file_kind(sb.st_mode));
    }
    /* truncate only once it is known to be a regular file */
    int flags = fcntl(fd, F_GETFL);
    if ((!append && ftruncate(fd, 0) != 0) || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot prepare for writing: %s", path, strerror(e));
    }
    FILE *f = fdopen(fd, append ? "ab" : "wb");
    if (!f) {
        close(fd);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot open a stream on it", path);
    }
    *out = f;
    return CLGAN_OK;
}


clgan_status clgan_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len) {
    if (!path || !data || !len) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "read file: NULL argument");
    *data = NULL;
    *len = 0;
    if (max_bytes >= SIZE_MAX) max_bytes = SIZE_MAX - 1; /* room for the NUL */

    clgan_status st = CLGAN_OK;
    uint8_t *buf = NULL;
    FILE *f = NULL;
    uint64_t file_size = 0;
    st = clgan_open_regular(path, &f, &file_size);
    if (st != CLGAN_OK) return st;
    if (file_size > max_bytes) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file is %llu bytes, more than the %zu accepted", path,
                       (unsigned long long)file_size, max_bytes);
        goto fail;
    }
    size_t size = (size_t)file_size;
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

clgan_status clgan_make_parent_dirs(const char *file) {
    const char *slash = strrchr(file, '/');
    if (!slash || slash == file) return CLGAN_OK; /* the current folder, or / */
    char dir[4096];
    size_t n = (size_t)(slash - file);
    if (n >= sizeof dir) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "file name of %zu bytes", strlen(file));
    memcpy(dir, file, n);
    dir[n] = 0;
    return clgan_make_dirs(dir);
}

static int entry_cmp(const void *a, const void *b) {
    return strcmp(((const clgan_dir_entry *)a)->name, ((const clgan_dir_entry *)b)->name);
}

void clgan_dir_entries_free(clgan_dir_entries *e) {
    for (size_t i = 0; i < e->n; i++) {
        free(e->items[i].name);
        free(e->items[i].path);
    }
    free(e->items);
    e->items = NULL;
    e->n = 0;
}

clgan_status clgan_dir_list(const char *dir, clgan_dir_entries *out) {
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return CLGAN_ERR(errno == ENOENT ? CLGAN_ERR_NOT_FOUND : CLGAN_ERR_IO, "%s: cannot open folder: %s", dir,
                         strerror(errno));
    clgan_status st = CLGAN_OK;
    size_t cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0) st = CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot read folder: %s", dir, strerror(errno));
            break;
        }
        if (e->d_name[0] == '.') continue;
        if (out->n == cap) {
            size_t grown_cap = cap ? 2 * cap : 64;
            clgan_dir_entry *g = realloc(out->items, grown_cap * sizeof *g);
            if (!g) {
                st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of host memory listing the folder", dir);
                break;
            }
            out->items = g;
            cap = grown_cap;
        }
        size_t nlen = strlen(e->d_name), plen = strlen(dir) + 1 + nlen;
        clgan_dir_entry *it = &out->items[out->n];
        it->name = malloc(nlen + 1);
        it->path = malloc(plen + 1);
        if (!it->name || !it->path) {
            free(it->name);
            free(it->path);
            st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of host memory listing the folder", dir);
            break;
        }
        memcpy(it->name, e->d_name, nlen + 1);
        snprintf(it->path, plen + 1, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(it->path, &sb) != 0) {
            it->kind = CLGAN_ENTRY_UNREADABLE;
            it->mode = 0;
        } else {
            it->kind = S_ISREG(sb.st_mode) ? CLGAN_ENTRY_FILE : S_ISDIR(sb.st_mode) ? CLGAN_ENTRY_DIR : CLGAN_ENTRY_OTHER;
            it->mode = (unsigned int)sb.st_mode;
        }
        out->n++;
    }
    closedir(d);
    if (st != CLGAN_OK) {
        clgan_dir_entries_free(out);
        return st;
    }
    if (out->n > 1) qsort(out->items, out->n, sizeof *out->items, entry_cmp);
    return CLGAN_OK;
}

bool clgan_is_png_name(const char *name) {
    size_t len = strlen(name);
    return len >= 5 && strcasecmp(name + len - 4, ".png") == 0;
}
