"""Checkpoints of whole trainings: save -> load predicts the same, and a resumed training
continues bit for bit as the uninterrupted one."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

import gdl
from gdl import nn


def make_model():
    return nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Dropout(0.3), nn.Linear(32, 4))


def data():
    rng = np.random.default_rng(5)
    return rng.standard_normal((64, 20)).astype(np.float32), rng.integers(0, 4, 64)


def train(model, opt, x, y, steps, losses, start=0):
    criterion = nn.CrossEntropyLoss()
    for step in range(start, start + steps):
        batch = slice((step % 4) * 16, (step % 4 + 1) * 16)
        loss = criterion(model(x[batch]), y[batch])
        loss.backward()
        opt.step()
        losses.append(loss.item())


def checkpoint(model, opt, step):
    return {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "rng": gdl.get_rng_state(), "step": step}


def restore(state, model, opt):
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    gdl.set_rng_state(state["rng"])


@pytest.mark.parametrize("make_opt", [
    lambda p: gdl.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-4),
    lambda p: gdl.Adam(p, lr=1e-2),
])
def test_resumed_training_continues_exactly(tmp_path, make_opt):
    x, y = data()
    gdl.manual_seed(11)
    model = make_model()
    opt = make_opt(model.parameters())
    straight = []
    train(model, opt, x, y, 20, straight)

    gdl.manual_seed(11)
    model = make_model()
    opt = make_opt(model.parameters())
    first = []
    train(model, opt, x, y, 10, first)
    gdl.save(checkpoint(model, opt, 10), tmp_path / "ckpt.safetensors")
    del model, opt

    gdl.manual_seed(999)                                 # a different process, another seed
    model = make_model()
    opt = make_opt(model.parameters())
    state = gdl.load(tmp_path / "ckpt.safetensors")
    restore(state, model, opt)
    second = []
    train(model, opt, x, y, 10, second, start=state["step"])
    assert state["step"] == 10
    assert_array_equal(np.array(first + second), np.array(straight))   # to the last bit


def test_save_load_gives_identical_predictions(tmp_path):
    x, _ = data()
    model = make_model().eval()
    gdl.save(model.state_dict(), tmp_path / "model.safetensors")
    other = make_model().eval()
    other.load_state_dict(gdl.load(tmp_path / "model.safetensors"))
    assert_array_equal(model(x).data, other(x).data)


def test_checkpoint_of_another_model_is_rejected(tmp_path):
    gdl.save(nn.Linear(3, 2).state_dict(), tmp_path / "small.safetensors")
    with pytest.raises(KeyError, match="missing keys"):
        make_model().load_state_dict(gdl.load(tmp_path / "small.safetensors"))
