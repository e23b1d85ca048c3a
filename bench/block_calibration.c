/* The default update's block (N inputs x 6 outputs, rows laid out as the
 * trainer lays them out and in L1) in sgns's kernels and, built with
 * -DWITH_MKL, in Intel MKL's JIT small-matrix sgemm kernels, for a reference
 * of what a vendor BLAS reaches on the same shapes. The same rows every call,
 * so only the arithmetic and its instructions are timed. N is a window's
 * inputs: 2 x the drawn radius (2, 4, ..., 10 for window 5, equally often).
 *
 *   cc -O3 -std=c99 -Icsrc -o /tmp/block_cal bench/block_calibration.c csrc/kernels.c -lm
 *   cc -O3 -std=c99 -Icsrc -DWITH_MKL -I$PREFIX/include -o /tmp/block_cal \
 *      bench/block_calibration.c csrc/kernels.c $PREFIX/lib/libmkl_rt.so.* -lm
 *   /tmp/block_cal D N [SET ...]     (sets default: every one this CPU runs)
 *
 * Rows are padded as sgns/padded_rows.py pads them (D = 100: 112 floats apart,
 * the padding zero) and sgns's kernels take D rounded up to their vector
 * width within the padding, as the trainer does (D = 100: 104 on avx2, 112
 * on avx512): no masked tail. GFLOP/s count D, as bench/table.py does.
 *
 * One line per kernel set ("sgns <set>") and one for MKL ("mkl <isa>", the
 * instruction set MKL_ENABLE_INSTRUCTIONS allows): nanoseconds for the 36
 * dot products, for the update of both sides, and for both together, best of
 * 5 rounds. MKL runs the update as two GEMMs (V += G U, then U += G^T V with
 * the new V: the same FLOP, not the training's order). No sigmoids. Where MKL
 * makes no JIT kernel (MKL_NO_JIT: its JIT is for Intel CPUs; elsewhere the
 * pointers run its general sgemm) the line says so and nothing is timed. */
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kernels.h"
#ifdef WITH_MKL
#include <mkl.h>
#endif

enum { MAX_IN = 10, N_OUT = 6, ROUNDS = 5 };
static int N_IN = 6; /* the command line's N */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Small values that stay normal over a round's updates; the padding past
 * each row's D values zero, as in training. */
static void fill(float *v, float *u, int d, int ld)
{
    int k;
    for (k = 0; k < N_IN * ld; k++) v[k] = k % ld < d ? (float)(k % 7 - 3) * 1e-2f : 0.0f;
    for (k = 0; k < N_OUT * ld; k++) u[k] = k % ld < d ? (float)(k % 5 - 2) * 1e-2f : 0.0f;
}

static void report(const char *who, const char *set, int d, double dots, double update, double block)
{
    double flop = 6.0 * d * N_IN * N_OUT;
    printf("%s %s D=%d N=%d dots %.1f ns update %.1f ns block %.1f ns %.1f GFLOP/s\n", who, set, d, N_IN, dots * 1e9,
           update * 1e9, block * 1e9, flop / block / 1e9);
}

/* Best of ROUNDS rounds, each from the same rows: reps of DOTS, reps of
 * UPDATE, reps of both; into best[0..2] (seconds per round). A macro, not
 * a function over callbacks, so that each side's calls are timed as they
 * are made. */
#define TIME_ROUNDS(DOTS, UPDATE)                                                                      \
    for (round = 0; round < ROUNDS; round++) {                                                         \
        double t0, t1, t2, t3;                                                                         \
        fill(v, u, d, ld);                                                                                \
        t0 = now();                                                                                    \
        for (r = 0; r < reps; r++) DOTS;                                                               \
        t1 = now();                                                                                    \
        for (r = 0; r < reps; r++) UPDATE;                                                             \
        t2 = now();                                                                                    \
        for (r = 0; r < reps; r++) {                                                                   \
            DOTS;                                                                                      \
            UPDATE;                                                                                    \
        }                                                                                              \
        t3 = now();                                                                                    \
        if (t1 - t0 < best[0]) best[0] = t1 - t0;                                                      \
        if (t2 - t1 < best[1]) best[1] = t2 - t1;                                                      \
        if (t3 - t2 < best[2]) best[2] = t3 - t2;                                                      \
    }

/* The two matrices, 64-byte aligned, and the coefficients of the update
 * (small, so that the rows stay normal over a round). */
static int rows(float **v, float **u, float *g, int ld)
{
    int i;
    if (posix_memalign((void **)v, 64, sizeof(float) * N_IN * ld)) return -1;
    if (posix_memalign((void **)u, 64, sizeof(float) * N_OUT * ld)) {
        free(*v);
        return -1;
    }
    for (i = 0; i < N_IN * N_OUT; i++) g[i] = 1e-7f * (float)(i % 7 - 3);
    return 0;
}

