/* PNG: round trips, every colour type libpng can hand us, hostile files,
 * and the sample grid and scatter plot. The odd-typed PNGs are made here
 * with libpng directly, so the reader is tested on files it did not write. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <png.h>
#include <zlib.h>

#include "clgan/io.h"
#include "io_test_util.h"

typedef struct {
    char *dir;
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->dir = tu_mkdtemp())) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

/* A PNG exactly as described, written with libpng (not with clgan). */
typedef struct {
    int width, height, bit_depth, color_type, interlace;
    const png_color *palette;
    int npalette;
    const png_byte *trns;
    int ntrns;
    const uint8_t *rows; /* packed as in the file: bits packed, 16-bit big-endian */
} raw_png;

static int raw_png_body(png_structp png, png_infop info, FILE *f, const raw_png *r) {
    if (setjmp(png_jmpbuf(png))) return -1;
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)r->width, (png_uint_32)r->height, r->bit_depth, r->color_type, r->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (r->palette) png_set_PLTE(png, info, r->palette, r->npalette);
    if (r->trns) png_set_tRNS(png, info, r->trns, r->ntrns, NULL);
    png_write_info(png, info);
    int passes = png_set_interlace_handling(png);
    size_t rowbytes = png_get_rowbytes(png, info);
    for (int p = 0; p < passes; p++)
        for (int y = 0; y < r->height; y++) png_write_row(png, r->rows + (size_t)y * rowbytes);
    png_write_end(png, NULL);
    return 0;
}

static void write_raw_png(const char *path, const raw_png *r) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int rc = raw_png_body(png, info, f, r);
    png_destroy_write_struct(&png, &info);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rc, 0);
}

/* Reads `path`, checking the size, and returns the pixels. */
static uint8_t *read_ok(const char *path, int want, int w, int h) {
    uint8_t *px = NULL;
    int rw = 0, rh = 0;
    clgan_status st = clgan_png_read(path, want, &px, &rw, &rh);
    if (st != CLGAN_OK) fail_msg("%s: %s", clgan_status_name(st), clgan_last_error());
    assert_int_equal(rw, w);
    assert_int_equal(rh, h);
    return px;
}

static void expect_format_error(const char *path) {
    uint8_t *px = (uint8_t *)"sentinel";
    int w = -1, h = -1;
    clgan_clear_error();
    assert_int_equal(clgan_png_read(path, 3, &px, &w, &h), CLGAN_ERR_FORMAT);
    assert_null(px);
    tu_assert_msg_has(path);
}

static unsigned over_black(unsigned c, unsigned a) { return (unsigned)lround(c * (double)a / 255.0); }

/* Appends a PNG chunk (length, type, data, CRC) at *pos. */
static void put_chunk(uint8_t *buf, size_t *pos, const char *type, const uint8_t *data, uint32_t n) {
    uint8_t *p = buf + *pos;
    p[0] = (uint8_t)(n >> 24), p[1] = (uint8_t)(n >> 16), p[2] = (uint8_t)(n >> 8), p[3] = (uint8_t)n;
    memcpy(p + 4, type, 4);
    if (n) memcpy(p + 8, data, n);
    uint32_t crc = (uint32_t)crc32(0, p + 4, 4 + n);
    p[8 + n] = (uint8_t)(crc >> 24), p[9 + n] = (uint8_t)(crc >> 16), p[10 + n] = (uint8_t)(crc >> 8);
    p[11 + n] = (uint8_t)crc;
    *pos += 12 + n;
}

/* A PNG whose IHDR claims width x height (colour type `ct`), with an empty
 * IDAT so png_read_info returns and the size checks are reached. */
