/* clgan eval: sample-quality metrics of a checkpoint's generator. 2-D
 * models: mode coverage of the synthetic mixture. Image models: the
 * Fréchet distance between classifier features of generated and real test
 * images, the classifier-based inception score and the histogram of
 * predicted classes. */
#include "cli/cli.h"

#include "clgan/data.h"
#include "clgan/train.h"
#include "clgan/eval.h"
#include "clgan/io.h"
#include "io/dir.h"
#include "runtime/device_impl.h"

#include <stdlib.h>
#include <string.h>

static int eval_points(const cli_command *c, const clgan_run_config *run, clgan_gan *gan, long n, uint64_t seed) {
    const clgan_model_config *m = &run->gan.model;
    float *z = malloc((size_t)n * (size_t)m->z_dim * sizeof *z), *pts = malloc((size_t)n * 2 * sizeof *pts);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    clgan_status st = z && pts && labels ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_mode_stats ms;
    if (st == CLGAN_OK) {
        clgan_rng_normal(seed, 0, z, (size_t)n * (size_t)m->z_dim);
        for (long i = 0; i < n; i++) labels[i] = m->classes > 0 ? (int32_t)(i % m->classes) : 0;
        st = clgan_gan_generate(gan, z, m->classes > 0 ? labels : NULL, (int)n, pts);
    }
    if (st == CLGAN_OK) st = clgan_mode_coverage(run->dataset, pts, (int)n, &ms);
    free(z);
    free(pts);
    free(labels);
    if (st != CLGAN_OK) return cli_fail(st);
    if (cli_flag(c, "json")) {
        clgan_jbuf b;
        clgan_jbuf_init(&b);
        clgan_jbuf_begin_object(&b);
        clgan_jbuf_key(&b, "modes_covered");
        clgan_jbuf_int(&b, ms.modes_covered);
        clgan_jbuf_key(&b, "modes_total");
        clgan_jbuf_int(&b, ms.modes_total);
        clgan_jbuf_key(&b, "high_quality_fraction");
        clgan_jbuf_num(&b, ms.high_quality_fraction);
        clgan_jbuf_key(&b, "reverse_kl");
        clgan_jbuf_num(&b, ms.reverse_kl); /* null when no sample is near a mode */
        clgan_jbuf_end_object(&b);
        st = clgan_jbuf_finish(&b);
        if (st == CLGAN_OK) printf("%s\n", clgan_jbuf_cstr(&b));
        clgan_jbuf_free(&b);
        return st == CLGAN_OK ? CLI_OK : cli_fail(st);
    }
    printf("%s, %ld samples (step %llu):\n", run->dataset, n, (unsigned long long)clgan_gan_step_count(gan));
    printf("modes covered: %d / %d\n", ms.modes_covered, ms.modes_total);
    printf("high-quality samples (within 3 sigma of a mode): %.2f%%\n", 100.0 * ms.high_quality_fraction);
    if (ms.modes_covered > 0)
        printf("reverse KL (mode histogram || uniform): %.4f\n", ms.reverse_kl);
    else
        printf("reverse KL: undefined (no sample near a mode)\n");
    return CLI_OK;
}

/* Where real images' Inception features are cached: the kernel cache's folder (--cache-dir,
 * CLGAN_CACHE_DIR, ...) */
static void features_cache(const cli_command *c, char *out, size_t cap) {
    clgan_device_options opt = {0};
    out[0] = 0;
    if (cli_device_options(c, &opt) == CLI_OK) clgan_resolve_cache_dir(&opt, out, cap);
}

/* The metrics, as one JSON object (with two counts, k1 = v1 and k2 = v2) or as text */
static void print_metrics(const cli_command *c, const clgan_feature_eval *m, const char *k1, long v1, const char *k2,
                          long v2) {
    if (cli_flag(c, "json")) {
        clgan_jbuf b;
        clgan_jbuf_init(&b);
        clgan_jbuf_begin_object(&b);
        clgan_feature_eval_json(&b, m);
        clgan_jbuf_key(&b, "features");
        clgan_jbuf_str(&b, "inception");
        clgan_jbuf_key(&b, k1);
        clgan_jbuf_int(&b, v1);
        clgan_jbuf_key(&b, k2);
        clgan_jbuf_int(&b, v2);
        clgan_jbuf_end_object(&b);
        if (clgan_jbuf_finish(&b) == CLGAN_OK) printf("%s\n", clgan_jbuf_cstr(&b));
        clgan_jbuf_free(&b);
        return;
    }
    printf("FID (Inception, StyleGAN2-ADA's resize and range): %.4f\n", m->fid);
    printf("KID: %.6f +- %.6f (mean and std over %d subsets of up to %d)\n", m->kid, m->kid_std, CLGAN_KID_SUBSETS,
           CLGAN_KID_SUBSET_SIZE);
    if (m->precision >= 0)
        printf("precision %.4f, recall %.4f (k-NN, k = %d)\n", m->precision, m->recall, CLGAN_PR_K);
    else
        printf("precision, recall: need more than %d images in each set\n", CLGAN_PR_K);
}

