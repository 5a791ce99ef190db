"""Run one piece of code in fresh interpreters under different environments and compare what
each saved. The kernels read GDL_NUM_THREADS and GDL_SMALL_GEMM once per process, so each
setting needs a process of its own."""
import os
import subprocess
import sys

import numpy as np


def run_each(code, settings, tmp_path, timeout=120):
    """{name: the arrays that ``code`` saved with np.savez(sys.argv[1], ...)} for each
    ``name: {variable: value}`` of settings, added to this process's environment."""
    runs = {}
    for name, variables in settings.items():
        path = tmp_path / f"out-{name}.npz"
        done = subprocess.run([sys.executable, "-c", code, str(path)],
                              env=dict(os.environ, **variables), capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr
        runs[name] = np.load(path)
    return runs


def assert_identical(runs, reference, count):
    """Every run saved the same ``count`` arrays as ``runs[reference]``, bit for bit."""
    assert len(runs[reference].files) == count
    for name, run in runs.items():
        for key in runs[reference].files:
            np.testing.assert_array_equal(run[key], runs[reference][key],
                                          err_msg=f"{key} under {name}")


def cpu_has(flag):
    """Whether this is a Linux x86-64 machine whose CPU reports ``flag`` (such as "avx512f")."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return flag in line.split(":", 1)[1].split()
    except OSError:
        pass
    return False
