"""2-D convolution, NCHW: im2col + GEMM through the BLAS by pointer (csrc/conv.c).

Note [conv BLAS path]: the GEMM is numpy's OpenBLAS or scipy.linalg.cython_blas's sgemm/dgemm
(Note [numpy's BLAS] in csrc/gdl.h; the measurements below are scipy's), called by pointer
from the C loop (Note [conv as GEMM] in gdl.h), not numpy's matmul on a column matrix from
Python. benchmarks/conv_gemm_choice.py, forward + backward in ms, float32, on this project's
2-core machine while other jobs ran (ch10 conv / two-conv net's conv1 / its conv2):
  1 thread:  scipy per image 7.9 / 7.8 / 35.0, numpy matmul 7.9 / 7.5 / 50.9;
  2 threads: scipy per image 14.5 / 12.9 / 775, scipy whole batch 40 / 48 / 292,
             numpy matmul 13.8 / 12.3 / 342.
The scipy path is as fast or faster. How many images one GEMM takes depends on the load: on a
busy machine every threaded BLAS call that waits for its second thread costs milliseconds and
whole-batch GEMMs win (two-conv training step, bench_conv.py: 412 ms against 1795 ms one image
per GEMM), while on a quiet one the cache wins (book step 52 ms with a 128 KB chunk against
67 ms whole-batch; two-conv step 122 against 150 ms). CHUNK_ENTRIES keeps the quiet machine's
choice, a scratch that stays in L2: about one image per GEMM for these networks.
"""
import threading

import numpy as np

cimport libgdl as c
from checks cimport check_array, check_pair, check_shaped, real

include "blas.pxi"
include "threads.pxi"

_INT_MAX = 2 ** 31 - 1
CHUNK_ENTRIES = 1 << 15      # scratch entries per GEMM chunk (Note [conv as GEMM] in gdl.h)
_scratch = threading.local()


cdef object _workspace(Py_ssize_t n, object dtype):
    """n entries of dtype from this thread's scratch buffer, kept and grown across calls:
    re-allocating the columns every step costs page faults (DESIGN.md, Memory)."""
    cdef Py_ssize_t nbytes = n * np.dtype(dtype).itemsize
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 64), dtype=np.uint8)
        _scratch.buf = buf
    return buf[:nbytes].view(dtype)


cdef c.gdl_window _window(tuple x_shape, tuple kernel, object stride, object padding,
                          str xname) except *:
    """The window of a kernel sliding over x's (H, W) planes, after checking that it fits."""
    cdef c.gdl_window w
    sh, sw = check_pair(stride, "stride", 1)
    ph, pw = check_pair(padding, "padding", 0)
    H, W = x_shape[2], x_shape[3]
    kh, kw = kernel
    if H < 1 or W < 1:
        raise ValueError(f"{xname} must have planes of at least 1x1, got shape {x_shape}")
    if kh > H + 2 * ph or kw > W + 2 * pw:
        raise ValueError(f"kernel {kh}x{kw} is larger than the padded input "
                         f"{H + 2 * ph}x{W + 2 * pw} ({xname} of shape {x_shape}, padding "
                         f"({ph}, {pw})): {xname} must be at least ({kh - 2 * ph}, "
                         f"{kw - 2 * pw}) in H and W")
    w.H, w.W, w.kh, w.kw, w.sh, w.sw, w.ph, w.pw = H, W, kh, kw, sh, sw, ph, pw
    w.OH = (H + 2 * ph - kh) // sh + 1
    w.OW = (W + 2 * pw - kw) // sw + 1
    return w


cdef object _check_x(object x, str name):
    x = check_array(x, name)
    if x.ndim != 4:
        raise ValueError(f"{name} must be 4-D (N, C, H, W), got shape {x.shape}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one channel, got shape {x.shape}")
    return x


cdef tuple _check_conv(object x, object W, object stride, object padding, c.gdl_window *win):
    """(x, W), checked: W (O, C, kh, kw) fits x (N, C, H, W); fills *win."""
    x = _check_x(x, "x")
    W = check_array(W, "W")
    if W.ndim != 4:
        raise ValueError(f"W must be 4-D (out_channels, in_channels, kh, kw), got shape "
                         f"{W.shape}")
    if W.dtype != x.dtype:
        raise TypeError(f"W must have x's dtype {x.dtype}, got {W.dtype}")
    O, C, kh, kw = W.shape
    if C != x.shape[1]:
        raise ValueError(f"W has {C} input channels but x has {x.shape[1]} (x of shape "
                         f"{x.shape}): W must be ({O}, {x.shape[1]}, {kh}, {kw})")
    if O < 1 or kh < 1 or kw < 1:
        raise ValueError(f"W must have at least one output channel and a 1x1 kernel, got "
                         f"shape {W.shape}")
    cdef c.gdl_window w = _window(x.shape, (kh, kw), stride, padding, "x")
    if max(C * kh * kw, O) * w.OH * w.OW > _INT_MAX or O * C * kh * kw > _INT_MAX:
        raise ValueError(f"x of shape {x.shape} with W of shape {W.shape} is too large for "
                         f"one image's GEMM (more than 2^31 - 1 entries)")
    win[0] = w
    return x, W


