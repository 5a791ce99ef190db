"""gdl.io: checkpoints round-trip, are safetensors files, survive crashes, refuse bad input."""
import builtins
import json
import os
import pickle
import re
import stat
import struct

import numpy as np
import pytest

from gdl import io as gio

ALL_DTYPES = [np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
              np.uint32, np.uint64, np.float16, np.float32, np.float64, np.complex64]


def assert_same(got, want, where="obj"):
    """Equal values of the same types; arrays of the same dtype (up to byte order) and shape."""
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), where
        assert got.dtype == want.dtype.newbyteorder("="), where
        assert got.shape == want.shape, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, dict):
        assert type(got) is dict and list(got) == list(want), where
        for key in want:
            assert_same(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and want != want:
        assert type(got) is type(want) and got != got, where
    else:
        assert type(got) is type(want) and got == want, where


def round_trip(obj, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    gio.save(obj, path)
    return gio.load(path)


def training_state():
    rng = np.random.default_rng(0)
    rng.standard_normal(5)                          # a state past the seed
    return {
        "model": {
            "layers": [{"W": rng.standard_normal((4, 3)).astype(np.float32),
                        "b": np.zeros(3, np.float32)},
                       {"W": rng.standard_normal((3, 2)), "b": np.zeros(2)}],
            "embedding": rng.standard_normal((10, 4)).astype(np.float16),
            "mask": rng.random((2, 5)) > 0.5,
        },
        "optimizer": {"name": "adam", "lr": 1e-3, "betas": (0.9, 0.999), "step": 1234,
                      "m": [np.zeros((4, 3), np.float32), np.zeros(3, np.float32)],
                      "v": [np.ones((4, 3), np.float32), np.ones(3, np.float32)]},
        "rng": rng.bit_generator.state,
        "epoch": 7,
        "best_loss": float("inf"),
        "last_loss": float("nan"),
        "worst": float("-inf"),
        "negative_zero": -0.0,
        "history": [],
        "notes": {"": "empty key", "ünïcødé": "ok", "none": None, "yes": True, "no": False},
        "empty": np.zeros((0, 3), np.float32),
        "scalar": np.array(2.5),
        "counter": np.array(3, np.int64),
        "big_endian": np.arange(6, dtype=">f8").reshape(2, 3),
        "view": np.arange(20, dtype=np.int32).reshape(4, 5)[:, ::2],
        "huge_ints": [2**64, -(2**127) + 1, 2**53, 2**53 + 1, 10**400],
    }


# --- round trips ---------------------------------------------------------------------


def test_training_state_round_trips(tmp_path):
    state = training_state()
    assert_same(round_trip(state, tmp_path), state)


def test_rng_state_resumes_the_same_stream(tmp_path):
    rng = np.random.default_rng(0)
    rng.integers(0, 10, 17)
    loaded = round_trip({"rng": rng.bit_generator.state}, tmp_path)
    resumed = np.random.default_rng()
    resumed.bit_generator.state = loaded["rng"]
    np.testing.assert_array_equal(resumed.standard_normal(8), rng.standard_normal(8))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 5), (2, 0, 4), (2, 1, 3, 1)])
def test_every_dtype_and_shape_round_trips(tmp_path, dtype, shape):
    values = np.abs(np.random.default_rng(1).standard_normal(shape)) * 50
    array = values.astype(dtype)
    if array.dtype.kind in "iu":
        info = np.iinfo(dtype)
        array.reshape(-1)[:2] = [info.min, info.max][:array.size]
    assert_same(round_trip({"x": array}, tmp_path), {"x": array})


@pytest.mark.parametrize("dtype", [">f8", ">f4", ">i2", ">u8", ">c8", ">f2"])
def test_big_endian_arrays_load_as_native_with_the_same_values(tmp_path, dtype):
    array = np.arange(-3, 9).reshape(3, 4).astype(dtype)
    loaded = round_trip({"x": array}, tmp_path)["x"]
    assert loaded.dtype.isnative
    assert loaded.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(loaded, array)


def test_loaded_arrays_are_writable_and_independent(tmp_path):
    loaded = round_trip({"a": np.arange(6.0).reshape(2, 3), "b": np.array(1.0),
                         "e": np.zeros(0)}, tmp_path)
    for array in loaded.values():
        assert array.flags.writeable and array.flags.c_contiguous and array.flags.owndata
    loaded["a"][0, 0] = 42.0
    loaded["b"][()] = 7.0
    assert loaded["a"][0, 0] == 42.0 and loaded["b"] == 7.0


