/* Softmax, log-softmax and fused softmax cross-entropy over the last axis.
 * The bodies live once in softmax.inc, compiled for float and for double. */
#include <tgmath.h>
#include "gdl.h"

#define T float
#define FN(name) name##_f32
#include "softmax.inc"
#undef T
#undef FN

#define T double
#define FN(name) name##_f64
#include "softmax.inc"
#undef T
#undef FN
