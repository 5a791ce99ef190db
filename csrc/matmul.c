/* Matrix products split among gdl's threads, each part one single-threaded BLAS call
 * (Note [split GEMM] in gdl.h). The bodies live once in matmul.inc, for float and double. */
#define _GNU_SOURCE                             /* dladdr and RTLD_NOLOAD on glibc */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include "gdl.h"

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

/* dlsym on cython_blas's own handle searches it and the libraries it loaded, so the controls
 * found belong to its BLAS, not to numpy's copy of OpenBLAS. */
static void find_controls(void) {
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
    const char *env = getenv("GDL_SPIN_US");
    long spin = env != NULL ? strtol(env, NULL, 10) : SPIN_US;
    gdl_parallel_spin(spin < 0 ? 0 : spin > 100000 ? 100000 : (size_t)spin);   /* <= 0.1 s */
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
