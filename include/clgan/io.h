/* clgan io: atomic file writes, PNG (libpng), JSON (parser, writer, JSON
 * lines) and safetensors (reader, writer).
 *
 * Every function that can fail returns a clgan_status and records a message
 * naming the file, the byte offset or field, and what was expected
 * (clgan_last_error()). Nothing here prints or exits.
 *
 * Numbers are parsed and printed with strtod/snprintf, so the process must
 * keep the default "C" LC_NUMERIC locale (clgan never calls setlocale). */
#ifndef CLGAN_IO_H
#define CLGAN_IO_H

#include <stdio.h>

#include "clgan/core.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

/* ------------------------------------------------------------------------
 * Files
 * ------------------------------------------------------------------------ */

/* Writes `path` atomically: `fill` writes the content to a new temporary file
 * in the same folder ("<path>.tmp.<pid>.<n>", created O_EXCL with mode 0666
 * less the umask); the file is flushed, fsynced and renamed over `path`, and
 * the folder is fsynced so the rename itself survives a crash.
 *
 * If `fill` fails (its status and message are returned unchanged) or any step
 * fails, the temporary file is removed and an existing `path` is untouched.
 * `fill` may return CLGAN_OK after fwrite errors: the stream's error flag is
 * checked after it returns. */
typedef clgan_status (*clgan_fill_fn)(FILE *f, void *ctx);
clgan_status clgan_atomic_write(const char *path, clgan_fill_fn fill, void *ctx);

/* Opens an existing file for reading without ever blocking: O_NONBLOCK (a
 * FIFO would otherwise wait for a writer), then fstat on the descriptor, and
 * anything but a regular file is refused naming what it is ("is a FIFO,
 * not a regular file", CLGAN_ERR_IO); then blocking reads as usual.
 * Missing file: CLGAN_ERR_NOT_FOUND. *size (may be NULL) gets its size. */
clgan_status clgan_open_regular(const char *path, FILE **out, uint64_t *size);
/* A log file for writing (appending, or emptied), refused unless it is a
 * regular file or absent (created); never blocks on a FIFO. */
clgan_status clgan_open_log(const char *path, bool append, FILE **out);
/* "a FIFO", "a folder", ... for a stat mode */
const char *clgan_file_kind(unsigned int mode);

/* Reads a whole regular file into a new buffer (caller frees with free()).
 * Refuses files larger than max_bytes (CLGAN_ERR_FORMAT). The buffer has a
 * NUL byte after the last one (not counted in *len) so text can be used as a
 * C string, and is aligned like malloc's. Missing file: CLGAN_ERR_NOT_FOUND. */
clgan_status clgan_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len);
/* Creates a folder and any missing parents (mkdir -p); an existing one is fine. */
clgan_status clgan_make_dirs(const char *path);
/* The same for the folder a file is to be written in ("a/b" for "a/b/c.png"). */
clgan_status clgan_make_parent_dirs(const char *file);

/* ------------------------------------------------------------------------
 * PNG
 * ------------------------------------------------------------------------ */

/* Largest image read or written, per side, and largest decoded image. */
#define CLGAN_PNG_MAX_SIDE 16384
#define CLGAN_PNG_MAX_DECODED ((size_t)256 << 20)
/* Largest single allocation libpng makes for a chunk it keeps (a palette,
 * a compressed image-data buffer); text, profile and unknown chunks are
 * skipped unread. */
#define CLGAN_PNG_MAX_CHUNK ((size_t)8 << 20)

/* pixels: (height, width, channels) uint8, row-major, channels interleaved;
 * channels 1 (gray) or 3 (RGB). Written atomically (clgan_atomic_write). */
clgan_status clgan_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels);

/* Reads any PNG (palette, gray, gray+alpha, RGB, RGBA; 1 to 16 bits;
 * interlaced or not) into new (height, width, want_channels) uint8 pixels
 * (caller frees with free()); want_channels is 1 (gray) or 3 (RGB).
 *
 *  - 16-bit samples are scaled to 8 bits with rounding.
 *  - Alpha (an alpha channel or a tRNS chunk) is composited onto black:
 *    c' = round(c * a / 255). A transparent pixel is black whatever colour
 *    it stores, which is the background value (-1) of the digit datasets.
 *  - RGB to gray uses Rec. 601 luma with PIL's fixed-point formula
 *    (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, so gray images match what
 *    PIL's convert("L") (and so torchvision) produces. Gray to RGB copies.
 *  - No gamma or colour-space conversion is applied.
 * Not a PNG, corrupt or truncated: CLGAN_ERR_FORMAT, naming the file and
 * quoting libpng. Wider or taller than CLGAN_PNG_MAX_SIDE, or more than
 * CLGAN_PNG_MAX_DECODED bytes once decoded: CLGAN_ERR_FORMAT. */
