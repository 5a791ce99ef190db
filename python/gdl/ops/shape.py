"""Ops that move values around: reshape, transpose, expand, indexing, concatenation, casts."""
import numpy as np

from gdl.ops.arithmetic import unbroadcast
from gdl.tensor import Function, Tensor


class Reshape(Function):
    """y = x.reshape(shape) (a view when possible)."""

    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape a tensor of shape {x.shape} ({x.size} values) "
                             f"into {tuple(shape)}") from None

    def backward(self, gy):
        return gy.reshape(self.shape)


class Transpose(Function):
    """y = x with its axes permuted (reversed when axes is None)."""

    def forward(self, x, axes=None):
        if axes is not None and sorted(a % x.ndim for a in axes) != list(range(x.ndim)):
            raise ValueError(f"axes {axes} is not a permutation of the {x.ndim} axes")
        self.axes = axes
        return np.transpose(x, axes)

    def backward(self, gy):
        if self.axes is None:
            return np.transpose(gy)
        return np.transpose(gy, np.argsort([a % gy.ndim for a in self.axes]))


class Expand(Function):
    """The book's expand: a new axis at ``dim`` holding ``copies`` copies of x."""

    def forward(self, x, dim, copies):
        if copies < 1:
            raise ValueError(f"copies must be at least 1, got {copies}")
        self.dim = dim
        y = np.expand_dims(x, dim)
        shape = list(y.shape)
        shape[dim] = copies
        return np.broadcast_to(y, shape)

    def backward(self, gy):
        return gy.sum(axis=self.dim)


class BroadcastTo(Function):
    """y = x broadcast to ``shape`` (PyTorch's expand); backward sums the copies."""

    def forward(self, x, shape):
        self.shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ValueError(f"cannot broadcast shape {x.shape} to {shape}") from None

    def backward(self, gy):
        return unbroadcast(gy, self.shape)


def _plain_index(index):
    """The index with Tensors replaced by their arrays, and whether it is advanced."""
    items = index if isinstance(index, tuple) else (index,)
    items = tuple(i.data if isinstance(i, Tensor) else i for i in items)
    advanced = any(isinstance(i, (list, np.ndarray)) for i in items)
    return (items if isinstance(index, tuple) else items[0]), advanced


class Index(Function):
    """y = x[index]: slices, integers, None, Ellipsis, integer or boolean arrays."""

    def forward(self, x, index):
        self.index, self.advanced = _plain_index(index)
        self.shape = x.shape
        self.dtype = x.dtype
        return x[self.index]

    def backward(self, gy):
        gx = np.zeros(self.shape, dtype=self.dtype)
        if self.advanced:
            np.add.at(gx, self.index, gy)      # a repeated index receives every gradient
        else:
            gx[self.index] = gy
        return gx


class IndexSelect(Function):
    """y = x[indices] along ``axis`` (``np.take``); for a matrix and axis 0 use Embedding,
    whose gather and scatter-add are compiled."""

    def forward(self, x, indices, axis=0):
        n = x.shape[axis]
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValueError(f"indices must be in [0, {n}) along axis {axis}, got values from "
                             f"{indices.min()} to {indices.max()}")
        self.shape = x.shape
        self.dtype = x.dtype
        self.indices = indices
        self.axis = axis
        return np.take(x, indices, axis=axis)

    def backward(self, gy):
        gx = np.zeros(self.shape, dtype=self.dtype)
        moved = np.moveaxis(gx, self.axis, 0)
        gy_moved = np.moveaxis(gy, range(self.axis, self.axis + self.indices.ndim),
                               range(self.indices.ndim))
        np.add.at(moved, self.indices, gy_moved)   # a repeated index receives every gradient
        return gx


class Concat(Function):
    """y = the inputs joined along ``axis``."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        self.sizes = [np.shape(x)[axis] for x in xs]
        return np.concatenate(xs, axis=axis)

    def backward(self, gy):
        bounds = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(gy, bounds, axis=self.axis))


class Stack(Function):
    """y = the inputs (all of one shape) stacked along a new axis ``axis``."""

    def forward(self, *xs, axis=0):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, gy):
        return tuple(np.moveaxis(gy, self.axis, 0))


class Cast(Function):
    """y = x converted to another float dtype; the gradient converts back."""

    def forward(self, x, dtype):
        if dtype.kind != "f":
            raise TypeError(f"a differentiable cast needs a float dtype, got {dtype}")
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, gy):
        return gy.astype(self.dtype)
