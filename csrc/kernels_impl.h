/* Template: the kernels of one instruction set, and its sg_ops table
 * ops_<SG_SUFFIX>. kernels.c defines the parameters below, then includes this
 * file; the template #undefs every one of them at its end, so the next
 * instruction set starts from a clean slate.
 *
 *   SG_SUFFIX          name suffix of the functions (generic, avx2, ...)
 *   SG_ATTR            attribute enabling the instruction set on each
 *                      function (empty where the compiler needs none)
 *   SG_VEC             1: the vector operations below are defined; 0: plain C
 * With SG_VEC 1 (unaligned loads and stores throughout):
 *   SG_W               lanes (floats) per vector
 *   SG_T               the vector type
 *   SG_LOAD(p)         SG_W floats from p
 *   SG_STORE(p, v)     SG_W floats of v to p
 *   SG_SET1(x)         every lane x
 *   SG_ZERO            every lane 0
 *   SG_FMA(a, b, c)    a * b + c, lane by lane (fused where the ISA has it)
 *   SG_ADD(a, b)       a + b, lane by lane
 *   SG_HSUM(v)         the sum of v's lanes, a float
 * Optional (else four SG_HSUMs):
 *   SG_HSUM4(a, b, c, e, res)  res[0..3] = the lane sums of a, b, c, e
 * Optional, with SG_HSUM4's order of additions for each sum:
 *   SG_HSUM8(a0, ..., a7, res, n)  res[0..n) = the lane sums of a0..a(n-1)
 *                                  (0 < n <= 8)
 * Optional, where six sums reduce more cheaply than SG_HSUM8's eight:
 *   SG_HSUM6(a0, ..., a5, res, n)  res[0..n) = the lane sums of a0..a5
 *                                  (5 <= n <= 6)
 * Optional, for a masked tail of 0 < n < SG_W floats (without them tails
 * are plain C):
 *   SG_LOADN(p, n)     n floats from p, the other lanes 0
 *   SG_STOREN(p, v, n) the first n lanes of v to p
 * Optional (else sg_prefetch_w and sg_prefetch_w1, which ask a flag each time):
 *   SG_PREFETCH_W(p)   prefetch the line at p for writing
 *   SG_PREFETCH_W1(p)  the same, nearer (L1) where the hint matters
 * Optional, for sigmoids in vector form (without them it is a plain loop,
 * left to the compiler's vectoriser):
 *   SG_SUB(a, b), SG_MUL(a, b), SG_DIV(a, b), SG_MIN(a, b), SG_MAX(a, b)
 *                      lane by lane
 *   SG_POW2I(n)        2^n for lanes holding integers n in [-126, 127]
 * Each function gives the plain-C result up to float rounding (summation
 * order differs). */
#if !defined(SG_SUFFIX) || !defined(SG_ATTR) || !defined(SG_VEC)
#error "kernels_impl.h: define SG_SUFFIX, SG_ATTR and SG_VEC first"
#endif
#if SG_VEC && !(defined(SG_W) && defined(SG_T) && defined(SG_LOAD) && defined(SG_STORE) && \
                defined(SG_SET1) && defined(SG_ZERO) && defined(SG_FMA) && defined(SG_ADD) && \
                defined(SG_HSUM))
#error "kernels_impl.h: SG_VEC 1 needs SG_W, SG_T, SG_LOAD, SG_STORE, SG_SET1, SG_ZERO, SG_FMA, SG_ADD, SG_HSUM"
#endif
#if defined(SG_LOADN) != defined(SG_STOREN)
#error "kernels_impl.h: define both SG_LOADN and SG_STOREN, or neither"
#endif
#if defined(SG_POW2I) && !(defined(SG_SUB) && defined(SG_MUL) && defined(SG_DIV) && defined(SG_MIN) && \
                           defined(SG_MAX))
#error "kernels_impl.h: SG_POW2I needs SG_SUB, SG_MUL, SG_DIV, SG_MIN and SG_MAX"
#endif

#if SG_VEC && !defined(SG_HSUM4)
#define SG_HSUM4(a, b, c, e, res) \
    ((res)[0] = SG_HSUM(a), (res)[1] = SG_HSUM(b), (res)[2] = SG_HSUM(c), (res)[3] = SG_HSUM(e))
#endif
/* Unroll the loops over a block's outputs completely (GCC 12 stops short at
 * -O3, leaving the output slices in memory instead of registers; Clang
 * unrolls them by itself). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define SG_UNROLL _Pragma("GCC unroll 8")
#else
#define SG_UNROLL
#endif

/* Inline a helper whose flags are constants at each call, so every caller
 * gets its own loop (left to itself, GCC kept one loop testing the flags). */
#ifndef SG_INLINE_ALWAYS
#if defined(_MSC_VER)
#define SG_INLINE_ALWAYS __forceinline
#elif defined(__GNUC__)
#define SG_INLINE_ALWAYS inline __attribute__((always_inline))
#else
#define SG_INLINE_ALWAYS inline
#endif
#endif

/* Keep a loaded vector in a register: GCC otherwise folds the load into
 * each FMA that uses it, loading a row slice once per input instead of once
 * (the dots are bound by loads, most of them split across cache lines). */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define SG_KEEP(v) __asm__("" : "+v"(v))
#elif (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__)
#define SG_KEEP(v) __asm__("" : "+w"(v))
#else
#define SG_KEEP(v) ((void)0)
#endif

#ifndef SG_PREFETCH_W
#define SG_PREFETCH_W(p) sg_prefetch_w(p)
#endif
#ifndef SG_PREFETCH_W1
#define SG_PREFETCH_W1(p) sg_prefetch_w1(p)
#endif
/* Whether the slice at float k starts a new 64 bytes of the row: the slice
 * loops prefetch one line of each row ahead there, not once per vector (with
 * 8 or 4 lanes that asked for each line two or four times). */
#if SG_VEC && SG_W < 16
#define SG_LINE_START(k) (((k) & 15) == 0)
#else
#define SG_LINE_START(k) 1
#endif

/* Sets with 32 vector registers: AVX-512, and aarch64 (NEON, and the
 * generic set's vector extensions there). SSE2 and AVX2 have 16. */
#if SG_VEC && (SG_W == 16 || (SG_W == 4 && (defined(__aarch64__) || defined(_M_ARM64))))
#define SG_REGS32 1
#else
#define SG_REGS32 0
#endif
/* Slices apply_outputs keeps in registers at once: 8 on AVX-512 (measured
 * there), else 4. */
#if SG_VEC && SG_W >= 16
#define SG_APPLY_CHUNK 8
#else
#define SG_APPLY_CHUNK 4
#endif
#define SG_CAT2(a, b) a##_##b
#define SG_CAT(a, b) SG_CAT2(a, b)
#define SG_FN(name) SG_CAT(name, SG_SUFFIX)

