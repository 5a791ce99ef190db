"""Which GEMM path gdl's convolution takes (Note [conv BLAS path] in src/conv.pyx).

    python benchmarks/conv_gemm_choice.py [--threads 2] [--repeats 21]

(a) "blas": the compiled loop, im2col into a cached buffer and scipy's sgemm called by pointer
    from C (gdl's conv2d_fwd / conv2d_bwd),
    in chunks of images, one GEMM per chunk (also timed with one image or the whole batch per
    chunk);
(b) "numpy": im2col of the whole batch into a cached (N, C kh kw, OH OW) buffer by the same C
    kernel, then numpy's matmul from Python (W @ cols, gy @ cols^T summed over N, W^T @ gy
    followed by col2im).
Forward plus backward (gx only where a network needs it) of the convolutions of the book's
chapter-10 network and of bench_conv.py's two-conv network, float32. Prints one JSON object:
the best of three medians, in milliseconds, per path and layer. Timings on a shared machine
are noisy.
"""
import argparse
import json
import sys
import time

from _threads import set_threads

THREADS = set_threads(sys.argv[1:])

import numpy as np  # noqa: E402

from gdl._kernels import conv as k  # noqa: E402

# name: (N, C, H, W, O, kernel, gx wanted)
LAYERS = {
    "ch10 conv 1->16 (N=128, 27x27)": (128, 1, 27, 27, 16, 3, False),
    "b conv1 1->32 (N=64, 28x28)": (64, 1, 28, 28, 32, 3, False),
    "b conv2 32->64 (N=64, 13x13)": (64, 32, 13, 13, 64, 3, True),
}


def blas_path(x, W, b, need_x, chunk=None):
    def step():
        y = k.conv2d_fwd(x, W, b, chunk=chunk)
        return k.conv2d_bwd(x, W, np.ones_like(y), need_x=need_x, chunk=chunk)
    return step


def numpy_path(x, W, b, need_x):
    N, C, H, Wd = x.shape
    O, _, kh, kw = W.shape
    OH, OW = H - kh + 1, Wd - kw + 1
    window = dict(H=H, W=Wd, kh=kh, kw=kw, sh=1, sw=1, ph=0, pw=0, OH=OH, OW=OW)
    cols = np.empty((N, C * kh * kw, OH * OW), dtype=x.dtype)     # cached across calls
    W2 = W.reshape(O, -1)

    def step():
        k._im2col(x, cols, window)
        y = np.matmul(W2, cols)
        y += b[:, None]
        gy = np.ones_like(y)
        gW = np.matmul(gy, cols.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
        gb = gy.sum(axis=(0, 2))
        gx = None
        if need_x:
            gcols = np.matmul(W2.T, gy)
            gx = np.empty_like(x)
            k._col2im(gcols, gx, window)
        return gx, gW, gb
    return step


def median_ms(step, repeats):
    step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="2")
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = {}
    for name, (N, C, H, Wd, O, kernel, need_x) in LAYERS.items():
        x = rng.standard_normal((N, C, H, Wd)).astype(np.float32)
        W = rng.standard_normal((O, C, kernel, kernel)).astype(np.float32)
        b = rng.standard_normal(O).astype(np.float32)
        paths = {"blas (chunked)": blas_path(x, W, b, need_x),
                 "blas per image": blas_path(x, W, b, need_x, chunk=1),
                 "blas whole batch": blas_path(x, W, b, need_x, chunk=N),
                 "numpy": numpy_path(x, W, b, need_x)}
        expected = paths["numpy"]()
        for step in paths.values():                   # every path computes the same
            for u, v in zip(step(), expected):
                if u is not None:
                    np.testing.assert_allclose(u, v, rtol=1e-3, atol=1e-3)
        times = {path: [] for path in paths}
        for _ in range(3):                            # interleaved, so all see the same load
            for path, step in paths.items():
                times[path].append(median_ms(step, args.repeats))
        results[name] = {path: round(min(t), 3) for path, t in times.items()}
    print(json.dumps({"threads": int(args.threads), "layers": results}, indent=2))


if __name__ == "__main__":
    main()
