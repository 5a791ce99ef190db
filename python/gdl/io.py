"""Safe checkpoints: nested training state in the safetensors layout, written atomically.

A checkpoint is whatever a training loop needs to resume: model weights, optimizer state,
the RNG state, step counters. ``save`` takes a tree of dicts (str keys), lists, tuples,
numpy arrays and JSON scalars; ``load`` gives the same tree back. Neither uses pickle or
eval, so loading a file from a stranger can fail but cannot run code.

    >>> import numpy as np
    >>> from gdl import io as gio
    >>> state = {"w": np.zeros((2, 3), np.float32), "step": 10}
    >>> gio.save(state, "ckpt.safetensors")
    >>> gio.load("ckpt.safetensors")["w"].shape
    (2, 3)

Note [File layout]: the file is a safetensors file. It starts with an 8-byte little-endian
header length N, then N bytes of UTF-8 JSON, padded with spaces so that the data starts at
a multiple of 8, then the data. The header maps each tensor name to its ``dtype``
(``"F32"``, ``"I64"``, ``"BOOL"``, ...), ``shape`` and ``data_offsets`` ``[begin, end)``
into the data; tensors are little-endian and C-ordered. safetensors requires the tensors to
cover the data exactly, with no gaps, so tensors are not padded to 8 bytes; instead they
are written widest item first, which puts every tensor at a multiple of its own item size.
``__metadata__`` holds ``"format": "gdl"``, ``"gdl.version": "1"`` and ``"gdl.tree"``,
the tree as JSON (Note [Tree encoding]). Any safetensors reader sees the arrays.

Note [Tree encoding]: a node of ``gdl.tree`` is ``null``, ``true``, ``false``, a string,
an integer of at most 2**53 in size or a finite float, written as themselves, or an object
with one key saying what it is: ``{"dict": {key: node}}``, ``{"list": [node]}``,
``{"tuple": [node]}``, ``{"tensor": name}`` (an array), ``{"scalar": name}`` (a numpy
scalar, stored as a 0-d tensor), ``{"int": "-0x1f"}`` (a larger int, in hex so that any
size parses) and ``{"float": "nan" | "inf" | "-inf"}``. Strict JSON has no NaN, and
readers in other languages round integers past 2**53. A tensor's name is its key path
joined with "/", each key escaped as in JSON Pointer ("~" is "~0", "/" is "~1"); so names
are unique, and the top-level key "__metadata__" becomes "~__metadata__".
"""
import json
import os
import re
import stat
import struct
import tempfile

import numpy as np

__all__ = ["save", "load", "CheckpointError"]

_FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 100_000_000            # safetensors' own limit
_MAX_DIMS = 32                             # the most numpy 1.x arrays can have
_EXACT_INT = 2**53                         # past this, JSON readers elsewhere round
_HEX_INT = re.compile(r"-?0x[0-9a-f]+\Z")
_NON_FINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}

# safetensors dtype codes and the numpy dtypes they store, always little-endian.
_DTYPES = {
    "BOOL": np.dtype("|b1"),
    "U8": np.dtype("|u1"), "I8": np.dtype("|i1"),
    "U16": np.dtype("<u2"), "I16": np.dtype("<i2"), "F16": np.dtype("<f2"),
    "U32": np.dtype("<u4"), "I32": np.dtype("<i4"), "F32": np.dtype("<f4"),
    "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8"),
    "C64": np.dtype("<c8"),
}
_CODES = {(dtype.kind, dtype.itemsize): code for code, dtype in _DTYPES.items()}


class CheckpointError(ValueError):
    """A file that is not a valid checkpoint; the message names the file and the problem."""


# ---------------------------------------------------------------------------------------
# save


def save(obj, path):
    """Write ``obj`` to ``path`` as a safetensors file, atomically.

    ``obj`` is a tree of dicts with str keys, lists, tuples, numpy arrays (bool, int8 to
    int64, uint8 to uint64, float16/32/64, complex64), numpy scalars and JSON scalars (int
    of any size, float including nan and inf, str, bool, None). Anything else raises
    ``TypeError`` naming where it is, e.g. ``obj['model']['w']``; a container that holds
    itself raises ``ValueError``. The tree is checked before anything is written.

    The file is written to a temporary file next to ``path``, flushed to disk and renamed
    over ``path``, so a crash leaves either the old file or the new one, never half of one.
    An existing file keeps its permissions; a new one gets the usual ``0o666 & ~umask``.

    >>> import numpy as np
    >>> from gdl import io as gio
    >>> rng = np.random.default_rng(0)
    >>> state = {"model": {"W": rng.standard_normal((3, 2))},
    ...          "rng": rng.bit_generator.state, "step": 100}
    >>> gio.save(state, "ckpt.safetensors")
    """
    path = os.fsdecode(path)
    tensors = []
    tree = _encode(obj, (), tensors, set())
    header, arrays = _layout(tree, tensors)
    _write_atomically(path, header, arrays)


