"""The gdl command line: list, run (the main job), info; user errors are one line, exit 2."""
import os
import subprocess
import sys

import numpy as np
import pytest

import gdl
from gdl.cli import main


@pytest.fixture
def empty_data_home(tmp_path, monkeypatch):
    home = tmp_path / "no-data-here"
    home.mkdir()
    monkeypatch.setenv("GDL_DATA_HOME", str(home))
    return home


def test_info_names_version_kernels_and_blas(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert gdl.__version__ in out
    for family in ("softmax", "activation", "dropout", "embedding", "optim"):
        assert family in out
    assert "blas" in out and "threads" in out


def test_info_reports_the_kernels_settings(tmp_path):
    # each setting is read once per process: ask a fresh one
    env = dict(os.environ, GDL_NUM_THREADS="3", GDL_SMALL_GEMM="0", GDL_KEEP_FREED_MEMORY="0",
               GDL_ALIGNED_ARRAYS="0")
    done = subprocess.run([sys.executable, "-m", "gdl.cli", "info"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "kernel_threads: 3" in done.stdout
    assert "packed_kernels: off" in done.stdout
    assert "keep_freed_memory: off" in done.stdout
    assert "numpy_allocator: default_allocator" in done.stdout
    from gdl._kernels import matmul
    assert f"split_gemm: {'on' if matmul.can_split() else 'off'}" in done.stdout


def test_list_shows_the_main_job(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "ch9-mnist" in out and "mnist" in out


def test_main_job_runs_with_no_data_home(empty_data_home, capsys):
    """A short `gdl run mnist` on the slice shipped in the wheel learns far above chance."""
    assert main(["run", "mnist", "--epochs", "10", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ch9-mnist: test_accuracy=")
    accuracy = float(out.split("test_accuracy=")[1].split()[0])
    assert accuracy > 0.7                                 # chance is 0.1
    assert list(empty_data_home.iterdir()) == []          # nothing was downloaded


def test_run_saves_and_resumes_exactly(tmp_path, capsys):
    from gdl.book import ch09_mnist
    straight = ch09_mnist.run(epochs=4, quiet=True, eval_every=100)
    ckpt = tmp_path / "ch9.safetensors"
    ch09_mnist.run(epochs=2, quiet=True, save=str(ckpt), eval_every=100)
    resumed = ch09_mnist.run(epochs=4, quiet=True, resume=str(ckpt), eval_every=100)
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    assert resumed["train_accuracy"] == straight["train_accuracy"]


@pytest.mark.parametrize("argv, message", [
    (["run", "no-such-project"], "unknown project 'no-such-project'"),
    (["run", "mnist", "--resume", "/nonexistent/ckpt"], "no checkpoint at /nonexistent/ckpt"),
])
def test_user_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_corrupt_checkpoint_is_a_user_error(tmp_path, capsys):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert main(["run", "mnist", "--resume", str(bad)]) == 2
    assert "cannot read checkpoint" in capsys.readouterr().err


def test_checkpoint_of_another_project_is_a_user_error(tmp_path, capsys):
    other = tmp_path / "other.safetensors"
    gdl.save({"project": "ch99-other", "model": {"w": np.zeros(2)}}, other)
    assert main(["run", "mnist", "--resume", str(other)]) == 2
    assert "is a checkpoint of 'ch99-other', not of 'ch9-mnist'" in capsys.readouterr().err


@pytest.mark.parametrize("flag", [["--epochs", "-1"], ["--batch-size", "0"], ["--lr", "-0.1"]])
def test_bad_numbers_exit_non_zero_without_traceback(flag):
    result = subprocess.run([sys.executable, "-m", "gdl.cli", "run", "mnist", *flag],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "error: argument" in result.stderr


def test_plot_without_matplotlib_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # as if not installed
    assert main(["run", "mnist", "--epochs", "1", "--quiet",
                 "--plot", str(tmp_path / "curves.png")]) == 2
    assert "pip install 'gdl[plot]'" in capsys.readouterr().err
