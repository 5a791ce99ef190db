"""The book's projects of chapters 2-8 and 11, run small but real, asserting their outcomes."""
import builtins

import numpy as np
import pytest

import gdl
from gdl import book, cli, nn
from gdl.book import (ch02_learning_kinds, ch03_forward, ch04_gradient_descent,
                      ch05_multiple_weights, ch06_streetlight, ch07_pictures,
                      ch08_regularization, ch11_embeddings)
from gdl.book._common import UserError
from gdl.nn.summary import summary


@pytest.mark.parametrize("name", ["ch2-learning-kinds", "ch3-forward", "ch4-gradient-descent",
                                  "ch5-multiple-weights", "ch6-streetlight", "ch7-pictures",
                                  "ch8-regularization", "ch11-embeddings"])
def test_projects_are_registered(name):
    project = book.find(name)
    module = book.load(name)
    assert module.PROJECT == name == project.name
    assert callable(module.run) and module.__doc__


def test_ch2_parametric_against_non_parametric():
    result = ch02_learning_kinds.run(quiet=True, epochs=30)
    assert result["streetlight_counting_entries"] == 4
    assert result["nearest_neighbour_test_accuracy"] >= 0.85
    assert result["softmax_regression_test_accuracy"] >= 0.83
    assert 0.4 <= result["kmeans_train_purity"] <= 1.0
    assert result["kmeans_test_purity"] >= 0.4


def test_ch3_prints_the_books_predictions(capsys):
    assert cli.main(["run", "ch3-forward"]) == 0
    out = capsys.readouterr().out
    for shown in ("0.85", "0.98", "[0.195, 0.13, 0.585]", "[0.555, 0.98, 0.965]",
                  "[0.2135, 0.145, 0.5065]"):
        assert shown in out
    result = ch03_forward.run(quiet=True)
    assert result["one_weight"] == 8.5 * 0.1
    assert result["several_inputs"] == pytest.approx(0.98, abs=1e-15)
    assert result["several_outputs"] == pytest.approx([0.195, 0.13, 0.585], abs=1e-15)
    assert result["weight_matrix"] == pytest.approx([0.555, 0.98, 0.965], abs=1e-15)
    assert result["hidden_layer"] == pytest.approx([0.2135, 0.145, 0.5065], abs=1e-15)
    assert result["max_difference_from_gdl"] < 1e-15


def test_ch4_reproduces_the_books_numbers():
    result = ch04_gradient_descent.run(quiet=True)
    assert result["error"] == 0.30250000000000005
    assert result["hot_cold_final_error"] == 1.0799505792475652e-27
    assert result["hot_cold_final_prediction"] == 0.7999999999999672
    assert result["diverged_final_error"] > 1e16                   # it explodes
    assert result["alpha_final_error"] < 1e-9                      # alpha fixes it
    assert result["max_difference_from_gdl"] < 1e-15
    steps = ch04_gradient_descent.gradient_descent(0.5, 0.5, 0.8, 3, quiet=True)
    assert [h[1] for h in steps] == [0.30250000000000005, 0.17015625000000004, 0.095712890625]
    diverged = ch04_gradient_descent.gradient_descent(0.5, 2.0, 0.8, 3, quiet=True)
    assert [h[1] for h in diverged] == [0.03999999999999998, 0.3599999999999998,
                                        3.2399999999999984]
    fixed = ch04_gradient_descent.gradient_descent(0.5, 2.0, 0.8, 3, alpha=0.1, quiet=True)
    assert [h[2] for h in fixed] == [1.0, 0.92, 0.872]


