/* Single-precision convolution with the packed kernels of small_gemm.h, the images
 * shared among the module's thread pool (Note [packed conv]). Header-only, static, included
 * by conv.c. */
#ifndef GDL_CONV_PACKED_H
#define GDL_CONV_PACKED_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "small_gemm.h"

/* Note [packed conv]: the two-conv network of bench W6b multiplies, for each of 64 images,
 * Wt (64, 288) by the image's columns (288, 121), and twice more in backward. Through the BLAS
 * each such product is one call of 2.2 M multiply-adds: OpenBLAS packs both operands on every
 * call, and its threads wake for every call (Note [OpenBLAS spin]), so the step ran at about
 * 14% of the machine's sgemm rate. Here each image's product goes through small_gemm.h's
 * register-blocked kernel (an 8 x 32 block of the output in 16 AVX-512 registers), with the
 * right-hand operand packed into strips of 32 columns once per image (the columns for y and
 * gW, gy for gx). The images are shared among the threads by gdl_parallel_for (Note [thread
 * pool]: chunks claimed one at a time, so a thread slowed by another process takes fewer), each
 * thread with its own scratch (sg_thread_buffer). Backward, gW and gb are summed per fixed group
 * of images (cp_groups: 16 for 16 images or more, fewer for a large weight), in image order
 * within a group, and the groups' sums added in order at the end, so every thread count gives
 * the same gradients. Before, each of a fixed share of images per thread (threads started per
 * call) kept one partial sum: gW changed with the thread count, and bench W6b's step took
 * 10.0-10.8 ms against 8.9-10.4 now (medians of 20 steps, six pairs of alternating processes,
 * five of them faster). The per-image products, with O the output channels, K = C kh kw and
 * P = OH OW:
 *     y_n (O, P)  = Wt (O, K) @ cols_n (K, P)          strips of cols_n,   8 rows of Wt
 *     gW (O, K)  += gy_n (O, P) @ cols_n^T (P, K)      strips of cols_n^T, 8 rows of gy_n
 *     gcols (K, P) = Wt^T (K, O) @ gy_n (O, P)         strips of gy_n,     8 rows of Wt^T
 * then col2im(gcols) is gx_n. With stride 1 across, cols_n's strips are copied an output row at
 * a time instead of gathered (cp_copy_strips), and a kernel of fewer than CP_DOT_K entries
 * takes gW as dot products of gy_n's rows and cols_n's (sg_dot_rows), where cols_n^T's one strip
 * would be mostly padding: bench W3's one-channel conv (128 images 27 x 27, 16 3 x 3 kernels)
 * forward 0.34 -> 0.31 ms, gW and gb 0.52 -> 0.39 (fastest of 300 calls, three alternating
 * processes), W6b's first conv 0.29 -> 0.27 and 0.42 -> 0.35. Used for float32 on x86-64
 * with AVX-512F, or AVX2 and FMA (Note [kernel levels]: the helpers below have a build for
 * each), unless GDL_SMALL_GEMM=0 (the switch of every packed kernel), and when one
 * thread's scratch stays under CP_MAX_SCRATCH entries; otherwise conv.inc's im2col + BLAS path
 * runs. */

#define CP_MAX_SCRATCH ((size_t)1 << 23)       /* floats of scratch per thread: 32 MiB */
/* Kernels of fewer entries (C kh kw) than this take gW as dot products (sg_dot_rows). */
#define CP_DOT_K 16
/* The backward's image groups (cp_groups): at most CP_GROUPS, and their partial gW at most
 * CP_MAX_PARTIALS floats (16 MiB) unless there are only two. */
#define CP_GROUPS 16
#define CP_MAX_PARTIALS ((size_t)1 << 22)

