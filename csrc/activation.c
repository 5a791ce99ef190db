/* Elementwise activations and their gradients: sigmoid, tanh, relu.
 * The bodies live once in activation.inc, compiled for float and for double. Sigmoid and
 * tanh come from fastmath.h (Note [fast float exp]): libm's scalar expf/tanhf made these
 * kernels 5-50x slower than numpy's vectorized loops. */
#include <tgmath.h>
#include "fastmath.h"
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
