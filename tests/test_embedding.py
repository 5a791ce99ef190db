"""Kernel tests for gdl._kernels.embedding against tests/reference.py."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import reference
from gdl._kernels import embedding as k

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
IDX_SHAPES = [(), (1,), (9,), (3, 4), (2, 3, 5), (0,), (2, 0)]
TABLES = [(1, 1), (7, 5), (10, 3)]


def random(shape, dtype, seed=0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def indices(shape, V, seed=2, dtype=np.int64):
    """Random indices in [0, V), with repeats whenever there are more positions than rows."""
    return np.asarray(np.random.default_rng(seed).integers(0, V, size=shape), dtype=dtype)


# ---- embedding_fwd / embedding_bwd_ ----------------------------------------------------------

@pytest.mark.parametrize("V, D", TABLES)
@pytest.mark.parametrize("shape", IDX_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(V, D, shape, dtype):
    W = random((V, D), dtype)
    idx = indices(shape, V)
    out = k.embedding_fwd(W, idx)
    assert out.shape == idx.shape + (D,) and out.dtype == W.dtype
    assert_array_equal(out, reference.embedding(W, idx))   # a copy of rows: exact


@pytest.mark.parametrize("idx_dtype", [np.int8, np.uint8, np.int32, np.uint32, np.int64,
                                       np.uint64])
def test_forward_accepts_every_integer_dtype(idx_dtype):
    W = random((6, 4), np.float32)
    idx = indices((3, 2), 6, dtype=idx_dtype)
    assert_array_equal(k.embedding_fwd(W, idx), W[idx])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_accepts_strided_views(dtype):
    W = random((8, 10), dtype)[:, ::2]
    idx = indices((4, 6), 8)[:, ::3]
    assert_array_equal(k.embedding_fwd(W, idx), reference.embedding(W, idx))


def test_forward_of_an_empty_table_row():
    W = np.zeros((5, 0), dtype=np.float32)
    out = k.embedding_fwd(W, np.array([[1, 4]]))
    assert out.shape == (1, 2, 0)


@pytest.mark.parametrize("V, D", TABLES)
@pytest.mark.parametrize("shape", IDX_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_reference(V, D, shape, dtype):
    gW = random((V, D), dtype)
    idx = indices(shape, V)
    gy = random(idx.shape + (D,), dtype, seed=1)
    expected = reference.embedding_backward(gW, idx, gy)
    assert k.embedding_bwd_(gW, idx, gy) is None
    assert_allclose(gW, expected, rtol=RTOL[dtype])


def test_backward_accumulates_repeats_and_touches_only_used_rows():
    gW = random((6, 3), np.float64)
    before = gW.copy()
    idx = np.array([4, 1, 4, 4])
    gy = np.arange(12.0).reshape(4, 3)
    k.embedding_bwd_(gW, idx, gy)
    assert_allclose(gW[4], before[4] + gy[0] + gy[2] + gy[3], rtol=1e-15)
    assert_allclose(gW[1], before[1] + gy[1], rtol=1e-15)
    assert_array_equal(gW[[0, 2, 3, 5]], before[[0, 2, 3, 5]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_matches_a_one_hot_matrix_product(dtype):
    """The scatter is the transpose of the gather: gW += onehot(idx).T @ gy."""
    V, D = 9, 4
    idx = indices((5, 3), V)
    gy = random((5, 3, D), dtype, seed=1)
    gW = np.zeros((V, D), dtype=dtype)
    k.embedding_bwd_(gW, idx, gy)
    onehot = np.eye(V, dtype=dtype)[idx.reshape(-1)]
    assert_allclose(gW, onehot.T @ gy.reshape(-1, D), rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_accepts_strided_gy_and_idx(dtype):
    gW = np.zeros((7, 3), dtype=dtype)
    idx = indices((4, 10), 7)[:, ::2]
    gy = random((4, 5, 6), dtype, seed=1)[:, :, ::2]
    expected = reference.embedding_backward(gW, idx, gy)
    k.embedding_bwd_(gW, idx, gy)
    assert_allclose(gW, expected, rtol=RTOL[dtype])


def test_forward_rejects_bad_input():
    W = np.zeros((4, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="W must be float32 or float64, got int64"):
        k.embedding_fwd(np.zeros((4, 3), dtype=np.int64), np.array([0]))
    with pytest.raises(ValueError, match=r"W must be 2-D, got shape \(4,\)"):
        k.embedding_fwd(np.zeros(4), np.array([0]))
    with pytest.raises(TypeError, match="idx must hold integer indices, got dtype float64"):
        k.embedding_fwd(W, np.array([0.0]))
    with pytest.raises(TypeError, match="idx must be a numpy.ndarray, got list"):
        k.embedding_fwd(W, [0, 1])
    with pytest.raises(ValueError, match=r"idx\[1, 0\] = 4 is out of range.*\[0, 4\)"):
        k.embedding_fwd(W, np.array([[0, 1], [4, 2]]))
    with pytest.raises(ValueError, match=r"idx\[2\] = -1 is out of range"):
        k.embedding_fwd(W, np.array([0, 1, -1]))
    with pytest.raises(ValueError, match=r"idx = 18446744073709551615 is out of range"):
        k.embedding_fwd(W, np.array(2**64 - 1, dtype=np.uint64))


def test_backward_rejects_bad_input():
    gW = np.zeros((4, 3))
    idx = np.array([0, 3])
    gy = np.ones((2, 3))
    with pytest.raises(ValueError, match="gW must be C-contiguous: it is updated in place"):
        k.embedding_bwd_(np.zeros((4, 6))[:, ::2], idx, gy)
    with pytest.raises(ValueError, match="gW must be C-contiguous"):
        k.embedding_bwd_(np.asfortranarray(gW), idx, gy)
    frozen = gW.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="gW must be writable"):
        k.embedding_bwd_(frozen, idx, gy)
    with pytest.raises(TypeError, match="gW must be float32 or float64"):
        k.embedding_bwd_(np.zeros((4, 3), dtype=np.int32), idx, gy)
    with pytest.raises(ValueError, match=r"gy must have shape \(2, 3\) \(idx.shape \+ \(D,\)\)"):
        k.embedding_bwd_(gW, idx, np.ones((3, 3)))
    with pytest.raises(TypeError, match="gy must have dtype float64, got float32"):
        k.embedding_bwd_(gW, idx, gy.astype(np.float32))
    with pytest.raises(ValueError, match=r"idx\[1\] = 7 is out of range"):
        k.embedding_bwd_(gW, np.array([0, 7]), gy)
    assert_array_equal(gW, 0)                   # a refused call changes nothing


# ---- embedding_bag_fwd / embedding_bag_bwd_ --------------------------------------------------

@pytest.mark.parametrize("V, D", TABLES)
@pytest.mark.parametrize("B, L", [(1, 1), (4, 7), (3, 0), (0, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bag_forward_matches_reference(V, D, B, L, dtype):
    W = random((V, D), dtype)
    idx = indices((B, L), V)
    out = k.embedding_bag_fwd(W, idx)
    assert out.shape == (B, D) and out.dtype == W.dtype
    assert_allclose(out, reference.embedding_bag(W, idx), rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("V, D", TABLES)
@pytest.mark.parametrize("B, L", [(1, 1), (4, 7), (3, 0), (0, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bag_backward_matches_reference(V, D, B, L, dtype):
    gW = random((V, D), dtype)
    idx = indices((B, L), V)
    gy = random((B, D), dtype, seed=1)
    expected = reference.embedding_bag_backward(gW, idx, gy)
    assert k.embedding_bag_bwd_(gW, idx, gy) is None
    assert_allclose(gW, expected, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bag_is_the_sum_of_a_gather_and_its_backward_a_broadcast_scatter(dtype):
    V, D, B, L = 11, 6, 5, 4
    W = random((V, D), dtype)
    idx = indices((B, L), V)
    gy = random((B, D), dtype, seed=1)
    assert_allclose(k.embedding_bag_fwd(W, idx), k.embedding_fwd(W, idx).sum(axis=1),
                    rtol=RTOL[dtype], atol=RTOL[dtype])
    fused = np.zeros((V, D), dtype=dtype)
    simple = np.zeros((V, D), dtype=dtype)
    k.embedding_bag_bwd_(fused, idx, gy)
    k.embedding_bwd_(simple, idx, np.repeat(gy[:, None, :], L, axis=1))
    assert_allclose(fused, simple, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bag_accepts_strided_views(dtype):
    W = random((9, 8), dtype)[:, 1::2]
    idx = indices((3, 10), 9)[:, ::2]
    gy = random((3, 8), dtype, seed=1)[:, ::2]
    assert_allclose(k.embedding_bag_fwd(W, idx), reference.embedding_bag(W, idx),
                    rtol=RTOL[dtype], atol=RTOL[dtype])
    gW = np.zeros((9, 4), dtype=dtype)
    k.embedding_bag_bwd_(gW, idx, gy)
    assert_allclose(gW, reference.embedding_bag_backward(np.zeros((9, 4), dtype), idx, gy),
                    rtol=RTOL[dtype])


def test_bag_rejects_bad_input():
    W = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"idx must be 2-D, got shape \(3,\)"):
        k.embedding_bag_fwd(W, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"idx\[0, 2\] = 5 is out of range"):
        k.embedding_bag_fwd(W, np.array([[0, 1, 5]]))
    with pytest.raises(TypeError, match="W must be float32 or float64"):
        k.embedding_bag_fwd(W.astype(np.int16), np.array([[0]]))
    with pytest.raises(ValueError, match=r"gy must have shape \(2, 3\)"):
        k.embedding_bag_bwd_(W, np.array([[0, 1], [2, 3]]), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="gW must be C-contiguous"):
        k.embedding_bag_bwd_(W.T.copy().T, np.array([[0]]), np.zeros((1, 3)))


@pytest.mark.parametrize("idx", [np.array([[3, 0], [1, 1]], dtype=">i8"),
                                 np.array([[3, 0], [1, 1]], dtype=np.uint16),
                                 np.array([[3, 1], [0, 1]]).T])     # swapped, narrow, strided
def test_bag_reads_any_integer_indices(idx):
    W = np.random.default_rng(0).standard_normal((4, 3))
    assert_allclose(k.embedding_bag_fwd(W, idx), W[idx.astype(np.int64)].sum(axis=1),
                    rtol=1e-15)
