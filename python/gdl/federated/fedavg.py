"""Federated averaging (McMahan et al. 2017): the data stays with its owners, the model travels.

One round:

1. the server sends the global weights to every participant;
2. each participant trains them on its own emails for a few epochs and sends back its
   update, the difference ``delta = local - global`` and its example count ``n``;
3. the server averages the updates weighted by example count and moves the global model:
   ``global += sum(n_i delta_i) / sum(n_i)``, which is the count-weighted mean of the local
   models.

What travels is the *weighted update vector* ``[n_i * delta_i (flattened), n_i]``: the
aggregation only ever needs its sum over participants, so the same round runs with plain
summing (``PlainAggregation``), with pairwise masks that cancel in the sum
(``gdl.federated.secagg.MaskedAggregation``) or under Paillier encryption
(``gdl.federated.paillier.PaillierAggregation``), and the count travels inside the vector so a
participant that drops out is left out of both numerator and denominator.

A malformed update (a missing or unknown parameter name, a wrong shape or dtype, NaN or inf, a
count that is not a positive whole number) raises ``ValueError`` naming the participant and
the problem before anything is summed; the global model changes only after every check passed.

>>> server = Server(SpamModel(len(data.vocab)))
>>> people = split_participants(data, ["Bob", "Alice", "Sue"])
>>> run_round(server, people, PlainAggregation(), round_index=0)
"""
from dataclasses import dataclass

import numpy as np

from gdl.federated.spam import BATCH_SIZE, LR, SpamModel, train_local

NAMES = ["Bob", "Alice", "Sue"]


@dataclass
class Update:
    """What one participant sends back in plain FedAvg: its name, its number of training
    examples and ``delta`` = {parameter name: local weights - global weights}."""
    participant: str
    count: int
    delta: dict


class Layout:
    """The names, shapes and dtypes of a model's parameters: flattens an update into the
    weighted update vector and back.

    >>> layout = Layout(model.state_dict())
    >>> vector = layout.weighted_vector(update)        # [n * delta..., n], float64
    """

    def __init__(self, state):
        self.names = list(state)
        self.shapes = {k: np.shape(v) for k, v in state.items()}
        self.dtypes = {k: np.asarray(v).dtype for k, v in state.items()}
        self.sizes = {k: int(np.prod(self.shapes[k], dtype=np.int64)) for k in self.names}
        self.size = sum(self.sizes.values()) + 1          # + the example count

    def check(self, update):
        """Raise ValueError naming the participant unless ``update`` fits this layout."""
        who = f"update from {getattr(update, 'participant', '?')!r}"
        if not isinstance(update, Update):
            raise ValueError(f"{who}: expected an Update, got {type(update).__name__}")
        count = update.count
        if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) \
                or count < 1:
            raise ValueError(f"{who}: count must be a positive whole number, got {count!r}")
        if not isinstance(update.delta, dict):
            raise ValueError(f"{who}: delta must be a dict of arrays, got "
                             f"{type(update.delta).__name__}")
        missing = [k for k in self.names if k not in update.delta]
        unknown = [k for k in update.delta if k not in self.shapes]
        if missing or unknown:
            raise ValueError(f"{who}: wrong parameter names: missing {missing}, unknown "
                             f"{unknown}")
        for name in self.names:
            value = update.delta[name]
            if not isinstance(value, np.ndarray):
                raise ValueError(f"{who}: {name!r} must be a numpy array, got "
                                 f"{type(value).__name__}")
            if value.shape != self.shapes[name]:
                raise ValueError(f"{who}: {name!r} has shape {value.shape}, the model's is "
                                 f"{self.shapes[name]}")
            if value.dtype != self.dtypes[name]:
                raise ValueError(f"{who}: {name!r} has dtype {value.dtype}, the model's is "
                                 f"{self.dtypes[name]}")
            bad = int(np.size(value) - np.isfinite(value).sum())
            if bad:
                raise ValueError(f"{who}: {name!r} holds {bad} NaN or infinite values")

    def weighted_vector(self, update):
        """The checked update as ``[count * delta (every parameter, flattened), count]``."""
        self.check(update)
        parts = [update.delta[k].reshape(-1).astype(np.float64) * update.count
                 for k in self.names]
        return np.concatenate(parts + [np.array([float(update.count)])])

    def mean_delta(self, summed):
        """The sum of weighted update vectors -> {name: count-weighted mean delta}."""
        summed = np.asarray(summed, dtype=np.float64)
        if summed.shape != (self.size,):
            raise ValueError(f"the aggregate has shape {summed.shape}, expected ({self.size},)")
        total = summed[-1]
        if not np.isfinite(summed).all():
            raise ValueError("the aggregate holds NaN or infinite values")
        if not total >= 0.5:
            raise ValueError(f"the aggregate's example count is {total:g}: no update to apply")
        out, start = {}, 0
        for name in self.names:
            stop = start + self.sizes[name]
            out[name] = (summed[start:stop] / total).reshape(self.shapes[name])
            start = stop
        return out


