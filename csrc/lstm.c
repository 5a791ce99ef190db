/* The LSTM: one fused cell step and whole sequences with their matrix products through the
 * BLAS passed in (Note [BLAS by pointer]). Bodies in lstm.inc, for float and for double;
 * the row-major GEMM helper in seq_gemm.inc. */
#define _POSIX_C_SOURCE 200809L         /* pthreads and sched_yield for team.h */
#include "fastmath.h"
#include "gdl.h"
#include "small_gemm.h"
#include "team.h"

#define T float
#define FN(name) name##_f32
#define GEMM_T gdl_sgemm_t
#include "lstm.inc"
#undef T
#undef FN
#undef GEMM_T

#define T double
#define FN(name) name##_f64
#define GEMM_T gdl_dgemm_t
#include "lstm.inc"
#undef T
#undef FN
#undef GEMM_T
