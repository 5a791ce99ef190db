"""The LSTM over whole sequences, its matrix products through scipy's BLAS (csrc/lstm.c).

Note [LSTM gate order] (csrc/gdl.h): the 4H gate rows are i, f, g, o, as in PyTorch.
"""
import threading

import numpy as np

cimport libgdl as c
from checks cimport check_array, check_inplace, check_shaped, real, scratch

include "blas.pxi"
include "threads.pxi"

_INT_MAX = 2**31 - 1
_local = threading.local()                     # per-thread scratch (checks.scratch)


cdef tuple _check_lstm(x, W_ih, W_hh):
    """(x, W_ih, W_hh) checked against each other, and the sizes; x is (steps, B, I)."""
    x = check_array(x, "x", 3)
    steps, B, I = x.shape
    if steps == 0 or B == 0 or I == 0:
        raise ValueError(f"x must be (steps, batch, input_size) with every size >= 1, "
                         f"got shape {x.shape}")
    W_hh = check_array(W_hh, "W_hh", 2)
    H = W_hh.shape[1]
    if H == 0 or W_hh.shape[0] != 4 * H:
        raise ValueError(f"W_hh must be (4 * hidden_size, hidden_size) with hidden_size >= 1 "
                         f"(Note [LSTM gate order]: i, f, g, o), got shape {W_hh.shape}")
    if W_hh.dtype != x.dtype:
        raise TypeError(f"W_hh must have x's dtype {x.dtype}, got {W_hh.dtype}")
    W_ih = check_shaped(W_ih, "W_ih", (4 * H, I), x.dtype, "4 * hidden_size, input_size")
    if steps * B * max(I, 4 * H) > _INT_MAX:
        raise ValueError(f"x of shape {x.shape} with hidden_size {H} is too large for one "
                         f"BLAS call (int sizes); split the sequence")
    return x, W_ih, W_hh, steps, B, I, H


def _fwd(const real[:, :, ::1] x, const real[:, ::1] W_ih, const real[:, ::1] W_hh,
         const real[::1] b, real[:, :, ::1] G, real[:, :, ::1] hs, real[:, :, ::1] cs):
    cdef size_t steps = x.shape[0], B = x.shape[1], I = x.shape[2], H = W_hh.shape[1]
    with nogil:
        if real is float:
            c.gdl_lstm_fwd_f32(sgemm, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0], &b[0],
                               &G[0, 0, 0], &hs[0, 0, 0], &cs[0, 0, 0], steps, B, I, H)
        else:
            c.gdl_lstm_fwd_f64(dgemm, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0], &b[0],
                               &G[0, 0, 0], &hs[0, 0, 0], &cs[0, 0, 0], steps, B, I, H)


def _bwd(const real[:, :, ::1] x, const real[:, ::1] W_ih, const real[:, ::1] W_hh,
         const real[:, :, ::1] G, const real[:, :, ::1] hs, const real[:, :, ::1] cs,
         const real[:, :, ::1] gh, real[:, ::1] gc, real[:, ::1] gh0, real[:, :, ::1] gx,
         real[:, ::1] gW_ih, real[:, ::1] gW_hh, real[::1] gb, real[:, :, ::1] dG):
    cdef size_t steps = x.shape[0], B = x.shape[1], I = x.shape[2], H = W_hh.shape[1]
    cdef real *gx_ptr = NULL if gx is None else &gx[0, 0, 0]
    with nogil:
        if real is float:
            c.gdl_lstm_bwd_f32(sgemm, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0], &G[0, 0, 0],
                               &hs[0, 0, 0], &cs[0, 0, 0], &gh[0, 0, 0], &gc[0, 0],
                               &gh0[0, 0], gx_ptr, &gW_ih[0, 0], &gW_hh[0, 0], &gb[0],
                               &dG[0, 0, 0], steps, B, I, H)
        else:
            c.gdl_lstm_bwd_f64(dgemm, &x[0, 0, 0], &W_ih[0, 0], &W_hh[0, 0], &G[0, 0, 0],
                               &hs[0, 0, 0], &cs[0, 0, 0], &gh[0, 0, 0], &gc[0, 0],
                               &gh0[0, 0], gx_ptr, &gW_ih[0, 0], &gW_hh[0, 0], &gb[0],
                               &dG[0, 0, 0], steps, B, I, H)


def _fwd_projected(const real[:, ::1] W_hh, const real[::1] b, real[:, :, ::1] G,
                   real[:, :, ::1] hs, real[:, :, ::1] cs):
    cdef size_t steps = G.shape[0], B = G.shape[1], H = W_hh.shape[1]
    with nogil:
        if real is float:
            c.gdl_lstm_fwd_f32(sgemm, NULL, NULL, &W_hh[0, 0], &b[0], &G[0, 0, 0],
                               &hs[0, 0, 0], &cs[0, 0, 0], steps, B, 0, H)
        else:
            c.gdl_lstm_fwd_f64(dgemm, NULL, NULL, &W_hh[0, 0], &b[0], &G[0, 0, 0],
                               &hs[0, 0, 0], &cs[0, 0, 0], steps, B, 0, H)


