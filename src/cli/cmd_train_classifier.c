/* clgan train-classifier: the classifier behind `clgan eval`'s image
 * metrics, trained on a data set's train split and measured on its test
 * split (or, where only a test split exists, trained on part of it and
 * measured on the rest). */
#include "cli/cli.h"

#include "clgan/data.h"
#include "clgan/train.h"
#include "clgan/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* dst = the samples idx[0..n) of src (x and labels copied) */
static clgan_status subset(const clgan_dataset *src, const uint32_t *idx, int n, clgan_dataset *dst) {
    memset(dst, 0, sizeof *dst);
    snprintf(dst->name, sizeof dst->name, "%s", src->name);
    dst->c = src->c;
    dst->h = src->h;
    dst->w = src->w;
    dst->num_classes = src->num_classes;
    dst->n = n;
    size_t per = clgan_dataset_sample_floats(src);
    dst->x = malloc((size_t)n * per * sizeof *dst->x);
    dst->y = malloc((size_t)n * sizeof *dst->y);
    if (!dst->x || !dst->y) {
        clgan_dataset_free(dst);
        return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for %d images", n);
    }
    for (int i = 0; i < n; i++) {
        memcpy(dst->x + (size_t)i * per, src->x + (size_t)idx[i] * per, per * sizeof *dst->x);
        dst->y[i] = src->y[idx[i]];
    }
    return CLGAN_OK;
}

/* A seeded order of n samples (Fisher-Yates). */
static uint32_t *shuffled(int n, uint64_t seed) {
    uint32_t *p = malloc((size_t)n * sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < n; i++) p[i] = (uint32_t)i;
    clgan_rng r;
    clgan_rng_init(&r, seed ^ UINT64_C(0x73706c6974)); /* "split" */
    for (int i = n - 1; i > 0; i--) {
        uint32_t j = clgan_rng_below(&r, (uint32_t)i + 1), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* Keeps the first `limit` samples of ds (limit <= 0: all). */
static clgan_status limit_to(clgan_dataset *ds, long limit) {
    if (limit <= 0 || limit >= ds->n) return CLGAN_OK;
    uint32_t *idx = malloc((size_t)limit * sizeof *idx);
    if (!idx) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    for (long i = 0; i < limit; i++) idx[i] = (uint32_t)i;
    clgan_dataset small;
    clgan_status st = subset(ds, idx, (int)limit, &small);
    free(idx);
    if (st != CLGAN_OK) return st;
    clgan_dataset_free(ds);
    *ds = small;
    return CLGAN_OK;
}

/* The train and test splits of `dataset`; with from_test > 0, from_test
 * images of its test split (shuffled by seed) to train on and the rest (up
 * to limit in all) to measure on. test_set says which. */
static clgan_status open_splits(const char *dataset, const char *data, int size, int channels, long seed, long from_test,
                                long limit, clgan_dataset *train_out, clgan_dataset *test_out, char *test_set,
                                size_t cap) {
    clgan_dataset train = {0}, test = {0};
    clgan_status st = clgan_dataset_open(dataset, data, from_test == 0, size, channels, (uint64_t)seed, &train);
    if (st == CLGAN_OK && from_test == 0)
        st = clgan_dataset_open(dataset, data, false, size, channels, (uint64_t)seed, &test);
    if (st == CLGAN_OK && (!train.y || train.num_classes < 2 || (from_test == 0 && (!test.y || test.num_classes < 2))))
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "data set %s has no class labels (or one class): a classifier needs them",
                       dataset);
    if (st == CLGAN_OK && from_test > 0) {
        int total = train.n;
        uint32_t *order = shuffled(total, (uint64_t)seed);
        int use = limit > 0 && limit < total ? (int)limit : total;
        if (!order) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
        else if (from_test >= use)
            st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "--train-on-test %ld leaves none of the %d test images to measure on",
                           from_test, use);
        clgan_dataset all = train;
        memset(&train, 0, sizeof train);
        if (st == CLGAN_OK) st = subset(&all, order, (int)from_test, &train);
        if (st == CLGAN_OK) st = subset(&all, order + from_test, use - (int)from_test, &test);
        if (st == CLGAN_OK)
            snprintf(test_set, cap,
                     "%s test split: %d of its %d images held out at random (seed %ld), the other %ld trained on",
                     dataset, test.n, total, seed, from_test);
        free(order);
        clgan_dataset_free(&all);
    } else if (st == CLGAN_OK) {
        if (limit > 0) st = limit_to(&train, limit);
        if (st == CLGAN_OK) st = limit_to(&test, limit);
        snprintf(test_set, cap, "%s test split (%d images)", dataset, test.n);
    }
    if (st != CLGAN_OK) {
        clgan_dataset_free(&train);
        clgan_dataset_free(&test);
        return st;
    }
    *train_out = train;
    *test_out = test;
    return CLGAN_OK;
}

