/* Matrix products split among gdl's threads, each part one single-threaded BLAS call
 * (Note [split GEMM] in gdl.h). The bodies live once in matmul.inc, for float and double. */
#define _GNU_SOURCE                             /* dladdr, RTLD_NOLOAD, dl_iterate_phdr */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <link.h>
#endif
#include "gdl.h"
#include "small_gemm.h"

#define SPLIT_ALIGN 16                          /* parts start on multiples of 16 rows/columns */
/* How long the helpers watch for the next product (Note [spinning helpers]); GDL_SPIN_US
 * overrides it. */
#define SPIN_US 1000

/* The thread-count controls of the BLAS that scipy's cython_blas links. */
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static pthread_once_t found = PTHREAD_ONCE_INIT;
static void *any_gemm;                          /* the GEMM pointer whose library is searched */
static pthread_mutex_t splitting = PTHREAD_MUTEX_INITIALIZER;

/* ---- numpy's OpenBLAS (Note [numpy's BLAS] in gdl.h) ------------------------------------ */

typedef void (*sgemm64_fn)(char *, char *, int64_t *, int64_t *, int64_t *, float *, float *,
                           int64_t *, float *, int64_t *, float *, float *, int64_t *);
typedef void (*dgemm64_fn)(char *, char *, int64_t *, int64_t *, int64_t *, double *, double *,
                           int64_t *, double *, int64_t *, double *, double *, int64_t *);
static sgemm64_fn numpy_sgemm64;
static dgemm64_fn numpy_dgemm64;
static set_threads_fn numpy_set_threads;
static get_threads_fn numpy_get_threads;
static pthread_once_t numpy_searched = PTHREAD_ONCE_INIT;
static int numpy_allowed = 1;                  /* gdl_blas_allow_numpy */

#define BLAS_CANDIDATES 8                      /* loaded libraries named like an OpenBLAS */
#define BLAS_PATH_MAX 4096

#if defined(__linux__)
typedef struct {
    size_t count;
    char paths[BLAS_CANDIDATES][BLAS_PATH_MAX];
} blas_candidates;

/* Collects the loaded libraries whose file name has "openblas" in it; they are opened after
 * the walk, which holds the loader's lock. */
static int collect_openblas(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    blas_candidates *found = data;
    const char *name = info->dlpi_name;
    if (name == NULL || strstr(name, "openblas") == NULL || strlen(name) >= BLAS_PATH_MAX
        || found->count == BLAS_CANDIDATES) {
        return 0;
    }
    strcpy(found->paths[found->count++], name);
    return 0;
}
#endif

/* Finds numpy's OpenBLAS among the loaded libraries: the ILP64 build of numpy's PyPI wheels
 * (scipy-openblas64), whose symbols end in 64_. Unless GDL_BLAS=scipy. */
static void find_numpy_blas(void) {
    const char *env = getenv("GDL_BLAS");
    if (!numpy_allowed || (env != NULL && strcmp(env, "scipy") == 0)) {
        return;
    }
#if defined(__linux__)
    static blas_candidates found;              /* 32 KB: not on the caller's stack */
    found.count = 0;
    dl_iterate_phdr(collect_openblas, &found);
    for (size_t i = 0; i < found.count && numpy_sgemm64 == NULL; i++) {
        void *lib = dlopen(found.paths[i], RTLD_LAZY | RTLD_NOLOAD);
        if (lib == NULL) {
            continue;
        }
        void *s = dlsym(lib, "scipy_sgemm_64_"), *d = dlsym(lib, "scipy_dgemm_64_");
        void *set = dlsym(lib, "scipy_openblas_set_num_threads64_");
        void *get = dlsym(lib, "scipy_openblas_get_num_threads64_");
        if (s != NULL && d != NULL && set != NULL && get != NULL) {
            numpy_set_threads = (set_threads_fn)set;   /* numpy keeps the library loaded */
            numpy_get_threads = (get_threads_fn)get;
            numpy_dgemm64 = (dgemm64_fn)d;
            numpy_sgemm64 = (sgemm64_fn)s;
        }
        dlclose(lib);                           /* NOLOAD took a reference: give it back */
    }
#endif
}

