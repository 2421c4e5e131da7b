/* Seeded batching: determinism, each sample once per epoch, exact resume
 * from (epoch, pos), and an unbiased shuffle. */
#include "fixtures.h"

enum { N = 103, C = 1, H = 2, W = 3, PER = C * H * W, BATCH = 10 };

/* sample i holds i in every element (+ k/8 so elements differ), label i % 7 */
static void make_dataset(clgan_dataset *ds, int n, bool labelled) {
    memset(ds, 0, sizeof *ds);
    snprintf(ds->name, sizeof ds->name, "counting");
    ds->n = n;
    ds->c = C;
    ds->h = H;
    ds->w = W;
    ds->x = malloc((size_t)n * PER * sizeof(float));
    assert_non_null(ds->x);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < PER; k++) ds->x[i * PER + k] = (float)i + k / 8.0f;
    if (labelled) {
        ds->num_classes = 7;
        ds->y = malloc((size_t)n * sizeof(int32_t));
        assert_non_null(ds->y);
        for (int i = 0; i < n; i++) ds->y[i] = i % 7;
    }
}

/* the sample indices of the next batch, checking x and y are that sample's */
static void next_indices(clgan_loader *l, int *idx) {
    float x[BATCH * PER];
    int32_t y[BATCH];
    clgan_loader_next(l, x, y);
    for (int b = 0; b < BATCH; b++) {
        int i = (int)x[b * PER];
        idx[b] = i;
        assert_true(i >= 0 && i < l->ds->n);
        for (int k = 0; k < PER; k++) assert_true(x[b * PER + k] == (float)i + k / 8.0f);
        assert_int_equal(y[b], l->ds->y ? i % 7 : 0);
    }
}

static void test_each_sample_once_per_epoch(void **state) {
    (void)state;
    clgan_dataset ds;
    clgan_loader l;
    make_dataset(&ds, N, true);
    assert_int_equal(clgan_loader_init(&l, &ds, BATCH, 5), CLGAN_OK);
    assert_int_equal(clgan_loader_batches_per_epoch(&l), N / BATCH);
    int first_epoch[N / BATCH * BATCH];
    for (uint64_t e = 0; e < 4; e++) {
        int seen[N] = {0};
        int order[N / BATCH * BATCH];
        for (int b = 0; b < N / BATCH; b++) {
            next_indices(&l, order + b * BATCH);
            assert_int_equal(l.epoch, e); /* the partial batch is dropped, not wrapped */
        }
        for (int k = 0; k < N / BATCH * BATCH; k++) seen[order[k]]++;
        int once = 0;
        for (int i = 0; i < N; i++) {
            assert_true(seen[i] <= 1);
            once += seen[i];
        }
        assert_int_equal(once, N / BATCH * BATCH);
        if (e == 0)
            memcpy(first_epoch, order, sizeof order);
        else
            assert_memory_not_equal(first_epoch, order, sizeof order); /* a new order each epoch */
    }
    clgan_loader_free(&l);
    clgan_dataset_free(&ds);
}

static void test_determinism(void **state) {
    (void)state;
    clgan_dataset ds;
    clgan_loader a, b, c;
    make_dataset(&ds, N, true);
    assert_int_equal(clgan_loader_init(&a, &ds, BATCH, 11), CLGAN_OK);
    assert_int_equal(clgan_loader_init(&b, &ds, BATCH, 11), CLGAN_OK);
    assert_int_equal(clgan_loader_init(&c, &ds, BATCH, 12), CLGAN_OK);
    int differs = 0;
    for (int k = 0; k < 35; k++) {
        int ia[BATCH], ib[BATCH], ic[BATCH];
        next_indices(&a, ia);
        next_indices(&b, ib);
        next_indices(&c, ic);
        assert_memory_equal(ia, ib, sizeof ia);
        differs += memcmp(ia, ic, sizeof ia) != 0;
    }
    assert_true(differs > 30);
    clgan_loader_free(&a);
    clgan_loader_free(&b);
    clgan_loader_free(&c);
    clgan_dataset_free(&ds);
}