def test_ch4_explain_prints_every_step(capsys):
    assert cli.main(["run", "ch4-gradient-descent", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "Weight:0.0 -> predict 0.0 -> compare: Error:0.6400000000000001" in out
    assert "Weight Delta:-0.8800000000000001" in out


def test_ch5_reproduces_the_books_weights():
    result = ch05_multiple_weights.run(quiet=True)
    assert result["several_inputs_weights"] == [0.1119, 0.20091, -0.09832]
    assert result["several_inputs_weight_deltas"] == [-1.189999999999999, -0.09099999999999994,
                                                      -0.16799999999999987]
    assert result["three_steps_predictions"][:3] == [0.8600000000000001, 0.9637574999999999,
                                                     0.9906177228125002]
    assert result["frozen_weight_a"] == 0.1
    assert result["frozen_final_error"] < 1e-12
    assert result["several_outputs_weights"] == [0.293825, 0.25655, 0.868475]
    assert result["matrix_weights"][0] == [0.061325, 0.0970425, -0.30546]
    assert result["max_difference_from_gdl"] < 1e-15


def test_ch6_deep_network_reaches_the_books_error():
    result = ch06_streetlight.run(quiet=True)
    assert result["deep_error"] == pytest.approx(ch06_streetlight.BOOK_DEEP_ERROR, rel=1e-9)
    assert ch06_streetlight.run(epochs=61, quiet=True)["deep_error"] <= 1.5e-5
    assert result["linear_online_middle_weight"] == pytest.approx(1.0, abs=0.05)
    assert result["linear_online_error"] < result["linear_full_error"]


def test_ch7_summary_algebra_and_diagram(tmp_path):
    gdl.manual_seed(0)
    model = ch07_pictures.mnist_network()
    text = summary(model, (784,), file=False)
    assert "(1, 40)" in text and "(1, 10)" in text
    assert "31,360" in text and "parameters: 31,760 (31,760 trainable)" in text
    lines, whole = ch07_pictures.algebra(model)
    assert lines == ["l1 = relu(l0 W0)", "l2 = l1 W1"]
    assert whole == "l2 = relu(l0 W0) W1"
    deep = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.5), nn.Linear(4, 2),
                         nn.Sigmoid())
    assert ch07_pictures.algebra(deep)[0] == ["l1 = dropout(tanh(l0 W0 + b0))",
                                              "l2 = sigmoid(l1 W1 + b1)"]
    assert deep.training                                 # summary restores the mode
    summary(deep, (3,), file=False)
    assert deep.training and "forward" not in deep.__dict__
    path = tmp_path / "net.png"
    result = ch07_pictures.run(quiet=True, plot=str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["max_difference_algebra_vs_model"] < 1e-5
    assert result["streetlight_parameters"] == 16


def test_ch7_diagram_without_matplotlib(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(UserError, match="pip install 'gdl\\[plot\\]'"):
        ch07_pictures.diagram(ch07_pictures.streetlight_network(), tmp_path / "x.png")


def test_ch8_dropout_batches_and_early_stopping():
    dropout = ch08_regularization.run(stage="dropout", epochs=8, quiet=True)
    assert dropout["dropout_test_accuracy"] >= 0.82
    batch = ch08_regularization.run(stage="batch", epochs=40, quiet=True)
    assert batch["batch_test_accuracy"] >= 0.8
    early = ch08_regularization.run(stage="early", epochs=60, patience=4, quiet=True,
                                    train_size=500)
    assert early["early_stopped_epoch"] - early["early_best_epoch"] == 4
    assert early["early_test_accuracy"] >= 0.75


def test_ch9_main_job_reaches_087_and_the_books_setting_does_not_shift():
    from gdl.book import ch09_mnist
    result = ch09_mnist.run(quiet=True, eval_every=100)
    assert result["epochs"] == 300
    assert result["test_accuracy"] >= 0.87, result
    with pytest.raises(UserError, match="--shift must be >= 0"):
        ch09_mnist.run(epochs=1, quiet=True, shift=-1)


def test_ch11_sparse_rows_update_only_used_rows():
    table = np.arange(12, dtype=np.float32).reshape(6, 2)
    used = ch11_embeddings.SparseRows(table.copy(), np.array([[4, 1, -1], [1, -1, -1]]),
                                      padding=-1)
    assert used.rows.tolist() == [1, 4] and used.local.tolist() == [[1, 0, 2], [0, 2, 2]]
    gdl.ops.EmbeddingBag.apply(used.tensor, used.local).sum().backward()
    used.step(0.5)
    expected = table.copy()
    expected[1] -= 0.5 * 2
    expected[4] -= 0.5
    assert np.array_equal(used.table, expected)


def test_ch11_word2vec_and_analogy_on_a_toy_corpus():
    rng = np.random.default_rng(0)
    groups = [np.arange(0, 5), np.arange(5, 10)]       # two topics that never mix
    reviews = [rng.choice(groups[i % 2], 30) for i in range(400)]
    W = ch11_embeddings.train_word2vec(reviews, 10, hidden_size=8, epochs=10, batch_size=64,
                                       quiet=True)
    vocab = ch11_embeddings.Vocabulary([f"w{i}" for i in range(10)])
    for word in range(10):
        nearest = [int(w[1:]) for w, _ in ch11_embeddings.similar(W, vocab, f"w{word}", 4)]
        assert all((n < 5) == (word < 5) for n in nearest)
    toy = np.array([[1, 0], [0, 1], [1, 1], [-1, 0]], dtype=np.float32)
    words = ch11_embeddings.Vocabulary(["good", "bad", "terrific", "awful"])
    assert ch11_embeddings.analogy(toy, words, ["bad"], ["good"], 1)[0][0] == "awful"


def test_ch11_sentiment_on_imdb(data_home):
    result = ch11_embeddings.run(word2vec=False, quiet=True)
    assert result["test_accuracy"] >= 0.85
    assert "dull" in result["similar_terrible"] or "boring" in result["similar_terrible"]
