"""``gdl bench``: the same training step timed in gdl, hand-written NumPy and PyTorch.

Every workload is one training step (forward, loss, backward, SGD update) on synthetic data
of the book's shapes, float32, run by each implementation in the same process with the same
thread count. The harness builds and warms up every implementation of a workload, then times
``repeats`` runs of each, interleaved (one run of each in turn, so that a slow spell of a
shared machine falls on all of them), of enough steps to last ``min_time`` seconds each, and
reports the median ms per step with its interquartile range
and min/max, samples (or tokens) per second, peak memory and the ratios gdl/NumPy and
gdl/torch (below 1: gdl is faster).

Peak memory is the growth of the process's resident set (``VmHWM - VmRSS`` from
/proc/self/status, the high-water mark reset through /proc/self/clear_refs before each
implementation is built), so it counts what numpy, torch and gdl allocate natively, which
tracemalloc does not see. It includes the model, the data and the step's buffers; memory a
previous implementation freed but the allocator kept (after ``malloc_trim``) is not counted
again. Without /proc it is the ``ru_maxrss`` growth, which is zero unless the process reaches
a new peak.

    python benchmarks/run.py --only W1 W2 --json results.json
    gdl bench --quick --only OP-add
"""
import argparse
import gc
import json
import math
import os
import platform
import subprocess
import sys
import time

import numpy as np

THREADS = 2
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "GDL_NUM_THREADS")
IMPLS = ("gdl", "numpy", "torch")
F32 = np.float32


class Unavailable(Exception):
    """An implementation cannot run here (a layer not built yet, torch not installed)."""


# ---- threads ---------------------------------------------------------------------------
def thread_env(threads, env=None):
    """A copy of ``env`` (default os.environ) with every BLAS/OpenMP thread variable set."""
    env = dict(os.environ if env is None else env)
    for name in THREAD_VARIABLES:
        env[name] = str(threads)
    return env


def _env_has_threads(threads):
    return all(os.environ.get(name) == str(threads) for name in THREAD_VARIABLES)


_limiter = None


def limit_threads(threads):
    """Hold numpy's BLAS (and any OpenMP runtime) to ``threads``; returns what was done."""
    global _limiter
    try:
        from threadpoolctl import threadpool_limits, threadpool_info
    except ImportError:
        return {"method": "environment", "pools": None}
    _limiter = threadpool_limits(limits=threads)
    pools = [{"api": p.get("internal_api"), "threads": p.get("num_threads"),
              "version": p.get("version")} for p in threadpool_info()]
    return {"method": "threadpoolctl", "pools": pools}


def _torch(threads):
    """The torch module set to ``threads`` threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:                        # only allowed before torch's first parallel work
        pass
    return torch


# ---- memory ----------------------------------------------------------------------------
def _status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _maxrss_kib():
    import resource
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage // 1024 if sys.platform == "darwin" else usage   # bytes on macOS


def _trim():
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)   # give freed heap pages back to the OS
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak resident-set growth (MiB) between ``start()`` and ``stop()``."""

    def start(self):
        _trim()
        self.method = "maxrss"
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")                    # 5: reset VmHWM to the current RSS
            if _status_kib("VmHWM") is not None:
                self.method = "vmhwm"
        except OSError:
            pass
        self.base = _status_kib("VmRSS") if self.method == "vmhwm" else _maxrss_kib()

    def stop(self):
        peak = _status_kib("VmHWM") if self.method == "vmhwm" else _maxrss_kib()
        return max(peak - self.base, 0) / 1024


# ---- timing ----------------------------------------------------------------------------
def _quantile(sorted_values, q):
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def warm_up(step, min_time, warmup_time):
    """Run ``step`` at least twice, then until ``warmup_time`` has passed; the steps per
    repeat that make one repeat last ``min_time``, sized from the last warm step."""
    start = time.perf_counter()
    step()
    while True:
        before = time.perf_counter()
        step()
        one = max(time.perf_counter() - before, 1e-7)
        if time.perf_counter() - start >= warmup_time:
            break
    return max(1, math.ceil(min_time / one))


def time_repeat(step, per_repeat):
    """Seconds per step over one repeat of ``per_repeat`` steps."""
    before = time.perf_counter()
    for _ in range(per_repeat):
        step()
    return (time.perf_counter() - before) / per_repeat


def sgemm_rate(n=2048, repeats=5):
    """GFLOP/s of numpy's float32 matmul of two n x n matrices (median of repeats)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=F32)
    b = rng.standard_normal((n, n), dtype=F32)
    out = np.empty((n, n), F32)
    np.matmul(a, b, out=out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    seconds = sorted(times)[len(times) // 2]
    return {"n": n, "ms": seconds * 1e3, "gflops": 2 * n**3 / seconds / 1e9}


# ---- shared pieces of the NumPy implementations (the book's helpers) -------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _onehot(labels, classes):
    out = np.zeros((len(labels), classes), F32)
    out[np.arange(len(labels)), labels] = 1
    return out


def _weights(rng, *shape, scale=None):
    scale = np.sqrt(2.0 / shape[0]) if scale is None else scale
    return (rng.standard_normal(shape) * scale).astype(F32)


def _sgd(params, grads, lr):
    for w, g in zip(params, grads):
        w -= lr * g


def _torch_step(torch, model, loss_fn, x, y, lr):
    """One PyTorch step; model(x) and loss_fn(out, y) are the workload's."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _gdl_step(model, loss_fn, x, y, lr):
    import gdl
    opt = gdl.optim.SGD(model.parameters(), lr=lr)  # step() also clears the gradients

    def step():
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _require(module, *names):
    """gdl.nn.<name> for each name (found in gdl.nn or its submodules conv and rnn), or
    Unavailable saying which layer this gdl lacks."""
    import importlib
    found = []
    for name in names:
        layer = getattr(module, name, None)
        for submodule in ("conv", "rnn"):
            if layer is None:
                try:
                    layer = getattr(importlib.import_module(f"{module.__name__}.{submodule}"),
                                    name, None)
                except ImportError:
                    pass
        if layer is None:
            raise Unavailable(f"{module.__name__}.{name} not available yet")
        found.append(layer)
    return found


