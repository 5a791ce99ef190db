/* A team of threads that stays together over many short phases, meeting at a spinning barrier
 * between them (Note [thread team]). Header-only, static; included by lstm.c. */
#ifndef GDL_TEAM_H
#define GDL_TEAM_H

#include <stddef.h>

#include "gdl.h"

/* Note [thread team]: an LSTM's sequence is a chain of short steps (the book's: 25 steps of
 * 0.4-0.8 ms), and every step needs the whole previous hidden state: the threads must meet
 * between steps. Starting and joining threads at each step costs 43-50 us each time, and the
 * elementwise cell ran on one thread between products. A team is started once per sequence;
 * each member owns a share of the hidden units for the whole sequence (its columns of every
 * product and its units of every cell update) and the members meet at a barrier once per step:
 * a shared counter that the last arrival resets and a generation number the others spin on
 * (about 1 us a step for two threads), yielding the CPU after a while so that an
 * oversubscribed machine still makes progress. GCC/Clang atomics; elsewhere the team is one
 * thread. */

#define TEAM_MAX 8

typedef struct {
    int arrived;
    int generation;
    int size;
    int go;                                    /* 1: all members started, -1: give up */
} gdl_team;

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>

/* Spins (then yields) until *flag != value. */
static void team_wait_while(const int *flag, int value) {
    for (unsigned spins = 0; __atomic_load_n(flag, __ATOMIC_ACQUIRE) == value; spins++) {
        if (spins < 1000) {                   /* about 50 us of pause instructions */
            _mm_pause();
        } else {
            sched_yield();                     /* more threads than cores: let others run */
        }
    }
}

/* Every member waits here until all `size` have arrived. */
static void team_barrier(gdl_team *team) {
    if (team->size <= 1) {
        return;
    }
    int generation = __atomic_load_n(&team->generation, __ATOMIC_ACQUIRE);
    if (__atomic_add_fetch(&team->arrived, 1, __ATOMIC_ACQ_REL) == team->size) {
        __atomic_store_n(&team->arrived, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&team->generation, generation + 1, __ATOMIC_RELEASE);
        return;
    }
    team_wait_while(&team->generation, generation);
}

typedef struct {
    gdl_team *team;
    void (*fn)(void *ctx, size_t member, size_t size);
    void *ctx;
    size_t member;
} team_member;

static void *team_start(void *arg) {
    team_member *m = arg;
    team_wait_while(&m->team->go, 0);
    if (__atomic_load_n(&m->team->go, __ATOMIC_ACQUIRE) > 0) {
        m->fn(m->ctx, m->member, (size_t)m->team->size);
    }
    return NULL;
}

/* fn(ctx, member, size) on `size` threads (this one is member 0), fn calling team_barrier on
 * the team in ctx. The members start only once every thread exists; if one cannot be
 * started, the others leave and this thread runs fn(ctx, 0, 1) alone, so fn must work for
 * any size. */
static void team_run(gdl_team *team, size_t size, void (*fn)(void *, size_t, size_t),
                     void *ctx) {
    pthread_t ids[TEAM_MAX];
    team_member members[TEAM_MAX];
    size = size < 1 ? 1 : size > TEAM_MAX ? TEAM_MAX : size;
    team->arrived = 0;
    team->generation = 0;
    team->size = (int)size;
    team->go = 0;
    size_t started = 1;
    for (; started < size; started++) {
        team_member m = {team, fn, ctx, started};
        members[started] = m;
        if (pthread_create(&ids[started], NULL, team_start, &members[started]) != 0) {
            break;
        }
    }
    if (started < size) {
        team->size = 1;
        __atomic_store_n(&team->go, -1, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&team->go, 1, __ATOMIC_RELEASE);
    }
    fn(ctx, 0, (size_t)team->size);
    for (size_t t = 1; t < started; t++) {
        pthread_join(ids[t], NULL);
    }
}
#else
static void team_barrier(gdl_team *team) {
    (void)team;
}

static void team_run(gdl_team *team, size_t size, void (*fn)(void *, size_t, size_t),
                     void *ctx) {
    (void)size;
    team->size = 1;
    fn(ctx, 0, 1);
}
#endif

#endif /* GDL_TEAM_H */
