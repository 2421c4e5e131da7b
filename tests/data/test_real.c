/* The real data sets, when present: the MNIST test set from
 * $CLGAN_SHARED_DATA/mnist and Fashion-MNIST from the Debian package
 * dataset-fashion-mnist. Each test is skipped when its files are absent;
 * the program exits 77 (skipped) when none is present. */
#include "fixtures.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static bool mnist_dir(char out[FX_PATH]) {
    const char *shared = getenv("CLGAN_SHARED_DATA");
    if (!shared || !*shared) return false;
    snprintf(out, FX_PATH, "%s/mnist", shared);
    char p[FX_PATH];
    fx_path(p, out, "t10k-images-idx3-ubyte.gz");
    return access(p, R_OK) == 0;
}

static bool have_fashion(void) { return access(FASHION_DIR "/train-images-idx3-ubyte.gz", R_OK) == 0; }

static void check_histogram(const clgan_dataset *ds, const int want[10]) {
    int hist[10] = {0};
    for (int i = 0; i < ds->n; i++) {
        assert_true(ds->y[i] >= 0 && ds->y[i] < 10);
        hist[ds->y[i]]++;
    }
    for (int k = 0; k < 10; k++) {
        if (hist[k] != want[k]) {
            print_error("class %d: %d samples, expected %d\n", k, hist[k], want[k]);
            fail();
        }
    }
}

/* pixel sum of sample s (pixels recovered from the floats, which must be
 * exactly p/127.5 - 1) */
static long image_sum(const clgan_dataset *ds, int s) {
    size_t per = clgan_dataset_sample_floats(ds);
    long sum = 0;
    for (size_t k = 0; k < per; k++) {
        float v = ds->x[(size_t)s * per + k];
        int p = fx_pixel(v);
        assert_true(p >= 0 && p <= 255 && v == fx_unit((uint8_t)p));
        sum += p;
    }
    return sum;
}

static void test_mnist_test_set(void **state) {
    (void)state;
    char dir[FX_PATH];
    if (!mnist_dir(dir)) skip();
    clgan_dataset ds;
    assert_int_equal(clgan_dataset_open("mnist", dir, false, 0, 0, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 10000);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 28);
    assert_int_equal(ds.w, 28);
    assert_int_equal(ds.num_classes, 10);
    const int hist[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    check_histogram(&ds, hist);
    const int32_t first[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
    assert_memory_equal(ds.y, first, sizeof first);
    /* the first image (a 7) has mean pixel 23.54 */
    assert_int_equal(image_sum(&ds, 0), 18454);
    uint64_t total = 0;
    for (int s = 0; s < ds.n; s++) total += (uint64_t)image_sum(&ds, s);
    assert_int_equal(total, 264923200);
    clgan_dataset_free(&ds);
}

static void test_fashion_train(void **state) {
    (void)state;
    if (!have_fashion()) skip();
    clgan_dataset ds;
    /* NULL path: the Debian package's folder is the default */
    assert_int_equal(clgan_dataset_open("fashion-mnist", NULL, true, 0, 0, 0, &ds), CLGAN_OK);
    assert_string_equal(ds.name, "fashion-mnist");
    assert_int_equal(ds.n, 60000);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 28);
    assert_int_equal(ds.w, 28);
    const int hist[10] = {6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000, 6000};
    check_histogram(&ds, hist);
    assert_int_equal(ds.y[0], 9); /* an ankle boot */
    assert_int_equal(image_sum(&ds, 0), 76247);
    clgan_dataset_free(&ds);
}

static void test_fashion_test_resized(void **state) {
    (void)state;
    if (!have_fashion()) skip();
    clgan_dataset ds, big;
    assert_int_equal(clgan_dataset_open("fashion-mnist", FASHION_DIR, false, 0, 0, 0, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 10000);
    const int hist[10] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    check_histogram(&ds, hist);
    assert_int_equal(image_sum(&ds, 0), 33456);

    /* the DCGAN shape: 28 -> 32 bilinear, gray -> RGB */
    assert_int_equal(clgan_dataset_open("fashion-mnist", NULL, false, 32, 3, 0, &big), CLGAN_OK);
    assert_int_equal(big.n, 10000);
    assert_int_equal(big.c, 3);
    assert_int_equal(big.h, 32);
    assert_int_equal(big.w, 32);
    assert_memory_equal(big.y, ds.y, 10000 * sizeof(int32_t));
    /* enlarging by interpolation keeps values in range and the mean close */
    for (int s = 0; s < 3; s++) {
        double m28 = 0, m32 = 0;
        for (int k = 0; k < 28 * 28; k++) m28 += ds.x[s * 784 + k];
        for (int k = 0; k < 32 * 32; k++) {
            float v = big.x[(size_t)s * 3072 + k];
            assert_true(v >= -1.0f && v <= 1.0f);
            assert_true(v == big.x[(size_t)s * 3072 + 1024 + k] && v == big.x[(size_t)s * 3072 + 2048 + k]);
            m32 += v;
        }
        assert_true(fabs(m28 / 784 - m32 / 1024) < 0.02);
    }
    clgan_dataset_free(&ds);
    clgan_dataset_free(&big);
}

int main(void) {
    char dir[FX_PATH];
    bool any = mnist_dir(dir) || have_fashion();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mnist_test_set),
        cmocka_unit_test(test_fashion_train),
        cmocka_unit_test(test_fashion_test_resized),
    };
    int failed = cmocka_run_group_tests_name("data_real", tests, NULL, NULL);
    if (failed == 0 && !any) return 77;
    return failed;
}
