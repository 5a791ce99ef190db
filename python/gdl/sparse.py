"""Row-sparse gradients: the gradient of an embedding table, kept as the rows a batch used.

Note [sparse gradients]: the gradient of a (V, D) embedding table is zero except in the rows
the batch looked up. For the book's chapter-11 network (V = 74,000, 200 words per review) a
dense gradient means zeroing, filling and reading 30 MB per step to change 200 rows, which is
95% of the step. ``nn.Embedding(..., sparse=True)`` (and ``EmbeddingBag``) instead hand
backward a ``RowSparse``: the looked-up row numbers (repeats allowed) and one gradient row for
each. Autograd adds them to other gradients (sparse + sparse concatenates, sparse + dense
scatters into a copy of the dense one), the parameter's ``.grad`` holds the RowSparse, and
``gdl.SGD`` without momentum or weight decay updates only those rows with a compiled kernel.
An ``EmbeddingBag``'s gradient gives every word of bag b the bag's row gy[b]; it keeps the
(B, D) rows once with ``group=L`` (a bag's L words are L consecutive ``rows``) instead of
repeating each L times (np.repeat took 2.5-3.6 us of bench W4's 28-48 us step), and SGD
reads them as they are.
Every other consumer gets the same numbers as the dense gradient: ``.data`` is the dense array,
Adam and SGD with momentum or weight decay densify, ``clip_grad_norm_`` coalesces first.
"""
import numpy as np

from gdl._kernels import embedding as _embedding

__all__ = ["RowSparse"]


class RowSparse:
    """A (V, D) gradient that is zero outside ``rows``: dense[rows[k]] += values[k] for all k.

    ``rows`` is int64 (n,) (a row may repeat: its values add); ``values`` is (n, D). Built with
    ``group=L``, the values passed are (n / L, D), one row for each L consecutive rows
    (``group_values``); ``values`` repeats them on first use.

    >>> g = RowSparse(np.array([3, 1, 3]), np.ones((3, 2), np.float32), (5, 2))
    >>> g.to_dense()[3]
    array([2., 2.], dtype=float32)
    """

    __array_ufunc__ = None              # ndarray + RowSparse calls RowSparse.__radd__
    is_sparse = True

    def __init__(self, rows, values, shape, group=1):
        rows = np.asarray(rows)
        values = np.asarray(values)
        if rows.ndim != 1 or rows.dtype.kind not in "iu":
            raise ValueError(f"rows must be a 1-D integer array, got {rows.dtype} {rows.shape}")
        if not isinstance(group, (int, np.integer)) or group < 1 or len(rows) % group:
            raise ValueError(f"group must be a positive divisor of len(rows) = {len(rows)}, "
                             f"got {group!r}")
        n = len(rows) // group
        if len(shape) != 2 or values.shape != (n, shape[1]):
            what = "len(rows) // group" if group != 1 else "len(rows)"
            raise ValueError(f"values must have shape ({what}, D) = ({n}, "
                             f"{shape[1] if len(shape) == 2 else '?'}), got {values.shape}")
        if len(rows) and (rows.min() < 0 or rows.max() >= shape[0]):
            raise ValueError(f"rows must lie in [0, {shape[0]})")
        self._set(rows, values, shape, int(group))

    def _set(self, rows, values, shape, group):
        self.rows = np.asarray(rows).astype(np.int64, copy=False)
        self.group_values = values
        self.group = group
        self._values = values if group == 1 else None      # the repeated rows, on first use
        self.shape = (int(shape[0]), int(shape[1]))

    @classmethod
    def _unchecked(cls, rows, values, shape, group=1):
        """A RowSparse from rows already checked against shape (an embedding's indices, checked
        by its forward kernel) and values of shape (len(rows) // group, D): no reductions over
        rows, which cost more than the rest of a one-review step (bench W4)."""
        self = cls.__new__(cls)
        self._set(rows, values, shape, group)
        return self

    @property
    def values(self):
        """(len(rows), D): the gradient row of each entry of ``rows``."""
        if self._values is None:
            self._values = np.repeat(self.group_values, self.group, axis=0)
        return self._values

    @property
    def dtype(self):
        return self.group_values.dtype

    @property
    def ndim(self):
        return 2

    @property
    def data(self):
        """The dense (V, D) array (a new one each time: reading it costs a full table)."""
        return self.to_dense()

    def astype(self, dtype):
        return RowSparse(self.rows, self.group_values.astype(dtype), self.shape, self.group)

    def to_dense(self):
        dense = np.zeros(self.shape, dtype=self.dtype)
        self.add_to_(dense)
        return dense

    def add_to_(self, array):
        """array[rows[k]] += values[k] for every k, in place (compiled scatter-add)."""
        if not len(self.rows):
            return array
        if self.group == 1:
            _embedding.embedding_bwd_(array, self.rows, np.ascontiguousarray(self.values))
        else:                                   # each bag's row into each of its words' rows
            _embedding.embedding_bag_bwd_(array, self.rows.reshape(-1, self.group),
                                          np.ascontiguousarray(self.group_values))
        return array

    def coalesce(self):
        """The same gradient with each row once, rows sorted."""
        rows, inverse = np.unique(self.rows, return_inverse=True)
        values = np.zeros((len(rows), self.shape[1]), dtype=self.dtype)
        if len(rows):
            _embedding.embedding_bwd_(values, inverse.reshape(-1).astype(np.int64),
                                      np.ascontiguousarray(self.values))
        return RowSparse(rows, values, self.shape)

    def __add__(self, other):
        if isinstance(other, RowSparse):
            if other.shape != self.shape:
                raise ValueError(f"cannot add sparse gradients of shapes {self.shape} and "
                                 f"{other.shape}")
            dtype = np.result_type(self.dtype, other.dtype)
            return RowSparse(np.concatenate([self.rows, other.rows]),
                             np.concatenate([self.values, other.values]).astype(dtype,
                                                                                copy=False),
                             self.shape)
        other = np.asarray(other)
        if other.shape != self.shape:
            raise ValueError(f"cannot add a sparse gradient of shape {self.shape} to an array "
                             f"of shape {other.shape}")
        dense = np.array(other, dtype=np.result_type(self.dtype, other.dtype), order="C")
        return self.astype(dense.dtype).add_to_(dense)

    __radd__ = __add__

    def __mul__(self, scale):
        return RowSparse(self.rows, self.group_values * scale, self.shape, self.group)

    __rmul__ = __mul__

    def __repr__(self):
        return (f"RowSparse(shape={self.shape}, rows={len(self.rows)}, "
                f"dtype={self.dtype})")
