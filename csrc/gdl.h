/* gdl's compiled kernels: every declaration with its contract.
 *
 * Conventions (Note [kernel contract]):
 * - Arrays are C-contiguous, row-major, and of the dtype the suffix names (_f32: float,
 *   _f64: double). Shapes are given as size_t counts; a count may be 0 unless said otherwise.
 * - Arguments were checked by the Cython wrapper (src/<family>.pyx): kernels trust them, never
 *   allocate, never touch Python, and may run with the GIL released.
 * - Outputs never alias inputs unless the declaration says they may.
 */
#ifndef GDL_H
#define GDL_H

#include <stddef.h>
#include <stdint.h>

/* ---- BLAS, passed in by the caller ---------------------------------------------------------
 * Note [BLAS by pointer]: kernels that need a matrix product inside a compiled loop (an LSTM
 * over a sequence, a convolution's column matrix) take the Fortran GEMM as a function pointer,
 * so the C library links no BLAS of its own. The Cython wrappers pass the one gdl_blas_sgemm/
 * gdl_blas_dgemm choose (numpy's OpenBLAS or scipy.linalg.cython_blas's sgemm/dgemm, Note
 * [numpy's BLAS]: column-major, arguments by pointer). A row-major
 * C = A B is computed as the column-major C^T = B^T A^T. */
typedef void (*gdl_sgemm_t)(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                            float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                            int *ldc);
typedef void (*gdl_dgemm_t)(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                            double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                            int *ldc);

/* Note [numpy's BLAS]: numpy's PyPI wheels bundle their own OpenBLAS (ILP64, symbols ending in
 * 64_), often newer than scipy's: numpy 2.4.6 carries 0.3.31, scipy 1.17.1 0.3.30, and on a Zen 3
 * guest (AVX2, one thread, fastest of 30 x 10 calls) numpy's took 194 us for (100, 784) x (784,
 * 100) against 229, 1200 against 1352 for (128, 784) x (784, 512), 787 against 888 for (128,
 * 512) x (512, 512), 3101 against 3186 for 512^3. So gdl's GEMMs call numpy's copy when the
 * process has it loaded (found once among the loaded libraries named like an OpenBLAS, with its
 * sgemm, dgemm and thread controls), through shims that widen the int sizes, and scipy's
 * cython_blas otherwise, or always with GDL_BLAS=scipy, or when numpy was imported before gdl
 * without OPENBLAS_THREAD_TIMEOUT (its idle threads would spin after each of gdl's products,
 * Note [OpenBLAS spin]; scipy's library gets the setting when gdl loads it). */

/* The GEMM gdl's kernels call: numpy's OpenBLAS behind an int-sized shim when it is loaded
 * (Note [numpy's BLAS]), else `given` (scipy's cython_blas sgemm/dgemm). */
gdl_sgemm_t gdl_blas_sgemm(gdl_sgemm_t given);
gdl_dgemm_t gdl_blas_dgemm(gdl_dgemm_t given);

/* allow = 0 keeps this module on the caller's BLAS: numpy's OpenBLAS spins (it was loaded
 * before `import gdl` set OPENBLAS_THREAD_TIMEOUT, Note [OpenBLAS spin]). Takes effect only
 * before this module's first gdl_blas_sgemm/gdl_blas_dgemm/gdl_matmul_can_split. */
void gdl_blas_allow_numpy(int allow);

/* 1 when gdl_blas_sgemm/gdl_blas_dgemm return numpy's OpenBLAS, 0 when the caller's. */
int gdl_blas_is_numpys(void);

/* ---- threads -------------------------------------------------------------------------------
 * Note [parallel loops]: the elementwise kernels (activations, dropout), pooling, the optimizer
 * updates and the packed GEMMs (Note [small-batch GEMM]) split their work among
 * gdl_num_threads() threads, only work of at least `grain` entries per thread (for the
 * elementwise kernels 2^17: two threads lost to one below about 140,000 floats and won from
 * 300,000). The count is GDL_NUM_THREADS, else OMP_NUM_THREADS, else the online CPUs, 1 to 8,
 * read once per module. Each entry's result depends on its index only (dropout's randomness
 * included, Note [dropout randomness]), so results are the same for every thread count.
 *
 * Note [thread pool]: the helpers are started once (per module: each links its own copy of
 * parallel.c) and sleep on a condition variable between loops; waking one costs about 18 us
 * here, starting and joining a thread 43-50 us. A loop is cut into 4 chunks per thread that
 * the calling thread and the helpers claim one at a time, and the caller waits only for chunks
 * a helper has begun. So a helper that cannot get a CPU soon costs almost nothing: numpy's
 * OpenBLAS keeps its own threads spinning for a while after each matrix product, and with a
 * fixed share per thread (the earlier design) the caller waited for its helper to be scheduled
 * past them: an SGD step on 262,144 floats took 955 us on two threads, 166 on one, right after
 * a BLAS product. Helpers never spin. After fork() the child starts its own helpers. */
typedef void (*gdl_range_fn)(void *ctx, size_t begin, size_t end);

size_t gdl_num_threads(void);

/* Sets the count gdl_num_threads returns (at most 8; 0: read the environment again). Every
 * extension module links its own copy of this file, so gdl.set_num_threads calls each one's
 * (src/threads.pxi). Call it between kernel calls, not during one. */
void gdl_set_num_threads(size_t n);

