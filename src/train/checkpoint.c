/* Checkpoints: one safetensors file per save holding G, D (parameters and
 * running statistics, each tensor under its own name), both optimizers'
 * state, and in __metadata__ the run's configuration and position. */
#include "clgan/train.h"
#include "train/params_io.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FORMAT_NAME "clgan-checkpoint"
#define FORMAT_VERSION "1"

static void put_u64(clgan_st_writer *w, const char *key, uint64_t v, clgan_status *st) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    if (*st == CLGAN_OK) *st = clgan_st_add_meta(w, key, buf);
}

clgan_status clgan_checkpoint_save(const char *path, const clgan_gan *gan, const clgan_run_config *rc,
                                   const clgan_run_position *pos) {
    /* the optimizer slots are as large as their network's block */
    size_t most = 0;
    for (int k = 0; k < 2; k++) {
        size_t n = clgan_params_total(clgan_gan_block(gan, k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G));
        if (n > most) most = n;
    }
    float *host = malloc((most ? most : 1) * sizeof *host);
    clgan_st_writer *w = clgan_st_writer_new();
    clgan_jbuf cfg;
    clgan_jbuf_init(&cfg);
    clgan_status st = host && w ? CLGAN_OK : CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory writing %s", path);
    for (int b = 0; b < CLGAN_BLOCK_COUNT && st == CLGAN_OK; b++) st = clgan_params_st_add(w, clgan_gan_block(gan, b));
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
        size_t n = clgan_params_total(clgan_gan_block(gan, k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G));
        const clgan_optimizer *o = clgan_gan_optimizer(gan, k);
        for (int s = 0; s < clgan_optimizer_slots(o) && st == CLGAN_OK; s++) {
            char name[64];
            snprintf(name, sizeof name, "optim.%s.%s", k ? "d" : "g", clgan_optimizer_slot_name(o, s));
            int64_t shape[1] = {(int64_t)(n ? n : 1)};
            st = clgan_buffer_read(clgan_optimizer_slot(o, s), 0, host, (size_t)shape[0] * sizeof(float));
            if (st == CLGAN_OK) st = clgan_st_add(w, name, CLGAN_DT_F32, 1, shape, host);
        }
    }
    clgan_run_config_to_json(rc, &cfg);
    if (st == CLGAN_OK) st = clgan_jbuf_finish(&cfg);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "format", FORMAT_NAME);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "format_version", FORMAT_VERSION);
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "clgan_version", clgan_version());
    if (st == CLGAN_OK) st = clgan_st_add_meta(w, "config", clgan_jbuf_cstr(&cfg));
    put_u64(w, "g_steps", clgan_gan_step_count(gan), &st);
    put_u64(w, "d_steps", clgan_gan_d_step_count(gan), &st);
    put_u64(w, "data_epoch", pos->epoch, &st);
    put_u64(w, "data_pos", pos->pos, &st);
    put_u64(w, "rollbacks", pos->rollbacks, &st);
    if (pos->best_step > 0) { /* the best evaluation so far, its value exactly (17 digits read back) */
        char buf[40];
        snprintf(buf, sizeof buf, "%.17g", pos->best_value);
        put_u64(w, "best_step", pos->best_step, &st);
        if (st == CLGAN_OK) st = clgan_st_add_meta(w, "best_value", buf);
        if (st == CLGAN_OK) st = clgan_st_add_meta(w, "best_of", pos->best_of);
    }
    /* the learning-rate scale as an exact bit pattern (rollback halves it) */
    float scale = clgan_gan_lr_scale(gan);
    uint32_t bits;
    memcpy(&bits, &scale, sizeof bits);
    put_u64(w, "lr_scale_bits", bits, &st);
    if (st == CLGAN_OK) st = clgan_st_write(w, path);
    if (st != CLGAN_OK) clgan_error_context(st, "writing checkpoint %s: ", path);
    clgan_jbuf_free(&cfg);
    clgan_st_writer_free(w);
    free(host);
    return st;
}

static clgan_status open_checked(const char *path, clgan_st_file **f) {
    clgan_status st = clgan_st_read(path, f);
    if (st != CLGAN_OK) return st;
    const char *fmt = clgan_st_meta(*f, "format"), *ver = clgan_st_meta(*f, "format_version");
    if (!fmt || strcmp(fmt, FORMAT_NAME) != 0 || !ver || strcmp(ver, FORMAT_VERSION) != 0) {
        st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ format is %s version %s, expected %s version %s", path,
                       fmt ? fmt : "(missing)", ver ? ver : "(missing)", FORMAT_NAME, FORMAT_VERSION);
        clgan_st_close(*f);
        *f = NULL;
    }
    return st;
}

