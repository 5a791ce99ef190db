"""The character-LSTM training step: gdl against PyTorch's nn.LSTM and an nn.LSTMCell loop.

    python benchmarks/bench_lstm.py [--threads 2] [--repeats 15] [--only book,large]

(a) "book": the book's chapter-14 step: embedding 512, hidden 512, batch 16, bptt 25, vocab 65
    (forward over 25 steps, softmax cross-entropy at every step, backward, SGD);
(b) "large": embedding 128, hidden 512, batch 64, bptt 64, vocab 65.
Same float32, same threads, same data; every contestant is timed in turn within one run and
the median of the repeats is reported, with the achieved GFLOP/s and numpy's own matmul rate
for the same machine. Prints one JSON object. Not a test: timings on a shared machine are noisy.
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

from gdl import nn  # noqa: E402
from gdl.nn.rnn import LSTM  # noqa: E402

CONFIGS = {
    "book": {"embed": 512, "hidden": 512, "batch": 16, "bptt": 25, "vocab": 65},
    "large": {"embed": 128, "hidden": 512, "batch": 64, "bptt": 64, "vocab": 65},
}


def step_flops(embed, hidden, batch, bptt, vocab):
    """Multiply-adds x 2 of one step's matrix products: forward once, backward twice."""
    rows = batch * bptt
    lstm = 2 * rows * 4 * hidden * (embed + hidden)
    output = 2 * rows * hidden * vocab
    return 3 * (lstm + output)


def data(cfg, seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, cfg["vocab"], (cfg["bptt"] + 1, cfg["batch"]))
    return tokens[:-1], tokens[1:]                    # time-major (steps, batch)


def gdl_step(cfg):
    gdl.manual_seed(0)
    embed = nn.Embedding(cfg["vocab"], cfg["embed"])
    lstm = LSTM(cfg["embed"], cfg["hidden"])
    decoder = nn.Linear(cfg["hidden"], cfg["vocab"])
    params = embed.get_parameters() + lstm.get_parameters() + decoder.get_parameters()
    optimizer = gdl.SGD(params, lr=0.05)
    inputs, targets = data(cfg)
    flat_targets = targets.reshape(-1)

    def step():
        output, _ = lstm(embed(inputs))
        logits = decoder(output.reshape(-1, cfg["hidden"]))
        loss = logits.cross_entropy(flat_targets)
        loss.backward()
        optimizer.step()
        return loss.item()
    return step


def torch_steps(cfg):
    import torch
    torch.set_num_threads(int(THREADS))
    torch.manual_seed(0)
    inputs, targets = data(cfg)
    inputs = torch.from_numpy(inputs)
    flat_targets = torch.from_numpy(targets.reshape(-1))
    H = cfg["hidden"]

    def make(cell):
        embed = torch.nn.Embedding(cfg["vocab"], cfg["embed"])
        core = (torch.nn.LSTMCell if cell else torch.nn.LSTM)(cfg["embed"], H)
        decoder = torch.nn.Linear(H, cfg["vocab"])
        params = list(embed.parameters()) + list(core.parameters()) + list(decoder.parameters())
        optimizer = torch.optim.SGD(params, lr=0.05)

        def step():
            optimizer.zero_grad()
            x = embed(inputs)
            if cell:
                h = torch.zeros(cfg["batch"], H)
                c = torch.zeros(cfg["batch"], H)
                outs = []
                for t in range(cfg["bptt"]):
                    h, c = core(x[t], (h, c))
                    outs.append(h)
                output = torch.stack(outs)
            else:
                output, _ = core(x)
            loss = torch.nn.functional.cross_entropy(decoder(output.reshape(-1, H)),
                                                     flat_targets)
            loss.backward()
            optimizer.step()
            return loss.item()
        return step
    return {"torch_lstm": make(False), "torch_lstmcell_loop": make(True)}


def numpy_matmul_gflops(cfg, repeats):
    """What numpy's own BLAS reaches on this step's biggest product, (B T, H) @ (H, 4H)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((cfg["batch"] * cfg["bptt"], cfg["hidden"])).astype(np.float32)
    b = rng.standard_normal((cfg["hidden"], 4 * cfg["hidden"])).astype(np.float32)
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.float32)
    times = []
    for _ in range(repeats * 3):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - start)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / np.median(times) / 1e9


def bench(name, cfg, repeats, with_torch):
    steps = {"gdl": gdl_step(cfg)}
    if with_torch:
        steps.update(torch_steps(cfg))
    for step in steps.values():                       # warm up: buffers, thread pools
        for _ in range(3):
            step()
    times = {k: [] for k in steps}
    for _ in range(repeats):                          # interleaved, so load hits everyone
        for key, step in steps.items():
            time.sleep(SETTLE)                        # Note [settle between contestants]
            start = time.perf_counter()
            step()
            times[key].append(time.perf_counter() - start)
    flops = step_flops(**cfg)
    result = {"config": cfg, "step_gflop": flops / 1e9,
              "numpy_matmul_gflops": numpy_matmul_gflops(cfg, repeats)}
    for key, values in times.items():
        median = float(np.median(values))
        result[key] = {"median_ms": 1e3 * median, "min_ms": 1e3 * min(values),
                       "gflops": flops / median / 1e9}
    if with_torch:
        gdl_ms = result["gdl"]["median_ms"]
        result["speedup_vs_torch_lstm"] = result["torch_lstm"]["median_ms"] / gdl_ms
        result["speedup_vs_torch_lstmcell_loop"] = (
            result["torch_lstmcell_loop"]["median_ms"] / gdl_ms)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="2")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--only", default="book,large")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401
        with_torch = True
    except ImportError:
        with_torch = False
    report = {"threads": int(args.threads), "dtype": "float32", "torch": with_torch}
    for name in args.only.split(","):
        report[name] = bench(name, CONFIGS[name], args.repeats, with_torch)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
