"""MNIST: the IDX files of the data home, and the book's slice that ships inside gdl."""
import gzip
import importlib.resources
import struct
import zlib

import numpy as np

from gdl.data.download import fetch
from gdl.data.errors import DataError

# IDX type code (third magic byte) -> element type, stored big-endian.
_IDX_TYPES = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_IMAGES_MAGIC = 0x00000803                      # uint8, 3 dimensions
_LABELS_MAGIC = 0x00000801                      # uint8, 1 dimension

_SPLITS = {
    "train": ("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz", 60000),
    "test": ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz", 10000),
}
_SLICE = {
    "train": ("train1k-images-idx3-ubyte.gz", "train1k-labels-idx1-ubyte.gz", 1000),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", 10000),
}


def read_idx(path):
    """The array stored in an IDX file (gzip-compressed when the name ends in ``.gz``).

    Returns an array with the shape of the header's dimensions and its element type in native
    byte order (``uint8`` for MNIST). A bad gzip stream, a bad magic number, or data shorter
    or longer than the header says raises ``DataError`` naming the file.
    """
    with open(path, "rb") as raw:
        return _read_idx_file(raw, str(path), gzipped=str(path).endswith(".gz"))


def load_mnist(split="train"):
    """The MNIST training (60,000) or test (10,000) set from the data home.

    Returns ``(images, labels)``: ``images`` uint8 of shape (N, 28, 28), pixels 0 (white) to
    255 (black); ``labels`` int64 of shape (N,), digits 0-9. The files are fetched first when
    missing (see ``fetch``). The IDX magic, dimensions and exact length are checked; a bad
    file raises ``DataError`` naming it.

    >>> images, labels = load_mnist("test")
    >>> images.shape, images.dtype, labels[:3]
    ((10000, 28, 28), dtype('uint8'), array([7, 2, 1]))
    """
    if split not in _SPLITS:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    images_file, labels_file, n = _SPLITS[split]
    images_path = fetch(images_file)
    labels_path = fetch(labels_file)
    images = _load_checked(images_path, _IMAGES_MAGIC, (n, 28, 28), open)
    labels = _load_checked(labels_path, _LABELS_MAGIC, (n,), open)
    return images, _labels_int64(labels, labels_path)


def load_mnist_slice():
    """The book's MNIST slice, shipped inside gdl: no data home or download needed.

    Returns ``(x_train, y_train, x_test, y_test)``: the first 1,000 training images and
    labels, and all 10,000 test images and labels. Images are uint8 of shape (N, 28, 28),
    labels int64 of shape (N,). They equal ``load_mnist("train")`` rows 0-999 and
    ``load_mnist("test")``.

    >>> x_train, y_train, x_test, y_test = load_mnist_slice()
    >>> x_train.shape, y_test.shape
    ((1000, 28, 28), (10000,))
    """
    folder = importlib.resources.files("gdl.data") / "_mnist_slice"
    arrays = []
    for split in ("train", "test"):
        images_name, labels_name, n = _SLICE[split]
        images = _load_checked(folder / images_name, _IMAGES_MAGIC, (n, 28, 28), _open_resource)
        labels = _load_checked(folder / labels_name, _LABELS_MAGIC, (n,), _open_resource)
        arrays += [images, _labels_int64(labels, str(folder / labels_name))]
    return tuple(arrays)


def flatten_images(images):
    """Images (N, 28, 28) uint8 -> float32 (N, 784) scaled to [0, 1], as the book feeds them.

    >>> flatten_images(x_train).shape
    (1000, 784)
    """
    images = np.asarray(images)
    if images.ndim < 2:
        raise ValueError(f"flatten_images: images must have shape (N, ...), got {images.shape}")
    x = images.reshape(images.shape[0], -1).astype(np.float32)
    x /= 255
    return x


def one_hot(labels, num_classes=10):
    """Labels (N,) of ints in [0, num_classes) -> float32 (N, num_classes) with one 1 per row.

    >>> one_hot(np.array([5, 0]))[0]
    array([0., 0., 0., 0., 0., 1., 0., 0., 0., 0.], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("one_hot: labels must be a 1-d array of ints, got "
                         f"{labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in [0, {num_classes}), got "
                         f"{labels.min()}..{labels.max()}")
    y = np.zeros((labels.shape[0], num_classes), dtype=np.float32)
    y[np.arange(labels.shape[0]), labels] = 1
    return y


def _open_resource(resource, mode):
    return resource.open(mode)


def _load_checked(path, magic, shape, opener):
    """The array of an MNIST IDX gzip file, checked against the expected magic and shape."""
    name = str(path)
    with opener(path, "rb") as raw:
        array = _read_idx_file(raw, name, gzipped=True, expect_magic=magic)
    if array.shape != shape:
        raise DataError(f"{name}: IDX dimensions {array.shape}, expected {shape}")
    return array


def _labels_int64(labels, name):
    if labels.size and labels.max() > 9:
        raise DataError(f"{name}: labels must be digits 0-9, found {labels.max()}")
    return labels.astype(np.int64)


def _read_idx_file(raw, name, gzipped, expect_magic=None):
    try:
        if gzipped:
            with gzip.GzipFile(fileobj=raw, mode="rb") as f:
                return _parse_idx(f, name, expect_magic)
        return _parse_idx(raw, name, expect_magic)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{name}: not a valid gzip file or cut short "
                        f"({type(error).__name__}: {error})") from None


def _parse_idx(f, name, expect_magic):
    header = _read_exactly(f, 4, name, "the IDX header")
    magic = int.from_bytes(header, "big")
    if expect_magic is not None and magic != expect_magic:
        raise DataError(f"{name}: bad IDX magic number 0x{magic:08x}, expected "
                        f"0x{expect_magic:08x}")
    if header[0] != 0 or header[1] != 0 or header[2] not in _IDX_TYPES:
        raise DataError(f"{name}: bad IDX magic number 0x{magic:08x}, not an IDX file")
    ndim = header[3]
    dims = struct.unpack(f">{ndim}I", _read_exactly(f, 4 * ndim, name, "the IDX dimensions"))
    dtype = _IDX_TYPES[header[2]]
    nbytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    buffer = np.empty(nbytes, dtype=np.uint8)
    view = memoryview(buffer)
    filled = 0
    while filled < nbytes:
        count = f.readinto(view[filled:])
        if not count:
            raise DataError(f"{name}: IDX data cut short: {filled} bytes, the header "
                            f"{tuple(dims)} needs {nbytes}")
        filled += count
    if f.read(1):
        raise DataError(f"{name}: IDX data longer than the header {tuple(dims)} says "
                        f"({nbytes} bytes)")
    return buffer.view(dtype).reshape(dims).astype(dtype.newbyteorder("="), copy=False)


def _read_exactly(f, n, name, what):
    data = f.read(n)
    if len(data) != n:
        raise DataError(f"{name}: file cut short while reading {what}")
    return data
