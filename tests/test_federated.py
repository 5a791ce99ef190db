"""Chapter 15: federated averaging, secure aggregation, Paillier aggregation and Flower.

Paillier tests use 512-bit keys through ``insecure_demo_keys=True``: they check correctness,
not security, and a 2048-bit key would only make them slower.
"""
import numpy as np
import pytest

from gdl import book, cli
from gdl.book import ch15_federated, ch15_leak
from gdl.federated import fedavg, secagg, spam
from gdl.federated.fedavg import (Participant, PlainAggregation, Server, Update,
                                  participant_names, round_seed, run_round)
from gdl.federated.spam import SpamModel, prepare, train_local

NAMES = ["Bob", "Alice", "Sue"]
TEST_KEY_BITS = 512                         # test-only: insecure, behind insecure_demo_keys


def toy_corpus(n=240, seed=0):
    """Emails of 5 spam or 5 ham words among 8 common ones; every third one is spam."""
    rng = np.random.default_rng(seed)
    spam_words = [f"spam{i}" for i in range(30)]
    ham_words = [f"ham{i}" for i in range(30)]
    common = [f"word{i}" for i in range(40)]
    emails, labels = [], []
    for i in range(n):
        label = int(i % 3 == 0)
        words = list(rng.choice(spam_words if label else ham_words, 5)) + list(
            rng.choice(common, 8))
        emails.append(" ".join(words))
        labels.append(label)
    return emails, np.array(labels)


@pytest.fixture(scope="module")
def toy():
    emails, labels = toy_corpus()
    return prepare(emails, labels, test_size=60, min_count=1)


def _people(data, names=NAMES):
    return fedavg.split_participants(data, names)


def _vectors(size=5000, seed=0, names=NAMES):
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(size) * 50 for name in names}


# ---- registry and data ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ch15-federated", "ch15-leak"])
def test_projects_are_registered(name):
    module = book.load(name)
    assert module.PROJECT == name == book.find(name).name
    assert callable(module.run) and module.__doc__


def test_prepare_splits_and_builds_the_vocabulary_from_training_emails_only():
    data = prepare(["buy pills now", "meeting at noon", "buy now", "pills pills"], [1, 0, 1, 1],
                   test_size=1, min_count=1, seed=0)
    assert len(data.train_bags) == 3 and len(data.test_bags) == 1
    assert data.vocab.words[0] == "<pad>"
    for bag in data.train_bags:
        assert len(bag) == len(set(bag.tolist())) and (bag > 0).all()
    with pytest.raises(ValueError, match="test_size"):
        prepare(["a", "b"], [0, 1], test_size=2)


# ---- federated averaging -------------------------------------------------------------------
def test_fedavg_equals_centralised_training_when_everyone_holds_the_same_data(toy):
    everyone = [Participant(name, toy.train_bags, toy.train_labels, len(toy.vocab))
                for name in NAMES]
    server = Server(SpamModel(len(toy.vocab)))
    central = SpamModel(len(toy.vocab))
    for r in range(3):
        run_round(server, everyone, PlainAggregation(), r, lr=0.05, batch_size=20, seed=7)
        train_local(central, toy.train_bags, toy.train_labels, lr=0.05, batch_size=20,
                    seed=round_seed(7, r))
    federated = server.model.embedding.weight.data
    assert np.abs(federated).max() > 0.1                  # it learned something
    np.testing.assert_allclose(federated, central.embedding.weight.data, atol=1e-6)


def test_fedavg_averages_local_models_weighted_by_example_count(toy):
    sizes = [20, 50, 110]
    bounds = np.cumsum([0] + sizes)
    people = [Participant(name, toy.train_bags[a:b], toy.train_labels[a:b], len(toy.vocab))
              for name, a, b in zip(NAMES, bounds[:-1], bounds[1:])]
    server = Server(SpamModel(len(toy.vocab)))
    start = server.state()
    run_round(server, people, PlainAggregation(), 0, seed=3)
    local = []
    for p in people:
        model = SpamModel(len(toy.vocab))
        model.load_state_dict(start)
        train_local(model, p.bags, p.labels, seed=round_seed(3, 0))
        local.append(model.embedding.weight.data)
    expected = sum(n * w for n, w in zip(sizes, local)) / sum(sizes)
    np.testing.assert_allclose(server.model.embedding.weight.data, expected, atol=1e-6)


