"""Embedding lookups: a compiled gather forward and a scatter-add backward over used rows."""
import numpy as np

from gdl._kernels import embedding as _k
from gdl.tensor import Function


class Embedding(Function):
    """y = W[indices]: indices of any shape, y of shape indices.shape + (D,)."""

    def forward(self, W, indices):
        self.shape = W.shape
        self.dtype = W.dtype
        self.indices = indices
        return _k.embedding_fwd(W, indices)

    def backward(self, gy):
        gW = np.zeros(self.shape, dtype=self.dtype)
        _k.embedding_bwd_(gW, self.indices, gy)
        return gW


class EmbeddingBag(Function):
    """y[b] = sum over l of W[indices[b, l]]: the book's bag of words (chapter 11)."""

    def forward(self, W, indices):
        self.shape = W.shape
        self.dtype = W.dtype
        self.indices = indices
        return _k.embedding_bag_fwd(W, indices)

    def backward(self, gy):
        gW = np.zeros(self.shape, dtype=self.dtype)
        _k.embedding_bag_bwd_(gW, self.indices, gy)
        return gW