cdef Py_ssize_t _chunk(object chunk, Py_ssize_t N, Py_ssize_t per_image) except -1:
    """Images per GEMM (Note [conv as GEMM]): as many as keep the scratch within
    CHUNK_ENTRIES, unless the caller says."""
    if chunk is None:
        chunk = CHUNK_ENTRIES // per_image
    elif not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"chunk must be a positive int or None, got {chunk!r}")
    return max(1, min(N, chunk))


def _conv_fwd(const real[:, :, :, ::1] x, const real[:, :, :, ::1] Wt, const real[::1] b,
              real[:, :, :, ::1] y, real[::1] cols, real[::1] out, size_t chunk,
              c.gdl_window w):
    cdef const real *bias = &b[0] if b is not None else NULL
    with nogil:
        if real is float:
            c.gdl_conv2d_fwd_f32(sgemm, &x[0, 0, 0, 0], &Wt[0, 0, 0, 0], bias, &y[0, 0, 0, 0],
                                 &cols[0], &out[0], x.shape[0], x.shape[1], Wt.shape[0],
                                 chunk, &w)
        else:
            c.gdl_conv2d_fwd_f64(dgemm, &x[0, 0, 0, 0], &Wt[0, 0, 0, 0], bias, &y[0, 0, 0, 0],
                                 &cols[0], &out[0], x.shape[0], x.shape[1], Wt.shape[0],
                                 chunk, &w)


def _conv_bwd(const real[:, :, :, ::1] x, const real[:, :, :, ::1] Wt,
              const real[:, :, :, ::1] gy, real[:, :, :, ::1] gx, real[:, :, :, ::1] gW,
              real[::1] gb, real[::1] cols, real[::1] gyT, real[::1] gcols, size_t chunk,
              c.gdl_window w):
    cdef real *pgx = &gx[0, 0, 0, 0] if gx is not None else NULL
    cdef real *pgW = &gW[0, 0, 0, 0] if gW is not None else NULL
    cdef real *pgb = &gb[0] if gb is not None else NULL
    with nogil:
        if real is float:
            c.gdl_conv2d_bwd_f32(sgemm, &x[0, 0, 0, 0], &Wt[0, 0, 0, 0], &gy[0, 0, 0, 0], pgx,
                                 pgW, pgb, &cols[0], &gyT[0], &gcols[0], x.shape[0],
                                 x.shape[1], Wt.shape[0], chunk, &w)
        else:
            c.gdl_conv2d_bwd_f64(dgemm, &x[0, 0, 0, 0], &Wt[0, 0, 0, 0], &gy[0, 0, 0, 0], pgx,
                                 pgW, pgb, &cols[0], &gyT[0], &gcols[0], x.shape[0],
                                 x.shape[1], Wt.shape[0], chunk, &w)


def conv2d_fwd(x, W, b=None, stride=1, padding=0, chunk=None):
    """y = conv2d(x, W) + b: x (N, C, H, W), W (O, C, kh, kw), b (O,) or None -> y (N, O, OH, OW).

    Cross-correlation as in PyTorch, zero padding, OH = (H + 2 ph - kh) // sh + 1; stride and
    padding are an int or a pair; chunk (images per GEMM) is picked when None.
    ``conv2d_fwd(np.ones((2, 1, 5, 5)), np.ones((4, 1, 3, 3)))`` is (2, 4, 3, 3), every entry 9.
    """
    cdef c.gdl_window w
    x, W = _check_conv(x, W, stride, padding, &w)
    O = W.shape[0]
    if b is not None:
        b = check_shaped(b, "b", (O,), x.dtype, "one bias per output channel of W")
    N, C = x.shape[0], x.shape[1]
    y = np.empty((N, O, w.OH, w.OW), dtype=x.dtype)
    if N:
        K, P = C * w.kh * w.kw, w.OH * w.OW
        g = _chunk(chunk, N, (K + O) * P)
        scratch = _workspace((K + O) * g * P, x.dtype)
        _conv_fwd(x, W, b, y, scratch[:K * g * P], scratch[K * g * P:], g, w)
    return y


