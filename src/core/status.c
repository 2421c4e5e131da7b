/* Status names, the per-thread error message and the logging hook. */
#include "clgan/core.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
    [CLGAN_OK] = "CLGAN_OK",
    [CLGAN_ERR_INVALID_ARG] = "CLGAN_ERR_INVALID_ARG",
    [CLGAN_ERR_IO] = "CLGAN_ERR_IO",
    [CLGAN_ERR_FORMAT] = "CLGAN_ERR_FORMAT",
    [CLGAN_ERR_NOMEM] = "CLGAN_ERR_NOMEM",
    [CLGAN_ERR_DEVICE] = "CLGAN_ERR_DEVICE",
    [CLGAN_ERR_DEVICE_OOM] = "CLGAN_ERR_DEVICE_OOM",
    [CLGAN_ERR_BUILD] = "CLGAN_ERR_BUILD",
    [CLGAN_ERR_NOT_FOUND] = "CLGAN_ERR_NOT_FOUND",
    [CLGAN_ERR_AMBIGUOUS] = "CLGAN_ERR_AMBIGUOUS",
    [CLGAN_ERR_UNSUPPORTED] = "CLGAN_ERR_UNSUPPORTED",
    [CLGAN_ERR_NUMERIC] = "CLGAN_ERR_NUMERIC",
};
_Static_assert(sizeof(status_names) / sizeof(status_names[0]) == CLGAN_STATUS_COUNT,
               "every clgan_status needs a name");

const char *clgan_status_name(clgan_status s) {
    if ((int)s < 0 || s >= CLGAN_STATUS_COUNT) return "CLGAN_ERR_UNKNOWN";
    return status_names[s];
}

/* ---- escaping untrusted text ----
 * A byte is kept when it is printable ASCII, or part of a well-formed UTF-8
 * sequence for a printable code point (not a C1 control U+0080-U+009F, which
 * some terminals read as escape sequences, and not a surrogate or overlong
 * form); everything else becomes \xNN. keep_newlines keeps '\n' and '\t'
 * (build logs are multi-line). Output is cut, with "...", to fit cap. */
static size_t utf8_len(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) return 0;
    return len;
}

/* one step of escaping at s[0]: the bytes it consumes, the bytes it writes
 * (into out, when not NULL) */
static size_t escape_step(const unsigned char *s, size_t n, bool keep_newlines, char *out, size_t *written) {
    unsigned c = s[0];
    size_t len = 1;
    bool plain = (c >= 0x20 && c < 0x7f) || (keep_newlines && (c == '\n' || c == '\t'));
    if (!plain && c >= 0x80) {
        len = utf8_len(s, n);
        plain = len > 0;
        if (!plain) len = 1;
    }
    if (plain) {
        if (out) memcpy(out, s, len);
        *written = len;
    } else {
        static const char hex[] = "0123456789abcdef";
        if (out) {
            out[0] = '\\';
            out[1] = 'x';
            out[2] = hex[c >> 4];
            out[3] = hex[c & 15];
        }
        *written = 4;
    }
    return len;
}

static size_t escape_into(const char *src, size_t n, char *buf, size_t cap, bool keep_newlines) {
    const unsigned char *s = (const unsigned char *)src;
    if (cap == 0) return 0;
    size_t full = 0, w = 0;
    for (size_t i = 0; i < n && s[i];) {
        i += escape_step(s + i, n - i, keep_newlines, NULL, &w);
        full += w;
    }
    /* all of it when it fits, else as much as leaves room for "..." */
    size_t room = full < cap ? cap - 1 : (cap >= 4 ? cap - 4 : 0);
    size_t o = 0;
    for (size_t i = 0; i < n && s[i];) {
        size_t used = escape_step(s + i, n - i, keep_newlines, NULL, &w);
        if (o + w > room) break;
        escape_step(s + i, n - i, keep_newlines, buf + o, &w);
        o += w;
        i += used;
    }
    if (full >= cap && cap >= 4) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = 0;
    return o;
}

const char *clgan_escape(const char *s, size_t n, char *buf, size_t cap) {
    if (!s) s = "(null)";
    escape_into(s, n, buf, cap, false);
    return buf;
}

const char *clgan_esc(const char *s) {
    enum { SLOTS = 8, SLOT_CAP = 160 };
    static _Thread_local char slots[SLOTS][SLOT_CAP];
    static _Thread_local unsigned next;
    char *buf = slots[next++ % SLOTS];
    return clgan_escape(s, (size_t)-1, buf, SLOT_CAP);
}

enum { MSG_CAP = 4096 };
static _Thread_local char err_msg[MSG_CAP];
static _Thread_local char err_where[256];

clgan_status clgan_set_error(clgan_status s, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char raw[MSG_CAP];
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* whatever a message quotes (a path, a tensor name, a build log) reaches a terminal only as printable text */
    escape_into(raw, sizeof raw, err_msg, sizeof err_msg, true);
    snprintf(err_where, sizeof err_where, "%s:%d", file, line);
    return s;
}

clgan_status clgan_error_context(clgan_status s, const char *fmt, ...) {
    char prefix[1024];
    char old[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    char raw[1024];
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_into(raw, sizeof raw, prefix, sizeof prefix, true);
    memcpy(old, err_msg, sizeof old);
    /* prefix + old, cut to fit */
    size_t np = strnlen(prefix, MSG_CAP - 1);
    size_t no = strnlen(old, MSG_CAP - 1 - np);
    memcpy(err_msg, prefix, np);
    memcpy(err_msg + np, old, no);
    err_msg[np + no] = 0;
    return s;
}

const char *clgan_last_error(void) { return err_msg; }
const char *clgan_last_error_where(void) { return err_where; }
void clgan_clear_error(void) {
    err_msg[0] = 0;
    err_where[0] = 0;
}

static clgan_log_level log_threshold = CLGAN_LOG_INFO;
static clgan_log_fn log_hook;
static void *log_user;

void clgan_log_set_level(clgan_log_level threshold) { log_threshold = threshold; }
void clgan_log_set_hook(clgan_log_fn fn, void *user) {
    log_hook = fn;
    log_user = user;
}

void clgan_log(clgan_log_level level, const char *fmt, ...) {
    if (level < log_threshold) return;
    char raw[2048], msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    escape_into(raw, sizeof raw, msg, sizeof msg, true);
    if (log_hook) {
        log_hook(level, msg, log_user);
        return;
    }
    fprintf(stderr, "clgan: %s%s\n", level == CLGAN_LOG_WARN ? "warning: " : "", msg);
}

const char *clgan_version(void) { return CLGAN_VERSION; }
