"""Matrix products split among gdl's threads (csrc/matmul.c, Note [split GEMM] in gdl.h)."""
import numpy as np

cimport libgdl as c
from checks cimport check_float, real

include "blas.pxi"
include "threads.pxi"

cdef Py_ssize_t INT_MAX = 2147483647

# the multiply-adds from which a product may be split, and from which it is one call again
SPLIT_MIN = c.GDL_MATMUL_SPLIT_MIN
ONE_THREAD_MIN = c.GDL_MATMUL_ONE_THREAD_MIN   # Note [one-thread GEMM]
SPLIT_MAX = c.GDL_MATMUL_SPLIT_MAX
# the multiply-adds from which a float32 product runs packed, up to SPLIT_MAX (Note [packed GEMM])
PACKED_MIN = c.GDL_MATMUL_PACKED_MIN
PACKED_MAX_A_T = c.GDL_MATMUL_PACKED_MAX_A_T


def _matmul(int trans_a, int trans_b, const real[:, ::1] A, const real[:, ::1] B,
            real[:, ::1] C, size_t K):
    cdef size_t M = C.shape[0]
    cdef size_t N = C.shape[1]
    with nogil:
        if real is float:
            c.gdl_matmul_f32(sgemm, trans_a, trans_b, &A[0, 0], &B[0, 0], &C[0, 0], M, N, K)
        else:
            c.gdl_matmul_f64(dgemm, trans_a, trans_b, &A[0, 0], &B[0, 0], &C[0, 0], M, N, K)


cdef inline tuple _operand(object x, bint trans):
    """x as a C-contiguous array and whether to transpose it: a transposed view (F-order) is
    read as its C-ordered base with the flag flipped, any other strided view is copied."""
    if x.flags.c_contiguous:
        return x, trans
    if x.flags.f_contiguous:
        return x.T, not trans
    return np.ascontiguousarray(x), trans


def matmul(a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b) for 2-D float32/float64 arrays of one dtype, op(x) = x.T when its flag is
    set; a new C-contiguous array. Large products are split among gdl's threads.

    ``matmul(x, W, trans_b=True)`` is ``x @ W.T``.
    """
    check_float(a, "a", 2)
    check_float(b, "b", 2)
    if a.dtype != b.dtype:
        raise TypeError(f"a and b must have one dtype, got {a.dtype} and {b.dtype}")
    cdef Py_ssize_t M = a.shape[1] if trans_a else a.shape[0]
    cdef Py_ssize_t K = a.shape[0] if trans_a else a.shape[1]
    cdef Py_ssize_t Kb = b.shape[1] if trans_b else b.shape[0]
    cdef Py_ssize_t N = b.shape[0] if trans_b else b.shape[1]
    if K != Kb:
        raise ValueError(f"matmul shapes do not fit: {'a.T' if trans_a else 'a'} is {(M, K)}, "
                         f"{'b.T' if trans_b else 'b'} is {(Kb, N)}")
    if M * K > INT_MAX or K * N > INT_MAX or M * N > INT_MAX:
        # beyond the BLAS's int sizes: numpy's matmul copes
        return np.ascontiguousarray(np.matmul(a.T if trans_a else a, b.T if trans_b else b))
    out = np.empty((M, N), dtype=a.dtype)
    if M == 0 or N == 0:
        return out
    if K == 0:
        out.fill(0)
        return out
    a, ta = _operand(a, trans_a)
    b, tb = _operand(b, trans_b)
    _matmul(ta, tb, a, b, out, K)
    return out


def can_split():
    """Whether large products are split among threads (Note [split GEMM]): the BLAS of scipy's
    cython_blas exposes OpenBLAS's thread-count control."""
    return bool(c.gdl_matmul_can_split(<void *>sgemm))


def blas():
    """Which BLAS gdl's GEMMs call (Note [numpy's BLAS] in csrc/gdl.h): "numpy" (numpy's
    OpenBLAS) or "scipy" (scipy's cython_blas)."""
    return "numpy" if c.gdl_blas_is_numpys() else "scipy"


def _path(size_t M, size_t N, size_t K, dtype, bint trans_a=False, bint trans_b=False):
    """How op(A) (M, K) x op(B) (K, N) of dtype runs, for C-contiguous A and B: "narrow" (Note
    [narrow GEMM]), "packed" (Note [packed GEMM]), "split" (Note [split GEMM]) or "one call"."""
    if np.dtype(dtype) == np.float32:
        path = c.gdl_matmul_path(<void *>sgemm, 1, trans_a, trans_b, M, N, K)
    else:
        path = c.gdl_matmul_path(<void *>dgemm, 0, trans_a, trans_b, M, N, K)
    return ("one call", "split", "packed", "narrow")[path]


def _set_spin(size_t microseconds):
    """How long this module's helpers watch for the next product (Note [spinning helpers])."""
    c.gdl_parallel_spin(microseconds)


def _allow_packed(bint allow):
    """Lets float32 products take the packed path (the default) or not, in this process, for
    paired timings of both; returns the previous setting."""
    return bool(c.gdl_matmul_allow_packed(allow))


def _blas_threads():
    """The thread count of cython_blas's OpenBLAS (-1 when it has no control): a split
    restores it afterwards."""
    c.gdl_matmul_can_split(<void *>sgemm)
    return c.gdl_matmul_blas_threads()
