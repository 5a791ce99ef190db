"""The matrix product: 2-D float products through gdl's split GEMM (Note [split GEMM] in
csrc/gdl.h), everything else through numpy's matmul; both run an optimized BLAS."""
import numpy as np

from gdl._kernels import matmul as _k
from gdl.ops.arithmetic import unbroadcast
from gdl.tensor import Function

_REAL = (np.dtype(np.float32), np.dtype(np.float64))
_KERNEL_MIN = _k.ONE_THREAD_MIN


def product(a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b) for 2-D arrays, op(x) = x.T when its flag is set: the compiled kernel for
    float32/float64 of one dtype from the size where numpy's OpenBLAS would start its threads
    (Note [one-thread GEMM]), numpy's matmul (with its type promotion, about 0.7 us less per
    call) otherwise."""
    if (a.dtype is b.dtype and a.dtype in _REAL
            and a.size * b.shape[0 if trans_b else 1] >= _KERNEL_MIN):
        return _k.matmul(a, b, trans_a, trans_b)
    return np.matmul(a.T if trans_a else a, b.T if trans_b else b)


class MatMul(Function):
    """y = a @ b with numpy's rules: 2-D matrices, 1-D vectors, stacks of matrices.

    Backward: ga = gy @ b^T and gb = a^T @ gy, summed over broadcast batch axes.
    """

    def forward(self, a, b):
        a = np.asarray(a)
        b = np.asarray(b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs arrays of at least 1 dimension, got a scalar; "
                             "use * to scale")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul shapes do not fit: {a.shape} @ {b.shape} (the last axis "
                             f"of a must match the {'second-to-last' if b.ndim > 1 else 'only'} "
                             f"axis of b)")
        self.a = a
        self.b = b
        if a.ndim == 2 and b.ndim == 2:
            return product(a, b)
        return np.matmul(a, b)

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:        # the common case: no promotion, no batch axes
            return (product(gy, b, trans_b=True) if need_a else None,
                    product(a, gy, trans_a=True) if need_b else None)
        if a.ndim == 1 and b.ndim == 1:        # a dot product: gy is a scalar
            return (gy * b if need_a else None,
                    gy * a if need_b else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            gy = np.expand_dims(gy, -2)
        if b.ndim == 1:
            gy = np.expand_dims(gy, -1)
        ga = gb = None
        if need_a:
            ga = unbroadcast(gy @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if need_b:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ gy, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x @ W^T + b in one op; x (..., in), W (out, in), b (out,) or None.

    Backward: gx = gy @ W, gW = gy^T @ x, gb = gy summed over rows, each one GEMM or sum.
    """

    def forward(self, x, W, b=None):
        if x.shape[-1] != W.shape[1]:
            raise ValueError(f"input has {x.shape[-1]} features on its last axis, the layer "
                             f"expects {W.shape[1]} (input shape {x.shape})")
        self.x = x
        self.W = W
        if x.ndim == 2:
            y = product(x, W, trans_b=True)
        else:                                   # rows of every leading axis at once
            y = product(x.reshape(-1, x.shape[-1]), W, trans_b=True)
            y = y.reshape(x.shape[:-1] + (W.shape[0],))
        if b is not None:
            y += b
        return y

    def backward(self, gy):
        need_x, need_W, need_b = (self.needs_input_grad + (False,))[:3]
        x2 = self.x.reshape(-1, self.x.shape[-1])
        gy2 = gy.reshape(-1, gy.shape[-1])
        gx = product(gy2, self.W).reshape(self.x.shape) if need_x else None
        gW = product(gy2, x2, trans_a=True) if need_W else None
        gb = gy2.sum(axis=0) if need_b else None
        return gx, gW, gb
