"""Homomorphic aggregation with the Paillier cryptosystem (through the ``phe`` library).

Paillier encryption is additively homomorphic: multiplying two ciphertexts gives a ciphertext
of the sum of their plaintexts. So the participants encrypt their weighted update vectors
under one public key, the server multiplies the ciphertexts (phe's ``+``) without being able to
read them, and only the key holder, who never sees an individual update, decrypts the
aggregate. (The book's notebook decrypted one participant's model instead of the sum; here
the key holder decrypts only the sum and refuses a "sum" of fewer than two updates.)

Keys are 2048 bits unless ``insecure_demo_keys=True`` allows the book's small demo keys.
Needs ``pip install 'gdl[he]'`` (phe, and gmpy2 for fast big-integer arithmetic).

Note [Packing and fast Paillier encryption]: the book encrypts every weight on its own, one
2048-bit modular exponentiation per float: 20,000 weights x 3 participants take tens of
minutes. Two changes make a round take seconds:

- Packing. A plaintext is a ~2048-bit integer, a weight needs far fewer bits. Each value is
  scaled to a fixed-point integer with ``frac_bits`` fraction bits, an offset makes it
  non-negative (< 2^value_bits), and ``SlotPacker`` lays 42 of them side by side in one
  plaintext, 48-bit slots, value_bits = 48 - headroom. The headroom bits (4: up to 16
  participants) keep the sum of every participant's slot from carrying into the next slot, so
  adding ciphertexts adds every slot at once. Decoding subtracts ``addends * offset``.
  ~466 ciphertexts carry the 19,561 numbers of the spam model's update.
- Damgard-Jurik-Nielsen randomness. A Paillier ciphertext is ``(1 + n m) r^n mod n^2``; the
  cost is ``r^n``, a 2048-bit exponent modulo a 4096-bit number. The variant Damgard, Jurik
  and Nielsen propose for speed (IJIS 2010, section 4; the default of Intel's Paillier
  library) draws ``r^n`` as ``h_s^a`` for a fixed ``h_s = (-x^2)^n mod n^2`` and a random
  ``a`` of half the modulus length (1024 bits); with ``h_s`` fixed, a table of its powers turns
  each ``h_s^a`` into 128 multiplications. The ciphertexts are ordinary Paillier ciphertexts
  (phe decrypts and adds them). Packing changes nothing about security; the DJN randomness
  rests on one assumption more than textbook Paillier (that ``h_s^a`` with a short ``a``
  looks like a random n-th residue). ``obfuscation="phe"`` uses phe's textbook full-length
  ``r^n`` instead, at about ten times the encryption cost.

Threat model: the server learns nothing about any update (semantic security of Paillier
under the decisional composite residuosity assumption) provided it does not collude with the
key holder; the key holder learns only the aggregate, provided it is only ever sent aggregates
(nothing cryptographic stops a server that colludes or lies about the number of addends). As
with masking, encryption hides updates, it does not validate them: the server checks only that
every message has the right number of ciphertexts under the right key, and the decrypted
aggregate. Python's big-integer arithmetic is not constant-time.

>>> aggregation = PaillierAggregation(key_bits=2048)
>>> total = aggregation.aggregate({"Bob": x_bob, "Alice": x_alice, "Sue": x_sue})
>>> aggregation.last_timing["round_seconds"]
"""
import math
import secrets
import time

import numpy as np

SECURE_KEY_BITS = 2048
DEMO_MIN_KEY_BITS = 128


def _phe():
    try:
        import phe
    except ImportError:
        raise ImportError("Paillier aggregation needs the phe library: "
                          "pip install 'gdl[he]'") from None
    return phe


def _big(value):
    """gmpy2's fast integers when installed (phe uses them too), else Python's."""
    try:
        import gmpy2
    except ImportError:
        return int(value)
    return gmpy2.mpz(value)