/* The Fortran GEMMs with int sizes, as gdl_sgemm_t/gdl_dgemm_t, over numpy's 64-bit ones. */
static void numpy_sgemm(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                        float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                        int *ldc) {
    int64_t M = *m, N = *n, K = *k, LDA = *lda, LDB = *ldb, LDC = *ldc;
    numpy_sgemm64(transa, transb, &M, &N, &K, alpha, a, &LDA, b, &LDB, beta, c, &LDC);
}

static void numpy_dgemm(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                        double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                        int *ldc) {
    int64_t M = *m, N = *n, K = *k, LDA = *lda, LDB = *ldb, LDC = *ldc;
    numpy_dgemm64(transa, transb, &M, &N, &K, alpha, a, &LDA, b, &LDB, beta, c, &LDC);
}

static int uses_numpy_blas(void) {
    pthread_once(&numpy_searched, find_numpy_blas);
    return numpy_sgemm64 != NULL;
}

void gdl_blas_allow_numpy(int allow) {
    numpy_allowed = allow != 0;
}

gdl_sgemm_t gdl_blas_sgemm(gdl_sgemm_t given) {
    return uses_numpy_blas() ? numpy_sgemm : given;
}

gdl_dgemm_t gdl_blas_dgemm(gdl_dgemm_t given) {
    return uses_numpy_blas() ? numpy_dgemm : given;
}

int gdl_blas_is_numpys(void) {
    return uses_numpy_blas();
}

/* Has this module's helpers watch for the next product (Note [spinning helpers]). */
static void set_spin(void) {
    const char *env = getenv("GDL_SPIN_US");
    long spin = env != NULL ? strtol(env, NULL, 10) : SPIN_US;
    gdl_parallel_spin(spin < 0 ? 0 : spin > 100000 ? 100000 : (size_t)spin);   /* <= 0.1 s */
}

/* set_spin, once: before the first loop of any path, the split's, the packed or the narrow
 * one (with the packed path alone, helpers that slept at once made a 100 x 100 x 100
 * product's step 85 us instead of 51). */
static void start_watching(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, set_spin);
}

/* The thread-count controls of the BLAS the GEMMs call: numpy's (Note [numpy's BLAS]), or the
 * one scipy's cython_blas loaded. dlsym on cython_blas's own handle searches it and the
 * libraries it loaded, so the controls found there belong to its BLAS. */
static void find_controls(void) {
    start_watching();
    if (uses_numpy_blas()) {
        set_threads = numpy_set_threads;
        get_threads = numpy_get_threads;
        return;
    }
    static const char *names[][2] = {
        {"scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"},   /* scipy wheels */
        {"openblas_set_num_threads", "openblas_get_num_threads"},               /* OpenBLAS */
    };
    Dl_info info;
    if (any_gemm == NULL || dladdr(any_gemm, &info) == 0 || info.dli_fname == NULL) {
        return;
    }
    void *lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
    if (lib == NULL) {
        return;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        void *set = dlsym(lib, names[i][0]), *get = dlsym(lib, names[i][1]);
        if (set != NULL && get != NULL) {
            set_threads = (set_threads_fn)set;
            get_threads = (get_threads_fn)get;
            break;
        }
    }
    dlclose(lib);                               /* NOLOAD took a reference: give it back */
}

int gdl_matmul_can_split(void *gemm) {
    if (any_gemm == NULL) {
        any_gemm = gemm;                        /* a benign race: every caller passes scipy's */
    }
    pthread_once(&found, find_controls);
    return set_threads != NULL;
}

int gdl_matmul_blas_threads(void) {
    return get_threads != NULL ? get_threads() : -1;
}

/* 2 when the product is split, else 1. The count depends on the sizes only, never on the
 * thread count, so every GDL_NUM_THREADS gives the same numbers: one thread runs both parts. */
static size_t split_parts(void *gemm, size_t M, size_t N, size_t K) {
    size_t macs = M * N * K, longest = M > N ? M : N;
    if (macs < GDL_MATMUL_SPLIT_MIN || macs >= GDL_MATMUL_SPLIT_MAX
        || longest < 2 * SPLIT_ALIGN) {
        return 1;
    }
    return gdl_matmul_can_split(gemm) ? 2 : 1;
}

/* Whether a product that is not split runs with the BLAS held to one thread (Note [one-thread
 * GEMM]). */
