"""Every data file gdl knows: where it lives in the data home, its SHA-256, size and origin.

The table mirrors ``SHA256SUMS`` of the project's data folder (see its README for the full
provenance of each file). A file's ``urls`` are its public download addresses, tried in
order; an empty tuple means the file was derived by hand and has no public address, so
``fetch`` tells the user where to put it instead.
"""
from typing import NamedTuple, Optional, Tuple

from gdl.data.errors import DataError


class DataFile(NamedTuple):
    """One file of the data home.

    relpath: path inside the data home, ``/``-separated (``"mnist/t10k-labels-idx1-ubyte.gz"``)
    sha256, size: of the file exactly as stored in the data home
    urls: public addresses to download it from, tried in order; ``()`` when there is none
    source: where the file comes from, in words
    raw_sha256: set when ``urls`` serve the *uncompressed* text: the SHA-256 of that text;
        gdl checks it, then gzips the text into ``relpath``
    """

    relpath: str
    sha256: str
    size: int
    urls: Tuple[str, ...]
    source: str
    raw_sha256: Optional[str] = None


_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                  "https://storage.googleapis.com/cvdf-datasets/mnist/")
_MNIST_SOURCE = ("MNIST (Y. LeCun, C. Cortes, C. Burges, http://yann.lecun.com/exdb/mnist/), "
                 "original distribution file; CC BY-SA 3.0")
_GITHUB = "https://raw.githubusercontent.com/"
_BOOK = _GITHUB + "iamtrask/Grokking-Deep-Learning/master/"
# Newer commits of the book repository keep only tasksv11/shuffled/, so bAbI is pinned.
_BOOK_BABI = (_GITHUB + "iamtrask/Grokking-Deep-Learning/"
              "a2bca3970033ba2da8c5da980cd0b165edece483/tasksv11/")
_IMDB_DERIVED = ("derived for gdl from the 25,000 aclImdb v1.0 training reviews "
                 "(https://ai.stanford.edu/~amaas/data/sentiment/, Maas et al. 2011)")


def _mnist(name, sha256, size):
    return DataFile("mnist/" + name, sha256, size,
                    tuple(mirror + name for mirror in _MNIST_MIRRORS), _MNIST_SOURCE)


