"""Note [parallel loops]: the kernels that split their work among threads give the same
numbers for every thread count (GDL_NUM_THREADS, read once per process, so each count runs in
its own process)."""
import os
import subprocess
import sys

import pytest

from subprocs import assert_identical, run_each

THREAD_COUNTS = {n: {"GDL_NUM_THREADS": n} for n in ("1", "2", "3")}

_RUN = """
import sys
import numpy as np
from gdl._kernels import activation as a, conv as cv, dropout as d, optim as o, pool as pl
rng = np.random.default_rng(0)
out = {}
for dtype in (np.float32, np.float64):
    x = rng.standard_normal(450_001).astype(dtype)      # odd: the split is uneven
    gy = rng.standard_normal(x.shape).astype(dtype)
    name = np.dtype(dtype).name
    for f in ("sigmoid", "tanh", "relu"):
        y = getattr(a, f + "_fwd")(x)
        out[f"{f}_{name}"] = y
        out[f"{f}_bwd_{name}"] = getattr(a, f + "_bwd")(y, gy)
    y, mask = d.dropout_fwd(x, 0.3, 12345)
    out[f"dropout_{name}"], out[f"mask_{name}"] = y, mask
    out[f"dropout_bwd_{name}"] = d.dropout_bwd(gy, mask, 0.3)
    img = rng.standard_normal((37, 16, 26, 26)).astype(dtype)
    y, argmax = pl.maxpool2d_fwd(img, 2)
    out[f"maxpool_{name}"], out[f"argmax_{name}"] = y, argmax
    out[f"maxpool_bwd_{name}"] = pl.maxpool2d_bwd(y, argmax, img.shape, 2)
    out[f"avgpool_{name}"] = pl.avgpool2d_fwd(img, 3, 2, 1)
    out[f"avgpool_bwd_{name}"] = pl.avgpool2d_bwd(out[f"avgpool_{name}"], img.shape, 3, 2, 1)
    w, v = x.copy(), gy * 0.5
    o.sgd_step_(w, gy, 0.1, momentum=0.9, weight_decay=0.01, v=v)
    out[f"sgd_{name}"], out[f"sgd_v_{name}"] = w, v
    w, m, v = x.copy(), gy * 0.1, gy * gy
    o.adam_step_(w, gy, m, v, 3, lr=0.01, weight_decay=0.01)
    out[f"adam_{name}"], out[f"adam_m_{name}"], out[f"adam_v_{name}"] = w, m, v
# the packed float32 convolution (Note [packed conv]): images shared dynamically among the
# threads, gW and gb summed by fixed image groups; a GEMM-shaped kernel and a dot-product one
for C, H, O in ((8, 10, 24), (1, 28, 16)):
    img = rng.standard_normal((37, C, H, H)).astype(np.float32)
    W = rng.standard_normal((O, C, 3, 3)).astype(np.float32)
    y = cv.conv2d_fwd(img, W, np.ones(O, np.float32), 1, 1)
    out[f"conv_{C}"] = y
    for n, g in zip(("gx", "gW", "gb"), cv.conv2d_bwd(img, W, np.sin(y), 1, 1)):
        out[f"conv_{C}_{n}"] = g
np.savez(sys.argv[1], **out)
"""


def test_elementwise_kernels_pooling_and_optimizers_agree_for_every_thread_count(tmp_path):
    assert_identical(run_each(_RUN, THREAD_COUNTS, tmp_path), "1", 2 * 19 + 2 * 4)


@pytest.mark.parametrize("value", ["0", "-3", "junk", "64"])
def test_odd_thread_counts_still_work(value):
    code = ("from gdl._kernels import activation as a; import numpy as np; "
            "x = np.ones(1 << 18, np.float32); assert (a.relu_fwd(x) == 1).all()")
    env = dict(os.environ, GDL_NUM_THREADS=value)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


