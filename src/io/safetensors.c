/* safetensors: the checkpoint format (https://github.com/huggingface/safetensors).
 *
 *   file = u64 little-endian N | N bytes of JSON header | data buffer
 *   header = {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
 *             ..., "__metadata__": {"key": "string", ...}}
 * Offsets count from the start of the data buffer. Tensor bytes are stored
 * little-endian, as on every host clgan runs on.
 *
 * Files come from outside (downloaded checkpoints), so the reader checks
 * every rule of the format before handing out a pointer: no length in the
 * file is used before it has been compared with the real file size. */
#include "clgan/io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *name;
    size_t size;
} dtype_info[] = {
    [CLGAN_DT_F32] = {"F32", 4},  [CLGAN_DT_F64] = {"F64", 8},   [CLGAN_DT_F16] = {"F16", 2},
    [CLGAN_DT_BF16] = {"BF16", 2}, [CLGAN_DT_I64] = {"I64", 8},  [CLGAN_DT_I32] = {"I32", 4},
    [CLGAN_DT_I16] = {"I16", 2},  [CLGAN_DT_I8] = {"I8", 1},     [CLGAN_DT_U64] = {"U64", 8},
    [CLGAN_DT_U32] = {"U32", 4},  [CLGAN_DT_U16] = {"U16", 2},   [CLGAN_DT_U8] = {"U8", 1},
    [CLGAN_DT_BOOL] = {"BOOL", 1},
};
_Static_assert(sizeof dtype_info / sizeof dtype_info[0] == CLGAN_DT_COUNT, "every clgan_dtype needs a name and size");

#define DTYPE_LIST "F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL"

size_t clgan_dtype_size(clgan_dtype dt) {
    if ((int)dt < 0 || dt >= CLGAN_DT_COUNT) return 0;
    return dtype_info[dt].size;
}

const char *clgan_dtype_name(clgan_dtype dt) {
    if ((int)dt < 0 || dt >= CLGAN_DT_COUNT) return "?";
    return dtype_info[dt].name;
}

static bool dtype_lookup(const char *s, size_t len, clgan_dtype *out) {
    for (int i = 0; i < CLGAN_DT_COUNT; i++) {
        if (strlen(dtype_info[i].name) == len && memcmp(dtype_info[i].name, s, len) == 0) {
            *out = (clgan_dtype)i;
            return true;
        }
    }
    return false;
}

clgan_status clgan_dtype_parse(const char *name, clgan_dtype *out) {
    if (!name || !out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "dtype parse: NULL argument");
    if (!dtype_lookup(name, strlen(name), out))
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "unknown dtype \"%s\" (expected one of " DTYPE_LIST ")", clgan_esc(name));
    return CLGAN_OK;
}

