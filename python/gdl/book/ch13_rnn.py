"""Chapter 13: the framework's RNNCell predicting the last word of bAbI sentences.

The chapter ends its home-made framework with an ``Embedding`` and an ``RNNCell``: every
sentence of bAbI task 1's first 1,000 lines is padded in front with "-" to 6 words, the cell
reads the first 5 words (embedding 16, hidden 16, sigmoid) and its output layer predicts the
6th. The book trains on the first batch of 32 sentences with SGD (alpha 0.05) for 1,000
iterations and reports 37% of them right. This project runs the book's code on gdl with
the book's names (``RNNCell(n_inputs, n_hidden, n_output)``, ``init_hidden``,
``CrossEntropyLoss``, ``SGD(alpha=...)``) for 3,000 iterations (``--epochs 1000`` is the
book's count, about 0.31-0.44 depending on the seed) and reports the same measure, about 0.5,
and the accuracy over all 1,000 sentences (about 0.12: the last word of a statement is a
place the prefix does not determine); ``--all`` trains on every sentence.

>>> from gdl.book import ch13_rnn
>>> ch13_rnn.run()["accuracy"]                       # about 0.5; the book: 0.37
"""
import time

import numpy as np

import gdl
from gdl import nn
from gdl.book._common import progress, say
from gdl.data import load_babi
from gdl.nn.rnn import RNNCell

PROJECT = "ch13-rnn"
BOOK_ACCURACY = 0.37


def add_arguments(parser):
    parser.add_argument("--all", action="store_true", dest="all_rows",
                        help="train on every sentence, not only the book's first batch")


def load_data(lines=1000, width=6):
    """(data (sentences, 6) int64, vocabulary list): the book's tokens, padded with '-'."""
    raw, _ = load_babi(1, "train")
    tokens = [line.lower().replace("\n", "").split(" ")[1:] for line in raw[:lines]]
    tokens = [["-"] * (width - len(t)) + t for t in tokens]
    vocab = sorted({w for sentence in tokens for w in sentence})
    index = {w: i for i, w in enumerate(vocab)}
    return np.array([[index[w] for w in t] for t in tokens], dtype=np.int64), vocab


def predict(embed, model, rows):
    """Logits for the last word of each row from its first five words."""
    hidden = model.init_hidden(batch_size=len(rows))
    for t in range(rows.shape[1] - 1):
        output, hidden = model(embed(rows[:, t]), hidden)
    return output


def run(epochs=None, seed=0, batch_size=32, lr=0.05, quiet=False, all_rows=False):
    """Train as the book does; returns {"accuracy" (the book's measure), "loss",
    "accuracy_all" (every sentence), "iterations", "seconds"}."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    iterations = epochs or 3000
    data, vocab = load_data()
    embed = nn.Embedding(vocab_size=len(vocab), dim=16)
    model = RNNCell(n_inputs=16, n_hidden=16, n_output=len(vocab))
    criterion = nn.CrossEntropyLoss()
    optim = gdl.SGD(parameters=model.get_parameters() + embed.get_parameters(), alpha=lr)
    batches = len(data) // batch_size if all_rows else 1
    for it in progress(range(iterations), PROJECT, quiet):
        for b in range(batches):
            rows = data[b * batch_size:(b + 1) * batch_size]
            output = predict(embed, model, rows)
            loss = criterion(output, rows[:, -1])
            loss.backward()
            optim.step()
        if it % 200 == 0:
            correct = (output.data.argmax(axis=1) == rows[:, -1]).mean()
            say(f"Loss: {loss.item():.4f} % Correct: {correct:.2f}", quiet)
    with gdl.no_grad():
        first = data[:batch_size]
        output = predict(embed, model, first)
        accuracy = float((output.data.argmax(axis=1) == first[:, -1]).mean())
        loss = float(criterion(output, first[:, -1]).item())
        everything = predict(embed, model, data)
        accuracy_all = float((everything.data.argmax(axis=1) == data[:, -1]).mean())
    say(f"% Correct on the book's batch: {accuracy:.2f} (book: {BOOK_ACCURACY})", quiet)
    return {"accuracy": accuracy, "loss": loss, "accuracy_all": accuracy_all,
            "iterations": iterations, "seconds": time.perf_counter() - start}
