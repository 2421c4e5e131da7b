/* clgan core: status codes, error messages, logging, hashing, Philox RNG.
 *
 * Every library function that can fail returns a clgan_status. On failure it
 * also records a message (what failed, which file/offset/field, what was
 * expected) retrievable with clgan_last_error(). Library code never calls
 * exit() and never prints errors itself; the command-line program does. */
#ifndef CLGAN_CORE_H
#define CLGAN_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* The library's API is what include/clgan/ declares. libclgan.so is built
 * with symbols hidden by default, and each header here wraps its
 * declarations in CLGAN_API_BEGIN ... CLGAN_API_END (default visibility),
 * the way ggml marks its API with GGML_API; tests/test_exports.py checks
 * that nm -D of the library lists exactly these. */
#if defined(__GNUC__) || defined(__clang__)
#define CLGAN_API_BEGIN _Pragma("GCC visibility push(default)")
#define CLGAN_API_END _Pragma("GCC visibility pop")
#else
#define CLGAN_API_BEGIN
#define CLGAN_API_END
#endif

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef enum {
    CLGAN_OK = 0,
    CLGAN_ERR_INVALID_ARG,   /* caller passed something meaningless */
    CLGAN_ERR_IO,            /* open/read/write/rename failed (errno in message) */
    CLGAN_ERR_FORMAT,        /* file content is corrupt, truncated or hostile */
    CLGAN_ERR_NOMEM,         /* host allocation failed */
    CLGAN_ERR_DEVICE,        /* an OpenCL or CLBlast call failed */
    CLGAN_ERR_DEVICE_OOM,    /* a device allocation failed */
    CLGAN_ERR_BUILD,         /* a kernel program failed to build */
    CLGAN_ERR_NOT_FOUND,     /* no such device, file, tensor, kernel */
    CLGAN_ERR_AMBIGUOUS,     /* a device choice matched several devices */
    CLGAN_ERR_UNSUPPORTED,   /* the device cannot do what was asked */
    CLGAN_ERR_NUMERIC,       /* NaN or Inf where a finite number was needed */
    CLGAN_STATUS_COUNT
} clgan_status;

/* "CLGAN_ERR_FORMAT" etc. */
const char *clgan_status_name(clgan_status s);

/* Records a formatted message for the current thread and returns `s`, so that
 * `return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: offset %zu: ...", path, off);` works.
 * The file:line of the caller is kept for debugging (clgan_last_error_where). */
clgan_status clgan_set_error(clgan_status s, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CLGAN_ERR(status, ...) clgan_set_error((status), __FILE__, __LINE__, __VA_ARGS__)

/* Prepends context ("loading checkpoint x: ") to the current message. */
clgan_status clgan_error_context(clgan_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Untrusted text (a name read from a file) for a message: printable ASCII and
 * well-formed printable UTF-8 are kept, every other byte becomes \xNN, and
 * the result is cut with "..." to fit cap. At most n bytes of s are read
 * (stopping at a NUL). Returns buf. Every recorded error and log message is
 * passed through the same filter (keeping newlines), so nothing from a file
 * reaches a terminal raw. */
const char *clgan_escape(const char *s, size_t n, char *buf, size_t cap);
/* The same into one of 8 per-thread buffers of 160 bytes, for format
 * arguments: CLGAN_ERR(..., "tensor \"%s\"", clgan_esc(name)). */
const char *clgan_esc(const char *s);

const char *clgan_last_error(void);        /* "" when none */
const char *clgan_last_error_where(void);  /* "src/io/png.c:42" */
void clgan_clear_error(void);

/* Logging. The library reports progress and choices through this hook; the
 * default writes "clgan: msg" to stderr for levels >= the threshold. */
typedef enum { CLGAN_LOG_DEBUG = 0, CLGAN_LOG_INFO, CLGAN_LOG_WARN, CLGAN_LOG_QUIET } clgan_log_level;
typedef void (*clgan_log_fn)(clgan_log_level level, const char *msg, void *user);
void clgan_log_set_level(clgan_log_level threshold);
void clgan_log_set_hook(clgan_log_fn fn, void *user);
void clgan_log(clgan_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

const char *clgan_version(void);

/* Philox-4x32-10 ("Parallel Random Numbers: As Easy as 1, 2, 3", SC'11). Counter-based: the output for a given
 * (key, counter) is the same on the host and in cl/rng.cl, so a seed gives
 * the same stream on every device. */
void clgan_philox4x32(const uint32_t key[2], const uint32_t ctr[4], uint32_t out[4]);
/* uint32 -> float in (0, 1]: ((x >> 8) + 1) * 2^-24, exact in float, so the
 * host and every device produce the same bits (cl/rng.cl does the same) */
float clgan_u32_to_unit(uint32_t x);
/* Fills n uniform (0,1] / standard normal floats. Element i comes from word
 * i%4 of Philox(key = seed, counter = (i/4 as 64 bits, offset as 64 bits)).
 * Normals use Box-Muller on word pairs (0,1) and (2,3) of the same block.
 * cl/rng.cl computes the same words, so uniforms are bit-identical across
 * devices and normals agree to the accuracy of the device's log/sqrt/cos. */
void clgan_rng_uniform(uint64_t seed, uint64_t offset, float *out, size_t n);
void clgan_rng_normal(uint64_t seed, uint64_t offset, float *out, size_t n);
/* Elements first .. first + n - 1 of the same streams (a part of a longer draw) */
void clgan_rng_uniform_at(uint64_t seed, uint64_t offset, uint64_t first, float *out, size_t n);
void clgan_rng_normal_at(uint64_t seed, uint64_t offset, uint64_t first, float *out, size_t n);

/* A small deterministic generator for host-side decisions (shuffles,
 * initialisation order): Philox driven by a running counter. */
typedef struct {
    uint64_t seed;
    uint64_t counter;
} clgan_rng;
void clgan_rng_init(clgan_rng *r, uint64_t seed);
uint32_t clgan_rng_u32(clgan_rng *r);
/* uniform integer in [0, n), unbiased */
uint32_t clgan_rng_below(clgan_rng *r, uint32_t n);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
