/* clgan graphs: a training step is built once as a graph of ops, its
 * gradients are appended by clgan_backward (as more ops of the same kinds, so
 * a gradient can itself be differentiated), buffers are planned once by
 * clgan_graph_compile, and clgan_graph_run executes it any number of times
 * without allocating.
 *
 * Builders return a node id (>= 0). A builder given bad shapes records the
 * error in the graph and returns -1; later builders pass -1 along, and
 * clgan_graph_compile reports the first error. So model code can build a
 * whole graph and check once. */
#ifndef CLGAN_GRAPH_H
#define CLGAN_GRAPH_H

#include "clgan/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

typedef struct clgan_graph clgan_graph;
typedef struct clgan_params clgan_params;

/* ---- parameter blocks ----
 * All parameters of a model live in one device buffer (and their gradients
 * in a second of the same layout), so an optimizer, a checkpoint or a
 * gradient norm sees one flat array. Entries are declared by name (getting
 * an existing name returns it, so two graphs can share a model), then the
 * block is allocated once. Non-trainable entries (BatchNorm running
 * statistics) live in the same block with no gradient. */
/* the largest entry, and the largest block, in floats (4 GiB and 8 GiB) */
#define CLGAN_PARAMS_MAX_ENTRY ((size_t)1 << 30)
#define CLGAN_PARAMS_MAX_BLOCK ((size_t)1 << 31)
clgan_params *clgan_params_new(const char *name);
void clgan_params_free(clgan_params *p);
/* initial values: zeros, ones, normal(0, std), uniform(-std, std), normal(1, std) */
enum { CLGAN_INIT_ZEROS, CLGAN_INIT_ONES, CLGAN_INIT_NORMAL, CLGAN_INIT_UNIFORM, CLGAN_INIT_NORMAL_ONE };
int clgan_params_declare(clgan_params *p, const char *name, int ndim, const int *shape, int init, float std,
                         bool trainable);
int clgan_params_find(const clgan_params *p, const char *name);
int clgan_params_count(const clgan_params *p);
const char *clgan_params_name(const clgan_params *p, int i);
void clgan_params_shape(const clgan_params *p, int i, int *ndim, int *shape);
size_t clgan_params_offset(const clgan_params *p, int i); /* in floats */
bool clgan_params_trainable(const clgan_params *p, int i);
size_t clgan_params_total(const clgan_params *p);        /* floats */
/* Allocates value and gradient buffers on d and initialises the values from
 * Philox(seed): the same seed gives the same parameters on every device. */
clgan_status clgan_params_alloc(clgan_params *p, clgan_device *d, uint64_t seed);
clgan_buffer *clgan_params_values(const clgan_params *p);
clgan_buffer *clgan_params_grads(const clgan_params *p);
clgan_status clgan_params_read(const clgan_params *p, int i, float *host);
clgan_status clgan_params_write(clgan_params *p, int i, const float *host);

/* ---- graphs ---- */
typedef int clgan_node;

clgan_graph *clgan_graph_new(void);
void clgan_graph_free(clgan_graph *g);
clgan_status clgan_graph_status(const clgan_graph *g);
/* Records st (with clgan_last_error()'s message) as the graph's error, for
 * builders above this layer; the first error is kept. */
void clgan_graph_record_error(clgan_graph *g, clgan_status st);
int clgan_graph_size(const clgan_graph *g);
void clgan_node_shape(const clgan_graph *g, clgan_node n, int *ndim, int *shape);
size_t clgan_node_numel(const clgan_graph *g, clgan_node n);
const char *clgan_node_op_name(const clgan_graph *g, clgan_node n);
void clgan_node_set_name(clgan_graph *g, clgan_node n, const char *name);
const char *clgan_node_name(const clgan_graph *g, clgan_node n);

/* Leaves. An input is written from the host before a run (a data batch,
 * labels as floats). A parameter refers to entry i of a block. */
clgan_node clgan_input(clgan_graph *g, const char *name, int ndim, const int *shape);
clgan_node clgan_param(clgan_graph *g, clgan_params *p, int index);
clgan_node clgan_fill(clgan_graph *g, int ndim, const int *shape, float value);
/* Philox noise, a fresh draw on every run: element i of run `step` is element
 * i of stream (seed, offset = step * 65536 + stream). */