class Server:
    """Holds the global model; ``state()`` is what it sends, ``apply(summed)`` moves it by the
    mean of the aggregated updates (checked first: on any error the model is unchanged)."""

    def __init__(self, model):
        self.model = model
        self.layout = Layout(model.state_dict())

    def state(self):
        return self.model.state_dict()

    def apply(self, summed):
        mean = self.layout.mean_delta(summed)
        state = self.model.state_dict()
        new = {k: (state[k] + mean[k]).astype(state[k].dtype) for k in self.layout.names}
        self.model.load_state_dict(new)


class Participant:
    """One data owner: its emails never leave it. ``fit(state, ...)`` trains a copy of the
    global model on them and returns the ``Update``."""

    def __init__(self, name, bags, labels, vocab_size):
        if len(bags) != len(labels) or len(bags) == 0:
            raise ValueError(f"participant {name!r} needs as many labels as emails (at least "
                             f"one), got {len(bags)} emails and {len(labels)} labels")
        self.name = name
        self.bags = list(bags)
        self.labels = np.asarray(labels)
        self.vocab_size = vocab_size

    def __len__(self):
        return len(self.bags)

    def fit(self, state, epochs=1, lr=LR, batch_size=BATCH_SIZE, seed=0):
        model = SpamModel(self.vocab_size)
        model.load_state_dict(state)
        train_local(model, self.bags, self.labels, epochs=epochs, lr=lr,
                    batch_size=batch_size, seed=seed)
        local = model.state_dict()
        return Update(self.name, len(self), {k: local[k] - state[k] for k in state})

    def __repr__(self):
        return f"Participant({self.name!r}, {len(self)} emails)"


def participant_names(count):
    """Bob, Alice, Sue, then participant4, participant5, ..."""
    return [NAMES[i] if i < len(NAMES) else f"participant{i + 1}" for i in range(count)]


def split_participants(data, names):
    """Deal the training emails of ``data`` (a SpamData) into consecutive, nearly equal
    slices, one ``Participant`` per name."""
    if not names:
        raise ValueError("a federated run needs at least one participant")
    slices = np.array_split(np.arange(len(data.train_bags)), len(names))
    return [Participant(name, [data.train_bags[i] for i in part], data.train_labels[part],
                        len(data.vocab)) for name, part in zip(names, slices)]


def round_seed(seed, round_index):
    """The shuffling seed of one round: the same for every participant, so participants that
    hold the same data make the same update."""
    return [seed, round_index]


class PlainAggregation:
    """The server sees every update and sums them (the book's first federated run)."""

    name = "plain"

    def aggregate(self, vectors, dropped=()):
        """{participant: weighted update vector} -> their sum, leaving out ``dropped``."""
        kept = {name: v for name, v in vectors.items() if name not in set(dropped)}
        if not kept:
            raise ValueError("no update to aggregate: every participant dropped out")
        size = len(next(iter(kept.values())))
        for name, vector in kept.items():
            vector = np.asarray(vector)
            if vector.shape != (size,) or vector.dtype.kind != "f":
                raise ValueError(f"update vector from {name!r}: expected {size} floats, got "
                                 f"shape {vector.shape} of {vector.dtype}")
            if not np.isfinite(vector).all():
                raise ValueError(f"update vector from {name!r} holds NaN or infinite values")
        return np.sum(list(kept.values()), axis=0)


def run_round(server, participants, aggregation, round_index, epochs=1, lr=LR,
              batch_size=BATCH_SIZE, seed=0, dropped=()):
    """One round of federated averaging; returns the participants' updates.

    ``dropped`` names participants that train and take part in the protocol's setup but whose
    update never reaches the server (with masking: after they masked it)."""
    state = server.state()
    updates = [p.fit(state, epochs=epochs, lr=lr, batch_size=batch_size,
                     seed=round_seed(seed, round_index)) for p in participants]
    vectors = {u.participant: server.layout.weighted_vector(u) for u in updates}
    server.apply(aggregation.aggregate(vectors, dropped=dropped))
    return updates


def train_centralised(data, epochs, lr=LR, batch_size=BATCH_SIZE, seed=0,
                      local_epochs=1):
    """The baseline: one model trained on every training email in one place, each pass with
    the seed FedAvg's round of the same number uses. Returns (model, [test accuracy after
    each round of ``local_epochs`` passes])."""
    from gdl.federated.spam import accuracy
    model = SpamModel(len(data.vocab))
    history = []
    for r in range(epochs):
        train_local(model, data.train_bags, data.train_labels, epochs=local_epochs, lr=lr,
                    batch_size=batch_size, seed=round_seed(seed, r))
        history.append(accuracy(model, data.test_bags, data.test_labels))
    return model, history