SG_ATTR static float SG_FN(dot)(const float *a, const float *b, int d)
{
    int i = 0;
    float s;
#if SG_VEC
    /* Enough independent sums to cover the FMA latency: 4-lane sets (NEON,
     * generic) need eight, the wider ones reach the tail sooner with four. */
    SG_T s0 = SG_ZERO, s1 = SG_ZERO, s2 = SG_ZERO, s3 = SG_ZERO;
#if SG_W <= 4
    SG_T s4 = SG_ZERO, s5 = SG_ZERO, s6 = SG_ZERO, s7 = SG_ZERO;
    for (; i + 8 * SG_W <= d; i += 8 * SG_W) {
        s0 = SG_FMA(SG_LOAD(a + i), SG_LOAD(b + i), s0);
        s1 = SG_FMA(SG_LOAD(a + i + SG_W), SG_LOAD(b + i + SG_W), s1);
        s2 = SG_FMA(SG_LOAD(a + i + 2 * SG_W), SG_LOAD(b + i + 2 * SG_W), s2);
        s3 = SG_FMA(SG_LOAD(a + i + 3 * SG_W), SG_LOAD(b + i + 3 * SG_W), s3);
        s4 = SG_FMA(SG_LOAD(a + i + 4 * SG_W), SG_LOAD(b + i + 4 * SG_W), s4);
        s5 = SG_FMA(SG_LOAD(a + i + 5 * SG_W), SG_LOAD(b + i + 5 * SG_W), s5);
        s6 = SG_FMA(SG_LOAD(a + i + 6 * SG_W), SG_LOAD(b + i + 6 * SG_W), s6);
        s7 = SG_FMA(SG_LOAD(a + i + 7 * SG_W), SG_LOAD(b + i + 7 * SG_W), s7);
    }
    s0 = SG_ADD(s0, s4), s1 = SG_ADD(s1, s5), s2 = SG_ADD(s2, s6), s3 = SG_ADD(s3, s7);
#endif
    for (; i + 4 * SG_W <= d; i += 4 * SG_W) {
        s0 = SG_FMA(SG_LOAD(a + i), SG_LOAD(b + i), s0);
        s1 = SG_FMA(SG_LOAD(a + i + SG_W), SG_LOAD(b + i + SG_W), s1);
        s2 = SG_FMA(SG_LOAD(a + i + 2 * SG_W), SG_LOAD(b + i + 2 * SG_W), s2);
        s3 = SG_FMA(SG_LOAD(a + i + 3 * SG_W), SG_LOAD(b + i + 3 * SG_W), s3);
    }
    for (; i + SG_W <= d; i += SG_W)
        s0 = SG_FMA(SG_LOAD(a + i), SG_LOAD(b + i), s0);
#ifdef SG_LOADN
    if (i < d) {
        s1 = SG_FMA(SG_LOADN(a + i, d - i), SG_LOADN(b + i, d - i), s1);
        i = d;
    }
#endif
    s = SG_HSUM(SG_ADD(SG_ADD(s0, s1), SG_ADD(s2, s3)));
#else
    float s0 = 0.f, s1 = 0.f, s2 = 0.f, s3 = 0.f;
    for (; i + 4 <= d; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    s = (s0 + s1) + (s2 + s3);
#endif
    for (; i < d; i++) s += a[i] * b[i];
    return s;
}

SG_ATTR static void SG_FN(axpy)(float a, const float *x, float *y, int d)
{
    int i = 0;
#if SG_VEC
    SG_T va = SG_SET1(a);
    for (; i + SG_W <= d; i += SG_W)
        SG_STORE(y + i, SG_FMA(va, SG_LOAD(x + i), SG_LOAD(y + i)));
#ifdef SG_LOADN
    if (i < d) {
        SG_STOREN(y + i, SG_FMA(va, SG_LOADN(x + i, d - i), SG_LOADN(y + i, d - i)), d - i);
        i = d;
    }
#endif
#endif
    for (; i < d; i++) y[i] += a * x[i];
}

/* h = rows[0] + ... + rows[n - 1] (n >= 1), added in row order, then
 * divided by n if mean and n > 1 (CBOW's context mean; the division in
 * registers, a vector at a time, rather than in a second pass of scalar-wide
 * divisions): one pass over each slice of every row, h written once. */
SG_ATTR static void SG_FN(sum_rows)(float *const *rows, int n, int d, float *h, int mean)
{
    int i, k = 0;
    const int divide = mean && n > 1;
#if SG_VEC
    const SG_T count = SG_SET1((float)n);
    for (; k + SG_W <= d; k += SG_W) {
        SG_T acc = SG_LOAD(rows[0] + k);
        for (i = 1; i < n; i++) acc = SG_ADD(acc, SG_LOAD(rows[i] + k));
        SG_STORE(h + k, divide ? SG_DIV(acc, count) : acc);
    }
#ifdef SG_LOADN
    if (k < d) {
        SG_T acc = SG_LOADN(rows[0] + k, d - k);
        for (i = 1; i < n; i++) acc = SG_ADD(acc, SG_LOADN(rows[i] + k, d - k));
        SG_STOREN(h + k, divide ? SG_DIV(acc, count) : acc, d - k);
        k = d;
    }
#endif
#endif
    for (; k < d; k++) {
        float acc = rows[0][k];
        for (i = 1; i < n; i++) acc += rows[i][k];
        h[k] = divide ? acc / (float)n : acc;
    }
}

/* rows[i] += t for every row, in row order (a row listed twice gets t
 * twice), each slice of t loaded once (CBOW's error into its inputs). Each
 * slice also prefetches a line of each row ahead[0..n_ahead) (the row's
 * last line after the loop); plain C prefetches them first. */
SG_ATTR static void SG_FN(add_rows)(const float *t, float *const *rows, int n, int d, float *const *ahead,
                                    int n_ahead)
{
    int i, k = 0;
#if SG_VEC
    /* Its own loop: with the prefetches inside, the plain loop compiled
     * slower (CBOW at D = 100, which has nothing to prefetch, lost 6%). */
    if (n_ahead) {
        for (; k + SG_W <= d; k += SG_W) {
            SG_T x = SG_LOAD(t + k);
            if (SG_LINE_START(k))
                for (i = 0; i < n_ahead; i++) SG_PREFETCH_W(ahead[i] + k);
            for (i = 0; i < n; i++) SG_STORE(rows[i] + k, SG_ADD(SG_LOAD(rows[i] + k), x));
        }
        for (i = 0; i < n_ahead; i++) SG_PREFETCH_W(ahead[i] + d - 1);
    }
    for (; k + SG_W <= d; k += SG_W) {
        SG_T x = SG_LOAD(t + k);
        for (i = 0; i < n; i++) SG_STORE(rows[i] + k, SG_ADD(SG_LOAD(rows[i] + k), x));
    }
#ifdef SG_LOADN
    if (k < d) {
        SG_T x = SG_LOADN(t + k, d - k);
        for (i = 0; i < n; i++) SG_STOREN(rows[i] + k, SG_ADD(SG_LOADN(rows[i] + k, d - k), x), d - k);
        k = d;
    }
#endif
#else
    for (i = 0; i < n_ahead; i++) sg_prefetch_row(ahead[i], d);
#endif
    for (; k < d; k++)
        for (i = 0; i < n; i++) rows[i][k] += t[k];
}

SG_ATTR static void SG_FN(grad_step)(float g, const float *v, float *u, float *acc, int d)
{
    int i = 0;
#if SG_VEC
    SG_T vg = SG_SET1(g);
    for (; i + SG_W <= d; i += SG_W) {
        SG_T ui = SG_LOAD(u + i);
        SG_STORE(acc + i, SG_FMA(vg, ui, SG_LOAD(acc + i)));
        SG_STORE(u + i, SG_FMA(vg, SG_LOAD(v + i), ui));
    }
#endif
    for (; i < d; i++) {
        float ui = u[i];
        acc[i] += g * ui;
        u[i] = ui + g * v[i];
    }
}

/* res[j] = v . rows[j] for j < n: v is read once per slice for four rows. */
SG_ATTR static void SG_FN(dots)(const float *v, float *const *rows, int n, int d, float *res)
{
    int j = 0;
#if SG_VEC
    for (; j + 4 <= n; j += 4) {
        const float *r0 = rows[j], *r1 = rows[j + 1], *r2 = rows[j + 2], *r3 = rows[j + 3];
        SG_T s0 = SG_ZERO, s1 = SG_ZERO, s2 = SG_ZERO, s3 = SG_ZERO;
        int k = 0;
        for (; k + SG_W <= d; k += SG_W) {
            SG_T x = SG_LOAD(v + k);
            s0 = SG_FMA(x, SG_LOAD(r0 + k), s0);
            s1 = SG_FMA(x, SG_LOAD(r1 + k), s1);
            s2 = SG_FMA(x, SG_LOAD(r2 + k), s2);
            s3 = SG_FMA(x, SG_LOAD(r3 + k), s3);
        }
#ifdef SG_LOADN
        if (k < d) {
            SG_T x = SG_LOADN(v + k, d - k);
            s0 = SG_FMA(x, SG_LOADN(r0 + k, d - k), s0);
            s1 = SG_FMA(x, SG_LOADN(r1 + k, d - k), s1);
            s2 = SG_FMA(x, SG_LOADN(r2 + k, d - k), s2);
            s3 = SG_FMA(x, SG_LOADN(r3 + k, d - k), s3);
            k = d;
        }
#endif
        SG_HSUM4(s0, s1, s2, s3, res + j);
        for (; k < d; k++) {
            res[j] += v[k] * r0[k];
            res[j + 1] += v[k] * r1[k];
            res[j + 2] += v[k] * r2[k];
            res[j + 3] += v[k] * r3[k];
        }
    }
#endif
    for (; j + 2 <= n; j += 2) {
        const float *r0 = rows[j], *r1 = rows[j + 1];
        float t0 = 0.f, t1 = 0.f;
        int k = 0;
#if SG_VEC
        SG_T s0 = SG_ZERO, s1 = SG_ZERO;
        for (; k + SG_W <= d; k += SG_W) {
            SG_T x = SG_LOAD(v + k);
            s0 = SG_FMA(x, SG_LOAD(r0 + k), s0);
            s1 = SG_FMA(x, SG_LOAD(r1 + k), s1);
        }
#ifdef SG_LOADN
        if (k < d) {
            SG_T x = SG_LOADN(v + k, d - k);
            s0 = SG_FMA(x, SG_LOADN(r0 + k, d - k), s0);
            s1 = SG_FMA(x, SG_LOADN(r1 + k, d - k), s1);
            k = d;
        }
#endif
        t0 = SG_HSUM(s0);
        t1 = SG_HSUM(s1);
#endif
        for (; k < d; k++) {
            t0 += v[k] * r0[k];
            t1 += v[k] * r1[k];
        }
        res[j] = t0;
        res[j + 1] = t1;
    }
    for (; j < n; j++) res[j] = SG_FN(dot)(v, rows[j], d);
}

/* The outputs' step against x: out[j] += g[j] x, and acc = Σ_j g[j] out[j]
 * (the old rows, in the order of j) added to x if from_x, else from zero,
 * divided by split if split > 1, written to acc_out (which may be x). */
SG_ATTR static SG_INLINE_ALWAYS void SG_FN(apply_outputs)(const float *x_in, float *acc_out, int from_x, float *const *out,
                                                int n, const float *g, int d, int split)
{
    int j, k = 0;
    const int divide = split > 1;
#if SG_VEC
    const SG_T parts = SG_SET1((float)split);
    /* Up to SG_APPLY_CHUNK slices at a time: x's slices and their sums stay in
     * registers while each output row streams through once (one slice at a
     * time, every output's coefficient was reloaded for every slice and the
     * loads, not the FMAs, set the pace). Each sum still adds the rows in the
     * order of j. */
    while (k + SG_W <= d) {
        SG_T xs[SG_APPLY_CHUNK], as[SG_APPLY_CHUNK];
        int t, nv = (d - k) / SG_W < SG_APPLY_CHUNK ? (d - k) / SG_W : SG_APPLY_CHUNK;
        SG_UNROLL
        for (t = 0; t < SG_APPLY_CHUNK; t++) {
            xs[t] = t < nv ? SG_LOAD(x_in + k + t * SG_W) : SG_ZERO;
            as[t] = from_x ? xs[t] : SG_ZERO;
        }
        for (j = 0; j < n; j++) {
            const SG_T gj = SG_SET1(g[j]);
            float *o_at = out[j] + k;
            SG_UNROLL
            for (t = 0; t < SG_APPLY_CHUNK; t++)
                if (t < nv) {
                    SG_T o = SG_LOAD(o_at + t * SG_W);
                    as[t] = SG_FMA(gj, o, as[t]);
                    SG_STORE(o_at + t * SG_W, SG_FMA(gj, xs[t], o));
                }
        }
        SG_UNROLL
        for (t = 0; t < SG_APPLY_CHUNK; t++)
            if (t < nv) SG_STORE(acc_out + k + t * SG_W, divide ? SG_DIV(as[t], parts) : as[t]);
        k += nv * SG_W;
    }
#ifdef SG_LOADN
    if (k < d) {
        SG_T x = SG_LOADN(x_in + k, d - k), acc = from_x ? x : SG_ZERO;
        for (j = 0; j < n; j++) {
            const SG_T gj = SG_SET1(g[j]);
            SG_T o = SG_LOADN(out[j] + k, d - k);
            acc = SG_FMA(gj, o, acc);
            SG_STOREN(out[j] + k, SG_FMA(gj, x, o), d - k);
        }
        SG_STOREN(acc_out + k, divide ? SG_DIV(acc, parts) : acc, d - k);
        k = d;
    }
#endif
#endif
    for (; k < d; k++) {
        float x = x_in[k], acc = from_x ? x : 0.0f;
        for (j = 0; j < n; j++) {
            float o = out[j][k];
            acc += g[j] * o;
            out[j][k] = o + g[j] * x;
        }
        acc_out[k] = divide ? acc / (float)split : acc;
    }
}

/* v += Σ_j g[j] out[j] (old rows); out[j] += g[j] v (old v). Rows distinct. */
SG_ATTR static void SG_FN(pair_apply)(float *v, float *const *out, int n, const float *g, int d)
{
    SG_FN(apply_outputs)(v, v, 1, out, n, g, d, 1);
}

/* CBOW's step on its outputs: e = Σ_j g[j] out[j] (the old rows, from zero,
 * like word2vec.c's neu1e), divided by split if split > 1 (gensim's share of
 * a sum's error); out[j] += g[j] h. Rows distinct. */
SG_ATTR static void SG_FN(cbow_apply)(const float *h, float *const *out, int n, const float *g, int d, float *e,
                                      int split)
{
    SG_FN(apply_outputs)(h, e, 0, out, n, g, d, split);
}

#if SG_VEC
/* acc[i][j] = the lane sums of x[i] . r[j] over every slice (i, j, k in
 * scope; k = d after). */
#define SG_DOTS_ACC(NI, M)                                                     \
    SG_UNROLL                                                                  \
    for (i = 0; i < (NI); i++)                                                 \
        SG_UNROLL                                                              \
        for (j = 0; j < (M); j++) acc[i][j] = SG_ZERO;                         \
    for (; k + SG_W <= d; k += SG_W) {                                         \
        SG_T u[NI];                                                            \
        SG_UNROLL                                                              \
        for (i = 0; i < (NI); i++) u[i] = SG_LOAD(x[i] + k);                   \
        SG_UNROLL                                                              \
        for (j = 0; j < (M); j++) {                                            \
            SG_T o = SG_LOAD(r[j] + k);                                        \
            SG_KEEP(o);                                                        \
            SG_UNROLL                                                          \
            for (i = 0; i < (NI); i++) acc[i][j] = SG_FMA(u[i], o, acc[i][j]); \
        }                                                                      \
    }                                                                          \
    SG_DOTS_TAIL(NI, M)
/* NI inputs x[0..NI) against the rows r[0..M) (M = 2 or 4): NI*M
 * independent sums, each row slice loaded once for all the inputs. Row i of
 * the result goes to G + i * ldg, m (<= M) sums of it: the rows past m
 * repeat the last one. */
#define SG_DOTS_NxM(NI, M)                                                     \
    SG_ATTR static void SG_FN(dots_##NI##x##M)(float *const *x, float *const *r, int m, int d, \
                                               float *G, int ldg)              \
    {                                                                          \
        SG_T acc[NI][M];                                                       \
        float res[4];                                                          \
        int i, j, k = 0;                                                       \
        SG_DOTS_ACC(NI, M)                                                     \
        /* Constant trip counts: unrolled, every acc index is a constant and   \
         * the sums stay in registers (a bound on m here spilled all of them). */ \
        if (k == d) {                                                          \
            /* No plain-C tail: the sums go straight to G (at D = 100 the      \
             * reduction took a third of the dots' time). */                   \
            SG_UNROLL                                                          \
            for (i = 0; i < (NI); i++) {                                       \
                float *Gi = G + (long)i * ldg;                                 \
                int j0;                                                        \
                SG_DOTS_HSUM8(NI, M)                                           \
                SG_UNROLL                                                      \
                for (j0 = 0; j0 < (M); j0 += 4) {                              \
                    if (j0 >= m) break;                                        \
                    if (j0 + 4 <= (M) && j0 + 4 <= m) {                        \
                        SG_HSUM4(acc[i][j0], acc[i][(j0 + 1) % (M)], acc[i][(j0 + 2) % (M)], \
                                 acc[i][(j0 + 3) % (M)], Gi + j0);             \
                        continue;                                              \
                    }                                                          \
                    SG_HSUM4(acc[i][j0], acc[i][(j0 + 1) % (M)], acc[i][(j0 + 2) % (M)], \
                             acc[i][(j0 + 3) % (M)], res);                     \
                    for (j = j0; j < m; j++) Gi[j] = res[j - j0];              \
                }                                                              \
            }                                                                  \
            return;                                                            \
        }                                                                      \
        SG_UNROLL                                                              \
        for (i = 0; i < (NI); i++) {                                           \
            float *Gi = G + (long)i * ldg;                                     \
            int j0;                                                            \
            SG_UNROLL                                                          \
            for (j0 = 0; j0 < (M); j0 += 4) {                                  \
                if (j0 >= m) break;                                            \
                if (j0 + 4 <= (M))                                             \
                    SG_HSUM4(acc[i][j0], acc[i][(j0 + 1) % (M)], acc[i][(j0 + 2) % (M)], \
                             acc[i][(j0 + 3) % (M)], res);                     \
                else                                                           \
                    SG_HSUM4(acc[i][j0], acc[i][(j0 + 1) % (M)], acc[i][j0],   \
                             acc[i][(j0 + 1) % (M)], res);                     \
                for (j = j0; j < m && j < j0 + 4; j++) {                       \
                    float t = res[j - j0];                                     \
                    int kk;                                                    \
                    for (kk = k; kk < d; kk++) t += x[i][kk] * r[j][kk];       \
                    Gi[j] = t;                                                 \
                }                                                              \
            }                                                                  \
        }                                                                      \
    }
/* Six or eight sums of an input at once where the set has a 6- or 8-wide
 * reduction (Gi and j0 in scope; m sums stored). */
#ifdef SG_HSUM6
#define SG_DOTS_HSUM6(NI, M)                                                   \
    if ((M) == 6 && m >= 5) {                                                  \
        SG_HSUM6(acc[i][0], acc[i][1], acc[i][2], acc[i][3], acc[i][4], acc[i][5], Gi, m); \
        continue;                                                              \
    }
#else
#define SG_DOTS_HSUM6(NI, M)
#endif
#ifdef SG_HSUM8
#define SG_DOTS_HSUM8(NI, M)                                                   \
    SG_DOTS_HSUM6(NI, M)                                                       \
    if ((M) >= 6) {                                                            \
        SG_HSUM8(acc[i][0], acc[i][1], acc[i][2], acc[i][3], acc[i][4], acc[i][5], \
                 acc[i][(M) > 6 ? 6 : 4], acc[i][(M) > 6 ? 7 : 5], Gi, m);     \
        continue;                                                              \
    }
#else
#define SG_DOTS_HSUM8(NI, M)
#endif
#ifdef SG_LOADN
#define SG_DOTS_TAIL(NI, M)                                                    \
    if (k < d) {                                                               \
        SG_T u[NI];                                                            \
        SG_UNROLL                                                              \
        for (i = 0; i < (NI); i++) u[i] = SG_LOADN(x[i] + k, d - k);           \
        SG_UNROLL                                                              \
        for (j = 0; j < (M); j++) {                                            \
            SG_T o = SG_LOADN(r[j] + k, d - k);                                \
            SG_UNROLL                                                          \
            for (i = 0; i < (NI); i++) acc[i][j] = SG_FMA(u[i], o, acc[i][j]); \
        }                                                                      \
        k = d;                                                                 \
    }
#else
#define SG_DOTS_TAIL(NI, M)
#endif
SG_DOTS_NxM(2, 2)
SG_DOTS_NxM(2, 4)
SG_DOTS_NxM(3, 2)
SG_DOTS_NxM(3, 4)
SG_DOTS_NxM(2, 6)
#if SG_W >= 16
/* 32 vector registers: three inputs against 6 or 8 rows (18 or 24 sums). */
SG_DOTS_NxM(2, 8)
SG_DOTS_NxM(3, 6)
SG_DOTS_NxM(3, 8)
#endif
#undef SG_DOTS_NxM
#undef SG_DOTS_HSUM8
#undef SG_DOTS_HSUM6
#endif

/* G[i * n_out + j] = in[i] . out[j] for every pair: inputs three or two
 * at a time against outputs four at a time (a last 3 as four repeating the
 * last row, a last 1-2 as two); with 32 registers
 * (AVX-512) against up to 8 outputs at a time, in groups of 2, 4, 6 or 8. */
SG_ATTR static void SG_FN(block_dots)(float *const *in, int n_in, float *const *out, int n_out, int d,
                                      float *G)
{
    int i = 0;
#if SG_VEC && SG_W >= 16
    if (n_out == 6) {
        /* The default update's common case (negative 5, no repeated draw):
         * the rows as they are, no padded copy of the list. */
        for (; n_in - i >= 3 && n_in - i != 4; i += 3) SG_FN(dots_3x6)(in + i, out, 6, d, G + (long)i * 6, 6);
        for (; n_in - i >= 2; i += 2) SG_FN(dots_2x6)(in + i, out, 6, d, G + (long)i * 6, 6);
    }
    /* Three inputs share each slice of up to 8 rows: 7-11 loads per 18-24 FMAs. */
    while (n_in - i >= 2) {
        int three = n_in - i >= 3, j = 0;
        float *Gi = G + (long)i * n_out;
        while (j < n_out) {
            float *r[8];
            int left = n_out - j, m = left < 8 ? left : 8, wide = m > 6 ? 8 : m > 4 ? 6 : m > 2 ? 4 : 2, t;
            for (t = 0; t < wide; t++) r[t] = out[j + (t < m ? t : m - 1)];
            switch (wide * 4 + three) {
            case 33: SG_FN(dots_3x8)(in + i, r, m, d, Gi + j, n_out); break;
            case 32: SG_FN(dots_2x8)(in + i, r, m, d, Gi + j, n_out); break;
            case 25: SG_FN(dots_3x6)(in + i, r, m, d, Gi + j, n_out); break;
            case 24: SG_FN(dots_2x6)(in + i, r, m, d, Gi + j, n_out); break;
            case 17: SG_FN(dots_3x4)(in + i, r, m, d, Gi + j, n_out); break;
            case 16: SG_FN(dots_2x4)(in + i, r, m, d, Gi + j, n_out); break;
            case 9: SG_FN(dots_3x2)(in + i, r, m, d, Gi + j, n_out); break;
            default: SG_FN(dots_2x2)(in + i, r, m, d, Gi + j, n_out); break;
            }
            j += m;
        }
        i += three ? 3 : 2;
    }
#elif SG_VEC
    if (n_out == 6)
        /* Two inputs against all six rows: 12 sums, 8 loads per 12 FMAs. */
        for (; n_in - i >= 2; i += 2) SG_FN(dots_2x6)(in + i, out, 6, d, G + (long)i * 6, 6);
    while (n_in - i >= 2) {
        /* Three inputs share each row slice where that measured faster
         * (AVX2: 12 sums in 16 registers). */
        int three = n_in - i != 2 && n_in - i != 4, j = 0;
        float *Gi = G + (long)i * n_out;
        for (; j + 4 <= n_out; j += 4) {
            if (three) SG_FN(dots_3x4)(in + i, out + j, 4, d, Gi + j, n_out);
            else SG_FN(dots_2x4)(in + i, out + j, 4, d, Gi + j, n_out);
        }
        if (n_out - j == 3) {
            /* Three rows left: one tile of four repeating the last, not two of two. */
            float *r[4] = {out[j], out[j + 1], out[j + 2], out[j + 2]};
            if (three) SG_FN(dots_3x4)(in + i, r, 3, d, Gi + j, n_out);
            else SG_FN(dots_2x4)(in + i, r, 3, d, Gi + j, n_out);
            j += 3;
        }
        for (; j < n_out; j += 2) {
            float *r[2];
            int m = n_out - j < 2 ? 1 : 2;
            r[0] = out[j], r[1] = out[j + m - 1];
            if (three) SG_FN(dots_3x2)(in + i, r, m, d, Gi + j, n_out);
            else SG_FN(dots_2x2)(in + i, r, m, d, Gi + j, n_out);
        }
        i += three ? 3 : 2;
    }
#endif
    for (; i < n_in; i++) SG_FN(dots)(in[i], out, n_out, d, G + (long)i * n_out);
}

#ifdef SG_POW2I
/* σ(x) = 1 / (1 + e^-x) on SG_W lanes: sg_exp's steps in vector form. */
SG_ATTR static SG_T SG_FN(sigmoid_lanes)(SG_T x)
{
    SG_T one = SG_SET1(1.0f), t, n, r, p;
    x = SG_MIN(SG_MAX(SG_SUB(SG_ZERO, x), SG_SET1(-87.0f)), SG_SET1(87.0f));
    t = SG_MUL(x, SG_SET1(1.44269504088896341f));
    n = SG_SUB(SG_ADD(t, SG_SET1(12582912.0f)), SG_SET1(12582912.0f));
    r = SG_FMA(n, SG_SET1(-0.693145751953125f), x);
    r = SG_FMA(n, SG_SET1(-1.428606765330187045e-6f), r);
    p = SG_SET1(1.0f / 720.0f);
    p = SG_FMA(p, r, SG_SET1(1.0f / 120.0f));
    p = SG_FMA(p, r, SG_SET1(1.0f / 24.0f));
    p = SG_FMA(p, r, SG_SET1(1.0f / 6.0f));
    p = SG_FMA(p, r, SG_SET1(0.5f));
    p = SG_FMA(p, r, one);
    p = SG_FMA(p, r, one);
    return SG_DIV(one, SG_ADD(one, SG_MUL(p, SG_POW2I(n))));
}
#endif

/* y[i] = σ(x[i]) (in place allowed). */
SG_ATTR static void SG_FN(sigmoids)(const float *x, float *y, int n)
{
    int i = 0;
#ifdef SG_POW2I
    for (; i + SG_W <= n; i += SG_W) SG_STORE(y + i, SG_FN(sigmoid_lanes)(SG_LOAD(x + i)));
#ifdef SG_LOADN
    /* A block's 30-odd values leave a tail: one masked vector, not a scalar loop. */
    if (i < n) {
        SG_STOREN(y + i, SG_FN(sigmoid_lanes)(SG_LOADN(x + i, n - i)), n - i);
        i = n;
    }
#endif
#endif
    for (; i < n; i++) y[i] = 1.0f / (1.0f + sg_exp(-x[i]));
}

#ifdef SG_SUMS12
/* Two inputs against six rows: the 12 sums stored in G's order as one whole
 * vector and one half vector (SG_SUMS12), so that the coefficients' pass
 * (block_coefs) reloads each exactly as it was stored: forwarded from the
 * store, where a wider reload across two stores is not. */
SG_ATTR static void SG_FN(sums_2x6)(float *const *x, float *const *r, int d, float *G)
{
    SG_T acc[2][6], lo, hi;
    int i, j, k = 0;
    SG_DOTS_ACC(2, 6)
    SG_SUMS12(acc, lo, hi)
    SG_STORE(G, lo);
    SG_STORE4(G + 8, hi);
}
#endif
#undef SG_DOTS_TAIL
#undef SG_DOTS_ACC

/* G[i * n_out + j] = (lab[j] - σ(in[i] . out[j])) * scale[j]: block_dots,
 * sigmoids and the labels' step in one op, so that a set may take the sums
 * from its dot products to the coefficients in registers. */
SG_ATTR static void SG_FN(block_coefs)(float *const *in, int n_in, float *const *out, int n_out, int d,
                                       const float *lab, const float *scale, float *G)
{
    int i = 0;
#ifdef SG_SUMS12
    if (n_out == 6 && n_in >= 2) {
        SG_T lab_lo, lab_hi, scale_lo, scale_hi;
        int j;
        for (; n_in - i >= 2; i += 2) SG_FN(sums_2x6)(in + i, out, d, G + (long)i * 6);
        SG_PATTERN12(lab, lab_lo, lab_hi)
        SG_PATTERN12(scale, scale_lo, scale_hi)
        for (j = 0; j < i * 6; j += 12) {
            SG_STORE(G + j, SG_MUL(SG_SUB(lab_lo, SG_FN(sigmoid_lanes)(SG_LOAD(G + j))), scale_lo));
            SG_STORE4(G + j + 8, SG_MUL(SG_SUB(lab_hi, SG_FN(sigmoid_lanes)(SG_LOAD4(G + j + 8))), scale_hi));
        }
    }
#endif
    if (i < n_in) {
        float *Gi = G + (long)i * n_out;
        SG_FN(block_dots)(in + i, n_in - i, out, n_out, d, Gi);
        SG_FN(sigmoids)(Gi, Gi, (n_in - i) * n_out);
        sg_coefs_from_sigmoids(Gi, n_in - i, n_out, lab, scale);
    }
}

/* ---- the exact step: one input against a few distinct outputs -------------
 * word2vec.c's skip-gram step for input v and N distinct output rows (N
 * fixed at compile time, so the row pointers and coefficients stay in
 * registers), in two passes over the rows:
 *   f[j] = v . out[j];  g[j] = alpha (label[j] - σ(f[j]))
 *   out[j] += g[j] v (old v);  v += Σ_j g[j] out[j] (old rows)
 * label NULL: the SGNS layout (out[0] positive). f receives the dots.
 * v's change sums in two halves (even and odd outputs), halving its chain.
 * Each slice of the update pass also prefetches the same slice of the rows
 * ahead[0..n_ahead) (a later pair's; the row's last line after the loop). */
#if SG_VEC
#ifdef SG_LOADN
#define SG_PAIR_DOTS_TAIL(N)                                                   \
    if (k < d) {                                                               \
        SG_T x = SG_LOADN(v + k, d - k);                                       \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) acc[j] = SG_FMA(x, SG_LOADN(o[j] + k, d - k), acc[j]); \
        tail = d;                                                              \
    }