/* "[2, 3, 4]" (truncated with "..." if it does not fit) */
static void format_shape(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t n = 0;
    n += (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (n < cap) snprintf(out + n, cap - n, "]");
}

/* nelem * size in bytes; false on overflow. A zero dimension makes the
 * tensor empty whatever the others are. */
static bool shape_bytes(int ndim, const int64_t *shape, size_t elem_size, uint64_t *out) {
    uint64_t n = 1;
    bool overflow = false;
    for (int i = 0; i < ndim; i++) {
        uint64_t d = (uint64_t)shape[i];
        if (d == 0) {
            *out = 0;
            return true;
        }
        if (n > UINT64_MAX / d) overflow = true;
        n *= d;
    }
    if (overflow || n > UINT64_MAX / elem_size || n * elem_size > SIZE_MAX) return false;
    *out = n * elem_size;
    return true;
}

/* ------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------ */

struct clgan_st_file {
    char *path;
    clgan_json *header;       /* tensor names and metadata point into it */
    const clgan_json *meta;   /* the __metadata__ object, or NULL */
    uint8_t *data;            /* the data buffer (malloc: 16-byte aligned) */
    size_t data_len;
    clgan_st_tensor *tensors; /* count, in data-offset order */
    void **copies;            /* count; aligned copies of misaligned tensors, or NULL */
    const clgan_st_tensor **by_name; /* count, sorted by name for bsearch */
    int count;
};

void clgan_st_close(clgan_st_file *f) {
    if (!f) return;
    if (f->copies)
        for (int i = 0; i < f->count; i++) free(f->copies[i]);
    free(f->copies);
    free(f->by_name);
    free(f->tensors);
    free(f->data);
    clgan_json_free(f->header);
    free(f->path);
    free(f);
}

/* A tensor being validated, with its offsets kept for sorting. */
typedef struct {
    const clgan_json *member;
    clgan_dtype dtype;
    int ndim;
    int64_t shape[CLGAN_ST_MAX_NDIM];
    uint64_t begin, end;
} st_entry;

static int cmp_entry_offset(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp((*(const clgan_st_tensor *const *)a)->name, (*(const clgan_st_tensor *const *)b)->name);
}

static bool has_nul(const char *s, size_t len) { return strlen(s) != len; }

/* Exact key comparison: "dtype\u0000x" is not "dtype". */
static bool key_is(const clgan_json *m, const char *key) {
    return m->key_length == strlen(key) && memcmp(m->key, key, m->key_length) == 0;
}

/* Non-negative integer literal (offsets and dimensions must be exact). */
static bool json_uint(const clgan_json *v, uint64_t *out) {
    if (!v || v->kind != CLGAN_JSON_NUMBER || !v->is_integer || v->integer < 0) return false;
    *out = (uint64_t)v->integer;
    return true;
}

static const char *json_found(const clgan_json *v, char *buf, size_t cap) {
    if (v->kind == CLGAN_JSON_NUMBER) {
        snprintf(buf, cap, "%.17g", v->number);
        return buf;
    }
    if (v->kind == CLGAN_JSON_STRING) {
        snprintf(buf, cap, "\"%.40s\"", v->string);
        return buf;
    }
    return clgan_json_kind_name(v->kind);
}

static clgan_status check_metadata(const char *path, const clgan_json *m) {
    if (m->kind == CLGAN_JSON_NULL) return CLGAN_OK; /* serde writes a missing Option as null */
    if (m->kind != CLGAN_JSON_OBJECT)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ is %s (expected an object of strings)", path,
                         clgan_json_kind_name(m->kind));
    for (size_t i = 0; i < m->count; i++) {
        const clgan_json *v = &m->items[i];
        char found[64];
        if (has_nul(v->key, v->key_length))
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ key number %zu contains a NUL byte", path, i + 1);
        if (v->kind != CLGAN_JSON_STRING)
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ \"%s\" is %s (expected a string)", path, clgan_esc(v->key),
                             json_found(v, found, sizeof found));
        if (has_nul(v->string, v->length))
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ \"%s\" contains a NUL byte (expected a C string)",
                             path, clgan_esc(v->key));
    }
    return CLGAN_OK;
}

