/* Arithmetic rate of the update kernels alone, per kernel set, in thread CPU
 * time (steadier than wall time on a shared machine), against nothing but
 * the rows themselves: a small vocabulary keeps every row in cache, so this
 * is the kernels' ceiling; training adds the window, the noise draws and the
 * misses on random rows of a large vocabulary.
 *
 *   cc -O3 -std=c99 -Icsrc -o /tmp/kernel_rate bench/kernel_rate.c csrc/kernels.c -lm
 *   /tmp/kernel_rate [D [VOCAB [CALLS]]]          (default 100 64 500000)
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
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "kernels.h"

enum { N_IN = 6, N_OUT = 6 };

static double cpu_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static unsigned next(unsigned *s) { return *s = *s * 1103515245u + 12345u; }

static void run(const char *op, float *syn0, float *syn1, int v, int d, long calls, float *scratch)
{
    float *in[N_IN], *out[N_OUT], weight[N_OUT], G[N_IN * N_OUT];
    unsigned s = 1;
    long c;
    int i, j;
    double t0, secs, flop_per_pair = op[0] == 'd' ? 2.0 * d : op[0] == 'u' ? 4.0 * d : 6.0 * d;
    for (j = 0; j < N_OUT; j++) weight[j] = 1.0f;
    for (i = 0; i < N_IN * N_OUT; i++) G[i] = 1e-4f * (float)(i % 7 - 3);
    t0 = cpu_seconds();
    for (c = 0; c < calls; c++) {
        /* Random rows; the outputs distinct (consecutive ids from a random start). */
        int first = (int)((next(&s) >> 8) % (unsigned)(v - N_OUT));
        for (i = 0; i < N_IN; i++) in[i] = syn0 + (size_t)((next(&s) >> 8) % (unsigned)v) * d;
        for (j = 0; j < N_OUT; j++) out[j] = syn1 + (size_t)(first + j) * d;
        switch (op[0]) {
        case 'b': sg_batch_update(in, N_IN, out, NULL, weight, N_OUT, 0.025f, d, scratch, 0); break;
        case 'd': sg_active->block_dots(in, N_IN, out, N_OUT, d, scratch); break;
        case 'u': sg_active->block_update(in, N_IN, out, N_OUT, G, d, scratch); break;
        default:
            for (i = 0; i < N_IN; i++) sg_pair_update(in[i], out, NULL, N_OUT, 0.025f, d, scratch, 0);
        }
    }
    secs = cpu_seconds() - t0;
    printf("%-7s %-7s D=%-4d %8.1f ns/call %7.1f GFLOP/s\n", sg_active_name(), op, d, secs / calls * 1e9,
           flop_per_pair * N_IN * N_OUT * calls / secs / 1e9);
}

int main(int argc, char **argv)
{
    static const char *OPS[] = {"batch", "dots", "update", "exact"};
    int d = argc > 1 ? atoi(argv[1]) : 100, v = argc > 2 ? atoi(argv[2]) : 64;
    long calls = argc > 3 ? atol(argv[3]) : 500000, k;
    float *syn0, *syn1, *scratch;
    int set, op;
    if (d < 1 || v <= N_OUT || calls < 1) {
        fprintf(stderr, "usage: kernel_rate [D >= 1 [VOCAB > %d [CALLS >= 1]]]\n", N_OUT);
        return 2;
    }
    syn0 = malloc(sizeof(float) * (size_t)v * d);
    syn1 = malloc(sizeof(float) * (size_t)v * d);
    scratch = malloc(sizeof(float) * N_IN * (size_t)(SG_MAX_OUT + d));
    if (!syn0 || !syn1 || !scratch) return 1;
    for (k = 0; k < (long)v * d; k++) {
        syn0[k] = (float)((k * 7919 % 1000) - 500) * 1e-3f / (float)d;
        syn1[k] = (float)((k * 104729 % 1000) - 500) * 1e-5f;
    }
    for (set = 0; sg_kernel_name(set) != NULL; set++) {
        if (sg_select(sg_kernel_name(set)) != 0) continue;
        for (op = 0; op < 4; op++) run(OPS[op], syn0, syn1, v, d, calls, scratch);
    }
    free(syn0), free(syn1), free(scratch);
    return 0;
}