static size_t make_header_only_png(uint8_t *buf, uint32_t width, uint32_t height, uint8_t ct) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    size_t pos = 8;
    uint8_t ihdr[13] = {(uint8_t)(width >> 24), (uint8_t)(width >> 16), (uint8_t)(width >> 8), (uint8_t)width,
                        (uint8_t)(height >> 24), (uint8_t)(height >> 16), (uint8_t)(height >> 8), (uint8_t)height,
                        8, ct, 0, 0, 0};
    put_chunk(buf, &pos, "IHDR", ihdr, 13);
    put_chunk(buf, &pos, "IDAT", NULL, 0);
    put_chunk(buf, &pos, "IEND", NULL, 0);
    return pos;
}

/* ---- round trips ------------------------------------------------------ */

static void test_roundtrip_gray(void **state) {
    fixture *fx = *state;
    enum { W = 37, H = 23 };
    uint8_t px[W * H];
    uint64_t s = 1;
    for (int i = 0; i < W * H; i++) px[i] = (uint8_t)tu_rand(&s);
    char *path = tu_path(fx->dir, "gray.png");
    assert_int_equal(clgan_png_write(path, px, W, H, 1), CLGAN_OK);
    uint8_t *back = read_ok(path, 1, W, H);
    assert_memory_equal(back, px, sizeof px);
    free(back);
    /* gray read as RGB repeats the value */
    back = read_ok(path, 3, W, H);
    for (int i = 0; i < W * H; i++) {
        assert_int_equal(back[3 * i], px[i]);
        assert_int_equal(back[3 * i + 1], px[i]);
        assert_int_equal(back[3 * i + 2], px[i]);
    }
    free(back);
    assert_int_equal(tu_count_entries(fx->dir), 1); /* no temporary file left */
    free(path);
}

static void test_roundtrip_rgb(void **state) {
    fixture *fx = *state;
    enum { W = 41, H = 17 };
    uint8_t px[W * H * 3];
    uint64_t s = 2;
    for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)tu_rand(&s);
    char *path = tu_path(fx->dir, "rgb.png");
    assert_int_equal(clgan_png_write(path, px, W, H, 3), CLGAN_OK);
    uint8_t *back = read_ok(path, 3, W, H);
    assert_memory_equal(back, px, sizeof px);
    free(back);
    /* overwriting an existing PNG works and replaces it */
    px[0] ^= 0xff;
    assert_int_equal(clgan_png_write(path, px, W, H, 3), CLGAN_OK);
    back = read_ok(path, 3, W, H);
    assert_int_equal(back[0], px[0]);
    free(back);
    free(path);
}

static void test_rgb_to_gray_luma(void **state) {
    fixture *fx = *state;
    /* red, green, blue, white, black, a mid grey: PIL convert("L") gives
     * 76, 150, 29, 255, 0, 77 */
    const uint8_t px[6 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 77, 77, 77};
    const uint8_t want[6] = {76, 150, 29, 255, 0, 77};
    char *path = tu_path(fx->dir, "luma.png");
    assert_int_equal(clgan_png_write(path, px, 6, 1, 3), CLGAN_OK);
    uint8_t *back = read_ok(path, 1, 6, 1);
    assert_memory_equal(back, want, sizeof want);
    free(back);
    free(path);
}

/* ---- colour types written by libpng ------------------------------------ */

static void test_palette_with_trns(void **state) {
    fixture *fx = *state;
    const png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}};
    const png_byte trns[4] = {255, 255, 0, 128}; /* blue fully transparent, white half */
    const uint8_t rows[2 * 4] = {0, 1, 2, 3, 3, 2, 1, 0};
    raw_png r = {4, 2, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, pal, 4, trns, 4, rows};
    char *path = tu_path(fx->dir, "palette.png");
    write_raw_png(path, &r);
    uint8_t *back = read_ok(path, 3, 4, 2);
    const uint8_t half = (uint8_t)over_black(255, 128); /* 128 */
    const uint8_t want[8 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 0, half, half, half,
                                 half, half, half, 0, 0, 0, 0, 255, 0, 255, 0, 0};
    assert_memory_equal(back, want, sizeof want);
    free(back);
    free(path);
}