/* Random nodes made after this draw, for sample i along their first axis,
 * what sample first + i of a larger batch would: the part of the batch one
 * of several data-parallel processes computes (0, the default: the whole) */
void clgan_graph_set_sample_offset(clgan_graph *g, int first);
/* BatchNorm nodes made after this take their training statistics over the
 * whole batch of `total` samples, of which this process holds `count`:
 * their sums go through clgan_allreduce (--sync-bn) */
void clgan_graph_set_sync_stats(clgan_graph *g, int count, int total);
/* x summed over the data-parallel processes (include/clgan/dist.h; alone: x
 * itself); share: this process's part of the batch, as a fraction, for the
 * gradient (each process's gradient weighted by its share) */
clgan_node clgan_allreduce(clgan_graph *g, clgan_node x, float share);
clgan_node clgan_randn(clgan_graph *g, int ndim, const int *shape, uint64_t seed, int stream);
clgan_node clgan_rand(clgan_graph *g, int ndim, const int *shape, uint64_t seed, int stream);

/* Elementwise. Binary ops take two tensors of the same shape, or b a scalar
 * (1 element), or b of shape equal to a run of a's dimensions starting at
 * `axis` (bias over features: axis 1 of (N, F); per-channel: axis 1 of
 * (N, C, H, W); per-sample: axis 0). clgan_add etc. infer the axis: equal
 * shapes, then scalar, then the leftmost axis > 0 where b fits, then 0. */
clgan_node clgan_add(clgan_graph *g, clgan_node a, clgan_node b);
clgan_node clgan_sub(clgan_graph *g, clgan_node a, clgan_node b);
clgan_node clgan_mul(clgan_graph *g, clgan_node a, clgan_node b);
clgan_node clgan_div(clgan_graph *g, clgan_node a, clgan_node b);
clgan_node clgan_add_axis(clgan_graph *g, clgan_node a, clgan_node b, int axis);
clgan_node clgan_mul_axis(clgan_graph *g, clgan_node a, clgan_node b, int axis);
/* numerically stable binary cross-entropy on logits x against targets t:
 * max(x, 0) - x t + log(1 + exp(-|x|)), elementwise */
clgan_node clgan_bce_logits(clgan_graph *g, clgan_node x, clgan_node t);
clgan_node clgan_affine(clgan_graph *g, clgan_node x, float a, float b); /* a x + b */
clgan_node clgan_scale(clgan_graph *g, clgan_node x, float a);
clgan_node clgan_square(clgan_graph *g, clgan_node x);
clgan_node clgan_sqrt(clgan_graph *g, clgan_node x);
clgan_node clgan_exp(clgan_graph *g, clgan_node x);
clgan_node clgan_ln(clgan_graph *g, clgan_node x); /* natural log */
clgan_node clgan_abs(clgan_graph *g, clgan_node x);
clgan_node clgan_relu(clgan_graph *g, clgan_node x);
clgan_node clgan_leaky_relu(clgan_graph *g, clgan_node x, float slope);
clgan_node clgan_tanh(clgan_graph *g, clgan_node x);
clgan_node clgan_sigmoid(clgan_graph *g, clgan_node x);
clgan_node clgan_softplus(clgan_graph *g, clgan_node x);
clgan_node clgan_clamp(clgan_graph *g, clgan_node x, float lo, float hi);

/* Reductions. clgan_sum_axes sums over every axis outside [axis, axis+keep)
 * and returns the kept dimensions: (N, C, H, W) with axis 1, keep 1 gives
 * (C); (N, F) with axis 0, keep 1 gives (N). */
clgan_node clgan_sum(clgan_graph *g, clgan_node x);  /* to shape (1) */
clgan_node clgan_mean(clgan_graph *g, clgan_node x); /* to shape (1) */
clgan_node clgan_sum_axes(clgan_graph *g, clgan_node x, int axis, int keep);
clgan_node clgan_mean_axes(clgan_graph *g, clgan_node x, int axis, int keep);
/* x (N, K) -> (N): log sum_k exp x[n, k], without overflow (softmax
 * cross-entropy is logsumexp(x) - x[label]). */
clgan_node clgan_logsumexp(clgan_graph *g, clgan_node x);
/* The inverse: b repeated over the axes of `shape` outside [axis, axis+b.ndim). */
clgan_node clgan_expand(clgan_graph *g, clgan_node b, int ndim, const int *shape, int axis);

