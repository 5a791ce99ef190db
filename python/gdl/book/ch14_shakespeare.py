"""Chapter 14: a character LSTM that writes like Shakespeare.

The chapter replaces the RNN cell with an LSTM cell and trains it to predict the next character
of Shakespeare's text, cutting the text into ``batch_size`` parallel streams and
backpropagating ``bptt`` steps at a time while the hidden state carries on (truncated
backpropagation through time). This project trains on the full tiny-Shakespeare text
(1.1 million characters), holds out its last 5% for validation, prints a sample as it trains,
and writes a resumable checkpoint every ``--checkpoint-every`` steps:

    chars -> Embedding(65, 64) -> LSTM(64, 512) over the window -> Linear(512, 65) -> softmax

with batches of 32 windows of 64 characters, trained with Adam (lr 3e-3 falling along a cosine
to lr/30 over the run) and gradient clipping. Measured on 2 cores: validation loss 1.585
nats per character after 1,500 steps (2.5 minutes), 1.533 (2.21 bits per character) at the end
of the 8 epochs (4,144 steps, 7.3 minutes). ``--book`` runs the book's own configuration
instead: embedding 512, hidden 512, batch 16, bptt 25, SGD alpha 0.05 decayed by 0.99 per
epoch.

>>> from gdl.book import ch14_shakespeare
>>> ch14_shakespeare.run()["val_loss"]                    # about 1.53
"""
import time

import numpy as np

import gdl
from gdl import io, nn, text
from gdl.book._common import UserError, progress, say
from gdl.data import load_shakespeare
from gdl.nn.rnn import LSTM
from gdl.nn.utils import clip_grad_norm_

PROJECT = "ch14-shakespeare"
TARGET_VAL_LOSS = 1.6
FAST = {"embed": 64, "hidden": 512, "batch_size": 32, "bptt": 64, "optimizer": "adam",
        "lr": 3e-3, "decay": 1.0, "cosine": True, "clip": 5.0}
BOOK = {"embed": 512, "hidden": 512, "batch_size": 16, "bptt": 25, "optimizer": "sgd",
        "lr": 0.05, "decay": 0.99, "cosine": False, "clip": 0.0}


