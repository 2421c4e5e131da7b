/* Shared by the loaders in src/data/: a reader that hides gzip, size
 * arithmetic that cannot overflow, pixel conversion and resampling. */
#ifndef CLGAN_DATA_INTERNAL_H
#define CLGAN_DATA_INTERNAL_H

#include "clgan/data.h"

#include <stdio.h>
#include <zlib.h>

/* A file read front to back, raw or gzip (recognised by the magic 1f 8b).
 * Offsets in messages are offsets into the decompressed data, which is what
 * a format's header fields refer to. */
typedef struct {
    const char *path; /* borrowed; used in messages */
    FILE *fp;         /* raw file, or NULL */
    gzFile gz;        /* gzip file, or NULL */
    long long size;   /* bytes of a raw file; -1 for gzip (known only once read) */
    uint64_t off;     /* bytes of (decompressed) data consumed */
    uint64_t max_off; /* gzip: the most the stream may decompress to (see DATA_GZIP_MAX_RATIO) */
} data_file;

/* A gzip stream may decompress to at most this many times its file's size
 * (plus DATA_GZIP_SLACK): image data compresses 1-10x (CIFAR-10 about 1.1,
 * MNIST 4.8), while deflate reaches 1032x on constant data, so a small file
 * cannot make a loader read and hold gigabytes. A raw file is bounded by its
 * own size. */
#define DATA_GZIP_MAX_RATIO 64
#define DATA_GZIP_SLACK ((uint64_t)1 << 20)

/* A missing file is CLGAN_ERR_NOT_FOUND, anything else that stops it being
 * opened CLGAN_ERR_IO. */
clgan_status data_file_open(data_file *f, const char *path);
/* Reads up to n bytes; *got < n only where the data ends. A corrupt or
 * truncated gzip stream is CLGAN_ERR_FORMAT naming the decompressed offset. */
clgan_status data_file_read(data_file *f, void *buf, size_t n, size_t *got);
/* As data_file_read into a buffer that grows only as bytes arrive, so a size
 * claimed by a hostile header allocates nothing until the data backs it.
 * *buf is malloc'd (caller frees) even when *got is 0. */
clgan_status data_file_read_alloc(data_file *f, size_t n, uint8_t **buf, size_t *got);
/* *end = true when no byte follows. For gzip this reads to the end of the
 * stream, so zlib checks the trailer (CRC-32 and length) too. */
clgan_status data_file_at_end(data_file *f, bool *end);
void data_file_close(data_file *f);

/* a * b, false on overflow of size_t */
bool data_mul_size(size_t a, size_t b, size_t *out);

/* pixel / 127.5 - 1 for n bytes */
void data_u8_to_unit(const uint8_t *src, size_t n, float *dst);

/* Allocates x (n*c*h*w floats) and, when labelled, y (n); sets the shape and
 * name. `source` (the file or folder) is named in messages; more than the
 * host's physical memory is refused before trying. ds must be zeroed; on
 * failure it stays zeroed. */
clgan_status data_dataset_alloc(clgan_dataset *ds, const char *name, const char *source, int n, int c, int h, int w,
                                bool labelled);

/* Resampling of the central square of an h x w image to size x size; see
 * clgan_dataset_load_folder for the filter. A plan holds the per-axis taps
 * so a data set of equally sized images computes them once. */
typedef struct {
    int size;         /* output side */
    int taps;         /* weights per output pixel along an axis */
    int *col_first;   /* size: first source column of output column j */
    float *col_wt;    /* size*taps */
    int *row_first;   /* size */
    float *row_wt;    /* size*taps */
    int h, w;         /* source shape */
    float *tmp;       /* h * size: the image after the horizontal pass */
} data_resizer;

clgan_status data_resizer_init(data_resizer *r, int h, int w, int size);
/* src: c x h x w, dst: c x size x size */
void data_resizer_apply(const data_resizer *r, const float *src, int c, float *dst);
void data_resizer_free(data_resizer *r);

/* Replaces ds->x by its images resized to size x size. */
clgan_status data_dataset_resize(clgan_dataset *ds, int size);
/* Replaces ds->x by its images with `channels` channels (1 <-> 3). */
clgan_status data_dataset_convert_channels(clgan_dataset *ds, int channels);

#endif
