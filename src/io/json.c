/* JSON (RFC 8259): untrusted text into a tree (jansson parses it), and a
 * builder that writes JSON text (configs, JSON-lines logs, safetensors
 * headers) with float32 in its shortest round-trip form, which jansson's
 * writer (one precision for every real) does not give.
 *
 * The parser reads untrusted input (safetensors headers come from the
 * outside world), so it is bounded: jansson never reads past `len`, rejects
 * duplicate keys (a seeded hash table) and stops at its own nesting limit;
 * before it runs, the values the text can hold are counted against
 * CLGAN_JSON_MAX_NODES (a node is ~100 bytes, so "[0,0,0,...]" would
 * otherwise cost 50 times its size), and the tree it gives is converted
 * only down to CLGAN_JSON_MAX_DEPTH. */
#include "clgan/io.h"

#include <errno.h>
#include <jansson.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Parser: jansson reads the text (strict RFC 8259 with JSON_REJECT_DUPLICATES,
 * UTF-8 validated, \u0000 allowed in strings), then its tree becomes ours.
 * ------------------------------------------------------------------------ */

static void free_contents(clgan_json *n) {
    for (size_t i = 0; i < n->count; i++) free_contents(&n->items[i]);
    free(n->items);
    free(n->string);
    free(n->key);
}

void clgan_json_free(clgan_json *root) {
    if (!root) return;
    free_contents(root);
    free(root);
}

/* Length of the valid UTF-8 sequence at s[0, avail), or 0 if invalid
 * (Unicode table 3-7: no overlong forms, no surrogates, <= U+10FFFF). */
static size_t utf8_seq_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else {
        return 0;
    }
    if (avail < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf) return 0;
    return n;
}

bool clgan_utf8_valid(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq_len(u + i, len - i);
        if (k == 0) return false;
        i += k;
    }
    return true;
}

/* An upper bound on the values in text: one, plus one per ',' and per
 * opening bracket outside strings. Checked before jansson builds its tree,
 * whose nodes cost ~50 times the bytes of "[0,0,0,...]". */
static size_t count_values(const char *s, size_t len) {
    size_t n = 1;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == ',' || c == '[' || c == '{') {
            n++;
        }
    }
    return n;
}

static clgan_status from_jansson(json_t *v, int depth, clgan_json *out);

static clgan_status copy_text(const char *s, size_t len, char **out) {
    *out = malloc(len + 1);
    if (!*out) return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory");
    memcpy(*out, s, len);
    (*out)[len] = 0;
    return CLGAN_OK;
}

static clgan_status from_container(json_t *v, int depth, clgan_json *out) {
    if (depth >= CLGAN_JSON_MAX_DEPTH)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "nesting deeper than %d arrays and objects (expected at most %d)",
                         CLGAN_JSON_MAX_DEPTH, CLGAN_JSON_MAX_DEPTH);
    bool object = json_is_object(v);
    out->kind = object ? CLGAN_JSON_OBJECT : CLGAN_JSON_ARRAY;
    size_t n = object ? json_object_size(v) : json_array_size(v);
    if (n == 0) return CLGAN_OK;
    out->items = calloc(n, sizeof *out->items);
    if (!out->items) return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory");
    clgan_status st = CLGAN_OK;
    if (!object) {
        for (size_t i = 0; i < n && st == CLGAN_OK; i++, out->count++) st = from_jansson(json_array_get(v, i), depth + 1, &out->items[i]);
        return st;
    }
    /* members in document order (jansson keeps the insertion order) */
    for (void *it = json_object_iter(v); it && st == CLGAN_OK; it = json_object_iter_next(v, it)) {
        clgan_json *m = &out->items[out->count++];
        size_t klen = json_object_iter_key_len(it);
        st = copy_text(json_object_iter_key(it), klen, &m->key);
        m->key_length = klen;
        if (st == CLGAN_OK) st = from_jansson(json_object_iter_value(it), depth + 1, m);
    }
    return st;
}