def test_numpy_scalars_keep_their_type(tmp_path):
    scalars = [np.float32(1.5), np.float16(-2.0), np.float64(3.25), np.int64(-5),
               np.uint8(255), np.int8(-128), np.bool_(True), np.uint64(2**64 - 1)]
    loaded = round_trip(scalars, tmp_path)
    for got, want in zip(loaded, scalars):
        assert type(got) is type(want) and got == want


def test_python_scalar_types_survive(tmp_path):
    obj = {"int": 1, "float": 1.0, "bool": True, "zero": 0, "str": "1", "none": None,
           "tuple": (1, (2, [3])), "list": [(), []]}
    assert_same(round_trip(obj, tmp_path), obj)


def test_a_bare_array_or_scalar_is_a_checkpoint_too(tmp_path):
    assert_same(round_trip(np.eye(3), tmp_path), np.eye(3))
    assert round_trip(5, tmp_path) == 5
    assert round_trip(None, tmp_path) is None


def test_subclasses_come_back_as_plain_containers(tmp_path):
    from collections import OrderedDict, namedtuple
    point = namedtuple("Point", "x y")
    loaded = round_trip(OrderedDict(a=point(1, 2)), tmp_path)
    assert type(loaded) is dict and type(loaded["a"]) is tuple and loaded["a"] == (1, 2)


def test_keys_that_look_like_paths_get_distinct_tensors(tmp_path):
    obj = {"a/b": {"c": np.array([1])}, "a": {"b/c": np.array([2]), "b": {"c": np.array([3])}},
           "~1": np.array([4]), "~": {"1": np.array([5])}, "__metadata__": np.array([6]),
           "": np.array([7]), "0": [np.array([8])]}
    assert_same(round_trip(obj, tmp_path), obj)


# --- the file is a safetensors file ------------------------------------------------------


def read_header(path):
    blob = path.read_bytes()
    (size,) = struct.unpack("<Q", blob[:8])
    return size, json.loads(blob[8:8 + size]), blob


def test_layout_is_safetensors_with_aligned_data(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    gio.save(training_state(), path)
    size, header, blob = read_header(path)
    assert size % 8 == 0
    metadata = header.pop("__metadata__")
    assert metadata["format"] == "gdl" and metadata["gdl.version"] == "1"
    assert all(isinstance(value, str) for value in metadata.values())
    json.loads(metadata["gdl.tree"])             # strict JSON: no NaN or Infinity tokens
    assert header["model/layers/0/W"]["dtype"] == "F32"
    assert header["model/layers/0/W"]["shape"] == [4, 3]
    assert header["big_endian"]["dtype"] == "F64"
    ends = 0
    for entry in sorted(header.values(), key=lambda e: e["data_offsets"]):
        begin, end = entry["data_offsets"]
        assert begin == ends                        # no gaps, as safetensors requires
        itemsize = {"BOOL": 1, "U8": 1, "I8": 1, "F16": 2, "I32": 4, "F32": 4,
                    "I64": 8, "F64": 8}[entry["dtype"]]
        assert (8 + size + begin) % itemsize == 0   # every tensor aligned to its items
        ends = end
    assert 8 + size + ends == len(blob)


def test_safetensors_reads_the_tensors(tmp_path):
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "ckpt.safetensors"
    state = training_state()
    gio.save(state, path)
    flat = safetensors_numpy.load_file(str(path))
    assert set(flat) == {"model/layers/0/W", "model/layers/0/b", "model/layers/1/W",
                         "model/layers/1/b", "model/embedding", "model/mask",
                         "optimizer/m/0", "optimizer/m/1", "optimizer/v/0", "optimizer/v/1",
                         "empty", "scalar", "counter", "big_endian", "view"}
    assert_same(flat["model/layers/1/W"], state["model"]["layers"][1]["W"])
    assert_same(flat["big_endian"], state["big_endian"])
    assert_same(flat["view"], state["view"])
    assert_same(flat["scalar"], state["scalar"])
    assert_same(flat["empty"], state["empty"])


def test_safetensors_files_from_elsewhere_load_as_a_flat_dict(tmp_path):
    tensors = {"b": np.arange(4, dtype=np.float32), "a": np.ones((2, 2), np.int64)}
    path = tmp_path / "plain.safetensors"
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    safetensors_numpy.save_file(tensors, str(path), metadata={"format": "np"})
    loaded = gio.load(path)
    assert set(loaded) == {"a", "b"}
    for name in tensors:
        assert_same(loaded[name], tensors[name])


def test_hand_made_flat_file_loads_without_metadata(tmp_path):
    blob = craft({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}},
                 np.array([1.0, 2.0], "<f4").tobytes())
    path = tmp_path / "flat.safetensors"
    path.write_bytes(blob)
    assert_same(gio.load(path), {"w": np.array([1.0, 2.0], np.float32)})


