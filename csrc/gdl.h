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

#endif /* GDL_H */