/* Checks one tensor entry on its own: fields, dtype, shape, offsets, size. */
static clgan_status check_tensor(const char *path, const clgan_json *m, size_t data_len, st_entry *e) {
    const char *name = m->key;
    char found[64];
    if (has_nul(m->key, m->key_length))
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: a tensor name contains a NUL byte (\"%s\" before it)", path,
                         clgan_esc(m->key));
    if (m->kind != CLGAN_JSON_OBJECT)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\" is %s (expected an object with dtype, shape and "
                         "data_offsets)", path, clgan_esc(name), clgan_json_kind_name(m->kind));
    for (size_t i = 0; i < m->count; i++) {
        const clgan_json *fld = &m->items[i];
        if (!key_is(fld, "dtype") && !key_is(fld, "shape") && !key_is(fld, "data_offsets"))
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": unexpected field \"%.40s\" (expected only dtype, "
                             "shape and data_offsets)", path, clgan_esc(name), clgan_esc(fld->key));
    }
    const clgan_json *dt = clgan_json_get(m, "dtype"), *shape = clgan_json_get(m, "shape"),
                     *offs = clgan_json_get(m, "data_offsets");
    if (!dt || !shape || !offs)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": missing field \"%s\"", path, clgan_esc(name),
                         !dt ? "dtype" : !shape ? "shape" : "data_offsets");

    if (dt->kind != CLGAN_JSON_STRING || !dtype_lookup(dt->string, dt->length, &e->dtype))
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": dtype is %s (expected one of " DTYPE_LIST ")", path,
                         clgan_esc(name), json_found(dt, found, sizeof found));

    if (shape->kind != CLGAN_JSON_ARRAY)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": shape is %s (expected an array of integers)", path,
                         clgan_esc(name), json_found(shape, found, sizeof found));
    if (shape->count > CLGAN_ST_MAX_NDIM)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": shape has %zu dimensions (expected at most %d)", path,
                         clgan_esc(name), shape->count, CLGAN_ST_MAX_NDIM);
    e->ndim = (int)shape->count;
    for (int i = 0; i < e->ndim; i++) {
        uint64_t d;
        if (!json_uint(&shape->items[i], &d))
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": shape[%d] is %s (expected a non-negative integer)",
                             path, clgan_esc(name), i, json_found(&shape->items[i], found, sizeof found));
        e->shape[i] = (int64_t)d;
    }

    if (offs->kind != CLGAN_JSON_ARRAY || offs->count != 2 || !json_uint(&offs->items[0], &e->begin) ||
        !json_uint(&offs->items[1], &e->end))
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": data_offsets is %s (expected a pair of non-negative "
                         "integers [begin, end])", path, clgan_esc(name), json_found(offs, found, sizeof found));
    if (e->end < e->begin)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] end before "
                         "they begin", path, clgan_esc(name), e->begin, e->end);
    if (e->end > data_len)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": data_offsets [%" PRIu64 ", %" PRIu64 "] run past the "
                         "end of the data buffer (%zu bytes)", path, clgan_esc(name), e->begin, e->end, data_len);

    uint64_t need;
    char shp[128];
    format_shape(shp, sizeof shp, e->ndim, e->shape);
    if (!shape_bytes(e->ndim, e->shape, dtype_info[e->dtype].size, &need))
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": shape %s of %s overflows the size of memory", path,
                         clgan_esc(name), shp, dtype_info[e->dtype].name);
    if (need != e->end - e->begin)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": shape %s of %s needs %" PRIu64 " bytes but "
                         "data_offsets [%" PRIu64 ", %" PRIu64 "] hold %" PRIu64, path, clgan_esc(name), shp,
                         dtype_info[e->dtype].name, need, e->begin, e->end, e->end - e->begin);
    e->member = m;
    return CLGAN_OK;
}

/* Sorted by offset, the tensors must tile [0, data_len) exactly. */
static clgan_status check_tiling(const char *path, const st_entry *e, int n, size_t data_len) {
    uint64_t cursor = 0;
    for (int i = 0; i < n; i++) {
        if (e[i].begin < cursor)
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensors \"%s\" [%" PRIu64 ", %" PRIu64 "] and \"%s\" [%" PRIu64
                             ", %" PRIu64 "] overlap in the data buffer", path, clgan_esc(e[i - 1].member->key), e[i - 1].begin,
                             e[i - 1].end, clgan_esc(e[i].member->key), e[i].begin, e[i].end);
        if (e[i].begin > cursor) {
            if (i == 0)
                return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: data buffer bytes [0, %" PRIu64 ") belong to no tensor (the "
                                 "first, \"%s\", begins at %" PRIu64 "; expected 0)", path, e[0].begin,
                                 clgan_esc(e[0].member->key), e[0].begin);
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: gap of %" PRIu64 " bytes in the data buffer between tensor \"%s\" "
                             "(ends at %" PRIu64 ") and tensor \"%s\" (begins at %" PRIu64 ")", path,
                             e[i].begin - cursor, clgan_esc(e[i - 1].member->key), cursor, clgan_esc(e[i].member->key), e[i].begin);
        }
        cursor = e[i].end;
    }
    if (cursor != data_len)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: the data buffer is %zu bytes but the tensors end at %" PRIu64
                         " (expected them to cover it exactly)", path, data_len, cursor);
    return CLGAN_OK;
}

