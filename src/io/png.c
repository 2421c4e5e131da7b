/* PNG reading and writing through libpng, plus the two pictures the trainer
 * draws: a grid of samples and a scatter plot of 2-D samples.
 *
 * libpng reports errors by longjmp out of its calls. Each setjmp lives in a
 * small function (decode, encode) that keeps every piece of state it changes
 * in a struct owned by its caller, so nothing it reads after the longjmp is
 * an automatic variable modified since setjmp (C11 7.13.2.1p3); the caller
 * frees everything on one path. */
#include "clgan/io.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* What libpng said, for the message; handed to libpng as its error_ptr. */
typedef struct {
    const char *name;
    char msg[256];
} png_err;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    png_err *e = png_get_error_ptr(png);
    clgan_log(CLGAN_LOG_DEBUG, "%s: libpng warning: %s", e->name, msg ? msg : "");
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------ */

/* Bytes come from a FILE or a buffer; pos counts them so a truncated file
 * is reported with the byte where it ended. */
typedef struct {
    png_err err;
    FILE *f;
    const uint8_t *mem;
    size_t mem_len;
    size_t pos;
    bool eof;
    int read_errno; /* non-zero after a read error (not an end of file) */
} png_source;

static size_t source_read(png_source *s, uint8_t *out, size_t n) {
    size_t got;
    if (s->f) {
        got = fread(out, 1, n, s->f);
        if (got < n && ferror(s->f)) s->read_errno = errno ? errno : EIO;
    } else {
        got = s->mem_len - s->pos < n ? s->mem_len - s->pos : n;
        if (got) memcpy(out, s->mem + s->pos, got);
    }
    s->pos += got;
    return got;
}

static void on_png_read(png_structp png, png_bytep out, size_t n) {
    png_source *s = png_get_io_ptr(png);
    if (source_read(s, out, n) != n) {
        s->eof = true;
        png_error(png, "unexpected end of file");
    }
}

typedef struct {
    png_source src;
    png_structp png;
    png_infop info;
    uint32_t width, height;
    int channels; /* after the transforms: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    size_t rowbytes;
    uint8_t *rows;        /* (height, rowbytes) */
    png_bytep *row_ptrs;  /* height pointers into rows */
} png_decoder;

