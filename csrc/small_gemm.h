/* A single-precision GEMM for a few rows against a weight that stays fixed over many calls:
 * the per-step recurrent product of an RNN or LSTM (Note [small-batch GEMM]). Header-only,
 * static, included by rnn.c, lstm.c, conv.c and matmul.c (Note [packed GEMM]). */
#ifndef GDL_SMALL_GEMM_H
#define GDL_SMALL_GEMM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gdl.h"

/* Note [small-batch GEMM]: each step of a recurrent layer multiplies a few rows (the batch,
 * B = 16 in the book's chapter 14) by the same (H, 4H) weight. A BLAS GEMM packs that weight
 * on every call, and for B = 16 the packing costs more than the arithmetic: OpenBLAS takes
 * 2.8 ms for (16, 512) x (512, 2048) on this project's machine, 8 GFLOP/s. Here the weight is
 * packed once per sequence into strips of 32 columns (each strip K x 32, contiguous, the last
 * one zero-padded), and an AVX-512 kernel keeps an 8 x 32 block of the output in 16 registers
 * while it streams a strip: 0.8 ms for the same product, one thread. The kernel is chosen at
 * run time (GCC/Clang on x86-64 with AVX-512F or AVX2 and FMA, Note [kernel levels], and
 * B <= SG_MAX_ROWS); elsewhere, for double, or with the environment variable GDL_SMALL_GEMM=0,
 * the callers use the BLAS. */

#define SG_STRIP 32
#define SG_MAX_ROWS 128
#define SG_MAX_THREADS 8
#define SG_THREAD_WORK (1u << 20)               /* multiply-adds below which one thread is best */

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SG_X86 1
#endif

/* Note [kernel levels]: the packed kernels come in two builds of one design, chosen at run time
 * by the CPU: SG_AVX512 (AVX-512F, 16 lanes, 8 x 32 blocks of the output in registers) and
 * SG_AVX2 (AVX2 and FMA, 8 lanes, 6 x 16 blocks: the strips stay 32 wide, and each half is a
 * pass). The environment variable GDL_SMALL_GEMM=0 turns both off (the callers use the BLAS);
 * GDL_SMALL_GEMM=avx2 runs the AVX2 build on a CPU that has AVX-512, so that one machine can
 * test both. The packed convolution (conv_packed.h) and the recurrent steps run at both levels;
 * the packed and narrow matrix products of Note [packed GEMM] and Note [narrow GEMM] (matmul.c)
 * only at SG_AVX512 (at SG_AVX2 the BLAS halves were faster, Note [packed GEMM]). */
#define SG_AVX2 1
#define SG_AVX512 2

/* The level of packed kernels this process runs (Note [kernel levels]), 0 for none. */
static inline int sg_level(void) {
#ifdef SG_X86
    static int level = -1;                     /* a benign race: every thread writes the same */
    if (level < 0) {
        const char *env = getenv("GDL_SMALL_GEMM");
        __builtin_cpu_init();
        int fma = __builtin_cpu_supports("fma");
        int found = fma && __builtin_cpu_supports("avx512f") ? SG_AVX512
                    : fma && __builtin_cpu_supports("avx2") ? SG_AVX2
                                                            : 0;
        if (env != NULL && strcmp(env, "0") == 0) {
            found = 0;
        } else if (env != NULL && strcmp(env, "avx2") == 0 && found > SG_AVX2) {
            found = SG_AVX2;
        }
        level = found;
    }
    return level;
#else
    return 0;
#endif
}

/* 1 when the packed kernel may run for B rows. */
static inline int sg_use(size_t B) {
    return sg_level() > 0 && B >= 1 && B <= SG_MAX_ROWS;
}

/* Entries of the packed form of a K x N weight. */
static inline size_t sg_packed_size(size_t K, size_t N) {
    return (N + SG_STRIP - 1) / SG_STRIP * SG_STRIP * K;
}

#ifdef SG_X86
/* Transposes the 16 x 16 block r[i][j] in place (r[i][j] becomes the old r[j][i]). */
__attribute__((target("avx512f")))
static inline void sg_transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {          /* pairs of rows interleaved */
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {          /* then pairs of pairs, as doubles */
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 4; i++) {              /* then the 4 x 4 blocks of 128-bit lanes */
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xdd);
    }
}

/* dst[k 32 + j] = W[(n0 + j) ld + k] for j < width, 0 for width <= j < 32, k < K:
 * sg_pack_strip's transposed case in 16 x 16 blocks transposed in registers: 0.14 ns a float
 * here, where the scalar loop's strided stores took 0.3 (a (512, 784) weight: 57 us instead of
 * 167, on one thread). */
__attribute__((target("avx512f")))
static void sg_pack_strip_t(const float *W, size_t K, size_t ld, size_t n0, size_t width,
                            float *dst) {
    for (size_t jb = 0; jb < width; jb += 16) {
        size_t rows = width - jb < 16 ? width - jb : 16;
        for (size_t k0 = 0; k0 < K; k0 += 16) {
            size_t kc = K - k0 < 16 ? K - k0 : 16;
            __mmask16 km = kc == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << kc) - 1);
            __m512 r[16];
            for (size_t i = 0; i < 16; i++) {
                r[i] = i < rows ? _mm512_maskz_loadu_ps(km, W + (n0 + jb + i) * ld + k0)
                                : _mm512_setzero_ps();
            }
            sg_transpose16(r);
            for (size_t i = 0; i < kc; i++) {
                _mm512_storeu_ps(dst + (k0 + i) * SG_STRIP + jb, r[i]);
            }
        }
    }
    for (size_t k = 0; k < K && width <= 16; k++) {
        _mm512_storeu_ps(dst + k * SG_STRIP + 16, _mm512_setzero_ps());   /* the padding */
    }
}
/* dst[k 32 + j] = W[k N + n0 + j] for j < width, 0 for width <= j < 32, k < K: sg_pack_strip's
 * plain case as two masked 16-float copies a row. Its memcpy of 128 bytes a row took 0.45 ns a
 * float inside the packed product (a call per row; (128, 512) x (512, 512): 120 of its 490 us
 * on one thread); the next rows are prefetched, since rows N floats apart defeat the
 * hardware's prefetchers past a 4 KB page. */
