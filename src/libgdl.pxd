# The Cython mirror of csrc/gdl.h: the contracts are written there.
from libc.stdint cimport int64_t, uint8_t, uint64_t

cdef extern from "gdl.h" nogil:
    ctypedef void (*gdl_sgemm_t)(char *transa, char *transb, int *m, int *n, int *k,
                                 float *alpha, float *a, int *lda, float *b, int *ldb,
                                 float *beta, float *c, int *ldc)
    ctypedef void (*gdl_dgemm_t)(char *transa, char *transb, int *m, int *n, int *k,
                                 double *alpha, double *a, int *lda, double *b, int *ldb,
                                 double *beta, double *c, int *ldc)

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

    # activation
    void gdl_sigmoid_fwd_f32(const float *x, float *y, size_t n)
    void gdl_sigmoid_fwd_f64(const double *x, double *y, size_t n)
    void gdl_sigmoid_bwd_f32(const float *y, const float *gy, float *gx, size_t n)
    void gdl_sigmoid_bwd_f64(const double *y, const double *gy, double *gx, size_t n)
    void gdl_tanh_fwd_f32(const float *x, float *y, size_t n)
    void gdl_tanh_fwd_f64(const double *x, double *y, size_t n)
    void gdl_tanh_bwd_f32(const float *y, const float *gy, float *gx, size_t n)
    void gdl_tanh_bwd_f64(const double *y, const double *gy, double *gx, size_t n)
    void gdl_relu_fwd_f32(const float *x, float *y, size_t n)
    void gdl_relu_fwd_f64(const double *x, double *y, size_t n)
    void gdl_relu_bwd_f32(const float *y, const float *gy, float *gx, size_t n)
    void gdl_relu_bwd_f64(const double *y, const double *gy, double *gx, size_t n)

    # dropout
    void gdl_dropout_fwd_f32(const float *x, double p, uint64_t seed, float *y, uint8_t *mask,
                             size_t n)
    void gdl_dropout_fwd_f64(const double *x, double p, uint64_t seed, double *y,
                             uint8_t *mask, size_t n)
    void gdl_dropout_bwd_f32(const float *gy, const uint8_t *mask, double p, float *gx,
                             size_t n)
    void gdl_dropout_bwd_f64(const double *gy, const uint8_t *mask, double p, double *gx,
                             size_t n)

    # embedding
    void gdl_embedding_fwd_f32(const float *W, const int64_t *idx, float *out, size_t n,
                               size_t D)
    void gdl_embedding_fwd_f64(const double *W, const int64_t *idx, double *out, size_t n,
                               size_t D)
    void gdl_embedding_bwd_f32(float *gW, const int64_t *idx, const float *gy, size_t n,
                               size_t D)
    void gdl_embedding_bwd_f64(double *gW, const int64_t *idx, const double *gy, size_t n,
                               size_t D)
    void gdl_embedding_bag_fwd_f32(const float *W, const int64_t *idx, float *out, size_t B,
                                   size_t L, size_t D)
    void gdl_embedding_bag_fwd_f64(const double *W, const int64_t *idx, double *out,
                                   size_t B, size_t L, size_t D)
    void gdl_embedding_bag_bwd_f32(float *gW, const int64_t *idx, const float *gy, size_t B,
                                   size_t L, size_t D)
    void gdl_embedding_bag_bwd_f64(double *gW, const int64_t *idx, const double *gy,
                                   size_t B, size_t L, size_t D)

    # optim
    void gdl_sgd_step_f32(float *w, const float *g, float *v, size_t n, double lr,
                          double momentum, double weight_decay)
    void gdl_sgd_step_f64(double *w, const double *g, double *v, size_t n, double lr,
                          double momentum, double weight_decay)
    void gdl_adam_step_f32(float *w, const float *g, float *m, float *v, size_t n,
                           int64_t step, double lr, double beta1, double beta2, double eps,
                           double weight_decay)
    void gdl_adam_step_f64(double *w, const double *g, double *m, double *v, size_t n,
                           int64_t step, double lr, double beta1, double beta2, double eps,
                           double weight_decay)
    void gdl_sgd_rows_step_f32(float *W, const int64_t *rows, const float *gR, size_t n,
                               size_t D, double lr)
    void gdl_sgd_rows_step_f64(double *W, const int64_t *rows, const double *gR, size_t n,
                               size_t D, double lr)

    # conv, pool

    # rnn, lstm
