/* clgan eval: metrics (mode coverage on the 2-D mixtures; FID, inception
 * score, KID and k-NN precision and recall of feature sets), the Inception-v3
 * features, the evaluation classifier, and eval on an image generator.
 * Sources: src/eval/. */
#ifndef CLGAN_EVAL_H
#define CLGAN_EVAL_H

#include "clgan/train.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

/* ---- metrics ---- */
typedef struct {
    int modes_covered, modes_total;
    double high_quality_fraction; /* samples within 3 sigma of their nearest mode */
    double reverse_kl;            /* KL(generated mode histogram || uniform), over high-quality samples */
    int counts[64];               /* high-quality samples per mode */
} clgan_mode_stats;
/* The PacGAN/VEEGAN protocol for the synthetic mixtures ("ring8", "grid25"):
 * points (n, 2). */
clgan_status clgan_mode_coverage(const char *kind, const float *points, int n, clgan_mode_stats *out);

/* ---- the Inception-v3 FID features (src/eval/inception.c) ---- */
#define CLGAN_INCEPTION_FILE "pt_inception-2015-12-05.safetensors"
typedef struct clgan_inception clgan_inception;
/* Where datasets/fetch.sh inception puts the weights: $CLGAN_DATA_DIR/inception/,
 * else under $XDG_DATA_HOME/clgan/datasets or ~/.local/share/clgan/datasets. */
clgan_status clgan_inception_default_path(char *out, size_t cap);
/* The weights' file: named (NULL or "" for the default place) and readable;
 * else CLGAN_ERR_NOT_FOUND naming it, how to install it and the option
 * (e.g. "--inception") that names another file. */
clgan_status clgan_inception_find(const char *named, const char *option, char *out, size_t cap);
/* The feature network the image metrics of model m use when none is asked
 * for: Inception for RGB images when its weights (named, or at the default
 * place) are readable, else the data set's classifier. */
clgan_feature_net clgan_default_feature_net(const clgan_model_config *m, const char *named);
/* The network of a weights file (tools/inception_convert.py) on d, running
 * `batch` images at a time; the file's layer table and every tensor's name
 * and shape are checked before anything is allocated on d. */
clgan_status clgan_inception_open(const char *path, clgan_device *d, int batch, clgan_inception **out);
/* features (n, 2048) of images x (n, 3, 299, 299) in [-1, 1) */
clgan_status clgan_inception_features(clgan_inception *m, const float *x, int n, float *features);
/* The protocol of StyleGAN2-ADA's metrics (fid50k_full; the TensorFlow FID
 * graph): each image (c = 1 or 3, values in [-1, 1]) quantised to the 8-bit
 * levels a PNG of it holds, resized to 299 x 299 bilinearly as TensorFlow
 * 1's resize_bilinear does it (output cell o samples the input at o * in /
 * 299, edges clamped; StyleGAN2-ADA reproduces it with grid_sample), gray
 * repeated to RGB, and mapped to the network's input (p - 128) / 128.
 * out is (n, 3, 299, 299). */
void clgan_inception_prepare(const float *x, int n, int c, int h, int w, float *out);
/* features (n, 2048) of images x (n, c, h, w) in [-1, 1], prepared as above batch by batch */
clgan_status clgan_inception_features_of(clgan_inception *m, const float *x, int n, int c, int h, int w,
                                         float *features);
/* The same, kept in cache_dir/inception-features/ under a SHA-256 of the
 * protocol, the weights' tensors and the images themselves, so measuring
 * against the same real images again reads their features back (*hit); a
 * missing or foreign entry is computed and replaced. cache_dir NULL or "":
 * no cache. A cache that cannot be written is a warning, never an error. */
clgan_status clgan_inception_cached_features(clgan_inception *m, const char *cache_dir, const float *x, int n, int c,
                                             int h, int w, float *features, bool *hit);
void clgan_inception_free(clgan_inception *m);

/* ---- classifier-based metrics (src/eval/fid.c) ---- */
/* The mean (dim) and the unbiased covariance (dim x dim, row-major) of n >= 2
 * feature rows x (n, dim), accumulated in double. */
