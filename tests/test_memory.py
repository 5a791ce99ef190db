"""Note [freed memory]: gdl keeps freed memory for the next step's arrays (glibc only); Note
[aligned arrays]: numpy's arrays start on 64-byte boundaries once gdl is imported."""
import resource
import subprocess
import sys

import numpy as np
import pytest

import gdl  # noqa: F401  (applies the setting)
from gdl import _memory

glibc = pytest.mark.skipif(not _memory.on_glibc(), reason="the setting is for glibc's malloc")


def _faults_per_round(rounds=20):
    def round_():
        a = np.ones((1 << 20,), np.float32)  # 4 MiB, above glibc's first mmap threshold
        b = a * 2
        return float(b[-1])
    round_()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        round_()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / rounds


@glibc
def test_a_training_loop_reuses_freed_memory_without_page_faults():
    # two fresh 4 MiB arrays a round: 2048 faults a round if each were a new mapping
    assert _faults_per_round() < 50


@glibc
def test_the_setting_can_be_turned_off():
    code = ("import gdl, gdl._memory as m; import sys; "
            "sys.exit(0 if m.keep_freed_memory() is False else 1)")
    env = {"GDL_KEEP_FREED_MEMORY": "0", "PATH": ""}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def _offsets(arrays):
    from gdl._kernels import memory
    assert memory.ALIGN == 64
    return [a.ctypes.data % memory.ALIGN for a in arrays]


def test_numpy_arrays_are_64_byte_aligned_after_import():
    assert _memory.aligned and _memory.numpy_allocator() == "gdl_aligned_64"
    # every size, glibc's small bins to above its mmap threshold; zeros, copies, results
    arrays = [np.empty(n, np.float32) for n in (1, 3, 17, 100, 4097, 1 << 20, 9 << 20)]
    arrays += [np.zeros((100, 784), np.float32), np.ones(5) * 2, np.arange(1000.0).copy()]
    assert _offsets(arrays) == [0] * len(arrays)
    assert not np.zeros(1 << 21).any()         # calloc'd blocks are zero


def test_aligned_blocks_keep_their_contents_when_resized():
    # ndarray.resize reallocates in place: contents kept up to the smaller size, the block
    # aligned again whatever offset glibc's realloc gave it
    rng = np.random.default_rng(0)
    for before, after in [(10, 100000), (100000, 10), (3, 5), (1 << 20, (1 << 20) + 3), (7, 7)]:
        a = rng.standard_normal(before)
        kept = a[:min(before, after)].copy()
        a.resize(after, refcheck=False)
        assert a.ctypes.data % 64 == 0
        np.testing.assert_array_equal(a[:min(before, after)], kept)
        if after > before:
            assert not a[before:].any()        # numpy zeroes what it adds


def test_gdl_outputs_and_gradients_are_aligned():
    from gdl import Tensor, nn
    model = nn.Sequential(nn.Linear(784, 100), nn.Tanh(), nn.Linear(100, 10))
    x = Tensor(np.ones((32, 784), np.float32))
    y = model(x)
    y.sum().backward()
    arrays = [y.data] + [p.data for p in model.parameters()] + [p.grad.data
                                                                  for p in model.parameters()]
    assert _offsets(arrays) == [0] * len(arrays)


def test_alignment_can_be_turned_off():
    code = ("import gdl, gdl._memory as m, numpy as np, sys; "
            "sys.exit(0 if not m.aligned and m.numpy_allocator() == 'default_allocator' "
            "and m.align_arrays() is False else 1)")
    env = {"GDL_ALIGNED_ARRAYS": "0", "PATH": ""}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
