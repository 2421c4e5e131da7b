/* The idx format of MNIST (http://yann.lecun.com/exdb/mnist/):
 * a big-endian header of magic (0, 0, type, ndims) and ndims u32 sizes, then
 * the elements, nothing after them. Only what MNIST-style data sets use is
 * accepted: u8 images with 3 dims and u8 labels with 1 dim. */
#include "data_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_TYPE_U8 0x08

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *idx_type_name(uint8_t t) {
    switch (t) {
    case 0x08: return "u8";
    case 0x09: return "i8";
    case 0x0b: return "i16";
    case 0x0c: return "i32";
    case 0x0d: return "f32";
    case 0x0e: return "f64";
    default: return "not an idx type";
    }
}

/* Reads the header of an idx file and checks its magic. hdr_len is 4 + 4 *
 * ndims. `what` names the expected content in messages. */
static clgan_status read_idx_header(data_file *f, uint32_t want_magic, const char *what, uint8_t *hdr,
                                    size_t hdr_len) {
    size_t got = 0;
    clgan_status st = data_file_read(f, hdr, hdr_len, &got);
    if (st != CLGAN_OK) return st;
    if (got < 4)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %zu: file ends inside the magic number, expected 0x%08x (%s)",
                         f->path, got, want_magic, what);
    uint32_t magic = be32(hdr);
    if (magic != want_magic) {
        char why[128];
        if (hdr[0] != 0 || hdr[1] != 0)
            snprintf(why, sizeof why, "not an idx file (bytes 0-1 must be zero)");
        else if (hdr[2] != IDX_TYPE_U8)
            snprintf(why, sizeof why, "element type 0x%02x (%s), expected 0x08 (u8)", hdr[2], idx_type_name(hdr[2]));
        else if (hdr[3] == 1 && want_magic == IDX_MAGIC_IMAGES)
            snprintf(why, sizeof why, "1 dimension: a label file?");
        else if (hdr[3] == 3 && want_magic == IDX_MAGIC_LABELS)
            snprintf(why, sizeof why, "3 dimensions: an image file?");
        else
            snprintf(why, sizeof why, "%u dimensions, expected %u", hdr[3], want_magic & 0xffu);
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset 0: magic 0x%08x, expected 0x%08x (%s): %s", f->path, magic,
                         want_magic, what, why);
    }
    if (got < hdr_len)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %zu: file ends inside the %zu-byte header (%s)", f->path, got,
                         hdr_len, what);
    return CLGAN_OK;
}

/* Reads exactly `payload` bytes after a `hdr_len`-byte header and checks that
 * nothing follows. `shape` describes the product for messages. */
static clgan_status read_idx_payload(data_file *f, size_t hdr_len, size_t payload, const char *shape,
                                     const char *what, uint8_t **data) {
    clgan_status st = CLGAN_OK;
    uint8_t *buf = NULL;
    size_t got = 0;
    unsigned long long want_total = (unsigned long long)hdr_len + payload;
    *data = NULL;

    /* A raw file's size is known up front: refuse a header whose claim the
     * file cannot back before allocating anything. */
    if (f->size >= 0 && (unsigned long long)f->size != want_total) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: %llu bytes of %s expected (%s + %zu header), found %lld", f->path,
                       want_total, what, shape, hdr_len, f->size);
        goto fail;
    }
    st = data_file_read_alloc(f, payload, &buf, &got);
    if (st != CLGAN_OK) goto fail;
    if (got < payload) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: %llu bytes of %s expected (%s + %zu header), found %llu", f->path,
                       want_total, what, shape, hdr_len, (unsigned long long)hdr_len + got);
        goto fail;
    }
    bool end = false;
    st = data_file_at_end(f, &end);
    if (st != CLGAN_OK) goto fail;
    if (!end) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %llu: %llu bytes of %s expected (%s + %zu header), found more",
                       f->path, (unsigned long long)f->off, want_total, what, shape, hdr_len);
        goto fail;
    }
    *data = buf;
    return CLGAN_OK;

fail:
    free(buf);
    return st;
}

