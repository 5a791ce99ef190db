"""Secure aggregation with pairwise additive masks (Bonawitz et al., CCS 2017), dropout-robust.

The server must learn the sum of the participants' update vectors and nothing else. Every
pair of participants (u, v) agrees on a seed by Diffie-Hellman, and both stretch it into the
same mask ``m_uv``; u adds it and v subtracts it, so the masks cancel in the sum:

    y_u = x_u + PRG(b_u) + sum over v > u of m_uv - sum over v < u of m_vu     (mod 2^64)
    sum of y_u = sum of x_u + sum of PRG(b_u)

Each ``y_u`` alone is uniformly random: it is indistinguishable from noise. The vectors are
fixed-point integers mod 2^64 (``FixedPoint``), so masks cancel exactly, not to float error.

Dropouts. Before masking, every participant splits two secrets among all participants with
Shamir's ``threshold``-of-n secret sharing: its mask key ``s_u^SK`` and its self-mask seed
``b_u``. When u drops out after the others masked, the survivors hand the server their shares of
``s_u^SK``; the server rebuilds u's pairwise masks and removes them from the sum. For every
survivor, they hand over shares of ``b_u`` instead, and the server removes ``PRG(b_u)``. An
honest participant never reveals both secrets of the same participant, so an update that
arrives late from a participant declared dropped stays hidden behind its self-mask (the double
masking of the paper).

Threat model (what this implementation does and does not give you):

- It protects the individual updates from an honest-but-curious server, and from any coalition
  of fewer than ``threshold`` participants with it, as long as at most ``n - threshold``
  participants drop out (``threshold`` defaults to a majority, n // 2 + 1).
- Real key agreement: finite-field Diffie-Hellman in the 2048-bit MODP group of RFC 3526
  (a safe prime, generator 2) with 256-bit secret exponents, keys derived with SHA-256. The
  shares travel through the server encrypted for their recipient (a SHAKE-256 key stream and an
  HMAC-SHA256 tag, with keys from a second Diffie-Hellman pair), so the server cannot read them.
  Masks are SHAKE-256 output. Fresh keys and seeds every round.
- Not implemented: authenticating participants (the paper's active-security variant signs the
  public keys with a PKI; without it a malicious server can pose as participants and unmask a
  real one), the consistency-check round, constant-time big-integer arithmetic (Python's
  ``pow`` leaks timing), and an audited cipher (use AES-GCM from a vetted library in
  production). In this simulation all roles live in one process; separation is by convention
  (``SecAggServer`` is only handed what a server would receive).
- The server learns the sum; with two survivors, a survivor colluding with the server learns
  the other's update. Masking hides inputs, it does not validate them: a participant can send
  any vector of the right length (poisoning) and the server cannot tell. The server checks
  the format of every masked vector (name, length, dtype) and the unmasked aggregate.

>>> aggregation = MaskedAggregation()
>>> total = aggregation.aggregate({"Bob": x_bob, "Alice": x_alice, "Sue": x_sue},
...                               dropped=["Sue"])             # == x_bob + x_alice
"""
import hashlib
import hmac
import json
import secrets

import numpy as np

# RFC 3526, section 3: the 2048-bit MODP group (group 14), a safe prime p = 2q + 1.
GROUP_PRIME = int(
    "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74"
    "020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f1437"
    "4fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7ed"
    "ee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf05"
    "98da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb"
    "9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3b"
    "e39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf695581718"
    "3995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff", 16)
GENERATOR = 2
EXPONENT_BITS = 256
FIELD_PRIME = 2 ** 521 - 1          # a Mersenne prime: Shamir shares live in GF(2^521 - 1)
SEED_BYTES = 32


# ---- building blocks ---------------------------------------------------------------------
def dh_key_pair():
    """(secret exponent, public key g^secret mod p) in the RFC 3526 group."""
    secret = secrets.randbits(EXPONENT_BITS) | 1 << (EXPONENT_BITS - 1)
    return secret, pow(GENERATOR, secret, GROUP_PRIME)


def dh_agree(secret, public, purpose):
    """The 32-byte key both ends of a Diffie-Hellman exchange derive for ``purpose`` (bytes)."""
    if not isinstance(public, int) or not 1 < public < GROUP_PRIME - 1:
        raise ValueError("a Diffie-Hellman public key must be an integer in (1, p - 1)")
    shared = pow(public, secret, GROUP_PRIME)
    return hashlib.sha256(b"gdl-secagg/" + purpose + shared.to_bytes(256, "big")).digest()