/* Validates the header and builds the file; takes ownership of `data`
 * (freed on failure too). */
static clgan_status st_build(const char *path, const char *header, size_t hlen, uint8_t *data, size_t data_len,
                             clgan_st_file **out) {
    clgan_status st = CLGAN_OK;
    st_entry *entries = NULL;
    clgan_st_file *f = calloc(1, sizeof *f);
    if (!f) {
        free(data);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of memory", path);
    }
    f->data = data;
    f->data_len = data_len;
    f->path = strdup(path);
    if (!f->path) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }

    st = clgan_json_parse(header, hlen, &f->header);
    if (st != CLGAN_OK) {
        clgan_error_context(st, "%s: header (JSON from file byte 8): ", path);
        goto fail;
    }
    const clgan_json *root = f->header;
    if (root->kind != CLGAN_JSON_OBJECT) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: header is a JSON %s (expected an object)", path,
                       clgan_json_kind_name(root->kind));
        goto fail;
    }
    if (root->count > (size_t)INT32_MAX) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: header lists %zu entries (too many)", path, root->count);
        goto fail;
    }

    entries = malloc((root->count ? root->count : 1) * sizeof *entries);
    if (!entries) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of memory for %zu tensors", path, root->count);
        goto fail;
    }
    int n = 0;
    for (size_t i = 0; i < root->count; i++) {
        const clgan_json *m = &root->items[i];
        if (key_is(m, "__metadata__")) {
            if ((st = check_metadata(path, m)) != CLGAN_OK) goto fail;
            if (m->kind == CLGAN_JSON_OBJECT) f->meta = m;
            continue;
        }
        if ((st = check_tensor(path, m, data_len, &entries[n])) != CLGAN_OK) goto fail;
        n++;
    }
    qsort(entries, (size_t)n, sizeof *entries, cmp_entry_offset);
    if ((st = check_tiling(path, entries, n, data_len)) != CLGAN_OK) goto fail;

    f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    f->copies = calloc((size_t)(n ? n : 1), sizeof *f->copies);
    f->by_name = calloc((size_t)(n ? n : 1), sizeof *f->by_name);
    if (!f->tensors || !f->copies || !f->by_name) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of memory for %d tensors", path, n);
        goto fail;
    }
    f->count = n;
    for (int i = 0; i < n; i++) {
        clgan_st_tensor *t = &f->tensors[i];
        t->name = entries[i].member->key;
        t->dtype = entries[i].dtype;
        t->ndim = entries[i].ndim;
        memcpy(t->shape, entries[i].shape, sizeof t->shape);
        t->nbytes = (size_t)(entries[i].end - entries[i].begin);
        if (t->nbytes == 0) continue;
        const uint8_t *p = data + entries[i].begin;
        /* Writers other than ours may pack tensors at any offset; copy those
         * so every tensor can be read as float* or uint64_t*. */
        if ((uintptr_t)p % 8 != 0) {
            f->copies[i] = malloc(t->nbytes);
            if (!f->copies[i]) {
                st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: tensor \"%s\": cannot allocate %zu bytes", path, clgan_esc(t->name),
                               t->nbytes);
                goto fail;
            }
            memcpy(f->copies[i], p, t->nbytes);
            p = f->copies[i];
        }
        t->data = p;
    }
    for (int i = 0; i < n; i++) f->by_name[i] = &f->tensors[i];
    qsort(f->by_name, (size_t)n, sizeof *f->by_name, cmp_tensor_name);
    /* JSON keys were unique, but a key with a NUL was already refused, so
     * C-string names are unique too. */

    free(entries);
    *out = f;
    return CLGAN_OK;

