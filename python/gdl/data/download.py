"""The data home: where data files live, how a missing one is downloaded, how files are checked.

Note [atomic download]: a file is downloaded into a temporary file next to its target, checked
against its SHA-256, and only then renamed onto the target with ``os.replace``. Any failure
(a wrong checksum, a dropped connection, a short read, Ctrl-C) removes the temporary file, so
the data home never holds a partial or unverified file under a real name.
"""
import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from typing import NamedTuple, Optional

from gdl.data.errors import ChecksumError, DownloadError
from gdl.data.registry import lookup, resolve

TIMEOUT = 60
"""Seconds a download waits for the server to connect or to send more bytes."""

_CHUNK = 1 << 16


def data_home():
    """The data home: ``$GDL_DATA_HOME`` if set, else ``~/.cache/gdl``.

    It is laid out like the project's data folder: ``mnist/``, ``imdb/``, ``babi/``,
    ``shakespeare/``, ``enron/``.
    """
    home = os.environ.get("GDL_DATA_HOME") or os.path.join("~", ".cache", "gdl")
    return os.path.abspath(os.path.expanduser(home))


def local_path(relpath):
    """Where ``relpath`` (``"mnist/t10k-labels-idx1-ubyte.gz"``) lives in the data home."""
    lookup(relpath)
    return os.path.join(data_home(), *relpath.split("/"))