__attribute__((target("avx512f")))
static void sg_pack_strip_n(const float *W, size_t K, size_t N, size_t n0, size_t width,
                            float *dst) {
    __mmask16 m0 = width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
    __mmask16 m1 = width >= 32 ? (__mmask16)0xFFFF
                   : width > 16 ? (__mmask16)((1u << (width - 16)) - 1) : (__mmask16)0;
    const float *row = W + n0;
    for (size_t k = 0; k < K; k++, row += N) {
        if (k + 8 < K) {
            _mm_prefetch((const char *)(row + 8 * N), _MM_HINT_T0);
            _mm_prefetch((const char *)(row + 8 * N + 16), _MM_HINT_T0);
        }
        _mm512_storeu_ps(dst + k * SG_STRIP, _mm512_maskz_loadu_ps(m0, row));
        _mm512_storeu_ps(dst + k * SG_STRIP + 16, _mm512_maskz_loadu_ps(m1, row + 16));
    }
}

/* Transposes the 8 x 8 block r[i][j] in place (r[i][j] becomes the old r[j][i]). */
__attribute__((target("avx2")))
static inline void sg_transpose8(__m256 r[8]) {
    __m256 t[8];
    for (int i = 0; i < 8; i += 2) {           /* pairs of rows interleaved */
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {           /* then pairs of pairs */
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {              /* then the 128-bit halves */
        t[i] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x20);
        t[i + 4] = _mm256_permute2f128_ps(r[i], r[i + 4], 0x31);
    }
    for (int i = 0; i < 8; i++) {
        r[i] = t[i];
    }
}

/* sg_pack_strip_t in 8 x 8 blocks, for SG_AVX2. */
__attribute__((target("avx2")))
static void sg_pack_strip_t_avx2(const float *W, size_t K, size_t n0, size_t width,
                                 float *dst) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (size_t jb = 0; jb < width; jb += 8) {
        size_t rows = width - jb < 8 ? width - jb : 8;
        for (size_t k0 = 0; k0 < K; k0 += 8) {
            size_t kc = K - k0 < 8 ? K - k0 : 8;
            __m256i km = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)kc), lanes);
            __m256 r[8];
            for (size_t i = 0; i < 8; i++) {
                const float *src = W + (n0 + jb + i) * K + k0;
                r[i] = i >= rows ? _mm256_setzero_ps()
                       : kc == 8 ? _mm256_loadu_ps(src)
                                 : _mm256_maskload_ps(src, km);
            }
            sg_transpose8(r);
            for (size_t i = 0; i < kc; i++) {
                _mm256_storeu_ps(dst + (k0 + i) * SG_STRIP + jb, r[i]);
            }
        }
    }
}
#endif

/* Strip s of the K x N matrix M into dst (K x 32, columns past N zero), where M = W if W is
 * (K, N) row-major, or M = W^T if W is (N, K) row-major (transposed != 0):
 * dst[k 32 + j] = M[k, 32 s + j]. */
static inline void sg_pack_strip(const float *W, size_t K, size_t N, int transposed, size_t s,
                                 float *dst) {
    size_t n0 = s * SG_STRIP, width = N - n0 < SG_STRIP ? N - n0 : SG_STRIP;
#ifdef SG_X86
    if (sg_level() == SG_AVX512) {              /* both write the padding too */
        if (transposed) {
            sg_pack_strip_t(W, K, K, n0, width, dst);
        } else {
            sg_pack_strip_n(W, K, N, n0, width, dst);
        }
        return;
    }
#endif
    if (width < SG_STRIP) {
        memset(dst, 0, SG_STRIP * K * sizeof(float));     /* the padding columns */
    }
#ifdef SG_X86
    if (transposed && sg_level() == SG_AVX2) {
        sg_pack_strip_t_avx2(W, K, n0, width, dst);
        return;
    }
#endif
    for (size_t k0 = 0; k0 < K && transposed; k0 += 64) {  /* 64 rows of the strip: L1 */
        size_t k1 = K - k0 < 64 ? K : k0 + 64;
        for (size_t j = 0; j < width; j++) {
            const float *column = W + (n0 + j) * K;       /* M's column n0 + j */
            for (size_t k = k0; k < k1; k++) {
                dst[k * SG_STRIP + j] = column[k];
            }
        }
    }
    for (size_t k = 0; k < K && !transposed; k++) {
        memcpy(dst + k * SG_STRIP, W + k * N + n0, width * sizeof(float));
    }
}

/* Strips [s0, s1) of P = the strips of M (sg_pack_strip): strip s at P + s K 32. */
static inline void sg_pack_range(const float *W, size_t K, size_t N, int transposed,
                                 float *P, size_t s0, size_t s1) {
    for (size_t s = s0; s < s1 && s * SG_STRIP < N; s++) {
        sg_pack_strip(W, K, N, transposed, s, P + s * SG_STRIP * K);
    }
}