# --- atomic saves -----------------------------------------------------------------------


class CrashingFile:
    """A file whose writes fail, like a full disk, after ``budget`` bytes."""

    def __init__(self, file, budget):
        self.file = file
        self.budget = budget

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self.budget:
            self.file.write(data[:self.budget])
            raise OSError(28, "No space left on device (simulated)")
        self.budget -= len(data)
        return self.file.write(data)

    def __getattr__(self, name):
        return getattr(self.file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.file.close()


def crash_writes_after(monkeypatch, budget):
    def crashing_open(file, mode="r", *args, **kwargs):
        opened = builtins.open(file, mode, *args, **kwargs)
        return CrashingFile(opened, budget) if "w" in mode else opened
    monkeypatch.setattr(gio, "open", crashing_open, raising=False)


@pytest.mark.parametrize("budget", [0, 5, 8, 100, 1000, 3000])
def test_crash_mid_save_keeps_the_old_checkpoint(tmp_path, monkeypatch, budget):
    path = tmp_path / "ckpt.safetensors"
    old = {"W": np.arange(12.0).reshape(3, 4), "step": 1}
    gio.save(old, path)
    new = {"W": np.zeros((30, 40)), "step": 2}
    crash_writes_after(monkeypatch, budget)
    with pytest.raises(OSError, match="simulated"):
        gio.save(new, path)
    monkeypatch.undo()
    assert_same(gio.load(path), old)
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_crash_on_the_first_save_leaves_nothing(tmp_path, monkeypatch):
    crash_writes_after(monkeypatch, 50)
    with pytest.raises(OSError, match="simulated"):
        gio.save({"W": np.zeros(100)}, tmp_path / "ckpt.safetensors")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["fsync", "replace"])