_RECURRENT = """
import sys
import numpy as np
from gdl._kernels import lstm, rnn
rng = np.random.default_rng(0)
out = {}
# the thread team of the LSTM (Note [thread team]): units split 2/3/3 strips, one member idle
for T, B, D, H in [(3, 19, 8, 256), (3, 20, 8, 150), (2, 128, 8, 48)]:
    f = lambda *shape: (rng.standard_normal(shape) * 0.3).astype(np.float32)
    x, h0, c0, gh = f(T, B, D), f(B, H), f(B, H), f(T, B, H)
    W = (f(4 * H, D), f(4 * H, H))
    fwd = lstm.lstm_fwd(x, h0, c0, W[0], W[1], f(4 * H))
    arrays = list(fwd) + list(lstm.lstm_bwd(x, W[0], W[1], fwd[2], fwd[0], fwd[1], gh))
    W_ih, W_hh = f(H, D), f(H, H)
    hs = rnn.rnn_fwd(x, h0, W_ih, W_hh, f(H))
    arrays += [hs] + list(rnn.rnn_bwd(x, W_ih, W_hh, hs, gh))
    out.update({f"{T}_{B}_{D}_{H}_{i}": a for i, a in enumerate(arrays)})
np.savez(sys.argv[1], **out)
"""


def test_recurrent_kernels_agree_for_every_thread_count(tmp_path):
    assert_identical(run_each(_RECURRENT, THREAD_COUNTS, tmp_path), "1", 3 * 15)


def test_set_num_threads_reaches_every_kernel_module_and_keeps_the_numbers():
    import importlib

    import numpy as np

    import gdl
    from gdl import _build_info
    modules = [importlib.import_module(f"gdl._kernels.{f}") for f in _build_info.families]
    before = gdl.get_num_threads()
    x = np.random.default_rng(0).standard_normal(450_001).astype(np.float32)
    from gdl._kernels import activation, dropout
    try:
        results = {}
        for n in (1, 3):
            gdl.set_num_threads(n)
            assert gdl.get_num_threads() == n
            assert all(m._get_num_threads() == n for m in modules)
            results[n] = (activation.tanh_fwd(x), dropout.dropout_fwd(x, 0.5, 7)[1])
        for a, b in zip(results[1], results[3]):
            np.testing.assert_array_equal(a, b)
        gdl.set_num_threads(100)
        assert gdl.get_num_threads() == 8                   # at most 8
    finally:
        gdl.set_num_threads(before)
    assert gdl.get_num_threads() == before


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, "4", None])
def test_set_num_threads_rejects_what_is_not_a_positive_int(bad):
    import gdl
    before = gdl.get_num_threads()
    with pytest.raises(ValueError, match="positive int"):
        gdl.set_num_threads(bad)
    assert gdl.get_num_threads() == before


# ---- Note [thread pool]: helpers started once, woken per loop ---------------------------------
_POOL = """
import os, sys, threading
import numpy as np
from gdl._kernels import activation as a, optim as o
x = np.random.default_rng(1).standard_normal(600_003).astype(np.float32)
want = np.maximum(x, 0)
for _ in range(2000):                  # many loops in a row: a lost wake-up would hang here
    assert np.array_equal(a.relu_fwd(x), want)
pid = os.fork()                         # the child has none of the parent's helpers
if pid == 0:
    ok = all(np.array_equal(a.relu_fwd(x), want) for _ in range(50))
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
errors = []
def hammer(seed):                       # loops from two threads at once (the GIL is released)
    try:
        w = np.zeros(600_003, np.float32)
        g = np.full_like(w, seed)
        for _ in range(200):
            assert np.array_equal(a.tanh_fwd(x), a.tanh_fwd(x))
            o.sgd_step_(w, g, 1.0)
        assert np.array_equal(w, np.full_like(w, -200.0 * seed))
    except Exception as error:
        errors.append(error)
threads = [threading.Thread(target=hammer, args=(s,)) for s in (1, 2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
print("ok")
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.parametrize("count", ["2", "3"])
def test_pool_survives_many_loops_fork_and_two_callers(count):
    done = subprocess.run([sys.executable, "-c", _POOL], capture_output=True, text=True,
                          env=dict(os.environ, GDL_NUM_THREADS=count), timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