static clgan_status load_labels(const char *path, const char *images_path, int n, int32_t *y) {
    clgan_status st = CLGAN_OK;
    data_file f;
    uint8_t hdr[8];
    uint8_t *data = NULL;

    st = data_file_open(&f, path);
    if (st != CLGAN_OK) return st;
    st = read_idx_header(&f, IDX_MAGIC_LABELS, "idx1 u8 labels", hdr, sizeof hdr);
    if (st != CLGAN_OK) goto fail;
    uint32_t count = be32(hdr + 4);
    if (count != (uint32_t)n) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset 4: %u labels, expected %d (the number of images in %s)", path,
                       count, n, images_path);
        goto fail;
    }
    char shape[32];
    snprintf(shape, sizeof shape, "%u", count);
    st = read_idx_payload(&f, sizeof hdr, count, shape, "label data", &data);
    if (st != CLGAN_OK) goto fail;
    for (uint32_t i = 0; i < count; i++) {
        if (data[i] >= CLGAN_IDX_NUM_CLASSES) {
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %zu: label %u, expected < %d", path, sizeof hdr + (size_t)i,
                           data[i], CLGAN_IDX_NUM_CLASSES);
            goto fail;
        }
        y[i] = data[i];
    }
    free(data);
    data_file_close(&f);
    return CLGAN_OK;

fail:
    free(data);
    data_file_close(&f);
    return st;
}

clgan_status clgan_dataset_load_idx(const char *images_path, const char *labels_path, clgan_dataset *out) {
    clgan_status st = CLGAN_OK;
    data_file f;
    bool opened = false;
    uint8_t hdr[16];
    uint8_t *pixels = NULL;

    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_load_idx: out is NULL");
    memset(out, 0, sizeof *out);
    if (!images_path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_load_idx: images_path is NULL");

    st = data_file_open(&f, images_path);
    if (st != CLGAN_OK) goto fail;
    opened = true;
    st = read_idx_header(&f, IDX_MAGIC_IMAGES, "idx3 u8 images", hdr, sizeof hdr);
    if (st != CLGAN_OK) goto fail;

    uint32_t n = be32(hdr + 4), rows = be32(hdr + 8), cols = be32(hdr + 12);
    static const char *const dim_names[] = {"image count", "rows", "cols"};
    const uint32_t dims[3] = {n, rows, cols};
    for (int d = 0; d < 3; d++) {
        if (dims[d] == 0 || dims[d] > INT_MAX) {
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %d: %s %u, expected 1..%d", images_path, 4 + 4 * d,
                           dim_names[d], dims[d], INT_MAX);
            goto fail;
        }
    }
    size_t per = 0, payload = 0;
    if (!data_mul_size(rows, cols, &per) || per > INT_MAX) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset 8: %u x %u pixels per image, expected at most %d", images_path,
                       rows, cols, INT_MAX);
        goto fail;
    }
    if (!data_mul_size(per, n, &payload)) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset 4: %u x %u x %u images is more data than any file can hold",
                       images_path, n, rows, cols);
        goto fail;
    }
    char shape[64];
    snprintf(shape, sizeof shape, "%u\u00d7%u\u00d7%u", n, rows, cols);
    st = read_idx_payload(&f, sizeof hdr, payload, shape, "image data", &pixels);
    if (st != CLGAN_OK) goto fail;
    data_file_close(&f);
    opened = false;

    st = data_dataset_alloc(out, "idx", images_path, (int)n, 1, (int)rows, (int)cols, labels_path != NULL);
    if (st != CLGAN_OK) goto fail;
    data_u8_to_unit(pixels, payload, out->x);
    free(pixels);
    pixels = NULL;

    if (labels_path) {
        st = load_labels(labels_path, images_path, (int)n, out->y);
        if (st != CLGAN_OK) goto fail;
        out->num_classes = CLGAN_IDX_NUM_CLASSES;
    }
    return CLGAN_OK;

fail:
    if (opened) data_file_close(&f);
    free(pixels);
    clgan_dataset_free(out);
    return st;
}
