/* Inverted dropout with counter-based randomness.
 * The bodies live once in dropout.inc, compiled for float and for double. */
#include <math.h>
#include "fastmath.h"
#include "gdl.h"

/* Note [dropout randomness]: the uniform number for entry i is splitmix64's i-th output from
 * the state mix(seed), computed directly as mix(mix(seed) + (i + 1) * golden). It depends
 * only on (seed, i): no generator state to carry between calls or threads, and the same seed
 * always gives the same mask. Seeding through mix(seed) keeps nearby seeds (0, 1, 2, ...)
 * on unrelated streams. */
/* Entries per thread below which a loop runs on one thread (Note [parallel loops]). */
#define GRAIN_RANDOM ((size_t)1 << 17)         /* about 1 ns an entry; as activation.c */
#define GRAIN_MEMORY ((size_t)1 << 17)

static const uint64_t golden = 0x9e3779b97f4a7c15u;

/* splitmix64's output function: a bijection of 64-bit words that scrambles every bit. */
static inline uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The top 53 bits of entry i's word: uniform(i) = bits53(i) * 2^-53 is an exact double in
 * [0, 1), so uniform(i) >= p exactly when bits53(i) >= threshold(p), an integer compare. */
static inline uint64_t bits53(uint64_t key, size_t i) {
    return mix(key + ((uint64_t)i + 1) * golden) >> 11;
}

/* The least 53-bit value whose uniform is >= p, for 0 <= p < 1. */
static uint64_t threshold(double p) {
    return (uint64_t)ceil(p * 0x1.0p53);
}

/* AVX-512 with DQ, chosen at run time for the mask's 64-bit multiplies (fwd_task_dq); GCC's
 * target_clones cannot name DQ, so this one is dispatched by hand. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GDL_DQ __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
static int has_dq(void) {
    static int dq = -1;                        /* a benign race: every thread writes the same */
    if (dq < 0) {
        __builtin_cpu_init();
        dq = __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
    }
    return dq;
}
#endif

#define T float
#define FN(name) name##_f32
#include "dropout.inc"
#undef T
#undef FN

#define T double
#define FN(name) name##_f64
#include "dropout.inc"
#undef T
#undef FN
