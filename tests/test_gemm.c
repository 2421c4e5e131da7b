/* GEMM path choice at the library level (no device needed): --gemm native
 * on an OpenCL device without native kernels is refused naming it; the rule
 * for auto; forced paths; names parse. A device without native kernels is
 * described by hand, since the machines the tests run on may have none.
 *
 *   test_gemm [refuse|auto|forced|names]   (all of them without an argument) */
#include "clgan/runtime.h"

#include "harness.h"

#include <stdio.h>
#include <string.h>

static clgan_device_info gpu_info(void) {
    return (clgan_device_info){.backend = CLGAN_BACKEND_OPENCL, .id = "1:0", .type = "GPU", .name = "Test GPU 9000",
                               .native_kernels = false};
}

static clgan_device_info cpu_info(void) {
    return (clgan_device_info){.backend = CLGAN_BACKEND_OPENCL, .id = "0:0", .type = "CPU", .name = "Test CPU",
                               .native_kernels = true};
}

static clgan_device_options options(clgan_gemm_path path) {
    return (clgan_device_options){.gemm = path, .cache_dir = "/nonexistent/clgan-test", .no_tune = true};
}

/* --gemm native: refused on a device without native kernels, naming it */
static void part_refuse(void) {
    clgan_device_info gpu = gpu_info(), cpu = cpu_info();
    clgan_device_options opt = options(CLGAN_GEMM_NATIVE);
    clgan_gemm_choice ch;
    clgan_status st = clgan_gemm_choose(&gpu, &opt, &ch);
    EXPECT(st == CLGAN_ERR_UNSUPPORTED && strstr(clgan_last_error(), "1:0 (Test GPU 9000)") &&
               strstr(clgan_last_error(), "does not run native kernels"),
           "--gemm native refused on a device without native kernels, naming it");
    printf("      %s\n", clgan_last_error());
    clgan_clear_error();
    EXPECT(clgan_gemm_choose(&cpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_NATIVE && strstr(ch.why, "forced"),
           "--gemm native on a device with native kernels");
}

/* auto without a tune record: the rule */
static void part_auto(void) {
    clgan_device_info gpu = gpu_info(), cpu = cpu_info();
    clgan_device_options opt = options(CLGAN_GEMM_AUTO);
    clgan_gemm_choice ch;
    EXPECT(clgan_gemm_choose(&cpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_NATIVE && strstr(ch.why, "rule"),
           "auto without a record: native on a CPU with native kernels");
    EXPECT(clgan_gemm_choose(&gpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_CLBLAST && strstr(ch.why, "rule"),
           "auto without a record: CLBlast on a GPU");
    gpu.native_kernels = true;
    EXPECT(clgan_gemm_choose(&gpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_CLBLAST,
           "auto without a record: CLBlast on a GPU even with native kernels");
}

static void part_forced(void) {
    clgan_device_info cpu = cpu_info();
    clgan_device_options opt = options(CLGAN_GEMM_CLBLAST);
    clgan_gemm_choice ch;
    EXPECT(clgan_gemm_choose(&cpu, &opt, &ch) == CLGAN_OK && ch.path == CLGAN_GEMM_CLBLAST, "--gemm clblast forced");
}

static void part_names(void) {
    clgan_gemm_path p;
    EXPECT(clgan_gemm_path_parse("native", &p) == CLGAN_OK && p == CLGAN_GEMM_NATIVE &&
               clgan_gemm_path_parse("auto", &p) == CLGAN_OK && p == CLGAN_GEMM_AUTO &&
               clgan_gemm_path_parse("NATIVE", &p) == CLGAN_ERR_INVALID_ARG &&
               clgan_gemm_path_parse(NULL, &p) == CLGAN_ERR_INVALID_ARG,
           "path names parse, others refused");
}

int main(int argc, char **argv) {
    clgan_log_set_level(CLGAN_LOG_QUIET);
    static const harness_part parts[] = {
        {"refuse", part_refuse},
        {"auto", part_auto},
        {"forced", part_forced},
        {"names", part_names},
    };
    return harness_main(argc, argv, "test_gemm", parts, sizeof parts / sizeof parts[0]);
}