#ifdef SG_X86
typedef struct {
    const float *x, *Wt, *WtT, *b, *gy;
    const int *koff, *poff;                    /* cp_gather_strips's offsets */
    float *y, *gx;
    float *gW, *gb;                            /* backward: the groups' partial sums */
    size_t N, G, C, O;                         /* G: backward's image groups */
    size_t scratch;                            /* floats of a thread's scratch */
    const gdl_window *w;
    int failed;                                /* a thread's scratch could not be had */
} cp_job;

static size_t cp_ceil32(size_t n) {
    return (n + SG_STRIP - 1) / SG_STRIP * SG_STRIP;
}

/* y (rows, N) (=|+=) x (rows, K) @ the K x N matrix packed in P, all strips on this thread. */
static void cp_gemm(size_t rows, size_t K, size_t N, const float *x, size_t ldx,
                    const float *P, float *y, size_t ldy, int accumulate) {
    small_gemm_strips_f32(rows, K, N, x, ldx, P, y, ldy, 0, (N + SG_STRIP - 1) / SG_STRIP,
                          accumulate);
}

/* The packed operands come straight from the image by AVX-512 gathers: src is the image padded
 * to (C, Hp, Wp) (or x itself when there is no padding), koff[k] the offset of kernel entry
 * k = (c, i, j) in it, c Hp Wp + i Wp + j, and poff[p] that of output position p = (oh, ow),
 * oh sh Wp + ow sw; column p of cols is then src[koff[k] + poff[p]] over k. */
__attribute__((target("avx512f")))
static void cp_gather_strips_avx512(const float *src, const int *outer, size_t n_outer,
                             const int *inner, size_t n_inner, float *packed) {
    /* packed[s][a][jj] = src[outer[a] + inner[32 s + jj]], 0 where 32 s + jj >= n_inner:
     * the strips of the n_outer x n_inner matrix (outer rows, inner columns) */
    for (size_t s = 0; s * SG_STRIP < n_inner; s++) {
        size_t n0 = s * SG_STRIP, width = n_inner - n0 < SG_STRIP ? n_inner - n0 : SG_STRIP;
        __mmask16 m0, m1;
        sg_masks(width, &m0, &m1);
        __m512i i0 = _mm512_maskz_loadu_epi32(m0, inner + n0);
        __m512i i1 = _mm512_maskz_loadu_epi32(m1, inner + n0 + 16);
        float *strip = packed + n0 * n_outer;
        for (size_t a = 0; a < n_outer; a++) {
            const float *base = src + outer[a];
            _mm512_storeu_ps(strip + a * SG_STRIP,
                             _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m0, i0, base, 4));
            _mm512_storeu_ps(strip + a * SG_STRIP + 16,
                             m1 == 0 ? _mm512_setzero_ps()     /* a strip of 16 or fewer */
                                     : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m1, i1,
                                                                base, 4));
        }
    }
}

/* cp_gather_strips(src, koff, K, poff, P, packed) for a window of stride 1 across, without
 * gathers: the OW positions of an output row read OW consecutive floats of src, copied into the
 * strips by masked loads and stores, at most 16 floats each and none across a strip (Note
 * [packed conv]: AVX-512 gathers took a third of a one-channel forward). */
__attribute__((target("avx512f")))
static void cp_copy_strips_avx512(const float *src, const int *koff, size_t K, const gdl_window *w,
                           float *packed) {
    size_t OW = w->OW, P = w->OH * OW, Wp = w->W + 2 * w->pw, tail = P % SG_STRIP;
    for (size_t a = 0; a < K; a++) {
        for (size_t oh = 0; oh < w->OH; oh++) {
            const float *row = src + koff[a] + oh * w->sh * Wp;    /* position oh OW */
            for (size_t p = oh * OW, end = p + OW; p < end;) {
                size_t lane = p % SG_STRIP, n = end - p;
                n = n < SG_STRIP - lane ? n : SG_STRIP - lane;
                n = n < 16 ? n : 16;
                __mmask16 m = (__mmask16)((1u << n) - 1);
                _mm512_mask_storeu_ps(packed + (p - lane) * K + a * SG_STRIP + lane, m,
                                      _mm512_maskz_loadu_ps(m, row + (p - oh * OW)));
                p += n;
            }
        }
        if (tail != 0) {                       /* the last strip's columns past P are zero */
            memset(packed + (P - tail) * K + a * SG_STRIP + tail, 0,
                   (SG_STRIP - tail) * sizeof(float));
        }
    }
}

