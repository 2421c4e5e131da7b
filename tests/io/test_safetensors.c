/* safetensors: round trips through the writer and reader, a file laid out
 * by hand as other writers do, and one hostile file per rule of the format,
 * each of which must be refused with a message naming the file and the
 * offending tensor or field. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "clgan/io.h"
#include "io_test_util.h"

typedef struct {
    char *dir;
    char *path; /* <dir>/t.safetensors */
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx || !(fx->dir = tu_mkdtemp())) return -1;
    fx->path = tu_path(fx->dir, "t.safetensors");
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

/* Writes u64 le header_len | header | data. */
static void write_raw(const char *path, uint64_t header_len, const char *header, const void *data, size_t data_len) {
    size_t hl = strlen(header);
    unsigned char *buf = malloc(8 + hl + data_len + 1);
    assert_non_null(buf);
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(header_len >> (8 * i));
    memcpy(buf + 8, header, hl);
    if (data_len) memcpy(buf + 8 + hl, data, data_len);
    assert_int_equal(tu_write(path, buf, 8 + hl + data_len), 0);
    free(buf);
}

static void write_st(const char *path, const char *header, size_t data_len) {
    unsigned char data[256] = {0};
    assert_true(data_len <= sizeof data);
    write_raw(path, strlen(header), header, data, data_len);
}

/* Reading must fail with FORMAT, naming the file and each of `parts`. */
static void expect_reject(const char *path, const char *part1, const char *part2) {
    clgan_st_file *f = (clgan_st_file *)&f;
    clgan_clear_error();
    clgan_status st = clgan_st_read(path, &f);
    if (st != CLGAN_ERR_FORMAT) fail_msg("expected CLGAN_ERR_FORMAT, got %s: %s", clgan_status_name(st), clgan_last_error());
    assert_null(f);
    tu_assert_msg_has(path);
    if (part1) tu_assert_msg_has(part1);
    if (part2) tu_assert_msg_has(part2);
}

static clgan_st_file *read_ok(const char *path) {
    clgan_st_file *f = NULL;
    clgan_status st = clgan_st_read(path, &f);
    if (st != CLGAN_OK) fail_msg("%s: %s", clgan_status_name(st), clgan_last_error());
    return f;
}

/* ---- round trips -------------------------------------------------------- */

