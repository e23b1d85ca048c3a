/* Run-time dispatch between the kernel sets (kernels_impl.h instantiated
 * once per instruction set), and the SGNS updates built on them.
 *
 *   generic  every build: GCC/Clang vector extensions, 4 lanes, which the
 *            compiler turns into SSE2 on x86-64, NEON on aarch64 and
 *            whatever other targets have (plain C under other compilers)
 *   avx2     x86: AVX2 + FMA, 8 lanes           } chosen at run time from
 *   avx512   x86: AVX-512F, 16 lanes, masked tails} CPUID, never by -march
 *   neon     aarch64: NEON (baseline there), 4 lanes with FMA
 *
 * GCC and Clang compile the x86 sets with per-function target attributes;
 * MSVC compiles any intrinsic without one, so there the attribute is empty.
 * The CPU is asked through CPUID and XGETBV by the same code under every
 * compiler (the OS must save the wider registers, too). */
#include <math.h>
#include <string.h>
#include "kernels.h"
#ifdef SG_SKELETON
#include <stdlib.h> /* getenv, for the bench-only switch below */
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define SG_MSVC 1
#endif
#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define SG_X86 1
#elif defined(__aarch64__) || defined(_M_ARM64)
#define SG_ARM64 1
#endif
/* -DSG_PLAIN_C builds the generic set as plain C, as other compilers get it
 * (for testing that path with GCC or Clang). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(SG_PLAIN_C)
#define SG_VECTOR_EXTENSIONS 1
#endif

#define SG_STR2(x) #x
#define SG_STR(x) SG_STR2(x)

/* The labels' step of a block: rows of sigmoids in G (n_out wide) become
 * the coefficients (lab[j] - σ) * scale[j]. Shared by every set's
 * block_coefs and by the loss path of sg_batch_update_ahead, which needs
 * the dot products themselves before their sigmoids. */
static inline void sg_coefs_from_sigmoids(float *G, int n_rows, int n_out, const float *lab, const float *scale)
{
    int i, j;
    for (i = 0; i < n_rows; i++, G += n_out)
        for (j = 0; j < n_out; j++) G[j] = (lab[j] - G[j]) * scale[j];
}

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

/* ---- generic: GCC/Clang vector extensions -------------------------------- */
#ifdef SG_VECTOR_EXTENSIONS
typedef float sg_v4f __attribute__((vector_size(16)));
typedef int32_t sg_v4i __attribute__((vector_size(16)));
static inline sg_v4f sg_v4_load(const float *p) { sg_v4f v; memcpy(&v, p, sizeof v); return v; }
static inline void sg_v4_store(float *p, sg_v4f v) { memcpy(p, &v, sizeof v); }
static inline sg_v4f sg_v4_set1(float x) { sg_v4f v = {x, x, x, x}; return v; }
static inline float sg_v4_hsum(sg_v4f v) { return (v[0] + v[2]) + (v[1] + v[3]); }
/* Lane by lane, m ? a : b for a comparison mask m (C has no ?: on vectors). */
static inline sg_v4f sg_v4_select(sg_v4i m, sg_v4f a, sg_v4f b)
{
    return (sg_v4f)((m & (sg_v4i)a) | (~m & (sg_v4i)b));
}
static inline sg_v4f sg_v4_min(sg_v4f a, sg_v4f b) { return sg_v4_select(a < b, a, b); }
static inline sg_v4f sg_v4_max(sg_v4f a, sg_v4f b) { return sg_v4_select(a > b, a, b); }
/* 2^n for lanes holding integers n in [-126, 127]: n + 127 in the exponent. */
static inline sg_v4f sg_v4_pow2i(sg_v4f n) { return (sg_v4f)((__builtin_convertvector(n, sg_v4i) + 127) << 23); }

