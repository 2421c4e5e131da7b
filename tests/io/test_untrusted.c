/* What reaches a message from a file: escaping (every non-printable byte as
 * \xNN, valid printable UTF-8 kept, C1 controls escaped, cut with "..."),
 * the filter every recorded error passes, and opening without blocking
 * (FIFOs, folders and devices refused by clgan_open_regular and
 * clgan_read_file, which must return at once). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clgan/io.h"
#include "io_test_util.h"

#include <sys/stat.h>
#include <time.h>

static void expect_escape(const char *in, size_t cap, const char *want) {
    char buf[256];
    assert_true(cap <= sizeof buf);
    clgan_escape(in, (size_t)-1, buf, cap);
    if (strcmp(buf, want) != 0) fail_msg("escape of \"%s\" (cap %zu): got \"%s\", want \"%s\"", in, cap, buf, want);
}

static void test_escape(void **state) {
    (void)state;
    expect_escape("plain name.safetensors", 64, "plain name.safetensors");
    expect_escape("\x1b[31mred\x1b[0m", 64, "\\x1b[31mred\\x1b[0m");
    expect_escape("bell\a tab\t nl\n del\x7f", 64, "bell\\x07 tab\\x09 nl\\x0a del\\x7f");
    expect_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 64, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* U+009B (C1 CSI) is valid UTF-8 but a terminal control */
    expect_escape("csi\xc2\x9b", 64, "csi\\xc2\\x9b");
    /* invalid UTF-8: a lone continuation, an overlong '/', a surrogate, a cut sequence */
    expect_escape("\x80 \xc0\xaf \xed\xa0\x80 \xe2\x82", 64, "\\x80 \\xc0\\xaf \\xed\\xa0\\x80 \\xe2\\x82");
    /* cut to fit, never inside an escape or a UTF-8 sequence */
    expect_escape("abcdefghij", 11, "abcdefghij");
    expect_escape("abcdefghijk", 11, "abcdefg...");
    expect_escape("ab\x1b\x1b\x1b", 11, "ab\\x1b...");
    expect_escape("ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 11, "ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    expect_escape("ab\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 11, "ab\xc3\xa9\xc3\xa9...");
    const char *esc = clgan_esc("\x1b]0;title\a");
    assert_string_equal(esc, "\\x1b]0;title\\x07");
}

static void test_errors_are_filtered(void **state) {
    (void)state;
    CLGAN_ERR(CLGAN_ERR_FORMAT, "tensor \"%s\"", "\x1b[2J\xc2\x9b");
    assert_string_equal(clgan_last_error(), "tensor \"\\x1b[2J\\xc2\\x9b\"");
    /* build logs are multi-line: newlines stay */
    CLGAN_ERR(CLGAN_ERR_BUILD, "line 1\nline 2\r");
    assert_string_equal(clgan_last_error(), "line 1\nline 2\\x0d");
    clgan_error_context(CLGAN_ERR_BUILD, "%s: ", "\x1b");
    assert_string_equal(clgan_last_error(), "\\x1b: line 1\nline 2\\x0d");
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_not_regular(void **state) {
    char *dir = *state;
    char *fifo = tu_path(dir, "fifo.safetensors");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    FILE *f = NULL;
    double t0 = now();
    assert_int_equal(clgan_open_regular(fifo, &f, NULL), CLGAN_ERR_IO); /* would block forever without O_NONBLOCK */
    assert_null(f);
    assert_non_null(strstr(clgan_last_error(), "is a FIFO, not a regular file"));
    assert_non_null(strstr(clgan_last_error(), fifo));
    uint8_t *data = NULL;
    size_t len = 0;
    assert_int_equal(clgan_read_file(fifo, 1 << 20, &data, &len), CLGAN_ERR_IO);
    assert_int_equal(clgan_open_regular(dir, &f, NULL), CLGAN_ERR_IO);
    assert_non_null(strstr(clgan_last_error(), "is a folder"));
    assert_int_equal(clgan_open_regular("/dev/null", &f, NULL), CLGAN_ERR_IO);
    assert_non_null(strstr(clgan_last_error(), "character device"));
    assert_true(now() - t0 < 5.0);
    FILE *log = NULL;
    assert_int_equal(clgan_open_log(fifo, true, &log), CLGAN_ERR_IO);
    /* a regular file opens, and reads block as usual */
    char *reg = tu_path(dir, "ok.bin");
    FILE *w = fopen(reg, "wb");
    assert_non_null(w);
    fputs("hello", w);
    fclose(w);
    uint64_t size = 0;
    assert_int_equal(clgan_open_regular(reg, &f, &size), CLGAN_OK);
    char got[8] = {0};
    assert_int_equal(fread(got, 1, sizeof got, f), 5);
    assert_string_equal(got, "hello");
    assert_int_equal(size, 5);
    fclose(f);
    unlink(reg);
    unlink(fifo);
    free(reg);
    free(fifo);
}

static int setup(void **state) {
    *state = tu_mkdtemp();
    return *state ? 0 : -1;
}

static int teardown(void **state) {
    rmdir(*state);
    free(*state);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_errors_are_filtered),
        cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