fail:
    free(entries);
    clgan_st_close(f);
    return st;
}

static uint64_t read_le64(const uint8_t b[8]) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | b[i];
    return v;
}

/* The header length must fit the limit and the file before it is used. */
static clgan_status check_header_len(const char *path, uint64_t n, uint64_t file_size) {
    if (n > CLGAN_ST_MAX_HEADER)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: header length %" PRIu64 " (bytes 0-7) exceeds the limit of %u bytes",
                         path, n, CLGAN_ST_MAX_HEADER);
    if (n > file_size - 8)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: header length %" PRIu64 " (bytes 0-7) runs past the end of the "
                         "%" PRIu64 "-byte file (expected at most %" PRIu64 ")", path, n, file_size, file_size - 8);
    if (n < 2)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: header length %" PRIu64 " (bytes 0-7) is too short for a JSON object",
                         path, n);
    return CLGAN_OK;
}

clgan_status clgan_st_read_memory(const void *data, size_t len, const char *name, clgan_st_file **out) {
    if (!name) name = "(memory)";
    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: safetensors read: NULL output", name);
    *out = NULL;
    if (!data && len) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: safetensors read: NULL data", name);
    const uint8_t *bytes = data;
    if (len < 8)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file is %zu bytes (expected at least the 8-byte header length)", name,
                         len);
    uint64_t n = read_le64(bytes);
    clgan_status st = check_header_len(name, n, len);
    if (st != CLGAN_OK) return st;
    size_t data_len = len - 8 - (size_t)n;
    uint8_t *buf = malloc(data_len ? data_len : 1);
    if (!buf) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes for the tensors", name, data_len);
    if (data_len) memcpy(buf, bytes + 8 + n, data_len);
    return st_build(name, (const char *)bytes + 8, (size_t)n, buf, data_len, out);
}

/* Reads exactly n bytes; a short read means the file changed under us. */
static clgan_status read_exact(FILE *fp, const char *path, void *buf, size_t n, uint64_t at) {
    size_t got = n ? fread(buf, 1, n, fp) : 0;
    if (got == n) return CLGAN_OK;
    if (ferror(fp)) return CLGAN_ERR(CLGAN_ERR_IO, "%s: read error at byte %" PRIu64 ": %s", path, at + got,
                                     strerror(errno));
    return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file ended at byte %" PRIu64 " while reading %zu bytes from byte %" PRIu64
                     " (did it shrink while being read?)", path, at + got, n, at);
}

clgan_status clgan_st_read(const char *path, clgan_st_file **out) {
    if (!path || !out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors read: NULL argument");
    *out = NULL;
    clgan_status st = CLGAN_OK;
    char *header = NULL;
    uint8_t *data = NULL;
    FILE *fp = NULL;
    uint64_t size = 0;
    if ((st = clgan_open_regular(path, &fp, &size)) != CLGAN_OK) return st;
    if (size < 8) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file is %" PRIu64 " bytes (expected at least the 8-byte header length)",
                       path, size);
        goto fail;
    }
    if (size - 8 > SIZE_MAX) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: file of %" PRIu64 " bytes does not fit in memory", path, size);
        goto fail;
    }
    uint8_t lenbuf[8];
    if ((st = read_exact(fp, path, lenbuf, 8, 0)) != CLGAN_OK) goto fail;
    uint64_t n = read_le64(lenbuf);
    if ((st = check_header_len(path, n, size)) != CLGAN_OK) goto fail;

    size_t data_len = (size_t)(size - 8 - n);
    header = malloc((size_t)n);
    data = malloc(data_len ? data_len : 1);
    if (!header || !data) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %" PRIu64 " bytes to read the file", path, size);
        goto fail;
    }
    if ((st = read_exact(fp, path, header, (size_t)n, 8)) != CLGAN_OK) goto fail;
    if ((st = read_exact(fp, path, data, data_len, 8 + n)) != CLGAN_OK) goto fail;
    fclose(fp);
    fp = NULL;
    st = st_build(path, header, (size_t)n, data, data_len, out);
    data = NULL; /* st_build owns it */

