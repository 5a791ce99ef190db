"""A pretext task: hide a square of each image and train a network to paint it back in.

The labels are made from the data itself: the target is the hidden pixels, which the data set
already holds. The network sees the image with the square blanked out, and a second plane that
marks where the square is (a blank square and a black background look alike otherwise):

    [masked image (784), mask (784)] -> Linear 512 - relu - Linear 256 - relu   (the features)
                                     -> Linear 784 - sigmoid                     (every pixel)

and is scored by the mean squared error over the hidden pixels only. To fill in the bottom of a
7 from its top, the features have to know what a 7 looks like: the features of the unmasked
image are afterwards a representation for other tasks.
"""
import numpy as np

import gdl
from gdl import nn
from gdl.data import augment


class PatchPredictor(nn.Module):
    """Masked image and mask (N, 2 * H * W) -> every pixel of the image (N, H * W) in [0, 1]."""

    def __init__(self, pixels=784, hidden=512, features=256):
        super().__init__()
        self.pixels = pixels
        self.encoder = nn.Sequential(nn.Linear(2 * pixels, hidden), nn.ReLU(),
                                     nn.Linear(hidden, features), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(features, pixels), nn.Sigmoid())

    def forward(self, inputs):
        return self.decoder(self.encoder(inputs))

    def features(self, images, batch_size=2000):
        """The encoder's representation of whole images (N, H, W) (nothing hidden): (N, F)."""
        flat = images.reshape(len(images), -1).astype(np.float32)
        out = []
        with gdl.no_grad():
            for i in range(0, len(flat), batch_size):
                batch = flat[i:i + batch_size]
                inputs = np.concatenate([batch, np.zeros_like(batch)], axis=1)
                out.append(self.encoder(inputs).data)
        return np.concatenate(out)


def hide_patches(images, size, rng):
    """(inputs, target, mask): inputs (N, 2 * H * W) are the images with one random size x size
    square set to 0 and the mask of that square; target (N, H * W) the whole images; mask
    (N, H * W) is 1 on the hidden pixels."""
    masked, _ = augment.mask_patch(images, size, rng, value=-1.0)
    n = len(images)
    mask = (masked.reshape(n, -1) == -1.0).astype(np.float32)
    target = images.reshape(n, -1).astype(np.float32)
    inputs = np.concatenate([target * (1 - mask), mask], axis=1)
    return inputs, target, mask


def masked_mse(prediction, target, mask):
    """Mean squared error over the hidden pixels: sum(mask * (p - t)^2) / sum(mask)."""
    diff = prediction - target
    return (diff * diff * mask).sum() * (1.0 / float(mask.sum()))


def train_epoch(model, optimizer, images, size, batch_size, rng):
    """One shuffled pass of masked-patch prediction over ``images`` (N, H, W); mean loss."""
    order = rng.permutation(len(images))
    steps = len(images) // batch_size
    total = 0.0
    for i in range(steps):
        batch = images[order[i * batch_size:(i + 1) * batch_size]]
        inputs, target, mask = hide_patches(batch, size, rng)
        loss = masked_mse(model(inputs), target, mask)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / max(steps, 1)


def evaluate(predict, images, size, seed=0, batch_size=2000):
    """Masked-pixel MSE of ``predict`` (inputs -> predicted pixels, arrays) on ``images``, with
    squares drawn from ``seed``: every predictor is scored on the same squares.

    >>> evaluate(lambda inputs: model(inputs).data, test_images, 10)
    >>> evaluate(lambda inputs: np.broadcast_to(mean_image, (len(inputs), 784)), test_images, 10)
    """
    rng = np.random.default_rng(seed)
    total, count = 0.0, 0.0
    with gdl.no_grad():
        for i in range(0, len(images), batch_size):
            inputs, target, mask = hide_patches(images[i:i + batch_size], size, rng)
            diff = predict(inputs) - target
            total += float((diff * diff * mask).sum())
            count += float(mask.sum())
    return total / count


def plot_inpainting(path, images, inputs, filled, title):
    """Save rows of (image, image with its square hidden, the network's fill) as a PNG."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'gdl[plot]'") from None
    n, side = len(images), images.shape[-1]
    pixels = side * side
    mask = inputs[:, pixels:].reshape(n, side, side)
    masked = inputs[:, :pixels].reshape(n, side, side) + 0.35 * mask     # the square in grey
    shown = (1 - mask) * images.reshape(n, side, side) + mask * filled.reshape(n, side, side)
    fig, axes = plt.subplots(3, n, figsize=(1.2 * n, 4), squeeze=False)
    for row, (name, pictures) in enumerate((("image", images), ("hidden", masked),
                                            ("filled in", shown))):
        for col in range(n):
            ax = axes[row][col]
            ax.imshow(pictures[col].reshape(side, side), cmap="gray_r", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[row][0].set_ylabel(name)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