#define SG_SUFFIX generic
#define SG_ATTR
#define SG_VEC 1
#define SG_W 4
#define SG_T sg_v4f
#define SG_LOAD sg_v4_load
#define SG_STORE sg_v4_store
#define SG_SET1 sg_v4_set1
#define SG_ZERO sg_v4_set1(0.0f)
#define SG_FMA(a, b, c) ((a) * (b) + (c))
#define SG_ADD(a, b) ((a) + (b))
#define SG_HSUM sg_v4_hsum
#define SG_SUB(a, b) ((a) - (b))
#define SG_MUL(a, b) ((a) * (b))
#define SG_DIV(a, b) ((a) / (b))
#define SG_MIN sg_v4_min
#define SG_MAX sg_v4_max
#define SG_POW2I sg_v4_pow2i
#include "kernels_impl.h"
#else
/* ---- generic: plain C, for compilers without vector extensions ---------- */
#define SG_SUFFIX generic
#define SG_ATTR
#define SG_VEC 0
#include "kernels_impl.h"
#endif

/* ---- x86: AVX2 + FMA, AVX-512F ---------------------------------------------- */
#if defined(SG_X86) && (defined(__GNUC__) || defined(__clang__) || defined(SG_MSVC))
#define SG_HAVE_X86_SETS 1
#include <immintrin.h>
#ifdef SG_MSVC
#include <intrin.h>
#define SG_TARGET(isa)
#else
#include <cpuid.h>
#define SG_TARGET(isa) __attribute__((target(isa)))
#endif

/* The sum of 4 lanes as ((0 + 2) + (1 + 3)); SSE only, so every set may inline it. */
static inline float sg_hsum128(__m128 v)
{
    v = _mm_add_ps(v, _mm_movehl_ps(v, v));
    v = _mm_add_ss(v, _mm_shuffle_ps(v, v, 1));
    return _mm_cvtss_f32(v);
}

SG_TARGET("avx2,fma") static inline float sg_hsum256(__m256 v)
{
    return sg_hsum128(_mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)));
}
SG_TARGET("avx2,fma") static inline __m256 sg_pow2i256(__m256 n)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
}
/* The lane sums of a, b, c, e (pairwise sums, then the halves); each sum
 * depends on its own vector only, whatever its place. */
SG_TARGET("avx2,fma") static inline __m128 sg_sums4_256(__m256 a, __m256 b, __m256 c, __m256 e)
{
    __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, e));
    return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}
SG_TARGET("avx2,fma") static inline void sg_hsum4_256(__m256 a, __m256 b, __m256 c, __m256 e, float *res)
{
    _mm_storeu_ps(res, sg_sums4_256(a, b, c, e));
}
/* Eight sums as one vector, in order (the same sums as sg_hsum4_256 gives). */
#define SG_SUMS8(a0, a1, a2, a3, a4, a5, a6, a7) \
    _mm256_set_m128(sg_sums4_256((a4), (a5), (a6), (a7)), sg_sums4_256((a0), (a1), (a2), (a3)))
/* A 2 x 6 tile's 12 sums (acc[input][output]) in G's row order, as two
 * vectors: lo = input 0's six and input 1's first two, the low half of hi =
 * input 1's last four (its high half repeats them). */
#define SG_SUMS12(acc, lo, hi)                                                                  \
    {                                                                                          \
        __m128 s2 = sg_sums4_256(acc[1][2], acc[1][3], acc[1][4], acc[1][5]);                  \
        lo = SG_SUMS8(acc[0][0], acc[0][1], acc[0][2], acc[0][3], acc[0][4], acc[0][5], acc[1][0], acc[1][1]); \
        hi = _mm256_set_m128(s2, s2);                                                          \
    }
/* v[j] = src[j % 6] for the 12 places of SG_SUMS12 (hi's high half: places 8..11 again). */
#define SG_PATTERN12(src, lo, hi)                                                               \
    {                                                                                          \
        lo = _mm256_setr_ps(src[0], src[1], src[2], src[3], src[4], src[5], src[0], src[1]);   \
        hi = _mm256_setr_ps(src[2], src[3], src[4], src[5], src[2], src[3], src[4], src[5]);   \
    }