fail:
    if (fp) fclose(fp);
    free(header);
    free(data);
    return st;
}

int clgan_st_count(const clgan_st_file *f) { return f ? f->count : 0; }

const clgan_st_tensor *clgan_st_at(const clgan_st_file *f, int i) {
    if (!f || i < 0 || i >= f->count) return NULL;
    return &f->tensors[i];
}

const clgan_st_tensor *clgan_st_find(const clgan_st_file *f, const char *name) {
    if (!f || !name || f->count == 0) return NULL;
    clgan_st_tensor key = {.name = name};
    const clgan_st_tensor *kp = &key;
    const clgan_st_tensor *const *hit = bsearch(&kp, f->by_name, (size_t)f->count, sizeof *f->by_name,
                                                cmp_tensor_name);
    return hit ? *hit : NULL;
}

const char *clgan_st_meta(const clgan_st_file *f, const char *key) {
    if (!f || !f->meta) return NULL;
    const clgan_json *v = clgan_json_get(f->meta, key);
    return v ? v->string : NULL;
}

int clgan_st_meta_count(const clgan_st_file *f) { return f && f->meta ? (int)f->meta->count : 0; }

bool clgan_st_meta_at(const clgan_st_file *f, int i, const char **key, const char **value) {
    if (!f || !f->meta || i < 0 || (size_t)i >= f->meta->count) return false;
    if (key) *key = f->meta->items[i].key;
    if (value) *value = f->meta->items[i].string;
    return true;
}

const char *clgan_st_path(const clgan_st_file *f) { return f ? f->path : NULL; }

clgan_status clgan_st_get(const clgan_st_file *f, const char *name, clgan_dtype dtype, int ndim,
                          const int64_t *shape, const void **data) {
    if (!f || !name || (ndim > 0 && !shape) || ndim > CLGAN_ST_MAX_NDIM)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors get \"%s\": invalid arguments", name ? name : "(null)");
    if (data) *data = NULL;
    const clgan_st_tensor *t = clgan_st_find(f, name);
    if (!t) return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s: no tensor named \"%s\" (the file has %d)", f->path, name,
                             f->count);
    if (t->dtype != dtype)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": expected dtype %s, found %s", f->path, name,
                         clgan_dtype_name(dtype), clgan_dtype_name(t->dtype));
    if (ndim >= 0) {
        bool same = ndim == t->ndim;
        for (int i = 0; same && i < ndim; i++) same = shape[i] == t->shape[i];
        if (!same) {
            char want[128], got[128];
            format_shape(want, sizeof want, ndim, shape);
            format_shape(got, sizeof got, t->ndim, t->shape);
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: tensor \"%s\": expected shape %s, found %s", f->path, name, want,
                             got);
        }
    }
    if (data) *data = t->data;
    return CLGAN_OK;
}

/* ------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------ */

typedef struct {
    char *name;
    clgan_dtype dtype;
    int ndim;
    int64_t shape[CLGAN_ST_MAX_NDIM];
    size_t nbytes;
    void *data;
} wr_tensor;

typedef struct {
    char *key;
    char *value;
} wr_meta;

struct clgan_st_writer {
    wr_tensor *t;
    size_t count, cap;
    wr_meta *meta;
    size_t nmeta, meta_cap;
};

clgan_st_writer *clgan_st_writer_new(void) { return calloc(1, sizeof(clgan_st_writer)); }

