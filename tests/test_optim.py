"""Kernel tests for gdl._kernels.optim against tests/reference.py, over several steps."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import gdl
import reference
from gdl._kernels import embedding
from gdl._kernels import optim as k

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
SHAPES = [(), (1,), (7,), (3, 5), (2, 1, 7), (0,), (2, 0, 3)]
STEPS = 5


def random(shape, dtype, seed=0):
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


# ---- sgd_step_ -------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.0, 0.01), (0.9, 0.0),
                                                    (0.5, 0.1)])
def test_sgd_matches_reference(shape, dtype, momentum, weight_decay):
    w = random(shape, dtype)
    v = np.zeros(shape, dtype=dtype)
    w_ref, v_ref = w.copy(), v.copy()
    for step in range(STEPS):
        g = random(shape, dtype, seed=step + 1)
        assert k.sgd_step_(w, g, 0.1, momentum=momentum, weight_decay=weight_decay, v=v) is None
        w_ref, v_ref = reference.sgd_step(w_ref, g, v_ref, 0.1, momentum, weight_decay)
        assert_allclose(w, w_ref, rtol=RTOL[dtype])
        assert_allclose(v, v_ref, rtol=RTOL[dtype])
    assert w.dtype == dtype and v.dtype == dtype


def test_plain_sgd_is_w_minus_lr_g_and_ignores_v():
    w = np.array([1.0, 2.0, 3.0])
    v = np.full(3, 7.0)
    k.sgd_step_(w, np.array([10.0, 0.0, -10.0]), 0.1, v=v)
    assert_allclose(w, [0.0, 2.0, 4.0], rtol=1e-15)
    assert_array_equal(v, 7.0)
    k.sgd_step_(w, np.ones(3), 0.5)             # v may be left out without momentum
    assert_allclose(w, [-0.5, 1.5, 3.5], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_accepts_a_strided_gradient(dtype):
    w = random((4, 5), dtype)
    v = np.zeros((4, 5), dtype=dtype)
    g = random((4, 10), dtype, seed=1)[:, ::2]
    w_ref, v_ref = reference.sgd_step(w.copy(), g, v.copy(), 0.05, 0.9, 0.01)
    k.sgd_step_(w, g, 0.05, momentum=0.9, weight_decay=0.01, v=v)
    assert_allclose(w, w_ref, rtol=RTOL[dtype])
    assert_allclose(v, v_ref, rtol=RTOL[dtype])


def test_sgd_rejects_bad_input():
    w = np.zeros((2, 3))
    g = np.ones((2, 3))
    with pytest.raises(ValueError, match="v must be the momentum buffer"):
        k.sgd_step_(w, g, 0.1, momentum=0.9)
    with pytest.raises(ValueError, match="w must be C-contiguous: it is updated in place"):
        k.sgd_step_(np.zeros((2, 6))[:, ::2], g, 0.1)
    frozen = w.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="w must be writable"):
        k.sgd_step_(frozen, g, 0.1)
    with pytest.raises(ValueError, match="v must be writable"):
        k.sgd_step_(w, g, 0.1, momentum=0.9, v=frozen)
    with pytest.raises(ValueError, match="v must be C-contiguous"):
        k.sgd_step_(w, g, 0.1, momentum=0.9, v=np.zeros((3, 2)).T)
    with pytest.raises(ValueError, match=r"v must have w's shape \(2, 3\), got \(3,\)"):
        k.sgd_step_(w, g, 0.1, momentum=0.9, v=np.zeros(3))
    with pytest.raises(TypeError, match="g must have w's dtype float64, got float32"):
        k.sgd_step_(w, g.astype(np.float32), 0.1)
    with pytest.raises(ValueError, match=r"g must have w's shape \(2, 3\), got \(3, 2\)"):
        k.sgd_step_(w, g.T, 0.1)
    with pytest.raises(TypeError, match="w must be float32 or float64, got int64"):
        k.sgd_step_(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64), 0.1)
    with pytest.raises(TypeError, match="lr must be a real number, got NoneType"):
        k.sgd_step_(w, g, None)
    with pytest.raises(TypeError, match="momentum must be a real number, got str"):
        k.sgd_step_(w, g, 0.1, momentum="0.9")
    assert_array_equal(w, 0)                    # a refused call changes nothing


# ---- adam_step_ ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hyper", [{}, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                                        "weight_decay": 0.1}])
def test_adam_matches_reference(shape, dtype, hyper):
    w = random(shape, dtype)
    m = np.zeros(shape, dtype=dtype)
    v = np.zeros(shape, dtype=dtype)
    w_ref, m_ref, v_ref = w.copy(), m.copy(), v.copy()
    for step in range(1, STEPS + 1):
        g = random(shape, dtype, seed=step)
        assert k.adam_step_(w, g, m, v, step, **hyper) is None
        w_ref, m_ref, v_ref = reference.adam_step(w_ref, g, m_ref, v_ref, step, **hyper)
        assert_allclose(w, w_ref, rtol=RTOL[dtype])
        assert_allclose(m, m_ref, rtol=RTOL[dtype])
        assert_allclose(v, v_ref, rtol=RTOL[dtype])


def test_adam_first_step_moves_every_weight_by_about_lr():
    """With the bias corrections, step 1 is lr * g / (|g| + eps): a step of lr against g."""
    w = np.zeros(6)
    g = np.array([-3.0, -0.5, 0.1, 2.0, 40.0, 1e-3])
    k.adam_step_(w, g, np.zeros(6), np.zeros(6), 1, lr=0.01)
    assert_allclose(w, -0.01 * np.sign(g), rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_accepts_a_strided_gradient_and_a_numpy_step(dtype):
    w = random((3, 4), dtype)
    m = random((3, 4), dtype, seed=1) * 0.1
    v = np.abs(random((3, 4), dtype, seed=2)) * 0.1
    g = random((3, 8), dtype, seed=3)[:, 1::2]
    w_ref, m_ref, v_ref = reference.adam_step(w.copy(), g, m.copy(), v.copy(), 7)
    k.adam_step_(w, g, m, v, np.int64(7))
    assert_allclose(w, w_ref, rtol=RTOL[dtype])
    assert_allclose(m, m_ref, rtol=RTOL[dtype])
    assert_allclose(v, v_ref, rtol=RTOL[dtype])


def test_adam_rejects_bad_input():
    w = np.zeros(4)
    g = np.ones(4)
    m = np.zeros(4)
    v = np.zeros(4)
    with pytest.raises(ValueError, match=r"step must be >= 1 \(the first step is 1\), got 0"):
        k.adam_step_(w, g, m, v, 0)
    with pytest.raises(TypeError, match="step must be an int, got float"):
        k.adam_step_(w, g, m, v, 1.0)
    with pytest.raises(ValueError, match=r"beta1 must be in \[0, 1\), got 1.0"):
        k.adam_step_(w, g, m, v, 1, beta1=1.0)
    with pytest.raises(ValueError, match=r"beta2 must be in \[0, 1\)"):
        k.adam_step_(w, g, m, v, 1, beta2=-0.5)
    with pytest.raises(ValueError, match="m must be C-contiguous"):
        k.adam_step_(w, g, np.zeros(8)[::2], v, 1)
    frozen = v.copy()
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="v must be writable"):
        k.adam_step_(w, g, m, frozen, 1)
    with pytest.raises(TypeError, match="m must have w's dtype float64, got float32"):
        k.adam_step_(w, g, m.astype(np.float32), v, 1)
    with pytest.raises(ValueError, match=r"v must have w's shape \(4,\), got \(2, 2\)"):
        k.adam_step_(w, g, m, v.reshape(2, 2), 1)
    with pytest.raises(TypeError, match="eps must be a real number"):
        k.adam_step_(w, g, m, v, 1, eps=None)
    assert_array_equal(w, 0)
    assert_array_equal(m, 0)


# ---- sgd_rows_step_ --------------------------------------------------------------------------

@pytest.mark.parametrize("V, D", [(1, 1), (7, 5), (10, 3), (4, 0)])
@pytest.mark.parametrize("n", [0, 1, 6, 25])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_rows_matches_reference(V, D, n, dtype):
    W = random((V, D), dtype)
    rows = np.random.default_rng(3).integers(0, V, size=n)
    W_ref = W.copy()
    for step in range(STEPS):
        gR = random((n, D), dtype, seed=step + 1)
        assert k.sgd_rows_step_(W, rows, gR, 0.1) is None
        W_ref = reference.sgd_rows_step(W_ref, rows, gR, 0.1)
        assert_allclose(W, W_ref, rtol=RTOL[dtype])


def test_sgd_rows_touches_only_the_given_rows():
    W = random((6, 3), np.float64)
    before = W.copy()
    rows = np.array([2, 5, 2], dtype=np.int32)
    gR = np.ones((3, 3))
    k.sgd_rows_step_(W, rows, gR, 0.5)
    assert_allclose(W[2], before[2] - 1.0, rtol=1e-15)
    assert_allclose(W[5], before[5] - 0.5, rtol=1e-15)
    assert_array_equal(W[[0, 1, 3, 4]], before[[0, 1, 3, 4]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_rows_equals_a_dense_step_on_the_scattered_gradient(dtype):
    V, D = 12, 4
    rows = np.random.default_rng(4).integers(0, V, size=9)
    gR = random((9, D), dtype, seed=1)
    W = random((V, D), dtype)
    dense = W.copy()
    gW = np.zeros((V, D), dtype=dtype)
    embedding.embedding_bwd_(gW, rows, gR)
    k.sgd_step_(dense, gW, 0.1)
    k.sgd_rows_step_(W, rows, np.asfortranarray(gR), 0.1)  # and a non-C-contiguous gR
    assert_allclose(W, dense, rtol=RTOL[dtype], atol=RTOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("B, L", [(1, 1), (1, 7), (3, 4), (2, 1)])
def test_sgd_rows_with_a_group_equals_the_repeated_gradient(dtype, B, L):
    """group=L: gR row b serves rows b L .. b L + L - 1, an embedding bag's gradient."""
    V, D = 9, 5
    rows = np.random.default_rng(5).integers(0, V, size=B * L)   # repeats included
    gR = random((B, D), dtype, seed=2)
    W = random((V, D), dtype)
    W_ref = W.copy()
    k.sgd_rows_step_(W, rows, gR, 0.1, group=L)
    k.sgd_rows_step_(W_ref, rows, np.repeat(gR, L, axis=0), 0.1)
    assert_array_equal(W, W_ref)                                  # the same operations


