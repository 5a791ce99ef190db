"""Inverted dropout with a compiled, seeded mask (csrc/dropout.c)."""
from gdl import random as _random
from gdl._kernels import dropout as _k
from gdl.tensor import Function


class Dropout(Function):
    """y = x * mask / (1 - p), mask[i] = 1 with probability 1 - p, drawn from gdl's seed."""

    def forward(self, x, p):
        self.p = p
        y, self.mask = _k.dropout_fwd(x, p, _random.next_seed())
        return y

    def backward(self, gy):
        return _k.dropout_bwd(gy, self.mask, self.p)
