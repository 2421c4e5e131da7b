/* Data sets by name, as the CLI asks for them, and their default locations. */
#include "data_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { PATH_CAP = 4096, MSG_CAP = 2048 };

#define FASHION_SYSTEM_DIR "/usr/share/datasets/fashion-mnist"

void clgan_dataset_free(clgan_dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

size_t clgan_dataset_sample_floats(const clgan_dataset *ds) { return (size_t)ds->c * (size_t)ds->h * (size_t)ds->w; }

static bool is_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* a + sep + b into a PATH_CAP buffer; false when it does not fit */
static bool path_cat(char *out, const char *a, const char *sep, const char *b) {
    int k = snprintf(out, PATH_CAP, "%s%s%s", a, sep, b);
    return k >= 0 && k < PATH_CAP;
}

/* Where datasets/fetch.sh puts data unless told otherwise; "" if no
 * environment variable says. */
static void default_data_dir(char *out) {
    const char *env = getenv("CLGAN_DATA_DIR");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    bool ok = false;
    if (env && *env)
        ok = path_cat(out, env, "", "");
    else if (xdg && *xdg)
        ok = path_cat(out, xdg, "/", "clgan/datasets");
    else if (home && *home)
        ok = path_cat(out, home, "/", ".local/share/clgan/datasets");
    if (!ok) out[0] = 0;
}

/* Re-records the current message with `hint` after it. */
static clgan_status with_hint(clgan_status st, const char *hint) {
    char msg[MSG_CAP];
    snprintf(msg, sizeof msg, "%s", clgan_last_error());
    return CLGAN_ERR(st, "%s; %s", msg, hint);
}

/* The idx file of `split` ("train"/"t10k") and `kind` ("images"/"labels") in
 * dir under its standard name, raw or .gz; the dotted spelling
 * (train-images.idx3-ubyte) some mirrors use is accepted too. */
static bool find_idx(const char *dir, const char *split, const char *kind, char *out) {
    const char *dims = strcmp(kind, "images") == 0 ? "idx3" : "idx1";
    static const char seps[2] = {'-', '.'};
    for (int p = 0; p < 2; p++) {
        for (int gz = 0; gz < 2; gz++) {
            char name[64];
            snprintf(name, sizeof name, "%s-%s%c%s-ubyte%s", split, kind, seps[p], dims, gz ? ".gz" : "");
            if (path_cat(out, dir, "/", name) && is_file(out)) return true;
        }
    }
    return false;
}

/* MNIST-style folders: the first of dirs holding the split's images. */
static clgan_status load_mnist_like(const char *name, const char *const *dirs, int ndirs, bool train,
                                    const char *hint, clgan_dataset *out) {
    const char *split = train ? "train" : "t10k";
    char images[PATH_CAP], labels[PATH_CAP];
    char looked[MSG_CAP] = "";
    for (int d = 0; d < ndirs; d++) {
        if (!dirs[d] || !*dirs[d]) continue;
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s", used ? ", " : "", dirs[d]);
        if (!find_idx(dirs[d], split, "images", images)) continue;
        bool labelled = find_idx(dirs[d], split, "labels", labels);
        if (!labelled)
            clgan_log(CLGAN_LOG_WARN, "%s: no %s-labels-idx1-ubyte[.gz] in %s; loading unlabelled", name, split,
                      dirs[d]);
        clgan_status st = clgan_dataset_load_idx(images, labelled ? labels : NULL, out);
        if (st != CLGAN_OK) return st;
        snprintf(out->name, sizeof out->name, "%s", name);
        return CLGAN_OK;
    }
    return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s: no %s-images-idx3-ubyte or %s-images-idx3-ubyte.gz in %s; %s", name,
                     split, split, looked[0] ? looked : "(no folder: $CLGAN_DATA_DIR and $HOME are unset)", hint);
}

/* "x/train-images-idx3-ubyte.gz" -> "x/train-labels-idx1-ubyte.gz" (or
 * without .gz); false when no such labels file exists. */
static bool labels_for_images(const char *images, char *out) {
    static const char *const from[] = {"images-idx3", "images.idx3"};
    static const char *const to[] = {"labels-idx1", "labels.idx1"};
    const char *slash = strrchr(images, '/');
    size_t base = slash ? (size_t)(slash - images) + 1 : 0;
    for (int v = 0; v < 2; v++) {
        const char *hit = strstr(images + base, from[v]);
        if (!hit) continue;
        size_t pre = (size_t)(hit - images);
        const char *post = hit + strlen(from[v]);
        char stem[PATH_CAP];
        int k = snprintf(stem, sizeof stem, "%.*s%s%s", (int)pre, images, to[v], post);
        if (k < 0 || k >= PATH_CAP) return false;
        /* the labels may be compressed when the images are not, or not when they are */
        size_t len = strlen(stem);
        bool gz = len > 3 && strcmp(stem + len - 3, ".gz") == 0;
        if (is_file(stem)) {
            snprintf(out, PATH_CAP, "%s", stem);
            return true;
        }
        if (gz) stem[len - 3] = 0;
        if (path_cat(out, stem, "", gz ? "" : ".gz") && is_file(out)) return true;
    }
    return false;
}

