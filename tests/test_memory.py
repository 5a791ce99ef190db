"""Note [freed memory]: gdl keeps freed memory for the next step's arrays (glibc only)."""
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
