/* Run-time dispatch between the generic, AVX2+FMA and AVX-512 kernels, and
 * the two SGNS updates built on them. */
#include <math.h>
#include <string.h>
#include "kernels.h"

#define SG_STR2(x) #x
#define SG_STR(x) SG_STR2(x)

/* ---- generic C: the baseline every build has --------------------------- */
#define SG_SUFFIX generic
#define SG_ATTR
#define SG_VEC 0
#include "kernels_impl.h"
#undef SG_SUFFIX
#undef SG_ATTR
#undef SG_VEC

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
#undef SG_SUFFIX
#undef SG_ATTR
#undef SG_W
#undef SG_T
#undef SG_LOAD
#undef SG_STORE
#undef SG_SET1
#undef SG_FMA
#undef SG_ADD
#undef SG_ZERO
#undef SG_HSUM

/* ---- AVX-512F ----------------------------------------------------------- */
#define SG_SUFFIX avx512
#define SG_ATTR __attribute__((target("avx512f")))
#define SG_W 16
#define SG_T __m512
#define SG_LOAD _mm512_loadu_ps
#define SG_STORE _mm512_storeu_ps
#define SG_SET1 _mm512_set1_ps
#define SG_FMA _mm512_fmadd_ps
#define SG_ADD _mm512_add_ps
#define SG_ZERO _mm512_setzero_ps()
#define SG_HSUM _mm512_reduce_add_ps
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

float sg_sigmoid(float x)
{
    /* expf overflows to inf for x < -88, giving exactly 0: no NaN. */
    return 1.0f / (1.0f + expf(-x));
}

double sg_log_sigmoid(double x)
{
    /* log σ(x) = -softplus(-x), computed without overflow. */
    return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

double sg_pair_update(float *v, float *const *out, int n_out, float alpha,
                      int d, float *work, int want_loss)
{
    const sg_ops *ops = sg_active;
    double loss = 0.0;
    int j;
    memset(work, 0, sizeof(float) * (size_t)d);
    for (j = 0; j < n_out; j++) {
        float f = ops->dot(v, out[j], d);
        float label = j == 0 ? 1.0f : 0.0f;
        float g = (label - sg_sigmoid(f)) * alpha;
        if (want_loss) loss -= sg_log_sigmoid(j == 0 ? (double)f : -(double)f);
        ops->grad_step(g, v, out[j], work, d);
    }
    ops->axpy(1.0f, work, v, d);
    return loss;
}

double sg_batch_update(float *const *in, int n_in, float *const *out,
                       const float *weight, int n_out, float alpha, int d,
                       float *scratch, int want_loss)
{
    const sg_ops *ops = sg_active;
    double loss = 0.0;
    int i, j;
    for (i = 0; i < n_in; i++) {
        float *Gi = scratch + (long)i * n_out;
        for (j = 0; j < n_out; j++) {
            float f = ops->dot(in[i], out[j], d);
            float label = j == 0 ? 1.0f : 0.0f;
            Gi[j] = (label - sg_sigmoid(f)) * alpha * weight[j];
            if (want_loss)
                loss -= weight[j] * sg_log_sigmoid(j == 0 ? (double)f : -(double)f);
        }
    }
    ops->block_update(in, n_in, out, n_out, scratch, d);
    return loss;
}
