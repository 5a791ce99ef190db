/* Optimizer updates, in place: SGD with momentum and weight decay, Adam, sparse-row SGD.
 * The bodies live once in optim.inc, compiled for float and for double. */
#include <tgmath.h>
#include "fastmath.h"                         /* GDL_VECTOR_CLONES */
#include "gdl.h"

/* Entries per thread below which an update runs on one thread (Note [parallel loops]). */
#define GRAIN ((size_t)1 << 17)

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
