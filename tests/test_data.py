"""gdl.data: Dataset, TensorDataset, DataLoader, and the loaders on the real data files.

Loader tests read the data home named by GDL_DATA_HOME (the project's shared data folder in CI).
They skip when it is unset or lacks a file, and fail instead when GDL_REQUIRE_DATA=1. No test
here touches the network: GDL_DATA_URL points at a closed local port for the whole module.
"""
import gzip
import io
import os
import re
import shutil
import struct
import tarfile

import numpy as np
import pytest

import gdl.cli
from gdl.data import (BabiQuestion, ChecksumError, DataError, DataLoader, Dataset, DownloadError,
                      TensorDataset, flatten_images, load_babi, load_enron, load_imdb, load_mnist,
                      load_mnist_slice, load_shakespeare, one_hot, parse_babi, read_idx, verify)

MNIST_TEST = ("mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz")
MNIST_TRAIN = ("mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz")
BABI_TRAIN = "babi/qa1_single-supporting-fact_train.txt"


from datafiles import closed_port_url, data_file


@pytest.fixture(scope="module", autouse=True)
def no_network():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GDL_DATA_URL", closed_port_url())
        yield


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """An empty data home."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GDL_DATA_HOME", str(home))
    return home


# ---------------------------------------------------------------- Dataset, TensorDataset

def test_tensor_dataset_rows():
    x = np.arange(12).reshape(6, 2)
    y = np.arange(6) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    row_x, row_y = ds[4]
    assert row_x.tolist() == [8, 9] and row_y == 40


def test_tensor_dataset_rejects_mismatched_arrays():
    with pytest.raises(ValueError, match="same first dimension, got 6, 5"):
        TensorDataset(np.zeros((6, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()
    with pytest.raises(ValueError, match="scalar"):
        TensorDataset(np.float32(1.0))


def test_dataset_base_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        len(Dataset())


# ---------------------------------------------------------------- DataLoader

def _numbered(n):
    """A TensorDataset whose rows say where they came from."""
    return TensorDataset(np.arange(n * 3, dtype=np.float32).reshape(n, 3), np.arange(n))


@pytest.mark.parametrize("batch_size", [1, 7, 10, 64, 100])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_cover_the_dataset_once(batch_size, shuffle):
    ds = _numbered(64)
    loader = DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=0)
    batches = list(loader)
    assert len(batches) == len(loader) == -(-64 // batch_size)
    for x, y in batches[:-1]:
        assert x.shape == (batch_size, 3) and y.shape == (batch_size,)
    ids = np.concatenate([y for _, y in batches])
    xs = np.concatenate([x for x, _ in batches])
    assert sorted(ids.tolist()) == list(range(64))
    np.testing.assert_array_equal(xs, ds.arrays[0][ids])     # rows stay together
    assert (ids.tolist() == list(range(64))) is (not shuffle)


def test_drop_last():
    loader = DataLoader(_numbered(10), batch_size=3, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert all(len(y) == 3 for _, y in batches)
    assert np.concatenate([y for _, y in batches]).tolist() == list(range(9))
    assert len(DataLoader(_numbered(10), batch_size=3)) == 4
    assert len(DataLoader(_numbered(2), batch_size=3, drop_last=True)) == 0


def _epochs(loader, count):
    return [np.concatenate([y for _, y in loader]).tolist() for _ in range(count)]


def test_shuffle_is_reproducible_with_a_seed():
    first = _epochs(DataLoader(_numbered(50), batch_size=8, shuffle=True, seed=3), 3)
    again = _epochs(DataLoader(_numbered(50), batch_size=8, shuffle=True, seed=3), 3)
    other = _epochs(DataLoader(_numbered(50), batch_size=8, shuffle=True, seed=4), 3)
    assert first == again
    assert first != other
    assert first[0] != first[1] != first[2]       # a new order every epoch


def test_unseeded_shuffle_follows_gdl_manual_seed():
    random = pytest.importorskip("gdl.random")
    loader = DataLoader(_numbered(50), batch_size=8, shuffle=True)
    random.manual_seed(7)
    first = _epochs(loader, 2)
    random.manual_seed(7)
    assert _epochs(loader, 2) == first and first[0] != first[1]


def test_tensor_dataset_batches_are_gathered_without_getitem(monkeypatch):
    def per_item(self, index):
        raise AssertionError("the TensorDataset fast path must not index item by item")
    monkeypatch.setattr(TensorDataset, "__getitem__", per_item)
    loader = DataLoader(_numbered(20), batch_size=6, shuffle=True, seed=1)
    assert sum(len(y) for _, y in loader) == 20


def test_batches_are_copies():
    ds = _numbered(8)
    for x, _ in DataLoader(ds, batch_size=4):
        x[:] = -1
    assert ds.arrays[0].min() == 0


class Squares(Dataset):
    def __len__(self):
        return 9

    def __getitem__(self, index):
        return np.array([index, index * index]), index % 2


class Plain(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, index):
        return float(index)


class Doubled(TensorDataset):
    def __getitem__(self, index):
        x, = super().__getitem__(index)
        return (x * 2,)


def test_generic_datasets_are_stacked():
    batches = list(DataLoader(Squares(), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 1]
    x, parity = batches[0]
    assert x.tolist() == [[0, 0], [1, 1], [2, 4], [3, 9]] and parity.tolist() == [0, 1, 0, 1]
    (values,), = list(DataLoader(Plain(), batch_size=5))
    assert values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    (doubled,), = list(DataLoader(Doubled(np.arange(3)), batch_size=3))
    assert doubled.tolist() == [0, 2, 4]          # a subclass's __getitem__ is honoured


def test_empty_dataset_has_no_batches():
    loader = DataLoader(TensorDataset(np.zeros((0, 3))), batch_size=4, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
    ({"batch_size": -3}, ValueError, "batch_size must be >= 1"),
    ({"batch_size": 2.5}, TypeError, "batch_size must be an int"),
    ({"batch_size": True}, TypeError, "batch_size must be an int"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False"),
    ({"drop_last": 1}, TypeError, "drop_last must be True or False"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"seed": 1.5}, TypeError, "seed must be None or an int"),
])
def test_loader_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(_numbered(4), **kwargs)


def test_loader_rejects_a_non_dataset():
    with pytest.raises(TypeError, match="dataset must define __len__ and __getitem__"):
        DataLoader(42)


# ---------------------------------------------------------------- MNIST

@pytest.fixture(scope="module")
def mnist_train():
    for relpath in MNIST_TRAIN:
        data_file(relpath)
    return load_mnist("train")


@pytest.fixture(scope="module")
def mnist_test():
    for relpath in MNIST_TEST:
        data_file(relpath)
    return load_mnist("test")


def test_mnist_train(mnist_train):
    images, labels = mnist_train
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(labels).tolist()[:2] == [5923, 6742]
    assert images.max() == 255 and images.min() == 0


def test_mnist_test(mnist_test):
    images, labels = mnist_test
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert labels[:3].tolist() == [7, 2, 1]
    assert sorted(set(labels.tolist())) == list(range(10))


def test_mnist_slice_needs_no_data_home(tmp_home):
    x_train, y_train, x_test, y_test = load_mnist_slice()
    assert x_train.shape == (1000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (1000,) and y_train.dtype == np.int64
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.int64
    assert y_train[0] == 5 and y_test[:3].tolist() == [7, 2, 1]
    assert os.listdir(tmp_home) == []


def test_mnist_slice_is_the_book_slice(mnist_train, mnist_test):
    x_train, y_train, x_test, y_test = load_mnist_slice()
    np.testing.assert_array_equal(x_train, mnist_train[0][:1000])
    np.testing.assert_array_equal(y_train, mnist_train[1][:1000])
    np.testing.assert_array_equal(x_test, mnist_test[0])
    np.testing.assert_array_equal(y_test, mnist_test[1])


def test_flatten_images_and_one_hot():
    x_train, y_train, _, _ = load_mnist_slice()
    x = flatten_images(x_train)
    assert x.shape == (1000, 784) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_allclose(x[0], x_train[0].reshape(-1) / 255, rtol=1e-6)
    y = one_hot(y_train)
    assert y.shape == (1000, 10) and y.dtype == np.float32
    assert y.sum(axis=1).tolist() == [1.0] * 1000 and y[0, 5] == 1.0
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 10\)"):
        one_hot(np.array([3, 10]))


def _idx(magic, dims, payload):
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + payload


def _gzip(data):
    return gzip.compress(data, compresslevel=1, mtime=0)


def _write_mnist_test(home, images=None, labels=None):
    """A test split in home: valid zero images and labels unless replaced by given bytes."""
    folder = home / "mnist"
    folder.mkdir(exist_ok=True)
    if images is None:
        images = _gzip(_idx(0x803, (10000, 28, 28), bytes(10000 * 784)))
    if labels is None:
        labels = _gzip(_idx(0x801, (10000,), bytes(10000)))
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(labels)
    return folder / "t10k-images-idx3-ubyte.gz", folder / "t10k-labels-idx1-ubyte.gz"


def test_mnist_synthetic_files_load(tmp_home):
    _write_mnist_test(tmp_home)
    images, labels = load_mnist("test")
    assert images.shape == (10000, 28, 28) and labels.tolist() == [0] * 10000


LABELS_10000 = _idx(0x801, (10000,), np.random.default_rng(0).integers(0, 10, 10000,
                                                                    dtype=np.uint8).tobytes())


CORRUPT_LABELS = {
    "wrong magic": (_gzip(_idx(0x803, (10000,), bytes(10000))),
                    "bad IDX magic number 0x00000803, expected 0x00000801"),
    "short data": (_gzip(_idx(0x801, (10000,), bytes(9999))), "cut short: 9999 bytes"),
    "long data": (_gzip(_idx(0x801, (10000,), bytes(10001))), "longer than the header"),
    "wrong count": (_gzip(_idx(0x801, (9999,), bytes(9999))),
                    r"dimensions \(9999,\), expected \(10000,\)"),
    "not digits": (_gzip(_idx(0x801, (10000,), bytes([11]) * 10000)),
                   "labels must be digits 0-9"),
    "short header": (_gzip(b"\x00\x00"), "cut short while reading the IDX header"),
    "truncated gzip": (_gzip(LABELS_10000)[:2000], "not a valid gzip file or cut short"),
    "no gzip trailer": (_gzip(LABELS_10000)[:-4], "not a valid gzip file or cut short"),
    "not gzip": (LABELS_10000, "not a valid gzip file"),
    "empty": (b"", "cut short"),
}


@pytest.mark.parametrize("labels, message", CORRUPT_LABELS.values(), ids=CORRUPT_LABELS.keys())
def test_corrupt_mnist_labels_raise_data_error(tmp_home, labels, message):
    _, path = _write_mnist_test(tmp_home, labels=labels)
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*" + message):
        load_mnist("test")


def test_corrupt_mnist_images_raise_data_error(tmp_home):
    path, _ = _write_mnist_test(tmp_home, images=_gzip(_idx(0x801, (10000,), bytes(10000))))
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*bad IDX magic"):
        load_mnist("test")
    good = _gzip(_idx(0x803, (10000, 28, 28), bytes(10000 * 784)))
    path, _ = _write_mnist_test(tmp_home, images=good[:len(good) // 2])
    with pytest.raises(DataError, match=re.escape(str(path)) + ".*cut short"):
        load_mnist("test")


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)
    assert issubclass(ChecksumError, DataError) and issubclass(DownloadError, DataError)


def test_read_idx_plain_and_multibyte(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(_idx(0x00000C02, (2, 3), np.arange(6, dtype=">i4").tobytes()))
    array = read_idx(path)
    assert array.dtype == np.int32 and array.tolist() == [[0, 1, 2], [3, 4, 5]]
    path.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="not an IDX file"):
        read_idx(path)


def test_load_mnist_rejects_a_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        load_mnist("validation")


# ---------------------------------------------------------------- IMDB

@pytest.fixture(scope="module")
def imdb():
    data_file("imdb/labels.txt")
    data_file("imdb/reviews_reconstructed.txt.gz")
    return load_imdb()


def test_imdb_reconstructed(imdb):
    reviews, labels = imdb
    assert isinstance(reviews, list) and len(reviews) == 25000
    assert all(isinstance(r, str) and "\n" not in r for r in reviews[:100])
    assert reviews[0].startswith("bromwell high is a cartoon comedy . it ran at the same time")
    assert labels.shape == (25000,) and labels.dtype == np.int64
    assert labels[0] == 1                                  # the first review is positive
    assert labels[:4].tolist() == [1, 0, 1, 0] and labels.sum() == 12500


def test_imdb_raw():
    data_file("imdb/labels.txt")
    data_file("imdb/aclImdb_train_aligned.txt.gz")
    reviews, labels = load_imdb(text="raw")
    assert len(reviews) == 25000 and labels[0] == 1
    assert reviews[0].startswith("Bromwell High is a cartoon comedy. It ran at the same time")
    assert any("<br />" in r for r in reviews[:50])


def test_imdb_bad_label_line(tmp_home):
    (tmp_home / "imdb").mkdir()
    (tmp_home / "imdb" / "labels.txt").write_text("positive\nneutral\n" * 12500)
    (tmp_home / "imdb" / "reviews_reconstructed.txt.gz").write_bytes(_gzip(b"a review\n" * 25000))
    path = tmp_home / "imdb" / "labels.txt"
    with pytest.raises(DataError, match=re.escape(str(path)) + ": line 2 is 'neutral'"):
        load_imdb()
    (tmp_home / "imdb" / "labels.txt").write_text("positive\n" * 24999)
    with pytest.raises(DataError, match="24999 lines, expected 25000"):
        load_imdb()
    with pytest.raises(ValueError, match="text must be 'reconstructed' or 'raw'"):
        load_imdb(text="clean")


# ---------------------------------------------------------------- bAbI

def test_babi_train():
    data_file(BABI_TRAIN)
    lines, stories = load_babi(1, "train")
    assert lines[0] == "1 Mary moved to the bathroom."
    assert lines[2] == "3 Where is Mary? \tbathroom\t1"
    assert len(lines) == 3000 and len(stories) == 200
    first = stories[0]
    assert first.sentences[:2] == [(1, "Mary moved to the bathroom."),
                                   (2, "John went to the hallway.")]
    assert first.questions[0] == BabiQuestion(3, "Where is Mary?", "bathroom", (1,))
    assert all(len(s.sentences) == 10 and len(s.questions) == 5 for s in stories)


def test_babi_test_split():
    data_file("babi/qa1_single-supporting-fact_test.txt")
    lines, stories = load_babi(1, "test")
    assert len(lines) == 3000 and len(stories) == 200
    assert sum(len(s.questions) for s in stories) == 1000


@pytest.mark.parametrize("lines, message", [
    (["1 Mary moved.", "3 John went."], "line 2 has id 3 after id 1"),
    (["Mary moved."], "line 1 is not 'ID text'"),
    (["1 Mary moved.", "2 Where is Mary?\tbathroom"], "line 2 is not 'ID question"),
    (["1 Mary moved.", "2 Where is Mary?\tbathroom\t5"], "line 2: supporting ids '5'"),
    (["2 Mary moved."], "line 1 has id 2 after id 0"),
])
def test_babi_malformed_lines(lines, message):
    with pytest.raises(DataError, match="story.txt: " + message):
        parse_babi(lines, "story.txt")


def test_babi_rejects_unknown_tasks():
    with pytest.raises(ValueError, match="task must be one of"):
        load_babi(2)
    with pytest.raises(ValueError, match="split must be"):
        load_babi(1, "valid")


# ---------------------------------------------------------------- Shakespeare, Enron

def test_shakespeare_tiny():
    data_file("shakespeare/input.txt.gz")
    text = load_shakespeare()
    assert text.startswith("First Citizen:\nBefore we proceed any further, hear me speak.")
    assert len(text) == 1115394 and text.count("\n") == 40000


def test_shakespeare_book():
    data_file("shakespeare/shakespear.txt")
    text = load_shakespeare("book")
    assert isinstance(text, str) and len(text) == 99993
    with pytest.raises(ValueError, match="which must be 'tiny' or 'book'"):
        load_shakespeare("full")


def test_enron():
    data_file("enron/enron1.tar.gz")
    emails, labels = load_enron()
    assert len(emails) == 5172 and labels.shape == (5172,) and labels.dtype == np.int64
    assert (labels == 0).sum() == 3672 and (labels == 1).sum() == 1500
    assert labels[:3672].max() == 0                         # ham first, then spam
    assert all(e.startswith("Subject:") for e in emails)
    assert not any("\r" in e for e in emails[:200])


def test_enron_corrupt_archive(tmp_home):
    (tmp_home / "enron").mkdir()
    path = tmp_home / "enron" / "enron1.tar.gz"
    path.write_bytes(b"not a tar file at all")
    with pytest.raises(DataError, match=re.escape(str(path)) + ": not a valid tar.gz"):
        load_enron()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("enron1/ham/1.ham.txt")
        info.size = 12
        archive.addfile(info, io.BytesIO(b"Subject: hi\n"))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(DataError, match="no spam emails"):
        load_enron()


@pytest.mark.parametrize("load, relpath", [
    (load_mnist, "mnist/train-images-idx3-ubyte.gz"),
    (load_imdb, "imdb/labels.txt"),
    (load_babi, BABI_TRAIN),
    (load_shakespeare, "shakespeare/input.txt.gz"),
    (load_enron, "enron/enron1.tar.gz"),
])
def test_loaders_fetch_missing_files(tmp_home, load, relpath):
    with pytest.raises(DownloadError, match="put the file at " + re.escape(
            str(tmp_home.joinpath(*relpath.split("/"))))):
        load()
    assert os.listdir(tmp_home) == []


# ---------------------------------------------------------------- gdl data verify (CLI)

def test_cli_verify_reports_ok_missing_and_bad(tmp_home, capsys):
    (tmp_home / "babi").mkdir()
    shutil.copy(data_file(BABI_TRAIN), tmp_home / "babi")
    (tmp_home / "babi" / "README").write_text("not the bAbI README\n")
    assert gdl.cli.main(["data", "verify", "babi"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^ok +babi/qa1_single-supporting-fact_train.txt$", out, re.M)
    assert re.search(r"^missing +babi/LICENSE$", out, re.M)
    assert re.search(r"^BAD checksum +babi/README +\(expected 12b8b677", out, re.M)
    assert "4 files in" in out and "1 ok, 2 missing, 1 bad" in out
    statuses = {c.relpath: c.status for c in verify("babi")}
    assert statuses["babi/README"] == "bad" and statuses["babi/LICENSE"] == "missing"


def test_cli_verify_real_data_home(capsys):
    data_file(BABI_TRAIN)
    code = gdl.cli.main(["data", "verify"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "BAD" not in out and "16 files in" in out


def test_cli_user_errors_are_one_line(tmp_home, capsys):
    assert gdl.cli.main(["data", "fetch", "cifar"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gdl: error: unknown data set 'cifar'")
    assert gdl.cli.main(["data", "verify", "cifar"]) == 1
    assert "unknown data set" in capsys.readouterr().err
    assert gdl.cli.main(["data"]) == 0
    assert "fetch" in capsys.readouterr().out
