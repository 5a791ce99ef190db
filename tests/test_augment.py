"""gdl.data.augment: each augmentation against a plain NumPy reference, seeding, bad input."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import gdl
from gdl.data import augment


class FixedRng:
    """Stands in for a Generator: hands out the given draws, so a test knows each offset."""

    def __init__(self, integers=(), uniform=()):
        self._integers = list(integers)
        self._uniform = list(uniform)

    def integers(self, low, high, size):
        out, self._integers = self._integers[:size], self._integers[size:]
        return np.array(out)

    def uniform(self, low, high, size):
        out, self._uniform = self._uniform[:size], self._uniform[size:]
        return np.array(out, dtype=float)


def shift_reference(image, dy, dx):
    """The image moved down by dy and right by dx, zeros coming in, pixel by pixel."""
    h, w = image.shape[-2:]
    out = np.zeros_like(image)
    for y in range(h):
        for x in range(w):
            if 0 <= y - dy < h and 0 <= x - dx < w:
                out[..., y, x] = image[..., y - dy, x - dx]
    return out


@pytest.mark.parametrize("shape", [(1, 5, 7), (4, 6, 6), (3, 2, 5, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_shift_matches_reference(shape, dtype):
    images = np.random.default_rng(0).random(shape).astype(dtype)
    n = shape[0]
    dy = [(-1) ** i * (i % 3) for i in range(n)]
    dx = [(i % 2) * 2 - 1 for i in range(n)]
    out = augment.random_shift(images, 2, FixedRng(integers=dy + dx))
    assert out.shape == images.shape and out.dtype == images.dtype
    for i in range(n):
        assert_array_equal(out[i], shift_reference(images[i], dy[i], dx[i]))


def test_random_shift_of_zero_is_a_copy_and_the_input_is_kept():
    images = np.random.default_rng(1).random((3, 4, 4))
    before = images.copy()
    same = augment.random_shift(images, 0)
    assert same is not images
    assert_array_equal(same, images)
    augment.random_shift(images, 3)
    assert_array_equal(images, before)


def test_random_shift_draws_every_offset_in_range():
    images = np.zeros((2000, 9, 9))
    images[:, 4, 4] = 1.0                       # one bright pixel: where it lands is the offset
    out = augment.random_shift(images, 2, np.random.default_rng(0))
    where = np.nonzero(out.reshape(2000, -1))[1]
    ys, xs = where // 9 - 4, where % 9 - 4
    assert set(ys) == set(xs) == {-2, -1, 0, 1, 2}


def test_random_rotate_by_90_degrees_is_rot90():
    images = np.random.default_rng(2).random((2, 7, 7))
    out = augment.random_rotate(images, 90, FixedRng(uniform=[90.0, -90.0]))
    # turning the picture counter-clockwise on screen (rows down) is np.rot90 with k=-1
    assert_allclose(out[0], np.rot90(images[0], k=-1), atol=1e-12)
    assert_allclose(out[1], np.rot90(images[1], k=1), atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 8, 8), (2, 3, 9, 5)])
def test_random_rotate_by_a_tiny_angle_is_the_identity(shape):
    images = np.random.default_rng(3).random(shape).astype(np.float32)
    out = augment.random_rotate(images, 1e-7, np.random.default_rng(0))
    assert out.dtype == np.float32 and out.shape == shape
    assert_allclose(out, images, atol=1e-5)


def test_random_rotate_keeps_a_centred_disc():
    yy, xx = np.mgrid[0:21, 0:21]
    disc = ((yy - 10) ** 2 + (xx - 10) ** 2 <= 36).astype(np.float64)[None].repeat(5, axis=0)
    out = augment.random_rotate(disc, 180, np.random.default_rng(4))
    assert_allclose(out.sum(axis=(1, 2)), disc[0].sum(), rtol=0.03)


def test_mask_patch_sets_one_square_per_image():
    images = np.ones((6, 10, 8))
    out, corners = augment.mask_patch(images, 3, np.random.default_rng(5), value=-1.0)
    for image, (r, c) in zip(out, corners):
        assert 0 <= r <= 7 and 0 <= c <= 5
        assert_array_equal(image[r:r + 3, c:c + 3], -1.0)
        assert (image == -1.0).sum() == 9


def test_add_noise_has_the_asked_spread_and_clips():
    images = np.full((50, 20, 20), 0.5)
    noisy = augment.add_noise(images, 0.1, np.random.default_rng(6))
    assert abs((noisy - images).std() - 0.1) < 0.005
    assert abs((noisy - images).mean()) < 0.005
    assert noisy.max() <= 1.0
    assert augment.add_noise(images, 3.0, np.random.default_rng(6)).min() >= 0.0


def test_views_reproduce_from_gdls_seed():
    images = np.random.default_rng(7).random((4, 12, 12)).astype(np.float32)
    gdl.manual_seed(11)
    first = augment.random_views(images, noise=0.05)
    gdl.manual_seed(11)
    again = augment.random_views(images, noise=0.05)
    other = augment.random_views(images, noise=0.05)
    assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("call, error, match", [
    (lambda: augment.random_shift(np.zeros((4, 4)), 1), ValueError, r"\(N, H, W\)"),
    (lambda: augment.random_shift(np.zeros((2, 4, 4), np.int64), 1), TypeError, "float32"),
    (lambda: augment.random_shift([[[0.0]]], 1), TypeError, "numpy array"),
    (lambda: augment.random_shift(np.full((1, 3, 3), np.nan), 1), ValueError, "NaN"),
    (lambda: augment.random_shift(np.zeros((1, 3, 3)), -1), ValueError, "max_shift"),
    (lambda: augment.random_rotate(np.zeros((1, 3, 3)), -5), ValueError, "max_degrees"),
    (lambda: augment.mask_patch(np.zeros((1, 3, 3)), 4), ValueError, r"size must be .* \[1, 3\]"),
    (lambda: augment.add_noise(np.zeros((1, 3, 3)), -0.1), ValueError, "std"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- random_resized_crop ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 8, 8), (2, 1, 7, 9)])
def test_random_resized_crop_of_the_whole_image_is_the_identity(shape):
    images = np.random.default_rng(8).random(shape).astype(np.float32)
    aspect = shape[-1] / shape[-2]                 # the image's own width / height
    out = augment.random_resized_crop(images, scale=(1.0, 1.0), ratio=(aspect, aspect),
                                      rng=np.random.default_rng(0))
    assert out.dtype == np.float32 and out.shape == shape
    assert_allclose(out, images, atol=1e-6)


def test_random_resized_crop_stretches_the_chosen_quarter():
    yy, xx = np.mgrid[0:8, 0:8]
    ramp = (yy + 10.0 * xx)[None]                  # bilinear sampling is exact on a ramp
    # a quarter of the area, square, at the top (0) and the right (1) of where it can lie
    out = augment.random_resized_crop(ramp, rng=FixedRng(uniform=[0.25, 0.0, 0.0, 1.0]))
    # output pixel y reads the crop at (y + 0.5) / 8 of its 4 rows, edge pixels repeated
    src_y = np.clip((yy + 0.5) / 2 - 0.5, 0, 7)
    src_x = np.clip(4 + (xx + 0.5) / 2 - 0.5, 0, 7)
    assert_allclose(out[0], src_y + 10 * src_x, atol=1e-12)


def test_random_resized_crop_keeps_a_constant_image_and_the_input():
    images = np.full((20, 1, 12, 12), 0.7)
    before = images.copy()
    out = augment.random_resized_crop(images, scale=(0.2, 0.9), rng=np.random.default_rng(9))
    assert_allclose(out, 0.7, rtol=1e-12)
    assert_array_equal(images, before)
    varied = augment.random_resized_crop(np.random.default_rng(1).random((20, 12, 12)),
                                         rng=np.random.default_rng(9))
    assert len({float(v[0, 0]) for v in varied}) == 20              # each image its own crop


@pytest.mark.parametrize("kwargs, match", [
    ({"scale": (0.0, 1.0)}, r"scale must be a \(low, high\) range"),
    ({"scale": (0.5, 1.5)}, "scale must be"),
    ({"ratio": (2.0, 1.0)}, r"ratio must be a \(low, high\) range"),
])
def test_random_resized_crop_bad_ranges(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augment.random_resized_crop(np.zeros((1, 4, 4)), **kwargs)


def test_random_rotate_interpolates_like_a_pixel_loop():
    images = np.random.default_rng(10).random((2, 2, 6, 7))
    out = augment.random_rotate(images, 45, FixedRng(uniform=[30.0, -41.0]))
    for i, degrees in enumerate([30.0, -41.0]):
        angle = np.deg2rad(degrees)
        cy, cx = 2.5, 3.0
        for y in range(6):
            for x in range(7):
                # the point turned back by -angle, read bilinearly, zero outside
                sy = np.cos(angle) * (y - cy) - np.sin(angle) * (x - cx) + cy
                sx = np.sin(angle) * (y - cy) + np.cos(angle) * (x - cx) + cx
                y0, x0 = int(np.floor(sy)), int(np.floor(sx))
                expected = np.zeros(2)
                for yy, xx in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)):
                    if 0 <= yy < 6 and 0 <= xx < 7:
                        weight = (1 - abs(sy - yy)) * (1 - abs(sx - xx))
                        expected += weight * images[i, :, yy, xx]
                assert_allclose(out[i, :, y, x], expected, atol=1e-12)