#define SG_PAIR_APPLY_TAIL(N)                                                  \
    if (k < d) {                                                               \
        SG_T x = SG_LOADN(v + k, d - k), a0 = x, a1 = SG_ZERO;                 \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) {                                            \
            SG_T u = SG_LOADN(o[j] + k, d - k);                                \
            if (j % 2) a1 = SG_FMA(gv[j], u, a1);                              \
            else a0 = SG_FMA(gv[j], u, a0);                                    \
            SG_STOREN(o[j] + k, SG_FMA(gv[j], x, u), d - k);                   \
        }                                                                      \
        SG_STOREN(v + k, SG_ADD(a0, a1), d - k);                               \
        k = d;                                                                 \
    }
#else
#define SG_PAIR_DOTS_TAIL(N)
#define SG_PAIR_APPLY_TAIL(N)
#endif
#ifdef SG_POW2I
#define SG_PAIR_SIGMOIDS(N)                                                    \
    for (j = (N); j < 8 + SG_W; j++) f[j] = 0.0f;                              \
    for (j = 0; j < (N); j += SG_W) SG_STORE(s + j, SG_FN(sigmoid_lanes)(SG_LOAD(f + j)));
#else
#define SG_PAIR_SIGMOIDS(N) SG_FN(sigmoids)(f, s, (N));
#endif
/* f[j] = the N sums (plus the plain-C tail), then s[j] = σ(f[j]). Where the
 * set forms up to 8 sums as one vector (SG_SUMS8) they go to the sigmoids in
 * registers: reloading f as one vector across the two half-vector stores that
 * wrote it is not forwarded from them. */
