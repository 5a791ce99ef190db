"""Losses: MSELoss, CrossEntropyLoss (the fused compiled kernel), NLLLoss, BCELoss."""
import numpy as np

from gdl import ops
from gdl.nn.module import Module
from gdl.tensor import Tensor, _indices


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


class MSELoss(Module):
    """Mean squared error, ``mean((pred - target)^2)``.

    ``reduction="sum"`` sums instead: the book's chapter-13 MSELoss summed over the batch, and
    with it the book's printed losses are reproduced.
    """

    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        self.reduction = reduction

    def forward(self, pred, target):
        pred, target = _tensor(pred), _tensor(target)
        if pred.shape != target.shape:
            raise ValueError(f"target must have the prediction's shape {pred.shape}, "
                             f"got {target.shape}")
        diff = pred - target
        squared = diff * diff
        return squared.sum() if self.reduction == "sum" else squared.mean()


class CrossEntropyLoss(Module):
    """Mean softmax cross-entropy of logits (N, C) against class indices (N,), fused and
    compiled: ``loss = mean(-log softmax(logits)[target])``."""

    def forward(self, logits, target):
        return ops.SoftmaxCrossEntropy.apply(_tensor(logits), labels=_indices(target))


class NLLLoss(Module):
    """Mean negative log-likelihood of log-probabilities (N, C) at class indices (N,)."""

    def forward(self, log_probs, target):
        return ops.NLL.apply(_tensor(log_probs), _indices(target))


class BCELoss(Module):
    """Binary cross-entropy of probabilities p against targets t in [0, 1], averaged:
    ``-mean(t log p + (1 - t) log(1 - p))``."""

    def forward(self, probs, target):
        target = target.data if isinstance(target, Tensor) else np.asarray(target)
        return ops.BinaryCrossEntropy.apply(_tensor(probs), target)
