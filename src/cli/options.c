/* Option parsing shared by every command: --name VALUE, --name=VALUE, flags,
 * environment fallbacks, --help. */
#include "cli/cli.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static cli_opt *find(cli_command *c, const char *name, size_t len) {
    for (int i = 0; i < c->nopts; i++)
        if (strlen(c->opts[i].name) == len && strncmp(c->opts[i].name, name, len) == 0) return &c->opts[i];
    return NULL;
}

void cli_print_help(const cli_command *c, FILE *f) {
    fprintf(f, "usage: clgan %s %s\n\n%s\n\noptions:\n", c->name, c->usage, c->summary);
    for (int i = 0; i < c->nopts; i++) {
        const cli_opt *o = &c->opts[i];
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        fprintf(f, "  %-24s %s", left, o->help);
        if (o->def) fprintf(f, " [%s]", o->def);
        if (o->env) fprintf(f, " (env %s)", o->env);
        fputc('\n', f);
    }
    fprintf(f, "  %-24s %s\n", "--help", "show this help");
}

int cli_parse(cli_command *c, int argc, char **argv, bool *help_shown) {
    *help_shown = false;
    for (int i = 0; i < c->nopts; i++) {
        cli_opt *o = &c->opts[i];
        o->value = o->def;
        o->given = false;
        const char *e = o->env ? getenv(o->env) : NULL;
        if (e && *e) {
            o->value = e;
            o->given = true;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_print_help(c, stdout);
            *help_shown = true;
            return CLI_OK;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "clgan %s: unexpected argument '%s' (see clgan %s --help)\n", c->name, a, c->name);
            return CLI_USAGE;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = find(c, name, len);
        if (!o) {
            fprintf(stderr, "clgan %s: unknown option '--%.*s' (see clgan %s --help)\n", c->name, (int)len, name,
                    c->name);
            return CLI_USAGE;
        }
        if (!o->metavar) {
            if (eq) {
                fprintf(stderr, "clgan %s: --%s takes no value\n", c->name, o->name);
                return CLI_USAGE;
            }
            o->value = "1";
        } else if (eq) {
            o->value = eq + 1;
        } else if (i + 1 < argc) {
            o->value = argv[++i];
        } else {
            fprintf(stderr, "clgan %s: --%s needs a value (%s)\n", c->name, o->name, o->metavar);
            return CLI_USAGE;
        }
        o->given = true;
    }
    return CLI_OK;
}

const char *cli_get(const cli_command *c, const char *name) {
    for (int i = 0; i < c->nopts; i++)
        if (strcmp(c->opts[i].name, name) == 0) return c->opts[i].value;
    return NULL;
}

bool cli_given(const cli_command *c, const char *name) {
    for (int i = 0; i < c->nopts; i++)
        if (strcmp(c->opts[i].name, name) == 0) return c->opts[i].given;
    return false;
}

bool cli_flag(const cli_command *c, const char *name) {
    const char *v = cli_get(c, name);
    return v && strcmp(v, "0") != 0 && *v;
}

int cli_get_long(const cli_command *c, const char *name, long lo, long hi, long *out) {
    const char *v = cli_get(c, name);
    char *end = NULL;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "clgan %s: --%s %s: expected an integer in [%ld, %ld]\n", c->name, name, v ? v : "(none)",
                lo, hi);
        return CLI_USAGE;
    }
    *out = x;
    return CLI_OK;
}

int cli_get_double(const cli_command *c, const char *name, double *out) {
    const char *v = cli_get(c, name);
    char *end = NULL;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || !isfinite(x)) {
        fprintf(stderr, "clgan %s: --%s %s: expected a finite number\n", c->name, name, v ? v : "(none)");
        return CLI_USAGE;
    }
    *out = x;
    return CLI_OK;
}

int cli_get_float(const cli_command *c, const char *name, float *out) {
    double x = 0;
    if (cli_get_double(c, name, &x) != CLI_OK) return CLI_USAGE;
    /* 1e39 is a finite double but +inf as a float */
    if (fabs(x) > FLT_MAX) {
        fprintf(stderr, "clgan %s: --%s %s: expected a finite number within float range (|x| <= %g)\n", c->name, name,
                cli_get(c, name), (double)FLT_MAX);
        return CLI_USAGE;
    }
    *out = (float)x;
    return CLI_OK;
}

int cli_fail(clgan_status st) {
    const char *msg = clgan_last_error();
    fprintf(stderr, "clgan: error: %s\n", *msg ? msg : clgan_status_name(st));
    return CLI_FAIL;
}

void cli_apply_verbosity(const cli_command *c) {
    if (cli_flag(c, "quiet"))
        clgan_log_set_level(CLGAN_LOG_QUIET);
    else if (cli_flag(c, "verbose"))
        clgan_log_set_level(CLGAN_LOG_DEBUG);
}

int cli_parse_labels(const cli_command *c, const char *s, int n, int classes, int32_t *out) {
    enum { MAX_LABELS = 4096 };
    int32_t *given = malloc(MAX_LABELS * sizeof *given);
    int k = 0;
    if (!given) return CLI_FAIL;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (k == MAX_LABELS || end == s || v < 0 || v >= classes || (*end && *end != ',')) {
            fprintf(stderr, "clgan %s: --labels: expected at most %d class numbers in [0, %d) separated by commas\n",
                    c->name, MAX_LABELS, classes);
            free(given);
            return CLI_USAGE;
        }
        given[k++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (k == 0) {
        fprintf(stderr, "clgan %s: --labels: expected at least one class number in [0, %d)\n", c->name, classes);
        free(given);
        return CLI_USAGE;
    }
    for (int i = 0; i < n; i++) out[i] = given[i % k];
    free(given);
    return CLI_OK;
}

int cli_checkpoint_config(const cli_command *c, const char *image_use, char *path, size_t cap, clgan_run_config *run) {
    const char *ck = cli_get(c, "checkpoint");
    if (!ck) {
        fprintf(stderr, "clgan %s: --checkpoint FILE is required\n", c->name);
        return CLI_USAGE;
    }
    clgan_status st = clgan_checkpoint_open_config(ck, path, cap, run);
    if (st != CLGAN_OK) return cli_fail(st);
    if (image_use && run->gan.model.kind == CLGAN_MODEL_TOY) {
        fprintf(stderr, "clgan %s: %s holds the 2-D toy model; %s needs an image model\n", c->name, path, image_use);
        return CLI_USAGE;
    }
    return CLI_OK;
}