/* fn(ctx, begin, end) over disjoint ranges covering [0, n), on this thread and the pool's
 * (Note [thread pool]), possibly several ranges per thread; n / grain threads at most (one
 * range when n < 2 grain), the boundaries between ranges on multiples of align (16 floats:
 * threads never write to one cache line). A loop started inside another, or while another
 * thread runs one, runs on the calling thread alone. */
void gdl_parallel_for(size_t n, size_t grain, size_t align, gdl_range_fn fn, void *ctx);

/* Helpers of this module's pool watch for the next loop for `microseconds` after each one
 * before they sleep (Note [spinning helpers]); 0, the default, sleeps at once. */
void gdl_parallel_spin(size_t microseconds);

/* The packed kernels (Note [small-batch GEMM], Note [packed conv]) this CPU runs, by Note
 * [kernel levels] in small_gemm.h: 2 with AVX-512F, 1 with AVX2 and FMA (the narrow products
 * stay the BLAS's), 0 without either, when not built by GCC or Clang for x86-64, or when
 * GDL_SMALL_GEMM is "0". */
int gdl_packed_kernels(void);

/* ---- matmul: a matrix product split among threads ---------------------------------------
 * Note [split GEMM]: OpenBLAS's own threads gain little on a book-sized layer: (100, 784) @
 * (784, 100) took 175-191 us on one thread and 140-180 on two (AMD EPYC, 2 cores, OpenBLAS
 * 0.3.30). Cut into two halves of the output, each a single-threaded OpenBLAS call on one of
 * gdl's threads, it takes 100-115 us in C (111-125 us from Python). A multithreaded OpenBLAS
 * called from two threads at once serializes its callers and spins: 4.0 ms for those halves.
 * So for the duration of a split gdl sets the BLAS's thread count to 1 through its own control
 * (numpy's OpenBLAS's, Note [numpy's BLAS], or else found in the library scipy's cython_blas
 * loaded; OpenBLAS's "_local" variant sets the same global count) and restores it
 * afterwards: the one place a BLAS is called inside a parallel region. The longer side of C
 * is cut in two, so no part sums with another, whatever the thread count (one thread runs
 * both halves): every GDL_NUM_THREADS gives the same numbers. A product below 2^21
 * multiply-adds, from 2^27 on (where OpenBLAS's own threads scale, and a machine with more
 * cores would lose them), with both sides of C shorter than 32, or with a BLAS without the
 * control (not OpenBLAS) is one ordinary call. A product started while this
 * module splits another runs both halves on its own thread with the BLAS as it is.
 *
 * Note [spinning helpers]: waking a sleeping helper took 33-70 us on average here (a
 * condition variable on a 2-vCPU VM; 18 us on an earlier machine), most of a 100 us half, so
 * the caller often ran both halves itself. The matmul module's helpers (its pool only: the
 * split, packed and narrow products; set before the first of any of them, or the packed path
 * alone ran with helpers asleep, 100^3 forward and backward 85 us instead of 51) watch for the
 * next product for GDL_SPIN_US microseconds (default 1,000) before sleeping,
 * calling sched_yield between looks so any other runnable thread gets the core. Interleaved
 * in one process (median of 9 blocks, ms per step), no split / split with 300 us / 1,000 us
 * of watching: W1 0.534 / 0.483 / 0.420, W2 0.498 / 0.393 / 0.379, W6a 3.98 / 3.53 / 3.40;
 * W3, W5, W6b, W6c within the machine's noise of no split. */

