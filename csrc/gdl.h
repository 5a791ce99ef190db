/* gdl's compiled kernels: every declaration with its contract.
 *
 * Conventions (Note [kernel contract]):
 * - Arrays are C-contiguous, row-major, and of the dtype the suffix names (_f32: float,
 *   _f64: double). Shapes are given as size_t counts; a count may be 0 unless said otherwise.
 * - Arguments were checked by the Cython wrapper (src/<family>.pyx): kernels trust them, never
 *   allocate, never touch Python, and may run with the GIL released.
 * - Outputs never alias inputs unless the declaration says they may.
 */
#ifndef GDL_H
#define GDL_H

#include <stddef.h>
#include <stdint.h>

/* ---- BLAS, passed in by the caller ---------------------------------------------------------
 * Note [BLAS by pointer]: kernels that need a matrix product inside a compiled loop (an LSTM
 * over a sequence, a convolution's column matrix) take the Fortran GEMM as a function pointer,
 * so the C library links no BLAS of its own. The Cython wrappers pass scipy's
 * (scipy.linalg.cython_blas sgemm/dgemm: column-major, arguments by pointer). A row-major
 * C = A B is computed as the column-major C^T = B^T A^T. */
typedef void (*gdl_sgemm_t)(char *transa, char *transb, int *m, int *n, int *k, float *alpha,
                            float *a, int *lda, float *b, int *ldb, float *beta, float *c,
                            int *ldc);
typedef void (*gdl_dgemm_t)(char *transa, char *transb, int *m, int *n, int *k, double *alpha,
                            double *a, int *lda, double *b, int *ldb, double *beta, double *c,
                            int *ldc);

/* ---- softmax: over the last axis of a (rows, cols) matrix ------------------------------- */

/* y[r, :] = exp(x[r, :] - max) / sum(exp(x[r, :] - max)); rows may be 0, cols >= 1.
 * y may alias x. */
void gdl_softmax_fwd_f32(const float *x, float *y, size_t rows, size_t cols);
void gdl_softmax_fwd_f64(const double *x, double *y, size_t rows, size_t cols);

/* gx[r, :] = y[r, :] * (gy[r, :] - sum(gy[r, :] * y[r, :])), from the saved output y. */
void gdl_softmax_bwd_f32(const float *y, const float *gy, float *gx, size_t rows, size_t cols);
void gdl_softmax_bwd_f64(const double *y, const double *gy, double *gx, size_t rows,
                         size_t cols);

/* y[r, :] = x[r, :] - max - log(sum(exp(x[r, :] - max))); y may alias x. */
void gdl_log_softmax_fwd_f32(const float *x, float *y, size_t rows, size_t cols);
void gdl_log_softmax_fwd_f64(const double *x, double *y, size_t rows, size_t cols);

/* gx[r, :] = gy[r, :] - exp(y[r, :]) * sum(gy[r, :]), from the saved output y. */
void gdl_log_softmax_bwd_f32(const float *y, const float *gy, float *gx, size_t rows,
                             size_t cols);
void gdl_log_softmax_bwd_f64(const double *y, const double *gy, double *gx, size_t rows,
                             size_t cols);

/* Fused softmax cross-entropy. x: (rows, cols) logits, labels: rows indices in [0, cols).
 * Writes p = softmax(x) (rows, cols; backward needs it) and returns the mean over rows of
 * -log p[r, labels[r]], computed as logsumexp - x so that it stays finite. rows >= 1. */
double gdl_softmax_xent_fwd_f32(const float *x, const int64_t *labels, float *p, size_t rows,
                                size_t cols);
double gdl_softmax_xent_fwd_f64(const double *x, const int64_t *labels, double *p, size_t rows,
                                size_t cols);

/* gx = (p - onehot(labels)) * gloss / rows, where gloss is the upstream gradient of the mean
 * loss. gx may alias p. rows >= 1. */
void gdl_softmax_xent_bwd_f32(const float *p, const int64_t *labels, double gloss, float *gx,
                              size_t rows, size_t cols);
void gdl_softmax_xent_bwd_f64(const double *p, const int64_t *labels, double gloss, double *gx,
                              size_t rows, size_t cols);

/* ---- activation: elementwise over n entries (any shape, flattened) ---------------------- */

/* y = 1 / (1 + exp(-x)), arranged so that exp never overflows. y may alias x. */
void gdl_sigmoid_fwd_f32(const float *x, float *y, size_t n);
void gdl_sigmoid_fwd_f64(const double *x, double *y, size_t n);

/* gx = gy * y * (1 - y), from the saved output y. gx may alias gy. */
void gdl_sigmoid_bwd_f32(const float *y, const float *gy, float *gx, size_t n);
void gdl_sigmoid_bwd_f64(const double *y, const double *gy, double *gx, size_t n);

/* y = tanh(x). y may alias x. */
void gdl_tanh_fwd_f32(const float *x, float *y, size_t n);
void gdl_tanh_fwd_f64(const double *x, double *y, size_t n);

/* gx = gy * (1 - y * y), from the saved output y. gx may alias gy. */
void gdl_tanh_bwd_f32(const float *y, const float *gy, float *gx, size_t n);
void gdl_tanh_bwd_f64(const double *y, const double *gy, double *gx, size_t n);

