"""Judging a representation with the labels it never saw: a linear probe, k-nearest neighbours,
and a 2-D picture.

The encoder is frozen; its representations of the training images and their labels train only
a linear classifier (the probe) or fill the kNN's memory, and the test images score them. A good
self-supervised representation makes the classes linearly separable and puts images of one
digit near each other.
"""
import numpy as np

import gdl
from gdl import nn


def _check_pair(features, labels, name):
    features = np.asarray(features)
    labels = np.asarray(labels)
    if features.ndim != 2 or len(features) == 0:
        raise ValueError(f"{name}_features must be a non-empty (N, D) array, "
                         f"got shape {features.shape}")
    if labels.shape != (len(features),):
        raise ValueError(f"{name}_labels must have shape ({len(features)},), "
                         f"got {labels.shape}")
    return features, labels.astype(np.int64)


def standardize(train, test):
    """Both scaled by the training set's per-feature mean and standard deviation."""
    mean = train.mean(axis=0)
    std = train.std(axis=0) + 1e-6
    return ((train - mean) / std).astype(np.float32), ((test - mean) / std).astype(np.float32)


def linear_probe(train_features, train_labels, test_features, test_labels, epochs=None,
                 batch_size=256, lr=1e-3, seed=0, num_classes=10):
    """Softmax regression trained with gdl on frozen (standardized) features.

    Adam at ``lr`` with a cosine decay over ``epochs`` passes (None: at least 10, and enough
    for about 2,000 steps on a small set), weights starting at zero and batches shuffled by
    ``seed``, so the probe itself adds no randomness of gdl's.
    Returns {"train_accuracy", "test_accuracy"}.
    """
    train_x, train_y = _check_pair(train_features, train_labels, "train")
    test_x, test_y = _check_pair(test_features, test_labels, "test")
    if test_x.shape[1] != train_x.shape[1]:
        raise ValueError(f"test_features must have {train_x.shape[1]} features like "
                         f"train_features, got {test_x.shape[1]}")
    train_x, test_x = standardize(train_x, test_x)
    probe = nn.Linear(train_x.shape[1], num_classes)
    probe.weight.data[...] = 0.0
    optimizer = gdl.Adam(probe.parameters(), lr=lr)
    steps = max(1, -(-len(train_x) // batch_size))
    if epochs is None:
        epochs = max(10, -(-2000 // steps))
    schedule = gdl.optim.CosineAnnealingLR(optimizer, T_max=epochs * steps)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(len(train_x))
        for i in range(steps):
            batch = order[i * batch_size:(i + 1) * batch_size]
            criterion(probe(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
            schedule.step()

    def accuracy(x, y):
        with gdl.no_grad():
            return float((probe(x).data.argmax(axis=1) == y).mean())

    return {"train_accuracy": accuracy(train_x, train_y),
            "test_accuracy": accuracy(test_x, test_y)}


def knn_accuracy(train_features, train_labels, test_features, test_labels, k=10,
                 batch_size=1000, num_classes=10):
    """Test accuracy of a k-nearest-neighbour classifier under cosine similarity, in numpy.

    Each test point takes the k training points most similar to it; each votes for its label
    with its similarity, and the label with the largest sum wins.
    """
    train_x, train_y = _check_pair(train_features, train_labels, "train")
    test_x, test_y = _check_pair(test_features, test_labels, "test")
    if not 1 <= k <= len(train_x):
        raise ValueError(f"k must be in [1, {len(train_x)}], got {k}")

    def unit(x):
        x = np.asarray(x, dtype=np.float32)
        return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)

    train_x, test_x = unit(train_x), unit(test_x)
    correct = 0
    for i in range(0, len(test_x), batch_size):
        similarity = test_x[i:i + batch_size] @ train_x.T                 # (B, N_train)
        nearest = np.argpartition(-similarity, k - 1, axis=1)[:, :k]      # unordered top k
        weights = np.take_along_axis(similarity, nearest, axis=1)
        votes = np.zeros((len(nearest), num_classes))
        np.add.at(votes, (np.arange(len(nearest))[:, None], train_y[nearest]), weights)
        correct += int((votes.argmax(axis=1) == test_y[i:i + batch_size]).sum())
    return correct / len(test_x)


def pca_2d(features):
    """The features projected on their first two principal axes (numpy SVD): (N, 2)."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"features must be an (N, D) array with N >= 2, got shape {x.shape}")
    x = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:2].T


def plot_embeddings(path, panels, labels, title):
    """Save a scatter plot per panel ({name: (N, 2) points}), coloured by ``labels``, as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'gdl[plot]'") from None
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.4), squeeze=False)
    for ax, (name, points) in zip(axes[0], panels.items()):
        scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", vmin=-0.5,
                             vmax=9.5, s=3, alpha=0.6, linewidths=0)
        ax.set_title(name, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(scatter, ax=axes[0].tolist(), ticks=range(10), label="digit (held back)")
    fig.suptitle(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
