"""How many threads gdl's compiled kernels use (Note [parallel loops] in csrc/gdl.h).

>>> gdl.set_num_threads(1)      # e.g. to leave the other cores to something else
>>> gdl.get_num_threads()
1

The count starts as GDL_NUM_THREADS, else OMP_NUM_THREADS, else the number of CPUs, at most 8.
It governs the elementwise kernels, pooling, the optimizers and the packed convolution and
recurrent kernels; the matrix products that go through the BLAS follow the BLAS's own setting
(OPENBLAS_NUM_THREADS before numpy is imported, or threadpoolctl). Results are the same for
every count.
"""
import importlib

from gdl import _build_info

MAX_THREADS = 8


def _modules():
    return [importlib.import_module(f"gdl._kernels.{family}")
            for family in _build_info.families]


def set_num_threads(n):
    """Use ``n`` threads (1 to 8; more is taken as 8) in every compiled kernel from now on."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of threads must be a positive int, got {n!r}")
    for module in _modules():
        module._set_num_threads(min(n, MAX_THREADS))


def get_num_threads():
    """The number of threads the compiled kernels use."""
    return _modules()[0]._get_num_threads()
