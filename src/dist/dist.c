/* Data-parallel processes over MPI (include/clgan/dist.h). Without MPI
 * (CLGAN_HAVE_MPI undefined) there is one process and every call is the
 * identity.
 *
 * The all-reduce is clgan's own rather than MPI_Allreduce, whose result may
 * differ in its last bits between ranks (the standard leaves the order of
 * the reduction to the implementation, and Open MPI's algorithms change
 * with the message size): v is cut into one chunk per rank; an all-to-all
 * gives rank r every rank's copy of chunk r, which r sums in rank order
 * 0, 1, ..., P-1; an all-gather then gives every rank every summed chunk. Each
 * element is summed once, in a fixed order, by one rank, so all ranks hold
 * the same bits, and a rank moves 2 (P-1)/P of v's bytes, as a ring does. */
#include "clgan/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CLGAN_HAVE_MPI
#include <mpi.h>
#endif

struct clgan_dist {
    int rank, size, local_rank;
    char host[256];
    double comm_s;
    uint64_t comm_bytes;
    float *scratch;
    size_t scratch_cap;
};

static bool launched_by_mpi(int *size) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    *size = 0;
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!s) s = getenv("PMI_SIZE");
    if (s) *size = atoi(s);
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i])) return true;
    return false;
}

/* the process's handle once clgan_dist_init made one (the ALLREDUCE op's) */
static clgan_dist *world;
clgan_dist *clgan_dist_world(void) { return world; }

bool clgan_dist_built_with_mpi(void) {
#ifdef CLGAN_HAVE_MPI
    return true;
#else
    return false;
#endif
}

int clgan_dist_rank(const clgan_dist *d) { return d ? d->rank : 0; }
int clgan_dist_size(const clgan_dist *d) { return d ? d->size : 1; }
int clgan_dist_local_rank(const clgan_dist *d) { return d ? d->local_rank : 0; }
const char *clgan_dist_host(const clgan_dist *d) { return d ? d->host : ""; }
double clgan_dist_comm_seconds(const clgan_dist *d) { return d ? d->comm_s : 0; }
uint64_t clgan_dist_comm_bytes(const clgan_dist *d) { return d ? d->comm_bytes : 0; }

void clgan_dist_part(const clgan_dist *d, int batch, int *first, int *count) {
    int p = clgan_dist_size(d), r = clgan_dist_rank(d), base = batch / p, extra = batch % p;
    *count = base + (r < extra ? 1 : 0);
    *first = r * base + (r < extra ? r : extra);
}

#ifdef CLGAN_HAVE_MPI

static clgan_status mpi_error(const clgan_dist *d, int err, const char *call) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "error %d", err);
    return CLGAN_ERR(CLGAN_ERR_DEVICE, "rank %d of %d (%s): %s failed: %s", d->rank, d->size, d->host, call, text);
}
#define MPI_TRY(d, call)                                                                                              \
    do {                                                                                                              \
        int err_ = (call);                                                                                            \
        if (err_ != MPI_SUCCESS) return mpi_error((d), err_, #call);                                                  \
    } while (0)

clgan_status clgan_dist_init(clgan_dist **out) {
    *out = NULL;
    int size = 0;
    if (!launched_by_mpi(&size)) return CLGAN_OK;
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return CLGAN_ERR(CLGAN_ERR_DEVICE, "MPI_Init_thread failed");
    clgan_dist *d = calloc(1, sizeof *d);
    if (!d) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    /* errors come back as codes (and become clgan errors naming the rank); a
     * rank that dies still ends the job through mpirun */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_rank(local, &d->local_rank);
        MPI_Comm_free(&local);
    }
    int len = 0;
    char name[MPI_MAX_PROCESSOR_NAME];
    if (MPI_Get_processor_name(name, &len) == MPI_SUCCESS) snprintf(d->host, sizeof d->host, "%.*s", len, name);
    *out = world = d;
    return CLGAN_OK;
}

void clgan_dist_finalize(clgan_dist *d) {
    if (!d) return;
    if (world == d) world = NULL;
    free(d->scratch);
    free(d);
    int fin = 0;
    MPI_Finalized(&fin);
    if (!fin) MPI_Finalize();
}

void clgan_dist_abort(clgan_dist *d, int code) {
    if (d) MPI_Abort(MPI_COMM_WORLD, code);
}

static void chunk(size_t n, int p, int j, size_t *lo, size_t *len) {
    size_t a = n * (size_t)j / (size_t)p, b = n * (size_t)(j + 1) / (size_t)p;
    *lo = a;
    *len = b - a;
}