def expand(seed, size):
    """``size`` uint64 words of SHAKE-256(seed): the mask a seed stands for."""
    stream = hashlib.shake_256(b"gdl-secagg/mask" + seed).digest(8 * size)
    return np.frombuffer(stream, dtype="<u8").astype(np.uint64)


def shamir_share(secret, threshold, xs):
    """Split ``secret`` (an int below FIELD_PRIME) into {x: share} for the non-zero points
    ``xs``; any ``threshold`` shares rebuild it, fewer tell nothing about it."""
    if not 0 <= secret < FIELD_PRIME:
        raise ValueError("the secret must be an integer in [0, 2^521 - 1)")
    if not 1 <= threshold <= len(xs):
        raise ValueError(f"threshold must be between 1 and {len(xs)}, got {threshold}")
    coefficients = [secret] + [secrets.randbelow(FIELD_PRIME) for _ in range(threshold - 1)]
    shares = {}
    for x in xs:
        y = 0
        for c in reversed(coefficients):          # Horner's rule
            y = (y * x + c) % FIELD_PRIME
        shares[x] = y
    return shares


def shamir_reconstruct(shares):
    """The secret from {x: share}: the polynomial through the points, evaluated at 0."""
    secret = 0
    for xi, yi in shares.items():
        numerator, denominator = 1, 1
        for xj in shares:
            if xj != xi:
                numerator = numerator * -xj % FIELD_PRIME
                denominator = denominator * (xi - xj) % FIELD_PRIME
        secret = (secret + yi * numerator * pow(denominator, -1, FIELD_PRIME)) % FIELD_PRIME
    return secret


