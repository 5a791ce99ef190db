"""The pool family: max and average pooling against NumPy, gradients, errors."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl._kernels import pool as k
from gdl.nn.conv import AvgPool2d, MaxPool2d
from gdl.ops import conv as ops
from gdl.testing import gradcheck

import reference

RTOL = {np.float32: 1e-5, np.float64: 1e-7}

# (N, C, H, W, kernel, stride, padding): odd sizes, batch 1, one and many channels
CASES = [
    (1, 1, 4, 4, 2, 2, 0),
    (2, 3, 5, 7, 2, 2, 0),
    (1, 2, 7, 5, 3, 2, 1),
    (2, 1, 5, 5, 3, 1, 1),
    (3, 4, 6, 5, 3, 1, 0),
]


def _x(N, C, H, W, dtype=np.float64, seed=0):
    # distinct values, so that the maximum of every window is unique (no kink)
    x = np.random.default_rng(seed).permutation(N * C * H * W).reshape(N, C, H, W)
    return (x / (N * C * H * W) - 0.5).astype(dtype)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_match_reference(case, dtype):
    N, C, H, W, kernel, stride, padding = case
    x = _x(N, C, H, W, dtype)
    y, argmax = k.maxpool2d_fwd(x, kernel, stride, padding)
    assert y.dtype == dtype and argmax.dtype == np.int32
    assert_allclose(y, reference.maxpool2d(x, kernel, stride, padding), rtol=RTOL[dtype])
    assert_allclose(np.take_along_axis(x.reshape(N, C, -1), argmax.reshape(N, C, -1), 2),
                    y.reshape(N, C, -1))
    assert_allclose(k.avgpool2d_fwd(x, kernel, stride, padding),
                    reference.avgpool2d(x, kernel, stride, padding), rtol=RTOL[dtype], atol=1e-7)


@pytest.mark.parametrize("case", CASES)
def test_pools_gradcheck(case):
    N, C, H, W, kernel, stride, padding = case
    x = _x(N, C, H, W)
    gradcheck(lambda t: ops.MaxPool2d.apply(t, kernel_size=kernel, stride=stride,
                                            padding=padding), [x], eps=1e-7)
    gradcheck(lambda t: ops.AvgPool2d.apply(t, kernel_size=kernel, stride=stride,
                                            padding=padding), [x])


def test_maxpool_routes_overlapping_windows_and_keeps_nan():
    x = np.array([[[[1.0, 5.0, 2.0], [0.0, 3.0, 4.0], [6.0, 1.0, 0.0]]]])
    y, argmax = k.maxpool2d_fwd(x, 2, 1)
    assert_allclose(y, [[[[5, 5], [6, 4]]]])
    gx = k.maxpool2d_bwd(np.ones_like(y), argmax, x.shape, 2, 1)
    assert_allclose(gx, [[[[0, 2, 0], [0, 0, 1], [1, 0, 0]]]])   # 5 wins two windows
    x[0, 0, 1, 1] = np.nan
    y, _ = k.maxpool2d_fwd(x, 2, 1)
    assert np.isnan(y).all()


@pytest.mark.parametrize("H, W", [(2, 16), (3, 17), (26, 26), (5, 33), (4, 34), (7, 50)])
def test_maxpool_2x2_vector_path_matches_the_scalar_one(H, W):
    # Note [vector 2x2 pool]: float32 takes 16 windows at a time (rows of 8 or more windows
    # backward), float64 the scalar loops: both must agree with each other and the reference,
    # on ties (the first maximum wins), NaN (it wins) and the tails of a row
    rng = np.random.default_rng(H * W)
    x = rng.integers(0, 3, (2, 3, H, W)).astype(np.float32)          # many ties
    x[0, 0, 0, 1] = x[1, 2, H - 1, W - 1] = np.nan
    y, argmax = k.maxpool2d_fwd(x, 2)
    y64, argmax64 = k.maxpool2d_fwd(x.astype(np.float64), 2)
    np.testing.assert_array_equal(argmax, argmax64)
    np.testing.assert_array_equal(y, y64.astype(np.float32))
    assert np.isnan(y[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 1
    finite = x.copy()
    finite[np.isnan(finite)] = 5
    assert_allclose(k.maxpool2d_fwd(finite, 2)[0], reference.maxpool2d(finite, 2))
    gy = rng.standard_normal(y.shape).astype(np.float32)
    gx = k.maxpool2d_bwd(gy, argmax, x.shape, 2)
    expected = np.zeros(x.shape, np.float32).reshape(2, 3, -1)
    np.put_along_axis(expected, argmax.reshape(2, 3, -1), gy.reshape(2, 3, -1), 2)
    np.testing.assert_array_equal(gx, expected.reshape(x.shape))   # the uncovered edge is 0


def test_maxpool_2x2_backward_takes_any_argmax_in_the_plane():
    # an argmax outside its own window (a caller's own indices) is added where it points, as
    # on the scalar path, not dropped by the vector path
    gy = np.ones((1, 1, 2, 8), np.float32)
    argmax = np.zeros((1, 1, 2, 8), np.int32)
    argmax[0, 0, 1, 3] = 5
    gx = k.maxpool2d_bwd(gy, argmax, (1, 1, 4, 16), 2)
    expected = np.zeros(64, np.float32)
    expected[0], expected[5] = 15, 1
    np.testing.assert_array_equal(gx.reshape(-1), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pools_non_contiguous_input(dtype):
    x = _x(2, 3, 10, 12, dtype)
    view = x[:, :, 1::2, ::2]
    assert not view.flags.c_contiguous
    y, _ = k.maxpool2d_fwd(view, 2)
    assert_allclose(y, reference.maxpool2d(view.copy(), 2))
    assert_allclose(k.avgpool2d_fwd(view, 3, 1, 1), reference.avgpool2d(view.copy(), 3, 1, 1),
                    rtol=RTOL[dtype], atol=1e-7)


def test_pool_errors_name_the_argument_and_shape():
    x = _x(2, 3, 5, 5)
    with pytest.raises(ValueError, match=r"x must be 4-D \(N, C, H, W\), got shape \(3, 5, 5\)"):
        k.maxpool2d_fwd(x[0], 2)
    with pytest.raises(ValueError, match=r"kernel 7x7 is larger than the padded input 5x5"):
        k.avgpool2d_fwd(x, 7)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) must be at most half the kernel"):
        k.maxpool2d_fwd(x, 3, padding=2)
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        k.maxpool2d_fwd(x.astype(np.int64), 2)
    y, argmax = k.maxpool2d_fwd(x, 2)
    with pytest.raises(ValueError, match=r"gy must have shape \(2, 3, 2, 2\)"):
        k.maxpool2d_bwd(y[:1], argmax, x.shape, 2)
    with pytest.raises(ValueError, match=r"argmax entries must be in \[0, 25\)"):
        k.maxpool2d_bwd(y, argmax + 100, x.shape, 2)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair of ints"):
        k.avgpool2d_fwd(x, "2")


def test_pool_layers_default_stride_is_the_kernel():
    x = gdl.Tensor(_x(2, 3, 7, 7).astype(np.float32), requires_grad=True)
    assert MaxPool2d(2)(x).shape == (2, 3, 3, 3)
    assert AvgPool2d(3, stride=2, padding=1)(x).shape == (2, 3, 4, 4)
    out = MaxPool2d(2)(x).sum() + AvgPool2d(2)(x).sum()
    out.backward()
    assert x.grad.shape == x.shape