static int one_thread(void *gemm, size_t M, size_t N, size_t K) {
    size_t macs = M * N * K;
    return macs >= GDL_MATMUL_ONE_THREAD_MIN && macs < GDL_MATMUL_SPLIT_MIN
           && gdl_matmul_can_split(gemm);
}

/* Runs the product's parts on the pool with the BLAS at one thread, then restores its count.
 * A product started while this module splits another runs its parts on the calling thread
 * with the BLAS as it is: the same calls, perhaps with the BLAS's own threads. */
static void run_split(size_t parts, gdl_range_fn fn, void *ctx) {
    if (pthread_mutex_trylock(&splitting) != 0) {
        fn(ctx, 0, parts);
        return;
    }
    int before = get_threads();
    if (before != 1) {
        set_threads(1);
    }
    gdl_parallel_for(parts, 1, 1, fn, ctx);
    if (before != 1) {
        set_threads(before);
    }
    pthread_mutex_unlock(&splitting);
}

/* ---- the packed float path (Note [packed GEMM]) --------------------------------------- */

#define PACKED_ROWS 128                         /* rows of op(A) multiplied together, at most */
#define PACKED_KC 256                           /* the k block: 32 KB of a strip, for L1 */
/* Fewer rows than this and packing op(B) (0.15 ns a float) costs more than it saves: each packed
 * float serves a multiply-add (0.003-0.004 ns on two cores) for every row. Those stay the BLAS's
 * (Note [packed GEMM]: 16 rows lost, 32 gained). */
#define PACKED_MIN_ROWS 32
/* Products of Note [narrow GEMM]'s packed form have at least this many rows. */
#define NARROW_MIN_ROWS 64
/* A strip is 32 columns: narrower products would multiply mostly its zero padding. */
#define PACKED_MIN_COLUMNS 16
/* Products with a side of C, or the inner length, below this may be narrow (Note [narrow
 * GEMM]). */
#define NARROW_SIDE 16
/* Products with K below NARROW_SIDE and at least this many entries of C stay the BLAS's. */
#define NARROW_MAX_C ((size_t)1 << 22)
/* Dot products shorter than this cost more in their sums across lanes than in multiplies:
 * (100000, 8) x (10, 8)^T took 0.9-1.4 ms as dot products, 0.3-0.4 in the BLAS. */
#define NARROW_DOT_MIN_K 256
/* Rows of C up to which B is streamed by rows (Note [narrow GEMM]), and the columns of C a
 * streamed task takes at most (their rows stay in L1). */
#define STREAM_MAX_ROWS 10
#define STREAM_CHUNK 256

/* The forms of Note [narrow GEMM]. */
typedef enum { NARROW_NONE, NARROW_DOT, NARROW_STREAM, NARROW_PACKED } narrow_form;

#ifdef SG_X86

typedef struct {
    size_t M, N, K, parts;
    const float *A, *B;                        /* op(A)[r, k] at A[r ldx + k xk] */
    size_t ldx, xk;
    int trans_b, by_rows;                      /* parts: shares of the rows, or of the strips */
    int dot_tail;                              /* the last strip as dot products (see below) */
    float *C;
    int failed;                                /* atomic: a part had no buffer */
} packed_product;

/* The cost of a strip `width` wide, in hundredths of a full one (FULL): sg_strip_rows multiplies
 * a strip up to 8 wide in 256-bit halves of registers, up to 16 in one register a row, which
 * took 0.50 and 0.60 of a full strip's time ((128, 784) by 4 to 32 columns, one thread). */
#define FULL 100
static size_t strip_cost(size_t width) {
    return width <= 8 ? 50 : width <= 16 ? 60 : FULL;
}

/* Note [packed GEMM]'s dot tail: with op(A) = A and op(B) = B^T, C's last columns, when at
 * most DOT_TAIL_MAX of them are left past the last full strip and K is at least
 * NARROW_DOT_MIN_K, are dot products of rows of A and rows of B (sg_dot_rows, as in Note
 * [narrow GEMM]) instead of a mostly padded strip: (100, 784) x (100, 784)^T ends with 4. */
#define DOT_TAIL_MAX 8