#define SG_STORE4(p, v) _mm_storeu_ps((p), _mm256_castps256_ps128(v))
#define SG_LOAD4(p) _mm256_broadcast_ps((const __m128 *)(p))
/* Lanes 0..n-1 of a masked load or store (0 < n < 8). */
static const int32_t sg_mask8[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
#define SG_MASK8(n) _mm256_loadu_si256((const __m256i *)(sg_mask8 + 8 - (n)))
#define SG_SUFFIX avx2
#define SG_ATTR SG_TARGET("avx2,fma")
#define SG_VEC 1
#define SG_W 8
#define SG_T __m256
#define SG_LOAD _mm256_loadu_ps
#define SG_STORE _mm256_storeu_ps
#define SG_SET1 _mm256_set1_ps
#define SG_ZERO _mm256_setzero_ps()
#define SG_FMA _mm256_fmadd_ps
#define SG_ADD _mm256_add_ps
#define SG_HSUM sg_hsum256
#define SG_HSUM4 sg_hsum4_256
#define SG_LOADN(p, n) _mm256_maskload_ps((p), SG_MASK8(n))
#define SG_STOREN(p, v, n) _mm256_maskstore_ps((p), SG_MASK8(n), (v))
#define SG_SUB _mm256_sub_ps
#define SG_MUL _mm256_mul_ps
#define SG_DIV _mm256_div_ps
#define SG_MIN _mm256_min_ps
#define SG_MAX _mm256_max_ps
#define SG_POW2I sg_pow2i256
#include "kernels_impl.h"

/* v's four 128-bit blocks added: the halves first, then their halves. */
SG_TARGET("avx512f") static inline __m128 sg_narrow512(__m512 v)
{
    __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v), hi);
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}
/* The same order as the 256-bit sum: halves first, then 4 lanes. */
SG_TARGET("avx512f") static inline float sg_hsum512(__m512 v)
{
    return sg_hsum128(sg_narrow512(v));
}
SG_TARGET("avx512f") static inline __m512 sg_pow2i512(__m512 n)
{
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
}
/* res[0..3] = the lane sums of a, b, c, e: 512 -> 4 x 128 bits by lane
 * shuffles, then each 128-bit lane summed in place and the four gathered. */
SG_TARGET("avx512f") static inline void sg_hsum4_512(__m512 a, __m512 b, __m512 c, __m512 e, float *res)
{
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    __m512 ce = _mm512_add_ps(_mm512_shuffle_f32x4(c, e, 0x44), _mm512_shuffle_f32x4(c, e, 0xEE));
    __m512 t = _mm512_add_ps(_mm512_shuffle_f32x4(ab, ce, 0x88), _mm512_shuffle_f32x4(ab, ce, 0xDD));
    t = _mm512_add_ps(t, _mm512_permute_ps(t, 0x4E));
    t = _mm512_add_ps(t, _mm512_permute_ps(t, 0xB1));
    t = _mm512_permutexvar_ps(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0), t);
    _mm_storeu_ps(res, _mm512_castps512_ps128(t));
}
/* 128-bit blocks: a's two halves added, then b's (sg_hsum4_512's first step). */
SG_TARGET("avx512f") static inline __m512 sg_halves512(__m512 a, __m512 b)
{
    return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
}
/* res[0..n) = the lane sums of a0..a(n-1) (n <= 8), each added in
 * sg_hsum4_512's order: the same bits, with fewer shuffles than two of it and
 * one masked store instead of a copy through memory. */
