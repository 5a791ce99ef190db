/* Max and average pooling over (H, W) planes, NCHW. The bodies live once in pool.inc,
 * compiled for float and for double. */
#include <string.h>
#include "gdl.h"

/* Input entries per thread below which pooling runs on one thread (Note [parallel loops]). */
#define GRAIN ((size_t)1 << 17)

/* The real rows [*lo, *hi) of window o along one axis: the padded positions
 * [o stride, o stride + k) less the pad entries on either side of the n real ones. */
static void clip(size_t o, size_t stride, size_t k, size_t pad, size_t n, size_t *lo,
                 size_t *hi) {
    size_t start = o * stride;
    size_t end = start + k;
    *lo = start > pad ? start - pad : 0;
    *hi = end > pad + n ? n : end - pad;        /* end > pad: the window holds a real entry */
}

/* Note [vector 2x2 pool]: the book-style CNN's pooling is a 2 x 2 window of stride 2 without
 * padding. On float32 with AVX-512 its forward takes 16 windows at a time: an output row's
 * two input rows are four vectors, split into even and odd columns by two-source permutes,
 * and the four entries of each window are scanned in the scalar order (row by row, the first
 * maximum wins, a NaN wins and stays) by compare masks, with the indices in a second register.
 * Its backward writes each gx entry once, gy where the entry was its window's argmax and 0
 * elsewhere, the even and odd columns interleaved back, instead of zeroing gx and adding into
 * it (two passes, the second scattered); a plane whose argmax is not inside its own windows
 * (only a caller of the kernel can pass one) goes the scalar way, zeroed and added into, and
 * planes with an odd H or W have the row or column no window covers zeroed first; rows of
 * fewer than 8 windows stay scalar backward (W6b's (64, 64, 11, 11): 0.10-0.13 ms scalar,
 * 0.12-0.20 vector). Bench W6b's (64, 32, 26, 26) on 2 threads, medians of 100 calls in
 * alternating processes: forward 0.38-0.55 -> 0.13-0.17 ms (a copy of x took 0.13-0.16),
 * backward 0.22-0.34 -> 0.16-0.25; (64, 64, 11, 11) forward 0.19-0.28 -> 0.11-0.15. With AVX2
 * only (a Zen 3 guest), the forward takes 8 windows a step the same way (in-lane shuffles and a
 * 64-bit permute split the columns): (64, 32, 26, 26) 0.55-0.68 -> 0.35-0.47 ms, (64, 64, 11,
 * 11) 0.26-0.35 -> 0.21-0.29, same measure; its backward stays scalar (the vector one, AVX2's
 * slow masked stores avoided, took 0.37-0.49 ms against 0.35-0.43). Without either, or for
 * double, pool.inc's scalar loops run. */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define POOL_X86 1
#define POOL_AVX512 __attribute__((target("avx512f")))

#define POOL_AVX2 __attribute__((target("avx2")))

/* 2 with AVX-512F, 1 with AVX2, else 0. */
static int pool_level(void) {
    static int level = -1;                     /* a benign race: every thread writes the same */
    if (level < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
    }
    return level;
}

/* The permutes' index vectors: even and odd lanes of a pair of vectors, and the interleave of
 * two vectors' lanes (low and high halves). */
#define POOL_EVEN _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
#define POOL_ODD _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31)
#define POOL_LO _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define POOL_HI _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)

/* The masks of the first n (0..32) lanes of a pair of vectors. */
static inline void pool_masks(size_t n, __mmask16 *lo, __mmask16 *hi) {
    *lo = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
    *hi = (__mmask16)(n <= 16 ? 0 : n >= 32 ? 0xFFFF : (1u << (n - 16)) - 1);
}

/* FN(step) on 16 windows: v (with indices i) replaces m (with best) where larger, or NaN over
 * a number. */