_FILES = [
    _mnist("train-images-idx3-ubyte.gz",
           "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9912422),
    _mnist("train-labels-idx1-ubyte.gz",
           "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28881),
    _mnist("t10k-images-idx3-ubyte.gz",
           "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1648877),
    _mnist("t10k-labels-idx1-ubyte.gz",
           "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4542),
    DataFile("imdb/labels.txt",
             "301d18424e95957a000293f5d8393239451d7f54622a8f21613172aebe64ca06", 225000,
             (_BOOK + "labels.txt",),
             "iamtrask/Grokking-Deep-Learning: labels.txt (IMDB, Maas et al. 2011)"),
    DataFile("imdb/reviews_reconstructed.txt.gz",
             "5f7e1fa44fbc97d8d752650fb283205f7db63e6249c5252ec4ad0d34d1e3ab7c", 12047402,
             (), "a stand-in for the book's reviews.txt, " + _IMDB_DERIVED),
    DataFile("imdb/aclImdb_train_aligned.txt.gz",
             "cc1b460a63f4b618b446ab6faeeef26718cfd51876744ac0cf1fa03705f274d9", 12880462,
             (), "the raw review texts in the book's order, " + _IMDB_DERIVED),
    DataFile("imdb/aclImdb_train_aligned_ids.txt.gz",
             "f0990bc927eb6b0799b2090ac1ece33f518baa7ce35573d7cf6172f7017b34f0", 65199,
             (), "the aclImdb file name of each review line, " + _IMDB_DERIVED),
    DataFile("imdb/aclImdb_README",
             "a69bd3b91235c7fa1d6aadab51e257b7fa3f7b68f32b607483a72bd67f95e557", 4037,
             (_GITHUB + "dax44/AMLM/2e30af9d0636914ebef7965d5db76a56dc0286e6/"
              "data/aclImdb/README",),
             "the README of aclImdb v1.0 (https://ai.stanford.edu/~amaas/data/sentiment/)"),
    DataFile("shakespeare/input.txt.gz",
             "bed00f18e91cda6838950656f0a95e07e0f4dbe8649a4b959f7602a7e53fbc6e", 433627,
             (_GITHUB + "karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
             "karpathy/char-rnn: data/tinyshakespeare/input.txt (gzipped by gdl)",
             raw_sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
    DataFile("shakespeare/shakespear.txt",
             "c879e55c5e318b9d978064e246306e01d60be15a50f64d9438daeaeacbc119e8", 99993,
             (_BOOK + "shakespear.txt",),
             "iamtrask/Grokking-Deep-Learning: shakespear.txt"),
    DataFile("enron/enron1.tar.gz",
             "fc85a8d3fa5e9845a7ee572de3e92ae057f7c2be06171818539ef0983da89ad8", 2200532,
             (_GITHUB + "ankancode/RNN-LSTM/ce1629ee1ff74f2bc5537aefdb7a82642e573277/"
              "enron1.tar.gz",),
             "Enron-Spam enron1 (Metsis, Androutsopoulos, Paliouras 2006, "
             "http://www2.aueb.gr/users/ion/data/enron-spam/), copy in ankancode/RNN-LSTM"),
    DataFile("babi/qa1_single-supporting-fact_train.txt",
             "c64ba9b1a49bbb111ffc4cd2ae4f129d25c012399dd7ade9679eea464b9afb05", 94346,
             (_BOOK_BABI + "en/qa1_single-supporting-fact_train.txt",),
             "bAbI tasks v1.1 (Facebook, CC BY 3.0), copy in iamtrask/Grokking-Deep-Learning"),
    DataFile("babi/qa1_single-supporting-fact_test.txt",
             "55acf66cef2f6d798e2aa1d056e1ec8f24e910ea9215b639450574321132959b", 94477,
             (_BOOK_BABI + "en/qa1_single-supporting-fact_test.txt",),
             "bAbI tasks v1.1 (Facebook, CC BY 3.0), copy in iamtrask/Grokking-Deep-Learning"),
    DataFile("babi/LICENSE",
             "d12f09a636365a040fd581ebab6bf018d6fe61973c6d4862f841a6aca2f53efa", 19561,
             (_BOOK_BABI + "LICENSE",), "the bAbI license (CC BY 3.0)"),
    DataFile("babi/README",
             "12b8b677a9a801b259c012bda50b96d2ab02632f7cb8bd76c97ea1748e37947d", 2980,
             (_BOOK_BABI + "README",), "the bAbI tasks v1.1 README"),
]

FILES = {entry.relpath: entry for entry in _FILES}
"""relpath -> DataFile, for every file of the data home."""

DATASETS = {
    "mnist": [r for r in FILES if r.startswith("mnist/")],
    "imdb": [r for r in FILES if r.startswith("imdb/")],
    "babi": [r for r in FILES if r.startswith("babi/")],
    "shakespeare": [r for r in FILES if r.startswith("shakespeare/")],
    "enron": [r for r in FILES if r.startswith("enron/")],
}
"""Data set name -> the relpaths of its files, as ``gdl data fetch NAME`` takes them."""


def lookup(relpath):
    """The ``DataFile`` for ``relpath``; a ``DataError`` listing the known files otherwise."""
    entry = FILES.get(relpath)
    if entry is None:
        known = ", ".join(sorted(FILES))
        raise DataError(f"unknown data file {relpath!r}; the known files are: {known}")
    return entry


def resolve(name=None):
    """The relpaths named by ``name``: a data set, one relpath, or every file (None / "all")."""
    if name is None or name == "all":
        return list(FILES)
    if name in DATASETS:
        return list(DATASETS[name])
    if name in FILES:
        return [name]
    raise DataError(f"unknown data set {name!r}; choose from "
                     + ", ".join(list(DATASETS) + ["all"]) + " or a file such as "
                     + "mnist/t10k-labels-idx1-ubyte.gz")
