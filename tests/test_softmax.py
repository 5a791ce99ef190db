"""The softmax family: kernels against the NumPy reference, ops, gradients, bad input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl._kernels import softmax as k
from gdl.testing import gradcheck

import reference

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
# 31, 32, 47 and 1000 columns take the 16-lane sum of csrc/softmax.inc (from 32), with tails
SHAPES = [(1, 1), (1, 7), (5, 1), (3, 10), (2, 3, 5), (0, 4), (3, 31), (2, 32), (4, 47),
          (2, 1000)]


def _logits(shape, dtype, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_matches_reference(shape, dtype):
    x = _logits(shape, dtype)
    assert_allclose(k.softmax_fwd(x), reference.softmax(x), rtol=RTOL[dtype], atol=1e-7)
    assert_allclose(k.log_softmax_fwd(x), reference.log_softmax(x), rtol=RTOL[dtype], atol=1e-6)
    assert k.softmax_fwd(x).dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_survives_huge_logits(dtype):
    x = np.array([[1000, -1000, 0], [-1000, -1000, -1000], [1000, 1000, 999]], dtype=dtype)
    y = k.softmax_fwd(x)
    assert np.isfinite(y).all()
    assert_allclose(y, reference.softmax(x), rtol=RTOL[dtype], atol=1e-7)
    assert np.isfinite(k.log_softmax_fwd(x)).all()
    loss, p = k.softmax_xent_fwd(x, np.array([1, 0, 2]))
    assert np.isfinite(loss) and loss > 600          # row 0 puts label 1 at -2000 below the max
    assert p[0, 1] == 0 and p[0, 2] == 0             # exp far below float's range is 0, exact
    assert_allclose(p, reference.softmax(x), rtol=RTOL[dtype], atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_non_contiguous_view(dtype):
    base = _logits((6, 10), dtype)
    view = base[::2, ::3]                              # strided in both axes
    assert not view.flags.c_contiguous
    assert_allclose(k.softmax_fwd(view), reference.softmax(view.copy()), rtol=RTOL[dtype])
    labels = np.array([0, 3, 1])
    loss, _ = k.softmax_xent_fwd(view, labels)
    assert_allclose(loss, reference.softmax_cross_entropy(view, labels), rtol=RTOL[dtype])


@pytest.mark.parametrize("rows, cols", [(1, 1), (1, 5), (4, 1), (7, 3), (64, 10), (3, 65),
                                        (2, 1000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_xent_matches_reference(rows, cols, dtype):
    x = _logits((rows, cols), dtype, seed=rows * cols)
    labels = np.random.default_rng(1).integers(0, cols, rows)
    loss, p = k.softmax_xent_fwd(x, labels)
    assert_allclose(loss, reference.softmax_cross_entropy(x, labels), rtol=RTOL[dtype], atol=1e-7)
    assert_allclose(p, reference.softmax(x), rtol=RTOL[dtype], atol=1e-7)
    gx = k.softmax_xent_bwd(p, labels, 2.5)
    assert_allclose(gx, 2.5 * reference.softmax_cross_entropy_grad(x, labels),
                    rtol=RTOL[dtype], atol=1e-7)


def test_one_class_has_zero_loss_and_gradient():
    x = np.array([[3.0], [-2.0]])
    loss, p = k.softmax_xent_fwd(x, np.array([0, 0]))
    assert loss == 0.0 and (p == 1).all()
    assert (k.softmax_xent_bwd(p, np.array([0, 0])) == 0).all()


def test_softmax_backward_matches_reference():
    x = _logits((4, 6), np.float64)
    gy = np.random.default_rng(2).standard_normal((4, 6))
    y = k.softmax_fwd(x)
    assert_allclose(k.softmax_bwd(y, gy), reference.softmax_grad(x, gy), rtol=1e-10)
    ly = k.log_softmax_fwd(x)
    assert_allclose(k.log_softmax_bwd(ly, gy), reference.log_softmax_grad(x, gy), rtol=1e-10)


@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (2, 3, 5)])
def test_softmax_ops_gradcheck(shape):
    x = _logits(shape, np.float64, scale=1.0)
    assert gradcheck(lambda t: t.softmax(), [x])
    assert gradcheck(lambda t: t.log_softmax(), [x])
    assert gradcheck(lambda t: t.softmax(axis=0), [x])


@pytest.mark.parametrize("rows, cols", [(1, 1), (1, 4), (5, 3), (2, 9)])
def test_cross_entropy_gradcheck(rows, cols):
    x = _logits((rows, cols), np.float64, scale=1.0)
    labels = np.random.default_rng(3).integers(0, cols, rows)
    assert gradcheck(lambda t: t.cross_entropy(labels), [x])
    assert gradcheck(lambda t: t.cross_entropy(labels) * 3.0, [x])


def test_fused_cross_entropy_equals_simple_ops():
    x = _logits((6, 5), np.float64)
    labels = np.array([0, 4, 2, 2, 1, 3])
    a = gdl.Tensor(x, requires_grad=True)
    fused = a.cross_entropy(labels)
    fused.backward()
    b = gdl.Tensor(x, requires_grad=True)
    onehot = np.eye(5)[labels]
    simple = -(b.log_softmax() * onehot).sum(axis=1).mean()
    simple.backward()
    assert_allclose(fused.item(), simple.item(), rtol=1e-12)
    assert_allclose(a.grad.data, b.grad.data, rtol=1e-10, atol=1e-14)


def test_sequence_cross_entropy_over_time_steps():
    x = _logits((2, 3, 4), np.float64)                 # (batch, time, classes)
    labels = np.array([[0, 1, 3], [2, 2, 0]])
    loss = gdl.Tensor(x).cross_entropy(labels)
    expected = reference.softmax_cross_entropy(x.reshape(6, 4), labels.reshape(6))
    assert_allclose(loss.item(), expected, rtol=1e-12)
    assert gradcheck(lambda t: t.cross_entropy(labels), [x])


@pytest.mark.parametrize("bad, error, message", [
    (np.zeros((2, 3), dtype=np.int32), TypeError, "x must be float32 or float64"),
    (np.zeros((2, 3), dtype=np.float16), TypeError, "x must be float32 or float64"),
    ([[1.0, 2.0]], TypeError, "x must be a numpy.ndarray"),
    (np.zeros(()), ValueError, "x must have at least 1 dimension"),
    (np.zeros((2, 0)), ValueError, "x must have at least one class"),
])
def test_softmax_rejects_bad_x(bad, error, message):
    with pytest.raises(error, match=message):
        k.softmax_fwd(bad)


@pytest.mark.parametrize("x, labels, error, message", [
    (np.zeros((2, 3)), np.array([0, 3]), ValueError, r"labels\[1\] = 3 is out of range"),
    (np.zeros((2, 3)), np.array([-1, 0]), ValueError, r"labels\[0\] = -1 is out of range"),
    (np.zeros((2, 3)), np.array([0, 1, 2]), ValueError, r"labels must have shape \(2,\)"),
    (np.zeros((2, 3)), np.array([[0, 1]]), ValueError, r"labels must have shape \(2,\)"),
    (np.zeros((2, 3)), np.array([0.0, 1.0]), TypeError, "labels must hold integer"),
    (np.zeros((0, 3)), np.zeros(0, dtype=np.int64), ValueError, "x must hold at least one row"),
    (np.zeros((2, 3, 4)), np.array([0, 1]), ValueError, "x must be 2-D"),
    (np.zeros((2, 3), dtype=np.int64), np.array([0, 1]), TypeError, "x must be float32"),
])
def test_softmax_xent_rejects_bad_input(x, labels, error, message):
    with pytest.raises(error, match=message):
        k.softmax_xent_fwd(x, labels)


def test_softmax_bwd_rejects_mismatched_gradient():
    y = k.softmax_fwd(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="gy must have y's shape"):
        k.softmax_bwd(y, np.zeros((3, 2)))
    with pytest.raises(TypeError, match="gy must have y's dtype"):
        k.softmax_bwd(y, np.zeros((2, 3), dtype=np.float32))


def test_cross_entropy_op_names_labels_shape():
    with pytest.raises(ValueError, match="labels must have shape"):
        gdl.Tensor(np.zeros((4, 3))).cross_entropy(np.array([0, 1]))


# ---- binary cross-entropy (the same family's kernels) ------------------------------------
@pytest.mark.parametrize("shape", [(1,), (1, 1), (7,), (3, 5), (2, 3, 17), (64, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_matches_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    p = rng.random(shape).astype(dtype)
    t = rng.random(shape).astype(dtype)               # soft targets too, not only 0 and 1
    assert_allclose(k.bce_fwd(p, t), reference.binary_cross_entropy(p, t), rtol=RTOL[dtype])
    gp = k.bce_bwd(p, t, 0.5)
    assert gp.dtype == dtype and gp.shape == shape
    assert_allclose(gp, 0.5 * reference.binary_cross_entropy_grad(p, t), rtol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_clamps_certain_mistakes(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0], dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype)
    assert k.bce_fwd(p, t) == 200.0                   # two logs of 0 clamped at -100
    assert np.isfinite(k.bce_bwd(p, t, 1.0)).all()


def test_bce_non_contiguous_and_bad_input():
    base = np.random.default_rng(3).random((6, 8))
    p, t = base[::2, ::3], base[1::2, ::3]
    assert not p.flags.c_contiguous
    assert_allclose(k.bce_fwd(p, t), reference.binary_cross_entropy(p, t), rtol=1e-12)
    bad = np.full((2, 3), 0.5)
    bad[1, 2] = 1.5
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*1.5 at index \(1, 2\)"):
        k.bce_fwd(bad, np.ones((2, 3)))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="nan at index"):
        k.bce_fwd(bad, np.ones((2, 3)))
    with pytest.raises(TypeError, match="t must have p's dtype"):
        k.bce_fwd(np.ones(3), np.ones(3, np.float32))
    with pytest.raises(ValueError, match="t must have p's shape"):
        k.bce_bwd(np.ones(3), np.ones(4), 1.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        k.bce_fwd(np.ones(3, np.int64), np.ones(3, np.int64))
