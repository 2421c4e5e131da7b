/* The command-line program: option parsing and the commands. Only this layer
 * prints errors and calls exit(). */
#ifndef CLGAN_CLI_H
#define CLGAN_CLI_H

#include "clgan/runtime.h"
#include "clgan/train.h"

#include <stdio.h>

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

typedef struct {
    const char *name;    /* "device" for --device */
    const char *metavar; /* NULL for a flag */
    const char *env;     /* environment variable read when the option is absent, or NULL */
    const char *def;     /* default value shown in --help, or NULL */
    const char *help;
    const char *value;   /* parsed: the value, "1" for a set flag, else env, else def */
    bool given;          /* on the command line (or from env) */
} cli_opt;
/* An option whose metavar ends in "..." ("D...") may be given more than
 * once: its value is then the values joined with commas. */

/* Options every device-using command takes. */
#define CLI_DEVICE_OPTS                                                                                   \
    {"device", "D", "CLGAN_DEVICE", NULL,                                                                 \
     "ref, P:D, gpu, cpu, accelerator, custom, part of a device name, or list (default: first GPU, "     \
     "else accelerator, else CPU, else ref)", NULL, false},                                              \
        {"kernel-dir", "DIR", "CLGAN_KERNEL_DIR", NULL, "read the .cl kernel sources from DIR instead of " \
                                                        "the copies built into clgan", NULL, false},     \
        {"kernel-binary", "FILE", NULL, NULL, "load an offline-compiled program binary (e.g. for an FPGA)", \
         NULL, false},                                                                                   \
        {"no-kernel-cache", NULL, NULL, NULL, "neither read nor write the kernel binary cache", NULL, false}, \
        {"cache-dir", "DIR", "CLGAN_CACHE_DIR", NULL,                                                    \
         "kernel binary cache and GEMM tune records (default $XDG_CACHE_HOME/clgan or ~/.cache/clgan)",  \
         NULL, false},                                                                                   \
        {"gemm", "PATH", "CLGAN_GEMM", "auto",                                                            \
         "GEMM path: auto (what clgan tune measured, else native on a CPU device with native kernels, "  \
         "else clblast), clblast, or native (host BLAS as an OpenCL native kernel)", NULL, false},      \
        {"verbose", NULL, NULL, NULL, "more detail on stderr", NULL, false}, {                            \
        "quiet", NULL, NULL, NULL, "only errors on stderr", NULL, false                                  \
    }

/* Options of the commands that run a checkpoint's generator. */
#define CLI_EMA_OPT                                                                                      \
    {"no-ema", NULL, NULL, NULL, "use the generator's own weights rather than their moving average (runs " \
     "trained with --g-ema)", NULL, false}

typedef struct {
    const char *name;
    const char *summary;
    const char *usage; /* text after "clgan NAME" */
    cli_opt *opts;
    int nopts;
} cli_command;
/* The program's name in messages and --help: NULL (the default) for
 * "clgan NAME"; a tool using this option code sets its own. */
extern const char *cli_program;

/* An option that sets fields of a run configuration: one table per command
 * (cmd_train.c) gives each option its fields, help and whether it defines
 * the run; the parser, bounds and default come from the library's field
 * table and defaults (clgan_config_fields, clgan_run_defaults), so --help
 * shows what runs. */
typedef struct {
    const char *name, *metavar; /* metavar NULL: a flag, which sets its fields to `set` */
    const char *keys;           /* the fields it sets, space-separated ("opt_g.lr opt_d.lr"); NULL: the command's own */
    const char *def;            /* keys: a note after the default, or "=TEXT" shown instead; else the default shown */
    const char *help;
    bool run;                   /* defines the run: cannot change on --resume */
    const char *set;            /* a flag's value */
} cli_field_opt;
enum { CLI_DEF_CAP = 192 };
/* The cli_opt entries of table t into out, their shown defaults into defs. */
void cli_fields_opts(const cli_field_opt *t, int n, cli_opt *out, char (*defs)[CLI_DEF_CAP]);
/* Applies every given option of t that has fields to rc; CLI_USAGE after
 * printing why for a value its field refuses. */
