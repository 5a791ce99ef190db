"""The recurrent chapters' projects, trained small but real on the data home."""
import numpy as np
import pytest

from gdl.book import ch12_babi, ch13_rnn, ch14_gradients, ch14_shakespeare, find


def test_projects_are_registered():
    for name in ("ch12-babi", "ch13-rnn", "ch14-shakespeare", "ch14-gradients"):
        assert find(name).name == name


def test_ch14_gradients_vanish_explode_and_clip():
    result = ch14_gradients.run(quiet=True)
    assert result["sigmoid_shrink"] < 1e-9
    assert result["relu_growth"] > 1e5
    assert result["clipped_max"] <= 1.0 + 1e-6


def test_ch12_babi_perplexity(data_home):
    result = ch12_babi.run(epochs=15, quiet=True)
    assert result["perplexity"] < 4.5


def test_ch13_rnn_beats_chance(data_home):
    result = ch13_rnn.run(epochs=1000, quiet=True)
    assert result["accuracy"] > 0.2                    # chance over 6 places is 0.17


def test_ch14_shakespeare_learns_and_resumes(data_home, tmp_path):
    ckpt = tmp_path / "ckpt.safetensors"
    options = dict(limit=60000, hidden=64, embed=16, batch_size=16, bptt=32, quiet=True,
                   sample_every=10**6)
    first = ch14_shakespeare.run(max_steps=60, save=str(ckpt), checkpoint_every=30, **options)
    assert first["val_loss"] < 3.3                     # uniform over 65 chars: 4.17
    assert "\n" in first["sample"]
    resumed = ch14_shakespeare.run(max_steps=80, resume=str(ckpt), **options)
    assert resumed["steps"] == 80
    straight = ch14_shakespeare.run(max_steps=80, **options)
    np.testing.assert_allclose(resumed["val_loss"], straight["val_loss"], rtol=1e-5)
