/* JSON: what the parser accepts and builds, what it rejects and where it
 * says the problem is, the writer's commas, escapes and numbers, and round
 * trips through both. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>

#include "clgan/io.h"
#include "io_test_util.h"

static clgan_json *parse_ok(const char *text) {
    clgan_json *j = NULL;
    clgan_status st = clgan_json_parse(text, strlen(text), &j);
    if (st != CLGAN_OK) fail_msg("parsing %s: %s", text, clgan_last_error());
    return j;
}

/* ---- accepted input ----------------------------------------------------- */

static void test_scalars(void **state) {
    (void)state;
    clgan_json *j = parse_ok(" null ");
    assert_int_equal(j->kind, CLGAN_JSON_NULL);
    clgan_json_free(j);
    j = parse_ok("\t\r\ntrue\n");
    assert_int_equal(j->kind, CLGAN_JSON_BOOL);
    assert_true(j->boolean);
    clgan_json_free(j);
    j = parse_ok("false");
    assert_false(j->boolean);
    clgan_json_free(j);

    struct {
        const char *text;
        double value;
        bool is_int;
        int64_t integer;
    } nums[] = {
        {"0", 0, true, 0},
        {"-0", 0.0, true, 0}, /* an integer: its sign is not kept */
        {"12.5e-1", 1.25, false, 0},
        {"1E2", 100, false, 0},
        {"-3", -3, true, -3},
        {"0.1", 0.1, false, 0},
        {"9223372036854775807", 9223372036854775807.0, true, INT64_MAX},
        {"-9223372036854775808", -9223372036854775808.0, true, INT64_MIN},
        {"9223372036854775808.0", 9223372036854775808.0, false, 0},
        {"-9.223372036854775809e18", -9223372036854775809.0, false, 0},
        {"1e-400", 0.0, false, 0}, /* underflow to zero is fine */
        {"2.5E+3", 2500, false, 0},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        j = parse_ok(nums[i].text);
        assert_int_equal(j->kind, CLGAN_JSON_NUMBER);
        if (j->number != nums[i].value) fail_msg("%s parsed as %.17g", nums[i].text, j->number);
        assert_int_equal(j->is_integer, nums[i].is_int);
        if (nums[i].is_int) assert_true(j->integer == nums[i].integer);
        clgan_json_free(j);
    }
    j = parse_ok("-0.0");
    assert_true(signbit(j->number));
    clgan_json_free(j);
    /* integer literals beyond 64 bits are refused, not rounded */
    assert_int_equal(clgan_json_parse("9223372036854775808", 19, &j), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("too big integer");
    assert_int_equal(clgan_json_parse("-9223372036854775809", 20, &j), CLGAN_ERR_FORMAT);
}

static void test_strings(void **state) {
    (void)state;
    clgan_json *j = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
    assert_string_equal(j->string, "q\" b\\ s/ \b\f\n\r\t");
    assert_int_equal(j->length, strlen("q\" b\\ s/ \b\f\n\r\t"));
    clgan_json_free(j);

    j = parse_ok("\"\\u00e9\\u20AC\\ud83d\\ude00\"");
    assert_string_equal(j->string, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"); /* é € 😀 */
    clgan_json_free(j);

    j = parse_ok("\"raw \xc3\xa9 \xf0\x9f\x98\x80\"");
    assert_string_equal(j->string, "raw \xc3\xa9 \xf0\x9f\x98\x80");
    clgan_json_free(j);

    j = parse_ok("\"a\\u0000b\"");
    assert_int_equal(j->length, 3);
    assert_memory_equal(j->string, "a\0b", 4);
    clgan_json_free(j);

    j = parse_ok("\"\"");
    assert_int_equal(j->length, 0);
    assert_string_equal(j->string, "");
    clgan_json_free(j);
}

static void test_tree_and_accessors(void **state) {
    (void)state;
    const char *text = "{\"name\": \"dcgan\", \"lr\": 2e-4, \"steps\": 1000, \"ema\": true,\n"
                       " \"shape\": [1, 28, 28], \"nested\": {\"a\": [], \"b\": {}}, \"nul\": \"x\\u0000y\"}";
    clgan_json *j = parse_ok(text);
    assert_int_equal(j->kind, CLGAN_JSON_OBJECT);
    assert_int_equal(clgan_json_count(j), 7);
    assert_string_equal(clgan_json_at(j, 0)->key, "name");
    assert_null(clgan_json_at(j, 7));

    const char *s;
    double d;
    int64_t i;
    bool b;
    assert_int_equal(clgan_json_get_string(j, "name", &s), CLGAN_OK);
    assert_string_equal(s, "dcgan");
    assert_int_equal(clgan_json_get_number(j, "lr", &d), CLGAN_OK);
    assert_true(d == 2e-4);
    assert_int_equal(clgan_json_get_int(j, "steps", &i), CLGAN_OK);
    assert_int_equal(i, 1000);
    assert_int_equal(clgan_json_get_bool(j, "ema", &b), CLGAN_OK);
    assert_true(b);

    const clgan_json *shape = clgan_json_get(j, "shape");
    assert_non_null(shape);
    assert_int_equal(clgan_json_count(shape), 3);
    assert_int_equal(clgan_json_at(shape, 2)->integer, 28);
    assert_int_equal(clgan_json_count(clgan_json_get(clgan_json_get(j, "nested"), "a")), 0);
    assert_null(clgan_json_get(j, "missing"));
    assert_null(clgan_json_get(shape, "name")); /* not an object */

    clgan_clear_error();
    assert_int_equal(clgan_json_get_int(j, "lr", &i), CLGAN_ERR_FORMAT); /* 2e-4 is not an integer */
    tu_assert_msg_has("\"lr\"");
    assert_int_equal(clgan_json_get_string(j, "steps", &s), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("expected a string, found number");
    assert_int_equal(clgan_json_get_bool(j, "missing", &b), CLGAN_ERR_NOT_FOUND);
    tu_assert_msg_has("\"missing\"");
    assert_int_equal(clgan_json_get_string(j, "nul", &s), CLGAN_ERR_FORMAT);
    clgan_json_free(j);
}

/* ---- rejected input ------------------------------------------------------ */

static void test_rejections(void **state) {
    (void)state;
    struct {
        const char *text;
        size_t offset;
        const char *says;
    } bad[] = {
        {"", 0, "unexpected token"},
        {"   ", 3, "unexpected token"},
        {"[1,]", 4, "unexpected token"},
        {"[1 2]", 4, "']' expected"},
        {"[1,2", 4, "']' expected"},
        {"{\"a\":1,}", 8, "string or '}' expected"},
        {"{\"a\":1 \"b\":2}", 10, "'}' expected"},
        {"{\"a\" 1}", 6, "':' expected"},
        {"{1:2}", 2, "string or '}' expected"},
        {"01", 1, "invalid token"},
        {"-01", 2, "invalid token"},
        {"1.", 2, "invalid token"},
        {"1.e3", 2, "invalid token"},
        {"-", 1, "invalid token"},
        {"+1", 1, "invalid token"},
        {".5", 1, "invalid token"},
        {"1e", 2, "invalid token"},
        {"1e+", 3, "invalid token"},
        {"tru", 3, "invalid token"},
        {"nulL", 4, "invalid token"},
        {"True", 4, "invalid token"},
        {"NaN", 3, "invalid token"},
        {"Infinity", 8, "invalid token"},
        {"1e400", 5, "real number overflow"},
        {"-1e400", 6, "real number overflow"},
        {"\"abc", 4, "premature end of input"},
        {"\"abc\\\"", 6, "premature end of input"},
        {"\"a\tb\"", 2, "control character 0x9"},
        {"\"a\nb\"", 2, "unexpected newline"},
        {"\"\\x\"", 3, "invalid escape"},
        {"\"\\u12G4\"", 6, "invalid escape"},
        {"\"\\ud800\"", 8, "invalid Unicode '\\uD800'"},
        {"\"\\ud800x\"", 9, "invalid Unicode '\\uD800'"},
        {"\"\\udc00\"", 8, "invalid Unicode '\\uDC00'"},
        {"\"\\ud800\\u0041\"", 14, "invalid Unicode '\\uD800\\u0041'"},
        {"\"\xff\"", 1, "unable to decode byte 0xff"},
        {"\"\xc0\xaf\"", 1, "unable to decode byte 0xc0"},         /* overlong '/' */
        {"\"\xed\xa0\x80\"", 1, "unable to decode byte 0xed"},     /* encoded surrogate */
        {"\"\xf4\x90\x80\x80\"", 1, "unable to decode byte 0xf4"}, /* > U+10FFFF */
        {"\"ab\xe2\x82\"", 3, "unable to decode byte 0xe2"},       /* cut sequence */
        {"{\"a\":1,\"b\":2,\"a\":3}", 16, "duplicate object key"},
        {"{\"x\":{\"k\":1,\"k\":2}}", 15, "duplicate object key"},
        {"[1] x", 5, "end of file expected"},
        {"{} {}", 4, "end of file expected"},
        {"// c\n1", 1, "invalid token"},
        {"\xef\xbb\xbf{}", 3, "invalid token"}, /* no BOM */
        {"[\"a\",\n  01]", 9, "invalid token"},
        {"{\"a\\u0000b\":1}", 11, "NUL byte in object key"},
        {"123456789012345678901234567890", 30, "too big integer"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clgan_json *j = (clgan_json *)&bad; /* must be reset to NULL */
        clgan_clear_error();
        clgan_status st = clgan_json_parse(bad[i].text, strlen(bad[i].text), &j);
        if (st != CLGAN_ERR_FORMAT) fail_msg("case %zu (%s): status %s", i, bad[i].text, clgan_status_name(st));
        assert_null(j);
        char where[64];
        snprintf(where, sizeof where, "byte offset %zu ", bad[i].offset);
        const char *msg = clgan_last_error();
        if (!strstr(msg, where) || !strstr(msg, bad[i].says))
            fail_msg("case %zu (%s): message \"%s\" lacks \"%s\" or \"%s\"", i, bad[i].text, msg, where, bad[i].says);
    }

    /* line and column on a multi-line config */
    clgan_json *j;
    const char *cfg = "{\n  \"a\": 1,\n  \"b\": x\n}";
    assert_int_equal(clgan_json_parse(cfg, strlen(cfg), &j), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("line 3, column 8");

    /* the length bounds the parse: a valid prefix followed by hidden bytes */
    assert_int_equal(clgan_json_parse("[1, 2]xyz", 6, &j), CLGAN_OK);
    clgan_json_free(j);
    assert_int_equal(clgan_json_parse("[1, 2]", 5, &j), CLGAN_ERR_FORMAT);
    assert_int_equal(clgan_json_parse("\"ab\"", 3, &j), CLGAN_ERR_FORMAT);
    assert_int_equal(clgan_json_parse("1234", 2, &j), CLGAN_OK);
    assert_int_equal(j->integer, 12);
    clgan_json_free(j);
}

static void test_utf8_valid(void **state) {
    (void)state;
    assert_true(clgan_utf8_valid("", 0));
    const char *ok = "abc \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf";
    assert_true(clgan_utf8_valid(ok, strlen(ok)));
    assert_false(clgan_utf8_valid(ok, strlen(ok) - 1)); /* last sequence cut */
    assert_true(clgan_utf8_valid("a\0b", 3));
    assert_false(clgan_utf8_valid("\xc3", 1));             /* cut */
    assert_false(clgan_utf8_valid("\xc1\xbf", 2));         /* overlong */
    assert_false(clgan_utf8_valid("\xe0\x9f\xbf", 3));     /* overlong */
    assert_false(clgan_utf8_valid("\xed\xbf\xbf", 3));     /* surrogate */
    assert_false(clgan_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(clgan_utf8_valid("\x80", 1));
    assert_false(clgan_utf8_valid("\xff", 1));
}

static void test_depth_limit(void **state) {
    (void)state;
    enum { D = CLGAN_JSON_MAX_DEPTH };
    char text[2 * (D + 1) + 1];
    clgan_json *j;
    memset(text, '[', D);
    memset(text + D, ']', D);
    assert_int_equal(clgan_json_parse(text, 2 * D, &j), CLGAN_OK);
    clgan_json_free(j);
    memset(text, '[', D + 1);
    memset(text + D + 1, ']', D + 1);
    assert_int_equal(clgan_json_parse(text, 2 * (D + 1), &j), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("nesting deeper than 128");

    /* a million unclosed brackets: refused at the limit, no stack overflow */
    size_t n = 1000000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    assert_int_equal(clgan_json_parse(deep, n, &j), CLGAN_ERR_FORMAT);
    free(deep);
}

/* {"k0":0,...,"k19999":19999} and, if dup, a repeated "k123" at the end. */
static void build_many_keys(clgan_jbuf *b, bool dup) {
    char key[32];
    clgan_jbuf_begin_object(b);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        clgan_jbuf_key(b, key); /* the writer does not police duplicates; the parser must */
        clgan_jbuf_int(b, i);
    }
    if (dup) {
        clgan_jbuf_key(b, "k123");
        clgan_jbuf_int(b, 0);
    }
    clgan_jbuf_end_object(b);
    assert_int_equal(clgan_jbuf_finish(b), CLGAN_OK);
}

static void test_duplicate_keys_many(void **state) {
    (void)state;
    /* found by sorting, not by comparing all pairs */
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    build_many_keys(&b, false);
    clgan_json *j;
    assert_int_equal(clgan_json_parse(b.data, b.len, &j), CLGAN_OK);
    assert_int_equal(clgan_json_get(j, "k19999")->integer, 19999);
    clgan_json_free(j);

    clgan_jbuf_reset(&b);
    build_many_keys(&b, true);
    assert_int_equal(clgan_json_parse(b.data, b.len, &j), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("duplicate object key near '\"k123\"'");
    char where[48]; /* just after the repeated key */
    snprintf(where, sizeof where, "byte offset %zu ", (size_t)(strstr(b.data, ",\"k123\":0}") - b.data) + 7);
    tu_assert_msg_has(where);
    clgan_jbuf_free(&b);
}

/* ---- writer -------------------------------------------------------------- */

static void test_writer_structure(void **state) {
    (void)state;
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    assert_string_equal(clgan_jbuf_cstr(&b), "");
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "a");
    clgan_jbuf_int(&b, 1);
    clgan_jbuf_key(&b, "b");
    clgan_jbuf_begin_array(&b);
    clgan_jbuf_int(&b, 1);
    clgan_jbuf_uint(&b, UINT64_MAX);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "c");
    clgan_jbuf_null(&b);
    clgan_jbuf_end_object(&b);
    clgan_jbuf_begin_array(&b);
    clgan_jbuf_end_array(&b);
    clgan_jbuf_end_array(&b);
    clgan_jbuf_key(&b, "d\"\\\n\x01\t");
    clgan_jbuf_str(&b, "x\xffy\xc3\xa9");
    clgan_jbuf_key(&b, "e");
    clgan_jbuf_bool(&b, true);
    clgan_jbuf_key(&b, "f");
    clgan_jbuf_strn(&b, "a\0b", 3);
    clgan_jbuf_key(&b, "g");
    clgan_jbuf_str(&b, NULL);
    clgan_jbuf_end_object(&b);
    assert_int_equal(clgan_jbuf_finish(&b), CLGAN_OK);
    assert_string_equal(clgan_jbuf_cstr(&b),
                        "{\"a\":1,\"b\":[1,18446744073709551615,{\"c\":null},[]],\"d\\\"\\\\\\n\\u0001\\t\":"
                        "\"x\xef\xbf\xbdy\xc3\xa9\",\"e\":true,\"f\":\"a\\u0000b\",\"g\":null}");
    /* and it parses back, all but the integer beyond int64, which the reader refuses */
    clgan_json *j = NULL;
    assert_int_equal(clgan_json_parse(b.data, b.len, &j), CLGAN_ERR_FORMAT);
    tu_assert_msg_has("too big integer");
    char *fits = strdup(b.data);
    memcpy(strstr(fits, "18446744073709551615"), "184467440737095516.", 19); /* a real of the same digits */
    j = parse_ok(fits);
    free(fits);
    assert_int_equal(clgan_json_get(j, "f")->length, 3);
    assert_non_null(clgan_json_get(j, "d\"\\\n\x01\t"));
    clgan_json_free(j);

    clgan_jbuf_reset(&b);
    clgan_jbuf_int(&b, INT64_MIN);
    assert_string_equal(clgan_jbuf_cstr(&b), "-9223372036854775808");
    clgan_jbuf_free(&b);
}

static void test_writer_misuse(void **state) {
    (void)state;
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    assert_int_equal(clgan_jbuf_finish(&b), CLGAN_ERR_INVALID_ARG); /* nothing written */

    clgan_jbuf_key(&b, "k"); /* key outside an object */
    assert_int_equal(clgan_jbuf_status(&b), CLGAN_ERR_INVALID_ARG);
    tu_assert_msg_has("outside an object");
    clgan_jbuf_int(&b, 1); /* sticky: ignored */
    assert_string_equal(clgan_jbuf_cstr(&b), "");

    clgan_jbuf_reset(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_int(&b, 1); /* value without a key */
    assert_int_equal(clgan_jbuf_finish(&b), CLGAN_ERR_INVALID_ARG);
    tu_assert_msg_has("without a key");

    clgan_jbuf_reset(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_end_array(&b);
    assert_int_equal(clgan_jbuf_status(&b), CLGAN_ERR_INVALID_ARG);

    clgan_jbuf_reset(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "a");
    clgan_jbuf_end_object(&b);
    assert_int_equal(clgan_jbuf_status(&b), CLGAN_ERR_INVALID_ARG);

    clgan_jbuf_reset(&b);
    clgan_jbuf_int(&b, 1);
    clgan_jbuf_int(&b, 2); /* second top-level value */
    assert_int_equal(clgan_jbuf_status(&b), CLGAN_ERR_INVALID_ARG);

    clgan_jbuf_reset(&b);
    clgan_jbuf_begin_array(&b);
    assert_int_equal(clgan_jbuf_status(&b), CLGAN_OK);
    assert_int_equal(clgan_jbuf_finish(&b), CLGAN_ERR_INVALID_ARG); /* unclosed */
    tu_assert_msg_has("1 unclosed");

    clgan_jbuf_reset(&b);
    for (int i = 0; i <= CLGAN_JSON_MAX_DEPTH; i++) clgan_jbuf_begin_array(&b);
    assert_int_equal(clgan_jbuf_status(&b), CLGAN_ERR_INVALID_ARG);
    clgan_jbuf_free(&b);
}

static void test_writer_numbers(void **state) {
    (void)state;
    struct {
        double v;
        const char *text;
    } d[] = {
        {0.1, "0.1"}, {1.0 / 3.0, "0.3333333333333333"}, {1e300, "1e+300"}, {-0.0, "-0.0"}, {100, "100"},
        {5e-324, "5e-324"}, {NAN, "null"}, {INFINITY, "null"}, {-INFINITY, "null"},
    };
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        clgan_jbuf_reset(&b);
        clgan_jbuf_num(&b, d[i].v);
        assert_string_equal(clgan_jbuf_cstr(&b), d[i].text);
    }
    struct {
        float v;
        const char *text;
    } f[] = {{0.1f, "0.1"}, {1.0f / 3.0f, "0.33333334"}, {16777216.0f, "16777216"}, {FLT_MAX, "3.4028235e+38"},
             {NAN, "null"}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        clgan_jbuf_reset(&b);
        clgan_jbuf_f32(&b, f[i].v);
        assert_string_equal(clgan_jbuf_cstr(&b), f[i].text);
    }

    /* random bit patterns read back bit-exactly */
    uint64_t s = 7;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = (uint64_t)tu_rand(&s) << 32 | tu_rand(&s);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v)) continue;
        clgan_jbuf_reset(&b);
        clgan_jbuf_num(&b, v);
        double back = strtod(clgan_jbuf_cstr(&b), NULL);
        if (memcmp(&back, &v, sizeof v) != 0) fail_msg("%.17g written as %s", v, clgan_jbuf_cstr(&b));

        uint32_t fb = tu_rand(&s);
        float fv;
        memcpy(&fv, &fb, sizeof fv);
        if (!isfinite(fv)) continue;
        clgan_jbuf_reset(&b);
        clgan_jbuf_f32(&b, fv);
        float fback = strtof(clgan_jbuf_cstr(&b), NULL);
        if (memcmp(&fback, &fv, sizeof fv) != 0) fail_msg("%.9g written as %s", (double)fv, clgan_jbuf_cstr(&b));
        assert_true(strlen(clgan_jbuf_cstr(&b)) <= 15);
    }
    clgan_jbuf_free(&b);
}

/* Structural equality of two trees (numbers bit-exact). */
static bool tree_equal(const clgan_json *a, const clgan_json *b) {
    if (a->kind != b->kind) return false;
    if ((a->key == NULL) != (b->key == NULL)) return false;
    if (a->key && (a->key_length != b->key_length || memcmp(a->key, b->key, a->key_length))) return false;
    switch (a->kind) {
    case CLGAN_JSON_NULL: return true;
    case CLGAN_JSON_BOOL: return a->boolean == b->boolean;
    case CLGAN_JSON_NUMBER: /* "1E3" prints as "1000", which reads back as an integer */
        return memcmp(&a->number, &b->number, sizeof a->number) == 0 &&
               (!a->is_integer || !b->is_integer || a->integer == b->integer);
    case CLGAN_JSON_STRING: return a->length == b->length && memcmp(a->string, b->string, a->length) == 0;
    default:
        if (a->count != b->count) return false;
        for (size_t i = 0; i < a->count; i++)
            if (!tree_equal(&a->items[i], &b->items[i])) return false;
        return true;
    }
}

static void test_round_trip(void **state) {
    (void)state;
    struct {
        const char *in, *out;
    } cases[] = {
        {" { \"a\" : [ 1 , 2.50 , -0.0 , 1E3 ] , \"b\" : { } , \"c\" : [ ] } ",
         "{\"a\":[1,2.5,-0.0,1000],\"b\":{},\"c\":[]}"},
        {"\"\\u00e9\\/\\ud83d\\ude00\"", "\"\xc3\xa9/\xf0\x9f\x98\x80\""},
        {"[true,false,null,\"\",0.1,-9223372036854775808,123456789012345678901234567890.0]",
         "[true,false,null,\"\",0.1,-9223372036854775808,1.2345678901234568e+29]"},
        {"{\"k\":\"\\u0000\\u001f\"}", "{\"k\":\"\\u0000\\u001f\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clgan_json *j = parse_ok(cases[i].in);
        clgan_jbuf b;
        clgan_jbuf_init(&b);
        clgan_jbuf_value(&b, j);
        assert_int_equal(clgan_jbuf_finish(&b), CLGAN_OK);
        assert_string_equal(clgan_jbuf_cstr(&b), cases[i].out);
        clgan_json *j2 = parse_ok(b.data);
        /* the printed form is a fixed point */
        clgan_jbuf b2;
        clgan_jbuf_init(&b2);
        clgan_jbuf_value(&b2, j2);
        assert_string_equal(clgan_jbuf_cstr(&b2), cases[i].out);
        if (i != 2) assert_true(tree_equal(j, j2)); /* case 2 rounds a big integer */
        clgan_jbuf_free(&b2);
        clgan_json_free(j2);
        clgan_jbuf_free(&b);
        clgan_json_free(j);
    }
}

/* A scratch folder, removed by teardown even when a test fails. */
static int setup_dir(void **state) {
    char *dir = tu_mkdtemp();
    *state = dir;
    return dir ? 0 : -1;
}

static int teardown_dir(void **state) {
    tu_rmtree(*state);
    free(*state);
    return 0;
}

static void test_jsonl_and_files(void **state) {
    const char *dir = *state;
    char *log = tu_path(dir, "log.jsonl"), *cfg = tu_path(dir, "config.json");

    FILE *f = fopen(log, "w");
    assert_non_null(f);
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    for (int step = 0; step < 2; step++) {
        clgan_jbuf_reset(&b);
        clgan_jbuf_begin_object(&b);
        clgan_jbuf_key(&b, "step");
        clgan_jbuf_int(&b, step);
        clgan_jbuf_key(&b, "loss_d");
        clgan_jbuf_f32(&b, step ? NAN : 0.5f);
        clgan_jbuf_key(&b, "note");
        clgan_jbuf_str(&b, "line\nbreak");
        clgan_jbuf_end_object(&b);
        assert_int_equal(clgan_jsonl_append(f, &b), CLGAN_OK);
    }
    /* an unfinished value is refused and nothing is written */
    clgan_jbuf_reset(&b);
    clgan_jbuf_begin_object(&b);
    assert_int_equal(clgan_jsonl_append(f, &b), CLGAN_ERR_INVALID_ARG);
    fclose(f);
    size_t len;
    char *text = (char *)tu_read(log, &len);
    const char *want = "{\"step\":0,\"loss_d\":0.5,\"note\":\"line\\nbreak\"}\n"
                       "{\"step\":1,\"loss_d\":null,\"note\":\"line\\nbreak\"}\n";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(text, want, len);
    free(text);

    clgan_jbuf_reset(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "lr");
    clgan_jbuf_num(&b, 2e-4);
    clgan_jbuf_end_object(&b);
    assert_int_equal(clgan_jbuf_write_file(&b, cfg), CLGAN_OK);
    clgan_json *j;
    assert_int_equal(clgan_json_parse_file(cfg, 1 << 20, &j), CLGAN_OK);
    double lr;
    assert_int_equal(clgan_json_get_number(j, "lr", &lr), CLGAN_OK);
    assert_true(lr == 2e-4);
    clgan_json_free(j);
    assert_int_equal(tu_count_entries(dir), 2); /* no temporary files */

    /* errors from a file name it */
    assert_int_equal(tu_write(cfg, "{\"lr\": }", 8), 0);
    assert_int_equal(clgan_json_parse_file(cfg, 1 << 20, &j), CLGAN_ERR_FORMAT);
    tu_assert_msg_has(cfg);
    tu_assert_msg_has("byte offset 8 ");
    assert_int_equal(clgan_json_parse_file(cfg, 4, &j), CLGAN_ERR_FORMAT); /* too big */
    tu_assert_msg_has(cfg);
    char *missing = tu_path(dir, "missing.json");
    assert_int_equal(clgan_json_parse_file(missing, 1 << 20, &j), CLGAN_ERR_NOT_FOUND);
    tu_assert_msg_has(missing);

    free(missing);
    clgan_jbuf_free(&b);
    free(log);
    free(cfg);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_tree_and_accessors),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_duplicate_keys_many),
        cmocka_unit_test(test_writer_structure),
        cmocka_unit_test(test_writer_misuse),
        cmocka_unit_test(test_writer_numbers),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test_setup_teardown(test_jsonl_and_files, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
