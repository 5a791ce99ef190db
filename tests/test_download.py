"""gdl.data.fetch against a local HTTP server on 127.0.0.1: never the network.

The server serves a temporary folder laid out like a data home (GDL_DATA_URL points at it);
GDL_DATA_HOME is an empty temporary folder. Tests that need real file bytes copy them from the
data home named by GDL_DATA_HOME (skip without it, fail with GDL_REQUIRE_DATA=1).
"""
import functools
import gzip
import hashlib
import http.server
import os
import re
import shutil
import threading

import pytest

import gdl.cli
import gdl.data.registry
from gdl.data import (ChecksumError, DataError, DownloadError, FILES, fetch, file_sha256,
                      load_babi, local_path, verify)

BABI_TRAIN = "babi/qa1_single-supporting-fact_train.txt"
MNIST_LABELS = "mnist/t10k-labels-idx1-ubyte.gz"


from datafiles import closed_port_url, data_file


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; a path in ``cut`` gets its full Content-Length but half its bytes."""

    cut = set()
    requests = []

    def do_GET(self):
        Handler.requests.append(self.path)
        if self.path not in Handler.cut:
            return super().do_GET()
        with open(self.translate_path(self.path), "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """(root folder, base URL) of an HTTP server on 127.0.0.1 serving the root folder."""
    root = tmp_path / "served"
    root.mkdir()
    Handler.cut = set()
    Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty data home, and GDL_DATA_URL unset unless a test sets it."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("GDL_DATA_HOME", str(folder))
    monkeypatch.delenv("GDL_DATA_URL", raising=False)
    return folder


def serve(root, relpath, data=None):
    """Put relpath under the served root: the real file, or the given bytes."""
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    if data is None:
        shutil.copy(data_file(relpath), target)
    else:
        target.write_bytes(data)
    return target


def files_under(folder):
    """Every file and folder under folder, relative to it."""
    return sorted(os.path.relpath(os.path.join(d, f), folder)
                  for d, folders, names in os.walk(folder) for f in folders + names)


def test_data_home_default(monkeypatch):
    monkeypatch.delenv("GDL_DATA_HOME", raising=False)
    assert gdl.data.data_home() == os.path.join(os.path.expanduser("~"), ".cache", "gdl")
    monkeypatch.setenv("GDL_DATA_HOME", "/somewhere/data")
    assert gdl.data.data_home() == "/somewhere/data"
    assert local_path(MNIST_LABELS) == "/somewhere/data/mnist/t10k-labels-idx1-ubyte.gz"
    with pytest.raises(DataError, match="unknown data file 'mnist/cifar.bin'"):
        local_path("mnist/cifar.bin")


def test_registry_covers_every_file():
    assert len(FILES) == 16
    for relpath, entry in FILES.items():
        assert entry.relpath == relpath and re.fullmatch("[0-9a-f]{64}", entry.sha256)
        assert entry.size > 0 and entry.source
        assert all(url.startswith("https://") for url in entry.urls)
    no_url = sorted(r for r, e in FILES.items() if not e.urls)
    assert no_url == ["imdb/aclImdb_train_aligned.txt.gz", "imdb/aclImdb_train_aligned_ids.txt.gz",
                      "imdb/reviews_reconstructed.txt.gz"]


def test_registry_matches_the_data_folder_sums():
    home = os.path.dirname(os.path.dirname(data_file(BABI_TRAIN)))
    sums = os.path.join(home, "SHA256SUMS")
    if not os.path.isfile(sums):
        pytest.skip(f"no SHA256SUMS in {home}")
    with open(sums) as f:
        listed = dict(reversed(line.split()) for line in f if line.strip())
    assert listed == {relpath: entry.sha256 for relpath, entry in FILES.items()}
    for relpath, entry in FILES.items():
        path = os.path.join(home, *relpath.split("/"))
        if os.path.isfile(path):
            assert os.path.getsize(path) == entry.size, relpath


def test_fetch_downloads_and_verifies(server, home, monkeypatch):
    root, url = server
    for relpath in (BABI_TRAIN, MNIST_LABELS):
        serve(root, relpath)
    monkeypatch.setenv("GDL_DATA_URL", url + "/")
    for relpath in (BABI_TRAIN, MNIST_LABELS):
        path = fetch(relpath)
        assert path == str(home.joinpath(*relpath.split("/")))
        assert file_sha256(path) == FILES[relpath].sha256
        assert os.stat(path).st_mode & 0o777 == 0o644
    assert files_under(home) == ["babi", BABI_TRAIN, "mnist", MNIST_LABELS]
    statuses = {check.relpath: check.status for check in verify()}
    assert statuses[BABI_TRAIN] == statuses[MNIST_LABELS] == "ok"
    assert statuses["babi/README"] == "missing"
    requests = len(Handler.requests)
    lines, _ = load_babi(1, "train")                      # present: no second download
    assert lines[0] == "1 Mary moved to the bathroom." and len(Handler.requests) == requests
    assert fetch(BABI_TRAIN, verify=True) == local_path(BABI_TRAIN)


def test_tampered_download_is_rejected(server, home, monkeypatch):
    root, url = server
    tampered = open(data_file(BABI_TRAIN), "rb").read().replace(b"Mary", b"Mara", 1)
    serve(root, BABI_TRAIN, tampered)
    monkeypatch.setenv("GDL_DATA_URL", url)
    actual = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(ChecksumError) as caught:
        fetch(BABI_TRAIN)
    message = str(caught.value)
    assert BABI_TRAIN in message and "not kept" in message
    assert FILES[BABI_TRAIN].sha256 in message and actual in message
    assert files_under(home) == []


def test_tampered_file_without_real_data_is_rejected(server, home, monkeypatch):
    root, url = server
    serve(root, "babi/LICENSE", b"no license here\n")
    monkeypatch.setenv("GDL_DATA_URL", url)
    with pytest.raises(ChecksumError, match="expected " + FILES["babi/LICENSE"].sha256):
        fetch("babi/LICENSE")
    assert files_under(home) == []


def test_interrupted_transfer_leaves_nothing(server, home, monkeypatch):
    root, url = server
    serve(root, "babi/README", b"x" * 100000)
    Handler.cut.add("/babi/README")
    monkeypatch.setenv("GDL_DATA_URL", url)
    with pytest.raises(DownloadError, match="interrupted") as caught:
        fetch("babi/README")
    assert str(home / "babi" / "README") in str(caught.value)
    assert files_under(home) == []


def test_missing_on_the_server(server, home, monkeypatch):
    _, url = server
    monkeypatch.setenv("GDL_DATA_URL", url)
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch("babi/LICENSE")
    assert files_under(home) == []


def test_offline_error_says_what_to_put_where(home, monkeypatch):
    base = closed_port_url()
    monkeypatch.setenv("GDL_DATA_URL", base)
    target = str(home / "mnist" / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DownloadError) as caught:
        fetch(MNIST_LABELS)
    message = str(caught.value)
    assert f"put the file at {target}" in message
    assert f"it comes from {base}/{MNIST_LABELS}" in message
    assert files_under(home) == []


def test_file_without_public_address(home):
    relpath = "imdb/reviews_reconstructed.txt.gz"
    with pytest.raises(DownloadError, match="no public download address") as caught:
        fetch(relpath)
    assert str(home / "imdb" / "reviews_reconstructed.txt.gz") in str(caught.value)


def test_verify_true_catches_a_changed_file(home):
    (home / "babi").mkdir()
    (home / "babi" / "LICENSE").write_text("changed\n")
    actual = hashlib.sha256(b"changed\n").hexdigest()
    with pytest.raises(ChecksumError, match=f"expected {FILES['babi/LICENSE'].sha256}, got "
                                            f"{actual}"):
        fetch("babi/LICENSE", verify=True)
    assert fetch("babi/LICENSE") == str(home / "babi" / "LICENSE")     # no check by default
    check, = verify("babi/LICENSE")
    assert (check.status, check.actual) == ("bad", actual)


def test_mirrors_are_tried_in_order(server, home, monkeypatch):
    root, url = server
    serve(root, MNIST_LABELS)
    entry = FILES[MNIST_LABELS]
    mirrors = (closed_port_url() + "/" + MNIST_LABELS, url + "/" + MNIST_LABELS)
    monkeypatch.setitem(gdl.data.registry.FILES, MNIST_LABELS, entry._replace(urls=mirrors))
    assert file_sha256(fetch(MNIST_LABELS)) == entry.sha256


def test_uncompressed_source_is_checked_then_gzipped(server, home, monkeypatch):
    root, url = server
    relpath = "shakespeare/input.txt.gz"
    with gzip.open(data_file(relpath), "rb") as f:
        text = f.read()
    serve(root, "input.txt", text)
    entry = FILES[relpath]
    monkeypatch.setitem(gdl.data.registry.FILES, relpath,
                        entry._replace(urls=(url + "/input.txt",)))
    path = fetch(relpath)
    with gzip.open(path, "rb") as f:
        assert f.read() == text
    check, = verify(relpath)
    assert check.status == "ok"
    os.remove(path)
    serve(root, "input.txt", text + b"!")
    with pytest.raises(ChecksumError, match=f"expected {entry.raw_sha256}"):
        fetch(relpath)
    assert files_under(home) == ["shakespeare"]          # the folder was there before


def test_cli_fetch(server, home, monkeypatch, capsys):
    root, url = server
    for relpath in gdl.data.DATASETS["babi"]:
        serve(root, relpath)
    monkeypatch.setenv("GDL_DATA_URL", url)
    assert gdl.cli.main(["data", "fetch", "babi", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.count("fetched") == 4
    assert gdl.cli.main(["data", "fetch", "babi"]) == 0
    assert capsys.readouterr().out.count("present") == 4
    assert gdl.cli.main(["data", "verify", "babi"]) == 0
    assert capsys.readouterr().out.count("ok ") == 4


def test_cli_fetch_offline(home, monkeypatch, capsys):
    monkeypatch.setenv("GDL_DATA_URL", closed_port_url())
    assert gdl.cli.main(["data", "fetch", "babi", "-q"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4
    assert all(line.startswith("gdl: error: could not download babi/") for line in err)
    assert f"put the file at {home / 'babi' / 'LICENSE'}" in "\n".join(err)
    assert files_under(home) == []
