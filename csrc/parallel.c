/* A parallel loop over an index range on plain pthreads (Note [parallel loops] in gdl.h). */
#define _POSIX_C_SOURCE 200809L         /* pthreads and sysconf */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "gdl.h"

#define MAX_THREADS 8

static long threads = 0;                       /* 0: read the environment at the next call */

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

typedef struct {
    gdl_range_fn fn;
    void *ctx;
    size_t begin, end;
} task;

static void *run(void *arg) {
    task *t = arg;
    t->fn(t->ctx, t->begin, t->end);
    return NULL;
}

void gdl_parallel_for(size_t n, size_t grain, size_t align, gdl_range_fn fn, void *ctx) {
    size_t threads = gdl_num_threads(), most = grain == 0 ? n : n / grain;
    align = align == 0 ? 1 : align;
    threads = threads < most ? threads : most;
    if (threads <= 1) {
        fn(ctx, 0, n);
        return;
    }
    task tasks[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (size_t t = 0; t < threads; t++) {
        size_t begin = t == 0 ? 0 : n * t / threads / align * align;
        size_t end = t + 1 == threads ? n : n * (t + 1) / threads / align * align;
        task one = {fn, ctx, begin, end};
        tasks[t] = one;
    }
    for (size_t t = 1; t < threads; t++) {
        started[t] = pthread_create(&ids[t], NULL, run, &tasks[t]) == 0;
        if (!started[t]) {
            run(&tasks[t]);                    /* no thread: do its share here */
        }
    }
    run(&tasks[0]);
    for (size_t t = 1; t < threads; t++) {
        if (started[t]) {
            pthread_join(ids[t], NULL);
        }
    }
}
