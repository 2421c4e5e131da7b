/* Runtime tests: device enumeration and choice, buffers on every device,
 * kernel build errors, the binary cache (hits counted, corrupt entries
 * rebuilt, concurrent starts), offline binaries. OpenCL parts need a device;
 * with none the whole test exits 77. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clgan/tensor.h"
#include "test_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static clgan_device_list devices;

/* ---- choice logic on a hand-built list (no device needed) ---- */

static clgan_device_info fake(const char *id, int p, int d, const char *type, const char *name) {
    clgan_device_info i;
    memset(&i, 0, sizeof i);
    i.backend = strcmp(type, "REF") ? CLGAN_BACKEND_OPENCL : CLGAN_BACKEND_REF;
    snprintf(i.id, sizeof i.id, "%s", id);
    i.platform_index = p;
    i.device_index = d;
    snprintf(i.type, sizeof i.type, "%s", type);
    snprintf(i.name, sizeof i.name, "%s", name);
    return i;
}

static void test_choose_forms(void **state) {
    (void)state;
    clgan_device_info items[] = {
        fake("0:0", 0, 0, "CPU", "Xeon pthread"),      fake("0:1", 0, 1, "ACCELERATOR", "Alveo U250"),
        fake("1:0", 1, 0, "GPU", "Radeon RX 7900 XTX"), fake("1:1", 1, 1, "GPU", "Radeon Pro W7800"),
        fake("ref", -1, -1, "REF", "clgan reference"),
    };
    clgan_device_list l = {.items = items, .count = 5};
    int i = -1;
    assert_int_equal(clgan_device_choose(&l, NULL, &i), CLGAN_OK);
    assert_int_equal(i, 2); /* first GPU, though a CPU and an accelerator come first */
    assert_int_equal(clgan_device_choose(&l, "", &i), CLGAN_OK);
    assert_int_equal(i, 2);
    assert_int_equal(clgan_device_choose(&l, "ref", &i), CLGAN_OK);
    assert_int_equal(i, 4);
    assert_int_equal(clgan_device_choose(&l, "1:1", &i), CLGAN_OK);
    assert_int_equal(i, 3);
    assert_int_equal(clgan_device_choose(&l, "GPU", &i), CLGAN_OK);
    assert_int_equal(i, 2);
    assert_int_equal(clgan_device_choose(&l, "cpu", &i), CLGAN_OK);
    assert_int_equal(i, 0);
    assert_int_equal(clgan_device_choose(&l, "accelerator", &i), CLGAN_OK);
    assert_int_equal(i, 1);
    assert_int_equal(clgan_device_choose(&l, "w7800", &i), CLGAN_OK);
    assert_int_equal(i, 3);
    assert_int_equal(clgan_device_choose(&l, "alveo", &i), CLGAN_OK);
    assert_int_equal(i, 1);
    /* errors name the choice and list the devices */
    assert_int_equal(clgan_device_choose(&l, "radeon", &i), CLGAN_ERR_AMBIGUOUS);
    assert_non_null(strstr(clgan_last_error(), "matches 2 devices"));
    assert_non_null(strstr(clgan_last_error(), "Radeon Pro W7800"));
    assert_int_equal(clgan_device_choose(&l, "2:0", &i), CLGAN_ERR_NOT_FOUND);
    assert_non_null(strstr(clgan_last_error(), "Xeon pthread"));
    assert_int_equal(clgan_device_choose(&l, "geforce", &i), CLGAN_ERR_NOT_FOUND);
    assert_non_null(strstr(clgan_last_error(), "--device geforce"));
    assert_int_equal(clgan_device_choose(&l, "custom", &i), CLGAN_ERR_NOT_FOUND);
    assert_int_equal(clgan_device_choose(&l, "1:", &i), CLGAN_ERR_NOT_FOUND);

    /* the default falls through accelerator, CPU, then ref */
    clgan_device_list no_gpu = {.items = items, .count = 2};
    assert_int_equal(clgan_device_choose(&no_gpu, NULL, &i), CLGAN_OK);
    assert_int_equal(i, 1);
    clgan_device_list only_ref = {.items = items + 4, .count = 1};
    assert_int_equal(clgan_device_choose(&only_ref, NULL, &i), CLGAN_OK);
    assert_int_equal(i, 0);
    assert_int_equal(clgan_device_choose(&only_ref, "cpu", &i), CLGAN_ERR_NOT_FOUND);
}

