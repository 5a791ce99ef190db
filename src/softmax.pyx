"""Softmax, log-softmax, fused softmax cross-entropy and binary cross-entropy kernels
(csrc/softmax.c)."""
import numpy as np
from libc.stdint cimport int64_t

cimport libgdl as c
from checks cimport check_array, check_labels, check_like, real

include "threads.pxi"


cdef tuple _rows_cols(object x, str name):
    """(rows, cols) of x seen as a matrix over its last axis."""
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least 1 dimension, got a scalar")
    cdef Py_ssize_t cols = x.shape[x.ndim - 1]
    if cols == 0:
        raise ValueError(f"{name} must have at least one class on its last axis, "
                         f"got shape {x.shape}")
    return x.size // cols, cols


def _softmax_fwd(const real[::1] x, real[::1] y, size_t rows, size_t cols, bint log):
    with nogil:
        if real is float:
            if log:
                c.gdl_log_softmax_fwd_f32(&x[0], &y[0], rows, cols)
            else:
                c.gdl_softmax_fwd_f32(&x[0], &y[0], rows, cols)
        else:
            if log:
                c.gdl_log_softmax_fwd_f64(&x[0], &y[0], rows, cols)
            else:
                c.gdl_softmax_fwd_f64(&x[0], &y[0], rows, cols)


def _softmax_bwd(const real[::1] y, const real[::1] gy, real[::1] gx, size_t rows,
                 size_t cols, bint log):
    with nogil:
        if real is float:
            if log:
                c.gdl_log_softmax_bwd_f32(&y[0], &gy[0], &gx[0], rows, cols)
            else:
                c.gdl_softmax_bwd_f32(&y[0], &gy[0], &gx[0], rows, cols)
        else:
            if log:
                c.gdl_log_softmax_bwd_f64(&y[0], &gy[0], &gx[0], rows, cols)
            else:
                c.gdl_softmax_bwd_f64(&y[0], &gy[0], &gx[0], rows, cols)


cdef object _forward(object x, bint log):
    x = check_array(x, "x")
    rows, cols = _rows_cols(x, "x")
    y = np.empty_like(x)
    if rows:                                    # &x[0] is undefined on an empty view
        _softmax_fwd(x.reshape(-1), y.reshape(-1), rows, cols, log)
    return y


cdef object _backward(object y, object gy, bint log):
    y = check_array(y, "y")
    gy = check_like(gy, y, "gy", "y")
    rows, cols = _rows_cols(y, "y")
    gx = np.empty_like(y)
    if rows:
        _softmax_bwd(y.reshape(-1), gy.reshape(-1), gx.reshape(-1), rows, cols, log)
    return gx


def softmax_fwd(x):
    """y = exp(x) / sum(exp(x)) over the last axis; a new array with x's shape and dtype."""
    return _forward(x, False)


def softmax_bwd(y, gy):
    """Gradient of softmax from its saved output y and the upstream gradient gy."""
    return _backward(y, gy, False)


def log_softmax_fwd(x):
    """y = x - logsumexp(x) over the last axis; a new array with x's shape and dtype."""
    return _forward(x, True)


def log_softmax_bwd(y, gy):
    """Gradient of log-softmax from its saved output y and the upstream gradient gy."""
    return _backward(y, gy, True)


def _xent_fwd(const real[:, ::1] x, const int64_t[::1] labels, real[:, ::1] p):
    cdef double loss
    with nogil:
        if real is float:
            loss = c.gdl_softmax_xent_fwd_f32(&x[0, 0], &labels[0], &p[0, 0], x.shape[0],
                                              x.shape[1])
        else:
            loss = c.gdl_softmax_xent_fwd_f64(&x[0, 0], &labels[0], &p[0, 0], x.shape[0],
                                              x.shape[1])
    return loss