def add_arguments(parser):
    parser.add_argument("--book", action="store_true",
                        help="the book's configuration: embedding 512, hidden 512, batch 16, "
                        "bptt 25, SGD alpha 0.05 decayed 0.99 per epoch")
    parser.add_argument("--minutes", type=float, help="stop training after this many minutes")
    parser.add_argument("--checkpoint-every", type=int, default=500, metavar="N",
                        help="with --save, write a checkpoint every N steps (500)")
    parser.add_argument("--sample-every", type=int, default=500, metavar="N",
                        help="print a sample and the validation loss every N steps (500)")


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear over a (steps, batch) window of character ids."""

    def __init__(self, vocab_size, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = LSTM(embed, hidden)
        self.decoder = nn.Linear(hidden, vocab_size)

    def forward(self, ids, state=None):
        output, state = self.lstm(self.embed(ids), state)
        steps, batch, hidden = output.shape
        logits = self.decoder(output.reshape(steps * batch, hidden))
        return logits.reshape(steps, batch, -1), state


def evaluate(model, streams, bptt=256):
    """Mean cross-entropy (nats per character) of the model over the (steps, batch) streams."""
    total, count, state = 0.0, 0, None
    with gdl.no_grad():
        for inputs, targets in text.windows(streams, bptt):
            logits, state = model(inputs, state)
            loss = logits.reshape(-1, logits.shape[-1]).cross_entropy(targets.reshape(-1))
            total += loss.item() * targets.size
            count += targets.size
    return total / count


def write(model, vocab, seed="ROMEO:\n", length=300, temperature=0.8, rng=None):
    """Text from the model, continuing ``seed``."""
    def step(ids, state):
        return model(ids, state)
    return seed + text.generate(step, vocab, seed, length, temperature, rng)


def load_data(limit=None, val_fraction=0.05):
    """(vocab, train ids, validation ids): the held-out tail is the last val_fraction."""
    corpus = load_shakespeare("tiny")
    if limit:
        corpus = corpus[:limit]
    vocab = text.Vocabulary(corpus)
    ids = vocab.encode(corpus)
    split = int(len(ids) * (1 - val_fraction))
    return vocab, ids[:split], ids[split:]


def _save(path, model, optimizer, cfg, epoch, window, steps, state, history):
    h, c = state
    io.save({"project": PROJECT, "config": cfg, "epoch": epoch, "window": window,
             "steps": steps, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "rng": gdl.get_rng_state(), "hidden": [h.data, c.data], "history": history}, path)


def _resume(path, model, optimizer, cfg):
    try:
        ckpt = io.load(path)
    except (FileNotFoundError, ValueError) as error:
        raise UserError(f"cannot resume from {path}: {error}") from None
    if not isinstance(ckpt, dict) or ckpt.get("project") != PROJECT:
        raise UserError(f"{path} is not a {PROJECT} checkpoint")
    if ckpt["config"] != cfg:
        raise UserError(f"{path} was trained with {ckpt['config']}, not {cfg}")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    gdl.set_rng_state(ckpt["rng"])
    state = tuple(gdl.Tensor(a) for a in ckpt["hidden"])
    history = {k: list(v) for k, v in ckpt["history"].items()}
    return ckpt["epoch"], ckpt["window"], ckpt["steps"], state, history


def run(epochs=None, seed=0, batch_size=None, lr=None, quiet=False, save=None, resume=None,
        book=False, minutes=None, checkpoint_every=500, sample_every=500, limit=None,
        max_steps=None, hidden=None, embed=None, bptt=None):
    """Train and report; returns {"val_loss", "val_bits_per_char", "val_perplexity",
    "train_loss", "steps", "epochs", "seconds", "sample"}."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    cfg = dict(BOOK if book else FAST)
    for key, value in (("batch_size", batch_size), ("lr", lr), ("hidden", hidden),
                       ("embed", embed), ("bptt", bptt)):
        if value is not None:
            cfg[key] = value
    if epochs is None:
        epochs = 100 if minutes else (8 if not book else 5)
    vocab, train_ids, val_ids = load_data(limit)
    streams = text.batchify(train_ids, cfg["batch_size"])
    val_streams = text.batchify(val_ids, min(32, len(val_ids) // 2))
    model = CharLSTM(len(vocab), cfg["embed"], cfg["hidden"])
    if cfg["optimizer"] == "adam":
        optimizer = gdl.Adam(model.parameters(), lr=cfg["lr"])
    else:
        optimizer = gdl.SGD(model.parameters(), lr=cfg["lr"])
    per_epoch = text.count_windows(streams, cfg["bptt"])
    schedule = None
    if cfg["cosine"]:               # per step, down to lr / 30 at the end of the last epoch
        schedule = gdl.optim.CosineAnnealingLR(optimizer, T_max=max(1, epochs * per_epoch),
                                               eta_min=cfg["lr"] / 30)
    first_epoch, first_window, steps, state = 0, 0, 0, None
    history = {"train_loss": [], "val_loss": [], "val_steps": []}
    if resume:
        first_epoch, first_window, steps, state, history = _resume(resume, model, optimizer,
                                                                   cfg)
        if schedule:
            schedule.step(steps)
        say(f"resumed from {resume} at epoch {first_epoch}, step {steps}", quiet)
    sample_rng = np.random.default_rng(seed)
    deadline = start + 60 * minutes if minutes else None
    done = False
    recent = []
    for epoch in range(first_epoch, epochs):
        skip = first_window if epoch == first_epoch else 0
        if skip == 0:
            state = None                                    # each epoch starts fresh
        bar = progress(text.windows(streams, cfg["bptt"], start=skip), f"{PROJECT} {epoch + 1}",
                       quiet, total=per_epoch - skip)
        for window, (inputs, targets) in enumerate(bar, start=skip):
            logits, state = model(inputs, text.detach(state))
            loss = logits.reshape(-1, len(vocab)).cross_entropy(targets.reshape(-1))
            loss.backward()
            if cfg["clip"]:
                clip_grad_norm_(model.parameters(), cfg["clip"])
            optimizer.step()
            steps += 1
            if schedule:
                schedule.step()
            recent.append(loss.item())
            if steps % 50 == 0:
                bar.set_postfix(loss=f"{np.mean(recent[-50:]):.3f}")
            if steps % sample_every == 0:
                history["train_loss"].append(float(np.mean(recent[-sample_every:])))
                history["val_loss"].append(evaluate(model, val_streams))
                history["val_steps"].append(steps)
                say(f"step {steps} (epoch {epoch + 1}): train {history['train_loss'][-1]:.3f} "
                    f"val {history['val_loss'][-1]:.3f} nats/char "
                    f"({text.bits_per_char(history['val_loss'][-1]):.3f} bits), "
                    f"{time.perf_counter() - start:.0f} s", quiet)
                say(write(model, vocab, length=200, rng=sample_rng), quiet)
            if save and steps % checkpoint_every == 0:
                _save(save, model, optimizer, cfg, epoch, window + 1, steps,
                      text.detach(state), history)
            if (deadline and time.perf_counter() > deadline) or steps == max_steps:
                done = True
                break
        if done:
            break
        if cfg["decay"] != 1.0:
            optimizer.lr *= cfg["decay"]                    # the book's alpha *= 0.99
    val_loss = evaluate(model, val_streams)
    sample = write(model, vocab, length=400, rng=sample_rng)
    say(sample, quiet)
    if save:
        _save(save, model, optimizer, cfg, epoch, window + 1, steps, text.detach(state),
              history)
    return {"val_loss": val_loss, "val_bits_per_char": text.bits_per_char(val_loss),
            "val_perplexity": text.perplexity(val_loss),
            "train_loss": float(np.mean(recent[-100:])) if recent else float("nan"),
            "steps": steps, "epochs": epoch + 1, "seconds": time.perf_counter() - start,
            "sample": sample}