clgan_status clgan_png_read(const char *path, int want_channels, uint8_t **pixels, int *width, int *height);

/* The same, from a buffer; `name` is used in messages (fuzzing, tests). */
clgan_status clgan_png_read_memory(const void *data, size_t len, const char *name, int want_channels,
                                   uint8_t **pixels, int *width, int *height);

/* Size of the image clgan_png_write_grid makes: cols is clamped to [1, n],
 * rows = ceil(n / cols), width = cols * w + (cols + 1) * pad, and
 * height = rows * h + (rows + 1) * pad. */
clgan_status clgan_png_grid_size(int n, int h, int w, int cols, int pad, int *grid_width, int *grid_height);

/* images: (n, c, h, w) floats in [-1, 1], c = 1 or 3. Values are clamped
 * (NaN counts as -1) and mapped to round((v + 1) * 127.5). Cells are laid out
 * row by row, `cols` per row, with `pad` pixels of dark grey (64) between and
 * around them; unused cells of the last row are dark grey too. */
clgan_status clgan_png_write_grid(const char *path, const float *images, int n, int c, int h, int w, int cols,
                                  int pad);

/* A size x size RGB scatter plot of n points (x, y pairs) over the square
 * [lo, hi]^2, y pointing up: white background, light grey frame and axes
 * (x = 0, y = 0 when inside the square), each point a small translucent blue
 * dot (so density shows), each of the n_ref ref_points (may be NULL, e.g. the
 * true mode centres) a red ring drawn on top. Points outside the square or
 * not finite are skipped. 16 <= size <= CLGAN_PNG_MAX_SIDE. */
clgan_status clgan_png_write_scatter(const char *path, const float *points, int n, const float *ref_points,
                                     int n_ref, float lo, float hi, int size);

/* ------------------------------------------------------------------------
 * JSON (RFC 8259)
 * ------------------------------------------------------------------------ */

/* Deepest nesting of arrays/objects the parser and the writer accept, and
 * most values (of any kind) in one parsed document. */
#define CLGAN_JSON_MAX_DEPTH 128
#define CLGAN_JSON_MAX_NODES (1 << 22)

typedef enum {
    CLGAN_JSON_NULL,
    CLGAN_JSON_BOOL,
    CLGAN_JSON_NUMBER,
    CLGAN_JSON_STRING,
    CLGAN_JSON_ARRAY,
    CLGAN_JSON_OBJECT,
} clgan_json_kind;

typedef struct clgan_json clgan_json;
struct clgan_json {
    clgan_json_kind kind;
    bool boolean;       /* BOOL */
    double number;      /* NUMBER (also set when is_integer) */
    bool is_integer;    /* NUMBER written without fraction or exponent, within int64 */
    int64_t integer;    /* NUMBER, exact when is_integer */
    char *string;       /* STRING: UTF-8, NUL-terminated, may hold "\u0000" (see length) */
    size_t length;      /* STRING: bytes, not counting the terminator */
    clgan_json *items;  /* ARRAY, OBJECT: children in document order */
    size_t count;       /* ARRAY, OBJECT: number of children */
    char *key;          /* member of an OBJECT: its key (as string/length); else NULL */
    size_t key_length;
};

/* Whether s[0, len) is well-formed UTF-8 (no overlong forms, surrogates or
 * code points above U+10FFFF). */
bool clgan_utf8_valid(const char *s, size_t len);

/* Parses exactly one JSON value from text[0, len) with jansson (surrounding
 * whitespace allowed, anything else after it is an error). Strict: UTF-8 is
 * validated, \uXXXX escapes (surrogate pairs included) become UTF-8, lone
 * surrogates, control characters in strings, leading zeros, "+1", ".5",
 * trailing commas, comments, NaN/Infinity, numbers beyond double range,
 * integer literals beyond 64 bits, NUL bytes in keys, nesting deeper than
 * CLGAN_JSON_MAX_DEPTH, more than CLGAN_JSON_MAX_NODES values and duplicate
 * keys within an object are errors. An integer literal is an integer ("-0"
 * is 0); a real keeps its sign ("-0.0").
 * On error: CLGAN_ERR_FORMAT (CLGAN_ERR_NOMEM) with a message
 * "byte offset N (line L, column C): <what jansson found> near '<text>'",
 * *out = NULL. */
clgan_status clgan_json_parse(const char *text, size_t len, clgan_json **out);
/* Reads and parses a file of at most max_bytes; messages start with the path. */
clgan_status clgan_json_parse_file(const char *path, size_t max_bytes, clgan_json **out);
void clgan_json_free(clgan_json *root);