/* y = max(x, 0); a NaN in x stays NaN. y may alias x. */
void gdl_relu_fwd_f32(const float *x, float *y, size_t n);
void gdl_relu_fwd_f64(const double *x, double *y, size_t n);

/* gx = gy where y > 0, else 0, from the saved output y. gx may alias gy. */
void gdl_relu_bwd_f32(const float *y, const float *gy, float *gx, size_t n);
void gdl_relu_bwd_f64(const double *y, const double *gy, double *gx, size_t n);

/* ---- dropout: inverted dropout over n entries, counter-based randomness ----------------- */

/* mask[i] = 1 (kept) when uniform(seed, i) >= p, else 0; y = x * mask / (1 - p).
 * uniform(seed, i) in [0, 1) depends only on (seed, i) (Note [dropout randomness] in
 * dropout.c), so a mask is reproducible. 0 <= p < 1; p == 0 keeps everything. y may alias x. */
void gdl_dropout_fwd_f32(const float *x, double p, uint64_t seed, float *y, uint8_t *mask,
                         size_t n);
void gdl_dropout_fwd_f64(const double *x, double p, uint64_t seed, double *y, uint8_t *mask,
                         size_t n);

/* gx = gy * mask / (1 - p), where a nonzero mask entry means kept. gx may alias gy. */
void gdl_dropout_bwd_f32(const float *gy, const uint8_t *mask, double p, float *gx, size_t n);
void gdl_dropout_bwd_f64(const double *gy, const uint8_t *mask, double p, double *gx,
                         size_t n);

/* ---- embedding: row gather and scatter-add over a (V, D) table W ------------------------ */

/* out[i, :] = W[idx[i], :] for i < n; idx holds n indices in [0, V); out is (n, D). */
void gdl_embedding_fwd_f32(const float *W, const int64_t *idx, float *out, size_t n,
                           size_t D);
void gdl_embedding_fwd_f64(const double *W, const int64_t *idx, double *out, size_t n,
                           size_t D);

/* gW[idx[i], :] += gy[i, :] for i < n, in order: repeated indices accumulate and rows not in
 * idx are untouched. gy is (n, D) and does not overlap gW. */
void gdl_embedding_bwd_f32(float *gW, const int64_t *idx, const float *gy, size_t n,
                           size_t D);
void gdl_embedding_bwd_f64(double *gW, const int64_t *idx, const double *gy, size_t n,
                           size_t D);

/* out[b, :] = sum over l < L of W[idx[b, l], :]; idx is (B, L), out is (B, D). L may be 0
 * (out is zeros). */
void gdl_embedding_bag_fwd_f32(const float *W, const int64_t *idx, float *out, size_t B,
                               size_t L, size_t D);
void gdl_embedding_bag_fwd_f64(const double *W, const int64_t *idx, double *out, size_t B,
                               size_t L, size_t D);

/* gW[idx[b, l], :] += gy[b, :] for every (b, l); gy is (B, D) and does not overlap gW. */
void gdl_embedding_bag_bwd_f32(float *gW, const int64_t *idx, const float *gy, size_t B,
                               size_t L, size_t D);
void gdl_embedding_bag_bwd_f64(double *gW, const int64_t *idx, const double *gy, size_t B,
                               size_t L, size_t D);

/* ---- optim: parameter updates in place over n entries ----------------------------------- */

/* PyTorch's SGD without dampening or Nesterov: d = g + weight_decay * w; when v (the momentum
 * buffer, zeros before the first step) is not NULL, v = momentum * v + d and d = v;
 * then w -= lr * d. Pass v = NULL for plain SGD. No array overlaps another. */
void gdl_sgd_step_f32(float *w, const float *g, float *v, size_t n, double lr, double momentum,
                      double weight_decay);
void gdl_sgd_step_f64(double *w, const double *g, double *v, size_t n, double lr,
                      double momentum, double weight_decay);

/* PyTorch's Adam (not AdamW), step >= 1 counting this one: d = g + weight_decay * w;
 * m = beta1 * m + (1 - beta1) * d; v = beta2 * v + (1 - beta2) * d * d;
 * w -= lr * mhat / (sqrt(vhat) + eps), mhat = m / (1 - beta1^step), vhat = v / (1 - beta2^step).
 * 0 <= beta1, beta2 < 1. No array overlaps another. */
void gdl_adam_step_f32(float *w, const float *g, float *m, float *v, size_t n, int64_t step,
                       double lr, double beta1, double beta2, double eps, double weight_decay);
void gdl_adam_step_f64(double *w, const double *g, double *m, double *v, size_t n,
                       int64_t step, double lr, double beta1, double beta2, double eps,
                       double weight_decay);

/* Sparse-row SGD: W[rows[k], :] -= lr * gR[k, :] for k < n, in order (a repeated row takes
 * every update). W is (V, D), rows holds n indices in [0, V), gR is (n, D). */
void gdl_sgd_rows_step_f32(float *W, const int64_t *rows, const float *gR, size_t n, size_t D,
                           double lr);
void gdl_sgd_rows_step_f64(double *W, const int64_t *rows, const double *gR, size_t n,
                           size_t D, double lr);

/* ---- conv, pool: convolution and pooling (NCHW) ------------------------------------------ */

/* ---- rnn, lstm: recurrent cells and whole sequences --------------------------------------- */

#endif /* GDL_H */