/* The checkpoint's data set's test split (--data, else the run's path, else the standard place) */
static clgan_status open_test_split(const cli_command *c, const clgan_run_config *run, uint64_t seed,
                                    clgan_dataset *real) {
    const clgan_model_config *m = &run->gan.model;
    const char *data = cli_given(c, "data") ? cli_get(c, "data") : NULL;
    if (!data && run->data_path[0]) data = run->data_path;
    clgan_status st = clgan_dataset_open(run->dataset, data, false, m->image_size, m->channels, seed, real);
    return st == CLGAN_OK ? st : clgan_error_context(st, "the real test images: ");
}

/* Inception-v3 metrics against the data set's test split */
static int eval_inception(const cli_command *c, const clgan_run_config *run, clgan_gan *gan, clgan_device *d,
                          const char *weights, long n, long real_limit, uint64_t seed) {
    clgan_dataset real = {0};
    clgan_evaluator *ev = NULL;
    clgan_feature_eval fe = {0};
    clgan_status st = open_test_split(c, run, seed, &real);
    int n_real = real_limit > 0 && real_limit < real.n ? (int)real_limit : real.n;
    char cache[1024];
    features_cache(c, cache, sizeof cache);
    if (st == CLGAN_OK)
        st = clgan_evaluator_new(CLGAN_FEATURES_INCEPTION, weights, d, &run->gan.model, real.x, n_real, cache, &ev);
    if (st == CLGAN_OK) st = clgan_evaluator_run(ev, gan, (int)n, seed, &fe);
    clgan_evaluator_free(ev);
    clgan_dataset_free(&real);
    if (st != CLGAN_OK) return cli_fail(st);
    if (!cli_flag(c, "json"))
        printf("%s, step %llu: %ld generated vs %d real test images, Inception-v3 features (%s)\n", run->dataset,
               (unsigned long long)clgan_gan_step_count(gan), n, n_real, weights);
    print_metrics(c, &fe, "samples", n, "real", n_real);
    if (!cli_flag(c, "json") && (n < 50000 || n_real < 10000))
        printf("  (published FIDs use 50000 generated images against the full set: compare at the same counts)\n");
    return CLI_OK;
}

/* A set of images to measure: a folder of PNGs (RGB, each image's central square at the first
 * image's size, in file-name order) or a data set's test split at its own size */
static clgan_status open_image_set(const char *spec, const char *what, uint64_t seed, clgan_dataset *out) {
    clgan_dir_entries e = {0};
    clgan_status st = clgan_dir_list(spec, &e);
    if (st == CLGAN_OK) {
        const char *first = NULL;
        for (size_t i = 0; i < e.n && !first; i++)
            if (e.items[i].kind == CLGAN_ENTRY_FILE && clgan_is_png_name(e.items[i].name)) first = e.items[i].path;
        uint8_t *px = NULL;
        int w = 0, h = 0;
        st = first ? clgan_png_read(first, 3, &px, &w, &h)
                   : CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s %s: no .png file in the folder", what, spec);
        free(px);
        if (st == CLGAN_OK) st = clgan_dataset_load_folder(spec, 3, w < h ? w : h, out);
        clgan_dir_entries_free(&e);
        return st == CLGAN_OK ? st : clgan_error_context(st, "%s: ", what);
    }
    /* not a folder: a data set's name */
    int size = 0, channels = 0;
    if (strcmp(spec, "fashion-mnist") == 0 || strcmp(spec, "mnist") == 0) {
        size = 28;
        channels = 1;
    } else if (strcmp(spec, "cifar10") == 0) {
        size = 32;
        channels = 3;
    } else {
        return CLGAN_ERR(CLGAN_ERR_NOT_FOUND, "%s %s: neither a folder of PNGs nor a data set (fashion-mnist, mnist, "
                         "cifar10)", what, spec);
    }
    st = clgan_dataset_open(spec, NULL, false, size, channels, seed, out);
    return st == CLGAN_OK ? st : clgan_error_context(st, "%s %s (its test split): ", what, spec);
}