/* `epochs` passes over train (random shifts of up to `shift` pixels, the
 * learning rate decayed to 0 on a cosine), measuring on test after each;
 * x and y hold one batch. */
static clgan_status train_epochs(clgan_clf *clf, clgan_loader *loader, const clgan_dataset *train,
                                 const clgan_dataset *test, long epochs, int shift, uint64_t seed, bool quiet, float *x,
                                 int32_t *y, double *accuracy) {
    clgan_status st = CLGAN_OK;
    long batch = loader->batch;
    bool tty = isatty(2) != 0;
    long steps_per_epoch = (long)clgan_loader_batches_per_epoch(loader);
    long total = steps_per_epoch * epochs, step = 0;
    clgan_rng aug;
    clgan_rng_init(&aug, seed ^ UINT64_C(0x617567)); /* "aug" */
    for (long e = 0; e < epochs && st == CLGAN_OK; e++) {
        double te = cli_now_s(), loss_sum = 0;
        long right = 0, seen = 0;
        for (long s = 0; s < steps_per_epoch && st == CLGAN_OK; s++, step++) {
            clgan_loader_next(loader, x, y);
            st = clgan_images_random_shift(x, (int)batch, train->c, train->h, train->w, shift, &aug);
            /* cosine decay of the learning rate to 0 over the whole run */
            float scale = (float)(0.5 * (1.0 + cos(acos(-1.0) * (double)step / (double)total)));
            float loss = 0;
            int correct = 0;
            if (st == CLGAN_OK) st = clgan_clf_train_step(clf, x, y, scale, &loss, &correct);
            loss_sum += loss;
            right += correct;
            seen += batch;
            if (st == CLGAN_OK && tty && !quiet && (s % 10 == 9 || s + 1 == steps_per_epoch))
                fprintf(stderr, "\r\033[Kepoch %ld/%ld  %ld/%ld  loss %.4f  train accuracy %.2f%%  %.0f img/s", e + 1,
                        epochs, s + 1, steps_per_epoch, loss_sum / (double)(s + 1), 100.0 * (double)right / (double)seen,
                        (double)seen / (cli_now_s() - te));
        }
        double train_s = cli_now_s() - te;
        if (st == CLGAN_OK) st = clgan_clf_accuracy(clf, test->x, test->y, test->n, accuracy);
        if (st == CLGAN_OK && !quiet) {
            if (tty) fputs("\r\033[K", stderr);
            fprintf(stderr, "epoch %ld/%ld: loss %.4f, train accuracy %.2f%%, %.0f img/s; test accuracy %.2f%% (%.0f s)\n",
                    e + 1, epochs, loss_sum / (double)steps_per_epoch, 100.0 * (double)right / (double)seen,
                    (double)seen / train_s, 100.0 * *accuracy, cli_now_s() - te);
        }
    }
    return st;
}