def _malformed(kind, layout):
    delta = {k: np.zeros(s, np.float32) for k, s in layout.shapes.items()}
    name = layout.names[0]
    count = 10
    if kind == "shape":
        delta[name] = np.zeros((3, 1), np.float32)
    elif kind == "nan":
        delta[name][5] = np.nan
    elif kind == "inf":
        delta[name][2] = -np.inf
    elif kind == "dtype":
        delta[name] = delta[name].astype(np.float64)
    elif kind == "unknown key":
        delta["output.weight"] = np.zeros(1, np.float32)
    elif kind == "missing key":
        del delta[name]
    elif kind == "count":
        count = 0
    return Update("Sue", count, delta)


@pytest.mark.parametrize("kind, message", [
    ("shape", r"'Sue'.*shape \(3, 1\)"), ("nan", "'Sue'.*NaN"), ("inf", "'Sue'.*infinite"),
    ("dtype", "'Sue'.*dtype float64"), ("unknown key", "'Sue'.*unknown.*output.weight"),
    ("missing key", "'Sue'.*missing.*embedding.weight"), ("count", "'Sue'.*count")])
@pytest.mark.parametrize("aggregation", ["plain", "masked"])
def test_a_malformed_update_is_rejected_and_the_model_kept(toy, monkeypatch, kind, message,
                                                           aggregation):
    people = _people(toy)
    server = Server(SpamModel(len(toy.vocab)))
    run_round(server, people, PlainAggregation(), 0)
    before = server.state()
    monkeypatch.setattr(people[2], "fit", lambda state, **kw: _malformed(kind, server.layout))
    method = PlainAggregation() if aggregation == "plain" else secagg.MaskedAggregation()
    with pytest.raises(ValueError, match=message):
        run_round(server, people, method, 1)
    for name, value in server.state().items():
        assert np.array_equal(value, before[name])


def test_the_server_rejects_a_bad_aggregate_and_keeps_the_model(toy):
    server = Server(SpamModel(len(toy.vocab)))
    before = server.state()
    for summed, message in [(np.zeros(3), "shape"), (np.full(server.layout.size, np.nan), "NaN"),
                            (np.zeros(server.layout.size), "count")]:
        with pytest.raises(ValueError, match=message):
            server.apply(summed)
    assert np.array_equal(server.state()["embedding.weight"], before["embedding.weight"])


# ---- secure aggregation --------------------------------------------------------------------
@pytest.mark.parametrize("dropped", [(), ("Sue",), ("Bob",)])
def test_masked_aggregation_equals_plain_aggregation(dropped):
    vectors = _vectors()
    masked = secagg.MaskedAggregation().aggregate(vectors, dropped=dropped)
    plain = PlainAggregation().aggregate(vectors, dropped=dropped)
    np.testing.assert_allclose(masked, plain, rtol=0, atol=1e-8)


def test_masked_fedavg_round_equals_plain_with_a_dropout(toy):
    results = []
    for method in (PlainAggregation(), secagg.MaskedAggregation()):
        server = Server(SpamModel(len(toy.vocab)))
        for r in range(2):
            run_round(server, _people(toy), method, r, dropped=["Alice"])
        results.append(server.model.embedding.weight.data)
    np.testing.assert_allclose(results[0], results[1], atol=1e-7)


def test_a_single_masked_update_is_indistinguishable_from_noise():
    vectors = _vectors(size=20000)
    aggregation = secagg.MaskedAggregation()
    aggregation.aggregate(vectors)
    seen = aggregation.last_masked["Bob"]
    assert seen.dtype == np.uint64 and seen.shape == vectors["Bob"].shape
    correlation = np.corrcoef(secagg.FixedPoint().decode(seen), vectors["Bob"])[0, 1]
    assert abs(correlation) < 0.03
    bits = np.unpackbits(seen.view(np.uint8))
    assert abs(bits.mean() - 0.5) < 0.005                      # uniform bits
    aggregation.aggregate(vectors)
    assert not np.array_equal(aggregation.last_masked["Bob"], seen)     # fresh masks per round


def test_masked_aggregation_needs_a_threshold_of_survivors():
    with pytest.raises(ValueError, match="needs 2 survivors"):
        secagg.MaskedAggregation().aggregate(_vectors(100), dropped=["Bob", "Sue"])
    with pytest.raises(ValueError, match="not participants"):
        secagg.MaskedAggregation().aggregate(_vectors(100), dropped=["Eve"])


def test_the_masked_server_rejects_malformed_vectors():
    server = secagg.SecAggServer(size=10, threshold=2)
    clients = [secagg.SecAggClient(name, i + 1) for i, name in enumerate(NAMES)]
    server.collect_keys({c.name: c.public_keys() for c in clients})
    with pytest.raises(ValueError, match="'Bob' has shape"):
        server.collect_masked("Bob", np.zeros(9, np.uint64))
    with pytest.raises(ValueError, match="'Bob': expected a uint64"):
        server.collect_masked("Bob", np.zeros(10, np.float64))
    with pytest.raises(ValueError, match="'Eve', who is not in the roster"):
        server.collect_masked("Eve", np.zeros(10, np.uint64))


