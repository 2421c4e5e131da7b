/* bench_mpi: what data-parallel training costs in communication, per step,
 * for the built-in models: the all-reduce of each network's gradient block
 * (clgan_dist_allreduce, as clgan_gan_d_step and _g_step call it: the
 * gradients plus the step's losses), timed alone, and the bytes each rank
 * sends. Run under mpirun:
 *
 *   mpirun -np 2 build/tools/bench_mpi [--reps N] [--model M]...
 *
 * A step all-reduces G's block once and D's n_critic times. The medians are
 * of `reps` timed all-reduces after 5 untimed ones, each started together
 * (a barrier first), so they leave out the waiting for a slower rank that
 * the log's allreduce_ms includes. */
#include "clgan/dist.h"
#include "clgan/runtime.h"
#include "clgan/train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* median seconds of reps all-reduces of n floats */
static double time_allreduce(clgan_dist *d, size_t n, int reps) {
    float *v = calloc(n, sizeof *v);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!v || !t) {
        free(v);
        free(t);
        return -1;
    }
    for (int i = -5; i < reps; i++) {
        for (size_t k = 0; k < n; k++) v[k] = (float)(k % 97) * 0.01f;
        clgan_dist_barrier(d);
        double t0 = now_s();
        if (clgan_dist_allreduce(d, v, n) != CLGAN_OK) {
            fprintf(stderr, "bench_mpi: %s\n", clgan_last_error());
            break;
        }
        if (i >= 0) t[i] = now_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double m = t[reps / 2];
    free(v);
    free(t);
    return m;
}

int main(int argc, char **argv) {
    int reps = 50;
    const char *models[8];
    int nm = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc && nm < 8) {
            models[nm++] = argv[++i];
        } else {
            fprintf(stderr, "usage: mpirun -np N bench_mpi [--reps N] [--model dcgan|mlp|toy]...\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (nm == 0) {
        models[nm++] = "dcgan";
        models[nm++] = "mlp";
        models[nm++] = "toy";
    }
    clgan_dist *d = NULL;
    if (clgan_dist_init(&d) != CLGAN_OK) {
        fprintf(stderr, "bench_mpi: %s\n", clgan_last_error());
        return 1;
    }
    int ranks = clgan_dist_size(d), rank = clgan_dist_rank(d);
    clgan_device_list l;
    clgan_device *ref = NULL;
    if (clgan_devices_enumerate(&l) != CLGAN_OK || clgan_device_open(&l.items[l.count - 1], NULL, &ref) != CLGAN_OK) {
        fprintf(stderr, "bench_mpi: %s\n", clgan_last_error());
        clgan_dist_abort(d, 1);
        return 1;
    }
    if (rank == 0)
        printf("model,ranks,g_floats,d_floats,n_critic,bytes_sent_per_step_per_rank,g_allreduce_ms,d_allreduce_ms,"
               "allreduce_ms_per_step\n");
    for (int m = 0; m < nm; m++) {
        clgan_model_kind kind;
        if (clgan_model_parse(models[m], &kind) != CLGAN_OK) {
            fprintf(stderr, "bench_mpi: %s\n", clgan_last_error());
            continue;
        }
        clgan_run_config rc;
        clgan_run_defaults(&rc, kind, CLGAN_LOSS_NS);
        clgan_gan *gan = NULL;
        if (clgan_gan_new(&rc.gan, ref, &gan) != CLGAN_OK) { /* one process's GAN: only its block sizes are used */
            fprintf(stderr, "bench_mpi: %s\n", clgan_last_error());
            continue;
        }
        size_t ng = clgan_params_total(clgan_gan_block(gan, CLGAN_BLOCK_G)) + 1;
        size_t nd = clgan_params_total(clgan_gan_block(gan, CLGAN_BLOCK_D)) + 5;
        clgan_gan_free(gan);
        double tg = time_allreduce(d, ng, reps), td = time_allreduce(d, nd, reps);
        int nc = rc.gan.n_critic;
        /* each rank sends all but its own chunk twice (all-to-all, all-gather) */
        double sent = 2.0 * (double)(ng + (size_t)nc * nd) * 4.0 * (double)(ranks - 1) / (double)ranks;
        if (rank == 0)
            printf("%s,%d,%zu,%zu,%d,%.0f,%.3f,%.3f,%.3f\n", models[m], ranks, ng, nd, nc, sent, tg * 1e3, td * 1e3,
                   (tg + nc * td) * 1e3);
    }
    clgan_device_close(ref);
    clgan_device_list_free(&l);
    clgan_dist_finalize(d);
    return 0;
}