#define SG_PAIR_SUMS_STORED(N)                                                 \
    SG_UNROLL                                                                  \
    for (j = 0; j < (N); j += 4)                                               \
        SG_HSUM4(acc[j], acc[j + 1 < (N) ? j + 1 : j], acc[j + 2 < (N) ? j + 2 : j], \
                 acc[j + 3 < (N) ? j + 3 : j], f + j);                         \
    for (; tail < d; tail++)                                                   \
        for (j = 0; j < (N); j++) f[j] += v[tail] * o[j][tail];                \
    SG_PAIR_SIGMOIDS(N)
#if defined(SG_SUMS8) && defined(SG_POW2I)
#define SG_PAIR_SUMS_SIGMOIDS(N)                                               \
    if (tail == d) {                                                           \
        SG_T sums = SG_SUMS8(acc[0], acc[1 % (N)], acc[2 % (N)], acc[3 % (N)], acc[4 % (N)], \
                             acc[5 % (N)], acc[6 % (N)], acc[7 % (N)]);        \
        SG_STORE(f, sums);                                                     \
        SG_STORE(s, SG_FN(sigmoid_lanes)(sums));                               \
    } else {                                                                   \
        SG_PAIR_SUMS_STORED(N)                                                 \
    }
#else
#define SG_PAIR_SUMS_SIGMOIDS(N) SG_PAIR_SUMS_STORED(N)
#endif
#define SG_PAIR_N(N)                                                           \
    SG_ATTR static void SG_FN(pair_##N)(float *v, float *const *out, const float *label, \
                                        float alpha, int d, float *f,          \
                                        float *const *ahead, int n_ahead)      \
    {                                                                          \
        float *o[N], s[8 + SG_W], g[N];                                        \
        SG_T acc[N], gv[N];                                                    \
        int j, k = 0, tail;                                                    \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) o[j] = out[j], acc[j] = SG_ZERO;             \
        for (; k + SG_W <= d; k += SG_W) {                                     \
            SG_T x = SG_LOAD(v + k);                                           \
            SG_UNROLL                                                          \
            for (j = 0; j < (N); j++) acc[j] = SG_FMA(x, SG_LOAD(o[j] + k), acc[j]); \
        }                                                                      \
        tail = k;                                                              \
        SG_PAIR_DOTS_TAIL(N)                                                   \
        SG_PAIR_SUMS_SIGMOIDS(N)                                               \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) {                                            \
            g[j] = ((label ? label[j] : (j == 0 ? 1.0f : 0.0f)) - s[j]) * alpha; \
            gv[j] = SG_SET1(g[j]);                                             \
        }                                                                      \
        for (k = 0; k + SG_W <= d; k += SG_W) {                                \
            SG_T x = SG_LOAD(v + k), a0 = x, a1 = SG_ZERO;                     \
            if (SG_LINE_START(k))                                              \
                for (j = 0; j < n_ahead; j++) SG_PREFETCH_W1(ahead[j] + k);    \
            SG_UNROLL                                                          \
            for (j = 0; j < (N); j++) {                                        \
                SG_T u = SG_LOAD(o[j] + k);                                    \
                if (j % 2) a1 = SG_FMA(gv[j], u, a1);                          \
                else a0 = SG_FMA(gv[j], u, a0);                                \
                SG_STORE(o[j] + k, SG_FMA(gv[j], x, u));                       \
            }                                                                  \
            SG_STORE(v + k, SG_ADD(a0, a1));                                   \
        }                                                                      \
        for (j = 0; j < n_ahead; j++) SG_PREFETCH_W1(ahead[j] + d - 1);        \
        SG_PAIR_APPLY_TAIL(N)                                                  \
        for (; k < d; k++) {                                                   \
            float x = v[k], a = x;                                             \
            for (j = 0; j < (N); j++) {                                        \
                float u = o[j][k];                                             \
                a += g[j] * u;                                                 \
                o[j][k] = u + g[j] * x;                                        \
            }                                                                  \
            v[k] = a;                                                          \
        }                                                                      \
    }