def _where(keys):
    """``obj['model']['W']``: how a user would reach a node, for error messages."""
    return "obj" + "".join(f"[{key!r}]" for key in keys)


def _tensor_name(keys):
    parts = [str(key).replace("~", "~0").replace("/", "~1") for key in keys]
    name = "/".join(parts)
    if name == "__metadata__":             # the one name safetensors reserves
        name = "~__metadata__"             # "~_" never comes out of the escaping above
    return name


def _encode(node, keys, tensors, open_containers):
    """The JSON tree of Note [Tree encoding]; arrays go to ``tensors`` as (name, array)."""
    if isinstance(node, np.ndarray):
        name = _tensor_name(keys)
        tensors.append((name, _storable(node, keys)))
        return {"tensor": name}
    # np.float64 is a float and np.str_ a str, so numpy scalars are sorted out first.
    if isinstance(node, np.generic) and node.dtype.kind in "biufc":
        name = _tensor_name(keys)
        tensors.append((name, _storable(np.asarray(node), keys)))
        return {"scalar": name}
    if node is None or isinstance(node, (bool, str)):
        return node
    if isinstance(node, int):
        node = int(node)
        if abs(node) <= _EXACT_INT:
            return node
        return {"int": hex(node)}
    if isinstance(node, float):
        node = float(node)
        if node != node:
            return {"float": "nan"}
        if node in (float("inf"), float("-inf")):
            return {"float": repr(node)}
        return node
    if isinstance(node, (dict, list, tuple)):
        return _encode_container(node, keys, tensors, open_containers)
    raise TypeError(f"cannot save {_where(keys)}: a {type(node).__qualname__} is not "
                    "a dict, list, tuple, numpy array, number, str, bool or None")


def _encode_container(node, keys, tensors, open_containers):
    if id(node) in open_containers:
        raise ValueError(f"cannot save {_where(keys)}: it contains itself")
    open_containers.add(id(node))
    if isinstance(node, dict):
        items = {}
        for key, value in node.items():
            if not isinstance(key, str):
                raise TypeError(f"cannot save {_where(keys)}: key {key!r} is a "
                                f"{type(key).__qualname__}, and checkpoint keys must be str")
            items[str(key)] = _encode(value, keys + (key,), tensors, open_containers)
        encoded = {"dict": items}
    else:
        values = [_encode(value, keys + (i,), tensors, open_containers)
                  for i, value in enumerate(node)]
        encoded = {"tuple" if isinstance(node, tuple) else "list": values}
    open_containers.discard(id(node))
    return encoded


def _storable(array, keys):
    """``array`` as a little-endian C-contiguous ndarray (a copy only when needed)."""
    if isinstance(array, np.ma.MaskedArray):
        raise TypeError(f"cannot save {_where(keys)}: a masked array would lose its mask; "
                        "save .data and .mask separately")
    array = np.asarray(array)
    if (array.dtype.kind, array.dtype.itemsize) not in _CODES:
        raise TypeError(f"cannot save {_where(keys)}: safetensors has no dtype for "
                        f"{array.dtype}")
    return array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)


def _layout(tree, tensors):
    """The padded header bytes and the arrays in the order their bytes follow it."""
    tensors = sorted(tensors, key=lambda item: -item[1].dtype.itemsize)   # stable
    metadata = {
        "format": "gdl",
        "gdl.version": str(_FORMAT_VERSION),
        "gdl.tree": json.dumps(tree, allow_nan=False, separators=(",", ":")),
    }
    header = {"__metadata__": metadata}
    offset = 0
    for name, array in tensors:
        code = _CODES[(array.dtype.kind, array.dtype.itemsize)]
        header[name] = {"dtype": code, "shape": list(array.shape),
                        "data_offsets": [offset, offset + array.nbytes]}
        offset += array.nbytes
    text = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)         # the data starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text, [array for _, array in tensors]


