/* Peak single-precision multiply-add throughput of one core, per instruction set.
 *
 *   cc -O2 -o fma_peak bench/fma_peak.c && ./fma_peak [avx512 avx2 generic neon]
 *
 * Each set runs 16 independent accumulator chains (enough to cover an FMA's
 * latency times its throughput on current cores), so the loop is bound by the
 * FMA ports alone. Prints one line per set: "<set> <GFLOP/s>" (2 FLOP per lane
 * per FMA). A set this CPU cannot run prints "<set> unsupported". Built with
 * target attributes, never -march, like the library itself.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CHAINS 16
#define ITERS 20000000L

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static volatile float sink;

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

__attribute__((target("avx512f"))) static double run_avx512(long iters) {
    __m512 acc[CHAINS];
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_set1_ps((float)j);
    double t0 = now();
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_fmadd_ps(acc[j], m, a);
    double secs = now() - t0;
    for (int j = 1; j < CHAINS; j++) acc[0] = _mm512_add_ps(acc[0], acc[j]);
    sink = _mm512_reduce_add_ps(acc[0]);
    return 2.0 * 16 * CHAINS * iters / secs;
}

__attribute__((target("avx2,fma"))) static double run_avx2(long iters) {
    /* 16 ymm registers: 14 chains plus the two constants. */
    enum { N = 14 };
    __m256 acc[N];
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < N; j++) acc[j] = _mm256_set1_ps((float)j);
    double t0 = now();
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
        for (int j = 0; j < N; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, a);
    double secs = now() - t0;
    float out[8];
    for (int j = 1; j < N; j++) acc[0] = _mm256_add_ps(acc[0], acc[j]);
    _mm256_storeu_ps(out, acc[0]);
    sink = out[0];
    return 2.0 * 8 * N * iters / secs;
}

static int have(const char *set) {
    __builtin_cpu_init();
    if (!strcmp(set, "avx512")) return __builtin_cpu_supports("avx512f");
    if (!strcmp(set, "avx2")) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return !strcmp(set, "generic");
}
#elif defined(__aarch64__)
#include <arm_neon.h>

static double run_neon(long iters) {
    float32x4_t acc[CHAINS];
    const float32x4_t m = vdupq_n_f32(0.999999f), a = vdupq_n_f32(1e-7f);
    for (int j = 0; j < CHAINS; j++) acc[j] = vdupq_n_f32((float)j);
    double t0 = now();
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
        for (int j = 0; j < CHAINS; j++) acc[j] = vfmaq_f32(a, acc[j], m);
    double secs = now() - t0;
    for (int j = 1; j < CHAINS; j++) acc[0] = vaddq_f32(acc[0], acc[j]);
    sink = vaddvq_f32(acc[0]);
    return 2.0 * 4 * CHAINS * iters / secs;
}

static int have(const char *set) { return !strcmp(set, "neon") || !strcmp(set, "generic"); }
#else
static int have(const char *set) { return !strcmp(set, "generic"); }
#endif

/* The portable path: what the compiler makes of plain C at -O2 (SSE2 on
 * x86-64, NEON on aarch64; a multiply and an add where there is no FMA). */
static double run_generic(long iters) {
    float acc[CHAINS][8];
    for (int j = 0; j < CHAINS; j++)
        for (int l = 0; l < 8; l++) acc[j][l] = (float)(j + l);
    double t0 = now();
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 16
        for (int j = 0; j < CHAINS; j++)
#pragma GCC unroll 8
            for (int l = 0; l < 8; l++) acc[j][l] = acc[j][l] * 0.999999f + 1e-7f;
    double secs = now() - t0;
    float s = 0;
    for (int j = 0; j < CHAINS; j++)
        for (int l = 0; l < 8; l++) s += acc[j][l];
    sink = s;
    return 2.0 * 8 * CHAINS * iters / secs;
}

static double run(const char *set, long iters) {
#if defined(__x86_64__) || defined(_M_X64)
    if (!strcmp(set, "avx512")) return run_avx512(iters);
    if (!strcmp(set, "avx2")) return run_avx2(iters);
#elif defined(__aarch64__)
    if (!strcmp(set, "neon")) return run_neon(iters);
#endif
    return run_generic(iters);
}

int main(int argc, char **argv) {
    static const char *all[] = {"avx512", "avx2", "neon", "generic"};
    int n = argc > 1 ? argc - 1 : 4;
    for (int i = 0; i < n; i++) {
        const char *set = argc > 1 ? argv[i + 1] : all[i];
        if (!have(set)) {
            printf("%s unsupported\n", set);
            continue;
        }
        double best = 0;
        for (int rep = 0; rep < 3; rep++) { /* best of 3: the machine may be shared */
            double flops = run(set, ITERS);
            if (flops > best) best = flops;
        }
        printf("%s %.1f\n", set, best / 1e9);
    }
    return 0;
}
