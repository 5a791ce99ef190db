"""Embedding lookups: a compiled gather forward and a scatter-add backward over used rows."""
import numpy as np

from gdl._kernels import embedding as _k
from gdl.sparse import RowSparse
from gdl.tensor import Function


def _sparse_for(fn):
    """Whether fn's backward may return a RowSparse: asked for, and W is a leaf (a parameter),
    so that no op's backward ever receives one (Note [sparse gradients])."""
    return fn.sparse and fn.parents[0]._ctx is None


class Embedding(Function):
    """y = W[indices]: indices of any shape, y of shape indices.shape + (D,).

    With ``sparse=True`` the gradient of W is a ``RowSparse`` of the looked-up rows.
    """

    def forward(self, W, indices, sparse=False):
        self.shape = W.shape
        self.dtype = W.dtype
        self.indices = indices
        self.sparse = sparse
        return _k.embedding_fwd(W, indices)

    def backward(self, gy):
        if _sparse_for(self):
            # the forward kernel checked the indices; the values are a copy, since gy may be
            # another leaf's .grad too (Note [gradient ownership]), added into in place later
            return RowSparse._unchecked(self.indices.reshape(-1),
                                        np.array(gy.reshape(-1, self.shape[1])), self.shape)
        gW = np.zeros(self.shape, dtype=self.dtype)
        _k.embedding_bwd_(gW, self.indices, gy)
        return gW


class EmbeddingBag(Function):
    """y[b] = sum over l of W[indices[b, l]]: the book's bag of words (chapter 11).

    With ``sparse=True`` the gradient of W is a ``RowSparse``: row indices[b, l] gets gy[b].
    """

    def forward(self, W, indices, sparse=False):
        self.shape = W.shape
        self.dtype = W.dtype
        self.indices = indices
        self.sparse = sparse
        return _k.embedding_bag_fwd(W, indices)

    def backward(self, gy):
        if _sparse_for(self):
            # entry b L + l of the rows is word l of bag b, whose gradient row is gy[b]; a
            # copy of gy, as above
            return RowSparse._unchecked(self.indices.reshape(-1), np.array(gy), self.shape,
                                        self.indices.shape[1])
        gW = np.zeros(self.shape, dtype=self.dtype)
        _k.embedding_bag_bwd_(gW, self.indices, gy)
        return gW