/* cols_n (K, P) row-major for a window of stride 1 across: each output row's OW positions
 * are OW consecutive floats of src, one memcpy (gdl_im2col_f32, for any stride, took W3's gW
 * 0.50-0.54 ms instead of 0.38-0.42 with this). */
static void cp_copy_rows(const float *src, const int *koff, size_t K, const gdl_window *w,
                         float *cols) {
    size_t OW = w->OW, P = w->OH * OW, Wp = w->W + 2 * w->pw;
    for (size_t a = 0; a < K; a++) {
        for (size_t oh = 0; oh < w->OH; oh++) {
            memcpy(cols + a * P + oh * OW, src + koff[a] + oh * w->sh * Wp, OW * sizeof(float));
        }
    }
}

/* The sum of v[0:n], 64 entries a step in four vector accumulators: a plain loop adds one
 * float at a time in order (GCC may not reorder float additions), 4 cycles each, and gb's
 * sums took a third of a one-channel convolution's gW. */
__attribute__((target("avx512f")))
static float cp_sum_avx512(const float *v, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    __m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(v + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(v + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(v + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(v + i + 48));
    }
    for (; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(m, v + i));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* The image x (C, H, W) zero-padded into pad (C, Hp, Wp), or x itself without padding. */
static const float *cp_padded(const float *x, size_t C, const gdl_window *w, float *pad) {
    size_t Hp = w->H + 2 * w->ph, Wp = w->W + 2 * w->pw;
    if (w->ph == 0 && w->pw == 0) {
        return x;
    }
    memset(pad, 0, C * Hp * Wp * sizeof(float));
    for (size_t c = 0; c < C; c++) {
        for (size_t h = 0; h < w->H; h++) {
            memcpy(pad + (c * Hp + h + w->ph) * Wp + w->pw, x + (c * w->H + h) * w->W,
                   w->W * sizeof(float));
        }
    }
    return pad;
}

/* Row o of y (rows, n) = b[o] everywhere, 16 lanes a store (the baseline build's loop stored
 * 4 floats at a time: 2% of bench W6b's step). */
__attribute__((target("avx512f")))
static void cp_fill_rows_avx512(float *y, size_t rows, size_t n, const float *b) {
    __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1);
    for (size_t o = 0; o < rows; o++) {
        __m512 v = _mm512_set1_ps(b[o]);
        float *row = y + o * n;
        size_t p = 0;
        for (; p + 16 <= n; p += 16) {
            _mm512_storeu_ps(row + p, v);
        }
        _mm512_mask_storeu_ps(row + p, tail, v);
    }
}

/* ---- the same for SG_AVX2 (Note [kernel levels]), and the dispatch by level ---------- */

/* cp_gather_strips_avx512 by scalar loads (the AVX2 gathers are no faster here). */
static void cp_gather_strips_c(const float *src, const int *outer, size_t n_outer,
                               const int *inner, size_t n_inner, float *packed) {
    for (size_t s = 0; s * SG_STRIP < n_inner; s++) {
        size_t n0 = s * SG_STRIP, width = n_inner - n0 < SG_STRIP ? n_inner - n0 : SG_STRIP;
        float *strip = packed + n0 * n_outer;
        for (size_t a = 0; a < n_outer; a++) {
            const float *base = src + outer[a];
            float *row = strip + a * SG_STRIP;
            for (size_t jj = 0; jj < width; jj++) {
                row[jj] = base[inner[n0 + jj]];
            }
            for (size_t jj = width; jj < SG_STRIP; jj++) {
                row[jj] = 0.0f;
            }
        }
    }
}

/* cp_copy_strips_avx512 by memcpy: each run of an output row within one strip is one copy. */
static void cp_copy_strips_c(const float *src, const int *koff, size_t K, const gdl_window *w,
                             float *packed) {
    size_t OW = w->OW, P = w->OH * OW, Wp = w->W + 2 * w->pw, tail = P % SG_STRIP;
    for (size_t a = 0; a < K; a++) {
        for (size_t oh = 0; oh < w->OH; oh++) {
            const float *row = src + koff[a] + oh * w->sh * Wp;    /* position oh OW */
            for (size_t p = oh * OW, end = p + OW; p < end;) {
                size_t lane = p % SG_STRIP, n = end - p;
                n = n < SG_STRIP - lane ? n : SG_STRIP - lane;
                memcpy(packed + (p - lane) * K + a * SG_STRIP + lane, row + (p - oh * OW),
                       n * sizeof(float));
                p += n;
            }
        }
        if (tail != 0) {                       /* the last strip's columns past P are zero */
            memset(packed + (P - tail) * K + a * SG_STRIP + tail, 0,
                   (SG_STRIP - tail) * sizeof(float));
        }
    }
}

/* cp_sum_avx512 in four AVX accumulators of 8. */
__attribute__((target("avx2")))
static float cp_sum_avx2(const float *v, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(v + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(v + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(v + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(v + i + 24));
    }
    for (; i + 8 <= n; i += 8) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(v + i));
    }
    __m256 t = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
    float lanes[8];
    _mm256_storeu_ps(lanes, t);
    float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
                + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (; i < n; i++) {
        sum += v[i];
    }
    return sum;
}

