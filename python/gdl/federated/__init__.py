"""Chapter 15: federated learning, and keeping the updates private.

- ``gdl.federated.spam``: the chapter's spam model (one weight per word, summed, sigmoid), the
  Enron corpus split for training and testing, and local training with gdl.
- ``gdl.federated.fedavg``: federated averaging: participants train the global model on their
  own data, the server averages their updates weighted by example count.
- ``gdl.federated.secagg``: secure aggregation with pairwise masks that cancel in the sum
  (Bonawitz et al. 2017), robust to participants dropping out.
- ``gdl.federated.paillier``: the same sum under Paillier encryption (``pip install
  'gdl[he]'``), packed and with fast randomness so that a round takes seconds.
- ``gdl.federated.flower``: the same run over the network with Flower (``pip install
  'gdl[flower]'``), every participant a separate process.

>>> from gdl.federated import fedavg, spam
>>> data = spam.load_spam()
>>> server = fedavg.Server(spam.SpamModel(len(data.vocab)))
>>> people = fedavg.split_participants(data, ["Bob", "Alice", "Sue"])
>>> for r in range(10):
...     fedavg.run_round(server, people, fedavg.PlainAggregation(), round_index=r)
>>> spam.accuracy(server.model, data.test_bags, data.test_labels)       # ~0.985
"""
from gdl.federated.fedavg import (Layout, Participant, PlainAggregation, Server, Update,
                                  participant_names, run_round, split_participants)
from gdl.federated.paillier import PaillierAggregation
from gdl.federated.secagg import MaskedAggregation
from gdl.federated.spam import SpamData, SpamModel, accuracy, load_spam, prepare, train_local

__all__ = [
    "Layout", "MaskedAggregation", "PaillierAggregation", "Participant", "PlainAggregation",
    "Server", "SpamData", "SpamModel", "Update", "accuracy", "load_spam", "participant_names",
    "prepare", "run_round", "split_participants", "train_local",
]
