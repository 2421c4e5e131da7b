/* Export of the generator as an ONNX model (opset 13), the protobuf written
 * here with a small encoder of its own.
 *
 * The graph follows the layer plan (export.h): inputs z (N, z_dim) float
 * and, for a conditional model, labels (N) int64 (Gather on the class
 * embedding, Concat to z); a DCGAN reshapes to (N, F, 1, 1) and runs
 * ConvTranspose / BatchNormalization (inference, eps 1e-5) / Relu, then
 * Tanh; the MLP and toy models run Gemm (transB) / Relu, the MLP's Tanh and
 * Reshape to (N, C, H, W). The output is "images" (or "points" for the toy
 * model); initializers carry the PyTorch export's names (main.N.weight).
 *
 * Field numbers are onnx.proto's (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, TypeProto); repeated scalars
 * are written unpacked, which every protobuf reader accepts. */
#include "train/export.h"

#include "clgan/io.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a protobuf encoder ---- */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    bool failed;
} pb;

static void pb_bytes(pb *b, const void *d, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void pb_varint(pb *b, uint64_t v) {
    unsigned char t[10];
    int k = 0;
    do {
        t[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v) t[k] |= 0x80;
        k++;
    } while (v);
    pb_bytes(b, t, (size_t)k);
}

enum { WT_VARINT = 0, WT_LEN = 2, WT_32 = 5 };
static void pb_tag(pb *b, int field, int wt) { pb_varint(b, (uint64_t)field << 3 | (uint64_t)wt); }
static void pb_int(pb *b, int field, int64_t v) {
    pb_tag(b, field, WT_VARINT);
    pb_varint(b, (uint64_t)v);
}
static void pb_blob(pb *b, int field, const void *d, size_t n) {
    pb_tag(b, field, WT_LEN);
    pb_varint(b, n);
    pb_bytes(b, d, n);
}
static void pb_str(pb *b, int field, const char *s) { pb_blob(b, field, s, strlen(s)); }
static void pb_float(pb *b, int field, float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    unsigned char t[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16), (unsigned char)(u >> 24)};
    pb_tag(b, field, WT_32);
    pb_bytes(b, t, 4);
}
/* appends sub as a length-delimited field and frees it */
static void pb_msg(pb *b, int field, pb *sub) {
    if (sub->failed) b->failed = true;
    pb_blob(b, field, sub->p, sub->n);
    free(sub->p);
    *sub = (pb){0};
}

/* ---- ONNX messages ---- */

enum { T_FLOAT = 1, T_INT64 = 7 };                     /* TensorProto.DataType */
enum { A_FLOAT = 1, A_INT = 2, A_INTS = 7 };           /* AttributeProto.AttributeType */

typedef struct {
    pb graph;
    int nodes;
} onnx;

static void attr_int(pb *node, const char *name, int64_t v) {
    pb a = {0};
    pb_str(&a, 1, name);
    pb_int(&a, 3, v);
    pb_int(&a, 20, A_INT);
    pb_msg(node, 5, &a);
}
static void attr_float(pb *node, const char *name, float v) {
    pb a = {0};
    pb_str(&a, 1, name);
    pb_float(&a, 2, v);
    pb_int(&a, 20, A_FLOAT);
    pb_msg(node, 5, &a);
}
static void attr_ints(pb *node, const char *name, int n, const int64_t *v) {
    pb a = {0};
    pb_str(&a, 1, name);
    for (int i = 0; i < n; i++) pb_int(&a, 8, v[i]);
    pb_int(&a, 20, A_INTS);
    pb_msg(node, 5, &a);
}

/* A node: inputs (NULL-terminated) and one output; attributes by the caller
 * through *node, then node_end. */
static void node_begin(pb *node, const char *op, const char *const *in, const char *out) {
    *node = (pb){0};
    for (int i = 0; in[i]; i++) pb_str(node, 1, in[i]);
    pb_str(node, 2, out);
    pb_str(node, 4, op);
}
static void node_end(onnx *o, pb *node) {
    char name[32];
    snprintf(name, sizeof name, "n%d", o->nodes++);
    pb_str(node, 3, name);
    pb_msg(&o->graph, 1, node);
}

static void initializer(onnx *o, const char *name, int dtype, int nd, const int64_t *dims, const void *data,
                        size_t bytes) {
    pb t = {0};
    for (int d = 0; d < nd; d++) pb_int(&t, 1, dims[d]);
    pb_int(&t, 2, dtype);
    pb_str(&t, 8, name);
    pb_blob(&t, 9, data, bytes); /* raw_data: little-endian, as this machine */
    pb_msg(&o->graph, 5, &t);
}