POOL_AVX512 static inline void pool_step16(__m512 v, __m512i i, __m512 *m, __m512i *best) {
    __mmask16 take = _mm512_cmp_ps_mask(v, *m, _CMP_GT_OQ) |
                     (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q) &
                      _mm512_cmp_ps_mask(*m, *m, _CMP_ORD_Q));
    *m = _mm512_mask_mov_ps(*m, take, v);
    *best = _mm512_mask_mov_epi32(*best, take, i);
}

/* One output row of the 2 x 2 stride-2 forward: the OW windows over the input rows r0 and
 * r0 + W into yr and ar, r0 at index r0_at of its plane (pool_2x2_planes). */
typedef void (*pool_row_fn)(const float *r0, size_t W, size_t OW, size_t r0_at, float *yr,
                            int32_t *ar);

/* The 2 x 2 stride-2 forward of pool.inc's maxpool_2x2 for float planes, a row at a time. */
static void pool_2x2_planes(pool_row_fn row, const float *x, float *y, int32_t *argmax,
                            size_t planes, size_t H, size_t W, size_t OH, size_t OW) {
    for (size_t p = 0; p < planes; p++) {
        for (size_t oh = 0; oh < OH; oh++) {
            row(x + p * H * W + 2 * oh * W, W, OW, 2 * oh * W, y + (p * OH + oh) * OW,
                argmax + (p * OH + oh) * OW);
        }
    }
}

/* A row of the forward with AVX-512, 16 windows a step. */
POOL_AVX512 static void pool_row_avx512(const float *r0, size_t W, size_t OW, size_t r0_at,
                                        float *yr, int32_t *ar) {
    const __m512i even = POOL_EVEN, odd = POOL_ODD;
    const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                               10, 11, 12, 13, 14, 15), 1);
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W);
    const float *r1 = r0 + W;
    for (size_t ow = 0; ow < OW; ow += 16) {
        size_t n = OW - ow < 16 ? OW - ow : 16;
        __mmask16 lo, hi;
        pool_masks(2 * n, &lo, &hi);
        __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow);
        __m512 a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16);
        __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow);
        __m512 b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16);
        __m512i i = _mm512_add_epi32(_mm512_set1_epi32((int32_t)(r0_at + 2 * ow)), lane2);
        __m512 m = _mm512_permutex2var_ps(a0, even, a1);
        __m512i best = i;
        pool_step16(_mm512_permutex2var_ps(a0, odd, a1), _mm512_add_epi32(i, one), &m,
                    &best);
        i = _mm512_add_epi32(i, down);
        pool_step16(_mm512_permutex2var_ps(b0, even, b1), i, &m, &best);
        pool_step16(_mm512_permutex2var_ps(b0, odd, b1), _mm512_add_epi32(i, one), &m,
                    &best);
        __mmask16 out = (__mmask16)((1u << n) - 1);
        _mm512_mask_storeu_ps(yr + ow, out, m);
        _mm512_mask_storeu_epi32(ar + ow, out, best);
    }
}

/* The 2 x 2 stride-2 backward for one float plane by Note [vector 2x2 pool]; 0 (gx's plane
 * partly written) when an argmax lies outside its window. */