def seal(key, message):
    """Encrypt and authenticate ``message`` (bytes) under a 32-byte key."""
    nonce = secrets.token_bytes(16)
    stream = hashlib.shake_256(b"gdl-secagg/stream" + key + nonce).digest(len(message))
    body = (int.from_bytes(message, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        len(message), "big")
    tag = hmac.new(hashlib.sha256(b"gdl-secagg/mac" + key).digest(), nonce + body,
                   hashlib.sha256).digest()
    return nonce + body + tag


def open_sealed(key, blob):
    """The message of ``seal(key, message)``; ValueError if it was altered or the key is
    wrong."""
    if not isinstance(blob, bytes) or len(blob) < 48:
        raise ValueError("a sealed share must be bytes of at least 48")
    nonce, body, tag = blob[:16], blob[16:-32], blob[-32:]
    expected = hmac.new(hashlib.sha256(b"gdl-secagg/mac" + key).digest(), nonce + body,
                        hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise ValueError("a sealed share failed authentication (altered, or the wrong key)")
    stream = hashlib.shake_256(b"gdl-secagg/stream" + key + nonce).digest(len(body))
    return (int.from_bytes(body, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        len(body), "big")


class FixedPoint:
    """Floats <-> integers mod 2^64 with ``frac_bits`` bits after the binary point, two's
    complement, so that sums mod 2^64 of up to ``parties`` encodings decode exactly."""

    def __init__(self, frac_bits=32):
        self.frac_bits = frac_bits
        self.scale = float(2 ** frac_bits)

    def encode(self, values, parties, who="a participant"):
        values = np.asarray(values, dtype=np.float64)
        if not np.isfinite(values).all():
            raise ValueError(f"{who}: the update holds NaN or infinite values")
        limit = 2.0 ** (63 - self.frac_bits) / max(1, parties)
        largest = float(np.abs(values).max(initial=0.0))
        if largest >= limit:
            raise ValueError(f"{who}: update value {largest:.4g} is outside the fixed-point "
                             f"range +-{limit:.4g} ({self.frac_bits} fraction bits, "
                             f"{parties} participants)")
        return np.rint(values * self.scale).astype(np.int64).view(np.uint64)

    def decode(self, words):
        return np.asarray(words, dtype=np.uint64).view(np.int64) / self.scale


# ---- the protocol ------------------------------------------------------------------------
class SecAggClient:
    """One participant's side of the protocol; its secrets never leave this object except
    as shares sealed for their recipient.

    Steps, in order: ``public_keys()`` -> ``share_keys(roster, threshold)`` ->
    ``receive_shares(sealed)`` -> ``masked_input(words)`` -> ``unmasking_shares(...)``.
    """

    def __init__(self, name, x):
        self.name = name
        self.x = x                                   # this participant's Shamir point
        self._c_secret, self._c_public = dh_key_pair()     # for sealing shares
        self._s_secret, self._s_public = dh_key_pair()     # for pairwise masks
        self._self_seed = secrets.token_bytes(SEED_BYTES)
        self._received = {}
        self.roster = None

    def public_keys(self):
        return {"x": self.x, "c_pk": self._c_public, "s_pk": self._s_public}

    def share_keys(self, roster, threshold):
        """Shamir-share the mask key and self-mask seed among ``roster`` ({name: public
        keys}); returns {recipient: sealed share}."""
        if roster.get(self.name) != self.public_keys():
            raise ValueError(f"{self.name!r}: the roster does not hold my own public keys")
        self.roster = roster
        self.threshold = threshold
        points = [keys["x"] for keys in roster.values()]
        s_shares = shamir_share(self._s_secret, threshold, points)
        b_shares = shamir_share(int.from_bytes(self._self_seed, "big"), threshold, points)
        sealed = {}
        for name, keys in roster.items():
            message = json.dumps({"from": self.name, "to": name,
                                  "s": str(s_shares[keys["x"]]),
                                  "b": str(b_shares[keys["x"]])}).encode()
            sealed[name] = seal(dh_agree(self._c_secret, keys["c_pk"], b"seal"), message)
        return sealed

    def receive_shares(self, sealed):
        """Open the shares the others sealed for me ({sender: sealed share})."""
        for sender, blob in sealed.items():
            if sender not in self.roster:
                raise ValueError(f"{self.name!r}: a share from {sender!r}, who is not in the "
                                 "roster")
            key = dh_agree(self._c_secret, self.roster[sender]["c_pk"], b"seal")
            share = json.loads(open_sealed(key, blob))
            if share["from"] != sender or share["to"] != self.name:
                raise ValueError(f"{self.name!r}: a share from {sender!r} is addressed "
                                 f"{share['from']!r} -> {share['to']!r}")
            self._received[sender] = {"s": int(share["s"]), "b": int(share["b"])}

    def masked_input(self, words):
        """``words`` (uint64, the fixed-point update) plus the self mask and the pairwise
        masks, mod 2^64."""
        words = np.asarray(words, dtype=np.uint64)
        masked = words + expand(self._self_seed, words.size)
        for name, keys in self.roster.items():
            if name == self.name:
                continue
            mask = expand(dh_agree(self._s_secret, keys["s_pk"], b"mask"), words.size)
            if self.x < keys["x"]:
                masked += mask
            else:
                masked -= mask
        return masked

    def unmasking_shares(self, survivors, dropped):
        """My shares of the dropped participants' mask keys and of the survivors' self-mask
        seeds; refuses a request that would reveal both secrets of anyone, or that leaves
        fewer survivors than the threshold."""
        survivors, dropped = set(survivors), set(dropped)
        if survivors & dropped:
            raise ValueError(f"{self.name!r}: {sorted(survivors & dropped)} cannot be both a "
                             "survivor and dropped")
        if self.name not in survivors:
            raise ValueError(f"{self.name!r}: asked to unmask although not a survivor")
        if not survivors | dropped <= set(self.roster):
            raise ValueError(f"{self.name!r}: the request names unknown participants "
                             f"{sorted(survivors | dropped - set(self.roster))}")
        if len(survivors) < self.threshold:
            raise ValueError(f"{self.name!r}: only {len(survivors)} survivors, fewer than the "
                             f"threshold {self.threshold}")
        return {"s": {u: self._received[u]["s"] for u in dropped},
                "b": {u: self._received[u]["b"] for u in survivors}}


class SecAggServer:
    """The server's side: routes keys and sealed shares, collects masked vectors, and
    unmasks their sum. It sees nothing else."""

    def __init__(self, size, threshold):
        self.size = size
        self.threshold = threshold
        self.roster = {}
        self.masked = {}

    def collect_keys(self, keys):
        """{name: public keys} -> the roster every participant receives."""
        if len(keys) < self.threshold:
            raise ValueError(f"{len(keys)} participants, fewer than the threshold "
                             f"{self.threshold}")
        points = [k["x"] for k in keys.values()]
        if len(set(points)) != len(points) or min(points) < 1:
            raise ValueError("participants' Shamir points must be distinct and positive")
        self.roster = {name: dict(k) for name, k in keys.items()}
        return self.roster

    @staticmethod
    def route_shares(outgoing):
        """{sender: {recipient: sealed}} -> {recipient: {sender: sealed}}."""
        incoming = {}
        for sender, sealed in outgoing.items():
            for recipient, blob in sealed.items():
                incoming.setdefault(recipient, {})[sender] = blob
        return incoming

    def collect_masked(self, name, masked):
        """Accept one masked vector; ValueError naming the participant if it is malformed."""
        if name not in self.roster:
            raise ValueError(f"masked update from {name!r}, who is not in the roster")
        if name in self.masked:
            raise ValueError(f"masked update from {name!r}: already received one this round")
        if not isinstance(masked, np.ndarray) or masked.dtype != np.uint64:
            raise ValueError(f"masked update from {name!r}: expected a uint64 array, got "
                             f"{getattr(masked, 'dtype', type(masked).__name__)}")
        if masked.shape != (self.size,):
            raise ValueError(f"masked update from {name!r} has shape {masked.shape}, "
                             f"expected ({self.size},)")
        self.masked[name] = masked

    def survivors(self):
        return sorted(self.masked)

    def dropped(self):
        return sorted(set(self.roster) - set(self.masked))

    def unmask(self, responses):
        """The sum of the survivors' vectors (uint64) from their ``unmasking_shares``."""
        if len(responses) < self.threshold:
            raise ValueError(f"only {len(responses)} participants answered, the threshold is "
                             f"{self.threshold}: the sum cannot be unmasked")
        total = np.zeros(self.size, dtype=np.uint64)
        for masked in self.masked.values():
            total += masked
        for u in self.dropped():
            secret = self._rebuild(responses, "s", u)
            if pow(GENERATOR, secret, GROUP_PRIME) != self.roster[u]["s_pk"]:
                raise ValueError(f"the shares of {u!r}'s mask key do not rebuild it")
            for v in self.survivors():
                mask = expand(dh_agree(secret, self.roster[v]["s_pk"], b"mask"), self.size)
                if self.roster[v]["x"] < self.roster[u]["x"]:
                    total -= mask                  # v added the mask it shares with u
                else:
                    total += mask
        for u in self.survivors():
            seed = self._rebuild(responses, "b", u)
            total -= expand(seed.to_bytes(SEED_BYTES, "big"), self.size)
        return total

    def _rebuild(self, responses, kind, u):
        shares = {self.roster[v]["x"]: answer[kind][u] for v, answer in responses.items()
                  if u in answer[kind]}
        if len(shares) < self.threshold:
            raise ValueError(f"{len(shares)} shares of {u!r}'s secret, {self.threshold} needed")
        return shamir_reconstruct(dict(list(shares.items())[:self.threshold]))


class MaskedAggregation:
    """Secure aggregation of weighted update vectors, every role played in this process.

    ``aggregate(vectors, dropped)`` runs one round of the protocol with fresh keys: the
    participants named in ``dropped`` take part in the setup and mask their update, but it never
    reaches the server, which removes their masks with the survivors' shares. The result equals
    the plain sum of the survivors' vectors to within ``2^-frac_bits`` per participant.
    ``last_masked`` keeps what the server received, for inspection.
    """

    name = "masked"

    def __init__(self, threshold=None, frac_bits=32):
        self.threshold = threshold
        self.fixed = FixedPoint(frac_bits)
        self.last_masked = {}

    def aggregate(self, vectors, dropped=()):
        names = list(vectors)
        dropped = set(dropped)
        unknown = dropped - set(names)
        if unknown:
            raise ValueError(f"cannot drop {sorted(unknown)}: not participants of this round")
        threshold = self.threshold or len(names) // 2 + 1
        size = len(next(iter(vectors.values())))
        clients = {name: SecAggClient(name, i + 1) for i, name in enumerate(names)}
        server = SecAggServer(size, threshold)
        roster = server.collect_keys({n: c.public_keys() for n, c in clients.items()})
        outgoing = {n: c.share_keys(roster, threshold) for n, c in clients.items()}
        for name, sealed in server.route_shares(outgoing).items():
            clients[name].receive_shares(sealed)
        for name in names:
            words = self.fixed.encode(vectors[name], len(names), who=f"participant {name!r}")
            masked = clients[name].masked_input(words)
            if name not in dropped:
                server.collect_masked(name, masked)
        self.last_masked = dict(server.masked)
        survivors, gone = server.survivors(), server.dropped()
        if len(survivors) < threshold:
            raise ValueError(f"{len(gone)} of {len(names)} participants dropped out; secure "
                             f"aggregation needs {threshold} survivors")
        responses = {v: clients[v].unmasking_shares(survivors, gone) for v in survivors}
        return self.fixed.decode(server.unmask(responses))