static clgan_status load_by_name(const char *name, const char *path, bool train, uint64_t seed, int image_size,
                                 int channels, clgan_dataset *out) {
    char data_dir[PATH_CAP], dflt[PATH_CAP];
    default_data_dir(data_dir);

    if (strcmp(name, "fashion-mnist") == 0) {
        static const char hint[] =
            "install the Debian package dataset-fashion-mnist (it puts the files in " FASHION_SYSTEM_DIR
            ") or run datasets/fetch.sh fashion-mnist (see datasets/README.md)";
        if (path) return load_mnist_like(name, &path, 1, train, hint, out);
        const char *dirs[2] = {FASHION_SYSTEM_DIR, NULL};
        if (data_dir[0] && path_cat(dflt, data_dir, "/", "fashion-mnist")) dirs[1] = dflt;
        return load_mnist_like(name, dirs, 2, train, hint, out);
    }
    if (strcmp(name, "mnist") == 0) {
        static const char hint[] = "run datasets/fetch.sh mnist (see datasets/README.md) or pass the folder";
        if (path) return load_mnist_like(name, &path, 1, train, hint, out);
        const char *dirs[1] = {NULL};
        if (data_dir[0] && path_cat(dflt, data_dir, "/", "mnist")) dirs[0] = dflt;
        return load_mnist_like(name, dirs, 1, train, hint, out);
    }
    if (strcmp(name, "idx") == 0) {
        if (!path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "idx: a path to the images file is needed");
        char labels[PATH_CAP];
        bool labelled = labels_for_images(path, labels);
        return clgan_dataset_load_idx(path, labelled ? labels : NULL, out);
    }
    if (strcmp(name, "cifar10") == 0) {
        static const char hint[] =
            "run datasets/fetch.sh cifar10 (see datasets/README.md) or pass the cifar-10-batches-bin folder";
        if (!path) {
            if (!data_dir[0] || !path_cat(dflt, data_dir, "/", "cifar10"))
                return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "cifar10: no default folder ($CLGAN_DATA_DIR and $HOME are "
                                                      "unset); %s", hint);
            path = dflt;
        }
        clgan_status st = clgan_dataset_load_cifar10(path, train, out);
        return st == CLGAN_ERR_NOT_FOUND ? with_hint(st, hint) : st;
    }
    if (strcmp(name, "folder") == 0) {
        if (!path) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "folder: a path to the folder of PNGs is needed");
        return clgan_dataset_load_folder(path, channels > 0 ? channels : 3,
                                         image_size > 0 ? image_size : CLGAN_FOLDER_DEFAULT_SIZE, out);
    }
    if (strcmp(name, "ring8") == 0 || strcmp(name, "grid25") == 0) {
        if (image_size > 0 || channels > 0)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: 2-D points have no image size (%d) or channels (%d)", name,
                             image_size, channels);
        return train ? clgan_dataset_synthetic(name, CLGAN_SYNTHETIC_TRAIN_N, seed, out)
                     : clgan_dataset_synthetic(name, CLGAN_SYNTHETIC_TEST_N, seed ^ CLGAN_SYNTHETIC_TEST_SEED_XOR, out);
    }
    return CLGAN_ERR(CLGAN_ERR_NOT_FOUND,
                     "unknown data set \"%s\": expected fashion-mnist, mnist, idx, cifar10, folder, ring8 or grid25",
                     name);
}

clgan_status clgan_dataset_open(const char *name, const char *path, bool train, int image_size, int channels,
                                uint64_t seed, clgan_dataset *out) {
    clgan_status st = CLGAN_OK;
    if (!out) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_open: out is NULL");
    memset(out, 0, sizeof *out);
    if (!name) return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "clgan_dataset_open: name is NULL");
    if (channels > 0 && channels != 1 && channels != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: channels %d, expected 1 (gray) or 3 (RGB)", name, channels);
    if (image_size > 65536)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s: image size %d, expected at most 65536", name, image_size);

    st = load_by_name(name, path, train, seed, image_size, channels, out);
    if (st != CLGAN_OK) goto fail;
    /* convert channels on the smaller of the two images */
    if (channels > 0 && channels < out->c) {
        st = data_dataset_convert_channels(out, channels);
        if (st != CLGAN_OK) goto fail;
    }
    if (image_size > 0) {
        st = data_dataset_resize(out, image_size);
        if (st != CLGAN_OK) goto fail;
    }
    if (channels > 0 && channels > out->c) {
        st = data_dataset_convert_channels(out, channels);
        if (st != CLGAN_OK) goto fail;
    }
    return CLGAN_OK;

fail:
    clgan_dataset_free(out);
    return st;
}
