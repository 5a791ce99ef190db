"""gdl: the networks of *Grokking Deep Learning* on a fast, compiled CPU engine.

>>> import gdl
>>> model = gdl.nn.Sequential(gdl.nn.Linear(784, 100), gdl.nn.Tanh(), gdl.nn.Linear(100, 10))
>>> opt = gdl.optim.SGD(model.parameters(), lr=0.1)
>>> loss = gdl.nn.CrossEntropyLoss()(model(images), labels)
>>> loss.backward(); opt.step()
"""
import os as _os

# Note [OpenBLAS spin]: after each call OpenBLAS keeps its worker threads spinning for about
# 2^28 cycles (a tenth of a second) before they sleep. gdl's compiled loops run between BLAS
# calls (the convolution's per-chunk GEMMs, the LSTM's per-step kernel), and a spinning worker
# takes the core they need: on this project's 2-core machine, two threads, the two-conv step
# (bench W6b) took 122 ms with the default and 33 ms with OPENBLAS_THREAD_TIMEOUT=4 (2^4
# cycles), the book's LSTM step (W5) 121 and 66 ms. OpenBLAS reads the variable when it loads,
# so gdl sets it here, before numpy, unless the user already has: it then holds for numpy's
# and scipy's OpenBLAS (imported with gdl, or after it). A program that imports numpy before
# gdl should set it in its environment.
# Note [numpy's BLAS] (csrc/gdl.h): gdl's GEMMs call numpy's OpenBLAS, unless numpy was
# imported before gdl without that variable: its threads then spin after each of gdl's products,
# and gdl calls scipy's OpenBLAS, which gets the setting when gdl's kernels load it.
_numpy_blas_spins = ("numpy" in __import__("sys").modules
                     and "OPENBLAS_THREAD_TIMEOUT" not in _os.environ)
_os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from gdl import _memory  # noqa: E402

_memory.keep_freed_memory()  # Note [freed memory]
_memory.align_arrays()       # Note [aligned arrays]

from gdl import nn, ops, optim, sparse, text  # noqa: E402  (after the OpenBLAS setting)
from gdl._build_info import version as __version__
from gdl.io import load, save
from gdl.nn import Layer
from gdl.optim import SGD, Adam
from gdl.random import get_rng_state, manual_seed, set_rng_state
from gdl.tensor import Function, Tensor, is_grad_enabled, no_grad
from gdl.threads import get_num_threads, set_num_threads


def concatenate(tensors, axis=0):
    """The tensors joined along ``axis`` (differentiable)."""
    return ops.Concat.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """The tensors, all of one shape, stacked along a new ``axis`` (differentiable)."""
    return ops.Stack.apply(*tensors, axis=axis)


cat = concatenate

__all__ = [
    "Adam", "Function", "Layer", "SGD", "Tensor", "__version__", "cat", "concatenate",
    "get_num_threads", "get_rng_state", "is_grad_enabled", "load", "manual_seed", "nn",
    "no_grad", "ops", "optim", "save", "set_num_threads", "set_rng_state", "sparse", "stack",
    "text",
]
