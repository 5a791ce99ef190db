"""Build the MNIST slice that ships inside gdl (python/gdl/data/_mnist_slice/).

The book trains on the first 1,000 training images and tests on all 10,000 test images. This
script writes them as gzip IDX files, read by ``gdl.data.load_mnist_slice()``:

    train1k-images-idx3-ubyte.gz   the first 1,000 images of train-images-idx3-ubyte.gz
    train1k-labels-idx1-ubyte.gz   the first 1,000 labels of train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz      the original test file, byte for byte
    t10k-labels-idx1-ubyte.gz      the original test file, byte for byte

The output is deterministic (gzip level 9, no name, mtime 0), so rerunning gives the same bytes.

    python tools/make_mnist_slice.py [MNIST_DIR]    # default: $GDL_DATA_HOME/mnist
                                                    # (GDL_DATA_HOME defaults to ~/.cache/gdl)
"""
import gzip
import hashlib
import os
import shutil
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "python", "gdl", "data", "_mnist_slice")
N_TRAIN = 1000

SHA256 = {  # the original files, as in the data README
    "train-images-idx3-ubyte.gz":
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz":
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz":
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz":
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def head_of_idx(path, n):
    """The header (with its count set to n) and the first n items of a gzip IDX file."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = list(struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim]))
    item = 1
    for d in dims[1:]:
        item *= d
    start = 4 + 4 * ndim
    header = data[:4] + struct.pack(f">{ndim}I", n, *dims[1:])
    return header + data[start:start + n * item]


def write_gzip(path, data):
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as f:
            f.write(data)


def main(argv):
    if len(argv) > 1:
        source = argv[1]
    else:
        home = os.environ.get("GDL_DATA_HOME") or os.path.expanduser("~/.cache/gdl")
        source = os.path.join(home, "mnist")
    for name, digest in SHA256.items():
        if sha256(os.path.join(source, name)) != digest:
            sys.exit(f"{os.path.join(source, name)}: SHA-256 differs from the original file")
    os.makedirs(OUT, exist_ok=True)
    for kind in ("images-idx3", "labels-idx1"):
        data = head_of_idx(os.path.join(source, f"train-{kind}-ubyte.gz"), N_TRAIN)
        write_gzip(os.path.join(OUT, f"train1k-{kind}-ubyte.gz"), data)
        shutil.copyfile(os.path.join(source, f"t10k-{kind}-ubyte.gz"),
                        os.path.join(OUT, f"t10k-{kind}-ubyte.gz"))
    total = 0
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        total += size
        print(f"{size:>9}  {sha256(os.path.join(OUT, name))}  {name}")
    print(f"{total:>9}  bytes in {OUT}")


if __name__ == "__main__":
    main(sys.argv)
