/* clgan data: datasets and seeded batching.
 *
 * A dataset is loaded whole into host memory as float NCHW with images scaled
 * to [-1, 1] (pixel / 127.5 - 1, the range of a tanh generator). Loaders check
 * every header field against the bytes actually present before allocating, and
 * every error names the file, the byte offset or field, and what was expected.
 * datasets/README.md says where each data set comes from and how to fetch it. */
#ifndef CLGAN_DATA_H
#define CLGAN_DATA_H

#include "clgan/core.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef struct {
    char name[64];        /* "fashion-mnist", "mnist", "idx", "cifar10", "folder", "ring8", "grid25" */
    int n;                /* samples */
    int c, h, w;          /* per-sample shape; 2-D synthetic data is c=2, h=1, w=1 */
    int num_classes;      /* 0 when unlabelled */
    float *x;             /* n*c*h*w; images scaled to [-1, 1] (pixel/127.5 - 1), NCHW */
    int32_t *y;           /* n labels in [0, num_classes), or NULL */
} clgan_dataset;

/* idx labels must be < this: MNIST, Fashion-MNIST and KMNIST all have ten
 * classes, and a fixed bound lets a corrupt label file be told apart from a
 * data set with more classes. */
#define CLGAN_IDX_NUM_CLASSES 10

/* MNIST idx format (big-endian header). Images: magic 0x00000803 (u8, 3 dims),
 * dims n, rows, cols, then n*rows*cols bytes, nothing more. Labels: magic
 * 0x00000801 (u8, 1 dim), dim n, then n bytes, each < CLGAN_IDX_NUM_CLASSES.
 * Each file may be raw or gzip; gzip is recognised by its magic 1f 8b, not the
 * name. labels_path may be NULL (unlabelled). Result: c = 1, h = rows,
 * w = cols, name "idx". */
clgan_status clgan_dataset_load_idx(const char *images_path, const char *labels_path, clgan_dataset *out);

/* CIFAR-10 binary version: records of 1 label byte (< 10) and 3072 pixel bytes
 * (32x32 R plane, then G, then B), so the file size is a multiple of 3073.
 * path is one data_batch_N.bin / test_batch.bin file (train is then ignored),
 * or a folder holding data_batch_1..5.bin (train) or test_batch.bin (!train),
 * or a folder holding cifar-10-batches-bin/. Result: c = 3, h = w = 32. */
clgan_status clgan_dataset_load_cifar10(const char *path, bool train, clgan_dataset *out);

/* All *.png (any case) in dir, sorted by name (byte order). Each image is read
 * with `channels` channels (1 = gray, 3 = RGB), its central square (side =
 * the shorter side) is kept and resampled to size x size: area averaging along
 * an axis that shrinks (no aliasing), bilinear with pixel centres at +0.5 along
 * an axis that grows.
 * If dir holds no PNG but holds sub-folders, each sub-folder is a class: the
 * sorted sub-folder names are class ids 0, 1, ... and their PNGs are loaded in
 * class order. Otherwise the data set is unlabelled and sub-folders are
 * ignored. Names beginning with '.' are skipped. */
clgan_status clgan_dataset_load_folder(const char *dir, int channels, int size, clgan_dataset *out);

/* n samples of a 2-D Gaussian mixture with equal weights. Sample i takes its
 * mode from clgan_rng_below(rng, count) with one clgan_rng seeded with `seed`
 * (draws in sample order), and its noise from elements 2i and 2i+1 of
 * clgan_rng_normal(seed, CLGAN_SYNTHETIC_NOISE_OFFSET, ..): the noise stream's
 * Philox counters never meet clgan_rng's, and the same seed gives the same
 * data. y holds the mode index (num_classes = mode count) so that metrics and
 * tests can see which mode a sample came from. */
#define CLGAN_SYNTHETIC_NOISE_OFFSET UINT64_C(0x53594e5448) /* "SYNTH" */
clgan_status clgan_dataset_synthetic(const char *kind /* "ring8" | "grid25" */, int n, uint64_t seed,
                                     clgan_dataset *out);

/* Mode centres and the per-mode std of the synthetic mixtures, for metrics:
 * ring8 = 8 modes on a circle of radius 1 (angle 2*pi*k/8 for mode k), sigma
 * 0.01; grid25 = 25 modes at {-4,-2,0,2,4}^2 (mode 5i+j at (-4+2i, -4+2j)),
 * sigma 0.05 (PacGAN/VEEGAN geometry). centres points to static constant
 * storage: count*2 floats (x, y). */
