/* Sigmoid and tanh for the recurrent kernels (rnn.c, lstm.c), one per dtype: FN(sigmoid),
 * FN(tanh). Note [fast float exp]: libm's expf and tanhf are scalar calls (15-35 ns each
 * here) and an LSTM step makes five per hidden unit, which cost more than its matrix products.
 * The float versions below are Cephes' expf and tanhf polynomials (within 2 ulp) written with
 * plain arithmetic and selects, so that gcc -O3 vectorizes the loops calling them on the
 * portable baseline (SSE2), no -ffast-math needed. Double keeps libm: it serves gradient
 * checks, where accuracy matters and speed does not. */
#ifndef GDL_FASTMATH_H
#define GDL_FASTMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* GCC sinks the arms of a select into branches and will not vectorize a branch that might
 * raise a floating-point flag; gdl never reads those flags, so a file including this header
 * is compiled without -ftrapping-math (clang's default already). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

/* Note [vector clones]: the portable baseline (SSE2) vectorizes 4 floats at a time; numpy's
 * own loops pick AVX2 or AVX-512 at run time. GCC's target_clones compiles a kernel once per
 * listed target and picks the best one the CPU has when the library loads (glibc's ifunc),
 * so wheels stay portable and still use the wide vectors. Elsewhere it is empty. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GDL_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GDL_VECTOR_CLONES
#endif

/* A loop called from a GDL_VECTOR_CLONES task must be inlined into each clone to be compiled
 * for its target: called, it runs the baseline build (sigmoid did: 2.2 ns an entry instead of
 * 0.7). GCC may decline to inline on its own, so the loops say so. */
#if defined(__GNUC__)
#define GDL_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define GDL_ALWAYS_INLINE inline
#endif

/* exp(x) for x in [-87.3, 88.3] (clamped outside, so never inf); NaN stays NaN. */
static inline float exp_f32(float x) {
    x = x > 88.3762626647949f ? 88.3762626647949f : x;
    x = x < -87.3365447504f ? -87.3365447504f : x;
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  /* round(x / ln 2) */
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;               /* x - n ln 2, exact-ish */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;                           /* 2^n */
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Below -87.33 the true value is a denormal (< 1.2e-38) that the clamped exp cannot give:
 * flush it to 0 rather than return a wrong tiny number. */
static inline float sigmoid_f32(float x) {
    float y = 1.0f / (1.0f + exp_f32(-x));
    return x < -87.3365447504f ? 0.0f : y;
}

/* Near 0, 1 - 2 / (exp(2x) + 1) would cancel: Cephes uses an odd polynomial there. */
static inline float tanh_f32(float x) {
    float a = fabsf(x);
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                    + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float large = 1.0f - 2.0f / (exp_f32(2.0f * a) + 1.0f);
    large = x < 0 ? -large : large;
    return a < 0.625f ? small : large;
}

static inline double sigmoid_f64(double x) {
    return 1.0 / (1.0 + exp(-x));                /* exp(-x) = inf gives 0, never NaN */
}

static inline double tanh_f64(double x) {
    return tanh(x);
}

#endif /* GDL_FASTMATH_H */
