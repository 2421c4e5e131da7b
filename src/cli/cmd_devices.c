/* clgan devices: every OpenCL platform and device, and ref. */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_devices(int argc, char **argv) {
    cli_opt opts[] = {CLI_DEVICE_OPTS};
    cli_command c = {"devices", "List every OpenCL platform and device of every type, and the ref device. "
                                "The device --device (or CLGAN_DEVICE) would choose is marked with *.",
                     "[--device D]", opts, (int)(sizeof opts / sizeof opts[0])};
    bool help;
    int rc = cli_parse(&c, argc, argv, &help);
    if (rc != CLI_OK || help) return rc;
    cli_apply_verbosity(&c);
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
    char *s = clgan_device_list_format(&l, true);
    /* mark the chosen device: its block starts with its id at column 0 */
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        bool head = line[0] != ' ';
        bool mark = false;
        if (head && chosen >= 0) {
            const char *id = l.items[chosen].id;
            size_t n = strlen(id);
            mark = strncmp(line, id, n) == 0 && line[n] == ' ';
        }
        printf("%s%.*s\n", head ? (mark ? "* " : "  ") : "  ", (int)len, line);
        line = nl ? nl + 1 : line + len;
    }
    free(s);
    if (l.opencl_note[0]) printf("note: %s\n", l.opencl_note);
    clgan_device_list_free(&l);
    return CLI_OK;
}
