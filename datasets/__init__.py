"""Embedded data for wavediff: physics-based generators that run offline, and download recipes
(pooch with pinned hashes) for the public benchmarks of each field.

* :mod:`wavediff.datasets.signals` - Donoho-Johnstone test signals (closed form) and the Shepp-Logan
  phantom, used by the engine's demo, tests and tutorial.
* :mod:`wavediff.datasets.eeg` - a physiological EEG simulator (spherical head model), and recipes for
  EEGdenoiseNet and the PhysioNet EEG Motor Movement/Imagery database.
"""

from . import eeg, signals

__all__ = ["eeg", "signals"]
