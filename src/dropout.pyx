"""Inverted dropout with counter-based randomness (csrc/dropout.c)."""
import operator

import numpy as np
from libc.stdint cimport uint8_t, uint64_t

cimport libgdl as c
from checks cimport check_array, check_real, check_shaped, data_of, is_f32

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
    cdef uint64_t key = s
    cdef size_t n = x.size
    cdef void *px = data_of(x)
    cdef void *py = data_of(y)
    cdef uint8_t *pm = <uint8_t *>data_of(mask)
    cdef bint f32 = is_f32(x)
    if n == 0:
        return y, mask
    with nogil:
        if f32:
            c.gdl_dropout_fwd_f32(<float *>px, q, key, <float *>py, pm, n)
        else:
            c.gdl_dropout_fwd_f64(<double *>px, q, key, <double *>py, pm, n)
    return y, mask


def dropout_bwd(gy, mask, p):
    """gx = gy * mask / (1 - p); mask is dropout_fwd's uint8 mask, with gy's shape."""
    gy = check_array(gy, "gy")
    mask = check_shaped(mask, "mask", gy.shape, np.uint8, "gy's shape")
    cdef double q = _check_p(p)
    gx = np.empty_like(gy)
    cdef size_t n = gy.size
    cdef void *pg = data_of(gy)
    cdef const uint8_t *pm = <const uint8_t *>data_of(mask)
    cdef void *px = data_of(gx)
    cdef bint f32 = is_f32(gy)
    if n == 0:
        return gx
    with nogil:
        if f32:
            c.gdl_dropout_bwd_f32(<float *>pg, pm, q, <float *>px, n)
        else:
            c.gdl_dropout_bwd_f64(<double *>pg, pm, q, <double *>px, n)
    return gx
