/* Option parsing shared by every command: --name VALUE, --name=VALUE, flags,
 * environment fallbacks, --help. */
#include "cli/cli.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static cli_opt *find(cli_command *c, const char *name, size_t len) {
    for (int i = 0; i < c->nopts; i++)
        if (strlen(c->opts[i].name) == len && strncmp(c->opts[i].name, name, len) == 0) return &c->opts[i];
    return NULL;
}

/* "clgan train", or a tool's own name */
const char *cli_program = NULL;

static const char *prog(const cli_command *c) {
    static char buf[96];
    if (cli_program) return cli_program;
    snprintf(buf, sizeof buf, "clgan %s", c->name);
    return buf;
}

/* Room for repeated options' joined values (cli_opt.repeat) */
static char joined[8192];
static size_t joined_used;

void cli_print_help(const cli_command *c, FILE *f) {
    fprintf(f, "usage: %s %s\n\n%s\n\noptions:\n", prog(c), c->usage, c->summary);
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
    enum { MAX_OPTS = 128 };
    bool on_line[MAX_OPTS] = {false}; /* given on the command line (not only through the environment) */
    *help_shown = false;
    if (c->nopts > MAX_OPTS) {
        fprintf(stderr, "%s: %d options, more than %d\n", prog(c), c->nopts, MAX_OPTS);
        return CLI_USAGE;
    }
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
            fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n", prog(c), a, prog(c));
            return CLI_USAGE;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = find(c, name, len);
        if (!o) {
            fprintf(stderr, "%s: unknown option '--%.*s' (see %s --help)\n", prog(c), (int)len, name, prog(c));
            return CLI_USAGE;
        }
        if (!o->metavar) {
            if (eq) {
                fprintf(stderr, "%s: --%s takes no value\n", prog(c), o->name);
                return CLI_USAGE;
            }
            o->value = "1";
        } else {
            const char *v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!v) {
                fprintf(stderr, "%s: --%s needs a value (%s)\n", prog(c), o->name, o->metavar);
                return CLI_USAGE;
            }
            size_t ml = strlen(o->metavar);
            bool repeat = ml > 3 && strcmp(o->metavar + ml - 3, "...") == 0;
            if (repeat && on_line[o - c->opts]) { /* a second --device X: "first,X" */
                size_t need = strlen(o->value) + 1 + strlen(v) + 1;
                if (joined_used + need > sizeof joined) {
                    fprintf(stderr, "%s: --%s given too often\n", prog(c), o->name);
                    return CLI_USAGE;
                }
                char *dst = joined + joined_used;
                snprintf(dst, need, "%s,%s", o->value, v);
                joined_used += need;
                v = dst;
            }
            o->value = v;
        }
        o->given = true;
        on_line[o - c->opts] = true;
    }
    return CLI_OK;
}

int cli_start(cli_command *c, int argc, char **argv) {
    bool help = false;
    int rc = cli_parse(c, argc, argv, &help);
    if (rc != CLI_OK || help) return rc;
    cli_apply_verbosity(c);
    return CLI_GO;
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
        fprintf(stderr, "%s: --%s %s: expected an integer in [%ld, %ld]\n", prog(c), name, v ? v : "(none)",
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
        fprintf(stderr, "%s: --%s %s: expected a finite number\n", prog(c), name, v ? v : "(none)");
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
        fprintf(stderr, "%s: --%s %s: expected a finite number within float range (|x| <= %g)\n", prog(c), name,
                cli_get(c, name), (double)FLT_MAX);
        return CLI_USAGE;
    }
    *out = (float)x;
    return CLI_OK;
}

char cli_rank_label[64];

int cli_fail(clgan_status st) {
    const char *msg = clgan_last_error();
    fprintf(stderr, "clgan: %serror: %s\n", cli_rank_label, *msg ? msg : clgan_status_name(st));
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
            fprintf(stderr, "%s: --labels: expected at most %d class numbers in [0, %d) separated by commas\n",
                    prog(c), MAX_LABELS, classes);
            free(given);
            return CLI_USAGE;
        }
        given[k++] = (int32_t)v;
        s = *end == ',' ? end + 1 : end;
    }
    if (k == 0) {
        fprintf(stderr, "%s: --labels: expected at least one class number in [0, %d)\n", prog(c), classes);
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
        fprintf(stderr, "%s: --checkpoint FILE is required\n", prog(c));
        return CLI_USAGE;
    }
    clgan_status st = clgan_checkpoint_open_config(ck, path, cap, run);
    if (st != CLGAN_OK) return cli_fail(st);
    if (image_use && run->gan.model.kind == CLGAN_MODEL_TOY) {
        fprintf(stderr, "%s: %s holds the 2-D toy model; %s needs an image model\n", prog(c), path, image_use);
        return CLI_USAGE;
    }
    return CLI_OK;
}

double cli_now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

void cli_format_duration(double s, char *out, size_t cap) {
    if (!(s >= 0) || s > 360000) {
        snprintf(out, cap, "--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else
        snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
}

clgan_status cli_open_gan(const cli_command *c, const char *path, const clgan_run_config *run, clgan_device *d,
                          clgan_gan **out) {
    clgan_status st = clgan_gan_from_checkpoint(path, run, d, out);
    if (st != CLGAN_OK) return st;
    bool raw = cli_flag(c, "no-ema");
    clgan_gan_use_ema(*out, !raw);
    if (clgan_gan_has_ema(*out))
        clgan_log(CLGAN_LOG_DEBUG, "generating with %s", raw ? "G's own weights (--no-ema)" : "the generator EMA (g_ema)");
    else if (raw)
        clgan_log(CLGAN_LOG_DEBUG, "--no-ema: the run kept no generator EMA, G's weights are the only ones");
    return CLGAN_OK;
}
