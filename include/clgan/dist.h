/* Data-parallel training over processes: MPI (Open MPI) when clgan was
 * built with it (meson option mpi, on when MPI is found), and the process
 * was started by mpirun; otherwise one process, and every call below is the
 * single-process identity. Each process (rank) computes a part of every
 * batch on its own device; the gradients of the parts are summed before
 * each update by clgan_dist_allreduce, in a fixed order, so every rank
 * holds the same bits. (src/dist/dist.c) */
#ifndef CLGAN_DIST_H
#define CLGAN_DIST_H

#include "clgan/core.h"

CLGAN_API_BEGIN

typedef struct clgan_dist clgan_dist;

/* Whether this build has MPI. */
bool clgan_dist_built_with_mpi(void);
/* Starts MPI when the process was launched by mpirun (or another MPI
 * launcher: OMPI_COMM_WORLD_SIZE, PMIX_RANK or PMI_RANK is set) and returns
 * its handle; *out NULL otherwise (one process). An MPI launch of several
 * processes in a build without MPI is an error: each would train alone. */
clgan_status clgan_dist_init(clgan_dist **out);
/* The handle clgan_dist_init returned (NULL before, and in one process): the
 * ALLREDUCE op's (clgan_allreduce in clgan/graph.h). */
clgan_dist *clgan_dist_world(void);
/* MPI_Finalize (NULL: nothing) */
void clgan_dist_finalize(clgan_dist *d);
/* Ends every process of the job with `code` (MPI_Abort); returns when d is NULL. */
void clgan_dist_abort(clgan_dist *d, int code);

int clgan_dist_rank(const clgan_dist *d);  /* 0 for NULL */
int clgan_dist_size(const clgan_dist *d);  /* 1 for NULL */
int clgan_dist_local_rank(const clgan_dist *d); /* among the processes on this machine */
const char *clgan_dist_host(const clgan_dist *d);

/* This rank's samples of each batch of `batch`: [*first, *first + *count),
 * the batch split as evenly as it goes, the first batch % size ranks one
 * more; the union over ranks, in rank order, is the whole batch. */
void clgan_dist_part(const clgan_dist *d, int batch, int *first, int *count);

/* v (n floats) := the sum over ranks of every rank's v, the same bits on
 * every rank: each rank sums one chunk of v over the ranks in rank order
 * (an all-to-all), then every rank gathers every chunk. */
clgan_status clgan_dist_allreduce(clgan_dist *d, float *v, size_t n);
/* *v := the largest *v over ranks (stop requests, time limits) */
clgan_status clgan_dist_max(clgan_dist *d, int *v);
/* Fails, naming every rank's value, unless all ranks pass the same v
 * (what: what v is, for the message). */
clgan_status clgan_dist_check_same(clgan_dist *d, uint64_t v, const char *what);
clgan_status clgan_dist_barrier(clgan_dist *d);

/* Time spent in and bytes sent by clgan_dist_allreduce so far (this rank) */
double clgan_dist_comm_seconds(const clgan_dist *d);
uint64_t clgan_dist_comm_bytes(const clgan_dist *d);

CLGAN_API_END

#endif
