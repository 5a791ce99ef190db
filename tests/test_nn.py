"""Modules, layers, losses and optimizers: forward against numpy, gradient checks, training."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl import nn, ops
from gdl.testing import gradcheck


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- Module --------------------------------------------------------------------------------
class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.out = nn.Linear(3, 1)

    def forward(self, x):
        return self.out(self.hidden(x).relu())


def test_module_registers_parameters_and_submodules_in_order():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    assert len(model.get_parameters()) == 4
    assert [p.shape for p in model.parameters()] == [(3, 2), (3,), (1, 3), (1,)]


def test_books_layer_with_an_explicit_parameter_list():
    class BookCell(gdl.Layer):                        # chapter-13 style, parameters += ...
        def __init__(self):
            super().__init__()
            self.w_ih = nn.Linear(2, 3)
            self.parameters += self.w_ih.get_parameters()
            self.extra = gdl.Tensor(np.zeros(3), autograd=True)
            self.parameters.append(self.extra)

    cell = BookCell()
    assert len(cell.get_parameters()) == 3            # each parameter once
    assert len(list(cell.parameters())) == 3


def test_module_must_call_super_init():
    class Broken(nn.Module):
        def __init__(self):
            self.w = 1

    with pytest.raises(AttributeError, match=r"must call super\(\).__init__\(\)"):
        Broken()


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.eval()
    assert not model[1].training
    model.train()
    assert model[1].training


def test_state_dict_round_trip_and_strict_errors():
    gdl.manual_seed(1)
    a = TwoLayer()
    gdl.manual_seed(2)
    b = TwoLayer()
    x = gdl.Tensor(rand(4, 2))
    b.load_state_dict(a.state_dict())
    assert_allclose(a(x).data, b(x).data)

    state = a.state_dict()
    del state["out.bias"]
    with pytest.raises(KeyError, match=r"missing keys \['out.bias'\]"):
        b.load_state_dict(state)
    state = a.state_dict()
    state["surplus"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"unexpected keys \['surplus'\]"):
        b.load_state_dict(state)
    assert b.load_state_dict(state, strict=False)["unexpected"] == ["surplus"]
    state = a.state_dict()
    state["hidden.weight"] = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"state\['hidden.weight'\] has shape \(2, 3\)"):
        b.load_state_dict(state)
    state = a.state_dict()
    state["out.bias"] = state["out.bias"].astype(np.float64)
    with pytest.raises(TypeError, match=r"state\['out.bias'\] has dtype float64"):
        b.load_state_dict(state)


def test_failed_load_changes_nothing():
    model = TwoLayer()
    before = model.state_dict()
    state = {k: np.ones_like(v) for k, v in before.items()}
    state["out.bias"] = np.ones(5, dtype=np.float32)
    with pytest.raises(ValueError):
        model.load_state_dict(state)
    for k, v in model.state_dict().items():
        assert_allclose(v, before[k])


# ---- layers against numpy, gradients against finite differences -----------------------------
@pytest.mark.parametrize("shape", [(1, 4), (5, 4), (2, 3, 4)])
def test_linear_matches_numpy_and_gradchecks(shape):
    layer = nn.Linear(4, 3).double()
    x = rand(*shape, seed=3)
    W, b = layer.weight.data, layer.bias.data
    assert_allclose(layer(gdl.Tensor(x)).data, x @ W.T + b, rtol=1e-12)
    assert gradcheck(lambda t, w, c: ops.Linear.apply(t, w, c), [x, W, b + 0.1])
    assert gradcheck(lambda t, w: ops.Linear.apply(t, w), [x, W])


def test_linear_rejects_wrong_feature_count():
    with pytest.raises(ValueError, match="input has 5 features on its last axis, the layer "
                                         "expects 4"):
        nn.Linear(4, 3)(gdl.Tensor(np.zeros((2, 5), dtype=np.float32)))


def test_sequential_accepts_both_call_styles():
    a = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    b = nn.Sequential([nn.Linear(2, 3), nn.Tanh()]).add(nn.Linear(3, 1))
    assert len(a) == len(b) == 3
    assert len(a.get_parameters()) == 4
    assert a(gdl.Tensor(np.zeros((5, 2)))).shape == (5, 1)


def _layer_by_layer(model, x):
    for layer in model.layers:
        x = layer(x)
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sequential_pools_before_relu_with_the_same_numbers(dtype):
    # Note [pool before relu]: ReLU -> MaxPool2d runs pooled first; outputs and gradients
    # must equal the layers applied in order, on ties (integers), all-negative windows and NaN
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.ReLU(), nn.MaxPool2d(3, stride=1, padding=1), nn.Flatten())
    for p in model.parameters():
        p.data = np.round(p.data * 4).astype(dtype)        # integer sums: many ties
    assert model._pool_pairs
    x = rng.integers(-3, 3, (4, 2, 9, 8)).astype(dtype)
    x[0, 0, 0, :2] = np.nan
    gy = gdl.Tensor(rng.standard_normal((4, 3 * 4 * 4)).astype(dtype))
    results = []
    for run in (model.forward, lambda t: _layer_by_layer(model, t)):
        xt = gdl.Tensor(x, requires_grad=True)
        y = run(xt)
        (y * gy).sum().backward()
        results.append([y.data, xt.grad.data] + [p.grad.data.copy() for p in model.parameters()])
        model.zero_grad()
    assert np.isnan(results[0][0]).any()
    for fused, plain in zip(*results):
        np.testing.assert_array_equal(fused, plain)


def test_sequential_keeps_avg_pool_and_other_orders_as_written():
    x = gdl.Tensor(np.random.default_rng(2).standard_normal((2, 1, 4, 4)))
    for layers in ([nn.ReLU(), nn.AvgPool2d(2)], [nn.MaxPool2d(2), nn.Tanh()],
                   [nn.Tanh(), nn.MaxPool2d(2)]):
        model = nn.Sequential(*layers)
        assert not model._pool_pairs
        np.testing.assert_array_equal(model(x).data, _layer_by_layer(model, x).data)
    model = nn.Sequential(nn.ReLU(), nn.MaxPool2d(2))
    model.layers[1] = nn.AvgPool2d(2)                      # layers edited in place
    np.testing.assert_array_equal(model(x).data, _layer_by_layer(model, x).data)


@pytest.mark.parametrize("layer, ref", [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softmax(), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    (nn.LogSoftmax(), lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    (nn.Flatten(), lambda x: x.reshape(len(x), -1)),
])
def test_activation_layers(layer, ref):
    x = rand(3, 2, 4, seed=4) + 0.05
    assert_allclose(layer(gdl.Tensor(x)).data, ref(x), rtol=1e-12)
    assert gradcheck(layer, [x])


def test_dropout_layer_trains_and_evaluates():
    layer = nn.Dropout(0.5)
    x = np.ones((200, 100), dtype=np.float32)
    y = layer(gdl.Tensor(x)).data
    assert set(np.unique(y)) <= {0.0, 2.0}             # the book's mask * 2
    assert abs((y == 0).mean() - 0.5) < 0.02
    layer.eval()
    assert (layer(gdl.Tensor(x)).data == x).all()
    with pytest.raises(ValueError, match="p must be in"):
        nn.Dropout(1.0)


def test_dropout_gradient_follows_the_mask():
    layer = nn.Dropout(0.3)
    t = gdl.Tensor(np.ones((50, 20)), requires_grad=True)
    y = layer(t)
    y.sum().backward()
    assert_allclose(t.grad.data, y.data)               # dy/dx = mask / (1 - p) = y for x = 1


def test_dropout_is_reproducible_from_the_seed():
    x = gdl.Tensor(np.ones((10, 10), dtype=np.float32))
    gdl.manual_seed(7)
    a = nn.Dropout(0.5)(x).data
    gdl.manual_seed(7)
    b = nn.Dropout(0.5)(x).data
    c = nn.Dropout(0.5)(x).data
    assert (a == b).all() and not (a == c).all()


def test_embedding_layer_and_bag():
    emb = nn.Embedding(10, 4).double()
    idx = np.array([[1, 2], [9, 1]])
    W = emb.weight.data
    assert_allclose(emb(idx).data, W[idx])
    assert gradcheck(lambda w: ops.Embedding.apply(w, idx), [W])
    bag = nn.EmbeddingBag(10, 4).double()
    assert_allclose(bag(idx).data, bag.weight.data[idx].sum(axis=1))
    assert_allclose(bag(np.array([3, 3, 4])).data, bag.weight.data[[3, 3, 4]].sum(axis=0))
    assert gradcheck(lambda w: ops.EmbeddingBag.apply(w, idx), [bag.weight.data])


def test_embedding_backward_touches_only_used_rows():
    emb = nn.Embedding(6, 3)
    emb(np.array([1, 1, 4])).sum().backward()
    used = np.abs(emb.weight.grad.data).sum(axis=1) > 0
    assert used.tolist() == [False, True, False, False, True, False]
    assert_allclose(emb.weight.grad.data[1], [2, 2, 2])


# ---- losses ---------------------------------------------------------------------------------
def test_mse_loss_mean_and_book_sum():
    p, t = rand(4, 2, seed=5), rand(4, 2, seed=6)
    assert_allclose(nn.MSELoss()(gdl.Tensor(p), gdl.Tensor(t)).item(), ((p - t) ** 2).mean())
    assert_allclose(nn.MSELoss("sum")(gdl.Tensor(p), t).item(), ((p - t) ** 2).sum())
    assert gradcheck(lambda a: nn.MSELoss()(a, t), [p])
    assert gradcheck(lambda a, b: nn.MSELoss()(a, b), [p, t])           # the target's too
    assert gradcheck(lambda a, b: nn.MSELoss("sum")(a, b), [p, t])
    with pytest.raises(ValueError, match="empty tensors"):
        nn.MSELoss()(gdl.Tensor(np.zeros((0, 2))), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="reduction must be"):
        gdl.ops.SquaredError.apply(gdl.Tensor(p), gdl.Tensor(t), reduction="max")
    with pytest.raises(ValueError, match="target must have the prediction's shape"):
        nn.MSELoss()(gdl.Tensor(p), np.zeros((2, 4)))


def test_cross_entropy_and_nll_losses():
    x = rand(5, 3, seed=7)
    labels = np.array([0, 2, 1, 1, 0])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -logp[np.arange(5), labels].mean()
    assert_allclose(nn.CrossEntropyLoss()(gdl.Tensor(x), labels).item(), expected, rtol=1e-12)
    assert_allclose(nn.NLLLoss()(gdl.Tensor(logp), labels).item(), expected, rtol=1e-12)
    assert gradcheck(lambda a: nn.CrossEntropyLoss()(a, labels), [x])
    assert gradcheck(lambda a: nn.NLLLoss()(a.log_softmax(), labels), [x])
    with pytest.raises(ValueError, match=r"target must hold class indices in \[0, 3\)"):
        nn.NLLLoss()(gdl.Tensor(logp), np.array([0, 1, 2, 3, 0]))


def test_bce_loss():
    p = 1 / (1 + np.exp(-rand(6, seed=8)))
    t = (rand(6, seed=9) > 0).astype(float)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    assert_allclose(nn.BCELoss()(gdl.Tensor(p), t).item(), expected, rtol=1e-12)
    assert gradcheck(lambda a: nn.BCELoss()(a, t), [p])
    assert gradcheck(lambda a: nn.BCELoss()(a.sigmoid(), t), [rand(6, seed=10)])
    for bad in ([1.5], [-0.1, 0.5], [0.5, np.nan]):        # a NaN is not a probability
        with pytest.raises(ValueError, match="probabilities"):
            nn.BCELoss()(gdl.Tensor(np.array(bad)), np.ones(len(bad)))
    with pytest.raises(ValueError, match="empty tensors"):
        nn.BCELoss()(gdl.Tensor(np.zeros(0)), np.zeros(0))
    loss = nn.BCELoss()(gdl.Tensor(p.astype(np.float32)), t)    # float32 stays float32
    assert loss.dtype == np.float32
    assert_allclose(loss.item(), expected, rtol=1e-6)


# ---- optimizers -------------------------------------------------------------------------------
def test_sgd_step_and_books_alpha():
    w = gdl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    opt = gdl.SGD(parameters=[w], alpha=0.1)
    (w * w).sum().backward()
    opt.step()
    assert_allclose(w.data, [0.8, 1.6])
    assert w.grad is None                               # the book's step(zero=True)
    with pytest.raises(ValueError, match="lr and alpha name the same rate"):
        gdl.SGD([w], lr=0.1, alpha=0.2)
    with pytest.raises(ValueError, match="empty parameter list"):
        gdl.SGD([], lr=0.1)


def test_sgd_momentum_and_adam_match_their_formulas():
    x0 = np.array([1.0, -2.0, 3.0])
    w = gdl.Tensor(x0.copy(), requires_grad=True)
    opt = gdl.SGD([w], lr=0.1, momentum=0.9, weight_decay=0.01)
    ref, v = x0.copy(), np.zeros(3)
    for _ in range(3):
        (w * w).sum().backward()
        opt.step()
        d = 2 * ref + 0.01 * ref
        v = 0.9 * v + d
        ref = ref - 0.1 * v
    assert_allclose(w.data, ref, rtol=1e-12)

    w = gdl.Tensor(x0.copy(), requires_grad=True)
    opt = gdl.Adam([w], lr=0.01)
    ref, m, v = x0.copy(), np.zeros(3), np.zeros(3)
    for step in range(1, 4):
        (w * w).sum().backward()
        opt.step()
        g = 2 * ref
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref = ref - 0.01 * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    assert_allclose(w.data, ref, rtol=1e-10)


def test_optimizer_state_dict_round_trip():
    w = gdl.Tensor(np.ones(3), requires_grad=True)
    opt = gdl.Adam([w], lr=0.01)
    (w * w).sum().backward()
    opt.step()
    state = opt.state_dict()
    w2 = gdl.Tensor(np.ones(3), requires_grad=True)
    opt2 = gdl.Adam([w2], lr=0.5)
    opt2.load_state_dict(state)
    assert opt2.lr == 0.01 and opt2.steps == 1
    assert_allclose(opt2.m[0], opt.m[0])
    state["buffers"]["m"]["0"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"state buffer m\[0\] has shape \(4,\)"):
        opt2.load_state_dict(state)


# ---- training: the book's small problems reach (near) zero error ------------------------------
def test_streetlight_network_trains_to_near_zero_error():
    """The book's chapter-6 network: 3-4-1, relu, weights uniform in [-1, 1), alpha 0.2,
    one streetlight at a time, 60 passes (the book printed an error of 1.5e-5)."""
    streetlights = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 1]], dtype=np.float64)
    walk_vs_stop = np.array([[1], [1], [0], [0]], dtype=np.float64)
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(3, 4, bias=False), nn.ReLU(),
                          nn.Linear(4, 1, bias=False)).double()
    for layer in (model[0], model[2]):
        layer.weight.data[...] = 2 * rng.random(layer.weight.shape) - 1
    opt = gdl.SGD(model.parameters(), alpha=0.2)
    criterion = nn.MSELoss(reduction="sum")
    for iteration in range(60):
        error = 0.0
        for i in range(len(streetlights)):
            loss = criterion(model(streetlights[i:i + 1]), walk_vs_stop[i:i + 1])
            loss.backward()
            opt.step()
            error += loss.item()
    assert error < 1.5e-5


def test_xor_trains_to_near_zero_error():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    gdl.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = gdl.SGD(model.parameters(), lr=0.5, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    for _ in range(300):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.01
    assert (model(x).data.argmax(1) == y).all()


def test_books_chapter13_two_layer_net():
    """The chapter's code with only the import changed: 10 steps on the four-row toy data."""
    from gdl import Tensor
    from gdl.nn import Linear, Sequential
    from gdl.optim import SGD

    gdl.manual_seed(0)
    data = Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]), autograd=True)
    target = Tensor(np.array([[0], [1], [0], [1]]), autograd=True)
    model = Sequential([Linear(2, 3), Linear(3, 1)])
    optim = SGD(parameters=model.get_parameters(), alpha=0.05)
    losses = []
    for i in range(10):
        pred = model.forward(data)
        loss = ((pred - target) * (pred - target)).sum(0)
        loss.backward(Tensor(np.ones_like(loss.data)))
        optim.step()
        losses.append(float(loss.data[0]))
    assert losses[-1] < 0.1 * losses[0]
    assert losses[-1] < 0.1                             # the book printed 0.0093 at step 10


def test_books_chapter13_embedding_cross_entropy_net():
    from gdl import Tensor
    from gdl.nn import CrossEntropyLoss, Embedding, Linear, Sequential, Tanh
    from gdl.optim import SGD

    gdl.manual_seed(0)
    data = Tensor(np.array([1, 2, 1, 2]), autograd=True)
    target = Tensor(np.array([0, 1, 0, 1]), autograd=True)
    model = Sequential([Embedding(3, 3), Tanh(), Linear(3, 4)])
    criterion = CrossEntropyLoss()
    optim = SGD(parameters=model.get_parameters(), alpha=0.1)
    losses = []
    for i in range(10):
        pred = model.forward(data)
        loss = criterion.forward(pred, target)
        loss.backward(Tensor(np.ones_like(loss.data)))
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]                # the book: 1.3885 -> 0.3094 in 10 steps
