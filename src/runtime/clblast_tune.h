/* Internal: CLBlast's C++-only tuner and parameter queries, as C
 * (clblast_tune.cpp). */
#ifndef CLGAN_CLBLAST_TUNE_H
#define CLGAN_CLBLAST_TUNE_H

#include <CL/cl.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLGAN_CLBLAST_MAX_PARAMS 24

/* One kernel's parameters: names as CLBlast spells them ("MWG") and values. */
typedef struct {
    char names[CLGAN_CLBLAST_MAX_PARAMS][32];
    size_t values[CLGAN_CLBLAST_MAX_PARAMS];
    int n;
} clgan_clblast_params;

/* clblast::TuneXgemm / TuneXgemmDirect (kernel "Xgemm" / "XgemmDirect") in
 * single precision on (m, n, k), trying `fraction` of the search space;
 * 0 with *out set, or -1 with why. Xgemm needs m and n multiples of 128. */
int clgan_clblast_tune(cl_command_queue queue, const char *kernel, size_t m, size_t n, size_t k, double fraction,
                       clgan_clblast_params *out, char *why, size_t why_cap);
/* The single-precision parameters CLBlast uses now for `kernel` on device
 * (its database's, or an override's). */
int clgan_clblast_current(cl_device_id device, const char *kernel, clgan_clblast_params *out, char *why,
                          size_t why_cap);

#ifdef __cplusplus
}
#endif
#endif