/* features (n, 2048) as a safetensors file with one tensor "features", in the set's order */
static clgan_status save_features(const char *path, const float *f, int n) {
    clgan_st_writer *w = clgan_st_writer_new();
    if (!w) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    const int64_t shape[2] = {n, CLGAN_INCEPTION_FEATURES};
    clgan_status st = clgan_st_add(w, "features", CLGAN_DT_F32, 2, shape, f);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "features", "Inception-v3 (TensorFlow 2015-12-05) pool features");
    if (st == CLGAN_OK) st = clgan_make_parent_dirs(path);
    if (st == CLGAN_OK) st = clgan_st_write(w, path);
    clgan_st_writer_free(w);
    return st;
}

/* clgan eval --images DIR --against DIR|DATASET: a complete FID tool on its own */
static int eval_folder(const cli_command *c, const char *named_weights, long limit, uint64_t seed) {
    const char *images = cli_get(c, "images"), *against = cli_get(c, "against");
    if (!against && !cli_given(c, "save-features")) {
        fprintf(stderr, "clgan eval: --images needs --against DIR|DATASET (or --save-features FILE alone)\n");
        return CLI_USAGE;
    }
    char weights[1400];
    clgan_status st = clgan_inception_find(named_weights, "--inception", weights, sizeof weights);
    if (st != CLGAN_OK) return cli_fail(st);
    clgan_dataset a = {0}, b = {0};
    st = open_image_set(images, "--images", seed, &a);
    if (st == CLGAN_OK && against) st = open_image_set(against, "--against", seed, &b);
    int na = limit > 0 && limit < a.n ? (int)limit : a.n, nb = limit > 0 && limit < b.n ? (int)limit : b.n;
    if (st == CLGAN_OK && (na < 2 || (against && nb < 2)))
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%d and %d images: need at least 2 in each set", na, nb);
    clgan_device *d = NULL;
    int rc = st == CLGAN_OK ? cli_open_device(c, &d) : CLI_OK;
    clgan_inception *inc = NULL;
    float *fa = NULL, *fb = NULL;
    clgan_feature_eval fe = {0};
    if (st == CLGAN_OK && rc == CLI_OK && d) {
        st = clgan_inception_open(weights, d, 16, &inc);
        fa = malloc((size_t)na * CLGAN_INCEPTION_FEATURES * sizeof *fa);
        fb = against ? malloc((size_t)nb * CLGAN_INCEPTION_FEATURES * sizeof *fb) : NULL;
        if (st == CLGAN_OK && (!fa || (against && !fb))) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for the features");
        char cache[1024];
        features_cache(c, cache, sizeof cache);
        bool hit = false;
        if (st == CLGAN_OK) st = clgan_inception_cached_features(inc, cache, a.x, na, a.c, a.h, a.w, fa, &hit);
        if (st == CLGAN_OK && against) st = clgan_inception_cached_features(inc, cache, b.x, nb, b.c, b.h, b.w, fb, &hit);
        if (st == CLGAN_OK && against && hit) clgan_log(CLGAN_LOG_INFO, "the features of %s: from the cache", against);
        if (st == CLGAN_OK && cli_given(c, "save-features")) st = save_features(cli_get(c, "save-features"), fa, na);
        if (st == CLGAN_OK && against) st = clgan_feature_metrics(fa, na, fb, nb, CLGAN_INCEPTION_FEATURES, seed, &fe);
    }
    if (st == CLGAN_OK && rc == CLI_OK && d) {
        if (against && !cli_flag(c, "json"))
            printf("%d images of %s vs %d of %s, Inception-v3 features\n", na, images, nb, against);
        if (against) print_metrics(c, &fe, "images", na, "against", nb);
        if (cli_given(c, "save-features") && !cli_flag(c, "json"))
            printf("wrote the features of %d images to %s\n", na, cli_get(c, "save-features"));
    }
    free(fa);
    free(fb);
    clgan_inception_free(inc);
    clgan_device_close(d);
    clgan_dataset_free(&a);
    clgan_dataset_free(&b);
    if (rc != CLI_OK) return rc;
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}

