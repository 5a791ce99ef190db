"""Chapter 11: neural networks that understand language: word embeddings on IMDB reviews.

The chapter's network reads a movie review as the set of its words and predicts whether the
review is positive. Its first layer is a bag of words: the hidden layer is the sum of one
learned row (an embedding) per word, so similar words end up with similar rows:

    l1 = sigmoid(sum of W0[word] for each word in the review)     W0: (vocabulary, 100)
    l2 = sigmoid(l1 W1)                                            W1: (100, 1)

Trained on the first 24,000 of the 25,000 reviews and tested on the last 1,000, as in the book
(which printed a test accuracy of 0.849 after 2 passes). ``similar(word)`` lists the words with
the nearest embeddings: for ``terrible`` the book showed dull, lacks, boring, disappointing...

The second half of the chapter fills in the blank: word2vec-style training (CBOW with negative
sampling) on all 25,000 reviews, predicting each word from the mean embedding of its neighbours
against 5 random words (alpha 0.05, 50 dimensions, window 2, 2 passes in the book), after which
embeddings add up: ``analogy(["terrible", "good"], ["bad"])`` lists words like ``terrific``,
``superb`` and ``great``. One pass (``--w2v-epochs``, about 6.3 million words) is enough here.
The context is 2 words on each side (the book's slice ``review[target_i + 1:target_i + window]``
kept only 1 word on the right).

How gdl makes it fast (the book's NumPy version takes minutes): the bag of words is the
compiled ``gdl.nn.EmbeddingBag`` gather, reviews are fed in mini-batches, and only the rows a
batch uses are gathered into a small leaf tensor, differentiated and written back with the
compiled sparse update ``sgd_rows_step_`` (a dense (vocabulary, dim) gradient is never made).
The book computed some gradients approximately (no sigmoid derivative in layer_1_delta; the full
delta, not its mean share, for each context word); autograd computes them exactly, so the
learning rates here are tuned for exact gradients: sentiment lr 0.05 on mini-batches of 25
reviews, 2 passes; word2vec lr 0.05 on mini-batches of 256 words.

>>> from gdl.book import ch11_embeddings
>>> ch11_embeddings.run(word2vec=False)["test_accuracy"]     # >= 0.85
"""
import time
from collections import Counter

import numpy as np

import gdl
from gdl import nn
from gdl._kernels.optim import sgd_rows_step_
from gdl.book._common import UserError, progress, say
from gdl.data import load_imdb

PROJECT = "ch11-embeddings"
BOOK_TEST_ACCURACY = 0.849


def add_arguments(parser):
    parser.add_argument("--no-word2vec", dest="word2vec", action="store_false",
                        help="only the sentiment network (skip the word2vec half)")
    parser.add_argument("--w2v-epochs", type=int, default=1,
                        help="passes of word2vec training over all reviews (1)")
    parser.add_argument("--hidden", type=int, default=100, help="embedding size (100)")


class SparseRows:
    """The rows of a large embedding table that one batch uses, as a small leaf tensor.

    ``rows`` are the distinct row numbers; ``local`` maps the batch's indices into them, and
    entries equal to ``padding`` to a zero row at the end (``pad``). After backward,
    ``step(lr)`` applies SGD to the used rows of the table only, with the compiled
    ``sgd_rows_step_``.
    """

    def __init__(self, table, indices, padding=None):
        self.table = table
        flat = indices.reshape(-1)
        used = flat != padding if padding is not None else np.ones(flat.shape, dtype=bool)
        self.rows, inverse = np.unique(flat[used], return_inverse=True)
        self.pad = len(self.rows)
        local = np.full(flat.shape, self.pad, dtype=np.int64)
        local[used] = inverse.reshape(-1)
        self.local = local.reshape(indices.shape)
        gathered = np.zeros((len(self.rows) + 1, table.shape[1]), dtype=table.dtype)
        gathered[:-1] = table[self.rows]
        self.tensor = gdl.Tensor(gathered, requires_grad=True)

    def step(self, lr):
        if self.tensor.grad is not None:
            grad = np.ascontiguousarray(self.tensor.grad.data[:-1])
            sgd_rows_step_(self.table, self.rows, grad, lr)


