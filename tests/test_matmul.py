"""Kernel tests for gdl._kernels.matmul (Note [split GEMM], Note [packed GEMM]) against numpy's
matmul, and the ops that use it (MatMul, Linear) on products large enough to be split."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl import nn, ops
from gdl._kernels import conv
from gdl._kernels import matmul as k
from gdl.testing import gradcheck
from subprocs import assert_identical, cpu_has, run_each

RTOL = {np.float32: 1e-5, np.float64: 1e-7}
# (M, K, N): tiny, odd, one row, one column, and products above the split threshold (2^21
# multiply-adds) split by columns (N >= M) and by rows (M > N)
SHAPES = [(1, 1, 1), (3, 5, 2), (1, 784, 100), (100, 784, 1), (100, 784, 100),
          (37, 1001, 83), (300, 129, 61), (64, 2048, 33)]
# from PACKED_MIN (2^18) float32 runs on the packed kernel on AVX-512 machines (op(A) transposed
# only while A has at most PACKED_MAX_A_T entries, packed_expected): bench W6a's layer; rows past
# the 8-row blocks (3: one rows4 pass short, 5: rows4 + rows1); a last strip of 1, 19, 4 (a
# quarter strip), 8 and 12 (half); the fewest rows (32) and columns (16) it takes; C taller than
# wide (shared among threads by rows) with many row groups; the smallest size. With B^T and K
# from 256, a last strip of 1, 4 or 8 columns is dot products (the dot tail): 161, 100, 200
PACKED_SHAPES = [(128, 784, 512), (203, 520, 161), (517, 100, 339), (100, 2000, 100),
                 (64, 2000, 200), (128, 1100, 140), (1400, 1000, 16), (32, 700, 100),
                 (64, 64, 64)]
# packed sizes with fewer than 32 rows or 16 columns of C are not the packed path's (packing
# op(B), or the strips' zero padding, would dominate): the narrow path's where its rules say
# (narrow_expected), else the BLAS's
FEW_ROWS = [(9, 2000, 1000), (1, 16384, 1100), (1400, 1000, 12), (3000, 1000, 6),
            (31, 2000, 100)]
# Note [narrow GEMM], (M, K, N, trans_a, trans_b): bench W3's dense layer forward, gx and gW;
# B^T with few columns (one, and 6 or 13 with an odd row left over and K not a multiple of 16),
# with few rows (a 1-row and a 9-row C, B's rows against A's), with 15 columns (two groups of
# B's rows, 7 and 8), the shortest dot products (256); B by rows with an inner length of 8, 10
# and 15 or 12 and 10 columns, the fewest rows that form takes (64); B streamed for C of 1, 3,
# 9 (a row without a pair) and 10 rows, K not a multiple of 4, a last chunk of 3 columns; dot
# products below the split size, from ONE_THREAD_MIN (bench W6a's output layer)
NARROW_SHAPES = [(128, 10000, 10, False, True), (128, 10, 10000, False, False),
                 (128, 512, 10, False, True), (64, 300, 15, False, True),
                 (10, 128, 10000, True, False),
                 (2101, 1003, 1, False, True), (3001, 1000, 6, False, True),
                 (1401, 1003, 13, False, True), (1, 16384, 1100, False, True),
                 (9, 2001, 1000, False, True), (15, 257, 4096, False, True),
                 (8300, 256, 1, False, True),
                 (400, 2048, 15, False, True), (256, 8, 4096, False, False),
                 (1000, 15, 1001, False, False), (1400, 1000, 12, False, False),
                 (64, 4000, 10, False, False),
                 (1, 16384, 1100, False, False), (3, 7, 100003, False, False),
                 (9, 2001, 1000, True, False), (10, 100, 2200, True, False)]
# not narrow: op(A) transposed with many rows, a C of 2^22 entries or more with a short inner
# length, 11 to 63 rows with B read by rows, below ONE_THREAD_MIN, the forms other than dot
# products below the split size (W6a's gx and gW of its output layer), dot products shorter
# than 256
NOT_NARROW = [(3000, 1000, 6, True, False), (3000, 1000, 6, True, True),
              (4096, 8, 1024, False, False), (11, 2000, 1000, False, False),
              (15, 1000, 2000, True, False), (30, 784, 10, False, True),
              (128, 10, 512, False, False), (10, 128, 512, True, False),
              (100000, 8, 10, False, True), (9000, 255, 10, False, True)]


def packed_expected(M, K, N, trans_a):
    # Note [packed GEMM]'s sizes, on AVX-512
    return (k.PACKED_MIN <= M * K * N < k.SPLIT_MAX and M >= 32 and N >= 16
            and (not trans_a or M * K <= k.PACKED_MAX_A_T))


def narrow_expected(M, K, N, trans_a, trans_b):
    # FEW_ROWS under Note [narrow GEMM] (every K >= 256): B streamed for 10 rows or fewer; else
    # op(A) as stored, and B^T with a side under 16, or B with fewer than 16 columns
    return (not trans_b and M <= 10) or (not trans_a and (
        (trans_b and min(M, N) < 16) or (not trans_b and N < 16 and M >= 64)))


def random(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def operands(M, K, N, dtype, trans_a, trans_b):
    a = random((K, M) if trans_a else (M, K), dtype, seed=1)
    b = random((N, K) if trans_b else (K, N), dtype, seed=2)
    return a, b, (a.T if trans_a else a) @ (b.T if trans_b else b)


def tolerance(K, dtype):
    # sums of K products of unit normals: the error grows with sqrt(K)
    return {"rtol": RTOL[dtype], "atol": RTOL[dtype] * np.sqrt(K) * 10}


def assert_float32_product_is_exact_enough(M, K, N, trans_a, trans_b):
    # the kernel's float32 op(A) op(B) against the float64 product of the same operands
    a, b, _ = operands(M, K, N, np.float32, trans_a, trans_b)
    expected = ((a.T if trans_a else a).astype(np.float64)
                @ (b.T if trans_b else b).astype(np.float64))
    y = k.matmul(a, b, trans_a, trans_b)
    assert y.dtype == np.float32 and y.shape == (M, N) and y.flags.c_contiguous
    assert_allclose(y, expected, **tolerance(K, np.float32))


@pytest.mark.parametrize("M, K, N", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)])
def test_matmul_matches_numpy(M, K, N, dtype, trans_a, trans_b):
    a, b, expected = operands(M, K, N, dtype, trans_a, trans_b)
    y = k.matmul(a, b, trans_a, trans_b)
    assert y.dtype == dtype and y.shape == (M, N) and y.flags.c_contiguous
    assert_allclose(y, expected, **tolerance(K, dtype))


@pytest.mark.parametrize("M, K, N", PACKED_SHAPES + FEW_ROWS)
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)])
def test_packed_products_match_float64(M, K, N, trans_a, trans_b):
    assert M * K * N >= k.PACKED_MIN
    halves = "split" if k.can_split() and M * K * N >= k.SPLIT_MIN else "one call"
    if conv.packed_kernels() == "avx512":       # the packed path's shapes
        narrow = narrow_expected(M, K, N, trans_a, trans_b)
        assert packed_expected(M, K, N, trans_a) == ((M, K, N) in PACKED_SHAPES
                                                    and (not trans_a or M * K <= 2**17))
        expected = ("packed" if packed_expected(M, K, N, trans_a)
                    else "narrow" if narrow and (M, K, N) in FEW_ROWS else halves)
        assert k._path(M, N, K, np.float32, trans_a, trans_b) == expected
    else:                                       # AVX2 or none: the BLAS's (Note [packed GEMM])
        assert k._path(M, N, K, np.float32, trans_a, trans_b) == halves
    assert k._path(M, N, K, np.float64, trans_a, trans_b) not in ("packed", "narrow")
    assert_float32_product_is_exact_enough(M, K, N, trans_a, trans_b)


@pytest.mark.parametrize("M, K, N, trans_a, trans_b", NARROW_SHAPES + NOT_NARROW)
def test_narrow_products_match_float64(M, K, N, trans_a, trans_b):
    if conv.packed_kernels() == "avx512":       # the narrow path's or not; AVX2 has none
        assert (k._path(M, N, K, np.float32, trans_a, trans_b) == "narrow") == (
            (M, K, N, trans_a, trans_b) in NARROW_SHAPES)
    elif conv.packed_kernels() == "avx2":
        assert k._path(M, N, K, np.float32, trans_a, trans_b) != "narrow"
    assert k._path(M, N, K, np.float64, trans_a, trans_b) != "narrow"
    assert_float32_product_is_exact_enough(M, K, N, trans_a, trans_b)


def test_narrow_products_read_views_in_place_or_copied():
    # b, a transposed view of a (10, 10000) array, is read as B^T in place (the dot-product
    # form); a, strided, is copied
    a = random((40, 20000), np.float32)[:, ::2]            # (40, 10000)
    b = random((10, 10000), np.float32, seed=1).T          # (10000, 10), F-order
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert_allclose(k.matmul(a, b), expected, **tolerance(10000, np.float32))
    assert_allclose(k.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b)), expected,
                    **tolerance(10000, np.float32))


@pytest.mark.parametrize("M, K, N", [(100, 100, 784), (100, 784, 100), (64, 1000, 66),
                                     (784, 100, 100)])
def test_book_sized_products_are_packed_from_the_least_size(M, K, N):
    # every float32 product the ops send to the kernels (from ONE_THREAD_MIN) is packed:
    # bench W1's and W2's layer (100, 784) x (100, 784)^T and gW (100, 100)^T x (100, 784);
    # with op(A) transposed only while A is small: (784, 100)^T x (784, 100), A 78,400 entries,
    # but not (100, 1000)^T x (100, 66) with 100,000 entries when PACKED_MAX_A_T is below
    assert k.PACKED_MIN == k.ONE_THREAD_MIN <= M * K * N < k.SPLIT_MAX
    assert k.PACKED_MAX_A_T == 2**17
    halves = "split" if k.can_split() and M * K * N >= k.SPLIT_MIN else "one call"
    packed = "packed" if conv.packed_kernels() == "avx512" else halves
    for trans_a in (False, True):
        for trans_b in (False, True):
            expected = packed if not trans_a or M * K <= k.PACKED_MAX_A_T else halves
            assert k._path(M, N, K, np.float32, trans_a, trans_b) == expected
            assert_float32_product_is_exact_enough(M, K, N, trans_a, trans_b)


def test_packed_products_read_strided_views():
    base = random((300, 1600), np.float32)
    a = base[:128, ::2]                         # strided (128, 800): copied
    b = base[:, :800].T                         # a transposed view (800, 300)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert_allclose(k.matmul(a, b), expected, **tolerance(800, np.float32))


@pytest.mark.parametrize("M, K, N", [(0, 4, 3), (3, 4, 0), (3, 0, 4), (0, 0, 0)])
def test_matmul_of_empty_operands(M, K, N):
    y = k.matmul(np.ones((M, K), np.float32), np.ones((K, N), np.float32))
    assert y.shape == (M, N)
    assert (y == 0).all()                       # K = 0: an empty sum


def test_matmul_reads_views_transposed_or_copied():
    base = random((120, 900), np.float64)
    a = base[:, ::3]                            # strided: copied
    b = base[:100, :300].T                      # a transposed view: read with the flag flipped
    c = np.asfortranarray(random((300, 50), np.float64))
    assert_allclose(k.matmul(a, b), a @ b, rtol=RTOL[np.float64])
    assert_allclose(k.matmul(a, c), a @ c, rtol=RTOL[np.float64])
    assert_allclose(k.matmul(b, a, True, True), b.T @ a.T, rtol=RTOL[np.float64])


def test_matmul_rejects_bad_operands():
    f32 = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match="a must be a numpy.ndarray, got list"):
        k.matmul([[1.0]], f32)
    with pytest.raises(TypeError, match="b must be float32 or float64, got int64"):
        k.matmul(f32, np.ones((4, 2), np.int64))
    with pytest.raises(TypeError, match="a and b must have one dtype, got float32 and float64"):
        k.matmul(f32, np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"b must be 2-D, got shape \(4,\)"):
        k.matmul(f32, np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"matmul shapes do not fit: a is \(3, 4\), b is "
                                         r"\(5, 2\)"):
        k.matmul(f32, np.ones((5, 2), np.float32))
    with pytest.raises(ValueError, match=r"a.T is \(4, 3\), b.T is \(2, 5\)"):
        k.matmul(f32, np.ones((5, 2), np.float32), True, True)


def test_matmul_splits_with_openblas_and_restores_its_thread_count():
    # scipy's wheels carry OpenBLAS; a scipy built on another BLAS runs one call per product
    import scipy
    if "openblas" not in str(scipy.show_config(mode="dicts")).lower():
        pytest.skip("scipy's BLAS is not OpenBLAS: products are not split")
    assert k.can_split()
    before = k._blas_threads()
    assert before >= 1
    a, b, expected = operands(100, 784, 100, np.float32, False, True)
    assert_allclose(k.matmul(a, b, False, True), expected, **tolerance(784, np.float32))
    assert k._blas_threads() == before


@pytest.mark.parametrize("M, K, N", [(200, 700, 90), (128, 784, 512)])   # split, packed
def test_matmul_from_two_threads_at_once(M, K, N):
    # one split at a time per module: the second product runs both halves on its own thread;
    # a packed product started during another packs into its own thread's buffer
    a, b, expected = operands(M, K, N, np.float32, False, False)
    failures = []

    def work():
        for _ in range(50):
            if not np.allclose(k.matmul(a, b), expected, **tolerance(K, np.float32)):
                failures.append("wrong product")
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    if k.can_split():
        assert k._blas_threads() >= 1


_SPLIT = """
import sys
import numpy as np
from gdl._kernels import conv
from gdl._kernels import matmul as k
rng = np.random.default_rng(0)
out = {}
for M, K, N in [(100, 784, 100), (37, 1001, 83), (300, 129, 61), (128, 784, 512),
                (203, 520, 161), (9, 2000, 1000), (128, 10000, 10), (1401, 1003, 13)]:
    for dtype in (np.float32, np.float64):
        a, b = rng.standard_normal((M, K)).astype(dtype), rng.standard_normal((N, K))
        b = b.astype(dtype)
        out[f"{M}_{K}_{N}_{np.dtype(dtype).name}"] = k.matmul(a, b, False, True)
        at, bt = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)     # (K, M), (K, N)
        out[f"{M}_{K}_{N}_{np.dtype(dtype).name}_tn"] = k.matmul(at, bt, True, False)
        out[f"{M}_{K}_{N}_{np.dtype(dtype).name}_nn"] = k.matmul(a, bt, False, False)
