/* Elementwise activations and their gradients: sigmoid, tanh, relu.
 * The bodies live once in activation.inc, compiled for float and for double. */
#include <tgmath.h>
#include "gdl.h"

#define T float
#define FN(name) name##_f32
#include "activation.inc"
#undef T
#undef FN

#define T double
#define FN(name) name##_f64
#include "activation.inc"
#undef T
#undef FN