def test_shamir_any_threshold_shares_rebuild_the_secret():
    secret = 2 ** 255 + 12345
    shares = secagg.shamir_share(secret, 3, [1, 2, 3, 4, 5])
    for subset in ([1, 2, 3], [2, 4, 5], [1, 3, 5, 4]):
        assert secagg.shamir_reconstruct({x: shares[x] for x in subset}) == secret
    assert secagg.shamir_reconstruct({x: shares[x] for x in [1, 2]}) != secret


def test_a_participant_never_reveals_both_secrets_of_anyone():
    clients = {name: secagg.SecAggClient(name, i + 1) for i, name in enumerate(NAMES)}
    roster = {name: c.public_keys() for name, c in clients.items()}
    outgoing = {name: c.share_keys(roster, 2) for name, c in clients.items()}
    for name, sealed in secagg.SecAggServer.route_shares(outgoing).items():
        clients[name].receive_shares(sealed)
    with pytest.raises(ValueError, match="both a survivor and dropped"):
        clients["Bob"].unmasking_shares(["Bob", "Sue"], ["Sue"])
    with pytest.raises(ValueError, match="fewer than the threshold"):
        clients["Bob"].unmasking_shares(["Bob"], ["Alice", "Sue"])
    answer = clients["Bob"].unmasking_shares(["Bob", "Alice"], ["Sue"])
    assert set(answer["s"]) == {"Sue"} and set(answer["b"]) == {"Bob", "Alice"}


def test_sealed_shares_are_authenticated():
    key = bytes(range(32))
    blob = secagg.seal(key, b"a share")
    assert secagg.open_sealed(key, blob) == b"a share"
    tampered = blob[:20] + bytes([blob[20] ^ 1]) + blob[21:]
    with pytest.raises(ValueError, match="authentication"):
        secagg.open_sealed(key, tampered)
    with pytest.raises(ValueError, match="authentication"):
        secagg.open_sealed(bytes(32), blob)


def test_diffie_hellman_both_ends_agree():
    a_secret, a_public = secagg.dh_key_pair()
    b_secret, b_public = secagg.dh_key_pair()
    assert secagg.dh_agree(a_secret, b_public, b"x") == secagg.dh_agree(b_secret, a_public, b"x")
    assert secagg.dh_agree(a_secret, b_public, b"x") != secagg.dh_agree(a_secret, b_public, b"y")
    with pytest.raises(ValueError, match="public key"):
        secagg.dh_agree(a_secret, 1, b"x")


# ---- Paillier ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def paillier():
    pytest.importorskip("phe")
    from gdl.federated import paillier
    return paillier


@pytest.mark.parametrize("obfuscation", ["djn", "phe"])
@pytest.mark.parametrize("dropped", [(), ("Alice",)])
def test_paillier_aggregation_decrypts_to_the_plain_sum(paillier, obfuscation, dropped):
    vectors = _vectors(size=300)
    aggregation = paillier.PaillierAggregation(key_bits=TEST_KEY_BITS, insecure_demo_keys=True,
                                               obfuscation=obfuscation)
    total = aggregation.aggregate(vectors, dropped=dropped)
    plain = PlainAggregation().aggregate(vectors, dropped=dropped)
    np.testing.assert_allclose(total, plain, rtol=0, atol=3 * 2.0 ** -24)
    assert aggregation.last_timing["ciphertexts"] == aggregation.packer.chunks(300)
    assert set(aggregation.last_timing["encrypt_seconds"]) == set(NAMES)


def test_paillier_ciphertexts_are_phe_ciphertexts_of_the_packed_values(paillier):
    aggregation = paillier.PaillierAggregation(key_bits=TEST_KEY_BITS, insecure_demo_keys=True)
    values = np.array([-3.25, 0.0, 1e-6, 1000.5])
    plaintexts = aggregation.packer.pack(values)
    encrypted = aggregation.encrypt("Bob", values)
    private = aggregation.key_holder._private_key
    assert [private.raw_decrypt(c.ciphertext(be_secure=False)) for c in encrypted] == plaintexts
    assert (encrypted[0] + encrypted[0]).public_key == aggregation.public_key
    unpacked = aggregation.packer.unpack(plaintexts, addends=1, length=4)
    np.testing.assert_allclose(unpacked, values, atol=2.0 ** -24)