/* ---- the real device list ---- */

static void test_enumerate(void **state) {
    (void)state;
    assert_true(devices.count >= 2);
    assert_string_equal(devices.items[devices.count - 1].id, "ref");
    for (int i = 0; i < devices.count; i++) {
        const clgan_device_info *d = &devices.items[i];
        assert_true(d->name[0]);
        if (d->backend != CLGAN_BACKEND_OPENCL) continue;
        assert_true(strcmp(d->type, "GPU") == 0 || strcmp(d->type, "CPU") == 0 ||
                    strcmp(d->type, "ACCELERATOR") == 0 || strcmp(d->type, "CUSTOM") == 0);
        assert_true(d->global_mem > 0);
        assert_true(d->max_work_group > 0);
        assert_true(d->compute_units > 0);
        assert_non_null(strstr(d->c_version, "OpenCL C"));
        char id[32];
        snprintf(id, sizeof id, "%d:%d", d->platform_index, d->device_index);
        assert_string_equal(id, d->id);
        int j = -1;
        assert_int_equal(clgan_device_choose(&devices, d->id, &j), CLGAN_OK);
        assert_int_equal(j, i);
    }
    char *s = clgan_device_list_format(&devices, true);
    assert_non_null(strstr(s, "fp64"));
    free(s);
}

/* ---- buffers and tensors on every device ---- */

static void round_trip(clgan_device *d) {
    const size_t sizes[] = {1, 3, 7, 13, 4096 + 13, 1 << 20};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        for (size_t i = 0; i < n; i++) a[i] = (float)i * 0.5f - 3.0f;
        clgan_buffer *x = NULL, *y = NULL;
        assert_int_equal(clgan_buffer_alloc(d, n * sizeof(float), &x), CLGAN_OK);
        assert_int_equal(clgan_buffer_alloc(d, (n + 2) * sizeof(float), &y), CLGAN_OK);
        /* new buffers are zero */
        assert_int_equal(clgan_buffer_read(x, 0, b, n * sizeof(float)), CLGAN_OK);
        for (size_t i = 0; i < n; i++) assert_true(b[i] == 0.0f);
        assert_int_equal(clgan_buffer_write(x, 0, a, n * sizeof(float)), CLGAN_OK);
        /* copy into the middle of y, leaving sentinels either side */
        const float sentinel = -12345.0f;
        assert_int_equal(clgan_buffer_write(y, 0, &sentinel, sizeof sentinel), CLGAN_OK);
        assert_int_equal(clgan_buffer_write(y, (n + 1) * sizeof(float), &sentinel, sizeof sentinel), CLGAN_OK);
        assert_int_equal(clgan_buffer_copy(y, sizeof(float), x, 0, n * sizeof(float)), CLGAN_OK);
        memset(b, 0, n * sizeof *b);
        assert_int_equal(clgan_buffer_read(y, sizeof(float), b, n * sizeof(float)), CLGAN_OK);
        assert_memory_equal(a, b, n * sizeof(float));
        float s0 = 0, s1 = 0;
        assert_int_equal(clgan_buffer_read(y, 0, &s0, sizeof s0), CLGAN_OK);
        assert_int_equal(clgan_buffer_read(y, (n + 1) * sizeof(float), &s1, sizeof s1), CLGAN_OK);
        assert_true(s0 == sentinel && s1 == sentinel);
        /* out of range is refused, not performed */
        assert_int_equal(clgan_buffer_read(x, 4, b, n * sizeof(float)), CLGAN_ERR_INVALID_ARG);
        assert_int_equal(clgan_buffer_write(x, SIZE_MAX - 2, a, 8), CLGAN_ERR_INVALID_ARG);
        clgan_buffer_free(x);
        clgan_buffer_free(y);
        free(a);
        free(b);
    }
    /* a round trip from the device to ref through the host */
    clgan_device *ref = NULL;
    assert_int_equal(clgan_device_open(&devices.items[devices.count - 1], NULL, &ref), CLGAN_OK);
    clgan_buffer *t = NULL, *u = NULL;
    assert_int_equal(clgan_buffer_alloc(d, 210 * sizeof(float), &t), CLGAN_OK);
    assert_int_equal(clgan_buffer_alloc(ref, 210 * sizeof(float), &u), CLGAN_OK);
    float h[210], g[210], k[210];
    for (int i = 0; i < 210; i++) h[i] = (float)(i * i % 97);
    assert_int_equal(clgan_buffer_write(t, 0, h, sizeof h), CLGAN_OK);
    assert_int_equal(clgan_buffer_read(t, 0, g, sizeof g), CLGAN_OK);
    assert_int_equal(clgan_buffer_write(u, 0, g, sizeof g), CLGAN_OK);
    assert_int_equal(clgan_buffer_read(u, 0, k, sizeof k), CLGAN_OK);
    assert_memory_equal(h, k, sizeof h);
    clgan_buffer_free(t);
    clgan_buffer_free(u);
    clgan_device_close(ref);
    assert_int_equal(clgan_device_bytes_allocated(d), 0);
}