/* The last strip's cost, as strip_cost: as dot products, (128, 784) by 1, 2, 4 and 8 rows of B
 * took 0.09, 0.13, 0.21 and 0.39 of a full strip's time. */
static size_t last_cost(const packed_product *p) {
    return p->dot_tail ? 5 + 4 * (p->N % SG_STRIP) : strip_cost(p->N % SG_STRIP);
}

/* The place of cost w in the product walked strip by strip, each strip's row blocks (of 8) in
 * order: *s the strip, *r the first row of the block there. */
static void packed_place(const packed_product *p, size_t w, size_t *s, size_t *r) {
    size_t blocks = (p->M + 7) / 8, full = p->N / SG_STRIP;   /* strips of cost FULL */
    if (w < full * FULL * blocks) {
        *s = w / (FULL * blocks);
        *r = w % (FULL * blocks) / FULL * 8;
    } else {
        size_t last = last_cost(p);
        *s = full;
        *r = (w - full * FULL * blocks) / last * 8;
    }
    if (*r >= p->M) {                          /* the end of a strip: the next one's start */
        *s += 1;
        *r = 0;
    }
}

/* Rows [*a, *b) of strip s in the row group [g, g1) of a part from row r0 of strip s0 to row r1
 * of strip s1 (of every strip when by_rows); *a >= *b when none. */
static void group_rows(int by_rows, size_t s, size_t s0, size_t r0, size_t s1, size_t r1,
                       size_t g, size_t g1, size_t *a, size_t *b) {
    *a = (by_rows || s == s0) && r0 > g ? r0 : g;
    *b = g + PACKED_ROWS < g1 ? g + PACKED_ROWS : g1;
    *b = s == s1 && r1 < *b ? r1 : *b;
}

/* Parts [begin, end): part i multiplies the i-th of `parts` equal shares of the product's cost
 * (strip after strip, each strip's rows in order). It packs its strips itself, into its own
 * buffer (in L2 for what follows: packed on one thread and multiplied on another, (100, 784) x
 * (100, 784)^T took 94 us instead of 66-72 on two threads), then multiplies groups of at most
 * PACKED_ROWS rows by them, k block by k block, so that the rows' block stays in L2 and a
 * strip's block in L1. */
static void packed_task(void *ctx, size_t begin, size_t end) {
    packed_product *p = ctx;
    size_t M = p->M, N = p->N, K = p->K, ldx = p->ldx, xk = p->xk;
    size_t blocks = (M + 7) / 8, full = N / SG_STRIP, strips = (N + SG_STRIP - 1) / SG_STRIP;
    size_t tail = p->dot_tail ? strips - 1 : strips;         /* no strip when none */
    size_t total = blocks * (full * FULL + (N % SG_STRIP > 0 ? last_cost(p) : 0));
    for (size_t part = begin; part < end; part++) {
        size_t s0, r0, s1, r1;                 /* from row r0 of strip s0 to row r1 of s1 */
        if (p->by_rows) {                      /* rows [r0, r1) of every strip */
            s0 = 0, s1 = strips;
            r0 = part * blocks / p->parts * 8, r1 = (part + 1) * blocks / p->parts * 8;
            r1 = r1 < M ? r1 : M;
        } else {
            packed_place(p, part * total / p->parts, &s0, &r0);
            packed_place(p, (part + 1) * total / p->parts, &s1, &r1);
        }
        size_t last = s1 < strips && r1 > 0 ? s1 + 1 : s1;     /* strips [s0, last) */
        if (s0 >= last || r0 >= (p->by_rows ? r1 : M)) {
            continue;
        }
        float *P = sg_thread_buffer((last - s0) * SG_STRIP * K);
        if (P == NULL) {
            __atomic_store_n(&p->failed, 1, __ATOMIC_RELAXED);
            return;
        }
        for (size_t s = s0; s < last && s != tail; s++) {
            sg_pack_strip(p->B, K, N, p->trans_b, s, P + (s - s0) * SG_STRIP * K);
        }
        int one = p->by_rows || s0 + 1 == last;   /* all its strips' rows from r0 to r1 */
        size_t g0 = one ? r0 : 0, g1 = one && r1 > 0 ? r1 : M;
        for (size_t g = g0; g < g1; g += PACKED_ROWS) {
            for (size_t k0 = 0; k0 < K; k0 += PACKED_KC) {
                size_t kc = K - k0 < PACKED_KC ? K - k0 : PACKED_KC;
                for (size_t s = s0; s < last && s != tail; s++) {
                    size_t a, b;
                    group_rows(p->by_rows, s, s0, r0, s1, r1, g, g1, &a, &b);
                    if (a >= b) {
                        continue;
                    }
                    size_t n0 = s * SG_STRIP, width = N - n0 < SG_STRIP ? N - n0 : SG_STRIP;
                    sg_strip_rows(b - a, kc, p->A + a * ldx + k0 * xk, ldx, xk,
                                  P + (s - s0) * SG_STRIP * K + k0 * SG_STRIP,
                                  p->C + a * N + n0, N, width, k0 > 0);
                }
            }
            if (tail >= s0 && tail < last) {   /* C's last columns: rows of A . rows of B */
                size_t a, b, n0 = tail * SG_STRIP;
                group_rows(p->by_rows, tail, s0, r0, s1, r1, g, g1, &a, &b);
                if (a < b) {
                    sg_dot_rows(K, p->A, K, a, b, p->B + n0 * K, K, N - n0, p->C + n0, N, 1);
                }
            }
        }
    }
}