def conv2d_bwd(x, W, gy, stride=1, padding=0, need_x=True, need_W=True, need_b=True,
               chunk=None):
    """(gx, gW, gb): the gradients of conv2d_fwd's output wrt x, W and b for the upstream gy
    (N, O, OH, OW); each is None unless its need_ flag is set."""
    cdef c.gdl_window w
    x, W = _check_conv(x, W, stride, padding, &w)
    N, C, O = x.shape[0], x.shape[1], W.shape[0]
    gy = check_shaped(gy, "gy", (N, O, w.OH, w.OW), x.dtype, "the shape of conv2d's output")
    if N == 0:
        return (np.empty_like(x) if need_x else None, np.zeros_like(W) if need_W else None,
                np.zeros(O, dtype=x.dtype) if need_b else None)
    gx = np.empty_like(x) if need_x else None
    gW = np.empty_like(W) if need_W else None
    gb = np.empty(O, dtype=x.dtype) if need_b else None
    K, P = C * w.kh * w.kw, w.OH * w.OW
    g = _chunk(chunk, N, (2 * K + O) * P)
    scratch = _workspace((2 * K + O) * g * P, x.dtype)
    cols = scratch[:K * g * P]
    gcols = scratch[K * g * P:2 * K * g * P]
    _conv_bwd(x, W, gy, gx, gW, gb, cols, scratch[2 * K * g * P:], gcols, g, w)
    return gx, gW, gb


def _im2col(const real[:, :, :, ::1] x, real[:, :, ::1] cols, c.gdl_window w):
    cdef Py_ssize_t n
    with nogil:
        for n in range(x.shape[0]):
            if real is float:
                c.gdl_im2col_f32(&x[n, 0, 0, 0], &cols[n, 0, 0], cols.shape[2], x.shape[1], &w)
            else:
                c.gdl_im2col_f64(&x[n, 0, 0, 0], &cols[n, 0, 0], cols.shape[2], x.shape[1], &w)


def _col2im(const real[:, :, ::1] cols, real[:, :, :, ::1] x, c.gdl_window w):
    cdef Py_ssize_t n
    with nogil:
        for n in range(x.shape[0]):
            if real is float:
                c.gdl_col2im_f32(&cols[n, 0, 0], cols.shape[2], &x[n, 0, 0, 0], x.shape[1], &w)
            else:
                c.gdl_col2im_f64(&cols[n, 0, 0], cols.shape[2], &x[n, 0, 0, 0], x.shape[1], &w)


def im2col(x, kernel_size, stride=1, padding=0):
    """The column matrices of x (N, C, H, W): (N, C kh kw, OH OW), row (c, i, j) holding
    x[n, c, oh sh + i - ph, ow sw + j - pw] (0 in the padding) at column (oh, ow)."""
    x = _check_x(x, "x")
    cdef c.gdl_window w = _window(x.shape, check_pair(kernel_size, "kernel_size", 1), stride,
                                  padding, "x")
    cols = np.empty((x.shape[0], x.shape[1] * w.kh * w.kw, w.OH * w.OW), dtype=x.dtype)
    if x.shape[0]:
        _im2col(x, cols, w)
    return cols


def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """The adjoint of im2col: an (N, C, H, W) array summing every column entry into the
    position of x it was read from."""
    x_shape = tuple(x_shape)
    if len(x_shape) != 4:
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape}")
    cdef c.gdl_window w = _window(x_shape, check_pair(kernel_size, "kernel_size", 1), stride,
                                  padding, "x_shape")
    cols = check_array(cols, "cols")
    N, C = x_shape[0], x_shape[1]
    cols = check_shaped(cols, "cols", (N, C * w.kh * w.kw, w.OH * w.OW), cols.dtype,
                        "im2col's output for x_shape")
    x = np.empty(x_shape, dtype=cols.dtype)
    if N and C:
        _col2im(cols, x, w)
    return x


def packed_kernels():
    """Which packed kernels run here (Note [kernel levels] in csrc/small_gemm.h): "avx512" (the
    float32 convolutions, recurrent steps, matrix products and narrow products), "avx2" (all
    but the narrow products), or "" (none: the BLAS does them all)."""
    return ("", "avx2", "avx512")[c.gdl_packed_kernels()]
