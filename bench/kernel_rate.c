/* Arithmetic rate of the update kernels alone, per kernel set, in thread CPU
 * time (steadier than wall time on a shared machine), against nothing but
 * the rows themselves: a small vocabulary keeps every row in cache, so this
 * is the kernels' ceiling; training adds the window, the noise draws and the
 * misses on random rows of a large vocabulary.
 *
 *   cc -O3 -std=c99 -Icsrc -o /tmp/kernel_rate bench/kernel_rate.c csrc/kernels.c -lm
 *   /tmp/kernel_rate [D [VOCAB [CALLS]]] [--ld N] [--offset B] [--zipf]
 *                                                   (default 100 64 500000)
 * Row layout and access, to measure what alignment is worth:
 *   --ld N      row stride in floats (>= D; default D)
 *   --offset B  bytes from a 64-byte boundary to row 0 (0..60, a multiple of
 *               4; default 16, where glibc's malloc, hence numpy, puts a
 *               large array)
 *   --zipf      row ids drawn like a corpus's (inputs and the positive output
 *               with p(rank r) ~ 1/r, negatives ~ r^-0.75) instead of uniform
 *               inputs and consecutive outputs from a uniform start
 *
 * One line per kernel set this CPU runs and operation:
 *   batch   sg_batch_update, 6 inputs x 6 outputs (the default update of one
 *           centre word with window 5 drawn as 3, negative 5)
 *   dots    the block of 36 dot products alone
 *   update  the block update alone
 *   exact   6 x sg_pair_update of 1 + 5 rows (the exact mode's same work)
 * with ns per call and GFLOP/s (6 D FLOP per input and output pair, the FLOP
 * model of bench/table.py; dots count 2 D, update 4 D).
 */
#define _POSIX_C_SOURCE 200112L /* clock_gettime, posix_memalign under -std=c99 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kernels.h"

enum { N_IN = 6, N_OUT = 6, CDF_SIZE = 1 << 20 };

typedef struct {
    int d, ld, offset, v, zipf;
    long calls;
    float *syn0, *syn1, *scratch;
    int *unigram, *noise; /* --zipf: CDF_SIZE row ids, each as often as its probability */
} bench;

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static unsigned next(unsigned *s) { return *s = *s * 1103515245u + 12345u; }

/* table[k] for k < CDF_SIZE: row ids with p(rank r) ~ (r + 1)^-power. */
static int *power_table(int v, double power)
{
    int *table = malloc(sizeof(int) * CDF_SIZE), r, k = 0;
    double total = 0.0, cum = 0.0;
    if (!table) return NULL;
    for (r = 0; r < v; r++) total += pow(r + 1.0, -power);
    for (r = 0; r < v && k < CDF_SIZE; r++) {
        cum += pow(r + 1.0, -power) / total;
        while (k < CDF_SIZE && (double)k < cum * CDF_SIZE) table[k++] = r;
    }
    while (k < CDF_SIZE) table[k++] = v - 1;
    return table;
}

static int draw(const bench *b, const int *table, unsigned *s)
{
    unsigned r = next(s) >> 8;
    return table ? table[r % CDF_SIZE] : (int)(r % (unsigned)b->v);
}

/* The rows of one call: inputs may repeat, outputs are distinct. */
static void pick_rows(const bench *b, unsigned *s, float **in, float **out)
{
    int i, j, m, ids[N_OUT];
    for (i = 0; i < N_IN; i++) in[i] = b->syn0 + (size_t)draw(b, b->unigram, s) * b->ld;
    if (!b->zipf) {
        int first = (int)((next(s) >> 8) % (unsigned)(b->v - N_OUT));
        for (j = 0; j < N_OUT; j++) ids[j] = first + j;
    } else {
        ids[0] = draw(b, b->unigram, s);
        for (j = 1; j < N_OUT; j++)
            do {
                ids[j] = draw(b, b->noise, s);
                for (m = 0; m < j && ids[m] != ids[j]; m++) continue;
            } while (m < j);
    }
    for (j = 0; j < N_OUT; j++) out[j] = b->syn1 + (size_t)ids[j] * b->ld;
}

/* V rows at stride ld, row 0 offset bytes past a 64-byte boundary. */
static float *matrix(const bench *b)
{
    void *base;
    if (posix_memalign(&base, 64, sizeof(float) * (size_t)b->v * (size_t)b->ld + 64) != 0) return NULL;
    return (float *)((char *)base + b->offset);
}