static clgan_status config_of(const char *path, clgan_st_file *f, clgan_run_config *rc) {
    const char *text = clgan_st_meta(f, "config");
    if (!text) return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ has no config", path);
    clgan_json *j = NULL;
    clgan_status st = clgan_json_parse(text, strlen(text), &j);
    if (st == CLGAN_OK) st = clgan_run_config_from_json(j, rc);
    clgan_json_free(j);
    if (st != CLGAN_OK) clgan_error_context(st, "%s: __metadata__ config: ", path);
    return st;
}

clgan_status clgan_checkpoint_config(const char *path, clgan_run_config *rc) {
    clgan_st_file *f = NULL;
    clgan_status st = open_checked(path, &f);
    if (st == CLGAN_OK) st = config_of(path, f, rc);
    clgan_st_close(f);
    return st;
}

static clgan_status get_u64(const char *path, clgan_st_file *f, const char *key, uint64_t *out) {
    const char *v = clgan_st_meta(f, key);
    char *end = NULL;
    /* digits only: strtoull would take "-3" as 2^64 - 3 and saturate on overflow */
    errno = 0;
    if (!v || *v < '0' || *v > '9' || (*out = strtoull(v, &end, 10), *end) || errno == ERANGE)
        return CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ %s is %s, expected an unsigned integer", path, key,
                         v ? v : "missing");
    return CLGAN_OK;
}

/* Every tensor the GAN will load, by name, dtype and shape, without
 * touching the (not yet allocated) blocks. The file's tensors all lie
 * inside it (the reader checks offsets against the file size), so a
 * configuration that passes cannot make a restore read more than the file. */
static clgan_status precheck_tensors(const clgan_gan *gan, void *user) {
    const clgan_st_file *f = user;
    clgan_status st = CLGAN_OK;
    for (int b = 0; b < CLGAN_BLOCK_COUNT && st == CLGAN_OK; b++) st = clgan_params_st_check(f, clgan_gan_block(gan, b));
    const clgan_gan_config *cfg = clgan_gan_config_of(gan);
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
        size_t n = clgan_params_total(clgan_gan_block(gan, k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G));
        clgan_opt_kind kind = k ? cfg->opt_d.kind : cfg->opt_g.kind;
        for (int s = 0; s < clgan_opt_slot_count(kind) && st == CLGAN_OK; s++) {
            char name[64];
            snprintf(name, sizeof name, "optim.%s.%s", k ? "d" : "g", clgan_opt_slot_name(kind, s));
            int64_t shape[1] = {(int64_t)(n ? n : 1)};
            const void *data = NULL;
            st = clgan_st_get(f, name, CLGAN_DT_F32, 1, shape, &data);
        }
    }
    if (st != CLGAN_OK)
        clgan_error_context(st, "the checkpoint does not hold the networks its configuration describes: ");
    return st;
}