static int eval_images(const cli_command *c, const clgan_run_config *run, clgan_gan *gan, clgan_device *d,
                       const char *clf_path, long n, long real_limit, uint64_t seed) {
    clgan_dataset real = {0};
    clgan_clf *clf = NULL;
    clgan_clf_info info;
    clgan_image_eval ev = {0};
    clgan_status st = open_test_split(c, run, seed, &real);
    if (st == CLGAN_OK) st = clgan_clf_load(clf_path, d, 250, &clf, &info);
    if (st == CLGAN_OK && real.y && real.num_classes > info.classes)
        st = CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier %s knows %d classes, the %s test images have %d", clf_path,
                       info.classes, run->dataset, real.num_classes);
    int n_real = real_limit > 0 && real_limit < real.n ? (int)real_limit : real.n;
    if (st == CLGAN_OK) st = clgan_eval_images(gan, clf, real.x, real.y, n_real, (int)n, seed, &ev);
    clgan_clf_free(clf);
    clgan_dataset_free(&real);
    if (st != CLGAN_OK) return cli_fail(st);
    if (cli_flag(c, "json")) {
        clgan_jbuf b;
        clgan_jbuf_init(&b);
        clgan_jbuf_begin_object(&b);
        clgan_jbuf_key(&b, "fid");
        clgan_jbuf_num(&b, ev.fid);
        clgan_jbuf_key(&b, "inception_score");
        clgan_jbuf_num(&b, ev.inception_score);
        clgan_jbuf_key(&b, "class_histogram");
        clgan_jbuf_begin_array(&b);
        for (int k = 0; k < ev.classes; k++) clgan_jbuf_int(&b, ev.class_histogram[k]);
        clgan_jbuf_end_array(&b);
        clgan_jbuf_end_object(&b);
        st = clgan_jbuf_finish(&b);
        if (st == CLGAN_OK) printf("%s\n", clgan_jbuf_cstr(&b));
        clgan_jbuf_free(&b);
    } else {
        printf("%s, step %llu: %d generated vs %d real test images, features of classifier %s\n", run->dataset,
               (unsigned long long)clgan_gan_step_count(gan), ev.n_generated, ev.n_real, clf_path);
        printf("FID (classifier features): %.4f\n", ev.fid);
        if (ev.n_generated < 10000)
            printf("  (with fewer than 10000 samples the FID is biased upwards: compare values at the same --samples)\n");
        printf("inception score (classifier): %.4f  (real test images: %.4f; at most %d)\n", ev.inception_score,
               ev.real_inception_score, ev.classes);
        if (ev.real_accuracy >= 0)
            printf("classifier accuracy on the real test images: %.2f%%\n", 100.0 * ev.real_accuracy);
        printf("predicted classes of the generated images:");
        for (int k = 0; k < ev.classes; k++) printf("%s%d: %ld", k % 10 ? "  " : "\n  ", k, ev.class_histogram[k]);
        printf("\n");
    }
    clgan_image_eval_free(&ev);
    return st == CLGAN_OK ? CLI_OK : cli_fail(st);
}