/* The same start for every run: a long run on a small vocabulary drifts
 * towards subnormal values, which would slow the runs after it. */
static void fill(const bench *b)
{
    long k, n = (long)b->v * b->ld;
    for (k = 0; k < n; k++) {
        b->syn0[k] = (float)((k * 7919 % 1000) - 500) * 1e-3f / (float)b->d;
        b->syn1[k] = (float)((k * 104729 % 1000) - 500) * 1e-5f;
    }
}

static void run(const char *op, const bench *b)
{
    float *in[N_IN], *out[N_OUT], weight[N_OUT], G[N_IN * N_OUT];
    unsigned s = 1;
    long c;
    int i, j, d = b->d;
    double t0, secs, flop_per_pair = op[0] == 'd' ? 2.0 * d : op[0] == 'u' ? 4.0 * d : 6.0 * d;
    for (j = 0; j < N_OUT; j++) weight[j] = 1.0f;
    for (i = 0; i < N_IN * N_OUT; i++) G[i] = 1e-4f * (float)(i % 7 - 3);
    fill(b);
    t0 = cpu_seconds();
    for (c = 0; c < b->calls; c++) {
        pick_rows(b, &s, in, out);
        switch (op[0]) {
        case 'b': sg_batch_update(in, N_IN, out, NULL, weight, N_OUT, 0.025f, d, b->scratch, 0); break;
        case 'd': sg_active->block_dots(in, N_IN, out, N_OUT, d, b->scratch); break;
        case 'u': sg_active->block_update(in, N_IN, out, N_OUT, G, d, b->scratch, NULL, 0); break;
        default:
            for (i = 0; i < N_IN; i++) sg_pair_update(in[i], out, NULL, N_OUT, 0.025f, d, b->scratch, 0);
        }
    }
    secs = cpu_seconds() - t0;
    printf("%-7s %-7s D=%-4d ld=%-4d offset=%-2d %s %8.1f ns/call %7.1f GFLOP/s\n", sg_active_name(), op, d,
           b->ld, b->offset, b->zipf ? "zipf   " : "uniform", secs / b->calls * 1e9,
           flop_per_pair * N_IN * N_OUT * b->calls / secs / 1e9);
}

static int parse(bench *b, int argc, char **argv)
{
    int i, pos = 0;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--zipf") == 0) b->zipf = 1;
        else if (strcmp(argv[i], "--ld") == 0 && i + 1 < argc) b->ld = atoi(argv[++i]);
        else if (strcmp(argv[i], "--offset") == 0 && i + 1 < argc) b->offset = atoi(argv[++i]);
        else if (argv[i][0] == '-' || pos == 3) return -1;
        else if (pos++ == 0) b->d = atoi(argv[i]);
        else if (pos == 2) b->v = atoi(argv[i]);
        else b->calls = atol(argv[i]);
    }
    if (b->ld == 0) b->ld = b->d;
    return b->d >= 1 && b->v > N_OUT && b->calls >= 1 && b->ld >= b->d && b->offset >= 0 && b->offset < 64 &&
                   b->offset % 4 == 0
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    static const char *OPS[] = {"batch", "dots", "update", "exact"};
    bench b = {100, 0, 16, 64, 0, 500000, NULL, NULL, NULL, NULL, NULL};
    int set, op;
    if (parse(&b, argc, argv) != 0) {
        fprintf(stderr, "usage: kernel_rate [D >= 1 [VOCAB > %d [CALLS >= 1]]] [--ld N >= D] "
                        "[--offset 0..60, multiple of 4] [--zipf]\n", N_OUT);
        return 2;
    }
    /* Only the bench's own buffers: freed at exit. */
    b.syn0 = matrix(&b);
    b.syn1 = matrix(&b);
    b.scratch = malloc(sizeof(float) * N_IN * (size_t)(SG_MAX_OUT + b.d));
    if (b.zipf) b.unigram = power_table(b.v, 1.0), b.noise = power_table(b.v, 0.75);
    if (!b.syn0 || !b.syn1 || !b.scratch || (b.zipf && (!b.unigram || !b.noise))) return 1;
    for (set = 0; sg_kernel_name(set) != NULL; set++) {
        if (sg_select(sg_kernel_name(set)) != 0) continue;
        for (op = 0; op < 4; op++) run(OPS[op], &b);
    }
    return 0;
}
