/* CIFAR-10 binary loader on files written here: layout (label byte, then the
 * R, G and B planes), the folder forms, and malformed files. */
#include "fixtures.h"

enum { REC = 3073, PIX = 3072 };

/* record r of batch b: label and pixels derived from (b, r) so that any
 * mix-up of records, planes or files shows */
static void make_record(uint8_t *rec, int b, int r) {
    rec[0] = (uint8_t)((b * 3 + r) % 10);
    for (int k = 0; k < PIX; k++) rec[1 + k] = (uint8_t)(k * 7 + b * 31 + r * 11 + k / 1024 * 50);
}

static void write_batch(const char *path, int b, int records, bool gz) {
    uint8_t *buf = malloc((size_t)records * REC);
    assert_non_null(buf);
    for (int r = 0; r < records; r++) make_record(buf + (size_t)r * REC, b, r);
    if (gz)
        fx_write_gz(path, buf, (size_t)records * REC);
    else
        fx_write(path, buf, (size_t)records * REC);
    free(buf);
}

static void check_sample(const clgan_dataset *ds, int s, int b, int r) {
    uint8_t rec[REC];
    make_record(rec, b, r);
    assert_int_equal(ds->y[s], rec[0]);
    const float *x = ds->x + (size_t)s * PIX;
    for (int k = 0; k < PIX; k++) assert_true(x[k] == fx_unit(rec[1 + k]));
}

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

static void test_single_file(void **state) {
    const char *dir = *state;
    char p[FX_PATH];
    clgan_dataset ds;
    fx_path(p, dir, "one.bin");
    write_batch(p, 4, 3, false);
    assert_int_equal(clgan_dataset_load_cifar10(p, true, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 3);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.h, 32);
    assert_int_equal(ds.w, 32);
    assert_int_equal(ds.num_classes, 10);
    assert_string_equal(ds.name, "cifar10");
    for (int r = 0; r < 3; r++) check_sample(&ds, r, 4, r);
    /* NCHW: pixel (row 1, col 2) of the G plane is byte 1 + 1024 + 32 + 2 */
    uint8_t rec[REC];
    make_record(rec, 4, 1);
    assert_true(ds.x[PIX + 1 * 1024 + 1 * 32 + 2] == fx_unit(rec[1 + 1024 + 32 + 2]));
    clgan_dataset_free(&ds);

    fx_path(p, dir, "one-gz.bin");
    write_batch(p, 2, 2, true);
    assert_int_equal(clgan_dataset_load_cifar10(p, false, &ds), CLGAN_OK);
    assert_int_equal(ds.n, 2);
    check_sample(&ds, 1, 2, 1);
    clgan_dataset_free(&ds);
}

static void write_folder(const char *dir) {
    char p[FX_PATH];
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        fx_path(p, dir, name);
        write_batch(p, b, b == 3 ? 1 : 2, false);
    }
    fx_path(p, dir, "test_batch.bin");
    write_batch(p, 9, 3, false);
}

static void test_folder(void **state) {
    const char *dir = *state;
    char sub[FX_PATH];
    clgan_dataset ds;
    fx_mkdir(dir, "cifar-10-batches-bin");
    fx_path(sub, dir, "cifar-10-batches-bin");
    write_folder(sub);

    /* the batches folder itself, and the folder it was unpacked in */
    const char *paths[] = {sub, dir};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(clgan_dataset_load_cifar10(paths[i], true, &ds), CLGAN_OK);
        assert_int_equal(ds.n, 9);
        int s = 0;
        for (int b = 1; b <= 5; b++)
            for (int r = 0; r < (b == 3 ? 1 : 2); r++) check_sample(&ds, s++, b, r);
        clgan_dataset_free(&ds);

        assert_int_equal(clgan_dataset_load_cifar10(paths[i], false, &ds), CLGAN_OK);
        assert_int_equal(ds.n, 3);
        for (int r = 0; r < 3; r++) check_sample(&ds, r, 9, r);
        clgan_dataset_free(&ds);
    }

    char p[FX_PATH];
    fx_path(p, sub, "data_batch_4.bin");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(clgan_dataset_load_cifar10(sub, true, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(sub, "data_batch_4.bin", NULL);
    assert_null(ds.x);
}

static void test_bad_files(void **state) {
    const char *dir = *state;
    char p[FX_PATH];
    clgan_dataset ds;
    uint8_t *buf = calloc(3, REC);
    assert_non_null(buf);
    for (int r = 0; r < 3; r++) make_record(buf + (size_t)r * REC, 0, r);

    fx_path(p, dir, "partial.bin");
    fx_write(p, buf, 2 * REC + 5);
    assert_int_equal(clgan_dataset_load_cifar10(p, true, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, "offset 6151", "record 2", "multiple of 3073", NULL);
    assert_null(ds.x);

    fx_path(p, dir, "partial.gz");
    fx_write_gz(p, buf, 2 * REC + 5);
    assert_int_equal(clgan_dataset_load_cifar10(p, true, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, "offset 6151", "multiple of 3073", NULL);

    fx_path(p, dir, "empty.bin");
    fx_write(p, buf, 0);
    assert_int_equal(clgan_dataset_load_cifar10(p, true, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, "non-zero multiple", NULL);

    buf[REC] = 10; /* label of record 1 */
    fx_path(p, dir, "label.bin");
    fx_write(p, buf, 3 * REC);
    assert_int_equal(clgan_dataset_load_cifar10(p, true, &ds), CLGAN_ERR_FORMAT);
    fx_error_has(p, "offset 3073: label 10 of record 1, expected < 10", NULL);
    free(buf);

    fx_path(p, dir, "missing.bin");
    assert_int_equal(clgan_dataset_load_cifar10(p, true, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has(p, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_single_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
    };
    return cmocka_run_group_tests_name("data_cifar10", tests, NULL, NULL);
}
