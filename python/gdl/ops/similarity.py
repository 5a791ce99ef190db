"""The pieces of cosine similarity: rows scaled to unit length, and every row's dot product
with every other (the Gram matrix). Each is one op so that its input is used once in the graph
and its backward is one formula."""
import numpy as np

from gdl.tensor import Function


class Normalize(Function):
    """y = x / sqrt(sum(x^2, last axis) + eps): every row (last axis) scaled to length 1.

    eps keeps a zero row finite (it stays zero). Backward: gx = (gy - y * sum(gy * y)) / r with
    r = sqrt(sum(x^2) + eps), the gradient with its component along y removed.
    """

    def forward(self, x, eps=1e-12):
        if x.ndim < 1:
            raise ValueError("x must have at least one axis to normalize, got a scalar")
        self.r = np.sqrt(np.sum(x * x, axis=-1, keepdims=True) + eps)
        self.y = x / self.r
        return self.y

    def backward(self, gy):
        y = self.y
        return (gy - y * np.sum(gy * y, axis=-1, keepdims=True)) / self.r


class Gram(Function):
    """y = x @ x^T for x (N, D): y[i, j] is the dot product of rows i and j.

    Backward: gx = (gy + gy^T) @ x, since row i appears in row i and in column i of y.
    """

    def forward(self, x):
        if x.ndim != 2:
            raise ValueError(f"x must be a matrix (N, D), got shape {x.shape}")
        self.x = x
        return x @ x.T

    def backward(self, gy):
        return (gy + gy.T) @ self.x
