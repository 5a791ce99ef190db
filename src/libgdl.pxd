# The Cython mirror of csrc/gdl.h: the contracts are written there.
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t

cdef extern from "gdl.h" nogil:
    size_t gdl_num_threads()
    void gdl_set_num_threads(size_t n)
    void gdl_parallel_spin(size_t microseconds)
    int gdl_packed_kernels()
    ctypedef void (*gdl_sgemm_t)(char *transa, char *transb, int *m, int *n, int *k,
                                 float *alpha, float *a, int *lda, float *b, int *ldb,
                                 float *beta, float *c, int *ldc)
    ctypedef void (*gdl_dgemm_t)(char *transa, char *transb, int *m, int *n, int *k,
                                 double *alpha, double *a, int *lda, double *b, int *ldb,
                                 double *beta, double *c, int *ldc)
    gdl_sgemm_t gdl_blas_sgemm(gdl_sgemm_t given)
    gdl_dgemm_t gdl_blas_dgemm(gdl_dgemm_t given)
    int gdl_blas_is_numpys()
    void gdl_blas_allow_numpy(int allow)

    # memory
    size_t GDL_ALIGN
    void *gdl_aligned_malloc(void *ctx, size_t size)
    void *gdl_aligned_calloc(void *ctx, size_t count, size_t size)
    void *gdl_aligned_realloc(void *ctx, void *block, size_t size)
    void gdl_aligned_free(void *ctx, void *block, size_t size)

    # matmul
    size_t GDL_MATMUL_SPLIT_MIN
    size_t GDL_MATMUL_ONE_THREAD_MIN
    size_t GDL_MATMUL_SPLIT_MAX
    size_t GDL_MATMUL_PACKED_MIN
    size_t GDL_MATMUL_PACKED_MAX_A_T
    int gdl_matmul_can_split(void *gemm)
    int gdl_matmul_path(void *gemm, int is_float, int trans_a, int trans_b, size_t M, size_t N,
                        size_t K)
    int gdl_matmul_blas_threads()
    int gdl_matmul_allow_packed(int allow)
    void gdl_matmul_f32(gdl_sgemm_t gemm, int trans_a, int trans_b, const float *A,
                        const float *B, float *C, size_t M, size_t N, size_t K)
    void gdl_matmul_f64(gdl_dgemm_t gemm, int trans_a, int trans_b, const double *A,
                        const double *B, double *C, size_t M, size_t N, size_t K)

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

    double gdl_bce_fwd_f32(const float *p, const float *t, size_t n, int64_t *bad)
    double gdl_bce_fwd_f64(const double *p, const double *t, size_t n, int64_t *bad)
    void gdl_bce_bwd_f32(const float *p, const float *t, double scale, float *gp, size_t n)
    void gdl_bce_bwd_f64(const double *p, const double *t, double scale, double *gp, size_t n)

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
                               size_t group, size_t D, double lr)
    void gdl_sgd_rows_step_f64(double *W, const int64_t *rows, const double *gR, size_t n,
                               size_t group, size_t D, double lr)

    # conv, pool
    ctypedef struct gdl_window:
        size_t H, W, kh, kw, sh, sw, ph, pw, OH, OW
    void gdl_im2col_f32(const float *x, float *cols, size_t ld, size_t C, const gdl_window *w)
    void gdl_im2col_f64(const double *x, double *cols, size_t ld, size_t C,
                        const gdl_window *w)
    void gdl_col2im_f32(const float *cols, size_t ld, float *x, size_t C, const gdl_window *w)
    void gdl_col2im_f64(const double *cols, size_t ld, double *x, size_t C,
                        const gdl_window *w)
    void gdl_conv2d_fwd_f32(gdl_sgemm_t gemm, const float *x, const float *Wt, const float *b,
                            float *y, float *cols, float *out, size_t N, size_t C, size_t O,
                            size_t chunk, const gdl_window *w)
    void gdl_conv2d_fwd_f64(gdl_dgemm_t gemm, const double *x, const double *Wt,
                            const double *b, double *y, double *cols, double *out, size_t N,
                            size_t C, size_t O, size_t chunk, const gdl_window *w)
    void gdl_conv2d_bwd_f32(gdl_sgemm_t gemm, const float *x, const float *Wt, const float *gy,
                            float *gx, float *gW, float *gb, float *cols, float *gyT,
                            float *gcols, size_t N, size_t C, size_t O, size_t chunk,
                            const gdl_window *w)
    void gdl_conv2d_bwd_f64(gdl_dgemm_t gemm, const double *x, const double *Wt,
                            const double *gy, double *gx, double *gW, double *gb, double *cols,
                            double *gyT, double *gcols, size_t N, size_t C, size_t O,
                            size_t chunk, const gdl_window *w)
    void gdl_maxpool2d_fwd_f32(const float *x, float *y, int32_t *argmax, size_t planes,
                               const gdl_window *w)
    void gdl_maxpool2d_fwd_f64(const double *x, double *y, int32_t *argmax, size_t planes,
                               const gdl_window *w)
    void gdl_maxpool2d_bwd_f32(const float *gy, const int32_t *argmax, float *gx,
                               size_t planes, const gdl_window *w)
    void gdl_maxpool2d_bwd_f64(const double *gy, const int32_t *argmax, double *gx,
                               size_t planes, const gdl_window *w)
    void gdl_avgpool2d_fwd_f32(const float *x, float *y, size_t planes, const gdl_window *w)
    void gdl_avgpool2d_fwd_f64(const double *x, double *y, size_t planes, const gdl_window *w)
    void gdl_avgpool2d_bwd_f32(const float *gy, float *gx, size_t planes, const gdl_window *w)
    void gdl_avgpool2d_bwd_f64(const double *gy, double *gx, size_t planes,
                               const gdl_window *w)

    # rnn, lstm
    enum gdl_rnn_act:
        GDL_RNN_TANH
        GDL_RNN_SIGMOID
        GDL_RNN_RELU
    void gdl_rnn_fwd_f32(gdl_sgemm_t gemm, int act, const float *x, const float *W_ih,
                         const float *W_hh, const float *b, float *hs, size_t steps, size_t B,
                         size_t I, size_t H)
    void gdl_rnn_fwd_f64(gdl_dgemm_t gemm, int act, const double *x, const double *W_ih,
                         const double *W_hh, const double *b, double *hs, size_t steps,
                         size_t B, size_t I, size_t H)
    void gdl_rnn_bwd_f32(gdl_sgemm_t gemm, int act, const float *x, const float *W_ih,
                         const float *W_hh, const float *hs, const float *gh, float *gh0,
                         float *gx, float *gW_ih, float *gW_hh, float *gb, float *dA,
                         size_t steps, size_t B, size_t I, size_t H)
    void gdl_rnn_bwd_f64(gdl_dgemm_t gemm, int act, const double *x, const double *W_ih,
                         const double *W_hh, const double *hs, const double *gh, double *gh0,
                         double *gx, double *gW_ih, double *gW_hh, double *gb, double *dA,
                         size_t steps, size_t B, size_t I, size_t H)
    void gdl_lstm_cell_fwd_f32(float *G, const float *c_prev, float *c, float *h, size_t B,
                               size_t H)
    void gdl_lstm_cell_fwd_f64(double *G, const double *c_prev, double *c, double *h,
                               size_t B, size_t H)
    void gdl_lstm_cell_bwd_f32(const float *G, const float *c_prev, const float *c,
                               const float *gh, float *gc, float *dG, size_t B, size_t H)
    void gdl_lstm_cell_bwd_f64(const double *G, const double *c_prev, const double *c,
                               const double *gh, double *gc, double *dG, size_t B, size_t H)
    void gdl_lstm_fwd_f32(gdl_sgemm_t gemm, const float *x, const float *W_ih,
                          const float *W_hh, const float *b, float *G, float *hs, float *cs,
                          size_t steps, size_t B, size_t I, size_t H)
    void gdl_lstm_fwd_f64(gdl_dgemm_t gemm, const double *x, const double *W_ih,
                          const double *W_hh, const double *b, double *G, double *hs,
                          double *cs, size_t steps, size_t B, size_t I, size_t H)
    void gdl_lstm_bwd_f32(gdl_sgemm_t gemm, const float *x, const float *W_ih,
                          const float *W_hh, const float *G, const float *hs, const float *cs,
                          const float *gh, float *gc, float *gh0, float *gx, float *gW_ih,
                          float *gW_hh, float *gb, float *dG, size_t steps, size_t B,
                          size_t I, size_t H)
    void gdl_lstm_bwd_f64(gdl_dgemm_t gemm, const double *x, const double *W_ih,
                          const double *W_hh, const double *G, const double *hs,
                          const double *cs, const double *gh, double *gc, double *gh0,
                          double *gx, double *gW_ih, double *gW_hh, double *gb, double *dG,
                          size_t steps, size_t B, size_t I, size_t H)
