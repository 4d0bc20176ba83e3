"""Embedded data for wavediff: physics-based generators that run offline, and download recipes
(pooch with pinned hashes) for the public benchmarks of each field.

* :mod:`wavediff.datasets.signals` - Donoho-Johnstone test signals (closed form) and the Shepp-Logan
  phantom, used by the engine's demo, tests and tutorial.
* :mod:`wavediff.datasets.eeg` - a physiological EEG simulator (spherical head model), and recipes for
  EEGdenoiseNet and the PhysioNet EEG Motor Movement/Imagery database.
* :mod:`wavediff.datasets.mri` - procedural MRI phantoms (3-D Shepp-Logan, a BrainWeb-like brain with
  T1/T2/PD contrasts), and recipes for IXI and BrainWeb.

The submodules load on first use (``wavediff.datasets.eeg`` as an attribute or an import), so
``import wavediff.datasets`` stays light: the EEG generators need MNE, the engine's test signals do not.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

__all__ = ["eeg", "mri", "signals"]

if TYPE_CHECKING:
    from . import eeg, mri, signals


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        # importing a submodule binds it as an attribute here, so this runs once per name
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