@pytest.mark.parametrize("exception", [OSError, KeyboardInterrupt])
def test_interrupted_save_keeps_the_old_checkpoint(tmp_path, monkeypatch, where, exception):
    path = tmp_path / "ckpt.safetensors"
    gio.save({"step": 1}, path)

    def interrupt(*args):
        raise exception("simulated")
    monkeypatch.setattr(os, where, interrupt)
    with pytest.raises(exception):
        gio.save({"step": 2}, path)
    monkeypatch.undo()
    assert gio.load(path) == {"step": 1}
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_save_replaces_and_keeps_permissions(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    gio.save({"step": 1}, str(path))
    if os.name == "posix":
        umask = os.umask(0o022)
        os.umask(umask)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask   # not mkstemp's 0o600
        os.chmod(path, 0o640)
    gio.save({"step": 2}, path)
    assert gio.load(str(path)) == {"step": 2}
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_save_into_a_missing_directory_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        gio.save({"step": 1}, tmp_path / "missing" / "ckpt.safetensors")
    assert os.listdir(tmp_path) == []


# --- what save refuses ------------------------------------------------------------------


def unsupported_function():
    pass


@pytest.mark.parametrize("value, kind", [
    ({1, 2}, "set"), (object(), "object"), (unsupported_function, "function"),
    (b"bytes", "bytes"), (1 + 2j, "complex"), (np.zeros(2, np.complex128), "complex128"),
    (np.array(["a"]), "<U1"), (np.array([None]), "object"), (np.ma.masked_array([1]), "mask"),
    (np.datetime64("2020"), "datetime64"), (np.zeros(2, [("a", "f4")]), "safetensors has no"),
])
def test_unsupported_values_raise_type_error_naming_the_path(tmp_path, value, kind):
    with pytest.raises(TypeError, match=r"obj\['model'\]\['layers'\]\[1\]\['w'\]: .*" + kind):
        gio.save({"model": {"layers": [{}, {"w": value}]}}, tmp_path / "ckpt.safetensors")
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(np.dtype(np.longdouble).itemsize == 8, reason="long double is double here")
def test_long_double_raises_type_error(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['x'\]: safetensors has no dtype for float"):
        gio.save({"x": np.zeros(2, np.longdouble)}, tmp_path / "ckpt.safetensors")


def test_non_str_keys_raise_type_error(tmp_path):
    with pytest.raises(TypeError, match=r"obj\['model'\]: key 3 is a int"):
        gio.save({"model": {3: np.zeros(1)}}, tmp_path / "ckpt.safetensors")


def test_a_container_holding_itself_raises(tmp_path):
    state = {"a": []}
    state["a"].append(state)
    with pytest.raises(ValueError, match=r"obj\['a'\]\[0\]: it contains itself"):
        gio.save(state, tmp_path / "ckpt.safetensors")


def test_shared_values_are_not_cycles(tmp_path):
    shared = [1, 2]
    array = np.arange(3)
    loaded = round_trip({"a": shared, "b": shared, "x": array, "y": array}, tmp_path)
    assert loaded["a"] == loaded["b"] == [1, 2]
    assert_same(loaded["y"], array)
    assert loaded["x"] is not loaded["y"]


# --- what load refuses ------------------------------------------------------------------


def craft(header, data=b"", *, raw=None, length=None):
    """Safetensors bytes: length, header padded with spaces as safetensors does, data."""
    text = raw if raw is not None else json.dumps(header).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def gdl_metadata(tree, version="1"):
    return {"format": "gdl", "gdl.version": version, "gdl.tree": json.dumps(tree)}


def expect_error(tmp_path, blob, problem):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(blob)
    with pytest.raises(gio.CheckpointError, match=re.escape(str(path)) + ": .*" + problem):
        gio.load(path)


F32_2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


def test_checkpoint_error_is_a_value_error():
    assert issubclass(gio.CheckpointError, ValueError)


def test_missing_file_raises_file_not_found_with_the_path(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        gio.load(path)


@pytest.mark.parametrize("size", range(8))
def test_file_shorter_than_8_bytes(tmp_path, size):
    expect_error(tmp_path, b"\x10" * size, f"{size} bytes long, too short")


def test_header_length_larger_than_the_file(tmp_path):
    expect_error(tmp_path, craft({}, length=64), "claims to be 64 bytes but only 8 follow")


@pytest.mark.parametrize("length", [100_000_001, 2**63, 2**64 - 1])
def test_absurd_header_length(tmp_path, length):
    expect_error(tmp_path, craft({}, length=length), "more than the 100000000 allowed")


def test_header_not_utf8(tmp_path):
    expect_error(tmp_path, craft(None, raw=b'{"a\xff\xfe": 1}'), "not valid UTF-8")


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"a": NaN}', b'{"a": 1, "a": 2}',
                                 b"", b"{}{}", b'{"a": 1' + b"0" * 5000 + b"}"])
def test_header_not_json(tmp_path, raw):
    expect_error(tmp_path, craft(None, raw=raw), "the header is not valid JSON")


@pytest.mark.parametrize("header", [[], "text", 3, None, [{"dtype": "F32"}]])
def test_header_not_an_object(tmp_path, header):
    expect_error(tmp_path, craft(header), "not an object")


def test_deeply_nested_header(tmp_path):
    expect_error(tmp_path, craft(None, raw=b"[" * 100_000 + b"]" * 100_000),
                 "nested too deeply|not valid JSON")


@pytest.mark.parametrize("metadata", [[], "x", {"format": 1}, {"gdl.tree": {"dict": {}}}])
def test_metadata_not_strings(tmp_path, metadata):
    expect_error(tmp_path, craft({"__metadata__": metadata}), "__metadata__ must be an object")


@pytest.mark.parametrize("entry", [[], "F32", None, {"dtype": "F32", "shape": [2]}])
def test_tensor_entry_not_an_object_with_all_fields(tmp_path, entry):
    expect_error(tmp_path, craft({"w": entry}, b"\0" * 8), "tensor 'w': (expected|missing)")


@pytest.mark.parametrize("dtype", ["BF16", "F8_E4M3", "F128", "f32", "", 5, None, ["F32"]])
def test_unknown_dtype(tmp_path, dtype):
    entry = dict(F32_2, dtype=dtype)
    expect_error(tmp_path, craft({"w": entry}, b"\0" * 8), "tensor 'w': unknown dtype")


@pytest.mark.parametrize("shape", [2, "2", None, [-2], [2.0], [True, 2], ["2"], [[2]],
                                   [1] * 33, {"0": 2}])
def test_shape_not_a_list_of_non_negative_ints(tmp_path, shape):
    entry = dict(F32_2, shape=shape)
    expect_error(tmp_path, craft({"w": entry}, b"\0" * 8), "tensor 'w': shape .* is not a list")