/* All the strips of M (sg_pack_range). */
static inline void sg_pack(const float *W, size_t K, size_t N, int transposed, float *P) {
    sg_pack_range(W, K, N, transposed, P, 0, (N + SG_STRIP - 1) / SG_STRIP);
}

#ifdef SG_X86
#define SG_ROW_DECL(r) __m512 c##r##a = _mm512_setzero_ps(), c##r##b = _mm512_setzero_ps();
#define SG_ROW_LOAD(r)                                                                      \
    if (accumulate) {                                                                       \
        c##r##a = _mm512_maskz_loadu_ps(m0, y + r * ldy);                                   \
        c##r##b = _mm512_maskz_loadu_ps(m1, y + r * ldy + 16);                              \
    }
#define SG_ROW_FMA(r)                                                                       \
    {                                                                                       \
        __m512 a = _mm512_set1_ps(x[r * ldx + k * xk]);                                     \
        c##r##a = _mm512_fmadd_ps(a, w0, c##r##a);                                          \
        c##r##b = _mm512_fmadd_ps(a, w1, c##r##b);                                          \
    }
#define SG_ROW_STORE(r)                                                                     \
    _mm512_mask_storeu_ps(y + r * ldy, m0, c##r##a);                                        \
    _mm512_mask_storeu_ps(y + r * ldy + 16, m1, c##r##b);

/* Masks for the first `width` of 32 columns, as two halves of 16. */
__attribute__((target("avx512f")))
static inline void sg_masks(size_t width, __mmask16 *m0, __mmask16 *m1) {
    *m0 = width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
    *m1 = width >= 32 ? (__mmask16)0xFFFF
                      : width > 16 ? (__mmask16)((1u << (width - 16)) - 1) : (__mmask16)0;
}

/* y[0:8, 0:width] (=|+=) x[0:8, :] @ strip, x[r, k] at x[r ldx + k xk], y's rows ldy apart
 * (xk = 1: x row-major; ldx = 1: x is the transpose of a row-major array, rows xk long). */
__attribute__((target("avx512f")))
static inline void sg_rows8(size_t K, const float *x, size_t ldx, size_t xk, const float *strip,
                            float *y, size_t ldy, size_t width, int accumulate) {
    __mmask16 m0, m1;
    sg_masks(width, &m0, &m1);
    SG_ROW_DECL(0) SG_ROW_DECL(1) SG_ROW_DECL(2) SG_ROW_DECL(3)
    SG_ROW_DECL(4) SG_ROW_DECL(5) SG_ROW_DECL(6) SG_ROW_DECL(7)
    SG_ROW_LOAD(0) SG_ROW_LOAD(1) SG_ROW_LOAD(2) SG_ROW_LOAD(3)
    SG_ROW_LOAD(4) SG_ROW_LOAD(5) SG_ROW_LOAD(6) SG_ROW_LOAD(7)
    for (size_t k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(strip + k * SG_STRIP);
        __m512 w1 = _mm512_loadu_ps(strip + k * SG_STRIP + 16);
        SG_ROW_FMA(0) SG_ROW_FMA(1) SG_ROW_FMA(2) SG_ROW_FMA(3)
        SG_ROW_FMA(4) SG_ROW_FMA(5) SG_ROW_FMA(6) SG_ROW_FMA(7)
    }
    SG_ROW_STORE(0) SG_ROW_STORE(1) SG_ROW_STORE(2) SG_ROW_STORE(3)
    SG_ROW_STORE(4) SG_ROW_STORE(5) SG_ROW_STORE(6) SG_ROW_STORE(7)
}

/* sg_rows8 for a strip no more than 16 wide (the last strip of a narrow product, such as a
 * convolution's gW with a 3x3 kernel over one channel): the half that would only multiply
 * the strip's zero padding is skipped. */
#define SG_HALF_DECL(r) __m512 c##r##a = _mm512_setzero_ps();
#define SG_HALF_LOAD(r)                                                                     \
    if (accumulate) {                                                                       \
        c##r##a = _mm512_maskz_loadu_ps(m0, y + r * ldy);                                   \
    }
#define SG_HALF_FMA(r)                                                                      \
    c##r##a = _mm512_fmadd_ps(_mm512_set1_ps(x[r * ldx + k * xk]), w0, c##r##a);
#define SG_HALF_STORE(r) _mm512_mask_storeu_ps(y + r * ldy, m0, c##r##a);

__attribute__((target("avx512f")))
static inline void sg_rows8_half(size_t K, const float *x, size_t ldx, size_t xk,
                                 const float *strip, float *y, size_t ldy, size_t width,
                                 int accumulate) {
    __mmask16 m0, m1;
    sg_masks(width, &m0, &m1);
    SG_HALF_DECL(0) SG_HALF_DECL(1) SG_HALF_DECL(2) SG_HALF_DECL(3)
    SG_HALF_DECL(4) SG_HALF_DECL(5) SG_HALF_DECL(6) SG_HALF_DECL(7)
    SG_HALF_LOAD(0) SG_HALF_LOAD(1) SG_HALF_LOAD(2) SG_HALF_LOAD(3)
    SG_HALF_LOAD(4) SG_HALF_LOAD(5) SG_HALF_LOAD(6) SG_HALF_LOAD(7)
    for (size_t k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(strip + k * SG_STRIP);
        SG_HALF_FMA(0) SG_HALF_FMA(1) SG_HALF_FMA(2) SG_HALF_FMA(3)
        SG_HALF_FMA(4) SG_HALF_FMA(5) SG_HALF_FMA(6) SG_HALF_FMA(7)
    }
    SG_HALF_STORE(0) SG_HALF_STORE(1) SG_HALF_STORE(2) SG_HALF_STORE(3)
    SG_HALF_STORE(4) SG_HALF_STORE(5) SG_HALF_STORE(6) SG_HALF_STORE(7)
}

/* sg_rows8 for a strip no more than 8 wide (a product 100 wide ends with 4 columns): one
 * 256-bit vector a row, whose FMAs issue twice as fast as 512-bit ones here (two 256-bit
 * pipes), so 4 columns cost a quarter strip instead of the half of sg_rows8_half. */
#define SG_QUARTER_DECL(r) __m256 c##r##q = _mm256_setzero_ps();
#define SG_QUARTER_LOAD(r)                                                                  \
    if (accumulate) {                                                                       \
        c##r##q = _mm256_maskload_ps(y + r * ldy, mask);                                    \
    }
#define SG_QUARTER_FMA(r)                                                                   \
    c##r##q = _mm256_fmadd_ps(_mm256_set1_ps(x[r * ldx + k * xk]), w, c##r##q);
#define SG_QUARTER_STORE(r) _mm256_maskstore_ps(y + r * ldy, mask, c##r##q);

__attribute__((target("avx512f,fma")))
static inline void sg_rows8_quarter(size_t K, const float *x, size_t ldx, size_t xk,
                                    const float *strip, float *y, size_t ldy, size_t width,
                                    int accumulate) {
    __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width),
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    SG_QUARTER_DECL(0) SG_QUARTER_DECL(1) SG_QUARTER_DECL(2) SG_QUARTER_DECL(3)
    SG_QUARTER_DECL(4) SG_QUARTER_DECL(5) SG_QUARTER_DECL(6) SG_QUARTER_DECL(7)
    SG_QUARTER_LOAD(0) SG_QUARTER_LOAD(1) SG_QUARTER_LOAD(2) SG_QUARTER_LOAD(3)
    SG_QUARTER_LOAD(4) SG_QUARTER_LOAD(5) SG_QUARTER_LOAD(6) SG_QUARTER_LOAD(7)
    for (size_t k = 0; k < K; k++) {
        __m256 w = _mm256_loadu_ps(strip + k * SG_STRIP);
        SG_QUARTER_FMA(0) SG_QUARTER_FMA(1) SG_QUARTER_FMA(2) SG_QUARTER_FMA(3)
        SG_QUARTER_FMA(4) SG_QUARTER_FMA(5) SG_QUARTER_FMA(6) SG_QUARTER_FMA(7)
    }
    SG_QUARTER_STORE(0) SG_QUARTER_STORE(1) SG_QUARTER_STORE(2) SG_QUARTER_STORE(3)
    SG_QUARTER_STORE(4) SG_QUARTER_STORE(5) SG_QUARTER_STORE(6) SG_QUARTER_STORE(7)
}

/* The same for four rows (the rows a block of 8 leaves over). */
__attribute__((target("avx512f")))
static inline void sg_rows4(size_t K, const float *x, size_t ldx, size_t xk, const float *strip,
                            float *y, size_t ldy, size_t width, int accumulate) {
    __mmask16 m0, m1;
    sg_masks(width, &m0, &m1);
    SG_ROW_DECL(0) SG_ROW_DECL(1) SG_ROW_DECL(2) SG_ROW_DECL(3)
    SG_ROW_LOAD(0) SG_ROW_LOAD(1) SG_ROW_LOAD(2) SG_ROW_LOAD(3)
    for (size_t k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(strip + k * SG_STRIP);
        __m512 w1 = _mm512_loadu_ps(strip + k * SG_STRIP + 16);
        SG_ROW_FMA(0) SG_ROW_FMA(1) SG_ROW_FMA(2) SG_ROW_FMA(3)
    }
    SG_ROW_STORE(0) SG_ROW_STORE(1) SG_ROW_STORE(2) SG_ROW_STORE(3)
}

/* The same for one row. */
__attribute__((target("avx512f")))
static inline void sg_rows1(size_t K, const float *x, size_t ldx, size_t xk, const float *strip,
                            float *y, size_t ldy, size_t width, int accumulate) {
    __mmask16 m0, m1;
    sg_masks(width, &m0, &m1);
    SG_ROW_DECL(0)
    SG_ROW_LOAD(0)
    for (size_t k = 0; k < K; k++) {
        __m512 w0 = _mm512_loadu_ps(strip + k * SG_STRIP);
        __m512 w1 = _mm512_loadu_ps(strip + k * SG_STRIP + 16);
        SG_ROW_FMA(0)
    }
    SG_ROW_STORE(0)
}

/* The dot-product kernel of Note [narrow GEMM] (gdl.h): c[i ci + j cj] = x_i . w_j for R <= 2
 * rows of x (ldx apart) and J <= SG_DOT_COLUMNS rows of w (ldw apart), all K long. Each sum
 * runs in 16 lanes, k in order, and is added across its lanes at the end; R and J are
 * constants where sg_dot inlines it, so the R x J sums stay in registers. */
#define SG_DOT_COLUMNS 8

__attribute__((target("avx512f"), always_inline))
static inline void sg_dot_block(size_t K, const float *x, size_t ldx, const float *w,
                                size_t ldw, float *c, size_t ci, size_t cj, size_t R,
                                size_t J) {
    __m512 acc[2][SG_DOT_COLUMNS];
#pragma GCC unroll 2
    for (size_t i = 0; i < R; i++) {
#pragma GCC unroll 8
        for (size_t j = 0; j < J; j++) {
            acc[i][j] = _mm512_setzero_ps();
        }
    }
    size_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 a[2];
#pragma GCC unroll 2
        for (size_t i = 0; i < R; i++) {
            a[i] = _mm512_loadu_ps(x + i * ldx + k);
        }
#pragma GCC unroll 8
        for (size_t j = 0; j < J; j++) {
            __m512 b = _mm512_loadu_ps(w + j * ldw + k);
#pragma GCC unroll 2
            for (size_t i = 0; i < R; i++) {
                acc[i][j] = _mm512_fmadd_ps(a[i], b, acc[i][j]);
            }
        }
    }
    if (k < K) {                                /* the last K % 16, masked: nothing past K read */
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 a[2];
#pragma GCC unroll 2
        for (size_t i = 0; i < R; i++) {
            a[i] = _mm512_maskz_loadu_ps(m, x + i * ldx + k);
        }
#pragma GCC unroll 8
        for (size_t j = 0; j < J; j++) {
            __m512 b = _mm512_maskz_loadu_ps(m, w + j * ldw + k);
#pragma GCC unroll 2
            for (size_t i = 0; i < R; i++) {
                acc[i][j] = _mm512_fmadd_ps(a[i], b, acc[i][j]);
            }
        }
    }
#pragma GCC unroll 2
    for (size_t i = 0; i < R; i++) {
#pragma GCC unroll 8
        for (size_t j = 0; j < J; j++) {
            c[i * ci + j * cj] = _mm512_reduce_add_ps(acc[i][j]);
        }
    }
}