clgan_status clgan_feature_stats(const float *x, int n, int dim, double *mean, double *cov);
/* The Fréchet distance between N(mu1, s1) and N(mu2, s2) ("GANs Trained by a
 * Two Time-Scale Update Rule Converge to a Local Nash Equilibrium", 2017):
 * ||mu1 - mu2||^2 + Tr(s1) + Tr(s2) - 2 Tr(sqrt(s1 s2)), with the trace of
 * the square root from two symmetric eigendecompositions (LAPACK dsyev). */
clgan_status clgan_frechet_distance(int dim, const double *mu1, const double *s1, const double *mu2, const double *s2,
                                    double *out);
/* The same between the Gaussians fitted to two feature sets (n, dim). */
clgan_status clgan_fid_features(const float *a, int na, const float *b, int nb, int dim, double *out);

/* exp(E_x KL(p(y|x) || p(y))) over n rows of class probabilities (n, k), p(y)
 * their mean ("Improved Techniques for Training GANs", 2016), over the whole
 * set (no splits). Rows must be finite, >= 0 and sum to 1 within 1e-3. */
clgan_status clgan_inception_score(const float *probs, int n, int k, double *out);
/* Row-wise softmax of logits (n, k) into probs (n, k), in double internally;
 * probs may be logits (in place). */
void clgan_softmax_rows(const float *logits, int n, int k, float *probs);

/* ---- kernel inception distance, k-NN precision and recall (src/eval/kid_pr.c) ----
 * From two feature sets (float rows (n, dim), any features: Inception's,
 * the classifier's), computed in double. NaN or Inf in a set is
 * CLGAN_ERR_NUMERIC naming the set, the row and the feature. */
#define CLGAN_KID_SUBSETS 100      /* StyleGAN2-ADA's and clean-fid's num_subsets */
#define CLGAN_KID_SUBSET_SIZE 1000 /* their max_subset_size */
#define CLGAN_PR_K 3               /* Kynkäänniemi et al.'s neighbourhood size */
/* The kernel inception distance ("Demystifying MMD GANs", Bińkowski et al.
 * 2018) between a (na, dim) and b (nb, dim): the mean over `subsets` random
 * subsets (0: CLGAN_KID_SUBSETS) of m = min(subset_size, na, nb) rows of
 * each set (subset_size 0: CLGAN_KID_SUBSET_SIZE; it is a maximum, as the
 * references' max_subset_size), and the standard deviation of the subsets'
 * values (population, ddof 0: Bińkowski et al.'s mmd2s.std()). A subset's
 * value is the unbiased estimator of the squared MMD with the kernel
 * k(x, y) = (x.y / dim + 1)^3, the one StyleGAN2-ADA's
 * metrics/kernel_inception_distance.py, clean-fid's kernel_distance and
 * Bińkowski et al.'s compute_scores.py (mmd_est 'unbiased') compute:
 *   sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
 *     - 2 sum_{i, j} k(x_i, y_j) / m^2
 * (Gretton et al. 2012, eq. 3; the cross term keeps its i = j terms, unlike
 * the U-statistic variant). It can be negative: for two identical sets of m
 * rows it is -(2 / m) (mean k(x_i, x_i) - mean_{i != j} k(x_i, x_j)) <= 0.
 * The subsets, drawn without replacement, come from one clgan_rng seeded
 * with seed: for each subset in turn, a's rows are the first m entries of a
 * partial Fisher-Yates shuffle of 0 .. na - 1 (for i = 0 .. m - 1: swap
 * entries i and i + clgan_rng_below(na - i)), starting from the identity
 * each time, then b's the same way; the same seed gives the same result.
 * m >= 2 is required (else CLGAN_ERR_INVALID_ARG). Memory: about
 * 2 m dim + 512 m doubles; time: 2 m^2 dim multiply-adds per subset (dsyrk
 * and dgemm; the defaults at dim 2048: about 15-18 s on 2 cores). mean or
 * std may be NULL. */
clgan_status clgan_kid(const float *a, int na, const float *b, int nb, int dim, int subsets, int subset_size,
                       uint64_t seed, double *mean, double *std);
/* The same over given subsets: row s of ia (subsets, m) holds the indices
 * of subset s in a, of ib (subsets, m) in b, each row without repeats (else
 * CLGAN_ERR_INVALID_ARG), m >= 2. values (subsets), mean, std may be NULL. */
clgan_status clgan_kid_subsets(const float *a, int na, const float *b, int nb, int dim, int subsets, int m,
                               const int32_t *ia, const int32_t *ib, double *values, double *mean, double *std);
