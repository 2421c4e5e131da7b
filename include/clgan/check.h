/* clgan check: one training step on two devices, compared layer by layer.
 * Source: src/check/. */
#ifndef CLGAN_CHECK_H
#define CLGAN_CHECK_H

#include "clgan/train.h"

#ifdef __cplusplus
extern "C" {
#endif
CLGAN_API_BEGIN

/* ---- clgan check: one training step on two devices, compared ---- */
typedef struct {
    const char *phase;  /* "D step" or "G step" */
    const char *kind;   /* "activation", "gradient", "update" (the step's change to a parameter), "loss" */
    const char *name;   /* the layer, parameter or loss */
    size_t n;           /* elements */
    double max_abs;     /* max |a - b| */
    double max_rel;     /* max |a - b| / max |a| */
    double nmse;        /* sum (a - b)^2 / sum a^2 */
    bool ok;
} clgan_check_row;
typedef void (*clgan_check_fn)(const clgan_check_row *row, void *user);

/* Builds the GAN of cfg on both devices from the same seed, runs one D step
 * and one G step on the same batch, and reports every named layer's output,
 * every parameter's gradient and every parameter's update; a row
 * fails when its NMSE exceeds tol_nmse or either side is not finite where the
 * other is. *failures counts the failed rows. */
clgan_status clgan_check_devices(clgan_device *a, clgan_device *b, const clgan_gan_config *cfg, double tol_nmse,
                                 clgan_check_fn fn, void *user, int *failures);

CLGAN_API_END

#ifdef __cplusplus
}
#endif
#endif