/* sg_dot_block for any R in 1..2 and J in 1..SG_DOT_COLUMNS, each pair its own inlined copy. */
#define SG_DOT_CASE(j)                                                                      \
    case j:                                                                                 \
        if (R == 2) {                                                                       \
            sg_dot_block(K, x, ldx, w, ldw, c, ci, cj, 2, j);                               \
        } else {                                                                            \
            sg_dot_block(K, x, ldx, w, ldw, c, ci, cj, 1, j);                               \
        }                                                                                   \
        break;

__attribute__((target("avx512f")))
static inline void sg_dot(size_t K, const float *x, size_t ldx, size_t R, const float *w,
                          size_t ldw, size_t J, float *c, size_t ci, size_t cj) {
    switch (J) {
        SG_DOT_CASE(1) SG_DOT_CASE(2) SG_DOT_CASE(3) SG_DOT_CASE(4)
        SG_DOT_CASE(5) SG_DOT_CASE(6) SG_DOT_CASE(7) SG_DOT_CASE(8)
        default:
            break;
    }
}

/* c[i ci + j cj] = x_i . w_j for rows [i0, i1) of x, in pairs, against all J rows of w, in
 * balanced groups of at most SG_DOT_COLUMNS (sg_dot); rows K long, ldx and ldw apart. */