# ---- W1, W2, W6a: multilayer perceptrons -----------------------------------------------
def _mlp_data(rng, batch, classes=10):
    x = rng.random((batch, 784), dtype=F32)
    labels = rng.integers(0, classes, batch)
    return x, labels


def w1_numpy(rng):
    """Chapter 8: relu hidden layer, dropout 0.5, mean squared error."""
    x, labels = _mlp_data(rng, 100)
    y = _onehot(labels, 10)
    w01 = _weights(rng, 784, 100, scale=0.1)
    w12 = _weights(rng, 100, 10, scale=0.1)
    alpha = 0.005

    def step():
        layer_1 = np.maximum(x.dot(w01), 0)
        dropout_mask = (rng.random(layer_1.shape, dtype=F32) < 0.5).astype(F32)
        layer_1 *= dropout_mask * 2
        layer_2 = layer_1.dot(w12)
        layer_2_delta = (layer_2 - y) / len(x)
        layer_1_delta = layer_2_delta.dot(w12.T) * (layer_1 > 0)
        layer_1_delta *= dropout_mask
        _sgd([w12, w01], [layer_1.T.dot(layer_2_delta), x.T.dot(layer_1_delta)], alpha)
    return step


def w1_gdl(rng):
    from gdl import Tensor, nn
    x, labels = _mlp_data(rng, 100)
    model = nn.Sequential(nn.Linear(784, 100, bias=False), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(100, 10, bias=False))
    return _gdl_step(model, nn.MSELoss(), Tensor(x), Tensor(_onehot(labels, 10)), 0.005)


def w1_torch(torch, rng):
    nn = torch.nn
    x, labels = _mlp_data(rng, 100)
    model = nn.Sequential(nn.Linear(784, 100, bias=False), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(100, 10, bias=False))
    y = torch.from_numpy(_onehot(labels, 10))
    return _torch_step(torch, model, nn.MSELoss(), torch.from_numpy(x), y, 0.005)


def w2_numpy(rng):
    """Chapter 9: tanh hidden layer, softmax output, cross-entropy's delta."""
    x, labels = _mlp_data(rng, 100)
    y = _onehot(labels, 10)
    w01 = _weights(rng, 784, 100, scale=0.02)
    w12 = _weights(rng, 100, 10, scale=0.2)
    alpha = 2.0

    def step():
        layer_1 = np.tanh(x.dot(w01))
        layer_2 = _softmax(layer_1.dot(w12))
        layer_2_delta = (layer_2 - y) / len(x)
        layer_1_delta = layer_2_delta.dot(w12.T) * (1 - layer_1 ** 2)
        _sgd([w12, w01], [layer_1.T.dot(layer_2_delta), x.T.dot(layer_1_delta)], alpha)
    return step


def w2_gdl(rng):
    from gdl import Tensor, nn
    x, labels = _mlp_data(rng, 100)
    model = nn.Sequential(nn.Linear(784, 100, bias=False), nn.Tanh(),
                          nn.Linear(100, 10, bias=False))
    return _gdl_step(model, nn.CrossEntropyLoss(), Tensor(x), labels, 2.0)


def w2_torch(torch, rng):
    nn = torch.nn
    x, labels = _mlp_data(rng, 100)
    model = nn.Sequential(nn.Linear(784, 100, bias=False), nn.Tanh(),
                          nn.Linear(100, 10, bias=False))
    return _torch_step(torch, model, nn.CrossEntropyLoss(), torch.from_numpy(x),
                       torch.from_numpy(labels), 2.0)


def w6a_numpy(rng):
    """784-512-512-10 with biases, relu, softmax cross-entropy."""
    x, labels = _mlp_data(rng, 128)
    y = _onehot(labels, 10)
    sizes = [784, 512, 512, 10]
    Ws = [_weights(rng, a, b) for a, b in zip(sizes, sizes[1:])]
    bs = [np.zeros(b, F32) for b in sizes[1:]]

    def step():
        layers = [x]
        for W, b in zip(Ws[:-1], bs[:-1]):
            layers.append(np.maximum(layers[-1].dot(W) + b, 0))
        delta = (_softmax(layers[-1].dot(Ws[-1]) + bs[-1]) - y) / len(x)
        gWs, gbs = [], []
        for i in range(len(Ws) - 1, -1, -1):
            gWs.append(layers[i].T.dot(delta))
            gbs.append(delta.sum(axis=0))
            if i:
                delta = delta.dot(Ws[i].T) * (layers[i] > 0)
        _sgd(Ws[::-1] + bs[::-1], gWs + gbs, 0.01)
    return step


