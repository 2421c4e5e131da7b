/* Status names, the per-thread error message and the logging hook. */
#include "clgan/core.h"

#include <stdarg.h>
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

enum { MSG_CAP = 4096 };
static _Thread_local char err_msg[MSG_CAP];
static _Thread_local char err_where[256];

clgan_status clgan_set_error(clgan_status s, const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof err_msg, fmt, ap);
    va_end(ap);
    snprintf(err_where, sizeof err_where, "%s:%d", file, line);
    return s;
}

clgan_status clgan_error_context(clgan_status s, const char *fmt, ...) {
    char prefix[1024];
    char old[MSG_CAP];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
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
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_hook) {
        log_hook(level, msg, log_user);
        return;
    }
    fprintf(stderr, "clgan: %s%s\n", level == CLGAN_LOG_WARN ? "warning: " : "", msg);
}

const char *clgan_version(void) { return CLGAN_VERSION; }
