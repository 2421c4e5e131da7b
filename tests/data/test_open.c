/* clgan_dataset_open: name dispatch, file discovery, default locations,
 * the "where to get it" errors, and resizing / channel conversion. */
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
    unsetenv("CLGAN_DATA_DIR");
    return 0;
}

/* n images of rows x cols (pixel = 13*i + k) and labels i % 10 in dir */
static void write_idx_pair(const char *dir, const char *images, const char *labels, int n, int rows, int cols,
                           bool gz) {
    size_t len, count = (size_t)n * rows * cols;
    uint8_t *px = malloc(count), lb[64];
    assert_non_null(px);
    assert_true(n <= 64);
    for (size_t k = 0; k < count; k++) px[k] = (uint8_t)(13 * (k / ((size_t)rows * cols)) + k % 97);
    for (int i = 0; i < n; i++) lb[i] = (uint8_t)(i % 10);
    char p[FX_PATH];
    uint8_t *b = fx_idx3(0x803, (uint32_t)n, (uint32_t)rows, (uint32_t)cols, px, count, &len);
    fx_path(p, dir, images);
    if (gz)
        fx_write_gz(p, b, len);
    else
        fx_write(p, b, len);
    free(b);
    free(px);
    if (!labels) return;
    b = fx_idx1(0x801, (uint32_t)n, lb, (size_t)n, &len);
    fx_path(p, dir, labels);
    fx_write(p, b, len);
    free(b);
}

