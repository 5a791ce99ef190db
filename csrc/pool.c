/* Max and average pooling over (H, W) planes, NCHW. The bodies live once in pool.inc,
 * compiled for float and for double. */
#include <string.h>
#include "gdl.h"

/* Input entries per thread below which pooling runs on one thread (Note [parallel loops]). */
#define GRAIN ((size_t)1 << 17)

/* The real rows [*lo, *hi) of window o along one axis: the padded positions
 * [o stride, o stride + k) less the pad entries on either side of the n real ones. */
static void clip(size_t o, size_t stride, size_t k, size_t pad, size_t n, size_t *lo,
                 size_t *hi) {
    size_t start = o * stride;
    size_t end = start + k;
    *lo = start > pad ? start - pad : 0;
    *hi = end > pad + n ? n : end - pad;        /* end > pad: the window holds a real entry */
}

#define T float
#define UINT uint32_t
#define FN(name) name##_f32
#include "pool.inc"
#undef T
#undef UINT
#undef FN

#define T double
#define UINT uint64_t
#define FN(name) name##_f64
#include "pool.inc"
#undef T
#undef UINT
#undef FN
