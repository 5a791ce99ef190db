"""Optimizers: SGD (with momentum and weight decay) and Adam, each step one compiled update
per parameter (csrc/optim.c)."""
import numpy as np

from gdl._kernels import optim as _k
from gdl.tensor import Tensor


class Optimizer:
    """Holds the parameters to update; ``zero_grad()``, ``step()``, ``state_dict()``."""

    def __init__(self, parameters):
        self.parameters = list(parameters)
        if not self.parameters:
            raise ValueError("the optimizer got an empty parameter list")
        for i, p in enumerate(self.parameters):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"parameters[{i}] is not a Tensor that requires grad")
        self.steps = 0

    def zero_grad(self):
        """Forget every parameter's gradient (the next backward starts from zero)."""
        for p in self.parameters:
            p.grad = None

    def step(self, zero=True):
        """Update every parameter that has a gradient, then (``zero=True``, as the book's SGD
        does) clear the gradients so that the next backward starts from zero."""
        self.steps += 1
        for i, p in enumerate(self.parameters):
            if p.grad is not None:
                self._update(i, p.data, p.grad.data)
                if zero:
                    p.grad = None

    def _update(self, i, w, g):
        raise NotImplementedError

    def _hyper(self):
        raise NotImplementedError

    def _buffers(self):
        return {}

    def state_dict(self):
        """Hyperparameters, the step count and every per-parameter buffer (copies)."""
        return {"hyper": dict(self._hyper()), "steps": self.steps,
                "buffers": {name: {str(i): b.copy() for i, b in per.items()}
                            for name, per in self._buffers().items()}}

    def load_state_dict(self, state):
        """Restore a ``state_dict()``; buffer shapes must match the parameters."""
        try:
            hyper, steps, buffers = state["hyper"], state["steps"], state["buffers"]
        except (KeyError, TypeError):
            raise ValueError("state is not an optimizer state_dict (needs hyper, steps, "
                             "buffers)") from None
        own = self._buffers()
        if set(buffers) != set(own):
            raise ValueError(f"state has buffers {sorted(buffers)}, {type(self).__name__} "
                             f"keeps {sorted(own)}")
        restored = {}
        for name, per in buffers.items():
            restored[name] = {}
            for key, value in per.items():
                i = int(key)
                if not 0 <= i < len(self.parameters):
                    raise ValueError(f"state buffer {name}[{i}] is for a parameter this "
                                     f"optimizer does not have")
                w = self.parameters[i].data
                value = np.asarray(value)
                if value.shape != w.shape:
                    raise ValueError(f"state buffer {name}[{i}] has shape {value.shape}, the "
                                     f"parameter has {w.shape}")
                restored[name][i] = np.array(value, dtype=w.dtype, order="C")
        for key, value in hyper.items():
            setattr(self, key, value)
        self.steps = int(steps)
        for name, per in restored.items():
            own[name].clear()
            own[name].update(per)


class SGD(Optimizer):
    """Stochastic gradient descent: ``w -= lr * g`` (with optional momentum, weight decay).

    ``lr`` is the book's ``alpha``: ``SGD(parameters=model.get_parameters(), alpha=0.1)``.
    Momentum and weight decay follow PyTorch: d = g + wd * w; v = momentum * v + d; w -= lr * v.

    >>> opt = gdl.optim.SGD(model.parameters(), lr=0.1)
    >>> loss.backward(); opt.step()
    """

    def __init__(self, parameters, lr=None, momentum=0.0, weight_decay=0.0, alpha=None):
        super().__init__(parameters)
        if lr is None:
            lr = 0.1 if alpha is None else alpha
        elif alpha is not None and alpha != lr:
            raise ValueError(f"lr and alpha name the same rate, got lr={lr} and alpha={alpha}")
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError("lr, momentum and weight_decay must be non-negative")
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.velocity = {}

    @property
    def alpha(self):
        return self.lr

    @alpha.setter
    def alpha(self, value):
        self.lr = float(value)

    def _update(self, i, w, g):
        v = None
        if self.momentum:
            v = self.velocity.get(i)
            if v is None:
                v = self.velocity[i] = np.zeros_like(w)
        _k.sgd_step_(w, g, self.lr, self.momentum, self.weight_decay, v)

    def _hyper(self):
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay}

    def _buffers(self):
        return {"velocity": self.velocity}


class Adam(Optimizer):
    """Adam (Kingma & Ba), as PyTorch's: bias-corrected first and second moments.

    >>> opt = gdl.optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(parameters)
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError("lr, eps and weight_decay must be non-negative")
        if not all(0 <= b < 1 for b in betas):
            raise ValueError(f"betas must be in [0, 1), got {betas}")
        self.lr = float(lr)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.m = {}
        self.v = {}

    def _update(self, i, w, g):
        if i not in self.m:
            self.m[i] = np.zeros_like(w)
            self.v[i] = np.zeros_like(w)
        _k.adam_step_(w, g, self.m[i], self.v[i], self.steps, self.lr, self.beta1, self.beta2,
                      self.eps, self.weight_decay)

    def _hyper(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps,
                "weight_decay": self.weight_decay}

    def _buffers(self):
        return {"m": self.m, "v": self.v}
