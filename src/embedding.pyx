"""Embedding gather and scatter-add, per index and per bag of indices (csrc/embedding.c)."""
import numpy as np
from libc.stdint cimport int64_t

cimport libgdl as c
from checks cimport check_array, check_indices, check_inplace, check_shaped, data_of, is_f32

include "threads.pxi"


cdef enum:
    GATHER          # out[i] = W[idx[i]]
    SCATTER         # W[idx[i]] += gy[i]
    BAG_GATHER      # out[b] = sum over l of W[idx[b, l]]
    BAG_SCATTER     # W[idx[b, l]] += gy[b]


cdef _run(int kind, object W, object idx, object rows, size_t B, size_t L):
    """One kernel call on checked arrays: W the (V, D) table (or its gradient), idx the int64
    indices, rows the (n, D) or (B, D) other side; B bags of L indices (B = n, L = 1 for the
    plain lookups)."""
    cdef size_t D = W.shape[1]
    cdef void *pW = data_of(W)
    cdef const int64_t *pi = <const int64_t *>data_of(idx)
    cdef void *pr = data_of(rows)
    cdef bint f32 = is_f32(W)
    if B == 0 or L == 0 or D == 0:
        return
    with nogil:
        if f32:
            if kind == GATHER:
                c.gdl_embedding_fwd_f32(<float *>pW, pi, <float *>pr, B, D)
            elif kind == SCATTER:
                c.gdl_embedding_bwd_f32(<float *>pW, pi, <float *>pr, B, D)
            elif kind == BAG_GATHER:
                c.gdl_embedding_bag_fwd_f32(<float *>pW, pi, <float *>pr, B, L, D)
            else:
                c.gdl_embedding_bag_bwd_f32(<float *>pW, pi, <float *>pr, B, L, D)
        else:
            if kind == GATHER:
                c.gdl_embedding_fwd_f64(<double *>pW, pi, <double *>pr, B, D)
            elif kind == SCATTER:
                c.gdl_embedding_bwd_f64(<double *>pW, pi, <double *>pr, B, D)
            elif kind == BAG_GATHER:
                c.gdl_embedding_bag_fwd_f64(<double *>pW, pi, <double *>pr, B, L, D)
            else:
                c.gdl_embedding_bag_bwd_f64(<double *>pW, pi, <double *>pr, B, L, D)


def embedding_fwd(W, idx):
    """out = W[idx]: row idx[i] of the (V, D) table W for every index.

    idx is an integer array of any shape, each entry in [0, V); out has shape
    idx.shape + (D,) and W's dtype. ``embedding_fwd(W, np.array([[0, 2]]))`` is (1, 2, D).
    """
    W = check_array(W, "W", 2)
    V, D = W.shape
    idx = check_indices(idx, "idx", V)
    out = np.empty(idx.shape + (D,), dtype=W.dtype)
    _run(GATHER, W, idx, out, idx.size, 1)
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
    _run(SCATTER, gW, idx, gy, idx.size, 1)


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
    _run(BAG_GATHER, W, idx, out, B, L)
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
    _run(BAG_SCATTER, gW, idx, gy, B, L)