/* Linear algebra and convolution. */
clgan_node clgan_matmul(clgan_graph *g, clgan_node a, clgan_node b, bool trans_a, bool trans_b);
/* x (N, C, H, W), w (K, C, R, S) -> (N, K, P, Q) */
clgan_node clgan_conv2d(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad);
/* The same with its own padding on each axis: pad_h rows above and below, pad_w columns each side. */
clgan_node clgan_conv2d_pad(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad_h, int pad_w);
/* x (N, C, H, W), w (C, K, R, S) -> (N, K, (H-1)s - 2p + R + op, ...) */
clgan_node clgan_conv_transpose2d(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad, int out_pad);
/* Both with the activations channel-major when channel_major: x (C, N, H, W)
 * -> (K, N, P, Q). Each channel's pixels of the whole batch are then one row
 * of the matrix the convolution's GEMM reads or writes, so no layout pass
 * runs between them (the built-in DCGANs keep this layout inside the
 * networks and convert at their edges). */
clgan_node clgan_conv2d_layout(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad_h, int pad_w,
                               bool channel_major);
clgan_node clgan_conv_transpose2d_layout(clgan_graph *g, clgan_node x, clgan_node w, int stride, int pad, int out_pad,
                                         bool channel_major);

/* Pooling over k x k windows (PyTorch's max_pool2d and avg_pool2d with
 * ceil_mode=False): x (N, C, H, W) -> (N, C, (H + 2 pad - k)/stride + 1,
 * (W + 2 pad - k)/stride + 1), pad from 0 to k/2. Max: padded cells never
 * win; a window's max is its first maximal element in row-major order (a
 * NaN gives NaN). Average: the sum of the taps inside x divided by k*k
 * (count_include_pad) or by their number. */
clgan_node clgan_max_pool2d(clgan_graph *g, clgan_node x, int k, int stride, int pad);
clgan_node clgan_avg_pool2d(clgan_graph *g, clgan_node x, int k, int stride, int pad, bool count_include_pad);

/* Shape and layout. */
clgan_node clgan_reshape(clgan_graph *g, clgan_node x, int ndim, const int *shape);
/* y's axis k is x's axis perm[k]; a permutation that moves only axes of size
 * 1 is a reshape (no copy), and one that undoes x's own permutation gives
 * x's input */
clgan_node clgan_permute(clgan_graph *g, clgan_node x, const int *perm);
clgan_node clgan_concat(clgan_graph *g, clgan_node a, clgan_node b, int axis);
clgan_node clgan_slice(clgan_graph *g, clgan_node x, int axis, int start, int len);
/* DiffAugment's translation and cutout ("Differentiable Augmentation for Data-Efficient GAN Training",
 * 2020), linear in x (N, C, H, W), placed per sample by uniforms u (N, 2) in [0, 1) (no gradient to u):
 * shift2d y[i, j] = x[i + t0, j + t1], zero outside, with t = (int)(u (2 max + 1)) - max per axis
 * (adjoint: -t, its gradient); cutout zeroes a rows x cols box starting at (int)(u (H + 1 - rows % 2))
 * - rows / 2 (and likewise for the columns), the reference code's placement. */
clgan_node clgan_shift2d(clgan_graph *g, clgan_node x, clgan_node u, int max_rows, int max_cols, bool adjoint);
clgan_node clgan_cutout(clgan_graph *g, clgan_node x, clgan_node u, int rows, int cols);
/* table (K, D), labels (N) holding class ids as floats -> (N, D) */
clgan_node clgan_embedding(clgan_graph *g, clgan_node table, clgan_node labels);
/* labels (N) -> (N, K) */
clgan_node clgan_one_hot(clgan_graph *g, clgan_node labels, int classes);
/* y = a copy of x (gives a value its own buffer) */
clgan_node clgan_copy(clgan_graph *g, clgan_node x);
/* buffer := value, in place (it always runs, in node order); the result is
 * a copy of value taken then (a later write to the buffer does not reach
 * it, as PyTorch's clone) and carries no gradient (a stop-gradient): the
 * power iteration of spectral normalisation keeps its vectors this way */
clgan_node clgan_assign(clgan_graph *g, clgan_node buffer, clgan_node value);

