"""Kernel tests for gdl._kernels.dropout against tests/reference.py."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import reference
from gdl._kernels import dropout as k

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
SHAPES = [(), (1,), (7,), (3, 5), (2, 1, 7), (0,), (0, 4), (3, 0)]


def random(shape, dtype, seed=0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_forward_matches_reference(shape, dtype, p):
    x = random(shape, dtype)
    y, mask = k.dropout_fwd(x, p, 1234)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert mask.shape == x.shape and mask.dtype == np.uint8
    assert np.all((mask == 0) | (mask == 1))
    assert_allclose(y, reference.dropout(x, mask, p), rtol=RTOL[dtype])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mask_is_the_documented_hash(p, dtype):
    # Note [dropout randomness], whichever compiled loop the CPU picks (AVX-512 with DQ, the
    # clones, the baseline); 400,003 entries: split among threads, with a ragged tail
    n, seed = 400_003, 2 ** 63 + 12345
    _, mask = k.dropout_fwd(np.ones(n, dtype), p, seed)
    np.testing.assert_array_equal(mask, reference.dropout_mask(n, p, seed))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_reference(shape, dtype):
    p = 0.3
    _, mask = k.dropout_fwd(random(shape, dtype), p, 99)
    gy = random(shape, dtype, seed=1)
    gx = k.dropout_bwd(gy, mask, p)
    assert gx.shape == gy.shape and gx.dtype == gy.dtype
    assert_allclose(gx, reference.dropout(gy, mask, p), rtol=RTOL[dtype])


def test_p_zero_keeps_everything():
    x = random((50, 40), np.float32)
    y, mask = k.dropout_fwd(x, 0.0, 5)
    assert_array_equal(mask, 1)
    assert_array_equal(y, x)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_kept_fraction_is_close_to_one_minus_p(p):
    n = 200_000
    _, mask = k.dropout_fwd(np.ones(n, dtype=np.float32), p, 42)
    # 1 - p within ~6 standard deviations of a binomial proportion
    assert abs(mask.mean() - (1 - p)) < 6 * np.sqrt(p * (1 - p) / n)


def test_kept_values_are_scaled_so_the_mean_is_unchanged():
    x = np.ones(100_000)
    y, _ = k.dropout_fwd(x, 0.25, 7)
    assert set(np.unique(y)) == {0.0, 1 / 0.75}
    assert abs(y.mean() - 1.0) < 0.02


def test_same_seed_same_mask_different_seed_different_mask():
    x = random((64, 33), np.float64)
    _, a = k.dropout_fwd(x, 0.5, 2024)
    _, b = k.dropout_fwd(x, 0.5, 2024)
    _, c = k.dropout_fwd(x, 0.5, 2025)
    assert_array_equal(a, b)
    assert np.any(a != c)
    # neighbouring seeds give unrelated masks: they agree on about half the entries at p = 0.5
    assert 0.45 < np.mean(a == c) < 0.55


def test_mask_depends_only_on_seed_and_position():
    x = random((1000,), np.float64)
    _, whole = k.dropout_fwd(x, 0.4, 11)
    _, prefix = k.dropout_fwd(x[:100].astype(np.float32), 0.4, 11)
    _, other_values = k.dropout_fwd(np.zeros((10, 100)), 0.4, 11)
    assert_array_equal(prefix, whole[:100])
    assert_array_equal(other_values.reshape(-1), whole)


@pytest.mark.parametrize("seed", [0, 1, 2**32, 2**63, 2**64 - 1, np.uint64(5), np.int8(3)])
def test_any_uint64_seed_is_accepted(seed):
    _, mask = k.dropout_fwd(np.ones(1000), 0.5, seed)
    assert 0.4 < mask.mean() < 0.6


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strided_views_are_accepted(dtype):
    base = random((6, 10), dtype)
    x = base[:, ::2]
    y, mask = k.dropout_fwd(x, 0.5, 3)
    assert mask.shape == (6, 5)
    y_copy, mask_copy = k.dropout_fwd(np.ascontiguousarray(x), 0.5, 3)
    assert_array_equal(mask, mask_copy)
    assert_array_equal(y, y_copy)
    assert_allclose(y, reference.dropout(x, mask, 0.5), rtol=RTOL[dtype])
    gy = random((6, 10), dtype, seed=1)[:, 1::2]
    wide_mask = np.repeat(mask, 2, axis=1)[:, ::2]  # a strided uint8 view
    assert_allclose(k.dropout_bwd(gy, wide_mask, 0.5), reference.dropout(gy, mask, 0.5),
                    rtol=RTOL[dtype])


def test_forward_rejects_bad_input():
    x = np.ones(4)
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        k.dropout_fwd([1.0], 0.5, 0)
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        k.dropout_fwd(np.ones(4, dtype=np.int64), 0.5, 0)
    for p in [1.0, -0.1, 1.5, float("nan")]:
        with pytest.raises(ValueError, match=r"p must be a drop probability in \[0, 1\)"):
            k.dropout_fwd(x, p, 0)
    with pytest.raises(TypeError, match="p must be a real number, got str"):
        k.dropout_fwd(x, "0.5", 0)
    with pytest.raises(TypeError, match="seed must be an int, got float"):
        k.dropout_fwd(x, 0.5, 1.5)
    for seed in [-1, 2**64]:
        with pytest.raises(ValueError, match=r"seed must be in \[0, 2\*\*64\)"):
            k.dropout_fwd(x, 0.5, seed)


def test_backward_rejects_bad_input():
    gy = np.ones((2, 3), dtype=np.float32)
    mask = np.ones((2, 3), dtype=np.uint8)
    with pytest.raises(TypeError, match="gy must be float32 or float64"):
        k.dropout_bwd(np.ones(3, dtype=np.int32), mask, 0.5)
    with pytest.raises(TypeError, match="mask must have dtype uint8, got bool"):
        k.dropout_bwd(gy, mask.astype(bool), 0.5)
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 3\) \(gy's shape\)"):
        k.dropout_bwd(gy, mask.T, 0.5)
    with pytest.raises(TypeError, match="mask must be a numpy.ndarray"):
        k.dropout_bwd(gy, None, 0.5)
    with pytest.raises(ValueError, match="p must be a drop probability"):
        k.dropout_bwd(gy, mask, 1.0)