def test_sgd_rows_rejects_a_bad_group():
    W, rows = np.zeros((5, 3)), np.array([0, 4, 1, 2])
    with pytest.raises(ValueError, match=r"group must be a positive divisor of len\(rows\) = 4, "
                                         r"got 3"):
        k.sgd_rows_step_(W, rows, np.ones((1, 3)), 0.1, group=3)
    with pytest.raises(ValueError, match="positive divisor"):
        k.sgd_rows_step_(W, rows, np.ones((4, 3)), 0.1, group=0)
    with pytest.raises(TypeError, match="group must be an int, got float"):
        k.sgd_rows_step_(W, rows, np.ones((2, 3)), 0.1, group=2.0)
    with pytest.raises(ValueError, match=r"gR must have shape \(2, 3\) \(len\(rows\) // group"):
        k.sgd_rows_step_(W, rows, np.ones((4, 3)), 0.1, group=2)
    assert_array_equal(W, 0)


def test_sgd_rows_rejects_bad_input():
    W = np.zeros((5, 3))
    rows = np.array([0, 4])
    gR = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"rows\[1\] = 5 is out of range.*\[0, 5\)"):
        k.sgd_rows_step_(W, np.array([0, 5]), gR, 0.1)
    with pytest.raises(ValueError, match=r"rows must be 1-D, got shape \(1, 2\)"):
        k.sgd_rows_step_(W, rows[None], gR, 0.1)
    with pytest.raises(TypeError, match="rows must hold integer indices"):
        k.sgd_rows_step_(W, rows.astype(float), gR, 0.1)
    with pytest.raises(ValueError, match=r"gR must have shape \(2, 3\)"):
        k.sgd_rows_step_(W, rows, np.ones((2, 4)), 0.1)
    with pytest.raises(TypeError, match="gR must have dtype float64, got float32"):
        k.sgd_rows_step_(W, rows, gR.astype(np.float32), 0.1)
    with pytest.raises(ValueError, match="W must be C-contiguous"):
        k.sgd_rows_step_(np.zeros((5, 6))[:, ::2], rows, gR, 0.1)
    with pytest.raises(ValueError, match=r"W must be 2-D, got shape \(5,\)"):
        k.sgd_rows_step_(np.zeros(5), rows, gR, 0.1)
    assert_array_equal(W, 0)