__attribute__((target("avx512f")))
static inline void sg_dot_rows(size_t K, const float *x, size_t ldx, size_t i0, size_t i1,
                               const float *w, size_t ldw, size_t J, float *c, size_t ci,
                               size_t cj) {
    size_t groups = (J + SG_DOT_COLUMNS - 1) / SG_DOT_COLUMNS;
    for (size_t i = i0; i < i1; i += 2) {
        size_t R = i1 - i < 2 ? i1 - i : 2;
        for (size_t g = 0; g < groups; g++) {
            size_t j0 = g * J / groups, j1 = (g + 1) * J / groups;
            sg_dot(K, x + i * ldx, ldx, R, w + j0 * ldw, ldw, j1 - j0, c + i * ci + j0 * cj,
                   ci, cj);
        }
    }
}

/* sg_dot_block for SG_AVX2 (packed convolutions' gW for small kernels): 8 lanes, at most
 * SG_DOT_COLUMNS_AVX2 rows of w, so the 2 x 4 sums, two vectors of x and one of w fit AVX2's 16
 * registers. */
#define SG_DOT_COLUMNS_AVX2 4

__attribute__((target("avx2,fma"), always_inline))
static inline void sg_dot_block_avx2(size_t K, const float *x, size_t ldx, const float *w,
                                     size_t ldw, float *c, size_t ci, size_t cj, size_t R,
                                     size_t J) {
    __m256 acc[2][SG_DOT_COLUMNS_AVX2];
#pragma GCC unroll 2
    for (size_t i = 0; i < R; i++) {
#pragma GCC unroll 4
        for (size_t j = 0; j < J; j++) {
            acc[i][j] = _mm256_setzero_ps();
        }
    }
    for (size_t k = 0; k < K; k += 8) {
        /* the last K % 8 masked: nothing past K read */
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k < 8 ? K - k : 8)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        int whole = K - k >= 8;
        __m256 a[2];
#pragma GCC unroll 2
        for (size_t i = 0; i < R; i++) {
            a[i] = whole ? _mm256_loadu_ps(x + i * ldx + k)
                         : _mm256_maskload_ps(x + i * ldx + k, m);
        }
#pragma GCC unroll 4
        for (size_t j = 0; j < J; j++) {
            __m256 b = whole ? _mm256_loadu_ps(w + j * ldw + k)
                             : _mm256_maskload_ps(w + j * ldw + k, m);
#pragma GCC unroll 2
            for (size_t i = 0; i < R; i++) {
                acc[i][j] = _mm256_fmadd_ps(a[i], b, acc[i][j]);
            }
        }
    }
