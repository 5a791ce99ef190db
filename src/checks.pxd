# Checks shared by every wrapper in src/: each raises TypeError or ValueError naming the
# argument, so that no C kernel ever sees an array it was not written for.
import numpy as np
from libc.stdint cimport int64_t

ctypedef fused real:
    float
    double


cdef inline check_float(object x, str name, int ndim):
    """Raise unless x is a float32/float64 ndarray with ndim dimensions (any, for ndim < 0)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float32 and x.dtype != np.float64:
        raise TypeError(f"{name} must be float32 or float64, got {x.dtype}")
    if ndim >= 0 and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")


cdef inline object check_array(object x, str name, int ndim=-1):
    """x as a C-contiguous float32/float64 ndarray (copied only if it is a strided view)."""
    check_float(x, name, ndim)
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


cdef inline object check_writable(object x, str name):
    """x itself, after checking that it can be updated in place: never copied, since a copy
    would take the update and the caller's array would not see it."""
    if not x.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous: it is updated in place, so it is "
                         f"never copied")
    if not x.flags.writeable:
        raise ValueError(f"{name} must be writable: it is updated in place")
    return x


cdef inline object check_inplace(object x, str name, int ndim=-1):
    """x itself, a C-contiguous, writable float32/float64 ndarray."""
    check_float(x, name, ndim)
    return check_writable(x, name)


cdef inline object check_inplace_like(object y, object x, str name, str xname):
    """y itself, a C-contiguous, writable array with exactly x's shape and dtype."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(y).__name__}")
    if y.dtype != x.dtype:
        raise TypeError(f"{name} must have {xname}'s dtype {x.dtype}, got {y.dtype}")
    if y.shape != x.shape:
        raise ValueError(f"{name} must have {xname}'s shape {x.shape}, got {y.shape}")
    return check_writable(y, name)


cdef inline object check_shaped(object y, str name, tuple shape, object dtype, str why):
    """y as a C-contiguous array of the given shape and dtype; why says where shape comes from."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(y).__name__}")
    if y.dtype != dtype:
        raise TypeError(f"{name} must have dtype {np.dtype(dtype)}, got {y.dtype}")
    if y.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({why}), got {y.shape}")
    if not y.flags.c_contiguous:
        y = np.ascontiguousarray(y)
    return y


cdef inline object check_indices(object idx, str name, Py_ssize_t size, int ndim=-1):
    """idx as a C-contiguous int64 array of its own shape, every entry in [0, size)."""
    if not isinstance(idx, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(idx).__name__}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer indices, got dtype {idx.dtype}")
    if ndim >= 0 and idx.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {idx.shape}")
    out = np.asarray(idx, dtype=np.int64, order="C")  # keeps a 0-D idx 0-D
    cdef const int64_t[::1] flat = out.reshape(-1)
    cdef Py_ssize_t n = flat.shape[0]
    cdef Py_ssize_t i
    cdef Py_ssize_t bad = -1
    with nogil:
        for i in range(n):
            if flat[i] < 0 or flat[i] >= size:
                bad = i
                break
    if bad >= 0:
        value = idx.flat[bad]                  # the caller's value, before any int64 wrap
        where = ", ".join([str(int(j)) for j in np.unravel_index(bad, idx.shape)])
        entry = f"{name}[{where}]" if idx.ndim else name
        raise ValueError(f"{entry} = {value} is out of range: indices must be in [0, {size})")
    return out


cdef inline double check_real(object value, str name) except? -1.0:
    """value as a C double; a TypeError naming it unless it is a real number."""
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


cdef inline tuple check_pair(object value, str name, Py_ssize_t minimum):
    """value as a pair (a, b) of ints >= minimum: PyTorch's kernel_size=3 or (3, 5)."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or not all([isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                  for v in pair]):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if pair[0] < minimum or pair[1] < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


cdef inline object scratch(object local, tuple shape, object dtype):
    """A reusable uninitialised array of shape and dtype, kept in ``local`` (the caller's
    threading.local: kernels run without the GIL) across calls. DESIGN.md, Memory:
    re-faulting a fresh buffer every step costs more than the reuse."""
    cache = getattr(local, "cache", None)
    if cache is None:
        cache = local.cache = {}
    key = (shape, np.dtype(dtype).char)
    buf = cache.get(key)
    if buf is None:
        cache.clear()                          # keep one: shapes rarely change mid-training
        buf = cache[key] = np.empty(shape, dtype=dtype)
    return buf
