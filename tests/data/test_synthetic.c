/* Synthetic 2-D mixtures: geometry, spread, balance across modes, and the
 * documented seeding scheme. */
#include "fixtures.h"

static void check_mixture(const char *kind, int n, uint64_t seed) {
    int count;
    const float *centres;
    float sigma;
    clgan_dataset ds;
    assert_int_equal(clgan_synthetic_modes(kind, &count, &centres, &sigma), CLGAN_OK);
    assert_int_equal(clgan_dataset_synthetic(kind, n, seed, &ds), CLGAN_OK);
    assert_string_equal(ds.name, kind);
    assert_int_equal(ds.n, n);
    assert_int_equal(ds.c, 2);
    assert_int_equal(ds.h, 1);
    assert_int_equal(ds.w, 1);
    assert_int_equal(ds.num_classes, count);
    assert_non_null(ds.y);

    int *hits = calloc((size_t)count, sizeof *hits);
    assert_non_null(hits);
    double sq = 0.0;
    for (int i = 0; i < n; i++) {
        float px = ds.x[2 * i], py = ds.x[2 * i + 1];
        int k = ds.y[i];
        assert_true(k >= 0 && k < count);
        float dx = px - centres[2 * k], dy = py - centres[2 * k + 1];
        /* within 5 sigma per coordinate of its own mode (P(miss) ~ 1e-6 per sample) */
        if (fabsf(dx) > 5 * sigma || fabsf(dy) > 5 * sigma) {
            print_error("%s sample %d (%g, %g) is %g, %g from mode %d\n", kind, i, px, py, dx, dy, k);
            fail();
        }
        /* and nearest to it, so metrics assigning by distance agree */
        int best = 0;
        float bestd = INFINITY;
        for (int m = 0; m < count; m++) {
            float ex = px - centres[2 * m], ey = py - centres[2 * m + 1];
            if (ex * ex + ey * ey < bestd) {
                bestd = ex * ex + ey * ey;
                best = m;
            }
        }
        assert_int_equal(best, k);
        hits[k]++;
        sq += (double)dx * dx + (double)dy * dy;
    }
    /* per-coordinate std of the noise is sigma (to 5%: n*2 draws) */
    double sd = sqrt(sq / (2.0 * n));
    assert_true(fabs(sd - sigma) < 0.05 * sigma);
    /* each mode holds n/count samples, to 5 binomial standard deviations */
    double p = 1.0 / count, mean = n * p, slack = 5 * sqrt(n * p * (1 - p));
    for (int m = 0; m < count; m++) {
        if (fabs(hits[m] - mean) > slack) {
            print_error("%s mode %d has %d samples, expected %.0f +- %.0f\n", kind, m, hits[m], mean, slack);
            fail();
        }
    }
    free(hits);
    clgan_dataset_free(&ds);
}

static void test_ring8(void **state) {
    (void)state;
    int count;
    const float *c;
    float sigma;
    assert_int_equal(clgan_synthetic_modes("ring8", &count, &c, &sigma), CLGAN_OK);
    assert_int_equal(count, 8);
    assert_true(sigma == 0.01f);
    for (int k = 0; k < 8; k++) {
        double a = 2 * 3.14159265358979323846 * k / 8;
        assert_float_equal(c[2 * k], (float)cos(a), 1e-6);
        assert_float_equal(c[2 * k + 1], (float)sin(a), 1e-6);
    }
    check_mixture("ring8", 8000, 1);
    check_mixture("ring8", 8000, 0xfeedfacecafebeefull);
}

static void test_grid25(void **state) {
    (void)state;
    int count;
    const float *c;
    float sigma;
    assert_int_equal(clgan_synthetic_modes("grid25", &count, &c, &sigma), CLGAN_OK);
    assert_int_equal(count, 25);
    assert_true(sigma == 0.05f);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            assert_true(c[2 * (5 * i + j)] == -4.0f + 2.0f * i);
            assert_true(c[2 * (5 * i + j) + 1] == -4.0f + 2.0f * j);
        }
    check_mixture("grid25", 25000, 7);
}

static void test_seeding(void **state) {
    (void)state;
    clgan_dataset a, b, c;
    assert_int_equal(clgan_dataset_synthetic("grid25", 1000, 42, &a), CLGAN_OK);
    assert_int_equal(clgan_dataset_synthetic("grid25", 1000, 42, &b), CLGAN_OK);
    assert_int_equal(clgan_dataset_synthetic("grid25", 1000, 43, &c), CLGAN_OK);
    assert_memory_equal(a.x, b.x, 2000 * sizeof(float));
    assert_memory_equal(a.y, b.y, 1000 * sizeof(int32_t));
    assert_memory_not_equal(a.x, c.x, 2000 * sizeof(float));

    /* the documented scheme: modes from clgan_rng(seed) in sample order, noise
     * from clgan_rng_normal(seed, CLGAN_SYNTHETIC_NOISE_OFFSET) */
    int count;
    const float *centres;
    float sigma;
    assert_int_equal(clgan_synthetic_modes("grid25", &count, &centres, &sigma), CLGAN_OK);
    float z[2000];
    clgan_rng_normal(42, CLGAN_SYNTHETIC_NOISE_OFFSET, z, 2000);
    clgan_rng rng;
    clgan_rng_init(&rng, 42);
    for (int i = 0; i < 1000; i++) {
        int k = (int)clgan_rng_below(&rng, 25);
        assert_int_equal(a.y[i], k);
        assert_true(a.x[2 * i] == centres[2 * k] + sigma * z[2 * i]);
        assert_true(a.x[2 * i + 1] == centres[2 * k + 1] + sigma * z[2 * i + 1]);
    }
    clgan_dataset_free(&a);
    clgan_dataset_free(&b);
    clgan_dataset_free(&c);
}

static void test_bad_args(void **state) {
    (void)state;
    clgan_dataset ds;
    int count;
    const float *c;
    float sigma;
    assert_int_equal(clgan_dataset_synthetic("ring9", 10, 1, &ds), CLGAN_ERR_NOT_FOUND);
    fx_error_has("ring9", NULL);
    assert_int_equal(clgan_synthetic_modes("swissroll", &count, &c, &sigma), CLGAN_ERR_NOT_FOUND);
    assert_int_equal(clgan_dataset_synthetic("ring8", 0, 1, &ds), CLGAN_ERR_INVALID_ARG);
    assert_null(ds.x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring8),
        cmocka_unit_test(test_grid25),
        cmocka_unit_test(test_seeding),
        cmocka_unit_test(test_bad_args),
    };
    return cmocka_run_group_tests_name("data_synthetic", tests, NULL, NULL);
}