/* Decodes into d->rows as 8-bit gray / gray+alpha / RGB / RGBA. */
static clgan_status decode(png_decoder *d, int want_channels) {
    if (setjmp(png_jmpbuf(d->png))) {
        if (d->src.read_errno)
            return CLGAN_ERR(CLGAN_ERR_IO, "%s: read error after %zu bytes: %s", d->src.err.name, d->src.pos,
                             strerror(d->src.read_errno));
        if (d->src.eof)
            return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: truncated PNG: the file ends after %zu bytes (expected more data)",
                             d->src.err.name, d->src.pos);
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: corrupt PNG: libpng: %s (after reading %zu bytes)", d->src.err.name,
                         d->src.err.msg, d->src.pos);
    }
    png_set_read_fn(d->png, &d->src, on_png_read);
    png_set_sig_bytes(d->png, 8);
    /* Limits for untrusted files: libpng otherwise allocates what a chunk's length field (or a zTXt/iCCP stream)
     * claims, up to gigabytes for a file of a hundred bytes. No ancillary chunk clgan could use carries text or
     * profiles, so those are skipped unread (their bytes only pass the CRC check); what is still allocated is
     * bounded, and the warnings libpng calls benign are errors. */
    static const png_byte skipped[] = {'t', 'E', 'X', 't', 0, 'z', 'T', 'X', 't', 0, 'i', 'T', 'X', 't', 0,
                                       'i', 'C', 'C', 'P', 0, 's', 'P', 'L', 'T', 0, 'e', 'X', 'I', 'f', 0};
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
    png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, skipped, (int)(sizeof skipped / 5));
    png_set_chunk_cache_max(d->png, 32);
    png_set_chunk_malloc_max(d->png, CLGAN_PNG_MAX_CHUNK);
    png_set_benign_errors(d->png, 0);
    png_read_info(d->png, d->info);

    d->width = png_get_image_width(d->png, d->info);
    d->height = png_get_image_height(d->png, d->info);
    if (d->width > CLGAN_PNG_MAX_SIDE || d->height > CLGAN_PNG_MAX_SIDE)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: PNG is %" PRIu32 "x%" PRIu32 " pixels (expected at most %d per side)",
                         d->src.err.name, d->width, d->height, CLGAN_PNG_MAX_SIDE);

    int depth = png_get_bit_depth(d->png, d->info);
    int color = png_get_color_type(d->png, d->info);
    if (depth == 16) png_set_scale_16(d->png); /* rounds, where strip_16 truncates */
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d->png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(d->png);
    if (png_get_valid(d->png, d->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(d->png);
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);

    d->channels = png_get_channels(d->png, d->info);
    d->rowbytes = png_get_rowbytes(d->png, d->info);
    if (png_get_bit_depth(d->png, d->info) != 8 || d->channels < 1 || d->channels > 4 ||
        d->rowbytes != (size_t)d->width * (size_t)d->channels)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: unsupported PNG layout (bit depth %d, colour type %d)", d->src.err.name,
                         depth, color);
    /* 16384^2 * 4 fits in size_t on every platform clgan builds for (64-bit) */
    size_t px = (size_t)d->width * d->height;
    size_t biggest = px * (size_t)(d->channels > want_channels ? d->channels : want_channels);
    if (biggest > CLGAN_PNG_MAX_DECODED)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: PNG of %" PRIu32 "x%" PRIu32 " pixels would take %zu bytes decoded "
                         "(expected at most %zu)", d->src.err.name, d->width, d->height, biggest,
                         (size_t)CLGAN_PNG_MAX_DECODED);

    d->rows = malloc(d->rowbytes * d->height + 1);
    d->row_ptrs = malloc(sizeof *d->row_ptrs * (d->height + 1));
    if (!d->rows || !d->row_ptrs)
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate %zu bytes for the decoded PNG", d->src.err.name,
                         d->rowbytes * d->height);
    for (uint32_t y = 0; y < d->height; y++) d->row_ptrs[y] = d->rows + (size_t)y * d->rowbytes;
    png_read_image(d->png, d->row_ptrs);
    /* reads up to IEND, so a file cut after the image data is still caught */
    png_read_end(d->png, NULL);
    return CLGAN_OK;
}

/* PIL's Rec. 601 luma, ImagingConvert rgb2l: weights sum to 65536. */
static uint8_t luma(unsigned r, unsigned g, unsigned b) {
    return (uint8_t)((r * 19595u + g * 38470u + b * 7471u + 0x8000u) >> 16);
}

/* c * a / 255 rounded; there are no ties since 2ca is even and 255 odd. */
static unsigned over_black(unsigned c, unsigned a) { return (c * a + 127u) / 255u; }

/* d->rows (height, width, d->channels) -> out (height, width, want) */
static void convert(const png_decoder *d, int want, uint8_t *out) {
    size_t px = (size_t)d->width * d->height;
    const uint8_t *in = d->rows;
    int ch = d->channels;
    bool color = ch >= 3, alpha = ch == 2 || ch == 4;
    for (size_t i = 0; i < px; i++, in += ch) {
        unsigned r = in[0], g = color ? in[1] : in[0], b = color ? in[2] : in[0];
        if (alpha) {
            unsigned a = in[ch - 1];
            r = over_black(r, a);
            g = over_black(g, a);
            b = over_black(b, a);
        }
        if (want == 1) {
            out[i] = color ? luma(r, g, b) : (uint8_t)r;
        } else {
            out[3 * i] = (uint8_t)r;
            out[3 * i + 1] = (uint8_t)g;
            out[3 * i + 2] = (uint8_t)b;
        }
    }
}