def pad_bags(bags, pad):
    """A list of index arrays -> (B, longest) int64, short bags filled with ``pad``."""
    longest = max(1, max(len(bag) for bag in bags))
    out = np.full((len(bags), longest), pad, dtype=np.int64)
    for i, bag in enumerate(bags):
        out[i, :len(bag)] = bag
    return out


class Vocabulary:
    """word <-> index; ``encode(text)`` gives the indices of the known words of a text."""

    def __init__(self, words):
        self.words = list(words)
        self.index = {word: i for i, word in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, text, distinct=False):
        index = self.index
        ids = [index[w] for w in text.split() if w in index]
        if distinct:
            ids = list(dict.fromkeys(ids))
        return np.array(ids, dtype=np.int64)


# ---- sentiment -----------------------------------------------------------------------------
class SentimentNetwork(nn.Module):
    """Bag of words -> sigmoid hidden layer -> sigmoid output (the probability of positive)."""

    def __init__(self, vocab_size, hidden_size=100):
        super().__init__()
        rng = gdl.random.rng()
        self.embedding = nn.EmbeddingBag(vocab_size, hidden_size)
        self.embedding.weight.data[...] = 0.2 * rng.random((vocab_size, hidden_size)) - 0.1
        self.output = nn.Linear(hidden_size, 1, bias=False)
        self.output.weight.data[...] = 0.2 * rng.random((1, hidden_size)) - 0.1

    def forward(self, bags):
        """bags: (B, L) word indices padded with vocab_size (a zero row); -> (B,) in (0, 1)."""
        return self.forward_rows(self.embedding.weight, bags)

    def forward_rows(self, table, bags):
        hidden = gdl.ops.EmbeddingBag.apply(table, bags).sigmoid()
        return self.output(hidden).sigmoid().reshape(-1)


def _with_pad_row(weight):
    """The embedding table plus one zero row, for padded bags."""
    return gdl.Tensor(np.vstack([weight.data, np.zeros((1, weight.shape[1]), weight.dtype)]))


def sentiment_accuracy(model, bags, labels, batch_size=1000):
    table = _with_pad_row(model.embedding.weight)
    pad = len(table) - 1
    correct = 0
    with gdl.no_grad():
        for i in range(0, len(bags), batch_size):
            batch = pad_bags(bags[i:i + batch_size], pad)
            prediction = model.forward_rows(table, batch).data
            correct += int(((prediction > 0.5) == labels[i:i + batch_size]).sum())
    return correct / len(bags)


def train_sentiment(model, bags, labels, epochs, lr, batch_size, test=None, quiet=False):
    """Mini-batch SGD on the summed binary cross-entropy (the book's delta = prediction - label,
    summed over the batch); only the embedding rows a batch uses are touched."""
    criterion = nn.BCELoss()
    output_optimizer = gdl.SGD(model.output.parameters(), lr=lr)
    history = {"train_accuracy": [], "test_accuracy": []}
    table = model.embedding.weight.data
    for epoch in range(epochs):
        correct = 0
        steps = range(0, len(bags), batch_size)
        for start in progress(steps, f"sentiment pass {epoch + 1}", quiet):
            batch = bags[start:start + batch_size]
            target = labels[start:start + batch_size].astype(np.float32)
            used = SparseRows(table, pad_bags(batch, -1), padding=-1)
            prediction = model.forward_rows(used.tensor, used.local)   # predict
            loss = criterion(prediction, target) * len(batch)       # compare
            loss.backward()                                         # learn
            used.step(lr)
            output_optimizer.step()
            correct += int(((prediction.data > 0.5) == target).sum())
        history["train_accuracy"].append(correct / len(bags))
        message = f"Iter:{epoch} Training Accuracy:{history['train_accuracy'][-1]:.4f}"
        if test is not None:
            history["test_accuracy"].append(sentiment_accuracy(model, *test))
            message += f" Test Accuracy:{history['test_accuracy'][-1]:.4f}"
        say(message, quiet)
    return history


