"""Softmax, log-softmax and the fused softmax cross-entropy (csrc/softmax.c)."""
import numpy as np

from gdl._kernels import softmax as _k
from gdl.tensor import Function


def _last(x, axis):
    """x with ``axis`` moved last (the kernels work over the last axis)."""
    if axis == -1 or axis == x.ndim - 1:
        return x
    return np.moveaxis(x, axis, -1)


def _back(y, axis):
    if axis == -1 or axis == y.ndim - 1:
        return y
    return np.moveaxis(y, -1, axis)


class Softmax(Function):
    """y = exp(x) / sum(exp(x)) along ``axis`` (default the last)."""

    def forward(self, x, axis=-1):
        self.axis = axis
        self.y = _k.softmax_fwd(_last(x, axis))        # kept with the axis last for backward
        return _back(self.y, axis)

    def backward(self, gy):
        return _back(_k.softmax_bwd(self.y, _last(gy, self.axis)), self.axis)


class LogSoftmax(Function):
    """y = x - log(sum(exp(x))) along ``axis`` (default the last)."""

    def forward(self, x, axis=-1):
        self.axis = axis
        self.y = _k.log_softmax_fwd(_last(x, axis))
        return _back(self.y, axis)

    def backward(self, gy):
        return _back(_k.log_softmax_bwd(self.y, _last(gy, self.axis)), self.axis)


class SoftmaxCrossEntropy(Function):
    """loss = mean over rows of -log softmax(x)[label]; x (..., C), labels x.shape[:-1].

    Fused: the forward saves the probabilities, the backward is (p - onehot) * gy / N.
    """

    def forward(self, x, labels):
        if x.ndim < 1:
            raise ValueError("logits must have a class axis, got a scalar")
        if np.shape(labels) != x.shape[:-1]:
            raise ValueError(f"labels must have shape {x.shape[:-1]} (one class index per row "
                             f"of logits {x.shape}), got {np.shape(labels)}")
        self.shape = x.shape
        self.labels = np.asarray(labels).reshape(-1)
        loss, self.p = _k.softmax_xent_fwd(x.reshape(-1, x.shape[-1]), self.labels)
        return np.asarray(loss, dtype=x.dtype)

    def backward(self, gy):
        return _k.softmax_xent_bwd(self.p, self.labels, float(gy)).reshape(self.shape)
