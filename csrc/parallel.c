/* A parallel loop over an index range on a small pool of pthreads (Note [parallel loops] and
 * Note [thread pool] in gdl.h). */
#define _POSIX_C_SOURCE 200809L         /* pthreads and sysconf */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "gdl.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define MAX_THREADS 8
#define CHUNKS_PER_THREAD 4                    /* shares a late helper can still take */

static long threads = 0;                       /* 0: read the environment at the next call */
static long spin_ns = 0;                       /* how long a helper watches for the next loop */

void gdl_parallel_spin(size_t microseconds) {
    spin_ns = (long)microseconds * 1000;
}

void gdl_set_num_threads(size_t n) {
    threads = n == 0 ? 0 : n > MAX_THREADS ? MAX_THREADS : (long)n;
}

size_t gdl_num_threads(void) {
    if (threads == 0) {                        /* a benign race: every thread writes the same */
        const char *env = getenv("GDL_NUM_THREADS");
        if (env == NULL) {
            env = getenv("OMP_NUM_THREADS");
        }
#ifdef _SC_NPROCESSORS_ONLN                    /* not POSIX: hidden on some systems */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
#else
        long cpus = 1;
#endif
        long n = env != NULL ? strtol(env, NULL, 10) : cpus;
        threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
    }
    return (size_t)threads;
}

/* One loop: chunks of [0, n) claimed one at a time by whoever is free. */
typedef struct {
    gdl_range_fn fn;
    void *ctx;
    size_t n, chunk;
    size_t next;                               /* atomic: the start of the next unclaimed chunk */
    int inside;                                /* atomic: helpers working on this loop */
    size_t helpers;                            /* workers 1..helpers may take part */
} loop;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    unsigned long generation;                  /* the lock guards these three */
    loop *current;
    size_t started;
    int busy;                                  /* atomic: a loop is being run */
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, 0, 0};

static void run_chunks(loop *l) {
    for (;;) {
        size_t begin = __atomic_fetch_add(&l->next, l->chunk, __ATOMIC_RELAXED);
        if (begin >= l->n) {
            return;
        }
        size_t end = l->n - begin < l->chunk ? l->n : begin + l->chunk;
        l->fn(l->ctx, begin, end);
    }
}

static long elapsed_ns(const struct timespec *since) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - since->tv_sec) * 1000000000L + (t.tv_nsec - since->tv_nsec);
}

/* Note [spinning helpers]: waits up to spin_ns for a loop after generation `seen`, yielding
 * the core to any other runnable thread between looks. */
static void watch(unsigned long seen) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (__atomic_load_n(&pool.generation, __ATOMIC_ACQUIRE) == seen) {
        for (int i = 0; i < 64; i++) {
            cpu_relax();
        }
        if (elapsed_ns(&start) > spin_ns) {
            return;
        }
        sched_yield();
    }
}

/* A worker sleeps until a loop is posted, takes chunks until none are left and sleeps again,
 * after watching for the next loop for spin_ns when its module asked (Note [spinning helpers]
 * in gdl.h; by default it does not, so that it takes no CPU from numpy's own BLAS threads). */
static void *worker(void *arg) {
    size_t index = (size_t)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool.lock);
    seen = pool.generation;
    for (;;) {
        if (spin_ns > 0 && pool.generation == seen) {
            pthread_mutex_unlock(&pool.lock);
            watch(seen);
            pthread_mutex_lock(&pool.lock);
        }
        while (pool.generation == seen) {
            pthread_cond_wait(&pool.wake, &pool.lock);
        }
        seen = pool.generation;
        loop *l = pool.current;
        if (l == NULL || index > l->helpers) {
            continue;                          /* finished already, or not asked */
        }
        __atomic_add_fetch(&l->inside, 1, __ATOMIC_ACQ_REL);   /* under the lock: see below */
        pthread_mutex_unlock(&pool.lock);
        run_chunks(l);
        __atomic_sub_fetch(&l->inside, 1, __ATOMIC_ACQ_REL);
        pthread_mutex_lock(&pool.lock);
    }
    return NULL;
}

/* A forked child has none of the parent's workers: start afresh. */
static void forget_workers(void) {
    pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
    pool.lock = lock;
    pool.wake = wake;
    pool.current = NULL;
    pool.started = 0;
    pool.busy = 0;
}

/* Workers 1..wanted exist (as many as could be started); called by the loop's owner. */
static size_t start_workers(size_t wanted) {
    static int registered = 0;
    if (!registered) {
        registered = pthread_atfork(NULL, NULL, forget_workers) == 0;
        if (!registered) {
            return 0;                          /* a fork could not reset the pool: no workers */
        }
    }
    pthread_attr_t attr;
    if (pool.started >= wanted || pthread_attr_init(&attr) != 0) {
        return pool.started;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (pool.started < wanted) {
        pthread_t id;
        if (pthread_create(&id, &attr, worker, (void *)(pool.started + 1)) != 0) {
            break;
        }
        pool.started++;
    }
    pthread_attr_destroy(&attr);
    return pool.started;
}

void gdl_parallel_for(size_t n, size_t grain, size_t align, gdl_range_fn fn, void *ctx) {
    size_t threads = gdl_num_threads(), most = grain == 0 ? n : n / grain;
    align = align == 0 ? 1 : align;
    threads = threads < most ? threads : most;
    int idle = 0;
    if (threads <= 1 || !__atomic_compare_exchange_n(&pool.busy, &idle, 1, 0, __ATOMIC_ACQUIRE,
                                                     __ATOMIC_RELAXED)) {
        fn(ctx, 0, n);                         /* small, or another loop runs: this thread */
        return;
    }
    size_t helpers = start_workers(threads - 1);
    size_t chunk = (n + threads * CHUNKS_PER_THREAD - 1) / (threads * CHUNKS_PER_THREAD);
    chunk = (chunk + align - 1) / align * align;
    loop l = {fn, ctx, n, chunk, 0, 0, helpers < threads - 1 ? helpers : threads - 1};
    if (l.helpers > 0) {
        pthread_mutex_lock(&pool.lock);
        pool.current = &l;
        __atomic_add_fetch(&pool.generation, 1, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_chunks(&l);
    if (l.helpers > 0) {
        /* Withdraw the loop: a worker joins (inside + 1) only under the lock while it is
         * posted, so after this every helper that will touch l is counted in inside. */
        pthread_mutex_lock(&pool.lock);
        pool.current = NULL;
        pthread_mutex_unlock(&pool.lock);
        for (unsigned spins = 0; __atomic_load_n(&l.inside, __ATOMIC_ACQUIRE) > 0; spins++) {
            if (spins > 1000) {
                sched_yield();                 /* a helper mid-chunk, descheduled */
            } else {
                cpu_relax();
            }
        }
    }
    __atomic_store_n(&pool.busy, 0, __ATOMIC_RELEASE);
}