static void test_buffers_every_device(void **state) {
    (void)state;
    char cache[256];
    test_tmpdir(cache, sizeof cache);
    for (int i = 0; i < devices.count; i++) {
        clgan_device *d = NULL;
        clgan_device_options opt = {.cache_dir = cache};
        assert_int_equal(clgan_device_open(&devices.items[i], &opt, &d), CLGAN_OK);
        round_trip(d);
        clgan_device_close(d);
    }
    test_rmdir(cache);
}

static void test_device_oom(void **state) {
    (void)state;
    int i = test_first_opencl(&devices);
    clgan_device *d = NULL;
    clgan_device_options opt = {.no_cache = true};
    assert_int_equal(clgan_device_open(&devices.items[i], &opt, &d), CLGAN_OK);
    clgan_buffer *b = NULL;
    size_t huge = (size_t)devices.items[i].global_mem * 4;
    assert_int_equal(clgan_buffer_alloc(d, huge, &b), CLGAN_ERR_DEVICE_OOM);
    char want[64];
    snprintf(want, sizeof want, "%zu bytes", huge);
    assert_non_null(strstr(clgan_last_error(), want));
    assert_non_null(strstr(clgan_last_error(), "global memory"));
    clgan_device_close(d);
}

/* ---- kernel programs and the cache ---- */

static clgan_status open_cl(const clgan_device_options *opt, clgan_kernel_stats *ks) {
    clgan_device *d = NULL;
    clgan_status st = clgan_device_open(&devices.items[test_first_opencl(&devices)], opt, &d);
    if (st == CLGAN_OK) {
        clgan_device_kernel_stats(d, ks);
        clgan_device_close(d);
    }
    return st;
}

/* the cache entries in dir, by path */
static int list_entries(const char *dir, char paths[][600], int cap) {
    DIR *dd = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n < cap) snprintf(paths[n], 600, "%s/%s", dir, e->d_name);
        n++;
    }
    if (dd) closedir(dd);
    return n;
}

