"""Max and average pooling over the (H, W) planes of NCHW arrays (csrc/pool.c)."""
import numpy as np
from libc.stdint cimport int32_t

cimport libgdl as c
from checks cimport check_array, check_pair, check_shaped, real

include "threads.pxi"


cdef c.gdl_window _window(tuple x_shape, object kernel_size, object stride, object padding,
                          str xname) except *:
    """The pooling window over x's planes; stride None means the kernel size (PyTorch's)."""
    cdef c.gdl_window w
    if len(x_shape) != 4:
        raise ValueError(f"{xname} must be 4-D (N, C, H, W), got shape {x_shape}")
    kh, kw = check_pair(kernel_size, "kernel_size", 1)
    sh, sw = check_pair(kernel_size if stride is None else stride, "stride", 1)
    ph, pw = check_pair(padding, "padding", 0)
    H, W = x_shape[2], x_shape[3]
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(f"padding ({ph}, {pw}) must be at most half the kernel size "
                         f"({kh}, {kw}), so that every window holds an entry of {xname}")
    if H < 1 or W < 1 or kh > H + 2 * ph or kw > W + 2 * pw:
        raise ValueError(f"kernel {kh}x{kw} is larger than the padded input "
                         f"{H + 2 * ph}x{W + 2 * pw} ({xname} of shape {x_shape}, padding "
                         f"({ph}, {pw})): {xname} must be at least ({max(kh - 2 * ph, 1)}, "
                         f"{max(kw - 2 * pw, 1)}) in H and W")
    if H * W > 2 ** 31 - 1:
        raise ValueError(f"{xname} planes of {H}x{W} are too large (argmax is int32)")
    w.H, w.W, w.kh, w.kw, w.sh, w.sw, w.ph, w.pw = H, W, kh, kw, sh, sw, ph, pw
    w.OH = (H + 2 * ph - kh) // sh + 1
    w.OW = (W + 2 * pw - kw) // sw + 1
    return w


cdef object _check_x(object x, str name):
    x = check_array(x, name)
    if x.ndim != 4:
        raise ValueError(f"{name} must be 4-D (N, C, H, W), got shape {x.shape}")
    return x


def _max_fwd(const real[::1] x, real[::1] y, int32_t[::1] argmax, size_t planes,
             c.gdl_window w):
    with nogil:
        if real is float:
            c.gdl_maxpool2d_fwd_f32(&x[0], &y[0], &argmax[0], planes, &w)
        else:
            c.gdl_maxpool2d_fwd_f64(&x[0], &y[0], &argmax[0], planes, &w)


def _max_bwd(const real[::1] gy, const int32_t[::1] argmax, real[::1] gx, size_t planes,
             c.gdl_window w):
    with nogil:
        if real is float:
            c.gdl_maxpool2d_bwd_f32(&gy[0], &argmax[0], &gx[0], planes, &w)
        else:
            c.gdl_maxpool2d_bwd_f64(&gy[0], &argmax[0], &gx[0], planes, &w)


def _avg_fwd(const real[::1] x, real[::1] y, size_t planes, c.gdl_window w):
    with nogil:
        if real is float:
            c.gdl_avgpool2d_fwd_f32(&x[0], &y[0], planes, &w)
        else:
            c.gdl_avgpool2d_fwd_f64(&x[0], &y[0], planes, &w)


def _avg_bwd(const real[::1] gy, real[::1] gx, size_t planes, c.gdl_window w):
    with nogil:
        if real is float:
            c.gdl_avgpool2d_bwd_f32(&gy[0], &gx[0], planes, &w)
        else:
            c.gdl_avgpool2d_bwd_f64(&gy[0], &gx[0], planes, &w)


def maxpool2d_fwd(x, kernel_size, stride=None, padding=0):
    """(y, argmax): the largest entry of each window of x (N, C, H, W), y (N, C, OH, OW), and
    its flat index h * W + w within the plane (int32, for maxpool2d_bwd). stride defaults to
    kernel_size; padding (at most half the kernel) never wins. A NaN wins its window.

    >>> maxpool2d_fwd(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0]
    array([[[[ 5.,  7.], [13., 15.]]]])
    """
    x = _check_x(x, "x")
    cdef c.gdl_window w = _window(x.shape, kernel_size, stride, padding, "x")
    N, C = x.shape[0], x.shape[1]
    y = np.empty((N, C, w.OH, w.OW), dtype=x.dtype)
    argmax = np.empty((N, C, w.OH, w.OW), dtype=np.int32)
    if N * C:
        _max_fwd(x.reshape(-1), y.reshape(-1), argmax.reshape(-1), N * C, w)
    return y, argmax


def maxpool2d_bwd(gy, argmax, x_shape, kernel_size, stride=None, padding=0):
    """gx (x_shape): each gy entry added at its window's saved argmax position."""
    x_shape = tuple(x_shape)
    cdef c.gdl_window w = _window(x_shape, kernel_size, stride, padding, "x_shape")
    N, C = x_shape[0], x_shape[1]
    out_shape = (N, C, w.OH, w.OW)
    gy = check_array(gy, "gy")
    gy = check_shaped(gy, "gy", out_shape, gy.dtype, "the pooled output's shape")
    argmax = check_shaped(argmax, "argmax", out_shape, np.int32, "maxpool2d_fwd's argmax")
    if argmax.size and (argmax.min() < 0 or argmax.max() >= w.H * w.W):
        raise ValueError(f"argmax entries must be in [0, {w.H * w.W}): indices within an "
                         f"{w.H}x{w.W} plane")
    gx = np.empty(x_shape, dtype=gy.dtype)
    if N * C:
        _max_bwd(gy.reshape(-1), argmax.reshape(-1), gx.reshape(-1), N * C, w)
    return gx


def avgpool2d_fwd(x, kernel_size, stride=None, padding=0):
    """y (N, C, OH, OW): the mean of each window of x (N, C, H, W), padding counted as zeros
    (PyTorch's count_include_pad=True). stride defaults to kernel_size."""
    x = _check_x(x, "x")
    cdef c.gdl_window w = _window(x.shape, kernel_size, stride, padding, "x")
    N, C = x.shape[0], x.shape[1]
    y = np.empty((N, C, w.OH, w.OW), dtype=x.dtype)
    if N * C:
        _avg_fwd(x.reshape(-1), y.reshape(-1), N * C, w)
    return y


def avgpool2d_bwd(gy, x_shape, kernel_size, stride=None, padding=0):
    """gx (x_shape): each gy entry divided by kh * kw and spread over its window."""
    x_shape = tuple(x_shape)
    cdef c.gdl_window w = _window(x_shape, kernel_size, stride, padding, "x_shape")
    N, C = x_shape[0], x_shape[1]
    gy = check_array(gy, "gy")
    gy = check_shaped(gy, "gy", (N, C, w.OH, w.OW), gy.dtype, "the pooled output's shape")
    gx = np.empty(x_shape, dtype=gy.dtype)
    if N * C:
        _avg_bwd(gy.reshape(-1), gx.reshape(-1), N * C, w)
    return gx