/* Note [packed GEMM]: on AVX-512 a float32 product from GDL_MATMUL_PACKED_MIN multiply-adds (every
 * product gdl.ops sends to the kernels, Note [one-thread GEMM]) to GDL_MATMUL_SPLIT_MAX, with at
 * least 32 rows and 16 columns of C (fewer rows, and packing op(B) costs more than it saves;
 * fewer columns, and most of a strip is padding) and, with op(A) transposed, an A of at most
 * GDL_MATMUL_PACKED_MAX_A_T entries, runs on the recurrent layers' register-blocked kernel (Note
 * [small-batch GEMM]) instead of the BLAS. The product's cost (a strip of 32 columns times a block
 * of 8 rows; a last strip up to 8 or 16 wide 0.5 or 0.6 of one) is cut into one equal share a
 * thread: a run of strips, a strip's rows in order, or, for C taller than wide, a run of rows of
 * every strip (each thread then reads only its rows of op(A)). Each thread packs the strips it
 * multiplies into its own buffer (a transposed operand by 16 x 16 register transposes, a plain
 * one by masked copies), so they are in its L2 when it multiplies them; then groups of at most
 * 128 rows of op(A), read in place (transposed too: the kernel takes both strides), by each
 * strip, k block (256) by k block, so the rows' block stays in L2 and a strip's in L1. With
 * op(A) = A, op(B) = B^T and K >= 256, a last strip of at most 8 columns (a 100-wide layer ends
 * with 4) is dot products of rows of A and B instead (the dot tail, matmul.c: 0.21 of a full
 * strip's time for 4 columns, where the padded strip took 0.5; in bench W2's step its layer
 * took 73 us instead of 82). Each output is one sum in an order fixed by the shape, whatever
 * the share it fell in, so every thread count gives the same numbers; GDL_SMALL_GEMM=0 turns
 * it off.
 *
 * It replaced a scheme that packed all of op(B) in one parallel loop and then multiplied in
 * tasks of row groups x strip chunks: a strip packed by one core and multiplied by the other
 * came from that core's cache, and on two threads (100, 784) x (100, 784)^T took 94 us against
 * 110 on one. Measured on an AVX-512 Intel guest, 2 vCPUs (numpy sgemm 2048^3 307-338 GFLOP/s),
 * fastest of 5 x 20 calls, median of 8 rounds, packed / numpy's OpenBLAS as halves or one call,
 * us: the book's (100, 784) x (100, 784)^T 75 / 103 and gW (100, 100)^T x (100, 784) 55 / 75;
 * W6a's (128, 784) x (512, 784)^T 343 / 446, (128, 512) x (512, 512) 209 / 252, gW2 233 / 324,
 * gW1 362 / 417; 100^3 10-11 / 13-20; 32 rows: (32, 512) x (512, 512)^T 70 / 129; tall,
 * (3000, 600) x (64, 600)^T 685 / 903. Shared by strips, that last one took 888 (each thread
 * read all of op(A)). Packed lost at 16 rows ((2000, 16)^T x (2000, 1000) 487 / 435); with op(A)
 * transposed and long ((250, 1000)^T and (1000, 250)^T as op(A)) it took 1.05-1.25 of the BLAS's
 * time (the kernel's 8 rows of op(A) a step are 8 floats of
 * 256 cache lines); and from 2^27 (2048^3 73 ms / 55, 1024^3 9.2 / 7.1: op(A) read again for
 * every strip), which stay the BLAS's. The no-transpose pack was a memcpy of 128 bytes a row,
 * 0.45 ns a float inside the product ((128, 512) x (512, 512): 120 of its 490 us on one thread);
 * as masked copies it is 0.15. Without AVX-512 (Note [kernel levels] in small_gemm.h) the
 * products are the BLAS's: on a Zen 3 guest, two threads, the AVX2 build of the earlier scheme
 * took 1.04-1.23 of the time of the BLAS halves on numpy's OpenBLAS (Note [numpy's BLAS]) for
 * bench W1's gW and W6a's five products. */

/* Note [narrow GEMM]: a product with one side under 16 is memory-bound, and the BLAS spends it
 * packing: bench W3's dense layer, (128, 10000) x (10, 10000)^T, took 0.34 ms as BLAS halves,
 * 12.8 M multiply-adds at 75 GFLOP/s. On AVX-512, from GDL_MATMUL_SPLIT_MIN multiply-adds, a
 * float32 product is narrow when
 *   - op(A) = A, op(B) = B^T, K >= 256 and C has fewer than 16 columns or rows (this form from
 *     GDL_MATMUL_ONE_THREAD_MIN: bench W6a's output layer, (128, 512) x (10, 512)^T, 30 us as
 *     one BLAS call, 15 us so, arrays aligned by Note [aligned arrays]; the other forms lost
 *     below the split size, its gW 15.5 -> 25.7 us as B streamed, before that alignment): each
 *     entry is the dot product of a row of A and a row of B, both contiguous. The longer
 *     side's rows go in pairs against at most 8 rows of the shorter at a time, 16 lanes a sum
 *     (k in order, the last K % 16 masked), added across at the end; pairs are the tasks.
 *     W3's layer 0.25 ms; (1, 16384) x (1100, 16384)^T 2.0 ms against 11.6 (the BLAS packs
 *     the 72 MB B for one row); shorter sums cost more in the adds across lanes than in
 *     multiplies ((100000, 8) x (10, 8)^T 0.9-1.4 ms against 0.3-0.4);
 *   - op(B) = B and C has at most 10 rows (a classifier's gW = gy^T x), op(A) either way: B is
 *     streamed by rows, four at a time, along chunks of at most 256 columns of C (the tasks),
 *     each vector of B used for two rows of C, whose chunk stays in L1; each entry a chain of
 *     FMAs over k in order. W3's gW, (10, 128)^T x (128, 10000), 0.33 -> 0.20 ms; (1, 256) x
 *     (256, 8192) 0.47 -> 0.10; (8, 4096) x (4096, 4096) 7.9 -> 5.3; (9, 2000) x (2000, 1000)
 *     0.51 either way, and with 15 rows it lost (0.77 -> 0.94 for (15, 1000)^T x (1000,
 *     2000)): the BLAS's from 11 rows on;
 *   - op(A) = A, op(B) = B, C has at least 64 rows, and fewer than 16 columns or an inner
 *     length under 16 (C under 2^22 entries): the packed path's kernel and shares (Note
 *     [packed GEMM]). (1400, 1000) x (1000, 12) 0.27 ms against 0.36, (256, 8) x
 *     (8, 4096) 0.16 against 0.27; W3's gx, (128, 10) x (10, 10000), 0.24 either way.
 * Measured and left to the BLAS (fastest of 20-400 calls in three alternating processes, AMD
 * EPYC, 2 threads): transposed A with many rows ((3000, 1000)^T x (1000, 6): 1.74 ms against
 * 1.25), a C of 2^22 entries from an inner length of 8 (1.36 against 0.99), and (tried first)
 * B read in 32-column strips straight down K for few rows of C (strided rows a power of two
 * apart thrash the caches: (1, 256) x (256, 8192) 5x slower). Each entry is one task's sum, so
 * every thread count gives the same numbers; GDL_SMALL_GEMM=0 turns it off. */