def _write_atomically(path, header, arrays):
    directory = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                     suffix=".tmp", dir=directory)
    try:
        file = open(fd, "wb")
    except BaseException:
        os.close(fd)
        _remove_quietly(temporary)
        raise
    try:
        with file:
            file.write(header)
            for array in arrays:
                if array.size:
                    file.write(array.reshape(-1).view(np.uint8))
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        # Also on KeyboardInterrupt: the old checkpoint stays and no temporary is left.
        _remove_quietly(temporary)
        raise
    _fsync_directory(directory)


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _file_mode(path):
    """Permissions for the new file: the old file's, else what open() would have given.

    mkstemp makes 0o600 files, which would hide a shared checkpoint from its group.
    """
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    try:
        # Linux shows the umask here; os.umask can only read it by briefly changing it,
        # which races with other threads creating files.
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_directory(directory):
    """Make the rename itself durable; Windows and some filesystems cannot, and need not."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------
# load


def load(path):
    """Read a checkpoint written by ``save``; return the tree that was saved.

    Dicts, lists, tuples, scalars (numpy scalars as numpy scalars) and arrays come back as
    they went in, with three differences: arrays are new, writable, C-contiguous arrays in
    native byte order (a big-endian ``>f8`` array comes back as ``float64``); a dict or
    list subclass comes back as a plain dict or list; an array saved twice comes back as
    two arrays. A safetensors file from another writer (no ``"format": "gdl"`` metadata)
    loads as a flat dict of its tensors, in the header's order.

    The whole header is checked before any data is trusted; a file that is cut short, too
    large for its header, inconsistent or not a safetensors file at all raises
    ``CheckpointError`` naming the file and the problem. A missing file raises
    ``FileNotFoundError``. Nothing in the file is ever executed.

    >>> from gdl import io as gio
    >>> state = gio.load("ckpt.safetensors")
    >>> state["step"]
    100
    """
    path = os.fsdecode(path)
    try:
        return _load(path)
    except RecursionError:
        raise _error(path, "the header or gdl.tree is nested too deeply") from None


def _error(path, problem):
    return CheckpointError(f"{path}: {problem}")


def _load(path):
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < 8:
            raise _error(path, f"the file is {size} bytes long, too short for the 8-byte "
                               "header length of a safetensors file")
        (header_size,) = struct.unpack("<Q", file.read(8))
        if header_size > _MAX_HEADER_BYTES:
            raise _error(path, f"the header claims to be {header_size} bytes, more than the "
                               f"{_MAX_HEADER_BYTES} allowed; not a safetensors file?")
        if header_size > size - 8:
            raise _error(path, f"the header claims to be {header_size} bytes but only "
                               f"{size - 8} follow the header length; truncated file?")
        header = _parse_json(path, file.read(header_size), "the header")
        data_size = size - 8 - header_size
        metadata, entries = _check_header(path, header, data_size)
        arrays = {name: _read_tensor(path, file, 8 + header_size, name, entry)
                  for name, entry in entries.items()}
    if metadata.get("format") != "gdl":
        return arrays
    return _decode_checkpoint(path, metadata, arrays)


def _parse_json(path, raw, what):
    def refuse_constant(constant):          # NaN and Infinity are not JSON
        raise ValueError(f"{constant} is not valid JSON")

    def refuse_duplicates(pairs):
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            duplicate = next(name for name in names if names.count(name) > 1)
            raise ValueError(f"key {duplicate!r} appears twice")
        return dict(pairs)

    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        return json.loads(text, parse_constant=refuse_constant,
                          object_pairs_hook=refuse_duplicates)
    except UnicodeDecodeError as exc:
        raise _error(path, f"{what} is not valid UTF-8 ({exc.reason} at byte "
                           f"{exc.start}); not a safetensors file?") from None
    except ValueError as exc:               # JSONDecodeError, or a refusal above
        raise _error(path, f"{what} is not valid JSON: {exc}") from None


def _check_header(path, header, data_size):
    """Check every tensor entry; return the metadata and {name: (dtype, shape, begin, end)}."""
    if not isinstance(header, dict):
        raise _error(path, f"the header is a JSON {type(header).__name__}, not an object")
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _error(path, "__metadata__ must be an object of strings")
    entries = {}
    for name, entry in header.items():
        if name != "__metadata__":
            entries[name] = _check_entry(path, name, entry, data_size)
    _check_coverage(path, entries, data_size)
    return metadata, entries


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_entry(path, name, entry, data_size):
    where = f"tensor {name!r}"
    if not isinstance(entry, dict):
        raise _error(path, f"{where}: expected an object with dtype, shape and data_offsets")
    missing = [key for key in ("dtype", "shape", "data_offsets") if key not in entry]
    if missing:
        raise _error(path, f"{where}: missing {', '.join(missing)}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in _DTYPES:
        raise _error(path, f"{where}: unknown dtype {dtype!r}; gdl reads "
                           f"{', '.join(_DTYPES)}")
    if (not isinstance(shape, list) or len(shape) > _MAX_DIMS
            or not all(_is_int(n) and n >= 0 for n in shape)):
        raise _error(path, f"{where}: shape {shape!r} is not a list of at most {_MAX_DIMS} "
                           "non-negative ints")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(map(_is_int, offsets)):
        raise _error(path, f"{where}: data_offsets {offsets!r} is not a list of two ints")
    begin, end = offsets
    if end < begin:
        raise _error(path, f"{where}: data_offsets {offsets} end before they begin")
    if begin < 0 or end > data_size:
        raise _error(path, f"{where}: data_offsets {offsets} lie outside the {data_size} "
                           "bytes of data; truncated file?")
    nbytes = _DTYPES[dtype].itemsize
    for n in shape:
        nbytes *= n                         # Python ints: a hostile shape cannot overflow
    if end - begin != nbytes:
        raise _error(path, f"{where}: data_offsets {offsets} hold {end - begin} bytes, but "
                           f"{dtype} of shape {shape} needs {nbytes}")
    return _DTYPES[dtype], tuple(shape), begin, end


def _check_coverage(path, entries, data_size):
    """Tensors must tile the data exactly, as safetensors itself requires."""
    position = 0
    previous = None
    for name, (_, _, begin, end) in sorted(entries.items(), key=lambda item: item[1][2:]):
        if begin < position:
            raise _error(path, f"tensor {name!r}: data_offsets [{begin}, {end}] overlap "
                               f"tensor {previous!r}, which ends at {position}")
        if begin > position:
            raise _error(path, f"bytes [{position}, {begin}) of the data belong to no tensor")
        position = end
        previous = name
    if position != data_size:
        raise _error(path, f"{data_size - position} bytes after the last tensor belong to "
                           "no tensor")


def _read_tensor(path, file, data_start, name, entry):
    """A new, writable, native-order array read straight into its own memory."""
    dtype, shape, begin, end = entry
    try:
        array = np.empty(shape, dtype)
    except (ValueError, OverflowError):     # e.g. shape [0, 2**70]: no bytes, yet too big
        raise _error(path, f"tensor {name!r}: numpy cannot make an array of shape "
                           f"{list(shape)}") from None
    file.seek(data_start + begin)
    count = file.readinto(array.reshape(-1).view(np.uint8))
    if count != end - begin:
        raise _error(path, f"tensor {name!r}: the file ended early; was it changed while "
                           "being read?")
    if not array.dtype.isnative:            # only on big-endian machines
        array = array.astype(array.dtype.newbyteorder("="))
    return array


def _decode_checkpoint(path, metadata, arrays):
    version = metadata.get("gdl.version")
    if version is None or "gdl.tree" not in metadata:
        raise _error(path, 'the metadata says "format": "gdl" but lacks gdl.version or '
                           "gdl.tree")
    if version != str(_FORMAT_VERSION):
        raise _error(path, f"gdl checkpoint format version {version!r}; this gdl reads "
                           f"version {_FORMAT_VERSION}")
    tree = _parse_json(path, metadata["gdl.tree"], "gdl.tree")
    used = set()
    obj = _decode(path, tree, arrays, used, "obj")
    unused = [name for name in arrays if name not in used]
    if unused:
        raise _error(path, f"tensor {unused[0]!r} is not part of gdl.tree")
    return obj


def _decode(path, node, arrays, used, where):
    """Rebuild the tree of Note [Tree encoding], checking every node."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if not isinstance(node, dict) or len(node) != 1:
        raise _error(path, f"gdl.tree: {where} is not a gdl tree node: {_preview(node)}")
    ((kind, value),) = node.items()
    if kind == "dict" and isinstance(value, dict):
        return {key: _decode(path, child, arrays, used, f"{where}[{key!r}]")
                for key, child in value.items()}
    if kind in ("list", "tuple") and isinstance(value, list):
        items = [_decode(path, child, arrays, used, f"{where}[{i}]")
                 for i, child in enumerate(value)]
        return tuple(items) if kind == "tuple" else items
    if kind in ("tensor", "scalar") and isinstance(value, str):
        return _decode_tensor(path, kind, value, arrays, used, where)
    if kind == "int" and isinstance(value, str) and _HEX_INT.match(value):
        return int(value, 16)
    if kind == "float" and isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise _error(path, f"gdl.tree: {where} is not a gdl tree node: {_preview(node)}")


def _decode_tensor(path, kind, name, arrays, used, where):
    if name not in arrays:
        raise _error(path, f"gdl.tree: {where} refers to tensor {name!r}, which the file "
                           "does not have")
    if name in used:
        raise _error(path, f"gdl.tree: {where} refers to tensor {name!r} a second time")
    used.add(name)
    array = arrays[name]
    if kind == "tensor":
        return array
    if array.ndim != 0:
        raise _error(path, f"gdl.tree: {where} is a scalar but tensor {name!r} has shape "
                           f"{array.shape}")
    return array[()]


def _preview(node):
    text = json.dumps(node)
    return text if len(text) <= 60 else text[:57] + "..."
