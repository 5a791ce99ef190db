"""Allocator settings that let a training loop reuse the memory of the step before.

Note [freed memory]: a training step allocates and frees the same large arrays every time (the
activations, the im2col buffers, the gradients). glibc's malloc serves blocks above its mmap
threshold with a fresh mmap and gives them back on free, and trims the top of its heap once
more than the trim threshold lies free there; either way the next step touches new pages, and
the kernel faults and zeroes each 4 KiB page again. The threshold starts at 128 KiB and only
rises as blocks are freed, so a step's arrays are faulted in again and again: on the two-conv
step (bench W6b, 2 threads) the ReLU forward over a 5.5 MB activation took 2.7 ms instead of
1 ms, and the whole step 55-60 ms instead of 37-39 ms. gdl therefore raises the mmap threshold
to glibc's maximum (32 MiB on 64-bit) and the trim threshold to 1 GiB when it is imported: the
process keeps up to that much freed memory for its next allocations instead of handing it back
(its resident size stays near its peak, as with PyTorch's caching allocators). Only on glibc;
GDL_KEEP_FREED_MEMORY=0 in the environment leaves malloc as it was.

Note [aligned arrays] (csrc/gdl.h): gdl also makes numpy allocate its arrays on 64-byte
boundaries, through numpy's own hook for that (PyDataMem_SetHandler, NEP 49), in the context of
the thread that imports gdl; GDL_ALIGNED_ARRAYS=0 leaves numpy's allocator as it was.
"""
import ctypes
import os
import platform

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30
applied = False                  # whether keep_freed_memory() took effect in this process
aligned = False                  # whether align_arrays() set numpy's allocator


def on_glibc():
    """Whether this process runs on glibc's malloc (Linux with glibc)."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def keep_freed_memory():
    """Apply Note [freed memory]; True when glibc accepted both settings."""
    if os.environ.get("GDL_KEEP_FREED_MEMORY", "1") == "0" or not on_glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    global applied
    applied = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                   and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return applied


def align_arrays():
    """Apply Note [aligned arrays] in this thread's context; True when numpy took the
    allocator (False with GDL_ALIGNED_ARRAYS=0, or in a build without the memory family)."""
    global aligned
    if os.environ.get("GDL_ALIGNED_ARRAYS", "1") == "0":
        return False
    try:
        from gdl._kernels import memory
    except ImportError:                         # a development build without the family
        return False
    memory.align_numpy_arrays()
    aligned = True
    return True


def numpy_allocator():
    """The name of the allocator numpy uses in this thread's context."""
    import numpy as np
    core = getattr(np, "_core", None) or np.core
    return core.multiarray.get_handler_name()