void clgan_st_writer_free(clgan_st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->count; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    for (size_t i = 0; i < w->nmeta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->t);
    free(w->meta);
    free(w);
}

/* The vector v (count used of *cap elements of `size` bytes) with room for
 * one more: v itself, a reallocated copy, or NULL (v is then unchanged). */
static void *grow(void *v, size_t *cap, size_t count, size_t size) {
    if (count < *cap) return v;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = nc > SIZE_MAX / size ? NULL : realloc(v, nc * size);
    if (p) *cap = nc;
    return p;
}

clgan_status clgan_st_add(clgan_st_writer *w, const char *name, clgan_dtype dtype, int ndim, const int64_t *shape,
                          const void *data) {
    if (!w || !name || !*name)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add: %s", !w ? "NULL writer" : "empty tensor name");
    if (strcmp(name, "__metadata__") == 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add: \"__metadata__\" is reserved (expected a tensor name)");
    /* the JSON writer would replace bad bytes, and the name read back would
     * not be the one given */
    if (!clgan_utf8_valid(name, strlen(name)))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add: tensor name is not valid UTF-8");
    if ((int)dtype < 0 || dtype >= CLGAN_DT_COUNT)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add \"%s\": dtype %d is not a clgan_dtype", name, (int)dtype);
    if (ndim < 0 || ndim > CLGAN_ST_MAX_NDIM || (ndim > 0 && !shape))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add \"%s\": ndim %d (expected 0 to %d with a shape)", name,
                         ndim, CLGAN_ST_MAX_NDIM);
    for (int i = 0; i < ndim; i++)
        if (shape[i] < 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add \"%s\": shape[%d] = %" PRId64 " (expected >= 0)",
                             name, i, shape[i]);
    uint64_t nbytes;
    if (!shape_bytes(ndim, shape, dtype_info[dtype].size, &nbytes))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add \"%s\": shape overflows the size of memory", name);
    if (nbytes && !data) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add \"%s\": NULL data", name);
    for (size_t i = 0; i < w->count; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors add: tensor \"%s\" added twice (expected unique names)",
                             name);

    wr_tensor t = {.dtype = dtype, .ndim = ndim, .nbytes = (size_t)nbytes};
    for (int i = 0; i < ndim; i++) t.shape[i] = shape[i];
    t.name = strdup(name);
    t.data = malloc(nbytes ? (size_t)nbytes : 1);
    wr_tensor *v = grow(w->t, &w->cap, w->count, sizeof *w->t);
    if (v) w->t = v;
    if (!t.name || !t.data || !v) {
        free(t.name);
        free(t.data);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "safetensors add \"%s\": out of memory for %" PRIu64 " bytes", name, nbytes);
    }
    if (nbytes) memcpy(t.data, data, (size_t)nbytes);
    w->t[w->count++] = t;
    return CLGAN_OK;
}

clgan_status clgan_st_add_meta(clgan_st_writer *w, const char *key, const char *value) {
    if (!w || !key || !value) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors metadata: NULL argument");
    if (!clgan_utf8_valid(key, strlen(key)) || !clgan_utf8_valid(value, strlen(value)))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors metadata: key or value of \"%.40s\" is not valid UTF-8",
                         key);
    for (size_t i = 0; i < w->nmeta; i++)
        if (strcmp(w->meta[i].key, key) == 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors metadata: key \"%s\" added twice (expected unique "
                             "keys)", key);
    wr_meta m = {strdup(key), strdup(value)};
    wr_meta *v = grow(w->meta, &w->meta_cap, w->nmeta, sizeof *w->meta);
    if (v) w->meta = v;
    if (!m.key || !m.value || !v) {
        free(m.key);
        free(m.value);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "safetensors metadata \"%s\": out of memory", key);
    }
    w->meta[w->nmeta++] = m;
    return CLGAN_OK;
}

