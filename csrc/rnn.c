/* The vanilla RNN (tanh, sigmoid or relu) over whole sequences, its matrix products through
 * the BLAS passed in (Note [BLAS by pointer]). Bodies in rnn.inc, for float and for double.
 * The row-major GEMM helper lives in seq_gemm.inc, shared with lstm.c. */
#include "fastmath.h"
#include "gdl.h"
#include "small_gemm.h"

#define T float
#define FN(name) name##_f32
#define GEMM_T gdl_sgemm_t
#include "rnn.inc"
#undef T
#undef FN
#undef GEMM_T

#define T double
#define FN(name) name##_f64
#define GEMM_T gdl_dgemm_t
#include "rnn.inc"
#undef T
#undef FN
#undef GEMM_T