/* Normalisation, built from the ops above so that gradients of gradients
 * come for free. x (N, F) or (N, C, H, W). Training mode uses batch
 * statistics and updates the running ones (momentum m, the fraction of the
 * new batch; 0 leaves them alone); evaluation uses the running statistics. */
clgan_node clgan_batchnorm(clgan_graph *g, clgan_node x, clgan_node gamma, clgan_node beta, clgan_node run_mean,
                           clgan_node run_var, bool training, float momentum, float eps);
/* The same with the features on `axis`: 1 as above, or 0 for channel-major
 * (F, N) or (C, N, H, W). */
clgan_node clgan_batchnorm_axis(clgan_graph *g, clgan_node x, int axis, clgan_node gamma, clgan_node beta,
                                clgan_node run_mean, clgan_node run_var, bool training, float momentum, float eps);
/* Training-mode BatchNorm of channel-major x (C, N, H, W) holding `batches`
 * equal batches side by side along N (e.g. real and generated images in one
 * discriminator call): each batch normalised with its own statistics and
 * the running ones updated once per batch, in order, as that many calls of
 * clgan_batchnorm_axis would (to rounding). */
clgan_node clgan_batchnorm_batches(clgan_graph *g, clgan_node x, int batches, clgan_node gamma, clgan_node beta,
                                   clgan_node run_mean, clgan_node run_var, float momentum, float eps);
/* W / sigma(W) for a weight w (out, ...) seen as (out, fan_in), as torch.nn.utils.spectral_norm
 * (eps 1e-12): with `update` (training), one power iteration first, v = normalize(W^T u),
 * u = normalize(W v), each assigned to its buffer u (out) / v (fan_in) (clgan_assign: no gradient
 * through them, and the backward reads this call's vectors); sigma = u^T W v, through which the
 * gradient reaches W ("Spectral Normalization for GANs", 2018, and its reference code).
 * Without `update`, sigma comes from the stored u and v. */
clgan_node clgan_spectral_norm(clgan_graph *g, clgan_node w, clgan_node u, clgan_node v, bool update);
/* per sample over all of (F) or (C, H, W) */
clgan_node clgan_layernorm(clgan_graph *g, clgan_node x, clgan_node gamma, clgan_node beta, float eps);

/* Appends the gradient of `loss` (one element) with respect to each of
 * wrt[0..n) and stores the gradient nodes in grads[] (a zero fill where
 * loss does not depend on it). May be called again on a graph that already
 * holds gradients. */
clgan_status clgan_backward(clgan_graph *g, clgan_node loss, int n, const clgan_node *wrt, clgan_node *grads);
/* The gradient of loss for every trainable parameter of block p used in g,
 * each written into p's gradient buffer by the run. */
clgan_status clgan_backward_params(clgan_graph *g, clgan_node loss, clgan_params *p);

/* Marks a node whose value is read after a run (its buffer is not reused). */
void clgan_graph_keep(clgan_graph *g, clgan_node n);

/* The arena a compile on d would allocate, in bytes, planned before any
 * allocation (so a configuration's memory is known first). d decides only
 * whether the graph is fused (OpenCL devices); NULL plans it unfused. */
clgan_status clgan_graph_plan_bytes(clgan_graph *g, const clgan_device *d, uint64_t *bytes);
/* Plans every buffer once and allocates them on d. */
clgan_status clgan_graph_compile(clgan_graph *g, clgan_device *d);
uint64_t clgan_graph_arena_bytes(const clgan_graph *g);
/* Runs every node in order; `step` selects the noise of clgan_randn/rand. */
clgan_status clgan_graph_run(clgan_graph *g, uint64_t step);
clgan_status clgan_graph_write(clgan_graph *g, clgan_node n, const float *host);
clgan_status clgan_graph_read(const clgan_graph *g, clgan_node n, float *host);
/* Without waiting: host holds the value after the device's next finish. */
clgan_status clgan_graph_read_async(const clgan_graph *g, clgan_node n, float *host);
/* Per-node hook called after each node runs (for `clgan check` and debugging). */
typedef clgan_status (*clgan_node_hook)(const clgan_graph *g, clgan_node n, void *user);
void clgan_graph_set_hook(clgan_graph *g, clgan_node_hook hook, void *user);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
