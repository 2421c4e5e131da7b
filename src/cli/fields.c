/* Options that set fields of a run configuration (cli_field_opt, cli.h):
 * the cli_opt entries with the defaults --help shows, taken from the
 * library's defaults, and the given options applied to a configuration. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

enum { N_MODELS = 3, N_LOSSES = 5 };

/* The defaults a run of this model and loss on this dataset starts from;
 * the 2-D model's own dataset when ds is NULL. */
static void defaults_for(clgan_run_config *rc, int model, int loss, const char *ds) {
    clgan_run_defaults(rc, (clgan_model_kind)model, (clgan_loss_kind)loss);
    if (ds) clgan_run_set_dataset(rc, ds);
}

/* The option's first field under these defaults */
static void value_of(const cli_field_opt *o, const clgan_run_config *rc, char *out, size_t cap) {
    char key[64];
    size_t n = strcspn(o->keys, " ");
    snprintf(key, sizeof key, "%.*s", (int)n, o->keys);
    const clgan_config_field *f = clgan_config_field_find(key);
    if (!f) {
        snprintf(out, cap, "?");
        return;
    }
    clgan_config_field_format(rc, f, out, cap);
}

static void add_variant(char *out, size_t cap, size_t *len, bool *any, const char *who, const char *value) {
    if (*len >= cap) return;
    *len += (size_t)snprintf(out + *len, cap - *len, "%s%s %s", *any ? ", " : " (", who, value);
    *any = true;
}

/* "0.0002 (wgan 5e-5, wgan-gp 0.0001)": the value for the default model,
 * loss and dataset, then each loss, model, model and loss, and dataset whose
 * default differs. A model that has no use for a field leaves it 0 or empty:
 * such a value is not shown as that model's default. */
static void shown_default(const cli_field_opt *o, char *out, size_t cap) {
    clgan_run_config rc;
    char base[64], v[64], who[48];
    const int dm = CLGAN_MODEL_DCGAN, dl = CLGAN_LOSS_NS;
    defaults_for(&rc, dm, dl, "fashion-mnist");
    value_of(o, &rc, base, sizeof base);
    size_t len = (size_t)snprintf(out, cap, "%s", base[0] ? base : "none");
    bool any = false;
    char by_loss[N_LOSSES][64], by_model[N_MODELS][64];
    for (int l = 0; l < N_LOSSES; l++) {
        defaults_for(&rc, dm, l, NULL);
        value_of(o, &rc, by_loss[l], sizeof by_loss[l]);
        if (strcmp(by_loss[l], base) != 0) add_variant(out, cap, &len, &any, clgan_loss_name((clgan_loss_kind)l), by_loss[l]);
    }
    for (int m = 0; m < N_MODELS; m++) {
        defaults_for(&rc, m, dl, NULL);
        value_of(o, &rc, by_model[m], sizeof by_model[m]);
        bool unused = strcmp(by_model[m], "0") == 0 || !by_model[m][0];
        if (strcmp(by_model[m], base) != 0 && !unused)
            add_variant(out, cap, &len, &any, clgan_model_name((clgan_model_kind)m), by_model[m]);
    }
    for (int m = 0; m < N_MODELS; m++)
        for (int l = 0; l < N_LOSSES; l++) {
            if (m == dm || l == dl) continue;
            defaults_for(&rc, m, l, NULL);
            value_of(o, &rc, v, sizeof v);
            /* what the model and the loss alone do not explain: the loss's value, or the model's where it is
             * shown (a model whose value is the base is not shown, and then the loss's shown value would be
             * read for the pair) */
            bool unused = strcmp(v, "0") == 0 || !v[0];
            bool model_shown = strcmp(by_model[m], base) != 0;
            if ((model_shown && strcmp(v, by_model[m]) == 0) || strcmp(v, by_loss[l]) == 0 || unused) continue;
            snprintf(who, sizeof who, "%s %s", clgan_model_name((clgan_model_kind)m), clgan_loss_name((clgan_loss_kind)l));
            add_variant(out, cap, &len, &any, who, v);
        }
    static const char *const datasets[] = {"cifar10", "folder"};
    for (size_t i = 0; i < sizeof datasets / sizeof datasets[0]; i++) {
        defaults_for(&rc, dm, dl, datasets[i]);
        value_of(o, &rc, v, sizeof v);
        if (strcmp(v, base) != 0) add_variant(out, cap, &len, &any, datasets[i], v);
    }
    if (!base[0] && !any && !o->def) { /* empty by default, and nothing else to say */
        out[0] = 0;
        return;
    }
    if (o->def && len < cap) len += (size_t)snprintf(out + len, cap - len, "%s%s", any ? "; " : " (", o->def);
    if ((any || o->def) && len < cap) snprintf(out + len, cap - len, ")");
}

void cli_fields_opts(const cli_field_opt *t, int n, cli_opt *out, char (*defs)[CLI_DEF_CAP]) {
    for (int i = 0; i < n; i++) {
        const cli_field_opt *o = &t[i];
        const char *def = o->def;
        if (!o->metavar) {
            def = NULL; /* a flag is off unless given */
        } else if (o->def && o->def[0] == '=') {
            def = o->def + 1;
        } else if (o->keys) {
            shown_default(o, defs[i], CLI_DEF_CAP);
            def = defs[i][0] ? defs[i] : NULL;
        }
        out[i] = (cli_opt){o->name, o->metavar, NULL, def, o->help, NULL, false};
    }
}

int cli_fields_apply(const cli_command *c, const cli_field_opt *t, int n, clgan_run_config *rc) {
    for (int i = 0; i < n; i++) {
        const cli_field_opt *o = &t[i];
        if (!o->keys || !cli_given(c, o->name)) continue;
        const char *value = o->metavar ? cli_get(c, o->name) : o->set;
        char what[64];
        snprintf(what, sizeof what, "--%s", o->name);
        for (const char *k = o->keys; *k;) {
            size_t len = strcspn(k, " ");
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)len, k);
            const clgan_config_field *f = clgan_config_field_find(key);
            clgan_status st = f ? clgan_config_field_parse(rc, f, value, what)
                                : CLGAN_ERR(CLGAN_ERR_INVALID_ARG, "%s sets an unknown field %s", what, key);
            if (st != CLGAN_OK) {
                fprintf(stderr, "clgan %s: %s\n", c->name, clgan_last_error());
                return CLI_USAGE;
            }
            k += len;
            while (*k == ' ') k++;
        }
    }
    return CLI_OK;
}

int cli_fields_refuse(const cli_command *c, const cli_field_opt *t, int n, const char *why) {
    for (int i = 0; i < n; i++)
        if (t[i].run && cli_given(c, t[i].name)) {
            fprintf(stderr, "clgan %s: --%s %s\n", c->name, t[i].name, why);
            return CLI_USAGE;
        }
    return CLI_OK;
}