/* Improved precision and recall ("Improved Precision and Recall Metric for
 * Assessing Generative Models", Kynkäänniemi et al. 2019; k = CLGAN_PR_K in
 * the paper): each point of a set gets the ball of radius its Euclidean
 * distance to its k-th nearest other point of the same set (itself left out
 * by index; a duplicate of it counts, at distance 0); precision is the
 * fraction of the ng generated rows within the ball of at least one real
 * row, recall the fraction of the nr real rows within the ball of at least
 * one generated row, a point at exactly a ball's radius counting as inside
 * (<=, as the reference code compares). Distances are compared squared,
 * |a|^2 + |b|^2 - 2 a.b in double (OpenBLAS dgemm in blocks; clamped at 0),
 * so ties are exact whenever those are (integer features, say). Needs
 * nr > k and ng > k (else CLGAN_ERR_INVALID_ARG). Memory: about
 * 1536 dim doubles of panels and blocks of 512 rows of distances to every
 * row of the larger set (fewer rows past 16384, so that a block stays
 * within 64 MB); time: (nr^2 + ng^2 + nr ng) dim multiply-adds in dgemm
 * (10,000 x 10,000 at dim 2048: about 26 s on 2 cores, 80 MB). */
clgan_status clgan_precision_recall(const float *real, int nr, const float *gen, int ng, int dim, int k,
                                    double *precision, double *recall);
/* The same with what it is made of, each output NULL when not wanted: the
 * radii (distances, not squared) of the real (nr) and generated (ng) balls,
 * and per point 1/0 whether a generated point lies in a real ball (ng) and
 * a real point in a generated ball (nr). */
clgan_status clgan_precision_recall_points(const float *real, int nr, const float *gen, int ng, int dim, int k,
                                           double *real_radius, double *gen_radius, uint8_t *gen_in_real,
                                           uint8_t *real_in_gen, double *precision, double *recall);

/* ---- the evaluation classifier (src/eval/classifier.c) ---- */
typedef struct clgan_clf clgan_clf;
typedef struct {
    clgan_classifier_config model;
    int batch;             /* training batch (0: evaluation only) */
    int eval_batch;        /* images per evaluation-mode run */
    uint64_t seed;         /* initial parameters */
    clgan_opt_config opt;  /* when batch > 0 */
} clgan_clf_config;
/* What a classifier file records besides its weights. */
typedef struct {
    char dataset[32];     /* the data set it was trained on ("mnist", ...) */
    int channels, image_size, classes, features;
    double test_accuracy; /* in [0, 1] */
    char test_set[160];   /* what the accuracy was measured on */
    long train_images, epochs;
} clgan_clf_info;

clgan_status clgan_clf_new(const clgan_clf_config *cfg, clgan_device *d, clgan_clf **out);
void clgan_clf_free(clgan_clf *c);
const clgan_classifier_config *clgan_clf_model(const clgan_clf *c);
/* One Adam/SGD step of softmax cross-entropy on a batch x (batch, C, S, S)
 * in [-1, 1] with labels y; loss and the number classified right come from
 * the forward pass before the update. */
clgan_status clgan_clf_train_step(clgan_clf *c, const float *x, const int32_t *y, float lr_scale, float *loss,
                                  int *correct);
/* Evaluation mode (running BatchNorm statistics) on n >= 1 images, eval_batch
 * at a time: features (n, CLGAN_CLASSIFIER_FEATURES) and logits (n, classes),
 * either may be NULL. */
clgan_status clgan_clf_predict(clgan_clf *c, const float *x, int n, float *features, float *logits);
/* The fraction of n images whose arg-max class is their label. */
clgan_status clgan_clf_accuracy(clgan_clf *c, const float *x, const int32_t *y, int n, double *accuracy);
/* A safetensors file: every parameter and running statistic by name, and
 * __metadata__ format "clgan-classifier", format_version, clgan_version and
 * the fields of info (the model's own fields are taken from c). Atomic. */
clgan_status clgan_clf_save(const clgan_clf *c, const clgan_clf_info *info, const char *path);
/* Where `clgan eval` looks for a classifier when none is named, and where
 * `clgan train-classifier` writes one by default:
 * $XDG_DATA_HOME/clgan/classifiers/<dataset>-<C>x<S>x<S>.safetensors
 * ($HOME/.local/share when XDG_DATA_HOME is unset), e.g.
 * mnist-1x28x28.safetensors. */
