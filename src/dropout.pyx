"""Inverted dropout with counter-based randomness (csrc/dropout.c)."""
import operator

import numpy as np
from libc.stdint cimport uint8_t, uint64_t

cimport libgdl as c
from checks cimport check_array, check_real, check_shaped, real

include "threads.pxi"


cdef double _check_p(object p) except? -1.0:
    cdef double q = check_real(p, "p")
    if not 0 <= q < 1:                          # also refuses NaN
        raise ValueError(f"p must be a drop probability in [0, 1), got {p}")
    return q


cdef object _check_seed(object seed):
    try:
        s = operator.index(seed)
    except TypeError:
        raise TypeError(f"seed must be an int, got {type(seed).__name__}") from None
    if not 0 <= s < 2**64:
        raise ValueError(f"seed must be in [0, 2**64) (a uint64), got {s}")
    return s


def _dropout_fwd(const real[::1] x, double p, uint64_t seed, real[::1] y, uint8_t[::1] mask):
    with nogil:
        if real is float:
            c.gdl_dropout_fwd_f32(&x[0], p, seed, &y[0], &mask[0], x.shape[0])
        else:
            c.gdl_dropout_fwd_f64(&x[0], p, seed, &y[0], &mask[0], x.shape[0])


def _dropout_bwd(const real[::1] gy, const uint8_t[::1] mask, double p, real[::1] gx):
    with nogil:
        if real is float:
            c.gdl_dropout_bwd_f32(&gy[0], &mask[0], p, &gx[0], gy.shape[0])
        else:
            c.gdl_dropout_bwd_f64(&gy[0], &mask[0], p, &gx[0], gy.shape[0])


def dropout_fwd(x, p, seed):
    """Inverted dropout: returns ``(y, mask)`` with y = x * mask / (1 - p).

    mask is a uint8 array of x's shape, 1 where the entry is kept (probability 1 - p). It
    depends only on seed (an int in [0, 2**64)) and each entry's position, so the same seed
    gives the same mask. p in [0, 1); p == 0 keeps everything.
    ``y, mask = dropout_fwd(np.ones(4), 0.5, seed=7)`` gives y entries of 0.0 or 2.0.
    """
    x = check_array(x, "x")
    cdef double q = _check_p(p)
    s = _check_seed(seed)
    y = np.empty_like(x)
    mask = np.empty(x.shape, dtype=np.uint8)
    if x.size:                                  # &x[0] is undefined on an empty view
        _dropout_fwd(x.reshape(-1), q, s, y.reshape(-1), mask.reshape(-1))
    return y, mask


def dropout_bwd(gy, mask, p):
    """gx = gy * mask / (1 - p); mask is dropout_fwd's uint8 mask, with gy's shape."""
    gy = check_array(gy, "gy")
    mask = check_shaped(mask, "mask", gy.shape, np.uint8, "gy's shape")
    cdef double q = _check_p(p)
    gx = np.empty_like(gy)
    if gy.size:
        _dropout_bwd(gy.reshape(-1), mask.reshape(-1), q, gx.reshape(-1))
    return gx