const char *clgan_json_kind_name(clgan_json_kind kind); /* "object", "number", ... */
/* The member `key` of an object; NULL if obj is NULL, not an object, or has
 * no such member. Keys containing NUL bytes never match. */
const clgan_json *clgan_json_get(const clgan_json *obj, const char *key);
/* Element i of an array or member i of an object; NULL when out of range. */
const clgan_json *clgan_json_at(const clgan_json *node, size_t i);
size_t clgan_json_count(const clgan_json *node); /* 0 for scalars */

/* Typed members. A missing member is CLGAN_ERR_NOT_FOUND, a member of
 * another kind CLGAN_ERR_FORMAT; both messages name the key. get_int accepts
 * only integer literals; get_string refuses strings holding NUL bytes and
 * returns a pointer into the tree. */
clgan_status clgan_json_get_number(const clgan_json *obj, const char *key, double *out);
clgan_status clgan_json_get_int(const clgan_json *obj, const char *key, int64_t *out);
clgan_status clgan_json_get_bool(const clgan_json *obj, const char *key, bool *out);
clgan_status clgan_json_get_string(const clgan_json *obj, const char *key, const char **out);

/* A growable JSON text builder. Zero-initialised (or clgan_jbuf_init) it is
 * empty. Calls insert commas and colons, escape strings and check nesting
 * (a key outside an object, a value without a key, a mismatched end...).
 * The first failure (misuse: CLGAN_ERR_INVALID_ARG, allocation:
 * CLGAN_ERR_NOMEM) sticks: later calls do nothing and clgan_jbuf_status,
 * clgan_jbuf_finish, clgan_jsonl_append and clgan_jbuf_write_file return it.
 *
 * Numbers are printed in the shortest form that reads back to the same
 * value (at most %.17g for double, %.9g for float; -0 as "-0.0"). JSON has no NaN or
 * Infinity: they are written as null, so logs stay readable by any JSON
 * reader (a null loss means the loss was not finite). Strings are UTF-8;
 * invalid UTF-8 bytes are replaced by U+FFFD so the output is always valid. */
typedef struct {
    char *data;  /* NUL-terminated text; NULL until something is written */
    size_t len;
    size_t cap;
    int depth;
    bool key_pending; /* inside an object, a key was written, its value not yet */
    bool done;        /* one complete top-level value has been written */
    bool in_object[CLGAN_JSON_MAX_DEPTH];
    bool has_items[CLGAN_JSON_MAX_DEPTH];
    clgan_status status;
    char err[160];
} clgan_jbuf;

void clgan_jbuf_init(clgan_jbuf *b);
void clgan_jbuf_free(clgan_jbuf *b);
/* Empties the builder (and clears a sticky error), keeping its memory. */
void clgan_jbuf_reset(clgan_jbuf *b);
void clgan_jbuf_begin_object(clgan_jbuf *b);
void clgan_jbuf_end_object(clgan_jbuf *b);
void clgan_jbuf_begin_array(clgan_jbuf *b);
void clgan_jbuf_end_array(clgan_jbuf *b);
void clgan_jbuf_key(clgan_jbuf *b, const char *key);
void clgan_jbuf_keyn(clgan_jbuf *b, const char *key, size_t len);
void clgan_jbuf_str(clgan_jbuf *b, const char *s); /* NULL writes null */
void clgan_jbuf_strn(clgan_jbuf *b, const char *s, size_t len);
void clgan_jbuf_num(clgan_jbuf *b, double v);
void clgan_jbuf_f32(clgan_jbuf *b, float v);
void clgan_jbuf_int(clgan_jbuf *b, int64_t v);
void clgan_jbuf_uint(clgan_jbuf *b, uint64_t v);
void clgan_jbuf_bool(clgan_jbuf *b, bool v);
void clgan_jbuf_null(clgan_jbuf *b);
/* Writes a parsed tree (integers exactly, other numbers as doubles). */
void clgan_jbuf_value(clgan_jbuf *b, const clgan_json *v);
/* The text so far ("" when empty). */
const char *clgan_jbuf_cstr(const clgan_jbuf *b);
/* The sticky status, re-recording its message. */
clgan_status clgan_jbuf_status(const clgan_jbuf *b);
/* OK when exactly one complete value has been written without error. */
clgan_status clgan_jbuf_finish(const clgan_jbuf *b);
/* Appends the (finished) value as one line to f and flushes: JSON lines. */
clgan_status clgan_jsonl_append(FILE *f, const clgan_jbuf *b);
/* Writes the (finished) value and a newline to path atomically. */
clgan_status clgan_jbuf_write_file(const clgan_jbuf *b, const char *path);

/* ------------------------------------------------------------------------
 * safetensors
 * ------------------------------------------------------------------------ */