int cli_fields_apply(const cli_command *c, const cli_field_opt *t, int n, clgan_run_config *rc);
/* CLI_USAGE, printing "--NAME <why>", when an option that defines the run is given. */
int cli_fields_refuse(const cli_command *c, const cli_field_opt *t, int n, const char *why);

/* Parses argv[1..] (argv[0] is the command name) into c->opts. Positionals
 * are not accepted. Returns CLI_OK, or CLI_USAGE after printing why; --help
 * prints the command's help and sets *help_shown. */
int cli_parse(cli_command *c, int argc, char **argv, bool *help_shown);
/* Every command's prologue: parses argv (cli_parse), shows --help, applies
 * --verbose/--quiet. Returns CLI_GO when the command goes on, else the exit
 * status to return (CLI_OK after --help, CLI_USAGE after printing why). */
enum { CLI_GO = -1 };
int cli_start(cli_command *c, int argc, char **argv);
const char *cli_get(const cli_command *c, const char *name);
bool cli_flag(const cli_command *c, const char *name);
/* Given on the command line or through its environment variable. */
bool cli_given(const cli_command *c, const char *name);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_train_classifier(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_interpolate(int argc, char **argv);
int cmd_inpaint(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* Parses an integer / float option, printing a usage error on failure. */
int cli_get_long(const cli_command *c, const char *name, long lo, long hi, long *out);
int cli_get_double(const cli_command *c, const char *name, double *out);
/* as cli_get_double, also refusing what a float cannot hold */
int cli_get_float(const cli_command *c, const char *name, float *out);
void cli_print_help(const cli_command *c, FILE *f);
/* --labels: "3" or "0,1,2", repeated to fill n labels in [0, classes). */
int cli_parse_labels(const cli_command *c, const char *s, int n, int classes, int32_t *out);

/* --checkpoint FILE (or a run folder: its latest), required: the checkpoint's
 * path into path and its configuration into *run. image_use: NULL, or what
 * the command does with images ("inpainting") when it refuses the 2-D toy
 * model. Returns CLI_OK, or CLI_USAGE / CLI_FAIL after printing why. */
int cli_checkpoint_config(const cli_command *c, const char *image_use, char *path, size_t cap, clgan_run_config *run);
/* The GAN of checkpoint path (clgan_gan_from_checkpoint) on d, sampling with
 * the generator EMA when it has one and --no-ema is not given (said with
 * --verbose). */
clgan_status cli_open_gan(const cli_command *c, const char *path, const clgan_run_config *run, clgan_device *d,
                          clgan_gan **out);

/* Seconds on a monotonic clock. */
double cli_now_s(void);
/* "12m05s", "1h02m"; "--" for a negative, NaN or absurd duration (an ETA not known yet). */
void cli_format_duration(double s, char *out, size_t cap);

/* Prints "clgan: error: <last error>" and returns CLI_FAIL. */
int cli_fail(clgan_status st);

/* Applies --verbose/--quiet to the library's log level. */
void cli_apply_verbosity(const cli_command *c);

/* The device options (--kernel-dir, --gemm, ...) into *opt; CLI_USAGE after
 * printing why for a bad --gemm. */
int cli_device_options(const cli_command *c, clgan_device_options *opt);

/* Enumerates, chooses and opens the device the options name. Returns CLI_OK
 * with *out set; or, for --device list, prints the devices and returns CLI_OK
 * with *out NULL; or prints the error and returns CLI_FAIL. */
int cli_open_device(const cli_command *c, clgan_device **out);
/* The same for process nth (>= 0) of several on this machine: its own among
 * the devices --device matches (clgan_device_choose_nth); -1: as above */
int cli_open_device_nth(const cli_command *c, int nth, clgan_device **out);
/* "rank R of N (host): " in errors when several processes train, else "" */
extern char cli_rank_label[64];

int cmd_devices(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_kernels(int argc, char **argv);

#endif
