"""The LSTM family: gradient checks, the fused kernels against the same LSTM built from simple
ops (outputs and every gradient), layers, and bad input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl._kernels import lstm as k
from gdl.nn.rnn import LSTM, LSTMCell
from gdl.ops import rnn as R
from gdl.testing import gradcheck
from subprocs import cpu_has, run_each

TOL = {np.float32: 1e-5, np.float64: 1e-10}


def _args(T, B, D, H, dtype=np.float64, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((T, B, D)).astype(dtype),
            rng.standard_normal((B, H)).astype(dtype),
            rng.standard_normal((B, H)).astype(dtype),
            (rng.standard_normal((4 * H, D)) * scale).astype(dtype),
            (rng.standard_normal((4 * H, H)) * scale).astype(dtype),
            (rng.standard_normal(4 * H) * scale).astype(dtype)]


def simple_lstm(x, h, c, W_ih, W_hh, b):
    """The same LSTM from gdl's simple ops (matmul, sigmoid, tanh, slicing), step by step."""
    H = h.shape[1]
    outputs = []
    for t in range(x.shape[0]):
        z = x[t].mm(W_ih.T) + h.mm(W_hh.T) + b
        i = z[:, :H].sigmoid()
        f = z[:, H:2 * H].sigmoid()
        g = z[:, 2 * H:3 * H].tanh()
        o = z[:, 3 * H:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        outputs.append(h)
    return gdl.stack(outputs), h, c


def test_lstm_cell_gradcheck():
    args = _args(1, 3, 4, 5)
    gradcheck(lambda x, h, c, Wi, Wh, b: gdl.stack(list(R.lstm_cell(x[0], h, c, Wi, Wh, b))),
              args)


def test_lstm_sequence_gradcheck_five_steps():
    args = _args(5, 2, 3, 4, seed=1)

    def f(x, h, c, Wi, Wh, b):
        y, h_n, c_n = R.lstm(x, h, c, Wi, Wh, b)
        return gdl.stack([(y * y).sum(axis=0), h_n, 2 * c_n])
    gradcheck(f, args)


@pytest.mark.parametrize("T, B, D, H", [(5, 3, 4, 6), (1, 1, 1, 1), (7, 1, 3, 5),
                                        (3, 5, 13, 7)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_lstm_equals_simple_ops(T, B, D, H, dtype):
    arrays = _args(T, B, D, H, dtype, seed=T * B + H)
    upstream = np.random.default_rng(9).standard_normal((T, B, H)).astype(dtype)
    up_c = np.random.default_rng(8).standard_normal((B, H)).astype(dtype)
    results = []
    for build in (R.lstm, simple_lstm):
        tensors = [gdl.Tensor(a.copy(), requires_grad=True) for a in arrays]
        y, h_n, c_n = build(*tensors)
        ((y * upstream).sum() + (c_n * up_c).sum() + h_n.sum()).backward()
        results.append([y.data, h_n.data, c_n.data] + [t.grad.data for t in tensors])
    names = ["y", "h_n", "c_n", "gx", "gh0", "gc0", "gW_ih", "gW_hh", "gb"]
    for name, fused, simple in zip(names, *results):
        assert fused.dtype == dtype, name
        assert_allclose(fused, simple, rtol=TOL[dtype], atol=TOL[dtype], err_msg=name)


def test_lstm_layer_batch_first_and_state():
    gdl.manual_seed(0)
    layer = LSTM(3, 4, batch_first=True).double()
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    y, (h, c) = layer(x)
    assert y.shape == (2, 5, 4) and h.shape == (1, 2, 4) and c.shape == (1, 2, 4)
    assert_allclose(y.data[:, -1], h.data[0])
    y2, _ = layer(x[:, 3:], (h, c))                    # carrying the state on
    y_all, _ = layer(np.concatenate([x, x[:, 3:]], axis=1))
    assert_allclose(y2.data, y_all.data[:, 5:], rtol=1e-12)


def test_two_layer_lstm_gradcheck():
    gdl.manual_seed(0)
    layer = LSTM(2, 3, num_layers=2).double()
    x = np.random.default_rng(0).standard_normal((4, 2, 2))
    gradcheck(lambda t: layer(t)[0], [x])
    y, (h, c) = layer(x)
    assert h.shape == (2, 2, 3)


def test_books_lstm_cell_interface():
    cell = LSTMCell(n_inputs=4, n_hidden=6, n_output=3)
    hidden = cell.init_hidden(batch_size=2)
    assert hidden[0].shape == (2, 6) and hidden[1].shape == (2, 6)
    output, (h, c) = cell(np.ones((2, 4), dtype=np.float32), hidden)
    assert output.shape == (2, 3) and h.shape == (2, 6)
    torch_style = LSTMCell(4, 6)
    h, c = torch_style(np.ones((2, 4), dtype=np.float32))
    assert h.shape == (2, 6) and len(list(torch_style.parameters())) == 3


def test_lstm_cell_learns_to_count_ones():
    gdl.manual_seed(0)
    cell = LSTMCell(n_inputs=1, n_hidden=8, n_output=1)
    opt = gdl.Adam(cell.parameters(), lr=0.05)
    rng = np.random.default_rng(0)
    for _ in range(200):
        bits = rng.integers(0, 2, (6, 16, 1)).astype(np.float32)
        hidden = cell.init_hidden(16)
        for t in range(6):
            output, hidden = cell(bits[t], hidden)
        loss = ((output - bits.sum(axis=0)) ** 2).mean()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_lstm_kernel_rejects_bad_input():
    x, h, c, Wi, Wh, b = _args(2, 3, 4, 5)
    with pytest.raises(TypeError, match="x must be float32 or float64"):
        k.lstm_fwd(x.astype(np.int64), h, c, Wi, Wh, b)
    with pytest.raises(ValueError, match="x must be 3-D"):
        k.lstm_fwd(x[0], h, c, Wi, Wh, b)
    with pytest.raises(ValueError, match="W_ih must have shape"):
        k.lstm_fwd(x, h, c, Wi[:, :3], Wh, b)
    with pytest.raises(ValueError, match="W_hh must be"):
        k.lstm_fwd(x, h, c, Wi, Wh[:7], b)
    with pytest.raises(TypeError, match="b must have dtype"):
        k.lstm_fwd(x, h, c, Wi, Wh, b.astype(np.float32))
    with pytest.raises(ValueError, match="h0 must have shape"):
        k.lstm_fwd(x, h[:2], c, Wi, Wh, b)
    with pytest.raises(ValueError, match="x must be"):
        k.lstm_fwd(x[:0], h, c, Wi, Wh, b)
    hs, cs, G = k.lstm_fwd(x, h, c, Wi, Wh, b)
    with pytest.raises(ValueError, match="gh must have shape"):
        k.lstm_bwd(x, Wi, Wh, G, hs, cs, hs)


def test_lstm_strided_input_matches_contiguous():
    x, h, c, Wi, Wh, b = _args(4, 3, 6, 5)
    wide = np.repeat(x, 2, axis=2)[:, :, ::2]
    assert not wide.flags.c_contiguous
    assert_allclose(k.lstm_fwd(wide, h, c, Wi, Wh, b)[0], k.lstm_fwd(x, h, c, Wi, Wh, b)[0])


# Note [lookup into LSTM]: an LSTM whose input is an embedding lookup from a small table
# projects the table instead of every token.
def _lookup_args(V, T, B, D, H, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x, h, c, Wi, Wh, b = _args(T, B, D, H, dtype, seed)
    return (rng.standard_normal((V, D)).astype(dtype), rng.integers(0, V, (T, B)),
            [h, c, Wi, Wh, b])


def test_lookup_lstm_gradcheck():
    E, ids, rest = _lookup_args(3, 4, 2, 3, 4)

    def f(E, h, c, Wi, Wh, b):
        y, h_n, c_n = R.lstm(gdl.ops.Embedding.apply(E, ids), h, c, Wi, Wh, b)
        return gdl.stack([(y * y).sum(axis=0), h_n, 2 * c_n])
    gradcheck(f, [E] + rest)
    tensors = [gdl.Tensor(a, requires_grad=True) for a in [E] + rest]
    y, _, _ = R.lstm(gdl.ops.Embedding.apply(tensors[0], ids), *tensors[1:])
    assert type(y._ctx) is R.LookupLSTM          # the check above went through the lookup


def _lookup_run(E, ids, rest, fuse, monkeypatch, use_x=True, frozen=()):
    """Outputs and every gradient of an embedding -> LSTM whose x is also used elsewhere,
    with the lookup path on or off; frozen names the inputs that need no gradient."""
    monkeypatch.setattr(R, "FUSE_LOOKUP", fuse)
    names = ["E", "h0", "c0", "W_ih", "W_hh", "b"]
    tensors = [gdl.Tensor(a.copy(), requires_grad=name not in frozen)
               for name, a in zip(names, [E] + rest)]
    x = gdl.ops.Embedding.apply(tensors[0], ids)
    y, h_n, c_n = R.lstm(x, *tensors[1:])
    path = type(y._ctx)                         # before backward frees the node
    upstream = np.random.default_rng(7).standard_normal(y.shape).astype(E.dtype)
    loss = (y * upstream).sum() + (c_n * c_n).sum() + h_n.sum()
    if use_x:
        loss = loss + (x * x).sum()
    loss.backward()
    found = {"y": y.data, "c_n": c_n.data}
    found.update({f"g{name}": t.grad.data for name, t in zip(names, tensors)
                  if name not in frozen})
    return path, found


@pytest.mark.parametrize("V, T, B, D, H", [(3, 4, 2, 3, 4), (1, 2, 1, 2, 3), (65, 25, 16, 24, 40),
                                           (10, 3, 7, 5, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lookup_lstm_equals_the_plain_lstm(V, T, B, D, H, dtype, monkeypatch):
    E, ids, rest = _lookup_args(V, T, B, D, H, dtype, seed=V + T)
    path, fused = _lookup_run(E, ids, rest, True, monkeypatch)
    plain_path, plain = _lookup_run(E, ids, rest, False, monkeypatch)
    assert path is R.LookupLSTM and plain_path is R.LSTM
    assert sorted(fused) == sorted(plain) == ["c_n", "gE", "gW_hh", "gW_ih", "gb", "gc0",
                                              "gh0", "y"]
    for name in plain:
        scale = max(1.0, float(np.abs(plain[name]).max()))
        assert fused[name].dtype == dtype, name
        assert_allclose(fused[name], plain[name], rtol=TOL[dtype],
                        atol=TOL[dtype] * scale, err_msg=name)


@pytest.mark.parametrize("frozen", [("W_ih",), ("h0", "c0", "b"), ("W_hh", "W_ih")])
def test_lookup_lstm_with_frozen_inputs(frozen, monkeypatch):
    E, ids, rest = _lookup_args(4, 5, 3, 3, 4)
    path, fused = _lookup_run(E, ids, rest, True, monkeypatch, use_x=False, frozen=frozen)
    _, plain = _lookup_run(E, ids, rest, False, monkeypatch, use_x=False, frozen=frozen)
    assert path is R.LookupLSTM and sorted(fused) == sorted(plain)
    for name in plain:
        assert_allclose(fused[name], plain[name], rtol=1e-10, atol=1e-10, err_msg=name)


def test_lookup_lstm_only_where_it_fits():
    E, ids, rest = _lookup_args(5, 4, 2, 3, 4)              # 2 V > T B = 8: the plain LSTM
    tensors = [gdl.Tensor(a, requires_grad=True) for a in [E] + rest]
    y, _, _ = R.lstm(gdl.ops.Embedding.apply(tensors[0], ids), *tensors[1:])
    assert type(y._ctx) is R.LSTM
    ids = np.arange(10, dtype=np.int32).reshape(5, 2) % 5   # 2 V <= T B from here on
    sparse = gdl.ops.Embedding.apply(tensors[0], ids, sparse=True)
    assert type(R.lstm(sparse, *tensors[1:])[0]._ctx) is R.LSTM
    kept = gdl.ops.Embedding.apply(tensors[0], ids)
    kept.retain_grad()                                      # x.grad must see the LSTM
    y, _, _ = R.lstm(kept, *tensors[1:])
    assert type(y._ctx) is R.LSTM
    y.sum().backward()
    assert kept.grad is not None and np.abs(kept.grad.data).max() > 0
    frozen = gdl.ops.Embedding.apply(gdl.Tensor(E), ids)   # no graph to fold
    assert type(R.lstm(frozen, *tensors[1:])[0]._ctx) is R.LSTM
    int_ids = gdl.ops.Embedding.apply(tensors[0], ids.astype(np.int64))
    assert type(R.lstm(int_ids, *tensors[1:])[0]._ctx) is R.LookupLSTM
    h, c, Wi, Wh, b = tensors[1:]
    with pytest.raises(ValueError, match="W_ih must have shape"):   # the plain LSTM's checks
        R.lstm(int_ids, h, c, Wi[:, :2], Wh, b)
    with pytest.raises(TypeError, match="W_ih must have dtype"):
        R.lstm(int_ids, h, c, Wi.float(), Wh, b)


@pytest.mark.parametrize("batch_first", [False, True])
def test_embedding_into_lstm_layer_takes_the_lookup(batch_first, monkeypatch):
    # the layers as a model uses them; batch_first swaps the lookup to time-major first
    ids = np.random.default_rng(0).integers(0, 6, (4, 5) if batch_first else (5, 4))
    results = []
    for fuse in (True, False):
        monkeypatch.setattr(R, "FUSE_LOOKUP", fuse)
        gdl.manual_seed(0)
        embed = gdl.nn.Embedding(6, 3, dtype=np.float64)
        layer = LSTM(3, 7, num_layers=2, batch_first=batch_first).double()
        x = embed(ids)
        y, (h, c) = layer(x)
        time_major = x.transpose(1, 0, 2) if batch_first else x     # as the layer sees it
        path = type(R.lstm(time_major, h[0], c[0], *layer._layer(0))[0]._ctx)
        assert path is (R.LookupLSTM if fuse else R.LSTM)
        ((y * y).sum() + c.sum()).backward()
        results.append([y.data, embed.weight.grad.data]
                       + [p.grad.data for p in layer.parameters()])
    for fused, plain in zip(*results):
        assert_allclose(fused, plain, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("T, B, D, H", [(3, 2, 4, 5), (4, 16, 9, 40), (2, 1, 3, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_projected_kernels_equal_the_lstm_kernels(T, B, D, H, dtype):
    x, h, c, Wi, Wh, b = _args(T, B, D, H, dtype, seed=T + B)
    gh = np.random.default_rng(3).standard_normal((T, B, H)).astype(dtype)
    gc = np.random.default_rng(4).standard_normal((B, H)).astype(dtype)
    hs, cs, G = k.lstm_fwd(x, h, c, Wi, Wh, b)
    Gp = np.ascontiguousarray((x.reshape(-1, D) @ Wi.T).reshape(T, B, 4 * H))
    hs_p, cs_p = k.lstm_fwd_projected(Gp, h, c, Wh, b)
    tol = dict(rtol=TOL[dtype], atol=TOL[dtype])
    for name, got, want in [("hs", hs_p, hs), ("cs", cs_p, cs), ("G", Gp, G)]:
        assert_allclose(got, want, err_msg=name, **tol)
    gx, gh0, gc0, gW_ih, gW_hh, gb = k.lstm_bwd(x, Wi, Wh, G, hs, cs, gh, gc)
    dG, gh0_p, gc0_p, gW_hh_p, gb_p = k.lstm_bwd_projected(Wh, G, hs, cs, gh, gc)
    tol = dict(rtol=10 * TOL[dtype], atol=10 * TOL[dtype])
    for name, got, want in [("gx", dG @ Wi, gx), ("gW_ih", dG.reshape(-1, 4 * H).T @
                                                  x.reshape(-1, D), gW_ih),
                            ("gh0", gh0_p, gh0), ("gc0", gc0_p, gc0), ("gW_hh", gW_hh_p, gW_hh),
                            ("gb", gb_p, gb)]:
        assert_allclose(got, want, err_msg=name, **tol)


def test_projected_kernels_reject_bad_input():
    x, h, c, Wi, Wh, b = _args(2, 3, 4, 5)
    G = np.zeros((2, 3, 20))
    with pytest.raises(ValueError, match="G must be a float64"):
        k.lstm_fwd_projected(np.zeros((2, 3, 16)), h, c, Wh, b)
    with pytest.raises(ValueError, match="G must be C-contiguous"):
        k.lstm_fwd_projected(np.zeros((2, 3, 40))[:, :, ::2], h, c, Wh, b)
    with pytest.raises(ValueError, match="G must be a float64"):
        k.lstm_fwd_projected(G.astype(np.float32), h, c, Wh, b)
    with pytest.raises(ValueError, match="G must be a float64"):
        k.lstm_fwd_projected(G[:0], h, c, Wh, b)
    with pytest.raises(ValueError, match="h0 must have shape"):
        k.lstm_fwd_projected(G, h[:2], c, Wh, b)
    hs, cs = k.lstm_fwd_projected(G, h, c, Wh, b)
    with pytest.raises(ValueError, match="dG must be a float64 buffer"):
        k.lstm_bwd_projected(Wh, G, hs, cs, hs[1:], dG=np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match="gh must have shape"):
        k.lstm_bwd_projected(Wh, G, hs, cs, hs)


# Note [small-batch GEMM]: on x86-64 with AVX-512 or AVX2, float32 sequences of up to 128 rows
# take the packed per-step kernel; GDL_SMALL_GEMM=0 makes them use the BLAS, and "avx2" the AVX2
# kernel on an AVX-512 CPU (Note [kernel levels]). All must agree, also when the kernel shares a
# large product (the last shape) among threads.
_BOTH_PATHS = """
import sys
import numpy as np
from gdl._kernels import lstm, rnn
rng = np.random.default_rng(0)
found = {}
for T, B, D, H in [(3, 1, 5, 7), (4, 13, 9, 37), (2, 16, 64, 33), (3, 9, 4, 40), (2, 129, 8, 16),
                   (2, 19, 8, 256), (3, 20, 8, 150), (2, 128, 8, 48)]:
    f = lambda *shape: (rng.standard_normal(shape) * 0.3).astype(np.float32)
    x, h0, c0, gh = f(T, B, D), f(B, H), f(B, H), f(T, B, H)
    W_ih, W_hh = f(H, D), f(H, H)
    hs = rnn.rnn_fwd(x, h0, W_ih, W_hh, f(H))
    W = (f(4 * H, D), f(4 * H, H))
    fwd = lstm.lstm_fwd(x, h0, c0, W[0], W[1], f(4 * H))
    arrays = list(fwd) + list(lstm.lstm_bwd(x, W[0], W[1], fwd[2], fwd[0], fwd[1], gh))
    arrays += [hs] + list(rnn.rnn_bwd(x, W_ih, W_hh, hs, gh))
    for i, a in enumerate(arrays):
        found[f"{T}_{B}_{D}_{H}_{i}"] = a
np.savez(sys.argv[1], **found)
"""


def test_small_batch_path_equals_the_blas_path(tmp_path):
    runs = run_each(_BOTH_PATHS, {flag: {"GDL_SMALL_GEMM": flag, "GDL_NUM_THREADS": "3"}
                                  for flag in ("1", "avx2", "0")}, tmp_path)
    assert len(runs["1"].files) == 8 * 15        # 8 shapes, 9 LSTM and 6 RNN arrays
    assert_paths_agree(runs["1"], runs["0"], cpu_has("avx2") and cpu_has("fma"))
    assert_paths_agree(runs["avx2"], runs["0"], cpu_has("avx2") and cpu_has("fma"))


def assert_paths_agree(packed, blas, kernel_ran):
    """The packed kernel's arrays equal the BLAS path's to float32 rounding, and where
    kernel_ran (the CPU runs that kernel) they really came from it: it rounds differently
    somewhere."""
    for name in blas.files:
        expected = blas[name]
        assert_allclose(packed[name], expected, rtol=1e-5,
                        atol=1e-5 * max(1.0, float(np.abs(expected).max())), err_msg=name)
    if kernel_ran:
        assert any(not np.array_equal(packed[name], blas[name]) for name in blas.files)
