/* Vector kernels of the SGNS update: one implementation per instruction set,
 * chosen once at run time (never by -march at build time).
 *
 * All functions work on float32 rows of length d. They know nothing of
 * vocabularies, corpora or Python. */
#ifndef SGNS_KERNELS_H
#define SGNS_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest number of output rows of one update (the tree path of
 * hierarchical softmax, then 1 positive + the negatives): the updates keep
 * per-output coefficients in arrays of this size on the stack. */
#define SG_MAX_OUT 128
/* The longest Huffman path the output budget is planned for. A path of L
 * inner nodes needs a total count of at least Fibonacci(L + 1) words, so 64
 * is never reached by a corpus of fewer than 10^13 words (the trainer checks
 * the actual depth). */
#define SG_MAX_CODELEN 64
/* The most negatives per positive: with the longest planned path and the
 * positive, SG_MAX_OUT rows (64 + 1 + 63 = 128). */
#define SG_MAX_NEGATIVE (SG_MAX_OUT - SG_MAX_CODELEN - 1)
/* Largest number of input rows the single-update entry points of the
 * Python module take (their row pointers live on the stack). The trainer's
 * updates have 2 * window inputs and no such limit. */
#define SG_MAX_IN 256
/* Room pair_step needs for its dot products (n, padded for vector loads). */
#define SG_PAIR_F (SG_MAX_OUT + 32)

typedef struct {
    const char *name;
    float (*dot)(const float *a, const float *b, int d);
    void (*axpy)(float a, const float *x, float *y, int d);
    /* acc += g * u; u += g * v   (one pass over u) */
    void (*grad_step)(float g, const float *v, float *u, float *acc, int d);
    /* Fused update of a dense block: for inputs in[i], distinct outputs
     * out[j] (n_out <= SG_MAX_OUT) and coefficients G[i*n_out + j] (already
     * scaled by alpha):
     *   in[i]  += sum_j G_ij * out[j]      (with the old out)
     *   out[j] += sum_i G_ij * in[i]       (with the old in)
     * delta: n_in * d floats of scratch. The n_ahead rows ahead[] (a later
     * update's) are prefetched for writing, a line each per slice.      */
    void (*block_update)(float *const *in, int n_in, float *const *out, int n_out,
                         const float *G, int d, float *delta, float *const *ahead, int n_ahead);
    /* res[j] = v . rows[j], j < n */
    void (*dots)(const float *v, float *const *rows, int n, int d, float *res);
    /* G[i*n_out + j] = in[i] . out[j], i < n_in, j < n_out */
    void (*block_dots)(float *const *in, int n_in, float *const *out, int n_out, int d, float *G);
    /* G[i*n_out + j] = (lab[j] - σ(in[i] . out[j])) * scale[j]: block_dots,
     * sigmoids and the labels' step, the same values in one op */
    void (*block_coefs)(float *const *in, int n_in, float *const *out, int n_out, int d,
                        const float *lab, const float *scale, float *G);
    /* v += sum_j g[j] out[j] (old out); out[j] += g[j] v (old v): distinct rows */
    void (*pair_apply)(float *v, float *const *out, int n, const float *g, int d);
    /* y[i] = σ(x[i]) */
    void (*sigmoids)(const float *x, float *y, int n);
    /* word2vec.c's step for v against n distinct outputs (label NULL: out[0]
     * positive): f[j] = v . out[j], g[j] = alpha (label[j] - σ(f[j])),
     * out[j] += g[j] v, v += Σ g[j] out[j] (old values). f: SG_PAIR_F floats.
     * The n_ahead rows ahead[] (a later pair's) are prefetched into L1 during
     * the update pass, spread over its slices. */
    void (*pair_step)(float *v, float *const *out, const float *label, int n, float alpha, int d,
                      float *f, float *const *ahead, int n_ahead);
    /* h = Σ_i rows[i], i < n (n >= 1), added in row order; then h /= n
     * if mean and n > 1 */
    void (*sum_rows)(float *const *rows, int n, int d, float *h, int mean);
    /* rows[i] += t for i < n, in row order; the n_ahead rows ahead[] (a
     * later update's) are prefetched for writing, a line each per slice. */
    void (*add_rows)(const float *t, float *const *rows, int n, int d, float *const *ahead, int n_ahead);
    /* e = Σ_j g[j] out[j] (old out, from zero, in order j), then e /= split
     * if split > 1; out[j] += g[j] h: distinct rows */
    void (*cbow_apply)(const float *h, float *const *out, int n, const float *g, int d, float *e, int split);
    /* Floats per vector register (1: scalar code). A row of d floats costs
     * as much as one of d rounded up to this: a caller whose rows have that
     * room, zero-filled, may pass the rounded d (the tail then needs no mask). */
    int width;
} sg_ops;

