/* Elementwise activations and their gradients: sigmoid, tanh, relu.
 * The bodies live once in activation.inc, compiled for float and for double. Sigmoid and
 * tanh come from fastmath.h (Note [fast float exp]): libm's scalar expf/tanhf made these
 * kernels 5-50x slower than numpy's vectorized loops. */
#include <tgmath.h>
#include "fastmath.h"
#include "gdl.h"

/* Entries per thread below which a kernel runs on one thread (Note [parallel loops]): measured
 * with tanh and relu forward and backward, two threads lost below about 140,000 entries (a
 * thread costs 43-50 us to start and join) and won from 300,000. */
#define GRAIN_MATH ((size_t)1 << 17)           /* sigmoid, tanh: about 1.5 ns an entry */
#define GRAIN_MEMORY ((size_t)1 << 17)         /* memory-bound loops */

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