/* Products of fewer multiply-adds than this run as one call: the helper's wake-up and the
 * second packing of the shared operand cost more than half of a smaller product. From
 * GDL_MATMUL_SPLIT_MAX on OpenBLAS's own threads scale (2048^3: 191-200 GFLOP/s on 2 cores),
 * and a machine with more cores than two parts would lose them: one call. */
#define GDL_MATMUL_SPLIT_MIN ((size_t)1 << 21)
#define GDL_MATMUL_SPLIT_MAX ((size_t)1 << 27)
/* Note [one-thread GEMM]: OpenBLAS threads a product from 2^18 multiply-adds (4 x its 65,536
 * threshold) and wakes its workers for it. So a product from GDL_MATMUL_ONE_THREAD_MIN to
 * GDL_MATMUL_SPLIT_MIN is one call with the BLAS held to one thread (as a split holds it), and
 * gdl.ops sends its 2-D float products from this size here rather than to numpy's OpenBLAS. That
 * matters most in a program that imported numpy before gdl: numpy's OpenBLAS then keeps its
 * default spin (Note [OpenBLAS spin] in gdl/__init__.py), and its idle worker took the core
 * gdl's helpers needed for ~10 ms after each such product. Alternating processes (median of 7
 * block medians), numpy imported first: W6a (three products of 2^19.3 a step) 3.51-5.16 -> 2.75-
 * 3.11 ms, W6b 17.6-20.8 -> 10.1-12.1; gdl imported first, as the benchmark runner does: W6a
 * 2.95-3.14 -> 2.85-3.02, W6b 10.6-11.1 -> 9.7-11.3 (within the noise). */
#define GDL_MATMUL_ONE_THREAD_MIN ((size_t)1 << 18)
/* Float products from this size to GDL_MATMUL_SPLIT_MAX run packed (Note [packed GEMM]): every
 * product gdl.ops sends to the kernels; with op(A) transposed, only while A has at most
 * GDL_MATMUL_PACKED_MAX_A_T entries. */
#define GDL_MATMUL_PACKED_MIN ((size_t)1 << 18)
#define GDL_MATMUL_PACKED_MAX_A_T ((size_t)1 << 17)

/* 1 when products can be split: gemm's library (scipy's cython_blas) exposes OpenBLAS's
 * thread-count control. Looked up once. */
int gdl_matmul_can_split(void *gemm);

/* How gdl_matmul runs a product of these sizes and flags (is_float: float, else double): 3
 * narrow (Note [narrow GEMM]), 2 packed (Note [packed GEMM]); both unless a buffer cannot be
 * had), 1 split in halves, 0 one BLAS call. */
int gdl_matmul_path(void *gemm, int is_float, int trans_a, int trans_b, size_t M, size_t N,
                    size_t K);

/* Turns the packed path of gdl_matmul_f32 (Note [packed GEMM]) off (0) or back on (1, the
 * default) in this module, for paired timings in one process; returns the previous setting. */
int gdl_matmul_allow_packed(int allow);

/* The BLAS's thread count through the control gdl_matmul_can_split found; -1 without one. */
int gdl_matmul_blas_threads(void);

/* C (M, N) = op(A) @ op(B), all row-major and contiguous: op(A) is A (M, K), or A^T for
 * A (K, M) when trans_a; op(B) is B (K, N), or B^T for B (N, K) when trans_b. C is overwritten
 * and aliases neither; M, N, K may be 0 (K = 0: C is zeros); M N, N K and M K fit an int.
 * gemm is scipy's sgemm/dgemm (Note [BLAS by pointer]). */
void gdl_matmul_f32(gdl_sgemm_t gemm, int trans_a, int trans_b, const float *A, const float *B,
                    float *C, size_t M, size_t N, size_t K);
void gdl_matmul_f64(gdl_dgemm_t gemm, int trans_a, int trans_b, const double *A,
                    const double *B, double *C, size_t M, size_t N, size_t K);

/* ---- memory: aligned blocks for numpy's arrays --------------------------------------------
 * Note [aligned arrays]: glibc's malloc returns 16-byte aligned blocks, so numpy's arrays may
 * start 16, 32 or 48 bytes into a cache line (its mmap'ed blocks always 16 here), and every
 * 64-byte vector load the kernels make of them spans two lines. On an AVX-512 Intel guest, 2
 * threads, median of 15 alternating rounds, arrays 64-byte aligned against 16 past a line:
 * bench W6a's products 0.87-0.93 of the time ((128, 784) x (512, 784)^T 357 / 386 us, gW2
 * 234 / 268), its (128, 512) x (10, 512)^T dot products 12.7 / 23.3 us; whole steps (bench,
 * alternating runs) W3 2.99-3.00 ms against 3.18-3.46, W6a 2.20-2.23 against 2.22-2.31, W1,
 * W2, W6b within the noise. So gdl installs these functions as numpy's allocator (NumPy's
 * PyDataMem_SetHandler, NEP 49) when it is imported, in the importing thread's context: each
 * block starts on a GDL_ALIGN-byte boundary, its raw pointer and size in the 16 bytes below.
 * GDL_ALIGNED_ARRAYS=0 leaves numpy's allocator as it is. They are numpy's PyDataMemAllocator
 * functions: ctx is unused, realloc keeps the contents up to the smaller size (or, failing,
 * the block as it was), free takes any block they returned, and NULL. */
