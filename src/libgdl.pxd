# The Cython mirror of csrc/gdl.h: the contracts are written there.
from libc.stdint cimport int64_t

cdef extern from "gdl.h" nogil:
    # softmax
    void gdl_softmax_fwd_f32(const float *x, float *y, size_t rows, size_t cols)
    void gdl_softmax_fwd_f64(const double *x, double *y, size_t rows, size_t cols)
    void gdl_softmax_bwd_f32(const float *y, const float *gy, float *gx, size_t rows,
                             size_t cols)
    void gdl_softmax_bwd_f64(const double *y, const double *gy, double *gx, size_t rows,
                             size_t cols)
    void gdl_log_softmax_fwd_f32(const float *x, float *y, size_t rows, size_t cols)
    void gdl_log_softmax_fwd_f64(const double *x, double *y, size_t rows, size_t cols)
    void gdl_log_softmax_bwd_f32(const float *y, const float *gy, float *gx, size_t rows,
                                 size_t cols)
    void gdl_log_softmax_bwd_f64(const double *y, const double *gy, double *gx, size_t rows,
                                 size_t cols)
    double gdl_softmax_xent_fwd_f32(const float *x, const int64_t *labels, float *p,
                                    size_t rows, size_t cols)
    double gdl_softmax_xent_fwd_f64(const double *x, const int64_t *labels, double *p,
                                    size_t rows, size_t cols)
    void gdl_softmax_xent_bwd_f32(const float *p, const int64_t *labels, double gloss,
                                  float *gx, size_t rows, size_t cols)
    void gdl_softmax_xent_bwd_f64(const double *p, const int64_t *labels, double gloss,
                                  double *gx, size_t rows, size_t cols)