clgan_status clgan_clf_default_path(const char *dataset, int channels, int image_size, char *out, size_t cap);
/* Reads and checks the metadata only. */
clgan_status clgan_clf_read_info(const char *path, clgan_clf_info *info);
/* The classifier for the images of model m trained on dataset (read from
 * data_path, "" for its standard place): the file named (NULL for
 * clgan_clf_default_path), found, readable, and made for the same data set,
 * image size and channels; option is the flag that names another file. The
 * generic loaders (idx, folder) may hold any named data set, so a named
 * classifier is taken across that difference with a warning. Each refusal
 * names the file and the clgan train-classifier command that makes a
 * matching one. */
clgan_status clgan_clf_find(const char *named, const char *option, const char *dataset, const char *data_path,
                            const clgan_model_config *m, char *out, size_t cap, clgan_clf_info *info);
/* Builds an evaluation-only classifier from a file; every tensor is checked
 * for presence, dtype and shape. info may be NULL. */
clgan_status clgan_clf_load(const char *path, clgan_device *d, int eval_batch, clgan_clf **out, clgan_clf_info *info);
/* Shifts each of n images (c, h, w) by a random whole number of pixels in
 * [-max_shift, max_shift] on each axis, filling with the background -1
 * (training augmentation). */
clgan_status clgan_images_random_shift(float *x, int n, int c, int h, int w, int max_shift, clgan_rng *rng);

/* ---- clgan eval on an image generator (src/eval/evaluate.c) ---- */
typedef struct {
    int n_generated, n_real;
    double fid;                  /* generated vs real features */
    double inception_score;      /* of the generated images */
    double real_inception_score; /* of the real images, for scale */
    double real_accuracy;        /* of the classifier on the real images (when labelled, else -1) */
    int classes;
    long *class_histogram;       /* classes counts of arg-max classes of the generated images (owned) */
} clgan_image_eval;
/* Generates n_gen images (noise from Philox(seed); a conditional model gets
 * labels i mod classes) in batches, and compares their classifier features
 * with those of the n_real real images (labels may be NULL). The classifier
 * must fit the generator's image size and channels. */
clgan_status clgan_eval_images(clgan_gan *gan, clgan_clf *clf, const float *real, const int32_t *real_labels,
                               int n_real, int n_gen, uint64_t seed, clgan_image_eval *out);
void clgan_image_eval_free(clgan_image_eval *e);
/* The standard metrics of a generated and a real feature set. */
typedef struct {
    double fid;                 /* Fréchet distance */
    double kid, kid_std;        /* kernel inception distance: mean and std over subsets (clgan_kid's defaults) */
    double precision, recall;   /* k-NN precision and recall, k = CLGAN_PR_K; -1 with k or fewer samples */
} clgan_feature_eval;
/* FID, KID (subsets from seed) and precision/recall of gen (n_gen, dim) against real (n_real, dim). */
clgan_status clgan_feature_metrics(const float *gen, int n_gen, const float *real, int n_real, int dim, uint64_t seed,
                                   clgan_feature_eval *out);
/* The metrics as keys fid, kid, kid_std, precision, recall of the JSON
 * object b is writing (precision and recall null when undefined). */
void clgan_feature_eval_json(clgan_jbuf *b, const clgan_feature_eval *m);
/* An evaluation of generated images against real ones through a feature
 * network (net, from the file at path: Inception-v3 weights or a classifier
 * made for the model's image size and channels) on d: the features of the
 * n_real >= 2 real images (n_real, m's image shape) are computed
 * once, here (Inception's kept in cache_dir: clgan_inception_cached_features). */
typedef struct clgan_evaluator clgan_evaluator;
clgan_status clgan_evaluator_new(clgan_feature_net net, const char *path, clgan_device *d, const clgan_model_config *m,
                                 const float *real, int n_real, const char *cache_dir, clgan_evaluator **out);
/* FID, KID and precision/recall (clgan_feature_metrics) of the features of
 * n_gen >= 2 images that gan (of the evaluator's model) generates, with the
 * noise and labels of clgan_eval_images, against the real images'. */
clgan_status clgan_evaluator_run(clgan_evaluator *e, clgan_gan *gan, int n_gen, uint64_t seed, clgan_feature_eval *out);
void clgan_evaluator_free(clgan_evaluator *e);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
