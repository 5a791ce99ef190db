"""Layers: Linear, Sequential, activations, Dropout, Embedding."""
import numpy as np

from gdl import ops
from gdl import random as _random
from gdl.nn.module import Module, Parameter
from gdl.tensor import Tensor, _indices


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class Linear(Module):
    """y = x @ W^T + b, with W of shape (out_features, in_features) as in PyTorch.

    The book's ``Linear(n_inputs, n_outputs)`` is the same call. Weights start as the book's:
    normal * sqrt(2 / in_features) (He), bias zeros, drawn from gdl's seed.

    >>> layer = gdl.nn.Linear(784, 100)
    >>> layer(gdl.Tensor(np.zeros((32, 784)))).shape
    (32, 100)
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float32):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        w = _random.rng().standard_normal((out_features, in_features)) * np.sqrt(2.0 / in_features)
        self.weight = Parameter(w.astype(dtype))
        self.bias = Parameter(np.zeros(out_features, dtype=dtype)) if bias else None

    def forward(self, x):
        if self.bias is None:
            return ops.Linear.apply(_tensor(x), self.weight)
        return ops.Linear.apply(_tensor(x), self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, bias={self.bias is not None}"


class Sequential(Module):
    """Layers applied one after another: ``Sequential(a, b, c)`` or the book's
    ``Sequential([a, b, c])``; ``add(layer)`` appends. A ReLU right before a MaxPool2d runs
    after it instead, on the pooled entries: the same outputs and gradients for less work
    (Note [pool before relu])."""

    _pool_pairs = True     # an instance from before the Note: the checking loop, always right

    # Note [pool before relu]: max pooling commutes with relu, max(relu(x)) = relu(max(x)),
    # and so do their gradients: the window's first maximum gets gy where that maximum is
    # positive, 0 elsewhere, in either order (ties among zeros and negatives, and a NaN, which
    # wins its window and gets 0 from relu, give 0 both ways). So where a Sequential holds a
    # ReLU followed by a MaxPool2d (those classes exactly: AvgPool2d does not commute), it
    # pools first and applies relu to the 4x smaller output. Same numbers (a window whose
    # maximum is -0.0 gives -0.0 for 0.0). Bench W6b's step, the two orders interleaved in
    # one process (six rounds of 5 x 15 steps): 0.81-1.11 of the time as written, median 0.95.
    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers = []
        self._pool_pairs = False               # Note [pool before relu]: one seen by add()
        for layer in layers:
            self.add(layer)

    def add(self, layer):
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential holds Modules, got {type(layer).__name__}")
        setattr(self, str(len(self.layers)), layer)
        if self.layers and _relu_then_max_pool(self.layers[-1], layer):
            self._pool_pairs = True
        self.layers.append(layer)
        return self

    def forward(self, x):
        layers = self.layers
        if not self._pool_pairs:
            for layer in layers:
                x = layer(x)
            return x
        i, n = 0, len(layers)
        while i < n:                           # the types checked again: layers is public
            if i + 1 < n and _relu_then_max_pool(layers[i], layers[i + 1]):
                x = layers[i](layers[i + 1](x))
                i += 2
            else:
                x = layers[i](x)
                i += 1
        return x

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x):
        return ops.ReLU.apply(_tensor(x))


def _relu_then_max_pool(first, second):
    """Whether Sequential may pool before the relu (Note [pool before relu])."""
    from gdl.nn.conv import MaxPool2d          # gdl.nn.conv imports this module
    return type(first) is ReLU and type(second) is MaxPool2d


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x):
        return ops.Tanh.apply(_tensor(x))


class Sigmoid(Module):
    """y = 1 / (1 + exp(-x))."""

    def forward(self, x):
        return ops.Sigmoid.apply(_tensor(x))


class Softmax(Module):
    """y = softmax(x) along ``dim`` (default the last)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.Softmax.apply(_tensor(x), axis=self.dim)


class LogSoftmax(Module):
    """y = log_softmax(x) along ``dim`` (default the last)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return ops.LogSoftmax.apply(_tensor(x), axis=self.dim)


class Dropout(Module):
    """Inverted dropout: in training, zero each value with probability p and scale the rest
    by 1 / (1 - p) (the book's ``* 2`` for p = 0.5); in eval mode, the identity."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return _tensor(x)
        return ops.Dropout.apply(_tensor(x), p=self.p)

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """Rows of a (vocab_size, dim) weight looked up by integer indices of any shape.

    The gather and the backward scatter-add (touching only the used rows) are compiled.
    Weights start as the book's: uniform in (-0.5, 0.5) / dim. ``sparse=True`` (PyTorch's
    name) makes the weight's gradient a ``gdl.sparse.RowSparse`` of the used rows only, so a
    step over a large vocabulary costs what the batch touched (Note [sparse gradients]).

    >>> emb = gdl.nn.Embedding(10, 4)
    >>> emb(np.array([[1, 2], [3, 1]])).shape
    (2, 2, 4)
    """

    def __init__(self, vocab_size, dim, dtype=np.float32, sparse=False):
        super().__init__()
        self.vocab_size = vocab_size
        self.dim = dim
        self.sparse = bool(sparse)
        w = (_random.rng().random((vocab_size, dim)) - 0.5) / dim
        self.weight = Parameter(w.astype(dtype))

    def forward(self, indices):
        return ops.Embedding.apply(self.weight, _indices(indices), sparse=self.sparse)

    def extra_repr(self):
        return f"{self.vocab_size}, {self.dim}" + (", sparse=True" if self.sparse else "")


class EmbeddingBag(Embedding):
    """The sum of the looked-up rows of each bag: indices (B, L) -> (B, dim); the book's
    chapter-11 bag-of-words layer, compiled."""

    def forward(self, indices):
        indices = _indices(indices)
        if indices.ndim == 1:
            return ops.EmbeddingBag.apply(self.weight, indices[None, :], sparse=self.sparse)[0]
        return ops.EmbeddingBag.apply(self.weight, indices, sparse=self.sparse)


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...)."""

    def __init__(self, start_dim=1):
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x):
        return _tensor(x).flatten(self.start_dim)
