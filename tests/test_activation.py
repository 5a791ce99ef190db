"""Kernel tests for gdl._kernels.activation against tests/reference.py."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import reference
from gdl._kernels import activation as k

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
SHAPES = [(), (1,), (7,), (3, 5), (2, 1, 7), (0,), (0, 4), (3, 0)]

# name: (kernel forward, kernel backward, reference forward, reference derivative of the output)
ACTIVATIONS = {
    "sigmoid": (k.sigmoid_fwd, k.sigmoid_bwd, reference.sigmoid, reference.sigmoid2deriv),
    "tanh": (k.tanh_fwd, k.tanh_bwd, reference.tanh, reference.tanh2deriv),
    "relu": (k.relu_fwd, k.relu_bwd, reference.relu, reference.relu2deriv),
}


def random(shape, dtype, seed=0, scale=5.0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=dtype)


def assert_backward(gx, y, gy, deriv):
    """gx against gy * deriv(y) in float64: tanh's 1 - y^2 near |y| = 1 cancels, and the
    kernel's fused multiply-add (Note [fused multiply-add]) rounds it once where float32 numpy
    rounds twice, so the tolerance holds a few units of 1's last place, times |gy|."""
    dtype = gx.dtype.type
    expected = gy.astype(np.float64) * deriv(y.astype(np.float64))
    atol = 4 * np.finfo(dtype).eps * float(np.abs(gy).max(initial=0))
    assert_allclose(gx, expected, rtol=RTOL[dtype], atol=atol)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(name, shape, dtype):
    fwd, _, ref, _ = ACTIVATIONS[name]
    x = random(shape, dtype)
    y = fwd(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert_allclose(y, ref(x), rtol=RTOL[dtype])


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_reference(name, shape, dtype):
    fwd, bwd, _, deriv = ACTIVATIONS[name]
    y = fwd(random(shape, dtype))
    gy = random(shape, dtype, seed=1)
    gx = bwd(y, gy)
    assert gx.shape == y.shape and gx.dtype == y.dtype
    assert_backward(gx, y, gy, deriv)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_views_are_accepted(name, dtype):
    fwd, bwd, ref, deriv = ACTIVATIONS[name]
    x = random((4, 9), dtype)[:, ::2]
    gy = random((4, 10), dtype, seed=1)[:, 1::2]
    y = fwd(x)
    assert_allclose(y, ref(x), rtol=RTOL[dtype])
    assert_backward(bwd(y[:, :], gy), y, gy, deriv)
    assert_backward(bwd(np.asfortranarray(y), gy), y, gy, deriv)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_backward_is_the_derivative_of_forward(name):
    fwd, bwd, _, _ = ACTIVATIONS[name]
    x = random((5, 3), np.float64, scale=2.0)
    gy = random((5, 3), np.float64, seed=1)
    h = 1e-6
    numeric = (fwd(x + h) - fwd(x - h)) / (2 * h) * gy
    assert_allclose(bwd(fwd(x), gy), numeric, rtol=1e-6, atol=1e-9)


def test_relu_backward_is_the_derivative_of_forward_away_from_zero():
    x = random((5, 3), np.float64)
    x[np.abs(x) < 0.1] = 0.5                    # stay away from the kink
    gy = random((5, 3), np.float64, seed=1)
    h = 1e-6
    numeric = (k.relu_fwd(x + h) - k.relu_fwd(x - h)) / (2 * h) * gy
    assert_allclose(k.relu_bwd(k.relu_fwd(x), gy), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_never_overflows(dtype):
    x = np.array([-1e30, -1000, -100, 0, 100, 1000, 1e30], dtype=dtype)
    with np.errstate(all="raise"):
        y = k.sigmoid_fwd(x)
    assert_array_equal(y[[0, 1, 3, 5, 6]], np.array([0, 0, 0.5, 1, 1], dtype=dtype))
    assert 0 <= y[2] < 1e-40                   # exp(-100), tiny but never a NaN
    assert np.all(np.isfinite(y))


def test_tanh_saturates_and_relu_keeps_nan():
    assert_array_equal(k.tanh_fwd(np.array([-1e4, 0.0, 1e4])), [-1.0, 0.0, 1.0])
    y = k.relu_fwd(np.array([-2.0, np.nan, 3.0]))
    assert y[0] == 0 and np.isnan(y[1]) and y[2] == 3.0


def test_relu_backward_passes_only_where_the_output_is_positive():
    y = np.array([0.0, 2.0, 0.0, 0.5])
    gy = np.array([1.0, 2.0, 3.0, 4.0])
    assert_array_equal(k.relu_bwd(y, gy), [0.0, 2.0, 0.0, 4.0])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_rejects_bad_input(name):
    fwd = ACTIVATIONS[name][0]
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        fwd([1.0, 2.0])
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        fwd(np.arange(3, dtype=np.int64))
    # byte-swapped floats carry float32's type number: the checks read the byte order too
    with pytest.raises(TypeError, match="x must be float32 or float64, got >f4"):
        fwd(np.ones(3, dtype=">f4"))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_backward_rejects_bad_input(name):
    bwd = ACTIVATIONS[name][1]
    y = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="y must be float32 or float64"):
        bwd(np.zeros(3, dtype=np.int32), np.zeros(3, dtype=np.int32))
    with pytest.raises(TypeError, match="gy must have y's dtype float32, got float64"):
        bwd(y, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"gy must have y's shape \(2, 3\), got \(3, 2\)"):
        bwd(y, np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="gy must be a numpy.ndarray"):
        bwd(y, 1.0)
    with pytest.raises(TypeError, match="gy must have y's dtype float32, got >f4"):
        bwd(y, np.zeros((2, 3), dtype=">f4"))