/* x (C, H, W) = col2im(cols (K, P)). For stride 1 across, each LANES entries of an x row are
 * summed in a register over the kernel entries that read them and stored once: adding into x
 * stretch by stretch (gdl_col2im) re-reads stores still in flight one entry over, which stalls
 * on every add (the store-forwarding penalty), and cost 60% of gx. The body of cp_col2im_avx512
 * and cp_col2im_avx2: VEC is the vector type, ZERO a zero one, ADD(acc, src, lo, hi) acc plus
 * the lanes [lo, hi) of the vector at src (no others read), STORE(dst, n, acc) the first n. */
#define CP_COL2IM(LANES, VEC, ZERO, ADD, STORE)                                            \
    if (w->sw != 1) {                                                                       \
        gdl_col2im_f32(cols, w->OH * w->OW, x, C, w);                                       \
        return;                                                                             \
    }                                                                                       \
    size_t OW = w->OW, P = w->OH * OW, kh = w->kh, kw = w->kw;                              \
    for (size_t c = 0; c < C; c++) {                                                        \
        for (size_t h = 0; h < w->H; h++) {                                                 \
            size_t hp = h + w->ph;             /* the row in padded coordinates */          \
            for (size_t w0 = 0; w0 < w->W; w0 += LANES) {                                   \
                size_t n = w->W - w0 < LANES ? w->W - w0 : LANES;                           \
                VEC acc = ZERO;                                                             \
                for (size_t i = 0; i < kh && i <= hp; i++) {                                \
                    if ((hp - i) % w->sh != 0 || (hp - i) / w->sh >= w->OH) {               \
                        continue;                                                           \
                    }                                                                       \
                    const float *row = cols + (c * kh + i) * kw * P + (hp - i) / w->sh * OW; \
                    for (size_t j = 0; j < kw; j++) {                                       \
                        /* x column w0 + t reads output column w0 + t + pw - j in [0, OW) */ \
                        ptrdiff_t first = (ptrdiff_t)(w0 + w->pw) - (ptrdiff_t)j;           \
                        ptrdiff_t lo = first < 0 ? -first : 0;         /* t in [lo, hi) */  \
                        ptrdiff_t hi = (ptrdiff_t)OW - first;                               \
                        hi = hi < (ptrdiff_t)n ? hi : (ptrdiff_t)n;                         \
                        if (hi <= lo) {                                                     \
                            continue;                                                       \
                        }                                                                   \
                        const float *src = (const float *)((uintptr_t)(row + j * P) +       \
                                                           (uintptr_t)(first * 4));         \
                        acc = ADD(acc, src, lo, hi);                                        \
                    }                                                                       \
                }                                                                           \
                STORE(x + (c * w->H + h) * w->W + w0, n, acc);                              \
            }                                                                               \
        }                                                                                   \
    }