SG_TARGET("avx512f") static inline void sg_hsum8_512(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4,
                                                     __m512 a5, __m512 a6, __m512 a7, float *res, int n)
{
    __m512 p01 = sg_halves512(a0, a1), p23 = sg_halves512(a2, a3);
    __m512 p45 = sg_halves512(a4, a5), p67 = sg_halves512(a6, a7);
    /* 128-bit block k: the four partial sums of a_k (s0) and a_(4+k) (s1). */
    __m512 s0 = _mm512_add_ps(_mm512_shuffle_f32x4(p01, p23, 0x88), _mm512_shuffle_f32x4(p01, p23, 0xDD));
    __m512 s1 = _mm512_add_ps(_mm512_shuffle_f32x4(p45, p67, 0x88), _mm512_shuffle_f32x4(p45, p67, 0xDD));
    __m512 z = _mm512_add_ps(_mm512_shuffle_ps(s0, s1, 0x44), _mm512_shuffle_ps(s0, s1, 0xEE));
    z = _mm512_add_ps(z, _mm512_permute_ps(z, 0xB1));
    z = _mm512_permutexvar_ps(_mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 10, 6, 2, 12, 8, 4, 0), z);
    _mm512_mask_storeu_ps(res, (__mmask16)((1u << n) - 1u), z);
}
/* res[0..n) = the lane sums of a0..a5 (5 <= n <= 6): pairs of sums merged
 * inside each 128-bit block first (in-lane shuffles), then narrowed
 * 512 -> 256 -> 128 bits (sg_narrow512), where shuffles and adds are cheaper. */
SG_TARGET("avx512f") static inline __m512 sg_pairsum512(__m512 a, __m512 b)
{
    return _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
}
SG_TARGET("avx512f") static inline void sg_hsum6_512(__m512 a0, __m512 a1, __m512 a2, __m512 a3, __m512 a4,
                                                     __m512 a5, float *res, int n)
{
    __m512 p01 = sg_pairsum512(a0, a1), p23 = sg_pairsum512(a2, a3);
    /* Each 128-bit block: partial sums of a0, a1, a2, a3 (then of a4, a5, a4, a5). */
    __m512 q = _mm512_add_ps(_mm512_shuffle_ps(p01, p23, 0x44), _mm512_shuffle_ps(p01, p23, 0xEE));
    __m128 s03 = sg_narrow512(q), s45 = sg_narrow512(sg_pairsum512(a4, a5));
    _mm_storeu_ps(res, s03);
    s45 = _mm_add_ps(s45, _mm_movehl_ps(s45, s45));
    if (n == 6)
        _mm_storel_pi((__m64 *)(res + 4), s45);
    else
        _mm_store_ss(res + 4, s45);
}
#define SG_SUFFIX avx512
/* PRFCHW (PREFETCHW) is part of every AVX-512 CPU; the other sets ask
 * sg_has_prefetchw. */
#define SG_ATTR SG_TARGET("avx512f,prfchw")
#define SG_VEC 1
#define SG_W 16
#define SG_T __m512
#define SG_LOAD _mm512_loadu_ps
#define SG_STORE _mm512_storeu_ps
#define SG_SET1 _mm512_set1_ps
#define SG_ZERO _mm512_setzero_ps()
#define SG_FMA _mm512_fmadd_ps
#define SG_ADD _mm512_add_ps
#define SG_HSUM sg_hsum512
#define SG_HSUM4 sg_hsum4_512
#define SG_HSUM8 sg_hsum8_512
#define SG_HSUM6 sg_hsum6_512
#if defined(__GNUC__) || defined(__clang__)
/* PREFETCHW (the target has PRFCHW): no flag to ask. */
#define SG_PREFETCH_W(p) __builtin_prefetch((p), 1, 2)
#define SG_PREFETCH_W1(p) __builtin_prefetch((p), 1, 3)
#endif
#define SG_LOADN(p, n) _mm512_maskz_loadu_ps((__mmask16)((1u << (n)) - 1u), (p))
#define SG_STOREN(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#define SG_SUB _mm512_sub_ps
#define SG_MUL _mm512_mul_ps
#define SG_DIV _mm512_div_ps
#define SG_MIN _mm512_min_ps
#define SG_MAX _mm512_max_ps
#define SG_POW2I sg_pow2i512
#include "kernels_impl.h"

/* CPUID leaf/subleaf into r = {eax, ebx, ecx, edx}; 0 if the leaf is absent. */
static int sg_cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
#ifdef SG_MSVC
    int v[4];
    __cpuid(v, 0);
    if ((unsigned)v[0] < leaf) return 0;
    __cpuidex(v, (int)leaf, (int)sub);
    r[0] = (unsigned)v[0], r[1] = (unsigned)v[1], r[2] = (unsigned)v[2], r[3] = (unsigned)v[3];
    return 1;
