"""Elementwise nonlinearities: exp, log (numpy), sigmoid, tanh, relu (compiled)."""
import numpy as np

from gdl._kernels import activation as _k
from gdl.tensor import Function


class Exp(Function):
    """y = exp(x)."""

    def forward(self, x):
        self.y = np.exp(x)                     # backward needs only the output
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    """y = log(x), for x > 0."""

    def forward(self, x):
        self.x = x                             # 1/x is the derivative; the output cannot give it
        return np.log(x)

    def backward(self, gy):
        return gy / self.x


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        self.y = _k.sigmoid_fwd(x)             # backward needs only the output
        return self.y

    def backward(self, gy):
        return _k.sigmoid_bwd(self.y, gy)


class Tanh(Function):
    """y = tanh(x), elementwise; dy/dx = 1 - y^2."""

    def forward(self, x):
        self.y = _k.tanh_fwd(x)
        return self.y

    def backward(self, gy):
        return _k.tanh_bwd(self.y, gy)


class ReLU(Function):
    """y = max(x, 0), elementwise; the gradient passes where y > 0."""

    def forward(self, x):
        self.y = _k.relu_fwd(x)
        return self.y

    def backward(self, gy):
        return _k.relu_bwd(self.y, gy)
