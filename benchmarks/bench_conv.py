"""Convolutional training steps: gdl against a NumPy im2col implementation and PyTorch.

    python benchmarks/bench_conv.py [--threads 2] [--repeats 21] [--rounds 3] [--only book,two]

(a) "book": one training step of the book's chapter-10 network at batch 128: conv 1->16 3x3
    over 27x27 images (the book's 25x25 patches), tanh, dropout 0.5, linear 10000->10, softmax
    cross-entropy, SGD. Goal: gdl at most half the time of either.
(b) "two": one training step of conv(1->32, 3x3)-relu-maxpool2-conv(32->64, 3x3)-relu-maxpool2-
    linear(1600->10) at batch 64 on 28x28 images, softmax cross-entropy, SGD. Goal: gdl faster
    than PyTorch.
Same float32 shapes and the same thread count for everyone (OMP/OPENBLAS/MKL_NUM_THREADS and
torch.set_num_threads). The contestants are timed in turn, round after round, within one run;
each reports the median over its rounds of the per-round median. Prints one JSON object with
the ratios. Not a test: on a shared machine timings are noisy, so compare within one run.
"""
import argparse
import json
import sys
import time


from _threads import SETTLE, set_threads

THREADS = set_threads(sys.argv[1:])

# gdl first: it configures OpenBLAS before numpy loads it (Note [OpenBLAS spin])
import gdl  # noqa: E402
import numpy as np  # noqa: E402  (after the thread variables)
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from gdl import nn  # noqa: E402
from gdl.nn.conv import Conv2d, MaxPool2d  # noqa: E402


def data(batch, size, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((batch, 1, size, size), dtype=np.float32),
            rng.integers(0, 10, batch))


# ---- gdl ---------------------------------------------------------------------------------------
def gdl_book():
    from gdl.book import ch10_cnn
    gdl.manual_seed(0)
    model = ch10_cnn.build_model()
    optimizer = gdl.SGD(model.parameters(), lr=2 / 128)
    criterion = nn.CrossEntropyLoss()
    x, y = data(128, 27)

    def step():
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return step


