/* Export of the generator for other tools: PyTorch state_dict names in a
 * safetensors file (docs/export.md shows the module they load into); ONNX
 * in export_onnx.c.
 *
 * Both formats read one description of the generator, the layer plan: the
 * layers of an nn.Sequential `main` in order, each with the clgan layer
 * (its parameters' prefix) it comes from, after an optional class embedding
 * concatenated to z. The weights are the ones sampling uses: the generator
 * EMA when the run kept one (unless clgan_gan_use_ema turned it off), with
 * BatchNorm's running statistics (evaluation mode). */
#include "train/export.h"

#include "clgan/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void add(clgan_export_plan *p, clgan_export_layer_kind kind, const char *src, int in, int out, int k, int s,
                int pad) {
    clgan_export_layer *l = &p->layer[p->n];
    *l = (clgan_export_layer){.kind = kind, .in = in, .out = out, .k = k, .stride = s, .pad = pad};
    snprintf(l->src, sizeof l->src, "%s", src ? src : "");
    p->n++;
}

clgan_status clgan_export_plan_of(const clgan_model_config *m, clgan_export_plan *p) {
    memset(p, 0, sizeof *p);
    p->model = *m;
    p->embed_dim = m->classes > 0 ? (m->z_dim < 16 ? 16 : m->z_dim) : 0;
    int zin = m->z_dim + p->embed_dim;
    char name[32];
    if (m->kind == CLGAN_MODEL_DCGAN) {
        int start, ups;
        if (!clgan_dcgan_plan(m->image_size, &start, &ups) || ups < 1)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "export: DCGAN image size %d has no layer plan", m->image_size);
        if (3 * ups + 2 > CLGAN_EXPORT_MAX_LAYERS)
            return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "export: %d layers, more than %d", 3 * ups + 2,
                             CLGAN_EXPORT_MAX_LAYERS);
        int ch = m->width << (ups - 1);
        add(p, CLGAN_EXPORT_CONVT, "convt0", zin, ch, start, 1, 0);
        add(p, CLGAN_EXPORT_BATCHNORM, "bn0", ch, ch, 0, 0, 0);
        add(p, CLGAN_EXPORT_RELU, NULL, ch, ch, 0, 0, 0);
        for (int i = 1; i < ups; i++) {
            snprintf(name, sizeof name, "convt%d", i);
            add(p, CLGAN_EXPORT_CONVT, name, ch, ch / 2, 4, 2, 1);
            ch /= 2;
            snprintf(name, sizeof name, "bn%d", i);
            add(p, CLGAN_EXPORT_BATCHNORM, name, ch, ch, 0, 0, 0);
            add(p, CLGAN_EXPORT_RELU, NULL, ch, ch, 0, 0, 0);
        }
        snprintf(name, sizeof name, "convt%d", ups);
        add(p, CLGAN_EXPORT_CONVT, name, ch, m->channels, 4, 2, 1);
        add(p, CLGAN_EXPORT_TANH, NULL, m->channels, m->channels, 0, 0, 0);
        p->start = start;
        return CLGAN_OK;
    }
    /* MLP and toy: Linear, ReLU per hidden layer, then the output layer (and tanh for images) */
    bool toy = m->kind == CLGAN_MODEL_TOY;
    if (m->g_batchnorm)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "export: this %s generator has BatchNorm after its linear layers "
                         "(arch.g_batchnorm, e.g. --preset pacgan), which the exported module does not describe yet",
                         clgan_model_name(m->kind));
    int layers = clgan_mlp_layers(m);
    if (2 * layers + 2 > CLGAN_EXPORT_MAX_LAYERS)
        return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "export: %d hidden layers, more than %d", layers,
                         (CLGAN_EXPORT_MAX_LAYERS - 2) / 2);
    for (int i = 0; i < layers; i++) {
        int w = clgan_mlp_width(m, i);
        snprintf(name, sizeof name, "fc%d", i + 1);
        add(p, CLGAN_EXPORT_LINEAR, name, zin, w, 0, 0, 0);
        add(p, CLGAN_EXPORT_RELU, NULL, w, w, 0, 0, 0);
        zin = w;
    }
    int nout = toy ? 2 : m->channels * m->image_size * m->image_size;
    add(p, CLGAN_EXPORT_LINEAR, "out", zin, nout, 0, 0, 0);
    if (!toy) add(p, CLGAN_EXPORT_TANH, NULL, nout, nout, 0, 0, 0);
    return CLGAN_OK;
}

int clgan_export_layer_of(const clgan_export_plan *p, const char *param, const char **field) {
    const char *dot = strchr(param, '.');
    if (!dot) return -1;
    size_t len = (size_t)(dot - param);
    for (int i = 0; i < p->n; i++)
        if (p->layer[i].src[0] && strlen(p->layer[i].src) == len && strncmp(p->layer[i].src, param, len) == 0) {
            *field = dot + 1;
            return i;
        }
    return -1;
}

