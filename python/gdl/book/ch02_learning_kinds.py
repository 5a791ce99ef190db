"""Chapter 2: the kinds of machine learning: supervised or unsupervised, parametric or not.

The chapter sorts learning methods two ways. Supervised learning turns what you know into what
you want to know (images into digits); unsupervised learning groups data it has no labels for.
A parametric model has a fixed set of knobs (weights) that trial and error adjusts; a
non-parametric model grows with the data, typically by counting or remembering it. This project
puts each kind side by side on the same data and prints their numbers:

- counting (non-parametric, supervised) on the streetlight observations of chapter 6: a table of
  how often people walked for each light pattern, against a fitted linear model (three weights);
- on the book's MNIST slice (1,000 training images, 10,000 test images): a nearest-neighbour
  classifier, which keeps all 784,000 training pixels and counts the vote of the closest
  image, against a fitted softmax regression with 7,850 weights trained with gdl;
- unsupervised parametric learning: k-means groups the 1,000 training images into 10 clusters
  without their labels (10 x 784 parameters, the cluster centres); the purity says how often an
  image's cluster, named after its most common digit, is the image's digit.

>>> from gdl.book import ch02_learning_kinds
>>> ch02_learning_kinds.run(quiet=True)["nearest_neighbour_test_accuracy"]   # about 0.87
"""
import time

import numpy as np

import gdl
from gdl import nn
from gdl.book._common import say
from gdl.book.ch06_streetlight import STREETLIGHTS, WALK_VS_STOP, train_linear
from gdl.data import flatten_images, load_mnist_slice

PROJECT = "ch2-learning-kinds"


def counting_table(patterns, outcomes):
    """{pattern: (times seen, times the outcome was 1)}: a non-parametric model."""
    table = {}
    for pattern, outcome in zip(patterns.astype(int).tolist(), outcomes):
        pattern = tuple(pattern)
        seen, positive = table.get(pattern, (0, 0))
        table[pattern] = (seen + 1, positive + int(outcome))
    return table


def nearest_neighbour(x_train, y_train, x_test, batch_size=2000):
    """The label of the closest training image (Euclidean distance) for every test image."""
    train_norms = (x_train ** 2).sum(axis=1)
    predictions = np.empty(len(x_test), dtype=y_train.dtype)
    for i in range(0, len(x_test), batch_size):
        batch = x_test[i:i + batch_size]
        distances = train_norms[None, :] - 2 * batch @ x_train.T   # |x|^2 is the same per row
        predictions[i:i + batch_size] = y_train[distances.argmin(axis=1)]
    return predictions


def softmax_regression(x_train, y_train, epochs=100, lr=0.5, batch_size=100):
    """A parametric classifier: logits = x W^T + b (7,850 weights), trained with gdl."""
    model = nn.Linear(784, 10)
    optimizer = gdl.SGD(model.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    for _ in range(epochs):
        for start in range(0, len(x_train), batch_size):
            loss = criterion(model(x_train[start:start + batch_size]),
                             y_train[start:start + batch_size])
            loss.backward()
            optimizer.step()
    return model


def kmeans(x, k=10, iterations=30, seed=0):
    """Lloyd's k-means from k distinct random points; returns (centres (k, D), assignment)."""
    rng = np.random.default_rng(seed)
    centres = x[rng.choice(len(x), k, replace=False)].copy()
    assignment = np.zeros(len(x), dtype=np.int64)
    for _ in range(iterations):
        distances = (centres ** 2).sum(axis=1)[None, :] - 2 * x @ centres.T
        assignment = distances.argmin(axis=1)
        for j in range(k):
            members = x[assignment == j]
            if len(members):
                centres[j] = members.mean(axis=0)
    return centres, assignment


def purity(cluster_digit, assignment, labels):
    """Fraction of images whose cluster's digit is their own digit."""
    return float((cluster_digit[assignment] == labels).mean())


def run(seed=0, quiet=False, epochs=None):
    """Print the numbers of each kind of learning; returns them."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    results = {}

    say("-- streetlight: counting (non-parametric) against three fitted weights (parametric)",
        quiet)
    table = counting_table(STREETLIGHTS, WALK_VS_STOP)
    for pattern, (seen, walked) in sorted(table.items()):
        say(f"lights {pattern}: seen {seen}x, walked {walked}x -> predict "
            f"{'walk' if walked * 2 > seen else 'stop'}", quiet)
    counted = np.array([table[tuple(p)][1] / table[tuple(p)][0] for p in
                        STREETLIGHTS.astype(int)])
    weights, _ = train_linear()
    fitted = STREETLIGHTS @ weights
    say(f"counting: {len(table)} table entries, accuracy "
        f"{float(((counted > 0.5) == WALK_VS_STOP).mean()):.2f}; fitted: 3 weights "
        f"{np.round(weights, 3).tolist()}, accuracy "
        f"{float(((fitted > 0.5) == WALK_VS_STOP).mean()):.2f}", quiet)
    results["streetlight_counting_entries"] = len(table)

    x_train, y_train, x_test, y_test = load_mnist_slice()
    x_train, x_test = flatten_images(x_train), flatten_images(x_test)
    say("-- MNIST slice: remember every image (non-parametric) or fit 7,850 weights "
        "(parametric)", quiet)
    knn = float((nearest_neighbour(x_train, y_train, x_test) == y_test).mean())
    say(f"nearest neighbour: keeps {x_train.size:,} numbers, test accuracy {knn:.4f}", quiet)
    model = softmax_regression(x_train, y_train, epochs=epochs or 100)
    with gdl.no_grad():
        fitted_acc = float((model(x_test).data.argmax(axis=1) == y_test).mean())
    n_params = sum(p.data.size for p in model.parameters())
    say(f"softmax regression: {n_params:,} weights, test accuracy {fitted_acc:.4f}", quiet)
    results["nearest_neighbour_test_accuracy"] = knn
    results["softmax_regression_test_accuracy"] = fitted_acc

    say("-- unsupervised, parametric: k-means puts the training images in 10 groups, no "
        "labels used", quiet)
    centres, assignment = kmeans(x_train, seed=seed)
    cluster_digit = np.array([np.bincount(y_train[assignment == j], minlength=10).argmax()
                              if (assignment == j).any() else -1 for j in range(10)])
    test_assignment = ((centres ** 2).sum(axis=1)[None, :] - 2 * x_test @ centres.T).argmin(1)
    sizes = np.bincount(assignment, minlength=10)
    say(f"cluster sizes {sizes.tolist()}, most common digit per cluster "
        f"{cluster_digit.tolist()}", quiet)
    results["kmeans_train_purity"] = purity(cluster_digit, assignment, y_train)
    results["kmeans_test_purity"] = purity(cluster_digit, test_assignment, y_test)
    say(f"purity: train {results['kmeans_train_purity']:.4f}, test "
        f"{results['kmeans_test_purity']:.4f} (one digit guessed for all: about 0.11)", quiet)
    results["seconds"] = time.perf_counter() - start
    return results