static void test_round_trip(void **state) {
    fixture *fx = *state;
    const float w[2 * 3] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    const int64_t steps[4] = {0, -1, INT64_MAX, INT64_MIN};
    const uint8_t bytes[5] = {1, 2, 3, 254, 255};
    const double scalar = 3.141592653589793;
    const int64_t shape_w[2] = {2, 3}, shape_s[1] = {4}, shape_b[1] = {5}, shape_e[2] = {0, 3};

    clgan_st_writer *wr = clgan_st_writer_new();
    assert_non_null(wr);
    assert_int_equal(clgan_st_add(wr, "g.weight", CLGAN_DT_F32, 2, shape_w, w), CLGAN_OK);
    assert_int_equal(clgan_st_add(wr, "step", CLGAN_DT_I64, 1, shape_s, steps), CLGAN_OK);
    assert_int_equal(clgan_st_add(wr, "bytes", CLGAN_DT_U8, 1, shape_b, bytes), CLGAN_OK);
    assert_int_equal(clgan_st_add(wr, "pi", CLGAN_DT_F64, 0, NULL, &scalar), CLGAN_OK);
    assert_int_equal(clgan_st_add(wr, "empty", CLGAN_DT_F32, 2, shape_e, NULL), CLGAN_OK);
    assert_int_equal(clgan_st_add_meta(wr, "format", "pt"), CLGAN_OK);
    assert_int_equal(clgan_st_add_meta(wr, "config", "{\"lr\": 0.0002}\n\"quoted\""), CLGAN_OK);

    /* misuse leaves the writer as it was */
    assert_int_equal(clgan_st_add(wr, "step", CLGAN_DT_I64, 1, shape_s, steps), CLGAN_ERR_INVALID_ARG);
    tu_assert_msg_has("\"step\"");
    assert_int_equal(clgan_st_add(wr, "__metadata__", CLGAN_DT_U8, 1, shape_b, bytes), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add(wr, "", CLGAN_DT_U8, 1, shape_b, bytes), CLGAN_ERR_INVALID_ARG);
    const int64_t neg[1] = {-1}, huge[2] = {INT64_MAX, 4};
    assert_int_equal(clgan_st_add(wr, "neg", CLGAN_DT_U8, 1, neg, bytes), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add(wr, "huge", CLGAN_DT_F32, 2, huge, bytes), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add(wr, "nine", CLGAN_DT_U8, 9, shape_b, bytes), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add(wr, "nodata", CLGAN_DT_U8, 1, shape_b, NULL), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add_meta(wr, "format", "again"), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add(wr, "bad\xff", CLGAN_DT_U8, 1, shape_b, bytes), CLGAN_ERR_INVALID_ARG);
    assert_int_equal(clgan_st_add_meta(wr, "k", "bad\xc0\xaf"), CLGAN_ERR_INVALID_ARG);

    assert_int_equal(clgan_st_write(wr, fx->path), CLGAN_OK);
    clgan_st_writer_free(wr);
    assert_int_equal(tu_count_entries(fx->dir), 1); /* no temporary file left */

    /* layout: header padded with spaces to a multiple of 8, metadata first */
    size_t len;
    unsigned char *raw = tu_read(fx->path, &len);
    assert_non_null(raw);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | raw[i];
    assert_int_equal(n % 8, 0);
    assert_int_equal(len, 8 + n + 24 + 32 + 5 + 8);
    assert_memory_equal(raw + 8, "{\"__metadata__\":{", 17);
    assert_int_equal(raw[8 + n - 1] == ' ' || raw[8 + n - 1] == '}', 1);
    free(raw);

    clgan_st_file *f = read_ok(fx->path);
    assert_int_equal(clgan_st_count(f), 5);
    assert_string_equal(clgan_st_path(f), fx->path);
    /* offset order = write order: 8-byte dtypes (by name), then 4, then 1 */
    const char *order[5] = {"pi", "step", "empty", "g.weight", "bytes"};
    for (int i = 0; i < 5; i++) assert_string_equal(clgan_st_at(f, i)->name, order[i]);
    assert_null(clgan_st_at(f, 5));
    for (int i = 0; i < 5; i++) assert_int_equal((uintptr_t)clgan_st_at(f, i)->data % 8, 0);

    const clgan_st_tensor *t = clgan_st_find(f, "g.weight");
    assert_non_null(t);
    assert_int_equal(t->dtype, CLGAN_DT_F32);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(t->nbytes, sizeof w);
    assert_memory_equal(t->data, w, sizeof w);
    t = clgan_st_find(f, "step");
    assert_memory_equal(t->data, steps, sizeof steps);
    t = clgan_st_find(f, "bytes");
    assert_memory_equal(t->data, bytes, sizeof bytes);
    t = clgan_st_find(f, "pi");
    assert_int_equal(t->ndim, 0);
    assert_true(*(const double *)t->data == scalar);
    t = clgan_st_find(f, "empty");
    assert_int_equal(t->nbytes, 0);
    assert_null(t->data);
    assert_null(clgan_st_find(f, "nope"));

    assert_string_equal(clgan_st_meta(f, "format"), "pt");
    assert_string_equal(clgan_st_meta(f, "config"), "{\"lr\": 0.0002}\n\"quoted\"");
    assert_null(clgan_st_meta(f, "absent"));
    assert_int_equal(clgan_st_meta_count(f), 2);
    const char *k, *v;
    assert_true(clgan_st_meta_at(f, 1, &k, &v));
    assert_string_equal(k, "config");
    assert_false(clgan_st_meta_at(f, 2, &k, &v));

    /* the checked getter */
    const void *data;
    assert_int_equal(clgan_st_get(f, "g.weight", CLGAN_DT_F32, 2, shape_w, &data), CLGAN_OK);
    assert_memory_equal(data, w, sizeof w);
    assert_int_equal(clgan_st_get(f, "g.weight", CLGAN_DT_F32, -1, NULL, &data), CLGAN_OK);
    assert_int_equal(clgan_st_get(f, "pi", CLGAN_DT_F64, 0, NULL, &data), CLGAN_OK);
    assert_int_equal(clgan_st_get(f, "g.weight", CLGAN_DT_F16, 2, shape_w, &data), CLGAN_ERR_FORMAT);
    tu_assert_msg_has(fx->path);
    tu_assert_msg_has("\"g.weight\": expected dtype F16, found F32");
    const int64_t other[2] = {3, 2};
    assert_int_equal(clgan_st_get(f, "g.weight", CLGAN_DT_F32, 2, other, &data), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("expected shape [3, 2], found [2, 3]");
    assert_int_equal(clgan_st_get(f, "g.weight", CLGAN_DT_F32, 1, shape_w, &data), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("expected shape [2], found [2, 3]");
    assert_int_equal(clgan_st_get(f, "d.weight", CLGAN_DT_F32, 2, shape_w, &data), CLGAN_ERR_NOT_FOUND);
    tu_assert_msg_has("\"d.weight\"");
    clgan_st_close(f);

    /* an empty file (no tensors, no metadata) round-trips too */
    wr = clgan_st_writer_new();
    assert_int_equal(clgan_st_write(wr, fx->path), CLGAN_OK);
    clgan_st_writer_free(wr);
    f = read_ok(fx->path);
    assert_int_equal(clgan_st_count(f), 0);
    assert_null(clgan_st_meta(f, "format"));
    clgan_st_close(f);
}

/* A file as other writers make it: no padding, members in any order,
 * tensors at offsets that are not multiples of 8. */
static void test_foreign_layout(void **state) {
    fixture *fx = *state;
    const char *header = "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[3,11]},"
                         "\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]},"
                         "\"__metadata__\":{\"x\":\"y\"},"
                         "\"c\":{\"data_offsets\":[11,13],\"shape\":[1],\"dtype\":\"BF16\"}}";
    unsigned char data[13] = {7, 8, 9};
    const float b[2] = {0.25f, -4.0f};
    memcpy(data + 3, b, sizeof b);
    data[11] = 0x80, data[12] = 0x3f; /* bf16 1.0 */
    write_raw(fx->path, strlen(header), header, data, sizeof data);
    clgan_st_file *f = read_ok(fx->path);
    assert_int_equal(clgan_st_count(f), 3);
    assert_string_equal(clgan_st_at(f, 0)->name, "a");
    const clgan_st_tensor *t = clgan_st_find(f, "b");
    assert_int_equal((uintptr_t)t->data % 8, 0); /* copied to an aligned buffer */
    assert_true(((const float *)t->data)[0] == 0.25f && ((const float *)t->data)[1] == -4.0f);
    t = clgan_st_find(f, "c");
    assert_int_equal(t->dtype, CLGAN_DT_BF16);
    assert_int_equal(((const uint8_t *)t->data)[1], 0x3f);
    assert_string_equal(clgan_st_meta(f, "x"), "y");
    clgan_st_close(f);

    /* "__metadata__": null is how serde writes "none" */
    write_raw(fx->path, 20, "{\"__metadata__\":null", NULL, 0);
    expect_reject(fx->path, "JSON", NULL); /* unterminated object */
    write_st(fx->path, "{\"__metadata__\":null}   ", 0);
    f = read_ok(fx->path);
    assert_int_equal(clgan_st_count(f), 0);
    clgan_st_close(f);

    /* the same bytes from memory */
    size_t len;
    unsigned char *raw = tu_read(fx->path, &len);
    assert_non_null(raw);
    assert_int_equal(clgan_st_read_memory(raw, len, "mem", &f), CLGAN_OK);
    clgan_st_close(f);
    assert_int_equal(clgan_st_read_memory(raw, 5, "mem-label", &f), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("mem-label");
    free(raw);
}

/* ---- hostile files ------------------------------------------------------ */

#define T(name, dtype, shape, b, e) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":[" #b "," #e "]}"

static void test_reject_lengths(void **state) {
    fixture *fx = *state;
    const char *hdr = "{" T("a", "U8", "[4]", 0, 4) "}";

    /* header length larger than the file */
    write_raw(fx->path, 1000, hdr, "abcd", 4);
    expect_reject(fx->path, "header length 1000", "runs past the end");
    /* huge header lengths: over the 100 MB limit, and 2^63 */
    write_raw(fx->path, 100000001, hdr, "abcd", 4);
    expect_reject(fx->path, "exceeds the limit", NULL);
    write_raw(fx->path, (uint64_t)1 << 63, hdr, "abcd", 4);
    expect_reject(fx->path, "exceeds the limit", NULL);
    write_raw(fx->path, UINT64_MAX, hdr, "abcd", 4);
    expect_reject(fx->path, "exceeds the limit", NULL);
    /* shorter than the length field, and empty */
    assert_int_equal(tu_write(fx->path, "\x10\0\0", 3), 0);
    expect_reject(fx->path, "3 bytes", "at least");
    assert_int_equal(tu_write(fx->path, "", 0), 0);
    expect_reject(fx->path, "0 bytes", NULL);
    /* header length 0 */
    write_raw(fx->path, 0, "", NULL, 0);
    expect_reject(fx->path, "too short", NULL);
    /* header length one short: the JSON is cut */
    write_raw(fx->path, strlen(hdr) - 1, hdr, "abcd", 4);
    expect_reject(fx->path, "JSON", NULL);

    /* a valid file truncated at every length is refused, never crashes */
    write_st(fx->path, hdr, 4);
    size_t len;
    unsigned char *raw = tu_read(fx->path, &len);
    assert_non_null(raw);
    char *cut = tu_path(fx->dir, "cut.safetensors");
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(tu_write(cut, raw, n), 0);
        expect_reject(cut, NULL, NULL);
    }
    /* the reported cause for a cut inside the data */
    assert_int_equal(tu_write(cut, raw, len - 1), 0);
    expect_reject(cut, "\"a\"", "past the end");
    free(cut);
    free(raw);

    char *missing = tu_path(fx->dir, "missing.safetensors");
    clgan_st_file *f;
    assert_int_equal(clgan_st_read(missing, &f), CLGAN_ERR_NOT_FOUND);
    tu_assert_msg_has(missing);
    free(missing);
}

static void test_reject_header(void **state) {
    fixture *fx = *state;
    write_st(fx->path, "hello, not json", 0);
    expect_reject(fx->path, "header (JSON from file byte 8)", "byte offset 5 (line 1, column 5): invalid token near 'hello'");
    write_st(fx->path, "[1, 2]", 0);
    expect_reject(fx->path, "expected an object", NULL);
    write_st(fx->path, "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} x", 1);
    expect_reject(fx->path, "end of file expected near 'x'", NULL);
    /* invalid UTF-8 in a name */
    write_st(fx->path, "{\"\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    expect_reject(fx->path, "unable to decode byte 0xff", NULL);
    /* duplicate names */
    write_st(fx->path, "{" T("a", "U8", "[1]", 0, 1) "," T("a", "U8", "[1]", 1, 2) "}", 2);
    expect_reject(fx->path, "duplicate object key near '\"a\"'", NULL);
    /* a NUL in a name */
    write_st(fx->path, "{" T("a\\u0000b", "U8", "[1]", 0, 1) "}", 1);
    expect_reject(fx->path, "NUL", NULL);
    /* non-string metadata */
    write_st(fx->path, "{\"__metadata__\":{\"step\":100}," T("a", "U8", "[1]", 0, 1) "}", 1);
    expect_reject(fx->path, "__metadata__ \"step\" is 100", "expected a string");
    write_st(fx->path, "{\"__metadata__\":[\"x\"]}", 0);
    expect_reject(fx->path, "__metadata__ is array", NULL);
    write_st(fx->path, "{\"__metadata__\":{\"k\":\"a\\u0000b\"}}", 0);
    expect_reject(fx->path, "NUL", NULL);
}

static void test_reject_tensor_fields(void **state) {
    fixture *fx = *state;
    /* unknown dtypes */
    write_st(fx->path, "{" T("w", "F8_E4M3", "[4]", 0, 4) "}", 4);
    expect_reject(fx->path, "\"w\": dtype is \"F8_E4M3\"", "expected one of");
    write_st(fx->path, "{" T("w", "f32", "[1]", 0, 4) "}", 4);
    expect_reject(fx->path, "\"w\": dtype", NULL);
    write_st(fx->path, "{\"w\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
    expect_reject(fx->path, "\"w\": dtype is 32", NULL);
    /* shape x dtype size != end - begin */
    write_st(fx->path, "{" T("w", "F32", "[2,3]", 0, 20) "}", 20);
    expect_reject(fx->path, "\"w\": shape [2, 3] of F32 needs 24 bytes", "[0, 20]");
    write_st(fx->path, "{" T("w", "F64", "[]", 0, 4) "}", 4);
    expect_reject(fx->path, "needs 8 bytes", NULL);
    /* shape overflowing 64 bits, even though later dims are small */
    write_st(fx->path, "{" T("w", "F32", "[4294967296,4294967296,2]", 0, 4) "}", 4);
    expect_reject(fx->path, "\"w\"", "overflows");
    write_st(fx->path, "{" T("w", "F32", "[4611686018427387904]", 0, 4) "}", 4);
    expect_reject(fx->path, "\"w\"", "overflows");
    /* bad shapes */
    write_st(fx->path, "{" T("w", "U8", "[-1]", 0, 0) "}", 0);
    expect_reject(fx->path, "\"w\": shape[0] is -1", "non-negative integer");
    write_st(fx->path, "{" T("w", "U8", "[2.0]", 0, 2) "}", 2);
    expect_reject(fx->path, "shape[0] is 2", NULL);
    write_st(fx->path, "{" T("w", "U8", "[1,\"2\"]", 0, 2) "}", 2);
    expect_reject(fx->path, "shape[1] is \"2\"", NULL);
    write_st(fx->path, "{" T("w", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) "}", 1);
    expect_reject(fx->path, "9 dimensions", NULL);
    write_st(fx->path, "{" T("w", "U8", "5", 0, 5) "}", 5);
    expect_reject(fx->path, "shape is 5", NULL);
    /* bad offsets */
    write_st(fx->path, "{" T("w", "U8", "[0]", 4, 2) "}", 4);
    expect_reject(fx->path, "\"w\": data_offsets [4, 2] end before", NULL);
    write_st(fx->path, "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1);
    expect_reject(fx->path, "\"w\": data_offsets", "pair");
    write_st(fx->path, "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1.0]}}", 1);
    expect_reject(fx->path, "\"w\": data_offsets", "pair");
    write_st(fx->path, "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}", 1);
    expect_reject(fx->path, "\"w\": data_offsets", "pair");
    /* missing and unexpected fields, wrong kinds */
    write_st(fx->path, "{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1);
    expect_reject(fx->path, "\"w\": missing field \"shape\"", NULL);
    write_st(fx->path, "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":1}}", 1);
    expect_reject(fx->path, "\"w\": unexpected field \"extra\"", NULL);
    write_st(fx->path, "{\"w\":{\"dtype\":\"U8\",\"dtype\\u0000x\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    expect_reject(fx->path, "NUL byte in object key", "dtype\\u0000x"); /* a key with NUL: refused by the JSON reader */
    write_st(fx->path, "{\"w\":[1,2]}", 0);
    expect_reject(fx->path, "\"w\" is array", NULL);
}

static void test_reject_tiling(void **state) {
    fixture *fx = *state;
    /* overlap */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "," T("b", "U8", "[8]", 4, 12) "}", 12);
    expect_reject(fx->path, "\"a\" [0, 8] and \"b\" [4, 12] overlap", NULL);
    /* the same range twice */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "," T("b", "U8", "[8]", 0, 8) "}", 8);
    expect_reject(fx->path, "overlap", NULL);
    /* an empty tensor inside another one */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "," T("z", "U8", "[0]", 4, 4) "}", 8);
    expect_reject(fx->path, "overlap", "\"z\"");
    /* gap between tensors */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "," T("b", "U8", "[8]", 12, 20) "}", 20);
    expect_reject(fx->path, "gap of 4 bytes", "between tensor \"a\" (ends at 8) and tensor \"b\" (begins at 12)");
    /* not starting at 0 */
    write_st(fx->path, "{" T("b", "U8", "[8]", 4, 12) "}", 12);
    expect_reject(fx->path, "bytes [0, 4) belong to no tensor", "\"b\"");
    /* offset past the end of the buffer */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "}", 4);
    expect_reject(fx->path, "\"a\": data_offsets [0, 8] run past the end of the data buffer (4 bytes)", NULL);
    write_st(fx->path, "{" T("a", "U8", "[1]", 18446744073709551614, 18446744073709551615) "}", 4);
    expect_reject(fx->path, "too big integer", "18446744073709551614"); /* past int64: the JSON reader refuses it */
    write_st(fx->path, "{" T("a", "U8", "[1]", 9223372036854775806, 9223372036854775807) "}", 4);
    expect_reject(fx->path, "\"a\": data_offsets", "run past the end");
    /* trailing bytes no tensor owns */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "}", 10);
    expect_reject(fx->path, "data buffer is 10 bytes but the tensors end at 8", NULL);
    write_st(fx->path, "{}", 3);
    expect_reject(fx->path, "data buffer is 3 bytes", NULL);
    /* zero-length tensors at the seams are fine */
    write_st(fx->path, "{" T("a", "U8", "[8]", 0, 8) "," T("z", "U8", "[0]", 8, 8) "," T("y", "F32", "[0,5]", 0, 0) "}",
             8);
    clgan_st_file *f = read_ok(fx->path);
    assert_int_equal(clgan_st_count(f), 3);
    clgan_st_close(f);
}

