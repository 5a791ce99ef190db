"""``Module`` (the book's ``Layer``): parameters, submodules, train/eval, state dicts."""
import numpy as np

from gdl.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a weight of a Module: requires gradients, registered automatically.

    >>> self.weight = gdl.nn.Parameter(np.zeros((3, 2)))
    """

    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)


class _ParameterList(list):
    """``module.parameters``: call it for every parameter (PyTorch), or treat it as the book's
    list of explicitly added parameters (``self.parameters += layer.get_parameters()``)."""

    def __init__(self, module, items=()):
        super().__init__(items)
        self._module = module

    def __call__(self, recurse=True):
        return iter([p for _, p in self._module.named_parameters(recurse=recurse)])

    def __iadd__(self, other):
        self.extend(other)
        return self


class Module:
    """Base class of every layer and model (the book calls it ``Layer``).

    Assigning a Parameter (or any leaf Tensor with requires_grad) or a Module to an attribute
    registers it; ``parameters()`` / ``get_parameters()`` list every parameter once, in
    registration order. Subclasses define ``forward``; calling the module calls it.

    >>> class TwoLayer(gdl.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = gdl.nn.Linear(2, 3)
    ...         self.out = gdl.nn.Linear(3, 1)
    ...     def forward(self, x):
    ...         return self.out(self.hidden(x).relu())
    """

    def __init__(self):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "parameters", _ParameterList(self))
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_params" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                                 f"before assigning {name}")
        params, modules = self._params, self._modules
        params.pop(name, None)
        modules.pop(name, None)
        if name == "parameters":
            value = _ParameterList(self, value)
        elif isinstance(value, Module):
            modules[name] = value
        elif isinstance(value, Tensor) and value.requires_grad and value.is_leaf:
            params[name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._params.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ---- parameters and submodules -------------------------------------------------------
    def named_modules(self, prefix=""):
        """(name, module) for this module and every submodule, depth first."""
        yield prefix, self
        for name, module in self._modules.items():
            yield from module.named_modules(f"{prefix}.{name}" if prefix else name)

    def children(self):
        return iter(self._modules.values())

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, recurse=True):
        """(dotted name, parameter) for every parameter, each once."""
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            dot = f"{prefix}." if prefix else ""
            for name, p in module._params.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield dot + name, p
            for i, p in enumerate(list.__iter__(module.parameters)):
                if id(p) not in seen:                      # added the book's way, unnamed
                    seen.add(id(p))
                    yield f"{dot}parameters.{i}", p

    def get_parameters(self):
        """The book's name: a list of every parameter."""
        return list(self.parameters())

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    # ---- modes and dtypes ----------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout active); returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    def to(self, dtype):
        """Convert every parameter to a float dtype in place; returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"parameters must be float, got {dtype}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        return self

    def double(self):
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    # ---- state -------------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: array copy} of every parameter, for ``gdl.save``."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state, strict=True):
        """Copy arrays from ``state`` into the parameters, checking names, shapes and dtypes.

        With ``strict`` (the default) a missing or unexpected key is an error; a shape or
        dtype mismatch is always one. Nothing is changed unless every check passes.
        """
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict of arrays, got {type(state).__name__}")
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"state does not fit {type(self).__name__}: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        updates = []
        for name, p in own.items():
            if name not in state:
                continue
            value = state[name]
            value = value.data if isinstance(value, Tensor) else value
            if not isinstance(value, np.ndarray):
                raise TypeError(f"state[{name!r}] must be an array, got {type(value).__name__}")
            if value.shape != p.data.shape:
                raise ValueError(f"state[{name!r}] has shape {value.shape}, the parameter has "
                                 f"{p.data.shape}")
            if value.dtype != p.data.dtype:
                raise TypeError(f"state[{name!r}] has dtype {value.dtype}, the parameter has "
                                f"{p.data.dtype}")
            updates.append((p, value))
        for p, value in updates:
            p.data[...] = value
        return {"missing": missing, "unexpected": unexpected}

    def summary(self, input_shape=None, **options):
        """Print (and return) the layers, output shapes and parameter counts (chapter 7)."""
        from gdl.nn.summary import summary
        return summary(self, input_shape, **options)

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, module in self._modules.items():
            inner = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {inner}")
        return "\n".join(lines) + ("\n)" if len(lines) > 1 else ")")

    def extra_repr(self):
        return ""


Layer = Module
