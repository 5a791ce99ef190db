"""gdl: the networks of *Grokking Deep Learning* on a fast, compiled CPU engine."""
from gdl._build_info import version as __version__

__all__ = ["__version__"]