#define GDL_ALIGN 64
void *gdl_aligned_malloc(void *ctx, size_t size);
void *gdl_aligned_calloc(void *ctx, size_t count, size_t size);
void *gdl_aligned_realloc(void *ctx, void *block, size_t size);
void gdl_aligned_free(void *ctx, void *block, size_t size);

/* ---- softmax: over the last axis of a (rows, cols) matrix ------------------------------- */

/* y[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max)); rows may be 0, cols >= 1.
 * y may alias x. */
void gdl_softmax_fwd_f32(const float *x, float *y, size_t rows, size_t cols);
void gdl_softmax_fwd_f64(const double *x, double *y, size_t rows, size_t cols);

/* gx[r, :] = y[r, :] * (gy[r, :] - sum(gy[r, :] * y[r, :])), from the saved output y. */
void gdl_softmax_bwd_f32(const float *y, const float *gy, float *gx, size_t rows, size_t cols);
void gdl_softmax_bwd_f64(const double *y, const double *gy, double *gx, size_t rows,
                         size_t cols);

/* y[r, :] = x[r, :] - max - log(sum(exp(x[r, :] - max))); y may alias x. */
void gdl_log_softmax_fwd_f32(const float *x, float *y, size_t rows, size_t cols);
void gdl_log_softmax_fwd_f64(const double *x, double *y, size_t rows, size_t cols);

/* gx[r, :] = gy[r, :] - exp(y[r, :]) * sum(gy[r, :]), from the saved output y. */
void gdl_log_softmax_bwd_f32(const float *y, const float *gy, float *gx, size_t rows,
                             size_t cols);
void gdl_log_softmax_bwd_f64(const double *y, const double *gy, double *gx, size_t rows,
                             size_t cols);

/* Fused softmax cross-entropy. x: (rows, cols) logits, labels: rows indices in [0, cols).
 * Writes p = softmax(x) (rows, cols; backward needs it) and returns the mean over rows of
 * -log p[r, labels[r]], computed as logsumexp - x so that it stays finite. rows >= 1. */
double gdl_softmax_xent_fwd_f32(const float *x, const int64_t *labels, float *p, size_t rows,
                                size_t cols);
double gdl_softmax_xent_fwd_f64(const double *x, const int64_t *labels, double *p, size_t rows,
                                size_t cols);

/* gx = (p - onehot(labels)) * gloss / rows, where gloss is the upstream gradient of the mean
 * loss. gx may alias p. rows >= 1. */
void gdl_softmax_xent_bwd_f32(const float *p, const int64_t *labels, double gloss, float *gx,
                              size_t rows, size_t cols);
void gdl_softmax_xent_bwd_f64(const double *p, const int64_t *labels, double gloss, double *gx,
                              size_t rows, size_t cols);

/* Binary cross-entropy of probabilities p against targets t (n entries each): returns the sum
 * of -(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch's BCELoss, in
 * double; or NaN, with *bad the first entry's index, when some p is outside [0, 1] or NaN
 * (*bad is -1 otherwise). */
double gdl_bce_fwd_f32(const float *p, const float *t, size_t n, int64_t *bad);
double gdl_bce_fwd_f64(const double *p, const double *t, size_t n, int64_t *bad);

/* gp = scale (p - t) / max(p (1 - p), 1e-12): the gradient of the summed loss times scale. */
void gdl_bce_bwd_f32(const float *p, const float *t, double scale, float *gp, size_t n);
void gdl_bce_bwd_f64(const double *p, const double *t, double scale, double *gp, size_t n);

/* ---- activation: elementwise over n entries (any shape, flattened) ---------------------- */

/* y = 1 / (1 + exp(-x)), arranged so that exp never overflows. y may alias x. */
void gdl_sigmoid_fwd_f32(const float *x, float *y, size_t n);
void gdl_sigmoid_fwd_f64(const double *x, double *y, size_t n);

/* gx = gy * y * (1 - y), from the saved output y. gx may alias gy. */
void gdl_sigmoid_bwd_f32(const float *y, const float *gy, float *gx, size_t n);
void gdl_sigmoid_bwd_f64(const double *y, const double *gy, double *gx, size_t n);

/* y = tanh(x). y may alias x. */
void gdl_tanh_fwd_f32(const float *x, float *y, size_t n);
void gdl_tanh_fwd_f64(const double *x, double *y, size_t n);

/* gx = gy * (1 - y * y), from the saved output y. gx may alias gy. */
void gdl_tanh_bwd_f32(const float *y, const float *gy, float *gx, size_t n);
void gdl_tanh_bwd_f64(const double *y, const double *gy, double *gx, size_t n);

/* y = max(x, 0); a NaN in x stays NaN. y may alias x. */
void gdl_relu_fwd_f32(const float *x, float *y, size_t n);
void gdl_relu_fwd_f64(const double *x, double *y, size_t n);

/* gx = gy where y > 0, else 0, from the saved output y. gx may alias gy. */
void gdl_relu_bwd_f32(const float *y, const float *gy, float *gx, size_t n);
void gdl_relu_bwd_f64(const double *y, const double *gy, double *gx, size_t n);

/* ---- dropout: inverted dropout over n entries, counter-based randomness ----------------- */

/* mask[i] = 1 (kept) when uniform(seed, i) >= p, else 0; y = x * mask / (1 - p).
 * uniform(seed, i) in [0, 1) depends only on (seed, i) (Note [dropout randomness] in
 * dropout.c), so a mask is reproducible. 0 <= p < 1; p == 0 keeps everything. y may alias x. */