def check_key_bits(key_bits, insecure_demo_keys=False):
    """Refuse keys under 2048 bits unless the insecure demo is asked for explicitly."""
    if isinstance(key_bits, bool) or not isinstance(key_bits, int):
        raise ValueError(f"key_bits must be an integer, got {key_bits!r}")
    if key_bits < SECURE_KEY_BITS and not insecure_demo_keys:
        raise ValueError(f"a {key_bits}-bit Paillier key is insecure (at least "
                         f"{SECURE_KEY_BITS} bits); pass insecure_demo_keys=True "
                         "(--insecure-demo-keys) for the book's small-key demo")
    if key_bits < DEMO_MIN_KEY_BITS or key_bits % 2:
        raise ValueError(f"key_bits must be even and at least {DEMO_MIN_KEY_BITS}, got "
                         f"{key_bits}")


class SlotPacker:
    """Pack many fixed-point values into the plaintexts of one Paillier key (see Note
    [Packing and fast Paillier encryption]).

    >>> packer = SlotPacker(modulus_bits=2048)
    >>> plaintexts = packer.pack(values)                     # 42 values per int
    >>> packer.unpack(plaintexts, addends=1, length=len(values))
    """

    def __init__(self, modulus_bits, frac_bits=24, slot_bytes=6, max_addends=16):
        self.frac_bits = frac_bits
        self.slot_bytes = slot_bytes
        self.slot_bits = 8 * slot_bytes
        self.headroom_bits = max(1, math.ceil(math.log2(max_addends)))
        self.max_addends = 2 ** self.headroom_bits
        self.value_bits = self.slot_bits - self.headroom_bits
        if not 0 < frac_bits < self.value_bits - 1:
            raise ValueError(f"frac_bits must be between 1 and {self.value_bits - 2} with "
                             f"{self.slot_bits}-bit slots, got {frac_bits}")
        self.offset = 2 ** (self.value_bits - 1)
        self.limit = 2.0 ** (self.value_bits - 1 - frac_bits)
        self.slots = (modulus_bits - 1) // self.slot_bits    # the packed int stays below n
        if self.slots < 1:
            raise ValueError(f"a {modulus_bits}-bit key cannot hold one {self.slot_bits}-bit "
                             "slot")

    def chunks(self, length):
        """How many plaintexts ``length`` values take."""
        return -(-length // self.slots)

    def pack(self, values, who="a participant"):
        """float values -> a list of non-negative ints, each below 2^(slots * slot_bits)."""
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if not np.isfinite(values).all():
            raise ValueError(f"{who}: the update holds NaN or infinite values")
        largest = float(np.abs(values).max(initial=0.0))
        if largest >= self.limit:
            raise ValueError(f"{who}: update value {largest:.4g} is outside the packing range "
                             f"+-{self.limit:.4g} ({self.frac_bits} fraction bits)")
        fixed = np.rint(values * 2.0 ** self.frac_bits).astype(np.int64) + self.offset
        padded = np.full(self.chunks(len(fixed)) * self.slots, self.offset, dtype="<u8")
        padded[:len(fixed)] = fixed
        raw = padded.view(np.uint8).reshape(-1, 8)[:, :self.slot_bytes]   # little-endian
        rows = raw.reshape(-1, self.slots * self.slot_bytes)
        return [int.from_bytes(row.tobytes(), "little") for row in rows]

    def unpack(self, plaintexts, addends, length):
        """The sums of ``addends`` packed vectors -> float64 values (the first ``length``)."""
        if not 1 <= addends <= self.max_addends:
            raise ValueError(f"{addends} addends do not fit {self.headroom_bits} headroom bits "
                             f"(at most {self.max_addends})")
        size = self.slots * self.slot_bytes
        raw = np.zeros((len(plaintexts) * self.slots, 8), dtype=np.uint8)
        for i, plaintext in enumerate(plaintexts):
            plaintext = int(plaintext)
            if not 0 <= plaintext < 2 ** (8 * size):
                raise ValueError("a decrypted aggregate overflows its slots: wrong key or "
                                 "more addends than the headroom allows")
            row = np.frombuffer(plaintext.to_bytes(size, "little"), dtype=np.uint8)
            raw[i * self.slots:(i + 1) * self.slots, :self.slot_bytes] = row.reshape(
                self.slots, self.slot_bytes)
        fixed = raw.view("<u8").reshape(-1)[:length].astype(np.int64) - addends * self.offset
        return fixed / 2.0 ** self.frac_bits


class Encryptor:
    """Encrypts plaintext integers under a phe public key, with DJN randomness (a table of
    powers of a fixed ``h_s``, built once per key: see Note [Packing and fast Paillier
    encryption]) or phe's own (``obfuscation="phe"``)."""

    WINDOW_BITS = 8

    def __init__(self, public_key, obfuscation="djn"):
        if obfuscation not in ("djn", "phe"):
            raise ValueError(f"obfuscation must be 'djn' or 'phe', got {obfuscation!r}")
        self.public_key = public_key
        self.obfuscation = obfuscation
        self.n = _big(public_key.n)
        self.nsquare = _big(public_key.nsquare)
        if obfuscation == "djn":
            self.exponent_bits = (public_key.n.bit_length() + 1) // 2
            x = secrets.randbelow(public_key.n - 2) + 2
            h = (-x * x) % public_key.n
            self._table = self._powers(pow(_big(h), self.n, self.nsquare))

    def _powers(self, base):
        """table[i][d] = base^(d * 2^(WINDOW_BITS * i)) mod n^2, for d < 2^WINDOW_BITS."""
        table = []
        for _ in range(-(-self.exponent_bits // self.WINDOW_BITS)):
            row = [_big(1), base]
            for _ in range(2 ** self.WINDOW_BITS - 2):
                row.append(row[-1] * base % self.nsquare)
            table.append(row)
            base = row[-1] * base % self.nsquare            # base^(2^WINDOW_BITS)
        return table

    def _obfuscator(self):
        if self.obfuscation == "phe":
            r = self.public_key.get_random_lt_n()
            return pow(_big(r), self.n, self.nsquare)
        a = secrets.randbits(self.exponent_bits)
        mask = 2 ** self.WINDOW_BITS - 1
        acc = _big(1)
        for row in self._table:
            digit = a & mask
            if digit:
                acc = acc * row[digit] % self.nsquare
            a >>= self.WINDOW_BITS
        return acc

    def encrypt(self, plaintexts):
        """A list of ints in [0, n) -> a list of phe ``EncryptedNumber`` (exponent 0)."""
        phe = _phe()
        out = []
        for m in plaintexts:
            nude = (self.n * m + 1) % self.nsquare          # g^m with g = n + 1
            ciphertext = int(nude * self._obfuscator() % self.nsquare)
            encrypted = phe.EncryptedNumber(self.public_key, ciphertext, 0)
            # already randomised: without this, phe's ciphertext() would add a second r^n
            encrypted._EncryptedNumber__is_obfuscated = True
            out.append(encrypted)
        return out


class KeyHolder:
    """Makes the key pair, publishes the public key, and decrypts aggregates only."""

    def __init__(self, key_bits=SECURE_KEY_BITS, insecure_demo_keys=False, min_addends=2):
        check_key_bits(key_bits, insecure_demo_keys)
        self.public_key, self._private_key = _phe().generate_paillier_keypair(n_length=key_bits)
        self.min_addends = min_addends

    def decrypt_aggregate(self, ciphertexts, addends):
        """The plaintext ints of an aggregate of ``addends`` encrypted updates."""
        if addends < self.min_addends:
            raise ValueError(f"the key holder decrypts only aggregates of at least "
                             f"{self.min_addends} updates, not {addends}: that would reveal "
                             "one participant's update")
        check_ciphertexts("the aggregate", ciphertexts, self.public_key, len(ciphertexts))
        return [self._private_key.raw_decrypt(c.ciphertext(be_secure=False))
                for c in ciphertexts]


def check_ciphertexts(who, message, public_key, count):
    """ValueError naming ``who`` unless ``message`` is ``count`` ciphertexts under
    ``public_key``."""
    phe = _phe()
    if not isinstance(message, (list, tuple)):
        raise ValueError(f"{who}: expected a list of ciphertexts, got {type(message).__name__}")
    if len(message) != count:
        raise ValueError(f"{who}: {len(message)} ciphertexts, expected {count}")
    for c in message:
        if not isinstance(c, phe.EncryptedNumber):
            raise ValueError(f"{who}: expected phe EncryptedNumbers, got {type(c).__name__}")
        if c.public_key != public_key:
            raise ValueError(f"{who}: encrypted under a different public key")
        if c.exponent != 0 or not 0 < c.ciphertext(be_secure=False) < public_key.nsquare:
            raise ValueError(f"{who}: not a packed ciphertext of this key (exponent "
                             f"{c.exponent})")


def add_encrypted(messages, public_key, count):
    """The server's step: {participant: list of ciphertexts} -> their slot-wise sum, computed
    on ciphertexts only. Every message is checked before anything is added."""
    if not messages:
        raise ValueError("no encrypted update to aggregate")
    for name, message in messages.items():
        check_ciphertexts(f"encrypted update from {name!r}", message, public_key, count)
    total = None
    for message in messages.values():
        total = list(message) if total is None else [a + b for a, b in zip(total, message)]
    return total


class PaillierAggregation:
    """Aggregation of weighted update vectors under Paillier encryption, every role played in
    this process: the participants encrypt, the server adds ciphertexts, the key holder
    decrypts the sum. ``last_timing`` holds the seconds each step of the last round took
    (``encrypt_seconds`` per participant; ``setup_seconds`` for the one-time tables)."""

    name = "paillier"

    def __init__(self, key_bits=SECURE_KEY_BITS, insecure_demo_keys=False, obfuscation="djn",
                 frac_bits=24, max_participants=16):
        start = time.perf_counter()
        self.key_holder = KeyHolder(key_bits, insecure_demo_keys)
        self.public_key = self.key_holder.public_key
        self.packer = SlotPacker(self.public_key.n.bit_length(), frac_bits=frac_bits,
                                 max_addends=max_participants)
        self.obfuscation = obfuscation
        self._encryptors = {}
        self.keygen_seconds = time.perf_counter() - start
        self.last_timing = {}
        self.last_encrypted = {}

    def encrypt(self, name, vector):
        """Participant ``name``'s side: pack and encrypt its weighted update vector."""
        if name not in self._encryptors:             # a participant builds its table once
            self._encryptors[name] = Encryptor(self.public_key, self.obfuscation)
        plaintexts = self.packer.pack(vector, who=f"participant {name!r}")
        return self._encryptors[name].encrypt(plaintexts)

    def aggregate(self, vectors, dropped=()):
        start = time.perf_counter()
        setup = 0.0
        for name in vectors:
            if name not in self._encryptors:
                began = time.perf_counter()
                self._encryptors[name] = Encryptor(self.public_key, self.obfuscation)
                setup += time.perf_counter() - began
        length = len(next(iter(vectors.values())))
        messages, encrypt_seconds = {}, {}
        for name, vector in vectors.items():
            began = time.perf_counter()
            messages[name] = self.encrypt(name, vector)
            encrypt_seconds[name] = time.perf_counter() - began
        kept = {n: m for n, m in messages.items() if n not in set(dropped)}
        self.last_encrypted = kept
        began = time.perf_counter()
        total = add_encrypted(kept, self.public_key, self.packer.chunks(length))
        add_seconds = time.perf_counter() - began
        began = time.perf_counter()
        plaintexts = self.key_holder.decrypt_aggregate(total, addends=len(kept))
        summed = self.packer.unpack(plaintexts, len(kept), length)
        decrypt_seconds = time.perf_counter() - began
        self.last_timing = {"setup_seconds": setup, "encrypt_seconds": encrypt_seconds,
                            "add_seconds": add_seconds, "decrypt_seconds": decrypt_seconds,
                            "ciphertexts": len(total),
                            "seconds": time.perf_counter() - start}
        return summed