/* Larger elements first, then by name: with the header padded to 8 bytes
 * every tensor starts at a multiple of its element size. */
static int cmp_write_order(const void *a, const void *b) {
    const wr_tensor *x = *(const wr_tensor *const *)a, *y = *(const wr_tensor *const *)b;
    size_t sx = dtype_info[x->dtype].size, sy = dtype_info[y->dtype].size;
    if (sx != sy) return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

typedef struct {
    const clgan_jbuf *header;
    size_t padded_len;
    const wr_tensor *const *order;
    size_t count;
} st_fill_ctx;

static clgan_status fill_st(FILE *f, void *vctx) {
    const st_fill_ctx *c = vctx;
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)((uint64_t)c->padded_len >> (8 * i));
    fwrite(len, 1, 8, f);
    fwrite(c->header->data, 1, c->header->len, f);
    for (size_t i = c->header->len; i < c->padded_len; i++) fputc(' ', f);
    for (size_t i = 0; i < c->count && !ferror(f); i++)
        if (c->order[i]->nbytes) fwrite(c->order[i]->data, 1, c->order[i]->nbytes, f);
    return CLGAN_OK; /* clgan_atomic_write checks the stream's error flag */
}

clgan_status clgan_st_write(const clgan_st_writer *w, const char *path) {
    if (!w || !path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "safetensors write: NULL argument");
    clgan_status st = CLGAN_OK;
    clgan_jbuf hb;
    clgan_jbuf_init(&hb);
    const wr_tensor **order = malloc((w->count ? w->count : 1) * sizeof *order);
    if (!order) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < w->count; i++) order[i] = &w->t[i];
    qsort(order, w->count, sizeof *order, cmp_write_order);

    clgan_jbuf_begin_object(&hb);
    if (w->nmeta) {
        clgan_jbuf_key(&hb, "__metadata__");
        clgan_jbuf_begin_object(&hb);
        for (size_t i = 0; i < w->nmeta; i++) {
            clgan_jbuf_key(&hb, w->meta[i].key);
            clgan_jbuf_str(&hb, w->meta[i].value);
        }
        clgan_jbuf_end_object(&hb);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->count; i++) {
        const wr_tensor *t = order[i];
        clgan_jbuf_key(&hb, t->name);
        clgan_jbuf_begin_object(&hb);
        clgan_jbuf_key(&hb, "dtype");
        clgan_jbuf_str(&hb, dtype_info[t->dtype].name);
        clgan_jbuf_key(&hb, "shape");
        clgan_jbuf_begin_array(&hb);
        for (int d = 0; d < t->ndim; d++) clgan_jbuf_int(&hb, t->shape[d]);
        clgan_jbuf_end_array(&hb);
        clgan_jbuf_key(&hb, "data_offsets");
        clgan_jbuf_begin_array(&hb);
        clgan_jbuf_uint(&hb, off);
        clgan_jbuf_uint(&hb, off + t->nbytes);
        clgan_jbuf_end_array(&hb);
        clgan_jbuf_end_object(&hb);
        off += t->nbytes;
    }
    clgan_jbuf_end_object(&hb);
    if ((st = clgan_jbuf_finish(&hb)) != CLGAN_OK) {
        clgan_error_context(st, "%s: building the safetensors header: ", path);
        goto fail;
    }
    size_t padded = (hb.len + 7) / 8 * 8;
    if (padded > CLGAN_ST_MAX_HEADER) {
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: safetensors header of %zu bytes exceeds the %u-byte limit readers "
                       "enforce", path, padded, CLGAN_ST_MAX_HEADER);
        goto fail;
    }
    st_fill_ctx ctx = {.header = &hb, .padded_len = padded, .order = order, .count = w->count};
    st = clgan_atomic_write(path, fill_st, &ctx);

fail:
    clgan_jbuf_free(&hb);
    free(order);
    return st;
}