def _schedule_optimizer(lr=0.5):
    return gdl.SGD([gdl.Tensor(np.zeros(3), requires_grad=True)], lr=lr)


@pytest.mark.parametrize("make, expected", [
    (lambda o: gdl.optim.StepLR(o, step_size=2, gamma=0.5), lambda e: 0.5 * 0.5 ** (e // 2)),
    (lambda o: gdl.optim.ExponentialLR(o, gamma=0.99), lambda e: 0.5 * 0.99 ** e),
    (lambda o: gdl.optim.CosineAnnealingLR(o, T_max=6, eta_min=0.1),
     lambda e: 0.1 + 0.4 * (1 + np.cos(np.pi * min(e, 6) / 6)) / 2),
])
def test_schedules_follow_their_formula_and_resume(make, expected):
    optimizer = _schedule_optimizer()
    schedule = make(optimizer)
    seen = [optimizer.lr]
    for _ in range(8):
        schedule.step()
        seen.append(schedule.get_last_lr())
    assert_allclose(seen, [expected(e) for e in range(9)], rtol=1e-12)
    resumed = make(_schedule_optimizer())
    resumed.load_state_dict(schedule.state_dict())
    assert resumed.optimizer.lr == optimizer.lr
    jumped = make(_schedule_optimizer())
    jumped.step(5)
    assert_allclose(jumped.get_last_lr(), expected(5), rtol=1e-12)


def test_cosine_ends_at_eta_min_and_schedules_reject_bad_arguments():
    optimizer = _schedule_optimizer()
    schedule = gdl.optim.CosineAnnealingLR(optimizer, T_max=3)
    for _ in range(5):
        schedule.step()
    assert optimizer.lr == 0.0
    with pytest.raises(TypeError, match="optimizer must be a gdl optimizer"):
        gdl.optim.StepLR(object(), 2)
    with pytest.raises(ValueError, match="step_size"):
        gdl.optim.StepLR(optimizer, 0)
    with pytest.raises(ValueError, match="T_max"):
        gdl.optim.CosineAnnealingLR(optimizer, T_max=0)
    with pytest.raises(ValueError, match="epoch must be"):
        schedule.step(-1)
