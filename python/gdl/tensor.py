"""The autograd ``Tensor``, the ``Function`` every op is made of, and the backward walk.

A ``Tensor`` wraps a numpy array (float32 unless told otherwise). Every op on tensors that
require gradients records the ``Function`` that made its result; ``backward()`` walks those
records in reverse topological order, iteratively, and sums the gradients of every tensor
used more than once. This is the book's chapter-13 framework with the same names
(``Tensor(data, autograd=True)``, ``index_select``, ``cross_entropy``, ``expand``) and
PyTorch's (``requires_grad``, ``detach``, ``no_grad``).
"""
import functools

import numpy as np

from gdl import _autograd as _core
from gdl._autograd import FunctionBase, TensorBase, is_grad_enabled

_FLOATS = (np.float32, np.float64)


class no_grad:
    """Context manager and decorator: ops inside record no graph.

    >>> with gdl.no_grad():
    ...     prediction = model(x)
    """

    def __enter__(self):
        self._previous = _core.set_grad_enabled(False)
        return self

    def __exit__(self, *exc):
        _core.set_grad_enabled(self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper


def _as_array(data, dtype):
    """data as an ndarray: float32 by default, float arrays and integer arrays kept."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.generic):               # a numpy scalar keeps its dtype
        data = np.asarray(data)
    if isinstance(data, np.ndarray):
        if data.dtype == np.float32 or data.dtype == np.float64:
            return data
        if data.dtype.kind in "iub":              # indices, labels and masks stay integers
            return data
    return np.asarray(data, dtype=np.float32)


class Tensor(TensorBase):
    """An n-dimensional array that remembers how it was made, so it can be differentiated.

    ``Tensor(data, requires_grad=False, dtype=None)``; the book's ``autograd=True`` means
    ``requires_grad=True``. ``data`` becomes a numpy array: float32 by default, float64 kept,
    integer arrays kept (indices and labels). After ``loss.backward()``, every tensor that
    requires gradients and was not made by an op (a leaf: a weight, an input) holds the
    gradient of ``loss`` in ``.grad`` (a Tensor of its shape).

    >>> w = gdl.Tensor([[0.5], [-0.5]], requires_grad=True)
    >>> loss = ((gdl.Tensor([[1.0, 2.0]]) @ w) ** 2).sum()
    >>> loss.backward()
    >>> w.grad.numpy()
    array([[-1.], [-2.]], dtype=float32)
    """

    __slots__ = ()                              # the fields live in TensorBase (src/autograd.pyx)
    __array_priority__ = 1000                   # ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None, autograd=None, **book_args):
        if autograd is not None:
            requires_grad = autograd
        self.data = _as_array(data, dtype)
        if requires_grad and self.data.dtype.kind != "f":
            if dtype is not None:
                raise TypeError(f"only float tensors can require gradients, got {dtype}")
            self.data = self.data.astype(np.float32)   # the book's Tensor(ints, autograd=True)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._ctx = None
        self._retains_grad = False

    @staticmethod
    def _make(data, ctx=None):
        """A result of an op: no conversion, no checks (the hot path)."""
        return _core.make_tensor(data, ctx)

    # ---- plain array facts ------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def autograd(self):
        """The book's name for ``requires_grad``."""
        return self.requires_grad

    @property
    def is_leaf(self):
        return self._ctx is None

    def __len__(self):
        return len(self.data)

    def numpy(self):
        """The underlying numpy array (shared, not copied)."""
        return self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self):
        """The same data, cut from the graph: no gradient flows back through it."""
        return Tensor._make(self.data, None)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        self._retains_grad = True
        return self

    def requires_grad_(self, flag=True):
        if flag and self.data.dtype.kind != "f":
            raise TypeError(f"only float tensors can require gradients, got {self.data.dtype}")
        self.requires_grad = bool(flag)
        return self

    def zero_grad(self):
        self.grad = None

    def astype(self, dtype):
        """A copy with another float dtype, differentiable."""
        return _ops.Cast.apply(self, dtype=np.dtype(dtype))

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({body}{grad})"

    def __str__(self):
        return str(self.data)

    # ---- backward ---------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Fill ``.grad`` of every leaf this tensor depends on with d(self)/d(leaf).

        ``grad`` is the upstream gradient (same shape as self); it may be omitted only for a
        one-element tensor, where it is 1. The graph is freed afterwards unless
        ``retain_graph=True``; a second backward through a freed graph raises RuntimeError.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad: no tensor "
                               "it was computed from has requires_grad=True")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(f"backward() needs an upstream gradient for a tensor of "
                                   f"shape {self.shape}; pass grad= (e.g. ones of that shape)")
            # ones, made by one C call (np.ones_like is a Python wrapper around two)
            grad = np.array(1, dtype=self.data.dtype).reshape(self.data.shape)
        else:
            grad = np.array(_as_array(grad, self.data.dtype))   # a copy: never the caller's
            if grad.shape != self.data.shape:
                raise ValueError(f"grad must have the tensor's shape {self.shape}, "
                                 f"got {grad.shape}")
        _core.run_backward(self, grad, retain_graph)

    # ---- operators: one line each, the ops live in gdl.ops ------------------------------
    def __add__(self, other):
        return _ops.Add.apply(self, other)

    def __radd__(self, other):
        return _ops.Add.apply(other, self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return _ops.Sub.apply(other, self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ops.Div.apply(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pow__(self, exponent):
        return _ops.Pow.apply(self, exponent=exponent)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(other, self)

    def __getitem__(self, index):
        return _ops.Index.apply(self, index=index)

    def matmul(self, other):
        return _ops.MatMul.apply(self, other)

    def mm(self, other):
        """The book's name for the matrix product."""
        return _ops.MatMul.apply(self, other)

    def dot(self, other):
        return _ops.MatMul.apply(self, other)

    def pow(self, exponent):
        return _ops.Pow.apply(self, exponent=exponent)

    def neg(self):
        return _ops.Neg.apply(self)

    def sum(self, axis=None, keepdims=False):
        """Sum over ``axis`` (the book's ``sum(dim)``), or over everything."""
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        return self.reshape(*shape)

    def flatten(self, start_dim=1):
        """Collapse the dimensions from ``start_dim`` on: (N, C, H, W) -> (N, C*H*W)."""
        return self.reshape(self.shape[:start_dim] + (-1,))

    def transpose(self, *axes):
        """Reverse the axes (the book's ``transpose()``), or permute them as given."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.Transpose.apply(self, axes=axes or None)

    def permute(self, *axes):
        return self.transpose(*axes)

    @property
    def T(self):
        return _ops.Transpose.apply(self, axes=None)

    def expand(self, dim, copies=None):
        """The book's ``expand(dim, copies)``: a new axis at ``dim`` repeated ``copies`` times.

        Given a shape (a tuple) instead, broadcasts to it like PyTorch's ``expand``.
        """
        if copies is None:
            return self.broadcast_to(dim)
        return _ops.Expand.apply(self, dim=dim, copies=copies)

    def broadcast_to(self, shape):
        return _ops.BroadcastTo.apply(self, shape=tuple(shape))

    def index_select(self, indices, axis=0):
        """Rows ``self[indices]`` (the book's embedding lookup); indices: ints of any shape."""
        indices = _indices(indices)
        if self.data.ndim == 2 and axis == 0:
            return _ops.Embedding.apply(self, indices)
        return _ops.IndexSelect.apply(self, indices=indices, axis=axis)

    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def sigmoid(self):
        return _ops.Sigmoid.apply(self)

    def tanh(self):
        return _ops.Tanh.apply(self)

    def relu(self):
        return _ops.ReLU.apply(self)

    def softmax(self, axis=-1):
        return _ops.Softmax.apply(self, axis=axis)

    def log_softmax(self, axis=-1):
        return _ops.LogSoftmax.apply(self, axis=axis)

    def cross_entropy(self, target):
        """Mean softmax cross-entropy of these logits (N, C) against class indices (N,)."""
        return _ops.SoftmaxCrossEntropy.apply(self, labels=_indices(target))


def _indices(indices):
    """Integer class or row indices from a Tensor, an array or a list."""
    if isinstance(indices, Tensor):
        indices = indices.data
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        if indices.dtype.kind == "f" and np.all(np.mod(indices, 1) == 0):
            return indices.astype(np.int64)     # the book keeps indices in float tensors
        raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
    return indices


class Function(FunctionBase):
    """One differentiable op: ``forward`` on arrays, ``backward`` from the output's gradient.

    ``Op.apply(*inputs, **options)`` runs ``forward(*arrays, **options)`` and, when any input
    requires gradients, records the call so that ``backward(gy)`` later returns one gradient
    per input (None where ``self.needs_input_grad[i]`` is false). Inputs that are not Tensors
    (Python numbers, arrays) are constants: they reach ``forward`` unchanged and get no
    gradient. ``apply`` and the backward walk are compiled (src/autograd.pyx).
    """

    def forward(self, *arrays, **options):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError


_core.set_tensor_class(Tensor)

from gdl import ops as _ops  # noqa: E402  (the ops import Tensor and Function from here)