#else
    return __get_cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
#endif
}

/* The register state the OS saves (XCR0); only called once OSXSAVE is set. */
static unsigned long long sg_xcr0(void)
{
#ifdef SG_MSVC
    return _xgetbv(0);
#else
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
#endif
}

/* 2 if the CPU and the OS run AVX-512F, 1 if AVX2 + FMA, else 0. */
static int sg_x86_level(void)
{
    unsigned r[4];
    unsigned long long xcr0;
    int fma, avx2, avx512f;
    if (!sg_cpuid(1, 0, r)) return 0;
    fma = (r[2] >> 12) & 1;
    if (!((r[2] >> 27) & 1) || !((r[2] >> 28) & 1)) return 0; /* OSXSAVE, AVX */
    xcr0 = sg_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0;                          /* XMM and YMM state */
    if (!sg_cpuid(7, 0, r)) return 0;
    avx2 = (r[1] >> 5) & 1;
    avx512f = (r[1] >> 16) & 1;
    if (avx512f && fma && avx2 && (xcr0 & 0xe6) == 0xe6) return 2; /* + opmask, ZMM state */
    return fma && avx2;
}
#endif

/* ---- aarch64: NEON ------------------------------------------------------------ */
#ifdef SG_ARM64
#define SG_HAVE_NEON_SET 1
#ifdef SG_MSVC
#include <arm64_neon.h>
#else
#include <arm_neon.h>
#endif
#define SG_SUFFIX neon
#define SG_ATTR
#define SG_VEC 1
#define SG_W 4
#define SG_T float32x4_t
#define SG_LOAD vld1q_f32
#define SG_STORE vst1q_f32
#define SG_SET1 vdupq_n_f32
#define SG_ZERO vdupq_n_f32(0.0f)
#define SG_FMA(a, b, c) vfmaq_f32((c), (a), (b))
#define SG_ADD vaddq_f32
#define SG_HSUM vaddvq_f32
#define SG_HSUM4(a, b, c, e, res) vst1q_f32((res), vpaddq_f32(vpaddq_f32((a), (b)), vpaddq_f32((c), (e))))
#define SG_SUB vsubq_f32
#define SG_MUL vmulq_f32
#define SG_DIV vdivq_f32
#define SG_MIN vminq_f32
#define SG_MAX vmaxq_f32
#define SG_POW2I(n) vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23))
#include "kernels_impl.h"
#endif

/* Every kernel set any build knows, slowest first; ops NULL where this
 * build has not compiled it. "auto" takes the last one this CPU runs. */
static const struct {
    const char *name;
    const sg_ops *ops;
} SG_SETS[] = {
    {"generic", &ops_generic},
#ifdef SG_HAVE_X86_SETS
    {"avx2", &ops_avx2},
    {"avx512", &ops_avx512},
#else
    {"avx2", NULL},
    {"avx512", NULL},
#endif
#ifdef SG_HAVE_NEON_SET
    {"neon", &ops_neon},
#else
    {"neon", NULL},
#endif
};
#define SG_N_SETS ((int)(sizeof SG_SETS / sizeof SG_SETS[0]))

const sg_ops *sg_active = &ops_generic;
int sg_has_prefetchw = 0;

const char *sg_kernel_name(int i) { return i >= 0 && i < SG_N_SETS ? SG_SETS[i].name : NULL; }

static int set_index(const char *name)
{
    int i;
    for (i = 0; i < SG_N_SETS; i++)
        if (strcmp(name, SG_SETS[i].name) == 0) return i;
    return -1;
}

static int set_supported(int i)
{
    if (SG_SETS[i].ops == NULL) return 0;
#ifdef SG_HAVE_X86_SETS
    if (strcmp(SG_SETS[i].name, "avx2") == 0) return sg_x86_level() >= 1;
    if (strcmp(SG_SETS[i].name, "avx512") == 0) return sg_x86_level() >= 2;
#endif
    return 1; /* generic everywhere; NEON is part of every aarch64 CPU */
}

