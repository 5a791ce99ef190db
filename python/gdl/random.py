"""gdl's one source of randomness: parameter initialisation, dropout masks, shuffling.

``gdl.manual_seed(seed)`` makes every random draw gdl makes reproducible; ``get_rng_state``
and ``set_rng_state`` let a checkpoint resume the exact same stream.
"""
import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed):
    """Seed every random draw gdl makes (initialisation, dropout, shuffling).

    >>> gdl.manual_seed(0)
    """
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def rng():
    """The generator behind gdl's random draws (a ``numpy.random.Generator``)."""
    return _rng


def get_rng_state():
    """The generator's state as a plain dict (JSON scalars), for checkpoints."""
    return _rng.bit_generator.state


def set_rng_state(state):
    """Restore a state returned by ``get_rng_state``."""
    if not isinstance(state, dict) or "bit_generator" not in state:
        raise ValueError("state must be a dict returned by gdl.get_rng_state()")
    if state["bit_generator"] != type(_rng.bit_generator).__name__:
        raise ValueError(f"state is for a {state['bit_generator']} generator, "
                         f"gdl uses {type(_rng.bit_generator).__name__}")
    _rng.bit_generator.state = state


def next_seed():
    """A fresh 63-bit seed for a compiled kernel's own counter-based generator."""
    return int(_rng.integers(0, 2**63 - 1))