def w6a_gdl(rng):
    from gdl import Tensor, nn
    x, labels = _mlp_data(rng, 128)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    return _gdl_step(model, nn.CrossEntropyLoss(), Tensor(x), labels, 0.01)


def w6a_torch(torch, rng):
    nn = torch.nn
    x, labels = _mlp_data(rng, 128)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    return _torch_step(torch, model, nn.CrossEntropyLoss(), torch.from_numpy(x),
                       torch.from_numpy(labels), 0.01)


# ---- W3, W6b: convolutional networks ---------------------------------------------------
def _images(rng, batch, size):
    x = rng.random((batch, 1, size, size), dtype=F32)
    return x, rng.integers(0, 10, batch)


def w3_numpy(rng):
    """Chapter 10, as the book writes it: 625 image sections cut in a Python loop, one GEMM
    with the 16 kernels, tanh, dropout, dense 10000 -> 10, softmax."""
    x, labels = _images(rng, 128, 28)
    layer_0 = x[:, 0]
    y = _onehot(labels, 10)
    kernels = (0.02 * rng.random((9, 16)) - 0.01).astype(F32)
    w12 = (0.2 * rng.random((10000, 10)) - 0.1).astype(F32)
    alpha = 2.0

    def step():
        sects = []
        for row_start in range(layer_0.shape[1] - 3):
            for col_start in range(layer_0.shape[2] - 3):
                sect = layer_0[:, row_start:row_start + 3, col_start:col_start + 3]
                sects.append(sect.reshape(-1, 1, 3, 3))
        expanded_input = np.concatenate(sects, axis=1)
        es = expanded_input.shape
        flattened_input = expanded_input.reshape(es[0] * es[1], -1)
        kernel_output = flattened_input.dot(kernels)
        layer_1 = np.tanh(kernel_output.reshape(es[0], -1))
        dropout_mask = (rng.random(layer_1.shape, dtype=F32) < 0.5).astype(F32)
        layer_1 *= dropout_mask * 2
        layer_2 = _softmax(layer_1.dot(w12))
        layer_2_delta = (layer_2 - y) / len(x)
        layer_1_delta = layer_2_delta.dot(w12.T) * (1 - layer_1 ** 2) * dropout_mask
        k_update = flattened_input.T.dot(layer_1_delta.reshape(kernel_output.shape))
        _sgd([w12, kernels], [layer_1.T.dot(layer_2_delta), k_update], alpha)
    return step


def w3_gdl(rng):
    from gdl import Tensor, nn
    (Conv2d,) = _require(nn, "Conv2d")
    x, labels = _images(rng, 128, 27)            # 27 x 27: the book's 25 x 25 positions
    model = nn.Sequential(Conv2d(1, 16, 3, bias=False), nn.Tanh(), nn.Dropout(0.5),
                          nn.Flatten(), nn.Linear(10000, 10, bias=False))
    return _gdl_step(model, nn.CrossEntropyLoss(), Tensor(x), labels, 2.0)


def w3_torch(torch, rng):
    nn = torch.nn
    x, labels = _images(rng, 128, 27)
    model = nn.Sequential(nn.Conv2d(1, 16, 3, bias=False), nn.Tanh(), nn.Dropout(0.5),
                          nn.Flatten(), nn.Linear(10000, 10, bias=False))
    return _torch_step(torch, model, nn.CrossEntropyLoss(), torch.from_numpy(x),
                       torch.from_numpy(labels), 2.0)


def _im2col(x):
    """(N, H, W, C) -> (N * Ho * Wo, 9 * C) columns of every 3 x 3 window (channels last)."""
    n, h, w, c = x.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(1, 2))
    windows = windows.transpose(0, 1, 2, 4, 5, 3)          # (N, Ho, Wo, 3, 3, C)
    return windows.reshape(n * (h - 2) * (w - 2), 9 * c)


def _col2im(gcols, shape):
    n, h, w, c = shape
    gcols = gcols.reshape(n, h - 2, w - 2, 3, 3, c)
    gx = np.zeros(shape, F32)
    for i in range(3):
        for j in range(3):
            gx[:, i:i + h - 2, j:j + w - 2] += gcols[:, :, :, i, j]
    return gx


