"""Row-sparse embedding gradients (Note [sparse gradients]): the same numbers as dense ones."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import gdl
from gdl import nn
from gdl.sparse import RowSparse
from gdl.testing import gradcheck


def _pair(layer_cls, V=13, D=4, dtype=np.float64, **kw):
    """The same layer twice, one dense and one sparse, with equal weights."""
    dense = layer_cls(V, D, dtype=dtype, **kw)
    sparse = layer_cls(V, D, dtype=dtype, sparse=True, **kw)
    sparse.weight.data[...] = dense.weight.data
    return dense, sparse


@pytest.mark.parametrize("layer_cls, shape", [(nn.Embedding, (5,)), (nn.Embedding, (3, 4)),
                                              (nn.EmbeddingBag, (1, 6)),
                                              (nn.EmbeddingBag, (4, 3))])
def test_sparse_gradient_equals_dense(layer_cls, shape):
    idx = np.random.default_rng(0).integers(0, 13, size=shape)
    idx.reshape(-1)[:2] = 7                               # a repeated row
    dense, sparse = _pair(layer_cls)
    up = np.random.default_rng(1).standard_normal(dense(idx).shape)
    (dense(idx) * gdl.Tensor(up)).sum().backward()
    (sparse(idx) * gdl.Tensor(up)).sum().backward()
    assert isinstance(sparse.weight.grad, RowSparse)
    assert_allclose(sparse.weight.grad.to_dense(), dense.weight.grad.data, rtol=1e-12)
    assert_allclose(sparse.weight.grad.data, dense.weight.grad.data, rtol=1e-12)


def test_sparse_gradients_add_to_each_other_and_to_dense_ones():
    dense, sparse = _pair(nn.Embedding)
    a, b = np.array([1, 2, 2]), np.array([[2, 9]])
    for layer in (dense, sparse):
        loss = layer(a).sum() + (layer(b) * 3.0).sum()        # sparse + sparse
        loss.backward()
    assert isinstance(sparse.weight.grad, RowSparse)
    assert_allclose(sparse.weight.grad.data, dense.weight.grad.data)
    for layer in (dense, sparse):                              # then a dense use of the weight
        (layer(a).sum() + (layer.weight * layer.weight).sum()).backward()
    assert isinstance(sparse.weight.grad, gdl.Tensor)
    assert_allclose(sparse.weight.grad.data, dense.weight.grad.data)


def test_a_computed_table_gets_a_dense_gradient():
    W = gdl.Tensor(np.random.default_rng(2).standard_normal((6, 3)), requires_grad=True)
    table = W * 2.0                                            # not a leaf: no RowSparse
    out = gdl.ops.Embedding.apply(table, np.array([1, 1, 4]), sparse=True)
    out.sum().backward()
    expected = np.zeros((6, 3))
    expected[1] = 4.0
    expected[4] = 2.0
    assert_allclose(W.grad.data, expected)


def test_sparse_embedding_gradcheck():
    idx = np.array([[0, 3, 3], [2, 0, 1]])

    def bag(W):
        return gdl.ops.EmbeddingBag.apply(W, idx, sparse=True).tanh()

    def lookup(W):
        return gdl.ops.Embedding.apply(W, idx, sparse=True) * 1.5

    W = np.random.default_rng(3).standard_normal((5, 4))
    gradcheck(bag, [W])
    gradcheck(lookup, [W])


@pytest.mark.parametrize("make", [
    lambda ps: gdl.SGD(ps, lr=0.1),
    lambda ps: gdl.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: gdl.SGD(ps, lr=0.1, weight_decay=0.01),
    lambda ps: gdl.Adam(ps, lr=0.01),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_optimizers_step_the_same_from_sparse_and_dense(make, dtype):
    dense, sparse = _pair(nn.EmbeddingBag, V=50, D=8, dtype=dtype)
    opt_dense, opt_sparse = make(dense.parameters()), make(sparse.parameters())
    rng = np.random.default_rng(4)
    for _ in range(3):
        idx = rng.integers(0, 50, size=(4, 6))
        for layer, opt in ((dense, opt_dense), (sparse, opt_sparse)):
            (layer(idx) ** 2).sum().backward()
            opt.step()
    assert_allclose(sparse.weight.data, dense.weight.data, rtol=1e-5 if dtype == np.float32
                    else 1e-12)


def test_plain_sgd_touches_only_the_used_rows():
    layer = nn.EmbeddingBag(1000, 5, sparse=True)
    before = layer.weight.data.copy()
    layer(np.array([[3, 999, 3]])).sum().backward()
    gdl.SGD(layer.parameters(), lr=0.5).step()
    changed = np.nonzero((layer.weight.data != before).any(axis=1))[0]
    assert_array_equal(changed, [3, 999])
    assert_allclose(layer.weight.data[3], before[3] - 1.0, rtol=1e-6)


def test_clip_grad_norm_treats_sparse_like_dense():
    dense, sparse = _pair(nn.Embedding)
    idx = np.array([4, 4, 0, 12])
    for layer in (dense, sparse):
        (layer(idx) * 10.0).sum().backward()
    norms = [nn.utils.clip_grad_norm_(layer.parameters(), 1.0) for layer in (dense, sparse)]
    assert_allclose(norms[1], norms[0], rtol=1e-12)
    assert_allclose(sparse.weight.grad.data, dense.weight.grad.data, rtol=1e-12)


def test_a_bag_gradient_keeps_one_row_per_bag():
    """EmbeddingBag's sparse gradient holds gy once per bag (group = the bag's length), and
    reads everywhere as the repeated rows."""
    idx = np.array([[1, 4, 4], [0, 12, 1]])
    dense, sparse = _pair(nn.EmbeddingBag)
    up = np.random.default_rng(3).standard_normal((2, 4))
    for layer in (dense, sparse):
        (layer(idx) * gdl.Tensor(up)).sum().backward()
    g = sparse.weight.grad
    assert g.group == 3 and g.group_values.shape == (2, 4)
    assert_allclose(g.group_values, up, rtol=1e-15)
    assert_allclose(g.values, np.repeat(up, 3, axis=0), rtol=1e-15)
    assert_allclose(g.to_dense(), dense.weight.grad.data, rtol=1e-12)
    assert_allclose((g * 2.0).to_dense(), 2 * dense.weight.grad.data, rtol=1e-12)
    assert (g * 2.0).group == 3 and g.astype(np.float32).group == 3
    assert_allclose((g + g).to_dense(), 2 * dense.weight.grad.data, rtol=1e-12)
    assert_allclose(g.coalesce().to_dense(), dense.weight.grad.data, rtol=1e-12)
    for layer in (dense, sparse):                     # and plain SGD steps the same rows
        gdl.SGD(layer.parameters(), lr=0.5).step()
    assert_allclose(sparse.weight.data, dense.weight.data, rtol=1e-12)


def test_row_sparse_checks_its_group():
    g = RowSparse(np.array([3, 1, 3, 0]), np.ones((2, 2)), (5, 2), group=2)
    assert_array_equal(g.to_dense()[3], [2.0, 2.0])
    with pytest.raises(ValueError, match=r"group must be a positive divisor of len\(rows\) = 4"):
        RowSparse(np.array([3, 1, 3, 0]), np.ones((2, 2)), (5, 2), group=3)
    with pytest.raises(ValueError, match=r"values must have shape \(len\(rows\) // group, D\)"):
        RowSparse(np.array([3, 1, 3, 0]), np.ones((4, 2)), (5, 2), group=2)


def test_row_sparse_coalesces_and_rejects_bad_input():
    g = RowSparse(np.array([3, 1, 3]), np.arange(6.0).reshape(3, 2), (5, 2))
    c = g.coalesce()
    assert_array_equal(c.rows, [1, 3])
    assert_array_equal(c.values, [[2.0, 3.0], [4.0, 6.0]])
    assert_array_equal(c.to_dense(), g.to_dense())
    assert_array_equal((np.ones((5, 2)) + g), 1 + g.to_dense())
    with pytest.raises(ValueError, match=r"rows must lie in \[0, 5\)"):
        RowSparse(np.array([5]), np.zeros((1, 2)), (5, 2))
    with pytest.raises(ValueError, match="values must have shape"):
        RowSparse(np.array([1]), np.zeros((2, 2)), (5, 2))
    with pytest.raises(ValueError, match="rows must be a 1-D integer array"):
        RowSparse(np.array([1.0]), np.zeros((1, 2)), (5, 2))
    with pytest.raises(ValueError, match="cannot add"):
        g + np.zeros((4, 2))


@pytest.mark.parametrize("layer_cls, idx", [(nn.Embedding, np.array([[1, 4], [4, 0]])),
                                            (nn.EmbeddingBag, np.array([[1, 4], [4, 0]]))])
def test_a_sparse_gradient_owns_its_values(layer_cls, idx):
    """Add hands one upstream array to both of its inputs; a dense leaf may keep it as its
    .grad and later add into it in place, which must not change the table's sparse gradient."""
    dense, sparse = _pair(layer_cls)
    shape = dense(idx).shape
    for layer in (dense, sparse):
        b = gdl.Tensor(np.zeros(shape), requires_grad=True)
        ((layer(idx) + b) * 2.0).sum().backward()
        b.grad.data *= 10.0                      # the user scales b's gradient in place
        ((layer(idx) + b) * 3.0).sum().backward()   # and a second backward adds into it
    assert_allclose(sparse.weight.grad.to_dense(), dense.weight.grad.data, rtol=1e-12)
