"""Embedded data for wavediff: physics-based generators that run offline, and download recipes
(pooch with pinned hashes) for the public benchmarks of each field.

* :mod:`wavediff.datasets.signals` - Donoho-Johnstone test signals (closed form) and the Shepp-Logan
  phantom, used by the engine's demo, tests and tutorial.
"""

from . import signals

__all__ = ["signals"]