np.savez(sys.argv[1], **out)
"""


def test_split_products_agree_for_every_thread_count(tmp_path):
    # the halves depend on the shape only (Note [split GEMM]): one thread runs both; so do the
    # packed kernel's tasks (Note [packed GEMM])
    settings = {n: {"GDL_NUM_THREADS": n} for n in ("1", "2", "3")}
    settings["no-spin"] = {"GDL_NUM_THREADS": "2", "GDL_SPIN_US": "0"}
    assert_identical(run_each(_SPLIT, settings, tmp_path), "1", 48)


def test_packed_and_blas_products_agree(tmp_path):
    # GDL_SMALL_GEMM=0 turns the packed kernels off: the same products through the BLAS; "avx2"
    # runs the AVX2 level where the CPU has AVX-512 (Note [kernel levels]), at which the
    # products are the BLAS's (Note [packed GEMM]): bit for bit the same as with "0"
    flags = ("1", "avx2", "0")
    runs = run_each(_SPLIT, {flag: {"GDL_SMALL_GEMM": flag} for flag in flags}, tmp_path)
    for key in runs["0"].files:
        K = int(key.split("_")[1])
        assert_allclose(runs["1"][key], runs["0"][key], **tolerance(K, np.float32),
                        err_msg=f"{key} under GDL_SMALL_GEMM=1")
        assert np.array_equal(runs["avx2"][key], runs["0"][key]), key
    if conv.packed_kernels() == "avx512":  # the packed runs really came from a packed kernel
        assert any(not np.array_equal(runs["1"][key], runs["0"][key]) for key in runs["0"].files)


def test_products_agree_on_numpys_and_scipys_blas(tmp_path):
    # the same products, float32 and float64, every path, through either BLAS
    runs = run_each(_SPLIT, {"auto": {}, "scipy": {"GDL_BLAS": "scipy"}}, tmp_path)
    assert len(runs["auto"].files) == 48
    for key in runs["auto"].files:
        K = int(key.split("_")[1])
        dtype = np.float64 if "float64" in key else np.float32
        assert_allclose(runs["scipy"][key], runs["auto"][key], **tolerance(K, dtype),
                        err_msg=key)


def test_packed_path_can_be_switched_off_for_paired_timings():
    a = random((128, 784), np.float32)
    b = random((784, 512), np.float32, seed=1)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    assert k._allow_packed(False) is True
    try:
        assert k._path(128, 512, 784, np.float32) == ("split" if k.can_split() else "one call")
        assert_allclose(k.matmul(a, b), expected, **tolerance(784, np.float32))
    finally:
        assert k._allow_packed(True) is False
    packed = conv.packed_kernels() == "avx512"
    assert (k._path(128, 512, 784, np.float32) == "packed") == packed
    assert_allclose(k.matmul(a, b), expected, **tolerance(784, np.float32))


def test_gemms_call_numpys_openblas_when_it_has_one():
    # Note [numpy's BLAS]: numpy's PyPI wheels bundle scipy-openblas64; GDL_BLAS=scipy keeps
    # scipy's cython_blas, and so does numpy imported first with its threads left to spin
    from gdl.info import blas_info
    base = {k: v for k, v in os.environ.items() if k not in ("GDL_BLAS", "OPENBLAS_THREAD_TIMEOUT")}
    gdl_first = "from gdl._kernels import matmul; print(matmul.blas())"
    numpy_first = "import numpy; " + gdl_first
    cases = {"auto": (gdl_first, {}), "scipy": (gdl_first, {"GDL_BLAS": "scipy"}),
             "numpy first": (numpy_first, {}),
             "numpy first, timeout set": (numpy_first, {"OPENBLAS_THREAD_TIMEOUT": "4"})}
    runs = {name: subprocess.run([sys.executable, "-c", script], env={**base, **env},
                                 capture_output=True, text=True, check=True).stdout.strip()
            for name, (script, env) in cases.items()}
    assert runs["scipy"] == runs["numpy first"] == "scipy"
    has_numpys = blas_info().startswith("scipy-openblas") and sys.platform.startswith("linux")
    for name in ("auto", "numpy first, timeout set"):
        assert runs[name] == ("numpy" if has_numpys else "scipy"), name


# ---- the ops on split products -------------------------------------------------------------
def test_linear_on_a_split_product_matches_numpy():
    layer = nn.Linear(784, 100).double()
    x = random((100, 784), np.float64, seed=3)
    W, b = layer.weight.data, layer.bias.data
    t = gdl.Tensor(x, requires_grad=True)
    y = layer(t)
    # a different summation order than numpy's one call: agreement to rounding, in absolute
    # terms where a sum of ~1 terms cancels to ~1e-4
    tol = dict(rtol=1e-12, atol=1e-14)
    assert_allclose(y.data, x @ W.T + b, **tol)
    gy = random((100, 100), np.float64, seed=4)
    y.backward(gy)
    assert_allclose(t.grad.data, gy @ W, **tol)
    assert_allclose(layer.weight.grad.data, gy.T @ x, **tol)


@pytest.mark.parametrize("strided", [False, True])
def test_linear_on_a_3d_input_takes_the_kernel_and_matches_numpy(monkeypatch, strided):
    # (T, B, D) rows go to the kernel as one (T B, D) product, views included
    from gdl.ops import matmul as op_module
    calls, kernel = [], k.matmul

    def spy(*args):
        calls.append(args)
        return kernel(*args)
    monkeypatch.setattr(op_module._k, "matmul", spy)
    layer = nn.Linear(300, 40).double()
    x = random((20, 5, 300), np.float64, seed=3)
    if strided:
        x = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)
        assert not x.flags.c_contiguous
    W, b = layer.weight.data, layer.bias.data
    t = gdl.Tensor(x, requires_grad=True)
    y = layer(t)
    assert y.shape == (20, 5, 40) and len(calls) == 1
    tol = dict(rtol=1e-12, atol=1e-12)
    assert_allclose(y.data, x @ W.T + b, **tol)
    gy = random((20, 5, 40), np.float64, seed=4)
    y.backward(gy)
    assert_allclose(t.grad.data, gy @ W, **tol)
    assert_allclose(layer.weight.grad.data, gy.reshape(-1, 40).T @ x.reshape(-1, 300), **tol)


def test_linear_on_narrow_products_matches_float64():
    # bench W3's dense layer in float32: y = x W^T (the dot-product form), gx = gy W (the rows
    # form, inner length 10), gW = gy^T x (B streamed by rows, 10 rows of C)
    layer = nn.Linear(10000, 10, bias=False)
    x = random((128, 10000), np.float32, seed=3)
    W = layer.weight.data
    if conv.packed_kernels() == "avx512":
        assert k._path(128, 10, 10000, np.float32, False, True) == "narrow"
        assert k._path(128, 10000, 10, np.float32, False, False) == "narrow"
        assert k._path(10, 10000, 128, np.float32, True, False) == "narrow"
    t = gdl.Tensor(x, requires_grad=True)
    y = layer(t)
    x64, W64 = x.astype(np.float64), W.astype(np.float64)
    assert_allclose(y.data, x64 @ W64.T, **tolerance(10000, np.float32))
    gy = random((128, 10), np.float32, seed=4)
    y.backward(gy)
    assert t.grad.data.dtype == np.float32
    assert_allclose(t.grad.data, gy.astype(np.float64) @ W64, **tolerance(10, np.float32))
    assert_allclose(layer.weight.grad.data, gy.T.astype(np.float64) @ x64,
                    **tolerance(128, np.float32))


def test_linear_and_matmul_gradcheck_through_the_split_kernel():
    # 40 x 300 x 200 = 2.4 M multiply-adds: split; gradcheck in float64 with random directions
    x, W = random((40, 300), np.float64, seed=5), random((200, 300), np.float64, seed=6) * 0.1
    assert gradcheck(lambda t, w: ops.Linear.apply(t, w), [x, W])
    assert gradcheck(lambda p, q: p @ q, [x, W.T.copy()])


def test_matmul_op_promotes_mixed_dtypes_like_numpy():
    a = np.ones((3, 4), np.float32)
    b = np.ones((4, 2), np.float64)
    y = gdl.Tensor(a) @ gdl.Tensor(b)
    assert y.data.dtype == np.float64
    assert_allclose(y.data, a @ b)


@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True)])
def test_the_ops_take_the_kernel_from_the_one_thread_size(monkeypatch, trans_a, trans_b):
    # below ONE_THREAD_MIN multiply-adds numpy's matmul (less call overhead), from it the
    # kernel (Note [one-thread GEMM])
    from gdl.ops import matmul as op_module
    assert 0 < k.ONE_THREAD_MIN < k.SPLIT_MIN < k.SPLIT_MAX
    calls, kernel = [], k.matmul

    def spy(*args):
        calls.append(args)
        return kernel(*args)
    monkeypatch.setattr(op_module._k, "matmul", spy)
    for M, K, N in [(100, 100, 10), (1, 784, 100), (64, 64, 63), (64, 64, 64), (128, 512, 10),
                    (100, 784, 100)]:
        calls.clear()
        a, b, expected = operands(M, K, N, np.float32, trans_a, trans_b)
        assert_allclose(op_module.product(a, b, trans_a, trans_b), expected, rtol=1e-4,
                        atol=1e-4)
        assert len(calls) == (M * K * N >= k.ONE_THREAD_MIN), (M, K, N)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_thread_products_leave_the_blas_thread_count_as_it_was(dtype):
    # Note [one-thread GEMM]: held to one thread for the call, restored after it
    before = k._blas_threads()
    for M, K, N in [(64, 64, 64), (128, 512, 10), (33, 1000, 17), (1, 4096, 100)]:
        assert k.ONE_THREAD_MIN <= M * K * N < k.SPLIT_MIN
        a, b, expected = operands(M, K, N, dtype, False, True)
        assert_allclose(k.matmul(a, b, trans_b=True), expected, **tolerance(K, dtype))
        assert k._blas_threads() == before
