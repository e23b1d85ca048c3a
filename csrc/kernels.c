/* Run-time dispatch between the generic, AVX2+FMA and AVX-512 kernels, and
 * the two SGNS updates built on them. */
#include <math.h>
#include <string.h>
#include "kernels.h"

#define SG_STR2(x) #x
#define SG_STR(x) SG_STR2(x)

/* e^x for |x| <= 87, branch-free so that loops of it vectorise: x = n ln2 + r
 * with |r| <= ln2/2 (two-part ln2), a degree-6 Taylor polynomial for e^r
 * (truncation error < 2e-8 relative), and 2^n put in the exponent bits.
 * Within 2 ulp of the true value with no libm call, so every platform gives
 * the same result. */
static inline float sg_exp(float x)
{
    union { uint32_t i; float f; } scale;
    float t, n, r, p;
    x = x > 87.0f ? 87.0f : x;
    x = x < -87.0f ? -87.0f : x;
    t = x * 1.44269504088896341f;
    n = (t + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
    r = x - n * 0.693145751953125f;
    r = r - n * 1.428606765330187045e-6f;
    p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    scale.i = (uint32_t)((int32_t)n + 127) << 23;
    return p * scale.f;
}

/* ---- generic C: the baseline every build has --------------------------- */
#define SG_SUFFIX generic
#define SG_ATTR
#define SG_VEC 0
#include "kernels_impl.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SG_HAVE_X86 1
#include <immintrin.h>

/* ---- AVX2 + FMA --------------------------------------------------------- */
__attribute__((target("avx2,fma"))) static inline float sg_hsum256(__m256 v)
{
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}
#define SG_SUFFIX avx2
#define SG_ATTR __attribute__((target("avx2,fma")))
#define SG_VEC 1
#define SG_W 8
#define SG_T __m256
#define SG_LOAD _mm256_loadu_ps
#define SG_STORE _mm256_storeu_ps
#define SG_SET1 _mm256_set1_ps
#define SG_FMA _mm256_fmadd_ps
#define SG_ADD _mm256_add_ps
#define SG_ZERO _mm256_setzero_ps()
#define SG_HSUM sg_hsum256
#include "kernels_impl.h"

/* ---- AVX-512F ----------------------------------------------------------- */
#define SG_SUFFIX avx512
#define SG_ATTR __attribute__((target("avx512f")))
#define SG_VEC 1
#define SG_W 16
#define SG_T __m512
#define SG_LOAD _mm512_loadu_ps
#define SG_STORE _mm512_storeu_ps
#define SG_SET1 _mm512_set1_ps
#define SG_FMA _mm512_fmadd_ps
#define SG_ADD _mm512_add_ps
#define SG_ZERO _mm512_setzero_ps()
#define SG_HSUM _mm512_reduce_add_ps
#define SG_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), (p))
#define SG_STOREN(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#include "kernels_impl.h"
#endif

const sg_ops *sg_active = &ops_generic;

int sg_supported(const char *name)
{
    if (strcmp(name, "generic") == 0) return 1;
#ifdef SG_HAVE_X86
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(name, "avx512") == 0) return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

int sg_select(const char *name)
{
    if (strcmp(name, "auto") == 0) {
        if (sg_supported("avx512")) return sg_select("avx512");
        if (sg_supported("avx2")) return sg_select("avx2");
        return sg_select("generic");
    }
    if (strcmp(name, "generic") && strcmp(name, "avx2") && strcmp(name, "avx512")) return -1;
    if (!sg_supported(name)) return -2;
    if (strcmp(name, "generic") == 0) sg_active = &ops_generic;
#ifdef SG_HAVE_X86
    else if (strcmp(name, "avx2") == 0) sg_active = &ops_avx2;
    else sg_active = &ops_avx512;
#endif
    return 0;
}

const char *sg_active_name(void) { return sg_active->name; }

/* Saturates cleanly: e^87 is finite, so no inf or NaN for any input. */
static inline float sigmoid(float x) { return 1.0f / (1.0f + sg_exp(-x)); }

float sg_sigmoid(float x) { return sigmoid(x); }

double sg_log_sigmoid(double x)
{
    /* log σ(x) = -softplus(-x), computed without overflow. */
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

/* g[j] = alpha * weight[j] * (label[j] - σ(f[j])). label NULL means the
 * SGNS layout (1 for j == 0, else 0); weight NULL means 1. A plain loop over
 * a few values, which the compiler vectorises. */
static inline void coefficients(const sg_ops *ops, const float *f, const float *label,
                                const float *weight, int n, float alpha, float *g)
{
    int j;
    ops->sigmoids(f, g, n); /* in place is fine: g[j] depends on f[j] only */
    for (j = 0; j < n; j++) {
        float lab = label ? label[j] : (j == 0 ? 1.0f : 0.0f);
        g[j] = (lab - g[j]) * alpha * (weight ? weight[j] : 1.0f);
    }
}

/* -Σ w_j [label_j log σ(f_j) + (1 - label_j) log σ(-f_j)] in float64. */
static double logistic_loss(const float *f, const float *label, const float *weight, int n)
{
    double loss = 0.0;
    int j;
    for (j = 0; j < n; j++) {
        double lab = label ? label[j] : (j == 0 ? 1.0 : 0.0), w = weight ? weight[j] : 1.0;
        loss -= w * (lab * sg_log_sigmoid(f[j]) + (1.0 - lab) * sg_log_sigmoid(-(double)f[j]));
    }
    return loss;
}

/* 1 if two of the n row pointers are equal. */
static int has_repeats(float *const *rows, int n)
{
    int i, j;
    for (i = 1; i < n; i++)
        for (j = 0; j < i; j++)
            if (rows[i] == rows[j]) return 1;
    return 0;
}

double sg_pair_update(float *v, float *const *out, const float *label, int n_out, float alpha,
                      int d, float *work, int want_loss)
{
    const sg_ops *ops = sg_active;
    float f[SG_MAX_OUT], g[SG_MAX_OUT];
    int j;
    if (!has_repeats(out, n_out)) {
        /* Distinct rows: word2vec.c's sequential loop reads every output row
         * before it writes it and v only at the end, so all dot products can
         * be taken first and all updates applied in one pass. */
        ops->dots(v, out, n_out, d, f);
        coefficients(ops, f, label, NULL, n_out, alpha, g);
        ops->pair_apply(v, out, n_out, g, d);
        return want_loss ? logistic_loss(f, label, NULL, n_out) : 0.0;
    }
    /* A noise word drawn twice: its second use sees the first update. */
    memset(work, 0, sizeof(float) * (size_t)d);
    for (j = 0; j < n_out; j++) {
        float lab = label ? label[j] : (j == 0 ? 1.0f : 0.0f);
        f[j] = ops->dot(v, out[j], d);
        g[j] = (lab - sigmoid(f[j])) * alpha;
        ops->grad_step(g[j], v, out[j], work, d);
    }
    ops->axpy(1.0f, work, v, d);
    return want_loss ? logistic_loss(f, label, NULL, n_out) : 0.0;
}

double sg_batch_update(float *const *in, int n_in, float *const *out, const float *label,
                       const float *weight, int n_out, float alpha, int d,
                       float *scratch, int want_loss)
{
    const sg_ops *ops = sg_active;
    double loss = 0.0;
    int i;
    float *delta = scratch + (long)n_in * n_out;
    for (i = 0; i < n_in; i++) {
        float *Gi = scratch + (long)i * n_out;
        ops->dots(in[i], out, n_out, d, Gi);
        if (want_loss) loss += logistic_loss(Gi, label, weight, n_out);
    }
    /* One vectorised pass of sigmoids over the whole block, then labels. */
    ops->sigmoids(scratch, scratch, n_in * n_out);
    for (i = 0; i < n_in; i++) {
        float *Gi = scratch + (long)i * n_out;
        int j;
        for (j = 0; j < n_out; j++) {
            float lab = label ? label[j] : (j == 0 ? 1.0f : 0.0f);
            Gi[j] = (lab - Gi[j]) * alpha * (weight ? weight[j] : 1.0f);
        }
    }
    ops->block_update(in, n_in, out, n_out, scratch, d, delta);
    return loss;
}

double sg_cbow_update(float *const *in, int n_in, int mean, float *const *out,
                      const float *label, const float *weight, int n_out, float alpha,
                      int d, float *work, int want_loss)
{
    const sg_ops *ops = sg_active;
    float *h = work, *t = work + d;
    float f[SG_MAX_OUT], g[SG_MAX_OUT];
    int i;
    if (n_in == 0) return 0.0;
    /* h = sum (or mean) of the context vectors. */
    memset(h, 0, sizeof(float) * (size_t)d);
    for (i = 0; i < n_in; i++) ops->axpy(1.0f, in[i], h, d);
    if (mean && n_in > 1)
        for (i = 0; i < d; i++) h[i] /= (float)n_in;
    ops->dots(h, out, n_out, d, f);
    coefficients(ops, f, label, weight, n_out, alpha, g);
    /* t = h + Σ g_j out_j (old rows); out_j += g_j h. */
    memcpy(t, h, sizeof(float) * (size_t)d);
    ops->pair_apply(t, out, n_out, g, d);
    /* word2vec.c adds the whole error to every context word. */
    for (i = 0; i < d; i++) t[i] -= h[i];
    for (i = 0; i < n_in; i++) ops->axpy(1.0f, t, in[i], d);
    return want_loss ? logistic_loss(f, label, weight, n_out) : 0.0;
}
