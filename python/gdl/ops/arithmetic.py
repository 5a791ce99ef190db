"""Elementwise arithmetic with numpy broadcasting: + - * / neg pow."""
import numpy as np

from gdl.tensor import Function


def unbroadcast(g, shape):
    """Sum g over the axes that broadcasting added or stretched, so it has ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


class Add(Function):
    """y = a + b."""

    def forward(self, a, b):
        self.shapes = (np.shape(a), np.shape(b))
        return np.add(a, b)

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        shape_a, shape_b = self.shapes
        return (unbroadcast(gy, shape_a) if need_a else None,
                unbroadcast(gy, shape_b) if need_b else None)


class Sub(Function):
    """y = a - b."""

    def forward(self, a, b):
        self.shapes = (np.shape(a), np.shape(b))
        return np.subtract(a, b)

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        shape_a, shape_b = self.shapes
        return (unbroadcast(gy, shape_a) if need_a else None,
                unbroadcast(-gy, shape_b) if need_b else None)


class Mul(Function):
    """y = a * b."""

    def forward(self, a, b):
        self.a = a
        self.b = b
        return np.multiply(a, b)

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        return (unbroadcast(gy * b, np.shape(a)) if need_a else None,
                unbroadcast(gy * a, np.shape(b)) if need_b else None)


class Div(Function):
    """y = a / b."""

    def forward(self, a, b):
        self.a = a
        self.b = b
        return np.divide(a, b)

    def backward(self, gy):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        ga = gy / b
        gb = unbroadcast(-ga * a / b, np.shape(b)) if need_b else None
        return (unbroadcast(ga, np.shape(a)) if need_a else None, gb)


class Neg(Function):
    """y = -x."""

    def forward(self, x):
        return np.negative(x)

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = x ** exponent, for a constant (Python number) exponent."""

    def forward(self, x, exponent):
        if not isinstance(exponent, (int, float, np.number)):
            raise TypeError(f"exponent must be a number, got {type(exponent).__name__}")
        self.x = x
        self.exponent = exponent
        if exponent == 2:
            return x * x
        return np.power(x, exponent)

    def backward(self, gy):
        x, p = self.x, self.exponent
        if p == 2:
            return gy * (2 * x)
        return gy * (p * np.power(x, p - 1))