int cmd_eval(int argc, char **argv) {
    cli_opt opts[] = {
        {"checkpoint", "FILE", NULL, NULL, "a checkpoint (or a run folder: its latest)", NULL, false},
        {"json", NULL, NULL, NULL, "print one JSON object: modes_covered, modes_total, high_quality_fraction, "
                                   "reverse_kl (2-D data); fid, inception_score, class_histogram (images)", NULL, false},
        {"classifier", "FILE", NULL, "$XDG_DATA_HOME/clgan/classifiers/DATASET-CxSxS.safetensors",
         "the classifier for image metrics (made by clgan train-classifier)", NULL, false},
        {"samples", "N", NULL, "10000 images, 2500 points", "samples to generate", NULL, false},
        {"data", "PATH", NULL, "the checkpoint's", "where the real data set is (its test split is used)", NULL, false},
        {"real", "N", NULL, "all", "use only the first N real test images (with --images: of each set)", NULL, false},
        {"seed", "S", NULL, "1", "noise seed", NULL, false},
        {"features", "F", NULL, NULL,
         "classifier (clgan's own, trained on the data set) or inception (Inception-v3 FID, comparable with "
         "published figures; datasets/fetch.sh inception installs its weights). Default: inception for RGB data "
         "when its weights are installed, else classifier", NULL, false},
        {"images", "DIR", NULL, NULL, "instead of a checkpoint: a folder of PNGs (from clgan or any other tool) to "
         "measure with Inception features", NULL, false},
        {"against", "SET", NULL, NULL, "with --images: a folder of PNGs, or fashion-mnist, mnist, cifar10 (their "
         "test split)", NULL, false},
        {"save-features", "FILE", NULL, NULL, "with --images: write its Inception features as safetensors (one "
         "tensor \"features\", N x 2048 float32, in file-name order)", NULL, false},
        {"inception", "FILE", "CLGAN_INCEPTION_WEIGHTS", NULL,
         "the converted Inception-v3 weights (default: where datasets/fetch.sh inception puts them, "
         "$CLGAN_DATA_DIR/inception/" CLGAN_INCEPTION_FILE ")", NULL, false},
        CLI_EMA_OPT, CLI_DEVICE_OPTS};
    cli_command c = {"eval",
                     "Measure a generator. For 2-D data (ring8, grid25): modes covered, the fraction of high-quality "
                     "samples and the reverse KL of the mode histogram. For images: the Fréchet distance between "
                     "classifier features of generated and real test images, the classifier-based inception score "
                     "and the histogram of predicted classes, with a classifier trained by clgan train-classifier "
                     "on the same data set.",
                     "--checkpoint FILE [--json] [--features inception|classifier] [--samples N] [--device X] | "
                     "--images DIR --against DIR|DATASET [--save-features FILE]", opts,
                     (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    long seed, n = 0, real_limit = 0;
    if (cli_get_long(&c, "seed", 0, 1L << 62, &seed) != CLI_OK ||
        (cli_given(&c, "samples") && cli_get_long(&c, "samples", 2, 1 << 24, &n) != CLI_OK) ||
        (cli_given(&c, "real") && cli_get_long(&c, "real", 2, 1L << 30, &real_limit) != CLI_OK))
        return CLI_USAGE;
    clgan_status st = CLGAN_OK;
    /* the Inception weights: --inception (or CLGAN_INCEPTION_WEIGHTS), else where fetch.sh puts them; "" if neither */
    const char *named_weights = cli_get(&c, "inception");
    if (cli_given(&c, "images")) { /* folders of images, no generator */
        if (cli_given(&c, "checkpoint") || (cli_get(&c, "features") && strcmp(cli_get(&c, "features"), "inception") != 0)) {
            fprintf(stderr, "clgan eval: --images measures with Inception features, without --checkpoint\n");
            return CLI_USAGE;
        }
        return eval_folder(&c, named_weights, real_limit, (uint64_t)seed);
    }
    if (cli_given(&c, "against") || cli_given(&c, "save-features")) {
        fprintf(stderr, "clgan eval: --against and --save-features go with --images DIR\n");
        return CLI_USAGE;
    }
    char path[1400];
    clgan_run_config run;
    if ((rc = cli_checkpoint_config(&c, NULL, path, sizeof path, &run)) != CLI_OK) return rc;
    bool toy = run.gan.model.kind == CLGAN_MODEL_TOY;
    if (!n) n = toy ? 2500 : 10000;
    /* the feature network: Inception where asked, or by default for RGB data with its weights installed */
    const char *features = cli_get(&c, "features");
    if (features && strcmp(features, "inception") != 0 && strcmp(features, "classifier") != 0) {
        fprintf(stderr, "clgan eval: --features %s: expected inception or classifier\n", features);
        return CLI_USAGE;
    }
    bool inception = features ? strcmp(features, "inception") == 0
                              : clgan_default_feature_net(&run.gan.model, named_weights) == CLGAN_FEATURES_INCEPTION;
    if (toy && inception) {
        fprintf(stderr, "clgan eval: --features inception: %s is 2-D data, measured by mode coverage\n", run.dataset);
        return CLI_USAGE;
    }
    char weights[1400] = "";
    if (inception && (st = clgan_inception_find(named_weights, "--inception", weights, sizeof weights)) != CLGAN_OK)
        return cli_fail(st);
    char clf_path[1400] = "";
    clgan_clf_info info;
    if (toy && cli_given(&c, "classifier")) {
        fprintf(stderr, "clgan eval: --classifier: %s is 2-D data, measured by mode coverage without a classifier\n",
                run.dataset);
        return CLI_USAGE;
    }
    /* the classifier is checked before the device is opened: a missing or
     * wrong one fails fast */
    if (!toy && !inception &&
        (st = clgan_clf_find(cli_given(&c, "classifier") ? cli_get(&c, "classifier") : NULL, "--classifier", run.dataset, run.data_path, &run.gan.model,
                             clf_path, sizeof clf_path, &info)) != CLGAN_OK)
        return cli_fail(st);
    clgan_device *d = NULL;
    rc = cli_open_device(&c, &d);
    if (rc != CLI_OK || !d) return rc;
    clgan_gan *gan = NULL;
    st = cli_open_gan(&c, path, &run, d, &gan);
    if (st != CLGAN_OK) {
        clgan_gan_free(gan);
        clgan_device_close(d);
        return cli_fail(st);
    }
    rc = toy         ? eval_points(&c, &run, gan, n, (uint64_t)seed)
         : inception ? eval_inception(&c, &run, gan, d, weights, n, real_limit, (uint64_t)seed)
                     : eval_images(&c, &run, gan, d, clf_path, n, real_limit, (uint64_t)seed);
    clgan_gan_free(gan);
    clgan_device_close(d);
    return rc;
}