static void run_sgns(const char *set, int d, int ld, long reps)
{
    float *v, *u, *in[MAX_IN], *out[N_OUT], g[MAX_IN * N_OUT], scratch[MAX_IN * N_OUT];
    int w = sg_active_width(), dk = (d + w - 1) / w * w < ld ? (d + w - 1) / w * w : ld;
    double best[3] = {1e9, 1e9, 1e9};
    long r;
    int i, round;
    if (rows(&v, &u, g, ld)) return;
    for (i = 0; i < N_IN; i++) in[i] = v + (long)i * ld;
    for (i = 0; i < N_OUT; i++) out[i] = u + (long)i * ld;
    TIME_ROUNDS(sg_active->block_dots(in, N_IN, out, N_OUT, dk, scratch),
                sg_active->block_update(in, N_IN, out, N_OUT, g, dk, NULL, NULL, 0))
    report("sgns", set, d, best[0] / reps, best[1] / reps, best[2] / reps);
    free(v);
    free(u);
}

#ifdef WITH_MKL
static void run_mkl(int d, int ld, long reps)
{
    float *v, *u, g[MAX_IN * N_OUT], G[MAX_IN * N_OUT];
    void *jd, *jv, *ju;
    mkl_jit_status_t st[3];
    sgemm_jit_kernel_t kd, kv, ku;
    double best[3] = {1e9, 1e9, 1e9};
    long r;
    int round;
    const char *isa = getenv("MKL_ENABLE_INSTRUCTIONS");
    if (rows(&v, &u, g, ld)) return;
    /* Row-major: G = V U^T; V += G U; U += G^T V. */
    st[0] = mkl_jit_create_sgemm(&jd, MKL_ROW_MAJOR, MKL_NOTRANS, MKL_TRANS, N_IN, N_OUT, d, 1.0f, ld, ld, 0.0f,
                                 N_OUT);
    st[1] = mkl_jit_create_sgemm(&jv, MKL_ROW_MAJOR, MKL_NOTRANS, MKL_NOTRANS, N_IN, d, N_OUT, 1.0f, N_OUT, ld,
                                 1.0f, ld);
    st[2] = mkl_jit_create_sgemm(&ju, MKL_ROW_MAJOR, MKL_TRANS, MKL_NOTRANS, N_OUT, d, N_IN, 1.0f, N_OUT, ld, 1.0f,
                                 ld);
    if (st[0] != MKL_JIT_SUCCESS || st[1] != MKL_JIT_SUCCESS || st[2] != MKL_JIT_SUCCESS) {
        printf("mkl: no JIT kernel (%s)\n", st[0] == MKL_NO_JIT || st[1] == MKL_NO_JIT || st[2] == MKL_NO_JIT
                                                 ? "MKL_NO_JIT: not generated for this CPU"
                                                 : "MKL_JIT_ERROR");
        if (st[0] != MKL_JIT_ERROR) mkl_jit_destroy(jd);
        if (st[1] != MKL_JIT_ERROR) mkl_jit_destroy(jv);
        if (st[2] != MKL_JIT_ERROR) mkl_jit_destroy(ju);
        free(v);
        free(u);
        return;
    }
    kd = mkl_jit_get_sgemm_ptr(jd), kv = mkl_jit_get_sgemm_ptr(jv), ku = mkl_jit_get_sgemm_ptr(ju);
    TIME_ROUNDS(kd(jd, v, u, G), (kv(jv, g, u, v), ku(ju, g, v, u)))
    report("mkl", isa && *isa ? isa : "default", d, best[0] / reps, best[1] / reps, best[2] / reps);
    mkl_jit_destroy(jd);
    mkl_jit_destroy(jv);
    mkl_jit_destroy(ju);
    free(v);
    free(u);
}
#endif

int main(int argc, char **argv)
{
    static const char *SETS[] = {"avx512", "avx2", "neon", "generic"};
    int d = argc > 1 ? atoi(argv[1]) : 100, ld, i, named = argc > 3;
    long reps;
    N_IN = argc > 2 ? atoi(argv[2]) : 6;
    if (d < 1 || d > 4096 || N_IN < 1 || N_IN > MAX_IN) {
        fprintf(stderr, "usage: block_cal D N [SET ...] (D 1..4096, N 1..%d)\n", MAX_IN);
        return 2;
    }
    /* sgns/padded_rows.py's row_floats: whole 64-byte lines when that adds at most an eighth. */
    ld = (d + 15) / 16 * 16;
    if (8 * ld > 9 * d) ld = d;
    reps = 12000000L / ((long)d * N_IN / 50 + 6);
    for (i = 0; i < (named ? argc - 3 : 4); i++) {
        const char *set = named ? argv[3 + i] : SETS[i];
        if (sg_select(set) != 0) {
            if (named) printf("sgns %s unsupported\n", set);
            continue;
        }
        run_sgns(set, d, ld, reps);
    }
#ifdef WITH_MKL
    run_mkl(d, ld, reps);
#endif
    return 0;
}