static void test_palette_4bit(void **state) {
    fixture *fx = *state;
    const png_color pal[3] = {{10, 20, 30}, {40, 50, 60}, {70, 80, 90}};
    /* 3 pixels per row at 4 bits: indices 0,1,2 -> bytes 0x01, 0x20 */
    const uint8_t rows[2] = {0x01, 0x20};
    raw_png r = {3, 1, 4, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, pal, 3, NULL, 0, rows};
    char *path = tu_path(fx->dir, "palette4.png");
    write_raw_png(path, &r);
    uint8_t *back = read_ok(path, 3, 3, 1);
    const uint8_t want[9] = {10, 20, 30, 40, 50, 60, 70, 80, 90};
    assert_memory_equal(back, want, sizeof want);
    free(back);
    free(path);
}

static void test_16bit(void **state) {
    fixture *fx = *state;
    /* 16-bit samples scale with rounding: 257k -> k, 255 -> 1 (0.996),
     * 65535 -> 255. A truncating reader would give 0 for 255. */
    const uint16_t gray16[4] = {257 * 10, 255, 65535, 257 * 200};
    uint8_t rows[8];
    for (int i = 0; i < 4; i++) rows[2 * i] = (uint8_t)(gray16[i] >> 8), rows[2 * i + 1] = (uint8_t)gray16[i];
    raw_png r = {4, 1, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, rows};
    char *path = tu_path(fx->dir, "gray16.png");
    write_raw_png(path, &r);
    uint8_t *back = read_ok(path, 1, 4, 1);
    const uint8_t want[4] = {10, 1, 255, 200};
    assert_memory_equal(back, want, sizeof want);
    free(back);

    /* RGB 16-bit, one pixel (257*1, 257*2, 257*3) */
    const uint8_t rgb_rows[6] = {1, 1, 2, 2, 3, 3};
    raw_png r2 = {1, 1, 16, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, rgb_rows};
    write_raw_png(path, &r2);
    back = read_ok(path, 3, 1, 1);
    const uint8_t want2[3] = {1, 2, 3};
    assert_memory_equal(back, want2, sizeof want2);
    free(back);
    free(path);
}

static void test_alpha_composited_on_black(void **state) {
    fixture *fx = *state;
    const uint8_t rgba[4 * 4] = {200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128, 255, 255, 255, 1};
    raw_png r = {4, 1, 8, PNG_COLOR_TYPE_RGBA, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, rgba};
    char *path = tu_path(fx->dir, "rgba.png");
    write_raw_png(path, &r);
    uint8_t *back = read_ok(path, 3, 4, 1);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 3; k++) assert_int_equal(back[3 * i + k], over_black(rgba[4 * i + k], rgba[4 * i + 3]));
    free(back);

    /* gray + alpha read as gray */
    const uint8_t ga[3 * 2] = {90, 255, 90, 0, 90, 100};
    raw_png r2 = {3, 1, 8, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, ga};
    write_raw_png(path, &r2);
    back = read_ok(path, 1, 3, 1);
    assert_int_equal(back[0], 90);
    assert_int_equal(back[1], 0);
    assert_int_equal(back[2], over_black(90, 100));
    free(back);
    free(path);
}

static void test_low_bit_gray_and_interlaced(void **state) {
    fixture *fx = *state;
    /* 1-bit gray: 10110000 -> 255, 0, 255, 255 */
    const uint8_t bits[1] = {0xb0};
    raw_png r = {4, 1, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, bits};
    char *path = tu_path(fx->dir, "gray1.png");
    write_raw_png(path, &r);
    uint8_t *back = read_ok(path, 1, 4, 1);
    const uint8_t want[4] = {255, 0, 255, 255};
    assert_memory_equal(back, want, sizeof want);
    free(back);

    /* 2-bit gray: levels 0..3 -> 0, 85, 170, 255 (00 01 10 11 = 0x1b) */
    const uint8_t two[1] = {0x1b};
    raw_png r2 = {4, 1, 2, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, NULL, 0, NULL, 0, two};
    write_raw_png(path, &r2);
    back = read_ok(path, 1, 4, 1);
    const uint8_t want2[4] = {0, 85, 170, 255};
    assert_memory_equal(back, want2, sizeof want2);
    free(back);

    /* Adam7-interlaced RGB, odd size so every pass is partial */
    enum { W = 13, H = 11 };
    uint8_t rgb[W * H * 3];
    uint64_t s = 3;
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)tu_rand(&s);
    raw_png r3 = {W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, NULL, 0, NULL, 0, rgb};
    write_raw_png(path, &r3);
    back = read_ok(path, 3, W, H);
    assert_memory_equal(back, rgb, sizeof rgb);
    free(back);
    free(path);
}

