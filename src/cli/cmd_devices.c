/* clgan devices: every OpenCL platform and device, and ref, with the GEMM
 * path each would use and why. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_devices(int argc, char **argv) {
    cli_opt opts[] = {CLI_DEVICE_OPTS};
    cli_command c = {"devices", "List every OpenCL platform and device of every type, and the ref device, with the "
                                "GEMM path each would use (--gemm, a clgan tune record, or the rule) and why. "
                                "The device --device (or CLGAN_DEVICE) would choose is marked with *.",
                     "[--device D] [--gemm PATH]", opts, (int)(sizeof opts / sizeof opts[0])};
    int rc = cli_start(&c, argc, argv);
    if (rc != CLI_GO) return rc;
    clgan_device_options opt;
    if ((rc = cli_device_options(&c, &opt)) != CLI_OK) return rc;
    clgan_device_list l;
    clgan_status st = clgan_devices_enumerate(&l);
    if (st != CLGAN_OK) return cli_fail(st);
    const char *spec = cli_get(&c, "device");
    int chosen = -1;
    if (!(spec && strcmp(spec, "list") == 0)) {
        st = clgan_device_choose(&l, spec, &chosen);
        if (st != CLGAN_OK) {
            clgan_device_list_free(&l);
            return cli_fail(st);
        }
    }
    for (int i = 0; i < l.count; i++) {
        clgan_device_list one = {.items = &l.items[i], .count = 1};
        char *s = clgan_device_list_format(&one, true);
        /* the first line is the device's id; the chosen one is marked */
        for (char *line = s; line && *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            bool head = line == s;
            printf("%s%.*s\n", head && i == chosen ? "* " : "  ", (int)len, line);
            line = nl ? nl + 1 : line + len;
        }
        free(s);
        if (l.items[i].backend != CLGAN_BACKEND_OPENCL) continue;
        clgan_gemm_choice g;
        st = clgan_gemm_choose(&l.items[i], &opt, &g);
        if (st != CLGAN_OK) {
            printf("           GEMM: unavailable: %s\n", clgan_last_error());
            clgan_clear_error();
            continue;
        }
        printf("           GEMM: %s (%s)%s; native kernels %s\n", clgan_gemm_path_name(g.path), g.why,
               g.tuned ? "; CLBlast parameters from clgan tune" : "", l.items[i].native_kernels ? "yes" : "no");
    }
    if (l.opencl_note[0]) printf("note: %s\n", l.opencl_note);
    clgan_device_list_free(&l);
    return CLI_OK;
}
