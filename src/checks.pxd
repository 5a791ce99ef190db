# Checks shared by every wrapper in src/: each raises TypeError or ValueError naming the
# argument, so that no C kernel ever sees an array it was not written for.
import numpy as np
from libc.stdint cimport int64_t

ctypedef fused real:
    float
    double


cdef inline object check_array(object x, str name, int ndim=-1):
    """x as a C-contiguous float32/float64 ndarray (copied only if it is a strided view)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise TypeError(f"{name} must be float32 or float64, got {x.dtype}")
    if ndim >= 0 and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    return x


cdef inline object check_like(object y, object x, str name, str xname):
    """y as a C-contiguous array with exactly x's shape and dtype."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(y).__name__}")
    if y.dtype != x.dtype:
        raise TypeError(f"{name} must have {xname}'s dtype {x.dtype}, got {y.dtype}")
    if y.shape != x.shape:
        raise ValueError(f"{name} must have {xname}'s shape {x.shape}, got {y.shape}")
    if not y.flags.c_contiguous:
        y = np.ascontiguousarray(y)
    return y


cdef inline object check_labels(object labels, str name, Py_ssize_t n, Py_ssize_t classes):
    """labels as a C-contiguous int64 vector of n class indices, each in [0, classes)."""
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(labels).__name__}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {labels.dtype}")
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one label per row, "
                         f"got {labels.shape}")
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    cdef const int64_t[::1] lab = labels
    cdef Py_ssize_t i
    cdef Py_ssize_t bad = -1
    with nogil:
        for i in range(n):
            if lab[i] < 0 or lab[i] >= classes:
                bad = i
                break
    if bad >= 0:
        raise ValueError(f"{name}[{bad}] = {lab[bad]} is out of range: labels must be in "
                         f"[0, {classes})")
    return labels