static clgan_status from_jansson(json_t *v, int depth, clgan_json *out) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
    case JSON_ARRAY: return from_container(v, depth, out);
    case JSON_STRING:
        out->kind = CLGAN_JSON_STRING;
        out->length = json_string_length(v);
        return copy_text(json_string_value(v), out->length, &out->string);
    case JSON_INTEGER:
        out->kind = CLGAN_JSON_NUMBER;
        out->is_integer = true;
        out->integer = (int64_t)json_integer_value(v);
        out->number = (double)out->integer;
        return CLGAN_OK;
    case JSON_REAL:
        out->kind = CLGAN_JSON_NUMBER;
        out->number = json_real_value(v);
        return CLGAN_OK;
    case JSON_TRUE:
    case JSON_FALSE:
        out->kind = CLGAN_JSON_BOOL;
        out->boolean = json_is_true(v);
        return CLGAN_OK;
    case JSON_NULL: out->kind = CLGAN_JSON_NULL; return CLGAN_OK;
    }
    return CLGAN_ERR(CLGAN_ERR_FORMAT, "JSON: a value of unknown type");
}

_Static_assert(sizeof(json_int_t) == sizeof(int64_t), "jansson's integers are 64-bit");

clgan_status clgan_json_parse(const char *text, size_t len, clgan_json **out) {
    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON parse: NULL output");
    *out = NULL;
    if (!text && len) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON parse: NULL text of length %zu", len);
    if (!text) text = "";
    size_t values = count_values(text, len);
    if (values > CLGAN_JSON_MAX_NODES)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "up to %zu values (expected at most %d)", values, CLGAN_JSON_MAX_NODES);
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root) {
        /* jansson's message quotes the text near the error, which the error record escapes */
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "byte offset %d (line %d, column %d): %s", err.position, err.line,
                         err.column, err.text);
    }
    clgan_json *tree = calloc(1, sizeof *tree);
    clgan_status st = tree ? from_jansson(root, 0, tree) : CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory");
    json_decref(root);
    if (st != CLGAN_OK) {
        clgan_json_free(tree);
        return st;
    }
    *out = tree;
    return CLGAN_OK;
}

clgan_status clgan_json_parse_file(const char *path, size_t max_bytes, clgan_json **out) {
    if (out) *out = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    clgan_status st = clgan_read_file(path, max_bytes, &data, &len);
    if (st != CLGAN_OK) return st;
    st = clgan_json_parse((const char *)data, len, out);
    free(data);
    if (st != CLGAN_OK) return clgan_error_context(st, "%s: ", path);
    return CLGAN_OK;
}

/* ------------------------------------------------------------------------
 * Accessors
 * ------------------------------------------------------------------------ */

const char *clgan_json_kind_name(clgan_json_kind kind) {
    switch (kind) {
    case CLGAN_JSON_NULL: return "null";
    case CLGAN_JSON_BOOL: return "boolean";
    case CLGAN_JSON_NUMBER: return "number";
    case CLGAN_JSON_STRING: return "string";
    case CLGAN_JSON_ARRAY: return "array";
    case CLGAN_JSON_OBJECT: return "object";
    }
    return "?";
}

const clgan_json *clgan_json_get(const clgan_json *obj, const char *key) {
    if (!obj || !key || obj->kind != CLGAN_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->count; i++) {
        const clgan_json *m = &obj->items[i];
        if (m->key_length == n && memcmp(m->key, key, n) == 0) return m;
    }
    return NULL;
}

const clgan_json *clgan_json_at(const clgan_json *node, size_t i) {
    if (!node || (node->kind != CLGAN_JSON_ARRAY && node->kind != CLGAN_JSON_OBJECT) || i >= node->count) return NULL;
    return &node->items[i];
}

size_t clgan_json_count(const clgan_json *node) {
    if (!node || (node->kind != CLGAN_JSON_ARRAY && node->kind != CLGAN_JSON_OBJECT)) return 0;
    return node->count;
}

/* The member, or an error naming the key and the kind expected. */
static clgan_status get_member(const clgan_json *obj, const char *key, clgan_json_kind kind, const clgan_json **m) {
    if (!obj || obj->kind != CLGAN_JSON_OBJECT)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\": expected to look it up in an object, found %s", key,
                         obj ? clgan_json_kind_name(obj->kind) : "nothing");
    *m = clgan_json_get(obj, key);
    if (!*m) return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "missing field \"%s\" (expected a %s)", key, clgan_json_kind_name(kind));
    if ((*m)->kind != kind)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\": expected a %s, found %s", key, clgan_json_kind_name(kind),
                         clgan_json_kind_name((*m)->kind));
    return CLGAN_OK;
}

clgan_status clgan_json_get_number(const clgan_json *obj, const char *key, double *out) {
    const clgan_json *m = NULL;
    clgan_status st = get_member(obj, key, CLGAN_JSON_NUMBER, &m);
    if (st == CLGAN_OK) *out = m->number;
    return st;
}