clgan_status clgan_dist_allreduce(clgan_dist *d, float *v, size_t n) {
    if (!d || d->size == 1 || n == 0) return CLGAN_OK;
    int p = d->size, r = d->rank;
    if (n > (size_t)INT32_MAX)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "an all-reduce of %zu floats, more than MPI's int counts", n);
    double t0 = MPI_Wtime();
    size_t mylo, mylen;
    chunk(n, p, r, &mylo, &mylen);
    size_t need = (size_t)p * (mylen ? mylen : 1);
    if (need > d->scratch_cap) {
        float *s = realloc(d->scratch, need * sizeof *s);
        if (!s) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory for the all-reduce (%zu floats)", need);
        d->scratch = s;
        d->scratch_cap = need;
    }
    int *sc = malloc(4 * (size_t)p * sizeof *sc);
    if (!sc) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    int *sd = sc + p, *rc = sd + p, *rd = rc + p;
    for (int j = 0; j < p; j++) {
        size_t lo, len;
        chunk(n, p, j, &lo, &len);
        sc[j] = (int)len; /* chunk j of v goes to rank j */
        sd[j] = (int)lo;
        rc[j] = (int)mylen; /* rank j's copy of my chunk */
        rd[j] = (int)((size_t)j * mylen);
    }
    int err = MPI_Alltoallv(v, sc, sd, MPI_FLOAT, d->scratch, rc, rd, MPI_FLOAT, MPI_COMM_WORLD);
    if (err == MPI_SUCCESS) {
        for (size_t e = 0; e < mylen; e++) {
            float acc = d->scratch[e];
            for (int j = 1; j < p; j++) acc += d->scratch[(size_t)j * mylen + e];
            v[mylo + e] = acc;
        }
        for (int j = 0; j < p; j++) { /* every rank's summed chunk */
            rc[j] = sc[j];
            rd[j] = sd[j];
        }
        err = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, v, rc, rd, MPI_FLOAT, MPI_COMM_WORLD);
    }
    free(sc);
    if (err != MPI_SUCCESS) return mpi_error(d, err, "the gradients' all-reduce");
    d->comm_s += MPI_Wtime() - t0;
    d->comm_bytes += 2 * (uint64_t)(n - mylen) * sizeof(float);
    return CLGAN_OK;
}

clgan_status clgan_dist_max(clgan_dist *d, int *v) {
    if (!d || d->size == 1) return CLGAN_OK;
    MPI_TRY(d, MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
    return CLGAN_OK;
}

clgan_status clgan_dist_barrier(clgan_dist *d) {
    if (!d || d->size == 1) return CLGAN_OK;
    MPI_TRY(d, MPI_Barrier(MPI_COMM_WORLD));
    return CLGAN_OK;
}

clgan_status clgan_dist_check_same(clgan_dist *d, uint64_t v, const char *what) {
    if (!d || d->size == 1) return CLGAN_OK;
    unsigned long long *all = malloc((size_t)d->size * sizeof *all), mine = v;
    if (!all) return CLGAN_ERR(CLGAN_ERR_NOMEM, "out of host memory");
    int err = MPI_Allgather(&mine, 1, MPI_UNSIGNED_LONG_LONG, all, 1, MPI_UNSIGNED_LONG_LONG, MPI_COMM_WORLD);
    if (err != MPI_SUCCESS) {
        free(all);
        return mpi_error(d, err, "comparing the ranks' checksums");
    }
    bool same = true;
    for (int j = 1; j < d->size; j++) same = same && all[j] == all[0];
    clgan_status st = CLGAN_OK;
    if (!same) {
        char list[512];
        size_t len = 0;
        for (int j = 0; j < d->size && len + 40 < sizeof list; j++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s rank %d %016llx", j ? "," : "", j, all[j]);
        st = CLGAN_ERR(CLGAN_ERR_NUMERIC, "%s differ across ranks:%s", what, list);
    }
    free(all);
    return st;
}

#else /* one process */

clgan_status clgan_dist_init(clgan_dist **out) {
    *out = NULL;
    int size = 0;
    if (launched_by_mpi(&size) && size > 1)
        return CLGAN_ERR(CLGAN_ERR_UNSUPPORTED, "started by an MPI launcher as one of %d processes, but this clgan "
                         "was built without MPI (each process would train alone): install libopenmpi-dev and build "
                         "again (meson option mpi)", size);
    return CLGAN_OK;
}
void clgan_dist_finalize(clgan_dist *d) { (void)d; }
void clgan_dist_abort(clgan_dist *d, int code) {
    (void)d;
    (void)code;
}
clgan_status clgan_dist_allreduce(clgan_dist *d, float *v, size_t n) {
    (void)d;
    (void)v;
    (void)n;
    return CLGAN_OK;
}
clgan_status clgan_dist_max(clgan_dist *d, int *v) {
    (void)d;
    (void)v;
    return CLGAN_OK;
}
clgan_status clgan_dist_barrier(clgan_dist *d) {
    (void)d;
    return CLGAN_OK;
}
clgan_status clgan_dist_check_same(clgan_dist *d, uint64_t v, const char *what) {
    (void)d;
    (void)v;
    (void)what;
    return CLGAN_OK;
}

#endif