SG_PAIR_N(1)
SG_PAIR_N(2)
SG_PAIR_N(3)
SG_PAIR_N(4)
SG_PAIR_N(5)
SG_PAIR_N(6)
SG_PAIR_N(7)
SG_PAIR_N(8)
#undef SG_PAIR_N
#undef SG_PAIR_DOTS_TAIL
#undef SG_PAIR_APPLY_TAIL
#undef SG_PAIR_SIGMOIDS
#undef SG_PAIR_SUMS_STORED
#undef SG_PAIR_SUMS_SIGMOIDS
#endif

/* The exact step for n distinct outputs (any n <= SG_MAX_OUT): the unrolled
 * kernel for up to 8, else dots, sigmoids and pair_apply. f: n + 8 + SG_W floats
 * of room (SG_MAX_OUT + 32 is always enough); f[0..n) receives the dots. */
SG_ATTR static void SG_FN(pair_step)(float *v, float *const *out, const float *label, int n, float alpha,
                                     int d, float *f, float *const *ahead, int n_ahead)
{
    float g[SG_MAX_OUT];
    int j;
#if SG_VEC
    switch (n) {
    case 1: SG_FN(pair_1)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 2: SG_FN(pair_2)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 3: SG_FN(pair_3)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 4: SG_FN(pair_4)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 5: SG_FN(pair_5)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 6: SG_FN(pair_6)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 7: SG_FN(pair_7)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    case 8: SG_FN(pair_8)(v, out, label, alpha, d, f, ahead, n_ahead); return;
    default: break;
    }
#endif
    {
        /* The dots four rows at a time, each four followed by a share of
         * the rows ahead: issued in one burst before the dots, the ~80 line
         * prefetches (negative 10, D = 100) filled the core's miss buffers
         * and the pair's own loads waited behind them. */
        int chunks = (n + 3) / 4, per = (n_ahead + chunks - 1) / chunks, a = 0, t;
        for (j = 0; j < n; j += 4) {
            SG_FN(dots)(v, out + j, n - j < 4 ? n - j : 4, d, f + j);
            for (t = 0; t < per && a < n_ahead; t++) sg_prefetch_row(ahead[a++], d);
        }
    }
    SG_FN(sigmoids)(f, g, n);
    for (j = 0; j < n; j++) g[j] = ((label ? label[j] : (j == 0 ? 1.0f : 0.0f)) - g[j]) * alpha;
    SG_FN(pair_apply)(v, out, n, g, d);
}