clgan_status clgan_json_get_int(const clgan_json *obj, const char *key, int64_t *out) {
    const clgan_json *m = NULL;
    clgan_status st = get_member(obj, key, CLGAN_JSON_NUMBER, &m);
    if (st != CLGAN_OK) return st;
    if (!m->is_integer)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\": expected an integer (no fraction or exponent, within 64 "
                         "bits), found %.17g", key, m->number);
    *out = m->integer;
    return CLGAN_OK;
}

clgan_status clgan_json_get_bool(const clgan_json *obj, const char *key, bool *out) {
    const clgan_json *m = NULL;
    clgan_status st = get_member(obj, key, CLGAN_JSON_BOOL, &m);
    if (st == CLGAN_OK) *out = m->boolean;
    return st;
}

clgan_status clgan_json_get_string(const clgan_json *obj, const char *key, const char **out) {
    const clgan_json *m = NULL;
    clgan_status st = get_member(obj, key, CLGAN_JSON_STRING, &m);
    if (st != CLGAN_OK) return st;
    if (strlen(m->string) != m->length)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\": expected a string without NUL (\\u0000)", key);
    *out = m->string;
    return CLGAN_OK;
}

/* ------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------ */

void clgan_jbuf_init(clgan_jbuf *b) { memset(b, 0, sizeof *b); }

void clgan_jbuf_free(clgan_jbuf *b) {
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

void clgan_jbuf_reset(clgan_jbuf *b) {
    char *data = b->data;
    size_t cap = b->cap;
    memset(b, 0, sizeof *b);
    b->data = data;
    b->cap = cap;
    if (data) data[0] = 0;
}

static void jfail(clgan_jbuf *b, clgan_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void jfail(clgan_jbuf *b, clgan_status st, const char *fmt, ...) {
    if (b->status != CLGAN_OK) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, sizeof b->err, fmt, ap);
    va_end(ap);
    b->status = st;
    CLGAN_ERR(st, "%s", b->err);
}

/* Room for n more bytes plus the terminator. */
static bool reserve(clgan_jbuf *b, size_t n) {
    if (b->status != CLGAN_OK) return false;
    if (n >= SIZE_MAX / 2 - b->len) {
        jfail(b, CLGAN_ERR_NOMEM, "JSON writer: text too long");
        return false;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        jfail(b, CLGAN_ERR_NOMEM, "JSON writer: out of memory growing to %zu bytes", cap);
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

static void put(clgan_jbuf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

static void putc1(clgan_jbuf *b, char c) { put(b, &c, 1); }

/* Checks that a value may come here and writes the comma before it. */
static bool begin_value(clgan_jbuf *b, const char *what) {
    if (b->status != CLGAN_OK) return false;
    if (b->depth == 0) {
        if (b->done) {
            jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: %s after the complete top-level value", what);
            return false;
        }
        return true;
    }
    int top = b->depth - 1;
    if (b->in_object[top]) {
        if (!b->key_pending) {
            jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: %s inside an object without a key before it", what);
            return false;
        }
        b->key_pending = false;
        return true;
    }
    if (b->has_items[top]) putc1(b, ',');
    b->has_items[top] = true;
    return b->status == CLGAN_OK;
}

static void end_scalar(clgan_jbuf *b) {
    if (b->depth == 0) b->done = true;
}

static void put_escaped(clgan_jbuf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    putc1(b, '"');
    size_t i = 0;
    while (i < n && b->status == CLGAN_OK) {
        /* copy the longest run that needs no escaping */
        size_t j = i;
        for (;;) {
            if (j >= n) break;
            unsigned char c = (unsigned char)s[j];
            if (c < 0x20 || c == '"' || c == '\\') break;
            if (c < 0x80) {
                j++;
                continue;
            }
            size_t k = utf8_seq_len((const unsigned char *)s + j, n - j);
            if (k == 0) break;
            j += k;
        }
        put(b, s + i, j - i);
        i = j;
        if (i >= n) break;
        unsigned char c = (unsigned char)s[i++];
        switch (c) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\b': put(b, "\\b", 2); break;
        case '\f': put(b, "\\f", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        default:
            if (c < 0x20) {
                char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                put(b, u, 6);
            } else {
                put(b, "\xef\xbf\xbd", 3); /* U+FFFD for a byte that is not UTF-8 */
            }
        }
    }
    putc1(b, '"');
}

void clgan_jbuf_begin_object(clgan_jbuf *b) {
    if (!begin_value(b, "object")) return;
    if (b->depth >= CLGAN_JSON_MAX_DEPTH) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: nesting deeper than %d", CLGAN_JSON_MAX_DEPTH);
        return;
    }
    putc1(b, '{');
    b->in_object[b->depth] = true;
    b->has_items[b->depth] = false;
    b->depth++;
}

void clgan_jbuf_begin_array(clgan_jbuf *b) {
    if (!begin_value(b, "array")) return;
    if (b->depth >= CLGAN_JSON_MAX_DEPTH) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: nesting deeper than %d", CLGAN_JSON_MAX_DEPTH);
        return;
    }
    putc1(b, '[');
    b->in_object[b->depth] = false;
    b->has_items[b->depth] = false;
    b->depth++;
}

static void end_container(clgan_jbuf *b, bool object) {
    if (b->status != CLGAN_OK) return;
    const char *name = object ? "end_object" : "end_array";
    if (b->depth == 0 || b->in_object[b->depth - 1] != object) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: %s with no open %s", name, object ? "object" : "array");
        return;
    }
    if (b->key_pending) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: end_object right after a key (expected its value)");
        return;
    }
    putc1(b, object ? '}' : ']');
    b->depth--;
    end_scalar(b);
}

