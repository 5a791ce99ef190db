"""Optimizer updates in place: SGD with momentum, Adam, sparse-row SGD (csrc/optim.c).

Every array updated in place must be C-contiguous and writable: it is never copied, since
the caller would not see the update of a copy.
"""
import operator

import numpy as np
from libc.stdint cimport int64_t

cimport libgdl as c
from checks cimport (check_indices, check_inplace, check_inplace_like, check_like,
                     check_real, check_shaped, real)

include "threads.pxi"


def _sgd_step(real[::1] w, const real[::1] g, double lr, double weight_decay):
    with nogil:
        if real is float:
            c.gdl_sgd_step_f32(&w[0], &g[0], NULL, w.shape[0], lr, 0.0, weight_decay)
        else:
            c.gdl_sgd_step_f64(&w[0], &g[0], NULL, w.shape[0], lr, 0.0, weight_decay)


def _sgd_momentum_step(real[::1] w, const real[::1] g, real[::1] v, double lr,
                       double momentum, double weight_decay):
    with nogil:
        if real is float:
            c.gdl_sgd_step_f32(&w[0], &g[0], &v[0], w.shape[0], lr, momentum, weight_decay)
        else:
            c.gdl_sgd_step_f64(&w[0], &g[0], &v[0], w.shape[0], lr, momentum, weight_decay)


def _adam_step(real[::1] w, const real[::1] g, real[::1] m, real[::1] v, int64_t step,
               double lr, double beta1, double beta2, double eps, double weight_decay):
    with nogil:
        if real is float:
            c.gdl_adam_step_f32(&w[0], &g[0], &m[0], &v[0], w.shape[0], step, lr, beta1,
                                beta2, eps, weight_decay)
        else:
            c.gdl_adam_step_f64(&w[0], &g[0], &m[0], &v[0], w.shape[0], step, lr, beta1,
                                beta2, eps, weight_decay)


def _sgd_rows_step(real[:, ::1] W, const int64_t[::1] rows, const real[:, ::1] gR, double lr):
    with nogil:
        if real is float:
            c.gdl_sgd_rows_step_f32(&W[0, 0], &rows[0], &gR[0, 0], rows.shape[0], W.shape[1],
                                    lr)
        else:
            c.gdl_sgd_rows_step_f64(&W[0, 0], &rows[0], &gR[0, 0], rows.shape[0], W.shape[1],
                                    lr)


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
    if not w.size:                              # &w[0] is undefined on an empty view
        return
    if mu != 0:
        _sgd_momentum_step(w.reshape(-1), g.reshape(-1), v.reshape(-1), a, mu, wd)
    else:
        _sgd_step(w.reshape(-1), g.reshape(-1), a, wd)


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
    if w.size:
        _adam_step(w.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1), t, a, b1, b2, e,
                   wd)


def sgd_rows_step_(W, rows, gR, lr):
    """W[rows[k]] -= lr * gR[k] for every k, in place: SGD on the rows an embedding used.

    W is (V, D), C-contiguous and writable; rows a 1-D integer array of row indices in
    [0, V) (a repeated row takes every update); gR is (len(rows), D) with W's dtype.
    """
    W = check_inplace(W, "W", 2)
    V, D = W.shape
    rows = check_indices(rows, "rows", V, 1)
    n = rows.shape[0]
    gR = check_shaped(gR, "gR", (n, D), W.dtype, "len(rows), D")
    cdef double a = check_real(lr, "lr")
    if n and D:
        _sgd_rows_step(W, rows, gR, a)
