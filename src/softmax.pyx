"""Softmax, log-softmax, fused softmax cross-entropy and binary cross-entropy kernels
(csrc/softmax.c)."""
import numpy as np
from libc.stdint cimport int64_t

cimport libgdl as c
from checks cimport check_array, check_labels, check_like, data_of, is_f32

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


cdef object _forward(object x, bint log):
    x = check_array(x, "x")
    rows, cols = _rows_cols(x, "x")
    y = np.empty_like(x)
    cdef size_t r = rows, k = cols
    cdef void *px = data_of(x)
    cdef void *py = data_of(y)
    cdef bint f32 = is_f32(x)
    if r == 0:
        return y
    with nogil:
        if f32:
            if log:
                c.gdl_log_softmax_fwd_f32(<float *>px, <float *>py, r, k)
            else:
                c.gdl_softmax_fwd_f32(<float *>px, <float *>py, r, k)
        else:
            if log:
                c.gdl_log_softmax_fwd_f64(<double *>px, <double *>py, r, k)
            else:
                c.gdl_softmax_fwd_f64(<double *>px, <double *>py, r, k)
    return y


cdef object _backward(object y, object gy, bint log):
    y = check_array(y, "y")
    gy = check_like(gy, y, "gy", "y")
    rows, cols = _rows_cols(y, "y")
    gx = np.empty_like(y)
    cdef size_t r = rows, k = cols
    cdef void *py = data_of(y)
    cdef void *pg = data_of(gy)
    cdef void *px = data_of(gx)
    cdef bint f32 = is_f32(y)
    if r == 0:
        return gx
    with nogil:
        if f32:
            if log:
                c.gdl_log_softmax_bwd_f32(<float *>py, <float *>pg, <float *>px, r, k)
            else:
                c.gdl_softmax_bwd_f32(<float *>py, <float *>pg, <float *>px, r, k)
        else:
            if log:
                c.gdl_log_softmax_bwd_f64(<double *>py, <double *>pg, <double *>px, r, k)
            else:
                c.gdl_softmax_bwd_f64(<double *>py, <double *>pg, <double *>px, r, k)
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
    cdef size_t n = x.shape[0], k = x.shape[1]
    cdef void *px = data_of(x)
    cdef void *pp = data_of(p)
    cdef const int64_t *lab = <const int64_t *>data_of(labels)
    cdef bint f32 = is_f32(x)
    cdef double loss
    with nogil:
        if f32:
            loss = c.gdl_softmax_xent_fwd_f32(<float *>px, lab, <float *>pp, n, k)
        else:
            loss = c.gdl_softmax_xent_fwd_f64(<double *>px, lab, <double *>pp, n, k)
    return loss, p


def softmax_xent_bwd(p, labels, gloss=1.0):
    """Gradient of the mean loss w.r.t. the logits: (p - onehot(labels)) * gloss / N."""
    p, labels = _check_xent(p, labels, "p")
    gx = np.empty_like(p)
    cdef double g = float(gloss)
    cdef size_t n = p.shape[0], k = p.shape[1]
    cdef void *pp = data_of(p)
    cdef void *pg = data_of(gx)
    cdef const int64_t *lab = <const int64_t *>data_of(labels)
    cdef bint f32 = is_f32(p)
    with nogil:
        if f32:
            c.gdl_softmax_xent_bwd_f32(<float *>pp, lab, g, <float *>pg, n, k)
        else:
            c.gdl_softmax_xent_bwd_f64(<double *>pp, lab, g, <double *>pg, n, k)
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
    cdef void *pp = data_of(p)
    cdef void *pt = data_of(t)
    cdef bint f32 = is_f32(p)
    if n == 0:
        return 0.0
    with nogil:
        if f32:
            total = c.gdl_bce_fwd_f32(<float *>pp, <float *>pt, n, &bad)
        else:
            total = c.gdl_bce_fwd_f64(<double *>pp, <double *>pt, n, &bad)
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
    cdef void *pp = data_of(p)
    cdef void *pt = data_of(t)
    cdef void *pg = data_of(gp)
    cdef bint f32 = is_f32(p)
    if n == 0:
        return gp
    with nogil:
        if f32:
            c.gdl_bce_bwd_f32(<float *>pp, <float *>pt, scale, <float *>pg, n)
        else:
            c.gdl_bce_bwd_f64(<double *>pp, <double *>pt, scale, <double *>pg, n)
    return gp