void clgan_jbuf_end_object(clgan_jbuf *b) { end_container(b, true); }
void clgan_jbuf_end_array(clgan_jbuf *b) { end_container(b, false); }

void clgan_jbuf_keyn(clgan_jbuf *b, const char *key, size_t len) {
    if (b->status != CLGAN_OK) return;
    if (!key) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: NULL key");
        return;
    }
    if (b->depth == 0 || !b->in_object[b->depth - 1] || b->key_pending) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: key \"%.*s\" %s", (int)(len < 64 ? len : 64), key,
              b->key_pending ? "right after another key (expected a value)" : "outside an object");
        return;
    }
    int top = b->depth - 1;
    if (b->has_items[top]) putc1(b, ',');
    b->has_items[top] = true;
    put_escaped(b, key, len);
    putc1(b, ':');
    b->key_pending = true;
}

void clgan_jbuf_key(clgan_jbuf *b, const char *key) { clgan_jbuf_keyn(b, key, key ? strlen(key) : 0); }

void clgan_jbuf_strn(clgan_jbuf *b, const char *s, size_t len) {
    if (!s) {
        clgan_jbuf_null(b);
        return;
    }
    if (!begin_value(b, "string")) return;
    put_escaped(b, s, len);
    end_scalar(b);
}

void clgan_jbuf_str(clgan_jbuf *b, const char *s) { clgan_jbuf_strn(b, s, s ? strlen(s) : 0); }

static void put_raw_value(clgan_jbuf *b, const char *what, const char *text) {
    if (!begin_value(b, what)) return;
    put(b, text, strlen(text));
    end_scalar(b);
}

/* The shortest decimal that reads back to v, laid out like Python's repr:
 * "0.1" (not 0.10000000000000001), "100" (not 1e+02), "1e+300".
 * The digit count p is the first of 1..max_digits whose correctly rounded
 * form round-trips; 17 always does for double, 9 for float. */
static void format_shortest(char *out, size_t cap, double v, int max_digits, bool as_float) {
    if (v == 0 && signbit(v)) { /* a real: "-0" would read back as the integer 0 */
        snprintf(out, cap, "-0.0");
        return;
    }
    int p = 1;
    for (; p <= max_digits; p++) {
        snprintf(out, cap, "%.*e", p - 1, v);
        if (as_float ? strtof(out, NULL) == (float)v : strtod(out, NULL) == v) break;
    }
    if (p > max_digits) p = max_digits; /* unreachable: max_digits always round-trips */
    const char *e = strchr(out, 'e');
    int exp10 = e ? atoi(e + 1) : 0;
    /* Plain notation for moderate exponents: %.Nf with p - 1 - exp10
     * decimals rounds to the same p significant digits. */
    if (exp10 >= -4 && exp10 < max_digits) {
        int decimals = p - 1 - exp10;
        snprintf(out, cap, "%.*f", decimals > 0 ? decimals : 0, v);
    }
}

void clgan_jbuf_num(clgan_jbuf *b, double v) {
    if (!isfinite(v)) {
        put_raw_value(b, "number", "null");
        return;
    }
    char text[48];
    format_shortest(text, sizeof text, v, 17, false);
    put_raw_value(b, "number", text);
}

