"""The chapter-15 spam model: the set of an email's words, one learned number per word, summed.

    score = sum of W[word] for each distinct word of the email        W: (vocabulary, 1)
    p(spam) = sigmoid(score)

It is ``gdl.nn.EmbeddingBag(vocabulary, 1)`` followed by a sigmoid, all weights starting at
zero as in the book. Row 0 is the padding word ``<pad>``: short emails of a batch are filled
with it and its row is kept at zero, as the book does with its ``<unk>`` row.

Every participant of a federated run trains this model on its own emails with
``train_local``; the centralised baseline trains the same model on all of them.
"""
import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np

import gdl
from gdl import nn

PAD = 0
LR = 0.05             # tuned for the summed cross-entropy on batches of 100 emails
BATCH_SIZE = 100


class Vocabulary:
    """word <-> index, with ``<pad>`` at index 0; ``encode(text)`` gives the sorted distinct
    indices of the text's known words (unknown words are left out)."""

    def __init__(self, words):
        self.words = ["<pad>"] + [w for w in words if w != "<pad>"]
        self.index = {word: i for i, word in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, text):
        index = self.index
        found = {index[w] for w in text.split() if w in index}
        return np.array(sorted(found), dtype=np.int64)


@dataclass
class SpamData:
    """The corpus ready to train on: ``train`` and ``test`` are (bags, labels) pairs, a bag
    being the int64 word indices of one email and a label 1 for spam, 0 for ham."""
    vocab: Vocabulary
    train_bags: list
    train_labels: np.ndarray
    test_bags: list
    test_labels: np.ndarray


def prepare(emails, labels, test_size=1000, min_count=2, seed=0):
    """Shuffle the emails (seeded), hold out the first ``test_size`` for testing and build the
    vocabulary from the words of at least ``min_count`` training emails (the test emails never
    choose a word). Returns a ``SpamData``.

    >>> data = prepare(["buy pills now", "meeting at noon", "buy now"], [1, 0, 1], test_size=1,
    ...                min_count=1)
    """
    labels = np.asarray(labels, dtype=np.int64)
    if len(emails) != len(labels):
        raise ValueError(f"{len(emails)} emails but {len(labels)} labels")
    if not 0 < test_size < len(emails):
        raise ValueError(f"test_size must be between 1 and {len(emails) - 1} for "
                         f"{len(emails)} emails, got {test_size}")
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    order = np.random.default_rng(seed).permutation(len(emails))
    test, train = order[:test_size], order[test_size:]
    counts = Counter(word for i in train for word in set(emails[i].split()))
    vocab = Vocabulary(sorted(w for w, c in counts.items() if c >= min_count))
    return SpamData(vocab,
                    [vocab.encode(emails[i]) for i in train], labels[train],
                    [vocab.encode(emails[i]) for i in test], labels[test])


def load_spam(test_size=1000, min_count=2, seed=0, limit=None):
    """The Enron ``enron1`` corpus (3,672 ham, 1,500 spam) as ``SpamData``; ``limit`` keeps a
    seeded random subset of that many emails (for quick runs and tests)."""
    emails, labels = _enron()
    if limit is not None and limit < len(emails):
        keep = np.sort(np.random.default_rng(seed + 1).choice(len(emails), limit, replace=False))
        emails, labels = [emails[i] for i in keep], labels[keep]
    return prepare(emails, labels, test_size=test_size, min_count=min_count, seed=seed)


@functools.lru_cache(maxsize=1)
def _enron_cached():
    from gdl.data import load_enron
    emails, labels = load_enron()
    return tuple(emails), labels


def _enron():
    """The corpus, read once per process (reading the tar.gz takes seconds)."""
    emails, labels = _enron_cached()
    return list(emails), labels.copy()


def pad_bags(bags):
    """A list of index arrays -> (B, longest) int64, short bags filled with ``PAD``."""
    longest = max(1, max(len(bag) for bag in bags))
    out = np.full((len(bags), longest), PAD, dtype=np.int64)
    for i, bag in enumerate(bags):
        out[i, :len(bag)] = bag
    return out


class SpamModel(nn.Module):
    """p(spam) = sigmoid(sum of one weight per distinct word), the weights starting at zero.

    >>> model = SpamModel(vocab_size=10)
    >>> model(pad_bags([np.array([3, 4]), np.array([5])])).shape
    (2,)
    """

    def __init__(self, vocab_size):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, 1)
        self.embedding.weight.data[...] = 0

    def forward(self, bags):
        """bags: (B, L) word indices padded with ``PAD``; -> (B,) probabilities of spam."""
        return self.embedding(bags).reshape(-1).sigmoid()


def train_local(model, bags, labels, epochs=1, lr=LR, batch_size=BATCH_SIZE, seed=0):
    """Mini-batch SGD on the summed binary cross-entropy (the book's delta = prediction -
    label, summed over the batch), the emails shuffled by ``seed``. Returns the mean loss of
    the last epoch. The padding row is put back to zero after every step."""
    if len(bags) != len(labels):
        raise ValueError(f"{len(bags)} bags but {len(labels)} labels")
    criterion = nn.BCELoss()
    optimizer = gdl.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(epochs):
        order = rng.permutation(len(bags))
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            target = labels[batch].astype(np.float32)
            prediction = model(pad_bags([bags[i] for i in batch]))      # predict
            loss = criterion(prediction, target) * len(batch)           # compare
            loss.backward()                                             # learn
            optimizer.step()
            model.embedding.weight.data[PAD] = 0
            total += float(loss.data)
    return total / max(1, len(bags))


def accuracy(model, bags, labels, batch_size=1000):
    """The fraction of emails whose prediction (p > 0.5 is spam) matches the label."""
    correct = 0
    with gdl.no_grad():
        for start in range(0, len(bags), batch_size):
            prediction = model(pad_bags(bags[start:start + batch_size])).data
            correct += int(((prediction > 0.5) == labels[start:start + batch_size]).sum())
    return correct / len(bags)