int sg_supported(const char *name)
{
    int i = set_index(name);
    return i >= 0 && set_supported(i);
}

int sg_select(const char *name)
{
    int i;
#ifdef SG_HAVE_X86_SETS
    unsigned r[4];
    sg_has_prefetchw = sg_cpuid(0x80000001u, 0, r) && ((r[2] >> 8) & 1);
#endif
    if (strcmp(name, "auto") == 0) {
        for (i = SG_N_SETS - 1; !set_supported(i); i--) continue; /* generic always is */
    } else {
        i = set_index(name);
        if (i < 0) return -1;
        if (!set_supported(i)) return -2;
    }
    sg_active = SG_SETS[i].ops;
    return 0;
}

const char *sg_active_name(void) { return sg_active->name; }
int sg_active_width(void) { return sg_active->width; }

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

/* 1 if two of the n row pointers are equal. Pairwise for a few rows; a
 * hierarchical-softmax path (~20 rows, every call) goes through a small
 * open-addressing set instead of ~n^2/2 comparisons. */
static int has_repeats(float *const *rows, int n)
{
    const float *seen[2 * SG_MAX_OUT];
    int i, j, size = 32;
    if (n <= 10) {
        for (i = 1; i < n; i++)
            for (j = 0; j < i; j++)
                if (rows[i] == rows[j]) return 1;
        return 0;
    }
    while (size < 2 * n) size *= 2; /* at most half full; n <= SG_MAX_OUT */
    memset(seen, 0, sizeof(seen[0]) * (size_t)size);
    for (i = 0; i < n; i++) {
        unsigned h = (unsigned)((((uint64_t)(uintptr_t)rows[i] >> 4) * 0x9E3779B97F4A7C15ULL) >> 32) &
                     (unsigned)(size - 1);
        while (seen[h] != NULL) {
            if (seen[h] == rows[i]) return 1;
            h = (h + 1) & (unsigned)(size - 1);
        }
        seen[h] = rows[i];
    }
    return 0;
}

double sg_pair_update(float *v, float *const *out, const float *label, int n_out, float alpha,
                      int d, float *work, int want_loss)
{
    return sg_pair_update_ahead(v, out, label, n_out, 0, alpha, d, work, want_loss, NULL, 0);
}

double sg_pair_update_ahead(float *v, float *const *out, const float *label, int n_out, int n_distinct,
                            float alpha, int d, float *work, int want_loss, float *const *ahead,
                            int n_ahead)
{
    const sg_ops *ops = sg_active;
    float f[SG_PAIR_F], g[SG_MAX_OUT];
    int j;
    if (n_distinct > n_out) n_distinct = n_out;
    if (!has_repeats(out + n_distinct, n_out - n_distinct)) {
        /* Distinct rows: word2vec.c's sequential loop reads every output row
         * before it writes it and v only at the end, so all dot products can
         * be taken first and all updates applied in one pass. */
        ops->pair_step(v, out, label, n_out, alpha, d, f, ahead, n_ahead);
        return want_loss ? logistic_loss(f, label, NULL, n_out) : 0.0;
    }
    /* A noise word drawn twice: its second use sees the first update. */
    for (j = 0; j < n_ahead; j++) sg_prefetch_row(ahead[j], d);
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
    return sg_batch_update_ahead(in, n_in, out, label, weight, n_out, alpha, d, scratch, want_loss, NULL, 0);
}

#ifdef SG_SKELETON
/* Bench builds only (bench/skeleton.py; never a wheel): SGNS_SKELETON=1 makes
 * the update below only prefetch the rows ahead, =2 return at once, so that
 * training times what surrounds the arithmetic. Read once. */
static int skeleton_mode(void)
{
    static int mode = -1;
    if (mode < 0) {
        const char *v = getenv("SGNS_SKELETON");
        mode = v ? atoi(v) : 0;
    }
    return mode;
}
#endif

