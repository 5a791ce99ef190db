"""The conv family: im2col + GEMM convolution against the book's patch loop, gradients, errors."""
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl._kernels import conv as k
from gdl.nn.conv import Conv2d
from gdl.ops import conv as ops
from gdl.testing import gradcheck

import reference
from subprocs import cpu_has, run_each
from test_lstm import assert_paths_agree

RTOL = {np.float32: 1e-5, np.float64: 1e-7}

# (N, C, H, W, O, kernel, stride, padding): odd sizes, batch 1, one and many channels
CASES = [
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 6, 4, 3, 1, 1),
    (3, 2, 9, 7, 5, 3, 2, 0),
    (1, 4, 6, 5, 3, 2, 2, 1),
    (2, 3, 5, 5, 2, 1, 1, 0),
    (2, 1, 4, 4, 3, 5, 1, 1),
]


def _data(N, C, H, W, O, kernel, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    Wt = rng.standard_normal((O, C, kernel, kernel)).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    return x, Wt, b


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_matches_reference(case, dtype):
    N, C, H, W, O, kernel, stride, padding = case
    x, Wt, b = _data(N, C, H, W, O, kernel, dtype)
    expected = reference.conv2d(x.astype(np.float64), Wt.astype(np.float64), b, stride, padding)
    y = k.conv2d_fwd(x, Wt, b, stride, padding)
    assert y.dtype == dtype
    assert_allclose(y, expected, rtol=RTOL[dtype] * 10, atol=1e-5)
    assert_allclose(k.conv2d_fwd(x, Wt, None, stride, padding), expected - b[:, None, None],
                    rtol=RTOL[dtype] * 10, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_gradcheck(case):
    N, C, H, W, O, kernel, stride, padding = case
    x, Wt, b = _data(N, C, H, W, O, kernel)
    gradcheck(lambda x, Wt, b: ops.Conv2d.apply(x, Wt, b, stride=stride, padding=padding),
              [x, Wt, b])


@pytest.mark.parametrize("chunk", [1, 2, 3, None])
def test_conv2d_chunks_agree(chunk):
    x, Wt, b = _data(5, 3, 7, 6, 4, 3)
    gy = np.random.default_rng(1).standard_normal((5, 4, 4, 3))
    y = k.conv2d_fwd(x, Wt, b, 2, 1, chunk=chunk)
    assert_allclose(y, reference.conv2d(x, Wt, b, 2, 1), rtol=1e-10, atol=1e-12)
    gx, gW, gb = k.conv2d_bwd(x, Wt, gy, 2, 1, chunk=chunk)
    gx1, gW1, gb1 = k.conv2d_bwd(x, Wt, gy, 2, 1, chunk=5)
    assert_allclose(gx, gx1, rtol=1e-12)
    assert_allclose(gW, gW1, rtol=1e-12)
    assert_allclose(gb, gy.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_conv2d_backward_skips_what_is_not_needed():
    x, Wt, _ = _data(2, 3, 5, 5, 2, 3)
    gy = np.ones((2, 2, 3, 3))
    gx, gW, gb = k.conv2d_bwd(x, Wt, gy, need_x=False, need_b=False)
    assert gx is None and gb is None and gW.shape == Wt.shape
    out = ops.Conv2d.apply(gdl.Tensor(x), gdl.Tensor(Wt, requires_grad=True))
    out.backward(gy)                                  # x does not require grad: no gx computed


def test_im2col_and_col2im_are_adjoint():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 6, 5))
    cols = k.im2col(x, (3, 2), stride=(2, 1), padding=(1, 0))
    c = rng.standard_normal(cols.shape)
    back = k.col2im(c, x.shape, (3, 2), stride=(2, 1), padding=(1, 0))
    assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)   # <im2col x, c> = <x, c'>


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_non_contiguous_input(dtype):
    x, Wt, b = _data(2, 3, 12, 10, 4, 3, dtype)
    view = x[:, :, ::2, ::2]                          # strided in H and W
    assert not view.flags.c_contiguous
    y = k.conv2d_fwd(view, Wt, b, 1, 1)
    expected = reference.conv2d(view.astype(np.float64).copy(), Wt.astype(np.float64), b, 1, 1)
    assert_allclose(y, expected, rtol=RTOL[dtype] * 10, atol=1e-5)