void clgan_jbuf_f32(clgan_jbuf *b, float v) {
    if (!isfinite(v)) {
        put_raw_value(b, "number", "null");
        return;
    }
    char text[48];
    format_shortest(text, sizeof text, (double)v, 9, true);
    put_raw_value(b, "number", text);
}

void clgan_jbuf_int(clgan_jbuf *b, int64_t v) {
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    put_raw_value(b, "number", text);
}

void clgan_jbuf_uint(clgan_jbuf *b, uint64_t v) {
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, v);
    put_raw_value(b, "number", text);
}

void clgan_jbuf_bool(clgan_jbuf *b, bool v) { put_raw_value(b, "boolean", v ? "true" : "false"); }
void clgan_jbuf_null(clgan_jbuf *b) { put_raw_value(b, "null", "null"); }

void clgan_jbuf_value(clgan_jbuf *b, const clgan_json *v) {
    if (!v) {
        jfail(b, CLGAN_ERR_INVALID_ARG, "JSON writer: NULL tree");
        return;
    }
    switch (v->kind) {
    case CLGAN_JSON_NULL: clgan_jbuf_null(b); break;
    case CLGAN_JSON_BOOL: clgan_jbuf_bool(b, v->boolean); break;
    case CLGAN_JSON_NUMBER:
        /* integers exactly (beyond 2^53 a double would round them), but "-0"
         * through the double path, which keeps its sign */
        if (v->is_integer && !(v->integer == 0 && signbit(v->number)))
            clgan_jbuf_int(b, v->integer);
        else
            clgan_jbuf_num(b, v->number);
        break;
    case CLGAN_JSON_STRING: clgan_jbuf_strn(b, v->string, v->length); break;
    case CLGAN_JSON_ARRAY:
        clgan_jbuf_begin_array(b);
        for (size_t i = 0; i < v->count && b->status == CLGAN_OK; i++) clgan_jbuf_value(b, &v->items[i]);
        clgan_jbuf_end_array(b);
        break;
    case CLGAN_JSON_OBJECT:
        clgan_jbuf_begin_object(b);
        for (size_t i = 0; i < v->count && b->status == CLGAN_OK; i++) {
            clgan_jbuf_keyn(b, v->items[i].key, v->items[i].key_length);
            clgan_jbuf_value(b, &v->items[i]);
        }
        clgan_jbuf_end_object(b);
        break;
    }
}

const char *clgan_jbuf_cstr(const clgan_jbuf *b) { return b->data ? b->data : ""; }

clgan_status clgan_jbuf_status(const clgan_jbuf *b) {
    if (b->status != CLGAN_OK) return CLGAN_ERR(b->status, "%s", b->err);
    return CLGAN_OK;
}

clgan_status clgan_jbuf_finish(const clgan_jbuf *b) {
    if (b->status != CLGAN_OK) return CLGAN_ERR(b->status, "%s", b->err);
    if (b->depth > 0)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON writer: value incomplete (%d unclosed containers)", b->depth);
    if (!b->done) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON writer: nothing written");
    return CLGAN_OK;
}

clgan_status clgan_jsonl_append(FILE *f, const clgan_jbuf *b) {
    clgan_status st = clgan_jbuf_finish(b);
    if (st != CLGAN_OK) return st;
    if (!f) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON lines: NULL stream");
    /* The text never holds a raw newline (strings escape it), so one line
     * is one record. */
    errno = 0;
    if (fwrite(b->data, 1, b->len, f) != b->len || fputc('\n', f) == EOF || fflush(f) != 0)
        return CLGAN_ERR(CLGAN_ERR_IO, "JSON lines: write failed: %s", errno ? strerror(errno) : "stream error");
    return CLGAN_OK;
}

typedef struct {
    const clgan_jbuf *b;
} jbuf_fill_ctx;

static clgan_status fill_jbuf(FILE *f, void *ctx) {
    const clgan_jbuf *b = ((jbuf_fill_ctx *)ctx)->b;
    fwrite(b->data, 1, b->len, f);
    fputc('\n', f);
    return CLGAN_OK; /* clgan_atomic_write checks the stream's error flag */
}

clgan_status clgan_jbuf_write_file(const clgan_jbuf *b, const char *path) {
    clgan_status st = clgan_jbuf_finish(b);
    if (st != CLGAN_OK) return clgan_error_context(st, "%s: ", path ? path : "(null)");
    jbuf_fill_ctx ctx = {b};
    return clgan_atomic_write(path, fill_jbuf, &ctx);
}
