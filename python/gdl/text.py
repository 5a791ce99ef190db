"""Training language models on a token stream, as the book's chapter 14 does.

``batchify`` cuts one long stream into ``batch_size`` parallel streams, ``windows`` walks them
``bptt`` steps at a time, ``detach`` cuts the carried hidden state from the graph between
windows (truncated backpropagation through time); ``perplexity`` and ``bits_per_char`` turn
a mean cross-entropy in nats into the numbers the book reports; ``generate`` writes text
from a seed, greedily or by sampling at a temperature.

>>> vocab = Vocabulary(text)
>>> streams = batchify(vocab.encode(text), batch_size=16)      # (steps, 16)
>>> for inputs, targets in windows(streams, bptt=25):
...     logits, state = model(inputs, detach(state))
"""
import math

import numpy as np

from gdl.tensor import Tensor, no_grad


class Vocabulary:
    """The sorted set of tokens (characters of a str, or words of a list) and their ids.

    >>> vocab = Vocabulary("hello")
    >>> vocab.encode("hell"), vocab.decode([1, 0])
    (array([1, 0, 2, 2]), 'eh')
    """

    def __init__(self, tokens):
        self.tokens = sorted(set(tokens))
        self.index = {token: i for i, token in enumerate(self.tokens)}
        self.joiner = "" if isinstance(tokens, str) else " "

    def __len__(self):
        return len(self.tokens)

    def encode(self, tokens):
        """int64 ids of the tokens; a token not in the vocabulary raises KeyError."""
        try:
            return np.array([self.index[t] for t in tokens], dtype=np.int64)
        except KeyError as error:
            raise KeyError(f"token {error.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids):
        return self.joiner.join(self.tokens[int(i)] for i in ids)


def batchify(ids, batch_size):
    """(steps, batch_size) int64: the stream cut into batch_size equal, contiguous pieces,
    one per column (the book's ``indices.reshape(batch_size, -1).T``); the tail that does not
    fill a row is dropped."""
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be a 1-D stream of token ids, got shape {ids.shape}")
    if batch_size < 1 or len(ids) < 2 * batch_size:
        raise ValueError(f"a stream of {len(ids)} tokens is too short for batch_size "
                         f"{batch_size} (needs at least 2 tokens per stream)")
    steps = len(ids) // batch_size
    return np.ascontiguousarray(ids[:steps * batch_size].reshape(batch_size, steps).T)


def windows(streams, bptt, start=0):
    """Yield ``(inputs, targets)`` of shape (<= bptt, batch): targets are inputs one step on.

    ``start`` skips the first windows (to resume mid-epoch); the last window may be shorter.
    """
    if bptt < 1:
        raise ValueError(f"bptt must be at least 1, got {bptt}")
    for t in range(start * bptt, len(streams) - 1, bptt):
        n = min(bptt, len(streams) - 1 - t)
        yield streams[t:t + n], streams[t + 1:t + 1 + n]


def count_windows(streams, bptt):
    return (len(streams) - 1 + bptt - 1) // bptt


def detach(state):
    """The hidden state cut from the graph (a Tensor, or a tuple/list of them, or None), so
    the next window's backward stops here: truncated backpropagation through time."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach(s) for s in state)
    return state.detach() if isinstance(state, Tensor) else state


def perplexity(loss):
    """exp(mean cross-entropy in nats): the book's chapter-12 measure."""
    return math.exp(min(float(loss), 700.0))


def bits_per_char(loss):
    """Mean cross-entropy in bits: nats / ln 2."""
    return float(loss) / math.log(2)


def sample(logits, temperature=1.0, rng=None):
    """One token id per row of logits (B, V): argmax when temperature is 0 (greedy), else a
    draw from softmax(logits / temperature)."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return logits.argmax(axis=-1)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    rng = np.random.default_rng() if rng is None else rng
    z = logits / temperature
    z -= z.max(axis=-1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=-1, keepdims=True)
    u = rng.random((p.shape[0], 1))
    return np.minimum((p.cumsum(axis=-1) < u).sum(axis=-1), p.shape[-1] - 1)


@no_grad()
def generate(step, vocab, seed, length, temperature=0.0, rng=None, state=None):
    """Text continuing ``seed``: ``length`` tokens, one ``step`` at a time.

    ``step(ids, state)`` takes ids of shape (1, 1) (one step, batch 1) and the state, and
    returns ``(logits, state)`` with logits of shape (1, 1, V) (or (1, V)). The seed is fed
    first to warm the state; temperature 0 is greedy, higher is more varied.
    """
    ids = vocab.encode(seed)
    if len(ids) == 0:
        raise ValueError("seed must hold at least one token")
    logits = None
    for i in ids:
        logits, state = step(np.array([[i]]), state)
    out = []
    for _ in range(length):
        token = int(sample(np.asarray(logits.data).reshape(1, -1), temperature, rng)[0])
        out.append(token)
        logits, state = step(np.array([[token]]), state)
    return vocab.decode(out)