void clgan_export_blocks(const clgan_gan *gan, clgan_params **w, clgan_params **b) {
    bool ema = clgan_gan_sampling_ema(gan);
    *w = clgan_gan_block(gan, ema ? CLGAN_BLOCK_G_EMA : CLGAN_BLOCK_G);
    *b = clgan_gan_block(gan, ema ? CLGAN_BLOCK_G_EMA_BUFFERS : CLGAN_BLOCK_G_BUFFERS);
}

/* The model as the module's constructor takes it (docs/export.md). */
static clgan_status model_json(const clgan_export_plan *p, char **out) {
    const clgan_model_config *m = &p->model;
    clgan_jbuf b;
    clgan_jbuf_init(&b);
    clgan_jbuf_begin_object(&b);
    clgan_jbuf_key(&b, "kind");
    clgan_jbuf_str(&b, clgan_model_name(m->kind));
    clgan_jbuf_key(&b, "z_dim");
    clgan_jbuf_int(&b, m->z_dim);
    clgan_jbuf_key(&b, "channels");
    clgan_jbuf_int(&b, m->channels);
    clgan_jbuf_key(&b, "image_size");
    clgan_jbuf_int(&b, m->image_size);
    clgan_jbuf_key(&b, "width");
    clgan_jbuf_int(&b, m->width);
    clgan_jbuf_key(&b, "widths");
    clgan_jbuf_begin_array(&b);
    for (int i = 0; i < p->n; i++)
        if (p->layer[i].kind == CLGAN_EXPORT_LINEAR && strcmp(p->layer[i].src, "out") != 0)
            clgan_jbuf_int(&b, p->layer[i].out);
    clgan_jbuf_end_array(&b);
    clgan_jbuf_key(&b, "classes");
    clgan_jbuf_int(&b, m->classes);
    clgan_jbuf_end_object(&b);
    clgan_status st = clgan_jbuf_finish(&b);
    if (st == CLGAN_OK && !(*out = strdup(clgan_jbuf_cstr(&b)))) st = CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    clgan_jbuf_free(&b);
    return st;
}

static clgan_status add_block(clgan_st_writer *w, const clgan_export_plan *p, clgan_params *blk, float *tmp) {
    for (int i = 0; i < clgan_params_count(blk); i++) {
        const char *name = clgan_params_name(blk, i), *field = NULL;
        /* the blocks' names carry the network's prefix (g., g_ema.) */
        if (strncmp(name, "g_ema.", 6) == 0) name += 6;
        else if (strncmp(name, "g.", 2) == 0) name += 2;
        char out[96];
        if (strcmp(name, "embed.weight") == 0) snprintf(out, sizeof out, "%s", name);
        else {
            int l = clgan_export_layer_of(p, name, &field);
            if (l < 0)
                return CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "export: the generator's tensor %s has no place in the plan",
                                 name);
            snprintf(out, sizeof out, "main.%d.%s", l, field);
        }
        int nd, shape[8];
        clgan_params_shape(blk, i, &nd, shape);
        int64_t s64[8];
        for (int d = 0; d < nd; d++) s64[d] = shape[d];
        clgan_status st = clgan_params_read(blk, i, tmp);
        if (st == CLGAN_OK) st = clgan_st_add(w, out, CLGAN_DT_F32, nd, s64, tmp);
        if (st != CLGAN_OK) return st;
    }
    return CLGAN_OK;
}

clgan_status clgan_gan_export_pytorch(clgan_gan *gan, const char *path) {
    clgan_export_plan p;
    clgan_status st = clgan_export_plan_of(&clgan_gan_config_of(gan)->model, &p);
    if (st != CLGAN_OK) return st;
    clgan_params *wb, *bb;
    clgan_export_blocks(gan, &wb, &bb);
    size_t most = clgan_params_total(wb) > clgan_params_total(bb) ? clgan_params_total(wb) : clgan_params_total(bb);
    float *tmp = malloc((most ? most : 1) * sizeof *tmp);
    clgan_st_writer *w = clgan_st_writer_new();
    char *model = NULL, step[32];
    st = tmp && w ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    if (st == CLGAN_OK) st = add_block(w, &p, wb, tmp);
    if (st == CLGAN_OK) st = add_block(w, &p, bb, tmp);
    /* BatchNorm's batch counter, which load_state_dict(strict=True) expects: the G steps taken */
    int64_t tracked = (int64_t)clgan_gan_step_count(gan);
    for (int i = 0; i < p.n && st == CLGAN_OK; i++)
        if (p.layer[i].kind == CLGAN_EXPORT_BATCHNORM) {
            char name[64];
            snprintf(name, sizeof name, "main.%d.num_batches_tracked", i);
            st = clgan_st_add(w, name, CLGAN_DT_I64, 0, NULL, &tracked);
        }
    snprintf(step, sizeof step, "%llu", (unsigned long long)clgan_gan_step_count(gan));
    if (st == CLGAN_OK) st = model_json(&p, &model);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "format", "pt");
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "clgan_model", model);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "clgan_weights", clgan_gan_sampling_ema(gan) ? "g_ema" : "g");
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "clgan_step", step);
    if (st == CLGAN_OK) st = clgan_st_write(w, path);
    free(model);
    free(tmp);
    clgan_st_writer_free(w);
    return st;
}
