"""Convolution and pooling over NCHW images, compiled (csrc/conv.c, csrc/pool.c)."""
from gdl._kernels import conv as _conv
from gdl._kernels import pool as _pool
from gdl.tensor import Function


class Conv2d(Function):
    """y = conv2d(x, W) + b: x (N, C, H, W), W (O, C, kh, kw), b (O,) or None, y (N, O, OH, OW)
    with OH = (H + 2 padding - kh) // stride + 1; stride and padding are an int or a pair.

    Backward: gW and gx are GEMMs over each image's im2col columns; gb sums gy over N, OH, OW.
    """

    def forward(self, x, W, b=None, stride=1, padding=0):
        self.x = x                             # gW needs the input's columns
        self.W = W                             # gx needs the weight
        self.stride = stride
        self.padding = padding
        return _conv.conv2d_fwd(x, W, b, stride, padding)

    def backward(self, gy):
        need_x, need_W, need_b = (self.needs_input_grad + (False,))[:3]
        return _conv.conv2d_bwd(self.x, self.W, gy, self.stride, self.padding,
                                need_x, need_W, need_b)


class MaxPool2d(Function):
    """y = the largest entry of each kh x kw window of x (N, C, H, W); stride defaults to the
    kernel size, padding (at most half the kernel) never wins.

    Backward: each gy goes to the position of its window's maximum, saved as argmax.
    """

    def forward(self, x, kernel_size, stride=None, padding=0):
        self.shape = x.shape
        self.window = (kernel_size, stride, padding)
        y, self.argmax = _pool.maxpool2d_fwd(x, kernel_size, stride, padding)
        return y

    def backward(self, gy):
        return _pool.maxpool2d_bwd(gy, self.argmax, self.shape, *self.window)


class AvgPool2d(Function):
    """y = the mean of each kh x kw window of x (N, C, H, W), padding counted as zeros;
    stride defaults to the kernel size.

    Backward: each gy / (kh kw) is spread over its window.
    """

    def forward(self, x, kernel_size, stride=None, padding=0):
        self.shape = x.shape
        self.window = (kernel_size, stride, padding)
        return _pool.avgpool2d_fwd(x, kernel_size, stride, padding)

    def backward(self, gy):
        return _pool.avgpool2d_bwd(gy, self.shape, *self.window)
