"""Chapter 15: a federated update can leak its data: Bob's email, read off his update.

The chapter's warning: federated learning keeps the emails with their owners, but the update a
participant sends can still give them away. Bob trains the (all-zero) spam model on one email,
"my computer password is pizza", labelled ham, and sends his update. The spam model has one
weight per word and an email's gradient touches only the weights of its own words, so the
non-zero rows of Bob's update are exactly the words of his email: the server reads them off.

Then the same update goes through secure aggregation (``gdl.federated.secagg``) together with
Alice's and Sue's updates on their own emails. What the server receives from Bob is uniformly
random (every row non-zero, correlation with his real update about 0), and the sum it learns
mixes the three: Bob's five words hide among the thousands of rows the others touched.

>>> from gdl.book import ch15_leak
>>> ch15_leak.run()["leaked_words"]
['computer', 'is', 'my', 'password', 'pizza']
"""
import numpy as np

from gdl.book._common import UserError, say
from gdl.federated import fedavg
from gdl.federated.secagg import FixedPoint, MaskedAggregation
from gdl.federated.spam import LR, SpamModel, load_spam

PROJECT = "ch15-leak"
BOBS_EMAIL = "my computer password is pizza"


def add_arguments(parser):
    parser.add_argument("--email", default=BOBS_EMAIL,
                        help=f"Bob's email ({BOBS_EMAIL!r})")


def leaked_words(update, vocab):
    """The words whose weights an update changed: its non-zero rows."""
    rows = np.flatnonzero(np.abs(update.delta["embedding.weight"]).sum(axis=1))
    return sorted(vocab.words[i] for i in rows)


def run(email=BOBS_EMAIL, seed=0, lr=None, limit=None, test_size=1000, quiet=False):
    """Bob's update on one email, what it reveals, and what masking leaves of it."""
    try:
        data = load_spam(test_size=test_size, limit=limit)
    except ValueError as error:
        raise UserError(str(error)) from None
    vocab = data.vocab
    unknown = [w for w in email.split() if w not in vocab.index]
    if unknown:
        say(f"not in the vocabulary (no weight to leak): {', '.join(unknown)}", quiet)
    bag = vocab.encode(email)
    if len(bag) == 0:
        raise UserError(f"none of the words of {email!r} is in the vocabulary")
    model = SpamModel(len(vocab))
    server = fedavg.Server(model)
    bob = fedavg.Participant("Bob", [bag], np.array([0]), len(vocab))
    update = bob.fit(server.state(), epochs=1, lr=lr or LR, batch_size=1, seed=seed)
    words = leaked_words(update, vocab)
    say(f"Bob's email: {email!r}", quiet)
    say(f"the rows Bob's update changed: {', '.join(words)}", quiet)
    results = {"leaked_words": words,
               "leak_is_exact": words == sorted(set(email.split()) - set(unknown))}

    others = fedavg.split_participants(data, ["Alice", "Sue"])
    updates = [update] + [p.fit(server.state(), seed=seed) for p in others]
    vectors = {u.participant: server.layout.weighted_vector(u) for u in updates}
    masking = MaskedAggregation()
    total = masking.aggregate(vectors)
    seen = FixedPoint().decode(masking.last_masked["Bob"])
    correlation = float(np.corrcoef(seen, vectors["Bob"])[0, 1])
    touched = int(np.count_nonzero(total[:-1]))
    say(f"with secure aggregation the server gets from Bob {np.count_nonzero(seen):,} non-zero "
        f"values of {seen.size:,}, correlation with his update {correlation:+.4f}", quiet)
    say(f"the sum of Bob's, Alice's and Sue's updates changes {touched:,} rows: Bob's "
        f"{len(words)} words are somewhere among them", quiet)
    results.update(masked_correlation=correlation,
                   masked_nonzero_fraction=float(np.count_nonzero(seen) / seen.size),
                   rows_in_sum=touched)
    return results