def test_paillier_keys_under_2048_bits_need_the_insecure_demo_option(paillier):
    with pytest.raises(ValueError, match="insecure.*insecure_demo_keys=True"):
        paillier.PaillierAggregation(key_bits=1024)
    assert paillier.SECURE_KEY_BITS == 2048
    assert cli.main(["run", "ch15-federated", "--aggregation", "paillier", "--key-bits",
                     "512", "--quiet"]) == 2


def test_paillier_rejects_an_update_under_a_wrong_key_and_keeps_the_model(paillier, toy,
                                                                         monkeypatch):
    aggregation = paillier.PaillierAggregation(key_bits=TEST_KEY_BITS, insecure_demo_keys=True)
    other = paillier.KeyHolder(TEST_KEY_BITS, insecure_demo_keys=True)
    server = Server(SpamModel(len(toy.vocab)))
    run_round(server, _people(toy), aggregation, 0)
    before = server.state()
    honest = aggregation.encrypt

    def sue_uses_another_key(name, vector):
        if name != "Sue":
            return honest(name, vector)
        return paillier.Encryptor(other.public_key).encrypt(aggregation.packer.pack(vector))

    monkeypatch.setattr(aggregation, "encrypt", sue_uses_another_key)
    with pytest.raises(ValueError, match="'Sue': encrypted under a different public key"):
        run_round(server, _people(toy), aggregation, 1)
    assert np.array_equal(server.state()["embedding.weight"], before["embedding.weight"])
    monkeypatch.setattr(aggregation, "encrypt", lambda name, vector: honest(name, vector)[:-1])
    with pytest.raises(ValueError, match="ciphertexts, expected"):
        run_round(server, _people(toy), aggregation, 1)
    assert np.array_equal(server.state()["embedding.weight"], before["embedding.weight"])


def test_paillier_refuses_nan_and_out_of_range_values(paillier):
    packer = paillier.SlotPacker(modulus_bits=TEST_KEY_BITS)
    with pytest.raises(ValueError, match="'Bob'.*NaN"):
        packer.pack(np.array([1.0, np.nan]), who="participant 'Bob'")
    with pytest.raises(ValueError, match="outside the packing range"):
        packer.pack(np.array([1e9]))


def test_the_key_holder_decrypts_only_aggregates(paillier):
    aggregation = paillier.PaillierAggregation(key_bits=TEST_KEY_BITS, insecure_demo_keys=True)
    bob = aggregation.encrypt("Bob", np.ones(10))
    with pytest.raises(ValueError, match="only aggregates of at least 2"):
        aggregation.key_holder.decrypt_aggregate(bob, addends=1)


# ---- the projects on Enron -----------------------------------------------------------------
def test_ch15_federated_reaches_98_percent_and_masking_changes_nothing(data_home):
    plain = ch15_federated.run(quiet=True)
    assert plain["test_accuracy"] >= 0.98
    assert plain["centralised_accuracy"] >= 0.98
    assert len(plain["accuracy_per_round"]) == 10
    masked = ch15_federated.run(aggregation="masked", rounds=3, baseline=False, quiet=True)
    assert masked["accuracy_per_round"] == plain["accuracy_per_round"][:3]


def test_ch15_federated_paillier_matches_plain(data_home, paillier):
    options = dict(rounds=2, baseline=False, limit=1500, test_size=300, quiet=True)
    plain = ch15_federated.run(**options)
    encrypted = ch15_federated.run(aggregation="paillier", key_bits=TEST_KEY_BITS,
                                   insecure_demo_keys=True, **options)
    assert encrypted["accuracy_per_round"] == plain["accuracy_per_round"]
    assert encrypted["paillier_seconds_per_round"] > 0


def test_ch15_leak_reads_bobs_words_off_his_update(data_home):
    result = ch15_leak.run(quiet=True)
    assert result["leaked_words"] == ["computer", "is", "my", "password", "pizza"]
    assert result["leak_is_exact"]
    assert abs(result["masked_correlation"]) < 0.05
    assert result["masked_nonzero_fraction"] > 0.99


def test_flower_run_on_loopback_processes_matches_the_in_process_run(data_home):
    pytest.importorskip("flwr")
    from gdl.federated import flower
    options = dict(rounds=2, limit=1200, test_size=300)
    result = flower.run_loopback(participants=3, timeout=240, quiet=True, **options)
    data = spam.load_spam(test_size=300, limit=1200)
    server = Server(SpamModel(len(data.vocab)))
    people = fedavg.split_participants(data, participant_names(3))
    expected = []
    for r in range(2):
        run_round(server, people, PlainAggregation(), r)
        expected.append(spam.accuracy(server.model, data.test_bags, data.test_labels))
    assert result["accuracy"] == pytest.approx(expected, abs=1 / 300 + 1e-9)
