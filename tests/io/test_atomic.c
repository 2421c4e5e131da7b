/* Atomic writes: the target is either the old file or the complete new one,
 * and no temporary file survives a failure. Tests run as root, so "not
 * writable" is simulated with folders that do not exist and targets that
 * are folders, and a writer that fails half way. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clgan/io.h"
#include "io_test_util.h"

typedef struct {
    char *dir;
    char *path; /* <dir>/target */
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->dir = tu_mkdtemp())) return -1;
    fx->path = tu_path(fx->dir, "target");
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    tu_rmtree(fx->dir);
    free(fx->dir);
    free(fx->path);
    free(fx);
    return 0;
}

typedef struct {
    const char *text;
    bool fail; /* write half, then report an error */
    int calls;
} writer_ctx;

static clgan_status fill_text(FILE *f, void *vctx) {
    writer_ctx *c = vctx;
    c->calls++;
    size_t n = strlen(c->text);
    if (c->fail) {
        fwrite(c->text, 1, n / 2, f);
        fflush(f); /* the half really reaches the temporary file */
        return CLGAN_ERR(CLGAN_ERR_NUMERIC, "planted failure after %zu bytes", n / 2);
    }
    fwrite(c->text, 1, n, f);
    return CLGAN_OK;
}

static void assert_file_is(const char *path, const char *want) {
    size_t len;
    unsigned char *got = tu_read(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(got, want, len);
    free(got);
}

static void test_create_and_replace(void **state) {
    fixture *fx = *state;
    writer_ctx c = {"first version\n", false, 0};
    assert_int_equal(clgan_atomic_write(fx->path, fill_text, &c), CLGAN_OK);
    assert_file_is(fx->path, "first version\n");
    c.text = "second, longer version\n";
    assert_int_equal(clgan_atomic_write(fx->path, fill_text, &c), CLGAN_OK);
    assert_file_is(fx->path, "second, longer version\n");
    assert_int_equal(c.calls, 2);
    assert_int_equal(tu_count_entries(fx->dir), 1);
    assert_false(tu_dir_has(fx->dir, ".tmp."));
}

static void test_failing_writer_keeps_old_file(void **state) {
    fixture *fx = *state;
    assert_int_equal(tu_write(fx->path, "precious", 8), 0);
    writer_ctx c = {"replacement that never completes", true, 0};
    clgan_clear_error();
    assert_int_equal(clgan_atomic_write(fx->path, fill_text, &c), CLGAN_ERR_NUMERIC);
    tu_assert_msg_has("planted failure"); /* the writer's own message is kept */
    assert_int_equal(c.calls, 1);
    assert_file_is(fx->path, "precious");
    assert_int_equal(tu_count_entries(fx->dir), 1);

    /* also when there was no old file: nothing appears */
    char *fresh = tu_path(fx->dir, "fresh");
    assert_int_equal(clgan_atomic_write(fresh, fill_text, &c), CLGAN_ERR_NUMERIC);
    assert_int_equal(access(fresh, F_OK), -1);
    assert_int_equal(tu_count_entries(fx->dir), 1);
    free(fresh);
}

static void test_unwritable_targets(void **state) {
    fixture *fx = *state;
    writer_ctx c = {"data", false, 0};

    /* the folder does not exist */
    char *missing = tu_path(fx->dir, "no-such-folder/target");
    clgan_clear_error();
    assert_int_equal(clgan_atomic_write(missing, fill_text, &c), CLGAN_ERR_IO);
    tu_assert_msg_has(missing);
    assert_int_equal(c.calls, 0); /* failed before writing anything */
    free(missing);

    /* the target is a non-empty folder: rename fails after the data is
     * written; the folder is untouched and the temporary file removed */
    char *sub = tu_path(fx->dir, "sub");
    assert_int_equal(mkdir(sub, 0755), 0);
    char *inner = tu_path(sub, "inner");
    assert_int_equal(tu_write(inner, "keep", 4), 0);
    assert_int_equal(clgan_atomic_write(sub, fill_text, &c), CLGAN_ERR_IO);
    tu_assert_msg_has(sub);
    tu_assert_msg_has("rename");
    assert_int_equal(c.calls, 1);
    assert_file_is(inner, "keep");
    assert_int_equal(tu_count_entries(fx->dir), 1);
    free(inner);
    free(sub);

    /* the parent "folder" is a file */
    char *under_file = tu_path(fx->path, "x");
    assert_int_equal(tu_write(fx->path, "old", 3), 0);
    assert_int_equal(clgan_atomic_write(under_file, fill_text, &c), CLGAN_ERR_IO);
    assert_file_is(fx->path, "old");
    free(under_file);

    assert_int_equal(clgan_atomic_write("", fill_text, &c), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_atomic_write(fx->path, NULL, &c), CLGAN_ERR_INVALID_ARG);
    char *slash = tu_path(fx->dir, "d/");
    assert_int_equal(clgan_atomic_write(slash, fill_text, &c), CLGAN_ERR_INVALID_ARG);
    free(slash);
}

static void test_mode_follows_umask(void **state) {
    fixture *fx = *state;
    mode_t old = umask(022);
    writer_ctx c = {"x", false, 0};
    assert_int_equal(clgan_atomic_write(fx->path, fill_text, &c), CLGAN_OK);
    umask(old);
    struct stat sb;
    assert_int_equal(stat(fx->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644); /* not mkstemp's 0600 */
}

static void test_relative_path(void **state) {
    fixture *fx = *state;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(fx->dir), 0);
    writer_ctx c = {"relative", false, 0};
    clgan_status st = clgan_atomic_write("bare-name", fill_text, &c);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, CLGAN_OK);
    char *p = tu_path(fx->dir, "bare-name");
    assert_file_is(p, "relative");
    free(p);
}

static void test_read_file(void **state) {
    fixture *fx = *state;
    assert_int_equal(tu_write(fx->path, "hello", 5), 0);
    uint8_t *data;
    size_t len;
    assert_int_equal(clgan_read_file(fx->path, 5, &data, &len), CLGAN_OK);
    assert_int_equal(len, 5);
    assert_string_equal((char *)data, "hello"); /* NUL-terminated */
    free(data);
    assert_int_equal(clgan_read_file(fx->path, 4, &data, &len), CLGAN_ERR_FORMAT);
    tu_assert_msg_has(fx->path);
    assert_null(data);
    assert_int_equal(clgan_read_file(fx->dir, 100, &data, &len), CLGAN_ERR_IO);
    char *missing = tu_path(fx->dir, "missing");
    assert_int_equal(clgan_read_file(missing, 100, &data, &len), CLGAN_ERR_NOT_FOUND);
    free(missing);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_writer_keeps_old_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mode_follows_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
