"""Embedding gather and scatter-add, per index and per bag of indices (csrc/embedding.c)."""
import numpy as np
from libc.stdint cimport int64_t

cimport libgdl as c
from checks cimport check_array, check_indices, check_inplace, check_shaped, real

include "threads.pxi"


def _embedding_fwd(const real[:, ::1] W, const int64_t[::1] idx, real[:, ::1] out):
    with nogil:
        if real is float:
            c.gdl_embedding_fwd_f32(&W[0, 0], &idx[0], &out[0, 0], idx.shape[0], W.shape[1])
        else:
            c.gdl_embedding_fwd_f64(&W[0, 0], &idx[0], &out[0, 0], idx.shape[0], W.shape[1])


def _embedding_bwd(real[:, ::1] gW, const int64_t[::1] idx, const real[:, ::1] gy):
    with nogil:
        if real is float:
            c.gdl_embedding_bwd_f32(&gW[0, 0], &idx[0], &gy[0, 0], idx.shape[0], gW.shape[1])
        else:
            c.gdl_embedding_bwd_f64(&gW[0, 0], &idx[0], &gy[0, 0], idx.shape[0], gW.shape[1])


def _bag_fwd(const real[:, ::1] W, const int64_t[:, ::1] idx, real[:, ::1] out):
    with nogil:
        if real is float:
            c.gdl_embedding_bag_fwd_f32(&W[0, 0], &idx[0, 0], &out[0, 0], idx.shape[0],
                                        idx.shape[1], W.shape[1])
        else:
            c.gdl_embedding_bag_fwd_f64(&W[0, 0], &idx[0, 0], &out[0, 0], idx.shape[0],
                                        idx.shape[1], W.shape[1])


def _bag_bwd(real[:, ::1] gW, const int64_t[:, ::1] idx, const real[:, ::1] gy):
    with nogil:
        if real is float:
            c.gdl_embedding_bag_bwd_f32(&gW[0, 0], &idx[0, 0], &gy[0, 0], idx.shape[0],
                                        idx.shape[1], gW.shape[1])
        else:
            c.gdl_embedding_bag_bwd_f64(&gW[0, 0], &idx[0, 0], &gy[0, 0], idx.shape[0],
                                        idx.shape[1], gW.shape[1])


def embedding_fwd(W, idx):
    """out = W[idx]: row idx[i] of the (V, D) table W for every index.

    idx is an integer array of any shape, each entry in [0, V); out has shape
    idx.shape + (D,) and W's dtype. ``embedding_fwd(W, np.array([[0, 2]]))`` is (1, 2, D).
    """
    W = check_array(W, "W", 2)
    V, D = W.shape
    idx = check_indices(idx, "idx", V)
    out = np.empty(idx.shape + (D,), dtype=W.dtype)
    if idx.size and D:                          # &W[0, 0] is undefined on an empty view
        _embedding_fwd(W, idx.reshape(-1), out.reshape(-1, D))
    return out


def embedding_bwd_(gW, idx, gy):
    """gW[idx[i]] += gy[i] for every position i, in place; repeated indices accumulate.

    gW is the (V, D) gradient table, C-contiguous and writable (never copied: it is the
    output); gy has shape idx.shape + (D,) and gW's dtype. Rows not in idx are untouched.
    """
    gW = check_inplace(gW, "gW", 2)
    V, D = gW.shape
    idx = check_indices(idx, "idx", V)
    gy = check_shaped(gy, "gy", idx.shape + (D,), gW.dtype, "idx.shape + (D,)")
    if idx.size and D:
        _embedding_bwd(gW, idx.reshape(-1), gy.reshape(-1, D))


def embedding_bag_fwd(W, idx):
    """out[b] = sum over l of W[idx[b, l]]: a bag of words per row of the (B, L) idx.

    W is (V, D); out is (B, D) with W's dtype (zeros when L == 0). This is the book's
    chapter-11 hidden layer, ``np.sum(W[idx[b]], axis=0)`` for every b at once.
    """
    W = check_array(W, "W", 2)
    V, D = W.shape
    idx = check_indices(idx, "idx", V, 2)
    B, L = idx.shape
    out = np.zeros((B, D), dtype=W.dtype)
    if B and L and D:
        _bag_fwd(W, idx, out)
    return out


def embedding_bag_bwd_(gW, idx, gy):
    """gW[idx[b, l]] += gy[b] for every (b, l), in place; gy is (B, D) with gW's dtype.

    gW is the (V, D) gradient table, C-contiguous and writable (never copied).
    """
    gW = check_inplace(gW, "gW", 2)
    V, D = gW.shape
    idx = check_indices(idx, "idx", V, 2)
    B, L = idx.shape
    gy = check_shaped(gy, "gy", (B, D), gW.dtype, "(B, D) for idx of shape (B, L)")
    if B and L and D:
        _bag_bwd(gW, idx, gy)