/* C = op(A) op(B) by Note [packed GEMM]: 1, or 0 when the kernels do not run on this CPU or a
 * thread's buffer could not be had (C is then to be written afresh). */
static int packed_matmul(int trans_a, int trans_b, const float *A, const float *B, float *C,
                         size_t M, size_t N, size_t K) {
    if (!sg_use(1)) {
        return 0;
    }
    int dot_tail = !trans_a && trans_b && N % SG_STRIP != 0 && N % SG_STRIP <= DOT_TAIL_MAX
                   && K >= NARROW_DOT_MIN_K;
    packed_product p = {M, N, K, gdl_num_threads(), A, B, trans_a ? 1 : K, trans_a ? M : 1,
                        trans_b, M > N, dot_tail, C, 0};
    gdl_parallel_for(p.parts, 1, 1, packed_task, &p);
    return !__atomic_load_n(&p.failed, __ATOMIC_RELAXED);
}

/* ---- the narrow float path (Note [narrow GEMM]) ---------------------------------------- */

typedef struct {
    size_t rows, K, J;                         /* rows of X, their length, rows of Y */
    const float *X, *Y;
    float *C;                                  /* X_i . Y_j at C + i ci + j cj */
    size_t ci, cj;
} dot_product;

/* Pairs [begin, end) of X's rows against every row of Y (sg_dot_rows). */
static void dot_task(void *ctx, size_t begin, size_t end) {
    const dot_product *d = ctx;
    size_t i1 = 2 * end < d->rows ? 2 * end : d->rows;
    sg_dot_rows(d->K, d->X, d->K, 2 * begin, i1, d->Y, d->K, d->J, d->C, d->ci, d->cj);
}

/* C = A B^T, A (M, K) and B (N, K) row-major, M or N below NARROW_SIDE: each entry one dot
 * product of two rows, the longer side's rows in pairs against all of the shorter's. */
static void narrow_dot_matmul(const float *A, const float *B, float *C, size_t M, size_t N,
                              size_t K) {
    dot_product d = N <= M ? (dot_product){M, K, N, A, B, C, N, 1}
                           : (dot_product){N, K, M, B, A, C, 1, N};
    size_t pairs = (d.rows + 1) / 2;
    if (M * N * K < SG_THREAD_WORK) {
        dot_task(&d, 0, pairs);
    } else {
        gdl_parallel_for(pairs, 1, 1, dot_task, &d);
    }
}

typedef struct {
    size_t M, N, K, chunk;                     /* tasks: chunks of `chunk` columns of C */
    const float *A, *B;
    size_t am, ak;                             /* op(A)[m, k] at A[m am + k ak] */
    float *C;
} stream_product;

/* The four scalars op(A)[m, k + i] for i < rows (rows <= 4), broadcast; 0 past rows. */
__attribute__((target("avx512f")))
static inline void stream_coefficients(const stream_product *p, size_t m, size_t k, size_t rows,
                                       __m512 a[4]) {
    const float *at = p->A + m * p->am + k * p->ak;
    for (size_t i = 0; i < 4; i++) {
        a[i] = _mm512_set1_ps(i < rows ? at[i * p->ak] : 0.0f);
    }
}

