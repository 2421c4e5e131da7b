/* idx loader: raw and gzip round trips, and every malformed input refused
 * with CLGAN_ERR_FORMAT and a message naming the file. */
#include "fixtures.h"

enum { N = 7, ROWS = 5, COLS = 4 }; /* odd sizes: nothing divides evenly by accident */

typedef struct {
    char dir[FX_PATH];
    uint8_t px[N * ROWS * COLS];
    uint8_t labels[N];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    fx_tmpdir(f->dir);
    for (int i = 0; i < N * ROWS * COLS; i++) f->px[i] = (uint8_t)(i * 37 + 11);
    f->px[0] = 0;
    f->px[1] = 255; /* both ends of the range */
    for (int i = 0; i < N; i++) f->labels[i] = (uint8_t)((i * 3) % 10);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    fx_rmtree(f->dir);
    free(f);
    return 0;
}

/* writes images (and labels) files under names; gz selects the compression */
static void write_pair(fixture *f, const char *img_name, bool img_gz, const char *lbl_name, bool lbl_gz,
                       char img[FX_PATH], char lbl[FX_PATH]) {
    size_t len;
    uint8_t *b = fx_idx3(0x803, N, ROWS, COLS, f->px, sizeof f->px, &len);
    fx_path(img, f->dir, img_name);
    if (img_gz)
        fx_write_gz(img, b, len);
    else
        fx_write(img, b, len);
    free(b);
    if (!lbl_name) return;
    b = fx_idx1(0x801, N, f->labels, N, &len);
    fx_path(lbl, f->dir, lbl_name);
    if (lbl_gz)
        fx_write_gz(lbl, b, len);
    else
        fx_write(lbl, b, len);
    free(b);
}

static void check_loaded(const fixture *f, const clgan_dataset *ds, bool labelled) {
    assert_int_equal(ds->n, N);
    assert_int_equal(ds->c, 1);
    assert_int_equal(ds->h, ROWS);
    assert_int_equal(ds->w, COLS);
    assert_non_null(ds->x);
    for (int i = 0; i < N * ROWS * COLS; i++) assert_true(ds->x[i] == fx_unit(f->px[i]));
    assert_true(ds->x[0] == -1.0f);
    assert_true(ds->x[1] == 1.0f);
    if (labelled) {
        assert_int_equal(ds->num_classes, 10);
        assert_non_null(ds->y);
        for (int i = 0; i < N; i++) assert_int_equal(ds->y[i], f->labels[i]);
    } else {
        assert_int_equal(ds->num_classes, 0);
        assert_null(ds->y);
    }
}

static void test_raw_round_trip(void **state) {
    fixture *f = *state;
    char img[FX_PATH], lbl[FX_PATH];
    clgan_dataset ds;
    write_pair(f, "a-images", false, "a-labels", false, img, lbl);
    assert_int_equal(clgan_dataset_load_idx(img, lbl, &ds), CLGAN_OK);
    check_loaded(f, &ds, true);
    clgan_dataset_free(&ds);
    assert_null(ds.x);
    clgan_dataset_free(&ds); /* freeing twice is harmless */

    assert_int_equal(clgan_dataset_load_idx(img, NULL, &ds), CLGAN_OK);
    check_loaded(f, &ds, false);
    clgan_dataset_free(&ds);
}

static void test_gzip_round_trip(void **state) {
    fixture *f = *state;
    char img[FX_PATH], lbl[FX_PATH];
    clgan_dataset ds;
    /* names without .gz: compression is recognised by content, not name */
    write_pair(f, "b-images", true, "b-labels", true, img, lbl);
    assert_int_equal(clgan_dataset_load_idx(img, lbl, &ds), CLGAN_OK);
    check_loaded(f, &ds, true);
    clgan_dataset_free(&ds);

    /* and a mixed pair */
    write_pair(f, "c-images.gz", true, "c-labels", false, img, lbl);
    assert_int_equal(clgan_dataset_load_idx(img, lbl, &ds), CLGAN_OK);
    check_loaded(f, &ds, true);
    clgan_dataset_free(&ds);
}