void gdl_dropout_fwd_f32(const float *x, double p, uint64_t seed, float *y, uint8_t *mask,
                         size_t n);
void gdl_dropout_fwd_f64(const double *x, double p, uint64_t seed, double *y, uint8_t *mask,
                         size_t n);

/* gx = gy * mask / (1 - p), where a nonzero mask entry means kept. gx may alias gy. */
void gdl_dropout_bwd_f32(const float *gy, const uint8_t *mask, double p, float *gx, size_t n);
void gdl_dropout_bwd_f64(const double *gy, const uint8_t *mask, double p, double *gx,
                         size_t n);

/* ---- embedding: row gather and scatter-add over a (V, D) table W ------------------------ */

/* out[i, :] = W[idx[i], :] for i < n; idx holds n indices in [0, V); out is (n, D). */
void gdl_embedding_fwd_f32(const float *W, const int64_t *idx, float *out, size_t n,
                           size_t D);
void gdl_embedding_fwd_f64(const double *W, const int64_t *idx, double *out, size_t n,
                           size_t D);

/* gW[idx[i], :] += gy[i, :] for i < n, in order: repeated indices accumulate and rows not in
 * idx are untouched. gy is (n, D) and does not overlap gW. */
void gdl_embedding_bwd_f32(float *gW, const int64_t *idx, const float *gy, size_t n,
                           size_t D);
void gdl_embedding_bwd_f64(double *gW, const int64_t *idx, const double *gy, size_t n,
                           size_t D);

/* out[b, :] = sum over l < L of W[idx[b, l], :]; idx is (B, L), out is (B, D). L may be 0
 * (out is zeros). */
void gdl_embedding_bag_fwd_f32(const float *W, const int64_t *idx, float *out, size_t B,
                               size_t L, size_t D);
void gdl_embedding_bag_fwd_f64(const double *W, const int64_t *idx, double *out, size_t B,
                               size_t L, size_t D);

/* gW[idx[b, l], :] += gy[b, :] for every (b, l); gy is (B, D) and does not overlap gW. */
void gdl_embedding_bag_bwd_f32(float *gW, const int64_t *idx, const float *gy, size_t B,
                               size_t L, size_t D);
void gdl_embedding_bag_bwd_f64(double *gW, const int64_t *idx, const double *gy, size_t B,
                               size_t L, size_t D);

/* ---- optim: parameter updates in place over n entries ----------------------------------- */

/* PyTorch's SGD without dampening or Nesterov: d = g + weight_decay * w; when v (the momentum
 * buffer, zeros before the first step) is not NULL, v = momentum * v + d and d = v;
 * then w -= lr * d. Pass v = NULL for plain SGD. No array overlaps another. */
void gdl_sgd_step_f32(float *w, const float *g, float *v, size_t n, double lr, double momentum,
                      double weight_decay);
void gdl_sgd_step_f64(double *w, const double *g, double *v, size_t n, double lr,
                      double momentum, double weight_decay);

/* PyTorch's Adam (not AdamW), step >= 1 counting this one: d = g + weight_decay * w;
 * m = beta1 * m + (1 - beta1) * d; v = beta2 * v + (1 - beta2) * d * d;
 * w -= lr * mhat / (sqrt(vhat) + eps), mhat = m / (1 - beta1^step), vhat = v / (1 - beta2^step).
 * 0 <= beta1, beta2 < 1. No array overlaps another. */
void gdl_adam_step_f32(float *w, const float *g, float *m, float *v, size_t n, int64_t step,
                       double lr, double beta1, double beta2, double eps, double weight_decay);
void gdl_adam_step_f64(double *w, const double *g, double *m, double *v, size_t n,
                       int64_t step, double lr, double beta1, double beta2, double eps,
                       double weight_decay);

/* Sparse-row SGD: W[rows[k], :] -= lr * gR[k / group, :] for k < n, in order (a repeated row
 * takes every update). W is (V, D), rows holds n indices in [0, V), group >= 1 divides n, gR
 * is (n / group, D): one gradient row for each group of consecutive rows, as an embedding
 * bag's gradient (a bag's every word gets the bag's row) without repeating it. */
void gdl_sgd_rows_step_f32(float *W, const int64_t *rows, const float *gR, size_t n,
                           size_t group, size_t D, double lr);
void gdl_sgd_rows_step_f64(double *W, const int64_t *rows, const double *gR, size_t n,
                           size_t group, size_t D, double lr);

/* ---- conv, pool: convolution and pooling (NCHW) ------------------------------------------ */

/* A window sliding over one (H, W) plane: a kh x kw kernel moved by (sh, sw) >= 1 over the
 * plane zero-padded by ph rows and pw columns on each side, giving an (OH, OW) plane with
 * OH = (H + 2 ph - kh) / sh + 1 and OW likewise. The wrappers checked kh <= H + 2 ph and
 * kw <= W + 2 pw, so OH, OW >= 1. */
typedef struct {
    size_t H, W, kh, kw, sh, sw, ph, pw, OH, OW;
} gdl_window;

