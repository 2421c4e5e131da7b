/* A parameter block in a safetensors file: every tensor as float32 under
 * its own name. Shared by GAN checkpoints and classifier files. */
#ifndef CLGAN_TRAIN_PARAMS_IO_H
#define CLGAN_TRAIN_PARAMS_IO_H

#include "clgan/graph.h"
#include "clgan/io.h"

/* Adds every tensor of p to w (read back from p's device). */
clgan_status clgan_params_st_add(clgan_st_writer *w, const clgan_params *p);
/* Checks that f holds every tensor of p with its dtype and shape, touching
 * nothing of p's (so it works before p is allocated). */
clgan_status clgan_params_st_check(const clgan_st_file *f, const clgan_params *p);
/* Loads every tensor of p from f, each checked for dtype and shape. */
clgan_status clgan_params_st_load(const clgan_st_file *f, clgan_params *p);

#endif