static void test_write_atomic(void **state) {
    fixture *fx = *state;
    const float v[2] = {1, 2};
    const int64_t shape[1] = {2};
    clgan_st_writer *wr = clgan_st_writer_new();
    assert_int_equal(clgan_st_add(wr, "v", CLGAN_DT_F32, 1, shape, v), CLGAN_OK);

    /* a folder that does not exist: IO error naming the path */
    char *bad = tu_path(fx->dir, "no/such/folder.safetensors");
    clgan_clear_error();
    assert_int_equal(clgan_st_write(wr, bad), CLGAN_ERR_IO);
    tu_assert_msg_has(bad);
    free(bad);

    /* the target is a folder: rename fails, the folder and its content stay
     * and no temporary file is left next to it */
    char *sub = tu_path(fx->dir, "ckpt");
    assert_int_equal(mkdir(sub, 0755), 0);
    char *inside = tu_path(sub, "keep");
    assert_int_equal(tu_write(inside, "x", 1), 0);
    assert_int_equal(clgan_st_write(wr, sub), CLGAN_ERR_IO);
    tu_assert_msg_has(sub);
    assert_int_equal(tu_count_entries(fx->dir), 1);
    assert_int_equal(tu_count_entries(sub), 1);
    free(inside);
    free(sub);

    /* replacing an existing checkpoint */
    assert_int_equal(tu_write(fx->path, "old", 3), 0);
    assert_int_equal(clgan_st_write(wr, fx->path), CLGAN_OK);
    clgan_st_file *f = read_ok(fx->path);
    assert_int_equal(clgan_st_count(f), 1);
    clgan_st_close(f);
    assert_int_equal(tu_count_entries(fx->dir), 2);
    clgan_st_writer_free(wr);
}

static void test_dtypes(void **state) {
    (void)state;
    const char *names[CLGAN_DT_COUNT] = {"F32", "F64", "F16", "BF16", "I64", "I32", "I16",
                                         "I8",  "U64", "U32", "U16", "U8",  "BOOL"};
    const size_t sizes[CLGAN_DT_COUNT] = {4, 8, 2, 2, 8, 4, 2, 1, 8, 4, 2, 1, 1};
    for (int i = 0; i < CLGAN_DT_COUNT; i++) {
        assert_string_equal(clgan_dtype_name((clgan_dtype)i), names[i]);
        assert_int_equal(clgan_dtype_size((clgan_dtype)i), sizes[i]);
        clgan_dtype dt;
        assert_int_equal(clgan_dtype_parse(names[i], &dt), CLGAN_OK);
        assert_int_equal(dt, i);
    }
    clgan_dtype dt;
    assert_int_equal(clgan_dtype_parse("F8_E5M2", &dt), CLGAN_ERR_NOT_FOUND);
    assert_int_equal(clgan_dtype_size(CLGAN_DT_COUNT), 0);
    assert_string_equal(clgan_dtype_name((clgan_dtype)-1), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_tensor_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reject_tiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
        cmocka_unit_test(test_dtypes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
