"""Losses: MSELoss, CrossEntropyLoss (the fused compiled kernel), NLLLoss, BCELoss, and the
metric-learning losses of chapter 16: TripletMarginLoss, ContrastiveLoss, NTXentLoss."""
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
        return ops.SquaredError.apply(pred, target, reduction=self.reduction)


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


def _check_embeddings(name, x, like=None, like_name=None):
    """x as a Tensor of shape (N, D) with N >= 1 (and ``like``'s shape when given)."""
    x = _tensor(x)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a batch of embeddings of shape (N, D) with N, D >= 1, "
                         f"got shape {x.shape}")
    if like is not None and x.shape != like.shape:
        raise ValueError(f"{name} must have {like_name}'s shape {like.shape}, got {x.shape}")
    return x


def _check_margin(margin):
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a non-negative number, got {margin!r}")
    return float(margin)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6):
    """Row-wise p-norm distance ``||x1 - x2 + eps||_p`` of two (N, D) batches: shape (N,).

    As PyTorch's ``pairwise_distance``, eps is added to the difference, so that the distance of
    two equal rows is eps * D^(1/p) > 0 and the root's gradient stays finite there.

    >>> pairwise_distance(np.zeros((2, 3)), np.ones((2, 3))).shape
    (2,)
    """
    diff = _tensor(x1) - _tensor(x2) + eps
    if p == 2:
        return (diff * diff).sum(axis=1) ** 0.5
    return ((diff * diff) ** (p / 2)).sum(axis=1) ** (1.0 / p)     # |d|^p without an abs op


class TripletMarginLoss(Module):
    """Triplet loss: an anchor should be nearer its positive than its negative by ``margin``.

    ``loss = mean(max(d(a, p) - d(a, n) + margin, 0))`` with ``d = pairwise_distance(.., p)``;
    anchor, positive and negative are (N, D). PyTorch's names and defaults.

    >>> a, pos, neg = np.zeros((4, 8)), np.zeros((4, 8)), np.ones((4, 8))
    >>> gdl.nn.TripletMarginLoss(margin=1.0)(a, pos, neg).item()      # d(a, n) = 2.83 > 1
    0.0
    """

    def __init__(self, margin=1.0, p=2.0, eps=1e-6):
        super().__init__()
        self.margin = _check_margin(margin)
        if not p > 0:
            raise ValueError(f"p must be positive, got {p!r}")
        self.p = p
        self.eps = eps

    def forward(self, anchor, positive, negative):
        anchor = _check_embeddings("anchor", anchor)
        positive = _check_embeddings("positive", positive, anchor, "anchor")
        negative = _check_embeddings("negative", negative, anchor, "anchor")
        d_pos = pairwise_distance(anchor, positive, self.p, self.eps)
        d_neg = pairwise_distance(anchor, negative, self.p, self.eps)
        return (d_pos - d_neg + self.margin).relu().mean()

    def extra_repr(self):
        return f"margin={self.margin}, p={self.p}"


class ContrastiveLoss(Module):
    """Pairwise contrastive loss (Hadsell, Chopra and LeCun 2006).

    x1, x2 (N, D) are pairs and ``same`` (N,) is 1 where a pair shows the same thing, 0 where
    not. Same pairs are pulled together, different pairs pushed at least ``margin`` apart:

        d = pairwise_distance(x1, x2)
        loss = mean(same * d^2 + (1 - same) * max(margin - d, 0)^2) / 2

    >>> x = np.zeros((2, 3))
    >>> gdl.nn.ContrastiveLoss(margin=1.0)(x, x, np.array([1, 0])).item()   # about 0.25
    """

    def __init__(self, margin=1.0, eps=1e-6):
        super().__init__()
        self.margin = _check_margin(margin)
        self.eps = eps

    def forward(self, x1, x2, same):
        x1 = _check_embeddings("x1", x1)
        x2 = _check_embeddings("x2", x2, x1, "x1")
        same = same.data if isinstance(same, Tensor) else np.asarray(same)
        if same.shape != (x1.shape[0],):
            raise ValueError(f"same must have shape ({x1.shape[0]},), one 0/1 label per pair, "
                             f"got {same.shape}")
        if not np.isin(same, (0, 1)).all():
            raise ValueError("same must hold only 0 (different) and 1 (same)")
        same = same.astype(x1.dtype)
        diff = x1 - x2 + self.eps
        squared = (diff * diff).sum(axis=1)          # d^2 needs no root: exact at d = 0
        short = (self.margin - squared ** 0.5).relu()
        return (squared * same + short * short * (1 - same)).mean() * 0.5

    def extra_repr(self):
        return f"margin={self.margin}"


class NTXentLoss(Module):
    """NT-Xent (SimCLR's normalized temperature-scaled cross-entropy, InfoNCE over a batch).

    z1, z2 (N, D) are the embeddings of two views of the same N examples. The 2N rows are
    L2-normalized; each view's positive is the other view of its example and its negatives are
    the remaining 2N - 2 views:

        s_ij = cos(z_i, z_j) / temperature
        loss = mean over the 2N views i of -log(exp(s_i,pos(i)) / sum_{j != i} exp(s_ij))

    The self-similarity s_ii is masked out before a numerically stable log-sum-exp (the fused
    softmax cross-entropy kernel). With N = 1 the positive is the only candidate: loss 0.

    >>> z1, z2 = np.eye(4), np.eye(4)
    >>> round(gdl.nn.NTXentLoss(temperature=0.5)(z1, z2).item(), 4)       # log(1 + 6/e^2)
    0.5944
    """

    MASKED = -1e9                                # exp(MASKED - max) is exactly 0 in float32

    def __init__(self, temperature=0.5, eps=1e-12):
        super().__init__()
        if not np.isfinite(temperature) or temperature <= 0:
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        self.temperature = float(temperature)
        self.eps = eps

    def forward(self, z1, z2):
        z1 = _check_embeddings("z1", z1)
        z2 = _check_embeddings("z2", z2, z1, "z1")
        n = z1.shape[0]
        z = ops.Normalize.apply(ops.Concat.apply(z1, z2, axis=0), eps=self.eps)   # (2N, D)
        similarity = ops.Gram.apply(z) * (1.0 / self.temperature)                # (2N, 2N)
        self_mask = np.diag(np.full(2 * n, self.MASKED, dtype=z.dtype))
        positives = np.concatenate([np.arange(n, 2 * n), np.arange(n)])  # view i <-> i +- N
        return ops.SoftmaxCrossEntropy.apply(similarity + self_mask, labels=positives)

    def extra_repr(self):
        return f"temperature={self.temperature}"