static void corrupt(const char *path, long at, int truncate_to) {
    if (truncate_to >= 0) {
        assert_int_equal(truncate(path, truncate_to), 0);
        return;
    }
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    struct stat sb;
    stat(path, &sb);
    long pos = at >= 0 ? at : (long)sb.st_size + at;
    fseek(f, pos, SEEK_SET);
    int c = fgetc(f);
    fseek(f, pos, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
}

static void test_cache_hits_and_rebuilds(void **state) {
    (void)state;
    char dir[256];
    test_tmpdir(dir, sizeof dir);
    clgan_device_options opt = {.cache_dir = dir};
    clgan_kernel_stats ks;
    assert_int_equal(open_cl(&opt, &ks), CLGAN_OK);
    assert_true(ks.programs > 0);
    assert_int_equal(ks.built, ks.programs);
    assert_int_equal(ks.cache_hits, 0);
    assert_true(ks.kernels > 0);
    char entries[64][600];
    int n = list_entries(dir, entries, 64);
    assert_int_equal(n, ks.programs); /* one entry per program, no temp files left */

    assert_int_equal(open_cl(&opt, &ks), CLGAN_OK);
    assert_int_equal(ks.built, 0);
    assert_int_equal(ks.cache_hits, ks.programs);

    /* payload corrupted, header magic corrupted, key (stale) changed, truncated, emptied */
    const struct { long at; int trunc; } damage[] = {{-1, -1}, {0, -1}, {20, -1}, {-1, 100}, {-1, 0}, {-1, 60}};
    for (size_t k = 0; k < sizeof damage / sizeof damage[0]; k++) {
        corrupt(entries[0], damage[k].at, damage[k].trunc);
        assert_int_equal(open_cl(&opt, &ks), CLGAN_OK);
        assert_int_equal(ks.cache_rejected, 1);
        assert_int_equal(ks.built, 1);
        assert_int_equal(ks.cache_hits, ks.programs - 1);
        assert_int_equal(open_cl(&opt, &ks), CLGAN_OK); /* and the rewritten entry is good */
        assert_int_equal(ks.built, 0);
        assert_int_equal(ks.cache_rejected, 0);
    }

    /* --no-kernel-cache neither reads nor writes */
    clgan_device_options off = {.cache_dir = dir, .no_cache = true};
    assert_int_equal(open_cl(&off, &ks), CLGAN_OK);
    assert_int_equal(ks.built, ks.programs);
    assert_int_equal(ks.cache_hits, 0);
    test_rmdir(dir);
}

static void test_cache_concurrent_start(void **state) {
    (void)state;
    char dir[256];
    test_tmpdir(dir, sizeof dir);
    enum { P = 4 };
    pid_t pids[P];
    for (int p = 0; p < P; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            /* a separate program, as two users starting clgan would be (forking a
             * process that has loaded an OpenCL driver is not safe) */
            const char *bin = getenv("CLGAN_BIN");
            execl(bin, bin, "kernels", "--quiet", "--device", devices.items[test_first_opencl(&devices)].id,
                  "--cache-dir", dir, (char *)NULL);
            _exit(127);
        }
    }
    for (int p = 0; p < P; p++) {
        int status = 0;
        waitpid(pids[p], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    clgan_device_options opt = {.cache_dir = dir};
    clgan_kernel_stats ks;
    assert_int_equal(open_cl(&opt, &ks), CLGAN_OK);
    assert_int_equal(ks.cache_rejected, 0);
    assert_int_equal(ks.cache_hits, ks.programs);
    char entries[64][600];
    assert_int_equal(list_entries(dir, entries, 64), ks.programs);
    test_rmdir(dir);
}

/* copies cl/ to a temp dir so a test can break a kernel there */
static void copy_kernels(char *dir, size_t cap) {
    test_tmpdir(dir, cap);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp '%s'/cl/*.cl '%s'/", getenv("CLGAN_SOURCE_ROOT"), dir);
    assert_int_equal(system(cmd), 0);
}

static void test_broken_kernel_shows_build_log(void **state) {
    (void)state;
    char dir[256], path[600];
    copy_kernels(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/elementwise.cl", dir);
    FILE *f = fopen(path, "a");
    fputs("\n__kernel void broken(__global float *y) { y[0] = undeclared_thing; }\n", f);
    fclose(f);
    clgan_device_options opt = {.kernel_dir = dir, .no_cache = true};
    clgan_kernel_stats ks;
    assert_int_equal(open_cl(&opt, &ks), CLGAN_ERR_BUILD);
    const char *msg = clgan_last_error();
    assert_non_null(strstr(msg, "elementwise.cl"));      /* the file */
    assert_non_null(strstr(msg, "undeclared_thing"));    /* the build log itself */
    assert_non_null(strstr(msg, "build log"));

    /* an unmodified copy builds; a missing file is named */
    copy_kernels(path, sizeof path);
    clgan_device_options good = {.kernel_dir = path, .no_cache = true};
    assert_int_equal(open_cl(&good, &ks), CLGAN_OK);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/common.cl", path);
    unlink(missing);
    assert_int_equal(open_cl(&good, &ks), CLGAN_ERR_NOT_FOUND);
    assert_non_null(strstr(clgan_last_error(), "common.cl"));
    test_rmdir(dir);
    test_rmdir(path);
}

static void test_kernel_binary(void **state) {
    (void)state;
    char dir[256], bin[600], junk[600];
    test_tmpdir(dir, sizeof dir);
    snprintf(bin, sizeof bin, "%s/clgan.bin", dir);
    snprintf(junk, sizeof junk, "%s/junk.bin", dir);
    clgan_device *d = NULL;
    clgan_device_options opt = {.no_cache = true};
    assert_int_equal(clgan_device_open(&devices.items[test_first_opencl(&devices)], &opt, &d), CLGAN_OK);
    clgan_kernel_stats src;
    clgan_device_kernel_stats(d, &src);
    assert_int_equal(clgan_device_save_binary(d, bin), CLGAN_OK);
    clgan_device_close(d);

    clgan_device_options from_bin = {.kernel_binary = bin};
    clgan_kernel_stats ks;
    assert_int_equal(open_cl(&from_bin, &ks), CLGAN_OK);
    assert_int_equal(ks.programs, 1);
    assert_int_equal(ks.kernels, src.kernels);
    assert_int_equal(ks.built, 0);

    FILE *f = fopen(junk, "wb");
    for (int i = 0; i < 1000; i++) fputc((i * 7919) & 0xff, f);
    fclose(f);
    clgan_device_options from_junk = {.kernel_binary = junk};
    assert_int_equal(open_cl(&from_junk, &ks), CLGAN_ERR_BUILD);
    assert_non_null(strstr(clgan_last_error(), "junk.bin"));
    assert_non_null(strstr(clgan_last_error(), "not a usable program binary"));
    clgan_device_options from_none = {.kernel_binary = "/nonexistent/clgan.bin"};
    assert_int_equal(open_cl(&from_none, &ks), CLGAN_ERR_NOT_FOUND);
    test_rmdir(dir);
}

int main(void) {
    if (clgan_devices_enumerate(&devices) != CLGAN_OK) {
        fprintf(stderr, "enumerate: %s\n", clgan_last_error());
        return 1;
    }
    clgan_log_set_level(CLGAN_LOG_QUIET);
    const struct CMUnitTest ref_tests[] = {cmocka_unit_test(test_choose_forms)};
    int failed = cmocka_run_group_tests_name("runtime (no device needed)", ref_tests, NULL, NULL);
    if (test_first_opencl(&devices) < 0) {
        fprintf(stderr, "no OpenCL device (%s): skipping the device tests\n", devices.opencl_note);
        clgan_device_list_free(&devices);
        return failed ? 1 : TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumerate),
        cmocka_unit_test(test_buffers_every_device),
        cmocka_unit_test(test_device_oom),
        cmocka_unit_test(test_cache_hits_and_rebuilds),
        cmocka_unit_test(test_cache_concurrent_start),
        cmocka_unit_test(test_broken_kernel_shows_build_log),
        cmocka_unit_test(test_kernel_binary),
    };
    failed += cmocka_run_group_tests_name("runtime (OpenCL)", tests, NULL, NULL);
    clgan_device_list_free(&devices);
    return failed ? 1 : 0;
}
