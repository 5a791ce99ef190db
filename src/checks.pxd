# Checks shared by every wrapper in src/: each raises TypeError or ValueError naming the
# argument, so that no C kernel ever sees an array it was not written for.
#
# Note [array pointers]: a wrapper that checked its arrays hands the kernel their data
# pointers (data_of) and picks the float or double kernel by dtype (is_f32), both read
# through NumPy's C API. A fused-type def function with typed memoryviews did the same in
# 1.4 us a call (Cython's dispatch matches the arguments' types in Python, then acquires one
# buffer per array), most of a small op's time: sigmoid of 100 floats took 1.5 us, its
# backward 2.9; now 0.46 and 0.45-0.78 (bench W4's step went from ~46 to ~28 us at its
# fastest). The checks below read dtype, shape and flags through the same API, which
# threads.pxi (included by every family) imports. The families whose calls take 0.1 ms and
# more (conv, pool, rnn, lstm, matmul) keep their typed memoryviews.
import numpy as np
cimport numpy as cnp
from libc.stdint cimport int64_t

ctypedef fused real:
    float
    double


cdef inline bint is_f32(object x) noexcept:
    """Whether the checked float array x is float32 (else float64)."""
    return cnp.PyArray_TYPE(<cnp.ndarray>x) == cnp.NPY_FLOAT32


cdef inline void *data_of(object x) noexcept:
    """The first element of the checked, C-contiguous array x."""
    return cnp.PyArray_DATA(<cnp.ndarray>x)


cdef inline bint _is_float(object x) noexcept:
    """x is an ndarray of native float32 or float64 (a byte-swapped one is not)."""
    if not cnp.PyArray_Check(x):
        return False
    cdef int t = cnp.PyArray_TYPE(<cnp.ndarray>x)
    return (t == cnp.NPY_FLOAT32 or t == cnp.NPY_FLOAT64) and cnp.PyArray_ISNOTSWAPPED(
        <cnp.ndarray>x)


cdef inline bint _same_layout(object y, object x) noexcept:
    """y (an ndarray) has exactly x's dtype and shape."""
    cdef cnp.ndarray a = <cnp.ndarray>y
    cdef cnp.ndarray b = <cnp.ndarray>x
    cdef int nd = cnp.PyArray_NDIM(a)
    if nd != cnp.PyArray_NDIM(b) or not cnp.PyArray_EquivTypes(a.dtype, b.dtype):
        return False
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *db = cnp.PyArray_DIMS(b)
    cdef int i
    for i in range(nd):
        if da[i] != db[i]:
            return False
    return True


cdef inline check_float(object x, str name, int ndim):
    """Raise unless x is a float32/float64 ndarray with ndim dimensions (any, for ndim < 0)."""
    if not _is_float(x):
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(x).__name__}")
        raise TypeError(f"{name} must be float32 or float64, got {x.dtype}")
    if ndim >= 0 and cnp.PyArray_NDIM(<cnp.ndarray>x) != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {x.shape}")


cdef inline object check_array(object x, str name, int ndim=-1):
    """x as a C-contiguous float32/float64 ndarray (copied only if it is a strided view)."""
    check_float(x, name, ndim)
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x):
        x = np.ascontiguousarray(x)
    return x


cdef inline _check_layout(object y, object x, str name, str xname):
    """Raise unless y is an ndarray with exactly x's dtype and shape."""
    if cnp.PyArray_Check(y) and _same_layout(y, x):
        return
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(y).__name__}")
    if y.dtype != x.dtype:
        raise TypeError(f"{name} must have {xname}'s dtype {x.dtype}, got {y.dtype}")
    raise ValueError(f"{name} must have {xname}'s shape {x.shape}, got {y.shape}")


cdef inline object check_like(object y, object x, str name, str xname):
    """y as a C-contiguous array with exactly x's shape and dtype."""
    _check_layout(y, x, name, xname)
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>y):
        y = np.ascontiguousarray(y)
    return y


cdef inline object _as_int64(object idx):
    """The integer array idx as C-contiguous native int64 of its own shape (idx itself when it
    is one; a 0-D idx stays 0-D)."""
    if (cnp.PyArray_TYPE(<cnp.ndarray>idx) == cnp.NPY_INT64
            and cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>idx)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>idx)):
        return idx
    return np.asarray(idx, dtype=np.int64, order="C")


cdef inline object check_labels(object labels, str name, Py_ssize_t n, Py_ssize_t classes):
    """labels as a C-contiguous int64 vector of n class indices, each in [0, classes)."""
    if not isinstance(labels, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(labels).__name__}")
    if not cnp.PyArray_ISINTEGER(<cnp.ndarray>labels):
        raise TypeError(f"{name} must hold integer class indices, got dtype {labels.dtype}")
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},), one label per row, "
                         f"got {labels.shape}")
    labels = _as_int64(labels)
    cdef const int64_t *lab = <const int64_t *>data_of(labels)
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
    if not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x):
        raise ValueError(f"{name} must be C-contiguous: it is updated in place, so it is "
                         f"never copied")
    if not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>x):
        raise ValueError(f"{name} must be writable: it is updated in place")
    return x


cdef inline object check_inplace(object x, str name, int ndim=-1):
    """x itself, a C-contiguous, writable float32/float64 ndarray."""
    check_float(x, name, ndim)
    return check_writable(x, name)


cdef inline object check_inplace_like(object y, object x, str name, str xname):
    """y itself, a C-contiguous, writable array with exactly x's shape and dtype."""
    _check_layout(y, x, name, xname)
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
    if not cnp.PyArray_ISINTEGER(<cnp.ndarray>idx):
        raise TypeError(f"{name} must hold integer indices, got dtype {idx.dtype}")
    if ndim >= 0 and cnp.PyArray_NDIM(<cnp.ndarray>idx) != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {idx.shape}")
    out = _as_int64(idx)
    cdef const int64_t *flat = <const int64_t *>data_of(out)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(<cnp.ndarray>out)
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