POOL_AVX512 static int maxpool_2x2_bwd_plane(const float *gy, const int32_t *argmax, float *gx,
                                             size_t H, size_t W, size_t OH, size_t OW) {
    const __m512i lo_idx = POOL_LO, hi_idx = POOL_HI;
    const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                               10, 11, 12, 13, 14, 15), 1);
    const __m512i one = _mm512_set1_epi32(1), down = _mm512_set1_epi32((int32_t)W);
    const __m512i down1 = _mm512_set1_epi32((int32_t)W + 1);
    if (2 * OH != H || 2 * OW != W) {          /* the last row or column is in no window */
        memset(gx, 0, H * W * sizeof(float));
    }
    for (size_t oh = 0; oh < OH; oh++) {
        float *r0 = gx + 2 * oh * W, *r1 = r0 + W;
        for (size_t ow = 0; ow < OW; ow += 16) {
            size_t n = OW - ow < 16 ? OW - ow : 16;
            __mmask16 out = (__mmask16)((1u << n) - 1), lo, hi;
            __m512 g = _mm512_maskz_loadu_ps(out, gy + oh * OW + ow);
            __m512i at = _mm512_maskz_loadu_epi32(out, argmax + oh * OW + ow);
            __m512i d = _mm512_sub_epi32(at, _mm512_add_epi32(
                _mm512_set1_epi32((int32_t)(2 * (oh * W + ow))), lane2));
            __mmask16 m0 = _mm512_cmpeq_epi32_mask(d, _mm512_setzero_si512());
            __mmask16 m1 = _mm512_cmpeq_epi32_mask(d, one);
            __mmask16 m2 = _mm512_cmpeq_epi32_mask(d, down);
            __mmask16 m3 = _mm512_cmpeq_epi32_mask(d, down1);
            if ((__mmask16)((m0 | m1 | m2 | m3) & out) != out) {
                return 0;
            }
            pool_masks(2 * n, &lo, &hi);
            __m512 e = _mm512_maskz_mov_ps(m0, g), o = _mm512_maskz_mov_ps(m1, g);
            _mm512_mask_storeu_ps(r0 + 2 * ow, lo, _mm512_permutex2var_ps(e, lo_idx, o));
            _mm512_mask_storeu_ps(r0 + 2 * ow + 16, hi, _mm512_permutex2var_ps(e, hi_idx, o));
            e = _mm512_maskz_mov_ps(m2, g);
            o = _mm512_maskz_mov_ps(m3, g);
            _mm512_mask_storeu_ps(r1 + 2 * ow, lo, _mm512_permutex2var_ps(e, lo_idx, o));
            _mm512_mask_storeu_ps(r1 + 2 * ow + 16, hi, _mm512_permutex2var_ps(e, hi_idx, o));
        }
    }
    return 1;
}

/* ---- the forward with AVX2: 8 windows a step ------------------------------------------ */

/* The lanes [0, n) of a vector of 8, n in 0..8, as a mask. */
POOL_AVX2 static inline __m256i pool_mask8(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5,
                                                                            6, 7));
}

/* pool_step16 on 8 windows. */
POOL_AVX2 static inline void pool_step8(__m256 v, __m256i i, __m256 *m, __m256i *best) {
    __m256 take = _mm256_or_ps(_mm256_cmp_ps(v, *m, _CMP_GT_OQ),
                               _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q),
                                             _mm256_cmp_ps(*m, *m, _CMP_ORD_Q)));
    *m = _mm256_blendv_ps(*m, v, take);
    *best = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*best),
                                                 _mm256_castsi256_ps(i), take));
}

/* The even (odd: 0xDD) lanes of the 16 floats a, b, in order. */
#define POOL_EVEN8(a, b) _mm256_castpd_ps(_mm256_permute4x64_pd(                            \
    _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xD8))
#define POOL_ODD8(a, b) _mm256_castpd_ps(_mm256_permute4x64_pd(                             \
    _mm256_castps_pd(_mm256_shuffle_ps(a, b, 0xDD)), 0xD8))