int cmd_train_classifier(int argc, char **argv) {
    cli_opt opts[] = {
        {"dataset", "D", NULL, NULL, "fashion-mnist, mnist, idx, cifar10 or folder (labelled)", NULL, false},
        {"data", "PATH", NULL, NULL, "where the data set is (default: its standard place; see datasets/README.md)",
         NULL, false},
        {"out", "FILE", NULL, "$XDG_DATA_HOME/clgan/classifiers/DATASET-CxSxS.safetensors",
         "the classifier file (where clgan eval looks by default)", NULL, false},
        {"epochs", "N", NULL, "2", "passes over the training images", NULL, false},
        {"seed", "S", NULL, "1", "seeds parameters, data order, augmentation and --train-on-test's split", NULL,
         false},
        {"batch-size", "B", NULL, "64", "images per step", NULL, false},
        {"lr", "X", NULL, "2e-3", "Adam learning rate, decayed to 0 along a cosine", NULL, false},
        {"image-size", "S", NULL, "28 (32 for cifar10, 64 for folder)",
         "image side: the size of the generator's images (a DCGAN at 32 or 64 needs a classifier at 32 or 64)", NULL,
         false},
        {"channels", "C", NULL, "the dataset's", "1 (gray) or 3 (RGB), as the generator's", NULL, false},
        {"shift", "N", NULL, "0",
         "augmentation: shift each training image by up to N pixels (2 helps when training on a few thousand "
         "images; with a full train split it only slows learning)",
         NULL, false},
        {"train-on-test", "N", NULL, NULL,
         "use no train split: train on N images of the test split, drawn at random (--seed), and measure on the rest "
         "(for a machine with only the test files, e.g. MNIST's t10k; required for folder and idx data, which have "
         "one split)",
         NULL, false},
        {"limit", "N", NULL, NULL, "use only the first N images of each split (before --train-on-test; quick runs)",
         NULL, false},
        CLI_DEVICE_OPTS};
    cli_command c = {"train-classifier",
                     "Train the small CNN behind clgan eval's Fréchet distance and inception score on a labelled "
                     "data set's train split, print its accuracy on the test split, and save it (safetensors, "
                     "written atomically).",
                     "--dataset D [--data PATH] [--out FILE] [--epochs N] [--seed S] [--device X] ...", opts,
                     (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    const char *dataset = cli_get(&c, "dataset");
    if (!dataset) {
        fprintf(stderr, "clgan train-classifier: --dataset D is required (fashion-mnist, mnist, idx, cifar10 or folder)\n");
        return CLI_USAGE;
    }
    if (strcmp(dataset, "ring8") == 0 || strcmp(dataset, "grid25") == 0) {
        fprintf(stderr, "clgan train-classifier: %s is 2-D data; clgan eval measures its modes directly, without a "
                        "classifier\n", dataset);
        return CLI_USAGE;
    }
    long epochs, seed, batch, size = 28, channels = 0, shift, from_test = 0, limit = 0;
    double lr;
    if (strcmp(dataset, "cifar10") == 0) size = 32;
    if (strcmp(dataset, "folder") == 0) size = 64;
    if (cli_get_long(&c, "epochs", 1, 1000, &epochs) != CLI_OK || cli_get_long(&c, "seed", 0, 1L << 62, &seed) != CLI_OK ||
        cli_get_long(&c, "batch-size", 2, 4096, &batch) != CLI_OK || cli_get_double(&c, "lr", &lr) != CLI_OK ||
        cli_get_long(&c, "shift", 0, 16, &shift) != CLI_OK ||
        (cli_given(&c, "image-size") && cli_get_long(&c, "image-size", 4, 1024, &size) != CLI_OK) ||
        (cli_given(&c, "channels") && cli_get_long(&c, "channels", 1, 3, &channels) != CLI_OK) ||
        (cli_given(&c, "train-on-test") && cli_get_long(&c, "train-on-test", 1, 1L << 30, &from_test) != CLI_OK) ||
        (cli_given(&c, "limit") && cli_get_long(&c, "limit", 2, 1L << 30, &limit) != CLI_OK))
        return CLI_USAGE;
    if (channels == 2) {
        fprintf(stderr, "clgan train-classifier: --channels 2: expected 1 (gray) or 3 (RGB)\n");
        return CLI_USAGE;
    }
    if (!(lr > 0)) {
        fprintf(stderr, "clgan train-classifier: --lr %g: expected a positive number\n", lr);
        return CLI_USAGE;
    }
    if ((strcmp(dataset, "folder") == 0 || strcmp(dataset, "idx") == 0) && from_test == 0) {
        fprintf(stderr, "clgan train-classifier: %s data has no separate test split: pass --train-on-test N to train "
                        "on N of its images and measure on the rest\n", dataset);
        return CLI_USAGE;
    }
    double t0 = cli_now_s();

    /* the data: train and test splits, or a split of the test split */
    clgan_dataset train = {0}, test = {0};
    char test_set[160];
    clgan_status st = open_splits(dataset, cli_get(&c, "data"), (int)size, (int)channels, seed, from_test, limit, &train,
                                  &test, test_set, sizeof test_set);
    int classes = train.num_classes > test.num_classes ? train.num_classes : test.num_classes;
    if (st == CLGAN_OK && train.n < batch)
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d training images, fewer than a batch of %ld", train.n, batch);
    char out[1400];
    if (st == CLGAN_OK) {
        if (cli_given(&c, "out"))
            snprintf(out, sizeof out, "%s", cli_get(&c, "out"));
        else
            st = clgan_clf_default_path(dataset, train.c, train.h, out, sizeof out);
    }
    if (st == CLGAN_OK && !cli_given(&c, "out")) {
        /* the default folder may not exist yet */
        char dir[1400];
        snprintf(dir, sizeof dir, "%s", out);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        st = clgan_make_dirs(dir);
    }
    if (st != CLGAN_OK) {
        clgan_dataset_free(&train);
        clgan_dataset_free(&test);
        return cli_fail(st);
    }

    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) {
        clgan_dataset_free(&train);
        clgan_dataset_free(&test);
        return rc;
    }
    clgan_clf_config cfg = {.model = {.channels = train.c, .image_size = train.h, .classes = classes},
                            .batch = (int)batch,
                            .eval_batch = 250,
                            .seed = (uint64_t)seed,
                            .opt = {.kind = CLGAN_OPT_ADAM, .lr = (float)lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f}};
    clgan_clf *clf = NULL;
    clgan_loader loader;
    bool have_loader = false;
    size_t per = clgan_dataset_sample_floats(&train);
    float *x = malloc((size_t)batch * per * sizeof *x);
    int32_t *y = malloc((size_t)batch * sizeof *y);
    st = x && y ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) st = clgan_clf_new(&cfg, d, &clf);
    if (st == CLGAN_OK) st = clgan_loader_init(&loader, &train, (int)batch, (uint64_t)seed);
    have_loader = st == CLGAN_OK;
    bool quiet = cli_flag(&c, "quiet");
    if (st == CLGAN_OK && !quiet)
        fprintf(stderr, "clgan: training a %d-class classifier on %d %dx%dx%d images of %s, measuring on %d, %ld epochs on %s\n",
                classes, train.n, train.c, train.h, train.w, dataset, test.n, epochs, clgan_device_get_info(d)->id);
    double accuracy = 0;
    if (st == CLGAN_OK) st = train_epochs(clf, &loader, &train, &test, epochs, (int)shift, (uint64_t)seed, quiet, x, y, &accuracy);
    if (st == CLGAN_OK) {
        clgan_clf_info info = {.test_accuracy = accuracy, .train_images = train.n, .epochs = epochs};
        snprintf(info.dataset, sizeof info.dataset, "%s", dataset);
        snprintf(info.test_set, sizeof info.test_set, "%s", test_set);
        st = clgan_clf_save(clf, &info, out);
    }
    if (st == CLGAN_OK) {
        char wall[32];
        cli_format_duration(cli_now_s() - t0, wall, sizeof wall);
        printf("test accuracy %.2f%% on %s\nwrote %s (wall time %s)\n", 100.0 * accuracy, test_set, out, wall);
    }
    if (have_loader) clgan_loader_free(&loader);
    clgan_clf_free(clf);
    clgan_device_close(d);
    clgan_dataset_free(&train);
    clgan_dataset_free(&test);
    free(x);
    free(y);
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}