#define CP_ADD16(acc, src, lo, hi)                                                          \
    _mm512_add_ps(acc, _mm512_maskz_loadu_ps(                                               \
                           (__mmask16)(((1u << (hi)) - 1) & ~((1u << (lo)) - 1)), src))
#define CP_STORE16(dst, n, acc) _mm512_mask_storeu_ps(dst, (__mmask16)((1u << (n)) - 1), acc)

__attribute__((target("avx512f")))
static void cp_col2im_avx512(const float *cols, float *x, size_t C, const gdl_window *w) {
    CP_COL2IM(16, __m512, _mm512_setzero_ps(), CP_ADD16, CP_STORE16)
}

/* The lanes [lo, hi) of 8, as a mask. */
__attribute__((target("avx2")))
static inline __m256i cp_lanes8(ptrdiff_t lo, ptrdiff_t hi) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), lanes),
                            _mm256_cmpgt_epi32(lanes, _mm256_set1_epi32((int)lo - 1)));
}

#define CP_ADD8(acc, src, lo, hi) _mm256_add_ps(acc, _mm256_maskload_ps(src, cp_lanes8(lo, hi)))
#define CP_STORE8(dst, n, acc)                                                              \
    ((n) == 8 ? _mm256_storeu_ps(dst, acc) : _mm256_maskstore_ps(dst, cp_lanes8(0, n), acc))

__attribute__((target("avx2")))
static void cp_col2im_avx2(const float *cols, float *x, size_t C, const gdl_window *w) {
    CP_COL2IM(8, __m256, _mm256_setzero_ps(), CP_ADD8, CP_STORE8)
}

/* cp_fill_rows_avx512 as a plain loop (vectorized by the compiler). */
static void cp_fill_rows_c(float *y, size_t rows, size_t n, const float *b) {
    for (size_t o = 0; o < rows; o++) {
        float v = b[o], *row = y + o * n;
        for (size_t p = 0; p < n; p++) {
            row[p] = v;
        }
    }
}

/* The helpers above by this CPU's level (conv_packed_*_f32 run only at SG_AVX512 or SG_AVX2). */
static void cp_gather_strips(const float *src, const int *outer, size_t n_outer,
                             const int *inner, size_t n_inner, float *packed) {
    (sg_level() == SG_AVX512 ? cp_gather_strips_avx512 : cp_gather_strips_c)(
        src, outer, n_outer, inner, n_inner, packed);
}

static void cp_copy_strips(const float *src, const int *koff, size_t K, const gdl_window *w,
                           float *packed) {
    (sg_level() == SG_AVX512 ? cp_copy_strips_avx512 : cp_copy_strips_c)(src, koff, K, w,
                                                                          packed);
}

static float cp_sum(const float *v, size_t n) {
    return sg_level() == SG_AVX512 ? cp_sum_avx512(v, n) : cp_sum_avx2(v, n);
}

static void cp_col2im(const float *cols, float *x, size_t C, const gdl_window *w) {
    (sg_level() == SG_AVX512 ? cp_col2im_avx512 : cp_col2im_avx2)(cols, x, C, w);
}

static void cp_fill_rows(float *y, size_t rows, size_t n, const float *b) {
    (sg_level() == SG_AVX512 ? cp_fill_rows_avx512 : cp_fill_rows_c)(y, rows, n, b);
}

