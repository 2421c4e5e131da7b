/* JSON (RFC 8259): a strict recursive-descent parser into a tree, and a
 * builder that writes JSON text (configs, JSON-lines logs, safetensors
 * headers).
 *
 * The parser reads untrusted input (safetensors headers come from the
 * outside world), so it is bounded: it never reads past `len`, recursion is
 * limited to CLGAN_JSON_MAX_DEPTH, the number of values to
 * CLGAN_JSON_MAX_NODES (a node is ~100 bytes, so "[0,0,0,...]" would
 * otherwise cost 50 times its size), and duplicate keys are found by sorting
 * (n log n), never by comparing all pairs. */
#include "clgan/io.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Parser
 * ------------------------------------------------------------------------ */

typedef struct {
    const char *s;
    size_t len;
    size_t pos;
    int depth;
    size_t nodes;
} parser;

/* "'x'", "end of input" or "byte 0xNN", for "found ..." in messages. */
static void describe_at(const parser *p, size_t off, char *out, size_t cap) {
    if (off >= p->len) {
        snprintf(out, cap, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->s[off];
    if (c >= 0x20 && c < 0x7f)
        snprintf(out, cap, "'%c'", c);
    else
        snprintf(out, cap, "byte 0x%02x", c);
}

/* Records "byte offset N (line L, column C): <msg>". Lines and columns are
 * counted only here, on the error path. */
static clgan_status perr(const parser *p, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static clgan_status perr(const parser *p, size_t off, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t line = 1, col = 1;
    for (size_t i = 0; i < off && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return CLGAN_ERR(CLGAN_ERR_FORMAT, "byte offset %zu (line %zu, column %zu): %s", off, line, col, msg);
}

/* "expected X, found Y" at the current position. */
static clgan_status expected(const parser *p, const char *what) {
    char found[32];
    describe_at(p, p->pos, found, sizeof found);
    return perr(p, p->pos, "expected %s, found %s", what, found);
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

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

static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Four hex digits at p->pos (after "\u"). */
static clgan_status parse_hex4(parser *p, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        if (p->pos >= p->len) return expected(p, "4 hex digits after \\u");
        char c = p->s[p->pos];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return expected(p, "4 hex digits after \\u");
        v = v * 16 + d;
        p->pos++;
    }
    *out = v;
    return CLGAN_OK;
}

/* A string starting at the opening quote; the result is NUL-terminated.
 * Decoded text is never longer than its source (an escape of k bytes
 * yields at most k bytes of UTF-8), so one allocation of the source length
 * suffices. */
static clgan_status parse_string(parser *p, char **out, size_t *out_len) {
    size_t start = p->pos;
    p->pos++; /* opening quote */
    size_t end = p->pos;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) return perr(p, start, "unterminated string (expected a closing '\"')");

    char *buf = malloc(end - p->pos + 1);
    if (!buf) return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory for a string of %zu bytes", end - p->pos);
    size_t n = 0;
    clgan_status st = CLGAN_OK;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c < 0x20) {
            st = perr(p, p->pos, "control character 0x%02x in string (expected it escaped)", c);
            goto fail;
        }
        if (c != '\\') {
            size_t k = utf8_seq_len((const unsigned char *)p->s + p->pos, end - p->pos);
            if (k == 0) {
                st = perr(p, p->pos, "invalid UTF-8 byte 0x%02x in string", c);
                goto fail;
            }
            memcpy(buf + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
            continue;
        }
        size_t esc = p->pos;
        p->pos++;
        char e = p->s[p->pos++];
        switch (e) {
        case '"': buf[n++] = '"'; break;
        case '\\': buf[n++] = '\\'; break;
        case '/': buf[n++] = '/'; break;
        case 'b': buf[n++] = '\b'; break;
        case 'f': buf[n++] = '\f'; break;
        case 'n': buf[n++] = '\n'; break;
        case 'r': buf[n++] = '\r'; break;
        case 't': buf[n++] = '\t'; break;
        case 'u': {
            uint32_t cp = 0;
            if ((st = parse_hex4(p, &cp)) != CLGAN_OK) goto fail;
            if (cp >= 0xdc00 && cp <= 0xdfff) {
                st = perr(p, esc, "lone low surrogate \\u%04X (expected a high surrogate first)", (unsigned)cp);
                goto fail;
            }
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (p->pos + 1 >= end || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
                    st = perr(p, esc, "high surrogate \\u%04X not followed by a \\u low surrogate", (unsigned)cp);
                    goto fail;
                }
                p->pos += 2;
                uint32_t lo = 0;
                if ((st = parse_hex4(p, &lo)) != CLGAN_OK) goto fail;
                if (lo < 0xdc00 || lo > 0xdfff) {
                    st = perr(p, p->pos - 6, "expected a low surrogate (\\uDC00-\\uDFFF) after \\u%04X, found \\u%04X",
                              (unsigned)cp, (unsigned)lo);
                    goto fail;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            n += utf8_encode(cp, buf + n);
            break;
        }
        default:
            p->pos = esc + 1;
            st = expected(p, "an escape (one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
            goto fail;
        }
    }
    p->pos = end + 1; /* closing quote */
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return CLGAN_OK;

fail:
    free(buf);
    return st;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static clgan_status parse_number(parser *p, clgan_json *node) {
    size_t start = p->pos;
    bool neg = false;
    if (p->s[p->pos] == '-') {
        neg = true;
        p->pos++;
    }
    if (p->pos >= p->len || !is_digit(p->s[p->pos])) return expected(p, "a digit");
    /* int64 accumulated negatively so INT64_MIN fits */
    bool fits = true;
    int64_t acc = 0;
    if (p->s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && is_digit(p->s[p->pos]))
            return perr(p, start, "leading zero in number (expected '.', 'e' or the end of the number after 0)");
    } else {
        while (p->pos < p->len && is_digit(p->s[p->pos])) {
            int d = p->s[p->pos++] - '0';
            if (acc < (INT64_MIN + d) / 10) fits = false;
            if (fits) acc = acc * 10 - d;
        }
    }
    bool integral = true;
    if (p->pos < p->len && p->s[p->pos] == '.') {
        integral = false;
        p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos])) return expected(p, "a digit after the decimal point");
        while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || !is_digit(p->s[p->pos])) return expected(p, "a digit in the exponent");
        while (p->pos < p->len && is_digit(p->s[p->pos])) p->pos++;
    }

    /* strtod needs a terminated copy; the text is not NUL-terminated. */
    size_t n = p->pos - start;
    char small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory for a number of %zu bytes", n);
    memcpy(buf, p->s + start, n);
    buf[n] = 0;
    errno = 0;
    double v = strtod(buf, NULL);
    int e = errno;
    if (buf != small) free(buf);
    if (e == ERANGE && isinf(v)) return perr(p, start, "number out of range (expected a finite double)");

    node->kind = CLGAN_JSON_NUMBER;
    node->number = v;
    if (integral && (neg || acc != INT64_MIN) && fits) {
        node->is_integer = true;
        node->integer = neg ? acc : -acc;
    }
    return CLGAN_OK;
}