/* ---- block update: one slice, written once ---------------------------------
 * The block update restricted to one slice of the dimensions, starting at k,
 * and to the outputs out[0..N): the output slices stay in registers while
 * every input streams through once. With delta NULL (the only group of
 * outputs) input i's change sums onto in[i]. With several groups every
 * group reads the old inputs and row i of delta carries the change between
 * them: the first group writes it (from zero), a middle one adds to it, the
 * last (last != 0) adds it and its own terms onto in[i], so no group sums
 * the inputs' change in a pass of its own.
 * Each input's change sums in two halves (even and odd outputs), halving
 * the chain of dependent FMAs; the last of several groups starts them from
 * delta and from the input.
 * T, LD, ST, SET1, FMA and ADD are the vector operations (full slices, masked
 * tails) or the scalar ones (plain-C tails); CAP is the arrays' size. */
#define SG_SLICE(T, N, CAP, LD, ST, SET1, FMA, ADD)                               \
    {                                                                          \
        T o_old[CAP], o_new[CAP];                                              \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) o_new[j] = o_old[j] = LD(out[j] + k);        \
        for (i = 0; i < n_in; i++) {                                           \
            const float *Gi = G + (long)i * ldg;                               \
            float *acc_at = (delta && !last ? delta + (long)i * d : in[i]) + k; \
            T x = LD(in[i] + k), acc = x, acc2 = SET1(0.0f);                   \
            if (delta) {                                                       \
                acc = first ? SET1(0.0f) : LD(delta + (long)i * d + k);        \
                if (last) acc2 = x;                                            \
            }                                                                  \
            SG_UNROLL                                                          \
            for (j = 0; j + 1 < (N); j += 2) {                                 \
                T g0 = SET1(Gi[j]), g1 = SET1(Gi[j + 1]);                      \
                acc = FMA(g0, o_old[j], acc);                                  \
                acc2 = FMA(g1, o_old[j + 1], acc2);                            \
                o_new[j] = FMA(g0, x, o_new[j]);                               \
                o_new[j + 1] = FMA(g1, x, o_new[j + 1]);                       \
            }                                                                  \
            if (j < (N)) {                                                     \
                T g0 = SET1(Gi[j]);                                            \
                acc = FMA(g0, o_old[j], acc);                                  \
                o_new[j] = FMA(g0, x, o_new[j]);                               \
            }                                                                  \
            ST(acc_at, ADD(acc, acc2));                                        \
        }                                                                      \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) ST(out[j] + k, o_new[j]);                    \
    }