#pragma GCC unroll 2
    for (size_t i = 0; i < R; i++) {
#pragma GCC unroll 4
        for (size_t j = 0; j < J; j++) {
            __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc[i][j]),
                                  _mm256_extractf128_ps(acc[i][j], 1));
            h = _mm_add_ps(h, _mm_movehl_ps(h, h));
            c[i * ci + j * cj] = _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
        }
    }
}

#define SG_DOT_CASE_AVX2(j)                                                                 \
    case j:                                                                                 \
        if (R == 2) {                                                                       \
            sg_dot_block_avx2(K, x, ldx, w, ldw, c, ci, cj, 2, j);                          \
        } else {                                                                            \
            sg_dot_block_avx2(K, x, ldx, w, ldw, c, ci, cj, 1, j);                          \
        }                                                                                   \
        break;

/* sg_dot_block_avx2 for any R in 1..2 and J in 1..SG_DOT_COLUMNS_AVX2 (sg_dot for SG_AVX2). */
__attribute__((target("avx2,fma")))
static void sg_dot_avx2(size_t K, const float *x, size_t ldx, size_t R, const float *w,
                        size_t ldw, size_t J, float *c, size_t ci, size_t cj) {
    switch (J) {
        SG_DOT_CASE_AVX2(1) SG_DOT_CASE_AVX2(2) SG_DOT_CASE_AVX2(3) SG_DOT_CASE_AVX2(4)
        default:
            break;
    }
}

/* sg_dot_rows for SG_AVX2: rows of x in pairs against groups of at most SG_DOT_COLUMNS_AVX2
 * rows of w. */
static void sg_dot_rows_avx2(size_t K, const float *x, size_t ldx, size_t i0, size_t i1,
                             const float *w, size_t ldw, size_t J, float *c, size_t ci,
                             size_t cj) {
    size_t groups = (J + SG_DOT_COLUMNS_AVX2 - 1) / SG_DOT_COLUMNS_AVX2;
    for (size_t i = i0; i < i1; i += 2) {
        size_t R = i1 - i < 2 ? i1 - i : 2;
        for (size_t g = 0; g < groups; g++) {
            size_t j0 = g * J / groups, j1 = (g + 1) * J / groups;
            sg_dot_avx2(K, x + i * ldx, ldx, R, w + j0 * ldw, ldw, j1 - j0,
                        c + i * ci + j0 * cj, ci, cj);
        }
    }
}

/* Strips [s0, s1) of y = x @ M (Note [small-batch GEMM]). */
typedef struct {
    size_t B, K, N, ldx, ldy, s0, s1;
    const float *x, *P;
    float *y;
    int accumulate;
} sg_job;

/* y[0:B, 0:width] (=|+=) x[0:B, 0:K] @ strip (K x 32): the rows in blocks of 8, then 4, then
 * one at a time; x[r, k] at x[r ldx + k xk], y's rows ldy apart. SG_AVX512 only. */
__attribute__((target("avx512f,fma")))
static void sg_strip_rows_avx512(size_t B, size_t K, const float *x, size_t ldx, size_t xk,
                                 const float *strip, float *y, size_t ldy, size_t width,
                                 int accumulate) {
    size_t r = 0;
    for (; r + 8 <= B; r += 8) {
        (width <= 8    ? sg_rows8_quarter
         : width <= 16 ? sg_rows8_half
                       : sg_rows8)(K, x + r * ldx, ldx, xk, strip, y + r * ldy, ldy, width,
                                   accumulate);
    }
    if (r + 4 <= B) {
        sg_rows4(K, x + r * ldx, ldx, xk, strip, y + r * ldy, ldy, width, accumulate);
        r += 4;
    }
    for (; r < B; r++) {
        sg_rows1(K, x + r * ldx, ldx, xk, strip, y + r * ldy, ldy, width, accumulate);
    }
}

/* The SG_AVX2 kernel (Note [kernel levels]): y[0:R, 0:width] (=|+=) x[0:R, :] @ half, the K x 16
 * half of a strip at half (rows SG_STRIP apart), width <= 16, in R x V vectors of 8 (R <= 6,
 * V <= 2: at most 12 sums, two of the strip's and one of x's in AVX2's 16 registers). R and V
 * are constants where sg_rows_avx2 inlines it. The strip's zero padding is multiplied like any
 * column; only y's columns past width are masked. */
#define SG_AVX2_ROWS 6

__attribute__((target("avx2,fma"), always_inline))
static inline void sg_block_avx2(size_t K, const float *x, size_t ldx, size_t xk,
                                 const float *half, float *y, size_t ldy, size_t width,
                                 int accumulate, size_t R, size_t V) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask[2];
    mask[0] = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width), lanes);
    mask[1] = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)width - 8), lanes);
    int full[2] = {width >= 8, width >= 16};
    __m256 acc[SG_AVX2_ROWS][2];
#pragma GCC unroll 6
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t v = 0; v < V; v++) {
            const float *at = y + r * ldy + 8 * v;
            acc[r][v] = !accumulate ? _mm256_setzero_ps()
                        : full[v]   ? _mm256_loadu_ps(at)
                                    : _mm256_maskload_ps(at, mask[v]);
        }
    }
    for (size_t k = 0; k < K; k++) {
        __m256 b[2];
#pragma GCC unroll 2
        for (size_t v = 0; v < V; v++) {
            b[v] = _mm256_loadu_ps(half + k * SG_STRIP + 8 * v);
        }
#pragma GCC unroll 6
        for (size_t r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(x + r * ldx + k * xk);
#pragma GCC unroll 2
            for (size_t v = 0; v < V; v++) {
                acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
            }
        }
    }