def test_conv2d_empty_batch():
    x, Wt, b = _data(1, 2, 5, 5, 3, 3)
    assert k.conv2d_fwd(x[:0], Wt, b).shape == (0, 3, 3, 3)
    gx, gW, gb = k.conv2d_bwd(x[:0], Wt, np.zeros((0, 3, 3, 3)))
    assert gx.shape == (0, 2, 5, 5) and (gW == 0).all() and (gb == 0).all()


def test_conv2d_errors_name_the_argument_and_shape():
    x, Wt, b = _data(2, 3, 5, 5, 4, 3)
    with pytest.raises(ValueError, match=r"W has 2 input channels but x has 3 .*"
                                         r"W must be \(4, 3, 3, 3\)"):
        k.conv2d_fwd(x, Wt[:, :2])
    with pytest.raises(ValueError, match=r"kernel 7x7 is larger than the padded input 7x7|"
                                         r"kernel 9x9 is larger than the padded input 7x7"):
        k.conv2d_fwd(x, np.ones((4, 3, 9, 9)), padding=1)
    with pytest.raises(ValueError, match=r"x must be 4-D \(N, C, H, W\), got shape \(3, 5, 5\)"):
        k.conv2d_fwd(x[0], Wt)
    with pytest.raises(ValueError, match=r"W must be 4-D \(out_channels, in_channels, kh, kw\)"):
        k.conv2d_fwd(x, Wt[0])
    with pytest.raises(TypeError, match="x must be float32 or float64, got int64"):
        k.conv2d_fwd(x.astype(np.int64), Wt)
    with pytest.raises(TypeError, match="W must have x's dtype float64, got float32"):
        k.conv2d_fwd(x, Wt.astype(np.float32))
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        k.conv2d_fwd(x, Wt, b[:2])
    with pytest.raises(ValueError, match=r"gy must have shape \(2, 4, 3, 3\)"):
        k.conv2d_bwd(x, Wt, np.ones((2, 4, 3, 2)))
    with pytest.raises(ValueError, match="stride must be at least 1"):
        k.conv2d_fwd(x, Wt, stride=0)
    with pytest.raises(TypeError, match="padding must be an int or a pair of ints"):
        k.conv2d_fwd(x, Wt, padding=1.5)