def file_sha256(path):
    """The SHA-256 of a file, as 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class FileCheck(NamedTuple):
    """One line of the report of ``verify``: status is ``"ok"``, ``"missing"`` or ``"bad"``."""

    relpath: str
    path: str
    status: str
    expected: str
    actual: Optional[str]


def verify(name=None):
    """Check the files of the data home against the registry; never downloads, never raises
    for a bad file.

    ``name`` is a data set (``"mnist"``, ``"imdb"``, ``"babi"``, ``"shakespeare"``,
    ``"enron"``), one relpath, or ``None``/``"all"`` for every file. Returns a list of
    ``FileCheck(relpath, path, status, expected, actual)``, one per file, where ``status`` is
    ``"ok"``, ``"missing"`` or ``"bad"`` (the SHA-256 differs; ``actual`` holds it).

    >>> [c.status for c in verify("babi")]
    ['ok', 'ok', 'ok', 'ok']
    """
    report = []
    for relpath in resolve(name):
        entry = lookup(relpath)
        path = local_path(relpath)
        if not os.path.isfile(path):
            report.append(FileCheck(relpath, path, "missing", entry.sha256, None))
            continue
        ok, actual = _check(entry, path)
        report.append(FileCheck(relpath, path, "ok" if ok else "bad", entry.sha256, actual))
    return report


def fetch(relpath, verify=False, progress=True):
    """The local path of a data file, downloading it first when it is missing.

    A file already in the data home is returned as it is, or checked against its SHA-256 first
    when ``verify=True`` (a ``ChecksumError`` if it differs). A missing file is downloaded from
    its public address, or from ``$GDL_DATA_URL + "/" + relpath`` when ``GDL_DATA_URL`` is set
    (a server holding a copy of the data home), with a progress bar on a terminal. It is kept
    only once its SHA-256 matches (see Note [atomic download]).

    Raises ``ChecksumError`` (the file, the expected and the actual hash) for a wrong
    download, and ``DownloadError`` when no download succeeds: offline, interrupted, or a file
    with no public address; the message says where to put the file by hand.

    >>> fetch("mnist/t10k-labels-idx1-ubyte.gz")
    '/home/me/.cache/gdl/mnist/t10k-labels-idx1-ubyte.gz'
    """
    entry = lookup(relpath)
    path = local_path(relpath)
    if os.path.isfile(path):
        if verify:
            ok, actual = _check(entry, path)
            if not ok:
                raise ChecksumError(f"{path}: SHA-256 mismatch for {relpath}: expected "
                                    f"{entry.sha256}, got {actual}; delete the file and fetch "
                                    "it again")
        return path
    sources = _sources(entry)
    if not sources:
        raise DownloadError(f"{relpath} is missing and has no public download address. Put the "
                            f"file at {path} (it is {entry.source}), or set GDL_DATA_URL to a "
                            "server holding a copy of the data home")
    failures = []
    for url, gzip_it in sources:
        try:
            _download(entry, url, path, gzip_it, progress)
            return path
        except _Unreachable as error:
            failures.append(f"{url}: {error}")
    origin = sources[0][0]
    if sources[0][1]:
        origin = "gzip -9n of " + origin
    raise DownloadError(f"could not download {relpath} ({'; '.join(failures)}). If you are "
                        f"offline, put the file at {path}; it comes from {origin} "
                        f"({entry.source})")


class _Unreachable(Exception):
    """A download failed for a reason another mirror might not have: network or transfer."""


def _sources(entry):
    """(url, gzip_it) pairs to try in order; gzip_it: the url serves the uncompressed text."""
    base = os.environ.get("GDL_DATA_URL")
    if base:
        return [(base.rstrip("/") + "/" + entry.relpath, False)]
    return [(url, entry.raw_sha256 is not None) for url in entry.urls]


def _check(entry, path):
    """(ok, actual sha256): a gzip file gdl compressed itself also passes on its content."""
    actual = file_sha256(path)
    if actual == entry.sha256:
        return True, actual
    if entry.raw_sha256 is not None and _gunzip_sha256(path) == entry.raw_sha256:
        return True, actual                     # another zlib build compressed it differently
    return False, actual


def _gunzip_sha256(path):
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error):
        return None
    return digest.hexdigest()


def _download(entry, url, path, gzip_it, progress):
    directory = os.path.dirname(path)
    created = not os.path.isdir(directory)
    os.makedirs(directory, exist_ok=True)
    name = os.path.basename(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
    except BaseException:
        _remove_folder(directory, created)
        raise
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _transfer(url, out, entry.relpath, progress)
        expected = entry.raw_sha256 if gzip_it else entry.sha256
        if actual != expected:
            raise ChecksumError(f"{entry.relpath}: SHA-256 mismatch for the download from {url}: "
                                f"expected {expected}, got {actual}; the file was not kept")
        if gzip_it:
            _gzip_file(tmp)
        os.chmod(tmp, 0o644)                    # mkstemp makes it private (0600)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        _remove_folder(directory, created)
        raise


def _remove_folder(directory, created):
    """Remove a folder this download created, if it is still empty."""
    if created:
        try:
            os.rmdir(directory)
        except OSError:
            pass


def _transfer(url, out, desc, progress):
    """Stream url into the open file out; its SHA-256. Raises _Unreachable on network trouble."""
    from gdl import __version__
    from tqdm import tqdm

    request = urllib.request.Request(url, headers={"User-Agent": f"gdl/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as error:
        raise _Unreachable(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise _Unreachable(str(error.reason)) from None
    except (http.client.HTTPException, OSError) as error:
        raise _Unreachable(f"{type(error).__name__}: {error}") from None
    digest = hashlib.sha256()
    received = 0
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.strip().isdigit() else None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                  disable=None if progress else True, leave=False) as bar:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (http.client.HTTPException, OSError) as error:
                    raise _Unreachable(f"transfer interrupted after {received} bytes "
                                       f"({type(error).__name__}); nothing was kept") from None
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise _Unreachable(f"transfer interrupted: received {received} of {total} bytes; "
                           "nothing was kept")
    return digest.hexdigest()


def _gzip_file(path):
    """Replace the file at path by its gzip (level 9, no name, mtime 0, like ``gzip -9n``)."""
    with open(path, "rb") as f:
        data = f.read()
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    body = compressor.compress(data) + compressor.flush()
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\x03"
    trailer = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "little")
    trailer += (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    with open(path, "wb") as f:
        f.write(header + body + trailer)
