"""Random views of images: the augmentations whose effect a contrastive encoder learns to ignore.

Two independent calls of ``make_views`` on one batch give the two views of each image: the
positive pair of SimCLR. Everything is a whole-batch array operation from ``gdl.data.augment``
(a crop stretched back to full size, a small rotation, noise, and a hidden patch on some
images), seeded through ``rng``.
"""
from dataclasses import dataclass

import numpy as np

from gdl.data import augment, load_mnist, load_mnist_slice


@dataclass(frozen=True)
class ViewConfig:
    """How strongly ``make_views`` changes an image.

    The defaults were measured on MNIST: with crops keeping 0.4-1 of the area instead of
    0.6-1, the linear probe after 60,000 training views was 0.932 instead of 0.943 (a crop of
    40% can cut a 4 into a 1).
    """

    crop_scale: tuple = (0.6, 1.0)      # fraction of the area kept by the random crop
    crop_ratio: tuple = (3 / 4, 4 / 3)  # width / height of the crop
    max_degrees: float = 10.0           # rotation
    noise: float = 0.1                  # std of Gaussian pixel noise (clipped to [0, 1])
    mask_size: int = 8                  # side of the hidden square
    mask_fraction: float = 0.5          # fraction of the views with a hidden square


def make_views(images, rng, config=ViewConfig()):
    """One random view of each image (N, 1, H, W) float32 in [0, 1]; shape and dtype kept."""
    views = augment.random_resized_crop(images, config.crop_scale, config.crop_ratio, rng)
    if config.max_degrees:
        views = augment.random_rotate(views, config.max_degrees, rng)
    if config.noise:
        views = augment.add_noise(views, config.noise, rng)
    if config.mask_size and config.mask_fraction:
        masked = rng.random(len(views)) < config.mask_fraction
        if masked.any():
            views[masked] = augment.mask_patch(views[masked], config.mask_size, rng)[0]
    return views


def add_mnist_arguments(parser):
    """The data options both chapter-16 projects take: ``--slice`` and ``--test-size``."""
    parser.add_argument("--slice", action="store_true", dest="mnist_slice",
                        help="the book's 1,000-image MNIST slice (shipped) instead of all 60,000")
    parser.add_argument("--test-size", type=int, default=None, metavar="N",
                        help="evaluate on the first N test images only (a quick run)")


def load_mnist_images(use_slice=False, test_size=None):
    """(x_train, y_train, x_test, y_test): float32 (N, 28, 28) in [0, 1] and int64 labels; all
    of MNIST from the data home, or the shipped slice; ``test_size`` keeps the first test
    images only."""
    if use_slice:
        x_train, y_train, x_test, y_test = load_mnist_slice()
    else:
        x_train, y_train = load_mnist("train")
        x_test, y_test = load_mnist("test")
    if test_size:
        x_test, y_test = x_test[:test_size], y_test[:test_size]
    return (x_train.astype(np.float32) / 255, y_train,
            x_test.astype(np.float32) / 255, y_test)
