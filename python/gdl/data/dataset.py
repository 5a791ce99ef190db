"""Datasets and the DataLoader that cuts them into batches."""
import numbers

import numpy as np


class Dataset:
    """A sized collection of examples: ``len(dataset)`` and ``dataset[i]``.

    Subclass it and define both methods; ``dataset[i]`` returns one example, usually a tuple
    ``(input, target)`` of arrays or scalars. ``DataLoader`` stacks examples into batches.
    """

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Examples taken row by row from arrays that share their first dimension.

    ``TensorDataset(images, labels)[i]`` is ``(images[i], labels[i])``. A ``DataLoader`` over a
    ``TensorDataset`` gathers a whole batch with one fancy index per array.

    >>> ds = TensorDataset(np.zeros((1000, 784), np.float32), np.arange(1000))
    >>> len(ds), ds[3][1]
    (1000, 3)
    """

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        arrays = tuple(np.asarray(a) for a in arrays)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: array {i} is a scalar; arrays must have a "
                                 "first dimension (one row per example)")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) != 1:
            raise ValueError("TensorDataset: arrays must have the same first dimension, got "
                             + ", ".join(str(s) for s in sizes))
        self.arrays = arrays

    def __len__(self):
        return self.arrays[0].shape[0]

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over a dataset in batches, each a tuple of numpy arrays.

    Every epoch (every ``for batch in loader``) visits each example exactly once, in order, or
    in a fresh random order when ``shuffle=True``. The orders come from
    ``np.random.default_rng(seed)``, so a given seed gives the same sequence of epochs; with
    ``seed=None`` they come from gdl's own generator, which ``gdl.manual_seed`` seeds.
    The last batch is smaller when ``batch_size`` does not divide ``len(dataset)``, unless
    ``drop_last=True`` drops it. Batches are new arrays: changing one leaves the data alone.

    For a ``TensorDataset`` a batch is one fancy index per array (no Python loop per example);
    for any other ``Dataset`` (a subclass that overrides ``__getitem__`` included) the examples
    are stacked field by field with ``np.stack``.

    >>> loader = DataLoader(TensorDataset(x, y), batch_size=100, shuffle=True, seed=0)
    >>> for images, labels in loader:   # images (100, 784), labels (100,)
    ...     ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=None):
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError("DataLoader: dataset must define __len__ and __getitem__, got "
                            f"{type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise TypeError(f"DataLoader: batch_size must be an int, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be >= 1, got {batch_size}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {flag!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TypeError(f"DataLoader: seed must be None or an int, got {seed!r}")
        if seed is not None and seed < 0:
            raise ValueError(f"DataLoader: seed must be >= 0, got {seed}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def __len__(self):
        """The number of batches in one epoch."""
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = None
        if self.shuffle:
            order = (self._rng if self._rng is not None else _gdl_rng()).permutation(n)
        stop = len(self) * self.batch_size
        for start in range(0, stop, self.batch_size):
            end = min(start + self.batch_size, n)
            if order is not None:
                index = order[start:end]
            else:
                index = np.arange(start, end)
            yield self._batch(index)

    def _batch(self, index):
        if type(self.dataset).__getitem__ is TensorDataset.__getitem__:
            return tuple(a[index] for a in self.dataset.arrays)
        examples = [self.dataset[int(i)] for i in index]
        if not isinstance(examples[0], tuple):
            return (np.stack([np.asarray(e) for e in examples]),)
        fields = zip(*examples)
        return tuple(np.stack([np.asarray(v) for v in field]) for field in fields)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed})")


def _gdl_rng():
    """gdl's global generator (``gdl.manual_seed`` seeds it); numpy's fresh one without it."""
    try:
        from gdl.random import rng
    except ImportError:
        return np.random.default_rng()
    return rng()
