"""Optimizer updates in place: SGD with momentum, Adam, sparse-row SGD (csrc/optim.c).

Every array updated in place must be C-contiguous and writable: it is never copied, since
the caller would not see the update of a copy.
"""
import operator

import numpy as np
from libc.stdint cimport int64_t

cimport libgdl as c
from checks cimport (check_indices, check_inplace, check_inplace_like, check_like,
                     check_real, check_shaped, data_of, is_f32)

include "threads.pxi"


cdef double _check_beta(object beta, str name) except? -1.0:
    cdef double b = check_real(beta, name)
    if not 0 <= b < 1:                          # beta == 1 would divide by 1 - beta**step = 0
        raise ValueError(f"{name} must be in [0, 1), got {beta}")
    return b


def sgd_step_(w, g, lr, momentum=0.0, weight_decay=0.0, v=None):
    """One SGD step on w in place (PyTorch's SGD without dampening or Nesterov).

    d = g + weight_decay * w; if momentum != 0: v = momentum * v + d, d = v (v updated in
    place); w -= lr * d. g has w's shape and dtype; v, needed only when momentum != 0, is the
    momentum buffer like w, zeros before the first step.
    ``sgd_step_(w, g, lr=0.1)`` is ``w -= 0.1 * g``.
    """
    w = check_inplace(w, "w")
    g = check_like(g, w, "g", "w")
    cdef double a = check_real(lr, "lr")
    cdef double mu = check_real(momentum, "momentum")
    cdef double wd = check_real(weight_decay, "weight_decay")
    if mu != 0:
        if v is None:
            raise ValueError("v must be the momentum buffer (an array like w, zeros before "
                             "the first step) when momentum != 0, got None")
        v = check_inplace_like(v, w, "v", "w")
    cdef size_t n = w.size
    cdef void *pw = data_of(w)
    cdef void *pg = data_of(g)
    cdef void *pv = data_of(v) if mu != 0 else NULL
    cdef bint f32 = is_f32(w)
    if n == 0:
        return
    with nogil:
        if f32:
            c.gdl_sgd_step_f32(<float *>pw, <float *>pg, <float *>pv, n, a, mu, wd)
        else:
            c.gdl_sgd_step_f64(<double *>pw, <double *>pg, <double *>pv, n, a, mu, wd)


def adam_step_(w, g, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
    """One Adam step on w, m and v in place (PyTorch's Adam, not AdamW).

    d = g + weight_decay * w; m = beta1 * m + (1 - beta1) * d;
    v = beta2 * v + (1 - beta2) * d * d; w -= lr * mhat / (sqrt(vhat) + eps) with
    mhat = m / (1 - beta1**step), vhat = v / (1 - beta2**step). step counts this step, from 1;
    g, m and v have w's shape and dtype, m and v zeros before the first step.
    """
    w = check_inplace(w, "w")
    g = check_like(g, w, "g", "w")
    m = check_inplace_like(m, w, "m", "w")
    v = check_inplace_like(v, w, "v", "w")
    try:
        t = operator.index(step)
    except TypeError:
        raise TypeError(f"step must be an int, got {type(step).__name__}") from None
    if t < 1:
        raise ValueError(f"step must be >= 1 (the first step is 1), got {t}")
    t = min(t, 2**62)                           # beta**t has long since reached 0
    cdef double a = check_real(lr, "lr")
    cdef double b1 = _check_beta(beta1, "beta1")
    cdef double b2 = _check_beta(beta2, "beta2")
    cdef double e = check_real(eps, "eps")
    cdef double wd = check_real(weight_decay, "weight_decay")
    cdef int64_t k = t
    cdef size_t n = w.size
    cdef void *pw = data_of(w)
    cdef void *pg = data_of(g)
    cdef void *pm = data_of(m)
    cdef void *pv = data_of(v)
    cdef bint f32 = is_f32(w)
    if n == 0:
        return
    with nogil:
        if f32:
            c.gdl_adam_step_f32(<float *>pw, <float *>pg, <float *>pm, <float *>pv, n, k, a,
                                b1, b2, e, wd)
        else:
            c.gdl_adam_step_f64(<double *>pw, <double *>pg, <double *>pm, <double *>pv, n, k, a,
                                b1, b2, e, wd)


def sgd_rows_step_(W, rows, gR, lr, group=1):
    """W[rows[k]] -= lr * gR[k // group] for every k, in place: SGD on the rows an embedding
    used.

    W is (V, D), C-contiguous and writable; rows a 1-D integer array of row indices in
    [0, V) (a repeated row takes every update); gR is (len(rows) // group, D) with W's dtype:
    with ``group=L`` one row of gR serves L consecutive rows, an embedding bag's gradient
    (every word of bag b gets gR[b]) without repeating it. group must divide len(rows).
    """
    W = check_inplace(W, "W", 2)
    V, D = W.shape
    rows = check_indices(rows, "rows", V, 1)
    n = rows.shape[0]
    try:
        L = operator.index(group)
    except TypeError:
        raise TypeError(f"group must be an int, got {type(group).__name__}") from None
    if L < 1 or n % L:
        raise ValueError(f"group must be a positive divisor of len(rows) = {n}, got {L}")
    gR = check_shaped(gR, "gR", (n // L, D), W.dtype, "len(rows) // group, D")
    cdef double a = check_real(lr, "lr")
    cdef size_t count = n, per = L, width = D
    cdef void *pW = data_of(W)
    cdef const int64_t *pr = <const int64_t *>data_of(rows)
    cdef void *pR = data_of(gR)
    cdef bint f32 = is_f32(W)
    if count == 0 or width == 0:
        return
    with nogil:
        if f32:
            c.gdl_sgd_rows_step_f32(<float *>pW, pr, <float *>pR, count, per, width, a)
        else:
            c.gdl_sgd_rows_step_f64(<double *>pW, pr, <double *>pR, count, per, width, a)