def test_shape_too_large_for_numpy(tmp_path):
    entry = {"dtype": "F32", "shape": [0, 2**70], "data_offsets": [0, 0]}
    expect_error(tmp_path, craft({"w": entry}), "numpy cannot make an array")


@pytest.mark.parametrize("offsets", [[0], [0, 8, 16], "0:8", [0.0, 8.0], [False, 8],
                                     {"begin": 0}, None, [0, "8"]])
def test_data_offsets_not_two_ints(tmp_path, offsets):
    entry = dict(F32_2, data_offsets=offsets)
    expect_error(tmp_path, craft({"w": entry}, b"\0" * 8), "not a list of two ints")


@pytest.mark.parametrize("offsets", [[0, 16], [-8, 0], [8, 16], [2**64, 2**64 + 8]])
def test_data_offsets_out_of_range(tmp_path, offsets):
    entry = dict(F32_2, data_offsets=offsets)
    expect_error(tmp_path, craft({"w": entry}, b"\0" * 8), "outside the 8 bytes of data")


def test_data_offsets_end_before_begin(tmp_path):
    entry = dict(F32_2, data_offsets=[8, 0])
    expect_error(tmp_path, craft({"w": entry}, b"\0" * 8), "end before they begin")


@pytest.mark.parametrize("b_offsets", [[4, 12], [0, 8], [2, 10]])
def test_data_offsets_overlapping(tmp_path, b_offsets):
    header = {"a": dict(F32_2, data_offsets=[0, 8]), "b": dict(F32_2, data_offsets=b_offsets),
              "c": dict(F32_2, data_offsets=[8, 16])}
    expect_error(tmp_path, craft(header, b"\0" * 16), "data_offsets .* overlap tensor")


@pytest.mark.parametrize("shape, offsets", [([3], [0, 8]), ([2, 2], [0, 8]), ([], [0, 8]),
                                            ([0], [0, 8]), ([2], [0, 4])])
def test_byte_count_does_not_match_shape(tmp_path, shape, offsets):
    entry = {"dtype": "F32", "shape": shape, "data_offsets": offsets}
    expect_error(tmp_path, craft({"w": entry}, b"\0" * offsets[1]), "needs")


def test_gap_between_tensors(tmp_path):
    header = {"a": dict(F32_2, data_offsets=[0, 8]), "b": dict(F32_2, data_offsets=[16, 24])}
    expect_error(tmp_path, craft(header, b"\0" * 24), r"bytes \[8, 16\) .* belong to no tensor")


def test_bytes_after_the_last_tensor(tmp_path):
    expect_error(tmp_path, craft({"w": F32_2}, b"\0" * 12), "4 bytes after the last tensor")


def test_tree_refers_to_a_missing_tensor(tmp_path):
    tree = {"dict": {"w": {"tensor": "w"}, "b": {"tensor": "b"}}}
    header = {"__metadata__": gdl_metadata(tree), "w": F32_2}
    expect_error(tmp_path, craft(header, b"\0" * 8), r"obj\['b'\] refers to tensor 'b', which")


def test_tensor_left_out_of_the_tree(tmp_path):
    header = {"__metadata__": gdl_metadata({"dict": {}}), "w": F32_2}
    expect_error(tmp_path, craft(header, b"\0" * 8), "tensor 'w' is not part of gdl.tree")


def test_tensor_used_twice(tmp_path):
    tree = {"list": [{"tensor": "w"}, {"tensor": "w"}]}
    header = {"__metadata__": gdl_metadata(tree), "w": F32_2}
    expect_error(tmp_path, craft(header, b"\0" * 8), r"obj\[1\] .* a second time")


def test_scalar_node_on_an_array(tmp_path):
    header = {"__metadata__": gdl_metadata({"scalar": "w"}), "w": F32_2}
    expect_error(tmp_path, craft(header, b"\0" * 8), "is a scalar but tensor 'w' has shape")


@pytest.mark.parametrize("tree", [[1, 2], {"list": 3}, {"dict": []}, {"set": [1]},
                                  {"int": "12"}, {"int": "0x" + "f" * 10 + "g"}, {"int": 12},
                                  {"float": "NaN"}, {"float": 1.0}, {"tensor": 3},
                                  {"dict": {}, "list": []}, {}, {"dict": {"a": [1]}},
                                  {"py/object": "os.system"}])
