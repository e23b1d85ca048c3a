/* Template for one instruction set. Before including, define:
 *   SG_SUFFIX   name suffix (generic, avx2, avx512)
 *   SG_ATTR     function attribute enabling the instruction set (may be empty)
 *   SG_VEC      1 to use the vector macros below, 0 for plain C
 *   with SG_VEC: SG_W (lanes), SG_T (vector type), SG_LOAD, SG_STORE, SG_SET1,
 *   SG_FMA(a,b,c)=a*b+c, SG_ZERO, SG_HSUM
 * Each function gives the same result as the plain-C one up to float
 * rounding (summation order differs). */
#define SG_CAT2(a, b) a##_##b
#define SG_CAT(a, b) SG_CAT2(a, b)
#define SG_FN(name) SG_CAT(name, SG_SUFFIX)

SG_ATTR static float SG_FN(dot)(const float *a, const float *b, int d)
{
    int i = 0;
    float s;
#if SG_VEC
    SG_T s0 = SG_ZERO, s1 = SG_ZERO, s2 = SG_ZERO, s3 = SG_ZERO;
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
        res[j] = SG_HSUM(s0);
        res[j + 1] = SG_HSUM(s1);
        res[j + 2] = SG_HSUM(s2);
        res[j + 3] = SG_HSUM(s3);
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

/* With g[j] already scaled by alpha, in one pass:
 *   v      += sum_j g[j] * out[j]   (old out)
 *   out[j] += g[j] * v              (old v)                               */
SG_ATTR static void SG_FN(pair_apply)(float *v, float *const *out, int n, const float *g, int d)
{
    int j, k = 0;
#if SG_VEC
    SG_T gv[SG_MAX_OUT];
    for (j = 0; j < n; j++) gv[j] = SG_SET1(g[j]);
    for (; k + SG_W <= d; k += SG_W) {
        SG_T x = SG_LOAD(v + k), acc = x;
        for (j = 0; j < n; j++) {
            SG_T o = SG_LOAD(out[j] + k);
            acc = SG_FMA(gv[j], o, acc);
            SG_STORE(out[j] + k, SG_FMA(gv[j], x, o));
        }
        SG_STORE(v + k, acc);
    }
#ifdef SG_LOADN
    if (k < d) {
        SG_T x = SG_LOADN(v + k, d - k), acc = x;
        for (j = 0; j < n; j++) {
            SG_T o = SG_LOADN(out[j] + k, d - k);
            acc = SG_FMA(gv[j], o, acc);
            SG_STOREN(out[j] + k, SG_FMA(gv[j], x, o), d - k);
        }
        SG_STOREN(v + k, acc, d - k);
        k = d;
    }
#endif
#endif
    for (; k < d; k++) {
        float x = v[k], acc = x;
        for (j = 0; j < n; j++) {
            float o = out[j][k];
            acc += g[j] * o;
            out[j][k] = o + g[j] * x;
        }
        v[k] = acc;
    }
}

#if SG_VEC
/* block_update for exactly N outputs: the N output slices live in registers
 * while the inputs stream through. LD/ST load and store one slice. */
#define SG_BLOCK_SLICE(N, LD, ST)                                              \
    {                                                                          \
        SG_T o_old[N], o_new[N];                                               \
        for (j = 0; j < N; j++) o_new[j] = o_old[j] = LD(out[j] + k);          \
        for (i = 0; i < n_in; i++) {                                           \
            const float *Gi = G + (long)i * N;                                 \
            SG_T x = LD(in[i] + k), acc = x;                                   \
            for (j = 0; j < N; j++) {                                          \
                SG_T gij = SG_SET1(Gi[j]);                                     \
                acc = SG_FMA(gij, o_old[j], acc);                              \
                o_new[j] = SG_FMA(gij, x, o_new[j]);                           \
            }                                                                  \
            ST(in[i] + k, acc);                                                \
        }                                                                      \
        for (j = 0; j < N; j++) ST(out[j] + k, o_new[j]);                      \
    }
#ifdef SG_LOADN
#define SG_LD_TAIL(p) SG_LOADN(p, d - k)
#define SG_ST_TAIL(p, v) SG_STOREN(p, v, d - k)
#endif
#define SG_BLOCK_N(N)                                                          \
    SG_ATTR static int SG_FN(block_update_##N)(float *const *in, int n_in,     \
                                               float *const *out,              \
                                               const float *G, int d)          \
    {                                                                          \
        int i, j, k = 0;                                                       \
        for (; k + SG_W <= d; k += SG_W) SG_BLOCK_SLICE(N, SG_LOAD, SG_STORE)  \
        SG_BLOCK_TAIL(N)                                                       \
        return k;                                                              \
    }
#ifdef SG_LOADN
#define SG_BLOCK_TAIL(N) if (k < d) { SG_BLOCK_SLICE(N, SG_LD_TAIL, SG_ST_TAIL) k = d; }
#else
#define SG_BLOCK_TAIL(N)
#endif
SG_BLOCK_N(2)
SG_BLOCK_N(3)
SG_BLOCK_N(4)
SG_BLOCK_N(5)
SG_BLOCK_N(6)
SG_BLOCK_N(7)
SG_BLOCK_N(8)
#undef SG_BLOCK_N
#undef SG_BLOCK_TAIL
#undef SG_BLOCK_SLICE
#ifdef SG_LOADN
#undef SG_LD_TAIL
#undef SG_ST_TAIL
#endif
#endif

/* y[i] = σ(x[i]): a branch-free loop the compiler vectorises for this ISA. */
SG_ATTR static void SG_FN(sigmoids)(const float *x, float *y, int n)
{
    int i;
    for (i = 0; i < n; i++) y[i] = 1.0f / (1.0f + sg_exp(-x[i]));
}

#if SG_VEC
/* For more than 8 outputs: groups of up to 8 output slices in registers;
 * the inputs' deltas gather in delta (n_in x d, zeroed by the caller) and
 * are applied once every group has read the old inputs. */
#define SG_GROUP_SLICE(N, LD, ST)                                              \
    {                                                                          \
        SG_T o_old[N], o_new[N];                                               \
        for (j = 0; j < N; j++) o_new[j] = o_old[j] = LD(out[j] + k);          \
        for (i = 0; i < n_in; i++) {                                           \
            const float *Gi = G + (long)i * ldg;                               \
            float *di = delta + (long)i * d + k;                               \
            SG_T x = LD(in[i] + k), acc = LD(di);                              \
            for (j = 0; j < N; j++) {                                          \
                SG_T gij = SG_SET1(Gi[j]);                                     \
                acc = SG_FMA(gij, o_old[j], acc);                              \
                o_new[j] = SG_FMA(gij, x, o_new[j]);                           \
            }                                                                  \
            ST(di, acc);                                                       \
        }                                                                      \
        for (j = 0; j < N; j++) ST(out[j] + k, o_new[j]);                      \
    }
#ifdef SG_LOADN
#define SG_LD_TAIL(p) SG_LOADN(p, d - k)
#define SG_ST_TAIL(p, v) SG_STOREN(p, v, d - k)
#define SG_GROUP_TAIL(N) if (k < d) { SG_GROUP_SLICE(N, SG_LD_TAIL, SG_ST_TAIL) k = d; }
#else
#define SG_GROUP_TAIL(N)
#endif
#define SG_GROUP_N(N)                                                          \
    SG_ATTR static int SG_FN(group_update_##N)(float *const *in, int n_in,     \
                                               float *const *out,              \
                                               const float *G, int ldg,        \
                                               float *delta, int d)            \
    {                                                                          \
        int i, j, k = 0;                                                       \
        for (; k + SG_W <= d; k += SG_W) SG_GROUP_SLICE(N, SG_LOAD, SG_STORE)  \
        SG_GROUP_TAIL(N)                                                       \
        return k;                                                              \
    }
SG_GROUP_N(1)
SG_GROUP_N(2)
SG_GROUP_N(3)
SG_GROUP_N(4)
SG_GROUP_N(5)
SG_GROUP_N(6)
SG_GROUP_N(7)
SG_GROUP_N(8)
#undef SG_GROUP_N
#undef SG_GROUP_TAIL
#undef SG_GROUP_SLICE
#ifdef SG_LOADN
#undef SG_LD_TAIL
#undef SG_ST_TAIL
#endif

/* Outputs j0..j0+n-1 of the block, with the group kernel for n (1..8). */
SG_ATTR static int SG_FN(group_update)(float *const *in, int n_in, float *const *out, int n,
                                       const float *G, int ldg, float *delta, int d)
{
    switch (n) {
    case 1: return SG_FN(group_update_1)(in, n_in, out, G, ldg, delta, d);
    case 2: return SG_FN(group_update_2)(in, n_in, out, G, ldg, delta, d);
    case 3: return SG_FN(group_update_3)(in, n_in, out, G, ldg, delta, d);
    case 4: return SG_FN(group_update_4)(in, n_in, out, G, ldg, delta, d);
    case 5: return SG_FN(group_update_5)(in, n_in, out, G, ldg, delta, d);
    case 6: return SG_FN(group_update_6)(in, n_in, out, G, ldg, delta, d);
    case 7: return SG_FN(group_update_7)(in, n_in, out, G, ldg, delta, d);
    default: return SG_FN(group_update_8)(in, n_in, out, G, ldg, delta, d);
    }
}
#endif

/* One pass over the dimensions: for each slice, the output slices stay in
 * registers (or L1) while every input row streams through once. */
SG_ATTR static void SG_FN(block_update)(float *const *in, int n_in, float *const *out,
                                        int n_out, const float *G, int d, float *delta)
{
    int i, j, k = 0;
#if SG_VEC
    if (n_out > 8 && delta) {
        /* Groups of 8 outputs in registers; the tail of d (AVX2: d % 8)
         * falls through to the scalar loop below, which still reads the old
         * inputs because the deltas are applied last. */
        int j0, kk = d;
        memset(delta, 0, sizeof(float) * (size_t)n_in * (size_t)d);
        for (j0 = 0; j0 < n_out; j0 += 8) {
            int n = n_out - j0 < 8 ? n_out - j0 : 8;
            kk = SG_FN(group_update)(in, n_in, out + j0, n, G + j0, n_out, delta, d);
        }
        for (; kk < d; kk++) {
            float o_old[SG_MAX_OUT], o_new[SG_MAX_OUT];
            for (j = 0; j < n_out; j++) o_old[j] = o_new[j] = out[j][kk];
            for (i = 0; i < n_in; i++) {
                const float *Gi = G + (long)i * n_out;
                float x = in[i][kk], acc = 0.0f;
                for (j = 0; j < n_out; j++) {
                    acc += Gi[j] * o_old[j];
                    o_new[j] += Gi[j] * x;
                }
                delta[(long)i * d + kk] = acc;
            }
            for (j = 0; j < n_out; j++) out[j][kk] = o_new[j];
        }
        for (i = 0; i < n_in; i++) SG_FN(axpy)(1.0f, delta + (long)i * d, in[i], d);
        return;
    }
    /* Common sizes (negative <= 7) get a register-resident version; it
     * returns how far it got (d, or the start of a scalar tail). */
    switch (n_out) {
    case 2: k = SG_FN(block_update_2)(in, n_in, out, G, d); break;
    case 3: k = SG_FN(block_update_3)(in, n_in, out, G, d); break;
    case 4: k = SG_FN(block_update_4)(in, n_in, out, G, d); break;
    case 5: k = SG_FN(block_update_5)(in, n_in, out, G, d); break;
    case 6: k = SG_FN(block_update_6)(in, n_in, out, G, d); break;
    case 7: k = SG_FN(block_update_7)(in, n_in, out, G, d); break;
    case 8: k = SG_FN(block_update_8)(in, n_in, out, G, d); break;
    default: break;
    }
    for (; k + SG_W <= d; k += SG_W) {
        SG_T o_old[SG_MAX_OUT], o_new[SG_MAX_OUT];
        for (j = 0; j < n_out; j++) {
            o_old[j] = SG_LOAD(out[j] + k);
            o_new[j] = o_old[j];
        }
        for (i = 0; i < n_in; i++) {
            const float *Gi = G + (long)i * n_out;
            SG_T x = SG_LOAD(in[i] + k);
            SG_T acc = x;
            for (j = 0; j < n_out; j++) {
                SG_T gij = SG_SET1(Gi[j]);
                acc = SG_FMA(gij, o_old[j], acc);
                o_new[j] = SG_FMA(gij, x, o_new[j]);
            }
            SG_STORE(in[i] + k, acc);
        }
        for (j = 0; j < n_out; j++) SG_STORE(out[j] + k, o_new[j]);
    }
#endif
    for (; k < d; k++) {
        float o_old[SG_MAX_OUT], o_new[SG_MAX_OUT];
        for (j = 0; j < n_out; j++) o_old[j] = o_new[j] = out[j][k];
        for (i = 0; i < n_in; i++) {
            const float *Gi = G + (long)i * n_out;
            float x = in[i][k], acc = x;
            for (j = 0; j < n_out; j++) {
                acc += Gi[j] * o_old[j];
                o_new[j] += Gi[j] * x;
            }
            in[i][k] = acc;
        }
        for (j = 0; j < n_out; j++) out[j][k] = o_new[j];
    }
}

static const sg_ops SG_FN(ops) = {
    SG_STR(SG_SUFFIX), SG_FN(dot), SG_FN(axpy), SG_FN(grad_step), SG_FN(block_update),
    SG_FN(dots), SG_FN(pair_apply), SG_FN(sigmoids),
};

#undef SG_FN
#undef SG_CAT
#undef SG_CAT2