static void cp_dot_rows(size_t K, const float *x, size_t ldx, size_t i0, size_t i1,
                        const float *w, size_t ldw, size_t J, float *c, size_t ci, size_t cj) {
    (sg_level() == SG_AVX512 ? sg_dot_rows : sg_dot_rows_avx2)(K, x, ldx, i0, i1, w, ldw, J, c,
                                                                ci, cj);
}

/* This thread's scratch for a task of job j, or NULL (j->failed set) without memory. */
static float *cp_scratch(cp_job *j) {
    float *work = sg_thread_buffer(j->scratch);
    if (work == NULL) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
    }
    return work;
}

/* Images [n0, n1) of the forward (a gdl_parallel_for task). */
static void cp_forward(void *arg, size_t n0, size_t n1) {
    cp_job *j = arg;
    const gdl_window *w = j->w;
    size_t K = j->C * w->kh * w->kw, P = w->OH * w->OW, O = j->O;
    float *packed = cp_scratch(j);
    if (packed == NULL) {
        return;
    }
    float *pad = packed + K * cp_ceil32(P);
    for (size_t n = n0; n < n1; n++) {
        float *y = j->y + n * O * P;
        const float *src = cp_padded(j->x + n * j->C * w->H * w->W, j->C, w, pad);
        if (w->sw == 1) {                      /* cols_n (K, P) */
            cp_copy_strips(src, j->koff, K, w, packed);
        } else {
            cp_gather_strips(src, j->koff, K, j->poff, P, packed);
        }
        if (j->b != NULL) {
            cp_fill_rows(y, O, P, j->b);
        }
        cp_gemm(O, K, P, j->Wt, K, packed, y, P, j->b != NULL);
    }
}

/* Image groups [g0, g1) of the backward (a gdl_parallel_for task): group g's images are
 * [N g / G, N (g + 1) / G), its partial gW and gb their sums in image order. */
static void cp_backward(void *arg, size_t g0, size_t g1) {
    cp_job *j = arg;
    const gdl_window *w = j->w;
    size_t K = j->C * w->kh * w->kw, P = w->OH * w->OW, O = j->O;
    float *colsT = cp_scratch(j);              /* K strips of P x 32 */
    if (colsT == NULL) {
        return;
    }
    float *gyP = colsT + cp_ceil32(K) * P;
    float *gcols = gyP + O * cp_ceil32(P), *pad = gcols + K * P;
    for (size_t g = g0; g < g1; g++) {
        size_t first = j->N * g / j->G, last = j->N * (g + 1) / j->G;
        float *gW = j->gW == NULL ? NULL : j->gW + g * O * K;
        float *gb = j->gb == NULL ? NULL : j->gb + g * O;
        for (size_t n = first; n < last; n++) {
            const float *gy = j->gy + n * O * P;
            if (gW != NULL) {
                const float *src = cp_padded(j->x + n * j->C * w->H * w->W, j->C, w, pad);
                if (w->sw == 1 && K < CP_DOT_K) {
                    /* gW (O, K) += gy_n (O, P) @ cols_n^T: each entry the dot product of a
                     * row of gy_n and a row of cols_n (K, P), where cols_n^T's one strip would
                     * be mostly padding */
                    cp_copy_rows(src, j->koff, K, w, colsT);
                    float *d = n != first ? gyP : gW;                 /* gyP: free until gx */
                    cp_dot_rows(P, gy, P, 0, O, colsT, P, K, d, K, 1);
                    for (size_t i = 0; i < O * K && d != gW; i++) {
                        gW[i] += d[i];
                    }
                } else {
                    /* cols_n (K, P) into gcols (free until gx), then packed as cols_n^T
                     * (P, K) by register transposes: gathering the strips straight from the
                     * image took 13% of bench W6b's step (Note [packed conv]) */
                    if (w->sw == 1) {
                        cp_copy_rows(src, j->koff, K, w, gcols);
                    } else {
                        gdl_im2col_f32(j->x + n * j->C * w->H * w->W, gcols, P, j->C, w);
                    }
                    sg_pack(gcols, P, K, 1, colsT);
                    cp_gemm(O, P, K, gy, P, colsT, gW, K, n != first);
                }
            }
            for (size_t o = 0; o < O && gb != NULL; o++) {
                float s = cp_sum(gy + o * P, P);
                gb[o] = n != first ? gb[o] + s : s;
            }
            if (j->gx != NULL) {
                sg_pack(gy, O, P, 0, gyP);
                cp_gemm(K, O, P, j->WtT, O, gyP, gcols, P, 0);
                cp_col2im(gcols, j->gx + n * j->C * w->H * w->W, j->C, w);
            }
        }
    }
}