/* pool_row_avx512 with AVX2, 8 windows a step; the last OW % 8 are stored through buffers. */
POOL_AVX2 static void pool_row_avx2(const float *r0, size_t W, size_t OW, size_t r0_at,
                                    float *yr, int32_t *ar) {
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i one = _mm256_set1_epi32(1), down = _mm256_set1_epi32((int32_t)W);
    const float *r1 = r0 + W;
    for (size_t ow = 0; ow < OW; ow += 8) {
        size_t n = OW - ow < 8 ? OW - ow : 8;
        __m256 a0, a1, b0, b1;
        if (n == 8) {
            a0 = _mm256_loadu_ps(r0 + 2 * ow);
            a1 = _mm256_loadu_ps(r0 + 2 * ow + 8);
            b0 = _mm256_loadu_ps(r1 + 2 * ow);
            b1 = _mm256_loadu_ps(r1 + 2 * ow + 8);
        } else {                       /* nothing past the last window read */
            __m256i lo = pool_mask8(2 * n), hi = pool_mask8(2 * n > 8 ? 2 * n - 8 : 0);
            a0 = _mm256_maskload_ps(r0 + 2 * ow, lo);
            a1 = _mm256_maskload_ps(r0 + 2 * ow + 8, hi);
            b0 = _mm256_maskload_ps(r1 + 2 * ow, lo);
            b1 = _mm256_maskload_ps(r1 + 2 * ow + 8, hi);
        }
        __m256i i = _mm256_add_epi32(_mm256_set1_epi32((int32_t)(r0_at + 2 * ow)), lane2);
        __m256 m = POOL_EVEN8(a0, a1);
        __m256i best = i;
        pool_step8(POOL_ODD8(a0, a1), _mm256_add_epi32(i, one), &m, &best);
        i = _mm256_add_epi32(i, down);
        pool_step8(POOL_EVEN8(b0, b1), i, &m, &best);
        pool_step8(POOL_ODD8(b0, b1), _mm256_add_epi32(i, one), &m, &best);
        if (n == 8) {
            _mm256_storeu_ps(yr + ow, m);
            _mm256_storeu_si256((__m256i *)(ar + ow), best);
        } else {                       /* AVX2's masked stores are slow */
            float ys[8];
            int32_t as[8];
            _mm256_storeu_ps(ys, m);
            _mm256_storeu_si256((__m256i *)as, best);
            for (size_t t = 0; t < n; t++) {
                yr[ow + t] = ys[t];
                ar[ow + t] = as[t];
            }
        }
    }
}

#endif

/* 1 after the float 2 x 2 forward of these planes by Note [vector 2x2 pool], else 0. */
static int maxpool_2x2_fast_f32(const float *x, float *y, int32_t *argmax, size_t planes,
                                size_t H, size_t W, size_t OH, size_t OW) {
#ifdef POOL_X86
    if (pool_level() == 2) {
        pool_2x2_planes(pool_row_avx512, x, y, argmax, planes, H, W, OH, OW);
        return 1;
    }
    if (pool_level() == 1) {
        pool_2x2_planes(pool_row_avx2, x, y, argmax, planes, H, W, OH, OW);
        return 1;
    }
#endif
    (void)x, (void)y, (void)argmax, (void)planes, (void)H, (void)W, (void)OH, (void)OW;
    return 0;
}

/* 1 after the float 2 x 2 backward of one plane by Note [vector 2x2 pool], else 0 (gx's plane
 * then needs the scalar way). */
static int maxpool_2x2_bwd_fast_f32(const float *gy, const int32_t *argmax, float *gx, size_t H,
                                    size_t W, size_t OH, size_t OW) {
#ifdef POOL_X86
    if (pool_level() == 2) {
        return maxpool_2x2_bwd_plane(gy, argmax, gx, H, W, OH, OW);
    }
#endif
    (void)gy, (void)argmax, (void)gx, (void)H, (void)W, (void)OH, (void)OW;
    return 0;
}

/* The double versions: the scalar loops. */
static int maxpool_2x2_fast_f64(const double *x, double *y, int32_t *argmax, size_t planes,
                                size_t H, size_t W, size_t OH, size_t OW) {
    (void)x, (void)y, (void)argmax, (void)planes, (void)H, (void)W, (void)OH, (void)OW;
    return 0;
}

static int maxpool_2x2_bwd_fast_f64(const double *gy, const int32_t *argmax, double *gx,
                                    size_t H, size_t W, size_t OH, size_t OW) {
    (void)gy, (void)argmax, (void)gx, (void)H, (void)W, (void)OH, (void)OW;
    return 0;
}

#define T float
#define UINT uint32_t
#define FN(name) name##_f32
#include "pool.inc"
#undef T
#undef UINT
#undef FN

#define T double
#define UINT uint64_t
#define FN(name) name##_f64
#include "pool.inc"
#undef T
#undef UINT
#undef FN
