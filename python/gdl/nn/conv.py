"""Convolution and pooling layers with PyTorch's argument names and weight shapes."""
import numpy as np

from gdl import random as _random
from gdl.nn.layers import _tensor
from gdl.nn.module import Module, Parameter
from gdl.ops import conv as _ops


def _pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


class Conv2d(Module):
    """y = conv2d(x, weight) + bias over NCHW images, as PyTorch's ``nn.Conv2d``.

    weight is (out_channels, in_channels, kh, kw), bias (out_channels,); stride and padding
    (zeros) are an int or a pair. Weights start as gdl's Linear: normal * sqrt(2 / fan_in) with
    fan_in = in_channels * kh * kw (He), bias zeros, drawn from gdl's seed.

    >>> conv = gdl.nn.Conv2d(1, 16, 3, padding=1)
    >>> conv(np.zeros((8, 1, 28, 28), dtype=np.float32)).shape
    (8, 16, 28, 28)
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 dtype=np.float32):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = _pair(padding)
        shape = (out_channels, in_channels) + self.kernel_size
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        w = _random.rng().standard_normal(shape) * np.sqrt(2.0 / fan_in)
        self.weight = Parameter(w.astype(dtype))
        self.bias = Parameter(np.zeros(out_channels, dtype=dtype)) if bias else None

    def forward(self, x):
        if self.bias is None:
            return _ops.Conv2d.apply(_tensor(x), self.weight, stride=self.stride,
                                     padding=self.padding)
        return _ops.Conv2d.apply(_tensor(x), self.weight, self.bias, stride=self.stride,
                                 padding=self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class MaxPool2d(Module):
    """The largest entry of each window, as PyTorch's ``nn.MaxPool2d``; stride defaults to
    kernel_size. ``MaxPool2d(2)`` halves H and W (rounding down)."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x):
        return _ops.MaxPool2d.apply(_tensor(x), kernel_size=self.kernel_size,
                                    stride=self.stride, padding=self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(MaxPool2d):
    """The mean of each window, padding counted as zeros, as PyTorch's ``nn.AvgPool2d``."""

    def forward(self, x):
        return _ops.AvgPool2d.apply(_tensor(x), kernel_size=self.kernel_size,
                                    stride=self.stride, padding=self.padding)
