# Included by every family's .pyx (after `cimport libgdl as c`): each extension module links
# its own copy of csrc/parallel.c, so gdl.set_num_threads reaches each copy through these.
# It also loads NumPy's C API, which the checks in checks.pxd use (Note [array pointers]).
cimport numpy as _cnp
_cnp.import_array()

def _set_num_threads(size_t n):
    """Threads for this module's kernels (Note [parallel loops]); 0 reads the environment."""
    c.gdl_set_num_threads(n)


def _get_num_threads():
    """Threads this module's kernels use."""
    return int(c.gdl_num_threads())