def _xent_bwd(const real[:, ::1] p, const int64_t[::1] labels, double gloss, real[:, ::1] gx):
    with nogil:
        if real is float:
            c.gdl_softmax_xent_bwd_f32(&p[0, 0], &labels[0], gloss, &gx[0, 0], p.shape[0],
                                       p.shape[1])
        else:
            c.gdl_softmax_xent_bwd_f64(&p[0, 0], &labels[0], gloss, &gx[0, 0], p.shape[0],
                                       p.shape[1])


cdef object _check_xent(object x, object labels, str xname):
    x = check_array(x, xname, 2)
    if x.shape[0] == 0:
        raise ValueError(f"{xname} must hold at least one row: the mean over an empty batch "
                         f"is undefined, got shape {x.shape}")
    if x.shape[1] == 0:
        raise ValueError(f"{xname} must have at least one class, got shape {x.shape}")
    labels = check_labels(labels, "labels", x.shape[0], x.shape[1])
    return x, labels


def softmax_xent_fwd(x, labels):
    """Mean softmax cross-entropy of logits x (N, C) against integer labels (N,).

    Returns ``(loss, p)``: the loss as a Python float and p = softmax(x), which
    ``softmax_xent_bwd`` needs.
    """
    x, labels = _check_xent(x, labels, "x")
    p = np.empty_like(x)
    loss = _xent_fwd(x, labels, p)
    return loss, p


def softmax_xent_bwd(p, labels, gloss=1.0):
    """Gradient of the mean loss w.r.t. the logits: (p - onehot(labels)) * gloss / N."""
    p, labels = _check_xent(p, labels, "p")
    gx = np.empty_like(p)
    _xent_bwd(p, labels, float(gloss), gx)
    return gx


def bce_fwd(p, t):
    """Summed binary cross-entropy -(t log p + (1 - t) log(1 - p)) of probabilities p against
    targets t (t like p), each log clamped at -100 as PyTorch's BCELoss; a Python float.
    Raises ValueError naming the first entry of p outside [0, 1] (or NaN)."""
    p = check_array(p, "p")
    t = check_like(t, p, "t", "p")
    cdef Py_ssize_t n = p.size
    cdef int64_t bad = -1
    cdef double total = 0
    cdef const float[::1] pf, tf
    cdef const double[::1] pd, td
    if n == 0:
        return 0.0
    if p.dtype == np.float32:
        pf = p.reshape(-1)
        tf = t.reshape(-1)
        with nogil:
            total = c.gdl_bce_fwd_f32(&pf[0], &tf[0], n, &bad)
    else:
        pd = p.reshape(-1)
        td = t.reshape(-1)
        with nogil:
            total = c.gdl_bce_fwd_f64(&pd[0], &td[0], n, &bad)
    if bad >= 0:
        where = np.unravel_index(bad, p.shape)
        raise ValueError(f"input must hold probabilities in [0, 1] (apply sigmoid first), got "
                         f"{p[where]} at index {tuple(int(i) for i in where)}")
    return total


def bce_bwd(p, t, double scale):
    """scale (p - t) / max(p (1 - p), 1e-12): the gradient of the summed binary cross-entropy
    times scale; a new array like p."""
    p = check_array(p, "p")
    t = check_like(t, p, "t", "p")
    gp = np.empty_like(p)
    cdef Py_ssize_t n = p.size
    cdef const float[::1] pf, tf
    cdef float[::1] gf
    cdef const double[::1] pd, td
    cdef double[::1] gd
    if n == 0:
        return gp
    if p.dtype == np.float32:
        pf = p.reshape(-1)
        tf = t.reshape(-1)
        gf = gp.reshape(-1)
        with nogil:
            c.gdl_bce_bwd_f32(&pf[0], &tf[0], scale, &gf[0], n)
    else:
        pd = p.reshape(-1)
        td = t.reshape(-1)
        gd = gp.reshape(-1)
        with nogil:
            c.gdl_bce_bwd_f64(&pd[0], &td[0], scale, &gd[0], n)
    return gp