/* C[:, n0:n1] = op(A) B for few rows of C, B read four rows at a time along the chunk's
 * columns, each vector of them used for two rows of C: every entry of C is a chain of FMAs over
 * k in order, the chunk of C (at most 10 x 256 floats) staying in L1 from one block of four
 * rows to the next. Rows of B past K (rows < 4) are multiplied by 0, never read; an odd last
 * row of C is its own pair, the second copy not stored. */
__attribute__((target("avx512f")))
static void stream_task(void *ctx, size_t begin, size_t end) {
    const stream_product *p = ctx;
    size_t M = p->M, N = p->N, K = p->K;
    for (size_t t = begin; t < end; t++) {
        size_t n0 = t * p->chunk, n1 = n0 + p->chunk < N ? n0 + p->chunk : N;
        for (size_t k = 0; k < K; k += 4) {
            size_t rows = K - k < 4 ? K - k : 4;
            const float *b = p->B + k * N;
            for (size_t m = 0; m < M; m += 2) {
                int pair = m + 1 < M;
                __m512 a[4], e[4];
                stream_coefficients(p, m, k, rows, a);
                stream_coefficients(p, pair ? m + 1 : m, k, rows, e);
                float *c = p->C + m * N, *d = p->C + (pair ? m + 1 : m) * N;
                for (size_t n = n0; n < n1; n += 16) {
                    __mmask16 mask = n1 - n >= 16 ? (__mmask16)0xFFFF
                                                  : (__mmask16)((1u << (n1 - n)) - 1);
                    __m512 x = k == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, c + n);
                    __m512 y = k == 0 ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(mask, d + n);
                    for (size_t i = 0; i < 4; i++) {
                        __m512 bi = i < rows ? _mm512_maskz_loadu_ps(mask, b + i * N + n)
                                             : _mm512_setzero_ps();
                        x = _mm512_fmadd_ps(a[i], bi, x);
                        y = _mm512_fmadd_ps(e[i], bi, y);
                    }
                    if (pair) {
                        _mm512_mask_storeu_ps(d + n, mask, y);
                    }
                    _mm512_mask_storeu_ps(c + n, mask, x);
                }
            }
        }
    }
}

/* C = op(A) B, B (K, N) row-major, for C of at most STREAM_MAX_ROWS rows (stream_task). */
static void narrow_stream_matmul(int trans_a, const float *A, const float *B, float *C,
                                 size_t M, size_t N, size_t K) {
    size_t chunk = (N + 1) / 2;                 /* two tasks at least, ... */
    chunk = (chunk + 15) / 16 * 16;             /* ... of whole vectors, ... */
    chunk = chunk < STREAM_CHUNK ? chunk : STREAM_CHUNK;   /* ... their C in L1 */
    stream_product p = {M, N, K, chunk, A, B, trans_a ? 1 : K, trans_a ? M : 1, C};
    size_t tasks = (N + chunk - 1) / chunk;
    if (M * N * K < SG_THREAD_WORK) {
        stream_task(&p, 0, tasks);
    } else {
        gdl_parallel_for(tasks, 1, 1, stream_task, &p);
    }
}

/* Which form of Note [narrow GEMM] a float product takes, NARROW_NONE if it is not narrow. */
static narrow_form narrow_takes(int trans_a, int trans_b, size_t M, size_t N, size_t K) {
    size_t macs = M * N * K;
    int dot = trans_b && K >= NARROW_DOT_MIN_K && (M < NARROW_SIDE || N < NARROW_SIDE);
    if (macs < GDL_MATMUL_ONE_THREAD_MIN) {
        return NARROW_NONE;
    }
    if (macs < GDL_MATMUL_SPLIT_MIN) {          /* only the dot products gain there */
        return !trans_a && dot ? NARROW_DOT : NARROW_NONE;
    }
    if (!trans_b && M <= STREAM_MAX_ROWS) {
        return NARROW_STREAM;                   /* rows of B streamed: either op(A) */
    }
    if (trans_a) {
        return NARROW_NONE;
    }
    if (trans_b) {
        return dot ? NARROW_DOT : NARROW_NONE;
    }
    return M >= NARROW_MIN_ROWS && (N < NARROW_SIDE || (K < NARROW_SIDE && M * N < NARROW_MAX_C))
               ? NARROW_PACKED
               : NARROW_NONE;
}

