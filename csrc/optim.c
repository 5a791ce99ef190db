/* Optimizer updates, in place: SGD with momentum and weight decay, Adam, sparse-row SGD.
 * The bodies live once in optim.inc, compiled for float and for double. */
#include <tgmath.h>
#include "gdl.h"

#define T float
#define FN(name) name##_f32
#include "optim.inc"
#undef T
#undef FN

#define T double
#define FN(name) name##_f64
#include "optim.inc"
#undef T
#undef FN
