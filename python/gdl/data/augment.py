"""Image augmentations as whole-batch array operations, seeded.

Every function takes a batch of images whose last two axes are height and width, ``(N, H, W)``
or ``(N, C, H, W)``, float32 or float64, and returns a new array of the same shape and dtype;
the input is never changed. Randomness comes from ``rng`` (a ``numpy.random.Generator``), or from
gdl's generator (``gdl.manual_seed``) when ``rng`` is None, so an augmented run reproduces.

They are the tools of two chapters' worth of ideas: a small training set made to look larger
(ch. 9 and 10 train on only 1,000 MNIST images, where shifting each digit by a pixel or two is a
regularizer that costs nothing), and the "views" of self-supervised learning (ch. 16), where two
random augmentations of one image are the positive pair.

>>> from gdl.data import augment, load_mnist_slice
>>> images = load_mnist_slice()[0].astype("float32") / 255
>>> views = augment.random_shift(images, 2)                  # each digit moved by up to 2 px
>>> views = augment.random_rotate(views, 15)                 # and turned by up to 15 degrees
"""
import numpy as np

from gdl import random as _random

__all__ = ["random_shift", "random_rotate", "add_noise", "mask_patch", "random_views"]


def _check(images, name="images"):
    if not isinstance(images, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(images).__name__}")
    if images.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {images.dtype}")
    if images.ndim not in (3, 4):
        raise ValueError(f"{name} must have shape (N, H, W) or (N, C, H, W), "
                         f"got {images.shape}")
    if not np.isfinite(images).all():
        raise ValueError(f"{name} holds NaN or infinity")


def _rng(rng):
    return _random.rng() if rng is None else rng


def random_shift(images, max_shift, rng=None):
    """Move each image by its own whole-pixel offset in [-max_shift, max_shift] along both axes.

    Pixels that move in from outside are 0 (MNIST's background). Shape and dtype are kept.
    """
    _check(images)
    if not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative int, got {max_shift!r}")
    if max_shift == 0 or images.shape[0] == 0:
        return images.copy()
    rng = _rng(rng)
    n, (h, w) = images.shape[0], images.shape[-2:]
    s = int(max_shift)
    dy = rng.integers(-s, s + 1, size=n)
    dx = rng.integers(-s, s + 1, size=n)
    padded = np.zeros(images.shape[:-2] + (h + 2 * s, w + 2 * s), images.dtype)
    padded[..., s:s + h, s:s + w] = images
    rows = np.arange(h)[None, :] + s - dy[:, None]           # (N, H): source row of each row
    cols = np.arange(w)[None, :] + s - dx[:, None]
    batch = np.arange(n)
    if images.ndim == 3:
        return padded[batch[:, None, None], rows[:, :, None], cols[:, None, :]]
    channels = np.arange(images.shape[1])
    return padded[batch[:, None, None, None], channels[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def random_rotate(images, max_degrees, rng=None):
    """Turn each image about its centre by its own angle in [-max_degrees, max_degrees].

    Bilinear interpolation; what comes in from outside the image is 0.
    """
    _check(images)
    if not np.isfinite(max_degrees) or max_degrees < 0:
        raise ValueError(f"max_degrees must be a non-negative number, got {max_degrees!r}")
    if max_degrees == 0 or images.shape[0] == 0:
        return images.copy()
    rng = _rng(rng)
    n, (h, w) = images.shape[0], images.shape[-2:]
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees, size=n))
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    yy, xx = np.mgrid[0:h, 0:w]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    # inverse map: the output pixel (y, x) reads the input at the point turned back by -angle
    src_y = cos * (yy - cy) - sin * (xx - cx) + cy          # (N, H, W)
    src_x = sin * (yy - cy) + cos * (xx - cx) + cx
    return _bilinear(images, src_y, src_x)


def _bilinear(images, src_y, src_x):
    """images sampled at (src_y, src_x) per image, zero outside."""
    n, (h, w) = images.shape[0], images.shape[-2:]
    y0 = np.floor(src_y).astype(np.intp)
    x0 = np.floor(src_x).astype(np.intp)
    fy = (src_y - y0).astype(images.dtype)
    fx = (src_x - x0).astype(images.dtype)
    flat = images.reshape(n, -1, h * w)                      # (N, C, H*W), C = 1 for (N, H, W)
    out = np.zeros((n, flat.shape[1], h, w), images.dtype)
    batch = np.arange(n)[:, None, None]
    for oy, ox, weight in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                           (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        y, x = y0 + oy, x0 + ox
        inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
        index = np.where(inside, y * w + x, 0)
        values = flat[batch, :, index]                       # (N, H, W, C)
        out += np.moveaxis(values, -1, 1) * (weight * inside)[:, None]
    return out.reshape(images.shape)


def add_noise(images, std, rng=None, clip=(0.0, 1.0)):
    """images + Gaussian noise of standard deviation std, clipped to ``clip`` (None: no clip)."""
    _check(images)
    if not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a non-negative number, got {std!r}")
    noisy = images + _rng(rng).normal(0.0, std, size=images.shape).astype(images.dtype)
    if clip is not None:
        np.clip(noisy, clip[0], clip[1], out=noisy)
    return noisy


def mask_patch(images, size, rng=None, value=0.0):
    """Set one random size x size square of each image to ``value``.

    Returns ``(masked, corners)``: corners is an int array (N, 2) of each patch's top-left
    (row, column), so a pretext task can ask a network to fill the patch back in.
    """
    _check(images)
    h, w = images.shape[-2:]
    if not isinstance(size, (int, np.integer)) or not 0 < size <= min(h, w):
        raise ValueError(f"size must be an int in [1, {min(h, w)}], got {size!r}")
    rng = _rng(rng)
    n = images.shape[0]
    corners = np.stack([rng.integers(0, h - size + 1, size=n),
                        rng.integers(0, w - size + 1, size=n)], axis=1)
    rows = np.arange(h)[None, :]
    cols = np.arange(w)[None, :]
    in_rows = (rows >= corners[:, :1]) & (rows < corners[:, :1] + size)      # (N, H)
    in_cols = (cols >= corners[:, 1:]) & (cols < corners[:, 1:] + size)      # (N, W)
    patch = in_rows[:, :, None] & in_cols[:, None, :]                        # (N, H, W)
    if images.ndim == 4:
        patch = patch[:, None]
    return np.where(patch, images.dtype.type(value), images), corners


def random_views(images, rng=None, max_shift=2, max_degrees=10.0, noise=0.0):
    """One random view of each image: a rotation, then a shift, then optional noise.

    Two calls on the same batch give the two views of a contrastive positive pair.
    """
    rng = _rng(rng)
    views = random_rotate(images, max_degrees, rng) if max_degrees else images
    views = random_shift(views, max_shift, rng)
    if noise:
        views = add_noise(views, noise, rng)
    return views
