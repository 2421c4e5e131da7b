/* Folder-of-PNGs loader: order, gray/RGB, crop and resampling arithmetic,
 * class sub-folders, and bad files. Fixtures are written with libpng. */
#include "fixtures.h"

static int setup(void **state) {
    char *dir = malloc(FX_PATH);
    if (!dir) return -1;
    fx_tmpdir(dir);
    *state = dir;
    return 0;
}

static int teardown(void **state) {
    fx_rmtree(*state);
    free(*state);
    return 0;
}

/* a w x h gray PNG of one value */
static void flat_gray(const char *dir, const char *name, int w, int h, uint8_t v) {
    char p[FX_PATH];
    uint8_t *px = malloc((size_t)w * h);
    assert_non_null(px);
    memset(px, v, (size_t)w * h);
    fx_path(p, dir, name);
    fx_write_png(p, px, w, h, 1);
    free(px);
}

static void test_order_and_filter(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    flat_gray(dir, "b.png", 4, 4, 20);
    flat_gray(dir, "a.png", 4, 4, 10);
    flat_gray(dir, "C.PNG", 4, 4, 30); /* 'C' sorts before 'a' */
    flat_gray(dir, ".hidden.png", 4, 4, 99);
    fx_mkdir(dir, "ignored-subfolder"); /* PNGs at the top: unlabelled, sub-folders ignored */
    flat_gray(dir, "ignored-subfolder/x.png", 4, 4, 99);
    char p[FX_PATH];
    fx_path(p, dir, "notes.txt");
    fx_write(p, "not an image", 12);

    assert_int_equal(clgan_dataset_load_folder(dir, 1, 4, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 4);
    assert_int_equal(ds.w, 4);
    assert_int_equal(ds.num_classes, 0);
    assert_null(ds.y);
    const uint8_t want[3] = {30, 10, 20};
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < 16; k++) assert_true(ds.x[s * 16 + k] == fx_unit(want[s]));
    clgan_dataset_free(&ds);

    /* gray read as RGB: three equal planes */
    assert_int_equal(clgan_dataset_load_folder(dir, 3, 4, &ds), CLGAN_OK);
    assert_int_equal(ds.c, 3);
    for (int k = 0; k < 48; k++) assert_true(ds.x[k] == fx_unit(30));
    clgan_dataset_free(&ds);
}

static void test_rgb_planes_and_crop(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    /* 6 wide, 4 tall: the central 4x4 square is columns 1..4 */
    enum { W = 6, H = 4 };
    uint8_t px[H][W][3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int ch = 0; ch < 3; ch++) px[y][x][ch] = (uint8_t)(100 * ch + 10 * y + x);
    char p[FX_PATH];
    fx_path(p, dir, "wide.png");
    fx_write_png(p, &px[0][0][0], W, H, 3);

    assert_int_equal(clgan_dataset_load_folder(dir, 3, 4, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 1);
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++) assert_true(ds.x[ch * 16 + y * 4 + x] == fx_unit(px[y][x + 1][ch]));
    clgan_dataset_free(&ds);
}

