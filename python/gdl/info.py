"""What ``gdl info`` reports: the version, the compiled kernels, the BLAS and threads."""
import os
import platform

import numpy as np

from gdl import _build_info

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "GDL_NUM_THREADS")


def blas_info():
    """Name and version of the BLAS that numpy's matmul calls (gdl's GEMMs too, unless
    ``gemm_blas`` says "scipy")."""
    try:
        config = np.show_config(mode="dicts")
    except TypeError:                           # numpy < 1.26 has no mode argument
        return "unknown (numpy < 1.26)"
    blas = config.get("Build Dependencies", {}).get("blas", {})
    name = blas.get("name", "unknown")
    version = blas.get("version", "")
    return f"{name} {version}".strip()


def kernel_settings():
    """The compiled kernels' thread count, which packed kernels run ("avx512", "avx2" or "off":
    the packed float32 convolutions, recurrent steps and matrix products, Note [packed GEMM]),
    whether
    mid-sized matrix products are split among gdl's threads (Note [split GEMM]), whose BLAS the
    GEMMs call ("numpy" or "scipy", Note [numpy's BLAS] in csrc/gdl.h), and whether
    freed memory is kept (Note [freed memory]) and which allocator numpy uses here (Note
    [aligned arrays]: "gdl_aligned_64" when gdl set it)."""
    from gdl import _memory
    try:
        from gdl._kernels import conv, matmul
    except ImportError:                         # a development build without these families
        return {}
    from gdl.threads import get_num_threads
    return {"kernel_threads": get_num_threads(),
            "packed_kernels": conv.packed_kernels() or "off",
            "split_gemm": "on" if matmul.can_split() else "off",
            "gemm_blas": matmul.blas(),
            "keep_freed_memory": "on" if _memory.applied else "off",
            "numpy_allocator": _memory.numpy_allocator()}


def info():
    """A dict of what this installation of gdl is made of."""
    threads = {name: os.environ.get(name, "unset") for name in _THREAD_VARIABLES}
    return {
        "gdl": _build_info.version,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "kernels": list(_build_info.families),
        "compiler": _build_info.compiler,
        "c_flags": _build_info.c_flags,
        "blas": blas_info(),
        "cpu_count": os.cpu_count(),
        "threads": threads,
        **kernel_settings(),
    }


def format_info(data):
    """The dict from ``info()`` as aligned ``key: value`` lines."""
    lines = []
    for key, value in data.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(value)
        lines.append(f"{key:>17}: {value}")
    return "\n".join(lines)
