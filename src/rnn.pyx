"""The vanilla RNN over whole sequences, its matrix products through scipy's BLAS
(csrc/rnn.c): h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b), act tanh, sigmoid or relu."""
import threading

import numpy as np

cimport libgdl as c
from checks cimport check_array, check_shaped, real, scratch

include "blas.pxi"
include "threads.pxi"

_INT_MAX = 2**31 - 1
_ACTIVATIONS = {"tanh": c.GDL_RNN_TANH, "sigmoid": c.GDL_RNN_SIGMOID, "relu": c.GDL_RNN_RELU}
_local = threading.local()                     # per-thread scratch (checks.scratch)


cdef int _activation(object nonlinearity) except -1:
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"nonlinearity must be one of {sorted(_ACTIVATIONS)}, got "
                         f"{nonlinearity!r}")
    return _ACTIVATIONS[nonlinearity]


cdef tuple _check_rnn(x, W_ih, W_hh):
    """(x, W_ih, W_hh) checked against each other, and the sizes; x is (steps, B, I)."""
    x = check_array(x, "x", 3)
    steps, B, I = x.shape
    if steps == 0 or B == 0 or I == 0:
        raise ValueError(f"x must be (steps, batch, input_size) with every size >= 1, "
                         f"got shape {x.shape}")
    W_hh = check_array(W_hh, "W_hh", 2)
    H = W_hh.shape[1]
    if H == 0 or W_hh.shape[0] != H:
        raise ValueError(f"W_hh must be (hidden_size, hidden_size) with hidden_size >= 1, "
                         f"got shape {W_hh.shape}")
    if W_hh.dtype != x.dtype:
        raise TypeError(f"W_hh must have x's dtype {x.dtype}, got {W_hh.dtype}")
    W_ih = check_shaped(W_ih, "W_ih", (H, I), x.dtype, "hidden_size, input_size")
    if steps * B * max(I, H) > _INT_MAX:
        raise ValueError(f"x of shape {x.shape} with hidden_size {H} is too large for one "
                         f"BLAS call (int sizes); split the sequence")
    return x, W_ih, W_hh, steps, B, I, H


def _fwd(int act, const real[:, :, ::1] x, const real[:, ::1] W_ih, const real[:, ::1] W_hh,
         const real[::1] b, real[:, :, ::1] hs):
    cdef size_t steps = x.shape[0], B = x.shape[1], I = x.shape[2], H = W_hh.shape[1]
    with nogil:
        if real is float:
            c.gdl_rnn_fwd_f32(sgemm, act, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0], &b[0],
                              &hs[0, 0, 0], steps, B, I, H)
        else:
            c.gdl_rnn_fwd_f64(dgemm, act, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0], &b[0],
                              &hs[0, 0, 0], steps, B, I, H)


def _bwd(int act, const real[:, :, ::1] x, const real[:, ::1] W_ih, const real[:, ::1] W_hh,
         const real[:, :, ::1] hs, const real[:, :, ::1] gh, real[:, ::1] gh0,
         real[:, :, ::1] gx, real[:, ::1] gW_ih, real[:, ::1] gW_hh, real[::1] gb,
         real[:, :, ::1] dA):
    cdef size_t steps = x.shape[0], B = x.shape[1], I = x.shape[2], H = W_hh.shape[1]
    cdef real *gx_ptr = NULL if gx is None else &gx[0, 0, 0]
    with nogil:
        if real is float:
            c.gdl_rnn_bwd_f32(sgemm, act, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0],
                              &hs[0, 0, 0], &gh[0, 0, 0], &gh0[0, 0], gx_ptr, &gW_ih[0, 0],
                              &gW_hh[0, 0], &gb[0], &dA[0, 0, 0], steps, B, I, H)
        else:
            c.gdl_rnn_bwd_f64(dgemm, act, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0],
                              &hs[0, 0, 0], &gh[0, 0, 0], &gh0[0, 0], gx_ptr, &gW_ih[0, 0],
                              &gW_hh[0, 0], &gb[0], &dA[0, 0, 0], steps, B, I, H)


def rnn_fwd(x, h0, W_ih, W_hh, b, nonlinearity="tanh"):
    """A vanilla RNN over every step of x in one call.

    x (steps, B, I); h0 (B, H); W_ih (H, I); W_hh (H, H); b (H,), one dtype;
    h_t = act(x_t W_ih^T + h_{t-1} W_hh^T + b), act "tanh", "sigmoid" or "relu".
    Returns hs (steps + 1, B, H): hs[0] = h0 and step t's h at t + 1 (``rnn_bwd`` needs it).

    >>> hs = rnn_fwd(x, h0, W_ih, W_hh, b, "tanh")
    >>> outputs, h_n = hs[1:], hs[-1]
    """
    cdef int act = _activation(nonlinearity)
    x, W_ih, W_hh, steps, B, I, H = _check_rnn(x, W_ih, W_hh)
    b = check_shaped(b, "b", (H,), x.dtype, "hidden_size")
    h0 = check_shaped(h0, "h0", (B, H), x.dtype, "batch, hidden_size")
    hs = np.empty((steps + 1, B, H), dtype=x.dtype)
    hs[0] = h0
    _fwd(act, x, W_ih, W_hh, b, hs)
    return hs


def rnn_bwd(x, W_ih, W_hh, hs, gh, nonlinearity="tanh", need_gx=True):
    """Gradients of a vanilla RNN from the hs that ``rnn_fwd`` returned.

    gh (steps, B, H) is the upstream gradient of hs[1:] (add the final state's into gh[-1]).
    Returns ``(gx, gh0, gW_ih, gW_hh, gb)``; gx is None unless need_gx.
    """
    cdef int act = _activation(nonlinearity)
    x, W_ih, W_hh, steps, B, I, H = _check_rnn(x, W_ih, W_hh)
    hs = check_shaped(hs, "hs", (steps + 1, B, H), x.dtype, "steps + 1, batch, hidden_size")
    gh = check_shaped(gh, "gh", (steps, B, H), x.dtype, "steps, batch, hidden_size")
    gh0 = np.empty((B, H), dtype=x.dtype)
    gx = np.empty((steps, B, I), dtype=x.dtype) if need_gx else None
    gW_ih = np.empty((H, I), dtype=x.dtype)
    gW_hh = np.empty((H, H), dtype=x.dtype)
    gb = np.empty(H, dtype=x.dtype)
    dA = scratch(_local, (steps, B, H), x.dtype)
    _bwd(act, x, W_ih, W_hh, hs, gh, gh0, gx, gW_ih, gW_hh, gb, dA)
    return gx, gh0, gW_ih, gW_hh, gb