# ---- word similarity ------------------------------------------------------------------------
def similar(weights, vocab, target, count=10):
    """The ``count`` words whose embeddings are nearest ``target``'s (Euclidean distance), as
    [(word, -distance), ...] like the book, the word itself left out."""
    if target not in vocab.index:
        raise UserError(f"{target!r} is not in the vocabulary")
    distances = np.sqrt(((weights - weights[vocab.index[target]]) ** 2).sum(axis=1))
    order = np.argsort(distances)
    found = [(vocab.words[i], -float(distances[i])) for i in order[:count + 1]
             if vocab.words[i] != target]
    return found[:count]


def analogy(weights, vocab, positive, negative, count=10):
    """Words nearest sum(positive) - sum(negative) of the unit-length embeddings (cosine
    similarity), the query words left out: ``analogy(W, vocab, ["terrible", "good"], ["bad"])``.
    """
    for word in list(positive) + list(negative):
        if word not in vocab.index:
            raise UserError(f"{word!r} is not in the vocabulary")
    unit = weights / np.maximum(np.linalg.norm(weights, axis=1, keepdims=True), 1e-12)
    query = (sum(unit[vocab.index[w]] for w in positive)
             - sum(unit[vocab.index[w]] for w in negative))
    scores = unit @ (query / np.linalg.norm(query))
    skip = {vocab.index[w] for w in list(positive) + list(negative)}
    found = []
    for i in np.argsort(-scores):
        if i not in skip:
            found.append((vocab.words[i], float(scores[i])))
        if len(found) == count:
            break
    return found


# ---- word2vec: filling in the blank ---------------------------------------------------------
def cbow_examples(reviews, window=2):
    """For every word of every review: its neighbours within ``window`` on each side (padded
    with -1) and the word itself. Returns (contexts (N, 2 * window), targets (N,))."""
    contexts, targets = [], []
    offsets = [o for o in range(-window, window + 1) if o != 0]
    for review in reviews:
        n = len(review)
        if n < 2:
            continue
        padded = np.concatenate([np.full(window, -1), review, np.full(window, -1)])
        positions = np.arange(n) + window
        contexts.append(np.stack([padded[positions + o] for o in offsets], axis=1))
        targets.append(review)
    return np.concatenate(contexts), np.concatenate(targets)


def train_word2vec(encoded, vocab_size, hidden_size=50, window=2, negative=5, lr=0.05,
                   epochs=1, batch_size=256, seed=0, quiet=False):
    """CBOW with negative sampling, in mini-batches; returns the (vocab, hidden) embeddings.

    Predicts each word (label 1) and ``negative`` words drawn from the corpus (label 0) from
    the mean embedding of its context, as the book does; the loss is the summed binary
    cross-entropy, so the gradient of each score is the book's layer_2 - layer_2_target.
    """
    rng = np.random.default_rng(seed)
    W0 = ((rng.random((vocab_size, hidden_size)) - 0.5) * 0.2).astype(np.float32)
    W1 = np.zeros((vocab_size, hidden_size), dtype=np.float32)
    corpus = np.concatenate(encoded)                 # negatives follow word frequency
    contexts, targets = cbow_examples(encoded, window)
    labels = np.zeros((1, negative + 1), dtype=np.float32)
    labels[0, 0] = 1
    criterion = nn.BCELoss()
    for epoch in range(epochs):
        order = rng.permutation(len(targets))
        steps = range(0, len(order), batch_size)
        for start in progress(steps, f"word2vec pass {epoch + 1}", quiet):
            batch = order[start:start + batch_size]
            context = contexts[batch]
            samples = np.concatenate(
                [targets[batch, None], corpus[rng.integers(0, len(corpus), (len(batch),
                                                                            negative))]], axis=1)
            inputs = SparseRows(W0, context, padding=-1)
            outputs = SparseRows(W1, samples)
            counts = (context >= 0).sum(axis=1, keepdims=True).astype(np.float32)
            hidden = gdl.ops.EmbeddingBag.apply(inputs.tensor, inputs.local) * (1.0 / counts)
            candidates = outputs.tensor.index_select(outputs.local)          # (B, K, D)
            scores = (candidates * hidden.reshape(len(batch), 1, hidden_size)).sum(axis=2)
            target = np.broadcast_to(labels, scores.shape)
            loss = criterion(scores.sigmoid(), target) * target.size
            loss.backward()
            inputs.step(lr)
            outputs.step(lr)
    return W0


