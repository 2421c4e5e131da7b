/* SHA-256 (src/core/sha256.c, the kernel cache's and the tune records' key)
 * against the published examples of FIPS 180-4 (NIST's "SHA256.pdf" example
 * values: "abc", the 448-bit two-block message, one million 'a') and the
 * empty message; each message also fed in uneven pieces, so block
 * boundaries inside an update are crossed. */
#include <stdarg.h>

#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"

static void digest_hex(const char *msg, size_t n, size_t piece, char hex[65]) {
    clgan_sha256 h;
    uint8_t d[32];
    clgan_sha256_init(&h);
    for (size_t at = 0; at < n; at += piece) clgan_sha256_update(&h, msg + at, n - at < piece ? n - at : piece);
    clgan_sha256_final(&h, d);
    clgan_sha256_hex(d, hex);
}

static void check_all_pieces(const char *msg, size_t n, const char *want) {
    static const size_t pieces[] = {1, 3, 55, 56, 63, 64, 65, 1000, (size_t)-1};
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
        char hex[65];
        digest_hex(msg, n, pieces[i] == (size_t)-1 ? (n ? n : 1) : pieces[i], hex);
        if (strcmp(hex, want) != 0)
            fail_msg("SHA-256 of a %zu-byte message in pieces of %zu: %s, expected %s", n, pieces[i], hex, want);
    }
}

static void test_fips_examples(void **state) {
    (void)state;
    check_all_pieces("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_all_pieces(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    check_all_pieces("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_million_a(void **state) {
    (void)state;
    size_t n = 1000000;
    char *m = malloc(n);
    assert_non_null(m);
    memset(m, 'a', n);
    check_all_pieces(m, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fips_examples), cmocka_unit_test(test_million_a)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