/* koff (K) and poff (P) of cp_gather_strips for the window w over C channels. */
static void cp_offsets(size_t C, const gdl_window *w, int *koff, int *poff) {
    size_t Hp = w->H + 2 * w->ph, Wp = w->W + 2 * w->pw, k = 0, p = 0;
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < w->kh; i++) {
            for (size_t jj = 0; jj < w->kw; jj++) {
                koff[k++] = (int)((c * Hp + i) * Wp + jj);
            }
        }
    }
    for (size_t oh = 0; oh < w->OH; oh++) {
        for (size_t ow = 0; ow < w->OW; ow++) {
            poff[p++] = (int)(oh * w->sh * Wp + ow * w->sw);
        }
    }
}

/* The shared part of a call's memory (offsets, WtT, the groups' partial sums), kept and
 * grown across calls on this thread like sg_thread_buffer, which the tasks' scratch comes
 * from (the caller runs tasks too, so the two cannot share one buffer). */
static float *cp_shared_buffer(size_t n) {
    static __thread float *buffer = NULL;
    static __thread size_t capacity = 0;
    return sg_grown(&buffer, &capacity, n);
}

/* out (n) = the sum of the G rows of partial (G, n), in row order (so every entry's sum is
 * the same whatever ran the groups); nothing when out is NULL. */
static void cp_sum_groups(const float *partial, size_t G, size_t n, float *out) {
    if (out == NULL) {
        return;
    }
    memcpy(out, partial, n * sizeof(float));
    for (size_t g = 1; g < G; g++) {
        const float *row = partial + g * n;
        for (size_t i = 0; i < n; i++) {
            out[i] += row[i];
        }
    }
}

/* Image groups of the backward's partial sums for N images and an (O, K) weight: CP_GROUPS
 * (or N when fewer), halved while their partial gW would pass CP_MAX_PARTIALS floats, but
 * never below 2 (the count of a fixed share per thread before). It depends on the sizes only,
 * so the sums, and gW, are the same for every thread count. */
static size_t cp_groups(size_t N, size_t O, size_t K) {
    size_t G = N < CP_GROUPS ? N : CP_GROUPS;
    while (G > 2 && G * O * K > CP_MAX_PARTIALS) {
        G /= 2;
    }
    return G;
}
#endif

/* 1 after y = conv2d(x, Wt) + b by Note [packed conv]; 0 when that path does not apply
 * (nothing written) or a thread's scratch could not be had (y partly written: conv.inc's
 * path, which the caller then runs, writes all of it). */