def _bwd_projected(const real[:, ::1] W_hh, const real[:, :, ::1] G,
                   const real[:, :, ::1] hs, const real[:, :, ::1] cs,
                   const real[:, :, ::1] gh, real[:, ::1] gc, real[:, ::1] gh0,
                   real[:, ::1] gW_hh, real[::1] gb, real[:, :, ::1] dG):
    cdef size_t steps = G.shape[0], B = G.shape[1], H = W_hh.shape[1]
    with nogil:
        if real is float:
            c.gdl_lstm_bwd_f32(sgemm, NULL, NULL, &W_hh[0, 0], &G[0, 0, 0], &hs[0, 0, 0],
                               &cs[0, 0, 0], &gh[0, 0, 0], &gc[0, 0], &gh0[0, 0], NULL, NULL,
                               &gW_hh[0, 0], &gb[0], &dG[0, 0, 0], steps, B, 0, H)
        else:
            c.gdl_lstm_bwd_f64(dgemm, NULL, NULL, &W_hh[0, 0], &G[0, 0, 0], &hs[0, 0, 0],
                               &cs[0, 0, 0], &gh[0, 0, 0], &gc[0, 0], &gh0[0, 0], NULL, NULL,
                               &gW_hh[0, 0], &gb[0], &dG[0, 0, 0], steps, B, 0, H)


cdef object _buffer(object buf, str name, tuple shape, object dtype):
    """buf checked as a writable output of shape and dtype, or a new array when None."""
    if buf is None:
        return np.empty(shape, dtype=dtype)
    buf = check_inplace(buf, name, len(shape))
    if buf.shape != shape or buf.dtype != dtype:
        raise ValueError(f"{name} must be a {np.dtype(dtype)} buffer of shape {shape}, got "
                         f"{buf.dtype} {buf.shape}")
    return buf


def lstm_fwd(x, h0, c0, W_ih, W_hh, b, G=None, cs=None):
    """An LSTM over every step of x in one call (Note [LSTM gate order]: i, f, g, o).

    x (steps, B, I); h0, c0 (B, H); W_ih (4H, I); W_hh (4H, H); b (4H,), one dtype.
    For each t: G_t = x_t W_ih^T + h_{t-1} W_hh^T + b; i, f, o = sigmoid, g = tanh;
    c_t = f c_{t-1} + i g; h_t = o tanh(c_t).

    Returns ``(hs, cs, G)``: hs and cs (steps + 1, B, H) with hs[0] = h0, cs[0] = c0 and
    step t's h and c at t + 1; G (steps, B, 4H) the activated gates. ``lstm_bwd`` needs all
    three. G and cs may be passed in to be reused (C-contiguous, writable, right shape).

    >>> hs, cs, G = lstm_fwd(x, h0, c0, W_ih, W_hh, b)
    >>> outputs, h_n, c_n = hs[1:], hs[-1], cs[-1]
    """
    x, W_ih, W_hh, steps, B, I, H = _check_lstm(x, W_ih, W_hh)
    G = _buffer(G, "G", (steps, B, 4 * H), x.dtype)
    b, hs, cs = _start_states(b, h0, c0, cs, steps, B, H, x.dtype)
    _fwd(x, W_ih, W_hh, b, G, hs, cs)
    return hs, cs, G


cdef tuple _start_states(object b, object h0, object c0, object cs, size_t steps, size_t B,
                         size_t H, object dtype):
    """(b, hs, cs) for a forward: b checked, hs and cs (steps + 1, B, H) (cs reused when
    passed) with h0 and c0 checked into their first rows."""
    b = check_shaped(b, "b", (4 * H,), dtype, "4 * hidden_size")
    h0 = check_shaped(h0, "h0", (B, H), dtype, "batch, hidden_size")
    c0 = check_shaped(c0, "c0", (B, H), dtype, "batch, hidden_size")
    cs = _buffer(cs, "cs", (steps + 1, B, H), dtype)
    hs = np.empty((steps + 1, B, H), dtype=dtype)
    hs[0] = h0
    cs[0] = c0
    return b, hs, cs


cdef tuple _saved_states(object hs, object cs, object gh, object gc, size_t steps, size_t B,
                         size_t H, object dtype):
    """(hs, cs, gh, gc) checked for a backward, gc a fresh copy (zeros when None): the
    kernel overwrites it with c0's gradient."""
    hs = check_shaped(hs, "hs", (steps + 1, B, H), dtype, "steps + 1, batch, hidden_size")
    cs = check_shaped(cs, "cs", (steps + 1, B, H), dtype, "steps + 1, batch, hidden_size")
    gh = check_shaped(gh, "gh", (steps, B, H), dtype, "steps, batch, hidden_size")
    if gc is None:
        gc = np.zeros((B, H), dtype=dtype)
    else:
        gc = np.array(check_shaped(gc, "gc", (B, H), dtype, "batch, hidden_size"))
    return hs, cs, gh, gc