static void test_mnist_folder(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    write_idx_pair(dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", 12, 3, 3, true);
    write_idx_pair(dir, "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte.gz", 5, 3, 3, false);

    assert_int_equal(clgan_dataset_open("mnist", dir, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_string_equal(ds.name, "mnist");
    assert_int_equal(ds.n, 12);
    assert_int_equal(ds.num_classes, 10);
    assert_int_equal(ds.y[11], 1);
    clgan_dataset_free(&ds);

    /* the labels above are plain although named .gz: content decides */
    assert_int_equal(clgan_dataset_open("mnist", dir, false, 0, 0, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 5);
    assert_non_null(ds.y);
    clgan_dataset_free(&ds);

    assert_int_equal(clgan_dataset_open("fashion-mnist", dir, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_string_equal(ds.name, "fashion-mnist");
    clgan_dataset_free(&ds);

    /* default location: $CLGAN_DATA_DIR/mnist */
    char sub[FX_PATH];
    fx_mkdir(dir, "mnist");
    fx_path(sub, dir, "mnist");
    write_idx_pair(sub, "train-images-idx3-ubyte", NULL, 4, 2, 2, false);
    assert_int_equal(setenv("CLGAN_DATA_DIR", dir, 1), 0);
    assert_int_equal(clgan_dataset_open("mnist", NULL, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 4);
    assert_null(ds.y); /* no labels file: unlabelled */
    clgan_dataset_free(&ds);
}

static void test_missing_data_says_how_to_get_it(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    assert_int_equal(setenv("CLGAN_DATA_DIR", dir, 1), 0);
    char where[FX_PATH];
    fx_path(where, dir, "mnist");
    assert_int_equal(clgan_dataset_open("mnist", NULL, true, 0, 0, 0, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(where, "train-images-idx3-ubyte", "datasets/fetch.sh mnist", "datasets/README.md", NULL);
    assert_null(ds.x);

    assert_int_equal(clgan_dataset_open("fashion-mnist", dir, false, 0, 0, 0, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(dir, "t10k-images-idx3-ubyte", "dataset-fashion-mnist", "datasets/fetch.sh fashion-mnist", NULL);

    fx_path(where, dir, "cifar10");
    assert_int_equal(clgan_dataset_open("cifar10", NULL, true, 0, 0, 0, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(where, "datasets/fetch.sh cifar10", NULL);
    fx_mkdir(dir, "cifar10");
    assert_int_equal(clgan_dataset_open("cifar10", NULL, true, 0, 0, 0, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(where, "data_batch_1.bin", "datasets/fetch.sh cifar10", NULL);

    assert_int_equal(clgan_dataset_open("imagenet", NULL, true, 0, 0, 0, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has("imagenet", "fashion-mnist", "ring8", NULL);
    assert_int_equal(clgan_dataset_open("idx", NULL, true, 0, 0, 0, &ds), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_dataset_open("folder", NULL, true, 0, 0, 0, &ds), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_dataset_open("ring8", NULL, true, 32, 0, 0, &ds), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_dataset_open("ring8", NULL, true, 0, 2, 0, &ds), CLGAN_ERR_INVALID_ARG);
}

static void test_idx_finds_labels(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    char p[FX_PATH];
    write_idx_pair(dir, "emnist-images-idx3-ubyte.gz", "emnist-labels-idx1-ubyte", 6, 2, 2, true);
    fx_path(p, dir, "emnist-images-idx3-ubyte.gz");
    assert_int_equal(clgan_dataset_open("idx", p, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 6);
    assert_non_null(ds.y);
    assert_string_equal(ds.name, "idx");
    clgan_dataset_free(&ds);

    write_idx_pair(dir, "lonely-images-idx3-ubyte", NULL, 6, 2, 2, false);
    fx_path(p, dir, "lonely-images-idx3-ubyte");
    assert_int_equal(clgan_dataset_open("idx", p, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_null(ds.y);
    clgan_dataset_free(&ds);
}

static void test_resize_and_channels(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    char p[FX_PATH];
    /* one 2x2 image with columns 0 and 200: enlarged to 4x4 bilinearly */
    uint8_t px[4] = {0, 200, 0, 200};
    size_t len;
    uint8_t *b = fx_idx3(0x803, 1, 2, 2, px, 4, &len);
    fx_path(p, dir, "tiny-images-idx3-ubyte");
    fx_write(p, b, len);
    free(b);
    assert_int_equal(clgan_dataset_open("idx", p, true, 4, 3, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 4);
    assert_int_equal(ds.w, 4);
    const float want[4] = {0, 50, 150, 200};
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                assert_float_equal(ds.x[ch * 16 + y * 4 + x], want[x] / 127.5f - 1.0f, 1e-5);
    clgan_dataset_free(&ds);

    /* same size: untouched */
    assert_int_equal(clgan_dataset_open("idx", p, true, 2, 1, 0, &ds), CLGAN_OK);
    assert_true(ds.x[1] == fx_unit(200));
    clgan_dataset_free(&ds);

    /* RGB -> gray with BT.601 weights, on CIFAR records written here */
    enum { REC = 3073 };
    uint8_t *rec = calloc(2, REC);
    assert_non_null(rec);
    for (int r = 0; r < 2; r++)
        for (int k = 0; k < 3072; k++) rec[r * REC + 1 + k] = (uint8_t)(k / 1024 == 0 ? 200 : k / 1024 == 1 ? 100 : 50);
    fx_path(p, dir, "rgb.bin");
    fx_write(p, rec, 2 * REC);
    free(rec);
    assert_int_equal(clgan_dataset_open("cifar10", p, true, 16, 1, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 2);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 16);
    float gray = 0.299f * fx_unit(200) + 0.587f * fx_unit(100) + 0.114f * fx_unit(50);
    for (int k = 0; k < 2 * 256; k++) assert_float_equal(ds.x[k], gray, 1e-5);
    clgan_dataset_free(&ds);
}

static void test_folder_defaults_and_synthetic(void **state) {
    const char *dir = *state;
    clgan_dataset ds;
    char p[FX_PATH];
    uint8_t px[3 * 3 * 3];
    memset(px, 128, sizeof px);
    fx_path(p, dir, "x.png");
    fx_write_png(p, px, 3, 3, 3);
    assert_int_equal(clgan_dataset_open("folder", dir, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, CLGAN_FOLDER_DEFAULT_SIZE);
    assert_int_equal(ds.w, CLGAN_FOLDER_DEFAULT_SIZE);
    clgan_dataset_free(&ds);

    clgan_dataset test;
    assert_int_equal(clgan_dataset_open("ring8", NULL, true, 0, 0, 5, &ds), CLGAN_OK);
    assert_int_equal(clgan_dataset_open("ring8", NULL, false, 0, 0, 5, &test), CLGAN_OK);
    assert_int_equal(ds.n, CLGAN_SYNTHETIC_TRAIN_N);
    assert_int_equal(test.n, CLGAN_SYNTHETIC_TEST_N);
    assert_memory_not_equal(ds.x, test.x, 64 * sizeof(float)); /* a split of its own */
    clgan_dataset_free(&ds);
    clgan_dataset_free(&test);
    assert_int_equal(clgan_dataset_open("grid25", NULL, true, 0, 0, 5, &ds), CLGAN_OK);
    assert_int_equal(ds.num_classes, 25);
    clgan_dataset_free(&ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mnist_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_data_says_how_to_get_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idx_finds_labels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_and_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder_defaults_and_synthetic, setup, teardown),
    };
    return cmocka_run_group_tests_name("data_open", tests, NULL, NULL);
}