double sg_batch_update_ahead(float *const *in, int n_in, float *const *out, const float *label,
                             const float *weight, int n_out, float alpha, int d,
                             float *scratch, int want_loss, float *const *ahead, int n_ahead)
{
    const sg_ops *ops = sg_active;
    double loss = 0.0;
    int i;
    float *delta = scratch + (long)n_in * n_out;
    float lab[SG_MAX_OUT], scale[SG_MAX_OUT];
    int j;
#ifdef SG_SKELETON
    if (skeleton_mode() != 0) {
        if (skeleton_mode() == 1)
            for (i = 0; i < n_ahead; i++) sg_prefetch_row(ahead[i], d);
        return 0.0;
    }
#endif
    for (j = 0; j < n_out; j++) {
        lab[j] = label ? label[j] : (j == 0 ? 1.0f : 0.0f);
        scale[j] = alpha * (weight ? weight[j] : 1.0f);
    }
    if (want_loss) {
        /* The loss needs the dot products themselves. */
        ops->block_dots(in, n_in, out, n_out, d, scratch);
        for (i = 0; i < n_in; i++) loss += logistic_loss(scratch + (long)i * n_out, label, weight, n_out);
        ops->sigmoids(scratch, scratch, n_in * n_out);
        sg_coefs_from_sigmoids(scratch, n_in, n_out, lab, scale);
    } else {
        ops->block_coefs(in, n_in, out, n_out, d, lab, scale, scratch);
    }
    ops->block_update(in, n_in, out, n_out, scratch, d, delta, ahead, n_ahead);
    return loss;
}

double sg_counts_update_ahead(float *const *in, int n_in, float *const *out, int n_out,
                             const float *pos, const float *neg, float alpha, int d, float *scratch,
                             int want_loss, float *const *ahead, int n_ahead)
{
    const sg_ops *ops = sg_active;
    double loss = 0.0;
    int k, n = n_in * n_out;
    float *G = scratch, *delta = scratch + n;
    ops->block_dots(in, n_in, out, n_out, d, G);
    if (want_loss)
        for (k = 0; k < n; k++) {
            if (pos[k] != 0.0f) loss -= pos[k] * sg_log_sigmoid(G[k]);
            if (neg[k] != 0.0f) loss -= neg[k] * sg_log_sigmoid(-(double)G[k]);
        }
    ops->sigmoids(G, G, n);
    /* d/df of P log σ(f) + N log σ(-f) is P (1 - σ) - N σ. */
    for (k = 0; k < n; k++) G[k] = alpha * (pos[k] - (pos[k] + neg[k]) * G[k]);
    ops->block_update(in, n_in, out, n_out, G, d, delta, ahead, n_ahead);
    return loss;
}

double sg_cbow_update(float *const *in, int n_in, int mean, float *const *out,
                      const float *label, const float *weight, int n_out, float alpha,
                      int d, float *work, int want_loss)
{
    return sg_cbow_update_ahead(in, n_in, mean, out, label, weight, n_out, alpha, d, work, want_loss, NULL, 0);
}

double sg_cbow_update_ahead(float *const *in, int n_in, int mean, float *const *out,
                            const float *label, const float *weight, int n_out, float alpha,
                            int d, float *work, int want_loss, float *const *ahead, int n_ahead)
{
    const sg_ops *ops = sg_active;
    float *h = work, *t = work + d;
    float f[SG_MAX_OUT], g[SG_MAX_OUT];
    if (n_in == 0) return 0.0;
    /* h = sum (or mean) of the context vectors. */
    ops->sum_rows(in, n_in, d, h, mean == SG_CBOW_MEAN);
    ops->dots(h, out, n_out, d, f);
    coefficients(ops, f, label, weight, n_out, alpha, g);
    /* t = the error Σ g_j out_j (old rows); out_j += g_j h. word2vec.c adds
     * the whole error to every context word; gensim 4 a share of a sum's. */
    ops->cbow_apply(h, out, n_out, g, d, t, mean == SG_CBOW_SUM_SPLIT ? n_in : 1);
    ops->add_rows(t, in, n_in, d, ahead, n_ahead);
    return want_loss ? logistic_loss(f, label, weight, n_out) : 0.0;
}