/* Note [conv as GEMM]: x is (N, C, H, W), the weight Wt (O, C, kh, kw), y (N, O, OH, OW);
 * K = C kh kw and P = OH OW. For each chunk of g <= chunk images, im2col lays the columns of
 * the g images side by side in cols (K, g P), and out (O, g P) = Wt (O, K) @ cols is one GEMM
 * (gemm: scipy's sgemm/dgemm, Note [BLAS by pointer]), then scattered into y. A small chunk
 * keeps the scratch in cache; a large one makes fewer threaded BLAS calls, which wins on a busy
 * machine. The caller picks chunk >= 1 (Note [conv BLAS path] in src/conv.pyx) and keeps the
 * scratch across calls. Every product of the sizes fits an int. */

/* cols (K, P) of one image x (C, H, W), row r starting at cols + r ld (ld >= P):
 * cols[(c, i, j), (oh, ow)] = x[c, oh sh + i - ph, ow sw + j - pw], 0 outside the plane. */
void gdl_im2col_f32(const float *x, float *cols, size_t ld, size_t C, const gdl_window *w);
void gdl_im2col_f64(const double *x, double *cols, size_t ld, size_t C, const gdl_window *w);

/* The adjoint of im2col: x (C, H, W) = the sum of every cols entry (rows ld apart) at the x
 * position it was read from (x is overwritten; padding entries are dropped). */
void gdl_col2im_f32(const float *cols, size_t ld, float *x, size_t C, const gdl_window *w);
void gdl_col2im_f64(const double *cols, size_t ld, double *x, size_t C, const gdl_window *w);

/* y = conv2d(x, Wt) + b[o] for N >= 1 images (Note [conv as GEMM]); b may be NULL (no bias).
 * Scratch: cols (K, chunk P) and out (O, chunk P). */
void gdl_conv2d_fwd_f32(gdl_sgemm_t gemm, const float *x, const float *Wt, const float *b,
                        float *y, float *cols, float *out, size_t N, size_t C, size_t O,
                        size_t chunk, const gdl_window *w);
void gdl_conv2d_fwd_f64(gdl_dgemm_t gemm, const double *x, const double *Wt, const double *b,
                        double *y, double *cols, double *out, size_t N, size_t C, size_t O,
                        size_t chunk, const gdl_window *w);

/* Backward of gdl_conv2d_fwd from x, Wt and the upstream gy (N, O, OH, OW): writes (overwrites)
 * gx (N, C, H, W), gW (O, C, kh, kw) and gb (O); each may be NULL when not wanted. Scratch:
 * gyT (O, chunk P); cols (K, chunk P) when gW is wanted, gcols (K, chunk P) when gx is. */
void gdl_conv2d_bwd_f32(gdl_sgemm_t gemm, const float *x, const float *Wt, const float *gy,
                        float *gx, float *gW, float *gb, float *cols, float *gyT, float *gcols,
                        size_t N, size_t C, size_t O, size_t chunk, const gdl_window *w);
void gdl_conv2d_bwd_f64(gdl_dgemm_t gemm, const double *x, const double *Wt, const double *gy,
                        double *gx, double *gW, double *gb, double *cols, double *gyT,
                        double *gcols, size_t N, size_t C, size_t O, size_t chunk,
                        const gdl_window *w);

/* Pooling runs over planes (H, W) planes of x, (N C) of them, into (OH, OW) planes of y.
 * Max pooling treats padding as -inf; the wrappers checked ph <= kh / 2 and pw <= kw / 2, so
 * every window holds a real entry. argmax[p, oh, ow] is the flat index (h W + w) in plane p of
 * the first largest entry of its window (a NaN counts as largest); H W fits an int32. */
void gdl_maxpool2d_fwd_f32(const float *x, float *y, int32_t *argmax, size_t planes,
                           const gdl_window *w);
void gdl_maxpool2d_fwd_f64(const double *x, double *y, int32_t *argmax, size_t planes,
                           const gdl_window *w);

/* gx (overwritten) = gy routed to the saved argmax positions, overlapping windows summed. */
void gdl_maxpool2d_bwd_f32(const float *gy, const int32_t *argmax, float *gx, size_t planes,
                           const gdl_window *w);
void gdl_maxpool2d_bwd_f64(const double *gy, const int32_t *argmax, double *gx, size_t planes,
                           const gdl_window *w);

/* y = the sum of each window divided by kh kw, padding counted as zeros (PyTorch's
 * count_include_pad=True). */
void gdl_avgpool2d_fwd_f32(const float *x, float *y, size_t planes, const gdl_window *w);
void gdl_avgpool2d_fwd_f64(const double *x, double *y, size_t planes, const gdl_window *w);

/* gx (overwritten) = each gy / (kh kw) spread over its window's real entries. */
void gdl_avgpool2d_bwd_f32(const float *gy, float *gx, size_t planes, const gdl_window *w);
void gdl_avgpool2d_bwd_f64(const double *gy, double *gx, size_t planes, const gdl_window *w);

/* ---- rnn, lstm: recurrent cells and whole sequences --------------------------------------- */

/* Layout shared by both families: a sequence x is (steps, B, D), time-major; W_ih is
 * (gates * H, D), W_hh (gates * H, H), b (gates * H), with gates 1 (RNN) or 4 (LSTM), so
 * that a step is x_t W_ih^T + h_{t-1} W_hh^T + b. The hidden states are kept as hs
 * (steps + 1, B, H): hs[0] = h0 is set by the caller, step t writes hs[t + 1], and backward
 * reads hs[0:steps] as every step's h_{t-1}. steps, B, D, H >= 1, and every product of them
 * the GEMMs see fits an int. gemm is scipy's sgemm/dgemm (Note [BLAS by pointer]). Nothing
 * aliases anything else. */

