"""Training utilities: gradient clipping."""
import numpy as np

from gdl.tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Scale every gradient in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if concatenated (PyTorch's
    ``clip_grad_norm_``); parameters without a gradient are skipped. Returns the norm
    before clipping, a float. Chapter 14's cure for exploding gradients in an RNN.

    >>> loss.backward()
    >>> gdl.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    >>> optimizer.step()
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = [p for p in parameters if p.grad is not None]
    for p in parameters:
        if getattr(p.grad, "is_sparse", False):
            p.grad = p.grad.coalesce()            # each row once: its values are the norm's
    grads = [p.grad.values if getattr(p.grad, "is_sparse", False) else p.grad.data
             for p in parameters]
    max_norm = float(max_norm)
    if max_norm < 0:
        raise ValueError(f"max_norm must be non-negative, got {max_norm}")
    if not grads:
        return 0.0
    if norm_type == np.inf or norm_type == "inf":
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        p = float(norm_type)
        total = sum(float(np.sum(np.abs(g, dtype=np.float64) ** p)) for g in grads) ** (1 / p)
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads:
            g *= g.dtype.type(scale)
    return total
