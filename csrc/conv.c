/* 2-D convolution as im2col + GEMM (Note [conv as GEMM] in gdl.h), NCHW.
 * The bodies live once in conv.inc, compiled for float and for double. */
#include <string.h>
#include "gdl.h"
#include "conv_packed.h"

/* The outputs o in [lo, hi) of a row of out outputs whose input position o stride + k - pad
 * falls inside [0, n): kernel offset k of a window moved by stride over n entries padded by
 * pad. Outside that range the window reads padding. */
static void span(size_t k, size_t pad, size_t n, size_t stride, size_t out, size_t *lo,
                 size_t *hi) {
    size_t first = pad > k ? (pad - k + stride - 1) / stride : 0;
    size_t end = n + pad > k ? (n + pad - k + stride - 1) / stride : 0;
    *hi = end < out ? end : out;
    *lo = first < *hi ? first : *hi;
}

#define T float
#define FN(name) name##_f32
#define GEMM_T gdl_sgemm_t
#include "conv.inc"
#undef T
#undef FN
#undef GEMM_T

#define T double
#define FN(name) name##_f64
#define GEMM_T gdl_dgemm_t
#include "conv.inc"
#undef T
#undef FN
#undef GEMM_T

int gdl_packed_kernels(void) {
    return sg_level();
}