/* The vanilla RNN's nonlinearity: h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b). */
enum gdl_rnn_act { GDL_RNN_TANH = 0, GDL_RNN_SIGMOID = 1, GDL_RNN_RELU = 2 };

/* RNN forward over all steps; hs[0] = h0 on entry, hs[1:] the outputs on exit. */
void gdl_rnn_fwd_f32(gdl_sgemm_t gemm, int act, const float *x, const float *W_ih,
                     const float *W_hh, const float *b, float *hs, size_t steps, size_t B,
                     size_t D, size_t H);
void gdl_rnn_fwd_f64(gdl_dgemm_t gemm, int act, const double *x, const double *W_ih,
                     const double *W_hh, const double *b, double *hs, size_t steps, size_t B,
                     size_t D, size_t H);

/* RNN backward from the saved hs. gh (steps, B, H) is the upstream gradient of hs[1:] (the
 * final state's included). Writes gh0 (B, H), gW_ih, gW_hh, gb (overwritten) and gx
 * (steps, B, D; skipped when NULL); dA (steps, B, H) is scratch. */
void gdl_rnn_bwd_f32(gdl_sgemm_t gemm, int act, const float *x, const float *W_ih,
                     const float *W_hh, const float *hs, const float *gh, float *gh0,
                     float *gx, float *gW_ih, float *gW_hh, float *gb, float *dA, size_t steps,
                     size_t B, size_t D, size_t H);
void gdl_rnn_bwd_f64(gdl_dgemm_t gemm, int act, const double *x, const double *W_ih,
                     const double *W_hh, const double *hs, const double *gh, double *gh0,
                     double *gx, double *gW_ih, double *gW_hh, double *gb, double *dA,
                     size_t steps, size_t B, size_t D, size_t H);

/* Note [LSTM gate order]: the 4H gate rows of W_ih, W_hh, b and of the gates G are, in
 * order, i (input), f (forget), g (candidate), o (output), each H wide, as in PyTorch:
 * i, f, o = sigmoid(.), g = tanh(.), c = f * c_prev + i * g, h = o * tanh(c). */

/* One LSTM step's elementwise part on G (B, 4H), which holds x W_ih^T + h W_hh^T + b on entry
 * and the activated gates on exit (backward needs them); writes c and h (B, H). */
void gdl_lstm_cell_fwd_f32(float *G, const float *c_prev, float *c, float *h, size_t B,
                           size_t H);
void gdl_lstm_cell_fwd_f64(double *G, const double *c_prev, double *c, double *h, size_t B,
                           size_t H);

/* Backward of gdl_lstm_cell_fwd from its activated G, c_prev and c: gh and gc (B, H) are the
 * upstream gradients of h and c; writes dG (B, 4H), the gradient of the preactivations, and
 * replaces gc with the gradient of c_prev. */
void gdl_lstm_cell_bwd_f32(const float *G, const float *c_prev, const float *c,
                           const float *gh, float *gc, float *dG, size_t B, size_t H);
void gdl_lstm_cell_bwd_f64(const double *G, const double *c_prev, const double *c,
                           const double *gh, double *gc, double *dG, size_t B, size_t H);

/* LSTM forward over all steps: hs[0], cs[0] = h0, c0 on entry; G (steps, B, 4H) receives the
 * activated gates, hs[1:] and cs[1:] every step's h and c. x may be NULL (W_ih and D are then
 * unused): G holds x W_ih^T, the input projection without the bias, on entry (Note [lookup
 * into LSTM] in python/gdl/ops/rnn.py). */
void gdl_lstm_fwd_f32(gdl_sgemm_t gemm, const float *x, const float *W_ih, const float *W_hh,
                      const float *b, float *G, float *hs, float *cs, size_t steps, size_t B,
                      size_t D, size_t H);
void gdl_lstm_fwd_f64(gdl_dgemm_t gemm, const double *x, const double *W_ih,
                      const double *W_hh, const double *b, double *G, double *hs, double *cs,
                      size_t steps, size_t B, size_t D, size_t H);

/* LSTM backward from the saved G, hs, cs. gh (steps, B, H) is the upstream gradient of hs[1:]
 * (the final state's included); gc (B, H) is that of cs[steps] on entry and of c0 on exit.
 * Writes gh0 (B, H), gW_ih, gW_hh, gb (overwritten) and gx (steps, B, D; skipped when NULL);
 * dG (steps, B, 4H) receives the gradient of the preactivations. x may be NULL (W_ih, D, gx
 * and gW_ih are then unused): the caller takes the input's gradients from dG. */
void gdl_lstm_bwd_f32(gdl_sgemm_t gemm, const float *x, const float *W_ih, const float *W_hh,
                      const float *G, const float *hs, const float *cs, const float *gh,
                      float *gc, float *gh0, float *gx, float *gW_ih, float *gW_hh, float *gb,
                      float *dG, size_t steps, size_t B, size_t D, size_t H);
void gdl_lstm_bwd_f64(gdl_dgemm_t gemm, const double *x, const double *W_ih,
                      const double *W_hh, const double *G, const double *hs, const double *cs,
                      const double *gh, double *gc, double *gh0, double *gx, double *gW_ih,
                      double *gW_hh, double *gb, double *dG, size_t steps, size_t B, size_t D,
                      size_t H);

#endif /* GDL_H */
