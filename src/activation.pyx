"""Elementwise activations and their gradients: sigmoid, tanh, relu (csrc/activation.c)."""
import numpy as np

cimport libgdl as c
from checks cimport check_array, check_like, real

include "threads.pxi"


cdef enum:
    SIGMOID
    TANH
    RELU


def _act_fwd(const real[::1] x, real[::1] y, int act):
    cdef size_t n = x.shape[0]
    with nogil:
        if real is float:
            if act == SIGMOID:
                c.gdl_sigmoid_fwd_f32(&x[0], &y[0], n)
            elif act == TANH:
                c.gdl_tanh_fwd_f32(&x[0], &y[0], n)
            else:
                c.gdl_relu_fwd_f32(&x[0], &y[0], n)
        else:
            if act == SIGMOID:
                c.gdl_sigmoid_fwd_f64(&x[0], &y[0], n)
            elif act == TANH:
                c.gdl_tanh_fwd_f64(&x[0], &y[0], n)
            else:
                c.gdl_relu_fwd_f64(&x[0], &y[0], n)


def _act_bwd(const real[::1] y, const real[::1] gy, real[::1] gx, int act):
    cdef size_t n = y.shape[0]
    with nogil:
        if real is float:
            if act == SIGMOID:
                c.gdl_sigmoid_bwd_f32(&y[0], &gy[0], &gx[0], n)
            elif act == TANH:
                c.gdl_tanh_bwd_f32(&y[0], &gy[0], &gx[0], n)
            else:
                c.gdl_relu_bwd_f32(&y[0], &gy[0], &gx[0], n)
        else:
            if act == SIGMOID:
                c.gdl_sigmoid_bwd_f64(&y[0], &gy[0], &gx[0], n)
            elif act == TANH:
                c.gdl_tanh_bwd_f64(&y[0], &gy[0], &gx[0], n)
            else:
                c.gdl_relu_bwd_f64(&y[0], &gy[0], &gx[0], n)


cdef object _forward(object x, int act):
    x = check_array(x, "x")
    y = np.empty_like(x)
    if x.size:                                  # &x[0] is undefined on an empty view
        _act_fwd(x.reshape(-1), y.reshape(-1), act)
    return y


cdef object _backward(object y, object gy, int act):
    y = check_array(y, "y")
    gy = check_like(gy, y, "gy", "y")
    gx = np.empty_like(y)
    if y.size:
        _act_bwd(y.reshape(-1), gy.reshape(-1), gx.reshape(-1), act)
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