def _pool_fwd(y):
    """2 x 2 max pooling of (N, H, W, C), odd edges dropped; returns the output and a mask."""
    n, h, w, c = y.shape
    y = y[:, :h // 2 * 2, :w // 2 * 2]
    blocks = y.reshape(n, h // 2, 2, w // 2, 2, c)
    pooled = blocks.max(axis=(2, 4))
    mask = blocks == pooled[:, :, None, :, None]
    return pooled, mask


def _pool_bwd(gp, mask, shape):
    gx = np.zeros(shape, F32)
    n, h, w, c = shape
    g = (mask * gp[:, :, None, :, None]).reshape(n, h // 2 * 2, w // 2 * 2, c)
    gx[:, :h // 2 * 2, :w // 2 * 2] = g
    return gx


def w6b_numpy(rng):
    """conv 1->32 3x3, relu, pool 2, conv 32->64 3x3, relu, pool 2, dense 1600 -> 10; im2col
    through a strided window view, channels last."""
    x, labels = _images(rng, 64, 28)
    x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    y = _onehot(labels, 10)
    W1, b1 = _weights(rng, 9, 32), np.zeros(32, F32)
    W2, b2 = _weights(rng, 9 * 32, 64), np.zeros(64, F32)
    W3, b3 = _weights(rng, 1600, 10), np.zeros(10, F32)
    n = len(x)

    def step():
        cols1 = _im2col(x)
        a1 = np.maximum(cols1.dot(W1) + b1, 0).reshape(n, 26, 26, 32)
        p1, m1 = _pool_fwd(a1)
        cols2 = _im2col(p1)
        a2 = np.maximum(cols2.dot(W2) + b2, 0).reshape(n, 11, 11, 64)
        p2, m2 = _pool_fwd(a2)
        flat = p2.reshape(n, 1600)
        delta = (_softmax(flat.dot(W3) + b3) - y) / n
        gW3, gb3 = flat.T.dot(delta), delta.sum(axis=0)
        ga2 = _pool_bwd(delta.dot(W3.T).reshape(p2.shape), m2, a2.shape) * (a2 > 0)
        ga2 = ga2.reshape(-1, 64)
        gW2, gb2 = cols2.T.dot(ga2), ga2.sum(axis=0)
        gp1 = _col2im(ga2.dot(W2.T), p1.shape)
        ga1 = (_pool_bwd(gp1, m1, a1.shape) * (a1 > 0)).reshape(-1, 32)
        gW1, gb1 = cols1.T.dot(ga1), ga1.sum(axis=0)
        _sgd([W1, b1, W2, b2, W3, b3], [gW1, gb1, gW2, gb2, gW3, gb3], 0.01)
    return step


def w6b_gdl(rng):
    from gdl import Tensor, nn
    Conv2d, MaxPool2d = _require(nn, "Conv2d", "MaxPool2d")
    x, labels = _images(rng, 64, 28)
    model = nn.Sequential(Conv2d(1, 32, 3), nn.ReLU(), MaxPool2d(2), Conv2d(32, 64, 3),
                          nn.ReLU(), MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    return _gdl_step(model, nn.CrossEntropyLoss(), Tensor(x), labels, 0.01)


def w6b_torch(torch, rng):
    nn = torch.nn
    x, labels = _images(rng, 64, 28)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    return _torch_step(torch, model, nn.CrossEntropyLoss(), torch.from_numpy(x),
                       torch.from_numpy(labels), 0.01)


# ---- W4: chapter 11's bag of words -----------------------------------------------------
VOCAB_IMDB = 74_000


def _review(rng):
    ids = rng.choice(VOCAB_IMDB, 200, replace=False)    # the book's set of a review's words
    return ids, np.array([[1.0]], F32)


def w4_numpy(rng):
    """Chapter 11: hidden = sigmoid(sum of the review's rows), sigmoid output, one review."""
    ids, target = _review(rng)
    w01 = (0.2 * rng.random((VOCAB_IMDB, 100)) - 0.1).astype(F32)
    w12 = (0.2 * rng.random((100, 1)) - 0.1).astype(F32)
    alpha = 0.01

    def step():
        layer_1 = _sigmoid(np.sum(w01[ids], axis=0))
        layer_2 = _sigmoid(layer_1.dot(w12))
        layer_2_delta = layer_2 - target[0]
        layer_1_delta = layer_2_delta.dot(w12.T) * layer_1 * (1 - layer_1)
        w01[ids] -= layer_1_delta * alpha          # only the review's rows: ids are distinct
        _sgd([w12], [np.outer(layer_1, layer_2_delta)], alpha)
    return step


class _BagOfWords:
    """EmbeddingBag -> sigmoid -> Linear(100, 1) -> sigmoid, for gdl and torch alike."""

    def __init__(self, nn, sparse):
        super().__init__()
        if sparse is None:                      # gdl: sum is the only mode
            self.bag = nn.EmbeddingBag(VOCAB_IMDB, 100, sparse=True)
        else:
            self.bag = nn.EmbeddingBag(VOCAB_IMDB, 100, mode="sum", sparse=sparse)
        self.out = nn.Linear(100, 1, bias=False)

    def forward(self, ids):
        return self.out(self.bag(ids).sigmoid()).sigmoid()


def w4_gdl(rng):
    from gdl import Tensor, nn

    class BagOfWords(_BagOfWords, nn.Module):
        pass
    ids, target = _review(rng)
    model = BagOfWords(nn, None)
    return _gdl_step(model, nn.BCELoss(), ids[None, :], Tensor(target), 0.01)


def w4_torch(torch, rng):
    nn = torch.nn

    class BagOfWords(_BagOfWords, nn.Module):
        pass
    ids, target = _review(rng)
    model = BagOfWords(nn, sparse=True)         # SGD touches only the 200 rows, as the book
    return _torch_step(torch, model, nn.BCELoss(), torch.from_numpy(ids[None, :]),
                       torch.from_numpy(target), 0.01)


# ---- W5, W6c: character LSTMs ----------------------------------------------------------
CHARS = 65


def _text(rng, batch, bptt):
    """Time-major character ids (bptt, batch) and the next character of each, flattened."""
    ids = rng.integers(0, CHARS, (bptt, batch))
    return ids, rng.integers(0, CHARS, bptt * batch)


def _lstm_numpy(rng, batch, bptt, embed, hidden):
    """Embedding, LSTM (gates i, f, g, o from one GEMM on [x, h]), dense to the 65 characters
    at every step, softmax cross-entropy; backpropagation through time by hand."""
    ids, targets = _text(rng, batch, bptt)
    y = _onehot(targets, CHARS)
    E = (rng.standard_normal((CHARS, embed)) * 0.1).astype(F32)
    Wx = _weights(rng, embed, 4 * hidden, scale=1 / np.sqrt(hidden))
    Wh = _weights(rng, hidden, 4 * hidden, scale=1 / np.sqrt(hidden))
    b = np.zeros(4 * hidden, F32)
    Wy, by = _weights(rng, hidden, CHARS), np.zeros(CHARS, F32)
    H = hidden

    def step():
        x = E[ids]                                          # (T, B, embed)
        zx = x.reshape(-1, embed).dot(Wx).reshape(bptt, batch, 4 * H) + b
        h = np.zeros((batch, H), F32)
        c = np.zeros((batch, H), F32)
        hs, cache = [], []
        for t in range(bptt):
            z = zx[t] + h.dot(Wh)
            i, f, o = _sigmoid(z[:, :H]), _sigmoid(z[:, H:2 * H]), _sigmoid(z[:, 3 * H:])
            g = np.tanh(z[:, 2 * H:3 * H])
            c_prev, h_prev = c, h
            c = f * c_prev + i * g
            tanh_c = np.tanh(c)
            h = o * tanh_c
            hs.append(h)
            cache.append((i, f, g, o, c_prev, h_prev, tanh_c))
        h_all = np.stack(hs).reshape(-1, H)                 # (T * B, H), rows like targets
        delta = (_softmax(h_all.dot(Wy) + by) - y) / len(y)
        gWy, gby = h_all.T.dot(delta), delta.sum(axis=0)
        gh_all = delta.dot(Wy.T).reshape(bptt, batch, H)
        gz = np.empty((bptt, batch, 4 * H), F32)
        gh = np.zeros((batch, H), F32)
        gc = np.zeros((batch, H), F32)
        for t in range(bptt - 1, -1, -1):
            i, f, g, o, c_prev, h_prev, tanh_c = cache[t]
            gh = gh + gh_all[t]
            gc = gc + gh * o * (1 - tanh_c ** 2)
            gz[t, :, :H] = gc * g * i * (1 - i)
            gz[t, :, H:2 * H] = gc * c_prev * f * (1 - f)
            gz[t, :, 2 * H:3 * H] = gc * i * (1 - g ** 2)
            gz[t, :, 3 * H:] = gh * tanh_c * o * (1 - o)
            gc = gc * f
            gh = gz[t].dot(Wh.T)
        h_prev_all = np.stack([entry[5] for entry in cache]).reshape(-1, H)
        gz2 = gz.reshape(-1, 4 * H)
        gWh, gWx, gb = h_prev_all.T.dot(gz2), x.reshape(-1, embed).T.dot(gz2), gz2.sum(axis=0)
        gE = np.zeros_like(E)
        np.add.at(gE, ids.reshape(-1), gz2.dot(Wx.T))
        _sgd([E, Wx, Wh, b, Wy, by], [gE, gWx, gWh, gb, gWy, gby], 0.05)
    return step


class _CharModel:
    """Embedding -> LSTM -> Linear to the characters, for gdl and torch; ids are time-major
    (bptt, batch), the LSTM's default layout."""

    def __init__(self, nn, lstm, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(CHARS, embed)
        self.lstm = lstm(embed, hidden)
        self.out = nn.Linear(hidden, CHARS)

    def forward(self, ids):
        output, _ = self.lstm(self.embed(ids))
        return self.out(output.reshape(-1, output.shape[-1]))


def _lstm_gdl(rng, batch, bptt, embed, hidden):
    from gdl import nn
    (LSTM,) = _require(nn, "LSTM")

    class CharModel(_CharModel, nn.Module):
        pass
    ids, targets = _text(rng, batch, bptt)
    model = CharModel(nn, LSTM, embed, hidden)
    return _gdl_step(model, nn.CrossEntropyLoss(), ids, targets, 0.05)


def _lstm_torch(torch, rng, batch, bptt, embed, hidden):
    nn = torch.nn

    class CharModel(_CharModel, nn.Module):
        pass
    ids, targets = _text(rng, batch, bptt)
    model = CharModel(nn, nn.LSTM, embed, hidden)
    return _torch_step(torch, model, nn.CrossEntropyLoss(), torch.from_numpy(ids),
                       torch.from_numpy(targets), 0.05)


_LOOKUP_NOTE = ("gdl projects the 65-row embedding table instead of every token (Note [lookup "
                "into LSTM] in gdl/ops/rnn.py): fewer FLOPs than %sgemm counts, which are the "
                "model's as numpy and torch compute it")


def _lstm_flops(batch, bptt, embed, hidden):
    forward = 2 * batch * bptt * ((embed + hidden) * 4 * hidden + hidden * CHARS)
    return 3 * forward


# ---- per-op overhead -------------------------------------------------------------------
def _op_data(rng, shape):
    return (rng.standard_normal(shape, dtype=F32), rng.standard_normal(shape, dtype=F32),
            np.ones(shape, F32))


def _op_numpy(rng, shape, op):
    a, b, g = _op_data(rng, shape)

    def step():
        op(a, b)
        if op is np.add:
            return g, g
        return g.dot(b.T), a.T.dot(g)
    return step


def _op_gdl(rng, shape, op):
    import gdl
    a, b, g = _op_data(rng, shape)
    a = gdl.Tensor(a, requires_grad=True)
    b = gdl.Tensor(b, requires_grad=True)

    def step():
        op(a, b).backward(g)
        a.grad = None
        b.grad = None
    return step


def _op_torch(torch, rng, shape, op):
    a, b, g = (torch.from_numpy(v) for v in _op_data(rng, shape))
    a.requires_grad_(True)
    b.requires_grad_(True)

    def step():
        op(a, b).backward(g)
        a.grad = None
        b.grad = None
    return step


def _add(a, b):
    return a + b


def _matmul(a, b):
    return a @ b


# ---- the workload table ----------------------------------------------------------------
class Workload:
    """A name, what one step processes, and one builder per implementation.

    A builder takes a ``numpy.random.Generator`` (and torch first, for torch) and returns a
    ``step()`` closure that runs one full training step on data it made once.
    """

    def __init__(self, name, title, unit, items, gdl, numpy, torch, flops=None, notes=""):
        self.name = name
        self.notes = notes
        self.title = title
        self.unit = unit
        self.items = items
        self.builders = {"gdl": gdl, "numpy": numpy, "torch": torch}
        self.flops = flops


def _mlp_flops(batch, sizes):
    return 3 * 2 * batch * sum(a * b for a, b in zip(sizes, sizes[1:]))


def _partial(fn, *bound):
    """fn with its trailing arguments (the shapes) bound: builder(rng) -> fn(rng, *bound)."""
    def builder(*args):
        return fn(*args, *bound)
    return builder


WORKLOADS = [
    Workload("OP-add", "tiny a + b (4 floats), forward + backward", "ops", 1,
             _partial(_op_gdl, (4,), _add), _partial(_op_numpy, (4,), np.add),
             _partial(_op_torch, (4,), _add),
             notes="numpy: the add and handing g on; gdl and torch: c = a + b, c.backward(g)"),
    Workload("OP-matmul", "100x100 matmul, forward + backward", "ops", 1,
             _partial(_op_gdl, (100, 100), _matmul), _partial(_op_numpy, (100, 100), np.matmul),
             _partial(_op_torch, (100, 100), _matmul), flops=3 * 2 * 100**3),
    Workload("W1", "ch8 MLP 784-100-10 relu dropout, batch 100", "samples", 100,
             w1_gdl, w1_numpy, w1_torch, flops=_mlp_flops(100, [784, 100, 10])),
    Workload("W2", "ch9 MLP 784-100-10 tanh softmax-CE, batch 100", "samples", 100,
             w2_gdl, w2_numpy, w2_torch, flops=_mlp_flops(100, [784, 100, 10])),
    Workload("W3", "ch10 CNN 16x3x3 over 25x25, tanh, dropout, 10000-10, batch 128", "samples",
             128, w3_gdl, w3_numpy, w3_torch,
             flops=3 * 2 * 128 * (625 * 9 * 16 + 10000 * 10),
             notes="numpy cuts the 625 sections in a Python loop as the book does; gdl and "
                   "torch convolve a 27x27 crop, which has exactly the book's 25x25 positions"),
    Workload("W4", "ch11 EmbeddingBag 74000x100 (200 words)-100-1 sigmoid, batch 1",
             "samples", 1, w4_gdl, w4_numpy, w4_torch,
             notes="200 distinct word ids; numpy updates only those rows (the book); torch "
                   "and gdl use EmbeddingBag(sparse=True)"),
    Workload("W5", "ch14 char LSTM emb 512 hidden 512, batch 16, bptt 25", "tokens", 16 * 25,
             _partial(_lstm_gdl, 16, 25, 512, 512), _partial(_lstm_numpy, 16, 25, 512, 512),
             _partial(_lstm_torch, 16, 25, 512, 512), flops=_lstm_flops(16, 25, 512, 512),
             notes=_LOOKUP_NOTE),
    Workload("W6a", "MLP 784-512-512-10 relu, batch 128", "samples", 128,
             w6a_gdl, w6a_numpy, w6a_torch, flops=_mlp_flops(128, [784, 512, 512, 10])),
    Workload("W6b", "conv32-pool-conv64-pool-1600-10, batch 64", "samples", 64,
             w6b_gdl, w6b_numpy, w6b_torch,
             flops=3 * 2 * 64 * (676 * 9 * 32 + 121 * 288 * 64 + 1600 * 10)),
    Workload("W6c", "char LSTM emb 128 hidden 512, batch 64, bptt 64", "tokens", 64 * 64,
             _partial(_lstm_gdl, 64, 64, 128, 512), _partial(_lstm_numpy, 64, 64, 128, 512),
             _partial(_lstm_torch, 64, 64, 128, 512), flops=_lstm_flops(64, 64, 128, 512),
             notes=_LOOKUP_NOTE),
]
BY_NAME = {w.name: w for w in WORKLOADS}


# ---- running ---------------------------------------------------------------------------
# Between two implementations' repeats: long enough for the threads a step leaves spinning
# to sleep (torch's libgomp workers about 10 ms, gdl's split-product helpers 1 ms: Note
# [settle between contestants] in benchmarks/_threads.py), so that they take no core from the
# next implementation's repeat.
PAUSE = 0.05


def _prepare(workload, impl, torch, settings, seed=0):
    """Build ``impl``'s step for ``workload`` and warm it up, measuring the peak memory of
    both: (step, steps per repeat, peak MiB, memory method), or a dict with the reason it
    cannot run."""
    builder = workload.builders[impl]
    if impl == "torch" and torch is None:
        return {"status": "unavailable", "reason": "torch is not installed"}
    memory = PeakMemory()
    memory.start()
    rng = np.random.default_rng(seed)
    try:
        if impl == "gdl":
            import gdl
            gdl.manual_seed(seed)
        if impl == "torch":
            torch.manual_seed(seed)
            step = builder(torch, rng)
        else:
            step = builder(rng)
        per_repeat = warm_up(step, settings["min_time"], settings["warmup_time"])
    except Unavailable as reason:
        return {"status": "unavailable", "reason": str(reason)}
    except ImportError as error:
        return {"status": "unavailable", "reason": f"import failed: {error}"}
    except Exception as error:                  # one broken implementation must not end the run
        return {"status": "error", "reason": f"{type(error).__name__}: {error}"}
    return step, per_repeat, round(memory.stop(), 1), memory.method


def _summary(workload, times, per_repeat, peak, method):
    in_order, times = list(times), sorted(times)
    median = _quantile(times, 0.5)
    result = {
        "status": "ok",
        "ms_median": median * 1e3,
        "ms_q1": _quantile(times, 0.25) * 1e3,
        "ms_q3": _quantile(times, 0.75) * 1e3,
        "ms_min": times[0] * 1e3,
        "ms_max": times[-1] * 1e3,
        "ms_repeats": [t * 1e3 for t in in_order],   # in the order of the rounds
        "repeats": len(times),
        "steps_per_repeat": per_repeat,
        "per_second": workload.items / median,
        "peak_rss_mib": peak,
        "memory_method": method,
    }
    if workload.flops:
        result["gflops"] = workload.flops / median / 1e9
    return result


def run_workload(workload, impls, torch, settings, seed=0):
    """Results per implementation for one workload. All of them are built and warmed up
    first, then their repeats are interleaved (repeat r of each in turn, the order rotated
    every repeat, a short pause between): a slow spell of a shared machine falls on every
    implementation alike instead of on whichever ran during it."""
    results, prepared = {}, {}
    for impl in IMPLS:
        if impl not in impls:
            results[impl] = {"status": "skipped", "reason": "not in --impls"}
            continue
        ready = _prepare(workload, impl, torch, settings, seed)
        if isinstance(ready, dict):
            results[impl] = ready
        else:
            prepared[impl] = ready
    times = {impl: [] for impl in prepared}
    for r in range(settings["repeats"]):
        order = list(times)
        shift = r % max(len(order), 1)
        for impl in order[shift:] + order[:shift]:
            time.sleep(PAUSE)
            try:
                times[impl].append(time_repeat(prepared[impl][0], prepared[impl][1]))
            except Exception as error:          # a step that fails later: drop it, go on
                results[impl] = {"status": "error", "reason": f"{type(error).__name__}: {error}"}
                del times[impl]
    for impl, measured in times.items():
        results[impl] = _summary(workload, measured, *prepared[impl][1:])
    prepared.clear()
    return {impl: results[impl] for impl in IMPLS}


# Note [paired ratios]: a shared machine has slow spells of a second or more, and the
# interleaved rounds put one repeat of each implementation inside the same spell; so a
# workload's ratio is the median of the rounds' own ratios, which divides each spell out,
# rather than the ratio of two medians, which can pair a quiet repeat with a slow one. Over
# four runs of W1, W2, W4, W5, W6a (2026-12-03) the two agreed to within 0.1 but for W4
# against NumPy (paired 0.69-0.91, medians 0.76-0.97) and W6a (0.76-0.83, 0.73-0.96); the
# JSON keeps both.
def _ratio(results, a, b):
    """a's time over b's, the median over the rounds of a's repeat over b's repeat of the same
    round (Note [paired ratios]); None unless both ran."""
    if results[a]["status"] != "ok" or results[b]["status"] != "ok":
        return None
    ta, tb = results[a]["ms_repeats"], results[b]["ms_repeats"]
    if len(ta) != len(tb):                      # not interleaved round by round
        return _ratio_of_medians(results, a, b)
    return _quantile(sorted(x / y for x, y in zip(ta, tb)), 0.5)


def _ratio_of_medians(results, a, b):
    if results[a]["status"] == "ok" and results[b]["status"] == "ok":
        return results[a]["ms_median"] / results[b]["ms_median"]
    return None


def machine_info(torch, threads, pools):
    from gdl.info import blas_info
    import gdl
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "gdl": gdl.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "threads": threads,
        "thread_env": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "thread_limit": pools,
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def run(names=None, impls=IMPLS, repeats=7, quick=False, threads=THREADS, log=None):
    """Run the named workloads (all by default); returns the JSON-ready report."""
    pools = limit_threads(threads)
    torch = _torch(threads) if "torch" in impls else None
    settings = {"repeats": repeats, "min_time": 0.02 if quick else 0.25,
                "warmup_time": 0.0 if quick else 0.5, "quick": quick, "dtype": "float32",
                "threads": threads, "impls": list(impls)}
    report = {"schema": 1, "settings": settings,
              "machine": machine_info(torch, threads, pools),
              "sgemm": sgemm_rate(1024 if quick else 2048, 3 if quick else 5),
              "workloads": []}
    if log is not None:
        log(format_header(report))
    for workload in [BY_NAME[n] for n in names] if names else WORKLOADS:
        results = run_workload(workload, impls, torch, settings)
        entry = {"name": workload.name, "title": workload.title, "notes": workload.notes,
                 "unit": workload.unit,
                 "items_per_step": workload.items, "gemm_flops_per_step": workload.flops,
                 "results": results,
                 "ratios": {"gdl/numpy": _ratio(results, "gdl", "numpy"),
                            "gdl/torch": _ratio(results, "gdl", "torch")},
                 "ratios_of_medians": {"gdl/numpy": _ratio_of_medians(results, "gdl", "numpy"),
                                       "gdl/torch": _ratio_of_medians(results, "gdl", "torch")}}
        report["workloads"].append(entry)
        if log is not None:
            log(format_workload(entry, report["sgemm"]["gflops"]))
    return report


# ---- output ----------------------------------------------------------------------------
_HEADER = (f"{'':<10} {'impl':<6} {'ms/step':>8} {'IQR':>15} {'min..max':>15} "
           f"{'items/s':>8} {'peak MiB':>8} {'%sgemm':>6} {'gdl/x':>6}")


def _ms(value):
    """Milliseconds to about three significant digits, without exponents."""
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}" if value >= 1e-3 else f"{value:.1e}"


def _items(value):
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def format_workload(entry, sgemm_gflops):
    """The table rows of one workload: one per implementation."""
    lines = [f"{entry['name']}: {entry['title']} ({entry['unit']}/s)"]
    for impl, r in entry["results"].items():
        if r["status"] != "ok":
            lines.append(f"{'':<10} {impl:<6} {r['status']}: {r['reason']}")
            continue
        iqr = f"{_ms(r['ms_q1'])}-{_ms(r['ms_q3'])}"
        extremes = f"{_ms(r['ms_min'])}..{_ms(r['ms_max'])}"
        share = f"{100 * r['gflops'] / sgemm_gflops:.0f}%" if "gflops" in r else ""
        ratio = ""
        if impl != "gdl" and entry["ratios"][f"gdl/{impl}"] is not None:
            ratio = f"{entry['ratios'][f'gdl/{impl}']:.2f}"
        lines.append(f"{'':<10} {impl:<6} {_ms(r['ms_median']):>8} {iqr:>15} {extremes:>15} "
                     f"{_items(r['per_second']):>8} {r['peak_rss_mib']:>8.1f} {share:>6} "
                     f"{ratio:>6}")
    return "\n".join(lines)


def format_header(report):
    m = report["machine"]
    s = report["sgemm"]
    return (f"{m['cpu']}, {m['cpu_count']} cpus, {m['threads']} threads "
            f"({m['thread_limit']['method']}), numpy {m['numpy']} with {m['blas']}, "
            f"torch {m['torch'] or 'not installed'}, gdl {m['gdl']}\n"
            f"sgemm {s['n']}x{s['n']}: {s['gflops']:.1f} GFLOP/s ({s['ms']:.1f} ms); "
            f"load average {m['load_average']}\n"
            f"ms/step: median of {report['settings']['repeats']} repeats; gdl/x: median of the "
            f"rounds' own ratios, below 1 means gdl is faster; %sgemm: GEMM FLOPs of a step "
            f"over numpy's sgemm rate\n{_HEADER}")


# ---- command line ----------------------------------------------------------------------
def add_arguments(parser):
    parser.add_argument("--only", nargs="+", metavar="W", choices=list(BY_NAME),
                        help=f"workloads to run (default all): {', '.join(BY_NAME)}")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repeats per workload (default 7, --quick 3)")
    parser.add_argument("--quick", action="store_true",
                        help="short repeats and no warm-up time: a smoke test, not a result")
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS),
                        help="implementations to time (default all three)")
    parser.add_argument("--threads", type=int, default=THREADS,
                        help=f"BLAS/OpenMP/torch threads (default {THREADS})")
    return parser


def build_parser():
    parser = argparse.ArgumentParser(prog="gdl bench", description=__doc__.split("\n\n")[0])
    return add_arguments(parser)


def to_argv(args):
    """Command-line arguments that parse back to ``args``."""
    argv = []
    if args.only:
        argv += ["--only", *args.only]
    if args.json:
        argv += ["--json", args.json]
    if args.repeats is not None:
        argv += ["--repeats", str(args.repeats)]
    if args.quick:
        argv.append("--quick")
    argv += ["--impls", *args.impls, "--threads", str(args.threads)]
    return argv


def run_args(args):
    """Run parsed arguments. numpy reads its thread variables once, when it is imported, so
    unless they already hold the thread count this reruns in a fresh interpreter that has
    them set from the start (``gdl bench`` comes here after numpy is imported)."""
    if args.threads < 1:
        print("gdl bench: error: --threads must be at least 1", file=sys.stderr)
        return 2
    if not _env_has_threads(args.threads):
        command = [sys.executable, "-m", "gdl.bench", *to_argv(args)]
        return subprocess.call(command, env=thread_env(args.threads))
    repeats = args.repeats if args.repeats is not None else (3 if args.quick else 7)
    if repeats < 1:
        print("gdl bench: error: --repeats must be at least 1", file=sys.stderr)
        return 2
    report = run(args.only, tuple(args.impls), repeats, args.quick, args.threads,
                 log=lambda text: print(text, flush=True))
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
        os.replace(tmp, args.json)
        print(f"wrote {args.json}")
    return 0


def main(argv=None):
    return run_args(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