static clgan_status parse_value(parser *p, clgan_json *node);

/* Appends a zeroed child to a growing items vector. */
static clgan_status push_child(parser *p, clgan_json *parent, size_t *cap, clgan_json **child) {
    if (++p->nodes > CLGAN_JSON_MAX_NODES)
        return perr(p, p->pos, "more than %d values (expected at most %d)", CLGAN_JSON_MAX_NODES, CLGAN_JSON_MAX_NODES);
    if (parent->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        clgan_json *items = nc > SIZE_MAX / sizeof *items ? NULL : realloc(parent->items, nc * sizeof *items);
        if (!items)
            return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory for %s of %zu members",
                             parent->kind == CLGAN_JSON_OBJECT ? "an object" : "an array", parent->count);
        parent->items = items;
        *cap = nc;
    }
    *child = &parent->items[parent->count++];
    memset(*child, 0, sizeof **child);
    return CLGAN_OK;
}

static clgan_status parse_array(parser *p, clgan_json *node) {
    node->kind = CLGAN_JSON_ARRAY;
    p->pos++; /* '[' */
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        p->pos++;
        return CLGAN_OK;
    }
    for (;;) {
        clgan_json *c;
        clgan_status st = push_child(p, node, &cap, &c);
        if (st != CLGAN_OK) return st;
        st = parse_value(p, c);
        if (st != CLGAN_OK) return st;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == ']') {
            p->pos++;
            return CLGAN_OK;
        }
        return expected(p, "',' or ']' after an array element");
    }
}

static int cmp_member(const void *a, const void *b) {
    const clgan_json *x = *(const clgan_json *const *)a, *y = *(const clgan_json *const *)b;
    size_t n = x->key_length < y->key_length ? x->key_length : y->key_length;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->key_length != y->key_length) return x->key_length < y->key_length ? -1 : 1;
    return x->key_offset < y->key_offset ? -1 : x->key_offset > y->key_offset;
}

/* Reports the earliest repeated key. Sorted by (key, offset), the second
 * member of each run of equal keys is its first repetition. */