#pragma GCC unroll 6
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t v = 0; v < V; v++) {
            float *at = y + r * ldy + 8 * v;
            if (full[v]) {
                _mm256_storeu_ps(at, acc[r][v]);
            } else {
                _mm256_maskstore_ps(at, mask[v], acc[r][v]);
            }
        }
    }
}

/* sg_block_avx2 for any R in 1..SG_AVX2_ROWS and V in 1..2, each pair its own inlined copy. */
#define SG_AVX2_CASE(r)                                                                     \
    case r:                                                                                 \
        if (V == 2) {                                                                       \
            sg_block_avx2(K, x, ldx, xk, half, y, ldy, width, accumulate, r, 2);            \
        } else {                                                                            \
            sg_block_avx2(K, x, ldx, xk, half, y, ldy, width, accumulate, r, 1);            \
        }                                                                                   \
        break;

__attribute__((target("avx2,fma")))
static void sg_rows_avx2(size_t K, const float *x, size_t ldx, size_t xk, const float *half,
                         float *y, size_t ldy, size_t width, int accumulate, size_t R,
                         size_t V) {
    switch (R) {
        SG_AVX2_CASE(1) SG_AVX2_CASE(2) SG_AVX2_CASE(3)
        SG_AVX2_CASE(4) SG_AVX2_CASE(5) SG_AVX2_CASE(6)
        default:
            break;
    }
}

/* sg_strip_rows_avx512 for SG_AVX2: blocks of 6 rows, each against the strip's first half,
 * then its second (when width > 16), while the block's rows of x stay in L1. */
__attribute__((target("avx2,fma")))
static void sg_strip_rows_avx2(size_t B, size_t K, const float *x, size_t ldx, size_t xk,
                               const float *strip, float *y, size_t ldy, size_t width,
                               int accumulate) {
    for (size_t r = 0; r < B; r += SG_AVX2_ROWS) {
        size_t R = B - r < SG_AVX2_ROWS ? B - r : SG_AVX2_ROWS;
        for (size_t h = 0; 16 * h < width; h++) {
            size_t w = width - 16 * h < 16 ? width - 16 * h : 16;
            sg_rows_avx2(K, x + r * ldx, ldx, xk, strip + 16 * h, y + r * ldy + 16 * h, ldy,
                         w, accumulate, R, w <= 8 ? 1 : 2);
        }
    }
}

/* y[0:B, 0:width] (=|+=) x[0:B, 0:K] @ strip (K x 32) by this CPU's kernel (Note [kernel
 * levels]); x[r, k] at x[r ldx + k xk], y's rows ldy apart. Only when sg_use(B). */
static inline void sg_strip_rows(size_t B, size_t K, const float *x, size_t ldx, size_t xk,
                                 const float *strip, float *y, size_t ldy, size_t width,
                                 int accumulate) {
    if (sg_level() == SG_AVX512) {
        sg_strip_rows_avx512(B, K, x, ldx, xk, strip, y, ldy, width, accumulate);
    } else {
        sg_strip_rows_avx2(B, K, x, ldx, xk, strip, y, ldy, width, accumulate);
    }
}

static inline void sg_strips(const sg_job *j) {
    for (size_t s = j->s0; s < j->s1; s++) {
        size_t n0 = s * SG_STRIP;
        size_t width = j->N - n0 < SG_STRIP ? j->N - n0 : SG_STRIP;
        sg_strip_rows(j->B, j->K, j->x, j->ldx, 1, j->P + n0 * j->K, j->y + n0, j->ldy, width,
                      j->accumulate);
    }
}

/* Strips [begin, end) of the product in ctx (an sg_job), for gdl_parallel_for. */
static inline void sg_task(void *ctx, size_t begin, size_t end) {
    sg_job job = *(const sg_job *)ctx;
    job.s0 = begin;
    job.s1 = end;
    sg_strips(&job);
}

/* Threads for one product (Note [parallel loops] in gdl.h), at most SG_MAX_THREADS. */
static inline size_t sg_threads(void) {
    size_t threads = gdl_num_threads();
    return threads < SG_MAX_THREADS ? threads : SG_MAX_THREADS;
}

/* y (B, N) = x (B, K) @ M, or y += x @ M when accumulate; M packed in P by sg_pack; x rows
 * ldx apart, y rows ldy apart. Only when sg_use(B). The strips are shared among threads
 * (Note [parallel loops]) when the product is large enough to pay for starting them. */
static inline void sg_gemm(size_t B, size_t K, size_t N, const float *x, size_t ldx,
                           const float *P, float *y, size_t ldy, int accumulate) {
    size_t strips = (N + SG_STRIP - 1) / SG_STRIP;
    sg_job job = {B, K, N, ldx, ldy, 0, strips, x, P, y, accumulate};
    if (B * K * N < SG_THREAD_WORK) {
        sg_strips(&job);
        return;
    }
    gdl_parallel_for(strips, 1, 1, sg_task, &job);   /* a share of the strips per thread */
}
#else
static inline void sg_gemm(size_t B, size_t K, size_t N, const float *x, size_t ldx,
                           const float *P, float *y, size_t ldy, int accumulate) {
    (void)B, (void)K, (void)N, (void)x, (void)ldx, (void)P, (void)y, (void)ldy;
    (void)accumulate;                          /* never called: sg_use() is 0 */
}
#endif