def gdl_two():
    gdl.manual_seed(0)
    model = nn.Sequential(Conv2d(1, 32, 3), nn.ReLU(), MaxPool2d(2), Conv2d(32, 64, 3),
                          nn.ReLU(), MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10))
    optimizer = gdl.SGD(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()
    x, y = data(64, 28)

    def step():
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return step


# ---- NumPy: im2col by sliding_window_view, channels last, written by hand ----------------------
def _softmax_grad(logits, labels):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return p / len(labels)


def numpy_book():
    rng = np.random.default_rng(0)
    kernels = (0.02 * rng.random((9, 16)) - 0.01).astype(np.float32)
    W = (0.2 * rng.random((10000, 10)) - 0.1).astype(np.float32)
    x, y = data(128, 27)
    lr = np.float32(2 / 128)

    def step():
        nonlocal kernels, W
        cols = sliding_window_view(x[:, 0], (3, 3), axis=(1, 2)).reshape(-1, 9)
        t = np.tanh((cols @ kernels).reshape(128, -1))
        mask = (rng.random(t.shape, dtype=np.float32) >= 0.5).astype(np.float32) * 2
        h = t * mask
        d = _softmax_grad(h @ W, y)
        dh = (d @ W.T) * mask * (1 - t * t)
        W -= lr * (h.T @ d)
        kernels -= lr * (cols.T @ dh.reshape(-1, 16))
    return step


def _conv_nhwc(x, W):
    """x (N, H, W, C), W (9 C, O) -> (cols (N OH OW, C 9), y (N, OH, OW, O))."""
    N, H, Wd, C = x.shape
    cols = sliding_window_view(x, (3, 3), axis=(1, 2)).reshape(N * (H - 2) * (Wd - 2), C * 9)
    return cols, (cols @ W).reshape(N, H - 2, Wd - 2, W.shape[1])


def _pool_nhwc(x):
    N, H, W, C = x.shape
    x = x[:, :H // 2 * 2, :W // 2 * 2]
    blocks = x.reshape(N, H // 2, 2, W // 2, 2, C)
    y = blocks.max(axis=(2, 4))
    mask = blocks == y[:, :, None, :, None]
    return y, mask


def _unpool_nhwc(gy, mask, shape):
    g = np.zeros(shape, dtype=gy.dtype)
    N, H, W, C = shape
    g[:, :H // 2 * 2, :W // 2 * 2] = (mask * gy[:, :, None, :, None]).reshape(
        N, H // 2 * 2, W // 2 * 2, C)
    return g


def numpy_two():
    rng = np.random.default_rng(0)
    W1 = (rng.standard_normal((9, 32)) * np.sqrt(2 / 9)).astype(np.float32)
    W2 = (rng.standard_normal((288, 64)) * np.sqrt(2 / 288)).astype(np.float32)
    W3 = (rng.standard_normal((1600, 10)) * np.sqrt(2 / 1600)).astype(np.float32)
    b1, b2, b3 = (np.zeros(n, np.float32) for n in (32, 64, 10))
    x, y = data(64, 28)
    x = x.transpose(0, 2, 3, 1).copy()
    lr = np.float32(0.01)

    def step():
        nonlocal W1, W2, W3, b1, b2, b3
        cols1, a1 = _conv_nhwc(x, W1)
        a1 = np.maximum(a1 + b1, 0)
        p1, m1 = _pool_nhwc(a1)
        cols2, a2 = _conv_nhwc(p1, W2)
        a2 = np.maximum(a2 + b2, 0)
        p2, m2 = _pool_nhwc(a2)
        flat = p2.reshape(64, -1)
        d = _softmax_grad(flat @ W3 + b3, y)
        gflat = d @ W3.T
        g2 = _unpool_nhwc(gflat.reshape(p2.shape), m2, a2.shape) * (a2 > 0)
        g2c = g2.reshape(-1, 64)
        gcols2 = (g2c @ W2.T).reshape(64, 11, 11, 32, 3, 3)
        gp1 = np.zeros(p1.shape, dtype=np.float32)
        for i in range(3):                              # col2im: one slice add per offset
            for j in range(3):
                gp1[:, i:i + 11, j:j + 11] += gcols2[..., i, j]
        g1 = _unpool_nhwc(gp1, m1, a1.shape) * (a1 > 0)
        g1c = g1.reshape(-1, 32)
        W3 -= lr * (flat.T @ d)
        b3 -= lr * d.sum(axis=0)
        W2 -= lr * (cols2.T @ g2c)
        b2 -= lr * g2c.sum(axis=0)
        W1 -= lr * (cols1.T @ g1c)
        b1 -= lr * g1c.sum(axis=0)
    return step


# ---- PyTorch ---------------------------------------------------------------------------------
def _torch_step(model, x, y, lr):
    import torch
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def torch_book():
    import torch
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, bias=False), torch.nn.Tanh(),
                                torch.nn.Dropout(0.5), torch.nn.Flatten(),
                                torch.nn.Linear(10000, 10, bias=False))
    return _torch_step(model, *data(128, 27), 2 / 128)


def torch_two():
    import torch
    torch.manual_seed(0)
    T = torch.nn
    model = T.Sequential(T.Conv2d(1, 32, 3), T.ReLU(), T.MaxPool2d(2), T.Conv2d(32, 64, 3),
                         T.ReLU(), T.MaxPool2d(2), T.Flatten(), T.Linear(1600, 10))
    return _torch_step(model, *data(64, 28), 0.01)


WORKLOADS = {
    "book": {"gdl": gdl_book, "numpy": numpy_book, "torch": torch_book},
    "two": {"gdl": gdl_two, "numpy": numpy_two, "torch": torch_two},
}


def time_round(step, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="2")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="book,two")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(int(THREADS))
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    report = {"threads": int(THREADS), "torch": torch_version, "numpy": np.__version__,
              "workloads": {}}
    for name in args.only.split(","):
        steps = {who: make() for who, make in WORKLOADS[name].items()
                 if who != "torch" or torch_version}
        for step in steps.values():                   # warm up: first calls allocate
            for _ in range(3):
                step()
        rounds = {who: [] for who in steps}
        for _ in range(args.rounds):
            for who, step in steps.items():
                time.sleep(SETTLE)                    # Note [settle between contestants]
                rounds[who].append(time_round(step, args.repeats))
        ms = {who: 1e3 * float(np.median(r)) for who, r in rounds.items()}
        entry = {f"{who}_ms": round(v, 3) for who, v in ms.items()}
        for who in ms:
            if who != "gdl":
                entry[f"gdl_over_{who}"] = round(ms["gdl"] / ms[who], 3)
        report["workloads"][name] = entry
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
