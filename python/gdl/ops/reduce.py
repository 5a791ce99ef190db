"""Reductions: sum, mean and max over an axis (or everything), with keepdims."""
import numpy as np

from gdl.tensor import Function


def _normalize_axis(axis, ndim):
    """axis as a tuple of non-negative ints (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor of {ndim} dimensions")
        out.append(a % max(ndim, 1))
    return tuple(out)


def _expand_back(gy, shape, axes, keepdims):
    """gy (reduced over axes) broadcast back to the input shape, as a read-only view."""
    if not keepdims:
        gy = np.expand_dims(gy, axes) if axes else gy
    return np.broadcast_to(gy, shape)


class Sum(Function):
    """y = x.sum(axis, keepdims); backward copies gy along the summed axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims = keepdims
        return np.sum(x, axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        return _expand_back(gy, self.shape, self.axes, self.keepdims)


class Mean(Function):
    """y = x.mean(axis, keepdims); backward spreads gy / count over the averaged axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims = keepdims
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return np.mean(x, axis=self.axes, keepdims=keepdims)

    def backward(self, gy):
        return _expand_back(gy / self.count, self.shape, self.axes, self.keepdims)


class Max(Function):
    """y = x.max(axis, keepdims); the gradient goes to the maxima (split evenly on ties)."""

    def forward(self, x, axis=None, keepdims=False):
        if x.size == 0:
            raise ValueError("max of an empty tensor is undefined")
        self.axes = _normalize_axis(axis, x.ndim)
        self.keepdims = keepdims
        y = np.max(x, axis=self.axes, keepdims=True)
        self.mask = x == y
        return y if keepdims else np.squeeze(y, axis=self.axes)

    def backward(self, gy):
        if not self.keepdims:
            gy = np.expand_dims(gy, self.axes)
        count = self.mask.sum(axis=self.axes, keepdims=True)
        return self.mask * (gy / count)
