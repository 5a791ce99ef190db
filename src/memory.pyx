"""numpy's allocator set to gdl's aligned blocks (Note [aligned arrays] in csrc/gdl.h)."""
cimport libgdl as c

include "threads.pxi"

cdef extern from *:
    """
    #include <numpy/arrayobject.h>

    static PyDataMem_Handler gdl_aligned_handler = {
        "gdl_aligned_64", 1,
        {NULL, gdl_aligned_malloc, gdl_aligned_calloc, gdl_aligned_realloc, gdl_aligned_free}};

    /* The handler before, after gdl's is set in this context; NULL with an exception set. */
    static PyObject *gdl_set_aligned_handler(void) {
        PyObject *capsule = PyCapsule_New(&gdl_aligned_handler, "mem_handler", NULL);
        if (capsule == NULL) {
            return NULL;
        }
        PyObject *before = PyDataMem_SetHandler(capsule);
        Py_DECREF(capsule);
        return before;
    }
    """
    object gdl_set_aligned_handler()


def align_numpy_arrays():
    """Make numpy allocate every array created from now on in this thread's context on a
    64-byte boundary (Note [aligned arrays]); returns the allocator it had, numpy's
    PyDataMem_Handler capsule (numpy.core.multiarray.get_handler_name names it)."""
    return gdl_set_aligned_handler()


ALIGN = c.GDL_ALIGN
