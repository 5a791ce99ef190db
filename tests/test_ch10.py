"""The chapter-10 project: the book's convolutional network learns on its MNIST slice."""
import subprocess
import sys

import pytest

from gdl import book
from gdl.book import ch10_cnn
from gdl.book._common import UserError


def test_ch10_is_registered():
    assert book.find("ch10-cnn").module == "gdl.book.ch10_cnn"


def test_ch10_short_run_learns_far_above_chance():
    # the book's network, init and batches of 128 on the shipped slice; a higher rate than the
    # book's 2/128 so that a few iterations suffice
    metrics = ch10_cnn.run(epochs=4, lr=0.1, test_size=2000, quiet=True)
    assert metrics["test_accuracy"] > 0.6                 # chance is 0.1
    assert metrics["train_accuracy"] > 0.6


def test_ch10_command_line_runs():
    out = subprocess.run([sys.executable, "-m", "gdl.cli", "run", "ch10-cnn", "--epochs", "1",
                          "--quiet"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "ch10-cnn: test_accuracy=" in out.stdout


def test_ch10_rejects_a_negative_shift():
    with pytest.raises(UserError, match="--shift must be >= 0"):
        ch10_cnn.run(epochs=1, quiet=True, shift=-1)