static clgan_status check_duplicates(const parser *p, const clgan_json *obj) {
    if (obj->count < 2) return CLGAN_OK;
    const clgan_json **v = malloc(obj->count * sizeof *v);
    if (!v) return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory checking an object of %zu members", obj->count);
    for (size_t i = 0; i < obj->count; i++) v[i] = &obj->items[i];
    qsort(v, obj->count, sizeof *v, cmp_member);
    const clgan_json *dup = NULL, *first = NULL;
    for (size_t i = 1; i < obj->count; i++) {
        if (v[i]->key_length == v[i - 1]->key_length && memcmp(v[i]->key, v[i - 1]->key, v[i]->key_length) == 0 &&
            (!dup || v[i]->key_offset < dup->key_offset)) {
            dup = v[i];
            first = v[i - 1];
        }
    }
    clgan_status st = CLGAN_OK;
    if (dup)
        st = perr(p, dup->key_offset, "duplicate key \"%.*s\" in object (first at byte offset %zu; expected unique keys)",
                  (int)(dup->key_length > 200 ? 200 : dup->key_length), dup->key, first->key_offset);
    free(v);
    return st;
}

static clgan_status parse_object(parser *p, clgan_json *node) {
    node->kind = CLGAN_JSON_OBJECT;
    p->pos++; /* '{' */
    size_t cap = 0;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        p->pos++;
        return CLGAN_OK;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"')
            return expected(p, node->count ? "a string key after ','" : "a string key or '}'");
        clgan_json *c;
        clgan_status st = push_child(p, node, &cap, &c);
        if (st != CLGAN_OK) return st;
        c->key_offset = p->pos;
        st = parse_string(p, &c->key, &c->key_length);
        if (st != CLGAN_OK) return st;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') return expected(p, "':' after an object key");
        p->pos++;
        if ((st = parse_value(p, c)) != CLGAN_OK) return st;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == '}') {
            p->pos++;
            return check_duplicates(p, node);
        }
        return expected(p, "',' or '}' after an object member");
    }
}

static clgan_status parse_literal(parser *p, const char *word, clgan_json *node) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
        char what[32];
        snprintf(what, sizeof what, "'%s'", word);
        /* point at the first differing byte */
        size_t i = 0;
        while (p->pos + i < p->len && i < n && p->s[p->pos + i] == word[i]) i++;
        p->pos += i;
        return expected(p, what);
    }
    p->pos += n;
    if (word[0] == 'n') {
        node->kind = CLGAN_JSON_NULL;
    } else {
        node->kind = CLGAN_JSON_BOOL;
        node->boolean = word[0] == 't';
    }
    return CLGAN_OK;
}

static clgan_status parse_value(parser *p, clgan_json *node) {
    skip_ws(p);
    node->offset = p->pos;
    if (p->pos >= p->len) return expected(p, "a value");
    char c = p->s[p->pos];
    clgan_status st;
    switch (c) {
    case '{':
    case '[':
        if (p->depth >= CLGAN_JSON_MAX_DEPTH)
            return perr(p, p->pos, "nesting deeper than %d levels (expected at most %d)", CLGAN_JSON_MAX_DEPTH,
                        CLGAN_JSON_MAX_DEPTH);
        p->depth++;
        st = c == '{' ? parse_object(p, node) : parse_array(p, node);
        p->depth--;
        return st;
    case '"':
        node->kind = CLGAN_JSON_STRING;
        return parse_string(p, &node->string, &node->length);
    case 't': return parse_literal(p, "true", node);
    case 'f': return parse_literal(p, "false", node);
    case 'n': return parse_literal(p, "null", node);
    default:
        if (c == '-' || is_digit(c)) return parse_number(p, node);
        return expected(p, "a value (object, array, string, number, true, false or null)");
    }
}

clgan_status clgan_json_parse(const char *text, size_t len, clgan_json **out) {
    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON parse: NULL output");
    *out = NULL;
    if (!text && len) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "JSON parse: NULL text of length %zu", len);
    parser p = {.s = text ? text : "", .len = len, .pos = 0, .depth = 0, .nodes = 1};
    clgan_json *root = calloc(1, sizeof *root);
    if (!root) return CLGAN_ERR(CLGAN_ERR_NOMEM, "JSON: out of memory");
    clgan_status st = parse_value(&p, root);
    if (st == CLGAN_OK) {
        skip_ws(&p);
        if (p.pos < p.len) st = expected(&p, "the end of input after the value");
    }
    if (st != CLGAN_OK) {
        clgan_json_free(root);
        return st;
    }
    *out = root;
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
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\" at byte offset %zu: expected a %s, found %s", key,
                         (*m)->offset, clgan_json_kind_name(kind), clgan_json_kind_name((*m)->kind));
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
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\" at byte offset %zu: expected an integer (no fraction or "
                         "exponent, within 64 bits), found %.17g", key, m->offset, m->number);
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
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "field \"%s\" at byte offset %zu: expected a string without NUL (\\u0000)",
                         key, m->offset);
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