typedef enum {
    CLGAN_DT_F32,
    CLGAN_DT_F64,
    CLGAN_DT_F16,
    CLGAN_DT_BF16,
    CLGAN_DT_I64,
    CLGAN_DT_I32,
    CLGAN_DT_I16,
    CLGAN_DT_I8,
    CLGAN_DT_U64,
    CLGAN_DT_U32,
    CLGAN_DT_U16,
    CLGAN_DT_U8,
    CLGAN_DT_BOOL,
    CLGAN_DT_COUNT
} clgan_dtype;

size_t clgan_dtype_size(clgan_dtype dt);      /* bytes per element; 0 if invalid */
const char *clgan_dtype_name(clgan_dtype dt); /* "F32", ...; "?" if invalid */
/* "F32" -> CLGAN_DT_F32; CLGAN_ERR_NOT_FOUND if unknown (message lists them). */
clgan_status clgan_dtype_parse(const char *name, clgan_dtype *out);

/* Largest header the reader accepts, as the reference implementation. */
#define CLGAN_ST_MAX_HEADER 100000000u
#define CLGAN_ST_MAX_NDIM 8

typedef struct {
    const char *name;
    clgan_dtype dtype;
    int ndim;
    int64_t shape[CLGAN_ST_MAX_NDIM];
    size_t nbytes;
    const void *data; /* little-endian, aligned to at least 8 bytes; NULL when nbytes == 0 */
} clgan_st_tensor;

typedef struct clgan_st_file clgan_st_file;

/* Reads and validates a whole safetensors file into memory: header length
 * <= CLGAN_ST_MAX_HEADER and inside the file; the header a JSON object whose
 * members are tensors {"dtype", "shape", "data_offsets"} (nothing else) plus
 * an optional "__metadata__" object of strings; known dtypes; shapes of at
 * most CLGAN_ST_MAX_NDIM non-negative integers; begin <= end and
 * prod(shape) * dtype size == end - begin (overflow checked); tensors sorted
 * by offset tile the data buffer exactly (no gap, no overlap, last end ==
 * buffer size); unique names without NUL bytes. Any violation is
 * CLGAN_ERR_FORMAT naming the file and the tensor or field. */
clgan_status clgan_st_read(const char *path, clgan_st_file **out);
/* The same from a buffer (copied); `name` stands for the path in messages. */
clgan_status clgan_st_read_memory(const void *data, size_t len, const char *name, clgan_st_file **out);
void clgan_st_close(clgan_st_file *f);

/* Tensors in data-offset order. */
int clgan_st_count(const clgan_st_file *f);
const clgan_st_tensor *clgan_st_at(const clgan_st_file *f, int i);
const clgan_st_tensor *clgan_st_find(const clgan_st_file *f, const char *name); /* NULL if absent */
const char *clgan_st_meta(const clgan_st_file *f, const char *key);             /* NULL if absent */
int clgan_st_meta_count(const clgan_st_file *f);
/* Metadata entry i in header order; returns false when out of range. */
bool clgan_st_meta_at(const clgan_st_file *f, int i, const char **key, const char **value);
const char *clgan_st_path(const clgan_st_file *f);

/* Checked lookup for loaders: the tensor must exist (CLGAN_ERR_NOT_FOUND)
 * and have this dtype and, unless ndim < 0, this shape (CLGAN_ERR_FORMAT);
 * messages name the file and tensor and show expected vs found. *data is
 * the tensor's data (NULL for an empty tensor). */
clgan_status clgan_st_get(const clgan_st_file *f, const char *name, clgan_dtype dtype, int ndim,
                          const int64_t *shape, const void **data);

typedef struct clgan_st_writer clgan_st_writer;
clgan_st_writer *clgan_st_writer_new(void); /* NULL when out of memory */
/* Copies `data` (prod(shape) * dtype size bytes, little-endian; may be NULL
 * when that is 0). Names must be non-empty UTF-8, unique and not
 * "__metadata__"; ndim is 0 to CLGAN_ST_MAX_NDIM. Misuse is
 * CLGAN_ERR_INVALID_ARG and leaves the writer unchanged. Metadata keys must
 * be unique; keys and values must be UTF-8. */
clgan_status clgan_st_add(clgan_st_writer *w, const char *name, clgan_dtype dtype, int ndim, const int64_t *shape,
                          const void *data);
clgan_status clgan_st_add_meta(clgan_st_writer *w, const char *key, const char *value);
/* Writes atomically (clgan_atomic_write): an existing `path` is replaced only
 * by a complete, fsynced file. Tensors are stored by decreasing dtype size,
 * then name, after a header padded with spaces to a multiple of 8 bytes, so
 * every tensor is aligned to its element size in the file. */
clgan_status clgan_st_write(const clgan_st_writer *w, const char *path);
void clgan_st_writer_free(clgan_st_writer *w);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