/* a ValueInfoProto: dims < 0 are the symbolic batch "N" */
static void value_info(pb *g, int field, const char *name, int dtype, int nd, const int64_t *dims) {
    pb shape = {0}, tensor = {0}, type = {0}, vi = {0};
    for (int d = 0; d < nd; d++) {
        pb dim = {0};
        if (dims[d] < 0) pb_str(&dim, 2, "N");
        else pb_int(&dim, 1, dims[d]);
        pb_msg(&shape, 1, &dim);
    }
    pb_int(&tensor, 1, dtype);
    pb_msg(&tensor, 2, &shape);
    pb_msg(&type, 1, &tensor);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &type);
    pb_msg(g, field, &vi);
}

/* the tensor `src.field` of the sampling blocks, as an initializer named `name` */
static clgan_status param_init(onnx *o, clgan_params *const blk[2], const char *src, const char *field,
                               const char *name, float *tmp) {
    char want[96];
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < clgan_params_count(blk[b]); i++) {
            const char *n = clgan_params_name(blk[b], i), *dot = strchr(n, '.');
            snprintf(want, sizeof want, "%s.%s", src, field);
            if (!dot || strcmp(dot + 1, want) != 0) continue;
            int nd, shape[8];
            clgan_params_shape(blk[b], i, &nd, shape);
            int64_t dims[8];
            size_t count = 1;
            for (int d = 0; d < nd; d++) count *= (size_t)(dims[d] = shape[d]);
            clgan_status st = clgan_params_read(blk[b], i, tmp);
            if (st != CLGAN_OK) return st;
            initializer(o, name, T_FLOAT, nd, dims, tmp, count * sizeof(float));
            return CLGAN_OK;
        }
    return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "export: the generator has no tensor %s.%s", src, field);
}

static clgan_status build_graph(clgan_gan *gan, const clgan_export_plan *p, onnx *o) {
    const clgan_model_config *m = &p->model;
    clgan_params *blk[2];
    clgan_export_blocks(gan, &blk[0], &blk[1]);
    size_t most = clgan_params_total(blk[0]) > clgan_params_total(blk[1]) ? clgan_params_total(blk[0])
                                                                          : clgan_params_total(blk[1]);
    float *tmp = malloc((most ? most : 1) * sizeof *tmp);
    if (!tmp) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_status st = CLGAN_OK;
    pb node;
    bool toy = m->kind == CLGAN_MODEL_TOY, dcgan = m->kind == CLGAN_MODEL_DCGAN;
    const char *final = toy ? "points" : "images";
    char cur[64] = "z", next[64], w[64], b[64], s[64], mu[64], var[64];
    int zin = m->z_dim;
    if (m->classes > 0) {
        st = param_init(o, blk, "embed", "weight", "embed.weight", tmp);
        node_begin(&node, "Gather", (const char *[]){"embed.weight", "labels", NULL}, "embedded");
        attr_int(&node, "axis", 0);
        node_end(o, &node);
        node_begin(&node, "Concat", (const char *[]){"z", "embedded", NULL}, "z_and_label");
        attr_int(&node, "axis", 1);
        node_end(o, &node);
        snprintf(cur, sizeof cur, "z_and_label");
        zin += p->embed_dim;
    }
    if (dcgan) {
        int64_t shape[4] = {0, zin, 1, 1}, four = 4; /* 0: the batch, copied */
        initializer(o, "shape_in", T_INT64, 1, &four, shape, sizeof shape);
        node_begin(&node, "Reshape", (const char *[]){cur, "shape_in", NULL}, "z_4d");
        node_end(o, &node);
        snprintf(cur, sizeof cur, "z_4d");
    }
    for (int i = 0; i < p->n && st == CLGAN_OK; i++) {
        const clgan_export_layer *l = &p->layer[i];
        bool last = i == p->n - 1 && dcgan, reshape_after = i == p->n - 1 && !dcgan && !toy;
        if (last || (i == p->n - 1 && toy)) snprintf(next, sizeof next, "%s", final);
        else snprintf(next, sizeof next, "main.%d", i);
        snprintf(w, sizeof w, "main.%d.weight", i);
        snprintf(b, sizeof b, "main.%d.bias", i);
        switch (l->kind) {
        case CLGAN_EXPORT_CONVT: {
            st = param_init(o, blk, l->src, "weight", w, tmp);
            node_begin(&node, "ConvTranspose", (const char *[]){cur, w, NULL}, next);
            int64_t k[2] = {l->k, l->k}, str[2] = {l->stride, l->stride}, pads[4] = {l->pad, l->pad, l->pad, l->pad};
            attr_ints(&node, "kernel_shape", 2, k);
            attr_ints(&node, "strides", 2, str);
            attr_ints(&node, "pads", 4, pads);
            node_end(o, &node);
            break;
        }
        case CLGAN_EXPORT_BATCHNORM:
            snprintf(s, sizeof s, "main.%d.weight", i);
            snprintf(mu, sizeof mu, "main.%d.running_mean", i);
            snprintf(var, sizeof var, "main.%d.running_var", i);
            st = param_init(o, blk, l->src, "weight", s, tmp);
            if (st == CLGAN_OK) st = param_init(o, blk, l->src, "bias", b, tmp);
            if (st == CLGAN_OK) st = param_init(o, blk, l->src, "running_mean", mu, tmp);
            if (st == CLGAN_OK) st = param_init(o, blk, l->src, "running_var", var, tmp);
            node_begin(&node, "BatchNormalization", (const char *[]){cur, s, b, mu, var, NULL}, next);
            attr_float(&node, "epsilon", 1e-5f);
            node_end(o, &node);
            break;
        case CLGAN_EXPORT_LINEAR:
            st = param_init(o, blk, l->src, "weight", w, tmp);
            if (st == CLGAN_OK) st = param_init(o, blk, l->src, "bias", b, tmp);
            node_begin(&node, "Gemm", (const char *[]){cur, w, b, NULL}, next);
            attr_int(&node, "transB", 1);
            node_end(o, &node);
            break;
        case CLGAN_EXPORT_RELU:
        case CLGAN_EXPORT_TANH:
            node_begin(&node, l->kind == CLGAN_EXPORT_RELU ? "Relu" : "Tanh", (const char *[]){cur, NULL}, next);
            node_end(o, &node);
            break;
        }
        snprintf(cur, sizeof cur, "%s", next);
        if (reshape_after) {
            int64_t shape[4] = {-1, m->channels, m->image_size, m->image_size}, four = 4;
            initializer(o, "shape_out", T_INT64, 1, &four, shape, sizeof shape);
            node_begin(&node, "Reshape", (const char *[]){cur, "shape_out", NULL}, final);
            node_end(o, &node);
        }
    }
    free(tmp);
    if (st != CLGAN_OK) return st;
    int64_t zdims[2] = {-1, m->z_dim}, ldims[1] = {-1};
    value_info(&o->graph, 11, "z", T_FLOAT, 2, zdims);
    if (m->classes > 0) value_info(&o->graph, 11, "labels", T_INT64, 1, ldims);
    int64_t idims[4] = {-1, m->channels, m->image_size, m->image_size}, pdims[2] = {-1, 2};
    value_info(&o->graph, 12, final, T_FLOAT, toy ? 2 : 4, toy ? pdims : idims);
    pb_str(&o->graph, 2, "clgan_generator");
    return o->graph.failed ? CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory building the ONNX graph") : CLGAN_OK;
}