static void test_resample(void **state) {
    const char *dir = *state;
    char sub[FX_PATH], p[FX_PATH];
    clgan_dataset ds;

    /* shrinking 8x8 -> 4x4 averages each 2x2 block */
    fx_mkdir(dir, "down");
    fx_path(sub, dir, "down");
    uint8_t big[8][8];
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 8; x++) big[y][x] = (uint8_t)(y * 24 + x * 8 + ((x + y) % 2) * 4);
    fx_path(p, sub, "big.png");
    fx_write_png(p, &big[0][0], 8, 8, 1);
    assert_int_equal(clgan_dataset_load_folder(sub, 1, 4, &ds), CLGAN_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int sum = big[2 * y][2 * x] + big[2 * y][2 * x + 1] + big[2 * y + 1][2 * x] + big[2 * y + 1][2 * x + 1];
            float mean = (float)sum / 4.0f;
            assert_float_equal(ds.x[y * 4 + x], mean / 127.5f - 1.0f, 1e-5);
        }
    clgan_dataset_free(&ds);

    /* shrinking by a non-integer factor (3 -> 2) weighs by covered area */
    fx_mkdir(dir, "third");
    fx_path(sub, dir, "third");
    uint8_t three[3][3] = {{0, 90, 180}, {0, 90, 180}, {0, 90, 180}};
    fx_path(p, sub, "three.png");
    fx_write_png(p, &three[0][0], 3, 3, 1);
    assert_int_equal(clgan_dataset_load_folder(sub, 1, 2, &ds), CLGAN_OK);
    /* output column 0 covers source [0, 1.5): (0 * 1 + 90 * 0.5) / 1.5 = 30 */
    assert_float_equal(ds.x[0], 30 / 127.5f - 1.0f, 1e-5);
    assert_float_equal(ds.x[1], 150 / 127.5f - 1.0f, 1e-5);
    clgan_dataset_free(&ds);

    /* growing 2x2 -> 4x4 is bilinear with pixel centres at +0.5 */
    fx_mkdir(dir, "up");
    fx_path(sub, dir, "up");
    uint8_t small[2][2] = {{0, 200}, {0, 200}};
    fx_path(p, sub, "small.png");
    fx_write_png(p, &small[0][0], 2, 2, 1);
    assert_int_equal(clgan_dataset_load_folder(sub, 1, 4, &ds), CLGAN_OK);
    const float want[4] = {0, 50, 150, 200};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) assert_float_equal(ds.x[y * 4 + x], want[x] / 127.5f - 1.0f, 1e-5);
    clgan_dataset_free(&ds);
}

static void test_class_subfolders(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    /* "a" < "a-b" as names, but "a-b/..." < "a/..." as paths: classes follow names */
    fx_mkdir(dir, "a");
    fx_mkdir(dir, "a-b");
    fx_mkdir(dir, "cat");
    flat_gray(dir, "a-b/y.png", 2, 2, 1);
    flat_gray(dir, "a/z.png", 2, 2, 0);
    flat_gray(dir, "cat/2.png", 2, 2, 3);
    flat_gray(dir, "cat/1.png", 2, 2, 2);
    char p[FX_PATH];
    fx_path(p, dir, "README.txt"); /* a stray non-PNG file does not make it unlabelled */
    fx_write(p, "x", 1);

    assert_int_equal(clgan_dataset_load_folder(dir, 1, 2, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 4);
    assert_int_equal(ds.num_classes, 3);
    assert_non_null(ds.y);
    const int32_t labels[4] = {0, 1, 2, 2};
    const uint8_t values[4] = {0, 1, 2, 3};
    for (int s = 0; s < 4; s++) {
        assert_int_equal(ds.y[s], labels[s]);
        assert_true(ds.x[s * 4] == fx_unit(values[s]));
    }
    clgan_dataset_free(&ds);
}

static void test_bad_inputs(void **state) {
    const char *dir = *state;
    char p[FX_PATH];
    clgan_dataset ds;

    assert_int_equal(clgan_dataset_load_folder(dir, 1, 8, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(dir, "no *.png", NULL);

    flat_gray(dir, "good.png", 4, 4, 7);
    fx_path(p, dir, "junk.png");
    fx_write(p, "this is not a PNG file", 22);
    assert_int_equal(clgan_dataset_load_folder(dir, 1, 8, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, NULL);
    assert_null(ds.x);
    assert_int_equal(unlink(p), 0);

    /* a real PNG cut short */
    char good[FX_PATH];
    fx_path(good, dir, "good.png");
    size_t len;
    uint8_t *png = fx_read(good, &len);
    fx_path(p, dir, "truncated.png");
    fx_write(p, png, len / 2);
    free(png);
    assert_int_equal(clgan_dataset_load_folder(dir, 3, 8, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, NULL);
    assert_null(ds.x);

    assert_int_equal(clgan_dataset_load_folder(dir, 2, 8, &ds), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_dataset_load_folder(dir, 1, 0, &ds), CLGAN_ERR_INVALID_ARG);
    fx_path(p, dir, "nope");
    assert_int_equal(clgan_dataset_load_folder(p, 1, 8, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(p, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rgb_planes_and_crop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resample, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_subfolders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
    };
    return cmocka_run_group_tests_name("data_folder", tests, NULL, NULL);
}
