"""The vanilla RNN family: gradient checks for the cell and a 5-step sequence, the kernels
against NumPy, layers, clipping, sequence utilities, and bad input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl import text
from gdl._kernels import rnn as k
from gdl.nn.rnn import RNN, RNNCell
from gdl.nn.utils import clip_grad_norm_
from gdl.ops import rnn as R
from gdl.testing import gradcheck

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
ACTS = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
        "relu": lambda z: np.maximum(z, 0)}


def _args(T, B, D, H, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((T, B, D)).astype(dtype),
            rng.standard_normal((B, H)).astype(dtype),
            (rng.standard_normal((H, D)) * 0.5).astype(dtype),
            (rng.standard_normal((H, H)) * 0.5).astype(dtype),
            (rng.standard_normal(H) * 0.5).astype(dtype)]


def reference_rnn(x, h, W_ih, W_hh, b, act):
    """The book's loop in NumPy."""
    out = []
    for t in range(len(x)):
        h = ACTS[act](x[t] @ W_ih.T + h @ W_hh.T + b)
        out.append(h)
    return np.stack(out)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("T, B, D, H", [(5, 3, 4, 6), (1, 1, 1, 1), (4, 1, 7, 3)])
def test_rnn_matches_reference(act, dtype, T, B, D, H):
    x, h, Wi, Wh, b = _args(T, B, D, H, dtype)
    hs = k.rnn_fwd(x, h, Wi, Wh, b, act)
    assert hs.dtype == dtype
    assert_allclose(hs[1:], reference_rnn(x, h, Wi, Wh, b, act), rtol=RTOL[dtype], atol=1e-6)


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_rnn_cell_gradcheck(act):
    gradcheck(lambda x, h, Wi, Wh, b: R.rnn_cell(x[0], h, Wi, Wh, b, act), _args(1, 3, 4, 5))


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "relu"])
def test_rnn_sequence_gradcheck_five_steps(act):
    def f(x, h, Wi, Wh, b):
        y, h_n = R.rnn(x, h, Wi, Wh, b, act)
        return gdl.stack([(y * y).sum(axis=0), h_n])
    gradcheck(f, _args(5, 2, 3, 4, seed=2))


def test_books_rnn_cell_interface():
    cell = RNNCell(n_inputs=4, n_hidden=6, n_output=3)
    assert cell.nonlinearity == "sigmoid"              # the book's default
    output, hidden = cell(np.ones((2, 4), dtype=np.float32), cell.init_hidden(batch_size=2))
    assert output.shape == (2, 3) and hidden.shape == (2, 6)
    torch_style = RNNCell(4, 6, nonlinearity="relu")
    assert torch_style(np.ones((2, 4), dtype=np.float32)).shape == (2, 6)
    with pytest.raises(ValueError, match="activation must be"):
        RNNCell(4, 6, 3, activation="gelu")


def test_rnn_layer_matches_cell_loop():
    gdl.manual_seed(0)
    layer = RNN(3, 5, batch_first=True).double()
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    y, h_n = layer(x)
    expected = reference_rnn(x.transpose(1, 0, 2), np.zeros((2, 5)), layer.weight_ih_l0.data,
                             layer.weight_hh_l0.data, layer.bias_l0.data, "tanh")
    assert_allclose(y.data, expected.transpose(1, 0, 2), rtol=1e-12)
    assert_allclose(h_n.data[0], expected[-1])


def test_rnn_kernel_rejects_bad_input():
    x, h, Wi, Wh, b = _args(2, 3, 4, 5)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        k.rnn_fwd(x, h, Wi, Wh, b, "gelu")
    with pytest.raises(ValueError, match="W_ih must have shape"):
        k.rnn_fwd(x, h, Wi.T, Wh, b)
    with pytest.raises(TypeError, match="h0 must have dtype"):
        k.rnn_fwd(x, h.astype(np.float32), Wi, Wh, b)
    with pytest.raises(TypeError, match="x must be a numpy.ndarray"):
        k.rnn_fwd(x.tolist(), h, Wi, Wh, b)


def test_clip_grad_norm_scales_jointly():
    a = gdl.Tensor(np.zeros(2), requires_grad=True)
    b = gdl.Tensor(np.zeros(1), requires_grad=True)
    a.grad = gdl.Tensor(np.array([3.0, 0.0]))
    b.grad = gdl.Tensor(np.array([4.0]))
    assert clip_grad_norm_([a, b], 1.0) == pytest.approx(5.0)
    assert_allclose(np.concatenate([a.grad.data, b.grad.data]), [0.6, 0, 0.8], rtol=1e-5)
    assert clip_grad_norm_([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)   # under: unchanged


def test_batchify_windows_and_generation():
    vocab = text.Vocabulary("abcab")
    ids = vocab.encode("abcabcabcabc")
    streams = text.batchify(ids, 2)
    assert streams.shape == (6, 2)
    assert vocab.decode(streams[:, 0]) == "abcabc"
    pairs = list(text.windows(streams, 4))
    assert [p[0].shape for p in pairs] == [(4, 2), (1, 2)]
    assert (pairs[0][1] == streams[1:5]).all()
    assert text.bits_per_char(np.log(2)) == pytest.approx(1.0)
    assert text.perplexity(np.log(4.0)) == pytest.approx(4.0)

    def step(ids, state):                              # always predicts the next letter
        logits = np.full((1, 3), -10.0)
        logits[0, (int(ids[0, 0]) + 1) % 3] = 10.0
        return gdl.Tensor(logits), state
    assert text.generate(step, vocab, "a", 5, temperature=0) == "bcabc"
    sampled = text.generate(step, vocab, "a", 5, temperature=0.5,
                            rng=np.random.default_rng(0))
    assert sampled == "bcabc"
    with pytest.raises(ValueError, match="too short"):
        text.batchify(ids[:3], 2)