clgan_status clgan_synthetic_modes(const char *kind, int *count, const float **centres, float *sigma);

/* Samples that clgan_dataset_open draws for "ring8"/"grid25": the train split
 * comes from `seed`, the test split from seed ^ CLGAN_SYNTHETIC_TEST_SEED_XOR. */
#define CLGAN_SYNTHETIC_TRAIN_N 100000
#define CLGAN_SYNTHETIC_TEST_N 10000
#define CLGAN_SYNTHETIC_TEST_SEED_XOR UINT64_C(0x7465737473706c74) /* "testsplt" */

/* Default size for "folder" when image_size <= 0 (the DCGAN resolution). */
#define CLGAN_FOLDER_DEFAULT_SIZE 64

/* Name dispatch used by the CLI.
 *   "fashion-mnist"  path = folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
 *                    NULL = /usr/share/datasets/fashion-mnist (Debian package
 *                    dataset-fashion-mnist), then <data dir>/fashion-mnist
 *   "mnist"          path = folder with the same four standard names; NULL = <data dir>/mnist
 *   "idx"            path = images file (required); the labels file is found by
 *                    replacing "images-idx3" with "labels-idx1" (or
 *                    "images.idx3" with "labels.idx1") in the file name, with or
 *                    without .gz; unlabelled when there is none
 *   "cifar10"        path = file or folder as clgan_dataset_load_cifar10; NULL = <data dir>/cifar10
 *   "folder"         path = folder of PNGs (required); image_size <= 0 means
 *                    CLGAN_FOLDER_DEFAULT_SIZE and channels <= 0 means 3
 *   "ring8", "grid25" path unused; CLGAN_SYNTHETIC_TRAIN_N / _TEST_N samples
 *                    from seed (see CLGAN_SYNTHETIC_TEST_SEED_XOR)
 * <data dir> is $CLGAN_DATA_DIR, else $XDG_DATA_HOME/clgan/datasets, else
 * $HOME/.local/share/clgan/datasets: where datasets/fetch.sh puts data by
 * default. When data is missing, the error (CLGAN_ERR_NOT_FOUND) lists where it
 * looked and how to get it.
 * image_size > 0 resizes images to image_size x image_size (central square, as
 * the folder loader: bilinear when enlarging, e.g. 28 -> 32 or 64 for DCGAN;
 * area averaging when shrinking). channels > 0 converts gray -> RGB by copying
 * the plane and RGB -> gray with the BT.601 luma weights 0.299, 0.587, 0.114.
 * seed is used by the synthetic data sets only. */
clgan_status clgan_dataset_open(const char *name, const char *path, bool train, int image_size, int channels,
                                uint64_t seed, clgan_dataset *out);

/* Frees x and y and zeroes *ds; safe on a zeroed or already freed dataset. */
void clgan_dataset_free(clgan_dataset *ds);

/* Floats in one sample's x: c*h*w. */
size_t clgan_dataset_sample_floats(const clgan_dataset *ds);

/* Seeded batching. Epoch e visits the samples in the order of a Fisher-Yates
 * permutation drawn from a clgan_rng with key `seed` and counter starting at
 * e << 32, so the order depends only on (seed, epoch) and a checkpoint needs
 * to store only (epoch, pos) to resume it exactly. Batches have exactly
 * `batch` samples; the final partial batch of an epoch is dropped: when fewer
 * than `batch` samples remain, clgan_loader_next moves to epoch + 1, pos 0.
 * The loader borrows ds, which must outlive it. */
typedef struct {
    const clgan_dataset *ds;
    int batch;
    uint64_t seed;
    uint64_t epoch;
    size_t pos;     /* index into perm of the next sample */
    uint32_t *perm; /* ds->n entries: the order of `epoch` */
} clgan_loader;

/* 1 <= batch <= ds->n; starts at epoch 0, pos 0. */
clgan_status clgan_loader_init(clgan_loader *l, const clgan_dataset *ds, int batch, uint64_t seed);
/* pos <= ds->n; (epoch, pos) as read from a loader continue its order exactly. */
clgan_status clgan_loader_seek(clgan_loader *l, uint64_t epoch, size_t pos);
/* Copies the next batch: x gets batch*c*h*w floats; y (may be NULL) gets batch
 * labels, or zeros when the data set is unlabelled. */
void clgan_loader_next(clgan_loader *l, float *x, int32_t *y);
/* Full batches per epoch: ds->n / batch. */
size_t clgan_loader_batches_per_epoch(const clgan_loader *l);
void clgan_loader_free(clgan_loader *l);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