static void test_seek_resumes_exactly(void **state) {
    (void)state;
    clgan_dataset ds;
    clgan_loader a, b;
    make_dataset(&ds, N, true);
    assert_int_equal(clgan_loader_init(&a, &ds, BATCH, 99), CLGAN_OK);
    enum { TOTAL = 47, CUT = 23 };
    int seq[TOTAL][BATCH];
    uint64_t epoch_at[TOTAL];
    size_t pos_at[TOTAL];
    for (int k = 0; k < TOTAL; k++) {
        epoch_at[k] = a.epoch;
        pos_at[k] = a.pos;
        next_indices(&a, seq[k]);
    }
    /* resume from every saved state, including the end of an epoch (pos 100) */
    const int cuts[] = {0, 1, 9, 10, 11, CUT, 40};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        int from = cuts[c];
        assert_int_equal(clgan_loader_init(&b, &ds, BATCH, 99), CLGAN_OK);
        assert_int_equal(clgan_loader_seek(&b, epoch_at[from], pos_at[from]), CLGAN_OK);
        for (int k = from; k < TOTAL; k++) {
            int got[BATCH];
            next_indices(&b, got);
            assert_memory_equal(got, seq[k], sizeof got);
        }
        clgan_loader_free(&b);
    }
    assert_int_equal(pos_at[10], 100);
    assert_int_equal(epoch_at[10], 0);
    assert_int_equal(epoch_at[11], 1);

    /* the order of an epoch depends on (seed, epoch) only: jumping straight
     * to epoch 3 gives what walking there gave */
    assert_int_equal(clgan_loader_init(&b, &ds, BATCH, 99), CLGAN_OK);
    assert_int_equal(clgan_loader_seek(&b, 3, 0), CLGAN_OK);
    int got[BATCH];
    next_indices(&b, got);
    assert_int_equal(epoch_at[30], 2); /* batch 30 is epoch 3's first: the state before it is (2, 100) */
    assert_int_equal(pos_at[30], 100);
    assert_memory_equal(got, seq[30], sizeof got);
    /* and back to an earlier epoch */
    assert_int_equal(clgan_loader_seek(&b, 1, 20), CLGAN_OK);
    next_indices(&b, got);
    assert_memory_equal(got, seq[12], sizeof got);
    clgan_loader_free(&b);
    clgan_loader_free(&a);
    clgan_dataset_free(&ds);
}

/* all 24 orders of 4 samples appear equally often: catches the classic
 * Fisher-Yates slips (j from [0, i) or from [0, n)) */
static void test_shuffle_is_uniform(void **state) {
    (void)state;
    clgan_dataset ds;
    clgan_loader l;
    make_dataset(&ds, 4, false);
    assert_int_equal(clgan_loader_init(&l, &ds, 1, 3), CLGAN_OK);
    enum { EPOCHS = 24000 };
    int counts[256] = {0};
    for (uint64_t e = 0; e < EPOCHS; e++) {
        assert_int_equal(clgan_loader_seek(&l, e, 0), CLGAN_OK);
        int code = 0;
        for (int k = 0; k < 4; k++) code = code * 4 + (int)l.perm[k];
        counts[code]++;
    }
    int distinct = 0;
    for (int code = 0; code < 256; code++) {
        if (!counts[code]) continue;
        distinct++;
        /* 1000 expected, binomial sd ~31 */
        if (abs(counts[code] - EPOCHS / 24) > 160) {
            print_error("order %d came %d times of %d\n", code, counts[code], EPOCHS);
            fail();
        }
    }
    assert_int_equal(distinct, 24);

    /* unlabelled data: y gets zeros; y may be NULL */
    float x[PER];
    int32_t y = 77;
    clgan_loader_next(&l, x, &y);
    assert_int_equal(y, 0);
    clgan_loader_next(&l, x, NULL);
    clgan_loader_free(&l);
    clgan_dataset_free(&ds);
}

static void test_bad_args(void **state) {
    (void)state;
    clgan_dataset ds;
    clgan_loader l;
    make_dataset(&ds, N, true);
    assert_int_equal(clgan_loader_init(&l, &ds, 0, 1), CLGAN_ERR_INVALID_ARG);
    assert_null(l.perm);
    assert_int_equal(clgan_loader_init(&l, &ds, N + 1, 1), CLGAN_ERR_INVALID_ARG);
    fx_error_has("counting", "batch 104", NULL);
    assert_int_equal(clgan_loader_init(&l, &ds, N, 1), CLGAN_OK); /* one batch per epoch */
    assert_int_equal(clgan_loader_seek(&l, 0, N + 1), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_loader_seek(&l, 0, N), CLGAN_OK);
    float *x = malloc((size_t)N * PER * sizeof(float));
    assert_non_null(x);
    clgan_loader_next(&l, x, NULL);
    assert_int_equal(l.epoch, 1);
    free(x);
    clgan_loader_free(&l);
    clgan_loader_free(&l);
    clgan_dataset_free(&ds);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_sample_once_per_epoch),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_seek_resumes_exactly),
        cmocka_unit_test(test_shuffle_is_uniform),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests_name("data_loader", tests, NULL, NULL);
}