/* Currently selected kernels. */
extern const sg_ops *sg_active;

/* Kernel sets, slowest first, by index: "generic", "avx2", "avx512",
 * "neon" (every name any build knows), then NULL. */
const char *sg_kernel_name(int i);
/* Select a kernel set by name, or "auto": the fastest this CPU runs.
 * Returns 0 on success, -1 if the name is unknown, -2 if this build or CPU
 * cannot run that set. */
int sg_select(const char *name);
/* Name of the active kernel set. */
const char *sg_active_name(void);
/* The active set's width (sg_ops.width). */
int sg_active_width(void);
/* 1 if this build and CPU can run the named kernel set. */
int sg_supported(const char *name);

/* Exact logistic function and log-sigmoid, safe for any finite input. */
float sg_sigmoid(float x);
double sg_log_sigmoid(double x);

/* Labels: label[j] is the target of output row j (1 or 0; hierarchical
 * softmax uses 1 - code). label NULL means the SGNS layout: out[0] is the
 * positive row (label 1), the rest are negatives (label 0).
 * Every update returns the loss -Σ [l log σ(f) + (1-l) log σ(-f)] of the
 * old values when want_loss is non-zero, else 0. */

/* word2vec.c's skip-gram step for one input row v: every output row is
 * updated with the old v, v with the old rows. work: d floats. */
double sg_pair_update(float *v, float *const *out, const float *label, int n_out, float alpha,
                      int d, float *work, int want_loss);
/* The same step, prefetching the rows ahead[0..n_ahead) of a pair a few
 * pairs later while it updates: the exact mode is bound by the misses on
 * random noise rows, and prefetches spread over the update pass (not issued
 * in a burst, where they queue behind and delay the current pair's own
 * misses) overlap them with the arithmetic. The first n_distinct rows are
 * known to differ from each other and from every later row (a tree path and
 * the positive row: only noise words can repeat), so only the rest are
 * checked for repeats (sg_pair_update checks them all). */
double sg_pair_update_ahead(float *v, float *const *out, const float *label, int n_out, int n_distinct,
                            float alpha, int d, float *work, int want_loss, float *const *ahead,
                            int n_ahead);

/* The same step for n_in input rows against shared outputs, all gradients
 * from the old values (one dense block). weight[j] (NULL: 1) multiplies
 * output j's terms (a noise word drawn twice has weight 2). Output rows must
 * be distinct. scratch: n_in * (n_out + d) floats. */
double sg_batch_update(float *const *in, int n_in, float *const *out, const float *label,
                       const float *weight, int n_out, float alpha, int d,
                       float *scratch, int want_loss);
/* The same update, prefetching the rows ahead[0..n_ahead) (a later update's
 * rows that may be out of cache) into L2 during its update pass, a slice at a
 * time: issued in one burst, the misses queue for the line-fill buffers and
 * stall the arithmetic behind them (spreading them over the dot products too
 * measured slower: they then compete with this update's own misses). */
double sg_batch_update_ahead(float *const *in, int n_in, float *const *out, const float *label,
                             const float *weight, int n_out, float alpha, int d,
                             float *scratch, int want_loss, float *const *ahead, int n_ahead);

