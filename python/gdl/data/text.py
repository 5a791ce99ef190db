"""Text data sets: IMDB reviews, Shakespeare, and the Enron spam/ham corpus."""
import gzip
import tarfile
import zlib

import numpy as np

from gdl.data.download import fetch
from gdl.data.errors import DataError

_IMDB_REVIEWS = {
    "reconstructed": "imdb/reviews_reconstructed.txt.gz",
    "raw": "imdb/aclImdb_train_aligned.txt.gz",
}
_IMDB_LABELS = {"positive": 1, "negative": 0}
_IMDB_SIZE = 25000
_SHAKESPEARE = {"tiny": "shakespeare/input.txt.gz", "book": "shakespeare/shakespear.txt"}
_ENRON_CLASSES = {"ham": 0, "spam": 1}


def load_imdb(text="reconstructed"):
    """The 25,000 IMDB training reviews of the book's chapter 11, with their sentiment.

    Returns ``(reviews, labels)``: ``reviews`` a list of 25,000 str, one review each, in the
    book's order; ``labels`` int64 of shape (25000,), 1 for positive and 0 for negative
    (they alternate, starting with positive).

    ``text="reconstructed"`` gives the book's ``reviews.txt`` form: lowercase tokens joined by
    spaces, ``.`` a token, other punctuation and digits blanked (a close reconstruction, not the
    book's exact file). ``text="raw"`` gives the original review texts (with ``<br />``).

    >>> reviews, labels = load_imdb()
    >>> reviews[0][:24], labels[:4]
    ('bromwell high is a carto', array([1, 0, 1, 0]))
    """
    if text not in _IMDB_REVIEWS:
        raise ValueError(f"load_imdb: text must be 'reconstructed' or 'raw', got {text!r}")
    labels_path = fetch("imdb/labels.txt")
    reviews_path = fetch(_IMDB_REVIEWS[text])
    label_lines = _lines(_read_bytes(labels_path), labels_path)
    reviews = _lines(_read_bytes(reviews_path), reviews_path)
    for path, lines in ((labels_path, label_lines), (reviews_path, reviews)):
        if len(lines) != _IMDB_SIZE:
            raise DataError(f"{path}: {len(lines)} lines, expected {_IMDB_SIZE}")
    labels = np.empty(_IMDB_SIZE, dtype=np.int64)
    for i, line in enumerate(label_lines):
        if line not in _IMDB_LABELS:
            raise DataError(f"{labels_path}: line {i + 1} is {line!r}, expected 'positive' "
                            "or 'negative'")
        labels[i] = _IMDB_LABELS[line]
    return reviews, labels


def load_shakespeare(which="tiny"):
    """Shakespeare as one str, for the character language models of chapters 12-14.

    ``which="tiny"``: Karpathy's tiny Shakespeare, 1,115,394 characters starting
    ``"First Citizen:"``. ``which="book"``: the book repository's ``shakespear.txt`` (99,993
    characters of machine-generated pseudo-Shakespeare, not an excerpt of the plays).

    >>> text = load_shakespeare()
    >>> len(text), text[:14]
    (1115394, 'First Citizen:')
    """
    if which not in _SHAKESPEARE:
        raise ValueError(f"load_shakespeare: which must be 'tiny' or 'book', got {which!r}")
    path = fetch(_SHAKESPEARE[which])
    return _decode(_read_bytes(path), path)


def load_enron():
    """The Enron-Spam ``enron1`` corpus: 3,672 ham and 1,500 spam emails, read from the tar.gz.

    Returns ``(emails, labels)``: ``emails`` a list of str, the ham emails then the spam
    emails, each group sorted by file name; ``labels`` int64 of shape (5172,), 1 for spam and
    0 for ham. Each email is its file's text (``Subject:`` line, then the body, lowercase,
    punctuation separated by spaces) decoded as Latin-1 (every byte is kept; 15 spam files are
    not UTF-8), with ``\\r\\n`` turned into ``\\n``.

    >>> emails, labels = load_enron()
    >>> len(emails), int(labels.sum())
    (5172, 1500)
    """
    path = fetch("enron/enron1.tar.gz")
    found = []
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:          # in archive order: the gzip stream is read once
                label = _enron_label(member)
                if label is None:
                    continue
                data = archive.extractfile(member).read()
                text = data.decode("latin-1").replace("\r\n", "\n")
                found.append((label, member.name, text))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: not a valid tar.gz archive ({type(error).__name__}: "
                        f"{error})") from None
    for name, label in _ENRON_CLASSES.items():
        if not any(item[0] == label for item in found):
            raise DataError(f"{path}: no {name} emails (enron1/{name}/*.txt) in the archive")
    found.sort()
    emails = [text for _, _, text in found]
    labels = np.array([label for label, _, _ in found], dtype=np.int64)
    return emails, labels


def _enron_label(member):
    """0 for ham, 1 for spam, None for anything else (folders, Summary.txt)."""
    parts = member.name.split("/")
    if not member.isfile() or len(parts) != 3 or not parts[2].endswith(".txt"):
        return None
    return _ENRON_CLASSES.get(parts[1])


def _read_bytes(path):
    """The bytes of a file, gunzipped when its name ends in .gz; DataError for a bad gzip."""
    if not str(path).endswith(".gz"):
        with open(path, "rb") as f:
            return f.read()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path}: not a valid gzip file or cut short "
                        f"({type(error).__name__}: {error})") from None


def _decode(data, path):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text ({error})") from None


def _lines(data, path):
    """The lines of a text file without their ``\\n``; only ``\\n`` ends a line."""
    lines = _decode(data, path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