/* loads a one-off images file and expects CLGAN_ERR_FORMAT naming it */
static void expect_bad_images(fixture *f, const char *name, const void *data, size_t len, bool gz, const char *what) {
    char p[FX_PATH];
    clgan_dataset ds;
    fx_path(p, f->dir, name);
    if (gz)
        fx_write_gz(p, data, len);
    else
        fx_write(p, data, len);
    assert_int_equal(clgan_dataset_load_idx(p, NULL, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, what, NULL);
    assert_null(ds.x);
    assert_int_equal(ds.n, 0);
}

static void test_bad_magic(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *b = fx_idx3(0x804, N, ROWS, COLS, f->px, sizeof f->px, &len);
    expect_bad_images(f, "magic-dims", b, len, false, "offset 0: magic 0x00000804, expected 0x00000803");
    expect_bad_images(f, "magic-dims.gz", b, len, true, "offset 0: magic 0x00000804");
    fx_be32(b, 0x00000d03); /* f32 elements */
    expect_bad_images(f, "magic-type", b, len, false, "element type 0x0d (f32)");
    fx_be32(b, 0x12340803);
    expect_bad_images(f, "magic-junk", b, len, false, "not an idx file");
    free(b);
    /* a label file where images belong */
    b = fx_idx1(0x801, N, f->labels, N, &len);
    expect_bad_images(f, "labels-as-images", b, len, false, "label file?");
    free(b);
}

static void test_bad_dims(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *b = fx_idx3(0x803, N, 0, COLS, NULL, 0, &len);
    expect_bad_images(f, "zero-rows", b, len, false, "offset 8: rows 0");
    free(b);
    b = fx_idx3(0x803, N, 0x10000, 0x10000, NULL, 0, &len); /* one image would not fit an int */
    expect_bad_images(f, "huge-image", b, len, false, "offset 8: 65536 x 65536 pixels per image");
    free(b);
    b = fx_idx3(0x803, 0x80000000u, ROWS, COLS, NULL, 0, &len);
    expect_bad_images(f, "huge-count", b, len, false, "offset 4: image count 2147483648");
    free(b);
    /* a header claiming ~2^61 bytes, backed by 140: must be refused without
     * allocating (ASan aborts on an allocation that large) */
    b = fx_idx3(0x803, 0x7fffffffu, 0x7fff, 0x7fff, f->px, sizeof f->px, &len);
    expect_bad_images(f, "claims-too-much", b, len, false, "found 156");
    expect_bad_images(f, "claims-too-much.gz", b, len, true, "found 156");
    free(b);
}

static void test_truncated_and_long(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *b = fx_idx3(0x803, N, ROWS, COLS, f->px, sizeof f->px, &len);
    const char *short_msg = "156 bytes of image data expected (7\u00d75\u00d74 + 16 header), found 155";
    expect_bad_images(f, "short", b, len - 1, false, short_msg);
    expect_bad_images(f, "short.gz", b, len - 1, true, short_msg);
    expect_bad_images(f, "header-only", b, 10, false, "offset 10: file ends inside the 16-byte header");
    expect_bad_images(f, "tiny", b, 2, false, "file ends inside the magic number");
    expect_bad_images(f, "empty", b, 0, false, "offset 0");
    free(b);

    uint8_t *longer = malloc(len + 3);
    assert_non_null(longer);
    b = fx_idx3(0x803, N, ROWS, COLS, f->px, sizeof f->px, &len);
    memcpy(longer, b, len);
    memset(longer + len, 0, 3);
    expect_bad_images(f, "long", longer, len + 3, false, "expected (7\u00d75\u00d74 + 16 header), found 159");
    expect_bad_images(f, "long.gz", longer, len + 3, true, "offset 156: 156 bytes of image data expected");
    free(longer);
    free(b);
}

static void test_truncated_gzip(void **state) {
    fixture *f = *state;
    char img[FX_PATH], lbl[FX_PATH], cut[FX_PATH];
    clgan_dataset ds;
    write_pair(f, "t-images.gz", true, NULL, false, img, lbl);
    size_t len;
    uint8_t *gz = fx_read(img, &len);
    fx_path(cut, f->dir, "cut.gz");
    /* cut in the deflate stream, and cut only the 8-byte trailer (CRC-32 and
     * length), which zlib checks at the end of the stream */
    size_t cuts[] = {len / 2, len - 8, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        fx_write(cut, gz, cuts[k]);
        assert_int_equal(clgan_dataset_load_idx(cut, NULL, &ds), CLGAN_ERR_FORMAT);
        fx_error_has(cut, NULL);
        assert_null(ds.x);
    }
    /* a flipped byte in the compressed data: a CRC or inflate error */
    gz[len / 2] ^= 0x55;
    fx_write(cut, gz, len);
    assert_int_equal(clgan_dataset_load_idx(cut, NULL, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(cut, "gzip", NULL);
    free(gz);

    /* the message names the decompressed offset where decoding failed */
    fx_write(cut, (uint8_t[]){0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff}, 13);
    assert_int_equal(clgan_dataset_load_idx(cut, NULL, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(cut, "gzip", "decompressed offset 0", NULL);
}

/* loads the fixture's images with a one-off labels file */
static void expect_bad_labels(fixture *f, const char *name, const void *data, size_t len, const char *what) {
    char img[FX_PATH], lbl[FX_PATH], p[FX_PATH];
    clgan_dataset ds;
    write_pair(f, "good-images", false, NULL, false, img, lbl);
    fx_path(p, f->dir, name);
    fx_write(p, data, len);
    assert_int_equal(clgan_dataset_load_idx(img, p, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, what, NULL);
    assert_null(ds.x);
    assert_null(ds.y);
}

static void test_bad_labels(void **state) {
    fixture *f = *state;
    size_t len;
    uint8_t *b = fx_idx1(0x801, N - 1, f->labels, N - 1, &len);
    expect_bad_labels(f, "count-mismatch", b, len, "offset 4: 6 labels, expected 7");
    fx_error_has("good-images", NULL); /* and names the images file */
    free(b);

    uint8_t bad[N];
    memcpy(bad, f->labels, N);
    bad[4] = 10;
    b = fx_idx1(0x801, N, bad, N, &len);
    expect_bad_labels(f, "out-of-range", b, len, "offset 12: label 10, expected < 10");
    free(b);

    b = fx_idx1(0x803, N, f->labels, N, &len);
    expect_bad_labels(f, "labels-magic", b, len, "offset 0: magic 0x00000803, expected 0x00000801");
    free(b);

    b = fx_idx1(0x801, N, f->labels, N, &len);
    expect_bad_labels(f, "labels-short", b, len - 2, "15 bytes of label data expected (7 + 8 header), found 13");
    free(b);
}

static void test_missing_file(void **state) {
    fixture *f = *state;
    char p[FX_PATH];
    clgan_dataset ds;
    fx_path(p, f->dir, "does-not-exist");
    assert_int_equal(clgan_dataset_load_idx(p, NULL, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(p, NULL);
    assert_int_equal(clgan_dataset_load_idx(f->dir, NULL, &ds), CLGAN_ERR_IO);
    fx_error_has(f->dir, "not a regular file", NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_magic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_dims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests_name("data_idx", tests, NULL, NULL);
}