def test_malformed_tree_nodes(tmp_path, tree):
    header = {"__metadata__": gdl_metadata(tree)}
    expect_error(tmp_path, craft(header), "gdl.tree: obj.* is not a gdl tree node")


@pytest.mark.parametrize("text", ["{", "NaN", '{"float": Infinity}', '{"a": 1, "a": 2}'])
def test_tree_not_json(tmp_path, text):
    header = {"__metadata__": {"format": "gdl", "gdl.version": "1", "gdl.tree": text}}
    expect_error(tmp_path, craft(header), "gdl.tree is not valid JSON")


def test_deeply_nested_tree(tmp_path):
    tree = '{"list":[' * 50_000 + "1" + "]}" * 50_000
    header = {"__metadata__": {"format": "gdl", "gdl.version": "1", "gdl.tree": tree}}
    expect_error(tmp_path, craft(header), "nested too deeply")


def test_gdl_format_without_tree_or_version(tmp_path):
    expect_error(tmp_path, craft({"__metadata__": {"format": "gdl", "gdl.version": "1"}}),
                 "lacks gdl.version or gdl.tree")
    expect_error(tmp_path, craft({"__metadata__": {"format": "gdl", "gdl.tree": "1"}}),
                 "lacks gdl.version or gdl.tree")


@pytest.mark.parametrize("version", ["2", "0", "1.0", ""])
def test_unknown_format_version(tmp_path, version):
    header = {"__metadata__": gdl_metadata(1, version=version)}
    expect_error(tmp_path, craft(header), "format version .* this gdl reads version 1")


def valid_checkpoint(tmp_path):
    path = tmp_path / "good.safetensors"
    state = {"W": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.zeros(0),
             "bias": np.array([1, 2, 3], np.int16), "flags": np.array([True, False]),
             "step": 3, "rng": {"state": 2**100}, "lr": np.float32(0.1)}
    gio.save(state, path)
    return path.read_bytes()


def test_every_truncation_raises_checkpoint_error(tmp_path):
    blob = valid_checkpoint(tmp_path)
    path = tmp_path / "cut.safetensors"
    for cut in range(len(blob)):
        path.write_bytes(blob[:cut])
        with pytest.raises(gio.CheckpointError, match=re.escape(str(path))):
            gio.load(path)


def test_corrupted_bytes_raise_only_checkpoint_error(tmp_path):
    """Random damage either still parses or raises CheckpointError; nothing else escapes."""
    blob = valid_checkpoint(tmp_path)
    path = tmp_path / "damaged.safetensors"
    rng = np.random.default_rng(2)
    header_end = 8 + struct.unpack("<Q", blob[:8])[0]
    for _ in range(400):
        damaged = bytearray(blob)
        for position in rng.integers(0, header_end, rng.integers(1, 4)):
            damaged[position] = rng.choice(list(b'{}[]":,0123456789-eE. \\ux\xff'))
        path.write_bytes(bytes(damaged))
        try:
            gio.load(path)
        except gio.CheckpointError:
            pass


# --- load never runs code ----------------------------------------------------------------


def test_a_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"cbuiltins\nexec\n(Vopen({str(marker)!r}, 'w').close()\ntR.".encode()
    pickle.loads(payload)                      # the payload is live: it makes the marker
    assert marker.exists()
    marker.unlink()
    for blob in [payload, pickle.dumps({"w": np.zeros(3)}), b"\x80\x04" + payload,
                 craft(None, raw=payload)]:
        expect_error(tmp_path, blob, "")
    assert not marker.exists()


def test_pickle_like_metadata_is_refused(tmp_path):
    tree = {"dict": {"w": {"__reduce__": ["os.system", ["echo pwned"]]}}}
    expect_error(tmp_path, craft({"__metadata__": gdl_metadata(tree)}), "not a gdl tree node")
    tree_text = pickle.dumps({"a": 1}).decode("latin-1")
    header = {"__metadata__": {"format": "gdl", "gdl.version": "1", "gdl.tree": tree_text}}
    expect_error(tmp_path, craft(header), "gdl.tree is not valid JSON")


def test_load_does_not_use_pickle_or_eval(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    state = training_state()
    gio.save(state, path)

    def forbidden(*args, **kwargs):
        raise AssertionError("load must not unpickle or evaluate anything")
    for name in ["loads", "load", "Unpickler"]:
        monkeypatch.setattr(pickle, name, forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    loaded = gio.load(path)
    monkeypatch.undo()
    assert_same(loaded, state)
