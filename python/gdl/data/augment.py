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

__all__ = ["random_shift", "random_rotate", "random_resized_crop", "add_noise", "mask_patch",
           "random_views"]


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


def random_resized_crop(images, scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3), rng=None):
    """Cut a random rectangle from each image and stretch it back to the full size.

    SimCLR's crop: the rectangle covers a fraction of the image's area drawn uniformly from
    ``scale`` and has a width/height ratio drawn log-uniformly from ``ratio`` (each side at most
    the image's); it lies uniformly at random inside the image and is resampled bilinearly, its
    edge pixels repeated where a sample falls half a pixel outside. ``scale=(1, 1), ratio=(1,
    1)`` gives back the images.
    """
    _check(images)
    for name, (low, high) in (("scale", scale), ("ratio", ratio)):
        if not 0 < low <= high or not np.isfinite(high) or (name == "scale" and high > 1):
            raise ValueError(f"{name} must be a (low, high) range with 0 < low <= high"
                             f"{' <= 1' if name == 'scale' else ''}, got {(low, high)!r}")
    if images.shape[0] == 0:
        return images.copy()
    rng = _rng(rng)
    n, (h, w) = images.shape[0], images.shape[-2:]
    area = rng.uniform(scale[0], scale[1], size=n) * h * w
    aspect = np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1]), size=n))
    crop_h = np.minimum(np.sqrt(area / aspect), h)
    crop_w = np.minimum(np.sqrt(area * aspect), w)
    top = rng.uniform(0, 1, size=n) * (h - crop_h)
    left = rng.uniform(0, 1, size=n) * (w - crop_w)
    # output pixel centre (y + 0.5) / h of the way down reads the same fraction of the crop
    yy = (np.arange(h) + 0.5) / h
    xx = (np.arange(w) + 0.5) / w
    src_y = top[:, None] + yy[None, :] * crop_h[:, None] - 0.5           # (N, H)
    src_x = left[:, None] + xx[None, :] * crop_w[:, None] - 0.5          # (N, W)
    src_y = np.clip(src_y, 0, h - 1)[:, :, None].repeat(w, axis=2)
    src_x = np.clip(src_x, 0, w - 1)[:, None, :].repeat(h, axis=1)
    return _bilinear(images, src_y, src_x)


def _bilinear(images, src_y, src_x):
    """images sampled at (src_y, src_x) per image, zero outside."""
    n, (h, w) = images.shape[0], images.shape[-2:]
    planes = images.reshape(-1, h, w)                        # (N * C, H, W)
    channels = len(planes) // n
    # a ring of zeros around each plane (two wide after the last row and column, where the
    # second corner of a sample on the ring lands), so that no sample needs an "inside" test:
    # one clipped to the ring reads zeros only, as the image's outside is
    padded = np.zeros((len(planes), h + 3, w + 3), images.dtype)
    padded[:, 1:h + 1, 1:w + 1] = planes
    src_y = np.clip(src_y, -1, h)
    src_x = np.clip(src_x, -1, w)
    y0 = np.floor(src_y)
    x0 = np.floor(src_x)
    fy = (src_y - y0).astype(images.dtype).reshape(n, 1, h * w)
    fx = (src_x - x0).astype(images.dtype).reshape(n, 1, h * w)
    stride = w + 3
    corner = ((y0.astype(np.intp) + 1) * stride + x0.astype(np.intp) + 1).reshape(n, 1, h * w)
    corner = corner + (np.arange(len(planes)) * padded[0].size).reshape(n, channels, 1)
    flat = padded.reshape(-1)                                # one flat gather per corner
    out = np.take(flat, corner) * ((1 - fy) * (1 - fx))
    out += np.take(flat, corner + 1) * ((1 - fy) * fx)
    out += np.take(flat, corner + stride) * (fy * (1 - fx))
    out += np.take(flat, corner + stride + 1) * (fy * fx)
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