/* ---- hostile and broken files ------------------------------------------ */

static void test_truncated(void **state) {
    fixture *fx = *state;
    enum { W = 64, H = 64 };
    static uint8_t px[W * H * 3];
    uint64_t s = 4;
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)tu_rand(&s); /* noise: a large IDAT */
    char *good = tu_path(fx->dir, "good.png"), *cut = tu_path(fx->dir, "cut.png");
    assert_int_equal(clgan_png_write(good, px, W, H, 3), CLGAN_OK);
    size_t len;
    unsigned char *bytes = tu_read(good, &len);
    assert_non_null(bytes);

    assert_int_equal(tu_write(cut, bytes, len / 2), 0); /* inside the image data */
    expect_format_error(cut);
    tu_assert_msg_has("truncated");
    assert_int_equal(tu_write(cut, bytes, len - 12), 0); /* only IEND missing */
    expect_format_error(cut);
    assert_int_equal(tu_write(cut, bytes, 20), 0); /* inside IHDR */
    expect_format_error(cut);
    assert_int_equal(tu_write(cut, bytes, 5), 0); /* inside the signature */
    expect_format_error(cut);

    /* a flipped bit in the image data: CRC error */
    bytes[len / 2] ^= 0x10;
    assert_int_equal(tu_write(cut, bytes, len), 0);
    expect_format_error(cut);
    tu_assert_msg_has("libpng");

    /* the same bytes from memory name the given label */
    uint8_t *out = NULL;
    int w, h;
    assert_int_equal(clgan_png_read_memory(bytes, len / 2, "mem-label", 3, &out, &w, &h), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("mem-label");
    assert_null(out);
    free(bytes);
    free(good);
    free(cut);
}

static void test_not_a_png(void **state) {
    fixture *fx = *state;
    char *path = tu_path(fx->dir, "random.png");
    uint8_t junk[1000];
    uint64_t s = 5;
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)tu_rand(&s);
    assert_int_equal(tu_write(path, junk, sizeof junk), 0);
    expect_format_error(path);
    tu_assert_msg_has("not a PNG");

    /* a valid signature followed by noise */
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(junk, sig, 8);
    assert_int_equal(tu_write(path, junk, sizeof junk), 0);
    expect_format_error(path);

    assert_int_equal(tu_write(path, "", 0), 0);
    expect_format_error(path);
    tu_assert_msg_has("empty");

    uint8_t *px;
    int w, h;
    char *missing = tu_path(fx->dir, "missing.png");
    assert_int_equal(clgan_png_read(missing, 1, &px, &w, &h), CLGAN_ERR_NOT_FOUND);
    tu_assert_msg_has(missing);
    assert_int_equal(clgan_png_read(path, 2, &px, &w, &h), CLGAN_ERR_INVALID_ARG);
    free(missing);
    free(path);
}