static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static clgan_status read_png(png_source *src, int want_channels, uint8_t **pixels, int *width, int *height) {
    const char *name = src->err.name;
    if (!pixels || !width || !height) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: PNG read: NULL output", name);
    *pixels = NULL;
    *width = *height = 0;
    if (want_channels != 1 && want_channels != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: PNG read: want_channels is %d (expected 1 or 3)", name,
                         want_channels);

    uint8_t sig[8];
    size_t got = source_read(src, sig, sizeof sig);
    if (src->read_errno)
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: cannot read: %s", name, strerror(src->read_errno));
    if (got == 0) return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: not a PNG file: it is empty", name);
    if (got < sizeof sig || memcmp(sig, png_signature, sizeof sig) != 0)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: not a PNG file (expected the signature 89 50 4E 47 0D 0A 1A 0A at "
                         "byte 0)", name);

    png_decoder d = {.src = *src};
    clgan_status st = CLGAN_OK;
    uint8_t *out = NULL;
    d.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &d.src.err, on_png_error, on_png_warning);
    if (d.png) d.info = png_create_info_struct(d.png);
    if (!d.png || !d.info) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot create the libpng reader", name);
        goto fail;
    }
    if ((st = decode(&d, want_channels)) != CLGAN_OK) goto fail;
    out = malloc((size_t)d.width * d.height * (size_t)want_channels + 1);
    if (!out) {
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot allocate the %" PRIu32 "x%" PRIu32 " image", name, d.width,
                       d.height);
        goto fail;
    }
    convert(&d, want_channels, out);
    *pixels = out;
    *width = (int)d.width;
    *height = (int)d.height;

fail:
    if (d.png) png_destroy_read_struct(&d.png, d.info ? &d.info : NULL, NULL);
    free(d.rows);
    free(d.row_ptrs);
    return st;
}

clgan_status clgan_png_read(const char *path, int want_channels, uint8_t **pixels, int *width, int *height) {
    if (!path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "PNG read: NULL path");
    FILE *f = NULL;
    if (pixels) *pixels = NULL;
    clgan_status open_st = clgan_open_regular(path, &f, NULL);
    if (open_st != CLGAN_OK) return open_st;
    png_source src = {.err = {.name = path}, .f = f};
    clgan_status st = read_png(&src, want_channels, pixels, width, height);
    fclose(f);
    return st;
}

clgan_status clgan_png_read_memory(const void *data, size_t len, const char *name, int want_channels,
                                   uint8_t **pixels, int *width, int *height) {
    if (!name) name = "(memory)";
    if (!data && len) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: PNG read: NULL data", name);
    png_source src = {.err = {.name = name}, .mem = data, .mem_len = len};
    return read_png(&src, want_channels, pixels, width, height);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

typedef struct {
    png_err err; /* err.name is the destination path */
    const uint8_t *pixels;
    int width, height, channels;
} png_encoder;

static clgan_status encode(png_structp png, png_infop info, FILE *f, const png_encoder *e) {
    if (setjmp(png_jmpbuf(png)))
        return CLGAN_ERR(CLGAN_ERR_IO, "%s: writing PNG failed: libpng: %s", e->err.name, e->err.msg);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)e->width, (png_uint_32)e->height, 8,
                 e->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)e->width * (size_t)e->channels;
    for (int y = 0; y < e->height; y++) png_write_row(png, e->pixels + (size_t)y * stride);
    png_write_end(png, NULL);
    return CLGAN_OK;
}

static clgan_status fill_png(FILE *f, void *ctx) {
    png_encoder *e = ctx;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &e->err, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    clgan_status st;
    if (!png || !info)
        st = CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: cannot create the libpng writer", e->err.name);
    else
        st = encode(png, info, f, e);
    if (png) png_destroy_write_struct(&png, info ? &info : NULL);
    return st;
}