/* The update of a block of pairs with counts: pos[i*n_out + j] and
 * neg[i*n_out + j] say how many times input i is paired with output j as a
 * positive and as a noise word (0 and 0: no pair, the dense block's entry
 * is wasted work); the step follows the gradient of
 *   Σ_ij pos_ij log σ(in_i . out_j) + neg_ij log σ(-in_i . out_j)
 * taken at the old values. Several centre words whose windows overlap share
 * one block this way (sgns's shared_negatives > 1). Output rows must be
 * distinct; inputs may repeat. The n_ahead rows ahead[] are prefetched into
 * L2 during the update pass. scratch: n_in * (n_out + d) floats. */
double sg_counts_update_ahead(float *const *in, int n_in, float *const *out, int n_out,
                             const float *pos, const float *neg, float alpha, int d, float *scratch,
                             int want_loss, float *const *ahead, int n_ahead);

/* The CBOW step: h = the sum of the input rows (their mean if mean ==
 * SG_CBOW_MEAN) is scored against the outputs; the outputs move along h and
 * every input row receives the whole error (word2vec.c), or with mean ==
 * SG_CBOW_SUM_SPLIT (h the sum) the error divided by the number of inputs
 * (gensim 4's cbow_mean=0). Output rows must be distinct. work: 2*d floats. */
enum { SG_CBOW_SUM = 0, SG_CBOW_MEAN = 1, SG_CBOW_SUM_SPLIT = 2 };
double sg_cbow_update(float *const *in, int n_in, int mean, float *const *out,
                      const float *label, const float *weight, int n_out, float alpha,
                      int d, float *work, int want_loss);
/* The same step, prefetching the rows ahead[0..n_ahead) (a later update's)
 * during its last pass, a line of each per slice (as sg_batch_update_ahead). */
double sg_cbow_update_ahead(float *const *in, int n_in, int mean, float *const *out,
                            const float *label, const float *weight, int n_out, float alpha,
                            int d, float *work, int want_loss, float *const *ahead, int n_ahead);

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#endif
/* Whether this x86 CPU has PREFETCHW (CPUID PRFCHW: every AVX-512 CPU and
 * most AVX2 ones; an older CPU may not report it). Set by sg_select. */
extern int sg_has_prefetchw;

/* Ask the cache for a line we are about to change, in the state that lets us
 * write it: PREFETCHW on x86 where the CPU has it, PRFM PST on aarch64. A
 * read prefetch of a row another thread has just written leaves the line
 * shared by both cores, and the store that follows waits for the other copy to
 * be invalidated: with two workers that made each thread about a sixth
 * slower. Every row the trainer prefetches is one it is about to write.
 * Where the CPU cannot say "for writing" (no PRFCHW; MSVC) it is a read
 * prefetch into L2 (sg_prefetch_w) or L1 (sg_prefetch_w1: the exact step's
 * rows, needed a few pairs later). */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define SG_PREFETCH_W_DEF(name, locality)                                       \
    static inline void name(const void *p)                                      \
    {                                                                           \
        if (sg_has_prefetchw) __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p)); \
        else __builtin_prefetch(p, 0, locality);                                \
    }
#elif defined(__GNUC__) || defined(__clang__)
#define SG_PREFETCH_W_DEF(name, locality) \
    static inline void name(const void *p) { __builtin_prefetch(p, 1, locality); }
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#define SG_PREFETCH_W_DEF(name, locality)                                       \
    static inline void name(const void *p)                                      \
    {                                                                           \
        _mm_prefetch((const char *)p, (locality) == 3 ? _MM_HINT_T0 : _MM_HINT_T1); \
    }
#else
#define SG_PREFETCH_W_DEF(name, locality) \
    static inline void name(const void *p) { (void)p; }
#endif
SG_PREFETCH_W_DEF(sg_prefetch_w, 2)
SG_PREFETCH_W_DEF(sg_prefetch_w1, 3)
#undef SG_PREFETCH_W_DEF

/* Every line of a row (sg_prefetch_w). */
static inline void sg_prefetch_row(const float *row, int d)
{
    const char *p = (const char *)row, *end = (const char *)(row + d);
    for (p = (const char *)((uintptr_t)p & ~(uintptr_t)63); p < end; p += 64) sg_prefetch_w(p);
}

#ifdef __cplusplus
}
#endif
#endif
