"""gdl: the networks of *Grokking Deep Learning* on a fast, compiled CPU engine.

>>> import gdl
>>> model = gdl.nn.Sequential(gdl.nn.Linear(784, 100), gdl.nn.Tanh(), gdl.nn.Linear(100, 10))
>>> opt = gdl.optim.SGD(model.parameters(), lr=0.1)
>>> loss = gdl.nn.CrossEntropyLoss()(model(images), labels)
>>> loss.backward(); opt.step()
"""
from gdl import nn, ops, optim, sparse, text
from gdl._build_info import version as __version__
from gdl.io import load, save
from gdl.nn import Layer
from gdl.optim import SGD, Adam
from gdl.random import get_rng_state, manual_seed, set_rng_state
from gdl.tensor import Function, Tensor, is_grad_enabled, no_grad


def concatenate(tensors, axis=0):
    """The tensors joined along ``axis`` (differentiable)."""
    return ops.Concat.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """The tensors, all of one shape, stacked along a new ``axis`` (differentiable)."""
    return ops.Stack.apply(*tensors, axis=axis)


cat = concatenate

__all__ = [
    "Adam", "Function", "Layer", "SGD", "Tensor", "__version__", "cat", "concatenate",
    "get_rng_state", "is_grad_enabled", "load", "manual_seed", "nn", "no_grad", "ops", "optim",
    "save", "set_rng_state", "sparse", "stack", "text",
]