/* SG_SLICE for two adjacent slices at once (k and k + SG_W) with N <= 6
 * outputs, for sets with 32 vector registers (SG_PAIRS): each coefficient is broadcast
 * once for four FMAs instead of two (24 output vectors, 2 inputs, 2 sums and
 * the coefficient in registers). Each input's change sums in output order. */
#define SG_SLICE_PAIR(N)                                                       \
    {                                                                          \
        SG_T oo0[N], oo1[N], on0[N], on1[N];                                   \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) {                                            \
            on0[j] = oo0[j] = SG_LOAD(out[j] + k);                             \
            on1[j] = oo1[j] = SG_LOAD(out[j] + k + SG_W);                      \
        }                                                                      \
        for (i = 0; i < n_in; i++) {                                           \
            const float *Gi = G + (long)i * ldg;                               \
            float *acc_at = (delta && !last ? delta + (long)i * d : in[i]) + k; \
            const float *xi = in[i] + k;                                       \
            SG_T x0 = SG_LOAD(xi), x1 = SG_LOAD(xi + SG_W), a0 = x0, a1 = x1;  \
            if (delta) {                                                       \
                const float *di = delta + (long)i * d + k;                     \
                a0 = first ? SG_ZERO : SG_LOAD(di);                            \
                a1 = first ? SG_ZERO : SG_LOAD(di + SG_W);                     \
                if (last) a0 = SG_ADD(a0, x0), a1 = SG_ADD(a1, x1);            \
            }                                                                  \
            SG_UNROLL                                                          \
            for (j = 0; j < (N); j++) {                                        \
                SG_T g = SG_SET1(Gi[j]);                                       \
                a0 = SG_FMA(g, oo0[j], a0);                                    \
                a1 = SG_FMA(g, oo1[j], a1);                                    \
                on0[j] = SG_FMA(g, x0, on0[j]);                                \
                on1[j] = SG_FMA(g, x1, on1[j]);                                \
            }                                                                  \
            SG_STORE(acc_at, a0);                                              \
            SG_STORE(acc_at + SG_W, a1);                                       \
        }                                                                      \
        SG_UNROLL                                                              \
        for (j = 0; j < (N); j++) {                                            \
            SG_STORE(out[j] + k, on0[j]);                                      \
            SG_STORE(out[j] + k + SG_W, on1[j]);                               \
        }                                                                      \
    }
#if SG_REGS32
#define SG_PAIRS(N)                                                            \
    if ((N) <= 6)                                                              \
        for (; k + 2 * SG_W <= d; k += 2 * SG_W) {                             \
            for (a = 0; a < n_ahead; a++) {                                    \
                if (SG_LINE_START(k)) SG_PREFETCH_W(ahead[a] + k);             \
                if (SG_LINE_START(k + SG_W)) SG_PREFETCH_W(ahead[a] + k + SG_W); \
            }                                                                  \
            SG_SLICE_PAIR(N)                                                   \
        }