clgan_status clgan_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels) {
    if (!path || !pixels) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: PNG write: NULL %s", path ? path : "(null)",
                                           path ? "pixels" : "path");
    if (channels != 1 && channels != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: PNG write: %d channels (expected 1 or 3)", path, channels);
    if (width < 1 || height < 1 || width > CLGAN_PNG_MAX_SIDE || height > CLGAN_PNG_MAX_SIDE)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: PNG write: %dx%d pixels (expected 1 to %d per side)", path, width,
                         height, CLGAN_PNG_MAX_SIDE);
    png_encoder e = {.err = {.name = path}, .pixels = pixels, .width = width, .height = height, .channels = channels};
    return clgan_atomic_write(path, fill_png, &e);
}

/* ------------------------------------------------------------------------
 * Sample grid
 * ------------------------------------------------------------------------ */

enum { GRID_PAD_GREY = 64 };

clgan_status clgan_png_grid_size(int n, int h, int w, int cols, int pad, int *grid_width, int *grid_height) {
    if (n < 1 || h < 1 || w < 1 || cols < 1 || pad < 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "image grid: n=%d h=%d w=%d cols=%d pad=%d (expected n, h, w, cols >= 1 "
                         "and pad >= 0)", n, h, w, cols, pad);
    if (cols > n) cols = n;
    int64_t rows = (n + (int64_t)cols - 1) / cols;
    int64_t gw = (int64_t)cols * w + ((int64_t)cols + 1) * pad;
    int64_t gh = rows * h + (rows + 1) * pad;
    if (gw > CLGAN_PNG_MAX_SIDE || gh > CLGAN_PNG_MAX_SIDE)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "image grid of %d images (%dx%d, %d columns, pad %d) would be "
                         "%" PRId64 "x%" PRId64 " pixels (expected at most %d per side)", n, h, w, cols, pad, gw, gh,
                         CLGAN_PNG_MAX_SIDE);
    if (grid_width) *grid_width = (int)gw;
    if (grid_height) *grid_height = (int)gh;
    return CLGAN_OK;
}

/* [-1, 1] -> 0..255, rounding; NaN fails both comparisons and becomes 0 */
static uint8_t unit_to_byte(float v) {
    if (!(v > -1.0f)) return 0;
    if (v >= 1.0f) return 255;
    return (uint8_t)floorf((v + 1.0f) * 127.5f + 0.5f);
}

clgan_status clgan_png_write_grid(const char *path, const float *images, int n, int c, int h, int w, int cols,
                                  int pad) {
    if (!path || !images)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: image grid: NULL %s", path ? path : "(null)",
                         path ? "images" : "path");
    if (c != 1 && c != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: image grid: %d channels (expected 1 or 3)", path, c);
    int gw, gh;
    clgan_status st = clgan_png_grid_size(n, h, w, cols, pad, &gw, &gh);
    if (st != CLGAN_OK) return clgan_error_context(st, "%s: ", path);
    if (cols > n) cols = n;

    size_t total = (size_t)gw * gh * (size_t)c;
    uint8_t *px = malloc(total);
    if (!px) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: image grid: cannot allocate %zu bytes", path, total);
    memset(px, GRID_PAD_GREY, total);
    size_t plane = (size_t)h * w;
    for (int i = 0; i < n; i++) {
        int x0 = pad + (i % cols) * (w + pad), y0 = pad + (i / cols) * (h + pad);
        const float *img = images + (size_t)i * c * plane; /* (c, h, w) */
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    px[((size_t)(y0 + y) * gw + (x0 + x)) * c + k] = unit_to_byte(img[k * plane + (size_t)y * w + x]);
    }
    st = clgan_png_write(path, px, gw, gh, c);
    free(px);
    return st;
}

/* ------------------------------------------------------------------------
 * Scatter plot
 * ------------------------------------------------------------------------ */

typedef struct {
    uint8_t *px; /* (size, size, 3) */
    int size;
} canvas;

static void blend(canvas *cv, int x, int y, const uint8_t rgb[3], int alpha256) {
    if (x < 0 || y < 0 || x >= cv->size || y >= cv->size) return;
    uint8_t *p = cv->px + ((size_t)y * cv->size + x) * 3;
    for (int k = 0; k < 3; k++) p[k] = (uint8_t)((p[k] * (256 - alpha256) + rgb[k] * alpha256 + 128) >> 8);
}

