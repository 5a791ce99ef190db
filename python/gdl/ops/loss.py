"""Losses as single ops: NLL, binary cross-entropy (compiled) and the squared error."""
import numpy as np

from gdl._kernels import softmax as _k
from gdl.tensor import Function


class NLL(Function):
    """loss = mean over rows of -x[row, label]; x (N, C) log-probabilities, labels (N,)."""

    def forward(self, x, labels):
        if x.ndim != 2:
            raise ValueError(f"input must be (N, C) log-probabilities, got shape {x.shape}")
        if np.shape(labels) != (x.shape[0],):
            raise ValueError(f"target must have shape ({x.shape[0]},), got {np.shape(labels)}")
        if x.shape[0] == 0:
            raise ValueError("input must hold at least one row")
        labels = np.asarray(labels)
        if labels.min() < 0 or labels.max() >= x.shape[1]:
            raise ValueError(f"target must hold class indices in [0, {x.shape[1]}), got values "
                             f"from {labels.min()} to {labels.max()}")
        self.shape = x.shape
        self.dtype = x.dtype
        self.rows = np.arange(x.shape[0])
        self.labels = labels
        return -x[self.rows, labels].mean()

    def backward(self, gy):
        gx = np.zeros(self.shape, dtype=self.dtype)
        gx[self.rows, self.labels] = -gy / self.shape[0]
        return gx


class BinaryCrossEntropy(Function):
    """loss = -mean(t log p + (1 - t) log(1 - p)), each log clamped at -100 as PyTorch does;
    one compiled pass each way (csrc/softmax.c): on the book's one-review batches the NumPy
    version's dozen temporaries cost more than the arithmetic."""

    def forward(self, p, t):
        t = np.asarray(t, dtype=p.dtype)
        if t.shape != p.shape:
            raise ValueError(f"target must have the input's shape {p.shape}, got {t.shape}")
        if p.size == 0:
            raise ValueError("the binary cross-entropy of empty tensors is undefined")
        self.p = p
        self.t = t
        return np.asarray(_k.bce_fwd(p, t) / p.size, dtype=p.dtype)

    def backward(self, gy):
        return _k.bce_bwd(self.p, self.t, float(gy) / self.p.size)


class SquaredError(Function):
    """loss = sum((pred - target)^2), divided by the entry count for ``reduction="mean"``: one
    op instead of subtract, square and reduce (three ops, three records, three temporaries).

    Backward: gpred = 2 (pred - target) gy / count, gtarget = -gpred.
    """

    def forward(self, pred, target, reduction="mean"):
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        diff = np.subtract(pred, target)
        if reduction == "mean" and diff.size == 0:
            raise ValueError("the mean squared error of empty tensors is undefined")
        flat = diff.reshape(-1)
        total = np.dot(flat, flat)              # one BLAS dot, in the inputs' dtype
        self.diff = diff
        self.count = diff.size if reduction == "mean" else 1
        return total / self.count

    def backward(self, gy):
        need_pred, need_target = self.needs_input_grad
        g = self.diff * (gy * (2.0 / self.count))
        return (g if need_pred else None, -g if need_target else None)