#ifdef SG_X86
/* Room for n floats from a 64-byte boundary in *buffer (realloc'ed, with 16 floats to spare,
 * when it had less; *capacity updated), or NULL when out of memory (*buffer is then kept). The
 * boundary matters: from malloc's 16-byte alignment, every half strip (64 bytes) the AVX2 kernel
 * loads straddled two cache lines, as does every 64-byte AVX-512 load (Note [kernel levels]).
 * The contents do not survive growing. */
static inline float *sg_grown(float **buffer, size_t *capacity, size_t n) {
    if (n > *capacity) {
        float *grown = realloc(*buffer, (n + 16) * sizeof(float));
        if (grown == NULL) {
            return NULL;
        }
        *buffer = grown;
        *capacity = n;
    }
    return (float *)(((uintptr_t)*buffer + 63) & ~(uintptr_t)63);
}

/* This thread's buffer of at least n floats, kept and grown across calls (a fresh block every
 * step costs page faults), or NULL when out of memory. One per thread, shared by the packed
 * kernels of a module (whose calls on one thread never overlap); valid until that thread's next
 * call of one of them. */
static inline float *sg_thread_buffer(size_t n) {
    static __thread float *buffer = NULL;
    static __thread size_t capacity = 0;
    return sg_grown(&buffer, &capacity, n);
}
#endif

/* Per-type entry points for the bodies in rnn.inc and lstm.inc, which FN() names.
 *
 * The recurrent weight packed for the small-batch kernel (Note [small-batch GEMM]) into this
 * thread's buffer, kept and grown across calls (a fresh 4 MB every call costs page faults), or
 * NULL when the BLAS should do the per-step products: no packed kernels (Note [kernel
 * levels]), many rows, double, or no memory. Valid until the thread's next call. */
static inline float *recurrent_buffer_f32(size_t entries, size_t B) {
    /* this thread's buffer of `entries` floats for packed weights, or NULL as below */
#ifdef SG_X86
    return sg_use(B) ? sg_thread_buffer(entries) : NULL;
#else
    (void)entries, (void)B;
    return NULL;
#endif
}

static inline float *pack_recurrent_f32(const float *W, size_t K, size_t N, int transposed,
                                        size_t B) {
    float *buffer = recurrent_buffer_f32(sg_packed_size(K, N), B);
    if (buffer != NULL) {
        sg_pack(W, K, N, transposed, buffer);
    }
    return buffer;
}

static inline double *pack_recurrent_f64(const double *W, size_t K, size_t N,
                                         int transposed, size_t B) {
    (void)W, (void)K, (void)N, (void)transposed, (void)B;
    return NULL;
}

/* Strips [s0, s1) of y (B, N) (=|+=) x @ M, M packed by sg_pack: one member's share of a
 * product (Note [thread team] in team.h). Only after a packed operand came back non-NULL. */
static inline void small_gemm_strips_f32(size_t B, size_t K, size_t N, const float *x,
                                         size_t ldx, const float *P, float *y, size_t ldy,
                                         size_t s0, size_t s1, int accumulate) {
#ifdef SG_X86
    sg_job job = {B, K, N, ldx, ldy, s0, s1, x, P, y, accumulate};
    sg_strips(&job);
#else
    (void)B, (void)K, (void)N, (void)x, (void)ldx, (void)P, (void)y, (void)ldy, (void)s0;
    (void)s1, (void)accumulate;
#endif
}

static inline void small_gemm_strips_f64(size_t B, size_t K, size_t N, const double *x,
                                         size_t ldx, const double *P, double *y, size_t ldy,
                                         size_t s0, size_t s1, int accumulate) {
    (void)B, (void)K, (void)N, (void)x, (void)ldx, (void)P, (void)y, (void)ldy, (void)s0;
    (void)s1, (void)accumulate;                /* never called: no packed double */
}

/* Strips [s0, s1) of W packed by sg_pack_range into P (a recurrent_buffer): each member of a
 * thread team packs the strips it will multiply by (Note [thread team] in team.h). */
static inline void pack_strips_f32(const float *W, size_t K, size_t N, int transposed,
                                   float *P, size_t s0, size_t s1) {
    sg_pack_range(W, K, N, transposed, P, s0, s1);
}

static inline void pack_strips_f64(const double *W, size_t K, size_t N, int transposed,
                                   double *P, size_t s0, size_t s1) {
    (void)W, (void)K, (void)N, (void)transposed, (void)P, (void)s0, (void)s1;
}

static inline double *recurrent_buffer_f64(size_t entries, size_t B) {
    (void)entries, (void)B;
    return NULL;                               /* no packed double */
}

static inline void small_gemm_f32(size_t B, size_t K, size_t N, const float *x, size_t ldx,
                                  const float *P, float *y, size_t ldy, int accumulate) {
    sg_gemm(B, K, N, x, ldx, P, y, ldy, accumulate);
}

static inline void small_gemm_f64(size_t B, size_t K, size_t N, const double *x,
                                  size_t ldx, const double *P, double *y, size_t ldy,
                                  int accumulate) {
    (void)B, (void)K, (void)N, (void)x, (void)ldx, (void)P, (void)y, (void)ldy;
    (void)accumulate;                          /* never called: pack_recurrent_f64 is NULL */
}

#endif /* GDL_SMALL_GEMM_H */
