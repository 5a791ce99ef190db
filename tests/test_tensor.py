"""Tensor and its ops: forward against numpy, float64 gradient checks, the backward walk."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl.testing import gradcheck


def rand(*shape, seed=0, low=None):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(x) + low if low is not None else x


# ---- construction --------------------------------------------------------------------------
def test_tensor_defaults_to_float32_and_keeps_float64_and_integers():
    assert gdl.Tensor([1, 2, 3]).dtype == np.float32
    assert gdl.Tensor(np.zeros(3)).dtype == np.float64
    assert gdl.Tensor(np.array([1, 2])).dtype.kind == "i"
    assert gdl.Tensor(np.zeros(2, dtype=np.float16)).dtype == np.float32
    t = gdl.Tensor(np.ones(2), autograd=True)
    assert t.requires_grad and t.autograd and t.grad is None


def test_integer_data_that_requires_grad_becomes_float():
    t = gdl.Tensor(np.array([[0, 1], [1, 0]]), autograd=True)     # as the book writes it
    assert t.dtype == np.float32 and t.requires_grad
    with pytest.raises(TypeError, match="only float tensors"):
        gdl.Tensor([1, 2], requires_grad=True, dtype=np.int64)


def test_numpy_detach_item_repr():
    t = gdl.Tensor(np.arange(3.0), requires_grad=True)
    assert t.numpy() is t.data
    d = (t * 2).detach()
    assert not d.requires_grad and d.is_leaf
    assert gdl.Tensor([[2.5]]).item() == 2.5
    assert "requires_grad=True" in repr(t)


# ---- forward equals numpy, backward equals finite differences -------------------------------
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
]
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)),
                    ((1,), (5,)), ((), (2, 2))]


@pytest.mark.parametrize("name, op, ref", BINARY)
@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_SHAPES)
def test_binary_ops_broadcast(name, op, ref, shape_a, shape_b):
    a, b = rand(*shape_a, seed=1), rand(*shape_b, seed=2, low=0.5)
    out = op(gdl.Tensor(a), gdl.Tensor(b))
    assert_allclose(out.data, ref(a, b), rtol=1e-12)
    assert gradcheck(op, [a, b])


@pytest.mark.parametrize("name, op, ref", BINARY)
def test_binary_ops_with_constants_on_either_side(name, op, ref):
    a = rand(3, 2, low=0.5)
    assert_allclose(op(gdl.Tensor(a), 2.0).data, ref(a, 2.0))
    assert_allclose(op(3.0, gdl.Tensor(a)).data, ref(3.0, a))
    assert_allclose(op(np.full((2,), 1.5), gdl.Tensor(a)).data, ref(np.full((2,), 1.5), a))
    assert gradcheck(lambda t: op(t, 2.0), [a])
    assert gradcheck(lambda t: op(3.0, t), [a])


def test_float32_stays_float32_with_python_scalars():
    t = gdl.Tensor(np.ones(3, dtype=np.float32))
    assert (t * 2.5 + 1).dtype == np.float32
    assert (1 / t).dtype == np.float32


@pytest.mark.parametrize("op, ref, positive", [
    (lambda t: -t, lambda x: -x, False),
    (lambda t: t ** 2, lambda x: x ** 2, False),
    (lambda t: t ** 3, lambda x: x ** 3, False),
    (lambda t: t.pow(0.5), np.sqrt, True),
    (lambda t: t.exp(), np.exp, False),
    (lambda t: t.log(), np.log, True),
    (lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), False),
    (lambda t: t.tanh(), np.tanh, False),
    (lambda t: t.relu(), lambda x: np.maximum(x, 0), False),
])
@pytest.mark.parametrize("shape", [(1,), (4, 3), (2, 3, 5)])
def test_unary_ops(op, ref, positive, shape):
    x = rand(*shape, seed=3, low=0.2)                  # |x| >= 0.2: away from relu's kink
    if not positive:
        x[..., ::2] *= -1
    assert_allclose(op(gdl.Tensor(x)).data, ref(x), rtol=1e-12)
    assert gradcheck(op, [x])


def test_relu_gradcheck_away_from_kink():
    x = rand(5, 4, seed=4)
    x[np.abs(x) < 0.05] = 0.3
    assert gradcheck(lambda t: t.relu(), [x])


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 5)), ((1, 4), (4, 1)), ((4,), (4, 2)),
                                              ((3, 4), (4,)), ((4,), (4,)),
                                              ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 2)),
                                              ((3, 4), (2, 4, 5))])
def test_matmul(shape_a, shape_b):
    a, b = rand(*shape_a, seed=5), rand(*shape_b, seed=6)
    assert_allclose((gdl.Tensor(a) @ gdl.Tensor(b)).data, a @ b, rtol=1e-12)
    assert gradcheck(lambda x, y: x @ y, [a, b])
    assert gradcheck(lambda x, y: x.mm(y), [a, b])


def test_matmul_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"matmul shapes do not fit: \(2, 3\) @ \(4, 5\)"):
        gdl.Tensor(np.zeros((2, 3))) @ gdl.Tensor(np.zeros((4, 5)))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), (-1, False),
                                            ((0, 2), False), ((0, 2), True)])
@pytest.mark.parametrize("name", ["sum", "mean", "max"])
def test_reductions(name, axis, keepdims):
    x = rand(3, 4, 5, seed=7)
    out = getattr(gdl.Tensor(x), name)(axis=axis, keepdims=keepdims)
    assert_allclose(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert gradcheck(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


def test_book_sum_dim_and_expand():
    x = rand(2, 3, seed=8)
    t = gdl.Tensor(x)
    assert_allclose(t.sum(0).data, x.sum(0))
    e = t.expand(1, 4)                                   # the book: a new axis 1 with 4 copies
    assert e.shape == (2, 4, 3)
    assert_allclose(e.data, np.repeat(x[:, None, :], 4, axis=1))
    assert gradcheck(lambda a: a.expand(1, 4), [x])
    assert gradcheck(lambda a: a.expand(0, 2), [x])
    assert gradcheck(lambda a: a.broadcast_to((5, 2, 3)), [x])
    assert t.expand((4, 2, 3)).shape == (4, 2, 3)


def test_reshape_transpose_flatten():
    x = rand(2, 3, 4, seed=9)
    t = gdl.Tensor(x)
    assert_allclose(t.reshape(6, 4).data, x.reshape(6, 4))
    assert_allclose(t.transpose().data, x.T)
    assert_allclose(t.transpose(1, 0, 2).data, x.transpose(1, 0, 2))
    assert_allclose(t.T.data, x.T)
    assert t.flatten().shape == (2, 12)
    assert gradcheck(lambda a: a.reshape(4, 6) * 2, [x])
    assert gradcheck(lambda a: a.transpose(2, 0, 1), [x])
    assert gradcheck(lambda a: a.T, [x])
    with pytest.raises(ValueError, match=r"cannot reshape a tensor of shape \(2, 3, 4\)"):
        t.reshape(5, 5)


@pytest.mark.parametrize("index", [1, slice(1, 3), (slice(None), 2), (Ellipsis, 0),
                                   np.array([0, 2, 0]), (np.array([0, 1]), np.array([2, 2])),
                                   (slice(None), None, 1)])
def test_indexing(index):
    x = rand(3, 4, seed=10)
    assert_allclose(gdl.Tensor(x)[index].data, x[index])
    assert gradcheck(lambda t: t[index], [x])


def test_boolean_mask_indexing():
    x = rand(3, 4, seed=11)
    mask = x > 0
    assert_allclose(gdl.Tensor(x)[mask].data, x[mask])
    assert gradcheck(lambda t: t[mask], [x])


@pytest.mark.parametrize("shape, indices, axis", [
    ((5, 3), np.array([0, 4, 4, 1]), 0),
    ((5, 3), np.array([[1, 2], [2, 2]]), 0),
    ((4, 5, 2), np.array([0, 3]), 1),
    ((4, 5), np.array([1]), 1),
])
def test_index_select(shape, indices, axis):
    x = rand(*shape, seed=12)
    out = gdl.Tensor(x).index_select(indices, axis=axis)
    assert_allclose(out.data, np.take(x, indices, axis=axis))
    assert gradcheck(lambda t: t.index_select(indices, axis=axis), [x])


def test_index_select_accepts_the_books_index_tensors_and_rejects_bad_ones():
    x = gdl.Tensor(rand(4, 2))
    assert_allclose(x.index_select(gdl.Tensor(np.array([3, 0]))).data, x.data[[3, 0]])
    assert_allclose(x.index_select(gdl.Tensor([3.0, 0.0])).data, x.data[[3, 0]])
    with pytest.raises(ValueError, match="idx"):
        x.index_select(np.array([4]))
    with pytest.raises(TypeError, match="indices must be integers"):
        x.index_select(np.array([0.5]))


def test_concatenate_and_stack():
    a, b, c = rand(2, 3, seed=13), rand(4, 3, seed=14), rand(2, 3, seed=15)
    assert_allclose(gdl.cat([gdl.Tensor(a), gdl.Tensor(b)]).data, np.concatenate([a, b]))
    assert_allclose(gdl.stack([gdl.Tensor(a), gdl.Tensor(c)], axis=1).data,
                    np.stack([a, c], axis=1))
    assert gradcheck(lambda x, y: gdl.concatenate([x, y], axis=0) * 2, [a, b])
    assert gradcheck(lambda x, y: gdl.stack([x, y], axis=2), [a, c])


def test_cast_is_differentiable():
    x = rand(3, 2)
    assert gdl.Tensor(x).float().dtype == np.float32
    # a float32 round trip is exact only to ~1e-7, so the differences use a larger step
    assert gradcheck(lambda t: t.float().double() * 3, [x], eps=1e-2, rtol=1e-4, atol=1e-5)


# ---- the backward walk -----------------------------------------------------------------------
def test_tensor_used_twice_sums_its_gradients():
    x = rand(3, seed=16)
    assert gradcheck(lambda t: t * t + t, [x])
    t = gdl.Tensor(x, requires_grad=True)
    (t + t).sum().backward()
    assert_allclose(t.grad.data, np.full(3, 2.0))


def test_diamond_graph_visits_each_node_once():
    x = rand(4, seed=17)
    def fn(t):
        h = t.tanh()
        return (h * 2 + h.exp() - h ** 2).sum()
    assert gradcheck(fn, [x])


@pytest.mark.parametrize("name, fn", [
    ("t + t.T", lambda t: (t + t.T) * t),
    ("swish", lambda t: t * t.sigmoid()),
    ("x / norm(x)", lambda t: t / (t * t).sum(axis=1, keepdims=True) ** 0.5),
    ("x @ x.T", lambda t: t @ t.T),
    ("residuals", lambda t: _residuals(t)),
])
def test_a_tensor_reached_by_paths_of_different_lengths_gets_every_gradient(name, fn):
    # backward must process a tensor only after every op it feeds has handed back its gradient,
    # however many steps lie between them
    x = rand(3, 3, seed=19)
    assert gradcheck(fn, [x])
    t = gdl.Tensor(np.ones((2, 2)), requires_grad=True)
    (t + t.T).sum().backward()
    assert_allclose(t.grad.data, np.full((2, 2), 2.0))


def _residuals(t):
    h = t
    for _ in range(3):
        h = h + (h * 0.5).tanh()
    return h * t


def test_ten_thousand_deep_chain():
    t = gdl.Tensor(np.ones(3), requires_grad=True)
    y = t
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert_allclose(t.grad.data, np.full(3, 1.0001 ** 10_000), rtol=1e-9)


def test_deep_chain_gradcheck():
    x = rand(2, seed=18)
    def fn(t):
        for _ in range(200):
            t = (t * 0.9).tanh() + 0.1
        return t
    assert gradcheck(fn, [x])


def test_second_backward_through_freed_graph_is_an_error():
    t = gdl.Tensor(np.ones(2), requires_grad=True)
    y = (t * 3).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"already freed \(at Sum\)"):
        y.backward()
    z = (t * 3).mean()                  # each op class has one marker: the name stays right
    z.backward()
    with pytest.raises(RuntimeError, match=r"already freed \(at Mean\)"):
        z.backward()
    w = (t * 2).reshape(1, 2).sum(axis=1, keepdims=True)       # a (1, 1) root: seed of ones
    w.backward()
    assert_allclose(t.grad.data, [6.5, 6.5])    # 3 (sum) + 1.5 (mean of 2) + 2


def test_retain_graph_allows_a_second_backward_that_accumulates():
    t = gdl.Tensor(np.ones(2), requires_grad=True)
    y = (t * 3).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_allclose(t.grad.data, [6.0, 6.0])


def test_backward_needs_grad_for_non_scalars_and_checks_its_shape():
    t = gdl.Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(RuntimeError, match="needs an upstream gradient"):
        (t * 2).backward()
    with pytest.raises(ValueError, match="grad must have the tensor's shape"):
        (t * 2).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        gdl.Tensor(np.ones(2)).sum().backward()


def test_books_backward_with_a_tensor_of_ones():
    x = gdl.Tensor(np.array([1.0, 2, 3, 4, 5]), autograd=True)
    y = gdl.Tensor(np.array([2.0, 2, 2, 2, 2]), autograd=True)
    z = x + y
    z.backward(gdl.Tensor(np.ones_like(z.data)))
    assert_allclose(x.grad.data, np.ones(5))
    assert_allclose(y.grad.data, np.ones(5))


def test_leaf_gradients_never_share_memory():
    a = gdl.Tensor(np.ones(3), requires_grad=True)
    b = gdl.Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 1                                    # must not change b.grad
    assert_allclose(b.grad.data, np.ones(3))
    s = gdl.Tensor(np.ones((2, 3)), requires_grad=True)
    s.sum().backward()                                  # a read-only broadcast view upstream
    s.grad.data *= 0                                    # the book zeroes grads in place
    assert s.grad.data.flags.writeable


def test_gradients_accumulate_across_backwards():
    t = gdl.Tensor(np.ones(2), requires_grad=True)
    (t * 2).sum().backward()
    (t * 3).sum().backward()
    assert_allclose(t.grad.data, [5.0, 5.0])


def test_retain_grad_keeps_intermediate_gradients():
    t = gdl.Tensor(np.ones(2), requires_grad=True)
    h = (t * 2).retain_grad()
    (h * 3).sum().backward()
    assert_allclose(h.grad.data, [3.0, 3.0])


def test_no_grad_records_nothing_as_context_and_decorator():
    t = gdl.Tensor(np.ones(2), requires_grad=True)
    with gdl.no_grad():
        y = t * 2
    assert not y.requires_grad and y.is_leaf
    assert gdl.is_grad_enabled()

    @gdl.no_grad()
    def predict(x):
        return x * 2
    assert not predict(t).requires_grad


def test_detach_stops_the_gradient():
    t = gdl.Tensor(np.ones(2), requires_grad=True)
    ((t * 2).detach() * t).sum().backward()
    assert_allclose(t.grad.data, [2.0, 2.0])


def test_manual_seed_reproduces_every_draw():
    gdl.manual_seed(42)
    a = gdl.nn.Linear(3, 2).weight.data.copy()
    gdl.manual_seed(42)
    b = gdl.nn.Linear(3, 2).weight.data.copy()
    assert (a == b).all()
    state = gdl.get_rng_state()
    c = gdl.nn.Linear(3, 2).weight.data.copy()
    gdl.set_rng_state(state)
    d = gdl.nn.Linear(3, 2).weight.data.copy()
    assert (c == d).all() and not (a == c).all()
