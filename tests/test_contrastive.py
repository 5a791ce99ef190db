"""Chapter 16: the contrastive losses against NumPy references and gradient checks; SimCLR,
the probes and the pretext task trained small but real."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import gdl
from gdl import nn
from gdl.testing import gradcheck

RTOL = {np.float32: 1e-5, np.float64: 1e-7}


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# ---- NumPy references, written out like the papers' formulas ---------------------------------
def distance_reference(x1, x2, p=2.0, eps=1e-6):
    return (np.abs(x1 - x2 + eps) ** p).sum(axis=1) ** (1 / p)


def triplet_reference(anchor, positive, negative, margin=1.0, p=2.0):
    d_pos = distance_reference(anchor, positive, p)
    d_neg = distance_reference(anchor, negative, p)
    return np.maximum(d_pos - d_neg + margin, 0).mean()


def contrastive_reference(x1, x2, same, margin=1.0):
    d = distance_reference(x1, x2)
    return (same * d ** 2 + (1 - same) * np.maximum(margin - d, 0) ** 2).mean() / 2


def ntxent_reference(z1, z2, temperature=0.5):
    """View by view: -log(exp(s_i,pos) / sum over the other views of exp(s_ik))."""
    z = np.concatenate([z1, z2])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    s = z @ z.T / temperature
    n = len(z1)
    losses = []
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        others = [k for k in range(2 * n) if k != i]
        top = s[i, others].max()                     # log-sum-exp without overflow
        log_denominator = top + np.log(np.exp(s[i, others] - top).sum())
        losses.append(log_denominator - s[i, positive])
    return np.mean(losses)


# ---- TripletMarginLoss ----------------------------------------------------------------------
@pytest.mark.parametrize("n, p, margin", [(6, 2.0, 1.0), (1, 2.0, 5.0), (5, 1.0, 2.0),
                                          (4, 3.0, 0.5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_triplet_matches_reference(n, p, margin, dtype):
    a, pos, neg = (rand(n, 5, seed=s).astype(dtype) for s in (1, 2, 3))
    loss = nn.TripletMarginLoss(margin=margin, p=p)(a, pos, neg)
    assert loss.dtype == dtype and loss.shape == ()
    assert_allclose(loss.item(), triplet_reference(a, pos, neg, margin, p), rtol=RTOL[dtype])


def test_triplet_gradcheck():
    a, pos, neg = rand(5, 4, seed=5), rand(5, 4, seed=105), rand(5, 4, seed=205)
    hinge = distance_reference(a, pos) - distance_reference(a, neg) + 1.0
    assert (hinge > 0.1).any() and (hinge < -0.1).any()          # both sides of the hinge,
    assert np.abs(hinge).min() > 0.1                               # away from its kink
    assert gradcheck(nn.TripletMarginLoss(margin=1.0), [a, pos, neg])
    assert gradcheck(nn.TripletMarginLoss(margin=3.0, p=1.5), [a, pos, neg])


def test_distance_of_equal_points_has_a_finite_gradient():
    a = gdl.Tensor(np.ones((2, 3)), requires_grad=True)
    pos = gdl.Tensor(np.ones((2, 3)), requires_grad=True)
    nn.TripletMarginLoss(margin=5.0)(a, pos, np.zeros((2, 3))).backward()
    # d(a, pos) = ||eps * ones|| = eps sqrt(3) > 0: its gradient is the unit vector
    # ones / sqrt(3), halved by the mean over 2 rows; d(a, neg) pulls a the other way as much
    assert_allclose(a.grad.data, 0.0, atol=1e-6)
    assert_allclose(pos.grad.data, -0.5 / np.sqrt(3), rtol=1e-6)


# ---- ContrastiveLoss ------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_contrastive_matches_reference(n, dtype):
    x1, x2 = rand(n, 4, seed=7).astype(dtype), rand(n, 4, seed=8).astype(dtype)
    same = np.arange(n) % 2
    for margin in (0.5, 3.0):
        loss = nn.ContrastiveLoss(margin=margin)(x1, x2, same)
        assert loss.dtype == dtype
        assert_allclose(loss.item(), contrastive_reference(x1, x2, same, margin),
                        rtol=RTOL[dtype])


def test_contrastive_pulls_same_pairs_and_pushes_different_ones():
    close = np.zeros((1, 2)), np.full((1, 2), 0.1)
    criterion = nn.ContrastiveLoss(margin=1.0)
    assert criterion(*close, [1]).item() < 0.011                  # same and close: small
    assert criterion(*close, [0]).item() > 0.3                    # different and close: large
    far = np.zeros((1, 2)), np.full((1, 2), 5.0)
    assert criterion(*far, [0]).item() == 0.0                     # beyond the margin: nothing


def test_contrastive_gradcheck():
    x1, x2 = rand(6, 3, seed=9), rand(6, 3, seed=10)
    same = np.array([1, 0, 1, 0, 0, 1])
    d = distance_reference(x1, x2)
    margin = 2.5
    assert ((d < margin) & (same == 0)).any() and np.abs(d - margin).min() > 0.05
    assert gradcheck(lambda a, b: nn.ContrastiveLoss(margin=margin)(a, b, same), [x1, x2])


# ---- NTXentLoss -----------------------------------------------------------------------------
@pytest.mark.parametrize("n, d, temperature", [(2, 3, 0.5), (8, 5, 0.1), (5, 16, 1.0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ntxent_matches_reference(n, d, temperature, dtype):
    z1, z2 = rand(n, d, seed=11).astype(dtype), rand(n, d, seed=12).astype(dtype)
    loss = nn.NTXentLoss(temperature=temperature)(z1, z2)
    assert loss.dtype == dtype and loss.shape == ()
    assert_allclose(loss.item(), ntxent_reference(z1, z2, temperature), rtol=RTOL[dtype])


def test_ntxent_gradcheck():
    z1, z2 = rand(4, 3, seed=13), rand(4, 3, seed=14)
    assert gradcheck(nn.NTXentLoss(temperature=0.5), [z1, z2])
    assert gradcheck(nn.NTXentLoss(temperature=0.1), [z1 * 3, z2])


def test_ntxent_is_stable_at_a_small_temperature_and_large_inputs():
    z1, z2 = rand(6, 4, seed=15) * 1e6, rand(6, 4, seed=16) * 1e6
    loss = nn.NTXentLoss(temperature=0.01)(z1.astype(np.float32), z2.astype(np.float32))
    assert np.isfinite(loss.item())                # exp(1 / 0.01) overflows float32
    assert_allclose(loss.item(), ntxent_reference(z1, z2, 0.01), rtol=1e-5)


def test_ntxent_of_one_pair_is_zero_and_of_matching_views_is_small():
    z = gdl.Tensor(rand(1, 4, seed=17), requires_grad=True)
    loss = nn.NTXentLoss()(z, rand(1, 4, seed=18))
    assert loss.item() == 0.0                                     # the positive is all there is
    loss.backward()
    assert_allclose(z.grad.data, 0.0, atol=1e-12)
    views = np.eye(8)                                             # each view far from the rest
    assert nn.NTXentLoss(0.1)(views, views).item() < 1e-3 < nn.NTXentLoss(0.1)(
        views, views[::-1].copy()).item()


def test_losses_of_computed_embeddings_get_every_path_of_the_gradient():
    # the inputs are outputs of a layer (not leaves) and each is used more than once inside
    # the loss: the gradient must be the same as when they are leaves
    x = rand(6, 3, seed=19)
    layer = nn.Linear(3, 4, dtype=np.float64)
    z = layer(x)
    as_leaf = gdl.Tensor(z.data.copy(), requires_grad=True)
    for loss in (lambda u: nn.NTXentLoss(0.5)(u[:3], u[3:]),
                 lambda u: nn.TripletMarginLoss(margin=2.0)(u[:2], u[2:4], u[4:]),
                 lambda u: nn.ContrastiveLoss(margin=2.0)(u[:3], u[3:], [1, 0, 0])):
        as_leaf.grad = None
        loss(as_leaf).backward()
        layer.zero_grad()
        loss(layer(x)).backward()
        assert_allclose(layer.weight.grad.data, as_leaf.grad.data.T @ x, rtol=1e-10)


# ---- the ops under NT-Xent: Normalize and Gram ----------------------------------------------
def test_normalize_and_gram_match_numpy_and_gradcheck():
    x = rand(5, 3, seed=20)
    unit = gdl.ops.Normalize.apply(gdl.Tensor(x)).data
    assert_allclose(unit, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-12)
    assert_allclose(gdl.ops.Gram.apply(gdl.Tensor(x)).data, x @ x.T, rtol=1e-12)
    assert gradcheck(lambda t: gdl.ops.Normalize.apply(t), [x])
    assert gradcheck(lambda t: gdl.ops.Normalize.apply(t, eps=0.5), [x])
    assert gradcheck(lambda t: gdl.ops.Gram.apply(t), [x])
    assert_allclose(gdl.ops.Normalize.apply(gdl.Tensor(np.zeros((2, 3)))).data, 0.0)
    with pytest.raises(ValueError, match=r"x must be a matrix \(N, D\)"):
        gdl.ops.Gram.apply(gdl.Tensor(np.zeros(3)))


# ---- bad input ------------------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: nn.TripletMarginLoss()(np.zeros(3), np.zeros(3), np.zeros(3)),
     r"anchor must be a batch of embeddings of shape \(N, D\)"),
    (lambda: nn.TripletMarginLoss()(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 3))),
     r"positive must have anchor's shape \(2, 3\)"),
    (lambda: nn.TripletMarginLoss()(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((3, 3))),
     "negative must have anchor's shape"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), "margin must be a non-negative number"),
    (lambda: nn.TripletMarginLoss(p=0), "p must be positive"),
    (lambda: nn.ContrastiveLoss()(np.zeros((0, 3)), np.zeros((0, 3)), []),
     "x1 must be a batch of embeddings"),
    (lambda: nn.ContrastiveLoss()(np.zeros((2, 3)), np.zeros((3, 2)), [0, 1]),
     "x2 must have x1's shape"),
    (lambda: nn.ContrastiveLoss()(np.zeros((2, 3)), np.zeros((2, 3)), [0, 1, 1]),
     r"same must have shape \(2,\)"),
    (lambda: nn.ContrastiveLoss()(np.zeros((2, 3)), np.zeros((2, 3)), [0, 2]),
     "same must hold only 0"),
    (lambda: nn.NTXentLoss()(np.zeros((4, 3, 1)), np.zeros((4, 3, 1))),
     "z1 must be a batch of embeddings"),
    (lambda: nn.NTXentLoss()(np.ones((4, 3)), np.ones((5, 3))), r"z2 must have z1's shape"),
    (lambda: nn.NTXentLoss(temperature=0.0), "temperature must be a positive number"),
])
def test_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---- evaluation: kNN, the linear probe, PCA -------------------------------------------------
def test_knn_matches_a_loop_over_the_test_points():
    rng = np.random.default_rng(21)
    train, test = rng.standard_normal((60, 5)), rng.standard_normal((25, 5))
    train_labels, test_labels = rng.integers(0, 3, 60), rng.integers(0, 3, 25)
    from gdl.contrastive import knn_accuracy
    unit = train / np.linalg.norm(train, axis=1, keepdims=True)
    correct = 0
    for point, label in zip(test, test_labels):
        similarity = unit @ (point / np.linalg.norm(point))
        nearest = np.argsort(-similarity)[:7]
        votes = np.zeros(3)
        for j in nearest:
            votes[train_labels[j]] += similarity[j]
        correct += votes.argmax() == label
    assert knn_accuracy(train, train_labels, test, test_labels, k=7, batch_size=10,
                        num_classes=3) == pytest.approx(correct / 25)
    assert knn_accuracy(train, train_labels, train, train_labels, k=1) == 1.0


def test_linear_probe_separates_separable_classes_and_pca_finds_the_long_axis():
    from gdl.contrastive import linear_probe, pca_2d
    rng = np.random.default_rng(22)
    labels = rng.integers(0, 4, 400)
    features = rng.standard_normal((400, 6)) * 0.3
    features[np.arange(400), labels] += 3.0                 # class c lifts feature c
    result = linear_probe(features[:300], labels[:300], features[300:], labels[300:], epochs=5,
                          batch_size=50, lr=1e-2, num_classes=4)
    assert result["test_accuracy"] == 1.0 and result["train_accuracy"] == 1.0
    line = rng.standard_normal((200, 1)) * np.array([[3.0, 4.0, 0.0]])   # along (3, 4, 0)
    points = pca_2d(line + rng.standard_normal((200, 3)) * 0.01)
    assert points.shape == (200, 2)
    assert abs(np.corrcoef(points[:, 0], line[:, 0])[0, 1]) > 0.999


@pytest.mark.parametrize("call, match", [
    (lambda ev: ev.knn_accuracy(np.zeros((4, 2)), np.zeros(3), np.zeros((2, 2)), np.zeros(2)),
     r"train_labels must have shape \(4,\)"),
    (lambda ev: ev.knn_accuracy(np.ones((4, 2)), np.zeros(4), np.ones((2, 2)), np.zeros(2), k=5),
     r"k must be in \[1, 4\]"),
    (lambda ev: ev.linear_probe(np.zeros((4, 2)), np.zeros(4), np.zeros((2, 3)), np.zeros(2)),
     "test_features must have 2 features"),
    (lambda ev: ev.linear_probe(np.zeros(4), np.zeros(4), np.zeros(2), np.zeros(2)),
     r"train_features must be a non-empty \(N, D\) array"),
])
def test_evaluation_bad_input(call, match):
    from gdl.contrastive import evaluate
    with pytest.raises(ValueError, match=match):
        call(evaluate)


# ---- views and SimCLR, trained small but real -----------------------------------------------
def test_views_keep_shape_reproduce_and_differ():
    from gdl.contrastive import make_views
    from gdl.data import load_mnist_slice
    images = (load_mnist_slice()[0][:64, None] / 255).astype(np.float32)
    one = make_views(images, np.random.default_rng(3))
    again = make_views(images, np.random.default_rng(3))
    other = make_views(images, np.random.default_rng(4))
    assert one.shape == images.shape and one.dtype == np.float32
    assert np.array_equal(one, again) and not np.array_equal(one, other)
    assert 0.0 <= one.min() and one.max() <= 1.0
    # a view still looks like its image more than like the others
    flat, views = images.reshape(64, -1), one.reshape(64, -1)
    similarity = (views / np.linalg.norm(views, axis=1, keepdims=True)) @ (
        flat / np.linalg.norm(flat, axis=1, keepdims=True)).T
    assert (similarity.argmax(axis=1) == np.arange(64)).mean() > 0.5


def test_simclr_loss_falls_and_beats_the_random_encoder():
    from gdl.contrastive import (SimCLR, SimCLRTrainer, build_encoder, build_projection_head,
                                 embed, knn_accuracy)
    from gdl.data import load_mnist_slice
    x_train, y_train, x_test, y_test = load_mnist_slice()
    images = (x_train[:, None] / 255).astype(np.float32)
    test_images = (x_test[:1000, None] / 255).astype(np.float32)
    gdl.manual_seed(0)
    model = SimCLR(build_encoder(64), build_projection_head(64, 64, 32))
    random = embed(model.encoder, images), embed(model.encoder, test_images)
    trainer = SimCLRTrainer(model, lr=2e-3, temperature=0.2, batch_size=100, total_steps=60)
    losses = [trainer.train_epoch(images, epoch) for epoch in range(6)]
    assert losses[-1] < losses[0] - 0.5, losses
    learned = embed(model.encoder, images), embed(model.encoder, test_images)
    accuracy = {name: knn_accuracy(train, y_train, test, y_test[:1000], k=5)
                for name, (train, test) in (("random", random), ("learned", learned))}
    assert accuracy["learned"] > accuracy["random"] + 0.05, accuracy     # measured 0.83, 0.70


# ---- the pretext task and the two projects --------------------------------------------------
def test_pretext_hides_one_square_and_learns_to_fill_it():
    from gdl.contrastive import pretext
    from gdl.data import load_mnist_slice
    x_train, _, x_test, _ = load_mnist_slice()
    images, test_images = x_train / np.float32(255), x_test[:500] / np.float32(255)
    inputs, target, mask = pretext.hide_patches(images[:8], 6, np.random.default_rng(0))
    assert inputs.shape == (8, 1568) and target.shape == mask.shape == (8, 784)
    assert_allclose(mask.sum(axis=1), 36)
    assert_allclose(inputs[:, :784], target * (1 - mask))
    assert_allclose(inputs[:, 784:], mask)
    gdl.manual_seed(0)
    model = pretext.PatchPredictor()
    optimizer = gdl.Adam(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(8):
        pretext.train_epoch(model, optimizer, images, 10, 32, rng)
    mean_image = images.reshape(1000, -1).mean(axis=0)
    learned = pretext.evaluate(lambda x: model(x).data, test_images, 10)
    mean_guess = pretext.evaluate(lambda x: np.broadcast_to(mean_image, (len(x), 784)),
                                  test_images, 10)
    assert learned < 0.85 * mean_guess, (learned, mean_guess)        # measured 0.089, 0.115
    assert model.features(test_images).shape == (500, 256)


def test_projects_are_registered():
    from gdl import book
    for name in ("ch16-contrastive", "ch16-pretext"):
        module = book.load(name)
        assert module.PROJECT == name == book.find(name).name
        assert book.find(name).chapter == 16 and module.__doc__ and callable(module.run)


def test_contrastive_project_resumes_exactly(tmp_path, monkeypatch):
    from gdl.book import ch16_contrastive
    from gdl.contrastive import SimCLRTrainer
    quick = dict(mnist_slice=True, batch_size=64, train_images=256, features=32, test_size=300,
                 probe_epochs=2, quiet=True)
    straight = ch16_contrastive.run(epochs=3, **quick)
    checkpoint = tmp_path / "ch16.ckpt"
    train_epoch = SimCLRTrainer.train_epoch

    def interrupted_in_epoch_3(self, images, epoch, **options):
        if epoch == 2:
            raise KeyboardInterrupt                     # Ctrl-C after two epochs were saved
        return train_epoch(self, images, epoch, **options)

    monkeypatch.setattr(SimCLRTrainer, "train_epoch", interrupted_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        ch16_contrastive.run(epochs=3, save=str(checkpoint), **quick)
    monkeypatch.undo()
    resumed = ch16_contrastive.run(epochs=3, resume=str(checkpoint), **quick)
    assert resumed["loss"] == straight["loss"]
    assert resumed["learned_probe_accuracy"] == straight["learned_probe_accuracy"]
    for name in ("learned", "random", "raw"):
        for kind in ("probe", "knn"):
            assert 0.3 < straight[f"{name}_{kind}_accuracy"] <= 1.0


def test_command_lines_print_the_report_and_save_the_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from gdl import cli
    picture = tmp_path / "embedding.png"
    assert cli.main(["run", "ch16-contrastive", "--slice", "--epochs", "1", "--batch-size", "64",
                     "--train-images", "128", "--features", "32", "--test-size", "1000",
                     "--plot", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "ch16-contrastive: learned_probe_accuracy=" in out
    for row in ("SimCLR encoder (32)", "random encoder (32)", "raw pixels (784)"):
        assert row in out
    assert picture.stat().st_size > 10_000
    filled = tmp_path / "filled.png"
    assert cli.main(["run", "ch16-pretext", "--slice", "--epochs", "1", "--patch", "8",
                     "--test-size", "1000", "--plot", str(filled)]) == 0
    out = capsys.readouterr().out
    assert "ch16-pretext: test_mse=" in out and "mean training image" in out
    assert filled.stat().st_size > 5_000
    assert cli.main(["run", "ch16-pretext", "--slice", "--patch", "40"]) != 0
