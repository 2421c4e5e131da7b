/* libFuzzer harness for checkpoint loading as `clgan sample` does it: the
 * input is a checkpoint file (safetensors whose __metadata__ holds the run
 * configuration); it is written to a scratch file, its configuration opened
 * (clgan_checkpoint_open_config) and, when that succeeds, the GAN it
 * describes built and restored on the `ref` device
 * (clgan_gan_from_checkpoint). Success must give a GAN, any failure a
 * message. */
#include "clgan/runtime.h"
#include "clgan/train.h"
#include "fuzz_scratch.h"

#include <sys/stat.h>

static clgan_device *ref_device;

static void close_device(void) { clgan_device_close(ref_device); }

/* One ref device per process. OpenCL is kept out: ref is all the harness
 * needs, and probing a driver per process costs time and brings the
 * driver's own allocations into the leak checker. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char empty[SCRATCH_PATH];
    const char *tmp = getenv("TMPDIR");
    snprintf(empty, sizeof empty, "%s/clgan-fuzz-no-icd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(empty) || setenv("OCL_ICD_VENDORS", empty, 1) != 0) abort();
    clgan_log_set_level(CLGAN_LOG_QUIET);
    clgan_device_list l;
    int idx = -1;
    if (clgan_devices_enumerate(&l) != CLGAN_OK || clgan_device_choose(&l, "ref", &idx) != CLGAN_OK ||
        clgan_device_open(&l.items[idx], NULL, &ref_device) != CLGAN_OK)
        abort();
    clgan_device_list_free(&l);
    rmdir(empty);
    atexit(close_device);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *file = scratch_path(0);
    scratch_write(file, data, size);
    clgan_clear_error();
    char path[SCRATCH_PATH + 64];
    clgan_run_config rc;
    clgan_status st = clgan_checkpoint_open_config(file, path, sizeof path, &rc);
    if (st != CLGAN_OK) {
        if (!clgan_last_error()[0]) abort();
        return 0;
    }
    clgan_gan *gan = NULL;
    st = clgan_gan_from_checkpoint(path, &rc, ref_device, &gan);
    if (st != CLGAN_OK) {
        if (gan || !clgan_last_error()[0]) abort();
        return 0;
    }
    if (!gan) abort();
    clgan_gan_free(gan);
    return 0;
}
