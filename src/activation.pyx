"""Elementwise activations and their gradients: sigmoid, tanh, relu (csrc/activation.c)."""
import numpy as np

cimport libgdl as c
from checks cimport check_array, check_like, data_of, is_f32

include "threads.pxi"


cdef enum:
    SIGMOID
    TANH
    RELU


cdef object _forward(object x, int act):
    x = check_array(x, "x")
    y = np.empty_like(x)
    cdef size_t n = x.size
    if n == 0:
        return y
    cdef void *px = data_of(x)
    cdef void *py = data_of(y)
    cdef bint f32 = is_f32(x)
    with nogil:
        if f32:
            if act == SIGMOID:
                c.gdl_sigmoid_fwd_f32(<float *>px, <float *>py, n)
            elif act == TANH:
                c.gdl_tanh_fwd_f32(<float *>px, <float *>py, n)
            else:
                c.gdl_relu_fwd_f32(<float *>px, <float *>py, n)
        else:
            if act == SIGMOID:
                c.gdl_sigmoid_fwd_f64(<double *>px, <double *>py, n)
            elif act == TANH:
                c.gdl_tanh_fwd_f64(<double *>px, <double *>py, n)
            else:
                c.gdl_relu_fwd_f64(<double *>px, <double *>py, n)
    return y


cdef object _backward(object y, object gy, int act):
    y = check_array(y, "y")
    gy = check_like(gy, y, "gy", "y")
    gx = np.empty_like(y)
    cdef size_t n = y.size
    if n == 0:
        return gx
    cdef void *py = data_of(y)
    cdef void *pg = data_of(gy)
    cdef void *px = data_of(gx)
    cdef bint f32 = is_f32(y)
    with nogil:
        if f32:
            if act == SIGMOID:
                c.gdl_sigmoid_bwd_f32(<float *>py, <float *>pg, <float *>px, n)
            elif act == TANH:
                c.gdl_tanh_bwd_f32(<float *>py, <float *>pg, <float *>px, n)
            else:
                c.gdl_relu_bwd_f32(<float *>py, <float *>pg, <float *>px, n)
        else:
            if act == SIGMOID:
                c.gdl_sigmoid_bwd_f64(<double *>py, <double *>pg, <double *>px, n)
            elif act == TANH:
                c.gdl_tanh_bwd_f64(<double *>py, <double *>pg, <double *>px, n)
            else:
                c.gdl_relu_bwd_f64(<double *>py, <double *>pg, <double *>px, n)
    return gx


def sigmoid_fwd(x):
    """y = 1 / (1 + exp(-x)), elementwise; a new array with x's shape and dtype.

    Computed so that exp never overflows: ``sigmoid_fwd(np.array([-1000.0]))`` is ``[0.0]``.
    """
    return _forward(x, SIGMOID)


def sigmoid_bwd(y, gy):
    """gx = gy * y * (1 - y), from the saved output y; gy has y's shape and dtype."""
    return _backward(y, gy, SIGMOID)


def tanh_fwd(x):
    """y = tanh(x), elementwise; a new array with x's shape and dtype."""
    return _forward(x, TANH)


def tanh_bwd(y, gy):
    """gx = gy * (1 - y * y), from the saved output y; gy has y's shape and dtype."""
    return _backward(y, gy, TANH)


def relu_fwd(x):
    """y = max(x, 0), elementwise; a new array with x's shape and dtype.

    ``relu_fwd(np.array([-1.0, 2.0]))`` is ``[0.0, 2.0]``.
    """
    return _forward(x, RELU)


def relu_bwd(y, gy):
    """gx = gy where y > 0, else 0, from the saved output y; gy has y's shape and dtype."""
    return _backward(y, gy, RELU)