#else
#define SG_PAIRS(N)
#endif
/* The scalar operations for SG_SLICE. */
#define SG_LD1(p) (*(p))
#define SG_ST1(p, v) (*(p) = (v))
#define SG_SET11(x) (x)
#define SG_FMA1(a, b, c) ((a) * (b) + (c))
#define SG_ADD1(a, b) ((a) + (b))

#if SG_VEC
#ifdef SG_LOADN
#define SG_LD_TAIL(p) SG_LOADN(p, d - k)
#define SG_ST_TAIL(p, v) SG_STOREN(p, v, d - k)
#define SG_SLICE_TAIL(N) if (k < d) { SG_SLICE(SG_T, N, N, SG_LD_TAIL, SG_ST_TAIL, SG_SET1, SG_FMA, SG_ADD) k = d; }
#else
#define SG_SLICE_TAIL(N)
#endif
/* update_N: the vector slices of the block update of exactly N outputs (G's
 * rows are ldg apart; delta, first and last as in SG_SLICE). Returns how far
 * it got: d, or where a plain-C tail starts. */
#define SG_UPDATE_N(N)                                                         \
    SG_ATTR static int SG_FN(update_##N)(float *const *in, int n_in,           \
                                         float *const *out, const float *G,    \
                                         int ldg, float *delta, int first,     \
                                         int last, int d, float *const *ahead, \
                                         int n_ahead)                          \
    {                                                                          \
        int i, j, a, k = 0;                                                    \
        SG_PAIRS(N)                                                            \
        for (; k + SG_W <= d; k += SG_W) {                                     \
            if (SG_LINE_START(k))                                              \
                for (a = 0; a < n_ahead; a++) SG_PREFETCH_W(ahead[a] + k);     \
            SG_SLICE(SG_T, N, N, SG_LOAD, SG_STORE, SG_SET1, SG_FMA, SG_ADD)        \
        }                                                                      \
        for (a = 0; a < n_ahead; a++) SG_PREFETCH_W(ahead[a] + d - 1);        \
        SG_SLICE_TAIL(N)                                                       \
        return k;                                                              \
    }
SG_UPDATE_N(1)
SG_UPDATE_N(2)
SG_UPDATE_N(3)
SG_UPDATE_N(4)
SG_UPDATE_N(5)
SG_UPDATE_N(6)
SG_UPDATE_N(7)
SG_UPDATE_N(8)
#undef SG_UPDATE_N
#undef SG_SLICE_TAIL
#ifdef SG_LOADN
#undef SG_LD_TAIL
#undef SG_ST_TAIL
#endif

/* The vector slices for n (1..8) outputs, with the kernel for that n. */
SG_ATTR static int SG_FN(update_group)(float *const *in, int n_in, float *const *out, int n,
                                       const float *G, int ldg, float *delta, int first, int last,
                                       int d, float *const *ahead, int n_ahead)
{
    switch (n) {
    case 1: return SG_FN(update_1)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    case 2: return SG_FN(update_2)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    case 3: return SG_FN(update_3)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    case 4: return SG_FN(update_4)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    case 5: return SG_FN(update_5)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    case 6: return SG_FN(update_6)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    case 7: return SG_FN(update_7)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    default: return SG_FN(update_8)(in, n_in, out, G, ldg, delta, first, last, d, ahead, n_ahead);
    }
}
#endif

/* Up to SG_GROUP_OUT outputs are updated in place, in one pass over the
 * inputs. More are split into the fewest groups of at most that many, of
 * sizes as equal as they can be (11 outputs: 6 + 5, not 8 + 3: a group of few
 * outputs streams every input for little arithmetic); the inputs' change
 * passes from group to group in delta (see SG_SLICE). Plain C (and the
 * vector code's scalar tail) takes every output at once. 8 for every set
 * (update_1..update_8): at most 6 on AVX2, whose 16 registers cannot hold 8
 * outputs' old and new slices, measured slower still. */
#define SG_GROUP_OUT 8
SG_ATTR static void SG_FN(block_update)(float *const *in, int n_in, float *const *out,
                                        int n_out, const float *G, int d, float *delta,
                                        float *const *ahead, int n_ahead)
{
    int i, j, k = 0, ldg = n_out, first = 1, last = 1;
#if SG_VEC
    if (n_out <= SG_GROUP_OUT) {
        delta = NULL;
        k = SG_FN(update_group)(in, n_in, out, n_out, G, ldg, delta, first, last, d, ahead, n_ahead);
    } else {
        int groups = (n_out + SG_GROUP_OUT - 1) / SG_GROUP_OUT, g, j0 = 0;
        for (g = 0; g < groups; g++) {
            int n = (n_out - j0) / (groups - g);
            /* The first group carries the prefetches. */
            k = SG_FN(update_group)(in, n_in, out + j0, n, G + j0, ldg, delta, g == 0, g == groups - 1, d,
                                    ahead, g ? 0 : n_ahead);
            j0 += n;
        }
    }
#else
    for (i = 0; i < n_ahead; i++) sg_prefetch_row(ahead[i], d);
#endif
    /* The slices past the vectors' reach were in no group: one pass. */
    delta = NULL;
    for (; k < d; k++) SG_SLICE(float, n_out, SG_MAX_OUT, SG_LD1, SG_ST1, SG_SET11, SG_FMA1, SG_ADD1)
}
#undef SG_SLICE
#undef SG_GROUP_OUT
#undef SG_SLICE_PAIR
#undef SG_PAIRS
#undef SG_LD1
#undef SG_ST1
#undef SG_SET11
#undef SG_FMA1
#undef SG_ADD1

static const sg_ops SG_FN(ops) = {
    SG_STR(SG_SUFFIX), SG_FN(dot), SG_FN(axpy), SG_FN(grad_step), SG_FN(block_update),
    SG_FN(dots), SG_FN(block_dots), SG_FN(block_coefs), SG_FN(pair_apply), SG_FN(sigmoids), SG_FN(pair_step),
    SG_FN(sum_rows), SG_FN(add_rows), SG_FN(cbow_apply),
#if SG_VEC
    SG_W,
#else
    1,
#endif
};

#undef SG_FN
#undef SG_LINE_START
#undef SG_UNROLL
#undef SG_HSUM4
#undef SG_SUMS12
#undef SG_SUMS8
#undef SG_PATTERN12
#undef SG_STORE4
#undef SG_LOAD4
#undef SG_CAT
#undef SG_KEEP
#undef SG_CAT2

/* The template's parameters: each instruction set defines its own. */
#undef SG_SUFFIX
#undef SG_ATTR
#undef SG_VEC
#undef SG_APPLY_CHUNK
#undef SG_REGS32
#undef SG_W
#undef SG_T
#undef SG_LOAD
#undef SG_STORE
#undef SG_SET1
#undef SG_ZERO
#undef SG_FMA
#undef SG_ADD
#undef SG_HSUM
#undef SG_HSUM8
#undef SG_HSUM6
#undef SG_PREFETCH_W
#undef SG_PREFETCH_W1
#undef SG_LOADN
#undef SG_STOREN
#undef SG_SUB
#undef SG_MUL
#undef SG_DIV
#undef SG_MIN
#undef SG_MAX
#undef SG_POW2I