static clgan_status fill_bytes(FILE *f, void *ctx) {
    const pb *b = ctx;
    if (b->n && fwrite(b->p, 1, b->n, f) != b->n) return CLGAN_ERR(CLGAN_ERR_IO, "writing the ONNX model");
    return CLGAN_OK;
}

clgan_status clgan_gan_export_onnx(clgan_gan *gan, const char *path) {
    clgan_export_plan p;
    clgan_status st = clgan_export_plan_of(&clgan_gan_config_of(gan)->model, &p);
    if (st != CLGAN_OK) return st;
    onnx o = {0};
    st = build_graph(gan, &p, &o);
    pb model = {0}, opset = {0}, meta = {0};
    char step[32];
    snprintf(step, sizeof step, "%llu", (unsigned long long)clgan_gan_step_count(gan));
    if (st == CLGAN_OK) {
        pb_int(&model, 1, 8); /* ir_version 8 (ONNX 1.10 and later) */
        pb_str(&model, 2, "clgan");
        pb_str(&model, 3, clgan_version());
        pb_msg(&model, 7, &o.graph);
        pb_str(&opset, 1, "");
        pb_int(&opset, 2, 13);
        pb_msg(&model, 8, &opset);
        pb_str(&meta, 1, "clgan_weights");
        pb_str(&meta, 2, clgan_gan_sampling_ema(gan) ? "g_ema" : "g");
        pb_msg(&model, 14, &meta);
        pb_str(&meta, 1, "clgan_step");
        pb_str(&meta, 2, step);
        pb_msg(&model, 14, &meta);
        if (model.failed) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory building the ONNX model");
    }
    if (st == CLGAN_OK) st = clgan_atomic_write(path, fill_bytes, &model);
    free(o.graph.p);
    free(model.p);
    return st;
}