static int narrow_matmul(int trans_a, int trans_b, const float *A, const float *B, float *C,
                         size_t M, size_t N, size_t K) {
    switch (sg_level() == SG_AVX512 ? narrow_takes(trans_a, trans_b, M, N, K) : NARROW_NONE) {
        case NARROW_DOT:
            narrow_dot_matmul(A, B, C, M, N, K);
            return 1;
        case NARROW_STREAM:
            narrow_stream_matmul(trans_a, A, B, C, M, N, K);
            return 1;
        case NARROW_PACKED:
            return packed_matmul(trans_a, 0, A, B, C, M, N, K);
        default:
            return 0;
    }
}
#else
static int packed_matmul(int trans_a, int trans_b, const float *A, const float *B, float *C,
                         size_t M, size_t N, size_t K) {
    (void)trans_a, (void)trans_b, (void)A, (void)B, (void)C, (void)M, (void)N, (void)K;
    return 0;                                  /* the kernels are x86-64 only */
}

static narrow_form narrow_takes(int trans_a, int trans_b, size_t M, size_t N, size_t K) {
    (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K;
    return NARROW_NONE;
}

static int narrow_matmul(int trans_a, int trans_b, const float *A, const float *B, float *C,
                         size_t M, size_t N, size_t K) {
    (void)trans_a, (void)trans_b, (void)A, (void)B, (void)C, (void)M, (void)N, (void)K;
    return 0;
}
#endif

static int packed_allowed = 1;                 /* gdl_matmul_allow_packed */

int gdl_matmul_allow_packed(int allow) {
    int before = packed_allowed;
    packed_allowed = allow != 0;
    return before;
}

/* Whether a float product of these sizes is the packed path's (Note [packed GEMM]): on
 * AVX-512 only, where its kernel beats the BLAS. */
static int packed_takes(int trans_a, size_t M, size_t N, size_t K) {
    size_t macs = M * N * K;
    return packed_allowed && sg_level() == SG_AVX512 && macs >= GDL_MATMUL_PACKED_MIN
           && macs < GDL_MATMUL_SPLIT_MAX && M >= PACKED_MIN_ROWS && N >= PACKED_MIN_COLUMNS
           && (!trans_a || M * K <= GDL_MATMUL_PACKED_MAX_A_T);
}

/* The packed path's share of gdl_matmul_f32. */
static int try_packed_f32(int trans_a, int trans_b, const float *A, const float *B, float *C,
                          size_t M, size_t N, size_t K) {
    start_watching();
    return narrow_matmul(trans_a, trans_b, A, B, C, M, N, K)
           || (packed_takes(trans_a, M, N, K)
               && packed_matmul(trans_a, trans_b, A, B, C, M, N, K));
}

static int try_packed_f64(int trans_a, int trans_b, const double *A, const double *B,
                          double *C, size_t M, size_t N, size_t K) {
    (void)trans_a, (void)trans_b, (void)A, (void)B, (void)C, (void)M, (void)N, (void)K;
    return 0;                                  /* no packed double kernel */
}

int gdl_matmul_path(void *gemm, int is_float, int trans_a, int trans_b, size_t M, size_t N,
                    size_t K) {
    if (M == 0 || N == 0 || K == 0) {
        return 0;
    }
    if (is_float && narrow_takes(trans_a, trans_b, M, N, K) != NARROW_NONE
        && sg_level() == SG_AVX512) {
        return 3;
    }
    if (is_float && packed_takes(trans_a, M, N, K) && sg_use(1)) {
        return 2;
    }
    return split_parts(gemm, M, N, K) > 1 ? 1 : 0;
}

#define T float
#define FN(name) name##_f32
#define GEMM_T gdl_sgemm_t
#include "matmul.inc"
#undef T
#undef FN
#undef GEMM_T

#define T double
#define FN(name) name##_f64
#define GEMM_T gdl_dgemm_t
#include "matmul.inc"
#undef T
#undef FN
#undef GEMM_T
