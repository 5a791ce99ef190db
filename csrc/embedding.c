/* Embedding row gather (forward) and scatter-add (backward), per index and per bag.
 * The bodies live once in embedding.inc, compiled for float and for double. */
#include <string.h>
#include "gdl.h"

#define T float
#define FN(name) name##_f32
#include "embedding.inc"
#undef T
#undef FN

#define T double
#define FN(name) name##_f64
#include "embedding.inc"
#undef T
#undef FN