def lstm_bwd(x, W_ih, W_hh, G, hs, cs, gh, gc=None, need_gx=True):
    """Gradients of an LSTM from what ``lstm_fwd`` returned.

    gh (steps, B, H) is the upstream gradient of hs[1:] (add the final state's into
    gh[-1]); gc (B, H) that of the final cell state cs[-1], or None for zeros.
    Returns ``(gx, gh0, gc0, gW_ih, gW_hh, gb)``; gx is None unless need_gx.
    """
    x, W_ih, W_hh, steps, B, I, H = _check_lstm(x, W_ih, W_hh)
    G = check_shaped(G, "G", (steps, B, 4 * H), x.dtype, "steps, batch, 4 * hidden_size")
    hs, cs, gh, gc = _saved_states(hs, cs, gh, gc, steps, B, H, x.dtype)
    gh0 = np.empty((B, H), dtype=x.dtype)
    gx = np.empty((steps, B, I), dtype=x.dtype) if need_gx else None
    gW_ih = np.empty((4 * H, I), dtype=x.dtype)
    gW_hh = np.empty((4 * H, H), dtype=x.dtype)
    gb = np.empty(4 * H, dtype=x.dtype)
    dG = scratch(_local, (steps, B, 4 * H), x.dtype)
    _bwd(x, W_ih, W_hh, G, hs, cs, gh, gc, gh0, gx, gW_ih, gW_hh, gb, dG)
    return gx, gh0, gc, gW_ih, gW_hh, gb


def _check_projected(G, W_hh):
    """(G, W_hh, steps, B, H) checked: G (steps, B, 4H) and W_hh (4H, H) of one dtype."""
    W_hh = check_array(W_hh, "W_hh", 2)
    H = W_hh.shape[1]
    if H == 0 or W_hh.shape[0] != 4 * H:
        raise ValueError(f"W_hh must be (4 * hidden_size, hidden_size) with hidden_size >= 1 "
                         f"(Note [LSTM gate order]: i, f, g, o), got shape {W_hh.shape}")
    G = check_array(G, "G", 3)
    steps, B = G.shape[0], G.shape[1]
    if steps == 0 or B == 0 or G.shape[2] != 4 * H or G.dtype != W_hh.dtype:
        raise ValueError(f"G must be a {W_hh.dtype} (steps, batch, 4 * hidden_size) array "
                         f"with steps, batch >= 1 and hidden_size {H}, got {G.dtype} "
                         f"{G.shape}")
    if steps * B * 4 * H > _INT_MAX:
        raise ValueError(f"G of shape {G.shape} is too large for one BLAS call (int sizes); "
                         f"split the sequence")
    return G, W_hh, steps, B, H


def lstm_fwd_projected(G, h0, c0, W_hh, b, cs=None):
    """``lstm_fwd`` with the input projection done by the caller: G (steps, B, 4H) holds
    x_t W_ih^T for every step on entry (no bias) and the activated gates on exit, in place
    (C-contiguous and writable). Returns ``(hs, cs)`` as ``lstm_fwd`` does.

    >>> G = (x @ W_ih.T).copy()
    >>> hs, cs = lstm_fwd_projected(G, h0, c0, W_hh, b)    # as lstm_fwd(x, h0, c0, ...)
    """
    G = check_inplace(G, "G", 3)
    G, W_hh, steps, B, H = _check_projected(G, W_hh)
    b, hs, cs = _start_states(b, h0, c0, cs, steps, B, H, G.dtype)
    _fwd_projected(W_hh, b, G, hs, cs)
    return hs, cs


def lstm_bwd_projected(W_hh, G, hs, cs, gh, gc=None, dG=None):
    """``lstm_bwd`` for ``lstm_fwd_projected``: the caller takes the input's gradients from
    dG (steps, B, 4H), the gradient of every step's preactivations (gx_t = dG_t W_ih,
    gW_ih = sum over t of dG_t^T x_t). Returns ``(dG, gh0, gc0, gW_hh, gb)``; dG may be
    passed in to be reused.
    """
    G, W_hh, steps, B, H = _check_projected(G, W_hh)
    dtype = G.dtype
    hs, cs, gh, gc = _saved_states(hs, cs, gh, gc, steps, B, H, dtype)
    dG = _buffer(dG, "dG", (steps, B, 4 * H), dtype)
    gh0 = np.empty((B, H), dtype=dtype)
    gW_hh = np.empty((4 * H, H), dtype=dtype)
    gb = np.empty(4 * H, dtype=dtype)
    _bwd_projected(W_hh, G, hs, cs, gh, gc, gh0, gW_hh, gb, dG)
    return dG, gh0, gc, gW_hh, gb