static int conv_packed_fwd_f32(const float *x, const float *Wt, const float *b, float *y,
                               size_t N, size_t C, size_t O, const gdl_window *w) {
#ifdef SG_X86
    size_t K = C * w->kh * w->kw, P = w->OH * w->OW;
    size_t padded = C * (w->H + 2 * w->ph) * (w->W + 2 * w->pw);
    size_t per_thread = K * cp_ceil32(P) + padded;
    if (!sg_use(1) || per_thread > CP_MAX_SCRATCH || padded > INT_MAX) {
        return 0;
    }
    int *koff = (int *)cp_shared_buffer(K + P);
    if (koff == NULL) {
        return 0;
    }
    int *poff = koff + K;
    cp_offsets(C, w, koff, poff);
    cp_job job = {x, Wt, NULL, b, NULL, koff, poff, y, NULL, NULL, NULL, N, 0, C, O,
                  per_thread, w, 0};
    /* one image a task at least; one thread for a small convolution */
    gdl_parallel_for(N, N * O * K * P < SG_THREAD_WORK ? N : 1, 1, cp_forward, &job);
    return !job.failed;
#else
    (void)x, (void)Wt, (void)b, (void)y, (void)N, (void)C, (void)O, (void)w;
    return 0;
#endif
}

/* 1 after gdl_conv2d_bwd's gx, gW, gb (each may be NULL) by Note [packed conv]; 0 when that
 * path does not apply (nothing written) or a thread's scratch could not be had (gx partly
 * written: conv.inc's path, which the caller then runs, writes every output anew). */
static int conv_packed_bwd_f32(const float *x, const float *Wt, const float *gy, float *gx,
                               float *gW, float *gb, size_t N, size_t C, size_t O,
                               const gdl_window *w) {
#ifdef SG_X86
    size_t K = C * w->kh * w->kw, P = w->OH * w->OW;
    size_t padded = C * (w->H + 2 * w->ph) * (w->W + 2 * w->pw);
    size_t per_thread = cp_ceil32(K) * P + O * cp_ceil32(P) + K * P + padded;
    if (!sg_use(1) || per_thread > CP_MAX_SCRATCH || padded > INT_MAX) {
        return 0;
    }
    size_t G = cp_groups(N, O, K);
    float *shared = cp_shared_buffer(K * O + G * (O * K + O) + K + P);
    if (shared == NULL) {
        return 0;
    }
    float *WtT = shared, *partial_gW = WtT + K * O, *partial_gb = partial_gW + G * O * K;
    int *koff = (int *)(partial_gb + G * O), *poff = koff + K;
    cp_offsets(C, w, koff, poff);
    for (size_t k = 0; k < K && gx != NULL; k++) {
        for (size_t o = 0; o < O; o++) {
            WtT[k * O + o] = Wt[o * K + k];
        }
    }
    cp_job job = {x, Wt, WtT, NULL, gy, koff, poff, NULL, gx,
                  gW == NULL ? NULL : partial_gW, gb == NULL ? NULL : partial_gb, N, G, C, O,
                  per_thread, w, 0};
    size_t work = N * O * K * P * ((gx != NULL) + (gW != NULL));
    gdl_parallel_for(G, work < SG_THREAD_WORK ? G : 1, 1, cp_backward, &job);
    if (job.failed) {
        return 0;
    }
    cp_sum_groups(partial_gW, G, O * K, gW);   /* NULL-safe: a gradient not asked for */
    cp_sum_groups(partial_gb, G, O, gb);
    return 1;
#else
    (void)x, (void)Wt, (void)gy, (void)gx, (void)gW, (void)gb, (void)N, (void)C, (void)O;
    (void)w;
    return 0;
#endif
}

/* The double versions: never the packed path. */
static int conv_packed_fwd_f64(const double *x, const double *Wt, const double *b, double *y,
                               size_t N, size_t C, size_t O, const gdl_window *w) {
    (void)x, (void)Wt, (void)b, (void)y, (void)N, (void)C, (void)O, (void)w;
    return 0;
}

static int conv_packed_bwd_f64(const double *x, const double *Wt, const double *gy, double *gx,
                               double *gW, double *gb, size_t N, size_t C, size_t O,
                               const gdl_window *w) {
    (void)x, (void)Wt, (void)gy, (void)gx, (void)gW, (void)gb, (void)N, (void)C, (void)O;
    (void)w;
    return 0;
}

#endif /* GDL_CONV_PACKED_H */