/* Maps data coordinates in [lo, hi] to the pixel grid, y pointing up;
 * false for points outside the square or not finite. */
static bool to_pixel(double x, double y, double lo, double hi, int size, int *px, int *py) {
    if (!(x >= lo && x <= hi && y >= lo && y <= hi)) return false;
    double s = (size - 1) / (hi - lo);
    *px = (int)floor((x - lo) * s + 0.5);
    *py = (int)floor((hi - y) * s + 0.5);
    return true;
}

clgan_status clgan_png_write_scatter(const char *path, const float *points, int n, const float *ref_points,
                                     int n_ref, float lo, float hi, int size) {
    static const uint8_t axis_rgb[3] = {200, 200, 200};
    static const uint8_t frame_rgb[3] = {170, 170, 170};
    static const uint8_t point_rgb[3] = {31, 119, 180}; /* matplotlib's C0 blue and C3 red */
    static const uint8_t ref_rgb[3] = {214, 39, 40};
    if (!path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "scatter plot: NULL path");
    if (n < 0 || n_ref < 0 || (n > 0 && !points) || (n_ref > 0 && !ref_points))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: scatter plot: n=%d n_ref=%d with %s points (expected counts >= 0 "
                         "and non-NULL arrays)", path, n, n_ref, points ? "given" : "NULL");
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: scatter plot: range [%g, %g] (expected finite lo < hi)", path,
                         (double)lo, (double)hi);
    if (size < 16 || size > CLGAN_PNG_MAX_SIDE)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: scatter plot: size %d (expected 16 to %d)", path, size,
                         CLGAN_PNG_MAX_SIDE);

    size_t total = (size_t)size * size * 3;
    canvas cv = {.px = malloc(total), .size = size};
    if (!cv.px) return CLGAN_ERR(CLGAN_ERR_NOMEM, "%s: scatter plot: cannot allocate %zu bytes", path, total);
    memset(cv.px, 255, total);

    int ax, ay;
    if (to_pixel(0.0, 0.0, lo, hi, size, &ax, &ay)) {
        for (int i = 0; i < size; i++) {
            blend(&cv, ax, i, axis_rgb, 256);
            blend(&cv, i, ay, axis_rgb, 256);
        }
    }
    for (int i = 0; i < size; i++) {
        blend(&cv, i, 0, frame_rgb, 256);
        blend(&cv, i, size - 1, frame_rgb, 256);
        blend(&cv, 0, i, frame_rgb, 256);
        blend(&cv, size - 1, i, frame_rgb, 256);
    }

    /* Translucent dots: where thousands of samples pile up the colour
     * saturates, so a collapsed mode and a spread one look different. */
    int dot = size >= 512 ? 2 : 1;
    for (int i = 0; i < n; i++) {
        int cx, cy;
        if (!to_pixel(points[2 * i], points[2 * i + 1], lo, hi, size, &cx, &cy)) continue;
        for (int dy = -dot; dy <= dot; dy++)
            for (int dx = -dot; dx <= dot; dx++)
                if (dx * dx + dy * dy <= dot * dot + 1) blend(&cv, cx + dx, cy + dy, point_rgb, 128);
    }
    /* Rings, not discs, so the samples inside a mode stay visible. */
    int r = size / 64 > 4 ? size / 64 : 4;
    for (int i = 0; i < n_ref; i++) {
        int cx, cy;
        if (!to_pixel(ref_points[2 * i], ref_points[2 * i + 1], lo, hi, size, &cx, &cy)) continue;
        for (int dy = -r - 1; dy <= r + 1; dy++)
            for (int dx = -r - 1; dx <= r + 1; dx++) {
                int d2 = dx * dx + dy * dy;
                if (d2 >= (r - 1) * (r - 1) && d2 <= (r + 1) * (r + 1)) blend(&cv, cx + dx, cy + dy, ref_rgb, 256);
            }
    }

    clgan_status st = clgan_png_write(path, cv.px, size, size, 3);
    free(cv.px);
    return st;
}
