# The GEMMs gdl's kernels call (Note [numpy's BLAS] in csrc/gdl.h): numpy's OpenBLAS when the
# process has it loaded and its threads do not spin (gdl/__init__.py), else scipy's cython_blas.
# Included after `cimport libgdl as c`.
from scipy.linalg.cython_blas cimport dgemm as _scipy_dgemm, sgemm as _scipy_sgemm

import gdl as _gdl                              # set up far enough: see gdl/__init__.py

c.gdl_blas_allow_numpy(not getattr(_gdl, "_numpy_blas_spins", False))
cdef c.gdl_sgemm_t sgemm = c.gdl_blas_sgemm(_scipy_sgemm)
cdef c.gdl_dgemm_t dgemm = c.gdl_blas_dgemm(_scipy_dgemm)
