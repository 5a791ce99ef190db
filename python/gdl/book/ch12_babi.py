"""Chapter 12: a recurrent network that predicts the next word of bAbI sentences.

The chapter's network keeps a hidden vector for the sentence so far: it starts from a learned
``start`` vector, and each word updates it as ``hidden = hidden @ recurrent + embed[word]``
(no nonlinearity); before each word, ``softmax(hidden @ decoder)`` predicts it. Trained on
the first 1,000 lines of bAbI task 1 (embedding 10, ``recurrent`` starting as the identity)
the book reports a perplexity of 4.0168. This project builds the same network from gdl
tensors (``index_select``, ``mm``, ``cross_entropy``) and trains it on batches of sentences
of equal length; it reports the perplexity over every word of those 1,000 lines (and of the
test split's first 1,000), and shows what it predicts for a sentence.

>>> from gdl.book import ch12_babi
>>> ch12_babi.run()["perplexity"]                    # the book: 4.0168
"""
import time

import numpy as np

import gdl
from gdl.book._common import progress, say
from gdl.data import load_babi
from gdl.text import perplexity

PROJECT = "ch12-babi"
BOOK_PERPLEXITY = 4.0168


def tokenize(lines):
    """The book's tokens: lowercase, split on spaces, the line number dropped."""
    return [line.lower().replace("\n", "").split(" ")[1:] for line in lines]


class NextWord(gdl.nn.Module):
    """The chapter's model: start, embed, recurrent (identity at first) and decoder."""

    def __init__(self, vocab_size, embed_size=10):
        super().__init__()
        rng = gdl.random.rng()
        self.embed = gdl.nn.Parameter(((rng.random((vocab_size, embed_size)) - 0.5) * 0.1))
        self.recurrent = gdl.nn.Parameter(np.eye(embed_size, dtype=np.float32))
        self.start = gdl.nn.Parameter(np.zeros((1, embed_size), dtype=np.float32))
        self.decoder = gdl.nn.Parameter(((rng.random((embed_size, vocab_size)) - 0.5) * 0.1))

    def forward(self, sentences):
        """Mean cross-entropy of predicting every word of the (B, L) sentences in turn."""
        batch, length = sentences.shape
        hidden = self.start.expand(0, batch).reshape(batch, -1)
        losses = []
        for t in range(length):
            logits = hidden.mm(self.decoder)
            losses.append(logits.cross_entropy(sentences[:, t]))
            hidden = hidden.mm(self.recurrent) + self.embed.index_select(sentences[:, t])
        return gdl.stack(losses).mean(), logits


def _groups(indices):
    """Sentences grouped by length, each group an int64 (count, length) array."""
    by_length = {}
    for sentence in indices:
        by_length.setdefault(len(sentence), []).append(sentence)
    return [np.array(group, dtype=np.int64) for _, group in sorted(by_length.items())]


def corpus_perplexity(model, groups):
    total, count = 0.0, 0
    with gdl.no_grad():
        for group in groups:
            loss, _ = model(group)
            total += loss.item() * group.size
            count += group.size
    return perplexity(total / count)


def run(epochs=None, seed=0, batch_size=16, lr=None, quiet=False):
    """Train and report; returns {"perplexity" (the 1,000 training lines), "test_perplexity",
    "epochs", "seconds"}."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    epochs = epochs or 60
    train_lines, _ = load_babi(1, "train")
    test_lines, _ = load_babi(1, "test")
    tokens = tokenize(train_lines[:1000])
    vocab = sorted({w for sentence in tokens for w in sentence})
    index = {w: i for i, w in enumerate(vocab)}
    train = _groups([[index[w] for w in s] for s in tokens])
    test = _groups([[index[w] for w in s] for s in tokenize(test_lines[:1000])
                    if all(w in index for w in s)])
    model = NextWord(len(vocab))
    optimizer = gdl.Adam(model.parameters(), lr=lr or 0.01)
    rng = np.random.default_rng(seed)
    for epoch in progress(range(epochs), PROJECT, quiet):
        batches = [(g, i) for g in range(len(train)) for i in range(0, len(train[g]), batch_size)]
        for g, i in (batches[k] for k in rng.permutation(len(batches))):
            loss, _ = model(train[g][i:i + batch_size])
            loss.backward()
            optimizer.step()
        if (epoch + 1) % 10 == 0:
            say(f"epoch {epoch + 1} Perplexity: {corpus_perplexity(model, train):.4f}", quiet)
    sentence = train[-1][:1]
    with gdl.no_grad():
        _, logits = model(sentence[:, :-1])
    say(f"{' '.join(vocab[i] for i in sentence[0, :-1])} -> predicts "
        f"{vocab[int(logits.data.argmax())]!r} (truth {vocab[sentence[0, -1]]!r})", quiet)
    return {"perplexity": corpus_perplexity(model, train),
            "test_perplexity": corpus_perplexity(model, test),
            "epochs": epochs, "seconds": time.perf_counter() - start}