# ---- the project ------------------------------------------------------------------------------
def load_reviews(limit=None):
    """(reviews, labels, vocabulary of the sentiment network, bags of distinct word indices)."""
    reviews, labels = load_imdb()
    if limit:
        reviews, labels = reviews[:limit], labels[:limit]
    vocab = Vocabulary(sorted({w for review in reviews for w in review.split()}))
    bags = [vocab.encode(review, distinct=True) for review in reviews]
    return reviews, labels, vocab, bags


def run(epochs=None, seed=0, batch_size=None, lr=None, quiet=False, word2vec=True,
        w2v_epochs=1, hidden=100, limit=None, test_size=1000):
    """Train the sentiment network (and word2vec); returns accuracies, neighbours and time."""
    start = time.perf_counter()
    gdl.manual_seed(seed)
    reviews, labels, vocab, bags = load_reviews(limit)
    n_train = len(bags) - test_size
    if n_train <= 0:
        raise UserError(f"{len(bags)} reviews leave none to train on after {test_size} for test")
    say(f"{len(reviews)} reviews, {len(vocab)} words: training on the first {n_train}, "
        f"testing on the last {test_size}", quiet)
    model = SentimentNetwork(len(vocab), hidden)
    history = train_sentiment(model, bags[:n_train], labels[:n_train], epochs or 2,
                              lr or 0.05, batch_size or 25,
                              test=(bags[n_train:], labels[n_train:]), quiet=quiet)
    results = {"test_accuracy": history["test_accuracy"][-1],
               "train_accuracy": history["train_accuracy"][-1],
               "sentiment_seconds": time.perf_counter() - start}
    weights = model.embedding.weight.data
    for word in ("beautiful", "terrible"):
        if word in vocab.index:
            neighbours = [w for w, _ in similar(weights, vocab, word)]
            say(f"similar({word!r}): {', '.join(neighbours)}", quiet)
            results[f"similar_{word}"] = neighbours
    if word2vec:
        w2v_start = time.perf_counter()
        counts = Counter(w for review in reviews for w in review.split())
        w2v_vocab = Vocabulary([w for w, _ in counts.most_common()])
        encoded = [w2v_vocab.encode(review) for review in reviews]
        say(f"word2vec on {sum(len(r) for r in encoded):,} words of {len(encoded)} reviews",
            quiet)
        embeddings = train_word2vec(encoded, len(w2v_vocab), epochs=w2v_epochs, seed=seed,
                                    quiet=quiet)
        for word in ("terrible", "beautiful"):
            if word in w2v_vocab.index:
                neighbours = [w for w, _ in similar(embeddings, w2v_vocab, word)]
                say(f"word2vec similar({word!r}): {', '.join(neighbours)}", quiet)
        words = [w for w, _ in analogy(embeddings, w2v_vocab, ["terrible", "good"], ["bad"])]
        say(f"analogy(['terrible', 'good'], ['bad']): {', '.join(words)}", quiet)
        results["analogy_terrible_good_bad"] = words
        results["word2vec_seconds"] = time.perf_counter() - w2v_start
    results["seconds"] = time.perf_counter() - start
    return results