static void test_huge_dimensions(void **state) {
    fixture *fx = *state;
    char *path = tu_path(fx->dir, "huge.png");
    uint8_t buf[128];
    size_t n = make_header_only_png(buf, 20000, 10, PNG_COLOR_TYPE_GRAY);
    assert_int_equal(tu_write(path, buf, n), 0);
    expect_format_error(path);
    tu_assert_msg_has("20000x10");
    tu_assert_msg_has("16384");

    /* 10000^2 RGBA = 400 MB decoded, each side within the limit */
    n = make_header_only_png(buf, 10000, 10000, PNG_COLOR_TYPE_RGBA);
    assert_int_equal(tu_write(path, buf, n), 0);
    expect_format_error(path);
    tu_assert_msg_has("decoded");

    /* the same header with a small size passes the checks and then fails
     * on the missing image data, so the two errors above are the limits */
    n = make_header_only_png(buf, 4, 4, PNG_COLOR_TYPE_GRAY);
    assert_int_equal(tu_write(path, buf, n), 0);
    expect_format_error(path);
    assert_null(strstr(clgan_last_error(), "decoded"));
    free(path);
}

static void test_write_errors(void **state) {
    fixture *fx = *state;
    uint8_t px[4] = {0};
    char *path = tu_path(fx->dir, "no-such-folder/x.png");
    clgan_clear_error();
    assert_int_equal(clgan_png_write(path, px, 2, 2, 1), CLGAN_ERR_IO);
    tu_assert_msg_has(path);
    assert_int_equal(clgan_png_write(path, px, 2, 2, 2), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_png_write(path, px, 0, 2, 1), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_png_write(path, px, CLGAN_PNG_MAX_SIDE + 1, 1, 1), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(tu_count_entries(fx->dir), 0);
    free(path);
}

/* ---- grid and scatter --------------------------------------------------- */

static void test_grid(void **state) {
    fixture *fx = *state;
    /* 5 gray 4x3 images, 3 columns, pad 2: 3*3 + 4*2 = 17 wide,
     * 2*4 + 3*2 = 14 high; the 6th cell is empty */
    enum { N = 5, C = 1, HH = 4, WW = 3 };
    int gw, gh;
    assert_int_equal(clgan_png_grid_size(N, HH, WW, 3, 2, &gw, &gh), CLGAN_OK);
    assert_int_equal(gw, 17);
    assert_int_equal(gh, 14);
    assert_int_equal(clgan_png_grid_size(N, HH, WW, 100, 0, &gw, &gh), CLGAN_OK); /* cols clamped to n */
    assert_int_equal(gw, N * WW);
    assert_int_equal(gh, HH);
    assert_int_equal(clgan_png_grid_size(N, HH, WW, 0, 2, &gw, &gh), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_png_grid_size(1000, 100, 100, 1000, 0, &gw, &gh), CLGAN_ERR_INVALID_ARG);

    float img[N * C * HH * WW];
    for (int i = 0; i < N * HH * WW; i++) img[i] = 0.0f;
    /* image 0 row 0: -1, 1, 0 -> 0, 255, 128; row 1: 5, -7, NaN -> 255, 0, 0 */
    img[0] = -1.0f, img[1] = 1.0f, img[2] = 0.0f;
    img[3] = 5.0f, img[4] = -7.0f, img[5] = NAN;
    img[6] = -0.5f; /* 0.5 * 127.5 = 63.75 -> 64 */
    img[HH * WW * 4 + HH * WW - 1] = 1.0f; /* last pixel of image 4 */

    char *path = tu_path(fx->dir, "grid.png");
    assert_int_equal(clgan_png_write_grid(path, img, N, C, HH, WW, 3, 2), CLGAN_OK);
    uint8_t *px = read_ok(path, 1, 17, 14);
#define AT(x, y) px[(y) * 17 + (x)]
    assert_int_equal(AT(0, 0), 64);  /* outer padding */
    assert_int_equal(AT(16, 13), 64);
    assert_int_equal(AT(5, 2), 64);  /* between cells 0 and 1 */
    assert_int_equal(AT(2, 2), 0);
    assert_int_equal(AT(3, 2), 255);
    assert_int_equal(AT(4, 2), 128);
    assert_int_equal(AT(2, 3), 255);
    assert_int_equal(AT(3, 3), 0);
    assert_int_equal(AT(4, 3), 0);
    assert_int_equal(AT(2, 4), 64);
    assert_int_equal(AT(7, 2), 128);  /* cell 1 at x = 2 + 3 + 2 */
    /* image 4 is row 1, column 1: x0 = 7, y0 = 2 + 4 + 2 = 8; last pixel (9, 11) */
    assert_int_equal(AT(9, 11), 255);
    assert_int_equal(AT(8, 11), 128);
    /* the empty sixth cell (x0 = 12, y0 = 8) is padding grey */
    for (int y = 8; y < 12; y++)
        for (int x = 12; x < 15; x++) assert_int_equal(AT(x, y), 64);
#undef AT
    free(px);

    /* RGB: channel planes land in the right places */
    float rgb[3 * 2 * 2] = {1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0}; /* (3, 2, 2): R=255, G=0, B=128 */
    assert_int_equal(clgan_png_write_grid(path, rgb, 1, 3, 2, 2, 4, 1), CLGAN_OK);
    px = read_ok(path, 3, 4, 4);
    assert_int_equal(px[(1 * 4 + 1) * 3 + 0], 255);
    assert_int_equal(px[(1 * 4 + 1) * 3 + 1], 0);
    assert_int_equal(px[(1 * 4 + 1) * 3 + 2], 128);
    assert_int_equal(px[0], 64);
    free(px);
    assert_int_equal(clgan_png_write_grid(path, rgb, 1, 2, 2, 2, 1, 1), CLGAN_ERR_INVALID_ARG);
    free(path);
}

static void test_scatter(void **state) {
    fixture *fx = *state;
    enum { S = 101 };
    const float pts[2 * 3] = {0.5f, 0.5f, 7.0f, 0.0f, NAN, 0.0f}; /* the last two are skipped */
    const float refs[2] = {-0.5f, -0.5f};
    char *path = tu_path(fx->dir, "scatter.png");
    assert_int_equal(clgan_png_write_scatter(path, pts, 3, refs, 1, -1.0f, 1.0f, S), CLGAN_OK);
    uint8_t *px = read_ok(path, 3, S, S);
#define PX(x, y, k) px[((y) * S + (x)) * 3 + (k)]
    /* background white, axis x = 0 at column 50 light grey */
    assert_int_equal(PX(10, 90, 0), 255);
    assert_int_equal(PX(10, 90, 2), 255);
    assert_int_equal(PX(50, 10, 0), 200);
    assert_int_equal(PX(10, 50, 1), 200);
    /* the point (0.5, 0.5) is at pixel (75, 25), y pointing up: blue */
    assert_true(PX(75, 25, 2) > PX(75, 25, 0) + 40);
    assert_true(PX(75, 25, 0) < 200);
    assert_int_equal(PX(75, 75, 0), 255); /* nothing at (0.5, -0.5) */
    /* the reference (-0.5, -0.5) at (25, 75): a red ring of radius 4 */
    assert_true(PX(29, 75, 0) > 150 && PX(29, 75, 1) < 100);
    assert_true(PX(25, 71, 0) > 150 && PX(25, 71, 1) < 100);
    assert_int_equal(PX(25, 75, 1), 255); /* hollow centre */
#undef PX
    free(px);

    assert_int_equal(clgan_png_write_scatter(path, pts, 3, NULL, 0, 1.0f, 1.0f, S), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_png_write_scatter(path, pts, 3, NULL, 0, -1.0f, 1.0f, 8), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_png_write_scatter(path, NULL, 3, NULL, 0, -1.0f, 1.0f, S), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_png_write_scatter(path, NULL, 0, NULL, 0, -1.0f, 1.0f, S), CLGAN_OK);
    free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_gray, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_rgb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rgb_to_gray_luma, setup, teardown),
        cmocka_unit_test_setup_teardown(test_palette_with_trns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_palette_4bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_16bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alpha_composited_on_black, setup, teardown),
        cmocka_unit_test_setup_teardown(test_low_bit_gray_and_interlaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_png, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_dimensions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scatter, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
