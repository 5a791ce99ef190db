"""The compiled core of gdl's autograd: the Tensor and Function base classes, ``apply``, and
the backward walk. python/gdl/tensor.py builds the public Tensor and Function on these.

Note [compiled autograd core]: every op pays for wrapping its inputs, recording the graph and
building its result; in Python that bookkeeping cost several times numpy's own call on small
arrays. Here it is C: the per-op overhead is numpy's call plus well under a microsecond.
"""
import numpy as np

cdef object _ndarray = np.ndarray
cdef object _asarray = np.asarray
cdef object _array = np.array
cdef bint _grad_enabled = True
cdef type _Tensor = None                        # the public Tensor, set by gdl.tensor


def set_tensor_class(cls):
    """Tell the core which TensorBase subclass results of ops are."""
    global _Tensor
    if not issubclass(cls, TensorBase):
        raise TypeError("the tensor class must derive from TensorBase")
    _Tensor = cls


def set_grad_enabled(bint mode):
    """Turn graph recording on or off; returns the previous mode."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = mode
    return previous


def is_grad_enabled():
    """Whether ops record the graph (False inside ``gdl.no_grad``)."""
    return _grad_enabled


cdef class TensorBase:
    """The fields of a Tensor: its array, its gradient and the op that made it."""
    cdef public object data
    cdef public object grad
    cdef public object _ctx
    cdef public bint requires_grad
    cdef public bint _retains_grad
    cdef object __weakref__


cdef inline TensorBase make(object data, object ctx):
    cdef TensorBase t = _Tensor.__new__(_Tensor)
    t.data = data
    t.grad = None
    t._ctx = ctx
    t.requires_grad = ctx is not None
    t._retains_grad = False
    return t


def make_tensor(data, ctx=None):
    """A Tensor around ``data`` with no conversion or checks (made by an op, or a gradient)."""
    return make(data, ctx)


cdef class FunctionBase:
    """What every op records: its inputs and which of them need a gradient."""
    cdef public tuple parents
    cdef public tuple needs_input_grad
    cdef dict __dict__

    @classmethod
    def apply(cls, *inputs, **options):
        cdef Py_ssize_t n = len(inputs)
        cdef Py_ssize_t i
        cdef bint any_grad = False
        cdef FunctionBase fn = cls.__new__(cls)
        arrays = [None] * n
        needs = [False] * n
        for i in range(n):
            x = inputs[i]
            if isinstance(x, TensorBase):
                arrays[i] = (<TensorBase>x).data
                if (<TensorBase>x).requires_grad:
                    needs[i] = True
                    any_grad = True
            else:
                arrays[i] = x
        out = fn.forward(*arrays, **options)
        if type(out) is not _ndarray:           # numpy returns scalars for 0-d results
            out = _asarray(out)
        if any_grad and _grad_enabled:
            fn.parents = inputs
            fn.needs_input_grad = tuple(needs)
            return make(out, fn)
        return make(out, None)


class Freed:
    """What a Function becomes once backward has run without retain_graph."""

    def __init__(self, name):
        self.name = name


cdef dict _freed = {}                           # op class -> its one Freed marker


cdef object _freed_marker(type cls):
    """The Freed marker of an op class, made once rather than once per freed node."""
    marker = _freed.get(cls)
    if marker is None:
        marker = _freed[cls] = Freed(cls.__name__)
    return marker


cdef list _topological_order(TensorBase root):
    """Every tensor with a recorded op reachable from root, inputs before outputs.

    A depth-first post-order: a tensor is marked when it is expanded, not when it is pushed,
    so that one reached again on another path (t in t + t.T) still lands after every tensor
    it feeds, and backward hands it all its gradients before it is processed.
    """
    cdef list order = []
    cdef set visited = set()
    cdef list stack = [(root, False)]
    cdef TensorBase t
    cdef FunctionBase ctx
    while stack:
        item, expanded = stack.pop()
        t = <TensorBase>item
        if expanded:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t._ctx is None:
            continue
        if isinstance(t._ctx, Freed):
            raise RuntimeError(f"backward through a graph that was already freed (at "
                               f"{t._ctx.name}): call backward(retain_graph=True) the first "
                               f"time to backpropagate through it twice")
        ctx = <FunctionBase>t._ctx
        for parent in ctx.parents:
            if (isinstance(parent, TensorBase) and (<TensorBase>parent).requires_grad
                    and id(parent) not in visited):
                stack.append((parent, False))
    return order


cdef _accumulate_leaf(TensorBase t, object g, set handed):
    """Add g into a leaf's .grad, owning the buffer so later in-place adds are safe."""
    if g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    if type(g) is not _ndarray and getattr(g, "is_sparse", False):
        # a RowSparse gradient (Note [sparse gradients] in gdl/sparse.py): kept sparse until
        # a dense gradient joins it
        if t.grad is None:
            t.grad = g
        elif isinstance(t.grad, TensorBase):
            g.add_to_((<TensorBase>t.grad).data)
        else:
            t.grad = t.grad + g
        return
    if t.grad is not None and not isinstance(t.grad, TensorBase):
        t.grad = make(t.grad + g, None)         # sparse so far: a new dense array
        return
    if t.grad is None:
        # Note [gradient ownership]: an op may pass its upstream gradient through unchanged
        # (Add, Reshape) or as a read-only broadcast view (Sum), so the same memory can reach
        # two leaves. A leaf keeps the array only if it is a fresh, writable base array that no
        # other leaf took in this backward; otherwise it copies.
        if g.base is not None or id(g) in handed or not g.flags.writeable:
            g = _array(g, order="C")
        handed.add(id(g))
        t.grad = make(g, None)
    else:
        current = (<TensorBase>t.grad).data
        if g.shape != current.shape:
            raise RuntimeError(f"gradient of shape {g.shape} for a tensor whose .grad has "
                               f"shape {current.shape}")
        current += g


def run_backward(TensorBase root, grad, bint retain_graph):
    """Backpropagate ``grad`` (root's shape) from root to every leaf that requires grad."""
    cdef list order = _topological_order(root)
    cdef dict grads = {id(root): grad}
    cdef set handed = set()
    cdef TensorBase t
    cdef FunctionBase ctx
    cdef Py_ssize_t i, k
    for k in range(len(order) - 1, -1, -1):
        t = <TensorBase>order[k]
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._ctx is None:
            _accumulate_leaf(t, g, handed)
            continue
        ctx = <FunctionBase>t._ctx
        if t._retains_grad:
            t.grad = make(_array(g), None)
        gxs = ctx.backward(g)
        if type(gxs) is not tuple:
            gxs = (gxs,)
        parents = ctx.parents
        needs = ctx.needs_input_grad
        for i in range(min(len(parents), len(gxs))):   # trailing constants may get nothing
            gx = gxs[i]
            if not needs[i] or gx is None:
                continue
            key = id(parents[i])
            previous = grads.get(key)
            grads[key] = gx if previous is None else previous + gx
        if not retain_graph:
            t._ctx = _freed_marker(type(ctx))
