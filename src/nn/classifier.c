/* The image classifier behind the classifier-based metrics (`clgan eval`):
 * a small CNN whose 128-d penultimate layer gives the features of the
 * Fréchet distance and whose softmax gives the class probabilities of the
 * inception score ("GANs Trained by a Two Time-Scale Update Rule Converge to
 * a Local Nash Equilibrium", 2017, defines the distance on Inception
 * features; "Improved Techniques for Training GANs", 2016, the score; here
 * both use a network trained on the generator's own data set, as for MNIST
 * in "Are GANs Created Equal? A Large-Scale Study", 2018).
 *
 * x (N, C, S, S) in [-1, 1]:
 *   conv1   5x5 stride 2, C -> 32, BatchNorm, ReLU
 *   convK   3x3 stride 2, channels doubled up to 64, BatchNorm, ReLU, while the side is above 8
 *           (28 -> 14 -> 7; 32 -> 16 -> 8; 64 -> 32 -> 16 -> 8)
 *   fc      linear to 128 (no bias), BatchNorm, ReLU          = the features
 *   out     linear to `classes`                                = the logits
 * About 1.5 M multiply-adds and 9,500 activations per 28x28 image. The
 * first layer already halves the side: on a CPU device the element-wise
 * work of BatchNorm on full-resolution maps costs as much as the
 * convolutions, and a stride-1 first layer (16 channels at 28x28, then two
 * stride-2 layers) made a training step about 1.8 times slower on PoCL.
 * Two epochs reach about 91% on Fashion-MNIST's test set. */
#include "clgan/nn.h"

#include <stdio.h>

/* side after a 3x3 convolution with padding 1 and stride 2 */
static int halved(int s) { return (s - 1) / 2 + 1; }

clgan_status clgan_classifier_check(const clgan_classifier_config *m) {
    if (m->channels != 1 && m->channels != 3)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: %d image channels, expected 1 or 3", m->channels);
    if (m->image_size < 4 || m->image_size > 1024)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: image size %d, expected 4 to 1024", m->image_size);
    if (m->classes < 2 || m->classes > 100000)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "classifier: %d classes, expected 2 to 100000", m->classes);
    return CLGAN_OK;
}

clgan_node clgan_classifier(clgan_nn *c, const clgan_classifier_config *m, clgan_node x, clgan_node *features) {
    clgan_graph *g = c->g;
    if (features) *features = -1;
    if (clgan_graph_status(g) != CLGAN_OK || x < 0) return -1;
    clgan_status st = clgan_classifier_check(m);
    if (st != CLGAN_OK) {
        clgan_graph_record_error(g, st);
        return -1;
    }
    int side = m->image_size, ch = 32, stride = side > 8 ? 2 : 1;
    int h = clgan_relu(g, clgan_nn_batchnorm(c, "bn1", clgan_nn_conv2d(c, "conv1", x, ch, 5, stride, 2, false)));
    side = (side - 1) / stride + 1;
    char conv[16], bn[16];
    for (int k = 2; side > 8; k++) {
        if (ch < 64) ch *= 2;
        snprintf(conv, sizeof conv, "conv%d", k);
        snprintf(bn, sizeof bn, "bn%d", k);
        h = clgan_relu(g, clgan_nn_batchnorm(c, bn, clgan_nn_conv2d(c, conv, h, ch, 3, 2, 1, false)));
        side = halved(side);
    }
    int f = clgan_relu(g, clgan_nn_batchnorm(c, "bn_fc", clgan_nn_linear(c, "fc", h, CLGAN_CLASSIFIER_FEATURES, false)));
    if (features) *features = f;
    return clgan_nn_linear(c, "out", f, m->classes, true);
}