def test_conv2d_layer_has_pytorchs_shapes_and_trains():
    gdl.manual_seed(0)
    layer = Conv2d(3, 8, 3, stride=2, padding=1)
    assert layer.weight.shape == (8, 3, 3, 3) and layer.bias.shape == (8,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    x = np.random.default_rng(3).standard_normal((4, 3, 9, 9)).astype(np.float32)
    assert layer(x).shape == (4, 8, 5, 5)
    target = np.zeros((4, 8, 5, 5), dtype=np.float32)
    optimizer = gdl.SGD(layer.parameters(), lr=0.1)
    losses = []
    for _ in range(20):
        loss = ((layer(x) - target) ** 2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    no_bias = Conv2d(1, 2, (3, 1), bias=False)
    assert no_bias.bias is None and len(no_bias.get_parameters()) == 1
    assert no_bias(np.zeros((1, 1, 4, 4), dtype=np.float32)).shape == (1, 2, 2, 4)


# Note [packed conv]: float32 on AVX-512 takes the packed kernel; shapes that exercise its edges
# (rows not a multiple of 8, widths not a multiple of 32, K above one strip, stride, padding,
# batch 1, and enough work for several threads)
PACKED_CASES = [
    (1, 1, 28, 28, 32, 3, 1, 0),        # W6b conv1, batch 1
    (9, 32, 13, 13, 64, 3, 1, 0),       # W6b conv2, threaded
    (3, 5, 11, 9, 7, 3, 2, 1),          # 7 rows, K = 45
    (4, 3, 17, 15, 13, 5, 1, 2),        # 13 rows, K = 75, P = 255
    (2, 40, 6, 7, 9, 1, 1, 0),          # 1x1 kernel, K = 40
    (3, 1, 27, 27, 16, 3, 1, 0),        # bench W3's conv: output rows of 25 across strips
    (2, 2, 12, 11, 9, 3, (2, 1), 1),    # stride 2 down, 1 across: rows copied, not gathered
    (37, 8, 10, 10, 24, 3, 1, 1),       # 16 image groups of 2-3 images (cp_groups), threaded
    (16, 64, 5, 5, 512, 3, 1, 0),       # a 512 x 576 weight: 8 groups (CP_MAX_PARTIALS)
]


def _f32_vs_f64(case, seed=0):
    N, C, H, W, O, kernel, stride, padding = case
    x, Wt, b = _data(N, C, H, W, O, kernel, np.float64, seed)
    gy = np.random.default_rng(seed + 1).standard_normal(
        k.conv2d_fwd(x, Wt, b, stride, padding).shape)
    expected = [k.conv2d_fwd(x, Wt, b, stride, padding)]
    expected += k.conv2d_bwd(x, Wt, gy, stride, padding)
    f32 = [a.astype(np.float32) for a in (x, Wt, b, gy)]
    got = [k.conv2d_fwd(*f32[:3], stride, padding)]
    got += k.conv2d_bwd(f32[0], f32[1], f32[3], stride, padding)
    return got, expected


@pytest.mark.parametrize("case", PACKED_CASES)
def test_conv2d_float32_forward_and_backward_match_float64(case):
    for name, g, e in zip(("y", "gx", "gW", "gb"), *_f32_vs_f64(case)):
        assert g.dtype == np.float32
        assert_allclose(g, e, rtol=2e-5, atol=2e-5 * float(np.abs(e).max()), err_msg=name)
    # without bias and with only some gradients wanted
    N, C, H, W, O, kernel, stride, padding = case
    x, Wt, _ = _data(N, C, H, W, O, kernel, np.float32)
    gy = np.ones(k.conv2d_fwd(x, Wt, None, stride, padding).shape, np.float32)
    gx, gW, gb = k.conv2d_bwd(x, Wt, gy, stride, padding, need_x=False, need_b=False)
    assert gx is None and gb is None
    assert_allclose(gW, k.conv2d_bwd(x.astype(np.float64), Wt.astype(np.float64),
                                     gy.astype(np.float64), stride, padding)[1], rtol=2e-5, atol=1e-3)


_BOTH_CONV_PATHS = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
import test_conv
out = {{}}
for i, case in enumerate(test_conv.PACKED_CASES):
    got, _ = test_conv._f32_vs_f64(case)
    out.update({{f"{{i}}_{{n}}": a for n, a in zip(("y", "gx", "gW", "gb"), got)}})
np.savez(sys.argv[1], **out)
"""


def test_conv2d_packed_path_equals_the_blas_path(tmp_path):
    # "avx2" runs the AVX2 build on an AVX-512 CPU (Note [kernel levels])
    code = _BOTH_CONV_PATHS.format(tests=os.path.dirname(__file__))
    runs = run_each(code, {flag: {"GDL_SMALL_GEMM": flag, "GDL_NUM_THREADS": "3"}
                           for flag in ("1", "avx2", "0")}, tmp_path)
    assert len(runs["1"].files) == 4 * len(PACKED_CASES)
    for flag in ("1", "avx2"):
        assert_paths_agree(runs[flag], runs["0"], cpu_has("avx2") and cpu_has("fma"))
