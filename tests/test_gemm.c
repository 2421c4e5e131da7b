/* GEMM path choice at the library level (no device needed): --gemm native
 * on an OpenCL device without native kernels is refused naming it; the rule
 * for auto; forced paths; names parse. A device without native kernels is
 * described by hand, since the machines the tests run on may have none. */
#include "clgan/runtime.h"

#include <stdio.h>
#include <string.h>

static int failures;

static void check(bool ok, const char *what) {
    printf("%-5s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok) failures++;
}

int main(void) {
    clgan_log_set_level(CLGAN_LOG_QUIET);
    clgan_device_info gpu = {.backend = CLGAN_BACKEND_OPENCL, .id = "1:0", .type = "GPU", .name = "Test GPU 9000",
                             .native_kernels = false};
    clgan_device_info cpu = {.backend = CLGAN_BACKEND_OPENCL, .id = "0:0", .type = "CPU", .name = "Test CPU",
                             .native_kernels = true};
    clgan_device_options opt = {.gemm = CLGAN_GEMM_NATIVE, .cache_dir = "/nonexistent/clgan-test", .no_tune = true};
    clgan_gemm_choice ch;
    clgan_status st = clgan_gemm_choose(&gpu, &opt, &ch);
    check(st == CLGAN_ERR_UNSUPPORTED && strstr(clgan_last_error(), "1:0 (Test GPU 9000)") &&
              strstr(clgan_last_error(), "does not run native kernels"),
          "--gemm native refused on a device without native kernels, naming it");
    printf("      %s\n", clgan_last_error());
    clgan_clear_error();
    check(clgan_gemm_choose(&cpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_NATIVE && strstr(ch.why, "forced"),
          "--gemm native on a device with native kernels");
    opt.gemm = CLGAN_GEMM_AUTO;
    check(clgan_gemm_choose(&cpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_NATIVE && strstr(ch.why, "rule"),
          "auto without a record: native on a CPU with native kernels");
    check(clgan_gemm_choose(&gpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_CLBLAST && strstr(ch.why, "rule"),
          "auto without a record: CLBlast on a GPU");
    gpu.native_kernels = true;
    check(clgan_gemm_choose(&gpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_CLBLAST,
          "auto without a record: CLBlast on a GPU even with native kernels");
    opt.gemm = CLGAN_GEMM_CLBLAST;
    check(clgan_gemm_choose(&cpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_CLBLAST, "--gemm clblast forced");
    clgan_gemm_path p;
    check(clgan_gemm_path_parse("native", &p) == CLGAN_OK && p == CLGAN_GEMM_NATIVE &&
              clgan_gemm_path_parse("auto", &p) == CLGAN_OK && p == CLGAN_GEMM_AUTO &&
              clgan_gemm_path_parse("NATIVE", &p) == CLGAN_ERR_INVALID_ARG &&
              clgan_gemm_path_parse(NULL, &p) == CLGAN_ERR_INVALID_ARG,
          "path names parse, others refused");
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