static clgan_status restore_from(const char *path, clgan_st_file *f, clgan_gan *gan, clgan_run_position *pos) {
    clgan_status st = CLGAN_OK;
    for (int b = 0; b < CLGAN_BLOCK_COUNT && st == CLGAN_OK; b++) st = clgan_params_st_load(f, clgan_gan_block(gan, b));
    for (int k = 0; k < 2 && st == CLGAN_OK; k++) {
        size_t n = clgan_params_total(clgan_gan_block(gan, k ? CLGAN_BLOCK_D : CLGAN_BLOCK_G));
        const clgan_optimizer *o = clgan_gan_optimizer(gan, k);
        for (int s = 0; s < clgan_optimizer_slots(o) && st == CLGAN_OK; s++) {
            char name[64];
            snprintf(name, sizeof name, "optim.%s.%s", k ? "d" : "g", clgan_optimizer_slot_name(o, s));
            int64_t shape[1] = {(int64_t)(n ? n : 1)};
            const void *data = NULL;
            st = clgan_st_get(f, name, CLGAN_DT_F32, 1, shape, &data);
            if (st == CLGAN_OK)
                st = clgan_buffer_write(clgan_optimizer_slot(o, s), 0, data, (size_t)shape[0] * sizeof(float));
        }
    }
    uint64_t g_steps = 0, d_steps = 0, bits = 0;
    if (st == CLGAN_OK) st = get_u64(path, f, "g_steps", &g_steps);
    if (st == CLGAN_OK) st = get_u64(path, f, "d_steps", &d_steps);
    if (st == CLGAN_OK) st = get_u64(path, f, "data_epoch", &pos->epoch);
    if (st == CLGAN_OK) st = get_u64(path, f, "data_pos", &pos->pos);
    if (st == CLGAN_OK) st = get_u64(path, f, "rollbacks", &pos->rollbacks);
    pos->best_step = 0;
    pos->best_value = 0;
    pos->best_of[0] = 0;
    if (st == CLGAN_OK && clgan_st_meta(f, "best_step")) { /* optional: runs that evaluate during training */
        const char *v = clgan_st_meta(f, "best_value"), *of = clgan_st_meta(f, "best_of");
        char *end = NULL;
        st = get_u64(path, f, "best_step", &pos->best_step);
        if (st == CLGAN_OK) pos->best_value = v ? strtod(v, &end) : NAN;
        if (st == CLGAN_OK && (!v || end == v || *end || !isfinite(pos->best_value)))
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ best_value is not a finite number", path);
        if (st == CLGAN_OK && (!of || strlen(of) >= sizeof pos->best_of))
            st = CLGAN_ERR(CLGAN_ERR_FORMAT, "%s: __metadata__ best_of is %s, expected up to %zu bytes", path,
                           of ? "too long" : "missing", sizeof pos->best_of - 1);
        if (st == CLGAN_OK) snprintf(pos->best_of, sizeof pos->best_of, "%s", of);
    }
    if (st == CLGAN_OK) st = get_u64(path, f, "lr_scale_bits", &bits);
    if (st == CLGAN_OK) {
        uint32_t b32 = (uint32_t)bits;
        float scale;
        memcpy(&scale, &b32, sizeof scale);
        clgan_gan_set_lr_scale(gan, scale);
        clgan_gan_set_counts(gan, g_steps, d_steps);
    }
    if (st != CLGAN_OK && !strstr(clgan_last_error(), path)) clgan_error_context(st, "%s: ", path);
    return st;
}

clgan_status clgan_checkpoint_restore(const char *path, clgan_gan *gan, clgan_run_position *pos) {
    clgan_st_file *f = NULL;
    clgan_status st = open_checked(path, &f);
    if (st != CLGAN_OK) return st;
    st = restore_from(path, f, gan, pos);
    clgan_st_close(f);
    return st;
}

clgan_status clgan_checkpoint_open_config(const char *file_or_run, char *path, size_t cap, clgan_run_config *rc) {
    clgan_status st = clgan_run_latest(file_or_run, path, cap);
    struct stat sb;
    /* a folder must be a run folder with a checkpoint: its error says so */
    if (st != CLGAN_OK && stat(file_or_run, &sb) == 0 && S_ISDIR(sb.st_mode)) return st;
    if (st != CLGAN_OK) snprintf(path, cap, "%s", file_or_run);
    clgan_clear_error();
    return clgan_checkpoint_config(path, rc);
}

clgan_status clgan_gan_from_checkpoint(const char *path, const clgan_run_config *rc, clgan_device *d, clgan_gan **out) {
    clgan_run_position pos;
    return clgan_checkpoint_load(path, &rc->gan, d, out, &pos);
}

clgan_status clgan_checkpoint_load(const char *path, const clgan_gan_config *cfg, clgan_device *d, clgan_gan **out,
                                   clgan_run_position *pos) {
    clgan_gan *gan = NULL;
    clgan_st_file *f = NULL;
    *out = NULL;
    clgan_status st = open_checked(path, &f);
    if (st != CLGAN_OK) return st;
    st = clgan_gan_new_checked(cfg, d, precheck_tensors, f, &gan);
    if (st != CLGAN_OK && !strstr(clgan_last_error(), path)) clgan_error_context(st, "%s: ", path);
    if (st == CLGAN_OK) st = restore_from(path, f, gan, pos);
    clgan_st_close(f);
    if (st != CLGAN_OK) {
        clgan_gan_free(gan);
        gan = NULL;
    }
    *out = gan;
    return st;
}
