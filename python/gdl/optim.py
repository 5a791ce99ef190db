"""Optimizers: SGD (with momentum and weight decay) and Adam, each step one compiled update
per parameter (csrc/optim.c); learning-rate schedules that set an optimizer's ``lr`` per epoch."""
import math

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
            if p.grad is None:
                continue
            if getattr(p.grad, "is_sparse", False):
                self._update_rows(i, p.data, p.grad)
            else:
                self._update(i, p.data, p.grad.data)
            if zero:
                p.grad = None

    def _update(self, i, w, g):
        raise NotImplementedError

    def _update_rows(self, i, w, g):
        """Update from a RowSparse gradient: by default exactly as from the dense one."""
        self._update(i, w, g.to_dense())

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

    def _update_rows(self, i, w, g):
        if self.momentum or self.weight_decay:      # they change every row: go dense
            return super()._update_rows(i, w, g)
        values = np.ascontiguousarray(g.group_values, dtype=w.dtype)
        _k.sgd_rows_step_(w, g.rows, values, self.lr, g.group)  # only the rows the batch used

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


class LRScheduler:
    """Sets ``optimizer.lr`` from the number of epochs done: call ``step()`` once per epoch.

    The rate at epoch e is ``lr_at(e)``, a function of ``base_lr`` (the optimizer's rate when
    the schedule was made) and e alone, so a resumed run calls ``step(epoch)`` to jump there.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a gdl optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0

    def lr_at(self, epoch):
        raise NotImplementedError

    def step(self, epoch=None):
        """Move to the next epoch (or to ``epoch``) and set the optimizer's rate for it."""
        if epoch is None:
            epoch = self.last_epoch + 1
        if int(epoch) != epoch or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
        self.last_epoch = int(epoch)
        self.optimizer.lr = float(self.lr_at(self.last_epoch))

    def get_last_lr(self):
        """The rate in use now."""
        return self.optimizer.lr

    def state_dict(self):
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state):
        self.base_lr = float(state["base_lr"])
        self.step(int(state["last_epoch"]))


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): drop by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer)
        if int(step_size) != step_size or step_size < 1 or not 0 < gamma:
            raise ValueError(f"step_size must be an int >= 1 and gamma > 0, got {step_size}, "
                             f"{gamma}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch (the book's ``alpha *= 0.99`` each epoch)."""

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer)
        if not 0 < gamma:
            raise ValueError(f"gamma must be > 0, got {gamma}")
        self.gamma = float(gamma)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, then eta_min.

    Falls from base_lr to eta_min over T_max epochs along half a cosine.

    >>> schedule = gdl.optim.CosineAnnealingLR(opt, T_max=epochs)
    >>> for epoch in range(epochs): train_one_epoch(); schedule.step()
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer)
        if int(T_max) != T_max or T_max < 1 or eta_min < 0:
            raise ValueError(f"T_max must be an int >= 1 and eta_min >= 0, got {T_max}, "
                             f"{eta_min}")
        self.T_max, self.eta_min = int(T_max), float(eta_min)

    def lr_at(self, epoch):
        progress = min(epoch, self.T_max) / self.T_max
        cosine = (1 + math.cos(math.pi * progress)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine
