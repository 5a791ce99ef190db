"""Data for gdl: datasets, the DataLoader, and the book's data sets from the data home.

The data home is ``$GDL_DATA_HOME`` (default ``~/.cache/gdl``), laid out as ``mnist/``,
``imdb/``, ``babi/``, ``shakespeare/`` and ``enron/``. Every loader fetches a missing file from
its public address and checks its SHA-256; ``load_mnist_slice()`` needs no data home at all.

>>> from gdl.data import DataLoader, TensorDataset, load_mnist_slice, flatten_images
>>> x_train, y_train, x_test, y_test = load_mnist_slice()
>>> loader = DataLoader(TensorDataset(flatten_images(x_train), y_train), batch_size=100)
"""
from gdl.data import augment
from gdl.data.babi import BabiQuestion, BabiStory, load_babi, parse_babi
from gdl.data.dataset import DataLoader, Dataset, TensorDataset
from gdl.data.download import FileCheck, data_home, fetch, file_sha256, local_path, verify
from gdl.data.errors import ChecksumError, DataError, DownloadError
from gdl.data.mnist import flatten_images, load_mnist, load_mnist_slice, one_hot, read_idx
from gdl.data.registry import DATASETS, FILES, DataFile
from gdl.data.text import load_enron, load_imdb, load_shakespeare

__all__ = [
    "augment",
    "Dataset", "TensorDataset", "DataLoader",
    "DataError", "ChecksumError", "DownloadError",
    "DataFile", "FILES", "DATASETS", "FileCheck",
    "data_home", "local_path", "fetch", "verify", "file_sha256",
    "load_mnist", "load_mnist_slice", "read_idx", "flatten_images", "one_hot",
    "load_imdb", "load_shakespeare", "load_enron",
    "load_babi", "parse_babi", "BabiStory", "BabiQuestion",
]
